//! `portrelay light-client` end to end: the real binary on its own sample
//! output, on mutated samples, and on unreadable input.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use light_clients::sample::{self, BlockFields, Signing};
use light_clients::{Hash32, Roots, Timestamp, UntrustedBlock};
use serde_json::Value;

const FAMILIES: [&str; 3] = ["cmport", "cosco", "gba"];
const SAMPLE_TIME: &str = "2026-11-21T08:00:00Z";
const NOW: &str = "2026-11-21T09:00:00Z";

fn portrelay() -> Command {
    Command::cargo_bin("portrelay").unwrap()
}

fn sample_into(dir: &Path, family: &str, validators: u32) -> (PathBuf, PathBuf) {
    let out = dir.join(family);
    portrelay()
        .args(["light-client", "sample", "--family", family, "--out"])
        .arg(&out)
        .args([
            "--validators",
            &validators.to_string(),
            "--time",
            SAMPLE_TIME,
        ])
        .assert()
        .success();
    (out.join("trusted.json"), out.join("untrusted.json"))
}

/// Runs verify; returns (exit code, the one stdout line).
fn verify(family: &str, trusted: &Path, untrusted: &Path, extra: &[&str]) -> (i32, String) {
    let out = portrelay()
        .args(["light-client", "verify", "--family", family, "--trusted"])
        .arg(trusted)
        .arg("--untrusted")
        .arg(untrusted)
        .args(if extra.contains(&"--now") {
            vec![]
        } else {
            vec!["--now", NOW]
        })
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().count() <= 1, "one line: {stdout:?}");
    (out.status.code().unwrap(), stdout.trim_end().to_string())
}

fn edit_json(path: &Path, to: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(to, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn each_family_verifies_its_own_sample() {
    let dir = tempfile::tempdir().unwrap();
    for family in FAMILIES {
        for n in [1, 4, 32, 1000] {
            let (t, u) = sample_into(dir.path(), family, n);
            assert_eq!(
                verify(family, &t, &u, &[]),
                (0, "SUCCESS".into()),
                "{family} with {n}"
            );
        }
    }
}

#[test]
fn mutated_samples_are_invalid_with_the_check_named() {
    let dir = tempfile::tempdir().unwrap();
    for family in FAMILIES {
        let (t, u) = sample_into(dir.path(), family, 4);
        let bad = dir.path().join(format!("{family}-bad.json"));
        // Another chain id in the header.
        edit_json(&u, &bad, |v| {
            v["signed_header"]["header"]["chain_id"] = "other-1".into()
        });
        let (code, line) = verify(family, &t, &bad, &[]);
        let expected = if family == "gba" {
            "INVALID: commit:"
        } else {
            "INVALID: chain_id:"
        };
        assert_eq!(code, 11, "{family}: {line}");
        assert!(line.starts_with(expected), "{family}: {line}");
        // A header field that only the signatures protect.
        edit_json(&u, &bad, |v| {
            let header = &mut v["signed_header"]["header"];
            if family == "gba" {
                header["app_hash"] = "AA".repeat(32).into();
            } else {
                header["events"]["count"] = 7.into();
            }
        });
        let (code, line) = verify(family, &t, &bad, &[]);
        let expected = if family == "gba" {
            "INVALID: commit:"
        } else {
            "INVALID: signature:"
        };
        assert_eq!(code, 11, "{family}: {line}");
        assert!(line.starts_with(expected), "{family}: {line}");
        // A validator set that is not the one the header commits to.
        edit_json(&u, &bad, |v| {
            let other = v["next_validators"].clone();
            v["next_validators"] = v["validators"].clone();
            v["validators"] = other;
            if family == "cosco" {
                v["validators"]["validators"].as_array_mut().unwrap().pop();
            } else if family == "cmport" {
                v["validators"]["orgs"].as_array_mut().unwrap().pop();
            } else {
                v["validators"]["validators"].as_array_mut().unwrap().pop();
                v["validators"]["total_voting_power"] = "30".into();
            }
        });
        let (code, line) = verify(family, &t, &bad, &[]);
        assert_eq!(code, 11, "{family}: {line}");
        assert!(
            line.starts_with("INVALID: validators_hash:")
                || line.starts_with("INVALID: validator_set:"),
            "{family}: {line}"
        );
        // Verified too late: the trusted header has expired.
        let (code, line) = verify(family, &t, &u, &["--now", "2027-06-01T00:00:00Z"]);
        assert_eq!(
            (code, line.starts_with("INVALID: trusting_period:")),
            (11, true),
            "{family}: {line}"
        );
        // Verified too early: the header is from the future.
        let (code, line) = verify(family, &t, &u, &["--now", "2026-11-21T07:59:00Z"]);
        assert_eq!(
            (code, line.starts_with("INVALID: clock_drift:")),
            (11, true),
            "{family}: {line}"
        );
    }
}

#[test]
fn a_signature_changed_in_turn_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for (family, list, field) in [
        ("cmport", "signatures", "signature"),
        ("cosco", "seals", "signature"),
    ] {
        let (t, u) = sample_into(dir.path(), family, 4);
        let bad = dir.path().join("bad.json");
        for i in 0..4 {
            edit_json(&u, &bad, |v| {
                let sig = v["signed_header"][list][i][field]
                    .as_str()
                    .unwrap()
                    .to_string();
                let mut bytes = hex::decode(&sig).unwrap();
                let last = bytes.len() - 1;
                bytes[last] ^= 1;
                v["signed_header"][list][i][field] = hex::encode(bytes).into();
            });
            let (code, line) = verify(family, &t, &bad, &[]);
            assert_eq!(code, 11, "{family} {i}: {line}");
            assert!(
                line.starts_with(&format!(
                    "INVALID: signature: invalid signature at position {i}"
                )),
                "{family}: {line}"
            );
        }
    }
}

fn skipping_to_a_new_set<F: Signing>(dir: &Path) -> (PathBuf, PathBuf) {
    let (root, _) = sample::pair::<F>(
        "port-devnet-1",
        4,
        1,
        Timestamp::parse_rfc3339(SAMPLE_TIME).unwrap(),
    );
    let fresh = sample::keys::<F>(42, 4);
    let set = F::validator_set(&fresh);
    let block: UntrustedBlock<F> = sample::block(
        &BlockFields::<F> {
            chain_id: "port-devnet-1",
            height: 10,
            time: Timestamp::parse_rfc3339(SAMPLE_TIME).unwrap(),
            previous: Hash32::ZERO,
            roots: Roots::default(),
            validators: &set,
            next_validators: &set,
        },
        &fresh,
    );
    let (t, u) = (
        dir.join(format!("{}-t.json", F::NAME)),
        dir.join(format!("{}-u.json", F::NAME)),
    );
    std::fs::write(&t, serde_json::to_string(&root).unwrap()).unwrap();
    std::fs::write(&u, serde_json::to_string(&block).unwrap()).unwrap();
    (t, u)
}

#[test]
fn a_skip_to_an_unknown_set_is_not_enough_trust() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "cmport",
            skipping_to_a_new_set::<light_clients::cmport::Cmport>(dir.path()),
        ),
        (
            "cosco",
            skipping_to_a_new_set::<light_clients::cosco::Cosco>(dir.path()),
        ),
        (
            "gba",
            skipping_to_a_new_set::<light_clients::gba::Gba>(dir.path()),
        ),
    ];
    for (family, (t, u)) in cases {
        let (code, line) = verify(family, &t, &u, &[]);
        assert_eq!(code, 10, "{family}: {line}");
        assert!(line.starts_with("NOT_ENOUGH_TRUST"), "{family}: {line}");
        // A threshold of 1/1 cannot lower that: still not enough.
        let (code, _) = verify(family, &t, &u, &["--trust-threshold", "1/1"]);
        assert_eq!(code, 10);
    }
}

