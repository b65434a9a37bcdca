//! portrelay's Groth16 key and proof bytes: strict readers, never a panic.
#![no_main]

use circuits::groth16;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = groth16::proof_from_bytes(data) {
        assert_eq!(groth16::proof_to_bytes(&p), data);
    }
    let _ = groth16::vk_from_bytes(data);
    // Proving keys are large; the reader must refuse short input cheaply.
    let _ = groth16::pk_from_bytes(data);
});
