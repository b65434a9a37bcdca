//! The eBL registry: who holds title to each bill of lading, moved across
//! ledgers as pledge, claim and reclaim, with DCSA PINT's answers (RECE,
//! DUPE, DISE, BSIG, BENV) and platform-signed envelopes.

use std::collections::BTreeMap;

use adapters::events::PortEvent;
use light_clients::host::RelayerKey;
use light_clients::{AckResult, ChainId, Packet, PacketId};
use serde::{Deserialize, Serialize};

use super::{AppRefusal, PortApps};

/// Where a bill of lading's title is, as this ledger sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Title {
    /// Title is here, with `holder`.
    Live,
    /// Pledged to another ledger by a transfer in flight: not live anywhere
    /// until the destination's ack says claimed (or not).
    Pledged {
        to: ChainId,
        packet: PacketId,
        previous_holder: String,
        previous_status: String,
    },
    /// Claimed by another ledger: it lives there now.
    Away { to: ChainId },
}

/// One bill of lading in the eBL registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    pub title: Title,
    /// The party that controls the bill (its name), while live here.
    pub holder: String,
    pub status: String,
    /// The PINT actions so far, oldest first.
    pub actions: Vec<String>,
    /// The eventIDs applied, to tell a duplicate from a conflict.
    pub event_ids: Vec<String>,
}

/// The eBL registry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EblRegistry {
    pub bills: BTreeMap<String, Bill>,
    /// PINT answers given, by code (RECE, DUPE, DISE, BSIG, BENV): for analysts.
    pub answers: BTreeMap<String, u64>,
    /// The eBL platform key of each counterparty ledger, as its operator
    /// registered it: transfers from there must be signed with it.
    #[serde(default)]
    pub platform_keys: BTreeMap<ChainId, RelayerKey>,
}

/// An eBL transfer as it travels: the event and its sending platform's
/// Ed25519 signature over the event's JSON bytes (serde_json, keys sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedEnvelope {
    pub envelope: serde_json::Value,
    pub signer: RelayerKey,
    #[serde(with = "hex_sig")]
    pub signature: [u8; 64],
}

impl SignedEnvelope {
    /// Signs `event` with the platform `key`.
    pub fn seal(event: &serde_json::Value, key: &ed25519_consensus::SigningKey) -> Self {
        let bytes = serde_json::to_vec(event).unwrap_or_default();
        SignedEnvelope {
            envelope: event.clone(),
            signer: RelayerKey(key.verification_key().to_bytes()),
            signature: key.sign(&bytes).to_bytes(),
        }
    }

    /// Whether the signature is the signer's over the envelope.
    pub fn verifies(&self) -> bool {
        let bytes = serde_json::to_vec(&self.envelope).unwrap_or_default();
        ed25519_consensus::VerificationKey::try_from(self.signer.0)
            .and_then(|vk| vk.verify(&ed25519_consensus::Signature::from(self.signature), &bytes))
            .is_ok()
    }
}

mod hex_sig {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sig: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(sig))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 64];
        hex::decode_to_slice(&text, &mut out)
            .map_err(|e| serde::de::Error::custom(format!("expected 128 hex digits: {e}")))?;
        Ok(out)
    }
}

