//! Customs across real processes: a gba ledger (Shunde) and a cmport
//! ledger (Shekou) as `portledger` processes, `portrelay start` between
//! them. A declaration and its release at Shunde are honoured at Shekou; a
//! matching arrival passes every check; each kind of mismatch raises its
//! warning, which an SSE client and a webhook receiver (a real HTTP server
//! here) each receive exactly once per warning id, across a restart of the
//! Shekou ledger mid-stream; a second use of the declaration is refused and
//! warned; `portrelay customs warnings` prints them; `/metrics` counts them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use light_clients::any::FamilyName;
use serde_json::{json, Value};

use crate::ledger::relay_by_hand::{connect, open};
use crate::support::ledger::{get_json, post_json, Ledger};
use crate::support::net::{portrelay, start_relayer, terminate, write_config};

const SECRET: &str = "shekou-customs-webhook-secret";
const N1: &str = "531620240000012345";
const N2: &str = "531620240000012346";
const BOX_A: &str = "CSQU3054383";
const BOX_B: &str = "TCNU7200794";
const STRAY: &str = "APZU4812090";
const BOX_C: &str = "MSKU1234565";
const TRD: &str = "COSU6346123450";

fn uuid(n: u32) -> String {
    format!("{n:08x}-7a1a-43a4-9d62-e88a131651e2")
}

fn declaration(number: &str, id: u32, containers: Value, hs: &str, consignee: &str) -> Value {
    json!({
        "eventType": "CUSTOMS_DECLARATION",
        "eventID": uuid(id),
        "eventCreatedDateTime": "2024-05-01T08:00:00+08:00",
        "declarationNumber": number,
        "declarationType": "EXPORT",
        "customsOfficeCode": "5316",
        "declarant": {"name": "Shunde Forwarding Co.", "usci": "91350100M000100Y43"},
        "parties": [
            {"role": "CONSIGNOR", "name": "Shunde Electronics Co.", "usci": "91440606MA51H2LK2N", "countryCode": "CN"},
            {"role": "CONSIGNEE", "name": consignee, "countryCode": "NL"}
        ],
        "goods": [{
            "lineNumber": 1, "hsCode": hs, "description": "goods",
            "quantity": {"value": "400", "unitCode": "C62"},
            "grossWeightKg": "12100.0",
            "declaredValue": {"amount": "160000.00", "currency": "USD"},
            "originCountry": "CN"
        }],
        "containers": containers,
        "transportDocumentReference": TRD,
        "modeOfTransport": "BARGE",
        "route": {"portOfLoading": "CNSUD", "transhipmentPorts": ["CNSHK"], "portOfDischarge": "NLRTM"},
        "validUntil": "2024-06-30T00:00:00Z"
    })
}

fn d1(id: u32) -> Value {
    declaration(
        N1,
        id,
        json!([
            {"equipmentReference": BOX_A, "seals": ["CN1234567"], "grossWeightKg": "6200.0"},
            {"equipmentReference": BOX_B, "seals": ["CN1234568"], "grossWeightKg": "5900.0"}
        ]),
        "8471300000",
        "Rotterdam Home Goods B.V.",
    )
}

fn customs(code: &str, number: &str, id: u32) -> Value {
    json!({
        "eventID": uuid(id),
        "eventType": "SHIPMENT",
        "eventClassifierCode": "ACT",
        "eventCreatedDateTime": "2024-05-01T12:00:00+08:00",
        "eventDateTime": "2024-05-01T12:00:00+08:00",
        "shipmentEventTypeCode": code,
        "documentTypeCode": "CUS",
        "documentID": number,
    })
}

/// An EQUIPMENT event under the declared transport document, with seals
/// and (portrelay's extension) a verified gross mass.
fn equipment(
    code: &str,
    container: &str,
    seal: &str,
    vgm: f64,
    at: &str,
    when: &str,
    id: u32,
) -> Value {
    let mut v = json!({
        "eventID": uuid(id),
        "eventType": "EQUIPMENT",
        "eventClassifierCode": "ACT",
        "eventCreatedDateTime": when,
        "eventDateTime": when,
        "equipmentEventTypeCode": code,
        "equipmentReference": container,
        "ISOEquipmentCode": "45G1",
        "emptyIndicatorCode": "LADEN",
        "eventLocation": {"locationName": "terminal", "UNLocationCode": at},
        "documentReferences": [{"documentReferenceType": "TRD", "documentReferenceValue": TRD}],
        "seals": [{"sealNumber": seal, "sealSource": "CUS", "sealType": "WIR"}],
        "verifiedGrossMass": {"value": vgm, "unit": "KGM"}
    });
    if code == "LOAD" || code == "DISC" {
        v["transportCall"] = json!({
            "transportCallID": "3a6f9f0e-7c1d-4e52-9b8a-1d2c3e4f5a60",
            "carrierServiceCode": "AEU1",
            "exportVoyageNumber": "0123W",
            "UNLocationCode": at,
            "modeOfTransport": "VESSEL",
            "vessel": {"vesselIMONumber": "9321483", "vesselName": "King of the Seas"}
        });
    }
    v
}

