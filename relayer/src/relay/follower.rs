//! The follower of a chain: one task that verifies every new header with
//! the same light-client code the destinations run, and owns what it
//! verified (a window of recent headers) and the chain's `FollowState`.
//! Other tasks reach it through a [`FollowerHandle`]: requests with a
//! oneshot reply for headers, a watch channel for the state (read without
//! waiting by the API, the status page, the scanner and the witnesses).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::chain::{AdapterError, ChainAdapter};
use light_clients::any::{AnyClient, AnyHeader};
use light_clients::client::UpdateOutcome;
use light_clients::{ChainId, Timestamp};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::engine::{header_time, now, Chain, FollowState, MisbehaviourReport, WitnessState};
use crate::metrics::Metrics;

/// Headers kept per chain for submitters and witnesses to use.
const HEADER_WINDOW: usize = 4096;

/// Headers below the window verified on demand (by their hash links), kept
/// apart so that the window's newest headers never evict them, nor they the
/// window's. A restarted member inherits at most a few lanes' worth of proof
/// heights below where it started; the bound keeps a long run of them from
/// growing without end (the oldest go first: the jobs that needed them are
/// usually done).
const OLDER_KEPT: usize = 4096;

/// How far below the lowest verified header a header is looked for by its
/// hash links, one adapter request per height. A job proven further down
/// than this is left to stall (and be released, then parked) rather than
/// have every submitter walk the chain's whole history.
pub const BACKFILL_MAX: u64 = 4096;

/// Requests waiting for the follower. Every request is answered from memory
/// between two header verifications (each well under a millisecond), so a
/// queue of this size is never full for long; it bounds what the submitters,
/// the scanner and the witnesses of a chain (a handful of tasks, each with
/// one request out at a time) can pile up.
const REQUESTS: usize = 64;

/// What the follower publishes after each change.
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub follow: FollowState,
    /// The lowest and the highest height in the window of verified headers
    /// (none before the follower started).
    pub window: Option<(u64, u64)>,
}

/// What other tasks ask of, or tell, a follower.
#[derive(Debug)]
enum Request {
    /// The verified header at `height`, or else the lowest verified one
    /// above it (a header to walk down from by hash links).
    Anchor {
        height: u64,
        reply: oneshot::Sender<Option<(u64, AnyHeader)>>,
    },
    /// Headers below the window, verified by their hash links by a handle.
    Backfilled { headers: Vec<(u64, AnyHeader)> },
    /// The verified headers at these heights (none where not in the window).
    Headers {
        heights: Vec<u64>,
        reply: oneshot::Sender<Vec<Option<AnyHeader>>>,
    },
    /// When each of these blocks was committed (see [`FollowerHandle::committed_at`]).
    CommittedAt {
        heights: Vec<u64>,
        reply: oneshot::Sender<BTreeMap<u64, Timestamp>>,
    },
    /// The scanner's next block.
    Scanned { next_scan: u64 },
    /// A witness endpoint as last compared.
    Witness {
        endpoint: String,
        state: WitnessState,
    },
    /// A witness found a conflicting valid header: following stops.
    Fork { report: MisbehaviourReport },
    /// A host's answer to the evidence of the fork at `height`.
    EvidenceAnswer {
        height: u64,
        host: ChainId,
        answer: String,
    },
}

/// A cheap, cloneable way to a chain's follower.
#[derive(Debug, Clone)]
pub struct FollowerHandle {
    requests: mpsc::Sender<Request>,
    state: watch::Receiver<Published>,
    /// The chain's adapter, for the handle to fetch older headers itself
    /// (see [`FollowerHandle::verified_back`]) so the follower's task never
    /// waits on the network to answer a request.
    adapter: Arc<dyn ChainAdapter>,
}

/// Why a header below the follower's window could not be verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackfillError {
    /// The follower has no verified header at or above the height (it has
    /// not started, or stopped).
    #[error("no verified header at or above height {height} to walk down from")]
    NoAnchor { height: u64 },
    /// The height is further below the verified headers than the walk goes.
    #[error("height {height} is {distance} blocks below the lowest verified header (at most {BACKFILL_MAX} are walked)")]
    TooFar { height: u64, distance: u64 },
    /// The adapter could not serve a header.
    #[error("header {height}: {source}")]
    Adapter { height: u64, source: AdapterError },
    /// A served header does not hash to the link of the verified header above it.
    #[error("header {height} does not match the hash link of the verified header above it")]
    Link { height: u64 },
    /// A served header is malformed, or its sets do not match their hashes.
    #[error("header {height}: {reason}")]
    Malformed { height: u64, reason: String },
}

