//! `portrelay devnet`: the three port ledgers in-process on free loopback
//! ports, each with clients of the other two, channels on all six directed
//! paths for all three apps, the relay engine between them, and a workload
//! of realistic journeys (cargo events in DCSA T&T 2.2 and 3.0, letters of credit and settlements,
//! bills of lading issued and transferred), then a summary. With `--zk`,
//! COSCO -> CMPort payments travel in `groth16` mode: COSCO's node runs a
//! disclosure prover (keys from the seeded devnet setup: unsafe for
//! production) and CMPort receives settlement facts, not settlements.

use crate::cmd::err;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::chain::{AdapterConfig, ChainAdapter, ChainConfig, RpcPolicy};
use adapters::registry;
use adapters::wire::{SubmitEvent, WIRE_VERSION};
use devnet::node::{self, NodeConfig, RunningNode};
use light_clients::any::{AnyHeader, FamilyName};
use light_clients::host::RelayerKey;
use light_clients::{App, ChainId, Fraction, TrustOptions};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use relayer::relay::coordinator::{Coordinator, Embedded};
use relayer::relay::engine::{all_channels, Chain, Engine, EngineOptions, Paths};
use relayer::relay::stats::Summary;

/// How to run the devnet.
#[derive(Debug, Clone)]
pub struct DevnetOptions {
    /// Where the ledgers and the relayer keep their data (a fresh temporary directory if none).
    pub data_dir: Option<PathBuf>,
    /// Stop once this many packets are delivered and acknowledged; none: run until Ctrl-C.
    pub packets: Option<u64>,
    pub block_time: Duration,
    pub validators: usize,
    pub batch_max: usize,
    /// Where the relayer's API (status page, metrics) listens; none: a free loopback port.
    pub api_listen: Option<std::net::SocketAddr>,
    /// Where the first ledger listens, the others on the next ports; none: free loopback ports.
    pub ledgers_listen: Option<std::net::SocketAddr>,
    /// Confidential paths; none: every path in `merkle` mode.
    pub zk: Option<ZkDevnet>,
}

/// The devnet's confidential paths and the shape of their proofs.
#[derive(Debug, Clone)]
pub struct ZkDevnet {
    /// Depth of every ledger's `zk_root` tree.
    pub depth: u32,
    /// K: packets per proof on the sources' provers.
    pub batch: usize,
    pub paths: Vec<crate::cmd::operator::ConfidentialPath>,
}

impl ZkDevnet {
    /// COSCO -> CMPort payments in `groth16` mode, settlements proven "at
    /// least `min_amount` minor units" with status and bill of lading disclosed.
    pub fn payments(depth: u32, batch: usize, min_amount: u64) -> anyhow::Result<Self> {
        Ok(ZkDevnet {
            depth,
            batch,
            paths: vec![crate::cmd::operator::ConfidentialPath {
                source: ChainId::new("cosco-1").map_err(err("chain id"))?,
                destination: ChainId::new("cmport-1").map_err(err("chain id"))?,
                app: App::Payment,
                policy: crate::cmd::operator::settlement_policy(min_amount),
            }],
        })
    }

    /// The node options of ledger `chain`: a prover when it is the source of a path.
    fn node_options(&self, chain: &ChainId) -> node::NodeOptions {
        node::NodeOptions {
            zk_depth: self.depth,
            prover_batch: self
                .paths
                .iter()
                .any(|p| &p.source == chain)
                .then_some(self.batch),
            ..node::NodeOptions::DEFAULT
        }
    }
}

/// The devnet's networks: one ledger of each family, `<family>-1`.
pub fn networks() -> Vec<(String, FamilyName)> {
    FamilyName::ALL
        .into_iter()
        .map(|f| (format!("{f}-1"), f))
        .collect()
}

/// A running ledger of the devnet.
#[derive(Debug)]
pub struct DevLedger {
    pub chain_id: ChainId,
    pub family: FamilyName,
    pub dir: PathBuf,
    pub node: RunningNode,
    pub adapter: Arc<dyn ChainAdapter>,
}

/// The devnet's trust options with another trusting period (`"14d"`, `"9s"`);
/// 14 days when it does not parse.
pub fn trust_options(trusting_period: &str) -> TrustOptions {
    TrustOptions {
        trusting_period: humantime::parse_duration(trusting_period)
            .unwrap_or(Duration::from_secs(14 * 24 * 3600)),
        ..trust()
    }
}

pub(crate) fn trust() -> TrustOptions {
    TrustOptions {
        trusting_period: Duration::from_secs(14 * 24 * 3600),
        clock_drift: Duration::from_secs(10),
        trust_threshold: Fraction::ONE_THIRD,
    }
}

