//! The disclosure circuit: K records under one `zk_root`, each with a rule per
//! field, and one public input that hashes the whole statement.
//!
//! What a proof says, for each of the K records: a record with this packet id
//! is a leaf of the tree with root `zk_root`, and each of its fields obeys its
//! rule:
//! - `Hidden`: nothing is said;
//! - `Equals(v)`: the field is `v` (a disclosure; an equality predicate on a
//!   hidden field is the same fact, so it is the same rule);
//! - `AtLeast(x)` / `AtMost(x)`: the field is an amount (an integer below
//!   2^64, range-checked in the circuit) and is `>= x` / `<= x`.
//!
//! The single public input (so that verification costs the same whatever is
//! disclosed) is a chain of Poseidon hashes:
//!
//! ```text
//! h_0     = Poseidon(TAG, depth, K, W, zk_root)          TAG = "portrelay.disclosure.v1" as a code
//! for each record k (padded to K by repeating the last one):
//!   values  = Poseidon(value_1, ..., value_W)            value = v / x, or 0 for Hidden
//!   modes   = sum_i mode_i * 4^(i-1)                     mode: Hidden 0, Equals 1, AtLeast 2, AtMost 3
//!   s_k     = Poseidon(packet_id_k, modes, values)
//!   h_{k+1} = Poseidon(h_k, s_k)
//! public input = h_K
//! ```
//!
//! A statement names 1..=K records; both prover and verifier pad it to K by
//! repeating the last record (a fact proven twice is still true).

use std::fmt;

use ark_bn254::Fr;
use ark_ff::{Field, PrimeField, Zero};
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

use crate::error::{ProveError, TreeError, VerifyError};
use crate::poseidon;
use crate::record::{self, Record};
use crate::tree::{self, MerklePath, PathVar};

/// The domain tag of the statement hash.
pub const TAG: &str = "portrelay.disclosure.v1";

/// The most records one proof covers.
pub const MAX_RECORDS: usize = 256;

/// The shape of a disclosure circuit, fixed at setup: a key proves statements
/// of exactly this shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DisclosureParams {
    /// Depth of the `zk_root` tree (16 for 2^16 leaves).
    pub depth: u32,
    /// K: records per proof.
    pub records: usize,
    /// W: fields per record.
    pub width: usize,
}

impl DisclosureParams {
    /// Checked parameters: depth 1..=32, 1..=256 records, 1..=14 fields.
    pub fn new(depth: u32, records: usize, width: usize) -> Result<Self, TreeError> {
        if depth == 0 || depth > tree::MAX_DEPTH {
            return Err(TreeError::Depth {
                depth,
                max: tree::MAX_DEPTH,
            });
        }
        if records == 0 || records > MAX_RECORDS {
            return Err(TreeError::TooManyLeaves {
                leaves: records,
                depth,
            });
        }
        record::check_width(width)?;
        Ok(DisclosureParams {
            depth,
            records,
            width,
        })
    }
}

impl fmt::Display for DisclosureParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "depth {}, {} records of {} fields",
            self.depth, self.records, self.width
        )
    }
}

/// What a statement says about one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Nothing.
    Hidden,
    /// The field equals this value (disclosed).
    Equals(Fr),
    /// The field is an amount of at least this many minor units.
    AtLeast(u64),
    /// The field is an amount of at most this many minor units.
    AtMost(u64),
}

impl Rule {
    /// The mode code hashed into the statement.
    pub fn mode(&self) -> u64 {
        match self {
            Rule::Hidden => 0,
            Rule::Equals(_) => 1,
            Rule::AtLeast(_) => 2,
            Rule::AtMost(_) => 3,
        }
    }

    /// The value hashed into the statement.
    pub fn value(&self) -> Fr {
        match self {
            Rule::Hidden => Fr::zero(),
            Rule::Equals(v) => *v,
            Rule::AtLeast(x) | Rule::AtMost(x) => Fr::from(*x),
        }
    }

    /// Whether `field` obeys the rule (natively).
    pub fn holds(&self, field: Fr) -> bool {
        match self {
            Rule::Hidden => true,
            Rule::Equals(v) => field == *v,
            Rule::AtLeast(x) => as_u64(field).is_some_and(|f| f >= *x),
            Rule::AtMost(x) => as_u64(field).is_some_and(|f| f <= *x),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Hidden => write!(f, "hidden"),
            Rule::Equals(v) => write!(f, "equals {}", crate::encode::fr_to_hex(v)),
            Rule::AtLeast(x) => write!(f, "at least {x}"),
            Rule::AtMost(x) => write!(f, "at most {x}"),
        }
    }
}

