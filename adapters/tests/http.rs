//! The HTTP adapter and the registry against small ledgers served on
//! 127.0.0.1 by axum: retries, failover, timeouts, limits and the checks on
//! every answer. Outcomes and call counts are asserted, never durations.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use adapters::chain::{
    AdapterConfig, AdapterError, ChainAdapter, ChainConfig, ConfigError, RpcPolicy,
};
use adapters::http::HttpAdapter;
use adapters::registry::Registry;
use adapters::wire::{
    ChannelsResponse, ErrorBody, HeaderResponse, NodeStatus, RefusedEvent, SubmitEvent,
    SubmittedEvent, SubmittedEvents, SubmittedItem, TxResponse, MAX_EVENT_BATCH,
};
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use light_clients::any::{AnyHeader, FamilyName};
use light_clients::cosco::Cosco;
use light_clients::host::{RelayerKey, SignedTx};
use light_clients::{App, ChainId, Timestamp};
use tokio::sync::{mpsc, Semaphore};

// ---------------------------------------------------------------- helpers

/// Serves `router` on a fresh loopback port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A loopback port nothing listens on (bound, then closed).
fn dead_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Counter {
    /// Counts a call; returns how many came before it.
    fn hit(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn policy() -> RpcPolicy {
    RpcPolicy {
        timeout: Duration::from_secs(10),
        retries: 3,
        backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        concurrency: 8,
        rate_per_sec: 10_000,
    }
}

fn chain_config(chain: &str, endpoints: Vec<String>, rpc: RpcPolicy) -> ChainConfig {
    ChainConfig {
        chain_id: ChainId::new(chain).unwrap(),
        endpoints,
        apps: vec![App::Cargo],
        trust_root: None,
        rpc,
        engine: adapters::chain::Engine::Embedded,
    }
}

fn cosco(endpoints: Vec<String>, rpc: RpcPolicy) -> HttpAdapter {
    HttpAdapter::new(&AdapterConfig::Cosco(chain_config(
        "cosco-1", endpoints, rpc,
    )))
    .unwrap()
}

fn node_status(chain: &str, family: FamilyName) -> NodeStatus {
    NodeStatus {
        ebl_platform: RelayerKey([2; 32]),
        version: 1,
        chain_id: ChainId::new(chain).unwrap(),
        family,
        height: 5,
        time: Timestamp::from_unix_secs(1_700_000_000),
        operator: RelayerKey([7; 32]),
        validators: 4,
        max_tx_bytes: None,
    }
}

fn error(status: u16, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        code: code.to_string(),
        message: message.to_string(),
    };
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

/// A signed cosco header of chain `cosco-1` at height 2.
fn cosco_header() -> AnyHeader {
    let (_, block) = light_clients::sample::pair::<Cosco>(
        "cosco-1",
        4,
        7,
        Timestamp::from_unix_secs(1_700_000_000),
    );
    AnyHeader::Cosco(block)
}

fn signed_tx() -> SignedTx {
    SignedTx {
        version: 1,
        chain_id: ChainId::new("cosco-1").unwrap(),
        signer: RelayerKey([1; 32]),
        nonce: 0,
        body: "{}".to_string(),
        signature: vec![0; 64],
    }
}

/// A ledger whose `/v1/status` answers with `status` and counts its calls.
async fn status_ledger(calls: Counter) -> String {
    serve(Router::new().route(
        "/v1/status",
        get(move || async move {
            calls.hit();
            Json(node_status("cosco-1", FamilyName::Cosco))
        }),
    ))
    .await
}

/// A ledger that answers every call with 503 and counts them.
async fn unavailable_ledger(calls: Counter) -> String {
    serve(Router::new().fallback(move || async move {
        calls.hit();
        error(503, "unavailable", "the ledger is restarting")
    }))
    .await
}

/// Waits, with a generous deadline, for a condition the test cannot await.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---------------------------------------------------------------- retries

#[tokio::test]
async fn a_read_is_retried_after_a_503() {
    let calls = Counter::default();
    let c = calls.clone();
    let url = serve(Router::new().route(
        "/v1/status",
        get(move || async move {
            if c.hit() == 0 {
                error(503, "unavailable", "starting")
            } else {
                Json(node_status("cosco-1", FamilyName::Cosco)).into_response()
            }
        }),
    ))
    .await;
    let status = cosco(vec![url], policy()).status().await.unwrap();
    assert_eq!(status.height, 5);
    assert_eq!(calls.get(), 2);
}

#[tokio::test]
async fn a_read_that_keeps_failing_returns_the_last_refusal() {
    let calls = Counter::default();
    let url = unavailable_ledger(calls.clone()).await;
    let err = cosco(vec![url], policy()).channels().await.unwrap_err();
    assert!(
        matches!(&err, AdapterError::Refused { status: 503, code, .. } if code == "unavailable"),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(calls.get(), 4, "one call and three retries");
}

#[tokio::test]
async fn submissions_are_not_retried_after_a_503() {
    // Two endpoints, both answering 503: a retry or a failover would show as
    // a second call on either.
    let calls = Counter::default();
    let a = unavailable_ledger(calls.clone()).await;
    let b = unavailable_ledger(calls.clone()).await;
    let adapter = cosco(vec![a, b], policy());

    let err = adapter.submit(&signed_tx()).await.unwrap_err();
    assert!(
        matches!(err, AdapterError::Refused { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(calls.get(), 1, "a transaction is sent once per call");

    let event = SubmitEvent {
        version: 1,
        destination: ChainId::new("gba-1").unwrap(),
        event: serde_json::json!({}),
        timeout_secs: None,
    };
    let err = adapter.submit_event(&event).await.unwrap_err();
    assert!(
        matches!(err, AdapterError::Refused { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(calls.get(), 2, "an event is sent once per call");
}

#[tokio::test]
async fn a_submission_moves_on_when_it_could_not_connect() {
    let calls = Counter::default();
    let c = calls.clone();
    let live = serve(Router::new().route(
        "/v1/tx",
        post(move |RawQuery(q): RawQuery| async move {
            c.hit();
            assert_eq!(q.as_deref(), Some("wait=true"));
            Json(TxResponse {
                version: 1,
                id: "ab".to_string(),
                height: Some(3),
                results: vec![],
            })
        }),
    ))
    .await;
    let adapter = cosco(vec![dead_endpoint(), live], policy());
    let tx = adapter.submit(&signed_tx()).await.unwrap();
    assert_eq!(tx.height, Some(3));
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn a_submission_that_times_out_is_not_sent_again() {
    let calls = Counter::default();
    let c = calls.clone();
    let url = serve(Router::new().route(
        "/v1/events",
        post(move || async move {
            c.hit();
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Json(SubmittedEvent {
                version: 1,
                packet: None,
                ebl: None,
                warnings: Vec::new(),
            })
        }),
    ))
    .await;
    let rpc = RpcPolicy {
        timeout: Duration::from_millis(200),
        ..policy()
    };
    let event = SubmitEvent {
        version: 1,
        destination: ChainId::new("cosco-1").unwrap(),
        event: serde_json::json!({}),
        timeout_secs: None,
    };
    let err = cosco(vec![url.clone(), url], rpc)
        .submit_event(&event)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AdapterError::Unavailable { reason, .. } if reason.contains("no answer within")),
        "{err:?}"
    );
    eventually("the one call to arrive", || calls.get() >= 1).await;
    assert_eq!(calls.get(), 1);
}

/// A ledger that answers every batch with a packet for each even position
/// and a refusal for each odd one, counting calls; `misplace` puts the
/// refusals at the wrong index.
async fn batch_ledger(calls: Counter, misplace: bool) -> String {
    serve(Router::new().route(
        "/v1/events/batch",
        post(move |Json(batch): Json<serde_json::Value>| async move {
            calls.hit();
            assert_eq!(batch["version"], 1);
            let n = batch["events"].as_array().map_or(0, Vec::len);
            let results: Vec<SubmittedItem> = (0..n)
                .map(|i| {
                    if i % 2 == 0 {
                        SubmittedItem::Submitted(SubmittedEvent {
                            version: 1,
                            packet: None,
                            ebl: None,
                            warnings: Vec::new(),
                        })
                    } else {
                        SubmittedItem::Refused(RefusedEvent {
                            index: if misplace { i as u64 + 1 } else { i as u64 },
                            status: 422,
                            code: "iso6346.check_digit".into(),
                            message: "bad digit".into(),
                        })
                    }
                })
                .collect();
            Json(SubmittedEvents {
                version: 1,
                results,
            })
        }),
    ))
    .await
}

fn events(n: usize) -> Vec<SubmitEvent> {
    (0..n)
        .map(|i| SubmitEvent {
            version: 1,
            destination: ChainId::new("gba-1").unwrap(),
            event: serde_json::json!({"n": i}),
            timeout_secs: None,
        })
        .collect()
}

#[tokio::test]
async fn a_batch_of_events_is_answered_per_event_in_order() {
    let calls = Counter::default();
    let adapter = cosco(vec![batch_ledger(calls.clone(), false).await], policy());
    let answer = adapter.submit_events(&events(3)).await.unwrap();
    assert_eq!(answer.results.len(), 3);
    assert!(matches!(answer.results[0], SubmittedItem::Submitted(_)));
    assert!(
        matches!(&answer.results[1], SubmittedItem::Refused(r) if r.index == 1 && r.code == "iso6346.check_digit"),
        "{:?}",
        answer.results[1]
    );
    assert!(matches!(answer.results[2], SubmittedItem::Submitted(_)));
    assert_eq!(calls.get(), 1, "one request for the batch");
}

#[tokio::test]
async fn a_batch_answer_that_does_not_match_the_batch_is_a_bad_response() {
    let calls = Counter::default();
    let adapter = cosco(vec![batch_ledger(calls.clone(), true).await], policy());
    let err = adapter.submit_events(&events(2)).await.unwrap_err();
    assert!(
        matches!(&err, AdapterError::BadResponse { reason, .. } if reason.contains("result 1 is the refusal of event 2")),
        "{err:?}"
    );
    let short = serve(Router::new().route(
        "/v1/events/batch",
        post(|| async {
            Json(SubmittedEvents {
                version: 1,
                results: vec![],
            })
        }),
    ))
    .await;
    let err = cosco(vec![short], policy())
        .submit_events(&events(2))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AdapterError::BadResponse { reason, .. } if reason.contains("0 results for a batch of 2")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_batch_is_not_retried_after_a_503_and_an_oversized_one_is_not_sent() {
    let calls = Counter::default();
    let a = unavailable_ledger(calls.clone()).await;
    let b = unavailable_ledger(calls.clone()).await;
    let adapter = cosco(vec![a, b], policy());
    let err = adapter.submit_events(&events(2)).await.unwrap_err();
    assert!(
        matches!(err, AdapterError::Refused { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(calls.get(), 1, "a batch is sent once per call");
    let err = adapter
        .submit_events(&events(MAX_EVENT_BATCH + 1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AdapterError::Refused { status: 400, message, .. } if message.contains("not sent")),
        "{err:?}"
    );
    assert_eq!(calls.get(), 1, "an oversized batch is not sent");
}

// ---------------------------------------------------------------- failover

#[tokio::test]
async fn a_closed_port_fails_over_to_the_live_endpoint_and_is_skipped_next_time() {
    let calls = Counter::default();
    let live = status_ledger(calls.clone()).await;
    let adapter = cosco(vec![dead_endpoint(), live.clone()], policy());

    adapter.status().await.unwrap();
    assert_eq!(calls.get(), 1);
    assert_eq!(adapter.active_endpoint(), live);

    adapter.status().await.unwrap();
    assert_eq!(calls.get(), 2);
    assert_eq!(adapter.active_endpoint(), live);
}

#[tokio::test]
async fn the_next_call_starts_at_the_endpoint_that_answered() {
    let failing = Counter::default();
    let answering = Counter::default();
    let a = unavailable_ledger(failing.clone()).await;
    let b = status_ledger(answering.clone()).await;
    let adapter = cosco(vec![a, b], policy());

    adapter.status().await.unwrap();
    assert_eq!((failing.get(), answering.get()), (1, 1));
    adapter.status().await.unwrap();
    assert_eq!(
        (failing.get(), answering.get()),
        (1, 2),
        "the second call went straight to the live endpoint"
    );
}

#[tokio::test]
async fn every_endpoint_dead_is_unavailable_after_the_retries() {
    let rpc = RpcPolicy {
        retries: 2,
        ..policy()
    };
    let err = cosco(vec![dead_endpoint(), dead_endpoint()], rpc)
        .status()
        .await
        .unwrap_err();
    match &err {
        AdapterError::Unavailable { reason, .. } => {
            assert!(reason.contains("3 attempts over 2 endpoint(s)"), "{reason}");
            assert!(reason.contains("cannot connect"), "{reason}");
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_slow_endpoint_times_out_and_is_unavailable_after_the_retries() {
    let calls = Counter::default();
    let c = calls.clone();
    let url = serve(Router::new().route(
        "/v1/status",
        get(move || async move {
            c.hit();
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Json(node_status("cosco-1", FamilyName::Cosco))
        }),
    ))
    .await;
    let rpc = RpcPolicy {
        timeout: Duration::from_millis(200),
        retries: 2,
        ..policy()
    };
    let err = cosco(vec![url], rpc).status().await.unwrap_err();
    match &err {
        AdapterError::Unavailable { reason, .. } => {
            assert!(reason.contains("3 attempts"), "{reason}");
            assert!(reason.contains("no answer within 200ms"), "{reason}");
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    // Each attempt was written before it timed out; the ledger sees all three.
    eventually("three calls to arrive", || calls.get() >= 3).await;
    assert_eq!(calls.get(), 3);
}

// ---------------------------------------------------------------- answers

#[tokio::test]
async fn an_unknown_wire_version_is_refused_by_name() {
    let mut status = serde_json::to_value(node_status("cosco-1", FamilyName::Cosco)).unwrap();
    status["version"] = 9.into();
    // A version 9 message may have another shape: the version is still named.
    let channels = serde_json::json!({"version": 2, "channels": "a new shape"});
    let url = serve(
        Router::new()
            .route("/v1/status", get(move || async move { Json(status) }))
            .route("/v1/channels", get(move || async move { Json(channels) })),
    )
    .await;
    let adapter = cosco(vec![url], policy());

    let err = adapter.status().await.unwrap_err();
    assert!(
        matches!(&err, AdapterError::BadResponse { reason, .. } if reason.contains("unsupported wire version 9")),
        "{err:?}"
    );
    let err = adapter.channels().await.unwrap_err();
    assert!(
        matches!(&err, AdapterError::BadResponse { reason, .. } if reason.contains("unsupported wire version 2")),
        "{err:?}"
    );
}

/// Every answer the relayer reads refuses a field it does not know, by its
/// name, at the top or deep inside (a ledger's answer is not read leniently:
/// a field one side writes and the other drops is a disagreement on what
/// was said); a repeated key is refused the same way.
#[tokio::test]
async fn an_answer_with_an_unknown_field_is_refused_by_name() {
    let mut status = serde_json::to_value(node_status("cosco-1", FamilyName::Cosco)).unwrap();
    status["surprise"] = true.into();
    let mut header = serde_json::to_value(HeaderResponse {
        version: 1,
        height: 2,
        header: cosco_header(),
    })
    .unwrap();
    // Deep inside: next to the header's family tag.
    header["header"]["extra"] = 1.into();
    let channels = r#"{"version":1,"height":4,"height":5,"channels":[]}"#;
    let tx = serde_json::json!({
        "version": 1, "id": "ab", "height": null,
        "results": [{"status": "err", "check": "c", "message": "m", "hint": "x"}],
    });
    let url = serve(
        Router::new()
            .route("/v1/status", get(move || async move { Json(status) }))
            .route("/v1/headers/{h}", get(move || async move { Json(header) }))
            .route(
                "/v1/channels",
                get(move || async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        channels,
                    )
                }),
            )
            .route("/v1/tx/{id}", get(move || async move { Json(tx) })),
    )
    .await;
    let adapter = cosco(vec![url], policy());
    let bad = |err: AdapterError, name: &str| match &err {
        AdapterError::BadResponse { reason, .. } => {
            assert!(reason.contains(name), "{name}: {reason}")
        }
        other => panic!("{name}: expected a bad response, got {other:?}"),
    };
    bad(
        adapter.status().await.unwrap_err(),
        "unknown field `surprise`",
    );
    // serde names a key beside an adjacent tag as an invalid value.
    bad(adapter.header(2).await.unwrap_err(), "string \"extra\"");
    bad(
        adapter.channels().await.unwrap_err(),
        "duplicate key \"height\"",
    );
    bad(
        adapter.wait_tx("ab").await.unwrap_err(),
        "unknown field `hint`",
    );
}

#[tokio::test]
async fn current_messages_are_read() {
    let header = HeaderResponse {
        version: 1,
        height: 2,
        header: cosco_header(),
    };
    let url = serve(
        Router::new()
            .route("/v1/headers/{h}", get(move || async move { Json(header) }))
            .route(
                "/v1/channels",
                get(|| async {
                    Json(ChannelsResponse {
                        version: 1,
                        height: 4,
                        channels: vec![],
                    })
                }),
            ),
    )
    .await;
    let adapter = cosco(vec![url], policy());
    let header = adapter.header(2).await.unwrap();
    assert_eq!(header.family(), FamilyName::Cosco);
    assert!(adapter.channels().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_header_of_another_family_is_a_bad_response() {
    let header = HeaderResponse {
        version: 1,
        height: 2,
        header: cosco_header(),
    };
    let url =
        serve(Router::new().route("/v1/headers/{h}", get(move || async move { Json(header) })))
            .await;
    let gba = HttpAdapter::new(&AdapterConfig::new(
        FamilyName::Gba,
        chain_config("cosco-1", vec![url], policy()),
    ))
    .unwrap();
    let err = gba.header(2).await.unwrap_err();
    assert!(
        matches!(&err, AdapterError::BadResponse { reason, .. } if reason.contains("a cosco header from a gba chain")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_header_at_another_height_or_of_another_chain_is_a_bad_response() {
    // The envelope says 3; the signed header inside is at height 2.
    let relabelled = HeaderResponse {
        version: 1,
        height: 3,
        header: cosco_header(),
    };
    let url = serve(Router::new().route(
        "/v1/headers/{h}",
        get(move || async move { Json(relabelled) }),
    ))
    .await;
    let err = cosco(vec![url.clone()], policy())
        .header(3)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AdapterError::BadResponse { reason, .. } if reason.contains("signed header is at height 2")),
        "{err:?}"
    );
    let other_chain = HttpAdapter::new(&AdapterConfig::new(
        FamilyName::Cosco,
        chain_config("cosco-2", vec![url], policy()),
    ))
    .unwrap();
    let err = other_chain.header(3).await.unwrap_err();
    assert!(matches!(err, AdapterError::BadResponse { .. }), "{err:?}");
}

#[tokio::test]
async fn the_status_of_another_chain_is_a_bad_response() {
    let url = serve(Router::new().route(
        "/v1/status",
        get(|| async { Json(node_status("cosco-1", FamilyName::Cosco)) }),
    ))
    .await;
    let err = HttpAdapter::new(&AdapterConfig::new(
        FamilyName::Cosco,
        chain_config("cosco-9", vec![url], policy()),
    ))
    .unwrap()
    .status()
    .await
    .unwrap_err();
    assert!(
        matches!(&err, AdapterError::BadResponse { reason, .. } if reason.contains("serves cosco chain cosco-1")),
        "{err:?}"
    );
}

#[tokio::test]
async fn not_found_is_not_found_and_not_retried() {
    let calls = Counter::default();
    let c = calls.clone();
    let url = serve(Router::new().route(
        "/v1/headers/{h}",
        get(move |Path(h): Path<u64>| async move {
            c.hit();
            error(
                404,
                "not_found",
                &format!("no block at height {h} (latest 5)"),
            )
        }),
    ))
    .await;
    let err = cosco(vec![url], policy()).header(7).await.unwrap_err();
    assert!(
        matches!(&err, AdapterError::NotFound { what, .. } if what == "no block at height 7 (latest 5)"),
        "{err:?}"
    );
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn no_content_on_next_header_is_none() {
    let (queries_tx, mut queries) = mpsc::unbounded_channel();
    let url = serve(Router::new().route(
        "/v1/headers/next",
        get(move |RawQuery(q): RawQuery| async move {
            queries_tx.send(q).unwrap();
            StatusCode::NO_CONTENT
        }),
    ))
    .await;
    let next = cosco(vec![url], policy())
        .next_header(5, Duration::from_millis(250))
        .await
        .unwrap();
    assert!(next.is_none());
    assert_eq!(
        queries.recv().await.unwrap().as_deref(),
        Some("after=5&wait_ms=250")
    );
}

#[tokio::test]
async fn next_header_returns_the_header_after() {
    let header = HeaderResponse {
        version: 1,
        height: 2,
        header: cosco_header(),
    };
    let url =
        serve(Router::new().route("/v1/headers/next", get(move || async move { Json(header) })))
            .await;
    let adapter = cosco(vec![url], policy());
    let next = adapter
        .next_header(1, Duration::from_millis(10))
        .await
        .unwrap();
    assert_eq!(next.map(|h| h.family()), Some(FamilyName::Cosco));
    // Asked for the header after 2, it got 2 again.
    let err = adapter
        .next_header(2, Duration::from_millis(10))
        .await
        .unwrap_err();
    assert!(matches!(err, AdapterError::BadResponse { .. }), "{err:?}");
}

#[tokio::test]
async fn not_yet_provable_is_refused_with_its_code_and_not_retried() {
    let calls = Counter::default();
    let c = calls.clone();
    let url = serve(Router::new().route(
        "/v1/blocks/{h}/events",
        get(move || async move {
            c.hit();
            error(
                409,
                "not_yet_provable",
                "block 4's roots are committed by header 5, not sealed yet",
            )
        }),
    ))
    .await;
    let err = cosco(vec![url], policy())
        .block_events(4)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AdapterError::Refused { status: 409, code, .. } if code == "not_yet_provable"),
        "{err:?}"
    );
    assert!(err.is_transient(), "the relayer asks again later");
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn an_error_status_without_an_error_body_is_a_bad_response() {
    let url = serve(Router::new().route(
        "/v1/clients",
        get(|| async { (StatusCode::BAD_REQUEST, "<html>proxy says no</html>") }),
    ))
    .await;
    let err = cosco(vec![url], policy()).clients().await.unwrap_err();
    assert!(
        matches!(&err, AdapterError::BadResponse { reason, .. } if reason.contains("400") && reason.contains("proxy says no")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_body_too_large_is_one_refusal_from_the_ledger_or_a_proxy_and_is_not_retried() {
    // The ledger's own 413 keeps its code; a proxy's page (no error body)
    // gets the same code, so the relayer recognises both and splits.
    for (answer, from_ledger) in [
        (error(413, "body_too_large", "length limit exceeded"), true),
        (
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "<html>413 Request Entity Too Large</html>",
            )
                .into_response(),
            false,
        ),
    ] {
        let calls = Counter::default();
        let c = calls.clone();
        let answer = std::sync::Arc::new(std::sync::Mutex::new(Some(answer)));
        let url = serve(Router::new().route(
            "/v1/tx",
            post(move || async move {
                c.hit();
                answer.lock().unwrap().take().expect("one call")
            }),
        ))
        .await;
        let err = cosco(vec![url], policy())
            .submit_pending(&signed_tx())
            .await
            .unwrap_err();
        assert!(err.is_too_large(), "{err:?}");
        assert!(!err.is_transient(), "resending it as it is cannot help");
        assert!(
            matches!(&err, AdapterError::Refused { status: 413, code, message, .. }
                if code == adapters::chain::BODY_TOO_LARGE
                    && message.contains("other than the ledger") != from_ledger),
            "{err:?}"
        );
        assert_eq!(calls.get(), 1, "sent once");
    }
    let other = AdapterError::Refused {
        chain: ChainId::new("cosco-1").unwrap(),
        status: 400,
        code: "bad_key".into(),
        message: String::new(),
    };
    assert!(!other.is_too_large());
}

#[tokio::test]
async fn a_proxy_error_page_is_unavailable_after_the_retries() {
    let calls = Counter::default();
    let c = calls.clone();
    let url = serve(Router::new().fallback(move || async move {
        c.hit();
        (StatusCode::BAD_GATEWAY, "<html>502 bad gateway</html>")
    }))
    .await;
    let err = cosco(vec![url], policy()).clients().await.unwrap_err();
    assert!(
        matches!(&err, AdapterError::Unavailable { reason, .. } if reason.contains("502")),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(calls.get(), 4, "one call and three retries");
}

#[tokio::test]
async fn a_refusal_keeps_the_ledgers_code_and_message() {
    let url = serve(Router::new().route(
        "/v1/accounts/{key}",
        get(|| async { error(400, "bad_key", "not a key") }),
    ))
    .await;
    let err = cosco(vec![url], policy())
        .account(&RelayerKey([3; 32]))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AdapterError::Refused {
            chain: ChainId::new("cosco-1").unwrap(),
            status: 400,
            code: "bad_key".to_string(),
            message: "not a key".to_string(),
        }
    );
}

// ---------------------------------------------------------------- isolation and limits

#[tokio::test]
async fn a_dead_chain_does_not_block_another_chain() {
    // Chain A: a closed port, then a ledger that holds every request until
    // released. Chain B: a live ledger.
    let release = Arc::new(Semaphore::new(0));
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let held = {
        let release = release.clone();
        serve(Router::new().route(
            "/v1/status",
            get(move || async move {
                entered_tx.send(()).unwrap();
                release.acquire().await.unwrap().forget();
                error(503, "unavailable", "overloaded")
            }),
        ))
        .await
    };
    let dead_rpc = RpcPolicy {
        timeout: Duration::from_secs(600),
        retries: 1,
        concurrency: 1,
        ..policy()
    };
    let dead: Arc<dyn ChainAdapter> = Arc::new(
        HttpAdapter::new(&AdapterConfig::new(
            FamilyName::Cosco,
            chain_config("cosco-1", vec![dead_endpoint(), held], dead_rpc),
        ))
        .unwrap(),
    );
    let live_calls = Counter::default();
    let live_url = status_ledger(live_calls.clone()).await;
    let live: Arc<dyn ChainAdapter> = Arc::new(
        HttpAdapter::new(&AdapterConfig::new(
            FamilyName::Cosco,
            chain_config("cosco-1", vec![live_url], policy()),
        ))
        .unwrap(),
    );

    let (done_tx, mut done) = mpsc::unbounded_channel();
    let mut dead_calls = Vec::new();
    for name in ["dead 1", "dead 2"] {
        let (dead, done_tx) = (dead.clone(), done_tx.clone());
        dead_calls.push(tokio::spawn(async move {
            let result = dead.status().await;
            done_tx.send(name).unwrap();
            result
        }));
    }
    // Chain A is busy on its held endpoint (its one permit taken, the other
    // call queued behind it) when chain B is asked.
    entered.recv().await.unwrap();
    let live_call = {
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            let result = live.status().await;
            done_tx.send("live").unwrap();
            result
        })
    };
    assert_eq!(done.recv().await.unwrap(), "live");
    live_call.await.unwrap().unwrap();
    assert!(dead_calls.iter().all(|c| !c.is_finished()));

    release.add_permits(16);
    let mut order = vec!["live"];
    for _ in 0..2 {
        order.push(done.recv().await.unwrap());
    }
    for call in dead_calls {
        let err = call.await.unwrap().unwrap_err();
        assert!(err.is_transient(), "{err:?}");
    }
    assert_eq!(order[0], "live");
    assert_eq!(live_calls.get(), 1);
}

#[tokio::test]
async fn the_concurrency_limit_holds_requests_back() {
    let release = Arc::new(Semaphore::new(0));
    let in_flight = Counter::default();
    let most = Arc::new(AtomicUsize::new(0));
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let url = {
        let (release, in_flight, most) = (release.clone(), in_flight.clone(), most.clone());
        serve(Router::new().route(
            "/v1/channels",
            get(move || async move {
                let now = in_flight.hit() + 1;
                most.fetch_max(now, Ordering::SeqCst);
                entered_tx.send(()).unwrap();
                release.acquire().await.unwrap().forget();
                in_flight.0.fetch_sub(1, Ordering::SeqCst);
                Json(ChannelsResponse {
                    version: 1,
                    height: 1,
                    channels: vec![],
                })
            }),
        ))
        .await
    };
    let rpc = RpcPolicy {
        concurrency: 1,
        retries: 0,
        ..policy()
    };
    let adapter = cosco(vec![url], rpc);
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let adapter = adapter.clone();
            tokio::spawn(async move { adapter.channels().await })
        })
        .collect();
    // Let one request through each time one is inside the ledger.
    for _ in 0..3 {
        entered.recv().await.unwrap();
        release.add_permits(1);
    }
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 1);
}

#[test]
fn an_adapter_needs_a_runtime() {
    let err = HttpAdapter::new(&AdapterConfig::new(
        FamilyName::Cosco,
        chain_config("cosco-1", vec!["http://127.0.0.1:1".into()], policy()),
    ))
    .unwrap_err();
    assert!(matches!(err, ConfigError::NoRuntime { .. }), "{err}");
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}

// ---------------------------------------------------------------- registry

fn adapter_config(family: FamilyName, chain: &str, endpoints: &[&str]) -> AdapterConfig {
    let c = chain_config(
        chain,
        endpoints.iter().map(|e| e.to_string()).collect(),
        policy(),
    );
    AdapterConfig::new(family, c)
}

#[tokio::test]
async fn the_registry_refuses_a_duplicate_chain_id() {
    let configs = vec![
        adapter_config(FamilyName::Cosco, "cosco-1", &["http://127.0.0.1:1"]),
        adapter_config(FamilyName::Gba, "cosco-1", &["http://127.0.0.1:2"]),
    ];
    let err = Registry::from_configs(configs).unwrap_err().to_string();
    assert!(err.starts_with("cosco-1.chain_id:"), "{err}");

    let registry = Registry::from_configs(vec![adapter_config(
        FamilyName::Cosco,
        "cosco-1",
        &["http://127.0.0.1:1"],
    )])
    .unwrap();
    let err = registry
        .register(adapter_config(
            FamilyName::Cmport,
            "cosco-1",
            &["http://127.0.0.1:3"],
        ))
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            ConfigError::Taken {
                family: FamilyName::Cosco,
                ..
            }
        ),
        "{err}"
    );
    let err = err.to_string();
    assert!(
        err.starts_with("cosco-1.chain_id:") && err.contains("already registered"),
        "{err}"
    );
    // The first registration stands.
    assert_eq!(registry.list()[0].1, FamilyName::Cosco);
}

#[tokio::test]
async fn the_registry_refuses_an_invalid_endpoint() {
    for bad in [
        "ftp://127.0.0.1:1",
        "127.0.0.1:8080",
        "http://",
        "not a url",
    ] {
        let config = adapter_config(FamilyName::Gba, "gba-1", &["http://127.0.0.1:1", bad]);
        let err = Registry::from_configs(vec![config.clone()])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("gba-1.endpoints[1]:"), "{bad}: {err}");
        let err = Registry::new().register(config).err().unwrap().to_string();
        assert!(err.starts_with("gba-1.endpoints[1]:"), "{bad}: {err}");
    }
}

#[tokio::test]
async fn the_registry_registers_lists_and_removes() {
    let calls = Counter::default();
    let url = status_ledger(calls.clone()).await;
    let registry = Registry::from_configs(vec![adapter_config(
        FamilyName::Gba,
        "gba-1",
        &["http://127.0.0.1:1"],
    )])
    .unwrap();
    let cosco = registry
        .register(adapter_config(
            FamilyName::Cosco,
            "cosco-1",
            &[url.as_str()],
        ))
        .unwrap();
    assert_eq!(cosco.family(), FamilyName::Cosco);

    let listed: Vec<_> = registry
        .list()
        .into_iter()
        .map(|(c, f, e, a)| (c.to_string(), f, e.len(), a))
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                "cosco-1".to_string(),
                FamilyName::Cosco,
                1,
                vec![App::Cargo]
            ),
            ("gba-1".to_string(), FamilyName::Gba, 1, vec![App::Cargo]),
        ]
    );
    let id = ChainId::new("cosco-1").unwrap();
    registry.get(&id).unwrap().status().await.unwrap();
    assert_eq!(calls.get(), 1);
    assert!(registry.remove(&id));
    assert!(!registry.remove(&id));
    assert!(registry.get(&id).is_none());
    // A task still holding the adapter keeps using it.
    cosco.status().await.unwrap();
    assert_eq!(calls.get(), 2);
}
