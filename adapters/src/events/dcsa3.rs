//! DCSA Track & Trace 3.0 events: held to the 3.0 schema (`tnt30.rs`) and mapped to
//! the same typed views as 2.x events, so apps, records and metrics see one model.
//!
//! | 3.0 `eventClassification.eventTypeCode` | view | from |
//! |---|---|---|
//! | SHIPMENT | [`ShipmentEvent`] | `shipmentEventTypeCode`; `shipmentDetails.documentReference` `typeCode`/`reference` as document type and id |
//! | TRANSPORT | [`TransportEvent`] | `transportEventTypeCode`; `transportDetails.transportCall`; `eventLocation` as the call's location |
//! | EQUIPMENT | [`EquipmentEvent`] | `equipmentEventTypeCode`; `equipmentDetails` |
//! | IOT | [`EquipmentEvent`] | `iotDetails.iotEventCode` as the activity `IOT_<code>` |
//! | REEFER | [`EquipmentEvent`] | `reeferEventTypeCode` as the activity `REEFER_<code>` |
//!
//! `eventUpdatedDateTime` stands for 2.x's `eventCreatedDateTime`. The schema marks
//! nothing required; what this module requires is what DCSA's conformance suite
//! checks (`TntChecks` of T&T 3.0.0), each refused as `dcsa.required`.

use serde_json::Value;

use super::codes::{
    DocumentTypeCode, EquipmentEventTypeCode, EventClassifier, IotEventCode, ModeOfTransport,
    ReeferEventTypeCode, ShipmentEventTypeCode, TransportEventTypeCode,
};
use super::dcsa::{
    document_reference_value, equipment_reference, known, known_req, location, unlocode,
    vessel_imo, EquipmentActivity, EquipmentEvent, ShipmentEvent, TransportCall, TransportEvent,
};
use super::json::Obj;
use super::schema::parse_uuid;
use super::{
    canonical_json, derived_event_id, rules, schema, tnt30, DcsaVersion, EventHeader, PortEvent,
    Refusal, Warning,
};

const V3: DcsaVersion = DcsaVersion::V3_0;

fn required(obj: &Obj<'_>, key: &str, why: &str) -> Refusal {
    Refusal::new(
        rules::DCSA_REQUIRED,
        obj.field(key),
        format!("missing; {why}"),
    )
}

/// A required nested object.
fn req_obj<'a>(obj: &Obj<'a>, key: &str, why: &str) -> Result<Obj<'a>, Refusal> {
    obj.opt_obj(key, rules::EVENT_FIELD_TYPE)?
        .ok_or_else(|| required(obj, key, why))
}

/// The event's id: its `eventID` when that is a UUID; otherwise derived from the
/// composite key T&T 3.0 names (originating party and `eventID`), or from the
/// whole event when it has no `eventID`.
fn event_id(obj: &Obj<'_>, json: &Value) -> Result<(uuid::Uuid, bool), Refusal> {
    let Some(id) = obj.opt_str("eventID", rules::EVENT_FIELD_TYPE)? else {
        return Ok((derived_event_id(&canonical_json(json)), true));
    };
    if let Some(uuid) = parse_uuid(id) {
        return Ok((uuid, false));
    }
    let mut seed = Vec::new();
    let party = obj
        .opt_obj("eventRouting", rules::EVENT_FIELD_TYPE)?
        .and_then(|r| {
            r.opt_obj("originatingParty", rules::EVENT_FIELD_TYPE)
                .ok()
                .flatten()
        });
    for key in ["partyCode", "codeListProvider", "codeListName"] {
        let part = match &party {
            Some(p) => p.opt_str(key, rules::EVENT_FIELD_TYPE)?.unwrap_or_default(),
            None => "",
        };
        seed.extend_from_slice(part.as_bytes());
        seed.push(0);
    }
    seed.extend_from_slice(id.as_bytes());
    Ok((derived_event_id(&seed), true))
}

/// Checks a T&T 3.0 event and maps it to its typed view.
pub(crate) fn event(
    obj: &Obj<'_>,
    json: &Value,
    warnings: &mut Vec<Warning>,
) -> Result<PortEvent, Refusal> {
    schema::check(json, &tnt30::EVENT, "", V3)?;
    if obj.get("isRetracted") == Some(&Value::Bool(true)) {
        return Err(Refusal::new(
            rules::DCSA_RETRACTED,
            obj.field("isRetracted"),
            "a retraction withdraws an earlier event and maps to no event kind; it is not relayed",
        ));
    }
    let (event_id, event_id_derived) = event_id(obj, json)?;
    let header = EventHeader {
        event_id,
        event_id_derived,
        created: obj.date_time("eventUpdatedDateTime", rules::DCSA_REQUIRED)?,
        event_date_time: obj.date_time("eventDateTime", rules::DCSA_REQUIRED)?,
    };
    let class = req_obj(obj, "eventClassification", "T&T 3.0 classifies every event")?;
    let classifier = known_req(
        &class,
        "eventClassifierCode",
        rules::DCSA_CLASSIFIER,
        EventClassifier::parse,
    )?;
    let type_code = class.req_str("eventTypeCode", rules::DCSA_REQUIRED, rules::EVENT_TYPE)?;
    match type_code {
        "SHIPMENT" => shipment(obj, &class, json, header, classifier).map(PortEvent::Shipment),
        "TRANSPORT" => transport(obj, &class, json, header, classifier).map(PortEvent::Transport),
        _ => equipment(obj, &class, type_code, json, header, classifier, warnings)
            .map(PortEvent::Equipment),
    }
}

