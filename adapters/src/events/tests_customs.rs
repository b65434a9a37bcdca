//! CUSTOMS_DECLARATION: each rule with a valid and an invalid example (joined to the
//! rule table of `tests.rs`), USCI check characters against published codes,
//! declaration numbers by their parts, and the typed view.

use serde_json::{json, Value};

use super::customs::{
    organization_code_check, usci_check_character, Decimal, DecimalError, DeclarationNumber,
    HsCode, Usci, UsciError,
};
use super::tests::{case, long, remove, set, Case};
use super::*;

/// An export declaration at Shunde (customs office 5316 in this example) of laptops
/// (lithium batteries, UN3481 class 9) going to Rotterdam through Shekou.
pub(super) fn declaration() -> Value {
    json!({
        "eventType": "CUSTOMS_DECLARATION",
        "eventID": "3cecb101-7a1a-43a4-9d62-e88a131651e2",
        "eventCreatedDateTime": "2027-01-15T08:00:00+08:00",
        "declarationNumber": "531620270000012345",
        "declarationType": "EXPORT",
        "customsOfficeCode": "5316",
        "declarant": {"name": "Shunde Forwarding Co.", "usci": "91350100M000100Y43"},
        "parties": [
            {"role": "CONSIGNOR", "name": "Shunde Electronics Co.", "usci": "91440606MA51H2LK2N", "countryCode": "CN"},
            {"role": "CONSIGNEE", "name": "Rotterdam Home Goods B.V.", "countryCode": "NL"}
        ],
        "goods": [{
            "lineNumber": 1,
            "hsCode": "8471300000",
            "description": "laptops",
            "quantity": {"value": "400", "unitCode": "C62"},
            "grossWeightKg": "2400.0",
            "declaredValue": {"amount": "160000.00", "currency": "USD"},
            "originCountry": "CN",
            "dangerousGoods": {"unNumber": "UN3481", "imdgClass": "9"}
        }],
        "containers": [{"equipmentReference": "CSQU3054383", "seals": ["CN1234567"], "grossWeightKg": "6200.0"}],
        "transportDocumentReference": "COSU6346123450",
        "modeOfTransport": "VESSEL",
        "route": {"portOfLoading": "CNSUD", "transhipmentPorts": ["CNSHK"], "portOfDischarge": "NLRTM"},
        "validUntil": "2027-02-15T00:00:00Z"
    })
}

fn second_line() -> Value {
    json!({
        "lineNumber": 2, "hsCode": "851762", "description": "routers",
        "quantity": {"value": "120.5", "unitCode": "KGM"},
        "declaredValue": {"amount": "9000", "currency": "EUR"}, "originCountry": "VN"
    })
}

fn second_container() -> Value {
    json!({"equipmentReference": "TCNU7200794", "seals": ["CN7654321", "SH778812"]})
}

