//! Mutation tests: change each header field, each signature and each commit
//! detail in turn, and expect the named check to fail.

use core::time::Duration;

use light_clients::cmport::Cmport;
use light_clients::cosco::Cosco;
use light_clients::gba::Gba;
use light_clients::sample::{self, BlockFields, Signing};
use light_clients::{verify_update, Hash32, Roots, UntrustedBlock, VerifyError};

use crate::{at, block, fixture, for_each_family, now, options, Fixture, CHAIN};

/// (what is changed, the check expected to fail, the change).
type Cases<H> = Vec<(&'static str, &'static str, Box<dyn Fn(&mut H)>)>;

fn check<F: Signing>(fx: &Fixture<F>, b: &UntrustedBlock<F>) -> Result<(), VerifyError> {
    verify_update(&fx.trusted, b, &options(), now()).map(|_| ())
}

#[track_caller]
fn expect(result: Result<(), VerifyError>, check: &str, what: &str) {
    match result {
        Err(e) => assert_eq!(e.check(), check, "{what}: {e}"),
        Ok(()) => panic!("{what}: accepted, expected the {check} check to fail"),
    }
}

fn mutate<F: Signing>(fx: &Fixture<F>, f: impl FnOnce(&mut F::SignedHeader)) -> UntrustedBlock<F> {
    let mut b = block(fx, 2, at(10));
    f(&mut b.signed_header);
    b
}

#[test]
fn cmport_each_header_field() {
    let fx = fixture::<Cmport>(4);
    assert_eq!(check(&fx, &block(&fx, 2, at(10))), Ok(()));
    let cases: Cases<light_clients::cmport::SignedHeader> = vec![
        ("version", "version", Box::new(|h| h.header.version = 2)),
        (
            "chain_id",
            "chain_id",
            Box::new(|h| h.header.chain_id = "other-1".into()),
        ),
        ("height", "signature", Box::new(|h| h.header.height = 3)),
        ("time", "signature", Box::new(|h| h.header.time = at(11))),
        (
            "previous_hash",
            "signature",
            Box::new(|h| h.header.previous_hash = Hash32([9; 32])),
        ),
        (
            "events.root",
            "signature",
            Box::new(|h| h.header.events.root = Hash32([9; 32])),
        ),
        (
            "events.count",
            "signature",
            Box::new(|h| h.header.events.count = 1),
        ),
        (
            "state.root",
            "signature",
            Box::new(|h| h.header.state.root = Hash32([9; 32])),
        ),
        (
            "state.count",
            "signature",
            Box::new(|h| h.header.state.count = 1),
        ),
        (
            "zk_root",
            "signature",
            Box::new(|h| h.header.zk_root = Hash32([9; 32])),
        ),
        (
            "org_set_hash",
            "validators_hash",
            Box::new(|h| h.header.org_set_hash = Hash32([9; 32])),
        ),
        (
            "next_org_set_hash",
            "next_validators_hash",
            Box::new(|h| h.header.next_org_set_hash = Hash32([9; 32])),
        ),
        (
            "no signatures",
            "commit",
            Box::new(|h| h.signatures.clear()),
        ),
        (
            "signature not DER",
            "signature",
            Box::new(|h| h.signatures[1].signature = vec![0x30, 0x01]),
        ),
        (
            "chain_id not a chain id",
            "malformed",
            Box::new(|h| h.header.chain_id = "CMPORT 1!".into()),
        ),
    ];
    for (what, expected, f) in cases {
        expect(check(&fx, &mutate(&fx, f)), expected, what);
    }
}

#[test]
fn cmport_each_signature() {
    let fx = fixture::<Cmport>(4);
    for i in 0..4 {
        let b = mutate(&fx, |h| {
            let sig = &mut h.signatures[i].signature;
            let last = sig.len() - 1;
            sig[last] ^= 0x01;
        });
        assert!(
            matches!(check(&fx, &b), Err(VerifyError::InvalidSignature { position, .. }) if position == i),
            "signature {i}"
        );
    }
    // A high-S twin of a valid signature is refused (Fabric accepts low S only).
    let b = mutate(&fx, |h| {
        let sig = p256::ecdsa::Signature::from_der(&h.signatures[0].signature).unwrap();
        let (r, s) = sig.split_scalars();
        let high = p256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
        h.signatures[0].signature = high.to_der().as_bytes().to_vec();
    });
    assert!(matches!(
        check(&fx, &b),
        Err(VerifyError::InvalidSignature { position: 0, .. })
    ));
    // A stranger's key in place of a member's adds nothing: 3 of 4 orgs still meet the 3-of-4 policy.
    let stranger = sample::keys::<Cmport>(777, 1);
    let b = mutate(&fx, |h| h.signatures[0] = stranger[0].sign(&h.header));
    assert_eq!(check(&fx, &b), Ok(()));
    // Junk from a stranger, added by whoever passed the header along, spoils nothing.
    let b = mutate(&fx, |h| {
        h.signatures.push(light_clients::cmport::OrdererSignature {
            orderer: stranger[0].public_key(),
            signature: vec![0x30, 0x01],
        })
    });
    assert_eq!(check(&fx, &b), Ok(()));
    // A member signing twice, the second time badly, is refused.
    let b = mutate(&fx, |h| {
        let mut again = h.signatures[0].clone();
        let last = again.signature.len() - 1;
        again.signature[last] ^= 1;
        h.signatures.push(again);
    });
    assert!(matches!(
        check(&fx, &b),
        Err(VerifyError::InvalidSignature { position: 4, .. })
    ));
}

