//! Differential test: the gba light client and tendermint-rs's own verifier
//! (`tendermint-light-client-verifier`) reach the same verdict on the same
//! CometBFT headers, for valid headers and for each kind of fault.

use core::time::Duration;

use light_clients::gba::{Gba, ValidatorKey};
use light_clients::sample;
use light_clients::{verify_update, Roots, Timestamp, TrustedState, UntrustedBlock, VerifyError};
use tendermint_light_client_verifier::options::Options;
use tendermint_light_client_verifier::types::{
    TrustThreshold, TrustedBlockState, UntrustedBlockState,
};
use tendermint_light_client_verifier::{ProdVerifier, Verdict, Verifier};

use crate::{at, block_with, fixture, now, options};

#[derive(Debug, PartialEq)]
enum Outcome {
    Success,
    NotEnoughTrust,
    Invalid,
}

fn ours(trusted: &TrustedState<Gba>, b: &UntrustedBlock<Gba>, now: Timestamp) -> Outcome {
    match verify_update(trusted, b, &options(), now) {
        Ok(_) => Outcome::Success,
        Err(VerifyError::NotEnoughTrust { .. }) => Outcome::NotEnoughTrust,
        Err(_) => Outcome::Invalid,
    }
}

fn theirs(trusted: &TrustedState<Gba>, b: &UntrustedBlock<Gba>, now: Timestamp) -> Outcome {
    let chain_id: tendermint::chain::Id = trusted.chain_id.as_str().try_into().unwrap();
    let trusted_state = TrustedBlockState {
        chain_id: &chain_id,
        header_time: trusted.time.try_into().unwrap(),
        height: trusted.height.try_into().unwrap(),
        next_validators: &trusted.next_validators,
        next_validators_hash: trusted.next_validators.hash(),
    };
    let untrusted = UntrustedBlockState {
        signed_header: &b.signed_header,
        validators: &b.validators,
        next_validators: Some(&b.next_validators),
    };
    let opts = Options {
        trust_threshold: TrustThreshold::ONE_THIRD,
        trusting_period: Duration::from_secs(14 * 24 * 3600),
        clock_drift: Duration::from_secs(10),
    };
    match ProdVerifier::default().verify_update_header(
        untrusted,
        trusted_state,
        &opts,
        now.try_into().unwrap(),
    ) {
        Verdict::Success => Outcome::Success,
        Verdict::NotEnoughTrust(_) => Outcome::NotEnoughTrust,
        Verdict::Invalid(_) => Outcome::Invalid,
    }
}

#[test]
fn verdicts_agree_with_tendermint_rs() {
    let fx = fixture::<Gba>(6);
    let fresh = sample::keys::<Gba>(99, 6);
    let mix = |kept: usize| -> Vec<ValidatorKey> {
        fx.keys[..kept]
            .iter()
            .cloned()
            .chain(fresh[..6 - kept].iter().cloned())
            .collect()
    };
    let r = Roots::default();
    let mut cases: Vec<(&str, UntrustedBlock<Gba>, Timestamp, Outcome)> = vec![
        (
            "adjacent",
            block_with::<Gba>(2, at(10), r, &fx.keys, &fx.keys, &fx.keys),
            now(),
            Outcome::Success,
        ),
        (
            "skipping",
            block_with::<Gba>(7, at(70), r, &fx.keys, &fx.keys, &fx.keys),
            now(),
            Outcome::Success,
        ),
        (
            "5 of 6 sign",
            block_with::<Gba>(2, at(10), r, &fx.keys, &fx.keys, &fx.keys[1..]),
            now(),
            Outcome::Success,
        ),
        (
            "4 of 6 sign",
            block_with::<Gba>(2, at(10), r, &fx.keys, &fx.keys, &fx.keys[2..]),
            now(),
            Outcome::Invalid,
        ),
        (
            "half rotated, skipping",
            block_with::<Gba>(7, at(70), r, &mix(3), &mix(3), &mix(3)),
            now(),
            Outcome::Success,
        ),
        (
            "two thirds rotated, skipping",
            block_with::<Gba>(7, at(70), r, &mix(2), &mix(2), &mix(2)),
            now(),
            Outcome::NotEnoughTrust,
        ),
        (
            "fully rotated, skipping",
            block_with::<Gba>(7, at(70), r, &fresh, &fresh, &fresh),
            now(),
            Outcome::NotEnoughTrust,
        ),
        (
            "unannounced, adjacent",
            block_with::<Gba>(2, at(10), r, &mix(3), &mix(3), &mix(3)),
            now(),
            Outcome::Invalid,
        ),
        (
            "same height",
            block_with::<Gba>(1, at(10), r, &fx.keys, &fx.keys, &fx.keys),
            now(),
            Outcome::Invalid,
        ),
        (
            "time not after trusted",
            block_with::<Gba>(2, at(0), r, &fx.keys, &fx.keys, &fx.keys),
            now(),
            Outcome::Invalid,
        ),
        (
            "from the future",
            block_with::<Gba>(2, at(4000), r, &fx.keys, &fx.keys, &fx.keys),
            now(),
            Outcome::Invalid,
        ),
        (
            "trusted state expired",
            block_with::<Gba>(2, at(10), r, &fx.keys, &fx.keys, &fx.keys),
            at(15 * 24 * 3600),
            Outcome::Invalid,
        ),
    ];
    let mut tampered = block_with::<Gba>(2, at(10), r, &fx.keys, &fx.keys, &fx.keys);
    tampered.signed_header.commit.round = 1u16.into();
    cases.push(("tampered round", tampered, now(), Outcome::Invalid));
    let mut wrong_set = block_with::<Gba>(2, at(10), r, &fx.keys, &fx.keys, &fx.keys);
    wrong_set.validators = <Gba as light_clients::sample::Signing>::validator_set(&fresh);
    cases.push(("validators swapped", wrong_set, now(), Outcome::Invalid));
    for (name, b, now, expected) in cases {
        assert_eq!(ours(&fx.trusted, &b, now), expected, "ours: {name}");
        assert_eq!(
            theirs(&fx.trusted, &b, now),
            expected,
            "tendermint-rs: {name}"
        );
    }
}

#[test]
fn sample_json_is_cometbft_json() {
    // What `light-client sample` writes for gba parses as tendermint-rs types
    // and uses CometBFT's field names.
    let (root, untrusted) = sample::pair::<Gba>("shekou-1", 4, 1, at(100));
    let json = serde_json::to_value(&untrusted).unwrap();
    let header = &json["signed_header"]["header"];
    for field in [
        "version",
        "chain_id",
        "height",
        "time",
        "last_block_id",
        "validators_hash",
        "app_hash",
        "proposer_address",
    ] {
        assert!(header.get(field).is_some(), "header.{field}");
    }
    assert!(json["signed_header"]["commit"]["signatures"][0]["block_id_flag"].is_number());
    assert!(json["validators"]["validators"][0]["pub_key"]["type"] == "tendermint/PubKeyEd25519");
    let back: UntrustedBlock<Gba> = serde_json::from_value(json).unwrap();
    assert_eq!(back.signed_header, untrusted.signed_header);
    let (_, trusted) = root.check().unwrap();
    assert!(verify_update(&trusted, &back, &options(), at(200)).is_ok());
}
