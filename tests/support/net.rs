//! Shared by the end-to-end tests: three ledgers, each with its own stop
//! token (so one can be stopped and started again, or forked), connected
//! to each other; a `portrelay start` process over a written config; and
//! waiting until the ledgers show every packet relayed exactly once.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use light_clients::host::RelayerKey;
use light_clients::ChainId;
use portrelay::cmd::devnet::{check_ledgers, start_ledger, DevLedger, DevnetOptions};
use tokio_util::sync::CancellationToken;

pub fn options(dir: &Path) -> DevnetOptions {
    DevnetOptions {
        data_dir: Some(dir.to_path_buf()),
        packets: None,
        block_time: Duration::from_millis(100),
        validators: 4,
        batch_max: 50,
        api_listen: None,
        ledgers_listen: None,
        zk: None,
    }
}

/// Three ledgers with clients of each other and every channel open.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub ledgers: Vec<DevLedger>,
    pub stops: Vec<CancellationToken>,
    pub key_file: PathBuf,
}

pub fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().expect("address")
}

impl Net {
    pub async fn start() -> Net {
        Net::start_with(portrelay::cmd::devnet::trust_options("14d")).await
    }

    /// Three ledgers whose clients of each other use `options`.
    pub async fn start_with(trust: light_clients::TrustOptions) -> Net {
        let net = Net::start_apart().await;
        let key = portrelay::cmd::devnet::relayer_key(net.dir.path()).expect("key");
        portrelay::cmd::devnet::connect_with(
            &net.ledgers,
            &RelayerKey(key.verification_key().to_bytes()),
            trust,
        )
        .await
        .expect("connect");
        net
    }

    /// Three ledgers that know nothing of each other yet (no clients, no
    /// channels), and the relayer's key file.
    pub async fn start_apart() -> Net {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = options(dir.path());
        let mut ledgers = Vec::new();
        let mut stops = Vec::new();
        for (id, family) in portrelay::cmd::devnet::networks() {
            let stop = CancellationToken::new();
            let chain = ChainId::new(id.as_str()).expect("chain id");
            ledgers.push(
                start_ledger(
                    &dir.path().join(&id),
                    chain,
                    family,
                    &opts,
                    loopback(),
                    &stop,
                )
                .await
                .expect("ledger"),
            );
            stops.push(stop);
        }
        portrelay::cmd::devnet::relayer_key(dir.path()).expect("key");
        let key_file = dir.path().join("relayer.key");
        Net {
            dir,
            ledgers,
            stops,
            key_file,
        }
    }

    pub fn index(&self, chain: &str) -> usize {
        self.ledgers
            .iter()
            .position(|l| l.chain_id.as_str() == chain)
            .expect("a devnet chain")
    }

    /// Stops one ledger and waits until it has closed its store; it is
    /// out of `ledgers` until `restart`.
    pub async fn stop_ledger(&mut self, chain: &str) -> Stopped {
        let i = self.index(chain);
        self.stops[i].cancel();
        let l = self.ledgers.remove(i);
        self.stops.remove(i);
        let stopped = Stopped {
            index: i,
            chain_id: l.chain_id.clone(),
            family: l.family,
            dir: l.dir.clone(),
            addr: l.node.addr,
        };
        l.node.wait().await;
        stopped
    }

    /// Starts a stopped ledger again from its data, on the same address.
    pub async fn restart(&mut self, s: Stopped) {
        let stop = CancellationToken::new();
        let opts = options(self.dir.path());
        let l = start_ledger(&s.dir, s.chain_id, s.family, &opts, s.addr, &stop)
            .await
            .expect("ledger restarted");
        self.ledgers.insert(s.index, l);
        self.stops.insert(s.index, stop);
    }

