//! The Redis coordinator of a relayer fleet: several `portrelay start`
//! processes share the work through one Redis.
//!
//! - Leases (`SET NX PX`, a fencing token from `INCR`; renew, release and
//!   checkpoint writes are Lua scripts that compare the holder's value) cover
//!   each lane, each source chain's scanner and the clearer. Each member
//!   takes its fair share (leases of a kind over live members); a lease not
//!   renewed in time cancels its work at once.
//! - Each lane's jobs sit on a stream with one consumer group: the lane's
//!   owner reads with `XREADGROUP` on a connection of its own (the read
//!   blocks), acknowledges only after the destination confirmed, and on
//!   taking a lane over claims what the last owner left pending
//!   (`XAUTOCLAIM`). A job that keeps failing goes to the parked stream with
//!   its reason.
//! - A job's key (from source, destination, app, sequence and kind) is set
//!   with the `XADD` in one script, so a job is never queued twice.
//! - Registered adapters live in a hash with a version counter that every
//!   member polls; heartbeats (keys with an expiry) give membership.
//! - Each job whose try failed has a record (a hash, overwritten on each
//!   failure, expiring an hour after the last one; a parked job's stays
//!   while it is parked) and a place in a sorted set of the latest failures,
//!   trimmed to `FAILING_KEPT`; so any member's trace shows the member
//!   that tried a job, how often, the last error and when.
//!
//! Safety does not rest here: the destinations' receipts refuse a repeat
//! delivery, and a member that lost Redis state (or a lease while paused)
//! costs time, never a packet.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use light_clients::{ChainId, Timestamp};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::{StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::coordinator::lanes::{fair_share, plan_take, stepped_back};
use super::coordinator::HandBack;
use super::coordinator::{
    bounded_reason, AdapterRecord, CoordinatorError, FailingJob, FleetMember, FleetStatus,
    FleetView, Job, JobId, JobKind, JobQueue, JobRecord, JobState, Lane, Lease, LeaseName, Leases,
    Parked, PathMax, RelayerStore, Requeue, Serves, Stall, FAILING_SHOWN,
};
use crate::config::{redact, RedisConfig};
use crate::metrics::Metrics;

/// A job key's value once the destination confirmed the job.
const DONE: &str = "done";
/// What a parked job's id key holds (no expiry): the job stays known, so
/// neither the scanner nor the clearer queues it again behind the park;
/// only a retry of the parked jobs forgets it.
const PARKED: &str = "parked";
/// How long a done job's key stays (ms): long enough for the scanner and
/// the clearer, which see the same events at different times, to agree.
/// At 6,000 packets per second that is about 720,000 small keys.
const DONE_MS: u64 = 60_000;

/// How long a job's record of failed tries stays after its last failure
/// (ms): a job failing now is tried again well within it, and a record left
/// behind (its job delivered through another entry) goes by itself.
const RECORD_MS: u64 = 3_600_000;
/// The latest failures the sorted set keeps (their records are read by key,
/// so an older one still shows in a trace).
const FAILING_KEPT: isize = 1024;

/// Most jobs queued in one pipelined round trip.
const ENQUEUE_CHUNK: usize = 256;

/// The consumer group of every lane stream.
const GROUP: &str = "relayers";
/// Most entries one stream read or claim returns.
const READ_COUNT: usize = 512;
/// How long a blocking stream read waits for new entries, in milliseconds:
/// short enough that newly acquired lanes join the read soon.
const BLOCK_MS: usize = 500;

/// Takes a lease if nobody holds it: a new fencing token, the lease's value
/// `instance:token` with the lease time. Returns the token, or 0 when held.
const ACQUIRE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. t, 'PX', ARGV[2])
return t
";

/// Extends a lease still held under the caller's value: 1; expired and
/// free: 0; held by another member (a newer token): -1.
const RENEW: &str = r"
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if v then return -1 end
return 0
";

/// Gives a lease up if the caller still holds it.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Writes a checkpoint only under the scanner lease the caller holds: the
/// fencing check. Returns 1 when written, 0 when refused.
const CHECKPOINT: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
";

/// Queues a job unless its id is known: the id's key and the stream entry
/// are written together, so no job is queued twice. Returns 0 (known), 1
/// (queued) or 2 (queued on a lane never seen before).
const ENQUEUE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local e = redis.call('XADD', KEYS[2], '*', 'job', ARGV[1])
redis.call('SET', KEYS[1], e)
return 1 + redis.call('SADD', KEYS[3], ARGV[2])
";

/// Records that the caller (`ARGV[1]`) could not progress on a lane: when
/// the lane first stalled (kept), who tried; the record lives `ARGV[2]` ms
/// after the last stall. Returns the milliseconds since the first stall (by
/// Redis's clock, one clock for the fleet), then the members that tried.
const STALL: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSETNX', KEYS[1], 'since', now)
redis.call('HSET', KEYS[1], 'tried:' .. ARGV[1], now)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local since = tonumber(redis.call('HGET', KEYS[1], 'since')) or now
local out = {tostring(math.max(0, now - since))}
for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(k, 1, 6) == 'tried:' then table.insert(out, string.sub(k, 7)) end
end
return out
";

/// How long a member that stepped back from a stalled lane leaves it to
/// the others, in lease times: long enough for another member's round
/// (every third of a lease) to take it and try.
const STEP_BACK_LEASES: u32 = 3;

/// A lease this member holds.
#[derive(Debug)]
struct Held {
    fence: u64,
    /// `instance:fence`, what the scripts compare.
    value: String,
    stop: CancellationToken,
    /// When the last renewal was sent: the lease runs out a lease time later.
    renewed: Instant,
}

/// A job taken from a lane stream.
#[derive(Debug, Clone)]
struct Entry {
    stream: String,
    /// The stream entry id.
    entry: String,
    job: Job,
    /// Whether the job may have a record of failed tries (this member wrote
    /// one, or the entry was claimed from another member): its completion
    /// removes the record. Fresh entries have none, so a completion costs
    /// no extra command.
    recorded: bool,
}

#[derive(Debug, Default)]
struct State {
    /// Scanner and clearer leases the engine asked about.
    wanted: BTreeSet<LeaseName>,
    /// Lanes this member cannot carry, as last seen (warned of once each).
    foreign: BTreeSet<LeaseName>,
    held: BTreeMap<LeaseName, Held>,
    /// Lapsed (not renewed in time; their work was stopped): renewed again
    /// if Redis still shows them ours, else forgotten.
    lapsed: BTreeMap<LeaseName, Held>,
    /// Jobs read from the streams of the lanes held, by sequence.
    queues: BTreeMap<Lane, BTreeMap<u64, Entry>>,
    /// Jobs taken and not yet settled.
    flying: BTreeMap<JobId, Entry>,
    /// Why Redis cannot be used now.
    unavailable: Option<String>,
    /// Lanes with a stall record this member knows of (it stalled on them,
    /// or took them over with one): forgotten in Redis once they progress.
    stalls: BTreeSet<Lane>,
}

/// A heartbeat as stored.
#[derive(Debug, Serialize, Deserialize)]
struct Heartbeat {
    instance: String,
    api: Option<String>,
    leases: Vec<String>,
}

