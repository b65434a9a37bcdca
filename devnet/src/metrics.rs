//! The ledger's Prometheus metrics (`docs/metrics.md`, "Ledger"): one value
//! per node, shared by its ledger thread and its RPC handlers; no global
//! registry.

use std::sync::Arc;
use std::time::Duration;

use adapters::wire::MsgResult;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Buckets of the prover's histogram: a proof of K records takes about
/// K x 0.3 s at depth 16 on two cores.
const PROVE_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0];

/// Why the metrics cannot be read out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The text encoder refused the gathered metrics.
    #[error(transparent)]
    Encode(#[from] prometheus::Error),
    /// The encoder's output is not UTF-8.
    #[error(transparent)]
    Utf8(#[from] std::string::FromUtf8Error),
}

impl MetricsError {
    /// The stable code of the error (`code` in the RPC's error body).
    pub fn code(&self) -> &'static str {
        "metrics"
    }
}

/// A ledger node's metrics, labelled with its chain id.
#[derive(Debug, Clone)]
pub struct LedgerMetrics {
    registry: Registry,
    chain: String,
    height: IntGaugeVec,
    block: HistogramVec,
    transactions: IntCounterVec,
    events: IntCounterVec,
    failures: IntCounterVec,
    zk_prove: HistogramVec,
    zk_records: IntCounterVec,
    zk_queue: IntGaugeVec,
    customs_warnings: IntCounterVec,
    customs_checks: IntCounterVec,
    /// Webhook deliveries by outcome (`delivered`, `retried`), and the
    /// highest warning id each URL index has acknowledged.
    customs_webhooks: IntCounterVec,
}

