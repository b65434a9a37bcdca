//! The fleet view: whether the backend can coordinate now, the fleet as
//! this member sees it (`/v1/status`, `/readyz`, `portrelay fleet status`),
//! and each job's record of failed tries, which every member reads
//! (`packets trace` on any member shows a job another member holds).

use std::collections::BTreeMap;

use light_clients::Timestamp;
use serde::{Deserialize, Serialize};

use super::{CoordinatorError, JobId, Lane};

/// The longest reason a job record keeps (the rest is cut): a record is
/// written on every failed try, so its size is bounded.
pub const RECORD_REASON_MAX: usize = 1024;

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
    /// Jobs not delivered whose last try failed, the latest first (at most
    /// [`FAILING_SHOWN`]), whichever member tried them.
    #[serde(default)]
    pub failing: Vec<FailingJob>,
}

/// The most failing jobs a fleet status lists.
pub const FAILING_SHOWN: usize = 50;

/// A member's heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetMember {
    pub instance: String,
    /// Its API address, when it serves one.
    pub api: Option<String>,
    /// The leases it holds, as `lane:SRC:DST:APP:KIND`, `scanner:CHAIN`, `clearer`.
    pub leases: Vec<String>,
}

/// What the coordinator keeps of a job's failed tries: written by the
/// member that tried it, each time a try fails (the job handed back to its
/// lane, or parked), and read by every member. Overwritten in place, so it
/// does not grow with the tries; removed once the job is delivered or
/// retried from parked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The member that tried it last (none for a relayer on its own).
    pub member: Option<String>,
    /// Tries that failed, whatever the cause (a header not verified yet,
    /// the ledger away, a refusal).
    pub tries: u64,
    /// Of those, the job's own failures (refusals): what parks it at
    /// `[relayer] max_attempts`.
    pub attempts: u32,
    /// Why the last try failed, as the relayer logged it.
    pub last_error: String,
    /// When the last try failed.
    pub last_tried: Timestamp,
    /// When the first failed try on record was.
    pub failing_since: Timestamp,
    /// Whether the last failure parked it.
    pub parked: bool,
}

impl JobRecord {
    /// The record after one more failed try by `member` at `now`.
    pub fn after(
        previous: Option<&JobRecord>,
        member: Option<&str>,
        attempts: u32,
        reason: &str,
        parked: bool,
        now: Timestamp,
    ) -> JobRecord {
        JobRecord {
            member: member.map(str::to_string),
            tries: previous.map_or(0, |r| r.tries).saturating_add(1),
            attempts,
            last_error: bounded_reason(reason),
            last_tried: now,
            failing_since: previous.map_or(now, |r| r.failing_since),
            parked,
        }
    }
}

/// `reason` cut to [`RECORD_REASON_MAX`] bytes (on a character boundary).
pub fn bounded_reason(reason: &str) -> String {
    if reason.len() <= RECORD_REASON_MAX {
        return reason.to_string();
    }
    let mut end = RECORD_REASON_MAX;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &reason[..end])
}

/// A job whose last try failed, as a fleet status lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailingJob {
    pub job: JobId,
    /// The member holding the job's lane now (none: nobody holds it).
    pub holder: Option<String>,
    pub record: JobRecord,
}

/// What the API and the metrics read of the coordination itself.
#[async_trait::async_trait]
pub trait FleetView: Send + Sync + std::fmt::Debug {
    /// Why the backend cannot coordinate now (Redis away), if so.
    fn unavailable(&self) -> Option<String> {
        None
    }
    /// The fleet as this member sees it; none for the embedded backend.
    async fn status(&self) -> Option<FleetStatus> {
        None
    }
    /// The record of a job's failed tries, whichever member tried it; none
    /// when no try failed (or the job was delivered).
    async fn record(&self, id: &JobId) -> Result<Option<JobRecord>, CoordinatorError>;
    /// The member holding `lane` now; none when nobody holds it, or for a
    /// relayer on its own (it holds every lane).
    async fn holder(&self, _lane: &Lane) -> Result<Option<String>, CoordinatorError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_counts_tries_keeps_its_start_and_bounds_its_reason() {
        let t = |s| Timestamp::from_unix_secs(s);
        let first = JobRecord::after(None, Some("a"), 0, "away", false, t(10));
        assert_eq!(
            (first.tries, first.failing_since, first.last_tried),
            (1, t(10), t(10))
        );
        let long = "é".repeat(RECORD_REASON_MAX);
        let second = JobRecord::after(Some(&first), Some("b"), 1, &long, true, t(20));
        assert_eq!(second.tries, 2);
        assert_eq!(second.member.as_deref(), Some("b"));
        assert_eq!((second.failing_since, second.last_tried), (t(10), t(20)));
        assert!(second.parked);
        assert!(second.last_error.len() <= RECORD_REASON_MAX + 3);
        assert!(second.last_error.ends_with("..."));
    }
}
