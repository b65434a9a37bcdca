//! What each ledger's operator does before a relayer can deliver anything:
//! create a client of every other chain (from that chain's latest header),
//! register the relayer's transaction key, open the channels, and register
//! the other ledgers' eBL platform keys. `portrelay devnet` does it in
//! process; `portrelay operator connect` does it over the ledgers' RPC for
//! ledgers run apart (compose, systemd, Kubernetes), with each operator's
//! key and admin token from that ledger's data directory. Running it again
//! changes nothing (existing clients and channels are kept).
//!
//! A confidential path (a destination that takes a (source, app) in
//! `groth16` mode) is set up here too: its channel opened with a `+groth16`
//! version at both ends (so the source sends record commitments), the
//! destination's policy set and the source prover's verifying key
//! registered on the destination.

use crate::cmd::err;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use adapters::chain::ChainAdapter;
use adapters::registry;
use adapters::wire::MsgResult;
use light_clients::any::AnyHeader;
use light_clients::host::{OperatorMsg, RelayerKey, SignedTx, TxBody};
use light_clients::zk::{self, PathPolicy, CONFIDENTIAL_VERSION_SUFFIX};
use light_clients::{App, ChainId, ChannelId, TrustOptions};

use relayer::config::{read_key, Config};
use relayer::relay::engine::Paths;

/// A ledger as its operator acts on it.
#[derive(Debug, Clone)]
pub struct Operated {
    pub chain_id: ChainId,
    pub adapter: Arc<dyn ChainAdapter>,
    /// The ledger operator's key (`operator.key` in its data directory).
    pub operator: ed25519_consensus::SigningKey,
    /// The relayer's transaction key on this ledger.
    pub relayer: RelayerKey,
    /// The apps this ledger exchanges.
    pub apps: Vec<App>,
}

/// Submits operator messages one transaction each; clients and channels
/// that exist already are fine.
pub async fn operator_txs(l: &Operated, msgs: Vec<OperatorMsg>) -> anyhow::Result<()> {
    let signer = RelayerKey(l.operator.verification_key().to_bytes());
    for msg in msgs {
        let nonce = l
            .adapter
            .account(&signer)
            .await
            .map_err(err("operator account"))?
            .next_nonce;
        let tx = SignedTx::sign(&l.operator, &l.chain_id, nonce, &TxBody::Operator(msg));
        let r = l
            .adapter
            .submit(&tx)
            .await
            .map_err(err("operator transaction"))?;
        if let Some(MsgResult::Err { check, message }) = r.results.first() {
            if !matches!(check.as_str(), "client_exists" | "channel_exists") {
                return Err(anyhow::anyhow!("{}: {check}: {message}", l.chain_id));
            }
        }
    }
    Ok(())
}

/// The channels between these ledgers: every ordered pair, for each app
/// both ends exchange, and on the configured paths when there are any.
pub fn channels(ledgers: &[Operated], paths: &Paths) -> Vec<ChannelId> {
    let mut out = Vec::new();
    for s in ledgers {
        for d in ledgers {
            if s.chain_id == d.chain_id {
                continue;
            }
            for app in App::ALL {
                let channel = ChannelId {
                    source: s.chain_id.clone(),
                    destination: d.chain_id.clone(),
                    app,
                };
                if s.apps.contains(&app) && d.apps.contains(&app) && paths.allows(&channel) {
                    out.push(channel);
                }
            }
        }
    }
    out
}

/// A path whose destination takes its packets in `groth16` mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfidentialPath {
    pub source: ChainId,
    pub destination: ChainId,
    pub app: App,
    /// What the destination asks of each kind of record.
    pub policy: PathPolicy,
}

/// The version a channel is opened with: `<app>-1`, and `+groth16` on a
/// confidential path.
pub fn channel_version(channel: &ChannelId, confidential: &[ConfidentialPath]) -> String {
    let plain = format!("{}-1", channel.app);
    if confidential.iter().any(|p| {
        p.source == channel.source && p.destination == channel.destination && p.app == channel.app
    }) {
        format!("{plain}{CONFIDENTIAL_VERSION_SUFFIX}")
    } else {
        plain
    }
}

