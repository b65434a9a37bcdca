//! `portrelay events validate` end to end: the real binary on the example files in
//! `docs/examples/events/`, on refused events, NDJSON, stdin and unreadable input;
//! on DCSA's own T&T 2.2 and 3.0 conformance material (`docs/examples/events/dcsa/`,
//! from dcsaorg/Conformance-Gateway `tnt/src/main/resources/standards/tnt/messages/`)
//! alone and mixed, with and without `--strict`; and on strict JSON (duplicate keys,
//! bidirectional controls, line separators) refused by name.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn portrelay() -> Command {
    Command::cargo_bin("portrelay").unwrap()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/events")
}

/// Runs `portrelay events validate ARGS` with `stdin`; returns (exit code, stdout lines, stderr).
fn validate(args: &[&Path], stdin: &str) -> (i32, Vec<String>, String) {
    let out = portrelay()
        .args(["events", "validate"])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (
        out.status.code().unwrap(),
        stdout.lines().map(str::to_string).collect(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const GATE_IN: &str = r#"{"eventID":"5e51e72c-d872-11ea-811c-0f8f10a32ea1","eventType":"EQUIPMENT","eventClassifierCode":"ACT","eventCreatedDateTime":"2024-05-01T14:02:00+08:00","eventDateTime":"2024-05-01T13:58:00+08:00","equipmentEventTypeCode":"GTIN","equipmentReference":"CSQU3054383","ISOEquipmentCode":"45G1","emptyIndicatorCode":"LADEN","eventLocation":{"locationName":"Shekou gate 3","UNLocationCode":"CNSHK"}}"#;

#[test]
fn the_valid_examples_are_all_accepted() {
    let dir = examples();
    let files = [
        dir.join("journey.json"),
        dir.join("payments.ndjson"),
        dir.join("ebl.json"),
    ];
    let args: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let (code, lines, stderr) = validate(&args, "");
    assert_eq!(code, 0, "{lines:#?}\n{stderr}");
    assert_eq!(lines.len(), 14, "{lines:#?}");
    assert!(lines.iter().all(|l| l.contains(": ok (")), "{lines:#?}");
    let journey = files[0].display().to_string();
    assert_eq!(lines[0], format!("{journey}:1: ok (EQUIPMENT/GTIN)"));
    assert_eq!(lines[1], format!("{journey}:2: ok (EQUIPMENT/LOAD)"));
    assert_eq!(lines[4], format!("{journey}:5: ok (EQUIPMENT/DISC)"));
    assert_eq!(lines[5], format!("{journey}:6: ok (SHIPMENT/CUS/RELS)"));
    for label in [
        "LETTER_OF_CREDIT/ISSUED",
        "PAYMENT_SETTLEMENT/ACSC",
        "EBL_TRANSFER/ISSUE",
        "EBL_TRANSFER/TRANSFER",
    ] {
        assert!(
            lines.iter().any(|l| l.ends_with(&format!("ok ({label})"))),
            "{label}: {lines:#?}"
        );
    }
}

#[test]
fn a_refused_event_exits_1_and_names_its_rule_and_field() {
    let refused = examples().join("refused.ndjson");
    let (code, lines, _) = validate(&[&refused], "");
    assert_eq!(code, 1);
    let name = refused.display().to_string();
    let expected = [
        (1, "iso6346.check_digit at equipmentReference"),
        (2, "iso4217.currency at amount.currency"),
        (3, "iso20022.rejection_reason at statusReason"),
        (4, "ebl.chain_start at transferChain[0]"),
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for ((n, rule_at), line) in expected.iter().zip(&lines) {
        let prefix = format!("{name}:{n}: refused: {rule_at}: ");
        assert!(
            line.starts_with(&prefix),
            "{line} does not start with {prefix}"
        );
    }
}

#[test]
fn one_refused_event_among_valid_ones_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mixed.json");
    let bad = GATE_IN.replace("\"CNSHK\"", "\"SHEKOU\"");
    std::fs::write(&file, format!("[{GATE_IN},\n{bad}]")).unwrap();
    let (code, lines, _) = validate(&[&file], "");
    assert_eq!(code, 1);
    let name = file.display().to_string();
    assert_eq!(lines[0], format!("{name}:1: ok (EQUIPMENT/GTIN)"));
    assert!(
        lines[1].starts_with(&format!(
            "{name}:2: refused: unlocode.pattern at eventLocation.UNLocationCode: "
        )),
        "{}",
        lines[1]
    );
}

#[test]
fn ndjson_is_numbered_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ndjson");
    let load_without_call = GATE_IN.replace("GTIN", "LOAD");
    std::fs::write(&file, format!("{GATE_IN}\n\n{load_without_call}\n")).unwrap();
    let (code, lines, _) = validate(&[&file], "");
    assert_eq!(code, 1);
    let name = file.display().to_string();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], format!("{name}:1: ok (EQUIPMENT/GTIN)"));
    assert!(
        lines[1].starts_with(&format!(
            "{name}:3: refused: dcsa.equipment.transport_call_required at transportCall: "
        )),
        "{}",
        lines[1]
    );
}

