//! The node's disclosure prover: Groth16 proofs of what a destination asks
//! of this ledger's records, built off the async runtime in a bounded pool.
//!
//! Keys come from the seeded devnet setup (`circuits::groth16::setup` with
//! [`DEVNET_SETUP_SEED`]): UNSAFE FOR PRODUCTION, since anyone who knows the
//! seed can forge proofs. A production ledger loads keys from a ceremony.

use std::sync::Arc;
use std::time::Instant;

use adapters::wire::{ZkKeyResponse, WIRE_VERSION};
use light_clients::zk::{Disclosure, VerifyingKeyBytes};
use tokio::sync::Semaphore;

use crate::ledger::Witness;
use crate::metrics::LedgerMetrics;

/// The devnet setup's seed (public, hence devnet-unsafe).
pub const DEVNET_SETUP_SEED: [u8; 32] = *b"portrelay devnet groth16 setup 1";

/// Requests admitted at once (waiting or proving); more are refused with
/// 503 `prover_busy` rather than queued without bound, since one proof of
/// K records takes about K x 0.3 s on this machine.
pub const QUEUE: usize = 32;

/// Proofs built at once: arkworks' prover already uses every core.
const PROVING: usize = 1;

/// Why a prover could not start or prove.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProverError {
    /// The devnet setup could not build the keys.
    #[error(transparent)]
    Setup(circuits::ProveError),
    /// A task on the blocking pool panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
    /// The pool of proofs in progress is closed.
    #[error(transparent)]
    Closed(#[from] tokio::sync::AcquireError),
    /// [`QUEUE`] requests are admitted already.
    #[error("{queue} disclosure requests are queued; retry later")]
    Busy { queue: usize },
    /// No fresh randomness for the proof.
    #[error(transparent)]
    Entropy(std::io::Error),
    /// The witness does not satisfy the circuit.
    #[error(transparent)]
    Unprovable(circuits::ProveError),
}

impl ProverError {
    /// The stable code of the error (`code` in the RPC's error body).
    pub fn code(&self) -> &'static str {
        match self {
            ProverError::Setup(_) | ProverError::Task(_) | ProverError::Closed(_) => "prover",
            ProverError::Busy { .. } => "prover_busy",
            ProverError::Entropy(_) => "entropy",
            ProverError::Unprovable(_) => "unprovable",
        }
    }
}

/// The prover of one ledger node.
#[derive(Debug)]
pub struct Prover {
    pk: Arc<circuits::ProvingKey>,
    vk: circuits::VerifyingKey,
    /// Admission: bounds the queue (see [`QUEUE`]).
    admitted: Semaphore,
    /// Proofs in progress (see [`PROVING`]).
    proving: Arc<Semaphore>,
    metrics: Arc<LedgerMetrics>,
}

impl Prover {
    /// Runs the devnet setup for `params` (off the runtime: seconds at depth 16).
    pub async fn start(
        params: circuits::DisclosureParams,
        metrics: Arc<LedgerMetrics>,
    ) -> Result<Arc<Self>, ProverError> {
        let (pk, vk) = tokio::task::spawn_blocking(move || {
            circuits::groth16::setup(params, DEVNET_SETUP_SEED)
        })
        .await?
        .map_err(ProverError::Setup)?;
        Ok(Arc::new(Prover {
            pk: Arc::new(pk),
            vk,
            admitted: Semaphore::new(QUEUE),
            proving: Arc::new(Semaphore::new(PROVING)),
            metrics,
        }))
    }

    pub fn params(&self) -> circuits::DisclosureParams {
        self.vk.params
    }

    pub fn key(&self) -> ZkKeyResponse {
        ZkKeyResponse {
            version: WIRE_VERSION,
            depth: self.vk.params.depth,
            records: self.vk.params.records,
            width: self.vk.params.width,
            key: VerifyingKeyBytes(circuits::groth16::vk_to_bytes(&self.vk)),
            devnet_unsafe: true,
        }
    }

    /// Proves `witness`; refused at once when [`QUEUE`] requests are in.
    pub async fn prove(&self, witness: Witness) -> Result<Disclosure, ProverError> {
        let _admitted = self
            .admitted
            .try_acquire()
            .map_err(|_| ProverError::Busy { queue: QUEUE })?;
        self.metrics.zk_queued(true);
        let result = self.prove_admitted(witness).await;
        self.metrics.zk_queued(false);
        result
    }

    async fn prove_admitted(&self, witness: Witness) -> Result<Disclosure, ProverError> {
        let proving = self.proving.clone().acquire_owned().await?;
        let seed: [u8; 32] = crate::clock::entropy().map_err(ProverError::Entropy)?;
        let pk = self.pk.clone();
        let records = witness.openings.len();
        let started = Instant::now();
        let proved = tokio::task::spawn_blocking(move || {
            let _proving = proving;
            circuits::groth16::prove_seeded(&pk, &witness.statement, &witness.openings, seed)
                .map(|proof| (proof, witness.disclosure))
        })
        .await?;
        let (proof, mut disclosure) = proved.map_err(ProverError::Unprovable)?;
        self.metrics.proved(records, started.elapsed());
        disclosure.proof = circuits::groth16::proof_to_bytes(&proof);
        Ok(disclosure)
    }
}
