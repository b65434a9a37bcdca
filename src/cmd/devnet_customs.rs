//! The customs part of `portrelay devnet` and `portrelay bench`
//! (`docs/customs.md`, "Devnet workload"). Declarations are submitted at
//! the gba ledger (Shunde) for the cmport ledger (Shekou) with their RELS;
//! once Shekou honours one, the arrivals of its containers are submitted
//! there (EQUIPMENT GTIN with seals and a verified gross mass), a seeded
//! share of them mismatching the declaration: a changed seal, an
//! undeclared container, an overweight box, or goods of a sensitive HS
//! chapter on the declaration. Shekou's rule set (given to its in-process
//! ledger) makes chapter 93 sensitive.

use crate::cmd::err;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adapters::chain::ChainAdapter;
use adapters::wire::{SubmitEvent, SubmittedItem, WIRE_VERSION};
use devnet::apps::customs::CustomsRules;
use devnet::handle::NodeHandle;
use light_clients::{ChainId, Timestamp};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::cmd::devnet::{uuid, DevLedger};

/// The declaring port's ledger (Shunde) and the honouring one (Shekou).
pub const DECLARING: &str = "gba-1";
pub const HONOURING: &str = "cmport-1";
/// The HS chapter the devnet's Shekou holds sensitive (93: arms and ammunition).
pub const SENSITIVE_CHAPTER: &str = "93";

/// A ledger's customs rules in the devnet: Shekou's hold chapter 93
/// sensitive; the others are the defaults (5 % or 100 kg, nothing sensitive).
pub fn rules_for(chain: &ChainId) -> Arc<CustomsRules> {
    let mut rules = CustomsRules::default();
    if chain.as_str() == HONOURING {
        rules.hs_chapters.insert(SENSITIVE_CHAPTER.to_string());
    }
    Arc::new(rules)
}

/// How the customs task runs.
#[derive(Debug, Clone)]
pub struct CustomsOptions {
    /// A new declaration this often.
    pub every: Duration,
    /// Declarations at most in flight (submitted, not yet arrived).
    pub in_flight: usize,
    /// With `--packets`, the run does not stop before this many are honoured.
    pub at_least: u64,
    /// How long a declaration may wait to be honoured before it is counted as not honoured.
    pub honour_within: Duration,
}

impl Default for CustomsOptions {
    fn default() -> Self {
        CustomsOptions {
            every: Duration::from_secs(1),
            in_flight: 8,
            at_least: 0,
            honour_within: Duration::from_secs(120),
        }
    }
}

/// What arrives at Shekou for a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Every container with its declared seals, within the weight tolerance.
    Matching,
    /// The first container's seal is not the declared one.
    ChangedSeal,
    /// A third container, on no declaration, under the declared transport document.
    UndeclaredContainer,
    /// The first container weighs half as much again as declared.
    Overweight,
    /// The declaration's goods are of the sensitive chapter; the arrivals match.
    SensitiveHs,
}

impl Arrival {
    pub const CYCLE: [Arrival; 5] = [
        Arrival::Matching,
        Arrival::ChangedSeal,
        Arrival::UndeclaredContainer,
        Arrival::Overweight,
        Arrival::SensitiveHs,
    ];

    /// The warning this arrival raises at Shekou.
    pub fn rule(self) -> Option<&'static str> {
        match self {
            Arrival::Matching => None,
            Arrival::ChangedSeal => Some("seals_equal"),
            Arrival::UndeclaredContainer => Some("no_undeclared_container"),
            Arrival::Overweight => Some("weight_within_tolerance"),
            Arrival::SensitiveHs => Some("sensitive_hs"),
        }
    }

    /// The `n`th declaration's arrival: each kind once in five consecutive declarations.
    pub fn of(seed: u64, n: u64) -> Arrival {
        Self::CYCLE[((seed % 5 + n) % 5) as usize]
    }
}

/// One declaration of the workload and what follows it.
#[derive(Debug, Clone)]
pub struct Declaration {
    pub number: String,
    pub arrival: Arrival,
    /// The declaration and its release, submitted at Shunde for Shekou.
    pub declared: Vec<Value>,
    /// The EQUIPMENT GTIN events submitted at Shekou once it honours the declaration.
    pub arrivals: Vec<Value>,
}

/// An ISO 6346 number: owner code and category `prefix` (4 letters), a
/// 6-digit serial, its check digit.
fn container_number(prefix: &str, serial: u64) -> String {
    let first = format!("{prefix}{:06}", serial % 1_000_000);
    let digit = adapters::events::iso6346::check_digit(first.as_bytes()).unwrap_or(0);
    format!("{first}{digit}")
}

