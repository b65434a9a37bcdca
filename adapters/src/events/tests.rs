//! Rule-by-rule tests of event validation: each rule with a passing and a failing
//! example, realistic DCSA payloads accepted unchanged, and the helpers' labels.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

// ---------------------------------------------------------------- base events

/// A DCSA T&T 2.2 EQUIPMENT event as a carrier publishes it: a laden container
/// loaded at Shekou, with the deprecated and descriptive fields real feeds carry.
fn equipment_load() -> Value {
    json!({
        "eventID": "84db923d-2a19-4eb0-beb5-446c1ec57d34",
        "eventType": "EQUIPMENT",
        "eventClassifierCode": "ACT",
        "eventCreatedDateTime": "2024-05-03T09:45:12.417+08:00",
        "eventDateTime": "2024-05-03T09:41:00+08:00",
        "equipmentEventTypeCode": "LOAD",
        "eventTypeCode": "LOAD",
        "equipmentReference": "APZU4812090",
        "ISOEquipmentCode": "22GP",
        "emptyIndicatorCode": "LADEN",
        "eventLocation": {
            "locationName": "Shekou Container Terminals",
            "latitude": "22.4770",
            "longitude": "113.8890",
            "UNLocationCode": "CNSHK",
            "facilityCode": "SCT",
            "facilityCodeListProvider": "SMDG",
            "address": {
                "name": "Shekou Container Terminals",
                "street": "Gangwan Avenue",
                "streetNumber": "1",
                "postCode": "518069",
                "city": "Shenzhen",
                "country": "China"
            }
        },
        "transportCallID": "8b64d20b-523b-4491-b2e5-32cfa5174eed",
        "transportCall": {
            "transportCallID": "8b64d20b-523b-4491-b2e5-32cfa5174eed",
            "transportCallSequenceNumber": 1,
            "carrierServiceCode": "AEU1",
            "exportVoyageNumber": "0123W",
            "importVoyageNumber": "0122E",
            "UNLocationCode": "CNSHK",
            "facilityCode": "SCT",
            "facilityCodeListProvider": "SMDG",
            "facilityTypeCode": "POTE",
            "otherFacility": null,
            "modeOfTransport": "VESSEL",
            "location": {
                "locationName": "Shekou Container Terminals, berth 5",
                "UNLocationCode": "CNSHK"
            },
            "vessel": {
                "vesselIMONumber": "9321483",
                "vesselName": "King of the Seas",
                "vesselFlag": "DE",
                "vesselCallSignNumber": "NCVV",
                "vesselOperatorCarrierCode": "MAEU",
                "vesselOperatorCarrierCodeListProvider": "NMFTA"
            }
        },
        "documentReferences": [
            {"documentReferenceType": "BKG", "documentReferenceValue": "ABC709951"},
            {"documentReferenceType": "TRD", "documentReferenceValue": "CMPSHK24000381"}
        ],
        "references": [
            {"referenceType": "FF", "referenceValue": "FWD-2024-0512"},
            {"referenceType": "EQ", "referenceValue": "APZU4812090"}
        ],
        "seals": [
            {"sealNumber": "CN0123456", "sealSource": "CUS", "sealType": "WIR"},
            {"sealNumber": "SH778812", "sealSource": "SHI", "sealType": "BLT"}
        ]
    })
}

/// A gate-in at Shekou: no transport call, an event location.
fn equipment_gate_in() -> Value {
    json!({
        "eventID": "5e51e72c-d872-11ea-811c-0f8f10a32ea1",
        "eventType": "EQUIPMENT",
        "eventClassifierCode": "ACT",
        "eventCreatedDateTime": "2024-05-01T14:02:00+08:00",
        "eventDateTime": "2024-05-01T13:58:00+08:00",
        "equipmentEventTypeCode": "GTIN",
        "equipmentReference": "CSQU3054383",
        "ISOEquipmentCode": "45G1",
        "emptyIndicatorCode": "LADEN",
        "eventLocation": {"locationName": "Shekou gate 3", "UNLocationCode": "CNSHK"}
    })
}

fn transport_arrival() -> Value {
    json!({
        "eventID": "b785317a-2340-4db7-8fb3-c8dfb1edfa60",
        "eventType": "TRANSPORT",
        "eventClassifierCode": "ACT",
        "eventCreatedDateTime": "2024-06-02T06:10:00Z",
        "eventDateTime": "2024-06-02T05:48:00+02:00",
        "transportEventTypeCode": "ARRI",
        "delayReasonCode": "WEA",
        "changeRemark": "bad weather in the Bay of Biscay",
        "transportCall": {
            "transportCallID": "c2b3a1de-0f3e-4a55-9a5c-7a7c6a0e2f11",
            "carrierServiceCode": "AEU1",
            "exportVoyageNumber": "0123W",
            "UNLocationCode": "NLRTM",
            "modeOfTransport": "VESSEL",
            "vessel": {"vesselIMONumber": "9321483", "vesselName": "King of the Seas"}
        }
    })
}

/// A bill of lading issued: SHIPMENT, document TRD.
fn shipment_issued() -> Value {
    json!({
        "eventID": "4f4b3c1d-8e5a-4b8f-9a3e-2d1c0b9a8f7e",
        "eventType": "SHIPMENT",
        "eventClassifierCode": "ACT",
        "eventCreatedDateTime": "2024-05-03T18:00:00+08:00",
        "eventDateTime": "2024-05-03T18:00:00+08:00",
        "shipmentEventTypeCode": "ISSU",
        "documentTypeCode": "TRD",
        "documentID": "CMPSHK24000381",
        "reason": null
    })
}

/// Customs release at Rotterdam: SHIPMENT, document CUS, RELS.
fn customs_release() -> Value {
    json!({
        "eventID": "0d8f2c55-9b0e-4d6c-8a47-1f3e5b7c9d21",
        "eventType": "SHIPMENT",
        "eventClassifierCode": "ACT",
        "eventCreatedDateTime": "2024-06-03T11:20:00+02:00",
        "eventDateTime": "2024-06-03T11:20:00+02:00",
        "shipmentEventTypeCode": "RELS",
        "documentTypeCode": "CUS",
        "documentID": "24NL000123456789A1",
        "reason": "released after documentary check"
    })
}

