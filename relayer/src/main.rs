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
        /// Where the relayer's API, status page and metrics listen (default: a free loopback port).
        #[arg(long)]
        api_listen: Option<std::net::SocketAddr>,
        /// Where the first ledger listens; the other two on the next two ports
        /// (default: free loopback ports).
        #[arg(long)]
        ledgers_listen: Option<std::net::SocketAddr>,
        /// COSCO -> CMPort payments in groth16 mode: CMPort receives
        /// settlement facts (status, bill of lading, "amount at least
        /// 1,000.00"), never the settlements; COSCO's node proves them with
        /// keys from the seeded devnet setup (unsafe for production).
        #[arg(long)]
        zk: bool,
    },
    /// Measure end-to-end throughput and latency over the three ledgers,
    /// then the relayer's memory with many packets pending.
    Bench {
        /// Packets in the sustained run.
        #[arg(long, default_value_t = 30_000)]
        packets: u64,
        /// Packets per second offered, over all paths.
        #[arg(long, default_value_t = 6_000)]
        rate: u64,
        #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration)]
        block_time: std::time::Duration,
        #[arg(long, default_value_t = 4)]
        validators: usize,
        #[arg(long, default_value_t = 1_000)]
        batch_max: usize,
        /// Packets sent with no relayer running, then drained by a `portrelay start`
        /// process whose peak memory is reported (0: skip).
        #[arg(long, default_value_t = 100_000)]
        pending: u64,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Instead: the cost of a fleet. A backlog of `--packets` packets per
        /// round drained by one relayer on the embedded coordinator, one on
        /// Redis, three on Redis (`portrelay start` processes and a
        /// `redis-server` of its own; docs/benchmarks.md).
        #[arg(long)]
        fleet: bool,
    },
    /// What each ledger's operator does before relaying can start.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// A running relayer's chains, followers, lanes and parked jobs (through its API).
    Status {
        #[command(flatten)]
        api: ApiArgs,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Packets on a running relayer (through its API).
    #[command(subcommand)]
    Packets(PacketsCommand),
    /// Adapters of a running relayer (through its API; kept in its store).
    #[command(subcommand)]
    Adapters(AdaptersCommand),
    /// Groth16 disclosure proofs: keys, proofs, snarkjs JSON, a Solidity verifier.
    #[command(subcommand)]
    Zk(ZkCommand),
    /// The relayer fleet a running member belongs to (through its API).
    #[command(subcommand)]
    Fleet(FleetCommand),
}

