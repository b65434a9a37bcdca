//! The RPC client of a ledger of any family: hyper over HTTP/1 in tower layers
//! (per-attempt timeout, retry with backoff and failover across endpoints,
//! concurrency and rate limits), and the checks every answer passes.
//!
//! The three families serve the same routes with the same wire types
//! (`wire`); what differs is the header inside a `HeaderResponse`, which
//! serde decodes by its `family` tag and which `HttpAdapter` checks against
//! the chain's family (and reads its height and chain id with that family's
//! own `Family::summary`). So one type serves every family, parameterised by
//! [`FamilyName`]; `registry` builds it once per family.
//!
//! Each chain has its own client and its own stack, so a slow or dead chain
//! holds only its own permits, queue and connections:
//!
//! ```text
//! Retry<Failover>          per call: which attempts, which endpoint, backoff
//!   Buffer                 one owner for the limiters; clones are handles
//!     ConcurrencyLimit     requests in flight to this chain
//!       RateLimit          requests started per second on this chain
//!         Transport        one attempt: send, read the body, under a timeout
//! ```
//!
//! - Retry is outermost so that every attempt passes the limits again (an
//!   attempt is what loads a ledger) and a call sleeping in backoff holds no
//!   permit.
//! - `RateLimit` keeps its window in `&mut self` and is not `Clone`: a copy
//!   per call would limit nothing, and a mutex cannot be held from
//!   `poll_ready` to `call` across tasks. The `Buffer` gives the limiters one
//!   owner, a worker task, and every clone of the buffer is a cheap handle
//!   (a channel sender). The worker waits for a permit and for the rate
//!   window before it takes the next request, so waiting happens in order.
//! - The timeout is innermost, in `Transport`: it counts only the time spent
//!   on an endpoint, not in the queue ("per request, per endpoint"), and a
//!   long poll (`next_header`) gets its wait on top, which a fixed tower
//!   `Timeout` cannot express.
//!
//! Retries: every GET is safe to repeat and is retried on a transient failure
//! (connect error, timeout, broken connection, 5xx, 429), first on the other
//! endpoints at once, then, each time all were tried, after an exponential
//! backoff with jitter, up to `RpcPolicy::retries` retries in all. A POST
//! (`/v1/tx`, `/v1/events`, `/v1/events/batch`) is sent once per call: it moves to the next
//! endpoint only when it could not connect (nothing was sent), never after a
//! timeout or an error status, which may come after the ledger took it.
//! `409 not_yet_provable` is not retried here: it is returned as
//! `AdapterError::Refused` with that code, and the relayer decides when to
//! ask again (`AdapterError::is_transient` says it may).
//!
//! Failover: the adapter remembers the endpoint that last answered and
//! starts there; an endpoint that fails transiently hands that place to the
//! next one, so one dead endpoint beside a live one costs one refused
//! connection, once.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use light_clients::any::{AnyHeader, FamilyName};
use light_clients::cmport::Cmport;
use light_clients::cosco::Cosco;
use light_clients::gba::Gba;
use light_clients::host::{Channel, RelayerKey, SignedTx};
use light_clients::verify::{Family, HeaderSummary, VerifyError};
use light_clients::{ChainId, PacketId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower::buffer::Buffer;
use tower::limit::concurrency::future::ResponseFuture as PermitFuture;
use tower::limit::{ConcurrencyLimit, RateLimit};
use tower::retry::{Policy, Retry};
use tower::{BoxError, Service, ServiceBuilder, ServiceExt};

use crate::chain::{AdapterConfig, AdapterError, ChainAdapter, ConfigError, RpcPolicy};
use crate::wire::{
    self, AccountResponse, BlockEvents, ChannelsResponse, ClientInfo, ClientsResponse, ErrorBody,
    HeaderResponse, NodeStatus, PacketLocation, ReceiptLocation, SubmitEvent, SubmittedEvent,
    SubmittedEvents, SubmittedItem, TxResponse, MAX_EVENT_BATCH, WIRE_VERSION,
};

/// The largest answer read from a ledger; a larger one is a bad response
/// (a block's events with proofs stay far below it).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// How long an idle connection stays pooled.
const POOL_IDLE: Duration = Duration::from_secs(30);
/// How much of an unexpected body an error quotes.
const QUOTE_BYTES: usize = 200;

type Body = Full<Bytes>;
type TransportFuture = Pin<Box<dyn Future<Output = Result<Response<Bytes>, BoxError>> + Send>>;
type Limits = ConcurrencyLimit<RateLimit<Transport>>;
type Rpc = Retry<Failover, Buffer<Request<Body>, PermitFuture<TransportFuture>>>;

/// A ledger's RPC client, for a chain of any family (see the module doc).
/// Cloning is cheap: clones share the client, limits and endpoint choice.
#[derive(Clone)]
pub struct HttpAdapter {
    chain: ChainId,
    family: FamilyName,
    /// The configured base URLs, without a trailing `/`.
    endpoints: Arc<[String]>,
    /// Index of the endpoint the next call starts at (shared with `Failover`).
    preferred: Arc<AtomicUsize>,
    service: Rpc,
}

impl std::fmt::Debug for HttpAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAdapter")
            .field("chain", &self.chain)
            .field("family", &self.family)
            .field("endpoints", &self.endpoints)
            .field("active_endpoint", &self.active_endpoint())
            .finish_non_exhaustive()
    }
}

