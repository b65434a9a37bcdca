//! `portrelay start --config FILE`: the long-running relayer over the
//! chains of a configuration file and the adapters registered over its API,
//! with the embedded coordinator in its data directory or, for a fleet, the
//! Redis one (`[coordinator]`). Killed and started again, it resumes from its
//! checkpoints (no rescan of history) and its clearer re-queues whatever was
//! in flight. In a fleet, adapters registered on one member reach the others
//! through Redis (`follow_registry`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use adapters::chain::{AdapterConfig, ChainAdapter, ConfigError};
use adapters::http::RpcObserver;
use adapters::registry;
use light_clients::{ChainId, Hash32};
use tokio_util::sync::CancellationToken;

use crate::api::{ApiState, ChainBuilder};
use crate::config::{read_key, ChainEntry, Config, CoordinatorConfig};
use crate::metrics::Metrics;
use crate::relay::coordinator::{AdapterRecord, Coordination, CoordinatorError, Embedded};
use crate::relay::engine::{AlreadyRelayed, Chain, Engine, EngineOptions};
use crate::relay::fleet::RedisCoordinator;

/// Builds a chain's adapters (one failing over between all endpoints, and
/// one per endpoint as witnesses when there are several) and reads its key.
/// The follower starts at the lowest height any of `others`' clients of it
/// holds, so every header a destination may need is one it verified (with
/// no client yet: the chain's latest header; with a pin: the pinned header).
pub async fn build_chain(
    adapter: &AdapterConfig,
    key_file: &Path,
    pin: Option<(u64, Hash32)>,
    others: &[Arc<dyn ChainAdapter>],
    observer: Option<Arc<dyn RpcObserver>>,
) -> Result<Chain, DaemonError> {
    let config = adapter.chain();
    let id = &config.chain_id;
    let primary = registry::build(adapter, observer.clone())?;
    // On the blocking pool: the path may come from a request (`POST
    // /v1/adapters`), and a file read blocks the thread that does it.
    let path = key_file.to_path_buf();
    let key = tokio::task::spawn_blocking(move || read_key(&path))
        .await
        .map_err(|e| crate::config::ConfigError::Read {
            path: key_file.into(),
            reason: format!("the read did not finish: {e}"),
        })
        .and_then(|r| r)
        .map_err(|source| DaemonError::Key {
            chain: id.clone(),
            source,
        })?;
    let mut witnesses = Vec::new();
    if config.endpoints.len() > 1 {
        for endpoint in &config.endpoints {
            let mut single = config.clone();
            single.endpoints = vec![endpoint.clone()];
            let single = AdapterConfig::new(adapter.family(), single);
            let w = registry::build(&single, observer.clone())?;
            witnesses.push((endpoint.clone(), w));
        }
    }
    let mut lowest: Option<u64> = None;
    for other in others {
        match other.clients().await {
            Ok(clients) => {
                if let Some(c) = clients.iter().find(|c| &c.chain == id) {
                    lowest = Some(lowest.map_or(c.latest_height, |l| l.min(c.latest_height)));
                }
            }
            Err(e) => {
                tracing::warn!(chain = %other.chain_id(), error = %e, "cannot read clients; following from the latest header")
            }
        }
    }
    let trust_root = match (pin, lowest) {
        (None, Some(h)) => match primary.header(h).await {
            Ok(header) => Some((h, header)),
            Err(e) => {
                tracing::warn!(chain = %id, height = h, error = %e, "cannot read the clients' header; following from the latest");
                None
            }
        },
        _ => None,
    };
    Ok(Chain {
        adapter: primary,
        key,
        trust_root,
        pin,
        endpoints: config.endpoints.clone(),
        apps: config.apps.clone(),
        witnesses,
    })
}

