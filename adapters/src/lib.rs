//! portrelay adapters: how the relay talks to port ledgers.
//!
//! Layout:
//! - [`chain`]: the `ChainAdapter` contract and adapter configuration;
//! - [`comet`]: the adapter of a gba chain run by CometBFT validators, over
//!   CometBFT's RPC (`tendermint-rpc`);
//! - [`http`]: the RPC client of a ledger of any family (hyper in tower
//!   layers: timeout, retry with backoff across endpoints, limits);
//! - [`registry`]: the adapters by chain id, built from their configuration;
//! - [`events`]: the canonical port event schema (DCSA track-and-trace,
//!   letters of credit, invoices, settlements, eBL transfers) and its
//!   validation against the industry rules of `shared/STANDARDS.md`;
//! - [`records`]: each event kind's disclosure record layout (`docs/records.md`);
//! - [`wire`]: the ledgers' RPC messages, shared with the devnet nodes;
//! - [`server`]: the HTTP server loop of the ledger's RPC and the relayer's
//!   API (header, body and idle timeouts, bounded shutdown, per-client
//!   limits, JSON errors).

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod abci;
pub mod chain;
pub mod comet;
pub mod events;
pub mod http;
pub mod records;
pub mod registry;
pub mod server;
pub mod wire;
