//! `cosco`: an AntChain-style PBFT ledger. Validators sign with ECDSA
//! secp256k1 over Keccak-256; a block is valid when more than two thirds of
//! the validators (2f+1 of 3f+1) sign it. Validators are named by an
//! Ethereum-style address: the last 20 bytes of Keccak-256 of the
//! uncompressed public key. Byte layout: `docs/profiles/cosco.md`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use k256::ecdsa::{Signature as EcdsaSignature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::hash::{keccak256, Hash32, HashAlgorithm};
use crate::merkle::MerkleCommitment;
use crate::packet::{hex_bytes, Roots};
use crate::quorum::{self, Fraction, Member, Quorum, Roster, Tally, Vote, K256};
use crate::time::Timestamp;
use crate::verify::{self, Family, HeaderSummary, RootCommitment, VerifyError};

/// The header format version this build reads and writes.
pub const HEADER_VERSION: u8 = 1;
/// The validator set format version this build reads and writes.
pub const SET_VERSION: u8 = 1;
/// Most validators in a set.
pub const MAX_VALIDATORS: usize = 1024;

/// The family marker.
#[derive(Debug, Clone, Copy)]
pub enum Cosco {}

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub version: u8,
    pub chain_id: String,
    pub height: u64,
    pub time: Timestamp,
    pub parent_hash: Hash32,
    pub events: MerkleCommitment,
    pub state: MerkleCommitment,
    pub zk_root: Hash32,
    pub validators_hash: Hash32,
    pub next_validators_hash: Hash32,
}

impl Header {
    /// The borsh encoding (starting with `version`).
    pub fn sign_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    /// Keccak-256 of the sign bytes: the block hash, and the ECDSA digest.
    pub fn hash(&self) -> Hash32 {
        keccak256(&[&self.sign_bytes()])
    }

    pub fn roots(&self) -> Roots {
        Roots {
            events: self.events,
            state: self.state,
            zk_root: self.zk_root,
        }
    }
}

/// A 20-byte validator address.
pub type Address = [u8; 20];

/// One validator's commit signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    #[serde(with = "hex_addr")]
    pub validator: Address,
    /// 64 bytes `r || s`, big-endian, low S, hex.
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
}

/// A header with its commit seals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHeader {
    pub header: Header,
    pub seals: Vec<Seal>,
}

/// A validator: address and SEC1 compressed secp256k1 key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Validator {
    #[serde(with = "hex_addr")]
    pub address: Address,
    #[serde(with = "hex_bytes")]
    pub public_key: Vec<u8>,
}

/// The validators of a height, sorted by address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorSet {
    /// The set format version, [`SET_VERSION`].
    pub version: u8,
    pub validators: Vec<Validator>,
}

impl ValidatorSet {
    /// 1 to 1024 validators, sorted by unique address, each address derived from its key.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.validators.len();
        if n == 0 || n > MAX_VALIDATORS {
            return Err(format!("{n} validators, expected 1 to {MAX_VALIDATORS}"));
        }
        if !self
            .validators
            .windows(2)
            .all(|w| w[0].address < w[1].address)
        {
            return Err("validators must be sorted by address, each address once".into());
        }
        for v in &self.validators {
            let key = parse_key(&v.public_key)?;
            if address_of(&key) != v.address {
                return Err(format!(
                    "address {} is not derived from its public key",
                    hex::encode(v.address)
                ));
            }
        }
        Ok(())
    }

    /// Keccak-256 of the borsh encoding.
    pub fn hash(&self) -> Hash32 {
        keccak256(&[&borsh::to_vec(self).unwrap_or_default()])
    }

    fn roster(&self) -> Roster<VerifyingKey> {
        let members: BTreeMap<_, _> = self
            .validators
            .iter()
            .enumerate()
            .filter_map(|(group, v)| {
                Some((
                    v.address.to_vec(),
                    Member {
                        key: parse_key(&v.public_key).ok()?,
                        group,
                    },
                ))
            })
            .collect();
        Roster {
            members,
            group_power: vec![1; self.validators.len()],
        }
    }
}

fn parse_key(bytes: &[u8]) -> Result<VerifyingKey, String> {
    if bytes.len() != 33 {
        return Err(format!(
            "validator key must be 33 bytes (SEC1 compressed), got {}",
            bytes.len()
        ));
    }
    VerifyingKey::from_sec1_bytes(bytes).map_err(|_| {
        format!(
            "validator key {} is not a secp256k1 point",
            hex::encode(bytes)
        )
    })
}

/// The address of a key: the last 20 bytes of Keccak-256 of the uncompressed point without its tag.
pub fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_encoded_point(false);
    let hash = keccak256(&[&point.as_bytes()[1..]]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash.0[12..]);
    out
}

