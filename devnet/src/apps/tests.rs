//! The apps' unit tests: eBL title across ledgers, envelopes, cargo histories.

use super::*;
use light_clients::host::RelayerKey;
use light_clients::{App, ChannelId, Timeout, Timestamp};
use serde_json::json;

fn chain(s: &str) -> ChainId {
    ChainId::new(s).unwrap()
}

/// A party whose identifying code is its name: one party per name.
fn party(name: &str) -> serde_json::Value {
    json!({"partyName": name, "eblPlatform": "WAVE", "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": name}]})
}

const CARRIER: &str = "China Merchants Shipping Container Line";

/// An EBL_TRANSFER by the holder the step implies: the carrier issues to
/// Shenzhen Bright Furniture, who transfers on.
fn ebl(action: &str, id: &str, chain_before: &[&str], recipient: &str) -> serde_json::Value {
    let sender = match chain_before {
        [] => CARRIER,
        _ => "Shenzhen Bright Furniture",
    };
    by(sender, action, id, chain_before, Some(recipient))
}

fn by(
    sender: &str,
    action: &str,
    id: &str,
    chain_before: &[&str],
    recipient: Option<&str>,
) -> serde_json::Value {
    let mut v = json!({
        "eventType": "EBL_TRANSFER",
        "eventID": id,
        "eventCreatedDateTime": "2024-05-10T10:00:00+08:00",
        "eventDateTime": "2024-05-10T09:59:30+08:00",
        "transportDocumentReference": "CMPSHK24000381",
        "action": action,
        "transportDocumentStatus": "ISSUED",
        "sender": party(sender),
        "transferChain": chain_before,
    });
    if let Some(r) = recipient {
        v["recipient"] = party(r);
    }
    v
}

fn event(v: &serde_json::Value) -> PortEvent {
    events::validate(v).unwrap()
}

/// The platform key a ledger signs its eBL envelopes with, in these tests.
fn platform(ledger: &str) -> ed25519_consensus::SigningKey {
    ed25519_consensus::SigningKey::from(
        *light_clients::hash::sha256(&[ledger.as_bytes()]).as_bytes(),
    )
}

/// A packet carrying `v`: signed by the source's platform on the ebl channel.
fn packet(from: &str, to: &str, seq: u64, v: &serde_json::Value) -> Packet {
    Packet {
        id: PacketId {
            channel: ChannelId {
                source: chain(from),
                destination: chain(to),
                app: App::Ebl,
            },
            sequence: seq,
        },
        timeout: Timeout {
            time: Timestamp::from_unix_secs(2_000_000_000),
            height: None,
        },
        payload: serde_json::to_vec(&SignedEnvelope::seal(v, None, &platform(from))).unwrap(),
    }
}

fn plain_packet(from: &str, to: &str, seq: u64, app: App, v: &serde_json::Value) -> Packet {
    let mut p = packet(from, to, seq, v);
    p.id.channel.app = app;
    p.payload = serde_json::to_vec(v).unwrap();
    p
}

const CTX: BlockContext = BlockContext {
    height: 1,
    time: Timestamp::from_unix_secs(1_800_000_000),
};
const BILL: &str = "CMPSHK24000381";

/// How many of these ledgers hold the bill live: never more than one.
fn live(ledgers: &[&PortApps]) -> usize {
    let n = ledgers
        .iter()
        .filter(|l| {
            l.ebl
                .bills
                .get(BILL)
                .is_some_and(|b| b.title == Title::Live)
        })
        .count();
    assert!(n <= 1, "bill live on {n} ledgers");
    n
}

