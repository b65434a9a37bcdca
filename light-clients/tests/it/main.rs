//! Integration tests of the light clients, one binary: shared fixtures here,
//! one module per concern.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benchmarks fail loudly on purpose

mod client;
mod gba_differential;
mod host;
mod mutations;
mod receipt;
mod rotation;
mod roundtrip;

use core::time::Duration;

use light_clients::sample::{self, BlockFields, Signing};
use light_clients::{
    Fraction, Hash32, Roots, Timestamp, TrustOptions, TrustRoot, TrustedState, UntrustedBlock,
};

pub const CHAIN: &str = "port-1";

/// Block times are counted in seconds from here (2027-01-15).
pub fn at(secs: u64) -> Timestamp {
    Timestamp::from_unix_nanos((1_800_000_000 + secs) * 1_000_000_000)
}

/// "Now" in most tests: an hour after the first block.
pub fn now() -> Timestamp {
    at(3600)
}

pub fn options() -> TrustOptions {
    TrustOptions {
        trusting_period: Duration::from_secs(14 * 24 * 3600),
        clock_drift: Duration::from_secs(10),
        trust_threshold: Fraction::ONE_THIRD,
    }
}

/// A chain of family `F` with `n` keys, its trust root at height 1 (time `at(0)`).
#[allow(missing_debug_implementations)]
pub struct Fixture<F: Signing> {
    pub keys: Vec<F::Key>,
    pub set: F::ValidatorSet,
    pub root: TrustRoot<F>,
    pub trusted: TrustedState<F>,
    pub root_hash: Hash32,
}

pub fn fixture<F: Signing>(n: usize) -> Fixture<F> {
    let keys = sample::keys::<F>(7, n);
    let set = F::validator_set(&keys);
    let b1 = sample::block(
        &BlockFields::<F> {
            chain_id: CHAIN,
            height: 1,
            time: at(0),
            previous: Hash32::ZERO,
            roots: Roots::default(),
            validators: &set,
            next_validators: &set,
        },
        &keys,
    );
    let root = TrustRoot {
        signed_header: b1.signed_header,
        next_validators: b1.next_validators,
        validators: Some(b1.validators),
    };
    let (summary, trusted) = root.check().unwrap();
    Fixture {
        keys,
        set,
        root,
        trusted,
        root_hash: summary.hash,
    }
}

/// A block at `height` and `time` with sets of the given keys, signed by `signers`.
pub fn block_with<F: Signing>(
    height: u64,
    time: Timestamp,
    roots: Roots,
    validators: &[F::Key],
    next: &[F::Key],
    signers: &[F::Key],
) -> UntrustedBlock<F> {
    let (v, nv) = (F::validator_set(validators), F::validator_set(next));
    sample::block(
        &BlockFields::<F> {
            chain_id: CHAIN,
            height,
            time,
            previous: Hash32([height as u8; 32]),
            roots,
            validators: &v,
            next_validators: &nv,
        },
        signers,
    )
}

/// A block by the fixture's own set, all signing.
pub fn block<F: Signing>(fx: &Fixture<F>, height: u64, time: Timestamp) -> UntrustedBlock<F> {
    block_with::<F>(height, time, Roots::default(), &fx.keys, &fx.keys, &fx.keys)
}

/// Runs a generic test for each family of `light_clients::for_each_family!`.
#[macro_export]
macro_rules! for_each_family {
    ($($name:ident => $body:ident),* $(,)?) => {
        $(light_clients::for_each_family!(($crate::family_tests) $name => $body);)*
    };
}

/// One test module: a test per family, named after the family's module.
#[macro_export]
macro_rules! family_tests {
    ([$name:ident => $body:ident] $($variant:ident($module:ident) => $ty:path,)*) => {
        mod $name {
            $(#[test]
            fn $module() {
                super::$body::<$ty>()
            })*
        }
    };
}