/// Clients of each other (from each chain's latest header), the relayer's
/// key and the channels, on every ledger. Returns the header each ledger's
/// clients of a chain were created from, by chain.
pub async fn setup(
    ledgers: &[Operated],
    options: TrustOptions,
    paths: &Paths,
) -> anyhow::Result<BTreeMap<ChainId, (u64, AnyHeader)>> {
    setup_with(ledgers, options, paths, &[]).await
}

/// [`setup`], with confidential paths: their channels opened `+groth16`,
/// then on each destination the path's policy and the source's key.
pub async fn setup_with(
    ledgers: &[Operated],
    options: TrustOptions,
    paths: &Paths,
    confidential: &[ConfidentialPath],
) -> anyhow::Result<BTreeMap<ChainId, (u64, AnyHeader)>> {
    let channels = channels(ledgers, paths);
    let mut headers = BTreeMap::new();
    for l in ledgers {
        let status = l.adapter.status().await.map_err(err("status"))?;
        let header = l
            .adapter
            .header(status.height)
            .await
            .map_err(err("header"))?;
        headers.insert(l.chain_id.clone(), (status.height, header));
    }
    let mut setups = Vec::new();
    for l in ledgers {
        let mut msgs = Vec::new();
        for (chain, (_, header)) in &headers {
            if chain != &l.chain_id {
                msgs.push(OperatorMsg::CreateClient {
                    root: header.trust_root(),
                    options,
                });
            }
        }
        msgs.push(OperatorMsg::RegisterRelayer { key: l.relayer });
        for c in channels
            .iter()
            .filter(|c| c.source == l.chain_id || c.destination == l.chain_id)
        {
            msgs.push(OperatorMsg::OpenChannel {
                channel: c.clone(),
                version: channel_version(c, confidential),
            });
        }
        setups.push(operator_txs(l, msgs));
    }
    for setup in setups {
        setup.await?;
    }
    for path in confidential {
        let find = |id: &ChainId| {
            ledgers
                .iter()
                .find(|l| &l.chain_id == id)
                .ok_or_else(|| anyhow::anyhow!("confidential path: {id} is not one of the ledgers"))
        };
        let (source, destination) = (find(&path.source)?, find(&path.destination)?);
        path.policy.validate().map_err(|e| {
            anyhow::anyhow!(
                "confidential path {}->{}: {e}",
                path.source,
                path.destination
            )
        })?;
        let key = source
            .adapter
            .zk_key()
            .await
            .map_err(err("the source's disclosure key"))?;
        if key.devnet_unsafe {
            tracing::warn!(source = %path.source, "registering a devnet-unsafe verifying key (seeded setup)");
        }
        operator_txs(
            destination,
            vec![
                OperatorMsg::SetPathPolicy {
                    source: path.source.clone(),
                    app: path.app,
                    policy: path.policy.clone(),
                },
                OperatorMsg::RegisterVerifyingKey {
                    source: path.source.clone(),
                    app: path.app,
                    key: key.key,
                },
            ],
        )
        .await?;
    }
    Ok(headers)
}

/// What `portrelay devnet --zk` asks on its confidential path, for
/// settlements: status and bill of lading disclosed, the amount at least
/// `min_amount` minor units; currency, agents and end-to-end id hidden.
/// Other payment kinds disclose their kind only.
pub fn settlement_policy(min_amount: u64) -> PathPolicy {
    use zk::FieldRule::{AtLeast, Disclose};
    PathPolicy::Groth16 {
        kinds: [(
            "PAYMENT_SETTLEMENT".to_string(),
            vec![Disclose, Disclose, AtLeast(min_amount)],
        )]
        .into(),
    }
}

/// How an operator makes a ledger's admin calls.
enum Admin {
    /// The embedded ledger's admin routes, with its `admin.token`.
    Http(crate::cmd::ops::ApiTarget),
    /// Signed admin transactions through CometBFT (`engine = "cometbft"`).
    Comet(adapters::comet::CometAdapter),
}

