//! A binary Poseidon Merkle tree over record leaves, natively and as a gadget.
//!
//! `node = Poseidon(left, right)`, empty leaves are 0, and an empty subtree of
//! height h hashes to `zero[h]` (`zero[0] = 0`, `zero[h+1] = Poseidon(zero[h],
//! zero[h])`). Leaves fill from index 0; only the filled prefix of each level
//! is stored, so a block of n packets costs about 2n hashes whatever the
//! depth (2^16 leaves by default).

use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ff::Zero;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::SynthesisError;

use crate::error::TreeError;
use crate::poseidon;

/// The default depth: 2^16 leaves.
pub const DEFAULT_DEPTH: u32 = 16;
/// The deepest tree (leaf indices are u64 and paths stay cheap to carry).
pub const MAX_DEPTH: u32 = 32;

/// `zero[h]` for h = 0..=MAX_DEPTH.
pub fn empty_roots() -> &'static [Fr] {
    static ZEROS: OnceLock<Vec<Fr>> = OnceLock::new();
    ZEROS.get_or_init(|| {
        let mut z = vec![Fr::zero()];
        for h in 0..MAX_DEPTH as usize {
            z.push(poseidon::hash2(z[h], z[h]));
        }
        z
    })
}

fn check_depth(depth: u32) -> Result<(), TreeError> {
    if depth == 0 || depth > MAX_DEPTH {
        return Err(TreeError::Depth {
            depth,
            max: MAX_DEPTH,
        });
    }
    Ok(())
}

/// A tree of `depth` with leaves `0..len` filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    depth: u32,
    /// `levels[0]` are the leaves, `levels[h]` the filled nodes at height h;
    /// `levels[depth]` holds the root when any leaf is filled.
    levels: Vec<Vec<Fr>>,
}

impl Tree {
    /// Builds the tree of `leaves` (at most `2^depth`).
    pub fn new(depth: u32, leaves: Vec<Fr>) -> Result<Self, TreeError> {
        check_depth(depth)?;
        if (leaves.len() as u128) > (1u128 << depth) {
            return Err(TreeError::TooManyLeaves {
                leaves: leaves.len(),
                depth,
            });
        }
        let zeros = empty_roots();
        let mut levels = vec![leaves];
        for h in 0..depth as usize {
            let below = &levels[h];
            let above = below
                .chunks(2)
                .map(|pair| poseidon::hash2(pair[0], pair.get(1).copied().unwrap_or(zeros[h])))
                .collect();
            levels.push(above);
        }
        Ok(Tree { depth, levels })
    }

    /// The tree's depth.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The number of filled leaves.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// Whether no leaf is filled.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The root (`zero[depth]` for an empty tree).
    pub fn root(&self) -> Fr {
        self.levels[self.depth as usize]
            .first()
            .copied()
            .unwrap_or(empty_roots()[self.depth as usize])
    }

    /// The authentication path of leaf `index`.
    pub fn path(&self, index: u64) -> Result<MerklePath, TreeError> {
        let leaves = self.len();
        if index >= leaves as u64 {
            return Err(TreeError::NoSuchLeaf { index, leaves });
        }
        let zeros = empty_roots();
        let mut i = index as usize;
        let siblings = (0..self.depth as usize)
            .map(|h| {
                let s = self.levels[h].get(i ^ 1).copied().unwrap_or(zeros[h]);
                i >>= 1;
                s
            })
            .collect();
        Ok(MerklePath { index, siblings })
    }
}

/// A leaf's position and its siblings from the leaf up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerklePath {
    /// The leaf index; bit h says whether the node at height h is a right child.
    pub index: u64,
    /// `siblings[h]` is the sibling at height h (0 = the leaf's).
    pub siblings: Vec<Fr>,
}

impl MerklePath {
    /// The root this path leads to from `leaf`.
    pub fn root(&self, leaf: Fr) -> Fr {
        self.siblings
            .iter()
            .enumerate()
            .fold(leaf, |node, (h, sibling)| {
                if self.index >> h & 1 == 1 {
                    poseidon::hash2(*sibling, node)
                } else {
                    poseidon::hash2(node, *sibling)
                }
            })
    }

    /// Whether the path leads from `leaf` to `root`, and its index fits its depth.
    pub fn verifies(&self, leaf: Fr, root: Fr) -> bool {
        let depth = self.siblings.len();
        let fits = depth >= 64 || self.index >> depth == 0;
        fits && self.root(leaf) == root
    }
}

/// The gadget of [`MerklePath::root`]: index bits (low first) and siblings are
/// witnesses; costs 242 constraints a level (a bit, a select, a Poseidon).
pub fn root_var(
    leaf: &FpVar<Fr>,
    index_bits: &[Boolean<Fr>],
    siblings: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    if index_bits.len() != siblings.len() {
        return Err(SynthesisError::Unsatisfiable);
    }
    let mut node = leaf.clone();
    for (bit, sibling) in index_bits.iter().zip(siblings) {
        // One select gives the left child; the right one is the sum less it.
        let left = bit.select(sibling, &node)?;
        let right = &node + sibling - &left;
        node = poseidon::hash_var(&[left, right])?;
    }
    Ok(node)
}

/// A path allocated as witnesses: index bits low first, then siblings.
#[derive(Debug, Clone)]
pub struct PathVar {
    /// Bit h of the index.
    pub index_bits: Vec<Boolean<Fr>>,
    /// The siblings from the leaf up.
    pub siblings: Vec<FpVar<Fr>>,
}

