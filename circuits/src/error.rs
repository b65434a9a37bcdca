//! The crate's errors: each names the check that failed and the values compared.

use thiserror::Error;

/// A Poseidon call outside circomlib's arities.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PoseidonError {
    /// circomlib's Poseidon takes 1 to 16 inputs.
    #[error("poseidon takes 1 to {max} inputs, got {got}")]
    Arity { got: usize, max: usize },
}

/// A value that cannot be encoded as a field element, or bytes that are not one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A code is packed into one field element: at most 31 bytes.
    #[error("code {code:?} is {len} bytes, at most {max} fit in a field element")]
    CodeTooLong {
        code: String,
        len: usize,
        max: usize,
    },
    /// Codes are printable ASCII, so that packing is injective and readable.
    #[error("code {code:?} has a byte {byte:#04x} that is not printable ASCII")]
    CodeNotAscii { code: String, byte: u8 },
    /// An empty code would encode as 0, the value of an unused field.
    #[error("code is empty")]
    EmptyCode,
    /// 32 big-endian bytes at or above the BN254 scalar modulus.
    #[error("bytes {hex} are not below the BN254 scalar field modulus")]
    NotCanonical { hex: String },
    /// A decimal string that is not a number below the modulus.
    #[error("{what}: {value:?} is not a decimal number below the field modulus")]
    Decimal { what: String, value: String },
}

/// Records and Merkle trees built from bad parameters.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TreeError {
    /// More leaves than `2^depth`.
    #[error("{leaves} leaves do not fit in a tree of depth {depth}")]
    TooManyLeaves { leaves: usize, depth: u32 },
    /// Depth outside 1..=MAX_DEPTH.
    #[error("tree depth {depth} is outside 1..={max}")]
    Depth { depth: u32, max: u32 },
    /// A leaf index at or beyond the number of leaves.
    #[error("leaf {index} is not in the tree ({leaves} leaves)")]
    NoSuchLeaf { index: u64, leaves: usize },
    /// A record whose width differs from the one expected.
    #[error("record has {got} fields, expected {expected}")]
    Width { got: usize, expected: usize },
    /// Record width outside 1..=MAX_FIELDS.
    #[error("record width {width} is outside 1..={max}")]
    WidthRange { width: usize, max: usize },
}

/// Why a disclosure statement, witness or proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The parameters of the statement differ from the key's.
    #[error("statement is for {statement}, key is for {key}")]
    ParamsMismatch { statement: String, key: String },
    /// A statement must name 1..=K records.
    #[error("statement has {got} records, the circuit proves 1 to {max}")]
    RecordCount { got: usize, max: usize },
    /// Each record's rules list one rule per field.
    #[error("record {record} has {got} rules, the circuit's records have {expected} fields")]
    RuleCount {
        record: usize,
        got: usize,
        expected: usize,
    },
    /// The key expects a different number of public inputs.
    #[error("key has {ic} input points, a statement needs {expected}")]
    InputCount { ic: usize, expected: usize },
    /// A proof point is not on the curve or not in the prime-order subgroup.
    #[error("proof point {point} is not a valid {group} point ({why})")]
    BadPoint {
        point: &'static str,
        group: &'static str,
        why: &'static str,
    },
    /// The Groth16 pairing equation does not hold.
    #[error("pairing check failed: the proof does not prove this statement under this key")]
    Pairing,
    /// The pairing check of a batch failed; `bad` lists the failing proofs.
    #[error("batch verification failed: proofs {bad:?} do not verify")]
    Batch { bad: Vec<usize> },
    /// An empty batch proves nothing.
    #[error("batch is empty")]
    EmptyBatch,
    /// A batch item has a different number of public inputs than the key.
    #[error("proof {index} has {got} public inputs, the key takes {expected}")]
    BatchInputCount {
        index: usize,
        got: usize,
        expected: usize,
    },
}

impl VerifyError {
    /// The stable name of the check that failed.
    pub fn check(&self) -> &'static str {
        match self {
            VerifyError::ParamsMismatch { .. } => "params",
            VerifyError::RecordCount { .. } => "record_count",
            VerifyError::RuleCount { .. } => "rule_count",
            VerifyError::InputCount { .. } => "input_count",
            VerifyError::BadPoint { .. } => "bad_point",
            VerifyError::Pairing => "pairing",
            VerifyError::Batch { .. } => "batch",
            VerifyError::EmptyBatch => "empty_batch",
            VerifyError::BatchInputCount { .. } => "batch_input_count",
        }
    }
}

