//! The relayer's Prometheus metrics (`docs/metrics.md` is the contract):
//! one `Metrics` value, made at start and passed to whatever records into
//! it; no global registry. Labels are bounded: chain ids from the
//! configuration, apps, host check names, DCSA codes, UN/LOCODEs, ISO 4217
//! currencies, PINT answers.

use std::sync::Arc;
use std::time::Duration;

use std::collections::BTreeMap;

use light_clients::{AckResult, App, ChainId, Timestamp};
use prometheus::core::Collector;
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use serde::Deserialize;

use crate::relay::coordinator::JobId;
use crate::relay::stats::{PathCounts, Samples, Summary};

/// Every metric of the relayer.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    pub up: IntGauge,
    pub ready: IntGauge,
    pub backlog: IntGaugeVec,
    pub oldest_pending: GaugeVec,
    pub in_flight: IntGauge,
    pub packets: IntCounterVec,
    pub acks: IntCounterVec,
    pub latency: HistogramVec,
    pub submit_errors: IntCounterVec,
    pub retries: IntCounterVec,
    /// Batches handed back because a proof's header could not be had, by
    /// path: a lane that cannot progress (see docs/metrics.md).
    pub lane_stalled: IntCounterVec,
    pub parked: IntGauge,
    pub client_height: IntGaugeVec,
    pub client_lag: IntGaugeVec,
    pub client_expiry: GaugeVec,
    pub client_frozen: IntGaugeVec,
    pub verified_height: IntGaugeVec,
    pub header_verify: HistogramVec,
    pub scan: HistogramVec,
    pub rpc_request: HistogramVec,
    pub rpc_errors: IntCounterVec,
    pub misbehaviour: IntCounterVec,
    pub batch_size: HistogramVec,
    pub fleet_members: IntGauge,
    pub leases_held: IntGaugeVec,
    pub leases_lost: IntCounterVec,
    pub fencing_refusals: IntCounterVec,
    pub duplicates_refused: IntCounterVec,
    pub coordinator_up: IntGauge,
    pub cargo_events: IntCounterVec,
    pub customs_releases: IntCounterVec,
    pub payment_volume: IntCounterVec,
    pub letters_of_credit: IntCounterVec,
    pub ebl_transfers: IntCounterVec,
    /// What the series cannot hold, fed by the same calls (see `relay::stats`).
    pub samples: Arc<Samples>,
}

impl adapters::http::RpcObserver for Metrics {
    fn observe(&self, chain: &ChainId, endpoint: &str, call: &str, took: Duration, ok: bool) {
        self.rpc_request
            .with_label_values(&[chain.as_str(), endpoint, call])
            .observe(took.as_secs_f64());
        if !ok {
            self.rpc_errors
                .with_label_values(&[chain.as_str(), endpoint])
                .inc();
        }
    }
}

/// Seconds buckets from 1 ms to about 30 s.
fn seconds_buckets() -> Vec<f64> {
    vec![
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0,
        30.0,
    ]
}

macro_rules! register {
    ($registry:expr, $metric:expr) => {{
        let m = $metric;
        $registry.register(Box::new(m.clone()))?;
        m
    }};
}

