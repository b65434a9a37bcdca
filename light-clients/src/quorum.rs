//! The quorum core every family shares: verify each signature, count each
//! signer once, credit its group's power, and compare with a threshold.
//!
//! A *member* of a signer set belongs to a *group* that carries voting power:
//! for cosco and gba the group is the validator itself; for cmport it is the
//! orderer's organisation, which counts once however many of its orderers sign.
//! Votes from signers outside the set add nothing and are not even parsed (a
//! relayer passing a header along cannot spoil it by adding junk); every vote
//! from a member is verified, and a member's signature that does not parse or
//! verify fails the whole header; a member voting twice is counted once.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::hash::sha256;

/// A signature scheme, verified one message at a time or in a batch.
pub trait SignatureScheme {
    type Key;
    type Signature;
    /// Reads a signature's wire bytes, or `None` if they are not one.
    fn parse_signature(bytes: &[u8]) -> Option<Self::Signature>;
    /// Verifies every item; on failure returns the position of an item that
    /// fails on its own (the first one).
    fn verify_all(items: &[(&Self::Key, &[u8], &Self::Signature)]) -> Result<(), usize>;
}

/// A signature (wire bytes) over `message` by the signer named `signer`.
#[derive(Debug, Clone)]
pub struct Vote<'a> {
    /// Where the vote stands in the header (a gba commit's slot index), for errors.
    pub position: usize,
    pub signer: &'a [u8],
    pub message: std::borrow::Cow<'a, [u8]>,
    pub signature: &'a [u8],
}

/// One signer of a set: its key and the group its vote credits.
#[derive(Debug, Clone)]
pub struct Member<K> {
    pub key: K,
    pub group: usize,
}

/// The signers of a set, by identity, with each group's power.
#[derive(Debug, Clone)]
pub struct Roster<K> {
    pub members: BTreeMap<Vec<u8>, Member<K>>,
    pub group_power: Vec<u64>,
}

impl<K> Roster<K> {
    pub fn total_power(&self) -> u64 {
        self.group_power
            .iter()
            .fold(0u64, |acc, p| acc.saturating_add(*p))
    }
}

/// Power that signed against the set's total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    pub signed: u64,
    pub total: u64,
}

/// A signature from a member of the set did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSignature {
    /// The vote's position in the header, as the vote gave it.
    pub position: usize,
    /// The signer, hex-encoded.
    pub signer: String,
}

/// Verifies the votes of `roster`'s members and tallies their groups' power.
pub fn tally<S: SignatureScheme>(
    roster: &Roster<S::Key>,
    votes: &[Vote<'_>],
) -> Result<Tally, BadSignature> {
    // `i` indexes `votes`; the error reports the position the vote gave itself.
    let bad = |i: usize| match votes.get(i) {
        Some(v) => BadSignature {
            position: v.position,
            signer: hex::encode(v.signer),
        },
        None => BadSignature {
            position: i,
            signer: String::new(),
        },
    };
    let mut parsed = Vec::new();
    let mut positions = Vec::new();
    let mut groups = BTreeSet::new();
    for (i, vote) in votes.iter().enumerate() {
        let Some(member) = roster.members.get(vote.signer) else {
            continue;
        };
        let signature = S::parse_signature(vote.signature).ok_or_else(|| bad(i))?;
        parsed.push((&member.key, vote.message.as_ref(), signature));
        positions.push(i);
        groups.insert(member.group);
    }
    let items: Vec<_> = parsed.iter().map(|(k, m, s)| (*k, *m, s)).collect();
    if let Err(failed) = S::verify_all(&items) {
        return Err(bad(positions.get(failed).copied().unwrap_or(0)));
    }
    let signed = groups
        .iter()
        .map(|g| roster.group_power.get(*g).copied().unwrap_or(0))
        .fold(0u64, |acc, p| acc.saturating_add(p));
    Ok(Tally {
        signed,
        total: roster.total_power(),
    })
}

/// A fraction of voting power, `numerator / denominator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fraction {
    pub numerator: u64,
    pub denominator: u64,
}

