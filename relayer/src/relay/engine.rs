//! The relay engine: per chain, a follower that verifies each new header
//! with the same light-client code the destinations run and a scanner that
//! turns the block's packets and acks into jobs, and witnesses that compare
//! the chain's other endpoints with what the follower verified; per
//! destination, a submitter that batches jobs behind the client updates they
//! need (`submit`); a clearer that re-queues gaps from both ends of every
//! channel (`clear`).
//!
//! Each task owns its state; the others reach it through a cheap cloneable
//! handle held in the engine's registry of chains: a follower's headers and
//! follow state through its `FollowerHandle`, a submitter's control messages
//! through its `SubmitterHandle`. Counts go to `Metrics` only.
//!
//! Chains can be added and removed while the engine runs (adapters
//! registered over the API): each has its own tasks and stop token (a child
//! of the engine's), and its tasks' state goes with them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use adapters::chain::ChainAdapter;
use light_clients::any::AnyHeader;
use light_clients::host::RelayMsg;
use light_clients::{App, ChainId, ChannelId, Timestamp, TrustOptions};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::coordinator::{Coordination, FleetView, JobQueue, Leases, RelayerStore};
use super::follower::{follower, FollowerHandle};
use super::submit::SubmitterHandle;
use crate::metrics::Metrics;

/// A chain the engine relays to and from.
#[derive(Debug, Clone)]
pub struct Chain {
    pub adapter: Arc<dyn ChainAdapter>,
    /// This relayer's transaction key on the chain (registered by its operator).
    pub key: ed25519_consensus::SigningKey,
    /// The operator-approved header the follower starts from (at or below the
    /// heights other ledgers' clients of this chain hold); none: the latest.
    pub trust_root: Option<(u64, AnyHeader)>,
    /// An operator's pin: the follower starts from the header at this height,
    /// and only if its hash is this one (overrides `trust_root`).
    pub pin: Option<(u64, light_clients::Hash32)>,
    /// The endpoints, as configured.
    pub endpoints: Vec<String>,
    /// The apps relayed to and from this chain.
    pub apps: Vec<App>,
    /// One adapter per endpoint, by endpoint, to compare with what the
    /// follower verified (empty with a single endpoint).
    pub witnesses: Vec<(String, Arc<dyn ChainAdapter>)>,
}

impl Chain {
    /// A chain served over one endpoint for every app, followed from `trust_root`.
    pub fn single(
        adapter: Arc<dyn ChainAdapter>,
        key: ed25519_consensus::SigningKey,
        endpoint: String,
        trust_root: Option<(u64, AnyHeader)>,
    ) -> Self {
        Chain {
            adapter,
            key,
            trust_root,
            pin: None,
            endpoints: vec![endpoint],
            apps: App::ALL.to_vec(),
            witnesses: Vec::new(),
        }
    }
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

/// What a submitter does about a lane that cannot progress (a header its
/// proofs need cannot be had): `[relayer] stall_park`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallOptions {
    /// How long a job may stall before it is parked with the reason.
    pub park: Duration,
}

impl StallOptions {
    /// The defaults of the configuration file (docs/fleet.md): long enough
    /// that a follower catching up after a restart is not mistaken for a
    /// stall, short enough that a fleet hands a stuck lane on within a minute.
    pub const DEFAULT: StallOptions = StallOptions {
        park: Duration::from_secs(600),
    };
}

/// A path the relayer serves: which apps, and its most jobs in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathPolicy {
    pub source: ChainId,
    pub destination: ChainId,
    pub apps: Vec<App>,
    pub batch_max: usize,
}

/// The paths served: every channel between known chains when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Paths(pub Vec<PathPolicy>);

impl Paths {
    fn find(&self, source: &ChainId, destination: &ChainId) -> Option<&PathPolicy> {
        self.0
            .iter()
            .find(|p| &p.source == source && &p.destination == destination)
    }

