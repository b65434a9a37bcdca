//! The destination (and source) side of the packet protocol: what a ledger
//! runs on-chain. It keeps light clients of its counterparties, opens and
//! closes channels and creates or recovers clients on its operator's word,
//! receives packets whose Merkle proofs check against a header its own client
//! verified, writes receipts and acks, clears (or reverts) what it sent when
//! the ack comes back, and records misbehaviour.
//!
//! Everything here is deterministic and pure: the block's height and time
//! come in a [`BlockContext`], the applications are called through the
//! [`Apps`] trait, and the caller persists the [`Host`] value (it is serde).
//!
//! Messages are applied one by one; each is all or nothing. A relayer's batch
//! is therefore not atomic: a failed client update makes the proofs after it
//! fail on their own, and an "already received" packet is an outcome, not an
//! error, so a retry is always safe.
//!
//! Layout, one concern a file:
//! - this file: the [`Host`] value, the [`BlockContext`] and the message dispatch;
//! - `msg`: what relayers and the operator send ([`RelayMsg`], [`OperatorMsg`]),
//!   signed transactions ([`TxBody`], [`SignedTx`], [`RelayerKey`]) and [`Outcome`];
//! - `error`: [`HostError`] and its `check()` names;
//! - `accounts`: relayer [`Account`]s, transaction authentication, nonces;
//! - `channels`: [`Channel`] ends, opening and closing;
//! - `clients`: counterparty clients: creation, updates, misbehaviour, recovery;
//! - `packets`: sending, receiving and acknowledging packets; the [`Apps`] trait;
//! - `disclosure`: `groth16` paths: policies, verifying keys, disclosed packets;
//! - `block`: closing a block: [`BlockEvent`]s, [`BlockOutput`] and its roots;
//! - `tree`: the Merkle and Poseidon tree helpers ([`commit`], [`prove`],
//!   [`prove_all`], [`zk_root`]);
//! - `pairs`: maps with non-string keys in JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::any::{AnyClient, FamilyName};
use crate::hash::Hash32;
use crate::packet::{App, ChainId, ChannelId, PacketId};
use crate::time::Timestamp;
use crate::zk::{self, PathPolicy, VerifyingKeyBytes};

mod accounts;
mod block;
mod channels;
mod clients;
mod disclosure;
mod error;
mod msg;
mod packets;
mod pairs;
mod tree;

pub use accounts::{Account, NonceRule};
pub use block::{BlockEvent, BlockOutput};
pub use channels::Channel;
pub use clients::{MisbehaviourRecord, RecoveryRecord};
pub use error::HostError;
pub use msg::{
    EventProof, OperatorMsg, Outcome, RelayMsg, RelayerKey, SignedTx, TxBody, MAX_TX_BODY_BYTES,
    TX_VERSION,
};
pub use packets::{AppRefusal, Apps, Receipt, Sent};
pub use tree::{commit, prove, prove_all, zk_root};

/// The block a message is applied in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockContext {
    pub height: u64,
    pub time: Timestamp,
}

/// A ledger's interop state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    chain_id: ChainId,
    family: FamilyName,
    operator: RelayerKey,
    operator_nonce: u64,
    #[serde(with = "pairs")]
    relayers: BTreeMap<RelayerKey, Account>,
    #[serde(with = "pairs")]
    clients: BTreeMap<ChainId, AnyClient>,
    #[serde(with = "pairs")]
    channels: BTreeMap<ChannelId, Channel>,
    #[serde(with = "pairs")]
    sent: BTreeMap<PacketId, Sent>,
    #[serde(with = "pairs")]
    receipts: BTreeMap<PacketId, Receipt>,
    misbehaviour: Vec<MisbehaviourRecord>,
    recoveries: Vec<RecoveryRecord>,
    /// The current block's emitted events, in order.
    pending: Vec<BlockEvent>,
    /// Depth of each block's `zk_root` tree.
    #[serde(default = "default_zk_depth")]
    zk_depth: u32,
    /// The record leaves of the current block's packets, in order.
    #[serde(default)]
    zk_leaves: Vec<Hash32>,
    /// Each (source, app) path's policy; absent means `merkle`.
    #[serde(default, with = "pairs")]
    policies: BTreeMap<(ChainId, App), PathPolicy>,
    /// Each (source, app) path's verifying key, as registered.
    #[serde(default, with = "pairs")]
    zk_keys: BTreeMap<(ChainId, App), VerifyingKeyBytes>,
    /// The registered keys, decoded and prepared (derived from `zk_keys`).
    #[serde(skip)]
    prepared: BTreeMap<(ChainId, App), circuits::PreparedVerifyingKey>,
}

