//! The relayer's store: each source chain's scan checkpoint (written under
//! its scanner lease) and the adapters registered at run time, with a
//! version other fleet members poll.

use std::path::PathBuf;

use adapters::chain::AdapterConfig;
use light_clients::ChainId;
use serde::{Deserialize, Serialize};

use super::{CoordinatorError, Lease};

/// An adapter registered at run time (over the API), kept in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdapterRecord {
    pub adapter: AdapterConfig,
    /// This relayer's transaction key on the chain (64 hex digits in the file).
    pub key_file: PathBuf,
}

/// Checkpoints and registered adapters: what a relayer resumes from.
#[async_trait::async_trait]
pub trait RelayerStore: Send + Sync + std::fmt::Debug {
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
}
