//! `portrelay bench --fleet`: what coordinating through Redis costs. Three
//! ledgers in this process and a `redis-server` of the benchmark's own; then,
//! in one run and over the same ledgers, the same backlog of packets drained
//! by `portrelay start` processes: one relayer on the embedded coordinator,
//! one on Redis, three on Redis. Each round sends its packets while no
//! relayer runs, then times the drain from the relayers' start to the last
//! ack; it reports packets per second, CPU seconds of the relayers and of
//! Redis, and Redis's own time per command (`INFO commandstats`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use light_clients::host::{OperatorMsg, RelayerKey};
use light_clients::App;
use tokio_util::sync::CancellationToken;

use crate::cmd::bench::BenchOptions;
use crate::cmd::devnet::{check_ledgers, connect, relayer_key, start_ledgers, DevLedger};
use crate::cmd::err;
use relayer::relay::coordinator::{Embedded, LeaseName, Leases, RelayerStore};

/// A child process stopped (SIGTERM, then waited for) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// User and system CPU seconds of a process so far.
fn cpu_of(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Clock ticks; 100 per second on Linux.
    (tick(11) + tick(12)) / 100.0
}

/// One round's setup.
struct Round {
    label: &'static str,
    redis: bool,
    members: usize,
}

/// One round's figures.
struct Measured {
    packets: u64,
    seconds: f64,
    relayer_cpu: f64,
    redis_cpu: f64,
    /// Redis commands: name, calls, microseconds in total.
    commands: Vec<(String, u64, u64)>,
}

pub async fn run(opts: BenchOptions, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (dir, devnet) = crate::cmd::bench::workspace(&opts, "bench-fleet")?;
    let nodes_stop = CancellationToken::new();
    let ledgers = start_ledgers(&dir, &devnet, &nodes_stop).await?;
    // Each member signs with its own key, registered on every ledger.
    let mut keys = Vec::new();
    for i in 0..3 {
        let home = dir.join(format!("member-{i}"));
        std::fs::create_dir_all(&home).map_err(err("member dir"))?;
        keys.push((relayer_key(&home)?, home.join("relayer.key")));
    }
    connect(
        &ledgers,
        &RelayerKey(keys[0].0.verification_key().to_bytes()),
    )
    .await?;
    for (key, _) in &keys[1..] {
        for l in &ledgers {
            let operated = crate::cmd::operator::Operated {
                chain_id: l.chain_id.clone(),
                adapter: l.adapter.clone(),
                operator: devnet::ledger::operator_key(&l.dir)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                relayer: RelayerKey(key.verification_key().to_bytes()),
                apps: App::ALL.to_vec(),
            };
            crate::cmd::operator::operator_txs(
                &operated,
                vec![OperatorMsg::RegisterRelayer {
                    key: RelayerKey(key.verification_key().to_bytes()),
                }],
            )
            .await?;
        }
    }
    let (redis, port) = start_redis(&dir.join("redis"))?;
    let url = format!("redis://127.0.0.1:{port}");
    println!(
        "bench --fleet: {} packets per round, blocks every {:?}, {} validators, batches of up to {}; redis-server on port {port}; data in {}",
        opts.packets,
        opts.block_time,
        opts.validators,
        opts.batch_max,
        dir.display()
    );
    let rounds = [
        Round {
            label: "1 relayer, embedded",
            redis: false,
            members: 1,
        },
        Round {
            label: "1 relayer, Redis",
            redis: true,
            members: 1,
        },
        Round {
            label: "3 relayers, Redis",
            redis: true,
            members: 3,
        },
    ];
    let seed = relayer::relay::engine::now().unix_nanos();
    let mut results = Vec::new();
    for (i, round) in rounds.iter().enumerate() {
        if shutdown.is_cancelled() {
            return Err(anyhow::anyhow!("interrupted"));
        }
        let first = opts.packets * i as u64;
        let m = drain(
            &opts,
            &dir.join(format!("round-{i}")),
            &ledgers,
            &keys,
            round,
            (&url, redis.0.id()),
            seed,
            first,
        )
        .await?;
        println!(
            "  {:<22} {} packets in {:.1} s: {:.0} packets/s; CPU: relayers {:.1} s, redis {:.1} s",
            round.label,
            m.packets,
            m.seconds,
            m.packets as f64 / m.seconds.max(f64::EPSILON),
            m.relayer_cpu,
            m.redis_cpu
        );
        if round.redis {
            let total: u64 = m.commands.iter().map(|c| c.2).sum();
            for (name, calls, usec) in m.commands.iter().take(8) {
                println!(
                    "      {name:<12} {calls:>8} calls  {:>8.1} ms in Redis ({:.0}%), {:.1} calls per packet",
                    *usec as f64 / 1000.0,
                    100.0 * *usec as f64 / (total.max(1)) as f64,
                    *calls as f64 / m.packets.max(1) as f64
                );
            }
        }
        results.push(m);
    }
    let rate = |m: &Measured| m.packets as f64 / m.seconds.max(f64::EPSILON);
    let cpu_per_packet = |m: &Measured| (m.relayer_cpu + m.redis_cpu) / m.packets.max(1) as f64;
    if let [embedded, one, three] = results.as_slice() {
        println!(
            "ratios: 1 relayer on Redis / embedded: throughput {:.2}, CPU per packet {:.2}; 3 relayers / 1 (both Redis): throughput {:.2}, CPU per packet {:.2}",
            rate(one) / rate(embedded),
            cpu_per_packet(one) / cpu_per_packet(embedded),
            rate(three) / rate(one),
            cpu_per_packet(three) / cpu_per_packet(one)
        );
    }
    let checked = check_ledgers(&ledgers).await?;
    if !checked.mismatches.is_empty() {
        for m in &checked.mismatches {
            println!("ledgers: {m}");
        }
        return Err(anyhow::anyhow!("the ledgers do not match"));
    }
    println!(
        "ledgers: {} sent, {} received, {} acked: exactly once, in order",
        checked.sent, checked.received, checked.acked
    );
    drop(redis);
    nodes_stop.cancel();
    for l in ledgers {
        l.node.wait().await;
    }
    Ok(())
}

