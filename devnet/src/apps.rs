//! The three applications every devnet ledger runs: a cargo status registry
//! (containers by ISO 6346 number, documents by reference), a payment ledger
//! (letters of credit, invoices, settlements) and an eBL registry (who holds
//! title to each bill of lading, moved across ledgers as pledge, claim and
//! reclaim, answered with DCSA PINT's codes).
//!
//! A packet's payload is the event's JSON. Events are validated again on
//! arrival: a destination trusts the proof of where an event came from, not
//! that the source checked it. On a `groth16` path the payload is only the
//! record's commitment, and what arrives is a [`Fact`]: the fields the
//! destination asked disclosed and the predicates proven, by field name.

use std::collections::BTreeMap;

use adapters::events::{self, PortEvent};
use light_clients::host::{Apps, BlockContext, RelayerKey};
use light_clients::{AckResult, ChainId, Packet, PacketId};
use serde::{Deserialize, Serialize};

/// One event as a registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub event_id: String,
    /// `EQUIPMENT/LOAD`, `PAYMENT_SETTLEMENT/ACSC` ...
    pub kind: String,
    pub event_date_time: String,
    /// UN/LOCODEs involved, normalised.
    pub ports: Vec<String>,
    /// The ledger the event was recorded on first.
    pub origin: ChainId,
    /// The packet that carried it here, or that carries it away.
    pub packet: Option<PacketId>,
    /// For an event sent away: what the destination answered, once known.
    pub delivery: Option<String>,
}

/// Status and history of one container or document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracked {
    /// The latest event's kind.
    pub status: String,
    /// The latest known location (UN/LOCODE).
    pub location: Option<String>,
    pub history: Vec<Record>,
}

/// Containers and transport documents, with their event histories.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CargoRegistry {
    pub containers: BTreeMap<String, Tracked>,
    pub documents: BTreeMap<String, Tracked>,
}

/// Letters of credit, invoices and settlements by their references.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PaymentLedger {
    pub letters_of_credit: BTreeMap<String, Tracked>,
    pub invoices: BTreeMap<String, Tracked>,
    /// By `endToEndId`.
    pub settlements: BTreeMap<String, Tracked>,
}

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

/// Why an app refused an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppRefusal {
    /// The event breaks a rule of the schema (PINT BENV for eBL).
    #[error("{0}")]
    Invalid(events::Refusal),
    /// An eBL action conflicts with the history this ledger holds (PINT DISE).
    #[error("DISE: {0}")]
    Disputed(String),
    /// The same eBL action again (PINT DUPE): already applied, nothing changes.
    #[error("DUPE: {0}")]
    Duplicate(String),
    /// An eBL envelope whose signature is not its platform's (PINT BSIG).
    #[error("BSIG: {0}")]
    BadSignature(String),
    /// The packet does not carry a port event for its channel's app.
    #[error("{code}: {message}")]
    Payload { code: &'static str, message: String },
}

impl AppRefusal {
    /// A stable code for API errors.
    pub fn code(&self) -> &'static str {
        match self {
            AppRefusal::Invalid(r) => r.rule,
            AppRefusal::Disputed(_) => "DISE",
            AppRefusal::Duplicate(_) => "DUPE",
            AppRefusal::BadSignature(_) => "BSIG",
            AppRefusal::Payload { code, .. } => code,
        }
    }
}

/// What a `groth16` path proved to this ledger about one packet's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub packet: PacketId,
    /// The record's kind (`PAYMENT_SETTLEMENT` ...).
    pub kind: String,
    /// By field name (`adapters::records`): `= value` for a disclosed field,
    /// `>= x` / `<= x` for a proven bound; hidden fields are absent.
    pub fields: BTreeMap<String, String>,
}

