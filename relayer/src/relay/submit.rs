//! The submitter of a destination chain: control messages first (client
//! refreshes, misbehaviour evidence), then jobs in batches, each behind the
//! client updates its proofs need, as one signed transaction; each job is
//! settled by the ledger's answer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::chain::{AdapterError, ChainAdapter};
use adapters::wire::{DiscloseRequest, MsgResult, MAX_DISCLOSE_PACKETS, WIRE_VERSION};
use light_clients::host::{Outcome, RelayMsg, RelayerKey, SignedTx, TxBody};
use light_clients::zk::{self, Disclosure, PathPolicy};
use light_clients::{App, ChainId, PacketId};
use tokio_util::sync::CancellationToken;

use super::coordinator::{Job, JobKind, Lane, Requeue, Work};
use crate::metrics::bounded_check;

/// Batches a submitter keeps sent but not yet confirmed at once.
const PIPELINE: usize = 4;
/// How long a sent batch may take to reach a sealed block before its jobs are re-queued.
const CONFIRM_WITHIN: Duration = Duration::from_secs(120);

/// Control messages waiting for a submitter. They are rare (a refresh per
/// client every refresher round, evidence once per fork and host) and the
/// submitter takes them all before each batch, so 64 is room for every
/// client of a large network; a full queue makes the refresher or a witness
/// wait, which is the backpressure wanted.
const CONTROL: usize = 64;

/// Pauses between retries grow up to this many times `[relayer] backoff`.
const BACKOFF_STEPS: u32 = 5;

/// The request size a destination is held to when its status does not say
/// (`max_tx_bytes` absent: an older ledger, or its status not read yet):
/// 1 MiB, what a proxy in front of a ledger commonly takes (nginx's default
/// `client_max_body_size`), an eighth of what the devnet ledger takes.
pub const DEFAULT_MAX_TX_BYTES: usize = 1 << 20;

/// Of the limit, the part a batch's deliveries may take by their estimated
/// size, in percent: the rest is room for the client updates in front of
/// them (a header with its validator sets is a few KiB) and the envelope. A
/// transaction that still does not fit once made is halved.
const DELIVERIES_PERCENT: usize = 75;

/// How often a submitter reads its destination's advertised limit again
/// (the operator may change it; a 413 reads it at once).
const LIMIT_REFRESH: Duration = Duration::from_secs(60);

/// The largest request a destination takes, as its submitter knows it: what
/// its status advertises (`max_tx_bytes`), or [`DEFAULT_MAX_TX_BYTES`], and
/// below that what a refusal for size (HTTP 413) taught.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct TxLimit {
    /// What the status says; none when it does not say or was not read.
    advertised: Option<usize>,
    /// Less than that: a request this large or larger was refused (a proxy
    /// in front of the ledger taking less than the ledger says).
    learned: Option<usize>,
    /// When the status was last read.
    read_at: Option<Instant>,
}

impl TxLimit {
    /// The most bytes a request may take.
    fn bytes(&self) -> usize {
        self.advertised
            .unwrap_or(DEFAULT_MAX_TX_BYTES)
            .min(self.learned.unwrap_or(usize::MAX))
    }

    /// The status said `max_tx_bytes`: a changed value is the operator's
    /// change and replaces what refusals taught.
    fn advertised(&mut self, said: Option<u64>, at: Instant) {
        let said = said.map(|b| usize::try_from(b).unwrap_or(usize::MAX));
        if said != self.advertised {
            self.learned = None;
        }
        self.advertised = said;
        self.read_at = Some(at);
    }

    /// A request of `size` bytes was refused as too large.
    fn refused(&mut self, size: usize) {
        let below = size.saturating_sub(1).max(1);
        self.learned = Some(self.learned.map_or(below, |l| l.min(below)));
    }

    fn stale(&self, now: Instant) -> bool {
        self.read_at
            .is_none_or(|at| now.duration_since(at) >= LIMIT_REFRESH)
    }
}

/// What to do with a batch of `jobs` jobs whose transaction takes `size`
/// bytes as a request, against `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Send,
    /// Too large: keep this many jobs from the front (half), hand the rest back.
    Keep(usize),
    /// A job alone is too large: it cannot be delivered under this limit.
    Alone,
}

fn fit(jobs: usize, size: usize, limit: usize) -> Fit {
    if size <= limit {
        Fit::Send
    } else if jobs <= 1 {
        Fit::Alone
    } else {
        Fit::Keep(jobs / 2)
    }
}

/// The bytes a transaction takes as a request: its JSON as the adapter
/// sends it. The body sits in it escaped, so this is at least the body's
/// size, and holding it to the limit holds both the host's body limit and
/// the RPC's request limit.
fn request_bytes(tx: &SignedTx) -> usize {
    serde_json::to_vec(tx).map_or(usize::MAX, |b| b.len())
}

/// A job's estimated part of a request: its delivery's JSON, escaped as
/// it sits in the body (without a disclosure, which adds a few hundred bytes).
fn estimated_bytes(job: &Job) -> usize {
    serde_json::to_string(&job.work)
        .and_then(|j| serde_json::to_string(&j))
        .map_or(usize::MAX, |s| s.len())
}

/// How many jobs from the front fit in `budget` bytes by their sizes; at
/// least one of a batch that is not empty (the transaction made for it
/// decides whether a job alone fits).
fn fitting(sizes: impl IntoIterator<Item = usize>, budget: usize) -> usize {
    let mut total = 0usize;
    let mut n = 0;
    for size in sizes {
        total = total.saturating_add(size);
        if total > budget {
            return n.max(1);
        }
        n += 1;
    }
    n
}

/// The pause before retry number `step` (0 for the first): `base` doubled
/// `step` times, at most [`BACKOFF_STEPS`] times, so that a submitter that
/// cannot progress never spins and never waits long once it can.
pub(super) fn backoff_pause(base: Duration, step: u32) -> Duration {
    base.saturating_mul(1u32 << step.min(BACKOFF_STEPS))
}

/// The chains whose headers a destination's submitter waits for, each with
/// its own backoff: the lanes proven by such a chain sit out their pause
/// while the destination's other lanes go on being sent.
#[derive(Debug, Default)]
pub(super) struct Waits {
    /// By proof chain: until when its lanes wait, and the step of its backoff.
    by_chain: BTreeMap<ChainId, (Instant, u32)>,
}