/// Starts the three ledgers in `dir`.
pub async fn start_ledgers(
    dir: &Path,
    opts: &DevnetOptions,
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<DevLedger>> {
    start_ledgers_but(dir, opts, shutdown, None).await
}

/// [`start_ledgers`], all but the ledger of `skip` (which runs elsewhere).
pub async fn start_ledgers_but(
    dir: &Path,
    opts: &DevnetOptions,
    shutdown: &CancellationToken,
    skip: Option<FamilyName>,
) -> anyhow::Result<Vec<DevLedger>> {
    let mut out = Vec::new();
    for (i, (id, family)) in networks().into_iter().enumerate() {
        if Some(family) == skip {
            continue;
        }
        let chain_id = ChainId::new(id.as_str()).map_err(err("chain id"))?;
        let listen = match opts.ledgers_listen {
            Some(first) => {
                let port = first
                    .port()
                    .checked_add(u16::try_from(i).map_err(err("listen"))?)
                    .ok_or_else(|| {
                        anyhow::anyhow!("--ledgers-listen: the port is too high for three ledgers")
                    })?;
                std::net::SocketAddr::new(first.ip(), port)
            }
            None => "127.0.0.1:0".parse().map_err(err("listen"))?,
        };
        out.push(start_ledger(&dir.join(&id), chain_id, family, opts, listen, shutdown).await?);
    }
    Ok(out)
}

/// Starts one ledger with its data in `data_dir` (resuming what is there),
/// listening on `listen` (port 0: a free one).
pub async fn start_ledger(
    data_dir: &Path,
    chain_id: ChainId,
    family: FamilyName,
    opts: &DevnetOptions,
    listen: std::net::SocketAddr,
    shutdown: &CancellationToken,
) -> anyhow::Result<DevLedger> {
    let config = NodeConfig {
        chain_id: chain_id.clone(),
        family,
        validators: opts.validators,
        data_dir: data_dir.to_path_buf(),
        block_time: opts.block_time,
        listen,
    };
    let options = match &opts.zk {
        Some(zk) => zk.node_options(&chain_id),
        None => node::NodeOptions::DEFAULT,
    };
    let rules = crate::cmd::devnet_customs::rules_for(&chain_id);
    let node = node::start_with_customs(config, options, rules, shutdown.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{chain_id}: {e}"))?;
    let endpoint = format!("http://{}", node.addr);
    let chain = ChainConfig {
        chain_id: chain_id.clone(),
        endpoints: vec![endpoint],
        apps: App::ALL.to_vec(),
        trust_root: None,
        rpc: RpcPolicy::DEVNET,
        engine: adapters::chain::Engine::Embedded,
    };
    let adapter = registry::build(&AdapterConfig::new(family, chain), None)
        .map_err(err(chain_id.as_str()))?;
    Ok(DevLedger {
        chain_id,
        family,
        dir: data_dir.to_path_buf(),
        node,
        adapter,
    })
}

/// The relayer's transaction key, kept in `dir/relayer.key`.
pub fn relayer_key(dir: &Path) -> anyhow::Result<ed25519_consensus::SigningKey> {
    let path = dir.join("relayer.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut seed).map_err(err("relayer.key"))?;
        return Ok(ed25519_consensus::SigningKey::from(seed));
    }
    let seed: [u8; 32] = node::entropy().map_err(err("entropy"))?;
    std::fs::write(&path, hex::encode(seed)).map_err(err("relayer.key"))?;
    Ok(ed25519_consensus::SigningKey::from(seed))
}

/// Each ledger's operator: clients of the others, the relayer's key, every channel, eBL platform keys.
/// Returns the header each ledger's clients were created from, by chain.
pub async fn connect(
    ledgers: &[DevLedger],
    relayer: &RelayerKey,
) -> anyhow::Result<BTreeMap<ChainId, (u64, AnyHeader)>> {
    connect_with(ledgers, relayer, trust()).await
}

/// [`connect`], with the clients' trust options.
pub async fn connect_with(
    ledgers: &[DevLedger],
    relayer: &RelayerKey,
    options: TrustOptions,
) -> anyhow::Result<BTreeMap<ChainId, (u64, AnyHeader)>> {
    connect_confidential(ledgers, relayer, options, &[]).await
}

/// [`connect_with`], with confidential paths (see `operator::setup_with`).
pub async fn connect_confidential(
    ledgers: &[DevLedger],
    relayer: &RelayerKey,
    options: TrustOptions,
    confidential: &[crate::cmd::operator::ConfidentialPath],
) -> anyhow::Result<BTreeMap<ChainId, (u64, AnyHeader)>> {
    let chains = ledgers
        .iter()
        .map(DevLedger::chain)
        .collect::<anyhow::Result<Vec<_>>>()?;
    connect_chains(&chains, relayer, options, confidential).await
}

/// [`connect_confidential`] over the devnet's chains, whatever runs them.
pub async fn connect_chains(
    chains: &[DevChain],
    relayer: &RelayerKey,
    options: TrustOptions,
    confidential: &[crate::cmd::operator::ConfidentialPath],
) -> anyhow::Result<BTreeMap<ChainId, (u64, AnyHeader)>> {
    let operated: Vec<_> = chains
        .iter()
        .map(|l| crate::cmd::operator::Operated {
            chain_id: l.chain_id.clone(),
            adapter: l.adapter.clone(),
            operator: l.operator.clone(),
            relayer: *relayer,
            apps: App::ALL.to_vec(),
        })
        .collect();
    let headers =
        crate::cmd::operator::setup_with(&operated, options, &Paths::default(), confidential)
            .await?;
    // eBL platforms: each ledger knows the others' envelope keys.
    for l in chains {
        for other in chains.iter().filter(|o| o.chain_id != l.chain_id) {
            let key = other
                .adapter
                .status()
                .await
                .map_err(err("status"))?
                .ebl_platform;
            l.register_platform(other.chain_id.clone(), key).await?;
        }
    }
    Ok(headers)
}

/// Which engine runs the devnet's gba ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GbaEngine {
    /// portrelay's own ledger in this process (no Go needed).
    #[default]
    Embedded,
    /// Four CometBFT validators, each over a `portledger --engine cometbft`
    /// application (`comet_net`), followed through CometBFT's RPC.
    Cometbft,
}

/// A chain of the devnet as its operator and the relayer reach it,
/// whatever runs it (an in-process ledger, a CometBFT network).
#[derive(Debug, Clone)]
pub struct DevChain {
    pub chain_id: ChainId,
    pub family: FamilyName,
    pub engine: adapters::chain::Engine,
    pub endpoints: Vec<String>,
    pub adapter: Arc<dyn ChainAdapter>,
    /// The ledger operator's key.
    pub operator: ed25519_consensus::SigningKey,
    admin: Admin,
}

/// How the operator's admin calls reach a ledger.
#[derive(Debug, Clone)]
enum Admin {
    /// In process, on the ledger's thread.
    Handle(devnet::handle::NodeHandle),
    /// As admin transactions (`AbciTx::Admin`) through CometBFT.
    Comet(adapters::comet::CometAdapter),
}

impl DevLedger {
    /// This ledger as a [`DevChain`].
    pub fn chain(&self) -> anyhow::Result<DevChain> {
        Ok(DevChain {
            chain_id: self.chain_id.clone(),
            family: self.family,
            engine: adapters::chain::Engine::Embedded,
            endpoints: vec![format!("http://{}", self.node.addr)],
            adapter: self.adapter.clone(),
            operator: devnet::ledger::operator_key(&self.dir)
                .map_err(|e| anyhow::anyhow!("{}: {e}", self.chain_id))?,
            admin: Admin::Handle(self.node.handle.clone()),
        })
    }
}

/// The configuration of a chain served at `endpoints` by `engine`.
fn chain_config(
    chain_id: &ChainId,
    endpoints: Vec<String>,
    engine: adapters::chain::Engine,
) -> ChainConfig {
    ChainConfig {
        chain_id: chain_id.clone(),
        endpoints,
        apps: App::ALL.to_vec(),
        trust_root: None,
        rpc: RpcPolicy::DEVNET,
        engine,
    }
}

/// A gba network on CometBFT as a [`DevChain`]: its adapter over every
/// validator's RPC, admin calls as transactions signed by the operator key.
pub fn comet_chain(net: &crate::cmd::comet_net::CometNetwork) -> anyhow::Result<DevChain> {
    let config = AdapterConfig::new(
        FamilyName::Gba,
        chain_config(
            &net.chain_id,
            net.rpc_endpoints(),
            adapters::chain::Engine::Cometbft,
        ),
    );
    let comet =
        adapters::comet::CometAdapter::new(&config, None).map_err(err(net.chain_id.as_str()))?;
    Ok(DevChain {
        chain_id: net.chain_id.clone(),
        family: FamilyName::Gba,
        engine: adapters::chain::Engine::Cometbft,
        endpoints: net.rpc_endpoints(),
        adapter: Arc::new(comet.clone()),
        operator: net.operator_key()?,
        admin: Admin::Comet(comet),
    })
}

/// Every chain of the devnet, in its order, whatever runs it: the
/// in-process `ledgers` and the CometBFT network `comet`.
pub fn chains_of(
    ledgers: &[DevLedger],
    comet: Option<&crate::cmd::comet_net::CometNetwork>,
) -> anyhow::Result<Vec<DevChain>> {
    let mut chains = Vec::new();
    for (id, _) in networks() {
        match (ledgers.iter().find(|l| l.chain_id.as_str() == id), comet) {
            (Some(l), _) => chains.push(l.chain()?),
            (None, Some(net)) if net.chain_id.as_str() == id => chains.push(comet_chain(net)?),
            (None, _) => {}
        }
    }
    Ok(chains)
}

impl DevChain {
    /// The chain id and adapter, as the workload and the checks take them.
    pub fn source(&self) -> (ChainId, Arc<dyn ChainAdapter>) {
        (self.chain_id.clone(), self.adapter.clone())
    }

    /// Registers `chain`'s eBL platform key on this ledger: on its thread,
    /// or as the operator's `ebl_platform` admin transaction, at the
    /// application's next admin nonce (read back from a refusal naming it).
    pub async fn register_platform(&self, chain: ChainId, key: RelayerKey) -> anyhow::Result<()> {
        match &self.admin {
            Admin::Handle(handle) => handle
                .call(move |ledger| ledger.register_platform(chain, key))
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", self.chain_id)),
            Admin::Comet(comet) => {
                crate::cmd::operator::register_platform_by_admin_tx(
                    comet,
                    &self.operator,
                    chain,
                    key,
                )
                .await
            }
        }
    }
}

/// The example events the workload is built from.
pub(crate) struct Templates {
    cargo: Vec<Value>,
    payment: Vec<Value>,
    ebl: Vec<Value>,
}

pub(crate) fn templates() -> anyhow::Result<Templates> {
    let mut cargo: Vec<Value> =
        serde_json::from_str(include_str!("../../docs/examples/events/journey.json"))
            .map_err(err("journey"))?;
    // DCSA's own conformance events beside the journey: one T&T 2.2 TRANSPORT
    // event and the five T&T 3.0 classes. 7 + 1 + 5 = 13 templates, a number
    // prime to the three apps the channels cycle through, so a workload of 39
    // packets or more uses every template.
    let v22: Vec<Value> = serde_json::from_str(include_str!(
        "../../docs/examples/events/dcsa/tnt22-conformance.json"
    ))
    .map_err(err("tnt22"))?;
    cargo.extend(v22.into_iter().take(1));
    let feed: Value = serde_json::from_str(include_str!(
        "../../docs/examples/events/dcsa/tnt30-conformance.json"
    ))
    .map_err(err("tnt30"))?;
    cargo.extend(feed["events"].as_array().into_iter().flatten().cloned());
    let payment = include_str!("../../docs/examples/events/payments.ndjson")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<Vec<Value>, _>>()
        .map_err(err("payments"))?;
    let ebl: Vec<Value> = serde_json::from_str(include_str!("../../docs/examples/events/ebl.json"))
        .map_err(err("ebl"))?;
    Ok(Templates {
        cargo,
        payment,
        ebl,
    })
}

/// A fresh UUID v4 in lowercase, from a counter and a run seed.
pub(crate) fn uuid(seed: u64, n: u64) -> String {
    let h = light_clients::hash::sha256(&[&seed.to_le_bytes(), &n.to_le_bytes()]).0;
    format!(
        "{}-{}-4{}-{}{}-{}",
        hex::encode(&h[0..4]),
        hex::encode(&h[4..6]),
        &hex::encode(&h[6..8])[1..],
        ["8", "9", "a", "b"][usize::from(h[8] % 4)],
        &hex::encode(&h[8..10])[1..],
        hex::encode(&h[10..16])
    )
}

/// The `n`th event of the workload, its app, and (for eBL) the local ISSUE that must come first.
pub(crate) fn workload_event(t: &Templates, seed: u64, n: u64, app: App) -> (Option<Value>, Value) {
    let k = n as usize;
    match app {
        App::Cargo => {
            let mut e = t.cargo[k % t.cargo.len()].clone();
            e["eventID"] = Value::String(uuid(seed, 2 * n));
            (None, e)
        }
        App::Payment => {
            let mut e = t.payment[k % t.payment.len()].clone();
            e["eventID"] = Value::String(uuid(seed, 2 * n));
            if e["eventType"] == "PAYMENT_SETTLEMENT" {
                e["endToEndId"] = Value::String(format!("E2E-{seed:x}-{n}"));
                e["uetr"] = Value::String(uuid(seed ^ 0x5555, n));
            }
            (None, e)
        }
        App::Ebl => {
            let reference = format!("PRL{:x}{n:07}", seed % 0xfff);
            let mut issue = t.ebl[0].clone();
            issue["eventID"] = Value::String(uuid(seed, 2 * n));
            issue["transportDocumentReference"] = Value::String(reference.clone());
            let mut transfer = t.ebl[1].clone();
            transfer["eventID"] = Value::String(uuid(seed, 2 * n + 1));
            transfer["transportDocumentReference"] = Value::String(reference);
            (Some(issue), transfer)
        }
    }
}

/// Submits `count` events spread over every path and app, each packet
/// receivable up to `timeout_secs` after its block; returns how many became packets.
pub async fn run_workload(
    ledgers: &[DevLedger],
    count: u64,
    seed: u64,
    first: u64,
    timeout_secs: u64,
) -> anyhow::Result<u64> {
    let sources: Vec<_> = ledgers
        .iter()
        .map(|l| (l.chain_id.clone(), l.adapter.clone()))
        .collect();
    send_workload(workload(&sources, count, seed, first, timeout_secs)?).await
}

/// A workload's events, by source ledger, in the order they are to execute.
type Workload = BTreeMap<ChainId, (Arc<dyn ChainAdapter>, Vec<SubmitEvent>)>;

/// The events of [`run_workload`], by source (an eBL issue before its transfer).
fn workload(
    ledgers: &[(ChainId, Arc<dyn ChainAdapter>)],
    count: u64,
    seed: u64,
    first: u64,
    timeout_secs: u64,
) -> anyhow::Result<Workload> {
    let t = templates()?;
    let chains: Vec<ChainId> = ledgers.iter().map(|l| l.0.clone()).collect();
    let channels = all_channels(&chains, &App::ALL);
    let mut by_source = Workload::new();
    for n in first..first + count {
        let channel = &channels[(n as usize) % channels.len()];
        let Some((source, adapter)) = ledgers.iter().find(|l| l.0 == channel.source) else {
            continue;
        };
        let (before, event) = workload_event(&t, seed, n, channel.app);
        let list = &mut by_source
            .entry(source.clone())
            .or_insert_with(|| (adapter.clone(), Vec::new()))
            .1;
        if let Some(issue) = before {
            list.push(SubmitEvent {
                version: WIRE_VERSION,
                destination: source.clone(),
                event: issue,
                timeout_secs: None,
            });
        }
        list.push(SubmitEvent {
            version: WIRE_VERSION,
            destination: channel.destination.clone(),
            event,
            timeout_secs: Some(timeout_secs),
        });
    }
    Ok(by_source)
}

/// Sends a workload: a ledger answers an event once its block is sealed, so
/// each source's events go in batches and the sources side by side (a block
/// time per batch, not per event); returns how many became packets.
async fn send_workload(by_source: Workload) -> anyhow::Result<u64> {
    let mut tasks = tokio::task::JoinSet::new();
    for (chain, (adapter, list)) in by_source {
        tasks.spawn(async move {
            let mut sent = 0u64;
            for chunk in list.chunks(adapters::wire::MAX_EVENT_BATCH) {
                let answer = adapter.submit_events(chunk).await.map_err(err("events"))?;
                for (req, item) in chunk.iter().zip(answer.results) {
                    match item {
                        adapters::wire::SubmittedItem::Submitted(_) => {
                            sent += u64::from(req.destination != chain)
                        }
                        adapters::wire::SubmittedItem::Refused(r) => {
                            return Err(anyhow::anyhow!(
                                "{chain}: event refused: {} {}",
                                r.code,
                                r.message
                            ))
                        }
                    }
                }
            }
            Ok::<u64, anyhow::Error>(sent)
        });
    }
    let mut sent = 0;
    while let Some(r) = tasks.join_next().await {
        sent += r.map_err(err("workload task"))??;
    }
    Ok(sent)
}

/// Workload rounds `portrelay devnet` keeps in flight: a round is answered
/// once its blocks are sealed, so the next one is sent meanwhile instead of
/// the feed pausing a block time per round.
const ROUNDS_IN_FLIGHT: usize = 4;

/// What the ledgers themselves say of every channel after a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledgers {
    pub channels: usize,
    /// Packets the sources sent, the destinations received, and the sources saw acknowledged.
    pub sent: u64,
    pub received: u64,
    pub acked: u64,
    /// Channels whose ends disagree, described.
    pub mismatches: Vec<String>,
}

