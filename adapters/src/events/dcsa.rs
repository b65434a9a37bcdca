//! DCSA Track & Trace 2.2 and 2.3 events (SHIPMENT, TRANSPORT, EQUIPMENT): the typed
//! views every DCSA version maps to, and the checks of the flat 2.x events.
//!
//! A 2.x event is first held to its published schema (`tnt22.rs`, walked by
//! `schema.rs`); this module then reads the typed view and adds the rules that span
//! fields: customs codes, transport calls and locations by event type, ISO 6346
//! check digits, UN/LOCODE countries, reference lengths by document type. The
//! original JSON is kept in `json` so the relay forwards it unchanged.

use serde_json::Value;
use time::OffsetDateTime;

use std::fmt;

use super::codes::{
    DocumentTypeCode, EmptyIndicator, EquipmentEventTypeCode, EventClassifier, IotEventCode,
    ModeOfTransport, ReeferEventTypeCode, ShipmentEventTypeCode, TransportEventTypeCode,
};
use super::iso6346::{ContainerNumber, ContainerNumberError};
use super::json::{index, Obj};
use super::schema::parse_uuid;
use super::unlocode::UnLocode;
use super::{
    canonical_json, derived_event_id, rules, schema, tnt22, DcsaVersion, EventHeader, Refusal,
    Warning,
};

/// A DCSA SHIPMENT event: a document (booking, transport document, customs...) changed state.
///
/// Customs clearance is a SHIPMENT event with `documentTypeCode` CUS and
/// `shipmentEventTypeCode` REQS, HOLD, RELS or CMPL (VOID or CANC: the declaration
/// `documentID` names is revoked).
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentEvent {
    /// The DCSA version the event was read as.
    pub version: DcsaVersion,
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime` (2.x: meant to be the same instant).
    pub header: EventHeader,
    /// `eventClassifierCode`: ACT, PLN or EST.
    pub classifier: EventClassifier,
    /// `shipmentEventTypeCode`: the document's new state.
    pub shipment_event_type: ShipmentEventTypeCode,
    /// `documentTypeCode` (3.0: `shipmentDetails.documentReference.typeCode`): what `documentID` points to.
    pub document_type: DocumentTypeCode,
    /// `documentID` (3.0: `shipmentDetails.documentReference.reference`): the
    /// document's identifier (a booking or transport document reference, a customs declaration...).
    pub document_id: String,
    /// The event as received.
    pub json: Value,
}

/// A DCSA TRANSPORT event: a vessel, train, truck or barge arrived or departed.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportEvent {
    /// The DCSA version the event was read as.
    pub version: DcsaVersion,
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime`.
    pub header: EventHeader,
    /// `eventClassifierCode`: PLN, ACT or EST.
    pub classifier: EventClassifier,
    /// `transportEventTypeCode`: ARRI or DEPA.
    pub transport_event_type: TransportEventTypeCode,
    /// `transportCall`: where and on what.
    pub transport_call: TransportCall,
    /// `delayReasonCode` (3.0: the first of `delayReasonCodes`): an SMDG delay reason, if given.
    pub delay_reason_code: Option<String>,
    /// `changeRemark`: the operator's note on a schedule change (at most 250 characters).
    pub change_remark: Option<String>,
    /// The event as received.
    pub json: Value,
}

