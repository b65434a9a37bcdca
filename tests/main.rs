//! The end-to-end suite: the real `portrelay` and `portledger` binaries,
//! in-process networks of devnet ledgers, Redis, Prometheus and Chromium,
//! asserted on as an operator would (ledger state, `/metrics`, exit codes).
//! One test binary, a module per area; the shared harness is `support`.
//!
//! A test that needs a service it cannot find (redis-server, chromium,
//! promtool, node) fails naming what to install; `scripts/test` installs
//! them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod support;

/// `portrelay light-client`, `events validate` and `zk`: the CLI tools.
mod cli;
mod events_cli;
mod keys_cli;
/// `portrelay receipt`: trade receipts exported from each family, verified offline.
mod receipt;
mod zk_cli;

/// `portledger` processes on their own: restart, event batches, zk routes,
/// relaying by hand.
mod ledger;

/// The relay over in-process ledgers: every path and app, faults, the
/// confidential path.
mod confidential;
/// Customs: a declaration honoured across ports, cross-checks, warnings by SSE and webhooks.
mod customs;
mod devnet;
/// The eBL title: holder checks and PINT's answers, over one ledger and the relay.
mod ebl;
mod faults;

/// The gba ledger as an ABCI application under four real CometBFT validators.
mod comet;
/// A gba chain on real CometBFT nodes, followed through the CometBFT adapter.
mod comet_adapter;
/// `portrelay devnet --gba-engine cometbft`: gba-1 on CometBFT, every path and app.
mod comet_devnet;
/// Relaying through the CometBFT gba chain under faults: validators
/// stopped, a rotation, a node killed, a fork across two endpoints.
mod comet_relay;

/// Relayer fleets on Redis, and the chaos run over ledger processes.
mod chaos;
mod fleet;

/// Operating a relayer: the operator commands, metrics and the status page,
/// the deployment files.
mod deploy;
mod observability;
mod ops;

/// The servers against slow clients, floods and hostile files: timeouts,
/// bounded shutdown, JSON errors, key files that would block.
mod hardening;
