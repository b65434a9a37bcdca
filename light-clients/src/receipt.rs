//! Trade receipts: one fact a port ledger committed, in a self-contained
//! JSON bundle that anyone holding a trust root of that ledger can check
//! offline, with the same light-client code a destination ledger runs.
//!
//! A receipt carries the fact as the ledger recorded it (a packet it sent,
//! with its payload; or its receipt of a packet relayed to it: the ack leaf
//! it wrote, with the packet the ack commits to), where it is (chain,
//! block, leaf index), its Merkle inclusion proof, the roots opening where
//! the family commits roots behind `app_hash` (gba), and the signed headers
//! with their validator sets that lead from the verifier's trust root up to
//! the header committing the proof: only those the light client needs
//! (skipping verification, with the bisection points where a skip lacked
//! the trust threshold). [`verify`] checks all of it and returns what it
//! proves ([`Proven`]); every failure names its check ([`ReceiptError::check`]).
//! The format, field by field, is `docs/receipts.md`.

use serde::{Deserialize, Serialize};

use crate::any::{AnyClient, AnyHeader, AnyTrustRoot, FamilyName};
use crate::client::{ClientError, UpdateOutcome};
use crate::codec::Canonical;
use crate::hash::{sha256, Hash32};
use crate::json::JsonError;
use crate::merkle::MerkleProof;
use crate::packet::{Ack, AckResult, ChainId, EventLeaf, Packet, Roots};
use crate::time::Timestamp;
use crate::verify::{RootCommitment, TrustOptions};

/// The `format` every receipt names.
pub const RECEIPT_FORMAT: &str = "portrelay-receipt";
/// The receipt format version this build reads and writes.
pub const RECEIPT_VERSION: u8 = 1;
/// The largest receipt read, in bytes (a header chain of gba validator sets
/// is the bulk; a payload is at most 256 KiB).
pub const MAX_RECEIPT_BYTES: usize = 32 << 20;
/// The most headers a receipt may carry (a bisection needs about log2 of
/// the distance; rotations add a few).
pub const MAX_HEADERS: usize = 1024;

/// A trade receipt (`docs/receipts.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`].
    pub format: String,
    /// [`RECEIPT_VERSION`].
    pub version: u8,
    /// The family of the ledger that committed the fact.
    pub family: FamilyName,
    /// What the receipt proves, in words: must equal [`statement`] of the
    /// verified values, so the words cannot claim more than the proof.
    pub statement: String,
    pub fact: Fact,
    pub location: Location,
    pub proof: InclusionProof,
    /// Headers with their validator sets, ascending. From a trust root at
    /// or below the fact's block: each above the root, the last at
    /// `proof.proof_height`, verified forward by the light client. From a
    /// root above the block: every header from the block up to the one
    /// below the root, verified back by their hash links.
    pub headers: Vec<AnyHeader>,
}

/// The fact, as the ledger recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fact {
    /// A packet the ledger sent (its events tree holds the packet's
    /// commitment): the port event it carries is the payload.
    Packet { packet: Packet },
    /// The ledger's receipt of a packet relayed to it: its events tree holds
    /// the ack, which commits to `packet` (the destination wrote it only
    /// after checking the packet's proof against its own light client).
    Receipt { packet: Packet, ack: Ack },
}

impl Fact {
    /// The packet the fact is about.
    pub fn packet(&self) -> &Packet {
        match self {
            Fact::Packet { packet } | Fact::Receipt { packet, .. } => packet,
        }
    }

    /// The events-tree leaf the proof is for.
    pub fn leaf(&self) -> EventLeaf {
        match self {
            Fact::Packet { packet } => EventLeaf::from(packet),
            Fact::Receipt { ack, .. } => EventLeaf::from(ack),
        }
    }

