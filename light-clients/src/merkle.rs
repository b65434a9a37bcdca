//! Domain-separated Merkle trees (RFC 6962 / RFC 9162) over SHA-256 or Keccak-256.
//!
//! `leaf = H(0x00 || bytes)`, `node = H(0x01 || left || right)`, and the root
//! of an empty tree is `H("")`. rs_merkle builds the trees and proofs through
//! the `Hasher`s below: its bottom-up pairing, which promotes an odd last node
//! unchanged, gives exactly RFC 6962's split at the largest power of two
//! (checked against an independent RFC 9162 verifier in the tests). A root is
//! always committed together with its leaf count, and a proof is checked
//! against that committed count, never a count the prover claims.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::hash::{Hash32, HashAlgorithm};

/// The most leaves a committed tree may have (keeps every index and path bounded).
pub const MAX_LEAVES: u64 = 1 << 40;

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// A Merkle root together with the number of leaves under it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct MerkleCommitment {
    pub root: Hash32,
    pub count: u64,
}

/// An inclusion proof: the leaf's index and its audit path, bottom-up.
#[derive(
    Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct MerkleProof {
    pub leaf_index: u64,
    pub siblings: Vec<Hash32>,
}

/// Which check of a Merkle inclusion proof failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The committed tree has no leaves, so nothing is a member.
    #[error("merkle proof: the committed tree is empty")]
    EmptyTree,
    /// The committed leaf count is larger than any tree this protocol builds.
    #[error("merkle proof: committed leaf count {count} is over the limit {max}")]
    TooManyLeaves { count: u64, max: u64 },
    /// The proof names a leaf position outside the committed tree.
    #[error("merkle proof: leaf index {index} is outside a tree of {count} leaves")]
    IndexOutOfRange { index: u64, count: u64 },
    /// The audit path has the wrong number of nodes for this index and count.
    #[error("merkle proof: audit path has {found} nodes, expected {expected}")]
    PathLength { expected: usize, found: usize },
    /// Hashing the leaf up the path does not give the committed root.
    #[error("merkle proof: computed root {computed} does not match committed root {committed}")]
    RootMismatch { committed: Hash32, computed: Hash32 },
}

/// An RFC 6962 hasher for rs_merkle: `concat_and_hash` adds the node prefix.
pub trait TreeHasher: rs_merkle::Hasher<Hash = [u8; 32]> {
    const ALGORITHM: HashAlgorithm;
}

/// SHA-256 with RFC 6962 domain separation (cmport, gba).
#[derive(Clone, Debug)]
pub struct Sha256Tree;

/// Keccak-256 with RFC 6962 domain separation (cosco).
#[derive(Clone, Debug)]
pub struct Keccak256Tree;

macro_rules! tree_hasher {
    ($ty:ty, $alg:expr) => {
        impl rs_merkle::Hasher for $ty {
            type Hash = [u8; 32];
            fn hash(data: &[u8]) -> [u8; 32] {
                $alg.digest(&[data]).0
            }
            fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
                match right {
                    Some(right) => $alg.digest(&[&[NODE_PREFIX], left, right]).0,
                    None => *left,
                }
            }
        }
        impl TreeHasher for $ty {
            const ALGORITHM: HashAlgorithm = $alg;
        }
    };
}
tree_hasher!(Sha256Tree, HashAlgorithm::Sha256);
tree_hasher!(Keccak256Tree, HashAlgorithm::Keccak256);

/// The RFC 6962 leaf hash of `bytes`.
pub fn leaf_hash(alg: HashAlgorithm, bytes: &[u8]) -> Hash32 {
    alg.digest(&[&[LEAF_PREFIX], bytes])
}

/// The root of an empty tree: `H("")`.
pub fn empty_root(alg: HashAlgorithm) -> Hash32 {
    alg.digest(&[])
}