impl Fraction {
    pub const ONE_THIRD: Fraction = Fraction {
        numerator: 1,
        denominator: 3,
    };
    pub const TWO_THIRDS: Fraction = Fraction {
        numerator: 2,
        denominator: 3,
    };

    /// A trust threshold: between 1/3 and 1 inclusive (as CometBFT requires).
    pub fn trust_threshold(numerator: u64, denominator: u64) -> Result<Self, String> {
        if denominator == 0
            || numerator > denominator
            || u128::from(numerator) * 3 < u128::from(denominator)
        {
            return Err(format!(
                "trust threshold {numerator}/{denominator} must be between 1/3 and 1"
            ));
        }
        Ok(Fraction {
            numerator,
            denominator,
        })
    }

    /// Whether `signed` is strictly more than this fraction of `total`.
    pub fn exceeded_by(self, signed: u64, total: u64) -> bool {
        u128::from(signed) * u128::from(self.denominator)
            > u128::from(total) * u128::from(self.numerator)
    }
}

impl core::fmt::Display for Fraction {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

impl core::str::FromStr for Fraction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (n, d) = s
            .split_once('/')
            .ok_or_else(|| format!("expected N/D, got {s:?}"))?;
        let n = n
            .trim()
            .parse()
            .map_err(|_| format!("bad numerator in {s:?}"))?;
        let d = d
            .trim()
            .parse()
            .map_err(|_| format!("bad denominator in {s:?}"))?;
        Fraction::trust_threshold(n, d)
    }
}

/// When a set's signatures make a header valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quorum {
    /// Strictly more than this fraction of the total power.
    MoreThan(Fraction),
    /// At least this much power (cmport's "k of n organisations").
    AtLeast(u64),
}

impl Quorum {
    pub fn is_met(self, tally: Tally) -> bool {
        match self {
            Quorum::MoreThan(f) => f.exceeded_by(tally.signed, tally.total),
            Quorum::AtLeast(k) => tally.signed >= k,
        }
    }
}

impl core::fmt::Display for Quorum {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Quorum::MoreThan(fr) => write!(f, "more than {fr}"),
            Quorum::AtLeast(k) => write!(f, "at least {k}"),
        }
    }
}

/// Ed25519 under ZIP-215 (ed25519-consensus), as CometBFT and tendermint-rs verify it.
#[derive(Debug)]
pub enum Ed25519 {}

/// From this many signatures on, a batch check is cheaper than single checks
/// (see `docs/benchmarks.md`).
pub const ED25519_BATCH_MIN: usize = 4;

impl SignatureScheme for Ed25519 {
    type Key = ed25519_consensus::VerificationKeyBytes;
    type Signature = ed25519_consensus::Signature;

    fn parse_signature(bytes: &[u8]) -> Option<Self::Signature> {
        ed25519_consensus::Signature::try_from(bytes).ok()
    }

    fn verify_all(items: &[(&Self::Key, &[u8], &Self::Signature)]) -> Result<(), usize> {
        if items.len() >= ED25519_BATCH_MIN {
            let mut batch = ed25519_consensus::batch::Verifier::new();
            for (key, msg, sig) in items {
                batch.queue((**key, **sig, msg));
            }
            if batch.verify(batch_rng(items)).is_ok() {
                return Ok(());
            }
            // ZIP-215 makes batch and single checks accept exactly the same
            // signatures, so the single checks below find the culprit.
        }
        for (position, (key, msg, sig)) in items.iter().enumerate() {
            let ok = ed25519_consensus::VerificationKey::try_from(**key)
                .and_then(|vk| vk.verify(sig, msg))
                .is_ok();
            if !ok {
                return Err(position);
            }
        }
        // Unreachable when the batch failed (ZIP-215); refuse rather than accept.
        if items.len() >= ED25519_BATCH_MIN {
            return Err(0);
        }
        Ok(())
    }
}

