//! DCSA PINT 3.0 on a ledger: an eBL platform hands a title to this ledger
//! with an `EblEnvelope` (start transfer, additional documents by checksum,
//! finish transfer), and the ledger answers as a receiving platform.
//!
//! The envelope is checked first (`envelope`: JWS signatures against the
//! registered platform keys, the transport document's RFC 8785 checksum,
//! the manifest, the chain's links), then its transactions are replayed, in
//! order, through the eBL app's own title checks (who holds the bill, what
//! may follow what): the bill this ledger then holds is exactly what a chain
//! of local `EBL_TRANSFER`s would have made, and it moves on to other
//! ledgers the same way (pledge, claim, reclaim).
//!
//! Layout: `jws` (compact JWS over `jsonwebtoken`, platform keys as JWKs),
//! `envelope` (the schemas and the checks before the title); this file holds
//! [`PintRegistry`] and the three calls.

use std::collections::{BTreeMap, BTreeSet};

use adapters::events::{self, PortEvent};
use serde::{Deserialize, Serialize};

use super::{AppRefusal, Bill, PortApps, Verdict};

pub mod envelope;
pub mod jws;

#[cfg(test)]
mod tests;

pub use envelope::{
    document_checksum, is_checksum, sha256_hex, Bad, ChainEntry, Checked, DocumentMetadata,
    EblEnvelope, EnvelopeManifest, IssuanceManifest, Transaction,
};
pub use jws::{public_jwk, read_jwk, sign, JwsError, KeyError};

/// The PINT version this ledger speaks (the `API-Version` response header).
pub const API_VERSION: &str = "3.0.0";

/// The longest `reason` PINT allows in a signed response.
const MAX_REASON: usize = 255;

/// A transfer started with `POST /v3/envelopes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    /// The bill (`transportDocumentReference`).
    pub bill: String,
    pub envelope: EblEnvelope,
    pub last_entry_checksum: String,
    /// Every additional document the manifest declares: checksum -> size.
    pub declared: BTreeMap<String, u64>,
    /// The documents received for this transfer.
    pub received: BTreeSet<String>,
    /// Accepted (RECE): later calls are answered DUPE.
    pub accepted: bool,
}

/// This ledger's side of PINT: registered platform keys, transfers, and
/// what it accepted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PintRegistry {
    /// Each platform's public keys (JWKs), by platform code, as registered.
    pub platforms: BTreeMap<String, Vec<serde_json::Value>>,
    /// Transfers by envelope reference (the one answered in the 201).
    pub transfers: BTreeMap<String, Transfer>,
    /// The reference of each accepted transfer, by its last entry's checksum.
    pub accepted: BTreeMap<String, String>,
    /// Additional documents this platform holds: checksum -> size.
    pub documents: BTreeMap<String, u64>,
    /// The chain entry checksums accepted for each bill, oldest first.
    pub chains: BTreeMap<String, Vec<String>>,
}

/// `EnvelopeTransferFinishedResponse`: the payload of PINT's signed answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinishedResponse {
    pub last_envelope_transfer_chain_entry_signed_content_checksum: String,
    /// RECE, DUPE, BSIG, BENV, INCD, MDOC or DISE.
    pub response_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of_accepted_envelope_transfer_chain_entry_signed_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_additional_document_checksums: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_additional_document_checksums: Option<Vec<String>>,
}

/// `EnvelopeTransferStartedResponse` (201, unsigned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedResponse {
    pub envelope_reference: String,
    pub transport_document_checksum: String,
    pub last_envelope_transfer_chain_entry_signed_content_checksum: String,
    pub missing_additional_document_checksums: Vec<String>,
}

/// What a PINT call answers, before the ledger signs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A signed `EnvelopeTransferFinishedResponse`, with PINT's HTTP status
    /// for its code (RECE, DUPE 200; BSIG, BENV 422; DISE, INCD, MDOC 409).
    Signed(FinishedResponse),
    /// 201: the transfer is open, these documents are missing.
    Started(StartedResponse),
    /// 204: an additional document received.
    Received,
    /// Not answerable with a signed response: an unknown envelope reference
    /// (404) or a body without a chain to name (400).
    Error {
        status: u16,
        code: &'static str,
        message: String,
    },
}

