//! The light-client contract: one `Family` trait per ledger format, and the
//! checks every family shares (chain id, height, time, trusting period,
//! clock drift, validator-set rotation, quorum), written once.
//!
//! The order and meaning of the checks follow CometBFT's light client (and
//! tendermint-rs's `verify_update_header`): an adjacent header must be signed
//! by its own set, which the trusted header announced as `next_validators`; a
//! skipping header must also be signed by more than the trust threshold of the
//! trusted `next_validators`, or the verdict is "not enough trust" (bisect).

use core::time::Duration;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::hash::{Hash32, HashAlgorithm};
use crate::packet::Roots;
use crate::quorum::{Fraction, Quorum, Tally};
use crate::time::Timestamp;

/// How a header commits its interop roots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootCommitment {
    /// The header carries the roots itself (cmport, cosco).
    Roots(Roots),
    /// The header carries `app_hash = SHA-256(encode(roots))` of the previous
    /// block's execution (gba); the roots are opened at proof time.
    AppHash(Vec<u8>),
}

/// What the shared checks need to know about a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderSummary {
    pub chain_id: String,
    pub height: u64,
    pub time: Timestamp,
    pub hash: Hash32,
    /// The hash the header commits as its predecessor's (none where the
    /// format leaves it out, as CometBFT does for a first block).
    pub previous_hash: Option<Hash32>,
    pub validators_hash: Hash32,
    pub next_validators_hash: Hash32,
    pub roots: RootCommitment,
}

/// A ledger family's formats and signature rules.
pub trait Family: Copy + core::fmt::Debug + Send + Sync + 'static {
    /// `cmport`, `cosco` or `gba`.
    const NAME: &'static str;
    /// The hash of the family's events and state trees.
    const TREE_HASH: HashAlgorithm;
    /// How many blocks below a header's own height the block is whose roots
    /// it commits: 0 when a header carries its own block's roots (cmport,
    /// cosco); 1 when header H+1 carries block H's (gba: `app_hash` is the
    /// result of executing the previous block, as in CometBFT). Block `h`'s
    /// events and state are proven against the header at `h + ROOTS_LAG`.
    const ROOTS_LAG: u64;
    /// Whether a header commits its roots through their hash
    /// ([`RootCommitment::AppHash`], gba) rather than the roots themselves,
    /// so that a proof must carry the roots (the opening) to be checked.
    const ROOTS_OPENING: bool;
    type SignedHeader: Clone + core::fmt::Debug + Serialize + DeserializeOwned;
    type ValidatorSet: Clone + core::fmt::Debug + PartialEq + Serialize + DeserializeOwned;

    /// Reads the fields the shared checks use; refuses unknown versions.
    fn summary(header: &Self::SignedHeader) -> Result<HeaderSummary, VerifyError>;
    /// Checks a set's own rules and returns its hash.
    fn validators_hash(set: &Self::ValidatorSet) -> Result<Hash32, VerifyError>;
    /// Checks that the signatures belong to this header and fit its own set.
    fn check_commit(
        header: &Self::SignedHeader,
        validators: &Self::ValidatorSet,
    ) -> Result<(), VerifyError>;
    /// Verifies the signatures of `set`'s members on `header` and tallies them.
    fn tally(header: &Self::SignedHeader, set: &Self::ValidatorSet) -> Result<Tally, VerifyError>;
    /// When a header signed by `set` is valid.
    fn quorum(set: &Self::ValidatorSet) -> Quorum;

    /// The height of the header whose roots prove block `height`'s events
    /// and state (`height + ROOTS_LAG`).
    fn proof_height(height: u64) -> u64 {
        height.saturating_add(Self::ROOTS_LAG)
    }

    /// The block whose roots the header at `header_height` commits
    /// (`header_height - ROOTS_LAG`, 0 below the lag): the highest block
    /// provable once that header is verified.
    fn roots_height(header_height: u64) -> u64 {
        header_height.saturating_sub(Self::ROOTS_LAG)
    }
}

