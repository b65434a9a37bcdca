//! The eBL title held by exactly one party: PINT's answers to each step on
//! a running ledger (holder checks, DUPE, DISE, BENV, SACC, amendment), and
//! a title moved over the relay, live on at most one ledger at every moment.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::ledger::{get_json, post_json};
use crate::support::net::{start_relayer, terminate, write_config, Net};

const CARRIER: &str = "China Merchants Shipping Container Line";
const SHIPPER: &str = "Shenzhen Bright Furniture Co., Ltd.";
const BANK: &str = "Rotterdam Home Goods B.V.";

/// A PINT party whose identifying code is its name.
fn party(name: &str) -> Value {
    json!({"partyName": name, "eblPlatform": "WAVE",
           "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": name}]})
}

fn uuid(n: u32) -> String {
    format!("{n:08x}-7a1a-43a4-9d62-e88a131651e2")
}

/// One step of `bill`'s chain by `sender`.
fn step(
    bill: &str,
    n: u32,
    sender: &str,
    action: &str,
    before: &[&str],
    recipient: Option<&str>,
) -> Value {
    let status = match action {
        "SURRENDER_FOR_DELIVERY" => "PENDING_SURRENDER_FOR_DELIVERY",
        "SURRENDER_FOR_AMENDMENT" => "PENDING_SURRENDER_FOR_AMENDMENT",
        _ => "ISSUED",
    };
    let mut v = json!({
        "eventType": "EBL_TRANSFER",
        "eventID": uuid(n),
        "eventCreatedDateTime": "2024-05-10T10:00:00+08:00",
        "eventDateTime": "2024-05-10T09:59:30+08:00",
        "transportDocumentReference": bill,
        "action": action,
        "transportDocumentStatus": status,
        "sender": party(sender),
        "transferChain": before,
    });
    if let Some(r) = recipient {
        v["recipient"] = party(r);
    }
    v
}

/// `POST /v1/events` on `port` for `destination`: the status and body.
async fn submit(port: u16, destination: &str, event: &Value) -> (u16, Value) {
    let body = json!({"version": 1, "destination": destination, "event": event});
    post_json(port, "/v1/events", None, &body).await
}

