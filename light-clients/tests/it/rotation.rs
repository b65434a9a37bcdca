//! Validator-set rotation, adjacent and skipping, and the quorum rules.

use light_clients::sample::{self, Signing};
use light_clients::{verify_update, Roots, VerifyError};

use crate::{at, block, block_with, fixture, for_each_family, now, options};

fn verdict<F: Signing>(
    trusted: &light_clients::TrustedState<F>,
    b: &light_clients::UntrustedBlock<F>,
) -> Result<(), VerifyError> {
    verify_update(trusted, b, &options(), now()).map(|_| ())
}

/// A tally in sixths of the set (sets here have six members of equal power).
fn sixths(signed: u64, total: u64) -> u64 {
    signed * 6 / total
}

/// The fixture's first `kept` keys plus fresh ones, six in all.
fn rotated<F: Signing>(keys: &[F::Key], kept: usize) -> Vec<F::Key> {
    let fresh = sample::keys::<F>(99, 6 - kept);
    keys[..kept].iter().cloned().chain(fresh).collect()
}

fn adjacent_and_skipping_headers_of_the_same_set_pass<F: Signing>() {
    let fx = fixture::<F>(4);
    assert_eq!(verdict(&fx.trusted, &block(&fx, 2, at(10))), Ok(()));
    assert_eq!(verdict(&fx.trusted, &block(&fx, 40, at(100))), Ok(()));
}

fn announced_rotation_passes_adjacent_whatever_its_size<F: Signing>() {
    let fx = fixture::<F>(6);
    for kept in [3, 2, 0] {
        let new = rotated::<F>(&fx.keys, kept);
        // Height 2 announces the new set as next; height 3 is signed by it.
        let b2 = block_with::<F>(2, at(10), Roots::default(), &fx.keys, &new, &fx.keys);
        assert_eq!(verdict(&fx.trusted, &b2), Ok(()), "kept {kept}");
        let (s2, _) = (F::summary(&b2.signed_header).unwrap(), ());
        let trusted2 = b2.to_trusted(&s2);
        let b3 = block_with::<F>(3, at(20), Roots::default(), &new, &new, &new);
        assert_eq!(verdict(&trusted2, &b3), Ok(()), "kept {kept}");
    }
}

fn unannounced_rotation_is_refused_adjacent<F: Signing>() {
    let fx = fixture::<F>(6);
    let new = rotated::<F>(&fx.keys, 3);
    let b2 = block_with::<F>(2, at(10), Roots::default(), &new, &new, &new);
    let err = verdict(&fx.trusted, &b2).unwrap_err();
    assert_eq!(err.check(), "validator_rotation", "{err}");
}

fn skipping_needs_more_than_a_third_of_the_trusted_set<F: Signing>() {
    let fx = fixture::<F>(6);
    // Half the set changed: 3 of 6 trusted signers remain, more than 1/3.
    let half = rotated::<F>(&fx.keys, 3);
    assert_eq!(
        verdict(
            &fx.trusted,
            &block_with::<F>(9, at(50), Roots::default(), &half, &half, &half)
        ),
        Ok(())
    );
    // Two thirds changed: 2 of 6 remain, exactly 1/3, not more.
    let two_thirds = rotated::<F>(&fx.keys, 2);
    let err = verdict(
        &fx.trusted,
        &block_with::<F>(
            9,
            at(50),
            Roots::default(),
            &two_thirds,
            &two_thirds,
            &two_thirds,
        ),
    )
    .unwrap_err();
    assert!(
        matches!(err, VerifyError::NotEnoughTrust { signed, total, .. } if sixths(signed, total) == 2),
        "{err}"
    );
    assert!(err.is_not_enough_trust());
    // The whole set changed.
    let full = rotated::<F>(&fx.keys, 0);
    let err = verdict(
        &fx.trusted,
        &block_with::<F>(9, at(50), Roots::default(), &full, &full, &full),
    )
    .unwrap_err();
    assert!(
        matches!(err, VerifyError::NotEnoughTrust { signed: 0, .. }),
        "{err}"
    );
}