fn letter_of_credit() -> Value {
    json!({
        "eventType": "LETTER_OF_CREDIT",
        "eventID": "6a0c8e7f-3b1d-4c2e-9f5a-8d7b6c5e4f30",
        "eventCreatedDateTime": "2024-04-20T10:00:00+08:00",
        "eventDateTime": "2024-04-20T09:30:00+08:00",
        "creditNumber": "LC24SZX000123",
        "kind": "ISSUED",
        "issueDate": "2024-04-20",
        "expiryDate": "2024-08-31",
        "expiryPlace": "SHENZHEN",
        "amount": {"currency": "USD", "value": 18_500_000, "exponent": 2},
        "applicant": "Rotterdam Home Goods B.V., Waalhaven Z.z. 19, 3089 JH Rotterdam",
        "beneficiary": "Shenzhen Bright Furniture Co., Ltd., Nanshan District, Shenzhen",
        "portOfLoading": "CNSHK",
        "portOfDischarge": "NLRTM",
        "transportDocumentReference": "CMPSHK24000381"
    })
}

fn freight_invoice() -> Value {
    json!({
        "eventType": "FREIGHT_INVOICE",
        "eventID": "9d3e2c1b-0a9f-4e8d-8c7b-6a5f4e3d2c1b",
        "eventCreatedDateTime": "2024-05-04T09:00:00+08:00",
        "eventDateTime": "2024-05-04T09:00:00+08:00",
        "invoiceNumber": "INV-2024-000871",
        "transportDocumentReference": "CMPSHK24000381",
        "amount": {"currency": "USD", "value": 245_000},
        "issueDate": "2024-05-04",
        "dueDate": "2024-06-03",
        "payerName": "Shenzhen Bright Furniture Co., Ltd.",
        "payeeName": "China Merchants Port Logistics"
    })
}

fn settlement() -> Value {
    json!({
        "eventType": "PAYMENT_SETTLEMENT",
        "eventID": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
        "eventCreatedDateTime": "2024-06-01T16:05:00+08:00",
        "eventDateTime": "2024-06-01T16:04:31+08:00",
        "endToEndId": "INV-2024-000871",
        "uetr": "eb6305c9-1f7f-49de-aed0-16487c27b42d",
        "interbankSettlementAmount": {"currency": "USD", "value": 245_000, "exponent": 2},
        "interbankSettlementDate": "2024-06-01",
        "chargeBearer": "SHAR",
        "debtorAgentBIC": "BKCHHKHHXXX",
        "creditorAgentBIC": "ABNANL2A",
        "status": "ACSC",
        "transportDocumentReference": "CMPSHK24000381"
    })
}

fn ebl_transfer() -> Value {
    json!({
        "eventType": "EBL_TRANSFER",
        "eventID": "7c6b5a49-3827-4160-a5f4-e3d2c1b0a9f8",
        "eventCreatedDateTime": "2024-05-05T10:00:00+08:00",
        "eventDateTime": "2024-05-05T09:59:30+08:00",
        "transportDocumentReference": "CMPSHK24000381",
        "action": "TRANSFER",
        "transportDocumentStatus": "ISSUED",
        "sender": {
            "partyName": "Shenzhen Bright Furniture Co., Ltd.",
            "eblPlatform": "WAVE",
            "identifyingCodes": [{"codeListProvider": "GLEIF", "partyCode": "5493001KJTIIGC8Y1R12", "codeListName": "LEI"}]
        },
        "recipient": {
            "partyName": "Rotterdam Home Goods B.V.",
            "eblPlatform": "BOLE",
            "identifyingCodes": [{"codeListProvider": "BOLE", "partyCode": "RHG-NL-0042"}]
        },
        "transferChain": ["ISSUE"]
    })
}

// ------------------------------------------------------------- the rule table

/// One edit of a base event: JSON pointer and new value (`None` removes the field).
pub(super) type Edit = (&'static str, Option<Value>);

pub(super) struct Case {
    rule: &'static str,
    base: fn() -> Value,
    pass: Vec<Edit>,
    fail: Vec<Edit>,
    field: &'static str,
    /// How the invalid example is checked (the valid one always with the defaults).
    options: Options,
}

/// The case's invalid example is checked in strict mode.
pub(super) fn strict(c: Case) -> Case {
    Case {
        options: Options {
            strict: true,
            ..c.options
        },
        ..c
    }
}

/// The case's invalid example is checked with a declared DCSA version.
pub(super) fn declared(version: DcsaVersion, c: Case) -> Case {
    Case {
        options: Options {
            dcsa_version: Some(version),
            ..c.options
        },
        ..c
    }
}

pub(super) fn case(
    rule: &'static str,
    base: fn() -> Value,
    pass: Vec<Edit>,
    fail: Vec<Edit>,
    field: &'static str,
) -> Case {
    Case {
        rule,
        base,
        pass,
        fail,
        field,
        options: Options::default(),
    }
}

pub(super) fn set(pointer: &'static str, value: Value) -> Edit {
    (pointer, Some(value))
}

pub(super) fn remove(pointer: &'static str) -> Edit {
    (pointer, None)
}

/// Applies edits; the pointer `""` replaces the whole event.
pub(super) fn edited(base: fn() -> Value, edits: &[Edit]) -> Value {
    let mut v = base();
    for (pointer, value) in edits {
        if pointer.is_empty() {
            v = value.clone().unwrap();
            continue;
        }
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match v
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("no {parent}"))
        {
            Value::Object(map) => match value {
                Some(x) => {
                    map.insert(key.to_string(), x.clone());
                }
                None => {
                    map.remove(key);
                }
            },
            Value::Array(items) => {
                let i: usize = key.parse().unwrap();
                match value {
                    Some(x) if i == items.len() => items.push(x.clone()),
                    Some(x) => items[i] = x.clone(),
                    None => {
                        items.remove(i);
                    }
                }
            }
            other => panic!("cannot edit inside {other}"),
        }
    }
    v
}

pub(super) fn long(n: usize) -> Value {
    Value::String("A".repeat(n))
}