#[test]
fn a_bill_is_never_live_on_two_ledgers() {
    let (mut a, mut b) = (
        PortApps::new(chain("cmport-1")),
        PortApps::new(chain("cosco-1")),
    );
    let issue = ebl(
        "ISSUE",
        "347e6044-4304-48e9-a649-77683158be2e",
        &[],
        "Shenzhen Bright Furniture",
    );
    a.check_local(&event(&issue), &chain("cmport-1")).unwrap();
    a.apply_local(&event(&issue), None);
    assert_eq!(live(&[&a, &b]), 1);
    // An ISSUE cannot go straight to another ledger, nor happen twice.
    let reissue = ebl("ISSUE", "11111111-4304-48e9-a649-77683158be2e", &[], "x");
    assert_eq!(
        a.check_local(&event(&reissue), &chain("cmport-1"))
            .unwrap_err()
            .code(),
        "DISE"
    );

    // Pledge on a: not live anywhere while in flight.
    let transfer = ebl(
        "TRANSFER",
        "26df94d2-b078-4db8-a3f5-32a13678377a",
        &["ISSUE"],
        "Rotterdam Importers BV",
    );
    a.check_local(&event(&transfer), &chain("cosco-1")).unwrap();
    let p1 = packet("cmport-1", "cosco-1", 1, &transfer);
    a.apply_local(&event(&transfer), Some(p1.id.clone()));
    assert!(matches!(a.ebl.bills[BILL].title, Title::Pledged { .. }));
    assert_eq!(live(&[&a, &b]), 0);
    // While pledged, a cannot move it again.
    let again = ebl(
        "TRANSFER",
        "33333333-b078-4db8-a3f5-32a13678377a",
        &["ISSUE"],
        "y",
    );
    assert_eq!(
        a.check_local(&event(&again), &chain("gba-1"))
            .unwrap_err()
            .code(),
        "DISE"
    );

    // Claim on b (RECE), then a learns it was claimed.
    b.on_recv(&p1, &CTX).unwrap();
    assert_eq!(live(&[&a, &b]), 1);
    assert_eq!(b.ebl.bills[BILL].holder, "Rotterdam Importers BV");
    a.on_ack(&p1, &AckResult::Ok, &CTX);
    assert_eq!(
        a.ebl.bills[BILL].title,
        Title::Away {
            to: chain("cosco-1")
        }
    );
    assert_eq!(live(&[&a, &b]), 1);

    // The same transfer again, through another packet: DUPE, accepted, nothing changes.
    b.on_recv(&packet("cmport-1", "cosco-1", 2, &transfer), &CTX)
        .unwrap();
    assert_eq!(b.ebl.answers.get("DUPE"), Some(&1));
    assert_eq!(live(&[&a, &b]), 1);

    // A conflicting history from a third ledger: DISE, refused.
    let forged = ebl(
        "TRANSFER",
        "44444444-b078-4db8-a3f5-32a13678377a",
        &["ISSUE"],
        "Someone Else",
    );
    let err = b
        .on_recv(&packet("gba-1", "cosco-1", 1, &forged), &CTX)
        .unwrap_err()
        .0;
    assert!(err.starts_with("DISE"), "{err}");
    assert_eq!(b.ebl.bills[BILL].holder, "Rotterdam Importers BV");

    // b sends it back to a, but the packet times out: b reclaims, a never held it.
    let back = by(
        "Rotterdam Importers BV",
        "TRANSFER",
        "55555555-b078-4db8-a3f5-32a13678377a",
        &["ISSUE", "TRANSFER"],
        Some("Shenzhen Bright Furniture"),
    );
    b.check_local(&event(&back), &chain("cmport-1")).unwrap();
    let p2 = packet("cosco-1", "cmport-1", 1, &back);
    b.apply_local(&event(&back), Some(p2.id.clone()));
    assert_eq!(live(&[&a, &b]), 0);
    b.on_ack(&p2, &AckResult::Timeout, &CTX);
    assert_eq!(live(&[&a, &b]), 1);
    assert_eq!(
        b.ebl.bills[BILL].holder, "Rotterdam Importers BV",
        "reclaimed as it was"
    );
    assert_eq!(b.ebl.bills[BILL].actions, ["ISSUE", "TRANSFER"]);

    // Sent again, it arrives: a takes it back (its history is extended), b marks it away.
    let back2 = by(
        "Rotterdam Importers BV",
        "TRANSFER",
        "66666666-b078-4db8-a3f5-32a13678377a",
        &["ISSUE", "TRANSFER"],
        Some("Shenzhen Bright Furniture"),
    );
    let p3 = packet("cosco-1", "cmport-1", 2, &back2);
    b.apply_local(&event(&back2), Some(p3.id.clone()));
    a.on_recv(&p3, &CTX).unwrap();
    b.on_ack(&p3, &AckResult::Ok, &CTX);
    assert_eq!(live(&[&a, &b]), 1);
    assert_eq!(a.ebl.bills[BILL].title, Title::Live);
    assert_eq!(a.ebl.answers.get("RECE"), Some(&1));
}

