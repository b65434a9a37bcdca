//! The canonical port event schema and its validation against `shared/STANDARDS.md`.
//!
//! An event is a JSON object discriminated by `eventType`:
//!
//! | `eventType` | what | typed view | app |
//! |---|---|---|---|
//! | `SHIPMENT` | DCSA T&T: a document changed state (customs: `documentTypeCode` CUS) | [`ShipmentEvent`] | cargo |
//! | `TRANSPORT` | DCSA T&T: arrival or departure of a transport call | [`TransportEvent`] | cargo |
//! | `EQUIPMENT` | DCSA T&T: gate-in, load, discharge... of a container (3.0's IOT and REEFER events too) | [`EquipmentEvent`] | cargo |
//! | `LETTER_OF_CREDIT` | a documentary credit (MT700 fields) | [`LetterOfCredit`] | payment |
//! | `FREIGHT_INVOICE` | freight invoiced for a transport document | [`FreightInvoice`] | payment |
//! | `PAYMENT_SETTLEMENT` | an interbank transfer and its status (pacs.008/pacs.002) | [`PaymentSettlement`] | payment |
//! | `EBL_TRANSFER` | a step of an eBL's title chain (eBL 3.0, PINT) | [`EblTransfer`] | ebl |
//! | `CUSTOMS_DECLARATION` | a goods declaration to China customs (`docs/customs.md`) | [`CustomsDeclaration`] | cargo |
//!
//! DCSA events come in two shapes: Track & Trace 2.2 (and 2.3) events are flat and
//! carry `eventType`; Track & Trace 3.0 events nest their class in
//! `eventClassification.eventTypeCode` and their details in `shipmentDetails`,
//! `transportDetails`, `equipmentDetails`, `iotDetails`, `reeferDetails`. The shape
//! tells the version, or the caller declares it ([`Options::dcsa_version`]); both
//! map to the same three kinds (`docs/dcsa.md` has the mapping).
//!
//! [`check`] checks one event and returns its typed view ([`PortEvent`]) with its
//! warnings ([`Warning`]), or the first rule it breaks ([`Refusal`]: rule identifier,
//! JSON path, message); [`validate`] is [`check`] with the default [`Options`].
//! Checks run in a fixed order, so an event always gets the same refusal. The
//! command line (`portrelay events validate`) and the ledgers call the same
//! function, so they give the same verdicts.
//!
//! DCSA events are taken as their publishers send them and held to the published
//! schemas (`tnt22.rs`, `tnt30.rs`): every field the schema defines to its length,
//! type and code list; fields it does not define are carried as they are but bounded
//! (`dcsa.unknown_field`); JSON `null` reads as absent; the original JSON is kept
//! for relaying. The project's own five kinds follow DCSA's style (camelCase,
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
//! | `event.type` | `eventType` is present and one of the eight kinds | Event kinds |
//! | `event.id_uuid` | `eventID` is a UUID in its hyphenated form | DCSA Track & Trace 2.2 |
//! | `event.date_time` | `eventCreatedDateTime`, `eventDateTime` are RFC 3339 with a UTC offset | DCSA Track & Trace 2.2 |
//! | `event.date` | calendar dates are `YYYY-MM-DD` and exist | Event kinds (project events) |
//! | `event.required` | a required field of the project's own events is present | Event kinds (project events) |
//! | `event.unknown_field` | the project's own events carry only the fields they define | Event kinds (project events) |
//! | `event.field_type` | a field without a more specific rule has the JSON type its definition gives | Event kinds |
//! | `event.text` | free text of project events is non-empty, within its length, without control characters, bidirectional controls or line/paragraph separators | Event kinds (project events) |
//! | `json.characters` | no key or string of any event holds a control character, a bidirectional control (U+202A–U+202E, U+2066–U+2069) or U+2028/U+2029 | Event kinds |
//! | `json.duplicate_key` | no object repeats a key (refused by [`strict::parse`], before validation) | Event kinds |
//! | `dcsa.required` | a field the schema of the event's version requires for its class is present and not empty | DCSA Track & Trace 2.2 |
//! | `dcsa.version` | a declared DCSA version matches the event's shape | DCSA Track & Trace 2.2 |
//! | `dcsa.length` | a DCSA field is within the schema's `maxLength` / `maxItems` | DCSA Track & Trace 2.2 |
//! | `dcsa.code` | a DCSA coded field is on the schema's enumeration | DCSA Track & Trace 2.2 |
//! | `dcsa.code_version` | a code is accepted only for the versions that define it (PENC, CANC from 2.3) | DCSA Track & Trace 2.2 |
//! | `dcsa.unknown_field` | a field the schema does not define is carried, within bounds | DCSA Track & Trace 2.2 |
//! | `dcsa.retracted` | a 3.0 retraction (`isRetracted`) is not relayed | DCSA Track & Trace 2.2 |
//! | `dcsa.classifier` | `eventClassifierCode` is PLN, ACT or EST (TRANSPORT, EQUIPMENT; 3.0 all classes) | DCSA Track & Trace 2.2 |
//! | `dcsa.shipment.classifier` | a 2.x SHIPMENT event's `eventClassifierCode` is ACT, PLN or EST | DCSA Track & Trace 2.2 |
//! | `dcsa.shipment.event_date_time` | a 2.x SHIPMENT event's `eventDateTime` is the instant of `eventCreatedDateTime`: a warning; `--strict` and a strict ledger refuse | DCSA Track & Trace 2.2 |
//! | `dcsa.shipment.event_type_code` | `shipmentEventTypeCode` is on DCSA's list | DCSA Track & Trace 2.2 |
//! | `dcsa.document_type_code` | `documentTypeCode` is on DCSA's list | DCSA Track & Trace 2.2 |
//! | `customs.shipment_event_type` | a customs event (`documentTypeCode` CUS) is REQS, HOLD, RELS or CMPL, or VOID or CANC (a revoked declaration) | DCSA Track & Trace 2.2 |
//! | `dcsa.transport.event_type_code` | `transportEventTypeCode` is ARRI or DEPA | DCSA Track & Trace 2.2 |
//! | `dcsa.change_remark.length` | `changeRemark` is at most 250 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.equipment.event_type_code` | `equipmentEventTypeCode` is on DCSA's list (with HOLD) | DCSA Track & Trace 2.2 |
//! | `dcsa.empty_indicator` | `emptyIndicatorCode` is EMPTY or LADEN | DCSA Track & Trace 2.2 |
//! | `dcsa.equipment.transport_call_required` | LOAD and DISC equipment events carry a `transportCall` | DCSA Track & Trace 2.2 |
//! | `dcsa.equipment.location_required` | GTIN and GTOT equipment events carry an `eventLocation` | DCSA Track & Trace 2.2 |
//! | `dcsa.iso_equipment_code.length` | `ISOEquipmentCode` is 1 to 4 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.equipment_reference.length` | `equipmentReference` is at most 15 characters (2.x) or 11 (3.0) | DCSA Track & Trace 2.2 |
//! | `dcsa.transport_document_reference.length` | a transport document reference is 1 to 20 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.carrier_booking_reference.length` | a carrier booking reference is 1 to 35 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.carrier_service_code.length` | `transportCall.carrierServiceCode` is 1 to 5 characters | DCSA Track & Trace 2.2 |
//! | `dcsa.vessel_imo` | the vessel IMO number is 7 digits (2.x) or 7 to 8 digits (3.0) | DCSA Track & Trace 2.2 |
//! | `dcsa.mode_of_transport` | `modeOfTransport` is VESSEL, RAIL, TRUCK or BARGE (3.0: or MULTIMODAL) | DCSA Track & Trace 2.2 |
//! | `iso6346.format` | a container number is 3 owner letters, category U, J or Z, 6 digits, 1 check digit | ISO 6346 container numbers |
//! | `iso6346.check_digit` | the container number's check digit is the ISO 6346 one | ISO 6346 container numbers |
//! | `iso6346.non_iso` | an `equipmentReference` without the ISO shape is accepted as non-ISO and marked so (a warning strict mode does not refuse) | ISO 6346 container numbers |
//! | `unlocode.pattern` | a UN/LOCODE matches `^[A-Z]{2}[A-Z2-9]{3}$` | UN/LOCODE |
//! | `unlocode.country` | a UN/LOCODE's first two letters are an ISO 3166-1 alpha-2 country (or XZ) | UN/LOCODE |
//! | `unlocode.unknown` | a UN/LOCODE is on the UN/LOCODE 2023-1 code list, not marked for deletion (or in the alias table) | UN/LOCODE |
//! | `iso4217.currency` | the currency is an ISO 4217 code with a minor unit (not CNH), not withdrawn by the event's date (ISO 4217 list three) | Money: ISO 4217 and ISO 20022 |
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
//! | `customs.declaration_number` | `declarationNumber` is 18 digits: office code (4), year (4), import/export flag (1), serial (9) | Customs declarations (docs/customs.md) |
//! | `customs.office_code` | `customsOfficeCode` is 4 digits and equals the declaration number's first four | Customs declarations (docs/customs.md) |
//! | `customs.declaration_year` | the declaration number's year is from 2000 to the year of `eventCreatedDateTime` in Beijing time (UTC+8) | Customs declarations (docs/customs.md) |
//! | `customs.ie_flag` | the declaration number's import/export flag is 0 (export) or 1 (import) and agrees with `declarationType` (TRANSIT: either) | Customs declarations (docs/customs.md) |
//! | `customs.serial` | the declaration number's 9-digit serial is not 000000000 | Customs declarations (docs/customs.md) |
//! | `customs.declaration_type` | `declarationType` is EXPORT, IMPORT or TRANSIT | Customs declarations (docs/customs.md) |
//! | `customs.mode_of_transport` | `modeOfTransport` is VESSEL, RAIL, TRUCK or BARGE | Customs declarations (docs/customs.md) |
//! | `usci.format` | a USCI is 18 characters of GB 32100's set (digits, capitals but I, O, S, V, Z): registration authority, category, 6-digit division code, 9-character organization code, check character | Customs declarations (docs/customs.md) |
//! | `usci.check_character` | a USCI's 18th character is the GB 32100-2015 check character (weights 3^i mod 31) | Customs declarations (docs/customs.md) |
//! | `usci.organization_code` | a USCI's characters 9 to 17 are an organization code whose last character is its GB 11714-1997 check character | Customs declarations (docs/customs.md) |
//! | `customs.party` | a party's `role` is on the list and CONSIGNOR, CONSIGNEE appear at most once; the declarant and every party in CN carry a USCI; a USCI party is in CN | Customs declarations (docs/customs.md) |
//! | `hs.code` | `hsCode` is 6 digits (HS subheading) or 10 digits (China's national tariff code) | Customs declarations (docs/customs.md) |
//! | `hs.chapter` | an HS code's chapter (first two digits) is 01 to 97 and not 77 (reserved) | Customs declarations (docs/customs.md) |
//! | `hs.heading` | an HS code's heading (digits 3 and 4) is not 00: headings are numbered from 01 in each chapter | Customs declarations (docs/customs.md) |
//! | `rec20.unit` | `quantity.unitCode` is a UN/ECE Recommendation 20 common code on the shipped list | Customs declarations (docs/customs.md) |
//! | `iso3166.country` | `originCountry` and `countryCode` are ISO 3166-1 alpha-2 codes (the 249 assigned) | Customs declarations (docs/customs.md) |
//! | `customs.decimal` | quantities, weights and declared amounts are decimal strings (digits, an optional fraction, no sign or exponent, at most 18 digits) | Customs declarations (docs/customs.md) |
//! | `customs.quantity` | a goods line's `quantity.value` is more than zero | Customs declarations (docs/customs.md) |
//! | `customs.weight` | a gross weight is more than zero kg; a container's at most 36000 kg (ISO 668's largest rating) | Customs declarations (docs/customs.md) |
//! | `customs.seals` | a container carries 1 to 10 seals, each 1 to 15 characters (DCSA's seal number bound), none repeated on it or on another container | Customs declarations (docs/customs.md) |
//! | `customs.duplicate_container` | no container is listed twice in `containers` | Customs declarations (docs/customs.md) |
//! | `customs.line_number` | goods lines are numbered 1, 2, 3... in order (unique, from 1, no gap) | Customs declarations (docs/customs.md) |
//! | `customs.goods` | a declaration has 1 to 999 goods lines and at most 999 containers | Customs declarations (docs/customs.md) |
//! | `dg.un_number` | `dangerousGoods.unNumber` is UN and four digits, not UN0000 | Customs declarations (docs/customs.md) |
//! | `dg.imdg_class` | `dangerousGoods.imdgClass` is an IMDG class or division (1.1 to 1.6, 2.1 to 2.3, 3, 4.1 to 4.3, 5.1, 5.2, 6.1, 6.2, 7, 8, 9) | Customs declarations (docs/customs.md) |
//! | `dg.class_consistency` | a UN number below UN1000 (the explosives' range) has class 1, and class 1 has such a number | Customs declarations (docs/customs.md) |
//! | `customs.route` | the route has 0 to 5 transhipment ports and names no port twice (loading, transhipments, discharge) | Customs declarations (docs/customs.md) |
//! | `customs.valid_until` | `validUntil`, when given, is an RFC 3339 date-time after `eventCreatedDateTime` | Customs declarations (docs/customs.md) |
//!
//! Layout: [`rules`] (identifiers), [`codes`] (code lists), [`iso6346`],
//! [`unlocode`], [`money`], [`strict`] (duplicate-key refusing JSON, forbidden
//! characters), `schema` (the schema walk) with the tables `tnt22` and `tnt30`, and
//! one module per family of events: `dcsa` (T&T 2.x), `dcsa3` (T&T 3.0), `payment`,
//! `ebl`, [`customs`].

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use light_clients::App;

