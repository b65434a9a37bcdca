//! `portrelay zk`: the Groth16 tools around the `circuits` crate for chain
//! operators: a seeded devnet setup, proving from a JSON witness, verifying
//! snarkjs-format proofs, converting keys and proofs between portrelay's
//! binary forms and snarkjs JSON, and exporting a Solidity verifier.
//!
//! Files (written whole through a temporary file and a rename, so a crash
//! leaves either the old file or the new one):
//! - `setup --out DIR`: `proving.key`, `verifying.key` (the form a ledger
//!   operator registers), `verification_key.json` (snarkjs), `circuit.json`;
//! - `prove --out DIR`: `proof.json`, `public.json` (snarkjs) and
//!   `statement.json` (what the proof claims, from which `verify
//!   --statement` recomputes the public input).
//!
//! The formats of the witness and the statement are in `docs/zk.md`.

use std::process::ExitCode;

use super::fail;

use std::fmt;
use std::path::{Path, PathBuf};

use circuits::disclosure::{Disclosure, DisclosureParams, Opening, Rule, Statement};
use circuits::encode::{self, to_decimal};
use circuits::groth16::{self, ProvingKey, VerifyingKey};
use circuits::{snarkjs, solidity, Fr, Record, Tree};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The circuits `zk setup --circuit` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CircuitName {
    /// Records under a `zk_root`, disclosed fields and predicates on hidden ones.
    Disclosure,
}

/// A `portrelay zk` failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZkError {
    /// A file could not be read or written.
    #[error("{path}: {why}")]
    Io { path: PathBuf, why: String },
    /// A file or argument is not what the command needs.
    #[error("{what}: {why}")]
    Input { what: String, why: String },
    /// The proof, key or statement was checked and refused (exit 1):
    /// `check` is the stable name of the check (`pairing`, `statement`,
    /// `not_on_curve` ..., the `check()` names of `circuits`' errors).
    #[error("{check}: {message}")]
    Refused {
        check: &'static str,
        message: String,
    },
}

impl ZkError {
    /// 1 when a check refused the proof or statement, 2 when an input could
    /// not be read or used.
    pub fn exit_code(&self) -> u8 {
        match self {
            ZkError::Refused { .. } => 1,
            _ => 2,
        }
    }
}

fn input(what: impl fmt::Display, why: impl fmt::Display) -> ZkError {
    ZkError::Input {
        what: what.to_string(),
        why: why.to_string(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ZkError> {
    std::fs::read(path).map_err(|e| ZkError::Io {
        path: path.to_path_buf(),
        why: e.to_string(),
    })
}

fn read_text(path: &Path) -> Result<String, ZkError> {
    String::from_utf8(read(path)?).map_err(|_| input(path.display(), "not UTF-8 text"))
}

/// Writes `bytes` to `path` whole: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ZkError> {
    let io = |e: std::io::Error| ZkError::Io {
        path: path.to_path_buf(),
        why: e.to_string(),
    };
    let name = path
        .file_name()
        .ok_or_else(|| input(path.display(), "not a file name"))?;
    let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// What `zk setup` makes.
#[derive(Debug, Clone)]
pub struct SetupOptions {
    pub circuit: CircuitName,
    pub depth: u32,
    pub batch: usize,
    pub width: usize,
    pub out: PathBuf,
    /// The setup's randomness: whoever knows it can forge proofs.
    pub seed: [u8; 32],
    /// Replace keys already in `out`.
    pub force: bool,
}

/// The steps of a setup, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupStep {
    Synthesising,
    Sampling { constraints: usize },
    Writing,
}

impl SetupStep {
    pub const COUNT: u64 = 3;
}

impl fmt::Display for SetupStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupStep::Synthesising => write!(f, "synthesising the circuit"),
            SetupStep::Sampling { constraints } => {
                write!(f, "generating the keys ({constraints} constraints, seeded)")
            }
            SetupStep::Writing => write!(f, "writing the keys"),
        }
    }
}

