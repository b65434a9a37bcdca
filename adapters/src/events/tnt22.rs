//! The schemas of DCSA Track & Trace 2.2 (flat events) as tables, with the codes 2.3 added.
//!
//! Source: `tnt/v2/test/tnt_v2.2.0.yaml` in dcsaorg/DCSA-OpenAPI, the resolved bundle
//! of TNT 2.2.0 with the EVENT_DOMAIN 1.0.4 schemas it references (the same file the
//! DCSA conformance suite holds as `TNT_v2.2.0-resolved.yaml`); the 2.3 additions
//! are those of `tnt/v2/README.md` (release v2.3.0). Every `maxLength`, `enum` and
//! `required` below is the schema's; where this table differs from
//! `shared/STANDARDS.md`, `docs/dcsa.md` says so.

use super::rules;
use super::schema::{c, only_2_2, p, pr, since_2_3, Code, Prop, Shape, Ty};

const fn s(max: usize) -> Ty {
    Ty::Str(Some(max))
}

const TEXT: Ty = Ty::Str(None);

pub(crate) const EVENT_CLASSIFIERS: &[Code] = &[c("ACT"), c("PLN"), c("EST")];

pub(crate) const SHIPMENT_EVENT_TYPE_CODES: &[Code] = &[
    c("RECE"),
    c("DRFT"),
    c("PENA"),
    c("PENU"),
    c("REJE"),
    c("APPR"),
    c("ISSU"),
    c("SURR"),
    c("SUBM"),
    c("VOID"),
    c("CONF"),
    c("REQS"),
    c("CMPL"),
    c("HOLD"),
    c("RELS"),
    since_2_3("PENC"),
    since_2_3("CANC"),
];

pub(crate) const DOCUMENT_TYPE_CODES: &[Code] = &[
    c("CBR"),
    c("BKG"),
    c("SHI"),
    c("SRM"),
    c("TRD"),
    c("ARN"),
    c("VGM"),
    c("CAS"),
    c("CUS"),
    c("DGD"),
    c("OOG"),
];

pub(crate) const TRANSPORT_EVENT_TYPE_CODES: &[Code] = &[c("ARRI"), c("DEPA")];

pub(crate) const EQUIPMENT_EVENT_TYPE_CODES: &[Code] = &[
    c("LOAD"),
    c("DISC"),
    c("GTIN"),
    c("GTOT"),
    c("STUF"),
    c("STRP"),
    c("PICK"),
    c("DROP"),
    c("INSP"),
    c("RSEA"),
    c("RMVD"),
];

const EMPTY_INDICATORS: &[Code] = &[c("EMPTY"), c("LADEN")];
const MODES_OF_TRANSPORT: &[Code] = &[c("VESSEL"), c("RAIL"), c("TRUCK"), c("BARGE")];
const FACILITY_CODE_LIST_PROVIDERS: &[Code] = &[c("BIC"), c("SMDG")];
const FACILITY_TYPE_CODES: &[Code] = &[
    c("BOCR"),
    c("CLOC"),
    c("COFS"),
    c("COYA"),
    c("OFFD"),
    c("DEPO"),
    c("INTE"),
    c("POTE"),
    c("RAMP"),
];
const CARRIER_CODE_LIST_PROVIDERS: &[Code] = &[c("SMDG"), c("NMFTA")];
const REFERENCE_TYPES: &[Code] = &[
    c("FF"),
    c("SI"),
    c("PO"),
    c("CR"),
    c("AAO"),
    c("EQ"),
    since_2_3("ECR"),
    since_2_3("CSI"),
    since_2_3("BPR"),
    since_2_3("BID"),
];
/// 2.2 published the enumeration with the descriptions inside the values ("BKG
/// (Booking)"); DCSA's own 2.2 conformance material sends the bare codes, so 2.2
/// takes both; 2.3 fixed the values and added CBR and SHI.
const DOCUMENT_REFERENCE_TYPES: &[Code] = &[
    only_2_2("BKG (Booking)"),
    only_2_2("TRD (Transport Document)"),
    c("BKG"),
    c("TRD"),
    since_2_3("CBR"),
    since_2_3("SHI"),
];
const SEAL_SOURCES: &[Code] = &[c("CAR"), c("SHI"), c("PHY"), c("VET"), c("CUS")];
const SEAL_TYPES: &[Code] = &[c("KLP"), c("BLT"), c("WIR")];
const SHIPMENT_INFORMATION_TYPES: &[Code] = &[
    c("BOK"),
    c("BKG"),
    c("SHI"),
    c("VGM"),
    c("SRM"),
    c("TRD"),
    c("ARN"),
];
const TRANSPORT_EVENT_TYPE_CODES_DEPRECATED: &[Code] = &[c("ARRI"), c("DEPA")];
const SHIPMENT_EVENT_TYPE_CODES_DEPRECATED: &[Code] = &[
    c("RECE"),
    c("CONF"),
    c("ISSU"),
    c("APPR"),
    c("SUBM"),
    c("SURR"),
    c("REJE"),
    c("PENA"),
];
const EQUIPMENT_EVENT_TYPE_CODES_DEPRECATED: &[Code] = &[
    c("LOAD"),
    c("DISC"),
    c("GTIN"),
    c("GTOT"),
    c("STUF"),
    c("STRP"),
];