impl HttpAdapter {
    /// Builds the adapter of a chain. The configuration is validated first
    /// (errors name the key). Must run inside a tokio runtime: the limiters'
    /// worker task and timers live there, and die with it. Production code
    /// builds adapters through `registry::build`, which picks the family's.
    pub fn new(config: &AdapterConfig) -> Result<Self, ConfigError> {
        Self::observed(config, None)
    }

    /// [`HttpAdapter::new`], with every attempt reported to `observer`.
    pub fn observed(
        tagged: &AdapterConfig,
        observer: Option<Arc<dyn RpcObserver>>,
    ) -> Result<Self, ConfigError> {
        tagged.validate()?;
        let family = tagged.family();
        let config = tagged.chain();
        let chain = config.chain_id.clone();
        let policy = config.rpc;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| ConfigError::NoRuntime {
                chain: chain.clone(),
            })?;

        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_max_idle_per_host(policy.concurrency)
            .build(connector);
        let limited: Limits = ServiceBuilder::new()
            .concurrency_limit(policy.concurrency)
            // A fixed one-second window: up to `rate_per_sec` may start at
            // once at the top of a second, never more within it.
            .rate_limit(policy.rate_per_sec, Duration::from_secs(1))
            .service(Transport {
                client,
                timeout: policy.timeout,
                chain: chain.clone(),
                observer,
            });
        // Bound: as many calls may wait for the worker as may be in flight;
        // callers beyond that wait in `poll_ready`, so memory stays bounded
        // however many tasks use the chain.
        let (buffer, worker) = Buffer::pair(limited, policy.concurrency);
        runtime.spawn(worker);

