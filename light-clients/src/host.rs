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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::any::{AnyClient, AnyClientError, AnyHeader, AnyMisbehaviour, AnyTrustRoot, FamilyName};
use crate::client::{Recovery, Status, UpdateOutcome};
use crate::codec::Canonical;
use crate::hash::{sha256, Hash32, HashAlgorithm};
use crate::merkle::{self, MerkleProof};
use crate::packet::App;
use crate::packet::{
    Ack, AckResult, ChainId, ChannelId, ChannelState, ClientSummary, EventLeaf, Packet, PacketId,
    Roots, StateLeaf, Timeout,
};
use crate::time::Timestamp;
use crate::verify::TrustOptions;
use crate::zk::{self, Disclosure, PathPolicy, VerifyingKeyBytes};

/// The block a message is applied in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockContext {
    pub height: u64,
    pub time: Timestamp,
}

/// Where a proven event sits: the verified header that commits it, the roots
/// opening (gba, where roots sit behind `app_hash`) and the inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventProof {
    pub height: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<Roots>,
    pub proof: MerkleProof,
}

/// What a relayer may ask of a ledger.
#[allow(clippy::large_enum_variant)] // evidence carries two headers; messages are short-lived
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RelayMsg {
    /// Verify a counterparty header and keep it.
    UpdateClient { chain: ChainId, header: AnyHeader },
    /// Freeze a counterparty client with evidence.
    SubmitMisbehaviour {
        chain: ChainId,
        evidence: AnyMisbehaviour,
    },
    /// Deliver a packet this ledger is the destination of.
    RecvPacket { packet: Packet, proof: EventProof },
    /// Bring back the destination's ack of a packet this ledger sent.
    Acknowledge { ack: Ack, proof: EventProof },
    /// Deliver a packet of a `groth16` path: its payload is the record's
    /// commitment, `disclosure` proves what the destination asked of the record.
    RecvDisclosed {
        packet: Packet,
        proof: EventProof,
        disclosure: Disclosure,
    },
}

/// What only the ledger's operator may do.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OperatorMsg {
    CreateClient {
        root: AnyTrustRoot,
        options: TrustOptions,
    },
    RecoverClient {
        chain: ChainId,
        root: AnyTrustRoot,
        reason: String,
    },
    OpenChannel {
        channel: ChannelId,
        version: String,
    },
    CloseChannel {
        channel: ChannelId,
    },
    RegisterRelayer {
        key: RelayerKey,
    },
    RetireRelayer {
        key: RelayerKey,
    },
    /// How this ledger takes packets from `source` for `app` (`merkle` by default).
    SetPathPolicy {
        source: ChainId,
        app: App,
        policy: PathPolicy,
    },
    /// The Groth16 verifying key of `source`'s disclosure proofs for `app`.
    RegisterVerifyingKey {
        source: ChainId,
        app: App,
        key: VerifyingKeyBytes,
    },
}

/// An Ed25519 public key that signs transactions, hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelayerKey(pub [u8; 32]);

impl core::fmt::Debug for RelayerKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RelayerKey({})", hex::encode(self.0))
    }
}

impl core::fmt::Display for RelayerKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl Serialize for RelayerKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for RelayerKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&s, &mut out).map_err(|e| {
            serde::de::Error::custom(format!("expected a 64-hex-digit Ed25519 key: {e}"))
        })?;
        Ok(RelayerKey(out))
    }
}

/// The body of a transaction: the operator's message or a relayer's batch.
#[allow(clippy::large_enum_variant)] // one per transaction
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "messages", rename_all = "snake_case")]
pub enum TxBody {
    Operator(OperatorMsg),
    Relay(Vec<RelayMsg>),
}

/// A signed transaction. The signature covers the exact body text, so no
/// canonical JSON is needed: `sign_bytes` below.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTx {
    pub version: u8,
    pub chain_id: ChainId,
    pub signer: RelayerKey,
    pub nonce: u64,
    /// The JSON of a [`TxBody`], as signed.
    pub body: String,
    #[serde(with = "crate::packet::hex_bytes")]
    pub signature: Vec<u8>,
}

/// The transaction format version.
pub const TX_VERSION: u8 = 1;
/// The largest transaction body accepted.
pub const MAX_TX_BODY_BYTES: usize = 8 * 1024 * 1024;

impl SignedTx {
    /// `"portrelay/tx/v1" || 0x00 || chain_id || 0x00 || nonce (u64 LE) || body`.
    pub fn sign_bytes(chain_id: &ChainId, nonce: u64, body: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + 64);
        out.extend_from_slice(b"portrelay/tx/v1\0");
        out.extend_from_slice(chain_id.as_str().as_bytes());
        out.push(0);
        out.extend_from_slice(&nonce.to_le_bytes());
        out.extend_from_slice(body.as_bytes());
        out
    }

    /// Signs `body` for `chain_id` with `key` at `nonce`.
    pub fn sign(
        key: &ed25519_consensus::SigningKey,
        chain_id: &ChainId,
        nonce: u64,
        body: &TxBody,
    ) -> Self {
        let body = serde_json::to_string(body).unwrap_or_default();
        let signature = key
            .sign(&Self::sign_bytes(chain_id, nonce, &body))
            .to_bytes()
            .to_vec();
        SignedTx {
            version: TX_VERSION,
            chain_id: chain_id.clone(),
            signer: RelayerKey(key.verification_key().to_bytes()),
            nonce,
            body,
            signature,
        }
    }

    /// The transaction's id: SHA-256 of its signature bytes and body.
    pub fn id(&self) -> Hash32 {
        sha256(&[
            &Self::sign_bytes(&self.chain_id, self.nonce, &self.body),
            &self.signature,
        ])
    }
}

