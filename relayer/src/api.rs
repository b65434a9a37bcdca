//! The relayer's HTTP API (axum over hyper, tower-http layers): what the
//! operator commands use, since the embedded store belongs to the one
//! relayer process. Reads are open; every route that changes something
//! needs `Authorization: Bearer <token>` (401 `invalid_token` without a valid
//! one), and with no token configured those routes are off (403). Errors are
//! JSON `{code, message}`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapters::chain::AdapterConfig;
use adapters::wire::ErrorBody;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use light_clients::{App, ChainId, ChannelId, PacketId};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::relay::clear::{ClearFilter, Trace, TraceError};
use crate::relay::coordinator::{AdapterRecord, FleetStatus, Lane, Parked};
use crate::relay::engine::{Engine, FollowState};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest a request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests served at once.
const MAX_CONCURRENT: usize = 64;
/// The server's limits (`adapters::server`) unless `[api]` says otherwise:
/// one client address may have 16 of the [`MAX_CONCURRENT`] requests in
/// flight on any route (429 beyond), so one operator's script or a scraper
/// gone wrong cannot queue every other client (the fleet's members reading
/// each other's status, Prometheus, the page) behind it.
///
/// The mutating routes (clear, retry, adapters) are operator actions: one
/// client address may send 10 a second, 20 at once (loopback exempt).
pub const SERVER_LIMITS: adapters::server::ServerLimits = adapters::server::ServerLimits {
    per_client: 16,
    rate: adapters::server::RateLimit {
        per_second: 10,
        burst: 20,
        loopback: false,
    },
    max_body: MAX_BODY_BYTES,
    ..adapters::server::ServerLimits::DEFAULT
};

/// An API error: a status and a JSON `{code, message}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                code: self.code.to_string(),
                message: self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750: the scheme, and why the token was refused.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

fn rejected(r: JsonRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(r.status(), "body_too_large", r.body_text())
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", r.body_text())
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The error body every route answers with: `adapters::wire::ErrorBody`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDoc {
    /// A stable, machine-readable code (`invalid_token`, `unknown_packet` ...).
    pub code: String,
    pub message: String,
}

/// The OpenAPI document, generated from the routes' annotations.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    info(title = "portrelay", description = "The relayer's operations API"),
    paths(page, readyz, metrics, status, trace, parked, clear, retry, list_adapters, register_adapter, remove_adapter, openapi),
    components(schemas(StatusResponse, ChainStatus, ClientStatus, LaneStatus, Requeued, AdapterView, RegisterAdapter, ErrorDoc, Trace, ClearFilter, Parked)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The bearer token scheme of the routes that change something.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /v1/openapi.json`.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "status",
    responses((status = 200, description = "this document")))]
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(<ApiDoc as utoipa::OpenApi>::openapi())
}

/// Builds a running chain from an adapter registration (the daemon's job).
pub type ChainBuilder = Arc<
    dyn Fn(
            AdapterRecord,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<
                        Output = Result<crate::relay::engine::Chain, crate::daemon::DaemonError>,
                    > + Send,
            >,
        > + Send
        + Sync,
>;

/// What the routes share.
#[derive(Clone)]
pub struct ApiState {
    pub engine: Arc<Engine>,
    /// The bearer token of mutating routes; none: they are off.
    pub token: Option<Arc<str>>,
    /// Chains from the configuration file (not removable over the API).
    pub configured: Arc<BTreeSet<ChainId>>,
    pub build: ChainBuilder,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("configured", &self.configured)
            .finish_non_exhaustive()
    }
}

/// The API's routes with their layers.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/v1/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route("/v1/status", get(status))
        .route(
            "/v1/packets/{source}/{destination}/{app}/{sequence}",
            get(trace),
        )
        .route("/v1/packets/parked", get(parked))
        .route("/v1/packets/clear", post(clear))
        .route("/v1/packets/retry", post(retry))
        .route("/v1/adapters", get(list_adapters).post(register_adapter))
        .route("/v1/adapters/{chain_id}", delete(remove_adapter))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(tower::limit::ConcurrencyLimitLayer::new(MAX_CONCURRENT))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown`, then for at most
/// `limits.shutdown` (requests in flight finish, then connections close).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    limits: adapters::server::ServerLimits,
    shutdown: CancellationToken,
) -> Result<(), crate::daemon::DaemonError> {
    adapters::server::serve(listener, router(state), limits, shutdown)
        .await
        .map_err(crate::daemon::DaemonError::Serve)
}

/// Binds the API's address; the error names it.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, crate::daemon::DaemonError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| crate::daemon::DaemonError::Listen {
            addr: addr.to_string(),
            source,
        })
}

