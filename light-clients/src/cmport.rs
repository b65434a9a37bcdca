//! `cmport`: a Fabric-style consortium ledger. Orderers sign with ECDSA P-256;
//! a block is valid when orderers of at least `policy.threshold` member
//! organisations sign it, and the policy must be a majority of the orgs.
//! Hash: SHA-256. Byte layout: `docs/profiles/cmport.md`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use p256::ecdsa::{Signature as EcdsaSignature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::hash::{sha256, Hash32, HashAlgorithm};
use crate::merkle::MerkleCommitment;
use crate::packet::{hex_bytes, Roots};
use crate::quorum::{self, Member, Quorum, Roster, Tally, Vote, P256};
use crate::time::Timestamp;
use crate::verify::{self, Family, HeaderSummary, RootCommitment, VerifyError};

/// The header format version this build reads and writes.
pub const HEADER_VERSION: u8 = 1;
/// The org set format version this build reads and writes.
pub const SET_VERSION: u8 = 1;
/// Most organisations in a set.
pub const MAX_ORGS: usize = 64;
/// Most orderers per organisation.
pub const MAX_ORDERERS_PER_ORG: usize = 64;
/// Most signatures a header may carry (every orderer of the largest set once, and some slack).
pub const MAX_SIGNATURES: usize = 2 * MAX_ORGS * MAX_ORDERERS_PER_ORG;

/// The family marker.
#[derive(Debug, Clone, Copy)]
pub enum Cmport {}

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub version: u8,
    pub chain_id: String,
    pub height: u64,
    pub time: Timestamp,
    pub previous_hash: Hash32,
    pub events: MerkleCommitment,
    pub state: MerkleCommitment,
    pub zk_root: Hash32,
    pub org_set_hash: Hash32,
    pub next_org_set_hash: Hash32,
}

impl Header {
    /// The bytes orderers sign: the borsh encoding (starting with `version`).
    pub fn sign_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    /// SHA-256 of the sign bytes: the block hash, and the ECDSA digest.
    pub fn hash(&self) -> Hash32 {
        sha256(&[&self.sign_bytes()])
    }

    pub fn roots(&self) -> Roots {
        Roots {
            events: self.events,
            state: self.state,
            zk_root: self.zk_root,
        }
    }
}

/// One orderer's signature on a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdererSignature {
    /// The orderer's SEC1 compressed P-256 public key, hex.
    #[serde(with = "hex_bytes")]
    pub orderer: Vec<u8>,
    /// ASN.1 DER ECDSA signature with low S, hex.
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
}

/// A header with its orderers' signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHeader {
    pub header: Header,
    pub signatures: Vec<OrdererSignature>,
}

/// A member organisation and its orderers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    pub msp_id: String,
    /// SEC1 compressed P-256 public keys, hex in JSON.
    #[serde(with = "hex_list")]
    pub orderers: Vec<Vec<u8>>,
}

/// The block policy: orderers of at least `threshold` orgs must sign.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct OrgPolicy {
    pub threshold: u32,
}

/// The organisations that order blocks, and the policy over them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSet {
    /// The set format version, [`SET_VERSION`].
    pub version: u8,
    /// Sorted by `msp_id`, which is unique.
    pub orgs: Vec<Org>,
    pub policy: OrgPolicy,
}

impl OrgSet {
    /// Checks the set's rules: 1 to 64 orgs sorted by unique MSP id, 1 to 64
    /// valid orderer keys each in ascending byte order, a key in one org only,
    /// and a policy threshold that is a majority of the orgs and at most their
    /// number. Sorting makes the hash of a set unique.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.orgs.len();
        if n == 0 || n > MAX_ORGS {
            return Err(format!("{n} orgs, expected 1 to {MAX_ORGS}"));
        }
        if !self.orgs.windows(2).all(|w| w[0].msp_id < w[1].msp_id) {
            return Err("orgs must be sorted by msp_id, each msp_id once".into());
        }
        let mut keys = std::collections::BTreeSet::new();
        for org in &self.orgs {
            if org.msp_id.is_empty() || org.msp_id.len() > 64 {
                return Err(format!("msp_id {:?} must be 1 to 64 bytes", org.msp_id));
            }
            if org.orderers.is_empty() || org.orderers.len() > MAX_ORDERERS_PER_ORG {
                return Err(format!(
                    "org {} has {} orderers, expected 1 to {MAX_ORDERERS_PER_ORG}",
                    org.msp_id,
                    org.orderers.len()
                ));
            }
            if !org.orderers.windows(2).all(|w| w[0] < w[1]) {
                return Err(format!(
                    "org {}: orderer keys must be in ascending byte order, each once",
                    org.msp_id
                ));
            }
            for key in &org.orderers {
                parse_key(key).map_err(|e| format!("org {}: {e}", org.msp_id))?;
                if !keys.insert(key.as_slice()) {
                    return Err(format!("orderer key {} appears twice", hex::encode(key)));
                }
            }
        }
        let k = self.policy.threshold as usize;
        if k == 0 || k > n || k * 2 <= n {
            return Err(format!(
                "policy threshold {k} of {n} orgs is not a majority"
            ));
        }
        Ok(())
    }

    /// SHA-256 of the borsh encoding.
    pub fn hash(&self) -> Hash32 {
        sha256(&[&borsh::to_vec(self).unwrap_or_default()])
    }

    fn roster(&self) -> Roster<VerifyingKey> {
        let mut members = BTreeMap::new();
        for (group, org) in self.orgs.iter().enumerate() {
            for key in &org.orderers {
                if let Ok(vk) = parse_key(key) {
                    members.insert(key.clone(), Member { key: vk, group });
                }
            }
        }
        Roster {
            members,
            group_power: vec![1; self.orgs.len()],
        }
    }
}

