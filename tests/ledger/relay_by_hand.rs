//! A relay done by hand across three real ledger processes: a COSCO cargo
//! event for CMPort moves with the adapters alone (client update, packet with
//! proof, ack back), then shows in CMPort's cargo registry, and its
//! commitment is cleared on COSCO.

use crate::support::ledger::{options, Ledger};
use adapters::wire::ProvenEvent;
use adapters::wire::{MsgResult, SubmitEvent, WIRE_VERSION};
use light_clients::any::FamilyName;
use light_clients::host::{
    BlockEvent, OperatorMsg, Outcome, RelayMsg, RelayerKey, SignedTx, TxBody,
};
use light_clients::{AckResult, App, ChannelId, PacketId};

fn relayer() -> ed25519_consensus::SigningKey {
    ed25519_consensus::SigningKey::from([42u8; 32])
}

pub(crate) async fn relay_tx(to: &Ledger, msgs: Vec<RelayMsg>) -> (u64, Vec<MsgResult>) {
    let key = relayer();
    let nonce = to
        .adapter
        .account(&RelayerKey(key.verification_key().to_bytes()))
        .await
        .expect("account")
        .next_nonce;
    let tx = SignedTx::sign(&key, &to.chain_id, nonce, &TxBody::Relay(msgs));
    let r = to.adapter.submit(&tx).await.expect("submit");
    (r.height.expect("included"), r.results)
}

/// Clients of each other on every ledger, and the relayer's key registered.
pub(crate) async fn connect(ledgers: &[&Ledger]) {
    for a in ledgers {
        for b in ledgers {
            if a.chain_id != b.chain_id {
                let root = b.trust_root(b.height().await).await;
                a.operator_tx(OperatorMsg::CreateClient {
                    root,
                    options: options(),
                })
                .await;
            }
        }
        let key = RelayerKey(relayer().verification_key().to_bytes());
        a.operator_tx(OperatorMsg::RegisterRelayer { key }).await;
    }
}

pub(crate) async fn open(channel: &ChannelId, ends: [&Ledger; 2]) {
    for l in ends {
        l.operator_tx(OperatorMsg::OpenChannel {
            channel: channel.clone(),
            version: format!("{}-1", channel.app),
        })
        .await;
    }
}

