//! A confidential path end to end, over three ledgers on loopback HTTP and
//! the relay engine: settlements on COSCO reach CMPort in `groth16` mode as
//! "settled (ACSC) for bill of lading B, amount at least X", and nothing
//! CMPort received (its RPC, its blocks, transactions and state on disk),
//! nor anything the relayer stored, holds the amounts or the parties. A
//! full event on a path CMPort wants in `groth16` mode (its channel not
//! opened confidential at the source) is parked by the relayer, not sent.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::wire::{SubmitEvent, WIRE_VERSION};
use light_clients::host::RelayerKey;
use light_clients::{App, ChainId, ChannelId};
use portrelay::cmd::devnet::{check_ledgers, DevnetOptions, ZkDevnet};
use relayer::relay::coordinator::{Embedded, JobQueue};
use relayer::relay::engine::{Chain, Engine, EngineOptions, Paths};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// At least 10,000.00: what CMPort asks of a settlement.
const AT_LEAST: u64 = 1_000_000;

fn settlement(n: u64, bill: &str, amount: u64, payer: &str, payee: &str) -> Value {
    json!({
        "eventType": "PAYMENT_SETTLEMENT",
        "eventID": format!("a7e2ea7f-10ae-4899-b165-20{n:010}"),
        "eventCreatedDateTime": "2024-06-01T16:05:00+08:00",
        "eventDateTime": "2024-06-01T16:04:31+08:00",
        "endToEndId": format!("E2E-HIDDEN-{n}"),
        "uetr": "eb6305c9-1f7f-49de-aed0-16487c27b42d",
        "interbankSettlementAmount": {"currency": "USD", "value": amount, "exponent": 2},
        "interbankSettlementDate": "2024-06-01",
        "chargeBearer": "SHAR",
        "debtorAgentBIC": payer,
        "creditorAgentBIC": payee,
        "status": "ACSC",
        "transportDocumentReference": bill
    })
}

/// One plain HTTP/1.1 GET; the body.
async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    let (head, body) = out.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
    body.to_string()
}

