//! The chaos run's workload: every app over every path, paced, with eBL
//! bills issued locally then transferred (some with a short timeout, some
//! sent on a second hop once they arrive), kept going whatever the faults
//! do: a submission that fails is retried with backoff until its ledger
//! answers. What each answer promised is kept, to be checked at the end
//! against what the ledgers hold.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adapters::chain::ChainAdapter;
use adapters::wire::{SubmitEvent, SubmittedItem, WIRE_VERSION};
use light_clients::{App, ChainId, PacketId};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::cmd::devnet::{templates, workload_event, Templates};

/// One source ledger as the workload sees it.
#[derive(Debug, Clone)]
pub struct Source {
    pub chain_id: ChainId,
    pub adapter: Arc<dyn ChainAdapter>,
    pub endpoint: String,
}

#[derive(Debug, Clone)]
pub struct WorkloadOptions {
    pub packets: u64,
    /// Packets per second over all sources.
    pub rate: f64,
    pub seed: u64,
    /// Events per batch request.
    pub batch: usize,
    /// One eBL transfer in `short_timeout_every` gets `short_timeout`.
    pub short_timeout_every: u64,
    pub short_timeout: Duration,
    /// One arrived bill in `second_hop_every` is sent on again.
    pub second_hop_every: u64,
}

/// A packet a ledger answered for, and the event it carries.
#[derive(Debug, Clone)]
pub struct Answered {
    pub packet: PacketId,
    pub event_id: String,
    pub app: App,
}

/// A bill the workload issued: where, and where its first hop went.
#[derive(Debug, Clone)]
pub struct Bill {
    pub reference: String,
    pub origin: ChainId,
    pub first_hop: Option<ChainId>,
    pub second_hop: Option<ChainId>,
}

/// What the workload did, shared with the harness while it runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Packets the ledgers answered for.
    pub packets: AtomicU64,
    /// Submissions retried after a failure (a ledger down, cut or slow).
    pub retries: AtomicU64,
    pub done: AtomicBool,
    pub answered: Mutex<Vec<Answered>>,
    pub bills: Mutex<BTreeMap<String, Bill>>,
    /// Events a ledger refused, by code (a refusal is an answer, not retried).
    pub refused: Mutex<BTreeMap<String, u64>>,
}

impl Progress {
    fn refuse(&self, code: &str) {
        *self
            .refused
            .lock()
            .expect("refusals")
            .entry(code.to_string())
            .or_default() += 1;
    }
}

/// Runs the workload until `opts.packets` were answered or `stop`.
pub async fn run(
    sources: Vec<Source>,
    opts: WorkloadOptions,
    progress: Arc<Progress>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let t = Arc::new(templates()?);
    let chains: Vec<ChainId> = sources.iter().map(|s| s.chain_id.clone()).collect();
    let channels = relayer::relay::engine::all_channels(&chains, &App::ALL);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, source) in sources.iter().enumerate() {
        // The workload items this source sends, in order.
        let mine: Vec<(u64, light_clients::ChannelId)> = (0..opts.packets)
            .filter_map(|n| {
                let c = &channels[(n as usize) % channels.len()];
                (c.source == source.chain_id).then(|| (n, c.clone()))
            })
            .collect();
        let share = mine.len() as f64 / opts.packets.max(1) as f64;
        let (source, opts, t, progress, stop) = (
            source.clone(),
            opts.clone(),
            t.clone(),
            progress.clone(),
            stop.clone(),
        );
        tasks.spawn(async move {
            send_all(
                &source,
                mine,
                opts.rate * share,
                &opts,
                &t,
                &progress,
                &stop,
                started,
            )
            .await;
            i
        });
    }
    let hops = {
        let (sources, opts, progress, stop) = (
            sources.clone(),
            opts.clone(),
            progress.clone(),
            stop.clone(),
        );
        tokio::spawn(async move { second_hops(&sources, &opts, &progress, &stop).await })
    };
    while tasks.join_next().await.is_some() {}
    progress.done.store(true, Ordering::SeqCst);
    let _ = hops.await;
    Ok(())
}

