//! The relay: jobs, leases and checkpoints (`coordinator`, one trait per
//! concern; `fleet`, its Redis backend), the tasks that move
//! packets and acks (`engine`: followers and scanners; `submit`; `clear`;
//! `witness`), and the run's summary read from the metrics (`stats`).

pub mod clear;
pub mod coordinator;
pub mod engine;
pub mod fleet;
pub mod follower;
mod scanner;
pub mod stats;
mod submit;
mod witness;
