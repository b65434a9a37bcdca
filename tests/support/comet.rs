//! A CometBFT network of the tests' own: `cometbft testnet` home
//! directories rewritten to free loopback ports, one `portledger --engine
//! cometbft` application per validator (its own data directory, the
//! network's shared secret), and the `cometbft node` processes over them.
//!
//! `cometbft` is looked up on PATH, then in ~/go/bin; when it is missing (or
//! not v0.38) the test fails naming `scripts/cometbft`, which installs it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use light_clients::ChainId;
use serde_json::Value;

/// How long a network gets to do what a test waits for.
pub const DEADLINE: Duration = Duration::from_secs(90);

pub use super::comet_node::cometbft;

/// One validator: its CometBFT home and node, its application.
pub struct Node {
    pub home: PathBuf,
    pub app_dir: PathBuf,
    pub rpc_port: u16,
    pub abci_port: u16,
    app: Option<Child>,
    comet: Option<Child>,
}

/// A CometBFT network running the gba ledger.
pub struct CometNet {
    pub dir: PathBuf,
    pub chain_id: ChainId,
    pub secret: PathBuf,
    pub nodes: Vec<Node>,
    bin: PathBuf,
}

use portrelay::cmd::comet_net::set_toml;

impl CometNet {
    /// Generates and starts `validators` validators, and waits for block 2.
    pub async fn start(dir: &Path, validators: usize) -> CometNet {
        let bin = cometbft();
        let net = dir.join("net");
        let out = Command::new(&bin)
            .args(["testnet", "--v", &validators.to_string(), "--o"])
            .arg(&net)
            .args([
                "--populate-persistent-peers",
                "--starting-ip-address",
                "127.0.0.1",
            ])
            .output()
            .expect("run cometbft testnet");
        assert!(
            out.status.success(),
            "cometbft testnet: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let chain_id: ChainId = "gba-comet".parse().expect("chain id");
        let secret = dir.join("network.secret");
        let bytes: [u8; 72] = devnet::clock::entropy().expect("entropy");
        std::fs::write(&secret, hex::encode(bytes)).expect("secret");
        let picked = free_ports(3 * validators);
        let ports: Vec<(u16, u16, u16)> = picked.chunks(3).map(|p| (p[0], p[1], p[2])).collect();
        // The generated peers are ID@127.0.0.(i+1):26656, node i: the same IDs, our ports.
        let mut nodes = Vec::new();
        for (i, &(rpc_port, p2p_port, abci_port)) in ports.iter().enumerate() {
            let home = net.join(format!("node{i}"));
            let config = home.join("config/config.toml");
            let text = std::fs::read_to_string(&config).expect("config.toml");
            let peers = text
                .lines()
                .find_map(|l| l.strip_prefix("persistent_peers = "))
                .expect("persistent_peers")
                .trim_matches('"')
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (id, addr) = p.split_once('@').expect("peer");
                    let ip = addr.split(':').next().expect("ip");
                    let last: usize = ip
                        .rsplit('.')
                        .next()
                        .expect("octet")
                        .parse()
                        .expect("octet");
                    format!("{id}@127.0.0.1:{}", ports[last - 1].1)
                })
                .collect::<Vec<_>>()
                .join(",");
            let q = |s: String| format!("\"{s}\"");
            let edited = set_toml(
                &text,
                &[
                    ("", "proxy_app", q(format!("tcp://127.0.0.1:{abci_port}"))),
                    ("", "moniker", q(format!("validator{i}"))),
                    ("rpc", "laddr", q(format!("tcp://127.0.0.1:{rpc_port}"))),
                    ("p2p", "laddr", q(format!("tcp://127.0.0.1:{p2p_port}"))),
                    ("p2p", "persistent_peers", q(peers)),
                    ("p2p", "addr_book_strict", "false".into()),
                    ("p2p", "allow_duplicate_ip", "true".into()),
                    ("consensus", "timeout_commit", q("300ms".into())),
                    ("consensus", "timeout_propose", q("1s".into())),
                    ("consensus", "timeout_prevote", q("500ms".into())),
                    ("consensus", "timeout_precommit", q("500ms".into())),
                    ("consensus", "peer_gossip_sleep_duration", q("50ms".into())),
                ],
            );
            std::fs::write(&config, edited).expect("config.toml");
            // One genesis, with a chain id a portrelay ChainId can hold.
            let genesis = home.join("config/genesis.json");
            let mut g: Value =
                serde_json::from_str(&std::fs::read_to_string(&genesis).expect("genesis"))
                    .expect("genesis json");
            g["chain_id"] = Value::String(chain_id.to_string());
            std::fs::write(&genesis, serde_json::to_string_pretty(&g).expect("json"))
                .expect("genesis");
            nodes.push(Node {
                app_dir: dir.join(format!("app{i}")),
                home,
                rpc_port,
                abci_port,
                app: None,
                comet: None,
            });
        }
        let mut net = CometNet {
            dir: dir.to_path_buf(),
            chain_id,
            secret,
            nodes,
            bin,
        };
        for i in 0..validators {
            net.start_node(i);
        }
        for i in 0..validators {
            net.wait_height(i, 2).await;
        }
        net
    }

    /// Starts node `i`'s application, then its CometBFT node (again, after a stop).
    pub fn start_node(&mut self, i: usize) {
        let log = |name: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(name))
                .expect("log file")
        };
        let node = &self.nodes[i];
        let app = Command::new(env!("CARGO_BIN_EXE_portledger"))
            .args(["--family", "gba", "--engine", "cometbft", "--chain-id"])
            .arg(self.chain_id.as_str())
            .arg("--abci")
            .arg(format!("127.0.0.1:{}", node.abci_port))
            .arg("--network-secret")
            .arg(&self.secret)
            .arg("--data-dir")
            .arg(&node.app_dir)
            .stdout(Stdio::from(log(&format!("app{i}.log"))))
            .stderr(Stdio::from(log(&format!("app{i}.log"))))
            .spawn()
            .expect("start portledger --engine cometbft");
        // CometBFT retries its ABCI connection every 3 s: wait for the port first.
        let deadline = Instant::now() + DEADLINE;
        while std::net::TcpStream::connect(("127.0.0.1", node.abci_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "application {i} did not listen: see {}",
                self.dir.join(format!("app{i}.log")).display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let comet = Command::new(&self.bin)
            .args(["node", "--home"])
            .arg(&node.home)
            .stdout(Stdio::from(log(&format!("node{i}.log"))))
            .stderr(Stdio::from(log(&format!("node{i}.log"))))
            .spawn()
            .expect("start cometbft node");
        let node = &mut self.nodes[i];
        node.app = Some(app);
        node.comet = Some(comet);
    }

    /// SIGKILL node `i`'s CometBFT node and its application.
    pub fn kill_node(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        for child in [node.comet.take(), node.app.take()].into_iter().flatten() {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// GET a CometBFT RPC route of node `i` (`/status`, `/commit?height=3`):
    /// its `result`, or the error.
    pub async fn rpc(&self, i: usize, path: &str) -> Result<Value, String> {
        rpc_get(self.nodes[i].rpc_port, path).await
    }

    /// Node `i`'s latest block height (0 while it does not answer).
    pub async fn height(&self, i: usize) -> u64 {
        match self.rpc(i, "/status").await {
            Ok(s) => s["sync_info"]["latest_block_height"]
                .as_str()
                .and_then(|h| h.parse().ok())
                .unwrap_or(0),
            Err(_) => 0,
        }
    }

    /// Waits until node `i` has a block at `height`.
    pub async fn wait_height(&self, i: usize, height: u64) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let h = self.height(i).await;
            if h >= height {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {i} is at height {h}, not {height}: see {}\n{}",
                self.dir.display(),
                self.log_tails(i)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The last lines of node `i`'s CometBFT and application logs (the
    /// test's directory is gone once it fails).
    pub fn log_tails(&self, i: usize) -> String {
        let mut out = String::new();
        for name in [format!("node{i}.log"), format!("app{i}.log")] {
            let text = std::fs::read_to_string(self.dir.join(&name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("--- {name} (last 15 lines)\n"));
            for l in &lines[lines.len().saturating_sub(15)..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// The `app_hash` of header `height` at node `i`, hex upper case.
    pub async fn app_hash(&self, i: usize, height: u64) -> String {
        let h = self
            .rpc(i, &format!("/header?height={height}"))
            .await
            .expect("header");
        h["header"]["app_hash"]
            .as_str()
            .expect("app_hash")
            .to_string()
    }

    /// `abci_query` of a ledger route at node `i`: the code and, when 0,
    /// the route's JSON, else the log's `{code, message}`.
    pub async fn query(&self, i: usize, route: &str) -> (u64, Value) {
        let r = self
            .rpc(i, &format!("/abci_query?path=%22{}%22", route))
            .await
            .expect("abci_query");
        let response = &r["response"];
        let code = response["code"].as_u64().unwrap_or(0);
        if code == 0 {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(response["value"].as_str().unwrap_or(""))
                .expect("base64 value");
            (code, serde_json::from_slice(&bytes).expect("query json"))
        } else {
            let log = response["log"].as_str().unwrap_or("");
            (
                code,
                serde_json::from_str(log).unwrap_or(Value::String(log.into())),
            )
        }
    }

    /// `broadcast_tx_sync` at node `i`: CheckTx's answer.
    pub async fn broadcast(&self, i: usize, tx: &[u8]) -> Value {
        self.rpc(i, &format!("/broadcast_tx_sync?tx=0x{}", hex::encode(tx)))
            .await
            .expect("broadcast_tx_sync")
    }

    /// Waits for a transaction (its hash from `broadcast`) in a block: `/tx`'s result.
    pub async fn wait_tx(&self, i: usize, hash: &str) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(r) = self.rpc(i, &format!("/tx?hash=0x{hash}")).await {
                return r;
            }
            assert!(Instant::now() < deadline, "tx {hash} never reached a block");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The ledger's operator key (every application derives the same one).
    pub fn operator(&self) -> ed25519_consensus::SigningKey {
        devnet::ledger::operator_key(&self.nodes[0].app_dir).expect("operator key")
    }
}

impl Drop for CometNet {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill_node(i);
        }
    }
}

/// One HTTP/1.0 GET on loopback (CometBFT answers it unchunked and closes).
pub async fn rpc_get(port: u16, path: &str) -> Result<Value, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| format!("GET {path}: timed out"))??;
    let text = String::from_utf8_lossy(&raw);
    let (_, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: no HTTP response"))?;
    let v: Value = serde_json::from_str(body).map_err(|e| format!("GET {path}: {e}: {body}"))?;
    if let Some(e) = v.get("error") {
        return Err(e.to_string());
    }
    Ok(v["result"].clone())
}

/// `n` distinct free loopback ports: each held until all are picked, so
/// none is handed out twice.
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect()
}

/// Reads `key` of `section` in a config.toml, unquoted.
fn get_toml(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            current = trimmed.trim_matches(|c| c == '[' || c == ']').to_string();
        } else if current == section {
            if let Some((k, v)) = trimmed.split_once(" = ") {
                if k == key {
                    return Some(v.trim_matches('"').to_string());
                }
            }
        }
    }
    None
}

impl CometNet {
    /// Node `i`'s CometBFT RPC endpoint (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.nodes[i].rpc_port)
    }

    /// A relayer's CometBFT adapter of this chain over the RPC of `nodes`
    /// (the first is asked first).
    pub fn adapter(&self, nodes: &[usize]) -> std::sync::Arc<dyn adapters::chain::ChainAdapter> {
        use adapters::chain::{AdapterConfig, ChainConfig, Engine, RpcPolicy};
        let config = ChainConfig {
            chain_id: self.chain_id.clone(),
            endpoints: nodes.iter().map(|&i| self.endpoint(i)).collect(),
            apps: light_clients::App::ALL.to_vec(),
            trust_root: None,
            rpc: RpcPolicy::DEVNET,
            engine: Engine::Cometbft,
        };
        adapters::registry::build(
            &AdapterConfig::new(light_clients::any::FamilyName::Gba, config),
            None,
        )
        .expect("CometBFT adapter")
    }

    /// Validator `i`'s consensus public key (its `priv_validator_key.json`).
    pub fn validator_key(&self, i: usize) -> light_clients::host::RelayerKey {
        use base64::Engine;
        let path = self.nodes[i].home.join("config/priv_validator_key.json");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("key file"))
            .expect("key json");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v["pub_key"]["value"].as_str().expect("pub_key"))
            .expect("base64");
        light_clients::host::RelayerKey(bytes.try_into().expect("32 bytes"))
    }

    /// A fork of this network: every node and application stopped, their
    /// homes and data copied into `dir`, and both started again, the copy
    /// on ports of its own with peers only among its own nodes (no peer
    /// exchange, no address book). From here on the same validator keys
    /// sign two chains of the same id that share their history.
    pub async fn fork(&mut self, dir: &Path) -> CometNet {
        let before = self.height(0).await;
        for i in 0..self.nodes.len() {
            self.kill_node(i);
        }
        let secret = dir.join("network.secret");
        std::fs::create_dir_all(dir).expect("fork dir");
        std::fs::copy(&self.secret, &secret).expect("secret");
        let mut old_p2p = Vec::new();
        let mut nodes = Vec::new();
        let mut picked = free_ports(3 * self.nodes.len()).into_iter();
        let mut port = move || picked.next().expect("a picked port");
        for (i, node) in self.nodes.iter().enumerate() {
            let home = dir.join(format!("net/node{i}"));
            super::net::copy_dir(&node.home, &home);
            let app_dir = dir.join(format!("app{i}"));
            if node.app_dir.exists() {
                super::net::copy_dir(&node.app_dir, &app_dir);
            }
            let text = std::fs::read_to_string(home.join("config/config.toml")).expect("config");
            let laddr = get_toml(&text, "p2p", "laddr").expect("p2p laddr");
            old_p2p.push(laddr.rsplit(':').next().expect("port").to_string());
            nodes.push(Node {
                home,
                app_dir,
                rpc_port: port(),
                abci_port: port(),
                app: None,
                comet: None,
            });
        }
        let new_p2p: Vec<u16> = nodes.iter().map(|_| port()).collect();
        for (i, node) in nodes.iter().enumerate() {
            let config = node.home.join("config/config.toml");
            let text = std::fs::read_to_string(&config).expect("config");
            let peers = get_toml(&text, "p2p", "persistent_peers")
                .expect("persistent_peers")
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (id, addr) = p.split_once('@').expect("peer");
                    let port = addr.rsplit(':').next().expect("port");
                    let k = old_p2p
                        .iter()
                        .position(|o| o == port)
                        .expect("a node's port");
                    format!("{id}@127.0.0.1:{}", new_p2p[k])
                })
                .collect::<Vec<_>>()
                .join(",");
            let q = |s: String| format!("\"{s}\"");
            let edited = set_toml(
                &text,
                &[
                    (
                        "",
                        "proxy_app",
                        q(format!("tcp://127.0.0.1:{}", node.abci_port)),
                    ),
                    ("", "moniker", q(format!("fork{i}"))),
                    (
                        "rpc",
                        "laddr",
                        q(format!("tcp://127.0.0.1:{}", node.rpc_port)),
                    ),
                    ("p2p", "laddr", q(format!("tcp://127.0.0.1:{}", new_p2p[i]))),
                    ("p2p", "persistent_peers", q(peers)),
                    ("p2p", "pex", "false".into()),
                ],
            );
            std::fs::write(&config, edited).expect("config.toml");
            let _ = std::fs::remove_file(node.home.join("config/addrbook.json"));
        }
        let mut fork = CometNet {
            dir: dir.to_path_buf(),
            chain_id: self.chain_id.clone(),
            secret,
            nodes,
            bin: self.bin.clone(),
        };
        for i in 0..self.nodes.len() {
            self.start_node(i);
            fork.start_node(i);
        }
        for i in 0..self.nodes.len() {
            self.wait_height(i, before + 1).await;
            fork.wait_height(i, before + 1).await;
        }
        fork
    }
}
