//! `portledger` processes: restart, event batches, zk routes, relaying by hand.

mod durable;
mod events;
pub(crate) mod relay_by_hand;
mod restart;
mod zk;
