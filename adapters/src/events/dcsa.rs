//! DCSA Track & Trace 2.2 events (SHIPMENT, TRANSPORT, EQUIPMENT): the checks and typed views.
//!
//! A DCSA event is accepted as its publisher sent it: fields this module does not
//! model (seals, references, facility codes, vessel names, deprecated fields) are
//! left alone, and the original JSON is kept in `json` so the relay forwards it
//! unchanged.

use serde_json::Value;
use time::OffsetDateTime;

use super::codes::{
    DocumentTypeCode, EmptyIndicator, EquipmentEventTypeCode, EventClassifier, ModeOfTransport,
    ShipmentEventTypeCode, TransportEventTypeCode,
};
use super::iso6346::{ContainerNumber, ContainerNumberError};
use super::json::{index, Obj};
use super::unlocode::UnLocode;
use super::{rules, EventHeader, Refusal};

/// A DCSA SHIPMENT event: a document (booking, transport document, customs...) changed state.
///
/// Customs clearance is a SHIPMENT event with `documentTypeCode` CUS and
/// `shipmentEventTypeCode` REQS, HOLD, RELS or CMPL.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentEvent {
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime` (the same instant for shipment events).
    pub header: EventHeader,
    /// `eventClassifierCode`: always ACT for shipment events.
    pub classifier: EventClassifier,
    /// `shipmentEventTypeCode`: the document's new state.
    pub shipment_event_type: ShipmentEventTypeCode,
    /// `documentTypeCode`: what `documentID` points to.
    pub document_type: DocumentTypeCode,
    /// `documentID`: the document's identifier (a booking or transport document reference, a customs declaration...).
    pub document_id: String,
    /// The event as received.
    pub json: Value,
}

/// A DCSA TRANSPORT event: a vessel, train, truck or barge arrived or departed.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportEvent {
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime`.
    pub header: EventHeader,
    /// `eventClassifierCode`: PLN, ACT or EST.
    pub classifier: EventClassifier,
    /// `transportEventTypeCode`: ARRI or DEPA.
    pub transport_event_type: TransportEventTypeCode,
    /// `transportCall`: where and on what.
    pub transport_call: TransportCall,
    /// `delayReasonCode`: an SMDG delay reason, if given.
    pub delay_reason_code: Option<String>,
    /// `changeRemark`: the operator's note on a schedule change (at most 250 characters).
    pub change_remark: Option<String>,
    /// The event as received.
    pub json: Value,
}

