//! The RPC wire types every devnet ledger serves and every adapter reads:
//! JSON over HTTP, each message carrying `version` (an unknown one is refused
//! by name). The routes are listed in `docs/profiles/rpc.md`.

use serde::{Deserialize, Serialize};

use light_clients::any::{AnyHeader, FamilyName};
use light_clients::client::{Evidence, Status};
use light_clients::host::{BlockEvent, Channel, EventProof, HostError, Outcome, RelayerKey};
use light_clients::{ChainId, PacketId, Roots, Timestamp};

/// The wire format version of every RPC message.
pub const WIRE_VERSION: u8 = 1;

/// Checks a message's `version`.
pub fn check_version(what: &'static str, found: u8) -> Result<(), WireError> {
    if found == WIRE_VERSION {
        Ok(())
    } else {
        Err(WireError::UnsupportedVersion { what, found })
    }
}

/// A wire message that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The message's format version is unknown.
    #[error("{what}: unsupported wire version {found} (supported: {WIRE_VERSION})")]
    UnsupportedVersion { what: &'static str, found: u8 },
}

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeStatus {
    pub version: u8,
    pub chain_id: ChainId,
    pub family: FamilyName,
    pub height: u64,
    pub time: Timestamp,
    pub operator: RelayerKey,
    pub validators: u64,
    /// The Ed25519 key the ledger's eBL platform signs transfer envelopes with.
    pub ebl_platform: RelayerKey,
    /// The largest transaction body (`SignedTx::body`, bytes) the ledger
    /// accepts, so a submitter can size its batches to it. Optional: an
    /// answer from a ledger that does not say still parses (`None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tx_bytes: Option<u64>,
}

/// `GET /v1/headers/{height}` and `GET /v1/headers/next?after=H`: a finalized
/// header with its validator sets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderResponse {
    pub version: u8,
    pub height: u64,
    pub header: AnyHeader,
}

/// One packet or ack of a block, with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenEvent {
    pub index: u64,
    pub event: BlockEvent,
    pub proof: EventProof,
}

/// `GET /v1/blocks/{height}/events`: what a block emitted, each proven
/// against header `proof_height` (the block itself, or the next one for gba,
/// whose roots sit behind the next header's `app_hash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockEvents {
    pub version: u8,
    pub height: u64,
    pub proof_height: u64,
    pub roots: Roots,
    pub events: Vec<ProvenEvent>,
}

/// One channel end's sequences after a block, with its proof under `state_root`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenChannelState {
    pub state: light_clients::ChannelState,
    pub proof: EventProof,
}

/// One counterparty client's summary after a block, with its proof under `state_root`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenClientState {
    pub summary: light_clients::ClientSummary,
    pub proof: EventProof,
}

/// `GET /v1/blocks/{height}/state`: every channel's sequences and every
/// counterparty client's summary after the block, each proven against
/// header `proof_height` (as for events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockState {
    pub version: u8,
    pub height: u64,
    pub proof_height: u64,
    pub roots: Roots,
    pub channels: Vec<ProvenChannelState>,
    pub clients: Vec<ProvenClientState>,
}

/// `GET /v1/channels`: every channel end on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsResponse {
    pub version: u8,
    pub height: u64,
    pub channels: Vec<Channel>,
}

/// A counterparty client as `GET /v1/clients` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientInfo {
    pub chain: ChainId,
    pub family: FamilyName,
    pub latest_height: u64,
    pub status: Status,
    pub expires_at: Timestamp,
    pub frozen: Option<Evidence>,
}

/// `GET /v1/clients`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsResponse {
    pub version: u8,
    pub height: u64,
    pub clients: Vec<ClientInfo>,
}

/// `GET /v1/accounts/{key}`: a transaction signer's next nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountResponse {
    pub version: u8,
    pub key: RelayerKey,
    /// The nonce its next transaction must carry, counting those already
    /// executed in the block being built.
    pub next_nonce: u64,
    /// Whether the key is the ledger's operator key.
    pub operator: bool,
}

/// `GET /v1/packets/{source}/{destination}/{app}/{sequence}`: the block that
/// emitted a packet this ledger sent and has not yet seen acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacketLocation {
    pub version: u8,
    pub packet: PacketId,
    pub height: u64,
}

/// `GET /v1/receipts/{source}/{destination}/{app}/{sequence}`: the block in
/// which this ledger received a packet and wrote its ack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLocation {
    pub version: u8,
    pub packet: PacketId,
    pub height: u64,
    pub result: light_clients::AckResult,
}

/// How one message of a transaction went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MsgResult {
    Ok { outcome: Outcome },
    Err { check: String, message: String },
}

impl From<Result<Outcome, HostError>> for MsgResult {
    fn from(r: Result<Outcome, HostError>) -> Self {
        match r {
            Ok(outcome) => MsgResult::Ok { outcome },
            Err(e) => MsgResult::Err {
                check: e.check().to_string(),
                message: e.to_string(),
            },
        }
    }
}

/// `POST /v1/tx` (and `GET /v1/tx/{id}`): where a transaction stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxResponse {
    pub version: u8,
    /// Hex SHA-256 id of the transaction.
    pub id: String,
    /// The block that included it, once it is included.
    pub height: Option<u64>,
    /// One result per message, once included.
    pub results: Vec<MsgResult>,
}

