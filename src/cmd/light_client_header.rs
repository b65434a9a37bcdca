//! `portrelay light-client header --endpoint URL --height H`: a ledger's
//! header at a height as an operator pins it (`trust_height`, `trust_hash`),
//! read through the ledger RPC with the adapters crate and hashed by the
//! same `AnyHeader::summary` the relayer's follower compares a pin with.

use std::process::ExitCode;

use adapters::chain::{AdapterConfig, AdapterError, ChainConfig, ConfigError, RpcPolicy};
use adapters::wire::NodeStatus;
use clap::Args;
use light_clients::any::FamilyName;
use light_clients::{App, ChainId, VerifyError};

#[derive(Debug, Args)]
pub struct HeaderArgs {
    /// The ledger's RPC endpoint, e.g. http://127.0.0.1:26657.
    #[arg(long)]
    pub endpoint: String,
    #[arg(long)]
    pub height: u64,
    /// The ledger's family; read from its status when not given.
    #[arg(long)]
    pub family: Option<FamilyName>,
    /// The ledger's chain id; read from its status when not given.
    #[arg(long)]
    pub chain_id: Option<String>,
    /// Print the fields as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Why no header was printed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    #[error("{endpoint}: {reason}")]
    Probe { endpoint: String, reason: String },
    #[error("--chain-id: {0}")]
    ChainId(String),
    #[error("adapter: {0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Adapter(#[from] AdapterError),
    #[error("header {height}: {source}")]
    Summary { height: u64, source: VerifyError },
}

/// `GET /v1/status` without knowing the family or chain yet (the adapter
/// needs both and checks them); plain HTTP only, else name them.
pub(crate) async fn probe_status(endpoint: &str) -> Result<NodeStatus, HeaderError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let probe = |reason: String| HeaderError::Probe {
        endpoint: endpoint.to_string(),
        reason,
    };
    let rest = endpoint.strip_prefix("http://").ok_or_else(|| {
        probe("only http:// endpoints are probed; give --family and --chain-id".into())
    })?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let connect = tokio::net::TcpStream::connect(authority);
    let mut stream = tokio::time::timeout(std::time::Duration::from_secs(10), connect)
        .await
        .map_err(|_| probe("no answer within 10s".into()))?
        .map_err(|e| probe(format!("cannot connect: {e}")))?;
    let request =
        format!("GET /v1/status HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| probe(format!("cannot send: {e}")))?;
    let mut raw = Vec::new();
    // A status is small; more than 1 MiB is not a ledger's answer.
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        (&mut stream).take(1 << 20).read_to_end(&mut raw),
    )
    .await
    .map_err(|_| probe("no answer within 10s".into()))?
    .map_err(|e| probe(format!("cannot read: {e}")))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| probe("not an HTTP answer".into()))?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        let line = head.lines().next().unwrap_or_default().to_string();
        return Err(probe(format!("GET /v1/status answered {line}")));
    }
    serde_json::from_str(body).map_err(|e| probe(format!("not a ledger status: {e}")))
}

/// The header's fields, as printed.
pub async fn header(args: &HeaderArgs) -> Result<serde_json::Value, HeaderError> {
    let (family, chain_id) = match (args.family, &args.chain_id) {
        (Some(f), Some(c)) => (f, ChainId::new(c.as_str()).map_err(HeaderError::ChainId)?),
        _ => {
            let status = probe_status(&args.endpoint).await?;
            (
                args.family.unwrap_or(status.family),
                match &args.chain_id {
                    Some(c) => ChainId::new(c.as_str()).map_err(HeaderError::ChainId)?,
                    None => status.chain_id,
                },
            )
        }
    };
    let config = ChainConfig {
        chain_id,
        endpoints: vec![args.endpoint.clone()],
        apps: App::ALL.to_vec(),
        trust_root: None,
        rpc: RpcPolicy::PRODUCTION,
        engine: adapters::chain::Engine::Embedded,
    };
    let adapter = adapters::registry::build(&AdapterConfig::new(family, config), None)?;
    // The status checks the endpoint serves that family and chain.
    let status = adapter.status().await?;
    let header = adapter.header(args.height).await?;
    // The hash a pin is compared with (relayer::relay::engine, `pin`).
    let summary = header.summary().map_err(|source| HeaderError::Summary {
        height: args.height,
        source,
    })?;
    Ok(serde_json::json!({
        "height": summary.height,
        "hash": summary.hash.to_string(),
        "family": status.family.as_str(),
        "chain_id": summary.chain_id,
        "time": summary.time.to_string(),
        "validators_hash": summary.validators_hash.to_string(),
    }))
}

pub fn run(args: HeaderArgs) -> ExitCode {
    crate::cmd::run_async(|_| async move {
        let fields = header(&args).await?;
        if args.json {
            println!("{fields}");
        } else {
            for key in [
                "height",
                "hash",
                "family",
                "chain_id",
                "time",
                "validators_hash",
            ] {
                let value = &fields[key];
                let text = value
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or(value.to_string());
                println!("{key}: {text}");
            }
        }
        Ok::<(), HeaderError>(())
    })
}