/// The rule table's customs lines: `(rule, base, edits that keep it valid, edits
/// that break the rule, the field the refusal names)`.
#[rustfmt::skip]
pub(super) fn cases() -> Vec<Case> {
    use rules::*;
    let d = declaration;
    vec![
        // The project's shared rules, as a declaration uses them.
        case(EVENT_UNKNOWN_FIELD, d, vec![], vec![set("/declarationDate", json!("2027-01-15"))], "declarationDate"),
        case(EVENT_UNKNOWN_FIELD, d, vec![], vec![set("/goods/0/netWeightKg", json!("2300"))], "goods[0].netWeightKg"),
        case(EVENT_REQUIRED, d, vec![remove("/parties"), remove("/containers"), remove("/transportDocumentReference"), remove("/validUntil"), remove("/route/transhipmentPorts"), remove("/goods/0/dangerousGoods"), remove("/goods/0/grossWeightKg")], vec![remove("/route")], "route"),
        case(EVENT_REQUIRED, d, vec![], vec![remove("/containers/0/seals")], "containers[0].seals"),
        case(EVENT_DATE_TIME, d, vec![set("/eventDateTime", json!("2027-01-15T07:59:00+08:00"))], vec![set("/eventDateTime", json!("2027-01-15 07:59"))], "eventDateTime"),
        case(EVENT_TEXT, d, vec![set("/goods/0/description", long(255))], vec![set("/goods/0/description", long(256))], "goods[0].description"),
        case(EVENT_TEXT, d, vec![], vec![set("/declarant/name", json!(" "))], "declarant.name"),
        case(DCSA_TRANSPORT_DOCUMENT_REFERENCE_LENGTH, d, vec![set("/transportDocumentReference", long(20))], vec![set("/transportDocumentReference", long(21))], "transportDocumentReference"),
        case(ISO6346_CHECK_DIGIT, d, vec![set("/containers/0/equipmentReference", json!("GYOU4047990"))], vec![set("/containers/0/equipmentReference", json!("CSQU3054384"))], "containers[0].equipmentReference"),
        // A declaration names ISO 6346 containers only: a non-ISO reference is refused, not warned.
        case(ISO6346_FORMAT, d, vec![], vec![set("/containers/0/equipmentReference", json!("TRAILER-0042"))], "containers[0].equipmentReference"),
        case(UNLOCODE_PATTERN, d, vec![set("/route/portOfDischarge", json!("GRPIR"))], vec![set("/route/portOfDischarge", json!("nlrtm"))], "route.portOfDischarge"),
        case(UNLOCODE_PATTERN, d, vec![], vec![set("/route/transhipmentPorts/0", json!(7))], "route.transhipmentPorts[0]"),
        case(UNLOCODE_UNKNOWN, d, vec![], vec![set("/route/transhipmentPorts/0", json!("CNQQQ"))], "route.transhipmentPorts[0]"),
        case(ISO4217_CURRENCY, d, vec![set("/goods/0/declaredValue/currency", json!("CNY"))], vec![set("/goods/0/declaredValue/currency", json!("CNH"))], "goods[0].declaredValue.currency"),
        case(ISO4217_PRECISION, d, vec![set("/goods/0/declaredValue", json!({"amount": "160000", "currency": "JPY"}))], vec![set("/goods/0/declaredValue", json!({"amount": "160000.5", "currency": "JPY"}))], "goods[0].declaredValue.amount"),
        case(ISO4217_PRECISION, d, vec![set("/goods/0/declaredValue/amount", json!("160000.1"))], vec![set("/goods/0/declaredValue/amount", json!("160000.001"))], "goods[0].declaredValue.amount"),
        case(MONEY_NEGATIVE, d, vec![set("/goods/0/declaredValue/amount", json!("0.00"))], vec![set("/goods/0/declaredValue/amount", json!("-1.00"))], "goods[0].declaredValue.amount"),
        case(MONEY_DIGITS, d, vec![set("/goods/0/declaredValue/amount", json!("9999999999999999.99"))], vec![set("/goods/0/declaredValue/amount", json!("99999999999999999.99"))], "goods[0].declaredValue.amount"),
        // 18 digits as written, but 19 in minor units of USD.
        case(MONEY_DIGITS, d, vec![], vec![set("/goods/0/declaredValue/amount", json!("99999999999999999"))], "goods[0].declaredValue.amount"),
        // The declaration number: 18 digits, office, year, flag, serial.
        case(CUSTOMS_DECLARATION_NUMBER, d, vec![], vec![set("/declarationNumber", json!("53162027000001234"))], "declarationNumber"),
        case(CUSTOMS_DECLARATION_NUMBER, d, vec![], vec![set("/declarationNumber", json!("5316-2027-0-000012345"))], "declarationNumber"),
        case(CUSTOMS_DECLARATION_NUMBER, d, vec![], vec![set("/declarationNumber", json!(531620270000012345_u64))], "declarationNumber"),
        case(CUSTOMS_OFFICE_CODE, d, vec![set("/declarationNumber", json!("530420270000012345")), set("/customsOfficeCode", json!("5304"))], vec![set("/customsOfficeCode", json!("5304"))], "customsOfficeCode"),
        case(CUSTOMS_OFFICE_CODE, d, vec![], vec![set("/customsOfficeCode", json!("531"))], "customsOfficeCode"),
        // The year is judged in Beijing time: 2026-12-31T16:00Z is already 2027 there.
        case(CUSTOMS_DECLARATION_YEAR, d, vec![set("/eventCreatedDateTime", json!("2026-12-31T16:00:00Z"))], vec![set("/eventCreatedDateTime", json!("2026-12-31T15:59:59Z"))], "declarationNumber"),
        case(CUSTOMS_DECLARATION_YEAR, d, vec![set("/declarationNumber", json!("531620000000012345"))], vec![set("/declarationNumber", json!("531619990000012345"))], "declarationNumber"),
        case(CUSTOMS_IE_FLAG, d, vec![set("/declarationType", json!("TRANSIT"))], vec![set("/declarationType", json!("IMPORT"))], "declarationNumber"),
        case(CUSTOMS_IE_FLAG, d, vec![set("/declarationType", json!("IMPORT")), set("/declarationNumber", json!("531620271000012345"))], vec![set("/declarationNumber", json!("531620271000012345"))], "declarationNumber"),
        case(CUSTOMS_IE_FLAG, d, vec![], vec![set("/declarationType", json!("TRANSIT")), set("/declarationNumber", json!("531620272000012345"))], "declarationNumber"),
        case(CUSTOMS_SERIAL, d, vec![set("/declarationNumber", json!("531620270000000001"))], vec![set("/declarationNumber", json!("531620270000000000"))], "declarationNumber"),
        case(CUSTOMS_DECLARATION_TYPE, d, vec![], vec![set("/declarationType", json!("EXPORTS"))], "declarationType"),
        case(CUSTOMS_DECLARATION_TYPE, d, vec![], vec![set("/declarationType", json!("export"))], "declarationType"),
        case(CUSTOMS_MODE_OF_TRANSPORT, d, vec![set("/modeOfTransport", json!("BARGE"))], vec![set("/modeOfTransport", json!("MULTIMODAL"))], "modeOfTransport"),
        case(CUSTOMS_MODE_OF_TRANSPORT, d, vec![set("/modeOfTransport", json!("RAIL"))], vec![set("/modeOfTransport", json!("SEA"))], "modeOfTransport"),
        // USCI (GB 32100-2015).
        case(USCI_FORMAT, d, vec![], vec![set("/declarant/usci", json!("91350100M000100Y4"))], "declarant.usci"),
        case(USCI_FORMAT, d, vec![], vec![set("/declarant/usci", json!("91350100M0001O0Y43"))], "declarant.usci"),
        case(USCI_FORMAT, d, vec![], vec![set("/declarant/usci", json!("H1350100M000100Y43"))], "declarant.usci"),
        case(USCI_FORMAT, d, vec![], vec![set("/parties/0/usci", json!("9144A606MA51H2LK2N"))], "parties[0].usci"),
        case(USCI_FORMAT, d, vec![], vec![set("/parties/0/usci", json!("91440606ma51h2lk2n"))], "parties[0].usci"),
        case(USCI_CHECK_CHARACTER, d, vec![set("/parties/0/usci", json!("91440606MA4UJ8XX7K"))], vec![set("/parties/0/usci", json!("91440606MA51H2LK2P"))], "parties[0].usci"),
        // A pilot-era Fujian code that GB 32100's check character does not confirm (its 18th is M, the rule gives 1).
        case(USCI_CHECK_CHARACTER, d, vec![], vec![set("/declarant/usci", json!("91350100M0001TGQXM"))], "declarant.usci"),
        // Right GB 32100 check character, wrong GB 11714 one inside (Y5: the rule gives Y4).
        case(USCI_ORGANIZATION_CODE, d, vec![], vec![set("/declarant/usci", json!("91350100M000100Y56"))], "declarant.usci"),
        // Parties.
        case(CUSTOMS_PARTY, d, vec![set("/parties/1/role", json!("NOTIFY_PARTY"))], vec![set("/parties/1/role", json!("SHIPPER"))], "parties[1].role"),
        case(CUSTOMS_PARTY, d, vec![], vec![set("/parties/1/role", json!("CONSIGNOR"))], "parties[1].role"),
        case(CUSTOMS_PARTY, d, vec![remove("/parties/0/countryCode")], vec![remove("/parties/0/usci")], "parties[0].usci"),
        case(CUSTOMS_PARTY, d, vec![], vec![remove("/declarant/usci")], "declarant.usci"),
        case(CUSTOMS_PARTY, d, vec![], vec![set("/parties/1/usci", json!("91440606MA4UJ8XX7K"))], "parties[1].countryCode"),
        // The declarant has no role.
        case(EVENT_UNKNOWN_FIELD, d, vec![], vec![set("/declarant/role", json!("CONSIGNOR"))], "declarant.role"),
        // Goods lines.
        case(HS_CODE, d, vec![set("/goods/0/hsCode", json!("847130"))], vec![set("/goods/0/hsCode", json!("84713000"))], "goods[0].hsCode"),
        case(HS_CODE, d, vec![], vec![set("/goods/0/hsCode", json!("8471.30"))], "goods[0].hsCode"),
        case(HS_CODE, d, vec![], vec![set("/goods/0/hsCode", json!(8471300000_u64))], "goods[0].hsCode"),
        case(HS_CHAPTER, d, vec![set("/goods/0/hsCode", json!("970110"))], vec![set("/goods/0/hsCode", json!("771000"))], "goods[0].hsCode"),
        case(HS_CHAPTER, d, vec![set("/goods/0/hsCode", json!("0101210000"))], vec![set("/goods/0/hsCode", json!("0001210000"))], "goods[0].hsCode"),
        case(HS_CHAPTER, d, vec![], vec![set("/goods/0/hsCode", json!("980100"))], "goods[0].hsCode"),
        // Natural honey is 0409.00: a heading without subheadings has 00 there, never in the heading.
        case(HS_HEADING, d, vec![set("/goods/0/hsCode", json!("040900"))], vec![set("/goods/0/hsCode", json!("840000"))], "goods[0].hsCode"),
        case(REC20_UNIT, d, vec![set("/goods/0/quantity/unitCode", json!("KGM"))], vec![set("/goods/0/quantity/unitCode", json!("PCS"))], "goods[0].quantity.unitCode"),
        case(REC20_UNIT, d, vec![set("/goods/0/quantity/unitCode", json!("MTQ"))], vec![set("/goods/0/quantity/unitCode", json!("kgm"))], "goods[0].quantity.unitCode"),
        case(ISO3166_COUNTRY, d, vec![set("/goods/0/originCountry", json!("HK"))], vec![set("/goods/0/originCountry", json!("UK"))], "goods[0].originCountry"),
        case(ISO3166_COUNTRY, d, vec![], vec![set("/goods/0/originCountry", json!("XK"))], "goods[0].originCountry"),
        case(ISO3166_COUNTRY, d, vec![set("/parties/1/countryCode", json!("GB"))], vec![set("/parties/1/countryCode", json!("nl"))], "parties[1].countryCode"),
        case(ISO3166_COUNTRY, d, vec![], vec![set("/goods/0/originCountry", json!("CHN"))], "goods[0].originCountry"),
        case(CUSTOMS_DECIMAL, d, vec![set("/goods/0/grossWeightKg", json!("2400"))], vec![set("/goods/0/grossWeightKg", json!("2,400.0"))], "goods[0].grossWeightKg"),
        case(CUSTOMS_DECIMAL, d, vec![], vec![set("/goods/0/grossWeightKg", json!(2400.0))], "goods[0].grossWeightKg"),
        case(CUSTOMS_DECIMAL, d, vec![], vec![set("/goods/0/quantity/value", json!("4e2"))], "goods[0].quantity.value"),
        case(CUSTOMS_DECIMAL, d, vec![set("/goods/0/quantity/value", json!("0.5"))], vec![set("/goods/0/quantity/value", json!(".5"))], "goods[0].quantity.value"),
        case(CUSTOMS_DECIMAL, d, vec![], vec![set("/containers/0/grossWeightKg", json!("6200."))], "containers[0].grossWeightKg"),
        case(CUSTOMS_DECIMAL, d, vec![], vec![set("/goods/0/declaredValue/amount", json!(160000))], "goods[0].declaredValue.amount"),
        case(CUSTOMS_DECIMAL, d, vec![], vec![set("/goods/0/quantity/value", json!("1234567890123456789"))], "goods[0].quantity.value"),
        case(CUSTOMS_QUANTITY, d, vec![set("/goods/0/quantity/value", json!("0.001"))], vec![set("/goods/0/quantity/value", json!("0"))], "goods[0].quantity.value"),
        case(CUSTOMS_QUANTITY, d, vec![], vec![set("/goods/0/quantity/value", json!("-400"))], "goods[0].quantity.value"),
        case(CUSTOMS_WEIGHT, d, vec![set("/containers/0/grossWeightKg", json!("36000"))], vec![set("/containers/0/grossWeightKg", json!("36000.1"))], "containers[0].grossWeightKg"),
        case(CUSTOMS_WEIGHT, d, vec![set("/goods/0/grossWeightKg", json!("40000"))], vec![set("/goods/0/grossWeightKg", json!("0.0"))], "goods[0].grossWeightKg"),
        case(CUSTOMS_WEIGHT, d, vec![], vec![set("/containers/0/grossWeightKg", json!("-6200"))], "containers[0].grossWeightKg"),
        // Containers and seals.
        case(CUSTOMS_SEALS, d, vec![set("/containers/0/seals", json!(["CN1234567", "SH778812"]))], vec![set("/containers/0/seals", json!([]))], "containers[0].seals"),
        case(CUSTOMS_SEALS, d, vec![set("/containers/0/seals", json!(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]))], vec![set("/containers/0/seals", json!(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]))], "containers[0].seals"),
        case(CUSTOMS_SEALS, d, vec![set("/containers/0/seals/0", long(15))], vec![set("/containers/0/seals/0", long(16))], "containers[0].seals[0]"),
        case(CUSTOMS_SEALS, d, vec![], vec![set("/containers/0/seals/1", json!(""))], "containers[0].seals[1]"),
        case(CUSTOMS_SEALS, d, vec![], vec![set("/containers/0/seals/1", json!("CN1234567"))], "containers[0].seals[1]"),
        case(CUSTOMS_SEALS, d, vec![], vec![set("/containers/0/seals/0", json!(1234567))], "containers[0].seals[0]"),
        case(CUSTOMS_SEALS, d, vec![], vec![set("/containers/0/seals", json!("CN1234567"))], "containers[0].seals"),
        case(CUSTOMS_SEALS, d, vec![set("/containers/1", second_container())], vec![set("/containers/1", second_container()), set("/containers/1/seals/1", json!("CN1234567"))], "containers[1].seals[1]"),
        case(CUSTOMS_DUPLICATE_CONTAINER, d, vec![set("/containers/1", second_container())], vec![set("/containers/1", second_container()), set("/containers/2", json!({"equipmentReference": "CSQU3054383", "seals": ["X1"]}))], "containers[2].equipmentReference"),
        case(CUSTOMS_LINE_NUMBER, d, vec![set("/goods/1", second_line())], vec![set("/goods/1", second_line()), set("/goods/1/lineNumber", json!(1))], "goods[1].lineNumber"),
        case(CUSTOMS_LINE_NUMBER, d, vec![], vec![set("/goods/0/lineNumber", json!(0))], "goods[0].lineNumber"),
        case(CUSTOMS_LINE_NUMBER, d, vec![], vec![set("/goods/1", second_line()), set("/goods/1/lineNumber", json!(3))], "goods[1].lineNumber"),
        case(CUSTOMS_LINE_NUMBER, d, vec![], vec![set("/goods/0/lineNumber", json!("1"))], "goods[0].lineNumber"),
        case(CUSTOMS_GOODS, d, vec![remove("/containers")], vec![set("/goods", json!([]))], "goods"),
        // Dangerous goods.
        case(DG_UN_NUMBER, d, vec![set("/goods/0/dangerousGoods", json!({"unNumber": "UN1263", "imdgClass": "3"}))], vec![set("/goods/0/dangerousGoods/unNumber", json!("3481"))], "goods[0].dangerousGoods.unNumber"),
        case(DG_UN_NUMBER, d, vec![], vec![set("/goods/0/dangerousGoods/unNumber", json!("UN0000"))], "goods[0].dangerousGoods.unNumber"),
        case(DG_UN_NUMBER, d, vec![], vec![set("/goods/0/dangerousGoods/unNumber", json!("UN34810"))], "goods[0].dangerousGoods.unNumber"),
        case(DG_IMDG_CLASS, d, vec![set("/goods/0/dangerousGoods", json!({"unNumber": "UN1950", "imdgClass": "2.1"}))], vec![set("/goods/0/dangerousGoods/imdgClass", json!("10"))], "goods[0].dangerousGoods.imdgClass"),
        case(DG_IMDG_CLASS, d, vec![], vec![set("/goods/0/dangerousGoods/imdgClass", json!("4"))], "goods[0].dangerousGoods.imdgClass"),
        case(DG_IMDG_CLASS, d, vec![], vec![set("/goods/0/dangerousGoods/imdgClass", json!(9))], "goods[0].dangerousGoods.imdgClass"),
        case(DG_CLASS_CONSISTENCY, d, vec![set("/goods/0/dangerousGoods", json!({"unNumber": "UN0336", "imdgClass": "1.4"}))], vec![set("/goods/0/dangerousGoods/unNumber", json!("UN0336"))], "goods[0].dangerousGoods.imdgClass"),
        case(DG_CLASS_CONSISTENCY, d, vec![], vec![set("/goods/0/dangerousGoods/imdgClass", json!("1.1"))], "goods[0].dangerousGoods.imdgClass"),
        // Route and validity.
        case(CUSTOMS_ROUTE, d, vec![set("/route/transhipmentPorts", json!([]))], vec![set("/route/transhipmentPorts", json!(["CNSUD"]))], "route.transhipmentPorts[0]"),
        case(CUSTOMS_ROUTE, d, vec![], vec![set("/route/portOfDischarge", json!("CNSUD"))], "route.portOfDischarge"),
        // CNCWN is Shekou (CNSHK) under another name.
        case(CUSTOMS_ROUTE, d, vec![set("/route/transhipmentPorts", json!(["CNCWN"]))], vec![set("/route/transhipmentPorts", json!(["CNSHK", "CNCWN"]))], "route.transhipmentPorts[1]"),
        case(CUSTOMS_ROUTE, d, vec![set("/route/transhipmentPorts", json!(["CNSHK", "HKHKG", "SGSIN", "LKCMB", "EGPSD"]))], vec![set("/route/transhipmentPorts", json!(["CNSHK", "HKHKG", "SGSIN", "LKCMB", "EGPSD", "GRPIR"]))], "route.transhipmentPorts"),
        case(CUSTOMS_VALID_UNTIL, d, vec![set("/validUntil", json!("2027-01-15T00:00:01Z"))], vec![set("/validUntil", json!("2027-01-15T00:00:00Z"))], "validUntil"),
        case(CUSTOMS_VALID_UNTIL, d, vec![remove("/validUntil")], vec![set("/validUntil", json!("2027-02-15"))], "validUntil"),
    ]
}