/// Issue 13: a bill sent back to its origin before the origin processed
/// the first hop's ack is claimed there (the return proves the first hop was
/// claimed), not answered DISE; the late ack then changes nothing.
#[test]
fn a_return_before_the_first_hops_ack_is_accepted() {
    let (mut a, mut b) = (
        PortApps::new(chain("cmport-1")),
        PortApps::new(chain("cosco-1")),
    );
    let issue = ebl("ISSUE", &uuid(1), &[], "Shenzhen Bright Furniture");
    a.apply_local(&event(&issue), None);
    let out = ebl("TRANSFER", &uuid(2), &["ISSUE"], "Rotterdam Importers BV");
    a.check_local(&event(&out), &chain("cosco-1")).unwrap();
    let p1 = packet("cmport-1", "cosco-1", 1, &out);
    a.apply_local(&event(&out), Some(p1.id.clone()));
    b.on_recv(&p1, &CTX).unwrap();
    assert_eq!(live(&[&a, &b]), 1);

    // b sends it straight back; a has not seen p1's ack yet.
    let back = by(
        "Rotterdam Importers BV",
        "TRANSFER",
        &uuid(3),
        &["ISSUE", "TRANSFER"],
        Some("Shenzhen Bright Furniture"),
    );
    b.check_local(&event(&back), &chain("cmport-1")).unwrap();
    let p2 = packet("cosco-1", "cmport-1", 1, &back);
    b.apply_local(&event(&back), Some(p2.id.clone()));
    assert_eq!(live(&[&a, &b]), 0);
    assert!(matches!(a.ebl.bills[BILL].title, Title::Pledged { .. }));
    a.on_recv(&p2, &CTX).unwrap();
    assert_eq!(live(&[&a, &b]), 1);
    assert_eq!(a.ebl.bills[BILL].title, Title::Live);
    assert_eq!(a.ebl.bills[BILL].holder, "Shenzhen Bright Furniture");
    assert_eq!(a.ebl.answers.get("RECE"), Some(&1));

    // The first hop's ack arrives late: the title stays where it is.
    a.on_ack(&p1, &AckResult::Ok, &CTX);
    b.on_ack(&p2, &AckResult::Ok, &CTX);
    assert_eq!(live(&[&a, &b]), 1);
    assert_eq!(a.ebl.bills[BILL].title, Title::Live);
    assert_eq!(a.ebl.bills[BILL].actions, ["ISSUE", "TRANSFER", "TRANSFER"]);
    assert_eq!(
        b.ebl.bills[BILL].title,
        Title::Away {
            to: chain("cmport-1")
        }
    );

    // A chain that skips the first hop is still DISE, and the title stays live nowhere twice.
    let mut c = PortApps::new(chain("gba-1"));
    c.apply_local(&event(&issue), None);
    let stray = ebl("TRANSFER", &uuid(4), &["ISSUE"], "Rotterdam Importers BV");
    let p3 = packet("gba-1", "cmport-1", 1, &stray);
    assert!(a.on_recv(&p3, &CTX).unwrap_err().0.starts_with("DISE"));
    assert_eq!(a.ebl.bills[BILL].holder, "Shenzhen Bright Furniture");
}