impl Waits {
    /// The lanes proven by `chain` stalled (again): they wait the next step
    /// of the backoff from `base`, returned with the step.
    pub(super) fn stalled(
        &mut self,
        chain: &ChainId,
        base: Duration,
        now: Instant,
    ) -> (Duration, u32) {
        let step = self
            .by_chain
            .get(chain)
            .map_or(0, |(_, s)| s.saturating_add(1));
        let pause = backoff_pause(base, step);
        self.by_chain.insert(chain.clone(), (now + pause, step));
        (pause, step)
    }

    /// Whether the lanes proven by `chain` are waiting out a pause at `now`.
    pub(super) fn waiting(&self, chain: &ChainId, now: Instant) -> bool {
        self.by_chain
            .get(chain)
            .is_some_and(|(until, _)| now < *until)
    }

    /// A batch proven by `chain` went through: its backoff starts over.
    pub(super) fn progressed(&mut self, chain: &ChainId) {
        self.by_chain.remove(chain);
    }
}

/// The chain that proves the jobs of a lane of path (`source`,
/// `destination`) submitted to `target`: the other end.
fn proof_chain<'a>(target: &ChainId, source: &'a ChainId, destination: &'a ChainId) -> &'a ChainId {
    if source == target {
        destination
    } else {
        source
    }
}

/// What became of a batch taken from the lanes.
#[derive(Debug)]
enum Batch {
    /// Sent; its jobs wait for their block.
    Sent(Sent),
    /// Nothing was sent, and nothing stands in the way (jobs parked, or
    /// handed back for a reason of the ledger's).
    Nothing,
    /// A proof's header cannot be had: the jobs, for the submitter to hand
    /// back (or park, once they stalled for `[relayer] stall_park`).
    Waiting { reason: String, jobs: Vec<Job> },
}

/// The (source, destination) of a job's path, as the metrics label paths.
fn path_of(job: &Job) -> (ChainId, ChainId) {
    let id = job.id();
    let c = id.channel;
    match id.kind {
        JobKind::Packet => (c.source, c.destination),
        // An ack goes back to the packet's source, proven by its destination.
        JobKind::Ack => (c.destination, c.source),
    }
}

/// A batch the ledger executed, waiting for its block.
#[derive(Debug)]
struct Sent {
    id: String,
    /// The jobs it took, with what they did.
    executed: Vec<(Job, Outcome)>,
}
use super::engine::{now, same_set, Chain, Control, Engine};

/// A cheap, cloneable way to a destination's submitter: control messages go
/// through its channel, and a wake-up says jobs arrived.
#[derive(Debug, Clone)]
pub(super) struct SubmitterHandle {
    control: tokio::sync::mpsc::Sender<Control>,
    /// Holds one wake-up while the submitter is busy, so none is lost.
    wake: Arc<tokio::sync::Notify>,
}

impl SubmitterHandle {
    pub(super) fn new() -> (Self, tokio::sync::mpsc::Receiver<Control>) {
        let (control, rx) = tokio::sync::mpsc::channel(CONTROL);
        let handle = SubmitterHandle {
            control,
            wake: Arc::new(tokio::sync::Notify::new()),
        };
        (handle, rx)
    }

    /// Queues a control message (dropped when the submitter stopped: its chain is gone).
    pub(super) async fn control(&self, control: Control) {
        if self.control.send(control).await.is_ok() {
            self.wake();
        }
    }

    /// Jobs arrived: the submitter looks at once instead of at its next poll.
    pub(super) fn wake(&self) {
        self.wake.notify_one();
    }
}

impl Engine {
    /// Submits to `target` until `stop`: control messages, then jobs in
    /// batches. A batch is sent without waiting for its block (the ledger
    /// executes it on arrival, in order of nonce) and confirmed by a task of
    /// its own, so up to [`PIPELINE`] batches are on their way at once; a job
    /// is completed only once its block is sealed.
    pub(super) async fn submit_to(
        self: Arc<Self>,
        target: ChainId,
        handle: SubmitterHandle,
        mut controls: tokio::sync::mpsc::Receiver<Control>,
        stop: CancellationToken,
    ) {
        let Some(chain) = self.chain(&target) else {
            return;
        };
        // Each path into this destination on the page at zero, so that the
        // stall alert and dashboards see the series before a lane stalls.
        for source in self.chain_ids().iter().filter(|s| **s != target) {
            self.metrics
                .lane_stalled
                .with_label_values(&[source.as_str(), target.as_str()])
                .inc_by(0);
        }
        // Evidence that did not get through, tried again before the next batch.
        let mut again: Vec<Control> = Vec::new();
        let signer = RelayerKey(chain.key.verification_key().to_bytes());
        let slots = Arc::new(tokio::sync::Semaphore::new(PIPELINE));
        let mut nonce: Option<u64> = None;
        let mut failures = 0u32;
        // Chains whose headers batches waited for, each with its backoff.
        let mut waits = Waits::default();
        let mut limit = TxLimit::default();
        loop {
            if stop.is_cancelled() {
                return;
            }
            let mut control = std::mem::take(&mut again);
            while let Ok(c) = controls.try_recv() {
                control.push(c);
            }
            if !control.is_empty() {
                again = self.submit_control(&chain, &target, signer, control).await;
                // It took the next nonce from the ledger.
                nonce = None;
            }
            let permit = tokio::select! {
                _ = stop.cancelled() => return,
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return,
                },
            };
            let paths = &self.paths;
            let default_max = self.options.batch_max;
            let taken_at = Instant::now();
            let jobs = match self
                .queue
                .take(&target, self.options.batch_max, &|s, d| {
                    // Lanes waiting for their chain's header sit out its pause.
                    if waits.waiting(proof_chain(&target, s, d), taken_at) {
                        0
                    } else {
                        paths.batch_max(s, d, default_max)
                    }
                })
                .await
            {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!(%target, error = %e, "cannot take jobs");
                    Vec::new()
                }
            };
            if jobs.is_empty() {
                drop(permit);
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = handle.wake.notified() => {}
                    Some(c) = controls.recv() => again.push(c),
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
                continue;
            }
            // A batch taken is sent and settled even on shutdown: nothing is left half-done.
            match self
                .send_batch(&chain, &target, signer, jobs, &mut nonce, &mut limit)
                .await
            {
                Ok(Batch::Sent(sent)) => {
                    failures = 0;
                    for (job, _) in &sent.executed {
                        waits.progressed(job.proof_source());
                    }
                    let lanes: std::collections::BTreeSet<Lane> =
                        sent.executed.iter().map(|(j, _)| j.lane()).collect();
                    let lanes: Vec<Lane> = lanes.into_iter().collect();
                    if let Err(e) = self.queue.progressed(&lanes).await {
                        tracing::debug!(%target, error = %e, "cannot record that lanes progressed");
                    }
                    let engine = self.clone();
                    let adapter = chain.adapter.clone();
                    let target = target.clone();
                    self.tasks.spawn(async move {
                        engine.confirm(adapter.as_ref(), &target, sent).await;
                        drop(permit);
                    });
                }
                Ok(Batch::Nothing) => failures = 0,
                Ok(Batch::Waiting { reason, jobs }) => {
                    drop(permit);
                    // Once per backoff step, not per attempt: the pause is the
                    // step. Only the lanes proven by the chain waited for
                    // pause; the destination's other lanes go on at once.
                    let Some(source) = jobs.first().map(|j| j.proof_source().clone()) else {
                        continue;
                    };
                    let (pause, stalls) =
                        waits.stalled(&source, self.options.backoff, Instant::now());
                    let paths: std::collections::BTreeSet<(ChainId, ChainId)> =
                        jobs.iter().map(path_of).collect();
                    self.settle_stalled(&target, jobs, &reason).await;
                    for (source, destination) in &paths {
                        self.metrics
                            .lane_stalled
                            .with_label_values(&[source.as_str(), destination.as_str()])
                            .inc();
                    }
                    tracing::warn!(%target, proven_by = %source, %reason, stalls, pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX), "lane stalled: jobs re-queued, their lanes tried again after a pause");
                }
                Err(e) => {
                    nonce = None;
                    failures = failures.saturating_add(1);
                    let reason = match &e {
                        AdapterError::Refused { code, .. } => bounded_check(code),
                        AdapterError::Unavailable { .. } => "unavailable",
                        AdapterError::BadResponse { .. } => "bad_response",
                        AdapterError::NotFound { .. } => "not_found",
                        _ => "other",
                    };
                    self.metrics
                        .submit_errors
                        .with_label_values(&[target.as_str(), reason])
                        .inc();
                    tracing::warn!(%target, error = %e, "submission failed; jobs re-queued");
                    let pause = backoff_pause(self.options.backoff, failures);
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
    }

