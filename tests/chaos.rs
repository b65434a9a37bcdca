//! The chaos run at small size: `portchaos` (real `portledger`, `portrelay
//! start` and `redis-server` processes) with one fault of every kind, and
//! its verdict read from the ledgers. The full-size run is a command in
//! docs/chaos.md.

use std::process::Command;

/// Runs `portchaos` with `seed`; returns its exit code and report.
fn chaos(seed: u64, packets: u64) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_portchaos"))
        .args(["--packets", &packets.to_string(), "--faults", "7"])
        .args(["--seed", &seed.to_string(), "--rate", "10"])
        .arg("--dir")
        .arg(dir.path())
        .args(["--portrelay", env!("CARGO_BIN_EXE_portrelay")])
        .args(["--portledger", env!("CARGO_BIN_EXE_portledger")])
        .env("RUST_LOG", "warn")
        .output()
        .expect("portchaos");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        // Keep the processes' logs of a failing run.
        let kept = dir.keep();
        eprintln!("portchaos run kept in {}", kept.display());
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn every_fault_kind_once_and_the_ledgers_hold_everything_exactly_once() {
    let (code, report, stderr) = chaos(11, 400);
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert!(report.contains("PASS"), "{report}");
    // Every kind of fault was injected and recovered from.
    for kind in [
        "kill-member",
        "kill-all-members",
        "pause-member",
        "kill-redis",
        "stop-ledger",
        "kill-ledger",
        "cut-member",
    ] {
        let line = report
            .lines()
            .find(|l| l.trim_start().starts_with(kind))
            .unwrap_or_else(|| panic!("{kind} missing from the report:\n{report}"));
        assert!(!line.contains("unrecovered"), "{line}");
    }
    // The workload ran across the faults: the ledgers sent what was answered.
    let sent_line = report
        .lines()
        .find(|l| l.starts_with("ledgers:"))
        .expect("ledgers line");
    let sent: u64 = sent_line
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.trim_end_matches(',').parse().ok())
        .expect("sent count");
    assert!(sent >= 400, "{sent_line}");
}