fn rfc3339(secs: u64) -> String {
    Timestamp::from_unix_secs(u32::try_from(secs).unwrap_or(u32::MAX)).to_rfc3339()
}

/// The `n`th declaration of a run seeded `seed`, made at `now` (Unix seconds).
pub fn declaration(seed: u64, n: u64, now: u64) -> Declaration {
    let arrival = Arrival::of(seed, n);
    let created = rfc3339(now.saturating_sub(1));
    let valid_until = rfc3339(now + 30 * 24 * 3600);
    // The year of the declaration: the creation's (UTC; Beijing's is never earlier).
    let year = &created[..4];
    let serial = (seed % 900_000) * 1000 + n % 100_000_000 + 1;
    let number = format!("5316{year}0{:09}", serial % 1_000_000_000);
    let trd = format!("PRC{:x}{n}", seed % 0xffff);
    let base = (seed % 997) * 1000 + 3 * n;
    let boxes = [
        (
            container_number("CSQU", base),
            format!("SD{:07}", (base * 2) % 10_000_000),
            6200.0,
        ),
        (
            container_number("TCNU", base + 1),
            format!("SD{:07}", (base * 2 + 1) % 10_000_000),
            5900.0,
        ),
    ];
    let hs = if arrival == Arrival::SensitiveHs {
        "9303200000"
    } else {
        "8471300000"
    };
    let event_id = |k: u64| uuid(seed ^ 0xc057_0115, 8 * n + k);
    let containers: Vec<Value> = boxes
        .iter()
        .map(|(c, seal, kg)| json!({"equipmentReference": c, "seals": [seal], "grossWeightKg": format!("{kg:.1}")}))
        .collect();
    let declared = json!({
        "eventType": "CUSTOMS_DECLARATION",
        "eventID": event_id(0),
        "eventCreatedDateTime": created,
        "declarationNumber": number,
        "declarationType": "EXPORT",
        "customsOfficeCode": "5316",
        "declarant": {"name": "Shunde Forwarding Co.", "usci": "91350100M000100Y43"},
        "parties": [
            {"role": "CONSIGNOR", "name": "Shunde Electronics Co.", "usci": "91440606MA51H2LK2N", "countryCode": "CN"},
            {"role": "CONSIGNEE", "name": "Rotterdam Home Goods B.V.", "countryCode": "NL"}
        ],
        "goods": [{
            "lineNumber": 1, "hsCode": hs, "description": "goods of the devnet workload",
            "quantity": {"value": "400", "unitCode": "C62"},
            "grossWeightKg": "12100.0",
            "declaredValue": {"amount": "160000.00", "currency": "USD"},
            "originCountry": "CN"
        }],
        "containers": containers,
        "transportDocumentReference": trd,
        "modeOfTransport": "BARGE",
        "route": {"portOfLoading": "CNSUD", "transhipmentPorts": ["CNSHK"], "portOfDischarge": "NLRTM"},
        "validUntil": valid_until
    });
    let release = json!({
        "eventID": event_id(1),
        "eventType": "SHIPMENT",
        "eventClassifierCode": "ACT",
        "eventCreatedDateTime": created,
        "eventDateTime": created,
        "shipmentEventTypeCode": "RELS",
        "documentTypeCode": "CUS",
        "documentID": number,
        "reason": "released at Shunde (devnet workload)"
    });
    let gtin = |k: u64, container: &str, seal: &str, vgm: f64| {
        json!({
            "eventID": event_id(2 + k),
            "eventType": "EQUIPMENT",
            "eventClassifierCode": "ACT",
            "eventCreatedDateTime": created,
            "eventDateTime": created,
            "equipmentEventTypeCode": "GTIN",
            "equipmentReference": container,
            "ISOEquipmentCode": "45G1",
            "emptyIndicatorCode": "LADEN",
            "eventLocation": {"locationName": "Shekou container terminal", "UNLocationCode": "CNSHK"},
            "documentReferences": [{"documentReferenceType": "TRD", "documentReferenceValue": trd}],
            "seals": [{"sealNumber": seal, "sealSource": "CUS", "sealType": "WIR"}],
            "verifiedGrossMass": {"value": vgm, "unit": "KGM"}
        })
    };
    let mut arrivals = Vec::new();
    for (k, (c, seal, kg)) in boxes.iter().enumerate() {
        let first = k == 0;
        let seal = if first && arrival == Arrival::ChangedSeal {
            format!("XX{:07}", base % 10_000_000)
        } else {
            seal.clone()
        };
        let vgm = if first && arrival == Arrival::Overweight {
            kg * 1.5
        } else {
            kg + 30.0
        };
        arrivals.push(gtin(k as u64, c, &seal, vgm));
    }
    if arrival == Arrival::UndeclaredContainer {
        let stray = container_number("APZU", base + 2);
        arrivals.push(gtin(2, &stray, "SD0000000", 6000.0));
    }
    Declaration {
        number,
        arrival,
        declared: vec![declared, release],
        arrivals,
    }
}