/// The verification parameters a client is created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustOptions {
    /// How long a verified header may be trusted (less than the unbonding period).
    pub trusting_period: Duration,
    /// How far ahead of `now` a header's time may be.
    pub clock_drift: Duration,
    /// The part of a trusted set that must sign a skipping header (at least 1/3).
    pub trust_threshold: Fraction,
}

/// A header already trusted, with the set it announced for the next height.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
#[serde(deny_unknown_fields)]
pub struct TrustedState<F: Family> {
    pub chain_id: String,
    pub height: u64,
    pub time: Timestamp,
    pub next_validators: F::ValidatorSet,
}

/// A header to verify, with the sets its hashes commit to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
#[serde(deny_unknown_fields)]
pub struct UntrustedBlock<F: Family> {
    pub signed_header: F::SignedHeader,
    pub validators: F::ValidatorSet,
    pub next_validators: F::ValidatorSet,
}

/// Which check a header failed, with the values it compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The format version of a header or set is not one this build knows.
    #[error("unsupported {what} version {found} (supported: {supported})")]
    UnsupportedVersion {
        what: &'static str,
        found: u64,
        supported: u64,
    },
    /// A field of the header or set cannot be read (bad key, bad signature encoding).
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// A validator or organisation set breaks its own rules.
    #[error("invalid validator set: {reason}")]
    InvalidValidatorSet { reason: String },
    /// The trusted state given is not consistent with itself.
    #[error("trusted state is inconsistent: {reason}")]
    TrustedStateInconsistent { reason: String },
    /// `validators` does not hash to the header's `validators_hash`.
    #[error("validators hash mismatch: header has {header}, validators hash to {computed}")]
    ValidatorsHashMismatch { header: Hash32, computed: Hash32 },
    /// `next_validators` does not hash to the header's `next_validators_hash`.
    #[error(
        "next validators hash mismatch: header has {header}, next validators hash to {computed}"
    )]
    NextValidatorsHashMismatch { header: Hash32, computed: Hash32 },
    /// The signatures are not a commit of this header.
    #[error("commit does not match header: {reason}")]
    CommitMismatch { reason: String },
    /// The trusted header is older than the trusting period.
    #[error(
        "trusted state expired: trusted at {trusted_time}, expired at {expires_at}, now {now}"
    )]
    TrustedStateExpired {
        trusted_time: Timestamp,
        expires_at: Timestamp,
        now: Timestamp,
    },
    /// The header's time is further ahead of `now` than the clock drift allows.
    #[error("header from the future: header time {header_time} is past now {now} plus drift {drift_secs}s")]
    HeaderFromFuture {
        header_time: Timestamp,
        now: Timestamp,
        drift_secs: u64,
    },
    /// The header is for another chain.
    #[error("chain id mismatch: trusted {trusted:?}, header {untrusted:?}")]
    ChainIdMismatch { trusted: String, untrusted: String },
    /// The header is not above the trusted height.
    #[error("height not increasing: trusted {trusted}, header {untrusted}")]
    NonIncreasingHeight { trusted: u64, untrusted: u64 },
    /// The header's time is not after the trusted time.
    #[error("time not increasing: trusted {trusted}, header {untrusted}")]
    NonIncreasingTime {
        trusted: Timestamp,
        untrusted: Timestamp,
    },
    /// An adjacent header's set is not the one the trusted header announced.
    #[error("validator set not the announced one: trusted next validators {trusted_next}, header validators {untrusted}")]
    UnannouncedValidators {
        trusted_next: Hash32,
        untrusted: Hash32,
    },
    /// A signature from a member of the set does not verify.
    #[error("invalid signature at position {position} from signer {signer}")]
    InvalidSignature { position: usize, signer: String },
    /// Not enough of the header's own set signed it.
    #[error("quorum not reached: signed {signed} of {total}, needs {needed}")]
    QuorumNotReached {
        signed: u64,
        total: u64,
        needed: Quorum,
    },
    /// A skipping header is not signed by enough of the trusted set: bisect.
    #[error("not enough trust: trusted validators signed {signed} of {total}, needs more than {threshold}")]
    NotEnoughTrust {
        signed: u64,
        total: u64,
        threshold: Fraction,
    },
}