/// `circuit.json`: the shape a key set proves, and how it was made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CircuitFile {
    pub circuit: String,
    pub depth: u32,
    pub batch: usize,
    pub width: usize,
    pub constraints: usize,
    pub public_inputs: usize,
    pub setup: String,
}

/// The warning every seeded key set carries.
pub const UNSAFE_SETUP: &str = "seeded from a known value: UNSAFE FOR PRODUCTION (whoever knows \
     the seed can prove anything under these keys); devnets and tests only, production keys come \
     from a multi-party ceremony";

/// Runs the seeded setup and writes the key set into `opts.out`.
pub fn setup(opts: &SetupOptions, step: &dyn Fn(SetupStep)) -> Result<CircuitFile, ZkError> {
    let CircuitName::Disclosure = opts.circuit;
    let params = DisclosureParams::new(opts.depth, opts.batch, opts.width)
        .map_err(|e| input("--depth/--batch/--width", e))?;
    let targets = ["proving.key", "verifying.key", "verification_key.json"];
    if !opts.force {
        if let Some(existing) = targets
            .iter()
            .map(|n| opts.out.join(n))
            .find(|p| p.exists())
        {
            return Err(input(
                existing.display(),
                "already exists (pass --force to replace the key set)",
            ));
        }
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| ZkError::Io {
        path: opts.out.clone(),
        why: e.to_string(),
    })?;
    step(SetupStep::Synthesising);
    let constraints =
        circuits::disclosure::constraint_count(params).map_err(|e| input("the circuit", e))?;
    step(SetupStep::Sampling { constraints });
    let (pk, vk) = groth16::setup(params, opts.seed).map_err(|e| input("the setup", e))?;
    step(SetupStep::Writing);
    let file = CircuitFile {
        circuit: "disclosure".into(),
        depth: params.depth,
        batch: params.records,
        width: params.width,
        constraints,
        public_inputs: 1,
        setup: UNSAFE_SETUP.into(),
    };
    write_atomic(&opts.out.join("proving.key"), &groth16::pk_to_bytes(&pk))?;
    write_atomic(&opts.out.join("verifying.key"), &groth16::vk_to_bytes(&vk))?;
    write_atomic(
        &opts.out.join("verification_key.json"),
        snarkjs::vk_to_json(&vk.inner).as_bytes(),
    )?;
    write_atomic(&opts.out.join("circuit.json"), &pretty(&file))?;
    Ok(file)
}

fn pretty<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

/// A field value in a witness or statement: a decimal or `0x` hex string,
/// `{"code": "CNSHK"}`, `{"amount": 125000}` (minor units) or
/// `{"digest": "<64 hex>"}`.
fn value(what: &str, v: &Value) -> Result<Fr, ZkError> {
    match v {
        Value::String(s) => {
            if let Some(hex) = s.strip_prefix("0x") {
                let raw = hex::decode(hex).map_err(|e| input(what, format!("hex: {e}")))?;
                if raw.len() > 32 {
                    return Err(input(what, "more than 32 bytes"));
                }
                let mut bytes = [0u8; 32];
                bytes[32 - raw.len()..].copy_from_slice(&raw);
                encode::fr_from_bytes(&bytes).map_err(|e| input(what, e))
            } else {
                encode::fr_from_decimal(what, s).map_err(|e| input(what, e))
            }
        }
        Value::Number(n) => n
            .as_u64()
            .map(Fr::from)
            .ok_or_else(|| input(what, "a number must be a whole number below 2^64")),
        Value::Object(m) if m.len() == 1 => {
            let (k, v) = m.iter().next().ok_or_else(|| input(what, "empty object"))?;
            match (k.as_str(), v) {
                ("code", Value::String(s)) => encode::code(s).map_err(|e| input(what, e)),
                ("amount", Value::Number(n)) => n
                    .as_u64()
                    .map(encode::amount)
                    .ok_or_else(|| input(what, "an amount is whole minor units below 2^64")),
                ("digest", Value::String(s)) => {
                    let mut d = [0u8; 32];
                    hex::decode_to_slice(s, &mut d)
                        .map_err(|e| input(what, format!("digest: {e}")))?;
                    Ok(encode::digest(&d))
                }
                _ => Err(input(
                    what,
                    format!("unknown value form {{\"{k}\": ...}} (code, amount or digest)"),
                )),
            }
        }
        _ => Err(input(
            what,
            "expected a decimal or 0x string, a number, or {code|amount|digest}",
        )),
    }
}

