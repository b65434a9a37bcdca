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

// ---------------------------------------------------------------------------
// PINT 3.0: envelopes through PINT's routes.

/// A test eBL platform signing ES256 with a P-256 key (PKCS#8 DER, made
/// once with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`).
struct Platform {
    code: &'static str,
    der: Vec<u8>,
}

const WAVE_KEY: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420b848edcf0b395ebad1216371b3400bf987da409e5f0cc543c6b96edf51f285c1a14403420004284b80cb511962683c4d05b3491258da295171f728c5df4fa60d5ae0d3a6db9a23daf89cb0511ace2865319ca87549b8bbbe2b12b9bb874062176e0560468762";
const OTHER_KEY: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b020101042020924d7e058ec46532820cdcb030a4a2cc57e65fa99c9d3a08090c17a5ccbbafa14403420004391095829074da834eb9750c8d9ff3dd7fd42c5db63a88c1ddfe702a11ec1c8cf43ae9bc5904fd708c4fcf6b5bf3c054633c61b50a14841a74f303137de9e2f4";

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// SHA-256 of the RFC 8785 form: PINT's transport document checksum.
fn td_checksum(td: &Value) -> String {
    sha256(&serde_json_canonicalizer::to_vec(td).expect("jcs"))
}

impl Platform {
    fn new(code: &'static str, key: &str) -> Platform {
        Platform {
            code,
            der: hex::decode(key).expect("hex"),
        }
    }

    /// The public JWK: the uncompressed point ends the DER.
    fn jwk(&self) -> Value {
        let point = &self.der[self.der.len() - 64..];
        json!({"kty": "EC", "crv": "P-256", "x": b64url(&point[..32]), "y": b64url(&point[32..])})
    }

    fn sign(&self, payload: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = None;
        let key = jsonwebtoken::EncodingKey::from_ec_der(&self.der);
        jsonwebtoken::encode(&header, payload, &key).expect("sign")
    }
}

fn pint_party(name: &str, platform: &str) -> Value {
    json!({"partyName": name, "eblPlatform": platform,
           "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": name}]})
}

fn pint_tx(action: &str, actor: &str, recipient: Option<(&str, &str)>) -> Value {
    let mut t = json!({"actionCode": action, "actor": pint_party(actor, "WAVE"),
                       "actionDateTime": "2024-05-10T02:00:00.000Z"});
    if let Some((name, platform)) = recipient {
        t["recipient"] = pint_party(name, platform);
    }
    t
}

fn transport_document(reference: &str) -> Value {
    json!({"transportDocumentReference": reference, "transportDocumentStatus": "ISSUED",
           "transportDocumentTypeCode": "BOL", "isShippedOnBoardType": true, "isElectronic": true,
           "isToOrder": false, "carrierCode": "CMSL", "carrierCodeListProvider": "SMDG"})
}

/// An `EblEnvelope` of one chain entry by `signer` (as WAVE) holding
/// `transactions`, with the carrier's issuance manifest and these
/// supporting documents.
fn pint_envelope(
    td: &Value,
    signer: &Platform,
    transactions: Vec<Value>,
    docs: &[(&str, &[u8])],
) -> Value {
    let checksum = td_checksum(td);
    let issuance = json!({"documentChecksum": checksum, "issueToChecksum": sha256(b"issueTo")});
    let entry = json!({"eblPlatform": signer.code, "transportDocumentChecksum": checksum,
        "issuanceManifestSignedContent": signer.sign(&issuance), "transactions": transactions});
    let entry = signer.sign(&entry);
    let mut manifest = json!({"transportDocumentChecksum": checksum,
        "lastEnvelopeTransferChainEntrySignedContentChecksum": sha256(entry.as_bytes())});
    if !docs.is_empty() {
        manifest["supportingDocuments"] = docs
            .iter()
            .map(|(name, bytes)| {
                json!({
            "name": name, "size": bytes.len(), "mediaType": "application/pdf",
            "documentChecksum": sha256(bytes)})
            })
            .collect();
    }
    json!({"transportDocument": td, "envelopeManifestSignedContent": signer.sign(&manifest),
           "envelopeTransferChain": [entry]})
}