/// The three apps of a ledger.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PortApps {
    pub chain_id: ChainId,
    pub cargo: CargoRegistry,
    pub payment: PaymentLedger,
    pub ebl: EblRegistry,
    /// Facts proven over `groth16` paths, by the document they are about
    /// (the disclosed `transportDocumentReference`, `equipmentReference` or
    /// `documentID`; `undisclosed` when none is).
    #[serde(default)]
    pub facts: BTreeMap<String, Vec<Fact>>,
    /// Where the record of each event sent away sits until its ack comes
    /// back, so an ack finds it without a scan of every history. Derived
    /// from the records; rebuilt by [`PortApps::reindex`] after loading.
    #[serde(skip)]
    awaiting: BTreeMap<PacketId, (Register, String, usize)>,
    /// The bill each eBL transfer in flight pledged, by its packet (derived, as `awaiting`).
    #[serde(skip)]
    pledges: BTreeMap<PacketId, String>,
}

/// One of the registers that keep `Tracked` histories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Register {
    Containers,
    Documents,
    LettersOfCredit,
    Invoices,
    Settlements,
}

impl Register {
    const ALL: [Register; 5] = [
        Register::Containers,
        Register::Documents,
        Register::LettersOfCredit,
        Register::Invoices,
        Register::Settlements,
    ];
}

fn record(event: &PortEvent, origin: &ChainId, packet: Option<PacketId>) -> Record {
    let h = event.header();
    Record {
        event_id: h.event_id.to_string(),
        kind: event.kind_label(),
        event_date_time: h.event_date_time.to_string(),
        ports: event.ports().iter().map(ToString::to_string).collect(),
        origin: origin.clone(),
        packet,
        delivery: None,
    }
}

/// Appends `r` to `key`'s history; returns its index there.
fn track(map: &mut BTreeMap<String, Tracked>, key: &str, r: Record) -> usize {
    let t = map.entry(key.to_string()).or_default();
    t.status = r.kind.clone();
    if let Some(p) = r.ports.first() {
        t.location = Some(p.clone());
    }
    t.history.push(r);
    t.history.len() - 1
}

impl PortApps {
    pub fn new(chain_id: ChainId) -> Self {
        PortApps {
            chain_id,
            cargo: CargoRegistry::default(),
            payment: PaymentLedger::default(),
            ebl: EblRegistry::default(),
            facts: BTreeMap::new(),
            awaiting: BTreeMap::new(),
            pledges: BTreeMap::new(),
        }
    }

    fn register(&self, r: Register) -> &BTreeMap<String, Tracked> {
        match r {
            Register::Containers => &self.cargo.containers,
            Register::Documents => &self.cargo.documents,
            Register::LettersOfCredit => &self.payment.letters_of_credit,
            Register::Invoices => &self.payment.invoices,
            Register::Settlements => &self.payment.settlements,
        }
    }

    fn register_mut(&mut self, r: Register) -> &mut BTreeMap<String, Tracked> {
        match r {
            Register::Containers => &mut self.cargo.containers,
            Register::Documents => &mut self.cargo.documents,
            Register::LettersOfCredit => &mut self.payment.letters_of_credit,
            Register::Invoices => &mut self.payment.invoices,
            Register::Settlements => &mut self.payment.settlements,
        }
    }

    /// Rebuilds the indexes of what awaits an ack from the records (after
    /// loading a snapshot, which does not hold them).
    pub fn reindex(&mut self) {
        let mut awaiting = BTreeMap::new();
        for register in Register::ALL {
            for (key, tracked) in self.register(register) {
                for (i, r) in tracked.history.iter().enumerate() {
                    if let (Some(packet), None) = (&r.packet, &r.delivery) {
                        if r.origin == self.chain_id {
                            awaiting.insert(packet.clone(), (register, key.clone(), i));
                        }
                    }
                }
            }
        }
        self.awaiting = awaiting;
        self.pledges = self
            .ebl
            .bills
            .iter()
            .filter_map(|(reference, bill)| match &bill.title {
                Title::Pledged { packet, .. } => Some((packet.clone(), reference.clone())),
                _ => None,
            })
            .collect();
    }

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