/// Reads both ends of every channel: on an ordered channel, exactly once and
/// in order means the destination's `next_recv` equals the source's
/// `next_send` (no gap, no duplicate) and every ack came back.
pub async fn check_ledgers(ledgers: &[DevLedger]) -> anyhow::Result<Ledgers> {
    let chains: Vec<(ChainId, Arc<dyn ChainAdapter>)> = ledgers
        .iter()
        .map(|l| (l.chain_id.clone(), l.adapter.clone()))
        .collect();
    check_chains(&chains).await
}

/// [`check_ledgers`] over any ledgers' adapters (processes, remote nodes).
pub async fn check_chains(ledgers: &[(ChainId, Arc<dyn ChainAdapter>)]) -> anyhow::Result<Ledgers> {
    let mut ends = BTreeMap::new();
    for (chain_id, adapter) in ledgers {
        for c in adapter.channels().await.map_err(err("channels"))? {
            ends.insert((chain_id.clone(), c.id.clone()), c);
        }
    }
    let mut out = Ledgers::default();
    let chains: Vec<ChainId> = ledgers.iter().map(|(c, _)| c.clone()).collect();
    for channel in all_channels(&chains, &App::ALL) {
        let (Some(src), Some(dst)) = (
            ends.get(&(channel.source.clone(), channel.clone())),
            ends.get(&(channel.destination.clone(), channel.clone())),
        ) else {
            out.mismatches.push(format!("{channel}: an end is missing"));
            continue;
        };
        out.channels += 1;
        let (sent, received, acked) = (src.next_send - 1, dst.next_recv - 1, src.next_ack - 1);
        out.sent += sent;
        out.received += received;
        out.acked += acked;
        if sent != received || acked != sent {
            out.mismatches.push(format!(
                "{channel}: sent {sent}, received {received}, acked {acked}"
            ));
        }
    }
    Ok(out)
}

