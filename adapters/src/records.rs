//! Record layouts: which field of a packet's disclosure record holds what,
//! for each event kind, and how each value becomes a field element (the
//! table is in `docs/records.md`).
//!
//! Every record has [`WIDTH`] fields so that one verifying key per (source,
//! app) proves every kind; field 0 is the kind (the event type as a code,
//! `PAYMENT_SETTLEMENT`), which a destination's policy keys its rules on.
//! Encodings are `circuits::encode`'s:
//! - `code`: printable ASCII of 1 to 31 bytes packed big-endian;
//! - `text`: a code when it is one, else the digest of its UTF-8 bytes;
//! - `digest`: the first 31 bytes of SHA-256 of the UTF-8 bytes;
//! - `amount`: minor units as an integer (the only fields `at least` /
//!   `at most` apply to);
//! - an absent optional value, and an unused field: 0.

use circuits::encode;
use circuits::Fr;
use sha2::{Digest, Sha256};

use crate::events::PortEvent;

/// Fields per record, field 0 (the kind) included.
pub const WIDTH: usize = 8;

/// How a field's value becomes a field element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Code,
    Text,
    Digest,
    Amount,
    Unused,
}

/// One field of a layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub encoding: Encoding,
}

const fn f(name: &'static str, encoding: Encoding) -> FieldSpec {
    FieldSpec { name, encoding }
}

const UNUSED: FieldSpec = f("unused", Encoding::Unused);

/// The kinds with a layout, by the code in field 0.
pub const KINDS: [&str; 8] = [
    "SHIPMENT",
    "TRANSPORT",
    "EQUIPMENT",
    "LETTER_OF_CREDIT",
    "FREIGHT_INVOICE",
    "PAYMENT_SETTLEMENT",
    "EBL_TRANSFER",
    "CUSTOMS_DECLARATION",
];

/// The layout of `kind`'s records (field 0 first).
pub fn layout(kind: &str) -> Option<[FieldSpec; WIDTH]> {
    use Encoding::*;
    let kind_field = f("kind", Code);
    Some(match kind {
        "SHIPMENT" => [
            kind_field,
            f("shipmentEventTypeCode", Code),
            f("documentTypeCode", Code),
            f("documentID", Text),
            f("eventDateTime", Code),
            f("eventID", Digest),
            UNUSED,
            UNUSED,
        ],
        "TRANSPORT" => [
            kind_field,
            f("transportEventTypeCode", Code),
            f("transportCallID", Text),
            f("port", Code),
            f("delayReasonCode", Text),
            f("eventDateTime", Code),
            f("eventID", Digest),
            UNUSED,
        ],
        "EQUIPMENT" => [
            kind_field,
            f("equipmentEventTypeCode", Code),
            f("equipmentReference", Code),
            f("location", Code),
            f("emptyIndicatorCode", Code),
            f("eventDateTime", Code),
            f("eventID", Digest),
            UNUSED,
        ],
        "LETTER_OF_CREDIT" => [
            kind_field,
            f("kind", Code),
            f("creditNumber", Text),
            f("amount", Amount),
            f("currency", Code),
            f("applicant", Digest),
            f("beneficiary", Digest),
            f("transportDocumentReference", Text),
        ],
        "FREIGHT_INVOICE" => [
            kind_field,
            f("invoiceNumber", Text),
            f("transportDocumentReference", Text),
            f("amount", Amount),
            f("currency", Code),
            f("payerName", Digest),
            f("payeeName", Digest),
            f("dueDate", Code),
        ],
        "PAYMENT_SETTLEMENT" => [
            kind_field,
            f("status", Code),
            f("transportDocumentReference", Text),
            f("interbankSettlementAmount", Amount),
            f("currency", Code),
            f("debtorAgentBIC", Code),
            f("creditorAgentBIC", Code),
            f("endToEndId", Text),
        ],
        "EBL_TRANSFER" => [
            kind_field,
            f("action", Code),
            f("transportDocumentReference", Text),
            f("transportDocumentStatus", Code),
            f("sender", Digest),
            f("recipient", Digest),
            f("eventID", Digest),
            UNUSED,
        ],
        "CUSTOMS_DECLARATION" => [
            kind_field,
            f("declarationType", Code),
            f("declarationNumber", Code),
            f("customsOfficeCode", Code),
            f("declarant.usci", Code),
            f("route.portOfLoading", Code),
            f("route.portOfDischarge", Code),
            f("eventID", Digest),
        ],
        _ => return None,
    })
}

fn code(s: &str) -> Fr {
    // Codes of the schema are validated printable ASCII of at most 31 bytes;
    // anything else falls back to its digest rather than failing the event.
    encode::code(s).unwrap_or_else(|_| digest(s))
}

fn text(s: &str) -> Fr {
    encode::code(s).unwrap_or_else(|_| digest(s))
}

fn digest(s: &str) -> Fr {
    encode::digest(&Sha256::digest(s.as_bytes()).into())
}

fn opt(value: Option<Fr>) -> Fr {
    value.unwrap_or_default()
}