impl Metrics {
    pub fn new() -> Result<Arc<Self>, prometheus::Error> {
        let r = Registry::new();
        let path = &["source", "destination"];
        let host = &["host", "counterparty"];
        let hist = |name: &str, help: &str, buckets: Vec<f64>, labels: &[&str]| {
            HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        };
        let m = Metrics {
            up: register!(
                r,
                IntGauge::new("portrelay_up", "1 while the relayer runs")?
            ),
            ready: register!(
                r,
                IntGauge::new(
                    "portrelay_ready",
                    "1 when every chain is reachable and the store usable"
                )?
            ),
            backlog: register!(
                r,
                IntGaugeVec::new(
                    Opts::new("portrelay_backlog_jobs", "jobs waiting on a path"),
                    path
                )?
            ),
            oldest_pending: register!(
                r,
                GaugeVec::new(
                    Opts::new(
                        "portrelay_oldest_pending_seconds",
                        "age of the oldest packet of the path sent and not yet received"
                    ),
                    path
                )?
            ),
            in_flight: register!(
                r,
                IntGauge::new(
                    "portrelay_in_flight_jobs",
                    "jobs taken by submitters and not yet settled"
                )?
            ),
            packets: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_packets_relayed_total",
                        "packets whose receipt is in a sealed destination block"
                    ),
                    &["source", "destination", "app", "outcome"]
                )?
            ),
            acks: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_acks_relayed_total",
                        "acks taken back by the source"
                    ),
                    &["source", "destination", "app"]
                )?
            ),
            latency: register!(
                r,
                hist(
                    "portrelay_packet_latency_seconds",
                    "from the source's commit to the confirmed destination receipt",
                    // Up to two hours, so stuck packets show.
                    [
                        seconds_buckets(),
                        vec![60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0]
                    ]
                    .concat(),
                    path
                )?
            ),
            submit_errors: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_submit_errors_total",
                        "messages or transactions a destination refused, by check"
                    ),
                    &["destination", "reason"]
                )?
            ),
            retries: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_retries_total",
                        "jobs put back in their lanes to be tried again"
                    ),
                    &["destination"]
                )?
            ),
            lane_stalled: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_lane_stalled_total",
                        "batches re-queued because a header their proofs need cannot be had (one per backoff step)"
                    ),
                    &["source", "destination"]
                )?
            ),
            parked: register!(
                r,
                IntGauge::new(
                    "portrelay_parked_jobs",
                    "jobs parked after too many attempts"
                )?
            ),
            client_height: register!(
                r,
                IntGaugeVec::new(
                    Opts::new(
                        "portrelay_client_height",
                        "latest height of the host's client of the counterparty"
                    ),
                    host
                )?
            ),
            client_lag: register!(
                r,
                IntGaugeVec::new(
                    Opts::new(
                        "portrelay_client_lag_blocks",
                        "how far the client is behind the relayer's latest verified header"
                    ),
                    host
                )?
            ),
            client_expiry: register!(
                r,
                GaugeVec::new(
                    Opts::new(
                        "portrelay_client_expiry_seconds",
                        "seconds until the client's trusting period runs out"
                    ),
                    host
                )?
            ),
            client_frozen: register!(
                r,
                IntGaugeVec::new(
                    Opts::new(
                        "portrelay_client_frozen",
                        "1 when the client is frozen by misbehaviour"
                    ),
                    host
                )?
            ),
            verified_height: register!(
                r,
                IntGaugeVec::new(
                    Opts::new(
                        "portrelay_verified_height",
                        "the highest header the relayer's follower verified"
                    ),
                    &["chain"]
                )?
            ),
            header_verify: register!(
                r,
                hist(
                    "portrelay_header_verify_seconds",
                    "light-client verification of one header",
                    seconds_buckets(),
                    &["chain"]
                )?
            ),
            scan: register!(
                r,
                hist(
                    "portrelay_scan_seconds",
                    "one block's events with their proofs fetched and turned into jobs",
                    seconds_buckets(),
                    &["chain"]
                )?
            ),
            rpc_request: register!(
                r,
                hist(
                    "portrelay_rpc_request_seconds",
                    "ledger RPC requests per endpoint",
                    seconds_buckets(),
                    &["chain", "endpoint", "call"]
                )?
            ),
            rpc_errors: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_rpc_errors_total",
                        "ledger RPC requests that failed (connection, timeout, 5xx)"
                    ),
                    &["chain", "endpoint"]
                )?
            ),
            misbehaviour: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_misbehaviour_detected_total",
                        "conflicting valid headers seen from a chain's endpoints"
                    ),
                    &["chain"]
                )?
            ),
            batch_size: register!(
                r,
                hist(
                    "portrelay_batch_size",
                    "jobs per transaction",
                    vec![
                        1.0, 5.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0,
                    ],
                    &["destination"]
                )?
            ),
            fleet_members: register!(
                r,
                IntGauge::new("portrelay_fleet_members", "relayers in the fleet")?
            ),
            leases_held: register!(
                r,
                IntGaugeVec::new(
                    Opts::new("portrelay_leases_held", "leases this relayer holds"),
                    &["kind"]
                )?
            ),
            leases_lost: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_leases_lost_total",
                        "leases this relayer stopped holding before releasing them"
                    ),
                    &["kind"]
                )?
            ),
            fencing_refusals: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_fencing_refusals_total",
                        "writes under a lease another member had taken over, refused by the fencing check"
                    ),
                    &["write"]
                )?
            ),
            duplicates_refused: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_duplicates_refused_total",
                        "deliveries the destination answered already received or acknowledged"
                    ),
                    &["destination"]
                )?
            ),
            coordinator_up: register!(
                r,
                IntGauge::new(
                    "portrelay_coordinator_up",
                    "1 when the coordinator's store (redb file or Redis) answers"
                )?
            ),
            cargo_events: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_cargo_events_total",
                        "cargo events relayed, by DCSA event type code, port and corridor"
                    ),
                    &["event_type", "port", "corridor"]
                )?
            ),
            customs_releases: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_customs_releases_total",
                        "customs releases relayed, by port"
                    ),
                    &["port"]
                )?
            ),
            payment_volume: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_payment_volume_minor_total",
                        "invoiced and settled amounts relayed, in ISO 4217 minor units"
                    ),
                    &["currency"]
                )?
            ),
            letters_of_credit: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_letters_of_credit_total",
                        "letters of credit relayed, by kind"
                    ),
                    &["kind"]
                )?
            ),
            ebl_transfers: register!(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "portrelay_ebl_transfers_total",
                        "eBL transfers relayed, by PINT answer"
                    ),
                    &["answer"]
                )?
            ),
            registry: r,
            samples: Arc::default(),
        };
        m.fleet_members.set(1);
        m.coordinator_up.set(1);
        for kind in ["lane", "scanner", "clearer"] {
            m.leases_lost.with_label_values(&[kind]).inc_by(0);
        }
        for write in ["checkpoint", "renew"] {
            m.fencing_refusals.with_label_values(&[write]).inc_by(0);
        }
        for answer in ["RECE", "DUPE", "DISE", "BSIG", "BENV"] {
            m.ebl_transfers.with_label_values(&[answer]).inc_by(0);
        }
        Ok(Arc::new(m))
    }

    /// Puts a chain's series on the page at zero, so that dashboards and
    /// alerts see them before anything happened.
    pub fn chain_known(&self, chain: &ChainId, endpoints: &[String]) {
        let c = chain.as_str();
        self.misbehaviour.with_label_values(&[c]).inc_by(0);
        self.retries.with_label_values(&[c]).inc_by(0);
        self.submit_errors
            .with_label_values(&[c, "unavailable"])
            .inc_by(0);
        for e in endpoints {
            self.rpc_errors
                .with_label_values(&[c, e.as_str()])
                .inc_by(0);
        }
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }

    /// A packet was seen in source block `height` (its latency runs from there).
    pub fn emitted(&self, id: &JobId, height: u64) {
        self.samples.emitted(id, height);
    }

    /// A packet's receipt is in a sealed destination block, as of
    /// `confirmed`: counts it, its latency (from the source's commit of the
    /// block that sent it, which `committed_at(height)` tells) and what it
    /// carried.
    pub fn received(
        &self,
        id: &JobId,
        payload: &[u8],
        ack: &AckResult,
        confirmed: Timestamp,
        committed_at: impl Fn(u64) -> Option<Timestamp>,
    ) {
        let latency = self
            .samples
            .delivered(id, outcome(ack), confirmed, committed_at);
        let c = &id.channel;
        self.delivered(&c.source, &c.destination, c.app, payload, ack, latency);
    }

    /// An ack was taken back by the source.
    pub fn acknowledged(&self, id: &JobId) {
        let c = &id.channel;
        self.acks
            .with_label_values(&[c.source.as_str(), c.destination.as_str(), c.app.as_str()])
            .inc();
    }

    /// A destination refused a message or a transaction: `check` names why.
    pub fn refused(&self, destination: &ChainId, check: &str) {
        self.submit_errors
            .with_label_values(&[destination.as_str(), bounded_check(check)])
            .inc();
    }

    /// A header verified by `chain`'s follower.
    pub fn header_verified(&self, chain: &ChainId, took: Duration) {
        self.header_verify
            .with_label_values(&[chain.as_str()])
            .observe(took.as_secs_f64());
    }

    /// One block of `chain` turned into jobs.
    pub fn scanned(&self, chain: &ChainId, took: Duration) {
        self.scan
            .with_label_values(&[chain.as_str()])
            .observe(took.as_secs_f64());
        self.samples.stage("scan", took);
    }

    /// Time spent in a stage of the relay that has no series of its own
    /// (`prepare`, `disclose`, `submit`, `confirm`).
    pub fn stage(&self, name: &'static str, took: Duration) {
        self.samples.stage(name, took);
    }

    /// A batch of `jobs` sent to `destination`.
    pub fn batch(&self, destination: &ChainId, jobs: usize) {
        self.batch_size
            .with_label_values(&[destination.as_str()])
            .observe(jobs as f64);
    }

    /// Counts per path and app, read from the packet and ack counters.
    pub fn path_counts(&self) -> BTreeMap<(ChainId, ChainId, App), PathCounts> {
        let mut out: BTreeMap<(ChainId, ChainId, App), PathCounts> = BTreeMap::new();
        for (labels, n) in counter_values(&self.packets) {
            let labels: BTreeMap<&str, &str> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let (Some(key), Some(outcome)) = (path_key(&labels), labels.get("outcome")) else {
                continue;
            };
            let p = out.entry(key).or_default();
            p.delivered += n;
            match *outcome {
                "ok" => p.ok += n,
                "refused" => p.refused += n,
                "timeout" => p.timeouts += n,
                _ => {}
            }
        }
        for (labels, n) in counter_values(&self.acks) {
            let labels: BTreeMap<&str, &str> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            if let Some(key) = path_key(&labels) {
                out.entry(key).or_default().acked += n;
            }
        }
        out
    }

    /// Packets delivered and acked so far (cheaper than a summary).
    pub fn counts(&self) -> (u64, u64) {
        self.path_counts()
            .values()
            .fold((0, 0), |(d, a), p| (d + p.delivered, a + p.acked))
    }

    /// The run so far, read from the series and the samples.
    pub fn summary(&self) -> Summary {
        let mut errors = BTreeMap::new();
        for (labels, n) in counter_values(&self.submit_errors) {
            let get = |k: &str| labels.iter().find(|(l, _)| l == k).map(|(_, v)| v.clone());
            let (Some(chain), Some(reason)) = (get("destination"), get("reason")) else {
                continue;
            };
            // The summary lists what the destinations refused; a ledger that
            // did not answer shows in the metrics and the logs.
            if n == 0 || TRANSPORT.contains(&reason.as_str()) {
                continue;
            }
            if let Ok(chain) = ChainId::new(&chain) {
                errors.insert((chain, reason), n);
            }
        }
        let (headers, header_secs) = histogram_totals(&self.header_verify);
        let (batches, jobs) = histogram_totals(&self.batch_size);
        let (latency_ms, latency_by_source) = self.samples.latency();
        Summary {
            paths: self.path_counts(),
            errors,
            latency_ms,
            latency_by_source,
            headers_verified: headers,
            header_verify_mean: if headers == 0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(header_secs / headers as f64)
            },
            batches,
            mean_batch: if batches == 0 {
                0.0
            } else {
                jobs / batches as f64
            },
            stages: self.samples.stages(),
        }
    }

    /// A packet's receipt is confirmed: counts it, and what it carried for the analysts.
    pub fn delivered(
        &self,
        source: &ChainId,
        destination: &ChainId,
        app: App,
        payload: &[u8],
        ack: &AckResult,
        latency: Option<Duration>,
    ) {
        let (s, d) = (source.as_str(), destination.as_str());
        self.packets
            .with_label_values(&[s, d, app.as_str(), outcome(ack)])
            .inc();
        if let Some(l) = latency {
            self.latency
                .with_label_values(&[s, d])
                .observe(l.as_secs_f64());
        }
        if matches!(ack, AckResult::Timeout) {
            return;
        }
        self.corridor(s, d, app, payload, ack);
    }

    fn corridor(&self, source: &str, destination: &str, app: App, payload: &[u8], ack: &AckResult) {
        match app {
            App::Cargo => {
                // The event's typed view, whichever DCSA version it came in
                // (2.2 flat, 3.0 nested): one model for the analysts.
                let Ok(value) = serde_json::from_slice::<serde_json::Value>(payload) else {
                    return;
                };
                let Ok(event) = adapters::events::validate_relayed(&value) else {
                    return;
                };
                if !matches!(ack, AckResult::Ok) {
                    return;
                }
                use adapters::events::{DocumentTypeCode, PortEvent, ShipmentEventTypeCode};
                let (code, customs_release, port) = match &event {
                    PortEvent::Equipment(e) => (
                        e.activity.to_string(),
                        false,
                        e.event_location
                            .as_ref()
                            .and_then(|l| l.un_location_code)
                            .or(e
                                .transport_call
                                .as_ref()
                                .and_then(|c| c.location.as_ref())
                                .and_then(|l| l.un_location_code)),
                    ),
                    PortEvent::Transport(e) => (
                        e.transport_event_type.to_string(),
                        false,
                        e.transport_call
                            .location
                            .as_ref()
                            .and_then(|l| l.un_location_code),
                    ),
                    PortEvent::Shipment(e) => (
                        e.shipment_event_type.to_string(),
                        e.document_type == DocumentTypeCode::Cus
                            && e.shipment_event_type == ShipmentEventTypeCode::Rels,
                        None,
                    ),
                    _ => return,
                };
                let port = port.map_or_else(|| "none".to_string(), |p| p.to_string());
                if !is_code(&code) {
                    return;
                }
                let corridor = format!("{source}->{destination}");
                self.cargo_events
                    .with_label_values(&[code.as_str(), port.as_str(), corridor.as_str()])
                    .inc();
                if customs_release {
                    self.customs_releases
                        .with_label_values(&[port.as_str()])
                        .inc();
                }
            }
            App::Payment => {
                let Ok(e) = serde_json::from_slice::<PaymentView>(payload) else {
                    return;
                };
                if !matches!(ack, AckResult::Ok) {
                    return;
                }
                match e.event_type.as_str() {
                    "LETTER_OF_CREDIT" => {
                        if let Some(kind) = e.kind.filter(|k| is_code(k)) {
                            self.letters_of_credit
                                .with_label_values(&[kind.as_str()])
                                .inc();
                        }
                    }
                    "FREIGHT_INVOICE" | "PAYMENT_SETTLEMENT" => {
                        if let Some(m) = e.amount.or(e.interbank_settlement_amount) {
                            if m.currency.len() == 3
                                && m.currency.bytes().all(|b| b.is_ascii_uppercase())
                            {
                                self.payment_volume
                                    .with_label_values(&[m.currency.as_str()])
                                    .inc_by(m.value);
                            }
                        }
                    }
                    _ => {}
                }
            }
            App::Ebl => {
                // The ack says how the destination platform answered (PINT).
                let answer = match ack {
                    AckResult::Ok => "RECE",
                    AckResult::Error(reason) => ["DUPE", "DISE", "BSIG", "BENV"]
                        .into_iter()
                        .find(|c| reason.starts_with(c))
                        .unwrap_or("other"),
                    AckResult::Timeout => return,
                };
                self.ebl_transfers.with_label_values(&[answer]).inc();
            }
        }
    }
}