#[test]
fn cmport_set_rules() {
    let fx = fixture::<Cmport>(4);
    let mut b = block(&fx, 2, at(10));
    b.validators.version = 2;
    expect(check(&fx, &b), "version", "set version");
    // Orderers out of order would give one set two hashes.
    let keys = sample::keys::<Cmport>(3, 4);
    let mut set = light_clients::cmport::org_set(&keys, 1);
    set.orgs[0].orderers.reverse();
    assert!(set.validate().unwrap_err().contains("ascending"));
}

#[test]
fn cmport_two_orderers_of_one_org_count_once() {
    let keys = sample::keys::<Cmport>(3, 6);
    // Three orgs of two orderers each; policy 2 of 3.
    let set = light_clients::cmport::org_set(&keys, 3);
    assert_eq!(set.policy.threshold, 2);
    let fields = BlockFields::<Cmport> {
        chain_id: CHAIN,
        height: 1,
        time: at(0),
        previous: Hash32::ZERO,
        roots: Roots::default(),
        validators: &set,
        next_validators: &set,
    };
    let trusted = sample::block(&fields, &keys).to_trusted(&light_clients::HeaderSummary {
        chain_id: CHAIN.into(),
        height: 1,
        time: at(0),
        hash: Hash32::ZERO,
        previous_hash: None,
        validators_hash: set.hash(),
        next_validators_hash: set.hash(),
        roots: light_clients::verify::RootCommitment::Roots(Roots::default()),
    });
    let b2 = BlockFields {
        height: 2,
        time: at(10),
        ..fields
    };
    // keys[0] and keys[3] are both in Org01MSP: one org of three.
    let one_org = sample::block(&b2, &[keys[0].clone(), keys[3].clone()]);
    let err = verify_update(&trusted, &one_org, &options(), now()).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::QuorumNotReached {
                signed: 1,
                total: 3,
                ..
            }
        ),
        "{err}"
    );
    let two_orgs = sample::block(&b2, &[keys[0].clone(), keys[1].clone()]);
    assert!(verify_update(&trusted, &two_orgs, &options(), now()).is_ok());
}

#[test]
fn cmport_policy_must_be_a_majority() {
    let fx = fixture::<Cmport>(4);
    let mut set = fx.set.clone();
    set.policy.threshold = 2; // 2 of 4 is not a majority
    let b = sample::block(
        &BlockFields::<Cmport> {
            chain_id: CHAIN,
            height: 2,
            time: at(10),
            previous: Hash32::ZERO,
            roots: Roots::default(),
            validators: &set,
            next_validators: &set,
        },
        &fx.keys,
    );
    expect(check(&fx, &b), "validator_set", "minority policy");
}