/// The field element as a u64, if it is one.
pub fn as_u64(x: Fr) -> Option<u64> {
    let big = x.into_bigint();
    if big.0[1..].iter().all(|l| *l == 0) {
        Some(big.0[0])
    } else {
        None
    }
}

/// The statement about one record: its packet id and one rule per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// The packet the record belongs to.
    pub packet_id: Fr,
    /// One rule per field, in the record's layout.
    pub rules: Vec<Rule>,
}

/// What a proof proves: records under `zk_root` obey their rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    params: DisclosureParams,
    zk_root: Fr,
    records: Vec<Disclosure>,
}

impl Statement {
    /// A statement of 1..=K records with W rules each.
    pub fn new(
        params: DisclosureParams,
        zk_root: Fr,
        records: Vec<Disclosure>,
    ) -> Result<Self, VerifyError> {
        if records.is_empty() || records.len() > params.records {
            return Err(VerifyError::RecordCount {
                got: records.len(),
                max: params.records,
            });
        }
        for (i, r) in records.iter().enumerate() {
            if r.rules.len() != params.width {
                return Err(VerifyError::RuleCount {
                    record: i,
                    got: r.rules.len(),
                    expected: params.width,
                });
            }
        }
        Ok(Statement {
            params,
            zk_root,
            records,
        })
    }

    /// The circuit shape the statement is for.
    pub fn params(&self) -> DisclosureParams {
        self.params
    }

    /// The root the records are under.
    pub fn zk_root(&self) -> Fr {
        self.zk_root
    }

    /// The records as given (unpadded).
    pub fn records(&self) -> &[Disclosure] {
        &self.records
    }

    /// The K records the circuit sees: the given ones, then the last repeated.
    fn padded(&self) -> impl Iterator<Item = &Disclosure> {
        let last = self.records.last();
        self.records
            .iter()
            .chain(std::iter::repeat_n(last, self.params.records - self.records.len()).flatten())
    }

    /// The single public input: the statement hash (module docs).
    pub fn public_input(&self) -> Fr {
        let p = self.params;
        let mut h = hash(&[
            tag(),
            Fr::from(u64::from(p.depth)),
            Fr::from(p.records as u64),
            Fr::from(p.width as u64),
            self.zk_root,
        ]);
        for d in self.padded() {
            let values: Vec<Fr> = d.rules.iter().map(Rule::value).collect();
            let modes = d
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| Fr::from(r.mode()) * Fr::from(4u64).pow([i as u64]))
                .sum();
            let s = hash(&[d.packet_id, modes, hash(&values)]);
            h = hash(&[h, s]);
        }
        h
    }

    /// Whether `openings` satisfy the statement, natively; the error names the
    /// first record and field that does not.
    pub fn check(&self, openings: &[Opening]) -> Result<(), ProveError> {
        if openings.len() != self.records.len() {
            return Err(ProveError::OpeningCount {
                openings: openings.len(),
                records: self.records.len(),
            });
        }
        for (k, (d, o)) in self.records.iter().zip(openings).enumerate() {
            let r = &o.record;
            if r.fields.len() != self.params.width {
                return Err(ProveError::Width {
                    record: k,
                    got: r.fields.len(),
                    expected: self.params.width,
                });
            }
            if o.path.siblings.len() != self.params.depth as usize {
                return Err(ProveError::PathDepth {
                    record: k,
                    got: o.path.siblings.len(),
                    expected: self.params.depth as usize,
                });
            }
            if r.packet_id != d.packet_id {
                return Err(ProveError::PacketId { record: k });
            }
            let leaf = r.leaf().map_err(|e| ProveError::Synthesis(e.to_string()))?;
            if !o.path.verifies(leaf, self.zk_root) {
                return Err(ProveError::NotUnderRoot { record: k });
            }
            for (i, (rule, f)) in d.rules.iter().zip(&r.fields).enumerate() {
                if rule.holds(*f) {
                    continue;
                }
                return Err(match rule {
                    Rule::Equals(_) => ProveError::Disclosure {
                        record: k,
                        field: i,
                    },
                    _ if as_u64(*f).is_none() => ProveError::NotAnAmount {
                        record: k,
                        field: i,
                    },
                    _ => ProveError::Predicate {
                        record: k,
                        field: i,
                        rule: rule.to_string(),
                    },
                });
            }
        }
        Ok(())
    }
}