async fn bill(port: u16, reference: &str) -> Value {
    get_json(port, &format!("/v1/apps/ebl/bills/{reference}"))
        .await
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holder_alone_moves_a_bill_and_pint_answers_each_step() {
    let net = Net::start_apart().await;
    let l = &net.ledgers[net.index("cmport-1")];
    let (port, me) = (l.node.addr.port(), l.chain_id.to_string());
    let b = "CMPTITLE0001";

    // Issued by the carrier to the shipper: RECE, 200, with the entry.
    let (status, body) = submit(port, &me, &step(b, 1, CARRIER, "ISSUE", &[], Some(SHIPPER))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ebl"]["responseCode"], "RECE");
    assert_eq!(bill(port, b).await["holder"], SHIPPER);

    // A transfer by a party that does not hold the bill: DISE, 409, nothing changes.
    let before = bill(port, b).await;
    let theft = step(
        b,
        2,
        "Mallory Ltd",
        "TRANSFER",
        &["ISSUE"],
        Some("Mallory Ltd"),
    );
    let (status, body) = submit(port, &me, &theft).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("DISE")),
        "{body}"
    );
    let surrender = step(
        b,
        2,
        "Mallory Ltd",
        "SURRENDER_FOR_DELIVERY",
        &["ISSUE"],
        Some(CARRIER),
    );
    assert_eq!(submit(port, &me, &surrender).await.0, 409);
    assert_eq!(bill(port, b).await, before, "the record is unchanged");

    // The holder transfers; the same transfer again is DUPE, 200, with the accepted entry.
    let transfer = step(b, 3, SHIPPER, "TRANSFER", &["ISSUE"], Some(BANK));
    let (status, first) = submit(port, &me, &transfer).await;
    assert_eq!(
        (status, &first["ebl"]["responseCode"]),
        (200, &json!("RECE"))
    );
    let (status, again) = submit(port, &me, &transfer).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["ebl"]["responseCode"], "DUPE");
    assert_eq!(again["ebl"]["entry"], first["ebl"]["entry"]);
    assert_eq!(bill(port, b).await["actions"], json!(["ISSUE", "TRANSFER"]));

    // A chain that contradicts the ledger's: DISE.
    let stale = step(b, 4, SHIPPER, "TRANSFER", &["ISSUE"], Some("Someone Else"));
    let (status, body) = submit(port, &me, &stale).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("DISE")),
        "{body}"
    );

    // A surrender not addressed to the carrier: BENV, 422.
    let astray = step(
        b,
        5,
        BANK,
        "SURRENDER_FOR_DELIVERY",
        &["ISSUE", "TRANSFER"],
        Some(SHIPPER),
    );
    let (status, body) = submit(port, &me, &astray).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("BENV")),
        "{body}"
    );

    // Surrendered by the holder, accepted by the carrier (SACC has no recipient here).
    let surrender = step(
        b,
        6,
        BANK,
        "SURRENDER_FOR_DELIVERY",
        &["ISSUE", "TRANSFER"],
        Some(CARRIER),
    );
    assert_eq!(submit(port, &me, &surrender).await.0, 200);
    let chain = ["ISSUE", "TRANSFER", "SURRENDER_FOR_DELIVERY"];
    let (status, body) = submit(port, &me, &step(b, 7, CARRIER, "SACC", &chain, None)).await;
    assert_eq!(
        (status, &body["ebl"]["responseCode"]),
        (200, &json!("RECE")),
        "{body}"
    );

    // Nothing follows SACC: 422 for any action by anyone. The app answers
    // BENV; a chain that itself has a step after SACC is refused by the
    // schema first (422 ebl.after_sacc, PINT's BENV too).
    let after = ["ISSUE", "TRANSFER", "SURRENDER_FOR_DELIVERY", "SACC"];
    for (n, (sender, action, recipient)) in [
        (CARRIER, "TRANSFER", Some(SHIPPER)),
        (BANK, "SIGN", None),
        (CARRIER, "ISSUE", Some(SHIPPER)),
    ]
    .into_iter()
    .enumerate()
    {
        let before: &[&str] = if action == "ISSUE" { &[] } else { &after };
        let mut event = step(b, 10 + n as u32, sender, action, before, recipient);
        let (status, body) = submit(port, &me, &event).await;
        let expected = if action == "ISSUE" {
            "BENV"
        } else {
            "ebl.after_sacc"
        };
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some(expected)),
            "{action}: {body}"
        );
        // Without a chain, only the ledger knows SACC came: BENV.
        event["transferChain"] = Value::Null;
        let (status, body) = submit(port, &me, &event).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("BENV")),
            "{action}: {body}"
        );
    }

    // Amendment: surrendered for amendment, SACC, then reissued with a new chain.
    let a = "CMPTITLE0002";
    assert_eq!(
        submit(
            port,
            &me,
            &step(a, 20, CARRIER, "ISSUE", &[], Some(SHIPPER))
        )
        .await
        .0,
        200
    );
    let amend = step(
        a,
        21,
        SHIPPER,
        "SURRENDER_FOR_AMENDMENT",
        &["ISSUE"],
        Some(CARRIER),
    );
    assert_eq!(submit(port, &me, &amend).await.0, 200);
    let sacc = step(
        a,
        22,
        CARRIER,
        "SACC",
        &["ISSUE", "SURRENDER_FOR_AMENDMENT"],
        Some(SHIPPER),
    );
    assert_eq!(submit(port, &me, &sacc).await.0, 200);
    let (status, body) = submit(
        port,
        &me,
        &step(a, 23, CARRIER, "ISSUE", &[], Some(SHIPPER)),
    )
    .await;
    assert_eq!(
        (status, &body["ebl"]["responseCode"]),
        (200, &json!("RECE")),
        "{body}"
    );
    let reissued = bill(port, a).await;
    assert_eq!(reissued["actions"], json!(["ISSUE"]));
    assert_eq!(
        reissued["previous_chains"][0]["actions"],
        json!(["ISSUE", "SURRENDER_FOR_AMENDMENT", "SACC"]),
        "linked to the old chain"
    );
    assert_eq!(reissued["holder"], SHIPPER);
    net.shutdown().await;
}

