//! The ledger's errors: why a call was refused, why a data directory did not open.

use adapters::events;
use light_clients::any::FamilyName;
use light_clients::host::HostError;
use light_clients::{ChainId, PacketId, Roots};

use crate::apps::AppRefusal;
use crate::store::StoreError;

use super::{KeyError, MAX_VALIDATORS, STORE_VERSION};

/// Why the ledger refused a call, or could not open its data directory.
/// Each variant has a stable [`code`](LedgerError::code); the RPC maps
/// them to HTTP statuses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The ledger's type is of another family than its configuration says.
    #[error("ledger built for {built} opened as {configured}")]
    WrongFamily {
        built: FamilyName,
        configured: FamilyName,
    },
    /// A validator count outside 1 to [`MAX_VALIDATORS`].
    #[error("validators must be 1 to {MAX_VALIDATORS}")]
    Validators { asked: usize },
    /// The data directory holds another chain's or family's ledger.
    #[error("data directory holds {held} ({held_family}), not {chain_id} ({family})")]
    OtherLedger {
        held: ChainId,
        held_family: FamilyName,
        chain_id: ChainId,
        family: FamilyName,
    },
    /// The data directory has blocks but lacks a state record.
    #[error("data directory has blocks but no {what}")]
    Missing { what: &'static str },
    /// The snapshot was written in another store format.
    #[error(
        "the snapshot has store format version {found}, this portledger reads {STORE_VERSION}"
    )]
    SnapshotVersion { found: u8 },
    /// The snapshot is not of a block at or below the tip.
    #[error("the snapshot is of block {snapshot}, the tip is block {tip}")]
    SnapshotHeight { snapshot: u64, tip: u64 },
    /// A restart could not rebuild a stored block from its inputs.
    #[error("cannot resume: replaying block {height}: {fault}; the data directory is not what this ledger wrote (damaged, or from another portledger version)")]
    Replay { height: u64, fault: ReplayFault },
    /// A snapshot asked for while the block being built holds inputs.
    #[error("the block being built holds inputs; seal it first")]
    BlockOpen,
    /// The sealed header cannot be summarised (hashed) by its family.
    #[error(transparent)]
    Seal(light_clients::VerifyError),
    /// No block at that height.
    #[error("no block at height {height} (latest {latest})")]
    NoBlock { height: u64, latest: u64 },
    /// The header that commits the block's roots is not sealed yet.
    #[error("block {height}'s roots are committed by header {proof_height}, not sealed yet")]
    NotYetProvable { height: u64, proof_height: u64 },
    /// The packet was sent in the block being built.
    #[error("{packet} is in the block being built")]
    SentInOpenBlock { packet: PacketId },
    /// No sent packet of that id awaits an ack.
    #[error("no sent packet {packet} awaiting an ack")]
    NoSentPacket { packet: PacketId },
    /// The packet was received in the block being built.
    #[error("{packet} was received in the block being built")]
    ReceivedInOpenBlock { packet: PacketId },
    /// No receipt of that packet.
    #[error("no receipt of {packet}")]
    NoReceipt { packet: PacketId },
    /// No app record kind of that name (`GET /v1/apps/{app}/{kind}/{key}`).
    #[error("no app record kind {app}/{kind}")]
    NoRecordKind { app: String, kind: String },
    /// No app record under that key.
    #[error("no {app}/{kind} record {key:?}")]
    NoAppRecord {
        app: String,
        kind: String,
        key: String,
    },
    /// A request in a wire version this ledger does not read.
    #[error(transparent)]
    Wire(#[from] adapters::wire::WireError),
    /// A port event that breaks a rule of the schema.
    #[error(transparent)]
    Invalid(events::Refusal),
    /// An event an app refuses in its current state.
    #[error(transparent)]
    App(#[from] AppRefusal),
    /// The host module refused a transaction or a packet.
    #[error(transparent)]
    Host(#[from] HostError),
    /// A packet payload that cannot be encoded.
    #[error(transparent)]
    Encode(serde_json::Error),
    /// A disclosure record, or its tree, cannot be built.
    #[error(transparent)]
    Record(circuits::TreeError),
    /// A stored record field is not a field element.
    #[error(transparent)]
    RecordField(circuits::EncodeError),
    /// A disclosure proof asked for no packets, or more than the key covers.
    #[error("a proof covers 1 to {max} packets, asked {asked}")]
    ProofPackets { max: usize, asked: usize },
    /// The prover's key is for trees of another depth than this ledger's.
    #[error("the prover's key is for depth {key}, this ledger's trees have depth {ledger}")]
    ZkDepth { key: u32, ledger: u32 },
    /// A block's stored records do not rebuild the `zk_root` it committed.
    #[error("block {height}'s records do not rebuild its zk_root")]
    ZkRoot { height: u64 },
    /// The block emitted no record of that packet.
    #[error("block {height} emitted no record of {packet}")]
    NoZkRecord { height: u64, packet: PacketId },
    /// The policy asked for is not a `groth16` policy for such records.
    #[error("the policy is not a groth16 policy for records of {fields} fields")]
    Policy { fields: usize },
    /// The disclosure statement cannot be formed.
    #[error(transparent)]
    Statement(circuits::VerifyError),
    /// The redb file refused a read or a write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key or secret file of the data directory.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl LedgerError {
    /// The stable code of the error (`code` in the RPC's error body).
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::WrongFamily { .. } => "family",
            LedgerError::Validators { .. } => "validators",
            LedgerError::OtherLedger { .. } => "data_dir",
            LedgerError::Missing { .. }
            | LedgerError::SnapshotVersion { .. }
            | LedgerError::SnapshotHeight { .. } => "store",
            LedgerError::Replay { .. } => "replay",
            LedgerError::BlockOpen => "block_open",
            LedgerError::Seal(_) => "seal",
            LedgerError::NoBlock { .. }
            | LedgerError::NoSentPacket { .. }
            | LedgerError::NoReceipt { .. }
            | LedgerError::NoRecordKind { .. }
            | LedgerError::NoAppRecord { .. }
            | LedgerError::NoZkRecord { .. } => "not_found",
            LedgerError::NotYetProvable { .. } => "not_yet_provable",
            LedgerError::SentInOpenBlock { .. } | LedgerError::ReceivedInOpenBlock { .. } => {
                "not_yet_sealed"
            }
            LedgerError::Wire(_) => "version",
            LedgerError::Invalid(r) => r.rule,
            LedgerError::App(e) => e.code(),
            LedgerError::Host(e) => e.check(),
            LedgerError::Encode(_) => "encode",
            LedgerError::Record(_) | LedgerError::RecordField(_) => "record",
            LedgerError::ProofPackets { .. } => "packets",
            LedgerError::ZkDepth { .. } => "zk_depth",
            LedgerError::ZkRoot { .. } => "zk_root",
            LedgerError::Policy { .. } => "policy",
            LedgerError::Statement(_) => "statement",
            LedgerError::Store(e) => e.code(),
            LedgerError::Key(e) => e.code(),
        }
    }
}

/// What a restart found wrong when replaying a block (inside
/// [`LedgerError::Replay`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayFault {
    /// The block is above the snapshot but its inputs are not stored.
    #[error("it is above the snapshot (block {snapshot}) but its inputs are not stored")]
    InputsMissing { snapshot: u64 },
    /// The stored inputs record is of another format or block.
    #[error("its inputs record says version {version} height {height}")]
    InputsRecord { version: u8, height: u64 },
    /// An input accepted when the block was built is refused now.
    #[error("input {index} was accepted when the block was built and is refused now: {} ({})", .error, .error.code())]
    Refused {
        index: usize,
        error: Box<LedgerError>,
    },
    /// The replayed block's roots differ from the stored ones.
    #[error("the replayed roots {replayed:?} differ from the stored {stored:?}")]
    Roots {
        replayed: Box<Roots>,
        stored: Box<Roots>,
    },
}