#[test]
fn envelopes_must_be_signed_by_the_registered_platform() {
    let mut b = PortApps::new(chain("cosco-1"));
    let transfer = ebl(
        "TRANSFER",
        "26df94d2-b078-4db8-a3f5-32a13678377a",
        &["ISSUE"],
        "x",
    );
    b.register_platform(
        chain("cmport-1"),
        RelayerKey(platform("cmport-1").verification_key().to_bytes()),
    );
    // Signed by another key than cmport-1's platform.
    let mut forged = packet("cmport-1", "cosco-1", 1, &transfer);
    forged.payload =
        serde_json::to_vec(&SignedEnvelope::seal(&transfer, None, &platform("mallory"))).unwrap();
    assert!(b.on_recv(&forged, &CTX).unwrap_err().0.starts_with("BSIG"));
    // A signature that does not match the envelope.
    let mut tampered: SignedEnvelope =
        serde_json::from_slice(&packet("cmport-1", "cosco-1", 1, &transfer).payload).unwrap();
    tampered.envelope["recipient"]["partyName"] = json!("Mallory Ltd");
    let mut p = packet("cmport-1", "cosco-1", 1, &transfer);
    p.payload = serde_json::to_vec(&tampered).unwrap();
    assert!(b.on_recv(&p, &CTX).unwrap_err().0.starts_with("BSIG"));
    // Unsigned, from a platform whose key is registered.
    let unsigned = plain_packet("cmport-1", "cosco-1", 1, App::Ebl, &transfer);
    assert!(b
        .on_recv(&unsigned, &CTX)
        .unwrap_err()
        .0
        .starts_with("BSIG"));
    assert!(b.ebl.bills.is_empty(), "nothing was claimed");
    assert_eq!(b.ebl.answers.get("BSIG"), Some(&3));
    // Properly signed: received.
    b.on_recv(&packet("cmport-1", "cosco-1", 1, &transfer), &CTX)
        .unwrap();
    assert_eq!(b.ebl.answers.get("RECE"), Some(&1));
}

#[test]
fn an_invalid_envelope_is_benv_and_changes_nothing() {
    let mut b = PortApps::new(chain("cosco-1"));
    let mut bad = ebl(
        "TRANSFER",
        "26df94d2-b078-4db8-a3f5-32a13678377a",
        &["ISSUE"],
        "x",
    );
    bad["transportDocumentReference"] = json!("X".repeat(21));
    let err = b
        .on_recv(&packet("cmport-1", "cosco-1", 1, &bad), &CTX)
        .unwrap_err()
        .0;
    assert!(err.starts_with("BENV"), "{err}");
    assert!(b.ebl.bills.is_empty());
    assert_eq!(b.ebl.answers.get("BENV"), Some(&1));
}

#[test]
fn cargo_events_are_tracked_by_container_with_their_origin() {
    let journey: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../../docs/examples/events/journey.json")).unwrap();
    let mut a = PortApps::new(chain("cmport-1"));
    let mut b = PortApps::new(chain("cosco-1"));
    for (i, e) in journey.iter().enumerate() {
        let ev = event(e);
        a.apply_local(&ev, None);
        let p = plain_packet("cmport-1", "cosco-1", i as u64 + 1, ev.app(), e);
        b.on_recv(&p, &CTX).unwrap();
    }
    let tracked = &b.cargo.containers["TCNU7200794"];
    assert!(tracked.history.len() >= 2);
    assert!(tracked
        .history
        .iter()
        .all(|r| r.origin == chain("cmport-1")));
    assert_eq!(tracked.history[0].kind, "EQUIPMENT/GTIN");
    assert_eq!(tracked.history[0].ports, ["CNSHK"]);
    // An event on the wrong app's channel is refused.
    let wrong = plain_packet("cmport-1", "cosco-1", 99, App::Payment, &journey[0]);
    assert!(b
        .on_recv(&wrong, &CTX)
        .unwrap_err()
        .0
        .starts_with("payload.app"));
}