/// A rule as the witness writes it: `"hidden"`, `"disclose"` (equals the
/// record's value), `{"equals": v}`, `{"at_least": n}`, `{"at_most": n}`.
fn rule(what: &str, v: &Value, field: Fr) -> Result<Rule, ZkError> {
    match v {
        Value::String(s) if s == "hidden" => Ok(Rule::Hidden),
        Value::String(s) if s == "disclose" => Ok(Rule::Equals(field)),
        Value::Object(m) if m.len() == 1 => {
            let (k, v) = m.iter().next().ok_or_else(|| input(what, "empty object"))?;
            let bound = || {
                v.as_u64()
                    .ok_or_else(|| input(what, format!("{k} takes whole minor units below 2^64")))
            };
            match k.as_str() {
                "equals" => Ok(Rule::Equals(value(what, v)?)),
                "at_least" => Ok(Rule::AtLeast(bound()?)),
                "at_most" => Ok(Rule::AtMost(bound()?)),
                _ => Err(input(
                    what,
                    format!("unknown rule {k:?} (equals, at_least or at_most)"),
                )),
            }
        }
        _ => Err(input(
            what,
            "expected \"hidden\", \"disclose\" or {equals|at_least|at_most: ...}",
        )),
    }
}

fn rule_json(r: &Rule) -> Value {
    match r {
        Rule::Hidden => Value::from("hidden"),
        Rule::Equals(v) => serde_json::json!({ "equals": to_decimal(v) }),
        Rule::AtLeast(x) => serde_json::json!({ "at_least": x }),
        Rule::AtMost(x) => serde_json::json!({ "at_most": x }),
    }
}

/// `statement.json`: what a proof claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementFile {
    pub circuit: String,
    pub depth: u32,
    pub batch: usize,
    pub width: usize,
    /// The root the records are under (decimal).
    pub zk_root: String,
    pub records: Vec<StatementRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRecord {
    /// The packet id (decimal).
    pub packet_id: String,
    pub rules: Vec<Value>,
}

impl StatementFile {
    fn of(statement: &Statement) -> Self {
        let p = statement.params();
        StatementFile {
            circuit: "disclosure".into(),
            depth: p.depth,
            batch: p.records,
            width: p.width,
            zk_root: to_decimal(&statement.zk_root()),
            records: statement
                .records()
                .iter()
                .map(|d| StatementRecord {
                    packet_id: to_decimal(&d.packet_id),
                    rules: d.rules.iter().map(rule_json).collect(),
                })
                .collect(),
        }
    }

    /// The statement the file describes, checked.
    pub fn statement(&self) -> Result<Statement, ZkError> {
        if self.circuit != "disclosure" {
            return Err(input(
                "statement.json circuit",
                format!("{:?} is not \"disclosure\"", self.circuit),
            ));
        }
        let params = DisclosureParams::new(self.depth, self.batch, self.width)
            .map_err(|e| input("statement.json depth/batch/width", e))?;
        let zk_root = value(
            "statement.json zk_root",
            &Value::from(self.zk_root.as_str()),
        )?;
        let mut records = Vec::with_capacity(self.records.len());
        for (k, r) in self.records.iter().enumerate() {
            let what = format!("statement.json records[{k}]");
            let packet_id = value(
                &format!("{what}.packet_id"),
                &Value::from(r.packet_id.as_str()),
            )?;
            let rules = r
                .rules
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let what = format!("{what}.rules[{i}]");
                    if v.as_str() == Some("disclose") {
                        return Err(input(
                            what,
                            "a statement names the disclosed value: use {\"equals\": v}",
                        ));
                    }
                    rule(&what, v, Fr::from(0u64))
                })
                .collect::<Result<_, _>>()?;
            records.push(Disclosure { packet_id, rules });
        }
        Statement::new(params, zk_root, records).map_err(|e| input("statement.json", e))
    }
}