/// Reasons of `portrelay_submit_errors_total` that are a ledger not
/// answering (or answering nonsense) rather than a refusal.
const TRANSPORT: [&str; 3] = ["unavailable", "bad_response", "not_found"];

fn outcome(ack: &AckResult) -> &'static str {
    match ack {
        AckResult::Ok => "ok",
        AckResult::Error(_) => "refused",
        AckResult::Timeout => "timeout",
    }
}

/// A check name as a metric label: the host's stable names are short
/// snake_case words; anything else is `other`, so labels stay bounded.
pub(crate) fn bounded_check(check: &str) -> &str {
    if !check.is_empty()
        && check.len() <= 32
        && check.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        check
    } else {
        "other"
    }
}

/// Every series of a counter: its labels and value.
fn counter_values(c: &IntCounterVec) -> Vec<(Vec<(String, String)>, u64)> {
    let mut out = Vec::new();
    for family in c.collect() {
        for m in family.get_metric() {
            let labels = m
                .get_label()
                .iter()
                .map(|l| (l.name().to_string(), l.value().to_string()))
                .collect();
            // Counters hold whole numbers below 2^53 here (counts of packets and refusals).
            out.push((labels, m.get_counter().get_value() as u64));
        }
    }
    out
}

/// The count and sum of every series of a histogram, together.
fn histogram_totals(h: &HistogramVec) -> (u64, f64) {
    let mut count = 0;
    let mut sum = 0.0;
    for family in h.collect() {
        for m in family.get_metric() {
            let h = m.get_histogram();
            count += h.get_sample_count();
            sum += h.get_sample_sum();
        }
    }
    (count, sum)
}