    /// Sends refreshes and evidence in one transaction; returns the evidence
    /// that could not be sent, to be tried again.
    async fn submit_control(
        &self,
        chain: &Chain,
        target: &ChainId,
        signer: RelayerKey,
        control: Vec<Control>,
    ) -> Vec<Control> {
        let mut msgs = Vec::new();
        // Which control each message belongs to, to report the answers.
        let mut owners = Vec::new();
        for (i, c) in control.iter().enumerate() {
            match c {
                Control::Refresh { source } => {
                    if let Some((_, header)) = self.latest_header(source).await {
                        msgs.push(RelayMsg::UpdateClient {
                            chain: source.clone(),
                            header,
                        });
                        owners.push(i);
                    }
                }
                Control::Misbehaviour { msgs: m, .. } => {
                    msgs.extend(m.iter().cloned());
                    owners.extend(std::iter::repeat_n(i, m.len()));
                }
            }
        }
        if msgs.is_empty() {
            return Vec::new();
        }
        let sent = async {
            let nonce = chain.adapter.account(&signer).await?.next_nonce;
            let tx = SignedTx::sign(&chain.key, target, nonce, &TxBody::Relay(msgs));
            chain.adapter.submit(&tx).await
        }
        .await;
        let results = match sent {
            Ok(r) if r.height.is_some() && r.results.len() == owners.len() => r.results,
            Ok(_) => {
                tracing::warn!(%target, "control messages not confirmed; trying again");
                return evidence_only(control);
            }
            Err(e) => {
                tracing::warn!(%target, error = %e, "control messages not sent; trying again");
                return evidence_only(control);
            }
        };
        for (owner, result) in owners.into_iter().zip(results) {
            match (&control[owner], result) {
                (Control::Refresh { source }, MsgResult::Ok { .. }) => {
                    tracing::info!(host = %target, client = %source, "client refreshed")
                }
                (Control::Refresh { source }, MsgResult::Err { check, message }) => {
                    tracing::warn!(host = %target, client = %source, %check, %message, "client refresh refused")
                }
                // The evidence itself is the last message of its group.
                (
                    Control::Misbehaviour {
                        source,
                        height,
                        msgs,
                    },
                    result,
                ) => {
                    let answer = match result {
                        MsgResult::Ok {
                            outcome: Outcome::ClientFrozen { .. },
                        } => "frozen".to_string(),
                        MsgResult::Ok { outcome } => format!("{outcome:?}"),
                        MsgResult::Err { check, message } => format!("{check}: {message}"),
                    };
                    if matches!(msgs.last(), Some(RelayMsg::SubmitMisbehaviour { .. })) {
                        tracing::warn!(host = %target, client = %source, height, %answer, "misbehaviour evidence submitted");
                        if let Some(f) = self.follower(source) {
                            f.evidence_answer(*height, target.clone(), answer).await;
                        }
                    }
                }
            }
        }
        Vec::new()
    }

    /// Hands failed jobs back to their lanes; only [`Requeue::Attempt`]
    /// brings them nearer to being parked.
    async fn hand_back(&self, jobs: Vec<Job>, reason: &str, how: Requeue) {
        if jobs.is_empty() {
            return;
        }
        if let Err(e) = self.queue.requeue(jobs, reason, how).await {
            tracing::warn!(error = %e, "cannot hand failed jobs back to the coordinator");
        }
    }

