//! What ops teams and analysts see of a running `portrelay devnet` (a real
//! process): the API's refusals, `/readyz`, `/metrics` moving as packets
//! flow and holding every metric the shipped dashboards and alert rules
//! use, and the status page, rendered by headless Chromium.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// `portrelay devnet` running until stopped, and where its API is.
struct Devnet {
    /// Taken at the end; killed on drop if the test failed before.
    child: Option<Child>,
    api: String,
    /// The ledgers' RPC addresses (`http://...`).
    ledgers: Vec<String>,
    token: String,
    dir: tempfile::TempDir,
}

fn start_devnet() -> Devnet {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_portrelay"))
        .args(["devnet", "--block-time", "100ms", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("portrelay devnet");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut api = None;
    let mut ledgers = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        // "cmport-1  (cmport) http://127.0.0.1:PORT  data ..."
        if line.contains(") http://") {
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                ledgers.push(url.to_string());
            }
        }
        if let Some(rest) = line.split("metrics http://").nth(1) {
            api = rest.split('/').next().map(|a| format!("http://{a}"));
            break;
        }
    }
    // Keep reading its output so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let api = api.expect("devnet printed where its metrics are");
    let token = std::fs::read_to_string(dir.path().join("api.token"))
        .expect("the devnet's API token")
        .trim()
        .to_string();
    assert_eq!(ledgers.len(), 3, "the devnet printed its three ledgers");
    Devnet {
        child: Some(child),
        api,
        ledgers,
        token,
        dir,
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

async fn request(method: Method, url: &str, token: Option<&str>, body: Vec<u8>) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if !body.is_empty() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(Full::new(Bytes::from(body))).expect("request");
    let response = client.request(req).await.expect("an answer");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The value of a counter summed over its series (0 when absent).
fn total(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Metric names (`portrelay_...`) a dashboard or rule file uses, without
/// the histogram suffixes.
fn used_metrics(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("portrelay_") {
        let start = i + at;
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        let mut name = &text[start..end];
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                name = base;
            }
        }
        out.insert(name.to_string());
        i = end;
    }
    out
}

fn deploy_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("deploy/") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "json")
                && p.to_string_lossy().contains("dashboards")
                || p.file_name().is_some_and(|n| n == "alerts.yml")
            {
                files.push(p);
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_metrics_and_status_page_of_a_running_devnet() {
    let devnet = start_devnet();
    let api = devnet.api.clone();
    let token = devnet.token.as_str();

    // Refusals: no token or a wrong one is 401, RFC 6750 style.
    let (status, body) = request(
        Method::POST,
        &format!("{api}/v1/packets/retry"),
        None,
        vec![],
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("invalid_token"), "{body}");
    let (status, _) = request(
        Method::POST,
        &format!("{api}/v1/packets/retry"),
        Some("0000000000000000wrong"),
        vec![],
    )
    .await;
    assert_eq!(status, 401);
    // An oversized body is 413; malformed JSON is 400 with a JSON error.
    let (status, body) = request(
        Method::POST,
        &format!("{api}/v1/adapters"),
        Some(token),
        vec![b' '; 200 * 1024],
    )
    .await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = request(
        Method::POST,
        &format!("{api}/v1/packets/clear"),
        Some(token),
        b"{\"source\":".to_vec(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).expect("a JSON error");
    assert_eq!(error["code"], "malformed_request", "{body}");
    // An unknown packet is 404.
    let (status, body) = request(
        Method::GET,
        &format!("{api}/v1/packets/cmport-1/cosco-1/cargo/999999999"),
        None,
        vec![],
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("unknown_packet"), "{body}");

    // Ready, and the counters move as packets flow.
    let deadline = Instant::now() + Duration::from_secs(120);
    let first = loop {
        let (_, metrics) = request(Method::GET, &format!("{api}/metrics"), None, vec![]).await;
        if total(&metrics, "portrelay_acks_relayed_total") >= 36.0 {
            break metrics;
        }
        assert!(Instant::now() < deadline, "no packets moved:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (status, body) = request(Method::GET, &format!("{api}/readyz"), None, vec![]).await;
    assert_eq!((status, body.as_str()), (200, "ready"));
    let later = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, metrics) = request(Method::GET, &format!("{api}/metrics"), None, vec![]).await;
        if total(&metrics, "portrelay_packets_relayed_total")
            > total(&first, "portrelay_packets_relayed_total")
            && total(&metrics, "portrelay_acks_relayed_total")
                > total(&first, "portrelay_acks_relayed_total")
        {
            break metrics;
        }
        assert!(Instant::now() < deadline, "the counters did not move");
    };
    assert!(
        total(&later, "portrelay_cargo_events_total") > 0.0,
        "{later}"
    );
    assert!(
        total(&later, "portrelay_payment_volume_minor_total") > 0.0,
        "{later}"
    );
    assert_eq!(total(&later, "portrelay_ready"), 1.0, "{later}");

    // Every metric a shipped dashboard panel or alert rule uses is on the
    // relayer's page or the ledgers'.
    let mut exposed = later.clone();
    for ledger in &devnet.ledgers {
        let (status, text) = request(Method::GET, &format!("{ledger}/metrics"), None, vec![]).await;
        assert_eq!(status, 200, "{ledger}/metrics");
        assert!(total(&text, "portrelay_ledger_height") > 0.0, "{text}");
        exposed.push_str(&text);
    }
    let files = deploy_files();
    assert!(
        files.len() >= 3,
        "the dashboards and alert rules of deploy/: {files:?}"
    );
    let mut missing = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("deploy file");
        for name in used_metrics(&text) {
            let present = exposed.lines().any(|l| {
                l.starts_with(&name)
                    && l[name.len()..].starts_with(['{', ' ', '_'])
                    && !l.starts_with('#')
            });
            if !present {
                missing.push(format!("{}: {name}", file.display()));
            }
        }
    }
    assert!(missing.is_empty(), "not in /metrics: {missing:#?}");

    // The status page, as a browser renders it.
    let (status, page) = request(Method::GET, &format!("{api}/"), None, vec![]).await;
    assert_eq!(status, 200);
    for needle in [
        "id=\"networks\"",
        "cmport-1",
        "cosco-1",
        "gba-1",
        "cmport-1 &rarr; cosco-1",
        "id=\"clients\"",
        "id=\"recent\"",
    ] {
        assert!(page.contains(needle), "{needle} not in the page");
    }
    check_in_chromium(&format!("{api}/"), devnet.dir.path());

    let _ = Command::new("kill")
        .args([
            "-TERM",
            &devnet.child.as_ref().map_or(0, Child::id).to_string(),
        ])
        .status();
    let mut devnet = devnet;
    let mut child = devnet.child.take().expect("the devnet process");
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status:?}");
}

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output() {
            if out.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            }
        }
    }
    panic!(
        "no headless browser: install Debian's chromium package (apt-get install -y chromium); .ci/run does"
    );
}

