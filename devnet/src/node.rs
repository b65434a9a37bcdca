//! The node: a thread that owns the ledger and seals a block every
//! `block_time`, a cheap cloneable handle through which the HTTP handlers
//! reach it (a job and a oneshot reply), and the RPC server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::wire::{
    AccountResponse, BlockEvents, ChannelsResponse, ClientsResponse, HeaderResponse, NodeStatus,
    SubmitEvent, SubmittedEvent, TxResponse,
};
use light_clients::any::{FamilyName, IntoAny};
use light_clients::cmport::Cmport;
use light_clients::cosco::Cosco;
use light_clients::gba::Gba;
use light_clients::host::{RelayerKey, SignedTx};
use light_clients::sample::Signing;
use light_clients::{ChainId, Timestamp};
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::ledger::{ApiError, Ledger, LedgerConfig, SnapshotPolicy, Witness};

/// What the handlers may ask of a ledger of any family.
pub trait LedgerApi: Send {
    fn status(&self) -> NodeStatus;
    fn header(&self, height: u64) -> Result<HeaderResponse, ApiError>;
    fn events(&self, height: u64) -> Result<BlockEvents, ApiError>;
    fn state(&self, height: u64) -> Result<adapters::wire::BlockState, ApiError>;
    fn channels(&self) -> ChannelsResponse;
    fn clients(&self) -> ClientsResponse;
    fn submit_tx(&mut self, tx: &SignedTx) -> Result<TxResponse, ApiError>;
    fn account(&self, key: &RelayerKey) -> Option<AccountResponse>;
    fn packet_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<adapters::wire::PacketLocation, ApiError>;
    fn receipt_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<adapters::wire::ReceiptLocation, ApiError>;
    fn tx(&self, id: &str) -> Option<TxResponse>;
    fn submit_event(&mut self, req: &SubmitEvent) -> Result<SubmittedEvent, ApiError>;
    fn rotate(&mut self, validators: usize) -> Result<u64, ApiError>;
    fn register_platform(&mut self, chain: ChainId, key: RelayerKey);
    /// An app's record: `app` is cargo, payment or ebl; `kind` and `key` pick the record.
    fn app_record(&self, app: &str, kind: &str, key: &str) -> Result<serde_json::Value, ApiError>;
    fn seal(&mut self, now: Timestamp) -> Result<u64, ApiError>;
    fn has_pending(&self) -> bool;
    fn height(&self) -> u64;
    /// Writes a snapshot of the state after the latest sealed block.
    fn snapshot(&mut self) -> Result<(), ApiError>;
    fn set_snapshot_policy(&mut self, policy: SnapshotPolicy);
    /// The witness of a disclosure proof (see [`Ledger::witness`]).
    fn witness(
        &self,
        height: u64,
        packets: &[light_clients::PacketId],
        policy: &light_clients::zk::PathPolicy,
        params: circuits::DisclosureParams,
    ) -> Result<Witness, ApiError>;
    /// How this ledger takes packets of (`source`, `app`).
    fn path_policy(
        &self,
        source: &ChainId,
        app: light_clients::App,
    ) -> adapters::wire::PathPolicyResponse;
}

