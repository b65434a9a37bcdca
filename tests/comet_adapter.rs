//! The CometBFT adapter (`engine = "cometbft"`) against real CometBFT
//! v0.38 nodes running the built-in kvstore: headers assembled from
//! `/commit` and `/validators` verify in the gba light client, unchanged;
//! a header of another chain, or with another height's commit, is
//! refused by name;
//! `/validators` is read page by page on a four-validator network.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adapters::chain::{AdapterConfig, AdapterError, ChainAdapter, ChainConfig, Engine, RpcPolicy};
use adapters::comet::CometAdapter;
use light_clients::any::{AnyClient, AnyHeader, FamilyName};
use light_clients::{App, ChainId, Timestamp};

use crate::support::comet_node::{CometNet, CometNode};
use crate::support::ledger::options;

fn config(chain_id: &str, endpoints: Vec<String>) -> AdapterConfig {
    AdapterConfig::new(
        FamilyName::Gba,
        ChainConfig {
            chain_id: ChainId::new(chain_id).unwrap(),
            endpoints,
            apps: App::ALL.to_vec(),
            trust_root: None,
            rpc: RpcPolicy::DEVNET,
            engine: Engine::Cometbft,
        },
    )
}

fn adapter(chain_id: &str, endpoints: Vec<String>) -> CometAdapter {
    CometAdapter::new(&config(chain_id, endpoints), None).unwrap()
}

fn now() -> Timestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    Timestamp::from_unix_nanos(d.as_nanos() as u64)
}

