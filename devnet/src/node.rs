//! The node: the ledger thread (see [`crate::handle`]), the disclosure
//! prover when one runs, and the RPC server, started together by [`start`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use adapters::server::ServerLimits;
use light_clients::any::FamilyName;
use light_clients::ChainId;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use crate::clock::{entropy, now};
use crate::handle::{run_ledger, Job};
pub use crate::handle::{CallError, LedgerApi, NodeHandle};
use crate::ledger::{Ledger, LedgerConfig, LedgerError, SnapshotPolicy};
use crate::prover::ProverError;

/// Why a node did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// No fresh randomness for a new ledger's keys or its admin token.
    #[error(transparent)]
    Entropy(std::io::Error),
    /// The data directory cannot be created.
    #[error(transparent)]
    DataDir(std::io::Error),
    /// The admin token cannot be written.
    #[error("cannot write {}: {source}", .path.display())]
    AdminToken {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The ledger did not open.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The metrics cannot be registered.
    #[error(transparent)]
    Metrics(#[from] prometheus::Error),
    /// The prover's batch size or depth is out of range.
    #[error(transparent)]
    ProverParams(circuits::TreeError),
    /// The prover did not start.
    #[error(transparent)]
    Prover(#[from] ProverError),
    /// The ledger thread cannot be spawned.
    #[error(transparent)]
    Thread(std::io::Error),
    /// The RPC address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The bound address cannot be read back.
    #[error(transparent)]
    LocalAddr(std::io::Error),
}

impl NodeError {
    /// The stable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            NodeError::Entropy(_) => "entropy",
            NodeError::DataDir(_) | NodeError::AdminToken { .. } => "store",
            NodeError::Ledger(e) => e.code(),
            NodeError::Metrics(_) => "metrics",
            NodeError::ProverParams(_) => "prover",
            NodeError::Prover(e) => e.code(),
            NodeError::Thread(_) => "thread",
            NodeError::Listen { .. } | NodeError::LocalAddr(_) => "listen",
        }
    }
}

/// How to run a node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub chain_id: ChainId,
    pub family: FamilyName,
    pub validators: usize,
    pub data_dir: PathBuf,
    pub block_time: Duration,
    pub listen: SocketAddr,
}

/// How a node runs beyond what [`NodeConfig`] says (what `portledger`'s
/// flags set; [`start`] takes the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeOptions {
    pub snapshots: SnapshotPolicy,
    /// Depth of each block's `zk_root` tree (fixed at genesis).
    pub zk_depth: u32,
    /// Run a disclosure prover whose proofs cover up to this many packets
    /// (K); none by default.
    pub prover_batch: Option<usize>,
    /// How submitted events are checked: strict (a DCSA warning that strict
    /// mode refuses is a refusal) and the DCSA version declared for flat events.
    pub events: adapters::events::Options,
    /// The RPC's limit on a request body (`rpc::MAX_BODY_BYTES` by default;
    /// lower to test a relayer against a small limit).
    pub max_body_bytes: usize,
    /// Whether `GET /v1/status` says `max_tx_bytes`; off, the node answers
    /// as a ledger older than the field (for tests of a relayer that must
    /// find the limit by a refusal).
    pub advertise_max_tx_bytes: bool,
    /// The RPC server's timeouts, shutdown bound and per-client limit.
    pub server: ServerLimits,
}

impl NodeOptions {
    pub const DEFAULT: NodeOptions = NodeOptions {
        snapshots: SnapshotPolicy::DEFAULT,
        zk_depth: light_clients::zk::DEFAULT_ZK_DEPTH,
        prover_batch: None,
        events: adapters::events::Options {
            strict: false,
            dcsa_version: None,
        },
        max_body_bytes: crate::rpc::MAX_BODY_BYTES,
        advertise_max_tx_bytes: true,
        server: crate::rpc::SERVER_LIMITS,
    };
}

/// A started node.
#[derive(Debug)]
pub struct RunningNode {
    pub addr: SocketAddr,
    pub handle: NodeHandle,
    ledger: std::thread::JoinHandle<()>,
    server: tokio::task::JoinHandle<()>,
    /// The customs webhooks' delivery, when the rules name webhooks.
    webhooks: Option<tokio::task::JoinHandle<()>>,
}

impl RunningNode {
    /// Waits for the node to stop (after `shutdown` is cancelled): the
    /// server drains, the ledger seals what it holds and closes its store.
    pub async fn wait(self) {
        let _ = self.server.await;
        if let Some(w) = self.webhooks {
            let _ = w.await;
        }
        let _ = tokio::task::spawn_blocking(move || self.ledger.join()).await;
    }
}