const ADDRESS: Shape = Shape {
    props: &[
        p("name", s(100)),
        p("street", s(100)),
        p("streetNumber", s(50)),
        p("floor", s(50)),
        p("postCode", s(10)),
        p("city", s(65)),
        p("stateRegion", s(65)),
        p("country", s(75)),
    ],
    required: &[],
};

const LOCATION: Shape = Shape {
    props: &[
        p("locationName", s(100)),
        p("latitude", s(10)),
        p("longitude", s(11)),
        p("UNLocationCode", Ty::UnLocode),
        p("facilityCode", s(6)),
        p(
            "facilityCodeListProvider",
            Ty::Code(FACILITY_CODE_LIST_PROVIDERS, None),
        ),
        p("address", Ty::Obj(&ADDRESS)),
    ],
    required: &[],
};

const VESSEL: Shape = Shape {
    props: &[
        pr("vesselIMONumber", s(7), rules::DCSA_VESSEL_IMO),
        p("vesselName", s(35)),
        p("vesselFlag", s(2)),
        p("vesselCallSignNumber", s(10)),
        p("vesselOperatorCarrierCode", s(10)),
        p(
            "vesselOperatorCarrierCodeListProvider",
            Ty::Code(CARRIER_CODE_LIST_PROVIDERS, None),
        ),
    ],
    required: &["vesselIMONumber"],
};

const TRANSPORT_CALL: Shape = Shape {
    props: &[
        p("transportCallID", s(100)),
        pr(
            "carrierServiceCode",
            s(5),
            rules::DCSA_CARRIER_SERVICE_CODE_LENGTH,
        ),
        p("carrierVoyageNumber", s(50)),
        p("exportVoyageNumber", s(50)),
        p("importVoyageNumber", s(50)),
        p("transportCallSequenceNumber", Ty::Int),
        p("UNLocationCode", Ty::UnLocode),
        p("facilityCode", s(6)),
        p(
            "facilityCodeListProvider",
            Ty::Code(FACILITY_CODE_LIST_PROVIDERS, None),
        ),
        p("facilityTypeCode", Ty::Code(FACILITY_TYPE_CODES, None)),
        p("otherFacility", s(50)),
        pr(
            "modeOfTransport",
            Ty::Code(MODES_OF_TRANSPORT, None),
            rules::DCSA_MODE_OF_TRANSPORT,
        ),
        p("location", Ty::Obj(&LOCATION)),
        p("vessel", Ty::Obj(&VESSEL)),
    ],
    required: &["transportCallID", "modeOfTransport"],
};

const DOCUMENT_REFERENCE: Shape = Shape {
    props: &[
        p(
            "documentReferenceType",
            Ty::Code(DOCUMENT_REFERENCE_TYPES, None),
        ),
        p("documentReferenceValue", TEXT),
    ],
    required: &[],
};

const REFERENCE: Shape = Shape {
    props: &[
        p("referenceType", Ty::Code(REFERENCE_TYPES, None)),
        p("referenceValue", s(100)),
    ],
    required: &["referenceType", "referenceValue"],
};

const SEAL: Shape = Shape {
    props: &[
        p("sealNumber", s(15)),
        p("sealSource", Ty::Code(SEAL_SOURCES, None)),
        p("sealType", Ty::Code(SEAL_TYPES, None)),
    ],
    required: &["sealNumber", "sealType"],
};

const DOCUMENT_REFERENCES: Ty = Ty::List(&Ty::Obj(&DOCUMENT_REFERENCE), None);
const REFERENCES: Ty = Ty::List(&Ty::Obj(&REFERENCE), None);

/// The base event's and event body's properties, with the class's classifier rule.
macro_rules! base {
    ($class:literal, $classifier_rule:expr) => {
        [
            p("eventID", Ty::Uuid),
            p("eventCreatedDateTime", Ty::DateTime(None)),
            pr("eventType", Ty::Code(&[c($class)], None), rules::EVENT_TYPE),
            pr(
                "eventClassifierCode",
                Ty::Code(EVENT_CLASSIFIERS, None),
                $classifier_rule,
            ),
            p("eventDateTime", Ty::DateTime(None)),
        ]
    };
}

