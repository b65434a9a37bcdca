//! The customs app on its own: a declaration from Shunde honoured at
//! Shekou once, each cross-check's pass and failure recorded with its
//! warning, holds, sensitive cargo, screening and reuse.

use std::sync::Arc;

use adapters::events;
use light_clients::{App, ChannelId, Timestamp};
use serde_json::{json, Value};

use super::*;

pub(crate) const NUMBER: &str = "531620240000012345";
pub(crate) const BOX_A: &str = "CSQU3054383";
pub(crate) const BOX_B: &str = "TCNU7200794";
pub(crate) const STRAY: &str = "APZU4812090";
pub(crate) const TRD: &str = "COSU6346123450";

fn chain(s: &str) -> ChainId {
    ChainId::new(s).expect("chain id")
}

/// A valid declaration at Shunde (CNSUD) via Shekou (CNSHK) to Rotterdam.
pub(crate) fn declaration(number: &str, event_id: &str) -> Value {
    json!({
        "eventType": "CUSTOMS_DECLARATION",
        "eventID": event_id,
        "eventCreatedDateTime": "2024-05-01T08:00:00+08:00",
        "declarationNumber": number,
        "declarationType": "EXPORT",
        "customsOfficeCode": "5316",
        "declarant": {"name": "Shunde Forwarding Co.", "usci": "91350100M000100Y43"},
        "parties": [
            {"role": "CONSIGNOR", "name": "Foshan Shunde Appliances Ltd.", "usci": "91350100M000100Y43", "countryCode": "CN"},
            {"role": "CONSIGNEE", "name": "Rotterdam Home Goods B.V.", "countryCode": "NL"}
        ],
        "goods": [{
            "lineNumber": 1, "hsCode": "8471300000", "description": "laptops",
            "quantity": {"value": "400", "unitCode": "C62"},
            "grossWeightKg": "12400.0",
            "declaredValue": {"amount": "160000.00", "currency": "USD"},
            "originCountry": "CN",
            "dangerousGoods": {"unNumber": "UN3481", "imdgClass": "9"}
        }],
        "containers": [
            {"equipmentReference": BOX_A, "seals": ["CN1234567"], "grossWeightKg": "6200.0"},
            {"equipmentReference": BOX_B, "seals": ["CN7654321"], "grossWeightKg": "6200.0"}
        ],
        "transportDocumentReference": TRD,
        "modeOfTransport": "VESSEL",
        "route": {"portOfLoading": "CNSUD", "transhipmentPorts": ["CNSHK"], "portOfDischarge": "NLRTM"},
        "validUntil": "2024-06-30T00:00:00Z"
    })
}

/// A CUS event for `number`.
pub(crate) fn customs(code: &str, number: &str, event_id: &str) -> Value {
    json!({
        "eventID": event_id,
        "eventType": "SHIPMENT",
        "eventClassifierCode": "ACT",
        "eventCreatedDateTime": "2024-05-01T12:00:00+08:00",
        "eventDateTime": "2024-05-01T12:00:00+08:00",
        "shipmentEventTypeCode": code,
        "documentTypeCode": "CUS",
        "documentID": number,
    })
}

/// An EQUIPMENT event at Shekou with seals, a VGM and the transport document.
pub(crate) fn equipment(
    code: &str,
    container: &str,
    seals: &[&str],
    vgm: Option<f64>,
    at: &str,
    when: &str,
    event_id: &str,
) -> Value {
    let mut v = json!({
        "eventID": event_id,
        "eventType": "EQUIPMENT",
        "eventClassifierCode": "ACT",
        "eventCreatedDateTime": when,
        "eventDateTime": when,
        "equipmentEventTypeCode": code,
        "equipmentReference": container,
        "ISOEquipmentCode": "45G1",
        "emptyIndicatorCode": "LADEN",
        "eventLocation": {"locationName": "terminal", "UNLocationCode": at},
        "documentReferences": [{"documentReferenceType": "TRD", "documentReferenceValue": TRD}],
        "seals": seals.iter().map(|s| json!({"sealNumber": s, "sealSource": "CUS", "sealType": "WIR"})).collect::<Vec<_>>(),
    });
    if let Some(kg) = vgm {
        v["verifiedGrossMass"] = json!({"value": kg, "unit": "KGM"});
    }
    if code == "LOAD" || code == "DISC" {
        v["transportCall"] = json!({
            "transportCallID": "3a6f9f0e-7c1d-4e52-9b8a-1d2c3e4f5a60",
            "carrierServiceCode": "AEU1",
            "exportVoyageNumber": "0123W",
            "UNLocationCode": at,
            "modeOfTransport": "VESSEL",
            "vessel": {"vesselIMONumber": "9321483", "vesselName": "King of the Seas"}
        });
    }
    v
}