    /// Whether this relayer carries the channel's packets and acks.
    pub fn allows(&self, channel: &ChannelId) -> bool {
        self.0.is_empty()
            || self
                .find(&channel.source, &channel.destination)
                .is_some_and(|p| p.apps.contains(&channel.app))
    }

    /// The most jobs of a path in one transaction.
    pub fn batch_max(&self, source: &ChainId, destination: &ChainId, default: usize) -> usize {
        match self.find(source, destination) {
            Some(p) => p.batch_max,
            None if self.0.is_empty() => default,
            None => 0,
        }
    }
}

/// What the follower of a chain has done, for the status API.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FollowState {
    /// The highest header the follower verified (0 before it started).
    pub verified_height: u64,
    /// The next block the scanner turns into jobs.
    pub next_scan: u64,
    /// Set when a witness showed a conflicting valid header: following stopped.
    pub frozen: Option<String>,
    pub misbehaviour: Vec<MisbehaviourReport>,
    pub last_error: Option<String>,
    /// Per witness endpoint: the height it agreed up to, or why it could not be compared.
    pub witnesses: BTreeMap<String, WitnessState>,
}

/// A witness endpoint as last seen.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WitnessState {
    pub agreed_height: u64,
    pub last_error: Option<String>,
}

impl WitnessState {
    /// An endpoint that could not be compared (the height it agreed up to stays).
    pub fn failed(reason: String) -> Self {
        WitnessState {
            agreed_height: 0,
            last_error: Some(reason),
        }
    }
}

/// Misbehaviour the relayer detected, and what the hosts made of its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct MisbehaviourReport {
    pub height: u64,
    pub evidence: String,
    /// The endpoint that served the conflicting header.
    pub witness: String,
    /// Host chain to its answer ("frozen", or the error).
    pub submitted: BTreeMap<ChainId, String>,
}

/// Messages a submitter sends ahead of its jobs: client refreshes and evidence.
#[derive(Debug, Clone)]
pub(super) enum Control {
    /// Bring the destination's client of `source` up to our latest verified header.
    Refresh { source: ChainId },
    /// Evidence against `source`, with the header update that makes it checkable.
    Misbehaviour {
        source: ChainId,
        height: u64,
        msgs: Vec<RelayMsg>,
    },
}

/// A chain being relayed: its configuration, its stop token, and the
/// handles of its tasks (none before the engine runs).
#[derive(Debug)]
struct Running {
    chain: Chain,
    stop: CancellationToken,
    follower: Option<FollowerHandle>,
    submitter: Option<SubmitterHandle>,
}

impl Running {
    fn new(chain: Chain, stop: CancellationToken) -> Self {
        Running {
            chain,
            stop,
            follower: None,
            submitter: None,
        }
    }
}

/// The relay engine: the registry of chains with their tasks' handles, and
/// what every task is given (the coordinator, options, metrics). Each task
/// owns its own state: a follower its verified headers and follow state, a
/// submitter its control messages and nonce, a scanner its position.
#[derive(Debug)]
pub struct Engine {
    /// The chains relayed and their tasks' handles; written only when a
    /// chain is added or removed (or its tasks start), read to find a handle.
    chains: RwLock<BTreeMap<ChainId, Running>>,
    /// Where jobs wait: scanners and the clearer queue, submitters take and settle.
    pub queue: Arc<dyn JobQueue>,
    /// The scanner and clearer leases (lanes are the queue's backend's business).
    pub leases: Arc<dyn Leases>,
    /// Checkpoints and registered adapters.
    pub store: Arc<dyn RelayerStore>,
    /// Whether the coordinator answers, and the fleet.
    pub fleet: Arc<dyn FleetView>,
    pub options: EngineOptions,
    pub stall: StallOptions,
    pub paths: Paths,
    pub metrics: Arc<Metrics>,
    pub(super) tasks: TaskTracker,
    stop: CancellationToken,
}

pub fn now() -> Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Timestamp::from_unix_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// A chain added while it is relayed already.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is relayed already")]
pub struct AlreadyRelayed(pub ChainId);

