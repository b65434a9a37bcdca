//! `portrelay customs warnings --ledger URL [--follow]`: a ledger's customs
//! warnings, one a line; with `--follow`, from its server-sent event stream,
//! reconnecting with `Last-Event-ID` (each warning printed once, whatever
//! the ledger's restarts) until Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{err, run_async};

#[derive(Debug, clap::Subcommand)]
pub enum CustomsCommand {
    /// A ledger's customs warnings (`/v1/customs/warnings`).
    Warnings(WarningsArgs),
}

#[derive(Debug, clap::Args)]
pub struct WarningsArgs {
    /// The ledger's RPC, e.g. http://127.0.0.1:26657.
    #[arg(long)]
    ledger: String,
    /// Keep printing warnings as they are raised (the ledger's SSE stream).
    #[arg(long)]
    follow: bool,
    /// Start after this warning id.
    #[arg(long, default_value_t = 0)]
    after: u64,
    /// Print each warning's JSON on one line.
    #[arg(long)]
    json: bool,
}

pub fn run(c: CustomsCommand) -> ExitCode {
    match c {
        CustomsCommand::Warnings(a) => run_async(|stop| warnings(a, stop)),
    }
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>;

/// One warning as a line: `#id severity rule declaration container ledger block: message`.
pub fn render(w: &Value, json: bool) -> String {
    if json {
        return w.to_string();
    }
    let s = |k: &str| w.get(k).and_then(Value::as_str).unwrap_or("-").to_string();
    format!(
        "#{} {} {} declaration={} container={} ledger={} port={} block={}: {}",
        w.get("id").and_then(Value::as_u64).unwrap_or(0),
        s("severity"),
        s("rule"),
        s("declaration"),
        s("container"),
        s("ledger"),
        s("port"),
        w.get("height").and_then(Value::as_u64).unwrap_or(0),
        s("message")
    )
}

async fn get(
    client: &HttpClient,
    url: &str,
    last: Option<u64>,
) -> anyhow::Result<hyper::Response<hyper::body::Incoming>> {
    let mut request = hyper::Request::get(url);
    if let Some(id) = last {
        request = request.header("last-event-id", id.to_string());
    }
    let request = request.body(Empty::new()).map_err(err("request"))?;
    let response = tokio::time::timeout(Duration::from_secs(30), client.request(request))
        .await
        .map_err(|_| anyhow!("{url}: no answer within 30 s"))?
        .map_err(err(url))?;
    Ok(response)
}

async fn warnings(args: WarningsArgs, stop: CancellationToken) -> anyhow::Result<()> {
    let base = args.ledger.trim_end_matches('/').to_string();
    if !base.starts_with("http://") {
        return Err(anyhow!("--ledger {base}: an http:// URL is needed"));
    }
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut last = args.after;
    if !args.follow {
        loop {
            let url = format!("{base}/v1/customs/warnings?after={last}");
            let response = get(&client, &url, None).await?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(err(&url))?
                .to_bytes();
            if !status.is_success() {
                return Err(anyhow!(
                    "{url}: {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            let page: Value = serde_json::from_slice(&body).context("the ledger's answer")?;
            let list = page["warnings"].as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                return Ok(());
            }
            for w in &list {
                println!("{}", render(w, args.json));
                last = w["id"].as_u64().unwrap_or(last);
            }
        }
    }
    let url = format!("{base}/v1/customs/warnings/stream");
    let mut backoff = Duration::from_millis(200);
    loop {
        let connected = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            r = get(&client, &url, Some(last)) => r,
        };
        match connected {
            Ok(response) if response.status().is_success() => {
                backoff = Duration::from_millis(200);
                let mut body = response.into_body();
                let mut buffer = String::new();
                loop {
                    let frame = tokio::select! {
                        _ = stop.cancelled() => return Ok(()),
                        f = body.frame() => f,
                    };
                    let Some(Ok(frame)) = frame else { break };
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    buffer.push_str(&String::from_utf8_lossy(&data));
                    // An event ends with a blank line.
                    while let Some(end) = buffer.find("\n\n") {
                        let block: String = buffer.drain(..end + 2).collect();
                        let data: String = block
                            .lines()
                            .filter_map(|l| l.strip_prefix("data:"))
                            .map(str::trim_start)
                            .collect::<Vec<_>>()
                            .join("\n");
                        if data.is_empty() {
                            continue;
                        }
                        let Ok(w) = serde_json::from_str::<Value>(&data) else {
                            continue;
                        };
                        let id = w["id"].as_u64().unwrap_or(0);
                        // A resumed stream starts after `last`; never print one twice.
                        if id > last {
                            println!("{}", render(&w, args.json));
                            last = id;
                        }
                    }
                }
                eprintln!("stream from {base} ended after warning {last}; reconnecting");
            }
            Ok(response) => {
                let status = response.status();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                if status.is_client_error() {
                    return Err(anyhow!(
                        "{url}: {status}: {}",
                        String::from_utf8_lossy(&body)
                    ));
                }
                eprintln!("{url}: {status}; retrying in {backoff:?}");
            }
            Err(e) => eprintln!("{e}; retrying in {backoff:?}"),
        }
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
