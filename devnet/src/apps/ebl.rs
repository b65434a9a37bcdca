//! The eBL registry: who holds title to each bill of lading, moved across
//! ledgers as pledge, claim and reclaim, with DCSA PINT's answers (RECE,
//! DUPE, DISE, BSIG, BENV) and platform-signed envelopes.

use std::collections::BTreeMap;

use adapters::events::{EblAction, EblParty, EblTransfer, PortEvent};
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
        /// Who controlled the bill before the pledge, restored on a reclaim.
        #[serde(default)]
        previous_control: Box<Control>,
    },
    /// Claimed by another ledger: it lives there now.
    Away { to: ChainId },
}

/// A PINT party as the registry keeps it: enough to tell one party from another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub platform: String,
    /// `(codeListProvider, partyCode)` of each identifying code.
    pub codes: Vec<(String, String)>,
    /// The party this one acts for (`representedParty`): its name and codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub represents: Option<(String, Vec<(String, String)>)>,
}

fn codes(list: &[adapters::events::IdentifyingCode]) -> Vec<(String, String)> {
    list.iter()
        .map(|c| (c.code_list_provider.clone(), c.party_code.clone()))
        .collect()
}

/// Two descriptions name the same party when they share an identifying
/// code; without codes on one side, only the name can tell.
fn same(
    name_a: &str,
    codes_a: &[(String, String)],
    name_b: &str,
    codes_b: &[(String, String)],
) -> bool {
    if codes_a.is_empty() || codes_b.is_empty() {
        return name_a == name_b;
    }
    codes_a.iter().any(|c| codes_b.contains(c))
}

impl Party {
    pub fn of(p: &EblParty) -> Self {
        Party {
            name: p.party_name.clone(),
            platform: p.ebl_platform.clone(),
            codes: codes(&p.identifying_codes),
            represents: p
                .represented_party
                .as_ref()
                .map(|r| (r.party_name.clone(), codes(&r.identifying_codes))),
        }
    }

    /// Whether this party is `other` itself.
    pub fn is(&self, other: &Party) -> bool {
        same(&self.name, &self.codes, &other.name, &other.codes)
    }

    /// Whether this party may act as `other`: it is `other`, or it names
    /// `other` as the party it represents.
    pub fn acts_for(&self, other: &Party) -> bool {
        self.is(other)
            || self
                .represents
                .as_ref()
                .is_some_and(|(name, codes)| same(name, codes, &other.name, &other.codes))
    }
}

/// A surrender waiting for the carrier's SACC or SREJ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Surrender {
    /// SURRENDER_FOR_DELIVERY or SURRENDER_FOR_AMENDMENT.
    pub action: String,
    /// The party that surrendered: possession returns to it on SREJ.
    pub by: Party,
}

/// Who controls a bill: the possessor and, for an endorsed bill, the
/// endorsee (where they differ, the endorsee's title is completed by
/// possession: the possessor transfers, the endorsee endorses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    /// The party in possession (none before this ledger knows it).
    pub possessor: Option<Party>,
    /// The named endorsee, if the bill is endorsed to one (none when it is
    /// not endorsed or endorsed in blank).
    pub endorsee: Option<Party>,
    /// Endorsed with ENDORSE (not to order): the endorsee cannot endorse further.
    #[serde(default)]
    pub endorsement_final: bool,
    /// The surrender the carrier has yet to answer.
    pub surrender: Option<Surrender>,
}

/// One accepted step of a bill's chain, as this ledger saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its index in the bill's `actions`.
    pub position: usize,
    pub event_id: String,
    pub action: String,
    pub actor: Party,
    pub recipient: Option<Party>,
    /// The packet that carried it away or here, if it travelled.
    pub packet: Option<PacketId>,
    /// The event as accepted.
    pub event: serde_json::Value,
}

/// A chain closed by SACC after SURRENDER_FOR_AMENDMENT, which the amended
/// document's new chain replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedChain {
    pub actions: Vec<String>,
    pub event_ids: Vec<String>,
    pub chain: Vec<Entry>,
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
    /// The entries this ledger accepted (a bill claimed from another ledger
    /// knows the earlier actions only by code).
    #[serde(default)]
    pub chain: Vec<Entry>,
    /// Who controls it now.
    #[serde(default)]
    pub control: Control,
    /// The issuing carrier: surrenders are addressed to it, SACC and SREJ are its.
    #[serde(default)]
    pub carrier: Option<Party>,
    /// The chains this bill had before each amendment, oldest first.
    #[serde(default)]
    pub previous_chains: Vec<ClosedChain>,
}

impl Bill {
    fn closed(&self) -> bool {
        self.actions.last().map(String::as_str) == Some("SACC")
    }
}