#[test]
fn cosco_each_header_field_and_seal() {
    let fx = fixture::<Cosco>(4);
    assert_eq!(check(&fx, &block(&fx, 2, at(10))), Ok(()));
    let cases: Cases<light_clients::cosco::SignedHeader> = vec![
        ("version", "version", Box::new(|h| h.header.version = 0)),
        (
            "chain_id",
            "chain_id",
            Box::new(|h| h.header.chain_id = "other-1".into()),
        ),
        ("height", "signature", Box::new(|h| h.header.height = 3)),
        ("time", "signature", Box::new(|h| h.header.time = at(11))),
        (
            "parent_hash",
            "signature",
            Box::new(|h| h.header.parent_hash = Hash32([9; 32])),
        ),
        (
            "events.root",
            "signature",
            Box::new(|h| h.header.events.root = Hash32([9; 32])),
        ),
        (
            "events.count",
            "signature",
            Box::new(|h| h.header.events.count = 1),
        ),
        (
            "state.root",
            "signature",
            Box::new(|h| h.header.state.root = Hash32([9; 32])),
        ),
        (
            "state.count",
            "signature",
            Box::new(|h| h.header.state.count = 1),
        ),
        (
            "zk_root",
            "signature",
            Box::new(|h| h.header.zk_root = Hash32([9; 32])),
        ),
        (
            "validators_hash",
            "validators_hash",
            Box::new(|h| h.header.validators_hash = Hash32([9; 32])),
        ),
        (
            "next_validators_hash",
            "next_validators_hash",
            Box::new(|h| h.header.next_validators_hash = Hash32([9; 32])),
        ),
        ("no seals", "commit", Box::new(|h| h.seals.clear())),
        (
            "seal too short",
            "signature",
            Box::new(|h| h.seals[2].signature.truncate(63)),
        ),
        (
            "chain_id not a chain id",
            "malformed",
            Box::new(|h| h.header.chain_id = "COSCO 1!".into()),
        ),
    ];
    for (what, expected, f) in cases {
        expect(check(&fx, &mutate(&fx, f)), expected, what);
    }
    for i in 0..4 {
        let b = mutate(&fx, |h| h.seals[i].signature[10] ^= 0x01);
        assert!(
            matches!(check(&fx, &b), Err(VerifyError::InvalidSignature { position, .. }) if position == i),
            "seal {i}"
        );
    }
    // Junk from a stranger spoils nothing.
    let b = mutate(&fx, |h| {
        h.seals.push(light_clients::cosco::Seal {
            validator: [0xee; 20],
            signature: vec![1, 2, 3],
        })
    });
    assert_eq!(check(&fx, &b), Ok(()));
    let mut b = block(&fx, 2, at(10));
    b.validators.version = 0;
    expect(check(&fx, &b), "version", "set version");
    // A seal naming one validator but made by another does not verify.
    let b = mutate(&fx, |h| h.seals[0].validator = h.seals[1].validator);
    // Now two seals name validator 1; the first (made by validator 0) is checked and fails.
    assert!(matches!(
        check(&fx, &b),
        Err(VerifyError::InvalidSignature { position: 0, .. })
    ));
}

#[test]
fn cosco_validator_addresses_must_come_from_keys() {
    let fx = fixture::<Cosco>(4);
    let mut b = block(&fx, 2, at(10));
    b.validators.validators[0].address[0] ^= 1;
    expect(check(&fx, &b), "validator_set", "forged address");
}

fn gba_block(
    fx: &Fixture<Gba>,
    signers: &[light_clients::gba::ValidatorKey],
) -> UntrustedBlock<Gba> {
    crate::block_with::<Gba>(2, at(10), Roots::default(), &fx.keys, &fx.keys, signers)
}

#[test]
fn gba_each_header_field() {
    use tendermint::block::Height;
    let fx = fixture::<Gba>(4);
    assert_eq!(check(&fx, &block(&fx, 2, at(10))), Ok(()));
    let other_hash = tendermint::Hash::Sha256([9; 32]);
    let cases: Cases<light_clients::gba::SignedHeader> = vec![
        (
            "chain_id",
            "commit",
            Box::new(|h| h.header.chain_id = "other-1".try_into().unwrap()),
        ),
        (
            "height",
            "commit",
            Box::new(|h| h.header.height = Height::from(3u32)),
        ),
        (
            "time",
            "commit",
            Box::new(|h| {
                h.header.time = h.header.time.checked_add(Duration::from_secs(1)).unwrap()
            }),
        ),
        (
            "last_block_id",
            "commit",
            Box::new(|h| h.header.last_block_id = None),
        ),
        (
            "last_commit_hash",
            "commit",
            Box::new(move |h| h.header.last_commit_hash = Some(other_hash)),
        ),
        (
            "data_hash",
            "commit",
            Box::new(move |h| h.header.data_hash = Some(other_hash)),
        ),
        (
            "consensus_hash",
            "commit",
            Box::new(move |h| h.header.consensus_hash = other_hash),
        ),
        (
            "app_hash",
            "commit",
            Box::new(|h| h.header.app_hash = vec![9; 32].try_into().unwrap()),
        ),
        (
            "last_results_hash",
            "commit",
            Box::new(move |h| h.header.last_results_hash = Some(other_hash)),
        ),
        (
            "evidence_hash",
            "commit",
            Box::new(move |h| h.header.evidence_hash = Some(other_hash)),
        ),
        (
            "proposer_address",
            "commit",
            Box::new(|h| h.header.proposer_address = tendermint::account::Id::new([9; 20])),
        ),
        (
            "validators_hash",
            "validators_hash",
            Box::new(move |h| h.header.validators_hash = other_hash),
        ),
        (
            "next_validators_hash",
            "next_validators_hash",
            Box::new(move |h| h.header.next_validators_hash = other_hash),
        ),
        (
            "commit.height",
            "commit",
            Box::new(|h| h.commit.height = Height::from(3u32)),
        ),
        (
            "commit.block_id",
            "commit",
            Box::new(move |h| h.commit.block_id.hash = other_hash),
        ),
        (
            "commit.round",
            "signature",
            Box::new(|h| h.commit.round = 1u16.into()),
        ),
        (
            "commit.block_id.parts",
            "signature",
            Box::new(|h| {
                h.commit.block_id.part_set_header =
                    tendermint::block::parts::Header::new(2, tendermint::Hash::Sha256([9; 32]))
                        .unwrap()
            }),
        ),
        (
            "commit slot removed",
            "commit",
            Box::new(|h| {
                h.commit.signatures.pop();
            }),
        ),
        (
            "all slots absent",
            "commit",
            Box::new(|h| {
                for s in &mut h.commit.signatures {
                    *s = tendermint::block::CommitSig::BlockIdFlagAbsent;
                }
            }),
        ),
    ];
    for (what, expected, f) in cases {
        expect(check(&fx, &mutate(&fx, f)), expected, what);
    }
}

