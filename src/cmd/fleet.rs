//! `portrelay fleet status`: the fleet a running member belongs to, through
//! its API: members and their leases, queues, and the jobs whose last try
//! failed, whichever member tried them.

use std::process::ExitCode;

use relayer::relay::coordinator::FleetStatus;

use super::ops::{ops_command, pretty, ApiArgs, OpsError};
use super::packets::failure_text;

#[derive(Debug, clap::Subcommand)]
pub enum FleetCommand {
    /// Members (live heartbeats) with the leases each holds, every lane's
    /// queue depth, the parked jobs and the jobs whose last try failed (with
    /// the member that tried, how often, the last error), as the member at
    /// `--api` sees them.
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

/// The fleet as lines for a terminal: this member, each member with the
/// leases it holds, each lane's queue depth, the jobs failing.
pub fn render_fleet(f: &FleetStatus) -> String {
    let mut out = format!(
        "fleet seen from {}: redis {}; {} members, {} jobs queued, {} parked, {} failing\n",
        f.instance,
        f.redis,
        f.members.len(),
        f.queues.values().sum::<u64>(),
        f.parked,
        f.failing.len()
    );
    for m in &f.members {
        let count = |kind: &str| {
            m.leases
                .iter()
                .filter(|l| l.split(':').next() == Some(kind))
                .count()
        };
        out.push_str(&format!(
            "member {:<16} api {:<24} {} lanes, scanners [{}]{}\n",
            m.instance,
            m.api.as_deref().unwrap_or("-"),
            count("lane"),
            m.leases
                .iter()
                .filter_map(|l| l.strip_prefix("scanner:"))
                .collect::<Vec<_>>()
                .join(", "),
            if count("clearer") > 0 {
                ", clearer"
            } else {
                ""
            }
        ));
        for l in m.leases.iter().filter(|l| l.starts_with("lane:")) {
            out.push_str(&format!("  {l}\n"));
        }
    }
    for (lane, n) in f.queues.iter().filter(|(_, n)| **n > 0) {
        out.push_str(&format!("queue {lane}: {n}\n"));
    }
    for j in &f.failing {
        let kind = match j.job.kind {
            relayer::relay::coordinator::JobKind::Packet => "packet",
            relayer::relay::coordinator::JobKind::Ack => "ack",
        };
        out.push_str(&format!(
            "failing {} #{} {kind}, lane held by {}: {}\n",
            j.job.channel,
            j.job.sequence,
            j.holder.as_deref().unwrap_or("nobody"),
            failure_text(&j.record)
        ));
    }
    out
}