fn admin_token(config: &NodeConfig) -> Result<String, NodeError> {
    let path = config.data_dir.join("admin.token");
    if let Ok(token) = std::fs::read_to_string(&path) {
        return Ok(token.trim().to_string());
    }
    let bytes: [u8; 24] = entropy().map_err(NodeError::Entropy)?;
    let token = hex::encode(bytes);
    std::fs::create_dir_all(&config.data_dir).map_err(NodeError::DataDir)?;
    if let Err(source) = std::fs::write(&path, &token) {
        return Err(NodeError::AdminToken { path, source });
    }
    Ok(token)
}

/// Opens (or creates) the ledger, starts its thread and the RPC server.
pub async fn start(
    config: NodeConfig,
    shutdown: CancellationToken,
) -> Result<RunningNode, NodeError> {
    start_with(config, NodeOptions::DEFAULT, shutdown).await
}

/// [`start`], with options.
pub async fn start_with(
    config: NodeConfig,
    options: NodeOptions,
    shutdown: CancellationToken,
) -> Result<RunningNode, NodeError> {
    start_with_customs(config, options, Default::default(), shutdown).await
}

/// [`start_with`], with the port's customs rules (`--customs-rules`): in
/// force from the ledger's replay on; their webhooks, if any, get every
/// warning.
pub async fn start_with_customs(
    config: NodeConfig,
    options: NodeOptions,
    customs: std::sync::Arc<crate::apps::customs::CustomsRules>,
    shutdown: CancellationToken,
) -> Result<RunningNode, NodeError> {
    let admin_token = admin_token(&config)?;
    let ledger_config = LedgerConfig {
        chain_id: config.chain_id.clone(),
        family: config.family,
        validators: config.validators,
        data_dir: config.data_dir.clone(),
        zk_depth: options.zk_depth,
    };
    let seed: [u8; 72] = entropy().map_err(NodeError::Entropy)?;
    let mut ledger: Box<dyn LedgerApi> = light_clients::with_family!(config.family, F => {
        Box::new(Ledger::<F>::open_with_customs(ledger_config, customs.clone(), seed, now())?)
            as Box<dyn LedgerApi>
    });
    ledger.set_snapshot_policy(options.snapshots);
    ledger.set_event_options(options.events);
    let (jobs, rx) = mpsc::channel::<Job>();
    let (heights_tx, heights) = watch::channel(ledger.height());
    let metrics = crate::metrics::LedgerMetrics::new(config.chain_id.as_str())?;
    metrics.sealed(ledger.height(), Duration::ZERO);
    metrics.customs(&ledger.customs_tallies());
    let prover = match options.prover_batch {
        None => None,
        Some(k) => {
            let params =
                circuits::DisclosureParams::new(options.zk_depth, k, adapters::records::WIDTH)
                    .map_err(NodeError::ProverParams)?;
            Some(crate::prover::Prover::start(params, metrics.clone()).await?)
        }
    };
    let handle = NodeHandle {
        prover,
        jobs,
        heights,
        chain_id: config.chain_id.clone(),
        family: config.family,
        admin_token,
        metrics: metrics.clone(),
    };
    let webhooks = customs.webhooks.clone().map(|hooks| {
        crate::webhooks::spawn(
            handle.clone(),
            hooks,
            config.data_dir.clone(),
            shutdown.clone(),
        )
    });
    let block_time = config.block_time;
    let stop = shutdown.clone();
    let ledger = std::thread::Builder::new()
        .name(format!("ledger-{}", config.chain_id))
        .spawn(move || run_ledger(ledger, rx, heights_tx, block_time, stop, metrics))
        .map_err(NodeError::Thread)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| NodeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(NodeError::LocalAddr)?;
    let app = crate::rpc::router_with(
        handle.clone(),
        crate::rpc::Limits {
            max_body_bytes: options.max_body_bytes,
            advertise: options.advertise_max_tx_bytes,
        },
    );
    let server = tokio::spawn(async move {
        // Returns within `options.server.shutdown` of the signal, whatever
        // clients hold: the ledger thread then seals and closes its store.
        let serve = adapters::server::serve(listener, app, options.server, shutdown);
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "rpc server failed");
        }
    });
    Ok(RunningNode {
        addr,
        handle,
        ledger,
        server,
        webhooks,
    })
}
