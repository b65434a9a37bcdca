//! The shipped Prometheus configuration and alert rules pass `promtool`
//! (the rules' own unit tests included), and a real Prometheus server with
//! the shipped scrape configuration (its compose host names pointed at this
//! machine) scrapes a `portrelay devnet` and its three ledgers. That every
//! metric the rules and dashboards use exists is checked in
//! `observability.rs`. deploy/cometbft's scripts run a 4-validator gba network
//! on CometBFT here on loopback, and the compose profile and Kubernetes
//! overlay that run them elsewhere are checked against the scripts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::comet_node::{cometbft, COMETBFT_VERSION};

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

// ---------------------------------------------------------------------------
// A gba network on CometBFT across machines: deploy/cometbft's scripts (the
// image's gba-comet-init and gba-validator), run here as real processes on
// loopback, and the compose profile and Kubernetes overlay that run them.
// ---------------------------------------------------------------------------

fn comet_script(name: &str) -> PathBuf {
    deploy().join("cometbft").join(name)
}

/// One `validator.sh` (its own process group), as an orchestrator runs it.
struct Validator {
    child: std::process::Child,
    log: PathBuf,
}

impl Validator {
    fn spawn(env: &[(String, String)], log: PathBuf) -> Validator {
        use std::os::unix::process::CommandExt;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("validator log");
        let child = Command::new(comet_script("validator.sh"))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .process_group(0)
            .spawn()
            .expect("run deploy/cometbft/validator.sh");
        Validator { child, log }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// The script's exit status within `within`, or `None` if it still runs.
    fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.pid())])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // SIGTERM to the script (it stops its node and application),
            // then anything left in its group.
            let _ = Command::new("kill")
                .args(["-TERM", &self.pid().to_string()])
                .status();
            if self.wait_exit(Duration::from_secs(30)).is_none() {
                self.signal("-KILL");
                let _ = self.child.wait();
            }
        }
        self.signal("-KILL");
    }
}

/// The children of process `pid` named `name` (from /proc).
fn children_named(pid: u32, name: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let ppid = stat[close + 1..].split_whitespace().nth(1);
        if comm == name && ppid == Some(pid.to_string().as_str()) {
            found.push(child);
        }
    }
    found
}

/// CometBFT's `/status` result at `port`, if it answers.
fn comet_status(port: u16) -> Option<serde_json::Value> {
    let body = get(port, "/status")?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    Some(v["result"].clone())
}

fn comet_height(port: u16) -> u64 {
    comet_status(port)
        .and_then(|s| {
            s["sync_info"]["latest_block_height"]
                .as_str()
                .and_then(|h| h.parse().ok())
        })
        .unwrap_or(0)
}

