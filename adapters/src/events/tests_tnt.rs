//! DCSA Track & Trace 2.2 and 3.0 against DCSA's own published material.
//!
//! Sources of the example documents (copied as published, not edited):
//! - `docs/examples/events/dcsa/tnt22-conformance.json`: dcsaorg/Conformance-Gateway,
//!   `tnt/src/main/resources/standards/tnt/messages/tnt-220-response.json` (the
//!   T&T 2.2 conformance suite's valid response);
//! - `docs/examples/events/dcsa/tnt30-conformance.json`: the same repository,
//!   `tnt/src/main/resources/standards/tnt/messages/tnt-300-response.json` (one
//!   event of each T&T 3.0 class);
//! - the invalid 2.2 examples below: the same directory's
//!   `tnt-220-response-wrong-attribute-values.json`, `-wrong-date-times.json` and
//!   `-wrong-event-ids.json`;
//! - the lengths, enumerations and required fields: dcsaorg/DCSA-OpenAPI
//!   `tnt/v2/test/tnt_v2.2.0.yaml` and Conformance-Gateway's `TNT_v3.0.0.yaml`.

use serde_json::{json, Value};

use super::tests::{case, declared, long, remove, set, Case};
use super::*;

/// Rules whose valid and invalid examples are tests of their own rather than rows
/// of the case tables: the rule and the test.
pub(super) const RULES_TESTED_ELSEWHERE: &[(&str, &str)] = &[
    (
        rules::JSON_DUPLICATE_KEY,
        "strict::tests::duplicate_keys_are_refused_by_name_and_path, tests_tnt::duplicate_keys_in_dcsa_events",
    ),
    (
        rules::ISO6346_NON_ISO,
        "tests_tnt::non_iso_equipment_references_are_accepted_and_marked",
    ),
];

fn tnt22_conformance() -> Vec<Value> {
    serde_json::from_str(include_str!(
        "../../../docs/examples/events/dcsa/tnt22-conformance.json"
    ))
    .unwrap()
}

fn tnt30_conformance() -> Vec<Value> {
    let feed: Value = serde_json::from_str(include_str!(
        "../../../docs/examples/events/dcsa/tnt30-conformance.json"
    ))
    .unwrap();
    feed["events"].as_array().unwrap().clone()
}

fn v3_shipment() -> Value {
    tnt30_conformance()[0].clone()
}
fn v3_transport() -> Value {
    tnt30_conformance()[1].clone()
}
fn v3_equipment() -> Value {
    tnt30_conformance()[2].clone()
}
fn v3_iot() -> Value {
    tnt30_conformance()[3].clone()
}
fn v3_reefer() -> Value {
    tnt30_conformance()[4].clone()
}
fn v22_shipment() -> Value {
    tnt22_conformance()[1].clone()
}
fn v22_equipment() -> Value {
    tnt22_conformance()[2].clone()
}

