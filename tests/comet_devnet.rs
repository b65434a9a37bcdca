//! `portrelay devnet --gba-engine cometbft`, the real process: gba-1 is four
//! CometBFT validators over `portledger --engine cometbft` applications,
//! cmport-1 and cosco-1 the in-process ledgers. Every one of the six paths
//! and three apps carries packets, and the ledgers' own channel ends (gba-1's
//! through ABCI queries) say exactly once, in order; the customs workload
//! declares at gba-1 through CometBFT too. Fails naming scripts/cometbft
//! when `cometbft` is missing.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Packets of the run: 4 on each of the 18 channels (6 paths x 3 apps).
const PACKETS: u64 = 72;
/// The whole run (four validators and two ledgers on a shared machine).
const DEADLINE: Duration = Duration::from_secs(600);

/// The devnet process: SIGTERM when dropped (so that it stops its
/// validators), SIGKILL if it is still there after a grace period.
struct Devnet(Option<Child>);

impl Drop for Devnet {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Whether process `pid` is still a `cometbft` or `portledger`.
fn alive_child(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| matches!(c.trim(), "cometbft" | "portledger"))
        .unwrap_or(false)
}

#[test]
fn devnet_on_cometbft_every_path_and_app_exactly_once_in_order() {
    // Fails naming scripts/cometbft when it is missing.
    let cometbft = crate::support::comet_node::cometbft();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("run");
    let out = dir.path().join("devnet.out");
    let err = dir.path().join("devnet.err");
    let child = Command::new(env!("CARGO_BIN_EXE_portrelay"))
        .args(["devnet", "--gba-engine", "cometbft", "--packets"])
        .arg(PACKETS.to_string())
        .arg("--data-dir")
        .arg(&data)
        .env("COMETBFT", &cometbft)
        .env("PORTLEDGER", env!("CARGO_BIN_EXE_portledger"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("out"))
        .stderr(std::fs::File::create(&err).expect("err"))
        .spawn()
        .expect("start portrelay devnet");
    let mut devnet = Devnet(Some(child));
    let pids_file = data.join("gba-1-cometbft/pids");
    let mut pids: Vec<u32> = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if pids.is_empty() {
            if let Ok(text) = std::fs::read_to_string(&pids_file) {
                pids = text.lines().filter_map(|l| l.parse().ok()).collect();
            }
        }
        let c = devnet.0.as_mut().expect("running");
        if let Some(s) = c.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "portrelay devnet did not finish in {DEADLINE:?}: see {} and {}",
            out.display(),
            err.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    devnet.0 = None;
    let stdout = std::fs::read_to_string(&out).expect("stdout");
    let stderr = std::fs::read_to_string(&err).expect("stderr");
    let context = || format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(status.success(), "exit {status}\n{}", context());

    // gba-1 was the CometBFT network: four validators, each with its application's data.
    assert!(
        stdout.contains("gba-1 (gba   ) cometbft 4 validators, rpc http://127.0.0.1:"),
        "{}",
        context()
    );
    for i in 0..4 {
        let app = data.join(format!("gba-1-cometbft/app{i}"));
        assert!(app.join("operator.key").is_file(), "{}", app.display());
    }
    // The devnet stopped every validator it started: none is left running.
    assert_eq!(pids.len(), 8, "a node and an application per validator");
    assert!(
        pids.iter().all(|p| !alive_child(*p)),
        "children left running: {pids:?}"
    );

    // Every path and app: the relayer's table (source -> destination, app,
    // delivered, ok, refused, timeout, acked).
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() == 9 && w[1] == "->")
        .collect();
    assert_eq!(rows.len(), 18, "six paths x three apps\n{}", context());
    let chains = ["gba-1", "cmport-1", "cosco-1"];
    let mut total = 0u64;
    for src in chains {
        for dst in chains.iter().filter(|d| **d != src) {
            for app in ["cargo", "payment", "ebl"] {
                let row = rows
                    .iter()
                    .find(|w| w[0] == src && w[2] == *dst && w[3] == app)
                    .unwrap_or_else(|| panic!("no row {src} -> {dst} {app}\n{}", context()));
                let n: Vec<u64> = row[4..].iter().map(|x| x.parse().expect("count")).collect();
                // The customs workload adds its declarations' packets on
                // gba-1 -> cmport-1 cargo.
                let (delivered, ok, refused, timeout, acked) = (n[0], n[1], n[2], n[3], n[4]);
                assert!(
                    delivered >= 4 && ok == delivered && acked == delivered,
                    "{src} -> {dst} {app}: delivered {delivered}, ok {ok}, acked {acked}\n{}",
                    context()
                );
                assert_eq!(
                    (refused, timeout),
                    (0, 0),
                    "{src} -> {dst} {app}\n{}",
                    context()
                );
                if (src, *dst, app) != ("gba-1", "cmport-1", "cargo") {
                    assert_eq!(delivered, 4, "{src} -> {dst} {app}\n{}", context());
                }
                total += delivered;
            }
        }
    }
    // The ledgers' own ends of every channel, gba-1's read through ABCI
    // queries of CometBFT's RPC: exactly once, in order, nothing else.
    assert!(total >= PACKETS, "{}", context());
    assert!(
        stdout.contains(&format!(
            "ledgers: 18 channels, {total} sent, {total} received, {total} acked: exactly once, in order"
        )),
        "{}",
        context()
    );
    assert!(
        !stdout
            .lines()
            .any(|l| l.starts_with("ledgers: ") && l.contains(": sent ")),
        "a channel's ends disagree\n{}",
        context()
    );
    // The customs workload declared at gba-1 through CometBFT.
    let customs = stdout
        .lines()
        .find(|l| l.starts_with("customs: "))
        .unwrap_or_else(|| panic!("no customs report\n{}", context()));
    let submitted: u64 = customs
        .split_once('(')
        .and_then(|(_, r)| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{customs}"));
    assert!(submitted >= 1, "{customs}");
}
