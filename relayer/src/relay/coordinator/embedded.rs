//! The embedded backend of every concern, for a relayer on its own: lanes
//! and the jobs' records of failed tries in memory, checkpoints and
//! registered adapters in a redb file, every lease held for good. It needs
//! no other service.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use light_clients::ChainId;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tokio_util::sync::CancellationToken;

use super::lanes::plan_take;
use super::{
    store, AdapterRecord, CoordinatorError, FleetView, HandBack, Job, JobId, JobQueue, JobRecord,
    JobState, Lane, Lease, LeaseName, Leases, Parked, PathMax, RelayerStore, Requeue, Stall,
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
    /// Lanes that stalled, since when (forgotten once they progress or
    /// when their record's time is over).
    stalls: BTreeMap<Lane, (Instant, Instant)>,
    /// The failed tries of jobs queued, in flight or parked: bounded by
    /// them, since a record goes when its job is delivered or retried.
    records: BTreeMap<JobId, JobRecord>,
}

/// The name the embedded backend gives its one member in a [`Stall`].
const THIS_RELAYER: &str = "this relayer";

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

    /// Settles failed jobs: back to the front of their lanes, or parked.
    fn hand_back(&self, jobs: Vec<Job>, reason: &str, how: HandBack) {
        let now = crate::relay::engine::now();
        let mut q = self.queues();
        // Back in their lanes in sequence order: with two batches of a lane
        // in flight, the later one may be handed back first.
        for mut job in jobs {
            q.flying.remove(&job.id());
            let (attempts, park) = how.apply(job.attempts);
            job.attempts = attempts;
            let record =
                JobRecord::after(q.records.get(&job.id()), None, attempts, reason, park, now);
            q.records.insert(job.id(), record);
            if park {
                // Still known (not in flight): neither the scanner nor the
                // clearer queues it again behind the park; a retry does.
                q.known.insert(job.id(), false);
                q.parked.push(Parked {
                    job,
                    reason: reason.to_string(),
                });
            } else {
                q.known.insert(job.id(), false);
                let lane = q.lanes.entry(job.lane()).or_default();
                let sequence = job.id().sequence;
                let at = lane
                    .iter()
                    .position(|j| j.id().sequence > sequence)
                    .unwrap_or(lane.len());
                lane.insert(at, job);
            }
        }
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
#[async_trait::async_trait]
impl FleetView for Embedded {
    async fn record(&self, id: &JobId) -> Result<Option<JobRecord>, CoordinatorError> {
        Ok(self.queues().records.get(id).cloned())
    }
}

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
        let plan = plan_take(
            lanes.iter().map(|(l, j)| (l, j.len())),
            target,
            max,
            path_max,
        );
        let mut out = Vec::new();
        for (lane, n) in plan {
            let Some(jobs) = lanes.get_mut(&lane) else {
                continue;
            };
            for j in jobs.drain(..n.min(jobs.len())) {
                known.insert(j.id(), true);
                flying.insert(j.id(), j.clone());
                out.push(j);
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
            q.records.remove(id);
        }
        Ok(())
    }

    async fn requeue(
        &self,
        jobs: Vec<Job>,
        reason: &str,
        how: Requeue,
    ) -> Result<(), CoordinatorError> {
        self.hand_back(jobs, reason, HandBack::Requeue(how));
        Ok(())
    }

    async fn park(&self, jobs: Vec<Job>, reason: &str) -> Result<(), CoordinatorError> {
        self.hand_back(jobs, reason, HandBack::Park);
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
            // Retried afresh: its failures so far are forgotten with its attempts.
            q.records.remove(&job.id());
            q.known.insert(job.id(), false);
            q.lanes.entry(job.lane()).or_default().push_back(job);
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

    /// This relayer is the only member: it alone tries, and it is alone alive.
    async fn stalled(&self, lane: &Lane, keep: Duration) -> Result<Stall, CoordinatorError> {
        let now = Instant::now();
        let mut q = self.queues();
        let (first, last) = q.stalls.entry(lane.clone()).or_insert((now, now));
        if now.duration_since(*last) > keep {
            *first = now;
        }
        *last = now;
        let me: std::collections::BTreeSet<String> = [THIS_RELAYER.to_string()].into();
        Ok(Stall {
            since: now.duration_since(*first),
            tried: me.clone(),
            live: me,
        })
    }

    /// No other member to hand a lane to.
    async fn step_back(&self, _lane: &Lane) -> Result<bool, CoordinatorError> {
        Ok(false)
    }

    async fn progressed(&self, lanes: &[Lane]) -> Result<(), CoordinatorError> {
        let mut q = self.queues();
        for lane in lanes {
            q.stalls.remove(lane);
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use light_clients::host::EventProof;
    use light_clients::merkle::MerkleProof;
    use light_clients::{App, ChannelId, Packet, PacketId, Timeout, Timestamp};

    use super::super::Work;
    use super::*;

    fn job(sequence: u64) -> Job {
        let id = |s: &str| ChainId::new(s).expect("chain id");
        let channel = ChannelId {
            source: id("cmport-1"),
            destination: id("cosco-1"),
            app: App::Cargo,
        };
        Job {
            work: Work::Packet {
                packet: Packet {
                    id: PacketId { channel, sequence },
                    timeout: Timeout {
                        time: Timestamp::from_unix_nanos(1),
                        height: None,
                    },
                    payload: vec![1, 2, 3],
                },
                proof: EventProof {
                    height: 7,
                    opening: None,
                    proof: MerkleProof {
                        leaf_index: 0,
                        siblings: Vec::new(),
                    },
                },
            },
            attempts: 0,
        }
    }

    async fn take_one(q: &Embedded) -> Vec<Job> {
        let cosco = ChainId::new("cosco-1").expect("chain id");
        q.take(&cosco, 10, &|_, _| usize::MAX).await.expect("take")
    }

    #[tokio::test]
    async fn batches_handed_back_out_of_order_leave_their_lane_in_sequence_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Embedded::open(&dir.path().join("relayer.redb")).expect("store");
        let cosco = ChainId::new("cosco-1").expect("chain id");
        for s in 1..=5 {
            assert!(q.enqueue(job(s)).await.expect("enqueue"));
        }
        let first = q.take(&cosco, 2, &|_, _| usize::MAX).await.expect("take");
        let second = q.take(&cosco, 2, &|_, _| usize::MAX).await.expect("take");
        // The earlier batch comes back first, then the later one (a ledger
        // restarted under both): the later must not go in front.
        q.requeue(first, "restarted", Requeue::NotAnAttempt)
            .await
            .expect("requeue");
        q.requeue(second, "restarted", Requeue::NotAnAttempt)
            .await
            .expect("requeue");
        let again = q.take(&cosco, 10, &|_, _| usize::MAX).await.expect("take");
        let order: Vec<u64> = again.iter().map(|j| j.id().sequence).collect();
        assert_eq!(order, vec![1, 2, 3, 4, 5]);
    }

    #[tokio::test]
    async fn a_stall_is_counted_from_its_first_time_until_the_lane_progresses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Embedded::open(&dir.path().join("relayer.redb")).expect("store");
        let lane = job(1).lane();
        let keep = Duration::from_secs(60);
        let first = q.stalled(&lane, keep).await.expect("stall");
        assert_eq!(
            first.tried, first.live,
            "alone: it tried, and it is all the fleet"
        );
        std::thread::sleep(Duration::from_millis(20));
        let again = q.stalled(&lane, keep).await.expect("stall");
        assert!(again.since >= Duration::from_millis(20), "{again:?}");
        assert!(
            !q.step_back(&lane).await.expect("step back"),
            "no one to hand it to"
        );
        q.progressed(std::slice::from_ref(&lane))
            .await
            .expect("progressed");
        let fresh = q.stalled(&lane, keep).await.expect("stall");
        assert!(fresh.since < again.since, "counted afresh after progress");
        // A record not renewed within `keep` starts again too.
        std::thread::sleep(Duration::from_millis(20));
        let later = q
            .stalled(&lane, Duration::from_millis(10))
            .await
            .expect("stall");
        assert_eq!(later.since, Duration::ZERO);
    }

    #[tokio::test]
    async fn transient_requeues_never_park_a_job_and_refusals_park_it_at_the_maximum() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Embedded::open(&dir.path().join("relayer.redb")).expect("store");
        assert!(q.enqueue(job(1)).await.expect("enqueue"));
        // A hundred failures that were not the job's fault (a ledger away, a
        // lost batch, a refused predecessor): taken again every time.
        for _ in 0..100 {
            let taken = take_one(&q).await;
            assert_eq!(taken, vec![job(1)], "taken again, attempts untouched");
            q.requeue(taken, "unavailable", Requeue::NotAnAttempt)
                .await
                .expect("requeue");
        }
        assert!(q.parked().await.expect("parked").is_empty());
        // Its first refusal is one attempt of three, not the 101st.
        let taken = take_one(&q).await;
        let park_after = 3;
        q.requeue(taken, "refused", Requeue::Attempt { park_after })
            .await
            .expect("requeue");
        let taken = take_one(&q).await;
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].attempts, 1);
        // Then delivered: done, never parked.
        q.complete(&[job(1).id()]).await.expect("complete");
        assert!(q.parked().await.expect("parked").is_empty());
        assert!(!q.knows(&job(1).id()).await.expect("knows"));
        assert_eq!(q.in_flight(), 0);

        // Refused every time: parked at the third attempt, with the reason.
        assert!(q.enqueue(job(2)).await.expect("enqueue"));
        for attempt in 1..=park_after {
            let taken = take_one(&q).await;
            assert_eq!(taken.len(), 1, "still queued before attempt {attempt}");
            q.requeue(taken, "refused: bad proof", Requeue::Attempt { park_after })
                .await
                .expect("requeue");
        }
        assert!(take_one(&q).await.is_empty(), "parked, not queued");
        let parked = q.parked().await.expect("parked");
        assert_eq!(parked.len(), 1);
        assert_eq!(parked[0].reason, "refused: bad proof");
        assert_eq!(parked[0].job.attempts, park_after);
        assert!(matches!(
            q.lookup(&job(2).id()).await.expect("lookup"),
            Some((JobState::Parked { .. }, _))
        ));
        // Still known: the clearer seeing it undelivered does not queue it
        // again behind the park.
        assert!(q.knows(&job(2).id()).await.expect("knows"));
        assert!(
            !q.enqueue(job(2)).await.expect("enqueue"),
            "queued behind the park"
        );
        assert!(take_one(&q).await.is_empty(), "still parked only");
        assert_eq!(q.retry_parked().await.expect("retry"), 1);
        let retried = take_one(&q).await;
        assert_eq!(retried.len(), 1, "queued once");
        assert_eq!(retried[0].attempts, 0, "retried afresh");
    }

    #[tokio::test]
    async fn parking_sets_a_job_aside_at_once_and_requeues_keep_lane_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Embedded::open(&dir.path().join("relayer.redb")).expect("store");
        for s in 1..=3 {
            assert!(q.enqueue(job(s)).await.expect("enqueue"));
        }
        let taken = take_one(&q).await;
        assert_eq!(taken.len(), 3);
        let (first, rest) = taken.split_at(1);
        q.park(first.to_vec(), "frozen").await.expect("park");
        q.requeue(rest.to_vec(), "later", Requeue::NotAnAttempt)
            .await
            .expect("requeue");
        let seqs: Vec<u64> = take_one(&q).await.iter().map(|j| j.id().sequence).collect();
        assert_eq!(seqs, vec![2, 3], "back in order at the front of the lane");
        let parked = q.parked().await.expect("parked");
        assert_eq!(parked.len(), 1);
        assert_eq!(
            (parked[0].job.attempts, parked[0].reason.as_str()),
            (1, "frozen")
        );
    }

    #[tokio::test]
    async fn a_jobs_record_counts_its_failed_tries_until_it_is_delivered_or_retried() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Embedded::open(&dir.path().join("relayer.redb")).expect("store");
        assert!(q.enqueue(job(1)).await.expect("enqueue"));
        assert_eq!(
            q.record(&job(1).id()).await.expect("record"),
            None,
            "never tried"
        );
        // Two tries that were not the job's fault, then a refusal.
        for _ in 0..2 {
            let taken = take_one(&q).await;
            q.requeue(
                taken,
                "the follower of cmport-1 has not verified height 7 yet",
                Requeue::NotAnAttempt,
            )
            .await
            .expect("requeue");
        }
        let first = q
            .record(&job(1).id())
            .await
            .expect("record")
            .expect("recorded");
        let taken = take_one(&q).await;
        q.requeue(
            taken,
            "refused: bad proof",
            Requeue::Attempt { park_after: 2 },
        )
        .await
        .expect("requeue");
        let r = q
            .record(&job(1).id())
            .await
            .expect("record")
            .expect("recorded");
        assert_eq!((r.tries, r.attempts, r.parked), (3, 1, false));
        assert_eq!(r.last_error, "refused: bad proof");
        assert_eq!(r.member, None, "a relayer on its own");
        assert_eq!(r.failing_since, first.failing_since);
        assert!(r.last_tried >= first.last_tried);
        // Refused again: parked, and the record says so.
        let taken = take_one(&q).await;
        q.requeue(
            taken,
            "refused: bad proof",
            Requeue::Attempt { park_after: 2 },
        )
        .await
        .expect("requeue");
        let r = q
            .record(&job(1).id())
            .await
            .expect("record")
            .expect("recorded");
        assert_eq!((r.tries, r.attempts, r.parked), (4, 2, true));
        // Retried from parked: a fresh start; delivered: forgotten.
        assert_eq!(q.retry_parked().await.expect("retry"), 1);
        assert_eq!(q.record(&job(1).id()).await.expect("record"), None);
        let taken = take_one(&q).await;
        q.requeue(taken, "unavailable", Requeue::NotAnAttempt)
            .await
            .expect("requeue");
        assert_eq!(
            q.record(&job(1).id())
                .await
                .expect("record")
                .map(|r| r.tries),
            Some(1)
        );
        take_one(&q).await;
        q.complete(&[job(1).id()]).await.expect("complete");
        assert_eq!(q.record(&job(1).id()).await.expect("record"), None);
        assert!(q.queues().records.is_empty(), "nothing left behind");
    }
}
