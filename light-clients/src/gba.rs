//! `gba`: the CometBFT ledger shared by Shekou and Shunde. Real CometBFT
//! signed headers, commits and validator sets (tendermint-rs types, in the
//! JSON CometBFT's RPC serves); Ed25519 precommits under ZIP-215, batch
//! verified; valid when more than 2/3 of the voting power signed. The
//! interop roots sit behind `app_hash`: header H+1 carries
//! `SHA-256(encode(roots of block H))`. Profile: `docs/profiles/gba.md`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use tendermint::block::{self, CommitSig};
use tendermint::{validator, vote, PublicKey};

use crate::hash::{Hash32, HashAlgorithm};
use crate::quorum::{self, Ed25519, Fraction, Member, Quorum, Roster, Tally, Vote};
use crate::time::Timestamp;
use crate::verify::{Family, HeaderSummary, RootCommitment, VerifyError};

/// Most validators in a set.
pub const MAX_VALIDATORS: usize = 10_000;
/// The CometBFT block protocol version this build reads (CometBFT 0.34 to 0.38 and 1.x).
pub const BLOCK_VERSION: u64 = 11;

/// The family marker.
#[derive(Debug, Clone, Copy)]
pub enum Gba {}

pub type SignedHeader = block::signed_header::SignedHeader;
pub type ValidatorSet = validator::Set;

fn hash32(h: tendermint::Hash) -> Hash32 {
    let mut out = [0u8; 32];
    if let Ok(bytes) = <[u8; 32]>::try_from(h.as_bytes()) {
        out = bytes;
    }
    Hash32(out)
}

impl Family for Gba {
    const NAME: &'static str = "gba";
    const TREE_HASH: HashAlgorithm = HashAlgorithm::Sha256;
    // Block H's roots behind `app_hash` in header H+1.
    const ROOTS_LAG: u64 = 1;
    const ROOTS_OPENING: bool = true;
    type SignedHeader = SignedHeader;
    type ValidatorSet = ValidatorSet;

    fn summary(h: &SignedHeader) -> Result<HeaderSummary, VerifyError> {
        let header = &h.header;
        if header.version.block != BLOCK_VERSION {
            return Err(VerifyError::UnsupportedVersion {
                what: "block",
                found: header.version.block,
                supported: BLOCK_VERSION,
            });
        }
        let time = Timestamp::try_from(header.time).map_err(|e| VerifyError::Malformed {
            what: "header",
            reason: format!("time: {e}"),
        })?;
        Ok(HeaderSummary {
            chain_id: header.chain_id.to_string(),
            height: header.height.value(),
            time,
            hash: hash32(header.hash()),
            previous_hash: header.last_block_id.map(|id| hash32(id.hash)),
            validators_hash: hash32(header.validators_hash),
            next_validators_hash: hash32(header.next_validators_hash),
            roots: RootCommitment::AppHash(header.app_hash.as_bytes().to_vec()),
        })
    }

    fn validators_hash(set: &ValidatorSet) -> Result<Hash32, VerifyError> {
        let n = set.validators().len();
        if n == 0 || n > MAX_VALIDATORS {
            return Err(VerifyError::InvalidValidatorSet {
                reason: format!("{n} validators, expected 1 to {MAX_VALIDATORS}"),
            });
        }
        if let Some(v) = set
            .validators()
            .iter()
            .find(|v| !matches!(v.pub_key, PublicKey::Ed25519(_)))
        {
            return Err(VerifyError::InvalidValidatorSet {
                reason: format!("validator {} has a non-Ed25519 key", v.address),
            });
        }
        Ok(hash32(set.hash()))
    }

    fn check_commit(h: &SignedHeader, validators: &ValidatorSet) -> Result<(), VerifyError> {
        let mismatch = |reason: String| Err(VerifyError::CommitMismatch { reason });
        let (header, commit) = (&h.header, &h.commit);
        if commit.height != header.height {
            return mismatch(format!(
                "commit height {} but header height {}",
                commit.height, header.height
            ));
        }
        let hash = header.hash();
        if commit.block_id.hash != hash {
            return mismatch(format!(
                "commit is for block {} but the header hashes to {}",
                commit.block_id.hash, hash
            ));
        }
        if commit.signatures.iter().all(CommitSig::is_absent) {
            return mismatch("commit has no signatures".into());
        }
        if commit.signatures.len() != validators.validators().len() {
            return mismatch(format!(
                "commit has {} signature slots for {} validators",
                commit.signatures.len(),
                validators.validators().len()
            ));
        }
        for (i, sig) in commit.signatures.iter().enumerate() {
            if let Some(addr) = sig.validator_address() {
                if validators.validator(addr).is_none() {
                    return mismatch(format!(
                        "signature slot {i} is from {addr}, not in the header's validator set"
                    ));
                }
            }
        }
        Ok(())
    }

