//! Relaying through a gba chain run by four real CometBFT validators
//! (`support::comet`) under faults: `portledger` processes for cmport and
//! cosco, the operators' set-up through the adapters, and a `portrelay
//! start` process following the gba chain through CometBFT's RPC
//! (`engine = "cometbft"`). Events go on every path and app (cargo,
//! payment, eBL title transfers); every check of "exactly once, in order"
//! reads the ledgers (`check_chains`; the gba chain through `abci_query`).
//! `docs/cometbft.md`, "Faults".
//!
//! Fails naming `scripts/cometbft` when `cometbft` is missing.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::abci::{AbciTx, AdminCall, AdminTx};
use adapters::chain::ChainAdapter;
use adapters::wire::{SubmitEvent, SubmittedEvent, SubmittedItem, WIRE_VERSION};
use light_clients::any::FamilyName;
use light_clients::client::Status;
use light_clients::host::{RelayMsg, RelayerKey, SignedTx, TxBody};
use light_clients::{App, ChainId};
use portrelay::cmd::devnet::check_chains;
use portrelay::cmd::operator::{setup_with, Operated};
use relayer::relay::engine::Paths;
use serde_json::Value;

use crate::support::comet::{CometNet, DEADLINE};
use crate::support::ledger::{options, post_json, Ledger};
use crate::support::net::{
    free_addr, new_key, portrelay, start_relayer, terminate, write_config, Running,
};

/// The apps relayed here: all three.
const APPS: [App; 3] = App::ALL;

/// How long the relay gets to deliver a round after a fault.
const SETTLE: Duration = Duration::from_secs(240);