/// Sends this source's items paced at `rate` per second, a batch at a time.
#[allow(clippy::too_many_arguments)]
async fn send_all(
    source: &Source,
    mine: Vec<(u64, light_clients::ChannelId)>,
    rate: f64,
    opts: &WorkloadOptions,
    t: &Templates,
    progress: &Progress,
    stop: &CancellationToken,
    started: Instant,
) {
    let mut next = 0;
    while next < mine.len() {
        // Pacing: item k is due k / rate seconds after the start.
        let due = started + Duration::from_secs_f64(next as f64 / rate.max(0.001));
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep_until(due.into()) => {}
        }
        let elapsed = started.elapsed().as_secs_f64();
        let due_now = ((elapsed * rate) as usize + 1).clamp(next + 1, mine.len());
        let end = due_now.min(next + opts.batch);
        let items = &mine[next..end];
        let mut events = Vec::new();
        // Which request answers which workload item (an eBL item has its ISSUE first).
        let mut carries = Vec::new();
        for (n, channel) in items {
            let (before, mut event) = workload_event(t, opts.seed, *n, channel.app);
            if let Some(issue) = before {
                events.push(SubmitEvent {
                    version: WIRE_VERSION,
                    destination: source.chain_id.clone(),
                    event: issue,
                    timeout_secs: None,
                });
                carries.push(None);
            }
            let short = channel.app == App::Ebl && n % opts.short_timeout_every == 1;
            let timeout = if short {
                opts.short_timeout.as_secs().max(1)
            } else {
                3600
            };
            if channel.app == App::Ebl {
                let reference = event["transportDocumentReference"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                progress.bills.lock().expect("bills").insert(
                    reference.clone(),
                    Bill {
                        reference,
                        origin: source.chain_id.clone(),
                        first_hop: None,
                        second_hop: None,
                    },
                );
            }
            let id = event_id(&mut event);
            events.push(SubmitEvent {
                version: WIRE_VERSION,
                destination: channel.destination.clone(),
                event,
                timeout_secs: Some(timeout),
            });
            carries.push(Some((id, channel.app, channel.destination.clone())));
        }
        let Some(results) = submit(source, &events, progress, stop).await else {
            return;
        };
        for (item, carried) in results.into_iter().zip(carries) {
            match (item, carried) {
                (SubmittedItem::Submitted(s), Some((event_id, app, destination))) => {
                    if let Some(packet) = s.packet {
                        if app == App::Ebl {
                            if let Some(r) = bill_of(&events, &event_id) {
                                if let Some(b) = progress.bills.lock().expect("bills").get_mut(&r) {
                                    b.first_hop = Some(destination.clone());
                                }
                            }
                        }
                        progress.answered.lock().expect("answered").push(Answered {
                            packet,
                            event_id,
                            app,
                        });
                        progress.packets.fetch_add(1, Ordering::Relaxed);
                    }
                }
                (SubmittedItem::Submitted(_), None) => {}
                (SubmittedItem::Refused(r), _) => progress.refuse(&r.code),
            }
        }
        next = end;
    }
}

/// The eventID of an event (every workload event has one).
fn event_id(event: &mut Value) -> String {
    event["eventID"].as_str().unwrap_or_default().to_string()
}

/// The bill an event of `events` with `event_id` moves.
fn bill_of(events: &[SubmitEvent], event_id: &str) -> Option<String> {
    events
        .iter()
        .find(|e| e.event["eventID"] == event_id)
        .and_then(|e| e.event["transportDocumentReference"].as_str())
        .map(str::to_string)
}