/// What a local eBL transfer does once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accept it (RECE).
    Apply,
    /// Accepted already (DUPE): nothing changes, here is the entry.
    Duplicate(Box<Entry>),
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
    /// PINT 3.0: eBL platforms' keys, transfers received, documents held.
    #[serde(default)]
    pub pint: super::pint::PintRegistry,
}

/// An eBL transfer as it travels: the event, the issuing carrier as the
/// sending ledger knows it (so the destination can check surrenders), and
/// the sending platform's Ed25519 signature over both (serde_json bytes of
/// the event, or of `[event, carrier]` when the carrier is given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedEnvelope {
    pub envelope: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<Party>,
    pub signer: RelayerKey,
    #[serde(with = "hex_sig")]
    pub signature: [u8; 64],
}

fn signed_bytes(envelope: &serde_json::Value, carrier: Option<&Party>) -> Vec<u8> {
    match carrier {
        None => serde_json::to_vec(envelope),
        Some(c) => serde_json::to_vec(&(envelope, c)),
    }
    .unwrap_or_default()
}

impl SignedEnvelope {
    /// Signs `event` (and the bill's `carrier`) with the platform `key`.
    pub fn seal(
        event: &serde_json::Value,
        carrier: Option<&Party>,
        key: &ed25519_consensus::SigningKey,
    ) -> Self {
        SignedEnvelope {
            envelope: event.clone(),
            carrier: carrier.cloned(),
            signer: RelayerKey(key.verification_key().to_bytes()),
            signature: key.sign(&signed_bytes(event, carrier)).to_bytes(),
        }
    }

