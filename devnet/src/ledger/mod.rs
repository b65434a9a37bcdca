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
//!
//! Layout:
//! - `block`: sealing (close, then write), the tip and the stored block;
//! - `abci`: the same ledger driven by CometBFT (FinalizeBlock, Commit, CheckTx);
//! - `inputs`: transactions, events and admin calls executed and logged;
//! - `pint`: DCSA PINT 3.0 calls, logged as inputs, answers signed;
//! - `query`: what the RPC reads;
//! - `witness`: the zk records and the disclosure witness;
//! - `keys`: the validator key ring and the key files;
//! - `snapshot`: when a seal writes the state;
//! - `open`: genesis and restart (replay);
//! - `error`: [`LedgerError`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use adapters::wire::MsgResult;
use light_clients::any::{FamilyName, IntoAny};
use light_clients::host::{BlockContext, Host};
use light_clients::sample::Signing;
use light_clients::ChainId;

use crate::apps::PortApps;
use crate::store::Store;

mod abci;
mod block;
mod error;
mod inputs;
mod keys;
mod open;
mod pint;
mod query;
mod snapshot;
mod witness;

#[cfg(test)]
mod abci_tests;
#[cfg(test)]
mod tests;

pub use abci::{AbciError, Finalized, TxOutcome};
pub use block::StoredBlock;
pub use error::{LedgerError, ReplayFault};
pub use inputs::Input;
pub use keys::{operator_key, KeyError};
pub use pint::PintReply;
pub use snapshot::SnapshotPolicy;
pub use witness::{Witness, ZkRecord};

use block::{next_time, Closed, Tip};
use inputs::BlockInputs;
use keys::{read_key, read_secret, write_secret, KeyRing};
use snapshot::SnapshotMark;
use witness::field_bytes;

/// Most validators a devnet ledger signs with (cmport: organisations, one orderer each).
pub const MAX_VALIDATORS: usize = 64;

/// How many transaction results are kept for `GET /v1/tx/{id}`.
const RECENT_TXS: usize = 20_000;

/// The format version of the records this ledger stores (inputs, snapshot mark).
pub const STORE_VERSION: u8 = 1;

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
    /// How submitted events are checked at this ledger's edge (`--strict-events`,
    /// `--dcsa-version`); replayed inputs are not checked against it again.
    event_options: adapters::events::Options,
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
    /// Under CometBFT (`abci`): the block finalized and not yet committed.
    closed: Option<Closed<F::Key>>,
    /// Under CometBFT: the next admin call's nonce (in the snapshot).
    admin_nonce: u64,
    /// Under CometBFT: the validator updates of the block being finalized.
    block_validators: Vec<(light_clients::host::RelayerKey, u64)>,
}

impl<F: Signing + IntoAny> Ledger<F> {
    pub fn height(&self) -> u64 {
        self.tip.height
    }

    /// The height of the block being built: what an input accepted now is
    /// sealed in (the RPC waits for it before answering an event).
    pub fn building_height(&self) -> u64 {
        self.building.height
    }

    /// Whether the block being built has anything in it.
    pub fn has_pending(&self) -> bool {
        self.pending_events
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn apps(&self) -> &PortApps {
        &self.apps
    }
}
