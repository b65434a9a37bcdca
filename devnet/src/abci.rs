//! The gba ledger as an ABCI 2.0 application under CometBFT v0.38
//! (`docs/cometbft.md`): the same host module and port apps as the
//! embedded ledger, on the same ledger thread (`handle::run_driven`), but
//! CometBFT decides the blocks. Served with `tendermint-abci` (one thread
//! per ABCI connection: consensus, mempool, query, snapshot), each call a
//! job on the ledger thread:
//!
//! - `Info`: the last committed height and its `app_hash`, so CometBFT's
//!   handshake replays the blocks the application missed;
//! - `InitChain`: checks the chain id, answers the empty roots' `app_hash`;
//! - `CheckTx`: `Ledger::check_tx` (decoding, the envelope and event checks);
//! - `FinalizeBlock`: `Ledger::finalize_block` at the block's height and
//!   time; `app_hash` = `Roots::app_hash` of the block's roots;
//! - `Commit`: `Ledger::abci_commit`, the block's redb transaction;
//! - `Query`: `path` is a GET route of the embedded ledger's RPC
//!   (`crate::rpc`), served by the same router in process: `value` is the
//!   route's JSON; a refusal's `code` is the route's HTTP status and its
//!   `log` the JSON `{code, message}`. Headers are CometBFT's (`/commit`),
//!   so `/v1/headers/...` is not served.
//!
//! A failure to finalize or commit a block leaves the application unable
//! to answer CometBFT truthfully: the process exits (70) and its restart
//! reloads the committed state, CometBFT replaying what it lacks.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use light_clients::any::FamilyName;
use light_clients::gba::Gba;
use light_clients::{ChainId, Timestamp};
use tendermint_abci::{Application, ServerBuilder};
use tendermint_proto::v0_38::abci::{
    ExecTxResult, RequestCheckTx, RequestFinalizeBlock, RequestInfo, RequestInitChain,
    RequestQuery, ResponseCheckTx, ResponseCommit, ResponseFinalizeBlock, ResponseInfo,
    ResponseInitChain, ResponseQuery, ValidatorUpdate,
};
use tendermint_proto::v0_38::crypto::{public_key, PublicKey};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::handle::{run_driven, CallError, Job, LedgerApi, NodeHandle};
use crate::ledger::{Ledger, LedgerConfig, LedgerError, SnapshotPolicy, TxOutcome};

/// The largest query answer read back from the router.
const MAX_QUERY_BYTES: usize = 64 * 1024 * 1024;

/// How to run the application.
#[derive(Debug, Clone)]
pub struct AbciConfig {
    pub chain_id: ChainId,
    pub data_dir: PathBuf,
    /// Where CometBFT's `proxy_app` connects (`tcp://` this address).
    pub listen: SocketAddr,
    /// The network's secret, the same at every validator (see
    /// [`read_network_secret`]): the operator, platform and salt keys derive from it.
    pub network_secret: [u8; 72],
    pub snapshots: SnapshotPolicy,
    pub zk_depth: u32,
    pub events: adapters::events::Options,
    /// The port's customs rules (`docs/customs.md`).
    pub customs: std::sync::Arc<crate::apps::customs::CustomsRules>,
}

/// Why the application did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AbciStartError {
    /// The ledger did not open.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The metrics cannot be registered.
    #[error(transparent)]
    Metrics(#[from] prometheus::Error),
    /// A thread cannot be spawned.
    #[error(transparent)]
    Thread(std::io::Error),
    /// The ABCI address cannot be bound.
    #[error("cannot listen for CometBFT on {addr}: {reason}")]
    Listen { addr: SocketAddr, reason: String },
    /// No fresh randomness for the (unused) admin token.
    #[error(transparent)]
    Entropy(std::io::Error),
}

impl AbciStartError {
    pub fn code(&self) -> &'static str {
        match self {
            AbciStartError::Ledger(e) => e.code(),
            AbciStartError::Metrics(_) => "metrics",
            AbciStartError::Thread(_) => "thread",
            AbciStartError::Listen { .. } => "listen",
            AbciStartError::Entropy(_) => "entropy",
        }
    }
}

