//! Block sealing: the tip, the stored block, and `seal`, which signs the
//! header and writes the block with its inputs in one store transaction.

use adapters::wire::MsgResult;
use light_clients::any::{AnyHeader, IntoAny};
use light_clients::host::{BlockContext, BlockEvent};
use light_clients::sample::{self, BlockFields, Signing};
use light_clients::{ChannelState, Hash32, Roots, Timestamp};
use serde::{Deserialize, Serialize};

use crate::store::{BlockWrite, Store};

use super::{BlockInputs, Ledger, LedgerError, ZkRecord, RECENT_TXS, STORE_VERSION};

/// The latest sealed block, as the next one needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Tip {
    pub(super) height: u64,
    pub(super) hash: Hash32,
    pub(super) time: Timestamp,
    /// This block's own roots (a gba header commits them one block later).
    pub(super) roots: Roots,
}

/// A sealed block as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredBlock {
    pub header: AnyHeader,
    pub events: Vec<BlockEvent>,
    pub channel_states: Vec<ChannelState>,
    pub client_states: Vec<light_clients::ClientSummary>,
    pub roots: Roots,
    pub txs: Vec<(String, Vec<MsgResult>)>,
    /// The records of the block's packets, in `zk_root` order (the source's
    /// own data: never served as such, only proven about).
    #[serde(default)]
    pub records: Vec<ZkRecord>,
}

/// A block closed but not yet written (see [`Ledger::close`]).
#[derive(Debug)]
pub(super) struct Closed<K> {
    pub(super) ctx: BlockContext,
    block: Vec<u8>,
    inputs: Vec<u8>,
    meta: Vec<(&'static str, Vec<u8>)>,
    snapshot: Option<Vec<(&'static str, Vec<u8>)>>,
    logged: u64,
    txs: Vec<(String, Vec<MsgResult>)>,
    next_keys: Vec<K>,
    keyring: super::KeyRing,
    pub(super) tip: Tip,
}

/// The next block's time: now, but always after the previous block.
pub(super) fn next_time(previous: Timestamp, now: Timestamp) -> Timestamp {
    let floor = previous.saturating_add(std::time::Duration::from_millis(1));
    if now > floor {
        now
    } else {
        floor
    }
}

impl<F: Signing + IntoAny> Ledger<F> {
    /// Closes the block being built, signs and stores it; returns its height.
    pub fn seal(&mut self, now: Timestamp) -> Result<u64, LedgerError> {
        let closed = self.close()?;
        self.write(closed, now)
    }

    /// Closes the block being built: ends it in the host, signs its header
    /// and encodes what its write holds, writing nothing yet (an ABCI
    /// application answers `FinalizeBlock` from this and writes at `Commit`).
    pub(super) fn close(&mut self) -> Result<Closed<F::Key>, LedgerError> {
        let ctx = self.building;
        let out = self.host.end_block();
        let set = F::validator_set(&self.keys);
        let next_keys = match self.keyring.pending {
            Some((epoch, count)) => self.keyring.keys::<F>(epoch, count),
            None => self.keys.clone(),
        };
        let next_set = F::validator_set(&next_keys);
        // A family without lag (cmport, cosco) commits the block's own roots;
        // one with a lag of one (gba, as CometBFT does) the previous block's,
        // through app_hash. This ledger builds no family with a longer lag.
        let committed = if F::ROOTS_LAG > 0 {
            self.tip.roots
        } else {
            out.roots
        };
        let fields = BlockFields::<F> {
            chain_id: self.config.chain_id.as_str(),
            height: ctx.height,
            time: ctx.time,
            previous: self.tip.hash,
            roots: committed,
            validators: &set,
            next_validators: &next_set,
        };
        let block = sample::block(&fields, &self.keys);
        let hash = F::summary(&block.signed_header)
            .map(|s| s.hash)
            .map_err(LedgerError::Seal)?;
        let txs = std::mem::take(&mut self.block_txs);
        let stored = StoredBlock {
            header: F::any_header(block),
            events: out.events,
            channel_states: out.channel_states,
            client_states: out.client_states,
            roots: out.roots,
            txs,
            records: std::mem::take(&mut self.block_records),
        };
        let mut keyring = self.keyring.clone();
        if let Some((epoch, count)) = keyring.pending.take() {
            keyring.epoch = epoch;
            keyring.count = count;
        }
        let tip = Tip {
            height: ctx.height,
            hash,
            time: ctx.time,
            roots: out.roots,
        };
        let inputs = Store::encode(
            "inputs",
            &BlockInputs {
                version: STORE_VERSION,
                height: ctx.height,
                time: ctx.time,
                inputs: std::mem::take(&mut self.block_inputs),
            },
        )?;
        let block = Store::encode("block", &stored)?;
        let meta = vec![
            ("keyring", Store::encode("keyring", &keyring)?),
            ("tip", Store::encode("tip", &tip)?),
        ];
        let logged = self
            .logged_since_snapshot
            .saturating_add(inputs.len() as u64);
        let policy = self.snapshot_policy;
        let due = self.snapshot_height == 0
            || ctx.height.saturating_sub(self.snapshot_height) >= policy.every_blocks
            || logged >= policy.log_bytes.max(self.snapshot_bytes);
        let snapshot = if due {
            Some(self.snapshot_records(ctx.height)?)
        } else {
            None
        };
        Ok(Closed {
            ctx,
            block,
            inputs,
            meta,
            snapshot,
            logged,
            txs: stored.txs,
            next_keys,
            keyring,
            tip,
        })
    }

    /// Writes a closed block in one store transaction, then makes it the
    /// tip; the next block is built at `now` (or just after the tip).
    pub(super) fn write(
        &mut self,
        closed: Closed<F::Key>,
        now: Timestamp,
    ) -> Result<u64, LedgerError> {
        let Closed {
            ctx,
            block,
            inputs,
            meta,
            snapshot,
            logged,
            txs,
            next_keys,
            keyring,
            tip,
        } = closed;
        self.store.commit_block(&BlockWrite {
            height: ctx.height,
            block: &block,
            inputs: &inputs,
            meta: &meta,
            snapshot: snapshot.as_deref(),
        })?;
        match &snapshot {
            Some(records) => self.note_snapshot(ctx.height, records),
            None => self.logged_since_snapshot = logged,
        }
        for (id, results) in txs {
            self.remember_tx(id, ctx.height, results);
        }
        self.keys = next_keys;
        self.keyring = keyring;
        self.tip = tip;
        self.building = BlockContext {
            height: ctx.height + 1,
            time: next_time(ctx.time, now),
        };
        self.pending_events = false;
        Ok(ctx.height)
    }

    pub(super) fn remember_tx(&mut self, id: String, height: u64, results: Vec<MsgResult>) {
        self.recent_order.push_back(id.clone());
        self.recent_txs.insert(id, (height, results));
        while self.recent_order.len() > RECENT_TXS {
            if let Some(old) = self.recent_order.pop_front() {
                self.recent_txs.remove(&old);
            }
        }
    }
}
