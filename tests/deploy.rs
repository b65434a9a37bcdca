//! The shipped Prometheus configuration and alert rules pass `promtool`
//! (the rules' own unit tests included), and a real Prometheus server with
//! the shipped scrape configuration (its compose host names pointed at this
//! machine) scrapes a `portrelay devnet` and its three ledgers. That every
//! metric the rules and dashboards use exists is checked in
//! `observability.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
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

/// A child process killed when dropped.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A port with the next two free as well (the devnet's three ledgers).
fn three_free_ports() -> u16 {
    for _ in 0..100 {
        let base = free_port();
        let all = (0..3).all(|i| {
            base.checked_add(i)
                .is_some_and(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        });
        if all {
            return base;
        }
    }
    panic!("no three consecutive free ports")
}

/// `GET http://127.0.0.1:PORT/PATH` over HTTP/1.0 (no chunking), the body on 200.
fn get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200")
        .then(|| body.to_string())
        .or_else(|| head.starts_with("HTTP/1.1 200").then(|| body.to_string()))
}

#[test]
fn prometheus_scrapes_a_devnet_with_the_shipped_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (api, ledgers, web) = (free_port(), three_free_ports(), free_port());
    let _devnet = Guard(
        Command::new(env!("CARGO_BIN_EXE_portrelay"))
            .args(["devnet", "--block-time", "100ms", "--data-dir"])
            .arg(dir.path().join("devnet"))
            .args(["--api-listen", &format!("127.0.0.1:{api}")])
            .args(["--ledgers-listen", &format!("127.0.0.1:{ledgers}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("portrelay devnet"),
    );
    // The shipped file, with the compose host names pointed at this machine
    // and a faster scrape.
    let shipped = std::fs::read_to_string(deploy().join("prometheus").join("prometheus.yml"))
        .expect("prometheus.yml");
    let config = shipped
        .replace("relayer:7400", &format!("127.0.0.1:{api}"))
        .replace("cmport-1:26601", &format!("127.0.0.1:{ledgers}"))
        .replace("cosco-1:26602", &format!("127.0.0.1:{}", ledgers + 1))
        .replace("gba-1:26603", &format!("127.0.0.1:{}", ledgers + 2))
        .replace("scrape_interval: 15s", "scrape_interval: 1s")
        .replace("scrape_timeout: 10s", "scrape_timeout: 1s");
    assert_ne!(
        config, shipped,
        "the shipped targets are the compose services"
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).expect("config");
    std::fs::copy(
        deploy().join("prometheus").join("alerts.yml"),
        dir.path().join("alerts.yml"),
    )
    .expect("alerts.yml");
    let server = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{web}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("prometheus cannot run ({e}): install Debian's prometheus package (apt-get install -y prometheus); .ci/run does")
        });
    let _server = Guard(server);
    // Every target up, and the relayer's own series stored.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let targets = get(web, "/api/v1/targets");
        let up = get(web, "/api/v1/query?query=portrelay_up");
        if let (Some(t), Some(u)) = (&targets, &up) {
            let t: serde_json::Value = serde_json::from_str(t).expect("targets JSON");
            let active = t["data"]["activeTargets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let healthy = active.iter().filter(|a| a["health"] == "up").count();
            if active.len() == 4 && healthy == 4 && u.contains("\"1\"") {
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Prometheus did not scrape all four targets: {targets:?} {up:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}