/// Why the relayer could not start, or a chain could not be added to it;
/// each names the configuration key at fault where there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// The data directory cannot be created.
    #[error("relayer.data_dir {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The API's address cannot be bound, or read back.
    #[error("api.listen {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    /// The API server stopped with an error.
    #[error("api: {0}")]
    Serve(std::io::Error),
    /// The metrics registry refused a metric.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The embedded store cannot be opened or read.
    #[error("relayer.data_dir: {0}")]
    Store(CoordinatorError),
    /// The Redis coordinator cannot be set up.
    #[error("coordinator.url: {0}")]
    Coordinator(CoordinatorError),
    /// An adapter's configuration was refused.
    #[error(transparent)]
    Adapter(#[from] ConfigError),
    /// A chain's key file cannot be used.
    #[error("{chain}: key_file: {source}")]
    Key {
        chain: ChainId,
        source: crate::config::ConfigError,
    },
    /// A chain of the configuration file cannot start.
    #[error("chains ({chain}): {source}")]
    Chain {
        chain: ChainId,
        source: Box<DaemonError>,
    },
    /// The chain is relayed already.
    #[error(transparent)]
    AlreadyRelayed(#[from] AlreadyRelayed),
}

fn local_addr(listener: &tokio::net::TcpListener) -> Result<std::net::SocketAddr, DaemonError> {
    listener.local_addr().map_err(|source| DaemonError::Listen {
        addr: "(bound)".into(),
        source,
    })
}

/// Runs the relayer until `shutdown`; in-flight batches finish first.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), DaemonError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| DaemonError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    // Bind first: a taken port is an error at start, not later.
    let listener = match &config.api {
        Some(api) => Some(crate::api::bind(api.listen).await?),
        None => None,
    };
    let metrics = Metrics::new()?;
    let registered_keys = match &config.coordinator {
        CoordinatorConfig::Redis(r) => r.registered_keys.clone(),
        CoordinatorConfig::Embedded => None,
    };
    let coordination: Coordination = match &config.coordinator {
        CoordinatorConfig::Embedded => Arc::new(
            Embedded::open(&config.data_dir.join("relayer.redb")).map_err(DaemonError::Store)?,
        )
        .into(),
        CoordinatorConfig::Redis(r) => {
            let api = match &listener {
                Some(l) => Some(format!("http://{}", local_addr(l)?)),
                None => None,
            };
            println!(
                "portrelay: fleet member {} on {}",
                r.instance,
                crate::config::redact(&r.url)
            );
            Arc::new(
                RedisCoordinator::new(r.clone(), api, metrics.clone())
                    .map_err(DaemonError::Coordinator)?,
            )
            .into()
        }
    };
    let configured: BTreeSet<ChainId> = config
        .chains
        .iter()
        .map(|c| c.adapter.chain().chain_id.clone())
        .collect();
    let mut entries: Vec<ChainEntry> = config.chains.clone();
    let registered = match coordination.store.adapters().await {
        Ok(r) => r,
        // Redis away at start: the registry is followed once it answers.
        Err(e) if matches!(config.coordinator, CoordinatorConfig::Redis(_)) => {
            tracing::warn!(error = %e, "cannot read the registered adapters yet");
            Vec::new()
        }
        Err(e) => return Err(DaemonError::Store(e)),
    };
    for record in registered {
        let id = &record.adapter.chain().chain_id;
        if configured.contains(id) {
            tracing::warn!(chain = %id, "a registered adapter is also in the configuration file; the file wins");
            continue;
        }
        let key_file = member_key(&record, registered_keys.as_deref());
        entries.push(ChainEntry {
            adapter: record.adapter,
            key_file,
            pin: None,
        });
    }
    let mut all: Vec<Arc<dyn ChainAdapter>> = Vec::new();
    for ChainEntry { adapter, .. } in &entries {
        all.push(registry::build(adapter, None)?);
    }
    let observer: Arc<dyn RpcObserver> = metrics.clone();
    let mut chains = BTreeMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let others: Vec<Arc<dyn ChainAdapter>> = all
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, a)| a.clone())
            .collect();
        let id = entry.adapter.chain().chain_id.clone();
        match build_chain(
            &entry.adapter,
            &entry.key_file,
            entry.pin,
            &others,
            Some(observer.clone()),
        )
        .await
        {
            Ok(chain) => {
                chains.insert(id, chain);
            }
            // A chain of the file must work; a registered one that no longer
            // does is reported and skipped (remove or register it again).
            Err(e) if configured.contains(&id) => {
                return Err(DaemonError::Chain {
                    chain: id,
                    source: Box::new(e),
                })
            }
            Err(e) => tracing::error!(chain = %id, error = %e, "registered adapter cannot start"),
        }
    }
    let options = EngineOptions {
        trust: config.trust,
        batch_max: config.batch_max,
        max_attempts: config.max_attempts,
        backoff: config.backoff,
        clear_interval: config.clear_interval,
    };
    let names: Vec<String> = chains.keys().map(ToString::to_string).collect();
    println!(
        "portrelay: relaying between {} (data in {})",
        names.join(", "),
        config.data_dir.display()
    );
    let engine = Engine::with_stall(
        chains,
        coordination,
        options,
        config.stall,
        config.paths.clone(),
        metrics,
    );
    let configured = Arc::new(configured);
    let registry = tokio::spawn(follow_registry(
        engine.clone(),
        configured.clone(),
        registered_keys.clone(),
        shutdown.clone(),
    ));
    let api_task = match (listener, &config.api) {
        (Some(listener), Some(api)) => {
            let state = ApiState {
                engine: engine.clone(),
                token: api.token.as_deref().map(Arc::from),
                configured,
                build: fleet_chain_builder(engine.clone(), registered_keys.clone()),
            };
            println!(
                "portrelay: API on http://{}{}",
                local_addr(&listener)?,
                if api.token.is_some() {
                    ""
                } else {
                    " (read-only: no api.token_file)"
                }
            );
            Some(tokio::spawn(crate::api::serve(
                listener,
                state,
                api.limits,
                shutdown.clone(),
            )))
        }
        _ => None,
    };
    engine.run(shutdown).await;
    if let Err(e) = registry.await {
        tracing::error!(error = %e, "registry task");
    }
    if let Some(task) = api_task {
        match task.await {
            Ok(Err(e)) => tracing::error!(error = %e, "api"),
            Err(e) => tracing::error!(error = %e, "api task"),
            Ok(Ok(())) => {}
        }
    }
    println!("portrelay: stopped");
    Ok(())
}

