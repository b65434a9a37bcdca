//! `portrelay receipt`: receipts exported from each family's ledger (a
//! packet it sent, before and after its ack; its receipt of a packet relayed
//! to it), verified offline once every ledger is stopped; tampered bundles
//! fail by the name of the check; facts never committed get no receipt.

use std::path::{Path, PathBuf};
use std::time::Duration;

use light_clients::any::FamilyName;
use light_clients::sample::Signing;
use serde_json::{json, Value};

use crate::support::net::{portrelay, start_relayer, terminate, write_config, Net};

async fn cli(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        portrelay(&args)
    })
    .await
    .expect("portrelay")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

async fn export(
    ledger: &str,
    packet: &str,
    source: Option<&str>,
    root: &Path,
    out: &Path,
) -> (i32, String, String) {
    let mut args = vec![
        "receipt".to_string(),
        "export".into(),
        "--ledger".into(),
        ledger.into(),
        "--packet".into(),
        packet.into(),
        "--trust-root".into(),
        s(root),
        "-o".into(),
        s(out),
    ];
    if let Some(source) = source {
        args.extend(["--source-ledger".to_string(), source.to_string()]);
    }
    cli(args).await
}

/// `portrelay receipt trust-root` of `ledger`'s header at `height`, written to `out`.
async fn trust_root(ledger: &str, height: u64, out: &Path) {
    let (code, stdout, stderr) = cli(vec![
        "receipt".into(),
        "trust-root".into(),
        "--ledger".into(),
        ledger.into(),
        "--height".into(),
        height.to_string(),
        "-o".into(),
        s(out),
    ])
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("hash: "), "{stdout}");
}

async fn exported(ledger: &str, packet: &str, source: Option<&str>, root: &Path, out: &Path) {
    let (code, stdout, stderr) = export(ledger, packet, source, root, out).await;
    assert_eq!(code, 0, "export {packet} from {ledger}: {stdout}{stderr}");
    assert!(stdout.contains("proves: "), "{stdout}");
}

async fn verify(bundle: &Path, root: &Path) -> (i32, String, String) {
    cli(vec![
        "receipt".into(),
        "verify".into(),
        s(bundle),
        "--trust-root".into(),
        s(root),
    ])
    .await
}

/// Verifies and returns stdout, asserting `VALID`.
async fn valid(bundle: &Path, root: &Path) -> String {
    let (code, stdout, stderr) = verify(bundle, root).await;
    assert_eq!(code, 0, "{}: {stdout}{stderr}", bundle.display());
    assert!(stdout.starts_with("VALID\n"), "{stdout}");
    stdout
}

/// Verifies a tampered bundle and asserts `INVALID: <check>` and exit 11.
async fn invalid(bundle: &Path, root: &Path, check: &str, what: &str) {
    let (code, stdout, stderr) = verify(bundle, root).await;
    assert_eq!(code, 11, "{what}: {stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!("INVALID: {check}: ")),
        "{what}: expected INVALID: {check}, got {stdout}"
    );
}

fn tamper(bundle: &Path, out: &Path, change: impl FnOnce(&mut Value)) -> PathBuf {
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(bundle).expect("bundle")).expect("json");
    change(&mut v);
    std::fs::write(out, serde_json::to_vec_pretty(&v).expect("json")).expect("write");
    out.to_path_buf()
}

fn flip(v: &mut Value, pointer: &str) {
    let s = v
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"));
    let mut chars: Vec<char> = s.as_str().expect("a string").chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == '1' { '2' } else { '1' };
    *s = Value::String(chars.into_iter().collect());
}

