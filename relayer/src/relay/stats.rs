//! What a relay run did, as the devnet summary and (later) the metrics show
//! it: packets per path and app, acks, timeouts, errors, latency from the
//! source block's time to the destination's confirmation.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use light_clients::{AckResult, App, ChainId, Timestamp};

use super::coordinator::JobId;

/// Counts of one path (source, destination, app).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathCounts {
    pub delivered: u64,
    pub ok: u64,
    pub refused: u64,
    pub timeouts: u64,
    pub acked: u64,
}

#[derive(Debug, Default)]
struct Inner {
    /// Packets in flight: the source block that sent each.
    emitted: HashMap<JobId, u64>,
    paths: BTreeMap<(ChainId, ChainId, App), PathCounts>,
    latencies_ms: Vec<f64>,
    latencies_by_source: BTreeMap<ChainId, Vec<f64>>,
    errors: BTreeMap<(ChainId, String), u64>,
    headers: (u64, Duration),
    batches: (u64, u64),
    stages: BTreeMap<&'static str, StageTime>,
    recent: std::collections::VecDeque<Recent>,
}

/// A packet delivered lately, for the status page.
#[derive(Debug, Clone, PartialEq)]
pub struct Recent {
    pub id: JobId,
    pub confirmed: Timestamp,
    pub outcome: &'static str,
    pub latency_ms: Option<f64>,
}

/// Deliveries kept for the status page.
const RECENT: usize = 4096;

/// Time spent in one stage of the relay: how often, in all, at most.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageTime {
    pub count: u64,
    pub total: Duration,
    pub max: Duration,
}

/// Shared run statistics.
#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<Inner>,
}

/// A snapshot for printing.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub paths: BTreeMap<(ChainId, ChainId, App), PathCounts>,
    pub errors: BTreeMap<(ChainId, String), u64>,
    pub latency_ms: Option<(f64, f64, f64)>,
    /// p50, p95, p99 by source chain.
    pub latency_by_source: BTreeMap<ChainId, (f64, f64, f64)>,
    pub headers_verified: u64,
    pub header_verify_mean: Duration,
    pub batches: u64,
    pub mean_batch: f64,
    pub stages: BTreeMap<&'static str, StageTime>,
}

impl Summary {
    pub fn delivered(&self) -> u64 {
        self.paths.values().map(|p| p.delivered).sum()
    }

    pub fn acked(&self) -> u64 {
        self.paths.values().map(|p| p.acked).sum()
    }
}

