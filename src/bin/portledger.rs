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
        server: ServerLimits {
            header_read: args.header_read_timeout,
            body_read: args.body_read_timeout,
            idle: args.idle_timeout,
            shutdown: args.shutdown_timeout,
            per_client: usize::try_from(args.per_client_requests).unwrap_or(usize::MAX),
            ..devnet::rpc::SERVER_LIMITS
        },
    };
    let node = match node::start_with(config, options, shutdown.clone()).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e} ({})", e.code());
            return ExitCode::from(2);
        }
    };
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
