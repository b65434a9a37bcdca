//! snarkjs JSON for Groth16 over BN254 ("bn128"): `verification_key.json`,
//! `proof.json` and `public.json`, exported as snarkjs writes them and
//! imported strictly.
//!
//! Format: numbers are decimal strings; G1 points are projective `[x, y, z]`
//! with z = "1" (the identity is `["0", "1", "0"]`); G2 points are
//! `[[x.c0, x.c1], [y.c0, y.c1], [z.c0, z.c1]]` with z = `["1", "0"]`.
//! Import refuses, naming the file and the point: malformed JSON, another
//! protocol or curve, coordinates that are not decimals below the base field
//! modulus, z other than 1 (or the identity's 0), points off the curve or
//! outside the prime-order subgroup (G2 has a cofactor), identities where a
//! key or proof point must not be one, an `IC` that is not `nPublic + 1`
//! points, and public inputs at or above the scalar field modulus.
//!
//! `vk_alphabeta_12` (e(alpha, beta), which snarkjs writes but does not read
//! when verifying) is exported, and on import, when present, must equal the
//! pairing of `vk_alpha_1` and `vk_beta_2` (arkworks and snarkjs's
//! ffjavascript use the same Fq12 tower, so the values agree exactly).

use ark_bn254::{Bn254, Fq, Fq12, Fq2, Fq6, Fr, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::AffineRepr;
use ark_ff::Zero;
use serde_json::{json, Value};

use crate::encode::{fq_from_decimal, from_decimal, to_decimal};
use crate::error::SnarkjsError;
use crate::groth16::{self, Proof, RawPreparedKey};

/// A verifying key in snarkjs's `verification_key.json` form.
pub fn vk_to_json(vk: &ark_groth16::VerifyingKey<Bn254>) -> String {
    let ab = Bn254::pairing(vk.alpha_g1, vk.beta_g2).0;
    let v = json!({
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.gamma_abc_g1.len().saturating_sub(1),
        "vk_alpha_1": g1_json(&vk.alpha_g1),
        "vk_beta_2": g2_json(&vk.beta_g2),
        "vk_gamma_2": g2_json(&vk.gamma_g2),
        "vk_delta_2": g2_json(&vk.delta_g2),
        "vk_alphabeta_12": fq12_json(&ab),
        "IC": vk.gamma_abc_g1.iter().map(g1_json).collect::<Vec<_>>(),
    });
    pretty(&v)
}

/// A proof in snarkjs's `proof.json` form.
pub fn proof_to_json(proof: &Proof) -> String {
    pretty(&json!({
        "pi_a": g1_json(&proof.a),
        "pi_b": g2_json(&proof.b),
        "pi_c": g1_json(&proof.c),
        "protocol": "groth16",
        "curve": "bn128",
    }))
}

/// Public inputs in snarkjs's `public.json` form.
pub fn public_to_json(inputs: &[Fr]) -> String {
    pretty(&Value::Array(
        inputs
            .iter()
            .map(|x| Value::String(to_decimal(x)))
            .collect(),
    ))
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn g1_json(p: &G1Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([to_decimal(&x), to_decimal(&y), "1"]),
        None => json!(["0", "1", "0"]),
    }
}

fn fq2_json(x: &Fq2) -> Value {
    json!([to_decimal(&x.c0), to_decimal(&x.c1)])
}

fn g2_json(p: &G2Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([fq2_json(&x), fq2_json(&y), ["1", "0"]]),
        None => json!([["0", "0"], ["1", "0"], ["0", "0"]]),
    }
}

fn fq6_json(x: &Fq6) -> Value {
    json!([fq2_json(&x.c0), fq2_json(&x.c1), fq2_json(&x.c2)])
}

fn fq12_json(x: &Fq12) -> Value {
    json!([fq6_json(&x.c0), fq6_json(&x.c1)])
}

/// Reads one file's JSON, naming the file on failure.
fn parse(file: &'static str, text: &str) -> Result<Value, SnarkjsError> {
    serde_json::from_str(text).map_err(|e| SnarkjsError::Json {
        file,
        why: e.to_string(),
    })
}

