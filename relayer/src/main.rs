//! The `portrelay` binary: parses the command line and runs the command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use light_clients::{Fraction, Timestamp, TrustOptions};
use relayer::light_client::{self, FamilyName, HumanDuration};

/// Cross-chain relay between port-network ledgers.
#[derive(Debug, Parser)]
#[command(name = "portrelay", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Light-client tools for chain operators.
    #[command(subcommand)]
    LightClient(LightClientCommand),
    /// Port event tools.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Run the relayer over the chains of a configuration file until Ctrl-C or SIGTERM.
    Start {
        /// The TOML configuration (see deploy/portrelay.example.toml).
        #[arg(long)]
        config: PathBuf,
    },
    /// Run the three port ledgers, the relay between them and a workload of
    /// journeys in this process; print a summary.
    Devnet {
        /// Keep the ledgers' and the relayer's data here (default: a new temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Stop once this many packets are delivered and acknowledged (default: run until Ctrl-C).
        #[arg(long)]
        packets: Option<u64>,
        #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
        block_time: std::time::Duration,
        /// Validators per ledger.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Most packets or acks in one transaction.
        #[arg(long, default_value_t = 200)]
        batch_max: usize,
    },
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Check events against shared/STANDARDS.md, one verdict line per event.
    ///
    /// Each FILE is a JSON array of events, NDJSON or a single event; `-` reads
    /// stdin. Prints `<file>:<n>: ok (<kind>)` or `<file>:<n>: refused: <rule> at
    /// <field>: <message>`. Exits 0 when every event is accepted, 1 when one is
    /// refused, 2 when an input cannot be read or is not JSON.
    Validate {
        /// Files of events (`-` for stdin).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum LightClientCommand {
    /// Write a valid trusted/untrusted header pair of a family, to show its format.
    Sample {
        #[arg(long)]
        family: FamilyName,
        /// Validators (orderers for cmport, grouped into organisations).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1000))]
        validators: u16,
        /// Directory to write trusted.json and untrusted.json into.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "port-devnet-1")]
        chain_id: String,
        /// Seed of the sample's keys.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Time of the untrusted header (RFC 3339); default now.
        #[arg(long)]
        time: Option<String>,
    },
    /// Verify an untrusted header against a trusted one.
    ///
    /// Prints SUCCESS, NOT_ENOUGH_TRUST or INVALID: <check> and exits 0, 10
    /// or 11; exits 2 when the input cannot be read.
    Verify {
        #[arg(long)]
        family: FamilyName,
        #[arg(long)]
        trusted: PathBuf,
        #[arg(long)]
        untrusted: PathBuf,
        /// The verifier's current time (RFC 3339); default the system clock.
        #[arg(long)]
        now: Option<String>,
        #[arg(long, default_value = "14d")]
        trusting_period: HumanDuration,
        #[arg(long, default_value = "10s")]
        clock_drift: HumanDuration,
        #[arg(long, default_value = "1/3")]
        trust_threshold: Fraction,
    },
}

/// Exit code for input that cannot be read or arguments that make no sense.
const UNREADABLE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::LightClient(cmd) => light_client_command(cmd),
        Command::Start { config } => start_command(&config),
        Command::Devnet {
            data_dir,
            packets,
            block_time,
            validators,
            batch_max,
        } => {
            let opts = relayer::devnet::DevnetOptions {
                data_dir,
                packets,
                block_time,
                validators,
                batch_max,
            };
            devnet_command(opts)
        }
        Command::Events(EventsCommand::Validate { files }) => {
            ExitCode::from(relayer::events::validate_files(
                &files,
                &mut std::io::stdin().lock(),
                &mut std::io::stdout().lock(),
                &mut std::io::stderr().lock(),
            ))
        }
    }
}

fn start_command(path: &std::path::Path) -> ExitCode {
    let config = match relayer::config::Config::load(path, std::env::vars()) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    run_async(|shutdown| async move { relayer::daemon::run(config, shutdown).await })
}

fn devnet_command(opts: relayer::devnet::DevnetOptions) -> ExitCode {
    run_async(|shutdown| async move { relayer::devnet::run(opts, shutdown).await.map(|_| ()) })
}

/// Runs `job` on a runtime, with Ctrl-C and SIGTERM cancelling it.
fn run_async<F, Fut>(job: F) -> ExitCode
where
    F: FnOnce(tokio_util::sync::CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            stop.cancel();
        });
        match job(shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        }
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn time_arg(name: &str, value: Option<String>) -> Result<Timestamp, String> {
    match value {
        Some(s) => Timestamp::parse_rfc3339(&s).map_err(|e| format!("--{name}: {e}")),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|e| format!("system clock before 1970: {e}"))?
                .as_nanos();
            u64::try_from(nanos)
                .map(Timestamp::from_unix_nanos)
                .map_err(|_| "system clock past 2554".to_string())
        }
    }
}

fn light_client_command(cmd: LightClientCommand) -> ExitCode {
    match cmd {
        LightClientCommand::Sample {
            family,
            validators,
            out,
            chain_id,
            seed,
            time,
        } => {
            let time = match time_arg("time", time) {
                // Whole seconds keep the sample readable.
                Ok(t) => Timestamp::from_unix_nanos(t.unix_nanos() / 1_000_000_000 * 1_000_000_000),
                Err(e) => return fail(&e),
            };
            if let Err(e) = light_clients::ChainId::new(chain_id.as_str()) {
                return fail(&format!("--chain-id: {e}"));
            }
            match light_client::sample(family, &chain_id, validators.into(), seed, time, &out) {
                Ok(files) => {
                    println!(
                        "wrote {} and {}",
                        files.trusted.display(),
                        files.untrusted.display()
                    );
                    println!(
                        "verify with: portrelay light-client verify --family {family} --trusted {} --untrusted {}",
                        files.trusted.display(),
                        files.untrusted.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            }
        }
        LightClientCommand::Verify {
            family,
            trusted,
            untrusted,
            now,
            trusting_period,
            clock_drift,
            trust_threshold,
        } => {
            let now = match time_arg("now", now) {
                Ok(t) => t,
                Err(e) => return fail(&e),
            };
            let options = TrustOptions {
                trusting_period: trusting_period.0,
                clock_drift: clock_drift.0,
                trust_threshold,
            };
            match light_client::verify(family, &trusted, &untrusted, &options, now) {
                Ok(outcome) => {
                    println!("{outcome}");
                    ExitCode::from(outcome.exit_code())
                }
                Err(e) => fail(&e.to_string()),
            }
        }
    }
}

fn fail(reason: &str) -> ExitCode {
    eprintln!("error: {reason}");
    ExitCode::from(UNREADABLE)
}