    /// Records an event submitted on this ledger; `packet` is the packet that
    /// carries it to its destination (none for a local-only event).
    pub fn apply_local(&mut self, event: &PortEvent, packet: Option<PacketId>) {
        let origin = self.chain_id.clone();
        let before = match event {
            PortEvent::EblTransfer(t) => self
                .ebl
                .bills
                .get(&t.transport_document_reference)
                .map(|b| (b.holder.clone(), b.status.clone())),
            _ => None,
        };
        self.apply(event, &origin, packet.clone());
        if let (PortEvent::EblTransfer(t), Some(packet), Some((previous_holder, previous_status))) =
            (event, packet, before)
        {
            if let Some(b) = self.ebl.bills.get_mut(&t.transport_document_reference) {
                self.pledges
                    .insert(packet.clone(), t.transport_document_reference.clone());
                b.title = Title::Pledged {
                    to: packet.channel.destination.clone(),
                    packet,
                    previous_holder,
                    previous_status,
                };
            }
        }
    }

    fn apply(&mut self, event: &PortEvent, origin: &ChainId, packet: Option<PacketId>) {
        let r = record(event, origin, packet.clone());
        let (register, key) = match event {
            PortEvent::Equipment(e) => match e.equipment_reference {
                Some(c) => (Register::Containers, c.to_string()),
                None => return,
            },
            PortEvent::Shipment(e) => (Register::Documents, e.document_id.clone()),
            PortEvent::Transport(e) => (
                Register::Documents,
                format!("transport-call/{}", e.transport_call.transport_call_id),
            ),
            PortEvent::LetterOfCredit(e) => (Register::LettersOfCredit, e.credit_number.clone()),
            PortEvent::FreightInvoice(e) => (Register::Invoices, e.invoice_number.clone()),
            PortEvent::PaymentSettlement(e) => (Register::Settlements, e.end_to_end_id.clone()),
            PortEvent::EblTransfer(t) => {
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
                    });
                bill.holder = t.recipient.party_name.clone();
                bill.status = t.transport_document_status.to_string();
                bill.actions.push(t.action.to_string());
                bill.event_ids.push(r.event_id.clone());
                return;
            }
        };
        let index = track(self.register_mut(register), &key, r);
        if let Some(packet) = packet {
            if origin == &self.chain_id {
                self.awaiting.insert(packet, (register, key, index));
            }
        }
    }

    fn answer(&mut self, code: &str) {
        *self.ebl.answers.entry(code.to_string()).or_default() += 1;
    }

    /// A claim on this ledger of a bill pledged by `source`.
    fn claim(&mut self, event: &PortEvent, source: &ChainId) -> Result<&'static str, AppRefusal> {
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
    fn open_envelope(&self, packet: &Packet) -> Result<serde_json::Value, AppRefusal> {
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

    /// Read the event out of a packet payload.
    fn event_of(&self, packet: &Packet) -> Result<PortEvent, AppRefusal> {
        if packet.id.channel.app == light_clients::App::Ebl {
            let value = self.open_envelope(packet)?;
            let event = events::validate(&value).map_err(AppRefusal::Invalid)?;
            return Self::on_its_channel(event, packet);
        }
        let value: serde_json::Value =
            serde_json::from_slice(&packet.payload).map_err(|e| AppRefusal::Payload {
                code: "payload.json",
                message: format!("payload is not JSON: {e}"),
            })?;
        let event = events::validate(&value).map_err(AppRefusal::Invalid)?;
        Self::on_its_channel(event, packet)
    }

    /// An event travels on its own app's channel only.
    fn on_its_channel(event: PortEvent, packet: &Packet) -> Result<PortEvent, AppRefusal> {
        if event.app() != packet.id.channel.app {
            return Err(AppRefusal::Payload {
                code: "payload.app",
                message: format!(
                    "{} travels on the {} channel, not {}",
                    event.event_type(),
                    event.app(),
                    packet.id.channel.app
                ),
            });
        }
        Ok(event)
    }
}