/// The relay engine over the devnet's ledgers, in this process, with its
/// coordinator's file in `dir` and every path served.
pub(crate) fn in_process_engine(
    dir: &Path,
    ledgers: &[DevLedger],
    key: &ed25519_consensus::SigningKey,
    roots: &BTreeMap<ChainId, (u64, AnyHeader)>,
    batch_max: usize,
    clear_interval: Duration,
) -> anyhow::Result<Arc<Engine>> {
    let chains = ledgers
        .iter()
        .map(DevLedger::chain)
        .collect::<anyhow::Result<Vec<_>>>()?;
    engine_over(dir, &chains, key, roots, batch_max, clear_interval)
}

/// [`in_process_engine`] over the devnet's chains, whatever runs them: a
/// CometBFT chain's adapter speaks CometBFT's RPC (`engine = "cometbft"`)
/// over all its validators' endpoints, failing over from the first.
pub(crate) fn engine_over(
    dir: &Path,
    ledgers: &[DevChain],
    key: &ed25519_consensus::SigningKey,
    roots: &BTreeMap<ChainId, (u64, AnyHeader)>,
    batch_max: usize,
    clear_interval: Duration,
) -> anyhow::Result<Arc<Engine>> {
    let coordinator: Arc<dyn Coordinator> =
        Arc::new(Embedded::open(&dir.join("relayer.redb")).map_err(err("relayer store"))?);
    let metrics = relayer::metrics::Metrics::new().map_err(err("metrics"))?;
    let mut chains = BTreeMap::new();
    for l in ledgers {
        // The engine's own adapters report every request to the metrics.
        let config = chain_config(&l.chain_id, l.endpoints.clone(), l.engine);
        let adapter = registry::build(&AdapterConfig::new(l.family, config), Some(metrics.clone()))
            .map_err(err(l.chain_id.as_str()))?;
        let mut chain = Chain::single(
            adapter,
            key.clone(),
            l.endpoints.first().cloned().unwrap_or_default(),
            roots.get(&l.chain_id).cloned(),
        );
        chain.endpoints = l.endpoints.clone();
        chains.insert(l.chain_id.clone(), chain);
    }
    let options = EngineOptions {
        trust: trust(),
        batch_max,
        max_attempts: 5,
        backoff: Duration::from_millis(100),
        clear_interval,
    };
    Ok(Engine::new(
        chains,
        coordinator,
        options,
        Paths::default(),
        metrics,
    ))
}

