//! The canonical port event schema and its validation against `shared/STANDARDS.md`.
//!
//! An event is a JSON object discriminated by `eventType`:
//!
//! | `eventType` | what | typed view | app |
//! |---|---|---|---|
//! | `SHIPMENT` | DCSA T&T 2.2: a document changed state (customs: `documentTypeCode` CUS) | [`ShipmentEvent`] | cargo |
//! | `TRANSPORT` | DCSA T&T 2.2: arrival or departure of a transport call | [`TransportEvent`] | cargo |
//! | `EQUIPMENT` | DCSA T&T 2.2: gate-in, load, discharge... of a container | [`EquipmentEvent`] | cargo |
//! | `LETTER_OF_CREDIT` | a documentary credit (MT700 fields) | [`LetterOfCredit`] | payment |
//! | `FREIGHT_INVOICE` | freight invoiced for a transport document | [`FreightInvoice`] | payment |
//! | `PAYMENT_SETTLEMENT` | an interbank transfer and its status (pacs.008/pacs.002) | [`PaymentSettlement`] | payment |
//! | `EBL_TRANSFER` | a step of an eBL's title chain (eBL 3.0, PINT) | [`EblTransfer`] | ebl |
//!
//! [`validate`] checks one event and returns its typed view ([`PortEvent`]) or the
//! first rule it breaks ([`Refusal`]: rule identifier, JSON path, message). Checks
//! run in a fixed order, so an event always gets the same refusal.
//!
//! DCSA events are taken as their publishers send them: fields this module does not
//! model are tolerated, JSON `null` reads as absent, and the original JSON is kept
//! for relaying. The project's own four kinds follow DCSA's style (camelCase,
//! `eventID`, `eventCreatedDateTime`, `eventDateTime`) but refuse any field they do
//! not define (`event.unknown_field`), since nobody else publishes them and a
//! misspelt field would otherwise be lost silently.
//!
//! Amounts are `{"currency": "USD", "value": 1250000, "exponent": 2}`: `value` is a
//! JSON integer of minor units (never a float or a string), `exponent` is optional
//! and, when present, must be the currency's ISO 4217 minor unit (see [`Money`]).
//!
//! # Rules
//!
//! Every identifier below is stable (see [`rules`]); each has a passing and a
//! failing test. A field path is dotted from the event's root with array indices,
//! e.g. `transportCall.vessel.vesselIMONumber`, `transferChain[0]`; `$` is the
//! event itself.
//!
//! | rule | checks | STANDARDS.md section |
//! |---|---|---|
//! | `event.object` | an event is a JSON object | Event kinds |
//! | `event.type` | `eventType` is present and one of the seven kinds | Event kinds |
//! | `event.id_uuid` | `eventID` is a UUID in its hyphenated form | DCSA Track & Trace 2.2 |
//! | `event.date_time` | `eventCreatedDateTime`, `eventDateTime` are RFC 3339 with a UTC offset | DCSA Track & Trace 2.2 |
//! | `event.date` | calendar dates are `YYYY-MM-DD` and exist | Event kinds (project events) |
//! | `event.required` | a required field of the project's own events is present | Event kinds (project events) |
//! | `event.unknown_field` | the project's own events carry only the fields they define | Event kinds (project events) |
//! | `event.field_type` | a field without a more specific rule has the JSON type its definition gives | Event kinds |
//! | `event.text` | free text of project events is non-empty, within its length, without control characters | Event kinds (project events) |
//! | `dcsa.required` | a field DCSA 2.2 requires for the event class is present and not empty | DCSA Track & Trace 2.2 |
//! | `dcsa.classifier` | `eventClassifierCode` is PLN, ACT or EST (TRANSPORT, EQUIPMENT) | DCSA Track & Trace 2.2 |
//! | `dcsa.shipment.classifier` | a SHIPMENT event's `eventClassifierCode` is ACT | DCSA Track & Trace 2.2 |
//! | `dcsa.shipment.event_date_time` | a SHIPMENT event's `eventDateTime` is the same instant as `eventCreatedDateTime` | DCSA Track & Trace 2.2 |
//! | `dcsa.shipment.event_type_code` | `shipmentEventTypeCode` is on DCSA's list | DCSA Track & Trace 2.2 |
//! | `dcsa.document_type_code` | `documentTypeCode` is on DCSA's list | DCSA Track & Trace 2.2 |
//! | `customs.shipment_event_type` | a customs event (`documentTypeCode` CUS) is REQS, HOLD, RELS or CMPL | DCSA Track & Trace 2.2 |
//! | `dcsa.transport.event_type_code` | `transportEventTypeCode` is ARRI or DEPA | DCSA Track & Trace 2.2 |
//! | `dcsa.change_remark.length` | `changeRemark` is at most 250 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.equipment.event_type_code` | `equipmentEventTypeCode` is on DCSA's list (with HOLD) | DCSA Track & Trace 2.2 |
//! | `dcsa.empty_indicator` | `emptyIndicatorCode` is EMPTY or LADEN | DCSA Track & Trace 2.2 |
//! | `dcsa.equipment.transport_call_required` | LOAD and DISC equipment events carry a `transportCall` | DCSA Track & Trace 2.2 |
//! | `dcsa.equipment.location_required` | GTIN and GTOT equipment events carry an `eventLocation` | DCSA Track & Trace 2.2 |
//! | `dcsa.iso_equipment_code.length` | `ISOEquipmentCode` is 1 to 4 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.equipment_reference.length` | `equipmentReference` is at most 11 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.transport_document_reference.length` | a transport document reference is 1 to 20 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.carrier_booking_reference.length` | a carrier booking reference is 1 to 35 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.carrier_service_code.length` | `transportCall.carrierServiceCode` is 1 to 5 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.vessel_imo` | the vessel IMO number is 7 digits (`^\d{7}$`) | DCSA Track & Trace 2.2 |
//! | `dcsa.mode_of_transport` | `transportCall.modeOfTransport` is VESSEL, RAIL, TRUCK or BARGE | DCSA Track & Trace 2.2 |
//! | `iso6346.format` | a container number is 3 owner letters, category U, J or Z, 6 digits, 1 check digit | ISO 6346 container numbers |
//! | `iso6346.check_digit` | the container number's check digit is the ISO 6346 one | ISO 6346 container numbers |
//! | `unlocode.pattern` | a UN/LOCODE matches `^[A-Z]{2}[A-Z2-9]{3}$` | UN/LOCODE |
//! | `iso4217.currency` | the currency is an active ISO 4217 code with a minor unit (not CNH) | Money: ISO 4217 and ISO 20022 |
//! | `iso4217.precision` | an amount's `exponent`, when given, equals the currency's minor unit | Money: ISO 4217 and ISO 20022 |
//! | `money.not_integer` | an amount's `value` is a JSON integer of minor units, never a float or string | Money: ISO 4217 and ISO 20022 |
//! | `money.negative` | an amount's `value` is not negative | Money: ISO 4217 and ISO 20022 |
//! | `money.digits` | an amount's `value` has at most 18 digits | Money: ISO 4217 and ISO 20022 |
//! | `iso20022.end_to_end_id` | `endToEndId` is 1 to 35 characters | Money: ISO 4217 and ISO 20022 |
//! | `iso20022.uetr` | `uetr` is a lowercase UUID v4 | Money: ISO 4217 and ISO 20022 |
//! | `iso20022.bic` | agent BICs match `^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$` | Money: ISO 4217 and ISO 20022 |
//! | `iso20022.charge_bearer` | `chargeBearer` is DEBT, CRED, SHAR or SLEV | Money: ISO 4217 and ISO 20022 |
//! | `iso20022.status` | `status` is a pacs.002 transaction status code | Money: ISO 4217 and ISO 20022 |
//! | `iso20022.rejection_reason` | RJCT carries a `statusReason`; a `statusReason` is a 1 to 4 character code | Money: ISO 4217 and ISO 20022 |
//! | `mt700.credit_number` | `creditNumber` (field 20) is 1 to 16 SWIFT x characters, no leading, trailing or double slash | Money: ISO 4217 and ISO 20022 |
//! | `mt700.kind` | `kind` is ISSUED, AMENDED, DOCS_PRESENTED, ACCEPTED, DISCREPANT, PAID, EXPIRED or CANCELLED | Money: ISO 4217 and ISO 20022 |
//! | `mt700.expiry_after_issue` | `expiryDate` is after `issueDate` | Money: ISO 4217 and ISO 20022 |
//! | `invoice.due_date` | an invoice's `dueDate` is not before its `issueDate` | Event kinds (project events) |
//! | `ebl.document_status` | `transportDocumentStatus` is an eBL 3.0 state (not a notification's short name) | eBL title transfer |
//! | `ebl.action` | `action` and each `transferChain` entry is a PINT transfer action | eBL title transfer |
//! | `ebl.chain_start` | the transfer chain starts with ISSUE, and only starts with it | eBL title transfer |
//! | `ebl.after_sacc` | nothing follows SACC in the transfer chain | eBL title transfer |
//! | `ebl.party` | `sender` and `recipient` name an eBL platform and at least one identifying code | eBL title transfer |
//! | `ebl.recipient` | `recipient` is present for actions addressed to a party and absent for SIGN and BLANK_ENDORSE | eBL title transfer |
//!
//! Layout: [`rules`] (identifiers), [`codes`] (code lists), [`iso6346`],
//! [`unlocode`], [`money`], and one module per family of events: `dcsa`, `payment`,
//! `ebl`.

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use light_clients::App;