// ------------------------------------------------------------ USCI

/// Published USCIs (company registrations as printed on their business licences
/// and annual reports), and GB 32100-2015's own example.
const PUBLISHED_USCIS: [&str; 4] = [
    "91350100M000100Y43", // GB 32100-2015's example
    "914403001922038216", // Huawei Technologies Co., Ltd.
    "91440300708461136T", // Shenzhen Tencent Computer Systems Co., Ltd.
    "91330100716105852F", // Alibaba (China) Co., Ltd.
];

#[test]
fn published_uscis_pass_both_check_characters() {
    for code in PUBLISHED_USCIS {
        let usci = Usci::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(usci.as_str(), code);
        let b = code.as_bytes();
        assert_eq!(usci_check_character(&b[..17]), Some(char::from(b[17])));
        assert_eq!(organization_code_check(&b[8..16]), Some(char::from(b[16])));
    }
    let usci = Usci::parse("914403001922038216").unwrap();
    assert_eq!(usci.division(), "440300");
    assert_eq!(usci.organization_code(), "192203821");
}

#[test]
fn every_changed_character_of_a_published_usci_is_caught() {
    // GB 32100's check character catches any single substitution: change each
    // position of each published code to every other character of the set.
    for code in PUBLISHED_USCIS {
        for i in 0..18 {
            for &c in super::customs::USCI_CHARSET {
                let mut b = code.as_bytes().to_vec();
                if b[i] == c {
                    continue;
                }
                b[i] = c;
                let changed = String::from_utf8(b).unwrap();
                assert!(
                    Usci::parse(&changed).is_err(),
                    "{changed} (from {code}) accepted"
                );
            }
        }
    }
}