    /// `packet` or `receipt`.
    pub fn kind(&self) -> &'static str {
        match self {
            Fact::Packet { .. } => "packet",
            Fact::Receipt { .. } => "receipt",
        }
    }

    /// The chain that committed the fact: the packet's source for a
    /// packet, its destination for a receipt.
    pub fn committed_by(&self) -> &ChainId {
        match self {
            Fact::Packet { packet } => &packet.id.channel.source,
            Fact::Receipt { packet, .. } => &packet.id.channel.destination,
        }
    }
}

/// Where the fact is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// The ledger that committed it.
    pub chain_id: ChainId,
    /// The block that emitted it.
    pub height: u64,
    /// Its position in that block's events tree.
    pub leaf_index: u64,
}

/// The inclusion proof of the fact's leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The header whose roots the proof is against: `height + ROOTS_LAG`.
    pub proof_height: u64,
    /// The audit path, bottom-up.
    pub siblings: Vec<Hash32>,
    /// The block's roots, for a family whose header commits them through
    /// `app_hash` (gba); absent for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<Roots>,
}

/// What a valid receipt proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    pub family: FamilyName,
    pub chain_id: ChainId,
    /// The block that emitted the fact, and its header's time.
    pub height: u64,
    pub time: Timestamp,
    pub leaf_index: u64,
    pub proof_height: u64,
    pub fact: Fact,
    /// [`statement`] of the above.
    pub statement: String,
    /// The trust root's height, and how many headers were verified from it.
    pub trust_root_height: u64,
    pub headers_verified: usize,
}

/// Why a receipt is not valid, each with the check it failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// Not strict JSON (a repeated key, malformed base64, not JSON).
    #[error("{0}")]
    Json(String, &'static str),
    /// Not a receipt of this format: wrong `format`, a missing or unknown
    /// field, a value out of its shape, too large.
    #[error("{reason}")]
    Format { reason: String },
    /// A receipt version this build does not read.
    #[error("unsupported receipt version {found} (supported: {RECEIPT_VERSION})")]
    Version { found: String },
    /// A value of another family than the receipt's or the trust root's.
    #[error("the {what} is {found}, the receipt is {expected}")]
    Family {
        what: &'static str,
        expected: FamilyName,
        found: FamilyName,
    },
    /// A chain id that is not the one it must be.
    #[error("{what}: expected {expected}, found {found}")]
    ChainId {
        what: &'static str,
        expected: String,
        found: String,
    },
    /// The fact's parts do not fit together (an ack of another packet).
    #[error("{reason}")]
    FactMismatch { reason: String },
    /// A value that breaks its own rules.
    #[error("invalid {what}: {reason}")]
    Value { what: &'static str, reason: String },
    /// `proof_height` is not the header that commits the fact's block.
    #[error(
        "proof height {found} for block {height}: a {family} block is proven by header {expected}"
    )]
    ProofHeight {
        family: FamilyName,
        height: u64,
        expected: u64,
        found: u64,
    },
    /// An opening where the family has none, or none where it needs one.
    #[error("{reason}")]
    Opening { reason: String },
    /// The headers are not a chain from the root to the proof header.
    #[error("header chain: {reason}")]
    HeaderChain { reason: String },
    /// The trust root itself is refused.
    #[error("trust root: {0}")]
    TrustRoot(ClientError),
    /// A header of the chain does not verify.
    #[error("header {height}: {message}")]
    Header {
        height: u64,
        check: &'static str,
        message: String,
    },
    /// The fact is not in the verified header's roots.
    #[error("{0}")]
    Inclusion(ClientError),
    /// The statement says something other than what the receipt proves.
    #[error("the statement {claimed:?} is not what the receipt proves: {proven:?}")]
    Statement { claimed: String, proven: String },
}