/// This member's key for a registered chain: `<registered_keys>/<chain>.key`
/// in a fleet that sets it, else the key file named at registration.
fn member_key(record: &AdapterRecord, registered_keys: Option<&Path>) -> PathBuf {
    match registered_keys {
        Some(dir) => dir.join(format!("{}.key", record.adapter.chain().chain_id)),
        None => record.key_file.clone(),
    }
}

/// How the API turns a registration into a running chain: against the
/// adapters of the chains the engine relays now.
pub fn chain_builder(engine: Arc<Engine>) -> ChainBuilder {
    fleet_chain_builder(engine, None)
}

/// [`chain_builder`], with this member's own key for registered chains.
fn fleet_chain_builder(engine: Arc<Engine>, registered_keys: Option<PathBuf>) -> ChainBuilder {
    Arc::new(move |record: AdapterRecord| {
        let engine = engine.clone();
        let key_file = member_key(&record, registered_keys.as_deref());
        Box::pin(async move {
            let others: Vec<Arc<dyn ChainAdapter>> = engine
                .chain_ids()
                .iter()
                .filter_map(|id| engine.chain(id).map(|c| c.adapter))
                .collect();
            let observer: Arc<dyn RpcObserver> = engine.metrics.clone();
            build_chain(&record.adapter, &key_file, None, &others, Some(observer)).await
        })
    })
}

/// Keeps the chains relayed in step with the adapters registered in the
/// coordinator by other members (a fleet): polls its version every second,
/// starts registered chains not relayed yet and stops removed ones. Returns
/// at once for the embedded coordinator, whose registry only this process changes.
async fn follow_registry(
    engine: Arc<Engine>,
    configured: Arc<BTreeSet<ChainId>>,
    registered_keys: Option<PathBuf>,
    shutdown: CancellationToken,
) {
    let build = fleet_chain_builder(engine.clone(), registered_keys);
    let mut seen: Option<u64> = None;
    loop {
        match engine.store.adapters_version().await {
            Ok(None) => return,
            Ok(Some(v)) if seen != Some(v) => match engine.store.adapters().await {
                Ok(records) => {
                    let mut settled = true;
                    let ids: BTreeSet<ChainId> = records
                        .iter()
                        .map(|r| r.adapter.chain().chain_id.clone())
                        .collect();
                    for record in records {
                        let id = record.adapter.chain().chain_id.clone();
                        if configured.contains(&id) || engine.chain(&id).is_some() {
                            continue;
                        }
                        match build(record).await {
                            Ok(chain) => {
                                if let Err(e) = engine.add_chain(id.clone(), chain) {
                                    tracing::debug!(chain = %id, error = %e, "registered adapter");
                                } else {
                                    tracing::info!(chain = %id, "following an adapter another member registered");
                                }
                            }
                            Err(e) => {
                                settled = false;
                                tracing::warn!(chain = %id, error = %e, "a registered adapter cannot start here");
                            }
                        }
                    }
                    for id in engine.chain_ids() {
                        if !configured.contains(&id) && !ids.contains(&id) {
                            engine.remove_chain(&id);
                            tracing::info!(chain = %id, "an adapter another member removed");
                        }
                    }
                    if settled {
                        seen = Some(v);
                    }
                }
                Err(e) => tracing::debug!(error = %e, "registry"),
            },
            Ok(Some(_)) => {}
            Err(e) => tracing::debug!(error = %e, "registry version"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
