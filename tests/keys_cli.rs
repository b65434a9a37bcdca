//! `portrelay light-client header` and `portrelay keys show` against a real
//! ledger: the printed hash is the one a relayer's pin is compared with,
//! the printed key the one the ledger registered; bad input exits 2 by name.

use assert_cmd::Command;
use light_clients::any::FamilyName;
use light_clients::host::{OperatorMsg, RelayerKey};
use serde_json::Value;

use crate::support::ledger::{free_port, get_json, Ledger};

/// Runs `portrelay args` off the async runtime: (exit code, stdout, stderr).
async fn portrelay(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::cargo_bin("portrelay")
            .expect("portrelay")
            .args(&args)
            .output()
            .expect("run portrelay");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_prints_the_hash_a_pin_is_compared_with() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::start(FamilyName::Gba, "gba-1", dir.path()).await;
    ledger
        .wait_for("height 2", || async { ledger.height().await >= 2 })
        .await;
    let endpoint = format!("http://127.0.0.1:{}", ledger.port);
    let args = |json: bool| {
        let mut a: Vec<String> = [
            "light-client",
            "header",
            "--endpoint",
            &endpoint,
            "--height",
            "2",
        ]
        .map(String::from)
        .to_vec();
        if json {
            a.push("--json".into());
        }
        a
    };
    let (code, out, err) = portrelay(args(true)).await;
    assert_eq!(code, 0, "{err}");
    let printed: Value = serde_json::from_str(out.trim()).expect("json");
    // What the relayer's follower compares a pin with (engine.rs, `pin`).
    let header = ledger.adapter.header(2).await.expect("header 2");
    let summary = header.summary().expect("summary");
    assert_eq!(printed["hash"], summary.hash.to_string());
    assert_eq!(printed["height"], 2);
    assert_eq!(printed["family"], "gba");
    assert_eq!(printed["chain_id"], "gba-1");
    assert_eq!(
        printed["validators_hash"],
        summary.validators_hash.to_string()
    );
    // The pin parses as the relayer's config reads `trust_hash`.
    let pinned: light_clients::Hash32 = printed["hash"]
        .as_str()
        .expect("hash")
        .parse()
        .expect("a trust_hash");
    assert_eq!(pinned, summary.hash);

    let (code, out, err) = portrelay(args(false)).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("hash: {}", summary.hash)), "{out}");

    // Nothing listens there: exit 2, naming the endpoint.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let (code, _, err) = portrelay(
        [
            "light-client",
            "header",
            "--endpoint",
            &nowhere,
            "--height",
            "1",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&nowhere) && err.contains("cannot connect"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_show_prints_the_key_the_ledger_registered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::start(FamilyName::Cmport, "cmport-1", dir.path()).await;
    let key = portrelay::cmd::devnet::relayer_key(dir.path()).expect("relayer key");
    ledger
        .operator_tx(OperatorMsg::RegisterRelayer {
            key: RelayerKey(key.verification_key().to_bytes()),
        })
        .await;
    let file = dir.path().join("relayer.key").display().to_string();
    let (code, out, err) = portrelay(vec!["keys".into(), "show".into(), file.clone()]).await;
    assert_eq!(code, 0, "{err}");
    let public = out.trim().to_string();
    assert_eq!(public, hex::encode(key.verification_key().to_bytes()));
    let (status, account) = get_json(ledger.port, &format!("/v1/accounts/{public}")).await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["key"], public.as_str());

    let (code, out, err) =
        portrelay(vec!["keys".into(), "show".into(), file, "--json".into()]).await;
    assert_eq!(code, 0, "{err}");
    let printed: Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(printed["public_key"], public.as_str());

    // Not 64 hex digits: refused by name, and the content is not echoed.
    let bad = dir.path().join("bad.key");
    std::fs::write(&bad, "zz-secret-ish").expect("write");
    let (code, _, err) = portrelay(vec![
        "keys".into(),
        "show".into(),
        bad.display().to_string(),
    ])
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not a key") && !err.contains("secret"),
        "{err}"
    );
}