#[derive(Debug, Subcommand)]
enum ZkCommand {
    /// Make a key set for a circuit shape, from a seed: UNSAFE FOR PRODUCTION
    /// (whoever knows the seed can forge proofs); for devnets and tests.
    ///
    /// Writes proving.key, verifying.key (what a chain operator registers),
    /// verification_key.json (snarkjs) and circuit.json into --out.
    Setup {
        #[arg(long, value_enum, default_value = "disclosure")]
        circuit: relayer::zk::CircuitName,
        /// Depth of the zk_root tree (16: 2^16 records per block).
        #[arg(long, default_value_t = 16)]
        depth: u32,
        /// Records per proof.
        #[arg(long, default_value_t = 1)]
        batch: usize,
        /// Fields per record.
        #[arg(long, default_value_t = 8)]
        width: usize,
        #[arg(long)]
        out: PathBuf,
        /// The setup's randomness, 64 hex digits (default: a fixed devnet seed).
        #[arg(long)]
        seed: Option<String>,
        /// Replace a key set already in --out.
        #[arg(long)]
        force: bool,
    },
    /// Prove a witness file (records of a tree and what to disclose; docs/zk.md);
    /// writes proof.json, public.json and statement.json into --out.
    ///
    /// Exits 1 when the witness does not satisfy its rules, 2 when an input
    /// cannot be read or used.
    Prove {
        /// The key set from `zk setup`.
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a snarkjs-format proof like `snarkjs groth16 verify`.
    ///
    /// Prints OK and exits 0, or INVALID: <check> and exits 1; exits 2 when a
    /// file cannot be read or is not the JSON it should be.
    Verify {
        /// verification_key.json (snarkjs) or a portrelay verifying.key.
        #[arg(long)]
        vk: PathBuf,
        #[arg(long)]
        proof: PathBuf,
        #[arg(long)]
        public: PathBuf,
        /// Also check that the public input is this statement's hash.
        #[arg(long)]
        statement: Option<PathBuf>,
    },
    /// Convert a portrelay verifying.key or binary proof to snarkjs JSON.
    Export {
        #[command(flatten)]
        what: ConvertArgs,
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert a snarkjs verification_key.json (with the shape it proves) or
    /// proof.json to portrelay's binary form.
    Import {
        #[command(flatten)]
        what: ConvertArgs,
        /// The key's circuit shape (a snarkjs key does not carry it).
        #[arg(long)]
        depth: Option<u32>,
        #[arg(long)]
        batch: Option<usize>,
        #[arg(long)]
        width: Option<usize>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a verifier contract for EVM-style destinations.
    ExportVerifier {
        /// Solidity (the only target).
        #[arg(long, required = true)]
        solidity: bool,
        /// verification_key.json (snarkjs) or a portrelay verifying.key.
        #[arg(long)]
        vk: PathBuf,
        #[arg(long, default_value = "PortrelayDisclosureVerifier")]
        contract: String,
        #[arg(long)]
        out: PathBuf,
    },
}

/// The one thing `zk export`/`zk import` converts.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct ConvertArgs {
    /// A verifying key.
    #[arg(long)]
    vk: Option<PathBuf>,
    /// A proof.
    #[arg(long)]
    proof: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum FleetCommand {
    /// Members (live heartbeats) with the leases each holds, every lane's
    /// queue depth and the parked jobs, as the member at `--api` sees them.
    Status {
        #[command(flatten)]
        api: ApiArgs,
        /// Print the API's JSON (the `fleet` section of `/v1/status`).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum OperatorCommand {
    /// On every chain of a relayer configuration: clients of the others (from
    /// their latest headers), the relayer's key, the channels (for the apps
    /// both ends list, on the configured paths), and the other ledgers' eBL
    /// platform keys. Running it again changes nothing.
    Connect {
        /// The relayer's TOML configuration (chains, apps, key files, [trust]).
        #[arg(long)]
        config: PathBuf,
        /// A ledger's data directory, holding its operator.key and admin.token
        /// (repeat for each chain: `--ledger-dir cosco-1=/var/lib/portledger/cosco-1`).
        #[arg(long = "ledger-dir", required = true, value_name = "CHAIN=DIR")]
        ledger_dirs: Vec<String>,
        /// Another relayer instance's key file, registered on every chain too
        /// (repeat for each other member of a fleet: each signs with its own key).
        #[arg(long = "relayer-key-file", value_name = "FILE")]
        relayer_keys: Vec<PathBuf>,
    },
}

/// Where the relayer's API is.
#[derive(Debug, clap::Args)]
struct ApiArgs {
    /// The relayer's API (its `[api] listen`).
    #[arg(long, env = "PORTRELAY_API", default_value = "http://127.0.0.1:7400")]
    api: String,
    /// A file holding the API token (needed by commands that change something).
    #[arg(long, env = "PORTRELAY_API_TOKEN_FILE")]
    token_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum PacketsCommand {
    /// Where a packet is: sent at height, proven, submitted, received, acked.
    Trace {
        source: String,
        destination: String,
        /// cargo, payment or ebl.
        app: String,
        sequence: u64,
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        json: bool,
    },
    /// Compare both ends of the channels now and re-queue the gaps.
    Clear {
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        destination: Option<String>,
        #[arg(long)]
        app: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Put every parked job back in its lane.
    Retry {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List parked jobs with their reasons.
    Parked {
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AdaptersCommand {
    /// Adapters from the configuration file and registered ones.
    List {
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        json: bool,
    },
    /// Register a ledger's adapter: the running relayer follows it at once
    /// and keeps it across restarts.
    Register {
        #[arg(long)]
        family: FamilyName,
        #[arg(long)]
        chain_id: String,
        /// An RPC endpoint (repeat for failover, in order).
        #[arg(long = "endpoint", required = true)]
        endpoints: Vec<String>,
        /// Apps relayed to and from the chain.
        #[arg(long, value_delimiter = ',', default_value = "cargo,payment,ebl")]
        apps: Vec<String>,
        /// The relayer's key file for the chain, on the relayer's machine.
        #[arg(long)]
        key_file: PathBuf,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Stop relaying a registered chain and forget its adapter.
    Remove {
        chain_id: String,
        #[command(flatten)]
        api: ApiArgs,
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
            api_listen,
            ledgers_listen,
            zk,
        } => {
            let zk = match zk
                .then(|| relayer::devnet::ZkDevnet::payments(16, 4, 100_000))
                .transpose()
            {
                Ok(zk) => zk,
                Err(e) => {
                    eprintln!("error: --zk: {e}");
                    return ExitCode::from(UNREADABLE);
                }
            };
            let opts = relayer::devnet::DevnetOptions {
                data_dir,
                packets,
                block_time,
                validators,
                batch_max,
                api_listen,
                ledgers_listen,
                zk,
            };
            devnet_command(opts)
        }
        Command::Status { api, json } => ops_command(api, |t| async move {
            let s = t.status().await?;
            Ok(if json {
                pretty(&s)
            } else {
                relayer::ops::render_status(&s)
            })
        }),
        Command::Packets(cmd) => packets_command(cmd),
        Command::Fleet(FleetCommand::Status { api, json }) => ops_command(api, |t| async move {
            let s = t.status().await?;
            match s.fleet {
                Some(f) if json => Ok(pretty(&f)),
                Some(f) => Ok(relayer::ops::render_fleet(&f)),
                None => Err(relayer::ops::OpsError::Refused {
                    status: 200,
                    code: "not_a_fleet".into(),
                    message: "this relayer uses the embedded coordinator (no [coordinator] backend = \"redis\")".into(),
                }),
            }
        }),
        Command::Operator(OperatorCommand::Connect {
            config,
            ledger_dirs,
            relayer_keys,
        }) => operator_connect(&config, &ledger_dirs, &relayer_keys),
        Command::Bench {
            packets,
            rate,
            block_time,
            validators,
            batch_max,
            pending,
            data_dir,
            fleet,
        } => {
            let opts = relayer::bench::BenchOptions {
                packets,
                rate,
                block_time,
                validators,
                batch_max,
                pending,
                data_dir,
            };
            if fleet {
                return run_async(|shutdown| async move {
                    relayer::bench_fleet::run(opts, shutdown).await
                });
            }
            run_async(|shutdown| async move { relayer::bench::run(opts, shutdown).await })
        }
        Command::Adapters(cmd) => adapters_command(cmd),
        Command::Zk(cmd) => zk_command(cmd),
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

fn pretty<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// Runs an operator command against a relayer's API and prints its output.
fn ops_command<F, Fut>(args: ApiArgs, job: F) -> ExitCode
where
    F: FnOnce(relayer::ops::ApiTarget) -> Fut,
    Fut: std::future::Future<Output = Result<String, relayer::ops::OpsError>>,
{
    let target = match relayer::ops::ApiTarget::new(&args.api, args.token_file.as_deref()) {
        Ok(t) => t,
        Err(e) => return fail(&e.to_string()),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(job(target)) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn packets_command(cmd: PacketsCommand) -> ExitCode {
    use relayer::relay::clear::ClearFilter;
    match cmd {
        PacketsCommand::Trace {
            source,
            destination,
            app,
            sequence,
            api,
            json,
        } => ops_command(api, |t| async move {
            let trace = t.trace(&source, &destination, &app, sequence).await?;
            Ok(if json {
                pretty(&trace)
            } else {
                relayer::ops::render_trace(&trace)
            })
        }),
        PacketsCommand::Clear {
            source,
            destination,
            app,
            api,
        } => {
            let filter = (|| -> Result<ClearFilter, String> {
                let chain = |name: &str, v: Option<String>| {
                    v.map(|s| {
                        light_clients::ChainId::new(s.as_str())
                            .map_err(|e| format!("--{name}: {e}"))
                    })
                    .transpose()
                };
                Ok(ClearFilter {
                    source: chain("source", source)?,
                    destination: chain("destination", destination)?,
                    app: app
                        .map(|a| a.parse().map_err(|e| format!("--app: {e}")))
                        .transpose()?,
                })
            })();
            let filter = match filter {
                Ok(f) => f,
                Err(e) => return fail(&e),
            };
            ops_command(api, |t| async move {
                let r = t.clear(&filter).await?;
                Ok(format!("re-queued {} jobs\n", r.requeued))
            })
        }
        PacketsCommand::Retry { api } => ops_command(api, |t| async move {
            let r = t.retry().await?;
            Ok(format!("re-queued {} parked jobs\n", r.requeued))
        }),
        PacketsCommand::Parked { api, json } => ops_command(api, |t| async move {
            let parked = t.parked().await?;
            if json {
                return Ok(pretty(&parked));
            }
            let mut out = format!("{} parked jobs\n", parked.len());
            for p in parked {
                let id = p.job.id();
                out.push_str(&format!(
                    "  {} #{} {:?}: {}\n",
                    id.channel, id.sequence, id.kind, p.reason
                ));
            }
            Ok(out)
        }),
    }
}

fn adapters_command(cmd: AdaptersCommand) -> ExitCode {
    use adapters::chain::{AdapterConfig, ChainConfig, RpcPolicy};
    match cmd {
        AdaptersCommand::List { api, json } => ops_command(api, |t| async move {
            let list = t.adapters().await?;
            if json {
                return Ok(pretty(&list));
            }
            let mut out = String::new();
            for a in list {
                out.push_str(&format!(
                    "{:<12} {:<7} {:<10} {}{}\n",
                    a.chain_id,
                    a.family,
                    a.origin,
                    a.endpoints.join(","),
                    if a.running { "" } else { "  (not running)" }
                ));
            }
            Ok(out)
        }),
        AdaptersCommand::Register {
            family,
            chain_id,
            endpoints,
            apps,
            key_file,
            api,
        } => {
            let req = (|| -> Result<relayer::api::RegisterAdapter, String> {
                let chain = ChainConfig {
                    chain_id: light_clients::ChainId::new(chain_id.as_str())
                        .map_err(|e| format!("--chain-id: {e}"))?,
                    endpoints,
                    apps: apps
                        .iter()
                        .map(|a| a.parse().map_err(|e| format!("--apps: {e}")))
                        .collect::<Result<_, String>>()?,
                    trust_root: None,
                    rpc: RpcPolicy::DEVNET,
                };
                let adapter = match family {
                    FamilyName::Cmport => AdapterConfig::Cmport(chain),
                    FamilyName::Cosco => AdapterConfig::Cosco(chain),
                    FamilyName::Gba => AdapterConfig::Gba(chain),
                };
                adapter.validate()?;
                // The relayer reads it on its machine; an absolute path says which file.
                let key_file =
                    std::path::absolute(&key_file).map_err(|e| format!("--key-file: {e}"))?;
                Ok(relayer::api::RegisterAdapter { adapter, key_file })
            })();
            let req = match req {
                Ok(r) => r,
                Err(e) => return fail(&e),
            };
            ops_command(api, |t| async move {
                let a = t.register(&req).await?;
                Ok(format!(
                    "registered {} ({}); the relayer follows it now\n",
                    a.chain_id, a.family
                ))
            })
        }
        AdaptersCommand::Remove { chain_id, api } => ops_command(api, |t| async move {
            t.remove(&chain_id).await?;
            Ok(format!("removed {chain_id}\n"))
        }),
    }
}

fn zk_command(cmd: ZkCommand) -> ExitCode {
    use relayer::zk::{self, Convert, ZkError};
    let done = |r: Result<String, ZkError>| match r {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e @ ZkError::Refused(_)) => {
            println!("INVALID: {e}");
            ExitCode::from(e.exit_code())
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    };
    match cmd {
        ZkCommand::Setup {
            circuit,
            depth,
            batch,
            width,
            out,
            seed,
            force,
        } => {
            let seed = match seed {
                None => zk_devnet_seed(),
                Some(hex_seed) => {
                    let mut s = [0u8; 32];
                    if let Err(e) = hex::decode_to_slice(&hex_seed, &mut s) {
                        return fail(&format!("--seed: {e} (expected 64 hex digits)"));
                    }
                    s
                }
            };
            let opts = zk::SetupOptions {
                circuit,
                depth,
                batch,
                width,
                out,
                seed,
                force,
            };
            let bar = indicatif::ProgressBar::new(zk::SetupStep::COUNT);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let result = zk::setup(&opts, &|step| {
                if !matches!(step, zk::SetupStep::Synthesising) {
                    bar.inc(1);
                }
                bar.set_message(step.to_string());
            });
            bar.finish_and_clear();
            done(result.map(|c| {
                format!(
                    "wrote the {} key set (depth {}, {} records of {} fields, {} constraints) to {}\n\
                     WARNING: {}\n",
                    c.circuit,
                    c.depth,
                    c.batch,
                    c.width,
                    c.constraints,
                    opts.out.display(),
                    zk::UNSAFE_SETUP
                )
            }))
        }
        ZkCommand::Prove { keys, input, out } => done({
            let mut seed = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
            zk::prove(&keys, &input, &out, seed).map(|p| {
                let mut s = format!(
                    "proved {} records under zk_root {}\n",
                    p.statement.records().len(),
                    circuits::encode::to_decimal(&p.statement.zk_root())
                );
                for f in p.files {
                    s.push_str(&format!("wrote {}\n", f.display()));
                }
                s
            })
        }),
        ZkCommand::Verify {
            vk,
            proof,
            public,
            statement,
        } => done(zk::verify(&vk, &proof, &public, statement.as_deref()).map(|()| "OK\n".into())),
        ZkCommand::Export { what, out } => {
            let (kind, from) = match (what.vk, what.proof) {
                (Some(vk), _) => (Convert::ExportVk, vk),
                (None, Some(p)) => (Convert::ExportProof, p),
                (None, None) => return fail("give --vk or --proof"),
            };
            done(zk::convert(kind, &from, &out).map(|()| format!("wrote {}\n", out.display())))
        }
        ZkCommand::Import {
            what,
            depth,
            batch,
            width,
            out,
        } => {
            let (kind, from) = match (what.vk, what.proof) {
                (Some(vk), _) => {
                    let (Some(d), Some(k), Some(w)) = (depth, batch, width) else {
                        return fail("importing a key needs --depth, --batch and --width (the shape it proves)");
                    };
                    match circuits::DisclosureParams::new(d, k, w) {
                        Ok(p) => (Convert::ImportVk(p), vk),
                        Err(e) => return fail(&format!("--depth/--batch/--width: {e}")),
                    }
                }
                (None, Some(p)) => (Convert::ImportProof, p),
                (None, None) => return fail("give --vk or --proof"),
            };
            done(zk::convert(kind, &from, &out).map(|()| format!("wrote {}\n", out.display())))
        }
        ZkCommand::ExportVerifier {
            solidity: _,
            vk,
            contract,
            out,
        } => done(
            zk::export_solidity(&vk, &contract, &out)
                .map(|()| format!("wrote {}\n", out.display())),
        ),
    }
}

/// The devnet seed of `zk setup` when none is given: public, hence unsafe.
fn zk_devnet_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    let tag = b"portrelay devnet zk setup";
    seed[..tag.len()].copy_from_slice(tag);
    seed
}

fn operator_connect(path: &std::path::Path, dirs: &[String], relayer_keys: &[PathBuf]) -> ExitCode {
    let config = match relayer::config::Config::load(path, std::env::vars()) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let mut ledger_dirs = Vec::new();
    for d in dirs {
        let Some((chain, dir)) = d.split_once('=') else {
            return fail(&format!("--ledger-dir {d}: expected CHAIN=DIR"));
        };
        match light_clients::ChainId::new(chain) {
            Ok(c) => ledger_dirs.push((c, PathBuf::from(dir))),
            Err(e) => return fail(&format!("--ledger-dir {d}: {e}")),
        }
    }
    run_async(|_| async move {
        let out = relayer::operator::connect(&config, &ledger_dirs, relayer_keys).await?;
        print!("{out}");
        Ok(())
    })
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
        .with_env_filter(devnet::log_filter("warn"))
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
