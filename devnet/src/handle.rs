//! The ledger thread and its handle: the thread owns a ledger of one
//! family and seals a block every `block_time`; the HTTP handlers reach it
//! through [`NodeHandle`], a cheap cloneable sender of jobs with a oneshot
//! reply.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::wire::{
    AccountResponse, BlockEvents, ChannelsResponse, ClientsResponse, HeaderResponse, NodeStatus,
    SubmitEvent, SubmittedEvent, TxResponse,
};
use light_clients::any::{FamilyName, IntoAny};
use light_clients::host::{RelayerKey, SignedTx};
use light_clients::sample::Signing;
use light_clients::{ChainId, Timestamp};
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::clock::now;
use crate::ledger::{
    AbciError, Finalized, Ledger, LedgerError, PintReply, SnapshotPolicy, TxOutcome, Witness,
};

/// What the handlers may ask of a ledger of any family.
pub trait LedgerApi: Send {
    fn status(&self) -> NodeStatus;
    fn header(&self, height: u64) -> Result<HeaderResponse, LedgerError>;
    fn events(&self, height: u64) -> Result<BlockEvents, LedgerError>;
    fn state(&self, height: u64) -> Result<adapters::wire::BlockState, LedgerError>;
    fn channels(&self) -> ChannelsResponse;
    fn clients(&self) -> ClientsResponse;
    fn submit_tx(&mut self, tx: &SignedTx) -> Result<TxResponse, LedgerError>;
    fn account(&self, key: &RelayerKey) -> Option<AccountResponse>;
    fn packet_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<adapters::wire::PacketLocation, LedgerError>;
    fn receipt_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<adapters::wire::ReceiptLocation, LedgerError>;
    fn tx(&self, id: &str) -> Option<TxResponse>;
    fn submit_event(&mut self, req: &SubmitEvent) -> Result<SubmittedEvent, LedgerError>;
    fn rotate(&mut self, validators: usize) -> Result<u64, LedgerError>;
    fn register_platform(&mut self, chain: ChainId, key: RelayerKey);
    /// DCSA PINT 3.0 (`ledger/pint.rs`).
    fn pint_start(&mut self, envelope: serde_json::Value) -> PintReply;
    fn pint_document(&mut self, reference: String, checksum: String, body: &str) -> PintReply;
    fn pint_finish(&mut self, reference: String) -> PintReply;
    fn register_pint_platform(
        &mut self,
        code: String,
        jwk: serde_json::Value,
    ) -> Result<(), crate::apps::pint::KeyError>;
    fn pint_platform(&self) -> serde_json::Value;
    /// An app's record: `app` is cargo, payment or ebl; `kind` and `key` pick the record.
    fn app_record(
        &self,
        app: &str,
        kind: &str,
        key: &str,
    ) -> Result<serde_json::Value, LedgerError>;
    fn seal(&mut self, now: Timestamp) -> Result<u64, LedgerError>;
    fn has_pending(&self) -> bool;
    fn height(&self) -> u64;
    /// The height of the block being built (see [`Ledger::building_height`]).
    fn building_height(&self) -> u64;
    /// Writes a snapshot of the state after the latest sealed block.
    fn snapshot(&mut self) -> Result<(), LedgerError>;
    fn set_snapshot_policy(&mut self, policy: SnapshotPolicy);
    /// How events submitted to this ledger are checked (strict, declared DCSA version).
    fn set_event_options(&mut self, options: adapters::events::Options);
    /// The witness of a disclosure proof (see [`Ledger::witness`]).
    fn witness(
        &self,
        height: u64,
        packets: &[light_clients::PacketId],
        policy: &light_clients::zk::PathPolicy,
        params: circuits::DisclosureParams,
    ) -> Result<Witness, LedgerError>;
    /// How this ledger takes packets of (`source`, `app`).
    fn path_policy(
        &self,
        source: &ChainId,
        app: light_clients::App,
    ) -> adapters::wire::PathPolicyResponse;
    /// Under CometBFT (`crate::abci`): see [`Ledger::finalize_block`].
    fn finalize_block(
        &mut self,
        height: u64,
        time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<Finalized, AbciError>;
    /// See [`Ledger::abci_commit`].
    fn abci_commit(&mut self) -> Result<u64, AbciError>;
    /// See [`Ledger::check_tx`].
    fn check_tx(&self, tx: &[u8]) -> TxOutcome;
    /// See [`Ledger::abci_info`].
    fn abci_info(&self) -> (u64, light_clients::Hash32);
    /// See [`Ledger::has_uncommitted`].
    fn has_uncommitted(&self) -> bool;
}

impl<F: Signing + IntoAny> LedgerApi for Ledger<F> {
    fn status(&self) -> NodeStatus {
        Ledger::status(self)
    }
    fn header(&self, height: u64) -> Result<HeaderResponse, LedgerError> {
        Ledger::header(self, height)
    }
    fn events(&self, height: u64) -> Result<BlockEvents, LedgerError> {
        Ledger::events(self, height)
    }
    fn state(&self, height: u64) -> Result<adapters::wire::BlockState, LedgerError> {
        Ledger::state(self, height)
    }
    fn channels(&self) -> ChannelsResponse {
        Ledger::channels(self)
    }
    fn clients(&self) -> ClientsResponse {
        Ledger::clients(self)
    }
    fn submit_tx(&mut self, tx: &SignedTx) -> Result<TxResponse, LedgerError> {
        Ledger::submit_tx(self, tx)
    }
    fn tx(&self, id: &str) -> Option<TxResponse> {
        Ledger::tx(self, id)
    }
    fn account(&self, key: &RelayerKey) -> Option<AccountResponse> {
        Ledger::account(self, key)
    }
    fn packet_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<adapters::wire::PacketLocation, LedgerError> {
        Ledger::packet_location(self, id)
    }
    fn receipt_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<adapters::wire::ReceiptLocation, LedgerError> {
        Ledger::receipt_location(self, id)
    }
    fn submit_event(&mut self, req: &SubmitEvent) -> Result<SubmittedEvent, LedgerError> {
        Ledger::submit_event(self, req)
    }
    fn rotate(&mut self, validators: usize) -> Result<u64, LedgerError> {
        Ledger::rotate(self, validators)
    }
    fn register_platform(&mut self, chain: ChainId, key: RelayerKey) {
        Ledger::register_platform(self, chain, key)
    }
    fn pint_start(&mut self, envelope: serde_json::Value) -> PintReply {
        Ledger::pint_start(self, envelope)
    }
    fn pint_document(&mut self, reference: String, checksum: String, body: &str) -> PintReply {
        Ledger::pint_document(self, reference, checksum, body)
    }
    fn pint_finish(&mut self, reference: String) -> PintReply {
        Ledger::pint_finish(self, reference)
    }
    fn register_pint_platform(
        &mut self,
        code: String,
        jwk: serde_json::Value,
    ) -> Result<(), crate::apps::pint::KeyError> {
        Ledger::register_pint_platform(self, code, jwk)
    }
    fn pint_platform(&self) -> serde_json::Value {
        Ledger::pint_platform(self)
    }
    fn app_record(
        &self,
        app: &str,
        kind: &str,
        key: &str,
    ) -> Result<serde_json::Value, LedgerError> {
        Ledger::app_record(self, app, kind, key)
    }
    fn seal(&mut self, now: Timestamp) -> Result<u64, LedgerError> {
        Ledger::seal(self, now)
    }
    fn has_pending(&self) -> bool {
        Ledger::has_pending(self)
    }
    fn height(&self) -> u64 {
        Ledger::height(self)
    }
    fn building_height(&self) -> u64 {
        Ledger::building_height(self)
    }
    fn snapshot(&mut self) -> Result<(), LedgerError> {
        Ledger::snapshot(self)
    }
    fn set_snapshot_policy(&mut self, policy: SnapshotPolicy) {
        Ledger::set_snapshot_policy(self, policy)
    }
    fn set_event_options(&mut self, options: adapters::events::Options) {
        Ledger::set_event_options(self, options)
    }
    fn witness(
        &self,
        height: u64,
        packets: &[light_clients::PacketId],
        policy: &light_clients::zk::PathPolicy,
        params: circuits::DisclosureParams,
    ) -> Result<Witness, LedgerError> {
        Ledger::witness(self, height, packets, policy, params)
    }
    fn path_policy(
        &self,
        source: &ChainId,
        app: light_clients::App,
    ) -> adapters::wire::PathPolicyResponse {
        adapters::wire::PathPolicyResponse {
            version: adapters::wire::WIRE_VERSION,
            source: source.clone(),
            app,
            policy: self.host().path_policy(source, app),
            key_registered: self.host().verifying_key(source, app).is_some(),
        }
    }
    fn finalize_block(
        &mut self,
        height: u64,
        time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<Finalized, AbciError> {
        Ledger::finalize_block(self, height, time, txs)
    }
    fn abci_commit(&mut self) -> Result<u64, AbciError> {
        Ledger::abci_commit(self)
    }
    fn check_tx(&self, tx: &[u8]) -> TxOutcome {
        Ledger::check_tx(self, tx)
    }
    fn abci_info(&self) -> (u64, light_clients::Hash32) {
        Ledger::abci_info(self)
    }
    fn has_uncommitted(&self) -> bool {
        Ledger::has_uncommitted(self)
    }
}

pub(crate) type Job = Box<dyn FnOnce(&mut dyn LedgerApi) + Send>;

/// A cheap handle to a running ledger.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    pub(crate) jobs: mpsc::Sender<Job>,
    pub(crate) heights: watch::Receiver<u64>,
    pub chain_id: ChainId,
    pub family: FamilyName,
    pub admin_token: String,
    pub metrics: Arc<crate::metrics::LedgerMetrics>,
    /// The disclosure prover, on a node that runs one.
    pub prover: Option<Arc<crate::prover::Prover>>,
}

/// Why a job did not run on the ledger thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The ledger thread has stopped: the job cannot reach it, or its answer cannot come back.
    #[error("the ledger has stopped")]
    Stopped,
}