/// The rule table: one line per case, `(rule, base event, edits that keep it valid,
/// edits that break the rule, the field the refusal must name)`.
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use rules::*;
    let mut all = super::tests_tnt::cases();
    all.extend(super::tests_customs::cases());
    all.extend(vec![
        // Event kinds.
        case(EVENT_OBJECT, equipment_load, vec![], vec![set("", json!(["not", "an", "event"]))], "$"),
        case(EVENT_OBJECT, equipment_load, vec![], vec![set("", json!("EQUIPMENT"))], "$"),
        case(EVENT_TYPE, equipment_load, vec![set("/eventType", json!("EQUIPMENT"))], vec![set("/eventType", json!("CONTAINER"))], "eventType"),
        case(EVENT_TYPE, letter_of_credit, vec![], vec![remove("/eventType")], "eventType"),
        case(EVENT_TYPE, equipment_load, vec![], vec![set("/eventType", json!("equipment"))], "eventType"),
        case(EVENT_ID_UUID, equipment_load, vec![set("/eventID", json!("84DB923D-2A19-4EB0-BEB5-446C1EC57D34"))], vec![set("/eventID", json!("event-0001"))], "eventID"),
        case(EVENT_ID_UUID, settlement, vec![], vec![set("/eventID", json!("1f2e3d4c5b6a47988a7b6c5d4e3f2a1b"))], "eventID"),
        case(EVENT_ID_UUID, ebl_transfer, vec![], vec![set("/eventID", json!(42))], "eventID"),
        case(EVENT_DATE_TIME, equipment_load, vec![set("/eventDateTime", json!("2024-05-03T01:41:00Z"))], vec![set("/eventDateTime", json!("2024-05-03T09:41:00"))], "eventDateTime"),
        case(EVENT_DATE_TIME, freight_invoice, vec![], vec![set("/eventCreatedDateTime", json!("2024-05-04"))], "eventCreatedDateTime"),
        case(EVENT_DATE, letter_of_credit, vec![set("/issueDate", json!("2024-02-29"))], vec![set("/issueDate", json!("2024-02-30"))], "issueDate"),
        case(EVENT_DATE, settlement, vec![], vec![set("/interbankSettlementDate", json!("2024-06-01T00:00:00Z"))], "interbankSettlementDate"),
        case(EVENT_REQUIRED, letter_of_credit, vec![], vec![remove("/applicant")], "applicant"),
        case(EVENT_REQUIRED, ebl_transfer, vec![], vec![remove("/sender")], "sender"),
        case(EVENT_REQUIRED, freight_invoice, vec![], vec![remove("/transportDocumentReference")], "transportDocumentReference"),
        case(EVENT_REQUIRED, letter_of_credit, vec![], vec![remove("/amount/currency")], "amount.currency"),
        case(EVENT_REQUIRED, settlement, vec![], vec![remove("/eventDateTime")], "eventDateTime"),
        case(EVENT_UNKNOWN_FIELD, letter_of_credit, vec![], vec![set("/creditAmount", json!(1))], "creditAmount"),
        case(EVENT_UNKNOWN_FIELD, settlement, vec![], vec![set("/interbankSettlementAmount/decimals", json!(2))], "interbankSettlementAmount.decimals"),
        case(EVENT_UNKNOWN_FIELD, ebl_transfer, vec![], vec![set("/eventClassifierCode", json!("ACT"))], "eventClassifierCode"),
        // DCSA events tolerate fields they do not model; the project's own do not.
        case(EVENT_UNKNOWN_FIELD, equipment_load, vec![set("/carrierExtension", json!({"x": 1}))], vec![set("", { let mut e = freight_invoice(); e["carrierExtension"] = json!({"x": 1}); e })], "carrierExtension"),
        case(EVENT_FIELD_TYPE, equipment_load, vec![], vec![set("/transportCall/transportCallID", json!(42))], "transportCall.transportCallID"),
        case(EVENT_FIELD_TYPE, equipment_gate_in, vec![], vec![set("/eventLocation", json!("CNSHK"))], "eventLocation"),
        case(EVENT_FIELD_TYPE, shipment_issued, vec![], vec![set("/documentID", json!(381))], "documentID"),
        case(EVENT_TEXT, letter_of_credit, vec![set("/expiryPlace", long(29))], vec![set("/expiryPlace", long(30))], "expiryPlace"),
        case(EVENT_TEXT, freight_invoice, vec![], vec![set("/payerName", json!("  "))], "payerName"),
        case(EVENT_TEXT, ebl_transfer, vec![], vec![set("/recipient/partyName", json!(" \u{3000}"))], "recipient.partyName"),
        // Every string of every event, DCSA or not: control characters, bidirectional controls, separators.
        case(JSON_CHARACTERS, ebl_transfer, vec![set("/recipient/partyName", json!("Rotterdam Home Goods"))], vec![set("/recipient/partyName", json!("Rotterdam\nHome Goods"))], "recipient.partyName"),
        case(JSON_CHARACTERS, transport_arrival, vec![set("/changeRemark", json!("مرفأ — bad weather"))], vec![set("/changeRemark", json!("bad weather \u{202E}gnol"))], "changeRemark"),
        case(JSON_CHARACTERS, equipment_load, vec![], vec![set("/eventLocation/locationName", json!("Shekou\u{2066}x\u{2069}"))], "eventLocation.locationName"),
        case(JSON_CHARACTERS, shipment_issued, vec![], vec![set("/reason", json!("line one\u{2028}line two"))], "reason"),
        case(JSON_CHARACTERS, letter_of_credit, vec![], vec![set("/applicant", json!("Shenzhen\u{2029}Trading"))], "applicant"),
        case(JSON_CHARACTERS, equipment_load, vec![], vec![set("/carrierNote", json!({"a\u{202A}": 1}))], "carrierNote.a\\u{202a}"),
        // DCSA Track & Trace 2.2.
        case(DCSA_REQUIRED, shipment_issued, vec![], vec![remove("/documentID")], "documentID"),
        case(DCSA_REQUIRED, shipment_issued, vec![], vec![set("/documentID", json!(""))], "documentID"),
        case(DCSA_REQUIRED, equipment_load, vec![], vec![remove("/emptyIndicatorCode")], "emptyIndicatorCode"),
        case(DCSA_REQUIRED, transport_arrival, vec![], vec![remove("/transportCall")], "transportCall"),
        case(DCSA_REQUIRED, transport_arrival, vec![], vec![set("/transportCall", Value::Null)], "transportCall"),
        case(DCSA_REQUIRED, equipment_load, vec![], vec![remove("/transportCall/vessel/vesselIMONumber")], "transportCall.vessel.vesselIMONumber"),
        case(DCSA_REQUIRED, equipment_load, vec![], vec![remove("/transportCall/modeOfTransport")], "transportCall.modeOfTransport"),
        case(DCSA_REQUIRED, transport_arrival, vec![], vec![remove("/eventClassifierCode")], "eventClassifierCode"),
        case(DCSA_CLASSIFIER, equipment_load, vec![set("/eventClassifierCode", json!("PLN"))], vec![set("/eventClassifierCode", json!("REQ"))], "eventClassifierCode"),
        case(DCSA_CLASSIFIER, transport_arrival, vec![set("/eventClassifierCode", json!("EST"))], vec![set("/eventClassifierCode", json!("act"))], "eventClassifierCode"),
        // TNT 2.2.0's baseShipmentEvent: eventClassifierCode enum ACT, PLN, EST.
        case(DCSA_SHIPMENT_CLASSIFIER, shipment_issued, vec![set("/eventClassifierCode", json!("EST"))], vec![set("/eventClassifierCode", json!("REQ"))], "eventClassifierCode"),
        case(DCSA_SHIPMENT_CLASSIFIER, customs_release, vec![set("/eventClassifierCode", json!("PLN"))], vec![set("/eventClassifierCode", json!("act"))], "eventClassifierCode"),
        // A warning; strict mode refuses. The same instant written with another offset is equal.
        strict(case(DCSA_SHIPMENT_EVENT_DATE_TIME, shipment_issued, vec![set("/eventDateTime", json!("2024-05-03T10:00:00Z"))], vec![set("/eventDateTime", json!("2024-05-03T17:59:00+08:00"))], "eventDateTime")),
        case(DCSA_SHIPMENT_EVENT_TYPE_CODE, shipment_issued, vec![set("/shipmentEventTypeCode", json!("SURR"))], vec![set("/shipmentEventTypeCode", json!("RECV"))], "shipmentEventTypeCode"),
        case(DCSA_DOCUMENT_TYPE_CODE, shipment_issued, vec![set("/documentTypeCode", json!("SHI"))], vec![set("/documentTypeCode", json!("BOL"))], "documentTypeCode"),
        case(CUSTOMS_SHIPMENT_EVENT_TYPE, customs_release, vec![set("/shipmentEventTypeCode", json!("HOLD"))], vec![set("/shipmentEventTypeCode", json!("APPR"))], "shipmentEventTypeCode"),
        case(CUSTOMS_SHIPMENT_EVENT_TYPE, customs_release, vec![set("/shipmentEventTypeCode", json!("CMPL"))], vec![set("/shipmentEventTypeCode", json!("ISSU"))], "shipmentEventTypeCode"),
        case(CUSTOMS_SHIPMENT_EVENT_TYPE, customs_release, vec![set("/shipmentEventTypeCode", json!("REQS"))], vec![set("/shipmentEventTypeCode", json!("DRFT"))], "shipmentEventTypeCode"),
        // A revoked declaration: VOID (CANC too, from T&T 2.3); other document states are not customs ones.
        case(CUSTOMS_SHIPMENT_EVENT_TYPE, customs_release, vec![set("/shipmentEventTypeCode", json!("VOID"))], vec![set("/shipmentEventTypeCode", json!("SURR"))], "shipmentEventTypeCode"),
        case(DCSA_TRANSPORT_EVENT_TYPE_CODE, transport_arrival, vec![set("/transportEventTypeCode", json!("DEPA"))], vec![set("/transportEventTypeCode", json!("ARRV"))], "transportEventTypeCode"),
        case(DCSA_CHANGE_REMARK_LENGTH, transport_arrival, vec![set("/changeRemark", long(250))], vec![set("/changeRemark", long(251))], "changeRemark"),
        case(DCSA_CHANGE_REMARK_LENGTH, transport_arrival, vec![], vec![set("/vesselScheduleChangeRemark", long(251))], "vesselScheduleChangeRemark"),
        case(DCSA_EQUIPMENT_EVENT_TYPE_CODE, equipment_load, vec![set("/equipmentEventTypeCode", json!("RMVD"))], vec![set("/equipmentEventTypeCode", json!("LODE"))], "equipmentEventTypeCode"),
        // HOLD is in the information model, not in the 2.2 schema's enumeration.
        case(DCSA_EQUIPMENT_EVENT_TYPE_CODE, equipment_load, vec![set("/equipmentEventTypeCode", json!("PICK"))], vec![set("/equipmentEventTypeCode", json!("HOLD"))], "equipmentEventTypeCode"),
        case(DCSA_EMPTY_INDICATOR, equipment_load, vec![set("/emptyIndicatorCode", json!("EMPTY"))], vec![set("/emptyIndicatorCode", json!("FULL"))], "emptyIndicatorCode"),
        case(DCSA_EQUIPMENT_TRANSPORT_CALL_REQUIRED, equipment_load, vec![set("/equipmentEventTypeCode", json!("STUF")), remove("/transportCall")], vec![remove("/transportCall")], "transportCall"),
        case(DCSA_EQUIPMENT_TRANSPORT_CALL_REQUIRED, equipment_load, vec![set("/equipmentEventTypeCode", json!("DISC"))], vec![set("/equipmentEventTypeCode", json!("DISC")), set("/transportCall", Value::Null)], "transportCall"),
        case(DCSA_EQUIPMENT_LOCATION_REQUIRED, equipment_gate_in, vec![set("/equipmentEventTypeCode", json!("GTOT"))], vec![remove("/eventLocation")], "eventLocation"),
        case(DCSA_EQUIPMENT_LOCATION_REQUIRED, equipment_gate_in, vec![set("/equipmentEventTypeCode", json!("INSP")), remove("/eventLocation")], vec![set("/equipmentEventTypeCode", json!("GTOT")), remove("/eventLocation")], "eventLocation"),
        case(DCSA_ISO_EQUIPMENT_CODE_LENGTH, equipment_load, vec![set("/ISOEquipmentCode", json!("45R1"))], vec![set("/ISOEquipmentCode", json!("22G1X"))], "ISOEquipmentCode"),
        // TNT 2.2.0 `equipmentReference`: maxLength 15; non-ISO references are allowed.
        case(DCSA_EQUIPMENT_REFERENCE_LENGTH, equipment_load, vec![set("/equipmentReference", json!("NONISO-TRLR-015"))], vec![set("/equipmentReference", json!("NONISO-TRLR-0016"))], "equipmentReference"),
        case(DCSA_EQUIPMENT_REFERENCE_LENGTH, equipment_load, vec![set("/equipmentReference", json!("APZU48120901"))], vec![set("/equipmentReference", json!(4812090))], "equipmentReference"),
        case(DCSA_TRANSPORT_DOCUMENT_REFERENCE_LENGTH, shipment_issued, vec![set("/documentID", long(20))], vec![set("/documentID", long(21))], "documentID"),
        case(DCSA_TRANSPORT_DOCUMENT_REFERENCE_LENGTH, equipment_load, vec![], vec![set("/documentReferences/1/documentReferenceValue", long(21))], "documentReferences[1].documentReferenceValue"),
        case(DCSA_TRANSPORT_DOCUMENT_REFERENCE_LENGTH, letter_of_credit, vec![], vec![set("/transportDocumentReference", json!(""))], "transportDocumentReference"),
        case(DCSA_TRANSPORT_DOCUMENT_REFERENCE_LENGTH, ebl_transfer, vec![], vec![set("/transportDocumentReference", long(21))], "transportDocumentReference"),
        case(DCSA_CARRIER_BOOKING_REFERENCE_LENGTH, equipment_load, vec![set("/documentReferences/0/documentReferenceValue", long(35))], vec![set("/documentReferences/0/documentReferenceValue", long(36))], "documentReferences[0].documentReferenceValue"),
        case(DCSA_CARRIER_BOOKING_REFERENCE_LENGTH, shipment_issued, vec![set("/documentTypeCode", json!("BKG")), set("/documentID", long(35))], vec![set("/documentTypeCode", json!("BKG")), set("/documentID", long(36))], "documentID"),
        case(DCSA_CARRIER_SERVICE_CODE_LENGTH, equipment_load, vec![set("/transportCall/carrierServiceCode", json!("FE1"))], vec![set("/transportCall/carrierServiceCode", json!("AEU123"))], "transportCall.carrierServiceCode"),
        case(DCSA_VESSEL_IMO, equipment_load, vec![set("/transportCall/vessel/vesselIMONumber", json!("9811000"))], vec![set("/transportCall/vessel/vesselIMONumber", json!("932148"))], "transportCall.vessel.vesselIMONumber"),
        case(DCSA_VESSEL_IMO, transport_arrival, vec![], vec![set("/transportCall/vessel/vesselIMONumber", json!(9321483))], "transportCall.vessel.vesselIMONumber"),
        case(DCSA_VESSEL_IMO, transport_arrival, vec![], vec![set("/transportCall/vessel/vesselIMONumber", json!("93214830"))], "transportCall.vessel.vesselIMONumber"),
        case(DCSA_MODE_OF_TRANSPORT, equipment_load, vec![set("/transportCall/modeOfTransport", json!("BARGE"))], vec![set("/transportCall/modeOfTransport", json!("SHIP"))], "transportCall.modeOfTransport"),
        // ISO 6346.
        case(ISO6346_FORMAT, equipment_load, vec![set("/equipmentReference", json!("GYOU4047990"))], vec![set("/equipmentReference", json!("CSQX3054383"))], "equipmentReference"),
        // Not the ISO shape (lower case, 10 characters): a non-ISO reference, accepted.
        case(ISO6346_FORMAT, equipment_load, vec![set("/equipmentReference", json!("csqu3054383")), set("/equipmentReference", json!("CSQU305438"))], vec![set("/equipmentReference", json!("CSQA3054383"))], "equipmentReference"),
        case(ISO6346_CHECK_DIGIT, equipment_load, vec![set("/equipmentReference", json!("CSQU3054383"))], vec![set("/equipmentReference", json!("CSQU3054384"))], "equipmentReference"),
        case(ISO6346_CHECK_DIGIT, equipment_gate_in, vec![set("/equipmentReference", json!("NARU3472484"))], vec![set("/equipmentReference", json!("NARU3472485"))], "equipmentReference"),
        // UN/LOCODE.
        case(UNLOCODE_PATTERN, equipment_load, vec![set("/eventLocation/UNLocationCode", json!("CNCWN"))], vec![set("/eventLocation/UNLocationCode", json!("CNSH1"))], "eventLocation.UNLocationCode"),
        case(UNLOCODE_PATTERN, equipment_load, vec![], vec![set("/transportCall/location/UNLocationCode", json!("cnshk"))], "transportCall.location.UNLocationCode"),
        case(UNLOCODE_PATTERN, transport_arrival, vec![set("/transportCall/UNLocationCode", json!("GRPIR"))], vec![set("/transportCall/UNLocationCode", json!("NL RTM"))], "transportCall.UNLocationCode"),
        case(UNLOCODE_PATTERN, letter_of_credit, vec![set("/portOfLoading", json!("CNSHA"))], vec![set("/portOfLoading", json!("SHEKOU"))], "portOfLoading"),
        case(UNLOCODE_PATTERN, letter_of_credit, vec![remove("/portOfDischarge")], vec![set("/portOfDischarge", json!("NLRT0"))], "portOfDischarge"),
        case(UNLOCODE_PATTERN, equipment_load, vec![], vec![set("/eventLocation/UNLocationCode", json!("CNSHKA"))], "eventLocation.UNLocationCode"),
        // XY: the country of DCSA's conformance examples of wrong attribute values.
        case(UNLOCODE_COUNTRY, transport_arrival, vec![set("/transportCall/UNLocationCode", json!("FRPAR"))], vec![set("/transportCall/UNLocationCode", json!("XYABC"))], "transportCall.UNLocationCode"),
        case(UNLOCODE_COUNTRY, letter_of_credit, vec![set("/portOfLoading", json!("GBLON"))], vec![set("/portOfLoading", json!("UKLON"))], "portOfLoading"),
        // On the UN/LOCODE 2023-1 list: CNSUD (Shunde Pt) is; CNQXZ is well-formed but not;
        // BGGTB (General-Toshevo) and MDVLC (Vulcanesti) are marked for deletion ("X").
        case(UNLOCODE_UNKNOWN, transport_arrival, vec![set("/transportCall/UNLocationCode", json!("CNSUD"))], vec![set("/transportCall/UNLocationCode", json!("CNQXZ"))], "transportCall.UNLocationCode"),
        case(UNLOCODE_UNKNOWN, equipment_load, vec![set("/eventLocation/UNLocationCode", json!("HKHKG"))], vec![set("/eventLocation/UNLocationCode", json!("BGGTB"))], "eventLocation.UNLocationCode"),
        case(UNLOCODE_UNKNOWN, letter_of_credit, vec![set("/portOfDischarge", json!("CNCWN"))], vec![set("/portOfDischarge", json!("MDVLC"))], "portOfDischarge"),
        // Money.
        case(ISO4217_CURRENCY, letter_of_credit, vec![set("/amount/currency", json!("CNY"))], vec![set("/amount/currency", json!("CNH"))], "amount.currency"),
        case(ISO4217_CURRENCY, freight_invoice, vec![set("/amount/currency", json!("HKD"))], vec![set("/amount/currency", json!("usd"))], "amount.currency"),
        case(ISO4217_CURRENCY, settlement, vec![set("/interbankSettlementAmount/currency", json!("EUR"))], vec![set("/interbankSettlementAmount/currency", json!("XAU"))], "interbankSettlementAmount.currency"),
        case(ISO4217_CURRENCY, freight_invoice, vec![set("/amount/currency", json!("XCG"))], vec![set("/amount/currency", json!("HRK"))], "amount.currency"),
        // Withdrawn by ISO 4217 list three (SLL: 2023-12; HRK: 2023-01): accepted for an
        // event dated, in UTC, before the month, refused from its first day.
        case(ISO4217_CURRENCY, freight_invoice, vec![set("/eventDateTime", json!("2023-12-01T07:59:59+08:00")), set("/amount/currency", json!("SLL"))], vec![set("/eventDateTime", json!("2023-12-01T08:00:00+08:00")), set("/amount/currency", json!("SLL"))], "amount.currency"),
        case(ISO4217_CURRENCY, settlement, vec![set("/eventDateTime", json!("2022-12-31T23:00:00Z")), set("/interbankSettlementAmount/currency", json!("HRK"))], vec![set("/eventDateTime", json!("2023-01-01T00:00:00Z")), set("/interbankSettlementAmount/currency", json!("HRK"))], "interbankSettlementAmount.currency"),
        case(ISO4217_PRECISION, letter_of_credit, vec![set("/amount", json!({"currency": "JPY", "value": 18_500_000, "exponent": 0}))], vec![set("/amount", json!({"currency": "JPY", "value": 18_500_000, "exponent": 2}))], "amount.exponent"),
        case(ISO4217_PRECISION, freight_invoice, vec![set("/amount", json!({"currency": "KWD", "value": 75_500, "exponent": 3}))], vec![set("/amount", json!({"currency": "KWD", "value": 75_500, "exponent": 2}))], "amount.exponent"),
        case(ISO4217_PRECISION, settlement, vec![set("/interbankSettlementAmount/exponent", json!(2))], vec![set("/interbankSettlementAmount/exponent", json!(3))], "interbankSettlementAmount.exponent"),
        case(ISO4217_PRECISION, settlement, vec![set("/interbankSettlementAmount", json!({"currency": "BHD", "value": 1, "exponent": 3}))], vec![set("/interbankSettlementAmount/exponent", json!(2.0))], "interbankSettlementAmount.exponent"),
        case(MONEY_NOT_INTEGER, letter_of_credit, vec![set("/amount/value", json!(1250))], vec![set("/amount/value", json!(12.5))], "amount.value"),
        case(MONEY_NOT_INTEGER, freight_invoice, vec![], vec![set("/amount/value", json!("245000"))], "amount.value"),
        case(MONEY_NOT_INTEGER, settlement, vec![], vec![set("/interbankSettlementAmount/value", json!(2450.0))], "interbankSettlementAmount.value"),
        case(MONEY_NEGATIVE, freight_invoice, vec![set("/amount/value", json!(0))], vec![set("/amount/value", json!(-1))], "amount.value"),
        case(MONEY_DIGITS, letter_of_credit, vec![set("/amount/value", json!(999_999_999_999_999_999_u64))], vec![set("/amount/value", json!(1_000_000_000_000_000_000_u64))], "amount.value"),
        // ISO 20022.
        case(ISO20022_END_TO_END_ID, settlement, vec![set("/endToEndId", json!("NOTPROVIDED"))], vec![set("/endToEndId", long(36))], "endToEndId"),
        case(ISO20022_END_TO_END_ID, settlement, vec![set("/endToEndId", long(35))], vec![set("/endToEndId", json!(""))], "endToEndId"),
        case(ISO20022_UETR, settlement, vec![set("/uetr", json!("00000000-0000-4000-8000-000000000000"))], vec![set("/uetr", json!("EB6305C9-1F7F-49DE-AED0-16487C27B42D"))], "uetr"),
        case(ISO20022_UETR, settlement, vec![], vec![set("/uetr", json!("eb6305c9-1f7f-19de-aed0-16487c27b42d"))], "uetr"),
        case(ISO20022_BIC, settlement, vec![set("/debtorAgentBIC", json!("ABNANL2AXXX"))], vec![set("/debtorAgentBIC", json!("ABNANL2"))], "debtorAgentBIC"),
        case(ISO20022_BIC, settlement, vec![set("/creditorAgentBIC", json!("ICBKCNBJ"))], vec![set("/creditorAgentBIC", json!("ICBK1NBJ"))], "creditorAgentBIC"),
        case(ISO20022_CHARGE_BEARER, settlement, vec![set("/chargeBearer", json!("DEBT"))], vec![set("/chargeBearer", json!("OUR"))], "chargeBearer"),
        case(ISO20022_STATUS, settlement, vec![set("/status", json!("PDNG"))], vec![set("/status", json!("SETTLED"))], "status"),
        case(ISO20022_REJECTION_REASON, settlement, vec![set("/status", json!("RJCT")), set("/statusReason", json!("AC04"))], vec![set("/status", json!("RJCT"))], "statusReason"),
        case(ISO20022_REJECTION_REASON, settlement, vec![set("/status", json!("PDNG")), set("/statusReason", json!("NARR"))], vec![set("/status", json!("RJCT")), set("/statusReason", json!("insufficient funds"))], "statusReason"),
        // MT700.
        case(MT700_CREDIT_NUMBER, letter_of_credit, vec![set("/creditNumber", json!("LC/2024-0001.A+B"))], vec![set("/creditNumber", json!("LC2024SZX00012345"))], "creditNumber"),
        case(MT700_CREDIT_NUMBER, letter_of_credit, vec![], vec![set("/creditNumber", json!("LC_2024"))], "creditNumber"),
        case(MT700_CREDIT_NUMBER, letter_of_credit, vec![], vec![set("/creditNumber", json!("/LC2024"))], "creditNumber"),
        case(MT700_CREDIT_NUMBER, letter_of_credit, vec![], vec![set("/creditNumber", json!("LC//2024"))], "creditNumber"),
        case(MT700_KIND, letter_of_credit, vec![set("/kind", json!("DOCS_PRESENTED"))], vec![set("/kind", json!("OPENED"))], "kind"),
        case(MT700_EXPIRY_AFTER_ISSUE, letter_of_credit, vec![set("/expiryDate", json!("2024-04-21"))], vec![set("/expiryDate", json!("2024-04-20"))], "expiryDate"),
        case(INVOICE_DUE_DATE, freight_invoice, vec![set("/dueDate", json!("2024-05-04"))], vec![set("/dueDate", json!("2024-05-03"))], "dueDate"),
        // eBL and PINT.
        case(EBL_DOCUMENT_STATUS, ebl_transfer, vec![set("/transportDocumentStatus", json!("SURRENDERED_FOR_DELIVERY"))], vec![set("/transportDocumentStatus", json!("SURRENDER_FOR_DELIVERY"))], "transportDocumentStatus"),
        case(EBL_DOCUMENT_STATUS, ebl_transfer, vec![set("/transportDocumentStatus", json!("VOIDED"))], vec![set("/transportDocumentStatus", json!("VOID"))], "transportDocumentStatus"),
        case(EBL_ACTION, ebl_transfer, vec![set("/action", json!("ENDORSE_TO_ORDER"))], vec![set("/action", json!("ASSIGN"))], "action"),
        case(EBL_ACTION, ebl_transfer, vec![], vec![set("/transferChain/0", json!("ISSUED"))], "transferChain[0]"),
        case(EBL_ACTION, ebl_transfer, vec![], vec![set("/transferChain/1", json!(7))], "transferChain[1]"),
        case(EBL_CHAIN_START, ebl_transfer, vec![set("/action", json!("ISSUE")), set("/transferChain", json!([]))], vec![set("/transferChain", json!(["TRANSFER"]))], "transferChain[0]"),
        case(EBL_CHAIN_START, ebl_transfer, vec![remove("/transferChain")], vec![set("/transferChain", json!([]))], "action"),
        case(EBL_CHAIN_START, ebl_transfer, vec![], vec![set("/transferChain", json!(["ISSUE", "ISSUE"]))], "transferChain[1]"),
        case(EBL_CHAIN_START, ebl_transfer, vec![], vec![set("/action", json!("ISSUE"))], "action"),
        case(EBL_AFTER_SACC, ebl_transfer, vec![set("/transferChain", json!(["ISSUE", "TRANSFER", "SURRENDER_FOR_DELIVERY"])), set("/action", json!("SACC"))], vec![set("/transferChain", json!(["ISSUE", "SURRENDER_FOR_DELIVERY", "SACC"]))], "action"),
        case(EBL_AFTER_SACC, ebl_transfer, vec![set("/transferChain", json!(["ISSUE", "SURRENDER_FOR_DELIVERY", "SREJ"]))], vec![set("/transferChain", json!(["ISSUE", "SURRENDER_FOR_DELIVERY", "SACC", "TRANSFER"]))], "transferChain[3]"),
        case(EBL_PARTY, ebl_transfer, vec![set("/sender/eblPlatform", json!("IDT"))], vec![set("/sender/identifyingCodes", json!([]))], "sender.identifyingCodes"),
        case(EBL_PARTY, ebl_transfer, vec![], vec![set("/recipient/eblPlatform", json!("BOLERO"))], "recipient.eblPlatform"),
        case(EBL_PARTY, ebl_transfer, vec![], vec![set("/recipient", json!("Rotterdam Home Goods B.V."))], "recipient"),
        case(EBL_PARTY, ebl_transfer, vec![set("/sender/taxLegalReferences", json!([{"type": "CVR", "countryCode": "DK", "value": "33991282"}]))], vec![set("/sender/taxLegalReferences", json!([{"type": "CVR", "countryCode": "dk", "value": "33991282"}]))], "sender.taxLegalReferences[0].countryCode"),
        case(EVENT_REQUIRED, ebl_transfer, vec![set("/sender/representedParty", json!({"partyName": "Rotterdam Home Goods B.V."}))], vec![set("/sender/representedParty", json!({"identifyingCodes": []}))], "sender.representedParty.partyName"),
        case(EBL_RECIPIENT, ebl_transfer, vec![set("/action", json!("SIGN")), remove("/recipient")], vec![set("/action", json!("SIGN"))], "recipient"),
        case(EBL_RECIPIENT, ebl_transfer, vec![set("/action", json!("SURRENDER_FOR_DELIVERY"))], vec![remove("/recipient")], "recipient"),
        case(EBL_RECIPIENT, ebl_transfer, vec![set("/transferChain", json!(["ISSUE", "SURRENDER_FOR_DELIVERY"])), set("/action", json!("SACC")), remove("/recipient")], vec![set("/action", json!("BLANK_ENDORSE"))], "recipient"),
    ]);
    all
}