impl ReceiptError {
    /// The stable name of the failed check, as `portrelay receipt verify`
    /// prints it (the light client's own names where it is its check).
    pub fn check(&self) -> &'static str {
        match self {
            ReceiptError::Json(_, check) => check,
            ReceiptError::Format { .. } => "format",
            ReceiptError::Version { .. } => "version",
            ReceiptError::Family { .. } => "family",
            ReceiptError::ChainId { .. } => "chain_id",
            ReceiptError::FactMismatch { .. } => "fact_mismatch",
            ReceiptError::Value { .. } => "value",
            ReceiptError::ProofHeight { .. } => "proof_height",
            ReceiptError::Opening { .. } => "app_hash_opening",
            ReceiptError::HeaderChain { .. } => "header_chain",
            ReceiptError::TrustRoot(e) => e.check(),
            ReceiptError::Header { check, .. } => check,
            ReceiptError::Inclusion(e) => e.check(),
            ReceiptError::Statement { .. } => "statement",
        }
    }
}

impl From<JsonError> for ReceiptError {
    fn from(e: JsonError) -> Self {
        ReceiptError::Json(e.to_string(), e.check())
    }
}

fn format_error(reason: impl Into<String>) -> ReceiptError {
    ReceiptError::Format {
        reason: reason.into(),
    }
}

impl Receipt {
    /// Reads a receipt strictly: at most [`MAX_RECEIPT_BYTES`], no key
    /// repeated anywhere, `format` and `version` checked before the shape,
    /// no field the format does not define (at any depth, including inside
    /// headers), every value in its canonical form (the document is exactly
    /// what [`Receipt::to_json`] writes for what it holds, up to whitespace
    /// and key order).
    pub fn from_json(bytes: &[u8]) -> Result<Receipt, ReceiptError> {
        if bytes.len() > MAX_RECEIPT_BYTES {
            return Err(format_error(format!(
                "a receipt of {} bytes is over the limit of {MAX_RECEIPT_BYTES}",
                bytes.len()
            )));
        }
        crate::json::check_unique_keys(bytes)?;
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ReceiptError::from(JsonError::Malformed(e)))?;
        let object = value
            .as_object()
            .ok_or_else(|| format_error("a receipt is a JSON object"))?;
        match object.get("format") {
            Some(serde_json::Value::String(f)) if f == RECEIPT_FORMAT => {}
            Some(other) => {
                return Err(format_error(format!(
                    "format is {other}, not {RECEIPT_FORMAT:?}"
                )))
            }
            None => {
                return Err(format_error(format!(
                    "no format (expected {RECEIPT_FORMAT:?})"
                )))
            }
        }
        match object.get("version") {
            Some(v) if v.as_u64() == Some(RECEIPT_VERSION.into()) => {}
            Some(v) => {
                return Err(ReceiptError::Version {
                    found: v.to_string(),
                })
            }
            None => return Err(format_error("no version")),
        }
        let receipt: Receipt =
            serde_json::from_value(value.clone()).map_err(|e| format_error(e.to_string()))?;
        if receipt.headers.len() > MAX_HEADERS {
            return Err(format_error(format!(
                "{} headers, at most {MAX_HEADERS}",
                receipt.headers.len()
            )));
        }
        let written = serde_json::to_value(&receipt).map_err(|e| format_error(e.to_string()))?;
        if let Some(path) = first_difference(&value, &written, "$") {
            return Err(format_error(format!(
                "{path} is not part of the receipt format, or not in its canonical form"
            )));
        }
        Ok(receipt)
    }

    /// The receipt as pretty JSON, ending in a newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

/// The path of the first place where `read` and `written` differ.
fn first_difference(
    read: &serde_json::Value,
    written: &serde_json::Value,
    path: &str,
) -> Option<String> {
    use serde_json::Value;
    match (read, written) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let here = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => {
                        if let Some(p) = first_difference(v, w, &here) {
                            return Some(p);
                        }
                    }
                    None => return Some(here),
                }
            }
            b.keys()
                .find(|k| !a.contains_key(*k))
                .map(|k| format!("{path}.{k}"))
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(path.to_string());
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]")))
        }
        (a, b) if a == b => None,
        _ => Some(path.to_string()),
    }
}

