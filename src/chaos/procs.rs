//! The processes a chaos run drives: `portledger` nodes, `portrelay start`
//! fleet members and a `redis-server`, each on a loopback address fixed
//! for the whole run (so a restart comes back where its peers expect it),
//! each logging to a file of its own that restarts append to.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use light_clients::any::FamilyName;
use light_clients::ChainId;
use tokio::process::{Child, Command};

/// A free loopback address (bound, then released).
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("bind a free port")?;
    Ok(l.local_addr()?)
}

fn log_file(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("open {}", path.display()))
}

/// Sends `signal` (`-STOP`, `-CONT`, `-TERM`, `-KILL`) to `pid`.
pub async fn signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let ok = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .await
        .is_ok_and(|s| s.success());
    if !ok {
        bail!("kill {signal} {pid} failed");
    }
    Ok(())
}

/// A process the harness started, and how to start it again.
#[derive(Debug)]
pub struct Proc {
    pub name: String,
    pub log: PathBuf,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Proc {
    pub fn new(name: &str, program: &Path, args: Vec<String>, log: PathBuf) -> Proc {
        Proc {
            name: name.to_string(),
            log,
            program: program.to_path_buf(),
            args,
            env: Vec::new(),
            child: None,
        }
    }

    pub fn with_env(mut self, key: &str, value: &str) -> Proc {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn spawn(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            bail!("{} is already running", self.name);
        }
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(log_file(&self.log)?)
            .stderr(log_file(&self.log)?)
            .kill_on_drop(true);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("start {} ({})", self.name, self.program.display()))?;
        self.child = Some(child);
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// SIGKILL, and wait for it.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()
                .await
                .with_context(|| format!("kill {}", self.name))?;
        }
        Ok(())
    }

    /// SIGTERM, then wait up to `grace` for the exit; SIGKILL after that.
    /// Returns whether it exited by itself within `grace`.
    pub async fn terminate(&mut self, grace: Duration) -> anyhow::Result<bool> {
        let Some(mut c) = self.child.take() else {
            return Ok(true);
        };
        if let Some(pid) = c.id() {
            signal(pid, "-TERM").await?;
        }
        match tokio::time::timeout(grace, c.wait()).await {
            Ok(_) => Ok(true),
            Err(_) => {
                c.kill()
                    .await
                    .with_context(|| format!("kill {}", self.name))?;
                Ok(false)
            }
        }
    }

    /// Whether it exited on its own (a crash), with the status.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }
}

/// A `portledger` node of the run.
#[derive(Debug)]
pub struct LedgerProc {
    pub chain_id: ChainId,
    pub family: FamilyName,
    pub addr: SocketAddr,
    pub dir: PathBuf,
    pub proc: Proc,
}

impl LedgerProc {
    pub fn new(
        portledger: &Path,
        root: &Path,
        chain_id: ChainId,
        family: FamilyName,
        block_time: Duration,
    ) -> anyhow::Result<LedgerProc> {
        let addr = free_addr()?;
        let dir = root.join(chain_id.as_str());
        std::fs::create_dir_all(&dir)?;
        let args = vec![
            "--family".to_string(),
            family.as_str().to_string(),
            "--chain-id".into(),
            chain_id.as_str().into(),
            "--listen".into(),
            addr.to_string(),
            "--block-time".into(),
            humantime::format_duration(block_time).to_string(),
            "--data-dir".into(),
            dir.display().to_string(),
        ];
        let log = root.join(format!("{}.log", chain_id.as_str()));
        let proc = Proc::new(chain_id.as_str(), portledger, args, log).with_env("RUST_LOG", "warn");
        Ok(LedgerProc {
            chain_id,
            family,
            addr,
            dir,
            proc,
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Checks that `redis-server` is installed, naming the package when not.
pub fn require_redis() -> anyhow::Result<()> {
    let found = std::process::Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        bail!("redis-server not found: install Debian's redis-server package (apt-get install redis-server)");
    }
    Ok(())
}

/// The run's `redis-server`: append-only, fsync on every write, so a
/// SIGKILL loses nothing Redis acknowledged.
pub fn redis(root: &Path) -> anyhow::Result<(Proc, SocketAddr)> {
    require_redis()?;
    let addr = free_addr()?;
    let dir = root.join("redis");
    std::fs::create_dir_all(&dir)?;
    let args = vec![
        "--port".to_string(),
        addr.port().to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--protected-mode".into(),
        "no".into(),
        "--save".into(),
        String::new(),
        "--appendonly".into(),
        "yes".into(),
        "--appendfsync".into(),
        "always".into(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    let proc = Proc::new(
        "redis",
        Path::new("redis-server"),
        args,
        root.join("redis.log"),
    );
    Ok((proc, addr))
}