fn submit_event(destination: &ChainId, event: Value) -> SubmitEvent {
    SubmitEvent {
        version: WIRE_VERSION,
        destination: destination.clone(),
        event,
        timeout_secs: Some(600),
    }
}

/// Submits `events` in one batch (they execute in order); returns the packets they became.
async fn submit(
    ledger: &(ChainId, Arc<dyn ChainAdapter>),
    destination: &ChainId,
    events: &[Value],
) -> anyhow::Result<u64> {
    let batch: Vec<SubmitEvent> = events
        .iter()
        .map(|e| submit_event(destination, e.clone()))
        .collect();
    let answer = ledger
        .1
        .submit_events(&batch)
        .await
        .map_err(err("customs events"))?;
    let mut packets = 0;
    for item in answer.results {
        match item {
            SubmittedItem::Submitted(s) => packets += u64::from(s.packet.is_some()),
            SubmittedItem::Refused(r) => {
                return Err(anyhow::anyhow!(
                    "{}: customs event refused: {} {}",
                    ledger.0,
                    r.code,
                    r.message
                ))
            }
        }
    }
    Ok(packets)
}

/// The two ledgers of the customs workload.
#[derive(Debug, Clone)]
pub struct Ports {
    pub declaring: (ChainId, Arc<dyn ChainAdapter>),
    pub honouring: (ChainId, Arc<dyn ChainAdapter>),
    pub honouring_handle: NodeHandle,
    pub honouring_addr: std::net::SocketAddr,
}

impl Ports {
    /// Shunde's and Shekou's ledgers among the devnet's; none if one is missing.
    pub fn of(ledgers: &[DevLedger]) -> Option<Ports> {
        let find = |id: &str| ledgers.iter().find(|l| l.chain_id.as_str() == id);
        let (d, h) = (find(DECLARING)?, find(HONOURING)?);
        Some(Ports {
            declaring: (d.chain_id.clone(), d.adapter.clone()),
            honouring: (h.chain_id.clone(), h.adapter.clone()),
            honouring_handle: h.node.handle.clone(),
            honouring_addr: h.node.addr,
        })
    }

    /// Shunde's ledger as the devnet reaches it (`chains`: in process or on
    /// CometBFT, declarations go through its adapter) and Shekou's
    /// in-process ledger among `ledgers`; none if one is missing.
    pub fn of_chains(
        chains: &[crate::cmd::devnet::DevChain],
        ledgers: &[DevLedger],
    ) -> Option<Ports> {
        let d = chains.iter().find(|c| c.chain_id.as_str() == DECLARING)?;
        let h = ledgers.iter().find(|l| l.chain_id.as_str() == HONOURING)?;
        Some(Ports {
            declaring: d.source(),
            honouring: (h.chain_id.clone(), h.adapter.clone()),
            honouring_handle: h.node.handle.clone(),
            honouring_addr: h.node.addr,
        })
    }

    /// Whether Shekou honours declaration `number` yet.
    async fn honoured(&self, number: &str) -> bool {
        let number = number.to_string();
        self.honouring_handle
            .call(move |l| l.app_record("customs", "declarations", &number))
            .await
            .ok()
            .and_then(|r| r.ok())
            .is_some_and(|record| !record["honoured"].is_null())
    }

    /// Shekou's customs warnings raised so far, by rule.
    pub async fn warnings_by_rule(&self) -> BTreeMap<String, u64> {
        let tallies = self
            .honouring_handle
            .call(|l| l.customs_tallies())
            .await
            .unwrap_or_default();
        let mut out = BTreeMap::new();
        for (key, n) in tallies.warnings {
            let rule = key.split_once('/').map_or(key.as_str(), |(r, _)| r);
            *out.entry(rule.to_string()).or_insert(0) += n;
        }
        out
    }
}