#[test]
fn usci_faults_name_their_rule() {
    let rule = |s: &str| Usci::parse(s).unwrap_err().rule();
    assert_eq!(rule("91350100M000100Y44"), rules::USCI_CHECK_CHARACTER);
    assert_eq!(rule("91350100M000100Y56"), rules::USCI_ORGANIZATION_CODE);
    assert_eq!(rule("91350100M0001I0Y43"), rules::USCI_FORMAT);
    assert_eq!(rule("91350100M0001S0Y43"), rules::USCI_FORMAT);
    assert_eq!(rule("91350100M000100Y4"), rules::USCI_FORMAT);
    assert_eq!(rule("９1350100M000100Y43"), rules::USCI_FORMAT);
    let why = Usci::parse("９1350100M000100Y43").unwrap_err().to_string();
    assert!(why.contains("character 1 ('９')"), "{why}");
    assert!(Usci::parse("é1350100M000100Y43")
        .unwrap_err()
        .to_string()
        .contains("character 1"));
    assert!(matches!(
        Usci::parse("91350100M000100Y44"),
        Err(UsciError::CheckCharacter {
            expected: '3',
            found: '4'
        })
    ));
    // Organization codes on their own (GB 11714): 10 is written X, 11 is written 0.
    assert_eq!(organization_code_check(b"19220382"), Some('1'));
    assert_eq!(organization_code_check(b"70846113"), Some('6'));
    assert_eq!(organization_code_check(b"M000100Y"), Some('4'));
    assert_eq!(organization_code_check(b"00009000"), Some('X'));
    assert_eq!(organization_code_check(b"0000000A"), Some('2'));
    assert_eq!(organization_code_check(b"00000000"), Some('0'));
}