#[test]
fn every_base_event_is_accepted() {
    for base in [
        equipment_load,
        equipment_gate_in,
        transport_arrival,
        shipment_issued,
        customs_release,
        letter_of_credit,
        freight_invoice,
        settlement,
        ebl_transfer,
    ] {
        let v = base();
        if let Err(r) = validate(&v) {
            panic!("{} refused: {r}", v["eventType"]);
        }
    }
}

#[test]
fn each_rule_passes_its_valid_example_and_refuses_its_invalid_one() {
    for (i, c) in cases().iter().enumerate() {
        let good = edited(c.base, &c.pass);
        if let Err(r) = validate(&good) {
            panic!("case {i} ({}): the valid example was {r}", c.rule);
        }
        let bad = edited(c.base, &c.fail);
        match check(&bad, &c.options).map(|v| v.event) {
            Ok(_) => panic!("case {i} ({}): the invalid example was accepted", c.rule),
            Err(r) => {
                assert_eq!(
                    (r.rule, r.field.as_str()),
                    (c.rule, c.field),
                    "case {i}: {r}"
                );
                let first = r.message.chars().next().unwrap();
                assert!(
                    !first.is_ascii_uppercase(),
                    "case {i}: message not lowercase: {r}"
                );
                assert!(!r.message.ends_with('.'), "case {i}: trailing period: {r}");
            }
        }
    }
}