/// A `redis-server` on a free loopback port, as a fleet would run it
/// (append-only file, fsync every second, no eviction).
fn start_redis(dir: &Path) -> anyhow::Result<(Proc, u16)> {
    std::fs::create_dir_all(dir).map_err(err("redis dir"))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(err("a free port"))?
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ])
        .args(["--maxmemory-policy", "noeviction", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("redis-server cannot start ({e}): install redis-server"))?;
    let proc = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if redis_cmd(port, &["PING"]).is_ok() {
            return Ok((proc, port));
        }
        if Instant::now() > deadline {
            return Err(anyhow::anyhow!(
                "redis-server on port {port} did not answer"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn redis_cmd(port: u16, args: &[&str]) -> anyhow::Result<redis::Value> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).map_err(err("redis"))?;
    let mut c = client
        .get_connection_with_timeout(Duration::from_secs(2))
        .map_err(err("redis"))?;
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(&mut c).map_err(err("redis"))
}

/// Redis's time per command since the last reset: name, calls, µs; most first.
fn command_stats(port: u16) -> Vec<(String, u64, u64)> {
    let Ok(redis::Value::BulkString(bytes)) = redis_cmd(port, &["INFO", "commandstats"]) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut out: Vec<(String, u64, u64)> = text
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let field = |k: &str| {
                rest.split(',')
                    .find_map(|f| f.strip_prefix(k)?.strip_prefix('='))
                    .and_then(|v| v.parse::<u64>().ok())
            };
            Some((name.to_string(), field("calls")?, field("usec")?))
        })
        .collect();
    out.sort_by_key(|c| std::cmp::Reverse(c.2));
    out
}

