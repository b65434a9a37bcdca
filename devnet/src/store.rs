//! The node's data directory: one redb file holding every sealed block, the
//! inputs each block executed (signed transactions, submitted events, admin
//! calls) and, every so often, a snapshot of the ledger state.
//!
//! A block's write is one redb transaction and costs what the block holds:
//! its record, its inputs, the tip and the key ring. The state itself (host,
//! apps, `sent_at`) is written only with a snapshot, so its O(state) cost is
//! amortised over many blocks. A restart loads the latest snapshot and
//! replays the inputs of the blocks after it, checking that each replayed
//! block yields the roots stored for it. A crash between blocks leaves the
//! last committed transaction: a snapshot at or below the tip and the inputs
//! of every block above it.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{de::DeserializeOwned, Serialize};

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const INPUTS: TableDefinition<u64, &[u8]> = TableDefinition::new("inputs");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// redb refused an operation.
    #[error("store: {0}")]
    Db(String),
    /// A stored record does not parse: the data directory is damaged or from another version.
    #[error("store: record {key} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
    /// A record cannot be encoded.
    #[error("store: cannot encode {key}: {reason}")]
    Encode { key: String, reason: String },
}

impl StoreError {
    /// The stable code of the error (`code` in the RPC's error body).
    pub fn code(&self) -> &'static str {
        "store"
    }
}

fn dberr<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Db(e.to_string())
}

fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Encode {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

fn decode<T: DeserializeOwned>(key: impl Into<String>, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.into(),
        reason: e.to_string(),
    })
}

/// What one seal writes, in one transaction.
#[derive(Debug)]
pub struct BlockWrite<'a> {
    pub height: u64,
    /// The block's record, JSON.
    pub block: &'a [u8],
    /// The block's inputs, JSON.
    pub inputs: &'a [u8],
    /// Small state records written every block (tip, key ring).
    pub meta: &'a [(&'a str, Vec<u8>)],
    /// A snapshot of the state after this block, when one is due.
    pub snapshot: Option<&'a [(&'a str, Vec<u8>)]>,
}

/// The ledger's redb file.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(dberr)?;
        let db = Database::create(dir.join("ledger.redb")).map_err(dberr)?;
        let txn = db.begin_write().map_err(dberr)?;
        {
            txn.open_table(BLOCKS).map_err(dberr)?;
            txn.open_table(INPUTS).map_err(dberr)?;
            txn.open_table(META).map_err(dberr)?;
        }
        txn.commit().map_err(dberr)?;
        Ok(Store { db })
    }

    /// A state record, if written.
    pub fn meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let table = txn.open_table(META).map_err(dberr)?;
        let Some(bytes) = table.get(key).map_err(dberr)? else {
            return Ok(None);
        };
        decode(key, bytes.value()).map(Some)
    }

    /// The highest sealed height (0 before genesis).
    pub fn latest_height(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let table = txn.open_table(BLOCKS).map_err(dberr)?;
        let last = table
            .last()
            .map_err(dberr)?
            .map(|(k, _)| k.value())
            .unwrap_or(0);
        Ok(last)
    }

    /// A sealed block's record.
    pub fn block<T: DeserializeOwned>(&self, height: u64) -> Result<Option<T>, StoreError> {
        self.record(BLOCKS, "block", height)
    }

    /// A sealed block's inputs (absent for blocks written before inputs were kept).
    pub fn inputs<T: DeserializeOwned>(&self, height: u64) -> Result<Option<T>, StoreError> {
        self.record(INPUTS, "inputs of block", height)
    }

    fn record<T: DeserializeOwned>(
        &self,
        table: TableDefinition<u64, &[u8]>,
        what: &str,
        height: u64,
    ) -> Result<Option<T>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let table = txn.open_table(table).map_err(dberr)?;
        let Some(bytes) = table.get(height).map_err(dberr)? else {
            return Ok(None);
        };
        decode(format!("{what} {height}"), bytes.value()).map(Some)
    }

    /// Writes a sealed block, its inputs, the small records and (when due)
    /// a snapshot, atomically: all of it or none.
    pub fn commit_block(&self, write: &BlockWrite<'_>) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(dberr)?;
        {
            let mut blocks = txn.open_table(BLOCKS).map_err(dberr)?;
            blocks.insert(write.height, write.block).map_err(dberr)?;
            let mut inputs = txn.open_table(INPUTS).map_err(dberr)?;
            inputs.insert(write.height, write.inputs).map_err(dberr)?;
            let mut table = txn.open_table(META).map_err(dberr)?;
            for (key, value) in write.meta.iter().chain(write.snapshot.unwrap_or(&[])) {
                table.insert(*key, value.as_slice()).map_err(dberr)?;
            }
        }
        txn.commit().map_err(dberr)
    }

    /// Writes state records alone (a snapshot at the tip), atomically.
    pub fn put_meta(&self, records: &[(&str, Vec<u8>)]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(dberr)?;
        {
            let mut table = txn.open_table(META).map_err(dberr)?;
            for (key, value) in records {
                table.insert(*key, value.as_slice()).map_err(dberr)?;
            }
        }
        txn.commit().map_err(dberr)
    }

    /// JSON for a record, with an error naming it.
    pub fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>, StoreError> {
        encode(key, value)
    }
}

#[cfg(test)]
impl Store {
    /// Overwrites a block's inputs record (to damage a store in tests).
    pub(crate) fn put_inputs(&self, height: u64, bytes: Option<&[u8]>) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(dberr)?;
        {
            let mut inputs = txn.open_table(INPUTS).map_err(dberr)?;
            match bytes {
                Some(b) => {
                    inputs.insert(height, b).map_err(dberr)?;
                }
                None => {
                    inputs.remove(height).map_err(dberr)?;
                }
            }
        }
        txn.commit().map_err(dberr)
    }

    /// A block's inputs record as stored.
    pub(crate) fn raw_inputs(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let table = txn.open_table(INPUTS).map_err(dberr)?;
        Ok(table
            .get(height)
            .map_err(dberr)?
            .map(|v| v.value().to_vec()))
    }
}