impl Reply {
    /// PINT's HTTP status for the reply.
    pub fn status(&self) -> u16 {
        match self {
            Reply::Signed(r) => match r.response_code.as_str() {
                "RECE" | "DUPE" => 200,
                "BSIG" | "BENV" => 422,
                _ => 409,
            },
            Reply::Started(_) => 201,
            Reply::Received => 204,
            Reply::Error { status, .. } => *status,
        }
    }
}

/// A PINT call as logged with the block's inputs (replayed on restart).
/// A document travels as its digest and size, not its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum PintCall {
    Start {
        envelope: serde_json::Value,
    },
    Document {
        reference: String,
        checksum: String,
        /// SHA-256 (hex) and size of the decoded body, or why it would not decode.
        content: Result<(String, u64), String>,
    },
    Finish {
        reference: String,
    },
    Platform {
        code: String,
        jwk: serde_json::Value,
    },
}

/// What a call did: the reply, and whether the state changed (the call is
/// then logged as an input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub reply: Reply,
    pub changed: bool,
}

impl Answer {
    fn unchanged(reply: Reply) -> Self {
        Answer {
            reply,
            changed: false,
        }
    }
    fn changed(reply: Reply) -> Self {
        Answer {
            reply,
            changed: true,
        }
    }
}

fn signed(last: &str, code: &str, reason: Option<String>) -> Reply {
    Reply::Signed(FinishedResponse {
        last_envelope_transfer_chain_entry_signed_content_checksum: last.to_string(),
        response_code: code.to_string(),
        duplicate_of_accepted_envelope_transfer_chain_entry_signed_content: None,
        reason: reason.map(|r| r.chars().take(MAX_REASON).collect()),
        missing_additional_document_checksums: None,
        received_additional_document_checksums: None,
    })
}

fn refused(last: &str, bad: Bad) -> Reply {
    match bad {
        Bad::Signature(m) => signed(last, "BSIG", Some(m)),
        Bad::Envelope(m) => signed(last, "BENV", Some(m)),
    }
}

/// The envelope reference answered in a 201: opaque, derived from the last
/// entry so that replay gives the same one.
fn reference_of(last_checksum: &str) -> String {
    sha256_hex(format!("pint-envelope:{last_checksum}").as_bytes())[..40].to_string()
}

/// A deterministic UUID (version 4 layout) for the `n`th transaction of the
/// entry with checksum `entry`: the `eventID` of its `EBL_TRANSFER`.
fn event_id(entry: &str, n: usize) -> String {
    let mut h: Vec<char> = sha256_hex(format!("{entry}/{n}").as_bytes())
        .chars()
        .take(32)
        .collect();
    h[12] = '4';
    h[16] = '8';
    let s: String = h.into_iter().collect();
    format!(
        "{}-{}-{}-{}-{}",
        &s[..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..]
    )
}

/// The eBL 3.0 state after each action (SACC closes the pending surrender).
fn status_after(action: &str, pending_surrender: Option<&str>) -> &'static str {
    match (action, pending_surrender) {
        ("SURRENDER_FOR_DELIVERY", _) => "PENDING_SURRENDER_FOR_DELIVERY",
        ("SURRENDER_FOR_AMENDMENT", _) => "PENDING_SURRENDER_FOR_AMENDMENT",
        ("SACC", Some("SURRENDER_FOR_AMENDMENT")) => "SURRENDERED_FOR_AMENDMENT",
        ("SACC", _) => "SURRENDERED_FOR_DELIVERY",
        _ => "ISSUED",
    }
}

/// A platform code from a chain id: its first four letters or digits, in
/// upper case (`cmport-1` -> `CMPO`, `gba-1` -> `GBA1`).
pub fn default_code(chain: &light_clients::ChainId) -> String {
    chain
        .as_str()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect::<String>()
        .to_ascii_uppercase()
}

impl PortApps {
    /// This ledger's eBL platform code in PINT (`eblPlatform` of its parties).
    pub fn pint_code(&self) -> String {
        default_code(&self.chain_id)
    }