/// A snarkjs file is a fixed shape: a key it does not have is a mistake
/// (a misspelt field would otherwise be read as missing or ignored).
fn only_keys(file: &'static str, v: &Value, known: &[&str]) -> Result<(), SnarkjsError> {
    let object = v.as_object().ok_or_else(|| SnarkjsError::Json {
        file,
        why: "not a JSON object".into(),
    })?;
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(SnarkjsError::Json {
            file,
            why: format!("unknown field {k:?}, expected one of {known:?}"),
        }),
        None => Ok(()),
    }
}

fn field<'a>(file: &'static str, v: &'a Value, name: &str) -> Result<&'a Value, SnarkjsError> {
    v.get(name).ok_or_else(|| SnarkjsError::Json {
        file,
        why: format!("missing field {name:?}"),
    })
}

fn array<'a>(
    file: &'static str,
    v: &'a Value,
    what: &str,
    len: Option<usize>,
) -> Result<&'a [Value], SnarkjsError> {
    let a = v.as_array().ok_or_else(|| SnarkjsError::Json {
        file,
        why: format!("{what} is not an array"),
    })?;
    if let Some(len) = len {
        if a.len() != len {
            return Err(SnarkjsError::Json {
                file,
                why: format!("{what} has {} elements, expected {len}", a.len()),
            });
        }
    }
    Ok(a)
}

fn decimal<'a>(file: &'static str, v: &'a Value, what: &str) -> Result<&'a str, SnarkjsError> {
    v.as_str().ok_or_else(|| SnarkjsError::Json {
        file,
        why: format!("{what} is not a string"),
    })
}

fn fq(file: &'static str, v: &Value, what: &str) -> Result<Fq, SnarkjsError> {
    let s = decimal(file, v, what)?;
    fq_from_decimal(s).ok_or_else(|| SnarkjsError::Coordinate {
        what: format!("{file} {what}"),
        value: s.to_owned(),
        field: "base field",
    })
}

fn fq2(file: &'static str, v: &Value, what: &str) -> Result<Fq2, SnarkjsError> {
    let a = array(file, v, what, Some(2))?;
    Ok(Fq2::new(
        fq(file, &a[0], &format!("{what}[0]"))?,
        fq(file, &a[1], &format!("{what}[1]"))?,
    ))
}

/// Whether identities are allowed for a point.
#[derive(Clone, Copy, PartialEq)]
enum Identity {
    Allowed,
    Refused,
}

fn g1(file: &'static str, v: &Value, what: &str, id: Identity) -> Result<G1Affine, SnarkjsError> {
    let a = array(file, v, what, Some(3))?;
    let (x, y, z) = (
        fq(file, &a[0], &format!("{what}[0]"))?,
        fq(file, &a[1], &format!("{what}[1]"))?,
        fq(file, &a[2], &format!("{what}[2]"))?,
    );
    let name = format!("{file} {what}");
    let p = if z.is_zero() && x.is_zero() && y == Fq::from(1u64) {
        G1Affine::zero()
    } else if z == Fq::from(1u64) {
        G1Affine::new_unchecked(x, y)
    } else {
        return Err(SnarkjsError::NotAffine { what: name });
    };
    check_point(p, name, id)
}

fn g2(file: &'static str, v: &Value, what: &str, id: Identity) -> Result<G2Affine, SnarkjsError> {
    let a = array(file, v, what, Some(3))?;
    let (x, y, z) = (
        fq2(file, &a[0], &format!("{what}[0]"))?,
        fq2(file, &a[1], &format!("{what}[1]"))?,
        fq2(file, &a[2], &format!("{what}[2]"))?,
    );
    let name = format!("{file} {what}");
    let p = if z.is_zero() && x.is_zero() && y == Fq2::from(1u64) {
        G2Affine::zero()
    } else if z == Fq2::from(1u64) {
        G2Affine::new_unchecked(x, y)
    } else {
        return Err(SnarkjsError::NotAffine { what: name });
    };
    check_point(p, name, id)
}