/// Every byte of every file under `dir`.
fn files(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.extend(std::fs::read(&path).expect("file"));
        }
    }
    out
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlements_reach_cmport_as_facts_without_amounts_or_parties() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A small tree and two packets per proof keep the devnet setup fast.
    let zk = ZkDevnet::payments(8, 2, AT_LEAST).expect("zk options");
    let opts = DevnetOptions {
        data_dir: Some(dir.path().to_path_buf()),
        packets: None,
        block_time: Duration::from_millis(100),
        validators: 4,
        batch_max: 50,
        api_listen: None,
        ledgers_listen: None,
        zk: Some(zk.clone()),
    };
    let stop = CancellationToken::new();
    let ledgers = portrelay::cmd::devnet::start_ledgers(dir.path(), &opts, &stop)
        .await
        .expect("ledgers");
    let key = portrelay::cmd::devnet::relayer_key(dir.path()).expect("key");
    let roots = portrelay::cmd::devnet::connect_confidential(
        &ledgers,
        &RelayerKey(key.verification_key().to_bytes()),
        portrelay::cmd::devnet::trust_options("14d"),
        &zk.paths,
    )
    .await
    .expect("connect");
    let find = |id: &str| ledgers.iter().find(|l| l.chain_id.as_str() == id);
    let (cosco, cmport, gba) = (
        find("cosco-1").expect("cosco"),
        find("cmport-1").expect("cmport"),
        find("gba-1").expect("gba"),
    );
    // CMPort's operator also wants GBA's payments in groth16 mode, but
    // GBA's payment channel was opened plain: its packets carry events.
    portrelay::cmd::operator::operator_txs(
        &portrelay::cmd::operator::Operated {
            chain_id: cmport.chain_id.clone(),
            adapter: cmport.adapter.clone(),
            operator: devnet::ledger::operator_key(&cmport.dir).expect("operator key"),
            relayer: RelayerKey(key.verification_key().to_bytes()),
            apps: App::ALL.to_vec(),
        },
        vec![light_clients::host::OperatorMsg::SetPathPolicy {
            source: gba.chain_id.clone(),
            app: App::Payment,
            policy: portrelay::cmd::operator::settlement_policy(AT_LEAST),
        }],
    )
    .await
    .expect("policy for gba's payments");

    // CMPort says, over its RPC, how it takes COSCO's payments.
    let policy: Value =
        serde_json::from_str(&get(cmport.node.addr, "/v1/zk/paths/cosco-1/payment").await)
            .expect("policy json");
    assert_eq!(policy["policy"]["mode"], "groth16");
    assert_eq!(policy["key_registered"], true);

    // Three settlements, one block: two proofs (K = 2), delivered in order.
    let hidden = [
        // Ten-digit amounts, so that finding one by chance in other digits
        // (timestamps) is out of the question.
        (
            1,
            "CMPSHK24ZK0001",
            9_876_543_219u64,
            "ZKPAYERAXXX",
            "ZKPAYEEAXXX",
        ),
        (
            2,
            "CMPSHK24ZK0002",
            1_234_567_891,
            "ZKPAYERBXXX",
            "ZKPAYEEBXXX",
        ),
        (
            3,
            "CMPSHK24ZK0003",
            5_555_555_557,
            "ZKPAYERCXXX",
            "ZKPAYEECXXX",
        ),
    ];
    let events: Vec<SubmitEvent> = hidden
        .iter()
        .map(|(n, bill, amount, payer, payee)| SubmitEvent {
            version: WIRE_VERSION,
            destination: cmport.chain_id.clone(),
            event: settlement(*n, bill, *amount, payer, payee),
            timeout_secs: Some(600),
        })
        .collect();
    let submitted = cosco.adapter.submit_events(&events).await.expect("events");
    assert_eq!(submitted.results.len(), 3);
    let exposed = (
        4,
        "GBAPLAIN0001",
        3_141_592_653u64,
        "ZKGBAPAYERX",
        "ZKGBAPAYEEX",
    );
    gba.adapter
        .submit_event(&SubmitEvent {
            version: WIRE_VERSION,
            destination: cmport.chain_id.clone(),
            event: settlement(exposed.0, exposed.1, exposed.2, exposed.3, exposed.4),
            timeout_secs: Some(600),
        })
        .await
        .expect("gba event");

    let chains = ledgers
        .iter()
        .map(|l| {
            (
                l.chain_id.clone(),
                Chain::single(
                    l.adapter.clone(),
                    key.clone(),
                    format!("http://{}", l.node.addr),
                    roots.get(&l.chain_id).cloned(),
                ),
            )
        })
        .collect();
    let coordinator = Arc::new(Embedded::open(&dir.path().join("relayer.redb")).expect("store"));
    let engine = Engine::new(
        chains,
        coordinator.clone(),
        EngineOptions {
            trust: portrelay::cmd::devnet::trust_options("14d"),
            batch_max: 50,
            max_attempts: 5,
            backoff: Duration::from_millis(50),
            clear_interval: Duration::from_secs(1),
        },
        Paths::default(),
        relayer::metrics::Metrics::new().expect("metrics"),
    );
    let engine_stop = CancellationToken::new();
    let task = tokio::spawn(engine.run(engine_stop.clone()));
    // Proving takes seconds on a shared machine: a generous deadline.
    let deadline = Instant::now() + Duration::from_secs(300);
    let gba_channel = ChannelId {
        source: gba.chain_id.clone(),
        destination: cmport.chain_id.clone(),
        app: App::Payment,
    };
    loop {
        let l = check_ledgers(&ledgers).await.expect("ledgers");
        let parked = coordinator.parked().await.expect("parked jobs");
        let gba_parked = parked
            .iter()
            .any(|p| p.job.id().channel == gba_channel && p.reason.contains("groth16 mode"));
        // Everything but GBA's exposed settlement is relayed exactly once.
        let only_gba =
            l.mismatches.len() == 1 && l.mismatches[0].starts_with("gba-1->cmport-1/payment");
        if only_gba && l.acked == 3 && gba_parked {
            assert_eq!((l.sent, l.received), (4, 3));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not settled: {l:?}, parked {parked:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    engine_stop.cancel();
    task.await.expect("engine");

    // The facts, as CMPort's RPC serves them.
    for (n, bill, ..) in hidden {
        let facts: Value = serde_json::from_str(
            &get(cmport.node.addr, &format!("/v1/apps/payment/facts/{bill}")).await,
        )
        .expect("facts json");
        let fact = &facts[0];
        assert_eq!(fact["kind"], "PAYMENT_SETTLEMENT");
        assert_eq!(fact["packet"]["sequence"], n);
        assert_eq!(
            fact["fields"],
            json!({
                "status": "= ACSC",
                "transportDocumentReference": format!("= {bill}"),
                "interbankSettlementAmount": format!(">= {AT_LEAST}"),
            }),
            "the fact, and nothing else of the settlement"
        );
    }
    // CMPort acknowledged each packet and kept a receipt, in order.
    let channel = ChannelId {
        source: ChainId::new("cosco-1").expect("id"),
        destination: ChainId::new("cmport-1").expect("id"),
        app: App::Payment,
    };
    let ends = cmport.adapter.channels().await.expect("channels");
    let end = ends.iter().find(|c| c.id == channel).expect("channel end");
    assert_eq!(end.next_recv, 4);
    assert!(end.version.ends_with("+groth16"));

    // Everything CMPort serves over its RPC ...
    let height = cmport.adapter.status().await.expect("status").height;
    let mut received = Vec::new();
    for h in 1..=height {
        for what in ["events", "state"] {
            received.extend(
                get(cmport.node.addr, &format!("/v1/blocks/{h}/{what}"))
                    .await
                    .into_bytes(),
            );
        }
    }
    received.extend(get(cmport.node.addr, "/v1/channels").await.into_bytes());
    // ... and everything it and the relayer wrote (blocks, transactions,
    // state), once stopped and flushed.
    stop.cancel();
    let dirs: Vec<std::path::PathBuf> = ledgers.iter().map(|l| l.dir.clone()).collect();
    for l in ledgers {
        l.node.wait().await;
    }
    let cmport_dir = dirs.iter().find(|d| d.ends_with("cmport-1")).expect("dir");
    let cosco_dir = dirs.iter().find(|d| d.ends_with("cosco-1")).expect("dir");
    received.extend(files(cmport_dir));
    let relayer_store = std::fs::read(dir.path().join("relayer.redb")).expect("relayer store");
    let gba_dir = dirs.iter().find(|d| d.ends_with("gba-1")).expect("dir");
    let mut source = files(cosco_dir);
    source.extend(files(gba_dir));
    for (n, _, amount, payer, payee) in hidden.into_iter().chain([exposed]) {
        // The amount as a record field: 32 big-endian bytes, in hex.
        let amount_field = format!("{amount:064x}");
        for secret in [
            payer.to_string(),
            payee.to_string(),
            format!("E2E-HIDDEN-{n}"),
            amount.to_string(),
            amount_field,
        ] {
            assert!(
                !holds(&received, &secret),
                "CMPort received {secret:?} of settlement {n}"
            );
            assert!(
                !holds(&relayer_store, &secret),
                "the relayer stored {secret:?} of settlement {n}"
            );
        }
        // The search finds what is there: COSCO holds its own settlement.
        assert!(holds(&source, payer), "COSCO's data holds {payer}");
    }
}
