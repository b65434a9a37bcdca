//! A gba network on CometBFT on this machine (`docs/cometbft.md`): the
//! homes of `cometbft testnet --v N`, every `config.toml` rewritten to free
//! loopback ports (RPC, P2P, ABCI, Prometheus), one chain id in every
//! genesis, and per validator a `portledger --engine cometbft` application
//! and a `cometbft node` over it, both child processes of this one.
//! `portrelay devnet --gba-engine cometbft` and `portrelay bench
//! --gba-engine` start one for gba-1; `portrelay comet-net` (what
//! `scripts/comet-devnet` runs) starts one apart and prints its RPC
//! endpoints and a relayer configuration.
//!
//! The applications are processes rather than `devnet::abci` servers in
//! this one: an application that cannot finalize or commit a block exits
//! (status 70) so that its restart reloads the committed state, which in
//! process would end the relayer too; and `tendermint-abci`'s server has no
//! stop, so only a process gives a validator that can be stopped and
//! restarted. `portledger` is looked up next to this executable (where
//! `cargo build` puts both), then `$PORTLEDGER`, then on the PATH.
//!
//! Stopping: SIGTERM to every node then every application (the
//! application writes its snapshot), SIGKILL after a grace period; the
//! network kills what is left when dropped. A `portrelay` killed with
//! SIGKILL cannot do that: the children's ids are in `DIR/pids` for
//! `scripts/comet-devnet` (or a person) to end them.

use crate::cmd::err;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use light_clients::ChainId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The CometBFT release the network runs (what `scripts/cometbft` installs).
pub const COMETBFT_VERSION: &str = "0.38.17";

/// CometBFT's limits (see `generate`): an RPC request, a transaction, a
/// block, and P2P bytes per second on loopback.
const MAX_BODY_BYTES: u64 = 48 << 20;
const MAX_TX_BYTES: u64 = 32 << 20;
const MAX_BLOCK_BYTES: u64 = 64 << 20;
const P2P_RATE: u64 = 100 << 20;

/// How long the network gets to make its first blocks.
const START_DEADLINE: Duration = Duration::from_secs(120);
/// How long a stopped process gets before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How to generate a network.
#[derive(Debug, Clone)]
pub struct CometNetOptions {
    /// Where the homes, applications' data, secret and logs go.
    pub dir: PathBuf,
    pub chain_id: ChainId,
    pub validators: usize,
    /// `[consensus] timeout_commit`: about the block interval.
    pub timeout_commit: Duration,
}

/// The ports of one validator, kept in `DIR/network.json` so that a
/// network started again reuses its homes and ports.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ports {
    pub rpc: u16,
    pub p2p: u16,
    pub abci: u16,
    pub prometheus: u16,
}

/// What `DIR/network.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Layout {
    chain_id: ChainId,
    ports: Vec<Ports>,
}

/// One validator: its CometBFT home, its application's data, its processes.
#[derive(Debug)]
pub struct Validator {
    pub home: PathBuf,
    pub app_dir: PathBuf,
    pub ports: Ports,
    app: Option<Child>,
    node: Option<Child>,
}

/// A running gba network on CometBFT (see the module doc).
#[derive(Debug)]
pub struct CometNetwork {
    pub dir: PathBuf,
    pub chain_id: ChainId,
    /// The network secret every application reads.
    pub secret: PathBuf,
    pub validators: Vec<Validator>,
    cometbft: PathBuf,
    portledger: PathBuf,
}