pub mod codes;
pub mod customs;
mod dcsa;
mod dcsa3;
mod ebl;
pub mod iso6346;
mod json;
pub mod money;
mod payment;
pub mod rules;
mod schema;
pub mod strict;
mod tnt22;
mod tnt30;
pub mod unlocode;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_customs;
#[cfg(test)]
mod tests_tnt;

pub use codes::{
    ChargeBearer, DeclarationType, DocumentTypeCode, EblAction, EmptyIndicator,
    EquipmentEventTypeCode, EventClassifier, ImdgClass, IotEventCode, LetterOfCreditKind,
    ModeOfTransport, PartyRole, PaymentStatus, ReeferEventTypeCode, ShipmentEventTypeCode,
    TransportDocumentStatus, TransportEventTypeCode,
};
pub use customs::{
    CustomsDeclaration, DangerousGoods, Decimal, DeclarationNumber, DeclaredContainer, GoodsLine,
    HsCode, Party, Quantity, Route, Usci, UsciError,
};
pub use dcsa::{
    EquipmentActivity, EquipmentEvent, EquipmentReference, Location, ShipmentEvent, TransportCall,
    TransportEvent,
};
pub use ebl::{
    recipient_rule, EblParty, EblTransfer, IdentifyingCode, RepresentedParty, TaxLegalReference,
};
pub use iso6346::{ContainerNumber, ContainerNumberError};
pub use money::{withdrawal as iso4217_withdrawal, Currency, Money, ISO4217_LIST_THREE};
pub use payment::{is_bic, is_uetr, FreightInvoice, LetterOfCredit, PaymentSettlement};
pub use rules::Rule;
pub use schema::{UnknownBounds, UNKNOWN_BOUNDS};
pub use unlocode::{
    normalize_unlocode, UnLocode, UnLocodeAlias, NETWORK_PORTS, UNLOCODE_ALIASES, UNLOCODE_EDITION,
};

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

