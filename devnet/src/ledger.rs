//! A ledger's state machine, synchronous and single-owner: the host module,
//! the apps, the validator keys and the block being built. Transactions and
//! events execute as they arrive, against the block being built (its height
//! and time are fixed when the previous block is sealed); `seal` closes the
//! block, signs its header with the family's scheme and writes, in one store
//! transaction, the block, the inputs it executed and, when one is due, a
//! snapshot of the state (see `store` and [`SnapshotPolicy`]).
//!
//! Execution is deterministic given a block's height, time and inputs, so
//! a restart loads the latest snapshot and replays the blocks after it,
//! refusing to start if a replayed block's roots differ from the stored ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use adapters::events;
use adapters::wire::{
    self, BlockEvents, ChannelsResponse, ClientInfo, ClientsResponse, HeaderResponse, MsgResult,
    NodeStatus, ProvenEvent, SubmitEvent, SubmittedEvent, TxResponse, WIRE_VERSION,
};
use light_clients::any::{AnyHeader, FamilyName, IntoAny};
use light_clients::codec::Canonical;
use light_clients::host::{
    self, BlockContext, BlockEvent, EventProof, Host, HostError, RelayerKey, SignedTx, TxBody,
};
use light_clients::sample::{self, BlockFields, Signing};
use light_clients::zk::{self, DisclosedRecord, DisclosedRule, PathPolicy};
use light_clients::{
    ChainId, ChannelId, ChannelState, Hash32, PacketId, Roots, Timeout, Timestamp,
};
use serde::{Deserialize, Serialize};

use crate::apps::{AppRefusal, PortApps};
use crate::store::{BlockWrite, Store, StoreError};

/// Most validators a devnet ledger signs with (cmport: organisations, one orderer each).
pub const MAX_VALIDATORS: usize = 64;
/// How many transaction results are kept for `GET /v1/tx/{id}`.
const RECENT_TXS: usize = 20_000;
/// The format version of the records this ledger stores (inputs, snapshot mark).
pub const STORE_VERSION: u8 = 1;

/// When a seal also writes a snapshot of the state. A block's own write
/// costs what the block holds; a snapshot costs what the whole state holds,
/// so it is taken only once enough has happened since the last one that
/// replaying it at a restart would cost about as much: after `every_blocks`
/// blocks, or once the inputs logged since reach `log_bytes` or the size of
/// the last snapshot, whichever is larger. Genesis is always a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    pub every_blocks: u64,
    pub log_bytes: u64,
}

impl SnapshotPolicy {
    /// What `portledger` uses unless told otherwise: at 200 ms blocks, at
    /// most 10 minutes of blocks to replay.
    pub const DEFAULT: SnapshotPolicy = SnapshotPolicy {
        every_blocks: 3_000,
        log_bytes: 256 * 1024 * 1024,
    };
}

/// One input a block executed, recorded for replay: everything that changes
/// the host or the apps enters through one of these.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    /// A transaction whose envelope was accepted (its messages may have failed).
    Tx { tx: SignedTx },
    /// A port event accepted by `POST /v1/events` (or the batch route).
    Event { event: SubmitEvent },
    /// An admin call registering a counterparty's eBL platform key.
    EblPlatform { chain: ChainId, key: RelayerKey },
}

/// A block's inputs as stored: the context it executed in and its inputs, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BlockInputs {
    version: u8,
    height: u64,
    time: Timestamp,
    inputs: Vec<Input>,
}

/// Which block the stored state (host, apps, `sent_at`) is the state after.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct SnapshotMark {
    version: u8,
    height: u64,
}

/// What a ledger is.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    pub chain_id: ChainId,
    pub family: FamilyName,
    /// Validators at genesis.
    pub validators: usize,
    pub data_dir: PathBuf,
    /// Depth of each block's `zk_root` tree (fixed at genesis).
    pub zk_depth: u32,
}

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

/// A key or secret file of the data directory that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file cannot be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file does not hold 64 hex digits.
    #[error("{} is not 64 hex digits: {source}", .path.display())]
    Hex {
        path: PathBuf,
        source: hex::FromHexError,
    },
    /// The file cannot be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl KeyError {
    /// The stable code of the error: key files are part of the store.
    pub fn code(&self) -> &'static str {
        "store"
    }
}

/// The validator keys: derived from a secret seed kept in the store, one
/// set per epoch, so a restart signs with the same keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyRing {
    seed: u64,
    epoch: u64,
    count: usize,
    /// A rotation announced in the next header: (epoch, count).
    pending: Option<(u64, usize)>,
}

impl KeyRing {
    fn keys<F: Signing>(&self, epoch: u64, count: usize) -> Vec<F::Key> {
        sample::keys::<F>(self.seed ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15), count)
    }
}

/// The latest sealed block, as the next one needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tip {
    height: u64,
    hash: Hash32,
    time: Timestamp,
    /// This block's own roots (a gba header commits them one block later).
    roots: Roots,
}

/// A sealed block as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredBlock {
    pub header: AnyHeader,
    pub events: Vec<BlockEvent>,
    pub channel_states: Vec<ChannelState>,
    pub client_states: Vec<light_clients::ClientSummary>,
    pub roots: Roots,
    pub txs: Vec<(String, Vec<MsgResult>)>,
    /// The records of the block's packets, in `zk_root` order (the source's
    /// own data: never served as such, only proven about).
    #[serde(default)]
    pub records: Vec<ZkRecord>,
}

/// A packet's disclosure record as its source keeps it: the fields in the
/// layout of `adapters::records`; the salt is derived again from the
/// ledger's secret when a proof needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZkRecord {
    pub packet: PacketId,
    pub fields: Vec<Hash32>,
}

/// What a prover needs for one disclosure proof: the statement, the
/// openings, and the disclosure as it will travel (proof still empty).
#[derive(Debug, Clone)]
pub struct Witness {
    pub statement: circuits::Statement,
    pub openings: Vec<circuits::Opening>,
    pub disclosure: zk::Disclosure,
}

