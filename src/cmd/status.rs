//! `portrelay status`: a running relayer's chains, followers, lanes and
//! parked jobs, through its API.

use std::process::ExitCode;

use super::ops::{ops_command, pretty, render_status, ApiArgs};

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Print the API's JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: StatusArgs) -> ExitCode {
    let json = args.json;
    ops_command(args.api, |t| async move {
        let s = t.status().await?;
        Ok(if json { pretty(&s) } else { render_status(&s) })
    })
}
