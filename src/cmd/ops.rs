//! The operator commands (`portrelay status`, `packets trace|clear|retry|parked`,
//! `adapters list|register|remove`): clients of a running relayer's HTTP
//! API, since its embedded store belongs to that one process. They print
//! what they got (or its JSON with `--json`) and exit 0; 1 when the relayer
//! refused (its error code and message are printed); 2 when it could not
//! be reached or the arguments make no sense.

use std::time::Duration;

use std::path::PathBuf;
use std::process::ExitCode;

use adapters::wire::ErrorBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;
use serde::Serialize;

use relayer::api::{AdapterView, RegisterAdapter, Requeued, StatusResponse};
use relayer::relay::clear::{ClearFilter, Trace};
use relayer::relay::coordinator::Parked;

/// Where the API is and how to authenticate.
#[derive(Debug, Clone)]
pub struct ApiTarget {
    /// `http://host:port`.
    pub base: String,
    pub token: Option<String>,
}

/// How an operator command failed.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The relayer answered with an error.
    #[error("{status} {code}: {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// The relayer could not be reached, or answered something unreadable.
    #[error("{0}")]
    Unreachable(String),
}

impl OpsError {
    pub fn exit_code(&self) -> u8 {
        match self {
            OpsError::Refused { .. } => 1,
            OpsError::Unreachable(_) => 2,
        }
    }
}

const TIMEOUT: Duration = Duration::from_secs(60);

impl ApiTarget {
    /// Reads the token from `token_file` when given.
    pub fn new(base: &str, token_file: Option<&std::path::Path>) -> Result<Self, OpsError> {
        let base = base.trim_end_matches('/').to_string();
        if !base.starts_with("http://") {
            return Err(OpsError::Unreachable(format!(
                "--api {base}: expected http://host:port"
            )));
        }
        let token = match token_file {
            None => None,
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| {
                        OpsError::Unreachable(format!("--token-file {}: {e}", p.display()))
                    })?
                    .trim()
                    .to_string(),
            ),
        };
        Ok(ApiTarget { base, token })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Option<T>, OpsError> {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let url = format!("{}{path}", self.base);
        let mut req = Request::builder().method(method).uri(&url);
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| OpsError::Unreachable(format!("{url}: {e}")))?;
        let response = tokio::time::timeout(TIMEOUT, client.request(req))
            .await
            .map_err(|_| OpsError::Unreachable(format!("{url}: no answer in {TIMEOUT:?}")))?
            .map_err(|e| {
                OpsError::Unreachable(format!(
                    "{url}: {e} (is the relayer running with [api] listen?)"
                ))
            })?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| OpsError::Unreachable(format!("{url}: {e}")))?
            .to_bytes();
        if !(200..300).contains(&status) {
            let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(e) => (e.code, e.message),
                Err(_) => (
                    "unexpected".to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ),
            };
            return Err(OpsError::Refused {
                status,
                code,
                message,
            });
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| OpsError::Unreachable(format!("{url}: unreadable answer: {e}")))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, OpsError> {
        self.call(Method::GET, path, None)
            .await?
            .ok_or_else(|| OpsError::Unreachable(format!("{path}: empty answer")))
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, OpsError> {
        let bytes = serde_json::to_vec(body).map_err(|e| OpsError::Unreachable(e.to_string()))?;
        self.call(Method::POST, path, Some(bytes))
            .await?
            .ok_or_else(|| OpsError::Unreachable(format!("{path}: empty answer")))
    }

    /// A POST whose answer has no body (204), such as a ledger's admin calls.
    pub async fn post_empty<B: Serialize>(&self, path: &str, body: &B) -> Result<(), OpsError> {
        let bytes = serde_json::to_vec(body).map_err(|e| OpsError::Unreachable(e.to_string()))?;
        self.call::<serde_json::Value>(Method::POST, path, Some(bytes))
            .await
            .map(|_| ())
    }

    pub async fn status(&self) -> Result<StatusResponse, OpsError> {
        self.get("/v1/status").await
    }

    pub async fn trace(
        &self,
        source: &str,
        destination: &str,
        app: &str,
        sequence: u64,
    ) -> Result<Trace, OpsError> {
        self.get(&format!(
            "/v1/packets/{source}/{destination}/{app}/{sequence}"
        ))
        .await
    }

    pub async fn clear(&self, filter: &ClearFilter) -> Result<Requeued, OpsError> {
        self.post("/v1/packets/clear", filter).await
    }

    pub async fn retry(&self) -> Result<Requeued, OpsError> {
        self.post("/v1/packets/retry", &serde_json::json!({})).await
    }

    pub async fn parked(&self) -> Result<Vec<Parked>, OpsError> {
        self.get("/v1/packets/parked").await
    }

    pub async fn adapters(&self) -> Result<Vec<AdapterView>, OpsError> {
        self.get("/v1/adapters").await
    }

    pub async fn register(&self, req: &RegisterAdapter) -> Result<AdapterView, OpsError> {
        self.post("/v1/adapters", req).await
    }

    pub async fn remove(&self, chain_id: &str) -> Result<(), OpsError> {
        self.call::<serde_json::Value>(Method::DELETE, &format!("/v1/adapters/{chain_id}"), None)
            .await
            .map(|_| ())
    }
}