/// The rows of the rule table whose base events are DCSA's own examples.
#[rustfmt::skip]
pub(super) fn cases() -> Vec<Case> {
    use rules::*;
    vec![
        // T&T 2.2 conformance events.
        case(DCSA_REQUIRED, v22_shipment, vec![remove("/eventID")], vec![remove("/eventCreatedDateTime")], "eventCreatedDateTime"),
        case(DCSA_CODE_VERSION, v22_shipment, vec![set("/shipmentEventTypeCode", json!("VOID"))], vec![set("/shipmentEventTypeCode", json!("PENC"))], "shipmentEventTypeCode"),
        case(DCSA_CODE_VERSION, v22_shipment, vec![], vec![set("/shipmentEventTypeCode", json!("CANC"))], "shipmentEventTypeCode"),
        // 2.3 corrected the 2.2 enumeration that held descriptions in its values.
        declared(DcsaVersion::V2_3, case(DCSA_CODE_VERSION, v22_equipment, vec![set("/documentReferences/0/documentReferenceType", json!("BKG (Booking)"))], vec![set("/documentReferences/0/documentReferenceType", json!("BKG (Booking)"))], "documentReferences[0].documentReferenceType")),
        case(DCSA_LENGTH, v22_equipment, vec![set("/eventLocation/locationName", long(100))], vec![set("/eventLocation/locationName", long(101))], "eventLocation.locationName"),
        case(DCSA_LENGTH, v22_equipment, vec![set("/transportCall/facilityCode", json!("ADT"))], vec![set("/transportCall/facilityCode", json!("ADT1234"))], "transportCall.facilityCode"),
        case(DCSA_LENGTH, v22_equipment, vec![], vec![set("/eventLocation/address/postCode", long(11))], "eventLocation.address.postCode"),
        case(DCSA_LENGTH, v22_shipment, vec![set("/references/0/referenceValue", long(100))], vec![set("/references/0/referenceValue", long(101))], "references[0].referenceValue"),
        case(DCSA_CODE, v22_equipment, vec![set("/transportCall/facilityTypeCode", json!("RAMP"))], vec![set("/transportCall/facilityTypeCode", json!("BERTH"))], "transportCall.facilityTypeCode"),
        case(DCSA_CODE, v22_shipment, vec![set("/references/0/referenceType", json!("PO"))], vec![set("/references/0/referenceType", json!("BL"))], "references[0].referenceType"),
        case(DCSA_CODE, v22_equipment, vec![], vec![set("/eventLocation/facilityCodeListProvider", json!("UNECE"))], "eventLocation.facilityCodeListProvider"),
        case(DCSA_UNKNOWN_FIELD, v22_shipment, vec![set("/carrierNote", long(1000))], vec![set("/carrierNote", long(1001))], "carrierNote"),
        case(DCSA_UNKNOWN_FIELD, v22_shipment, vec![set("/x", json!([[[[[[[[1]]]]]]]]))], vec![set("/x", json!([[[[[[[[[1]]]]]]]]]))], "x[0][0][0][0][0][0][0][0][0]"),
        case(DCSA_UNKNOWN_FIELD, v22_shipment, vec![set("/x", json!(vec![0; 100]))], vec![set("/x", json!(vec![0; 101]))], "x"),
        // A flat event declared 3.0, a nested one declared 2.2.
        declared(DcsaVersion::V3_0, case(DCSA_VERSION, v22_shipment, vec![], vec![], "eventType")),
        declared(DcsaVersion::V2_2, case(DCSA_VERSION, v3_shipment, vec![], vec![], "$")),
        // T&T 3.0 conformance events.
        case(DCSA_REQUIRED, v3_shipment, vec![remove("/eventID")], vec![remove("/shipmentDetails/documentReference")], "shipmentDetails.documentReference"),
        case(DCSA_REQUIRED, v3_transport, vec![], vec![remove("/eventLocation")], "eventLocation"),
        case(DCSA_REQUIRED, v3_transport, vec![], vec![remove("/transportDetails/transportCall/vesselTransport")], "transportDetails.transportCall.vesselTransport"),
        case(DCSA_REQUIRED, v3_equipment, vec![remove("/equipmentDetails/emptyIndicatorCode")], vec![remove("/equipmentDetails/equipmentReference")], "equipmentDetails.equipmentReference"),
        case(DCSA_REQUIRED, v3_iot, vec![], vec![remove("/iotDetails/iotEventCode")], "iotDetails.iotEventCode"),
        case(DCSA_REQUIRED, v3_reefer, vec![], vec![remove("/reeferDetails")], "reeferDetails"),
        case(DCSA_REQUIRED, v3_equipment, vec![], vec![remove("/eventUpdatedDateTime")], "eventUpdatedDateTime"),
        case(DCSA_LENGTH, v3_shipment, vec![set("/eventID", long(500))], vec![set("/eventID", long(501))], "eventID"),
        case(DCSA_LENGTH, v3_shipment, vec![set("/eventDateTime", json!("2026-01-15T09:00:00.1234+08:00"))], vec![set("/eventDateTime", json!("2026-01-15T09:00:00.12345+08:00"))], "eventDateTime"),
        case(DCSA_LENGTH, v3_equipment, vec![set("/eventLocation/address/city", long(35))], vec![set("/eventLocation/address/city", long(36))], "eventLocation.address.city"),
        case(DCSA_CODE, v3_iot, vec![set("/iotDetails/iotEventCode", json!("DRO"))], vec![set("/iotDetails/iotEventCode", json!("DOOR"))], "iotDetails.iotEventCode"),
        case(DCSA_CODE, v3_reefer, vec![set("/reeferDetails/temperatureUnit", json!("FAH"))], vec![set("/reeferDetails/temperatureUnit", json!("KEL"))], "reeferDetails.temperatureUnit"),
        case(DCSA_CODE, v3_equipment, vec![set("/equipmentDetails/movementType", json!("TRANSSHIPMENT"))], vec![set("/equipmentDetails/movementType", json!("TRANSIT"))], "equipmentDetails.movementType"),
        case(DCSA_SHIPMENT_EVENT_TYPE_CODE, v3_shipment, vec![set("/eventClassification/shipmentEventTypeCode", json!("UPDT"))], vec![set("/eventClassification/shipmentEventTypeCode", json!("CONFIRMED"))], "eventClassification.shipmentEventTypeCode"),
        case(DCSA_DOCUMENT_TYPE_CODE, v3_shipment, vec![set("/shipmentDetails/documentReference/typeCode", json!("CUC"))], vec![set("/shipmentDetails/documentReference/typeCode", json!("CUS"))], "shipmentDetails.documentReference.typeCode"),
        case(DCSA_EQUIPMENT_EVENT_TYPE_CODE, v3_equipment, vec![set("/eventClassification/equipmentEventTypeCode", json!("AVPU"))], vec![set("/eventClassification/equipmentEventTypeCode", json!("HOLD"))], "eventClassification.equipmentEventTypeCode"),
        case(DCSA_CLASSIFIER, v3_transport, vec![set("/eventClassification/eventClassifierCode", json!("EST"))], vec![set("/eventClassification/eventClassifierCode", json!("REQ"))], "eventClassification.eventClassifierCode"),
        case(DCSA_MODE_OF_TRANSPORT, v3_transport, vec![set("/transportDetails/transportCall/modeOfTransport", json!("MULTIMODAL"))], vec![set("/transportDetails/transportCall/modeOfTransport", json!("SHIP"))], "transportDetails.transportCall.modeOfTransport"),
        case(DCSA_VESSEL_IMO, v3_transport, vec![set("/transportDetails/transportCall/vesselTransport/vesselIMONumber", json!("12345678"))], vec![set("/transportDetails/transportCall/vesselTransport/vesselIMONumber", json!("123456"))], "transportDetails.transportCall.vesselTransport.vesselIMONumber"),
        // 3.0 bounds `equipmentReference` at 11.
        case(DCSA_EQUIPMENT_REFERENCE_LENGTH, v3_iot, vec![set("/equipmentDetails/equipmentReference", json!("TRLR-000123"))], vec![set("/equipmentDetails/equipmentReference", json!("TRLR-0001234"))], "equipmentDetails.equipmentReference"),
        case(ISO6346_CHECK_DIGIT, v3_reefer, vec![], vec![set("/equipmentDetails/equipmentReference", json!("APZU4812091"))], "equipmentDetails.equipmentReference"),
        case(UNLOCODE_COUNTRY, v3_transport, vec![], vec![set("/eventLocation/UNLocationCode", json!("XYABC"))], "eventLocation.UNLocationCode"),
        case(UNLOCODE_UNKNOWN, v3_transport, vec![set("/eventLocation/UNLocationCode", json!("NLRTM"))], vec![set("/eventLocation/UNLocationCode", json!("NLRT2"))], "eventLocation.UNLocationCode"),
        case(DCSA_CHANGE_REMARK_LENGTH, v3_transport, vec![set("/transportDetails/changeRemark", long(250))], vec![set("/transportDetails/changeRemark", long(251))], "transportDetails.changeRemark"),
        case(DCSA_RETRACTED, v3_shipment, vec![set("/isRetracted", json!(false))], vec![set("/isRetracted", json!(true))], "isRetracted"),
        case(EVENT_DATE_TIME, v3_shipment, vec![], vec![set("/eventDateTime", json!("2026-01-15 09:00:00"))], "eventDateTime"),
        case(EVENT_DATE, v3_shipment, vec![set("/shipmentDetails/priceCalculationDate", json!("2025-01-23"))], vec![set("/shipmentDetails/priceCalculationDate", json!("2025-02-30"))], "shipmentDetails.priceCalculationDate"),
        case(EVENT_TYPE, v3_shipment, vec![], vec![set("/eventClassification/eventTypeCode", json!("CARGO"))], "eventClassification.eventTypeCode"),
        case(EVENT_FIELD_TYPE, v3_reefer, vec![], vec![set("/reeferDetails/internalSetpointTemperature", json!("-18.5"))], "reeferDetails.internalSetpointTemperature"),
    ]
}

