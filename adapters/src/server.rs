//! The HTTP server loop of the ledger's RPC and of the relayer's API: one
//! hyper HTTP/1 connection per task, with the limits a server facing
//! clients it does not control needs, and nothing about the routes.
//!
//! - A request's header must arrive within `header_read` of the connection
//!   opening or of the previous response (hyper's header read timeout, the
//!   only thing that bounds a half-sent header: axum's own `serve` has none).
//! - A request's body must arrive within `body_read` of its header; late,
//!   it is answered 408 `body_timeout`.
//! - A connection with no request in flight that moves no byte for `idle`
//!   is closed (a client that stops reading its answer, a body nobody reads).
//! - At shutdown the listener closes at once, every connection is told to
//!   finish its request in flight and close, and whatever is still open
//!   after `shutdown` is dropped: [`serve`] returns within that bound
//!   whatever clients do.
//! - Each client address has at most `per_client` requests in flight; one
//!   more is answered 429 `rate_limited`, so one client's flood cannot take
//!   every slot of a server other clients share.
//! - Each client address may send writes (any method but GET, HEAD and
//!   OPTIONS: transactions, events, batches, the API's mutating routes) at
//!   `rate.per_second` on average, `rate.burst` at once (a token bucket);
//!   one more is answered 429 `rate_limited` with `Retry-After`, so one
//!   client's flood of expensive requests cannot starve the others.
//!   Loopback clients are exempt unless `rate.loopback` (a devnet, a bench,
//!   or a proxy on the same host that limits its own clients).
//! - JSON bodies (`application/json`) naming a key twice are refused 400
//!   `duplicate_key` before any route reads them (`light_clients::json`).
//! - Every error answer is JSON `{code, message}`: those the routes build
//!   are kept; the ones axum or a layer makes in plain text or with no body
//!   (404, 405, a malformed query string, 408, 413, 415 ...) are rewritten
//!   with a code from their status.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::wire::ErrorBody;

/// How a server treats its clients' connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// The longest a request's header may take to arrive.
    pub header_read: Duration,
    /// The longest a request's body may take to arrive after its header.
    pub body_read: Duration,
    /// A connection with nothing in flight and no byte moved this long is closed.
    pub idle: Duration,
    /// How long connections get to finish at shutdown before they are dropped.
    pub shutdown: Duration,
    /// Requests one client address may have in flight.
    pub per_client: usize,
    /// The write rate each client address may keep up.
    pub rate: RateLimit,
    /// The largest JSON body buffered for the repeated-key check (routes
    /// keep their own, smaller limits).
    pub max_body: usize,
    /// Path prefixes whose routes check repeated keys themselves, each
    /// refusal by its own rule (a batch refuses the one item, not the whole
    /// request): the server leaves their bodies to them.
    pub own_key_checks: &'static [&'static str],
}

impl ServerLimits {
    pub const DEFAULT: ServerLimits = ServerLimits {
        header_read: Duration::from_secs(10),
        body_read: Duration::from_secs(30),
        idle: Duration::from_secs(75),
        shutdown: Duration::from_secs(10),
        per_client: 64,
        rate: RateLimit::DEFAULT,
        max_body: 8 * 1024 * 1024,
        own_key_checks: &[],
    };
}

/// A token bucket per client address over the requests that write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Writes per second one client may keep up; 0 turns the limit off.
    pub per_second: u32,
    /// Writes one client may send at once after a quiet spell (the bucket's size).
    pub burst: u32,
    /// Whether loopback clients are limited too (by default they are not:
    /// the devnet's workload, a bench, a proxy on the same host).
    pub loopback: bool,
}

impl RateLimit {
    /// 200 writes a second, 400 at once, loopback exempt: far above what a
    /// relayer or a feeder sends (a relayer submits a few batched
    /// transactions per block), far below what one client's loop can.
    pub const DEFAULT: RateLimit = RateLimit {
        per_second: 200,
        burst: 400,
        loopback: false,
    };

    /// No limit.
    pub const OFF: RateLimit = RateLimit {
        per_second: 0,
        burst: 0,
        loopback: false,
    };