#[test]
fn every_rule_has_a_case_and_every_case_a_listed_rule() {
    let cases = cases();
    let elsewhere = super::tests_tnt::RULES_TESTED_ELSEWHERE;
    for rule in rules::ALL {
        assert!(
            cases.iter().any(|c| c.rule == rule.id)
                || elsewhere.iter().any(|(id, _)| *id == rule.id),
            "no case for {}",
            rule.id
        );
    }
    for c in &cases {
        assert!(rules::find(c.rule).is_some(), "{} is not listed", c.rule);
    }
    let mut ids: Vec<_> = rules::ALL.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), rules::ALL.len(), "rule ids are unique");
}

#[test]
fn the_module_documentation_lists_every_rule() {
    let doc = include_str!("mod.rs");
    let rows: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("//! | `"))
        .filter_map(|l| l.split('`').next())
        .filter(|id| id.contains('.'))
        .collect();
    let ids: Vec<&str> = rules::ALL.iter().map(|r| r.id).collect();
    assert_eq!(rows, ids, "the rule table in mod.rs and rules::ALL differ");
    for rule in rules::ALL {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("//! | `{}` |", rule.id)))
            .unwrap();
        assert!(
            row.contains(rule.section),
            "{}: section differs from rules.rs",
            rule.id
        );
    }
}

