//! The fleet view: whether the backend can coordinate now, and the fleet as
//! this member sees it (`/v1/status`, `/readyz`, `portrelay fleet status`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
}