/// The witness of `zk prove`: the tree's records in leaf order, and which of
/// them to disclose with which rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessFile {
    leaves: Vec<WitnessLeaf>,
    disclose: Vec<WitnessDisclosure>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessLeaf {
    salt: Value,
    packet_id: Value,
    fields: Vec<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessDisclosure {
    leaf: usize,
    rules: Vec<Value>,
}

/// What `zk prove` wrote.
#[derive(Debug, Clone)]
pub struct Proven {
    pub statement: Statement,
    pub files: Vec<PathBuf>,
}

/// Loads a key set's proving key.
pub fn load_proving_key(keys: &Path) -> Result<ProvingKey, ZkError> {
    let path = keys.join("proving.key");
    groth16::pk_from_bytes(&read(&path)?).map_err(|e| input(path.display(), e))
}

/// Proves the witness in `input_path` with the key set in `keys`; writes
/// `proof.json`, `public.json` and `statement.json` into `out`. `seed` is the
/// proof's blinding randomness: fresh secret bytes (the operating system's).
pub fn prove(
    keys: &Path,
    input_path: &Path,
    out: &Path,
    seed: [u8; 32],
) -> Result<Proven, ZkError> {
    let what = input_path.display().to_string();
    let witness: WitnessFile =
        light_clients::json::from_str(&read_text(input_path)?).map_err(|e| input(&what, e))?;
    let pk = load_proving_key(keys)?;
    let params = pk.params;
    let mut records = Vec::with_capacity(witness.leaves.len());
    for (i, l) in witness.leaves.iter().enumerate() {
        let at = format!("{what}: leaves[{i}]");
        let fields = l
            .fields
            .iter()
            .enumerate()
            .map(|(j, v)| value(&format!("{at}.fields[{j}]"), v))
            .collect::<Result<Vec<_>, _>>()?;
        if fields.len() != params.width {
            return Err(input(
                &at,
                format!(
                    "{} fields; the key's records have {}",
                    fields.len(),
                    params.width
                ),
            ));
        }
        let record = Record::new(
            value(&format!("{at}.salt"), &l.salt)?,
            value(&format!("{at}.packet_id"), &l.packet_id)?,
            fields,
        )
        .map_err(|e| input(&at, e))?;
        records.push(record);
    }
    let leaves = records
        .iter()
        .map(Record::leaf)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| input(&what, e))?;
    let tree = Tree::new(params.depth, leaves).map_err(|e| input(format!("{what}: leaves"), e))?;
    let mut disclosures = Vec::with_capacity(witness.disclose.len());
    let mut openings = Vec::with_capacity(witness.disclose.len());
    for (k, d) in witness.disclose.iter().enumerate() {
        let at = format!("{what}: disclose[{k}]");
        let record = records
            .get(d.leaf)
            .ok_or_else(|| input(&at, format!("leaf {} of {}", d.leaf, records.len())))?;
        if d.rules.len() != params.width {
            return Err(input(
                &at,
                format!(
                    "{} rules; the key's records have {} fields",
                    d.rules.len(),
                    params.width
                ),
            ));
        }
        let rules = d
            .rules
            .iter()
            .zip(&record.fields)
            .enumerate()
            .map(|(i, (v, f))| rule(&format!("{at}.rules[{i}]"), v, *f))
            .collect::<Result<Vec<_>, _>>()?;
        disclosures.push(Disclosure {
            packet_id: record.packet_id,
            rules,
        });
        let path = tree.path(d.leaf as u64).map_err(|e| input(&at, e))?;
        openings.push(Opening {
            record: record.clone(),
            path,
        });
    }
    let statement =
        Statement::new(params, tree.root(), disclosures).map_err(|e| input(&what, e))?;
    let proof =
        groth16::prove_seeded(&pk, &statement, &openings, seed).map_err(|e| ZkError::Refused {
            check: "witness",
            message: format!("the witness does not satisfy the statement: {e}"),
        })?;
    std::fs::create_dir_all(out).map_err(|e| ZkError::Io {
        path: out.to_path_buf(),
        why: e.to_string(),
    })?;
    let files = vec![
        out.join("proof.json"),
        out.join("public.json"),
        out.join("statement.json"),
    ];
    write_atomic(&files[0], snarkjs::proof_to_json(&proof).as_bytes())?;
    write_atomic(
        &files[1],
        snarkjs::public_to_json(&[statement.public_input()]).as_bytes(),
    )?;
    write_atomic(&files[2], &pretty(&StatementFile::of(&statement)))?;
    Ok(Proven { statement, files })
}

