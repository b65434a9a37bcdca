//! The three applications every devnet ledger runs: a cargo status registry
//! (containers by ISO 6346 number, documents by reference), a payment ledger
//! (letters of credit, invoices, settlements) and an eBL registry (who holds
//! title to each bill of lading, moved across ledgers as pledge, claim and
//! reclaim, answered with DCSA PINT's codes).
//!
//! A packet's payload is the event's JSON. Events are validated again on
//! arrival: a destination trusts the proof of where an event came from, not
//! that the source checked it.

use std::collections::BTreeMap;

use adapters::events::{self, PortEvent};
use light_clients::host::{Apps, BlockContext};
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
    /// PINT answers given, by code (RECE, DUPE, DISE, BENV): for analysts.
    pub answers: BTreeMap<String, u64>,
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
}

impl AppRefusal {
    /// A stable code for API errors.
    pub fn code(&self) -> &'static str {
        match self {
            AppRefusal::Invalid(r) => r.rule,
            AppRefusal::Disputed(_) => "DISE",
            AppRefusal::Duplicate(_) => "DUPE",
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

fn track(map: &mut BTreeMap<String, Tracked>, key: &str, r: Record) {
    let t = map.entry(key.to_string()).or_default();
    t.status = r.kind.clone();
    if let Some(p) = r.ports.first() {
        t.location = Some(p.clone());
    }
    t.history.push(r);
}

impl PortApps {
    pub fn new(chain_id: ChainId) -> Self {
        PortApps {
            chain_id,
            cargo: CargoRegistry::default(),
            payment: PaymentLedger::default(),
            ebl: EblRegistry::default(),
        }
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
        let r = record(event, origin, packet);
        match event {
            PortEvent::Equipment(e) => {
                if let Some(c) = e.equipment_reference {
                    track(&mut self.cargo.containers, &c.to_string(), r);
                }
            }
            PortEvent::Shipment(e) => track(&mut self.cargo.documents, &e.document_id, r),
            PortEvent::Transport(e) => track(
                &mut self.cargo.documents,
                &format!("transport-call/{}", e.transport_call.transport_call_id),
                r,
            ),
            PortEvent::LetterOfCredit(e) => {
                track(&mut self.payment.letters_of_credit, &e.credit_number, r)
            }
            PortEvent::FreightInvoice(e) => track(&mut self.payment.invoices, &e.invoice_number, r),
            PortEvent::PaymentSettlement(e) => {
                track(&mut self.payment.settlements, &e.end_to_end_id, r)
            }
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

    /// Read the event out of a packet payload.
    fn event_of(packet: &Packet) -> Result<PortEvent, AppRefusal> {
        let value: serde_json::Value = serde_json::from_slice(&packet.payload).map_err(|e| {
            AppRefusal::Invalid(events::Refusal::new(
                "event.json",
                "",
                format!("payload is not JSON: {e}"),
            ))
        })?;
        let event = events::validate(&value).map_err(AppRefusal::Invalid)?;
        if event.app() != packet.id.channel.app {
            return Err(AppRefusal::Invalid(events::Refusal::new(
                "event.app",
                "eventType",
                format!(
                    "{} travels on the {} channel, not {}",
                    event.event_type(),
                    event.app(),
                    packet.id.channel.app
                ),
            )));
        }
        Ok(event)
    }
}

impl Apps for PortApps {
    fn on_recv(&mut self, packet: &Packet, _ctx: &BlockContext) -> Result<(), String> {
        let event = match Self::event_of(packet) {
            Ok(e) => e,
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

    fn on_ack(&mut self, packet: &Packet, result: &AckResult, _ctx: &BlockContext) {
        let delivery = match result {
            AckResult::Ok => "delivered".to_string(),
            AckResult::Error(reason) => format!("refused: {reason}"),
            AckResult::Timeout => "timed out".to_string(),
        };
        for tracked in self
            .cargo
            .containers
            .values_mut()
            .chain(self.cargo.documents.values_mut())
            .chain(self.payment.letters_of_credit.values_mut())
            .chain(self.payment.invoices.values_mut())
            .chain(self.payment.settlements.values_mut())
        {
            for r in tracked
                .history
                .iter_mut()
                .filter(|r| r.packet.as_ref() == Some(&packet.id))
            {
                r.delivery = Some(delivery.clone());
            }
        }
        let pledged = self
            .ebl
            .bills
            .values_mut()
            .find(|b| matches!(&b.title, Title::Pledged { packet: p, .. } if p == &packet.id));
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