/// Why a prover refused to prove (the witness does not satisfy the statement).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProveError {
    /// The statement itself is malformed for this key.
    #[error(transparent)]
    Statement(#[from] VerifyError),
    /// Witnesses and statement records differ in number.
    #[error("{openings} openings for {records} statement records")]
    OpeningCount { openings: usize, records: usize },
    /// A record's packet id is not the statement's.
    #[error("record {record}: packet id differs from the statement's")]
    PacketId { record: usize },
    /// The record's width is not the circuit's.
    #[error("record {record} has {got} fields, the circuit's records have {expected}")]
    Width {
        record: usize,
        got: usize,
        expected: usize,
    },
    /// The Merkle path has the wrong depth.
    #[error("record {record}: path has {got} siblings, the tree depth is {expected}")]
    PathDepth {
        record: usize,
        got: usize,
        expected: usize,
    },
    /// The path does not lead from the record's leaf to the statement's root.
    #[error("record {record}: path does not lead to zk_root")]
    NotUnderRoot { record: usize },
    /// A disclosed field differs from the record.
    #[error("record {record} field {field}: disclosed value differs from the record's")]
    Disclosure { record: usize, field: usize },
    /// A predicate on a hidden field does not hold.
    #[error("record {record} field {field}: predicate {rule} does not hold")]
    Predicate {
        record: usize,
        field: usize,
        rule: String,
    },
    /// A field under an at least / at most rule is not a u64.
    #[error("record {record} field {field}: value is not a u64, so it cannot be compared")]
    NotAnAmount { record: usize, field: usize },
    /// arkworks failed to synthesise or prove.
    #[error("synthesis failed: {0}")]
    Synthesis(String),
}

/// Why a snarkjs JSON file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SnarkjsError {
    /// The text is not JSON of the expected shape.
    #[error("malformed {file}: {why}")]
    Json { file: &'static str, why: String },
    /// `protocol` or `curve` is not groth16 / bn128.
    #[error("{file}: {field} is {got:?}, expected {expected:?}")]
    Unsupported {
        file: &'static str,
        field: &'static str,
        got: String,
        expected: &'static str,
    },
    /// A coordinate that is not a decimal number below the base field modulus.
    #[error("{what}: {value:?} is not a decimal number below the {field} modulus")]
    Coordinate {
        what: String,
        value: String,
        field: &'static str,
    },
    /// A projective coordinate other than z = 1 (or z = 0 for infinity).
    #[error("{what}: projective z must be 1 (affine) or 0 (infinity)")]
    NotAffine { what: String },
    /// The point does not satisfy the curve equation.
    #[error("{what}: point is not on the curve")]
    NotOnCurve { what: String },
    /// The point is on the curve but outside the prime-order subgroup.
    #[error("{what}: point is not in the prime-order subgroup")]
    NotInSubgroup { what: String },
    /// A point that must not be the identity is.
    #[error("{what}: point is the identity")]
    Identity { what: String },
    /// `IC` must hold nPublic + 1 points.
    #[error("verification key has {ic} IC points and nPublic = {n_public}; expected {expected} IC points")]
    IcCount {
        ic: usize,
        n_public: usize,
        expected: usize,
    },
    /// The number of public inputs does not match the key.
    #[error("{got} public inputs, the verification key takes {expected}")]
    PublicCount { got: usize, expected: usize },
    /// `vk_alphabeta_12` is not e(alpha, beta).
    #[error("vk_alphabeta_12 is not the pairing of vk_alpha_1 and vk_beta_2")]
    AlphaBeta,
    /// The proof does not verify.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl SnarkjsError {
    /// The stable name of the check that refused the file (`zk verify`
    /// prints it first, as `light-client verify` does).
    pub fn check(&self) -> &'static str {
        match self {
            SnarkjsError::Json { .. } => "malformed",
            SnarkjsError::Unsupported { .. } => "unsupported",
            SnarkjsError::Coordinate { .. } => "coordinate",
            SnarkjsError::NotAffine { .. } => "not_affine",
            SnarkjsError::NotOnCurve { .. } => "not_on_curve",
            SnarkjsError::NotInSubgroup { .. } => "not_in_subgroup",
            SnarkjsError::Identity { .. } => "identity",
            SnarkjsError::IcCount { .. } => "ic_count",
            SnarkjsError::PublicCount { .. } => "public_count",
            SnarkjsError::AlphaBeta => "alphabeta",
            SnarkjsError::Verify(e) => e.check(),
        }
    }
}
