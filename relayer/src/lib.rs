//! The relayer library: the relay engine and what runs it. The `portrelay`
//! command line (the root package) calls [`run`] for `portrelay start`, and
//! builds its devnet and benchmarks from the same parts.
//!
//! Layout:
//! - [`config`]: the TOML configuration, `PORTRELAY_*` overrides, validation;
//! - [`daemon`]: the long-running relayer over a [`config::Config`] ([`run`]);
//! - [`api`]: the relayer's HTTP API, which the operator commands use;
//! - [`metrics`]: the Prometheus metrics (`docs/metrics.md`);
//! - [`page`]: the status page at `/`;
//! - [`relay`]: the relay engine (followers, scanners, submitters, the
//!   clearer, witnesses) and its coordination (embedded, or Redis for a
//!   fleet: `relay::fleet`).
//!
//! No command-line parsing and no devnet ledger lives here: those are the
//! root package's.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod config;
pub mod daemon;
pub mod metrics;
pub mod page;
pub mod relay;

pub use daemon::run;
