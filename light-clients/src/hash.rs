//! Fixed-size digests and the two hash functions the ledger families use.

use core::fmt;
use core::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 32-byte digest (SHA-256 or Keccak-256), shown as lowercase hex.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, BorshSerialize, BorshDeserialize,
)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The all-zero value, used for reserved roots such as `zk_root`.
    pub const ZERO: Hash32 = Hash32([0; 32]);

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 32]
    }
}

/// Lowercase hex of `bytes` (a table lookup per byte, unlike `hex::encode`,
/// which goes through `char`s: this is on the hot path of every proof and payload).
pub fn hex_string(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    // Cannot fail: the buffer is exactly twice the input.
    let _ = hex::encode_to_slice(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

impl Hash32 {
    /// The 64 hex digits, without allocating.
    fn hex_digits<'a>(&self, buf: &'a mut [u8; 64]) -> &'a str {
        let _ = hex::encode_to_slice(self.0, buf);
        std::str::from_utf8(buf).unwrap_or_default()
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex_digits(&mut [0u8; 64]))
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({})", hex::encode(self.0))
    }
}

impl FromStr for Hash32 {
    type Err = hex::FromHexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)?;
        Ok(Hash32(out))
    }
}

impl Serialize for Hash32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.hex_digits(&mut [0u8; 64]))
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Digits;
        impl serde::de::Visitor<'_> for Digits {
            type Value = Hash32;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Hash32, E> {
                s.parse()
                    .map_err(|e| E::custom(format!("expected 64 hex digits: {e}")))
            }
        }
        d.deserialize_str(Digits)
    }
}

/// The hash function of a ledger family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashAlgorithm {
    Sha256,
    Keccak256,
}

impl HashAlgorithm {
    /// Hashes the concatenation of `parts`.
    pub fn digest(self, parts: &[&[u8]]) -> Hash32 {
        match self {
            HashAlgorithm::Sha256 => Hash32(digest_with::<sha2::Sha256>(parts)),
            HashAlgorithm::Keccak256 => Hash32(digest_with::<sha3::Keccak256>(parts)),
        }
    }
}

fn digest_with<D: sha2::Digest>(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = D::new();
    for part in parts {
        hasher.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(&hasher.finalize()[..32]);
    out
}

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> Hash32 {
    HashAlgorithm::Sha256.digest(parts)
}

/// Keccak-256 (the pre-standard SHA-3 used by Ethereum-style ledgers) of `parts`.
pub fn keccak256(parts: &[&[u8]]) -> Hash32 {
    HashAlgorithm::Keccak256.digest(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            sha256(&[b"abc"]).to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            keccak256(&[b""]).to_string(),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(sha256(&[b"a", b"bc"]), sha256(&[b"abc"]));
    }

    #[test]
    fn hex_round_trip_and_refusal() {
        let h = sha256(&[b"x"]);
        assert_eq!(h.to_string().parse::<Hash32>().unwrap(), h);
        assert!("00".parse::<Hash32>().is_err());
        assert!("zz".repeat(32).parse::<Hash32>().is_err());
    }
}