impl CallError {
    /// The stable code of the error (`code` in the RPC's error body).
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Stopped => "stopped",
        }
    }
}

impl NodeHandle {
    /// Runs `f` on the ledger thread and returns its answer.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn LedgerApi) -> R + Send + 'static,
    ) -> Result<R, CallError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |ledger| {
                let _ = tx.send(f(ledger));
            }))
            .map_err(|_| CallError::Stopped)?;
        rx.await.map_err(|_| CallError::Stopped)
    }

    /// The latest sealed height.
    pub fn height(&self) -> u64 {
        *self.heights.borrow()
    }

    /// Waits until the block at `height` is sealed, which is when it is on
    /// disk: `seal` commits the block and its inputs in one store transaction
    /// before the height is published. There is no deadline: the ledger
    /// thread seals every block time, so only its stopping ends the wait
    /// early (`Stopped`, and then the inputs of that block may be lost).
    pub async fn wait_sealed(&self, height: u64) -> Result<(), CallError> {
        let mut rx = self.heights.clone();
        let waited = rx.wait_for(|h| *h >= height).await.map(|_| ());
        // A final seal at shutdown publishes its height just before the
        // sender goes away; what counts is the last height published.
        if waited.is_err() && *rx.borrow() < height {
            return Err(CallError::Stopped);
        }
        Ok(())
    }

    /// Waits until a block above `height` is sealed, or `max` passes; returns the latest height.
    pub async fn wait_above(&self, height: u64, max: Duration) -> u64 {
        let mut rx = self.heights.clone();
        let _ = tokio::time::timeout(max, rx.wait_for(|h| *h > height)).await;
        let latest = *rx.borrow();
        latest
    }
}

