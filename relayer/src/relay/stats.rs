//! The summary of a run (what `portrelay devnet` and `bench` print, what the
//! status API and page show) and the samples the metrics keep beside their
//! Prometheus series. Every fact is recorded once, through `Metrics`: counts
//! are read back from its counters and histograms (`Metrics::summary`);
//! what Prometheus cannot hold (packets in flight with their source block,
//! exact latency samples for percentiles, per-stage maxima, the latest
//! deliveries) is kept here, fed by the same calls.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use light_clients::{App, ChainId, Timestamp};

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
    latencies_ms: Vec<f64>,
    latencies_by_source: BTreeMap<ChainId, Vec<f64>>,
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

/// What the metrics keep beside their Prometheus series (see the module's doc).
#[derive(Debug, Default)]
pub struct Samples {
    inner: Mutex<Inner>,
}

/// A snapshot for printing.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub paths: BTreeMap<(ChainId, ChainId, App), PathCounts>,
    pub errors: BTreeMap<(ChainId, String), u64>,
    pub latency_ms: Option<Percentiles>,
    /// p50, p95, p99 by source chain.
    pub latency_by_source: BTreeMap<ChainId, Percentiles>,
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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// p50, p95 and p99, in milliseconds.
pub type Percentiles = (f64, f64, f64);

/// p50, p95 and p99 of some samples (none without samples).
pub(crate) fn percentiles(v: &[f64]) -> Option<Percentiles> {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    (!sorted.is_empty()).then(|| {
        (
            percentile(&sorted, 50.0),
            percentile(&sorted, 95.0),
            percentile(&sorted, 99.0),
        )
    })
}

impl Samples {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain collections behind; keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A packet was seen in source block `height`.
    pub(crate) fn emitted(&self, id: &JobId, height: u64) {
        self.inner().emitted.entry(id.clone()).or_insert(height);
    }

    /// The source block that sent a packet still in flight.
    pub fn emitted_height(&self, id: &JobId) -> Option<u64> {
        self.inner().emitted.get(id).copied()
    }

    /// A packet's receipt is in a sealed destination block, as of
    /// `confirmed`, with `outcome` (ok, refused, timeout). Its latency runs
    /// from the source's commit of the block that sent it, which
    /// `committed_at(height)` tells.
    pub(crate) fn delivered(
        &self,
        id: &JobId,
        outcome: &'static str,
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

    /// Time spent in a stage (`scan`, `prepare`, `submit` ...).
    pub(crate) fn stage(&self, name: &'static str, took: Duration) {
        let mut i = self.inner();
        let s = i.stages.entry(name).or_default();
        s.count += 1;
        s.total += took;
        s.max = s.max.max(took);
    }

    pub fn stages(&self) -> BTreeMap<&'static str, StageTime> {
        self.inner().stages.clone()
    }

    /// Latency p50, p95, p99 of every packet, and by source chain.
    pub fn latency(&self) -> (Option<Percentiles>, BTreeMap<ChainId, Percentiles>) {
        let i = self.inner();
        let by_source = i
            .latencies_by_source
            .iter()
            .filter_map(|(c, v)| percentiles(v).map(|p| (c.clone(), p)))
            .collect();
        (percentiles(&i.latencies_ms), by_source)
    }
}