impl PortApps {
    /// Checks an event submitted on this ledger for `destination` (this
    /// ledger itself for a local-only event) before anything changes.
    pub fn check_local(&self, event: &PortEvent, destination: &ChainId) -> Result<(), AppRefusal> {
        if let PortEvent::EblTransfer(t) = event {
            let id = event.header().event_id.to_string();
            let reference = &t.transport_document_reference;
            match (self.ebl.bills.get(reference), t.action.to_string().as_str()) {
                (Some(b), _) if b.event_ids.contains(&id) => {
                    return Err(AppRefusal::Duplicate(format!(
                        "{reference} already has event {id}"
                    )))
                }
                (Some(_), "ISSUE") => {
                    return Err(AppRefusal::Disputed(format!(
                        "{reference} was issued already"
                    )))
                }
                (None, "ISSUE") => {}
                (None, _) => {
                    return Err(AppRefusal::Disputed(format!(
                        "{reference} is not held on {}",
                        self.chain_id
                    )))
                }
                (Some(b), _) if b.title != Title::Live => {
                    return Err(AppRefusal::Disputed(format!(
                        "{reference} is not live on {}: {:?}",
                        self.chain_id, b.title
                    )))
                }
                (Some(b), _) if b.actions.last().map(String::as_str) == Some("SACC") => {
                    return Err(AppRefusal::Disputed(format!(
                        "{reference} was surrendered; nothing follows SACC"
                    )))
                }
                (Some(_), _) => {}
            }
            if t.action.to_string() == "ISSUE" && destination != &self.chain_id {
                return Err(AppRefusal::Disputed(
                    "a bill is issued on its own ledger before it moves".into(),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn answer(&mut self, code: &str) {
        *self.ebl.answers.entry(code.to_string()).or_default() += 1;
    }

    /// A claim on this ledger of a bill pledged by `source`.
    pub(super) fn claim(
        &mut self,
        event: &PortEvent,
        source: &ChainId,
    ) -> Result<&'static str, AppRefusal> {
        let PortEvent::EblTransfer(t) = event else {
            return Ok("RECE");
        };
        let id = event.header().event_id.to_string();
        let reference = &t.transport_document_reference;
        if let Some(b) = self.ebl.bills.get(reference) {
            if b.event_ids.contains(&id) && b.title == Title::Live {
                // Already claimed through another packet: accepted, nothing changes.
                return Ok("DUPE");
            }
            if b.title != (Title::Away { to: source.clone() }) {
                return Err(AppRefusal::Disputed(format!("{reference} is held here in another state ({:?}); the sender's history lacks it", b.title)));
            }
        }
        if let Some(chain) = &t.transfer_chain {
            if let Some(b) = self.ebl.bills.get(reference) {
                // Coming back: the chain must extend what this ledger saw.
                let theirs: Vec<String> = chain.iter().map(ToString::to_string).collect();
                if !theirs.starts_with(&b.actions) {
                    return Err(AppRefusal::Disputed(format!(
                        "{reference}: the sender's history does not extend this ledger's"
                    )));
                }
                self.ebl.bills.remove(reference);
            }
        }
        self.apply(event, source, None);
        if let Some(b) = self.ebl.bills.get_mut(reference) {
            b.title = Title::Live;
        }
        Ok("RECE")
    }

    /// Registers a counterparty's eBL platform key (its operator's word, checked by the node).
    pub fn register_platform(&mut self, chain: ChainId, key: RelayerKey) {
        self.ebl.platform_keys.insert(chain, key);
    }

    /// Reads an eBL transfer envelope: its signature must verify, and be by
    /// the key registered for the source ledger's platform, if one is.
    pub(super) fn open_envelope(&self, packet: &Packet) -> Result<serde_json::Value, AppRefusal> {
        let source = &packet.id.channel.source;
        let registered = self.ebl.platform_keys.get(source);
        let envelope: SignedEnvelope = match serde_json::from_slice(&packet.payload) {
            Ok(e) => e,
            Err(_) if registered.is_some() => {
                return Err(AppRefusal::BadSignature(format!(
                    "{source}'s platform signs its envelopes; this one is not a signed envelope"
                )))
            }
            Err(e) => {
                return Err(AppRefusal::Payload {
                    code: "payload.json",
                    message: format!("not an eBL envelope: {e}"),
                })
            }
        };
        if !envelope.verifies() {
            return Err(AppRefusal::BadSignature(format!(
                "the envelope's signature is not {}'s",
                envelope.signer
            )));
        }
        if let Some(key) = registered {
            if *key != envelope.signer {
                return Err(AppRefusal::BadSignature(format!(
                    "signed by {}, {source}'s platform key is {key}",
                    envelope.signer
                )));
            }
        }
        Ok(envelope.envelope)
    }

    /// An ack of an eBL transfer settles its pledge: claimed, the title is
    /// away; refused or timed out, it comes back as it was.
    pub(super) fn settle_pledge(&mut self, packet: &Packet, result: &AckResult) {
        let pledged = self
            .pledges
            .remove(&packet.id)
            .and_then(|reference| self.ebl.bills.get_mut(&reference))
            .filter(|b| matches!(&b.title, Title::Pledged { packet: p, .. } if p == &packet.id));
        if let Some(bill) = pledged {
            let Title::Pledged {
                previous_holder,
                previous_status,
                ..
            } = bill.title.clone()
            else {
                return;
            };
            match result {
                AckResult::Ok => {
                    bill.title = Title::Away {
                        to: packet.id.channel.destination.clone(),
                    }
                }
                // Not claimed: the title comes back (reclaim), as it was before the pledge.
                AckResult::Error(_) | AckResult::Timeout => {
                    bill.actions.pop();
                    bill.event_ids.pop();
                    bill.holder = previous_holder;
                    bill.status = previous_status;
                    bill.title = Title::Live;
                }
            }
        }
    }
}
