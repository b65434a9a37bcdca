//! The job queue: jobs wait in lanes (one per channel and direction, so an
//! ordered channel is submitted in order), are taken by the destination's
//! submitter, and are completed once the destination confirmed them, handed
//! back to their lane, or parked with a reason.

use std::collections::BTreeMap;

use light_clients::ChainId;
use serde::{Deserialize, Serialize};

use super::{CoordinatorError, Job, JobId, Lane};

/// The most jobs of one path (source, destination) a `take` may return.
pub type PathMax<'a> = dyn for<'c> Fn(&'c ChainId, &'c ChainId) -> usize + Sync + 'a;

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
    /// jobs are in flight until completed or failed.
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
}