/// What an event did not break but should be known: displays as
/// `warning: <rule> at <field>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The stable rule identifier, one of [`rules::ALL`].
    pub rule: &'static str,
    /// The JSON path of the field concerned.
    pub field: String,
    /// What was found, in lowercase words.
    pub message: String,
    /// Whether strict mode ([`Options::strict`]) refuses the event for it.
    pub refused_when_strict: bool,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "warning: {} at {}: {}",
            self.rule, self.field, self.message
        )
    }
}

/// A DCSA Track & Trace version the validator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DcsaVersion {
    /// TNT 2.2.0 (EVENT_DOMAIN 1.0.4): flat events.
    V2_2,
    /// TNT 2.3.0: flat events, with the codes 2.3 added (PENC, CANC, ...).
    V2_3,
    /// TNT 3.0.0: nested events (`eventClassification`, `*Details`, `eventRouting`).
    V3_0,
}

impl DcsaVersion {
    /// Every version, oldest first.
    pub const ALL: [DcsaVersion; 3] = [DcsaVersion::V2_2, DcsaVersion::V2_3, DcsaVersion::V3_0];

    /// `2.2`, `2.3` or `3.0`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DcsaVersion::V2_2 => "2.2",
            DcsaVersion::V2_3 => "2.3",
            DcsaVersion::V3_0 => "3.0",
        }
    }

    /// Reads `2.2`, `2.3` or `3.0` (a patch number such as `2.2.0` is allowed).
    pub fn parse(s: &str) -> Option<Self> {
        let minor = s
            .strip_suffix(".0")
            .filter(|m| m.matches('.').count() == 1)
            .unwrap_or(s);
        DcsaVersion::ALL.into_iter().find(|v| v.as_str() == minor)
    }

    /// Whether events of this version are flat (2.x).
    pub const fn is_flat(self) -> bool {
        !matches!(self, DcsaVersion::V3_0)
    }
}

