//! The `Coordinator`: where relay jobs wait and progress is recorded. Jobs
//! sit in lanes, one per (source, destination, app), so an ordered channel
//! is submitted in order; a job is acknowledged only once the destination
//! confirmed it, and one that keeps failing is parked with its reason.
//!
//! The embedded backend keeps lanes in memory and checkpoints in a redb
//! file: a single relayer needs no other service. Safety never rests here:
//! the ledgers' receipts decide what was delivered, so a lost queue costs a
//! rescan (the clearer re-queues gaps), never a packet.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use adapters::chain::AdapterConfig;
use light_clients::host::EventProof;
use light_clients::{Ack, ChainId, ChannelId, Packet};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What a job carries to its destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Work {
    /// A packet to deliver to the channel's destination.
    Packet { packet: Packet, proof: EventProof },
    /// An ack to bring back to the channel's source.
    Ack { ack: Ack, proof: EventProof },
}

impl Work {
    /// The job a proven block event makes: a packet to deliver, or an ack to bring back.
    pub fn from_event(event: light_clients::host::BlockEvent, proof: EventProof) -> Self {
        match event {
            light_clients::host::BlockEvent::Packet { packet } => Work::Packet { packet, proof },
            light_clients::host::BlockEvent::Ack { ack } => Work::Ack { ack, proof },
        }
    }
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
    /// The height of the source header the job's proof is checked against.
    pub fn proof_height(&self) -> u64 {
        match &self.work {
            Work::Packet { proof, .. } | Work::Ack { proof, .. } => proof.height,
        }
    }

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

    /// The chain whose header proves the job.
    pub fn proof_source(&self) -> &ChainId {
        match &self.work {
            Work::Packet { packet, .. } => &packet.id.channel.source,
            Work::Ack { ack, .. } => &ack.packet.channel.destination,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Parked {
    /// The job: `{work: {kind, packet or ack, proof}, attempts}`.
    #[schema(value_type = Object)]
    pub job: Job,
    pub reason: String,
}

/// Where a job stands in the coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    /// Waiting in its lane.
    Queued,
    /// Taken by a submitter, not yet settled.
    InFlight,
    /// Set aside after failing too often.
    Parked { reason: String },
}

/// An adapter registered at run time (over the API), kept in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdapterRecord {
    pub adapter: AdapterConfig,
    /// This relayer's transaction key on the chain (64 hex digits in the file).
    pub key_file: PathBuf,
}

/// A coordinator failure (the store, or the fleet's Redis).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoordinatorError {
    /// The store (redb file or Redis) failed or is out of reach.
    #[error("coordinator store: {0}")]
    Store(String),
    /// A write under a lease this relayer no longer holds: another member
    /// took the lease over (its fencing token is newer), so the write was
    /// refused by the fencing check.
    #[error("refused by the fencing check: the {lease} lease (token {fence}) is no longer ours")]
    Fenced { lease: String, fence: u64 },
}

fn store<E: std::fmt::Display>(e: E) -> CoordinatorError {
    CoordinatorError::Store(e.to_string())
}

/// What a lease covers: one lane, one source chain's scanner, or the clearer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LeaseName {
    Lane { lane: Lane },
    Scanner { chain: ChainId },
    Clearer,
}

impl LeaseName {
    /// The metric label: `lane`, `scanner` or `clearer`.
    pub fn kind(&self) -> &'static str {
        match self {
            LeaseName::Lane { .. } => "lane",
            LeaseName::Scanner { .. } => "scanner",
            LeaseName::Clearer => "clearer",
        }
    }
}

impl std::fmt::Display for LeaseName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeaseName::Lane { lane } => {
                let c = &lane.channel;
                let kind = match lane.kind {
                    JobKind::Packet => "packet",
                    JobKind::Ack => "ack",
                };
                write!(f, "lane:{}:{}:{}:{kind}", c.source, c.destination, c.app)
            }
            LeaseName::Scanner { chain } => write!(f, "scanner:{chain}"),
            LeaseName::Clearer => write!(f, "clearer"),
        }
    }
}

/// A lease this relayer holds. Work done under it stops as soon as `stop`
/// is cancelled (the lease could not be renewed in time, or was released);
/// writes under it carry `fence`, the token the store checks them against.
#[derive(Debug, Clone)]
pub struct Lease {
    pub name: LeaseName,
    /// The fencing token: grows each time the lease changes hands.
    pub fence: u64,
    pub stop: CancellationToken,
}

