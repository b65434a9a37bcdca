//! The clearer: compares both ends of every channel and re-queues the gaps,
//! so nothing depends on a scanner having seen an event live; and the packet
//! trace the operators' `packets trace` shows.

use std::collections::BTreeMap;
use std::sync::Arc;

use adapters::chain::{AdapterError, ChainAdapter};
use light_clients::host::BlockEvent;
use light_clients::{AckResult, App, ChainId, ChannelId, PacketId};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::coordinator::{
    CoordinatorError, Job, JobId, JobKind, JobRecord, JobState, Lane, LeaseName, Work,
};
use super::engine::Engine;

/// Most sequences the clearer looks up per channel and direction in one round.
const CLEAR_MAX: u64 = 512;

/// Which channels a clear looks at (all when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClearFilter {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub source: Option<ChainId>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub destination: Option<ChainId>,
    /// cargo, payment or ebl.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub app: Option<App>,
}

impl ClearFilter {
    pub fn selects(&self, channel: &ChannelId) -> bool {
        self.source.as_ref().is_none_or(|s| s == &channel.source)
            && self
                .destination
                .as_ref()
                .is_none_or(|d| d == &channel.destination)
            && self.app.is_none_or(|a| a == channel.app)
    }
}

/// Where a packet is, read from both ledgers and the relayer's queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Trace {
    /// `{channel: {source, destination, app}, sequence}`.
    #[schema(value_type = Object)]
    pub packet: PacketId,
    /// The furthest stage reached: unknown, sent, proven, submitted, received or acked.
    pub stage: String,
    /// The source block that sent it, while it awaits its ack.
    pub sent_height: Option<u64>,
    /// Whether the source's channel has sent this sequence at all.
    pub sent: bool,
    /// The packet job in the relayer (queued, in flight, parked), with its proof height.
    #[schema(value_type = Option<Object>)]
    pub packet_job: Option<JobView>,
    /// The destination block that received it, and the ack it wrote.
    pub received_height: Option<u64>,
    /// `"ok"`, `{"error": reason}` or `"timeout"`.
    #[schema(value_type = Option<Object>)]
    pub ack: Option<AckResult>,
    /// The ack job bringing the ack back to the source.
    #[schema(value_type = Option<Object>)]
    pub ack_job: Option<JobView>,
    /// The source has taken the ack: the packet's journey is over.
    pub acked: bool,
}

/// A job as the trace shows it. In a fleet, `state` is what this member
/// knows: a job another member has taken shows as queued; `holder` and
/// `record` say who has it and how its tries went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobView {
    #[serde(flatten)]
    pub state: JobState,
    pub proof_height: u64,
    /// Its own failures (refusals), counted toward parking it.
    pub attempts: u32,
    /// The member holding the job's lane now (in a fleet; none when nobody does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Its failed tries, whichever member made them (none: no try failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<JobRecord>,
}

/// Why a trace could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{0} is not a chain this relayer serves")]
    UnknownChain(ChainId),
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    #[error(transparent)]
    Coordinator(#[from] CoordinatorError),
}

/// Why a clear round stopped.
#[derive(Debug, thiserror::Error)]
pub enum ClearError {
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    #[error(transparent)]
    Coordinator(#[from] CoordinatorError),
}

impl Engine {
    /// Re-queues gaps at start and every `clear_interval`, so nothing depends
    /// on a scanner having seen an event live (a crash, a restart, a lost queue).
    /// In a fleet, only the holder of the clearer lease runs these rounds.
    pub(super) async fn clear(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            if let Some(lease) = self.leases.lease(&LeaseName::Clearer) {
                let all = ClearFilter::default();
                let round = tokio::select! {
                    // Losing the lease stops the round at once.
                    _ = lease.stop.cancelled() => Ok(0),
                    r = self.clear_once(&all) => r,
                };
                match round {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(jobs = n, "clearer re-queued gaps"),
                    Err(e) => tracing::warn!(error = %e, "clearer"),
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.options.clear_interval) => {}
            }
        }
    }