/// Whether `bytes` are a JSON document, by parsing them (whitespace first
/// is JSON still; a binary key that happens to start with `{` is not).
/// Repeated keys are refused here, by name: the snarkjs readers would keep
/// the last value.
fn as_json(path: &Path, bytes: &[u8]) -> Result<Option<String>, ZkError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(None);
    };
    match light_clients::json::check_unique_keys(text.as_bytes()) {
        Ok(()) => Ok(Some(text.to_owned())),
        Err(e @ light_clients::json::JsonError::DuplicateKey { .. }) => {
            Err(input(path.display(), e))
        }
        Err(_) => Ok(None),
    }
}

/// Reads a JSON file, refusing repeated keys.
fn read_json_text(path: &Path) -> Result<String, ZkError> {
    let text = read_text(path)?;
    light_clients::json::check_unique_keys(text.as_bytes())
        .map_err(|e| input(path.display(), e))?;
    Ok(text)
}

/// Reads a verifying key: snarkjs JSON, or portrelay's `verifying.key`,
/// told apart by parsing.
pub fn load_vk(path: &Path) -> Result<groth16::ArkVerifyingKey, ZkError> {
    let bytes = read(path)?;
    match as_json(path, &bytes)? {
        Some(text) => snarkjs::vk_from_json(&text).map_err(|e| input(path.display(), e)),
        None => groth16::vk_from_bytes(&bytes)
            .map(|vk| vk.inner)
            .map_err(|e| input(path.display(), e)),
    }
}

/// A refusal of a snarkjs file: by the check that refused it.
fn refused(file: &Path, e: circuits::SnarkjsError) -> ZkError {
    match e {
        circuits::SnarkjsError::Json { .. } => input(file.display(), e),
        other => ZkError::Refused {
            check: other.check(),
            message: format!("{}: {other}", file.display()),
        },
    }
}

/// `zk verify`: checks a snarkjs-format proof as `snarkjs groth16 verify`
/// does (points on the curve and in the subgroup, inputs below the field
/// modulus, the pairing equation) and, with a statement, that the public
/// input is that statement's hash. Every refusal names its check.
pub fn verify(
    vk: &Path,
    proof: &Path,
    public: &Path,
    statement: Option<&Path>,
) -> Result<(), ZkError> {
    let vk_bytes = read(vk)?;
    let vk_text = match as_json(vk, &vk_bytes)? {
        Some(text) => text,
        None => snarkjs::vk_to_json(&load_vk(vk)?),
    };
    let proof_text = read_json_text(proof)?;
    let public_text = read_json_text(public)?;
    snarkjs::vk_from_json(&vk_text).map_err(|e| refused(vk, e))?;
    snarkjs::proof_from_json(&proof_text).map_err(|e| refused(proof, e))?;
    let inputs = snarkjs::public_from_json(&public_text).map_err(|e| refused(public, e))?;
    if let Some(path) = statement {
        let file: StatementFile = light_clients::json::from_str(&read_text(path)?)
            .map_err(|e| input(path.display(), e))?;
        let expected = file.statement()?.public_input();
        if inputs.as_slice() != [expected] {
            return Err(ZkError::Refused {
                check: "statement",
                message: format!(
                    "{} is not the hash of {} (expected [{}])",
                    public.display(),
                    path.display(),
                    to_decimal(&expected)
                ),
            });
        }
    }
    snarkjs::verify_json(&vk_text, &public_text, &proof_text).map_err(|e| match e {
        circuits::SnarkjsError::Verify(circuits::VerifyError::Pairing) => ZkError::Refused {
            check: "pairing",
            message: "the proof does not verify under the key".into(),
        },
        other => ZkError::Refused {
            check: other.check(),
            message: other.to_string(),
        },
    })
}

