//! The stable identifiers of the event rules, one constant each, and the table that lists them.
//!
//! A [`Refusal`](super::Refusal) carries one of these identifiers. They are part of
//! the interface: operators grep logs for them and metrics use them as labels, so an
//! identifier is never renamed or reused for another check.

/// One rule of `shared/STANDARDS.md` as the validator enforces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable identifier a refusal prints, e.g. `iso6346.check_digit`.
    pub id: &'static str,
    /// What the rule checks, in a few words.
    pub checks: &'static str,
    /// The section of `shared/STANDARDS.md` the rule comes from.
    pub section: &'static str,
}

macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident = $id:literal, $checks:literal, $section:expr;)+) => {
        $(
            $(#[$doc])*
            pub const $name: &str = $id;
        )+

        /// Every rule, in the order of the table in the module documentation.
        pub const ALL: &[Rule] = &[$(Rule { id: $id, checks: $checks, section: $section },)+];
    };
}

const KINDS: &str = "Event kinds";
const DCSA: &str = "DCSA Track & Trace 2.2";
const ISO6346: &str = "ISO 6346 container numbers";
const UNLOCODE: &str = "UN/LOCODE";
const MONEY: &str = "Money: ISO 4217 and ISO 20022";
const EBL: &str = "eBL title transfer";
const PROJECT: &str = "Event kinds (project events)";
/// Not (yet) a section of `shared/STANDARDS.md`: the declaration rules are documented in `docs/customs.md`.
const CUSTOMS: &str = "Customs declarations (docs/customs.md)";

