//! The embedded backend of every concern, for a relayer on its own: lanes
//! in memory, checkpoints and registered adapters in a redb file, every
//! lease held for good. It needs no other service.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;

use light_clients::ChainId;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tokio_util::sync::CancellationToken;

use super::{
    store, AdapterRecord, CoordinatorError, FleetView, Job, JobId, JobKind, JobQueue, JobState,
    Lane, Lease, LeaseName, Leases, Parked, PathMax, RelayerStore,
};

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

impl Leases for Embedded {
    fn lease(&self, name: &LeaseName) -> Option<Lease> {
        // One relayer holds every lease there is, for good.
        Some(Lease {
            name: name.clone(),
            fence: 0,
            stop: self.never.clone(),
        })
    }
}

/// The embedded backend is always there and has no fleet.
impl FleetView for Embedded {}

#[async_trait::async_trait]
impl JobQueue for Embedded {
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
        path_max: &PathMax<'_>,
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
}

#[async_trait::async_trait]
impl RelayerStore for Embedded {
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