// ------------------------------------------------------------ declaration numbers

#[test]
fn declaration_numbers_by_their_parts() {
    let n = DeclarationNumber::parse("531620270000012345").unwrap();
    assert_eq!(n.office(), "5316");
    assert_eq!(n.year(), 2027);
    assert_eq!(n.flag(), 0);
    assert_eq!(n.serial(), 12345);
    assert_eq!(n.to_string(), "531620270000012345");
    let n = DeclarationNumber::parse("222320241999999999").unwrap();
    assert_eq!(
        (n.office(), n.year(), n.flag(), n.serial()),
        ("2223", 2024, 1, 999_999_999)
    );
    for bad in [
        "53162027000001234",
        "5316202700000123456",
        "53162027000001234X",
        "５31620270000012345",
        "",
    ] {
        assert!(DeclarationNumber::parse(bad).is_none(), "{bad}");
    }
}

// ------------------------------------------------------------ decimals and HS codes

#[test]
fn decimals() {
    let d = |s: &str| Decimal::parse(s);
    assert_eq!(d("2400.0").unwrap(), d("2400").unwrap());
    assert!(d("2400.01").unwrap() > d("2400").unwrap());
    assert_eq!(d("0400.50").unwrap().to_string(), "400.50");
    assert_eq!(d("2400.0").unwrap().units_at(2), Some(240_000));
    assert_eq!(d("2400.001").unwrap().units_at(2), None, "never rounds");
    assert_eq!(
        d("999999999999999999").unwrap().units,
        999_999_999_999_999_999
    );
    assert_eq!(d("0.000000000000000001").unwrap().scale, 18);
    assert_eq!(d("1234567890123456789"), Err(DecimalError::Digits));
    assert_eq!(d("-1"), Err(DecimalError::Negative));
    assert_eq!(d("-2400.5"), Err(DecimalError::Negative));
    assert_eq!(d("-abc"), Err(DecimalError::Format));
    assert_eq!(d("--1"), Err(DecimalError::Format));
    for bad in [
        "", ".", "1.", ".5", "+1", "1e3", "1,5", " 1", "1.2.3", "-", "0x10",
    ] {
        assert_eq!(d(bad), Err(DecimalError::Format), "{bad:?}");
    }
    assert!((d("6200.5").unwrap().to_f64() - 6200.5).abs() < 1e-9);
}

