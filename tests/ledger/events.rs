//! `POST /v1/events/batch` on a real ledger: every event answered in order,
//! a refused one not stopping the others, and the limits refused by name.

use crate::support::ledger::Ledger;
use adapters::chain::AdapterError;
use adapters::wire::{SubmitEvent, SubmittedItem, MAX_EVENT_BATCH, WIRE_VERSION};
use light_clients::any::FamilyName;
use light_clients::ChainId;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_answers_every_event_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    let cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    let channel = cosco.cargo_channel_to(&cmport).await;
    let journey: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../docs/examples/events/journey.json"))
            .expect("journey");
    let event = |n: usize, destination: &ChainId| {
        let mut e = journey[n % journey.len()].clone();
        e["eventID"] = format!("00000000-0000-4000-8000-{n:012}").into();
        SubmitEvent {
            version: WIRE_VERSION,
            destination: destination.clone(),
            event: e,
            timeout_secs: None,
        }
    };
    let mut bad_digit = event(1, &cmport.chain_id);
    bad_digit.event["equipmentReference"] = "CSQU3054384".into();
    let nowhere = ChainId::new("gba-9").expect("chain id");
    let batch = vec![
        event(0, &cmport.chain_id),
        bad_digit,
        event(2, &nowhere),
        event(3, &cmport.chain_id),
    ];
    let answer = cosco
        .adapter
        .submit_events(&batch)
        .await
        .expect("batch answered");
    assert_eq!(answer.results.len(), 4);
    let sequence = |item: &SubmittedItem| match item {
        SubmittedItem::Submitted(s) => s.packet.as_ref().map(|p| p.sequence),
        SubmittedItem::Refused(r) => panic!("refused: {r:?}"),
    };
    assert_eq!(sequence(&answer.results[0]), Some(1));
    assert!(
        matches!(&answer.results[1], SubmittedItem::Refused(r)
            if r.index == 1 && r.status == 422 && r.code == "iso6346.check_digit"),
        "{:?}",
        answer.results[1]
    );
    assert!(
        matches!(&answer.results[2], SubmittedItem::Refused(r)
            if r.index == 2 && r.status == 400 && r.code == "unknown_channel"),
        "{:?}",
        answer.results[2]
    );
    assert_eq!(sequence(&answer.results[3]), Some(2));

    // An item that is not a SubmitEvent is refused at its index; the others run.
    let mut items = vec![
        serde_json::to_value(event(4, &cmport.chain_id)).expect("json"),
        serde_json::json!({"version": 1, "event": {}}),
        serde_json::to_value(event(5, &cmport.chain_id)).expect("json"),
    ];
    let body = serde_json::json!({"version": 1, "events": items});
    let (status, answer) =
        crate::support::ledger::post_json(cosco.port, "/v1/events/batch", None, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][0]["packet"]["sequence"], 3);
    assert_eq!(answer["results"][1]["index"], 1);
    assert_eq!(answer["results"][1]["code"], "malformed_request");
    assert_eq!(answer["results"][2]["packet"]["sequence"], 4);

    // Limits: too many events, another batch version; nothing of either runs.
    items = (0..=MAX_EVENT_BATCH)
        .map(|n| serde_json::to_value(event(100 + n, &cmport.chain_id)).expect("json"))
        .collect();
    let body = serde_json::json!({"version": 1, "events": items});
    let (status, answer) =
        crate::support::ledger::post_json(cosco.port, "/v1/events/batch", None, &body).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["code"], "too_many_events");
    let body = serde_json::json!({"version": 9, "events": [event(6, &cmport.chain_id)]});
    let (status, answer) =
        crate::support::ledger::post_json(cosco.port, "/v1/events/batch", None, &body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["code"], "version");
    let refused = cosco
        .adapter
        .submit_events(&vec![event(7, &cmport.chain_id); MAX_EVENT_BATCH + 1])
        .await;
    assert!(
        matches!(&refused, Err(AdapterError::Refused { status: 400, message, .. }) if message.contains("not sent")),
        "{refused:?}"
    );
    cosco
        .wait_for("the accepted events sealed", || async {
            cosco
                .adapter
                .channels()
                .await
                .unwrap_or_default()
                .into_iter()
                .any(|c| c.id == channel && c.next_send == 5)
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_advertises_the_largest_transaction_body() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    let status = cosco.adapter.status().await.expect("status");
    assert_eq!(status.max_tx_bytes, Some(devnet::rpc::max_tx_bytes()));
    assert_eq!(
        devnet::rpc::max_tx_bytes(),
        light_clients::host::MAX_TX_BODY_BYTES as u64,
        "the host's limit is the binding one today"
    );
}