/// How a ledger sees the bill: `live`, `pledged`, `away`, or null.
async fn title(port: u16, reference: &str) -> Value {
    bill(port, reference).await["title"]["state"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_relay_the_title_is_live_on_at_most_one_ledger_at_every_moment() {
    let net = Net::start().await;
    let (cmport, cosco) = (
        &net.ledgers[net.index("cmport-1")],
        &net.ledgers[net.index("cosco-1")],
    );
    let (src, dst) = (cmport.node.addr.port(), cosco.node.addr.port());
    let b = "CMPRELAY0001";
    let issue = step(b, 1, CARRIER, "ISSUE", &[], Some(SHIPPER));
    assert_eq!(submit(src, "cmport-1", &issue).await.0, 200);
    let transfer = step(b, 2, SHIPPER, "TRANSFER", &["ISSUE"], Some(BANK));
    let (status, body) = submit(src, "cosco-1", &transfer).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["packet"].is_object(), "the transfer travels: {body}");

    let chains: Vec<(String, String, Vec<String>)> = net
        .ledgers
        .iter()
        .map(|l| {
            (
                l.family.to_string(),
                l.chain_id.to_string(),
                vec![format!("http://{}", l.node.addr)],
            )
        })
        .collect();
    let config = write_config(net.dir.path(), &net.key_file, &chains, None);
    let relayer = start_relayer(&config, &net.dir.path().join("relayer.log"));

    // Sampled while the transfer is in flight: never live on both.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut samples = 0;
    loop {
        let (a, c) = (title(src, b).await, title(dst, b).await);
        samples += 1;
        assert!(
            !(a == "live" && c == "live"),
            "live on both ledgers: {a} {c}"
        );
        if a == "away" && c == "live" {
            break;
        }
        assert!(Instant::now() < deadline, "not moved: {a} {c}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(samples > 1, "sampled in flight");
    assert_eq!(bill(dst, b).await["holder"], BANK);
    // On the source the bill is away: even its last holder cannot move it there.
    let again = step(
        b,
        3,
        BANK,
        "TRANSFER",
        &["ISSUE", "TRANSFER"],
        Some(SHIPPER),
    );
    let (status, body) = submit(src, "cmport-1", &again).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("DISE")),
        "{body}"
    );
    // On the destination the new holder can.
    assert_eq!(submit(dst, "cosco-1", &again).await.0, 200);
    terminate(relayer);
    net.shutdown().await;
}

// ---------------------------------------------------------------------------
// Issue 13: a valid return is not refused.

/// The ebl channels both ways between two `portledger` processes, by hand.
async fn ebl_channels(a: &crate::support::ledger::Ledger, b: &crate::support::ledger::Ledger) {
    use crate::ledger::relay_by_hand::{connect, open};
    connect(&[a, b]).await;
    for (src, dst) in [(a, b), (b, a)] {
        let channel = light_clients::ChannelId {
            source: src.chain_id.clone(),
            destination: dst.chain_id.clone(),
            app: light_clients::App::Ebl,
        };
        open(&channel, [src, dst]).await;
    }
}

/// The titles on both ledgers; never live on both.
async fn titles(a: u16, b: u16, reference: &str) -> (Value, Value) {
    let (x, y) = (title(a, reference).await, title(b, reference).await);
    assert!(!(x == "live" && y == "live"), "live on both ledgers");
    (x, y)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bill_sent_back_before_the_first_hops_ack_is_claimed_not_disputed() {
    use crate::ledger::relay_by_hand::{ack_back, deliver, find_packet};
    use crate::support::ledger::Ledger;
    use adapters::wire::{MsgResult, SubmitEvent, WIRE_VERSION};
    use light_clients::any::FamilyName;
    use light_clients::host::Outcome;
    use light_clients::AckResult;

    let dir = tempfile::tempdir().expect("tempdir");
    let cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    let cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    ebl_channels(&cmport, &cosco).await;
    let (a, c) = (cmport.port, cosco.port);
    let b = "CMPRETURN001";
    let event_for = |event: Value, to: &Ledger| SubmitEvent {
        version: WIRE_VERSION,
        destination: to.chain_id.clone(),
        event,
        timeout_secs: None,
    };

    // Issued on CMPort, transferred to COSCO: pledged on CMPort.
    let issue = step(b, 1, CARRIER, "ISSUE", &[], Some(SHIPPER));
    assert_eq!(submit(a, "cmport-1", &issue).await.0, 200);
    let out = step(b, 2, SHIPPER, "TRANSFER", &["ISSUE"], Some(BANK));
    let from_a = cmport.height().await;
    let p1 = cmport
        .adapter
        .submit_event(&event_for(out, &cosco))
        .await
        .expect("transfer accepted")
        .packet
        .expect("a packet");
    assert_eq!(titles(a, c, b).await.0, "pledged");

    // The first hop arrives: live on COSCO; CMPort has not seen the ack.
    let (p1_height, results) =
        deliver(&cmport, &cosco, find_packet(&cmport, from_a, &p1).await).await;
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
    assert_eq!(titles(a, c, b).await, (json!("pledged"), json!("live")));

    // The new holder sends it straight back, and it reaches CMPort before that ack.
    let back = step(
        b,
        3,
        BANK,
        "TRANSFER",
        &["ISSUE", "TRANSFER"],
        Some(SHIPPER),
    );
    let from_c = cosco.height().await;
    let p2 = cosco
        .adapter
        .submit_event(&event_for(back, &cmport))
        .await
        .expect("return accepted by COSCO")
        .packet
        .expect("a packet");
    assert_eq!(titles(a, c, b).await, (json!("pledged"), json!("pledged")));
    let (p2_height, results) =
        deliver(&cosco, &cmport, find_packet(&cosco, from_c, &p2).await).await;
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
        "the return is claimed, not DISE: {results:?}"
    );
    assert_eq!(titles(a, c, b).await, (json!("live"), json!("pledged")));
    assert_eq!(bill(a, b).await["holder"], SHIPPER);

    // The late ack of the first hop changes nothing; the return's ack settles COSCO.
    let results = ack_back(&cmport, &cosco, p1_height, &p1).await;
    assert!(
        results.iter().all(|r| matches!(r, MsgResult::Ok { .. })),
        "{results:?}"
    );
    assert_eq!(titles(a, c, b).await, (json!("live"), json!("pledged")));
    let results = ack_back(&cosco, &cmport, p2_height, &p2).await;
    assert!(
        results.iter().all(|r| matches!(r, MsgResult::Ok { .. })),
        "{results:?}"
    );
    assert_eq!(titles(a, c, b).await, (json!("live"), json!("away")));
    let home = bill(a, b).await;
    assert_eq!(home["holder"], SHIPPER);
    assert_eq!(home["actions"], json!(["ISSUE", "TRANSFER", "TRANSFER"]));
    // And the holder can move it on from there.
    let on = step(
        b,
        4,
        SHIPPER,
        "SIGN",
        &["ISSUE", "TRANSFER", "TRANSFER"],
        None,
    );
    assert_eq!(submit(a, "cmport-1", &on).await.0, 200);
}
