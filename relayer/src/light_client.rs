//! `portrelay light-client`: write a sample trusted/untrusted pair of a
//! family, and verify an untrusted header against a trusted one, as the
//! destination's light client would.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use light_clients::cmport::Cmport;
use light_clients::cosco::Cosco;
use light_clients::gba::Gba;
use light_clients::sample::{self, Signing};
use light_clients::{Family, Timestamp, TrustOptions, TrustRoot, UntrustedBlock, VerifyError};
use serde::de::DeserializeOwned;

/// A ledger family, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FamilyName {
    Cmport,
    Cosco,
    Gba,
}

impl fmt::Display for FamilyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FamilyName::Cmport => Cmport::NAME,
            FamilyName::Cosco => Cosco::NAME,
            FamilyName::Gba => Gba::NAME,
        })
    }
}

/// Input that could not be read: exit code 2.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not the JSON this family expects.
    #[error("{path} is not a {family} {what} file: {source}")]
    Parse {
        path: PathBuf,
        family: &'static str,
        what: &'static str,
        source: serde_json::Error,
    },
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What `verify` concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    NotEnoughTrust(VerifyError),
    Invalid(VerifyError),
}

impl Outcome {
    /// 0 for `SUCCESS`, 10 for `NOT_ENOUGH_TRUST`, 11 for `INVALID`.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::NotEnoughTrust(_) => 10,
            Outcome::Invalid(_) => 11,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Success => f.write_str("SUCCESS"),
            Outcome::NotEnoughTrust(e) => write!(f, "NOT_ENOUGH_TRUST: {e}"),
            Outcome::Invalid(e) => write!(f, "INVALID: {}: {e}", e.check()),
        }
    }
}

fn read_json<T: DeserializeOwned>(
    path: &Path,
    family: &'static str,
    what: &'static str,
) -> Result<T, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
        path: path.into(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| InputError::Parse {
        path: path.into(),
        family,
        what,
        source,
    })
}

/// Verifies the untrusted file against the trusted one.
pub fn verify(
    family: FamilyName,
    trusted: &Path,
    untrusted: &Path,
    options: &TrustOptions,
    now: Timestamp,
) -> Result<Outcome, InputError> {
    match family {
        FamilyName::Cmport => verify_as::<Cmport>(trusted, untrusted, options, now),
        FamilyName::Cosco => verify_as::<Cosco>(trusted, untrusted, options, now),
        FamilyName::Gba => verify_as::<Gba>(trusted, untrusted, options, now),
    }
}

fn verify_as<F: Family>(
    trusted: &Path,
    untrusted: &Path,
    options: &TrustOptions,
    now: Timestamp,
) -> Result<Outcome, InputError> {
    let root: TrustRoot<F> = read_json(trusted, F::NAME, "trusted")?;
    let block: UntrustedBlock<F> = read_json(untrusted, F::NAME, "untrusted")?;
    let result = root
        .check()
        .and_then(|(_, state)| light_clients::verify_update(&state, &block, options, now));
    Ok(match result {
        Ok(_) => Outcome::Success,
        Err(e) if e.is_not_enough_trust() => Outcome::NotEnoughTrust(e),
        Err(e) => Outcome::Invalid(e),
    })
}

/// Where `sample` wrote its pair.
#[derive(Debug, Clone)]
pub struct SampleFiles {
    pub trusted: PathBuf,
    pub untrusted: PathBuf,
}

/// Writes `trusted.json` and `untrusted.json` of a valid adjacent pair into `out`.
pub fn sample(
    family: FamilyName,
    chain_id: &str,
    validators: usize,
    seed: u64,
    time: Timestamp,
    out: &Path,
) -> Result<SampleFiles, InputError> {
    match family {
        FamilyName::Cmport => sample_as::<Cmport>(chain_id, validators, seed, time, out),
        FamilyName::Cosco => sample_as::<Cosco>(chain_id, validators, seed, time, out),
        FamilyName::Gba => sample_as::<Gba>(chain_id, validators, seed, time, out),
    }
}

fn sample_as<F: Signing>(
    chain_id: &str,
    validators: usize,
    seed: u64,
    time: Timestamp,
    out: &Path,
) -> Result<SampleFiles, InputError> {
    let (root, block) = sample::pair::<F>(chain_id, validators, seed, time);
    std::fs::create_dir_all(out).map_err(|source| InputError::Write {
        path: out.into(),
        source,
    })?;
    let files = SampleFiles {
        trusted: out.join("trusted.json"),
        untrusted: out.join("untrusted.json"),
    };
    write_json(&files.trusted, &root)?;
    write_json(&files.untrusted, &block)?;
    Ok(files)
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), InputError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| InputError::Write {
        path: path.into(),
        source: e.into(),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| InputError::Write {
        path: path.into(),
        source,
    })
}

/// A duration as `14d`, `10s`, `336h` (humantime).
#[derive(Debug, Clone, Copy)]
pub struct HumanDuration(pub core::time::Duration);

impl FromStr for HumanDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        humantime::parse_duration(s)
            .map(HumanDuration)
            .map_err(|e| format!("{s:?} is not a duration like 14d or 10s: {e}"))
    }
}