/// The fleet as one member sees it (`/v1/status`, `portrelay fleet status`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetStatus {
    /// This relayer's instance name.
    pub instance: String,
    /// Whether Redis answers; when not, why.
    pub redis: String,
    /// Members whose heartbeat has not expired, with the leases each holds.
    pub members: Vec<FleetMember>,
    /// Jobs on each lane's stream (waiting or in flight), by lease name of the lane.
    pub queues: BTreeMap<String, u64>,
    /// Jobs on the parked stream.
    pub parked: u64,
}

/// A member's heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetMember {
    pub instance: String,
    /// Its API address, when it serves one.
    pub api: Option<String>,
    /// The leases it holds, as `lane:SRC:DST:APP:KIND`, `scanner:CHAIN`, `clearer`.
    pub leases: Vec<String>,
}

/// Where jobs and checkpoints flow: the embedded backend (one relayer) or
/// Redis (a fleet, `fleet.rs`), behind the same calls.
#[async_trait::async_trait]
pub trait Coordinator: Send + Sync + std::fmt::Debug {
    /// Starts the backend's own tasks (leases, heartbeats, stream reads)
    /// until `stop`; the embedded backend has none.
    fn start(&self, _tasks: &TaskTracker, _stop: CancellationToken) {}
    /// The lease on `name` when this relayer holds it, none otherwise. Asking
    /// declares interest: a fleet member then tries to acquire it.
    fn lease(&self, name: &LeaseName) -> Option<Lease>;
    /// Why the backend cannot coordinate now (Redis away), if so.
    fn unavailable(&self) -> Option<String> {
        None
    }
    /// Queues a job unless one with its id is queued or in flight; returns whether it was queued.
    async fn enqueue(&self, job: Job) -> Result<bool, CoordinatorError>;
    /// Queues jobs in order, as [`Coordinator::enqueue`] each; returns for
    /// each whether it was queued.
    async fn enqueue_all(&self, jobs: Vec<Job>) -> Result<Vec<bool>, CoordinatorError> {
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            out.push(self.enqueue(job).await?);
        }
        Ok(out)
    }
    /// Whether a job with this id is queued or in flight.
    async fn knows(&self, id: &JobId) -> Result<bool, CoordinatorError>;
    /// Takes up to `max` jobs for `target`, oldest first per lane, lanes in
    /// order, and at most `path_max(source, destination)` of one path. Taken
    /// jobs are in flight until completed or failed.
    async fn take(
        &self,
        target: &ChainId,
        max: usize,
        path_max: &(dyn for<'c> Fn(&'c ChainId, &'c ChainId) -> usize + Sync),
    ) -> Result<Vec<Job>, CoordinatorError>;
    /// Where a job stands, with the job; none when it is neither queued, in flight nor parked.
    async fn lookup(&self, id: &JobId) -> Result<Option<(JobState, Job)>, CoordinatorError>;
    /// Jobs this relayer took and has not yet settled.
    fn in_flight(&self) -> usize;
    /// The destination confirmed these: they are done.
    async fn complete(&self, ids: &[JobId]) -> Result<(), CoordinatorError>;
    /// These failed; they go back to the front of their lanes, or are parked after `max_attempts`.
    async fn fail(
        &self,
        jobs: Vec<Job>,
        reason: &str,
        max_attempts: u32,
    ) -> Result<(), CoordinatorError>;
    async fn parked(&self) -> Result<Vec<Parked>, CoordinatorError>;
    /// Puts every parked job back in its lane; returns how many.
    async fn retry_parked(&self) -> Result<usize, CoordinatorError>;
    /// Jobs waiting (not in flight), per lane.
    async fn backlog(&self) -> Result<BTreeMap<Lane, usize>, CoordinatorError>;
    /// The next height to scan on a chain.
    async fn checkpoint(&self, chain: &ChainId) -> Result<Option<u64>, CoordinatorError>;
    /// Records the next height to scan, if `lease` (the chain's scanner
    /// lease) is still this relayer's: else [`CoordinatorError::Fenced`].
    async fn set_checkpoint(
        &self,
        chain: &ChainId,
        next_height: u64,
        lease: &Lease,
    ) -> Result<(), CoordinatorError>;
    /// Adapters registered at run time.
    async fn adapters(&self) -> Result<Vec<AdapterRecord>, CoordinatorError>;
    /// Registers (or replaces) the adapter of its chain.
    async fn put_adapter(&self, record: &AdapterRecord) -> Result<(), CoordinatorError>;
    /// Forgets a registered adapter; returns whether there was one.
    async fn remove_adapter(&self, chain: &ChainId) -> Result<bool, CoordinatorError>;
    /// A number that changes whenever another member changes the registered
    /// adapters (none: only this process changes them).
    async fn adapters_version(&self) -> Result<Option<u64>, CoordinatorError> {
        Ok(None)
    }
    /// The fleet as this member sees it; none for the embedded backend.
    async fn fleet(&self) -> Option<FleetStatus> {
        None
    }
}