/// The (source, destination, app) a series' labels name.
fn path_key(labels: &BTreeMap<&str, &str>) -> Option<(ChainId, ChainId, App)> {
    let chain = |k: &str| labels.get(k).and_then(|v| ChainId::new(*v).ok());
    let app = labels.get("app").and_then(|a| a.parse::<App>().ok())?;
    Some((chain("source")?, chain("destination")?, app))
}

/// A short upper-case code (DCSA, letter-of-credit kinds): bounded label values.
fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 24 && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentView {
    event_type: String,
    kind: Option<String>,
    amount: Option<MoneyView>,
    interbank_settlement_amount: Option<MoneyView>,
}

#[derive(Deserialize)]
struct MoneyView {
    currency: String,
    value: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(s: &str) -> ChainId {
        ChainId::new(s).unwrap()
    }

    #[test]
    fn the_summary_is_read_from_the_series() {
        use crate::relay::coordinator::JobKind;
        use light_clients::ChannelId;
        let m = Metrics::new().unwrap();
        let (a, b) = (chain("cmport-1"), chain("cosco-1"));
        let id = |sequence, kind| JobId {
            channel: ChannelId {
                source: a.clone(),
                destination: b.clone(),
                app: App::Cargo,
            },
            sequence,
            kind,
        };
        let t = |s: u64| Timestamp::from_unix_nanos(s * 1_000_000_000);
        m.emitted(&id(1, JobKind::Packet), 7);
        m.received(&id(1, JobKind::Packet), b"{}", &AckResult::Ok, t(12), |h| {
            (h == 7).then(|| t(10))
        });
        m.received(
            &id(2, JobKind::Packet),
            b"{}",
            &AckResult::Timeout,
            t(12),
            |_| None,
        );
        m.acknowledged(&id(1, JobKind::Ack));
        m.refused(&b, "bad_proof");
        m.refused(&b, "unavailable");
        m.header_verified(&a, Duration::from_millis(4));
        m.header_verified(&b, Duration::from_millis(2));
        m.batch(&b, 2);
        m.stage("prepare", Duration::from_millis(1));
        let s = m.summary();
        let p = &s.paths[&(a.clone(), b.clone(), App::Cargo)];
        assert_eq!((p.delivered, p.ok, p.timeouts, p.acked), (2, 1, 1, 1));
        assert_eq!(m.counts(), (2, 1));
        assert_eq!(
            s.errors.into_iter().collect::<Vec<_>>(),
            vec![((b.clone(), "bad_proof".to_string()), 1)]
        );
        assert_eq!(s.latency_ms, Some((2000.0, 2000.0, 2000.0)));
        assert_eq!(s.headers_verified, 2);
        assert_eq!(s.header_verify_mean, Duration::from_millis(3));
        assert_eq!((s.batches, s.mean_batch), (1, 2.0));
        assert_eq!(s.stages["prepare"].count, 1);
        assert_eq!(m.samples.recent().len(), 2);
    }