impl<F: Signing + IntoAny> LedgerApi for Ledger<F> {
    fn status(&self) -> NodeStatus {
        Ledger::status(self)
    }
    fn header(&self, height: u64) -> Result<HeaderResponse, ApiError> {
        Ledger::header(self, height)
    }
    fn events(&self, height: u64) -> Result<BlockEvents, ApiError> {
        Ledger::events(self, height)
    }
    fn state(&self, height: u64) -> Result<adapters::wire::BlockState, ApiError> {
        Ledger::state(self, height)
    }
    fn channels(&self) -> ChannelsResponse {
        Ledger::channels(self)
    }
    fn clients(&self) -> ClientsResponse {
        Ledger::clients(self)
    }
    fn submit_tx(&mut self, tx: &SignedTx) -> Result<TxResponse, ApiError> {
        Ledger::submit_tx(self, tx)
    }
    fn tx(&self, id: &str) -> Option<TxResponse> {
        Ledger::tx(self, id)
    }
    fn account(&self, key: &RelayerKey) -> Option<AccountResponse> {
        Ledger::account(self, key)
    }
    fn packet_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<adapters::wire::PacketLocation, ApiError> {
        Ledger::packet_location(self, id)
    }
    fn receipt_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<adapters::wire::ReceiptLocation, ApiError> {
        Ledger::receipt_location(self, id)
    }
    fn submit_event(&mut self, req: &SubmitEvent) -> Result<SubmittedEvent, ApiError> {
        Ledger::submit_event(self, req)
    }
    fn rotate(&mut self, validators: usize) -> Result<u64, ApiError> {
        Ledger::rotate(self, validators)
    }
    fn register_platform(&mut self, chain: ChainId, key: RelayerKey) {
        Ledger::register_platform(self, chain, key)
    }
    fn app_record(&self, app: &str, kind: &str, key: &str) -> Result<serde_json::Value, ApiError> {
        let apps = self.apps();
        let found = match (app, kind) {
            ("cargo", "containers") => apps.cargo.containers.get(key).map(serde_json::to_value),
            ("cargo", "documents") => apps.cargo.documents.get(key).map(serde_json::to_value),
            ("payment", "letters-of-credit") => apps
                .payment
                .letters_of_credit
                .get(key)
                .map(serde_json::to_value),
            ("payment", "invoices") => apps.payment.invoices.get(key).map(serde_json::to_value),
            ("payment", "settlements") => {
                apps.payment.settlements.get(key).map(serde_json::to_value)
            }
            ("ebl", "bills") => apps.ebl.bills.get(key).map(serde_json::to_value),
            ("ebl", "answers") => Some(serde_json::to_value(&apps.ebl.answers)),
            ("cargo" | "payment" | "ebl", "facts") => apps
                .facts
                .get(key)
                .map(|facts| {
                    facts
                        .iter()
                        .filter(|f| f.packet.channel.app.as_str() == app)
                        .collect::<Vec<_>>()
                })
                .filter(|facts| !facts.is_empty())
                .map(serde_json::to_value),
            _ => {
                return Err(ApiError::not_found(format!(
                    "no app record kind {app}/{kind}"
                )))
            }
        };
        found
            .ok_or_else(|| ApiError::not_found(format!("no {app}/{kind} record {key:?}")))?
            .map_err(|e| ApiError::new(500, "encode", e.to_string()))
    }
    fn seal(&mut self, now: Timestamp) -> Result<u64, ApiError> {
        Ledger::seal(self, now)
    }
    fn has_pending(&self) -> bool {
        Ledger::has_pending(self)
    }
    fn height(&self) -> u64 {
        Ledger::height(self)
    }
    fn snapshot(&mut self) -> Result<(), ApiError> {
        Ledger::snapshot(self)
    }
    fn set_snapshot_policy(&mut self, policy: SnapshotPolicy) {
        Ledger::set_snapshot_policy(self, policy)
    }
    fn witness(
        &self,
        height: u64,
        packets: &[light_clients::PacketId],
        policy: &light_clients::zk::PathPolicy,
        params: circuits::DisclosureParams,
    ) -> Result<Witness, ApiError> {
        Ledger::witness(self, height, packets, policy, params)
    }
    fn path_policy(
        &self,
        source: &ChainId,
        app: light_clients::App,
    ) -> adapters::wire::PathPolicyResponse {
        adapters::wire::PathPolicyResponse {
            version: adapters::wire::WIRE_VERSION,
            source: source.clone(),
            app,
            policy: self.host().path_policy(source, app),
            key_registered: self.host().verifying_key(source, app).is_some(),
        }
    }
}

type Job = Box<dyn FnOnce(&mut dyn LedgerApi) + Send>;

/// A cheap handle to a running ledger.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    jobs: mpsc::Sender<Job>,
    heights: watch::Receiver<u64>,
    pub chain_id: ChainId,
    pub family: FamilyName,
    pub admin_token: String,
    pub metrics: Arc<crate::metrics::LedgerMetrics>,
    /// The disclosure prover, on a node that runs one.
    pub prover: Option<Arc<crate::prover::Prover>>,
}

fn gone() -> ApiError {
    ApiError::new(503, "stopped", "the ledger has stopped")
}

impl NodeHandle {
    /// Runs `f` on the ledger thread and returns its answer.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn LedgerApi) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |ledger| {
                let _ = tx.send(f(ledger));
            }))
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())
    }

    /// The latest sealed height.
    pub fn height(&self) -> u64 {
        *self.heights.borrow()
    }

    /// Waits until a block above `height` is sealed, or `max` passes; returns the latest height.
    pub async fn wait_above(&self, height: u64, max: Duration) -> u64 {
        let mut rx = self.heights.clone();
        let _ = tokio::time::timeout(max, rx.wait_for(|h| *h > height)).await;
        let latest = *rx.borrow();
        latest
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
}

impl NodeOptions {
    pub const DEFAULT: NodeOptions = NodeOptions {
        snapshots: SnapshotPolicy::DEFAULT,
        zk_depth: light_clients::zk::DEFAULT_ZK_DEPTH,
        prover_batch: None,
    };
}

/// A started node.
#[derive(Debug)]
pub struct RunningNode {
    pub addr: SocketAddr,
    pub handle: NodeHandle,
    ledger: std::thread::JoinHandle<()>,
    server: tokio::task::JoinHandle<()>,
}

impl RunningNode {
    /// Waits for the node to stop (after `shutdown` is cancelled): the
    /// server drains, the ledger seals what it holds and closes its store.
    pub async fn wait(self) {
        let _ = self.server.await;
        let _ = tokio::task::spawn_blocking(move || self.ledger.join()).await;
    }
}

/// The current wall-clock time (the node is the one place that reads it).
pub fn now() -> Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Timestamp::from_unix_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Fresh secret bytes for a new ledger's keys and tokens.
pub fn entropy<const N: usize>() -> std::io::Result<[u8; N]> {
    use std::io::Read;
    let mut out = [0u8; N];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut out)?;
    Ok(out)
}