#[test]
fn gba_each_vote() {
    use tendermint::block::CommitSig;
    let fx = fixture::<Gba>(4);
    for i in 0..4 {
        // Flip a bit of the signature.
        let b = mutate(&fx, |h| {
            if let CommitSig::BlockIdFlagCommit {
                signature: Some(sig),
                ..
            } = &mut h.commit.signatures[i]
            {
                let mut bytes = sig.as_bytes().to_vec();
                bytes[0] ^= 1;
                *sig = tendermint::Signature::new(bytes).unwrap().unwrap();
            }
        });
        assert!(
            matches!(check(&fx, &b), Err(VerifyError::InvalidSignature { position, .. }) if position == i),
            "vote {i}"
        );
        // Change the vote's timestamp, which is part of what was signed.
        let b = mutate(&fx, |h| {
            if let CommitSig::BlockIdFlagCommit { timestamp, .. } = &mut h.commit.signatures[i] {
                *timestamp = timestamp.checked_add(Duration::from_millis(1)).unwrap();
            }
        });
        assert!(
            matches!(check(&fx, &b), Err(VerifyError::InvalidSignature { position, .. }) if position == i),
            "timestamp {i}"
        );
        // Positions are commit slots: with slot 0 absent, a bad vote in slot 2 is named slot 2.
        let mut b =
            crate::block_with::<Gba>(2, at(10), Roots::default(), &fx.keys, &fx.keys, &fx.keys);
        let first_signed = b
            .signed_header
            .commit
            .signatures
            .iter()
            .position(|s| !s.is_absent())
            .unwrap();
        b.signed_header.commit.signatures[first_signed] = CommitSig::BlockIdFlagAbsent;
        let slot = (first_signed + 2) % 4;
        if let CommitSig::BlockIdFlagCommit {
            signature: Some(sig),
            ..
        } = &mut b.signed_header.commit.signatures[slot]
        {
            let mut bytes = sig.as_bytes().to_vec();
            bytes[0] ^= 1;
            *sig = tendermint::Signature::new(bytes).unwrap().unwrap();
        }
        assert!(
            matches!(check(&fx, &b), Err(VerifyError::InvalidSignature { position, .. }) if position == slot)
        );
        // Name a validator outside the set.
        let b = mutate(&fx, |h| {
            if let CommitSig::BlockIdFlagCommit {
                validator_address, ..
            } = &mut h.commit.signatures[i]
            {
                *validator_address = tendermint::account::Id::new([0xee; 20]);
            }
        });
        expect(check(&fx, &b), "commit", "stranger slot");
    }
    // A nil vote for another block adds nothing: 3 of 4 commit votes still pass.
    let b = mutate(&fx, |h| {
        if let CommitSig::BlockIdFlagCommit {
            validator_address,
            timestamp,
            signature,
        } = h.commit.signatures[3].clone()
        {
            h.commit.signatures[3] = CommitSig::BlockIdFlagNil {
                validator_address,
                timestamp,
                signature,
            };
        }
    });
    assert_eq!(check(&fx, &b), Ok(()));
}

