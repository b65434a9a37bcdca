//! Trade receipts (`portrelay receipt verify`): the strict reader over any
//! bytes, then, for what it reads, the verification against a fixed trust
//! root of the receipt's family; never a panic, every refusal named.
#![no_main]

use libfuzzer_sys::fuzz_target;
use light_clients::any::AnyTrustRoot;
use light_clients::receipt::{self, Receipt};
use light_clients::sample::{self, BlockFields, Signing};
use light_clients::{Fraction, Hash32, IntoAny, Roots, Timestamp, TrustOptions, TrustRoot};

/// The trust root of the seeds (`light-clients/tests/it/receipt.rs`'s chain).
fn root<F: Signing + IntoAny>() -> AnyTrustRoot {
    let keys = sample::keys::<F>(7, 4);
    let set = F::validator_set(&keys);
    let b = sample::block(
        &BlockFields::<F> {
            chain_id: "port-1",
            height: 1,
            time: Timestamp::from_unix_secs(1_800_000_000),
            previous: Hash32::ZERO,
            roots: Roots::default(),
            validators: &set,
            next_validators: &set,
        },
        &keys,
    );
    F::any_root(TrustRoot {
        signed_header: b.signed_header,
        next_validators: b.next_validators,
        validators: Some(b.validators),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(r) = Receipt::from_json(data) else {
        return;
    };
    // What reads writes back to a document that reads as the same receipt.
    let again = Receipt::from_json(&r.to_json()).expect("a written receipt reads back");
    assert_eq!(again.to_json(), r.to_json());
    let root = light_clients::with_family!(r.family, F => root::<F>());
    let options = TrustOptions {
        trusting_period: core::time::Duration::from_secs(14 * 24 * 3600),
        clock_drift: core::time::Duration::from_secs(10),
        trust_threshold: Fraction::ONE_THIRD,
    };
    let now = Timestamp::from_unix_secs(1_800_003_600);
    if let Err(e) = receipt::verify(&r, &root, &options, now) {
        assert!(!e.check().is_empty());
    }
});