/// Why a transaction or message was refused; each names its check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The transaction's format version is unknown.
    #[error("unsupported transaction version {found} (supported: {TX_VERSION})")]
    UnsupportedVersion { found: u8 },
    /// The transaction is for another ledger.
    #[error("transaction is for chain {found}, this is {expected}")]
    WrongChain { expected: ChainId, found: ChainId },
    /// The body is not a transaction body, or too large.
    #[error("malformed transaction body: {reason}")]
    MalformedBody { reason: String },
    /// The signer is neither the operator nor a registered relayer.
    #[error("key {key} is not registered on this ledger")]
    UnregisteredKey { key: RelayerKey },
    /// The signer was registered and has been retired.
    #[error("key {key} was retired")]
    RetiredKey { key: RelayerKey },
    /// The signature does not verify for the signer.
    #[error("bad transaction signature from {key}")]
    BadSignature { key: RelayerKey },
    /// The nonce is not the signer's next one.
    #[error("wrong nonce for {key}: expected {expected}, got {got}")]
    WrongNonce {
        key: RelayerKey,
        expected: u64,
        got: u64,
    },
    /// An operator message signed by someone else.
    #[error("only the operator may do this; {key} is not the operator")]
    NotOperator { key: RelayerKey },
    /// No client of that counterparty.
    #[error("no client of chain {chain}")]
    UnknownClient { chain: ChainId },
    /// A client of that counterparty exists already.
    #[error("a client of chain {chain} exists already")]
    ClientExists { chain: ChainId },
    /// The client refused (verification, frozen, expired, proof ...).
    #[error("client of {chain}: {source}")]
    Client {
        chain: ChainId,
        source: AnyClientError,
    },
    /// The channel does not exist on this ledger.
    #[error("no channel {channel}")]
    UnknownChannel { channel: ChannelId },
    /// The channel exists already.
    #[error("channel {channel} exists already")]
    ChannelExists { channel: ChannelId },
    /// The channel is closed.
    #[error("channel {channel} is closed")]
    ChannelClosed { channel: ChannelId },
    /// The channel does not end or start on this ledger.
    #[error("channel {channel} does not touch this chain ({chain})")]
    ForeignChannel { channel: ChannelId, chain: ChainId },
    /// The packet is not the next one of its ordered channel.
    #[error("out of order on {channel}: expected sequence {expected}, got {got}")]
    OutOfOrder {
        channel: ChannelId,
        expected: u64,
        got: u64,
    },
    /// A different packet under a sequence already received: the source misbehaved.
    #[error("conflicting packet {packet}: received {received}, now {offered}")]
    ConflictingPacket {
        packet: PacketId,
        received: Hash32,
        offered: Hash32,
    },
    /// An ack for a packet this ledger has no record of sending.
    #[error("no packet {packet} awaiting an ack")]
    UnknownPacket { packet: PacketId },
    /// The ack answers another packet than the one sent under that id.
    #[error("ack of {packet} is for commitment {acked}, sent was {sent}")]
    AckMismatch {
        packet: PacketId,
        sent: Hash32,
        acked: Hash32,
    },
    /// A packet, ack or message that breaks its own rules.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    /// The packet came in the form the path's policy does not take.
    #[error("{from}/{app} is a {policy} path on this ledger; got a {got} delivery")]
    PathPolicy {
        from: ChainId,
        app: App,
        policy: &'static str,
        got: &'static str,
    },
    /// No verifying key is registered for the path.
    #[error("no verifying key registered for {from}/{app}")]
    NoVerifyingKey { from: ChainId, app: App },
    /// A verifying key that does not decode or has the wrong shape.
    #[error("bad verifying key: {reason}")]
    BadVerifyingKey { reason: String },
    /// The disclosure is malformed or does not cover the packet.
    #[error("bad disclosure: {reason}")]
    Disclosure { reason: String },
    /// The disclosure's rules for a record are not what the policy asks.
    #[error("disclosure of {packet} does not follow the policy: {reason}")]
    DisclosurePolicy { packet: PacketId, reason: String },
    /// The disclosure is against another `zk_root` than the verified header's.
    #[error("disclosure is against zk_root {claimed}, the verified header at {height} commits {committed}")]
    ZkRootMismatch {
        height: u64,
        claimed: Hash32,
        committed: Hash32,
    },
    /// The Groth16 proof does not verify.
    #[error("groth16: {source}")]
    Groth16 { source: circuits::VerifyError },
}

impl HostError {
    /// The stable name of the failed check.
    pub fn check(&self) -> &'static str {
        match self {
            HostError::UnsupportedVersion { .. } => "version",
            HostError::WrongChain { .. } => "chain_id",
            HostError::MalformedBody { .. } => "malformed",
            HostError::UnregisteredKey { .. } => "unregistered_key",
            HostError::RetiredKey { .. } => "retired_key",
            HostError::BadSignature { .. } => "signature",
            HostError::WrongNonce { .. } => "nonce",
            HostError::NotOperator { .. } => "not_operator",
            HostError::UnknownClient { .. } => "unknown_client",
            HostError::ClientExists { .. } => "client_exists",
            HostError::Client { source, .. } => source.check(),
            HostError::UnknownChannel { .. } => "unknown_channel",
            HostError::ChannelExists { .. } => "channel_exists",
            HostError::ChannelClosed { .. } => "channel_closed",
            HostError::ForeignChannel { .. } => "foreign_channel",
            HostError::OutOfOrder { .. } => "out_of_order",
            HostError::ConflictingPacket { .. } => "conflicting_packet",
            HostError::UnknownPacket { .. } => "unknown_packet",
            HostError::AckMismatch { .. } => "ack_mismatch",
            HostError::Invalid { .. } => "invalid",
            HostError::PathPolicy { .. } => "path_policy",
            HostError::NoVerifyingKey { .. } => "no_verifying_key",
            HostError::BadVerifyingKey { .. } => "verifying_key",
            HostError::Disclosure { .. } => "disclosure",
            HostError::DisclosurePolicy { .. } => "disclosure_policy",
            HostError::ZkRootMismatch { .. } => "zk_root",
            HostError::Groth16 { source } => match source {
                circuits::VerifyError::BadPoint { .. } => "groth16_point",
                circuits::VerifyError::ParamsMismatch { .. }
                | circuits::VerifyError::RecordCount { .. }
                | circuits::VerifyError::RuleCount { .. } => "groth16_statement",
                _ => "groth16",
            },
        }
    }
}