/// Why a network secret file is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    #[error("cannot read the network secret {}: {source} (create one with `openssl rand -hex 72 > FILE` and give every validator the same file)", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the network secret {} is not 144 hex digits (72 bytes)", .path.display())]
    Format { path: PathBuf },
}

/// Reads a network secret: 144 hex digits (surrounding whitespace ignored).
pub fn read_network_secret(path: &std::path::Path) -> Result<[u8; 72], SecretError> {
    let text = std::fs::read_to_string(path).map_err(|source| SecretError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = [0u8; 72];
    hex::decode_to_slice(text.trim(), &mut out).map_err(|_| SecretError::Format {
        path: path.to_path_buf(),
    })?;
    Ok(out)
}

/// A started application.
#[derive(Debug)]
pub struct RunningApp {
    /// The address CometBFT connects to.
    pub addr: String,
    pub handle: NodeHandle,
    ledger: std::thread::JoinHandle<()>,
}

impl RunningApp {
    /// Waits for the ledger thread to stop (after `shutdown` is cancelled):
    /// it writes a snapshot unless a finalized block waits for its commit.
    pub fn wait(self) {
        let _ = self.ledger.join();
    }
}

/// Opens (or creates) the gba ledger and serves ABCI on `config.listen`;
/// the server's threads run until the process exits.
pub fn start(
    config: AbciConfig,
    shutdown: CancellationToken,
    runtime: tokio::runtime::Handle,
) -> Result<RunningApp, AbciStartError> {
    let ledger_config = LedgerConfig {
        chain_id: config.chain_id.clone(),
        family: FamilyName::Gba,
        // The stored blocks' own headers are signed by one devnet key; the
        // network's headers are CometBFT's.
        validators: 1,
        data_dir: config.data_dir.clone(),
        zk_depth: config.zk_depth,
    };
    let mut ledger =
        Ledger::<Gba>::open_external(ledger_config, config.customs.clone(), config.network_secret)?;
    ledger.set_snapshot_policy(config.snapshots);
    ledger.set_event_options(config.events);
    let ledger: Box<dyn LedgerApi> = Box::new(ledger);
    let (jobs, rx) = mpsc::channel::<Job>();
    let (heights_tx, heights) = watch::channel(ledger.height());
    let metrics = crate::metrics::LedgerMetrics::new(config.chain_id.as_str())?;
    metrics.sealed(ledger.height(), Duration::ZERO);
    let token: [u8; 24] = crate::clock::entropy().map_err(AbciStartError::Entropy)?;
    let handle = NodeHandle {
        prover: None,
        jobs,
        heights,
        chain_id: config.chain_id.clone(),
        family: FamilyName::Gba,
        // Admin calls travel as signed transactions here; no HTTP admin.
        admin_token: hex::encode(token),
        metrics: metrics.clone(),
    };
    let stop = shutdown.clone();
    let ledger = std::thread::Builder::new()
        .name(format!("ledger-{}", config.chain_id))
        .spawn(move || run_driven(ledger, rx, stop))
        .map_err(AbciStartError::Thread)?;
    let app = App {
        node: handle.clone(),
        router: crate::rpc::router(handle.clone()),
        runtime,
        heights: Arc::new(heights_tx),
        chain_id: config.chain_id.clone(),
        finalized_at: Arc::new(std::sync::Mutex::new(None)),
    };
    let server = ServerBuilder::default()
        .bind(config.listen, app)
        .map_err(|e| AbciStartError::Listen {
            addr: config.listen,
            reason: e.to_string(),
        })?;
    let addr = server.local_addr();
    std::thread::Builder::new()
        .name("abci".into())
        .spawn(move || {
            if let Err(e) = server.listen() {
                tracing::error!(error = %e, "the ABCI server stopped");
            }
        })
        .map_err(AbciStartError::Thread)?;
    Ok(RunningApp {
        addr,
        handle,
        ledger,
    })
}

/// The ABCI application: a handle to the ledger thread (cloned per connection).
#[derive(Clone)]
struct App {
    node: NodeHandle,
    router: axum::Router,
    runtime: tokio::runtime::Handle,
    heights: Arc<watch::Sender<u64>>,
    chain_id: ChainId,
    /// When the block waiting for its commit was finalized (for the metrics).
    finalized_at: Arc<std::sync::Mutex<Option<Instant>>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("chain_id", &self.chain_id)
            .finish()
    }
}

