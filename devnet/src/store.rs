//! The node's data directory: one redb file holding every sealed block and,
//! written in the same transaction, the ledger state after it, so a restart
//! resumes exactly where the last sealed block left off.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{de::DeserializeOwned, Serialize};

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
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
}

fn dberr<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Db(e.to_string())
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
        serde_json::from_slice(bytes.value())
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                key: key.to_string(),
                reason: e.to_string(),
            })
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
        let txn = self.db.begin_read().map_err(dberr)?;
        let table = txn.open_table(BLOCKS).map_err(dberr)?;
        let Some(bytes) = table.get(height).map_err(dberr)? else {
            return Ok(None);
        };
        serde_json::from_slice(bytes.value())
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                key: format!("block {height}"),
                reason: e.to_string(),
            })
    }

    /// Writes a sealed block and the state after it, atomically.
    pub fn commit_block<B: Serialize>(
        &self,
        height: u64,
        block: &B,
        meta: &[(&str, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(block).map_err(dberr)?;
        let txn = self.db.begin_write().map_err(dberr)?;
        {
            let mut blocks = txn.open_table(BLOCKS).map_err(dberr)?;
            blocks.insert(height, bytes.as_slice()).map_err(dberr)?;
            let mut table = txn.open_table(META).map_err(dberr)?;
            for (key, value) in meta {
                table.insert(*key, value.as_slice()).map_err(dberr)?;
            }
        }
        txn.commit().map_err(dberr)
    }
}
