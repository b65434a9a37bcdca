//! The adapters the relayer talks through, by chain id: built from the
//! configuration file at start and registered or removed at run time.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use light_clients::any::FamilyName;
use light_clients::{App, ChainId};

use crate::chain::{AdapterConfig, ChainAdapter, ConfigError, Engine};
use crate::comet::CometAdapter;
use crate::http::{HttpAdapter, RpcObserver};

/// The registered adapters, shared by every task of the relayer (behind an
/// `Arc`). The map sits in a `RwLock` that is held only to read or swap an
/// entry, never across an `.await`, so followers looking up their adapter
/// never wait on a registration for long. Adapters are handed out as
/// `Arc`s: a removed chain's adapter lives on in the tasks still holding it
/// until they let it go.
#[derive(Debug, Default)]
pub struct Registry {
    chains: RwLock<BTreeMap<ChainId, Registered>>,
}

/// A registered adapter and the configuration it was built from.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The adapter, shared with every task that talks to the chain.
    pub adapter: Arc<dyn ChainAdapter>,
    /// What it was built from (to list, persist or show it).
    pub config: AdapterConfig,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Builds every adapter of a configuration file; the first invalid or
    /// duplicate entry is refused by its key. Must run inside a tokio
    /// runtime (see `HttpAdapter::new`).
    pub fn from_configs(configs: Vec<AdapterConfig>) -> Result<Self, ConfigError> {
        let registry = Registry::new();
        for config in configs {
            registry.register(config)?;
        }
        Ok(registry)
    }

    /// Validates and builds an adapter and registers it under its chain id,
    /// unless that id is taken.
    pub fn register(&self, config: AdapterConfig) -> Result<Arc<dyn ChainAdapter>, ConfigError> {
        config.validate()?;
        let chain = config.chain().chain_id.clone();
        let mut chains = self.write();
        if let Some(existing) = chains.get(&chain) {
            return Err(ConfigError::Taken {
                family: existing.config.family(),
                chain,
            });
        }
        let adapter = build(&config, None)?;
        chains.insert(
            chain,
            Registered {
                adapter: adapter.clone(),
                config,
            },
        );
        Ok(adapter)
    }

    /// Unregisters a chain; whether it was registered.
    pub fn remove(&self, chain: &ChainId) -> bool {
        self.write().remove(chain).is_some()
    }

    /// The adapter of a chain.
    pub fn get(&self, chain: &ChainId) -> Option<Arc<dyn ChainAdapter>> {
        self.read().get(chain).map(|r| r.adapter.clone())
    }

    /// The adapter of a chain with the configuration it was built from.
    pub fn registered(&self, chain: &ChainId) -> Option<Registered> {
        self.read().get(chain).cloned()
    }

    /// Every registered chain, by chain id: family, endpoints and apps.
    pub fn list(&self) -> Vec<(ChainId, FamilyName, Vec<String>, Vec<App>)> {
        self.read()
            .iter()
            .map(|(chain, r)| {
                let c = r.config.chain();
                (
                    chain.clone(),
                    r.config.family(),
                    c.endpoints.clone(),
                    c.apps.clone(),
                )
            })
            .collect()
    }

    // A panic elsewhere while holding the lock cannot leave the map half
    // changed (each change is one insert or remove), so a poisoned lock is
    // still sound to use.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<ChainId, Registered>> {
        self.chains.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<ChainId, Registered>> {
        self.chains.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Builds the adapter of a chain, for the registry or for a task that
/// needs one of its own (a witness per endpoint, the devnet's operator):
/// the one place adapters are made. A chain's engine says which: every
/// family's embedded ledger speaks the RPC of `docs/profiles/rpc.md`, read
/// by an [`HttpAdapter`]; a gba chain run by CometBFT is read through
/// CometBFT's RPC by a [`CometAdapter`]. Every RPC attempt is reported to
/// `observer` when one is given (the relayer's metrics).
pub fn build(
    config: &AdapterConfig,
    observer: Option<Arc<dyn RpcObserver>>,
) -> Result<Arc<dyn ChainAdapter>, ConfigError> {
    Ok(match config.chain().engine {
        Engine::Embedded => Arc::new(HttpAdapter::observed(config, observer)?),
        Engine::Cometbft => Arc::new(CometAdapter::new(config, observer)?),
    })
}
