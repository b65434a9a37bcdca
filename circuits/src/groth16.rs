//! Keys, the seeded devnet setup, proving, verification and batch
//! verification of disclosure proofs (Groth16 over BN254, ark-groth16).
//!
//! Verification checks every proof point (on the curve, in the prime-order
//! subgroup, not the identity) and the number of public inputs before the
//! pairing, and names the check that failed. Batch verification combines
//! the pairing equations of n proofs with random 128-bit coefficients derived
//! from the batch itself (SHA-256 of the key and of every proof and input,
//! seeding ChaCha20), so a host verifies deterministically: n + 3 Miller
//! loops and one final exponentiation instead of 3n and n.

use ark_bn254::{Bn254, Fq12, Fr, G1Projective};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{BigInteger, One, PrimeField, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::disclosure::{DisclosureCircuit, DisclosureParams, Opening, Statement};
use crate::error::{ProveError, VerifyError};

/// A Groth16 proof over BN254 (A, C in G1, B in G2).
pub type Proof = ark_groth16::Proof<Bn254>;

/// Any Groth16 BN254 verifying key (a snarkjs one, say), without a shape.
pub type ArkVerifyingKey = ark_groth16::VerifyingKey<Bn254>;

type Groth16 = ark_groth16::Groth16<Bn254>;

/// A proving key for one disclosure shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvingKey {
    /// The shape it proves.
    pub params: DisclosureParams,
    /// The arkworks key.
    pub inner: ark_groth16::ProvingKey<Bn254>,
}

/// A verifying key for one disclosure shape (one public input).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyingKey {
    /// The shape it verifies.
    pub params: DisclosureParams,
    /// The arkworks key.
    pub inner: ark_groth16::VerifyingKey<Bn254>,
}

impl VerifyingKey {
    /// The key with its pairing precomputations, as a host keeps it.
    pub fn prepare(&self) -> PreparedVerifyingKey {
        PreparedVerifyingKey {
            params: self.params,
            inner: RawPreparedKey::new(&self.inner),
        }
    }
}

/// A verifying key prepared for verification.
#[derive(Debug, Clone)]
pub struct PreparedVerifyingKey {
    /// The shape it verifies.
    pub params: DisclosureParams,
    inner: RawPreparedKey,
}

impl PreparedVerifyingKey {
    /// The key without its shape, for [`verify_raw`] and [`verify_batch_raw`].
    pub fn raw(&self) -> &RawPreparedKey {
        &self.inner
    }
}

/// Any Groth16 BN254 verifying key, prepared: arkworks' prepared key, the
/// negated prepared beta for batches, and the key's digest (which seeds the
/// batch coefficients).
#[derive(Debug, Clone)]
pub struct RawPreparedKey {
    pvk: ark_groth16::PreparedVerifyingKey<Bn254>,
    beta_neg: <Bn254 as Pairing>::G2Prepared,
    digest: [u8; 32],
}

impl RawPreparedKey {
    /// Prepares `vk`.
    pub fn new(vk: &ark_groth16::VerifyingKey<Bn254>) -> Self {
        let mut bytes = Vec::new();
        // Serialising into a Vec does not fail.
        let _ = vk.serialize_compressed(&mut bytes);
        RawPreparedKey {
            pvk: ark_groth16::prepare_verifying_key(vk),
            beta_neg: (-vk.beta_g2).into(),
            digest: Sha256::digest(&bytes).into(),
        }
    }

    /// The underlying verifying key.
    pub fn vk(&self) -> &ark_groth16::VerifyingKey<Bn254> {
        &self.pvk.vk
    }

    /// arkworks' prepared key (for comparison benchmarks).
    pub fn ark(&self) -> &ark_groth16::PreparedVerifyingKey<Bn254> {
        &self.pvk
    }
}

