//! The adapter of a gba chain run by CometBFT validators (`engine =
//! "cometbft"`): the same `ChainAdapter` contract as `HttpAdapter`, over
//! CometBFT's own RPC through `tendermint-rpc`'s HTTP client.
//!
//! What each call asks CometBFT (`docs/cometbft.md`, "The relayer's side"):
//!
//! ```text
//! status           /status (height, time, chain id) + /abci_query /v1/status (the app's keys)
//! header(h)        /commit?height=h + /validators?height=h (every page)
//!                  + /validators?height=h+1 (every page), as an AnyHeader::Gba
//! next_header      /status polled until the chain passes `after`, then header(after+1)
//! block_events ... /abci_query with path = the embedded ledger's GET route
//!                  (/v1/blocks/{h}/events, /v1/channels, /v1/clients, ...)
//! submit_pending   /broadcast_tx_sync (CheckTx's answer), then /tx?hash=; the
//!                  same bytes broadcast again while not in a block
//! wait_tx, submit  /tx?hash= polled until the block holding it is committed
//! submit_event     /broadcast_tx_sync, then /tx?hash= (the event's packet is
//!                  known once its block executed it)
//! ```
//!
//! The light client is the same as for the embedded gba ledger: it verifies
//! what CometBFT serves. This adapter only assembles the header (a header
//! of another height or chain is refused here by name, so that a confused
//! endpoint is not mistaken for a misbehaving chain) and maps answers to
//! `AdapterError`: a transaction `CheckTx` or `FinalizeBlock` refused comes
//! back as `Refused` with the host's named check (the `code` of the
//! refusal's `log`, which the application writes as `{code, message}`).
//!
//! Reads are retried on transient failures across the endpoints with the
//! policy's backoff; a broadcast is sent once, to one endpoint (a timed-out
//! broadcast may have reached the mempool; the caller asks again with the
//! nonce it reads back), except that a signed transaction not in a block
//! after a few seconds is broadcast again, the same bytes (one nonce: it
//! executes at most once), in case the node that took it went down before
//! passing it on. Every attempt passes the chain's concurrency and
//! rate limits and is reported to the `RpcObserver`, named by its RPC
//! method.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use light_clients::any::{AnyHeader, FamilyName};
use light_clients::gba::{Gba, SignedHeader, ValidatorSet, MAX_VALIDATORS};
use light_clients::host::{Channel, RelayerKey, SignedTx};
use light_clients::verify::{Family, UntrustedBlock};
use light_clients::{ChainId, PacketId, Timestamp};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tendermint::block::Height;
use tendermint_rpc::endpoint::validators;
use tendermint_rpc::error::ErrorDetail;
use tendermint_rpc::{Client, HttpClient, HttpClientUrl, Paging};
use tokio::sync::Semaphore;

use crate::chain::{AdapterConfig, AdapterError, ChainAdapter, ConfigError, RpcPolicy};
use crate::http::RpcObserver;
use crate::wire::{
    self, AccountResponse, BlockEvents, ChannelsResponse, ClientInfo, ClientsResponse, NodeStatus,
    PacketLocation, ReceiptLocation, RefusedEvent, SubmitEvent, SubmittedEvent, SubmittedEvents,
    SubmittedItem, TxResponse, MAX_EVENT_BATCH, WIRE_VERSION,
};

/// Validators asked per `/validators` page: CometBFT's largest page.
pub const VALIDATORS_PER_PAGE: u8 = 100;
/// How often `next_header` and `wait_tx` ask again while they wait. A
/// CometBFT block takes a second by default (`timeout_commit`); a tenth
/// of that keeps the wait short and the load small.
const POLL: Duration = Duration::from_millis(100);
/// How long `wait_tx` (and the waiting submissions) wait for the block
/// holding a transaction: what the embedded ledger waits.
const WAIT_TX: Duration = Duration::from_secs(30);
/// How long `submit_pending` waits for a signed transaction's block before
/// broadcasting it again (a few blocks at CometBFT's default pace).
const REBROADCAST: Duration = Duration::from_secs(3);
/// The codespace of the application's refusals (`docs/cometbft.md`).
const CODESPACE: &str = crate::abci::CODESPACE;

/// CometBFT's latest block as `/status` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    pub chain_id: String,
    pub height: u64,
    pub time: Timestamp,
    /// The node is still syncing (block sync or state sync).
    pub catching_up: bool,
}

/// A gba chain's adapter over CometBFT's RPC (see the module doc). Cloning
/// is cheap: clones share the clients, limits and endpoint choice.
#[derive(Clone)]
pub struct CometAdapter {
    chain: ChainId,
    endpoints: Arc<[Endpoint]>,
    /// Index of the endpoint the next call starts at.
    preferred: Arc<AtomicUsize>,
    policy: RpcPolicy,
    limits: Arc<Limits>,
    observer: Option<Arc<dyn RpcObserver>>,
    per_page: u8,
}

#[derive(Debug)]
struct Endpoint {
    url: String,
    client: HttpClient,
}

impl std::fmt::Debug for CometAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CometAdapter")
            .field("chain", &self.chain)
            .field(
                "endpoints",
                &self.endpoints.iter().map(|e| &e.url).collect::<Vec<_>>(),
            )
            .field("active_endpoint", &self.active_endpoint())
            .finish_non_exhaustive()
    }
}

