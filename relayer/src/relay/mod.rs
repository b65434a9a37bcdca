//! The relay: jobs, leases and checkpoints (`coordinator`, one trait per
//! concern; `fleet`, its Redis backend), and the tasks that move packets
//! and acks, each owning its state and reached through a handle: per chain
//! a `follower` (verified headers, follow state; `FollowerHandle`), a
//! `scanner` and a submitter (`submit`; control messages through its
//! `SubmitterHandle`), witnesses (`witness`); the clearer (`clear`) and the
//! refresher (`engine`). `stats`: the run's summary, read from the metrics.

pub mod clear;
pub mod coordinator;
pub mod engine;
pub mod fleet;
pub mod follower;
mod scanner;
pub mod stats;
mod submit;
mod witness;
