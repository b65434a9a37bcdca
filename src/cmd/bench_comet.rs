//! `portrelay bench --gba-engine cometbft|both`: the sustained run of
//! `portrelay bench` with gba-1 on CometBFT validators (`comet_net`;
//! `--validators`, 4 by default), and with `both` first with the in-process gba ledger, in
//! the same run and with the same workload, each phase on ledgers of its
//! own. Throughput and latency for each, and for CometBFT where the time
//! goes:
//!
//! - consensus: the block intervals of the run, from CometBFT's headers
//!   (`/header?height=h`, their `time`), and the mean time of each
//!   consensus step (CometBFT's `cometbft_consensus_step_duration_seconds`);
//! - ABCI: CometBFT's timing of each call to the application
//!   (`cometbft_abci_connection_method_timing_seconds`: `finalize_block`,
//!   `commit`, `check_tx`, `query`), at every validator;
//! - RPC: the relayer's requests to gba-1 by method
//!   (`portrelay_rpc_request_seconds`).

use crate::cmd::err;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use light_clients::host::RelayerKey;
use light_clients::Timestamp;
use tokio_util::sync::CancellationToken;

use crate::cmd::bench::{cpu_seconds, workspace, BenchOptions, Source, Sustained};
use crate::cmd::comet_net::{histogram_by, CometNetwork};
use crate::cmd::devnet::{
    chains_of, check_chains, connect_chains, engine_over, relayer_key, start_comet_gba,
    start_ledgers_but, trust, DevnetOptions, GbaEngine,
};

/// What one phase measured.
#[derive(Debug, Clone)]
struct Phase {
    engine: GbaEngine,
    steady: Option<f64>,
    whole: f64,
    latency: Option<(f64, f64, f64)>,
    from_gba: Option<(f64, f64, f64)>,
    block_interval_ms: Option<(f64, f64, f64)>,
}

/// Runs one phase per engine, then the comparison.
pub async fn run(
    opts: BenchOptions,
    engines: &[GbaEngine],
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (dir, devnet) = workspace(&opts, "bench-gba")?;
    println!(
        "bench: {} packets at {}/s offered per phase, blocks every {:?} (CometBFT: timeout_commit), {} validators, batches of up to {}; data in {}",
        opts.packets,
        opts.rate,
        opts.block_time,
        opts.validators,
        opts.batch_max,
        dir.display()
    );
    let mut phases = Vec::new();
    for engine in engines {
        let name = match engine {
            GbaEngine::Embedded => "embedded",
            GbaEngine::Cometbft => "cometbft",
        };
        let phase_dir = dir.join(name);
        std::fs::create_dir_all(&phase_dir).map_err(err("phase dir"))?;
        println!("\n== gba-1 {name}");
        phases.push(phase(&opts, &devnet, &phase_dir, *engine, &shutdown).await?);
    }
    let ms = |p: Option<(f64, f64, f64)>| {
        p.map_or("-".to_string(), |(a, b, c)| {
            format!("{a:.0} / {b:.0} / {c:.0}")
        })
    };
    println!("\ngba-1 engine  steady pkt/s  whole pkt/s  latency p50/p95/p99 ms  from gba-1 p50/p95/p99 ms  gba-1 block interval p50/p99/mean ms");
    for p in &phases {
        println!(
            "{:<12} {:>13} {:>12.0}  {:>22}  {:>26}  {:>34}",
            match p.engine {
                GbaEngine::Embedded => "embedded",
                GbaEngine::Cometbft => "cometbft",
            },
            p.steady.map_or("-".to_string(), |s| format!("{s:.0}")),
            p.whole,
            ms(p.latency),
            ms(p.from_gba),
            ms(p.block_interval_ms)
        );
    }
    Ok(())
}

/// p50, p99 and mean of `values` (nearest rank).
fn spread(values: &mut [f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank =
        |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    Some((rank(0.5), rank(0.99), mean))
}

/// User and system CPU seconds of processes, split into `portledger`
/// applications and the rest (the `cometbft` nodes).
fn children_cpu(pids: &[u32]) -> (f64, f64) {
    let mut apps = 0.0;
    let mut nodes = 0.0;
    for pid in pids {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // Clock ticks; 100 per second on Linux.
        let secs = (ticks(11) + ticks(12)) / 100.0;
        if head.ends_with("(portledger") {
            apps += secs;
        } else {
            nodes += secs;
        }
    }
    (apps, nodes)
}

/// Each validator's Prometheus text (empty for one that does not answer).
async fn prometheus(net: &CometNetwork) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..net.validators.len() {
        out.push(net.prometheus(i).await.unwrap_or_default());
    }
    out
}

