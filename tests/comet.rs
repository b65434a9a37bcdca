//! The gba ledger as an ABCI application under real CometBFT validators
//! (`portledger --engine cometbft`, `docs/cometbft.md`): four validators on
//! loopback (`support::comet`), read through CometBFT's RPC only.
//!
//! Fails naming `scripts/cometbft` when `cometbft` is missing.

use std::time::{Duration, Instant};

use adapters::abci::{AbciTx, AdminCall, AdminTx};
use adapters::wire::{BlockEvents, BlockState, SubmitEvent, SubmittedEvent, TxResponse};
use light_clients::client::{ClientState, TrustRoot};
use light_clients::gba::Gba;
use light_clients::host::{OperatorMsg, RelayerKey, SignedTx, TxBody};
use light_clients::verify::UntrustedBlock;
use light_clients::{App, ChainId, ChannelId, Roots, Timestamp};
use serde_json::Value;

use crate::support::comet::{CometNet, DEADLINE};

/// The counterparty the gba chain's channel leads to: a client from a
/// sample cosco header (no cosco ledger runs; packets only leave).
const PEER: &str = "cosco-sample";

fn now() -> Timestamp {
    devnet::clock::now()
}

fn peer_root() -> light_clients::any::AnyTrustRoot {
    use light_clients::any::IntoAny;
    use light_clients::cosco::Cosco;
    use light_clients::sample::{self, BlockFields, Signing};
    let keys = sample::keys::<Cosco>(7, 4);
    let set = Cosco::validator_set(&keys);
    let fields = BlockFields::<Cosco> {
        chain_id: PEER,
        height: 1,
        time: now(),
        previous: light_clients::Hash32::ZERO,
        roots: Roots::empty(<Cosco as light_clients::verify::Family>::TREE_HASH),
        validators: &set,
        next_validators: &set,
    };
    Cosco::any_header(sample::block(&fields, &keys)).trust_root()
}

/// Broadcasts `tx` at node `i`, asserts CheckTx took it, waits for its
/// block: the `/tx` result.
async fn deliver(net: &CometNet, i: usize, tx: &AbciTx) -> Value {
    let r = net.broadcast(i, &tx.encode()).await;
    assert_eq!(r["code"], 0, "CheckTx refused {tx:?}: {r}");
    let hash = r["hash"].as_str().expect("hash").to_string();
    net.wait_tx(i, &hash).await
}

fn data<T: serde::de::DeserializeOwned>(tx: &Value) -> T {
    use base64::Engine;
    let result = &tx["tx_result"];
    assert_eq!(result["code"], 0, "tx refused in its block: {tx}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(result["data"].as_str().unwrap_or(""))
        .expect("base64 data");
    serde_json::from_slice(&bytes).expect("tx data json")
}

fn tx_height(tx: &Value) -> u64 {
    tx["height"]
        .as_str()
        .and_then(|h| h.parse().ok())
        .expect("tx height")
}

/// The operator's next nonce, read through `abci_query`.
async fn operator_nonce(net: &CometNet) -> u64 {
    let key = RelayerKey(net.operator().verification_key().to_bytes());
    let (code, account) = net.query(0, &format!("/v1/accounts/{key}")).await;
    assert_eq!(code, 0, "{account}");
    account["next_nonce"].as_u64().expect("next_nonce")
}

async fn operator_tx(net: &CometNet, msg: OperatorMsg) -> TxResponse {
    let nonce = operator_nonce(net).await;
    let tx = SignedTx::sign(
        &net.operator(),
        &net.chain_id,
        nonce,
        &TxBody::Operator(msg),
    );
    let r: TxResponse = data(&deliver(net, 0, &AbciTx::Signed(tx)).await);
    assert!(
        matches!(r.results[0], adapters::wire::MsgResult::Ok { .. }),
        "{:?}",
        r.results
    );
    r
}

/// A client of the sample peer and a cargo channel to it.
async fn open_channel(net: &CometNet) -> ChannelId {
    operator_tx(
        net,
        OperatorMsg::CreateClient {
            root: peer_root(),
            options: crate::support::ledger::options(),
        },
    )
    .await;
    let channel = ChannelId {
        source: net.chain_id.clone(),
        destination: PEER.parse().expect("chain id"),
        app: App::Cargo,
    };
    operator_tx(
        net,
        OperatorMsg::OpenChannel {
            channel: channel.clone(),
            version: "cargo-1".into(),
        },
    )
    .await;
    channel
}

/// The `n`th cargo event (the journey's first, with its own id).
fn cargo_event(n: u64) -> SubmitEvent {
    let journey: Vec<Value> =
        serde_json::from_str(include_str!("../docs/examples/events/journey.json"))
            .expect("journey");
    let mut event = journey[0].clone();
    event["eventID"] = Value::String(format!("00000000-0000-4000-8000-{n:012x}"));
    SubmitEvent {
        version: adapters::wire::WIRE_VERSION,
        destination: PEER.parse().expect("chain id"),
        event,
        timeout_secs: None,
    }
}

/// Node `i`'s application's roots of block `height`, through `abci_query`.
/// A node's `/status` height counts a block once it is stored, which is
/// before its application has committed it: a 409 `not_yet_provable` is
/// asked again (polled, within the network's deadline).
async fn roots(net: &CometNet, i: usize, height: u64) -> Roots {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let (code, state) = net.query(i, &format!("/v1/blocks/{height}/state")).await;
        if code == 409 && state["code"] == "not_yet_provable" && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(code, 0, "node {i} block {height}: {state}");
        let state: BlockState = serde_json::from_value(state).expect("block state");
        return state.roots;
    }
}

