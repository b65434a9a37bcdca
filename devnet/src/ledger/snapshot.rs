//! Snapshot policy: when a seal also writes the whole state, and the
//! snapshot records themselves.

use light_clients::any::IntoAny;
use light_clients::sample::Signing;
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

use super::{Ledger, LedgerError, STORE_VERSION};

/// When a seal also writes a snapshot of the state. A block's own write
/// costs what the block holds; a snapshot costs what the whole state holds,
/// so it is taken only once enough has happened since the last one that
/// replaying it at a restart would cost about as much: after `every_blocks`
/// blocks, or once the inputs logged since reach `log_bytes` or the size of
/// the last snapshot, whichever is larger. Genesis is always a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    pub every_blocks: u64,
    pub log_bytes: u64,
}

impl SnapshotPolicy {
    /// What `portledger` uses unless told otherwise: at 200 ms blocks, at
    /// most 10 minutes of blocks to replay.
    pub const DEFAULT: SnapshotPolicy = SnapshotPolicy {
        every_blocks: 3_000,
        log_bytes: 256 * 1024 * 1024,
    };
}

/// Which block the stored state (host, apps, `sent_at`) is the state after.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct SnapshotMark {
    pub(super) version: u8,
    pub(super) height: u64,
}

impl<F: Signing + IntoAny> Ledger<F> {
    /// Sets when seals write snapshots (from the next seal on).
    pub fn set_snapshot_policy(&mut self, policy: SnapshotPolicy) {
        self.snapshot_policy = policy;
    }

    /// The block the latest stored snapshot is the state after.
    pub fn snapshot_height(&self) -> u64 {
        self.snapshot_height
    }

    /// The state records of a snapshot after block `height`.
    pub(super) fn snapshot_records(
        &self,
        height: u64,
    ) -> Result<Vec<(&'static str, Vec<u8>)>, StoreError> {
        Ok(vec![
            ("host", Store::encode("host", &self.host)?),
            ("apps", Store::encode("apps", &self.apps)?),
            (
                "sent_at",
                Store::encode("sent_at", &self.sent_at.iter().collect::<Vec<_>>())?,
            ),
            (
                "admin_nonce",
                Store::encode("admin_nonce", &self.admin_nonce)?,
            ),
            (
                "snapshot",
                Store::encode(
                    "snapshot",
                    &SnapshotMark {
                        version: STORE_VERSION,
                        height,
                    },
                )?,
            ),
        ])
    }

    /// Writes a snapshot of the state after the latest sealed block (on
    /// shutdown, so that a restart has nothing to replay). Refused while
    /// the block being built holds inputs.
    pub fn snapshot(&mut self) -> Result<(), LedgerError> {
        if !self.block_inputs.is_empty() || self.closed.is_some() {
            return Err(LedgerError::BlockOpen);
        }
        let records = self.snapshot_records(self.tip.height)?;
        self.store.put_meta(&records)?;
        self.note_snapshot(self.tip.height, &records);
        Ok(())
    }

    pub(super) fn note_snapshot(&mut self, height: u64, records: &[(&str, Vec<u8>)]) {
        self.snapshot_height = height;
        self.logged_since_snapshot = 0;
        self.snapshot_bytes = records.iter().map(|(_, v)| v.len() as u64).sum();
    }
}
