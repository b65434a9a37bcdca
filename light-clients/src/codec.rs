//! Canonical binary encoding: one byte string per value, with a format version.
//!
//! Every encoded message is `version (1 byte) || borsh(value)`. Borsh is a
//! deterministic encoding: little-endian fixed-width integers, `u32` length
//! prefixes for strings and sequences, one tag byte for enums and `Option`,
//! no maps, no floats. Decoding is strict: an unknown version, a tag or bool
//! outside its range, invalid UTF-8, a truncated input or trailing bytes are
//! refused, and each type's `validate` then checks its own rules (lengths,
//! character sets), so a value has exactly one accepted encoding.

use borsh::{BorshDeserialize, BorshSerialize};

/// The largest encoded message any decoder accepts, before it reads a byte.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Why bytes could not be decoded into a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is empty, so it has no version byte.
    #[error("{what}: empty input")]
    Empty { what: &'static str },
    /// The input is larger than any message of this kind may be.
    #[error("{what}: {len} bytes is over the limit of {max}")]
    TooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// The version byte names a format this build does not know.
    #[error("{what}: unsupported format version {found} (supported: {supported})")]
    UnsupportedVersion {
        what: &'static str,
        found: u8,
        supported: u8,
    },
    /// The bytes are truncated, carry trailing data or an out-of-range tag.
    #[error("{what}: malformed encoding: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// The bytes decode, but the value breaks a rule of its type.
    #[error("{what}: invalid value: {reason}")]
    Invalid { what: &'static str, reason: String },
}

/// A value with a canonical, versioned encoding.
pub trait Canonical: BorshSerialize + BorshDeserialize + Sized {
    /// What the value is, for error messages (`"packet"`, `"ack"`).
    const WHAT: &'static str;
    /// The format version written as the first byte.
    const VERSION: u8;
    /// The largest encoding accepted for this type.
    const MAX_BYTES: usize = MAX_MESSAGE_BYTES;

    /// Checks the rules that the byte layout alone cannot express.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = vec![Self::VERSION];
        // Writing into a Vec cannot fail.
        let _ = self.serialize(&mut out);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let what = Self::WHAT;
        if bytes.len() > Self::MAX_BYTES {
            return Err(DecodeError::TooLarge {
                what,
                len: bytes.len(),
                max: Self::MAX_BYTES,
            });
        }
        let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty { what })?;
        if version != Self::VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what,
                found: version,
                supported: Self::VERSION,
            });
        }
        let value = borsh::from_slice::<Self>(body).map_err(|e| DecodeError::Malformed {
            what,
            reason: e.to_string(),
        })?;
        value
            .validate()
            .map_err(|reason| DecodeError::Invalid { what, reason })?;
        Ok(value)
    }
}