/// Serves the relayer's API on a free loopback port, with a fresh token
/// written to `dir/api.token`; returns the address and the token's file.
async fn start_api(
    dir: &Path,
    engine: &Arc<Engine>,
    configured: Vec<ChainId>,
    api_listen: Option<std::net::SocketAddr>,
    stop: CancellationToken,
) -> anyhow::Result<(std::net::SocketAddr, PathBuf)> {
    let token = hex::encode(node::entropy::<16>().map_err(err("entropy"))?);
    let token_file = dir.join("api.token");
    std::fs::write(&token_file, &token).map_err(err("api.token"))?;
    let listen = match api_listen {
        Some(a) => a,
        None => "127.0.0.1:0".parse().map_err(err("listen"))?,
    };
    let listener = relayer::api::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let addr = listener.local_addr().map_err(err("api"))?;
    let state = relayer::api::ApiState {
        engine: engine.clone(),
        token: Some(Arc::from(token.as_str())),
        configured: Arc::new(configured.into_iter().collect()),
        build: relayer::daemon::chain_builder(engine.clone()),
    };
    tokio::spawn(async move {
        if let Err(e) =
            relayer::api::serve(listener, state, relayer::api::SERVER_LIMITS, stop).await
        {
            tracing::error!(error = %e, "api");
        }
    });
    Ok((addr, token_file))
}

