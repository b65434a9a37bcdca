//! A signed transaction as `POST /v1/tx` takes it, and its body (relay and
//! operator messages) as the host reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use light_clients::host::{SignedTx, TxBody};

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = light_clients::json::from_slice::<SignedTx>(data) {
        let _ = tx.id();
        let _ = light_clients::json::from_str::<TxBody>(&tx.body);
    }
    let _ = light_clients::json::from_slice::<TxBody>(data);
});
