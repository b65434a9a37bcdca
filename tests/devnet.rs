//! `portrelay devnet` in-process: every path and app, read back from the ledgers.

use std::time::Duration;

use std::sync::Arc;

use portrelay::cmd::devnet::{check_ledgers, run, run_with, run_workload, DevnetOptions};
use portrelay::cmd::devnet_customs::CustomsOptions;
use relayer::relay::coordinator::{Coordinator, Embedded, LeaseName, Leases, RelayerStore};
use relayer::relay::engine::{Chain, Engine, EngineOptions, Paths};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_and_app_exactly_once_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = DevnetOptions {
        data_dir: Some(dir.path().to_path_buf()),
        packets: Some(72),
        block_time: Duration::from_millis(100),
        validators: 4,
        batch_max: 50,
        api_listen: None,
        ledgers_listen: None,
        zk: None,
    };
    let (summary, ledgers) = run(opts, CancellationToken::new())
        .await
        .expect("devnet run");
    // From the ledgers, not the relayer's counters.
    assert_eq!(ledgers.channels, 18, "six directed paths, three apps");
    assert!(ledgers.mismatches.is_empty(), "{:?}", ledgers.mismatches);
    assert_eq!(
        (ledgers.sent, ledgers.received, ledgers.acked),
        (72, 72, 72)
    );
    // Each path and app carried traffic, all accepted by the apps.
    assert_eq!(summary.paths.len(), 18);
    assert!(
        summary
            .paths
            .values()
            .all(|p| p.delivered == 4 && p.ok == 4 && p.acked == 4),
        "{:?}",
        summary.paths
    );
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
}

/// `portrelay devnet`'s customs workload: declarations submitted at gba-1
/// are honoured at cmport-1, each seeded mismatch of the arrivals raises its
/// own warning there (and nothing else does), and the channels still carry
/// every packet, the declarations' among them, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customs_workload_is_honoured_and_each_mismatch_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = DevnetOptions {
        data_dir: Some(dir.path().to_path_buf()),
        packets: Some(36),
        block_time: Duration::from_millis(100),
        validators: 4,
        batch_max: 50,
        api_listen: None,
        ledgers_listen: None,
        zk: None,
    };
    // One declaration at a time: the first five honoured are one of each arrival.
    let customs = CustomsOptions {
        every: Duration::from_millis(100),
        in_flight: 1,
        at_least: 5,
        ..CustomsOptions::default()
    };
    let (_, ledgers, report) = run_with(opts, Some(customs), CancellationToken::new())
        .await
        .expect("devnet run");
    let report = report.expect("the customs report");
    assert!(report.honoured >= 5, "{report}");
    assert_eq!(report.not_honoured, 0, "{report}");
    // A declaration and its release: two packets each, on gba-1 -> cmport-1 cargo.
    assert!(report.packets >= 2 * report.honoured, "{report:?}");
    let rules: Vec<&str> = report.warnings.keys().map(String::as_str).collect();
    assert_eq!(
        rules,
        [
            "no_undeclared_container",
            "seals_equal",
            "sensitive_hs",
            "weight_within_tolerance"
        ],
        "{report}"
    );
    assert!(report.warnings.values().all(|n| *n > 0), "{report}");
    assert!(ledgers.mismatches.is_empty(), "{:?}", ledgers.mismatches);
    let sent = 36 + report.packets;
    assert_eq!(
        (ledgers.sent, ledgers.received, ledgers.acked),
        (sent, sent, sent)
    );
}

/// Three ledgers with clients of each other and every channel open, the
/// relayer's key, and the headers the clients were created from.
struct Setup {
    dir: tempfile::TempDir,
    stop: CancellationToken,
    ledgers: Vec<portrelay::cmd::devnet::DevLedger>,
    key: ed25519_consensus::SigningKey,
    roots: std::collections::BTreeMap<light_clients::ChainId, (u64, light_clients::any::AnyHeader)>,
}

