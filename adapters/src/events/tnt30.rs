//! The schema of DCSA Track & Trace 3.0 events as tables.
//!
//! Source: `tnt/src/main/resources/standards/tnt/schemas/TNT_v3.0.0.yaml` in
//! dcsaorg/Conformance-Gateway (the schema DCSA's conformance suite tests T&T 3.0.0
//! against, January 2026), and its code lists as the schema's descriptions give
//! them. The schema marks no property required; the required ones below are those
//! the conformance suite's checks demand (`TntChecks`), and `docs/dcsa.md` lists them.

use super::rules;
use super::schema::{c, p, pr, Code, Shape, Ty};

const fn s(max: usize) -> Ty {
    Ty::Str(Some(max))
}

const TEXT: Ty = Ty::Str(None);

pub(crate) const EVENT_TYPE_CODES: &[Code] = &[
    c("SHIPMENT"),
    c("TRANSPORT"),
    c("EQUIPMENT"),
    c("IOT"),
    c("REEFER"),
];
const EVENT_CLASSIFIERS: &[Code] = &[c("PLN"), c("EST"), c("ACT")];
pub(crate) const SHIPMENT_EVENT_TYPE_CODES: &[Code] = &[
    c("AMCF"),
    c("AMCN"),
    c("AMDC"),
    c("AMPR"),
    c("AMRE"),
    c("APPR"),
    c("CACF"),
    c("CADC"),
    c("CANC"),
    c("CARE"),
    c("CMPL"),
    c("CONF"),
    c("DECL"),
    c("DRFT"),
    c("HOLD"),
    c("ISSU"),
    c("PENA"),
    c("PENM"),
    c("PENU"),
    c("PSAM"),
    c("PSDL"),
    c("RECE"),
    c("REJE"),
    c("RELS"),
    c("REQS"),
    c("SUAM"),
    c("SUBM"),
    c("SUDL"),
    c("SURR"),
    c("UPCF"),
    c("UPCN"),
    c("UPDC"),
    c("UPDT"),
    c("UPRE"),
    c("VOID"),
];
const TRANSPORT_EVENT_TYPE_CODES: &[Code] = &[c("ARRI"), c("DEPA")];
pub(crate) const EQUIPMENT_EVENT_TYPE_CODES: &[Code] = &[
    c("AVDO"),
    c("AVPU"),
    c("CROS"),
    c("CUSI"),
    c("CUSR"),
    c("CUSS"),
    c("DISC"),
    c("DROP"),
    c("GTIN"),
    c("GTOT"),
    c("INSP"),
    c("LOAD"),
    c("PICK"),
    c("RMVD"),
    c("RSEA"),
    c("STRP"),
    c("STUF"),
];
const IOT_EVENT_TYPE_CODES: &[Code] = &[c("DETC")];
const REEFER_EVENT_TYPE_CODES: &[Code] = &[c("MEAS"), c("ADJU")];
pub(crate) const DOCUMENT_TYPE_CODES: &[Code] = &[
    c("AMF"),
    c("ARN"),
    c("BKG"),
    c("CAS"),
    c("CBR"),
    c("CEA"),
    c("CEO"),
    c("CQU"),
    c("CRO"),
    c("CUC"),
    c("DEI"),
    c("DEO"),
    c("DGD"),
    c("FCE"),
    c("HCE"),
    c("ICE"),
    c("INV"),
    c("OOG"),
    c("PCE"),
    c("PFD"),
    c("SHI"),
    c("TRD"),
    c("TRO"),
    c("VCE"),
    c("VGM"),
];
const SHIPMENT_REFERENCE_TYPES: &[Code] = &[
    c("AAO"),
    c("AES"),
    c("BID"),
    c("BPR"),
    c("CER"),
    c("CR"),
    c("CSI"),
    c("DUE"),
    c("ECR"),
    c("EQ"),
    c("FF"),
    c("PO"),
    c("RUC"),
    c("SI"),
];
const SHIPMENT_LOCATION_TYPES: &[Code] = &[
    c("FCD"),
    c("IEL"),
    c("OIR"),
    c("ORI"),
    c("PCF"),
    c("PDE"),
    c("POD"),
    c("POL"),
    c("PRE"),
    c("PTP"),
    c("RTP"),
];
const EMPTY_INDICATORS: &[Code] = &[c("EMPTY"), c("LADEN")];
const MOVEMENT_TYPES: &[Code] = &[c("IMPORT"), c("EXPORT"), c("TRANSSHIPMENT")];
const MODES_OF_TRANSPORT: &[Code] = &[
    c("VESSEL"),
    c("RAIL"),
    c("TRUCK"),
    c("BARGE"),
    c("MULTIMODAL"),
];
const FACILITY_TYPE_CODES: &[Code] = &[
    c("BORD"),
    c("CLOC"),
    c("COFS"),
    c("OFFD"),
    c("DEPO"),
    c("INTE"),
    c("POTE"),
    c("RAMP"),
    c("WAYP"),
];
const SEAL_SOURCES: &[Code] = &[
    c("CAR"),
    c("CNS"),
    c("CST"),
    c("CUS"),
    c("PHY"),
    c("SHI"),
    c("TER"),
    c("VET"),
];
const SEAL_TYPES: &[Code] = &[c("KLP"), c("BLT"), c("WIR")];
const SEAL_PLACEMENTS: &[Code] = &[c("DOOR"), c("VENT")];
const IOT_EVENT_CODES: &[Code] = &[c("DRC"), c("DRO"), c("LOC")];
const TEMPERATURE_UNITS: &[Code] = &[c("CEL"), c("FAH")];

