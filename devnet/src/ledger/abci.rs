//! The ledger driven by CometBFT instead of its own timer (`crate::abci`,
//! `docs/cometbft.md`): `FinalizeBlock` executes a decided block's
//! transactions at CometBFT's height and time and closes the block
//! (`close`: the same host `end_block` and roots as a sealed block), its
//! `app_hash` the roots' (`Roots::app_hash`); `Commit` writes it (`write`:
//! the same redb transaction as a seal). `CheckTx` runs the checks that
//! need no execution, refusing with the host's named checks.
//!
//! Every answer that enters CometBFT's results hash (the code and the data)
//! is a function of the block's height, time and transactions and of the
//! committed state, so every validator's application answers alike.

use adapters::abci::{refusal_log, AbciTx, AdminCall, AdminTx, CODESPACE};
use adapters::wire::{self, WIRE_VERSION};
use light_clients::any::IntoAny;
use light_clients::host::{BlockContext, HostError, RelayerKey, SignedTx};
use light_clients::sample::Signing;
use light_clients::{Hash32, Timestamp};
use serde::Serialize;

use super::{Input, Ledger, LedgerError};

/// The answer to one transaction (CheckTx, or a FinalizeBlock tx result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOutcome {
    /// 0 accepted; 1 refused (the log names the check).
    pub code: u32,
    /// Accepted: the JSON the embedded ledger's RPC answers for the submission.
    pub data: Vec<u8>,
    /// Refused: JSON `{code, message}`.
    pub log: String,
}

impl TxOutcome {
    /// The codespace of a refusal.
    pub fn codespace(&self) -> &'static str {
        if self.code == 0 {
            ""
        } else {
            CODESPACE
        }
    }

    fn ok<T: Serialize>(answer: &T) -> Self {
        TxOutcome {
            code: 0,
            data: serde_json::to_vec(answer).unwrap_or_default(),
            log: String::new(),
        }
    }

    fn refused(check: &str, message: impl std::fmt::Display) -> Self {
        TxOutcome {
            code: 1,
            data: Vec::new(),
            log: refusal_log(check, &message.to_string()),
        }
    }

    fn from_error(e: &LedgerError) -> Self {
        Self::refused(e.code(), e)
    }
}

/// What `FinalizeBlock` answers.
#[derive(Debug, Clone)]
pub struct Finalized {
    pub height: u64,
    /// `Roots::app_hash` of this block's roots.
    pub app_hash: Hash32,
    pub txs: Vec<TxOutcome>,
    /// Ed25519 public keys and their new voting power, from admin calls.
    pub validator_updates: Vec<(RelayerKey, u64)>,
}

/// Why a block cannot be finalized or committed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AbciError {
    /// CometBFT asked for another height than the one after the last committed.
    #[error("FinalizeBlock at height {got}, but the application's next height is {expected}")]
    Height { expected: u64, got: u64 },
    /// A block was finalized and not committed, and another one is asked for:
    /// the application must reload its committed state (a restart).
    #[error("block {pending} was finalized but not committed; restart the application to reload its committed state")]
    Uncommitted { pending: u64 },
    /// `Commit` without a finalized block.
    #[error("Commit with no finalized block")]
    NothingFinalized,
    /// The block time is not after the last block's.
    #[error("block {height}'s time {time} is not after the last block's {last}")]
    Time {
        height: u64,
        time: Timestamp,
        last: Timestamp,
    },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl AbciError {
    pub fn code(&self) -> &'static str {
        match self {
            AbciError::Height { .. } => "abci_height",
            AbciError::Uncommitted { .. } => "abci_uncommitted",
            AbciError::NothingFinalized => "abci_nothing_finalized",
            AbciError::Time { .. } => "abci_time",
            AbciError::Ledger(e) => e.code(),
        }
    }
}

impl<F: Signing + IntoAny> Ledger<F> {
    /// The last committed height and the `app_hash` of its roots (`Info`);
    /// before the first block, height 0 and the empty roots' hash.
    pub fn abci_info(&self) -> (u64, Hash32) {
        (self.tip.height, self.tip.roots.app_hash())
    }