const CHECKPOINTS: TableDefinition<&str, u64> = TableDefinition::new("checkpoints");
/// Registered adapters: chain id to the JSON of an [`AdapterRecord`].
const ADAPTERS: TableDefinition<&str, &[u8]> = TableDefinition::new("adapters");

#[derive(Debug, Default)]
struct Queues {
    lanes: BTreeMap<Lane, VecDeque<Job>>,
    /// Ids queued (false) or in flight (true): what `enqueue` deduplicates against.
    known: BTreeMap<JobId, bool>,
    /// Jobs in flight, for lookups.
    flying: BTreeMap<JobId, Job>,
    parked: Vec<Parked>,
}

/// In-process lanes and a redb file of checkpoints.
#[derive(Debug)]
pub struct Embedded {
    queues: Mutex<Queues>,
    db: Database,
    /// The stop token of every lease: never cancelled, the one relayer holds them all.
    never: CancellationToken,
}

impl Embedded {
    pub fn open(path: &Path) -> Result<Self, CoordinatorError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(store)?;
        }
        let db = Database::create(path).map_err(store)?;
        let txn = db.begin_write().map_err(store)?;
        txn.open_table(CHECKPOINTS).map_err(store)?;
        txn.open_table(ADAPTERS).map_err(store)?;
        txn.commit().map_err(store)?;
        Ok(Embedded {
            queues: Mutex::new(Queues::default()),
            db,
            never: CancellationToken::new(),
        })
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, Queues> {
        // A panic while holding the lock leaves plain collections behind; keep going.
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait::async_trait]
impl Coordinator for Embedded {
    fn lease(&self, name: &LeaseName) -> Option<Lease> {
        // One relayer holds every lease there is, for good.
        Some(Lease {
            name: name.clone(),
            fence: 0,
            stop: self.never.clone(),
        })
    }

    async fn enqueue(&self, job: Job) -> Result<bool, CoordinatorError> {
        let mut q = self.queues();
        let id = job.id();
        if q.known.contains_key(&id) {
            return Ok(false);
        }
        q.known.insert(id, false);
        q.lanes.entry(job.lane()).or_default().push_back(job);
        Ok(true)
    }

    async fn knows(&self, id: &JobId) -> Result<bool, CoordinatorError> {
        Ok(self.queues().known.contains_key(id))
    }