/// Renders the page in headless Chromium: the DOM holds the networks and
/// paths, the screenshot is a real picture (not blank), and the browser
/// logged no console error.
fn check_in_chromium(url: &str, dir: &Path) {
    let browser = chromium();
    let profile = dir.join("chromium-profile");
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let dom = Command::new(&browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium --dump-dom");
    let html = String::from_utf8_lossy(&dom.stdout);
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(
        html.contains("<table id=\"paths\""),
        "the rendered DOM:\n{html}\n{log}"
    );
    assert!(
        html.matches("class=\"path\"").count() == 6,
        "six directed paths in the rendered page:\n{html}"
    );
    assert!(
        !log.lines()
            .any(|l| l.contains("CONSOLE") && l.to_lowercase().contains("error")),
        "console errors:\n{log}"
    );
    let shot = dir.join("status.png");
    let out = Command::new(&browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--window-size=1280,1000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(url)
        .output()
        .expect("chromium --screenshot");
    let bytes = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    assert_eq!((info.width, info.height), (1280, 1000));
    let pixels = &pixels[..info.buffer_size()];
    // Text and tables on a light background: many distinct colours, mostly light.
    let step = info.color_type.samples();
    let mut distinct = std::collections::BTreeSet::new();
    let mut dark = 0usize;
    for px in pixels.chunks(step) {
        distinct.insert(px[..3.min(step)].to_vec());
        if px.iter().take(3).map(|v| u32::from(*v)).sum::<u32>() < 200 {
            dark += 1;
        }
    }
    let n = pixels.len() / step;
    assert!(
        distinct.len() > 20,
        "a blank screenshot ({} colours)",
        distinct.len()
    );
    assert!(
        dark > 100 && dark < n / 2,
        "text on a light page: {dark} dark pixels of {n}"
    );
}