/// Submits one batch, retrying with exponential backoff (50 ms to 2 s)
/// until the ledger answers; `None` when stopped first.
async fn submit(
    source: &Source,
    events: &[SubmitEvent],
    progress: &Progress,
    stop: &CancellationToken,
) -> Option<Vec<SubmittedItem>> {
    let mut backoff = Duration::from_millis(50);
    loop {
        match source.adapter.submit_events(events).await {
            Ok(answer) => return Some(answer.results),
            Err(e) => {
                progress.retries.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(source = %source.chain_id, error = %e, "workload submission failed; retrying");
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return None,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Sends one arrived bill in `second_hop_every` on from where it arrived:
/// to the third ledger, or back to its origin (a return).
async fn second_hops(
    sources: &[Source],
    opts: &WorkloadOptions,
    progress: &Progress,
    stop: &CancellationToken,
) {
    let t = match templates() {
        Ok(t) => t,
        Err(_) => return,
    };
    let mut k = 0u64;
    loop {
        let waiting: Vec<Bill> = progress
            .bills
            .lock()
            .expect("bills")
            .values()
            .filter(|b| b.first_hop.is_some() && b.second_hop.is_none())
            .cloned()
            .collect();
        let done = progress.done.load(Ordering::SeqCst);
        for b in waiting {
            if stop.is_cancelled() {
                return;
            }
            let n = bill_number(&b.reference);
            if !n.is_multiple_of(opts.second_hop_every) {
                continue;
            }
            let Some(at) = b.first_hop.clone() else {
                continue;
            };
            let Some(here) = sources.iter().find(|s| s.chain_id == at) else {
                continue;
            };
            // Only once the bill is live where it arrived.
            // Not yet (or the ledger is down): looked at again next round.
            let state = title_state(&here.endpoint, &b.reference).await;
            if !matches!(state.as_ref().map(Option::as_deref), Ok(Some("live"))) {
                continue;
            }
            let to = if k.is_multiple_of(2) {
                b.origin.clone()
            } else {
                match sources
                    .iter()
                    .find(|s| s.chain_id != at && s.chain_id != b.origin)
                {
                    Some(s) => s.chain_id.clone(),
                    None => b.origin.clone(),
                }
            };
            k += 1;
            let event = second_hop_event(&t, opts.seed, n, &b.reference);
            let event_id = event["eventID"].as_str().unwrap_or_default().to_string();
            let req = SubmitEvent {
                version: WIRE_VERSION,
                destination: to.clone(),
                event,
                timeout_secs: Some(3600),
            };
            let Some(results) = submit(here, std::slice::from_ref(&req), progress, stop).await
            else {
                return;
            };
            if let Some(b) = progress.bills.lock().expect("bills").get_mut(&b.reference) {
                b.second_hop = Some(to.clone());
            }
            match results.into_iter().next() {
                Some(SubmittedItem::Submitted(s)) => {
                    if let Some(packet) = s.packet {
                        progress.answered.lock().expect("answered").push(Answered {
                            packet,
                            event_id,
                            app: App::Ebl,
                        });
                        progress.packets.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Some(SubmittedItem::Refused(r)) => {
                    progress.refuse(&format!("second hop {}", r.code))
                }
                None => {}
            }
        }
        if done && !has_waiting(progress, opts) {
            return;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

fn has_waiting(progress: &Progress, opts: &WorkloadOptions) -> bool {
    progress.bills.lock().expect("bills").values().any(|b| {
        b.first_hop.is_some()
            && b.second_hop.is_none()
            && bill_number(&b.reference).is_multiple_of(opts.second_hop_every)
    })
}

/// The workload number in a bill's reference (`PRL<seed><n:07>`).
fn bill_number(reference: &str) -> u64 {
    reference
        .get(reference.len().saturating_sub(7)..)
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// The holder of the first hop sends the bill on.
fn second_hop_event(t: &Templates, seed: u64, n: u64, reference: &str) -> Value {
    let (_, first) = workload_event(t, seed, n, App::Ebl);
    let mut e = first.clone();
    e["eventID"] = Value::String(crate::cmd::devnet::uuid(seed ^ 0x0a0a, n));
    e["sender"] = first["recipient"].clone();
    e["recipient"] = first["sender"].clone();
    e["transferChain"] = serde_json::json!(["ISSUE", "TRANSFER"]);
    e["transportDocumentReference"] = Value::String(reference.to_string());
    e
}

/// A bill's title state on a ledger (`live`, `pledged`, ...), if it answers.
/// `Ok(None)` when the ledger has no such bill.
pub async fn title_state(endpoint: &str, reference: &str) -> anyhow::Result<Option<String>> {
    let v = super::http::get_json(endpoint, &format!("/v1/apps/ebl/bills/{reference}")).await?;
    Ok(v.and_then(|v| v["title"]["state"].as_str().map(str::to_string)))
}
