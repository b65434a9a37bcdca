//! The operators' commands against a running `portrelay start`, through its
//! HTTP API: status, bearer-token checks, registering an adapter that the
//! relayer follows without a restart (and keeps across one), packet traces,
//! clear, retry and remove.

use std::time::{Duration, Instant};

use crate::support::net::{free_addr, portrelay, start_relayer, terminate, write_config, Net};
use portrelay::cmd::devnet::run_workload;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_drive_a_running_relayer_through_its_api() {
    let net = Net::start().await;
    let token_file = net.dir.path().join("api.token");
    std::fs::write(&token_file, "0123456789abcdef0123456789abcdef\n").expect("token");
    let wrong_token = net.dir.path().join("wrong.token");
    std::fs::write(&wrong_token, "not-the-token-at-all-0000000000").expect("token");
    let api = free_addr();
    let api_url = format!("http://{api}");
    // The file names two chains; gba-1 comes by registration.
    let file_chains: Vec<(String, String, Vec<String>)> = net
        .ledgers
        .iter()
        .filter(|l| l.chain_id.as_str() != "gba-1")
        .map(|l| {
            (
                l.family.to_string(),
                l.chain_id.to_string(),
                vec![format!("http://{}", l.node.addr)],
            )
        })
        .collect();
    let config = write_config(
        net.dir.path(),
        &net.key_file,
        &file_chains,
        Some((api, Some(&token_file))),
    );
    let log = net.dir.path().join("relayer.log");
    let mut relayer = start_relayer(&config, &log);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let (code, out, err) = portrelay(&["status", "--api", &api_url]);
        if code == 0 {
            break out;
        }
        assert!(Instant::now() < deadline, "API never answered: {err}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        status.contains("cmport-1") && status.contains("cosco-1"),
        "{status}"
    );
    assert!(
        !status.lines().any(|l| l.starts_with("gba-1")),
        "gba-1 is not relayed yet: {status}"
    );

    // Changing anything needs the token: none, or a wrong one, is 401.
    let token = token_file.to_str().expect("path");
    let gba = &net.ledgers[net.index("gba-1")];
    let gba_endpoint = format!("http://{}", gba.node.addr);
    let key = net.key_file.to_str().expect("path");
    let register = |token: Option<&str>| {
        let mut args = vec![
            "adapters",
            "register",
            "--family",
            "gba",
            "--chain-id",
            "gba-1",
            "--endpoint",
            &gba_endpoint,
            "--key-file",
            key,
            "--api",
            &api_url,
        ];
        if let Some(t) = token {
            args.extend(["--token-file", t]);
        }
        portrelay(&args)
    };
    let (code, _, err) = register(None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("401 invalid_token"), "{err}");
    let (code, _, err) = register(Some(wrong_token.to_str().expect("path")));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("401 invalid_token"), "{err}");
    let (code, _, err) = portrelay(&["packets", "retry", "--api", &api_url]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("401"), "{err}");

    // Registered with the token: followed at once, no restart.
    let (code, out, err) = register(Some(token));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("registered gba-1"), "{out}");
    let (code, _, err) = register(Some(token));
    assert_eq!(code, 1, "registered twice: {err}");
    assert!(err.contains("409 adapter_exists"), "{err}");
    assert_eq!(
        run_workload(&net.ledgers, 36, 41, 0, 600)
            .await
            .expect("workload"),
        36
    );
    net.settle(36, Duration::from_secs(180)).await;

    // Every ledger's clients of the others, as the status reports them.
    let (code, out, err) = portrelay(&["status", "--json", "--api", &api_url]);
    assert_eq!(code, 0, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).expect("status JSON");
    let clients = status["clients"].as_array().expect("clients");
    assert_eq!(clients.len(), 6, "{out}");
    assert!(clients.iter().all(|c| c["status"] == "active"), "{out}");

    // Where a packet is: every path, gba-1 included.
    let (code, out, err) = portrelay(&[
        "packets", "trace", "cmport-1", "gba-1", "cargo", "1", "--api", &api_url,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("cmport-1/gba-1/cargo#1: acked") || out.contains(": acked"),
        "{out}"
    );
    assert!(out.contains("received    at height"), "{out}");
    let (code, _, err) = portrelay(&[
        "packets", "trace", "cmport-1", "gba-1", "cargo", "999", "--api", &api_url,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("404 unknown_packet"), "{err}");
    let (code, out, err) = portrelay(&[
        "packets",
        "clear",
        "--source",
        "cmport-1",
        "--api",
        &api_url,
        "--token-file",
        token,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "re-queued 0 jobs", "nothing is missing");
    let (code, out, err) =
        portrelay(&["packets", "retry", "--api", &api_url, "--token-file", token]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "re-queued 0 parked jobs");
    let (code, out, _) = portrelay(&["packets", "parked", "--api", &api_url]);
    assert_eq!((code, out.trim()), (0, "0 parked jobs"));

    // The registration is kept across a restart.
    assert!(terminate(relayer).success());
    relayer = start_relayer(&config, &log);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, out, _) = portrelay(&["adapters", "list", "--api", &api_url]);
        if code == 0 {
            let line = out
                .lines()
                .find(|l| l.starts_with("gba-1"))
                .unwrap_or_default();
            assert!(
                line.contains("registered") && !line.contains("not running"),
                "{out}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "API never answered after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        run_workload(&net.ledgers, 18, 41, 36, 600)
            .await
            .expect("workload"),
        18
    );
    net.settle(54, Duration::from_secs(180)).await;

    // Removed: no longer relayed, and gone from the list; removing again is 404.
    let (code, _, err) = portrelay(&[
        "adapters",
        "remove",
        "gba-1",
        "--api",
        &api_url,
        "--token-file",
        token,
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = portrelay(&["adapters", "list", "--api", &api_url]);
    assert!(!out.contains("gba-1"), "{out}");
    let (code, _, err) = portrelay(&[
        "adapters",
        "remove",
        "gba-1",
        "--api",
        &api_url,
        "--token-file",
        token,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("404 unknown_adapter"), "{err}");
    let (code, _, err) = portrelay(&[
        "adapters",
        "remove",
        "cmport-1",
        "--api",
        &api_url,
        "--token-file",
        token,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("409 configured_chain"), "{err}");
    assert!(terminate(relayer).success());
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledgers_run_apart_are_connected_by_their_operators_command() {
    let net = Net::start_apart().await;
    let chains: Vec<(String, String, Vec<String>)> = net
        .ledgers
        .iter()
        .map(|l| {
            (
                l.family.to_string(),
                l.chain_id.to_string(),
                vec![format!("http://{}", l.node.addr)],
            )
        })
        .collect();
    let config = write_config(net.dir.path(), &net.key_file, &chains, None);
    let dirs: Vec<String> = net
        .ledgers
        .iter()
        .map(|l| format!("{}={}", l.chain_id, l.dir.display()))
        .collect();
    let mut args = vec![
        "operator",
        "connect",
        "--config",
        config.to_str().expect("path"),
    ];
    for d in &dirs {
        args.extend(["--ledger-dir", d.as_str()]);
    }
    let (code, out, err) = portrelay(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "connected 3 ledgers: clients of each other, the relayer's keys, 18 channels, 6 eBL platform keys"
    );
    // Again: nothing changes, nothing fails.
    let (code, _, err) = portrelay(&args);
    assert_eq!(code, 0, "{err}");
    // A chain without its data directory is named.
    let (code, _, err) = portrelay(&args[..args.len() - 2]);
    assert_eq!(code, 2);
    assert!(err.contains("no data directory given for gba-1"), "{err}");

    let relayer = start_relayer(&config, &net.dir.path().join("relayer.log"));
    assert_eq!(
        run_workload(&net.ledgers, 36, 51, 0, 600)
            .await
            .expect("workload"),
        36
    );
    net.settle(36, Duration::from_secs(180)).await;
    assert!(terminate(relayer).success());
    net.shutdown().await;
}
