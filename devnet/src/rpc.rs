//! The ledger's RPC over HTTP (axum): the routes of `docs/profiles/rpc.md`.
//! Every error is a status and a JSON `{code, message}`; bodies are limited
//! in size; the ledger keeps running whatever a request holds. This is the
//! one place where the crate's errors meet HTTP statuses.

use std::time::Duration;

use adapters::wire::{
    ErrorBody, RefusedEvent, SubmitEvent, SubmittedEvents, SubmittedItem, TxResponse,
    MAX_EVENT_BATCH, WIRE_VERSION,
};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use light_clients::host::{HostError, SignedTx};
use serde::{Deserialize, Serialize};

use crate::handle::{CallError, NodeHandle};
use crate::ledger::LedgerError;
use crate::metrics::MetricsError;
use crate::prover::ProverError;

mod customs;
mod pint;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The largest `POST /v1/events/batch` body: room for [`MAX_EVENT_BATCH`]
/// events of a few kilobytes each.
pub const MAX_BATCH_BODY_BYTES: usize = 32 * 1024 * 1024;
/// The RPC server's limits (`adapters::server`): a relayer, a fleet and a
/// workload on one address share the ledger, so each client may have 1024
/// requests in flight (a flood beyond that is answered 429, whatever the
/// route: every route but `/healthz` and `/metrics` waits on the one ledger
/// thread); a JSON body is checked for repeated keys up to the batch route's
/// limit, except the events routes' (each event is checked by the event
/// rules, `json.duplicate_key`, and a batch refuses only that event).
pub const SERVER_LIMITS: adapters::server::ServerLimits = adapters::server::ServerLimits {
    per_client: 1024,
    max_body: MAX_BATCH_BODY_BYTES,
    own_key_checks: &["/v1/events"],
    ..adapters::server::ServerLimits::DEFAULT
};
/// How many events of a batch run in one job on the ledger thread, so that
/// a large batch does not hold every other request (and the block timer)
/// back for its whole length.
const EVENTS_PER_JOB: usize = 500;
/// The longest a request may wait for a block.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// An HTTP refusal: the status, and the body's stable code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(404, "not_found", message)
    }
}

/// The status of a host refusal: authentication 401, a nonce out of turn
/// 409, anything else the request's fault.
fn host_status(e: &HostError) -> u16 {
    match e {
        HostError::UnregisteredKey { .. }
        | HostError::RetiredKey { .. }
        | HostError::BadSignature { .. }
        | HostError::NotOperator { .. } => 401,
        HostError::WrongNonce { .. } => 409,
        _ => 400,
    }
}

fn ledger_status(e: &LedgerError) -> u16 {
    match e {
        LedgerError::Validators { .. }
        | LedgerError::OtherLedger { .. }
        | LedgerError::Wire(_)
        | LedgerError::ProofPackets { .. }
        | LedgerError::Policy { .. }
        | LedgerError::Statement(_) => 400,
        LedgerError::NoBlock { .. }
        | LedgerError::NoSentPacket { .. }
        | LedgerError::NoReceipt { .. }
        | LedgerError::NoRecordKind { .. }
        | LedgerError::NoAppRecord { .. }
        | LedgerError::NoZkRecord { .. } => 404,
        LedgerError::BlockOpen
        | LedgerError::NotYetProvable { .. }
        | LedgerError::SentInOpenBlock { .. }
        | LedgerError::ReceivedInOpenBlock { .. } => 409,
        // PINT's statuses: BSIG and BENV 422, DISE, INCD and MDOC 409.
        LedgerError::App(e) => e.status(),
        LedgerError::Invalid(_) => 422,
        LedgerError::Host(e) => host_status(e),
        LedgerError::WrongFamily { .. }
        | LedgerError::Missing { .. }
        | LedgerError::SnapshotVersion { .. }
        | LedgerError::SnapshotHeight { .. }
        | LedgerError::Replay { .. }
        | LedgerError::Seal(_)
        | LedgerError::Encode(_)
        | LedgerError::Record(_)
        | LedgerError::RecordField(_)
        | LedgerError::ZkDepth { .. }
        | LedgerError::ZkRoot { .. }
        | LedgerError::Store(_)
        | LedgerError::Key(_) => 500,
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        ApiError::new(ledger_status(&e), e.code(), e.to_string())
    }
}