const WHEN: &str = "2024-05-02T09:00:00+08:00";

async fn submit(l: &Ledger, destination: &str, event: &Value) -> Value {
    let body = json!({"version": 1, "destination": destination, "event": event});
    let (status, body) = post_json(l.port, "/v1/events", None, &body).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn poll<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(120);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the webhook receiver got: every post as (idempotency key, body),
/// the signature checked; the first `refuse` posts answered 503.
#[derive(Default)]
struct Hooks {
    posts: Mutex<Vec<(String, Value)>>,
    refused: AtomicUsize,
    bad_signatures: AtomicUsize,
}

async fn webhook_receiver(refuse: usize) -> (SocketAddr, Arc<Hooks>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hooks = Arc::new(Hooks::default());
    let h = hooks.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let h = h.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let h = h.clone();
                        async move {
                            let header = |name: &str| {
                                req.headers()
                                    .get(name)
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or("")
                                    .to_string()
                            };
                            let (key, signature) =
                                (header("idempotency-key"), header("x-portrelay-signature"));
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let status = if signature
                                != devnet::webhooks::signature(SECRET.as_bytes(), &body)
                            {
                                h.bad_signatures.fetch_add(1, Ordering::SeqCst);
                                401
                            } else if h.refused.load(Ordering::SeqCst) < refuse {
                                h.refused.fetch_add(1, Ordering::SeqCst);
                                503
                            } else {
                                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                                h.posts.lock().unwrap().push((key, v));
                                200
                            };
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::new()))
                                    .unwrap(),
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, hooks)
}

impl Hooks {
    /// Distinct warning ids received (the receiver deduplicates by key).
    fn distinct(&self) -> BTreeMap<u64, Value> {
        let posts = self.posts.lock().unwrap();
        let mut out = BTreeMap::new();
        for (key, body) in posts.iter() {
            let id: u64 = key.parse().expect("idempotency key is the warning id");
            assert_eq!(body["id"], id, "the key names the warning posted");
            if let Some(first) = out.insert(id, body.clone()) {
                assert_eq!(first, *body, "a redelivery is the same warning");
            }
        }
        out
    }
}