    fn applies(&self, client: IpAddr) -> bool {
        self.per_second > 0 && (self.loopback || !client.is_loopback())
    }
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then for at
/// most `limits.shutdown` more.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let clients = Arc::new(Clients::default());
    let buckets = Arc::new(Buckets::default());
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors, or a connection reset before it
                // was taken: the listener itself is fine.
                tracing::warn!(error = %e, "accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(connection(
            stream,
            peer,
            router.clone(),
            limits,
            (clients.clone(), buckets.clone()),
            shutdown.clone(),
        ));
    }
    drop(listener);
    // Each connection saw the same token and is closing; the bound is
    // enforced here too, in case one is stuck where it cannot look.
    let deadline = tokio::time::Instant::now() + limits.shutdown + Duration::from_millis(100);
    while let Ok(Some(_)) = tokio::time::timeout_at(deadline, connections.join_next()).await {}
    if !connections.is_empty() {
        tracing::info!(
            open = connections.len(),
            "connections dropped at the shutdown deadline"
        );
    }
    connections.abort_all();
    Ok(())
}

/// One connection: hyper's HTTP/1 with the header timeout, watched for
/// idleness and for shutdown.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ServerLimits,
    (clients, buckets): (Arc<Clients>, Arc<Buckets>),
    shutdown: CancellationToken,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let (router, clients, buckets, activity) = (
                router.clone(),
                clients.clone(),
                buckets.clone(),
                activity.clone(),
            );
            async move {
                let _busy = activity.request();
                Ok::<_, Infallible>(
                    handle(req, peer.ip(), router, limits, (&clients, &buckets)).await,
                )
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let tick = (limits.idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut idle_check = tokio::time::interval(tick);
    let mut closing: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection");
                }
                return;
            }
            _ = shutdown.cancelled(), if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing = Some(tokio::time::Instant::now() + limits.shutdown);
            }
            _ = async { tokio::time::sleep_until(closing.unwrap_or_else(tokio::time::Instant::now)).await }, if closing.is_some() => {
                tracing::debug!(%peer, "connection dropped at the shutdown deadline");
                return;
            }
            _ = idle_check.tick() => {
                if activity.idle_for() >= limits.idle {
                    tracing::debug!(%peer, "idle connection closed");
                    return;
                }
            }
        }
    }
}

/// One request through the per-client limits, the body deadline and the
/// repeated-key check to the router, its error answer made JSON.
async fn handle(
    req: Request<Incoming>,
    client: IpAddr,
    router: Router,
    limits: ServerLimits,
    (clients, buckets): (&Clients, &Buckets),
) -> Response<Body> {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if writes && limits.rate.applies(client) {
        if let Err(wait) = buckets.take(client, limits.rate, tokio::time::Instant::now()) {
            let mut refused = error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "{client} sends more than {} writes a second ({} at once); retry in {} ms",
                    limits.rate.per_second,
                    limits.rate.burst,
                    wait.as_millis().max(1)
                ),
            );
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            refused
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            return refused;
        }
    }
    let Some(_slot) = clients.take(client, limits.per_client) else {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "{client} has {} requests in flight already; retry when one is answered",
                limits.per_client
            ),
        );
    };
    let (parts, body) = req.into_parts();
    let body = Deadline {
        inner: body,
        sleep: Box::pin(tokio::time::sleep(limits.body_read)),
        after: limits.body_read,
    };
    let checks_own = limits
        .own_key_checks
        .iter()
        .any(|p| parts.uri.path().starts_with(p));
    let body = if is_json(&parts.headers) && !checks_own {
        match http_body_util::Limited::new(body, limits.max_body)
            .collect()
            .await
        {
            Ok(collected) => {
                let bytes: Bytes = collected.to_bytes();
                // Malformed JSON is the route's to name, in its own words.
                if let Err(e @ light_clients::json::JsonError::DuplicateKey { .. }) =
                    light_clients::json::check_unique_keys(&bytes)
                {
                    return error(StatusCode::BAD_REQUEST, e.check(), e.to_string());
                }
                Body::from(bytes)
            }
            Err(e) => return body_error(&*e),
        }
    } else {
        Body::new(body)
    };
    let response = match router.oneshot(Request::from_parts(parts, body)).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    json_error(response).await
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

