//! Why the host refused a transaction or message: [`HostError`], each
//! variant with a stable `check()` name.

use crate::any::AnyClientError;
use crate::hash::Hash32;
use crate::packet::{App, ChainId, ChannelId, PacketId};

use super::{RelayerKey, TX_VERSION};

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