/// One HTTP/1.1 exchange: the status, the `API-Version` header and the JSON body.
async fn pint_call(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Option<String>, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAPI-Version: 3\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("http response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let version = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("api-version: ")
                .or_else(|| l.strip_prefix("API-Version: "))
        })
        .map(str::to_string);
    (
        status,
        version,
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// The ledger's platform key, as a verifier: `ebl_platform` of its status.
async fn ledger_key(port: u16) -> jsonwebtoken::DecodingKey {
    let status = get_json(port, "/v1/status").await.1;
    let key = hex::decode(status["ebl_platform"].as_str().expect("ebl_platform")).expect("hex");
    jsonwebtoken::DecodingKey::from_ed_components(&b64url(&key)).expect("key")
}

/// A signed PINT answer: its signature verified with the ledger's key, its payload.
fn verified(answer: &Value, key: &jsonwebtoken::DecodingKey) -> Value {
    let jws = answer
        .as_str()
        .unwrap_or_else(|| panic!("not a signed answer: {answer}"));
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_aud = false;
    jsonwebtoken::decode::<Value>(jws, key, &v)
        .expect("signed by the ledger's platform key")
        .claims
}

async fn register_wave(port: u16, token: &str, wave: &Platform) {
    let body = json!({"code": "WAVE", "jwk": wave.jwk()});
    let (status, body) = post_json(port, "/v1/admin/pint-platforms", Some(token), &body).await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pint_envelope_enters_one_ledger_and_its_title_reaches_another_over_the_relay() {
    use crate::support::ledger::Ledger;
    use light_clients::any::FamilyName;
    // Two portledger processes with ebl channels both ways; the relayer's
    // key is the one `connect` registers.
    let dir = tempfile::tempdir().expect("tempdir");
    let cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    let cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    ebl_channels(&cmport, &cosco).await;
    let (src, dst) = (cmport.port, cosco.port);
    let wave = Platform::new("WAVE", WAVE_KEY);
    let token = std::fs::read_to_string(cmport.dir.join("admin.token")).expect("token");
    register_wave(src, token.trim(), &wave).await;
    let key = ledger_key(src).await;

    // Issued on WAVE to the shipper, who transfers it to a bank on CMPort (platform CMPO).
    let b = "CMPPINT00001";
    let envelope = pint_envelope(
        &transport_document(b),
        &wave,
        vec![
            pint_tx("ISSUE", CARRIER, Some((SHIPPER, "WAVE"))),
            pint_tx("TRANSFER", SHIPPER, Some((BANK, "CMPO"))),
        ],
        &[],
    );
    let (status, version, answer) = pint_call(src, "POST", "/v3/envelopes", Some(&envelope)).await;
    assert_eq!(
        (status, version.as_deref()),
        (200, Some("3.0.0")),
        "{answer}"
    );
    let response = verified(&answer, &key);
    assert_eq!(response["responseCode"], "RECE", "{response}");
    let last = envelope["envelopeTransferChain"][0]
        .as_str()
        .expect("entry");
    assert_eq!(
        response["lastEnvelopeTransferChainEntrySignedContentChecksum"],
        sha256(last.as_bytes())
    );
    let held = bill(src, b).await;
    assert_eq!(
        (held["title"]["state"].clone(), held["holder"].clone()),
        (json!("live"), json!(BANK))
    );
    assert_eq!(held["actions"], json!(["ISSUE", "TRANSFER"]));

    // The bank moves the title to COSCO: pledge, claim over the relay, exactly once.
    let onward = step(
        b,
        50,
        BANK,
        "TRANSFER",
        &["ISSUE", "TRANSFER"],
        Some("Piraeus Imports S.A."),
    );
    let (status, body) = submit(src, "cosco-1", &onward).await;
    assert_eq!(status, 200, "{body}");
    let chains: Vec<(String, String, Vec<String>)> = [&cmport, &cosco]
        .iter()
        .map(|l| {
            (
                l.family.to_string(),
                l.chain_id.to_string(),
                vec![format!("http://127.0.0.1:{}", l.port)],
            )
        })
        .collect();
    let key_file = dir.path().join("relayer.key");
    std::fs::write(&key_file, hex::encode([42u8; 32])).expect("key file");
    let config = write_config(dir.path(), &key_file, &chains, None);
    let relayer = start_relayer(&config, &dir.path().join("relayer.log"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (a, c) = titles(src, dst, b).await;
        if a == "away" && c == "live" {
            break;
        }
        assert!(Instant::now() < deadline, "not moved: {a} {c}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let arrived = bill(dst, b).await;
    assert_eq!(arrived["holder"], "Piraeus Imports S.A.");
    assert_eq!(arrived["actions"], json!(["ISSUE", "TRANSFER", "TRANSFER"]));
    assert_eq!(
        arrived["chain"].as_array().map(Vec::len),
        Some(1),
        "claimed once"
    );
    let answers = get_json(dst, "/v1/apps/ebl/answers/all").await.1;
    assert_eq!(answers["RECE"], 1, "{answers}");
    // Resent to CMPort after the title left: still the accepted transfer (DUPE), nothing moves.
    let (status, _, answer) = pint_call(src, "POST", "/v3/envelopes", Some(&envelope)).await;
    assert_eq!(status, 200);
    assert_eq!(verified(&answer, &key)["responseCode"], "DUPE");
    assert_eq!(titles(src, dst, b).await, (json!("away"), json!("live")));
    terminate(relayer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pint_answers_each_envelope_with_its_code_status_and_signature() {
    use crate::support::ledger::Ledger;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = Ledger::start(
        light_clients::any::FamilyName::Cmport,
        "cmport-1",
        dir.path(),
    )
    .await;
    let port = ledger.port;
    // WAVE's key registered from the command line (`--pint-platform CODE=FILE`).
    let wave = Platform::new("WAVE", WAVE_KEY);
    let jwk_file = dir.path().join("wave.jwk");
    std::fs::write(&jwk_file, wave.jwk().to_string()).expect("jwk file");
    ledger.args = vec![
        "--pint-platform".into(),
        format!("WAVE={}", jwk_file.display()),
    ];
    ledger.stop();
    ledger.spawn().await;
    let registered = get_json(port, "/v1/pint/platform").await.1;
    assert_eq!(registered["code"], "CMPO", "{registered}");
    assert_eq!(
        registered["platforms"]["WAVE"],
        json!([wave.jwk()]),
        "{registered}"
    );
    let key = ledger_key(port).await;
    let issue = || pint_tx("ISSUE", CARRIER, Some((SHIPPER, "WAVE")));
    let to_bank = || pint_tx("TRANSFER", SHIPPER, Some((BANK, "CMPO")));
    let post = |envelope: Value| async move {
        pint_call(port, "POST", "/v3/envelopes", Some(&envelope)).await
    };

    // Signed with a key WAVE never registered: BSIG, 422.
    let forged = pint_envelope(
        &transport_document("CMPPINT00002"),
        &Platform::new("WAVE", OTHER_KEY),
        vec![issue(), to_bank()],
        &[],
    );
    let (status, _, answer) = post(forged).await;
    assert_eq!(
        (status, verified(&answer, &key)["responseCode"].clone()),
        (422, json!("BSIG"))
    );

    // BENV, 422: addressed to another platform; an action after SACC; a
    // surrender not addressed to the carrier.
    let benv = [
        vec![issue(), pint_tx("TRANSFER", SHIPPER, Some((BANK, "EDOX")))],
        vec![
            issue(),
            pint_tx("SURRENDER_FOR_DELIVERY", SHIPPER, Some((CARRIER, "WAVE"))),
            pint_tx("SACC", CARRIER, None),
            pint_tx("TRANSFER", CARRIER, Some((BANK, "CMPO"))),
        ],
        vec![
            issue(),
            pint_tx("SURRENDER_FOR_DELIVERY", SHIPPER, Some((BANK, "CMPO"))),
        ],
    ];
    for (n, transactions) in benv.into_iter().enumerate() {
        let envelope = pint_envelope(
            &transport_document(&format!("CMPPINT0001{n}")),
            &wave,
            transactions,
            &[],
        );
        let (status, version, answer) = post(envelope).await;
        let response = verified(&answer, &key);
        assert_eq!(
            (status, version.as_deref(), &response["responseCode"]),
            (422, Some("3.0.0"), &json!("BENV")),
            "{n}: {response}"
        );
        assert!(response["reason"].is_string(), "{response}");
    }
    assert_eq!(
        get_json(port, "/v1/apps/ebl/bills/CMPPINT00010").await.0,
        404,
        "nothing kept"
    );

    // Accepted, then resent: DUPE, 200, with the accepted entry.
    let envelope = pint_envelope(
        &transport_document("CMPPINT00003"),
        &wave,
        vec![issue(), to_bank()],
        &[],
    );
    let (status, _, answer) = post(envelope.clone()).await;
    assert_eq!(
        (status, verified(&answer, &key)["responseCode"].clone()),
        (200, json!("RECE"))
    );
    let (status, _, answer) = post(envelope.clone()).await;
    let dupe = verified(&answer, &key);
    assert_eq!((status, &dupe["responseCode"]), (200, &json!("DUPE")));
    assert_eq!(
        dupe["duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent"],
        envelope["envelopeTransferChain"][0]
    );

    // Additional documents: 201 with both missing; finish early MDOC; the
    // wrong bytes INCD; each right one 204; then RECE listing both.
    use base64::Engine as _;
    let (invoice, packing): (&[u8], &[u8]) =
        (b"%PDF-1.7 freight invoice", b"%PDF-1.7 packing list");
    let (ci, cp) = (sha256(invoice), sha256(packing));
    let envelope = pint_envelope(
        &transport_document("CMPPINT00004"),
        &wave,
        vec![issue(), to_bank()],
        &[("invoice.pdf", invoice), ("packing-list.pdf", packing)],
    );
    let (status, _, started) = post(envelope).await;
    assert_eq!(status, 201, "{started}");
    let mut missing: Vec<String> =
        serde_json::from_value(started["missingAdditionalDocumentChecksums"].clone())
            .expect("list");
    missing.sort();
    let mut both = vec![ci.clone(), cp.clone()];
    both.sort();
    assert_eq!(missing, both);
    let reference = started["envelopeReference"]
        .as_str()
        .expect("reference")
        .to_string();
    let finish = format!("/v3/envelopes/{reference}/finish-transfer");
    let doc = |c: &str| format!("/v3/envelopes/{reference}/additional-documents/{c}");
    let b64 = |bytes: &[u8]| json!(base64::engine::general_purpose::STANDARD.encode(bytes));

    let (status, _, answer) = pint_call(port, "PUT", &finish, None).await;
    let mdoc = verified(&answer, &key);
    assert_eq!((status, &mdoc["responseCode"]), (409, &json!("MDOC")));
    let mut listed: Vec<String> =
        serde_json::from_value(mdoc["missingAdditionalDocumentChecksums"].clone()).expect("list");
    listed.sort();
    assert_eq!(listed, both);
    let (status, _, answer) = pint_call(port, "PUT", &doc(&ci), Some(&b64(packing))).await;
    assert_eq!(
        (status, verified(&answer, &key)["responseCode"].clone()),
        (409, json!("INCD"))
    );
    let (status, _, answer) = pint_call(
        port,
        "PUT",
        &doc(&sha256(b"undeclared")),
        Some(&b64(b"undeclared")),
    )
    .await;
    assert_eq!(
        (status, verified(&answer, &key)["responseCode"].clone()),
        (409, json!("INCD"))
    );
    assert_eq!(
        pint_call(port, "PUT", &doc(&ci), Some(&b64(invoice)))
            .await
            .0,
        204
    );
    let (status, _, answer) = pint_call(port, "PUT", &finish, None).await;
    assert_eq!(status, 409);
    assert_eq!(
        verified(&answer, &key)["missingAdditionalDocumentChecksums"],
        json!([cp.clone()])
    );
    assert_eq!(
        pint_call(port, "PUT", &doc(&cp), Some(&b64(packing)))
            .await
            .0,
        204
    );
    let (status, _, answer) = pint_call(port, "PUT", &finish, None).await;
    let rece = verified(&answer, &key);
    assert_eq!(
        (status, &rece["responseCode"]),
        (200, &json!("RECE")),
        "{rece}"
    );
    assert_eq!(rece["receivedAdditionalDocumentChecksums"], json!(both));
    assert_eq!(bill(port, "CMPPINT00004").await["holder"], BANK);
    let (status, _, _) =
        pint_call(port, "PUT", "/v3/envelopes/unknown/finish-transfer", None).await;
    assert_eq!(status, 404);

    // Restarted, the ledger replays what PINT changed: the bill is there, a resend is DUPE.
    ledger.stop();
    ledger.spawn().await;
    assert_eq!(bill(port, "CMPPINT00004").await["holder"], BANK);
    let (status, _, answer) = pint_call(port, "PUT", &finish, None).await;
    assert_eq!(
        (status, verified(&answer, &key)["responseCode"].clone()),
        (200, json!("DUPE"))
    );
}