/// Runs the devnet without the customs workload; returns the summary when
/// done (after `packets`, or on shutdown).
pub async fn run(
    opts: DevnetOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<(Summary, Ledgers)> {
    run_with(opts, None, shutdown)
        .await
        .map(|(summary, ledgers, _)| (summary, ledgers))
}

/// [`run`], with the customs workload (`devnet_customs`) beside the main one
/// when `customs` is given: with `packets`, the run stops once the main
/// workload is acknowledged and `customs.at_least` declarations are
/// honoured, then waits for the customs packets' acks too.
pub async fn run_with(
    opts: DevnetOptions,
    customs: Option<crate::cmd::devnet_customs::CustomsOptions>,
    shutdown: CancellationToken,
) -> anyhow::Result<(
    Summary,
    Ledgers,
    Option<crate::cmd::devnet_customs::CustomsReport>,
)> {
    run_on(opts, customs, GbaLedger::Embedded, shutdown).await
}

/// How the devnet runs its gba ledger.
#[derive(Debug, Clone)]
pub enum GbaLedger {
    /// In this process, as the other two.
    Embedded,
    /// A CometBFT network of this many validators, blocks `timeout_commit` apart.
    Cometbft {
        validators: usize,
        timeout_commit: Duration,
    },
}

/// The data directory of gba-1's CometBFT network in a devnet's directory.
pub const COMET_DIR: &str = "gba-1-cometbft";

/// Starts gba-1 as a CometBFT network in `dir/gba-1-cometbft` and prints its endpoints.
pub async fn start_comet_gba(
    dir: &Path,
    validators: usize,
    timeout_commit: Duration,
) -> anyhow::Result<crate::cmd::comet_net::CometNetwork> {
    let net = crate::cmd::comet_net::CometNetwork::start(&crate::cmd::comet_net::CometNetOptions {
        dir: dir.join(COMET_DIR),
        chain_id: ChainId::new("gba-1").map_err(err("chain id"))?,
        validators,
        timeout_commit,
    })
    .await?;
    println!(
        "{:<9} ({:<6}) cometbft {} validators, rpc {}  data {}",
        net.chain_id,
        "gba",
        net.validators.len(),
        net.rpc_endpoints().join(" "),
        net.dir.display()
    );
    Ok(net)
}

/// [`run_with`], with gba-1 run by `gba`. On CometBFT `--zk` is refused
/// (the application does not serve disclosures over ABCI Query yet).
pub async fn run_on(
    opts: DevnetOptions,
    customs: Option<crate::cmd::devnet_customs::CustomsOptions>,
    gba: GbaLedger,
    shutdown: CancellationToken,
) -> anyhow::Result<(
    Summary,
    Ledgers,
    Option<crate::cmd::devnet_customs::CustomsReport>,
)> {
    if matches!(gba, GbaLedger::Cometbft { .. }) && opts.zk.is_some() {
        return Err(anyhow::anyhow!(
            "--zk with --gba-engine cometbft: confidential paths need the prover's disclosures, \
             which the CometBFT application does not serve over ABCI Query yet"
        ));
    }
    let dir = match &opts.data_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!(
            "portrelay-devnet-{}-{}",
            std::process::id(),
            relayer::relay::engine::now().unix_nanos()
        )),
    };
    std::fs::create_dir_all(&dir).map_err(err("data dir"))?;
    let nodes_stop = CancellationToken::new();
    let mut comet = match gba {
        GbaLedger::Embedded => None,
        GbaLedger::Cometbft {
            validators,
            timeout_commit,
        } => Some(start_comet_gba(&dir, validators, timeout_commit).await?),
    };
    let skip = comet.as_ref().map(|_| FamilyName::Gba);
    let ledgers = start_ledgers_but(&dir, &opts, &nodes_stop, skip).await?;
    for l in &ledgers {
        println!(
            "{:<9} ({:<6}) http://{}  data {}",
            l.chain_id,
            l.family.as_str(),
            l.node.addr,
            l.dir.display()
        );
    }
    let chains = chains_of(&ledgers, comet.as_ref())?;
    let sources: Vec<_> = chains.iter().map(DevChain::source).collect();
    let key = relayer_key(&dir)?;
    let relayer = RelayerKey(key.verification_key().to_bytes());
    let confidential = opts
        .zk
        .as_ref()
        .map(|z| z.paths.clone())
        .unwrap_or_default();
    let roots = connect_chains(&chains, &relayer, trust(), &confidential).await?;
    for p in &confidential {
        println!(
            "zk        {} -> {} {} in groth16 mode ({}; devnet-unsafe seeded keys)",
            p.source,
            p.destination,
            p.app,
            serde_json::to_string(&p.policy).unwrap_or_default()
        );
    }
    let engine = engine_over(
        &dir,
        &chains,
        &key,
        &roots,
        opts.batch_max,
        Duration::from_secs(5),
    )?;
    let engine_stop = CancellationToken::new();
    let engine_task = tokio::spawn(engine.clone().run(engine_stop.clone()));
    let (api_addr, token_file) = start_api(
        &dir,
        &engine,
        chains.iter().map(|c| c.chain_id.clone()).collect(),
        opts.api_listen,
        engine_stop.clone(),
    )
    .await?;
    println!(
        "relayer   status page http://{api_addr}/  metrics http://{api_addr}/metrics\n          API http://{api_addr}/v1  (token in {}; try: portrelay status --api http://{api_addr})",
        token_file.display()
    );

    let started = Instant::now();
    let seed = relayer::relay::engine::now().unix_nanos();
    let target = opts.packets;
    // Packets the ledgers answered, and workload events handed to rounds.
    let mut submitted = 0u64;
    let mut scheduled = 0u64;
    let mut rounds = tokio::task::JoinSet::new();
    let mut last_print = Instant::now();
    let at_least = customs.as_ref().map_or(0, |c| c.at_least);
    // Declarations at gba-1 (through its adapter, on CometBFT too), honoured at cmport-1.
    let mut customs_task = customs.and_then(|c| {
        crate::cmd::devnet_customs::Ports::of_chains(&chains, &ledgers)
            .map(|ports| crate::cmd::devnet_customs::CustomsTask::spawn_on(ports, c, seed))
    });
    let mut customs_report = None;
    // Packets of the customs workload, final once its task has stopped.
    let mut customs_packets = 0u64;
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        while let Some(r) = rounds.try_join_next() {
            submitted += r.map_err(err("workload round"))??;
        }
        let want = target
            .map(|t| t.saturating_sub(scheduled))
            .unwrap_or(18)
            .min(18 * 4);
        if want > 0 && rounds.len() < ROUNDS_IN_FLIGHT {
            let round = workload(&sources, want, seed, scheduled, 600)?;
            rounds.spawn(send_workload(round));
            scheduled += want;
        }
        let s = engine.metrics.summary();
        if last_print.elapsed() >= Duration::from_secs(1) {
            println!(
                "  submitted {submitted:>6}  delivered {:>6}  acked {:>6}  ({:.0?})",
                s.delivered(),
                s.acked(),
                started.elapsed()
            );
            last_print = Instant::now();
        }
        // Everything submitted: only waiting for acks, so look more often.
        let all_submitted = target.is_some_and(|t| submitted >= t) && rounds.is_empty();
        if all_submitted
            && customs_task
                .as_ref()
                .is_some_and(|c| c.honoured() >= at_least)
        {
            if let Some(task) = customs_task.take() {
                let report = task.finish().await?;
                customs_packets = report.packets;
                customs_report = Some(report);
            }
        }
        if customs_task.is_none() && target.is_some_and(|t| s.acked() >= t + customs_packets) {
            break;
        }
        let pause = if all_submitted {
            Duration::from_millis(50)
        } else {
            opts.block_time
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
    // Interrupted: rounds still waiting for their answers are dropped.
    rounds.abort_all();
    if let Some(task) = customs_task.take() {
        customs_report = Some(task.finish().await?);
    }
    let elapsed = started.elapsed();
    engine_stop.cancel();
    let _ = engine_task.await;
    // gba-1 on CometBFT is read through ABCI queries.
    let checked = check_chains(&sources).await?;
    nodes_stop.cancel();
    for l in ledgers {
        l.node.wait().await;
    }
    if let Some(mut net) = comet.take() {
        tokio::task::spawn_blocking(move || net.stop())
            .await
            .map_err(err("stop the CometBFT network"))?;
    }
    let summary = engine.metrics.summary();
    print_summary(&summary, elapsed);
    if checked.mismatches.is_empty() {
        println!(
            "ledgers: {} channels, {} sent, {} received, {} acked: exactly once, in order",
            checked.channels, checked.sent, checked.received, checked.acked
        );
    }
    for m in &checked.mismatches {
        println!("ledgers: {m}");
    }
    if let Some(report) = &customs_report {
        println!("{report}");
    }
    Ok((summary, checked, customs_report))
}

