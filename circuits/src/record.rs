//! Records: what a ledger commits per packet in `zk_root`.
//!
//! A record is a packet id and `W` field elements, salted:
//!
//! ```text
//! leaf = Poseidon(salt, packet_id, f_1, ..., f_W)      (W + 2 inputs, W <= 14)
//! ```
//!
//! The salt is secret and uniform, so a hidden low-entropy field (an amount, a
//! port code) cannot be found by hashing guesses against the leaf. The packet
//! id is part of the leaf so that a proof about a record is a proof about that
//! packet. What each `f_i` means is the adapters' business (one layout per
//! event kind); how values are encoded is in [`crate::encode`].

use ark_bn254::Fr;
use rand_core::RngCore;
use sha2::{Digest, Sha256};

use crate::encode;
use crate::error::TreeError;
use crate::poseidon;

/// The most fields a record has: the leaf hash takes salt, packet id and the
/// fields, and Poseidon takes at most 16 inputs.
pub const MAX_FIELDS: usize = poseidon::MAX_INPUTS - 2;

/// A salted record of one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Secret, uniform: see [`salt`] and [`derive_salt`].
    pub salt: Fr,
    /// The packet's id (see [`encode::digest`]).
    pub packet_id: Fr,
    /// The fields, in the layout the adapter defines for the event kind.
    pub fields: Vec<Fr>,
}

impl Record {
    /// A record of 1..=14 fields.
    pub fn new(salt: Fr, packet_id: Fr, fields: Vec<Fr>) -> Result<Self, TreeError> {
        check_width(fields.len())?;
        Ok(Record {
            salt,
            packet_id,
            fields,
        })
    }

    /// `Poseidon(salt, packet_id, f_1..f_W)`.
    pub fn leaf(&self) -> Result<Fr, TreeError> {
        check_width(self.fields.len())?;
        let mut inputs = Vec::with_capacity(self.fields.len() + 2);
        inputs.push(self.salt);
        inputs.push(self.packet_id);
        inputs.extend_from_slice(&self.fields);
        poseidon::hash(&inputs).map_err(|_| TreeError::WidthRange {
            width: self.fields.len(),
            max: MAX_FIELDS,
        })
    }
}

pub(crate) fn check_width(width: usize) -> Result<(), TreeError> {
    if width == 0 || width > MAX_FIELDS {
        return Err(TreeError::WidthRange {
            width,
            max: MAX_FIELDS,
        });
    }
    Ok(())
}

/// A fresh random salt (248 bits).
pub fn salt(rng: &mut impl RngCore) -> Fr {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    encode::digest(&bytes)
}

/// A salt derived from a ledger's secret and the packet, for ledgers that must
/// rebuild the same `zk_root` when they replay their blocks:
/// `SHA-256("portrelay.zk.salt.v1" || secret || context)`, first 31 bytes.
/// The secret never leaves the source ledger's operator.
pub fn derive_salt(secret: &[u8; 32], context: &[u8]) -> Fr {
    let mut h = Sha256::new();
    h.update(b"portrelay.zk.salt.v1");
    h.update(secret);
    h.update(context);
    encode::digest(&h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_is_poseidon_of_salt_id_and_fields() {
        let r = Record::new(
            Fr::from(7u64),
            Fr::from(9u64),
            vec![Fr::from(1u64), Fr::from(2u64)],
        )
        .unwrap();
        let want = poseidon::hash(&[7u64, 9, 1, 2].map(Fr::from)).unwrap();
        assert_eq!(r.leaf().unwrap(), want);
    }

    #[test]
    fn widths_are_checked() {
        assert!(Record::new(Fr::from(1u64), Fr::from(1u64), vec![]).is_err());
        assert!(Record::new(Fr::from(1u64), Fr::from(1u64), vec![Fr::from(0u64); 15]).is_err());
        assert!(Record::new(Fr::from(1u64), Fr::from(1u64), vec![Fr::from(0u64); 14]).is_ok());
    }

    #[test]
    fn salt_changes_the_leaf_and_derivation_is_deterministic() {
        let secret = [3u8; 32];
        let a = derive_salt(&secret, b"packet 1");
        assert_eq!(a, derive_salt(&secret, b"packet 1"));
        assert_ne!(a, derive_salt(&secret, b"packet 2"));
        assert_ne!(a, derive_salt(&[4u8; 32], b"packet 1"));
        let r1 = Record::new(a, Fr::from(1u64), vec![Fr::from(5u64)]).unwrap();
        let r2 = Record::new(
            derive_salt(&secret, b"packet 2"),
            Fr::from(1u64),
            vec![Fr::from(5u64)],
        )
        .unwrap();
        assert_ne!(r1.leaf().unwrap(), r2.leaf().unwrap());
    }
}