/// A built tree over a block's leaves, able to answer inclusion proofs.
pub struct MerkleTree<H: TreeHasher> {
    tree: rs_merkle::MerkleTree<H>,
    count: u64,
}

impl<H: TreeHasher> core::fmt::Debug for MerkleTree<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MerkleTree")
            .field("commitment", &self.commitment())
            .finish()
    }
}

impl<H: TreeHasher> MerkleTree<H> {
    pub fn from_leaves<L: AsRef<[u8]>>(leaves: &[L]) -> Self {
        let hashes: Vec<[u8; 32]> = leaves
            .iter()
            .map(|leaf| leaf_hash(H::ALGORITHM, leaf.as_ref()).0)
            .collect();
        MerkleTree {
            tree: rs_merkle::MerkleTree::from_leaves(&hashes),
            count: hashes.len() as u64,
        }
    }

    pub fn commitment(&self) -> MerkleCommitment {
        let root = match self.tree.root() {
            Some(root) => Hash32(root),
            None => empty_root(H::ALGORITHM),
        };
        MerkleCommitment {
            root,
            count: self.count,
        }
    }

    /// The inclusion proof of the leaf at `index`, or `None` past the end.
    pub fn prove(&self, index: u64) -> Option<MerkleProof> {
        if index >= self.count {
            return None;
        }
        let position = usize::try_from(index).ok()?;
        let proof = self.tree.proof(&[position]);
        Some(MerkleProof {
            leaf_index: index,
            siblings: proof.proof_hashes().iter().copied().map(Hash32).collect(),
        })
    }
}

/// How many nodes the audit path of `index` has in a tree of `count` leaves.
pub fn path_length(mut index: u64, mut count: u64) -> usize {
    let mut length = 0;
    while count > 1 {
        // RFC 6962: split at the largest power of two strictly below `count`.
        let split = 1u64 << (63 - (count - 1).leading_zeros());
        if index < split {
            count = split;
        } else {
            index -= split;
            count -= split;
        }
        length += 1;
    }
    length
}

/// Checks that `leaf` is at `proof.leaf_index` of the tree committed by `commitment`.
pub fn verify_inclusion(
    alg: HashAlgorithm,
    commitment: &MerkleCommitment,
    leaf: &[u8],
    proof: &MerkleProof,
) -> Result<(), ProofError> {
    let MerkleCommitment { root, count } = *commitment;
    if count == 0 {
        return Err(ProofError::EmptyTree);
    }
    if count > MAX_LEAVES {
        return Err(ProofError::TooManyLeaves {
            count,
            max: MAX_LEAVES,
        });
    }
    let index = proof.leaf_index;
    if index >= count {
        return Err(ProofError::IndexOutOfRange { index, count });
    }
    let expected = path_length(index, count);
    if proof.siblings.len() != expected {
        return Err(ProofError::PathLength {
            expected,
            found: proof.siblings.len(),
        });
    }
    let computed = match alg {
        HashAlgorithm::Sha256 => root_from_path::<Sha256Tree>(leaf, proof, count),
        HashAlgorithm::Keccak256 => root_from_path::<Keccak256Tree>(leaf, proof, count),
    };
    if computed != root {
        return Err(ProofError::RootMismatch {
            committed: root,
            computed,
        });
    }
    Ok(())
}