fn uuid(n: u32) -> String {
    format!("{n:08x}-7a1a-43a4-9d62-e88a131651e2")
}

fn event(v: &Value) -> PortEvent {
    events::validate(v).unwrap_or_else(|r| panic!("{r}: {v}"))
}

struct Port {
    app: CustomsApp,
    here: ChainId,
    height: u64,
    seq: u64,
}

impl Port {
    fn new(here: &str, rules: CustomsRules) -> Port {
        let mut app = CustomsApp::default();
        app.set_rules(Arc::new(rules));
        Port {
            app,
            here: chain(here),
            height: 10,
            seq: 0,
        }
    }

    fn ctx(&mut self) -> BlockContext {
        self.height += 1;
        BlockContext {
            height: self.height,
            time: Timestamp::from_unix_secs(1_714_600_000 + self.height as u32),
        }
    }

    /// `v` received from `from` over the relay.
    fn recv(&mut self, from: &str, v: &Value) -> Result<(), AppRefusal> {
        let e = event(v);
        self.seq += 1;
        let packet = PacketId {
            channel: ChannelId {
                source: chain(from),
                destination: self.here.clone(),
                app: App::Cargo,
            },
            sequence: self.seq,
        };
        let ctx = self.ctx();
        let here = self.here.clone();
        self.app
            .observe(&e, &here, &chain(from), Some(&packet), &ctx)
    }

    /// `v` recorded here.
    fn local(&mut self, v: &Value) -> Result<(), AppRefusal> {
        let here = self.here.clone();
        self.send(v, &here)
    }

    /// `v` recorded here, for `destination`.
    fn send(&mut self, v: &Value, destination: &ChainId) -> Result<(), AppRefusal> {
        let e = event(v);
        self.app.check_local(&e, &self.here, destination)?;
        let ctx = self.ctx();
        let here = self.here.clone();
        self.app.observe(&e, &here, &here, None, &ctx)
    }

    fn checks_of(&self, kind: &str) -> Vec<(String, bool)> {
        self.app
            .checks
            .iter()
            .filter(|c| c.container == kind || c.declaration == kind)
            .map(|c| (c.rule.clone(), c.passed))
            .collect()
    }

    fn warned(&self) -> Vec<&str> {
        self.app.warnings.iter().map(|w| w.rule.as_str()).collect()
    }
}

/// Shekou with a declaration and its release from Shunde.
fn honoured_at_shekou(rules: CustomsRules) -> Port {
    let mut p = Port::new("cmport-1", rules);
    p.recv("gba-1", &declaration(NUMBER, &uuid(1)))
        .expect("declaration");
    assert_eq!(p.app.containers[BOX_A].status, "declared");
    p.recv("gba-1", &customs("RELS", NUMBER, &uuid(2)))
        .expect("release");
    p
}

#[test]
fn a_released_declaration_is_honoured_at_the_linked_port() {
    let p = honoured_at_shekou(CustomsRules::default());
    let d = &p.app.declarations[NUMBER];
    let honour = d.honoured.as_ref().expect("honoured");
    assert_eq!(honour.release.kind, "SHIPMENT/CUS/RELS");
    assert_eq!(honour.release.origin, chain("gba-1"));
    for c in [BOX_A, BOX_B] {
        let status = &p.app.containers[c];
        assert_eq!(status.status, "released");
        assert!(status.honoured);
        assert_eq!(
            status.note,
            format!("released on the strength of declaration {NUMBER} at port CNSUD (gba-1)")
        );
    }
    // The evidence names where the proofs are.
    assert!(d
        .evidence
        .proof
        .contains("/v1/packets/gba-1/cmport-1/cargo/1"));
    assert!(p.app.warnings.is_empty(), "{:?}", p.warned());
}

#[test]
fn the_release_may_come_before_its_declaration() {
    let mut p = Port::new("cmport-1", CustomsRules::default());
    p.recv("gba-1", &customs("RELS", NUMBER, &uuid(2)))
        .expect("release");
    assert!(p.app.waiting.contains_key(NUMBER));
    p.recv("gba-1", &declaration(NUMBER, &uuid(1)))
        .expect("declaration");
    assert!(p.app.waiting.is_empty());
    assert!(p.app.declarations[NUMBER].honoured.is_some());
    assert!(p.app.containers[BOX_B].honoured);
}