impl Apps for PortApps {
    fn on_recv(&mut self, packet: &Packet, _ctx: &BlockContext) -> Result<(), String> {
        let event = match self.event_of(packet) {
            Ok(e) => e,
            Err(e @ AppRefusal::BadSignature(_)) => {
                self.answer("BSIG");
                return Err(e.to_string());
            }
            Err(e) => {
                if packet.id.channel.app == light_clients::App::Ebl {
                    self.answer("BENV");
                    return Err(format!("BENV: {e}"));
                }
                return Err(e.to_string());
            }
        };
        let source = packet.id.channel.source.clone();
        if matches!(event, PortEvent::EblTransfer(_)) {
            return match self.claim(&event, &source) {
                Ok(code) => {
                    self.answer(code);
                    Ok(())
                }
                Err(e) => {
                    self.answer(e.code());
                    Err(e.to_string())
                }
            };
        }
        self.apply(&event, &source, Some(packet.id.clone()));
        Ok(())
    }

    fn on_recv_disclosed(
        &mut self,
        packet: &Packet,
        rules: &[circuits::Rule],
        _ctx: &BlockContext,
    ) -> Result<(), String> {
        use adapters::records::{self, Encoding};
        use circuits::Rule;
        let Some(Rule::Equals(kind)) = rules.first() else {
            return Err("the record's kind is not disclosed".into());
        };
        let kind = records::kind_of(kind)
            .ok_or_else(|| format!("unknown record kind {}", records::show(kind)))?;
        if kind == "EBL_TRANSFER" {
            // A title moves only with the platform's signed envelope: refused,
            // so the source reclaims it rather than losing it.
            return Err("an eBL title cannot move as a disclosure".into());
        }
        let layout = records::layout(kind).ok_or_else(|| format!("no layout for {kind}"))?;
        if rules.len() != layout.len() {
            return Err(format!(
                "{} rules for a {kind} record of {} fields",
                rules.len(),
                layout.len()
            ));
        }
        let mut fields = BTreeMap::new();
        for (spec, rule) in layout.iter().zip(rules).skip(1) {
            let text = match rule {
                Rule::Hidden => continue,
                Rule::Equals(v) => match spec.encoding {
                    Encoding::Amount => format!(
                        "= {}",
                        circuits::disclosure::as_u64(*v)
                            .map_or_else(|| records::show(v), |x| x.to_string())
                    ),
                    Encoding::Digest => format!("= {}", circuits::encode::fr_to_hex(v)),
                    _ => format!("= {}", records::show(v)),
                },
                Rule::AtLeast(x) => format!(">= {x}"),
                Rule::AtMost(x) => format!("<= {x}"),
            };
            fields.insert(spec.name.to_string(), text);
        }
        let about = [
            "transportDocumentReference",
            "equipmentReference",
            "documentID",
        ]
        .iter()
        .find_map(|name| fields.get(*name))
        .and_then(|v| v.strip_prefix("= "))
        .unwrap_or("undisclosed")
        .to_string();
        self.facts.entry(about).or_default().push(Fact {
            packet: packet.id.clone(),
            kind: kind.to_string(),
            fields,
        });
        Ok(())
    }

