//! The `Coordinator`: where relay jobs wait and progress is recorded. Jobs
//! sit in lanes, one per (source, destination, app), so an ordered channel
//! is submitted in order; a job is acknowledged only once the destination
//! confirmed it, and one that keeps failing is parked with its reason.
//!
//! The embedded backend keeps lanes in memory and checkpoints in a redb
//! file: a single relayer needs no other service. Safety never rests here:
//! the ledgers' receipts decide what was delivered, so a lost queue costs a
//! rescan (the clearer re-queues gaps), never a packet.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::sync::Mutex;

use light_clients::host::EventProof;
use light_clients::{Ack, ChainId, ChannelId, Packet};
use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};

/// What a job carries to its destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Work {
    /// A packet to deliver to the channel's destination.
    Packet { packet: Packet, proof: EventProof },
    /// An ack to bring back to the channel's source.
    Ack { ack: Ack, proof: EventProof },
}

/// A relay job, identified by `(source, destination, app, sequence, kind)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub work: Work,
    /// Attempts so far that failed.
    pub attempts: u32,
}

/// A job's deterministic id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JobId {
    pub channel: ChannelId,
    pub sequence: u64,
    pub kind: JobKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Packet,
    Ack,
}

impl Job {
    pub fn id(&self) -> JobId {
        match &self.work {
            Work::Packet { packet, .. } => JobId {
                channel: packet.id.channel.clone(),
                sequence: packet.id.sequence,
                kind: JobKind::Packet,
            },
            Work::Ack { ack, .. } => JobId {
                channel: ack.packet.channel.clone(),
                sequence: ack.packet.sequence,
                kind: JobKind::Ack,
            },
        }
    }

    /// The chain the job is submitted to.
    pub fn target(&self) -> &ChainId {
        match &self.work {
            Work::Packet { packet, .. } => &packet.id.channel.destination,
            Work::Ack { ack, .. } => &ack.packet.channel.source,
        }
    }

    /// The lane: the channel, and which way (packets go to the destination, acks back).
    pub fn lane(&self) -> Lane {
        let id = self.id();
        Lane {
            channel: id.channel,
            kind: id.kind,
        }
    }
}

/// A lane: one channel's packets, or its acks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Lane {
    pub channel: ChannelId,
    pub kind: JobKind,
}

/// A job set aside after failing too often, with the last reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parked {
    pub job: Job,
    pub reason: String,
}

/// A coordinator failure (the store).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoordinatorError {
    #[error("coordinator store: {0}")]
    Store(String),
}

fn store<E: std::fmt::Display>(e: E) -> CoordinatorError {
    CoordinatorError::Store(e.to_string())
}

/// Where jobs and checkpoints flow (the embedded backend here; a Redis one
/// for fleets plugs in behind the same calls).
pub trait Coordinator: Send + Sync + std::fmt::Debug {
    /// Queues a job unless one with its id is queued or in flight; returns whether it was queued.
    fn enqueue(&self, job: Job) -> bool;
    /// Whether a job with this id is queued or in flight.
    fn knows(&self, id: &JobId) -> bool;
    /// Takes up to `max` jobs for `target`, oldest first per lane, lanes in order.
    fn take(&self, target: &ChainId, max: usize) -> Vec<Job>;
    /// The destination confirmed these: they are done.
    fn complete(&self, ids: &[JobId]);
    /// These failed; they go back to the front of their lanes, or are parked after `max_attempts`.
    fn fail(&self, jobs: Vec<Job>, reason: &str, max_attempts: u32);
    fn parked(&self) -> Vec<Parked>;
    /// Puts every parked job back in its lane; returns how many.
    fn retry_parked(&self) -> usize;
    /// Jobs waiting (not in flight), per lane.
    fn backlog(&self) -> BTreeMap<Lane, usize>;
    /// The next height to scan on a chain.
    fn checkpoint(&self, chain: &ChainId) -> Result<Option<u64>, CoordinatorError>;
    fn set_checkpoint(&self, chain: &ChainId, next_height: u64) -> Result<(), CoordinatorError>;
}