/// A setup whose randomness is ChaCha20 seeded with `seed`.
///
/// UNSAFE FOR PRODUCTION: whoever knows the seed knows the toxic waste
/// (tau, alpha, beta, gamma, delta) and can prove anything under the key. For
/// devnets and tests only; production keys come from a ceremony.
pub fn setup(
    params: DisclosureParams,
    seed: [u8; 32],
) -> Result<(ProvingKey, VerifyingKey), ProveError> {
    let mut rng = ChaCha20Rng::from_seed(seed);
    let pk = Groth16::generate_random_parameters_with_reduction(
        DisclosureCircuit::blank(params),
        &mut rng,
    )
    .map_err(|e| ProveError::Synthesis(e.to_string()))?;
    let vk = VerifyingKey {
        params,
        inner: pk.vk.clone(),
    };
    Ok((ProvingKey { params, inner: pk }, vk))
}

/// Proves `statement` from `openings` (one per statement record). The witness
/// is checked natively first, so a false statement is refused by name
/// instead of yielding a proof that fails.
pub fn prove<R: RngCore + rand_core::CryptoRng>(
    pk: &ProvingKey,
    statement: &Statement,
    openings: &[Opening],
    rng: &mut R,
) -> Result<Proof, ProveError> {
    check_params(statement.params(), pk.params)?;
    statement.check(openings)?;
    let circuit = DisclosureCircuit::new(statement.clone(), openings.to_vec());
    Groth16::create_random_proof_with_reduction(circuit, &pk.inner, rng)
        .map_err(|e| ProveError::Synthesis(e.to_string()))
}

/// [`prove`] with ChaCha20 seeded from `seed` (fresh secret bytes from the
/// caller). Not generic, so the prover is compiled here, at this crate's
/// optimisation level, whatever the caller's.
pub fn prove_seeded(
    pk: &ProvingKey,
    statement: &Statement,
    openings: &[Opening],
    seed: [u8; 32],
) -> Result<Proof, ProveError> {
    prove(pk, statement, openings, &mut ChaCha20Rng::from_seed(seed))
}

fn check_params(statement: DisclosureParams, key: DisclosureParams) -> Result<(), VerifyError> {
    if statement != key {
        return Err(VerifyError::ParamsMismatch {
            statement: statement.to_string(),
            key: key.to_string(),
        });
    }
    Ok(())
}

/// Verifies one disclosure proof against `statement`.
pub fn verify(
    pvk: &PreparedVerifyingKey,
    statement: &Statement,
    proof: &Proof,
) -> Result<(), VerifyError> {
    check_params(statement.params(), pvk.params)?;
    verify_raw(&pvk.inner, &[statement.public_input()], proof)
}

/// Verifies several disclosure proofs under one key in one batch; on failure
/// the error lists the proofs that fail on their own.
pub fn verify_batch(
    pvk: &PreparedVerifyingKey,
    items: &[(&Statement, &Proof)],
) -> Result<(), VerifyError> {
    let mut inputs = Vec::with_capacity(items.len());
    for (s, _) in items {
        check_params(s.params(), pvk.params)?;
        inputs.push([s.public_input()]);
    }
    let raw: Vec<(&[Fr], &Proof)> = inputs
        .iter()
        .zip(items)
        .map(|(x, (_, p))| (x.as_slice(), *p))
        .collect();
    verify_batch_raw(&pvk.inner, &raw)
}

/// A point of either group: not the identity, on the curve, in the prime-order subgroup.
fn check_point<C: ark_ec::short_weierstrass::SWCurveConfig>(
    p: &ark_ec::short_weierstrass::Affine<C>,
    point: &'static str,
    group: &'static str,
) -> Result<(), VerifyError> {
    let bad = |why| VerifyError::BadPoint { point, group, why };
    if p.is_zero() {
        return Err(bad("identity"));
    }
    if !p.is_on_curve() {
        return Err(bad("not on the curve"));
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(bad("not in the prime-order subgroup"));
    }
    Ok(())
}

/// Checks a proof's points: on the curve, in the subgroup, not the identity.
pub fn check_proof_points(proof: &Proof) -> Result<(), VerifyError> {
    check_point(&proof.a, "A", "G1")?;
    check_point(&proof.b, "B", "G2")?;
    check_point(&proof.c, "C", "G1")
}

fn check_input_count(pvk: &RawPreparedKey, got: usize) -> Result<(), VerifyError> {
    let ic = pvk.pvk.vk.gamma_abc_g1.len();
    if ic != got + 1 {
        return Err(VerifyError::InputCount {
            ic,
            expected: got + 1,
        });
    }
    Ok(())
}