/// The Redis coordinator; cheap to clone (the tasks share it).
#[derive(Debug, Clone)]
pub struct RedisCoordinator {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    /// Connected on first use, so a relayer starts while Redis is away.
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    config: RedisConfig,
    /// This member's API address, shown in its heartbeat.
    api: Option<String>,
    metrics: Arc<Metrics>,
    state: Mutex<State>,
    /// Runs a lease round now (a new lane or lease wanted), not at the next tick.
    wake: tokio::sync::Notify,
    /// Bound on one command (and on connecting): a third of the lease at most,
    /// so a renewal that hangs still fails before the lease runs out.
    op_timeout: Duration,
    acquire: redis::Script,
    renew: redis::Script,
    release: redis::Script,
    checkpoint: redis::Script,
    enqueue: redis::Script,
    stall: redis::Script,
    /// Which lanes this member can carry (none: not told, every lane).
    serves: Mutex<Option<Serves>>,
}

fn store<E: std::fmt::Display>(e: E) -> CoordinatorError {
    CoordinatorError::Store(e.to_string())
}

/// Now, in Unix milliseconds (what a record stores).
fn now_ms() -> u64 {
    crate::relay::engine::now().unix_nanos() / 1_000_000
}

fn lane_kind(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Packet => "packet",
        JobKind::Ack => "ack",
    }
}

