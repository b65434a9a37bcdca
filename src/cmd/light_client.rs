//! `portrelay light-client`: write a sample trusted/untrusted pair of a
//! family, and verify an untrusted header against a trusted one, as the
//! destination's light client would.

use std::process::ExitCode;

use super::fail;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use light_clients::sample::{self, Signing};
use light_clients::FamilyName;
use light_clients::{Family, Timestamp, TrustOptions, TrustRoot, UntrustedBlock, VerifyError};
use serde::de::DeserializeOwned;

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
        source: light_clients::json::JsonError,
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
    light_clients::json::from_str(&text).map_err(|source| InputError::Parse {
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
    light_clients::with_family!(family, F => verify_as::<F>(trusted, untrusted, options, now))
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
    light_clients::with_family!(family, F => sample_as::<F>(chain_id, validators, seed, time, out))
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
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        humantime::parse_duration(s)
            .map(HumanDuration)
            .map_err(|e| anyhow::anyhow!("{s:?} is not a duration like 14d or 10s: {e}"))
    }
}

// The `portrelay light-client` command line.

#[derive(Debug, clap::Subcommand)]
pub enum LightClientCommand {
    /// Write a valid trusted/untrusted header pair of a family, to show its format.
    Sample {
        #[arg(long)]
        family: FamilyName,
        /// Validators (orderers for cmport, grouped into organisations).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1000))]
        validators: u16,
        /// Directory to write trusted.json and untrusted.json into.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "port-devnet-1")]
        chain_id: String,
        /// Seed of the sample's keys.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Time of the untrusted header (RFC 3339); default now.
        #[arg(long)]
        time: Option<String>,
    },
    /// Print a running ledger's header at a height: the hash to pin as
    /// `trust_hash`, family, chain id, time, validators hash.
    Header(crate::cmd::light_client_header::HeaderArgs),
    /// Verify an untrusted header against a trusted one.
    ///
    /// Prints SUCCESS, NOT_ENOUGH_TRUST or INVALID: <check> and exits 0, 10
    /// or 11; exits 2 when the input cannot be read.
    Verify {
        #[arg(long)]
        family: FamilyName,
        #[arg(long)]
        trusted: PathBuf,
        #[arg(long)]
        untrusted: PathBuf,
        /// The verifier's current time (RFC 3339); default the system clock.
        #[arg(long)]
        now: Option<String>,
        #[arg(long, default_value = "14d")]
        trusting_period: HumanDuration,
        #[arg(long, default_value = "10s")]
        clock_drift: HumanDuration,
        #[arg(long, default_value = "1/3")]
        trust_threshold: light_clients::Fraction,
    },
}

pub fn time_arg(name: &str, value: Option<String>) -> anyhow::Result<Timestamp> {
    match value {
        Some(s) => Timestamp::parse_rfc3339(&s).map_err(|e| anyhow::anyhow!("--{name}: {e}")),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|e| anyhow::anyhow!("system clock before 1970: {e}"))?
                .as_nanos();
            u64::try_from(nanos)
                .map(Timestamp::from_unix_nanos)
                .map_err(|_| anyhow::anyhow!("system clock past 2554"))
        }
    }
}

pub fn run(cmd: LightClientCommand) -> ExitCode {
    match cmd {
        LightClientCommand::Header(args) => crate::cmd::light_client_header::run(args),
        LightClientCommand::Sample {
            family,
            validators,
            out,
            chain_id,
            seed,
            time,
        } => {
            let time = match time_arg("time", time) {
                // Whole seconds keep the sample readable.
                Ok(t) => Timestamp::from_unix_nanos(t.unix_nanos() / 1_000_000_000 * 1_000_000_000),
                Err(e) => return fail(&e.to_string()),
            };
            if let Err(e) = light_clients::ChainId::new(chain_id.as_str()) {
                return fail(&format!("--chain-id: {e}"));
            }
            match sample(family, &chain_id, validators.into(), seed, time, &out) {
                Ok(files) => {
                    println!(
                        "wrote {} and {}",
                        files.trusted.display(),
                        files.untrusted.display()
                    );
                    println!(
                        "verify with: portrelay light-client verify --family {family} --trusted {} --untrusted {}",
                        files.trusted.display(),
                        files.untrusted.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            }
        }
        LightClientCommand::Verify {
            family,
            trusted,
            untrusted,
            now,
            trusting_period,
            clock_drift,
            trust_threshold,
        } => {
            let now = match time_arg("now", now) {
                Ok(t) => t,
                Err(e) => return fail(&e.to_string()),
            };
            let options = TrustOptions {
                trusting_period: trusting_period.0,
                clock_drift: clock_drift.0,
                trust_threshold,
            };
            match verify(family, &trusted, &untrusted, &options, now) {
                Ok(outcome) => {
                    println!("{outcome}");
                    ExitCode::from(outcome.exit_code())
                }
                Err(e) => fail(&e.to_string()),
            }
        }
    }
}