    /// Settles the jobs of a batch that stalled, lane by lane: each lane's
    /// stall is recorded with the coordinator (fleet-wide on Redis); a
    /// lane's jobs are parked once every live member tried it for
    /// `[relayer] stall_park` (see `Stall::park_due`), else they go back
    /// to their lane and this member gives the lane up for a while so that
    /// another can try (on Redis, with other members alive).
    async fn settle_stalled(&self, target: &ChainId, jobs: Vec<Job>, reason: &str) {
        let mut lanes: BTreeMap<Lane, Vec<Job>> = BTreeMap::new();
        for job in jobs {
            lanes.entry(job.lane()).or_default().push(job);
        }
        let park = self.stall.park;
        // Renewed at every stall (at most 32 backoffs apart): it outlives
        // any pause, and a record of a lane long quiet does not linger.
        let keep = park.saturating_mul(3);
        let mut back = Vec::new();
        for (lane, jobs) in lanes {
            let stall = match self.queue.stalled(&lane, keep).await {
                Ok(stall) => stall,
                Err(e) => {
                    tracing::warn!(%target, error = %e, "cannot record a stall with the coordinator");
                    self.hand_back(jobs, reason, Requeue::NotAnAttempt).await;
                    continue;
                }
            };
            if stall.park_due(park) {
                let name = super::coordinator::LeaseName::Lane { lane: lane.clone() };
                tracing::error!(%target, lane = %name, jobs = jobs.len(), tried = ?stall.tried, live = ?stall.live, %reason, "parking jobs no member could deliver");
                let why = format!(
                    "cannot be delivered: stalled for {} (relayer.stall_park {}), tried by {} of the {} live members: {reason}",
                    humantime::format_duration(Duration::from_secs(stall.since.as_secs())),
                    humantime::format_duration(park),
                    stall.tried.intersection(&stall.live).count(),
                    stall.live.len(),
                );
                self.park(jobs, &why).await;
            } else {
                self.hand_back(jobs, reason, Requeue::NotAnAttempt).await;
                back.push(lane);
            }
        }
        for lane in back {
            if let Err(e) = self.queue.step_back(&lane).await {
                tracing::warn!(%target, error = %e, "cannot give a stalled lane up");
            }
        }
    }

    /// Sets aside jobs that must not be relayed as they are.
    async fn park(&self, jobs: Vec<Job>, reason: &str) {
        if jobs.is_empty() {
            return;
        }
        if let Err(e) = self.queue.park(jobs, reason).await {
            tracing::warn!(error = %e, "cannot park jobs");
        }
    }

    /// Reads the destination's advertised transaction limit into `limit`
    /// (kept as it was when the status cannot be read).
    async fn read_limit(&self, chain: &Chain, target: &ChainId, limit: &mut TxLimit) {
        match chain.adapter.status().await {
            Ok(status) => {
                let before = limit.bytes();
                limit.advertised(status.max_tx_bytes, Instant::now());
                if limit.bytes() != before || limit.advertised.is_none() {
                    tracing::info!(%target, advertised = ?status.max_tx_bytes, bytes = limit.bytes(), "the destination's transaction limit");
                }
            }
            Err(e) => {
                tracing::debug!(%target, error = %e, bytes = limit.bytes(), "cannot read the destination's transaction limit; keeping the one known")
            }
        }
    }

    /// Holds a batch whose transaction takes `size` bytes to `limit`: none
    /// when it fits; else the jobs beyond the first half go back to their
    /// lanes (`Some(true)`: make it again), or a job too large alone is
    /// parked with the sizes (`Some(false)`: nothing left to send).
    async fn cut(
        &self,
        target: &ChainId,
        jobs: &mut Vec<Job>,
        size: usize,
        limit: usize,
    ) -> Option<bool> {
        match fit(jobs.len(), size, limit) {
            Fit::Send => None,
            Fit::Keep(keep) => {
                let rest = jobs.split_off(keep);
                tracing::debug!(%target, bytes = size, limit, sending = keep, later = rest.len(), "transaction too large; halved");
                self.hand_back(rest, "batch too large: halved", Requeue::NotAnAttempt)
                    .await;
                Some(true)
            }
            Fit::Alone => {
                let reason = format!(
                    "too large for {target}: its transaction takes {size} bytes (with the client updates it needs), the destination takes at most {limit}"
                );
                tracing::error!(%target, bytes = size, limit, "parking a job too large for its destination alone");
                self.park(std::mem::take(jobs), &reason).await;
                Some(false)
            }
        }
    }