        let preferred = Arc::new(AtomicUsize::new(0));
        let failover = Failover::new(chain.clone(), &policy, preferred.clone());
        let endpoints = config
            .endpoints
            .iter()
            .map(|e| e.trim_end_matches('/').to_string())
            .collect();
        Ok(HttpAdapter {
            chain,
            family,
            endpoints,
            preferred,
            service: Retry::new(failover, buffer),
        })
    }

    /// The endpoint the next call starts at: the one that last answered
    /// (the first configured one until any did).
    pub fn active_endpoint(&self) -> &str {
        let n = self.endpoints.len().max(1);
        let i = self.preferred.load(Ordering::Relaxed) % n;
        self.endpoints.get(i).map_or("", String::as_str)
    }

    /// The configured endpoints, in order.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Sends a call through the stack and returns the answer, whatever its
    /// status; transport failures that outlived the retries are `Unavailable`.
    async fn send(&self, call: Call) -> Result<Response<Bytes>, AdapterError> {
        let uris = self
            .endpoints
            .iter()
            .map(|e| format!("{e}{}", call.path).parse::<Uri>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                not_sent(
                    &self.chain,
                    format!("{} is not a valid request path: {e}", call.path),
                )
            })?;
        let n = uris.len();
        let start = self.preferred.load(Ordering::Relaxed) % n.max(1);
        let Some(first) = uris.get(start).cloned() else {
            return Err(not_sent(
                &self.chain,
                "no endpoint is configured".to_string(),
            ));
        };

        let mut request = Request::new(Full::new(call.body));
        *request.method_mut() = call.method;
        *request.uri_mut() = first;
        request
            .headers_mut()
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        if request.method() == Method::POST {
            request
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        request.extensions_mut().insert(Attempt {
            uris: uris.into(),
            endpoint: start,
            number: 0,
            safety: call.safety,
            wait: call.wait,
        });
        dispatch(self.service.clone(), request)
            .await
            .map_err(|e| AdapterError::Unavailable {
                chain: self.chain.clone(),
                reason: e.to_string(),
            })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        what: &'static str,
        path: String,
    ) -> Result<T, AdapterError> {
        let response = self.send(Call::get(path.clone(), Duration::ZERO)).await?;
        self.answer(what, &path, response)
    }

    async fn post<T: DeserializeOwned>(
        &self,
        what: &'static str,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, AdapterError> {
        let body = serde_json::to_vec(body).map_err(|e| {
            not_sent(
                &self.chain,
                format!("cannot encode the {what} request: {e}"),
            )
        })?;
        let call = Call {
            method: Method::POST,
            path: path.to_string(),
            body: Bytes::from(body),
            safety: Safety::Once,
            wait: Duration::ZERO,
        };
        let response = self.send(call).await?;
        self.answer(what, path, response)
    }

    /// Reads a 2xx answer as the wire message `T`, or maps the error status.
    fn answer<T: DeserializeOwned>(
        &self,
        what: &'static str,
        path: &str,
        response: Response<Bytes>,
    ) -> Result<T, AdapterError> {
        let status = response.status();
        if status.is_success() && status != StatusCode::NO_CONTENT {
            self.decode(what, response.body())
        } else {
            Err(self.refusal(path, status, response.body()))
        }
    }

    /// Checks the message's `version` before its shape, so that a message of
    /// an unknown version is refused by its version, not by a field that
    /// version changed.
    fn decode<T: DeserializeOwned>(
        &self,
        what: &'static str,
        body: &[u8],
    ) -> Result<T, AdapterError> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u8,
        }
        let probe: Versioned = serde_json::from_slice(body)
            .map_err(|e| self.bad(format!("{what}: not a versioned wire message: {e}")))?;
        wire::check_version(what, probe.version).map_err(|e| self.bad(e.to_string()))?;
        // Strict: a repeated key, or base64 that tendermint's decoder cannot
        // survive, is refused by name before the shape is read.
        light_clients::json::from_slice(body).map_err(|e| self.bad(format!("{what}: {e}")))
    }

    /// What an answer that is not a 2xx message means: 404 is `NotFound`;
    /// another 4xx or 5xx with an `ErrorBody` is `Refused` with its code and
    /// message. Without an `ErrorBody` a 4xx is a `BadResponse`, but a 5xx or
    /// 429 is `Unavailable`: that is a proxy or load balancer in front of a
    /// ledger that did not answer (a 502 page during a restart), and the
    /// caller should see it as transient.
    fn refusal(&self, path: &str, status: StatusCode, body: &[u8]) -> AdapterError {
        // Read as strictly as a 2xx message: a body with another shape (a
        // proxy's page, an unknown field) is quoted, not half-read.
        let error_body = light_clients::json::from_slice::<ErrorBody>(body).ok();
        let transient = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
        if status == StatusCode::NOT_FOUND {
            return AdapterError::NotFound {
                chain: self.chain.clone(),
                what: error_body.map_or_else(|| path.to_string(), |e| e.message),
            };
        }
        if !(status.is_client_error() || status.is_server_error()) {
            return self.bad(format!(
                "{path}: unexpected status {status}: {}",
                quote(body)
            ));
        }
        match error_body {
            // Too large, whoever said it (the ledger, or a proxy's own
            // limit in front of it): one kind of refusal the caller can act on.
            None if status == StatusCode::PAYLOAD_TOO_LARGE => AdapterError::Refused {
                chain: self.chain.clone(),
                status: status.as_u16(),
                code: crate::chain::BODY_TOO_LARGE.to_string(),
                message: format!(
                    "{path}: status {status} from something other than the ledger: {}",
                    quote(body)
                ),
            },
            Some(e) => AdapterError::Refused {
                chain: self.chain.clone(),
                status: status.as_u16(),
                code: e.code,
                message: e.message,
            },
            None if transient => AdapterError::Unavailable {
                chain: self.chain.clone(),
                reason: format!(
                    "{path}: status {status} from something other than the ledger: {}",
                    quote(body)
                ),
            },
            None => self.bad(format!(
                "{path}: status {status} without an error body: {}",
                quote(body)
            )),
        }
    }

    /// Checks a header answer: this chain's family and chain id, and the
    /// height asked for (in the envelope and in the signed header itself).
    fn check_header(
        &self,
        response: HeaderResponse,
        height: u64,
    ) -> Result<AnyHeader, AdapterError> {
        let found = response.header.family();
        if found != self.family {
            return Err(self.bad(format!(
                "header {height}: a {found} header from a {} chain",
                self.family
            )));
        }
        if response.height != height {
            return Err(self.bad(format!(
                "asked for header {height}, got {}",
                response.height
            )));
        }
        let summary =
            summary(&response.header).map_err(|e| self.bad(format!("header {height}: {e}")))?;
        if summary.height != height {
            return Err(self.bad(format!(
                "header {height}: the signed header is at height {}",
                summary.height
            )));
        }
        if summary.chain_id != self.chain.as_str() {
            return Err(self.bad(format!(
                "header {height}: the signed header is of chain {:?}",
                summary.chain_id
            )));
        }
        Ok(response.header)
    }

    fn bad(&self, reason: String) -> AdapterError {
        AdapterError::BadResponse {
            chain: self.chain.clone(),
            reason,
        }
    }

    /// `GET /v1/blocks/{height}/state`: every channel's sequences and every
    /// counterparty client's summary after block `height`, proven. Not part
    /// of `ChainAdapter` (the relayer does not read it); `portrelay receipt
    /// export` finds the block that sent a packet with it. `409
    /// not_yet_provable` comes back as `Refused`, as for events.
    pub async fn block_state(&self, height: u64) -> Result<wire::BlockState, AdapterError> {
        let state: wire::BlockState = self
            .get("block state", format!("/v1/blocks/{height}/state"))
            .await?;
        if state.height != height {
            return Err(self.bad(format!(
                "asked for block {height}'s state, got block {}'s",
                state.height
            )));
        }
        Ok(state)
    }
}