/// The answer to a body that could not be read whole.
fn body_error(e: &(dyn std::error::Error + 'static)) -> Response<Body> {
    if let Some(late) = e.downcast_ref::<BodyTimeout>() {
        return error(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            late.to_string(),
        );
    }
    if e.is::<http_body_util::LengthLimitError>() {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            e.to_string(),
        );
    }
    error(
        StatusCode::BAD_REQUEST,
        "malformed_request",
        format!("the body cannot be read: {e}"),
    )
}

/// A JSON `{code, message}` answer.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response<Body> {
    let body = serde_json::to_vec(&ErrorBody {
        code: code.to_string(),
        message: message.into(),
    })
    .unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The code of an error answer that came without one.
fn status_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "malformed_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        409 => "conflict",
        413 => "body_too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        429 => "rate_limited",
        503 => "unavailable",
        _ if status.is_server_error() => "internal",
        _ => "http_error",
    }
}

/// Rewrites an error answer that is not JSON into `{code, message}`: the
/// message is the text axum gave (a query string's fault, a missing content
/// type), or the status's reason when there was none.
pub async fn json_error(response: Response<Body>) -> Response<Body> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let already = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if already {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Texts axum writes are a line or two; a longer body is not one of those.
    let text = match axum::body::to_bytes(body, 4096).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let rewritten = error(status, status_code(status), message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, rewritten.into_body())
}

/// A request body that must arrive whole before its deadline.
struct Deadline {
    inner: Incoming,
    sleep: Pin<Box<tokio::time::Sleep>>,
    after: Duration,
}

/// A body that did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimeout(Duration);

impl hyper::body::Body for Deadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if std::future::Future::poll(this.sleep.as_mut(), cx).is_ready() {
            return Poll::Ready(Some(Err(BodyTimeout(this.after).into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Requests in flight per client address.
#[derive(Debug, Default)]
struct Clients {
    in_flight: Mutex<HashMap<IpAddr, usize>>,
}

/// Most client addresses whose buckets are kept: past it, the buckets
/// that have filled up again (the same as a new one) are forgotten.
const MAX_BUCKETS: usize = 65_536;

/// Each client address's token bucket of writes.
#[derive(Debug, Default)]
struct Buckets {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: tokio::time::Instant,
}

impl Bucket {
    fn refilled(self, rate: RateLimit, now: tokio::time::Instant) -> f64 {
        let gained =
            now.saturating_duration_since(self.at).as_secs_f64() * f64::from(rate.per_second);
        (self.tokens + gained).min(f64::from(rate.burst.max(1)))
    }
}

impl Buckets {
    /// Takes one token of `client`'s bucket, or says how long until one is there.
    fn take(
        &self,
        client: IpAddr,
        rate: RateLimit,
        now: tokio::time::Instant,
    ) -> Result<(), Duration> {
        let size = f64::from(rate.burst.max(1));
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_BUCKETS && !map.contains_key(&client) {
            map.retain(|_, b| b.refilled(rate, now) < size);
        }
        let bucket = map.entry(client).or_insert(Bucket {
            tokens: size,
            at: now,
        });
        let tokens = bucket.refilled(rate, now);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            Err(Duration::from_secs_f64(
                (1.0 - tokens) / f64::from(rate.per_second.max(1)),
            ))
        }
    }
}

/// A client's request slot, given back on drop.
struct Slot<'a> {
    clients: &'a Clients,
    client: IpAddr,
}

impl Clients {
    fn take(&self, client: IpAddr, limit: usize) -> Option<Slot<'_>> {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(client).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            clients: self,
            client,
        })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut map = self
            .clients
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                // The map holds only clients with something in flight.
                map.remove(&self.client);
            }
        }
    }
}

/// When a connection last moved a byte, and how many of its requests are
/// being answered.
#[derive(Debug)]
struct Activity {
    start: Instant,
    /// Milliseconds from `start` to the last byte read or written.
    last: AtomicU64,
    requests: AtomicUsize,
}

