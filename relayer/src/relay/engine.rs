//! The relay engine: per chain, a follower that verifies each new header
//! with the same light-client code the destinations run and a scanner that
//! turns the block's packets and acks into jobs; per destination, a
//! submitter that batches jobs behind the client updates they need, submits
//! them as one transaction, and settles each job by the ledger's answer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adapters::chain::{AdapterError, ChainAdapter};
use adapters::wire::MsgResult;
use light_clients::any::{AnyClient, AnyHeader};
use light_clients::client::UpdateOutcome;
use light_clients::host::{BlockEvent, Outcome, RelayMsg, RelayerKey, SignedTx, TxBody};
use light_clients::{ChainId, ChannelId, Timestamp, TrustOptions};
use tokio_util::sync::CancellationToken;

use super::coordinator::{Coordinator, Job, JobId, JobKind, Work};
use super::stats::Stats;

/// A chain the engine relays to and from.
#[derive(Debug, Clone)]
pub struct Chain {
    pub adapter: Arc<dyn ChainAdapter>,
    /// This relayer's transaction key on the chain (registered by its operator).
    pub key: ed25519_consensus::SigningKey,
    /// The operator-approved header the follower starts from (at or below the
    /// heights other ledgers' clients of this chain hold); none: the latest.
    pub trust_root: Option<(u64, AnyHeader)>,
}

/// How the engine works.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    pub trust: TrustOptions,
    /// Most jobs in one transaction.
    pub batch_max: usize,
    /// Attempts before a job is parked.
    pub max_attempts: u32,
    /// Pause after a failed submission, doubled up to 32 times this.
    pub backoff: Duration,
    /// How often the clearer compares every channel's two ends (it also runs at start).
    pub clear_interval: Duration,
}

/// Most sequences the clearer looks up per channel and direction in one round.
const CLEAR_MAX: u64 = 512;

/// What the tasks share.
#[derive(Debug)]
pub struct Engine {
    pub chains: BTreeMap<ChainId, Chain>,
    pub coordinator: Arc<dyn Coordinator>,
    pub options: EngineOptions,
    pub stats: Arc<Stats>,
    /// Headers the followers verified, by chain and height (a window of recent ones).
    verified: Mutex<BTreeMap<ChainId, BTreeMap<u64, AnyHeader>>>,
    /// Wakes a submitter when jobs arrive.
    wake: tokio::sync::Notify,
}

/// Headers kept per chain for submitters to use.
const HEADER_WINDOW: usize = 4096;

pub fn now() -> Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Timestamp::from_unix_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

impl Engine {
    pub fn new(
        chains: BTreeMap<ChainId, Chain>,
        coordinator: Arc<dyn Coordinator>,
        options: EngineOptions,
        stats: Arc<Stats>,
    ) -> Arc<Self> {
        Arc::new(Engine {
            chains,
            coordinator,
            options,
            stats,
            verified: Mutex::new(BTreeMap::new()),
            wake: tokio::sync::Notify::new(),
        })
    }