#[test]
fn hs_codes() {
    let h = HsCode::parse("8471300000").unwrap();
    assert_eq!(
        (h.chapter(), h.heading(), h.subheading(), h.is_national()),
        (84, "8471", "847130", true)
    );
    assert!(!HsCode::parse("010121").unwrap().is_national());
    assert_eq!(HsCode::parse("770000").unwrap_err().0, rules::HS_CHAPTER);
    assert_eq!(HsCode::parse("99").unwrap_err().0, rules::HS_CODE);
}

#[test]
fn the_shipped_rec20_list_is_well_formed() {
    use super::customs::{is_rec20_unit, REC20_UNITS};
    assert!(REC20_UNITS.starts_with("# UN/ECE Recommendation 20 unit codes"));
    let codes: Vec<&str> = REC20_UNITS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert!(codes.len() > 1700, "{} codes", codes.len());
    assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    for code in &codes {
        assert!((2..=3).contains(&code.len()), "{code}");
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
            "{code}"
        );
        assert!(
            !(code.len() == 3 && code.starts_with('X')),
            "{code} is a Rec. 21 package code"
        );
    }
    // Units a declaration uses; Rec. 21's package codes and common misspellings are not units.
    for unit in [
        "C62", "H87", "KGM", "GRM", "TNE", "LTR", "MTQ", "MTK", "MTR", "SET", "PR", "DZN", "KWH",
        "NAR", "58",
    ] {
        assert!(is_rec20_unit(unit), "{unit}");
    }
    for not in ["XBX", "XCT", "PCS", "PCE", "KG", "kgm", "", "C6"] {
        assert!(!is_rec20_unit(not), "{not}");
    }
}

