//! Keys and secret files: the validator key ring (one seeded set per epoch,
//! rotations) and the operator, platform and `zk.secret` files of the data
//! directory.

use std::path::{Path, PathBuf};

use light_clients::any::IntoAny;
use light_clients::sample::{self, Signing};
use serde::{Deserialize, Serialize};

use super::{Ledger, LedgerError, MAX_VALIDATORS};

/// A key or secret file of the data directory that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file cannot be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file does not hold 64 hex digits.
    #[error("{} is not 64 hex digits: {source}", .path.display())]
    Hex {
        path: PathBuf,
        source: hex::FromHexError,
    },
    /// The file cannot be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl KeyError {
    /// The stable code of the error: key files are part of the store.
    pub fn code(&self) -> &'static str {
        "store"
    }
}

/// The validator keys: derived from a secret seed kept in the store, one
/// set per epoch, so a restart signs with the same keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct KeyRing {
    pub(super) seed: u64,
    pub(super) epoch: u64,
    pub(super) count: usize,
    /// A rotation announced in the next header: (epoch, count).
    pub(super) pending: Option<(u64, usize)>,
}

impl KeyRing {
    pub(super) fn keys<F: Signing>(&self, epoch: u64, count: usize) -> Vec<F::Key> {
        sample::keys::<F>(self.seed ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15), count)
    }
}

/// The operator's signing key, kept in the data directory (`operator.key`, hex).
pub fn operator_key(data_dir: &Path) -> Result<ed25519_consensus::SigningKey, KeyError> {
    read_key(data_dir, "operator.key")
}

/// An Ed25519 seed kept as hex in a file of the data directory.
pub(super) fn read_key(
    data_dir: &Path,
    name: &str,
) -> Result<ed25519_consensus::SigningKey, KeyError> {
    read_secret(data_dir, name).map(ed25519_consensus::SigningKey::from)
}

/// 32 secret bytes kept as hex in a file of the data directory.
pub(super) fn read_secret(data_dir: &Path, name: &str) -> Result<[u8; 32], KeyError> {
    let path = data_dir.join(name);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(source) => return Err(KeyError::Read { path, source }),
    };
    let mut secret = [0u8; 32];
    match hex::decode_to_slice(text.trim(), &mut secret) {
        Ok(()) => Ok(secret),
        Err(source) => Err(KeyError::Hex { path, source }),
    }
}

/// Writes 32 secret bytes as hex to a file of the data directory.
pub(super) fn write_secret(data_dir: &Path, name: &str, secret: &[u8; 32]) -> Result<(), KeyError> {
    let path = data_dir.join(name);
    std::fs::write(&path, hex::encode(secret)).map_err(|source| KeyError::Write { path, source })
}

impl<F: Signing + IntoAny> Ledger<F> {
    /// Announces a new validator set (of `count` fresh keys) in the next
    /// header; the header after it is signed by the new set.
    pub fn rotate(&mut self, count: usize) -> Result<u64, LedgerError> {
        if count == 0 || count > MAX_VALIDATORS {
            return Err(LedgerError::Validators { asked: count });
        }
        let epoch = self
            .keyring
            .pending
            .map(|(e, _)| e)
            .unwrap_or(self.keyring.epoch)
            + 1;
        self.keyring.pending = Some((epoch, count));
        Ok(self.building.height + 1)
    }
}