/// A DCSA EQUIPMENT event: something happened to a container (gate-in, load, discharge...).
#[derive(Debug, Clone, PartialEq)]
pub struct EquipmentEvent {
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime`.
    pub header: EventHeader,
    /// `eventClassifierCode`: PLN, ACT or EST.
    pub classifier: EventClassifier,
    /// `equipmentEventTypeCode`: LOAD, DISC, GTIN, GTOT...
    pub equipment_event_type: EquipmentEventTypeCode,
    /// `emptyIndicatorCode`: EMPTY or LADEN.
    pub empty_indicator: EmptyIndicator,
    /// `equipmentReference`: the ISO 6346 container number, if given.
    pub equipment_reference: Option<ContainerNumber>,
    /// `ISOEquipmentCode`: size and type, e.g. 22GP (at most 4 characters).
    pub iso_equipment_code: Option<String>,
    /// `eventLocation`: where it happened (required for GTIN and GTOT).
    pub event_location: Option<Location>,
    /// `transportCall`: the call it happened in (required for LOAD and DISC).
    pub transport_call: Option<TransportCall>,
    /// The event as received.
    pub json: Value,
}

/// A DCSA `transportCall`: a call of a means of transport at a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportCall {
    /// `transportCallID`.
    pub transport_call_id: String,
    /// `modeOfTransport`: VESSEL, RAIL, TRUCK or BARGE.
    pub mode_of_transport: ModeOfTransport,
    /// `carrierServiceCode`: at most 5 characters.
    pub carrier_service_code: Option<String>,
    /// `exportVoyageNumber`.
    pub export_voyage_number: Option<String>,
    /// `UNLocationCode` of the call.
    pub un_location_code: Option<UnLocode>,
    /// `location`: the call's location object.
    pub location: Option<Location>,
    /// `vessel.vesselIMONumber` (or a flat `vesselIMONumber`): 7 digits.
    pub vessel_imo_number: Option<String>,
}

/// A DCSA `Location`, as far as the relay reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// `UNLocationCode`.
    pub un_location_code: Option<UnLocode>,
    /// `locationName`.
    pub location_name: Option<String>,
}

/// `eventID`, `eventCreatedDateTime` and `eventDateTime` of a DCSA event.
fn header(obj: &Obj<'_>) -> Result<EventHeader, Refusal> {
    Ok(EventHeader {
        event_id: obj.event_id(rules::DCSA_REQUIRED)?,
        created: obj.date_time("eventCreatedDateTime", rules::DCSA_REQUIRED)?,
        event_date_time: obj.date_time("eventDateTime", rules::DCSA_REQUIRED)?,
    })
}

/// A required code of a closed list: missing is `dcsa.required`, off the list is `rule`.
fn code<T>(
    obj: &Obj<'_>,
    key: &str,
    rule: &'static str,
    parse: fn(&str) -> Option<T>,
    list: fn() -> String,
) -> Result<T, Refusal> {
    let s = obj.req_str(key, rules::DCSA_REQUIRED, rule)?;
    parse(s).ok_or_else(|| {
        Refusal::new(
            rule,
            obj.field(key),
            format!("{s:?} is not one of {}", list()),
        )
    })
}

/// An optional string of 1 to `max` characters.
fn bounded(
    obj: &Obj<'_>,
    key: &str,
    max: usize,
    rule: &'static str,
) -> Result<Option<String>, Refusal> {
    let Some(s) = obj.opt_str(key, rule)? else {
        return Ok(None);
    };
    let chars = s.chars().count();
    if chars == 0 || chars > max {
        return Err(Refusal::new(
            rule,
            obj.field(key),
            format!("{chars} characters, expected 1 to {max}"),
        ));
    }
    Ok(Some(s.to_string()))
}

/// Checks a UN/LOCODE at `key`, if present.
pub(crate) fn unlocode(obj: &Obj<'_>, key: &str) -> Result<Option<UnLocode>, Refusal> {
    let Some(s) = obj.opt_str(key, rules::UNLOCODE_PATTERN)? else {
        return Ok(None);
    };
    UnLocode::parse(s).map(Some).ok_or_else(|| {
        Refusal::new(
            rules::UNLOCODE_PATTERN,
            obj.field(key),
            format!("{s:?} does not match ^[A-Z]{{2}}[A-Z2-9]{{3}}$"),
        )
    })
}

/// Checks a transport document reference at `key`, if present: 1 to 20 characters.
pub(crate) fn transport_document_reference(
    obj: &Obj<'_>,
    key: &str,
) -> Result<Option<String>, Refusal> {
    bounded(
        obj,
        key,
        20,
        rules::DCSA_TRANSPORT_DOCUMENT_REFERENCE_LENGTH,
    )
}

/// The required `transportDocumentReference` of a project event: 1 to 20 characters.
pub(crate) fn required_transport_document_reference(obj: &Obj<'_>) -> Result<String, Refusal> {
    let key = "transportDocumentReference";
    transport_document_reference(obj, key)?.ok_or_else(|| {
        Refusal::new(
            rules::EVENT_REQUIRED,
            obj.field(key),
            "missing required field",
        )
    })
}

/// An optional ISO 6346 container number: at most 11 characters, then format and check digit.
fn container_number(obj: &Obj<'_>, key: &str) -> Result<Option<ContainerNumber>, Refusal> {
    let Some(s) = bounded(obj, key, 11, rules::DCSA_EQUIPMENT_REFERENCE_LENGTH)? else {
        return Ok(None);
    };
    ContainerNumber::parse(&s).map(Some).map_err(|e| {
        let (rule, message) = match e {
            ContainerNumberError::CheckDigit { .. } => {
                (rules::ISO6346_CHECK_DIGIT, format!("{s:?}: {e}"))
            }
            ContainerNumberError::Format(why) => (rules::ISO6346_FORMAT, why),
        };
        Refusal::new(rule, obj.field(key), message)
    })
}

fn location(obj: &Obj<'_>) -> Result<Location, Refusal> {
    Ok(Location {
        un_location_code: unlocode(obj, "UNLocationCode")?,
        location_name: obj
            .opt_str("locationName", rules::EVENT_FIELD_TYPE)?
            .map(str::to_string),
    })
}

fn vessel_imo(obj: &Obj<'_>, key: &str, required: bool) -> Result<Option<String>, Refusal> {
    let s = if required {
        Some(obj.req_str(key, rules::DCSA_REQUIRED, rules::DCSA_VESSEL_IMO)?)
    } else {
        obj.opt_str(key, rules::DCSA_VESSEL_IMO)?
    };
    let Some(s) = s else { return Ok(None) };
    if s.len() != 7 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::new(
            rules::DCSA_VESSEL_IMO,
            obj.field(key),
            format!("{s:?} is not a 7-digit IMO number"),
        ));
    }
    Ok(Some(s.to_string()))
}

fn transport_call(obj: &Obj<'_>) -> Result<TransportCall, Refusal> {
    let transport_call_id = obj
        .req_nonempty(
            "transportCallID",
            rules::DCSA_REQUIRED,
            rules::EVENT_FIELD_TYPE,
        )?
        .to_string();
    let mode_of_transport = code(
        obj,
        "modeOfTransport",
        rules::DCSA_MODE_OF_TRANSPORT,
        ModeOfTransport::parse,
        ModeOfTransport::list,
    )?;
    let carrier_service_code = bounded(
        obj,
        "carrierServiceCode",
        5,
        rules::DCSA_CARRIER_SERVICE_CODE_LENGTH,
    )?;
    let export_voyage_number = obj
        .opt_str("exportVoyageNumber", rules::EVENT_FIELD_TYPE)?
        .map(str::to_string);
    let un_location_code = unlocode(obj, "UNLocationCode")?;
    let location = match obj.opt_obj("location", rules::EVENT_FIELD_TYPE)? {
        Some(loc) => Some(self::location(&loc)?),
        None => None,
    };
    // DCSA 2.2 nests the IMO number in `vessel`; a flat `vesselIMONumber` is read too.
    let mut vessel_imo_number = vessel_imo(obj, "vesselIMONumber", false)?;
    if let Some(vessel) = obj.opt_obj("vessel", rules::EVENT_FIELD_TYPE)? {
        vessel_imo_number = vessel_imo(&vessel, "vesselIMONumber", true)?;
    }
    Ok(TransportCall {
        transport_call_id,
        mode_of_transport,
        carrier_service_code,
        export_voyage_number,
        un_location_code,
        location,
        vessel_imo_number,
    })
}

/// The classifier of a TRANSPORT or EQUIPMENT event.
fn classifier(obj: &Obj<'_>) -> Result<EventClassifier, Refusal> {
    code(
        obj,
        "eventClassifierCode",
        rules::DCSA_CLASSIFIER,
        EventClassifier::parse,
        EventClassifier::list,
    )
}

/// Document references any DCSA event may carry: top-level references and `documentReferences`.
fn references(obj: &Obj<'_>) -> Result<(), Refusal> {
    transport_document_reference(obj, "transportDocumentReference")?;
    bounded(
        obj,
        "carrierBookingReference",
        35,
        rules::DCSA_CARRIER_BOOKING_REFERENCE_LENGTH,
    )?;
    if let Some((items, path)) = obj.opt_array("documentReferences", rules::EVENT_FIELD_TYPE)? {
        for (i, item) in items.iter().enumerate() {
            let reference = Obj::new(item, index(&path, i), rules::EVENT_FIELD_TYPE)?;
            let kind = reference.opt_str("documentReferenceType", rules::EVENT_FIELD_TYPE)?;
            // Some publishers write the type with its name, e.g. "BKG (Booking)".
            match kind.and_then(|k| k.split_whitespace().next()) {
                Some("TRD") => {
                    transport_document_reference(&reference, "documentReferenceValue")?;
                }
                Some("BKG") => {
                    bounded(
                        &reference,
                        "documentReferenceValue",
                        35,
                        rules::DCSA_CARRIER_BOOKING_REFERENCE_LENGTH,
                    )?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

pub(crate) fn shipment(obj: &Obj<'_>, json: &Value) -> Result<ShipmentEvent, Refusal> {
    let header = header(obj)?;
    let classifier = obj.req_str(
        "eventClassifierCode",
        rules::DCSA_REQUIRED,
        rules::DCSA_SHIPMENT_CLASSIFIER,
    )?;
    if classifier != EventClassifier::Act.as_str() {
        return Err(Refusal::new(
            rules::DCSA_SHIPMENT_CLASSIFIER,
            obj.field("eventClassifierCode"),
            format!("shipment events are ACT, found {classifier:?}"),
        ));
    }
    if header.event_date_time != header.created {
        return Err(Refusal::new(
            rules::DCSA_SHIPMENT_EVENT_DATE_TIME,
            obj.field("eventDateTime"),
            format!(
                "a shipment event's eventDateTime is its eventCreatedDateTime ({}), found {}",
                show(header.created),
                show(header.event_date_time)
            ),
        ));
    }
    let shipment_event_type = code(
        obj,
        "shipmentEventTypeCode",
        rules::DCSA_SHIPMENT_EVENT_TYPE_CODE,
        ShipmentEventTypeCode::parse,
        ShipmentEventTypeCode::list,
    )?;
    let document_type = code(
        obj,
        "documentTypeCode",
        rules::DCSA_DOCUMENT_TYPE_CODE,
        DocumentTypeCode::parse,
        DocumentTypeCode::list,
    )?;
    let document_id =
        obj.req_nonempty("documentID", rules::DCSA_REQUIRED, rules::EVENT_FIELD_TYPE)?;
    if document_type == DocumentTypeCode::Cus && !shipment_event_type.is_customs() {
        return Err(Refusal::new(
            rules::CUSTOMS_SHIPMENT_EVENT_TYPE,
            obj.field("shipmentEventTypeCode"),
            format!(
                "a customs event (CUS) is REQS, HOLD, RELS or CMPL, found {shipment_event_type}"
            ),
        ));
    }
    match document_type {
        DocumentTypeCode::Trd => {
            transport_document_reference(obj, "documentID")?;
        }
        DocumentTypeCode::Bkg => {
            bounded(
                obj,
                "documentID",
                35,
                rules::DCSA_CARRIER_BOOKING_REFERENCE_LENGTH,
            )?;
        }
        _ => {}
    }
    references(obj)?;
    Ok(ShipmentEvent {
        header,
        classifier: EventClassifier::Act,
        shipment_event_type,
        document_type,
        document_id: document_id.to_string(),
        json: json.clone(),
    })
}

pub(crate) fn transport(obj: &Obj<'_>, json: &Value) -> Result<TransportEvent, Refusal> {
    let header = header(obj)?;
    let classifier = classifier(obj)?;
    let transport_event_type = code(
        obj,
        "transportEventTypeCode",
        rules::DCSA_TRANSPORT_EVENT_TYPE_CODE,
        TransportEventTypeCode::parse,
        TransportEventTypeCode::list,
    )?;
    let call = obj.req_obj(
        "transportCall",
        rules::DCSA_REQUIRED,
        rules::EVENT_FIELD_TYPE,
    )?;
    let transport_call = transport_call(&call)?;
    let delay_reason_code = obj
        .opt_str("delayReasonCode", rules::EVENT_FIELD_TYPE)?
        .map(str::to_string);
    let change_remark = bounded(obj, "changeRemark", 250, rules::DCSA_CHANGE_REMARK_LENGTH)?;
    // The deprecated name of changeRemark keeps its limit.
    bounded(
        obj,
        "vesselScheduleChangeRemark",
        250,
        rules::DCSA_CHANGE_REMARK_LENGTH,
    )?;
    references(obj)?;
    Ok(TransportEvent {
        header,
        classifier,
        transport_event_type,
        transport_call,
        delay_reason_code,
        change_remark,
        json: json.clone(),
    })
}

pub(crate) fn equipment(obj: &Obj<'_>, json: &Value) -> Result<EquipmentEvent, Refusal> {
    let header = header(obj)?;
    let classifier = classifier(obj)?;
    let equipment_event_type = code(
        obj,
        "equipmentEventTypeCode",
        rules::DCSA_EQUIPMENT_EVENT_TYPE_CODE,
        EquipmentEventTypeCode::parse,
        EquipmentEventTypeCode::list,
    )?;
    let empty_indicator = code(
        obj,
        "emptyIndicatorCode",
        rules::DCSA_EMPTY_INDICATOR,
        EmptyIndicator::parse,
        EmptyIndicator::list,
    )?;
    let equipment_reference = container_number(obj, "equipmentReference")?;
    let iso_equipment_code = bounded(
        obj,
        "ISOEquipmentCode",
        4,
        rules::DCSA_ISO_EQUIPMENT_CODE_LENGTH,
    )?;
    let event_location = match obj.opt_obj("eventLocation", rules::EVENT_FIELD_TYPE)? {
        Some(loc) => Some(location(&loc)?),
        None => None,
    };
    let transport_call = match obj.opt_obj("transportCall", rules::EVENT_FIELD_TYPE)? {
        Some(call) => Some(self::transport_call(&call)?),
        None => None,
    };
    let needs_call = matches!(
        equipment_event_type,
        EquipmentEventTypeCode::Load | EquipmentEventTypeCode::Disc
    );
    if needs_call && transport_call.is_none() {
        return Err(Refusal::new(
            rules::DCSA_EQUIPMENT_TRANSPORT_CALL_REQUIRED,
            obj.field("transportCall"),
            format!("a {equipment_event_type} event carries a transport call"),
        ));
    }
    let needs_location = matches!(
        equipment_event_type,
        EquipmentEventTypeCode::Gtin | EquipmentEventTypeCode::Gtot
    );
    if needs_location && event_location.is_none() {
        return Err(Refusal::new(
            rules::DCSA_EQUIPMENT_LOCATION_REQUIRED,
            obj.field("eventLocation"),
            format!("a {equipment_event_type} event carries an event location"),
        ));
    }
    references(obj)?;
    Ok(EquipmentEvent {
        header,
        classifier,
        equipment_event_type,
        empty_indicator,
        equipment_reference,
        iso_equipment_code,
        event_location,
        transport_call,
        json: json.clone(),
    })
}

/// A date-time for messages, RFC 3339 when it can be written so.
fn show(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

impl TransportCall {
    /// The call's UN/LOCODEs: its own and its location's.
    pub(crate) fn unlocodes(&self) -> impl Iterator<Item = UnLocode> + '_ {
        self.un_location_code
            .into_iter()
            .chain(self.location.as_ref().and_then(|l| l.un_location_code))
    }
}