/// When Shekou answered each declaration's arrivals (Unix nanoseconds), by number.
pub type Arrived = Arc<Mutex<BTreeMap<String, u64>>>;

/// How one declaration went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Honoured at Shekou and its arrivals submitted there.
    Arrived,
    /// Not honoured within the bound.
    NotHonoured,
    /// The run stopped first.
    Stopped,
}

/// Submits one declaration and its release at Shunde, waits until Shekou
/// honours it (bounded), then submits its arrivals at Shekou. A submission
/// under way is finished even when `stop` comes, so the packets counted in
/// `packets` are the packets sent.
async fn one(
    ports: &Ports,
    d: &Declaration,
    honour_within: Duration,
    packets: &AtomicU64,
    arrived: &Arrived,
    stop: &CancellationToken,
) -> anyhow::Result<Outcome> {
    let sent = submit(&ports.declaring, &ports.honouring.0, &d.declared).await?;
    packets.fetch_add(sent, Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + honour_within;
    while !ports.honoured(&d.number).await {
        if tokio::time::Instant::now() >= deadline {
            return Ok(Outcome::NotHonoured);
        }
        tokio::select! {
            _ = stop.cancelled() => return Ok(Outcome::Stopped),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    submit(&ports.honouring, &ports.honouring.0, &d.arrivals).await?;
    // The answer comes once the arrivals' block is sealed: their commit.
    let committed = relayer::relay::engine::now().unix_nanos();
    if let Ok(mut a) = arrived.lock() {
        a.insert(d.number.clone(), committed);
    }
    Ok(Outcome::Arrived)
}

/// What the customs task did, and Shekou's warnings by rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomsReport {
    pub honouring: String,
    pub submitted: u64,
    pub honoured: u64,
    pub not_honoured: u64,
    /// Packets the declarations and releases became (Shunde -> Shekou cargo).
    pub packets: u64,
    pub warnings: BTreeMap<String, u64>,
}

impl std::fmt::Display for CustomsReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "customs: {} declarations honoured at {} ({} submitted at {DECLARING}",
            self.honoured, self.honouring, self.submitted
        )?;
        if self.not_honoured > 0 {
            write!(f, ", {} not honoured in time", self.not_honoured)?;
        }
        let list: Vec<String> = self
            .warnings
            .iter()
            .map(|(rule, n)| format!("{rule} {n}"))
            .collect();
        if list.is_empty() {
            write!(f, "); warnings: none")
        } else {
            write!(f, "); warnings: {}", list.join(", "))
        }
    }
}

/// The running customs task of a devnet.
#[derive(Debug)]
pub struct CustomsTask {
    stop: CancellationToken,
    packets: Arc<AtomicU64>,
    honoured: Arc<AtomicU64>,
    /// When each declaration's arrivals were committed at Shekou.
    pub arrived: Arrived,
    task: tokio::task::JoinHandle<anyhow::Result<CustomsReport>>,
}

impl CustomsTask {
    /// Starts the task over the devnet's ledgers; none without a gba and a cmport ledger.
    pub fn spawn(ledgers: &[DevLedger], opts: CustomsOptions, seed: u64) -> Option<CustomsTask> {
        Some(Self::spawn_on(Ports::of(ledgers)?, opts, seed))
    }

    /// Starts the task between these ports.
    pub fn spawn_on(ports: Ports, opts: CustomsOptions, seed: u64) -> CustomsTask {
        let stop = CancellationToken::new();
        let packets = Arc::new(AtomicU64::new(0));
        let honoured = Arc::new(AtomicU64::new(0));
        let arrived = Arrived::default();
        let task = tokio::spawn(run(
            ports,
            opts,
            seed,
            stop.clone(),
            (packets.clone(), honoured.clone(), arrived.clone()),
        ));
        CustomsTask {
            stop,
            packets,
            honoured,
            arrived,
            task,
        }
    }

    /// Declarations honoured so far.
    pub fn honoured(&self) -> u64 {
        self.honoured.load(Ordering::SeqCst)
    }

    /// Packets sent so far.
    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::SeqCst)
    }

    /// Stops the task (declarations in flight finish their submission under
    /// way) and returns its report; its packets are final from then on.
    pub async fn finish(self) -> anyhow::Result<CustomsReport> {
        self.stop.cancel();
        self.task.await.map_err(err("customs task"))?
    }
}