impl From<CallError> for ApiError {
    fn from(e: CallError) -> Self {
        let status = match e {
            CallError::Stopped => 503,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<ProverError> for ApiError {
    fn from(e: ProverError) -> Self {
        let status = match e {
            ProverError::Busy { .. } => 503,
            ProverError::Unprovable(_) => 422,
            ProverError::Setup(_)
            | ProverError::Task(_)
            | ProverError::Closed(_)
            | ProverError::Entropy(_) => 500,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<MetricsError> for ApiError {
    fn from(e: MetricsError) -> Self {
        ApiError::new(500, e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response()
    }
}

fn rejected(r: JsonRejection) -> ApiError {
    let status = r.status().as_u16();
    let text = r.body_text();
    let code = if status == 413 {
        "body_too_large"
    } else {
        malformed(&text)
    };
    ApiError::new(status, code, text)
}

/// The code of a request that is not what it should be: `json.duplicate_key` when
/// the event repeats a key (refused by name), else `malformed_request`.
fn malformed(message: &str) -> &'static str {
    if message.contains(adapters::events::rules::JSON_DUPLICATE_KEY) {
        adapters::events::rules::JSON_DUPLICATE_KEY
    } else {
        "malformed_request"
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The router of a ledger node.
pub fn router(node: NodeHandle) -> Router {
    router_with(
        node,
        Limits {
            max_body_bytes: MAX_BODY_BYTES,
            advertise: true,
        },
    )
}

/// The request body limit of a node's RPC, and whether its status says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub advertise: bool,
}

/// [`router`] with another request body limit.
pub fn router_with(node: NodeHandle, limits: Limits) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route(
            "/v1/status",
            get(move |s: State<NodeHandle>| status(s, limits)),
        )
        .route("/v1/headers/next", get(next_header))
        .route("/v1/headers/{height}", get(header))
        .route("/v1/blocks/{height}/events", get(events))
        .route("/v1/blocks/{height}/state", get(state))
        .route("/v1/channels", get(channels))
        .route("/v1/clients", get(clients))
        .route("/v1/tx", post(submit_tx))
        .route("/v1/tx/{id}", get(tx))
        .route("/v1/accounts/{key}", get(account))
        .route(
            "/v1/packets/{source}/{destination}/{app}/{sequence}",
            get(packet_location),
        )
        .route(
            "/v1/receipts/{source}/{destination}/{app}/{sequence}",
            get(receipt_location),
        )
        .route("/v1/events", post(submit_event))
        .route(
            "/v1/events/batch",
            post(submit_events).layer(DefaultBodyLimit::max(MAX_BATCH_BODY_BYTES)),
        )
        .route("/v1/apps/{app}/{kind}/{key}", get(app_record))
        .route("/v1/customs/warnings", get(customs::list))
        .route("/v1/customs/warnings/stream", get(customs::stream))
        .route("/customs", get(customs::page))
        .route("/v1/zk/key", get(zk_key))
        .route("/v1/zk/disclose", post(disclose))
        .route("/v1/zk/paths/{source}/{app}", get(path_policy))
        .route("/v1/admin/rotate", post(rotate))
        .route("/v1/admin/ebl-platforms", post(register_platform))
        .route("/v1/admin/pint-platforms", post(pint::register))
        .route("/v1/pint/platform", get(pint::platform))
        .route("/v3/envelopes", post(pint::start))
        .route(
            "/v3/envelopes/{reference}/additional-documents/{checksum}",
            put(pint::document),
        )
        .route(
            "/v3/envelopes/{reference}/finish-transfer",
            put(pint::finish),
        )
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .with_state(node)
}

async fn status(
    State(node): State<NodeHandle>,
    limits: Limits,
) -> ApiResult<adapters::wire::NodeStatus> {
    let mut status = node.call(|l| l.status()).await?;
    status.max_tx_bytes = limits
        .advertise
        .then(|| max_tx_bytes_under(limits.max_body_bytes));
    Ok(Json(status))
}

/// The largest transaction body this node takes: the host's limit on a
/// body, or the RPC's on a request (which holds the body and its envelope),
/// whichever is smaller.
pub fn max_tx_bytes() -> u64 {
    max_tx_bytes_under(MAX_BODY_BYTES)
}

fn max_tx_bytes_under(max_body_bytes: usize) -> u64 {
    light_clients::host::MAX_TX_BODY_BYTES.min(max_body_bytes) as u64
}

async fn header(
    State(node): State<NodeHandle>,
    Path(height): Path<String>,
) -> ApiResult<adapters::wire::HeaderResponse> {
    let height = parse_height(&height)?;
    Ok(Json(node.call(move |l| l.header(height)).await??))
}

fn parse_height(s: &str) -> Result<u64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::new(400, "bad_height", format!("{s:?} is not a block height")))
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    after: u64,
    #[serde(default)]
    wait_ms: Option<u64>,
}

/// The header after `after`, waiting for it up to `wait_ms` (204 if none came).
async fn next_header(
    State(node): State<NodeHandle>,
    Query(q): Query<NextQuery>,
) -> Result<Response, ApiError> {
    let wait = Duration::from_millis(q.wait_ms.unwrap_or(10_000)).min(MAX_WAIT);
    let latest = node.wait_above(q.after, wait).await;
    if latest <= q.after {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let height = q.after + 1;
    Ok(Json(node.call(move |l| l.header(height)).await??).into_response())
}

async fn events(
    State(node): State<NodeHandle>,
    Path(height): Path<String>,
) -> ApiResult<adapters::wire::BlockEvents> {
    let height = parse_height(&height)?;
    Ok(Json(node.call(move |l| l.events(height)).await??))
}

async fn state(
    State(node): State<NodeHandle>,
    Path(height): Path<String>,
) -> ApiResult<adapters::wire::BlockState> {
    let height = parse_height(&height)?;
    Ok(Json(node.call(move |l| l.state(height)).await??))
}

async fn channels(State(node): State<NodeHandle>) -> ApiResult<adapters::wire::ChannelsResponse> {
    Ok(Json(node.call(|l| l.channels()).await?))
}

async fn clients(State(node): State<NodeHandle>) -> ApiResult<adapters::wire::ClientsResponse> {
    Ok(Json(node.call(|l| l.clients()).await?))
}

#[derive(Debug, Deserialize)]
struct TxQuery {
    /// Wait until the block holding the transaction is sealed.
    #[serde(default)]
    wait: bool,
}

async fn submit_tx(
    State(node): State<NodeHandle>,
    Query(q): Query<TxQuery>,
    body: Result<Json<SignedTx>, JsonRejection>,
) -> ApiResult<TxResponse> {
    let Json(tx) = body.map_err(rejected)?;
    let response = node.call(move |l| l.submit_tx(&tx)).await??;
    node.metrics.executed(&response.results);
    if !q.wait || response.height.is_some() {
        return Ok(Json(response));
    }
    wait_for_inclusion(&node, response).await
}

async fn wait_for_inclusion(node: &NodeHandle, pending: TxResponse) -> ApiResult<TxResponse> {
    let deadline = tokio::time::Instant::now() + MAX_WAIT;
    let mut seen = node.height();
    while tokio::time::Instant::now() < deadline {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        seen = node.wait_above(seen, left).await;
        let id = pending.id.clone();
        if let Some(r) = node.call(move |l| l.tx(&id)).await? {
            if r.height.is_some() {
                return Ok(Json(r));
            }
        }
    }
    Ok(Json(pending))
}

/// Where a transaction stands; with `?wait=true`, once its block is sealed
/// (or the wait ran out: `height` still none).
async fn tx(
    State(node): State<NodeHandle>,
    Path(id): Path<String>,
    Query(q): Query<TxQuery>,
) -> ApiResult<TxResponse> {
    let lookup = id.clone();
    let found = node
        .call(move |l| l.tx(&lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no transaction {id}")))?;
    if !q.wait || found.height.is_some() {
        return Ok(Json(found));
    }
    wait_for_inclusion(&node, found).await
}

async fn account(
    State(node): State<NodeHandle>,
    Path(key): Path<String>,
) -> ApiResult<adapters::wire::AccountResponse> {
    let parsed: light_clients::host::RelayerKey =
        serde_json::from_value(serde_json::Value::String(key.clone()))
            .map_err(|e| ApiError::new(400, "bad_key", format!("{key:?}: {e}")))?;
    node.call(move |l| l.account(&parsed))
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                404,
                "unregistered_key",
                format!("key {key} is not registered on this ledger"),
            )
        })
}

type PacketPath = Path<(String, String, String, String)>;

fn packet_id(
    (source, destination, app, sequence): (String, String, String, String),
) -> Result<light_clients::PacketId, ApiError> {
    let bad = |e: String| ApiError::new(400, "bad_packet_id", e);
    let channel = light_clients::ChannelId {
        source: light_clients::ChainId::new(source).map_err(bad)?,
        destination: light_clients::ChainId::new(destination).map_err(bad)?,
        app: app.parse().map_err(bad)?,
    };
    let sequence = sequence
        .parse()
        .map_err(|_| bad(format!("{sequence:?} is not a sequence")))?;
    Ok(light_clients::PacketId { channel, sequence })
}

async fn packet_location(
    State(node): State<NodeHandle>,
    Path(p): PacketPath,
) -> ApiResult<adapters::wire::PacketLocation> {
    let id = packet_id(p)?;
    Ok(Json(node.call(move |l| l.packet_location(&id)).await??))
}

async fn receipt_location(
    State(node): State<NodeHandle>,
    Path(p): PacketPath,
) -> ApiResult<adapters::wire::ReceiptLocation> {
    let id = packet_id(p)?;
    Ok(Json(node.call(move |l| l.receipt_location(&id)).await??))
}

async fn submit_event(
    State(node): State<NodeHandle>,
    body: Result<Json<SubmitEvent>, JsonRejection>,
) -> ApiResult<adapters::wire::SubmittedEvent> {
    let Json(req) = body.map_err(rejected)?;
    let (submitted, height) = node
        .call(move |l| {
            l.submit_event(&req)
                .map(|submitted| (submitted, l.building_height()))
        })
        .await??;
    // The answer names a sequence: it is given only once the block holding
    // the event is on disk, so a crash can never hand that sequence to
    // another event (an unanswered event may be lost, an answered one not).
    node.wait_sealed(height).await?;
    node.metrics.events_recorded(1);
    Ok(Json(submitted))
}

/// `GET /metrics`: the ledger's metrics in the Prometheus text format.
async fn metrics(State(node): State<NodeHandle>) -> Result<Response, ApiError> {
    let text = node.metrics.encode()?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// `POST /v1/events/batch`: the items are read one by one, so a malformed
/// item is refused at its index and the others still run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBatch {
    version: u8,
    /// Each item as sent, so that its keys are read strictly on their own.
    events: Vec<Box<serde_json::value::RawValue>>,
}

fn refused(index: usize, e: ApiError) -> SubmittedItem {
    SubmittedItem::Refused(RefusedEvent {
        index: index as u64,
        status: e.status,
        code: e.code,
        message: e.message,
    })
}

async fn submit_events(
    State(node): State<NodeHandle>,
    body: Result<Json<EventBatch>, JsonRejection>,
) -> ApiResult<SubmittedEvents> {
    let Json(batch) = body.map_err(rejected)?;
    adapters::wire::check_version("event batch", batch.version)
        .map_err(|e| ApiError::new(400, "version", e.to_string()))?;
    if batch.events.len() > MAX_EVENT_BATCH {
        return Err(ApiError::new(
            413,
            "too_many_events",
            format!(
                "a batch holds at most {MAX_EVENT_BATCH} events, this one {}",
                batch.events.len()
            ),
        ));
    }
    let items: Vec<(usize, Result<SubmitEvent, ApiError>)> = batch
        .events
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let parsed = serde_json::from_str::<SubmitEvent>(raw.get()).map_err(|e| {
                let message = format!("event {i}: {e}");
                ApiError::new(400, malformed(&message), message)
            });
            (i, parsed)
        })
        .collect();
    let mut results = Vec::with_capacity(items.len());
    // The highest block holding an event of this batch: the answer waits for its seal.
    let mut last_block = None;
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let chunk: Vec<_> = items.by_ref().take(EVENTS_PER_JOB).collect();
        let indexes: Vec<usize> = chunk.iter().map(|(i, _)| *i).collect();
        let done = node
            .call(move |l| {
                let answers = chunk
                    .into_iter()
                    .map(|(i, item)| {
                        match item.and_then(|req| l.submit_event(&req).map_err(ApiError::from)) {
                            Ok(submitted) => SubmittedItem::Submitted(submitted),
                            Err(e) => refused(i, e),
                        }
                    })
                    .collect::<Vec<_>>();
                (answers, l.building_height())
            })
            .await;
        match done {
            Ok((answers, height)) => {
                if answers
                    .iter()
                    .any(|a| matches!(a, SubmittedItem::Submitted(_)))
                {
                    last_block = Some(height);
                }
                results.extend(answers)
            }
            // The ledger stopped: what it did not take is answered as such, not dropped.
            Err(e) => {
                let e = ApiError::from(e);
                results.extend(indexes.into_iter().map(|i| refused(i, e.clone())))
            }
        }
    }
    // As for one event: sequences are answered only once their blocks are
    // on disk. Blocks are sealed in order, so the last one covers the rest.
    if let Some(height) = last_block {
        if let Err(e) = node.wait_sealed(height).await {
            // The ledger stopped before sealing them: they may be lost, so
            // none is answered as taken.
            let e = ApiError::from(e);
            for (i, r) in results.iter_mut().enumerate() {
                if matches!(r, SubmittedItem::Submitted(_)) {
                    *r = refused(i, e.clone());
                }
            }
        }
    }
    let recorded = results
        .iter()
        .filter(|r| matches!(r, SubmittedItem::Submitted(_)))
        .count();
    node.metrics.events_recorded(recorded as u64);
    Ok(Json(SubmittedEvents {
        version: WIRE_VERSION,
        results,
    }))
}

async fn app_record(
    State(node): State<NodeHandle>,
    Path((app, kind, key)): Path<(String, String, String)>,
) -> ApiResult<serde_json::Value> {
    Ok(Json(
        node.call(move |l| l.app_record(&app, &kind, &key))
            .await??,
    ))
}

fn prover(node: &NodeHandle) -> Result<&std::sync::Arc<crate::prover::Prover>, ApiError> {
    node.prover.as_ref().ok_or_else(|| {
        ApiError::new(
            404,
            "no_prover",
            format!("{} runs no disclosure prover", node.chain_id),
        )
    })
}

async fn zk_key(State(node): State<NodeHandle>) -> ApiResult<adapters::wire::ZkKeyResponse> {
    Ok(Json(prover(&node)?.key()))
}

/// Proves what the request's policy asks of some packets' records, one
/// proof per K packets: each witness is read on the ledger thread, each
/// proof built in the prover's pool.
async fn disclose(
    State(node): State<NodeHandle>,
    body: Result<Json<adapters::wire::DiscloseRequest>, JsonRejection>,
) -> ApiResult<adapters::wire::DisclosureResponse> {
    let Json(req) = body.map_err(rejected)?;
    let prover = prover(&node)?.clone();
    adapters::wire::check_version("disclose request", req.version)
        .map_err(|e| ApiError::new(400, "version", e.to_string()))?;
    if req.packets.is_empty() || req.packets.len() > adapters::wire::MAX_DISCLOSE_PACKETS {
        return Err(ApiError::new(
            400,
            "packets",
            format!(
                "a request names 1 to {} packets, not {}",
                adapters::wire::MAX_DISCLOSE_PACKETS,
                req.packets.len()
            ),
        ));
    }
    let params = prover.params();
    let proof_height = req.proof_height;
    let policy = std::sync::Arc::new(req.policy);
    let mut disclosures = Vec::new();
    for chunk in req.packets.chunks(params.records) {
        let (packets, policy) = (chunk.to_vec(), policy.clone());
        let witness = node
            .call(move |l| l.witness(proof_height, &packets, &policy, params))
            .await??;
        disclosures.push(prover.prove(witness).await?);
    }
    Ok(Json(adapters::wire::DisclosureResponse {
        version: WIRE_VERSION,
        proof_height,
        disclosures,
    }))
}

async fn path_policy(
    State(node): State<NodeHandle>,
    Path((source, app)): Path<(String, String)>,
) -> ApiResult<adapters::wire::PathPolicyResponse> {
    let source: light_clients::ChainId = source
        .parse()
        .map_err(|e: String| ApiError::new(400, "chain_id", e))?;
    let app: light_clients::App = app
        .parse()
        .map_err(|e: String| ApiError::new(400, "app", e))?;
    Ok(Json(node.call(move |l| l.path_policy(&source, app)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateRequest {
    validators: usize,
}

#[derive(Debug, Serialize)]
struct RotateResponse {
    /// The first height signed by the new set.
    effective_height: u64,
}

async fn rotate(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    body: Result<Json<RotateRequest>, JsonRejection>,
) -> ApiResult<RotateResponse> {
    authorize(&node, &headers)?;
    let Json(req) = body.map_err(rejected)?;
    let effective_height = node.call(move |l| l.rotate(req.validators)).await??;
    Ok(Json(RotateResponse { effective_height }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformRequest {
    chain: light_clients::ChainId,
    key: light_clients::host::RelayerKey,
}

/// Registers the eBL platform key of a counterparty ledger: transfers from
/// there must then be signed with it (PINT BSIG otherwise).
async fn register_platform(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    body: Result<Json<PlatformRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    authorize(&node, &headers)?;
    let Json(req) = body.map_err(rejected)?;
    node.call(move |l| l.register_platform(req.chain, req.key))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Admin calls need `Authorization: Bearer <data-dir/admin.token>`.
fn authorize(node: &NodeHandle, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(token) if constant_time_eq(token.as_bytes(), node.admin_token.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(
            401,
            "invalid_token",
            "the bearer token is not this ledger's admin token",
        )),
        None => Err(ApiError::new(
            401,
            "invalid_token",
            "admin calls need Authorization: Bearer <admin token>",
        )),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
