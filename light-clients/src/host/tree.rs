//! The trees a block commits: RFC 6962 Merkle trees over a family's tree
//! hash (commitments and inclusion proofs), and the Poseidon tree of the
//! block's records (`zk_root`).

use crate::hash::{Hash32, HashAlgorithm};
use crate::merkle::{self, MerkleProof};
use crate::zk;

/// The root of a block's records tree: the sparse Poseidon tree of `depth`
/// over `leaves` in order, as 32 big-endian bytes.
pub fn zk_root(depth: u32, leaves: &[Hash32]) -> Hash32 {
    let leaves: Vec<circuits::Fr> = leaves
        .iter()
        // Leaves are field elements the host wrote itself (`fr_hash`).
        .filter_map(|h| circuits::encode::fr_from_bytes(h.as_bytes()).ok())
        .collect();
    // `send_packet_with_record` keeps the count within the depth's capacity.
    match circuits::Tree::new(depth, leaves) {
        Ok(tree) => zk::fr_hash(&tree.root()),
        Err(_) => Hash32::ZERO,
    }
}

/// The commitment of a tree over `leaves` (hashing with the family's tree hash).
pub fn commit(alg: HashAlgorithm, leaves: &[Vec<u8>]) -> merkle::MerkleCommitment {
    match alg {
        HashAlgorithm::Sha256 => {
            merkle::MerkleTree::<merkle::Sha256Tree>::from_leaves(leaves).commitment()
        }
        HashAlgorithm::Keccak256 => {
            merkle::MerkleTree::<merkle::Keccak256Tree>::from_leaves(leaves).commitment()
        }
    }
}

/// The inclusion proof of leaf `index` among `leaves`.
pub fn prove(alg: HashAlgorithm, leaves: &[Vec<u8>], index: u64) -> Option<MerkleProof> {
    match alg {
        HashAlgorithm::Sha256 => {
            merkle::MerkleTree::<merkle::Sha256Tree>::from_leaves(leaves).prove(index)
        }
        HashAlgorithm::Keccak256 => {
            merkle::MerkleTree::<merkle::Keccak256Tree>::from_leaves(leaves).prove(index)
        }
    }
}

/// The inclusion proofs of every leaf, building the tree once.
pub fn prove_all(alg: HashAlgorithm, leaves: &[Vec<u8>]) -> Vec<MerkleProof> {
    let count = leaves.len() as u64;
    match alg {
        HashAlgorithm::Sha256 => {
            let tree = merkle::MerkleTree::<merkle::Sha256Tree>::from_leaves(leaves);
            (0..count).filter_map(|i| tree.prove(i)).collect()
        }
        HashAlgorithm::Keccak256 => {
            let tree = merkle::MerkleTree::<merkle::Keccak256Tree>::from_leaves(leaves);
            (0..count).filter_map(|i| tree.prove(i)).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_proof_checks_against_the_commitment_for_both_hashes() {
        let leaves: Vec<Vec<u8>> = (0u8..5).map(|i| vec![i; 3]).collect();
        for alg in [HashAlgorithm::Sha256, HashAlgorithm::Keccak256] {
            let root = commit(alg, &leaves);
            let all = prove_all(alg, &leaves);
            assert_eq!(all.len(), leaves.len());
            for (i, (leaf, proof)) in leaves.iter().zip(&all).enumerate() {
                assert_eq!(prove(alg, &leaves, i as u64).as_ref(), Some(proof));
                merkle::verify_inclusion(alg, &root, leaf, proof).unwrap();
            }
            assert_eq!(prove(alg, &leaves, 5), None);
        }
    }
}