impl BackfillError {
    /// A short stable reason, for logs and metrics labels.
    pub fn check(&self) -> &'static str {
        match self {
            BackfillError::NoAnchor { .. } => "no_anchor",
            BackfillError::TooFar { .. } => "too_far",
            BackfillError::Adapter { .. } => "unavailable",
            BackfillError::Link { .. } => "hash_link",
            BackfillError::Malformed { .. } => "malformed",
        }
    }
}

impl FollowerHandle {
    /// What the follower has done, as last published.
    pub fn state(&self) -> FollowState {
        self.state.borrow().follow.clone()
    }

    /// A receiver that sees every change the follower publishes.
    pub fn subscribe(&self) -> watch::Receiver<Published> {
        self.state.clone()
    }

    pub fn is_frozen(&self) -> bool {
        self.state.borrow().follow.frozen.is_some()
    }

    /// The height of the highest header the follower verified.
    pub fn latest(&self) -> Option<u64> {
        self.state.borrow().window.map(|(_, h)| h)
    }

    /// The lowest height still in the window of verified headers.
    pub fn lowest(&self) -> Option<u64> {
        self.state.borrow().window.map(|(l, _)| l)
    }

    /// The verified header at `height`; none when it is not in the window
    /// (or the follower stopped).
    pub async fn header(&self, height: u64) -> Option<AnyHeader> {
        self.headers(vec![height]).await.pop().flatten()
    }

    /// The verified headers at `heights`, in order, in one round trip.
    pub async fn headers(&self, heights: Vec<u64>) -> Vec<Option<AnyHeader>> {
        let n = heights.len();
        let (reply, answer) = oneshot::channel();
        if self
            .requests
            .send(Request::Headers { heights, reply })
            .await
            .is_err()
        {
            return vec![None; n];
        }
        answer.await.unwrap_or_else(|_| vec![None; n])
    }

    /// The header at `height`, verified: from the window, or, below it, by
    /// walking down from the lowest verified header above it, one header at
    /// a time, each accepted only if it hashes to the `previous` link of the
    /// verified header above it (headers hash their link, so this is as
    /// sound as the verified header it starts from) and its sets match the
    /// hashes it commits. A member restarted above the proof heights of the
    /// jobs it inherits gets their headers this way; without it it could
    /// never deliver them.
    pub async fn verified_back(&self, height: u64) -> Result<AnyHeader, BackfillError> {
        let (reply, answer) = oneshot::channel();
        if self
            .requests
            .send(Request::Anchor { height, reply })
            .await
            .is_err()
        {
            return Err(BackfillError::NoAnchor { height });
        }
        let (mut at, mut above) = answer
            .await
            .ok()
            .flatten()
            .ok_or(BackfillError::NoAnchor { height })?;
        if at == height {
            return Ok(above);
        }
        let distance = at - height;
        if distance > BACKFILL_MAX {
            return Err(BackfillError::TooFar { height, distance });
        }
        let mut found = Vec::new();
        while at > height {
            let h = at - 1;
            let link = above
                .summary()
                .ok()
                .and_then(|s| s.previous_hash)
                .ok_or(BackfillError::Link { height: h })?;
            let header = self
                .adapter
                .header(h)
                .await
                .map_err(|source| BackfillError::Adapter { height: h, source })?;
            let summary = header
                .checked_summary()
                .map_err(|e| BackfillError::Malformed {
                    height: h,
                    reason: e.to_string(),
                })?;
            if summary.height != h {
                return Err(BackfillError::Malformed {
                    height: h,
                    reason: format!("served as height {}", summary.height),
                });
            }
            if summary.hash != link {
                return Err(BackfillError::Link { height: h });
            }
            found.push((h, header.clone()));
            above = header;
            at = h;
        }
        // Kept by the follower so the next batch at this height asks no one.
        let _ = self
            .requests
            .send(Request::Backfilled { headers: found })
            .await;
        Ok(above)
    }

    /// The highest verified header.
    pub async fn latest_header(&self) -> Option<(u64, AnyHeader)> {
        let h = self.latest()?;
        self.header(h).await.map(|header| (h, header))
    }