#[test]
fn the_shipped_iso3166_list_is_well_formed_and_agrees_with_unlocodes_countries() {
    use super::customs::{iso3166_country, ISO3166_COUNTRIES};
    assert!(ISO3166_COUNTRIES.starts_with("# ISO 3166-1 alpha-2 country codes"));
    let codes: Vec<&str> = ISO3166_COUNTRIES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_once('\t').unwrap().0)
        .collect();
    assert_eq!(codes.len(), 249, "ISO 3166-1 assigns 249 codes");
    assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    assert_eq!(iso3166_country("CN"), Some("China"));
    assert_eq!(iso3166_country("NL"), Some("Netherlands"));
    for not in ["XK", "UK", "EU", "cn", "CHN", "", "C"] {
        assert_eq!(iso3166_country(not), None, "{not}");
    }
    // The same list as the one unlocode.country judges by (the celes crate, less XK).
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            let code = String::from_utf8(vec![a, b]).unwrap();
            let celes = code != "XK" && celes::Country::from_alpha2(&code).is_ok();
            assert_eq!(iso3166_country(&code).is_some(), celes, "{code}");
        }
    }
}

// ------------------------------------------------------------ the typed view

#[test]
fn the_typed_view_of_a_declaration() {
    let v = declaration();
    let event = validate(&v).unwrap();
    assert_eq!(event.event_type(), "CUSTOMS_DECLARATION");
    assert_eq!(event.kind_label(), "CUSTOMS_DECLARATION/EXPORT");
    assert_eq!(event.app(), light_clients::App::Cargo);
    assert_eq!(event.json(), &v);
    assert_eq!(
        event
            .ports()
            .iter()
            .map(UnLocode::to_string)
            .collect::<Vec<_>>(),
        ["CNSUD", "CNSHK", "NLRTM"]
    );
    // eventDateTime is optional and then eventCreatedDateTime.
    assert_eq!(event.header().event_date_time, event.header().created);
    let PortEvent::CustomsDeclaration(d) = event else {
        panic!("not a declaration")
    };
    assert_eq!(d.declaration_number.office(), d.customs_office_code);
    assert_eq!(d.declaration_type, DeclarationType::Export);
    assert_eq!(d.declarant.usci.unwrap().as_str(), "91350100M000100Y43");
    assert_eq!(d.declarant.role, None);
    assert_eq!(d.parties[0].role, Some(PartyRole::Consignor));
    assert_eq!(d.parties[1].usci, None);
    let line = &d.goods[0];
    assert_eq!(line.line_number, 1);
    assert_eq!(line.hs_code.chapter(), 84);
    assert_eq!(line.quantity.unit_code, "C62");
    assert_eq!(line.declared_value.to_string(), "USD 160000.00");
    assert_eq!(line.declared_value.value, 16_000_000);
    let dg = line.dangerous_goods.unwrap();
    assert_eq!(
        (dg.un_number_text(), dg.imdg_class),
        ("UN3481".to_string(), ImdgClass::C9)
    );
    let c = &d.containers[0];
    assert_eq!(c.equipment_reference.as_str(), "CSQU3054383");
    assert_eq!(c.seals, ["CN1234567"]);
    assert_eq!(c.gross_weight_kg.unwrap().to_string(), "6200.0");
    assert!(d
        .container(&ContainerNumber::parse("CSQU3054383").unwrap())
        .is_some());
    assert_eq!(d.mode_of_transport, ModeOfTransport::Vessel);
    assert_eq!(
        d.transport_document_reference.as_deref(),
        Some("COSU6346123450")
    );
    let until = d.valid_until.unwrap();
    assert!(!d.expired_at(until - time::Duration::SECOND));
    assert!(d.expired_at(until));
}

