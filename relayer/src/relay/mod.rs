//! The relay: jobs, leases and checkpoints (`coordinator`, one trait per
//! concern; `fleet`, its Redis backend), the tasks that move
//! packets and acks (`engine`: followers and scanners; `submit`; `clear`;
//! `witness`), and what they did (`stats`).

pub mod clear;
pub mod coordinator;
pub mod engine;
pub mod fleet;
pub mod follower;
mod scanner;
pub mod stats;
mod submit;
mod witness;
