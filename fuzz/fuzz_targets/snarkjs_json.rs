//! snarkjs JSON keys, proofs and public inputs: read strictly (points on
//! the curve and in the subgroup), and verified, never a panic.
#![no_main]

use circuits::snarkjs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let vk = snarkjs::vk_from_json(text);
    let _ = snarkjs::proof_from_json(text);
    let _ = snarkjs::public_from_json(text);
    if let Ok(vk) = vk {
        // A key that reads back writes the same key.
        let again = snarkjs::vk_from_json(&snarkjs::vk_to_json(&vk)).expect("round trip");
        assert_eq!(again, vk);
    }
});