/// An SSE client of the stream that resumes with `Last-Event-ID` after the
/// last event it got, and keeps every event it receives (no deduplication:
/// a duplicate is the server's fault and fails the test).
fn sse_client(port: u16) -> (Arc<Mutex<Vec<Value>>>, Arc<AtomicUsize>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let connections = Arc::new(AtomicUsize::new(0));
    let (g, c) = (got.clone(), connections.clone());
    tokio::spawn(async move {
        let client: hyper_util::client::legacy::Client<_, Empty<Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        loop {
            let last = g
                .lock()
                .unwrap()
                .last()
                .and_then(|w: &Value| w["id"].as_u64());
            let mut req = hyper::Request::get(format!(
                "http://127.0.0.1:{port}/v1/customs/warnings/stream"
            ));
            if let Some(id) = last {
                req = req.header("last-event-id", id.to_string());
            }
            let Ok(response) = client.request(req.body(Empty::new()).unwrap()).await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            assert_eq!(response.status(), 200);
            assert_eq!(
                response.headers()["content-type"],
                "text/event-stream",
                "an SSE stream"
            );
            c.fetch_add(1, Ordering::SeqCst);
            let mut body = response.into_body();
            let mut buffer = String::new();
            while let Some(Ok(frame)) = body.frame().await {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                buffer.push_str(&String::from_utf8_lossy(&data));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    let field = |name: &str| {
                        block
                            .lines()
                            .find_map(|l| l.strip_prefix(name))
                            .map(|v| v.trim_start().to_string())
                    };
                    let Some(data) = field("data:") else { continue };
                    let w: Value = serde_json::from_str(&data).expect("a warning's JSON");
                    assert_eq!(
                        field("id:"),
                        Some(w["id"].to_string()),
                        "the event id is the warning id"
                    );
                    assert_eq!(field("event:").as_deref(), Some("warning"));
                    g.lock().unwrap().push(w);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    (got, connections)
}

async fn container(port: u16, c: &str) -> Value {
    get_json(port, &format!("/v1/apps/customs/containers/{c}"))
        .await
        .1
}

async fn warnings(port: u16) -> Vec<Value> {
    let (status, body) = get_json(port, "/v1/customs/warnings").await;
    assert_eq!(status, 200, "{body}");
    body["warnings"].as_array().cloned().unwrap_or_default()
}

/// Waits until the ledger has `n` warnings; returns their rules.
async fn warned(port: u16, n: usize) -> Vec<String> {
    poll(&format!("{n} warnings"), || async {
        warnings(port).await.len() >= n
    })
    .await;
    warnings(port)
        .await
        .iter()
        .map(|w| w["rule"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declaration_at_shunde_is_honoured_at_shekou_and_mismatches_warn_once_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The receiver refuses the first two posts: delivery retries with backoff.
    let (hook_addr, hooks) = webhook_receiver(2).await;
    std::fs::write(
        dir.path().join("screening.txt"),
        "# Shekou screening list\nShady Exports Ltd.\n",
    )
    .expect("screening list");
    let rules = dir.path().join("shekou-customs.toml");
    std::fs::write(
        &rules,
        format!(
            "[weight]\ntolerance_percent = 5.0\ntolerance_kg = 100.0\n\n\
             [sensitive]\nhs_chapters = [\"93\"]\nimdg_classes = [\"1.1\"]\nscreening_list = \"screening.txt\"\n\n\
             [webhooks]\nurls = [\"http://{hook_addr}/hooks/customs\"]\nsecret = \"{SECRET}\"\ninitial_backoff_ms = 50\nmax_backoff_ms = 400\n"
        ),
    )
    .expect("rules");

    let gba = Ledger::start(FamilyName::Gba, "gba-1", dir.path()).await;
    let mut cmport = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    cmport.args = vec!["--customs-rules".into(), rules.display().to_string()];
    cmport.stop();
    cmport.spawn().await;
    connect(&[&gba, &cmport]).await;
    for (s, d) in [(&gba, &cmport), (&cmport, &gba)] {
        let channel = light_clients::ChannelId {
            source: s.chain_id.clone(),
            destination: d.chain_id.clone(),
            app: light_clients::App::Cargo,
        };
        open(&channel, [s, d]).await;
    }
    let chains: Vec<(String, String, Vec<String>)> = [&gba, &cmport]
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
    let shekou = cmport.port;
    let (streamed, connections) = sse_client(shekou);

    // Declared and released at Shunde, for Shekou: honoured there.
    submit(&gba, "cmport-1", &d1(1)).await;
    submit(&gba, "cmport-1", &customs("RELS", N1, 2)).await;
    let note = format!("released on the strength of declaration {N1} at port CNSUD (gba-1)");
    poll("the declaration honoured at Shekou", || async {
        container(shekou, BOX_B).await["note"] == note.as_str()
    })
    .await;
    for c in [BOX_A, BOX_B] {
        let status = container(shekou, c).await;
        assert_eq!(
            (status["status"].as_str(), status["honoured"].as_bool()),
            (Some("released"), Some(true)),
            "{status}"
        );
    }
    let declared = get_json(shekou, &format!("/v1/apps/customs/declarations/{N1}"))
        .await
        .1;
    assert_eq!(declared["origin"], "gba-1");
    let release = &declared["honoured"]["release"];
    assert_eq!(release["kind"], "SHIPMENT/CUS/RELS");
    assert!(
        release["packet"]["channel"]["source"] == "gba-1",
        "{release}"
    );

    // A matching gate-in at Shekou passes every check; no warning.
    submit(
        &cmport,
        "cmport-1",
        &equipment("GTIN", BOX_A, "CN1234567", 6230.0, "CNSHK", WHEN, 10),
    )
    .await;
    let checks = get_json(
        shekou,
        &format!("/v1/apps/customs/container-checks/{BOX_A}"),
    )
    .await
    .1;
    let passed: Vec<(&str, bool)> = checks
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| (c["rule"].as_str().unwrap_or(""), c["passed"] == true))
        .collect();
    assert_eq!(
        passed,
        [
            ("no_undeclared_container", true),
            ("seals_equal", true),
            ("weight_within_tolerance", true),
            ("route_consistent", true),
            ("declaration_valid", true)
        ]
    );
    assert!(warnings(shekou).await.is_empty());

    // Mismatches, each raising its own warning: a changed seal, an overweight box.
    submit(
        &cmport,
        "cmport-1",
        &equipment("GTIN", BOX_B, "CN9999999", 5900.0, "CNSHK", WHEN, 11),
    )
    .await;
    submit(
        &cmport,
        "cmport-1",
        &equipment("LOAD", BOX_A, "CN1234567", 9000.0, "CNSHK", WHEN, 12),
    )
    .await;
    assert_eq!(
        warned(shekou, 2).await,
        ["seals_equal", "weight_within_tolerance"]
    );
    poll("the first warnings streamed and posted", || async {
        streamed.lock().unwrap().len() >= 2 && hooks.distinct().len() >= 2
    })
    .await;

    // Shekou's ledger restarts mid-stream; warnings are ledger state.
    cmport.stop();
    cmport.spawn().await;
    let after_restart = warnings(shekou).await;
    assert_eq!(after_restart.len(), 2, "rebuilt, not raised again");
    assert_eq!(after_restart[1]["id"], 2);

    // The other mismatches: off the route, undeclared, used after expiry.
    submit(
        &cmport,
        "cmport-1",
        &equipment("DISC", BOX_A, "CN1234567", 6200.0, "CNYTN", WHEN, 13),
    )
    .await;
    submit(
        &cmport,
        "cmport-1",
        &equipment("GTIN", STRAY, "CN1234567", 6200.0, "CNSHK", WHEN, 14),
    )
    .await;
    submit(
        &cmport,
        "cmport-1",
        &equipment(
            "LOAD",
            BOX_A,
            "CN1234567",
            6200.0,
            "CNSHK",
            "2024-07-05T09:00:00+08:00",
            15,
        ),
    )
    .await;
    // Sensitive cargo, a screened party, then a customs hold, from Shunde.
    let mut d2 = declaration(
        N2,
        20,
        json!([{"equipmentReference": BOX_C, "seals": ["CN5555555"], "grossWeightKg": "4000.0"}]),
        "9303200000",
        "Shady Exports Ltd.",
    );
    d2["goods"][0]["dangerousGoods"] = json!({"unNumber": "UN0081", "imdgClass": "1.1"});
    submit(&gba, "cmport-1", &d2).await;
    submit(&gba, "cmport-1", &customs("HOLD", N2, 21)).await;
    // Completed at Shunde while its container never reached Shekou.
    submit(&gba, "cmport-1", &customs("CMPL", N2, 22)).await;
    warned(shekou, 10).await;
    // The first declaration presented again: Shunde lets it go, Shekou refuses and warns.
    let again = submit(&gba, "cmport-1", &d1(30)).await;
    let expected = [
        "seals_equal",
        "weight_within_tolerance",
        "route_consistent",
        "no_undeclared_container",
        "declaration_valid",
        "sensitive_hs",
        "sensitive_imdg",
        "screened_party",
        "customs_hold",
        "every_container_arrives",
        "declaration_reused",
    ];
    assert_eq!(warned(shekou, 11).await, expected);
    let sequence = again["packet"]["sequence"]
        .as_u64()
        .expect("sent in a packet");
    poll("Shunde told of the refusal", || async {
        let doc = get_json(gba.port, &format!("/v1/apps/cargo/documents/{N1}"))
            .await
            .1;
        doc["history"].as_array().is_some_and(|h| {
            h.iter().any(|r| {
                r["packet"]["sequence"] == sequence
                    && r["delivery"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("refused: customs.reused"))
            })
        })
    })
    .await;

    // Every warning reached the stream and the webhook exactly once per id.
    poll("all warnings streamed and posted", || async {
        streamed.lock().unwrap().len() >= 11 && hooks.distinct().len() >= 11
    })
    .await;
    let ledger_view = warnings(shekou).await;
    let stream_ids: Vec<u64> = streamed
        .lock()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(
        stream_ids,
        (1..=11).collect::<Vec<_>>(),
        "each id once, in order"
    );
    assert!(
        connections.load(Ordering::SeqCst) >= 2,
        "the stream was resumed after the restart"
    );
    assert_eq!(*streamed.lock().unwrap(), ledger_view);
    let posted = hooks.distinct();
    assert_eq!(
        posted.keys().copied().collect::<Vec<_>>(),
        (1..=11).collect::<Vec<_>>()
    );
    assert_eq!(posted.values().cloned().collect::<Vec<_>>(), ledger_view);
    assert_eq!(
        hooks.refused.load(Ordering::SeqCst),
        2,
        "retried after refusals"
    );
    // The restart resumed from the progress file: at most the post in
    // flight at the stop is made again, never the history.
    let posts = hooks.posts.lock().unwrap().len();
    assert!(posts <= 12, "{posts} posts for 11 warnings");
    assert_eq!(hooks.bad_signatures.load(Ordering::SeqCst), 0);
    for w in &ledger_view {
        assert_eq!(w["ledger"], "cmport-1");
        assert!(
            !w["evidence"].as_array().expect("evidence").is_empty(),
            "{w}"
        );
    }
    assert_eq!(
        (
            ledger_view[9]["container"].as_str(),
            ledger_view[9]["declaration"].as_str()
        ),
        (Some(BOX_C), Some(N2)),
        "the container that never arrived"
    );
    let reused = &ledger_view[10];
    assert_eq!(
        (reused["severity"].as_str(), reused["declaration"].as_str()),
        (Some("high"), Some(N1))
    );
    assert!(
        reused["evidence"][0]["proof"]
            .as_str()
            .is_some_and(|p| p.contains("/v1/packets/gba-1/cmport-1/cargo/")),
        "{reused}"
    );

    // The cross-checks, by container and by declaration.
    let stray = get_json(
        shekou,
        &format!("/v1/apps/customs/container-checks/{STRAY}"),
    )
    .await
    .1;
    assert_eq!(stray[0]["rule"], "no_undeclared_container");
    assert_eq!(stray[0]["passed"], false);
    assert_eq!(stray[0]["warning"], 4);
    let by_declaration = get_json(shekou, &format!("/v1/apps/customs/declaration-checks/{N1}"))
        .await
        .1;
    let failed: Vec<&str> = by_declaration
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["rule"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(failed, &expected[..5]);

    // The command line prints them; the metrics count them by rule and severity.
    let (code, out, err) = portrelay(&[
        "customs",
        "warnings",
        "--ledger",
        &format!("http://127.0.0.1:{shekou}"),
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 11, "{out}");
    assert!(
        lines[0].starts_with(
            "#1 high seals_equal declaration=531620240000012345 container=TCNU7200794"
        ),
        "{out}"
    );
    let metrics = crate::support::net::http_get(&format!("http://127.0.0.1:{shekou}/metrics"))
        .expect("metrics")
        .1;
    for (rule, severity) in [
        ("seals_equal", "high"),
        ("weight_within_tolerance", "medium"),
        ("sensitive_hs", "low"),
        ("declaration_reused", "high"),
    ] {
        let line = format!("portrelay_ledger_customs_warnings_total{{chain=\"cmport-1\",rule=\"{rule}\",severity=\"{severity}\"}} 1");
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
    assert!(metrics.contains(
        "portrelay_ledger_customs_webhook_posts_total{chain=\"cmport-1\",outcome=\"failed\"}"
    ));
    // The warnings panel of the ledger's page: the newest first.
    let (status, page) =
        crate::support::net::http_get(&format!("http://127.0.0.1:{shekou}/customs")).expect("page");
    assert_eq!(status, 200);
    let (_, latest) = page
        .split_once("id=\"customs-warnings\"")
        .expect("the latest warnings");
    let newest = latest
        .find(">declaration_reused<")
        .expect("the reuse on the page");
    let oldest = latest.find(">seals_equal<").expect("the seal on the page");
    assert!(newest < oldest, "newest first");
    assert!(
        page.contains("Shady Exports Ltd."),
        "the warning's words shown"
    );
    terminate(relayer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rule_file_stops_the_ledger_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[weight]\ntolerance_percent = 250\n").expect("rules");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portledger"))
        .args(["--family", "cmport", "--chain-id", "cmport-1", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--customs-rules")
        .arg(&rules)
        .output()
        .expect("portledger");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("weight.tolerance_percent"), "{err}");
}
