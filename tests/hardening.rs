//! The servers against clients that misbehave, over real processes: a
//! `portledger` and a `portrelay start` hold 50 half-sent requests, drop
//! them after the header timeout, and exit on SIGTERM while clients still
//! hold others; every error is JSON `{code, message}` (404, 405, a bad
//! query string); a key file that is a named pipe or a device is refused by
//! name and leaves `/readyz` answering.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::net::{free_addr, start_relayer, write_config, Net};

/// How long a test waits for something that should happen in seconds.
const GENEROUS: Duration = Duration::from_secs(60);

/// A `portledger` process with extra flags; killed on drop.
struct Portledger {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Portledger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn portledger(flags: &[&str]) -> Portledger {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_portledger"))
        .args([
            "--family",
            "gba",
            "--chain-id",
            "gba-9",
            "--block-time",
            "100ms",
        ])
        .args(flags)
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start portledger");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next().expect("a line").expect("line");
    std::thread::spawn(move || for _ in lines {});
    let addr = line
        .split("listening on http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Portledger {
        child,
        addr,
        _dir: dir,
    }
}

/// Opens `n` connections that each send a request line and part of a header, never its end.
fn half_sent(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| {
            let mut s = TcpStream::connect(addr).expect("connect");
            write!(s, "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow-{i}: ").expect("write");
            s
        })
        .collect()
}

/// Whether the server closed `s` (end of stream or reset), waiting up to
/// [`GENEROUS`]; what it sent first, if anything.
fn closed_by_server(s: &mut TcpStream) -> (bool, Vec<u8>) {
    s.set_read_timeout(Some(GENEROUS)).expect("timeout");
    let mut got = Vec::new();
    let closed = match s.read_to_end(&mut got) {
        Ok(_) => true,
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
        ),
    };
    (closed, got)
}

/// One request on its own connection: status and the body as JSON.
fn request(addr: SocketAddr, raw: &str) -> (u16, serde_json::Value, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(GENEROUS)).expect("timeout");
    s.write_all(raw.as_bytes()).expect("write");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let json = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    (status, json, head.to_ascii_lowercase())
}

fn get(addr: SocketAddr, path: &str) -> (u16, serde_json::Value, String) {
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    )
}