/// Runs a request through the stack. A plain function returning a boxed
/// `Send` future: inside an `async_trait` method the compiler cannot prove
/// the stack's future `Send` for every lifetime (a known limit of
/// higher-ranked `Send` inference on `async fn` futures).
fn dispatch(service: Rpc, request: Request<Body>) -> TransportFuture {
    Box::pin(service.oneshot(request))
}

/// The family-specific part of reading a header: its own summary.
fn summary(header: &AnyHeader) -> Result<HeaderSummary, VerifyError> {
    match header {
        AnyHeader::Cmport(b) => Cmport::summary(&b.signed_header),
        AnyHeader::Cosco(b) => Cosco::summary(&b.signed_header),
        AnyHeader::Gba(b) => Gba::summary(&b.signed_header),
    }
}

/// A request that was never sent because it could not be built. The
/// `AdapterError` variants all describe a ledger's answer; the closest is
/// the refusal the ledger would give a malformed request.
fn not_sent(chain: &ChainId, message: String) -> AdapterError {
    AdapterError::Refused {
        chain: chain.clone(),
        status: 400,
        code: "malformed_request".to_string(),
        message: format!("not sent: {message}"),
    }
}

/// The start of an unexpected body, for an error message.
fn quote(body: &[u8]) -> String {
    let end = body.len().min(QUOTE_BYTES);
    let mut s = String::from_utf8_lossy(body.get(..end).unwrap_or_default()).into_owned();
    if body.len() > end {
        s.push_str("...");
    }
    format!("{s:?}")
}

/// How long a disclosure may take beyond the policy's timeout: proofs of a
/// relayer's batch at about 0.3 s a record, behind other requests.
const DISCLOSE_WAIT: Duration = Duration::from_secs(120);

#[async_trait::async_trait]
impl ChainAdapter for HttpAdapter {
    fn chain_id(&self) -> &ChainId {
        &self.chain
    }

    fn family(&self) -> FamilyName {
        self.family
    }

    /// Also checks that the endpoint serves this chain, of this family.
    async fn status(&self) -> Result<NodeStatus, AdapterError> {
        let status: NodeStatus = self.get("node status", "/v1/status".to_string()).await?;
        if status.chain_id != self.chain || status.family != self.family {
            return Err(self.bad(format!(
                "the endpoint serves {} chain {}, not {} chain {}",
                status.family, status.chain_id, self.family, self.chain
            )));
        }
        Ok(status)
    }

    async fn header(&self, height: u64) -> Result<AnyHeader, AdapterError> {
        let response: HeaderResponse = self.get("header", format!("/v1/headers/{height}")).await?;
        self.check_header(response, height)
    }

    /// A 204 (nothing sealed within `wait`) is `Ok(None)`. The attempt's
    /// timeout is the policy's plus `wait`, since the ledger holds the
    /// request that long.
    async fn next_header(
        &self,
        after: u64,
        wait: Duration,
    ) -> Result<Option<AnyHeader>, AdapterError> {
        let Some(height) = after.checked_add(1) else {
            return Ok(None);
        };
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        let path = format!("/v1/headers/next?after={after}&wait_ms={wait_ms}");
        let response = self.send(Call::get(path.clone(), wait)).await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let response: HeaderResponse = self.answer("header", &path, response)?;
        self.check_header(response, height).map(Some)
    }

    /// `409 not_yet_provable` (a gba block whose next header is not sealed)
    /// comes back as `Refused` with that code, unretried.
    async fn block_events(&self, height: u64) -> Result<BlockEvents, AdapterError> {
        let events: BlockEvents = self
            .get("block events", format!("/v1/blocks/{height}/events"))
            .await?;
        if events.height != height {
            return Err(self.bad(format!(
                "asked for block {height}'s events, got block {}'s",
                events.height
            )));
        }
        Ok(events)
    }

