//! portrelay: the relayer daemon and the command-line tools for operators.
//!
//! Layout:
//! - [`light_client`]: `portrelay light-client sample|verify`, the chain
//!   operators' tools over the `light-clients` crate;
//! - [`config`]: the TOML configuration, `PORTRELAY_*` overrides, validation;
//! - [`daemon`]: `portrelay start`, the long-running relayer;
//! - [`api`]: the relayer's HTTP API, which the operator commands use;
//! - [`metrics`]: the Prometheus metrics (`docs/metrics.md`);
//! - [`page`]: the status page at `/`;
//! - [`operator`]: what each ledger's operator does first (`portrelay operator connect`);
//! - [`ops`]: the operator commands (`status`, `packets`, `adapters`), clients of that API;
//! - [`devnet`]: `portrelay devnet`, three ledgers, the relay and a workload in one process;
//! - [`bench`]: `portrelay bench`, end-to-end throughput, latency and the relayer's memory;
//! - [`bench_fleet`]: `portrelay bench --fleet`, what coordinating through Redis costs;
//! - [`events`]: `portrelay events validate`, the event checker over `adapters::events`;
//! - [`relay`]: the relay engine (followers, scanners, submitters) and its `Coordinator`
//!   (embedded, or Redis for a fleet: `relay::fleet`);
//! - [`zk`]: `portrelay zk`, Groth16 keys, proofs, snarkjs JSON and the Solidity verifier;
//! - `main.rs`: the thin binary (argument parsing, exit codes).

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod bench;
pub mod bench_fleet;
pub mod config;
pub mod daemon;
pub mod devnet;
pub mod events;
pub mod light_client;
pub mod metrics;
pub mod operator;
pub mod ops;
pub mod page;
pub mod relay;
pub mod zk;