/// A block's events once they can be proven (a gba block needs the next
/// header sealed first: `not_yet_provable` until then).
pub(crate) async fn provable_events(ledger: &Ledger, height: u64) -> adapters::wire::BlockEvents {
    loop {
        match ledger.adapter.block_events(height).await {
            Ok(b) => return b,
            Err(e) if e.is_transient() => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Finds the block of `src` at or after `from` that emitted `packet_id`.
pub(crate) async fn find_packet(src: &Ledger, from: u64, packet_id: &PacketId) -> ProvenEvent {
    let mut h = from;
    loop {
        src.wait_for("the next block", || async { src.height().await >= h })
            .await;
        let block = provable_events(src, h).await;
        if let Some(e) = block
            .events
            .into_iter()
            .find(|e| matches!(&e.event, BlockEvent::Packet { packet } if &packet.id == packet_id))
        {
            return e;
        }
        h += 1;
    }
}

/// Updates `dst`'s client of `src` to the header that proves `proven`, one
/// header at a time from what the client has (so rotations are followed),
/// then delivers the packet; returns the destination height and results.
pub(crate) async fn deliver(
    src: &Ledger,
    dst: &Ledger,
    proven: ProvenEvent,
) -> (u64, Vec<MsgResult>) {
    let BlockEvent::Packet { packet } = proven.event else {
        panic!("not a packet")
    };
    let trusted = dst
        .adapter
        .clients()
        .await
        .expect("clients")
        .into_iter()
        .find(|c| c.chain == src.chain_id)
        .expect("client")
        .latest_height;
    let mut msgs = Vec::new();
    for h in trusted + 1..=proven.proof.height {
        msgs.push(RelayMsg::UpdateClient {
            chain: src.chain_id.clone(),
            header: src.adapter.header(h).await.expect("header"),
        });
    }
    msgs.push(RelayMsg::RecvPacket {
        packet,
        proof: proven.proof,
    });
    relay_tx(dst, msgs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cosco_event_reaches_cmport_by_hand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    let cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    let gba = Ledger::start(FamilyName::Gba, "gba-1", dir.path()).await;

    // Operators: clients of each other, the relayer's key, the cargo channel.
    connect(&[&cosco, &cmport, &gba]).await;
    let channel = ChannelId {
        source: cosco.chain_id.clone(),
        destination: cmport.chain_id.clone(),
        app: App::Cargo,
    };
    open(&channel, [&cosco, &cmport]).await;

    // A gate-in at Shekou, recorded on COSCO for CMPort.
    let journey: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../docs/examples/events/journey.json"))
            .expect("journey");
    let from = cosco.height().await;
    let event = SubmitEvent {
        version: WIRE_VERSION,
        destination: cmport.chain_id.clone(),
        event: journey[0].clone(),
        timeout_secs: None,
    };
    let packet_id = cosco
        .adapter
        .submit_event(&event)
        .await
        .expect("event accepted")
        .packet
        .expect("a packet");
    assert_eq!(packet_id.channel, channel);

    // The relayer's part, by hand: find the packet in COSCO's blocks, update
    // CMPort's client of COSCO to the header that commits it, and deliver.
    let proven = find_packet(&cosco, from, &packet_id).await;
    let (dst_height, results) = deliver(&cosco, &cmport, proven).await;
    assert!(
        matches!(
            &results[0],
            MsgResult::Ok {
                outcome: Outcome::ClientUpdated { .. }
            }
        ),
        "{results:?}"
    );
    assert!(
        matches!(
            results.last(),
            Some(MsgResult::Ok {
                outcome: Outcome::Received {
                    ack: AckResult::Ok,
                    ..
                }
            })
        ),
        "{results:?}"
    );

    // It shows in CMPort's cargo registry, from COSCO.
    let (status, record) =
        crate::support::ledger::get_json(cmport.port, "/v1/apps/cargo/containers/TCNU7200794")
            .await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["history"][0]["origin"], "cosco-1");
    assert_eq!(record["history"][0]["kind"], "EQUIPMENT/GTIN");
    assert_eq!(record["location"], "CNSHK");

    // The ack goes back the same way.
    let results = ack_back(&cosco, &cmport, dst_height, &packet_id).await;
    assert!(
        matches!(
            &results[1],
            MsgResult::Ok {
                outcome: Outcome::Acknowledged {
                    result: AckResult::Ok,
                    ..
                }
            }
        ),
        "{results:?}"
    );

    // The commitment is cleared on COSCO: nothing awaits an ack.
    let channels = cosco.adapter.channels().await.expect("channels");
    let c = channels.iter().find(|c| c.id == channel).expect("channel");
    assert_eq!((c.next_send, c.next_ack), (2, 2));
    let (_, record) =
        crate::support::ledger::get_json(cosco.port, "/v1/apps/cargo/containers/TCNU7200794").await;
    assert_eq!(record["history"][0]["delivery"], "delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gba_settlement_reaches_cosco_across_a_validator_rotation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gba = Ledger::start(FamilyName::Gba, "gba-1", dir.path()).await;
    let cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    connect(&[&gba, &cosco]).await;
    let channel = ChannelId {
        source: gba.chain_id.clone(),
        destination: cosco.chain_id.clone(),
        app: App::Payment,
    };
    open(&channel, [&gba, &cosco]).await;

    // gba's validators rotate (all four replaced by six new ones) before the event.
    let token = std::fs::read_to_string(gba.dir.join("admin.token")).expect("token");
    let (status, body) = crate::support::ledger::post_json(
        gba.port,
        "/v1/admin/rotate",
        Some(token.trim()),
        &serde_json::json!({"validators": 6}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let effective = body["effective_height"].as_u64().expect("height");
    gba.wait_for("the new set to sign", || async {
        gba.height().await > effective
    })
    .await;
    let before = gba.adapter.header(effective - 1).await.expect("header");
    let after = gba.adapter.header(effective).await.expect("header");
    let vals = |h: &light_clients::any::AnyHeader| {
        serde_json::to_value(h).expect("json")["value"]["signed_header"]["header"]
            ["validators_hash"]
            .clone()
    };
    assert_ne!(
        vals(&before),
        vals(&after),
        "the set changed at {effective}"
    );

    let payments: Vec<serde_json::Value> =
        include_str!("../../docs/examples/events/payments.ndjson")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
    let settlement = payments
        .iter()
        .find(|p| p["eventType"] == "PAYMENT_SETTLEMENT")
        .expect("a settlement")
        .clone();
    let from = gba.height().await;
    let submitted = gba
        .adapter
        .submit_event(&SubmitEvent {
            version: WIRE_VERSION,
            destination: cosco.chain_id.clone(),
            event: settlement.clone(),
            timeout_secs: None,
        })
        .await
        .expect("event accepted");
    let packet_id = submitted.packet.expect("a packet");
    let proven = find_packet(&gba, from, &packet_id).await;
    // The app_hash lag: block h is proven against header h + 1, with the roots opened.
    let opening = proven
        .proof
        .opening
        .expect("gba proofs carry the roots opening");
    assert!(proven.proof.height > from);
    // A forged opening is refused by the destination's client, and changes nothing.
    let mut forged = proven.clone();
    forged.proof.opening = Some(light_clients::Roots {
        zk_root: light_clients::Hash32([1; 32]),
        ..opening
    });
    let (_, results) = deliver(&gba, &cosco, forged).await;
    assert!(
        matches!(results.last(), Some(MsgResult::Err { check, .. }) if check == "app_hash"),
        "{results:?}"
    );
    let (_, results) = deliver(&gba, &cosco, proven).await;
    let last = results.last().expect("results");
    assert!(
        matches!(
            last,
            MsgResult::Ok {
                outcome: Outcome::Received {
                    ack: AckResult::Ok,
                    ..
                }
            }
        ),
        "{results:?}"
    );
    assert!(
        results[..results.len() - 1]
            .iter()
            .all(|r| matches!(r, MsgResult::Ok { .. })),
        "every header verified: {results:?}"
    );

    let e2e = settlement["endToEndId"].as_str().expect("endToEndId");
    let (status, record) = crate::support::ledger::get_json(
        cosco.port,
        &format!("/v1/apps/payment/settlements/{e2e}"),
    )
    .await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["history"][0]["origin"], "gba-1");
    assert_eq!(record["status"], "PAYMENT_SETTLEMENT/ACSC");
}

/// Brings the ack of `packet_id` (written on `dst` at `dst_height`) back to `src`.
pub(crate) async fn ack_back(
    src: &Ledger,
    dst: &Ledger,
    dst_height: u64,
    packet_id: &PacketId,
) -> Vec<MsgResult> {
    let acks = provable_events(dst, dst_height).await;
    let proven = acks
        .events
        .into_iter()
        .find(|e| matches!(&e.event, BlockEvent::Ack { ack } if &ack.packet == packet_id))
        .expect("ack");
    let BlockEvent::Ack { ack } = proven.event else {
        unreachable!()
    };
    let header = dst
        .adapter
        .header(proven.proof.height)
        .await
        .expect("header");
    let (_, results) = relay_tx(
        src,
        vec![
            RelayMsg::UpdateClient {
                chain: dst.chain_id.clone(),
                header,
            },
            RelayMsg::Acknowledge {
                ack,
                proof: proven.proof,
            },
        ],
    )
    .await;
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ebl_title_moves_from_cmport_to_cosco_signed_by_its_platform() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    let cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    connect(&[&cmport, &cosco]).await;
    let channel = ChannelId {
        source: cmport.chain_id.clone(),
        destination: cosco.chain_id.clone(),
        app: App::Ebl,
    };
    open(&channel, [&cmport, &cosco]).await;
    // COSCO's operator registers CMPort's eBL platform key.
    let key = cmport.adapter.status().await.expect("status").ebl_platform;
    let token = std::fs::read_to_string(cosco.dir.join("admin.token")).expect("token");
    let body = serde_json::json!({"chain": "cmport-1", "key": key});
    let (status, _) = crate::support::ledger::post_json(
        cosco.port,
        "/v1/admin/ebl-platforms",
        Some(token.trim()),
        &body,
    )
    .await;
    assert_eq!(status, 204);

    let ebl: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../docs/examples/events/ebl.json")).expect("ebl");
    let submit = |event: serde_json::Value, destination: light_clients::ChainId| SubmitEvent {
        version: WIRE_VERSION,
        destination,
        event,
        timeout_secs: None,
    };
    // Issued on CMPort (local), then transferred to COSCO.
    let issued = cmport
        .adapter
        .submit_event(&submit(ebl[0].clone(), cmport.chain_id.clone()))
        .await
        .expect("issue");
    assert!(issued.packet.is_none());
    let from = cmport.height().await;
    let sent = cmport
        .adapter
        .submit_event(&submit(ebl[1].clone(), cosco.chain_id.clone()))
        .await
        .expect("transfer");
    let packet_id = sent.packet.expect("a packet");
    let bill = ebl[1]["transportDocumentReference"]
        .as_str()
        .expect("reference")
        .to_string();
    let title = |l: &Ledger| {
        let (port, bill) = (l.port, bill.clone());
        async move {
            crate::support::ledger::get_json(port, &format!("/v1/apps/ebl/bills/{bill}"))
                .await
                .1["title"]["state"]
                .clone()
        }
    };
    cmport
        .wait_for("the pledge sealed", || async {
            cmport.height().await > from
        })
        .await;
    assert_eq!(title(&cmport).await, "pledged");
    assert_eq!(
        title(&cosco).await,
        serde_json::Value::Null,
        "not live anywhere while in flight"
    );

    let proven = find_packet(&cmport, from, &packet_id).await;
    let (dst_height, results) = deliver(&cmport, &cosco, proven).await;
    assert!(
        matches!(
            results.last(),
            Some(MsgResult::Ok {
                outcome: Outcome::Received {
                    ack: AckResult::Ok,
                    ..
                }
            })
        ),
        "{results:?}"
    );
    assert_eq!(title(&cosco).await, "live");
    let results = ack_back(&cmport, &cosco, dst_height, &packet_id).await;
    assert!(
        matches!(
            &results[1],
            MsgResult::Ok {
                outcome: Outcome::Acknowledged {
                    result: AckResult::Ok,
                    ..
                }
            }
        ),
        "{results:?}"
    );
    assert_eq!(title(&cmport).await, "away");
    let (_, answers) =
        crate::support::ledger::get_json(cosco.port, "/v1/apps/ebl/answers/all").await;
    assert_eq!(answers["RECE"], 1);
}