rules! {
    /// An event is a JSON object.
    EVENT_OBJECT = "event.object", "an event is a JSON object", KINDS;
    /// `eventType` is one of the eight kinds.
    EVENT_TYPE = "event.type", "`eventType` is present and one of the eight kinds", KINDS;
    /// `eventID` is a UUID.
    EVENT_ID_UUID = "event.id_uuid", "`eventID` is a UUID in its hyphenated form", DCSA;
    /// Date-times are RFC 3339 with a UTC offset.
    EVENT_DATE_TIME = "event.date_time", "`eventCreatedDateTime`, `eventDateTime` are RFC 3339 with a UTC offset", DCSA;
    /// Calendar dates are `YYYY-MM-DD` and exist.
    EVENT_DATE = "event.date", "calendar dates are `YYYY-MM-DD` and exist", PROJECT;
    /// A required field of the project's own events is present.
    EVENT_REQUIRED = "event.required", "a required field of the project's own events is present", PROJECT;
    /// The project's own events carry only the fields they define.
    EVENT_UNKNOWN_FIELD = "event.unknown_field", "the project's own events carry only the fields they define", PROJECT;
    /// A field without a more specific rule has the JSON type its definition gives.
    EVENT_FIELD_TYPE = "event.field_type", "a field without a more specific rule has the JSON type its definition gives", KINDS;
    /// Free text of the project's own events is non-empty, within its length, without control characters.
    EVENT_TEXT = "event.text", "free text of the project's own events is non-empty, within its length, without control characters, bidirectional controls or line/paragraph separators", PROJECT;
    /// No key or string of an event holds a control character, a bidirectional control or a line/paragraph separator.
    JSON_CHARACTERS = "json.characters", "no key or string of any event holds a control character, a bidirectional control (U+202A-U+202E, U+2066-U+2069) or a line/paragraph separator (U+2028, U+2029)", KINDS;
    /// No object of an event repeats a key.
    JSON_DUPLICATE_KEY = "json.duplicate_key", "no object repeats a key (refused when the JSON is read, before validation)", KINDS;

    /// A field DCSA requires is present.
    DCSA_REQUIRED = "dcsa.required", "a field the DCSA schema of the event's version requires for its class is present and not empty", DCSA;
    /// The declared DCSA version matches the event's shape.
    DCSA_VERSION = "dcsa.version", "a declared DCSA version matches the event's shape (flat 2.x, nested 3.0)", DCSA;
    /// A string is within the schema's `maxLength`, an array within its `maxItems`.
    DCSA_LENGTH = "dcsa.length", "a DCSA field without a more specific rule is within the schema's maxLength / maxItems", DCSA;
    /// A coded field is on the schema's enumeration.
    DCSA_CODE = "dcsa.code", "a DCSA coded field without a more specific rule is on the schema's enumeration", DCSA;
    /// A code that arrived in a later version is refused for an earlier one.
    DCSA_CODE_VERSION = "dcsa.code_version", "a code is accepted only for the DCSA versions that define it (e.g. PENC, CANC from 2.3)", DCSA;
    /// A field the schema does not define is carried, but bounded.
    DCSA_UNKNOWN_FIELD = "dcsa.unknown_field", "a field the DCSA schema does not define is carried as it is, within bounds (name 100 chars, strings 1000 chars, 100 items, 8 levels)", DCSA;
    /// A T&T 3.0 retraction is not relayed.
    DCSA_RETRACTED = "dcsa.retracted", "a T&T 3.0 event with `isRetracted` true is not relayed (it maps to no event kind)", DCSA;
    /// `eventClassifierCode` of TRANSPORT and EQUIPMENT events is PLN, ACT or EST.
    DCSA_CLASSIFIER = "dcsa.classifier", "`eventClassifierCode` is PLN, ACT or EST (TRANSPORT, EQUIPMENT)", DCSA;
    /// A SHIPMENT event is classified ACT, PLN or EST.
    DCSA_SHIPMENT_CLASSIFIER = "dcsa.shipment.classifier", "a SHIPMENT event's `eventClassifierCode` is ACT, PLN or EST", DCSA;
    /// A SHIPMENT event's `eventDateTime` equals its `eventCreatedDateTime` (a warning; strict mode refuses).
    DCSA_SHIPMENT_EVENT_DATE_TIME = "dcsa.shipment.event_date_time", "a 2.x SHIPMENT event's `eventDateTime` is the instant of `eventCreatedDateTime`: a warning, refused under --strict and a strict ledger", DCSA;
    /// `shipmentEventTypeCode` is on DCSA's list.
    DCSA_SHIPMENT_EVENT_TYPE_CODE = "dcsa.shipment.event_type_code", "`shipmentEventTypeCode` is on DCSA's list", DCSA;
    /// `documentTypeCode` is on DCSA's list.
    DCSA_DOCUMENT_TYPE_CODE = "dcsa.document_type_code", "`documentTypeCode` is on DCSA's list", DCSA;
    /// Customs events (document CUS) are REQS, HOLD, RELS or CMPL, or revoke (VOID, CANC).
    CUSTOMS_SHIPMENT_EVENT_TYPE = "customs.shipment_event_type", "a customs event (`documentTypeCode` CUS) is REQS, HOLD, RELS or CMPL, or VOID or CANC (a revoked declaration)", DCSA;
    /// `transportEventTypeCode` is ARRI or DEPA.
    DCSA_TRANSPORT_EVENT_TYPE_CODE = "dcsa.transport.event_type_code", "`transportEventTypeCode` is ARRI or DEPA", DCSA;
    /// `changeRemark` is at most 250 characters.
    DCSA_CHANGE_REMARK_LENGTH = "dcsa.change_remark.length", "`changeRemark` is at most 250 characters", DCSA;
    /// `equipmentEventTypeCode` is on DCSA's list.
    DCSA_EQUIPMENT_EVENT_TYPE_CODE = "dcsa.equipment.event_type_code", "`equipmentEventTypeCode` is on DCSA's list (with HOLD)", DCSA;
    /// `emptyIndicatorCode` is EMPTY or LADEN.
    DCSA_EMPTY_INDICATOR = "dcsa.empty_indicator", "`emptyIndicatorCode` is EMPTY or LADEN", DCSA;
    /// LOAD and DISC carry a transport call.
    DCSA_EQUIPMENT_TRANSPORT_CALL_REQUIRED = "dcsa.equipment.transport_call_required", "LOAD and DISC equipment events carry a `transportCall`", DCSA;
    /// GTIN and GTOT carry a location.
    DCSA_EQUIPMENT_LOCATION_REQUIRED = "dcsa.equipment.location_required", "GTIN and GTOT equipment events carry an `eventLocation`", DCSA;
    /// `ISOEquipmentCode` is at most 4 characters.
    DCSA_ISO_EQUIPMENT_CODE_LENGTH = "dcsa.iso_equipment_code.length", "`ISOEquipmentCode` is 1 to 4 characters", DCSA;
    /// `equipmentReference` is at most 15 characters (2.x) or 11 (3.0).
    DCSA_EQUIPMENT_REFERENCE_LENGTH = "dcsa.equipment_reference.length", "`equipmentReference` is at most 15 characters (2.x) or 11 (3.0)", DCSA;
    /// A transport document reference is at most 20 characters.
    DCSA_TRANSPORT_DOCUMENT_REFERENCE_LENGTH = "dcsa.transport_document_reference.length", "a transport document reference is 1 to 20 characters", DCSA;
    /// A carrier booking reference is at most 35 characters.
    DCSA_CARRIER_BOOKING_REFERENCE_LENGTH = "dcsa.carrier_booking_reference.length", "a carrier booking reference is 1 to 35 characters", DCSA;
    /// `carrierServiceCode` is at most 5 characters.
    DCSA_CARRIER_SERVICE_CODE_LENGTH = "dcsa.carrier_service_code.length", "`transportCall.carrierServiceCode` is 1 to 5 characters", DCSA;
    /// The vessel IMO number is 7 digits.
    DCSA_VESSEL_IMO = "dcsa.vessel_imo", "the vessel IMO number is 7 digits (2.x) or 7 to 8 digits (3.0)", DCSA;
    /// `modeOfTransport` is VESSEL, RAIL, TRUCK or BARGE.
    DCSA_MODE_OF_TRANSPORT = "dcsa.mode_of_transport", "`modeOfTransport` is VESSEL, RAIL, TRUCK or BARGE (3.0: or MULTIMODAL)", DCSA;

    /// A container number is 3 owner letters, U/J/Z, 6 digits and a check digit.
    ISO6346_FORMAT = "iso6346.format", "a container number is 3 owner letters, category U, J or Z, 6 digits, 1 check digit", ISO6346;
    /// The ISO 6346 check digit matches.
    ISO6346_CHECK_DIGIT = "iso6346.check_digit", "the container number's check digit is the ISO 6346 one", ISO6346;
    /// An equipment reference without the ISO shape is carried as non-ISO (a warning that strict mode does not refuse).
    ISO6346_NON_ISO = "iso6346.non_iso", "an `equipmentReference` without the ISO 6346 shape is accepted as a non-ISO reference and marked so (a warning)", ISO6346;
    /// A UN/LOCODE matches `^[A-Z]{2}[A-Z2-9]{3}$`.
    UNLOCODE_PATTERN = "unlocode.pattern", "a UN/LOCODE matches `^[A-Z]{2}[A-Z2-9]{3}$`", UNLOCODE;
    /// The country part of a UN/LOCODE is an ISO 3166-1 code.
    UNLOCODE_COUNTRY = "unlocode.country", "the first two letters of a UN/LOCODE are an ISO 3166-1 alpha-2 country (or UN/LOCODE's XZ)", UNLOCODE;
    /// A UN/LOCODE is on the shipped edition of the code list (or in the alias table).
    UNLOCODE_UNKNOWN = "unlocode.unknown", "a UN/LOCODE is on the UN/LOCODE 2023-1 code list, not marked for deletion (or in the alias table)", UNLOCODE;

    /// The currency is an active ISO 4217 code with a minor unit.
    ISO4217_CURRENCY = "iso4217.currency", "the currency is an ISO 4217 code with a minor unit (not CNH), not withdrawn by the event's date (ISO 4217 list three)", MONEY;
    /// A stated exponent equals the currency's ISO 4217 minor unit.
    ISO4217_PRECISION = "iso4217.precision", "an amount's `exponent`, when given, equals the currency's minor unit", MONEY;
    /// An amount's value is a JSON integer.
    MONEY_NOT_INTEGER = "money.not_integer", "an amount's `value` is a JSON integer of minor units, never a float or string", MONEY;
    /// An amount is not negative.
    MONEY_NEGATIVE = "money.negative", "an amount's `value` is not negative", MONEY;
    /// An amount has at most 18 digits.
    MONEY_DIGITS = "money.digits", "an amount's `value` has at most 18 digits", MONEY;

    /// `endToEndId` is 1 to 35 characters.
    ISO20022_END_TO_END_ID = "iso20022.end_to_end_id", "`endToEndId` is 1 to 35 characters", MONEY;
    /// `uetr` is a lowercase UUID v4.
    ISO20022_UETR = "iso20022.uetr", "`uetr` is a lowercase UUID v4", MONEY;
    /// Agent BICs follow ISO 9362:2014.
    ISO20022_BIC = "iso20022.bic", "agent BICs match `^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$`", MONEY;
    /// `chargeBearer` is DEBT, CRED, SHAR or SLEV.
    ISO20022_CHARGE_BEARER = "iso20022.charge_bearer", "`chargeBearer` is DEBT, CRED, SHAR or SLEV", MONEY;
    /// `status` is a pacs.002 transaction status.
    ISO20022_STATUS = "iso20022.status", "`status` is a pacs.002 transaction status code", MONEY;
    /// RJCT carries a reason; a reason is a 1 to 4 character code.
    ISO20022_REJECTION_REASON = "iso20022.rejection_reason", "RJCT carries a `statusReason`; a `statusReason` is a 1 to 4 character code", MONEY;
    /// The credit number is 1 to 16 SWIFT characters.
    MT700_CREDIT_NUMBER = "mt700.credit_number", "`creditNumber` (field 20) is 1 to 16 SWIFT x characters, no leading, trailing or double slash", MONEY;
    /// `kind` is one of the letter-of-credit kinds.
    MT700_KIND = "mt700.kind", "`kind` is ISSUED, AMENDED, DOCS_PRESENTED, ACCEPTED, DISCREPANT, PAID, EXPIRED or CANCELLED", MONEY;
    /// The expiry date is after the issue date.
    MT700_EXPIRY_AFTER_ISSUE = "mt700.expiry_after_issue", "`expiryDate` is after `issueDate`", MONEY;
    /// An invoice is not due before it is issued.
    INVOICE_DUE_DATE = "invoice.due_date", "an invoice's `dueDate` is not before its `issueDate`", PROJECT;

    /// `transportDocumentStatus` is an eBL 3.0 state.
    EBL_DOCUMENT_STATUS = "ebl.document_status", "`transportDocumentStatus` is an eBL 3.0 state (not a notification's short name)", EBL;
    /// `action` and the transfer chain's entries are PINT actions.
    EBL_ACTION = "ebl.action", "`action` and each `transferChain` entry is a PINT transfer action", EBL;
    /// The transfer chain starts with ISSUE, and ISSUE appears only first.
    EBL_CHAIN_START = "ebl.chain_start", "the transfer chain starts with ISSUE, and only starts with it", EBL;
    /// Nothing follows SACC.
    EBL_AFTER_SACC = "ebl.after_sacc", "nothing follows SACC in the transfer chain", EBL;
    /// Sender and recipient are PINT parties.
    EBL_PARTY = "ebl.party", "`sender` and `recipient` name an eBL platform and at least one identifying code", EBL;
    /// The recipient is there exactly where the action has one.
    EBL_RECIPIENT = "ebl.recipient", "`recipient` is present for actions addressed to a party and absent for SIGN and BLANK_ENDORSE", EBL;

    /// The declaration number is 18 digits.
    CUSTOMS_DECLARATION_NUMBER = "customs.declaration_number", "`declarationNumber` is 18 digits: office code (4), year (4), import/export flag (1), serial (9)", CUSTOMS;
    /// The office code is 4 digits and begins the declaration number.
    CUSTOMS_OFFICE_CODE = "customs.office_code", "`customsOfficeCode` is 4 digits and equals the declaration number's first four", CUSTOMS;
    /// The declaration number's year is plausible.
    CUSTOMS_DECLARATION_YEAR = "customs.declaration_year", "the declaration number's year is from 2000 to the year of `eventCreatedDateTime` in Beijing time (UTC+8)", CUSTOMS;
    /// The import/export flag agrees with the declaration type.
    CUSTOMS_IE_FLAG = "customs.ie_flag", "the declaration number's import/export flag is 0 (export) or 1 (import) and agrees with `declarationType` (TRANSIT: either)", CUSTOMS;
    /// The serial is not zero.
    CUSTOMS_SERIAL = "customs.serial", "the declaration number's 9-digit serial is not 000000000", CUSTOMS;
    /// `declarationType` is EXPORT, IMPORT or TRANSIT.
    CUSTOMS_DECLARATION_TYPE = "customs.declaration_type", "`declarationType` is EXPORT, IMPORT or TRANSIT", CUSTOMS;
    /// `modeOfTransport` is one of DCSA's four.
    CUSTOMS_MODE_OF_TRANSPORT = "customs.mode_of_transport", "`modeOfTransport` is VESSEL, RAIL, TRUCK or BARGE", CUSTOMS;
    /// A USCI has the GB 32100-2015 shape.
    USCI_FORMAT = "usci.format", "a USCI is 18 characters of GB 32100's set (digits, capitals but I, O, S, V, Z): registration authority, category, 6-digit division code, 9-character organization code, check character", CUSTOMS;
    /// A USCI's check character is the GB 32100-2015 one.
    USCI_CHECK_CHARACTER = "usci.check_character", "a USCI's 18th character is the GB 32100-2015 check character (weights 3^i mod 31)", CUSTOMS;
    /// The organization code inside a USCI has its GB 11714 check character.
    USCI_ORGANIZATION_CODE = "usci.organization_code", "a USCI's characters 9 to 17 are an organization code whose last character is its GB 11714-1997 check character", CUSTOMS;
    /// Parties are well formed and identified.
    CUSTOMS_PARTY = "customs.party", "a party's `role` is on the list and CONSIGNOR, CONSIGNEE appear at most once; the declarant and every party in CN carry a USCI; a USCI party is in CN", CUSTOMS;
    /// An HS code is 6 or 10 digits.
    HS_CODE = "hs.code", "`hsCode` is 6 digits (HS subheading) or 10 digits (China's national tariff code)", CUSTOMS;
    /// An HS code's chapter exists.
    HS_CHAPTER = "hs.chapter", "an HS code's chapter (first two digits) is 01 to 97 and not 77 (reserved)", CUSTOMS;
    /// An HS code's heading is not 00.
    HS_HEADING = "hs.heading", "an HS code's heading (digits 3 and 4) is not 00: headings are numbered from 01 in each chapter", CUSTOMS;
    /// A unit of quantity is a UN/ECE Recommendation 20 code.
    REC20_UNIT = "rec20.unit", "`quantity.unitCode` is a UN/ECE Recommendation 20 common code on the shipped list", CUSTOMS;
    /// A country is ISO 3166-1 alpha-2.
    ISO3166_COUNTRY = "iso3166.country", "`originCountry` and `countryCode` are ISO 3166-1 alpha-2 codes (the 249 assigned)", CUSTOMS;
    /// Decimal fields are decimal strings.
    CUSTOMS_DECIMAL = "customs.decimal", "quantities, weights and declared amounts are decimal strings (digits, an optional fraction, no sign or exponent, at most 18 digits)", CUSTOMS;
    /// A quantity is positive.
    CUSTOMS_QUANTITY = "customs.quantity", "a goods line's `quantity.value` is more than zero", CUSTOMS;
    /// A weight is positive and, for a container, within ISO 668.
    CUSTOMS_WEIGHT = "customs.weight", "a gross weight is more than zero kg; a container's at most 36000 kg (ISO 668's largest rating)", CUSTOMS;
    /// Seals are 1 to 10 non-empty strings of at most 15 characters.
    CUSTOMS_SEALS = "customs.seals", "a container carries 1 to 10 seals, each 1 to 15 characters (DCSA's seal number bound), none repeated on it or on another container", CUSTOMS;
    /// No container is listed twice.
    CUSTOMS_DUPLICATE_CONTAINER = "customs.duplicate_container", "no container is listed twice in `containers`", CUSTOMS;
    /// Goods lines are numbered 1, 2, 3...
    CUSTOMS_LINE_NUMBER = "customs.line_number", "goods lines are numbered 1, 2, 3... in order (unique, from 1, no gap)", CUSTOMS;
    /// Goods lines and containers are within their bounds.
    CUSTOMS_GOODS = "customs.goods", "a declaration has 1 to 999 goods lines and at most 999 containers", CUSTOMS;
    /// A UN number is `UN` and four digits.
    DG_UN_NUMBER = "dg.un_number", "`dangerousGoods.unNumber` is UN and four digits, not UN0000", CUSTOMS;
    /// An IMDG class is one of the Code's classes and divisions.
    DG_IMDG_CLASS = "dg.imdg_class", "`dangerousGoods.imdgClass` is an IMDG class or division (1.1 to 1.6, 2.1 to 2.3, 3, 4.1 to 4.3, 5.1, 5.2, 6.1, 6.2, 7, 8, 9)", CUSTOMS;
    /// Explosives and only explosives have UN numbers below 1000.
    DG_CLASS_CONSISTENCY = "dg.class_consistency", "a UN number below UN1000 (the explosives' range) has class 1, and class 1 has such a number", CUSTOMS;
    /// The route's ports are distinct and bounded.
    CUSTOMS_ROUTE = "customs.route", "the route has 0 to 5 transhipment ports and names no port twice (loading, transhipments, discharge)", CUSTOMS;
    /// `validUntil` is after `eventCreatedDateTime`.
    CUSTOMS_VALID_UNTIL = "customs.valid_until", "`validUntil`, when given, is an RFC 3339 date-time after `eventCreatedDateTime`", CUSTOMS;
}

/// The rule with this identifier, if there is one.
pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().find(|rule| rule.id == id)
}