fn root_from_path<H: TreeHasher>(leaf: &[u8], proof: &MerkleProof, count: u64) -> Hash32 {
    let siblings: Vec<[u8; 32]> = proof.siblings.iter().map(|h| h.0).collect();
    let leaf = leaf_hash(H::ALGORITHM, leaf).0;
    // Index and count were bounded by MAX_LEAVES above, so they fit a usize on
    // the 64-bit targets this crate supports; the path length was checked, so
    // rs_merkle has exactly the hashes it needs.
    let (Ok(index), Ok(count)) = (usize::try_from(proof.leaf_index), usize::try_from(count)) else {
        return Hash32::ZERO;
    };
    match rs_merkle::MerkleProof::<H>::new(siblings).root(&[index], &[leaf], count) {
        Ok(root) => Hash32(root),
        // Unreachable after the checks above; a zero root can never match a real one.
        Err(_) => Hash32::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 9162 section 2.1.3.2, written independently of rs_merkle.
    fn rfc9162_root(
        alg: HashAlgorithm,
        leaf: &[u8],
        index: u64,
        count: u64,
        path: &[Hash32],
    ) -> Option<Hash32> {
        if index >= count {
            return None;
        }
        let (mut f_n, mut s_n) = (index, count - 1);
        let mut r = leaf_hash(alg, leaf);
        for p in path {
            if s_n == 0 {
                return None;
            }
            if f_n & 1 == 1 || f_n == s_n {
                r = alg.digest(&[&[1], &p.0, &r.0]);
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            } else {
                r = alg.digest(&[&[1], &r.0, &p.0]);
            }
            f_n >>= 1;
            s_n >>= 1;
        }
        (s_n == 0).then_some(r)
    }

    /// RFC 6962 MTH, recursively, for the tree shape.
    fn rfc6962_mth(alg: HashAlgorithm, leaves: &[Vec<u8>]) -> Hash32 {
        match leaves.len() {
            0 => empty_root(alg),
            1 => leaf_hash(alg, &leaves[0]),
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                let l = rfc6962_mth(alg, &leaves[..k]);
                let r = rfc6962_mth(alg, &leaves[k..]);
                alg.digest(&[&[1], &l.0, &r.0])
            }
        }
    }

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf-{i}").into_bytes()).collect()
    }

    #[test]
    fn roots_match_rfc6962_for_every_small_size() {
        for n in 0..70 {
            let ls = leaves(n);
            let sha = MerkleTree::<Sha256Tree>::from_leaves(&ls).commitment();
            assert_eq!(sha.root, rfc6962_mth(HashAlgorithm::Sha256, &ls), "n={n}");
            assert_eq!(sha.count, n as u64);
            let kec = MerkleTree::<Keccak256Tree>::from_leaves(&ls).commitment();
            assert_eq!(
                kec.root,
                rfc6962_mth(HashAlgorithm::Keccak256, &ls),
                "n={n}"
            );
        }
    }

    #[test]
    fn every_proof_verifies_and_agrees_with_rfc9162() {
        for n in 1..40u64 {
            let ls = leaves(n as usize);
            let tree = MerkleTree::<Sha256Tree>::from_leaves(&ls);
            let c = tree.commitment();
            for i in 0..n {
                let proof = tree.prove(i).unwrap();
                assert_eq!(proof.siblings.len(), path_length(i, n), "n={n} i={i}");
                verify_inclusion(HashAlgorithm::Sha256, &c, &ls[i as usize], &proof).unwrap();
                let r = rfc9162_root(
                    HashAlgorithm::Sha256,
                    &ls[i as usize],
                    i,
                    n,
                    &proof.siblings,
                );
                assert_eq!(r, Some(c.root), "n={n} i={i}");
            }
            assert!(tree.prove(n).is_none());
        }
    }

    #[test]
    fn each_failed_check_is_named() {
        let ls = leaves(5);
        let tree = MerkleTree::<Keccak256Tree>::from_leaves(&ls);
        let c = tree.commitment();
        let alg = HashAlgorithm::Keccak256;
        let p = tree.prove(2).unwrap();
        let empty = MerkleCommitment {
            root: c.root,
            count: 0,
        };
        assert_eq!(
            verify_inclusion(alg, &empty, &ls[2], &p),
            Err(ProofError::EmptyTree)
        );
        let huge = MerkleCommitment {
            root: c.root,
            count: MAX_LEAVES + 1,
        };
        assert!(matches!(
            verify_inclusion(alg, &huge, &ls[2], &p),
            Err(ProofError::TooManyLeaves { .. })
        ));
        let far = MerkleProof {
            leaf_index: 5,
            ..p.clone()
        };
        assert_eq!(
            verify_inclusion(alg, &c, &ls[2], &far),
            Err(ProofError::IndexOutOfRange { index: 5, count: 5 })
        );
        let mut short = p.clone();
        short.siblings.pop();
        assert_eq!(
            verify_inclusion(alg, &c, &ls[2], &short),
            Err(ProofError::PathLength {
                expected: 3,
                found: 2
            })
        );
        let mut long = p.clone();
        long.siblings.push(Hash32::ZERO);
        assert_eq!(
            verify_inclusion(alg, &c, &ls[2], &long),
            Err(ProofError::PathLength {
                expected: 3,
                found: 4
            })
        );
        assert!(matches!(
            verify_inclusion(alg, &c, b"other", &p),
            Err(ProofError::RootMismatch { .. })
        ));
        // The same proof under the other hash function fails too.
        assert!(matches!(
            verify_inclusion(HashAlgorithm::Sha256, &c, &ls[2], &p),
            Err(ProofError::RootMismatch { .. })
        ));
    }

    #[test]
    fn a_node_cannot_pose_as_a_leaf() {
        // Without domain separation, an inner node's children would "prove" a 64-byte leaf.
        let ls = leaves(4);
        let tree = MerkleTree::<Sha256Tree>::from_leaves(&ls);
        let c = tree.commitment();
        let l0 = leaf_hash(HashAlgorithm::Sha256, &ls[0]);
        let l1 = leaf_hash(HashAlgorithm::Sha256, &ls[1]);
        let fake_leaf = [l0.0, l1.0].concat();
        let n23 = tree.prove(0).unwrap().siblings[1];
        let p = MerkleProof {
            leaf_index: 0,
            siblings: vec![n23],
        };
        let two = MerkleCommitment {
            root: c.root,
            count: 2,
        };
        assert!(matches!(
            verify_inclusion(HashAlgorithm::Sha256, &two, &fake_leaf, &p),
            Err(ProofError::RootMismatch { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_change_to_leaf_or_path_breaks_the_proof(
            n in 1usize..200,
            pick in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let ls = leaves(n);
            let i = pick.index(n);
            let tree = MerkleTree::<Sha256Tree>::from_leaves(&ls);
            let c = tree.commitment();
            let proof = tree.prove(i as u64).unwrap();
            prop_assert!(verify_inclusion(HashAlgorithm::Sha256, &c, &ls[i], &proof).is_ok());
            // Flip one bit of the leaf.
            let mut leaf = ls[i].clone();
            let at = flip.index(leaf.len());
            leaf[at] ^= 1 << bit;
            prop_assert!(verify_inclusion(HashAlgorithm::Sha256, &c, &leaf, &proof).is_err());
            // Flip one bit of one path node.
            if !proof.siblings.is_empty() {
                let mut bad = proof.clone();
                let node = flip.index(bad.siblings.len());
                bad.siblings[node].0[flip.index(32)] ^= 1 << bit;
                prop_assert!(verify_inclusion(HashAlgorithm::Sha256, &c, &ls[i], &bad).is_err());
            }
            // Claim another index.
            let mut moved = proof.clone();
            moved.leaf_index = (i as u64 + 1) % n as u64;
            if moved.leaf_index != i as u64 && ls[moved.leaf_index as usize] != ls[i] {
                prop_assert!(verify_inclusion(HashAlgorithm::Sha256, &c, &ls[i], &moved).is_err());
            }
        }

        #[test]
        fn hostile_proofs_never_panic(index in any::<u64>(), count in any::<u64>(), len in 0usize..70) {
            let c = MerkleCommitment { root: Hash32([7; 32]), count };
            let p = MerkleProof { leaf_index: index, siblings: vec![Hash32([1; 32]); len] };
            prop_assert!(verify_inclusion(HashAlgorithm::Keccak256, &c, b"x", &p).is_err());
        }
    }
}
