//! The `portledger` binary: runs one devnet ledger node until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use adapters::server::ServerLimits;

use clap::Parser;
use devnet::node::{self, NodeConfig};
use light_clients::any::FamilyName;
use light_clients::ChainId;
use tokio_util::sync::CancellationToken;

/// A devnet ledger of one port-network family.
#[derive(Debug, Parser)]
#[command(name = "portledger", version, about)]
struct Args {
    /// cmport, cosco or gba.
    #[arg(long)]
    family: FamilyName,
    /// The ledger's chain id (a-z 0-9 . _ -).
    #[arg(long)]
    chain_id: ChainId,
    /// Where to serve the RPC (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Blocks, state and keys; a restart continues from what is there.
    #[arg(long)]
    data_dir: PathBuf,
    /// Time between blocks.
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    block_time: std::time::Duration,
    /// Validators at genesis (cmport: organisations).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// At most this many blocks between two snapshots of the state (a
    /// restart replays the blocks after the latest one).
    #[arg(long, default_value_t = devnet::ledger::SnapshotPolicy::DEFAULT.every_blocks, value_parser = clap::value_parser!(u64).range(1..))]
    snapshot_every: u64,
    /// Depth of each block's `zk_root` tree (fixed at genesis).
    #[arg(long, default_value_t = light_clients::zk::DEFAULT_ZK_DEPTH, value_parser = clap::value_parser!(u32).range(1..=32))]
    zk_depth: u32,
    /// Run a disclosure prover whose proofs cover up to K packets of a
    /// block, with keys from the seeded devnet setup (UNSAFE FOR PRODUCTION:
    /// the seed is public, anyone can forge proofs under these keys).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..=256))]
    zk_prover: Option<u64>,
    /// Refuse what event validation otherwise accepts with a warning that strict
    /// mode refuses (a DCSA T&T 2.x SHIPMENT event whose eventDateTime is not its
    /// eventCreatedDateTime), as `portrelay events validate --strict` does.
    #[arg(long)]
    strict_events: bool,
    /// The DCSA T&T version of the flat (2.x) events submitted here: 2.2 (the
    /// default) or 2.3; T&T 3.0 events are recognised by their shape.
    #[arg(long, value_name = "VERSION")]
    dcsa_version: Option<adapters::events::DcsaVersion>,
    /// Register a DCSA PINT 3.0 eBL platform's public key at start:
    /// `CODE=FILE`, the platform code (e.g. WAVE) and a file holding one
    /// JWK (OKP Ed25519, EC P-256/P-384 or RSA). Repeat for more keys; a key
    /// registered already is kept as it is.
    #[arg(long, value_name = "CODE=FILE", value_parser = parse_platform)]
    pint_platform: Vec<(String, PathBuf)>,
    /// The RPC's limit on a request body, in bytes (what `/v1/status`
    /// advertises as `max_tx_bytes` when below the host's 8 MiB); lower it
    /// to try a relayer against a small limit.
    #[arg(long, default_value_t = devnet::rpc::MAX_BODY_BYTES as u64, value_parser = clap::value_parser!(u64).range(1024..))]
    max_body_bytes: u64,
    /// The longest a request's header may take to arrive (a half-sent
    /// header is dropped after it).
    #[arg(long, default_value = "10s", value_parser = positive_duration)]
    header_read_timeout: Duration,
    /// The longest a request's body may take to arrive after its header (408).
    #[arg(long, default_value = "30s", value_parser = positive_duration)]
    body_read_timeout: Duration,
    /// A connection with no request in flight that moves no byte this long is closed.
    #[arg(long, default_value = "75s", value_parser = positive_duration)]
    idle_timeout: Duration,
    /// After SIGTERM, how long requests in flight get before every
    /// connection is closed and the ledger seals and stops.
    #[arg(long, default_value = "10s", value_parser = positive_duration)]
    shutdown_timeout: Duration,
    /// Requests one client address may have in flight (429 beyond).
    #[arg(long, default_value_t = devnet::rpc::SERVER_LIMITS.per_client as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    per_client_requests: u64,
    /// The port's customs rules (TOML: weight tolerance, sensitive HS
    /// chapters and codes, IMDG classes, screening list, webhooks;
    /// `docs/customs.md`), checked at start: an error names the key.
    #[arg(long, value_name = "FILE")]
    customs_rules: Option<PathBuf>,
    /// Who makes the blocks: `embedded` (this process, every --block-time,
    /// signing for its validators) or `cometbft` (a gba ledger as an ABCI
    /// application of a CometBFT node: --abci and --network-secret;
    /// docs/cometbft.md).
    #[arg(long, value_enum, default_value_t = Engine::Embedded)]
    engine: Engine,
    /// With --engine cometbft: where CometBFT's `proxy_app` connects
    /// (`tcp://` this address; port 0 picks a free one, printed and written
    /// to DATA_DIR/abci.addr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:26658")]
    abci: SocketAddr,
    /// With --engine cometbft: the network's secret, 144 hex digits, the same
    /// file at every validator (`openssl rand -hex 72`).
    #[arg(long, value_name = "FILE")]
    network_secret: Option<PathBuf>,
    /// Writes (POST /v1/tx, /v1/events, /v1/events/batch, /v1/zk/disclose)
    /// per second one client address may keep up (429 `rate_limited`
    /// beyond); 0 turns the limit off.
    #[arg(long, default_value_t = devnet::rpc::SERVER_LIMITS.rate.per_second)]
    rate_limit_per_second: u32,
    /// Writes one client address may send at once (the bucket's size).
    #[arg(long, default_value_t = devnet::rpc::SERVER_LIMITS.rate.burst, value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit_burst: u32,
    /// Rate limit loopback clients too (by default they are exempt: the
    /// devnet's workload, a bench, a proxy on the same host).
    #[arg(long)]
    rate_limit_loopback: bool,
}

