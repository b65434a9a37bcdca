//! Customs warnings posted to webhooks (`[webhooks]` of the port's rule
//! file): each warning of a sealed block, in id order, to every URL, as
//! JSON signed with HMAC-SHA256 (`X-Portrelay-Signature: sha256=<hex>` over
//! the body) with `Idempotency-Key: <warning id>`. A post that fails (no
//! answer, or not 2xx) is retried with exponential backoff until it
//! succeeds: delivery is at least once, so a receiver deduplicates by the
//! key. What each URL acknowledged is written to `customs-webhooks.json` in
//! the data directory after each success, so a restart resumes there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

use crate::apps::customs::{Warning, Webhooks};
use crate::handle::NodeHandle;

/// The file, in the data directory, of what each URL acknowledged.
pub const PROGRESS_FILE: &str = "customs-webhooks.json";
/// How long one post may take before it counts as failed.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What each URL acknowledged: the highest warning id, delivered in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub version: u8,
    pub delivered: BTreeMap<String, u64>,
}

impl Progress {
    /// Reads the progress file; none (a first start) is nothing delivered.
    pub fn load(path: &Path) -> Progress {
        match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(p) => p,
                Err(e) => {
                    // Redelivering is safe (receivers deduplicate); losing is not.
                    tracing::warn!(path = %path.display(), error = %e, "unreadable webhook progress; delivering from the first warning");
                    Progress::default()
                }
            },
            Err(_) => Progress::default(),
        }
    }

    /// Writes the progress file whole (a temporary file renamed over it).
    fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// One post: `Ok` on a 2xx answer.
async fn post(
    client: &HttpClient,
    url: &str,
    chain: &str,
    secret: &[u8],
    w: &Warning,
) -> Result<(), String> {
    let body = serde_json::to_vec(w).map_err(|e| e.to_string())?;
    let request = hyper::Request::post(url)
        .header("content-type", "application/json")
        .header("x-portrelay-signature", signature(secret, &body))
        .header("idempotency-key", w.id.to_string())
        .header("x-portrelay-ledger", chain)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(POST_TIMEOUT, client.request(request)).await {
        Err(_) => Err(format!("no answer within {POST_TIMEOUT:?}")),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(r)) if r.status().is_success() => Ok(()),
        Ok(Ok(r)) => Err(format!("answered {}", r.status())),
    }
}

/// Starts delivering warnings to the hooks; ends when `shutdown` is cancelled.
pub fn spawn(
    node: NodeHandle,
    hooks: Webhooks,
    data_dir: PathBuf,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let path = data_dir.join(PROGRESS_FILE);
        let mut progress = Progress::load(&path);
        progress.version = 1;
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        let chain = node.chain_id.to_string();
        loop {
            let after = hooks
                .urls
                .iter()
                .map(|u| progress.delivered.get(u).copied().unwrap_or(0))
                .min()
                .unwrap_or(0);
            let seen = node.height();
            let batch = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = node.call(move |l| l.customs_warnings(after, 64)) => match r {
                    Ok(b) => b,
                    Err(_) => return,
                },
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = node.wait_above(seen, Duration::from_secs(5)) => {}
                }
                continue;
            }
            for w in &batch {
                for url in &hooks.urls {
                    if progress.delivered.get(url).copied().unwrap_or(0) >= w.id {
                        continue;
                    }
                    let mut backoff = hooks.initial_backoff;
                    loop {
                        match post(&client, url, &chain, &hooks.secret, w).await {
                            Ok(()) => {
                                node.metrics.customs_webhook(true);
                                break;
                            }
                            Err(e) => {
                                node.metrics.customs_webhook(false);
                                tracing::warn!(url, warning = w.id, error = %e, retry_in = ?backoff, "customs webhook failed");
                                tokio::select! {
                                    _ = shutdown.cancelled() => return,
                                    _ = tokio::time::sleep(backoff) => {}
                                }
                                backoff = (backoff * 2).min(hooks.max_backoff);
                            }
                        }
                    }
                    progress.delivered.insert(url.clone(), w.id);
                    if let Err(e) = progress.save(&path) {
                        // Delivered, not remembered: a restart posts it again (same key).
                        tracing::error!(path = %path.display(), error = %e, "cannot write webhook progress");
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_rfc4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn progress_survives_a_save_and_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(PROGRESS_FILE);
        assert_eq!(Progress::load(&path), Progress::default());
        let mut p = Progress {
            version: 1,
            ..Progress::default()
        };
        p.delivered.insert("http://127.0.0.1:9/hook".into(), 7);
        p.save(&path).expect("save");
        assert_eq!(Progress::load(&path), p);
    }
}