impl std::fmt::Display for DcsaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DcsaVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        DcsaVersion::parse(s)
            .ok_or_else(|| format!("{s:?} is not a DCSA T&T version: 2.2, 2.3 or 3.0"))
    }
}

/// How [`check`] reads an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Refuse what is otherwise a warning that strict mode refuses (a 2.x SHIPMENT
    /// event whose `eventDateTime` is not its `eventCreatedDateTime`).
    pub strict: bool,
    /// The DCSA version the caller declares; `None` reads it from the shape (flat
    /// events as 2.2, nested ones as 3.0).
    pub dcsa_version: Option<DcsaVersion>,
}

/// A validated event and what it did not break but should be known.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The typed view.
    pub event: PortEvent,
    /// Warnings, in the order found.
    pub warnings: Vec<Warning>,
}

/// The fields every event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventHeader {
    /// `eventID`: the UUID of this message (not of the thing it is about); derived
    /// (see [`derived_event_id`]) when the event has none, or (3.0) one that is not
    /// a UUID.
    pub event_id: Uuid,
    /// Whether `event_id` was derived rather than given.
    pub event_id_derived: bool,
    /// `eventCreatedDateTime` (3.0: `eventUpdatedDateTime`): when the publisher
    /// created the message.
    pub created: OffsetDateTime,
    /// `eventDateTime`: when the event took place (or will, for planned and estimated ones).
    pub event_date_time: OffsetDateTime,
}