async fn setup() -> Setup {
    use light_clients::host::RelayerKey;
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = DevnetOptions {
        data_dir: Some(dir.path().to_path_buf()),
        packets: None,
        block_time: Duration::from_millis(100),
        validators: 4,
        batch_max: 50,
        api_listen: None,
        ledgers_listen: None,
        zk: None,
    };
    let stop = CancellationToken::new();
    let ledgers = portrelay::cmd::devnet::start_ledgers(dir.path(), &opts, &stop)
        .await
        .expect("ledgers");
    let key = portrelay::cmd::devnet::relayer_key(dir.path()).expect("key");
    let roots =
        portrelay::cmd::devnet::connect(&ledgers, &RelayerKey(key.verification_key().to_bytes()))
            .await
            .expect("connect");
    Setup {
        dir,
        stop,
        ledgers,
        key,
        roots,
    }
}

impl Setup {
    /// An engine over these ledgers with a coordinator of its own.
    fn engine(&self, coordinator: Arc<dyn Coordinator>) -> Arc<Engine> {
        let chains = self
            .ledgers
            .iter()
            .map(|l| {
                (
                    l.chain_id.clone(),
                    Chain::single(
                        l.adapter.clone(),
                        self.key.clone(),
                        format!("http://{}", l.node.addr),
                        self.roots.get(&l.chain_id).cloned(),
                    ),
                )
            })
            .collect();
        let options = EngineOptions {
            trust: light_clients::TrustOptions {
                trusting_period: Duration::from_secs(14 * 24 * 3600),
                clock_drift: Duration::from_secs(10),
                trust_threshold: light_clients::Fraction::ONE_THIRD,
            },
            batch_max: 50,
            max_attempts: 5,
            backoff: Duration::from_millis(50),
            clear_interval: Duration::from_millis(300),
        };
        Engine::new(
            chains,
            coordinator,
            options,
            Paths::default(),
            relayer::metrics::Metrics::new().expect("metrics"),
        )
    }

    fn coordinator(&self) -> Arc<Embedded> {
        Arc::new(Embedded::open(&self.dir.path().join("relayer.redb")).expect("store"))
    }

