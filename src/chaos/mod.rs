//! The chaos run (`portchaos`): the three ledgers as `portledger` processes,
//! a fleet of three `portrelay start` members on a `redis-server`, a
//! workload of every app over every path, and a seeded schedule of faults
//! (members killed one at a time and all at once, paused past their lease,
//! Redis killed, ledgers stopped and killed, a member cut off from a
//! ledger). After each fault it measures how long the fleet takes to
//! deliver everything sent before the fault was healed; at the end it
//! reads every channel and every bill from the ledgers and checks that
//! nothing was lost, duplicated or reordered, that every ack came home,
//! that each bill of lading is live on exactly one ledger, and that no
//! process panicked.

pub mod faults;
mod http;
pub mod procs;
pub mod proxy;
pub mod workload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::chain::{AdapterConfig, ChainAdapter, ChainConfig, RpcPolicy};
use anyhow::{bail, Context};
use light_clients::host::{OperatorMsg, RelayerKey};
use light_clients::{App, ChainId, PacketId};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::cmd::devnet::{check_chains, networks, Ledgers};
use crate::cmd::operator::{operator_txs, setup_with, Operated};
use faults::{Fault, FaultKind};
use procs::{LedgerProc, Proc};
use proxy::Proxy;
use workload::{Progress, Source, WorkloadOptions};

/// What a run does; see `portchaos --help`.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    pub dir: PathBuf,
    pub portrelay: PathBuf,
    pub portledger: PathBuf,
    pub packets: u64,
    pub faults: usize,
    pub seed: u64,
    /// Packets per second the workload offers.
    pub rate: f64,
    pub members: usize,
    pub lease: Duration,
    pub block_time: Duration,
    /// How long the fleet may take to catch up after one fault.
    pub recovery_bound: Duration,
    /// How long the fleet may take to drain after the last fault and the
    /// last packet.
    pub drain_bound: Duration,
}

/// How one fault went.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRecord {
    pub fault: String,
    pub kind: &'static str,
    /// From the heal to every packet sent before it acknowledged; `None`
    /// when the bound passed first.
    pub recovered_ms: Option<u128>,
}

/// What a run saw; `failures` empty means it passed.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub seed: u64,
    pub packets_answered: u64,
    pub submissions_retried: u64,
    pub sent: u64,
    pub received: u64,
    pub acked: u64,
    pub bills: usize,
    pub second_hops: usize,
    pub refused: BTreeMap<String, u64>,
    pub faults: Vec<FaultRecord>,
    /// From the last fault's heal and the last answered packet to a fully
    /// drained fleet.
    pub drain_ms: Option<u128>,
    pub run_secs: f64,
    pub failures: Vec<String>,
}

impl Report {
    /// Recovery times per fault kind: (kind, count, p50 ms, max ms).
    pub fn recovery_by_kind(&self) -> Vec<(&'static str, usize, u128, u128)> {
        let mut by: BTreeMap<&'static str, Vec<u128>> = BTreeMap::new();
        for f in &self.faults {
            by.entry(f.kind)
                .or_default()
                .push(f.recovered_ms.unwrap_or(u128::MAX));
        }
        by.into_iter()
            .map(|(k, mut v)| {
                v.sort_unstable();
                (k, v.len(), v[v.len() / 2], *v.last().unwrap_or(&0))
            })
            .collect()
    }
}

/// Everything the run started.
struct World {
    ledgers: Vec<LedgerProc>,
    adapters: Vec<(ChainId, Arc<dyn ChainAdapter>)>,
    members: Vec<Proc>,
    redis: Proc,
    /// `proxies[member][ledger]`.
    proxies: Vec<Vec<Proxy>>,
}