fn path(id: &JobId) -> (ChainId, ChainId, App) {
    (
        id.channel.source.clone(),
        id.channel.destination.clone(),
        id.channel.app,
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

impl Stats {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A packet was seen in source block `height`.
    pub fn emitted(&self, id: &JobId, height: u64) {
        self.inner().emitted.entry(id.clone()).or_insert(height);
    }

    /// The source block that sent a packet still in flight.
    pub fn emitted_height(&self, id: &JobId) -> Option<u64> {
        self.inner().emitted.get(id).copied()
    }

    /// A packet's receipt is in a sealed destination block, as of `confirmed`.
    /// Its latency runs from the source's commit of the block that sent it,
    /// which `committed_at(height)` tells.
    pub fn delivered(
        &self,
        id: &JobId,
        ack: &AckResult,
        confirmed: Timestamp,
        committed_at: impl Fn(u64) -> Option<Timestamp>,
    ) -> Option<Duration> {
        let mut i = self.inner();
        let mut latency = None;
        if let Some(t) = i.emitted.remove(id).and_then(committed_at) {
            let nanos = confirmed.unix_nanos().saturating_sub(t.unix_nanos());
            let ms = nanos as f64 / 1e6;
            latency = Some(Duration::from_nanos(nanos));
            i.latencies_ms.push(ms);
            i.latencies_by_source
                .entry(id.channel.source.clone())
                .or_default()
                .push(ms);
        }
        let p = i.paths.entry(path(id)).or_default();
        p.delivered += 1;
        let outcome = match ack {
            AckResult::Ok => {
                p.ok += 1;
                "ok"
            }
            AckResult::Error(_) => {
                p.refused += 1;
                "refused"
            }
            AckResult::Timeout => {
                p.timeouts += 1;
                "timeout"
            }
        };
        if i.recent.len() >= RECENT {
            i.recent.pop_front();
        }
        i.recent.push_back(Recent {
            id: id.clone(),
            confirmed,
            outcome,
            latency_ms: latency.map(|d| d.as_secs_f64() * 1000.0),
        });
        latency
    }

    /// The latest deliveries, oldest first.
    pub fn recent(&self) -> Vec<Recent> {
        self.inner().recent.iter().cloned().collect()
    }

    /// The source height of the oldest packet in flight, per path.
    pub fn oldest_in_flight(&self) -> BTreeMap<(ChainId, ChainId), u64> {
        let i = self.inner();
        let mut out: BTreeMap<(ChainId, ChainId), u64> = BTreeMap::new();
        for (id, h) in &i.emitted {
            let key = (id.channel.source.clone(), id.channel.destination.clone());
            let e = out.entry(key).or_insert(*h);
            *e = (*e).min(*h);
        }
        out
    }

    pub fn acknowledged(&self, id: &JobId) {
        self.inner().paths.entry(path(id)).or_default().acked += 1;
    }

    pub fn error(&self, chain: &ChainId, check: &str) {
        *self
            .inner()
            .errors
            .entry((chain.clone(), check.to_string()))
            .or_default() += 1;
    }

    pub fn header_verified(&self, took: Duration) {
        let mut i = self.inner();
        i.headers.0 += 1;
        i.headers.1 += took;
    }

    /// Time spent in a stage (`scan`, `prepare`, `submit` ...).
    pub fn stage(&self, name: &'static str, took: Duration) {
        let mut i = self.inner();
        let s = i.stages.entry(name).or_default();
        s.count += 1;
        s.total += took;
        s.max = s.max.max(took);
    }

    pub fn batch(&self, jobs: usize) {
        let mut i = self.inner();
        i.batches.0 += 1;
        i.batches.1 += jobs as u64;
    }

    /// Counts per path and app (cheaper than a summary).
    pub fn summary_paths(&self) -> BTreeMap<(ChainId, ChainId, App), PathCounts> {
        self.inner().paths.clone()
    }

    /// Packets delivered and acked so far (cheaper than a summary).
    pub fn summary_counts(&self) -> (u64, u64) {
        let i = self.inner();
        i.paths
            .values()
            .fold((0, 0), |(d, a), p| (d + p.delivered, a + p.acked))
    }

    pub fn summary(&self) -> Summary {
        let i = self.inner();
        let percentiles = |v: &[f64]| {
            let mut sorted = v.to_vec();
            sorted.sort_by(f64::total_cmp);
            (!sorted.is_empty()).then(|| {
                (
                    percentile(&sorted, 50.0),
                    percentile(&sorted, 95.0),
                    percentile(&sorted, 99.0),
                )
            })
        };
        let latency_ms = percentiles(&i.latencies_ms);
        let latency_by_source = i
            .latencies_by_source
            .iter()
            .filter_map(|(c, v)| percentiles(v).map(|p| (c.clone(), p)))
            .collect();
        Summary {
            paths: i.paths.clone(),
            errors: i.errors.clone(),
            latency_ms,
            latency_by_source,
            headers_verified: i.headers.0,
            header_verify_mean: i
                .headers
                .1
                .checked_div(i.headers.0.max(1) as u32)
                .unwrap_or_default(),
            batches: i.batches.0,
            mean_batch: if i.batches.0 == 0 {
                0.0
            } else {
                i.batches.1 as f64 / i.batches.0 as f64
            },
            stages: i.stages.clone(),
        }
    }
}