    fn tally(h: &SignedHeader, set: &ValidatorSet) -> Result<Tally, VerifyError> {
        let commit = &h.commit;
        let mut votes = Vec::with_capacity(commit.signatures.len());
        for (i, sig) in commit.signatures.iter().enumerate() {
            // Nil votes are not for this block; absent ones carry nothing.
            let CommitSig::BlockIdFlagCommit {
                validator_address,
                timestamp,
                signature,
            } = sig
            else {
                continue;
            };
            let Some(signature) = signature else {
                return Err(VerifyError::CommitMismatch {
                    reason: format!("commit vote at slot {i} has no signature"),
                });
            };
            let index =
                vote::ValidatorIndex::try_from(i).map_err(|_| VerifyError::CommitMismatch {
                    reason: format!("slot {i} is past the largest validator index"),
                })?;
            let message = precommit_sign_bytes(h, *validator_address, *timestamp, index);
            votes.push(Vote {
                position: i,
                signer: validator_address.as_bytes(),
                message: Cow::Owned(message),
                signature: signature.as_bytes(),
            });
        }
        quorum::tally::<Ed25519>(&roster(set), &votes).map_err(|bad| {
            VerifyError::InvalidSignature {
                position: bad.position,
                signer: bad.signer,
            }
        })
    }

    fn quorum(_set: &ValidatorSet) -> Quorum {
        Quorum::MoreThan(Fraction::TWO_THIRDS)
    }
}

/// The canonical precommit bytes a validator signed (CometBFT `CanonicalVote`,
/// length-prefixed protobuf), for the vote at `index` of this header's commit.
pub fn precommit_sign_bytes(
    h: &SignedHeader,
    validator_address: tendermint::account::Id,
    timestamp: tendermint::Time,
    index: vote::ValidatorIndex,
) -> Vec<u8> {
    let vote = vote::Vote {
        vote_type: vote::Type::Precommit,
        height: h.commit.height,
        round: h.commit.round,
        block_id: Some(h.commit.block_id),
        timestamp: Some(timestamp),
        validator_address,
        validator_index: index,
        signature: None,
        extension: Default::default(),
        extension_signature: None,
    };
    vote.into_signable_vec(h.header.chain_id.clone())
}

fn roster(set: &ValidatorSet) -> Roster<ed25519_consensus::VerificationKeyBytes> {
    let mut members = BTreeMap::new();
    let mut group_power = Vec::with_capacity(set.validators().len());
    for (group, v) in set.validators().iter().enumerate() {
        group_power.push(v.power());
        if let PublicKey::Ed25519(pk) = v.pub_key {
            if let Ok(bytes) = <[u8; 32]>::try_from(pk.as_bytes()) {
                members.insert(
                    v.address.as_bytes().to_vec(),
                    Member {
                        key: bytes.into(),
                        group,
                    },
                );
            }
        }
    }
    Roster {
        members,
        group_power,
    }
}

/// A validator's Ed25519 key, for devnet nodes and samples.
#[derive(Clone)]
pub struct ValidatorKey(pub ed25519_consensus::SigningKey);

impl core::fmt::Debug for ValidatorKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ValidatorKey({})", self.info(1).address)
    }
}

impl ValidatorKey {
    pub fn generate(rng: &mut impl rand_core::CryptoRngCore) -> Self {
        ValidatorKey(ed25519_consensus::SigningKey::new(rng))
    }

    /// This key as a validator of the given voting power.
    pub fn info(&self, power: u64) -> validator::Info {
        let pk = PublicKey::from_ed25519_consensus(self.0.verification_key());
        let power = vote::Power::try_from(power).unwrap_or_default();
        validator::Info::new(pk, power)
    }
}