/// `IC_0 + sum_j inputs_j * IC_{j+1}`.
fn prepare_inputs(pvk: &RawPreparedKey, inputs: &[Fr]) -> G1Projective {
    // A plain sum: the key has one input, where an MSM's setup costs more
    // than it saves. Multiplying the projective point goes through BN254's
    // GLV endomorphism (the affine `mul_bigint` is plain double-and-add).
    let ic = &pvk.pvk.vk.gamma_abc_g1;
    ic[1..]
        .iter()
        .zip(inputs)
        .fold(ic[0].into_group(), |acc, (p, x)| acc + p.into_group() * x)
}

/// Verifies any Groth16 BN254 proof with these public inputs:
/// `e(A, B) = e(alpha, beta) * e(L, gamma) * e(C, delta)`.
pub fn verify_raw(pvk: &RawPreparedKey, inputs: &[Fr], proof: &Proof) -> Result<(), VerifyError> {
    check_input_count(pvk, inputs.len())?;
    check_proof_points(proof)?;
    let l = prepare_inputs(pvk, inputs).into_affine();
    let ml = Bn254::multi_miller_loop(
        [proof.a, l, proof.c],
        [
            proof.b.into(),
            pvk.pvk.gamma_g2_neg_pc.clone(),
            pvk.pvk.delta_g2_neg_pc.clone(),
        ],
    );
    match Bn254::final_exponentiation(ml) {
        Some(out) if out.0 == pvk.pvk.alpha_g1_beta_g2 => Ok(()),
        _ => Err(VerifyError::Pairing),
    }
}

/// The batch's coefficients: 128-bit scalars from ChaCha20 seeded with
/// SHA-256 of a domain tag, the key's digest, and every proof and input.
fn batch_coefficients(pvk: &RawPreparedKey, items: &[(&[Fr], &Proof)]) -> Vec<Fr> {
    let mut h = Sha256::new();
    h.update(b"portrelay.groth16.batch.v1");
    h.update(pvk.digest);
    h.update((items.len() as u64).to_be_bytes());
    let mut bytes = Vec::with_capacity(128);
    for (inputs, proof) in items {
        bytes.clear();
        let _ = proof.serialize_compressed(&mut bytes);
        h.update(&bytes);
        h.update((inputs.len() as u64).to_be_bytes());
        for x in inputs.iter() {
            h.update(x.into_bigint().to_bytes_be());
        }
    }
    let mut rng = ChaCha20Rng::from_seed(h.finalize().into());
    items
        .iter()
        .map(|_| {
            let lo = u128::from(rng.next_u64());
            let hi = u128::from(rng.next_u64());
            // A zero coefficient would drop a proof from the check.
            Fr::from((hi << 64 | lo).max(1))
        })
        .collect()
}

