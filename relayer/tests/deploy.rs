//! The shipped Prometheus configuration and alert rules pass `promtool`
//! (the rules' own unit tests included). That every metric they and the
//! dashboards use exists is checked against a running devnet in
//! `observability.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("deploy")
}

fn promtool(args: &[&str]) {
    let out = Command::new("promtool").args(args).output().unwrap_or_else(|e| {
        panic!(
            "promtool cannot run ({e}): install Debian's prometheus package (apt-get install -y prometheus); .ci/run does"
        )
    });
    assert!(
        out.status.success(),
        "promtool {}:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_prometheus_config_and_alert_rules_pass_promtool() {
    let dir = deploy().join("prometheus");
    let config = dir.join("prometheus.yml");
    let rules = dir.join("alerts.yml");
    promtool(&["check", "config", config.to_str().expect("path")]);
    promtool(&["check", "rules", rules.to_str().expect("path")]);
    let tests = dir.join("alerts_test.yml");
    if tests.exists() {
        promtool(&["test", "rules", tests.to_str().expect("path")]);
    }
}