impl Engine {
    pub fn new(
        chains: BTreeMap<ChainId, Chain>,
        coordination: impl Into<Coordination>,
        options: EngineOptions,
        paths: Paths,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        Engine::with_stall(
            chains,
            coordination,
            options,
            StallOptions::DEFAULT,
            paths,
            metrics,
        )
    }

    /// [`Engine::new`] with the stall options of the configuration file.
    pub fn with_stall(
        chains: BTreeMap<ChainId, Chain>,
        coordination: impl Into<Coordination>,
        options: EngineOptions,
        stall: StallOptions,
        paths: Paths,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        let stop = CancellationToken::new();
        let chains = chains
            .into_iter()
            .map(|(id, chain)| (id, Running::new(chain, stop.child_token())))
            .collect();
        let Coordination {
            queue,
            leases,
            store,
            fleet,
        } = coordination.into();
        Arc::new(Engine {
            chains: RwLock::new(chains),
            queue,
            leases,
            store,
            fleet,
            options,
            stall,
            paths,
            metrics,
            tasks: TaskTracker::new(),
            stop,
        })
    }

    /// Runs every task until `shutdown`; returns when they have all stopped
    /// (a batch in flight finishes first).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let ids: Vec<ChainId> = self.chain_ids();
        for id in ids {
            self.spawn_chain(&id);
        }
        // Only lanes this relayer can deliver are taken (a weak reference:
        // the coordinator outlives no engine, and holds none of it).
        let engine = Arc::downgrade(&self);
        self.leases.serve(Arc::new(move |channel| {
            engine.upgrade().is_some_and(|e| e.serves(channel))
        }));
        self.leases.start(&self.tasks, self.stop.clone());
        self.tasks.spawn(self.clone().clear(self.stop.clone()));
        self.tasks.spawn(self.clone().refresh(self.stop.clone()));
        self.tasks.spawn(self.clone().observe(self.stop.clone()));
        self.metrics.up.set(1);
        shutdown.cancelled().await;
        self.metrics.up.set(0);
        self.metrics.ready.set(0);
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// Starts a chain's tasks: its follower, scanner, submitter and witnesses.
    fn spawn_chain(self: &Arc<Self>, id: &ChainId) {
        let (follower, submitter, stop) = {
            let mut chains = self.chains.write().unwrap_or_else(|e| e.into_inner());
            let Some(r) = chains.get_mut(id) else {
                return;
            };
            let (follower, follow) = follower(
                id.clone(),
                r.chain.clone(),
                self.options.trust,
                self.metrics.clone(),
                r.stop.clone(),
            );
            let (submitter, control) = SubmitterHandle::new();
            r.follower = Some(follower.clone());
            r.submitter = Some(submitter.clone());
            self.tasks.spawn(follow);
            (follower, (submitter, control), r.stop.clone())
        };
        let Some((witnesses, endpoints)) = self.running(id, |r| {
            let w: Vec<String> = r.chain.witnesses.iter().map(|(e, _)| e.clone()).collect();
            (w, r.chain.endpoints.clone())
        }) else {
            return;
        };
        self.metrics.chain_known(id, &endpoints);
        self.tasks.spawn(
            self.clone()
                .scan_chain(id.clone(), follower.clone(), stop.clone()),
        );
        let (submitter, control) = submitter;
        self.tasks.spawn(
            self.clone()
                .submit_to(id.clone(), submitter, control, stop.clone()),
        );
        for endpoint in witnesses {
            self.tasks.spawn(self.clone().witness(
                id.clone(),
                endpoint,
                follower.clone(),
                stop.clone(),
            ));
        }
    }

    fn running<T>(&self, id: &ChainId, f: impl FnOnce(&Running) -> T) -> Option<T> {
        self.chains
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .map(f)
    }