fn shipment(
    obj: &Obj<'_>,
    class: &Obj<'_>,
    json: &Value,
    header: EventHeader,
    classifier: EventClassifier,
) -> Result<ShipmentEvent, Refusal> {
    let shipment_event_type = known(
        class,
        "shipmentEventTypeCode",
        rules::DCSA_SHIPMENT_EVENT_TYPE_CODE,
        ShipmentEventTypeCode::parse,
    )?
    .ok_or_else(|| required(class, "shipmentEventTypeCode", "a SHIPMENT event has one"))?;
    let details = req_obj(
        obj,
        "shipmentDetails",
        "a SHIPMENT event has shipment details",
    )?;
    let reference = req_obj(
        &details,
        "documentReference",
        "a SHIPMENT event names the document it is about",
    )?;
    let document_type = known_req(
        &reference,
        "typeCode",
        rules::DCSA_DOCUMENT_TYPE_CODE,
        DocumentTypeCode::parse,
    )?;
    let document_id =
        reference.req_nonempty("reference", rules::DCSA_REQUIRED, rules::EVENT_FIELD_TYPE)?;
    document_reference_value(&reference, document_type.as_str(), "reference")?;
    Ok(ShipmentEvent {
        version: V3,
        header,
        classifier,
        shipment_event_type,
        document_type,
        document_id: document_id.to_string(),
        json: json.clone(),
    })
}

/// The transport call of `details` (a `transportDetails` object), with the event's
/// location standing for the call's.
fn transport_call(
    obj: &Obj<'_>,
    details: &Obj<'_>,
    header: &EventHeader,
    require_means: bool,
) -> Result<Option<TransportCall>, Refusal> {
    let Some(call) = details.opt_obj("transportCall", rules::EVENT_FIELD_TYPE)? else {
        return Ok(None);
    };
    let vessel = call.opt_obj("vesselTransport", rules::EVENT_FIELD_TYPE)?;
    let rail = call.get("railTransport").is_some();
    let truck = call.get("truckTransport").is_some();
    if require_means && vessel.is_none() && !rail && !truck {
        return Err(required(
            &call,
            "vesselTransport",
            "a TRANSPORT event's call names its means: vesselTransport, railTransport or truckTransport",
        ));
    }
    let mode_of_transport = match known(
        &call,
        "modeOfTransport",
        rules::DCSA_MODE_OF_TRANSPORT,
        ModeOfTransport::parse,
    )? {
        Some(mode) => mode,
        None if vessel.is_some() => ModeOfTransport::Vessel,
        None if rail => ModeOfTransport::Rail,
        None if truck => ModeOfTransport::Truck,
        None => ModeOfTransport::Multimodal,
    };
    let vessel_imo_number = match &vessel {
        Some(v) => vessel_imo(v, "vesselIMONumber", 7..=8)?,
        None => None,
    };
    let nested_str = |outer: &str, inner: &str| -> Result<Option<String>, Refusal> {
        Ok(match call.opt_obj(outer, rules::EVENT_FIELD_TYPE)? {
            Some(o) => o
                .opt_str(inner, rules::EVENT_FIELD_TYPE)?
                .map(str::to_string),
            None => None,
        })
    };
    let transport_call_id = match call.opt_str("transportCallReference", rules::EVENT_FIELD_TYPE)? {
        Some(r) if !r.trim().is_empty() => r.to_string(),
        _ => match call.opt_str("portVisitReference", rules::EVENT_FIELD_TYPE)? {
            Some(r) if !r.trim().is_empty() => r.to_string(),
            _ => header.event_id.to_string(),
        },
    };
    let (un_location_code, location) =
        match obj.opt_obj("eventLocation", rules::EVENT_FIELD_TYPE)? {
            Some(loc) => (unlocode(&loc, "UNLocationCode")?, Some(location(&loc)?)),
            None => (None, None),
        };
    Ok(Some(TransportCall {
        transport_call_id,
        mode_of_transport,
        carrier_service_code: nested_str("serviceCodeOrReference", "carrierServiceCode")?,
        export_voyage_number: nested_str("exportVoyageNumberOrReference", "carrierVoyageNumber")?,
        un_location_code,
        location,
        vessel_imo_number,
    }))
}