/// The status as lines for a terminal.
pub fn render_status(s: &StatusResponse) -> String {
    let mut out = String::new();
    for (id, c) in &s.chains {
        let f = &c.follow;
        let frozen = f
            .get("frozen")
            .and_then(|v| v.as_str())
            .map(|e| format!("  FROZEN: {e}"))
            .unwrap_or_default();
        let error = f
            .get("last_error")
            .and_then(|v| v.as_str())
            .map(|e| format!("  last error: {e}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{id:<12} {:<7} {:<10} verified {:>8}  next scan {:>8}{frozen}{error}\n",
            c.family,
            c.origin,
            f.get("verified_height")
                .and_then(|v| v.as_u64())
                .unwrap_or(0),
            f.get("next_scan").and_then(|v| v.as_u64()).unwrap_or(0),
        ));
    }
    out.push_str(&format!(
        "jobs: {} queued in {} lanes, {} in flight, {} parked; delivered {}, acked {}\n",
        s.lanes.iter().map(|l| l.backlog).sum::<usize>(),
        s.lanes.len(),
        s.in_flight,
        s.parked,
        s.delivered,
        s.acked
    ));
    for l in &s.lanes {
        out.push_str(&format!("  {} {}: {}\n", l.channel, l.kind, l.backlog));
    }
    for c in &s.clients {
        out.push_str(&format!(
            "client of {:<10} on {:<10} height {:>8}  lag {:>5}  {}  expires {}\n",
            c.counterparty.as_str(),
            c.host.as_str(),
            c.height,
            c.lag.map_or("-".to_string(), |l| l.to_string()),
            c.status,
            c.expires_at
        ));
    }
    out
}

// What every command that talks to a running relayer shares.

/// Where the relayer's API is.
#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    /// The relayer's API (its `[api] listen`).
    #[arg(long, env = "PORTRELAY_API", default_value = "http://127.0.0.1:7400")]
    api: String,
    /// A file holding the API token (needed by commands that change something).
    #[arg(long, env = "PORTRELAY_API_TOKEN_FILE")]
    token_file: Option<PathBuf>,
}

pub fn pretty<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// Runs an operator command against a relayer's API and prints its output.
pub fn ops_command<F, Fut>(args: ApiArgs, job: F) -> ExitCode
where
    F: FnOnce(crate::cmd::ops::ApiTarget) -> Fut,
    Fut: std::future::Future<Output = Result<String, crate::cmd::ops::OpsError>>,
{
    let target = match crate::cmd::ops::ApiTarget::new(&args.api, args.token_file.as_deref()) {
        Ok(t) => t,
        Err(e) => return super::fail(&e.to_string()),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail(&format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(job(target)) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