/// Waits until the node on `rpc` is at `height` or above.
fn wait_comet_height(validator: &mut Validator, rpc: u16, height: u64, deadline: Duration) {
    let until = Instant::now() + deadline;
    loop {
        let h = comet_height(rpc);
        if h >= height {
            return;
        }
        if let Some(status) = validator.child.try_wait().expect("try_wait") {
            panic!(
                "validator.sh (rpc {rpc}) exited with {status} at height {h}:\n{}",
                validator.log_tail()
            );
        }
        assert!(
            Instant::now() < until,
            "the validator on rpc port {rpc} is at height {h}, not {height}, after {deadline:?}:\n{}",
            validator.log_tail()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn run_init(shared: &Path, chain: &str, cometbft: &Path) -> std::process::Output {
    Command::new(comet_script("init.sh"))
        .env("COMET_SHARED", shared)
        .env("COMET_CHAIN_ID", chain)
        .env("COMET_VALIDATORS", "4")
        .env("COMETBFT", cometbft)
        .output()
        .expect("run deploy/cometbft/init.sh")
}

/// `validator.sh ready` against the RPC address `laddr`.
fn ready(laddr: &str) -> bool {
    Command::new(comet_script("validator.sh"))
        .arg("ready")
        .env("COMET_RPC_LADDR", laddr)
        .output()
        .expect("validator.sh ready")
        .status
        .success()
}

#[test]
fn the_cometbft_scripts_run_a_four_validator_gba_network() {
    let bin = cometbft();
    let dir = tempfile::tempdir().expect("tempdir");
    let shared = dir.path().join("shared");
    let chain = "gba-deploy";

    // The init step: the network's files, once.
    let bad = run_init(&dir.path().join("bad"), "Gba_1", &bin);
    assert!(!bad.status.success(), "a chain id with capitals is refused");
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("COMET_CHAIN_ID=Gba_1"),
        "the refusal names the variable: {}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let out = run_init(&shared, chain, &bin);
    assert!(
        out.status.success(),
        "init.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let genesis: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared.join("genesis.json")).expect("genesis"),
    )
    .expect("genesis JSON");
    assert_eq!(genesis["chain_id"], chain);
    assert_eq!(genesis["validators"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        genesis["consensus_params"]["block"]["max_bytes"], "67108864",
        "a block holds the application's largest transaction"
    );
    let ids: Vec<String> = std::fs::read_to_string(shared.join("node-ids"))
        .expect("node-ids")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 4, "one node ID per validator");
    assert!(ids
        .iter()
        .all(|id| id.len() == 40 && id.chars().all(|c| c.is_ascii_hexdigit())));
    for i in 0..4 {
        for f in ["node_key.json", "priv_validator_key.json"] {
            assert!(shared.join(format!("node{i}.{f}")).is_file(), "node{i}.{f}");
        }
    }
    let secret = std::fs::read_to_string(shared.join("network.secret")).expect("secret");
    assert_eq!(secret.len(), 144);
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    let again = run_init(&shared, chain, &bin);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing changed"));
    assert_eq!(
        std::fs::read_to_string(shared.join("network.secret")).expect("secret"),
        secret,
        "a second init keeps the network's secret"
    );

    // Four validators on loopback, configured by validator.sh from its environment.
    let ports: Vec<(u16, u16, u16)> = (0..4)
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let peer_addrs = ports
        .iter()
        .map(|(_, p2p, _)| format!("127.0.0.1:{p2p}"))
        .collect::<Vec<_>>()
        .join(",");
    let env = |i: usize| -> Vec<(String, String)> {
        let (rpc, p2p, abci) = ports[i];
        let v = dir.path().join(format!("validator{i}"));
        [
            ("COMET_INDEX", i.to_string()),
            ("COMET_SHARED", shared.display().to_string()),
            ("COMET_HOME", v.join("cometbft").display().to_string()),
            ("COMET_APP_DIR", v.join("app").display().to_string()),
            ("COMET_CHAIN_ID", chain.to_string()),
            ("COMET_ABCI", format!("127.0.0.1:{abci}")),
            ("COMET_RPC_LADDR", format!("tcp://127.0.0.1:{rpc}")),
            ("COMET_P2P_LADDR", format!("tcp://127.0.0.1:{p2p}")),
            ("COMET_PEER_ADDRS", peer_addrs.clone()),
            ("COMET_ALLOW_DUPLICATE_IP", "true".to_string()),
            ("COMET_TIMEOUT_COMMIT", "300ms".to_string()),
            ("COMET_LOG_LEVEL", "error".to_string()),
            ("PORTLEDGER", env!("CARGO_BIN_EXE_portledger").to_string()),
            ("COMETBFT", bin.display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    };
    let log = |i: usize| dir.path().join(format!("validator{i}.log"));
    let mut validators: Vec<Validator> =
        (0..4).map(|i| Validator::spawn(&env(i), log(i))).collect();
    let deadline = Duration::from_secs(180);
    for (i, v) in validators.iter_mut().enumerate() {
        wait_comet_height(v, ports[i].0, 3, deadline);
    }
    for (i, (rpc, _, _)) in ports.iter().enumerate() {
        let status = comet_status(*rpc).expect("status");
        assert_eq!(
            status["node_info"]["network"], chain,
            "validator {i}'s chain"
        );
        assert_eq!(
            status["node_info"]["id"],
            ids[i].as_str(),
            "validator {i}'s node key"
        );
        assert_eq!(status["node_info"]["moniker"], format!("validator{i}"));
        assert_ne!(
            status["validator_info"]["voting_power"], "0",
            "validator {i} signs with its genesis key"
        );
    }
    // CometBFT's limits hold a relayer's largest batch (its defaults refuse
    // one with a bare HTTP 400).
    let config = std::fs::read_to_string(
        dir.path()
            .join("validator0")
            .join("cometbft/config/config.toml"),
    )
    .expect("config.toml");
    for line in [
        "max_body_bytes = 50331648",
        "max_tx_bytes = 33554432",
        "send_rate = 104857600",
        "recv_rate = 104857600",
    ] {
        assert!(
            config.lines().any(|l| l.trim() == line),
            "config.toml: {line}"
        );
    }
    // The application behind CometBFT is portledger's gba ledger.
    let query = get(ports[2].0, "/abci_query?path=%22/v1/status%22").expect("abci_query");
    let query: serde_json::Value = serde_json::from_str(&query).expect("abci_query JSON");
    assert_eq!(query["result"]["response"]["code"], 0, "{query}");
    use base64::Engine;
    let value = base64::engine::general_purpose::STANDARD
        .decode(
            query["result"]["response"]["value"]
                .as_str()
                .expect("value"),
        )
        .expect("base64");
    let value: serde_json::Value = serde_json::from_slice(&value).expect("status JSON");
    assert_eq!(value["chain_id"], chain, "{value}");

    // The readiness check: ready on a node making blocks, not on a dead port.
    assert!(ready(&format!("tcp://127.0.0.1:{}", ports[0].0)));
    assert!(!ready(&format!("tcp://127.0.0.1:{}", free_port())));

    // Validator 3's application killed: the script stops its node and
    // exits non-zero (for the orchestrator to restart it); the other three
    // go on making blocks.
    let app = children_named(validators[3].pid(), "portledger");
    let node = children_named(validators[3].pid(), "cometbft");
    assert_eq!(
        (app.len(), node.len()),
        (1, 1),
        "validator 3 runs one of each"
    );
    let killed = Command::new("kill")
        .args(["-KILL", &app[0].to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = validators[3]
        .wait_exit(Duration::from_secs(60))
        .unwrap_or_else(|| {
            panic!(
                "validator.sh went on without its application:\n{}",
                validators[3].log_tail()
            )
        });
    assert!(
        !status.success(),
        "a validator whose application died exits non-zero"
    );
    assert!(
        !Path::new(&format!("/proc/{}", node[0])).exists(),
        "validator 3's cometbft node was stopped with it"
    );
    assert!(validators[3].log_tail().contains("portledger exited"));
    let h = comet_height(ports[0].0);
    wait_comet_height(&mut validators[0], ports[0].0, h + 2, deadline);

    // Restarted as an orchestrator would, on its home and data: it catches up.
    validators[3] = Validator::spawn(&env(3), log(3));
    let h = comet_height(ports[0].0);
    wait_comet_height(&mut validators[3], ports[3].0, h + 1, deadline);
    let until = Instant::now() + deadline;
    while !ready(&format!("tcp://127.0.0.1:{}", ports[3].0)) {
        assert!(
            Instant::now() < until,
            "validator 3 never ready again:\n{}",
            validators[3].log_tail()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // SIGTERM: the node, then the application stop, and the script exits 0.
    let node = children_named(validators[0].pid(), "cometbft");
    let app = children_named(validators[0].pid(), "portledger");
    assert_eq!((app.len(), node.len()), (1, 1));
    let termed = Command::new("kill")
        .args(["-TERM", &validators[0].pid().to_string()])
        .status()
        .expect("kill");
    assert!(termed.success());
    let status = validators[0]
        .wait_exit(Duration::from_secs(60))
        .unwrap_or_else(|| {
            panic!(
                "validator.sh did not stop on SIGTERM:\n{}",
                validators[0].log_tail()
            )
        });
    assert!(status.success(), "SIGTERM is a clean stop: {status}");
    for pid in [node[0], app[0]] {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} stopped"
        );
    }
}

/// Every YAML document of `path`, as JSON (python3's PyYAML reads it: the
/// workspace has no YAML crate).
fn yaml_docs(path: &Path) -> Vec<serde_json::Value> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]))",
        ])
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!("python3 cannot run ({e}): install python3 and PyYAML (Debian: python3-yaml)")
        });
    assert!(
        out.status.success(),
        "reading {} with python3's yaml (install PyYAML, Debian: python3-yaml, if it is missing): {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from python3")
}