async fn run(
    ports: Ports,
    opts: CustomsOptions,
    seed: u64,
    stop: CancellationToken,
    (packets, honoured, arrived): (Arc<AtomicU64>, Arc<AtomicU64>, Arrived),
) -> anyhow::Result<CustomsReport> {
    let mut report = CustomsReport {
        honouring: ports.honouring.0.to_string(),
        ..CustomsReport::default()
    };
    let mut tasks = tokio::task::JoinSet::new();
    let mut n = 0u64;
    let mut failure = None;
    let mut tick = tokio::time::interval(opts.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        while let Some(r) = tasks.try_join_next() {
            tally(&mut report, &honoured, r, &mut failure);
        }
        if failure.is_some() {
            break;
        }
        if tasks.len() < opts.in_flight.max(1) {
            let now = relayer::relay::engine::now().unix_nanos() / 1_000_000_000;
            let d = declaration(seed, n, now);
            n += 1;
            report.submitted += 1;
            let (ports, packets, stop) = (ports.clone(), packets.clone(), stop.clone());
            let arrived = arrived.clone();
            let within = opts.honour_within;
            tasks.spawn(async move { one(&ports, &d, within, &packets, &arrived, &stop).await });
        }
    }
    stop.cancel();
    while let Some(r) = tasks.join_next().await {
        tally(&mut report, &honoured, r, &mut failure);
    }
    report.packets = packets.load(Ordering::SeqCst);
    report.warnings = ports.warnings_by_rule().await;
    match failure {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

fn tally(
    report: &mut CustomsReport,
    honoured: &AtomicU64,
    r: Result<anyhow::Result<Outcome>, tokio::task::JoinError>,
    failure: &mut Option<anyhow::Error>,
) {
    match r.map_err(err("customs declaration")).and_then(|r| r) {
        Ok(Outcome::Arrived) => {
            report.honoured += 1;
            honoured.fetch_add(1, Ordering::SeqCst);
        }
        Ok(Outcome::NotHonoured) => report.not_honoured += 1,
        Ok(Outcome::Stopped) => {}
        Err(e) => {
            failure.get_or_insert(e);
        }
    }
}

// The bench's figure: arrival commit to warning on the stream.

/// A warning as an SSE client of `/v1/customs/warnings/stream` received it.
#[derive(Debug, Clone)]
pub struct Streamed {
    pub rule: String,
    pub declaration: String,
    /// Its block's time (when that block was opened; it is sealed a block time later).
    pub block_time: u64,
    /// When the client read it (Unix nanoseconds).
    pub received: u64,
}

/// The warnings an SSE client received, in order.
pub type Latencies = Arc<Mutex<Vec<Streamed>>>;

/// A real SSE client of the stream (HTTP/1.1, `text/event-stream`), taking
/// warnings after `after`, reconnecting with `Last-Event-ID`, until `stop`.
pub fn stream_latencies(
    addr: std::net::SocketAddr,
    after: u64,
    stop: CancellationToken,
) -> Latencies {
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    let got: Latencies = Arc::default();
    let out = got.clone();
    tokio::spawn(async move {
        let client: hyper_util::client::legacy::Client<_, Empty<Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let mut last = after;
        while !stop.is_cancelled() {
            let Ok(request) =
                hyper::Request::get(format!("http://{addr}/v1/customs/warnings/stream"))
                    .header("last-event-id", last.to_string())
                    .body(Empty::new())
            else {
                return;
            };
            let response = tokio::select! {
                _ = stop.cancelled() => return,
                r = client.request(request) => r,
            };
            if let Ok(response) = response {
                let mut body = response.into_body();
                let mut buffer = String::new();
                loop {
                    let frame = tokio::select! {
                        _ = stop.cancelled() => return,
                        f = body.frame() => f,
                    };
                    let Some(Ok(frame)) = frame else { break };
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    let received = relayer::relay::engine::now().unix_nanos();
                    buffer.push_str(&String::from_utf8_lossy(&data));
                    while let Some(end) = buffer.find("\n\n") {
                        let block: String = buffer.drain(..end + 2).collect();
                        let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) else {
                            continue;
                        };
                        let Ok(w) = serde_json::from_str::<Value>(data.trim_start()) else {
                            continue;
                        };
                        let id = w["id"].as_u64().unwrap_or(0);
                        let time = w["time"]
                            .as_str()
                            .and_then(|t| Timestamp::parse_rfc3339(t).ok());
                        if id > last {
                            last = id;
                            if let Some(t) = time {
                                let text = |k: &str| w[k].as_str().unwrap_or("").to_string();
                                if let Ok(mut g) = got.lock() {
                                    g.push(Streamed {
                                        rule: text("rule"),
                                        declaration: text("declaration"),
                                        block_time: t.unix_nanos(),
                                        received,
                                    });
                                }
                            }
                        }
                    }
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    });
    out
}

/// The `q` quantile (0..1) of `values` (sorted here), nearest rank.
pub fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

/// `portrelay bench`'s customs phase: `declarations` declarations through
/// the customs task with an SSE client on Shekou's stream; waits until
/// every warning they raise is streamed and every packet they became is
/// acknowledged (`acked` reads the relayer's count, `before` packets were
/// acknowledged before), and prints the latency from the arrival's block
/// to the warning on the stream.
pub async fn bench(
    ledgers: &[DevLedger],
    declarations: u64,
    seed: u64,
    acked: impl Fn() -> u64,
    before: u64,
) -> anyhow::Result<()> {
    let Some(ports) = Ports::of(ledgers) else {
        return Ok(());
    };
    let expected: u64 = (0..declarations)
        .filter(|n| Arrival::of(seed, *n).rule().is_some())
        .count() as u64;
    let already: u64 = ports.warnings_by_rule().await.values().sum();
    let stop = CancellationToken::new();
    let latencies = stream_latencies(ports.honouring_addr, already, stop.clone());
    let task = CustomsTask::spawn(
        ledgers,
        CustomsOptions {
            every: Duration::from_millis(100),
            ..CustomsOptions::default()
        },
        seed,
    )
    .ok_or_else(|| anyhow::anyhow!("customs: no gba or cmport ledger"))?;
    let started = std::time::Instant::now();
    let limit = Duration::from_secs(300);
    while task.honoured() < declarations {
        if started.elapsed() > limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let task_arrived = task.arrived.clone();
    let report = task.finish().await?;
    while (latencies.lock().map(|g| g.len() as u64).unwrap_or(0) < expected
        || acked() < before + report.packets)
        && started.elapsed() < limit
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
    let streamed = latencies.lock().map(|g| g.clone()).unwrap_or_default();
    let arrived = task_arrived.lock().map(|a| a.clone()).unwrap_or_default();
    let ms = |from: u64, to: u64| (to as f64 - from as f64) / 1e6;
    // From the arrivals' commit (Shekou's answer, once their block is
    // sealed) for the cross-checks; sensitive_hs is raised by the
    // declaration's receipt, not an arrival.
    let mut committed: Vec<f64> = streamed
        .iter()
        .filter(|w| w.rule != "sensitive_hs")
        .filter_map(|w| Some(ms(*arrived.get(&w.declaration)?, w.received)))
        .collect();
    let mut opened: Vec<f64> = streamed
        .iter()
        .map(|w| ms(w.block_time, w.received))
        .collect();
    println!("\ncustoms");
    println!("  {report}");
    let line =
        |what: &str, values: &mut Vec<f64>| match (quantile(values, 0.5), quantile(values, 0.99)) {
            (Some(p50), Some(p99)) => println!(
                "  {what}: p50 {p50:.0} ms, p99 {p99:.0} ms ({} warnings)",
                values.len()
            ),
            _ => println!("  {what}: no warning reached the stream"),
        };
    line(
        "arrival's commit (its sealed answer) to the warning on the SSE stream",
        &mut committed,
    );
    line(
        "warning's block time (block opened) to the warning on the SSE stream",
        &mut opened,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declaration_and_event_of_the_workload_passes_the_edge_rules() {
        let now = 1_796_000_000; // 2026-11-30
        let mut kinds = Vec::new();
        for n in 0..10 {
            let d = declaration(7, n, now);
            kinds.push(d.arrival);
            for e in d.declared.iter().chain(&d.arrivals) {
                if let Err(r) = adapters::events::validate(e) {
                    panic!("declaration {n}: {} at {}: {}", r.rule, r.field, r.message);
                }
            }
            let undeclared = usize::from(d.arrival == Arrival::UndeclaredContainer);
            assert_eq!(d.arrivals.len(), 2 + undeclared);
            assert_eq!(d.number.len(), 18);
        }
        // Five consecutive declarations: one of each arrival.
        for k in Arrival::CYCLE {
            assert_eq!(kinds[..5].iter().filter(|a| **a == k).count(), 1);
        }
        assert_ne!(declaration(7, 0, now).number, declaration(7, 1, now).number);
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&mut v, 0.5), Some(50.0));
        assert_eq!(quantile(&mut v, 0.99), Some(99.0));
        assert_eq!(quantile(&mut [], 0.5), None);
    }
}