// ------------------------------------------------------------ typed views

#[test]
fn a_realistic_dcsa_equipment_event_is_accepted_unchanged() {
    let original = equipment_load();
    let event = validate(&original).unwrap();
    assert_eq!(event.json(), &original, "kept as received");
    let PortEvent::Equipment(e) = &event else {
        panic!("not equipment: {event:?}")
    };
    assert_eq!(
        e.activity,
        EquipmentActivity::Equipment(EquipmentEventTypeCode::Load)
    );
    assert_eq!(e.empty_indicator, Some(EmptyIndicator::Laden));
    assert_eq!(e.classifier, EventClassifier::Act);
    assert_eq!(e.version, DcsaVersion::V2_2);
    assert_eq!(
        e.equipment_reference
            .as_ref()
            .map(|r| r.to_string())
            .as_deref(),
        Some("APZU4812090")
    );
    assert_eq!(e.iso_equipment_code.as_deref(), Some("22GP"));
    let call = e.transport_call.as_ref().unwrap();
    assert_eq!(call.mode_of_transport, ModeOfTransport::Vessel);
    assert_eq!(call.vessel_imo_number.as_deref(), Some("9321483"));
    assert_eq!(call.carrier_service_code.as_deref(), Some("AEU1"));
    assert_eq!(
        e.header.event_id.to_string(),
        "84db923d-2a19-4eb0-beb5-446c1ec57d34"
    );
    assert_eq!(event.kind_label(), "EQUIPMENT/LOAD");
    assert_eq!(event.app(), light_clients::App::Cargo);
    assert_eq!(
        event.container().map(|c| c.to_string()).as_deref(),
        Some("APZU4812090")
    );
}