fn lane_of(name: &LeaseName) -> Option<&Lane> {
    match name {
        LeaseName::Lane { lane } => Some(lane),
        _ => None,
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("config", &self.config)
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl RedisCoordinator {
    /// A coordinator over `config`'s Redis; nothing is contacted until the
    /// tasks start or a call needs it.
    pub fn new(
        config: RedisConfig,
        api: Option<String>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, CoordinatorError> {
        if config.url.starts_with("rediss://") {
            // One crypto provider for rustls (ring); a second install is harmless.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| store(format!("{}: {e}", redact(&config.url))))?;
        let op_timeout =
            (config.lease / 3).clamp(Duration::from_millis(100), Duration::from_secs(2));
        Ok(RedisCoordinator {
            inner: Arc::new(Inner {
                client,
                conn: tokio::sync::Mutex::new(None),
                config,
                api,
                metrics,
                state: Mutex::new(State::default()),
                wake: tokio::sync::Notify::new(),
                op_timeout,
                acquire: redis::Script::new(ACQUIRE),
                renew: redis::Script::new(RENEW),
                release: redis::Script::new(RELEASE),
                checkpoint: redis::Script::new(CHECKPOINT),
                enqueue: redis::Script::new(ENQUEUE),
                stall: redis::Script::new(STALL),
                serves: Mutex::new(None),
            }),
        })
    }

    /// This member's instance name.
    pub fn instance(&self) -> &str {
        &self.inner.config.instance
    }

    /// One round of lease keeping (heartbeat, renewals, acquisitions), as the
    /// lease task runs it every third of the lease time; for tests.
    pub async fn tick(&self) -> bool {
        self.inner.tick().await
    }

    /// Reads once from the held lanes' streams (what the reader task does); for tests.
    pub async fn read_once(&self) -> Result<usize, CoordinatorError> {
        let mut conn = self.inner.reader_conn().await?;
        self.inner.read(&mut conn).await
    }

    /// Gives up every lease and the heartbeat (at shutdown, so others take over at once).
    pub async fn leave(&self) {
        self.inner.leave().await
    }
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain collections behind; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.config.namespace)
    }

    fn lease_key(&self, name: &LeaseName) -> String {
        self.key(&format!("lease:{name}"))
    }

    fn fence_key(&self, name: &LeaseName) -> String {
        self.key(&format!("fence:{name}"))
    }

    fn stream_key(&self, lane: &Lane) -> String {
        let c = &lane.channel;
        self.key(&format!(
            "stream:{}:{}:{}:{}",
            c.source,
            c.destination,
            c.app,
            lane_kind(lane.kind)
        ))
    }

    fn job_key(&self, id: &JobId) -> String {
        let c = &id.channel;
        self.key(&format!(
            "job:{}:{}:{}:{}:{}",
            c.source,
            c.destination,
            c.app,
            id.sequence,
            lane_kind(id.kind)
        ))
    }

    /// A lane's stall record: `since`, and `tried:<instance>` per member.
    fn stall_key(&self, lane: &Lane) -> String {
        self.key(&format!("stall:{}", LeaseName::Lane { lane: lane.clone() }))
    }

    /// Who stepped back from a lane last (expires after the while).
    fn step_back_key(&self, name: &LeaseName) -> String {
        self.key(&format!("stepback:{name}"))
    }

    /// The live members' names, this one included.
    async fn live_members(&self) -> Result<BTreeSet<String>, CoordinatorError> {
        let names: Vec<String> = self
            .run(redis::cmd("SMEMBERS").arg(self.key("members")))
            .await?;
        let mut live: BTreeSet<String> = self
            .beats(&names)
            .await?
            .into_iter()
            .map(|b| b.instance)
            .collect();
        live.insert(self.config.instance.clone());
        Ok(live)
    }

    fn record_key(&self, id: &JobId) -> String {
        let c = &id.channel;
        self.key(&format!(
            "record:{}:{}:{}:{}:{}",
            c.source,
            c.destination,
            c.app,
            id.sequence,
            lane_kind(id.kind)
        ))
    }

    fn member_key(&self, instance: &str) -> String {
        self.key(&format!("member:{instance}"))
    }

    fn lease_ms(&self) -> u64 {
        u64::try_from(self.config.lease.as_millis()).unwrap_or(u64::MAX)
    }

    fn value(&self, fence: u64) -> String {
        format!("{}:{fence}", self.config.instance)
    }

    /// The shared connection; made on first use and after it was dropped.
    async fn conn(&self) -> Result<ConnectionManager, CoordinatorError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(self.op_timeout)
            .set_response_timeout(self.op_timeout)
            .set_number_of_retries(1);
        let made = tokio::time::timeout(
            self.op_timeout * 2,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await;
        match made {
            Ok(Ok(c)) => {
                *slot = Some(c.clone());
                Ok(c)
            }
            Ok(Err(e)) => Err(self.down(format!("connecting: {e}"))),
            Err(_) => Err(self.down("connecting: timed out")),
        }
    }

    /// The reader's own connection: a blocking read must not hold up the
    /// commands of the other tasks.
    async fn reader_conn(&self) -> Result<MultiplexedConnection, CoordinatorError> {
        let wait = Duration::from_millis(BLOCK_MS as u64) + self.op_timeout * 2;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(self.op_timeout)
            .set_response_timeout(wait);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| self.down(format!("connecting: {e}")))
    }

    /// Records that Redis failed; the error to return.
    fn down(&self, reason: impl std::fmt::Display) -> CoordinatorError {
        let reason = format!("redis {}: {reason}", redact(&self.config.url));
        let mut st = self.state();
        if st.unavailable.is_none() {
            tracing::warn!(%reason, "coordinator: Redis is away; no new work until it answers");
        }
        st.unavailable = Some(reason.clone());
        self.metrics.coordinator_up.set(0);
        CoordinatorError::Store(reason)
    }

    fn up(&self) {
        let mut st = self.state();
        if st.unavailable.take().is_some() {
            tracing::info!("coordinator: Redis answers again");
        }
        self.metrics.coordinator_up.set(1);
    }

    /// A failed command: a broken connection is dropped (the next call
    /// connects afresh), and Redis is marked away.
    async fn failed(&self, e: redis::RedisError) -> CoordinatorError {
        if e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
        {
            *self.conn.lock().await = None;
        }
        self.down(e)
    }

    /// Runs a command on the shared connection; failures mark Redis away.
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, CoordinatorError> {
        let mut c = self.conn().await?;
        match cmd.query_async(&mut c).await {
            Ok(v) => Ok(v),
            Err(e) => Err(self.failed(e).await),
        }
    }

    async fn pipe<T: redis::FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
    ) -> Result<T, CoordinatorError> {
        let mut c = self.conn().await?;
        match pipe.query_async(&mut c).await {
            Ok(v) => Ok(v),
            Err(e) => Err(self.failed(e).await),
        }
    }

    async fn script<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, CoordinatorError> {
        let mut c = self.conn().await?;
        match invocation.invoke_async(&mut c).await {
            Ok(v) => Ok(v),
            Err(e) => Err(self.failed(e).await),
        }
    }

    /// Stops a lease's work and forgets it (and a lane's local queue).
    fn lose(&self, st: &mut State, name: &LeaseName, why: &str) {
        if let Some(h) = st.held.remove(name) {
            h.stop.cancel();
            self.metrics
                .leases_lost
                .with_label_values(&[name.kind()])
                .inc();
            tracing::warn!(lease = %name, fence = h.fence, why, "lease lost; its work stops");
        }
        if let Some(h) = st.lapsed.remove(name) {
            h.stop.cancel();
        }
        if let Some(lane) = lane_of(name) {
            st.queues.remove(lane);
        }
    }

    /// One round: lapse what was not renewed in time, heartbeat, renew,
    /// take a fair share of free leases, give up a surplus, reclaim strays.
    /// Returns whether Redis answered.
    async fn tick(&self) -> bool {
        self.lapse_expired();
        match self.tick_redis().await {
            Ok(()) => {
                self.up();
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "coordinator round");
                false
            }
        }
    }

    /// A lease whose renewal did not get through within the lease time stops
    /// its work now: another member may hold it already.
    fn lapse_expired(&self) {
        let now = Instant::now();
        let mut st = self.state();
        let expired: Vec<LeaseName> = st
            .held
            .iter()
            .filter(|(_, h)| now >= h.renewed + self.config.lease)
            .map(|(n, _)| n.clone())
            .collect();
        for name in expired {
            if let Some(h) = st.held.remove(&name) {
                h.stop.cancel();
                self.metrics
                    .leases_lost
                    .with_label_values(&[name.kind()])
                    .inc();
                tracing::warn!(lease = %name, fence = h.fence, "lease not renewed in time; its work stops");
                if let Some(lane) = lane_of(&name) {
                    st.queues.remove(lane);
                }
                st.lapsed.insert(name, h);
            }
        }
    }

    async fn tick_redis(&self) -> Result<(), CoordinatorError> {
        let members = self.heartbeat().await?;
        self.renew_all().await?;
        self.acquire_share(members).await?;
        self.reclaim_strays().await
    }

    /// Writes this member's heartbeat; returns how many members are live.
    async fn heartbeat(&self) -> Result<usize, CoordinatorError> {
        let leases: Vec<String> = self.state().held.keys().map(ToString::to_string).collect();
        let beat = Heartbeat {
            instance: self.config.instance.clone(),
            api: self.api.clone(),
            leases,
        };
        let json = serde_json::to_string(&beat).map_err(store)?;
        let mut p = redis::pipe();
        p.cmd("SET")
            .arg(self.member_key(&self.config.instance))
            .arg(json)
            .arg("PX")
            .arg(self.lease_ms())
            .ignore()
            .cmd("SADD")
            .arg(self.key("members"))
            .arg(&self.config.instance)
            .ignore()
            .cmd("SMEMBERS")
            .arg(self.key("members"));
        let (names,): (Vec<String>,) = self.pipe(&p).await?;
        let beats = self.beats(&names).await?;
        let live = beats.len().max(1);
        self.metrics
            .fleet_members
            .set(i64::try_from(live).unwrap_or(i64::MAX));
        Ok(live)
    }

    /// The live heartbeats of `names`; names whose heartbeat expired leave the set.
    async fn beats(&self, names: &[String]) -> Result<Vec<Heartbeat>, CoordinatorError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = names.iter().map(|n| self.member_key(n)).collect();
        let values: Vec<Option<String>> = self.run(redis::cmd("MGET").arg(&keys)).await?;
        let mut out = Vec::new();
        let mut gone = Vec::new();
        for (name, v) in names.iter().zip(values) {
            match v.and_then(|v| serde_json::from_str::<Heartbeat>(&v).ok()) {
                Some(b) => out.push(b),
                None => gone.push(name.clone()),
            }
        }
        if !gone.is_empty() {
            self.run::<()>(redis::cmd("SREM").arg(self.key("members")).arg(&gone))
                .await?;
        }
        Ok(out)
    }

    async fn renew_all(&self) -> Result<(), CoordinatorError> {
        let leases: Vec<(LeaseName, String, bool)> = {
            let st = self.state();
            st.held
                .iter()
                .map(|(n, h)| (n.clone(), h.value.clone(), false))
                .chain(
                    st.lapsed
                        .iter()
                        .map(|(n, h)| (n.clone(), h.value.clone(), true)),
                )
                .collect()
        };
        for (name, value, lapsed) in leases {
            let sent = Instant::now();
            let answer: i64 = self
                .script(
                    self.renew
                        .key(self.lease_key(&name))
                        .arg(&value)
                        .arg(self.lease_ms()),
                )
                .await?;
            let mut st = self.state();
            match answer {
                1 if lapsed => {
                    // Nobody took it meanwhile: ours again, under the same token.
                    if let Some(mut h) = st.lapsed.remove(&name) {
                        h.stop = CancellationToken::new();
                        h.renewed = sent;
                        tracing::info!(lease = %name, fence = h.fence, "lapsed lease renewed: nobody had taken it");
                        st.held.insert(name, h);
                    }
                }
                1 => {
                    if let Some(h) = st.held.get_mut(&name) {
                        h.renewed = sent;
                    }
                }
                -1 => {
                    self.metrics
                        .fencing_refusals
                        .with_label_values(&["renew"])
                        .inc();
                    tracing::warn!(lease = %name, holder = %value, "stale lease renewal refused by the fencing check: another member holds it now");
                    self.lose(&mut st, &name, "taken over by another member");
                }
                _ => {
                    self.lose(&mut st, &name, "expired in Redis");
                }
            }
        }
        Ok(())
    }

    /// Takes free leases up to this member's share of each kind (lanes,
    /// scanners, the clearer) and gives up the idle ones beyond it (see
    /// `lanes::fair_share`), so work spreads over the members as they join.
    async fn acquire_share(&self, members: usize) -> Result<(), CoordinatorError> {
        let lanes: Vec<String> = self
            .run(redis::cmd("SMEMBERS").arg(self.key("lanes")))
            .await?;
        let mut lanes: Vec<LeaseName> = lanes
            .iter()
            .filter_map(|l| serde_json::from_str::<Lane>(l).ok())
            .map(|lane| LeaseName::Lane { lane })
            .collect();
        lanes.sort();
        // Lanes a member stepped back from: the others stand in for it
        // beyond their share; it leaves them alone for the while.
        let markers: BTreeMap<LeaseName, String> = if lanes.is_empty() {
            BTreeMap::new()
        } else {
            let keys: Vec<String> = lanes.iter().map(|n| self.step_back_key(n)).collect();
            let who: Vec<Option<String>> = self.run(redis::cmd("MGET").arg(&keys)).await?;
            lanes
                .iter()
                .cloned()
                .zip(who)
                .filter_map(|(n, w)| w.map(|w| (n, w)))
                .collect()
        };
        let lanes = self.leave_foreign_lanes(lanes, &markers).await?;
        let (lanes, stand_in) = stepped_back(&lanes, &markers, &self.config.instance);
        for name in &stand_in {
            if !self.state().held.contains_key(name) && self.try_acquire(name).await? {
                tracing::info!(lease = %name, stepped_back = %markers.get(name).map_or("", String::as_str), "standing in on a lane another member stepped back from");
            }
        }
        let wanted: Vec<LeaseName> = self.state().wanted.iter().cloned().collect();
        let (scanners, others): (Vec<LeaseName>, Vec<LeaseName>) = wanted
            .into_iter()
            .partition(|n| matches!(n, LeaseName::Scanner { .. }));
        for group in [lanes, scanners, others] {
            let decision = {
                let st = self.state();
                let held: BTreeSet<LeaseName> = st.held.keys().cloned().collect();
                // A lane with jobs in flight is not given up.
                let busy: BTreeSet<LeaseName> = st
                    .flying
                    .values()
                    .map(|e| LeaseName::Lane { lane: e.job.lane() })
                    .collect();
                fair_share(&group, members, &self.config.instance, &held, &busy)
            };
            for name in &decision.release {
                self.release(name).await?;
            }
            let mut have = 0;
            for name in &decision.acquire {
                if have >= decision.want {
                    break;
                }
                if self.state().held.contains_key(name) {
                    continue;
                }
                if self.try_acquire(name).await? {
                    have += 1;
                }
            }
        }
        Ok(())
    }

    /// The lanes of `lanes` this member can carry (see [`Leases::serve`]).
    /// The others it gives up (unless a batch of them is in flight) and
    /// marks stepped back from, refreshing its own mark each round, so that
    /// the members that carry them stand in; a lane another member marked
    /// keeps that mark.
    async fn leave_foreign_lanes(
        &self,
        lanes: Vec<LeaseName>,
        markers: &BTreeMap<LeaseName, String>,
    ) -> Result<Vec<LeaseName>, CoordinatorError> {
        let Some(serves) = self
            .serves
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        else {
            return Ok(lanes);
        };
        let (ours, foreign): (Vec<LeaseName>, Vec<LeaseName>) = lanes
            .into_iter()
            .partition(|n| lane_of(n).is_none_or(|l| serves(&l.channel)));
        let cooldown = self.config.lease.saturating_mul(STEP_BACK_LEASES);
        let cooldown_ms = u64::try_from(cooldown.as_millis()).unwrap_or(u64::MAX);
        for name in &foreign {
            let (held, busy, told) = {
                let mut st = self.state();
                let busy = st
                    .flying
                    .values()
                    .any(|e| lane_of(name).is_some_and(|l| e.job.lane() == *l));
                let told = st.foreign.insert(name.clone());
                (st.held.contains_key(name), busy, told)
            };
            if told {
                tracing::warn!(lease = %name, "a lane this member cannot carry (a chain not relayed here, or the app or path not configured): left to the members that can");
            }
            if held && !busy {
                self.release(name).await?;
            }
            if markers
                .get(name)
                .is_none_or(|who| *who == self.config.instance)
            {
                self.run::<()>(
                    redis::cmd("SET")
                        .arg(self.step_back_key(name))
                        .arg(&self.config.instance)
                        .arg("PX")
                        .arg(cooldown_ms),
                )
                .await?;
            }
        }
        {
            // A lane carried again (its chain added back) is warned of anew if it goes.
            let mut st = self.state();
            st.foreign.retain(|n| foreign.contains(n));
        }
        Ok(ours)
    }

    async fn try_acquire(&self, name: &LeaseName) -> Result<bool, CoordinatorError> {
        let sent = Instant::now();
        let fence: u64 = self
            .script(
                self.acquire
                    .key(self.lease_key(name))
                    .key(self.fence_key(name))
                    .arg(&self.config.instance)
                    .arg(self.lease_ms()),
            )
            .await?;
        if fence == 0 {
            return Ok(false);
        }
        let held = Held {
            fence,
            value: self.value(fence),
            stop: CancellationToken::new(),
            renewed: sent,
        };
        if let Some(lane) = lane_of(name) {
            // The lane's stream and group, and whatever the last owner left pending.
            if let Err(e) = self.take_over(lane).await {
                let _ = self.release_value(name, &held.value).await;
                return Err(e);
            }
        }
        tracing::info!(lease = %name, fence, "lease acquired");
        let mut st = self.state();
        st.lapsed.remove(name);
        st.held.insert(name.clone(), held);
        Ok(true)
    }

    async fn take_over(&self, lane: &Lane) -> Result<(), CoordinatorError> {
        let stream = self.stream_key(lane);
        self.ensure_group(&stream).await?;
        let claimed = self.claim(&stream, 0).await?;
        let stalled: bool = self
            .run(redis::cmd("EXISTS").arg(self.stall_key(lane)))
            .await?;
        let mut st = self.state();
        if stalled {
            st.stalls.insert(lane.clone());
        }
        let q = st.queues.entry(lane.clone()).or_default();
        for e in claimed {
            q.insert(e.job.id().sequence, e);
        }
        Ok(())
    }

    async fn ensure_group(&self, stream: &str) -> Result<(), CoordinatorError> {
        let mut c = self.conn().await?;
        let made: redis::RedisResult<()> = c.xgroup_create_mkstream(stream, GROUP, "0").await;
        match made {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(self.failed(e).await),
        }
    }

    /// Claims the stream's pending entries idle at least `min_idle_ms` for
    /// this member (all of them with 0), in stream order.
    async fn claim(&self, stream: &str, min_idle_ms: u64) -> Result<Vec<Entry>, CoordinatorError> {
        let mut out = Vec::new();
        let mut start = "0-0".to_string();
        loop {
            let mut c = self.conn().await?;
            let reply: redis::RedisResult<StreamAutoClaimReply> = c
                .xautoclaim_options(
                    stream,
                    GROUP,
                    &self.config.instance,
                    min_idle_ms,
                    &start,
                    StreamAutoClaimOptions::default().count(READ_COUNT),
                )
                .await;
            let reply = match reply {
                Ok(r) => r,
                Err(e) => return Err(self.failed(e).await),
            };
            for id in &reply.claimed {
                match self.entry(stream, id) {
                    // Another member's: it may have failed tries on record.
                    Some(e) => out.push(Entry {
                        recorded: true,
                        ..e
                    }),
                    None => self.drop_bad(stream, &id.id).await,
                }
            }
            if reply.next_stream_id == "0-0" || reply.claimed.is_empty() {
                self.restore_attempts(&mut out).await?;
                return Ok(out);
            }
            start = reply.next_stream_id;
        }
    }

    /// Claimed jobs carry on with the attempts their records counted at the
    /// member that had them, so a job refused everywhere is parked after
    /// `max_attempts` across the fleet, not per member.
    async fn restore_attempts(&self, entries: &mut [Entry]) -> Result<(), CoordinatorError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut p = redis::pipe();
        for e in entries.iter() {
            p.cmd("HGET")
                .arg(self.record_key(&e.job.id()))
                .arg("attempts");
        }
        let counted: Vec<Option<u32>> = self.pipe(&p).await?;
        for (e, n) in entries.iter_mut().zip(counted) {
            e.job.attempts = e.job.attempts.max(n.unwrap_or(0));
        }
        Ok(())
    }

    /// Adds to `p` the record of one more failed try of `job` (by this
    /// member, now), and its place among the latest failures.
    fn record_failure(&self, p: &mut redis::Pipeline, job: &Job, reason: &str, parked: bool) {
        let id = job.id();
        let key = self.record_key(&id);
        let now = now_ms();
        p.cmd("HINCRBY").arg(&key).arg("tries").arg(1).ignore();
        p.cmd("HSET")
            .arg(&key)
            .arg("member")
            .arg(&self.config.instance)
            .arg("attempts")
            .arg(job.attempts)
            .arg("error")
            .arg(bounded_reason(reason))
            .arg("at")
            .arg(now)
            .arg("parked")
            .arg(u8::from(parked))
            .ignore();
        p.cmd("HSETNX").arg(&key).arg("since").arg(now).ignore();
        if parked {
            // Kept while parked: the parked stream bounds how many.
            p.cmd("PERSIST").arg(&key).ignore();
        } else {
            p.cmd("PEXPIRE").arg(&key).arg(RECORD_MS).ignore();
        }
        if let Ok(member) = serde_json::to_string(&id) {
            p.cmd("ZADD")
                .arg(self.key("failing"))
                .arg(now)
                .arg(member)
                .ignore();
        }
    }

    /// Adds to `p` the removal of `id`'s record (delivered, or retried afresh).
    fn forget_record(&self, p: &mut redis::Pipeline, id: &JobId) {
        p.cmd("DEL").arg(self.record_key(id)).ignore();
        if let Ok(member) = serde_json::to_string(id) {
            p.cmd("ZREM").arg(self.key("failing")).arg(member).ignore();
        }
    }

    /// A record from its hash's fields; none when there is none (no such hash).
    fn parse_record(fields: &BTreeMap<String, String>) -> Option<JobRecord> {
        let ms = |name: &str| {
            fields
                .get(name)?
                .parse::<u64>()
                .ok()
                .map(|ms| Timestamp::from_unix_nanos(ms.saturating_mul(1_000_000)))
        };
        let last_tried = ms("at")?;
        Some(JobRecord {
            member: fields.get("member").cloned(),
            tries: fields.get("tries")?.parse().ok()?,
            attempts: fields
                .get("attempts")
                .and_then(|a| a.parse().ok())
                .unwrap_or(0),
            last_error: fields.get("error").cloned().unwrap_or_default(),
            last_tried,
            failing_since: ms("since").unwrap_or(last_tried),
            parked: fields.get("parked").is_some_and(|p| p == "1"),
        })
    }

    fn entry(&self, stream: &str, id: &StreamId) -> Option<Entry> {
        let job: String = id.get("job")?;
        let job: Job = serde_json::from_str(&job).ok()?;
        Some(Entry {
            stream: stream.to_string(),
            entry: id.id.clone(),
            job,
            recorded: false,
        })
    }

    /// An entry that is not a job (written by something else): acknowledged
    /// and reported, so it does not come back.
    async fn drop_bad(&self, stream: &str, entry: &str) {
        tracing::error!(stream, entry, "a stream entry that is not a job; dropped");
        let mut p = redis::pipe();
        p.cmd("XACK").arg(stream).arg(GROUP).arg(entry).ignore();
        p.cmd("XDEL").arg(stream).arg(entry).ignore();
        let _ = self.pipe::<()>(&p).await;
    }

    /// Entries delivered to a member after this one took their lane over
    /// (its read was under way) wait in that member's pending list; once
    /// idle for two lease times they are this member's.
    async fn reclaim_strays(&self) -> Result<(), CoordinatorError> {
        let lanes: Vec<Lane> = self.state().queues.keys().cloned().collect();
        let idle = self.lease_ms().saturating_mul(2);
        for lane in lanes {
            let claimed = self.claim(&self.stream_key(&lane), idle).await?;
            self.insert(&lane, claimed);
        }
        Ok(())
    }

    /// Adds entries to a held lane's queue, skipping what is in flight.
    fn insert(&self, lane: &Lane, entries: Vec<Entry>) -> usize {
        let mut st = self.state();
        let State { queues, flying, .. } = &mut *st;
        let Some(q) = queues.get_mut(lane) else {
            // Not ours (any more): the entries stay pending for the lane's owner.
            return 0;
        };
        let mut n = 0;
        for e in entries {
            let id = e.job.id();
            if !flying.contains_key(&id) {
                n += usize::from(q.insert(id.sequence, e).is_none());
            }
        }
        n
    }

    async fn release(&self, name: &LeaseName) -> Result<(), CoordinatorError> {
        let value = match self.state().held.get(name) {
            Some(h) => h.value.clone(),
            None => return Ok(()),
        };
        {
            let mut st = self.state();
            if let Some(h) = st.held.remove(name) {
                h.stop.cancel();
            }
            if let Some(lane) = lane_of(name) {
                st.queues.remove(lane);
            }
        }
        tracing::info!(lease = %name, "lease released (more than this member's share)");
        self.release_value(name, &value).await
    }

    async fn release_value(&self, name: &LeaseName, value: &str) -> Result<(), CoordinatorError> {
        self.script::<i64>(self.release.key(self.lease_key(name)).arg(value))
            .await
            .map(|_| ())
    }

    async fn leave(&self) {
        let held: Vec<(LeaseName, String)> = {
            let mut st = self.state();
            let held = std::mem::take(&mut st.held);
            st.queues.clear();
            held.into_iter()
                .map(|(n, h)| {
                    h.stop.cancel();
                    (n, h.value)
                })
                .collect()
        };
        if self.state().unavailable.is_some() {
            // Redis is away: the leases and the heartbeat expire by themselves.
            return;
        }
        let release = async {
            for (name, value) in held {
                self.release_value(&name, &value).await?;
            }
            self.run::<()>(redis::cmd("DEL").arg(self.member_key(&self.config.instance)))
                .await
        };
        // Bounded: a shutdown must not hang on a Redis that stops answering.
        match tokio::time::timeout(self.config.lease, release).await {
            Ok(Ok(())) => tracing::info!("left the fleet: leases released"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "leaving the fleet; the leases expire by themselves")
            }
            Err(_) => {
                tracing::warn!("leaving the fleet timed out; the leases expire by themselves")
            }
        }
    }

    /// Reads new entries of the held lanes (blocking up to [`BLOCK_MS`]).
    async fn read(&self, conn: &mut MultiplexedConnection) -> Result<usize, CoordinatorError> {
        let lanes: Vec<(String, Lane)> = self
            .state()
            .queues
            .keys()
            .map(|l| (self.stream_key(l), l.clone()))
            .collect();
        if lanes.is_empty() {
            return Ok(0);
        }
        let keys: Vec<&str> = lanes.iter().map(|(k, _)| k.as_str()).collect();
        let ids: Vec<&str> = vec![">"; keys.len()];
        let opts = StreamReadOptions::default()
            .group(GROUP, &self.config.instance)
            .count(READ_COUNT)
            .block(BLOCK_MS);
        let reply: redis::RedisResult<Option<redis::streams::StreamReadReply>> =
            conn.xread_options(&keys, &ids, &opts).await;
        let reply = match reply {
            Ok(r) => r,
            Err(e) if e.code() == Some("NOGROUP") => {
                // Redis lost its data (restarted without persistence): make the
                // groups again; the clearer re-queues from the ledgers.
                tracing::warn!("lane streams lost their consumer group; making them again");
                for (k, _) in &lanes {
                    self.ensure_group(k).await?;
                }
                return Ok(0);
            }
            Err(e) => return Err(self.down(e)),
        };
        let mut n = 0;
        for key in reply.map(|r| r.keys).unwrap_or_default() {
            let Some((_, lane)) = lanes.iter().find(|(k, _)| k == &key.key) else {
                continue;
            };
            let mut entries = Vec::new();
            for id in &key.ids {
                match self.entry(&key.key, id) {
                    Some(e) => entries.push(e),
                    None => self.drop_bad(&key.key, &id.id).await,
                }
            }
            n += self.insert(lane, entries);
        }
        Ok(n)
    }

    /// The lease task: a round every third of the lease time; after a
    /// failure, retries sooner with a capped backoff.
    async fn keep_leases(self: Arc<Self>, stop: CancellationToken) {
        let period = self.config.lease / 3;
        let mut backoff = Duration::from_millis(100);
        loop {
            let pause = if self.tick().await {
                backoff = Duration::from_millis(100);
                period
            } else {
                let p = backoff.min(period);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                p
            };
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
                _ = self.wake.notified() => {}
            }
        }
        self.leave().await;
    }

    /// The reader task: blocking reads on a connection of its own.
    async fn read_streams(self: Arc<Self>, stop: CancellationToken) {
        let mut conn: Option<MultiplexedConnection> = None;
        let mut backoff = Duration::from_millis(100);
        loop {
            if stop.is_cancelled() {
                return;
            }
            if self.state().queues.is_empty() {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
                continue;
            }
            let c = match conn.as_mut() {
                Some(c) => c,
                None => match self.reader_conn().await {
                    Ok(c) => conn.insert(c),
                    Err(_) => {
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                },
            };
            let read = tokio::select! {
                _ = stop.cancelled() => return,
                r = self.read(c) => r,
            };
            match read {
                Ok(_) => backoff = Duration::from_millis(100),
                Err(e) => {
                    tracing::debug!(error = %e, "reading lane streams");
                    conn = None;
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

impl RedisCoordinator {
    /// One pipelined round trip of enqueue scripts.
    async fn enqueue_chunk(&self, jobs: &[Job]) -> Result<Vec<bool>, CoordinatorError> {
        let i = &self.inner;
        let mut p = redis::pipe();
        for job in jobs {
            let json = serde_json::to_string(job).map_err(store)?;
            let lane = job.lane();
            let lane_json = serde_json::to_string(&lane).map_err(store)?;
            // EVAL with the text: a pipeline cannot load a script on NOSCRIPT.
            p.cmd("EVAL")
                .arg(ENQUEUE)
                .arg(3)
                .arg(i.job_key(&job.id()))
                .arg(i.stream_key(&lane))
                .arg(i.key("lanes"))
                .arg(json)
                .arg(lane_json);
        }
        let queued: Vec<i64> = i.pipe(&p).await?;
        if queued.contains(&2) {
            i.wake.notify_one();
        }
        Ok(queued.into_iter().map(|q| q >= 1).collect())
    }
}

impl RedisCoordinator {
    /// Settles failed jobs: back in their lanes (in this member's queue; the
    /// stream entry stays pending), or parked with `reason`.
    async fn hand_back(
        &self,
        jobs: Vec<Job>,
        reason: &str,
        how: HandBack,
    ) -> Result<(), CoordinatorError> {
        let i = &self.inner;
        let mut parked = Vec::new();
        let mut p = redis::pipe();
        let away = {
            let mut st = i.state();
            for mut job in jobs {
                let id = job.id();
                let Some(mut e) = st.flying.remove(&id) else {
                    continue;
                };
                let (attempts, park) = how.apply(job.attempts);
                job.attempts = attempts;
                i.record_failure(&mut p, &job, reason, park);
                e.job = job;
                e.recorded = true;
                if park {
                    parked.push((id, e));
                } else if let Some(q) = st.queues.get_mut(&e.job.lane()) {
                    // Back in its lane, in sequence order.
                    q.insert(id.sequence, e);
                }
                // A lane no longer held: the entry stays pending for its new owner.
            }
            st.unavailable.is_some()
        };
        if parked.is_empty() {
            if away {
                // No record while Redis is away: a try must not wait on it.
                return Ok(());
            }
            p.cmd("ZREMRANGEBYRANK")
                .arg(i.key("failing"))
                .arg(0)
                .arg(-FAILING_KEPT - 1)
                .ignore();
            // The record is for the operators: a failure to write it does
            // not fail the hand-back (Redis is marked away by the call).
            if let Err(e) = i.pipe::<()>(&p).await {
                tracing::debug!(error = %e, "recording failed tries");
            }
            return Ok(());
        }
        p.cmd("ZREMRANGEBYRANK")
            .arg(i.key("failing"))
            .arg(0)
            .arg(-FAILING_KEPT - 1)
            .ignore();
        for (id, e) in &parked {
            let job = serde_json::to_string(&e.job).map_err(store)?;
            p.cmd("XADD")
                .arg(i.key("parked"))
                .arg("*")
                .arg("job")
                .arg(job)
                .arg("reason")
                .arg(reason)
                .ignore();
            p.cmd("XACK")
                .arg(&e.stream)
                .arg(GROUP)
                .arg(&e.entry)
                .ignore();
            p.cmd("XDEL").arg(&e.stream).arg(&e.entry).ignore();
            p.cmd("SET").arg(i.job_key(id)).arg(PARKED).ignore();
        }
        p.atomic();
        i.pipe::<()>(&p).await
    }
}

impl Leases for RedisCoordinator {
    fn serve(&self, serves: Serves) {
        *self.inner.serves.lock().unwrap_or_else(|e| e.into_inner()) = Some(serves);
        self.inner.wake.notify_one();
    }

    fn start(&self, tasks: &TaskTracker, stop: CancellationToken) {
        tasks.spawn(self.inner.clone().keep_leases(stop.clone()));
        tasks.spawn(self.inner.clone().read_streams(stop));
    }

    fn lease(&self, name: &LeaseName) -> Option<Lease> {
        let mut st = self.inner.state();
        if let Some(h) = st.held.get(name) {
            return Some(Lease {
                name: name.clone(),
                fence: h.fence,
                stop: h.stop.clone(),
            });
        }
        if lane_of(name).is_none() && st.wanted.insert(name.clone()) {
            self.inner.wake.notify_one();
        }
        None
    }
}

#[async_trait::async_trait]
impl JobQueue for RedisCoordinator {
    async fn enqueue(&self, job: Job) -> Result<bool, CoordinatorError> {
        let i = &self.inner;
        let id = job.id();
        let lane = job.lane();
        let json = serde_json::to_string(&job).map_err(store)?;
        let lane_json = serde_json::to_string(&lane).map_err(store)?;
        let queued: i64 = i
            .script(
                i.enqueue
                    .key(i.job_key(&id))
                    .key(i.stream_key(&lane))
                    .key(i.key("lanes"))
                    .arg(json)
                    .arg(lane_json),
            )
            .await?;
        if queued == 2 {
            i.wake.notify_one();
        }
        Ok(queued >= 1)
    }

    /// One pipelined round trip for all the jobs (the scanner's block):
    /// each still deduplicated atomically by its own script call.
    async fn enqueue_all(&self, jobs: Vec<Job>) -> Result<Vec<bool>, CoordinatorError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(jobs.len());
        // Bounded round trips: a block of thousands of events must not
        // outlast the command timeout in one pipeline.
        for chunk in jobs.chunks(ENQUEUE_CHUNK) {
            out.extend(self.enqueue_chunk(chunk).await?);
        }
        Ok(out)
    }

    /// Queued, in flight, or confirmed within the last minute.
    async fn knows(&self, id: &JobId) -> Result<bool, CoordinatorError> {
        let i = &self.inner;
        i.run(redis::cmd("EXISTS").arg(i.job_key(id))).await
    }

    async fn take(
        &self,
        target: &ChainId,
        max: usize,
        path_max: &PathMax<'_>,
    ) -> Result<Vec<Job>, CoordinatorError> {
        let mut st = self.inner.state();
        if st.unavailable.is_some() {
            // No new work while Redis is away: it could not be acknowledged.
            return Ok(Vec::new());
        }
        let State { queues, flying, .. } = &mut *st;
        let plan = plan_take(
            queues.iter().map(|(l, q)| (l, q.len())),
            target,
            max,
            path_max,
        );
        let mut out = Vec::new();
        for (lane, n) in plan {
            let Some(jobs) = queues.get_mut(&lane) else {
                continue;
            };
            for _ in 0..n {
                let Some((_, e)) = jobs.pop_first() else {
                    break;
                };
                out.push(e.job.clone());
                flying.insert(e.job.id(), e);
            }
        }
        Ok(out)
    }

    async fn lookup(&self, id: &JobId) -> Result<Option<(JobState, Job)>, CoordinatorError> {
        if let Some(e) = self.inner.state().flying.get(id) {
            return Ok(Some((JobState::InFlight, e.job.clone())));
        }
        if let Some(p) = self.parked().await?.into_iter().find(|p| &p.job.id() == id) {
            return Ok(Some((JobState::Parked { reason: p.reason }, p.job)));
        }
        let i = &self.inner;
        let entry: Option<String> = i.run(redis::cmd("GET").arg(i.job_key(id))).await?;
        let Some(entry) = entry.filter(|e| e != DONE && e != PARKED) else {
            return Ok(None);
        };
        let lane = Lane {
            channel: id.channel.clone(),
            kind: id.kind,
        };
        let stream = i.stream_key(&lane);
        let range: redis::streams::StreamRangeReply = i
            .run(redis::cmd("XRANGE").arg(&stream).arg(&entry).arg(&entry))
            .await?;
        // Queued, or taken by another member (its in-flight jobs are its own).
        Ok(range
            .ids
            .first()
            .and_then(|s| i.entry(&stream, s))
            .map(|e| (JobState::Queued, e.job)))
    }

    fn in_flight(&self) -> usize {
        self.inner.state().flying.len()
    }

    async fn complete(&self, ids: &[JobId]) -> Result<(), CoordinatorError> {
        let i = &self.inner;
        let done: Vec<(JobId, Entry)> = {
            let mut st = i.state();
            ids.iter()
                .filter_map(|id| st.flying.remove(id).map(|e| (id.clone(), e)))
                .collect()
        };
        if done.is_empty() {
            return Ok(());
        }
        // Acknowledged even if the lane changed hands since: the destination
        // confirmed it, so nobody needs to send it again.
        let mut p = redis::pipe();
        for (id, e) in &done {
            p.cmd("XACK")
                .arg(&e.stream)
                .arg(GROUP)
                .arg(&e.entry)
                .ignore();
            p.cmd("XDEL").arg(&e.stream).arg(&e.entry).ignore();
            // Remembered as done for a while, so the scanner or the clearer
            // seeing the event again does not queue a delivery the
            // destination would refuse as a repeat.
            p.cmd("SET")
                .arg(i.job_key(id))
                .arg(DONE)
                .arg("PX")
                .arg(DONE_MS)
                .ignore();
            if e.recorded {
                i.forget_record(&mut p, id);
            }
        }
        i.pipe::<()>(&p).await
    }

    async fn requeue(
        &self,
        jobs: Vec<Job>,
        reason: &str,
        how: Requeue,
    ) -> Result<(), CoordinatorError> {
        self.hand_back(jobs, reason, HandBack::Requeue(how)).await
    }

    async fn park(&self, jobs: Vec<Job>, reason: &str) -> Result<(), CoordinatorError> {
        self.hand_back(jobs, reason, HandBack::Park).await
    }

    async fn parked(&self) -> Result<Vec<Parked>, CoordinatorError> {
        let i = &self.inner;
        let range: redis::streams::StreamRangeReply = i
            .run(redis::cmd("XRANGE").arg(i.key("parked")).arg("-").arg("+"))
            .await?;
        Ok(range
            .ids
            .iter()
            .filter_map(|s| {
                let job: String = s.get("job")?;
                let reason: String = s.get("reason")?;
                Some(Parked {
                    job: serde_json::from_str(&job).ok()?,
                    reason,
                })
            })
            .collect())
    }

    async fn retry_parked(&self) -> Result<usize, CoordinatorError> {
        let i = &self.inner;
        let range: redis::streams::StreamRangeReply = i
            .run(redis::cmd("XRANGE").arg(i.key("parked")).arg("-").arg("+"))
            .await?;
        let mut n = 0;
        for s in &range.ids {
            if let Some(job) = s
                .get::<String>("job")
                .and_then(|j| serde_json::from_str::<Job>(&j).ok())
            {
                // Retried afresh: its failures so far go with its attempts,
                // and its id is forgotten so that it can be queued again.
                let mut p = redis::pipe();
                i.forget_record(&mut p, &job.id());
                p.cmd("DEL").arg(i.job_key(&job.id())).ignore();
                i.pipe::<()>(&p).await?;
                self.enqueue(Job { attempts: 0, ..job }).await?;
                n += 1;
            }
            i.run::<()>(redis::cmd("XDEL").arg(i.key("parked")).arg(&s.id))
                .await?;
        }
        Ok(n)
    }

    async fn backlog(&self) -> Result<BTreeMap<Lane, usize>, CoordinatorError> {
        let i = &self.inner;
        let lanes: Vec<String> = i.run(redis::cmd("SMEMBERS").arg(i.key("lanes"))).await?;
        let lanes: Vec<Lane> = lanes
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if lanes.is_empty() {
            return Ok(BTreeMap::new());
        }
        let mut p = redis::pipe();
        for l in &lanes {
            p.cmd("XLEN").arg(i.stream_key(l));
        }
        let lens: Vec<usize> = i.pipe(&p).await?;
        Ok(lanes.into_iter().zip(lens).collect())
    }

    /// The record is fleet-wide, timed by Redis's clock.
    async fn stalled(&self, lane: &Lane, keep: Duration) -> Result<Stall, CoordinatorError> {
        let i = &self.inner;
        let keep_ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX).max(1);
        let answer: Vec<String> = i
            .script(
                i.stall
                    .key(i.stall_key(lane))
                    .arg(&i.config.instance)
                    .arg(keep_ms),
            )
            .await?;
        i.state().stalls.insert(lane.clone());
        let mut answer = answer.into_iter();
        let since_ms: u64 = answer.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        Ok(Stall {
            since: Duration::from_millis(since_ms),
            tried: answer.collect(),
            live: i.live_members().await?,
        })
    }

    /// Marks the lane as stepped back from by this member for
    /// [`STEP_BACK_LEASES`] lease times, then releases its lease; the next
    /// holder claims its pending jobs.
    async fn step_back(&self, lane: &Lane) -> Result<bool, CoordinatorError> {
        let i = &self.inner;
        let name = LeaseName::Lane { lane: lane.clone() };
        let value = {
            let st = i.state();
            let busy = st.flying.values().any(|e| e.job.lane() == *lane);
            match st.held.get(&name) {
                Some(h) if !busy => h.value.clone(),
                _ => return Ok(false),
            }
        };
        if i.live_members().await?.len() < 2 {
            return Ok(false);
        }
        let cooldown = i.config.lease.saturating_mul(STEP_BACK_LEASES);
        let cooldown_ms = u64::try_from(cooldown.as_millis()).unwrap_or(u64::MAX);
        // Marked before the release, so that no round of this member's takes it back between.
        i.run::<()>(
            redis::cmd("SET")
                .arg(i.step_back_key(&name))
                .arg(&i.config.instance)
                .arg("PX")
                .arg(cooldown_ms),
        )
        .await?;
        {
            let mut st = i.state();
            if let Some(h) = st.held.remove(&name) {
                h.stop.cancel();
            }
            st.queues.remove(lane);
        }
        i.release_value(&name, &value).await?;
        tracing::warn!(lease = %name, for_ms = cooldown_ms, "lane stalled here: its lease given up for a while so that another member can try");
        Ok(true)
    }

    async fn progressed(&self, lanes: &[Lane]) -> Result<(), CoordinatorError> {
        let i = &self.inner;
        let known: Vec<Lane> = {
            let st = i.state();
            lanes
                .iter()
                .filter(|l| st.stalls.contains(*l))
                .cloned()
                .collect()
        };
        if known.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = known.iter().map(|l| i.stall_key(l)).collect();
        // Forgotten here only once deleted there: a record left behind would
        // count a later stall from this one.
        i.run::<()>(redis::cmd("DEL").arg(&keys)).await?;
        let mut st = i.state();
        for lane in &known {
            st.stalls.remove(lane);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl RelayerStore for RedisCoordinator {
    async fn checkpoint(&self, chain: &ChainId) -> Result<Option<u64>, CoordinatorError> {
        let i = &self.inner;
        i.run(redis::cmd("GET").arg(i.key(&format!("checkpoint:{chain}"))))
            .await
    }

    async fn set_checkpoint(
        &self,
        chain: &ChainId,
        next_height: u64,
        lease: &Lease,
    ) -> Result<(), CoordinatorError> {
        let i = &self.inner;
        let written: i64 = i
            .script(
                i.checkpoint
                    .key(i.lease_key(&lease.name))
                    .key(i.key(&format!("checkpoint:{chain}")))
                    .arg(i.value(lease.fence))
                    .arg(next_height),
            )
            .await?;
        if written == 1 {
            Ok(())
        } else {
            Err(CoordinatorError::Fenced {
                lease: lease.name.to_string(),
                fence: lease.fence,
            })
        }
    }

    async fn adapters(&self) -> Result<Vec<AdapterRecord>, CoordinatorError> {
        let i = &self.inner;
        let all: BTreeMap<String, String> =
            i.run(redis::cmd("HGETALL").arg(i.key("adapters"))).await?;
        all.into_iter()
            .map(|(chain, v)| {
                serde_json::from_str(&v).map_err(|e| {
                    CoordinatorError::Store(format!("registered adapter {chain}: {e}"))
                })
            })
            .collect()
    }

    async fn put_adapter(&self, record: &AdapterRecord) -> Result<(), CoordinatorError> {
        let i = &self.inner;
        let json = serde_json::to_string(record).map_err(store)?;
        let mut p = redis::pipe();
        p.atomic()
            .cmd("HSET")
            .arg(i.key("adapters"))
            .arg(record.adapter.chain().chain_id.as_str())
            .arg(json)
            .ignore()
            .cmd("INCR")
            .arg(i.key("adapters:version"))
            .ignore();
        i.pipe::<()>(&p).await
    }

    async fn remove_adapter(&self, chain: &ChainId) -> Result<bool, CoordinatorError> {
        let i = &self.inner;
        let mut p = redis::pipe();
        p.atomic()
            .cmd("HDEL")
            .arg(i.key("adapters"))
            .arg(chain.as_str())
            .cmd("INCR")
            .arg(i.key("adapters:version"))
            .ignore();
        let (removed,): (u64,) = i.pipe(&p).await?;
        Ok(removed > 0)
    }

    async fn adapters_version(&self) -> Result<Option<u64>, CoordinatorError> {
        let i = &self.inner;
        let v: Option<u64> = i
            .run(redis::cmd("GET").arg(i.key("adapters:version")))
            .await?;
        Ok(Some(v.unwrap_or(0)))
    }
}

impl RedisCoordinator {
    /// The latest failed jobs not delivered since, at most [`FAILING_SHOWN`],
    /// each with its lane's holder: read from the sorted set of failures.
    async fn failing(&self) -> Result<Vec<FailingJob>, CoordinatorError> {
        let i = &self.inner;
        // Some of the latest may be delivered since: read a few more.
        let latest: Vec<String> = i
            .run(
                redis::cmd("ZREVRANGE")
                    .arg(i.key("failing"))
                    .arg(0)
                    .arg(FAILING_SHOWN * 4 - 1),
            )
            .await?;
        let ids: Vec<JobId> = latest
            .iter()
            .filter_map(|m| serde_json::from_str(m).ok())
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for id in &ids {
            let lane = Lane {
                channel: id.channel.clone(),
                kind: id.kind,
            };
            p.cmd("HGETALL").arg(i.record_key(id));
            p.cmd("GET").arg(i.job_key(id));
            p.cmd("GET").arg(i.lease_key(&LeaseName::Lane { lane }));
        }
        let values: Vec<redis::Value> = i.pipe(&p).await?;
        let mut out = Vec::new();
        for (id, chunk) in ids.into_iter().zip(values.chunks_exact(3)) {
            let (Ok(fields), Ok(job), Ok(lease)) = (
                redis::from_redis_value::<BTreeMap<String, String>>(&chunk[0]),
                redis::from_redis_value::<Option<String>>(&chunk[1]),
                redis::from_redis_value::<Option<String>>(&chunk[2]),
            ) else {
                continue;
            };
            let Some(record) = Inner::parse_record(&fields) else {
                continue;
            };
            // Delivered (done, or gone and not parked): not failing any more.
            let live = match job.as_deref() {
                Some(DONE) => false,
                Some(_) => true,
                None => false,
            };
            if live {
                out.push(FailingJob {
                    job: id,
                    holder: lease.as_deref().map(holder_of),
                    record,
                });
            }
            if out.len() == FAILING_SHOWN {
                break;
            }
        }
        Ok(out)
    }
}

/// The member in a lease's value (`instance:token`).
fn holder_of(value: &str) -> String {
    value
        .rsplit_once(':')
        .map_or(value, |(instance, _)| instance)
        .to_string()
}

#[async_trait::async_trait]
impl FleetView for RedisCoordinator {
    fn unavailable(&self) -> Option<String> {
        self.inner.state().unavailable.clone()
    }

    async fn record(&self, id: &JobId) -> Result<Option<JobRecord>, CoordinatorError> {
        let i = &self.inner;
        let fields: BTreeMap<String, String> =
            i.run(redis::cmd("HGETALL").arg(i.record_key(id))).await?;
        Ok(Inner::parse_record(&fields))
    }

    async fn holder(&self, lane: &Lane) -> Result<Option<String>, CoordinatorError> {
        let i = &self.inner;
        let value: Option<String> = i
            .run(redis::cmd("GET").arg(i.lease_key(&LeaseName::Lane { lane: lane.clone() })))
            .await?;
        Ok(value.as_deref().map(holder_of))
    }

    async fn status(&self) -> Option<FleetStatus> {
        let i = &self.inner;
        let mut status = FleetStatus {
            instance: i.config.instance.clone(),
            redis: "up".into(),
            ..FleetStatus::default()
        };
        let read = async {
            let names: Vec<String> = i.run(redis::cmd("SMEMBERS").arg(i.key("members"))).await?;
            let mut beats = i.beats(&names).await?;
            beats.sort_by(|a, b| a.instance.cmp(&b.instance));
            status.members = beats
                .into_iter()
                .map(|b| FleetMember {
                    instance: b.instance,
                    api: b.api,
                    leases: b.leases,
                })
                .collect();
            for (lane, n) in self.backlog().await? {
                let name = LeaseName::Lane { lane }.to_string();
                status
                    .queues
                    .insert(name, u64::try_from(n).unwrap_or(u64::MAX));
            }
            status.parked = i.run(redis::cmd("XLEN").arg(i.key("parked"))).await?;
            status.failing = self.failing().await?;
            Ok::<_, CoordinatorError>(())
        }
        .await;
        if let Err(e) = read {
            status.redis = e.to_string();
        }
        Some(status)
    }
}