#[test]
fn dash_reads_stdin() {
    let (code, lines, _) = validate(&[Path::new("-")], &format!("{GATE_IN}\n{GATE_IN}\n"));
    assert_eq!(code, 0);
    assert_eq!(
        lines,
        ["-:1: ok (EQUIPMENT/GTIN)", "-:2: ok (EQUIPMENT/GTIN)"]
    );
}

#[test]
fn an_unreadable_path_exits_2_and_the_other_files_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let journey = examples().join("journey.json");
    let (code, lines, stderr) = validate(&[&missing, &journey], "");
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!("error: {}: cannot read", missing.display())),
        "{stderr}"
    );
    assert_eq!(lines.len(), 7, "journey.json still checked: {lines:#?}");
}

#[test]
fn invalid_json_exits_2_without_printing_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.ndjson");
    std::fs::write(
        &file,
        format!("{GATE_IN}\n{{\"eventType\": \"EQUIPMENT\",\n"),
    )
    .unwrap();
    let (code, lines, stderr) = validate(&[&file], "");
    assert_eq!(code, 2);
    assert!(lines.is_empty(), "{lines:#?}");
    assert!(
        stderr.contains(&format!("error: {}: line 2: not JSON", file.display())),
        "{stderr}"
    );

    let array = dir.path().join("broken.json");
    std::fs::write(&array, format!("[{GATE_IN},")).unwrap();
    let (code, _, stderr) = validate(&[&array], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("not JSON"), "{stderr}");
}

#[test]
fn unreadable_beats_refused() {
    let refused = examples().join("refused.ndjson");
    let (code, lines, _) = validate(&[&refused, Path::new("-")], "not json at all");
    assert_eq!(code, 2);
    assert_eq!(lines.len(), 4, "refused.ndjson is still printed");
}

/// Runs `portrelay events validate` with extra flags before the files.
fn validate_with(flags: &[&str], files: &[&Path]) -> (i32, Vec<String>, String) {
    let out = portrelay()
        .args(["events", "validate"])
        .args(flags)
        .args(files)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn dcsa(name: &str) -> PathBuf {
    examples().join("dcsa").join(name)
}

#[test]
fn dcsas_2_2_conformance_events_pass_with_the_shipment_warning_and_strict_refuses_them() {
    let file = dcsa("tnt22-conformance.json");
    let name = file.display().to_string();
    let (code, lines, stderr) = validate_with(&[], &[&file]);
    assert_eq!(code, 0, "{lines:#?}\n{stderr}");
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[0], format!("{name}:1: ok (TRANSPORT/ARRI)"));
    assert!(
        lines[1].starts_with(&format!("{name}:2: ok (SHIPMENT/SHI/DRFT); warning: dcsa.shipment.event_date_time at eventDateTime: ")),
        "{}",
        lines[1]
    );
    let (code, lines, _) = validate_with(&["--strict"], &[&file]);
    assert_eq!(code, 1);
    let refused: Vec<&String> = lines.iter().filter(|l| l.contains(": refused: ")).collect();
    assert_eq!(refused.len(), 3, "the three SHIPMENT events: {lines:#?}");
    assert!(
        refused.iter().all(|l| l
            .contains("refused: dcsa.shipment.event_date_time at eventDateTime: ")
            && l.ends_with("(refused in strict mode)")),
        "{refused:#?}"
    );
}

#[test]
fn a_3_0_feed_of_every_class_and_a_mixed_feed_are_accepted() {
    let feed = dcsa("tnt30-conformance.json");
    let (code, lines, stderr) = validate_with(&["--strict"], &[&feed]);
    assert_eq!(code, 0, "{lines:#?}\n{stderr}");
    let kinds: Vec<&str> = lines
        .iter()
        .map(|l| l.rsplit_once(": ok (").unwrap().1)
        .collect();
    assert_eq!(
        kinds,
        [
            "SHIPMENT/BKG/CONF)",
            "TRANSPORT/DEPA)",
            "EQUIPMENT/GTIN)",
            "EQUIPMENT/IOT_LOC)",
            "EQUIPMENT/REEFER_MEAS)"
        ]
    );
    let mixed = dcsa("mixed.ndjson");
    let (code, lines, _) = validate_with(&[], &[&mixed]);
    assert_eq!(code, 0, "{lines:#?}");
    assert_eq!(lines.len(), 12);
    assert!(lines[1].ends_with("ok (SHIPMENT/BKG/CONF)"), "{}", lines[1]);
    // Declaring 3.0 for the whole mixed feed refuses its flat events by name.
    let (code, lines, _) = validate_with(&["--dcsa-version", "3.0"], &[&mixed]);
    assert_eq!(code, 1);
    assert!(
        lines[0].contains("refused: dcsa.version at eventType: "),
        "{}",
        lines[0]
    );
    assert!(lines[1].ends_with("ok (SHIPMENT/BKG/CONF)"), "{}", lines[1]);
}