const CHECKPOINTS: TableDefinition<&str, u64> = TableDefinition::new("checkpoints");

#[derive(Debug, Default)]
struct Queues {
    lanes: BTreeMap<Lane, VecDeque<Job>>,
    /// Ids queued or in flight: what `enqueue` deduplicates against.
    known: BTreeSet<JobId>,
    parked: Vec<Parked>,
}

/// In-process lanes and a redb file of checkpoints.
#[derive(Debug)]
pub struct Embedded {
    queues: Mutex<Queues>,
    db: Database,
}

impl Embedded {
    pub fn open(path: &Path) -> Result<Self, CoordinatorError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(store)?;
        }
        let db = Database::create(path).map_err(store)?;
        let txn = db.begin_write().map_err(store)?;
        txn.open_table(CHECKPOINTS).map_err(store)?;
        txn.commit().map_err(store)?;
        Ok(Embedded {
            queues: Mutex::new(Queues::default()),
            db,
        })
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, Queues> {
        // A panic while holding the lock leaves plain collections behind; keep going.
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Coordinator for Embedded {
    fn enqueue(&self, job: Job) -> bool {
        let mut q = self.queues();
        if !q.known.insert(job.id()) {
            return false;
        }
        q.lanes.entry(job.lane()).or_default().push_back(job);
        true
    }

    fn knows(&self, id: &JobId) -> bool {
        self.queues().known.contains(id)
    }

    fn take(&self, target: &ChainId, max: usize) -> Vec<Job> {
        let mut q = self.queues();
        let mut out = Vec::new();
        for (lane, jobs) in q.lanes.iter_mut() {
            let to_target = match lane.kind {
                JobKind::Packet => &lane.channel.destination == target,
                JobKind::Ack => &lane.channel.source == target,
            };
            if !to_target {
                continue;
            }
            while out.len() < max {
                match jobs.pop_front() {
                    Some(j) => out.push(j),
                    None => break,
                }
            }
        }
        out
    }

    fn complete(&self, ids: &[JobId]) {
        let mut q = self.queues();
        for id in ids {
            q.known.remove(id);
        }
    }

    fn fail(&self, jobs: Vec<Job>, reason: &str, max_attempts: u32) {
        let mut q = self.queues();
        // Back to the front in their original order, so lanes stay ordered.
        for mut job in jobs.into_iter().rev() {
            job.attempts += 1;
            if job.attempts >= max_attempts {
                q.known.remove(&job.id());
                q.parked.push(Parked {
                    job,
                    reason: reason.to_string(),
                });
            } else {
                q.lanes.entry(job.lane()).or_default().push_front(job);
            }
        }
    }

    fn parked(&self) -> Vec<Parked> {
        self.queues().parked.clone()
    }

    fn retry_parked(&self) -> usize {
        let mut q = self.queues();
        let parked = std::mem::take(&mut q.parked);
        let n = parked.len();
        for Parked { mut job, .. } in parked {
            job.attempts = 0;
            if q.known.insert(job.id()) {
                q.lanes.entry(job.lane()).or_default().push_back(job);
            }
        }
        n
    }

    fn backlog(&self) -> BTreeMap<Lane, usize> {
        self.queues()
            .lanes
            .iter()
            .map(|(l, j)| (l.clone(), j.len()))
            .collect()
    }

    fn checkpoint(&self, chain: &ChainId) -> Result<Option<u64>, CoordinatorError> {
        let txn = self.db.begin_read().map_err(store)?;
        let table = txn.open_table(CHECKPOINTS).map_err(store)?;
        let value = table.get(chain.as_str()).map_err(store)?.map(|v| v.value());
        Ok(value)
    }

    fn set_checkpoint(&self, chain: &ChainId, next_height: u64) -> Result<(), CoordinatorError> {
        let txn = self.db.begin_write().map_err(store)?;
        {
            let mut table = txn.open_table(CHECKPOINTS).map_err(store)?;
            table.insert(chain.as_str(), next_height).map_err(store)?;
        }
        txn.commit().map_err(store)
    }
}