    /// Applies a logged PINT call (a new call, or one replayed on restart).
    pub fn pint(&mut self, call: &PintCall) -> Answer {
        match call {
            PintCall::Start { envelope } => self.pint_start(envelope),
            PintCall::Document {
                reference,
                checksum,
                content,
            } => self.pint_document(reference, checksum, content.clone()),
            PintCall::Finish { reference } => self.pint_finish(reference),
            PintCall::Platform { code, jwk } => match self.register_pint_platform(code, jwk) {
                Ok(added) => Answer {
                    reply: Reply::Received,
                    changed: added,
                },
                Err(e) => Answer::unchanged(Reply::Error {
                    status: 400,
                    code: "bad_platform_key",
                    message: e.to_string(),
                }),
            },
        }
    }

    /// Registers a public key (JWK) of the eBL platform `code`: envelopes
    /// whose entries that platform signed must verify with one of its keys.
    /// Whether the key is new (registering a key twice changes nothing).
    pub fn register_pint_platform(
        &mut self,
        code: &str,
        jwk: &serde_json::Value,
    ) -> Result<bool, KeyError> {
        if code.is_empty() || code.chars().count() > 4 || code.chars().any(char::is_whitespace) {
            return Err(KeyError::Code(code.to_string()));
        }
        read_jwk(jwk)?;
        let keys = self.ebl.pint.platforms.entry(code.to_string()).or_default();
        if keys.contains(jwk) {
            return Ok(false);
        }
        keys.push(jwk.clone());
        Ok(true)
    }

    /// `POST /v3/envelopes`.
    pub fn pint_start(&mut self, body: &serde_json::Value) -> Answer {
        let Some(last) = body
            .get("envelopeTransferChain")
            .and_then(|c| c.as_array())
            .and_then(|c| c.last())
            .and_then(|l| l.as_str())
        else {
            return Answer::unchanged(Reply::Error {
                status: 400,
                code: "malformed_envelope",
                message: "an EblEnvelope has an envelopeTransferChain of JWS strings".into(),
            });
        };
        let last = sha256_hex(last.as_bytes());
        let envelope: EblEnvelope = match serde_json::from_value(body.clone()) {
            Ok(e) => e,
            Err(e) => return Answer::unchanged(signed(&last, "BENV", Some(format!("{e}")))),
        };
        let checked = match envelope::check(&envelope, &self.pint_code(), &self.ebl.pint.platforms)
        {
            Ok(c) => c,
            Err(bad) => return Answer::unchanged(refused(&last, bad)),
        };
        if let Some(reference) = self.ebl.pint.accepted.get(&last) {
            return Answer::unchanged(self.duplicate(reference));
        }
        let reference = reference_of(&last);
        if let Some(t) = self.ebl.pint.transfers.get(&reference) {
            // A retry of a transfer still open: the same answer as its
            // start, or, with every document in, the finish.
            let missing = self.missing(t);
            if missing.is_empty() {
                return self.pint_finish(&reference);
            }
            return Answer::unchanged(Reply::Started(StartedResponse {
                envelope_reference: reference,
                transport_document_checksum: checked.document_checksum,
                last_envelope_transfer_chain_entry_signed_content_checksum: last,
                missing_additional_document_checksums: missing,
            }));
        }
        let bill = match self.title_of(&checked) {
            Ok(b) => b,
            Err(reply) => return Answer::unchanged(reply),
        };
        let transfer = Transfer {
            bill: checked.bill.clone(),
            envelope,
            last_entry_checksum: last.clone(),
            declared: checked.manifest.documents(),
            received: BTreeSet::new(),
            accepted: false,
        };
        let missing = self.missing(&transfer);
        self.ebl.pint.transfers.insert(reference.clone(), transfer);
        if missing.is_empty() {
            return Answer::changed(self.accept(&reference, &checked, bill));
        }
        Answer::changed(Reply::Started(StartedResponse {
            envelope_reference: reference,
            transport_document_checksum: checked.document_checksum,
            last_envelope_transfer_chain_entry_signed_content_checksum: last,
            missing_additional_document_checksums: missing,
        }))
    }