/// The chain's limits: requests in flight, and started per second.
#[derive(Debug)]
struct Limits {
    permits: Semaphore,
    rate: u64,
    /// The current one-second window: when it started, requests started in it.
    window: Mutex<(Instant, u64)>,
    /// Draws so far, mixed into the backoff's jitter.
    draws: AtomicU64,
}

impl Limits {
    /// Waits for the rate window to admit one more request.
    async fn admit(&self) {
        loop {
            let wait = {
                let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
                let now = Instant::now();
                if now.duration_since(w.0) >= Duration::from_secs(1) {
                    *w = (now, 0);
                }
                if w.1 < self.rate {
                    w.1 += 1;
                    None
                } else {
                    Some((w.0 + Duration::from_secs(1)).saturating_duration_since(now))
                }
            };
            match wait {
                None => return,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
    }
}

impl CometAdapter {
    /// Builds the adapter of a chain whose configuration says `engine =
    /// "cometbft"` (validated first: errors name the key). Production code
    /// builds adapters through `registry::build`.
    pub fn new(
        config: &AdapterConfig,
        observer: Option<Arc<dyn RpcObserver>>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let chain = config.chain().chain_id.clone();
        if config.family() != FamilyName::Gba {
            return Err(ConfigError::Engine {
                chain,
                engine: crate::chain::Engine::Cometbft,
                family: config.family(),
            });
        }
        let policy = config.chain().rpc;
        let mut endpoints = Vec::new();
        for (index, e) in config.chain().endpoints.iter().enumerate() {
            let refused = || ConfigError::Endpoint {
                chain: chain.clone(),
                index,
                endpoint: e.clone(),
            };
            let url = e.trim_end_matches('/').to_string();
            let client = HttpClient::builder(url.parse::<HttpClientUrl>().map_err(|_| refused())?)
                .timeout(policy.timeout)
                .build()
                .map_err(|_| refused())?;
            endpoints.push(Endpoint { url, client });
        }
        Ok(CometAdapter {
            chain,
            endpoints: endpoints.into(),
            preferred: Arc::new(AtomicUsize::new(0)),
            policy,
            limits: Arc::new(Limits {
                permits: Semaphore::new(policy.concurrency),
                rate: policy.rate_per_sec,
                window: Mutex::new((Instant::now(), 0)),
                draws: AtomicU64::new(0),
            }),
            observer,
            per_page: VALIDATORS_PER_PAGE,
        })
    }

    /// The same adapter asking `per_page` validators per `/validators`
    /// page (1 to 100; CometBFT answers at most 100), so that paging can be
    /// seen at work on a small network.
    pub fn with_validators_per_page(mut self, per_page: u8) -> Self {
        self.per_page = per_page.clamp(1, VALIDATORS_PER_PAGE);
        self
    }

    /// The endpoint the next call starts at.
    pub fn active_endpoint(&self) -> &str {
        let n = self.endpoints.len().max(1);
        let i = self.preferred.load(Ordering::Relaxed) % n;
        self.endpoints.get(i).map_or("", |e| e.url.as_str())
    }

    /// CometBFT's latest block (`/status`), checked to be this chain's.
    pub async fn tip(&self) -> Result<Tip, AdapterError> {
        let status = self
            .read("status", |c| async move { c.status().await })
            .await?;
        let sync = status.sync_info;
        let chain_id = status.node_info.network.to_string();
        if chain_id != self.chain.as_str() {
            return Err(self.bad(format!(
                "the endpoint serves CometBFT chain {chain_id:?}, not {}",
                self.chain
            )));
        }
        let time = Timestamp::try_from(sync.latest_block_time)
            .map_err(|e| self.bad(format!("status: latest block time: {e}")))?;
        Ok(Tip {
            chain_id,
            height: sync.latest_block_height.value(),
            time,
            catching_up: sync.catching_up,
        })
    }

    /// Broadcasts an operator's admin call (`AbciTx::Admin`: an eBL
    /// platform key, a validator's power) and waits for the block that
    /// applies it: its height. A call `CheckTx` or `FinalizeBlock` refused
    /// is `Refused` with the application's check (`admin_nonce`,
    /// `admin_signature` ...).
    pub async fn submit_admin(&self, tx: &crate::abci::AdminTx) -> Result<u64, AdapterError> {
        let bytes = crate::abci::AbciTx::Admin(tx.clone()).encode();
        let (hash, _) = self.broadcast("admin call", bytes).await?;
        match self.committed("admin call", hash, WAIT_TX).await? {
            Some((height, _)) => Ok(height),
            None => Err(AdapterError::Unavailable {
                chain: self.chain.clone(),
                reason: format!(
                    "admin call {hash} was not committed within {}s",
                    WAIT_TX.as_secs()
                ),
            }),
        }
    }

    /// The validator set of block `height`, every page of `/validators`
    /// read and checked to add up (same height, same total, no validator
    /// twice, no empty page). CometBFT serves it in its own order, which is
    /// the order `ValidatorSet` keeps and the commit's signatures follow.
    pub async fn validator_set(
        &self,
        height: u64,
        proposer: Option<tendermint::account::Id>,
    ) -> Result<ValidatorSet, AdapterError> {
        let at = self.height(height)?;
        let per_page = self.per_page;
        let mut all: Vec<tendermint::validator::Info> = Vec::new();
        let mut total: Option<usize> = None;
        let mut page: usize = 1;
        loop {
            let answer: validators::Response = self
                .read("validators", move |c| async move {
                    let paging = Paging::Specific {
                        page_number: page.into(),
                        per_page: per_page.into(),
                    };
                    c.validators(at, paging).await
                })
                .await?;
            let bad = |reason: String| self.bad(format!("validators of block {height}: {reason}"));
            if answer.block_height != at {
                return Err(bad(format!(
                    "page {page} is of block {}",
                    answer.block_height
                )));
            }
            let t = usize::try_from(answer.total)
                .ok()
                .filter(|t| (1..=MAX_VALIDATORS).contains(t))
                .ok_or_else(|| {
                    bad(format!(
                        "a total of {} validators (expected 1 to {MAX_VALIDATORS})",
                        answer.total
                    ))
                })?;
            match total {
                Some(before) if before != t => {
                    return Err(bad(format!(
                        "page {page} says {t} validators, page 1 said {before}"
                    )))
                }
                _ => total = Some(t),
            }
            let n = answer.validators.len();
            if n == 0 || n > usize::from(per_page) || all.len() + n > t {
                return Err(bad(format!(
                    "page {page} holds {n} validators ({} read before, {t} in all, {per_page} a page)",
                    all.len()
                )));
            }
            all.extend(answer.validators);
            if all.len() == t {
                break;
            }
            page += 1;
        }
        let mut addresses: Vec<_> = all.iter().map(|v| v.address).collect();
        addresses.sort();
        if let Some(w) = addresses.windows(2).find(|w| w[0] == w[1]) {
            return Err(self.bad(format!(
                "validators of block {height}: {} is listed twice",
                w[0]
            )));
        }
        let power = all
            .iter()
            .try_fold(0u64, |sum, v| sum.checked_add(v.power.value()));
        if power.is_none_or(|p| p > ValidatorSet::MAX_TOTAL_VOTING_POWER) {
            return Err(self.bad(format!(
                "validators of block {height}: the total voting power is over {}",
                ValidatorSet::MAX_TOTAL_VOTING_POWER
            )));
        }
        let proposer = proposer.and_then(|p| all.iter().find(|v| v.address == p).cloned());
        Ok(ValidatorSet::new(all, proposer))
    }

    /// A CometBFT height for `height`: 1 to `i64::MAX`.
    fn height(&self, height: u64) -> Result<Height, AdapterError> {
        Height::try_from(height)
            .ok()
            .filter(|h| h.value() > 0)
            .ok_or_else(|| AdapterError::NotFound {
                chain: self.chain.clone(),
                what: format!("block {height}: CometBFT heights are 1 to {}", i64::MAX),
            })
    }

    /// Checks the signed header is this chain's at `height`, in a block
    /// format the gba family reads.
    fn check_signed_header(&self, sh: &SignedHeader, height: u64) -> Result<(), AdapterError> {
        let summary = Gba::summary(sh).map_err(|e| self.bad(format!("header {height}: {e}")))?;
        if summary.height != height {
            return Err(self.bad(format!(
                "asked for header {height}, got the header of block {}",
                summary.height
            )));
        }
        if summary.chain_id != self.chain.as_str() {
            return Err(self.bad(format!(
                "header {height}: the signed header is of chain {:?}",
                summary.chain_id
            )));
        }
        Ok(())
    }

    /// Runs a read on the preferred endpoint, moving to the next on a
    /// transient failure; after each round of every endpoint it waits the
    /// policy's backoff (doubling, with jitter), up to `retries` retries.
    async fn read<T, F, Fut>(&self, call: &'static str, f: F) -> Result<T, AdapterError>
    where
        F: Fn(HttpClient) -> Fut + Send + Sync,
        Fut: Future<Output = Result<T, tendermint_rpc::Error>> + Send,
        T: Send,
    {
        let n = self.endpoints.len().max(1);
        let mut attempt: u32 = 0;
        loop {
            let start = self.preferred.load(Ordering::Relaxed) % n;
            let result = self.attempt(call, start, &f).await;
            let error = match result {
                Ok(value) => return Ok(value),
                Err(e) if !e.is_transient() || attempt >= self.policy.retries => return Err(e),
                Err(e) => e,
            };
            tracing::debug!(chain = %self.chain, call, error = %error, "retrying a CometBFT read");
            // The next endpoint takes the lead; after a full round, a pause.
            let _ = self.preferred.compare_exchange(
                start,
                (start + 1) % n,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            attempt += 1;
            if (attempt as usize).is_multiple_of(n) {
                tokio::time::sleep(self.pause(attempt as usize / n)).await;
            }
        }
    }

    /// One attempt on endpoint `index`, within the chain's limits.
    async fn attempt<T, F, Fut>(
        &self,
        call: &'static str,
        index: usize,
        f: &F,
    ) -> Result<T, AdapterError>
    where
        F: Fn(HttpClient) -> Fut + Send + Sync,
        Fut: Future<Output = Result<T, tendermint_rpc::Error>> + Send,
    {
        let endpoint = self
            .endpoints
            .get(index)
            .ok_or_else(|| AdapterError::Unavailable {
                chain: self.chain.clone(),
                reason: "no endpoint is configured".to_string(),
            })?;
        let _permit =
            self.limits
                .permits
                .acquire()
                .await
                .map_err(|_| AdapterError::Unavailable {
                    chain: self.chain.clone(),
                    reason: "the adapter's limits are closed".to_string(),
                })?;
        self.limits.admit().await;
        let started = Instant::now();
        let result = f(endpoint.client.clone()).await;
        let result = result.map_err(|e| self.rpc_error(call, &endpoint.url, e));
        if let Some(observer) = &self.observer {
            let answered = !matches!(result, Err(AdapterError::Unavailable { .. }));
            observer.observe(
                &self.chain,
                &endpoint.url,
                call,
                started.elapsed(),
                answered,
            );
        }
        result
    }

    /// The backoff before round `round` (1 first): the policy's, doubled
    /// each round, capped; its upper half is jitter.
    fn pause(&self, round: usize) -> Duration {
        let factor = 1u32
            .checked_shl(u32::try_from(round.saturating_sub(1)).unwrap_or(u32::MAX))
            .unwrap_or(u32::MAX);
        let full = self
            .policy
            .backoff
            .saturating_mul(factor)
            .min(self.policy.max_backoff);
        let half = full / 2;
        let span = u64::try_from(full.saturating_sub(half).as_nanos()).unwrap_or(u64::MAX);
        let draw = self.limits.draws.fetch_add(1, Ordering::Relaxed);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos()));
        let jitter = (now ^ draw.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .checked_rem(span.max(1))
            .unwrap_or(0);
        half + Duration::from_nanos(jitter)
    }

    /// What a failed CometBFT RPC call means to the relayer.
    fn rpc_error(&self, call: &str, endpoint: &str, e: tendermint_rpc::Error) -> AdapterError {
        let chain = self.chain.clone();
        let unavailable = |reason: String| AdapterError::Unavailable {
            chain: chain.clone(),
            reason: format!("{endpoint} {call}: {reason}"),
        };
        match e.detail() {
            ErrorDetail::Http(_) | ErrorDetail::Io(_) | ErrorDetail::Timeout(_) => {
                unavailable(e.to_string())
            }
            ErrorDetail::HttpRequestFailed(d) => {
                let status = d.status.as_u16();
                if status >= 500 || status == 429 {
                    unavailable(e.to_string())
                } else if status == 400 && call == "broadcast_tx_sync" {
                    // CometBFT answers a request over its `[rpc]
                    // max_body_bytes` with a bare 400 (the well-formed
                    // request this adapter sends has no other reason to
                    // get one): too large, so the submitter halves its
                    // batch instead of sending the same one again.
                    AdapterError::Refused {
                        chain,
                        status: 413,
                        code: crate::chain::BODY_TOO_LARGE.to_string(),
                        message: format!(
                            "{endpoint} {call}: HTTP 400, the request is over the node's [rpc] max_body_bytes"
                        ),
                    }
                } else {
                    self.bad(format!("{endpoint} {call}: {e}"))
                }
            }
            ErrorDetail::Response(d) => {
                let r = &d.source;
                let text = format!("{} {}", r.message(), r.data().unwrap_or_default());
                let text = text.trim().to_string();
                if text.contains("must be less than or equal to the current blockchain height")
                    || text.contains("is not available, lowest height is")
                    || text.contains("not found")
                {
                    AdapterError::NotFound {
                        chain,
                        what: format!("{call}: {text}"),
                    }
                } else if text.contains("tx already exists in cache") {
                    AdapterError::Refused {
                        chain,
                        status: 409,
                        code: "duplicate_tx".to_string(),
                        message: text,
                    }
                } else if text.contains("tx too large") {
                    AdapterError::Refused {
                        chain,
                        status: 413,
                        code: crate::chain::BODY_TOO_LARGE.to_string(),
                        message: text,
                    }
                } else if text.contains("mempool is full") {
                    unavailable(text)
                } else {
                    // CometBFT's own errors (a node restarting, a store
                    // behind): worth asking again.
                    AdapterError::Refused {
                        chain,
                        status: 503,
                        code: "cometbft".to_string(),
                        message: format!("{call}: {text}"),
                    }
                }
            }
            _ => self.bad(format!("{endpoint} {call}: {e}")),
        }
    }

    /// A refusal by the application (a non-zero ABCI code), mapped as the
    /// embedded ledger's HTTP answer would be: the `log` is JSON `{code,
    /// message}`, the ABCI code the HTTP status the embedded ledger would
    /// have answered (when it is one: 400 to 599; a `status` in the log
    /// wins); `not_found` is `NotFound`.
    fn app_refusal(&self, what: &str, code: u32, codespace: &str, log: &str) -> AdapterError {
        #[derive(Deserialize)]
        struct Log {
            code: String,
            message: String,
            #[serde(default)]
            status: Option<u16>,
        }
        let parsed = serde_json::from_str::<Log>(log)
            .ok()
            .filter(|_| codespace == CODESPACE);
        let Some(log) = parsed else {
            return AdapterError::Refused {
                chain: self.chain.clone(),
                status: 422,
                code: format!("abci_{code}"),
                message: format!(
                    "{what}: refused with code {code} in codespace {codespace:?}, not by portrelay's application: {log}"
                ),
            };
        };
        if log.code == "not_found" {
            return AdapterError::NotFound {
                chain: self.chain.clone(),
                what: log.message,
            };
        }
        let http = u16::try_from(code).ok().filter(|c| (400..=599).contains(c));
        let status = log.status.or(http).unwrap_or(match log.code.as_str() {
            "not_yet_provable" | "not_yet_sealed" | "block_open" => 409,
            crate::chain::BODY_TOO_LARGE => 413,
            "rate_limited" => 429,
            _ => 422,
        });
        AdapterError::Refused {
            chain: self.chain.clone(),
            status,
            code: log.code,
            message: log.message,
        }
    }

    /// `/abci_query` of `path` (the embedded ledger's GET route), its
    /// answer read as the route's wire message `T`.
    async fn query<T: DeserializeOwned>(
        &self,
        what: &'static str,
        path: String,
        data: Vec<u8>,
    ) -> Result<T, AdapterError> {
        let answer = self
            .read("abci_query", |c| {
                let (path, data) = (path.clone(), data.clone());
                async move { c.abci_query(Some(path), data, None, false).await }
            })
            .await?;
        if answer.code.is_err() {
            return Err(self.app_refusal(
                &format!("{what} ({path})"),
                answer.code.value(),
                &answer.codespace,
                &answer.log,
            ));
        }
        if answer.value.is_empty() {
            return Err(self.bad(format!(
                "{what}: the application answered {path} with no value (is it portrelay's gba application?)"
            )));
        }
        self.decode(what, &answer.value)
    }

    /// Checks the message's `version` before its shape (as `HttpAdapter`),
    /// then reads it strictly (a repeated key is refused).
    fn decode<T: DeserializeOwned>(&self, what: &str, body: &[u8]) -> Result<T, AdapterError> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u8,
        }
        let probe: Versioned = serde_json::from_slice(body)
            .map_err(|e| self.bad(format!("{what}: not a versioned wire message: {e}")))?;
        wire::check_version("message", probe.version)
            .map_err(|e| self.bad(format!("{what}: {e}")))?;
        light_clients::json::from_slice(body).map_err(|e| self.bad(format!("{what}: {e}")))
    }

    /// `/broadcast_tx_sync`, once, on the preferred endpoint (a failure
    /// hands the lead to the next one for the next call): the
    /// transaction's hash and `CheckTx`'s data, or its refusal.
    async fn broadcast(
        &self,
        what: &str,
        tx: Vec<u8>,
    ) -> Result<(tendermint::Hash, Vec<u8>), AdapterError> {
        let n = self.endpoints.len().max(1);
        let start = self.preferred.load(Ordering::Relaxed) % n;
        let answer = self
            .attempt("broadcast_tx_sync", start, &|c: HttpClient| {
                let tx = tx.clone();
                async move { c.broadcast_tx_sync(tx).await }
            })
            .await;
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                if e.is_transient() {
                    let _ = self.preferred.compare_exchange(
                        start,
                        (start + 1) % n,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
                return Err(e);
            }
        };
        if answer.code.is_err() {
            return Err(self.app_refusal(
                &format!("{what} (CheckTx)"),
                answer.code.value(),
                &answer.codespace,
                &answer.log,
            ));
        }
        Ok((answer.hash, answer.data.to_vec()))
    }

    /// Polls `/tx?hash=` until the transaction is in a committed block
    /// (its height and `FinalizeBlock`'s data for it) or `within` passed
    /// (`None`). A transaction the block refused is `Refused` with the
    /// application's check.
    async fn committed(
        &self,
        what: &str,
        hash: tendermint::Hash,
        within: Duration,
    ) -> Result<Option<(u64, Vec<u8>)>, AdapterError> {
        let deadline = Instant::now() + within;
        loop {
            match self
                .read("tx", move |c| async move { c.tx(hash, false).await })
                .await
            {
                Ok(found) => {
                    let result = found.tx_result;
                    if result.code.is_err() {
                        return Err(self.app_refusal(
                            &format!("{what} {hash} (FinalizeBlock)"),
                            result.code.value(),
                            &result.codespace,
                            &result.log,
                        ));
                    }
                    return Ok(Some((found.height.value(), exec_data(&result.data))));
                }
                // Not in a block yet (or never: CometBFT cannot tell).
                Err(AdapterError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(POLL.min(deadline - now)).await;
        }
    }

    /// A transaction's answer from `data` (`TxResponse` JSON), named by
    /// its CometBFT hash (what `/tx?hash=` finds it by).
    fn tx_response(
        &self,
        hash: tendermint::Hash,
        height: Option<u64>,
        data: &[u8],
    ) -> Result<TxResponse, AdapterError> {
        if data.is_empty() {
            return Err(self.bad(format!(
                "transaction {hash}: the application answered no TxResponse"
            )));
        }
        let mut response: TxResponse = self.decode("transaction", data)?;
        response.id = tx_id(hash);
        response.height = height;
        Ok(response)
    }

    /// Broadcasts an event and waits for the block that executes it (the
    /// event's packet is known only then).
    async fn event(&self, event: &SubmitEvent) -> Result<SubmittedEvent, AdapterError> {
        let (hash, _) = self.broadcast("event", event_tx_bytes(event)).await?;
        self.event_committed(hash).await
    }

    async fn event_committed(
        &self,
        hash: tendermint::Hash,
    ) -> Result<SubmittedEvent, AdapterError> {
        match self.committed("event", hash, WAIT_TX).await? {
            Some((_, data)) if !data.is_empty() => self.decode("submitted event", &data),
            Some((height, _)) => Err(self.bad(format!(
                "event {hash} in block {height}: the application answered no SubmittedEvent"
            ))),
            None => Err(AdapterError::Unavailable {
                chain: self.chain.clone(),
                reason: format!(
                    "event transaction {hash} was not committed within {}s",
                    WAIT_TX.as_secs()
                ),
            }),
        }
    }

    fn bad(&self, reason: String) -> AdapterError {
        AdapterError::BadResponse {
            chain: self.chain.clone(),
            reason,
        }
    }
}

/// A block's data for a transaction as `/tx` serves it. CometBFT writes
/// it in base64, and tendermint-rpc 0.41 hands over the base64 text as the
/// bytes (`ExecTxResult::data` is read as a plain string): decoded here. A
/// JSON answer is never valid base64 (`{` is not in its alphabet), so data
/// already decoded passes as it is.
fn exec_data(data: &[u8]) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap_or_else(|_| data.to_vec())
}

/// A CometBFT transaction hash as the relayer names transactions: lowercase hex.
fn tx_id(hash: tendermint::Hash) -> String {
    hash.to_string().to_ascii_lowercase()
}

/// What `broadcast_tx_sync` carries for a relay or operator transaction
/// (`abci::AbciTx`, the contract's encoding).
fn signed_tx_bytes(tx: &SignedTx) -> Vec<u8> {
    crate::abci::AbciTx::Signed(tx.clone()).encode()
}

/// What `broadcast_tx_sync` carries for a port event.
fn event_tx_bytes(event: &SubmitEvent) -> Vec<u8> {
    crate::abci::AbciTx::Event(event.clone()).encode()
}

#[async_trait::async_trait]
impl ChainAdapter for CometAdapter {
    fn chain_id(&self) -> &ChainId {
        &self.chain
    }

    fn family(&self) -> FamilyName {
        FamilyName::Gba
    }

    /// CometBFT's latest block (height, time) with the application's own
    /// status (operator, eBL platform, validators, transaction limit).
    async fn status(&self) -> Result<NodeStatus, AdapterError> {
        let tip = self.tip().await?;
        let app: NodeStatus = self
            .query("node status", "/v1/status".to_string(), Vec::new())
            .await?;
        if app.chain_id != self.chain || app.family != FamilyName::Gba {
            return Err(self.bad(format!(
                "the application serves {} chain {}, not gba chain {}",
                app.family, app.chain_id, self.chain
            )));
        }
        Ok(NodeStatus {
            height: tip.height,
            time: tip.time,
            ..app
        })
    }

    async fn header(&self, height: u64) -> Result<AnyHeader, AdapterError> {
        let at = self.height(height)?;
        let next = height
            .checked_add(1)
            .ok_or_else(|| self.bad(format!("no block follows {height}")))?;
        let commit = self
            .read("commit", move |c| async move { c.commit(at).await })
            .await?;
        let signed_header = commit.signed_header;
        self.check_signed_header(&signed_header, height)?;
        let proposer = Some(signed_header.header.proposer_address);
        let validators = self.validator_set(height, proposer).await?;
        let next_validators = self.validator_set(next, None).await?;
        Ok(AnyHeader::Gba(UntrustedBlock {
            signed_header,
            validators,
            next_validators,
        }))
    }

    /// Polls `/status` (every 100 ms) until the chain is past `after`.
    async fn next_header(
        &self,
        after: u64,
        wait: Duration,
    ) -> Result<Option<AnyHeader>, AdapterError> {
        let Some(height) = after.checked_add(1) else {
            return Ok(None);
        };
        let deadline = Instant::now() + wait;
        loop {
            if self.tip().await?.height >= height {
                return self.header(height).await.map(Some);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(POLL.min(deadline - now)).await;
        }
    }

    async fn block_events(&self, height: u64) -> Result<BlockEvents, AdapterError> {
        let events: BlockEvents = self
            .query(
                "block events",
                format!("/v1/blocks/{height}/events"),
                Vec::new(),
            )
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
        let r: ChannelsResponse = self
            .query("channels", "/v1/channels".to_string(), Vec::new())
            .await?;
        Ok(r.channels)
    }

    async fn clients(&self) -> Result<Vec<ClientInfo>, AdapterError> {
        let r: ClientsResponse = self
            .query("clients", "/v1/clients".to_string(), Vec::new())
            .await?;
        Ok(r.clients)
    }

    async fn packet_location(&self, packet: &PacketId) -> Result<PacketLocation, AdapterError> {
        let c = &packet.channel;
        let path = format!(
            "/v1/packets/{}/{}/{}/{}",
            c.source, c.destination, c.app, packet.sequence
        );
        let found: PacketLocation = self.query("packet location", path, Vec::new()).await?;
        if found.packet != *packet {
            return Err(self.bad(format!("asked where {packet} is, got {}", found.packet)));
        }
        Ok(found)
    }

    async fn receipt_location(&self, packet: &PacketId) -> Result<ReceiptLocation, AdapterError> {
        let c = &packet.channel;
        let path = format!(
            "/v1/receipts/{}/{}/{}/{}",
            c.source, c.destination, c.app, packet.sequence
        );
        let found: ReceiptLocation = self.query("receipt location", path, Vec::new()).await?;
        if found.packet != *packet {
            return Err(self.bad(format!(
                "asked for the receipt of {packet}, got {}",
                found.packet
            )));
        }
        Ok(found)
    }

    async fn account(&self, key: &RelayerKey) -> Result<AccountResponse, AdapterError> {
        let account: AccountResponse = self
            .query("account", format!("/v1/accounts/{key}"), Vec::new())
            .await?;
        if account.key != *key {
            return Err(self.bad(format!("asked for account {key}, got {}", account.key)));
        }
        Ok(account)
    }

    /// Broadcast, then waited for (up to 30 s); not committed by then is an
    /// answer without a height, as the embedded ledger's.
    async fn submit(&self, tx: &SignedTx) -> Result<TxResponse, AdapterError> {
        let pending = self.submit_pending(tx).await?;
        self.wait_tx(&pending.id).await
    }

    /// `CheckTx`'s answer when it carries the messages' results, named by
    /// the transaction's CometBFT hash. The gba application runs a
    /// transaction only in its block (`CheckTx` checks the envelope and
    /// answers no data): then the block's answer is the first to hold the
    /// results, and this waits for it as `wait_tx` does.
    /// Broadcast, then waited for in a block (up to 30 s, as `wait_tx`).
    /// Not in one after [`REBROADCAST`]: the same bytes are broadcast
    /// again, to the endpoint the adapter prefers by then, and so on until
    /// the deadline: the node that took it may have gone down before its
    /// mempool passed it on. The same bytes are the same transaction (one
    /// hash, one nonce): a node that has it answers "already in cache", a
    /// node past its nonce refuses it, and it executes at most once.
    async fn submit_pending(&self, tx: &SignedTx) -> Result<TxResponse, AdapterError> {
        let bytes = signed_tx_bytes(tx);
        let (hash, data) = self.broadcast("transaction", bytes.clone()).await?;
        if !data.is_empty() {
            return self.tx_response(hash, None, &data);
        }
        let deadline = Instant::now() + WAIT_TX;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Some((height, data)) = self
                .committed("transaction", hash, REBROADCAST.min(left))
                .await?
            {
                return self.tx_response(hash, Some(height), &data);
            }
            if Instant::now() >= deadline {
                return Ok(TxResponse {
                    version: WIRE_VERSION,
                    id: tx_id(hash),
                    height: None,
                    results: Vec::new(),
                });
            }
            if let Err(e) = self.broadcast("transaction", bytes.clone()).await {
                tracing::debug!(chain = %self.chain, tx = %hash, error = %e, "a transaction broadcast again");
            }
        }
    }

    /// `id` is the CometBFT hash `submit_pending` named. Not in a block
    /// within 30 s: an answer without a height (CometBFT cannot tell a
    /// transaction still in a mempool from one that is gone).
    async fn wait_tx(&self, id: &str) -> Result<TxResponse, AdapterError> {
        let hash = tendermint::Hash::from_hex_upper(
            tendermint::hash::Algorithm::Sha256,
            &id.to_ascii_uppercase(),
        )
        .map_err(|_| AdapterError::Refused {
            chain: self.chain.clone(),
            status: 400,
            code: "malformed_request".to_string(),
            message: format!("not sent: {id:?} is not a CometBFT transaction hash"),
        })?;
        match self.committed("transaction", hash, WAIT_TX).await? {
            Some((height, data)) => self.tx_response(hash, Some(height), &data),
            None => Ok(TxResponse {
                version: WIRE_VERSION,
                id: tx_id(hash),
                height: None,
                results: Vec::new(),
            }),
        }
    }

    async fn path_policy(
        &self,
        source: &ChainId,
        app: light_clients::App,
    ) -> Result<wire::PathPolicyResponse, AdapterError> {
        self.query(
            "path policy",
            format!("/v1/zk/paths/{source}/{app}"),
            Vec::new(),
        )
        .await
    }

    async fn zk_key(&self) -> Result<wire::ZkKeyResponse, AdapterError> {
        self.query("zk key", "/v1/zk/key".to_string(), Vec::new())
            .await
    }

    /// `/abci_query` of `/v1/zk/disclose` with the request's JSON as data.
    async fn disclose(
        &self,
        request: &wire::DiscloseRequest,
    ) -> Result<wire::DisclosureResponse, AdapterError> {
        let body = serde_json::to_vec(request).map_err(|e| AdapterError::Refused {
            chain: self.chain.clone(),
            status: 400,
            code: "malformed_request".to_string(),
            message: format!("not sent: cannot encode the disclose request: {e}"),
        })?;
        let answer: wire::DisclosureResponse = self
            .query("disclosure", "/v1/zk/disclose".to_string(), body)
            .await?;
        let records: usize = answer.disclosures.iter().map(|d| d.records.len()).sum();
        if records != request.packets.len() {
            return Err(self.bad(format!(
                "asked disclosures of {} packets, got {records}",
                request.packets.len()
            )));
        }
        Ok(answer)
    }

    async fn submit_event(&self, event: &SubmitEvent) -> Result<SubmittedEvent, AdapterError> {
        self.event(event).await
    }

    /// Every event broadcast first (each `CheckTx` answers at once), then
    /// each waited for in order: one block can take them all.
    async fn submit_events(&self, events: &[SubmitEvent]) -> Result<SubmittedEvents, AdapterError> {
        if events.len() > MAX_EVENT_BATCH {
            return Err(AdapterError::Refused {
                chain: self.chain.clone(),
                status: 400,
                code: "malformed_request".to_string(),
                message: format!(
                    "not sent: a batch of {} events is over the {MAX_EVENT_BATCH} a ledger takes at once",
                    events.len()
                ),
            });
        }
        let mut sent = Vec::with_capacity(events.len());
        for event in events {
            sent.push(self.broadcast("event", event_tx_bytes(event)).await);
        }
        let mut results = Vec::with_capacity(events.len());
        for (index, broadcast) in sent.into_iter().enumerate() {
            let outcome = match broadcast {
                Ok((hash, _)) => self.event_committed(hash).await,
                Err(e) => Err(e),
            };
            results.push(match outcome {
                Ok(submitted) => SubmittedItem::Submitted(submitted),
                Err(e) => SubmittedItem::Refused(refused_event(index, &e)),
            });
        }
        Ok(SubmittedEvents {
            version: WIRE_VERSION,
            results,
        })
    }
}

/// An event of a batch that did not make it, as the embedded ledger's
/// batch answer records it.
fn refused_event(index: usize, e: &AdapterError) -> RefusedEvent {
    let (status, code) = match e {
        AdapterError::Refused { status, code, .. } => (*status, code.clone()),
        AdapterError::NotFound { .. } => (404, "not_found".to_string()),
        AdapterError::BadResponse { .. } => (502, "bad_response".to_string()),
        AdapterError::Unavailable { .. } => (503, "unavailable".to_string()),
    };
    RefusedEvent {
        index: index as u64,
        status,
        code,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{ChainConfig, Engine};
    use light_clients::App;

    fn config(family: FamilyName, endpoints: Vec<String>) -> AdapterConfig {
        AdapterConfig::new(
            family,
            ChainConfig {
                chain_id: ChainId::new("gba-1").unwrap(),
                endpoints,
                apps: App::ALL.to_vec(),
                trust_root: None,
                rpc: RpcPolicy::DEVNET,
                engine: Engine::Cometbft,
            },
        )
    }

    fn adapter() -> CometAdapter {
        CometAdapter::new(
            &config(FamilyName::Gba, vec!["http://127.0.0.1:1".into()]),
            None,
        )
        .unwrap()
    }

    #[test]
    fn only_gba_chains_run_on_cometbft() {
        let e = CometAdapter::new(
            &config(FamilyName::Cosco, vec!["http://127.0.0.1:1".into()]),
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("gba-1.engine: cometbft does not run cosco chains"),
            "{e}"
        );
    }

    /// The application's refusals come back by the host's named check,
    /// with the status the embedded ledger would answer; anything else
    /// is named as not the application's.
    #[test]
    fn application_refusals_keep_their_check() {
        let a = adapter();
        let log = r#"{"code":"out_of_order","message":"sequence 3 before 2"}"#;
        match a.app_refusal("transaction (CheckTx)", 7, CODESPACE, log) {
            AdapterError::Refused {
                status,
                code,
                message,
                ..
            } => {
                assert_eq!((status, code.as_str()), (422, "out_of_order"));
                assert_eq!(message, "sequence 3 before 2");
            }
            other => panic!("{other:?}"),
        }
        let log = r#"{"code":"not_yet_provable","message":"block 9 has no next header"}"#;
        let e = a.app_refusal("block events", 3, CODESPACE, log);
        assert!(e.is_transient(), "{e:?}");
        let log = r#"{"code":"not_found","message":"no block 99"}"#;
        assert!(matches!(
            a.app_refusal("block events", 3, CODESPACE, log),
            AdapterError::NotFound { .. }
        ));
        let log = r#"{"code":"nonce","message":"stale","status":409}"#;
        assert!(matches!(
            a.app_refusal("transaction", 3, CODESPACE, log),
            AdapterError::Refused { status: 409, .. }
        ));
        // The application's code is the embedded ledger's HTTP status.
        let log = r#"{"code":"rate_limited","message":"slow down"}"#;
        assert!(matches!(
            a.app_refusal("query", 503, CODESPACE, log),
            AdapterError::Refused { status: 503, .. }
        ));
        let e = a.app_refusal("query", 1, "kvstore", "does not exist");
        assert!(
            e.to_string().contains("not by portrelay's application"),
            "{e}"
        );
    }

    #[test]
    fn block_data_is_read_from_its_base64() {
        assert_eq!(exec_data(b"eyJ2ZXJzaW9uIjoxfQ=="), br#"{"version":1}"#);
        assert_eq!(exec_data(br#"{"version":1}"#), br#"{"version":1}"#);
    }

    #[test]
    fn transaction_ids_are_cometbft_hashes_in_lowercase_hex() {
        let hash = tendermint::Hash::Sha256([0xAB; 32]);
        assert_eq!(tx_id(hash), "ab".repeat(32));
    }

    /// With nothing listening, a read is `Unavailable` after its retries,
    /// and a broadcast is tried once and hands the lead to the next endpoint.
    #[tokio::test]
    async fn dead_endpoints_are_unavailable_and_rotated() {
        let dead = || {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        let a = CometAdapter::new(&config(FamilyName::Gba, vec![dead(), dead()]), None).unwrap();
        let e = a.tip().await.unwrap_err();
        assert!(matches!(e, AdapterError::Unavailable { .. }), "{e:?}");
        let before = a.active_endpoint().to_string();
        let e = a.broadcast("transaction", vec![1, 2, 3]).await.unwrap_err();
        assert!(matches!(e, AdapterError::Unavailable { .. }), "{e:?}");
        assert!(e.to_string().contains("broadcast_tx_sync"), "{e}");
        assert_ne!(a.active_endpoint(), before);
    }
}