    /// The chains relayed, in order.
    pub fn chain_ids(&self) -> Vec<ChainId> {
        self.chains
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// A chain's adapter and key.
    pub fn chain(&self, id: &ChainId) -> Option<Chain> {
        self.running(id, |r| r.chain.clone())
    }

    /// The handle of a chain's follower (none before the engine runs).
    pub fn follower(&self, id: &ChainId) -> Option<FollowerHandle> {
        self.running(id, |r| r.follower.clone()).flatten()
    }

    /// The handle of a destination's submitter (none before the engine runs).
    pub(super) fn submitter(&self, id: &ChainId) -> Option<SubmitterHandle> {
        self.running(id, |r| r.submitter.clone()).flatten()
    }

    /// Starts relaying to and from a chain while running; refused when it is already relayed.
    pub fn add_chain(self: &Arc<Self>, id: ChainId, chain: Chain) -> Result<(), AlreadyRelayed> {
        {
            let mut chains = self.chains.write().unwrap_or_else(|e| e.into_inner());
            if chains.contains_key(&id) {
                return Err(AlreadyRelayed(id));
            }
            chains.insert(id.clone(), Running::new(chain, self.stop.child_token()));
        }
        if !self.stop.is_cancelled() {
            self.spawn_chain(&id);
        }
        tracing::info!(chain = %id, "relaying to and from a new chain");
        Ok(())
    }

    /// Stops relaying to and from a chain; its queued jobs stay (they go on
    /// if the chain comes back). Its tasks stop with their state. Returns
    /// whether it was relayed.
    pub fn remove_chain(&self, id: &ChainId) -> bool {
        let removed = self
            .chains
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        match removed {
            Some(r) => {
                r.stop.cancel();
                tracing::info!(chain = %id, "stopped relaying a chain");
                true
            }
            None => false,
        }
    }

    /// What each follower has done, as each last published it.
    pub fn follow_states(&self) -> BTreeMap<ChainId, FollowState> {
        self.chains
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|(id, r)| r.follower.as_ref().map(|f| (id.clone(), f.state())))
            .collect()
    }

    pub(super) fn is_frozen(&self, chain: &ChainId) -> bool {
        self.follower(chain).is_some_and(|f| f.is_frozen())
    }

    /// The height of the highest header the follower verified.
    pub fn latest_verified(&self, chain: &ChainId) -> Option<u64> {
        self.follower(chain).and_then(|f| f.latest())
    }

    /// The highest verified header of a chain.
    pub(super) async fn latest_header(&self, chain: &ChainId) -> Option<(u64, AnyHeader)> {
        self.follower(chain)?.latest_header().await
    }

    /// Wakes every submitter (after jobs were queued or put back by hand).
    pub fn wake_submitters(&self) {
        for r in self
            .chains
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            if let Some(s) = &r.submitter {
                s.wake();
            }
        }
    }

    /// Whether this relayer carries a channel: both chains relayed, the app
    /// served by both, and the path configured.
    pub(super) fn serves(&self, channel: &ChannelId) -> bool {
        let chains = self.chains.read().unwrap_or_else(|e| e.into_inner());
        let has_app = |c: &ChainId| {
            chains
                .get(c)
                .is_some_and(|r| r.chain.apps.contains(&channel.app))
        };
        has_app(&channel.source) && has_app(&channel.destination) && self.paths.allows(channel)
    }

    /// Hands a control message to a destination's submitter; dropped when it
    /// is not running (the refresher asks again, a removed chain needs none).
    pub(super) async fn push_control(&self, destination: &ChainId, control: Control) {
        if let Some(s) = self.submitter(destination) {
            s.control(control).await;
        }
    }

    /// Asks submitters to refresh clients whose trusting period is more than
    /// two thirds gone, so that quiet paths do not let clients expire.
    async fn refresh(self: Arc<Self>, stop: CancellationToken) {
        let period = self.options.trust.trusting_period;
        let every = (period / 20).clamp(Duration::from_secs(1), Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            for destination in self.chain_ids() {
                let Some(c) = self.chain(&destination) else {
                    continue;
                };
                let clients = match c.adapter.clients().await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::debug!(chain = %destination, error = %e, "refresh: cannot read clients");
                        continue;
                    }
                };
                for info in clients {
                    let ours = self.latest_verified(&info.chain);
                    if needs_refresh(info.expires_at, now(), period)
                        && ours.is_some_and(|h| h > info.latest_height)
                        && !self.is_frozen(&info.chain)
                    {
                        tracing::info!(host = %destination, client = %info.chain, expires_at = %info.expires_at, "refreshing a client");
                        self.push_control(
                            &destination,
                            Control::Refresh {
                                source: info.chain.clone(),
                            },
                        )
                        .await;
                    }
                }
            }
        }
    }
}

