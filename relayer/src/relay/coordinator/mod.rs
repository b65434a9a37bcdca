//! Where relay jobs wait and progress is recorded, one trait per concern:
//! - [`JobQueue`] (`queue.rs`): jobs in lanes, one per (source,
//!   destination, app) and direction, so an ordered channel is submitted in
//!   order; a job is completed only once the destination confirmed it, and
//!   one that keeps failing is parked with its reason;
//! - [`Leases`] (`lease.rs`): who holds each lane, scanner and the clearer,
//!   with fencing tokens;
//! - [`RelayerStore`] (`store.rs`): scan checkpoints (written under the
//!   scanner lease) and the adapters registered at run time;
//! - [`FleetView`] (`view.rs`): whether the backend answers, the fleet, and
//!   each job's [`JobRecord`] of failed tries (its member, tries, last error,
//!   when), written by the backend whenever a job is handed back or parked
//!   and read by every member, so any member's trace shows a job another
//!   member holds.
//!
//! Lane selection (a member's fair share of the leases, how many jobs a
//! take draws from each lane) is pure and shared by the backends (`lanes.rs`).
//!
//! Each has two backends: [`Embedded`] (`embedded.rs`: in-process lanes and
//! a redb file, every lease held for good; a single relayer needs no other
//! service) and the Redis one of a fleet (`super::fleet`). A
//! [`Coordination`] holds one backend's four concerns, and each caller uses
//! the one it needs.
//!
//! Safety never rests here: the ledgers' receipts decide what was
//! delivered, so a lost queue costs a rescan (the clearer re-queues gaps),
//! never a packet.

use std::sync::Arc;

mod embedded;
mod job;
pub(crate) mod lanes;
mod lease;
mod queue;
mod store;
mod view;

pub use embedded::Embedded;
pub use job::{Job, JobId, JobKind, Lane, Work};
pub use lease::{Lease, LeaseName, Leases, Serves};
pub(crate) use queue::HandBack;
pub use queue::{JobQueue, JobState, Parked, PathMax, Requeue, Stall};
pub use store::{AdapterRecord, RelayerStore};
pub use view::{
    bounded_reason, FailingJob, FleetMember, FleetStatus, FleetView, JobRecord, FAILING_SHOWN,
};

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

/// A whole backend: every concern. Implemented for whatever implements
/// them all; what a [`Coordination`] is made from.
pub trait Coordinator: JobQueue + Leases + RelayerStore + FleetView {}

impl<T: JobQueue + Leases + RelayerStore + FleetView + ?Sized> Coordinator for T {}

/// One backend's concerns, made once at start and shared by the engine's
/// tasks and the API; each uses only the concern it needs.
#[derive(Debug, Clone)]
pub struct Coordination {
    pub queue: Arc<dyn JobQueue>,
    pub leases: Arc<dyn Leases>,
    pub store: Arc<dyn RelayerStore>,
    pub fleet: Arc<dyn FleetView>,
}

impl<B: Coordinator + 'static> From<Arc<B>> for Coordination {
    fn from(backend: Arc<B>) -> Self {
        Coordination {
            queue: backend.clone(),
            leases: backend.clone(),
            store: backend.clone(),
            fleet: backend,
        }
    }
}

impl From<Arc<dyn Coordinator>> for Coordination {
    fn from(backend: Arc<dyn Coordinator>) -> Self {
        Coordination {
            queue: backend.clone(),
            leases: backend.clone(),
            store: backend.clone(),
            fleet: backend,
        }
    }
}