    async fn take(
        &self,
        target: &ChainId,
        max: usize,
        path_max: &(dyn for<'c> Fn(&'c ChainId, &'c ChainId) -> usize + Sync),
    ) -> Result<Vec<Job>, CoordinatorError> {
        let mut q = self.queues();
        let Queues {
            lanes,
            known,
            flying,
            ..
        } = &mut *q;
        let mut out = Vec::new();
        let mut per_path: BTreeMap<(&ChainId, &ChainId), usize> = BTreeMap::new();
        for (lane, jobs) in lanes.iter_mut() {
            let to_target = match lane.kind {
                JobKind::Packet => &lane.channel.destination == target,
                JobKind::Ack => &lane.channel.source == target,
            };
            if !to_target {
                continue;
            }
            let (src, dst) = (&lane.channel.source, &lane.channel.destination);
            let taken = per_path.entry((src, dst)).or_default();
            let limit = path_max(src, dst);
            while out.len() < max && *taken < limit {
                match jobs.pop_front() {
                    Some(j) => {
                        known.insert(j.id(), true);
                        flying.insert(j.id(), j.clone());
                        *taken += 1;
                        out.push(j);
                    }
                    None => break,
                }
            }
        }
        Ok(out)
    }

    async fn lookup(&self, id: &JobId) -> Result<Option<(JobState, Job)>, CoordinatorError> {
        let q = self.queues();
        if let Some(p) = q.parked.iter().find(|p| &p.job.id() == id) {
            let state = JobState::Parked {
                reason: p.reason.clone(),
            };
            return Ok(Some((state, p.job.clone())));
        }
        let lane = Lane {
            channel: id.channel.clone(),
            kind: id.kind,
        };
        Ok(match q.known.get(id) {
            Some(false) => q.lanes.get(&lane).and_then(|jobs| {
                jobs.iter()
                    .find(|j| &j.id() == id)
                    .map(|j| (JobState::Queued, j.clone()))
            }),
            Some(true) => q.flying.get(id).map(|j| (JobState::InFlight, j.clone())),
            None => None,
        })
    }

    fn in_flight(&self) -> usize {
        self.queues().flying.len()
    }

    async fn complete(&self, ids: &[JobId]) -> Result<(), CoordinatorError> {
        let mut q = self.queues();
        for id in ids {
            q.known.remove(id);
            q.flying.remove(id);
        }
        Ok(())
    }

    async fn fail(
        &self,
        jobs: Vec<Job>,
        reason: &str,
        max_attempts: u32,
    ) -> Result<(), CoordinatorError> {
        let mut q = self.queues();
        // Back to the front in their original order, so lanes stay ordered.
        for mut job in jobs.into_iter().rev() {
            q.flying.remove(&job.id());
            job.attempts += 1;
            if job.attempts >= max_attempts {
                q.known.remove(&job.id());
                q.parked.push(Parked {
                    job,
                    reason: reason.to_string(),
                });
            } else {
                q.known.insert(job.id(), false);
                q.lanes.entry(job.lane()).or_default().push_front(job);
            }
        }
        Ok(())
    }

    async fn parked(&self) -> Result<Vec<Parked>, CoordinatorError> {
        Ok(self.queues().parked.clone())
    }

    async fn retry_parked(&self) -> Result<usize, CoordinatorError> {
        let mut q = self.queues();
        let parked = std::mem::take(&mut q.parked);
        let n = parked.len();
        for Parked { mut job, .. } in parked {
            job.attempts = 0;
            if let std::collections::btree_map::Entry::Vacant(slot) = q.known.entry(job.id()) {
                slot.insert(false);
                q.lanes.entry(job.lane()).or_default().push_back(job);
            }
        }
        Ok(n)
    }

    async fn backlog(&self) -> Result<BTreeMap<Lane, usize>, CoordinatorError> {
        Ok(self
            .queues()
            .lanes
            .iter()
            .map(|(l, j)| (l.clone(), j.len()))
            .collect())
    }

    async fn checkpoint(&self, chain: &ChainId) -> Result<Option<u64>, CoordinatorError> {
        let txn = self.db.begin_read().map_err(store)?;
        let table = txn.open_table(CHECKPOINTS).map_err(store)?;
        let value = table.get(chain.as_str()).map_err(store)?.map(|v| v.value());
        Ok(value)
    }

    async fn set_checkpoint(
        &self,
        chain: &ChainId,
        next_height: u64,
        _lease: &Lease,
    ) -> Result<(), CoordinatorError> {
        let txn = self.db.begin_write().map_err(store)?;
        {
            let mut table = txn.open_table(CHECKPOINTS).map_err(store)?;
            table.insert(chain.as_str(), next_height).map_err(store)?;
        }
        txn.commit().map_err(store)
    }

    async fn adapters(&self) -> Result<Vec<AdapterRecord>, CoordinatorError> {
        let txn = self.db.begin_read().map_err(store)?;
        let table = txn.open_table(ADAPTERS).map_err(store)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(store)? {
            let (chain, value) = entry.map_err(store)?;
            let record: AdapterRecord = serde_json::from_slice(value.value()).map_err(|e| {
                CoordinatorError::Store(format!("registered adapter {}: {e}", chain.value()))
            })?;
            out.push(record);
        }
        Ok(out)
    }

    async fn put_adapter(&self, record: &AdapterRecord) -> Result<(), CoordinatorError> {
        let bytes = serde_json::to_vec(record).map_err(store)?;
        let txn = self.db.begin_write().map_err(store)?;
        {
            let mut table = txn.open_table(ADAPTERS).map_err(store)?;
            let chain = record.adapter.chain().chain_id.as_str();
            table.insert(chain, bytes.as_slice()).map_err(store)?;
        }
        txn.commit().map_err(store)
    }

    async fn remove_adapter(&self, chain: &ChainId) -> Result<bool, CoordinatorError> {
        let txn = self.db.begin_write().map_err(store)?;
        let removed = {
            let mut table = txn.open_table(ADAPTERS).map_err(store)?;
            let removed = table.remove(chain.as_str()).map_err(store)?.is_some();
            removed
        };
        txn.commit().map_err(store)?;
        Ok(removed)
    }
}
