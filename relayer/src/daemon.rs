//! `portrelay start --config FILE`: the long-running relayer over the
//! chains of a configuration file, with the embedded coordinator in its data
//! directory. Killed and started again, it resumes from its checkpoints (no
//! rescan of history) and its clearer re-queues whatever was in flight.

use std::collections::BTreeMap;
use std::sync::Arc;

use adapters::chain::ChainAdapter;
use adapters::http::HttpAdapter;
use light_clients::ChainId;
use tokio_util::sync::CancellationToken;

use crate::config::{read_key, Config};
use crate::relay::coordinator::{Coordinator, Embedded};
use crate::relay::engine::{Chain, Engine, EngineOptions};
use crate::relay::stats::Stats;

/// Runs the relayer until `shutdown`; in-flight batches finish first.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), String> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("relayer.data_dir {}: {e}", config.data_dir.display()))?;
    let coordinator: Arc<dyn Coordinator> = Arc::new(
        Embedded::open(&config.data_dir.join("relayer.redb"))
            .map_err(|e| format!("relayer.data_dir: {e}"))?,
    );
    let mut adapters: BTreeMap<ChainId, (Arc<dyn ChainAdapter>, ed25519_consensus::SigningKey)> =
        BTreeMap::new();
    for entry in &config.chains {
        let chain = entry.adapter.chain();
        let adapter: Arc<dyn ChainAdapter> =
            Arc::new(HttpAdapter::new(entry.adapter.family(), chain)?);
        let key = read_key(&entry.key_file)
            .map_err(|e| format!("chains ({}).key_file: {e}", chain.chain_id))?;
        adapters.insert(chain.chain_id.clone(), (adapter, key));
    }
    // Each follower starts at the lowest height any other chain's client of
    // it holds, so every header a destination may need is one the follower
    // verified. (With no client yet, the chain's latest header.)
    let mut chains = BTreeMap::new();
    for (id, (adapter, key)) in &adapters {
        let mut lowest: Option<u64> = None;
        for (other, (other_adapter, _)) in &adapters {
            if other == id {
                continue;
            }
            match other_adapter.clients().await {
                Ok(clients) => {
                    if let Some(c) = clients.iter().find(|c| &c.chain == id) {
                        lowest = Some(lowest.map_or(c.latest_height, |l| l.min(c.latest_height)));
                    }
                }
                Err(e) => {
                    tracing::warn!(chain = %other, error = %e, "cannot read clients; following from the latest header")
                }
            }
        }
        let trust_root = match lowest {
            Some(h) => match adapter.header(h).await {
                Ok(header) => Some((h, header)),
                Err(e) => {
                    tracing::warn!(chain = %id, height = h, error = %e, "cannot read the clients' header; following from the latest");
                    None
                }
            },
            None => None,
        };
        chains.insert(
            id.clone(),
            Chain {
                adapter: adapter.clone(),
                key: key.clone(),
                trust_root,
            },
        );
    }
    let options = EngineOptions {
        trust: config.trust,
        batch_max: config.batch_max,
        max_attempts: config.max_attempts,
        backoff: config.backoff,
        clear_interval: config.clear_interval,
    };
    let names: Vec<String> = chains.keys().map(ToString::to_string).collect();
    println!(
        "portrelay: relaying between {} (data in {})",
        names.join(", "),
        config.data_dir.display()
    );
    let engine = Engine::new(chains, coordinator, options, Arc::new(Stats::default()));
    engine.run(shutdown).await;
    println!("portrelay: stopped");
    Ok(())
}
