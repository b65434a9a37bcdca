//! `portrelay packets trace|clear|retry|parked`: packets on a running relayer, through its API.

use std::process::ExitCode;

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
                crate::cmd::ops::render_trace(&trace)
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