/// Verifies any number of Groth16 BN254 proofs under one key at once:
/// `prod_i e(r_i A_i, B_i) e(-sum r_i L_i, gamma) e(-sum r_i C_i, delta)
/// e(-(sum r_i) alpha, beta) = 1`. On failure, each proof is verified alone
/// to name the bad ones.
pub fn verify_batch_raw(
    pvk: &RawPreparedKey,
    items: &[(&[Fr], &Proof)],
) -> Result<(), VerifyError> {
    if items.is_empty() {
        return Err(VerifyError::EmptyBatch);
    }
    let n_inputs = pvk.pvk.vk.gamma_abc_g1.len().saturating_sub(1);
    for (index, (inputs, proof)) in items.iter().enumerate() {
        if inputs.len() != n_inputs {
            return Err(VerifyError::BatchInputCount {
                index,
                got: inputs.len(),
                expected: n_inputs,
            });
        }
        check_proof_points(proof)?;
    }
    let r = batch_coefficients(pvk, items);

    // sum r_i L_i = (sum r_i) IC_0 + sum_j (sum_i r_i x_ij) IC_{j+1}.
    let r_sum: Fr = r.iter().sum();
    let mut input_scalars = vec![Fr::zero(); n_inputs];
    for (ri, (inputs, _)) in r.iter().zip(items) {
        for (s, x) in input_scalars.iter_mut().zip(inputs.iter()) {
            *s += *ri * x;
        }
    }
    let ic = &pvk.pvk.vk.gamma_abc_g1;
    let l_sum = ic[1..]
        .iter()
        .zip(&input_scalars)
        .fold(ic[0].into_group() * r_sum, |acc, (p, s)| {
            acc + p.into_group() * s
        });
    // One multi-scalar multiplication for sum r_i C_i (the coefficients are
    // 128 bits; Pippenger's buckets beat n separate products from a few
    // proofs on).
    let cs: Vec<_> = items.iter().map(|(_, p)| p.c).collect();
    let c_sum = G1Projective::msm(&cs, &r).unwrap_or_else(|_| {
        items
            .iter()
            .zip(&r)
            .map(|((_, p), ri)| p.c.mul_bigint(ri.into_bigint()))
            .sum()
    });
    let alpha = pvk.pvk.vk.alpha_g1 * r_sum;

    let mut g1: Vec<G1Projective> = items
        .iter()
        .zip(&r)
        .map(|((_, p), ri)| p.a.mul_bigint(ri.into_bigint()))
        .collect();
    g1.extend([l_sum, c_sum, alpha]);
    let g1 = G1Projective::normalize_batch(&g1);
    let mut g2: Vec<<Bn254 as Pairing>::G2Prepared> =
        items.iter().map(|(_, p)| p.b.into()).collect();
    g2.extend([
        pvk.pvk.gamma_g2_neg_pc.clone(),
        pvk.pvk.delta_g2_neg_pc.clone(),
        pvk.beta_neg.clone(),
    ]);
    let ml = Bn254::multi_miller_loop(g1, g2);
    if Bn254::final_exponentiation(ml).is_some_and(|out| out.0 == Fq12::one()) {
        return Ok(());
    }
    let bad = items
        .iter()
        .enumerate()
        .filter(|(_, (inputs, proof))| verify_raw(pvk, inputs, proof).is_err())
        .map(|(i, _)| i)
        .collect();
    Err(VerifyError::Batch { bad })
}

/// A proof as 128 compressed bytes (arkworks' canonical encoding).
pub fn proof_to_bytes(proof: &Proof) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let _ = proof.serialize_compressed(&mut out);
    out
}

/// A proof from its compressed bytes: points decoded, on the curve and in the
/// subgroup, and not the identity.
pub fn proof_from_bytes(bytes: &[u8]) -> Result<Proof, VerifyError> {
    let proof =
        Proof::deserialize_with_mode(bytes, Compress::Yes, Validate::Yes).map_err(|_| {
            VerifyError::BadPoint {
                point: "proof",
                group: "G1/G2",
                why: "not a canonical compressed proof of valid points",
            }
        })?;
    check_proof_points(&proof)?;
    // arkworks stops reading after the last point: trailing bytes would make
    // two byte strings of one proof (found by the groth16_bytes fuzz target).
    if proof_to_bytes(&proof) != bytes {
        return Err(VerifyError::BadPoint {
            point: "proof",
            group: "G1/G2",
            why: "not exactly the canonical 128 bytes (trailing or non-canonical bytes)",
        });
    }
    Ok(proof)
}

/// A proving key as bytes: shape (depth u32, records u32, width u32,
/// big-endian) then arkworks' uncompressed encoding of the key.
pub fn pk_to_bytes(pk: &ProvingKey) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(shape_bytes(pk.params));
    let _ = pk.inner.serialize_uncompressed(&mut out);
    out
}

/// A proving key from [`pk_to_bytes`]. Its points are decoded but not
/// checked for subgroup membership: that would take longer than a proof, and
/// a bad proving key can only make proofs that fail verification.
pub fn pk_from_bytes(bytes: &[u8]) -> Result<ProvingKey, VerifyError> {
    let (params, rest) = shape_from_bytes(bytes, "proving key")?;
    let inner =
        ark_groth16::ProvingKey::<Bn254>::deserialize_with_mode(rest, Compress::No, Validate::No)
            .map_err(|_| VerifyError::BadPoint {
            point: "proving key",
            group: "G1/G2",
            why: "not an uncompressed proving key",
        })?;
    if inner.vk.gamma_abc_g1.len() != 2 {
        return Err(VerifyError::InputCount {
            ic: inner.vk.gamma_abc_g1.len(),
            expected: 2,
        });
    }
    Ok(ProvingKey { params, inner })
}