impl VerifyError {
    /// The stable name of the failed check, as the CLI prints it.
    pub fn check(&self) -> &'static str {
        match self {
            VerifyError::UnsupportedVersion { .. } => "version",
            VerifyError::Malformed { .. } => "malformed",
            VerifyError::InvalidValidatorSet { .. } => "validator_set",
            VerifyError::TrustedStateInconsistent { .. } => "trusted_state",
            VerifyError::ValidatorsHashMismatch { .. } => "validators_hash",
            VerifyError::NextValidatorsHashMismatch { .. } => "next_validators_hash",
            VerifyError::CommitMismatch { .. } => "commit",
            VerifyError::TrustedStateExpired { .. } => "trusting_period",
            VerifyError::HeaderFromFuture { .. } => "clock_drift",
            VerifyError::ChainIdMismatch { .. } => "chain_id",
            VerifyError::NonIncreasingHeight { .. } => "height",
            VerifyError::NonIncreasingTime { .. } => "time",
            VerifyError::UnannouncedValidators { .. } => "validator_rotation",
            VerifyError::InvalidSignature { .. } => "signature",
            VerifyError::QuorumNotReached { .. } => "quorum",
            VerifyError::NotEnoughTrust { .. } => "trust_threshold",
        }
    }

    /// True for the one outcome that is not a fault: the header may be fine
    /// but needs an intermediate header (bisection) to be trusted.
    pub fn is_not_enough_trust(&self) -> bool {
        matches!(self, VerifyError::NotEnoughTrust { .. })
    }
}

/// Refuses a format version other than the one this build reads.
pub(crate) fn check_version(
    what: &'static str,
    found: u8,
    supported: u8,
) -> Result<(), VerifyError> {
    if found != supported {
        return Err(VerifyError::UnsupportedVersion {
            what,
            found: found.into(),
            supported: supported.into(),
        });
    }
    Ok(())
}

/// Refuses a header chain id that packets could not name.
pub(crate) fn check_chain_id(chain_id: &str) -> Result<(), VerifyError> {
    crate::packet::ChainId::new(chain_id)
        .map(|_| ())
        .map_err(|reason| VerifyError::Malformed {
            what: "header",
            reason,
        })
}

/// The header's own sets are the ones it commits to, and its signatures are a commit of it.
fn check_own_sets<F: Family>(
    untrusted: &UntrustedBlock<F>,
    header: &HeaderSummary,
) -> Result<(), VerifyError> {
    let validators_hash = F::validators_hash(&untrusted.validators)?;
    if validators_hash != header.validators_hash {
        return Err(VerifyError::ValidatorsHashMismatch {
            header: header.validators_hash,
            computed: validators_hash,
        });
    }
    let next_hash = F::validators_hash(&untrusted.next_validators)?;
    if next_hash != header.next_validators_hash {
        return Err(VerifyError::NextValidatorsHashMismatch {
            header: header.next_validators_hash,
            computed: next_hash,
        });
    }
    F::check_commit(&untrusted.signed_header, &untrusted.validators)
}

/// The header's own set reached its quorum on it.
fn check_quorum<F: Family>(untrusted: &UntrustedBlock<F>) -> Result<(), VerifyError> {
    let quorum = F::quorum(&untrusted.validators);
    let tally = F::tally(&untrusted.signed_header, &untrusted.validators)?;
    if !quorum.is_met(tally) {
        return Err(VerifyError::QuorumNotReached {
            signed: tally.signed,
            total: tally.total,
            needed: quorum,
        });
    }
    Ok(())
}