#[test]
fn a_release_from_another_ledger_is_not_honoured() {
    let mut p = Port::new("cmport-1", CustomsRules::default());
    p.recv("gba-1", &declaration(NUMBER, &uuid(1)))
        .expect("declaration");
    p.recv("cosco-1", &customs("RELS", NUMBER, &uuid(2)))
        .expect("release");
    assert!(p.app.declarations[NUMBER].honoured.is_none());
    assert!(!p.app.containers[BOX_A].honoured);
}

#[test]
fn a_declaration_is_honoured_once_and_a_second_use_is_refused_and_warned() {
    let mut p = honoured_at_shekou(CustomsRules::default());
    // The same declaration again (a new message), or from elsewhere.
    for (from, n) in [("gba-1", 3), ("cosco-1", 4)] {
        let e = p
            .recv(from, &declaration(NUMBER, &uuid(n)))
            .expect_err("second use");
        assert_eq!(e.code(), "customs.reused");
    }
    assert_eq!(p.warned(), [checks::DECLARATION_REUSED; 2]);
    let w = &p.app.warnings[0];
    assert_eq!(w.id, 1);
    assert_eq!(w.severity, Severity::High);
    assert_eq!(w.declaration.as_deref(), Some(NUMBER));
    assert_eq!(w.evidence.len(), 2, "the second use and the first");
    // Submitted here under a held number: refused before anything changes.
    let e = p
        .local(&declaration(NUMBER, &uuid(5)))
        .expect_err("duplicate");
    assert_eq!(e.code(), "customs.duplicate_declaration");
    assert_eq!(p.app.warnings.len(), 2);
}

#[test]
fn a_matching_arrival_passes_every_check() {
    let mut p = honoured_at_shekou(CustomsRules::default());
    p.local(&equipment(
        "GTIN",
        BOX_A,
        &["CN1234567"],
        Some(6230.0),
        "CNSHK",
        "2024-05-02T09:00:00+08:00",
        &uuid(10),
    ))
    .expect("gate-in");
    let got = p.checks_of(BOX_A);
    assert_eq!(
        got,
        [
            (checks::NO_UNDECLARED_CONTAINER.to_string(), true),
            (checks::SEALS_EQUAL.to_string(), true),
            (checks::WEIGHT_WITHIN_TOLERANCE.to_string(), true),
            (checks::ROUTE_CONSISTENT.to_string(), true),
            (checks::DECLARATION_VALID.to_string(), true),
        ]
    );
    assert!(p.app.warnings.is_empty(), "{:?}", p.warned());
    assert!(p.app.declarations[NUMBER].arrived.contains(BOX_A));
    // Queryable by container and by declaration.
    let by_box = p
        .app
        .record("container-checks", BOX_A)
        .flatten()
        .expect("by box");
    assert_eq!(by_box.expect("json").as_array().map(Vec::len), Some(5));
    let by_decl = p
        .app
        .record("declaration-checks", NUMBER)
        .flatten()
        .expect("by declaration");
    assert_eq!(by_decl.expect("json").as_array().map(Vec::len), Some(5));
    assert!(p.app.record("container-checks", STRAY).flatten().is_none());
}

