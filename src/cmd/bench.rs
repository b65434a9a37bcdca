//! `portrelay bench`: the end-to-end benchmark. Three ledgers in this
//! process, the relay engine beside them, and a feeder that submits port
//! events (batched per source) at a steady rate over all six paths and
//! three apps; throughput counts packets from source commit to destination
//! receipt, acks included (a run ends when every packet is acknowledged).
//! Then, with `--pending N`, the relayer's memory: N packets are sent while
//! no relayer runs, and a `portrelay start` process drains them while its
//! resident memory is sampled.

use crate::cmd::err;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::chain::ChainAdapter;
use adapters::wire::{SubmitEvent, SubmittedItem, MAX_EVENT_BATCH, WIRE_VERSION};
use light_clients::host::RelayerKey;
use light_clients::{App, ChainId};
use tokio_util::sync::CancellationToken;

use crate::cmd::devnet::{
    check_ledgers, connect, relayer_key, start_ledgers, templates, workload_event, DevLedger,
    DevnetOptions,
};
use relayer::relay::engine::all_channels;

/// How to run the benchmark.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub packets: u64,
    /// Packets per second offered, over all paths.
    pub rate: u64,
    pub block_time: Duration,
    pub validators: usize,
    pub batch_max: usize,
    /// Packets left pending for the memory measurement (0: skip it).
    pub pending: u64,
    pub data_dir: Option<PathBuf>,
}

/// A bench run's data directory (`--data-dir`, or a new one in the temporary
/// directory named after `kind`), created, and the options of its ledgers.
pub(crate) fn workspace(
    opts: &BenchOptions,
    kind: &str,
) -> anyhow::Result<(PathBuf, DevnetOptions)> {
    let dir = match &opts.data_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!(
            "portrelay-{kind}-{}-{}",
            std::process::id(),
            relayer::relay::engine::now().unix_nanos()
        )),
    };
    std::fs::create_dir_all(&dir).map_err(err("data dir"))?;
    let devnet = DevnetOptions {
        data_dir: Some(dir.clone()),
        packets: None,
        block_time: opts.block_time,
        validators: opts.validators,
        batch_max: opts.batch_max,
        api_listen: None,
        ledgers_listen: None,
        zk: None,
    };
    Ok((dir, devnet))
}

/// The events of packets `first..first + count`, grouped by source ledger,
/// each with the local event that must precede it (eBL issue).
fn events(
    chains: &[ChainId],
    seed: u64,
    first: u64,
    count: u64,
) -> anyhow::Result<BTreeMap<ChainId, Vec<SubmitEvent>>> {
    let t = templates()?;
    let channels = all_channels(chains, &App::ALL);
    let mut out: BTreeMap<ChainId, Vec<SubmitEvent>> = BTreeMap::new();
    for n in first..first + count {
        let channel = &channels[(n as usize) % channels.len()];
        let (before, event) = workload_event(&t, seed, n, channel.app);
        let list = out.entry(channel.source.clone()).or_default();
        if let Some(issue) = before {
            list.push(SubmitEvent {
                version: WIRE_VERSION,
                destination: channel.source.clone(),
                event: issue,
                timeout_secs: None,
            });
        }
        list.push(SubmitEvent {
            version: WIRE_VERSION,
            destination: channel.destination.clone(),
            event,
            timeout_secs: Some(3600),
        });
    }
    Ok(out)
}

/// Submits events in batches; returns how many became packets. A refused
/// event is an error: the benchmark's workload is valid by construction.
async fn submit(ledger: &Source, events: &[SubmitEvent]) -> anyhow::Result<u64> {
    let mut packets = 0;
    for chunk in events.chunks(MAX_EVENT_BATCH) {
        let answer = ledger.1.submit_events(chunk).await.map_err(err("events"))?;
        for item in answer.results {
            match item {
                SubmittedItem::Submitted(s) => packets += u64::from(s.packet.is_some()),
                SubmittedItem::Refused(r) => {
                    return Err(anyhow::anyhow!(
                        "{}: event {} refused: {} {}",
                        ledger.0,
                        r.index,
                        r.code,
                        r.message
                    ))
                }
            }
        }
    }
    Ok(packets)
}