/// `eventID`, `eventCreatedDateTime` and `eventDateTime` of a project event.
fn project_header(obj: &json::Obj<'_>) -> Result<EventHeader, Refusal> {
    Ok(EventHeader {
        event_id: obj.event_id(rules::EVENT_REQUIRED)?,
        event_id_derived: false,
        created: obj.date_time("eventCreatedDateTime", rules::EVENT_REQUIRED)?,
        event_date_time: obj.date_time("eventDateTime", rules::EVENT_REQUIRED)?,
    })
}

/// The stable id of an event that carries no UUID of its own: a UUID of version 8
/// whose 122 free bits are the first ones of SHA-256 over
/// `portrelay.dcsa.event-id.v1`, a zero byte and `seed`.
///
/// For a 2.x event without `eventID`, `seed` is the event's canonical JSON (keys
/// sorted, no white space), so the same event always gets the same id and any
/// change to it gives another. For a 3.0 event whose `eventID` is not a UUID, it is
/// the composite key T&T 3.0 names (originating party code, code list provider,
/// code list name, `eventID`, joined by zero bytes), so every update of one event
/// keeps its id; without `eventID` it is the canonical JSON again.
pub fn derived_event_id(seed: &[u8]) -> Uuid {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(b"portrelay.dcsa.event-id.v1\0");
    hash.update(seed);
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// The canonical JSON of `value`: object keys sorted, no white space.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    fn write(value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push(b'{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(&Value::String(key.clone()), out);
                    out.push(b':');
                    if let Some(item) = map.get(key) {
                        write(item, out);
                    }
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
        }
    }
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