fn uuid(n: u32) -> String {
    format!("{n:08x}-4304-48e9-a649-77683158be2e")
}

/// Checks and, when accepted, applies a local step; returns its PINT code.
fn step(l: &mut PortApps, v: &serde_json::Value) -> &'static str {
    let e = event(v);
    match l.check_local(&e, &chain("cmport-1")) {
        Ok(Verdict::Apply) => {
            l.apply_local(&e, None);
            "RECE"
        }
        Ok(Verdict::Duplicate(_)) => "DUPE",
        Err(e) => e.code(),
    }
}

#[test]
fn only_the_holder_moves_a_bill_and_nothing_follows_sacc() {
    let mut a = PortApps::new(chain("cmport-1"));
    let (shipper, bank) = ("Shenzhen Bright Furniture", "Bank of Rotterdam");
    assert_eq!(
        step(&mut a, &by(CARRIER, "ISSUE", &uuid(1), &[], Some(shipper))),
        "RECE"
    );
    assert_eq!(a.ebl.bills[BILL].holder, shipper);
    // A party that does not hold the bill: refused, nothing changes.
    let before = a.ebl.bills[BILL].clone();
    let theft = by(
        "Mallory Ltd",
        "TRANSFER",
        &uuid(2),
        &["ISSUE"],
        Some("Mallory Ltd"),
    );
    assert_eq!(step(&mut a, &theft), "DISE");
    let forged_surrender = by(
        "Mallory Ltd",
        "SURRENDER_FOR_DELIVERY",
        &uuid(2),
        &["ISSUE"],
        Some(CARRIER),
    );
    assert_eq!(step(&mut a, &forged_surrender), "DISE");
    assert_eq!(a.ebl.bills[BILL], before);
    // The holder transfers; the same step again is DUPE with the entry accepted.
    let transfer = by(shipper, "TRANSFER", &uuid(3), &["ISSUE"], Some(bank));
    assert_eq!(step(&mut a, &transfer), "RECE");
    let Verdict::Duplicate(entry) = a
        .check_local(&event(&transfer), &chain("cmport-1"))
        .unwrap()
    else {
        panic!("a duplicate");
    };
    assert_eq!(
        (entry.position, entry.event_id.as_str()),
        (1, uuid(3).as_str())
    );
    // The same eventID with another history, or a history the ledger never saw: DISE.
    let mut reused = transfer.clone();
    reused["transferChain"] = json!(["ISSUE", "TRANSFER"]);
    assert_eq!(step(&mut a, &reused), "DISE");
    let stale = by(
        shipper,
        "TRANSFER",
        &uuid(4),
        &["ISSUE"],
        Some("Someone Else"),
    );
    assert_eq!(step(&mut a, &stale), "DISE");
    let invented = by(
        bank,
        "TRANSFER",
        &uuid(4),
        &["ISSUE", "TRANSFER", "TRANSFER"],
        Some(shipper),
    );
    assert_eq!(step(&mut a, &invented), "DISE");
    // SIGN has no recipient; the possessor signs.
    assert_eq!(
        step(
            &mut a,
            &by(bank, "SIGN", &uuid(5), &["ISSUE", "TRANSFER"], None)
        ),
        "RECE"
    );
    // A surrender not addressed to the carrier: BENV.
    let chain3 = ["ISSUE", "TRANSFER", "SIGN"];
    let astray = by(
        bank,
        "SURRENDER_FOR_DELIVERY",
        &uuid(6),
        &chain3,
        Some(shipper),
    );
    assert_eq!(step(&mut a, &astray), "BENV");
    // Addressed to the carrier's representative: accepted; the carrier rejects it (SREJ).
    let mut via_agent = by(
        bank,
        "SURRENDER_FOR_DELIVERY",
        &uuid(7),
        &chain3,
        Some("Carrier Agent"),
    );
    via_agent["recipient"]["representedParty"] = json!({"partyName": CARRIER, "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": CARRIER}]});
    assert_eq!(step(&mut a, &via_agent), "RECE");
    let chain4 = ["ISSUE", "TRANSFER", "SIGN", "SURRENDER_FOR_DELIVERY"];
    assert_eq!(
        step(
            &mut a,
            &by(bank, "TRANSFER", &uuid(8), &chain4, Some(shipper))
        ),
        "DISE",
        "pending surrender"
    );
    assert_eq!(
        step(&mut a, &by(bank, "SACC", &uuid(8), &chain4, None)),
        "BENV",
        "SACC is the carrier's"
    );
    assert_eq!(
        step(&mut a, &by(CARRIER, "SREJ", &uuid(9), &chain4, Some(bank))),
        "RECE"
    );
    assert_eq!(
        a.ebl.bills[BILL].holder, bank,
        "possession returns to the surrendering party"
    );
    // Surrendered again, accepted: SACC without a recipient, then nothing.
    let chain5 = [
        "ISSUE",
        "TRANSFER",
        "SIGN",
        "SURRENDER_FOR_DELIVERY",
        "SREJ",
    ];
    assert_eq!(
        step(
            &mut a,
            &by(
                bank,
                "SURRENDER_FOR_DELIVERY",
                &uuid(10),
                &chain5,
                Some(CARRIER)
            )
        ),
        "RECE"
    );
    let chain6 = [
        "ISSUE",
        "TRANSFER",
        "SIGN",
        "SURRENDER_FOR_DELIVERY",
        "SREJ",
        "SURRENDER_FOR_DELIVERY",
    ];
    assert_eq!(
        step(&mut a, &by(CARRIER, "SACC", &uuid(11), &chain6, None)),
        "RECE"
    );
    assert_eq!(
        step(&mut a, &by(CARRIER, "SREJ", &uuid(12), &chain6, Some(bank))),
        "BENV"
    );
    assert_eq!(
        step(&mut a, &by(CARRIER, "ISSUE", &uuid(13), &[], Some(bank))),
        "BENV",
        "no reissue after delivery"
    );
}