const REQUIRED_BASE: [&str; 4] = [
    "eventCreatedDateTime",
    "eventType",
    "eventClassifierCode",
    "eventDateTime",
];

const TRANSPORT_PROPS: [Prop; 14] = {
    let b = base!("TRANSPORT", rules::DCSA_CLASSIFIER);
    [
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        pr(
            "transportEventTypeCode",
            Ty::Code(TRANSPORT_EVENT_TYPE_CODES, None),
            rules::DCSA_TRANSPORT_EVENT_TYPE_CODE,
        ),
        p("delayReasonCode", s(3)),
        pr(
            "vesselScheduleChangeRemark",
            s(250),
            rules::DCSA_CHANGE_REMARK_LENGTH,
        ),
        pr("changeRemark", s(250), rules::DCSA_CHANGE_REMARK_LENGTH),
        p("transportCallID", s(100)),
        p("transportCall", Ty::Obj(&TRANSPORT_CALL)),
        p(
            "eventTypeCode",
            Ty::Code(TRANSPORT_EVENT_TYPE_CODES_DEPRECATED, Some(4)),
        ),
        p("documentReferences", DOCUMENT_REFERENCES),
        p("references", REFERENCES),
    ]
};

/// A TRANSPORT event.
pub(crate) const TRANSPORT: Shape = Shape {
    props: &TRANSPORT_PROPS,
    required: &[
        REQUIRED_BASE[0],
        REQUIRED_BASE[1],
        REQUIRED_BASE[2],
        REQUIRED_BASE[3],
        "transportEventTypeCode",
        "transportCall",
    ],
};

const SHIPMENT_PROPS: [Prop; 14] = {
    let b = base!("SHIPMENT", rules::DCSA_SHIPMENT_CLASSIFIER);
    [
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        pr(
            "shipmentEventTypeCode",
            Ty::Code(SHIPMENT_EVENT_TYPE_CODES, None),
            rules::DCSA_SHIPMENT_EVENT_TYPE_CODE,
        ),
        p("documentID", TEXT),
        pr(
            "documentTypeCode",
            Ty::Code(DOCUMENT_TYPE_CODES, Some(3)),
            rules::DCSA_DOCUMENT_TYPE_CODE,
        ),
        p(
            "shipmentInformationTypeCode",
            Ty::Code(SHIPMENT_INFORMATION_TYPES, Some(3)),
        ),
        // 2.3 bounds it at 250 (checked in dcsa.rs, by version).
        p("reason", TEXT),
        p(
            "eventTypeCode",
            Ty::Code(SHIPMENT_EVENT_TYPE_CODES_DEPRECATED, Some(4)),
        ),
        p("shipmentID", Ty::Uuid),
        // Added to SHIPMENT events in 2.3.
        p("documentReferences", DOCUMENT_REFERENCES),
        p("references", REFERENCES),
    ]
};

/// A SHIPMENT event.
pub(crate) const SHIPMENT: Shape = Shape {
    props: &SHIPMENT_PROPS,
    required: &[
        REQUIRED_BASE[0],
        REQUIRED_BASE[1],
        REQUIRED_BASE[2],
        REQUIRED_BASE[3],
        "shipmentEventTypeCode",
        "documentID",
        "documentTypeCode",
    ],
};

const EQUIPMENT_PROPS: [Prop; 16] = {
    let b = base!("EQUIPMENT", rules::DCSA_CLASSIFIER);
    [
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        pr(
            "equipmentEventTypeCode",
            Ty::Code(EQUIPMENT_EVENT_TYPE_CODES, None),
            rules::DCSA_EQUIPMENT_EVENT_TYPE_CODE,
        ),
        pr(
            "equipmentReference",
            s(15),
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
        p("eventLocation", Ty::Obj(&LOCATION)),
        p("transportCallID", s(100)),
        p("transportCall", Ty::Obj(&TRANSPORT_CALL)),
        p("documentReferences", DOCUMENT_REFERENCES),
        p("references", REFERENCES),
        p("seals", Ty::List(&Ty::Obj(&SEAL), None)),
        p(
            "eventTypeCode",
            Ty::Code(EQUIPMENT_EVENT_TYPE_CODES_DEPRECATED, Some(4)),
        ),
    ]
};

/// An EQUIPMENT event.
pub(crate) const EQUIPMENT: Shape = Shape {
    props: &EQUIPMENT_PROPS,
    required: &[
        REQUIRED_BASE[0],
        REQUIRED_BASE[1],
        REQUIRED_BASE[2],
        REQUIRED_BASE[3],
        "equipmentEventTypeCode",
        "emptyIndicatorCode",
    ],
};