/// The `cometbft` binary, v0.38: `$COMETBFT`, `cometbft` on the PATH, or
/// `~/go/bin/cometbft`; an error naming `scripts/cometbft` when none runs.
pub fn cometbft() -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("COMETBFT") {
        candidates.push(p.into());
    }
    candidates.push("cometbft".into());
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join("go/bin/cometbft"));
    }
    let mut other = None;
    for c in candidates {
        let Ok(out) = Command::new(&c).arg("version").output() else {
            continue;
        };
        if !out.status.success() {
            continue;
        }
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if version.starts_with("0.38.") {
            return Ok(c);
        }
        other = Some(format!("{} is CometBFT {version}", c.display()));
    }
    Err(anyhow::anyhow!(
        "{}: run scripts/cometbft, which installs CometBFT v{COMETBFT_VERSION} with `go install` \
         (Go 1.22 or later), or set $COMETBFT to a cometbft v0.38 binary",
        other.unwrap_or_else(
            || "cometbft not found (looked for $COMETBFT, cometbft on the PATH, \
             ~/go/bin/cometbft)"
                .to_string()
        )
    ))
}

/// The `portledger` binary: next to this executable, `$PORTLEDGER`, or on the PATH.
pub fn portledger() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        // Tests run from target/debug/deps; the binaries are one level up.
        for d in [dir.clone(), dir.join("..")] {
            let p = d.join("portledger");
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    if let Some(p) = std::env::var_os("PORTLEDGER") {
        return Ok(p.into());
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let p = d.join("portledger");
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(anyhow::anyhow!(
        "portledger not found next to this executable, in $PORTLEDGER or on the PATH: \
         build it with `cargo build --bin portledger`"
    ))
}

/// A free loopback port (bound, then released).
fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(err("free port"))?;
    Ok(l.local_addr().map_err(err("free port"))?.port())
}

/// Sets `key = value` in `section` of a config.toml (`""` is the top level).
pub fn set_toml(text: &str, edits: &[(&str, &str, String)]) -> String {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            section = trimmed.trim_matches(|c| c == '[' || c == ']').to_string();
        }
        let key = trimmed.split_once(" = ").map(|(k, _)| k);
        match edits
            .iter()
            .find(|(s, k, _)| *s == section && Some(*k) == key)
        {
            Some((_, k, v)) => out.push(format!("{k} = {v}")),
            None => out.push(line.to_string()),
        }
    }
    out.join("\n") + "\n"
}

/// CometBFT's duration form: whole milliseconds.
fn millis(d: Duration) -> String {
    format!("\"{}ms\"", d.as_millis())
}

impl CometNetwork {
    /// Generates the network in `opts.dir` (or takes the one generated
    /// there before: same homes, ports and data), starts every validator
    /// and waits until each has block 2.
    pub async fn start(opts: &CometNetOptions) -> anyhow::Result<CometNetwork> {
        let cometbft = cometbft()?;
        let portledger = portledger()?;
        std::fs::create_dir_all(&opts.dir).map_err(err("network dir"))?;
        let layout_file = opts.dir.join("network.json");
        let layout: Layout = if layout_file.is_file() {
            let text = std::fs::read_to_string(&layout_file).map_err(err("network.json"))?;
            let layout: Layout = serde_json::from_str(&text).map_err(err("network.json"))?;
            if layout.chain_id != opts.chain_id || layout.ports.len() != opts.validators {
                return Err(anyhow::anyhow!(
                    "{} holds a network of {} validators of chain {}, not {} of {}: use another directory",
                    opts.dir.display(),
                    layout.ports.len(),
                    layout.chain_id,
                    opts.validators,
                    opts.chain_id
                ));
            }
            layout
        } else {
            let layout = generate(&cometbft, opts)?;
            std::fs::write(
                &layout_file,
                serde_json::to_string_pretty(&layout).map_err(err("network.json"))?,
            )
            .map_err(err("network.json"))?;
            layout
        };
        let validators = layout
            .ports
            .iter()
            .enumerate()
            .map(|(i, ports)| Validator {
                home: opts.dir.join(format!("net/node{i}")),
                app_dir: opts.dir.join(format!("app{i}")),
                ports: *ports,
                app: None,
                node: None,
            })
            .collect();
        let mut net = CometNetwork {
            dir: opts.dir.clone(),
            chain_id: opts.chain_id.clone(),
            secret: opts.dir.join("network.secret"),
            validators,
            cometbft,
            portledger,
        };
        for i in 0..net.validators.len() {
            net.start_validator(i).await?;
        }
        net.write_pids()?;
        for i in 0..net.validators.len() {
            net.wait_height(i, 2, START_DEADLINE).await?;
        }
        Ok(net)
    }