/// A request being answered: the connection is not idle meanwhile.
struct Busy<'a>(&'a Activity);

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last: AtomicU64::new(0),
            requests: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    fn request(&self) -> Busy<'_> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        Busy(self)
    }

    /// How long nothing has happened; zero while a request is answered.
    fn idle_for(&self) -> Duration {
        if self.requests.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.touch();
        self.0.requests.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A socket that records when it last moved a byte.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                self.activity.touch();
            }
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn start(
        limits: ServerLimits,
    ) -> (
        SocketAddr,
        CancellationToken,
        tokio::task::JoinHandle<io::Result<()>>,
    ) {
        let router = Router::new()
            .route("/hello", get(|| async { "hello" }))
            .route(
                "/echo",
                post(|axum::Json(v): axum::Json<serde_json::Value>| async move { axum::Json(v) }),
            )
            .route("/q", get(|axum::extract::Query(q): axum::extract::Query<HashMap<String, u64>>| async move { format!("{}", q.len()) }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve(listener, router, limits, stop.clone()));
        (addr, stop, task)
    }

    /// Sends `raw` and reads until the server closes the connection.
    async fn exchange(addr: SocketAddr, raw: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(raw.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    fn body_json(answer: &str) -> serde_json::Value {
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
    }

    #[tokio::test]
    async fn errors_axum_makes_are_json() {
        let (addr, stop, task) = start(ServerLimits::DEFAULT).await;
        let close = "Connection: close\r\n";
        for (req, status, code) in [
            (format!("GET /nowhere HTTP/1.1\r\nHost: x\r\n{close}\r\n"), "404", "not_found"),
            (format!("DELETE /hello HTTP/1.1\r\nHost: x\r\n{close}\r\n"), "405", "method_not_allowed"),
            (format!("GET /q?a=notanumber HTTP/1.1\r\nHost: x\r\n{close}\r\n"), "400", "malformed_request"),
            (format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n{close}\r\n{{}}"), "415", "unsupported_media_type"),
            (format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n{close}\r\n{{\"a\":1,\"a\":2}}"), "400", "duplicate_key"),
        ] {
            let answer = exchange(addr, &req).await;
            assert!(answer.starts_with(&format!("HTTP/1.1 {status}")), "{req}: {answer}");
            assert!(answer.to_ascii_lowercase().contains("content-type: application/json"), "{answer}");
            let body = body_json(&answer);
            assert_eq!(body["code"], code, "{answer}");
            assert!(!body["message"].as_str().unwrap().is_empty(), "{answer}");
        }
        let ok = exchange(addr, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}").await;
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        stop.cancel();
        task.await.unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_half_sent_header_is_dropped_after_the_header_timeout() {
        let limits = ServerLimits {
            header_read: Duration::from_secs(2),
            ..ServerLimits::DEFAULT
        };
        let (addr, stop, task) = start(limits).await;
        let sent = tokio::time::Instant::now();
        let answer = exchange(addr, "GET /hello HTTP/1.1\r\nHost: x\r\n").await;
        // Closed without an answer, once the header's time ran out.
        assert!(!answer.contains("hello"), "{answer}");
        assert!(sent.elapsed() >= limits.header_read);
        stop.cancel();
        task.await.unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_body_is_answered_408() {
        let limits = ServerLimits {
            body_read: Duration::from_secs(3),
            ..ServerLimits::DEFAULT
        };
        let (addr, stop, task) = start(limits).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":").await.unwrap();
        let mut out = vec![0u8; 4096];
        let n = s.read(&mut out).await.unwrap();
        let answer = String::from_utf8_lossy(&out[..n]).into_owned();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert_eq!(body_json(&answer)["code"], "body_timeout");
        stop.cancel();
        task.await.unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_returns_within_its_bound_whatever_clients_hold() {
        let limits = ServerLimits {
            header_read: Duration::from_secs(3600),
            idle: Duration::from_secs(3600),
            shutdown: Duration::from_secs(5),
            ..ServerLimits::DEFAULT
        };
        let (addr, stop, task) = start(limits).await;
        let mut held = Vec::new();
        for _ in 0..10 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Half: ")
                .await
                .unwrap();
            held.push(s);
        }
        // Let the server take them all before the signal.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let before = tokio::time::Instant::now();
        stop.cancel();
        task.await.unwrap().unwrap();
        assert!(before.elapsed() <= limits.shutdown + Duration::from_secs(1));
    }

    /// Sends `raw` from the source address `from` (any of 127.0.0.0/8)
    /// and reads until the server closes the connection.
    async fn exchange_from(from: IpAddr, addr: SocketAddr, raw: &str) -> String {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from, 0)).unwrap();
        let mut s = socket.connect(addr).await.unwrap();
        s.write_all(raw.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    const POST: &str = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}";
    const GET: &str = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    #[tokio::test]
    async fn a_flood_of_writes_from_one_client_is_answered_429_while_others_are_served() {
        let limits = ServerLimits {
            rate: RateLimit {
                per_second: 1,
                burst: 3,
                loopback: true,
            },
            ..ServerLimits::DEFAULT
        };
        let (addr, stop, task) = start(limits).await;
        let flooder: IpAddr = "127.0.0.2".parse().unwrap();
        let other: IpAddr = "127.0.0.3".parse().unwrap();
        // The burst goes through, then the flood is refused (at one write
        // a second, 1000 writes cannot all find a token).
        let mut served = 0;
        let refused = loop {
            let answer = exchange_from(flooder, addr, POST).await;
            if answer.starts_with("HTTP/1.1 429") {
                break answer;
            }
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            served += 1;
            assert!(served < 1000, "1000 writes at 1/s were never refused");
        };
        assert!(served >= 3, "the burst of 3 was served ({served})");
        assert_eq!(body_json(&refused)["code"], "rate_limited", "{refused}");
        assert!(
            refused.to_ascii_lowercase().contains("retry-after: "),
            "{refused}"
        );
        assert!(body_json(&refused)["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.2"));
        // Another client's writes are served, and so are the flooder's reads.
        let answer = exchange_from(other, addr, POST).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let answer = exchange_from(flooder, addr, GET).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        stop.cancel();
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn loopback_clients_are_not_rate_limited_unless_configured() {
        let limits = ServerLimits {
            rate: RateLimit {
                per_second: 1,
                burst: 1,
                loopback: false,
            },
            ..ServerLimits::DEFAULT
        };
        let (addr, stop, task) = start(limits).await;
        for _ in 0..20 {
            let answer = exchange(addr, POST).await;
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        }
        stop.cancel();
        task.await.unwrap().unwrap();
    }

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_burst() {
        let rate = RateLimit {
            per_second: 2,
            burst: 4,
            loopback: true,
        };
        let buckets = Buckets::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = tokio::time::Instant::now();
        for _ in 0..4 {
            buckets.take(ip, rate, t0).unwrap();
        }
        let wait = buckets.take(ip, rate, t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Half a second later one token is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        buckets.take(ip, rate, t1).unwrap();
        assert!(buckets.take(ip, rate, t1).is_err());
        // A long quiet spell fills the bucket to its size, no more.
        let t2 = t1 + Duration::from_secs(3600);
        for _ in 0..4 {
            buckets.take(ip, rate, t2).unwrap();
        }
        assert!(buckets.take(ip, rate, t2).is_err());
        assert!(RateLimit::DEFAULT.applies("10.0.0.1".parse().unwrap()));
        assert!(!RateLimit::DEFAULT.applies("127.0.0.1".parse().unwrap()));
        assert!(!RateLimit::DEFAULT.applies("::1".parse().unwrap()));
        assert!(!RateLimit::OFF.applies("10.0.0.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn a_client_over_its_share_is_answered_429() {
        let clients = Clients::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let a = clients.take(ip, 2).unwrap();
        let _b = clients.take(ip, 2).unwrap();
        assert!(clients.take(ip, 2).is_none());
        assert!(
            clients.take(other, 2).is_some(),
            "another client still gets in"
        );
        drop(a);
        assert!(
            clients.take(ip, 2).is_some(),
            "a slot comes back when answered"
        );
    }
}