const ADDRESS: Shape = Shape {
    props: &[
        p("street", s(70)),
        p("streetNumber", s(50)),
        p("floor", s(50)),
        p("postCode", s(10)),
        p("POBox", s(20)),
        p("city", s(35)),
        p("stateRegion", s(65)),
        p("countryCode", s(2)),
        p("addressLines", Ty::List(&Ty::Str(Some(250)), Some(5))),
    ],
    required: &[],
};

const FACILITY: Shape = Shape {
    props: &[
        p("facilityName", s(100)),
        p("facilityCode", s(6)),
        p("facilityCodeListProvider", s(10)),
    ],
    required: &[],
};

const GEO_COORDINATE: Shape = Shape {
    props: &[p("latitude", s(20)), p("longitude", s(20))],
    required: &[],
};

const LOCATION: Shape = Shape {
    props: &[
        p("locationName", s(100)),
        p("facilityTypeCode", Ty::Code(FACILITY_TYPE_CODES, Some(10))),
        p("address", Ty::Obj(&ADDRESS)),
        p("UNLocationCode", Ty::UnLocode),
        p("facility", Ty::Obj(&FACILITY)),
        p("geoCoordinate", Ty::Obj(&GEO_COORDINATE)),
    ],
    required: &[],
};

const PARTY: Shape = Shape {
    props: &[
        p("partyCode", s(150)),
        p("codeListProvider", s(100)),
        p("codeListName", s(100)),
        p("partyFunction", s(3)),
    ],
    required: &[],
};

const EVENT_ROUTING: Shape = Shape {
    props: &[
        p("originatingParty", Ty::Obj(&PARTY)),
        p("forwardingParties", Ty::List(&Ty::Obj(&PARTY), None)),
        p("destinationParty", Ty::Obj(&PARTY)),
    ],
    required: &[],
};

/// `eventClassification`: what the event is.
pub(crate) const EVENT_CLASSIFICATION: Shape = Shape {
    props: &[
        pr(
            "eventTypeCode",
            Ty::Code(EVENT_TYPE_CODES, None),
            rules::EVENT_TYPE,
        ),
        pr(
            "eventClassifierCode",
            Ty::Code(EVENT_CLASSIFIERS, Some(10)),
            rules::DCSA_CLASSIFIER,
        ),
        pr(
            "shipmentEventTypeCode",
            Ty::Code(SHIPMENT_EVENT_TYPE_CODES, None),
            rules::DCSA_SHIPMENT_EVENT_TYPE_CODE,
        ),
        pr(
            "transportEventTypeCode",
            Ty::Code(TRANSPORT_EVENT_TYPE_CODES, None),
            rules::DCSA_TRANSPORT_EVENT_TYPE_CODE,
        ),
        pr(
            "equipmentEventTypeCode",
            Ty::Code(EQUIPMENT_EVENT_TYPE_CODES, None),
            rules::DCSA_EQUIPMENT_EVENT_TYPE_CODE,
        ),
        p("iotEventTypeCode", Ty::Code(IOT_EVENT_TYPE_CODES, None)),
        p(
            "reeferEventTypeCode",
            Ty::Code(REEFER_EVENT_TYPE_CODES, None),
        ),
    ],
    required: &["eventTypeCode", "eventClassifierCode"],
};

const DOCUMENT_REFERENCE: Shape = Shape {
    props: &[
        pr(
            "typeCode",
            Ty::Code(DOCUMENT_TYPE_CODES, None),
            rules::DCSA_DOCUMENT_TYPE_CODE,
        ),
        p("reference", s(100)),
    ],
    required: &["typeCode", "reference"],
};