/// Each kind of mismatch fails its rule, and only its rule, with a warning.
#[test]
fn each_mismatch_fails_its_rule_with_a_warning() {
    let when = "2024-05-02T09:00:00+08:00";
    let cases: Vec<(&str, Value)> = vec![
        (
            checks::SEALS_EQUAL,
            equipment(
                "GTIN",
                BOX_A,
                &["CN0000001"],
                None,
                "CNSHK",
                when,
                &uuid(20),
            ),
        ),
        (
            checks::WEIGHT_WITHIN_TOLERANCE,
            equipment(
                "GTIN",
                BOX_A,
                &["CN1234567"],
                Some(7400.0),
                "CNSHK",
                when,
                &uuid(21),
            ),
        ),
        (
            checks::ROUTE_CONSISTENT,
            equipment(
                "DISC",
                BOX_A,
                &["CN1234567"],
                None,
                "CNYTN",
                when,
                &uuid(22),
            ),
        ),
        (
            checks::DECLARATION_VALID,
            equipment(
                "LOAD",
                BOX_A,
                &["CN1234567"],
                None,
                "CNSHK",
                "2024-07-05T09:00:00+08:00",
                &uuid(23),
            ),
        ),
        (
            checks::NO_UNDECLARED_CONTAINER,
            equipment(
                "GTIN",
                STRAY,
                &["CN1234567"],
                None,
                "CNSHK",
                when,
                &uuid(24),
            ),
        ),
    ];
    for (rule, v) in cases {
        let mut p = honoured_at_shekou(CustomsRules::default());
        p.local(&v).expect("recorded");
        let failed: Vec<_> = p
            .app
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.rule.as_str())
            .collect();
        assert_eq!(failed, [rule], "{v}");
        assert_eq!(p.warned(), [rule]);
        let w = &p.app.warnings[0];
        assert_eq!(w.severity, Severity::of(rule));
        assert_eq!(w.declaration.as_deref(), Some(NUMBER));
        assert!(w.container.is_some());
        assert_eq!(w.evidence[0].kind.split('/').next(), Some("EQUIPMENT"));
        assert!(w
            .evidence
            .iter()
            .any(|e| e.kind.starts_with("CUSTOMS_DECLARATION")));
        let check = p.app.checks.iter().find(|c| !c.passed).expect("failed");
        assert_eq!(check.warning, Some(w.id));
    }
}

#[test]
fn a_held_or_revoked_declaration_is_not_valid_and_a_hold_warns() {
    let mut p = honoured_at_shekou(CustomsRules::default());
    p.recv("gba-1", &customs("HOLD", NUMBER, &uuid(30)))
        .expect("hold");
    assert_eq!(p.warned(), [checks::CUSTOMS_HOLD]);
    assert_eq!(p.app.containers[BOX_A].status, "held");
    assert!(!p.app.containers[BOX_A].honoured);
    p.local(&equipment(
        "LOAD",
        BOX_A,
        &["CN1234567"],
        None,
        "CNSHK",
        "2024-05-02T09:00:00+08:00",
        &uuid(31),
    ))
    .expect("load");
    assert_eq!(
        p.warned(),
        [checks::CUSTOMS_HOLD, checks::DECLARATION_VALID]
    );
    assert!(p.app.warnings[1].message.contains("held"));
}

#[test]
fn completion_checks_that_every_declared_container_arrived() {
    let mut p = honoured_at_shekou(CustomsRules::default());
    p.local(&equipment(
        "GTIN",
        BOX_A,
        &["CN1234567"],
        None,
        "CNSHK",
        "2024-05-02T09:00:00+08:00",
        &uuid(40),
    ))
    .expect("gate-in");
    p.recv("gba-1", &customs("CMPL", NUMBER, &uuid(41)))
        .expect("completed");
    let arrivals: Vec<_> = p
        .app
        .checks
        .iter()
        .filter(|c| c.rule == checks::EVERY_CONTAINER_ARRIVES)
        .map(|c| (c.container.as_str(), c.passed))
        .collect();
    assert_eq!(arrivals, [(BOX_A, true), (BOX_B, false)]);
    assert_eq!(p.warned(), [checks::EVERY_CONTAINER_ARRIVES]);
    assert_eq!(p.app.warnings[0].container.as_deref(), Some(BOX_B));
}

#[test]
fn sensitive_cargo_and_screened_parties_warn_by_the_ports_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("screening.txt"),
        "# names and USCIs\nrotterdam   home goods b.v.\n",
    )
    .expect("list");
    let file = dir.path().join("rules.toml");
    std::fs::write(
        &file,
        "[sensitive]\nhs_chapters = [\"84\"]\nimdg_classes = [\"9\"]\nscreening_list = \"screening.txt\"\n",
    )
    .expect("rules");
    let rules = CustomsRules::load(&file).expect("valid rules");
    let mut p = Port::new("cmport-1", rules);
    p.recv("gba-1", &declaration(NUMBER, &uuid(1)))
        .expect("declaration");
    assert_eq!(
        p.warned(),
        [
            checks::SENSITIVE_HS,
            checks::SENSITIVE_IMDG,
            checks::SCREENED_PARTY
        ]
    );
    assert!(p.app.warnings[2].message.contains("Rotterdam Home Goods"));
    // Ids are 1, 2, 3 and served after an id, up to the sealed height.
    let ids: Vec<u64> = p
        .app
        .warnings_after(1, u64::MAX, 10)
        .iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(ids, [2, 3]);
    assert!(p.app.warnings_after(0, 0, 10).is_empty(), "none sealed yet");
}