fn warnings(v: &Value) -> Vec<&'static str> {
    check(v, &Options::default())
        .unwrap_or_else(|r| panic!("{r}"))
        .warnings
        .iter()
        .map(|w| w.rule)
        .collect()
}

#[test]
fn dcsas_2_2_conformance_response_is_accepted_and_its_shipment_dates_warned() {
    let events = tnt22_conformance();
    assert_eq!(events.len(), 7);
    for (i, e) in events.iter().enumerate() {
        let checked = check(e, &Options::default()).unwrap_or_else(|r| panic!("event {i}: {r}"));
        assert_eq!(checked.event.dcsa_version(), Some(DcsaVersion::V2_2));
        assert_eq!(checked.event.json(), e, "carried unchanged");
        let shipment = e["eventType"] == "SHIPMENT";
        let strict = check(
            e,
            &Options {
                strict: true,
                dcsa_version: None,
            },
        );
        if shipment {
            // Every SHIPMENT event of DCSA's own suite has eventDateTime != eventCreatedDateTime.
            assert_eq!(
                warnings(e),
                [rules::DCSA_SHIPMENT_EVENT_DATE_TIME],
                "event {i}"
            );
            let refused = strict.unwrap_err();
            assert_eq!(refused.rule, rules::DCSA_SHIPMENT_EVENT_DATE_TIME);
            assert_eq!(refused.field, "eventDateTime");
            assert!(
                refused.message.ends_with("(refused in strict mode)"),
                "{refused}"
            );
        } else {
            assert!(warnings(e).is_empty(), "event {i}");
            assert!(strict.is_ok(), "event {i}");
        }
    }
    let labels: Vec<String> = events
        .iter()
        .map(|e| validate(e).unwrap().kind_label())
        .collect();
    assert_eq!(
        labels,
        [
            "TRANSPORT/ARRI",
            "SHIPMENT/SHI/DRFT",
            "EQUIPMENT/LOAD",
            "TRANSPORT/ARRI",
            "SHIPMENT/BKG/DRFT",
            "EQUIPMENT/LOAD",
            "SHIPMENT/TRD/DRFT"
        ]
    );
}

