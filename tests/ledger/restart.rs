//! A ledger process stopped and started again keeps its blocks, state, keys
//! and channel sequences, and refuses bad input without losing any of it.

use crate::support::ledger::Ledger;
use adapters::chain::AdapterError;
use adapters::wire::{SubmitEvent, WIRE_VERSION};
use light_clients::any::FamilyName;
use light_clients::host::{OperatorMsg, RelayerKey, SignedTx, TxBody};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_blocks_state_keys_and_sequences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    let mut cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    let channel = cosco.cargo_channel_to(&cmport).await;
    let journey: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../docs/examples/events/journey.json"))
            .expect("journey");
    for event in &journey[..2] {
        let r = cosco
            .adapter
            .submit_event(&SubmitEvent {
                version: WIRE_VERSION,
                destination: cmport.chain_id.clone(),
                event: event.clone(),
                timeout_secs: None,
            })
            .await;
        r.expect("event accepted");
    }
    let next_send = |cs: Vec<light_clients::host::Channel>| {
        cs.into_iter()
            .find(|c| c.id == channel)
            .map(|c| c.next_send)
    };
    cosco
        .wait_for("the events sealed", || async {
            next_send(cosco.adapter.channels().await.unwrap_or_default()) == Some(3)
        })
        .await;
    let before_height = cosco.height().await;
    let genesis =
        serde_json::to_value(cosco.adapter.header(1).await.expect("genesis")).expect("json");
    let last = serde_json::to_value(cosco.adapter.header(before_height).await.expect("header"))
        .expect("json");

    cosco.stop();
    assert!(matches!(
        cosco.adapter.status().await,
        Err(AdapterError::Unavailable { .. })
    ));
    cosco.spawn().await;

    // Blocks: the same history, and it goes on from there.
    let after = cosco.height().await;
    assert!(after >= before_height);
    assert_eq!(
        serde_json::to_value(cosco.adapter.header(1).await.expect("genesis")).expect("json"),
        genesis
    );
    assert_eq!(
        serde_json::to_value(cosco.adapter.header(before_height).await.expect("header"))
            .expect("json"),
        last
    );
    cosco
        .wait_for("a new block", || async { cosco.height().await > after })
        .await;
    // Keys: new headers are signed by the same validator set.
    let vals =
        |v: serde_json::Value| v["value"]["signed_header"]["header"]["validators_hash"].clone();
    let newer =
        serde_json::to_value(cosco.adapter.header(after + 1).await.expect("header")).expect("json");
    assert_eq!(vals(newer), vals(last));
    // State: channel sequences, the client, the app records.
    assert_eq!(
        next_send(cosco.adapter.channels().await.expect("channels")),
        Some(3)
    );
    assert_eq!(
        cosco.adapter.clients().await.expect("clients")[0].chain,
        cmport.chain_id
    );
    let (status, record) =
        crate::support::ledger::get_json(cosco.port, "/v1/apps/cargo/containers/TCNU7200794").await;
    assert_eq!(status, 200);
    assert_eq!(record["history"].as_array().map(Vec::len), Some(2));
    // The operator's nonce carries on: the next operator transaction is accepted.
    cosco
        .operator_tx(OperatorMsg::CloseChannel {
            channel: channel.clone(),
        })
        .await;

    // Bad input is refused by name and changes nothing.
    let mut bad = journey[0].clone();
    bad["equipmentReference"] = "CSQU3054384".into();
    let refused = cosco
        .adapter
        .submit_event(&SubmitEvent {
            version: WIRE_VERSION,
            destination: cmport.chain_id.clone(),
            event: bad,
            timeout_secs: None,
        })
        .await;
    assert!(
        matches!(&refused, Err(AdapterError::Refused { status: 422, code, .. }) if code == "iso6346.check_digit"),
        "{refused:?}"
    );
    let refused = cosco
        .adapter
        .submit_event(&SubmitEvent {
            version: 9,
            destination: cmport.chain_id.clone(),
            event: journey[0].clone(),
            timeout_secs: None,
        })
        .await;
    assert!(
        matches!(&refused, Err(AdapterError::Refused { status: 400, code, .. }) if code == "version"),
        "{refused:?}"
    );
    let stranger = ed25519_consensus::SigningKey::from([9u8; 32]);
    let tx = SignedTx::sign(&stranger, &cosco.chain_id, 0, &TxBody::Relay(vec![]));
    let refused = cosco.adapter.submit(&tx).await;
    assert!(
        matches!(&refused, Err(AdapterError::Refused { status: 401, code, .. }) if code == "unregistered_key"),
        "{refused:?}"
    );
    let key = cosco.operator();
    let tx = SignedTx::sign(
        &key,
        &cosco.chain_id,
        999,
        &TxBody::Operator(OperatorMsg::RegisterRelayer {
            key: RelayerKey([1; 32]),
        }),
    );
    let refused = cosco.adapter.submit(&tx).await;
    assert!(
        matches!(&refused, Err(AdapterError::Refused { status: 409, code, .. }) if code == "nonce"),
        "{refused:?}"
    );
    assert_eq!(
        next_send(cosco.adapter.channels().await.expect("channels")),
        Some(3)
    );
}