/// The three ledgers, connected, and the relayer over them. Fields drop
/// in order: the relayer first, the directory last.
struct Relay {
    relayer: Option<Running>,
    gba: CometNet,
    cmport: Ledger,
    cosco: Ledger,
    /// The tests' own adapter of the gba chain (validator 1 first: it is
    /// never stopped), for events and reads.
    gba_adapter: Arc<dyn ChainAdapter>,
    key: ed25519_consensus::SigningKey,
    key_file: PathBuf,
    api: SocketAddr,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Relay {
    /// The gba network (four validators), cmport and cosco ledgers, and
    /// each operator's set-up: clients of the others, the relayer's key,
    /// the channels of `APPS` on every path.
    async fn start() -> Relay {
        let dir = tempfile::tempdir().expect("tempdir");
        let gba_dir = dir.path().join("gba");
        std::fs::create_dir_all(&gba_dir).expect("gba dir");
        let gba = CometNet::start(&gba_dir, 4).await;
        let cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
        let cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
        let key_file = dir.path().join("relayer.key");
        let key = new_key(&key_file, 0x31);
        let relayer = RelayerKey(key.verification_key().to_bytes());
        let gba_adapter = gba.adapter(&[1, 0, 2, 3]);
        let operated = |chain_id: &ChainId, adapter: &Arc<dyn ChainAdapter>, operator| Operated {
            chain_id: chain_id.clone(),
            adapter: adapter.clone(),
            operator,
            relayer,
            apps: APPS.to_vec(),
        };
        let ledgers = [
            operated(&gba.chain_id, &gba_adapter, gba.operator()),
            operated(&cmport.chain_id, &cmport.adapter, cmport.operator()),
            operated(&cosco.chain_id, &cosco.adapter, cosco.operator()),
        ];
        setup_with(&ledgers, options(), &Paths::default(), &[])
            .await
            .expect("the operators' set-up");
        // eBL platforms: each ledger learns the others' envelope keys (on
        // the gba chain by the operator's admin transactions, nonces 0 and 1).
        let platform = |adapter: Arc<dyn ChainAdapter>| async move {
            adapter.status().await.expect("status").ebl_platform
        };
        let keys = [
            platform(gba_adapter.clone()).await,
            platform(cmport.adapter.clone()).await,
            platform(cosco.adapter.clone()).await,
        ];
        for (nonce, (other, key)) in [(&cmport.chain_id, keys[1]), (&cosco.chain_id, keys[2])]
            .into_iter()
            .enumerate()
        {
            let admin = AdminTx::sign(
                &gba.operator(),
                &gba.chain_id,
                nonce as u64,
                AdminCall::EblPlatform {
                    chain: other.clone(),
                    key,
                },
            );
            let answer = gba.broadcast(1, &AbciTx::Admin(admin).encode()).await;
            assert_eq!(answer["code"], 0, "eBL platform of {other}: {answer}");
            gba.wait_tx(1, answer["hash"].as_str().expect("hash")).await;
        }
        for host in [&cmport, &cosco] {
            let token = std::fs::read_to_string(host.dir.join("admin.token")).expect("admin.token");
            for (chain, key) in [
                (&gba.chain_id, keys[0]),
                (&cmport.chain_id, keys[1]),
                (&cosco.chain_id, keys[2]),
            ] {
                if *chain == host.chain_id {
                    continue;
                }
                let (status, body) = post_json(
                    host.port,
                    "/v1/admin/ebl-platforms",
                    Some(token.trim()),
                    &serde_json::json!({ "chain": chain, "key": key }),
                )
                .await;
                assert_eq!(
                    status, 204,
                    "{}: eBL platform of {chain}: {body}",
                    host.chain_id
                );
            }
        }
        let log = dir.path().join("relayer.log");
        Relay {
            relayer: None,
            gba,
            cmport,
            cosco,
            gba_adapter,
            key,
            key_file,
            api: free_addr(),
            log,
            dir,
        }
    }

    /// `portrelay start` with the gba chain at `gba_endpoints` (CometBFT RPC).
    fn start_relayer(&mut self, gba_endpoints: Vec<String>) {
        let chains = vec![
            (
                "gba".to_string(),
                self.gba.chain_id.to_string(),
                gba_endpoints,
            ),
            (
                "cmport".to_string(),
                self.cmport.chain_id.to_string(),
                vec![format!("http://127.0.0.1:{}", self.cmport.port)],
            ),
            (
                "cosco".to_string(),
                self.cosco.chain_id.to_string(),
                vec![format!("http://127.0.0.1:{}", self.cosco.port)],
            ),
        ];
        let config = write_config(
            self.dir.path(),
            &self.key_file,
            &chains,
            Some((self.api, None)),
        );
        let text = std::fs::read_to_string(&config).expect("config").replace(
            "family = \"gba\"\n",
            "family = \"gba\"\nengine = \"cometbft\"\n",
        );
        assert!(text.contains("engine = \"cometbft\""), "{text}");
        std::fs::write(&config, text).expect("config");
        self.relayer = Some(start_relayer(&config, &self.log));
    }

    fn chains(&self) -> [(ChainId, Arc<dyn ChainAdapter>); 3] {
        [
            (self.gba.chain_id.clone(), self.gba_adapter.clone()),
            (self.cmport.chain_id.clone(), self.cmport.adapter.clone()),
            (self.cosco.chain_id.clone(), self.cosco.adapter.clone()),
        ]
    }

    /// One event per path and app from each of `sources` (an index into
    /// `chains`), numbered from `first` (an eBL transfer after its local
    /// issue); returns how many packets were sent.
    async fn round(&self, sources: &[usize], seed: u64, first: u64) -> u64 {
        let chains = self.chains();
        let mut tasks = tokio::task::JoinSet::new();
        let mut n = first;
        for &s in sources {
            let (source, adapter) = chains[s].clone();
            let mut events = Vec::new();
            for (destination, _) in chains.iter().filter(|(c, _)| *c != source) {
                for app in APPS {
                    let (issue, e) = event(seed, n, app);
                    if let Some(issue) = issue {
                        events.push(submit_event(&source, issue));
                    }
                    events.push(submit_event(destination, e));
                    n += 1;
                }
            }
            tasks.spawn(async move {
                let answer = adapter
                    .submit_events(&events)
                    .await
                    .unwrap_or_else(|e| panic!("{source}: events: {e}"));
                let mut packets = 0u64;
                for (item, sent) in answer.results.into_iter().zip(&events) {
                    match item {
                        SubmittedItem::Submitted(s) => {
                            let local = sent.destination == source;
                            assert_eq!(
                                s.packet.is_some(),
                                !local,
                                "{source}: a packet for each event to another chain, none for a local one"
                            );
                            packets += u64::from(!local);
                        }
                        SubmittedItem::Refused(r) => {
                            panic!("{source}: event refused: {} {}", r.code, r.message)
                        }
                    }
                }
                packets
            });
        }
        let mut packets = 0;
        while let Some(r) = tasks.join_next().await {
            packets += r.expect("a source's events");
        }
        packets
    }

    /// Every channel shows `packets` in all sent, received and acknowledged,
    /// each channel's ends agreeing (exactly once, in order), within `SETTLE`.
    async fn settle(&self, packets: u64, fault: &str) {
        let started = Instant::now();
        let deadline = started + SETTLE;
        loop {
            let last = check_chains(&self.chains()).await;
            if let Ok(l) = &last {
                if l.mismatches.is_empty() && l.acked == packets {
                    assert_eq!(
                        (l.sent, l.received),
                        (packets, packets),
                        "{fault}: exactly once, read from the ledgers"
                    );
                    eprintln!(
                        "{fault}: {packets} packets settled in {:.1?}",
                        started.elapsed()
                    );
                    return;
                }
                assert!(l.sent <= packets, "{fault}: more than sent: {l:?}");
            }
            assert!(
                Instant::now() < deadline,
                "{fault}: not settled ({packets} packets): {last:?}; see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The client of the gba chain on `host`.
    async fn gba_client(&self, host: &Ledger) -> adapters::wire::ClientInfo {
        host.adapter
            .clients()
            .await
            .expect("clients")
            .into_iter()
            .find(|c| c.chain == self.gba.chain_id)
            .unwrap_or_else(|| panic!("{}: no client of the gba chain", host.chain_id))
    }

    /// The gba clients on cmport and cosco are active past `height`, the
    /// first whose validator set changed: they verified headers the new set
    /// signed.
    async fn clients_follow(&self, height: u64, what: &str) {
        for host in [&self.cmport, &self.cosco] {
            let client = self.gba_client(host).await;
            assert_eq!(client.status, Status::Active, "{what}: {}", host.chain_id);
            assert!(
                client.latest_height > height,
                "{what}: {}'s client of the gba chain did not follow the set change at {height}: {client:?}",
                host.chain_id,
            );
        }
    }

    /// The relayer's parked jobs, as `portrelay packets parked` prints them.
    fn parked(&self) -> String {
        let api = format!("http://{}", self.api);
        let (code, out, err) = portrelay(&["packets", "parked", "--api", &api]);
        assert_eq!(code, 0, "{err}");
        out
    }
}

fn submit_event(destination: &ChainId, event: Value) -> SubmitEvent {
    SubmitEvent {
        version: WIRE_VERSION,
        destination: destination.clone(),
        event,
        timeout_secs: Some(3600),
    }
}

/// The sum of a counter's series whose labels include all of `labels`,
/// read from the relayer's `/metrics`.
fn counter(api: SocketAddr, name: &str, labels: &[&str]) -> u64 {
    let Some((200, text)) = crate::support::net::http_get(&format!("http://{api}/metrics")) else {
        return 0;
    };
    text.lines()
        .filter(|l| l.starts_with(name) && labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// A UUID v4 of its own for (`seed`, `tag`, `n`).
fn uuid(seed: u64, tag: u16, n: u64) -> String {
    format!("{seed:08x}-{tag:04x}-4000-8000-{n:012x}")
}

/// The `n`th event of `app`: the repository's examples with ids of their
/// own; for eBL the transfer and, first, its bill's issue on the source.
fn event(seed: u64, n: u64, app: App) -> (Option<Value>, Value) {
    let e = match app {
        App::Cargo => {
            let journey: Vec<Value> =
                serde_json::from_str(include_str!("../docs/examples/events/journey.json"))
                    .expect("journey");
            let mut e = journey[n as usize % journey.len()].clone();
            e["eventID"] = Value::String(uuid(seed, 0, n));
            e
        }
        App::Ebl => {
            let ebl: Vec<Value> =
                serde_json::from_str(include_str!("../docs/examples/events/ebl.json"))
                    .expect("ebl");
            let reference = Value::String(format!("PRL{seed:x}E{n:07}"));
            let mut issue = ebl[0].clone();
            issue["eventID"] = Value::String(uuid(seed, 2, n));
            issue["transportDocumentReference"] = reference.clone();
            let mut transfer = ebl[1].clone();
            transfer["eventID"] = Value::String(uuid(seed, 0, n));
            transfer["transportDocumentReference"] = reference;
            return (Some(issue), transfer);
        }
        App::Payment => {
            let payments: Vec<Value> = include_str!("../docs/examples/events/payments.ndjson")
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).expect("payment"))
                .collect();
            let mut e = payments[n as usize % payments.len()].clone();
            e["eventID"] = Value::String(uuid(seed, 0, n));
            if e["eventType"] == "PAYMENT_SETTLEMENT" {
                e["endToEndId"] = Value::String(format!("E2E-{seed:x}-{n}"));
                e["uetr"] = Value::String(uuid(seed, 1, n));
            }
            e
        }
    };
    (None, e)
}

/// Waits until node 0's height has not moved for 5 s (polled): the
/// chain halted. Returns that height.
async fn halted(net: &CometNet, what: &str) -> u64 {
    let deadline = Instant::now() + DEADLINE;
    let mut last = net.height(0).await;
    let mut still_since = Instant::now();
    while still_since.elapsed() < Duration::from_secs(5) {
        assert!(Instant::now() < deadline, "{what}: the chain did not halt");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let h = net.height(0).await;
        if h != last {
            last = h;
            still_since = Instant::now();
        }
    }
    last
}

/// A transaction's height and the `/tx` result's data as JSON.
fn tx_data<T: serde::de::DeserializeOwned>(tx: &Value) -> (u64, T) {
    use base64::Engine;
    let result = &tx["tx_result"];
    assert_eq!(result["code"], 0, "tx refused in its block: {tx}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(result["data"].as_str().unwrap_or(""))
        .expect("base64 data");
    let height = tx["height"]
        .as_str()
        .and_then(|h| h.parse().ok())
        .expect("tx height");
    (
        height,
        serde_json::from_slice(&bytes).expect("tx data json"),
    )
}

/// Faults a to d and f of issue 17 in one run (a network start costs seconds),
/// each asserted with relaying on every path and named in its failure:
/// a. one validator of four stopped: blocks go on, packets are delivered
///    both ways; b. two stopped: no block, nothing delivered to or from the
///    gba chain and nothing lost; one back: every packet of the halt
///    delivered exactly once; c. a validator set rotation by the operator's
///    admin transaction: the gba clients on cmport and cosco follow it
///    (their latest height past it) and packets from the gba chain after it
///    are delivered; d. the relayer's first endpoint, a node and its
///    application, SIGKILLed and restarted while packets flow: the node
///    catches up and the relay rides it out, exactly once; f. a batch of
///    the relayer's refused by CheckTx (its nonce used meanwhile) is
///    reported with the host's named check (`nonce`, in
///    `portrelay_submit_errors_total` and the log), and its jobs delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comet_relay_rides_out_stopped_validators_a_rotation_a_node_restart_and_a_refused_batch() {
    let started = Instant::now();
    let mut r = Relay::start().await;
    r.start_relayer((0..4).map(|i| r.gba.endpoint(i)).collect());
    eprintln!("set-up: {:.1?}", started.elapsed());
    let all = [0, 1, 2];
    let mut packets = r.round(&all, 1, 0).await;
    r.settle(packets, "before any fault").await;

    // a. One validator of four stopped.
    r.gba.kill_node(3);
    let h = r.gba.height(0).await;
    r.gba.wait_height(0, h + 3).await;
    packets += r.round(&all, 1, 100).await;
    r.settle(packets, "a: one validator of four stopped").await;

    // b. Two stopped: the chain halts.
    r.gba.kill_node(2);
    let at = halted(&r.gba, "b: two of four stopped").await;
    // Packets to the gba chain (and between the others) while it is halted...
    packets += r.round(&[1, 2], 1, 200).await;
    // ... and events broadcast to it: CheckTx takes them into the mempool.
    let mut pending = Vec::new();
    for (k, (destination, app)) in [
        (&r.cmport.chain_id, App::Cargo),
        (&r.cosco.chain_id, App::Payment),
    ]
    .into_iter()
    .enumerate()
    {
        let tx = AbciTx::Event(submit_event(destination, event(1, 300 + k as u64, app).1));
        let answer = r.gba.broadcast(0, &tx.encode()).await;
        assert_eq!(answer["code"], 0, "b: CheckTx while halted: {answer}");
        pending.push(answer["hash"].as_str().expect("hash").to_string());
    }
    // Some time for the relayer to try (polled): still no block.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        for i in [0, 1] {
            assert_eq!(
                r.gba.height(i).await,
                at,
                "b: node {i} made a block with two of four validators stopped"
            );
        }
    }
    // One validator back: blocks resume, everything of the halt is delivered once.
    r.gba.start_node(2);
    r.gba.wait_height(0, at + 2).await;
    for hash in &pending {
        let (_, submitted): (u64, SubmittedEvent) = tx_data(&r.gba.wait_tx(1, hash).await);
        assert!(
            submitted.packet.is_some(),
            "b: an event of the halt sent no packet"
        );
        packets += 1;
    }
    r.settle(
        packets,
        "b: two of four stopped, then one back (nothing lost, exactly once)",
    )
    .await;
    r.gba.start_node(3);
    let top = r.gba.height(1).await;
    r.gba.wait_height(3, top).await;

    // c. A validator set rotation: validator 3's power becomes 20 (the
    // operator's third admin call: two eBL platforms before it).
    let admin = AdminTx::sign(
        &r.gba.operator(),
        &r.gba.chain_id,
        2,
        AdminCall::Validator {
            pub_key: r.gba.validator_key(3),
            power: 20,
        },
    );
    let answer = r.gba.broadcast(1, &AbciTx::Admin(admin).encode()).await;
    assert_eq!(answer["code"], 0, "c: the admin call: {answer}");
    let (rotated, _): (u64, Value) = tx_data(
        &r.gba
            .wait_tx(1, answer["hash"].as_str().expect("hash"))
            .await,
    );
    // In force two blocks later: the set of block rotated + 2 has the power.
    r.gba.wait_height(1, rotated + 3).await;
    let v = r
        .gba
        .rpc(1, &format!("/validators?height={}", rotated + 2))
        .await
        .expect("validators");
    assert!(
        v["validators"]
            .as_array()
            .expect("validators")
            .iter()
            .any(|v| v["voting_power"] == "20"),
        "c: the rotation is not in force at {}: {v}",
        rotated + 2
    );
    // Packets from the gba chain emitted after it (blocks past rotated + 3).
    packets += r.round(&all, 1, 400).await;
    r.settle(packets, "c: after a validator set rotation").await;
    r.clients_follow(rotated + 2, "c").await;

    // d. The relayer's first endpoint, node 0 and its application, SIGKILLed
    // while packets flow, then restarted.
    packets += r.round(&all, 1, 500).await;
    r.gba.kill_node(0);
    packets += r.round(&all, 1, 600).await;
    r.gba.start_node(0);
    let top = r.gba.height(1).await;
    r.gba.wait_height(0, top).await;
    packets += r.round(&all, 1, 700).await;
    r.settle(
        packets,
        "d: a node and its application killed and restarted",
    )
    .await;

    // f. A batch CheckTx refuses, reported with the host's named check: the
    // relayer's key used out of band (a client update of cmport on the gba
    // chain), so the nonce the relayer holds for its next batch is behind
    // the committed one.
    let signer = RelayerKey(r.key.verification_key().to_bytes());
    let nonce = r
        .gba_adapter
        .account(&signer)
        .await
        .expect("account")
        .next_nonce;
    let header = r
        .cmport
        .adapter
        .header(r.cmport.height().await)
        .await
        .expect("cmport header");
    let tx = SignedTx::sign(
        &r.key,
        &r.gba.chain_id,
        nonce,
        &TxBody::Relay(vec![RelayMsg::UpdateClient {
            chain: r.cmport.chain_id.clone(),
            header,
        }]),
    );
    let out_of_band = r.gba_adapter.submit(&tx).await.expect("out of band");
    assert!(out_of_band.height.is_some(), "{out_of_band:?}");
    packets += r.round(&all, 1, 800).await;
    r.settle(packets, "f: a batch refused by CheckTx").await;
    let refused = counter(
        r.api,
        "portrelay_submit_errors_total",
        &[
            &format!("destination=\"{}\"", r.gba.chain_id),
            "reason=\"nonce\"",
        ],
    );
    assert!(
        refused >= 1,
        "f: no refusal by CheckTx was reported as `nonce`; see {}",
        r.log.display()
    );
    let log = std::fs::read_to_string(&r.log).expect("relayer log");
    assert!(
        log.lines()
            .any(|l| l.contains("submission failed") && l.contains("nonce")),
        "f: the refusal is not logged with its check"
    );

    let parked = r.parked();
    assert!(parked.starts_with("0 parked jobs"), "{parked}");
    let relayer = r.relayer.take().expect("relayer");
    assert!(terminate(relayer).success(), "the relayer's exit");
    eprintln!(
        "{packets} packets through faults a to d and f in {:.1?}",
        started.elapsed()
    );
}

/// e. A conflicting header: the network's homes and data copied and run as
/// a fork (the same validator keys) on ports of its own; the relayer has
/// both networks' RPC as endpoints of the gba chain. Its witness of the
/// fork's endpoint finds a valid header that conflicts with the one the
/// follower verified, and the evidence freezes the gba client on cmport
/// and on cosco.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comet_relay_fork_on_a_second_endpoint_freezes_the_gba_clients_on_both_hosts() {
    let started = Instant::now();
    let mut r = Relay::start().await;
    let fork_dir = r.dir.path().join("fork");
    let fork = r.gba.fork(&fork_dir).await;
    // The fork makes blocks of its own (an event only it holds).
    let tx = AbciTx::Event(submit_event(&r.cmport.chain_id, event(2, 1, App::Cargo).1));
    let answer = fork.broadcast(0, &tx.encode()).await;
    assert_eq!(answer["code"], 0, "{answer}");
    let real = r.gba.endpoint(0);
    let forked = fork.endpoint(0);
    r.start_relayer(vec![real.clone(), forked.clone()]);
    // Events on every path of the real chain meanwhile.
    r.round(&[0, 1, 2], 2, 100).await;

    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let mut frozen = 0;
        for host in [&r.cmport, &r.cosco] {
            let client = r.gba_client(host).await;
            if client.status == Status::Frozen {
                assert!(client.frozen.is_some(), "frozen with its evidence");
                frozen += 1;
            }
        }
        if frozen == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "e: the gba clients are not frozen on both hosts; see {}",
            r.log.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The relayer names the fork's endpoint as the witness that showed it.
    let api = format!("http://{}", r.api);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, out, err) = portrelay(&["status", "--json", "--api", &api]);
        assert_eq!(code, 0, "{err}");
        let status: Value = serde_json::from_str(&out).expect("status JSON");
        let follow = &status["chains"][r.gba.chain_id.as_str()]["follow"];
        let report = &follow["misbehaviour"][0];
        if report["submitted"]["cmport-1"] == "frozen" && report["submitted"]["cosco-1"] == "frozen"
        {
            assert_eq!(report["witness"], forked.as_str(), "{follow}");
            eprintln!(
                "e: evidence at height {}: {}",
                report["height"], report["evidence"]
            );
            break;
        }
        assert!(Instant::now() < deadline, "e: {follow}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let relayer = r.relayer.take().expect("relayer");
    assert!(terminate(relayer).success(), "the relayer's exit");
    drop(fork);
    eprintln!("e: fork detected and frozen in {:.1?}", started.elapsed());
}

/// A CometBFT RPC endpoint that takes every `broadcast_tx_sync` (code 0,
/// the transaction's hash) and keeps nothing, as a node that goes down
/// before its mempool passes a transaction on; every other call is a 503.
/// Returns its address and how many broadcasts it took.
async fn dropping_endpoint() -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = taken.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let (head, length) = loop {
                    let Ok(n) = stream.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    raw.extend_from_slice(&buf[..n]);
                    if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while raw.len() < head + length {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => raw.extend_from_slice(&buf[..n]),
                    }
                }
                let request: Value =
                    serde_json::from_slice(&raw[head..head + length]).unwrap_or(Value::Null);
                let response = if request["method"] == "broadcast_tx_sync" {
                    use base64::Engine;
                    use sha2::Digest;
                    count.fetch_add(1, Ordering::SeqCst);
                    let tx = base64::engine::general_purpose::STANDARD
                        .decode(request["params"]["tx"].as_str().unwrap_or(""))
                        .unwrap_or_default();
                    let hash = hex::encode_upper(sha2::Sha256::digest(&tx));
                    let body = serde_json::json!({
                        "jsonrpc": "2.0",
                        "id": request["id"],
                        "result": {"code": 0, "data": "", "log": "", "codespace": "", "hash": hash}
                    })
                    .to_string();
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (addr, taken)
}

/// A relayer's signed transaction taken by a node that loses it (the
/// first endpoint takes the broadcast and keeps nothing): the CometBFT
/// adapter broadcasts the same bytes again, to the endpoint it reads from
/// by then, and the transaction lands in a block, once, within the wait
/// (before, the wait ran out after 30 s with no block, the batch was
/// re-queued and the relay lost that time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comet_a_transaction_lost_by_the_node_that_took_it_is_broadcast_again_and_lands() {
    use light_clients::host::OperatorMsg;
    let dir = tempfile::tempdir().expect("tempdir");
    let net = CometNet::start(dir.path(), 1).await;
    let (dropper, taken) = dropping_endpoint().await;
    let config = adapters::chain::ChainConfig {
        chain_id: net.chain_id.clone(),
        endpoints: vec![format!("http://{dropper}"), net.endpoint(0)],
        apps: App::ALL.to_vec(),
        trust_root: None,
        rpc: adapters::chain::RpcPolicy::DEVNET,
        engine: adapters::chain::Engine::Cometbft,
    };
    let adapter = adapters::registry::build(
        &adapters::chain::AdapterConfig::new(FamilyName::Gba, config),
        None,
    )
    .expect("adapter");
    // Read through the node itself, so the adapter under test starts at the dropper.
    let reader = net.adapter(&[0]);
    let operator = net.operator();
    let signer = RelayerKey(operator.verification_key().to_bytes());
    let nonce = reader.account(&signer).await.expect("account").next_nonce;
    let tx = SignedTx::sign(
        &operator,
        &net.chain_id,
        nonce,
        &TxBody::Operator(OperatorMsg::RegisterRelayer {
            key: RelayerKey([7; 32]),
        }),
    );
    let started = Instant::now();
    let answer = adapter.submit_pending(&tx).await.expect("submitted");
    assert!(
        taken.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "the first broadcast went to the endpoint that drops it"
    );
    assert!(
        answer.height.is_some(),
        "the transaction the first endpoint lost is not in a block: {answer:?}"
    );
    assert!(
        matches!(answer.results[..], [adapters::wire::MsgResult::Ok { .. }]),
        "{answer:?}"
    );
    assert_eq!(
        reader.account(&signer).await.expect("account").next_nonce,
        nonce + 1,
        "executed once"
    );
    eprintln!(
        "lost, broadcast again, in a block after {:.1?}",
        started.elapsed()
    );
}