/// The prover's secret for one record: the record and its path in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// The salted record.
    pub record: Record,
    /// Its path to `zk_root`.
    pub path: MerklePath,
}

fn hash(inputs: &[Fr]) -> Fr {
    // Every call site passes 1..=16 inputs (W <= 14), so this cannot fail.
    poseidon::hash(inputs).unwrap_or_default()
}

fn tag() -> Fr {
    Fr::from_be_bytes_mod_order(TAG.as_bytes())
}

/// The circuit: a statement shape, and at proving time the statement and the
/// openings (both `None` at setup).
#[derive(Debug, Clone)]
pub struct DisclosureCircuit {
    params: DisclosureParams,
    statement: Option<Statement>,
    openings: Option<Vec<Opening>>,
    /// The public input: the statement's hash.
    instance: Option<Fr>,
}

impl DisclosureCircuit {
    /// The circuit without a witness, for setup.
    pub fn blank(params: DisclosureParams) -> Self {
        DisclosureCircuit {
            params,
            statement: None,
            openings: None,
            instance: None,
        }
    }

    /// The circuit with a witness. The openings are not checked here
    /// ([`Statement::check`] does that), so that tests can feed bad ones.
    pub fn new(statement: Statement, openings: Vec<Opening>) -> Self {
        DisclosureCircuit {
            params: statement.params,
            instance: Some(statement.public_input()),
            statement: Some(statement),
            openings: Some(openings),
        }
    }
}

/// The number of constraints of the circuit of this shape (synthesised
/// without a witness; for progress reports and benchmarks).
pub fn constraint_count(params: DisclosureParams) -> Result<usize, ProveError> {
    let cs = ark_relations::gr1cs::ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(ark_relations::gr1cs::SynthesisMode::Setup);
    DisclosureCircuit::blank(params)
        .generate_constraints(cs.clone())
        .map_err(|e| ProveError::Synthesis(e.to_string()))?;
    Ok(cs.num_constraints())
}

fn missing() -> SynthesisError {
    SynthesisError::AssignmentMissing
}

/// Enforces `x < 2^64`: 64 bits and one sum (65 constraints).
fn enforce_u64(cs: &ConstraintSystemRef<Fr>, x: &FpVar<Fr>) -> Result<(), SynthesisError> {
    let mut sum = Vec::with_capacity(64);
    for i in 0..64 {
        let bit = Boolean::new_witness(cs.clone(), || {
            let v = x.value()?.into_bigint();
            Ok(v.0[0] >> i & 1 == 1)
        })?;
        sum.push(FpVar::from(bit) * Fr::from(1u64 << i));
    }
    sum.into_iter().sum::<FpVar<Fr>>().enforce_equal(x)
}