pub fn print_summary(s: &Summary, elapsed: Duration) {
    println!("\npath                      app      delivered   ok  refused timeout  acked");
    for ((src, dst, app), p) in &s.paths {
        println!(
            "{:<25} {:<8} {:>9} {:>4} {:>8} {:>7} {:>6}",
            format!("{src} -> {dst}"),
            app.as_str(),
            p.delivered,
            p.ok,
            p.refused,
            p.timeouts,
            p.acked
        );
    }
    let secs = elapsed.as_secs_f64().max(f64::EPSILON);
    println!(
        "\ndelivered {} and acked {} in {:.1} s: {:.1} packets/s",
        s.delivered(),
        s.acked(),
        secs,
        s.delivered() as f64 / secs
    );
    if let Some((p50, p95, p99)) = s.latency_ms {
        println!("latency, source commit to destination receipt confirmed: p50 {p50:.0} ms, p95 {p95:.0} ms, p99 {p99:.0} ms");
    }
    println!(
        "batches {} (mean {:.1} jobs); headers verified {} (mean {:?})",
        s.batches, s.mean_batch, s.headers_verified, s.header_verify_mean
    );
    if s.errors.is_empty() {
        println!("errors: none");
    }
    for ((chain, check), n) in &s.errors {
        println!("errors: {chain} {check}: {n}");
    }
    for (name, t) in &s.stages {
        println!(
            "stage {name:<8} {:>7} times, mean {:>9.2?}, max {:>9.2?}, total {:>8.2?}",
            t.count,
            t.total
                .checked_div(t.count.max(1) as u32)
                .unwrap_or_default(),
            t.max,
            t.total
        );
    }
}