#[test]
fn the_origin_port_keeps_its_declaration_without_honouring_it() {
    let mut p = Port::new("gba-1", CustomsRules::default());
    p.local(&declaration(NUMBER, &uuid(1))).expect("declared");
    p.local(&customs("RELS", NUMBER, &uuid(2)))
        .expect("released");
    let d = &p.app.declarations[NUMBER];
    assert!(d.honoured.is_none());
    assert_eq!(d.standing, Standing::Released);
    // Presented again to a linked port: let through (the linked port
    // decides), not recorded twice; kept here only, refused.
    p.send(&declaration(NUMBER, &uuid(4)), &chain("cmport-1"))
        .expect("presented again");
    assert_eq!(p.app.declarations.len(), 1);
    let e = p
        .local(&declaration(NUMBER, &uuid(5)))
        .expect_err("twice here");
    assert_eq!(e.code(), "customs.duplicate_declaration");
    assert_eq!(p.app.containers[BOX_A].status, "released");
    assert!(!p.app.containers[BOX_A].honoured);
    // Cargo events at the declaring port are not cross-checked there.
    p.local(&equipment(
        "GTIN",
        BOX_A,
        &["X"],
        None,
        "CNSUD",
        "2024-05-01T13:00:00+08:00",
        &uuid(3),
    ))
    .expect("gate-in");
    assert!(p.app.checks.is_empty());
}

#[test]
fn a_rule_file_error_names_its_key() {
    let cases = [
        ("[weight]\ntolerance_percent = 150.0\n", "weight.tolerance_percent"),
        ("[weight]\ntolerance_kg = -1.0\n", "weight.tolerance_kg"),
        ("[sensitive]\nhs_chapters = [\"77\"]\n", "sensitive.hs_chapters[0]"),
        ("[sensitive]\nhs_codes = [\"84x1\"]\n", "sensitive.hs_codes[0]"),
        ("[sensitive]\nimdg_classes = [\"9\", \"10\"]\n", "sensitive.imdg_classes[1]"),
        ("[sensitive]\nscreening_list = \"missing.txt\"\n", "sensitive.screening_list"),
        ("[webhooks]\nurls = []\nsecret = \"0123456789abcdef\"\n", "webhooks.urls"),
        ("[webhooks]\nurls = [\"ftp://x\"]\nsecret = \"0123456789abcdef\"\n", "webhooks.urls[0]"),
        ("[webhooks]\nurls = [\"http://127.0.0.1:1/h\"]\n", "webhooks.secret"),
        ("[webhooks]\nurls = [\"http://127.0.0.1:1/h\"]\nsecret = \"short\"\n", "webhooks.secret"),
        (
            "[webhooks]\nurls = [\"http://127.0.0.1:1/h\"]\nsecret = \"0123456789abcdef\"\ninitial_backoff_ms = 0\n",
            "webhooks.initial_backoff_ms",
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rules.toml");
    for (text, key) in cases {
        let e = CustomsRules::parse(text, &path).expect_err(text);
        assert_eq!(e.key(), Some(key), "{text}: {e}");
        assert!(e.to_string().contains(key), "{e}");
    }
    // An unknown key is refused by name too.
    let e = CustomsRules::parse("[weight]\ntolerance = 5\n", &path).expect_err("unknown");
    assert!(e.to_string().contains("tolerance"), "{e}");
    let ok = CustomsRules::parse(
        "[weight]\ntolerance_percent = 2.5\n[webhooks]\nurls = [\"http://127.0.0.1:9/hook\"]\nsecret = \"0123456789abcdef\"\n",
        &path,
    )
    .expect("valid");
    assert_eq!(ok.tolerance_percent, 2.5);
    assert_eq!(ok.webhooks.expect("hooks").urls.len(), 1);
}

#[test]
fn vgm_and_seals_are_read_from_either_version() {
    let v = json!({"verifiedGrossMass": {"value": "1000", "unit": "LBR"}});
    let kg = verified_gross_mass_kg(&v).expect("vgm");
    assert!((kg - 453.59237).abs() < 1e-6);
    assert_eq!(
        verified_gross_mass_kg(&json!({"verifiedGrossMass": {"value": 5, "unit": "TNE"}})),
        None
    );
    assert_eq!(
        observed_seals(&json!({"equipmentDetails": {"seals": [{"number": "S1"}]}})),
        Some(vec!["S1".to_string()])
    );
    assert_eq!(observed_seals(&json!({})), None);
}
