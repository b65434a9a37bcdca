//! Pure verification for portrelay: whether a header, a packet or an
//! acknowledgement from another port ledger can be believed.
//!
//! This crate does no I/O: no async runtime, sockets, files or clock. Time and
//! randomness come in as arguments, so the same code runs in the relayer and
//! in a destination ledger's host module.
//!
//! Layout:
//! - [`hash`], [`time`], [`codec`]: digests, timestamps, the canonical encoding;
//! - [`merkle`]: RFC 6962 trees over SHA-256 and Keccak-256 (rs_merkle);
//! - [`packet`]: packets, acks, channel state and the roots a header commits;
//! - [`quorum`]: the signature-counting core every family shares;
//! - [`verify`]: the `Family` contract and the shared header checks;
//! - [`cmport`], [`cosco`], [`gba`]: the three ledger families;
//! - [`client`]: the client state machine (update, misbehaviour, recovery, membership);
//! - [`any`]: the list of families ([`for_each_family!`], [`with_family!`],
//!   [`FamilyName`]) and clients, headers, roots and evidence of any family, tagged;
//! - [`json`]: strict JSON (a repeated key refused by name);
//! - [`host`]: the on-chain side: counterparty clients, channels, packet receipt,
//!   acks, relayer keys; what a ledger runs (a folder, one concern a file);
//! - [`receipt`]: trade receipts, one committed fact checked offline from a trust root;
//! - [`zk`]: confidential paths: path policies, disclosures, record ids;
//! - [`sample`]: signing headers from keys, for devnets, samples and tests.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod any;
pub mod client;
pub mod cmport;
pub mod codec;
pub mod cosco;
pub mod gba;
pub mod hash;
pub mod host;
pub mod json;
pub mod merkle;
pub mod packet;
pub mod quorum;
pub mod receipt;
pub mod sample;
pub mod time;
pub mod verify;
pub mod zk;

pub use any::{FamilyName, IntoAny, UnknownFamily};
pub use client::{
    ClientError, ClientState, Evidence, Misbehaviour, Recovery, Status, TrustRoot, UpdateOutcome,
};
pub use codec::{Canonical, DecodeError};
pub use hash::{Hash32, HashAlgorithm};
pub use merkle::{MerkleCommitment, MerkleProof, ProofError};
pub use packet::{
    Ack, AckResult, App, ChainId, ChannelId, ChannelState, ClientSummary, EventLeaf, Packet,
    PacketId, Roots, StateLeaf, Timeout,
};
pub use quorum::{Fraction, Quorum, Tally};
pub use time::Timestamp;
pub use verify::{
    verify_update, Family, HeaderSummary, TrustOptions, TrustedState, UntrustedBlock, VerifyError,
};