/// What a message did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    ClientCreated {
        chain: ChainId,
        height: u64,
    },
    ClientUpdated {
        chain: ChainId,
        height: u64,
    },
    ClientAlreadyKnown {
        chain: ChainId,
        height: u64,
    },
    /// The header or evidence proved misbehaviour: the client is frozen.
    ClientFrozen {
        chain: ChainId,
        evidence: crate::client::Evidence,
    },
    ClientRecovered {
        chain: ChainId,
        height: u64,
    },
    ChannelOpened {
        channel: ChannelId,
    },
    ChannelClosed {
        channel: ChannelId,
    },
    RelayerRegistered {
        key: RelayerKey,
    },
    RelayerRetired {
        key: RelayerKey,
    },
    PathPolicySet {
        source: ChainId,
        app: App,
        mode: String,
    },
    VerifyingKeyRegistered {
        source: ChainId,
        app: App,
        shape: String,
    },
    /// Delivered; the ack written says how the app took it.
    Received {
        packet: PacketId,
        ack: AckResult,
    },
    /// The same packet again: nothing done, safe to retry.
    AlreadyReceived {
        packet: PacketId,
    },
    /// The ack cleared the sent packet (or reverted it, for `timeout`).
    Acknowledged {
        packet: PacketId,
        result: AckResult,
    },
    /// That ack was already processed: nothing done.
    AlreadyAcknowledged {
        packet: PacketId,
    },
}

/// A channel's end on this ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub version: String,
    pub open: bool,
    pub next_send: u64,
    pub next_recv: u64,
    pub next_ack: u64,
}

impl Channel {
    pub fn state(&self) -> ChannelState {
        ChannelState {
            channel: self.id.clone(),
            next_send: self.next_send,
            next_recv: self.next_recv,
            next_ack: self.next_ack,
        }
    }
}

/// Which end of a channel a ledger is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Source,
    Destination,
}

/// What this ledger remembers of a packet it sent, until the ack comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    pub packet: Packet,
    pub commitment: Hash32,
}

/// What this ledger remembers of a packet it received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub commitment: Hash32,
    pub result: AckResult,
    pub height: u64,
}

/// A packet or ack this ledger emitted in a block: a leaf of its events tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlockEvent {
    Packet { packet: Packet },
    Ack { ack: Ack },
}

impl BlockEvent {
    pub fn leaf(&self) -> EventLeaf {
        match self {
            BlockEvent::Packet { packet } => EventLeaf::from(packet),
            BlockEvent::Ack { ack } => EventLeaf::from(ack),
        }
    }
}

/// Something the host saw a counterparty do wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MisbehaviourRecord {
    /// A proven packet different from the one received under its sequence.
    ConflictingPacket {
        height: u64,
        packet: PacketId,
        received: Hash32,
        offered: Hash32,
    },
    /// A counterparty client froze on evidence.
    ClientFrozen {
        height: u64,
        chain: ChainId,
        evidence: crate::client::Evidence,
    },
}

/// An authorised recovery, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryRecord {
    pub chain: ChainId,
    pub height: u64,
    pub recovery: Recovery,
}

/// The ledger's applications, as the host sees them.
pub trait Apps {
    /// Applies a received packet: `Ok` writes an `ok` ack, `Err(reason)` an
    /// `error` ack. The app must change nothing when it returns `Err`.
    fn on_recv(&mut self, packet: &Packet, ctx: &BlockContext) -> Result<(), String>;
    /// The destination acknowledged a packet this ledger sent; on `timeout`
    /// (or `error`) the app reverts what it did when sending.
    fn on_ack(&mut self, packet: &Packet, result: &AckResult, ctx: &BlockContext);
    /// Applies a packet of a `groth16` path: `rules` are what was proven of
    /// its record (one per field, in the record's layout; the packet's
    /// payload is only the record's commitment). Apps that take no
    /// disclosures answer with an `error` ack.
    fn on_recv_disclosed(
        &mut self,
        packet: &Packet,
        rules: &[circuits::Rule],
        ctx: &BlockContext,
    ) -> Result<(), String> {
        let _ = (rules, ctx);
        Err(format!(
            "this ledger's apps take no disclosures ({})",
            packet.id.channel.app
        ))
    }
}

/// A relayer account: its next nonce, and whether it was retired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub next_nonce: u64,
    pub retired: bool,
}

/// A ledger's interop state.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// What a finished block commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockOutput {
    pub events: Vec<BlockEvent>,
    pub channel_states: Vec<ChannelState>,
    pub client_states: Vec<ClientSummary>,
    pub roots: Roots,
}

impl BlockOutput {
    /// The state tree's leaves: channels, then clients.
    pub fn state_leaves(
        channel_states: &[ChannelState],
        client_states: &[ClientSummary],
    ) -> Vec<StateLeaf> {
        channel_states
            .iter()
            .cloned()
            .map(StateLeaf::Channel)
            .chain(client_states.iter().cloned().map(StateLeaf::Client))
            .collect()
    }
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

    /// How this ledger takes packets from `source` for `app`.
    pub fn path_policy(&self, source: &ChainId, app: App) -> PathPolicy {
        self.policies
            .get(&(source.clone(), app))
            .cloned()
            .unwrap_or_default()
    }

    /// The verifying key registered for (`source`, `app`).
    pub fn verifying_key(&self, source: &ChainId, app: App) -> Option<&VerifyingKeyBytes> {
        self.zk_keys.get(&(source.clone(), app))
    }

    /// Whether packets sent on `channel` carry record commitments.
    pub fn is_confidential(&self, channel: &ChannelId) -> bool {
        self.channels
            .get(channel)
            .is_some_and(|c| zk::is_confidential(&c.version))
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

    pub fn client(&self, chain: &ChainId) -> Option<&AnyClient> {
        self.clients.get(chain)
    }

    pub fn clients(&self) -> impl Iterator<Item = (&ChainId, &AnyClient)> {
        self.clients.iter()
    }

    pub fn channel(&self, id: &ChannelId) -> Option<&Channel> {
        self.channels.get(id)
    }

    pub fn channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels.values()
    }

    pub fn receipt(&self, id: &PacketId) -> Option<&Receipt> {
        self.receipts.get(id)
    }

    pub fn sent(&self, id: &PacketId) -> Option<&Sent> {
        self.sent.get(id)
    }

    pub fn misbehaviour(&self) -> &[MisbehaviourRecord] {
        &self.misbehaviour
    }

    pub fn recoveries(&self) -> &[RecoveryRecord] {
        &self.recoveries
    }

    pub fn account(&self, key: &RelayerKey) -> Option<&Account> {
        self.relayers.get(key)
    }