    /// `PUT /v3/envelopes/{reference}/additional-documents/{checksum}`:
    /// `content` is the decoded body's SHA-256 and size.
    pub fn pint_document(
        &mut self,
        reference: &str,
        checksum: &str,
        content: Result<(String, u64), String>,
    ) -> Answer {
        let Some(t) = self.ebl.pint.transfers.get_mut(reference) else {
            return Answer::unchanged(unknown(reference));
        };
        let last = t.last_entry_checksum.clone();
        let incd = |m: String| Answer::unchanged(signed(&last, "INCD", Some(m)));
        let Some(&size) = t.declared.get(checksum) else {
            return incd(format!(
                "{checksum} is not an additional document of this envelope's manifest"
            ));
        };
        let (digest, got) = match content {
            Ok(c) => c,
            Err(e) => return incd(format!("the body is not the document in Base64: {e}")),
        };
        if digest != checksum {
            return incd(format!(
                "the document's SHA-256 is {digest}, not {checksum}"
            ));
        }
        if got != size {
            return incd(format!(
                "the document is {got} bytes; the manifest declares {size}"
            ));
        }
        t.received.insert(checksum.to_string());
        self.ebl.pint.documents.insert(checksum.to_string(), size);
        Answer::changed(Reply::Received)
    }

    /// `PUT /v3/envelopes/{reference}/finish-transfer`.
    pub fn pint_finish(&mut self, reference: &str) -> Answer {
        let Some(t) = self.ebl.pint.transfers.get(reference) else {
            return Answer::unchanged(unknown(reference));
        };
        if t.accepted {
            return Answer::unchanged(self.duplicate(reference));
        }
        let last = t.last_entry_checksum.clone();
        let missing = self.missing(t);
        if !missing.is_empty() {
            let mut r = signed(
                &last,
                "MDOC",
                Some(format!("{} additional documents missing", missing.len())),
            );
            if let Reply::Signed(f) = &mut r {
                f.missing_additional_document_checksums = Some(missing);
            }
            return Answer::unchanged(r);
        }
        // Checked again: the keys or the bill may have changed since the start.
        let checked = envelope::check(&t.envelope, &self.pint_code(), &self.ebl.pint.platforms);
        let outcome = checked
            .map_err(|bad| refused(&last, bad))
            .and_then(|c| self.title_of(&c).map(|bill| (c, bill)));
        match outcome {
            Ok((checked, bill)) => Answer::changed(self.accept(reference, &checked, bill)),
            Err(reply) => {
                // Rejected: the transfer is closed; the sender may start again.
                self.ebl.pint.transfers.remove(reference);
                Answer::changed(reply)
            }
        }
    }

    /// The declared documents neither received for `t` nor held already.
    fn missing(&self, t: &Transfer) -> Vec<String> {
        t.declared
            .keys()
            .filter(|c| !t.received.contains(*c) && !self.ebl.pint.documents.contains_key(*c))
            .cloned()
            .collect()
    }

    /// DUPE for the accepted transfer `reference`, returning its last entry.
    fn duplicate(&self, reference: &str) -> Reply {
        let Some(t) = self.ebl.pint.transfers.get(reference) else {
            return unknown(reference);
        };
        let mut r = signed(&t.last_entry_checksum, "DUPE", None);
        if let Reply::Signed(f) = &mut r {
            f.duplicate_of_accepted_envelope_transfer_chain_entry_signed_content =
                t.envelope.envelope_transfer_chain.last().cloned();
            f.received_additional_document_checksums = Some(t.declared.keys().cloned().collect());
        }
        r
    }

    /// The bill this ledger would hold after the envelope's chain: DISE if
    /// the ledger knows the bill already (a platform cannot have moved it
    /// meanwhile), BENV if a transaction breaks the title rules.
    fn title_of(&self, checked: &Checked) -> Result<Bill, Reply> {
        let last = checked.last_checksum();
        if let Some(known) = self.ebl.bills.get(&checked.bill) {
            let ours = self.ebl.pint.chains.get(&checked.bill);
            let theirs: Vec<&str> = checked.entries.iter().map(|(c, _)| c.as_str()).collect();
            let reason = match ours {
                Some(ours) if !theirs.starts_with(&ours.iter().map(String::as_str).collect::<Vec<_>>()) => {
                    format!(
                        "{}: the chain contradicts the {} entries this platform accepted",
                        checked.bill,
                        ours.len()
                    )
                }
                _ => format!(
                    "{}: this ledger holds the bill already ({:?}, holder {:?}); no platform can have moved it since",
                    checked.bill, known.title, known.holder
                ),
            };
            return Err(signed(last, "DISE", Some(reason)));
        }
        self.replay(checked).map_err(|e| {
            let reason = match e {
                AppRefusal::BadEnvelope(m) => m,
                other => other.to_string(),
            };
            signed(last, "BENV", Some(reason))
        })
    }