/// Who makes a ledger's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Engine {
    Embedded,
    Cometbft,
}

fn parse_platform(s: &str) -> Result<(String, PathBuf), String> {
    let (code, file) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not CODE=FILE"))?;
    Ok((code.to_string(), PathBuf::from(file)))
}

/// Registers each `--pint-platform` key on the running ledger.
async fn register_platforms(
    node: &node::RunningNode,
    platforms: &[(String, PathBuf)],
) -> Result<(), String> {
    for (code, file) in platforms {
        let text = std::fs::read_to_string(file).map_err(|e| {
            format!(
                "--pint-platform {code}: cannot read {}: {e}",
                file.display()
            )
        })?;
        let jwk: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            format!(
                "--pint-platform {code}: {} is not JSON: {e}",
                file.display()
            )
        })?;
        let code_ = code.clone();
        node.handle
            .call(move |l| l.register_pint_platform(code_, jwk))
            .await
            .map_err(|e| format!("--pint-platform {code}: {e}"))?
            .map_err(|e| format!("--pint-platform {code} ({}): {e}", file.display()))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(devnet::log_filter("info"))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(args));
    // A proof still running on the blocking pool does not hold the exit.
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

async fn run(args: Args) -> ExitCode {
    let customs = match &args.customs_rules {
        None => Default::default(),
        Some(path) => match devnet::apps::customs::CustomsRules::load(path) {
            Ok(rules) => std::sync::Arc::new(rules),
            Err(e) => {
                eprintln!("error: --customs-rules {e}");
                return ExitCode::from(2);
            }
        },
    };
    if args.engine == Engine::Cometbft {
        return run_abci(args, customs).await;
    }
    let shutdown = CancellationToken::new();
    let config = NodeConfig {
        chain_id: args.chain_id,
        family: args.family,
        validators: args.validators,
        data_dir: args.data_dir.clone(),
        block_time: args.block_time,
        listen: args.listen,
    };
    let options = node::NodeOptions {
        snapshots: devnet::ledger::SnapshotPolicy {
            every_blocks: args.snapshot_every,
            ..devnet::ledger::SnapshotPolicy::DEFAULT
        },
        zk_depth: args.zk_depth,
        prover_batch: args.zk_prover.map(|k| k as usize),
        events: adapters::events::Options {
            strict: args.strict_events,
            dcsa_version: args.dcsa_version,
        },
        max_body_bytes: usize::try_from(args.max_body_bytes).unwrap_or(usize::MAX),
        server: ServerLimits {
            header_read: args.header_read_timeout,
            body_read: args.body_read_timeout,
            idle: args.idle_timeout,
            shutdown: args.shutdown_timeout,
            per_client: usize::try_from(args.per_client_requests).unwrap_or(usize::MAX),
            rate: adapters::server::RateLimit {
                per_second: args.rate_limit_per_second,
                burst: args.rate_limit_burst,
                loopback: args.rate_limit_loopback,
            },
            ..devnet::rpc::SERVER_LIMITS
        },
        ..node::NodeOptions::DEFAULT
    };
    let node = match node::start_with_customs(config, options, customs, shutdown.clone()).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e} ({})", e.code());
            return ExitCode::from(2);
        }
    };
    if let Err(e) = register_platforms(&node, &args.pint_platform).await {
        eprintln!("error: {e}");
        shutdown.cancel();
        node.wait().await;
        return ExitCode::from(2);
    }
    let addr_file = args.data_dir.join("rpc.addr");
    if let Err(e) = std::fs::write(&addr_file, format!("http://{}\n", node.addr)) {
        eprintln!("warning: cannot write {}: {e}", addr_file.display());
    }
    println!(
        "portledger {} ({}) listening on http://{} (data in {}, height {})",
        node.handle.chain_id,
        node.handle.family,
        node.addr,
        args.data_dir.display(),
        node.handle.height()
    );
    wait_for_signal().await;
    tracing::info!("shutting down");
    shutdown.cancel();
    node.wait().await;
    ExitCode::SUCCESS
}