#[test]
fn dcsas_2_2_conformance_counter_examples_are_refused_by_name() {
    // tnt-220-response-wrong-attribute-values.json.
    let wrong_values: Value = json!([
        {"eventCreatedDateTime": "2021-01-09T14:12:56Z", "eventType": "TRANSPORT", "eventClassifierCode": "ACT",
         "eventDateTime": "2021-01-09T14:12:56+01:00", "transportEventTypeCode": "DEPA",
         "transportCall": {"transportCallID": "6a1f0d3b-82be-46a1-aba8-509b7e3bd7a1", "carrierServiceCode": "FE1",
           "exportVoyageNumber": "1234W", "UNLocationCode": "XYABC", "modeOfTransport": "VESSEL",
           "location": {"UNLocationCode": "XYBCD"}, "vessel": {"vesselIMONumber": "1234567"}}},
        {"eventID": "3cecb101-7a1a-43a4-9d62-e88a131651e4", "eventCreatedDateTime": "2021-01-09T14:12:56Z",
         "eventType": "EQUIPMENT", "eventClassifierCode": "EST", "eventDateTime": "2019-11-12T07:41:00+08:30",
         "equipmentEventTypeCode": "RMVD", "equipmentReference": "APZU2134567", "emptyIndicatorCode": "EMPTY",
         "eventLocation": {"UNLocationCode": "XYABC"}}
    ]);
    let refusal = |v: &Value| {
        let r = validate(v).unwrap_err();
        (r.rule, r.field)
    };
    assert_eq!(
        refusal(&wrong_values[0]),
        (
            rules::UNLOCODE_COUNTRY,
            "transportCall.UNLocationCode".to_string()
        )
    );
    // Two faults: the location's country (checked with the schema, first) and the
    // check digit (APZU2134567's is 4).
    assert_eq!(
        refusal(&wrong_values[1]),
        (
            rules::UNLOCODE_COUNTRY,
            "eventLocation.UNLocationCode".to_string()
        )
    );
    let mut digit_only = wrong_values[1].clone();
    digit_only["eventLocation"]["UNLocationCode"] = json!("NLRTM");
    assert_eq!(
        refusal(&digit_only),
        (rules::ISO6346_CHECK_DIGIT, "equipmentReference".to_string())
    );
    // tnt-220-response-wrong-date-times.json, with the fields each case removes or spoils.
    let base = json!({"eventCreatedDateTime": "2021-01-01T14:12:56Z", "eventType": "SHIPMENT",
        "eventClassifierCode": "ACT", "eventDateTime": "2019-11-12T07:41:00+08:30",
        "shipmentEventTypeCode": "DRFT", "documentID": "reserved-HHL123", "documentTypeCode": "SHI"});
    let with = |key: &str, value: Option<Value>| {
        let mut v = base.clone();
        match value {
            Some(x) => v[key] = x,
            None => {
                v.as_object_mut().unwrap().remove(key);
            }
        }
        refusal(&v)
    };
    assert_eq!(with("eventCreatedDateTime", None).0, rules::DCSA_REQUIRED);
    assert_eq!(with("eventDateTime", None).0, rules::DCSA_REQUIRED);
    assert_eq!(
        with("eventCreatedDateTime", Some(json!("2021 01 01 14:12:56"))).0,
        rules::EVENT_DATE_TIME
    );
    assert_eq!(
        with("eventDateTime", Some(json!("2019/11/12 07:41:00 +08:30"))).0,
        rules::EVENT_DATE_TIME
    );
    // tnt-220-response-wrong-event-ids.json: a number and a word are not UUIDs.
    assert_eq!(
        with("eventID", Some(json!(123456789))).0,
        rules::EVENT_ID_UUID
    );
    assert_eq!(
        with("eventID", Some(json!("incorrect"))).0,
        rules::EVENT_ID_UUID
    );
    // Its "too early" / "too late" cases (creation in 1999, 2099) are checks of the
    // suite's clock, not of the schema: accepted, with the shipment date warning.
    let mut late = base.clone();
    late["eventCreatedDateTime"] = json!("2099-01-01T14:12:56Z");
    assert_eq!(warnings(&late), [rules::DCSA_SHIPMENT_EVENT_DATE_TIME]);
}