impl Engine {
    /// Every two seconds: what the metrics show of the ledgers and the
    /// queues (clients, backlog, oldest pending, readiness).
    async fn observe(self: Arc<Self>, stop: CancellationToken) {
        loop {
            self.observe_once().await;
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    }

    /// One round of [`Engine::observe`]; returns whether every chain answered.
    pub async fn observe_once(&self) -> bool {
        let m = &self.metrics;
        let mut backlog: BTreeMap<(ChainId, ChainId), i64> = BTreeMap::new();
        let lanes = match self.queue.backlog().await {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(error = %e, "observe: cannot read the backlog");
                BTreeMap::new()
            }
        };
        for (lane, n) in &lanes {
            *backlog
                .entry((
                    lane.channel.source.clone(),
                    lane.channel.destination.clone(),
                ))
                .or_default() += i64::try_from(*n).unwrap_or(i64::MAX);
        }
        let ids = self.chain_ids();
        for s in &ids {
            for d in &ids {
                if s != d {
                    let n = backlog.get(&(s.clone(), d.clone())).copied().unwrap_or(0);
                    m.backlog
                        .with_label_values(&[s.as_str(), d.as_str()])
                        .set(n);
                }
            }
        }
        let oldest = self.metrics.samples.oldest_in_flight();
        let now_ns = now().unix_nanos();
        // When each path's oldest packet was committed, one request per source.
        let mut committed = BTreeMap::new();
        for s in &ids {
            let heights: Vec<u64> = oldest
                .iter()
                .filter(|((src, _), _)| src == s)
                .map(|(_, h)| *h)
                .collect();
            if let (false, Some(f)) = (heights.is_empty(), self.follower(s)) {
                committed.insert(s.clone(), f.committed_at(heights).await);
            }
        }
        for s in &ids {
            for d in &ids {
                if s == d {
                    continue;
                }
                let age = oldest
                    .get(&(s.clone(), d.clone()))
                    .and_then(|h| committed.get(s).and_then(|c| c.get(h)).copied())
                    .map_or(0.0, |t| now_ns.saturating_sub(t.unix_nanos()) as f64 / 1e9);
                m.oldest_pending
                    .with_label_values(&[s.as_str(), d.as_str()])
                    .set(age);
            }
        }
        m.in_flight
            .set(i64::try_from(self.queue.in_flight()).unwrap_or(i64::MAX));
        if let Ok(parked) = self.queue.parked().await {
            m.parked
                .set(i64::try_from(parked.len()).unwrap_or(i64::MAX));
        }
        match self.fleet.status().await {
            Some(fleet) => {
                let count = |kind: &str| {
                    fleet
                        .members
                        .iter()
                        .filter(|mb| mb.instance == fleet.instance)
                        .flat_map(|mb| &mb.leases)
                        .filter(|l| l.split(':').next() == Some(kind))
                        .count()
                };
                for kind in ["lane", "scanner", "clearer"] {
                    m.leases_held
                        .with_label_values(&[kind])
                        .set(i64::try_from(count(kind)).unwrap_or(i64::MAX));
                }
                m.fleet_members
                    .set(i64::try_from(fleet.members.len()).unwrap_or(i64::MAX));
            }
            None => {
                // The embedded coordinator holds every lease there is.
                m.leases_held
                    .with_label_values(&["lane"])
                    .set(i64::try_from(lanes.len()).unwrap_or(i64::MAX));
                m.leases_held
                    .with_label_values(&["scanner"])
                    .set(i64::try_from(ids.len()).unwrap_or(i64::MAX));
                m.leases_held.with_label_values(&["clearer"]).set(1);
            }
        }
        let coordinated = self.fleet.unavailable().is_none();
        let mut reachable = true;
        for host in &ids {
            let Some(c) = self.chain(host) else { continue };
            match c.adapter.clients().await {
                Ok(clients) => {
                    for info in clients {
                        let labels = [host.as_str(), info.chain.as_str()];
                        let h = i64::try_from(info.latest_height).unwrap_or(i64::MAX);
                        m.client_height.with_label_values(&labels).set(h);
                        if let Some(ours) = self.latest_verified(&info.chain) {
                            let lag = i64::try_from(ours.saturating_sub(info.latest_height))
                                .unwrap_or(i64::MAX);
                            m.client_lag.with_label_values(&labels).set(lag);
                        }
                        let left = info.expires_at.unix_nanos() as f64 / 1e9 - now_ns as f64 / 1e9;
                        m.client_expiry.with_label_values(&labels).set(left);
                        m.client_frozen
                            .with_label_values(&labels)
                            .set(i64::from(info.frozen.is_some()));
                    }
                }
                Err(e) => {
                    reachable = false;
                    tracing::debug!(chain = %host, error = %e, "observe: cannot read clients");
                }
            }
        }
        m.ready.set(i64::from(
            reachable && coordinated && !self.stop.is_cancelled(),
        ));
        reachable && coordinated
    }
}