    /// Sends one batch. Jobs the ledger refused go back to their lanes at
    /// once; the others wait in the answer for their block.
    async fn send_batch(
        &self,
        chain: &Chain,
        target: &ChainId,
        signer: RelayerKey,
        jobs: Vec<Job>,
        nonce: &mut Option<u64>,
        limit: &mut TxLimit,
    ) -> Result<Batch, AdapterError> {
        // Every job taken is settled on every path: completed, or back in its lane.
        let (blocked, jobs): (Vec<Job>, Vec<Job>) = jobs
            .into_iter()
            .partition(|j| self.is_frozen(j.proof_source()));
        if !blocked.is_empty() {
            tracing::error!(%target, jobs = blocked.len(), "parking jobs proven by a chain that showed misbehaviour");
            self.park(
                blocked,
                "frozen: the source chain showed misbehaviour; its proofs are not relayed",
            )
            .await;
        }
        if jobs.is_empty() {
            return Ok(Batch::Nothing);
        }
        let policies = match self.path_policies(chain, &jobs).await {
            Ok(p) => p,
            Err(e) => {
                self.hand_back(jobs, &e.to_string(), Requeue::NotAnAttempt)
                    .await;
                return Err(e);
            }
        };
        // A full event on a path the destination takes in groth16 mode (its
        // channel was not opened confidential at the source): relaying it
        // would hand the destination every field, so it is parked instead.
        let (exposed, jobs): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| {
            matches!(&j.work, Work::Packet { packet, .. }
                if policies.get(&(packet.id.channel.source.clone(), packet.id.channel.app))
                    .is_some_and(|p| *p != PathPolicy::Merkle)
                    && packet.payload.len() != zk::COMMITMENT_BYTES)
        });
        if !exposed.is_empty() {
            tracing::error!(%target, jobs = exposed.len(), "parking full events on groth16 paths");
            self.park(
                exposed,
                "the destination takes this path in groth16 mode but the packet carries the event (the source's channel is not confidential): not relayed",
            )
            .await;
        }
        if jobs.is_empty() {
            return Ok(Batch::Nothing);
        }
        if limit.stale(Instant::now()) {
            self.read_limit(chain, target, limit).await;
        }
        // Bounded by bytes before anything is fetched for the jobs: their
        // estimated sizes within the deliveries' part of the limit.
        let mut jobs = jobs;
        let budget = limit.bytes() / 100 * DELIVERIES_PERCENT;
        let keep = fitting(jobs.iter().map(estimated_bytes), budget);
        if keep < jobs.len() {
            let rest = jobs.split_off(keep);
            tracing::debug!(%target, sending = keep, later = rest.len(), limit = limit.bytes(), "batch bounded by bytes");
            self.hand_back(rest, "batch bounded by bytes", Requeue::NotAnAttempt)
                .await;
        }
        // Made, measured, and halved until it fits; sent once it does. A
        // refusal for size teaches the limit and halves it the same way, so
        // a batch is never sent again as it was, and each round halves it.
        let (tx, updates, size, response) = loop {
            let started = Instant::now();
            let prepared = self
                .prepare(chain, target, signer, &jobs, &policies, nonce)
                .await;
            self.metrics.stage("prepare", started.elapsed());
            let (tx, updates) = match prepared {
                Ok(Prepared::Tx(tx, updates)) => (tx, updates),
                Ok(Prepared::Waiting(source, reason)) => {
                    // Only the jobs proven by that source wait; the others go
                    // back as they were, for the batch after the pause.
                    let (waiting, others): (Vec<Job>, Vec<Job>) =
                        jobs.into_iter().partition(|j| *j.proof_source() == source);
                    self.hand_back(others, &reason, Requeue::NotAnAttempt).await;
                    return Ok(Batch::Waiting {
                        reason,
                        jobs: waiting,
                    });
                }
                Err(e) => {
                    self.hand_back(jobs, &e.to_string(), Requeue::NotAnAttempt)
                        .await;
                    return Err(e);
                }
            };
            let size = request_bytes(&tx);
            if let Some(rest) = self.cut(target, &mut jobs, size, limit.bytes()).await {
                if rest {
                    continue;
                }
                return Ok(Batch::Nothing);
            }
            let started = Instant::now();
            let response = chain.adapter.submit_pending(&tx).await;
            self.metrics.stage("submit", started.elapsed());
            match response {
                Ok(r) => break (tx, updates, size, r),
                Err(e) if e.is_too_large() => {
                    self.metrics
                        .submit_errors
                        .with_label_values(&[target.as_str(), adapters::chain::BODY_TOO_LARGE])
                        .inc();
                    // The status first (a changed value replaces what was
                    // learned), then the lesson: below this request's size.
                    self.read_limit(chain, target, limit).await;
                    limit.refused(size);
                    tracing::warn!(%target, bytes = size, jobs = jobs.len(), limit = limit.bytes(), error = %e, "batch refused as too large; sending it in halves");
                    // Not executed: the nonce was not used.
                    match self.cut(target, &mut jobs, size, limit.bytes()).await {
                        Some(true) => continue,
                        Some(false) => return Ok(Batch::Nothing),
                        None => {
                            // Cannot happen (the limit is now below `size`);
                            // settled all the same.
                            self.hand_back(jobs, &e.to_string(), Requeue::NotAnAttempt)
                                .await;
                            return Ok(Batch::Nothing);
                        }
                    }
                }
                Err(e) => {
                    self.hand_back(jobs, &e.to_string(), Requeue::NotAnAttempt)
                        .await;
                    return Err(e);
                }
            }
        };
        *nonce = Some(tx.nonce + 1);
        tracing::debug!(%target, jobs = jobs.len(), updates, bytes = size, limit = limit.bytes(), "batch sent");
        if response.results.len() != updates + jobs.len() {
            // An answer we cannot pair up (or none: a transaction not seen
            // in a block): the ledger's receipts decide; re-queue, and a
            // resend is answered "already received". Whether it used its
            // nonce is unknown: the next batch reads the account again.
            *nonce = None;
            self.hand_back(
                jobs,
                "an answer that does not match the batch",
                Requeue::NotAnAttempt,
            )
            .await;
            return Ok(Batch::Nothing);
        }
        self.metrics.batch(target, jobs.len());
        let mut executed = Vec::new();
        let (mut later, mut retry) = (Vec::new(), Vec::new());
        let mut reason = String::new();
        for (job, result) in jobs
            .into_iter()
            .zip(response.results.into_iter().skip(updates))
        {
            match result {
                MsgResult::Ok { outcome } => executed.push((job, outcome)),
                MsgResult::Err { check, message } => {
                    self.metrics.refused(target, &check);
                    reason = format!("{check}: {message}");
                    // Behind a predecessor that failed, or a client not yet at the
                    // proof height: not the job's own fault, so not an attempt.
                    if matches!(check.as_str(), "out_of_order" | "consensus_state") {
                        later.push(job);
                    } else {
                        retry.push(job);
                    }
                }
            }
        }
        if !retry.is_empty() || !later.is_empty() {
            tracing::warn!(%target, jobs = retry.len() + later.len(), %reason, "jobs refused; retrying");
            self.metrics
                .retries
                .with_label_values(&[target.as_str()])
                .inc_by((retry.len() + later.len()) as u64);
        }
        // Later ones go back first so that failed ones end up ahead of them in their lanes.
        self.hand_back(later, &reason, Requeue::NotAnAttempt).await;
        let park_after = self.options.max_attempts;
        self.hand_back(retry, &reason, Requeue::Attempt { park_after })
            .await;
        Ok(Batch::Sent(Sent {
            id: response.id,
            executed,
        }))
    }

    /// Waits for a sent batch's block, then completes its jobs; if the
    /// ledger lost it (a restart before the block was sealed), they go back
    /// to their lanes and the ledger's receipts decide on the resend.
    async fn confirm(&self, adapter: &dyn ChainAdapter, target: &ChainId, sent: Sent) {
        if sent.executed.is_empty() {
            return;
        }
        let started = Instant::now();
        let deadline = started + CONFIRM_WITHIN;
        let outcome = loop {
            match confirm_step(adapter.wait_tx(&sent.id).await) {
                ConfirmStep::Sealed => break Ok(()),
                ConfirmStep::Wait(None) => {}
                ConfirmStep::Wait(Some(e)) => {
                    tracing::debug!(%target, error = %e, "waiting for a batch's block")
                }
                ConfirmStep::GiveUp(reason) => break Err(reason),
            }
            if Instant::now() > deadline {
                break Err("not confirmed in time".to_string());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        self.metrics.stage("confirm", started.elapsed());
        let jobs: Vec<Job> = match outcome {
            Ok(()) => {
                let confirmed = now();
                let committed = self.commit_times(&sent.executed).await;
                let mut done = Vec::with_capacity(sent.executed.len());
                for (job, outcome) in &sent.executed {
                    let id = job.id();
                    match (outcome, &job.work) {
                        (Outcome::Received { ack, .. }, Work::Packet { packet, .. }) => {
                            self.metrics
                                .received(&id, &packet.payload, ack, confirmed, |h| {
                                    committed
                                        .get(&id.channel.source)
                                        .and_then(|c| c.get(&h))
                                        .copied()
                                });
                        }
                        (Outcome::Acknowledged { .. }, _) => self.metrics.acknowledged(&id),
                        (
                            Outcome::AlreadyReceived { .. } | Outcome::AlreadyAcknowledged { .. },
                            _,
                        ) => {
                            // Another member (or this one before a restart) got it
                            // there first: the destination's receipt refused the repeat.
                            self.metrics
                                .duplicates_refused
                                .with_label_values(&[target.as_str()])
                                .inc();
                            tracing::info!(%target, channel = %id.channel, sequence = id.sequence, kind = ?id.kind, "the destination refused a repeat delivery (already received)");
                        }
                        _ => {}
                    }
                    done.push(id);
                }
                if let Err(e) = self.queue.complete(&done).await {
                    // Delivered all the same: a member that submits them again
                    // is answered "already received" by the destination.
                    tracing::warn!(%target, error = %e, "cannot record completed jobs");
                }
                return;
            }
            Err(reason) => {
                tracing::warn!(%target, tx = %sent.id, %reason, "batch not confirmed; jobs re-queued");
                sent.executed.into_iter().map(|(j, _)| j).collect()
            }
        };
        self.metrics
            .retries
            .with_label_values(&[target.as_str()])
            .inc_by(jobs.len() as u64);
        // Lost or late on the ledger's side: not the jobs' fault.
        self.hand_back(jobs, "not confirmed", Requeue::NotAnAttempt)
            .await;
        self.wake_submitters();
    }

    /// The transaction for `jobs`: client updates first (one for every proof
    /// height, so the destination's client holds a consensus state at each),
    /// then the deliveries; and how many updates it starts with. `None` when a
    /// header it needs is not verified by our follower yet.
    async fn prepare(
        &self,
        chain: &Chain,
        target: &ChainId,
        signer: RelayerKey,
        jobs: &[Job],
        policies: &Policies,
        nonce: &mut Option<u64>,
    ) -> Result<Prepared, AdapterError> {
        let mut needed: BTreeMap<ChainId, std::collections::BTreeSet<u64>> = BTreeMap::new();
        for job in jobs {
            let (from, h) = match &job.work {
                Work::Packet { packet, proof } => (packet.id.channel.source.clone(), proof.height),
                Work::Ack { ack, proof } => (ack.packet.channel.destination.clone(), proof.height),
            };
            needed.entry(from).or_default().insert(h);
        }
        let clients = chain.adapter.clients().await?;
        let mut msgs = Vec::new();
        for (from, heights) in &needed {
            // A source this relayer no longer follows has no headers to give.
            let Some(follower) = self.follower(from) else {
                return Ok(Prepared::Waiting(
                    from.clone(),
                    format!("{from} is not followed"),
                ));
            };
            let have = clients
                .iter()
                .find(|c| &c.chain == from)
                .map(|c| c.latest_height)
                .unwrap_or(0);
            let mut cursor = have;
            for &p in heights {
                // Past the client's latest: one skipping update when the validator
                // set is the same at both ends (all of the trusted set signs);
                // across a rotation, every header in turn. At or below it: the
                // header at p (answered "already known" when the client has it).
                // Headers below the follower's window (it started above the
                // client) cannot be given one by one: the host judges the skip.
                let below_window = follower.lowest().is_some_and(|l| l > cursor);
                let skip = p <= cursor || below_window || {
                    let mut ends = follower.headers(vec![cursor, p]).await.into_iter();
                    same_set(ends.next().flatten(), ends.next().flatten())
                };
                let span: Vec<u64> = if skip {
                    vec![p]
                } else {
                    (cursor + 1..=p).collect()
                };
                let headers = follower.headers(span.clone()).await;
                for (h, header) in span.into_iter().zip(headers) {
                    let header = match header {
                        Some(header) => header,
                        // Below the window (this member started above the job's
                        // proof height, or the window moved past it): verified
                        // by its hash links down from the lowest verified one.
                        None if follower.lowest().is_some_and(|l| h < l) => {
                            match follower.verified_back(h).await {
                                Ok(header) => {
                                    tracing::info!(%target, %from, height = h, "a header below the follower's window verified by its hash links");
                                    header
                                }
                                Err(e) => {
                                    return Ok(Prepared::Waiting(
                                        from.clone(),
                                        format!(
                                            "the header of {from} at {h} cannot be verified: {e}"
                                        ),
                                    ))
                                }
                            }
                        }
                        None => {
                            tracing::debug!(%target, %from, height = h, "waiting for the follower to verify the header");
                            return Ok(Prepared::Waiting(
                                from.clone(),
                                format!("the follower of {from} has not verified height {h} yet"),
                            ));
                        }
                    };
                    msgs.push(RelayMsg::UpdateClient {
                        chain: from.clone(),
                        header,
                    });
                }
                cursor = cursor.max(p);
            }
        }
        let updates = msgs.len();
        let started = Instant::now();
        let mut disclosed = self.disclosures(policies, jobs).await?;
        self.metrics.stage("disclose", started.elapsed());
        for job in jobs {
            msgs.push(match &job.work {
                Work::Packet { packet, proof } => match disclosed.remove(&packet.id) {
                    Some(disclosure) => RelayMsg::RecvDisclosed {
                        packet: packet.clone(),
                        proof: proof.clone(),
                        disclosure,
                    },
                    None => RelayMsg::RecvPacket {
                        packet: packet.clone(),
                        proof: proof.clone(),
                    },
                },
                Work::Ack { ack, proof } => RelayMsg::Acknowledge {
                    ack: ack.clone(),
                    proof: proof.clone(),
                },
            });
        }
        let next = match *nonce {
            Some(n) => n,
            None => chain.adapter.account(&signer).await?.next_nonce,
        };
        *nonce = Some(next);
        Ok(Prepared::Tx(
            SignedTx::sign(&chain.key, target, next, &TxBody::Relay(msgs)),
            updates,
        ))
    }
}

impl Engine {
    /// When the source blocks of `executed`'s packets were committed, by
    /// source and height: one request to each source's follower.
    async fn commit_times(
        &self,
        executed: &[(Job, Outcome)],
    ) -> BTreeMap<ChainId, BTreeMap<u64, light_clients::Timestamp>> {
        let mut heights: BTreeMap<ChainId, std::collections::BTreeSet<u64>> = BTreeMap::new();
        for (job, outcome) in executed {
            if !matches!(outcome, Outcome::Received { .. }) {
                continue;
            }
            let id = job.id();
            if let Some(h) = self.metrics.samples.emitted_height(&id) {
                heights.entry(id.channel.source).or_default().insert(h);
            }
        }
        let mut out = BTreeMap::new();
        for (source, hs) in heights {
            if let Some(f) = self.follower(&source) {
                let times = f.committed_at(hs.into_iter().collect()).await;
                out.insert(source, times);
            }
        }
        out
    }
}

/// Refreshes are asked for again by the refresher; evidence must get through.
fn evidence_only(control: Vec<Control>) -> Vec<Control> {
    control
        .into_iter()
        .filter(|c| matches!(c, Control::Misbehaviour { .. }))
        .collect()
}

/// A batch's transaction, or why it cannot be made yet.
#[derive(Debug)]
enum Prepared {
    /// The transaction, and how many client updates it starts with.
    Tx(SignedTx, usize),
    /// A header of this source a proof needs is not verified (yet): the reason.
    Waiting(ChainId, String),
}

/// How the destination takes each (source, app) of a batch's packets.
type Policies = BTreeMap<(ChainId, App), PathPolicy>;

impl Engine {
    /// The destination's policy for each (source, app) of `jobs`' packets,
    /// read from it (one request per path and batch).
    async fn path_policies(
        &self,
        destination: &Chain,
        jobs: &[Job],
    ) -> Result<Policies, AdapterError> {
        let mut out = Policies::new();
        for job in jobs {
            if let Work::Packet { packet, .. } = &job.work {
                let c = &packet.id.channel;
                if let std::collections::btree_map::Entry::Vacant(e) =
                    out.entry((c.source.clone(), c.app))
                {
                    let policy = destination.adapter.path_policy(&c.source, c.app).await?;
                    e.insert(policy.policy);
                }
            }
        }
        Ok(out)
    }

    /// For the packets of `jobs` on paths the destination takes in
    /// `groth16` mode: disclosure proofs from each source's prover, per
    /// source block, by packet. The relayer sees only what the destination
    /// asked disclosed, never a hidden field.
    async fn disclosures(
        &self,
        policies: &Policies,
        jobs: &[Job],
    ) -> Result<BTreeMap<PacketId, Disclosure>, AdapterError> {
        let mut paths: BTreeMap<(ChainId, App), BTreeMap<u64, Vec<PacketId>>> = BTreeMap::new();
        for job in jobs {
            if let Work::Packet { packet, proof } = &job.work {
                let c = &packet.id.channel;
                paths
                    .entry((c.source.clone(), c.app))
                    .or_default()
                    .entry(proof.height)
                    .or_default()
                    .push(packet.id.clone());
            }
        }
        let mut out = BTreeMap::new();
        for ((source, app), blocks) in paths {
            let policy = match policies.get(&(source.clone(), app)) {
                None | Some(PathPolicy::Merkle) => continue,
                Some(p) => p,
            };
            let Some(from) = self.chain(&source) else {
                return Err(AdapterError::NotFound {
                    chain: source.clone(),
                    what: "the source of a groth16 path is not a chain this relayer follows".into(),
                });
            };
            for (proof_height, packets) in blocks {
                for chunk in packets.chunks(MAX_DISCLOSE_PACKETS) {
                    let request = DiscloseRequest {
                        version: WIRE_VERSION,
                        proof_height,
                        packets: chunk.to_vec(),
                        policy: policy.clone(),
                    };
                    for d in from.adapter.disclose(&request).await?.disclosures {
                        for r in &d.records {
                            out.insert(r.packet.clone(), d.clone());
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// What one answer of `wait_tx` means for a sent batch.
#[derive(Debug, PartialEq, Eq)]
enum ConfirmStep {
    /// In a sealed block: its jobs are done.
    Sealed,
    /// Not sealed yet, or the ledger did not answer this time (the error):
    /// asked again until the confirmation deadline.
    Wait(Option<String>),
    /// Asking again cannot help: the ledger no longer knows the
    /// transaction, or refused it (a CometBFT chain's block refusing it in
    /// `FinalizeBlock`, a malformed id): its jobs go back at once.
    GiveUp(String),
}

fn confirm_step(answer: Result<adapters::wire::TxResponse, AdapterError>) -> ConfirmStep {
    match answer {
        Ok(r) if r.height.is_some() => ConfirmStep::Sealed,
        Ok(_) => ConfirmStep::Wait(None),
        Err(AdapterError::NotFound { .. }) => {
            ConfirmStep::GiveUp("the ledger no longer knows the transaction".to_string())
        }
        Err(e) if e.is_transient() => ConfirmStep::Wait(Some(e.to_string())),
        Err(e) => ConfirmStep::GiveUp(format!("refused: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_while_confirming_gives_up_at_once_and_a_transient_failure_waits() {
        let chain = chain("gba-1");
        let tx = |height| {
            Ok(adapters::wire::TxResponse {
                version: WIRE_VERSION,
                id: "ab".into(),
                height,
                results: Vec::new(),
            })
        };
        assert_eq!(confirm_step(tx(Some(7))), ConfirmStep::Sealed);
        assert_eq!(confirm_step(tx(None)), ConfirmStep::Wait(None));
        let refused = |status: u16, code: &str| {
            Err(AdapterError::Refused {
                chain: chain.clone(),
                status,
                code: code.into(),
                message: "m".into(),
            })
        };
        // A block that refused the transaction (a nonce used meanwhile): given up.
        match confirm_step(refused(422, "nonce")) {
            ConfirmStep::GiveUp(reason) => assert!(reason.contains("nonce"), "{reason}"),
            other => panic!("a refusal is waited on: {other:?}"),
        }
        assert!(matches!(
            confirm_step(refused(400, "malformed_request")),
            ConfirmStep::GiveUp(_)
        ));
        assert!(matches!(
            confirm_step(Err(AdapterError::NotFound {
                chain: chain.clone(),
                what: "tx".into()
            })),
            ConfirmStep::GiveUp(_)
        ));
        // Transient: the ledger down, overloaded, or not yet able to answer.
        for transient in [
            refused(503, "unavailable"),
            refused(429, "rate_limited"),
            refused(409, "not_yet_provable"),
            Err(AdapterError::Unavailable {
                chain: chain.clone(),
                reason: "connection refused".into(),
            }),
        ] {
            assert!(
                matches!(confirm_step(transient), ConfirmStep::Wait(Some(_))),
                "a transient failure gives up"
            );
        }
    }

    fn chain(id: &str) -> ChainId {
        ChainId::new(id).expect("chain id")
    }

    #[test]
    fn a_chains_wait_backs_off_on_its_own_and_starts_over_when_it_progresses() {
        let base = Duration::from_millis(100);
        let (a, b) = (chain("cmport-1"), chain("cosco-1"));
        let t0 = Instant::now();
        let mut waits = Waits::default();
        assert!(!waits.waiting(&a, t0), "nothing waits at first");
        assert_eq!(waits.stalled(&a, base, t0), (base, 0));
        assert_eq!(waits.stalled(&a, base, t0), (base * 2, 1), "doubled");
        assert!(waits.waiting(&a, t0 + base), "within its pause");
        assert!(!waits.waiting(&a, t0 + base * 2), "its pause is over");
        // Another chain's lanes are not held by a's wait, and back off alone.
        assert!(!waits.waiting(&b, t0));
        assert_eq!(waits.stalled(&b, base, t0), (base, 0));
        waits.progressed(&a);
        assert!(!waits.waiting(&a, t0));
        assert_eq!(waits.stalled(&a, base, t0), (base, 0), "starts over");
        // The proof chain of a lane to cosco-1: the packet's source, or for
        // acks (whose channel starts at the target) the channel's destination.
        assert_eq!(proof_chain(&b, &a, &b), &a);
        assert_eq!(proof_chain(&a, &a, &b), &b);
    }

    #[test]
    fn the_backoff_doubles_from_the_base_and_stops_growing_at_its_cap() {
        let base = Duration::from_millis(100);
        let pauses: Vec<u64> = (0..9)
            .map(|step| backoff_pause(base, step).as_millis() as u64)
            .collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1600, 3200, 3200, 3200, 3200]);
        // No overflow however long a lane stays stalled.
        assert_eq!(backoff_pause(base, u32::MAX), Duration::from_millis(3200));
        assert_eq!(
            backoff_pause(Duration::MAX, 3),
            Duration::MAX,
            "saturates instead of overflowing"
        );
    }

    fn job(sequence: u64, proof_height: u64) -> Job {
        use light_clients::host::EventProof;
        use light_clients::merkle::MerkleProof;
        use light_clients::{ChannelId, Packet, Timeout, Timestamp};
        let channel = ChannelId {
            source: ChainId::new("cmport-1").expect("id"),
            destination: ChainId::new("cosco-1").expect("id"),
            app: App::Cargo,
        };
        Job {
            work: Work::Packet {
                packet: Packet {
                    id: PacketId { channel, sequence },
                    timeout: Timeout {
                        time: Timestamp::from_unix_nanos(1),
                        height: None,
                    },
                    payload: vec![1],
                },
                proof: EventProof {
                    height: proof_height,
                    opening: None,
                    proof: MerkleProof {
                        leaf_index: 0,
                        siblings: Vec::new(),
                    },
                },
            },
            attempts: 0,
        }
    }

    #[test]
    fn a_batch_too_large_is_halved_and_a_job_too_large_alone_is_not_sent() {
        assert_eq!(fit(40, 1_000, 1_000), Fit::Send);
        assert_eq!(fit(40, 1_001, 1_000), Fit::Keep(20));
        assert_eq!(fit(3, 5_000, 1_000), Fit::Keep(1));
        assert_eq!(fit(2, 5_000, 1_000), Fit::Keep(1));
        assert_eq!(fit(1, 1_001, 1_000), Fit::Alone);
        assert_eq!(fit(1, 1_000, 1_000), Fit::Send);
        // Halving ends: from 4,000 jobs a dozen rounds at most reach one.
        let (mut n, mut rounds) = (4_000usize, 0);
        while let Fit::Keep(k) = fit(n, usize::MAX, 1) {
            assert!(k < n && k >= 1);
            n = k;
            rounds += 1;
        }
        assert_eq!((n, rounds), (1, 11));
    }

    #[test]
    fn a_batch_is_bounded_by_the_estimated_bytes_of_its_jobs() {
        assert_eq!(fitting([100, 100, 100], 300), 3);
        assert_eq!(fitting([100, 100, 100], 299), 2);
        assert_eq!(fitting([100, 100, 100], 100), 1);
        // The first job always goes: the transaction made for it decides.
        assert_eq!(fitting([500, 100], 100), 1);
        assert_eq!(fitting(std::iter::empty(), 100), 0);
        assert_eq!(fitting([usize::MAX, 1], usize::MAX - 1), 1, "no overflow");
        // A job's estimate is its delivery's JSON escaped in the body: at
        // least the JSON, and what the request really takes per job.
        let j = job(7, 5);
        let json = serde_json::to_string(&j.work).expect("json");
        assert!(estimated_bytes(&j) > json.len());
    }

    #[test]
    fn the_limit_is_the_advertised_one_or_the_default_and_learns_from_refusals() {
        let t0 = Instant::now();
        let mut limit = TxLimit::default();
        assert_eq!(limit.bytes(), DEFAULT_MAX_TX_BYTES, "not read yet");
        assert!(limit.stale(t0));
        limit.advertised(None, t0);
        assert_eq!(
            limit.bytes(),
            DEFAULT_MAX_TX_BYTES,
            "an older ledger does not say"
        );
        assert!(!limit.stale(t0));
        assert!(limit.stale(t0 + LIMIT_REFRESH));
        limit.advertised(Some(8 << 20), t0);
        assert_eq!(limit.bytes(), 8 << 20);
        // A proxy in front takes less than the ledger says: learned from its 413.
        limit.refused(1_000_000);
        assert_eq!(limit.bytes(), 999_999);
        limit.refused(2_000_000);
        assert_eq!(
            limit.bytes(),
            999_999,
            "a larger refusal teaches nothing new"
        );
        // The same advertisement again keeps the lesson; a new one replaces it.
        limit.advertised(Some(8 << 20), t0);
        assert_eq!(limit.bytes(), 999_999);
        limit.advertised(Some(4 << 20), t0);
        assert_eq!(limit.bytes(), 4 << 20);
        limit.refused(0);
        assert_eq!(limit.bytes(), 1, "never zero");
    }

    #[test]
    fn the_request_size_counts_the_body_escaped_in_its_envelope() {
        let key = ed25519_consensus::SigningKey::from([7u8; 32]);
        let body = TxBody::Relay(vec![]);
        let tx = SignedTx::sign(&key, &ChainId::new("cosco-1").expect("id"), 1, &body);
        let sent = serde_json::to_vec(&tx).expect("json");
        assert_eq!(request_bytes(&tx), sent.len());
        assert!(request_bytes(&tx) > tx.body.len());
    }

    #[test]
    fn an_ack_is_labelled_with_the_path_it_goes_back_on() {
        let packet = job(1, 5);
        assert_eq!(
            path_of(&packet),
            (
                ChainId::new("cmport-1").expect("id"),
                ChainId::new("cosco-1").expect("id")
            )
        );
    }
}