#[test]
fn dcsas_3_0_conformance_events_of_every_class_map_to_the_three_kinds() {
    let events = tnt30_conformance();
    let seen: Vec<(String, &str, Option<DcsaVersion>)> = events
        .iter()
        .map(|e| {
            let event = validate(e).unwrap_or_else(|r| panic!("{}: {r}", e["eventID"]));
            assert_eq!(event.json(), e, "carried unchanged");
            (event.kind_label(), event.event_type(), event.dcsa_version())
        })
        .collect();
    let v3 = Some(DcsaVersion::V3_0);
    assert_eq!(
        seen,
        [
            ("SHIPMENT/BKG/CONF".to_string(), "SHIPMENT", v3),
            ("TRANSPORT/DEPA".to_string(), "TRANSPORT", v3),
            ("EQUIPMENT/GTIN".to_string(), "EQUIPMENT", v3),
            ("EQUIPMENT/IOT_LOC".to_string(), "EQUIPMENT", v3),
            ("EQUIPMENT/REEFER_MEAS".to_string(), "EQUIPMENT", v3),
        ]
    );
    let PortEvent::Transport(t) = validate(&v3_transport()).unwrap() else {
        panic!("not transport")
    };
    assert_eq!(t.transport_call.mode_of_transport, ModeOfTransport::Vessel);
    assert!(
        t.header.event_id_derived,
        "evt-resp-trans-001 is not a UUID"
    );
    assert_eq!(
        t.header.created.to_string(),
        time::macros::datetime!(2025-01-25 01:23:45 UTC).to_string()
    );
    let PortEvent::Equipment(e) = validate(&v3_equipment()).unwrap() else {
        panic!("not equipment")
    };
    assert_eq!(e.empty_indicator, Some(EmptyIndicator::Empty));
    assert_eq!(
        validate(&v3_equipment())
            .unwrap()
            .container()
            .map(|c| c.to_string())
            .as_deref(),
        Some("APZU4812090")
    );
    assert_eq!(
        validate(&v3_transport()).unwrap().app(),
        light_clients::App::Cargo
    );
}

