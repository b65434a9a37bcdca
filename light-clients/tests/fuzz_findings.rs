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

/// A repeated key followed by bytes that are not JSON (the `strict_json`
/// fuzzer's input) was refused as `duplicate_key`: the walk stopped at the
/// repeat and never saw the rest. Text that is not JSON is malformed,
/// whatever it repeats first; a repeat in JSON is still named.
#[test]
fn a_repeated_key_in_text_that_is_not_json_is_malformed() {
    let mut data = br#"{"a":1,"a":2}"#.to_vec();
    data.extend([0xff; 56]);
    let e = light_clients::json::check_unique_keys(&data).expect_err("refused");
    assert_eq!(e.check(), "malformed_json", "{e}");
    assert!(serde_json::from_slice::<serde_json::Value>(&data).is_err());
    for (text, check) in [
        (&br#"{"a":1,"a":2} x"#[..], "malformed_json"),
        (br#"{"a":1,"a":2"#, "malformed_json"),
        (br#"[{"a":1,"a":2},]"#, "malformed_json"),
        (br#"{"a":1,"a":2}"#, "duplicate_key"),
        (br#" {"k":{"a":1,"a":2}} "#, "duplicate_key"),
        (br#"{"value":"AAAA="} x"#, "malformed_json"),
        (br#"{"value":"AAAA="}"#, "malformed_base64"),
    ] {
        let e = light_clients::json::check_unique_keys(text).expect_err("refused");
        assert_eq!(e.check(), check, "{}: {e}", String::from_utf8_lossy(text));
    }
}

/// A gba file whose key has an `=` inside its base64, not only as padding
/// at the end (`...UY=m`): subtle-encoding's length check failed on it, a
/// panic in debug builds. Refused by name.
#[test]
fn gba_json_with_an_equals_sign_inside_base64_is_refused_not_a_panic() {
    let data = include_bytes!("gba-bad-base64-inside.json");
    let outcome = std::panic::catch_unwind(|| {
        light_clients::json::from_slice::<UntrustedBlock<gba::Gba>>(data)
            .map(|b| gba::Gba::summary(&b.signed_header).is_ok())
            .map_err(|e| e.check())
            .err()
    });
    assert_eq!(outcome.expect("no panic"), Some("malformed_base64"));
    let e =
        light_clients::json::check_unique_keys(br#"{"value":"AAAA=A=="}"#).expect_err("refused");
    assert_eq!(e.check(), "malformed_base64");
    assert!(light_clients::json::check_unique_keys(br#"{"value":"AA=="}"#).is_ok());
}

/// The second `strict_json` input: the verdict agrees with serde_json's
/// reading of the text as a `Value` (a repeated key is only named in text
/// serde_json reads).
#[test]
fn the_repeated_key_check_agrees_with_serde_json_on_the_second_input() {
    let data = include_bytes!("strict-json-second.json");
    let lenient = serde_json::from_slice::<serde_json::Value>(data);
    match light_clients::json::check_unique_keys(data) {
        Ok(()) => assert!(lenient.is_ok()),
        Err(light_clients::json::JsonError::DuplicateKey { .. }) => assert!(lenient.is_ok()),
        Err(e) => assert!(lenient.is_err(), "{e}"),
    }
}

/// The `strict_json` fuzzer's first input of session 7: a gba header's JSON,
/// read by serde_json, whose `signature` holds an `=` inside it. The target
/// wrongly expected every refusal of JSON to be a repeated key; the check
/// refuses it, on purpose, as `malformed_base64` (tendermint's decoder
/// panics on such values). The document is JSON and the refusal says
/// which value.
#[test]
fn json_with_an_equals_sign_inside_a_signature_is_malformed_base64_not_malformed_json() {
    let data = include_bytes!("strict_json-malformed-base64-is-json.json");
    assert!(serde_json::from_slice::<serde_json::Value>(data).is_ok());
    let e = light_clients::json::check_unique_keys(data).expect_err("refused");
    assert_eq!(e.check(), "malformed_base64", "{e}");
    assert!(e.to_string().contains("=475cfdec17a63e63"), "{e}");
}