/// What a receipt of `fact` at `location` (block time `time`) says, in
/// words: the one text a valid receipt's `statement` may hold.
pub fn statement(family: FamilyName, location: &Location, time: Timestamp, fact: &Fact) -> String {
    let packet = fact.packet();
    let payload = format!(
        "{} payload of {} bytes, SHA-256 {}",
        packet.id.channel.app,
        packet.payload.len(),
        sha256(&[&packet.payload])
    );
    let at = format!(
        "{} ({family}) committed in block {} at {}, events leaf {}",
        location.chain_id,
        location.height,
        time.to_rfc3339(),
        location.leaf_index
    );
    match fact {
        Fact::Packet { packet } => format!(
            "{at}: packet {} sent to {}: {payload}",
            packet.id, packet.id.channel.destination
        ),
        Fact::Receipt { packet, ack } => {
            let result = match &ack.result {
                AckResult::Ok => "ok (applied)".to_string(),
                AckResult::Error(reason) => format!("error ({reason})"),
                AckResult::Timeout => "timeout (not applied)".to_string(),
            };
            format!(
                "{at}: its receipt of packet {} from {}, acknowledged {result}: {payload}",
                packet.id, packet.id.channel.source
            )
        }
    }
}

/// Checks `receipt` against the verifier's `root` under `options` at `now`:
/// the format, the fact's consistency, the header chain from the root (each
/// header verified by the family's light client, skipping as far as the
/// trust threshold allows), the roots opening, the inclusion proof, and
/// that the statement is what all of that proves. Pure: no I/O, no clock.
pub fn verify(
    receipt: &Receipt,
    root: &AnyTrustRoot,
    options: &TrustOptions,
    now: Timestamp,
) -> Result<Proven, ReceiptError> {
    if receipt.format != RECEIPT_FORMAT {
        return Err(format_error(format!(
            "format is {:?}, not {RECEIPT_FORMAT:?}",
            receipt.format
        )));
    }
    if receipt.version != RECEIPT_VERSION {
        return Err(ReceiptError::Version {
            found: receipt.version.to_string(),
        });
    }
    let family = receipt.family;
    if root.family() != family {
        return Err(ReceiptError::Family {
            what: "trust root",
            expected: family,
            found: root.family(),
        });
    }
    if let Some(h) = receipt.headers.iter().find(|h| h.family() != family) {
        return Err(ReceiptError::Family {
            what: "header",
            expected: family,
            found: h.family(),
        });
    }
    let root_summary = root
        .summary()
        .map_err(|e| ReceiptError::TrustRoot(ClientError::Verify(e)))?;
    let chain = &receipt.location.chain_id;
    if root_summary.chain_id != chain.as_str() {
        return Err(ReceiptError::ChainId {
            what: "the trust root's chain",
            expected: chain.to_string(),
            found: root_summary.chain_id,
        });
    }

    // The fact: its own rules, the chain that committed it, its parts.
    let fact = &receipt.fact;
    let packet = fact.packet();
    packet.validate().map_err(|reason| ReceiptError::Value {
        what: "packet",
        reason,
    })?;
    if fact.committed_by() != chain {
        return Err(ReceiptError::ChainId {
            what: match fact {
                Fact::Packet { .. } => "the packet's source",
                Fact::Receipt { .. } => "the packet's destination",
            },
            expected: chain.to_string(),
            found: fact.committed_by().to_string(),
        });
    }
    if let Fact::Receipt { ack, .. } = fact {
        ack.validate().map_err(|reason| ReceiptError::Value {
            what: "ack",
            reason,
        })?;
        if ack.packet != packet.id {
            return Err(ReceiptError::FactMismatch {
                reason: format!(
                    "the ack is of packet {}, the receipt's packet is {}",
                    ack.packet, packet.id
                ),
            });
        }
        let commitment = packet.commitment();
        if ack.packet_commitment != commitment {
            return Err(ReceiptError::FactMismatch {
                reason: format!(
                    "the ack commits to packet content {}, the receipt's packet hashes to {commitment}",
                    ack.packet_commitment
                ),
            });
        }
    }

    // Where: the proof header is the one committing the block's roots.
    let height = receipt.location.height;
    let proof = &receipt.proof;
    let expected = family.proof_height(height);
    if proof.proof_height != expected || height == 0 {
        return Err(ReceiptError::ProofHeight {
            family,
            height,
            expected,
            found: proof.proof_height,
        });
    }
    match (&proof.opening, family.roots_opening()) {
        (Some(_), false) => {
            return Err(ReceiptError::Opening {
                reason: format!(
                    "a {family} header commits its roots itself: a receipt carries no opening"
                ),
            })
        }
        (None, true) => {
            return Err(ReceiptError::Opening {
                reason: format!(
                "a {family} header commits its roots through app_hash: the receipt must open them"
            ),
            })
        }
        _ => {}
    }
    if root_summary.height > height {
        return verify_backward(receipt, root, &root_summary, options, now);
    }

    // The header chain: ascending from above the root to the proof header.
    let mut last = root_summary.height;
    let mut summaries = Vec::with_capacity(receipt.headers.len());
    for header in &receipt.headers {
        let summary = header.summary().map_err(|e| ReceiptError::Header {
            height: last,
            check: e.check(),
            message: e.to_string(),
        })?;
        if summary.height <= last {
            return Err(ReceiptError::HeaderChain {
                reason: format!(
                    "header {} follows height {last}: headers ascend from above the trust root ({})",
                    summary.height, root_summary.height
                ),
            });
        }
        last = summary.height;
        summaries.push(summary);
    }
    if last != proof.proof_height {
        return Err(ReceiptError::HeaderChain {
            reason: format!(
                "the chain ends at height {last}, the proof is against header {}",
                proof.proof_height
            ),
        });
    }
    let time = if root_summary.height == height {
        root_summary.time
    } else {
        summaries
            .iter()
            .find(|s| s.height == height)
            .map(|s| s.time)
            .ok_or_else(|| ReceiptError::HeaderChain {
                reason: format!(
                    "no header at the fact's block {height}, whose time the receipt states"
                ),
            })?
    };

    // Every header verified by the light client, from the root.
    let mut client = AnyClient::create(root, *options).map_err(ReceiptError::TrustRoot)?;
    for (header, summary) in receipt.headers.iter().zip(&summaries) {
        match client.update(header, now) {
            Ok(UpdateOutcome::Updated { .. }) => {}
            Ok(other) => {
                return Err(ReceiptError::HeaderChain {
                    reason: format!("header {}: {other:?}", summary.height),
                })
            }
            Err(e) => {
                return Err(ReceiptError::Header {
                    height: summary.height,
                    check: e.check(),
                    message: e.to_string(),
                })
            }
        }
    }

    // The leaf, in the verified roots.
    let merkle = MerkleProof {
        leaf_index: receipt.location.leaf_index,
        siblings: proof.siblings.clone(),
    };
    client
        .verify_event(
            proof.proof_height,
            now,
            proof.opening.as_ref(),
            &fact.leaf(),
            &merkle,
        )
        .map_err(ReceiptError::Inclusion)?;

    proven(receipt, time, root_summary.height)
}