/// The batch's random coefficients are derived from the batch itself, so a
/// host stays deterministic; since they depend on every key, message and
/// signature, a forger cannot pick inputs after seeing the coefficients.
fn batch_rng(
    items: &[(
        &ed25519_consensus::VerificationKeyBytes,
        &[u8],
        &ed25519_consensus::Signature,
    )],
) -> rand_chacha::ChaCha20Rng {
    use rand_core::SeedableRng;
    let mut transcript = Vec::with_capacity(items.len() * 200);
    transcript.extend_from_slice(b"portrelay/ed25519-batch/v1");
    for (key, msg, sig) in items {
        transcript.extend_from_slice(key.as_bytes());
        transcript.extend_from_slice(&sig.to_bytes());
        transcript.extend_from_slice(&(msg.len() as u64).to_le_bytes());
        transcript.extend_from_slice(msg);
    }
    rand_chacha::ChaCha20Rng::from_seed(sha256(&[&transcript]).0)
}

/// An ECDSA scheme verified on a precomputed digest, low S only (Fabric and
/// Ethereum-style ledgers both refuse the malleable high-S twin).
macro_rules! ecdsa_scheme {
    ($(#[$doc:meta])* $name:ident, $curve:ident, $parse:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub enum $name {}

        impl SignatureScheme for $name {
            type Key = $curve::ecdsa::VerifyingKey;
            type Signature = $curve::ecdsa::Signature;

            fn parse_signature(bytes: &[u8]) -> Option<Self::Signature> {
                $parse(bytes).ok()
            }

            fn verify_all(items: &[(&Self::Key, &[u8], &Self::Signature)]) -> Result<(), usize> {
                use $curve::ecdsa::signature::hazmat::PrehashVerifier;
                for (position, (key, digest, sig)) in items.iter().enumerate() {
                    let low_s = sig.normalize_s().is_none();
                    if !low_s || key.verify_prehash(digest, *sig).is_err() {
                        return Err(position);
                    }
                }
                Ok(())
            }
        }
    };
}

ecdsa_scheme!(
    /// ECDSA P-256 over a SHA-256 digest; signatures in ASN.1 DER, as Fabric writes them.
    P256,
    p256,
    p256::ecdsa::Signature::from_der
);
ecdsa_scheme!(
    /// ECDSA secp256k1 over a Keccak-256 digest; signatures as 64 bytes `r || s`.
    K256,
    k256,
    k256::ecdsa::Signature::from_slice
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn thresholds() {
        let t = Fraction::TWO_THIRDS;
        assert!(!t.exceeded_by(2, 3));
        assert!(t.exceeded_by(3, 4));
        assert!(!t.exceeded_by(4, 6));
        assert!(t.exceeded_by(5, 6));
        assert!(Fraction::ONE_THIRD.exceeded_by(2, 4));
        assert!(!Fraction::ONE_THIRD.exceeded_by(1, 3));
        assert!(Quorum::AtLeast(2).is_met(Tally {
            signed: 2,
            total: 3
        }));
        assert!(!Quorum::AtLeast(2).is_met(Tally {
            signed: 1,
            total: 3
        }));
    }

    #[test]
    fn trust_threshold_bounds() {
        assert!("1/3".parse::<Fraction>().is_ok());
        assert!("2/3".parse::<Fraction>().is_ok());
        assert!("1/1".parse::<Fraction>().is_ok());
        for bad in ["1/4", "4/3", "1/0", "x", "1/x"] {
            assert!(bad.parse::<Fraction>().is_err(), "{bad}");
        }
    }

    type Signed = (Vec<u8>, Vec<u8>, Vec<u8>);

    fn ed_member(seed: u8) -> (ed25519_consensus::SigningKey, Vec<u8>) {
        let sk = ed25519_consensus::SigningKey::from([seed; 32]);
        let id = sk.verification_key().to_bytes().to_vec();
        (sk, id)
    }

    fn roster(
        keys: &[(ed25519_consensus::SigningKey, Vec<u8>)],
        powers: &[u64],
    ) -> Roster<ed25519_consensus::VerificationKeyBytes> {
        Roster {
            members: keys
                .iter()
                .enumerate()
                .map(|(g, (sk, id))| {
                    (
                        id.clone(),
                        Member {
                            key: sk.verification_key().into(),
                            group: g,
                        },
                    )
                })
                .collect(),
            group_power: powers.to_vec(),
        }
    }

    /// (signer, message, signature) of each key over `msg`.
    fn signed(keys: &[(ed25519_consensus::SigningKey, Vec<u8>)], msg: &[u8]) -> Vec<Signed> {
        keys.iter()
            .map(|(sk, id)| (id.clone(), msg.to_vec(), sk.sign(msg).to_bytes().to_vec()))
            .collect()
    }

    fn votes(signed: &[Signed]) -> Vec<Vote<'_>> {
        signed
            .iter()
            .enumerate()
            .map(|(position, (id, m, s))| Vote {
                position,
                signer: id,
                message: Cow::Borrowed(m),
                signature: s,
            })
            .collect()
    }

    #[test]
    fn each_signer_counts_once_and_strangers_add_nothing() {
        for n in [2usize, 6] {
            // Both below and above the batch threshold.
            let keys: Vec<_> = (1..=n as u8).map(ed_member).collect();
            let r = roster(&keys, &vec![10; n]);
            let mut s = signed(&keys[..1], b"m");
            s.extend(signed(&keys[..1], b"m"));
            s.extend(signed(&[ed_member(99)], b"m"));
            // A stranger's junk is not even parsed.
            s.push((vec![7; 32], b"m".to_vec(), vec![1, 2, 3]));
            assert_eq!(
                tally::<Ed25519>(&r, &votes(&s)).unwrap(),
                Tally {
                    signed: 10,
                    total: 10 * n as u64
                }
            );
            assert_eq!(
                tally::<Ed25519>(&r, &votes(&signed(&keys, b"m")))
                    .unwrap()
                    .signed,
                10 * n as u64
            );
        }
    }

    #[test]
    fn a_bad_signature_is_named_by_position() {
        for n in [3usize, 8] {
            let keys: Vec<_> = (1..=n as u8).map(ed_member).collect();
            let r = roster(&keys, &vec![1; n]);
            let mut s = signed(&keys, b"m");
            s[2].1 = b"other".to_vec();
            assert_eq!(
                tally::<Ed25519>(&r, &votes(&s)).unwrap_err().position,
                2,
                "n={n}"
            );
            // A member's signature that is not 64 bytes.
            let mut s = signed(&keys, b"m");
            s[1].2.pop();
            assert_eq!(
                tally::<Ed25519>(&r, &votes(&s)).unwrap_err().position,
                1,
                "n={n}"
            );
            // A member's second, invalid vote is still checked.
            let mut s = signed(&keys, b"m");
            let mut again = s[0].clone();
            again.2[5] ^= 1;
            s.push(again);
            assert_eq!(
                tally::<Ed25519>(&r, &votes(&s)).unwrap_err().position,
                n,
                "n={n}"
            );
        }
    }

    #[test]
    fn batch_and_single_checks_agree() {
        let keys: Vec<_> = (1..=8u8).map(ed_member).collect();
        let r = roster(&keys, &[1; 8]);
        let s = signed(&keys, b"block");
        let sigs: Vec<_> = s
            .iter()
            .map(|(_, _, sig)| Ed25519::parse_signature(sig).unwrap())
            .collect();
        let items: Vec<_> = s
            .iter()
            .zip(&sigs)
            .map(|((id, m, _), sig)| (&r.members[id].key, m.as_slice(), sig))
            .collect();
        assert_eq!(Ed25519::verify_all(&items), Ok(()));
        assert_eq!(Ed25519::verify_all(&items[..2]), Ok(()));
        assert_eq!(batch_rng(&items).get_seed(), batch_rng(&items).get_seed());
    }

    #[test]
    fn groups_count_once() {
        // Two members of one group (an organisation) sign: one group's power.
        let keys: Vec<_> = (1..=3u8).map(ed_member).collect();
        let mut r = roster(&keys, &[1, 1]);
        r.members.get_mut(&keys[1].1).unwrap().group = 0;
        r.members.get_mut(&keys[2].1).unwrap().group = 1;
        assert_eq!(
            tally::<Ed25519>(&r, &votes(&signed(&keys[..2], b"m"))).unwrap(),
            Tally {
                signed: 1,
                total: 2
            }
        );
        assert_eq!(
            tally::<Ed25519>(&r, &votes(&signed(&keys, b"m"))).unwrap(),
            Tally {
                signed: 2,
                total: 2
            }
        );
    }
}