    async fn channels(&self) -> Result<Vec<Channel>, AdapterError> {
        let response: ChannelsResponse = self.get("channels", "/v1/channels".to_string()).await?;
        Ok(response.channels)
    }

    async fn clients(&self) -> Result<Vec<ClientInfo>, AdapterError> {
        let response: ClientsResponse = self.get("clients", "/v1/clients".to_string()).await?;
        Ok(response.clients)
    }

    async fn packet_location(&self, packet: &PacketId) -> Result<PacketLocation, AdapterError> {
        let path = format!(
            "/v1/packets/{}/{}/{}/{}",
            packet.channel.source, packet.channel.destination, packet.channel.app, packet.sequence
        );
        let found: PacketLocation = self.get("packet location", path).await?;
        if found.packet != *packet {
            return Err(self.bad(format!("asked where {packet} is, got {}", found.packet)));
        }
        Ok(found)
    }

    async fn receipt_location(&self, packet: &PacketId) -> Result<ReceiptLocation, AdapterError> {
        let path = format!(
            "/v1/receipts/{}/{}/{}/{}",
            packet.channel.source, packet.channel.destination, packet.channel.app, packet.sequence
        );
        let found: ReceiptLocation = self.get("receipt location", path).await?;
        if found.packet != *packet {
            return Err(self.bad(format!(
                "asked for the receipt of {packet}, got {}",
                found.packet
            )));
        }
        Ok(found)
    }

    async fn account(&self, key: &RelayerKey) -> Result<AccountResponse, AdapterError> {
        let account: AccountResponse = self.get("account", format!("/v1/accounts/{key}")).await?;
        if account.key != *key {
            return Err(self.bad(format!("asked for account {key}, got {}", account.key)));
        }
        Ok(account)
    }

    /// Sent once (see the module doc); a timeout leaves it unknown whether the
    /// ledger took it, which `GET /v1/tx/{id}` or the nonce tells.
    async fn submit(&self, tx: &SignedTx) -> Result<TxResponse, AdapterError> {
        self.post("transaction", "/v1/tx?wait=true", tx).await
    }

    async fn submit_pending(&self, tx: &SignedTx) -> Result<TxResponse, AdapterError> {
        self.post("transaction", "/v1/tx", tx).await
    }

    async fn wait_tx(&self, id: &str) -> Result<TxResponse, AdapterError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_sent(
                &self.chain,
                format!("{id:?} is not a transaction id"),
            ));
        }
        // The ledger waits at most 30 s for the block; so may this request.
        let path = format!("/v1/tx/{id}?wait=true");
        let response = self
            .send(Call::get(path.clone(), Duration::from_secs(30)))
            .await?;
        let found: TxResponse = self.answer("transaction", &path, response)?;
        if found.id != id {
            return Err(self.bad(format!("asked for transaction {id}, got {}", found.id)));
        }
        Ok(found)
    }

    async fn path_policy(
        &self,
        source: &ChainId,
        app: light_clients::App,
    ) -> Result<crate::wire::PathPolicyResponse, AdapterError> {
        self.get("path policy", format!("/v1/zk/paths/{source}/{app}"))
            .await
    }

    async fn zk_key(&self) -> Result<crate::wire::ZkKeyResponse, AdapterError> {
        self.get("zk key", "/v1/zk/key".to_string()).await
    }

    /// Sent once (the prover's work is not repeated blindly); the attempt
    /// may take as long as the proofs do.
    async fn disclose(
        &self,
        request: &crate::wire::DiscloseRequest,
    ) -> Result<crate::wire::DisclosureResponse, AdapterError> {
        let body = serde_json::to_vec(request).map_err(|e| {
            not_sent(
                &self.chain,
                format!("cannot encode the disclose request: {e}"),
            )
        })?;
        let path = "/v1/zk/disclose";
        let call = Call {
            method: Method::POST,
            path: path.to_string(),
            body: Bytes::from(body),
            safety: Safety::Once,
            wait: DISCLOSE_WAIT,
        };
        let response = self.send(call).await?;
        let answer: crate::wire::DisclosureResponse = self.answer("disclosure", path, response)?;
        if answer
            .disclosures
            .iter()
            .map(|d| d.records.len())
            .sum::<usize>()
            != request.packets.len()
        {
            return Err(self.bad(format!(
                "asked disclosures of {} packets, got {}",
                request.packets.len(),
                answer
                    .disclosures
                    .iter()
                    .map(|d| d.records.len())
                    .sum::<usize>()
            )));
        }
        Ok(answer)
    }

    async fn submit_event(&self, event: &SubmitEvent) -> Result<SubmittedEvent, AdapterError> {
        self.post("submitted event", "/v1/events", event).await
    }

    /// One `POST /v1/events/batch`, sent once (as `submit`); the answer must
    /// hold one result per event, each refusal at its own index.
    async fn submit_events(&self, events: &[SubmitEvent]) -> Result<SubmittedEvents, AdapterError> {
        if events.len() > MAX_EVENT_BATCH {
            return Err(not_sent(
                &self.chain,
                format!(
                    "a batch of {} events is over the {MAX_EVENT_BATCH} a ledger takes at once",
                    events.len()
                ),
            ));
        }
        // `SubmitEvents` on the wire, borrowed rather than copied.
        #[derive(Serialize)]
        struct Batch<'a> {
            version: u8,
            events: &'a [SubmitEvent],
        }
        let batch = Batch {
            version: WIRE_VERSION,
            events,
        };
        let answer: SubmittedEvents = self
            .post("submitted events", "/v1/events/batch", &batch)
            .await?;
        if answer.results.len() != events.len() {
            return Err(self.bad(format!(
                "{} results for a batch of {} events",
                answer.results.len(),
                events.len()
            )));
        }
        for (i, item) in answer.results.iter().enumerate() {
            if let SubmittedItem::Refused(r) = item {
                if r.index != i as u64 {
                    return Err(self.bad(format!("result {i} is the refusal of event {}", r.index)));
                }
            }
        }
        Ok(answer)
    }
}

