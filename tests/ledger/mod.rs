//! `portledger` processes: restart, event batches, DCSA feeds and strict JSON, zk
//! routes, relaying by hand.

mod dcsa;
mod durable;
mod events;
pub(crate) mod relay_by_hand;
mod restart;
mod zk;