fn bisection_recovers_what_skipping_lacks<F: Signing>() {
    // What a relayer does on NOT_ENOUGH_TRUST: verify an intermediate header first.
    let fx = fixture::<F>(6);
    let half = rotated::<F>(&fx.keys, 3);
    let fresh = sample::keys::<F>(1234, 3);
    let later: Vec<F::Key> = half[3..].iter().cloned().chain(fresh).collect();
    let b9 = block_with::<F>(9, at(50), Roots::default(), &later, &later, &later);
    assert!(verdict(&fx.trusted, &b9).unwrap_err().is_not_enough_trust());
    let b5 = block_with::<F>(5, at(30), Roots::default(), &half, &half, &half);
    assert_eq!(verdict(&fx.trusted, &b5), Ok(()));
    let t5 = b5.to_trusted(&F::summary(&b5.signed_header).unwrap());
    assert_eq!(verdict(&t5, &b9), Ok(()));
}

fn quorum_counts_members_once_and_strangers_not_at_all<F: Signing>() {
    let fx = fixture::<F>(6);
    let strangers = sample::keys::<F>(555, 3);
    // Three of six members sign, with three strangers (a CometBFT commit has no
    // slot for a stranger, so gba's builder leaves them out; see mutations.rs).
    let mut signers: Vec<F::Key> = fx.keys[..3].to_vec();
    signers.extend(strangers.iter().cloned());
    let b2 = block_with::<F>(2, at(10), Roots::default(), &fx.keys, &fx.keys, &signers);
    let err = verdict(&fx.trusted, &b2).unwrap_err();
    assert!(
        matches!(err, VerifyError::QuorumNotReached { signed, total, .. } if sixths(signed, total) == 3),
        "{err}"
    );
    // The same three signing twice still count three.
    let mut twice: Vec<F::Key> = fx.keys[..3].to_vec();
    twice.extend(fx.keys[..3].iter().cloned());
    let b2 = block_with::<F>(2, at(10), Roots::default(), &fx.keys, &fx.keys, &twice);
    let err = verdict(&fx.trusted, &b2).unwrap_err();
    assert!(
        matches!(err, VerifyError::QuorumNotReached { signed, total, .. } if sixths(signed, total) == 3),
        "{err}"
    );
    // Five of six pass everywhere.
    let b2 = block_with::<F>(
        2,
        at(10),
        Roots::default(),
        &fx.keys,
        &fx.keys,
        &fx.keys[1..],
    );
    assert_eq!(verdict(&fx.trusted, &b2), Ok(()));
}

for_each_family! {
    same_set => adjacent_and_skipping_headers_of_the_same_set_pass,
    announced_rotation => announced_rotation_passes_adjacent_whatever_its_size,
    unannounced_rotation => unannounced_rotation_is_refused_adjacent,
    skipping_trust => skipping_needs_more_than_a_third_of_the_trusted_set,
    bisection => bisection_recovers_what_skipping_lacks,
    quorum => quorum_counts_members_once_and_strangers_not_at_all,
}

#[test]
fn heights_at_the_top_of_u64_do_not_overflow() {
    use light_clients::cosco::Cosco;
    let keys = sample::keys::<Cosco>(7, 4);
    let set = Cosco::validator_set(&keys);
    let fields = |height, time| light_clients::sample::BlockFields::<Cosco> {
        chain_id: crate::CHAIN,
        height,
        time,
        previous: light_clients::Hash32::ZERO,
        roots: Roots::default(),
        validators: &set,
        next_validators: &set,
    };
    let top = sample::block(&fields(u64::MAX - 1, at(0)), &keys);
    let root = light_clients::TrustRoot {
        signed_header: top.signed_header,
        next_validators: set.clone(),
        validators: None,
    };
    let mut client = light_clients::ClientState::create(&root, options()).unwrap();
    let last = sample::block(&fields(u64::MAX, at(10)), &keys);
    assert_eq!(
        client.update(&last, now()),
        Ok(light_clients::UpdateOutcome::Updated { height: u64::MAX })
    );
    let (_, trusted) = root.check().unwrap();
    let t_max =
        last.to_trusted(&<Cosco as light_clients::Family>::summary(&last.signed_header).unwrap());
    assert_eq!(verdict(&trusted, &last), Ok(()));
    assert_eq!(verdict(&t_max, &last).unwrap_err().check(), "height");
}