pub mod codes;
mod dcsa;
mod ebl;
pub mod iso6346;
mod json;
pub mod money;
mod payment;
pub mod rules;
pub mod unlocode;

#[cfg(test)]
mod tests;

pub use codes::{
    ChargeBearer, DocumentTypeCode, EblAction, EmptyIndicator, EquipmentEventTypeCode,
    EventClassifier, LetterOfCreditKind, ModeOfTransport, PaymentStatus, ShipmentEventTypeCode,
    TransportDocumentStatus, TransportEventTypeCode,
};
pub use dcsa::{EquipmentEvent, Location, ShipmentEvent, TransportCall, TransportEvent};
pub use ebl::{
    recipient_rule, EblParty, EblTransfer, IdentifyingCode, RepresentedParty, TaxLegalReference,
};
pub use iso6346::{ContainerNumber, ContainerNumberError};
pub use money::{Currency, Money};
pub use payment::{is_bic, is_uetr, FreightInvoice, LetterOfCredit, PaymentSettlement};
pub use rules::Rule;
pub use unlocode::{normalize_unlocode, UnLocode, UnLocodeAlias, NETWORK_PORTS, UNLOCODE_ALIASES};

/// Why an event was refused: the rule it broke, where, and a message for people.
///
/// Displays as `refused: <rule> at <field>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused: {rule} at {field}: {message}")]
pub struct Refusal {
    /// The stable rule identifier, one of [`rules::ALL`], e.g. `iso6346.check_digit`.
    pub rule: &'static str,
    /// The JSON path of the field concerned, e.g. `transportCall.vessel.vesselIMONumber`; `$` is the event itself.
    pub field: String,
    /// What is wrong, in lowercase words.
    pub message: String,
}