    /// When each block of `heights` was committed: the time of the header
    /// after it (each block's time is when the one before was sealed), or,
    /// when that is not verified yet, the block's own time. Heights with
    /// neither are left out.
    pub async fn committed_at(&self, heights: Vec<u64>) -> BTreeMap<u64, Timestamp> {
        let (reply, answer) = oneshot::channel();
        if self
            .requests
            .send(Request::CommittedAt { heights, reply })
            .await
            .is_err()
        {
            return BTreeMap::new();
        }
        answer.await.unwrap_or_default()
    }

    // What other tasks tell the follower: a follower that stopped (its chain
    // removed) has nobody left to tell, so a failed send is dropped.

    pub async fn scanned(&self, next_scan: u64) {
        let _ = self.requests.send(Request::Scanned { next_scan }).await;
    }

    pub async fn witness(&self, endpoint: String, state: WitnessState) {
        let _ = self
            .requests
            .send(Request::Witness { endpoint, state })
            .await;
    }

    pub async fn fork(&self, report: MisbehaviourReport) {
        let _ = self.requests.send(Request::Fork { report }).await;
    }

    pub async fn evidence_answer(&self, height: u64, host: ChainId, answer: String) {
        let _ = self
            .requests
            .send(Request::EvidenceAnswer {
                height,
                host,
                answer,
            })
            .await;
    }
}

/// What the follower waits for next.
enum Step {
    /// The header to start from (the pin, the trust root or the latest).
    Started(Result<(AnyHeader, u64), AdapterError>),
    /// The header after the latest verified one (none: not yet).
    Next(Result<Option<AnyHeader>, AdapterError>),
    /// A pause after a failure is over.
    Slept,
}

type Pending = Pin<Box<dyn Future<Output = Step> + Send>>;

/// The follower's task and its handle; the task runs until `stop`.
pub(super) fn follower(
    id: ChainId,
    chain: Chain,
    trust: light_clients::TrustOptions,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) -> (FollowerHandle, impl Future<Output = ()> + Send + 'static) {
    let (requests, rx) = mpsc::channel(REQUESTS);
    let (state_tx, state) = watch::channel(Published::default());
    let follower = Follower {
        id,
        chain,
        trust,
        metrics,
        window: BTreeMap::new(),
        older: BTreeMap::new(),
        state: state_tx,
    };
    let adapter = follower.chain.adapter.clone();
    (
        FollowerHandle {
            requests,
            state,
            adapter,
        },
        follower.run(rx, stop),
    )
}

struct Follower {
    id: ChainId,
    chain: Chain,
    trust: light_clients::TrustOptions,
    metrics: Arc<Metrics>,
    /// Headers verified, by height (a window of recent ones).
    window: BTreeMap<u64, AnyHeader>,
    /// Headers below the window verified by their hash links (see
    /// [`FollowerHandle::verified_back`]).
    older: BTreeMap<u64, AnyHeader>,
    state: watch::Sender<Published>,
}