fn signature_path(family: FamilyName) -> &'static str {
    match family {
        FamilyName::Cmport => "/headers/0/value/signed_header/signatures/0/signature",
        FamilyName::Cosco => "/headers/0/value/signed_header/seals/0/signature",
        FamilyName::Gba => "/headers/0/value/signed_header/commit/signatures/0/signature",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_of_every_family_verify_offline_and_tampering_fails_by_name() {
    let net = Net::start().await;
    // The verifier's files outlive the ledgers' directory.
    let files = tempfile::tempdir().expect("tempdir");
    let dir = files.path().to_path_buf();
    let n = net.ledgers.len();
    let url = |i: usize| format!("http://{}", net.ledgers[i].node.addr);
    let chain = |i: usize| net.ledgers[i].chain_id.to_string();

    // Each verifier's trust root: the ledger's header now, before any packet.
    let mut roots = Vec::new();
    for (i, l) in net.ledgers.iter().enumerate() {
        let height = l.adapter.status().await.expect("status").height;
        let root = dir.join(format!("root-{}.json", l.chain_id));
        trust_root(&url(i), height, &root).await;
        roots.push(root);
    }

    // One packet on every channel (sequence 1 each), none relayed yet.
    assert_eq!(
        portrelay::cmd::devnet::run_workload(&net.ledgers, 18, 11, 0, 3600)
            .await
            .expect("workload"),
        18
    );
    // A packet each ledger sent, awaiting its ack: the ledger locates it.
    let sent = |i: usize| format!("{}/{}/cargo/1", chain(i), chain((i + 1) % n));
    for (i, root) in roots.iter().enumerate() {
        let out = dir.join(format!("sent-before-{}.json", chain(i)));
        exported(&url(i), &sent(i), None, root, &out).await;
    }
    // Not yet received anywhere: no receipt of it can be made.
    let (code, _, stderr) = export(
        &url(1),
        &sent(0),
        Some(&url(0)),
        &roots[1],
        &dir.join("none.json"),
    )
    .await;
    assert_ne!(code, 0);
    assert!(stderr.contains("never received"), "{stderr}");

    // Relay everything; then the sent packets are acknowledged (found by
    // binary search over the channel's sequences) and each ledger holds
    // its receipt of the packet from the one before it.
    let chains: Vec<(String, String, Vec<String>)> = net
        .ledgers
        .iter()
        .enumerate()
        .map(|(i, l)| (l.family.to_string(), l.chain_id.to_string(), vec![url(i)]))
        .collect();
    let config = write_config(net.dir.path(), &net.key_file, &chains, None);
    let relayer = start_relayer(&config, &net.dir.path().join("relayer.log"));
    net.settle(18, Duration::from_secs(180)).await;
    assert!(terminate(relayer).success());
    let received = |i: usize| format!("{}->{}/cargo#1", chain((i + n - 1) % n), chain(i));
    for (i, root) in roots.iter().enumerate() {
        exported(
            &url(i),
            &sent(i),
            None,
            root,
            &dir.join(format!("sent-after-{}.json", chain(i))),
        )
        .await;
        exported(
            &url(i),
            &received(i),
            Some(&url((i + n - 1) % n)),
            root,
            &dir.join(format!("received-{}.json", chain(i))),
        )
        .await;
    }

    // A verifier whose trust root is newer than the fact: the receipt
    // carries every header back from the root, linked by hash.
    let mut newer_roots = Vec::new();
    for (i, l) in net.ledgers.iter().enumerate() {
        let height = l.adapter.status().await.expect("status").height;
        let root = dir.join(format!("newer-root-{}.json", l.chain_id));
        trust_root(&url(i), height, &root).await;
        exported(
            &url(i),
            &sent(i),
            None,
            &root,
            &dir.join(format!("backward-{}.json", chain(i))),
        )
        .await;
        newer_roots.push(root);
    }

    // Facts never committed: no receipt, and the refusal says why.
    let never = format!("{}/{}/cargo/99", chain(0), chain(1));
    let (code, _, stderr) = export(&url(0), &never, None, &roots[0], &dir.join("x.json")).await;
    assert_ne!(code, 0);
    assert!(stderr.contains("never sent packet"), "{stderr}");
    assert!(!dir.join("x.json").exists(), "nothing written");
    let (code, _, stderr) = export(
        &url(1),
        &never,
        Some(&url(0)),
        &roots[1],
        &dir.join("x.json"),
    )
    .await;
    assert_ne!(code, 0);
    assert!(stderr.contains("never received"), "{stderr}");
    let (code, _, stderr) =
        export(&url(1), &received(1), None, &roots[1], &dir.join("x.json")).await;
    assert_ne!(code, 0);
    assert!(stderr.contains("--source-ledger"), "{stderr}");
    let (code, _, stderr) = export(&url(1), &sent(0), None, &roots[0], &dir.join("x.json")).await;
    assert_ne!(code, 0, "a ledger that is not the root's chain: {stderr}");
    assert!(!dir.join("x.json").exists(), "nothing written");

    // Offline: every ledger stopped, the receipts still verify.
    let families: Vec<FamilyName> = net.ledgers.iter().map(|l| l.family).collect();
    let chain_ids: Vec<String> = (0..n).map(chain).collect();
    net.shutdown().await;
    for i in 0..n {
        let c = &chain_ids[i];
        for name in ["sent-before", "sent-after"] {
            let out = valid(&dir.join(format!("{name}-{c}.json")), &roots[i]).await;
            assert!(
                out.contains(&format!("chain: {c} ({})", families[i])),
                "{out}"
            );
            assert!(
                out.contains(&format!(
                    "fact: packet {c}->{}/cargo#1",
                    chain_ids[(i + 1) % n]
                )),
                "{out}"
            );
            assert!(out.contains("\nevent: "), "the payload's event: {out}");
            assert!(out.contains("\ntime: "), "{out}");
        }
        let out = valid(&dir.join(format!("received-{c}.json")), &roots[i]).await;
        assert!(
            out.contains(&format!(
                "fact: receipt of packet {}->{c}/cargo#1 from {}, acknowledged ok",
                chain_ids[(i + n - 1) % n],
                chain_ids[(i + n - 1) % n]
            )),
            "{out}"
        );
    }

    for (i, root) in newer_roots.iter().enumerate() {
        let c = &chain_ids[i];
        let bundle = dir.join(format!("backward-{c}.json"));
        let out = valid(&bundle, root).await;
        assert!(out.contains("linked by hash"), "{out}");
        assert!(
            out.contains(&format!(
                "fact: packet {c}->{}/cargo#1",
                chain_ids[(i + 1) % n]
            )),
            "{out}"
        );
        let field = if families[i] == FamilyName::Gba {
            "app_hash"
        } else {
            "zk_root"
        };
        invalid(
            &tamper(&bundle, &dir.join(format!("t-{c}-link.json")), |v| {
                flip(v, &format!("/headers/0/value/signed_header/header/{field}"));
            }),
            root,
            "header_chain",
            "a broken hash link",
        )
        .await;
    }

    // Every field tampered in turn fails by name, for each family.
    for i in 0..n {
        let c = &chain_ids[i];
        let family = families[i];
        let root = &roots[i];
        let sent_bundle = dir.join(format!("sent-after-{c}.json"));
        let recv_bundle = dir.join(format!("received-{c}.json"));
        let t = |name: &str| dir.join(format!("t-{c}-{name}.json"));
        invalid(
            &tamper(&sent_bundle, &t("payload"), |v| {
                flip(v, "/fact/packet/payload")
            }),
            root,
            "merkle_proof",
            "payload byte",
        )
        .await;
        invalid(
            &tamper(&recv_bundle, &t("relayed-payload"), |v| {
                flip(v, "/fact/packet/payload")
            }),
            root,
            "fact_mismatch",
            "payload byte of a relayed packet",
        )
        .await;
        invalid(
            &tamper(&sent_bundle, &t("leaf"), |v| {
                let i = v["location"]["leaf_index"].as_u64().unwrap();
                v["location"]["leaf_index"] = json!(i + 1);
            }),
            root,
            "merkle_proof",
            "leaf index",
        )
        .await;
        let has_sibling = serde_json::from_slice::<Value>(&std::fs::read(&sent_bundle).unwrap())
            .unwrap()["proof"]["siblings"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        assert!(
            has_sibling,
            "{c}: a block of several events has an audit path"
        );
        invalid(
            &tamper(&sent_bundle, &t("sibling"), |v| {
                flip(v, "/proof/siblings/0")
            }),
            root,
            "merkle_proof",
            "sibling",
        )
        .await;
        if family.roots_opening() {
            invalid(
                &tamper(&sent_bundle, &t("opening"), |v| {
                    flip(v, "/proof/opening/events/root")
                }),
                root,
                "app_hash",
                "opening",
            )
            .await;
        } else {
            invalid(
                &tamper(&sent_bundle, &t("opening"), |v| {
                    v["proof"]["opening"] = v["proof"].clone();
                }),
                root,
                "format",
                "an opening that is not roots",
            )
            .await;
        }
        invalid(
            &tamper(&sent_bundle, &t("signature"), |v| {
                flip(v, signature_path(family))
            }),
            root,
            "signature",
            "signature",
        )
        .await;
        let foreign = light_clients::with_family!(family, F => {
            serde_json::to_value(F::validator_set(&light_clients::sample::keys::<F>(99, 4)))
                .unwrap()
        });
        invalid(
            &tamper(&sent_bundle, &t("validators"), |v| {
                v["headers"][0]["value"]["validators"] = foreign.clone()
            }),
            root,
            "validators_hash",
            "validator set",
        )
        .await;
        invalid(
            &tamper(&sent_bundle, &t("header"), |v| {
                let field = if family == FamilyName::Gba {
                    "app_hash"
                } else {
                    "zk_root"
                };
                flip(v, &format!("/headers/0/value/signed_header/header/{field}"));
            }),
            root,
            if family == FamilyName::Gba {
                "commit"
            } else {
                "signature"
            },
            "header field",
        )
        .await;
        invalid(
            &tamper(&sent_bundle, &t("statement"), |v| {
                v["statement"] = json!("container MSKU9070323 was released at Shunde");
            }),
            root,
            "statement",
            "statement",
        )
        .await;
        // The trust root of another ledger.
        let other = &roots[(i + 1) % n];
        let (code, stdout, _) = verify(&sent_bundle, other).await;
        assert_eq!(code, 11, "{stdout}");
        assert!(
            stdout.starts_with("INVALID: family: ") || stdout.starts_with("INVALID: chain_id: "),
            "a root of another ledger: {stdout}"
        );
    }
}