impl Refusal {
    /// A refusal under `rule` (an identifier of [`rules::ALL`]) at the JSON path `field`.
    pub fn new(rule: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        debug_assert!(rules::find(rule).is_some(), "unlisted rule {rule}");
        Refusal {
            rule,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The fields every event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventHeader {
    /// `eventID`: the UUID of this message (not of the thing it is about).
    pub event_id: Uuid,
    /// `eventCreatedDateTime`: when the publisher created the message.
    pub created: OffsetDateTime,
    /// `eventDateTime`: when the event took place (or will, for planned and estimated ones).
    pub event_date_time: OffsetDateTime,
}

/// `eventID`, `eventCreatedDateTime` and `eventDateTime` of a project event.
fn project_header(obj: &json::Obj<'_>) -> Result<EventHeader, Refusal> {
    Ok(EventHeader {
        event_id: obj.event_id(rules::EVENT_REQUIRED)?,
        created: obj.date_time("eventCreatedDateTime", rules::EVENT_REQUIRED)?,
        event_date_time: obj.date_time("eventDateTime", rules::EVENT_REQUIRED)?,
    })
}

/// The seven values of `eventType`.
pub const EVENT_TYPES: [&str; 7] = [
    "SHIPMENT",
    "TRANSPORT",
    "EQUIPMENT",
    "LETTER_OF_CREDIT",
    "FREIGHT_INVOICE",
    "PAYMENT_SETTLEMENT",
    "EBL_TRANSFER",
];

/// A validated port event, one variant per `eventType`.
#[derive(Debug, Clone, PartialEq)]
pub enum PortEvent {
    /// DCSA SHIPMENT (including customs, `documentTypeCode` CUS).
    Shipment(ShipmentEvent),
    /// DCSA TRANSPORT.
    Transport(TransportEvent),
    /// DCSA EQUIPMENT.
    Equipment(EquipmentEvent),
    /// LETTER_OF_CREDIT.
    LetterOfCredit(LetterOfCredit),
    /// FREIGHT_INVOICE.
    FreightInvoice(FreightInvoice),
    /// PAYMENT_SETTLEMENT.
    PaymentSettlement(PaymentSettlement),
    /// EBL_TRANSFER.
    EblTransfer(EblTransfer),
}

/// Checks one event against every rule and returns its typed view, or the first
/// rule it breaks.
pub fn validate(value: &Value) -> Result<PortEvent, Refusal> {
    let obj = json::Obj::new(value, String::new(), rules::EVENT_OBJECT)?;
    let event_type = obj.req_str("eventType", rules::EVENT_TYPE, rules::EVENT_TYPE)?;
    match event_type {
        "SHIPMENT" => dcsa::shipment(&obj, value).map(PortEvent::Shipment),
        "TRANSPORT" => dcsa::transport(&obj, value).map(PortEvent::Transport),
        "EQUIPMENT" => dcsa::equipment(&obj, value).map(PortEvent::Equipment),
        "LETTER_OF_CREDIT" => payment::letter_of_credit(&obj, value).map(PortEvent::LetterOfCredit),
        "FREIGHT_INVOICE" => payment::freight_invoice(&obj, value).map(PortEvent::FreightInvoice),
        "PAYMENT_SETTLEMENT" => {
            payment::payment_settlement(&obj, value).map(PortEvent::PaymentSettlement)
        }
        "EBL_TRANSFER" => ebl::ebl_transfer(&obj, value).map(PortEvent::EblTransfer),
        other => Err(Refusal::new(
            rules::EVENT_TYPE,
            obj.field("eventType"),
            format!("{other:?} is not one of {}", EVENT_TYPES.join(", ")),
        )),
    }
}

impl PortEvent {
    /// The `eventType`, e.g. `EQUIPMENT`.
    pub fn event_type(&self) -> &'static str {
        match self {
            PortEvent::Shipment(_) => "SHIPMENT",
            PortEvent::Transport(_) => "TRANSPORT",
            PortEvent::Equipment(_) => "EQUIPMENT",
            PortEvent::LetterOfCredit(_) => "LETTER_OF_CREDIT",
            PortEvent::FreightInvoice(_) => "FREIGHT_INVOICE",
            PortEvent::PaymentSettlement(_) => "PAYMENT_SETTLEMENT",
            PortEvent::EblTransfer(_) => "EBL_TRANSFER",
        }
    }

    /// `eventID`, `eventCreatedDateTime` and `eventDateTime`.
    pub fn header(&self) -> &EventHeader {
        match self {
            PortEvent::Shipment(e) => &e.header,
            PortEvent::Transport(e) => &e.header,
            PortEvent::Equipment(e) => &e.header,
            PortEvent::LetterOfCredit(e) => &e.header,
            PortEvent::FreightInvoice(e) => &e.header,
            PortEvent::PaymentSettlement(e) => &e.header,
            PortEvent::EblTransfer(e) => &e.header,
        }
    }

    /// The event's JSON exactly as it was validated; what the relay forwards.
    pub fn json(&self) -> &Value {
        match self {
            PortEvent::Shipment(e) => &e.json,
            PortEvent::Transport(e) => &e.json,
            PortEvent::Equipment(e) => &e.json,
            PortEvent::LetterOfCredit(e) => &e.json,
            PortEvent::FreightInvoice(e) => &e.json,
            PortEvent::PaymentSettlement(e) => &e.json,
            PortEvent::EblTransfer(e) => &e.json,
        }
    }

    /// A label of bounded cardinality for metrics and logs: the event type and its
    /// sub-kind, e.g. `EQUIPMENT/LOAD`, `TRANSPORT/ARRI`, `SHIPMENT/CUS/RELS`,
    /// `LETTER_OF_CREDIT/ISSUED`, `FREIGHT_INVOICE`, `PAYMENT_SETTLEMENT/ACSC`,
    /// `EBL_TRANSFER/TRANSFER`. Built from closed code lists only, never from free text.
    pub fn kind_label(&self) -> String {
        let ty = self.event_type();
        match self {
            PortEvent::Shipment(e) => format!("{ty}/{}/{}", e.document_type, e.shipment_event_type),
            PortEvent::Transport(e) => format!("{ty}/{}", e.transport_event_type),
            PortEvent::Equipment(e) => format!("{ty}/{}", e.equipment_event_type),
            PortEvent::LetterOfCredit(e) => format!("{ty}/{}", e.kind),
            PortEvent::FreightInvoice(_) => ty.to_string(),
            PortEvent::PaymentSettlement(e) => format!("{ty}/{}", e.status),
            PortEvent::EblTransfer(e) => format!("{ty}/{}", e.action),
        }
    }

    /// The UN/LOCODEs the event involves, normalised through the alias table
    /// (CNCWN becomes CNSHK), without repeats, in the order they appear.
    ///
    /// DCSA events: the transport call's codes and the event location's;
    /// letters of credit: ports of loading and discharge; other kinds: none.
    pub fn ports(&self) -> Vec<UnLocode> {
        let codes: Vec<UnLocode> = match self {
            PortEvent::Transport(e) => e.transport_call.unlocodes().collect(),
            PortEvent::Equipment(e) => e
                .event_location
                .as_ref()
                .and_then(|l| l.un_location_code)
                .into_iter()
                .chain(e.transport_call.iter().flat_map(TransportCall::unlocodes))
                .collect(),
            PortEvent::LetterOfCredit(e) => e
                .port_of_loading
                .into_iter()
                .chain(e.port_of_discharge)
                .collect(),
            PortEvent::Shipment(_)
            | PortEvent::FreightInvoice(_)
            | PortEvent::PaymentSettlement(_)
            | PortEvent::EblTransfer(_) => Vec::new(),
        };
        let mut ports: Vec<UnLocode> = Vec::with_capacity(codes.len());
        for code in codes.into_iter().map(UnLocode::normalized) {
            if !ports.contains(&code) {
                ports.push(code);
            }
        }
        ports
    }

    /// The relay app that carries this event: cargo for DCSA events, payment for
    /// letters of credit, invoices and settlements, ebl for title transfers.
    pub fn app(&self) -> App {
        match self {
            PortEvent::Shipment(_) | PortEvent::Transport(_) | PortEvent::Equipment(_) => {
                App::Cargo
            }
            PortEvent::LetterOfCredit(_)
            | PortEvent::FreightInvoice(_)
            | PortEvent::PaymentSettlement(_) => App::Payment,
            PortEvent::EblTransfer(_) => App::Ebl,
        }
    }

    /// The ISO 6346 container the event is about, for EQUIPMENT events that name one.
    pub fn container(&self) -> Option<ContainerNumber> {
        match self {
            PortEvent::Equipment(e) => e.equipment_reference,
            _ => None,
        }
    }
}