    #[test]
    fn corridors_count_what_the_packets_carried() {
        let m = Metrics::new().unwrap();
        let (a, b) = (chain("cmport-1"), chain("cosco-1"));
        let journey: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../docs/examples/events/journey.json")).unwrap();
        for e in &journey {
            let bytes = serde_json::to_vec(e).unwrap();
            m.delivered(&a, &b, App::Cargo, &bytes, &AckResult::Ok, None);
        }
        let text = m.encode().unwrap();
        assert!(
            text.contains(r#"portrelay_cargo_events_total{corridor="cmport-1->cosco-1",event_type="GTIN",port="CNSHK"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"portrelay_customs_releases_total{port="none"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"portrelay_packets_relayed_total{app="cargo",destination="cosco-1",outcome="ok",source="cmport-1"} 7"#), "{text}");
        // DCSA T&T 3.0 events are counted through the same typed view as 2.2 ones.
        let feed: serde_json::Value = serde_json::from_str(include_str!(
            "../../docs/examples/events/dcsa/tnt30-conformance.json"
        ))
        .unwrap();
        for e in feed["events"].as_array().unwrap() {
            let bytes = serde_json::to_vec(e).unwrap();
            m.delivered(&a, &b, App::Cargo, &bytes, &AckResult::Ok, None);
        }
        let text = m.encode().unwrap();
        for series in [
            r#"portrelay_cargo_events_total{corridor="cmport-1->cosco-1",event_type="DEPA",port="GBSOU"} 1"#,
            r#"portrelay_cargo_events_total{corridor="cmport-1->cosco-1",event_type="IOT_LOC",port="none"} 1"#,
            r#"portrelay_cargo_events_total{corridor="cmport-1->cosco-1",event_type="REEFER_MEAS",port="BEANR"} 1"#,
            r#"portrelay_cargo_events_total{corridor="cmport-1->cosco-1",event_type="CONF",port="none"} 1"#,
        ] {
            assert!(text.contains(series), "{series}\n{text}");
        }
        for line in include_str!("../../docs/examples/events/payments.ndjson").lines() {
            m.delivered(&a, &b, App::Payment, line.as_bytes(), &AckResult::Ok, None);
        }
        m.delivered(
            &a,
            &b,
            App::Ebl,
            b"{}",
            &AckResult::Error("DUPE: again".into()),
            None,
        );
        let text = m.encode().unwrap();
        assert!(
            text.contains(r#"portrelay_letters_of_credit_total{kind="ISSUED"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("portrelay_payment_volume_minor_total{currency="),
            "{text}"
        );
        assert!(
            text.contains(r#"portrelay_ebl_transfers_total{answer="DUPE"} 1"#),
            "{text}"
        );
    }
}