/// The application cannot go on truthfully: say why and exit (see the module doc).
fn fatal(what: &str, error: &dyn std::fmt::Display) -> ! {
    tracing::error!(%error, "{what}; the application exits");
    eprintln!("error: {what}: {error}; the application exits");
    std::process::exit(70)
}

impl App {
    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn LedgerApi) -> R + Send + 'static,
    ) -> Result<R, CallError> {
        self.runtime.block_on(self.node.call(f))
    }
}

fn tx_result(o: TxOutcome) -> ExecTxResult {
    ExecTxResult {
        codespace: o.codespace().to_string(),
        code: o.code,
        data: o.data.into(),
        log: o.log,
        ..Default::default()
    }
}

fn timestamp(t: Option<tendermint_proto::google::protobuf::Timestamp>) -> Option<Timestamp> {
    let t = t?;
    let secs = u64::try_from(t.seconds).ok()?;
    let nanos = u64::try_from(t.nanos).ok()?;
    Some(Timestamp::from_unix_nanos(
        secs.checked_mul(1_000_000_000)?.checked_add(nanos)?,
    ))
}

fn query_refusal(code: u32, name: &str, message: &str) -> ResponseQuery {
    ResponseQuery {
        code,
        codespace: adapters::abci::CODESPACE.to_string(),
        log: adapters::abci::refusal_log(name, message),
        ..Default::default()
    }
}

impl Application for App {
    fn info(&self, _request: RequestInfo) -> ResponseInfo {
        match self.call(|l| l.abci_info()) {
            Ok((height, app_hash)) => ResponseInfo {
                data: "portrelay gba ledger".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                app_version: 1,
                last_block_height: height as i64,
                last_block_app_hash: app_hash.0.to_vec().into(),
            },
            Err(e) => fatal("Info", &e),
        }
    }

    fn init_chain(&self, request: RequestInitChain) -> ResponseInitChain {
        if request.chain_id != self.chain_id.as_str() {
            fatal(
                "InitChain",
                &format!(
                    "CometBFT's genesis is chain {:?}, this application's data is {}",
                    request.chain_id, self.chain_id
                ),
            );
        }
        match self.call(|l| l.abci_info()) {
            Ok((_, app_hash)) => ResponseInitChain {
                app_hash: app_hash.0.to_vec().into(),
                ..Default::default()
            },
            Err(e) => fatal("InitChain", &e),
        }
    }