/// Lets a mutating request through only with the configured bearer token.
fn authorize(state: &ApiState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = &state.token else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "read_only",
            "no API token is configured: routes that change something are off",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "this route needs Authorization: Bearer <token>",
            )
        })?;
    if !constant_time_eq(given.trim().as_bytes(), token.as_bytes()) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the bearer token is not this relayer's",
        ));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /v1/status`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusResponse {
    #[schema(value_type = std::collections::HashMap<String, ChainStatus>)]
    pub chains: BTreeMap<ChainId, ChainStatus>,
    pub lanes: Vec<LaneStatus>,
    /// Every ledger's clients of the others, as those ledgers report them now.
    pub clients: Vec<ClientStatus>,
    pub in_flight: usize,
    pub parked: usize,
    pub delivered: u64,
    pub acked: u64,
    /// With the Redis coordinator: this member, the members with the leases
    /// each holds, each lane's queue depth (absent for a single relayer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub fleet: Option<FleetStatus>,
}

/// A chain as the relayer sees it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainStatus {
    pub family: String,
    pub endpoints: Vec<String>,
    /// `config` (the file) or `registered` (over the API).
    pub origin: String,
    /// The follower: verified height, next scan, frozen (with evidence),
    /// misbehaviour reports, last error, witnesses.
    #[schema(value_type = Object)]
    pub follow: serde_json::Value,
}

/// A ledger's client of another chain.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClientStatus {
    /// The ledger holding the client.
    #[schema(value_type = String)]
    pub host: ChainId,
    /// The chain it follows.
    #[schema(value_type = String)]
    pub counterparty: ChainId,
    pub height: u64,
    /// Blocks behind the relayer's latest verified header of the counterparty.
    pub lag: Option<u64>,
    /// When its trusting period runs out (RFC 3339).
    pub expires_at: String,
    /// `active`, `expired` or `frozen`.
    pub status: String,
}

/// A lane's backlog.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LaneStatus {
    /// `{source, destination, app}`.
    #[schema(value_type = Object)]
    pub channel: ChannelId,
    pub kind: String,
    pub backlog: usize,
}

#[utoipa::path(get, path = "/v1/status", tag = "status",
    responses((status = 200, description = "chains, followers, lanes, jobs", body = StatusResponse)))]
async fn status(State(state): State<ApiState>) -> ApiResult<StatusResponse> {
    let engine = &state.engine;
    let follow: BTreeMap<ChainId, FollowState> = engine.follow_states();
    let mut chains = BTreeMap::new();
    for id in engine.chain_ids() {
        let Some(chain) = engine.chain(&id) else {
            continue;
        };
        let f = follow.get(&id).cloned().unwrap_or_default();
        chains.insert(
            id.clone(),
            ChainStatus {
                family: chain.adapter.family().as_str().to_string(),
                endpoints: chain.endpoints.clone(),
                origin: if state.configured.contains(&id) {
                    "config"
                } else {
                    "registered"
                }
                .to_string(),
                follow: serde_json::to_value(f).unwrap_or_default(),
            },
        );
    }
    let lanes = engine
        .queue
        .backlog()
        .await
        .map_err(store_error)?
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(Lane { channel, kind }, backlog)| LaneStatus {
            channel,
            kind: format!("{kind:?}").to_lowercase(),
            backlog,
        })
        .collect();
    let mut clients = Vec::new();
    for host in engine.chain_ids() {
        let Some(c) = engine.chain(&host) else {
            continue;
        };
        // A ledger that does not answer shows in its chain's follow state.
        let Ok(list) = c.adapter.clients().await else {
            continue;
        };
        for info in list {
            clients.push(ClientStatus {
                host: host.clone(),
                lag: engine
                    .latest_verified(&info.chain)
                    .map(|h| h.saturating_sub(info.latest_height)),
                counterparty: info.chain,
                height: info.latest_height,
                expires_at: info.expires_at.to_string(),
                status: serde_json::to_value(info.status)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
            });
        }
    }
    let (delivered, acked) = engine.metrics.counts();
    Ok(Json(StatusResponse {
        chains,
        lanes,
        clients,
        in_flight: engine.queue.in_flight(),
        parked: engine.queue.parked().await.map_err(store_error)?.len(),
        delivered,
        acked,
        fleet: engine.fleet.status().await,
    }))
}

/// `GET /`: the status page.
#[utoipa::path(get, path = "/", tag = "status",
    responses((status = 200, description = "the status page", content_type = "text/html")))]
async fn page(State(state): State<ApiState>) -> axum::response::Html<String> {
    axum::response::Html(crate::page::render(&state.engine).await)
}

/// `GET /readyz`: every chain reachable and the store usable.
#[utoipa::path(get, path = "/readyz", tag = "status",
    responses((status = 200, description = "ready"), (status = 503, description = "what is not", body = ErrorDoc)))]
async fn readyz(State(state): State<ApiState>) -> Result<&'static str, ApiError> {
    let engine = &state.engine;
    let mut down = Vec::new();
    for id in engine.chain_ids() {
        if let Some(c) = engine.chain(&id) {
            if let Err(e) = c.adapter.status().await {
                down.push(format!("{id}: {e}"));
            }
        }
    }
    if let Some(reason) = engine.fleet.unavailable() {
        down.push(format!("coordinator: {reason}"));
    } else if let Some(id) = engine.chain_ids().first() {
        if let Err(e) = engine.store.checkpoint(id).await {
            down.push(format!("store: {e}"));
        }
    }
    engine.metrics.ready.set(i64::from(down.is_empty()));
    if down.is_empty() {
        Ok("ready")
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            down.join("; "),
        ))
    }
}

/// `GET /metrics`: the Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "status",
    responses((status = 200, description = "Prometheus text format (docs/metrics.md)", content_type = "text/plain")))]
async fn metrics(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let text =
        state.engine.metrics.encode().map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "metrics", e.to_string())
        })?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

fn chain_param(name: &str, value: &str) -> Result<ChainId, ApiError> {
    ChainId::new(value).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            format!("{name}: {e}"),
        )
    })
}

#[utoipa::path(get, path = "/v1/packets/{source}/{destination}/{app}/{sequence}", tag = "packets",
    params(
        ("source" = String, Path, description = "source chain id"),
        ("destination" = String, Path, description = "destination chain id"),
        ("app" = String, Path, description = "cargo, payment or ebl"),
        ("sequence" = u64, Path, description = "the packet's sequence on its channel"),
    ),
    responses(
        (status = 200, description = "where the packet is", body = Trace),
        (status = 400, description = "a malformed parameter", body = ErrorDoc),
        (status = 404, description = "unknown packet or chain", body = ErrorDoc),
        (status = 502, description = "a ledger did not answer", body = ErrorDoc),
    ))]
async fn trace(
    State(state): State<ApiState>,
    Path((source, destination, app, sequence)): Path<(String, String, String, String)>,
) -> ApiResult<Trace> {
    let bad = |what: String| ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", what);
    let channel = ChannelId {
        source: chain_param("source", &source)?,
        destination: chain_param("destination", &destination)?,
        app: app.parse::<App>().map_err(|e| bad(format!("app: {e}")))?,
    };
    let sequence: u64 = sequence
        .parse()
        .map_err(|e| bad(format!("sequence {sequence:?}: {e}")))?;
    let packet = PacketId { channel, sequence };
    match state.engine.trace(&packet).await {
        Ok(t) if t.stage == "unknown" => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_packet",
            format!("{packet}: not sent by the source, and not queued"),
        )),
        Ok(t) => Ok(Json(t)),
        Err(e @ TraceError::UnknownChain(_)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_chain",
            e.to_string(),
        )),
        Err(TraceError::Adapter(e)) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "ledger_unavailable",
            e.to_string(),
        )),
        Err(TraceError::Coordinator(e)) => Err(store_error(e)),
    }
}

#[utoipa::path(get, path = "/v1/packets/parked", tag = "packets",
    responses((status = 200, description = "parked jobs with their reasons", body = Vec<Parked>)))]
async fn parked(State(state): State<ApiState>) -> ApiResult<Vec<Parked>> {
    Ok(Json(
        state.engine.queue.parked().await.map_err(store_error)?,
    ))
}

/// Answer of `POST /v1/packets/clear` and `/retry`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Requeued {
    pub requeued: usize,
}

#[utoipa::path(post, path = "/v1/packets/clear", tag = "packets", request_body = ClearFilter,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "jobs re-queued", body = Requeued),
        (status = 400, description = "malformed body", body = ErrorDoc),
        (status = 401, description = "missing or wrong token", body = ErrorDoc),
        (status = 403, description = "no token configured", body = ErrorDoc),
        (status = 404, description = "unknown chain", body = ErrorDoc),
    ))]
async fn clear(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Json<ClearFilter>, JsonRejection>,
) -> ApiResult<Requeued> {
    authorize(&state, &headers)?;
    let Json(filter) = body.map_err(rejected)?;
    for (name, chain) in [
        ("source", &filter.source),
        ("destination", &filter.destination),
    ] {
        if let Some(c) = chain {
            if state.engine.chain(c).is_none() {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_chain",
                    format!("{name}: {c} is not a chain this relayer serves"),
                ));
            }
        }
    }
    let requeued = state
        .engine
        .clear_once(&filter)
        .await
        .map_err(|e| match e {
            crate::relay::clear::ClearError::Adapter(e) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "ledger_unavailable", e.to_string())
            }
            crate::relay::clear::ClearError::Coordinator(e) => store_error(e),
        })?;
    Ok(Json(Requeued { requeued }))
}

#[utoipa::path(post, path = "/v1/packets/retry", tag = "packets", security(("bearer" = [])),
    responses(
        (status = 200, description = "parked jobs put back", body = Requeued),
        (status = 401, description = "missing or wrong token", body = ErrorDoc),
        (status = 403, description = "no token configured", body = ErrorDoc),
    ))]
async fn retry(State(state): State<ApiState>, headers: HeaderMap) -> ApiResult<Requeued> {
    authorize(&state, &headers)?;
    let requeued = state
        .engine
        .queue
        .retry_parked()
        .await
        .map_err(store_error)?;
    state.engine.wake_submitters();
    Ok(Json(Requeued { requeued }))
}

/// A registered adapter as the API lists it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdapterView {
    #[schema(value_type = String)]
    pub chain_id: ChainId,
    pub family: String,
    pub endpoints: Vec<String>,
    #[schema(value_type = Vec<String>)]
    pub apps: Vec<App>,
    pub origin: String,
    /// Whether the engine relays it now.
    pub running: bool,
}

#[utoipa::path(get, path = "/v1/adapters", tag = "adapters",
    responses((status = 200, description = "adapters of the file and registered ones", body = Vec<AdapterView>)))]
async fn list_adapters(State(state): State<ApiState>) -> ApiResult<Vec<AdapterView>> {
    let registered = state.engine.store.adapters().await.map_err(store_error)?;
    let mut out = Vec::new();
    for id in state.engine.chain_ids() {
        if !state.configured.contains(&id) {
            continue;
        }
        if let Some(c) = state.engine.chain(&id) {
            out.push(AdapterView {
                chain_id: id.clone(),
                family: c.adapter.family().as_str().to_string(),
                endpoints: c.endpoints.clone(),
                apps: c.apps.clone(),
                origin: "config".into(),
                running: true,
            });
        }
    }
    for r in registered {
        let chain = r.adapter.chain();
        out.push(AdapterView {
            chain_id: chain.chain_id.clone(),
            family: r.adapter.family().as_str().to_string(),
            endpoints: chain.endpoints.clone(),
            apps: chain.apps.clone(),
            origin: "registered".into(),
            running: state.engine.chain(&chain.chain_id).is_some(),
        });
    }
    Ok(Json(out))
}

fn store_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store", e.to_string())
}

/// `POST /v1/adapters`: an adapter configuration (tagged by `family`) and the
/// relayer's key file for the chain, a path on the relayer's machine.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterAdapter {
    /// `{family, chain_id, endpoints, apps, rpc}` as in a `[[chains]]` entry.
    #[schema(value_type = Object)]
    pub adapter: AdapterConfig,
    #[schema(value_type = String)]
    pub key_file: std::path::PathBuf,
}

#[utoipa::path(post, path = "/v1/adapters", tag = "adapters", request_body = RegisterAdapter,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "registered and followed", body = AdapterView),
        (status = 400, description = "malformed or invalid adapter (`invalid_adapter`), or a key file that cannot be used (`key_file`)", body = ErrorDoc),
        (status = 401, description = "missing or wrong token", body = ErrorDoc),
        (status = 409, description = "the chain is relayed already", body = ErrorDoc),
        (status = 413, description = "body too large", body = ErrorDoc),
    ))]
async fn register_adapter(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Json<RegisterAdapter>, JsonRejection>,
) -> Result<(StatusCode, Json<AdapterView>), ApiError> {
    authorize(&state, &headers)?;
    let Json(req) = body.map_err(rejected)?;
    req.adapter
        .validate()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_adapter", e.to_string()))?;
    let id = req.adapter.chain().chain_id.clone();
    if state.configured.contains(&id) || state.engine.chain(&id).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "adapter_exists",
            format!("{id} is relayed already; remove it first (chains of the configuration file are changed there)"),
        ));
    }
    let record = AdapterRecord {
        adapter: req.adapter,
        key_file: req.key_file,
    };
    // Build it first: a registration that cannot run is refused, not stored.
    let chain = (state.build)(record.clone()).await.map_err(|e| {
        // A key file that cannot be used (missing, a named pipe, a device,
        // too large, not a key) is named as such.
        let code = match e {
            crate::daemon::DaemonError::Key { .. } => "key_file",
            _ => "invalid_adapter",
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, e.to_string())
    })?;
    state
        .engine
        .store
        .put_adapter(&record)
        .await
        .map_err(store_error)?;
    state
        .engine
        .add_chain(id.clone(), chain)
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, "adapter_exists", e.to_string()))?;
    let c = record.adapter.chain();
    Ok((
        StatusCode::CREATED,
        Json(AdapterView {
            chain_id: id,
            family: record.adapter.family().as_str().to_string(),
            endpoints: c.endpoints.clone(),
            apps: c.apps.clone(),
            origin: "registered".into(),
            running: true,
        }),
    ))
}

#[utoipa::path(delete, path = "/v1/adapters/{chain_id}", tag = "adapters",
    params(("chain_id" = String, Path, description = "the chain")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "removed"),
        (status = 401, description = "missing or wrong token", body = ErrorDoc),
        (status = 404, description = "no such adapter", body = ErrorDoc),
        (status = 409, description = "a chain of the configuration file", body = ErrorDoc),
    ))]
async fn remove_adapter(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(chain_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    authorize(&state, &headers)?;
    let id = chain_param("chain_id", &chain_id)?;
    if state.configured.contains(&id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "configured_chain",
            format!("{id} comes from the configuration file; remove it there and restart"),
        ));
    }
    let stored = state
        .engine
        .store
        .remove_adapter(&id)
        .await
        .map_err(store_error)?;
    let running = state.engine.remove_chain(&id);
    if !stored && !running {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_adapter",
            format!("no adapter is registered for {id}"),
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_lists_every_route() {
        let doc = <ApiDoc as utoipa::OpenApi>::openapi();
        let json = serde_json::to_value(&doc).unwrap();
        let paths = json["paths"].as_object().unwrap();
        for (path, method) in [
            ("/", "get"),
            ("/readyz", "get"),
            ("/metrics", "get"),
            ("/v1/openapi.json", "get"),
            ("/v1/status", "get"),
            ("/v1/packets/{source}/{destination}/{app}/{sequence}", "get"),
            ("/v1/packets/parked", "get"),
            ("/v1/packets/clear", "post"),
            ("/v1/packets/retry", "post"),
            ("/v1/adapters", "get"),
            ("/v1/adapters", "post"),
            ("/v1/adapters/{chain_id}", "delete"),
        ] {
            assert!(paths[path][method].is_object(), "{method} {path} missing");
        }
        // Every route that changes something declares the bearer token.
        for (path, method) in [
            ("/v1/packets/clear", "post"),
            ("/v1/packets/retry", "post"),
            ("/v1/adapters", "post"),
            ("/v1/adapters/{chain_id}", "delete"),
        ] {
            assert!(
                paths[path][method]["security"]
                    .to_string()
                    .contains("bearer"),
                "{method} {path}"
            );
        }
        assert!(json["components"]["securitySchemes"]["bearer"].is_object());
    }

    /// The bodies the mutating routes take refuse a field they do not
    /// know, by its name, at the top and inside (axum's `Json` reads them
    /// with serde_json; the server refused repeated keys before).
    #[test]
    fn request_bodies_refuse_unknown_fields_by_name() {
        let plain = serde_json::to_value(RegisterAdapter {
            adapter: AdapterConfig::new(
                light_clients::FamilyName::Gba,
                adapters::chain::ChainConfig {
                    chain_id: ChainId::new("gba-7").unwrap(),
                    endpoints: vec!["http://127.0.0.1:9".into()],
                    apps: vec![App::Cargo],
                    trust_root: None,
                    rpc: adapters::chain::RpcPolicy::DEVNET,
                    engine: adapters::chain::Engine::Embedded,
                },
            ),
            key_file: "/k".into(),
        })
        .unwrap();
        let read = |v: &serde_json::Value| serde_json::from_value::<RegisterAdapter>(v.clone());
        read(&plain).unwrap();
        for (path, key) in [
            (&[][..], "keyfile"),
            (&["adapter"][..], "endpoint"),
            (&["adapter", "rpc"][..], "retry"),
        ] {
            let mut bad = plain.clone();
            let mut at = &mut bad;
            for p in path {
                at = &mut at[*p];
            }
            at.as_object_mut().unwrap().insert(key.into(), 1.into());
            let e = read(&bad).unwrap_err().to_string();
            assert!(e.contains(&format!("unknown field `{key}`")), "{e}");
        }
        let e =
            serde_json::from_str::<ClearFilter>(r#"{"source":"gba-7","app":"cargo","sourse":"x"}"#)
                .unwrap_err()
                .to_string();
        assert!(e.contains("unknown field `sourse`"), "{e}");
    }

    #[test]
    fn the_documented_error_is_the_wire_error() {
        let wire = ErrorBody {
            code: "invalid_token".into(),
            message: "m".into(),
        };
        let doc: ErrorDoc = serde_json::from_value(serde_json::to_value(&wire).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(doc).unwrap(),
            serde_json::to_value(wire).unwrap()
        );
    }
}