    fn on_ack(&mut self, packet: &Packet, result: &AckResult, _ctx: &BlockContext) {
        let delivery = match result {
            AckResult::Ok => "delivered".to_string(),
            AckResult::Error(reason) => format!("refused: {reason}"),
            AckResult::Timeout => "timed out".to_string(),
        };
        if let Some((register, key, index)) = self.awaiting.remove(&packet.id) {
            let record = self
                .register_mut(register)
                .get_mut(&key)
                .and_then(|t| t.history.get_mut(index))
                .filter(|r| r.packet.as_ref() == Some(&packet.id));
            if let Some(r) = record {
                r.delivery = Some(delivery);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use light_clients::{App, ChannelId, Timeout, Timestamp};
    use serde_json::json;

    fn chain(s: &str) -> ChainId {
        ChainId::new(s).unwrap()
    }

    fn party(name: &str) -> serde_json::Value {
        json!({"partyName": name, "eblPlatform": "WAVE", "identifyingCodes": [{"codeListProvider": "GLEIF", "partyCode": "5493001KJTIIGC8Y1R12", "codeListName": "LEI"}]})
    }

    fn ebl(action: &str, id: &str, chain_before: &[&str], recipient: &str) -> serde_json::Value {
        json!({
            "eventType": "EBL_TRANSFER",
            "eventID": id,
            "eventCreatedDateTime": "2024-05-10T10:00:00+08:00",
            "eventDateTime": "2024-05-10T09:59:30+08:00",
            "transportDocumentReference": "CMPSHK24000381",
            "action": action,
            "transportDocumentStatus": "ISSUED",
            "sender": party("China Merchants Shipping Container Line"),
            "recipient": party(recipient),
            "transferChain": chain_before,
        })
    }

    fn event(v: &serde_json::Value) -> PortEvent {
        events::validate(v).unwrap()
    }

    /// The platform key a ledger signs its eBL envelopes with, in these tests.
    fn platform(ledger: &str) -> ed25519_consensus::SigningKey {
        ed25519_consensus::SigningKey::from(
            *light_clients::hash::sha256(&[ledger.as_bytes()]).as_bytes(),
        )
    }

    /// A packet carrying `v`: signed by the source's platform on the ebl channel.
    fn packet(from: &str, to: &str, seq: u64, v: &serde_json::Value) -> Packet {
        Packet {
            id: PacketId {
                channel: ChannelId {
                    source: chain(from),
                    destination: chain(to),
                    app: App::Ebl,
                },
                sequence: seq,
            },
            timeout: Timeout {
                time: Timestamp::from_unix_secs(2_000_000_000),
                height: None,
            },
            payload: serde_json::to_vec(&SignedEnvelope::seal(v, &platform(from))).unwrap(),
        }
    }

    fn plain_packet(from: &str, to: &str, seq: u64, app: App, v: &serde_json::Value) -> Packet {
        let mut p = packet(from, to, seq, v);
        p.id.channel.app = app;
        p.payload = serde_json::to_vec(v).unwrap();
        p
    }

    const CTX: BlockContext = BlockContext {
        height: 1,
        time: Timestamp::from_unix_secs(1_800_000_000),
    };
    const BILL: &str = "CMPSHK24000381";

    /// How many of these ledgers hold the bill live: never more than one.
    fn live(ledgers: &[&PortApps]) -> usize {
        let n = ledgers
            .iter()
            .filter(|l| {
                l.ebl
                    .bills
                    .get(BILL)
                    .is_some_and(|b| b.title == Title::Live)
            })
            .count();
        assert!(n <= 1, "bill live on {n} ledgers");
        n
    }

    #[test]
    fn a_bill_is_never_live_on_two_ledgers() {
        let (mut a, mut b) = (
            PortApps::new(chain("cmport-1")),
            PortApps::new(chain("cosco-1")),
        );
        let issue = ebl(
            "ISSUE",
            "347e6044-4304-48e9-a649-77683158be2e",
            &[],
            "Shenzhen Bright Furniture",
        );
        a.check_local(&event(&issue), &chain("cmport-1")).unwrap();
        a.apply_local(&event(&issue), None);
        assert_eq!(live(&[&a, &b]), 1);
        // An ISSUE cannot go straight to another ledger, nor happen twice.
        let reissue = ebl("ISSUE", "11111111-4304-48e9-a649-77683158be2e", &[], "x");
        assert_eq!(
            a.check_local(&event(&reissue), &chain("cmport-1"))
                .unwrap_err()
                .code(),
            "DISE"
        );

        // Pledge on a: not live anywhere while in flight.
        let transfer = ebl(
            "TRANSFER",
            "26df94d2-b078-4db8-a3f5-32a13678377a",
            &["ISSUE"],
            "Rotterdam Importers BV",
        );
        a.check_local(&event(&transfer), &chain("cosco-1")).unwrap();
        let p1 = packet("cmport-1", "cosco-1", 1, &transfer);
        a.apply_local(&event(&transfer), Some(p1.id.clone()));
        assert!(matches!(a.ebl.bills[BILL].title, Title::Pledged { .. }));
        assert_eq!(live(&[&a, &b]), 0);
        // While pledged, a cannot move it again.
        let again = ebl(
            "TRANSFER",
            "33333333-b078-4db8-a3f5-32a13678377a",
            &["ISSUE"],
            "y",
        );
        assert_eq!(
            a.check_local(&event(&again), &chain("gba-1"))
                .unwrap_err()
                .code(),
            "DISE"
        );

        // Claim on b (RECE), then a learns it was claimed.
        b.on_recv(&p1, &CTX).unwrap();
        assert_eq!(live(&[&a, &b]), 1);
        assert_eq!(b.ebl.bills[BILL].holder, "Rotterdam Importers BV");
        a.on_ack(&p1, &AckResult::Ok, &CTX);
        assert_eq!(
            a.ebl.bills[BILL].title,
            Title::Away {
                to: chain("cosco-1")
            }
        );
        assert_eq!(live(&[&a, &b]), 1);

        // The same transfer again, through another packet: DUPE, accepted, nothing changes.
        b.on_recv(&packet("cmport-1", "cosco-1", 2, &transfer), &CTX)
            .unwrap();
        assert_eq!(b.ebl.answers.get("DUPE"), Some(&1));
        assert_eq!(live(&[&a, &b]), 1);

        // A conflicting history from a third ledger: DISE, refused.
        let forged = ebl(
            "TRANSFER",
            "44444444-b078-4db8-a3f5-32a13678377a",
            &["ISSUE"],
            "Someone Else",
        );
        let err = b
            .on_recv(&packet("gba-1", "cosco-1", 1, &forged), &CTX)
            .unwrap_err();
        assert!(err.starts_with("DISE"), "{err}");
        assert_eq!(b.ebl.bills[BILL].holder, "Rotterdam Importers BV");

        // b sends it back to a, but the packet times out: b reclaims, a never held it.
        let back = ebl(
            "TRANSFER",
            "55555555-b078-4db8-a3f5-32a13678377a",
            &["ISSUE", "TRANSFER"],
            "Shenzhen Bright Furniture",
        );
        b.check_local(&event(&back), &chain("cmport-1")).unwrap();
        let p2 = packet("cosco-1", "cmport-1", 1, &back);
        b.apply_local(&event(&back), Some(p2.id.clone()));
        assert_eq!(live(&[&a, &b]), 0);
        b.on_ack(&p2, &AckResult::Timeout, &CTX);
        assert_eq!(live(&[&a, &b]), 1);
        assert_eq!(
            b.ebl.bills[BILL].holder, "Rotterdam Importers BV",
            "reclaimed as it was"
        );
        assert_eq!(b.ebl.bills[BILL].actions, ["ISSUE", "TRANSFER"]);

        // Sent again, it arrives: a takes it back (its history is extended), b marks it away.
        let back2 = ebl(
            "TRANSFER",
            "66666666-b078-4db8-a3f5-32a13678377a",
            &["ISSUE", "TRANSFER"],
            "Shenzhen Bright Furniture",
        );
        let p3 = packet("cosco-1", "cmport-1", 2, &back2);
        b.apply_local(&event(&back2), Some(p3.id.clone()));
        a.on_recv(&p3, &CTX).unwrap();
        b.on_ack(&p3, &AckResult::Ok, &CTX);
        assert_eq!(live(&[&a, &b]), 1);
        assert_eq!(a.ebl.bills[BILL].title, Title::Live);
        assert_eq!(a.ebl.answers.get("RECE"), Some(&1));
    }

    #[test]
    fn envelopes_must_be_signed_by_the_registered_platform() {
        let mut b = PortApps::new(chain("cosco-1"));
        let transfer = ebl(
            "TRANSFER",
            "26df94d2-b078-4db8-a3f5-32a13678377a",
            &["ISSUE"],
            "x",
        );
        b.register_platform(
            chain("cmport-1"),
            RelayerKey(platform("cmport-1").verification_key().to_bytes()),
        );
        // Signed by another key than cmport-1's platform.
        let mut forged = packet("cmport-1", "cosco-1", 1, &transfer);
        forged.payload =
            serde_json::to_vec(&SignedEnvelope::seal(&transfer, &platform("mallory"))).unwrap();
        assert!(b.on_recv(&forged, &CTX).unwrap_err().starts_with("BSIG"));
        // A signature that does not match the envelope.
        let mut tampered: SignedEnvelope =
            serde_json::from_slice(&packet("cmport-1", "cosco-1", 1, &transfer).payload).unwrap();
        tampered.envelope["recipient"]["partyName"] = json!("Mallory Ltd");
        let mut p = packet("cmport-1", "cosco-1", 1, &transfer);
        p.payload = serde_json::to_vec(&tampered).unwrap();
        assert!(b.on_recv(&p, &CTX).unwrap_err().starts_with("BSIG"));
        // Unsigned, from a platform whose key is registered.
        let unsigned = plain_packet("cmport-1", "cosco-1", 1, App::Ebl, &transfer);
        assert!(b.on_recv(&unsigned, &CTX).unwrap_err().starts_with("BSIG"));
        assert!(b.ebl.bills.is_empty(), "nothing was claimed");
        assert_eq!(b.ebl.answers.get("BSIG"), Some(&3));
        // Properly signed: received.
        b.on_recv(&packet("cmport-1", "cosco-1", 1, &transfer), &CTX)
            .unwrap();
        assert_eq!(b.ebl.answers.get("RECE"), Some(&1));
    }

    #[test]
    fn an_invalid_envelope_is_benv_and_changes_nothing() {
        let mut b = PortApps::new(chain("cosco-1"));
        let mut bad = ebl(
            "TRANSFER",
            "26df94d2-b078-4db8-a3f5-32a13678377a",
            &["ISSUE"],
            "x",
        );
        bad["transportDocumentReference"] = json!("X".repeat(21));
        let err = b
            .on_recv(&packet("cmport-1", "cosco-1", 1, &bad), &CTX)
            .unwrap_err();
        assert!(err.starts_with("BENV"), "{err}");
        assert!(b.ebl.bills.is_empty());
        assert_eq!(b.ebl.answers.get("BENV"), Some(&1));
    }

    #[test]
    fn cargo_events_are_tracked_by_container_with_their_origin() {
        let journey: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../docs/examples/events/journey.json")).unwrap();
        let mut a = PortApps::new(chain("cmport-1"));
        let mut b = PortApps::new(chain("cosco-1"));
        for (i, e) in journey.iter().enumerate() {
            let ev = event(e);
            a.apply_local(&ev, None);
            let p = plain_packet("cmport-1", "cosco-1", i as u64 + 1, ev.app(), e);
            b.on_recv(&p, &CTX).unwrap();
        }
        let tracked = &b.cargo.containers["TCNU7200794"];
        assert!(tracked.history.len() >= 2);
        assert!(tracked
            .history
            .iter()
            .all(|r| r.origin == chain("cmport-1")));
        assert_eq!(tracked.history[0].kind, "EQUIPMENT/GTIN");
        assert_eq!(tracked.history[0].ports, ["CNSHK"]);
        // An event on the wrong app's channel is refused.
        let wrong = plain_packet("cmport-1", "cosco-1", 99, App::Payment, &journey[0]);
        assert!(b
            .on_recv(&wrong, &CTX)
            .unwrap_err()
            .starts_with("payload.app"));
    }
}
