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
//!
//! Layout: `cargo`, `payment`, `ebl` (one file per app), `pint` (DCSA PINT
//! 3.0 envelopes into the eBL app) and `facts` (what `groth16` paths
//! proved); this file holds [`PortApps`], the event histories they share and
//! the host's [`Apps`] calls.

use std::collections::BTreeMap;

use adapters::events::{self, PortEvent};
use light_clients::host::{AppRefusal as HostRefusal, Apps, BlockContext};
use light_clients::{AckResult, ChainId, Packet, PacketId};
use serde::{Deserialize, Serialize};

mod cargo;
pub mod customs;
mod ebl;
mod facts;
mod payment;
pub mod pint;

#[cfg(test)]
mod tests;

pub use cargo::CargoRegistry;
pub use ebl::{
    receipt, Bill, ClosedChain, Control, EblRegistry, Entry, Party, SignedEnvelope, Surrender,
    Title, Verdict,
};
pub use facts::{Fact, FactRefusal};
pub use payment::PaymentLedger;

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
    /// An eBL action the chain does not allow: after SACC, a surrender not
    /// addressed to the carrier, not for this platform (PINT BENV).
    #[error("BENV: {0}")]
    BadEnvelope(String),
    /// An additional document whose checksum or size is not the declared
    /// one (PINT INCD: the transfer stays open).
    #[error("INCD: {0}")]
    Inconclusive(String),
    /// Additional documents still missing at finish (PINT MDOC: the
    /// transfer stays open).
    #[error("MDOC: {0}")]
    MissingDocuments(String),
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
            AppRefusal::BadEnvelope(_) => "BENV",
            AppRefusal::Inconclusive(_) => "INCD",
            AppRefusal::MissingDocuments(_) => "MDOC",
            AppRefusal::Payload { code, .. } => code,
        }
    }

    /// The HTTP status PINT gives the answer: BSIG and BENV (and schema
    /// refusals, PINT's bad envelopes) 422; DISE, INCD and MDOC 409.
    pub fn status(&self) -> u16 {
        match self {
            AppRefusal::Invalid(_)
            | AppRefusal::BadSignature(_)
            | AppRefusal::BadEnvelope(_)
            | AppRefusal::Payload { .. } => 422,
            AppRefusal::Disputed(_)
            | AppRefusal::Duplicate(_)
            | AppRefusal::Inconclusive(_)
            | AppRefusal::MissingDocuments(_) => 409,
        }
    }
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
    /// Customs declarations, their honour at linked ports, cross-checks and warnings.
    #[serde(default)]
    pub customs: customs::CustomsApp,
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
            customs: customs::CustomsApp::default(),
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

    /// Records an event submitted on this ledger; `packet` is the packet that
    /// carries it to its destination (none for a local-only event).
    pub fn apply_local(&mut self, event: &PortEvent, packet: Option<PacketId>) {
        let origin = self.chain_id.clone();
        let before = match event {
            PortEvent::EblTransfer(t) => self
                .ebl
                .bills
                .get(&t.transport_document_reference)
                .map(|b| (b.holder.clone(), b.status.clone(), b.control.clone())),
            _ => None,
        };
        self.apply(event, &origin, packet.clone());
        if let (
            PortEvent::EblTransfer(t),
            Some(packet),
            Some((previous_holder, previous_status, previous_control)),
        ) = (event, packet, before)
        {
            if let Some(b) = self.ebl.bills.get_mut(&t.transport_document_reference) {
                self.pledges
                    .insert(packet.clone(), t.transport_document_reference.clone());
                b.title = Title::Pledged {
                    to: packet.channel.destination.clone(),
                    packet,
                    previous_holder,
                    previous_status,
                    previous_control: Box::new(previous_control),
                };
            }
        }
    }

    fn apply(&mut self, event: &PortEvent, origin: &ChainId, packet: Option<PacketId>) {
        let r = record(event, origin, packet.clone());
        let (register, key) = match event {
            PortEvent::Equipment(e) => match &e.equipment_reference {
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
            // Beside its customs SHIPMENT events (documentID = the declaration number).
            PortEvent::CustomsDeclaration(d) => {
                (Register::Documents, d.declaration_number.to_string())
            }
            PortEvent::EblTransfer(t) => {
                self.apply_transfer(t, &r.event_id, packet, None);
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

    /// Read the event out of a packet payload (with the issuing carrier an
    /// eBL envelope names).
    fn event_of(&self, packet: &Packet) -> Result<(PortEvent, Option<Party>), AppRefusal> {
        if packet.id.channel.app == light_clients::App::Ebl {
            let (value, carrier) = self.open_envelope(packet)?;
            let event = events::validate_relayed(&value).map_err(AppRefusal::Invalid)?;
            return Ok((Self::on_its_channel(event, packet)?, carrier));
        }
        let value: serde_json::Value =
            serde_json::from_slice(&packet.payload).map_err(|e| AppRefusal::Payload {
                code: "payload.json",
                message: format!("payload is not JSON: {e}"),
            })?;
        let event = events::validate_relayed(&value).map_err(AppRefusal::Invalid)?;
        Ok((Self::on_its_channel(event, packet)?, None))
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
    fn on_recv(&mut self, packet: &Packet, ctx: &BlockContext) -> Result<(), HostRefusal> {
        let (event, carrier) = match self.event_of(packet) {
            Ok(e) => e,
            Err(e @ AppRefusal::BadSignature(_)) => {
                self.answer("BSIG");
                return Err(HostRefusal(e.to_string()));
            }
            Err(e) => {
                if packet.id.channel.app == light_clients::App::Ebl {
                    self.answer("BENV");
                    return Err(HostRefusal(format!("BENV: {e}")));
                }
                return Err(HostRefusal(e.to_string()));
            }
        };
        let source = packet.id.channel.source.clone();
        if matches!(event, PortEvent::EblTransfer(_)) {
            return match self.claim(&event, &source, &packet.id, carrier) {
                Ok(code) => {
                    self.answer(code);
                    Ok(())
                }
                Err(e) => {
                    self.answer(e.code());
                    Err(HostRefusal(e.to_string()))
                }
            };
        }
        self.customs
            .observe(&event, &self.chain_id, &source, Some(&packet.id), ctx)
            .map_err(|e| HostRefusal(e.to_string()))?;
        self.apply(&event, &source, Some(packet.id.clone()));
        Ok(())
    }

    fn on_recv_disclosed(
        &mut self,
        packet: &Packet,
        rules: &[circuits::Rule],
        _ctx: &BlockContext,
    ) -> Result<(), HostRefusal> {
        self.record_fact(packet, rules)
            .map_err(|e| HostRefusal(e.to_string()))
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
        self.settle_pledge(packet, result);
    }
}