/// A receipt checked back from a trust root above the fact's block: the
/// headers are every header from the fact's block up to the one below the
/// root, each vouched for by the hash the header above it commits as its
/// predecessor's (as CometBFT's light client verifies backwards), with the
/// sets their hashes name. Only the root must be within its trusting
/// period: a fact older than any root a verifier could still trust
/// forward is proven from a recent one.
fn verify_backward(
    receipt: &Receipt,
    root: &AnyTrustRoot,
    root_summary: &crate::verify::HeaderSummary,
    options: &TrustOptions,
    now: Timestamp,
) -> Result<Proven, ReceiptError> {
    let family = receipt.family;
    let height = receipt.location.height;
    let proof = &receipt.proof;
    let client = AnyClient::create(root, *options).map_err(ReceiptError::TrustRoot)?;
    let expired_at = client.expires_at();
    if now >= expired_at {
        return Err(ReceiptError::Inclusion(ClientError::Expired {
            latest_time: root_summary.time,
            expired_at,
            now,
        }));
    }
    let wanted = root_summary.height - height;
    if receipt.headers.len() as u64 != wanted {
        return Err(ReceiptError::HeaderChain {
            reason: format!(
                "from a trust root at {} down to block {height}: {wanted} headers, found {}",
                root_summary.height,
                receipt.headers.len()
            ),
        });
    }
    let mut link = root_summary.previous_hash;
    let mut above = root_summary.height;
    let mut summaries = Vec::with_capacity(receipt.headers.len());
    for header in receipt.headers.iter().rev() {
        let summary = header.checked_summary().map_err(|e| ReceiptError::Header {
            height: above - 1,
            check: e.check(),
            message: e.to_string(),
        })?;
        if summary.height + 1 != above {
            return Err(ReceiptError::HeaderChain {
                reason: format!(
                    "header {} below header {above}: back from the trust root the headers are every height down to block {height}",
                    summary.height
                ),
            });
        }
        if link != Some(summary.hash) {
            return Err(ReceiptError::HeaderChain {
                reason: format!(
                    "header {} hashes to {}, header {above} links to {}",
                    summary.height,
                    summary.hash,
                    link.map_or("nothing".to_string(), |h| h.to_string())
                ),
            });
        }
        link = summary.previous_hash;
        above = summary.height;
        summaries.push(summary);
    }
    let at = |h: u64| {
        if h == root_summary.height {
            Some(root_summary)
        } else {
            summaries.iter().find(|s| s.height == h)
        }
    };
    let (Some(fact_header), Some(proof_header)) = (at(height), at(proof.proof_height)) else {
        return Err(ReceiptError::HeaderChain {
            reason: format!("no header at block {height} or {}", proof.proof_height),
        });
    };
    let roots = match (&proof_header.roots, &proof.opening) {
        (RootCommitment::Roots(roots), _) => *roots,
        (RootCommitment::AppHash(committed), Some(opening)) => {
            let opened = opening.app_hash();
            if committed.as_slice() != opened.as_bytes() {
                return Err(ReceiptError::Inclusion(ClientError::AppHashMismatch {
                    committed: hex::encode(committed),
                    opened,
                }));
            }
            *opening
        }
        (RootCommitment::AppHash(_), None) => {
            return Err(ReceiptError::Inclusion(ClientError::MissingOpening {
                height: proof.proof_height,
            }))
        }
    };
    let merkle = MerkleProof {
        leaf_index: receipt.location.leaf_index,
        siblings: proof.siblings.clone(),
    };
    crate::merkle::verify_inclusion(
        family.tree_hash(),
        &roots.events,
        &receipt.fact.leaf().encode(),
        &merkle,
    )
    .map_err(|e| ReceiptError::Inclusion(ClientError::Proof(e)))?;
    proven(receipt, fact_header.time, root_summary.height)
}

/// The result of a verified receipt, once its statement is what it proves.
fn proven(receipt: &Receipt, time: Timestamp, root_height: u64) -> Result<Proven, ReceiptError> {
    let proven_statement = statement(receipt.family, &receipt.location, time, &receipt.fact);
    if receipt.statement != proven_statement {
        return Err(ReceiptError::Statement {
            claimed: receipt.statement.clone(),
            proven: proven_statement,
        });
    }
    Ok(Proven {
        family: receipt.family,
        chain_id: receipt.location.chain_id.clone(),
        height: receipt.location.height,
        time,
        leaf_index: receipt.location.leaf_index,
        proof_height: receipt.proof.proof_height,
        fact: receipt.fact.clone(),
        statement: proven_statement,
        trust_root_height: root_height,
        headers_verified: receipt.headers.len(),
    })
}

/// The ack result's word: `ok`, `error` or `timeout`.
pub fn ack_word(result: &AckResult) -> &'static str {
    match result {
        AckResult::Ok => "ok",
        AckResult::Error(_) => "error",
        AckResult::Timeout => "timeout",
    }
}

/// Hash of a payload, as statements show it.
pub fn payload_digest(packet: &Packet) -> Hash32 {
    sha256(&[&packet.payload])
}