/// Why a header could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A value is outside what a CometBFT header allows.
    #[error("cannot build a CometBFT header: {0}")]
    Invalid(String),
}

/// The fields of a header that a ledger chooses.
#[derive(Debug, Clone)]
pub struct HeaderFields<'a> {
    pub chain_id: &'a str,
    pub height: u64,
    pub time: Timestamp,
    pub last_block_id: Option<block::Id>,
    /// `SHA-256(encode(roots))` of the previous block.
    pub app_hash: Hash32,
    pub validators: &'a ValidatorSet,
    pub next_validators: &'a ValidatorSet,
}

/// Builds a header and its commit, signed by the members of
/// `fields.validators` whose keys are in `signers` (others are absent).
pub fn build_signed_header(
    fields: &HeaderFields<'_>,
    signers: &[ValidatorKey],
) -> Result<SignedHeader, BuildError> {
    let bad = |e: &dyn core::fmt::Display| BuildError::Invalid(e.to_string());
    let time = tendermint::Time::try_from(fields.time).map_err(|e| bad(&e))?;
    let height = block::Height::try_from(fields.height).map_err(|e| bad(&e))?;
    let chain_id =
        tendermint::chain::Id::try_from(fields.chain_id.to_string()).map_err(|e| bad(&e))?;
    let hash = |b: &[u8]| tendermint::Hash::Sha256(crate::hash::sha256(&[b]).0);
    let proposer = fields
        .validators
        .validators()
        .first()
        .map(|v| v.address)
        .ok_or_else(|| BuildError::Invalid("empty validator set".into()))?;
    let header = block::Header {
        version: tendermint::block::header::Version {
            block: BLOCK_VERSION,
            app: 1,
        },
        chain_id: chain_id.clone(),
        height,
        time,
        last_block_id: fields.last_block_id,
        last_commit_hash: fields.last_block_id.map(|id| hash(id.hash.as_bytes())),
        data_hash: Some(hash(b"")),
        validators_hash: fields.validators.hash(),
        next_validators_hash: fields.next_validators.hash(),
        consensus_hash: hash(b"portrelay/gba/consensus-params/v1"),
        app_hash: tendermint::AppHash::try_from(fields.app_hash.0.to_vec()).map_err(|e| bad(&e))?,
        last_results_hash: Some(hash(b"")),
        evidence_hash: Some(hash(b"")),
        proposer_address: proposer,
    };
    let parts =
        block::parts::Header::new(1, hash(header.hash().as_bytes())).map_err(|e| bad(&e))?;
    let block_id = block::Id {
        hash: header.hash(),
        part_set_header: parts,
    };
    let keys: BTreeMap<_, _> = signers.iter().map(|k| (k.info(1).address, k)).collect();
    let mut signatures = Vec::with_capacity(fields.validators.validators().len());
    let round = block::Round::default();
    for (i, v) in fields.validators.validators().iter().enumerate() {
        let Some(key) = keys.get(&v.address) else {
            signatures.push(CommitSig::BlockIdFlagAbsent);
            continue;
        };
        let index = vote::ValidatorIndex::try_from(i).map_err(|e| bad(&e))?;
        let vote = vote::Vote {
            vote_type: vote::Type::Precommit,
            height,
            round,
            block_id: Some(block_id),
            timestamp: Some(time),
            validator_address: v.address,
            validator_index: index,
            signature: None,
            extension: Default::default(),
            extension_signature: None,
        };
        let sig = key.0.sign(&vote.into_signable_vec(chain_id.clone()));
        let signature = tendermint::Signature::new(sig.to_bytes()).map_err(|e| bad(&e))?;
        signatures.push(CommitSig::BlockIdFlagCommit {
            validator_address: v.address,
            timestamp: time,
            signature,
        });
    }
    let commit = block::Commit {
        height,
        round,
        block_id,
        signatures,
    };
    SignedHeader::new(header, commit).map_err(|e| bad(&e))
}

/// The set of these keys with the given powers (missing powers are 10).
pub fn validator_set(keys: &[ValidatorKey], powers: &[u64]) -> ValidatorSet {
    let infos = keys
        .iter()
        .enumerate()
        .map(|(i, k)| k.info(powers.get(i).copied().unwrap_or(10)))
        .collect();
    ValidatorSet::without_proposer(infos)
}
