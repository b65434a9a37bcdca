//! `portchaos`: the chaos run. Three `portledger` processes, a fleet of
//! `portrelay start` members on a `redis-server`, a workload of every app
//! over every path, and a seeded schedule of faults; it exits 0 when the
//! ledgers show everything delivered exactly once, in order, acknowledged,
//! every bill live on exactly one ledger, and no process panicked.
//! See docs/chaos.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use portrelay::chaos::{self, ChaosOptions};

#[derive(Debug, Parser)]
#[command(
    name = "portchaos",
    about = "Chaos run: ledgers, a Redis fleet, a workload and seeded faults; checks what the ledgers hold"
)]
struct Args {
    /// Packets the workload sends (all apps over all six paths).
    #[arg(long, default_value_t = 600)]
    packets: u64,
    /// Faults injected, one after another (every kind once in each seven),
    /// spread evenly over the workload's packets.
    #[arg(long, default_value_t = 7)]
    faults: usize,
    /// Seed of the fault schedule and the workload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Packets per second the workload offers.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Fleet members.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=8))]
    members: u64,
    /// The members' lease (a pause outlasts it).
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    lease: Duration,
    #[arg(long, default_value = "100ms", value_parser = humantime::parse_duration)]
    block_time: Duration,
    /// How long the fleet may take to catch up after each fault.
    #[arg(long, default_value = "120s", value_parser = humantime::parse_duration)]
    recovery_bound: Duration,
    /// How long the fleet may take to drain after the last fault and packet.
    #[arg(long, default_value = "180s", value_parser = humantime::parse_duration)]
    drain_bound: Duration,
    /// Where the processes keep their data and logs (kept after the run);
    /// a new directory under the system's temporary directory by default.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The binaries (default: beside this one).
    #[arg(long)]
    portrelay: Option<PathBuf>,
    #[arg(long)]
    portledger: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn beside_me(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let dir = match args.dir {
        Some(d) => d,
        None => match tempfile::Builder::new().prefix("portchaos-").tempdir() {
            Ok(d) => d.keep(),
            Err(e) => {
                eprintln!("error: a run directory: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let opts = ChaosOptions {
        dir: dir.clone(),
        portrelay: args.portrelay.unwrap_or_else(|| beside_me("portrelay")),
        portledger: args.portledger.unwrap_or_else(|| beside_me("portledger")),
        packets: args.packets,
        faults: args.faults,
        seed: args.seed,
        rate: args.rate,
        members: args.members as usize,
        lease: args.lease,
        block_time: args.block_time,
        recovery_bound: args.recovery_bound,
        drain_bound: args.drain_bound,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match runtime.block_on(chaos::run(opts)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#} (run directory {})", dir.display());
            return ExitCode::from(2);
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print!("{}", chaos::render(&report, &dir));
    }
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