#[test]
fn gba_a_validator_voting_twice_counts_once() {
    use tendermint::block::CommitSig;
    let fx = fixture::<Gba>(4);
    let mut b = gba_block(&fx, &fx.keys[..2]);
    let sigs = &mut b.signed_header.commit.signatures;
    let signed = sigs.iter().position(|s| !s.is_absent()).unwrap();
    let absent = sigs.iter().position(CommitSig::is_absent).unwrap();
    sigs[absent] = sigs[signed].clone();
    // CometBFT's CanonicalVote does not sign the slot, so the copy verifies
    // in any slot: it is counted once (tendermint-rs refuses it outright as a
    // duplicate; both leave the header without quorum).
    let err = check(&fx, &b).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::QuorumNotReached {
                signed: 20,
                total: 40,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn gba_unknown_block_version_is_named() {
    let fx = fixture::<Gba>(4);
    let b = mutate(&fx, |h| h.header.version.block = 12);
    let err = check(&fx, &b).unwrap_err();
    assert_eq!(
        err,
        VerifyError::UnsupportedVersion {
            what: "block",
            found: 12,
            supported: 11
        }
    );
}

#[test]
fn gba_validator_set_rules() {
    let fx = fixture::<Gba>(4);
    let mut b = block(&fx, 2, at(10));
    b.validators = tendermint::validator::Set::without_proposer(vec![]);
    expect(check(&fx, &b), "validator_set", "empty set");
}

fn semantic_checks<F: Signing>() {
    let fx = fixture::<F>(4);
    let opts = options();
    let resigned = |chain_id: &str, height: u64, time| {
        sample::block(
            &BlockFields::<F> {
                chain_id,
                height,
                time,
                previous: Hash32::ZERO,
                roots: Roots::default(),
                validators: &fx.set,
                next_validators: &fx.set,
            },
            &fx.keys,
        )
    };
    expect(
        check(&fx, &resigned("other-1", 2, at(10))),
        "chain_id",
        "re-signed chain id",
    );
    expect(
        check(&fx, &resigned(CHAIN, 1, at(10))),
        "height",
        "same height",
    );
    expect(check(&fx, &resigned(CHAIN, 2, at(0))), "time", "same time");
    expect(
        check(&fx, &resigned(CHAIN, 2, at(3600 + 10))),
        "clock_drift",
        "from the future",
    );
    assert!(
        check(&fx, &resigned(CHAIN, 2, at(3600 + 9))).is_ok(),
        "within the drift"
    );
    let late = at(14 * 24 * 3600);
    let b = resigned(CHAIN, 2, at(10));
    let err = verify_update(&fx.trusted, &b, &opts, late).unwrap_err();
    assert_eq!(err.check(), "trusting_period", "{err}");
    assert!(verify_update(&fx.trusted, &b, &opts, at(14 * 24 * 3600 - 1)).is_ok());
    // The header's own sets must be the ones it commits to.
    let mut swapped = block(&fx, 2, at(10));
    swapped.validators = F::validator_set(&sample::keys::<F>(5, 4));
    expect(check(&fx, &swapped), "validators_hash", "other validators");
    let mut swapped = block(&fx, 2, at(10));
    swapped.next_validators = F::validator_set(&sample::keys::<F>(5, 4));
    expect(
        check(&fx, &swapped),
        "next_validators_hash",
        "other next validators",
    );
}

fn hostile_json_is_refused_not_panicked<F: Signing>() {
    let fx = fixture::<F>(4);
    let good = serde_json::to_value(block(&fx, 2, at(10))).unwrap();
    // Every scalar in the JSON replaced by garbage: decoding fails or verification does.
    let mut paths = Vec::new();
    collect_scalars(&good, String::new(), &mut paths);
    assert!(paths.len() > 10);
    for path in paths {
        for garbage in [
            serde_json::json!("zz"),
            serde_json::json!(-1),
            serde_json::json!(null),
            serde_json::json!("0"),
        ] {
            let mut v = good.clone();
            *v.pointer_mut(&path).unwrap() = garbage.clone();
            if let Ok(b) = serde_json::from_value::<UntrustedBlock<F>>(v) {
                let _ = verify_update(&fx.trusted, &b, &options(), now());
            }
        }
    }
}

fn collect_scalars(v: &serde_json::Value, path: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => m
            .iter()
            .for_each(|(k, v)| collect_scalars(v, format!("{path}/{k}"), out)),
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| collect_scalars(v, format!("{path}/{i}"), out)),
        _ => out.push(path),
    }
}

for_each_family! {
    semantic => semantic_checks,
    hostile_json => hostile_json_is_refused_not_panicked,
}
