//! `portrelay adapters list|register|remove`: adapters of a running relayer, through its API.

use std::path::PathBuf;
use std::process::ExitCode;

use light_clients::any::FamilyName;

use super::fail;
use super::ops::{ops_command, pretty, ApiArgs};

#[derive(Debug, clap::Subcommand)]
pub enum AdaptersCommand {
    /// Adapters from the configuration file and registered ones.
    List {
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        json: bool,
    },
    /// Register a ledger's adapter: the running relayer follows it at once
    /// and keeps it across restarts.
    Register {
        #[arg(long)]
        family: FamilyName,
        #[arg(long)]
        chain_id: String,
        /// An RPC endpoint (repeat for failover, in order).
        #[arg(long = "endpoint", required = true)]
        endpoints: Vec<String>,
        /// Apps relayed to and from the chain.
        #[arg(long, value_delimiter = ',', default_value = "cargo,payment,ebl")]
        apps: Vec<String>,
        /// The relayer's key file for the chain, on the relayer's machine.
        #[arg(long)]
        key_file: PathBuf,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Stop relaying a registered chain and forget its adapter.
    Remove {
        chain_id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
}

pub fn run(cmd: AdaptersCommand) -> ExitCode {
    use adapters::chain::{AdapterConfig, ChainConfig, RpcPolicy};
    match cmd {
        AdaptersCommand::List { api, json } => ops_command(api, |t| async move {
            let list = t.adapters().await?;
            if json {
                return Ok(pretty(&list));
            }
            let mut out = String::new();
            for a in list {
                out.push_str(&format!(
                    "{:<12} {:<7} {:<10} {}{}\n",
                    a.chain_id,
                    a.family,
                    a.origin,
                    a.endpoints.join(","),
                    if a.running { "" } else { "  (not running)" }
                ));
            }
            Ok(out)
        }),
        AdaptersCommand::Register {
            family,
            chain_id,
            endpoints,
            apps,
            key_file,
            api,
        } => {
            let req = (|| -> anyhow::Result<relayer::api::RegisterAdapter> {
                let chain = ChainConfig {
                    chain_id: light_clients::ChainId::new(chain_id.as_str())
                        .map_err(|e| anyhow::anyhow!("--chain-id: {e}"))?,
                    endpoints,
                    apps: apps
                        .iter()
                        .map(|a| a.parse().map_err(|e| anyhow::anyhow!("--apps: {e}")))
                        .collect::<anyhow::Result<_>>()?,
                    trust_root: None,
                    rpc: RpcPolicy::DEVNET,
                    engine: adapters::chain::Engine::Embedded,
                };
                let adapter = AdapterConfig::new(family, chain);
                adapter.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
                // The relayer reads it on its machine; an absolute path says which file.
                let key_file = std::path::absolute(&key_file)
                    .map_err(|e| anyhow::anyhow!("--key-file: {e}"))?;
                Ok(relayer::api::RegisterAdapter { adapter, key_file })
            })();
            let req = match req {
                Ok(r) => r,
                Err(e) => return fail(&e.to_string()),
            };
            ops_command(api, |t| async move {
                let a = t.register(&req).await?;
                Ok(format!(
                    "registered {} ({}); the relayer follows it now\n",
                    a.chain_id, a.family
                ))
            })
        }
        AdaptersCommand::Remove { chain_id, api } => ops_command(api, |t| async move {
            t.remove(&chain_id).await?;
            Ok(format!("removed {chain_id}\n"))
        }),
    }
}