fn default_zk_depth() -> u32 {
    zk::DEFAULT_ZK_DEPTH
}

impl Host {
    pub fn new(chain_id: ChainId, family: FamilyName, operator: RelayerKey) -> Self {
        Host {
            chain_id,
            family,
            operator,
            operator_nonce: 0,
            relayers: BTreeMap::new(),
            clients: BTreeMap::new(),
            channels: BTreeMap::new(),
            sent: BTreeMap::new(),
            receipts: BTreeMap::new(),
            misbehaviour: Vec::new(),
            recoveries: Vec::new(),
            pending: Vec::new(),
            zk_depth: zk::DEFAULT_ZK_DEPTH,
            zk_leaves: Vec::new(),
            policies: BTreeMap::new(),
            zk_keys: BTreeMap::new(),
            prepared: BTreeMap::new(),
        }
    }

    /// The depth of this ledger's `zk_root` trees (1..=32; 16 by default).
    pub fn with_zk_depth(mut self, depth: u32) -> Result<Self, HostError> {
        if depth == 0 || depth > circuits::tree::MAX_DEPTH {
            return Err(HostError::Invalid {
                what: "zk depth",
                reason: format!("{depth} is outside 1..={}", circuits::tree::MAX_DEPTH),
            });
        }
        self.zk_depth = depth;
        Ok(self)
    }

    pub fn zk_depth(&self) -> u32 {
        self.zk_depth
    }

    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    pub fn family(&self) -> FamilyName {
        self.family
    }

    pub fn operator(&self) -> RelayerKey {
        self.operator
    }

    /// Applies an operator message (authenticated by [`Host::authenticate`]).
    pub fn apply_operator(
        &mut self,
        msg: &OperatorMsg,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        match msg {
            OperatorMsg::CreateClient { root, options } => self.create_client(root, options),
            OperatorMsg::RecoverClient {
                chain,
                root,
                reason,
            } => self.recover_client(chain, root, reason, ctx),
            OperatorMsg::OpenChannel { channel, version } => self.open_channel(channel, version),
            OperatorMsg::CloseChannel { channel } => self.close_channel(channel),
            OperatorMsg::RegisterRelayer { key } => self.register_relayer(key),
            OperatorMsg::RetireRelayer { key } => self.retire_relayer(key),
            OperatorMsg::SetPathPolicy {
                source,
                app,
                policy,
            } => self.set_path_policy(source, app, policy),
            OperatorMsg::RegisterVerifyingKey { source, app, key } => {
                self.register_verifying_key(source, app, key)
            }
        }
    }

    /// Applies one relayer message.
    pub fn apply_relay(
        &mut self,
        msg: &RelayMsg,
        apps: &mut dyn Apps,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        match msg {
            RelayMsg::UpdateClient { chain, header } => self.update_client(chain, header, ctx),
            RelayMsg::SubmitMisbehaviour { chain, evidence } => {
                self.submit_misbehaviour(chain, evidence, ctx)
            }
            RelayMsg::RecvPacket { packet, proof } => self.recv_packet(packet, proof, apps, ctx),
            RelayMsg::Acknowledge { ack, proof } => self.acknowledge(ack, proof, apps, ctx),
            RelayMsg::RecvDisclosed { .. } => {
                let checked = self.check_proofs(std::slice::from_ref(msg));
                self.apply_checked(msg, checked.into_iter().next().flatten(), apps, ctx)
            }
        }
    }

    /// Applies a relayer's messages in order, as [`Host::apply_relay`] does
    /// one by one, except that the Groth16 proofs of all its `RecvDisclosed`
    /// messages are verified first in one batch per path (a proof shared by
    /// several packets once), with coefficients derived from the batch.
    pub fn apply_relay_tx(
        &mut self,
        msgs: &[RelayMsg],
        apps: &mut dyn Apps,
        ctx: &BlockContext,
    ) -> Vec<Result<Outcome, HostError>> {
        let checked = self.check_proofs(msgs);
        msgs.iter()
            .zip(checked)
            .map(|(msg, checked)| self.apply_checked(msg, checked, apps, ctx))
            .collect()
    }

    fn apply_checked(
        &mut self,
        msg: &RelayMsg,
        checked: Option<Result<(), HostError>>,
        apps: &mut dyn Apps,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        match msg {
            RelayMsg::RecvDisclosed {
                packet,
                proof,
                disclosure,
            } => {
                let checked = checked.unwrap_or(Err(HostError::Disclosure {
                    reason: "proof not checked".into(),
                }));
                self.recv_disclosed(packet, proof, disclosure, checked, apps, ctx)
            }
            other => self.apply_relay(other, apps, ctx),
        }
    }
}