#[test]
fn unreadable_input_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (t, u) = sample_into(dir.path(), "cosco", 4);
    let out = portrelay()
        .args(["light-client", "verify", "--family", "cosco", "--trusted"])
        .arg(dir.path().join("missing.json"))
        .arg("--untrusted")
        .arg(&u)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read") && stderr.contains("missing.json"),
        "{stderr}"
    );
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{not json").unwrap();
    let out = portrelay()
        .args(["light-client", "verify", "--family", "cosco", "--trusted"])
        .arg(&t)
        .arg("--untrusted")
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a cosco untrusted file"));
    // Another family's file.
    let out = portrelay()
        .args(["light-client", "verify", "--family", "gba", "--trusted"])
        .arg(&t)
        .arg("--untrusted")
        .arg(&u)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Bad options.
    for args in [
        ["--trust-threshold", "1/4"],
        ["--now", "yesterday"],
        ["--clock-drift", "soon"],
    ] {
        let out = portrelay()
            .args(["light-client", "verify", "--family", "cosco", "--trusted"])
            .arg(&t)
            .arg("--untrusted")
            .arg(&u)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // An unknown version is named.
    let bad = dir.path().join("v9.json");
    edit_json(&u, &bad, |v| {
        v["signed_header"]["header"]["version"] = 9.into()
    });
    let (code, line) = verify("cosco", &t, &bad, &[]);
    assert_eq!(
        (code, line.as_str()),
        (
            11,
            "INVALID: version: unsupported header version 9 (supported: 1)"
        )
    );
}

/// Light-client files have a fixed shape: an unknown field (at the top or
/// a misspelt `validator` for `validators`, which would leave the trust
/// root's signatures unchecked) and a repeated key are refused by name, as
/// unreadable input (exit 2), for every family.
#[test]
fn unknown_fields_and_repeated_keys_in_light_client_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for family in FAMILIES {
        let (t, u) = sample_into(dir.path(), family, 4);
        let refused = |trusted: &Path, untrusted: &Path, needle: &str| {
            let out = portrelay()
                .args(["light-client", "verify", "--family", family, "--trusted"])
                .arg(trusted)
                .arg("--untrusted")
                .arg(untrusted)
                .args(["--now", NOW])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{family} {needle}: {stderr}");
            assert!(stderr.contains(needle), "{family} {needle}: {stderr}");
        };
        let extra = dir.path().join(format!("{family}-extra.json"));
        edit_json(&t, &extra, |v| v["comment"] = Value::from("approved"));
        refused(&extra, &u, "unknown field `comment`");
        let misspelt = dir.path().join(format!("{family}-misspelt.json"));
        edit_json(&t, &misspelt, |v| {
            let set = v["next_validators"].clone();
            v.as_object_mut().unwrap().remove("validators");
            v["validator"] = set;
        });
        refused(&misspelt, &u, "unknown field `validator`");
        let extra = dir.path().join(format!("{family}-untrusted-extra.json"));
        edit_json(&u, &extra, |v| v["note"] = Value::from(1));
        refused(&t, &extra, "unknown field `note`");
        // The same key twice: serde would keep the second.
        let text = std::fs::read_to_string(&u).unwrap();
        let twice = dir.path().join(format!("{family}-twice.json"));
        std::fs::write(&twice, text.replacen('{', "{\"validators\": null,", 1)).unwrap();
        refused(&t, &twice, "duplicate key \"validators\"");
    }
}