#[test]
fn a_mixed_feed_is_read_event_by_event_by_its_shape() {
    let text = include_str!("../../../docs/examples/events/dcsa/mixed.ndjson");
    let versions: Vec<DcsaVersion> = text
        .lines()
        .map(|l| {
            let v = strict::parse(l).unwrap();
            validate(&v)
                .unwrap_or_else(|r| panic!("{l}: {r}"))
                .dcsa_version()
                .unwrap()
        })
        .collect();
    assert_eq!(versions.len(), 12);
    assert_eq!(
        versions.iter().filter(|v| **v == DcsaVersion::V3_0).count(),
        5
    );
    assert_eq!(
        &versions[..4],
        [
            DcsaVersion::V2_2,
            DcsaVersion::V3_0,
            DcsaVersion::V2_2,
            DcsaVersion::V3_0
        ]
    );
}

#[test]
fn codes_after_2_2_need_their_version_declared() {
    let mut pending = v22_shipment();
    pending["shipmentEventTypeCode"] = json!("PENC");
    let r = validate(&pending).unwrap_err();
    assert_eq!(r.rule, rules::DCSA_CODE_VERSION);
    assert!(
        r.message
            .contains("arrived in T&T 2.3; this event is read as T&T 2.2"),
        "{r}"
    );
    let as_2_3 = Options {
        strict: false,
        dcsa_version: Some(DcsaVersion::V2_3),
    };
    assert!(check(&pending, &as_2_3).is_ok());
    // What a destination does with what a source accepted as 2.3.
    assert!(validate_relayed(&pending).is_ok());
    // 2.3's new reference types, too.
    let mut reference = v22_shipment();
    reference["references"][0]["referenceType"] = json!("BID");
    assert_eq!(
        validate(&reference).unwrap_err().rule,
        rules::DCSA_CODE_VERSION
    );
    assert!(check(&reference, &as_2_3).is_ok());
    // 2.3 bounds `reason` at 250 characters; 2.2 does not.
    let mut reason = v22_shipment();
    reason["reason"] = long(251);
    assert!(validate(&reason).is_ok());
    assert_eq!(
        check(&reason, &as_2_3).unwrap_err().rule,
        rules::DCSA_LENGTH
    );
}

#[test]
fn event_ids_are_optional_and_derived_stably() {
    let mut a = v22_shipment();
    a.as_object_mut().unwrap().remove("eventID");
    let id = |v: &Value| validate(v).unwrap().header().event_id;
    let first = id(&a);
    assert!(validate(&a).unwrap().header().event_id_derived);
    assert_eq!(first.get_version_num(), 8);
    assert_eq!(first, id(&a.clone()), "the same event, the same id");
    // Key order does not matter: the id is over the canonical JSON.
    let reordered: Value = serde_json::from_str(&{
        let mut pairs: Vec<_> = a.as_object().unwrap().iter().collect();
        pairs.reverse();
        let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{:?}:{v}", k)).collect();
        format!("{{{}}}", body.join(","))
    })
    .unwrap();
    assert_eq!(first, id(&reordered));
    let mut b = a.clone();
    b["documentID"] = json!("reserved-HHL124");
    assert_ne!(first, id(&b), "another event, another id");
    // 3.0: the composite key, so an update of the same event keeps its id.
    let mut update = v3_shipment();
    update["eventUpdatedDateTime"] = json!("2025-02-01T00:00:00Z");
    assert_eq!(id(&v3_shipment()), id(&update));
    let mut other_party = v3_shipment();
    other_party["eventRouting"]["originatingParty"]["partyCode"] = json!("MSK");
    assert_ne!(id(&v3_shipment()), id(&other_party));
    // A UUID eventID is used as it is.
    let mut uuid = v3_shipment();
    uuid["eventID"] = json!("3cecb101-7a1a-43a4-9d62-e88a131651e2");
    assert_eq!(
        id(&uuid).to_string(),
        "3cecb101-7a1a-43a4-9d62-e88a131651e2"
    );
}