impl Follower {
    async fn run(mut self, mut requests: mpsc::Receiver<Request>, stop: CancellationToken) {
        let mut client: Option<AnyClient> = None;
        let mut height = 0u64;
        let mut pending: Pending = self.start();
        loop {
            let step = tokio::select! {
                _ = stop.cancelled() => return,
                Some(request) = requests.recv() => {
                    self.answer(request);
                    // A witness's fork stops following at once, not after the next header.
                    if self.state.borrow().follow.frozen.is_some() {
                        pending = frozen();
                    }
                    continue;
                }
                step = &mut pending => step,
            };
            pending = match (step, client.as_mut()) {
                (Step::Started(Ok((header, h))), _) => {
                    match AnyClient::create(&header.trust_root(), self.trust) {
                        Ok(c) => {
                            client = Some(c);
                            height = h;
                            self.keep(h, header);
                            self.publish(|f| f.verified_height = h);
                            self.next(height)
                        }
                        Err(e) => {
                            tracing::error!(chain = %self.id, check = e.check(), error = %e, "cannot start following");
                            self.publish(|f| f.last_error = Some(format!("trust root: {e}")));
                            self.retry_start(Duration::from_millis(500))
                        }
                    }
                }
                (Step::Started(Err(e)), _) => {
                    tracing::warn!(chain = %self.id, error = %e, "waiting for the chain");
                    self.publish(|f| f.last_error = Some(e.to_string()));
                    self.retry_start(Duration::from_millis(500))
                }
                (Step::Slept, None) => self.start(),
                (_, None) => self.start(),
                (Step::Slept, Some(_)) => self.next(height),
                (Step::Next(Ok(None)), Some(_)) => self.next(height),
                (Step::Next(Err(e)), Some(_)) => {
                    tracing::warn!(chain = %self.id, error = %e, "following");
                    self.publish(|f| f.last_error = Some(e.to_string()));
                    sleep(Duration::from_millis(200))
                }
                (Step::Next(Ok(Some(header))), Some(c)) => {
                    let started = Instant::now();
                    match c.update(&header, now()) {
                        Ok(UpdateOutcome::Updated { .. } | UpdateOutcome::AlreadyKnown { .. }) => {
                            self.metrics.header_verified(&self.id, started.elapsed());
                            height += 1;
                            self.metrics
                                .verified_height
                                .with_label_values(&[self.id.as_str()])
                                .set(i64::try_from(height).unwrap_or(i64::MAX));
                            self.keep(height, header);
                            self.publish(|f| {
                                f.verified_height = height;
                                f.last_error = None;
                            });
                            self.next(height)
                        }
                        Ok(UpdateOutcome::Frozen(evidence)) => {
                            tracing::error!(chain = %self.id, %evidence, "misbehaviour: the endpoints served conflicting headers; following stops");
                            self.publish(|f| f.frozen = Some(evidence.to_string()));
                            frozen()
                        }
                        Err(e) => {
                            // Never forward a header a destination would reject.
                            tracing::error!(chain = %self.id, height = height + 1, check = e.check(), error = %e, "header failed verification");
                            self.publish(|f| {
                                f.last_error = Some(format!(
                                    "header {} failed verification: {}: {e}",
                                    height + 1,
                                    e.check()
                                ))
                            });
                            sleep(Duration::from_millis(500))
                        }
                    }
                }
            };
            if self.state.borrow().follow.frozen.is_some() {
                pending = frozen();
            }
        }
    }

    /// Fetches the header to start from: an operator's pin (checked against
    /// its hash), the trust root, or the chain's latest.
    fn start(&self) -> Pending {
        let adapter = self.chain.adapter.clone();
        let chain = self.id.clone();
        let pin = self.chain.pin;
        let root = self.chain.trust_root.clone();
        Box::pin(async move {
            let started = match (pin, root) {
                (Some((h, hash)), _) => {
                    async {
                        let header = adapter.header(h).await?;
                        let got = header.summary().map(|s| s.hash).map_err(|e| {
                            AdapterError::BadResponse {
                                chain: chain.clone(),
                                reason: format!("header {h}: {e}"),
                            }
                        })?;
                        if got != hash {
                            return Err(AdapterError::BadResponse {
                                chain: chain.clone(),
                                reason: format!(
                                    "trust_hash: the header at trust_height {h} is {got}, not the pinned {hash}"
                                ),
                            });
                        }
                        Ok((header, h))
                    }
                    .await
                }
                (None, Some((h, header))) => Ok((header, h)),
                (None, None) => {
                    async {
                        let status = adapter.status().await?;
                        let header = adapter.header(status.height).await?;
                        Ok::<_, AdapterError>((header, status.height))
                    }
                    .await
                }
            };
            Step::Started(started)
        })
    }

    fn retry_start(&self, pause: Duration) -> Pending {
        let start = self.start();
        Box::pin(async move {
            tokio::time::sleep(pause).await;
            start.await
        })
    }

    fn next(&self, height: u64) -> Pending {
        let adapter: Arc<dyn ChainAdapter> = self.chain.adapter.clone();
        Box::pin(
            async move { Step::Next(adapter.next_header(height, Duration::from_secs(5)).await) },
        )
    }

    fn keep(&mut self, height: u64, header: AnyHeader) {
        self.window.insert(height, header);
        while self.window.len() > HEADER_WINDOW {
            self.window.pop_first();
        }
    }

    /// Changes the follow state and publishes it with the window's bounds.
    fn publish(&self, f: impl FnOnce(&mut FollowState)) {
        let window = match (self.window.first_key_value(), self.window.last_key_value()) {
            (Some((l, _)), Some((h, _))) => Some((*l, *h)),
            _ => None,
        };
        self.state.send_modify(|p| {
            f(&mut p.follow);
            p.window = window;
        });
    }