/// `--engine cometbft`: the gba ledger as CometBFT's ABCI application.
async fn run_abci(
    args: Args,
    customs: std::sync::Arc<devnet::apps::customs::CustomsRules>,
) -> ExitCode {
    if args.family != FamilyName::Gba {
        eprintln!(
            "error: --engine cometbft runs a gba ledger, not {} (its headers are CometBFT's)",
            args.family
        );
        return ExitCode::from(2);
    }
    let Some(secret_file) = &args.network_secret else {
        eprintln!("error: --engine cometbft needs --network-secret FILE (the same file at every validator; `openssl rand -hex 72 > FILE`)");
        return ExitCode::from(2);
    };
    let network_secret = match devnet::abci::read_network_secret(secret_file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let shutdown = CancellationToken::new();
    let config = devnet::abci::AbciConfig {
        chain_id: args.chain_id,
        data_dir: args.data_dir.clone(),
        listen: args.abci,
        network_secret,
        snapshots: devnet::ledger::SnapshotPolicy {
            every_blocks: args.snapshot_every,
            ..devnet::ledger::SnapshotPolicy::DEFAULT
        },
        zk_depth: args.zk_depth,
        events: adapters::events::Options {
            strict: args.strict_events,
            dcsa_version: args.dcsa_version,
        },
        customs,
    };
    let runtime = tokio::runtime::Handle::current();
    let app = match devnet::abci::start(config, shutdown.clone(), runtime) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e} ({})", e.code());
            return ExitCode::from(2);
        }
    };
    let addr_file = args.data_dir.join("abci.addr");
    if let Err(e) = std::fs::write(&addr_file, format!("tcp://{}\n", app.addr)) {
        eprintln!("warning: cannot write {}: {e}", addr_file.display());
    }
    println!(
        "portledger {} (gba, cometbft engine) serving ABCI on tcp://{} (data in {}, height {})",
        app.handle.chain_id,
        app.addr,
        args.data_dir.display(),
        app.handle.height()
    );
    wait_for_signal().await;
    tracing::info!("shutting down");
    shutdown.cancel();
    let _ = tokio::task::spawn_blocking(move || app.wait()).await;
    ExitCode::SUCCESS
}

/// A timeout of the RPC server: zero would close every connection at once.
fn positive_duration(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if d.is_zero() => Err("must be more than 0s".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
