//! Leases with fencing: in a fleet each lane, each source chain's scanner
//! and the clearer are held by one member at a time; work under a lease
//! stops as soon as it is lost, and writes under it carry its fencing token.

use std::sync::Arc;

use light_clients::{ChainId, ChannelId};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{JobKind, Lane};

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

/// Who holds what: the scanners ask for their chain's lease, the clearer
/// for its own; lanes are shared out by the backend.
pub trait Leases: Send + Sync + std::fmt::Debug {
    /// Starts the backend's own tasks until `stop`: keeping leases (and, on
    /// Redis, reading the held lanes' streams); the embedded backend has none.
    fn start(&self, _tasks: &TaskTracker, _stop: CancellationToken) {}
    /// The lease on `name` when this relayer holds it, none otherwise. Asking
    /// declares interest: a fleet member then tries to acquire it.
    fn lease(&self, name: &LeaseName) -> Option<Lease>;
    /// Which channels this relayer can carry (both chains relayed here, the
    /// app served by both, the path configured; asked again every round, so
    /// chains added or removed while running count). A fleet member takes
    /// only the lanes of those and marks the others stepped back from, so a
    /// member that carries them takes them beyond its share: a member that
    /// cannot deliver a lane never sits on it. Until told, every lane. The
    /// embedded backend holds every lease for good and needs none.
    fn serve(&self, _serves: Serves) {}
}

/// Whether this relayer can carry a channel's packets and acks (see
/// [`Leases::serve`]).
pub type Serves = Arc<dyn Fn(&ChannelId) -> bool + Send + Sync>;