    fn log(&self, name: &str) -> anyhow::Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(name))
            .map_err(err(name))
    }

    /// Starts validator `i`'s application, waits for its ABCI port, then
    /// starts its node (CometBFT retries a refused ABCI connection only
    /// every 3 s).
    pub async fn start_validator(&mut self, i: usize) -> anyhow::Result<()> {
        let app_log = format!("app{i}.log");
        let node_log = format!("node{i}.log");
        let v = &self.validators[i];
        let app = Command::new(&self.portledger)
            .args(["--family", "gba", "--engine", "cometbft", "--chain-id"])
            .arg(self.chain_id.as_str())
            .arg("--abci")
            .arg(format!("127.0.0.1:{}", v.ports.abci))
            .arg("--network-secret")
            .arg(&self.secret)
            .arg("--data-dir")
            .arg(&v.app_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(self.log(&app_log)?))
            .stderr(Stdio::from(self.log(&app_log)?))
            .spawn()
            .map_err(err(&format!("start {}", self.portledger.display())))?;
        let abci = v.ports.abci;
        self.validators[i].app = Some(app);
        let deadline = Instant::now() + START_DEADLINE;
        while tokio::net::TcpStream::connect(("127.0.0.1", abci))
            .await
            .is_err()
        {
            let exited = self.validators[i]
                .app
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                return Err(anyhow::anyhow!(
                    "validator {i}'s application did not listen on 127.0.0.1:{abci}: see {}",
                    self.dir.join(&app_log).display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let v = &self.validators[i];
        let node = Command::new(&self.cometbft)
            .args(["node", "--home"])
            .arg(&v.home)
            .stdin(Stdio::null())
            .stdout(Stdio::from(self.log(&node_log)?))
            .stderr(Stdio::from(self.log(&node_log)?))
            .spawn()
            .map_err(err(&format!("start {}", self.cometbft.display())))?;
        self.validators[i].node = Some(node);
        Ok(())
    }

    /// The process ids of the running nodes and applications.
    pub fn pids(&self) -> Vec<u32> {
        self.validators
            .iter()
            .flat_map(|v| [v.node.as_ref(), v.app.as_ref()])
            .flatten()
            .map(Child::id)
            .collect()
    }

    /// Every child's process id, one a line, in `DIR/pids`.
    fn write_pids(&self) -> anyhow::Result<()> {
        let pids: String = self.pids().iter().map(|p| format!("{p}\n")).collect();
        std::fs::write(self.dir.join("pids"), pids).map_err(err("pids"))
    }

    /// The validators' CometBFT RPC endpoints (`http://127.0.0.1:PORT`).
    pub fn rpc_endpoints(&self) -> Vec<String> {
        self.validators
            .iter()
            .map(|v| format!("http://127.0.0.1:{}", v.ports.rpc))
            .collect()
    }

    /// The validators' Prometheus endpoints (CometBFT's own metrics).
    pub fn prometheus_endpoints(&self) -> Vec<String> {
        self.validators
            .iter()
            .map(|v| format!("http://127.0.0.1:{}/metrics", v.ports.prometheus))
            .collect()
    }

    /// The ledger's operator key (every application derives the same one
    /// from the network secret; validator 0's data directory holds it).
    pub fn operator_key(&self) -> anyhow::Result<ed25519_consensus::SigningKey> {
        devnet::ledger::operator_key(&self.validators[0].app_dir)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.chain_id))
    }

    /// A relayer configuration's `[[chains]]` entry for this network.
    pub fn relayer_config(&self, key_file: &Path) -> String {
        let endpoints = self
            .rpc_endpoints()
            .iter()
            .map(|e| format!("\"{e}\""))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "[[chains]]\nfamily = \"gba\"\nchain_id = \"{}\"\nengine = \"cometbft\"\nendpoints = [{endpoints}]\napps = [\"cargo\", \"payment\", \"ebl\"]\nkey_file = \"{}\"\nrpc = {{ preset = \"devnet\" }}\n",
            self.chain_id,
            key_file.display()
        )
    }

    /// GET a CometBFT RPC route of validator `i` (`/status`): its `result`.
    pub async fn rpc(&self, i: usize, route: &str) -> anyhow::Result<Value> {
        let port = self.validators[i].ports.rpc;
        let body = http_get(port, route).await?;
        let v: Value =
            serde_json::from_str(&body).map_err(|e| anyhow::anyhow!("GET {route}: {e}: {body}"))?;
        if let Some(e) = v.get("error") {
            return Err(anyhow::anyhow!("GET {route}: {e}"));
        }
        Ok(v["result"].clone())
    }

    /// Validator `i`'s latest block height (0 while it does not answer).
    pub async fn height(&self, i: usize) -> u64 {
        match self.rpc(i, "/status").await {
            Ok(s) => s["sync_info"]["latest_block_height"]
                .as_str()
                .and_then(|h| h.parse().ok())
                .unwrap_or(0),
            Err(_) => 0,
        }
    }

    /// Waits until validator `i` has block `height`.
    pub async fn wait_height(&self, i: usize, height: u64, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let h = self.height(i).await;
            if h >= height {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(anyhow::anyhow!(
                    "validator {i} of {} is at height {h}, not {height}, after {within:?}: see {}",
                    self.chain_id,
                    self.dir.join(format!("node{i}.log")).display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Validator `i`'s Prometheus text (CometBFT's metrics).
    pub async fn prometheus(&self, i: usize) -> anyhow::Result<String> {
        http_get(self.validators[i].ports.prometheus, "/metrics").await
    }

    /// Stops validator `i`: SIGTERM to its node, then its application,
    /// SIGKILL to what is still running after the grace period.
    pub fn stop_validator(&mut self, i: usize) {
        let v = &mut self.validators[i];
        for child in [v.node.take(), v.app.take()].into_iter().flatten() {
            stop_child(child);
        }
    }

    /// Stops every validator (see [`CometNetwork::stop_validator`]).
    pub fn stop(&mut self) {
        // Every node first: none waits for the others' blocks meanwhile.
        let nodes: Vec<Child> = self
            .validators
            .iter_mut()
            .filter_map(|v| v.node.take())
            .collect();
        let apps: Vec<Child> = self
            .validators
            .iter_mut()
            .filter_map(|v| v.app.take())
            .collect();
        for group in [nodes, apps] {
            for c in &group {
                signal_term(c.id());
            }
            for c in group {
                reap(c);
            }
        }
        let _ = std::fs::remove_file(self.dir.join("pids"));
    }
}

impl Drop for CometNetwork {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.dir.join("pids"));
        for v in &mut self.validators {
            for child in [v.node.take(), v.app.take()].into_iter().flatten() {
                let mut child = child;
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// SIGTERM through `kill(1)` (the crate has no unsafe code for `kill(2)`).
fn signal_term(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Waits up to the grace period for a signalled child, then kills it.
fn reap(mut child: Child) {
    let deadline = Instant::now() + STOP_GRACE;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
}

fn stop_child(child: Child) {
    signal_term(child.id());
    reap(child);
}

/// Runs `cometbft testnet` in `DIR/net` and rewrites every home to free
/// loopback ports and the options' chain id and block interval.
fn generate(cometbft: &Path, opts: &CometNetOptions) -> anyhow::Result<Layout> {
    let net = opts.dir.join("net");
    let out = Command::new(cometbft)
        .args(["testnet", "--v", &opts.validators.to_string(), "--o"])
        .arg(&net)
        .args([
            "--populate-persistent-peers",
            "--starting-ip-address",
            "127.0.0.1",
        ])
        .output()
        .map_err(err("cometbft testnet"))?;
    if !out.status.success() {
        return Err(anyhow::anyhow!(
            "cometbft testnet: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let secret: [u8; 72] = devnet::clock::entropy().map_err(err("entropy"))?;
    std::fs::write(opts.dir.join("network.secret"), hex::encode(secret))
        .map_err(err("network.secret"))?;
    let ports = (0..opts.validators)
        .map(|_| {
            Ok(Ports {
                rpc: free_port()?,
                p2p: free_port()?,
                abci: free_port()?,
                prometheus: free_port()?,
            })
        })
        .collect::<anyhow::Result<Vec<Ports>>>()?;
    for (i, p) in ports.iter().enumerate() {
        let home = net.join(format!("node{i}"));
        let config = home.join("config/config.toml");
        let text = std::fs::read_to_string(&config).map_err(err("config.toml"))?;
        // The generated peers are ID@127.0.0.(k+1):26656 for node k: the
        // same IDs at node k's port here.
        let peers = text
            .lines()
            .find_map(|l| l.strip_prefix("persistent_peers = "))
            .ok_or_else(|| anyhow::anyhow!("{}: no persistent_peers", config.display()))?
            .trim_matches('"')
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|peer| {
                let bad = || anyhow::anyhow!("{}: peer {peer:?}", config.display());
                let (id, addr) = peer.split_once('@').ok_or_else(bad)?;
                let last: usize = addr
                    .split(':')
                    .next()
                    .and_then(|ip| ip.rsplit('.').next())
                    .and_then(|o| o.parse().ok())
                    .ok_or_else(bad)?;
                let k = last.checked_sub(1).ok_or_else(bad)?;
                let port = ports.get(k).ok_or_else(bad)?.p2p;
                Ok(format!("{id}@127.0.0.1:{port}"))
            })
            .collect::<anyhow::Result<Vec<String>>>()?
            .join(",");
        let q = |s: String| format!("\"{s}\"");
        let edited = set_toml(
            &text,
            &[
                ("", "proxy_app", q(format!("tcp://127.0.0.1:{}", p.abci))),
                ("", "moniker", q(format!("validator{i}"))),
                ("rpc", "laddr", q(format!("tcp://127.0.0.1:{}", p.rpc))),
                ("p2p", "laddr", q(format!("tcp://127.0.0.1:{}", p.p2p))),
                ("p2p", "persistent_peers", q(peers)),
                ("p2p", "addr_book_strict", "false".into()),
                ("p2p", "allow_duplicate_ip", "true".into()),
                ("consensus", "timeout_commit", millis(opts.timeout_commit)),
                ("consensus", "timeout_propose", q("1s".into())),
                ("consensus", "timeout_prevote", q("500ms".into())),
                ("consensus", "timeout_precommit", q("500ms".into())),
                ("consensus", "peer_gossip_sleep_duration", q("50ms".into())),
                // Room for the largest transaction the application
                // advertises (`/v1/status` max_tx_bytes: an 8 MiB body,
                // whose SignedTx JSON, hex and base64 make about 22 MiB
                // in a broadcast's JSON): CometBFT's defaults (1 MB
                // request, 1 MiB transaction) refuse a relayer's large
                // batches, the request with a bare HTTP 400.
                ("rpc", "max_body_bytes", MAX_BODY_BYTES.to_string()),
                ("mempool", "max_tx_bytes", MAX_TX_BYTES.to_string()),
                ("p2p", "send_rate", P2P_RATE.to_string()),
                ("p2p", "recv_rate", P2P_RATE.to_string()),
                ("instrumentation", "prometheus", "true".into()),
                (
                    "instrumentation",
                    "prometheus_listen_addr",
                    q(format!("127.0.0.1:{}", p.prometheus)),
                ),
            ],
        );
        std::fs::write(&config, edited).map_err(err("config.toml"))?;
        // One genesis, with a chain id a portrelay ChainId can hold.
        let genesis = home.join("config/genesis.json");
        let mut g: Value =
            serde_json::from_str(&std::fs::read_to_string(&genesis).map_err(err("genesis.json"))?)
                .map_err(err("genesis.json"))?;
        g["chain_id"] = Value::String(opts.chain_id.to_string());
        // A block holds at least the largest transaction.
        g["consensus_params"]["block"]["max_bytes"] = Value::String(MAX_BLOCK_BYTES.to_string());
        std::fs::write(
            &genesis,
            serde_json::to_string_pretty(&g).map_err(err("genesis.json"))?,
        )
        .map_err(err("genesis.json"))?;
    }
    Ok(Layout {
        chain_id: opts.chain_id.clone(),
        ports,
    })
}

/// One HTTP/1.0 GET on loopback (CometBFT answers it unchunked and
/// closes): the body.
async fn http_get(port: u16, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .await?;
        let mut raw = Vec::new();
        s.take(64 * 1024 * 1024).read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| anyhow::anyhow!("GET 127.0.0.1:{port}{path}: timed out"))?
        .map_err(err(&format!("GET 127.0.0.1:{port}{path}")))?;
    let text = String::from_utf8_lossy(&raw);
    let (_, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("GET 127.0.0.1:{port}{path}: no HTTP response"))?;
    Ok(body.to_string())
}

/// The sum and count of a Prometheus histogram in a text exposition, by
/// the value of label `by` (`""` for a series without it), over the
/// series whose labels include every `filter` pair.
pub fn histogram_by(
    text: &str,
    name: &str,
    by: &str,
    filter: &[(&str, &str)],
) -> std::collections::BTreeMap<String, (f64, u64)> {
    let mut out: std::collections::BTreeMap<String, (f64, u64)> = Default::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let (is_sum, rest) = match (rest.strip_prefix("_sum"), rest.strip_prefix("_count")) {
            (Some(r), _) => (true, r),
            (_, Some(r)) => (false, r),
            _ => continue,
        };
        let (labels, value) = match rest.strip_prefix('{') {
            Some(r) => match r.split_once('}') {
                Some(v) => v,
                None => continue,
            },
            None => ("", rest),
        };
        let label = |k: &str| -> Option<&str> {
            labels.split(',').find_map(|kv| {
                let (key, v) = kv.split_once('=')?;
                (key.trim() == k).then(|| v.trim().trim_matches('"'))
            })
        };
        if !filter.iter().all(|(k, v)| label(k) == Some(*v)) {
            continue;
        }
        let Ok(value) = value.trim().parse::<f64>() else {
            continue;
        };
        let entry = out.entry(label(by).unwrap_or("").to_string()).or_default();
        if is_sum {
            entry.0 += value;
        } else {
            entry.1 += value as u64;
        }
    }
    out
}

// The `portrelay comet-net` command line.

/// `portrelay comet-net`'s options.
#[derive(Debug, clap::Args)]
pub struct CometNetArgs {
    /// Where the network lives; started again on an existing one, it resumes it.
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long, default_value = "gba-1")]
    pub chain_id: ChainId,
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// CometBFT's `timeout_commit` (about the block interval).
    #[arg(long, default_value = "300ms", value_parser = humantime::parse_duration)]
    pub timeout_commit: Duration,
}

pub fn run_command(args: CometNetArgs) -> std::process::ExitCode {
    if args.validators == 0 {
        return super::fail("--validators: at least 1");
    }
    let opts = CometNetOptions {
        dir: args.dir,
        chain_id: args.chain_id,
        validators: args.validators,
        timeout_commit: args.timeout_commit,
    };
    super::run_async(|shutdown| async move {
        let mut net = CometNetwork::start(&opts).await?;
        println!(
            "{} on CometBFT v{COMETBFT_VERSION}: {} validators, data in {}",
            net.chain_id,
            net.validators.len(),
            net.dir.display()
        );
        for (i, v) in net.validators.iter().enumerate() {
            println!(
                "validator {i}  rpc http://127.0.0.1:{}  p2p 127.0.0.1:{}  abci 127.0.0.1:{}  metrics http://127.0.0.1:{}/metrics",
                v.ports.rpc, v.ports.p2p, v.ports.abci, v.ports.prometheus
            );
        }
        println!(
            "operator key {}\n\nrelayer configuration (a key of yours, registered by the operator):\n\n{}",
            net.validators[0].app_dir.join("operator.key").display(),
            net.relayer_config(Path::new("/path/to/relayer.key"))
        );
        println!("running until Ctrl-C or SIGTERM");
        shutdown.cancelled().await;
        tokio::task::spawn_blocking(move || net.stop())
            .await
            .map_err(err("stop"))?;
        println!("stopped");
        Ok::<(), anyhow::Error>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_toml_edits_keys_in_their_section_only() {
        let text = "proxy_app = \"tcp://127.0.0.1:26658\"\nmoniker = \"x\"\n\n[rpc]\nladdr = \"tcp://0.0.0.0:26657\"\n\n[p2p]\nladdr = \"tcp://0.0.0.0:26656\"\npersistent_peers = \"\"\n";
        let out = set_toml(
            text,
            &[
                ("", "proxy_app", "\"tcp://127.0.0.1:5\"".into()),
                ("p2p", "laddr", "\"tcp://127.0.0.1:6\"".into()),
            ],
        );
        assert!(out.starts_with("proxy_app = \"tcp://127.0.0.1:5\"\n"));
        assert!(out.contains("[rpc]\nladdr = \"tcp://0.0.0.0:26657\"\n"));
        assert!(out.contains("[p2p]\nladdr = \"tcp://127.0.0.1:6\"\n"));
        assert!(out.contains("persistent_peers = \"\"\n"));
    }

    #[test]
    fn histogram_by_sums_matching_series_by_label() {
        let text = "# HELP x\n\
            cometbft_abci_connection_method_timing_seconds_bucket{chain_id=\"gba-1\",method=\"commit\",type=\"sync\",le=\"1\"} 3\n\
            cometbft_abci_connection_method_timing_seconds_sum{chain_id=\"gba-1\",method=\"commit\",type=\"sync\"} 0.5\n\
            cometbft_abci_connection_method_timing_seconds_count{chain_id=\"gba-1\",method=\"commit\",type=\"sync\"} 4\n\
            cometbft_abci_connection_method_timing_seconds_sum{chain_id=\"gba-1\",method=\"query\",type=\"sync\"} 1.5\n\
            cometbft_abci_connection_method_timing_seconds_count{chain_id=\"gba-1\",method=\"query\",type=\"sync\"} 3\n\
            cometbft_abci_connection_method_timing_seconds_sum{chain_id=\"other\",method=\"query\",type=\"sync\"} 9\n\
            cometbft_abci_connection_method_timing_seconds_count{chain_id=\"other\",method=\"query\",type=\"sync\"} 9\n\
            cometbft_consensus_block_interval_seconds_sum 2.5\n\
            cometbft_consensus_block_interval_seconds_count 5\n";
        let by = histogram_by(
            text,
            "cometbft_abci_connection_method_timing_seconds",
            "method",
            &[("chain_id", "gba-1")],
        );
        assert_eq!(by.len(), 2);
        assert_eq!(by["commit"], (0.5, 4));
        assert_eq!(by["query"], (1.5, 3));
        let all = histogram_by(text, "cometbft_consensus_block_interval_seconds", "", &[]);
        assert_eq!(all[""], (2.5, 5));
    }
}