/// Whether a client expiring at `expires_at` is past two thirds of its trusting period.
pub fn needs_refresh(expires_at: Timestamp, now: Timestamp, trusting_period: Duration) -> bool {
    now.saturating_add(trusting_period * 2 / 3) >= expires_at
}

pub(super) fn same_set(a: Option<AnyHeader>, b: Option<AnyHeader>) -> bool {
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

pub(super) fn header_time(h: &AnyHeader) -> Timestamp {
    h.summary().map(|s| s.time).unwrap_or_default()
}

/// The channels of a path set: every ordered pair of chains, for each app.
pub fn all_channels(chains: &[ChainId], apps: &[App]) -> Vec<ChannelId> {
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

/// Chains named in a set of paths.
pub fn path_chains(paths: &Paths) -> BTreeSet<ChainId> {
    paths
        .0
        .iter()
        .flat_map(|p| [p.source.clone(), p.destination.clone()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_after_two_thirds_of_the_trusting_period() {
        let period = Duration::from_secs(300);
        let t0 = Timestamp::from_unix_nanos(1_000_000_000_000);
        let expires = t0.saturating_add(period);
        assert!(!needs_refresh(expires, t0, period));
        assert!(!needs_refresh(
            expires,
            t0.saturating_add(Duration::from_secs(99)),
            period
        ));
        assert!(needs_refresh(
            expires,
            t0.saturating_add(Duration::from_secs(100)),
            period
        ));
        assert!(needs_refresh(
            expires,
            t0.saturating_add(Duration::from_secs(400)),
            period
        ));
    }

    fn chain(s: &str) -> ChainId {
        ChainId::new(s).expect("chain id")
    }

    #[test]
    fn paths_limit_apps_and_batches() {
        let all = Paths::default();
        let ch = ChannelId {
            source: chain("a-1"),
            destination: chain("b-1"),
            app: App::Cargo,
        };
        assert!(all.allows(&ch));
        assert_eq!(all.batch_max(&ch.source, &ch.destination, 7), 7);
        let some = Paths(vec![PathPolicy {
            source: chain("a-1"),
            destination: chain("b-1"),
            apps: vec![App::Payment],
            batch_max: 3,
        }]);
        assert!(!some.allows(&ch));
        assert!(some.allows(&ChannelId {
            app: App::Payment,
            ..ch.clone()
        }));
        assert_eq!(some.batch_max(&ch.source, &ch.destination, 7), 3);
        assert_eq!(some.batch_max(&ch.destination, &ch.source, 7), 0);
    }
}
