//! What the end-to-end tests share: `net`, three in-process ledgers
//! connected to each other with `portrelay start` processes and Redis
//! servers over them; `ledger`, one `portledger` process with its RPC;
//! `comet_node`, real CometBFT nodes (one, or a network of validators).

pub mod comet;
pub mod comet_node;
pub mod ledger;
pub mod net;
