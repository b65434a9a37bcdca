//! Poseidon over BN254 with circomlib's parameters, natively and as an R1CS gadget.
//!
//! `hash(inputs)` equals circomlib's `Poseidon(n)` for n = 1..=16 inputs: the
//! state has width t = n + 1, starts as `[0, inputs...]`, goes through 8 full
//! rounds and circomlib's partial rounds (x^5 S-box), and the output is
//! element 0 of the final state. The gadget [`hash_var`] runs the same
//! permutation over `FpVar`s and reads the same element.
//!
//! The round constants and MDS matrices are generated the way circomlib's
//! were: the Grain LFSR of the Poseidon reference script
//! (`generate_parameters_grain.sage 1 0 254 t 8 R_P p`), through
//! ark-crypto-primitives' `find_poseidon_ark_and_mds`. Tests check them
//! against light-poseidon's circomlib constants (t = 2..=13) and against
//! circomlib outputs for 14 and 16 inputs. They are generated once per width
//! and cached.

use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_crypto_primitives::sponge::poseidon::find_poseidon_ark_and_mds;
use ark_ff::{Field, PrimeField, Zero};
use ark_r1cs_std::fields::fp::{AllocatedFp, FpVar};
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::SynthesisError;

use crate::error::PoseidonError;

/// The most inputs one Poseidon call takes (circomlib's limit, t = 17).
pub const MAX_INPUTS: usize = 16;

/// Full rounds, for every width.
const FULL_ROUNDS: usize = 8;

/// circomlib's partial rounds for t = 2..=17 (`N_ROUNDS_P` in poseidon.circom).
const PARTIAL_ROUNDS: [usize; MAX_INPUTS] = [
    56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68,
];

/// The constants of one width.
#[derive(Debug)]
pub struct Params {
    /// State width t (inputs + 1).
    pub width: usize,
    /// Number of partial rounds.
    pub partial_rounds: usize,
    /// Round constants, `(FULL_ROUNDS + partial_rounds) * width`, round-major.
    pub ark: Vec<Fr>,
    /// MDS matrix: `new[i] = sum_j mds[i][j] * old[j]`.
    pub mds: Vec<Vec<Fr>>,
}

impl Params {
    fn generate(inputs: usize) -> Self {
        let width = inputs + 1;
        let partial_rounds = PARTIAL_ROUNDS[inputs - 1];
        let (ark, mds) = find_poseidon_ark_and_mds::<Fr>(
            u64::from(Fr::MODULUS_BIT_SIZE),
            inputs,
            FULL_ROUNDS as u64,
            partial_rounds as u64,
            0,
        );
        // The matrix is the reference script's Cauchy matrix M[i][j] = 1 /
        // (x_i + y_j), applied as `new[i] = sum_j M[i][j] * old[j]`, as in
        // circomlibjs's `poseidon_reference.js`.
        Params {
            width,
            partial_rounds,
            ark: ark.into_iter().flatten().collect(),
            mds,
        }
    }

    fn rounds(&self) -> usize {
        FULL_ROUNDS + self.partial_rounds
    }

    fn is_full(&self, round: usize) -> bool {
        round < FULL_ROUNDS / 2 || round >= FULL_ROUNDS / 2 + self.partial_rounds
    }
}

static PARAMS: [OnceLock<Params>; MAX_INPUTS] = [const { OnceLock::new() }; MAX_INPUTS];

/// The constants for `inputs` inputs (1..=16).
pub fn params(inputs: usize) -> Result<&'static Params, PoseidonError> {
    if inputs == 0 || inputs > MAX_INPUTS {
        return Err(PoseidonError::Arity {
            got: inputs,
            max: MAX_INPUTS,
        });
    }
    Ok(PARAMS[inputs - 1].get_or_init(|| Params::generate(inputs)))
}