/// The record fields of `event`, in its kind's layout.
pub fn fields(event: &PortEvent) -> Vec<Fr> {
    let h = event.header();
    let when = h.event_date_time.to_string();
    let id = h.event_id.to_string();
    let kind = code(event.event_type());
    let z = Fr::default();
    match event {
        PortEvent::Shipment(e) => vec![
            kind,
            code(&e.shipment_event_type.to_string()),
            code(&e.document_type.to_string()),
            text(&e.document_id),
            code(&when),
            digest(&id),
            z,
            z,
        ],
        PortEvent::Transport(e) => vec![
            kind,
            code(&e.transport_event_type.to_string()),
            text(&e.transport_call.transport_call_id),
            opt(event.ports().first().map(|p| code(&p.to_string()))),
            opt(e.delay_reason_code.as_deref().map(text)),
            code(&when),
            digest(&id),
            z,
        ],
        PortEvent::Equipment(e) => vec![
            kind,
            code(&e.activity.to_string()),
            opt(e.equipment_reference.as_ref().map(|c| code(&c.to_string()))),
            opt(event.ports().first().map(|p| code(&p.to_string()))),
            opt(e.empty_indicator.map(|i| code(i.as_str()))),
            code(&when),
            digest(&id),
            z,
        ],
        PortEvent::LetterOfCredit(e) => vec![
            kind,
            code(&e.kind.to_string()),
            text(&e.credit_number),
            encode::amount(e.amount.value),
            code(e.amount.currency.code()),
            digest(&e.applicant),
            digest(&e.beneficiary),
            opt(e.transport_document_reference.as_deref().map(text)),
        ],
        PortEvent::FreightInvoice(e) => vec![
            kind,
            text(&e.invoice_number),
            text(&e.transport_document_reference),
            encode::amount(e.amount.value),
            code(e.amount.currency.code()),
            digest(&e.payer_name),
            digest(&e.payee_name),
            code(&e.due_date.to_string()),
        ],
        PortEvent::PaymentSettlement(e) => vec![
            kind,
            code(&e.status.to_string()),
            opt(e.transport_document_reference.as_deref().map(text)),
            encode::amount(e.interbank_settlement_amount.value),
            code(e.interbank_settlement_amount.currency.code()),
            code(&e.debtor_agent_bic),
            code(&e.creditor_agent_bic),
            text(&e.end_to_end_id),
        ],
        PortEvent::EblTransfer(e) => vec![
            kind,
            code(&e.action.to_string()),
            text(&e.transport_document_reference),
            code(&e.transport_document_status.to_string()),
            digest(&e.sender.party_name),
            // SIGN and BLANK_ENDORSE have no recipient: the digest of "" stands for none.
            digest(e.recipient.as_ref().map_or("", |r| r.party_name.as_str())),
            digest(&id),
            z,
        ],
        PortEvent::CustomsDeclaration(e) => vec![
            kind,
            code(e.declaration_type.as_str()),
            code(e.declaration_number.as_str()),
            code(&e.customs_office_code),
            opt(e.declarant.usci.as_ref().map(|u| code(u.as_str()))),
            code(e.route.port_of_loading.as_str()),
            code(e.route.port_of_discharge.as_str()),
            digest(&id),
        ],
    }
}

/// A disclosed value read back for people: the code's text when the element
/// is printable ASCII, else its hex.
pub fn show(value: &Fr) -> String {
    let bytes = encode::fr_to_bytes(value);
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let tail = &bytes[start..];
    if !tail.is_empty() && tail.iter().all(|b| (0x20..=0x7e).contains(b)) {
        String::from_utf8_lossy(tail).into_owned()
    } else {
        encode::fr_to_hex(value)
    }
}

/// The kind a record's field 0 names, if it is a known one.
pub fn kind_of(field0: &Fr) -> Option<&'static str> {
    KINDS
        .into_iter()
        .find(|k| encode::code(k).ok() == Some(*field0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events;
    use serde_json::json;

    fn settlement() -> PortEvent {
        events::validate(&json!({
            "eventType": "PAYMENT_SETTLEMENT",
            "eventID": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
            "eventCreatedDateTime": "2024-06-01T16:05:00+08:00",
            "eventDateTime": "2024-06-01T16:04:31+08:00",
            "endToEndId": "INV-2024-000871",
            "uetr": "eb6305c9-1f7f-49de-aed0-16487c27b42d",
            "interbankSettlementAmount": {"currency": "USD", "value": 1_250_000, "exponent": 2},
            "interbankSettlementDate": "2024-06-01",
            "chargeBearer": "SHAR",
            "debtorAgentBIC": "BKCHCNBJXXX",
            "creditorAgentBIC": "DEUTDEFFXXX",
            "status": "ACSC",
            "transportDocumentReference": "COSU6123456780"
        }))
        .unwrap()
    }

    #[test]
    fn every_kind_has_a_layout_of_the_record_width() {
        for kind in KINDS {
            let layout = layout(kind).unwrap();
            assert_eq!(layout[0].name, "kind");
            assert!(encode::code(kind).is_ok(), "{kind} is a code");
        }
        assert!(layout("NOPE").is_none());
    }

    #[test]
    fn a_settlement_fills_its_layout() {
        let event = settlement();
        let fields = fields(&event);
        assert_eq!(fields.len(), WIDTH);
        assert_eq!(kind_of(&fields[0]), Some("PAYMENT_SETTLEMENT"));
        assert_eq!(show(&fields[1]), "ACSC");
        assert_eq!(show(&fields[2]), "COSU6123456780");
        assert_eq!(fields[3], encode::amount(1_250_000));
        assert_eq!(show(&fields[4]), "USD");
        assert_eq!(show(&fields[5]), "BKCHCNBJXXX");
        let layout = layout("PAYMENT_SETTLEMENT").unwrap();
        assert_eq!(layout[3].encoding, Encoding::Amount);
    }

    #[test]
    fn long_text_becomes_a_digest() {
        let long = "x".repeat(40);
        assert_eq!(text(&long), digest(&long));
        assert_eq!(text("SHORT"), encode::code("SHORT").unwrap());
    }
}