const DOCUMENT_REFERENCE_REPLACEMENT: Shape = Shape {
    props: &[
        p(
            "oldReferences",
            Ty::List(&Ty::Obj(&DOCUMENT_REFERENCE), None),
        ),
        p(
            "newReferences",
            Ty::List(&Ty::Obj(&DOCUMENT_REFERENCE), None),
        ),
    ],
    required: &[],
};

const SHIPMENT_REFERENCE: Shape = Shape {
    props: &[
        p("typeCode", Ty::Code(SHIPMENT_REFERENCE_TYPES, None)),
        p("reference", s(100)),
    ],
    required: &[],
};

const SHIPMENT_REFERENCE_REPLACEMENT: Shape = Shape {
    props: &[
        p(
            "oldReferences",
            Ty::List(&Ty::Obj(&SHIPMENT_REFERENCE), None),
        ),
        p(
            "newReferences",
            Ty::List(&Ty::Obj(&SHIPMENT_REFERENCE), None),
        ),
    ],
    required: &[],
};

const SHIPMENT_DETAILS: Shape = Shape {
    props: &[
        p("documentReference", Ty::Obj(&DOCUMENT_REFERENCE)),
        p(
            "additionalDocumentReferences",
            Ty::List(&Ty::Obj(&DOCUMENT_REFERENCE), None),
        ),
        p(
            "documentReferenceReplacements",
            Ty::List(&Ty::Obj(&DOCUMENT_REFERENCE_REPLACEMENT), None),
        ),
        p(
            "shipmentReferences",
            Ty::List(&Ty::Obj(&SHIPMENT_REFERENCE), None),
        ),
        p(
            "shipmentReferenceReplacements",
            Ty::List(&Ty::Obj(&SHIPMENT_REFERENCE_REPLACEMENT), None),
        ),
        p(
            "shipmentLocationType",
            Ty::Code(SHIPMENT_LOCATION_TYPES, None),
        ),
        p("reason", TEXT),
        p("priceCalculationDate", Ty::Date),
    ],
    required: &[],
};

const SERVICE_CODE_OR_REFERENCE: Shape = Shape {
    props: &[
        p("carrierServiceCode", TEXT),
        p("universalServiceReference", s(8)),
    ],
    required: &[],
};

const VOYAGE_NUMBER_OR_REFERENCE: Shape = Shape {
    props: &[
        p("carrierVoyageNumber", TEXT),
        p("universalVoyageReference", s(5)),
    ],
    required: &[],
};

const VESSEL_TRANSPORT: Shape = Shape {
    props: &[
        pr("vesselIMONumber", s(8), rules::DCSA_VESSEL_IMO),
        p("vesselName", s(50)),
        p("vesselFlag", s(2)),
        p("vesselCallSign", s(10)),
        p("operatorCarrierCode", s(10)),
        p("operatorCarrierCodeListProvider", s(10)),
    ],
    required: &[],
};

const RAIL_TRANSPORT: Shape = Shape {
    props: &[
        p("railCarReference", s(50)),
        p("railServiceReference", s(50)),
        p("departureID", s(100)),
    ],
    required: &[],
};

const VEHICLE_DETAILS: Shape = Shape {
    props: &[
        p("licensePlate", s(15)),
        p("vehicleIdentificationNumber", s(15)),
    ],
    required: &[],
};

const TRUCK_TRANSPORT: Shape = Shape {
    props: &[
        p("tractorDetails", Ty::Obj(&VEHICLE_DETAILS)),
        p("trailerDetails", Ty::Obj(&VEHICLE_DETAILS)),
    ],
    required: &[],
};

const TRANSPORT_CALL: Shape = Shape {
    props: &[
        p("transportCallReference", TEXT),
        p("transportCallSequenceNumber", Ty::Int),
        pr(
            "modeOfTransport",
            Ty::Code(MODES_OF_TRANSPORT, Some(50)),
            rules::DCSA_MODE_OF_TRANSPORT,
        ),
        p("portVisitReference", TEXT),
        p(
            "serviceCodeOrReference",
            Ty::Obj(&SERVICE_CODE_OR_REFERENCE),
        ),
        p(
            "exportVoyageNumberOrReference",
            Ty::Obj(&VOYAGE_NUMBER_OR_REFERENCE),
        ),
        p(
            "importVoyageNumberOrReference",
            Ty::Obj(&VOYAGE_NUMBER_OR_REFERENCE),
        ),
        p("vesselTransport", Ty::Obj(&VESSEL_TRANSPORT)),
        p("railTransport", Ty::Obj(&RAIL_TRANSPORT)),
        p("truckTransport", Ty::Obj(&TRUCK_TRANSPORT)),
    ],
    required: &[],
};