    /// Whether the signature is the signer's over the envelope.
    pub fn verifies(&self) -> bool {
        let bytes = signed_bytes(&self.envelope, self.carrier.as_ref());
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
    /// ledger itself for a local-only event) before anything changes: an
    /// eBL transfer must come from the bill's holder (or the party the
    /// chain allows for that action) and extend the chain this ledger knows.
    pub fn check_local(
        &self,
        event: &PortEvent,
        destination: &ChainId,
    ) -> Result<Verdict, AppRefusal> {
        let PortEvent::EblTransfer(t) = event else {
            return Ok(Verdict::Apply);
        };
        let id = event.header().event_id.to_string();
        let verdict = self.check_transfer(t, &id)?;
        if t.action == EblAction::Issue && destination != &self.chain_id {
            return Err(AppRefusal::Disputed(
                "a bill is issued on its own ledger before it moves".into(),
            ));
        }
        Ok(verdict)
    }

    fn check_transfer(&self, t: &EblTransfer, id: &str) -> Result<Verdict, AppRefusal> {
        let reference = &t.transport_document_reference;
        let submitted: Option<Vec<String>> = t
            .transfer_chain
            .as_ref()
            .map(|c| c.iter().map(ToString::to_string).collect());
        let Some(bill) = self.ebl.bills.get(reference) else {
            return match t.action {
                EblAction::Issue => Ok(Verdict::Apply),
                _ => Err(AppRefusal::Disputed(format!(
                    "{reference} is not held on {}",
                    self.chain_id
                ))),
            };
        };
        // The same step again: DUPE if it is the step accepted, DISE if the
        // eventID is reused for another one.
        if let Some(entry) = bill.chain.iter().find(|e| e.event_id == id) {
            let before = bill.actions.get(..entry.position);
            let same_chain = submitted.as_deref().is_none_or(|s| Some(s) == before);
            if entry.action == t.action.as_str() && same_chain {
                return Ok(Verdict::Duplicate(Box::new(entry.clone())));
            }
            return Err(AppRefusal::Disputed(format!(
                "{reference}: event {id} was accepted as {} at position {}; this chain contradicts it",
                entry.action, entry.position
            )));
        }
        if bill.event_ids.iter().any(|e| e == id) {
            return Err(AppRefusal::Duplicate(format!(
                "{reference} already has event {id}"
            )));
        }
        let actor = Party::of(&t.sender);
        let recipient = t.recipient.as_ref().map(Party::of);
        if bill.title != Title::Live {
            return Err(AppRefusal::Disputed(format!(
                "{reference} is not live on {}: {:?}",
                self.chain_id, bill.title
            )));
        }
        if bill.closed() {
            let amended = bill.actions.iter().rev().nth(1).map(String::as_str)
                == Some("SURRENDER_FOR_AMENDMENT");
            let by_carrier = bill.carrier.as_ref().is_none_or(|c| actor.acts_for(c));
            if t.action == EblAction::Issue && amended && by_carrier {
                // The amended document, reissued with a new chain.
                return match submitted.as_deref() {
                    Some([]) | None => Ok(Verdict::Apply),
                    Some(_) => Err(AppRefusal::BadEnvelope(format!(
                        "{reference}: a reissued document starts a new chain"
                    ))),
                };
            }
            return Err(AppRefusal::BadEnvelope(format!(
                "{reference} was surrendered (SACC); nothing follows SACC"
            )));
        }
        if t.action == EblAction::Issue {
            return Err(AppRefusal::Disputed(format!(
                "{reference} was issued already"
            )));
        }
        if let Some(theirs) = &submitted {
            if theirs != &bill.actions {
                return Err(AppRefusal::Disputed(format!(
                    "{reference}: the submitted chain {theirs:?} does not extend the chain this ledger knows {:?}",
                    bill.actions
                )));
            }
        }
        let control = &bill.control;
        let holds = |p: &Option<Party>| p.as_ref().is_none_or(|p| actor.acts_for(p));
        let not_holder = || {
            AppRefusal::Disputed(format!(
                "{reference}: {} does not hold the bill (held by {})",
                actor.name,
                control
                    .possessor
                    .as_ref()
                    .map_or("nobody known", |p| p.name.as_str())
            ))
        };
        match t.action {
            EblAction::Issue => {}
            EblAction::Sacc | EblAction::Srej => {
                let Some(surrender) = &control.surrender else {
                    return Err(AppRefusal::BadEnvelope(format!(
                        "{reference}: no surrender is pending for {} to answer",
                        t.action
                    )));
                };
                if !bill.carrier.as_ref().is_none_or(|c| actor.acts_for(c)) {
                    return Err(AppRefusal::BadEnvelope(format!(
                        "{reference}: {} is the issuing carrier's, not {}'s",
                        t.action, actor.name
                    )));
                }
                if recipient
                    .as_ref()
                    .is_some_and(|r| !r.acts_for(&surrender.by))
                {
                    return Err(AppRefusal::BadEnvelope(format!(
                        "{reference}: {} is addressed to the surrendering party, {}",
                        t.action, surrender.by.name
                    )));
                }
            }
            _ if control.surrender.is_some() => {
                return Err(AppRefusal::Disputed(format!(
                    "{reference}: a surrender is pending; only the carrier's SACC or SREJ follows"
                )))
            }
            EblAction::Transfer | EblAction::Sign => {
                if !holds(&control.possessor) {
                    return Err(not_holder());
                }
            }
            EblAction::Endorse
            | EblAction::EndorseToOrder
            | EblAction::BlankEndorse
            | EblAction::SurrenderForDelivery
            | EblAction::SurrenderForAmendment => {
                // The holder: in possession and, if the bill names an endorsee, that endorsee.
                if !holds(&control.possessor) || !holds(&control.endorsee) {
                    return Err(not_holder());
                }
                let endorsing = matches!(
                    t.action,
                    EblAction::Endorse | EblAction::EndorseToOrder | EblAction::BlankEndorse
                );
                if endorsing && control.endorsement_final {
                    return Err(AppRefusal::BadEnvelope(format!(
                        "{reference} was endorsed to {} who cannot endorse it further",
                        control.endorsee.as_ref().map_or("", |p| p.name.as_str())
                    )));
                }
                let surrender = !endorsing;
                let to_carrier = match (&bill.carrier, &recipient) {
                    (Some(c), Some(r)) => r.acts_for(c),
                    (None, Some(_)) => true,
                    (_, None) => false,
                };
                if surrender && !to_carrier {
                    return Err(AppRefusal::BadEnvelope(format!(
                        "{reference}: a surrender is addressed to the issuing carrier ({}) or its representative",
                        bill.carrier.as_ref().map_or("unknown", |c| c.name.as_str())
                    )));
                }
            }
        }
        Ok(Verdict::Apply)
    }

    /// Records an accepted eBL transfer: its entry, and who controls the bill now.
    pub(super) fn apply_transfer(
        &mut self,
        t: &EblTransfer,
        event_id: &str,
        packet: Option<PacketId>,
        carrier: Option<Party>,
    ) {
        let actor = Party::of(&t.sender);
        let recipient = t.recipient.as_ref().map(Party::of);
        let bill = self
            .ebl
            .bills
            .entry(t.transport_document_reference.clone())
            .or_insert_with(|| Bill {
                title: Title::Live,
                holder: String::new(),
                status: String::new(),
                actions: t
                    .transfer_chain
                    .iter()
                    .flatten()
                    .map(ToString::to_string)
                    .collect(),
                event_ids: Vec::new(),
                chain: Vec::new(),
                control: Control::default(),
                carrier: None,
                previous_chains: Vec::new(),
            });
        if bill.carrier.is_none() {
            bill.carrier = carrier;
        }
        if t.action == EblAction::Issue && !bill.actions.is_empty() {
            // The amended document's new chain; the old one is kept, closed.
            bill.previous_chains.push(ClosedChain {
                actions: std::mem::take(&mut bill.actions),
                event_ids: std::mem::take(&mut bill.event_ids),
                chain: std::mem::take(&mut bill.chain),
            });
        }
        let c = &mut bill.control;
        match t.action {
            EblAction::Issue => {
                bill.carrier = Some(actor.clone());
                *c = Control {
                    possessor: recipient.clone(),
                    ..Control::default()
                };
            }
            EblAction::Transfer => c.possessor = recipient.clone(),
            EblAction::Endorse | EblAction::EndorseToOrder => {
                c.endorsee = recipient.clone();
                c.endorsement_final = t.action == EblAction::Endorse;
            }
            EblAction::BlankEndorse => {
                c.endorsee = None;
                c.endorsement_final = false;
            }
            EblAction::Sign => {}
            EblAction::SurrenderForDelivery | EblAction::SurrenderForAmendment => {
                c.surrender = Some(Surrender {
                    action: t.action.to_string(),
                    by: actor.clone(),
                });
                c.possessor = recipient.clone();
            }
            EblAction::Sacc => c.possessor = bill.carrier.clone(),
            EblAction::Srej => {
                if let Some(s) = c.surrender.take() {
                    c.possessor = Some(s.by);
                }
            }
        }
        bill.holder = c
            .possessor
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        bill.status = t.transport_document_status.to_string();
        bill.chain.push(Entry {
            position: bill.actions.len(),
            event_id: event_id.to_string(),
            action: t.action.to_string(),
            actor,
            recipient,
            packet,
            event: t.json.clone(),
        });
        bill.actions.push(t.action.to_string());
        bill.event_ids.push(event_id.to_string());
    }

    /// PINT's RECE for an eBL transfer just applied: the entry accepted.
    pub fn accepted(&self, event: &PortEvent) -> Option<adapters::wire::EblReceipt> {
        let PortEvent::EblTransfer(t) = event else {
            return None;
        };
        let entry = self
            .ebl
            .bills
            .get(&t.transport_document_reference)?
            .chain
            .last()?;
        Some(receipt("RECE", entry))
    }

    pub(super) fn answer(&mut self, code: &str) {
        *self.ebl.answers.entry(code.to_string()).or_default() += 1;
    }

    /// A claim on this ledger of a bill pledged by `source`.
    pub(super) fn claim(
        &mut self,
        event: &PortEvent,
        source: &ChainId,
        packet: &PacketId,
        carrier: Option<Party>,
    ) -> Result<&'static str, AppRefusal> {
        let PortEvent::EblTransfer(t) = event else {
            return Ok("RECE");
        };
        let id = event.header().event_id.to_string();
        let reference = &t.transport_document_reference;
        // Sent back by the ledger this one pledged it to, before the first
        // hop's ack arrived here: the source can only send what it holds,
        // and holds it only by claiming the pledge (so that ack can only say
        // claimed). The pledge is settled now, as the ack would; the chain
        // check below still applies.
        let early_return = match self.ebl.bills.get(reference).map(|b| &b.title) {
            Some(Title::Pledged { to, packet, .. }) if to == source => Some(packet.clone()),
            _ => None,
        };
        if let Some(pledge) = early_return {
            self.pledges.remove(&pledge);
            if let Some(b) = self.ebl.bills.get_mut(reference) {
                b.title = Title::Away { to: source.clone() };
            }
        }
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
            if let Some(b) = self.ebl.bills.get_mut(reference) {
                // Coming back: the chain must extend what this ledger saw;
                // the steps taken elsewhere are known by their codes.
                let theirs: Vec<String> = chain.iter().map(ToString::to_string).collect();
                if !theirs.starts_with(&b.actions) {
                    return Err(AppRefusal::Disputed(format!(
                        "{reference}: the sender's history does not extend this ledger's"
                    )));
                }
                b.actions = theirs;
            }
        }
        self.apply_transfer(t, &id, Some(packet.clone()), carrier);
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
    pub(super) fn open_envelope(
        &self,
        packet: &Packet,
    ) -> Result<(serde_json::Value, Option<Party>), AppRefusal> {
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
        Ok((envelope.envelope, envelope.carrier))
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
                previous_control,
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
                    bill.chain.pop();
                    bill.control = *previous_control;
                    bill.holder = previous_holder;
                    bill.status = previous_status;
                    bill.title = Title::Live;
                }
            }
        }
    }
}

/// PINT's answer for an accepted entry.
pub fn receipt(code: &str, entry: &Entry) -> adapters::wire::EblReceipt {
    adapters::wire::EblReceipt {
        response_code: code.to_string(),
        entry: serde_json::to_value(entry).unwrap_or_default(),
    }
}
