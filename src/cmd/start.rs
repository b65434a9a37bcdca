//! `portrelay start --config FILE`: the relayer daemon over the chains of a
//! configuration file, until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{fail, run_async};

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// The TOML configuration (see deploy/portrelay.example.toml).
    #[arg(long)]
    config: PathBuf,
}

pub fn run(args: StartArgs) -> ExitCode {
    let config = match relayer::config::Config::load(&args.config, std::env::vars()) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    run_async(|shutdown| async move { relayer::run(config, shutdown).await })
}