    /// One comparison of the two ends of every channel `filter` selects;
    /// returns how many jobs it queued.
    pub async fn clear_once(&self, filter: &ClearFilter) -> Result<usize, ClearError> {
        let mut chains = BTreeMap::new();
        for id in self.chain_ids() {
            if let Some(c) = self.chain(&id) {
                chains.insert(id, c);
            }
        }
        let mut ends = BTreeMap::new();
        for (chain, c) in &chains {
            for end in c.adapter.channels().await? {
                ends.insert((chain.clone(), end.id.clone()), end);
            }
        }
        let mut queued = 0;
        for ((holder, id), src) in &ends {
            let (Some(dst), Some(from), Some(to)) = (
                ends.get(&(id.destination.clone(), id.clone())),
                chains.get(&id.source),
                chains.get(&id.destination),
            ) else {
                continue;
            };
            if holder != &id.source || !filter.selects(id) || !self.serves(id) {
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
                if self.knows(&packet_id, JobKind::Packet).await? {
                    continue;
                }
                let location = match from.adapter.packet_location(&packet_id).await {
                    Ok(l) => l,
                    Err(e) if not_there_yet(&e) => continue,
                    Err(e) => return Err(e.into()),
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
                if self.knows(&packet_id, JobKind::Ack).await? {
                    continue;
                }
                match from.adapter.packet_location(&packet_id).await {
                    Ok(_) => {}
                    // Acknowledged already (acks settle out of order).
                    Err(e) if not_there_yet(&e) => continue,
                    Err(e) => return Err(e.into()),
                }
                let location = match to.adapter.receipt_location(&packet_id).await {
                    Ok(l) => l,
                    Err(e) if not_there_yet(&e) => continue,
                    Err(e) => return Err(e.into()),
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
            self.wake_submitters();
        }
        Ok(queued)
    }

    /// The next block `chain`'s scanner turns into jobs, when this member
    /// scans the chain (it holds the lease and its follower has started).
    fn scanning_from(&self, chain: &ChainId) -> Option<u64> {
        self.leases.lease(&LeaseName::Scanner {
            chain: chain.clone(),
        })?;
        let follower = self.follower(chain)?;
        follower.latest()?;
        Some(follower.state().next_scan)
    }

    async fn knows(
        &self,
        packet: &light_clients::PacketId,
        kind: JobKind,
    ) -> Result<bool, CoordinatorError> {
        self.queue
            .knows(&JobId {
                channel: packet.channel.clone(),
                sequence: packet.sequence,
                kind,
            })
            .await
    }

    /// Queues the event of block `height` on `chain` that `wanted` picks, with its proof.
    async fn requeue(
        &self,
        chain: &ChainId,
        adapter: &dyn ChainAdapter,
        height: u64,
        wanted: impl Fn(&BlockEvent) -> bool,
    ) -> Result<usize, ClearError> {
        // A block this member's scanner has not reached yet is left to it: a
        // proof from there would move the destination's client past the
        // scanner's checkpoint, and a relayer restarted from those clients
        // could then no longer prove the blocks between.
        if self.scanning_from(chain).is_some_and(|next| height >= next) {
            return Ok(0);
        }
        let block = match adapter.block_events(height).await {
            Ok(b) => b,
            // A gba block waits for the next header; the next round takes it.
            Err(e) if e.is_transient() => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let Some(proven) = block.events.into_iter().find(|p| wanted(&p.event)) else {
            tracing::warn!(%chain, height, "the ledger located an event in a block that does not hold it");
            return Ok(0);
        };
        let work = Work::from_event(proven.event, proven.proof);
        Ok(usize::from(
            self.queue.enqueue(Job { work, attempts: 0 }).await?,
        ))
    }

    /// Where `packet` is: the source's sent record and channel, the relayer's
    /// jobs, the destination's receipt.
    pub async fn trace(&self, packet: &PacketId) -> Result<Trace, TraceError> {
        let channel = &packet.channel;
        let source = self
            .chain(&channel.source)
            .ok_or_else(|| TraceError::UnknownChain(channel.source.clone()))?;
        let destination = self
            .chain(&channel.destination)
            .ok_or_else(|| TraceError::UnknownChain(channel.destination.clone()))?;
        let sent_height = optional(source.adapter.packet_location(packet).await)?.map(|l| l.height);
        let end = source
            .adapter
            .channels()
            .await?
            .into_iter()
            .find(|c| &c.id == channel);
        let sent = end.as_ref().is_some_and(|e| packet.sequence < e.next_send);
        let receipt = optional(destination.adapter.receipt_location(packet).await)?;
        let view = |kind| async move {
            let id = JobId {
                channel: channel.clone(),
                sequence: packet.sequence,
                kind,
            };
            let Some((state, job)) = self.queue.lookup(&id).await? else {
                return Ok::<_, CoordinatorError>(None);
            };
            // What the member that tried it recorded, and who holds its lane now.
            let record = self.fleet.record(&id).await?;
            let lane = Lane {
                channel: channel.clone(),
                kind,
            };
            let holder = self.fleet.holder(&lane).await?;
            Ok(Some(JobView {
                state,
                proof_height: job.proof_height(),
                attempts: job.attempts.max(record.as_ref().map_or(0, |r| r.attempts)),
                holder,
                record,
            }))
        };
        let packet_job = view(JobKind::Packet).await?;
        let ack_job = view(JobKind::Ack).await?;
        // Sent, and no longer awaiting its ack at the source: acknowledged.
        let acked = sent && sent_height.is_none();
        let stage = if acked {
            "acked"
        } else if receipt.is_some() {
            "received"
        } else if matches!(&packet_job, Some(j) if j.state == JobState::InFlight) {
            "submitted"
        } else if packet_job.is_some() {
            "proven"
        } else if sent {
            "sent"
        } else {
            "unknown"
        };
        Ok(Trace {
            packet: packet.clone(),
            stage: stage.to_string(),
            sent_height,
            sent,
            packet_job,
            received_height: receipt.as_ref().map(|r| r.height),
            ack: receipt.map(|r| r.result),
            ack_job,
            acked,
        })
    }
}

/// Not located (yet): unknown, or in the block being built (the next round
/// finds it sealed).
fn not_there_yet(e: &AdapterError) -> bool {
    matches!(e, AdapterError::NotFound { .. })
        || matches!(e, AdapterError::Refused { code, .. } if code == "not_yet_sealed")
}

fn optional<T>(r: Result<T, AdapterError>) -> Result<Option<T>, AdapterError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(AdapterError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
