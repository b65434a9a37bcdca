//! The PINT 3.0 `EblEnvelope` and what a receiving platform checks before it
//! looks at the title: the JWS signatures (BSIG), the transport document's
//! RFC 8785 checksum, the manifest, the chain's links and its first entry
//! (BENV), and that the last transaction is addressed to this platform.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::jws::{self, JwsError};

/// SHA-256, lowercase hex (PINT's `DocumentChecksum`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The transport document's checksum: SHA-256 of its RFC 8785 (JCS) form.
pub fn document_checksum(td: &serde_json::Value) -> String {
    // Serialising a `Value` cannot fail; an empty string would never match.
    let canonical = serde_json_canonicalizer::to_vec(td).unwrap_or_default();
    sha256_hex(&canonical)
}

/// Whether `s` is a `DocumentChecksum`: 64 lowercase hex digits.
pub fn is_checksum(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `POST /v3/envelopes`'s body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EblEnvelope {
    pub transport_document: serde_json::Value,
    pub envelope_manifest_signed_content: String,
    pub envelope_transfer_chain: Vec<String>,
}

/// An additional document's metadata in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DocumentMetadata {
    pub name: String,
    pub size: u64,
    pub media_type: String,
    pub document_checksum: String,
}

/// The payload of `envelopeManifestSignedContent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvelopeManifest {
    pub transport_document_checksum: String,
    pub last_envelope_transfer_chain_entry_signed_content_checksum: String,
    #[serde(
        rename = "eBLVisualisationByCarrier",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ebl_visualisation_by_carrier: Option<DocumentMetadata>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supporting_documents: Vec<DocumentMetadata>,
}

impl EnvelopeManifest {
    /// Every additional document the manifest declares: checksum -> size.
    pub fn documents(&self) -> BTreeMap<String, u64> {
        self.ebl_visualisation_by_carrier
            .iter()
            .chain(&self.supporting_documents)
            .map(|d| (d.document_checksum.clone(), d.size))
            .collect()
    }
}

/// One transaction of a chain entry. Parties stay JSON: they become the
/// `sender`/`recipient` of an `EBL_TRANSFER` event, whose schema checks them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Transaction {
    pub action_code: String,
    pub actor: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<serde_json::Value>,
    pub action_date_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_reference: Option<String>,
}

/// The payload of one `envelopeTransferChain` element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainEntry {
    pub ebl_platform: String,
    pub transport_document_checksum: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_envelope_transfer_chain_entry_signed_content_checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuance_manifest_signed_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_tracking_registry: Option<String>,
    pub transactions: Vec<Transaction>,
}

/// The payload of `issuanceManifestSignedContent` (signed by the carrier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuanceManifest {
    pub document_checksum: String,
    #[serde(
        rename = "eBLVisualisationByCarrierChecksum",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ebl_visualisation_by_carrier_checksum: Option<String>,
    pub issue_to_checksum: String,
}

/// Why an envelope is refused before its title is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bad {
    /// PINT BSIG: a signature that is not the signing platform's.
    Signature(String),
    /// PINT BENV: anything else wrong with the envelope.
    Envelope(String),
}

/// An envelope whose signatures, checksums and links hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// `transportDocumentReference` of the transport document.
    pub bill: String,
    pub document_checksum: String,
    pub manifest: EnvelopeManifest,
    /// The entries' payloads, oldest first, with the checksum of each JWS.
    pub entries: Vec<(String, ChainEntry)>,
}

impl Checked {
    pub fn last_checksum(&self) -> &str {
        self.entries.last().map_or("", |(c, _)| c.as_str())
    }
}

fn benv(m: impl Into<String>) -> Bad {
    Bad::Envelope(m.into())
}

fn jws_bad(what: &str, e: JwsError) -> Bad {
    match e {
        JwsError::Malformed(_) => Bad::Envelope(format!("{what}: {e}")),
        JwsError::UnknownPlatform(_) | JwsError::BadSignature { .. } => {
            Bad::Signature(format!("{what}: {e}"))
        }
    }
}

fn payload<T: serde::de::DeserializeOwned>(what: &str, v: &serde_json::Value) -> Result<T, Bad> {
    serde_json::from_value(v.clone()).map_err(|e| benv(format!("{what}: {e}")))
}