/// The error answers the routes do not write themselves are JSON too.
fn assert_json_errors(addr: SocketAddr, bad_query: Option<&str>) {
    let mut cases = vec![
        (
            "GET /no/such/route HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(),
            404,
            "not_found",
        ),
        (
            "DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(),
            405,
            "method_not_allowed",
        ),
    ];
    if let Some(path) = bad_query {
        cases.push((
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            400,
            "malformed_request",
        ));
    }
    for (raw, status, code) in cases {
        let (got, body, head) = request(addr, &raw);
        assert_eq!(got, status, "{raw:?}: {body}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert_eq!(body["code"], code, "{raw:?}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
}

/// 50 half-sent requests are dropped, each without an answer, while other
/// clients are served.
fn assert_half_sent_dropped(addr: SocketAddr, ready: &str) {
    let mut held = half_sent(addr, 50);
    let (status, _, _) = get(addr, ready);
    assert_eq!(
        status, 200,
        "served while 50 clients hold half-sent requests"
    );
    for s in &mut held {
        let (closed, got) = closed_by_server(s);
        assert!(closed, "a half-sent request still held after {GENEROUS:?}");
        assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    }
}

/// SIGTERM while `held` clients keep half-sent requests open: the process
/// exits anyway (before this, it waited for them for ever); returns how
/// long it took.
fn terminate_while_held(child: &mut Child, addr: SocketAddr) -> Duration {
    let held = half_sent(addr, 50);
    // Each is taken by the server before the signal: a request behind
    // them on a new connection is answered only after they were accepted.
    let (status, _, _) = get(addr, "/healthz");
    assert_eq!(status, 200);
    let sent = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let exit = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            sent.elapsed() < GENEROUS,
            "still running {GENEROUS:?} after SIGTERM with 50 half-sent requests held"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = sent.elapsed();
    assert!(exit.success(), "{exit}");
    drop(held);
    took
}

#[test]
fn a_ledger_drops_half_sent_requests_and_answers_errors_in_json() {
    let ledger = portledger(&["--header-read-timeout", "2s"]);
    assert_json_errors(ledger.addr, Some("/v1/headers/next?after=notanumber"));
    assert_half_sent_dropped(ledger.addr, "/v1/status");
}

#[test]
fn a_ledger_exits_on_sigterm_whatever_clients_hold() {
    let mut ledger = portledger(&[
        "--header-read-timeout",
        "1h",
        "--idle-timeout",
        "1h",
        "--shutdown-timeout",
        "2s",
    ]);
    let took = terminate_while_held(&mut ledger.child, ledger.addr);
    println!("portledger exited {took:?} after SIGTERM (bound 2s)");
}

/// `portrelay start` over the three in-process ledgers, with an API whose
/// limits are `limits` (lines of `[api]`); its address, token and process.
fn relayer(
    net: &Net,
    name: &str,
    limits: &str,
) -> (SocketAddr, String, crate::support::net::Running) {
    let dir = net.dir.path().join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    let token = "0123456789abcdef0123456789abcdef".to_string();
    let token_file = dir.join("api.token");
    std::fs::write(&token_file, &token).expect("token");
    let api = free_addr();
    let chains: Vec<(String, String, Vec<String>)> = net
        .ledgers
        .iter()
        .map(|l| {
            (
                l.family.as_str().to_string(),
                l.chain_id.to_string(),
                vec![format!("http://{}", l.node.addr)],
            )
        })
        .collect();
    let config = write_config(&dir, &net.key_file, &chains, Some((api, Some(&token_file))));
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replacen("[api]\n", &format!("[api]\n{limits}"), 1);
    std::fs::write(&config, text).expect("config");
    let running = start_relayer(&config, &dir.join("relayer.log"));
    let deadline = Instant::now() + GENEROUS;
    loop {
        if let Ok(mut s) = TcpStream::connect(api) {
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut t = String::new();
            if s.read_to_string(&mut t).is_ok() && t.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the relayer's API did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (api, token, running)
}

/// Registers an adapter whose key file is `key_file`: status and body.
fn register(
    api: SocketAddr,
    token: &str,
    chain: &str,
    key_file: &Path,
) -> (u16, serde_json::Value) {
    let adapter = adapters::chain::AdapterConfig::new(
        light_clients::FamilyName::Gba,
        adapters::chain::ChainConfig {
            chain_id: light_clients::ChainId::new(chain).expect("chain id"),
            endpoints: vec!["http://127.0.0.1:9".into()],
            apps: vec![light_clients::App::Cargo],
            trust_root: None,
            rpc: adapters::chain::RpcPolicy::DEVNET,
            engine: adapters::chain::Engine::Embedded,
        },
    );
    let body = serde_json::to_string(&relayer::api::RegisterAdapter {
        adapter,
        key_file: key_file.to_path_buf(),
    })
    .expect("json");
    let (status, json, _) = request(
        api,
        &format!(
            "POST /v1/adapters HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayer_api_drops_slow_clients_refuses_pipes_and_exits_on_sigterm() {
    let net = Net::start().await;
    let checks = {
        let (api, token, running) = relayer(&net, "short", "header_read_timeout = \"2s\"\n");
        let pipes = net.dir.path().join("pipes");
        std::fs::create_dir_all(&pipes).expect("dir");
        let fifo = pipes.join("relayer.key");
        let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(made.success(), "mkfifo");
        tokio::task::spawn_blocking(move || {
            assert_json_errors(api, None);
            // Two registrations at once, as when they froze both runtime
            // threads: a named pipe and an endless device.
            let a = std::thread::spawn({
                let (token, fifo) = (token.clone(), fifo.clone());
                move || register(api, &token, "gba-7", &fifo)
            });
            let b = std::thread::spawn({
                let token = token.clone();
                move || register(api, &token, "gba-8", Path::new("/dev/zero"))
            });
            for (answer, what) in [
                (a.join().expect("thread"), "a named pipe"),
                (b.join().expect("thread"), "a device"),
            ] {
                let (status, body) = answer;
                assert_eq!(status, 400, "{body}");
                assert_eq!(body["code"], "key_file", "{body}");
                let message = body["message"].as_str().expect("message");
                assert!(
                    message.contains(&format!("not a regular file ({what})")),
                    "{message}"
                );
            }
            let (status, body, _) = get(api, "/readyz");
            assert_eq!(status, 200, "/readyz after the refusals: {body}");
            assert_half_sent_dropped(api, "/readyz");
            running
        })
        .await
        .expect("checks")
    };
    drop(checks);
    let (api, _, mut running) = relayer(
        &net,
        "long",
        "header_read_timeout = \"1h\"\nidle_timeout = \"1h\"\nshutdown_timeout = \"2s\"\n",
    );
    let took = tokio::task::spawn_blocking(move || {
        let took = terminate_while_held(running.child_mut(), api);
        drop(running);
        took
    })
    .await
    .expect("terminate");
    println!("portrelay start exited {took:?} after SIGTERM (api shutdown bound 2s)");
    net.shutdown().await;
}