/// `portrelay operator connect` sets up a gba chain run under CometBFT
/// beside embedded ledgers: clients, the relayer's key and the channels
/// through the CometBFT adapter, and the other ledgers' eBL platform keys
/// as the operator's signed admin transactions (the application's data
/// directory has no admin token). Running it again changes nothing but
/// registers the keys again, at the next admin nonces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comet_operator_connect_sets_up_a_cometbft_gba_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gba_dir = dir.path().join("gba");
    std::fs::create_dir_all(&gba_dir).expect("gba dir");
    let gba = CometNet::start(&gba_dir, 1).await;
    let cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    let cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    let key_file = dir.path().join("relayer.key");
    new_key(&key_file, 0x32);
    let chains = vec![
        (
            "gba".to_string(),
            gba.chain_id.to_string(),
            vec![gba.endpoint(0)],
        ),
        (
            "cmport".to_string(),
            cmport.chain_id.to_string(),
            vec![format!("http://127.0.0.1:{}", cmport.port)],
        ),
        (
            "cosco".to_string(),
            cosco.chain_id.to_string(),
            vec![format!("http://127.0.0.1:{}", cosco.port)],
        ),
    ];
    let config = write_config(dir.path(), &key_file, &chains, None);
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "family = \"gba\"\n",
        "family = \"gba\"\nengine = \"cometbft\"\n",
    );
    std::fs::write(&config, text).expect("config");
    let dirs = [
        format!("{}={}", gba.chain_id, gba.nodes[0].app_dir.display()),
        format!("{}={}", cmport.chain_id, cmport.dir.display()),
        format!("{}={}", cosco.chain_id, cosco.dir.display()),
    ];
    let mut args = vec![
        "operator",
        "connect",
        "--config",
        config.to_str().expect("path"),
    ];
    for d in &dirs {
        args.extend(["--ledger-dir", d.as_str()]);
    }
    // The gba application's next admin nonce, read from the refusal of a
    // call at nonce 0 (or 0 itself when none was made).
    let next_admin_nonce = || async {
        let probe = AdminTx::sign(
            &gba.operator(),
            &gba.chain_id,
            0,
            AdminCall::EblPlatform {
                chain: cmport.chain_id.clone(),
                key: RelayerKey([7; 32]),
            },
        );
        let answer = gba.broadcast(0, &AbciTx::Admin(probe).encode()).await;
        let log = answer["log"].as_str().unwrap_or_default().to_string();
        assert!(log.contains("admin_nonce"), "{answer}");
        log.rsplit("the next is ")
            .next()
            .and_then(|n| n.trim_end_matches(['"', '}']).trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no next nonce in {log}"))
    };

    let (code, out, err) = portrelay(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "connected 3 ledgers: clients of each other, the relayer's keys, 18 channels, 6 eBL platform keys"
    );
    // cmport's and cosco's keys, as admin transactions 0 and 1.
    assert_eq!(next_admin_nonce().await, 2);
    let ledgers = [
        (gba.chain_id.clone(), gba.adapter(&[0])),
        (cmport.chain_id.clone(), cmport.adapter.clone()),
        (cosco.chain_id.clone(), cosco.adapter.clone()),
    ];
    let checked = check_chains(&ledgers).await.expect("channels");
    assert_eq!(checked.channels, 18, "{checked:?}");
    assert!(checked.mismatches.is_empty(), "{checked:?}");
    let gba_clients = gba.adapter(&[0]).clients().await.expect("gba clients");
    let mut of: Vec<String> = gba_clients.iter().map(|c| c.chain.to_string()).collect();
    of.sort();
    assert_eq!(of, ["cmport-1", "cosco-1"]);
    for host in [&cmport, &cosco] {
        let clients = host.adapter.clients().await.expect("clients");
        assert!(
            clients.iter().any(|c| c.chain == gba.chain_id),
            "{}: no client of {}",
            host.chain_id,
            gba.chain_id
        );
    }

    // Again: the same clients and channels; the keys registered once more.
    let (code, _, err) = portrelay(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(next_admin_nonce().await, 4);
    assert_eq!(check_chains(&ledgers).await.expect("channels").channels, 18);
    assert_eq!(gba.adapter(&[0]).clients().await.expect("clients").len(), 2);
}

/// Writes `key` as node `i`'s CometBFT validator key (its
/// `priv_validator_key.json`: address, public key, and the 64-byte private
/// key, seed then public key, as CometBFT v0.38 writes it).
fn write_validator_key(net: &CometNet, i: usize, key: &ed25519_consensus::SigningKey) {
    use base64::Engine;
    use sha2::Digest;
    let public = key.verification_key().to_bytes();
    let mut private = key.to_bytes().to_vec();
    private.extend_from_slice(&public);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let file = serde_json::json!({
        "address": hex::encode_upper(&sha2::Sha256::digest(public)[..20]),
        "pub_key": { "type": "tendermint/PubKeyEd25519", "value": b64(&public) },
        "priv_key": { "type": "tendermint/PrivKeyEd25519", "value": b64(&private) },
    });
    std::fs::write(
        net.nodes[i].home.join("config/priv_validator_key.json"),
        serde_json::to_string_pretty(&file).expect("key JSON"),
    )
    .expect("write priv_validator_key.json");
}

/// The operator's admin call `call` at `nonce`, broadcast to node 1 and
/// waited for: the height of its block.
async fn admin_call(net: &CometNet, nonce: u64, call: AdminCall, what: &str) -> u64 {
    let admin = AdminTx::sign(&net.operator(), &net.chain_id, nonce, call);
    let answer = net.broadcast(1, &AbciTx::Admin(admin).encode()).await;
    assert_eq!(answer["code"], 0, "{what}: the admin call: {answer}");
    let (height, _): (u64, Value) =
        tx_data(&net.wait_tx(1, answer["hash"].as_str().expect("hash")).await);
    height
}

/// The public keys of the validator set of block `height` (node 1's RPC).
async fn validator_keys(net: &CometNet, height: u64) -> Vec<RelayerKey> {
    use base64::Engine;
    let v = net
        .rpc(1, &format!("/validators?height={height}"))
        .await
        .expect("validators");
    v["validators"]
        .as_array()
        .expect("validators")
        .iter()
        .map(|v| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v["pub_key"]["value"].as_str().expect("pub_key"))
                .expect("base64");
            RelayerKey(bytes.try_into().expect("32 bytes"))
        })
        .collect()
}