/// `portrelay operator connect`: the relayer configuration names the
/// chains, their endpoints, apps and the relayer's key files; `ledger_dirs`
/// gives, per chain, the ledger's data directory holding `operator.key`
/// and `admin.token` (for a gba chain under CometBFT, any validator's
/// application data directory: its `operator.key`, no token);
/// `relayer_keys` are the other fleet members' key files, registered on
/// every chain as well.
pub async fn connect(
    config: &Config,
    ledger_dirs: &[(ChainId, PathBuf)],
    relayer_keys: &[PathBuf],
) -> anyhow::Result<String> {
    let mut members = Vec::new();
    for path in relayer_keys {
        let key = read_key(path).map_err(|e| anyhow::anyhow!("--relayer-key-file: {e}"))?;
        members.push(RelayerKey(key.verification_key().to_bytes()));
    }
    let mut ledgers = Vec::new();
    let mut admin = Vec::new();
    for entry in &config.chains {
        let chain = entry.adapter.chain();
        let id = &chain.chain_id;
        let dir = ledger_dirs
            .iter()
            .find(|(c, _)| c == id)
            .map(|(_, d)| d)
            .ok_or_else(|| {
                anyhow::anyhow!("--ledger-dir {id}=DIR: no data directory given for {id}")
            })?;
        let operator = devnet::ledger::operator_key(dir).map_err(err("--ledger-dir"))?;
        let relayer = read_key(&entry.key_file)
            .map_err(|e| anyhow::anyhow!("chains ({id}).key_file: {e}"))?;
        let adapter = registry::build(&entry.adapter, None).map_err(|e| anyhow::anyhow!("{e}"))?;
        ledgers.push(Operated {
            chain_id: id.clone(),
            adapter,
            operator,
            relayer: RelayerKey(relayer.verification_key().to_bytes()),
            apps: chain.apps.clone(),
        });
        admin.push(match chain.engine {
            // Admin calls are the operator's signed transactions: the
            // application's data directory holds no admin token.
            adapters::chain::Engine::Cometbft => Admin::Comet(
                adapters::comet::CometAdapter::new(&entry.adapter, None)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
            adapters::chain::Engine::Embedded => {
                let token_path = dir.join("admin.token");
                let token = std::fs::read_to_string(&token_path)
                    .map_err(|e| {
                        anyhow::anyhow!("--ledger-dir: cannot read {}: {e}", token_path.display())
                    })?
                    .trim()
                    .to_string();
                let endpoint = chain
                    .endpoints
                    .first()
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("chains ({id}).endpoints: none"))?;
                Admin::Http(crate::cmd::ops::ApiTarget {
                    base: endpoint.trim_end_matches('/').to_string(),
                    token: Some(token),
                })
            }
        });
    }
    for (chain, _) in ledger_dirs {
        if !ledgers.iter().any(|l| &l.chain_id == chain) {
            return Err(anyhow::anyhow!(
                "--ledger-dir {chain}: not one of the configuration's chains"
            ));
        }
    }
    setup(&ledgers, config.trust, &config.paths).await?;
    for l in &ledgers {
        let msgs = members
            .iter()
            .map(|key| OperatorMsg::RegisterRelayer { key: *key })
            .collect();
        operator_txs(l, msgs).await?;
    }
    // eBL platforms: each ledger learns the others' envelope keys (an admin call).
    let mut platforms = 0;
    for (l, admin) in ledgers.iter().zip(&admin) {
        let id = &l.chain_id;
        for other in ledgers.iter().filter(|o| &o.chain_id != id) {
            let key = other
                .adapter
                .status()
                .await
                .map_err(err("status"))?
                .ebl_platform;
            match admin {
                Admin::Http(target) => target
                    .post_empty(
                        "/v1/admin/ebl-platforms",
                        &serde_json::json!({ "chain": other.chain_id, "key": key }),
                    )
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("{id}: registering {}'s eBL platform: {e}", other.chain_id)
                    })?,
                Admin::Comet(comet) => {
                    register_platform_by_admin_tx(comet, &l.operator, other.chain_id.clone(), key)
                        .await?
                }
            }
            platforms += 1;
        }
    }
    Ok(format!(
        "connected {} ledgers: clients of each other, the relayer's keys{}, {} channels, {} eBL platform keys\n",
        ledgers.len(),
        if members.is_empty() {
            String::new()
        } else {
            format!(" (and {} more fleet members')", members.len())
        },
        channels(&ledgers, &config.paths).len(),
        platforms
    ))
}