/// The ledger thread: jobs as they come, a seal every `block_time`.
pub(crate) fn run_ledger(
    mut ledger: Box<dyn LedgerApi>,
    jobs: mpsc::Receiver<Job>,
    heights: watch::Sender<u64>,
    block_time: Duration,
    shutdown: CancellationToken,
    metrics: Arc<crate::metrics::LedgerMetrics>,
) {
    let mut next_seal = Instant::now() + block_time;
    loop {
        if shutdown.is_cancelled() {
            if ledger.has_pending() {
                // Nothing accepted is lost: seal what the block holds.
                if let Err(e) = ledger.seal(now()) {
                    tracing::error!(error = %e, "final seal failed");
                }
                heights.send_replace(ledger.height());
            }
            // A restart then has no blocks to replay.
            if let Err(e) = ledger.snapshot() {
                tracing::error!(error = %e, "final snapshot failed");
            }
            return;
        }
        let wait = next_seal
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(100));
        match jobs.recv_timeout(wait) {
            Ok(job) => job(ledger.as_mut()),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if Instant::now() >= next_seal {
            let started = Instant::now();
            match ledger.seal(now()) {
                Ok(height) => {
                    metrics.sealed(height, started.elapsed());
                    heights.send_replace(height);
                }
                Err(e) => {
                    // The store refused a block: stop rather than run on with
                    // state that is not on disk.
                    tracing::error!(
                        code = e.code(),
                        error = %e,
                        "sealing failed; the ledger stops"
                    );
                    return;
                }
            }
            next_seal += block_time;
            if next_seal < Instant::now() {
                next_seal = Instant::now() + block_time;
            }
        }
    }
}

/// The ledger thread under CometBFT (`crate::abci`): jobs as they come, no
/// timer (CometBFT's `Commit` writes each block); at shutdown a snapshot,
/// unless a finalized block waits for its `Commit` (the state in memory is
/// then ahead of the store, and CometBFT replays that block at the restart).
pub(crate) fn run_driven(
    mut ledger: Box<dyn LedgerApi>,
    jobs: mpsc::Receiver<Job>,
    shutdown: CancellationToken,
) {
    loop {
        if shutdown.is_cancelled() {
            if !ledger.has_uncommitted() {
                if let Err(e) = ledger.snapshot() {
                    tracing::error!(error = %e, "final snapshot failed");
                }
            }
            return;
        }
        match jobs.recv_timeout(Duration::from_millis(100)) {
            Ok(job) => job(ledger.as_mut()),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}
