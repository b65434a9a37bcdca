//! Each family's trust root and untrusted block JSON (the
//! `light-client verify` files): strict parsing, then the checks, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use light_clients::client::TrustRoot;
use light_clients::{cmport, cosco, gba, Family, UntrustedBlock};

fn family<F: Family>(data: &[u8]) {
    if let Ok(root) = light_clients::json::from_slice::<TrustRoot<F>>(data) {
        let _ = root.check();
    }
    if let Ok(block) = light_clients::json::from_slice::<UntrustedBlock<F>>(data) {
        let _ = F::summary(&block.signed_header);
    }
}

fuzz_target!(|data: &[u8]| {
    family::<cmport::Cmport>(data);
    family::<cosco::Cosco>(data);
    family::<gba::Gba>(data);
});