/// Checks an envelope for the platform `own` with the registered `keys`
/// (platform code -> JWKs). The order follows the spec and DCSA's
/// conformance toolkit: parse (BENV), signatures (BSIG), checksums and
/// links (BENV), first entry (BENV), addressed to this platform (BENV).
pub fn check(
    envelope: &EblEnvelope,
    own: &str,
    keys: &BTreeMap<String, Vec<serde_json::Value>>,
) -> Result<Checked, Bad> {
    let no_keys = Vec::new();
    let keys_of = |platform: &str| keys.get(platform).unwrap_or(&no_keys);
    if envelope.envelope_transfer_chain.is_empty() {
        return Err(benv("envelopeTransferChain has at least one entry"));
    }
    let manifest_jws = jws::parse(&envelope.envelope_manifest_signed_content)
        .map_err(|e| jws_bad("envelopeManifestSignedContent", e))?;
    let mut compacts = Vec::with_capacity(envelope.envelope_transfer_chain.len());
    for (i, entry) in envelope.envelope_transfer_chain.iter().enumerate() {
        let c =
            jws::parse(entry).map_err(|e| jws_bad(&format!("envelopeTransferChain[{i}]"), e))?;
        let parsed: ChainEntry = payload(&format!("envelopeTransferChain[{i}]"), &c.payload)?;
        compacts.push((sha256_hex(entry.as_bytes()), c, parsed));
    }
    // Signatures: each entry by its own platform, the manifest by the
    // sending platform (the last entry's), the issuance manifest by the
    // carrier's platform (the first entry's).
    for (i, (_, c, entry)) in compacts.iter().enumerate() {
        c.verify(&entry.ebl_platform, keys_of(&entry.ebl_platform))
            .map_err(|e| jws_bad(&format!("envelopeTransferChain[{i}]"), e))?;
    }
    let (_, _, last) = compacts.last().ok_or_else(|| benv("empty chain"))?;
    manifest_jws
        .verify(&last.ebl_platform, keys_of(&last.ebl_platform))
        .map_err(|e| jws_bad("envelopeManifestSignedContent", e))?;
    let (_, _, first) = &compacts[0];
    let Some(issuance) = &first.issuance_manifest_signed_content else {
        return Err(benv(
            "the first chain entry carries issuanceManifestSignedContent",
        ));
    };
    let issuance_jws =
        jws::parse(issuance).map_err(|e| jws_bad("issuanceManifestSignedContent", e))?;
    issuance_jws
        .verify(&first.ebl_platform, keys_of(&first.ebl_platform))
        .map_err(|e| jws_bad("issuanceManifestSignedContent", e))?;

    // Checksums.
    let manifest: EnvelopeManifest =
        payload("envelopeManifestSignedContent", &manifest_jws.payload)?;
    let issuance: IssuanceManifest =
        payload("issuanceManifestSignedContent", &issuance_jws.payload)?;
    let td = &envelope.transport_document;
    let bill = td
        .get("transportDocumentReference")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| benv("transportDocument.transportDocumentReference is required"))?
        .to_string();
    let document_checksum = document_checksum(td);
    if manifest.transport_document_checksum != document_checksum {
        return Err(benv(format!(
            "the manifest's transportDocumentChecksum {} is not the transport document's ({document_checksum}, RFC 8785)",
            manifest.transport_document_checksum
        )));
    }
    if issuance.document_checksum != document_checksum {
        return Err(benv(format!(
            "the issuance manifest's documentChecksum {} is not the transport document's ({document_checksum})",
            issuance.document_checksum
        )));
    }
    // The carrier's visualisation, once issued with the eBL, travels with
    // every transfer and never changes: the one the carrier signed.
    if let Some(signed) = &issuance.ebl_visualisation_by_carrier_checksum {
        let declared = manifest
            .ebl_visualisation_by_carrier
            .as_ref()
            .map(|d| d.document_checksum.as_str());
        if declared != Some(signed.as_str()) {
            return Err(benv(format!(
                "the carrier issued the eBL with the visualisation {signed}; the manifest declares {}",
                declared.unwrap_or("none")
            )));
        }
    }
    let last_checksum = &compacts[compacts.len() - 1].0;
    if &manifest.last_envelope_transfer_chain_entry_signed_content_checksum != last_checksum {
        return Err(benv(format!(
            "the manifest's lastEnvelopeTransferChainEntrySignedContentChecksum {} is not the last entry's ({last_checksum})",
            manifest.last_envelope_transfer_chain_entry_signed_content_checksum
        )));
    }
    for d in manifest
        .ebl_visualisation_by_carrier
        .iter()
        .chain(&manifest.supporting_documents)
    {
        if !is_checksum(&d.document_checksum) || d.size == 0 {
            return Err(benv(format!(
                "document {:?}: documentChecksum is 64 lowercase hex digits and size at least 1",
                d.name
            )));
        }
    }
    // The chain: every entry about this document, each linked to the one before.
    let mut previous: Option<&str> = None;
    for (i, (checksum, _, entry)) in compacts.iter().enumerate() {
        if entry.transport_document_checksum != document_checksum {
            return Err(benv(format!(
                "envelopeTransferChain[{i}] is about another transport document ({})",
                entry.transport_document_checksum
            )));
        }
        let link = entry
            .previous_envelope_transfer_chain_entry_signed_content_checksum
            .as_deref();
        if link != previous {
            return Err(benv(match (i, link) {
                (0, _) => "the first chain entry has no previousEnvelopeTransferChainEntrySignedContentChecksum".to_string(),
                (_, None) => format!("envelopeTransferChain[{i}] does not name the entry before it"),
                (_, Some(l)) => format!(
                    "envelopeTransferChain[{i}] links to {l}, the entry before it is {}",
                    previous.unwrap_or_default()
                ),
            }));
        }
        if i > 0 && entry.control_tracking_registry.is_some() {
            return Err(benv(format!(
                "envelopeTransferChain[{i}]: only the first entry names a controlTrackingRegistry"
            )));
        }
        if entry.transactions.is_empty() {
            return Err(benv(format!(
                "envelopeTransferChain[{i}] has at least one transaction"
            )));
        }
        previous = Some(checksum);
    }
    if first.control_tracking_registry.is_some() {
        return Err(benv(
            "this platform records no transfers in a control tracking registry; an eBL under one cannot be received here",
        ));
    }
    if first.transactions[0].action_code != "ISSUE" {
        return Err(benv(format!(
            "the chain starts with ISSUE, not {}",
            first.transactions[0].action_code
        )));
    }
    // Addressed to this platform: the last transaction's recipient, or for
    // an action without one, the platform that made the last entry.
    let tx = last
        .transactions
        .last()
        .ok_or_else(|| benv("no transaction"))?;
    let to = match &tx.recipient {
        Some(r) => r.get("eblPlatform").and_then(|p| p.as_str()).unwrap_or(""),
        None => last.ebl_platform.as_str(),
    };
    if to != own {
        return Err(benv(format!(
            "the last transaction ({}) is addressed to the platform {to:?}, not to this one ({own})",
            tx.action_code
        )));
    }
    Ok(Checked {
        bill,
        document_checksum,
        manifest,
        entries: compacts.into_iter().map(|(c, _, e)| (c, e)).collect(),
    })
}