    /// Every channel shows `packets` sent, received and acked, exactly once
    /// and in order (read from the ledgers), within `limit`.
    pub async fn settle(&self, packets: u64, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let l = check_ledgers(&self.ledgers).await.expect("ledgers");
            if l.mismatches.is_empty() && l.acked == packets {
                assert_eq!(
                    (l.sent, l.received),
                    (packets, packets),
                    "exactly once, read from the ledgers"
                );
                return;
            }
            assert!(Instant::now() < deadline, "not settled: {l:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn shutdown(self) {
        for s in &self.stops {
            s.cancel();
        }
        for l in self.ledgers {
            l.node.wait().await;
        }
    }
}

/// A stopped ledger: where to start it again.
#[derive(Debug, Clone)]
pub struct Stopped {
    pub index: usize,
    pub chain_id: ChainId,
    pub family: light_clients::any::FamilyName,
    pub dir: PathBuf,
    pub addr: std::net::SocketAddr,
}

/// Copies a stopped ledger's data directory (to fork it).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A relayer configuration: `chains` as (family, chain id, endpoints).
pub fn write_config(
    dir: &Path,
    key_file: &Path,
    chains: &[(String, String, Vec<String>)],
    api: Option<(std::net::SocketAddr, Option<&Path>)>,
) -> PathBuf {
    write_config_with(dir, key_file, chains, api, "14d")
}

/// [`write_config`] with the relayer's trusting period.
pub fn write_config_with(
    dir: &Path,
    key_file: &Path,
    chains: &[(String, String, Vec<String>)],
    api: Option<(std::net::SocketAddr, Option<&Path>)>,
    trusting_period: &str,
) -> PathBuf {
    let mut config = format!(
        "[relayer]\ndata_dir = \"relayer\"\nbatch_max = 20\nmax_attempts = 5\nbackoff = \"50ms\"\nclear_interval = \"500ms\"\n\n\
         [trust]\ntrusting_period = \"{trusting_period}\"\nclock_drift = \"10s\"\ntrust_threshold = \"1/3\"\n",
    );
    if let Some((listen, token)) = api {
        config.push_str(&format!("\n[api]\nlisten = \"{listen}\"\n"));
        if let Some(t) = token {
            config.push_str(&format!("token_file = \"{}\"\n", t.display()));
        }
    }
    for (family, chain_id, endpoints) in chains {
        let endpoints: Vec<String> = endpoints.iter().map(|e| format!("\"{e}\"")).collect();
        config.push_str(&format!(
            "\n[[chains]]\nfamily = \"{family}\"\nchain_id = \"{chain_id}\"\nendpoints = [{}]\napps = [\"cargo\", \"payment\", \"ebl\"]\nkey_file = \"{}\"\nrpc = {{ preset = \"devnet\" }}\n",
            endpoints.join(", "),
            key_file.display()
        ));
    }
    let path = dir.join("portrelay.toml");
    std::fs::write(&path, config).expect("config");
    path
}

/// A child process killed when dropped, so a failing test leaves none behind.
pub struct Running(Option<Child>);

impl Running {
    pub fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    /// The process, to signal and wait for by hand.
    pub fn child_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("a running process")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `portrelay start --config`, its log in `log`.
pub fn start_relayer(config: &Path, log: &Path) -> Running {
    start_relayer_with(config, log, "warn")
}

/// [`start_relayer`] with a `RUST_LOG` filter.
pub fn start_relayer_with(config: &Path, log: &Path, filter: &str) -> Running {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log");
    Command::new(env!("CARGO_BIN_EXE_portrelay"))
        .args(["start", "--config"])
        .arg(config)
        .env("RUST_LOG", filter)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map(|c| Running(Some(c)))
        .expect("portrelay start")
}

/// SIGTERM, and the exit status.
pub fn terminate(mut running: Running) -> std::process::ExitStatus {
    let mut child = running.0.take().expect("a running process");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().expect("exit")
}

/// A free loopback port (bound, then released).
pub fn free_addr() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// Runs `portrelay ARGS`; returns (exit code, stdout, stderr).
pub fn portrelay(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_portrelay"))
        .args(args)
        .env_remove("PORTRELAY_API")
        .env_remove("PORTRELAY_API_TOKEN_FILE")
        .output()
        .expect("portrelay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `redis-server` of a test's own: a free loopback port, its files in
/// `dir`, append-only persistence (fsync on every write) when asked for.
/// Never the machine's shared Redis.
pub struct RedisServer {
    pub port: u16,
    pub dir: PathBuf,
    pub persistence: bool,
    process: Running,
}

impl RedisServer {
    pub fn start(dir: &Path, persistence: bool) -> RedisServer {
        RedisServer::start_on(dir, free_addr().port(), persistence)
    }

    /// Starts (or starts again) on `port`, with the data of `dir`.
    pub fn start_on(dir: &Path, port: u16, persistence: bool) -> RedisServer {
        std::fs::create_dir_all(dir).expect("redis dir");
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "redis-server not found: install redis-server (apt-get install redis-server); the fleet tests start their own"
        );
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--protected-mode", "no", "--daemonize", "no", "--save", ""])
            .args(["--appendonly", if persistence { "yes" } else { "no" }])
            .args(["--appendfsync", "always"])
            .args(["--maxmemory-policy", "noeviction"])
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server");
        let server = RedisServer {
            port,
            dir: dir.to_path_buf(),
            persistence,
            process: Running(Some(child)),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let pong = redis::Client::open(server.url())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(500)))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            if pong.is_ok() {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {port} did not answer: see {}",
                dir.join("redis.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL; with persistence on, what was acknowledged is on disk.
    pub fn kill(mut self) -> (PathBuf, u16, bool) {
        if let Some(mut c) = self.process.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        (self.dir.clone(), self.port, self.persistence)
    }
}

/// A new relayer key in `path` (64 hex digits).
pub fn new_key(path: &Path, seed: u8) -> ed25519_consensus::SigningKey {
    let mut bytes = [seed; 32];
    bytes[0] = 0x5a;
    let key = ed25519_consensus::SigningKey::from(bytes);
    std::fs::write(path, hex::encode(bytes)).expect("key file");
    key
}

/// Registers another relayer instance's key on every ledger, as their
/// operators do for each member of a fleet.
pub async fn register_relayer(ledgers: &[DevLedger], key: &ed25519_consensus::SigningKey) {
    for l in ledgers {
        let operated = portrelay::cmd::operator::Operated {
            chain_id: l.chain_id.clone(),
            adapter: l.adapter.clone(),
            operator: devnet::ledger::operator_key(&l.dir).expect("operator key"),
            relayer: RelayerKey(key.verification_key().to_bytes()),
            apps: light_clients::App::ALL.to_vec(),
        };
        portrelay::cmd::operator::operator_txs(
            &operated,
            vec![light_clients::host::OperatorMsg::RegisterRelayer {
                key: RelayerKey(key.verification_key().to_bytes()),
            }],
        )
        .await
        .expect("register the relayer key");
    }
}

/// Adds a `[coordinator]` section for a fleet member to a written config.
pub fn fleet_config(config: &Path, redis: &str, instance: &str, lease: &str, keys: Option<&Path>) {
    let mut text = std::fs::read_to_string(config).expect("config");
    text.push_str(&format!(
        "\n[coordinator]\nbackend = \"redis\"\nurl = \"{redis}\"\ninstance = \"{instance}\"\nlease = \"{lease}\"\nnamespace = \"test\"\n"
    ));
    if let Some(k) = keys {
        text.push_str(&format!("registered_keys = \"{}\"\n", k.display()));
    }
    std::fs::write(config, text).expect("config");
}

/// Sends a signal (`-STOP`, `-CONT`, `-KILL`) to a process.
pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

/// GET `url` (plain HTTP on loopback): status code and body.
pub fn http_get(url: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((code, body))
}