/// Every block 1..`to`: header h+1's `app_hash` at node 0 is the hash of
/// node `i`'s application's roots of block h.
async fn assert_roots_committed(net: &CometNet, i: usize, to: u64) {
    for h in 1..to {
        let r = roots(net, i, h).await;
        let committed = net.app_hash(0, h + 1).await;
        assert_eq!(
            committed,
            hex::encode_upper(r.app_hash().0),
            "node {i}'s roots of block {h} are not what header {} commits",
            h + 1
        );
    }
}

/// The signed header and validator sets CometBFT's RPC serves for `height`.
async fn untrusted(net: &CometNet, i: usize, height: u64) -> UntrustedBlock<Gba> {
    let commit = net
        .rpc(i, &format!("/commit?height={height}"))
        .await
        .expect("commit");
    let signed_header: tendermint::block::signed_header::SignedHeader =
        serde_json::from_value(commit["signed_header"].clone()).expect("signed header");
    let set = |h: u64| async move {
        let v = net
            .rpc(i, &format!("/validators?height={h}&per_page=100"))
            .await
            .expect("validators");
        let infos: Vec<tendermint::validator::Info> =
            serde_json::from_value(v["validators"].clone()).expect("validator infos");
        tendermint::validator::Set::without_proposer(infos)
    };
    UntrustedBlock {
        signed_header,
        validators: set(height).await,
        next_validators: set(height + 1).await,
    }
}

fn priv_validator_key(net: &CometNet, i: usize) -> RelayerKey {
    use base64::Engine;
    let path = net.nodes[i].home.join("config/priv_validator_key.json");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("key file")).expect("key json");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v["pub_key"]["value"].as_str().expect("pub_key"))
        .expect("base64");
    RelayerKey(bytes.try_into().expect("32 bytes"))
}

