//! The relay: jobs and checkpoints (`coordinator`), the tasks that move
//! packets and acks (`engine`), and what they did (`stats`).

pub mod coordinator;
pub mod engine;
pub mod stats;