fn adapter_for(l: &LedgerProc, endpoint: String) -> anyhow::Result<Arc<dyn ChainAdapter>> {
    let config = ChainConfig {
        chain_id: l.chain_id.clone(),
        endpoints: vec![endpoint],
        apps: App::ALL.to_vec(),
        trust_root: None,
        rpc: RpcPolicy::DEVNET,
        engine: adapters::chain::Engine::Embedded,
    };
    adapters::registry::build(&AdapterConfig::new(l.family, config), None)
        .map_err(|e| anyhow::anyhow!("{}: {e}", l.chain_id))
}

/// Waits until `adapter` answers its status (a started or restarted ledger).
async fn wait_up(adapter: &Arc<dyn ChainAdapter>, what: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while adapter.status().await.is_err() {
        if Instant::now() > deadline {
            bail!("{what} did not come up within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn wait_redis(url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pong = async {
            let c = redis::Client::open(url)?;
            let mut con = c.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut con).await
        };
        if tokio::time::timeout(Duration::from_secs(2), pong)
            .await
            .is_ok_and(|r| r.is_ok())
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("redis-server at {url} did not answer within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A member's key, in its own directory.
fn member_key(dir: &Path, i: usize) -> anyhow::Result<(ed25519_consensus::SigningKey, PathBuf)> {
    let home = dir.join(format!("member-{i}"));
    std::fs::create_dir_all(&home)?;
    let key = crate::cmd::devnet::relayer_key(&home)?;
    Ok((key, home.join("relayer.key")))
}

fn member_config(
    opts: &ChaosOptions,
    i: usize,
    key_file: &Path,
    redis_url: &str,
    ledgers: &[LedgerProc],
    proxies: &[Proxy],
) -> anyhow::Result<PathBuf> {
    let home = opts.dir.join(format!("member-{i}"));
    let mut text = format!(
        "[relayer]\ndata_dir = \"{}\"\nbatch_max = 50\nmax_attempts = 5\nbackoff = \"100ms\"\nclear_interval = \"1s\"\n\n\
         [trust]\ntrusting_period = \"14d\"\nclock_drift = \"10s\"\ntrust_threshold = \"1/3\"\n\n\
         [coordinator]\nbackend = \"redis\"\nurl = \"{redis_url}\"\ninstance = \"member-{i}\"\nlease = \"{}\"\nnamespace = \"chaos\"\n",
        home.join("relayer").display(),
        humantime::format_duration(opts.lease),
    );
    for (l, p) in ledgers.iter().zip(proxies) {
        text.push_str(&format!(
            "\n[[chains]]\nfamily = \"{}\"\nchain_id = \"{}\"\nendpoints = [\"http://{}\"]\napps = [\"cargo\", \"payment\", \"ebl\"]\nkey_file = \"{}\"\nrpc = {{ preset = \"devnet\" }}\n",
            l.family,
            l.chain_id,
            p.listen,
            key_file.display()
        ));
    }
    let path = home.join("portrelay.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Starts the ledgers, connects them, registers every member's key and
/// each ledger's eBL platform key with the others, then Redis, the proxies
/// and the members.
async fn build_world(opts: &ChaosOptions, stop: &CancellationToken) -> anyhow::Result<World> {
    std::fs::create_dir_all(&opts.dir)?;
    let mut ledgers = Vec::new();
    for (id, family) in networks() {
        let chain = ChainId::new(id.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut l = LedgerProc::new(&opts.portledger, &opts.dir, chain, family, opts.block_time)?;
        l.proc.spawn()?;
        ledgers.push(l);
    }
    let mut adapters = Vec::new();
    for l in &ledgers {
        let a = adapter_for(l, l.endpoint())?;
        wait_up(&a, l.chain_id.as_str()).await?;
        adapters.push((l.chain_id.clone(), a));
    }
    let mut keys = Vec::new();
    for i in 0..opts.members {
        keys.push(member_key(&opts.dir, i)?);
    }
    let first = RelayerKey(keys[0].0.verification_key().to_bytes());
    let mut operated = Vec::new();
    for (l, (_, a)) in ledgers.iter().zip(&adapters) {
        operated.push(Operated {
            chain_id: l.chain_id.clone(),
            adapter: a.clone(),
            operator: devnet::ledger::operator_key(&l.dir).map_err(|e| anyhow::anyhow!("{e}"))?,
            relayer: first,
            apps: App::ALL.to_vec(),
        });
    }
    setup_with(
        &operated,
        crate::cmd::devnet::trust_options("14d"),
        &Default::default(),
        &[],
    )
    .await
    .context("connect the ledgers")?;
    for o in &operated {
        let msgs = keys[1..]
            .iter()
            .map(|(k, _)| OperatorMsg::RegisterRelayer {
                key: RelayerKey(k.verification_key().to_bytes()),
            })
            .collect();
        operator_txs(o, msgs)
            .await
            .context("register the members' keys")?;
    }
    register_platforms(&ledgers, &adapters).await?;

    let (mut redis, redis_addr) = procs::redis(&opts.dir)?;
    redis.spawn()?;
    let redis_url = format!("redis://{redis_addr}");
    wait_redis(&redis_url).await?;

    let mut proxies = Vec::new();
    let mut members = Vec::new();
    for (i, (_, key_file)) in keys.iter().enumerate() {
        let mut mine = Vec::new();
        for l in &ledgers {
            mine.push(Proxy::start(l.addr, stop.clone()).await?);
        }
        let config = member_config(opts, i, key_file, &redis_url, &ledgers, &mine)?;
        let mut p = Proc::new(
            &format!("member-{i}"),
            &opts.portrelay,
            vec![
                "start".into(),
                "--config".into(),
                config.display().to_string(),
            ],
            opts.dir.join(format!("member-{i}.log")),
        )
        .with_env("RUST_LOG", "warn");
        p.spawn()?;
        members.push(p);
        proxies.push(mine);
    }
    Ok(World {
        ledgers,
        adapters,
        members,
        redis,
        proxies,
    })
}

/// Each ledger learns the others' eBL platform keys (an admin call).
async fn register_platforms(
    ledgers: &[LedgerProc],
    adapters: &[(ChainId, Arc<dyn ChainAdapter>)],
) -> anyhow::Result<()> {
    for l in ledgers {
        let token = std::fs::read_to_string(l.dir.join("admin.token"))
            .with_context(|| format!("{}: admin.token", l.chain_id))?;
        for (other, a) in adapters.iter().filter(|(c, _)| c != &l.chain_id) {
            let key = a
                .status()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ebl_platform;
            let body = serde_json::json!({"chain": other, "key": key});
            http::post_json(
                &l.endpoint(),
                "/v1/admin/ebl-platforms",
                token.trim(),
                &body,
            )
            .await
            .with_context(|| format!("{}: register {other}'s eBL platform key", l.chain_id))?;
        }
    }
    Ok(())
}

/// The ledgers' channels, once they all answer.
async fn read_channels(adapters: &[(ChainId, Arc<dyn ChainAdapter>)]) -> Ledgers {
    loop {
        if let Ok(Ok(l)) =
            tokio::time::timeout(Duration::from_secs(10), check_chains(adapters)).await
        {
            return l;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until every packet sent before now is acknowledged; the time it
/// took, or `None` after `bound`.
async fn caught_up(
    adapters: &[(ChainId, Arc<dyn ChainAdapter>)],
    bound: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    let target = read_channels(adapters).await.sent;
    loop {
        let l = read_channels(adapters).await;
        if l.acked >= target {
            return Some(start.elapsed());
        }
        if start.elapsed() > bound {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

impl World {
    /// Injects `f`, holds it, heals it.
    async fn inject(&mut self, f: &Fault) -> anyhow::Result<()> {
        match f.kind {
            FaultKind::KillMember => {
                self.members[f.target].kill().await?;
                tokio::time::sleep(f.hold).await;
                self.members[f.target].spawn()?;
            }
            FaultKind::KillAllMembers => {
                for m in &mut self.members {
                    m.kill().await?;
                }
                tokio::time::sleep(f.hold).await;
                for m in &mut self.members {
                    m.spawn()?;
                }
            }
            FaultKind::PauseMember => {
                let pid = self.members[f.target]
                    .pid()
                    .context("a paused member is running")?;
                procs::signal(pid, "-STOP").await?;
                tokio::time::sleep(f.hold).await;
                procs::signal(pid, "-CONT").await?;
            }
            FaultKind::KillRedis => {
                self.redis.kill().await?;
                tokio::time::sleep(f.hold).await;
                self.redis.spawn()?;
            }
            FaultKind::StopLedger | FaultKind::KillLedger => {
                let l = &mut self.ledgers[f.target];
                if f.kind == FaultKind::StopLedger {
                    if !l.proc.terminate(Duration::from_secs(30)).await? {
                        bail!("{} did not exit within 30 s of SIGTERM", l.chain_id);
                    }
                } else {
                    l.proc.kill().await?;
                }
                tokio::time::sleep(f.hold).await;
                l.proc.spawn()?;
                wait_up(&self.adapters[f.target].1, l.chain_id.as_str()).await?;
            }
            FaultKind::CutMember => {
                let p = &self.proxies[f.target][f.ledger];
                p.cut();
                tokio::time::sleep(f.hold).await;
                p.heal();
            }
        }
        Ok(())
    }

    /// Processes that died by themselves (not by the harness).
    fn crashed(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for p in self
            .members
            .iter_mut()
            .chain(self.ledgers.iter_mut().map(|l| &mut l.proc))
        {
            if let Some(status) = p.exited() {
                out.push(format!("{} exited by itself: {status}", p.name));
            }
        }
        out
    }

    async fn shutdown(mut self) {
        for m in &mut self.members {
            let _ = m.terminate(Duration::from_secs(20)).await;
        }
        for l in &mut self.ledgers {
            let _ = l.proc.terminate(Duration::from_secs(20)).await;
        }
        let _ = self.redis.kill().await;
    }
}

/// Runs the whole thing; the report says what failed, if anything.
pub async fn run(opts: ChaosOptions) -> anyhow::Result<Report> {
    let started = Instant::now();
    let stop = CancellationToken::new();
    let mut world = build_world(&opts, &stop).await?;
    let progress = Arc::new(Progress::default());
    let sources: Vec<Source> = world
        .ledgers
        .iter()
        .zip(&world.adapters)
        .map(|(l, (_, a))| Source {
            chain_id: l.chain_id.clone(),
            adapter: a.clone(),
            endpoint: l.endpoint(),
        })
        .collect();
    let wopts = WorkloadOptions {
        packets: opts.packets,
        rate: opts.rate,
        seed: opts.seed,
        batch: 64,
        short_timeout_every: 10,
        short_timeout: Duration::from_secs(2),
        second_hop_every: 4,
    };
    let workload = tokio::spawn(workload::run(
        sources.clone(),
        wopts,
        progress.clone(),
        stop.clone(),
    ));
    let mut failures = Vec::new();
    let mut records = Vec::new();
    let schedule = faults::schedule(
        opts.seed,
        opts.faults,
        opts.members,
        world.ledgers.len(),
        opts.lease,
    );
    for (i, f) in schedule.iter().enumerate() {
        // Faults are spread over the workload: fault i once its share of
        // the packets was answered (or the workload ended), then its gap.
        let due = opts.packets * (i as u64 + 1) / (schedule.len() as u64 + 1);
        while progress.packets.load(Ordering::SeqCst) < due && !workload.is_finished() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(f.gap).await;
        tracing::info!(fault = %f, "inject");
        if let Err(e) = world.inject(f).await {
            failures.push(format!("{f}: {e:#}"));
            break;
        }
        let recovered = caught_up(&world.adapters, opts.recovery_bound).await;
        if recovered.is_none() {
            failures.push(format!(
                "{f}: not caught up within {} s of the heal",
                opts.recovery_bound.as_secs()
            ));
        }
        tracing::info!(fault = %f, recovered_ms = ?recovered.map(|d| d.as_millis()), "healed");
        records.push(FaultRecord {
            fault: f.to_string(),
            kind: f.kind.name(),
            recovered_ms: recovered.map(|d| d.as_millis()),
        });
        failures.extend(world.crashed());
    }
    // The workload finishes sending (retrying through whatever is still down).
    let _ = workload.await;
    let drain_start = Instant::now();
    let mut drained = None;
    while drain_start.elapsed() < opts.drain_bound {
        let l = read_channels(&world.adapters).await;
        if l.mismatches.is_empty() && l.sent == l.received && l.sent == l.acked {
            drained = Some(drain_start.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let ledgers = read_channels(&world.adapters).await;
    if drained.is_none() {
        failures.push(format!(
            "not drained within {} s after the last fault and packet: {:?}",
            opts.drain_bound.as_secs(),
            ledgers.mismatches
        ));
    }
    failures.extend(check_answers(&world, &progress).await);
    failures.extend(check_bills(&world, &progress).await);
    failures.extend(world.crashed());
    stop.cancel();
    world.shutdown().await;
    failures.extend(check_logs(&opts.dir));
    let (bills, second_hops) = {
        let b = progress.bills.lock().expect("bills");
        (
            b.len(),
            b.values().filter(|b| b.second_hop.is_some()).count(),
        )
    };
    let refused = progress.refused.lock().expect("refused").clone();
    Ok(Report {
        seed: opts.seed,
        packets_answered: progress.packets.load(Ordering::SeqCst),
        submissions_retried: progress.retries.load(Ordering::SeqCst),
        sent: ledgers.sent,
        received: ledgers.received,
        acked: ledgers.acked,
        bills,
        second_hops,
        refused,
        faults: records,
        drain_ms: drained.map(|d| d.as_millis()),
        run_secs: started.elapsed().as_secs_f64(),
        failures,
    })
}

/// Every answered packet is on its ledger: each source ledger's blocks are
/// read from the first to the last, and each answered packet must be in
/// exactly one of them carrying the event it was answered for (a sequence
/// reused after a crash carries another event; a lost one is in none).
async fn check_answers(world: &World, progress: &Progress) -> Vec<String> {
    let mut failures = Vec::new();
    // (packet) -> payloads of every block event that sent it.
    let mut committed: BTreeMap<PacketId, Vec<Vec<u8>>> = BTreeMap::new();
    for (chain, adapter) in &world.adapters {
        let top = match adapter.status().await {
            Ok(s) => s.height,
            Err(e) => {
                failures.push(format!("{chain}: status for the block scan: {e}"));
                continue;
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        let mut next = 1;
        let mut blocks = Vec::new();
        while next <= top || !tasks.is_empty() {
            while next <= top && tasks.len() < 8 {
                let (a, h) = (adapter.clone(), next);
                tasks.spawn(async move { (h, a.block_events(h).await) });
                next += 1;
            }
            match tasks.join_next().await {
                Some(Ok((_, Ok(b)))) => blocks.push(b),
                Some(Ok((h, Err(e)))) => failures.push(format!("{chain}: block {h}: {e}")),
                Some(Err(e)) => failures.push(format!("{chain}: block scan: {e}")),
                None => break,
            }
        }
        for b in blocks {
            for e in b.events {
                if let light_clients::host::BlockEvent::Packet { packet } = e.event {
                    if &packet.id.channel.source == chain {
                        committed.entry(packet.id).or_default().push(packet.payload);
                    }
                }
            }
        }
    }
    let answered = progress.answered.lock().expect("answered").clone();
    for a in &answered {
        let what = format!("{} #{}", a.packet.channel, a.packet.sequence);
        match committed.get(&a.packet).map(Vec::as_slice) {
            None | Some([]) => failures.push(format!(
                "{what}, answered for event {}, is in no block: lost",
                a.event_id
            )),
            Some([payload]) => {
                if !String::from_utf8_lossy(payload).contains(&a.event_id) {
                    failures.push(format!(
                        "{what} carries another event than {}, which it was answered for",
                        a.event_id
                    ));
                }
            }
            Some(more) => failures.push(format!("{what} is in {} blocks", more.len())),
        }
    }
    failures
}

/// Every bill the workload issued is live on exactly one ledger.
async fn check_bills(world: &World, progress: &Progress) -> Vec<String> {
    let bills: Vec<String> = progress
        .bills
        .lock()
        .expect("bills")
        .keys()
        .cloned()
        .collect();
    let mut failures = Vec::new();
    for reference in bills {
        let mut live = Vec::new();
        let mut known = 0;
        for l in &world.ledgers {
            match workload::title_state(&l.endpoint(), &reference).await {
                Ok(Some(s)) => {
                    known += 1;
                    if s == "live" {
                        live.push(l.chain_id.to_string());
                    }
                }
                Ok(None) => {}
                Err(e) => failures.push(format!("bill {reference} on {}: {e:#}", l.chain_id)),
            }
        }
        // A bill whose ISSUE the run never got answered is on no ledger.
        if known > 0 && live.len() != 1 {
            failures.push(format!("bill {reference} is live on {live:?}"));
        }
    }
    failures
}

/// No process log shows a panic.
fn check_logs(dir: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![format!("{}: unreadable", dir.display())];
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "log") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.contains("panicked")) {
                failures.push(format!("{}: {line}", path.display()));
            }
        }
    }
    failures
}

/// The report as text: the totals, recovery per fault kind, the failures.
pub fn render(r: &Report, dir: &Path) -> String {
    let mut out = format!(
        "chaos run, seed {}: {} packets answered ({} submissions retried), {} bills ({} sent on a second hop), run {:.0} s\n\
         ledgers: sent {}, received {}, acked {}\n",
        r.seed,
        r.packets_answered,
        r.submissions_retried,
        r.bills,
        r.second_hops,
        r.run_secs,
        r.sent,
        r.received,
        r.acked,
    );
    out.push_str(&format!("faults: {}\n", r.faults.len()));
    for (kind, n, p50, max) in r.recovery_by_kind() {
        let ms = |v: u128| {
            if v == u128::MAX {
                "unrecovered".to_string()
            } else {
                format!("{v} ms")
            }
        };
        out.push_str(&format!(
            "  {kind:<17} {n:>3}  recovered p50 {:>12}  max {:>12}\n",
            ms(p50),
            ms(max)
        ));
    }
    match r.drain_ms {
        Some(ms) => out.push_str(&format!(
            "drained {ms} ms after the last fault and packet\n"
        )),
        None => out.push_str("not drained\n"),
    }
    if !r.refused.is_empty() {
        out.push_str(&format!("refused by the ledgers: {:?}\n", r.refused));
    }
    if r.failures.is_empty() {
        out.push_str("PASS: nothing lost, duplicated or reordered; every ack home; every bill live on exactly one ledger; no panic\n");
    } else {
        out.push_str(&format!("FAIL ({} checks):\n", r.failures.len()));
        for f in &r.failures {
            out.push_str(&format!("  {f}\n"));
        }
    }
    out.push_str(&format!("run directory: {}\n", dir.display()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_any_process_log_fails_the_run_by_its_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("member-0.log"), "INFO fine\n").expect("log");
        assert!(check_logs(dir.path()).is_empty());
        std::fs::write(
            dir.path().join("cosco-1.log"),
            "thread 'tokio-runtime-worker' panicked at src/x.rs:1:1\n",
        )
        .expect("log");
        let failures = check_logs(dir.path());
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].contains("cosco-1.log") && failures[0].contains("panicked"));
    }
}