/// The ledger.
#[derive(Debug)]
pub struct Ledger<F: Signing + IntoAny> {
    config: LedgerConfig,
    store: Store,
    host: Host,
    apps: PortApps,
    keyring: KeyRing,
    keys: Vec<F::Key>,
    tip: Tip,
    building: BlockContext,
    block_txs: Vec<(String, Vec<MsgResult>)>,
    recent_txs: BTreeMap<String, (u64, Vec<MsgResult>)>,
    recent_order: std::collections::VecDeque<String>,
    /// Whether the block being built holds transactions or events.
    pending_events: bool,
    /// The eBL platform's envelope signing key (`platform.key` in the data directory).
    platform_key: ed25519_consensus::SigningKey,
    /// Where each sent packet still awaiting its ack was emitted, for the clearer.
    sent_at: BTreeMap<light_clients::PacketId, u64>,
    /// What the block being built has executed, in order.
    block_inputs: Vec<Input>,
    snapshot_policy: SnapshotPolicy,
    /// The block the latest snapshot is the state after.
    snapshot_height: u64,
    /// Bytes of inputs logged since that snapshot, and that snapshot's size.
    logged_since_snapshot: u64,
    snapshot_bytes: u64,
    /// The secret the records' salts derive from (`zk.secret`): it never
    /// leaves this ledger, so a destination cannot guess hidden fields.
    zk_secret: [u8; 32],
    /// The records of the block being built, in `zk_root` order.
    block_records: Vec<ZkRecord>,
}

/// The operator's signing key, kept in the data directory (`operator.key`, hex).
pub fn operator_key(data_dir: &Path) -> Result<ed25519_consensus::SigningKey, KeyError> {
    read_key(data_dir, "operator.key")
}

/// An Ed25519 seed kept as hex in a file of the data directory.
fn read_key(data_dir: &Path, name: &str) -> Result<ed25519_consensus::SigningKey, KeyError> {
    read_secret(data_dir, name).map(ed25519_consensus::SigningKey::from)
}

/// 32 secret bytes kept as hex in a file of the data directory.
fn read_secret(data_dir: &Path, name: &str) -> Result<[u8; 32], KeyError> {
    let path = data_dir.join(name);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(source) => return Err(KeyError::Read { path, source }),
    };
    let mut secret = [0u8; 32];
    match hex::decode_to_slice(text.trim(), &mut secret) {
        Ok(()) => Ok(secret),
        Err(source) => Err(KeyError::Hex { path, source }),
    }
}

/// Writes 32 secret bytes as hex to a file of the data directory.
fn write_secret(data_dir: &Path, name: &str, secret: &[u8; 32]) -> Result<(), KeyError> {
    let path = data_dir.join(name);
    std::fs::write(&path, hex::encode(secret)).map_err(|source| KeyError::Write { path, source })
}

fn field_bytes(fields: &[circuits::Fr]) -> Vec<Hash32> {
    fields.iter().map(zk::fr_hash).collect()
}