// The `portrelay devnet` command line.

/// `portrelay devnet`'s options.
#[derive(Debug, clap::Args)]
pub struct DevnetArgs {
    /// Keep the ledgers' and the relayer's data here (default: a new temporary directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Stop once this many packets are delivered and acknowledged (default: run until Ctrl-C).
    #[arg(long)]
    pub packets: Option<u64>,
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    pub block_time: std::time::Duration,
    /// Validators per ledger.
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// Most packets or acks in one transaction.
    #[arg(long, default_value_t = 200)]
    pub batch_max: usize,
    /// Where the relayer's API, status page and metrics listen (default: a free loopback port).
    #[arg(long)]
    pub api_listen: Option<std::net::SocketAddr>,
    /// Where the first ledger listens; the other two on the next two ports
    /// (default: free loopback ports).
    #[arg(long)]
    pub ledgers_listen: Option<std::net::SocketAddr>,
    /// COSCO -> CMPort payments in groth16 mode: CMPort receives
    /// settlement facts (status, bill of lading, "amount at least
    /// 1,000.00"), never the settlements; COSCO's node proves them with
    /// keys from the seeded devnet setup (unsafe for production).
    #[arg(long)]
    pub zk: bool,
    /// What runs gba-1: `embedded` (in this process) or `cometbft`
    /// (--validators CometBFT validators over `portledger --engine cometbft`
    /// applications, needing `cometbft` v0.38: scripts/cometbft). With
    /// cometbft --zk is refused.
    #[arg(long, value_enum, default_value_t = GbaEngine::Embedded)]
    pub gba_engine: GbaEngine,
    /// With --gba-engine cometbft: CometBFT's timeout_commit (about its block interval).
    #[arg(long, default_value = "300ms", value_parser = humantime::parse_duration)]
    pub comet_timeout_commit: std::time::Duration,
}

pub fn run_command(args: DevnetArgs) -> std::process::ExitCode {
    let zk = match args
        .zk
        .then(|| ZkDevnet::payments(16, 4, 100_000))
        .transpose()
    {
        Ok(zk) => zk,
        Err(e) => return super::fail(&format!("--zk: {e}")),
    };
    let opts = DevnetOptions {
        data_dir: args.data_dir,
        packets: args.packets,
        block_time: args.block_time,
        validators: args.validators,
        batch_max: args.batch_max,
        api_listen: args.api_listen,
        ledgers_listen: args.ledgers_listen,
        zk,
    };
    let customs = crate::cmd::devnet_customs::CustomsOptions::default();
    let gba = match args.gba_engine {
        GbaEngine::Embedded => GbaLedger::Embedded,
        GbaEngine::Cometbft => GbaLedger::Cometbft {
            validators: args.validators.max(1),
            timeout_commit: args.comet_timeout_commit,
        },
    };
    super::run_async(|shutdown| async move {
        let interrupted = shutdown.clone();
        let (_, checked, _) = run_on(opts, Some(customs), gba, shutdown).await?;
        if checked.mismatches.is_empty() {
            Ok(())
        } else if interrupted.is_cancelled() {
            // Stopped (Ctrl-C, SIGTERM) with packets in flight: they are not
            // received yet, which is no failure of the run.
            println!(
                "ledgers: stopped with packets in flight on {} channels (not yet received or acknowledged)",
                checked.mismatches.len()
            );
            Ok(())
        } else {
            Err(anyhow::anyhow!(
                "the ledgers do not match on {} channels",
                checked.mismatches.len()
            ))
        }
    })
}