fn sbox(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

/// circomlib's `Poseidon(n)` of `inputs` (1..=16 elements).
pub fn hash(inputs: &[Fr]) -> Result<Fr, PoseidonError> {
    let p = params(inputs.len())?;
    let mut state = Vec::with_capacity(p.width);
    state.push(Fr::zero());
    state.extend_from_slice(inputs);
    let mut next = vec![Fr::zero(); p.width];
    for round in 0..p.rounds() {
        for (s, c) in state.iter_mut().zip(&p.ark[round * p.width..]) {
            *s += c;
        }
        if p.is_full(round) {
            state.iter_mut().for_each(|s| *s = sbox(*s));
        } else {
            state[0] = sbox(state[0]);
        }
        mix(&p.mds, &state, &mut next);
        std::mem::swap(&mut state, &mut next);
    }
    Ok(state[0])
}

/// `next = mds * state`, through arkworks' fixed-size `sum_of_products`
/// (one modular reduction per row instead of one per product) for every
/// width circomlib has.
fn mix(mds: &[Vec<Fr>], state: &[Fr], next: &mut [Fr]) {
    macro_rules! fixed {
        ($($t:literal)*) => {
            match state.len() {
                $($t => {
                    if let Ok(s) = <&[Fr; $t]>::try_from(state) {
                        for (n, row) in next.iter_mut().zip(mds) {
                            if let Ok(r) = <&[Fr; $t]>::try_from(row.as_slice()) {
                                *n = Fr::sum_of_products(r, s);
                            }
                        }
                        return;
                    }
                })*
                _ => {}
            }
        };
    }
    fixed!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17);
    for (n, row) in next.iter_mut().zip(mds) {
        *n = row.iter().zip(state).map(|(m, s)| *m * s).sum();
    }
}

/// `Poseidon(left, right)`: a Merkle node.
pub fn hash2(left: Fr, right: Fr) -> Fr {
    // Two inputs are always within the arity, so this cannot fail; the
    // fallback keeps the function total without a panic path.
    hash(&[left, right]).unwrap_or_default()
}

