//! portrelay adapters: how the relay talks to port ledgers.
//!
//! Layout:
//! - [`events`]: the canonical port event schema (DCSA track-and-trace,
//!   letters of credit, invoices, settlements, eBL transfers) and its
//!   validation against the industry rules of `shared/STANDARDS.md`;
//! - [`wire`]: the ledgers' RPC messages, shared with the devnet nodes.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod events;
pub mod wire;