    /// Executes a decided block's transactions at CometBFT's height and
    /// time and closes it; the block is written by [`Ledger::abci_commit`].
    pub fn finalize_block(
        &mut self,
        height: u64,
        time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<Finalized, AbciError> {
        if let Some(pending) = &self.closed {
            return Err(AbciError::Uncommitted {
                pending: pending.ctx.height,
            });
        }
        let expected = self.tip.height + 1;
        if height != expected {
            return Err(AbciError::Height {
                expected,
                got: height,
            });
        }
        if self.tip.height > 0 && time <= self.tip.time {
            return Err(AbciError::Time {
                height,
                time,
                last: self.tip.time,
            });
        }
        self.building = BlockContext { height, time };
        let outcomes = txs.iter().map(|tx| self.deliver(tx, height)).collect();
        let validator_updates = std::mem::take(&mut self.block_validators);
        let closed = self.close()?;
        let app_hash = closed.tip.roots.app_hash();
        self.closed = Some(closed);
        Ok(Finalized {
            height,
            app_hash,
            txs: outcomes,
            validator_updates,
        })
    }

    /// Writes the finalized block (`Commit`); returns its height.
    pub fn abci_commit(&mut self) -> Result<u64, AbciError> {
        let closed = self.closed.take().ok_or(AbciError::NothingFinalized)?;
        let time = closed.ctx.time;
        Ok(self.write(closed, time)?)
    }

    /// Whether a finalized block waits for its `Commit`.
    pub fn has_uncommitted(&self) -> bool {
        self.closed.is_some()
    }

    /// Executes one transaction of the block being finalized.
    fn deliver(&mut self, bytes: &[u8], height: u64) -> TxOutcome {
        let tx = match AbciTx::decode(bytes) {
            Ok(tx) => tx,
            Err(e) => return TxOutcome::refused(e.code(), &e),
        };
        match tx {
            AbciTx::Signed(tx) => match self.execute_tx(&tx) {
                Ok(mut response) => {
                    self.block_inputs.push(Input::Tx { tx });
                    response.height = Some(height);
                    TxOutcome::ok(&response)
                }
                Err(e) => TxOutcome::from_error(&e),
            },
            AbciTx::Event(event) => match self.submit_event(&event) {
                Ok(submitted) => TxOutcome::ok(&submitted),
                Err(e) => TxOutcome::from_error(&e),
            },
            AbciTx::Admin(admin) => match self.check_admin(&admin) {
                Ok(()) => {
                    let input = Input::Admin { tx: admin };
                    // Checked above: applying an admin call cannot fail.
                    let _ = self.execute(&input);
                    self.block_inputs.push(input);
                    TxOutcome::ok(&AdminAnswer {
                        version: WIRE_VERSION,
                        nonce: self.admin_nonce - 1,
                        height,
                    })
                }
                Err(refusal) => refusal,
            },
        }
    }

    /// `CheckTx`: decoding and the checks that need no execution, against
    /// the committed state; a nonce ahead of the committed one is accepted
    /// (the transactions before it may be in the mempool), one behind refused.
    pub fn check_tx(&self, bytes: &[u8]) -> TxOutcome {
        let tx = match AbciTx::decode(bytes) {
            Ok(tx) => tx,
            Err(e) => return TxOutcome::refused(e.code(), &e),
        };
        let checked = match &tx {
            AbciTx::Signed(tx) => self
                .check_signed(tx)
                .map_err(|e| TxOutcome::refused(e.check(), &e)),
            AbciTx::Event(event) => self
                .check_event(event)
                .map_err(|e| TxOutcome::from_error(&e)),
            AbciTx::Admin(admin) => self.check_admin_stateless(admin),
        };
        match checked {
            Ok(()) => TxOutcome {
                code: 0,
                data: Vec::new(),
                log: String::new(),
            },
            Err(refusal) => refusal,
        }
    }

    /// The envelope checks of `Host::authenticate`, without consuming the
    /// nonce, and accepting a later one (the signer's earlier transactions
    /// may still wait in the mempool).
    fn check_signed(&self, tx: &SignedTx) -> Result<(), HostError> {
        self.host
            .check_envelope(tx, light_clients::host::NonceRule::AtLeast)
            .map(|_| ())
    }

    /// An event's edge checks (`events::check` with this ledger's options)
    /// and, for another network, that the channel to it is open.
    fn check_event(&self, req: &wire::SubmitEvent) -> Result<(), LedgerError> {
        wire::check_version("event submission", req.version)?;
        let checked = adapters::events::check(&req.event, &self.event_options)
            .map_err(LedgerError::Invalid)?;
        if req.destination != self.config.chain_id {
            let channel = light_clients::ChannelId {
                source: self.config.chain_id.clone(),
                destination: req.destination.clone(),
                app: checked.event.app(),
            };
            if self.host.channel(&channel).is_none() {
                return Err(HostError::UnknownChannel { channel }.into());
            }
        }
        Ok(())
    }

    fn check_admin_stateless(&self, admin: &AdminTx) -> Result<(), TxOutcome> {
        if &admin.chain_id != self.host.chain_id() {
            let e = HostError::WrongChain {
                expected: self.host.chain_id().clone(),
                found: admin.chain_id.clone(),
            };
            return Err(TxOutcome::refused(e.check(), &e));
        }
        if !admin.verify(&self.host.operator()) {
            return Err(TxOutcome::refused(
                "admin_signature",
                "the admin call is not signed by this ledger's operator key",
            ));
        }
        if admin.nonce < self.admin_nonce {
            return Err(TxOutcome::refused(
                "admin_nonce",
                format!(
                    "admin nonce {} is used; the next is {}",
                    admin.nonce, self.admin_nonce
                ),
            ));
        }
        if let AdminCall::Validator { pub_key, .. } = &admin.call {
            if ed25519_consensus::VerificationKey::try_from(pub_key.0).is_err() {
                return Err(TxOutcome::refused(
                    "validator_key",
                    format!("{pub_key} is not an Ed25519 public key"),
                ));
            }
        }
        Ok(())
    }

    fn check_admin(&self, admin: &AdminTx) -> Result<(), TxOutcome> {
        self.check_admin_stateless(admin)?;
        if admin.nonce != self.admin_nonce {
            return Err(TxOutcome::refused(
                "admin_nonce",
                format!(
                    "admin nonce {} out of turn; the next is {}",
                    admin.nonce, self.admin_nonce
                ),
            ));
        }
        Ok(())
    }

    /// Applies a checked admin call (and a replayed one).
    pub(super) fn apply_admin(&mut self, admin: &AdminTx) {
        self.admin_nonce = self.admin_nonce.saturating_add(1);
        match &admin.call {
            AdminCall::EblPlatform { chain, key } => {
                self.apps.register_platform(chain.clone(), *key);
                self.pending_events = true;
            }
            AdminCall::Validator { pub_key, power } => {
                self.block_validators.push((*pub_key, *power));
            }
        }
    }
}

/// The data of an accepted admin call.
#[derive(Debug, Serialize)]
struct AdminAnswer {
    version: u8,
    /// The nonce it used.
    nonce: u64,
    height: u64,
}
