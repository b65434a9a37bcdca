//! portledger: a devnet ledger node of one family (cmport, cosco or gba).
//!
//! It produces blocks at a set interval, signed with the family's scheme;
//! keeps blocks and state in a redb file in its data directory; runs the
//! `host` module of `light-clients` for its counterparties and three port
//! apps; and serves the RPC of `adapters::wire` over HTTP.
//!
//! Layout (each module imports only those above it in this list):
//! - [`clock`]: the wall clock and OS randomness, the crate's only reads of them;
//! - [`store`]: the redb file (blocks, their inputs, snapshots of the state);
//! - [`apps`]: cargo registry, payment ledger, eBL registry, proven facts;
//! - [`ledger`]: the synchronous state machine (execute, seal, query, witness);
//! - [`metrics`]: the node's Prometheus metrics;
//! - [`prover`]: the disclosure prover (Groth16, a bounded pool off the runtime);
//! - [`handle`]: the thread that owns a ledger, its handle and block timer;
//! - [`rpc`]: the HTTP routes (axum), where errors become HTTP statuses;
//! - [`node`]: a whole node started: ledger thread, prover, RPC server.
//!
//! Errors are one `thiserror` enum per concern, each variant with a stable
//! `code()`: [`store::StoreError`], [`ledger::LedgerError`] (and
//! [`ledger::KeyError`]), [`apps::AppRefusal`], [`prover::ProverError`],
//! [`metrics::MetricsError`], [`handle::CallError`], [`node::NodeError`].

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod abci;
pub mod apps;
pub mod clock;
pub mod handle;
pub mod ledger;
pub mod metrics;
pub mod node;
pub mod prover;
pub mod rpc;
pub mod store;

/// The log filter of a binary: `RUST_LOG`, else `default`; and always
/// without arkworks' constraint-system spans (targets `gr1cs` and `r1cs`),
/// whose fields print the whole constraint system: at `info` they made a
/// Groth16 setup take minutes instead of a second.
pub fn log_filter(default: &str) -> tracing_subscriber::EnvFilter {
    let mut filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    for quiet in ["gr1cs=off", "r1cs=off"] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}
