//! `portrelay packets trace|clear|retry|parked`: packets on a running relayer,
//! through its API. In a fleet, a trace from any member shows who holds a
//! job's lane and the record of its failed tries, whichever member made them.

use std::process::ExitCode;

use relayer::relay::clear::{JobView, Trace};
use relayer::relay::coordinator::{JobRecord, JobState};

use super::fail;
use super::ops::{ops_command, pretty, ApiArgs};

#[derive(Debug, clap::Subcommand)]
pub enum PacketsCommand {
    /// Where a packet is: sent at height, proven, submitted, received, acked.
    Trace {
        source: String,
        destination: String,
        /// cargo, payment or ebl.
        app: String,
        sequence: u64,
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        json: bool,
    },
    /// Compare both ends of the channels now and re-queue the gaps.
    Clear {
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        destination: Option<String>,
        #[arg(long)]
        app: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Put every parked job back in its lane.
    Retry {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List parked jobs with their reasons.
    Parked {
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: PacketsCommand) -> ExitCode {
    use relayer::relay::clear::ClearFilter;
    match cmd {
        PacketsCommand::Trace {
            source,
            destination,
            app,
            sequence,
            api,
            json,
        } => ops_command(api, |t| async move {
            let trace = t.trace(&source, &destination, &app, sequence).await?;
            Ok(if json {
                pretty(&trace)
            } else {
                render_trace(&trace)
            })
        }),
        PacketsCommand::Clear {
            source,
            destination,
            app,
            api,
        } => {
            let filter = (|| -> anyhow::Result<ClearFilter> {
                let chain = |name: &str, v: Option<String>| {
                    v.map(|s| {
                        light_clients::ChainId::new(s.as_str())
                            .map_err(|e| anyhow::anyhow!("--{name}: {e}"))
                    })
                    .transpose()
                };
                Ok(ClearFilter {
                    source: chain("source", source)?,
                    destination: chain("destination", destination)?,
                    app: app
                        .map(|a| a.parse().map_err(|e| anyhow::anyhow!("--app: {e}")))
                        .transpose()?,
                })
            })();
            let filter = match filter {
                Ok(f) => f,
                Err(e) => return fail(&e.to_string()),
            };
            ops_command(api, |t| async move {
                let r = t.clear(&filter).await?;
                Ok(format!("re-queued {} jobs\n", r.requeued))
            })
        }
        PacketsCommand::Retry { api } => ops_command(api, |t| async move {
            let r = t.retry().await?;
            Ok(format!("re-queued {} parked jobs\n", r.requeued))
        }),
        PacketsCommand::Parked { api, json } => ops_command(api, |t| async move {
            let parked = t.parked().await?;
            if json {
                return Ok(pretty(&parked));
            }
            let mut out = format!("{} parked jobs\n", parked.len());
            for p in parked {
                let id = p.job.id();
                out.push_str(&format!(
                    "  {} #{} {:?}: {}\n",
                    id.channel, id.sequence, id.kind, p.reason
                ));
            }
            Ok(out)
        }),
    }
}

/// A trace as lines for a terminal.
pub fn render_trace(t: &Trace) -> String {
    let mut out = format!("{}: {}\n", t.packet, t.stage);
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    match t.sent_height {
        Some(h) => out.push_str(&format!("  sent        at height {h} (awaiting its ack)\n")),
        None => out.push_str(&format!("  sent        {}\n", yes_no(t.sent))),
    }
    if let Some(j) = &t.packet_job {
        out.push_str(&format!(
            "  proven      at source height {}; {}\n",
            j.proof_height,
            job_text(j)
        ));
        out.push_str(&record_text("last try", j));
    }
    match (t.received_height, &t.ack) {
        (Some(h), Some(ack)) => out.push_str(&format!(
            "  received    at height {h}, ack {}\n",
            ack_text(ack)
        )),
        _ => out.push_str("  received    no\n"),
    }
    if let Some(j) = &t.ack_job {
        out.push_str(&format!(
            "  ack proven  at destination height {}; {}\n",
            j.proof_height,
            job_text(j)
        ));
        out.push_str(&record_text("ack try", j));
    }
    out.push_str(&format!("  acked       {}\n", yes_no(t.acked)));
    out
}

/// `job queued (attempts 0), lane held by alpha`.
fn job_text(j: &JobView) -> String {
    let state = match &j.state {
        JobState::Queued => "queued".to_string(),
        JobState::InFlight => "in flight".to_string(),
        JobState::Parked { reason } => format!("parked: {reason}"),
    };
    let holder = match &j.holder {
        Some(h) => format!(", lane held by {h}"),
        None => String::new(),
    };
    format!("job {state} (attempts {}){holder}", j.attempts)
}

/// The line of a job's last failed try, if one failed.
fn record_text(label: &str, j: &JobView) -> String {
    match &j.record {
        Some(r) => format!("  {label:<11} {}\n", failure_text(r)),
        None => String::new(),
    }
}

/// `failed 2026-12-06T09:00:00Z on alpha (14 failed tries since ...; attempts 0): reason`.
pub fn failure_text(r: &JobRecord) -> String {
    format!(
        "failed {} on {} ({} failed {} since {}; attempts {}{}): {}",
        r.last_tried,
        r.member.as_deref().unwrap_or("this relayer"),
        r.tries,
        if r.tries == 1 { "try" } else { "tries" },
        r.failing_since,
        r.attempts,
        if r.parked { "; parked" } else { "" },
        r.last_error
    )
}

fn ack_text(ack: &light_clients::AckResult) -> String {
    serde_json::to_string(ack).unwrap_or_else(|_| format!("{ack:?}"))
}