/// Verifies `untrusted` from `trusted` at time `now`; returns its summary.
pub fn verify_update<F: Family>(
    trusted: &TrustedState<F>,
    untrusted: &UntrustedBlock<F>,
    options: &TrustOptions,
    now: Timestamp,
) -> Result<HeaderSummary, VerifyError> {
    let header = F::summary(&untrusted.signed_header)?;
    verify_against_trusted::<F>(trusted, untrusted, &header, options, Some(now))?;
    Ok(header)
}

/// The checks of [`verify_update`]; `now = None` skips the two clock checks,
/// which is how misbehaviour evidence is judged (evidence stays evidence
/// after the fact).
pub(crate) fn verify_against_trusted<F: Family>(
    trusted: &TrustedState<F>,
    untrusted: &UntrustedBlock<F>,
    header: &HeaderSummary,
    options: &TrustOptions,
    now: Option<Timestamp>,
) -> Result<(), VerifyError> {
    check_own_sets(untrusted, header)?;

    // Against the trusted state and the clock.
    if let Some(now) = now {
        let expires_at = trusted.time.saturating_add(options.trusting_period);
        if now >= expires_at {
            return Err(VerifyError::TrustedStateExpired {
                trusted_time: trusted.time,
                expires_at,
                now,
            });
        }
        if header.time >= now.saturating_add(options.clock_drift) {
            return Err(VerifyError::HeaderFromFuture {
                header_time: header.time,
                now,
                drift_secs: options.clock_drift.as_secs(),
            });
        }
    }
    if header.chain_id != trusted.chain_id {
        return Err(VerifyError::ChainIdMismatch {
            trusted: trusted.chain_id.clone(),
            untrusted: header.chain_id.clone(),
        });
    }
    if header.height <= trusted.height {
        return Err(VerifyError::NonIncreasingHeight {
            trusted: trusted.height,
            untrusted: header.height,
        });
    }
    if header.time <= trusted.time {
        return Err(VerifyError::NonIncreasingTime {
            trusted: trusted.time,
            untrusted: header.time,
        });
    }

    // Rotation and quorum.
    let trusted_next_hash = F::validators_hash(&trusted.next_validators).map_err(|e| {
        VerifyError::TrustedStateInconsistent {
            reason: e.to_string(),
        }
    })?;
    if trusted.height.checked_add(1) == Some(header.height) {
        if header.validators_hash != trusted_next_hash {
            return Err(VerifyError::UnannouncedValidators {
                trusted_next: trusted_next_hash,
                untrusted: header.validators_hash,
            });
        }
    } else {
        let trust = F::tally(&untrusted.signed_header, &trusted.next_validators)?;
        let threshold = options.trust_threshold;
        if !threshold.exceeded_by(trust.signed, trust.total) {
            return Err(VerifyError::NotEnoughTrust {
                signed: trust.signed,
                total: trust.total,
                threshold,
            });
        }
    }
    check_quorum(untrusted)
}

/// Checks that a header and its own sets are consistent and that the set
/// reached quorum on it: what an operator-approved trust root must satisfy.
pub fn verify_self_consistent<F: Family>(
    untrusted: &UntrustedBlock<F>,
) -> Result<HeaderSummary, VerifyError> {
    let header = F::summary(&untrusted.signed_header)?;
    check_own_sets(untrusted, &header)?;
    check_quorum(untrusted)?;
    Ok(header)
}

impl<F: Family> UntrustedBlock<F> {
    /// The trusted state this block gives once verified.
    pub fn to_trusted(&self, header: &HeaderSummary) -> TrustedState<F> {
        TrustedState {
            chain_id: header.chain_id.clone(),
            height: header.height,
            time: header.time,
            next_validators: self.next_validators.clone(),
        }
    }
}
