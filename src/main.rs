//! The `portrelay` binary: parses the command line, installs tracing where a
//! command runs long, and hands over to the command's module in `cmd/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use portrelay::cmd;

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
    LightClient(cmd::light_client::LightClientCommand),
    /// Port event tools.
    #[command(subcommand)]
    Events(cmd::events::EventsCommand),
    /// Run the relayer over the chains of a configuration file until Ctrl-C or SIGTERM.
    Start(cmd::start::StartArgs),
    /// Run the three port ledgers, the relay between them and a workload of
    /// journeys in this process; print a summary.
    Devnet(cmd::devnet::DevnetArgs),
    /// Measure end-to-end throughput and latency over the three ledgers,
    /// then the relayer's memory with many packets pending.
    Bench(cmd::bench::BenchArgs),
    /// Run a gba network of CometBFT validators on loopback (its homes,
    /// applications and nodes) until Ctrl-C; print its RPC endpoints and a
    /// relayer configuration.
    CometNet(cmd::comet_net::CometNetArgs),
    /// What each ledger's operator does before relaying can start.
    #[command(subcommand)]
    Operator(cmd::operator::OperatorCommand),
    /// A running relayer's chains, followers, lanes and parked jobs (through its API).
    Status(cmd::status::StatusArgs),
    /// Packets on a running relayer (through its API).
    #[command(subcommand)]
    Packets(cmd::packets::PacketsCommand),
    /// Adapters of a running relayer (through its API; kept in its store).
    #[command(subcommand)]
    Adapters(cmd::adapters::AdaptersCommand),
    /// Groth16 disclosure proofs: keys, proofs, snarkjs JSON, a Solidity verifier.
    #[command(subcommand)]
    Zk(cmd::zk::ZkCommand),
    /// Key files: `keys show FILE` prints the public key a ledger registers.
    #[command(subcommand)]
    Keys(cmd::keys::KeysCommand),
    /// The relayer fleet a running member belongs to (through its API).
    #[command(subcommand)]
    Fleet(cmd::fleet::FleetCommand),
    /// Trade receipts: one committed fact, exported with its proof and
    /// headers, verified offline against a trust root.
    #[command(subcommand)]
    Receipt(cmd::receipt::ReceiptCommand),
    /// Customs: a ledger's warnings (`customs warnings --ledger URL [--follow]`).
    #[command(subcommand)]
    Customs(cmd::customs::CustomsCommand),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::LightClient(c) => cmd::light_client::run(c),
        Command::Events(c) => cmd::events::run(c),
        Command::Start(a) => cmd::start::run(a),
        Command::Devnet(a) => cmd::devnet::run_command(a),
        Command::Bench(a) => cmd::bench::run_command(a),
        Command::CometNet(a) => cmd::comet_net::run_command(a),
        Command::Operator(c) => cmd::operator::run(c),
        Command::Status(a) => cmd::status::run(a),
        Command::Packets(c) => cmd::packets::run(c),
        Command::Adapters(c) => cmd::adapters::run(c),
        Command::Zk(c) => cmd::zk::run(c),
        Command::Fleet(c) => cmd::fleet::run(c),
        Command::Keys(c) => cmd::keys::run(c),
        Command::Receipt(c) => cmd::receipt::run(c),
        Command::Customs(c) => cmd::customs::run(c),
    }
}