impl PathVar {
    /// Allocates a path of `depth` levels; `path` is `None` at setup.
    pub fn new_witness(
        cs: ark_relations::gr1cs::ConstraintSystemRef<Fr>,
        depth: usize,
        path: Option<&MerklePath>,
    ) -> Result<Self, SynthesisError> {
        let mut index_bits = Vec::with_capacity(depth);
        let mut siblings = Vec::with_capacity(depth);
        for h in 0..depth {
            index_bits.push(Boolean::new_witness(cs.clone(), || {
                let p = path.ok_or(SynthesisError::AssignmentMissing)?;
                Ok(h < 64 && p.index >> h & 1 == 1)
            })?);
            siblings.push(FpVar::new_witness(cs.clone(), || {
                path.and_then(|p| p.siblings.get(h).copied())
                    .ok_or(SynthesisError::AssignmentMissing)
            })?);
        }
        Ok(PathVar {
            index_bits,
            siblings,
        })
    }

    /// The root this path leads to from `leaf`.
    pub fn root(&self, leaf: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
        root_var(leaf, &self.index_bits, &self.siblings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;
    use ark_std::UniformRand;
    use proptest::prelude::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn leaves(n: usize, seed: u64) -> Vec<Fr> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        (0..n).map(|_| Fr::rand(&mut rng)).collect()
    }

    /// The tree with every one of the 2^depth leaves materialised.
    fn dense_root(depth: u32, filled: &[Fr]) -> Fr {
        let mut level: Vec<Fr> = filled.to_vec();
        level.resize(1 << depth, Fr::zero());
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|p| poseidon::hash2(p[0], p[1]))
                .collect();
        }
        level[0]
    }

    #[test]
    fn sparse_root_equals_dense_root() {
        for (depth, n) in [(1, 0), (1, 1), (1, 2), (4, 5), (4, 16), (6, 33)] {
            let l = leaves(n, depth as u64);
            assert_eq!(
                Tree::new(depth, l.clone()).unwrap().root(),
                dense_root(depth, &l),
                "{depth}/{n}"
            );
        }
    }

    #[test]
    fn empty_tree_and_limits() {
        assert_eq!(Tree::new(16, vec![]).unwrap().root(), empty_roots()[16]);
        assert_eq!(empty_roots()[1], poseidon::hash2(Fr::zero(), Fr::zero()));
        assert!(matches!(
            Tree::new(2, leaves(5, 1)),
            Err(TreeError::TooManyLeaves {
                leaves: 5,
                depth: 2
            })
        ));
        assert!(matches!(Tree::new(0, vec![]), Err(TreeError::Depth { .. })));
        assert!(matches!(
            Tree::new(33, vec![]),
            Err(TreeError::Depth { .. })
        ));
        let t = Tree::new(4, leaves(3, 2)).unwrap();
        assert!(matches!(
            t.path(3),
            Err(TreeError::NoSuchLeaf {
                index: 3,
                leaves: 3
            })
        ));
    }

    #[test]
    fn gadget_root_equals_native_root_and_count_at_depth_16() {
        let l = leaves(5, 3);
        let tree = Tree::new(DEFAULT_DEPTH, l.clone()).unwrap();
        let path = tree.path(3).unwrap();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let leaf = FpVar::new_witness(cs.clone(), || Ok(l[3])).unwrap();
        let pv = PathVar::new_witness(cs.clone(), 16, Some(&path)).unwrap();
        let root = pv.root(&leaf).unwrap();
        assert_eq!(root.value().unwrap(), tree.root());
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(cs.num_constraints(), MERKLE16_CONSTRAINTS);
        assert_eq!(MERKLE16_CONSTRAINTS, 16 * (1 + 1 + 240));
    }

    const MERKLE16_CONSTRAINTS: usize = 3872;

    #[test]
    fn gadget_refuses_a_tampered_path_or_root() {
        let l = leaves(6, 4);
        let tree = Tree::new(8, l.clone()).unwrap();
        let good = tree.path(5).unwrap();
        let mut wrong_sibling = good.clone();
        wrong_sibling.siblings[2] += Fr::from(1u64);
        let mut wrong_index = good.clone();
        wrong_index.index = 4;
        for (path, root, leaf, ok) in [
            (&good, tree.root(), l[5], true),
            (&wrong_sibling, tree.root(), l[5], false),
            (&wrong_index, tree.root(), l[5], false),
            (&good, tree.root() + Fr::from(1u64), l[5], false),
            (&good, tree.root(), l[4], false),
        ] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let leaf = FpVar::new_witness(cs.clone(), || Ok(leaf)).unwrap();
            let pv = PathVar::new_witness(cs.clone(), 8, Some(path)).unwrap();
            let expect = FpVar::new_input(cs.clone(), || Ok(root)).unwrap();
            pv.root(&leaf).unwrap().enforce_equal(&expect).unwrap();
            assert_eq!(cs.is_satisfied().unwrap(), ok);
            assert_eq!(path.verifies(leaf.value().unwrap(), root), ok);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn every_path_verifies_and_any_change_breaks_it(n in 1usize..40, pick in any::<u64>(), at in 0usize..6, seed in any::<u64>()) {
            let l = leaves(n, seed);
            let tree = Tree::new(6, l.clone()).unwrap();
            let index = pick % n as u64;
            let path = tree.path(index).unwrap();
            prop_assert!(path.verifies(l[index as usize], tree.root()));
            let mut bad = path.clone();
            bad.siblings[at] += Fr::from(1u64);
            prop_assert!(!bad.verifies(l[index as usize], tree.root()));
            let mut moved = path.clone();
            moved.index ^= 1 << at;
            prop_assert!(!moved.verifies(l[index as usize], tree.root()));
            prop_assert!(!path.verifies(l[index as usize] + Fr::from(1u64), tree.root()));
        }
    }
}