#[test]
fn dcsa_events_tolerate_nulls_and_deprecated_fields() {
    let mut v = transport_arrival();
    v["delayReasonCode"] = Value::Null;
    v["changeRemark"] = Value::Null;
    v["transportCallID"] = json!("c2b3a1de-0f3e-4a55-9a5c-7a7c6a0e2f11");
    v["eventTypeCode"] = json!("ARRI");
    v["documentReferences"] =
        json!([{"documentReferenceType": "BKG (Booking)", "documentReferenceValue": "ABC709951"}]);
    let PortEvent::Transport(e) = validate(&v).unwrap() else {
        panic!("not transport")
    };
    assert_eq!(e.change_remark, None);
    assert_eq!(e.delay_reason_code, None);
}

#[test]
fn kind_labels() {
    let label = |v: Value| validate(&v).unwrap().kind_label();
    assert_eq!(label(equipment_gate_in()), "EQUIPMENT/GTIN");
    assert_eq!(label(transport_arrival()), "TRANSPORT/ARRI");
    assert_eq!(label(shipment_issued()), "SHIPMENT/TRD/ISSU");
    assert_eq!(label(customs_release()), "SHIPMENT/CUS/RELS");
    assert_eq!(label(letter_of_credit()), "LETTER_OF_CREDIT/ISSUED");
    assert_eq!(label(freight_invoice()), "FREIGHT_INVOICE");
    assert_eq!(label(settlement()), "PAYMENT_SETTLEMENT/ACSC");
    assert_eq!(label(ebl_transfer()), "EBL_TRANSFER/TRANSFER");
}

