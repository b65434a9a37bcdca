//! The cargo registry: containers (by ISO 6346 number) and transport
//! documents (by reference), each with its status and event history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Tracked;

/// Containers and transport documents, with their event histories.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CargoRegistry {
    pub containers: BTreeMap<String, Tracked>,
    pub documents: BTreeMap<String, Tracked>,
}
