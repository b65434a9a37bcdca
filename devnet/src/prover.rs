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

use crate::ledger::{ApiError, Witness};
use crate::metrics::LedgerMetrics;

/// The devnet setup's seed (public, hence devnet-unsafe).
pub const DEVNET_SETUP_SEED: [u8; 32] = *b"portrelay devnet groth16 setup 1";

/// Requests admitted at once (waiting or proving); more are refused with
/// 503 `prover_busy` rather than queued without bound, since one proof of
/// K records takes about K x 0.3 s on this machine.
pub const QUEUE: usize = 32;

/// Proofs built at once: arkworks' prover already uses every core.
const PROVING: usize = 1;

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
    ) -> Result<Arc<Self>, ApiError> {
        let (pk, vk) = tokio::task::spawn_blocking(move || {
            circuits::groth16::setup(params, DEVNET_SETUP_SEED)
        })
        .await
        .map_err(|e| ApiError::new(500, "prover", e.to_string()))?
        .map_err(|e| ApiError::new(500, "prover", e.to_string()))?;
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
    pub async fn prove(&self, witness: Witness) -> Result<Disclosure, ApiError> {
        let _admitted = self.admitted.try_acquire().map_err(|_| {
            ApiError::new(
                503,
                "prover_busy",
                format!("{QUEUE} disclosure requests are queued; retry later"),
            )
        })?;
        self.metrics.zk_queued(true);
        let result = self.prove_admitted(witness).await;
        self.metrics.zk_queued(false);
        result
    }

    async fn prove_admitted(&self, witness: Witness) -> Result<Disclosure, ApiError> {
        let proving = self
            .proving
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::new(500, "prover", e.to_string()))?;
        let seed: [u8; 32] =
            crate::node::entropy().map_err(|e| ApiError::new(500, "entropy", e.to_string()))?;
        let pk = self.pk.clone();
        let records = witness.openings.len();
        let started = Instant::now();
        let proved = tokio::task::spawn_blocking(move || {
            let _proving = proving;
            circuits::groth16::prove_seeded(&pk, &witness.statement, &witness.openings, seed)
                .map(|proof| (proof, witness.disclosure))
        })
        .await
        .map_err(|e| ApiError::new(500, "prover", e.to_string()))?;
        let (proof, mut disclosure) =
            proved.map_err(|e| ApiError::new(422, "unprovable", e.to_string()))?;
        self.metrics.proved(records, started.elapsed());
        disclosure.proof = circuits::groth16::proof_to_bytes(&proof);
        Ok(disclosure)
    }
}