/// The eight values of `eventType`.
pub const EVENT_TYPES: [&str; 8] = [
    "SHIPMENT",
    "TRANSPORT",
    "EQUIPMENT",
    "LETTER_OF_CREDIT",
    "FREIGHT_INVOICE",
    "PAYMENT_SETTLEMENT",
    "EBL_TRANSFER",
    "CUSTOMS_DECLARATION",
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
    /// CUSTOMS_DECLARATION.
    CustomsDeclaration(CustomsDeclaration),
}

/// Checks one event against every rule with the default [`Options`] and returns
/// its typed view, or the first rule it breaks.
pub fn validate(value: &Value) -> Result<PortEvent, Refusal> {
    check(value, &Options::default()).map(|v| v.event)
}

/// Checks an event a destination received from another ledger, whose edge held it
/// to its declared version already: a flat event is read as 2.2 and, if it uses a
/// code 2.3 added, as 2.3. Never strict (the source's ledger decided).
pub fn validate_relayed(value: &Value) -> Result<PortEvent, Refusal> {
    match validate(value) {
        Err(r) if r.rule == rules::DCSA_CODE_VERSION => check(
            value,
            &Options {
                strict: false,
                dcsa_version: Some(DcsaVersion::V2_3),
            },
        )
        .map(|v| v.event),
        other => other,
    }
}

/// Checks one event against every rule as `options` say, and returns its typed
/// view with its warnings, or the first rule it breaks. What the command line and
/// the ledgers both call.
pub fn check(value: &Value, options: &Options) -> Result<Validated, Refusal> {
    let obj = json::Obj::new(value, String::new(), rules::EVENT_OBJECT)?;
    strict::check_characters(value)?;
    let mut warnings = Vec::new();
    let event = event(&obj, value, options, &mut warnings)?;
    if options.strict {
        if let Some(w) = warnings.iter().find(|w| w.refused_when_strict) {
            return Err(Refusal::new(
                w.rule,
                w.field.clone(),
                format!("{} (refused in strict mode)", w.message),
            ));
        }
    }
    Ok(Validated { event, warnings })
}

