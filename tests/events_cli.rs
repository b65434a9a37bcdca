//! `portrelay events validate` end to end: the real binary on the example files in
//! `docs/examples/events/`, on refused events, NDJSON, stdin and unreadable input.

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