fn shape_bytes(params: DisclosureParams) -> impl Iterator<Item = u8> {
    params
        .depth
        .to_be_bytes()
        .into_iter()
        .chain((params.records as u32).to_be_bytes())
        .chain((params.width as u32).to_be_bytes())
}

fn shape_from_bytes<'a>(
    bytes: &'a [u8],
    point: &'static str,
) -> Result<(DisclosureParams, &'a [u8]), VerifyError> {
    let bad = |why| VerifyError::BadPoint {
        point,
        group: "G1/G2",
        why,
    };
    let word = |i: usize| -> Result<u32, VerifyError> {
        let b = bytes.get(4 * i..4 * i + 4).ok_or(bad("truncated shape"))?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let params = DisclosureParams::new(word(0)?, word(1)? as usize, word(2)? as usize)
        .map_err(|_| bad("shape out of range"))?;
    let rest = bytes.get(12..).ok_or(bad("truncated shape"))?;
    Ok((params, rest))
}

/// A verifying key as compressed bytes: shape (depth u32, records u32, width
/// u32, big-endian) then arkworks' canonical encoding of the key.
pub fn vk_to_bytes(vk: &VerifyingKey) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(shape_bytes(vk.params));
    let _ = vk.inner.serialize_compressed(&mut out);
    out
}