/// A DCSA EQUIPMENT event: something happened to a container (gate-in, load,
/// discharge...); T&T 3.0's IOT and REEFER events, which are about a container too,
/// map here as well.
#[derive(Debug, Clone, PartialEq)]
pub struct EquipmentEvent {
    /// The DCSA version the event was read as.
    pub version: DcsaVersion,
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime`.
    pub header: EventHeader,
    /// `eventClassifierCode`: PLN, ACT or EST.
    pub classifier: EventClassifier,
    /// What happened: `equipmentEventTypeCode` (LOAD, DISC, GTIN...), or 3.0's IoT or reefer event.
    pub activity: EquipmentActivity,
    /// `emptyIndicatorCode`: EMPTY or LADEN (required in 2.x, optional in 3.0).
    pub empty_indicator: Option<EmptyIndicator>,
    /// `equipmentReference`: an ISO 6346 container number, or a non-ISO reference.
    pub equipment_reference: Option<EquipmentReference>,
    /// `ISOEquipmentCode`: size and type, e.g. 22GP (at most 4 characters).
    pub iso_equipment_code: Option<String>,
    /// `eventLocation`: where it happened (required for GTIN and GTOT).
    pub event_location: Option<Location>,
    /// `transportCall`: the call it happened in (required for LOAD and DISC).
    pub transport_call: Option<TransportCall>,
    /// The event as received.
    pub json: Value,
}

/// What an [`EquipmentEvent`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EquipmentActivity {
    /// `equipmentEventTypeCode`.
    Equipment(EquipmentEventTypeCode),
    /// A T&T 3.0 IOT event (`iotEventTypeCode` DETC) with its `iotEventCode`.
    Iot(IotEventCode),
    /// A T&T 3.0 REEFER event.
    Reefer(ReeferEventTypeCode),
}

impl EquipmentActivity {
    /// The equipment event type code, for EQUIPMENT events.
    pub fn equipment_event_type(self) -> Option<EquipmentEventTypeCode> {
        match self {
            EquipmentActivity::Equipment(code) => Some(code),
            _ => None,
        }
    }
}

impl fmt::Display for EquipmentActivity {
    /// `LOAD`, `IOT_DRO`, `REEFER_MEAS`: bounded, for labels and records.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EquipmentActivity::Equipment(code) => write!(f, "{code}"),
            EquipmentActivity::Iot(code) => write!(f, "IOT_{code}"),
            EquipmentActivity::Reefer(code) => write!(f, "REEFER_{code}"),
        }
    }
}

/// An `equipmentReference`: an ISO 6346 number when it has the ISO shape (checked,
/// check digit included), otherwise a reference DCSA allows but that is not ISO
/// (SMDG's recommendation for non-ISO equipment), marked so.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EquipmentReference {
    /// An ISO 6346 container number.
    Iso(ContainerNumber),
    /// Any other reference of at most 15 characters (11 in 3.0).
    NonIso(String),
}

impl EquipmentReference {
    /// Whether the reference is an ISO 6346 number.
    pub fn is_iso(&self) -> bool {
        matches!(self, EquipmentReference::Iso(_))
    }
}

impl fmt::Display for EquipmentReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EquipmentReference::Iso(c) => write!(f, "{c}"),
            EquipmentReference::NonIso(s) => f.write_str(s),
        }
    }
}

/// A DCSA `transportCall`: a call of a means of transport at a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportCall {
    /// `transportCallID` (3.0: `transportCallReference`, else `portVisitReference`,
    /// else the event's id).
    pub transport_call_id: String,
    /// `modeOfTransport`: VESSEL, RAIL, TRUCK or BARGE (3.0 also MULTIMODAL; when
    /// absent, the transport object present tells).
    pub mode_of_transport: ModeOfTransport,
    /// `carrierServiceCode`: at most 5 characters.
    pub carrier_service_code: Option<String>,
    /// `exportVoyageNumber`.
    pub export_voyage_number: Option<String>,
    /// `UNLocationCode` of the call.
    pub un_location_code: Option<UnLocode>,
    /// `location`: the call's location object.
    pub location: Option<Location>,
    /// `vessel.vesselIMONumber` (3.0: `vesselTransport.vesselIMONumber`).
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

/// `eventID` (derived when absent), `eventCreatedDateTime` and `eventDateTime` of a
/// 2.x event whose schema check passed.
fn header(obj: &Obj<'_>, json: &Value) -> Result<EventHeader, Refusal> {
    let given = obj
        .opt_str("eventID", rules::EVENT_ID_UUID)?
        .and_then(parse_uuid);
    Ok(EventHeader {
        event_id: given.unwrap_or_else(|| derived_event_id(&canonical_json(json))),
        event_id_derived: given.is_none(),
        created: obj.date_time("eventCreatedDateTime", rules::DCSA_REQUIRED)?,
        event_date_time: obj.date_time("eventDateTime", rules::DCSA_REQUIRED)?,
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

/// Checks a UN/LOCODE at `key`, if present: the pattern, the country, then the code list.
pub(crate) fn unlocode(obj: &Obj<'_>, key: &str) -> Result<Option<UnLocode>, Refusal> {
    let Some(s) = obj.opt_str(key, rules::UNLOCODE_PATTERN)? else {
        return Ok(None);
    };
    super::unlocode::check(s)
        .map(Some)
        .map_err(|(rule, why)| Refusal::new(rule, obj.field(key), why))
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

/// An optional `equipmentReference` (its length already checked against the
/// schema): an ISO 6346 number when it has the ISO shape (four capitals and seven
/// digits), whose category and check digit must then be right; otherwise a non-ISO
/// reference, with an `iso6346.non_iso` warning.
pub(crate) fn equipment_reference(
    obj: &Obj<'_>,
    key: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Option<EquipmentReference>, Refusal> {
    let Some(s) = obj.opt_str(key, rules::DCSA_EQUIPMENT_REFERENCE_LENGTH)? else {
        return Ok(None);
    };
    let b = s.as_bytes();
    let iso_shaped = b.len() == 11
        && b[..4].iter().all(u8::is_ascii_uppercase)
        && b[4..].iter().all(u8::is_ascii_digit);
    if !iso_shaped {
        warnings.push(Warning {
            rule: rules::ISO6346_NON_ISO,
            field: obj.field(key),
            message: format!("{s:?} is not an ISO 6346 number; carried as a non-ISO reference"),
            refused_when_strict: false,
        });
        return Ok(Some(EquipmentReference::NonIso(s.to_string())));
    }
    ContainerNumber::parse(s)
        .map(|c| Some(EquipmentReference::Iso(c)))
        .map_err(|e| {
            let (rule, message) = match e {
                ContainerNumberError::CheckDigit { .. } => {
                    (rules::ISO6346_CHECK_DIGIT, format!("{s:?}: {e}"))
                }
                ContainerNumberError::Format(why) => (rules::ISO6346_FORMAT, why),
            };
            Refusal::new(rule, obj.field(key), message)
        })
}

pub(crate) fn location(obj: &Obj<'_>) -> Result<Location, Refusal> {
    Ok(Location {
        un_location_code: unlocode(obj, "UNLocationCode")?,
        location_name: obj
            .opt_str("locationName", rules::EVENT_FIELD_TYPE)?
            .map(str::to_string),
    })
}

/// An optional vessel IMO number of `digits` digits (2.x: 7; 3.0: 7 or 8).
pub(crate) fn vessel_imo(
    obj: &Obj<'_>,
    key: &str,
    digits: std::ops::RangeInclusive<usize>,
) -> Result<Option<String>, Refusal> {
    let Some(s) = obj.opt_str(key, rules::DCSA_VESSEL_IMO)? else {
        return Ok(None);
    };
    if !digits.contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
        let n = if digits.start() == digits.end() {
            format!("{}", digits.start())
        } else {
            format!("{}-{}", digits.start(), digits.end())
        };
        return Err(Refusal::new(
            rules::DCSA_VESSEL_IMO,
            obj.field(key),
            format!("{s:?} is not a {n}-digit IMO number"),
        ));
    }
    Ok(Some(s.to_string()))
}

/// A code the schema walk already accepted, as its enum.
pub(crate) fn known<T>(
    obj: &Obj<'_>,
    key: &str,
    rule: &'static str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, Refusal> {
    match obj.opt_str(key, rule)? {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| {
            Refusal::new(rule, obj.field(key), format!("{s:?} is not a known code"))
        }),
    }
}

/// A required code the schema walk already accepted.
pub(crate) fn known_req<T>(
    obj: &Obj<'_>,
    key: &str,
    rule: &'static str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, Refusal> {
    known(obj, key, rule, parse)?.ok_or_else(|| {
        Refusal::new(
            rules::DCSA_REQUIRED,
            obj.field(key),
            "missing required field",
        )
    })
}

fn transport_call(obj: &Obj<'_>) -> Result<TransportCall, Refusal> {
    let transport_call_id = obj
        .req_nonempty(
            "transportCallID",
            rules::DCSA_REQUIRED,
            rules::EVENT_FIELD_TYPE,
        )?
        .to_string();
    let mode_of_transport = known_req(
        obj,
        "modeOfTransport",
        rules::DCSA_MODE_OF_TRANSPORT,
        ModeOfTransport::parse,
    )?;
    let carrier_service_code = obj
        .opt_str("carrierServiceCode", rules::EVENT_FIELD_TYPE)?
        .map(str::to_string);
    let export_voyage_number = obj
        .opt_str("exportVoyageNumber", rules::EVENT_FIELD_TYPE)?
        .map(str::to_string);
    let un_location_code = unlocode(obj, "UNLocationCode")?;
    let location = match obj.opt_obj("location", rules::EVENT_FIELD_TYPE)? {
        Some(loc) => Some(self::location(&loc)?),
        None => None,
    };
    let vessel_imo_number = match obj.opt_obj("vessel", rules::EVENT_FIELD_TYPE)? {
        Some(vessel) => vessel_imo(&vessel, "vesselIMONumber", 7..=7)?,
        None => None,
    };
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

/// A document reference value of a type with its own bound: a transport document
/// reference (TRD) is at most 20 characters, a carrier booking reference (BKG) 35.
pub(crate) fn document_reference_value(
    obj: &Obj<'_>,
    kind: &str,
    key: &str,
) -> Result<(), Refusal> {
    // 2.2 published the types with their names ("BKG (Booking)").
    match kind.split_whitespace().next() {
        Some("TRD") => {
            transport_document_reference(obj, key)?;
        }
        Some("BKG") => {
            bounded(obj, key, 35, rules::DCSA_CARRIER_BOOKING_REFERENCE_LENGTH)?;
        }
        _ => {}
    }
    Ok(())
}

/// The values of `documentReferences`, by type.
fn references(obj: &Obj<'_>) -> Result<(), Refusal> {
    if let Some((items, path)) = obj.opt_array("documentReferences", rules::EVENT_FIELD_TYPE)? {
        for (i, item) in items.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            let reference = Obj::new(item, index(&path, i), rules::EVENT_FIELD_TYPE)?;
            if let Some(kind) =
                reference.opt_str("documentReferenceType", rules::EVENT_FIELD_TYPE)?
            {
                document_reference_value(&reference, kind, "documentReferenceValue")?;
            }
        }
    }
    Ok(())
}

/// The instant a 2.x SHIPMENT event's `eventDateTime` should have: a named
/// warning when it differs (DCSA's own conformance material differs), which
/// strict mode turns into a refusal.
fn shipment_date_time(obj: &Obj<'_>, header: &EventHeader, warnings: &mut Vec<Warning>) {
    if header.event_date_time != header.created {
        warnings.push(Warning {
            rule: rules::DCSA_SHIPMENT_EVENT_DATE_TIME,
            field: obj.field("eventDateTime"),
            message: format!(
                "a T&T 2.x shipment event's eventDateTime is its eventCreatedDateTime ({}), found {}",
                show(header.created),
                show(header.event_date_time)
            ),
            refused_when_strict: true,
        });
    }
}

/// The customs rule: a CUS document's event is REQS, HOLD, RELS or CMPL, or VOID
/// or CANC for a revoked declaration.
pub(crate) fn customs(
    obj: &Obj<'_>,
    document_type: DocumentTypeCode,
    shipment_event_type: ShipmentEventTypeCode,
) -> Result<(), Refusal> {
    if document_type == DocumentTypeCode::Cus && !shipment_event_type.is_customs() {
        return Err(Refusal::new(
            rules::CUSTOMS_SHIPMENT_EVENT_TYPE,
            obj.field("shipmentEventTypeCode"),
            format!(
                "a customs event (CUS) is REQS, HOLD, RELS, CMPL, VOID or CANC, found {shipment_event_type}"
            ),
        ));
    }
    Ok(())
}

pub(crate) fn shipment(
    obj: &Obj<'_>,
    json: &Value,
    version: DcsaVersion,
    warnings: &mut Vec<Warning>,
) -> Result<ShipmentEvent, Refusal> {
    schema::check(json, &tnt22::SHIPMENT, "", version)?;
    let header = header(obj, json)?;
    let classifier = known_req(
        obj,
        "eventClassifierCode",
        rules::DCSA_SHIPMENT_CLASSIFIER,
        EventClassifier::parse,
    )?;
    let shipment_event_type = known_req(
        obj,
        "shipmentEventTypeCode",
        rules::DCSA_SHIPMENT_EVENT_TYPE_CODE,
        ShipmentEventTypeCode::parse,
    )?;
    let document_type = known_req(
        obj,
        "documentTypeCode",
        rules::DCSA_DOCUMENT_TYPE_CODE,
        DocumentTypeCode::parse,
    )?;
    let document_id =
        obj.req_nonempty("documentID", rules::DCSA_REQUIRED, rules::EVENT_FIELD_TYPE)?;
    customs(obj, document_type, shipment_event_type)?;
    document_reference_value(obj, document_type.as_str(), "documentID")?;
    if version >= DcsaVersion::V2_3 {
        // 2.3 bounded `reason`; 2.2 did not.
        if let Some(reason) = obj.opt_str("reason", rules::EVENT_FIELD_TYPE)? {
            let chars = reason.chars().count();
            if chars > 250 {
                return Err(Refusal::new(
                    rules::DCSA_LENGTH,
                    obj.field("reason"),
                    format!("{chars} characters, T&T 2.3 allows at most 250"),
                ));
            }
        }
    }
    references(obj)?;
    shipment_date_time(obj, &header, warnings);
    Ok(ShipmentEvent {
        version,
        header,
        classifier,
        shipment_event_type,
        document_type,
        document_id: document_id.to_string(),
        json: json.clone(),
    })
}

pub(crate) fn transport(
    obj: &Obj<'_>,
    json: &Value,
    version: DcsaVersion,
    _warnings: &mut Vec<Warning>,
) -> Result<TransportEvent, Refusal> {
    schema::check(json, &tnt22::TRANSPORT, "", version)?;
    let header = header(obj, json)?;
    let classifier = known_req(
        obj,
        "eventClassifierCode",
        rules::DCSA_CLASSIFIER,
        EventClassifier::parse,
    )?;
    let transport_event_type = known_req(
        obj,
        "transportEventTypeCode",
        rules::DCSA_TRANSPORT_EVENT_TYPE_CODE,
        TransportEventTypeCode::parse,
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
    let change_remark = obj
        .opt_str("changeRemark", rules::EVENT_FIELD_TYPE)?
        .map(str::to_string);
    references(obj)?;
    Ok(TransportEvent {
        version,
        header,
        classifier,
        transport_event_type,
        transport_call,
        delay_reason_code,
        change_remark,
        json: json.clone(),
    })
}

/// LOAD and DISC carry a transport call, GTIN and GTOT a location (2.x).
fn equipment_needs(
    obj: &Obj<'_>,
    code: EquipmentEventTypeCode,
    has_call: bool,
    has_location: bool,
) -> Result<(), Refusal> {
    let needs_call = matches!(
        code,
        EquipmentEventTypeCode::Load | EquipmentEventTypeCode::Disc
    );
    if needs_call && !has_call {
        return Err(Refusal::new(
            rules::DCSA_EQUIPMENT_TRANSPORT_CALL_REQUIRED,
            obj.field("transportCall"),
            format!("a {code} event carries a transport call"),
        ));
    }
    let needs_location = matches!(
        code,
        EquipmentEventTypeCode::Gtin | EquipmentEventTypeCode::Gtot
    );
    if needs_location && !has_location {
        return Err(Refusal::new(
            rules::DCSA_EQUIPMENT_LOCATION_REQUIRED,
            obj.field("eventLocation"),
            format!("a {code} event carries an event location"),
        ));
    }
    Ok(())
}

pub(crate) fn equipment(
    obj: &Obj<'_>,
    json: &Value,
    version: DcsaVersion,
    warnings: &mut Vec<Warning>,
) -> Result<EquipmentEvent, Refusal> {
    schema::check(json, &tnt22::EQUIPMENT, "", version)?;
    let header = header(obj, json)?;
    let classifier = known_req(
        obj,
        "eventClassifierCode",
        rules::DCSA_CLASSIFIER,
        EventClassifier::parse,
    )?;
    let equipment_event_type = known_req(
        obj,
        "equipmentEventTypeCode",
        rules::DCSA_EQUIPMENT_EVENT_TYPE_CODE,
        EquipmentEventTypeCode::parse,
    )?;
    let empty_indicator = known_req(
        obj,
        "emptyIndicatorCode",
        rules::DCSA_EMPTY_INDICATOR,
        EmptyIndicator::parse,
    )?;
    let equipment_reference = equipment_reference(obj, "equipmentReference", warnings)?;
    let iso_equipment_code = obj
        .opt_str("ISOEquipmentCode", rules::EVENT_FIELD_TYPE)?
        .map(str::to_string);
    let event_location = match obj.opt_obj("eventLocation", rules::EVENT_FIELD_TYPE)? {
        Some(loc) => Some(location(&loc)?),
        None => None,
    };
    let transport_call = match obj.opt_obj("transportCall", rules::EVENT_FIELD_TYPE)? {
        Some(call) => Some(self::transport_call(&call)?),
        None => None,
    };
    equipment_needs(
        obj,
        equipment_event_type,
        transport_call.is_some(),
        event_location.is_some(),
    )?;
    references(obj)?;
    Ok(EquipmentEvent {
        version,
        header,
        classifier,
        activity: EquipmentActivity::Equipment(equipment_event_type),
        empty_indicator: Some(empty_indicator),
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