fn event(
    obj: &json::Obj<'_>,
    value: &Value,
    options: &Options,
    warnings: &mut Vec<Warning>,
) -> Result<PortEvent, Refusal> {
    let flat_dcsa = matches!(
        obj.get("eventType"),
        Some(Value::String(t)) if matches!(t.as_str(), "SHIPMENT" | "TRANSPORT" | "EQUIPMENT")
    );
    let nested =
        obj.get("eventType").is_none() && tnt30::SHAPE_KEYS.iter().any(|k| obj.get(k).is_some());
    match options.dcsa_version {
        Some(v) if v.is_flat() && nested => {
            return Err(Refusal::new(
                rules::DCSA_VERSION,
                "$",
                format!("declared T&T {v}, but the event has the nested 3.0 shape (eventClassification) and no eventType"),
            ))
        }
        Some(v) if !v.is_flat() && flat_dcsa => {
            return Err(Refusal::new(
                rules::DCSA_VERSION,
                "eventType",
                format!("declared T&T {v}, but the event has the flat 2.x shape (eventType at the top)"),
            ))
        }
        _ => {}
    }
    if nested {
        return dcsa3::event(obj, value, warnings);
    }
    let version = options.dcsa_version.unwrap_or(DcsaVersion::V2_2);
    let event_type = obj.req_str("eventType", rules::EVENT_TYPE, rules::EVENT_TYPE)?;
    match event_type {
        "SHIPMENT" => dcsa::shipment(obj, value, version, warnings).map(PortEvent::Shipment),
        "TRANSPORT" => dcsa::transport(obj, value, version, warnings).map(PortEvent::Transport),
        "EQUIPMENT" => dcsa::equipment(obj, value, version, warnings).map(PortEvent::Equipment),
        "LETTER_OF_CREDIT" => payment::letter_of_credit(obj, value).map(PortEvent::LetterOfCredit),
        "FREIGHT_INVOICE" => payment::freight_invoice(obj, value).map(PortEvent::FreightInvoice),
        "PAYMENT_SETTLEMENT" => {
            payment::payment_settlement(obj, value).map(PortEvent::PaymentSettlement)
        }
        "EBL_TRANSFER" => ebl::ebl_transfer(obj, value).map(PortEvent::EblTransfer),
        "CUSTOMS_DECLARATION" => {
            customs::customs_declaration(obj, value).map(PortEvent::CustomsDeclaration)
        }
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
            PortEvent::CustomsDeclaration(_) => "CUSTOMS_DECLARATION",
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
            PortEvent::CustomsDeclaration(e) => &e.header,
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
            PortEvent::CustomsDeclaration(e) => &e.json,
        }
    }

    /// A label of bounded cardinality for metrics and logs: the event type and its
    /// sub-kind, e.g. `EQUIPMENT/LOAD`, `EQUIPMENT/IOT_DRO`, `EQUIPMENT/REEFER_MEAS`,
    /// `TRANSPORT/ARRI`, `SHIPMENT/CUS/RELS`,
    /// `LETTER_OF_CREDIT/ISSUED`, `FREIGHT_INVOICE`, `PAYMENT_SETTLEMENT/ACSC`,
    /// `EBL_TRANSFER/TRANSFER`, `CUSTOMS_DECLARATION/EXPORT`. Built from closed code lists only, never from free text.
    pub fn kind_label(&self) -> String {
        let ty = self.event_type();
        match self {
            PortEvent::Shipment(e) => format!("{ty}/{}/{}", e.document_type, e.shipment_event_type),
            PortEvent::Transport(e) => format!("{ty}/{}", e.transport_event_type),
            PortEvent::Equipment(e) => format!("{ty}/{}", e.activity),
            PortEvent::LetterOfCredit(e) => format!("{ty}/{}", e.kind),
            PortEvent::FreightInvoice(_) => ty.to_string(),
            PortEvent::PaymentSettlement(e) => format!("{ty}/{}", e.status),
            PortEvent::EblTransfer(e) => format!("{ty}/{}", e.action),
            PortEvent::CustomsDeclaration(e) => format!("{ty}/{}", e.declaration_type),
        }
    }

    /// The UN/LOCODEs the event involves, normalised through the alias table
    /// (CNCWN becomes CNSHK), without repeats, in the order they appear.
    ///
    /// DCSA events: the transport call's codes and the event location's;
    /// letters of credit: ports of loading and discharge; customs declarations:
    /// the route (loading, transhipments, discharge); other kinds: none.
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
            PortEvent::CustomsDeclaration(e) => e.route.ports().collect(),
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

    /// The relay app that carries this event: cargo for DCSA events and customs
    /// declarations, payment for
    /// letters of credit, invoices and settlements, ebl for title transfers.
    pub fn app(&self) -> App {
        match self {
            PortEvent::Shipment(_)
            | PortEvent::Transport(_)
            | PortEvent::Equipment(_)
            | PortEvent::CustomsDeclaration(_) => App::Cargo,
            PortEvent::LetterOfCredit(_)
            | PortEvent::FreightInvoice(_)
            | PortEvent::PaymentSettlement(_) => App::Payment,
            PortEvent::EblTransfer(_) => App::Ebl,
        }
    }

    /// The ISO 6346 container the event is about, for EQUIPMENT events that name one
    /// (not a non-ISO reference).
    pub fn container(&self) -> Option<ContainerNumber> {
        match self {
            PortEvent::Equipment(e) => match e.equipment_reference {
                Some(EquipmentReference::Iso(c)) => Some(c),
                _ => None,
            },
            _ => None,
        }
    }

    /// The DCSA version a cargo event was read as; `None` for the project's own kinds.
    pub fn dcsa_version(&self) -> Option<DcsaVersion> {
        match self {
            PortEvent::Shipment(e) => Some(e.version),
            PortEvent::Transport(e) => Some(e.version),
            PortEvent::Equipment(e) => Some(e.version),
            _ => None,
        }
    }
}