/// A verifying key from [`vk_to_bytes`], validated (points in their groups,
/// one input point per public input plus one).
pub fn vk_from_bytes(bytes: &[u8]) -> Result<VerifyingKey, VerifyError> {
    let (params, rest) = shape_from_bytes(bytes, "verifying key")?;
    let bad = |why| VerifyError::BadPoint {
        point: "verifying key",
        group: "G1/G2",
        why,
    };
    let inner = ark_groth16::VerifyingKey::<Bn254>::deserialize_with_mode(
        rest,
        Compress::Yes,
        Validate::Yes,
    )
    .map_err(|_| bad("not a canonical compressed key of valid points"))?;
    if inner.gamma_abc_g1.len() != 2 {
        return Err(VerifyError::InputCount {
            ic: inner.gamma_abc_g1.len(),
            expected: 2,
        });
    }
    let vk = VerifyingKey { params, inner };
    // As for proofs: one key, one byte string.
    if vk_to_bytes(&vk) != bytes {
        return Err(bad(
            "not exactly the canonical encoding (trailing or non-canonical bytes)",
        ));
    }
    Ok(vk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::tests::{rules_for, sample, statement};
    use crate::disclosure::Rule;
    use ark_bn254::G1Affine;

    fn rng() -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(42)
    }

    /// Fuzz finding (groth16_bytes): bytes after a proof or a key were
    /// ignored, so one proof had many byte forms.
    #[test]
    fn trailing_bytes_after_a_proof_or_a_key_are_refused() {
        let params = DisclosureParams::new(2, 1, 2).unwrap();
        let (_, vk) = setup(params, [7; 32]).unwrap();
        let vk_bytes = vk_to_bytes(&vk);
        assert_eq!(vk_from_bytes(&vk_bytes).unwrap().inner, vk.inner);
        let mut longer = vk_bytes.clone();
        longer.push(0);
        assert!(matches!(
            vk_from_bytes(&longer),
            Err(VerifyError::BadPoint {
                point: "verifying key",
                ..
            })
        ));
        let proof = Proof {
            a: vk.inner.alpha_g1,
            b: vk.inner.beta_g2,
            c: vk.inner.alpha_g1,
        };
        let bytes = proof_to_bytes(&proof);
        assert_eq!(bytes.len(), 128);
        assert_eq!(proof_from_bytes(&bytes).unwrap(), proof);
        for tail in [&[0u8][..], &[0, 0, 4, 0, 0]] {
            let mut longer = bytes.clone();
            longer.extend_from_slice(tail);
            assert!(matches!(
                proof_from_bytes(&longer),
                Err(VerifyError::BadPoint { point: "proof", .. })
            ));
        }
    }

    #[test]
    fn setup_prove_verify_round_trip_and_wrong_inputs() {
        let params = DisclosureParams::new(4, 2, 4).unwrap();
        let (pk, vk) = setup(params, [1; 32]).unwrap();
        let pvk = vk.prepare();
        let (root, _, openings) = sample(4, 6, 2);
        let s = statement(params, root, &openings);
        let proof = prove(&pk, &s, &openings, &mut rng()).unwrap();
        assert_eq!(verify(&pvk, &s, &proof), Ok(()));
        // arkworks agrees.
        assert!(Groth16::verify_proof(pvk.raw().ark(), &proof, &[s.public_input()]).unwrap());

        // Another statement (a stronger predicate) with the same proof.
        let mut d = rules_for(&openings[0].record);
        d.rules[0] = Rule::AtLeast(60_000);
        let stronger =
            Statement::new(params, root, vec![d, rules_for(&openings[1].record)]).unwrap();
        assert_eq!(verify(&pvk, &stronger, &proof), Err(VerifyError::Pairing));
        // Another root.
        let moved = statement(params, root + Fr::from(1u64), &openings);
        assert_eq!(verify(&pvk, &moved, &proof), Err(VerifyError::Pairing));
        // A raw public input off by one.
        assert_eq!(
            verify_raw(pvk.raw(), &[s.public_input() + Fr::from(1u64)], &proof),
            Err(VerifyError::Pairing)
        );
        assert_eq!(
            verify_raw(pvk.raw(), &[], &proof),
            Err(VerifyError::InputCount { ic: 2, expected: 1 })
        );
        // Another key of the same shape.
        let (_, other) = setup(params, [2; 32]).unwrap();
        assert_eq!(
            verify(&other.prepare(), &s, &proof),
            Err(VerifyError::Pairing)
        );
        // A statement of another shape.
        let p2 = DisclosureParams::new(4, 1, 4).unwrap();
        let s2 = statement(p2, root, &openings[..1]);
        assert!(matches!(
            verify(&pvk, &s2, &proof),
            Err(VerifyError::ParamsMismatch { .. })
        ));
        // The prover refuses a false statement by name.
        assert_eq!(
            prove(&pk, &stronger, &openings, &mut rng()).unwrap_err(),
            ProveError::Predicate {
                record: 0,
                field: 0,
                rule: "at least 60000".into()
            }
        );
        // Bytes round trip.
        let bytes = proof_to_bytes(&proof);
        assert_eq!(bytes.len(), 128);
        assert_eq!(proof_from_bytes(&bytes).unwrap(), proof);
        let vk2 = vk_from_bytes(&vk_to_bytes(&vk)).unwrap();
        assert_eq!(vk2, vk);
        let pk2 = pk_from_bytes(&pk_to_bytes(&pk)).unwrap();
        assert_eq!(pk2, pk);
        // A key file cut short, or with another shape, is refused by name.
        let pk_bytes = pk_to_bytes(&pk);
        assert!(pk_from_bytes(&pk_bytes[..pk_bytes.len() - 1]).is_err());
        assert!(matches!(
            pk_from_bytes(&pk_bytes[..8]),
            Err(VerifyError::BadPoint {
                why: "truncated shape",
                ..
            })
        ));
        let mut zero_depth = pk_bytes.clone();
        zero_depth[..4].copy_from_slice(&0u32.to_be_bytes());
        assert!(matches!(
            pk_from_bytes(&zero_depth),
            Err(VerifyError::BadPoint {
                why: "shape out of range",
                ..
            })
        ));
    }

    #[test]
    fn the_seeded_setup_is_reproducible() {
        let params = DisclosureParams::new(4, 1, 2).unwrap();
        let (_, a) = setup(params, [9; 32]).unwrap();
        let (_, b) = setup(params, [9; 32]).unwrap();
        let (_, c) = setup(params, [8; 32]).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn bad_proof_points_are_refused() {
        let params = DisclosureParams::new(4, 1, 4).unwrap();
        let (pk, vk) = setup(params, [3; 32]).unwrap();
        let pvk = vk.prepare();
        let (root, _, openings) = sample(4, 3, 1);
        let s = statement(params, root, &openings);
        let proof = prove(&pk, &s, &openings, &mut rng()).unwrap();

        let mut off = proof.clone();
        off.a = G1Affine::new_unchecked(proof.a.x, proof.a.y + ark_bn254::Fq::one());
        assert!(matches!(
            verify(&pvk, &s, &off),
            Err(VerifyError::BadPoint {
                point: "A",
                why: "not on the curve",
                ..
            })
        ));
        let mut zero = proof.clone();
        zero.c = G1Affine::zero();
        assert!(matches!(
            verify(&pvk, &s, &zero),
            Err(VerifyError::BadPoint {
                point: "C",
                why: "identity",
                ..
            })
        ));
        let mut twisted = proof.clone();
        twisted.b = crate::snarkjs::tests::g2_outside_subgroup();
        assert!(matches!(
            verify(&pvk, &s, &twisted),
            Err(VerifyError::BadPoint {
                point: "B",
                why: "not in the prime-order subgroup",
                ..
            })
        ));
        // A's x coordinate (32 little-endian bytes, flags in the top two
        // bits) set above the modulus.
        let mut bytes = proof_to_bytes(&proof);
        bytes[..31].fill(0xff);
        bytes[31] = 0x3f;
        assert!(matches!(
            proof_from_bytes(&bytes),
            Err(VerifyError::BadPoint { point: "proof", .. })
        ));
        assert!(proof_from_bytes(&bytes[..100]).is_err());
    }

    #[test]
    fn batches_accept_good_proofs_and_name_a_bad_one() {
        let params = DisclosureParams::new(4, 1, 4).unwrap();
        let (pk, vk) = setup(params, [5; 32]).unwrap();
        let pvk = vk.prepare();
        let (root, records, _) = sample(4, 6, 0);
        let tree =
            crate::tree::Tree::new(4, records.iter().map(|r| r.leaf().unwrap()).collect()).unwrap();
        let mut rng = rng();
        let mut statements = Vec::new();
        let mut proofs = Vec::new();
        for (i, r) in records.iter().enumerate().take(5) {
            let o = vec![Opening {
                record: r.clone(),
                path: tree.path(i as u64).unwrap(),
            }];
            let s = statement(params, root, &o);
            proofs.push(prove(&pk, &s, &o, &mut rng).unwrap());
            statements.push(s);
        }
        let items: Vec<(&Statement, &Proof)> = statements.iter().zip(&proofs).collect();
        assert_eq!(verify_batch(&pvk, &items), Ok(()));
        assert_eq!(verify_batch(&pvk, &items[..1]), Ok(()));
        assert_eq!(verify_batch(&pvk, &[]), Err(VerifyError::EmptyBatch));

        // Proof 3 paired with statement 2: each is valid, the pair is not.
        let mut swapped = items.clone();
        swapped[3].1 = &proofs[2];
        assert_eq!(
            verify_batch(&pvk, &swapped),
            Err(VerifyError::Batch { bad: vec![3] })
        );
        // Two proofs swapped between their statements.
        let mut crossed = items.clone();
        crossed[0].1 = &proofs[1];
        crossed[1].1 = &proofs[0];
        assert_eq!(
            verify_batch(&pvk, &crossed),
            Err(VerifyError::Batch { bad: vec![0, 1] })
        );
        // A malformed proof is refused before any pairing.
        let mut off = proofs[4].clone();
        off.c = G1Affine::new_unchecked(off.c.x, off.c.y + ark_bn254::Fq::one());
        let mut with_off = items.clone();
        with_off[4].1 = &off;
        assert!(matches!(
            verify_batch(&pvk, &with_off),
            Err(VerifyError::BadPoint { point: "C", .. })
        ));
        // The coefficients depend on the batch, deterministically.
        let raw: Vec<([Fr; 1], &Proof)> = items
            .iter()
            .map(|(s, p)| ([s.public_input()], *p))
            .collect();
        let raw: Vec<(&[Fr], &Proof)> = raw.iter().map(|(x, p)| (x.as_slice(), *p)).collect();
        let r1 = batch_coefficients(pvk.raw(), &raw);
        assert_eq!(r1, batch_coefficients(pvk.raw(), &raw));
        assert_ne!(r1[..4], batch_coefficients(pvk.raw(), &raw[..4])[..]);
    }
}