fn gba(header: &AnyHeader) -> &light_clients::verify::UntrustedBlock<light_clients::gba::Gba> {
    match header {
        AnyHeader::Gba(b) => b,
        other => panic!("a {} header from a CometBFT chain", other.family()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cometbft_headers_verify_in_the_gba_light_client() {
    let dir = tempfile::tempdir().unwrap();
    let node = CometNode::kvstore(dir.path(), "gba-comet-1").await;
    node.wait_height(8).await;

    // The registry builds the CometBFT adapter for `engine = "cometbft"`.
    let built =
        adapters::registry::build(&config("gba-comet-1", vec![node.rpc_url()]), None).unwrap();
    assert!(
        format!("{built:?}").starts_with("CometAdapter"),
        "{built:?}"
    );
    assert_eq!(built.family(), FamilyName::Gba);
    let a = adapter("gba-comet-1", vec![node.rpc_url()]);

    let tip = a.tip().await.unwrap();
    assert_eq!(tip.chain_id, "gba-comet-1");
    assert!(tip.height >= 8, "{tip:?}");

    // Eight headers: each of its height and chain, its sets the ones it
    // commits to, linked to the one before.
    let mut headers = Vec::new();
    for h in 1..=8u64 {
        let header = built.header(h).await.unwrap();
        let summary = header.checked_summary().unwrap();
        assert_eq!(summary.height, h);
        assert_eq!(summary.chain_id, "gba-comet-1");
        assert_eq!(gba(&header).validators.validators().len(), 1);
        if let Some(before) = headers.last().map(|h: &AnyHeader| h.summary().unwrap()) {
            assert_eq!(summary.previous_hash, Some(before.hash), "block {h}");
            assert!(summary.time > before.time, "block {h}");
        }
        headers.push(header);
    }

    // The gba light client, from a trust root the test read, verifies the
    // next header and then one four blocks ahead.
    let mut client = AnyClient::create(&headers[1].trust_root(), options()).unwrap();
    client.update(&headers[2], now()).unwrap();
    client.update(&headers[7], now()).unwrap();
    assert_eq!(client.latest_height(), 8);
    assert_eq!(client.chain_id(), "gba-comet-1");

    // A header carrying the commit of another height is refused by name.
    let mut mixed = headers[5].clone();
    if let AnyHeader::Gba(b) = &mut mixed {
        b.signed_header.commit = gba(&headers[4]).signed_header.commit.clone();
    }
    let e = client.update(&mixed, now()).unwrap_err();
    assert_eq!(e.check(), "commit", "{e}");

    // The header after the tip, waited for and verified.
    let tip = a.tip().await.unwrap().height;
    let next = a
        .next_header(tip, Duration::from_secs(60))
        .await
        .unwrap()
        .expect("a block within a minute");
    assert_eq!(next.summary().unwrap().height, tip + 1);
    client.update(&next, now()).unwrap();
    // Nothing far ahead within no wait.
    assert!(a
        .next_header(tip + 1_000_000, Duration::ZERO)
        .await
        .unwrap()
        .is_none());

    // A block not made yet is not found; block 0 does not exist.
    for h in [tip + 1_000_000, 0] {
        let e = a.header(h).await.unwrap_err();
        assert!(matches!(e, AdapterError::NotFound { .. }), "{h}: {e:?}");
    }

    // The kvstore is not portrelay's application: the status it lacks is
    // named, not made up.
    let e = a.status().await.unwrap_err();
    assert!(matches!(e, AdapterError::BadResponse { .. }), "{e:?}");
    assert!(e.to_string().contains("/v1/status"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_of_another_chain_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let ours = CometNode::kvstore(dir.path(), "gba-comet-1").await;
    let theirs = CometNode::kvstore(dir.path(), "gba-comet-2").await;
    ours.wait_height(3).await;
    theirs.wait_height(3).await;

    // An adapter of chain 1 pointed at chain 2's node refuses it.
    let confused = adapter("gba-comet-1", vec![theirs.rpc_url()]);
    let e = confused.tip().await.unwrap_err();
    assert!(
        e.to_string()
            .contains("serves CometBFT chain \"gba-comet-2\", not gba-comet-1"),
        "{e}"
    );
    let e = confused.header(2).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("the signed header is of chain \"gba-comet-2\""),
        "{e}"
    );

    // Chain 1's light client refuses chain 2's header, by name.
    let mut client = AnyClient::create(
        &adapter("gba-comet-1", vec![ours.rpc_url()])
            .header(1)
            .await
            .unwrap()
            .trust_root(),
        options(),
    )
    .unwrap();
    let foreign = adapter("gba-comet-2", vec![theirs.rpc_url()])
        .header(3)
        .await
        .unwrap();
    let e = client.update(&foreign, now()).unwrap_err();
    assert_eq!(e.check(), "chain_id", "{e}");
}

/// Four validators, `/validators` read one, three and a hundred to a page:
/// the same set each way, the one the header commits to; the headers
/// verify with four signatures; a dead first endpoint is failed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_are_read_page_by_page_on_a_four_validator_network() {
    let dir = tempfile::tempdir().unwrap();
    let net = CometNet::kvstore(dir.path(), "gba-comet-4", 4).await;
    net.nodes[0].wait_height(5).await;

    let endpoint = net.nodes[1].rpc_url();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let by_one = adapter("gba-comet-4", vec![dead, endpoint.clone()]).with_validators_per_page(1);
    let by_three = adapter("gba-comet-4", vec![endpoint.clone()]).with_validators_per_page(3);
    let whole = adapter("gba-comet-4", vec![endpoint]);

    let one = by_one.validator_set(4, None).await.unwrap();
    let three = by_three.validator_set(4, None).await.unwrap();
    let all = whole.validator_set(4, None).await.unwrap();
    assert_eq!(all.validators().len(), 4);
    assert_eq!(one.validators(), all.validators());
    assert_eq!(three.validators(), all.validators());
    assert_eq!(one.hash(), all.hash());

    let header = by_one.header(4).await.unwrap();
    let summary = header.checked_summary().unwrap();
    assert_eq!(summary.validators_hash.0.as_slice(), all.hash().as_bytes());
    assert_eq!(gba(&header).signed_header.commit.signatures.len(), 4);

    let mut client =
        AnyClient::create(&by_one.header(2).await.unwrap().trust_root(), options()).unwrap();
    client
        .update(&by_one.header(3).await.unwrap(), now())
        .unwrap();
    client.update(&header, now()).unwrap();
    client
        .update(&by_three.header(5).await.unwrap(), now())
        .unwrap();
    assert_eq!(client.latest_height(), 5);
}

/// A broadcast over the node's `[rpc] max_body_bytes` is answered by
/// CometBFT with a bare HTTP 400; the adapter names it too large (413
/// `body_too_large`, so a relayer halves its batch rather than resending
/// it), while a small transaction reaches CheckTx and gets its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_over_the_nodes_body_limit_is_too_large_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = CometNode::kvstore(dir.path(), "gba-comet-1").await;
    node.kill();
    node.edit_config(&[("rpc", "max_body_bytes", "4000".to_string())]);
    node.start().await;
    let a = adapter("gba-comet-1", vec![node.rpc_url()]);
    let event = |note: String| adapters::wire::SubmitEvent {
        version: adapters::wire::WIRE_VERSION,
        destination: ChainId::new("cmport-1").unwrap(),
        event: serde_json::json!({ "eventType": "EQUIPMENT", "note": note }),
        timeout_secs: None,
    };
    match a.submit_event(&event("x".repeat(8_000))).await {
        Err(AdapterError::Refused {
            status,
            code,
            message,
            ..
        }) => {
            assert_eq!(
                (status, code.as_str()),
                (413, "body_too_large"),
                "{message}"
            );
            assert!(message.contains("max_body_bytes"), "{message}");
        }
        other => panic!("an 8 kB broadcast to a node taking 4,000 bytes: {other:?}"),
    }
    // A small one is not too large: kvstore's CheckTx refuses its format,
    // named as a refusal that is not portrelay's application's.
    let small = a.submit_event(&event("x".into())).await.unwrap_err();
    assert!(
        small.to_string().contains("not by portrelay's application"),
        "{small}"
    );
}

/// An operator transaction sent through the adapter and waited for.
async fn operator_submit(
    a: &CometAdapter,
    key: &ed25519_consensus::SigningKey,
    msg: light_clients::host::OperatorMsg,
) -> adapters::wire::TxResponse {
    use light_clients::host::{RelayerKey, SignedTx, TxBody};
    let signer = RelayerKey(key.verification_key().to_bytes());
    let nonce = a.account(&signer).await.unwrap().next_nonce;
    let tx = SignedTx::sign(key, a.chain_id(), nonce, &TxBody::Operator(msg));
    let r = a.submit(&tx).await.unwrap();
    assert!(r.height.is_some(), "not committed: {r:?}");
    assert!(
        matches!(r.results[0], adapters::wire::MsgResult::Ok { .. }),
        "{r:?}"
    );
    r
}

/// The adapter against portrelay's gba application under a CometBFT
/// validator: its status, operator transactions submitted and waited
/// for, a stale nonce refused by `CheckTx` with the host's check, an event
/// submitted, located and read back with its proof, which the gba light
/// client verifies against the header the adapter assembled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_submits_to_and_reads_from_the_gba_application() {
    use light_clients::host::{BlockEvent, OperatorMsg, RelayerKey, SignedTx, TxBody};
    use light_clients::{ChannelId, Roots};

    let dir = tempfile::tempdir().unwrap();
    let net = crate::support::comet::CometNet::start(dir.path(), 1).await;
    net.wait_height(0, 2).await;
    let a = adapter(
        net.chain_id.as_str(),
        vec![format!("http://127.0.0.1:{}", net.nodes[0].rpc_port)],
    );
    let operator = net.operator();
    let status = a.status().await.unwrap();
    assert_eq!(status.chain_id, net.chain_id);
    assert_eq!(status.family, FamilyName::Gba);
    assert_eq!(
        status.operator,
        RelayerKey(operator.verification_key().to_bytes())
    );
    assert!(status.height >= 2, "{status:?}");

    // A client of a sample cosco peer and a cargo channel to it.
    let peer: ChainId = "cosco-sample".parse().unwrap();
    let root = {
        use light_clients::any::IntoAny;
        use light_clients::cosco::Cosco;
        use light_clients::sample::{self, BlockFields, Signing};
        let keys = sample::keys::<Cosco>(7, 4);
        let set = Cosco::validator_set(&keys);
        let fields = BlockFields::<Cosco> {
            chain_id: peer.as_str(),
            height: 1,
            time: now(),
            previous: light_clients::Hash32::ZERO,
            roots: Roots::empty(<Cosco as light_clients::verify::Family>::TREE_HASH),
            validators: &set,
            next_validators: &set,
        };
        Cosco::any_header(sample::block(&fields, &keys)).trust_root()
    };
    operator_submit(
        &a,
        &operator,
        OperatorMsg::CreateClient {
            root,
            options: options(),
        },
    )
    .await;
    let channel = ChannelId {
        source: net.chain_id.clone(),
        destination: peer.clone(),
        app: App::Cargo,
    };
    operator_submit(
        &a,
        &operator,
        OperatorMsg::OpenChannel {
            channel: channel.clone(),
            version: "cargo-1".into(),
        },
    )
    .await;
    assert!(a.channels().await.unwrap().iter().any(|c| c.id == channel));
    assert!(a.clients().await.unwrap().iter().any(|c| c.chain == peer));

    // A nonce already used: CheckTx refuses it, by the host's check.
    let stale = SignedTx::sign(
        &operator,
        &net.chain_id,
        0,
        &TxBody::Operator(OperatorMsg::OpenChannel {
            channel: channel.clone(),
            version: "cargo-1".into(),
        }),
    );
    match a.submit_pending(&stale).await.unwrap_err() {
        AdapterError::Refused { code, .. } => assert_eq!(code, "nonce"),
        other => panic!("{other:?}"),
    }

    // An event: its packet, where it was sent, its proof.
    let journey: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../docs/examples/events/journey.json")).unwrap();
    let mut event = journey[0].clone();
    event["eventID"] = "00000000-0000-4000-8000-00000000c0de".into();
    let submitted = a
        .submit_event(&adapters::wire::SubmitEvent {
            version: adapters::wire::WIRE_VERSION,
            destination: peer.clone(),
            event,
            timeout_secs: None,
        })
        .await
        .unwrap();
    let packet = submitted.packet.expect("a packet to the peer");
    assert_eq!(packet.channel, channel);
    let height = a.packet_location(&packet).await.unwrap().height;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let events = loop {
        match a.block_events(height).await {
            Ok(events) => break events,
            Err(e) if e.is_transient() && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("block {height}'s events: {e}"),
        }
    };
    assert_eq!(events.proof_height, height + 1);
    let proven = events
        .events
        .iter()
        .find(|e| matches!(&e.event, BlockEvent::Packet { packet: p } if p.id == packet))
        .expect("the packet in its block");
    let mut client =
        AnyClient::create(&a.header(1).await.unwrap().trust_root(), options()).unwrap();
    client
        .update(&a.header(height + 1).await.unwrap(), now())
        .unwrap();
    client
        .verify_event(
            height + 1,
            now(),
            proven.proof.opening.as_ref(),
            &proven.event.leaf(),
            &proven.proof.proof,
        )
        .expect("the event's proof verifies against the header the adapter assembled");
}
