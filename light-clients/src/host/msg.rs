//! What relayers and the ledger's operator send: relay and operator
//! messages, signed transactions and their keys, and what a message did.

use serde::{Deserialize, Serialize};

use crate::any::{AnyHeader, AnyMisbehaviour, AnyTrustRoot};
use crate::hash::{sha256, Hash32};
use crate::merkle::MerkleProof;
use crate::packet::{Ack, AckResult, App, ChainId, ChannelId, Packet, PacketId, Roots};
use crate::verify::TrustOptions;
use crate::zk::{Disclosure, PathPolicy, VerifyingKeyBytes};

/// Where a proven event sits: the verified header that commits it, the roots
/// opening (gba, where roots sit behind `app_hash`) and the inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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

/// What a message did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayer_keys_are_hex_in_json_and_refused_otherwise() {
        let key = RelayerKey([7; 32]);
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{}\"", "07".repeat(32)));
        assert_eq!(serde_json::from_str::<RelayerKey>(&json).unwrap(), key);
        assert!(serde_json::from_str::<RelayerKey>("\"07\"").is_err());
    }
}
