//! The job queue: jobs wait in lanes (one per channel and direction, so an
//! ordered channel is submitted in order), are taken by the destination's
//! submitter, and are completed once the destination confirmed them, handed
//! back to their lane, or parked with a reason.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use light_clients::ChainId;
use serde::{Deserialize, Serialize};

use super::{CoordinatorError, Job, JobId, Lane};

/// The most jobs of one path (source, destination) a `take` may return.
pub type PathMax<'a> = dyn for<'c> Fn(&'c ChainId, &'c ChainId) -> usize + Sync + 'a;

/// Whose fault it was that a job goes back to its lane: only the job's own
/// failures bring it nearer to being parked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// Not the job's fault: the ledger or the network was away, a header was
    /// not verified yet, the batch was lost before its block, or a job ahead
    /// of it was refused. It goes back as it was and is never parked for it.
    NotAnAttempt,
    /// The destination refused the job itself: one more attempt, and once it
    /// has failed `park_after` times it is parked instead.
    Attempt { park_after: u32 },
}

/// How a backend settles a failed job: back in its lane, or parked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandBack {
    Requeue(Requeue),
    /// Parked at once (counted as an attempt).
    Park,
}

impl HandBack {
    /// The job's attempts after this failure, and whether it is parked.
    pub(crate) fn apply(self, attempts: u32) -> (u32, bool) {
        match self {
            HandBack::Requeue(Requeue::NotAnAttempt) => (attempts, false),
            HandBack::Requeue(Requeue::Attempt { park_after }) => {
                let attempts = attempts.saturating_add(1);
                (attempts, attempts >= park_after)
            }
            HandBack::Park => (attempts.saturating_add(1), true),
        }
    }
}

/// A job set aside after failing too often, with the last reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Parked {
    /// The job: `{work: {kind, packet or ack, proof}, attempts}`.
    #[schema(value_type = Object)]
    pub job: Job,
    pub reason: String,
}

/// Where a job stands in the queue.
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

/// A lane that cannot progress, as the coordinator records it fleet-wide
/// (the embedded backend: this relayer alone): since when, and who tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stall {
    /// Since a member first could not progress on the lane (after it last progressed).
    pub since: Duration,
    /// The members that could not progress on it since (this one included).
    pub tried: BTreeSet<String>,
    /// The members alive now (this one included).
    pub live: BTreeSet<String>,
}

impl Stall {
    /// Whether the lane's stalled jobs cannot be delivered, and are parked:
    /// `park` has passed since the lane first stalled and every live member
    /// has tried it (each gives a stalled lane up for a while, so the
    /// others get their turn); or twice `park` has passed, so that a live
    /// member that never gets to try (it never takes the lane) is not
    /// waited for forever.
    pub fn park_due(&self, park: Duration) -> bool {
        self.since >= park
            && (self.live.iter().all(|m| self.tried.contains(m))
                || self.since >= park.saturating_mul(2))
    }
}

/// Jobs in lanes: queued by the scanners and the clearer, taken and settled
/// by the submitters, listed and retried by the API.
#[async_trait::async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug {
    /// Queues a job unless one with its id is queued or in flight; returns whether it was queued.
    async fn enqueue(&self, job: Job) -> Result<bool, CoordinatorError>;
    /// Queues jobs in order, as [`JobQueue::enqueue`] each; returns for
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
    /// jobs are in flight until completed, re-queued or parked.
    async fn take(
        &self,
        target: &ChainId,
        max: usize,
        path_max: &PathMax<'_>,
    ) -> Result<Vec<Job>, CoordinatorError>;
    /// Where a job stands, with the job; none when it is neither queued, in flight nor parked.
    async fn lookup(&self, id: &JobId) -> Result<Option<(JobState, Job)>, CoordinatorError>;
    /// Jobs this relayer took and has not yet settled.
    fn in_flight(&self) -> usize;
    /// The destination confirmed these: they are done.
    async fn complete(&self, ids: &[JobId]) -> Result<(), CoordinatorError>;
    /// These failed: back to the front of their lanes, in order. Only
    /// [`Requeue::Attempt`] counts toward parking them (with `reason`).
    async fn requeue(
        &self,
        jobs: Vec<Job>,
        reason: &str,
        how: Requeue,
    ) -> Result<(), CoordinatorError>;
    /// These must not be relayed as they are: set aside with `reason` until
    /// an operator retries them.
    async fn park(&self, jobs: Vec<Job>, reason: &str) -> Result<(), CoordinatorError>;
    async fn parked(&self) -> Result<Vec<Parked>, CoordinatorError>;
    /// Puts every parked job back in its lane; returns how many.
    async fn retry_parked(&self) -> Result<usize, CoordinatorError>;
    /// Jobs waiting (not in flight), per lane.
    async fn backlog(&self) -> Result<BTreeMap<Lane, usize>, CoordinatorError>;
    /// This member could not progress on `lane` (its jobs wait for what no
    /// retry here brought): records that it tried, and answers since when
    /// the lane stalls and who tried. The record lives `keep` after the
    /// last stall.
    async fn stalled(&self, lane: &Lane, keep: Duration) -> Result<Stall, CoordinatorError>;
    /// Gives a stalled lane up for a while so that another member can try
    /// it: its lease is released and this member does not take it again
    /// until another member stepped back from it or the while is over.
    /// Nothing when no other member is alive, or jobs of the lane are in
    /// flight here. Returns whether it was given up.
    async fn step_back(&self, lane: &Lane) -> Result<bool, CoordinatorError>;
    /// Jobs of these lanes were sent: their stalls are over.
    async fn progressed(&self, lanes: &[Lane]) -> Result<(), CoordinatorError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_attempts_bring_a_job_nearer_to_parking() {
        let transient = HandBack::Requeue(Requeue::NotAnAttempt);
        assert_eq!(transient.apply(0), (0, false));
        assert_eq!(transient.apply(u32::MAX), (u32::MAX, false));
        let refused = HandBack::Requeue(Requeue::Attempt { park_after: 3 });
        assert_eq!(refused.apply(0), (1, false));
        assert_eq!(refused.apply(1), (2, false));
        assert_eq!(refused.apply(2), (3, true));
        assert_eq!(refused.apply(u32::MAX), (u32::MAX, true));
        assert_eq!(HandBack::Park.apply(0), (1, true));
    }

    fn names(n: &[&str]) -> BTreeSet<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_stalled_lane_is_parked_once_every_live_member_tried_it_for_the_whole_period() {
        let park = Duration::from_secs(600);
        let stall = |since: u64, tried: &[&str], live: &[&str]| Stall {
            since: Duration::from_secs(since),
            tried: names(tried),
            live: names(live),
        };
        // Not before the period, however many tried.
        assert!(!stall(599, &["a", "b"], &["a", "b"]).park_due(park));
        assert!(stall(600, &["a", "b"], &["a", "b"]).park_due(park));
        // A live member that has not tried it yet may deliver it.
        assert!(!stall(900, &["a"], &["a", "b"]).park_due(park));
        // A member that tried and died does not hold it back.
        assert!(stall(600, &["a", "c"], &["a"]).park_due(park));
        // Alone (or embedded): the period is enough.
        assert!(stall(600, &["a"], &["a"]).park_due(park));
        // After twice the period the others have had their chance.
        assert!(stall(1200, &["a"], &["a", "b"]).park_due(park));
    }
}