    /// The nonce `key` must use next.
    pub fn next_nonce(&self, key: &RelayerKey) -> Option<u64> {
        if *key == self.operator {
            return Some(self.operator_nonce);
        }
        self.relayers
            .get(key)
            .filter(|a| !a.retired)
            .map(|a| a.next_nonce)
    }

    /// Checks a transaction's envelope (version, chain, signer, signature,
    /// nonce), consumes the nonce, and returns its body. Nothing changes when
    /// it fails.
    pub fn authenticate(&mut self, tx: &SignedTx) -> Result<TxBody, HostError> {
        if tx.version != TX_VERSION {
            return Err(HostError::UnsupportedVersion { found: tx.version });
        }
        if tx.chain_id != self.chain_id {
            return Err(HostError::WrongChain {
                expected: self.chain_id.clone(),
                found: tx.chain_id.clone(),
            });
        }
        if tx.body.len() > MAX_TX_BODY_BYTES {
            return Err(HostError::MalformedBody {
                reason: format!("{} bytes, at most {MAX_TX_BODY_BYTES}", tx.body.len()),
            });
        }
        let key = tx.signer;
        let expected = if key == self.operator {
            self.operator_nonce
        } else {
            match self.relayers.get(&key) {
                None => return Err(HostError::UnregisteredKey { key }),
                Some(a) if a.retired => return Err(HostError::RetiredKey { key }),
                Some(a) => a.next_nonce,
            }
        };
        let verified = ed25519_consensus::VerificationKey::try_from(key.0)
            .and_then(|vk| {
                let sig = ed25519_consensus::Signature::try_from(tx.signature.as_slice())?;
                vk.verify(
                    &sig,
                    &SignedTx::sign_bytes(&tx.chain_id, tx.nonce, &tx.body),
                )
            })
            .is_ok();
        if !verified {
            return Err(HostError::BadSignature { key });
        }
        if tx.nonce != expected {
            return Err(HostError::WrongNonce {
                key,
                expected,
                got: tx.nonce,
            });
        }
        let body: TxBody =
            serde_json::from_str(&tx.body).map_err(|e| HostError::MalformedBody {
                reason: e.to_string(),
            })?;
        if matches!(body, TxBody::Operator(_)) && key != self.operator {
            return Err(HostError::NotOperator { key });
        }
        // The nonce is consumed once the envelope is good, whatever the messages do.
        if key == self.operator {
            self.operator_nonce = self.operator_nonce.saturating_add(1);
        } else if let Some(a) = self.relayers.get_mut(&key) {
            a.next_nonce = a.next_nonce.saturating_add(1);
        }
        Ok(body)
    }

