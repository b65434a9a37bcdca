//! Groth16 disclosure proofs over BN254 for portrelay: a destination learns
//! facts about a record committed in a source ledger's `zk_root` without
//! receiving the record.
//!
//! This crate is pure: no I/O, no async runtime, no clock, no ambient
//! randomness. Randomness comes in as an `RngCore` argument; batch
//! verification derives its own from the batch.
//!
//! Layout:
//! - [`poseidon`]: circomlib's Poseidon (1..=16 inputs), native and gadget;
//! - [`encode`]: amounts, codes, digests and field element bytes/decimals;
//! - [`record`]: salted records and their leaves;
//! - [`tree`]: the sparse Poseidon Merkle tree and its path gadget;
//! - [`disclosure`]: statements (rules per field), the circuit, the native check;
//! - [`groth16`]: keys, the seeded devnet setup, prove, verify, batch verify;
//! - [`snarkjs`]: snarkjs JSON keys, proofs and inputs, and its `verify`;
//! - [`solidity`]: a Solidity verifier contract for a key (EVM destinations);
//! - [`error`]: one error enum per concern, each naming the failed check.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod disclosure;
pub mod encode;
pub mod error;
pub mod groth16;
pub mod poseidon;
pub mod record;
pub mod snarkjs;
pub mod solidity;
pub mod tree;

pub use ark_bn254::Fr;
pub use disclosure::{Disclosure, DisclosureParams, Opening, Rule, Statement};
pub use error::{EncodeError, PoseidonError, ProveError, SnarkjsError, TreeError, VerifyError};
pub use groth16::{
    prove, setup, verify, verify_batch, PreparedVerifyingKey, Proof, ProvingKey, VerifyingKey,
};
pub use record::Record;
pub use tree::{MerklePath, Tree};
