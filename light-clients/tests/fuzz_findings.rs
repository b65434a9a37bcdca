//! Inputs the fuzzers found, kept as regression tests: each must be
//! refused (or accepted) without a panic.

use light_clients::client::TrustRoot;
use light_clients::{gba, Family, UntrustedBlock};

/// A gba block file whose base64 once reached an integer overflow inside
/// tendermint's decoder (subtle-encoding): it must be refused by name.
#[test]
fn gba_json_with_bad_base64_is_refused_not_a_panic() {
    let data = include_bytes!("gba-bad-base64.json");
    let outcome = std::panic::catch_unwind(|| {
        let block = light_clients::json::from_slice::<UntrustedBlock<gba::Gba>>(data)
            .map(|b| gba::Gba::summary(&b.signed_header).is_ok());
        let root =
            light_clients::json::from_slice::<TrustRoot<gba::Gba>>(data).map(|r| r.check().is_ok());
        (
            block.map_err(|e| e.check()).err(),
            root.map_err(|e| e.check()).err(),
        )
    });
    let (block, root) = outcome.expect("no panic on fuzzer input");
    assert_eq!(block, Some("malformed_base64"));
    assert_eq!(root, Some("malformed_base64"));
    // The check names the value, and hex or well-padded base64 pass it.
    let e = light_clients::json::check_unique_keys(br#"{"pub_key":{"value":"AAAA="}}"#)
        .expect_err("refused");
    assert!(e.to_string().contains("AAAA="), "{e}");
    for fine in [
        r#"{"signature":"AAAA"}"#,
        r#"{"signature":"AA=="}"#,
        r#"{"value":"0a1b"}"#,
        r#"{"note":"x="}"#,
    ] {
        assert!(
            light_clients::json::check_unique_keys(fine.as_bytes()).is_ok(),
            "{fine}"
        );
    }
}
