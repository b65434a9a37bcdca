//! Durable answers (`docs/profiles/rpc.md`, "Writes"): a ledger answers an
//! event only once the block holding it is sealed, so a SIGKILL right after
//! the answers loses none of them and never hands an answered sequence to
//! another event.

use std::collections::BTreeMap;

use crate::support::ledger::Ledger;
use adapters::wire::{SubmitEvent, SubmittedItem, WIRE_VERSION};
use light_clients::any::FamilyName;
use light_clients::host::BlockEvent;
use light_clients::{ChainId, ChannelId, PacketId};

fn journey_event(n: usize, destination: &ChainId) -> SubmitEvent {
    let journey: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../docs/examples/events/journey.json"))
            .expect("journey");
    let mut e = journey[n % journey.len()].clone();
    e["eventID"] = format!("00000000-0000-4000-8000-{n:012}").into();
    SubmitEvent {
        version: WIRE_VERSION,
        destination: destination.clone(),
        event: e,
        timeout_secs: None,
    }
}

fn event_id(req: &SubmitEvent) -> String {
    req.event["eventID"].as_str().expect("eventID").to_string()
}

/// The `eventID` a sealed packet carries, read back from its block.
async fn sealed_event_id(ledger: &Ledger, channel: &ChannelId, sequence: u64) -> String {
    let id = PacketId {
        channel: channel.clone(),
        sequence,
    };
    let location = ledger
        .adapter
        .packet_location(&id)
        .await
        .unwrap_or_else(|e| panic!("packet {sequence} after the restart: {e}"));
    let block = ledger
        .adapter
        .block_events(location.height)
        .await
        .unwrap_or_else(|e| panic!("block {}: {e}", location.height));
    let packet = block
        .events
        .iter()
        .find_map(|e| match &e.event {
            BlockEvent::Packet { packet } if packet.id == id => Some(packet),
            _ => None,
        })
        .unwrap_or_else(|| panic!("block {} does not hold packet {sequence}", location.height));
    let payload: serde_json::Value =
        serde_json::from_slice(&packet.payload).expect("a cargo packet carries the event's JSON");
    payload["eventID"].as_str().expect("eventID").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_events_survive_a_sigkill_with_their_sequences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    let mut cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    let channel = cosco.cargo_channel_to(&cmport).await;

    // Answered sequence -> the eventID the client sent with it.
    let mut answered: BTreeMap<u64, String> = BTreeMap::new();
    for n in 0..3 {
        let req = journey_event(n, &cmport.chain_id);
        let answer = cosco.adapter.submit_event(&req).await.expect("event");
        let packet = answer.packet.expect("a packet to cmport");
        answered.insert(packet.sequence, event_id(&req));
    }
    let batch: Vec<SubmitEvent> = (3..40)
        .map(|n| journey_event(n, &cmport.chain_id))
        .collect();
    let answer = cosco.adapter.submit_events(&batch).await.expect("batch");
    for (req, item) in batch.iter().zip(&answer.results) {
        match item {
            SubmittedItem::Submitted(s) => {
                let packet = s.packet.as_ref().expect("a packet to cmport");
                answered.insert(packet.sequence, event_id(req));
            }
            SubmittedItem::Refused(r) => panic!("refused: {r:?}"),
        }
    }
    // Unanswered events in flight when the ledger dies may be lost; the
    // answered ones above may not.
    let in_flight = {
        let adapter = cosco.adapter.clone();
        let late: Vec<SubmitEvent> = (40..60)
            .map(|n| journey_event(n, &cmport.chain_id))
            .collect();
        tokio::spawn(async move {
            let _ = adapter.submit_events(&late).await;
        })
    };
    cosco.kill();
    let _ = in_flight.await;
    assert_eq!(answered.len(), 40, "every answer a distinct sequence");

    cosco.spawn().await;
    for (sequence, event_id) in &answered {
        let sealed = sealed_event_id(&cosco, &channel, *sequence).await;
        assert_eq!(
            sealed, *event_id,
            "sequence {sequence} carries another event after the restart"
        );
    }

    // New events get new sequences: none of the answered ones is reused.
    let highest = *answered.keys().last().expect("answers");
    let req = journey_event(100, &cmport.chain_id);
    let fresh = cosco
        .adapter
        .submit_event(&req)
        .await
        .expect("event after the restart")
        .packet
        .expect("a packet to cmport");
    assert!(
        fresh.sequence > highest,
        "sequence {} reused after the restart (answered up to {highest})",
        fresh.sequence
    );
    assert_eq!(
        sealed_event_id(&cosco, &channel, fresh.sequence).await,
        event_id(&req)
    );
}