/// A ledger killed (no final snapshot) resumes from its latest snapshot and
/// replays the blocks after it: with a snapshot every block (killed right
/// after one), every 7 blocks (killed several intervals in, mid-interval),
/// and none since genesis (every block replayed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_ledger_replays_the_blocks_after_its_snapshot() {
    let journey: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../docs/examples/events/journey.json"))
            .expect("journey");
    for every in [1u64, 7, 1_000_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
        let mut cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
        cosco.args = vec!["--snapshot-every".into(), every.to_string()];
        cosco.stop();
        cosco.spawn().await;
        let channel = cosco.cargo_channel_to(&cmport).await;
        // Events over more blocks than one interval of 7.
        let submit = |n: usize| {
            let mut event = journey[n % journey.len()].clone();
            event["eventID"] = format!("00000000-0000-4000-8000-{n:012}").into();
            SubmitEvent {
                version: WIRE_VERSION,
                destination: cmport.chain_id.clone(),
                event,
                timeout_secs: None,
            }
        };
        let mut n = 0;
        let start = cosco.height().await;
        while cosco.height().await < start + 16 {
            cosco
                .adapter
                .submit_event(&submit(n))
                .await
                .expect("event accepted");
            n += 1;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let sent = n as u64;
        let next_send = |cs: Vec<light_clients::host::Channel>| {
            cs.into_iter()
                .find(|c| c.id == channel)
                .map(|c| c.next_send)
        };
        cosco
            .wait_for("the events executed", || async {
                next_send(cosco.adapter.channels().await.unwrap_or_default()) == Some(sent + 1)
            })
            .await;
        // `/v1/channels` shows the block being built; the last event is
        // sealed once a block past the current tip is.
        let building = cosco.height().await + 1;
        cosco
            .wait_for("the events sealed", || async {
                cosco.height().await >= building
            })
            .await;
        let height = cosco.height().await;
        let last = serde_json::to_value(cosco.adapter.header(height).await.expect("header"))
            .expect("json");
        let (_, record) =
            crate::support::ledger::get_json(cosco.port, "/v1/apps/cargo/containers/TCNU7200794")
                .await;
        let operator = RelayerKey(cosco.operator().verification_key().to_bytes());
        let nonce = cosco.adapter.account(&operator).await.expect("account");

        cosco.kill();
        cosco.spawn().await;

        assert!(cosco.height().await >= height, "every {every}");
        assert_eq!(
            serde_json::to_value(cosco.adapter.header(height).await.expect("header"))
                .expect("json"),
            last,
            "every {every}"
        );
        assert_eq!(
            next_send(cosco.adapter.channels().await.expect("channels")),
            Some(sent + 1),
            "every {every}"
        );
        let (status, after) =
            crate::support::ledger::get_json(cosco.port, "/v1/apps/cargo/containers/TCNU7200794")
                .await;
        assert_eq!(status, 200);
        assert_eq!(after, record, "every {every}");
        assert_eq!(
            cosco.adapter.account(&operator).await.expect("account"),
            nonce,
            "every {every}"
        );
        // Each sent packet is still found where it was emitted.
        let first = light_clients::PacketId {
            channel: channel.clone(),
            sequence: 1,
        };
        cosco
            .adapter
            .packet_location(&first)
            .await
            .expect("packet 1 awaits its ack");
        // It goes on: the next event gets the next sequence, the operator's nonce is accepted.
        let r = cosco
            .adapter
            .submit_event(&submit(n))
            .await
            .expect("event accepted");
        assert_eq!(
            r.packet.map(|p| p.sequence),
            Some(sent + 1),
            "every {every}"
        );
        cosco
            .operator_tx(OperatorMsg::CloseChannel {
                channel: channel.clone(),
            })
            .await;
    }
}