/// Whether a request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Safety {
    /// A read: repeat it on any transient failure.
    Read,
    /// A submission: once per call; moved to another endpoint only when
    /// nothing was sent.
    Once,
}

/// What the adapter asks of the stack.
#[derive(Debug)]
struct Call {
    method: Method,
    path: String,
    body: Bytes,
    safety: Safety,
    /// How long the ledger may hold the request before answering (long poll).
    wait: Duration,
}

impl Call {
    fn get(path: String, wait: Duration) -> Self {
        Call {
            method: Method::GET,
            path,
            body: Bytes::new(),
            safety: Safety::Read,
            wait,
        }
    }
}

/// Where a call stands, carried in the request's extensions so that the
/// retry policy can move it to another endpoint.
#[derive(Debug, Clone)]
struct Attempt {
    /// The request's URL on each endpoint.
    uris: Arc<[Uri]>,
    /// The endpoint this attempt goes to.
    endpoint: usize,
    /// 0 for the first attempt.
    number: u32,
    safety: Safety,
    wait: Duration,
}

/// The innermost service: one attempt on one endpoint, body read in full,
/// within the policy's timeout (plus the ledger's wait for a long poll).
#[derive(Clone, Debug)]
struct Transport {
    client: Client<HttpConnector, Body>,
    timeout: Duration,
    chain: ChainId,
    observer: Option<Arc<dyn RpcObserver>>,
}

/// Sees every attempt on every endpoint (for metrics): which chain and
/// endpoint, which call (the route's first segment after `/v1/`: `headers`,
/// `blocks`, `tx` ...), how long it took, and whether it got an answer
/// below 500.
pub trait RpcObserver: Send + Sync + std::fmt::Debug {
    fn observe(&self, chain: &ChainId, endpoint: &str, call: &str, took: Duration, ok: bool);
}

/// The bounded name of a call from its path: `/v1/headers/7` is `headers`.
fn call_name(path: &str) -> &str {
    let mut parts = path.trim_start_matches('/').split(['/', '?']);
    match (parts.next(), parts.next()) {
        (Some("v1"), Some(segment)) if !segment.is_empty() => segment,
        (Some(first), _) if !first.is_empty() => first,
        _ => "other",
    }
}

impl Service<Request<Body>> for Transport {
    type Response = Response<Bytes>;
    type Error = BoxError;
    type Future = TransportFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The legacy client is always ready; its pool opens connections as needed.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> TransportFuture {
        let client = self.client.clone();
        let wait = request
            .extensions()
            .get::<Attempt>()
            .map_or(Duration::ZERO, |a| a.wait);
        let limit = self.timeout.saturating_add(wait);
        let endpoint = match request.uri().authority() {
            Some(a) => format!("http://{a}"),
            None => request.uri().to_string(),
        };
        let observer = self.observer.clone();
        let chain = self.chain.clone();
        let call = call_name(request.uri().path()).to_string();
        Box::pin(async move {
            let started = std::time::Instant::now();
            let result = tokio::time::timeout(limit, exchange(client, request)).await;
            if let Some(o) = &observer {
                let ok = matches!(&result, Ok(Ok(r)) if r.status().as_u16() < 500);
                o.observe(&chain, &endpoint, &call, started.elapsed(), ok);
            }
            let failure = match result {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(failure)) => failure,
                Err(_) => Failure::TimedOut(limit),
            };
            Err(Box::new(TransportError { endpoint, failure }) as BoxError)
        })
    }
}