impl Family for Cosco {
    const NAME: &'static str = "cosco";
    const TREE_HASH: HashAlgorithm = HashAlgorithm::Keccak256;
    // Its own block's roots, in the header.
    const ROOTS_LAG: u64 = 0;
    const ROOTS_OPENING: bool = false;
    type SignedHeader = SignedHeader;
    type ValidatorSet = ValidatorSet;

    fn summary(h: &SignedHeader) -> Result<HeaderSummary, VerifyError> {
        let header = &h.header;
        verify::check_version("header", header.version, HEADER_VERSION)?;
        verify::check_chain_id(&header.chain_id)?;
        Ok(HeaderSummary {
            chain_id: header.chain_id.clone(),
            height: header.height,
            time: header.time,
            hash: header.hash(),
            previous_hash: Some(header.parent_hash),
            validators_hash: header.validators_hash,
            next_validators_hash: header.next_validators_hash,
            roots: RootCommitment::Roots(header.roots()),
        })
    }

    fn validators_hash(set: &ValidatorSet) -> Result<Hash32, VerifyError> {
        verify::check_version("validator set", set.version, SET_VERSION)?;
        set.validate()
            .map_err(|reason| VerifyError::InvalidValidatorSet { reason })?;
        Ok(set.hash())
    }

    fn check_commit(h: &SignedHeader, validators: &ValidatorSet) -> Result<(), VerifyError> {
        if h.seals.is_empty() {
            return Err(VerifyError::CommitMismatch {
                reason: "no seals".into(),
            });
        }
        // A seal per validator at most, plus as many again from strangers.
        let max = 2 * validators.validators.len();
        if h.seals.len() > max {
            return Err(VerifyError::CommitMismatch {
                reason: format!(
                    "{} seals for {} validators",
                    h.seals.len(),
                    validators.validators.len()
                ),
            });
        }
        Ok(())
    }

    fn tally(h: &SignedHeader, set: &ValidatorSet) -> Result<Tally, VerifyError> {
        let digest = h.header.hash();
        let votes: Vec<Vote<'_>> = h
            .seals
            .iter()
            .enumerate()
            .map(|(position, s)| Vote {
                position,
                signer: &s.validator,
                message: Cow::Borrowed(&digest.0[..]),
                signature: &s.signature,
            })
            .collect();
        quorum::tally::<K256>(&set.roster(), &votes).map_err(|bad| VerifyError::InvalidSignature {
            position: bad.position,
            signer: bad.signer,
        })
    }

    fn quorum(_set: &ValidatorSet) -> Quorum {
        Quorum::MoreThan(Fraction::TWO_THIRDS)
    }
}

/// A validator's signing key, for devnet nodes and samples.
#[derive(Clone)]
pub struct ValidatorKey(pub SigningKey);

impl core::fmt::Debug for ValidatorKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ValidatorKey({})", hex::encode(self.address()))
    }
}

impl ValidatorKey {
    pub fn generate(rng: &mut impl rand_core::CryptoRngCore) -> Self {
        ValidatorKey(SigningKey::random(rng))
    }

    pub fn address(&self) -> Address {
        address_of(self.0.verifying_key())
    }

    pub fn validator(&self) -> Validator {
        Validator {
            address: self.address(),
            public_key: self
                .0
                .verifying_key()
                .to_encoded_point(true)
                .as_bytes()
                .to_vec(),
        }
    }

    /// Seals the header: ECDSA secp256k1 over its Keccak-256 hash (low S).
    pub fn seal(&self, header: &Header) -> Seal {
        use k256::ecdsa::signature::DigestSigner;
        let digest = <sha3::Keccak256 as sha3::Digest>::new_with_prefix(header.sign_bytes());
        let signature: EcdsaSignature = self.0.sign_digest(digest);
        let signature = signature.normalize_s().unwrap_or(signature);
        Seal {
            validator: self.address(),
            signature: signature.to_bytes().to_vec(),
        }
    }
}

/// The set of these keys, sorted by address.
pub fn validator_set(keys: &[ValidatorKey]) -> ValidatorSet {
    let mut validators: Vec<Validator> = keys.iter().map(ValidatorKey::validator).collect();
    validators.sort_by_key(|v| v.address);
    validators.dedup_by(|a, b| a.address == b.address);
    ValidatorSet {
        version: SET_VERSION,
        validators,
    }
}

mod hex_addr {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(addr: &[u8; 20], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(addr))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 20], D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 20];
        hex::decode_to_slice(&s, &mut out).map_err(|e| {
            serde::de::Error::custom(format!("expected a 40-hex-digit address: {e}"))
        })?;
        Ok(out)
    }
}