impl LedgerMetrics {
    pub fn new(chain: &str) -> Result<Arc<Self>, prometheus::Error> {
        let registry = Registry::new();
        let height = IntGaugeVec::new(
            Opts::new("portrelay_ledger_height", "latest sealed height"),
            &["chain"],
        )?;
        let block = HistogramVec::new(
            HistogramOpts::new("portrelay_ledger_block_seconds", "time to seal a block").buckets(
                vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5],
            ),
            &["chain"],
        )?;
        let transactions = IntCounterVec::new(
            Opts::new(
                "portrelay_ledger_transactions_total",
                "transactions executed",
            ),
            &["chain"],
        )?;
        let events = IntCounterVec::new(
            Opts::new("portrelay_ledger_events_total", "port events recorded"),
            &["chain"],
        )?;
        let failures = IntCounterVec::new(
            Opts::new(
                "portrelay_ledger_verification_failures_total",
                "relay messages the host refused, by check name",
            ),
            &["chain", "reason"],
        )?;
        let zk_prove = HistogramVec::new(
            HistogramOpts::new(
                "portrelay_ledger_zk_prove_seconds",
                "time to build one disclosure proof",
            )
            .buckets(PROVE_BUCKETS.to_vec()),
            &["chain"],
        )?;
        let zk_records = IntCounterVec::new(
            Opts::new(
                "portrelay_ledger_zk_records_proven_total",
                "records covered by disclosure proofs built",
            ),
            &["chain"],
        )?;
        let zk_queue = IntGaugeVec::new(
            Opts::new(
                "portrelay_ledger_zk_queue",
                "disclosure requests admitted to the prover (waiting or proving)",
            ),
            &["chain"],
        )?;
        let customs_warnings = IntCounterVec::new(
            Opts::new(
                "portrelay_ledger_customs_warnings_total",
                "customs warnings raised on this ledger, by rule and severity",
            ),
            &["chain", "rule", "severity"],
        )?;
        let customs_checks = IntCounterVec::new(
            Opts::new(
                "portrelay_ledger_customs_checks_total",
                "customs cross-checks recorded on this ledger, by rule and outcome",
            ),
            &["chain", "rule", "outcome"],
        )?;
        let customs_webhooks = IntCounterVec::new(
            Opts::new(
                "portrelay_ledger_customs_webhook_posts_total",
                "customs warning webhook posts, by outcome (delivered, failed)",
            ),
            &["chain", "outcome"],
        )?;
        registry.register(Box::new(customs_warnings.clone()))?;
        registry.register(Box::new(customs_checks.clone()))?;
        registry.register(Box::new(customs_webhooks.clone()))?;
        registry.register(Box::new(zk_prove.clone()))?;
        registry.register(Box::new(zk_records.clone()))?;
        registry.register(Box::new(zk_queue.clone()))?;
        registry.register(Box::new(height.clone()))?;
        registry.register(Box::new(block.clone()))?;
        registry.register(Box::new(transactions.clone()))?;
        registry.register(Box::new(events.clone()))?;
        registry.register(Box::new(failures.clone()))?;
        let m = LedgerMetrics {
            registry,
            chain: chain.to_string(),
            height,
            block,
            transactions,
            events,
            failures,
            zk_prove,
            zk_records,
            zk_queue,
            customs_warnings,
            customs_checks,
            customs_webhooks,
        };
        // Every customs rule and severity present from the start, at zero:
        // the labels are bounded (rules and severities, never a container).
        for rule in crate::apps::customs::checks::RULES {
            let severity = crate::apps::customs::Severity::of(rule).as_str();
            m.customs_warnings
                .with_label_values(&[chain, rule, severity])
                .inc_by(0);
        }
        for outcome in ["delivered", "failed"] {
            m.customs_webhooks
                .with_label_values(&[chain, outcome])
                .inc_by(0);
        }
        // Present from the start, at zero.
        m.transactions.with_label_values(&[chain]).inc_by(0);
        m.events.with_label_values(&[chain]).inc_by(0);
        // The prover's series exist on every node (at zero where none runs).
        m.zk_prove.with_label_values(&[chain]);
        m.zk_records.with_label_values(&[chain]).inc_by(0);
        m.zk_queue.with_label_values(&[chain]).set(0);
        // The commonest refusal (a packet ahead of its turn), so the series exists.
        m.failures
            .with_label_values(&[chain, "out_of_order"])
            .inc_by(0);
        Ok(Arc::new(m))
    }

    pub fn sealed(&self, height: u64, took: Duration) {
        self.height
            .with_label_values(&[&self.chain])
            .set(i64::try_from(height).unwrap_or(i64::MAX));
        self.block
            .with_label_values(&[&self.chain])
            .observe(took.as_secs_f64());
    }

    /// A transaction executed: counted, with each refused message by its check.
    pub fn executed(&self, results: &[MsgResult]) {
        self.transactions.with_label_values(&[&self.chain]).inc();
        for r in results {
            if let MsgResult::Err { check, .. } = r {
                let reason = if check.len() <= 32
                    && check.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                {
                    check.as_str()
                } else {
                    "other"
                };
                self.failures
                    .with_label_values(&[&self.chain, reason])
                    .inc();
            }
        }
    }

    /// A disclosure proof of `records` records was built in `took`.
    pub fn proved(&self, records: usize, took: Duration) {
        self.zk_prove
            .with_label_values(&[&self.chain])
            .observe(took.as_secs_f64());
        self.zk_records
            .with_label_values(&[&self.chain])
            .inc_by(records as u64);
    }

    /// A request was admitted to the prover (`true`) or left it (`false`).
    pub fn zk_queued(&self, admitted: bool) {
        let gauge = self.zk_queue.with_label_values(&[&self.chain]);
        if admitted {
            gauge.inc()
        } else {
            gauge.dec()
        }
    }

    pub fn events_recorded(&self, n: u64) {
        self.events.with_label_values(&[&self.chain]).inc_by(n);
    }

    /// Brings the customs counters up to the ledger's tallies (which only
    /// grow: a restart's replay rebuilds them, so the counters start there).
    pub fn customs(&self, tallies: &crate::apps::customs::Tallies) {
        let bounded = |rule: &str| {
            if crate::apps::customs::checks::RULES.contains(&rule) {
                rule.to_string()
            } else {
                "other".to_string()
            }
        };
        for (key, n) in &tallies.warnings {
            let (rule, severity) = key.split_once('/').unwrap_or((key, "high"));
            let c =
                self.customs_warnings
                    .with_label_values(&[&self.chain, &bounded(rule), severity]);
            c.inc_by(n.saturating_sub(c.get()));
        }
        for (key, n) in &tallies.checks {
            let (rule, outcome) = key.split_once('/').unwrap_or((key, "failed"));
            let c = self
                .customs_checks
                .with_label_values(&[&self.chain, &bounded(rule), outcome]);
            c.inc_by(n.saturating_sub(c.get()));
        }
    }

    /// A webhook post of a warning: delivered (2xx) or failed (to be retried).
    pub fn customs_webhook(&self, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.customs_webhooks
            .with_label_values(&[&self.chain, outcome])
            .inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> Result<String, MetricsError> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }
}
