//! DCSA Track & Trace events on a real `portledger`: DCSA's own 2.2 and 3.0
//! conformance events (`docs/examples/events/dcsa/`, from dcsaorg/Conformance-Gateway
//! `tnt/src/main/resources/standards/tnt/messages/`) posted as a mixed feed; the
//! ledger's verdicts equal `portrelay events validate`'s, lenient and strict
//! (`--strict-events` against `--strict`); a restart in strict mode replays what
//! was accepted with a warning; duplicate keys refused by name, alone and in a batch.

use std::io::Write;

use crate::support::ledger::{post_json, post_raw, Ledger};
use light_clients::any::FamilyName;
use serde_json::{json, Value};

fn dcsa_events() -> Vec<Value> {
    let v22: Vec<Value> = serde_json::from_str(include_str!(
        "../../docs/examples/events/dcsa/tnt22-conformance.json"
    ))
    .expect("2.2");
    let v30: Value = serde_json::from_str(include_str!(
        "../../docs/examples/events/dcsa/tnt30-conformance.json"
    ))
    .expect("3.0");
    let mut events = v22;
    events.extend(v30["events"].as_array().expect("events").iter().cloned());
    // Refusals: a wrong check digit, a country ISO 3166 does not have, a 2.3 code
    // read as 2.2, a bidirectional override, a line separator, a 3.0 event without
    // its document reference, a location UN/LOCODE 2023-1 does not list (2.2) and
    // one it marks for deletion (3.0: BGGTB, General-Toshevo).
    let mut digit = events[2].clone();
    digit["equipmentReference"] = "APZU4812091".into();
    let mut country = events[0].clone();
    country["transportCall"]["UNLocationCode"] = "XYABC".into();
    let mut pending = events[1].clone();
    pending["shipmentEventTypeCode"] = "PENC".into();
    let mut bidi = events[0].clone();
    bidi["changeRemark"] = "weather \u{202E}dab".into();
    let mut separator = events[7].clone();
    separator["eventLocation"]["locationName"] = "Port\u{2028}Terminal".into();
    let mut no_document = events[7].clone();
    no_document["shipmentDetails"]
        .as_object_mut()
        .expect("details")
        .remove("documentReference");
    let mut unknown = events[0].clone();
    unknown["transportCall"]["UNLocationCode"] = "CNQXZ".into();
    let mut deleted = events[7].clone();
    deleted["eventLocation"]["UNLocationCode"] = "BGGTB".into();
    events.extend([
        digit,
        country,
        pending,
        bidi,
        separator,
        no_document,
        unknown,
        deleted,
    ]);
    events
}

/// What `portrelay events validate` says of each event: `ok` or the rule refused.
fn cli_verdicts(events: &[Value], strict: bool) -> Vec<String> {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    for e in events {
        writeln!(file, "{e}").expect("write");
    }
    let mut cmd = assert_cmd::Command::cargo_bin("portrelay").expect("portrelay");
    cmd.args(["events", "validate"]);
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.arg(file.path()).output().expect("run");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| {
            if l.contains(": ok (") {
                "ok".to_string()
            } else {
                let rule = l.split(": refused: ").nth(1).expect("verdict");
                rule.split(' ').next().expect("rule").to_string()
            }
        })
        .collect()
}

/// What a ledger says of each event posted to itself: `ok` or the refusal's code,
/// with the warnings' rules.
async fn ledger_verdicts(ledger: &Ledger, events: &[Value]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for e in events {
        let body = json!({"version": 1, "destination": ledger.chain_id.as_str(), "event": e});
        let (status, answer) = post_json(ledger.port, "/v1/events", None, &body).await;
        let verdict = match status {
            200 => "ok".to_string(),
            422 => answer["code"].as_str().expect("code").to_string(),
            other => panic!("{other}: {answer}"),
        };
        let warnings = answer["warnings"]
            .as_array()
            .map(|ws| {
                ws.iter()
                    .map(|w| w["rule"].as_str().expect("rule").to_string())
                    .collect()
            })
            .unwrap_or_default();
        out.push((verdict, warnings));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_and_events_validate_give_the_same_verdicts_lenient_and_strict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    let events = dcsa_events();

    let lenient = ledger_verdicts(&ledger, &events).await;
    let cli = cli_verdicts(&events, false);
    let verdicts: Vec<String> = lenient.iter().map(|(v, _)| v.clone()).collect();
    assert_eq!(verdicts, cli, "the ledger and the command line differ");
    assert_eq!(
        &verdicts[12..],
        [
            "iso6346.check_digit",
            "unlocode.country",
            "dcsa.code_version",
            "json.characters",
            "json.characters",
            "dcsa.required",
            "unlocode.unknown",
            "unlocode.unknown"
        ]
    );
    assert!(verdicts[..12].iter().all(|v| v == "ok"), "{verdicts:?}");
    // The three 2.2 SHIPMENT events carry the named warning.
    let warned: Vec<usize> = lenient
        .iter()
        .enumerate()
        .filter(|(_, (_, w))| w.iter().any(|r| r == "dcsa.shipment.event_date_time"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(warned, [1, 4, 6]);
    let height = ledger.height().await;
    ledger
        .wait_for("the accepted events sealed", || {
            let adapter = ledger.adapter.clone();
            async move {
                adapter
                    .status()
                    .await
                    .map(|s| s.height > height)
                    .unwrap_or(false)
            }
        })
        .await;

    // Strict: restarted with --strict-events, it replays the warned events it
    // accepted and refuses new ones, as --strict does.
    ledger.stop();
    ledger.args = vec!["--strict-events".to_string()];
    ledger.spawn().await;
    let strict = ledger_verdicts(&ledger, &events).await;
    let strict: Vec<String> = strict.into_iter().map(|(v, _)| v).collect();
    assert_eq!(strict, cli_verdicts(&events, true));
    for i in [1, 4, 6] {
        assert_eq!(strict[i], "dcsa.shipment.event_date_time", "event {i}");
    }
    assert_eq!(strict[0], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_keys_are_refused_by_name_alone_and_in_a_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    let event = dcsa_events()[7].to_string();
    let twice = event.replacen("\"eventID\":", "\"eventID\":\"evt-dup\",\"eventID\":", 1);
    assert_ne!(twice, event);
    let body = format!(r#"{{"version":1,"destination":"cmport-1","event":{twice}}}"#);
    let (status, answer) = post_raw(ledger.port, "/v1/events", None, &body).await;
    // axum answers a body its type refuses with 422, the status of every refusal.
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["code"], "json.duplicate_key", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("key \"eventID\" appears twice")),
        "{answer}"
    );

    let good = format!(r#"{{"version":1,"destination":"cmport-1","event":{event}}}"#);
    let batch = format!(r#"{{"version":1,"events":[{good},{body},{good}]}}"#);
    let (status, answer) = post_raw(ledger.port, "/v1/events/batch", None, &batch).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["results"][0]["packet"].is_null(), "{answer}");
    assert_eq!(answer["results"][1]["index"], 1);
    assert_eq!(
        answer["results"][1]["code"], "json.duplicate_key",
        "{answer}"
    );
    assert!(answer["results"][2].get("code").is_none(), "{answer}");
}
