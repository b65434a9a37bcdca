//! Running real `portledger` processes in tests: each on a loopback port
//! picked once (so a restart reuses it), with its own data directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::chain::{AdapterConfig, ChainAdapter, ChainConfig, RpcPolicy};
use light_clients::any::{AnyTrustRoot, FamilyName};
use light_clients::host::{OperatorMsg, RelayerKey, SignedTx, TxBody};
use light_clients::{App, ChainId};

/// A `portledger` process.
pub struct Ledger {
    pub chain_id: ChainId,
    pub family: FamilyName,
    pub dir: PathBuf,
    /// More `portledger` flags, for every (re)start.
    pub args: Vec<String>,
    pub port: u16,
    child: Option<Child>,
    pub adapter: Arc<dyn ChainAdapter>,
}

/// A free loopback port, picked once.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub fn adapter(
    family: FamilyName,
    chain_id: &ChainId,
    endpoints: Vec<String>,
) -> Arc<dyn ChainAdapter> {
    let config = ChainConfig {
        chain_id: chain_id.clone(),
        endpoints,
        apps: App::ALL.to_vec(),
        trust_root: None,
        rpc: RpcPolicy::DEVNET,
        engine: adapters::chain::Engine::Embedded,
    };
    adapters::registry::build(&AdapterConfig::new(family, config), None).expect("adapter")
}

impl Ledger {
    pub async fn start(family: FamilyName, chain_id: &str, dir: &Path) -> Ledger {
        let chain_id = ChainId::new(chain_id).expect("chain id");
        let port = free_port();
        let adapter = adapter(family, &chain_id, vec![format!("http://127.0.0.1:{port}")]);
        let mut l = Ledger {
            chain_id,
            family,
            dir: dir.join(format!("{family}")),
            port,
            args: Vec::new(),
            child: None,
            adapter,
        };
        l.spawn().await;
        l
    }

    /// Starts the process (again) on the same port and data directory and waits for its RPC.
    pub async fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_portledger"))
            .args([
                "--family",
                self.family.as_str(),
                "--chain-id",
                self.chain_id.as_str(),
            ])
            .args([
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--block-time",
                "100ms",
            ])
            .args(&self.args)
            .arg("--data-dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start portledger");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.adapter.status().await.is_err() {
            assert!(
                Instant::now() < deadline,
                "{} did not come up",
                self.chain_id
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, and wait for the process to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn operator(&self) -> ed25519_consensus::SigningKey {
        devnet::ledger::operator_key(&self.dir).expect("operator key")
    }

    /// Signs and submits an operator message; panics if the ledger refuses it.
    pub async fn operator_tx(&self, msg: OperatorMsg) {
        let key = self.operator();
        let signer = RelayerKey(key.verification_key().to_bytes());
        let nonce = self
            .adapter
            .account(&signer)
            .await
            .expect("account")
            .next_nonce;
        let tx = SignedTx::sign(&key, &self.chain_id, nonce, &TxBody::Operator(msg));
        let r = self.adapter.submit(&tx).await.expect("submit");
        assert!(r.height.is_some(), "included: {r:?}");
        assert!(
            matches!(r.results[0], adapters::wire::MsgResult::Ok { .. }),
            "{:?}",
            r.results
        );
    }

    /// This ledger's header at `height` as a trust root for other ledgers' clients.
    /// A client of `destination` (from its latest header) and a cargo
    /// channel to it, by this ledger's operator; returns the channel.
    pub async fn cargo_channel_to(&self, destination: &Ledger) -> light_clients::ChannelId {
        let root = destination.trust_root(destination.height().await).await;
        self.operator_tx(OperatorMsg::CreateClient {
            root,
            options: options(),
        })
        .await;
        let channel = light_clients::ChannelId {
            source: self.chain_id.clone(),
            destination: destination.chain_id.clone(),
            app: light_clients::App::Cargo,
        };
        self.operator_tx(OperatorMsg::OpenChannel {
            channel: channel.clone(),
            version: "cargo-1".into(),
        })
        .await;
        channel
    }

    pub async fn trust_root(&self, height: u64) -> AnyTrustRoot {
        let header = self.adapter.header(height).await.expect("header");
        header.trust_root()
    }

    pub async fn height(&self) -> u64 {
        self.adapter.status().await.expect("status").height
    }

    /// Waits until `f` holds, polling with a generous deadline.
    pub async fn wait_for<F, Fut>(&self, what: &str, mut f: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !f().await {
            assert!(
                Instant::now() < deadline,
                "{}: timed out waiting for {what}",
                self.chain_id
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn options() -> light_clients::TrustOptions {
    light_clients::TrustOptions {
        trusting_period: Duration::from_secs(14 * 24 * 3600),
        clock_drift: Duration::from_secs(10),
        trust_threshold: light_clients::Fraction::ONE_THIRD,
    }
}

/// `GET path` on a ledger, as JSON (for app records and raw routes, which no adapter call reads).
pub async fn get_json(port: u16, path: &str) -> (u16, serde_json::Value) {
    exchange(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// `POST path` with a JSON body (and a bearer token), as JSON.
pub async fn post_json(
    port: u16,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    post_raw(port, path, token, &body.to_string()).await
}

/// `POST path` with any body text.
pub async fn post_raw(
    port: u16,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    exchange(port, &request).await
}

/// One HTTP/1.1 exchange on a fresh connection: the status and the JSON body.
async fn exchange(port: u16, request: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    // The server may answer (413) and close before reading all of a large body.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("http response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}