fn parse_key(bytes: &[u8]) -> Result<VerifyingKey, String> {
    if bytes.len() != 33 {
        return Err(format!(
            "orderer key must be 33 bytes (SEC1 compressed), got {}",
            bytes.len()
        ));
    }
    VerifyingKey::from_sec1_bytes(bytes)
        .map_err(|_| format!("orderer key {} is not a P-256 point", hex::encode(bytes)))
}

impl Family for Cmport {
    const NAME: &'static str = "cmport";
    const TREE_HASH: HashAlgorithm = HashAlgorithm::Sha256;
    // Its own block's roots, in the header.
    const ROOTS_LAG: u64 = 0;
    const ROOTS_OPENING: bool = false;
    type SignedHeader = SignedHeader;
    type ValidatorSet = OrgSet;

    fn summary(h: &SignedHeader) -> Result<HeaderSummary, VerifyError> {
        let header = &h.header;
        verify::check_version("header", header.version, HEADER_VERSION)?;
        verify::check_chain_id(&header.chain_id)?;
        Ok(HeaderSummary {
            chain_id: header.chain_id.clone(),
            height: header.height,
            time: header.time,
            hash: header.hash(),
            previous_hash: Some(header.previous_hash),
            validators_hash: header.org_set_hash,
            next_validators_hash: header.next_org_set_hash,
            roots: RootCommitment::Roots(header.roots()),
        })
    }

    fn validators_hash(set: &OrgSet) -> Result<Hash32, VerifyError> {
        verify::check_version("validator set", set.version, SET_VERSION)?;
        set.validate()
            .map_err(|reason| VerifyError::InvalidValidatorSet { reason })?;
        Ok(set.hash())
    }

    fn check_commit(h: &SignedHeader, _orgs: &OrgSet) -> Result<(), VerifyError> {
        if h.signatures.is_empty() {
            return Err(VerifyError::CommitMismatch {
                reason: "no signatures".into(),
            });
        }
        if h.signatures.len() > MAX_SIGNATURES {
            return Err(VerifyError::CommitMismatch {
                reason: format!(
                    "{} signatures, at most {MAX_SIGNATURES}",
                    h.signatures.len()
                ),
            });
        }
        Ok(())
    }

    fn tally(h: &SignedHeader, set: &OrgSet) -> Result<Tally, VerifyError> {
        let digest = h.header.hash();
        let votes: Vec<Vote<'_>> = h
            .signatures
            .iter()
            .enumerate()
            .map(|(position, s)| Vote {
                position,
                signer: &s.orderer,
                message: Cow::Borrowed(&digest.0[..]),
                signature: &s.signature,
            })
            .collect();
        quorum::tally::<P256>(&set.roster(), &votes).map_err(|bad| VerifyError::InvalidSignature {
            position: bad.position,
            signer: bad.signer,
        })
    }

    fn quorum(set: &OrgSet) -> Quorum {
        Quorum::AtLeast(set.policy.threshold.into())
    }
}

/// An orderer's signing key, for devnet nodes and samples.
#[derive(Clone)]
pub struct OrdererKey(pub SigningKey);

impl core::fmt::Debug for OrdererKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "OrdererKey({})", hex::encode(self.public_key()))
    }
}

impl OrdererKey {
    pub fn generate(rng: &mut impl rand_core::CryptoRngCore) -> Self {
        OrdererKey(SigningKey::random(rng))
    }

    /// SEC1 compressed public key.
    pub fn public_key(&self) -> Vec<u8> {
        self.0
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec()
    }

    /// Signs the header: ECDSA P-256 over SHA-256 of the sign bytes, which is
    /// the block hash (RFC 6979 deterministic nonce), normalised to low S.
    pub fn sign(&self, header: &Header) -> OrdererSignature {
        use p256::ecdsa::signature::Signer;
        let signature: EcdsaSignature = self.0.sign(&header.sign_bytes());
        let signature = signature.normalize_s().unwrap_or(signature);
        OrdererSignature {
            orderer: self.public_key(),
            signature: signature.to_der().as_bytes().to_vec(),
        }
    }
}

/// Groups orderer keys into `orgs` organisations round-robin (`Org01MSP` ...),
/// with a majority policy.
pub fn org_set(keys: &[OrdererKey], orgs: usize) -> OrgSet {
    let orgs = orgs.clamp(1, keys.len().max(1));
    let mut list: Vec<Org> = (0..orgs)
        .map(|i| Org {
            msp_id: format!("Org{:02}MSP", i + 1),
            orderers: Vec::new(),
        })
        .collect();
    for (i, key) in keys.iter().enumerate() {
        list[i % orgs].orderers.push(key.public_key());
    }
    for org in &mut list {
        org.orderers.sort();
        org.orderers.dedup();
    }
    OrgSet {
        version: SET_VERSION,
        orgs: list,
        policy: OrgPolicy {
            threshold: (orgs / 2 + 1) as u32,
        },
    }
}

mod hex_list {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(hex::encode))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| {
                hex::decode(s).map_err(|e| serde::de::Error::custom(format!("expected hex: {e}")))
            })
            .collect()
    }
}
