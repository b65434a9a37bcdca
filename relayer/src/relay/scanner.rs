//! The scanner of a source chain: one task that turns the blocks the
//! follower made provable into jobs (cmport and cosco blocks on their own
//! header, gba one header later), under the chain's scanner lease, from the
//! checkpoint the last holder wrote. It owns its position (`next_scan`) and
//! tells the follower, which publishes it with the chain's follow state.

use std::sync::Arc;
use std::time::Instant;

use adapters::chain::{AdapterError, ChainAdapter};
use light_clients::ChainId;
use tokio_util::sync::CancellationToken;

use super::coordinator::{CoordinatorError, Job, JobKind, LeaseName, Work};
use super::engine::Engine;
use super::follower::FollowerHandle;

/// Why a block could not be turned into jobs.
#[derive(Debug, thiserror::Error)]
enum ScanError {
    #[error(transparent)]
    Adapter(AdapterError),
    #[error(transparent)]
    Coordinator(CoordinatorError),
}

impl Engine {
    /// Scans `chain`'s blocks as its follower verifies their headers, until
    /// `stop` or the chain shows misbehaviour.
    pub(super) async fn scan_chain(
        self: Arc<Self>,
        chain: ChainId,
        follower: FollowerHandle,
        stop: CancellationToken,
    ) {
        let Some(c) = self.chain(&chain) else {
            return;
        };
        let adapter = c.adapter;
        let mut verified = follower.subscribe();
        // Wait for the follower to start: its first header is where scanning
        // starts when no checkpoint says otherwise.
        let start = loop {
            if let Some((lowest, _)) = verified.borrow_and_update().window {
                break lowest;
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                changed = verified.changed() => if changed.is_err() { return },
            }
        };
        let mut next_scan = match self.store.checkpoint(&chain).await {
            Ok(Some(h)) => h,
            _ => start,
        };
        follower.scanned(next_scan).await;
        let scanner = LeaseName::Scanner {
            chain: chain.clone(),
        };
        // The fencing token of the scanner lease scanning was resumed under.
        let mut scanning_under: Option<u64> = None;
        loop {
            let (height, frozen) = {
                let p = verified.borrow_and_update();
                (p.window.map_or(0, |(_, h)| h), p.follow.frozen.is_some())
            };
            if frozen {
                tracing::error!(%chain, "misbehaviour: scanning stops");
                return;
            }
            // Blocks up to the one whose roots the verified header commits
            // can be proven: its own for a family without lag, the block
            // before it for gba (app_hash), so gba scans one header behind.
            let provable = adapter.family().roots_height(height) + 1;
            self.scan_provable(
                &chain,
                adapter.as_ref(),
                &follower,
                &scanner,
                provable,
                &mut next_scan,
                &mut scanning_under,
            )
            .await;
            tokio::select! {
                _ = stop.cancelled() => return,
                changed = verified.changed() => if changed.is_err() { return },
            }
        }
    }

    /// Scans every block below `provable` this member holds the scanner lease for.
    #[allow(clippy::too_many_arguments)]
    async fn scan_provable(
        &self,
        chain: &ChainId,
        adapter: &dyn ChainAdapter,
        follower: &FollowerHandle,
        scanner: &LeaseName,
        provable: u64,
        next_scan: &mut u64,
        scanning_under: &mut Option<u64>,
    ) {
        // In a fleet one member scans each chain: the holder of its
        // scanner lease, from the checkpoint the last holder wrote.
        let Some(lease) = self.leases.lease(scanner) else {
            *scanning_under = None;
            return;
        };
        if *scanning_under != Some(lease.fence) {
            match self.store.checkpoint(chain).await {
                Ok(h) => {
                    if let Some(h) = h {
                        *next_scan = h;
                    }
                    *scanning_under = Some(lease.fence);
                    tracing::info!(%chain, next_scan, fence = lease.fence, "scanning this chain");
                }
                Err(e) => {
                    tracing::warn!(%chain, error = %e, "cannot read the checkpoint; not scanning");
                    return;
                }
            }
        }
        while *next_scan < provable && !lease.stop.is_cancelled() {
            let started = Instant::now();
            match self.scan(chain, adapter, *next_scan).await {
                Ok(()) => {
                    self.metrics.scanned(chain, started.elapsed());
                    *next_scan += 1;
                    match self.store.set_checkpoint(chain, *next_scan, &lease).await {
                        Ok(()) => {}
                        Err(e @ CoordinatorError::Fenced { .. }) => {
                            // Another member scans this chain now; what this one
                            // queued meanwhile is deduplicated by job id.
                            self.metrics
                                .fencing_refusals
                                .with_label_values(&["checkpoint"])
                                .inc();
                            tracing::warn!(%chain, next_scan, error = %e, "stale checkpoint write refused by the fencing check; scanning stops");
                            *scanning_under = None;
                            break;
                        }
                        // The store away (Redis restarting, `LOADING` its
                        // file): transient; the next scan writes it again.
                        Err(e) => {
                            tracing::warn!(%chain, error = %e, "checkpoint not written; the coordinator is away")
                        }
                    }
                    follower.scanned(*next_scan).await;
                }
                Err(ScanError::Adapter(e)) if e.is_transient() => break,
                // The coordinator away (Redis restarting, `LOADING` its
                // file) is transient too: the scan resumes from the
                // checkpoint once it answers, and nothing queued is lost.
                Err(ScanError::Coordinator(e @ CoordinatorError::Store(_))) => {
                    tracing::warn!(%chain, height = *next_scan, error = %e, "scanning paused: the coordinator is away");
                    break;
                }
                Err(e) => {
                    tracing::error!(%chain, height = *next_scan, error = %e, "scanning");
                    break;
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
    ) -> Result<(), ScanError> {
        let block = adapter
            .block_events(height)
            .await
            .map_err(ScanError::Adapter)?;
        let mut jobs = Vec::new();
        for proven in block.events {
            let work = Work::from_event(proven.event, proven.proof);
            let job = Job { work, attempts: 0 };
            let id = job.id();
            if !self.serves(&id.channel) {
                continue;
            }
            // Latency is measured for packets (source commit to receipt); acks
            // are not recorded, so the table holds only packets in flight.
            if id.kind == JobKind::Packet {
                self.metrics.emitted(&id, height);
            }
            jobs.push(job);
        }
        if jobs.is_empty() {
            return Ok(());
        }
        let ids: Vec<_> = jobs.iter().map(Job::id).collect();
        // One call per block: a fleet's Redis answers the block's jobs in one round trip.
        let fresh = self
            .queue
            .enqueue_all(jobs)
            .await
            .map_err(ScanError::Coordinator)?;
        let mut queued = false;
        for (id, fresh) in ids.iter().zip(fresh) {
            tracing::debug!(%chain, height, channel = %id.channel, sequence = id.sequence, kind = ?id.kind, fresh, "job");
            queued |= fresh;
        }
        if queued {
            self.wake_submitters();
        }
        Ok(())
    }
}