fn check_point<P: AffineRepr + OnCurve>(
    p: P,
    what: String,
    id: Identity,
) -> Result<P, SnarkjsError> {
    if p.is_zero() {
        return match id {
            Identity::Allowed => Ok(p),
            Identity::Refused => Err(SnarkjsError::Identity { what }),
        };
    }
    if !p.on_curve() {
        return Err(SnarkjsError::NotOnCurve { what });
    }
    if !p.in_subgroup() {
        return Err(SnarkjsError::NotInSubgroup { what });
    }
    Ok(p)
}

/// The curve checks of both groups under one name.
trait OnCurve {
    fn on_curve(&self) -> bool;
    fn in_subgroup(&self) -> bool;
}

impl<P: ark_ec::short_weierstrass::SWCurveConfig> OnCurve for ark_ec::short_weierstrass::Affine<P> {
    fn on_curve(&self) -> bool {
        self.is_on_curve()
    }
    fn in_subgroup(&self) -> bool {
        self.is_in_correct_subgroup_assuming_on_curve()
    }
}

fn check_header(file: &'static str, v: &Value) -> Result<(), SnarkjsError> {
    for (name, expected) in [("protocol", "groth16"), ("curve", "bn128")] {
        let got = field(file, v, name)?;
        if got.as_str() != Some(expected) {
            return Err(SnarkjsError::Unsupported {
                file,
                field: name,
                got: got.to_string(),
                expected,
            });
        }
    }
    Ok(())
}

/// Reads `verification_key.json`.
pub fn vk_from_json(text: &str) -> Result<ark_groth16::VerifyingKey<Bn254>, SnarkjsError> {
    const F: &str = "verification_key.json";
    let v = parse(F, text)?;
    only_keys(
        F,
        &v,
        &[
            "protocol",
            "curve",
            "nPublic",
            "vk_alpha_1",
            "vk_beta_2",
            "vk_gamma_2",
            "vk_delta_2",
            "vk_alphabeta_12",
            "IC",
        ],
    )?;
    check_header(F, &v)?;
    let n_public = field(F, &v, "nPublic")?
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| SnarkjsError::Json {
            file: F,
            why: "nPublic is not a non-negative integer".into(),
        })?;
    let ic_json = array(F, field(F, &v, "IC")?, "IC", None)?;
    if Some(ic_json.len()) != n_public.checked_add(1) {
        return Err(SnarkjsError::IcCount {
            ic: ic_json.len(),
            n_public,
            expected: n_public.saturating_add(1),
        });
    }
    let vk = ark_groth16::VerifyingKey {
        alpha_g1: g1(
            F,
            field(F, &v, "vk_alpha_1")?,
            "vk_alpha_1",
            Identity::Refused,
        )?,
        beta_g2: g2(
            F,
            field(F, &v, "vk_beta_2")?,
            "vk_beta_2",
            Identity::Refused,
        )?,
        gamma_g2: g2(
            F,
            field(F, &v, "vk_gamma_2")?,
            "vk_gamma_2",
            Identity::Refused,
        )?,
        delta_g2: g2(
            F,
            field(F, &v, "vk_delta_2")?,
            "vk_delta_2",
            Identity::Refused,
        )?,
        gamma_abc_g1: ic_json
            .iter()
            .enumerate()
            .map(|(i, p)| g1(F, p, &format!("IC[{i}]"), Identity::Allowed))
            .collect::<Result<_, _>>()?,
    };
    if let Some(ab) = v.get("vk_alphabeta_12") {
        let outer = array(F, ab, "vk_alphabeta_12", Some(2))?;
        let mut c6 = Vec::with_capacity(2);
        for (i, c) in outer.iter().enumerate() {
            let inner = array(F, c, &format!("vk_alphabeta_12[{i}]"), Some(3))?;
            let mut c2 = Vec::with_capacity(3);
            for (j, x) in inner.iter().enumerate() {
                c2.push(fq2(F, x, &format!("vk_alphabeta_12[{i}][{j}]"))?);
            }
            c6.push(Fq6::new(c2[0], c2[1], c2[2]));
        }
        let given = Fq12::new(c6[0], c6[1]);
        if given != Bn254::pairing(vk.alpha_g1, vk.beta_g2).0 {
            return Err(SnarkjsError::AlphaBeta);
        }
    }
    Ok(vk)
}