async fn exchange(
    client: Client<HttpConnector, Body>,
    request: Request<Body>,
) -> Result<Response<Bytes>, Failure> {
    let response = client.request(request).await.map_err(|e| {
        if e.is_connect() {
            Failure::Connect(causes(&e))
        } else {
            Failure::Broken(causes(&e))
        }
    })?;
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                Failure::TooLarge
            } else {
                Failure::Broken(causes(e.as_ref()))
            }
        })?;
    Ok(Response::from_parts(parts, body.to_bytes()))
}

/// An error and its sources, joined: hyper's own message alone ("client
/// error (Connect)") does not say what happened.
fn causes(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// One attempt that got no usable answer.
#[derive(Debug, thiserror::Error)]
#[error("{endpoint}: {failure}")]
struct TransportError {
    endpoint: String,
    failure: Failure,
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    /// No connection: nothing was sent.
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("no answer within {}", humantime::format_duration(*.0))]
    TimedOut(Duration),
    /// The connection failed after the request may have been sent.
    #[error("connection failed: {0}")]
    Broken(String),
    #[error("the answer is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
}

/// A call that failed on every attempt it was allowed.
#[derive(Debug, thiserror::Error)]
#[error("{attempts} attempts over {endpoints} endpoint(s), the last: {last}")]
struct GaveUp {
    attempts: u32,
    endpoints: usize,
    last: String,
}

/// How one attempt went, for the retry policy.
enum Verdict {
    /// The endpoint answered (any status but 5xx and 429).
    Answered,
    /// Trying again cannot help (an oversized answer, or the adapter's worker
    /// is gone with its runtime).
    Final,
    /// Another attempt may succeed; `sent` says whether the request may have
    /// reached the ledger.
    Transient { sent: bool },
}

fn verdict(result: &Result<Response<Bytes>, BoxError>) -> Verdict {
    match result {
        Ok(r) if r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS => {
            Verdict::Transient { sent: true }
        }
        Ok(_) => Verdict::Answered,
        Err(e) => match e.downcast_ref::<TransportError>().map(|t| &t.failure) {
            Some(Failure::Connect(_)) => Verdict::Transient { sent: false },
            Some(Failure::TimedOut(_) | Failure::Broken(_)) => Verdict::Transient { sent: true },
            Some(Failure::TooLarge) | None => Verdict::Final,
        },
    }
}

/// The retry policy: which failures are retried, on which endpoint, after
/// how long (see the module doc).
#[derive(Clone, Debug)]
struct Failover {
    chain: ChainId,
    retries: u32,
    backoff: Duration,
    max_backoff: Duration,
    /// The endpoint calls start at, shared with the adapter.
    preferred: Arc<AtomicUsize>,
    /// Draws so far, mixed into the jitter so that calls failing together
    /// do not retry together.
    draws: Arc<AtomicU64>,
}

