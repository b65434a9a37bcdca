//! portrelay, the product's command line: every `portrelay` command is a
//! module of [`cmd`], over the `relayer` library (the daemon, its API,
//! coordination and metrics), the `devnet` ledgers and the pure crates.
//!
//! Layout:
//! - `main.rs`: the `portrelay` binary (parse, dispatch);
//! - `bin/portledger.rs`: the `portledger` binary, one devnet ledger node;
//! - [`cmd`]: one module per command; `cmd::devnet` also holds the in-process
//!   network (ledgers, operator set-up, workload, the exactly-once check) that
//!   `portrelay bench` and the end-to-end tests in `tests/` start;
//! - `bin/portchaos.rs` over [`chaos`]: the chaos run (processes, faults,
//!   the final checks), at small size in the e2e suite, at full size by hand.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod chaos;
pub mod cmd;
