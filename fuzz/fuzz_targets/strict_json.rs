//! The repeated-key check agrees with serde_json: what it accepts is JSON,
//! and JSON it refuses has a repeated key, or a `value` or `signature`
//! string that is not well-formed base64 (refused on purpose: tendermint's
//! decoder panics on some of them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use light_clients::json::{check_unique_keys, JsonError};

fuzz_target!(|data: &[u8]| {
    let lenient = serde_json::from_slice::<serde_json::Value>(data);
    match check_unique_keys(data) {
        Ok(()) => assert!(lenient.is_ok(), "accepted what serde_json refuses"),
        Err(JsonError::DuplicateKey { .. }) => assert!(lenient.is_ok()),
        Err(JsonError::MalformedBase64 { .. }) => {
            assert!(lenient.is_ok(), "malformed base64 named in text that is not JSON");
            assert!(data.contains(&b'='), "base64 refused without an '=' in the text");
        }
        Err(_) => assert!(lenient.is_err(), "refused JSON without a repeated key"),
    }
});
