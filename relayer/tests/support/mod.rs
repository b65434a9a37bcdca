//! Shared by the end-to-end tests: three ledgers, each with its own stop
//! token (so one can be stopped and started again, or forked), connected
//! to each other; a `portrelay start` process over a written config; and
//! waiting until the ledgers show every packet relayed exactly once.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use light_clients::host::RelayerKey;
use light_clients::ChainId;
use relayer::devnet::{check_ledgers, start_ledger, DevLedger, DevnetOptions, NETWORKS};
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
        Net::start_with(relayer::devnet::trust_options("14d")).await
    }

    /// Three ledgers whose clients of each other use `options`.
    pub async fn start_with(trust: light_clients::TrustOptions) -> Net {
        let net = Net::start_apart().await;
        let key = relayer::devnet::relayer_key(net.dir.path()).expect("key");
        relayer::devnet::connect_with(
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
        for (id, family) in NETWORKS {
            let stop = CancellationToken::new();
            let chain = ChainId::new(id).expect("chain id");
            ledgers.push(
                start_ledger(
                    &dir.path().join(id),
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
        relayer::devnet::relayer_key(dir.path()).expect("key");
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
            "\n[[chains]]\nfamily = \"{family}\"\nchain_id = \"{chain_id}\"\nendpoints = [{}]\napps = [\"cargo\", \"payment\", \"ebl\"]\nkey_file = \"{}\"\n",
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
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log");
    Command::new(env!("CARGO_BIN_EXE_portrelay"))
        .args(["start", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
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