    /// Applies an operator message (authenticated by [`Host::authenticate`]).
    pub fn apply_operator(
        &mut self,
        msg: &OperatorMsg,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        match msg {
            OperatorMsg::CreateClient { root, options } => {
                let client = AnyClient::create(root, *options).map_err(|e| HostError::Client {
                    chain: ChainId::new(root_chain(root)).unwrap_or_else(|_| self.chain_id.clone()),
                    source: e.into(),
                })?;
                let chain =
                    ChainId::new(client.chain_id()).map_err(|reason| HostError::Invalid {
                        what: "trust root",
                        reason,
                    })?;
                if chain == self.chain_id {
                    return Err(HostError::Invalid {
                        what: "trust root",
                        reason: "a ledger keeps no client of itself".into(),
                    });
                }
                if self.clients.contains_key(&chain) {
                    return Err(HostError::ClientExists { chain });
                }
                let height = client.latest_height();
                self.clients.insert(chain.clone(), client);
                Ok(Outcome::ClientCreated { chain, height })
            }
            OperatorMsg::RecoverClient {
                chain,
                root,
                reason,
            } => {
                let client =
                    self.clients
                        .get_mut(chain)
                        .ok_or_else(|| HostError::UnknownClient {
                            chain: chain.clone(),
                        })?;
                let recovery = Recovery {
                    authorised_by: self.operator.to_string(),
                    at: ctx.time,
                    reason: reason.clone(),
                };
                client
                    .recover(root, recovery.clone())
                    .map_err(|source| HostError::Client {
                        chain: chain.clone(),
                        source,
                    })?;
                let height = client.latest_height();
                self.recoveries.push(RecoveryRecord {
                    chain: chain.clone(),
                    height: ctx.height,
                    recovery,
                });
                Ok(Outcome::ClientRecovered {
                    chain: chain.clone(),
                    height,
                })
            }
            OperatorMsg::OpenChannel { channel, version } => {
                if channel.source != self.chain_id && channel.destination != self.chain_id {
                    return Err(HostError::ForeignChannel {
                        channel: channel.clone(),
                        chain: self.chain_id.clone(),
                    });
                }
                if channel.source == channel.destination {
                    return Err(HostError::Invalid {
                        what: "channel",
                        reason: "source and destination are the same chain".into(),
                    });
                }
                if version.is_empty() || version.len() > 64 {
                    return Err(HostError::Invalid {
                        what: "channel",
                        reason: "version must be 1 to 64 bytes".into(),
                    });
                }
                if self.channels.contains_key(channel) {
                    return Err(HostError::ChannelExists {
                        channel: channel.clone(),
                    });
                }
                let counterparty = if channel.source == self.chain_id {
                    &channel.destination
                } else {
                    &channel.source
                };
                if !self.clients.contains_key(counterparty) {
                    return Err(HostError::UnknownClient {
                        chain: counterparty.clone(),
                    });
                }
                self.channels.insert(
                    channel.clone(),
                    Channel {
                        id: channel.clone(),
                        version: version.clone(),
                        open: true,
                        next_send: 1,
                        next_recv: 1,
                        next_ack: 1,
                    },
                );
                Ok(Outcome::ChannelOpened {
                    channel: channel.clone(),
                })
            }
            OperatorMsg::CloseChannel { channel } => {
                let c =
                    self.channels
                        .get_mut(channel)
                        .ok_or_else(|| HostError::UnknownChannel {
                            channel: channel.clone(),
                        })?;
                if !c.open {
                    return Err(HostError::ChannelClosed {
                        channel: channel.clone(),
                    });
                }
                c.open = false;
                Ok(Outcome::ChannelClosed {
                    channel: channel.clone(),
                })
            }
            OperatorMsg::RegisterRelayer { key } => {
                if *key == self.operator {
                    return Err(HostError::Invalid {
                        what: "relayer key",
                        reason: "the operator key cannot be a relayer key".into(),
                    });
                }
                match self.relayers.get_mut(key) {
                    Some(a) if !a.retired => {}
                    // A retired key may come back; its nonce carries on, so old transactions stay spent.
                    Some(a) => a.retired = false,
                    None => {
                        self.relayers.insert(
                            *key,
                            Account {
                                next_nonce: 0,
                                retired: false,
                            },
                        );
                    }
                }
                Ok(Outcome::RelayerRegistered { key: *key })
            }
            OperatorMsg::RetireRelayer { key } => {
                let a = self
                    .relayers
                    .get_mut(key)
                    .ok_or(HostError::UnregisteredKey { key: *key })?;
                a.retired = true;
                Ok(Outcome::RelayerRetired { key: *key })
            }
            OperatorMsg::SetPathPolicy {
                source,
                app,
                policy,
            } => {
                if *source == self.chain_id {
                    return Err(HostError::Invalid {
                        what: "path policy",
                        reason: "a path comes from another ledger".into(),
                    });
                }
                policy.validate().map_err(|reason| HostError::Invalid {
                    what: "path policy",
                    reason,
                })?;
                self.policies.insert((source.clone(), *app), policy.clone());
                Ok(Outcome::PathPolicySet {
                    source: source.clone(),
                    app: *app,
                    mode: policy.mode().to_string(),
                })
            }
            OperatorMsg::RegisterVerifyingKey { source, app, key } => {
                let vk = circuits::groth16::vk_from_bytes(&key.0).map_err(|e| {
                    HostError::BadVerifyingKey {
                        reason: e.to_string(),
                    }
                })?;
                let path = (source.clone(), *app);
                self.prepared.insert(path.clone(), vk.prepare());
                self.zk_keys.insert(path, key.clone());
                Ok(Outcome::VerifyingKeyRegistered {
                    source: source.clone(),
                    app: *app,
                    shape: vk.params.to_string(),
                })
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
                let client =
                    self.clients
                        .get_mut(chain)
                        .ok_or_else(|| HostError::UnknownClient {
                            chain: chain.clone(),
                        })?;
                let evidence =
                    client
                        .submit_misbehaviour(evidence)
                        .map_err(|source| HostError::Client {
                            chain: chain.clone(),
                            source,
                        })?;
                self.misbehaviour.push(MisbehaviourRecord::ClientFrozen {
                    height: ctx.height,
                    chain: chain.clone(),
                    evidence: evidence.clone(),
                });
                Ok(Outcome::ClientFrozen {
                    chain: chain.clone(),
                    evidence,
                })
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

    /// The prepared key of a path, preparing it from the registered bytes
    /// the first time after a load.
    fn prepared_key(
        &mut self,
        source: &ChainId,
        app: App,
    ) -> Result<&circuits::PreparedVerifyingKey, HostError> {
        let path = (source.clone(), app);
        if !self.prepared.contains_key(&path) {
            let bytes = self
                .zk_keys
                .get(&path)
                .ok_or_else(|| HostError::NoVerifyingKey {
                    from: source.clone(),
                    app,
                })?;
            let vk = circuits::groth16::vk_from_bytes(&bytes.0).map_err(|e| {
                HostError::BadVerifyingKey {
                    reason: e.to_string(),
                }
            })?;
            self.prepared.insert(path.clone(), vk.prepare());
        }
        self.prepared
            .get(&path)
            .ok_or_else(|| HostError::NoVerifyingKey {
                from: source.clone(),
                app,
            })
    }

    /// The Groth16 verdict of each `RecvDisclosed` message (`None` for the
    /// others): its statement is built with the path's key shape, and the
    /// distinct (statement, proof) pairs of a path are batch-verified.
    fn check_proofs(&mut self, msgs: &[RelayMsg]) -> Vec<Option<Result<(), HostError>>> {
        type Item = (circuits::Statement, circuits::Proof);
        /// A path's distinct items, and (message, item) for each message using one.
        type Group = (Vec<Item>, Vec<(usize, usize)>);
        let mut verdicts: Vec<Option<Result<(), HostError>>> = vec![None; msgs.len()];
        let mut groups: BTreeMap<(ChainId, App), Group> = BTreeMap::new();
        for (i, msg) in msgs.iter().enumerate() {
            let RelayMsg::RecvDisclosed {
                packet, disclosure, ..
            } = msg
            else {
                continue;
            };
            let source = packet.id.channel.source.clone();
            let app = packet.id.channel.app;
            let item = self.prepared_key(&source, app).and_then(|pvk| {
                let statement = disclosure
                    .statement(pvk.params)
                    .map_err(|reason| HostError::Disclosure { reason })?;
                let proof = circuits::groth16::proof_from_bytes(&disclosure.proof)
                    .map_err(|source| HostError::Groth16 { source })?;
                Ok((statement, proof))
            });
            match item {
                Err(e) => verdicts[i] = Some(Err(e)),
                Ok(item) => {
                    let (items, users) = groups.entry((source, app)).or_default();
                    let at = match items.iter().position(|x| *x == item) {
                        Some(at) => at,
                        None => {
                            items.push(item);
                            items.len() - 1
                        }
                    };
                    users.push((i, at));
                }
            }
        }
        for ((source, app), (items, users)) in groups {
            let results: Vec<Result<(), HostError>> = match self.prepared_key(&source, app) {
                Err(e) => vec![Err(e); items.len()],
                Ok(pvk) => verify_items(pvk, &items),
            };
            for (i, at) in users {
                verdicts[i] = results.get(at).cloned();
            }
        }
        verdicts
    }

    fn update_client(
        &mut self,
        chain: &ChainId,
        header: &AnyHeader,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        let client = self
            .clients
            .get_mut(chain)
            .ok_or_else(|| HostError::UnknownClient {
                chain: chain.clone(),
            })?;
        let outcome = client
            .update(header, ctx.time)
            .map_err(|source| HostError::Client {
                chain: chain.clone(),
                source,
            })?;
        Ok(match outcome {
            UpdateOutcome::Updated { height } => Outcome::ClientUpdated {
                chain: chain.clone(),
                height,
            },
            UpdateOutcome::AlreadyKnown { height } => Outcome::ClientAlreadyKnown {
                chain: chain.clone(),
                height,
            },
            UpdateOutcome::Frozen(evidence) => {
                self.misbehaviour.push(MisbehaviourRecord::ClientFrozen {
                    height: ctx.height,
                    chain: chain.clone(),
                    evidence: evidence.clone(),
                });
                Outcome::ClientFrozen {
                    chain: chain.clone(),
                    evidence,
                }
            }
        })
    }

    fn client_of(&self, chain: &ChainId) -> Result<&AnyClient, HostError> {
        self.clients
            .get(chain)
            .ok_or_else(|| HostError::UnknownClient {
                chain: chain.clone(),
            })
    }

    fn verify(
        &self,
        chain: &ChainId,
        leaf: &EventLeaf,
        proof: &EventProof,
        ctx: &BlockContext,
    ) -> Result<(), HostError> {
        self.client_of(chain)?
            .verify_event(
                proof.height,
                ctx.time,
                proof.opening.as_ref(),
                leaf,
                &proof.proof,
            )
            .map_err(|e| HostError::Client {
                chain: chain.clone(),
                source: e.into(),
            })
    }

    /// This ledger's end of `id`: it must exist with this chain at `end`,
    /// and be open when `must_be_open`.
    fn channel_end(
        &self,
        id: &ChannelId,
        end: End,
        must_be_open: bool,
    ) -> Result<&Channel, HostError> {
        let here = match end {
            End::Source => &id.source,
            End::Destination => &id.destination,
        };
        if *here != self.chain_id {
            return Err(HostError::ForeignChannel {
                channel: id.clone(),
                chain: self.chain_id.clone(),
            });
        }
        let channel = self
            .channels
            .get(id)
            .ok_or_else(|| HostError::UnknownChannel {
                channel: id.clone(),
            })?;
        if must_be_open && !channel.open {
            return Err(HostError::ChannelClosed {
                channel: id.clone(),
            });
        }
        Ok(channel)
    }

    fn recv_packet(
        &mut self,
        packet: &Packet,
        proof: &EventProof,
        apps: &mut dyn Apps,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        packet.validate().map_err(|reason| HostError::Invalid {
            what: "packet",
            reason,
        })?;
        let channel_id = &packet.id.channel;
        self.channel_end(channel_id, End::Destination, true)?;
        let policy = self.path_policy(&channel_id.source, channel_id.app);
        if policy != PathPolicy::Merkle {
            return Err(HostError::PathPolicy {
                from: channel_id.source.clone(),
                app: channel_id.app,
                policy: policy.mode(),
                got: "merkle",
            });
        }
        let leaf = EventLeaf::from(packet);
        self.verify(&channel_id.source, &leaf, proof, ctx)?;
        self.deliver(
            packet,
            leaf,
            ctx,
            |apps, packet, ctx| apps.on_recv(packet, ctx),
            apps,
        )
    }

    fn recv_disclosed(
        &mut self,
        packet: &Packet,
        proof: &EventProof,
        disclosure: &Disclosure,
        checked: Result<(), HostError>,
        apps: &mut dyn Apps,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        packet.validate().map_err(|reason| HostError::Invalid {
            what: "packet",
            reason,
        })?;
        let channel_id = &packet.id.channel;
        self.channel_end(channel_id, End::Destination, true)?;
        let (source, app) = (&channel_id.source, channel_id.app);
        let policy = self.path_policy(source, app);
        if policy == PathPolicy::Merkle {
            return Err(HostError::PathPolicy {
                from: source.clone(),
                app,
                policy: policy.mode(),
                got: "groth16",
            });
        }
        // Whatever the proofs say, a full event must not be taken here.
        if packet.payload.len() != zk::COMMITMENT_BYTES {
            return Err(HostError::Disclosure {
                reason: format!(
                    "the payload is {} bytes, a record commitment is {}: the source's channel is not confidential",
                    packet.payload.len(),
                    zk::COMMITMENT_BYTES
                ),
            });
        }
        let leaf = EventLeaf::from(packet);
        self.verify(source, &leaf, proof, ctx)?;
        let index = disclosure
            .index_of(&packet.id)
            .map_err(|reason| HostError::Disclosure { reason })?;
        let width = self.prepared_key(source, app)?.params.width;
        let rules = disclosure.records[index]
            .rules
            .iter()
            .map(zk::DisclosedRule::to_rule)
            .collect::<Result<Vec<_>, String>>()
            .map_err(|reason| HostError::Disclosure { reason })?;
        check_against_policy(&policy, &packet.id, &rules, width)?;
        let roots = self
            .client_of(source)?
            .roots_at(proof.height, ctx.time, proof.opening.as_ref())
            .map_err(|e| HostError::Client {
                chain: source.clone(),
                source: e.into(),
            })?;
        if roots.zk_root != disclosure.zk_root {
            return Err(HostError::ZkRootMismatch {
                height: proof.height,
                claimed: disclosure.zk_root,
                committed: roots.zk_root,
            });
        }
        checked?;
        self.deliver(
            packet,
            leaf,
            ctx,
            |apps, packet, ctx| apps.on_recv_disclosed(packet, &rules, ctx),
            apps,
        )
    }

    /// Receipt, order and app call, once the packet's proofs are checked.
    fn deliver(
        &mut self,
        packet: &Packet,
        leaf: EventLeaf,
        ctx: &BlockContext,
        apply: impl FnOnce(&mut dyn Apps, &Packet, &BlockContext) -> Result<(), String>,
        apps: &mut dyn Apps,
    ) -> Result<Outcome, HostError> {
        let id = &packet.id;
        let channel_id = &id.channel;
        let next_recv = self
            .channel_end(channel_id, End::Destination, true)?
            .next_recv;
        if let Some(receipt) = self.receipts.get(id) {
            if receipt.commitment == leaf.commitment {
                return Ok(Outcome::AlreadyReceived { packet: id.clone() });
            }
            let (received, offered) = (receipt.commitment, leaf.commitment);
            self.misbehaviour
                .push(MisbehaviourRecord::ConflictingPacket {
                    height: ctx.height,
                    packet: id.clone(),
                    received,
                    offered,
                });
            return Err(HostError::ConflictingPacket {
                packet: id.clone(),
                received,
                offered,
            });
        }
        if id.sequence != next_recv {
            return Err(HostError::OutOfOrder {
                channel: channel_id.clone(),
                expected: next_recv,
                got: id.sequence,
            });
        }
        let result = if timed_out(&packet.timeout, ctx) {
            AckResult::Timeout
        } else {
            match apply(apps, packet, ctx) {
                Ok(()) => AckResult::Ok,
                Err(reason) => AckResult::Error(bounded_reason(reason)),
            }
        };
        let ack = Ack {
            packet: id.clone(),
            packet_commitment: leaf.commitment,
            result: result.clone(),
        };
        self.receipts.insert(
            id.clone(),
            Receipt {
                commitment: leaf.commitment,
                result: result.clone(),
                height: ctx.height,
            },
        );
        if let Some(c) = self.channels.get_mut(channel_id) {
            c.next_recv = c.next_recv.saturating_add(1);
        }
        self.pending.push(BlockEvent::Ack { ack });
        Ok(Outcome::Received {
            packet: id.clone(),
            ack: result,
        })
    }

    fn acknowledge(
        &mut self,
        ack: &Ack,
        proof: &EventProof,
        apps: &mut dyn Apps,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        ack.validate().map_err(|reason| HostError::Invalid {
            what: "ack",
            reason,
        })?;
        let id = &ack.packet;
        // Acks still come back after a channel closed: what was sent is settled.
        let channel = self.channel_end(&id.channel, End::Source, false)?;
        self.verify(&id.channel.destination, &EventLeaf::from(ack), proof, ctx)?;
        let Some(sent) = self.sent.get(id) else {
            if id.sequence < channel.next_send {
                return Ok(Outcome::AlreadyAcknowledged { packet: id.clone() });
            }
            return Err(HostError::UnknownPacket { packet: id.clone() });
        };
        if sent.commitment != ack.packet_commitment {
            return Err(HostError::AckMismatch {
                packet: id.clone(),
                sent: sent.commitment,
                acked: ack.packet_commitment,
            });
        }
        let packet = sent.packet.clone();
        apps.on_ack(&packet, &ack.result, ctx);
        self.sent.remove(id);
        let sent = &self.sent;
        if let Some(c) = self.channels.get_mut(&id.channel) {
            // `next_ack` is the lowest sequence still awaiting its ack.
            while c.next_ack < c.next_send
                && !sent.contains_key(&PacketId {
                    channel: c.id.clone(),
                    sequence: c.next_ack,
                })
            {
                c.next_ack += 1;
            }
        }
        Ok(Outcome::Acknowledged {
            packet: id.clone(),
            result: ack.result.clone(),
        })
    }

    /// Sends a packet on an open channel from this ledger (called by its
    /// apps). The packet has no record in `zk_root`, so it cannot go on a
    /// confidential channel.
    pub fn send_packet(
        &mut self,
        channel: &ChannelId,
        payload: Vec<u8>,
        timeout: Timeout,
    ) -> Result<Packet, HostError> {
        if self.is_confidential(channel) {
            return Err(HostError::Invalid {
                what: "packet",
                reason: format!("{channel} is confidential: a packet on it needs a record"),
            });
        }
        self.send(channel, payload, timeout)
    }

    /// Sends a packet whose record has leaf `leaf` (the ledger salts and
    /// hashes the record: the secret salt never reaches the host): the leaf
    /// goes into this block's `zk_root` tree, after the records sent before
    /// it. On a confidential channel the payload must be the leaf itself
    /// ([`zk::commitment_payload`]), so the event never leaves the ledger.
    pub fn send_packet_with_record(
        &mut self,
        channel: &ChannelId,
        payload: Vec<u8>,
        timeout: Timeout,
        leaf: &circuits::Fr,
    ) -> Result<Packet, HostError> {
        if self.is_confidential(channel) && payload != zk::commitment_payload(leaf) {
            return Err(HostError::Invalid {
                what: "packet",
                reason: format!(
                    "{channel} is confidential: the payload must be the record's commitment"
                ),
            });
        }
        let capacity = 1u64 << self.zk_depth.min(63);
        if self.zk_leaves.len() as u64 >= capacity {
            return Err(HostError::Invalid {
                what: "packet",
                reason: format!(
                    "this block's zk tree is full ({capacity} records at depth {})",
                    self.zk_depth
                ),
            });
        }
        let packet = self.send(channel, payload, timeout)?;
        self.zk_leaves.push(zk::fr_hash(leaf));
        Ok(packet)
    }

    fn send(
        &mut self,
        channel: &ChannelId,
        payload: Vec<u8>,
        timeout: Timeout,
    ) -> Result<Packet, HostError> {
        self.channel_end(channel, End::Source, true)?;
        let Some(c) = self.channels.get_mut(channel) else {
            return Err(HostError::UnknownChannel {
                channel: channel.clone(),
            });
        };
        let packet = Packet {
            id: PacketId {
                channel: channel.clone(),
                sequence: c.next_send,
            },
            timeout,
            payload,
        };
        packet.validate().map_err(|reason| HostError::Invalid {
            what: "packet",
            reason,
        })?;
        c.next_send = c.next_send.saturating_add(1);
        let commitment = packet.commitment();
        self.sent.insert(
            packet.id.clone(),
            Sent {
                packet: packet.clone(),
                commitment,
            },
        );
        self.pending.push(BlockEvent::Packet {
            packet: packet.clone(),
        });
        Ok(packet)
    }

    /// Closes the block: the events it emitted, the channel states after it,
    /// and the roots a header commits.
    pub fn end_block(&mut self) -> BlockOutput {
        let events = std::mem::take(&mut self.pending);
        let channel_states: Vec<ChannelState> =
            self.channels.values().map(Channel::state).collect();
        let client_states: Vec<ClientSummary> = self
            .clients
            .iter()
            .map(|(chain, c)| ClientSummary {
                chain: chain.clone(),
                latest_height: c.latest_height(),
                latest_hash: c.latest_hash(),
                frozen: c.frozen().is_some(),
            })
            .collect();
        let alg = self.family.tree_hash();
        let event_leaves: Vec<Vec<u8>> = events.iter().map(|e| e.leaf().encode()).collect();
        let state_leaves: Vec<Vec<u8>> = BlockOutput::state_leaves(&channel_states, &client_states)
            .iter()
            .map(Canonical::encode)
            .collect();
        let zk_leaves = std::mem::take(&mut self.zk_leaves);
        let roots = Roots {
            events: commit(alg, &event_leaves),
            state: commit(alg, &state_leaves),
            zk_root: zk_root(self.zk_depth, &zk_leaves),
        };
        BlockOutput {
            events,
            channel_states,
            client_states,
            roots,
        }
    }

    /// Whether a counterparty client can be used now.
    pub fn client_status(&self, chain: &ChainId, now: Timestamp) -> Option<Status> {
        self.clients.get(chain).map(|c| c.status(now))
    }
}

/// The root of a block's records tree: the sparse Poseidon tree of `depth`
/// over `leaves` in order, as 32 big-endian bytes.
pub fn zk_root(depth: u32, leaves: &[Hash32]) -> Hash32 {
    let leaves: Vec<circuits::Fr> = leaves
        .iter()
        // Leaves are field elements the host wrote itself (`fr_hash`).
        .filter_map(|h| circuits::encode::fr_from_bytes(h.as_bytes()).ok())
        .collect();
    // `send_packet_with_record` keeps the count within the depth's capacity.
    match circuits::Tree::new(depth, leaves) {
        Ok(tree) => zk::fr_hash(&tree.root()),
        Err(_) => Hash32::ZERO,
    }
}

/// The verdict on each distinct (statement, proof) of one key: one batch,
/// or a single verification for one item.
fn verify_items(
    pvk: &circuits::PreparedVerifyingKey,
    items: &[(circuits::Statement, circuits::Proof)],
) -> Vec<Result<(), HostError>> {
    let groth16 = |source| HostError::Groth16 { source };
    if let [(statement, proof)] = items {
        return vec![circuits::verify(pvk, statement, proof).map_err(groth16)];
    }
    let refs: Vec<(&circuits::Statement, &circuits::Proof)> =
        items.iter().map(|(s, p)| (s, p)).collect();
    match circuits::verify_batch(pvk, &refs) {
        Ok(()) => vec![Ok(()); items.len()],
        Err(circuits::VerifyError::Batch { bad }) => (0..items.len())
            .map(|i| {
                if bad.contains(&i) {
                    Err(groth16(circuits::VerifyError::Pairing))
                } else {
                    Ok(())
                }
            })
            .collect(),
        Err(e) => vec![Err(groth16(e)); items.len()],
    }
}

/// Checks a record's proven rules against what the policy asks for its
/// kind: field 0 disclosed (the kind), then exactly the policy's rules.
fn check_against_policy(
    policy: &PathPolicy,
    packet: &PacketId,
    rules: &[circuits::Rule],
    width: usize,
) -> Result<(), HostError> {
    let refuse = |reason: String| HostError::DisclosurePolicy {
        packet: packet.clone(),
        reason,
    };
    let Some(circuits::Rule::Equals(kind)) = rules.first() else {
        return Err(refuse("field 0 (the kind) must be disclosed".into()));
    };
    let expected = policy.expected(*kind, width).ok_or_else(|| {
        refuse(format!(
            "the policy for this kind is wider than the key's {width} fields"
        ))
    })?;
    if rules.len() != expected.len() {
        return Err(refuse(format!(
            "{} rules, the key's records have {} fields",
            rules.len(),
            expected.len()
        )));
    }
    for (i, (want, got)) in expected.iter().zip(rules).enumerate() {
        if !want.admits(got) {
            return Err(refuse(format!("field {i}: asked {want:?}, proven {got}")));
        }
    }
    Ok(())
}

fn root_chain(root: &AnyTrustRoot) -> String {
    use crate::verify::Family;
    let chain = match root {
        AnyTrustRoot::Cmport(r) => {
            crate::cmport::Cmport::summary(&r.signed_header).map(|s| s.chain_id)
        }
        AnyTrustRoot::Cosco(r) => {
            crate::cosco::Cosco::summary(&r.signed_header).map(|s| s.chain_id)
        }
        AnyTrustRoot::Gba(r) => crate::gba::Gba::summary(&r.signed_header).map(|s| s.chain_id),
    };
    chain.unwrap_or_default()
}

fn timed_out(timeout: &Timeout, ctx: &BlockContext) -> bool {
    timeout.has_passed(ctx.time, ctx.height)
}

fn bounded_reason(reason: String) -> String {
    let mut reason = if reason.is_empty() {
        "refused".to_string()
    } else {
        reason
    };
    if reason.len() > crate::packet::MAX_ACK_REASON_BYTES {
        let mut cut = crate::packet::MAX_ACK_REASON_BYTES;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
    }
    reason
}

/// The commitment of a tree over `leaves` (hashing with the family's tree hash).
pub fn commit(alg: HashAlgorithm, leaves: &[Vec<u8>]) -> merkle::MerkleCommitment {
    match alg {
        HashAlgorithm::Sha256 => {
            merkle::MerkleTree::<merkle::Sha256Tree>::from_leaves(leaves).commitment()
        }
        HashAlgorithm::Keccak256 => {
            merkle::MerkleTree::<merkle::Keccak256Tree>::from_leaves(leaves).commitment()
        }
    }
}

/// The inclusion proof of leaf `index` among `leaves`.
pub fn prove(alg: HashAlgorithm, leaves: &[Vec<u8>], index: u64) -> Option<MerkleProof> {
    match alg {
        HashAlgorithm::Sha256 => {
            merkle::MerkleTree::<merkle::Sha256Tree>::from_leaves(leaves).prove(index)
        }
        HashAlgorithm::Keccak256 => {
            merkle::MerkleTree::<merkle::Keccak256Tree>::from_leaves(leaves).prove(index)
        }
    }
}

/// The inclusion proofs of every leaf, building the tree once.
pub fn prove_all(alg: HashAlgorithm, leaves: &[Vec<u8>]) -> Vec<MerkleProof> {
    let count = leaves.len() as u64;
    match alg {
        HashAlgorithm::Sha256 => {
            let tree = merkle::MerkleTree::<merkle::Sha256Tree>::from_leaves(leaves);
            (0..count).filter_map(|i| tree.prove(i)).collect()
        }
        HashAlgorithm::Keccak256 => {
            let tree = merkle::MerkleTree::<merkle::Keccak256Tree>::from_leaves(leaves);
            (0..count).filter_map(|i| tree.prove(i)).collect()
        }
    }
}

/// Maps with non-string keys, as JSON arrays of `[key, value]` pairs.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}