/// A histogram's (sum, count) by label between two scrapes, over every validator.
fn delta(
    before: &[String],
    after: &[String],
    name: &str,
    by: &str,
    filter: &[(&str, &str)],
) -> BTreeMap<String, (f64, u64)> {
    let mut out: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    for (b, a) in before.iter().zip(after) {
        let b = histogram_by(b, name, by, filter);
        for (k, (sum, count)) in histogram_by(a, name, by, filter) {
            let (s0, c0) = b.get(&k).copied().unwrap_or_default();
            let e = out.entry(k).or_default();
            e.0 += sum - s0;
            e.1 += count.saturating_sub(c0);
        }
    }
    out
}

/// The block times of heights `from..=to` at validator 0 (from its headers).
async fn block_intervals(net: &CometNetwork, from: u64, to: u64) -> Vec<f64> {
    let mut times = Vec::new();
    for h in from..=to {
        let Ok(r) = net.rpc(0, &format!("/header?height={h}")).await else {
            continue;
        };
        if let Ok(t) = serde_json::from_value::<Timestamp>(r["header"]["time"].clone()) {
            times.push(t.unix_nanos());
        }
    }
    times
        .windows(2)
        .map(|w| (w[1].saturating_sub(w[0])) as f64 / 1e6)
        .collect()
}