impl ConstraintSynthesizer<Fr> for DisclosureCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let p = self.params;
        let statement = self.statement.as_ref();
        let openings = self.openings.as_deref();
        // The statement's records and the openings, padded to K alike.
        let disclosures: Vec<Option<&Disclosure>> = match statement {
            Some(s) => s.padded().map(Some).collect(),
            None => vec![None; p.records],
        };
        let opened: Vec<Option<&Opening>> = match openings {
            Some(o) => {
                let last = o.last();
                (0..p.records).map(|k| o.get(k).or(last)).collect()
            }
            None => vec![None; p.records],
        };

        let root = FpVar::new_witness(cs.clone(), || {
            statement.map(|s| s.zk_root).ok_or_else(missing)
        })?;
        let mut h = poseidon::hash_var(&[
            FpVar::Constant(tag()),
            FpVar::Constant(Fr::from(u64::from(p.depth))),
            FpVar::Constant(Fr::from(p.records as u64)),
            FpVar::Constant(Fr::from(p.width as u64)),
            root.clone(),
        ])?;

        for (d, o) in disclosures.into_iter().zip(opened) {
            let packet_id =
                FpVar::new_witness(cs.clone(), || d.map(|d| d.packet_id).ok_or_else(missing))?;
            let salt =
                FpVar::new_witness(cs.clone(), || o.map(|o| o.record.salt).ok_or_else(missing))?;
            let mut fields = Vec::with_capacity(p.width);
            for i in 0..p.width {
                fields.push(FpVar::new_witness(cs.clone(), || {
                    o.and_then(|o| o.record.fields.get(i).copied())
                        .ok_or_else(missing)
                })?);
            }

            // The record is under zk_root, with the statement's packet id.
            let mut leaf_inputs = vec![salt, packet_id.clone()];
            leaf_inputs.extend(fields.iter().cloned());
            let leaf = poseidon::hash_var(&leaf_inputs)?;
            let path = PathVar::new_witness(cs.clone(), p.depth as usize, o.map(|o| &o.path))?;
            path.root(&leaf)?.enforce_equal(&root)?;

            // Each field obeys its rule.
            let mut values = Vec::with_capacity(p.width);
            let mut modes = FpVar::Constant(Fr::zero());
            for (i, f) in fields.iter().enumerate() {
                let rule = || d.and_then(|d| d.rules.get(i).copied()).ok_or_else(missing);
                let b0 = Boolean::new_witness(cs.clone(), || Ok(rule()?.mode() & 1 == 1))?;
                let b1 = Boolean::new_witness(cs.clone(), || Ok(rule()?.mode() & 2 == 2))?;
                let v = FpVar::new_witness(cs.clone(), || Ok(rule()?.value()))?;
                let both = &b0 & &b1;
                let (b0, b1, both) = (FpVar::from(b0), FpVar::from(b1), FpVar::from(both));
                let diff = f - &v;
                // Equals (b0 and not b1): f = v.
                (&b0 - &both).mul_equals(&diff, &FpVar::Constant(Fr::zero()))?;
                // AtLeast (b1, not b0): f - v >= 0; AtMost (both): v - f >= 0;
                // as 64-bit integers, with f itself a u64 under either.
                let ordered = (&b1 - &both - &both) * &diff;
                enforce_u64(&cs, &ordered)?;
                enforce_u64(&cs, &(&b1 * f))?;
                modes += (b0 + b1 * Fr::from(2u64)) * Fr::from(4u64).pow([i as u64]);
                values.push(v);
            }
            let values = poseidon::hash_var(&values)?;
            let s = poseidon::hash_var(&[packet_id, modes, values])?;
            h = poseidon::hash_var(&[h, s])?;
        }

        let public = FpVar::new_input(cs.clone(), || self.instance.ok_or_else(missing))?;
        h.enforce_equal(&public)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::encode;
    use crate::tree::Tree;
    use ark_relations::gr1cs::ConstraintSystem;

    /// A tree of `n` records of width 4: (amount, currency, port, status),
    /// and the openings of the first `k`.
    pub(crate) fn sample(depth: u32, n: usize, k: usize) -> (Fr, Vec<Record>, Vec<Opening>) {
        let records: Vec<Record> = (0..n)
            .map(|i| {
                Record::new(
                    record::derive_salt(&[7; 32], &i.to_be_bytes()),
                    Fr::from(1000 + i as u64),
                    vec![
                        encode::amount(50_000 + i as u64),
                        encode::code("USD").unwrap(),
                        encode::code("CNSHK").unwrap(),
                        encode::code("SETTLED").unwrap(),
                    ],
                )
                .unwrap()
            })
            .collect();
        let tree = Tree::new(depth, records.iter().map(|r| r.leaf().unwrap()).collect()).unwrap();
        let openings = (0..k)
            .map(|i| Opening {
                record: records[i].clone(),
                path: tree.path(i as u64).unwrap(),
            })
            .collect();
        (tree.root(), records, openings)
    }

    /// "settled, in USD, amount at least 40 000 and at most 60 000, port hidden".
    pub(crate) fn rules_for(r: &Record) -> Disclosure {
        Disclosure {
            packet_id: r.packet_id,
            rules: vec![
                Rule::AtLeast(40_000),
                Rule::Equals(encode::code("USD").unwrap()),
                Rule::Hidden,
                Rule::Equals(encode::code("SETTLED").unwrap()),
            ],
        }
    }

    pub(crate) fn statement(params: DisclosureParams, root: Fr, openings: &[Opening]) -> Statement {
        let ds = openings.iter().map(|o| rules_for(&o.record)).collect();
        Statement::new(params, root, ds).unwrap()
    }

    fn satisfied(statement: &Statement, openings: &[Opening]) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        DisclosureCircuit::new(statement.clone(), openings.to_vec())
            .generate_constraints(cs.clone())
            .unwrap();
        cs.is_satisfied().unwrap()
    }

    fn count(params: DisclosureParams) -> usize {
        let (root, _, openings) = sample(params.depth, 3, params.records.min(3));
        let s = statement(params, root, &openings);
        let cs = ConstraintSystem::<Fr>::new_ref();
        DisclosureCircuit::new(s, openings)
            .generate_constraints(cs.clone())
            .unwrap();
        cs.num_constraints()
    }

    #[test]
    fn good_witnesses_satisfy_and_check() {
        for k in [1, 2, 3] {
            let params = DisclosureParams::new(8, 3, 4).unwrap();
            let (root, _, openings) = sample(8, 5, k);
            let s = statement(params, root, &openings);
            assert_eq!(s.check(&openings), Ok(()));
            assert!(satisfied(&s, &openings), "k = {k}");
        }
    }

    #[test]
    fn tampered_record_fails() {
        let params = DisclosureParams::new(8, 2, 4).unwrap();
        let (root, _, openings) = sample(8, 5, 2);
        let s = statement(params, root, &openings);
        // A hidden field changed: the leaf no longer is under the root.
        let mut bad = openings.clone();
        bad[1].record.fields[2] = encode::code("NLRTM").unwrap();
        assert_eq!(s.check(&bad), Err(ProveError::NotUnderRoot { record: 1 }));
        assert!(!satisfied(&s, &bad));
        // The salt changed.
        let mut bad = openings.clone();
        bad[0].record.salt += Fr::from(1u64);
        assert!(!satisfied(&s, &bad));
        // The statement names another packet than the record's.
        let mut d = rules_for(&openings[0].record);
        d.packet_id = Fr::from(1002u64);
        let other = Statement::new(params, root, vec![d, rules_for(&openings[1].record)]).unwrap();
        assert_eq!(
            other.check(&openings),
            Err(ProveError::PacketId { record: 0 })
        );
        assert!(!satisfied(&other, &openings));
    }

    #[test]
    fn tampered_path_or_root_fails() {
        let params = DisclosureParams::new(8, 1, 4).unwrap();
        let (root, _, openings) = sample(8, 5, 1);
        let s = statement(params, root, &openings);
        let mut bad = openings.clone();
        bad[0].path.siblings[3] += Fr::from(1u64);
        assert_eq!(s.check(&bad), Err(ProveError::NotUnderRoot { record: 0 }));
        assert!(!satisfied(&s, &bad));
        let mut bad = openings.clone();
        bad[0].path.index = 1;
        assert!(!satisfied(&s, &bad));
        let other_root = statement(params, root + Fr::from(1u64), &openings);
        assert_eq!(
            other_root.check(&openings),
            Err(ProveError::NotUnderRoot { record: 0 })
        );
        assert!(!satisfied(&other_root, &openings));
    }

    #[test]
    fn wrong_disclosure_fails() {
        let params = DisclosureParams::new(8, 1, 4).unwrap();
        let (root, _, openings) = sample(8, 5, 1);
        let mut d = rules_for(&openings[0].record);
        d.rules[1] = Rule::Equals(encode::code("EUR").unwrap());
        let s = Statement::new(params, root, vec![d]).unwrap();
        assert_eq!(
            s.check(&openings),
            Err(ProveError::Disclosure {
                record: 0,
                field: 1
            })
        );
        assert!(!satisfied(&s, &openings));
    }

    #[test]
    fn failed_predicates_fail() {
        let params = DisclosureParams::new(8, 1, 4).unwrap();
        let (root, _, openings) = sample(8, 5, 1); // amount 50 000
        for (rule, holds) in [
            (Rule::AtLeast(50_000), true),
            (Rule::AtLeast(50_001), false),
            (Rule::AtMost(50_000), true),
            (Rule::AtMost(49_999), false),
            (Rule::AtLeast(0), true),
            (Rule::AtMost(u64::MAX), true),
            (Rule::Equals(Fr::from(50_000u64)), true),
            (Rule::Equals(Fr::from(50_001u64)), false),
        ] {
            let mut d = rules_for(&openings[0].record);
            d.rules[0] = rule;
            let s = Statement::new(params, root, vec![d]).unwrap();
            assert_eq!(s.check(&openings).is_ok(), holds, "{rule}");
            assert_eq!(satisfied(&s, &openings), holds, "{rule}");
        }
        // An order predicate on a field that is not a u64 (a code of 7 bytes
        // is below 2^64, a 9-byte one is not) fails in both.
        let mut d = rules_for(&openings[0].record);
        d.rules[3] = Rule::AtLeast(0);
        let s = Statement::new(params, root, vec![d]).unwrap();
        assert!(s.check(&openings).is_ok(), "SETTLED packs into 56 bits");
        let (root, records, _) = sample(8, 5, 1);
        let mut big = records[0].clone();
        big.fields[3] = encode::code("SETTLED-OK").unwrap();
        let tree = Tree::new(8, vec![big.leaf().unwrap()]).unwrap();
        let o = vec![Opening {
            record: big.clone(),
            path: tree.path(0).unwrap(),
        }];
        let mut d = rules_for(&big);
        d.rules[3] = Rule::AtLeast(0);
        let s = Statement::new(params, tree.root(), vec![d]).unwrap();
        assert_eq!(
            s.check(&o),
            Err(ProveError::NotAnAmount {
                record: 0,
                field: 3
            })
        );
        assert!(!satisfied(&s, &o));
        let _ = root;
    }

    #[test]
    fn a_lying_public_input_fails() {
        // The witness satisfies statement A; the public input is B's.
        let params = DisclosureParams::new(8, 1, 4).unwrap();
        let (root, _, openings) = sample(8, 5, 1);
        let a = statement(params, root, &openings);
        let mut d = rules_for(&openings[0].record);
        d.rules[0] = Rule::AtLeast(60_000);
        let b = Statement::new(params, root, vec![d]).unwrap();
        assert_ne!(a.public_input(), b.public_input());
        let cs = ConstraintSystem::<Fr>::new_ref();
        DisclosureCircuit::new(a.clone(), openings.clone())
            .generate_constraints(cs.clone())
            .unwrap();
        assert!(cs.is_satisfied().unwrap());
        // The same witness with B's hash as the instance.
        let cs = ConstraintSystem::<Fr>::new_ref();
        let circuit = DisclosureCircuit {
            params,
            statement: Some(a),
            openings: Some(openings),
            instance: Some(b.public_input()),
        };
        circuit.generate_constraints(cs.clone()).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    #[test]
    fn statement_shape_is_checked() {
        let params = DisclosureParams::new(8, 2, 4).unwrap();
        let (root, _, openings) = sample(8, 5, 3);
        let ds: Vec<Disclosure> = openings.iter().map(|o| rules_for(&o.record)).collect();
        assert_eq!(
            Statement::new(params, root, ds.clone()),
            Err(VerifyError::RecordCount { got: 3, max: 2 })
        );
        assert_eq!(
            Statement::new(params, root, vec![]),
            Err(VerifyError::RecordCount { got: 0, max: 2 })
        );
        let mut short = ds[0].clone();
        short.rules.pop();
        assert_eq!(
            Statement::new(params, root, vec![ds[0].clone(), short]),
            Err(VerifyError::RuleCount {
                record: 1,
                got: 3,
                expected: 4
            })
        );
        assert!(DisclosureParams::new(8, 1, 15).is_err());
        assert!(DisclosureParams::new(0, 1, 4).is_err());
        assert!(DisclosureParams::new(8, 0, 4).is_err());
    }

    #[test]
    fn padding_repeats_the_last_record() {
        let params = DisclosureParams::new(8, 3, 4).unwrap();
        let (root, _, openings) = sample(8, 5, 1);
        let one = statement(params, root, &openings);
        let ds = vec![rules_for(&openings[0].record); 3];
        let three = Statement::new(params, root, ds).unwrap();
        assert_eq!(one.public_input(), three.public_input());
    }

    #[test]
    fn constraint_counts() {
        // Depth 16 and 8, records of 4 fields, K = 1 and 4. Per record: the
        // path (242 a level), the leaf hash, 135 a field for the rules, and
        // three hashes of the statement chain.
        let c1 = count(DisclosureParams::new(16, 1, 4).unwrap());
        let c4 = count(DisclosureParams::new(16, 4, 4).unwrap());
        let c8 = count(DisclosureParams::new(8, 1, 4).unwrap());
        println!("constraints: depth 16 K=1 W=4: {c1}, K=4: {c4}; depth 8 K=1: {c8}");
        assert_eq!(c1, 5879);
        assert_eq!(c4, 22586);
        assert_eq!(c8, 3943);
        // Setup synthesises the same constraints without a witness.
        assert_eq!(
            constraint_count(DisclosureParams::new(16, 1, 4).unwrap()).unwrap(),
            c1
        );
    }
}
