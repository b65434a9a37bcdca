//! Plain HTTP GETs of JSON on the ledgers' routes that no adapter call reads
//! (app records), with a deadline so a cut or stopped ledger cannot hold
//! the harness.

use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// `GET base+path` as JSON: `Ok(None)` for a 404 (nothing there), an
/// error for any other failure.
pub async fn get_json(base: &str, path: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let uri: hyper::Uri = format!("{base}{path}").parse()?;
    let r = tokio::time::timeout(Duration::from_secs(10), client.get(uri)).await??;
    let status = r.status();
    if status == hyper::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let body = r.into_body().collect().await?.to_bytes();
    if status != hyper::StatusCode::OK {
        anyhow::bail!("{status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(Some(serde_json::from_slice(&body)?))
}

/// `POST base+path` with a JSON body and a bearer token; an error names
/// the status and the body when the answer is not 2xx.
pub async fn post_json(
    base: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> anyhow::Result<()> {
    use http_body_util::Full;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = hyper::Request::post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::from(body.to_string())))?;
    let r = tokio::time::timeout(Duration::from_secs(10), client.request(request)).await??;
    let status = r.status();
    if !status.is_success() {
        let text = r.into_body().collect().await?.to_bytes();
        anyhow::bail!("{status}: {}", String::from_utf8_lossy(&text));
    }
    Ok(())
}