/// Blocks commit the application's roots; an event broadcast to one
/// validator is in a block and proven, through `abci_query`, against the
/// next header as the gba light client verifies it from `/commit` and
/// `/validators`; CheckTx refusals name the host's check and never reach a
/// block; an operator's admin transaction changes the validator set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comet_blocks_commit_roots_events_are_proven_check_tx_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = CometNet::start(dir.path(), 4).await;
    let channel = open_channel(&net).await;

    // An event, broadcast to validator 1, sent in a packet.
    let tx = deliver(&net, 1, &AbciTx::Event(cargo_event(1))).await;
    let height = tx_height(&tx);
    let submitted: SubmittedEvent = data(&tx);
    let packet = submitted.packet.expect("a packet to the peer");
    assert_eq!(packet.channel, channel);

    // Its proof, from another validator's application, against header height+1.
    net.wait_height(2, height + 2).await;
    let (code, events) = net.query(2, &format!("/v1/blocks/{height}/events")).await;
    assert_eq!(code, 0, "{events}");
    let events: BlockEvents = serde_json::from_value(events).expect("block events");
    assert_eq!(events.proof_height, height + 1);
    // A query at an earlier height is refused by name, not answered from
    // the latest state.
    let old = net
        .rpc(
            2,
            &format!("/abci_query?path=%22/v1/blocks/{height}/events%22&height=1"),
        )
        .await
        .expect("abci_query");
    assert_eq!(old["response"]["code"], 400, "{old}");
    assert!(
        old["response"]["log"]
            .as_str()
            .is_some_and(|l| l.contains("\"query_height\"")),
        "{old}"
    );
    let proven = events
        .events
        .iter()
        .find(|e| matches!(&e.event, light_clients::host::BlockEvent::Packet { packet: p } if p.id == packet))
        .unwrap_or_else(|| panic!("{packet} not in block {height}: {events:?}"));
    let root = untrusted(&net, 3, 2).await;
    let mut client = ClientState::<Gba>::create(
        &TrustRoot {
            signed_header: root.signed_header,
            next_validators: root.next_validators,
            validators: Some(root.validators),
        },
        crate::support::ledger::options(),
    )
    .expect("trust root from CometBFT's header 2");
    client
        .update(&untrusted(&net, 3, height + 1).await, now())
        .expect("the light client verifies CometBFT's header");
    let opening = proven
        .proof
        .opening
        .expect("a gba proof carries its opening");
    client
        .verify_event(
            height + 1,
            now(),
            Some(&opening),
            &proven.event.leaf(),
            &proven.proof.proof,
        )
        .expect("the event's proof verifies against the light client");
    let mut forged = opening;
    forged.events.count += 1;
    assert!(client
        .verify_event(
            height + 1,
            now(),
            Some(&forged),
            &proven.event.leaf(),
            &proven.proof.proof
        )
        .is_err());

    // Every block's roots, at every validator, are what the next header commits.
    let tip = net.height(0).await;
    for i in 0..4 {
        assert_roots_committed(&net, i, tip.min(height + 2)).await;
    }

    // Refusals by CheckTx: named, and never in a block.
    let used = SignedTx::sign(
        &net.operator(),
        &net.chain_id,
        0,
        &TxBody::Operator(OperatorMsg::RegisterRelayer {
            key: RelayerKey([3; 32]),
        }),
    );
    let mut unknown = cargo_event(2);
    unknown.destination = ChainId::new("nowhere").expect("chain id");
    let cases: [(Vec<u8>, &str); 3] = [
        (AbciTx::Signed(used).encode(), "nonce"),
        (vec![9, 9, 9], "malformed_tx"),
        (AbciTx::Event(unknown).encode(), "unknown_channel"),
    ];
    let mut hashes = Vec::new();
    for (bytes, check) in &cases {
        let r = net.broadcast(0, bytes).await;
        assert_ne!(
            r["code"], 0,
            "CheckTx took a tx it must refuse ({check}): {r}"
        );
        assert_eq!(r["codespace"], "portrelay", "{r}");
        let log: Value = serde_json::from_str(r["log"].as_str().expect("log")).expect("log json");
        assert_eq!(log["code"], *check, "{r}");
        hashes.push(r["hash"].as_str().expect("hash").to_string());
    }
    let after = net.height(0).await;
    net.wait_height(0, after + 3).await;
    for hash in &hashes {
        let r = net.rpc(0, &format!("/tx?hash=0x{hash}")).await;
        assert!(r.is_err(), "a refused tx reached a block: {r:?}");
    }

    // An admin call by the operator: validator 3's power becomes 20.
    let key = priv_validator_key(&net, 3);
    let admin = AdminTx::sign(
        &net.operator(),
        &net.chain_id,
        0,
        AdminCall::Validator {
            pub_key: key,
            power: 20,
        },
    );
    let at = tx_height(&deliver(&net, 0, &AbciTx::Admin(admin)).await);
    // In force two blocks later (CometBFT's rule); every node's /validators says so.
    net.wait_height(0, at + 3).await;
    for i in 0..4 {
        let v = net
            .rpc(i, &format!("/validators?height={}", at + 2))
            .await
            .expect("validators");
        let powers: Vec<&str> = v["validators"]
            .as_array()
            .expect("validators")
            .iter()
            .map(|v| v["voting_power"].as_str().unwrap_or(""))
            .collect();
        assert!(powers.contains(&"20"), "node {i} at {}: {powers:?}", at + 2);
    }
    // Another call with the used nonce is refused by it.
    let reused = AdminTx::sign(
        &net.operator(),
        &net.chain_id,
        0,
        AdminCall::Validator {
            pub_key: key,
            power: 30,
        },
    );
    let r = net.broadcast(0, &AbciTx::Admin(reused).encode()).await;
    assert_ne!(r["code"], 0, "{r}");
    assert!(
        r["log"].as_str().unwrap_or("").contains("admin_nonce"),
        "{r}"
    );
    // The light client follows the new set: to the last header of the old
    // one, then header by header (adjacent: the old set named the new one as
    // next; the new set alone signs a quorum of it, too few of the old for a skip).
    net.wait_height(1, at + 4).await;
    for h in [at + 1, at + 2, at + 3] {
        client
            .update(&untrusted(&net, 1, h).await, now())
            .unwrap_or_else(|e| {
                panic!("the light client verifies header {h} across the change: {e:?}")
            });
    }
}