    /// Replays the chain's transactions, oldest first, as `EBL_TRANSFER`s
    /// on a scratch copy of the app: each must pass the schema and the title
    /// checks a local transfer passes.
    fn replay(&self, checked: &Checked) -> Result<Bill, AppRefusal> {
        let mut scratch = PortApps::new(self.chain_id.clone());
        let mut actions: Vec<String> = Vec::new();
        let mut surrender: Option<String> = None;
        for (i, (checksum, entry)) in checked.entries.iter().enumerate() {
            for (n, tx) in entry.transactions.iter().enumerate() {
                let at = |e: AppRefusal| {
                    let why = match e {
                        AppRefusal::Invalid(r) => format!("{}: {}", r.rule, r.message),
                        AppRefusal::Disputed(m) | AppRefusal::BadEnvelope(m) => m,
                        other => other.to_string(),
                    };
                    AppRefusal::BadEnvelope(format!(
                        "envelopeTransferChain[{i}] transaction {n} ({}): {why}",
                        tx.action_code
                    ))
                };
                let mut event = serde_json::json!({
                    "eventType": "EBL_TRANSFER",
                    "eventID": event_id(checksum, n),
                    "eventCreatedDateTime": tx.action_date_time,
                    "eventDateTime": tx.action_date_time,
                    "transportDocumentReference": checked.bill,
                    "action": tx.action_code,
                    "transportDocumentStatus": status_after(&tx.action_code, surrender.as_deref()),
                    "sender": tx.actor,
                    "transferChain": actions,
                });
                if let Some(r) = &tx.recipient {
                    event["recipient"] = r.clone();
                }
                let event: PortEvent =
                    events::validate(&event).map_err(|r| at(AppRefusal::Invalid(r)))?;
                match scratch.check_local(&event, &self.chain_id).map_err(at)? {
                    Verdict::Apply => scratch.apply_local(&event, None),
                    Verdict::Duplicate(_) => {
                        return Err(AppRefusal::BadEnvelope(format!(
                            "transaction {n} of entry {checksum} repeats an earlier one"
                        )))
                    }
                }
                match tx.action_code.as_str() {
                    "SURRENDER_FOR_DELIVERY" | "SURRENDER_FOR_AMENDMENT" => {
                        surrender = Some(tx.action_code.clone())
                    }
                    "SACC" | "SREJ" => surrender = None,
                    _ => {}
                }
                actions.push(tx.action_code.clone());
            }
        }
        scratch
            .ebl
            .bills
            .remove(&checked.bill)
            .ok_or_else(|| AppRefusal::BadEnvelope("the chain issues no bill".into()))
    }

    /// Accepts transfer `reference`: the bill is live here, as its chain made it.
    fn accept(&mut self, reference: &str, checked: &Checked, bill: Bill) -> Reply {
        self.ebl.bills.insert(checked.bill.clone(), bill);
        self.ebl.pint.chains.insert(
            checked.bill.clone(),
            checked.entries.iter().map(|(c, _)| c.clone()).collect(),
        );
        let last = checked.last_checksum().to_string();
        self.ebl
            .pint
            .accepted
            .insert(last.clone(), reference.to_string());
        let received = match self.ebl.pint.transfers.get_mut(reference) {
            Some(t) => {
                t.accepted = true;
                t.declared.keys().cloned().collect()
            }
            None => Vec::new(),
        };
        let mut r = signed(&last, "RECE", None);
        if let Reply::Signed(f) = &mut r {
            f.received_additional_document_checksums = Some(received);
        }
        r
    }
}

fn unknown(reference: &str) -> Reply {
    Reply::Error {
        status: 404,
        code: "unknown_envelope_reference",
        message: format!("no transfer has the envelope reference {reference:?}"),
    }
}