impl Failover {
    fn new(chain: ChainId, policy: &RpcPolicy, preferred: Arc<AtomicUsize>) -> Self {
        Failover {
            chain,
            retries: policy.retries,
            backoff: policy.backoff,
            max_backoff: policy.max_backoff,
            preferred,
            draws: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The pause before round `round` (1 after every endpoint was tried
    /// once): `backoff * 2^(round-1)` up to `max_backoff`, of which a random
    /// half is jitter.
    fn pause(&self, round: u32) -> Duration {
        let factor = 1u32
            .checked_shl(round.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let full = self.backoff.saturating_mul(factor).min(self.max_backoff);
        let half = full / 2;
        let span = u64::try_from(full.saturating_sub(half).as_nanos()).unwrap_or(u64::MAX);
        let draw = self.draws.fetch_add(1, Ordering::Relaxed);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos()) ^ d.as_secs());
        let jitter = splitmix64(now ^ draw.rotate_left(32)) % span.saturating_add(1);
        half.saturating_add(Duration::from_nanos(jitter))
    }
}

/// A cheap, well-mixing hash (SplitMix64's finaliser): jitter needs spread,
/// not secrecy.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Policy<Request<Body>, Response<Bytes>, BoxError> for Failover {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut Request<Body>,
        result: &mut Result<Response<Bytes>, BoxError>,
    ) -> Option<Self::Future> {
        let attempt = request.extensions().get::<Attempt>()?.clone();
        let n = attempt.uris.len().max(1);
        let sent = match verdict(result) {
            Verdict::Answered => {
                self.preferred.store(attempt.endpoint, Ordering::Relaxed);
                return None;
            }
            Verdict::Final => return None,
            Verdict::Transient { sent } => sent,
        };
        let next = (attempt.endpoint + 1) % n;
        // Calls that would start at the failing endpoint start at the next
        // one instead, unless another call already moved them.
        let _ = self.preferred.compare_exchange(
            attempt.endpoint,
            next,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        let may_repeat = attempt.safety == Safety::Read || !sent;
        let Some(uri) = attempt
            .uris
            .get(next)
            .cloned()
            .filter(|_| may_repeat && attempt.number < self.retries)
        else {
            if let (Err(e), true) = (&mut *result, attempt.number > 0) {
                let last = e.to_string();
                *e = Box::new(GaveUp {
                    attempts: attempt.number.saturating_add(1),
                    endpoints: n,
                    last,
                });
            }
            return None;
        };
        let number = attempt.number.saturating_add(1);
        // Another endpoint is tried at once; only going round again waits.
        let round = u32::try_from(number as usize / n).unwrap_or(u32::MAX);
        let pause = if (number as usize).is_multiple_of(n) {
            self.pause(round)
        } else {
            Duration::ZERO
        };
        match result {
            Ok(r) => {
                tracing::debug!(chain = %self.chain, from = %request.uri(), to = %uri, status = %r.status(), ?pause, "retrying")
            }
            Err(e) => {
                tracing::debug!(chain = %self.chain, from = %request.uri(), to = %uri, error = %e, ?pause, "retrying")
            }
        }
        *request.uri_mut() = uri;
        request.extensions_mut().insert(Attempt {
            endpoint: next,
            number,
            ..attempt
        });
        Some(tokio::time::sleep(pause))
    }

    fn clone_request(&mut self, request: &Request<Body>) -> Option<Request<Body>> {
        // Every request is kept: a submission may still move on when it could
        // not connect. Bodies are `Bytes`, so this copies no payload.
        let mut copy = Request::new(request.body().clone());
        *copy.method_mut() = request.method().clone();
        *copy.uri_mut() = request.uri().clone();
        *copy.version_mut() = request.version();
        *copy.headers_mut() = request.headers().clone();
        *copy.extensions_mut() = request.extensions().clone();
        Some(copy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failover(retries: u32) -> Failover {
        let policy = RpcPolicy {
            retries,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1_000),
            ..RpcPolicy::DEVNET
        };
        Failover::new(
            ChainId::new("c-1").unwrap(),
            &policy,
            Arc::new(AtomicUsize::new(0)),
        )
    }

    #[test]
    fn calls_are_named_by_their_route() {
        assert_eq!(call_name("/v1/headers/7"), "headers");
        assert_eq!(call_name("/v1/headers/next?after=3&wait_ms=10"), "headers");
        assert_eq!(call_name("/v1/tx?wait=true"), "tx");
        assert_eq!(call_name("/healthz"), "healthz");
        assert_eq!(call_name("/"), "other");
    }

    #[test]
    fn pauses_double_with_jitter_up_to_the_cap() {
        let f = failover(10);
        for (round, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1_000),
            (40, 1_000),
        ] {
            for _ in 0..50 {
                let p = f.pause(round);
                let full = Duration::from_millis(full);
                assert!(
                    p >= full / 2 && p <= full,
                    "round {round}: {p:?} outside [{:?}, {full:?}]",
                    full / 2
                );
            }
        }
    }

    #[test]
    fn verdicts() {
        let status = |s: u16| Ok(Response::builder().status(s).body(Bytes::new()).unwrap());
        assert!(matches!(verdict(&status(200)), Verdict::Answered));
        assert!(matches!(verdict(&status(404)), Verdict::Answered));
        assert!(matches!(verdict(&status(409)), Verdict::Answered));
        assert!(matches!(
            verdict(&status(503)),
            Verdict::Transient { sent: true }
        ));
        assert!(matches!(
            verdict(&status(429)),
            Verdict::Transient { sent: true }
        ));
        let err = |failure| {
            Err(Box::new(TransportError {
                endpoint: "e".into(),
                failure,
            }) as BoxError)
        };
        assert!(matches!(
            verdict(&err(Failure::Connect("x".into()))),
            Verdict::Transient { sent: false }
        ));
        assert!(matches!(
            verdict(&err(Failure::TimedOut(Duration::ZERO))),
            Verdict::Transient { sent: true }
        ));
        assert!(matches!(verdict(&err(Failure::TooLarge)), Verdict::Final));
        assert!(matches!(
            verdict(&Err("worker gone".into())),
            Verdict::Final
        ));
    }
}