/// A validator's node and application killed with SIGKILL while the chain
/// moves on, then restarted: the chain catches it up (CometBFT replays what
/// its application missed), and its application's roots at every height
/// equal those of a validator that never stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comet_node_killed_and_restarted_replays_to_equal_roots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = CometNet::start(dir.path(), 4).await;
    open_channel(&net).await;
    for n in 0..3 {
        deliver(&net, 0, &AbciTx::Event(cargo_event(100 + n))).await;
    }
    net.kill_node(3);
    for n in 3..8 {
        deliver(&net, 0, &AbciTx::Event(cargo_event(100 + n))).await;
    }
    let target = net.height(0).await;
    net.start_node(3);
    // Block `target`'s roots are queried once header target + 1 commits
    // them, at both nodes.
    net.wait_height(3, target + 1).await;
    net.wait_height(0, target + 1).await;
    for h in 1..=target {
        assert_eq!(
            roots(&net, 3, h).await,
            roots(&net, 0, h).await,
            "block {h}: the restarted application's roots differ"
        );
    }
    assert_roots_committed(&net, 3, target).await;
    // And it keeps up: an event after the restart, sent to the restarted validator.
    let tx = deliver(&net, 3, &AbciTx::Event(cargo_event(200))).await;
    let h = tx_height(&tx);
    // Both nodes past the block (its roots are queried once the next
    // header commits them): each node reaches it in its own time.
    net.wait_height(3, h + 1).await;
    net.wait_height(1, h + 1).await;
    assert_eq!(roots(&net, 3, h).await, roots(&net, 1, h).await);
}

/// One validator of four stopped: blocks go on. Two stopped: no block;
/// an event broadcast meanwhile waits; one back: blocks resume and the
/// event is in one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comet_one_of_four_stopped_continues_two_stopped_halts_and_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = CometNet::start(dir.path(), 4).await;
    open_channel(&net).await;

    net.kill_node(3);
    let h = net.height(0).await;
    net.wait_height(0, h + 3).await;

    net.kill_node(2);
    // Halted: the height stops moving (a block in flight may still land):
    // unchanged for 5 s, polled.
    let deadline = Instant::now() + DEADLINE;
    let mut last = net.height(0).await;
    let mut still_since = Instant::now();
    while still_since.elapsed() < Duration::from_secs(5) {
        assert!(
            Instant::now() < deadline,
            "the chain did not halt with two of four stopped"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let h = net.height(0).await;
        if h != last {
            last = h;
            still_since = Instant::now();
        }
    }
    let halted = net.height(0).await;
    // An event broadcast while halted: CheckTx takes it into the mempool.
    let r = net
        .broadcast(0, &AbciTx::Event(cargo_event(300)).encode())
        .await;
    assert_eq!(r["code"], 0, "{r}");
    let hash = r["hash"].as_str().expect("hash").to_string();
    for i in [0, 1] {
        assert_eq!(
            net.height(i).await,
            halted,
            "node {i} made a block with two of four stopped"
        );
    }

    net.start_node(2);
    net.wait_height(0, halted + 2).await;
    let tx = net.wait_tx(0, &hash).await;
    let submitted: SubmittedEvent = data(&tx);
    assert!(submitted.packet.is_some());
    let top = net.height(0).await;
    net.wait_height(2, top).await;
    for h in 1..top {
        assert_eq!(
            roots(&net, 2, h).await,
            roots(&net, 0, h).await,
            "block {h}"
        );
    }
    assert_roots_committed(&net, 1, top).await;
}