const TRANSPORT_DETAILS: Shape = Shape {
    props: &[
        p("delayReasonCodes", Ty::List(&Ty::Str(Some(3)), None)),
        pr("changeRemark", s(250), rules::DCSA_CHANGE_REMARK_LENGTH),
        p("transportCall", Ty::Obj(&TRANSPORT_CALL)),
    ],
    required: &[],
};

const SEAL: Shape = Shape {
    props: &[
        p("number", s(15)),
        p("source", Ty::Code(SEAL_SOURCES, None)),
        p("type", Ty::Code(SEAL_TYPES, None)),
        p("placement", Ty::Code(SEAL_PLACEMENTS, None)),
    ],
    required: &[],
};

const EQUIPMENT_DETAILS: Shape = Shape {
    props: &[
        pr(
            "equipmentReference",
            s(11),
            rules::DCSA_EQUIPMENT_REFERENCE_LENGTH,
        ),
        pr(
            "ISOEquipmentCode",
            s(4),
            rules::DCSA_ISO_EQUIPMENT_CODE_LENGTH,
        ),
        pr(
            "emptyIndicatorCode",
            Ty::Code(EMPTY_INDICATORS, None),
            rules::DCSA_EMPTY_INDICATOR,
        ),
        p("movementType", Ty::Code(MOVEMENT_TYPES, None)),
        p("seals", Ty::List(&Ty::Obj(&SEAL), None)),
    ],
    required: &[],
};

const IOT_DETAILS: Shape = Shape {
    props: &[p("iotEventCode", Ty::Code(IOT_EVENT_CODES, None))],
    required: &[],
};

const TEMPERATURE_PROBE_MEASUREMENT: Shape = Shape {
    props: &[
        p("measuredTemperatureValue", Ty::Num),
        p("USDAProbeNumber", Ty::Int),
        p("COAProbeUDMKey", TEXT),
        p("probeLabel", TEXT),
    ],
    required: &[],
};

const REEFER_PARAMETERS: Shape = Shape {
    props: &[
        p("o2Percentage", Ty::Num),
        p("co2Percentage", Ty::Num),
        p("humidityPercentage", Ty::Num),
        p("airExchangeValue", Ty::Num),
        p("airExchangeUnit", TEXT),
        p("isVentilationOpen", Ty::Bool),
        p("isDrainholesOpen", Ty::Bool),
        p("isBulbMode", Ty::Bool),
        p("isColdTreatmentRequired", Ty::Bool),
        p("isControlledAtmosphereRequired", Ty::Bool),
    ],
    required: &[],
};

const REEFER_DETAILS: Shape = Shape {
    props: &[
        p("temperatureUnit", Ty::Code(TEMPERATURE_UNITS, None)),
        p("internalSetpointTemperature", Ty::Num),
        p(
            "temperatureProbeMeasurements",
            Ty::List(&Ty::Obj(&TEMPERATURE_PROBE_MEASUREMENT), None),
        ),
        p("ambientMeasuredTemperature", Ty::Num),
        p("setpointParameters", Ty::Obj(&REEFER_PARAMETERS)),
        p("measuredParameters", Ty::Obj(&REEFER_PARAMETERS)),
    ],
    required: &[],
};

/// A T&T 3.0 `Event`.
pub(crate) const EVENT: Shape = Shape {
    props: &[
        p("eventRouting", Ty::Obj(&EVENT_ROUTING)),
        p("eventID", s(500)),
        p("isRetracted", Ty::Bool),
        p("eventDateTime", Ty::DateTime(Some(30))),
        p("eventUpdatedDateTime", Ty::DateTime(Some(30))),
        p("eventLocation", Ty::Obj(&LOCATION)),
        p("eventClassification", Ty::Obj(&EVENT_CLASSIFICATION)),
        p("shipmentDetails", Ty::Obj(&SHIPMENT_DETAILS)),
        p("transportDetails", Ty::Obj(&TRANSPORT_DETAILS)),
        p("equipmentDetails", Ty::Obj(&EQUIPMENT_DETAILS)),
        p("iotDetails", Ty::Obj(&IOT_DETAILS)),
        p("reeferDetails", Ty::Obj(&REEFER_DETAILS)),
    ],
    required: &[
        "eventDateTime",
        "eventUpdatedDateTime",
        "eventClassification",
    ],
};

/// The keys that only a T&T 3.0 event has at its root: their presence (without a
/// flat `eventType`) is how a 3.0 event is recognised.
pub(crate) const SHAPE_KEYS: &[&str] = &[
    "eventClassification",
    "eventRouting",
    "eventUpdatedDateTime",
    "shipmentDetails",
    "transportDetails",
    "equipmentDetails",
    "iotDetails",
    "reeferDetails",
];