    /// Runs `engine` until the ledgers show `packets` sent, received and acknowledged on every channel.
    async fn settle(&self, engine: Arc<Engine>, packets: u64) {
        let engine_stop = CancellationToken::new();
        let task = tokio::spawn(engine.run(engine_stop.clone()));
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let l = check_ledgers(&self.ledgers).await.expect("ledgers");
            if l.mismatches.is_empty() && l.acked == packets {
                assert_eq!((l.sent, l.received), (packets, packets));
                break;
            }
            assert!(std::time::Instant::now() < deadline, "not settled: {l:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        engine_stop.cancel();
        task.await.expect("engine");
    }

    async fn stop(self) {
        self.stop.cancel();
        for l in self.ledgers {
            l.node.wait().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clearer_relays_what_no_scanner_saw() {
    let s = setup().await;
    assert_eq!(
        run_workload(&s.ledgers, 36, 7, 0, 600)
            .await
            .expect("workload"),
        36
    );
    // Two more blocks everywhere: the packets are sealed and (gba) provable.
    let coordinator = s.coordinator();
    for l in &s.ledgers {
        let h = l.adapter.status().await.expect("status").height;
        while l.adapter.status().await.expect("status").height < h + 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The scanners start past every block that holds a packet.
        let now = l.adapter.status().await.expect("status").height;
        let scanner = LeaseName::Scanner {
            chain: l.chain_id.clone(),
        };
        let lease = coordinator
            .lease(&scanner)
            .expect("the embedded coordinator holds every lease");
        coordinator
            .set_checkpoint(&l.chain_id, now + 1, &lease)
            .await
            .expect("checkpoint");
    }
    let engine = s.engine(coordinator);
    // The clearer alone finds every packet, from the two ends of each channel.
    assert_eq!(
        engine.clear_once(&Default::default()).await.expect("clear"),
        36
    );
    assert_eq!(
        engine.clear_once(&Default::default()).await.expect("clear"),
        0,
        "queued jobs are not queued twice"
    );
    s.settle(engine, 36).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_packets_get_timeout_acks_are_reverted_and_channels_move_on() {
    let s = setup().await;
    // One packet per channel, each with one second to arrive; the relay starts later.
    assert_eq!(
        run_workload(&s.ledgers, 18, 11, 0, 1)
            .await
            .expect("workload"),
        18
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Then one on time per channel behind them.
    assert_eq!(
        run_workload(&s.ledgers, 18, 11, 18, 600)
            .await
            .expect("workload"),
        18
    );
    let engine = s.engine(s.coordinator());
    s.settle(engine.clone(), 36).await;
    // Every channel: its first packet timed out, the second was applied.
    let summary = engine.metrics.summary();
    assert_eq!(summary.paths.len(), 18);
    assert!(
        summary
            .paths
            .values()
            .all(|p| (p.timeouts, p.ok, p.acked) == (1, 1, 2)),
        "{:?}",
        summary.paths
    );
    // A timed-out eBL transfer is reverted on its source: the title is live there again.
    // (The eBL channels from cmport carry workload items 2 and 5: to cosco and to gba.)
    let cmport = s
        .ledgers
        .iter()
        .find(|l| l.chain_id.as_str() == "cmport-1")
        .expect("cmport");
    let titles = cmport
        .node
        .handle
        .call(|l| {
            ["PRLb0000002", "PRLb0000005"]
                .iter()
                .map(|r| {
                    l.app_record("ebl", "bills", r)
                        .map(|v| v["title"]["state"].clone())
                })
                .collect::<Vec<_>>()
        })
        .await
        .expect("call");
    assert!(
        titles.iter().all(|t| matches!(t, Ok(v) if v == "live")),
        "{titles:?}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_killed_mid_run_resumes_exactly_once_past_dead_endpoints() {
    use std::process::{Command, Stdio};

    let s = setup().await;
    let key_file = s.dir.path().join("relayer.key");
    let mut config = String::from(
        "[relayer]\ndata_dir = \"relayer\"\nbatch_max = 20\nmax_attempts = 5\nbackoff = \"50ms\"\nclear_interval = \"500ms\"\n\n\
         [trust]\ntrusting_period = \"14d\"\nclock_drift = \"10s\"\ntrust_threshold = \"1/3\"\n",
    );
    // Every chain's first endpoint is dead (a port nothing listens on): the
    // adapters fail over to the live one behind it.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    for l in &s.ledgers {
        config.push_str(&format!(
            "\n[[chains]]\nfamily = \"{}\"\nchain_id = \"{}\"\nendpoints = [\"http://127.0.0.1:{dead}\", \"http://{}\"]\napps = [\"cargo\", \"payment\", \"ebl\"]\nkey_file = \"{}\"\nrpc = {{ preset = \"devnet\" }}\n",
            l.family,
            l.chain_id,
            l.node.addr,
            key_file.display()
        ));
    }
    let config_path = s.dir.path().join("portrelay.toml");
    std::fs::write(&config_path, config).expect("config");
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_portrelay"))
            .args(["start", "--config"])
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("portrelay start")
    };

    assert_eq!(
        run_workload(&s.ledgers, 72, 21, 0, 600)
            .await
            .expect("workload"),
        72
    );
    let mut relayer = start();
    // Kill it without warning once some packets have moved, whatever it holds then.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while check_ledgers(&s.ledgers).await.expect("ledgers").received < 10 {
        assert!(std::time::Instant::now() < deadline, "nothing moved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relayer.kill().expect("SIGKILL");
    relayer.wait().expect("reaped");
    // More traffic while it is down.
    assert_eq!(
        run_workload(&s.ledgers, 36, 21, 72, 600)
            .await
            .expect("workload"),
        36
    );

    let mut relayer = start();
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let l = check_ledgers(&s.ledgers).await.expect("ledgers");
        if l.mismatches.is_empty() && l.acked == 108 {
            assert_eq!(
                (l.sent, l.received),
                (108, 108),
                "exactly once, read from the ledgers"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not settled after the restart: {l:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A graceful stop on SIGTERM.
    let _ = Command::new("kill")
        .args(["-TERM", &relayer.id().to_string()])
        .status();
    let status = relayer.wait().expect("exit");
    assert!(status.success(), "{status:?}");
    s.stop().await;
}