    fn answer(&mut self, request: Request) {
        match request {
            Request::Anchor { height, reply } => {
                let first = |m: &BTreeMap<u64, AnyHeader>| {
                    m.range(height..).next().map(|(h, x)| (*h, x.clone()))
                };
                let anchor = match (first(&self.older), first(&self.window)) {
                    (Some(o), Some(w)) => Some(if o.0 <= w.0 { o } else { w }),
                    (o, w) => o.or(w),
                };
                let _ = reply.send(anchor);
            }
            Request::Backfilled { headers } => {
                self.older.extend(headers);
                while self.older.len() > OLDER_KEPT {
                    self.older.pop_first();
                }
            }
            Request::Headers { heights, reply } => {
                let headers = heights
                    .iter()
                    .map(|h| self.window.get(h).or_else(|| self.older.get(h)).cloned())
                    .collect();
                // The asker may have given up (its task stopped): nothing to do.
                let _ = reply.send(headers);
            }
            Request::CommittedAt { heights, reply } => {
                let times = heights
                    .into_iter()
                    .filter_map(|h| {
                        self.window
                            .get(&(h + 1))
                            .or_else(|| self.window.get(&h))
                            .map(|header| (h, header_time(header)))
                    })
                    .collect();
                let _ = reply.send(times);
            }
            Request::Scanned { next_scan } => self.publish(|f| f.next_scan = next_scan),
            Request::Witness { endpoint, state } => self.publish(|f| {
                let w = f.witnesses.entry(endpoint).or_default();
                // A failure keeps the height the endpoint last agreed up to.
                if state.last_error.is_none() {
                    w.agreed_height = state.agreed_height;
                }
                w.last_error = state.last_error;
            }),
            Request::Fork { report } => self.publish(|f| {
                f.frozen = Some(report.evidence.clone());
                f.misbehaviour.push(report);
            }),
            Request::EvidenceAnswer {
                height,
                host,
                answer,
            } => self.publish(|f| {
                if let Some(r) = f.misbehaviour.iter_mut().find(|r| r.height == height) {
                    r.submitted.insert(host, answer);
                }
            }),
        }
    }
}

fn sleep(pause: Duration) -> Pending {
    Box::pin(async move {
        tokio::time::sleep(pause).await;
        Step::Slept
    })
}

/// A frozen chain is not followed any further; the task still answers requests.
fn frozen() -> Pending {
    Box::pin(std::future::pending())
}

#[cfg(test)]
mod tests {
    //! `FollowerHandle::verified_back` against the real follower task, with
    //! an adapter serving a chain of signed headers (and, where a test says
    //! so, a forged or misnumbered one at one height).

    use std::sync::Mutex;

    use adapters::wire::{
        AccountResponse, BlockEvents, ClientInfo, DiscloseRequest, DisclosureResponse, NodeStatus,
        PacketLocation, PathPolicyResponse, ReceiptLocation, SubmitEvent, SubmittedEvent,
        TxResponse, ZkKeyResponse,
    };
    use light_clients::any::FamilyName;
    use light_clients::cmport::Cmport;
    use light_clients::host::{Channel, RelayerKey, SignedTx};
    use light_clients::sample::{self, BlockFields, Signing};
    use light_clients::verify::Family;
    use light_clients::{App, Fraction, Hash32, IntoAny, PacketId, Roots, TrustOptions};

    use super::*;

    const TIP: u64 = 30;
    const START: u64 = 20;

    /// Headers 1..=TIP of one chain, one second apart, ending now.
    fn chain(seed: u64) -> Vec<AnyHeader> {
        let keys = sample::keys::<Cmport>(seed, 4);
        let set = Cmport::sample_set(&keys);
        let end = now();
        let mut previous = Hash32::ZERO;
        let mut headers = Vec::new();
        for height in 1..=TIP {
            let fields = BlockFields::<Cmport> {
                chain_id: "cmport-1",
                height,
                time: end.saturating_sub(Duration::from_secs(TIP - height)),
                previous,
                roots: Roots::empty(Cmport::TREE_HASH),
                validators: &set,
                next_validators: &set,
            };
            let header = Cmport::any_header(sample::block(&fields, &keys));
            previous = hash(&header);
            headers.push(header);
        }
        headers
    }