#[test]
fn non_iso_equipment_references_are_accepted_and_marked() {
    let mut v = v22_equipment();
    v["equipmentReference"] = json!("TRLR 000123-A");
    let checked = check(
        &v,
        &Options {
            strict: true,
            dcsa_version: None,
        },
    )
    .unwrap();
    assert_eq!(checked.warnings.len(), 1);
    assert_eq!(checked.warnings[0].rule, rules::ISO6346_NON_ISO);
    assert_eq!(
        checked.warnings[0].to_string(),
        "warning: iso6346.non_iso at equipmentReference: \"TRLR 000123-A\" is not an ISO 6346 number; carried as a non-ISO reference"
    );
    let PortEvent::Equipment(e) = &checked.event else {
        panic!()
    };
    assert_eq!(
        e.equipment_reference,
        Some(EquipmentReference::NonIso("TRLR 000123-A".into()))
    );
    assert_eq!(checked.event.container(), None);
    // The ISO shape with a wrong check digit is not a non-ISO reference.
    v["equipmentReference"] = json!("APZU4812091");
    assert_eq!(validate(&v).unwrap_err().rule, rules::ISO6346_CHECK_DIGIT);
}

#[test]
fn duplicate_keys_in_dcsa_events() {
    let text = r#"{"eventType": "SHIPMENT", "eventID": "3cecb101-7a1a-43a4-9d62-e88a131651e3", "eventID": "3cecb101-7a1a-43a4-9d62-e88a131651e4"}"#;
    let e = strict::parse(text).unwrap_err();
    assert_eq!(e.rule(), Some(rules::JSON_DUPLICATE_KEY));
    assert!(e.to_string().contains("\"eventID\" appears twice"), "{e}");
    let nested =
        r#"{"eventClassification": {"eventTypeCode": "SHIPMENT", "eventTypeCode": "EQUIPMENT"}}"#;
    let e = strict::parse(nested).unwrap_err();
    assert!(
        e.to_string()
            .contains("in the object at eventClassification"),
        "{e}"
    );
    // Without duplicates the strict parse is serde_json's.
    let ok = serde_json::to_string(&v3_reefer()).unwrap();
    assert_eq!(strict::parse(&ok).unwrap(), v3_reefer());
}

#[test]
fn the_code_tables_and_the_enums_agree() {
    for c in tnt22::SHIPMENT_EVENT_TYPE_CODES
        .iter()
        .chain(tnt30::SHIPMENT_EVENT_TYPE_CODES)
    {
        assert!(ShipmentEventTypeCode::parse(c.code).is_some(), "{}", c.code);
    }
    for c in tnt22::DOCUMENT_TYPE_CODES
        .iter()
        .chain(tnt30::DOCUMENT_TYPE_CODES)
    {
        assert!(DocumentTypeCode::parse(c.code).is_some(), "{}", c.code);
    }
    for c in tnt22::EQUIPMENT_EVENT_TYPE_CODES
        .iter()
        .chain(tnt30::EQUIPMENT_EVENT_TYPE_CODES)
    {
        assert!(
            EquipmentEventTypeCode::parse(c.code).is_some(),
            "{}",
            c.code
        );
    }
    for c in tnt22::TRANSPORT_EVENT_TYPE_CODES
        .iter()
        .chain(tnt22::EVENT_CLASSIFIERS)
    {
        assert!(
            TransportEventTypeCode::parse(c.code).is_some()
                || EventClassifier::parse(c.code).is_some(),
            "{}",
            c.code
        );
    }
    assert!(tnt30::EVENT_TYPE_CODES.iter().any(|c| c.code == "REEFER"));
    assert_eq!(UNKNOWN_BOUNDS.string_chars, 1000);
}