fn transport(
    obj: &Obj<'_>,
    class: &Obj<'_>,
    json: &Value,
    header: EventHeader,
    classifier: EventClassifier,
) -> Result<TransportEvent, Refusal> {
    let transport_event_type = known(
        class,
        "transportEventTypeCode",
        rules::DCSA_TRANSPORT_EVENT_TYPE_CODE,
        TransportEventTypeCode::parse,
    )?
    .ok_or_else(|| required(class, "transportEventTypeCode", "a TRANSPORT event has one"))?;
    req_obj(
        obj,
        "eventLocation",
        "a TRANSPORT event says where it happened",
    )?;
    let details = req_obj(
        obj,
        "transportDetails",
        "a TRANSPORT event has transport details",
    )?;
    let transport_call = transport_call(obj, &details, &header, true)?.ok_or_else(|| {
        required(
            &details,
            "transportCall",
            "a TRANSPORT event has a transport call",
        )
    })?;
    let delay_reason_code = match details.opt_array("delayReasonCodes", rules::EVENT_FIELD_TYPE)? {
        Some((codes, _)) => codes.first().and_then(Value::as_str).map(str::to_string),
        None => None,
    };
    let change_remark = details
        .opt_str("changeRemark", rules::EVENT_FIELD_TYPE)?
        .map(str::to_string);
    Ok(TransportEvent {
        version: V3,
        header,
        classifier,
        transport_event_type,
        transport_call,
        delay_reason_code,
        change_remark,
        json: json.clone(),
    })
}

fn equipment(
    obj: &Obj<'_>,
    class: &Obj<'_>,
    type_code: &str,
    json: &Value,
    header: EventHeader,
    classifier: EventClassifier,
    warnings: &mut Vec<Warning>,
) -> Result<EquipmentEvent, Refusal> {
    let activity = match type_code {
        "EQUIPMENT" => EquipmentActivity::Equipment(
            known(
                class,
                "equipmentEventTypeCode",
                rules::DCSA_EQUIPMENT_EVENT_TYPE_CODE,
                EquipmentEventTypeCode::parse,
            )?
            .ok_or_else(|| {
                required(
                    class,
                    "equipmentEventTypeCode",
                    "an EQUIPMENT event has one",
                )
            })?,
        ),
        "IOT" => {
            if class.get("iotEventTypeCode").is_none() {
                return Err(required(class, "iotEventTypeCode", "an IOT event has one"));
            }
            let details = req_obj(obj, "iotDetails", "an IOT event has IoT details")?;
            EquipmentActivity::Iot(
                known(
                    &details,
                    "iotEventCode",
                    rules::DCSA_CODE,
                    IotEventCode::parse,
                )?
                .ok_or_else(|| {
                    required(
                        &details,
                        "iotEventCode",
                        "an IOT event says what the device reported",
                    )
                })?,
            )
        }
        _ => {
            req_obj(obj, "reeferDetails", "a REEFER event has reefer details")?;
            EquipmentActivity::Reefer(
                known(
                    class,
                    "reeferEventTypeCode",
                    rules::DCSA_CODE,
                    ReeferEventTypeCode::parse,
                )?
                .ok_or_else(|| required(class, "reeferEventTypeCode", "a REEFER event has one"))?,
            )
        }
    };
    let details = req_obj(
        obj,
        "equipmentDetails",
        "an equipment, IoT or reefer event names its equipment",
    )?;
    if details.get("equipmentReference").is_none() {
        return Err(required(
            &details,
            "equipmentReference",
            "DCSA's conformance suite requires it",
        ));
    }
    if details.get("ISOEquipmentCode").is_none() {
        return Err(required(
            &details,
            "ISOEquipmentCode",
            "DCSA's conformance suite requires it",
        ));
    }
    let equipment_reference = equipment_reference(&details, "equipmentReference", warnings)?;
    let empty_indicator = known(
        &details,
        "emptyIndicatorCode",
        rules::DCSA_EMPTY_INDICATOR,
        super::codes::EmptyIndicator::parse,
    )?;
    let iso_equipment_code = details
        .opt_str("ISOEquipmentCode", rules::EVENT_FIELD_TYPE)?
        .map(str::to_string);
    let event_location = match obj.opt_obj("eventLocation", rules::EVENT_FIELD_TYPE)? {
        Some(loc) => Some(location(&loc)?),
        None => None,
    };
    let transport_call = match obj.opt_obj("transportDetails", rules::EVENT_FIELD_TYPE)? {
        Some(t) => transport_call(obj, &t, &header, false)?,
        None => None,
    };
    if let EquipmentActivity::Equipment(
        code @ (EquipmentEventTypeCode::Gtin | EquipmentEventTypeCode::Gtot),
    ) = activity
    {
        if event_location.is_none() {
            return Err(Refusal::new(
                rules::DCSA_EQUIPMENT_LOCATION_REQUIRED,
                obj.field("eventLocation"),
                format!("a {code} event carries an event location"),
            ));
        }
    }
    Ok(EquipmentEvent {
        version: V3,
        header,
        classifier,
        activity,
        empty_indicator,
        equipment_reference,
        iso_equipment_code,
        event_location,
        transport_call,
        json: json.clone(),
    })
}