fn admin_token(config: &NodeConfig) -> Result<String, ApiError> {
    let path = config.data_dir.join("admin.token");
    if let Ok(token) = std::fs::read_to_string(&path) {
        return Ok(token.trim().to_string());
    }
    let bytes: [u8; 24] = entropy().map_err(|e| ApiError::new(500, "entropy", e.to_string()))?;
    let token = hex::encode(bytes);
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| ApiError::new(500, "store", e.to_string()))?;
    std::fs::write(&path, &token).map_err(|e| {
        ApiError::new(
            500,
            "store",
            format!("cannot write {}: {e}", path.display()),
        )
    })?;
    Ok(token)
}

/// Opens (or creates) the ledger, starts its thread and the RPC server.
pub async fn start(
    config: NodeConfig,
    shutdown: CancellationToken,
) -> Result<RunningNode, ApiError> {
    start_with(config, NodeOptions::DEFAULT, shutdown).await
}

/// [`start`], with options.
pub async fn start_with(
    config: NodeConfig,
    options: NodeOptions,
    shutdown: CancellationToken,
) -> Result<RunningNode, ApiError> {
    let admin_token = admin_token(&config)?;
    let ledger_config = LedgerConfig {
        chain_id: config.chain_id.clone(),
        family: config.family,
        validators: config.validators,
        data_dir: config.data_dir.clone(),
        zk_depth: options.zk_depth,
    };
    let seed: [u8; 72] = entropy().map_err(|e| ApiError::new(500, "entropy", e.to_string()))?;
    let mut ledger: Box<dyn LedgerApi> = match config.family {
        FamilyName::Cmport => Box::new(Ledger::<Cmport>::open(ledger_config, seed, now())?),
        FamilyName::Cosco => Box::new(Ledger::<Cosco>::open(ledger_config, seed, now())?),
        FamilyName::Gba => Box::new(Ledger::<Gba>::open(ledger_config, seed, now())?),
    };
    ledger.set_snapshot_policy(options.snapshots);
    let (jobs, rx) = mpsc::channel::<Job>();
    let (heights_tx, heights) = watch::channel(ledger.height());
    let metrics = crate::metrics::LedgerMetrics::new(config.chain_id.as_str())
        .map_err(|e| ApiError::new(500, "metrics", e.to_string()))?;
    metrics.sealed(ledger.height(), Duration::ZERO);
    let prover = match options.prover_batch {
        None => None,
        Some(k) => {
            let params =
                circuits::DisclosureParams::new(options.zk_depth, k, adapters::records::WIDTH)
                    .map_err(|e| ApiError::new(400, "prover", e.to_string()))?;
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
    let block_time = config.block_time;
    let stop = shutdown.clone();
    let ledger = std::thread::Builder::new()
        .name(format!("ledger-{}", config.chain_id))
        .spawn(move || run_ledger(ledger, rx, heights_tx, block_time, stop, metrics))
        .map_err(|e| ApiError::new(500, "thread", e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            ApiError::new(
                500,
                "listen",
                format!("cannot listen on {}: {e}", config.listen),
            )
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| ApiError::new(500, "listen", e.to_string()))?;
    let app = crate::rpc::router(handle.clone());
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned());
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "rpc server failed");
        }
    });
    Ok(RunningNode {
        addr,
        handle,
        ledger,
        server,
    })
}

/// The ledger thread: jobs as they come, a seal every `block_time`.
fn run_ledger(
    mut ledger: Box<dyn LedgerApi>,
    jobs: mpsc::Receiver<Job>,
    heights: watch::Sender<u64>,
    block_time: Duration,
    shutdown: CancellationToken,
    metrics: Arc<crate::metrics::LedgerMetrics>,
) {
    let mut next_seal = Instant::now() + block_time;
    loop {
        if shutdown.is_cancelled() {
            if ledger.has_pending() {
                // Nothing accepted is lost: seal what the block holds.
                if let Err(e) = ledger.seal(now()) {
                    tracing::error!(error = e.message, "final seal failed");
                }
                heights.send_replace(ledger.height());
            }
            // A restart then has no blocks to replay.
            if let Err(e) = ledger.snapshot() {
                tracing::error!(error = e.message, "final snapshot failed");
            }
            return;
        }
        let wait = next_seal
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(100));
        match jobs.recv_timeout(wait) {
            Ok(job) => job(ledger.as_mut()),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if Instant::now() >= next_seal {
            let started = Instant::now();
            match ledger.seal(now()) {
                Ok(height) => {
                    metrics.sealed(height, started.elapsed());
                    heights.send_replace(height);
                }
                Err(e) => {
                    // The store refused a block: stop rather than run on with
                    // state that is not on disk.
                    tracing::error!(
                        code = e.code,
                        error = e.message,
                        "sealing failed; the ledger stops"
                    );
                    return;
                }
            }
            next_seal += block_time;
            if next_seal < Instant::now() {
                next_seal = Instant::now() + block_time;
            }
        }
    }
}