/// The port of a listen address such as `tcp://0.0.0.0:26657`.
fn laddr_port(laddr: &str) -> u64 {
    laddr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{laddr}: no port"))
}

/// A relayer configuration, validated by the relayer's own loader (its
/// token file, in a keys volume, left out); the gba chain's id and endpoints,
/// which must be followed with `engine = "cometbft"`.
fn cometbft_gba_chain(toml: &str) -> (String, Vec<String>) {
    let text = toml.replace("token_file = \"/etc/portrelay/keys/api.token\"\n", "");
    let config = relayer::config::Config::parse(&text, Path::new("/etc/portrelay"))
        .unwrap_or_else(|e| panic!("the relayer refuses the configuration: {e}"));
    let gba: Vec<_> = config
        .chains
        .iter()
        .map(|c| c.adapter.chain())
        .filter(|c| c.chain_id.as_str().starts_with("gba"))
        .collect();
    assert_eq!(gba.len(), 1, "one gba chain");
    assert_eq!(gba[0].engine, adapters::chain::Engine::Cometbft);
    (gba[0].chain_id.to_string(), gba[0].endpoints.clone())
}

#[test]
fn the_cometbft_compose_profile_and_k8s_overlay_fit_the_scripts() {
    // The image: CometBFT pinned to the version the tests run, the scripts
    // under the names the compose file and manifests use.
    let dockerfile = std::fs::read_to_string(deploy().join("Dockerfile")).expect("Dockerfile");
    for line in [
        format!("ARG COMETBFT_VERSION=v{COMETBFT_VERSION}"),
        "go install \"github.com/cometbft/cometbft/cmd/cometbft@${COMETBFT_VERSION}\"".to_string(),
        "COPY --from=cometbft /out/cometbft /usr/local/bin/".to_string(),
        "COPY --chmod=0755 deploy/cometbft/init.sh /usr/local/bin/gba-comet-init".to_string(),
        "COPY --chmod=0755 deploy/cometbft/validator.sh /usr/local/bin/gba-validator".to_string(),
    ] {
        assert!(dockerfile.contains(&line), "the Dockerfile lacks {line}");
    }
    let ignore =
        std::fs::read_to_string(deploy().join("Dockerfile.dockerignore")).expect("dockerignore");
    assert!(
        ignore.lines().any(|l| l == "!deploy/cometbft/*.sh"),
        "the build context keeps the scripts"
    );

    // Compose: the init job and four validators of profile cometbft.
    let compose = &yaml_docs(&deploy().join("docker-compose.yml"))[0];
    let services = &compose["services"];
    let init = &services["gba-comet-init"];
    assert_eq!(init["command"], serde_json::json!(["gba-comet-init"]));
    assert_eq!(init["profiles"], serde_json::json!(["cometbft"]));
    let shared = init["environment"]["COMET_SHARED"]
        .as_str()
        .expect("COMET_SHARED");
    let chain = init["environment"]["COMET_CHAIN_ID"]
        .as_str()
        .expect("chain");
    assert_eq!(init["environment"]["COMET_VALIDATORS"], "4");
    let volume = |s: &serde_json::Value, path: &str| -> String {
        s["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .filter_map(|v| v.as_str())
            .find(|v| v.split(':').nth(1) == Some(path))
            .unwrap_or_else(|| panic!("no volume at {path}"))
            .to_string()
    };
    let shared_volume = volume(init, shared);
    assert!(
        !shared_volume.ends_with(":ro"),
        "the init job writes {shared}"
    );
    let names: Vec<String> = (0..4).map(|i| format!("gba-validator-{i}")).collect();
    let mut published = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let v = &services[name.as_str()];
        assert_eq!(v["command"], serde_json::json!(["gba-validator"]), "{name}");
        assert_eq!(v["profiles"], serde_json::json!(["cometbft"]), "{name}");
        assert_eq!(
            v["depends_on"]["gba-comet-init"]["condition"],
            "service_completed_successfully"
        );
        assert_eq!(
            v["healthcheck"]["test"],
            serde_json::json!(["CMD", "gba-validator", "ready"])
        );
        let env = &v["environment"];
        assert_eq!(env["COMET_INDEX"], i.to_string(), "{name}");
        assert_eq!(env["COMET_CHAIN_ID"], chain, "{name}");
        assert_eq!(env["COMET_SHARED"], shared, "{name}");
        assert_eq!(volume(v, shared), format!("{shared_volume}:ro"), "{name}");
        let p2p = laddr_port(env["COMET_P2P_LADDR"].as_str().expect("p2p laddr"));
        let rpc = laddr_port(env["COMET_RPC_LADDR"].as_str().expect("rpc laddr"));
        let peers: Vec<String> = names.iter().map(|n| format!("{n}:{p2p}")).collect();
        assert_eq!(env["COMET_PEER_ADDRS"], peers.join(","), "{name}");
        let home = env["COMET_HOME"].as_str().expect("home");
        let app = env["COMET_APP_DIR"].as_str().expect("app dir");
        let data = volume(v, "/var/lib/portrelay");
        assert_eq!(data, format!("gba-validator-{i}-data:/var/lib/portrelay"));
        assert!(home.starts_with("/var/lib/portrelay/") && app.starts_with("/var/lib/portrelay/"));
        let port = v["ports"][0].as_str().expect("published RPC");
        assert!(port.starts_with("127.0.0.1:"), "{name}: loopback only");
        assert_eq!(laddr_port(port), rpc, "{name} publishes its RPC port");
        published.push(port.to_string());
        for vol in [
            shared_volume.split(':').next().expect("name"),
            &format!("gba-validator-{i}-data"),
        ] {
            assert!(
                compose["volumes"].get(vol).is_some(),
                "volume {vol} declared"
            );
        }
    }
    published.sort();
    published.dedup();
    assert_eq!(published.len(), 4, "distinct host ports");
    // The relayer's second config follows them.
    let (id, endpoints) = cometbft_gba_chain(
        &std::fs::read_to_string(deploy().join("compose").join("portrelay-cometbft.toml"))
            .expect("portrelay-cometbft.toml"),
    );
    assert_eq!(id, chain);
    assert!(!endpoints.is_empty());
    for e in &endpoints {
        let rpc = laddr_port(
            services["gba-validator-0"]["environment"]["COMET_RPC_LADDR"]
                .as_str()
                .expect("rpc"),
        );
        assert!(
            names.iter().any(|n| e == &format!("http://{n}:{rpc}")),
            "{e} is not a validator's RPC"
        );
    }

    // Kubernetes: the overlay lists its files, which hold the validators.
    let overlay = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join("k8s-cometbft");
    let kustomization = &yaml_docs(&overlay.join("kustomization.yaml"))[0];
    let mut listed: Vec<String> = kustomization["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .chain(
            kustomization["patches"]
                .as_array()
                .expect("patches")
                .iter()
                .map(|p| &p["path"]),
        )
        .map(|v| v.as_str().expect("a path").to_string())
        .collect();
    assert!(
        listed.contains(&"../k8s".to_string()),
        "the overlay is over the base"
    );
    listed.retain(|f| f != "../k8s");
    let mut files: Vec<String> = std::fs::read_dir(&overlay)
        .expect("overlay dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .filter(|f| f.ends_with(".yaml") && f != "kustomization.yaml")
        .collect();
    listed.sort();
    files.sort();
    assert_eq!(
        listed, files,
        "kustomization.yaml lists every file of the overlay"
    );
    let docs: Vec<serde_json::Value> = files
        .iter()
        .flat_map(|f| yaml_docs(&overlay.join(f)))
        .collect();
    let find = |kind: &str, name: &str| -> &serde_json::Value {
        docs.iter()
            .find(|d| {
                d["kind"] == kind && d["metadata"]["name"] == name && d.get("$patch").is_none()
            })
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    };
    for kind in ["StatefulSet", "Service"] {
        assert!(
            docs.iter().any(|d| d["$patch"] == "delete"
                && d["kind"] == kind
                && d["metadata"]["name"] == "gba-1"),
            "the embedded gba-1 {kind} is dropped"
        );
    }
    let set = find("StatefulSet", "gba-validator");
    let spec = &set["spec"];
    assert_eq!(spec["replicas"], 4);
    assert_eq!(spec["podManagementPolicy"], "Parallel");
    let headless_name = spec["serviceName"].as_str().expect("serviceName");
    let headless = find("Service", headless_name);
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
    let pod = &spec["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["command"], serde_json::json!(["gba-validator"]));
    let env: std::collections::BTreeMap<String, String> = container["env"]
        .as_array()
        .expect("env")
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect();
    assert!(
        !env.contains_key("COMET_INDEX"),
        "the index is the pod's ordinal"
    );
    let port = |name: &str| -> u64 {
        container["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["containerPort"].as_u64())
            .unwrap_or_else(|| panic!("no container port {name}"))
    };
    let (p2p, rpc) = (port("p2p"), port("rpc"));
    assert_eq!(laddr_port(&env["COMET_P2P_LADDR"]), p2p);
    assert_eq!(laddr_port(&env["COMET_RPC_LADDR"]), rpc);
    let set_name = set["metadata"]["name"].as_str().expect("name");
    let peers: Vec<String> = (0..4)
        .map(|i| format!("{set_name}-{i}.{headless_name}:{p2p}"))
        .collect();
    assert_eq!(env["COMET_PEER_ADDRS"], peers.join(","));
    assert_eq!(
        container["readinessProbe"]["exec"]["command"],
        serde_json::json!(["gba-validator", "ready"])
    );
    assert_eq!(container["livenessProbe"]["httpGet"]["port"], "rpc");
    let mounts = container["volumeMounts"].as_array().expect("mounts");
    let mount_of = |path: &str| -> String {
        mounts
            .iter()
            .find(|m| m["mountPath"] == path)
            .and_then(|m| m["name"].as_str())
            .unwrap_or_else(|| panic!("nothing mounted at {path}"))
            .to_string()
    };
    let shared_name = mount_of(&env["COMET_SHARED"]);
    let secret = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == shared_name.as_str())
        .expect("the shared volume");
    assert_eq!(secret["secret"]["secretName"], "gba-comet");
    let data = mount_of("/var/lib/portrelay");
    assert_eq!(
        spec["volumeClaimTemplates"][0]["metadata"]["name"],
        data.as_str(),
        "a PVC per pod"
    );
    assert!(env["COMET_HOME"].starts_with("/var/lib/portrelay/"));
    assert!(env["COMET_APP_DIR"].starts_with("/var/lib/portrelay/"));
    let rpc_service = find("Service", "gba-rpc");
    assert_eq!(rpc_service["spec"]["ports"][0]["port"], rpc);
    for s in [headless, rpc_service] {
        assert_eq!(
            s["spec"]["selector"], spec["selector"]["matchLabels"],
            "the Services select the validators"
        );
    }
    // The relayer's config in the overlay follows two of the pods.
    let config = find("ConfigMap", "portrelay-config");
    let (id, endpoints) =
        cometbft_gba_chain(config["data"]["portrelay.toml"].as_str().expect("toml"));
    assert_eq!(id, env["COMET_CHAIN_ID"]);
    assert!(
        endpoints.len() >= 2,
        "two validators for the misbehaviour check"
    );
    for e in &endpoints {
        assert!(
            (0..4).any(|i| e == &format!("http://{set_name}-{i}.{headless_name}:{rpc}")),
            "{e} is not a validator pod's RPC"
        );
    }
}