    /// Runs every task until `shutdown`; returns when they have all stopped.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let tracker = tokio_util::task::TaskTracker::new();
        for chain in self.chains.keys() {
            tracker.spawn(self.clone().follow(chain.clone(), shutdown.clone()));
            tracker.spawn(self.clone().submit_to(chain.clone(), shutdown.clone()));
        }
        tracker.spawn(self.clone().clear(shutdown.clone()));
        tracker.close();
        tracker.wait().await;
    }

    fn header(&self, chain: &ChainId, height: u64) -> Option<AnyHeader> {
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(chain)
            .and_then(|m| m.get(&height))
            .cloned()
    }

    fn keep(&self, chain: &ChainId, height: u64, header: AnyHeader) {
        let mut v = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        let m = v.entry(chain.clone()).or_default();
        m.insert(height, header);
        while m.len() > HEADER_WINDOW {
            m.pop_first();
        }
    }

    /// Follows `chain`'s headers, verifying each, and scans the blocks they prove.
    async fn follow(self: Arc<Self>, chain: ChainId, shutdown: CancellationToken) {
        let Some(c) = self.chains.get(&chain).cloned() else {
            return;
        };
        let adapter = c.adapter;
        let (mut client, mut height) = loop {
            let start = match &c.trust_root {
                Some((h, header)) => Ok((header.clone(), *h)),
                None => {
                    async {
                        let status = adapter.status().await?;
                        let header = adapter.header(status.height).await?;
                        Ok::<_, AdapterError>((header, status.height))
                    }
                    .await
                }
            };
            match start {
                Ok((header, h)) => {
                    match AnyClient::create(&header.trust_root(), self.options.trust) {
                        Ok(client) => {
                            self.keep(&chain, h, header);
                            break (client, h);
                        }
                        Err(e) => {
                            tracing::error!(%chain, check = e.check(), error = %e, "cannot start following")
                        }
                    }
                }
                Err(e) => tracing::warn!(%chain, error = %e, "waiting for the chain"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        };
        let mut next_scan = match self.coordinator.checkpoint(&chain) {
            Ok(Some(h)) => h,
            _ => height,
        };
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = adapter.next_header(height, Duration::from_secs(5)) => r,
            };
            match next {
                Ok(Some(header)) => {
                    let started = Instant::now();
                    match client.update(&header, now()) {
                        Ok(UpdateOutcome::Updated { .. } | UpdateOutcome::AlreadyKnown { .. }) => {
                            self.stats.header_verified(started.elapsed());
                            height += 1;
                            self.keep(&chain, height, header);
                        }
                        Ok(UpdateOutcome::Frozen(evidence)) => {
                            tracing::error!(%chain, %evidence, "misbehaviour: conflicting headers; following stops");
                            return;
                        }
                        Err(e) => {
                            // Never forward a header a destination would reject.
                            tracing::error!(%chain, height = height + 1, check = e.check(), error = %e, "header failed verification");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                            continue;
                        }
                    }
                }
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(%chain, error = %e, "following");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            }
            // Scan every block whose proofs are now provable (gba: one header behind).
            while next_scan < height {
                match self.scan(&chain, adapter.as_ref(), next_scan).await {
                    Ok(()) => {
                        next_scan += 1;
                        if let Err(e) = self.coordinator.set_checkpoint(&chain, next_scan) {
                            tracing::error!(%chain, error = %e, "checkpoint");
                        }
                    }
                    Err(e) if e.is_transient() => break,
                    Err(e) => {
                        tracing::error!(%chain, height = next_scan, error = %e, "scanning");
                        break;
                    }
                }
            }
        }
    }

    /// Turns block `height`'s packets and acks into jobs for chains we relay to.
    async fn scan(
        &self,
        chain: &ChainId,
        adapter: &dyn ChainAdapter,
        height: u64,
    ) -> Result<(), AdapterError> {
        let block = adapter.block_events(height).await?;
        let source_time = self
            .header(chain, block.proof_height)
            .map(|h| header_time(&h));
        let mut queued = false;
        for proven in block.events {
            let (work, target) = match proven.event {
                BlockEvent::Packet { packet } => {
                    let target = packet.id.channel.destination.clone();
                    (
                        Work::Packet {
                            packet,
                            proof: proven.proof,
                        },
                        target,
                    )
                }
                BlockEvent::Ack { ack } => {
                    let target = ack.packet.channel.source.clone();
                    (
                        Work::Ack {
                            ack,
                            proof: proven.proof,
                        },
                        target,
                    )
                }
            };
            if !self.chains.contains_key(&target) {
                continue;
            }
            let job = Job { work, attempts: 0 };
            let id = job.id();
            // Latency is measured for packets (source block to receipt); acks
            // are not recorded, so the table holds only packets in flight.
            if let (Some(t), JobKind::Packet) = (source_time, id.kind) {
                self.stats.emitted(&id, t);
            }
            let fresh = self.coordinator.enqueue(job);
            tracing::debug!(%chain, height, channel = %id.channel, sequence = id.sequence, kind = ?id.kind, fresh, "job");
            queued |= fresh;
        }
        if queued {
            self.wake.notify_waiters();
        }
        Ok(())
    }

    /// Re-queues gaps at start and every `clear_interval`, so nothing depends
    /// on a scanner having seen an event live (a crash, a restart, a lost queue).
    async fn clear(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            match self.clear_once().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, "clearer re-queued gaps"),
                Err(e) => tracing::warn!(error = %e, "clearer"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.options.clear_interval) => {}
            }
        }
    }

    /// One comparison of every channel's two ends; returns how many jobs it queued.
    pub async fn clear_once(&self) -> Result<usize, AdapterError> {
        let mut ends = BTreeMap::new();
        for (chain, c) in &self.chains {
            for end in c.adapter.channels().await? {
                ends.insert((chain.clone(), end.id.clone()), end);
            }
        }
        let mut queued = 0;
        for ((holder, id), src) in &ends {
            let (Some(dst), Some(from), Some(to)) = (
                ends.get(&(id.destination.clone(), id.clone())),
                self.chains.get(&id.source),
                self.chains.get(&id.destination),
            ) else {
                continue;
            };
            if holder != &id.source {
                continue;
            }
            // Sent but not received: the destination's next_recv up to the source's next_send.
            for sequence in
                dst.next_recv..src.next_send.min(dst.next_recv.saturating_add(CLEAR_MAX))
            {
                let packet_id = light_clients::PacketId {
                    channel: id.clone(),
                    sequence,
                };
                if self.knows(&packet_id, JobKind::Packet) {
                    continue;
                }
                let location = match from.adapter.packet_location(&packet_id).await {
                    Ok(l) => l,
                    Err(AdapterError::NotFound { .. }) => continue,
                    Err(e) => return Err(e),
                };
                queued += self
                    .requeue(
                        &id.source,
                        from.adapter.as_ref(),
                        location.height,
                        |e| matches!(e, BlockEvent::Packet { packet } if packet.id == packet_id),
                    )
                    .await?;
            }
            // Received (ack written) but the source still awaits the ack.
            for sequence in src.next_ack..dst.next_recv.min(src.next_ack.saturating_add(CLEAR_MAX))
            {
                let packet_id = light_clients::PacketId {
                    channel: id.clone(),
                    sequence,
                };
                if self.knows(&packet_id, JobKind::Ack) {
                    continue;
                }
                match from.adapter.packet_location(&packet_id).await {
                    Ok(_) => {}
                    // Acknowledged already (acks settle out of order).
                    Err(AdapterError::NotFound { .. }) => continue,
                    Err(e) => return Err(e),
                }
                let location = match to.adapter.receipt_location(&packet_id).await {
                    Ok(l) => l,
                    Err(AdapterError::NotFound { .. }) => continue,
                    Err(e) => return Err(e),
                };
                queued += self
                    .requeue(
                        &id.destination,
                        to.adapter.as_ref(),
                        location.height,
                        |e| matches!(e, BlockEvent::Ack { ack } if ack.packet == packet_id),
                    )
                    .await?;
            }
        }
        if queued > 0 {
            self.wake.notify_waiters();
        }
        Ok(queued)
    }

    fn knows(&self, packet: &light_clients::PacketId, kind: JobKind) -> bool {
        self.coordinator.knows(&JobId {
            channel: packet.channel.clone(),
            sequence: packet.sequence,
            kind,
        })
    }

    /// Queues the event of block `height` on `chain` that `wanted` picks, with its proof.
    async fn requeue(
        &self,
        chain: &ChainId,
        adapter: &dyn ChainAdapter,
        height: u64,
        wanted: impl Fn(&BlockEvent) -> bool,
    ) -> Result<usize, AdapterError> {
        let block = match adapter.block_events(height).await {
            Ok(b) => b,
            // A gba block waits for the next header; the next round takes it.
            Err(e) if e.is_transient() => return Ok(0),
            Err(e) => return Err(e),
        };
        let Some(proven) = block.events.into_iter().find(|p| wanted(&p.event)) else {
            tracing::warn!(%chain, height, "the ledger located an event in a block that does not hold it");
            return Ok(0);
        };
        let work = match proven.event {
            BlockEvent::Packet { packet } => Work::Packet {
                packet,
                proof: proven.proof,
            },
            BlockEvent::Ack { ack } => Work::Ack {
                ack,
                proof: proven.proof,
            },
        };
        Ok(usize::from(
            self.coordinator.enqueue(Job { work, attempts: 0 }),
        ))
    }

    /// Submits jobs to `target` in batches, each behind the client updates it needs.
    async fn submit_to(self: Arc<Self>, target: ChainId, shutdown: CancellationToken) {
        let Some(chain) = self.chains.get(&target).cloned() else {
            return;
        };
        let signer = RelayerKey(chain.key.verification_key().to_bytes());
        let mut failures = 0u32;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            let jobs = self.coordinator.take(&target, self.options.batch_max);
            if jobs.is_empty() {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
                continue;
            }
            // A batch in flight finishes even on shutdown: nothing is left half-done.
            match self.submit_batch(&chain, &target, signer, jobs).await {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%target, error = %e, "submission failed; jobs re-queued");
                    let pause = self.options.backoff.saturating_mul(1 << failures.min(5));
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    async fn submit_batch(
        &self,
        chain: &Chain,
        target: &ChainId,
        signer: RelayerKey,
        jobs: Vec<Job>,
    ) -> Result<(), AdapterError> {
        // Every job taken is settled on every path: completed, or back in its lane.
        let prepared = match self.prepare(chain, target, signer, &jobs).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                self.coordinator.fail(
                    jobs,
                    "a header is not verified by the follower yet",
                    u32::MAX,
                );
                return Ok(());
            }
            Err(e) => {
                self.coordinator.fail(jobs, &e.to_string(), u32::MAX);
                return Err(e);
            }
        };
        let (tx, updates) = prepared;
        let response = match chain.adapter.submit(&tx).await {
            Ok(r) => r,
            Err(e) => {
                self.coordinator.fail(jobs, &e.to_string(), u32::MAX);
                return Err(e);
            }
        };
        if response.height.is_none() || response.results.len() != updates + jobs.len() {
            // Executed but not sealed when the wait ran out (or an answer we
            // cannot pair up): the ledger's receipts decide; re-queue, and a
            // resend is answered "already received".
            self.coordinator.fail(jobs, "not confirmed", u32::MAX);
            return Ok(());
        }
        let confirmed = now();
        self.stats.batch(jobs.len());
        let mut done = Vec::new();
        let (mut later, mut retry) = (Vec::new(), Vec::new());
        let mut reason = String::new();
        for (job, result) in jobs
            .into_iter()
            .zip(response.results.into_iter().skip(updates))
        {
            match result {
                MsgResult::Ok { outcome } => {
                    let id = job.id();
                    match &outcome {
                        Outcome::Received { ack, .. } => self.stats.delivered(&id, ack, confirmed),
                        Outcome::Acknowledged { .. } => self.stats.acknowledged(&id),
                        _ => {}
                    }
                    done.push(id);
                }
                MsgResult::Err { check, message } => {
                    self.stats.error(target, &check);
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
        self.coordinator.complete(&done);
        if !retry.is_empty() || !later.is_empty() {
            tracing::warn!(%target, jobs = retry.len() + later.len(), %reason, "jobs refused; retrying");
        }
        // Later ones go back first so that failed ones end up ahead of them in their lanes.
        self.coordinator.fail(later, &reason, u32::MAX);
        self.coordinator
            .fail(retry, &reason, self.options.max_attempts);
        Ok(())
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
    ) -> Result<Option<(SignedTx, usize)>, AdapterError> {
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
                let span: Vec<u64> =
                    if p <= cursor || same_set(self.header(from, cursor), self.header(from, p)) {
                        vec![p]
                    } else {
                        (cursor + 1..=p).collect()
                    };
                for h in span {
                    let Some(header) = self.header(from, h) else {
                        tracing::debug!(%target, %from, height = h, "waiting for the follower to verify the header");
                        return Ok(None);
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
        for job in jobs {
            msgs.push(match &job.work {
                Work::Packet { packet, proof } => RelayMsg::RecvPacket {
                    packet: packet.clone(),
                    proof: proof.clone(),
                },
                Work::Ack { ack, proof } => RelayMsg::Acknowledge {
                    ack: ack.clone(),
                    proof: proof.clone(),
                },
            });
        }
        let nonce = chain.adapter.account(&signer).await?.next_nonce;
        Ok(Some((
            SignedTx::sign(&chain.key, target, nonce, &TxBody::Relay(msgs)),
            updates,
        )))
    }
}

fn same_set(a: Option<AnyHeader>, b: Option<AnyHeader>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            validators_hash(&a).is_some() && validators_hash(&a) == validators_hash(&b)
        }
        _ => false,
    }
}

fn validators_hash(h: &AnyHeader) -> Option<light_clients::Hash32> {
    h.summary().ok().map(|s| s.validators_hash)
}

fn header_time(h: &AnyHeader) -> Timestamp {
    h.summary().map(|s| s.time).unwrap_or_default()
}

/// The channels of a path set: every ordered pair of chains, for each app.
pub fn all_channels(chains: &[ChainId], apps: &[light_clients::App]) -> Vec<ChannelId> {
    let mut out = Vec::new();
    for s in chains {
        for d in chains {
            if s != d {
                for app in apps {
                    out.push(ChannelId {
                        source: s.clone(),
                        destination: d.clone(),
                        app: *app,
                    });
                }
            }
        }
    }
    out
}
