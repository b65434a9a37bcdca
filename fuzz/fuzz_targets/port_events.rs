//! Port events (DCSA, letters of credit, invoices, settlements, eBL
//! transfers, customs declarations): validation refuses by rule, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = light_clients::json::from_slice::<serde_json::Value>(data) {
        let _ = adapters::events::validate(&value);
    }
});