fn sbox_var(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// `sum_j row[j] * state[j]` as a single linear combination (no constraint).
fn mix_row(row: &[Fr], state: &[FpVar<Fr>]) -> FpVar<Fr> {
    let mut constant = Fr::zero();
    let mut coeffs = Vec::with_capacity(state.len());
    let mut vars = Vec::with_capacity(state.len());
    for (m, s) in row.iter().zip(state) {
        match s {
            FpVar::Constant(c) => constant += *m * c,
            FpVar::Var(v) => {
                coeffs.push(*m);
                vars.push(v.clone());
            }
        }
    }
    match AllocatedFp::linear_combination(coeffs, &vars) {
        Some(lc) => FpVar::Var(lc) + constant,
        None => FpVar::Constant(constant),
    }
}

/// The gadget of [`hash`]: the same permutation over `FpVar`s, output
/// element 0. Costs 3 constraints per S-box on a variable (constant state
/// elements are folded).
pub fn hash_var(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let p = params(inputs.len()).map_err(|_| SynthesisError::Unsatisfiable)?;
    let mut state = Vec::with_capacity(p.width);
    state.push(FpVar::Constant(Fr::zero()));
    state.extend_from_slice(inputs);
    for round in 0..p.rounds() {
        for (s, c) in state.iter_mut().zip(&p.ark[round * p.width..]) {
            *s += *c;
        }
        if p.is_full(round) {
            for s in state.iter_mut() {
                *s = sbox_var(s)?;
            }
        } else {
            state[0] = sbox_var(&state[0])?;
        }
        state = p.mds.iter().map(|row| mix_row(row, &state)).collect();
    }
    Ok(state.swap_remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_r1cs_std::alloc::AllocVar;
    use ark_r1cs_std::GR1CSVar;
    use ark_relations::gr1cs::ConstraintSystem;
    use ark_std::UniformRand;
    use light_poseidon::{parameters::bn254_x5, Poseidon, PoseidonHasher};
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use std::str::FromStr;

    fn dec(s: &str) -> Fr {
        Fr::from_str(s).unwrap()
    }

    #[test]
    fn constants_equal_light_poseidons_circomlib_constants() {
        for t in 2..=13u8 {
            let theirs = bn254_x5::get_poseidon_parameters::<Fr>(t).unwrap();
            let ours = params(usize::from(t) - 1).unwrap();
            assert_eq!(ours.partial_rounds, theirs.partial_rounds, "t = {t}");
            assert_eq!(theirs.full_rounds, FULL_ROUNDS, "t = {t}");
            assert_eq!(ours.ark, theirs.ark, "round constants, t = {t}");
            assert_eq!(ours.mds, theirs.mds, "MDS, t = {t}");
        }
    }

    #[test]
    fn matches_light_poseidon_for_1_to_12_inputs() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for n in 1..=12 {
            let inputs: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let mut theirs = Poseidon::<Fr>::new_circom(n).unwrap();
            assert_eq!(
                hash(&inputs).unwrap(),
                theirs.hash(&inputs).unwrap(),
                "n = {n}"
            );
        }
    }

    #[test]
    fn known_circomlib_outputs() {
        let mut lp = Poseidon::<Fr>::new_circom(1).unwrap();
        let one = hash(&[Fr::from(1u64)]).unwrap();
        assert_eq!(one, lp.hash(&[Fr::from(1u64)]).unwrap());
        assert_eq!(
            one,
            dec("18586133768512220936620570745912940619677854269274689475585506675881198879027")
        );
        assert_eq!(
            crate::encode::fr_to_hex(&one),
            "0x29176100eaa962bdc1fe6c654d6a3c130e96a4d1168b33848b897dc502820133"
        );
        let mut lp = Poseidon::<Fr>::new_circom(2).unwrap();
        let two = hash(&[Fr::from(1u64), Fr::from(2u64)]).unwrap();
        assert_eq!(two, lp.hash(&[Fr::from(1u64), Fr::from(2u64)]).unwrap());
        assert_eq!(
            crate::encode::fr_to_hex(&two),
            "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"
        );
        // circomlib (via go-iden3-crypto's test vectors) beyond
        // light-poseidon's 12 inputs.
        let seq = |n: u64, zeros: usize| -> Vec<Fr> {
            (1..=n)
                .map(Fr::from)
                .chain(std::iter::repeat_n(Fr::zero(), zeros))
                .collect()
        };
        let cases = [
            (
                seq(14, 0),
                "8354478399926161176778659061636406690034081872658507739535256090879947077494",
            ),
            (
                seq(9, 5),
                "5540388656744764564518487011617040650780060800286365721923524861648744699539",
            ),
            (
                seq(9, 7),
                "11882816200654282475720830292386643970958445617880627439994635298904836126497",
            ),
            (
                seq(16, 0),
                "9989051620750914585850546081941653841776809718687451684622678807385399211877",
            ),
            (
                seq(6, 0),
                "20400040500897583745843009878988256314335038853985262692600694741116813247201",
            ),
        ];
        for (inputs, want) in cases {
            assert_eq!(hash(&inputs).unwrap(), dec(want), "{} inputs", inputs.len());
        }
    }

    #[test]
    fn arity_is_checked() {
        assert_eq!(
            hash(&[]),
            Err(PoseidonError::Arity {
                got: 0,
                max: MAX_INPUTS
            })
        );
        assert_eq!(
            hash(&[Fr::zero(); 17]),
            Err(PoseidonError::Arity {
                got: 17,
                max: MAX_INPUTS
            })
        );
    }

    #[test]
    fn gadget_equals_native_for_every_arity() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        for n in 1..=MAX_INPUTS {
            let inputs: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let cs = ConstraintSystem::<Fr>::new_ref();
            let vars: Vec<FpVar<Fr>> = inputs
                .iter()
                .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
                .collect();
            let out = hash_var(&vars).unwrap();
            assert_eq!(out.value().unwrap(), hash(&inputs).unwrap(), "n = {n}");
            assert!(cs.is_satisfied().unwrap(), "n = {n}");
        }
    }

    #[test]
    fn gadget_refuses_a_wrong_output() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))).unwrap();
        let b = FpVar::new_witness(cs.clone(), || Ok(Fr::from(2u64))).unwrap();
        let out = hash_var(&[a, b]).unwrap();
        let claimed = FpVar::new_input(cs.clone(), || Ok(Fr::from(3u64))).unwrap();
        ark_r1cs_std::eq::EqGadget::enforce_equal(&out, &claimed).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    #[test]
    fn gadget_constraint_count_for_two_inputs() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let vars: Vec<FpVar<Fr>> = (0..2u64)
            .map(|x| FpVar::new_witness(cs.clone(), || Ok(Fr::from(x))).unwrap())
            .collect();
        let _ = hash_var(&vars).unwrap();
        // 8 full rounds x 3 S-boxes + 57 partial rounds x 1, 3 constraints
        // each, less the first round's S-box on the constant capacity element.
        assert_eq!(cs.num_constraints(), POSEIDON2_CONSTRAINTS);
        assert_eq!(POSEIDON2_CONSTRAINTS, (8 * 3 + 57 - 1) * 3);
    }

    pub(crate) const POSEIDON2_CONSTRAINTS: usize = 240;
}