    fn query(&self, request: RequestQuery) -> ResponseQuery {
        let path = request.path;
        if !path.starts_with("/v1/")
            || path.starts_with("/v1/headers")
            || path.starts_with("/v1/admin")
        {
            return query_refusal(
                404,
                "not_served",
                &format!(
                    "{path:?} is not a query of this application (headers come from CometBFT's /commit)"
                ),
            );
        }
        // Answers come from the latest committed state: a query for another
        // height is refused by name rather than answered from this one.
        let latest = *self.heights.borrow();
        if request.height != 0 && u64::try_from(request.height).ok() != Some(latest) {
            return query_refusal(
                400,
                "query_height",
                &format!(
                    "this application answers from its latest committed state, height {latest}, not height {}: ask at height 0 (the latest)",
                    request.height
                ),
            );
        }
        let uri = if request.data.is_empty() {
            path.clone()
        } else {
            match std::str::from_utf8(&request.data) {
                Ok(q) => format!("{path}?{q}"),
                Err(_) => {
                    return query_refusal(400, "malformed_request", "data is not a query string")
                }
            }
        };
        let req = match axum::http::Request::get(&uri).body(axum::body::Body::empty()) {
            Ok(r) => r,
            Err(e) => return query_refusal(400, "malformed_request", &e.to_string()),
        };
        let router = self.router.clone();
        let answered = self.runtime.block_on(async move {
            let response = router.oneshot(req).await?;
            let status = response.status().as_u16();
            let body = axum::body::to_bytes(response.into_body(), MAX_QUERY_BYTES).await;
            Ok::<_, std::convert::Infallible>((status, body))
        });
        let (status, body) = match answered {
            Ok(v) => v,
            Err(never) => match never {},
        };
        let body = match body {
            Ok(b) => b,
            Err(e) => return query_refusal(500, "query_body", &e.to_string()),
        };
        let height = *self.heights.borrow() as i64;
        if status == 200 {
            ResponseQuery {
                key: path.into_bytes().into(),
                value: body,
                height,
                ..Default::default()
            }
        } else {
            ResponseQuery {
                code: u32::from(status),
                codespace: adapters::abci::CODESPACE.to_string(),
                log: String::from_utf8_lossy(&body).into_owned(),
                key: path.into_bytes().into(),
                height,
                ..Default::default()
            }
        }
    }

    fn check_tx(&self, request: RequestCheckTx) -> ResponseCheckTx {
        let tx = request.tx.to_vec();
        match self.call(move |l| l.check_tx(&tx)) {
            Ok(o) => ResponseCheckTx {
                codespace: o.codespace().to_string(),
                code: o.code,
                data: o.data.into(),
                log: o.log,
                ..Default::default()
            },
            Err(e) => ResponseCheckTx {
                code: 1,
                codespace: adapters::abci::CODESPACE.to_string(),
                log: adapters::abci::refusal_log(e.code(), &e.to_string()),
                ..Default::default()
            },
        }
    }

    fn finalize_block(&self, request: RequestFinalizeBlock) -> ResponseFinalizeBlock {
        let Ok(height) = u64::try_from(request.height) else {
            fatal("FinalizeBlock", &format!("height {}", request.height))
        };
        let Some(time) = timestamp(request.time) else {
            fatal(
                "FinalizeBlock",
                &format!("block {height} has no valid time"),
            )
        };
        let txs: Vec<Vec<u8>> = request.txs.iter().map(|t| t.to_vec()).collect();
        let started = Instant::now();
        let finalized = match self.call(move |l| l.finalize_block(height, time, &txs)) {
            Ok(Ok(f)) => f,
            Ok(Err(e)) => fatal(&format!("FinalizeBlock {height} ({})", e.code()), &e),
            Err(e) => fatal("FinalizeBlock", &e),
        };
        if let Ok(mut at) = self.finalized_at.lock() {
            *at = Some(started);
        }
        ResponseFinalizeBlock {
            tx_results: finalized.txs.into_iter().map(tx_result).collect(),
            validator_updates: finalized
                .validator_updates
                .into_iter()
                .map(|(key, power)| ValidatorUpdate {
                    pub_key: Some(PublicKey {
                        sum: Some(public_key::Sum::Ed25519(key.0.to_vec())),
                    }),
                    power: i64::try_from(power).unwrap_or(i64::MAX),
                })
                .collect(),
            app_hash: finalized.app_hash.0.to_vec().into(),
            ..Default::default()
        }
    }

    fn commit(&self) -> ResponseCommit {
        let height = match self.call(|l| l.abci_commit()) {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => fatal(&format!("Commit ({})", e.code()), &e),
            Err(e) => fatal("Commit", &e),
        };
        let took = self
            .finalized_at
            .lock()
            .ok()
            .and_then(|mut at| at.take())
            .map(|t| t.elapsed())
            .unwrap_or_default();
        self.node.metrics.sealed(height, took);
        self.heights.send_replace(height);
        ResponseCommit { retain_height: 0 }
    }
}