    /// Serves `headers` (height h at index h - 1), with `swapped` served
    /// instead at its heights, and records every height asked for.
    #[derive(Debug)]
    struct Served {
        id: ChainId,
        headers: Vec<AnyHeader>,
        swapped: BTreeMap<u64, AnyHeader>,
        asked: Mutex<Vec<u64>>,
    }

    impl Served {
        fn new(headers: Vec<AnyHeader>, swapped: BTreeMap<u64, AnyHeader>) -> Arc<Self> {
            Arc::new(Served {
                id: ChainId::new("cmport-1").expect("chain id"),
                headers,
                swapped,
                asked: Mutex::new(Vec::new()),
            })
        }

        fn asked(&self) -> Vec<u64> {
            self.asked.lock().expect("lock").clone()
        }

        fn none<T>(&self) -> Result<T, AdapterError> {
            Err(AdapterError::NotFound {
                chain: self.id.clone(),
                what: "not served in this test".into(),
            })
        }
    }

    #[async_trait::async_trait]
    impl ChainAdapter for Served {
        fn chain_id(&self) -> &ChainId {
            &self.id
        }
        fn family(&self) -> FamilyName {
            FamilyName::Cmport
        }
        async fn status(&self) -> Result<NodeStatus, AdapterError> {
            self.none()
        }
        async fn header(&self, height: u64) -> Result<AnyHeader, AdapterError> {
            self.asked.lock().expect("lock").push(height);
            if let Some(h) = self.swapped.get(&height) {
                return Ok(h.clone());
            }
            let index = usize::try_from(height).expect("height") - 1;
            self.headers
                .get(index)
                .cloned()
                .map_or_else(|| self.none(), Ok)
        }
        async fn next_header(
            &self,
            after: u64,
            wait: Duration,
        ) -> Result<Option<AnyHeader>, AdapterError> {
            match self.headers.get(usize::try_from(after).expect("height")) {
                Some(h) => Ok(Some(h.clone())),
                None => {
                    // The tip: wait as a ledger would, rather than spin.
                    tokio::time::sleep(wait.min(Duration::from_millis(50))).await;
                    Ok(None)
                }
            }
        }
        async fn block_events(&self, _: u64) -> Result<BlockEvents, AdapterError> {
            self.none()
        }
        async fn channels(&self) -> Result<Vec<Channel>, AdapterError> {
            self.none()
        }
        async fn clients(&self) -> Result<Vec<ClientInfo>, AdapterError> {
            self.none()
        }
        async fn packet_location(&self, _: &PacketId) -> Result<PacketLocation, AdapterError> {
            self.none()
        }
        async fn receipt_location(&self, _: &PacketId) -> Result<ReceiptLocation, AdapterError> {
            self.none()
        }
        async fn account(&self, _: &RelayerKey) -> Result<AccountResponse, AdapterError> {
            self.none()
        }
        async fn submit(&self, _: &SignedTx) -> Result<TxResponse, AdapterError> {
            self.none()
        }
        async fn submit_pending(&self, _: &SignedTx) -> Result<TxResponse, AdapterError> {
            self.none()
        }
        async fn wait_tx(&self, _: &str) -> Result<TxResponse, AdapterError> {
            self.none()
        }
        async fn path_policy(
            &self,
            _: &ChainId,
            _: App,
        ) -> Result<PathPolicyResponse, AdapterError> {
            self.none()
        }
        async fn zk_key(&self) -> Result<ZkKeyResponse, AdapterError> {
            self.none()
        }
        async fn disclose(&self, _: &DiscloseRequest) -> Result<DisclosureResponse, AdapterError> {
            self.none()
        }
        async fn submit_event(&self, _: &SubmitEvent) -> Result<SubmittedEvent, AdapterError> {
            self.none()
        }
    }

    /// A follower of `served` started from its header at `START` (as a
    /// member restarted there would be), once it verified up to the tip.
    async fn following(served: &Arc<Served>, stop: &CancellationToken) -> FollowerHandle {
        let adapter: Arc<dyn ChainAdapter> = served.clone();
        let root = served.headers[usize::try_from(START).expect("height") - 1].clone();
        let chain = Chain::single(
            adapter,
            ed25519_consensus::SigningKey::from([7u8; 32]),
            "test".into(),
            Some((START, root)),
        );
        let trust = TrustOptions {
            trusting_period: Duration::from_secs(3600),
            clock_drift: Duration::from_secs(60),
            trust_threshold: Fraction::ONE_THIRD,
        };
        let metrics = Metrics::new().expect("metrics");
        let (handle, task) = follower(served.id.clone(), chain, trust, metrics, stop.clone());
        tokio::spawn(task);
        let mut state = handle.subscribe();
        tokio::time::timeout(
            Duration::from_secs(30),
            state.wait_for(|p| p.window == Some((START, TIP))),
        )
        .await
        .expect("the follower never verified up to the tip")
        .expect("the follower stopped");
        served.asked.lock().expect("lock").clear();
        handle
    }