#[test]
fn apps() {
    use light_clients::App;
    let app = |v: Value| validate(&v).unwrap().app();
    assert_eq!(app(shipment_issued()), App::Cargo);
    assert_eq!(app(transport_arrival()), App::Cargo);
    assert_eq!(app(equipment_load()), App::Cargo);
    assert_eq!(app(letter_of_credit()), App::Payment);
    assert_eq!(app(freight_invoice()), App::Payment);
    assert_eq!(app(settlement()), App::Payment);
    assert_eq!(app(ebl_transfer()), App::Ebl);
}

#[test]
fn ports_are_normalised_and_listed_once() {
    let ports = |v: Value| -> Vec<String> {
        validate(&v)
            .unwrap()
            .ports()
            .iter()
            .map(|p| p.to_string())
            .collect()
    };
    assert_eq!(ports(equipment_load()), ["CNSHK"]);
    let mut chiwan = equipment_load();
    chiwan["eventLocation"]["UNLocationCode"] = json!("CNCWN");
    assert_eq!(ports(chiwan), ["CNSHK"], "Chiwan is Shekou");
    let mut shanghai = equipment_load();
    shanghai["transportCall"]["UNLocationCode"] = json!("CNSHA");
    assert_eq!(ports(shanghai), ["CNSHK", "CNSHA"], "CNSHA is kept");
    assert_eq!(ports(transport_arrival()), ["NLRTM"]);
    assert_eq!(ports(letter_of_credit()), ["CNSHK", "NLRTM"]);
    assert!(ports(customs_release()).is_empty());
    assert!(ports(settlement()).is_empty());
}

#[test]
fn typed_payment_and_ebl_views() {
    let PortEvent::LetterOfCredit(lc) = validate(&letter_of_credit()).unwrap() else {
        panic!()
    };
    assert_eq!(lc.amount.to_string(), "USD 185000.00");
    assert_eq!(lc.expiry_date.to_string(), "2024-08-31");
    let PortEvent::PaymentSettlement(s) = validate(&settlement()).unwrap() else {
        panic!()
    };
    assert_eq!(s.status, PaymentStatus::Acsc);
    assert_eq!(s.interbank_settlement_amount.value, 245_000);
    assert_eq!(s.uetr.get_version_num(), 4);
    let PortEvent::EblTransfer(t) = validate(&ebl_transfer()).unwrap() else {
        panic!()
    };
    assert_eq!(t.transfer_chain, Some(vec![EblAction::Issue]));
    assert_eq!(
        t.sender.identifying_codes[0].code_list_name.as_deref(),
        Some("LEI")
    );
    assert_eq!(t.recipient.map(|r| r.ebl_platform).as_deref(), Some("BOLE"));
}

#[test]
fn refusals_display_rule_field_and_message() {
    let mut v = equipment_load();
    v["equipmentReference"] = json!("CSQU3054384");
    let r = validate(&v).unwrap_err();
    assert_eq!(
        r.to_string(),
        "refused: iso6346.check_digit at equipmentReference: \"CSQU3054384\": check digit is 4, ISO 6346 gives 3"
    );
}

#[test]
fn the_example_files_are_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/events");
    let mut seen = 0;
    for name in ["journey.json", "payments.ndjson", "ebl.json"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let events: Vec<Value> = if name.ends_with(".ndjson") {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        } else {
            serde_json::from_str(&text).unwrap()
        };
        for (i, e) in events.iter().enumerate() {
            if let Err(r) = validate(e) {
                panic!("{name}:{}: {r}", i + 1);
            }
            seen += 1;
        }
    }
    assert!(seen >= 10, "{seen} example events");
}

// ------------------------------------------------------------ robustness

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "[A-Z0-9 ./-]{0,24}".prop_map(Value::String),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer inside `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

proptest! {
    /// Any value at any place of any valid event gives a verdict, never a panic,
    /// and a refusal always names a listed rule.
    #[test]
    fn mutated_events_never_panic(base in 0usize..10, which in any::<prop::sample::Index>(), value in any_json()) {
        let bases = [
            equipment_load, equipment_gate_in, transport_arrival, shipment_issued, customs_release,
            letter_of_credit, freight_invoice, settlement, ebl_transfer,
            super::tests_customs::declaration,
        ];
        let mut v = bases[base]();
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let pointer = which.get(&all).clone();
        *v.pointer_mut(&pointer).unwrap() = value;
        if let Err(r) = validate(&v) {
            prop_assert!(rules::find(r.rule).is_some(), "{}", r);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(value in any_json()) {
        let _ = validate(&value);
    }
}