/// `POST /v1/events`: a port event for another network.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitEvent {
    pub version: u8,
    /// The network that needs the event.
    pub destination: ChainId,
    /// The port event, as `adapters::events` validates it; read refusing
    /// duplicate keys (`json.duplicate_key`).
    #[serde(deserialize_with = "crate::events::strict::deserialize_value")]
    pub event: serde_json::Value,
    /// Seconds the destination has to receive it (default one hour).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// The answer to `POST /v1/events`: the event is queued for the next block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedEvent {
    pub version: u8,
    /// The packet the event will travel in (none for an event recorded on
    /// this ledger only, whose destination is the ledger itself).
    pub packet: Option<PacketId>,
    /// For an eBL transfer, PINT's answer: RECE with the entry accepted
    /// now, or DUPE with the entry accepted before (nothing changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebl: Option<EblReceipt>,
    /// What the event did not break but should be known (e.g. DCSA's
    /// `dcsa.shipment.event_date_time`), as `adapters::events::Warning` shows it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<EventWarning>,
}

/// A warning on an accepted event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventWarning {
    /// The stable rule identifier, e.g. `dcsa.shipment.event_date_time`.
    pub rule: String,
    /// The JSON path of the field concerned.
    pub field: String,
    /// What was found.
    pub message: String,
}

impl From<&crate::events::Warning> for EventWarning {
    fn from(w: &crate::events::Warning) -> Self {
        EventWarning {
            rule: w.rule.to_string(),
            field: w.field.clone(),
            message: w.message.clone(),
        }
    }
}

/// PINT's answer to an eBL transfer that was accepted (RECE) or had been (DUPE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct EblReceipt {
    /// `RECE` or `DUPE`.
    pub response_code: String,
    /// The accepted chain entry, as the ledger keeps it.
    pub entry: serde_json::Value,
}

/// Most events one `POST /v1/events/batch` may carry.
pub const MAX_EVENT_BATCH: usize = 5_000;

/// `POST /v1/events/batch`: several port events, each as `POST /v1/events`
/// takes it, executed in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitEvents {
    pub version: u8,
    /// At most [`MAX_EVENT_BATCH`].
    pub events: Vec<SubmitEvent>,
}

/// The answer to `POST /v1/events/batch`: one result per submitted event, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedEvents {
    pub version: u8,
    pub results: Vec<SubmittedItem>,
}

/// How one event of a batch went: what `POST /v1/events` would have
/// answered, or its refusal (which does not stop the events after it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SubmittedItem {
    Submitted(SubmittedEvent),
    Refused(RefusedEvent),
}

/// One refused event of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusedEvent {
    /// Its position in the batch, from 0.
    pub index: u64,
    /// The HTTP status `POST /v1/events` would have answered it with.
    pub status: u16,
    /// The stable code, as in [`ErrorBody`].
    pub code: String,
    pub message: String,
}

/// Every error response: an HTTP status and this body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// A stable, machine-readable code (`unregistered_key`, `not_found` ...).
    pub code: String,
    pub message: String,
}

/// `GET /v1/zk/paths/{source}/{app}` on a destination: how it takes packets
/// of that path, and whether a verifying key is registered for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathPolicyResponse {
    pub version: u8,
    pub source: ChainId,
    pub app: light_clients::App,
    pub policy: light_clients::zk::PathPolicy,
    pub key_registered: bool,
}

/// `GET /v1/zk/key` on a source with a prover: the verifying key of its
/// disclosure proofs (`circuits::groth16::vk_to_bytes`) and its shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZkKeyResponse {
    pub version: u8,
    /// Depth of the ledger's `zk_root` trees.
    pub depth: u32,
    /// K: packets per proof.
    pub records: usize,
    /// W: fields per record.
    pub width: usize,
    pub key: light_clients::zk::VerifyingKeyBytes,
    /// The key comes from the seeded devnet setup: anyone can forge proofs
    /// under it. Never true of a production key.
    pub devnet_unsafe: bool,
}

/// Most packets one `POST /v1/zk/disclose` may name.
pub const MAX_DISCLOSE_PACKETS: usize = 256;

/// `POST /v1/zk/disclose` on a source: prove what `policy` asks of the
/// records of `packets`, all emitted by the block whose roots header
/// `proof_height` commits (the block itself; for gba the one before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscloseRequest {
    pub version: u8,
    pub proof_height: u64,
    /// At most [`MAX_DISCLOSE_PACKETS`].
    pub packets: Vec<PacketId>,
    pub policy: light_clients::zk::PathPolicy,
}

/// The answer to `POST /v1/zk/disclose`: one proof per K packets, in the
/// order asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosureResponse {
    pub version: u8,
    pub proof_height: u64,
    pub disclosures: Vec<light_clients::zk::Disclosure>,
}

#[cfg(test)]
mod status_tests {
    use super::*;

    /// `max_tx_bytes` is optional both ways: an older ledger's answer
    /// without it parses, and a node that does not say writes nothing.
    #[test]
    fn max_tx_bytes_is_optional() {
        let old = serde_json::json!({
            "version": 1, "chain_id": "cmport-1", "family": "cmport", "height": 3,
            "time": "2026-01-01T00:00:00Z", "operator": "07".repeat(32),
            "validators": 4, "ebl_platform": "02".repeat(32),
        });
        let mut status: NodeStatus = serde_json::from_value(old.clone()).expect("old status");
        assert_eq!(status.max_tx_bytes, None);
        assert_eq!(serde_json::to_value(&status).expect("json"), old);
        status.max_tx_bytes = Some(8 << 20);
        let new = serde_json::to_value(&status).expect("json");
        assert_eq!(new["max_tx_bytes"], 8 << 20);
        let back: NodeStatus = serde_json::from_value(new).expect("new status");
        assert_eq!(back.max_tx_bytes, Some(8 << 20));
    }
}