/// A validator's key rotated through the application while relaying: a new
/// key joins the set (the operator's admin call), validator 3's node is
/// restarted signing with it, and its old key leaves (power 0). The gba
/// clients on cmport and cosco follow both changes, every packet arrives
/// exactly once, and the new key is seen to sign: with node 2 stopped
/// after the change, blocks go on only if node 3 signs with it (each
/// validator has power 1: the three running hold 3 of 4 votes with it, 2
/// without).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comet_relay_follows_a_validator_key_rotation() {
    let mut r = Relay::start().await;
    r.start_relayer((0..4).map(|i| r.gba.endpoint(i)).collect());
    let all = [0, 1, 2];
    let mut packets = r.round(&all, 2, 0).await;
    r.settle(packets, "before the rotation").await;

    // The new key joins at power 1, as every validator of `cometbft
    // testnet` (nonce 2: two eBL platforms before it); nobody signs with it
    // yet, and 4 of 5 votes still make blocks.
    let v = r.gba.rpc(1, "/validators").await.expect("validators");
    assert!(
        v["validators"]
            .as_array()
            .is_some_and(|s| s.len() == 4 && s.iter().all(|v| v["voting_power"] == "1")),
        "four validators of power 1 to begin with: {v}"
    );
    let old = r.gba.validator_key(3);
    let new = ed25519_consensus::SigningKey::from([0x77; 32]);
    let new_pub = RelayerKey(new.verification_key().to_bytes());
    let joined = admin_call(
        &r.gba,
        2,
        AdminCall::Validator {
            pub_key: new_pub,
            power: 1,
        },
        "the new key joins",
    )
    .await;
    r.gba.wait_height(1, joined + 3).await;
    let set = validator_keys(&r.gba, joined + 2).await;
    assert_eq!(set.len(), 5, "the new key is in the set of {}", joined + 2);
    assert!(set.contains(&new_pub) && set.contains(&old));
    packets += r.round(&all, 2, 100).await;
    r.settle(packets, "after the new key joined").await;

    // Validator 3's node signs with the new key from its restart on.
    r.gba.kill_node(3);
    write_validator_key(&r.gba, 3, &new);
    r.gba.start_node(3);
    let top = r.gba.height(1).await;
    r.gba.wait_height(3, top).await;
    assert_eq!(r.gba.validator_key(3), new_pub);

    // The old key leaves.
    let left = admin_call(
        &r.gba,
        3,
        AdminCall::Validator {
            pub_key: old,
            power: 0,
        },
        "the old key leaves",
    )
    .await;
    r.gba.wait_height(1, left + 3).await;
    let set = validator_keys(&r.gba, left + 2).await;
    assert_eq!(
        set.len(),
        4,
        "the old key is out of the set of {}",
        left + 2
    );
    assert!(set.contains(&new_pub) && !set.contains(&old));
    packets += r.round(&all, 2, 200).await;
    r.settle(packets, "after the old key left").await;
    r.clients_follow(left + 2, "the old key left").await;

    // The new key signs: node 2 stopped, nodes 0, 1 and 3 go on.
    r.gba.kill_node(2);
    let h = r.gba.height(0).await;
    r.gba.wait_height(0, h + 3).await;
    packets += r.round(&all, 2, 300).await;
    r.settle(packets, "with node 2 stopped after the rotation")
        .await;
}