/// Reads `proof.json`.
pub fn proof_from_json(text: &str) -> Result<Proof, SnarkjsError> {
    const F: &str = "proof.json";
    let v = parse(F, text)?;
    only_keys(F, &v, &["pi_a", "pi_b", "pi_c", "protocol", "curve"])?;
    check_header(F, &v)?;
    Ok(Proof {
        a: g1(F, field(F, &v, "pi_a")?, "pi_a", Identity::Refused)?,
        b: g2(F, field(F, &v, "pi_b")?, "pi_b", Identity::Refused)?,
        c: g1(F, field(F, &v, "pi_c")?, "pi_c", Identity::Refused)?,
    })
}

/// Reads `public.json`: decimals below the scalar field modulus.
pub fn public_from_json(text: &str) -> Result<Vec<Fr>, SnarkjsError> {
    const F: &str = "public.json";
    let v = parse(F, text)?;
    array(F, &v, "the public inputs", None)?
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let what = format!("input {i}");
            let s = decimal(F, x, &what)?;
            from_decimal::<Fr>(s).ok_or_else(|| SnarkjsError::Coordinate {
                what: format!("{F} {what}"),
                value: s.to_owned(),
                field: "scalar field",
            })
        })
        .collect()
}

/// `snarkjs groth16 verify verification_key.json public.json proof.json`:
/// parses the three files strictly and verifies.
pub fn verify_json(vk: &str, public: &str, proof: &str) -> Result<(), SnarkjsError> {
    let vk = vk_from_json(vk)?;
    let inputs = public_from_json(public)?;
    let proof = proof_from_json(proof)?;
    let expected = vk.gamma_abc_g1.len() - 1;
    if inputs.len() != expected {
        return Err(SnarkjsError::PublicCount {
            got: inputs.len(),
            expected,
        });
    }
    groth16::verify_raw(&RawPreparedKey::new(&vk), &inputs, &proof)?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::disclosure::tests::{sample, statement};
    use crate::disclosure::DisclosureParams;
    use crate::groth16::{prove, setup};
    use crate::VerifyError;
    use ark_ff::{BigInteger, PrimeField};
    use num_bigint::BigUint;
    use rand_chacha::rand_core::SeedableRng;

    /// A G2 point on the twist but outside the prime-order subgroup.
    pub(crate) fn g2_outside_subgroup() -> G2Affine {
        (1u64..)
            .filter_map(|i| {
                G2Affine::get_point_from_x_unchecked(Fq2::new(Fq::from(i), Fq::from(1u64)), true)
            })
            .find(|p| p.is_on_curve() && !p.is_in_correct_subgroup_assuming_on_curve())
            .unwrap()
    }

    struct Files {
        vk: String,
        proof: String,
        public: String,
    }

    fn files() -> Files {
        let params = DisclosureParams::new(4, 1, 4).unwrap();
        let (pk, vk) = setup(params, [11; 32]).unwrap();
        let (root, _, openings) = sample(4, 3, 1);
        let s = statement(params, root, &openings);
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let proof = prove(&pk, &s, &openings, &mut rng).unwrap();
        Files {
            vk: vk_to_json(&vk.inner),
            proof: proof_to_json(&proof),
            public: public_to_json(&[s.public_input()]),
        }
    }

    fn edit(text: &str, f: impl FnOnce(&mut Value)) -> String {
        let mut v: Value = serde_json::from_str(text).unwrap();
        f(&mut v);
        v.to_string()
    }

    #[test]
    fn export_then_import_round_trips_and_verifies() {
        let f = files();
        let vk = vk_from_json(&f.vk).unwrap();
        assert_eq!(vk_to_json(&vk), f.vk);
        let proof = proof_from_json(&f.proof).unwrap();
        assert_eq!(proof_to_json(&proof), f.proof);
        let public = public_from_json(&f.public).unwrap();
        assert_eq!(public_to_json(&public), f.public);
        assert_eq!(verify_json(&f.vk, &f.public, &f.proof), Ok(()));
        // The layout snarkjs writes.
        let v: Value = serde_json::from_str(&f.vk).unwrap();
        assert_eq!(v["nPublic"], 1);
        assert_eq!(v["IC"].as_array().unwrap().len(), 2);
        assert_eq!(v["vk_beta_2"][2], json!(["1", "0"]));
        assert_eq!(v["vk_alpha_1"][2], json!("1"));
        assert_eq!(v["vk_alphabeta_12"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_wrong_public_input_fails_verification() {
        let f = files();
        let other = edit(&f.public, |v| v[0] = json!("12345"));
        assert_eq!(
            verify_json(&f.vk, &other, &f.proof),
            Err(SnarkjsError::Verify(VerifyError::Pairing))
        );
        assert_eq!(
            verify_json(&f.vk, "[]", &f.proof),
            Err(SnarkjsError::PublicCount {
                got: 0,
                expected: 1
            })
        );
    }

    #[test]
    fn malformed_json_is_refused_by_file() {
        let f = files();
        assert!(matches!(
            vk_from_json("{not json"),
            Err(SnarkjsError::Json {
                file: "verification_key.json",
                ..
            })
        ));
        assert!(matches!(
            proof_from_json(&edit(&f.proof, |v| {
                v.as_object_mut().unwrap().remove("pi_b");
            })),
            Err(SnarkjsError::Json { file: "proof.json", ref why }) if why.contains("pi_b")
        ));
        assert!(matches!(
            proof_from_json(&edit(&f.proof, |v| v["pi_a"] = json!(["1", "2"]))),
            Err(SnarkjsError::Json { ref why, .. }) if why.contains("pi_a has 2 elements")
        ));
        assert!(matches!(
            proof_from_json(&edit(&f.proof, |v| v["pi_c"][0] = json!(5))),
            Err(SnarkjsError::Json { ref why, .. }) if why.contains("pi_c[0] is not a string")
        ));
        assert!(matches!(
            proof_from_json(&edit(&f.proof, |v| v["protocol"] = json!("plonk"))),
            Err(SnarkjsError::Unsupported {
                field: "protocol",
                ..
            })
        ));
        assert!(matches!(
            vk_from_json(&edit(&f.vk, |v| v["curve"] = json!("bls12381"))),
            Err(SnarkjsError::Unsupported { field: "curve", .. })
        ));
        assert!(matches!(
            public_from_json("{\"a\": 1}"),
            Err(SnarkjsError::Json {
                file: "public.json",
                ..
            })
        ));
        assert!(matches!(
            proof_from_json(&edit(&f.proof, |v| v["pi_a"][0] = json!("0x12"))),
            Err(SnarkjsError::Coordinate { .. })
        ));
    }

    #[test]
    fn off_curve_points_are_refused() {
        let f = files();
        let bump = |s: &Value| -> Value {
            let n: BigUint = s.as_str().unwrap().parse().unwrap();
            json!((n + 1u32).to_string())
        };
        let bad = edit(&f.proof, |v| v["pi_a"][1] = bump(&v["pi_a"][1]));
        assert_eq!(
            proof_from_json(&bad),
            Err(SnarkjsError::NotOnCurve {
                what: "proof.json pi_a".into()
            })
        );
        let bad = edit(&f.proof, |v| v["pi_b"][1][0] = bump(&v["pi_b"][1][0]));
        assert_eq!(
            proof_from_json(&bad),
            Err(SnarkjsError::NotOnCurve {
                what: "proof.json pi_b".into()
            })
        );
        let bad = edit(&f.vk, |v| v["IC"][1][0] = bump(&v["IC"][1][0]));
        assert_eq!(
            vk_from_json(&bad),
            Err(SnarkjsError::NotOnCurve {
                what: "verification_key.json IC[1]".into()
            })
        );
        let bad = edit(&f.proof, |v| v["pi_a"][2] = json!("2"));
        assert_eq!(
            proof_from_json(&bad),
            Err(SnarkjsError::NotAffine {
                what: "proof.json pi_a".into()
            })
        );
        let bad = edit(&f.proof, |v| v["pi_c"] = json!(["0", "1", "0"]));
        assert_eq!(
            proof_from_json(&bad),
            Err(SnarkjsError::Identity {
                what: "proof.json pi_c".into()
            })
        );
    }

    #[test]
    fn g2_points_outside_the_subgroup_are_refused() {
        let f = files();
        let p = g2_outside_subgroup();
        let bad = edit(&f.proof, |v| v["pi_b"] = g2_json(&p));
        assert_eq!(
            proof_from_json(&bad),
            Err(SnarkjsError::NotInSubgroup {
                what: "proof.json pi_b".into()
            })
        );
        let bad = edit(&f.vk, |v| v["vk_delta_2"] = g2_json(&p));
        assert_eq!(
            vk_from_json(&bad),
            Err(SnarkjsError::NotInSubgroup {
                what: "verification_key.json vk_delta_2".into()
            })
        );
    }

    #[test]
    fn coordinates_and_inputs_at_or_above_the_modulus_are_refused() {
        let f = files();
        let q = BigUint::from_bytes_be(&Fq::MODULUS.to_bytes_be());
        let r = BigUint::from_bytes_be(&Fr::MODULUS.to_bytes_be());
        // x + q names the same residue: refused, not reduced.
        let bad = edit(&f.proof, |v| {
            let x: BigUint = v["pi_a"][0].as_str().unwrap().parse().unwrap();
            v["pi_a"][0] = json!((x + &q).to_string());
        });
        assert!(matches!(
            proof_from_json(&bad),
            Err(SnarkjsError::Coordinate { ref what, field: "base field", .. }) if what == "proof.json pi_a[0]"
        ));
        let bad = edit(&f.vk, |v| v["vk_gamma_2"][0][1] = json!(q.to_string()));
        assert!(matches!(
            vk_from_json(&bad),
            Err(SnarkjsError::Coordinate { .. })
        ));
        let input = public_from_json(&f.public).unwrap()[0];
        let n: BigUint = input.into_bigint().into();
        let bad = format!("[\"{}\"]", n + &r);
        assert!(matches!(
            public_from_json(&bad),
            Err(SnarkjsError::Coordinate {
                field: "scalar field",
                ..
            })
        ));
        assert!(matches!(
            verify_json(&f.vk, &bad, &f.proof),
            Err(SnarkjsError::Coordinate { .. })
        ));
    }

    #[test]
    fn a_wrong_alphabeta_is_refused_and_a_missing_one_is_recomputed() {
        let f = files();
        let bad = edit(&f.vk, |v| v["vk_alphabeta_12"][1][2][0] = json!("7"));
        assert_eq!(vk_from_json(&bad), Err(SnarkjsError::AlphaBeta));
        let absent = edit(&f.vk, |v| {
            v.as_object_mut().unwrap().remove("vk_alphabeta_12");
        });
        assert_eq!(vk_to_json(&vk_from_json(&absent).unwrap()), f.vk);
    }

    #[test]
    fn ic_must_match_n_public() {
        let f = files();
        let bad = edit(&f.vk, |v| v["nPublic"] = json!(2));
        assert_eq!(
            vk_from_json(&bad),
            Err(SnarkjsError::IcCount {
                ic: 2,
                n_public: 2,
                expected: 3
            })
        );
        let bad = edit(&f.vk, |v| {
            v["IC"].as_array_mut().unwrap().pop();
        });
        assert_eq!(
            vk_from_json(&bad),
            Err(SnarkjsError::IcCount {
                ic: 1,
                n_public: 1,
                expected: 2
            })
        );
    }
}