/// What `zk export` and `zk import` convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convert {
    /// `verifying.key` to `verification_key.json`.
    ExportVk,
    /// A binary proof (128 bytes, or their hex) to `proof.json`.
    ExportProof,
    /// `verification_key.json` to `verifying.key`, with the shape it proves.
    ImportVk(DisclosureParams),
    /// `proof.json` to a 128-byte binary proof.
    ImportProof,
}

/// Converts `from` into `to` (see [`Convert`]).
pub fn convert(kind: Convert, from: &Path, to: &Path) -> Result<(), ZkError> {
    let what = from.display().to_string();
    let bytes: Vec<u8> = match kind {
        Convert::ExportVk => {
            let vk = groth16::vk_from_bytes(&read(from)?).map_err(|e| input(&what, e))?;
            snarkjs::vk_to_json(&vk.inner).into_bytes()
        }
        Convert::ExportProof => {
            let raw = read(from)?;
            let trimmed = String::from_utf8_lossy(&raw).trim().to_string();
            let bytes = if raw.len() != 128 {
                hex::decode(&trimmed)
                    .map_err(|_| input(&what, "neither 128 proof bytes nor their hex"))?
            } else {
                raw
            };
            let proof = groth16::proof_from_bytes(&bytes).map_err(|e| input(&what, e))?;
            snarkjs::proof_to_json(&proof).into_bytes()
        }
        Convert::ImportVk(params) => {
            let inner = snarkjs::vk_from_json(&read_text(from)?).map_err(|e| input(&what, e))?;
            if inner.gamma_abc_g1.len() != 2 {
                return Err(input(
                    &what,
                    format!(
                        "{} public inputs; disclosure keys take 1",
                        inner.gamma_abc_g1.len().saturating_sub(1)
                    ),
                ));
            }
            groth16::vk_to_bytes(&VerifyingKey { params, inner })
        }
        Convert::ImportProof => {
            let proof = snarkjs::proof_from_json(&read_text(from)?).map_err(|e| input(&what, e))?;
            groth16::proof_to_bytes(&proof)
        }
    };
    write_atomic(to, &bytes)
}

/// `zk export-verifier --solidity`: a verifier contract for the key in `vk`.
pub fn export_solidity(vk: &Path, contract: &str, out: &Path) -> Result<(), ZkError> {
    let key = load_vk(vk)?;
    let about = match groth16::vk_from_bytes(&read(vk)?) {
        Ok(k) => format!("portrelay disclosure proofs, {}", k.params),
        Err(_) => format!("the key of {}", vk.display()),
    };
    let source =
        solidity::verifier_contract(&key, contract, &about).map_err(|e| input("--contract", e))?;
    write_atomic(out, source.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_every_documented_form_and_name_bad_ones() {
        assert_eq!(value("v", &Value::from("12")).unwrap(), Fr::from(12u64));
        assert_eq!(value("v", &Value::from("0x0c")).unwrap(), Fr::from(12u64));
        assert_eq!(value("v", &serde_json::json!(12)).unwrap(), Fr::from(12u64));
        assert_eq!(
            value("v", &serde_json::json!({"amount": 5})).unwrap(),
            encode::amount(5)
        );
        assert_eq!(
            value("v", &serde_json::json!({"code": "USD"})).unwrap(),
            encode::code("USD").unwrap()
        );
        let e = value("leaves[0].fields[1]", &serde_json::json!({"colour": "red"})).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("leaves[0].fields[1]: unknown value form"),
            "{e}"
        );
        let e = value("v", &Value::from("-3")).unwrap_err();
        assert!(e.to_string().starts_with("v:"), "{e}");
        let e = value("v", &Value::from(format!("0x{}", "ff".repeat(32)))).unwrap_err();
        assert!(e.to_string().starts_with("v:"), "{e}");
    }

    #[test]
    fn rules_resolve_disclose_to_the_records_value() {
        let f = Fr::from(7u64);
        assert_eq!(
            rule("r", &Value::from("disclose"), f).unwrap(),
            Rule::Equals(f)
        );
        assert_eq!(rule("r", &Value::from("hidden"), f).unwrap(), Rule::Hidden);
        assert_eq!(
            rule("r", &serde_json::json!({"at_least": 3}), f).unwrap(),
            Rule::AtLeast(3)
        );
        let e = rule("r", &serde_json::json!({"greater": 3}), f).unwrap_err();
        assert!(e.to_string().contains("unknown rule \"greater\""), "{e}");
        let e = rule("r", &serde_json::json!({"at_most": "x"}), f).unwrap_err();
        assert!(
            e.to_string().contains("at_most takes whole minor units"),
            "{e}"
        );
    }
}

