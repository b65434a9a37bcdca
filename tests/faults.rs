//! Faults under a running `portrelay start`: a second, conflicting header
//! source (a forked ledger signed by the same validators) and a ledger
//! stopped and started again under the relayer; clients kept from expiring
//! on quiet paths.

use std::time::{Duration, Instant};

use crate::support::net::{
    copy_dir, free_addr, loopback, options, portrelay, start_relayer, terminate, write_config,
    write_config_with, Net,
};
use light_clients::client::Status;
use portrelay::cmd::devnet::{run_workload, start_ledger};
use tokio_util::sync::CancellationToken;

fn chains(net: &Net, extra: Option<(&str, String)>) -> Vec<(String, String, Vec<String>)> {
    net.ledgers
        .iter()
        .map(|l| {
            let mut endpoints = vec![format!("http://{}", l.node.addr)];
            if let Some((chain, endpoint)) = &extra {
                if l.chain_id.as_str() == *chain {
                    endpoints.push(endpoint.clone());
                }
            }
            (l.family.to_string(), l.chain_id.to_string(), endpoints)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_header_source_freezes_every_hosts_client() {
    let mut net = Net::start().await;
    // Fork gba-1: stop it, copy its data and start both copies. From here on
    // the same validators sign two chains: a second endpoint serves the other.
    let stopped = net.stop_ledger("gba-1").await;
    let fork_dir = net.dir.path().join("gba-1-fork");
    copy_dir(&stopped.dir, &fork_dir);
    net.restart(stopped.clone()).await;
    let fork_stop = CancellationToken::new();
    let fork = start_ledger(
        &fork_dir,
        stopped.chain_id.clone(),
        stopped.family,
        &options(net.dir.path()),
        loopback(),
        &fork_stop,
    )
    .await
    .expect("fork");

    let api = free_addr();
    let config = write_config(
        net.dir.path(),
        &net.key_file,
        &chains(&net, Some(("gba-1", format!("http://{}", fork.node.addr)))),
        Some((api, None)),
    );
    let relayer = start_relayer(&config, &net.dir.path().join("relayer.log"));

    // Both other hosts' clients of gba-1 end up frozen by the relayer's evidence.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut frozen = 0;
        for l in net
            .ledgers
            .iter()
            .filter(|l| l.chain_id.as_str() != "gba-1")
        {
            let clients = l.adapter.clients().await.expect("clients");
            let c = clients
                .iter()
                .find(|c| c.chain.as_str() == "gba-1")
                .expect("a client of gba-1");
            if c.status == Status::Frozen {
                assert!(c.frozen.is_some(), "frozen with its evidence");
                frozen += 1;
            }
        }
        if frozen == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "clients not frozen; see {}",
            net.dir.path().join("relayer.log").display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The relayer reports the evidence, where it went, and that it stopped following.
    let api_url = format!("http://{api}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let (code, out, err) = portrelay(&["status", "--json", "--api", &api_url]);
        assert_eq!(code, 0, "{err}");
        let status: serde_json::Value = serde_json::from_str(&out).expect("status JSON");
        let report = &status["chains"]["gba-1"]["follow"]["misbehaviour"][0];
        if report["submitted"]["cmport-1"] == "frozen" && report["submitted"]["cosco-1"] == "frozen"
        {
            break status;
        }
        assert!(Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let follow = &status["chains"]["gba-1"]["follow"];
    assert!(
        follow["frozen"]
            .as_str()
            .is_some_and(|e| e.contains("conflicting headers")),
        "{follow}"
    );
    assert_eq!(
        follow["misbehaviour"][0]["witness"],
        format!("http://{}", fork.node.addr),
        "the endpoint that served the other header"
    );
    assert!(terminate(relayer).success());
    fork_stop.cancel();
    fork.node.wait().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_stopped_and_restarted_under_the_relayer_is_ridden_out() {
    let mut net = Net::start().await;
    let config = write_config(net.dir.path(), &net.key_file, &chains(&net, None), None);
    let relayer = start_relayer(&config, &net.dir.path().join("relayer.log"));
    assert_eq!(
        run_workload(&net.ledgers, 36, 31, 0, 600)
            .await
            .expect("workload"),
        36
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while portrelay::cmd::devnet::check_ledgers(&net.ledgers)
        .await
        .expect("ledgers")
        .received
        < 5
    {
        assert!(Instant::now() < deadline, "nothing moved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // cosco-1 goes away mid-run while packets to and from it are in flight,
    // and comes back on the same address from its data.
    let stopped = net.stop_ledger("cosco-1").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    net.restart(stopped).await;
    assert_eq!(
        run_workload(&net.ledgers, 36, 31, 36, 600)
            .await
            .expect("workload"),
        36
    );
    net.settle(72, Duration::from_secs(180)).await;
    assert!(terminate(relayer).success());
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_clients_are_refreshed_before_their_trusting_period_ends() {
    // Clients trusting a header for 9 s, and no packets at all: only the
    // relayer's refresher can keep them from expiring.
    let net = Net::start_with(portrelay::cmd::devnet::trust_options("9s")).await;
    let heights = |clients: Vec<adapters::wire::ClientInfo>| {
        clients
            .into_iter()
            .map(|c| (c.chain, (c.latest_height, c.status)))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let mut before = Vec::new();
    for l in &net.ledgers {
        before.push(heights(l.adapter.clients().await.expect("clients")));
    }
    let config = write_config_with(
        net.dir.path(),
        &net.key_file,
        &chains(&net, None),
        None,
        "9s",
    );
    let relayer = start_relayer(&config, &net.dir.path().join("relayer.log"));
    // Every client on every ledger moves on, twice (so past one trusting
    // period), and none expires.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = before.clone();
    let mut refreshes = 0usize;
    loop {
        for (i, l) in net.ledgers.iter().enumerate() {
            let now = heights(l.adapter.clients().await.expect("clients"));
            for (chain, (h, status)) in &now {
                assert_eq!(
                    *status,
                    Status::Active,
                    "{} client of {chain} expired",
                    l.chain_id
                );
                if *h > seen[i][chain].0 {
                    refreshes += 1;
                }
            }
            seen[i] = now;
        }
        if refreshes >= 12 {
            break;
        }
        assert!(Instant::now() < deadline, "{refreshes} refreshes: {seen:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(terminate(relayer).success());
    net.shutdown().await;
}

/// The sum of a counter's series whose labels include all of `labels`, read
/// from a relayer's `/metrics`.
fn counter(api: std::net::SocketAddr, name: &str, labels: &[&str]) -> u64 {
    let Some((200, text)) = crate::support::net::http_get(&format!("http://{api}/metrics")) else {
        return 0;
    };
    text.lines()
        .filter(|l| l.starts_with(name) && labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// Starts a stopped ledger of `net` again from its data on its address,
/// with its RPC taking requests of at most `max_body_bytes` and its status
/// not saying so (a ledger older than `max_tx_bytes`, or a proxy in front
/// of it with a smaller limit): the relayer finds the limit by refusals.
async fn restart_limited(net: &mut Net, s: crate::support::net::Stopped, max_body_bytes: usize) {
    let stop = CancellationToken::new();
    let config = devnet::node::NodeConfig {
        chain_id: s.chain_id.clone(),
        family: s.family,
        validators: 4,
        data_dir: s.dir.clone(),
        block_time: Duration::from_millis(100),
        listen: s.addr,
    };
    let options = devnet::node::NodeOptions {
        max_body_bytes,
        advertise_max_tx_bytes: false,
        ..devnet::node::NodeOptions::DEFAULT
    };
    let node = devnet::node::start_with(config, options, stop.clone())
        .await
        .expect("ledger restarted with a small limit");
    let adapter = crate::support::ledger::adapter(
        s.family,
        &s.chain_id,
        vec![format!("http://{}", node.addr)],
    );
    let status = adapter.status().await.expect("status");
    assert_eq!(status.max_tx_bytes, None, "it does not say its limit");
    net.ledgers.insert(
        s.index,
        portrelay::cmd::devnet::DevLedger {
            chain_id: s.chain_id,
            family: s.family,
            dir: s.dir,
            node,
            adapter,
        },
    );
    net.stops.insert(s.index, stop);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_larger_than_the_destination_takes_is_split_and_delivered_exactly_once() {
    let mut net = Net::start().await;
    // cosco-1 takes requests of at most 16 KiB and does not say so: the
    // relayer holds it to the 1 MiB default until refused. A batch of 20
    // jobs with their client updates is several times that; one job with
    // its update fits.
    let stopped = net.stop_ledger("cosco-1").await;
    restart_limited(&mut net, stopped, 16 * 1024).await;
    // A backlog first, so that the relayer's first batches are full ones.
    assert_eq!(
        run_workload(&net.ledgers, 60, 41, 0, 600)
            .await
            .expect("workload"),
        60
    );
    let api = free_addr();
    let config = write_config(
        net.dir.path(),
        &net.key_file,
        &chains(&net, None),
        Some((api, None)),
    );
    let log = net.dir.path().join("relayer.log");
    let relayer = start_relayer(&config, &log);
    net.settle(60, Duration::from_secs(240)).await;
    // It was refused for size, and split: never the same batch again (each
    // refusal halves it and lowers the limit the next ones are held to).
    let refused = counter(
        api,
        "portrelay_submit_errors_total",
        &["destination=\"cosco-1\"", "reason=\"body_too_large\""],
    );
    let text = std::fs::read_to_string(&log).expect("log");
    let halvings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("batch refused as too large; sending it in halves"))
        .collect();
    for l in &halvings {
        eprintln!("{l}");
    }
    let halvings = halvings.len();
    eprintln!("refusals for size: {refused}; logged halvings: {halvings}");
    assert!(
        refused >= 1,
        "no batch was too large: the test proves nothing; see {}",
        log.display()
    );
    assert_eq!(halvings as u64, refused, "every refusal halved its batch");
    assert!(
        refused <= 8,
        "{refused} refusals: batches were resent too large"
    );
    // Nothing parked: every job fit alone.
    let api_url = format!("http://{api}");
    let (code, out, err) = portrelay(&["packets", "parked", "--api", &api_url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("0 parked jobs"), "{out}");

    // A limit too small for any job alone (a packet and its proof with the
    // header it needs), though large enough for an event: the next packets
    // to cosco-1 are parked with the reason, for the operator to see.
    let stopped = net.stop_ledger("cosco-1").await;
    restart_limited(&mut net, stopped, 4096).await;
    assert_eq!(
        run_workload(&net.ledgers, 18, 41, 60, 600)
            .await
            .expect("workload"),
        18
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (code, out, err) = portrelay(&["packets", "parked", "--api", &api_url]);
        assert_eq!(code, 0, "{err}");
        if out.contains("too large for cosco-1") {
            assert!(
                out.lines()
                    .skip(1)
                    .all(|l| l.contains("too large for cosco-1: its transaction takes")),
                "{out}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nothing parked as too large: {out}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(terminate(relayer).success());
    net.shutdown().await;
}
