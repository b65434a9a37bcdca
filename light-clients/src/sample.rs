//! Building signed headers of each family from keys: what the devnet ledgers
//! sign with, and what `portrelay light-client sample`, the tests and the
//! benchmarks use. Keys and time are arguments; randomness comes from a seed.

use rand_core::SeedableRng;

use crate::client::TrustRoot;
use crate::cmport::{self, Cmport};
use crate::cosco::{self, Cosco};
use crate::gba::{self, Gba};
use crate::hash::Hash32;
use crate::packet::Roots;
use crate::time::Timestamp;
use crate::verify::{Family, UntrustedBlock};

/// The chosen fields of a block to sign.
#[derive(Debug, Clone)]
pub struct BlockFields<'a, F: Family> {
    pub chain_id: &'a str,
    pub height: u64,
    pub time: Timestamp,
    /// Hash of the previous header (all zero at height 1).
    pub previous: Hash32,
    /// The roots the header commits: block `height - F::ROOTS_LAG`'s (the
    /// block's own, or for gba the previous block's, behind `app_hash`).
    pub roots: Roots,
    pub validators: &'a F::ValidatorSet,
    pub next_validators: &'a F::ValidatorSet,
}

/// A family whose headers this crate can sign.
pub trait Signing: Family + Sized {
    type Key: Clone + core::fmt::Debug + Send + Sync + 'static;
    fn generate_key(rng: &mut rand_chacha::ChaCha20Rng) -> Self::Key;
    /// A set in which every key has equal weight.
    fn validator_set(keys: &[Self::Key]) -> Self::ValidatorSet;
    /// The set `sample` shows (cmport groups orderers into organisations).
    fn sample_set(keys: &[Self::Key]) -> Self::ValidatorSet {
        Self::validator_set(keys)
    }
    /// Builds the header and has `signers` sign it.
    fn build(fields: &BlockFields<'_, Self>, signers: &[Self::Key]) -> Self::SignedHeader;
}

impl Signing for Cmport {
    type Key = cmport::OrdererKey;
    fn generate_key(rng: &mut rand_chacha::ChaCha20Rng) -> Self::Key {
        cmport::OrdererKey::generate(rng)
    }
    fn validator_set(keys: &[Self::Key]) -> cmport::OrgSet {
        cmport::org_set(keys, keys.len())
    }
    fn sample_set(keys: &[Self::Key]) -> cmport::OrgSet {
        // A consortium has a few organisations, each running several orderers.
        let orgs = (keys.len() / 8).clamp(3, cmport::MAX_ORGS);
        cmport::org_set(keys, orgs)
    }
    fn build(f: &BlockFields<'_, Self>, signers: &[Self::Key]) -> cmport::SignedHeader {
        let header = cmport::Header {
            version: cmport::HEADER_VERSION,
            chain_id: f.chain_id.to_string(),
            height: f.height,
            time: f.time,
            previous_hash: f.previous,
            events: f.roots.events,
            state: f.roots.state,
            zk_root: f.roots.zk_root,
            org_set_hash: f.validators.hash(),
            next_org_set_hash: f.next_validators.hash(),
        };
        let signatures = signers.iter().map(|k| k.sign(&header)).collect();
        cmport::SignedHeader { header, signatures }
    }
}

impl Signing for Cosco {
    type Key = cosco::ValidatorKey;
    fn generate_key(rng: &mut rand_chacha::ChaCha20Rng) -> Self::Key {
        cosco::ValidatorKey::generate(rng)
    }
    fn validator_set(keys: &[Self::Key]) -> cosco::ValidatorSet {
        cosco::validator_set(keys)
    }
    fn build(f: &BlockFields<'_, Self>, signers: &[Self::Key]) -> cosco::SignedHeader {
        let header = cosco::Header {
            version: cosco::HEADER_VERSION,
            chain_id: f.chain_id.to_string(),
            height: f.height,
            time: f.time,
            parent_hash: f.previous,
            events: f.roots.events,
            state: f.roots.state,
            zk_root: f.roots.zk_root,
            validators_hash: f.validators.hash(),
            next_validators_hash: f.next_validators.hash(),
        };
        let seals = signers.iter().map(|k| k.seal(&header)).collect();
        cosco::SignedHeader { header, seals }
    }
}

impl Signing for Gba {
    type Key = gba::ValidatorKey;
    fn generate_key(rng: &mut rand_chacha::ChaCha20Rng) -> Self::Key {
        gba::ValidatorKey::generate(rng)
    }
    fn validator_set(keys: &[Self::Key]) -> gba::ValidatorSet {
        gba::validator_set(keys, &[])
    }
    fn build(f: &BlockFields<'_, Self>, signers: &[Self::Key]) -> gba::SignedHeader {
        let last_block_id = (f.height > 1).then(|| last_block_id(f.previous));
        let fields = gba::HeaderFields {
            chain_id: f.chain_id,
            height: f.height,
            time: f.time,
            last_block_id,
            app_hash: f.roots.app_hash(),
            validators: f.validators,
            next_validators: f.next_validators,
        };
        match gba::build_signed_header(&fields, signers) {
            Ok(h) => h,
            // Only reachable with a chain id or height CometBFT refuses: a
            // programming error in the caller, not input from outside.
            Err(e) => panic!("sample gba header: {e}"),
        }
    }
}

fn last_block_id(previous: Hash32) -> tendermint::block::Id {
    let parts_hash = tendermint::Hash::Sha256(crate::hash::sha256(&[&previous.0]).0);
    tendermint::block::Id {
        hash: tendermint::Hash::Sha256(previous.0),
        part_set_header: tendermint::block::parts::Header::new(1, parts_hash).unwrap_or_default(),
    }
}

/// `n` keys from a seed.
pub fn keys<F: Signing>(seed: u64, n: usize) -> Vec<F::Key> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    (0..n).map(|_| F::generate_key(&mut rng)).collect()
}

/// Signs a block of `fields` by `signers`, returned with its sets.
pub fn block<F: Signing>(fields: &BlockFields<'_, F>, signers: &[F::Key]) -> UntrustedBlock<F> {
    UntrustedBlock {
        signed_header: F::build(fields, signers),
        validators: fields.validators.clone(),
        next_validators: fields.next_validators.clone(),
    }
}

/// A valid trusted/untrusted pair of family `F`: heights 1 and 2, one set of
/// `n` validators that all sign, five minutes apart ending at `untrusted_time`.
pub fn pair<F: Signing>(
    chain_id: &str,
    n: usize,
    seed: u64,
    untrusted_time: Timestamp,
) -> (TrustRoot<F>, UntrustedBlock<F>) {
    let keys = keys::<F>(seed, n);
    let set = F::sample_set(&keys);
    let five_min = core::time::Duration::from_secs(300);
    let first = BlockFields::<F> {
        chain_id,
        height: 1,
        time: untrusted_time.saturating_sub(five_min),
        previous: Hash32::ZERO,
        roots: Roots::empty(F::TREE_HASH),
        validators: &set,
        next_validators: &set,
    };
    let trusted = block(&first, &keys);
    let previous = F::summary(&trusted.signed_header)
        .map(|s| s.hash)
        .unwrap_or_default();
    let second = BlockFields {
        height: 2,
        time: untrusted_time,
        previous,
        ..first
    };
    let untrusted = block(&second, &keys);
    let root = TrustRoot {
        signed_header: trusted.signed_header,
        next_validators: trusted.next_validators,
        validators: Some(trusted.validators),
    };
    (root, untrusted)
}
