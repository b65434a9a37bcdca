//! What the end-to-end tests share: `net`, three in-process ledgers
//! connected to each other with `portrelay start` processes and Redis
//! servers over them; `ledger`, one `portledger` process with its RPC.

pub mod comet;
pub mod ledger;
pub mod net;