#[test]
fn an_amended_bill_is_reissued_with_a_new_chain_linked_to_the_old() {
    let mut a = PortApps::new(chain("cmport-1"));
    let shipper = "Shenzhen Bright Furniture";
    assert_eq!(
        step(&mut a, &by(CARRIER, "ISSUE", &uuid(1), &[], Some(shipper))),
        "RECE"
    );
    assert_eq!(
        step(
            &mut a,
            &by(
                shipper,
                "SURRENDER_FOR_AMENDMENT",
                &uuid(2),
                &["ISSUE"],
                Some(CARRIER)
            )
        ),
        "RECE"
    );
    assert_eq!(
        step(
            &mut a,
            &by(
                CARRIER,
                "SACC",
                &uuid(3),
                &["ISSUE", "SURRENDER_FOR_AMENDMENT"],
                Some(shipper)
            )
        ),
        "RECE"
    );
    assert_eq!(
        step(&mut a, &by(shipper, "ISSUE", &uuid(4), &[], Some(shipper))),
        "BENV",
        "only the carrier reissues"
    );
    assert_eq!(
        step(&mut a, &by(CARRIER, "ISSUE", &uuid(4), &[], Some(shipper))),
        "RECE"
    );
    let bill = &a.ebl.bills[BILL];
    assert_eq!(bill.actions, ["ISSUE"]);
    assert_eq!(bill.previous_chains.len(), 1);
    assert_eq!(
        bill.previous_chains[0].actions,
        ["ISSUE", "SURRENDER_FOR_AMENDMENT", "SACC"]
    );
    assert_eq!(bill.holder, shipper);
    // The new chain moves on from its ISSUE.
    assert_eq!(
        step(
            &mut a,
            &by(shipper, "TRANSFER", &uuid(5), &["ISSUE"], Some("Bank"))
        ),
        "RECE"
    );
}