#[test]
fn a_declaration_fills_its_record_layout() {
    use crate::records;
    let event = validate(&declaration()).unwrap();
    let fields = records::fields(&event);
    assert_eq!(fields.len(), records::WIDTH);
    assert_eq!(records::kind_of(&fields[0]), Some("CUSTOMS_DECLARATION"));
    let shown: Vec<String> = fields[1..7].iter().map(records::show).collect();
    assert_eq!(
        shown,
        [
            "EXPORT",
            "531620270000012345",
            "5316",
            "91350100M000100Y43",
            "CNSUD",
            "NLRTM"
        ]
    );
}

#[test]
fn the_declaration_examples_are_valid_and_their_customs_events_name_the_declaration() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/events");
    let text = std::fs::read_to_string(dir.join("customs.json")).unwrap();
    let events: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut number = None;
    let mut statuses = Vec::new();
    for (i, e) in events.iter().enumerate() {
        match validate(e) {
            Ok(PortEvent::CustomsDeclaration(d)) => number = Some(d.declaration_number.to_string()),
            Ok(PortEvent::Shipment(s)) => {
                assert_eq!(
                    s.document_type,
                    DocumentTypeCode::Cus,
                    "customs.json:{}",
                    i + 1
                );
                assert_eq!(
                    Some(&s.document_id),
                    number.as_ref(),
                    "customs.json:{}",
                    i + 1
                );
                statuses.push(s.shipment_event_type.to_string());
            }
            Ok(other) => panic!("customs.json:{}: unexpected {}", i + 1, other.event_type()),
            Err(r) => panic!("customs.json:{}: {r}", i + 1),
        }
    }
    assert_eq!(statuses, ["REQS", "HOLD", "RELS", "CMPL"]);
}

#[test]
fn the_refused_declaration_examples_break_one_rule_each() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/events");
    let text = std::fs::read_to_string(dir.join("customs-refused.ndjson")).unwrap();
    let refusals: Vec<(&str, String)> = text
        .lines()
        .map(|l| validate(&serde_json::from_str(l).unwrap()).unwrap_err())
        .map(|r| (r.rule, r.field))
        .collect();
    let expected = [
        (rules::USCI_CHECK_CHARACTER, "declarant.usci"),
        (rules::CUSTOMS_IE_FLAG, "declarationNumber"),
        (rules::HS_CHAPTER, "goods[1].hsCode"),
        (
            rules::CUSTOMS_DUPLICATE_CONTAINER,
            "containers[1].equipmentReference",
        ),
        (
            rules::DG_CLASS_CONSISTENCY,
            "goods[0].dangerousGoods.imdgClass",
        ),
    ];
    let expected: Vec<(&str, String)> = expected.iter().map(|(r, f)| (*r, f.to_string())).collect();
    assert_eq!(refusals, expected);
}

#[test]
fn the_fuzz_seed_is_a_valid_declaration() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds/port_events/customs-declaration.json");
    let seed: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(validate(&seed).unwrap().event_type(), "CUSTOMS_DECLARATION");
}