    fn hash(header: &AnyHeader) -> Hash32 {
        header.summary().expect("summary").hash
    }

    #[tokio::test]
    async fn a_header_below_the_window_is_verified_down_its_hash_links_and_kept() {
        let served = Served::new(chain(1), BTreeMap::new());
        let stop = CancellationToken::new();
        let handle = following(&served, &stop).await;
        assert_eq!(
            handle.header(12).await.map(|h| hash(&h)),
            None,
            "below the window"
        );

        let header = handle.verified_back(12).await.expect("verified back");
        assert_eq!(hash(&header), hash(&served.headers[11]));
        // One request per height, walking down from the lowest verified (20).
        assert_eq!(served.asked(), (12..START).rev().collect::<Vec<_>>());
        // Kept: asked again, from memory, and served to batches as verified.
        served.asked.lock().expect("lock").clear();
        let again = handle.verified_back(12).await.expect("kept");
        assert_eq!(hash(&again), hash(&header));
        let kept = handle.headers((12..START).collect()).await;
        assert!(kept.iter().all(Option::is_some), "{kept:?}");
        assert_eq!(served.asked(), Vec::<u64>::new(), "asked no one");
        // The window itself is unchanged by what was kept below it.
        assert_eq!(handle.lowest(), Some(START));
        // A height in the window needs no walk.
        let inside = handle.verified_back(25).await.expect("in the window");
        assert_eq!(hash(&inside), hash(&served.headers[24]));
        assert_eq!(served.asked(), Vec::<u64>::new());
        stop.cancel();
    }

    #[tokio::test]
    async fn a_served_header_off_the_hash_links_is_refused_by_its_height() {
        // Height 15 served from another chain with other keys: signed, well
        // formed, its sets matching their hashes, but not the header 16 links to.
        let forged = chain(2)[14].clone();
        let served = Served::new(chain(1), BTreeMap::from([(15, forged)]));
        let stop = CancellationToken::new();
        let handle = following(&served, &stop).await;
        let err = handle.verified_back(12).await.expect_err("forged link");
        assert!(matches!(err, BackfillError::Link { height: 15 }), "{err}");
        assert_eq!(err.check(), "hash_link");
        // Nothing below the forged header was asked, nor anything kept.
        assert_eq!(served.asked(), vec![19, 18, 17, 16, 15]);
        assert!(handle.header(16).await.is_none(), "nothing kept on failure");
        stop.cancel();
    }

    #[tokio::test]
    async fn a_header_served_for_another_height_is_refused_as_malformed() {
        let honest = chain(1);
        let misnumbered = honest[16].clone(); // height 17, served as 18
        let served = Served::new(honest, BTreeMap::from([(18, misnumbered)]));
        let stop = CancellationToken::new();
        let handle = following(&served, &stop).await;
        let err = handle.verified_back(12).await.expect_err("misnumbered");
        assert!(
            matches!(&err, BackfillError::Malformed { height: 18, reason } if reason.contains("served as height 17")),
            "{err}"
        );
        assert_eq!(err.check(), "malformed");
        stop.cancel();
    }

    #[tokio::test]
    async fn a_stopped_follower_has_no_anchor_to_walk_from() {
        let served = Served::new(chain(1), BTreeMap::new());
        let stop = CancellationToken::new();
        let handle = following(&served, &stop).await;
        stop.cancel();
        // The task ends at the cancellation; its requests channel closes.
        let deadline = Instant::now() + Duration::from_secs(30);
        let err = loop {
            match handle.verified_back(12).await {
                Err(e @ BackfillError::NoAnchor { .. }) => break e,
                other => {
                    assert!(Instant::now() < deadline, "still answering: {other:?}");
                    tokio::task::yield_now().await;
                }
            }
        };
        assert_eq!(err.check(), "no_anchor");
    }
}