#[test]
fn codes_after_2_2_need_dcsa_version_2_3() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pending.json");
    let text = std::fs::read_to_string(dcsa("tnt22-conformance.json")).unwrap();
    let events: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut pending = events[1].clone();
    pending["shipmentEventTypeCode"] = "PENC".into();
    std::fs::write(&file, pending.to_string()).unwrap();
    let (code, lines, _) = validate_with(&[], &[&file]);
    assert_eq!(code, 1);
    assert!(
        lines[0].contains(
            "refused: dcsa.code_version at shipmentEventTypeCode: \"PENC\" arrived in T&T 2.3"
        ),
        "{}",
        lines[0]
    );
    let (code, lines, _) = validate_with(&["--dcsa-version", "2.3"], &[&file]);
    assert_eq!(code, 0, "{lines:#?}");
    let (code, _, stderr) = validate_with(&["--dcsa-version", "2.4"], &[&file]);
    assert_eq!(code, 2, "clap refuses an unknown version");
    assert!(stderr.contains("not a DCSA T&T version"), "{stderr}");
}

#[test]
fn duplicate_keys_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let twice = GATE_IN.replacen(
        "\"equipmentReference\":\"CSQU3054383\"",
        "\"equipmentReference\":\"CSQU3054383\",\"equipmentReference\":\"CSQU3054384\"",
        1,
    );
    for (name, text) in [
        ("single.json", twice.clone()),
        ("array.json", format!("[{GATE_IN}, {twice}]")),
        ("lines.ndjson", format!("{GATE_IN}\n{twice}\n")),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let (code, lines, stderr) = validate_with(&[], &[&file]);
        assert_eq!(code, 2, "{name}: {lines:#?}");
        assert!(lines.is_empty(), "{name}: {lines:#?}");
        assert!(
            stderr.contains("json.duplicate_key: key \"equipmentReference\" appears twice"),
            "{name}: {stderr}"
        );
    }
    let file = dir.path().join("lines.ndjson");
    let (_, _, stderr) = validate_with(&[], &[&file]);
    assert!(stderr.contains("line 2: json.duplicate_key"), "{stderr}");
    let array = dir.path().join("array.json");
    let (_, _, stderr) = validate_with(&[], &[&array]);
    assert!(stderr.contains("in the object at [1]"), "{stderr}");
}

#[test]
fn bidirectional_controls_and_separators_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("text.ndjson");
    let lines: Vec<String> = [
        "Shekou\\u202egate",
        "Shekou\\u2067gate",
        "Shekou\\u2028gate",
        "Shekou\\u2029gate",
        "Shekou\\u0007gate",
    ]
    .iter()
    .map(|name| GATE_IN.replace("Shekou gate 3", name))
    .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let (code, out, _) = validate_with(&[], &[&file]);
    assert_eq!(code, 1);
    let expected = [
        "bidirectional control U+202E",
        "bidirectional control U+2067",
        "line separator U+2028",
        "paragraph separator U+2029",
        "control character U+0007",
    ];
    assert_eq!(out.len(), expected.len(), "{out:#?}");
    for (line, what) in out.iter().zip(expected) {
        assert!(
            line.contains("refused: json.characters at eventLocation.locationName: holds a ")
                && line.contains(what),
            "{line}"
        );
    }
}

#[test]
fn a_customs_declaration_and_its_customs_events_are_accepted() {
    let customs = examples().join("customs.json");
    let (code, lines, stderr) = validate(&[&customs], "");
    assert_eq!(code, 0, "{lines:#?}\n{stderr}");
    let name = customs.display().to_string();
    let expected = [
        "CUSTOMS_DECLARATION/EXPORT",
        "SHIPMENT/CUS/REQS",
        "SHIPMENT/CUS/HOLD",
        "SHIPMENT/CUS/RELS",
        "SHIPMENT/CUS/CMPL",
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (i, (label, line)) in expected.iter().zip(&lines).enumerate() {
        assert_eq!(line, &format!("{name}:{}: ok ({label})", i + 1));
    }
}

#[test]
fn refused_declarations_name_their_rule_and_field() {
    let refused = examples().join("customs-refused.ndjson");
    let (code, lines, _) = validate(&[&refused], "");
    assert_eq!(code, 1);
    let name = refused.display().to_string();
    let expected = [
        (1, "usci.check_character at declarant.usci"),
        (2, "customs.ie_flag at declarationNumber"),
        (3, "hs.chapter at goods[1].hsCode"),
        (
            4,
            "customs.duplicate_container at containers[1].equipmentReference",
        ),
        (
            5,
            "dg.class_consistency at goods[0].dangerousGoods.imdgClass",
        ),
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for ((n, rule_at), line) in expected.iter().zip(&lines) {
        let prefix = format!("{name}:{n}: refused: {rule_at}: ");
        assert!(
            line.starts_with(&prefix),
            "{line} does not start with {prefix}"
        );
    }
}