impl<F: Signing + IntoAny> Ledger<F> {
    /// Opens the ledger in its data directory: resumes what is there, or
    /// creates genesis (with fresh keys from `entropy`) at time `now`.
    pub fn open(
        config: LedgerConfig,
        entropy: [u8; 72],
        now: Timestamp,
    ) -> Result<Self, LedgerError> {
        if config.family != F::FAMILY {
            return Err(LedgerError::WrongFamily {
                built: F::FAMILY,
                configured: config.family,
            });
        }
        if config.validators == 0 || config.validators > MAX_VALIDATORS {
            return Err(LedgerError::Validators {
                asked: config.validators,
            });
        }
        let store = Store::open(&config.data_dir)?;
        if store.latest_height()? > 0 {
            return Self::resume(config, store, now);
        }
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&entropy[..8]);
        let mut op = [0u8; 32];
        op.copy_from_slice(&entropy[8..40]);
        let operator = ed25519_consensus::SigningKey::from(op);
        let mut platform = [0u8; 32];
        platform.copy_from_slice(&entropy[40..72]);
        // The records' salt secret: from the same fresh entropy, under its own tag.
        let zk_secret: [u8; 32] =
            light_clients::hash::sha256(&[b"portrelay.zk.secret.v1", &entropy]).0;
        for (name, secret) in [
            ("operator.key", op),
            ("platform.key", platform),
            ("zk.secret", zk_secret),
        ] {
            write_secret(&config.data_dir, name, &secret)?;
        }
        let keyring = KeyRing {
            seed: u64::from_le_bytes(seed),
            epoch: 0,
            count: config.validators,
            pending: None,
        };
        let host = Host::new(
            config.chain_id.clone(),
            config.family,
            RelayerKey(operator.verification_key().to_bytes()),
        )
        .with_zk_depth(config.zk_depth)?;
        let mut ledger = Ledger {
            keys: keyring.keys::<F>(0, config.validators),
            apps: PortApps::new(config.chain_id.clone()),
            config,
            store,
            host,
            keyring,
            tip: Tip {
                height: 0,
                hash: Hash32::ZERO,
                time: Timestamp::default(),
                roots: Roots::empty(F::TREE_HASH),
            },
            building: BlockContext {
                height: 1,
                time: now,
            },
            block_txs: Vec::new(),
            recent_txs: BTreeMap::new(),
            recent_order: Default::default(),
            pending_events: false,
            platform_key: ed25519_consensus::SigningKey::from(platform),
            sent_at: BTreeMap::new(),
            block_inputs: Vec::new(),
            snapshot_policy: SnapshotPolicy::DEFAULT,
            snapshot_height: 0,
            logged_since_snapshot: 0,
            snapshot_bytes: 0,
            zk_secret,
            block_records: Vec::new(),
        };
        ledger.seal(now)?;
        Ok(ledger)
    }

    /// Sets when seals write snapshots (from the next seal on).
    pub fn set_snapshot_policy(&mut self, policy: SnapshotPolicy) {
        self.snapshot_policy = policy;
    }

    /// The block the latest stored snapshot is the state after.
    pub fn snapshot_height(&self) -> u64 {
        self.snapshot_height
    }

    fn resume(config: LedgerConfig, store: Store, now: Timestamp) -> Result<Self, LedgerError> {
        let missing = |what: &'static str| LedgerError::Missing { what };
        let host: Host = store.meta("host")?.ok_or_else(|| missing("host state"))?;
        if host.chain_id() != &config.chain_id || host.family() != config.family {
            return Err(LedgerError::OtherLedger {
                held: host.chain_id().clone(),
                held_family: host.family(),
                chain_id: config.chain_id,
                family: config.family,
            });
        }
        let mut apps: PortApps = store.meta("apps")?.ok_or_else(|| missing("apps state"))?;
        apps.reindex();
        let keyring: KeyRing = store.meta("keyring")?.ok_or_else(|| missing("keys"))?;
        let tip: Tip = store.meta("tip")?.ok_or_else(|| missing("tip"))?;
        // A data directory from before snapshots kept the state after every block.
        let snapshot_height = match store.meta::<SnapshotMark>("snapshot")? {
            None => tip.height,
            Some(mark) if mark.version != STORE_VERSION => {
                return Err(LedgerError::SnapshotVersion {
                    found: mark.version,
                })
            }
            Some(mark) => mark.height,
        };
        if snapshot_height > tip.height || snapshot_height == 0 {
            return Err(LedgerError::SnapshotHeight {
                snapshot: snapshot_height,
                tip: tip.height,
            });
        }
        let platform_key = read_key(&config.data_dir, "platform.key")?;
        let zk_secret = read_secret(&config.data_dir, "zk.secret")?;
        let sent_at: Vec<(light_clients::PacketId, u64)> =
            store.meta("sent_at")?.unwrap_or_default();
        let tip_height = tip.height;
        let mut ledger = Ledger {
            sent_at: sent_at.into_iter().collect(),
            platform_key,
            keys: keyring.keys::<F>(keyring.epoch, keyring.count),
            config,
            store,
            host,
            apps,
            keyring,
            building: BlockContext {
                height: tip.height + 1,
                time: next_time(tip.time, now),
            },
            tip,
            block_txs: Vec::new(),
            recent_txs: BTreeMap::new(),
            recent_order: Default::default(),
            pending_events: false,
            block_inputs: Vec::new(),
            snapshot_policy: SnapshotPolicy::DEFAULT,
            snapshot_height,
            logged_since_snapshot: 0,
            snapshot_bytes: 0,
            zk_secret,
            block_records: Vec::new(),
        };
        let building = ledger.building;
        for height in snapshot_height + 1..=tip_height {
            ledger.replay(height)?;
        }
        ledger.building = building;
        Ok(ledger)
    }

    /// Executes a stored block's inputs again, in its context, and checks
    /// that the result has the stored block's roots.
    fn replay(&mut self, height: u64) -> Result<(), LedgerError> {
        let replay = |fault| LedgerError::Replay { height, fault };
        let inputs: BlockInputs = self.store.inputs(height)?.ok_or_else(|| {
            replay(ReplayFault::InputsMissing {
                snapshot: self.snapshot_height,
            })
        })?;
        if inputs.version != STORE_VERSION || inputs.height != height {
            return Err(replay(ReplayFault::InputsRecord {
                version: inputs.version,
                height: inputs.height,
            }));
        }
        let stored = self.stored(height)?;
        self.building = BlockContext {
            height,
            time: inputs.time,
        };
        self.logged_since_snapshot = self
            .logged_since_snapshot
            .saturating_add(Store::encode("inputs", &inputs)?.len() as u64);
        for (index, input) in inputs.inputs.iter().enumerate() {
            self.execute(input).map_err(|e| {
                replay(ReplayFault::Refused {
                    index,
                    error: Box::new(e),
                })
            })?;
        }
        let out = self.host.end_block();
        self.block_records.clear();
        if out.roots != stored.roots {
            return Err(replay(ReplayFault::Roots {
                replayed: Box::new(out.roots),
                stored: Box::new(stored.roots),
            }));
        }
        for (id, results) in std::mem::take(&mut self.block_txs) {
            self.remember_tx(id, height, results);
        }
        self.pending_events = false;
        Ok(())
    }

    /// Applies one input to the block being built.
    fn execute(&mut self, input: &Input) -> Result<(), LedgerError> {
        match input {
            Input::Tx { tx } => self.execute_tx(tx).map(|_| ()),
            Input::Event { event } => self.execute_event(event).map(|_| ()),
            Input::EblPlatform { chain, key } => {
                self.apps.register_platform(chain.clone(), *key);
                self.pending_events = true;
                Ok(())
            }
        }
    }

    /// The state records of a snapshot after block `height`.
    fn snapshot_records(&self, height: u64) -> Result<Vec<(&'static str, Vec<u8>)>, StoreError> {
        Ok(vec![
            ("host", Store::encode("host", &self.host)?),
            ("apps", Store::encode("apps", &self.apps)?),
            (
                "sent_at",
                Store::encode("sent_at", &self.sent_at.iter().collect::<Vec<_>>())?,
            ),
            (
                "snapshot",
                Store::encode(
                    "snapshot",
                    &SnapshotMark {
                        version: STORE_VERSION,
                        height,
                    },
                )?,
            ),
        ])
    }

    /// Writes a snapshot of the state after the latest sealed block (on
    /// shutdown, so that a restart has nothing to replay). Refused while
    /// the block being built holds inputs.
    pub fn snapshot(&mut self) -> Result<(), LedgerError> {
        if !self.block_inputs.is_empty() {
            return Err(LedgerError::BlockOpen);
        }
        let records = self.snapshot_records(self.tip.height)?;
        self.store.put_meta(&records)?;
        self.note_snapshot(self.tip.height, &records);
        Ok(())
    }

    fn note_snapshot(&mut self, height: u64, records: &[(&str, Vec<u8>)]) {
        self.snapshot_height = height;
        self.logged_since_snapshot = 0;
        self.snapshot_bytes = records.iter().map(|(_, v)| v.len() as u64).sum();
    }

    pub fn height(&self) -> u64 {
        self.tip.height
    }

    /// Whether the block being built has anything in it.
    pub fn has_pending(&self) -> bool {
        self.pending_events
    }

    /// Closes the block being built, signs and stores it; returns its height.
    pub fn seal(&mut self, now: Timestamp) -> Result<u64, LedgerError> {
        let ctx = self.building;
        let out = self.host.end_block();
        let set = F::validator_set(&self.keys);
        let next_keys = match self.keyring.pending {
            Some((epoch, count)) => self.keyring.keys::<F>(epoch, count),
            None => self.keys.clone(),
        };
        let next_set = F::validator_set(&next_keys);
        // cmport and cosco headers commit the block's own roots; a gba header
        // commits the previous block's through app_hash, as CometBFT does.
        let committed = if F::FAMILY == FamilyName::Gba {
            self.tip.roots
        } else {
            out.roots
        };
        let fields = BlockFields::<F> {
            chain_id: self.config.chain_id.as_str(),
            height: ctx.height,
            time: ctx.time,
            previous: self.tip.hash,
            roots: committed,
            validators: &set,
            next_validators: &next_set,
        };
        let block = sample::block(&fields, &self.keys);
        let hash = F::summary(&block.signed_header)
            .map(|s| s.hash)
            .map_err(LedgerError::Seal)?;
        let txs = std::mem::take(&mut self.block_txs);
        let stored = StoredBlock {
            header: F::any_header(block),
            events: out.events,
            channel_states: out.channel_states,
            client_states: out.client_states,
            roots: out.roots,
            txs,
            records: std::mem::take(&mut self.block_records),
        };
        let mut keyring = self.keyring.clone();
        if let Some((epoch, count)) = keyring.pending.take() {
            keyring.epoch = epoch;
            keyring.count = count;
        }
        let tip = Tip {
            height: ctx.height,
            hash,
            time: ctx.time,
            roots: out.roots,
        };
        let inputs = Store::encode(
            "inputs",
            &BlockInputs {
                version: STORE_VERSION,
                height: ctx.height,
                time: ctx.time,
                inputs: std::mem::take(&mut self.block_inputs),
            },
        )?;
        let block = Store::encode("block", &stored)?;
        let meta = [
            ("keyring", Store::encode("keyring", &keyring)?),
            ("tip", Store::encode("tip", &tip)?),
        ];
        let logged = self
            .logged_since_snapshot
            .saturating_add(inputs.len() as u64);
        let policy = self.snapshot_policy;
        let due = self.snapshot_height == 0
            || ctx.height.saturating_sub(self.snapshot_height) >= policy.every_blocks
            || logged >= policy.log_bytes.max(self.snapshot_bytes);
        let snapshot = if due {
            Some(self.snapshot_records(ctx.height)?)
        } else {
            None
        };
        self.store.commit_block(&BlockWrite {
            height: ctx.height,
            block: &block,
            inputs: &inputs,
            meta: &meta,
            snapshot: snapshot.as_deref(),
        })?;
        match &snapshot {
            Some(records) => self.note_snapshot(ctx.height, records),
            None => self.logged_since_snapshot = logged,
        }
        for (id, results) in stored.txs {
            self.remember_tx(id, ctx.height, results);
        }
        self.keys = next_keys;
        self.keyring = keyring;
        self.tip = tip;
        self.building = BlockContext {
            height: ctx.height + 1,
            time: next_time(ctx.time, now),
        };
        self.pending_events = false;
        Ok(ctx.height)
    }

    fn remember_tx(&mut self, id: String, height: u64, results: Vec<MsgResult>) {
        self.recent_order.push_back(id.clone());
        self.recent_txs.insert(id, (height, results));
        while self.recent_order.len() > RECENT_TXS {
            if let Some(old) = self.recent_order.pop_front() {
                self.recent_txs.remove(&old);
            }
        }
    }

    /// Registers a counterparty ledger's eBL platform key (an admin call).
    pub fn register_platform(&mut self, chain: ChainId, key: RelayerKey) {
        let input = Input::EblPlatform { chain, key };
        // Registering cannot fail; the input is recorded as every other is.
        let _ = self.execute(&input);
        self.block_inputs.push(input);
    }

    /// Announces a new validator set (of `count` fresh keys) in the next
    /// header; the header after it is signed by the new set.
    pub fn rotate(&mut self, count: usize) -> Result<u64, LedgerError> {
        if count == 0 || count > MAX_VALIDATORS {
            return Err(LedgerError::Validators { asked: count });
        }
        let epoch = self
            .keyring
            .pending
            .map(|(e, _)| e)
            .unwrap_or(self.keyring.epoch)
            + 1;
        self.keyring.pending = Some((epoch, count));
        Ok(self.building.height + 1)
    }

    pub fn status(&self) -> NodeStatus {
        NodeStatus {
            version: WIRE_VERSION,
            chain_id: self.config.chain_id.clone(),
            family: self.config.family,
            height: self.tip.height,
            time: self.tip.time,
            operator: self.host.operator(),
            validators: self.keys.len() as u64,
            ebl_platform: RelayerKey(self.platform_key.verification_key().to_bytes()),
        }
    }

    fn stored(&self, height: u64) -> Result<StoredBlock, LedgerError> {
        self.store.block(height)?.ok_or(LedgerError::NoBlock {
            height,
            latest: self.tip.height,
        })
    }

    pub fn header(&self, height: u64) -> Result<HeaderResponse, LedgerError> {
        Ok(HeaderResponse {
            version: WIRE_VERSION,
            height,
            header: self.stored(height)?.header,
        })
    }

    /// The header that commits block `height`'s roots, and the opening a gba
    /// proof needs; refused while that header is not sealed.
    fn proof_point(&self, height: u64, roots: Roots) -> Result<(u64, Option<Roots>), LedgerError> {
        let proof_height = if F::FAMILY == FamilyName::Gba {
            height + 1
        } else {
            height
        };
        if proof_height > self.tip.height {
            return Err(LedgerError::NotYetProvable {
                height,
                proof_height,
            });
        }
        Ok((
            proof_height,
            (F::FAMILY == FamilyName::Gba).then_some(roots),
        ))
    }

    /// Every channel's sequences after block `height`, proven under its `state_root`.
    pub fn state(&self, height: u64) -> Result<wire::BlockState, LedgerError> {
        let block = self.stored(height)?;
        let (proof_height, opening) = self.proof_point(height, block.roots)?;
        let leaves: Vec<Vec<u8>> =
            host::BlockOutput::state_leaves(&block.channel_states, &block.client_states)
                .iter()
                .map(Canonical::encode)
                .collect();
        let mut proofs = host::prove_all(F::TREE_HASH, &leaves).into_iter();
        let proof = |p: Option<light_clients::MerkleProof>| EventProof {
            height: proof_height,
            opening,
            proof: p.unwrap_or_default(),
        };
        let channels = block
            .channel_states
            .into_iter()
            .map(|state| wire::ProvenChannelState {
                state,
                proof: proof(proofs.next()),
            })
            .collect();
        let clients = block
            .client_states
            .into_iter()
            .map(|summary| wire::ProvenClientState {
                summary,
                proof: proof(proofs.next()),
            })
            .collect();
        Ok(wire::BlockState {
            version: WIRE_VERSION,
            height,
            proof_height,
            roots: block.roots,
            channels,
            clients,
        })
    }

    /// A block's packets and acks with their inclusion proofs.
    pub fn events(&self, height: u64) -> Result<BlockEvents, LedgerError> {
        let block = self.stored(height)?;
        let (proof_height, opening) = self.proof_point(height, block.roots)?;
        let leaves: Vec<Vec<u8>> = block.events.iter().map(|e| e.leaf().encode()).collect();
        let proofs = host::prove_all(F::TREE_HASH, &leaves);
        let events = block
            .events
            .into_iter()
            .zip(proofs)
            .enumerate()
            .map(|(i, (event, proof))| ProvenEvent {
                index: i as u64,
                event,
                proof: EventProof {
                    height: proof_height,
                    opening,
                    proof,
                },
            })
            .collect();
        Ok(BlockEvents {
            version: WIRE_VERSION,
            height,
            proof_height,
            roots: block.roots,
            events,
        })
    }

    pub fn channels(&self) -> ChannelsResponse {
        ChannelsResponse {
            version: WIRE_VERSION,
            height: self.tip.height,
            channels: self.host.channels().cloned().collect(),
        }
    }

    pub fn clients(&self) -> ClientsResponse {
        let now = self.building.time;
        let clients = self
            .host
            .clients()
            .map(|(chain, c)| ClientInfo {
                chain: chain.clone(),
                family: c.family(),
                latest_height: c.latest_height(),
                status: c.status(now),
                expires_at: c.expires_at(),
                frozen: c.frozen().cloned(),
            })
            .collect();
        ClientsResponse {
            version: WIRE_VERSION,
            height: self.tip.height,
            clients,
        }
    }

    /// The block that emitted a sent packet still awaiting its ack.
    pub fn packet_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<wire::PacketLocation, LedgerError> {
        match self.sent_at.get(id) {
            Some(&height) if height <= self.tip.height => Ok(wire::PacketLocation {
                version: WIRE_VERSION,
                packet: id.clone(),
                height,
            }),
            Some(_) => Err(LedgerError::SentInOpenBlock { packet: id.clone() }),
            None => Err(LedgerError::NoSentPacket { packet: id.clone() }),
        }
    }

    /// The block in which a packet was received and its ack written.
    pub fn receipt_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<wire::ReceiptLocation, LedgerError> {
        match self.host.receipt(id) {
            Some(r) if r.height <= self.tip.height => Ok(wire::ReceiptLocation {
                version: WIRE_VERSION,
                packet: id.clone(),
                height: r.height,
                result: r.result.clone(),
            }),
            Some(_) => Err(LedgerError::ReceivedInOpenBlock { packet: id.clone() }),
            None => Err(LedgerError::NoReceipt { packet: id.clone() }),
        }
    }

    /// A signer's next nonce, or `None` for an unregistered or retired key.
    pub fn account(&self, key: &RelayerKey) -> Option<wire::AccountResponse> {
        let next_nonce = self.host.next_nonce(key)?;
        Some(wire::AccountResponse {
            version: WIRE_VERSION,
            key: *key,
            next_nonce,
            operator: *key == self.host.operator(),
        })
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn apps(&self) -> &PortApps {
        &self.apps
    }

    /// Authenticates a transaction and executes it in the block being built.
    pub fn submit_tx(&mut self, tx: &SignedTx) -> Result<TxResponse, LedgerError> {
        let id = tx.id().to_string();
        if let Some((height, results)) = self.recent_txs.get(&id) {
            return Ok(TxResponse {
                version: WIRE_VERSION,
                id,
                height: Some(*height),
                results: results.clone(),
            });
        }
        let response = self.execute_tx(tx)?;
        self.block_inputs.push(Input::Tx { tx: tx.clone() });
        Ok(response)
    }

    /// Authenticates and executes a transaction; nothing changes when it is refused.
    fn execute_tx(&mut self, tx: &SignedTx) -> Result<TxResponse, LedgerError> {
        let id = tx.id().to_string();
        let body = self.host.authenticate(tx)?;
        let ctx = self.building;
        let results: Vec<MsgResult> = match &body {
            TxBody::Operator(msg) => vec![self.host.apply_operator(msg, &ctx).into()],
            // One batch verification for the transaction's disclosure proofs.
            TxBody::Relay(msgs) => self
                .host
                .apply_relay_tx(msgs, &mut self.apps, &ctx)
                .into_iter()
                .map(MsgResult::from)
                .collect(),
        };
        // A packet leaves `sent_at` when its ack clears it from the host.
        for r in &results {
            if let MsgResult::Ok {
                outcome: host::Outcome::Acknowledged { packet, .. },
            } = r
            {
                self.sent_at.remove(packet);
            }
        }
        self.pending_events = true;
        self.block_txs.push((id.clone(), results.clone()));
        Ok(TxResponse {
            version: WIRE_VERSION,
            id,
            height: None,
            results,
        })
    }

    /// Where a transaction stands: pending in the block being built, included, or unknown.
    pub fn tx(&self, id: &str) -> Option<TxResponse> {
        if let Some((height, results)) = self.recent_txs.get(id) {
            return Some(TxResponse {
                version: WIRE_VERSION,
                id: id.to_string(),
                height: Some(*height),
                results: results.clone(),
            });
        }
        self.block_txs
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, results)| TxResponse {
                version: WIRE_VERSION,
                id: id.to_string(),
                height: None,
                results: results.clone(),
            })
    }

    /// Validates a port event and records it; for another network it leaves
    /// in a packet on the channel to it.
    pub fn submit_event(&mut self, req: &SubmitEvent) -> Result<SubmittedEvent, LedgerError> {
        let submitted = self.execute_event(req)?;
        self.block_inputs.push(Input::Event { event: req.clone() });
        Ok(submitted)
    }

    /// Validates and records a port event; nothing changes when it is refused.
    fn execute_event(&mut self, req: &SubmitEvent) -> Result<SubmittedEvent, LedgerError> {
        wire::check_version("event submission", req.version)?;
        let event = events::validate(&req.event).map_err(LedgerError::Invalid)?;
        self.apps.check_local(&event, &req.destination)?;
        if req.destination == self.config.chain_id {
            self.apps.apply_local(&event, None);
            self.pending_events = true;
            return Ok(SubmittedEvent {
                version: WIRE_VERSION,
                packet: None,
            });
        }
        let channel = ChannelId {
            source: self.config.chain_id.clone(),
            destination: req.destination.clone(),
            app: event.app(),
        };
        let secs = req.timeout_secs.unwrap_or(3600).clamp(1, 30 * 24 * 3600);
        let timeout = Timeout {
            time: self
                .building
                .time
                .saturating_add(std::time::Duration::from_secs(secs)),
            height: None,
        };
        // eBL transfers travel signed by this ledger's platform (PINT's envelope).
        let payload = if event.app() == light_clients::App::Ebl {
            serde_json::to_vec(&crate::apps::SignedEnvelope::seal(
                event.json(),
                &self.platform_key,
            ))
        } else {
            serde_json::to_vec(event.json())
        }
        .map_err(LedgerError::Encode)?;
        // The record: its id from the sequence the host is about to give it.
        let next = self
            .host
            .channel(&channel)
            .map(|c| c.next_send)
            .ok_or_else(|| HostError::UnknownChannel {
                channel: channel.clone(),
            })?;
        let id = PacketId {
            channel: channel.clone(),
            sequence: next,
        };
        let fields = adapters::records::fields(&event);
        let record = self.record(&id, fields.clone())?;
        let leaf = record.leaf().map_err(LedgerError::Record)?;
        let payload = if self.host.is_confidential(&channel) {
            zk::commitment_payload(&leaf)
        } else {
            payload
        };
        let packet = self
            .host
            .send_packet_with_record(&channel, payload, timeout, &leaf)?;
        self.block_records.push(ZkRecord {
            packet: packet.id.clone(),
            fields: field_bytes(&fields),
        });
        self.sent_at.insert(packet.id.clone(), self.building.height);
        self.apps.apply_local(&event, Some(packet.id.clone()));
        self.pending_events = true;
        Ok(SubmittedEvent {
            version: WIRE_VERSION,
            packet: Some(packet.id),
        })
    }
}