/// Registers `chain`'s eBL platform key on a gba ledger run under CometBFT:
/// the operator's `ebl_platform` admin transaction (`AbciTx::Admin`),
/// broadcast and waited for, at the application's next admin nonce (0
/// first; a refusal `admin_nonce` names the next one, which is used once
/// more). The same call at the same nonce is the same bytes (Ed25519
/// signs deterministically): CometBFT's cache refuses it as `duplicate_tx`
/// when an earlier run made it, and the next nonce is tried.
pub async fn register_platform_by_admin_tx(
    comet: &adapters::comet::CometAdapter,
    operator: &ed25519_consensus::SigningKey,
    chain: ChainId,
    key: RelayerKey,
) -> anyhow::Result<()> {
    let ledger = comet.chain_id().clone();
    let mut nonce = 0u64;
    for _ in 0..16 {
        let tx = adapters::abci::AdminTx::sign(
            operator,
            &ledger,
            nonce,
            adapters::abci::AdminCall::EblPlatform {
                chain: chain.clone(),
                key,
            },
        );
        match comet.submit_admin(&tx).await {
            Ok(_) => return Ok(()),
            Err(adapters::chain::AdapterError::Refused { code, message, .. })
                if code == "admin_nonce" =>
            {
                nonce = message
                    .rsplit("the next is ")
                    .next()
                    .and_then(|n| n.trim().parse().ok())
                    .ok_or_else(|| anyhow::anyhow!("{ledger}: admin_nonce: {message}"))?;
            }
            Err(adapters::chain::AdapterError::Refused { code, .. }) if code == "duplicate_tx" => {
                nonce += 1;
            }
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "{ledger}: the eBL platform key of {chain}: {e}"
                ))
            }
        }
    }
    Err(anyhow::anyhow!(
        "{ledger}: the eBL platform key of {chain}: no admin nonce was free"
    ))
}

// The `portrelay operator` command line.

#[derive(Debug, clap::Subcommand)]
pub enum OperatorCommand {
    /// On every chain of a relayer configuration: clients of the others (from
    /// their latest headers), the relayer's key, the channels (for the apps
    /// both ends list, on the configured paths), and the other ledgers' eBL
    /// platform keys. Running it again changes nothing.
    Connect {
        /// The relayer's TOML configuration (chains, apps, key files, [trust]).
        #[arg(long)]
        config: PathBuf,
        /// A ledger's data directory, holding its operator.key and admin.token
        /// (repeat for each chain: `--ledger-dir cosco-1=/var/lib/portledger/cosco-1`;
        /// for a gba chain under CometBFT, any validator's application data
        /// directory: admin calls are signed transactions there).
        #[arg(long = "ledger-dir", required = true, value_name = "CHAIN=DIR")]
        ledger_dirs: Vec<String>,
        /// Another relayer instance's key file, registered on every chain too
        /// (repeat for each other member of a fleet: each signs with its own key).
        #[arg(long = "relayer-key-file", value_name = "FILE")]
        relayer_keys: Vec<PathBuf>,
    },
}

pub fn run(cmd: OperatorCommand) -> std::process::ExitCode {
    let OperatorCommand::Connect {
        config,
        ledger_dirs,
        relayer_keys,
    } = cmd;
    connect_command(&config, &ledger_dirs, &relayer_keys)
}

fn connect_command(
    path: &std::path::Path,
    dirs: &[String],
    relayer_keys: &[PathBuf],
) -> std::process::ExitCode {
    let config = match relayer::config::Config::load(path, std::env::vars()) {
        Ok(c) => c,
        Err(e) => return super::fail(&e.to_string()),
    };
    let mut ledger_dirs = Vec::new();
    for d in dirs {
        let Some((chain, dir)) = d.split_once('=') else {
            return super::fail(&format!("--ledger-dir {d}: expected CHAIN=DIR"));
        };
        match light_clients::ChainId::new(chain) {
            Ok(c) => ledger_dirs.push((c, PathBuf::from(dir))),
            Err(e) => return super::fail(&format!("--ledger-dir {d}: {e}")),
        }
    }
    super::run_async(|_| async move {
        let out = crate::cmd::operator::connect(&config, &ledger_dirs, relayer_keys).await?;
        print!("{out}");
        Ok::<(), anyhow::Error>(())
    })
}
