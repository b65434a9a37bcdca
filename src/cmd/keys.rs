//! `portrelay keys show FILE`: the Ed25519 public key of a relayer or
//! operator key file (64 hex digits, the seed), the value a ledger operator
//! registers as the relayer's `RelayerKey`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::cmd::fail;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print the public key (hex) of a key file: what a ledger registers.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The key file: the Ed25519 seed as 64 hex digits.
    pub file: PathBuf,
    /// Print `{"file", "public_key"}` as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Why a key file gives no key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    #[error("key file {path}: cannot read it: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not the 32-byte seed in hex; the file's content is not echoed, it may be a secret.
    #[error("key file {path}: not a key: expected 64 hex digits (an Ed25519 seed), found {found} characters{detail}")]
    NotAKey {
        path: PathBuf,
        found: usize,
        detail: &'static str,
    },
}

/// The signing key of a key file (surrounding whitespace allowed, as the
/// devnet writes and `portrelay start` reads it).
pub fn read_key_file(path: &Path) -> Result<ed25519_consensus::SigningKey, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = text.trim();
    let mut seed = [0u8; 32];
    if text.len() != 64 {
        return Err(KeyFileError::NotAKey {
            path: path.to_path_buf(),
            found: text.chars().count(),
            detail: "",
        });
    }
    hex::decode_to_slice(text, &mut seed).map_err(|_| KeyFileError::NotAKey {
        path: path.to_path_buf(),
        found: 64,
        detail: ", not all hex digits",
    })?;
    Ok(ed25519_consensus::SigningKey::from(seed))
}

pub fn run(cmd: KeysCommand) -> ExitCode {
    match cmd {
        KeysCommand::Show(args) => match read_key_file(&args.file) {
            Ok(key) => {
                let public = hex::encode(key.verification_key().to_bytes());
                if args.json {
                    let out = serde_json::json!({
                        "file": args.file.display().to_string(),
                        "public_key": public,
                    });
                    println!("{out}");
                } else {
                    println!("{public}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
    }
}