impl<F: Signing + IntoAny> Ledger<F> {
    /// A packet's salted record.
    fn record(
        &self,
        id: &PacketId,
        fields: Vec<circuits::Fr>,
    ) -> Result<circuits::Record, LedgerError> {
        circuits::Record::new(
            circuits::record::derive_salt(&self.zk_secret, &zk::packet_id_bytes(id)),
            zk::packet_id_field(id),
            fields,
        )
        .map_err(LedgerError::Record)
    }

    /// The witness of a disclosure proof of `packets` (all emitted by the
    /// block whose roots header `proof_height` commits) with the rules
    /// `policy` asks, for a circuit of `params`.
    pub fn witness(
        &self,
        proof_height: u64,
        packets: &[PacketId],
        policy: &PathPolicy,
        params: circuits::DisclosureParams,
    ) -> Result<Witness, LedgerError> {
        if packets.is_empty() || packets.len() > params.records {
            return Err(LedgerError::ProofPackets {
                max: params.records,
                asked: packets.len(),
            });
        }
        if params.depth != self.host.zk_depth() {
            return Err(LedgerError::ZkDepth {
                key: params.depth,
                ledger: self.host.zk_depth(),
            });
        }
        // gba headers commit the previous block's roots.
        let height = if F::FAMILY == FamilyName::Gba {
            proof_height.saturating_sub(1)
        } else {
            proof_height
        };
        let block = self.stored(height)?;
        self.proof_point(height, block.roots)?;
        let mut records = Vec::with_capacity(block.records.len());
        for r in &block.records {
            let fields = r
                .fields
                .iter()
                .map(|h| circuits::encode::fr_from_bytes(h.as_bytes()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(LedgerError::RecordField)?;
            records.push(self.record(&r.packet, fields)?);
        }
        let leaves = records
            .iter()
            .map(circuits::Record::leaf)
            .collect::<Result<Vec<_>, _>>()
            .map_err(LedgerError::Record)?;
        let tree = circuits::Tree::new(params.depth, leaves).map_err(LedgerError::Record)?;
        if zk::fr_hash(&tree.root()) != block.roots.zk_root {
            return Err(LedgerError::ZkRoot { height });
        }
        let mut openings = Vec::with_capacity(packets.len());
        let mut statement = Vec::with_capacity(packets.len());
        let mut wire = Vec::with_capacity(packets.len());
        for id in packets {
            let index = block
                .records
                .iter()
                .position(|r| &r.packet == id)
                .ok_or_else(|| LedgerError::NoZkRecord {
                    height,
                    packet: id.clone(),
                })?;
            let record = records[index].clone();
            let rules = policy
                .rules_for(&record.fields)
                .ok_or(LedgerError::Policy {
                    fields: record.fields.len(),
                })?;
            let path = tree.path(index as u64).map_err(LedgerError::Record)?;
            statement.push(circuits::Disclosure {
                packet_id: record.packet_id,
                rules: rules.clone(),
            });
            wire.push(DisclosedRecord {
                packet: id.clone(),
                rules: rules.iter().map(DisclosedRule::from_rule).collect(),
            });
            openings.push(circuits::Opening { record, path });
        }
        let statement = circuits::Statement::new(params, tree.root(), statement)
            .map_err(LedgerError::Statement)?;
        Ok(Witness {
            statement,
            openings,
            disclosure: zk::Disclosure {
                zk_root: block.roots.zk_root,
                records: wire,
                proof: Vec::new(),
            },
        })
    }
}

/// The next block's time: now, but always after the previous block.
fn next_time(previous: Timestamp, now: Timestamp) -> Timestamp {
    let floor = previous.saturating_add(std::time::Duration::from_millis(1));
    if now > floor {
        now
    } else {
        floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use light_clients::cmport::Cmport;
    use light_clients::cosco::Cosco;
    use light_clients::host::{OperatorMsg, RelayMsg};
    use light_clients::{App, Fraction, TrustOptions};
    use std::time::Duration;

    fn config(dir: &Path, chain: &str, family: FamilyName) -> LedgerConfig {
        LedgerConfig {
            zk_depth: light_clients::zk::DEFAULT_ZK_DEPTH,
            chain_id: ChainId::new(chain).unwrap(),
            family,
            validators: 4,
            data_dir: dir.join(chain),
        }
    }

    fn t(secs: u32) -> Timestamp {
        Timestamp::from_unix_secs(1_800_000_000 + secs)
    }

    fn operator_tx<F: Signing + IntoAny>(l: &mut Ledger<F>, msg: OperatorMsg) {
        let key = operator_key(&l.config.data_dir).unwrap();
        let signer = RelayerKey(key.verification_key().to_bytes());
        let nonce = l.account(&signer).unwrap().next_nonce;
        let tx = SignedTx::sign(&key, &l.config.chain_id, nonce, &TxBody::Operator(msg));
        let r = l.submit_tx(&tx).unwrap();
        assert!(matches!(r.results[0], MsgResult::Ok { .. }), "{r:?}");
    }

    /// A cosco source with a cargo channel to a cmport destination, each
    /// with a client of the other and a registered relayer key.
    struct Pair {
        dir: tempfile::TempDir,
        src: Ledger<Cosco>,
        dst: Ledger<Cmport>,
        clock: u32,
        relayer: ed25519_consensus::SigningKey,
        src_nonce: u64,
        dst_nonce: u64,
        events: Vec<serde_json::Value>,
        sent: usize,
    }

    impl Pair {
        fn new(policy: SnapshotPolicy) -> Pair {
            let dir = tempfile::tempdir().unwrap();
            let mut src = Ledger::<Cosco>::open(
                config(dir.path(), "cosco-1", FamilyName::Cosco),
                [1; 72],
                t(0),
            )
            .unwrap();
            let mut dst = Ledger::<Cmport>::open(
                config(dir.path(), "cmport-1", FamilyName::Cmport),
                [2; 72],
                t(0),
            )
            .unwrap();
            src.set_snapshot_policy(policy);
            dst.set_snapshot_policy(policy);
            let options = TrustOptions {
                trusting_period: Duration::from_secs(14 * 24 * 3600),
                clock_drift: Duration::from_secs(10),
                trust_threshold: Fraction::ONE_THIRD,
            };
            let src_root = src.header(1).unwrap().header.trust_root();
            let dst_root = dst.header(1).unwrap().header.trust_root();
            operator_tx(
                &mut src,
                OperatorMsg::CreateClient {
                    root: dst_root,
                    options,
                },
            );
            operator_tx(
                &mut dst,
                OperatorMsg::CreateClient {
                    root: src_root,
                    options,
                },
            );
            let channel = ChannelId {
                source: src.config.chain_id.clone(),
                destination: dst.config.chain_id.clone(),
                app: App::Cargo,
            };
            let open = OperatorMsg::OpenChannel {
                channel,
                version: "cargo-1".into(),
            };
            operator_tx(&mut src, open.clone());
            operator_tx(&mut dst, open);
            let relayer = ed25519_consensus::SigningKey::from([7u8; 32]);
            let key = RelayerKey(relayer.verification_key().to_bytes());
            operator_tx(&mut src, OperatorMsg::RegisterRelayer { key });
            operator_tx(&mut dst, OperatorMsg::RegisterRelayer { key });
            let events =
                serde_json::from_str(include_str!("../../docs/examples/events/journey.json"))
                    .unwrap();
            let mut pair = Pair {
                dir,
                src,
                dst,
                clock: 0,
                relayer,
                src_nonce: 0,
                dst_nonce: 0,
                events,
                sent: 0,
            };
            pair.seal();
            pair
        }

        fn seal(&mut self) -> u64 {
            self.clock += 1;
            self.dst.seal(t(self.clock)).unwrap();
            self.src.seal(t(self.clock)).unwrap()
        }

        fn send(&mut self, n: usize) {
            for _ in 0..n {
                let mut event = self.events[self.sent % self.events.len()].clone();
                event["eventID"] = format!("00000000-0000-4000-8000-{:012}", self.sent).into();
                self.sent += 1;
                let r = self
                    .src
                    .submit_event(&SubmitEvent {
                        version: WIRE_VERSION,
                        destination: self.dst.config.chain_id.clone(),
                        event,
                        timeout_secs: None,
                    })
                    .unwrap();
                assert!(r.packet.is_some());
            }
        }

        /// Delivers the packets of source block `height` and brings their acks back.
        fn relay(&mut self, height: u64) {
            let header = self.src.header(height).unwrap().header;
            let mut msgs = vec![RelayMsg::UpdateClient {
                chain: self.src.config.chain_id.clone(),
                header,
            }];
            for e in self.src.events(height).unwrap().events {
                if let BlockEvent::Packet { packet } = e.event {
                    msgs.push(RelayMsg::RecvPacket {
                        packet,
                        proof: e.proof,
                    });
                }
            }
            let tx = SignedTx::sign(
                &self.relayer,
                &self.dst.config.chain_id,
                self.dst_nonce,
                &TxBody::Relay(msgs),
            );
            self.dst_nonce += 1;
            let r = self.dst.submit_tx(&tx).unwrap();
            assert!(
                r.results.iter().all(|m| matches!(m, MsgResult::Ok { .. })),
                "{r:?}"
            );
            self.seal();
            let acked = self.dst.height();
            let header = self.dst.header(acked).unwrap().header;
            let mut msgs = vec![RelayMsg::UpdateClient {
                chain: self.dst.config.chain_id.clone(),
                header,
            }];
            for e in self.dst.events(acked).unwrap().events {
                if let BlockEvent::Ack { ack } = e.event {
                    msgs.push(RelayMsg::Acknowledge {
                        ack,
                        proof: e.proof,
                    });
                }
            }
            let tx = SignedTx::sign(
                &self.relayer,
                &self.src.config.chain_id,
                self.src_nonce,
                &TxBody::Relay(msgs),
            );
            self.src_nonce += 1;
            let r = self.src.submit_tx(&tx).unwrap();
            assert!(
                r.results.iter().all(|m| matches!(m, MsgResult::Ok { .. })),
                "{r:?}"
            );
        }

        /// Some traffic: packets sent in several blocks, delivered and
        /// acknowledged, an eBL platform registered.
        fn traffic(&mut self, blocks: usize) {
            for b in 0..blocks {
                self.send(3);
                let height = self.seal();
                self.relay(height);
                if b == 1 {
                    self.src
                        .register_platform(ChainId::new("gba-1").unwrap(), RelayerKey([5; 32]));
                }
            }
            self.seal();
        }

        fn reopen(&mut self) -> Result<(), LedgerError> {
            let dir = self.dir.path().to_path_buf();
            // Opening a second ledger on the same file is refused by redb: close first.
            let policy = self.src.snapshot_policy;
            let placeholder = tempfile::tempdir().unwrap();
            let src = std::mem::replace(
                &mut self.src,
                Ledger::<Cosco>::open(
                    config(placeholder.path(), "cosco-1", FamilyName::Cosco),
                    [3; 72],
                    t(0),
                )
                .unwrap(),
            );
            drop(src);
            let mut src = Ledger::<Cosco>::open(
                config(&dir, "cosco-1", FamilyName::Cosco),
                [9; 72],
                t(self.clock),
            )?;
            src.set_snapshot_policy(policy);
            self.src = src;
            Ok(())
        }
    }

    /// Everything a restart must bring back, as JSON.
    fn state<F: Signing + IntoAny>(l: &Ledger<F>) -> serde_json::Value {
        serde_json::json!({
            "host": l.host,
            "apps": l.apps,
            "sent_at": l.sent_at.iter().collect::<Vec<_>>(),
            "tip": l.tip,
            "keyring": l.keyring,
            "status": l.status(),
        })
    }

    #[test]
    fn a_restart_replays_the_blocks_after_the_snapshot_to_the_same_state() {
        let mut pair = Pair::new(SnapshotPolicy {
            every_blocks: 4,
            log_bytes: u64::MAX,
        });
        pair.traffic(9);
        pair.send(2);
        let unacked = pair.seal();
        let before = state(&pair.src);
        assert!(
            pair.src.snapshot_height() < pair.src.height(),
            "the tip is past the snapshot"
        );
        assert!(pair.src.snapshot_height() > 4, "several intervals passed");
        let acked = pair.src.host.channels().map(|c| c.next_ack).max();
        assert!(acked > Some(1), "acks came back");
        pair.reopen().unwrap();
        assert_eq!(state(&pair.src), before);
        // And it goes on: the packets sealed before the restart are relayed
        // and acknowledged, more traffic follows.
        pair.relay(unacked);
        pair.traffic(3);
        let before = state(&pair.src);
        pair.reopen().unwrap();
        assert_eq!(state(&pair.src), before);
    }

    #[test]
    fn a_restart_right_after_a_snapshot_has_nothing_to_replay() {
        let mut pair = Pair::new(SnapshotPolicy {
            every_blocks: 3,
            log_bytes: u64::MAX,
        });
        pair.traffic(4);
        while pair.src.snapshot_height() != pair.src.height() {
            pair.seal();
        }
        let before = state(&pair.src);
        pair.reopen().unwrap();
        assert_eq!(state(&pair.src), before);
        // A snapshot written at the tip (as on shutdown) is also a clean start.
        pair.send(2);
        pair.seal();
        pair.src.snapshot().unwrap();
        assert_eq!(pair.src.snapshot_height(), pair.src.height());
        let before = state(&pair.src);
        pair.reopen().unwrap();
        assert_eq!(state(&pair.src), before);
    }

    #[test]
    fn a_snapshot_is_refused_while_the_block_holds_inputs() {
        let mut pair = Pair::new(SnapshotPolicy::DEFAULT);
        pair.send(1);
        let e = pair.src.snapshot().unwrap_err();
        assert_eq!(e.code(), "block_open");
    }

    #[test]
    fn seals_between_snapshots_write_no_state() {
        let mut pair = Pair::new(SnapshotPolicy {
            every_blocks: 1_000,
            log_bytes: u64::MAX,
        });
        let snapshot = pair.src.snapshot_height();
        pair.traffic(3);
        assert_eq!(pair.src.snapshot_height(), snapshot);
        let host: Host = pair.src.store.meta("host").unwrap().unwrap();
        assert_ne!(
            serde_json::to_value(&host).unwrap(),
            serde_json::to_value(&pair.src.host).unwrap(),
            "the stored host is the snapshot's, not the tip's"
        );
    }

    #[test]
    fn a_replay_that_does_not_reach_the_stored_roots_is_refused() {
        let mut pair = Pair::new(SnapshotPolicy {
            every_blocks: 1_000,
            log_bytes: u64::MAX,
        });
        pair.send(2);
        let height = pair.seal();
        pair.seal();
        // Drop the block's second event from its inputs.
        let raw = pair.src.store.raw_inputs(height).unwrap().unwrap();
        let mut inputs: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        inputs["inputs"].as_array_mut().unwrap().pop();
        let damaged = serde_json::to_vec(&inputs).unwrap();
        pair.src.store.put_inputs(height, Some(&damaged)).unwrap();
        let e = pair.reopen().unwrap_err();
        assert_eq!(e.code(), "replay");
        let message = e.to_string();
        assert!(
            message.contains(&format!("replaying block {height}")) && message.contains("roots"),
            "{message}"
        );
    }

    #[test]
    fn missing_inputs_above_the_snapshot_are_refused_by_height() {
        let mut pair = Pair::new(SnapshotPolicy {
            every_blocks: 1_000,
            log_bytes: u64::MAX,
        });
        pair.send(1);
        let height = pair.seal();
        pair.src.store.put_inputs(height, None).unwrap();
        let e = pair.reopen().unwrap_err();
        assert_eq!(e.code(), "replay");
        let message = e.to_string();
        assert!(
            message.contains(&format!("replaying block {height}"))
                && message.contains("inputs are not stored"),
            "{message}"
        );
    }

    #[test]
    fn a_replayed_input_that_is_now_refused_is_named() {
        let mut pair = Pair::new(SnapshotPolicy {
            every_blocks: 1_000,
            log_bytes: u64::MAX,
        });
        pair.send(1);
        let height = pair.seal();
        let raw = pair.src.store.raw_inputs(height).unwrap().unwrap();
        let mut inputs: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        inputs["inputs"][0]["event"]["event"]["equipmentReference"] = "CSQU3054384".into();
        let damaged = serde_json::to_vec(&inputs).unwrap();
        pair.src.store.put_inputs(height, Some(&damaged)).unwrap();
        let e = pair.reopen().unwrap_err();
        assert_eq!(e.code(), "replay");
        let message = e.to_string();
        assert!(
            message.contains("input 0") && message.contains("iso6346.check_digit"),
            "{message}"
        );
    }

    #[test]
    fn a_witness_rebuilds_the_blocks_zk_root_and_refuses_what_it_cannot_prove() {
        let mut p = Pair::new(SnapshotPolicy::DEFAULT);
        p.send(3);
        let h = p.seal();
        let block = p.src.stored(h).unwrap();
        let ids: Vec<PacketId> = block.records.iter().map(|r| r.packet.clone()).collect();
        assert_eq!(ids.len(), 3, "one record per packet the block emitted");
        let params = circuits::DisclosureParams::new(
            light_clients::zk::DEFAULT_ZK_DEPTH,
            2,
            adapters::records::WIDTH,
        )
        .unwrap();
        // A policy that lists no kinds: the kind disclosed, the rest hidden.
        let policy = PathPolicy::Groth16 {
            kinds: Default::default(),
        };
        let w = p.src.witness(h, &ids[..2], &policy, params).unwrap();
        assert_eq!(w.disclosure.zk_root, block.roots.zk_root);
        w.statement
            .check(&w.openings)
            .expect("the records, salted again, are under the committed root");
        assert!(w
            .disclosure
            .records
            .iter()
            .all(|r| r.rules[1..].iter().all(|x| *x == DisclosedRule::Hidden)));
        let code = |r: Result<Witness, LedgerError>| r.map(|_| ()).unwrap_err().code();
        assert_eq!(code(p.src.witness(h, &ids, &policy, params)), "packets");
        assert_eq!(
            code(p.src.witness(h, &ids[..1], &PathPolicy::Merkle, params)),
            "policy"
        );
        assert_eq!(
            code(p.src.witness(h - 1, &ids[..1], &policy, params)),
            "not_found"
        );
        let shallow = circuits::DisclosureParams::new(8, 2, adapters::records::WIDTH).unwrap();
        assert_eq!(
            code(p.src.witness(h, &ids[..1], &policy, shallow)),
            "zk_depth"
        );
    }
}