/// Splits a source's events into batches of about `size`, never between an
/// eBL issue (an event for the source itself) and the transfer after it:
/// batches in flight together may execute in any order, the events of one
/// batch execute in order.
fn chunks_keeping_issues(
    events: &[SubmitEvent],
    source: &ChainId,
    size: usize,
) -> Vec<Vec<SubmitEvent>> {
    let mut out = Vec::new();
    let mut current = Vec::with_capacity(size);
    for e in events {
        let local = &e.destination == source;
        current.push(e.clone());
        if current.len() >= size.max(1) && !local {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A source ledger for the feeder.
pub(crate) type Source = (ChainId, Arc<dyn ChainAdapter>);

/// Feeds `count` packets at `rate` per second over all paths: each source
/// ledger gets its own share on its own 50 ms schedule, so a slow ledger
/// does not hold the others back.
pub(crate) async fn feed(
    ledgers: &[Source],
    seed: u64,
    first: u64,
    count: u64,
    rate: u64,
) -> anyhow::Result<()> {
    let chains: Vec<ChainId> = ledgers.iter().map(|l| l.0.clone()).collect();
    let by_source = events(&chains, seed, first, count)?;
    let tick = Duration::from_millis(50);
    let mut tasks = tokio::task::JoinSet::new();
    for (chain, list) in by_source {
        let Some(source) = ledgers.iter().find(|l| l.0 == chain).cloned() else {
            continue;
        };
        // This source's share of the rate, in events (an eBL packet brings its issue).
        let share = (rate as f64 * list.len() as f64 / count.max(1) as f64 / 1000.0
            * tick.as_millis() as f64)
            .ceil()
            .max(1.0) as usize;
        tasks.spawn(async move {
            let started = tokio::time::Instant::now();
            // A ledger answers a batch once its block is sealed, so each
            // tick's batch goes on its own task: the feeder keeps its rate
            // instead of waiting a block time per tick.
            let mut in_flight = tokio::task::JoinSet::new();
            for (n, chunk) in chunks_keeping_issues(&list, &source.0, share)
                .into_iter()
                .enumerate()
            {
                let source = source.clone();
                in_flight.spawn(async move { submit(&source, &chunk).await });
                tokio::time::sleep_until(started + tick * (n as u32 + 1)).await;
            }
            while let Some(r) = in_flight.join_next().await {
                r.map_err(err("feeder batch"))??;
            }
            Ok::<(), anyhow::Error>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(err("feeder"))??;
    }
    Ok(())
}

/// A sustained run: the feeder at the offered rate, the relay's
/// deliveries sampled every 100 ms until every packet is acknowledged.
pub(crate) struct Sustained {
    /// Deliveries so far, over time since the first event.
    pub marks: Vec<(Duration, u64)>,
    /// How long the feeder took to offer every packet.
    pub fed: Duration,
    /// First event to last acknowledgement.
    pub elapsed: Duration,
}

impl Sustained {
    /// Feeds `packets` at `rate` per second into `sources` and waits for
    /// `metrics` to count them acknowledged; a feeder that fails ends the
    /// run with its error.
    pub(crate) async fn run(
        sources: &[Source],
        metrics: &relayer::metrics::Metrics,
        (packets, rate): (u64, u64),
        seed: u64,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Sustained> {
        let started = Instant::now();
        let mut feeder = {
            let sources = sources.to_vec();
            Some(tokio::spawn(async move {
                let t = Instant::now();
                feed(&sources, seed, 0, packets, rate).await?;
                Ok::<Duration, anyhow::Error>(t.elapsed())
            }))
        };
        let mut fed = None;
        let mut marks = Vec::new();
        let mut last_print = Instant::now();
        loop {
            let (delivered, acked) = metrics.counts();
            marks.push((started.elapsed(), delivered));
            if acked >= packets {
                break;
            }
            if shutdown.is_cancelled() {
                return Err(anyhow::anyhow!("interrupted"));
            }
            if let Some(f) = feeder.take_if(|f| f.is_finished()) {
                fed = Some(f.await.map_err(err("feeder"))??);
            }
            if last_print.elapsed() >= Duration::from_secs(2) {
                println!(
                    "  delivered {delivered:>7}  acked {acked:>7}  ({:.0?})",
                    started.elapsed()
                );
                last_print = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let elapsed = started.elapsed();
        if let Some(f) = feeder {
            fed = Some(f.await.map_err(err("feeder"))??);
        }
        Ok(Sustained {
            marks,
            fed: fed.unwrap_or_default(),
            elapsed,
        })
    }

    /// Deliveries per second between 10% and 90% of `packets` delivered.
    pub(crate) fn steady(&self, packets: u64) -> Option<f64> {
        let at = |fraction: f64| {
            let target = (packets as f64 * fraction) as u64;
            self.marks.iter().find(|(_, d)| *d >= target).copied()
        };
        let ((t10, d10), (t90, d90)) = (at(0.1)?, at(0.9)?);
        Some((d90 - d10) as f64 / (t90 - t10).as_secs_f64().max(f64::EPSILON))
    }
}

/// Declarations of the customs phase (each fifth matches, the others warn).
const CUSTOMS_DECLARATIONS: u64 = 40;

/// Runs the benchmark and prints its report.
pub async fn run(opts: BenchOptions, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (dir, devnet) = workspace(&opts, "bench")?;
    let nodes_stop = CancellationToken::new();
    let ledgers = start_ledgers(&dir, &devnet, &nodes_stop).await?;
    let key = relayer_key(&dir)?;
    let roots = connect(&ledgers, &RelayerKey(key.verification_key().to_bytes())).await?;
    println!(
        "bench: {} packets at {}/s offered, blocks every {:?}, {} validators, batches of up to {}; data in {}",
        opts.packets,
        opts.rate,
        opts.block_time,
        opts.validators,
        opts.batch_max,
        dir.display()
    );

    // Sustained: the engine in this process, the feeder at the offered rate.
    let engine = crate::cmd::devnet::in_process_engine(
        &dir,
        &ledgers,
        &key,
        &roots,
        opts.batch_max,
        Duration::from_secs(30),
    )?;
    let engine_stop = CancellationToken::new();
    let engine_task = tokio::spawn(engine.clone().run(engine_stop.clone()));
    let seed = relayer::relay::engine::now().unix_nanos();
    let cpu_before = cpu_seconds();
    let sources: Vec<Source> = ledgers
        .iter()
        .map(|l| (l.chain_id.clone(), l.adapter.clone()))
        .collect();
    let run = Sustained::run(
        &sources,
        &engine.metrics,
        (opts.packets, opts.rate),
        seed,
        &shutdown,
    )
    .await?;
    let (elapsed, fed) = (run.elapsed, run.fed);
    let cpu = cpu_seconds().zip(cpu_before).map(|(a, b)| a - b);
    // Customs: arrival commit to warning on Shekou's SSE stream (devnet_customs).
    let acked_before = engine.metrics.counts().1;
    crate::cmd::devnet_customs::bench(
        &ledgers,
        CUSTOMS_DECLARATIONS,
        seed,
        || engine.metrics.counts().1,
        acked_before,
    )
    .await?;
    engine_stop.cancel();
    let _ = engine_task.await;
    let checked = check_ledgers(&ledgers).await?;
    let summary = engine.metrics.summary();
    println!("\nsustained run");
    println!(
        "  fed {} packets in {:.1} s: {:.0} packets/s offered",
        opts.packets,
        fed.as_secs_f64(),
        opts.packets as f64 / fed.as_secs_f64().max(f64::EPSILON)
    );
    if let Some(steady) = run.steady(opts.packets) {
        println!("  steady state (10% to 90% delivered): {steady:.0} packets/s");
    }
    println!(
        "  whole run, first event to last ack: {} packets in {:.1} s: {:.0} packets/s",
        opts.packets,
        elapsed.as_secs_f64(),
        opts.packets as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    );
    if let Some(cpu) = cpu {
        println!(
            "  CPU of this process (ledgers, relayer, feeder): {cpu:.1} s in {:.1} s: {:.2} cores busy on average",
            elapsed.as_secs_f64(),
            cpu / elapsed.as_secs_f64().max(f64::EPSILON)
        );
    }
    if let Some((p50, p95, p99)) = summary.latency_ms {
        let block = opts.block_time.as_secs_f64() * 1000.0;
        println!(
            "  latency, source commit to destination receipt confirmed: p50 {p50:.0} ms, p95 {p95:.0} ms, p99 {p99:.0} ms ({:.2} block intervals at p99)",
            p99 / block
        );
        for (source, (p50, p95, p99)) in &summary.latency_by_source {
            println!(
                "    from {source:<9} p50 {p50:.0} ms, p95 {p95:.0} ms, p99 {p99:.0} ms ({:.2} block intervals at p99)",
                p99 / block
            );
        }
    }
    crate::cmd::devnet::print_summary(&summary, elapsed);
    if checked.mismatches.is_empty() {
        println!(
            "ledgers: {} sent, {} received, {} acked: exactly once, in order",
            checked.sent, checked.received, checked.acked
        );
    } else {
        for m in &checked.mismatches {
            println!("ledgers: {m}");
        }
        return Err(anyhow::anyhow!("the ledgers do not match"));
    }

    if opts.pending > 0 {
        pending(&opts, &dir, &ledgers, seed, &key).await?;
    }
    nodes_stop.cancel();
    for l in ledgers {
        l.node.wait().await;
    }
    Ok(())
}

/// Sends packets `first..first + count` over every path and app (no relayer
/// need run); returns once the ledgers took them.
pub(crate) async fn send_backlog(
    ledgers: &[DevLedger],
    seed: u64,
    first: u64,
    count: u64,
) -> anyhow::Result<()> {
    let chains: Vec<ChainId> = ledgers.iter().map(|l| l.chain_id.clone()).collect();
    // Each source on its own task: an answer waits for its block's seal, so
    // the sources' batches are sealed side by side rather than one by one.
    let mut tasks = tokio::task::JoinSet::new();
    for (chain, list) in events(&chains, seed, first, count)? {
        if let Some(l) = ledgers.iter().find(|l| l.chain_id == chain) {
            let source = (l.chain_id.clone(), l.adapter.clone());
            tasks.spawn(async move { submit(&source, &list).await });
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(err("backlog"))??;
    }
    Ok(())
}

/// Sends `opts.pending` packets with no relayer running, then starts one
/// (`portrelay start`, this executable) and samples its memory while it
/// takes them all in and drains them.
async fn pending(
    opts: &BenchOptions,
    dir: &Path,
    ledgers: &[DevLedger],
    seed: u64,
    _key: &ed25519_consensus::SigningKey,
) -> anyhow::Result<()> {
    let first = opts.packets;
    println!(
        "\npending: sending {} packets with no relayer running",
        opts.pending
    );
    let chains: Vec<ChainId> = ledgers.iter().map(|l| l.chain_id.clone()).collect();
    let by_source = events(&chains, seed, first, opts.pending)?;
    for (chain, list) in by_source {
        if let Some(l) = ledgers.iter().find(|l| l.chain_id == chain) {
            submit(&(l.chain_id.clone(), l.adapter.clone()), &list).await?;
        }
    }
    let total = opts.packets + opts.pending;
    let mut config = format!(
        "[relayer]\ndata_dir = \"{}\"\nbatch_max = {}\nmax_attempts = 5\nbackoff = \"100ms\"\nclear_interval = \"30s\"\n\n\
         [trust]\ntrusting_period = \"14d\"\nclock_drift = \"10s\"\ntrust_threshold = \"1/3\"\n",
        dir.join("relayer").display(),
        opts.batch_max
    );
    for l in ledgers {
        config.push_str(&format!(
            "\n[[chains]]\nfamily = \"{}\"\nchain_id = \"{}\"\nendpoints = [\"http://{}\"]\napps = [\"cargo\", \"payment\", \"ebl\"]\nkey_file = \"{}\"\nrpc = {{ preset = \"devnet\" }}\n",
            l.family,
            l.chain_id,
            l.node.addr,
            dir.join("relayer.key").display()
        ));
    }
    let config_path = dir.join("bench-relayer.toml");
    std::fs::write(&config_path, config).map_err(err("config"))?;
    let exe = std::env::current_exe().map_err(err("portrelay executable"))?;
    let started = Instant::now();
    let mut child = std::process::Command::new(exe)
        .args(["start", "--config"])
        .arg(&config_path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(err("portrelay start"))?;
    let pid = child.id();
    let mut peak_rss = 0u64;
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        peak_rss = peak_rss.max(rss_kib(pid).unwrap_or(0));
        let l = check_ledgers(ledgers).await?;
        if l.acked >= total && l.mismatches.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(anyhow::anyhow!(
                "pending packets not drained in 30 minutes: {l:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drained = started.elapsed();
    let hwm = hwm_kib(pid).unwrap_or(peak_rss);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    println!(
        "  relayer process: peak RSS {:.1} MiB (VmHWM) with {} packets pending at its start; drained in {:.1} s ({:.0} packets/s, acks included)",
        hwm as f64 / 1024.0,
        opts.pending,
        drained.as_secs_f64(),
        opts.pending as f64 / drained.as_secs_f64().max(f64::EPSILON)
    );
    Ok(())
}

fn status_field(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn rss_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmRSS:")
}

fn hwm_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmHWM:")
}

/// User and system CPU time of this process so far, in seconds.
pub(crate) fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Clock ticks; 100 per second on Linux.
    Some((utime + stime) / 100.0)
}

// The `portrelay bench` command line.

/// `portrelay bench`'s options.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Packets in the sustained run.
    #[arg(long, default_value_t = 30_000)]
    pub packets: u64,
    /// Packets per second offered, over all paths.
    #[arg(long, default_value_t = 6_000)]
    pub rate: u64,
    #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration)]
    pub block_time: std::time::Duration,
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    #[arg(long, default_value_t = 1_000)]
    pub batch_max: usize,
    /// Packets sent with no relayer running, then drained by a `portrelay start`
    /// process whose peak memory is reported (0: skip).
    #[arg(long, default_value_t = 100_000)]
    pub pending: u64,
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Instead: the cost of a fleet. A backlog of `--packets` packets per
    /// round drained by one relayer on the embedded coordinator, one on
    /// Redis, three on Redis (`portrelay start` processes and a
    /// `redis-server` of its own; docs/benchmarks.md).
    #[arg(long)]
    pub fleet: bool,
    /// What runs gba-1: `embedded` (the default run above), `cometbft`
    /// (four CometBFT validators; needs cometbft v0.38: scripts/cometbft),
    /// or `both`, one after the other in this run, with where the time goes
    /// on CometBFT (block intervals, ABCI calls, the relayer's RPC). With
    /// cometbft or both, only the sustained run (no customs, no --pending).
    #[arg(long, value_enum, default_value_t = BenchGba::Embedded)]
    pub gba_engine: BenchGba,
}

/// `portrelay bench --gba-engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchGba {
    Embedded,
    Cometbft,
    Both,
}

pub fn run_command(args: BenchArgs) -> std::process::ExitCode {
    let opts = BenchOptions {
        packets: args.packets,
        rate: args.rate,
        block_time: args.block_time,
        validators: args.validators,
        batch_max: args.batch_max,
        pending: args.pending,
        data_dir: args.data_dir,
    };
    if args.gba_engine != BenchGba::Embedded {
        use crate::cmd::devnet::GbaEngine;
        let engines = match args.gba_engine {
            BenchGba::Cometbft => vec![GbaEngine::Cometbft],
            _ => vec![GbaEngine::Embedded, GbaEngine::Cometbft],
        };
        return super::run_async(|shutdown| async move {
            crate::cmd::bench_comet::run(opts, &engines, shutdown).await
        });
    }
    if args.fleet {
        return super::run_async(|shutdown| async move {
            crate::cmd::bench_fleet::run(opts, shutdown).await
        });
    }
    super::run_async(|shutdown| async move { run(opts, shutdown).await })
}