async fn phase(
    opts: &BenchOptions,
    devnet: &DevnetOptions,
    dir: &Path,
    engine: GbaEngine,
    shutdown: &CancellationToken,
) -> anyhow::Result<Phase> {
    let nodes_stop = CancellationToken::new();
    let mut comet = match engine {
        GbaEngine::Embedded => None,
        GbaEngine::Cometbft => {
            Some(start_comet_gba(dir, opts.validators.max(1), opts.block_time).await?)
        }
    };
    let skip = comet.as_ref().map(|_| light_clients::any::FamilyName::Gba);
    let ledgers = start_ledgers_but(dir, devnet, &nodes_stop, skip).await?;
    let chains = chains_of(&ledgers, comet.as_ref())?;
    let sources: Vec<Source> = chains.iter().map(|c| c.source()).collect();
    let key = relayer_key(dir)?;
    let roots = connect_chains(
        &chains,
        &RelayerKey(key.verification_key().to_bytes()),
        trust(),
        &[],
    )
    .await?;
    let relay = engine_over(
        dir,
        &chains,
        &key,
        &roots,
        opts.batch_max,
        Duration::from_secs(30),
    )?;
    let engine_stop = CancellationToken::new();
    let engine_task = tokio::spawn(relay.clone().run(engine_stop.clone()));
    // Where the CometBFT network stands before the workload.
    let (h0, prom0) = match &comet {
        Some(net) => (net.height(0).await, prometheus(net).await),
        None => (0, Vec::new()),
    };
    let net_cpu_before = comet.as_ref().map(|n| children_cpu(&n.pids()));
    let seed = relayer::relay::engine::now().unix_nanos();
    let cpu_before = cpu_seconds();
    let run = Sustained::run(
        &sources,
        &relay.metrics,
        (opts.packets, opts.rate),
        seed,
        shutdown,
    )
    .await?;
    let (elapsed, fed) = (run.elapsed, run.fed);
    let cpu = cpu_seconds().zip(cpu_before).map(|(a, b)| a - b);
    let (h1, prom1) = match &comet {
        Some(net) => (net.height(0).await, prometheus(net).await),
        None => (0, Vec::new()),
    };
    let net_cpu = comet
        .as_ref()
        .map(|n| children_cpu(&n.pids()))
        .zip(net_cpu_before)
        .map(|((app_a, node_a), (app_b, node_b))| (app_a - app_b, node_a - node_b));
    engine_stop.cancel();
    let _ = engine_task.await;
    let checked = check_chains(&sources).await?;
    let summary = relay.metrics.summary();
    let steady = run.steady(opts.packets);
    let whole = opts.packets as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
    println!(
        "  fed {} packets in {:.1} s; steady state (10% to 90% delivered) {}; whole run {:.0} packets/s in {:.1} s",
        opts.packets,
        fed.as_secs_f64(),
        steady.map_or("-".to_string(), |s| format!("{s:.0} packets/s")),
        whole,
        elapsed.as_secs_f64()
    );
    if let Some(cpu) = cpu {
        println!(
            "  CPU of this process (two or three ledgers, relayer, feeder; not the CometBFT nodes and applications): {cpu:.1} s"
        );
    }
    if let Some((apps, nodes)) = net_cpu {
        println!(
            "  CPU of the CometBFT network: the portledger applications {apps:.1} s, the cometbft nodes {nodes:.1} s"
        );
    }
    if let Some((p50, p95, p99)) = summary.latency_ms {
        println!("  latency, source commit to destination receipt confirmed: p50 {p50:.0} ms, p95 {p95:.0} ms, p99 {p99:.0} ms");
        for (source, (p50, p95, p99)) in &summary.latency_by_source {
            println!("    from {source:<9} p50 {p50:.0} ms, p95 {p95:.0} ms, p99 {p99:.0} ms");
        }
    }
    println!(
        "  batches {} (mean {:.1} jobs); errors: {}",
        summary.batches,
        summary.mean_batch,
        if summary.errors.is_empty() {
            "none".to_string()
        } else {
            format!("{:?}", summary.errors)
        }
    );
    // RPC: the relayer's requests to gba-1, by method.
    let text = relay.metrics.encode().map_err(err("metrics"))?;
    let rpc = histogram_by(
        &text,
        "portrelay_rpc_request_seconds",
        "call",
        &[("chain", "gba-1")],
    );
    let line: Vec<String> = rpc
        .iter()
        .map(|(call, (sum, n))| format!("{call} {n} x {:.1} ms", sum * 1000.0 / (*n).max(1) as f64))
        .collect();
    println!(
        "  RPC to gba-1 (the relayer's requests, count x mean): {}",
        line.join(", ")
    );
    let mut block_interval_ms = None;
    if let Some(net) = &comet {
        let mut intervals = block_intervals(net, h0.max(1), h1).await;
        block_interval_ms = spread(&mut intervals);
        if let Some((p50, p99, mean)) = block_interval_ms {
            println!(
                "  consensus: blocks {}..{} ({} intervals, from the headers' time): p50 {p50:.0} ms, p99 {p99:.0} ms, mean {mean:.0} ms (timeout_commit {:?})",
                h0,
                h1,
                intervals.len(),
                opts.block_time
            );
        }
        let steps = delta(
            &prom0,
            &prom1,
            "cometbft_consensus_step_duration_seconds",
            "step",
            &[],
        );
        let line: Vec<String> = steps
            .iter()
            .map(|(step, (sum, n))| format!("{step} {:.0} ms", sum * 1000.0 / (*n).max(1) as f64))
            .collect();
        println!("    mean per step: {}", line.join(", "));
        let abci = delta(
            &prom0,
            &prom1,
            "cometbft_abci_connection_method_timing_seconds",
            "method",
            &[],
        );
        let line: Vec<String> = ["finalize_block", "commit", "check_tx", "query"]
            .iter()
            .filter_map(|m| abci.get(*m).map(|v| (m, v)))
            .map(|(m, (sum, n))| {
                format!(
                    "{m} {n} x {:.2} ms (total {:.1} s)",
                    sum * 1000.0 / (*n).max(1) as f64,
                    sum
                )
            })
            .collect();
        println!(
            "  ABCI (CometBFT's timing of the application's calls, all validators): {}",
            line.join(", ")
        );
    }
    if checked.mismatches.is_empty() {
        println!(
            "  ledgers: {} sent, {} received, {} acked: exactly once, in order",
            checked.sent, checked.received, checked.acked
        );
    } else {
        for m in &checked.mismatches {
            println!("  ledgers: {m}");
        }
        return Err(anyhow::anyhow!("the ledgers do not match"));
    }
    nodes_stop.cancel();
    for l in ledgers {
        l.node.wait().await;
    }
    if let Some(mut net) = comet.take() {
        tokio::task::spawn_blocking(move || net.stop())
            .await
            .map_err(err("stop the CometBFT network"))?;
    }
    Ok(Phase {
        engine,
        steady,
        whole,
        latency: summary.latency_ms,
        from_gba: summary
            .latency_by_source
            .iter()
            .find(|(c, _)| c.as_str() == "gba-1")
            .map(|(_, p)| *p),
        block_interval_ms,
    })
}
