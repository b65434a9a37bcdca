//! How values become field elements: amounts, codes, digests, and the
//! 32-byte and decimal forms of a field element.
//!
//! The circuits see only BN254 scalars. The encodings the disclosure circuit
//! expects (the adapters map each event kind's fields onto them):
//! - amounts: `u64` minor units (cents, ...) as the integer itself; only such
//!   fields can take `at least` / `at most` predicates (checked as 64-bit
//!   integers in the circuit);
//! - codes (UN/LOCODEs, currency codes, status codes, container numbers, bill
//!   of lading numbers up to 31 characters): printable ASCII packed
//!   big-endian into one element, `"AB"` = `0x4142`; never 0, so 0 can mean
//!   an unused field;
//! - identifiers that are longer or binary (packet ids, party ids, document
//!   hashes): a 32-byte digest (SHA-256 of the adapter's canonical bytes)
//!   truncated to its first 31 bytes, big-endian ([`digest`]);
//! - an unused field: 0.

use ark_bn254::{Fq, Fr};
use ark_ff::{BigInteger, PrimeField};
use num_bigint::BigUint;

use crate::error::EncodeError;

/// The most bytes of a code that fit in one field element.
pub const MAX_CODE_BYTES: usize = 31;

/// An amount in minor units.
pub fn amount(minor_units: u64) -> Fr {
    Fr::from(minor_units)
}

/// A code: 1..=31 bytes of printable ASCII, packed big-endian.
pub fn code(code: &str) -> Result<Fr, EncodeError> {
    let bytes = code.as_bytes();
    if bytes.is_empty() {
        return Err(EncodeError::EmptyCode);
    }
    if bytes.len() > MAX_CODE_BYTES {
        return Err(EncodeError::CodeTooLong {
            code: code.to_owned(),
            len: bytes.len(),
            max: MAX_CODE_BYTES,
        });
    }
    if let Some(&byte) = bytes.iter().find(|b| !(0x20..=0x7e).contains(*b)) {
        return Err(EncodeError::CodeNotAscii {
            code: code.to_owned(),
            byte,
        });
    }
    Ok(Fr::from_be_bytes_mod_order(bytes))
}

/// An identifier from a 32-byte digest: its first 31 bytes, big-endian
/// (248 bits, so always below the modulus).
pub fn digest(digest: &[u8; 32]) -> Fr {
    Fr::from_be_bytes_mod_order(&digest[..31])
}

/// The canonical 32 big-endian bytes of a field element (how `zk_root` sits
/// in a header's `Hash32`).
pub fn fr_to_bytes(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    let be = x.into_bigint().to_bytes_be();
    out[32 - be.len()..].copy_from_slice(&be);
    out
}

/// The field element of 32 big-endian bytes, refused at or above the modulus.
pub fn fr_from_bytes(bytes: &[u8; 32]) -> Result<Fr, EncodeError> {
    let n = BigUint::from_bytes_be(bytes);
    ark_ff::BigInt::<4>::try_from(n)
        .ok()
        .and_then(Fr::from_bigint)
        .ok_or_else(|| EncodeError::NotCanonical { hex: hex_of(bytes) })
}

/// `0x` and 64 lowercase hex digits.
pub fn fr_to_hex(x: &Fr) -> String {
    format!("0x{}", hex_of(&fr_to_bytes(x)))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decimal, as snarkjs writes field elements.
pub fn to_decimal<F: PrimeField>(x: &F) -> String {
    let n: BigUint = x.into_bigint().into();
    n.to_string()
}

/// A field element from a decimal string: digits only, below the modulus
/// (no reduction, so every element has one accepted spelling up to leading
/// zeros).
pub fn from_decimal<F: PrimeField>(s: &str) -> Option<F> {
    if s.is_empty() || s.len() > 80 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = BigUint::parse_bytes(s.as_bytes(), 10)?;
    let big = F::BigInt::try_from(n).ok()?;
    F::from_bigint(big)
}

/// A scalar from a decimal string, naming `what` on refusal.
pub fn fr_from_decimal(what: &str, s: &str) -> Result<Fr, EncodeError> {
    from_decimal::<Fr>(s).ok_or_else(|| EncodeError::Decimal {
        what: what.to_owned(),
        value: s.to_owned(),
    })
}

/// A base-field element from a decimal string.
pub(crate) fn fq_from_decimal(s: &str) -> Option<Fq> {
    from_decimal::<Fq>(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_pack_big_endian() {
        assert_eq!(code("AB").unwrap(), Fr::from(0x4142u64));
        assert_eq!(code("CNSHK").unwrap(), Fr::from(0x434e53484bu64));
        assert_eq!(code(""), Err(EncodeError::EmptyCode));
        assert!(matches!(
            code(&"A".repeat(32)),
            Err(EncodeError::CodeTooLong { len: 32, .. })
        ));
        assert!(code(&"Z".repeat(31)).is_ok());
        assert!(matches!(
            code("caf\u{e9}"),
            Err(EncodeError::CodeNotAscii { byte: 0xc3, .. })
        ));
        assert!(matches!(
            code("a\0"),
            Err(EncodeError::CodeNotAscii { byte: 0, .. })
        ));
    }

    #[test]
    fn bytes_at_or_above_the_modulus_are_refused() {
        let p = Fr::MODULUS.to_bytes_be();
        let p: [u8; 32] = p.try_into().unwrap();
        assert!(matches!(
            fr_from_bytes(&p),
            Err(EncodeError::NotCanonical { .. })
        ));
        assert!(fr_from_bytes(&[0xff; 32]).is_err());
        let mut below = p;
        below[31] -= 1;
        assert_eq!(fr_from_bytes(&below).unwrap(), -Fr::from(1u64));
    }

    #[test]
    fn decimals_are_strict() {
        assert_eq!(from_decimal::<Fr>("12"), Some(Fr::from(12u64)));
        assert_eq!(from_decimal::<Fr>("0"), Some(Fr::from(0u64)));
        for bad in ["", "-1", "1_000", " 1", "0x10", "1e3", "1.0"] {
            assert_eq!(from_decimal::<Fr>(bad), None, "{bad:?}");
        }
        let p = BigUint::from(Fr::MODULUS).to_string();
        assert_eq!(from_decimal::<Fr>(&p), None);
        let q = BigUint::from(Fq::MODULUS).to_string();
        assert_eq!(from_decimal::<Fq>(&q), None);
        assert!(from_decimal::<Fq>(&p).is_some(), "p < q");
    }

    proptest! {
        #[test]
        fn bytes_round_trip(seed in any::<[u8; 32]>()) {
            let x = Fr::from_be_bytes_mod_order(&seed);
            prop_assert_eq!(fr_from_bytes(&fr_to_bytes(&x)).unwrap(), x);
            prop_assert_eq!(from_decimal::<Fr>(&to_decimal(&x)).unwrap(), x);
        }

        #[test]
        fn codes_are_injective(a in "[ -~]{1,31}", b in "[ -~]{1,31}") {
            prop_assert_eq!(a == b, code(&a).unwrap() == code(&b).unwrap());
        }
    }
}
