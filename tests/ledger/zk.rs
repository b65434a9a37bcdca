//! The zk routes of a real `portledger`: without a prover they say so by
//! name; with `--zk-prover K` the node serves its verifying key (seeded,
//! devnet-unsafe) and refuses malformed disclosure requests by name; a path
//! policy reads `merkle` until an operator sets one.

use crate::support::ledger::{get_json, post_json, Ledger};
use light_clients::any::FamilyName;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zk_routes_answer_or_refuse_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cosco = Ledger::start(FamilyName::Cosco, "cosco-1", dir.path()).await;
    let port = cosco.port;

    let (status, body) = get_json(port, "/v1/zk/key").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("no_prover")));
    let request =
        json!({"version": 1, "proof_height": 1, "packets": [], "policy": {"mode": "merkle"}});
    let (status, body) = post_json(port, "/v1/zk/disclose", None, &request).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("no_prover")));

    let (status, body) = get_json(port, "/v1/zk/paths/cmport-1/payment").await;
    assert_eq!(status, 200);
    assert_eq!(body["policy"], json!({"mode": "merkle"}));
    assert_eq!(body["key_registered"], false);
    let (status, body) = get_json(port, "/v1/zk/paths/CMPORT!/payment").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("chain_id")));
    let (status, body) = get_json(port, "/v1/zk/paths/cmport-1/coffee").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("app")));

    // Restarted with a prover of one record per proof (depth 16, the default).
    cosco.stop();
    cosco.args = vec!["--zk-prover".into(), "1".into()];
    cosco.spawn().await;
    let (status, body) = get_json(port, "/v1/zk/key").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["depth"], &body["records"], &body["width"]),
        (&json!(16), &json!(1), &json!(8))
    );
    assert_eq!(body["devnet_unsafe"], true);
    let key = hex::decode(body["key"].as_str().expect("key hex")).expect("hex");
    let vk = circuits::groth16::vk_from_bytes(&key).expect("a valid verifying key");
    assert_eq!(vk.params.records, 1);

    let packet = json!({"channel": {"source": "cosco-1", "destination": "cmport-1", "app": "payment"}, "sequence": 1});
    let groth16 = json!({"mode": "groth16", "kinds": {}});
    let cases = [
        (
            json!({"version": 9, "proof_height": 1, "packets": [packet], "policy": groth16}),
            400,
            "version",
        ),
        (
            json!({"version": 1, "proof_height": 1, "packets": [], "policy": groth16}),
            400,
            "packets",
        ),
        (
            json!({"version": 1, "proof_height": 1, "packets": [packet], "policy": groth16}),
            404,
            "not_found",
        ),
        (
            json!({"version": 1, "proof_height": 99999, "packets": [packet], "policy": groth16}),
            404,
            "not_found",
        ),
    ];
    for (request, want_status, want_code) in cases {
        let (status, body) = post_json(port, "/v1/zk/disclose", None, &request).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (want_status, Some(want_code)),
            "{request}: {body}"
        );
    }
    let (status, _) = post_json(port, "/v1/zk/disclose", None, &json!({"version": 1})).await;
    assert_eq!(status, 422, "a request that is not a DiscloseRequest");
}
