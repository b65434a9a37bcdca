//! `portrelay fleet status`: the fleet a running member belongs to, through its API.

use std::process::ExitCode;

use super::ops::{ops_command, pretty, render_fleet, ApiArgs, OpsError};

#[derive(Debug, clap::Subcommand)]
pub enum FleetCommand {
    /// Members (live heartbeats) with the leases each holds, every lane's
    /// queue depth and the parked jobs, as the member at `--api` sees them.
    Status {
        #[command(flatten)]
        api: ApiArgs,
        /// Print the API's JSON (the `fleet` section of `/v1/status`).
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: FleetCommand) -> ExitCode {
    let FleetCommand::Status { api, json } = cmd;
    ops_command(api, |t| async move {
        let s = t.status().await?;
        match s.fleet {
            Some(f) if json => Ok(pretty(&f)),
            Some(f) => Ok(render_fleet(&f)),
            None => Err(OpsError::Refused {
                status: 200,
                code: "not_a_fleet".into(),
                message: "this relayer uses the embedded coordinator (no [coordinator] backend = \"redis\")".into(),
            }),
        }
    })
}