/// Sends `opts.packets` packets with no relayer running, then starts the
/// round's relayers and times them until every packet so far is acked.
#[allow(clippy::too_many_arguments)]
async fn drain(
    opts: &BenchOptions,
    dir: &Path,
    ledgers: &[DevLedger],
    keys: &[(ed25519_consensus::SigningKey, PathBuf)],
    round: &Round,
    (url, redis_pid): (&str, u32),
    seed: u64,
    first: u64,
) -> anyhow::Result<Measured> {
    std::fs::create_dir_all(dir).map_err(err("round dir"))?;
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("redis url"))?;
    if round.redis {
        redis_cmd(port, &["FLUSHALL"])?;
        redis_cmd(port, &["CONFIG", "RESETSTAT"])?;
    }
    // Every round scans from the blocks of its own backlog on: a fresh
    // store would otherwise rescan the previous round's last blocks (from
    // the clients' heights) and send repeats the destinations refuse.
    for l in ledgers {
        let next = l.adapter.status().await.map_err(err("status"))?.height + 1;
        if round.redis {
            let key = format!("portrelay:checkpoint:{}", l.chain_id);
            redis_cmd(port, &["SET", &key, &next.to_string()])?;
        } else {
            for i in 0..round.members {
                let store = dir.join(format!("member-{i}")).join("relayer.redb");
                let embedded = Embedded::open(&store).map_err(err("relayer store"))?;
                let scanner = LeaseName::Scanner {
                    chain: l.chain_id.clone(),
                };
                let lease = embedded
                    .lease(&scanner)
                    .ok_or_else(|| anyhow::anyhow!("the embedded store holds every lease"))?;
                embedded
                    .set_checkpoint(&l.chain_id, next, &lease)
                    .await
                    .map_err(err("checkpoint"))?;
            }
        }
    }
    crate::cmd::bench::send_backlog(ledgers, seed, first, opts.packets).await?;
    let total = first + opts.packets;
    let redis_cpu_before = cpu_of(redis_pid);
    let exe = std::env::current_exe().map_err(err("portrelay executable"))?;
    let started = Instant::now();
    let mut procs = Vec::new();
    for (i, (_, key_file)) in keys.iter().enumerate().take(round.members) {
        let config = config_text(
            opts,
            &dir.join(format!("member-{i}")),
            ledgers,
            key_file,
            round,
            url,
            i,
        );
        let path = dir.join(format!("member-{i}.toml"));
        std::fs::write(&path, config).map_err(err("config"))?;
        let child = Command::new(&exe)
            .args(["start", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .map_err(err("portrelay start"))?;
        procs.push(Proc(child));
    }
    let deadline = Instant::now() + Duration::from_secs(1800);
    let mut cpu = vec![0.0; procs.len()];
    loop {
        for (c, p) in cpu.iter_mut().zip(&procs) {
            *c = cpu_of(p.0.id());
        }
        let l = check_ledgers(ledgers).await?;
        if l.acked >= total && l.mismatches.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            return Err(anyhow::anyhow!(
                "{}: not drained in 30 minutes: {l:?}",
                round.label
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    for (c, p) in cpu.iter_mut().zip(&procs) {
        *c = c.max(cpu_of(p.0.id()));
    }
    let commands = if round.redis {
        command_stats(port)
    } else {
        Vec::new()
    };
    let redis_cpu = if round.redis {
        cpu_of(redis_pid) - redis_cpu_before
    } else {
        0.0
    };
    drop(procs);
    Ok(Measured {
        packets: opts.packets,
        seconds,
        relayer_cpu: cpu.iter().sum(),
        redis_cpu,
        commands,
    })
}

fn config_text(
    opts: &BenchOptions,
    data: &Path,
    ledgers: &[DevLedger],
    key_file: &Path,
    round: &Round,
    url: &str,
    member: usize,
) -> String {
    let mut config = format!(
        "[relayer]\ndata_dir = \"{}\"\nbatch_max = {}\nmax_attempts = 5\nbackoff = \"100ms\"\nclear_interval = \"30s\"\n\n\
         [trust]\ntrusting_period = \"14d\"\nclock_drift = \"10s\"\ntrust_threshold = \"1/3\"\n",
        data.display(),
        opts.batch_max
    );
    if round.redis {
        config.push_str(&format!(
            "\n[coordinator]\nbackend = \"redis\"\nurl = \"{url}\"\ninstance = \"member-{member}\"\nlease = \"10s\"\n"
        ));
    }
    for l in ledgers {
        config.push_str(&format!(
            "\n[[chains]]\nfamily = \"{}\"\nchain_id = \"{}\"\nendpoints = [\"http://{}\"]\napps = [\"cargo\", \"payment\", \"ebl\"]\nkey_file = \"{}\"\nrpc = {{ preset = \"devnet\" }}\n",
            l.family,
            l.chain_id,
            l.node.addr,
            key_file.display()
        ));
    }
    config
}