// The `portrelay zk` command line.

#[derive(Debug, clap::Subcommand)]
pub enum ZkCommand {
    /// Make a key set for a circuit shape, from a seed: UNSAFE FOR PRODUCTION
    /// (whoever knows the seed can forge proofs); for devnets and tests.
    ///
    /// Writes proving.key, verifying.key (what a chain operator registers),
    /// verification_key.json (snarkjs) and circuit.json into --out.
    Setup {
        #[arg(long, value_enum, default_value = "disclosure")]
        circuit: crate::cmd::zk::CircuitName,
        /// Depth of the zk_root tree (16: 2^16 records per block).
        #[arg(long, default_value_t = 16)]
        depth: u32,
        /// Records per proof.
        #[arg(long, default_value_t = 1)]
        batch: usize,
        /// Fields per record.
        #[arg(long, default_value_t = 8)]
        width: usize,
        #[arg(long)]
        out: PathBuf,
        /// The setup's randomness, 64 hex digits (default: a fixed devnet seed).
        #[arg(long)]
        seed: Option<String>,
        /// Replace a key set already in --out.
        #[arg(long)]
        force: bool,
    },
    /// Prove a witness file (records of a tree and what to disclose; docs/zk.md);
    /// writes proof.json, public.json and statement.json into --out.
    ///
    /// Exits 1 when the witness does not satisfy its rules, 2 when an input
    /// cannot be read or used.
    Prove {
        /// The key set from `zk setup`.
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a snarkjs-format proof like `snarkjs groth16 verify`.
    ///
    /// Prints OK and exits 0, or INVALID: <check> and exits 1; exits 2 when a
    /// file cannot be read or is not the JSON it should be.
    Verify {
        /// verification_key.json (snarkjs) or a portrelay verifying.key.
        #[arg(long)]
        vk: PathBuf,
        #[arg(long)]
        proof: PathBuf,
        #[arg(long)]
        public: PathBuf,
        /// Also check that the public input is this statement's hash.
        #[arg(long)]
        statement: Option<PathBuf>,
    },
    /// Convert a portrelay verifying.key or binary proof to snarkjs JSON.
    Export {
        #[command(flatten)]
        what: ConvertArgs,
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert a snarkjs verification_key.json (with the shape it proves) or
    /// proof.json to portrelay's binary form.
    Import {
        #[command(flatten)]
        what: ConvertArgs,
        /// The key's circuit shape (a snarkjs key does not carry it).
        #[arg(long)]
        depth: Option<u32>,
        #[arg(long)]
        batch: Option<usize>,
        #[arg(long)]
        width: Option<usize>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a verifier contract for EVM-style destinations.
    ExportVerifier {
        /// Solidity (the only target).
        #[arg(long, required = true)]
        solidity: bool,
        /// verification_key.json (snarkjs) or a portrelay verifying.key.
        #[arg(long)]
        vk: PathBuf,
        #[arg(long, default_value = "PortrelayDisclosureVerifier")]
        contract: String,
        #[arg(long)]
        out: PathBuf,
    },
}

/// The one thing `zk export`/`zk import` converts.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct ConvertArgs {
    /// A verifying key.
    #[arg(long)]
    vk: Option<PathBuf>,
    /// A proof.
    #[arg(long)]
    proof: Option<PathBuf>,
}

pub fn run(cmd: ZkCommand) -> ExitCode {
    use crate::cmd::zk::{self, Convert, ZkError};
    let done = |r: Result<String, ZkError>| match r {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e @ ZkError::Refused { .. }) => {
            println!("INVALID: {e}");
            ExitCode::from(e.exit_code())
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    };
    match cmd {
        ZkCommand::Setup {
            circuit,
            depth,
            batch,
            width,
            out,
            seed,
            force,
        } => {
            let seed = match seed {
                None => zk_devnet_seed(),
                Some(hex_seed) => {
                    let mut s = [0u8; 32];
                    if let Err(e) = hex::decode_to_slice(&hex_seed, &mut s) {
                        return fail(&format!("--seed: {e} (expected 64 hex digits)"));
                    }
                    s
                }
            };
            let opts = zk::SetupOptions {
                circuit,
                depth,
                batch,
                width,
                out,
                seed,
                force,
            };
            let bar = indicatif::ProgressBar::new(zk::SetupStep::COUNT);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let result = zk::setup(&opts, &|step| {
                if !matches!(step, zk::SetupStep::Synthesising) {
                    bar.inc(1);
                }
                bar.set_message(step.to_string());
            });
            bar.finish_and_clear();
            done(result.map(|c| {
                format!(
                    "wrote the {} key set (depth {}, {} records of {} fields, {} constraints) to {}\n\
                     WARNING: {}\n",
                    c.circuit,
                    c.depth,
                    c.batch,
                    c.width,
                    c.constraints,
                    opts.out.display(),
                    zk::UNSAFE_SETUP
                )
            }))
        }
        ZkCommand::Prove { keys, input, out } => done({
            let mut seed = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
            zk::prove(&keys, &input, &out, seed).map(|p| {
                let mut s = format!(
                    "proved {} records under zk_root {}\n",
                    p.statement.records().len(),
                    circuits::encode::to_decimal(&p.statement.zk_root())
                );
                for f in p.files {
                    s.push_str(&format!("wrote {}\n", f.display()));
                }
                s
            })
        }),
        ZkCommand::Verify {
            vk,
            proof,
            public,
            statement,
        } => done(zk::verify(&vk, &proof, &public, statement.as_deref()).map(|()| "OK\n".into())),
        ZkCommand::Export { what, out } => {
            let (kind, from) = match (what.vk, what.proof) {
                (Some(vk), _) => (Convert::ExportVk, vk),
                (None, Some(p)) => (Convert::ExportProof, p),
                (None, None) => return fail("give --vk or --proof"),
            };
            done(zk::convert(kind, &from, &out).map(|()| format!("wrote {}\n", out.display())))
        }
        ZkCommand::Import {
            what,
            depth,
            batch,
            width,
            out,
        } => {
            let (kind, from) = match (what.vk, what.proof) {
                (Some(vk), _) => {
                    let (Some(d), Some(k), Some(w)) = (depth, batch, width) else {
                        return fail("importing a key needs --depth, --batch and --width (the shape it proves)");
                    };
                    match circuits::DisclosureParams::new(d, k, w) {
                        Ok(p) => (Convert::ImportVk(p), vk),
                        Err(e) => return fail(&format!("--depth/--batch/--width: {e}")),
                    }
                }
                (None, Some(p)) => (Convert::ImportProof, p),
                (None, None) => return fail("give --vk or --proof"),
            };
            done(zk::convert(kind, &from, &out).map(|()| format!("wrote {}\n", out.display())))
        }
        ZkCommand::ExportVerifier {
            solidity: _,
            vk,
            contract,
            out,
        } => done(
            zk::export_solidity(&vk, &contract, &out)
                .map(|()| format!("wrote {}\n", out.display())),
        ),
    }
}

/// The devnet seed of `zk setup` when none is given: public, hence unsafe.
pub fn zk_devnet_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    let tag = b"portrelay devnet zk setup";
    seed[..tag.len()].copy_from_slice(tag);
    seed
}
