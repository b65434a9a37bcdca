//! The servers against clients that misbehave, over real processes: a
//! `portledger` and a `portrelay start` hold 50 half-sent requests, drop
//! them after the header timeout, and exit on SIGTERM while clients still
//! hold others; every error is JSON `{code, message}` (404, 405, a bad
//! query string); a key file that is a named pipe or a device is refused by
//! name and leaves `/readyz` answering; a ledger whose answers carry a
//! field the wire format does not have is refused by that field's name and
//! the relayer keeps running.

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

/// A ledger that answers `GET /v1/status` with a status carrying a field
/// the wire format does not have, and 404 to anything else; its base URL.
fn ledger_with_a_surprise() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut status = serde_json::to_value(adapters::wire::NodeStatus {
        version: adapters::wire::WIRE_VERSION,
        chain_id: light_clients::ChainId::new("gba-9").expect("chain id"),
        family: light_clients::FamilyName::Gba,
        height: 5,
        time: light_clients::Timestamp::from_unix_secs(1_800_000_000),
        operator: light_clients::host::RelayerKey([7; 32]),
        validators: 4,
        ebl_platform: light_clients::host::RelayerKey([2; 32]),
        max_tx_bytes: None,
    })
    .expect("json");
    status["surprise"] = true.into();
    let status = status.to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let status = status.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match s.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let (code, body) = if head.starts_with("GET /v1/status ") {
                    ("200 OK", status)
                } else {
                    (
                        "404 Not Found",
                        r#"{"code":"not_found","message":"no such route"}"#.to_string(),
                    )
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {code}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_ledger_answer_with_an_unknown_field_is_refused_by_name_and_the_relayer_runs_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("relayer.key");
    std::fs::write(&key_file, format!("{}\n", "01".repeat(32))).expect("key");
    let api = free_addr();
    // A relay needs two chains: both at the same ledger, whose every
    // status is refused before its chain id is looked at.
    let url = ledger_with_a_surprise();
    let chains = vec![
        ("gba".to_string(), "gba-9".to_string(), vec![url.clone()]),
        ("cosco".to_string(), "cosco-9".to_string(), vec![url]),
    ];
    let config = write_config(dir.path(), &key_file, &chains, Some((api, None)));
    let mut running = start_relayer(&config, &dir.path().join("relayer.log"));
    let deadline = Instant::now() + GENEROUS;
    // /readyz names the field; the follower's last error names it too.
    let (readyz, follow) = loop {
        let ready = TcpStream::connect(api).ok().map(|_| get(api, "/readyz"));
        let status = ready.as_ref().map(|_| get(api, "/v1/status"));
        if let (Some((503, ready, _)), Some((200, status, _))) = (ready, status) {
            let follow = status["chains"]["gba-9"]["follow"].to_string();
            if follow.contains("surprise") {
                break (ready, follow);
            }
        }
        assert!(
            running.child_mut().try_wait().expect("wait").is_none(),
            "the relayer exited: {}",
            std::fs::read_to_string(dir.path().join("relayer.log")).unwrap_or_default()
        );
        assert!(
            Instant::now() < deadline,
            "no refusal naming the field within {GENEROUS:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(readyz["code"], "not_ready", "{readyz}");
    let message = readyz["message"].as_str().expect("message");
    assert!(message.contains("unknown field `surprise`"), "{message}");
    assert!(follow.contains("unknown field `surprise`"), "{follow}");
    // Still running and serving after the refusals.
    assert!(running.child_mut().try_wait().expect("wait").is_none());
    let (status, _, _) = get(api, "/healthz");
    assert_eq!(status, 200);
}

/// One request from the source address `from` (any of 127.0.0.0/8): its status and body.
async fn request_from(
    from: std::net::IpAddr,
    addr: SocketAddr,
    raw: &str,
) -> (u16, serde_json::Value, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from, 0)).expect("bind");
    let mut s = socket.connect(addr).await.expect("connect");
    s.write_all(raw.as_bytes()).await.expect("write");
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(GENEROUS, s.read_to_end(&mut bytes)).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let json = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    (status, json, head.to_ascii_lowercase())
}

/// A `portledger` limiting writes per client (loopback included): one
/// client's flood of transactions is answered 429 `rate_limited` while
/// another client's transactions and the flooder's reads are still served.
#[tokio::test]
async fn a_flood_of_transactions_from_one_client_is_rate_limited_and_others_are_served() {
    let ledger = portledger(&[
        "--rate-limit-per-second",
        "1",
        "--rate-limit-burst",
        "3",
        "--rate-limit-loopback",
    ]);
    let tx = "POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    let flooder: std::net::IpAddr = "127.0.0.2".parse().expect("ip");
    let other: std::net::IpAddr = "127.0.0.3".parse().expect("ip");
    // At one write a second, 1000 writes cannot all find a token.
    let mut answered = 0;
    let refused = loop {
        let (status, body, head) = request_from(flooder, ledger.addr, tx).await;
        if status == 429 {
            break (body, head);
        }
        answered += 1;
        assert!(answered < 1000, "1000 writes at 1/s were never refused");
    };
    assert!(answered >= 3, "the burst of 3 was answered ({answered})");
    let (body, head) = refused;
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert!(head.contains("retry-after: "), "{head}");
    // The other client's transaction reaches the route (refused there, as
    // `{}` is no transaction, but not rate limited); the flooder still reads.
    let (status, body, _) = request_from(other, ledger.addr, tx).await;
    assert_ne!(status, 429, "{body}");
    assert_ne!(body["code"], "rate_limited", "{body}");
    let get = "GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let (status, body, _) = request_from(flooder, ledger.addr, get).await;
    assert_eq!(status, 200, "{body}");
}
