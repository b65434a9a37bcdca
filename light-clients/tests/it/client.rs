//! The client state machine: updates, misbehaviour freezing, authorised
//! recovery, and Merkle membership against verified roots.

use light_clients::client::{
    ClientError, ClientState, Evidence, HistoryEntry, Misbehaviour, Recovery, Status, TrustRoot,
    UpdateOutcome,
};
use light_clients::codec::Canonical;
use light_clients::merkle::{MerkleTree, TreeHasher};
use light_clients::packet::{
    Ack, AckResult, App, ChainId, ChannelId, EventLeaf, Packet, PacketId, Timeout,
};
use light_clients::sample::Signing;
use light_clients::{Hash32, MerkleCommitment, Roots};

use crate::{at, block, block_with, fixture, for_each_family, now, options, Fixture};

fn client<F: Signing>(fx: &Fixture<F>) -> ClientState<F> {
    ClientState::create(&fx.root, options()).unwrap()
}

fn other_roots() -> Roots {
    Roots {
        events: MerkleCommitment {
            root: Hash32([5; 32]),
            count: 1,
        },
        ..Roots::default()
    }
}

fn updates_and_duplicates<F: Signing>() {
    let fx = fixture::<F>(4);
    let mut c = client(&fx);
    assert_eq!(c.latest_height(), 1);
    let b2 = block(&fx, 2, at(10));
    // The trust root itself, resubmitted, is already known.
    let b1 = light_clients::UntrustedBlock::<F> {
        signed_header: fx.root.signed_header.clone(),
        validators: fx.set.clone(),
        next_validators: fx.set.clone(),
    };
    assert_eq!(
        c.update(&b1, now()),
        Ok(UpdateOutcome::AlreadyKnown { height: 1 })
    );
    assert_eq!(
        c.update(&b2, now()),
        Ok(UpdateOutcome::Updated { height: 2 })
    );
    assert_eq!(
        c.update(&b2, now()),
        Ok(UpdateOutcome::AlreadyKnown { height: 2 })
    );
    assert_eq!(
        c.update(&block(&fx, 9, at(90)), now()),
        Ok(UpdateOutcome::Updated { height: 9 })
    );
    assert_eq!(c.latest_height(), 9);
    assert_eq!(c.status(now()), Status::Active);
    // An invalid header changes nothing.
    let mut bad = block(&fx, 10, at(100));
    bad.validators = F::validator_set(&light_clients::sample::keys::<F>(8, 4));
    assert!(matches!(c.update(&bad, now()), Err(ClientError::Verify(_))));
    assert_eq!(c.latest_height(), 9);
}

fn conflicting_header_freezes<F: Signing>() {
    let fx = fixture::<F>(4);
    let mut c = client(&fx);
    c.update(&block(&fx, 2, at(10)), now()).unwrap();
    // An invalid conflicting header is not evidence.
    let mut forged = block_with::<F>(2, at(10), other_roots(), &fx.keys, &fx.keys, &fx.keys[..1]);
    assert!(matches!(
        c.update(&forged, now()),
        Err(ClientError::Verify(_))
    ));
    assert_eq!(c.status(now()), Status::Active);
    // A valid one is.
    forged = block_with::<F>(2, at(10), other_roots(), &fx.keys, &fx.keys, &fx.keys);
    let outcome = c.update(&forged, now()).unwrap();
    assert!(
        matches!(
            outcome,
            UpdateOutcome::Frozen(Evidence::ConflictingHeaders { height: 2, .. })
        ),
        "{outcome:?}"
    );
    assert_eq!(c.status(now()), Status::Frozen);
    assert!(matches!(
        c.update(&block(&fx, 3, at(20)), now()),
        Err(ClientError::Frozen(_))
    ));
    let err = c.roots_at(2, now(), Some(&Roots::default())).unwrap_err();
    assert_eq!(err.check(), "frozen");
}

fn submitted_misbehaviour_freezes<F: Signing>() {
    let fx = fixture::<F>(4);
    let mut c = client(&fx);
    let a = block_with::<F>(5, at(50), Roots::default(), &fx.keys, &fx.keys, &fx.keys);
    let b = block_with::<F>(5, at(50), other_roots(), &fx.keys, &fx.keys, &fx.keys);
    let same = Misbehaviour {
        first: a.clone(),
        first_trusted_height: 1,
        second: a.clone(),
        second_trusted_height: 1,
    };
    assert!(matches!(
        c.submit_misbehaviour(&same),
        Err(ClientError::NotMisbehaviour { .. })
    ));
    let unknown = Misbehaviour {
        first: a.clone(),
        first_trusted_height: 4,
        second: b.clone(),
        second_trusted_height: 1,
    };
    assert!(matches!(
        c.submit_misbehaviour(&unknown),
        Err(ClientError::ConsensusStateNotFound { height: 4 })
    ));
    let m = Misbehaviour {
        first: a,
        first_trusted_height: 1,
        second: b,
        second_trusted_height: 1,
    };
    let evidence = c.submit_misbehaviour(&m).unwrap();
    assert!(matches!(
        evidence,
        Evidence::ConflictingHeaders { height: 5, .. }
    ));
    assert_eq!(c.status(now()), Status::Frozen);
    assert!(matches!(
        c.submit_misbehaviour(&m),
        Err(ClientError::Frozen(_))
    ));
}

fn time_going_backwards_freezes<F: Signing>() {
    let fx = fixture::<F>(4);
    let mut c = client(&fx);
    c.update(&block(&fx, 5, at(50)), now()).unwrap();
    // Height 3 verifies from height 1 but claims a time after height 5's.
    let outcome = c.update(&block(&fx, 3, at(60)), now()).unwrap();
    assert!(
        matches!(
            outcome,
            UpdateOutcome::Frozen(Evidence::TimeNotIncreasing {
                lower_height: 3,
                higher_height: 5,
                ..
            })
        ),
        "{outcome:?}"
    );
    // The same as submitted evidence, on a fresh client.
    let mut c = client(&fx);
    let m = Misbehaviour {
        first: block(&fx, 5, at(50)),
        first_trusted_height: 1,
        second: block(&fx, 3, at(60)),
        second_trusted_height: 1,
    };
    assert!(matches!(
        c.submit_misbehaviour(&m),
        Ok(Evidence::TimeNotIncreasing { .. })
    ));
    assert!(c.frozen().is_some());
}

fn recovery_is_authorised_and_recorded<F: Signing>() {
    let fx = fixture::<F>(4);
    let mut c = client(&fx);
    let new_root = |height, time| {
        let b = block(&fx, height, time);
        TrustRoot::<F> {
            signed_header: b.signed_header,
            next_validators: b.next_validators,
            validators: Some(b.validators),
        }
    };
    let recovery = Recovery {
        authorised_by: "cmport-operator".into(),
        at: now(),
        reason: "fork resolved".into(),
    };
    assert_eq!(
        c.recover(&new_root(10, at(100)), recovery.clone()),
        Err(ClientError::NotRecoverable)
    );
    c.update(&block(&fx, 20, at(200)), now()).unwrap();
    c.update(
        &block_with::<F>(20, at(200), other_roots(), &fx.keys, &fx.keys, &fx.keys),
        now(),
    )
    .unwrap();
    assert_eq!(c.status(now()), Status::Frozen);
    assert_eq!(
        c.recover(&new_root(10, at(100)), recovery.clone()),
        Err(ClientError::StaleRecoveryRoot {
            latest: 20,
            root: 10
        })
    );
    let much_later = Recovery {
        at: at(15 * 24 * 3600),
        ..recovery.clone()
    };
    assert!(matches!(
        c.recover(&new_root(30, at(300)), much_later),
        Err(ClientError::ExpiredRecoveryRoot { .. })
    ));
    c.recover(&new_root(30, at(300)), recovery.clone()).unwrap();
    assert_eq!(c.status(now()), Status::Active);
    assert_eq!(c.latest_height(), 30);
    assert!(
        c.consensus_state(20).is_none(),
        "pre-recovery states are dropped"
    );
    let kinds: Vec<&str> = c
        .history()
        .iter()
        .map(|h| match h {
            HistoryEntry::Created { .. } => "created",
            HistoryEntry::Frozen { .. } => "frozen",
            HistoryEntry::Recovered { recovery: r, .. } => {
                assert_eq!(r.authorised_by, "cmport-operator");
                "recovered"
            }
        })
        .collect();
    assert_eq!(kinds, ["created", "frozen", "recovered"]);
    c.update(&block(&fx, 31, at(310)), now()).unwrap();
}

fn expiry_refuses_proofs_and_allows_recovery<F: Signing>() {
    let fx = fixture::<F>(4);
    let mut c = client(&fx);
    let late = at(15 * 24 * 3600);
    assert_eq!(c.status(late), Status::Expired);
    assert_eq!(
        c.roots_at(1, late, Some(&Roots::default()))
            .unwrap_err()
            .check(),
        "expired"
    );
    let b = block(&fx, 50, at(15 * 24 * 3600 - 60));
    let root = TrustRoot::<F> {
        signed_header: b.signed_header,
        next_validators: b.next_validators,
        validators: None,
    };
    let recovery = Recovery {
        authorised_by: "op".into(),
        at: late,
        reason: "expired".into(),
    };
    c.recover(&root, recovery).unwrap();
    assert_eq!(c.status(late), Status::Active);
}

fn sample_packets() -> Vec<Packet> {
    (1..=5)
        .map(|seq| Packet {
            id: PacketId {
                channel: ChannelId {
                    source: ChainId::new("cosco-1").unwrap(),
                    destination: ChainId::new("cmport-1").unwrap(),
                    app: App::Cargo,
                },
                sequence: seq,
            },
            timeout: Timeout {
                time: at(7200),
                height: None,
            },
            payload: format!("{{\"eventType\":\"EQUIPMENT\",\"n\":{seq}}}").into_bytes(),
        })
        .collect()
}

fn tree<H: TreeHasher>(leaves: &[EventLeaf]) -> MerkleTree<H> {
    let encoded: Vec<Vec<u8>> = leaves.iter().map(Canonical::encode).collect();
    MerkleTree::<H>::from_leaves(&encoded)
}

fn membership_against_verified_roots<F: Signing>() {
    let fx = fixture::<F>(4);
    let packets = sample_packets();
    let ack = Ack {
        packet: packets[0].id.clone(),
        packet_commitment: packets[0].commitment(),
        result: AckResult::Ok,
    };
    let mut leaves: Vec<EventLeaf> = packets.iter().map(EventLeaf::from).collect();
    leaves.push(EventLeaf::from(&ack));
    let (commitment, proofs): (MerkleCommitment, Vec<_>) = match F::TREE_HASH {
        light_clients::HashAlgorithm::Sha256 => {
            let t = tree::<light_clients::merkle::Sha256Tree>(&leaves);
            (
                t.commitment(),
                (0..leaves.len() as u64)
                    .map(|i| t.prove(i).unwrap())
                    .collect(),
            )
        }
        light_clients::HashAlgorithm::Keccak256 => {
            let t = tree::<light_clients::merkle::Keccak256Tree>(&leaves);
            (
                t.commitment(),
                (0..leaves.len() as u64)
                    .map(|i| t.prove(i).unwrap())
                    .collect(),
            )
        }
    };
    let roots = Roots {
        events: commitment,
        ..Roots::default()
    };
    let mut c = client(&fx);
    c.update(
        &block_with::<F>(2, at(10), roots, &fx.keys, &fx.keys, &fx.keys),
        now(),
    )
    .unwrap();
    for (leaf, proof) in leaves.iter().zip(&proofs) {
        c.verify_event(2, now(), Some(&roots), leaf, proof).unwrap();
    }
    // A changed packet, a proof against another height, a proof node changed.
    let mut changed = packets[1].clone();
    changed.payload.push(b' ');
    let err = c
        .verify_event(
            2,
            now(),
            Some(&roots),
            &EventLeaf::from(&changed),
            &proofs[1],
        )
        .unwrap_err();
    assert_eq!(err.check(), "merkle_proof", "{err}");
    let err = c
        .verify_event(1, now(), Some(&roots), &leaves[1], &proofs[1])
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Proof(_) | ClientError::AppHashMismatch { .. }
        ),
        "{err}"
    );
    assert!(matches!(
        c.verify_event(3, now(), Some(&roots), &leaves[1], &proofs[1]),
        Err(ClientError::ConsensusStateNotFound { height: 3 })
    ));
    for node in 0..proofs[2].siblings.len() {
        let mut p = proofs[2].clone();
        p.siblings[node].0[0] ^= 1;
        assert!(
            matches!(
                c.verify_event(2, now(), Some(&roots), &leaves[2], &p),
                Err(ClientError::Proof(_))
            ),
            "node {node}"
        );
    }
    // An ack is not a packet: same commitment, other kind.
    let as_packet = EventLeaf {
        kind: light_clients::packet::EventKind::Packet,
        commitment: leaves[5].commitment,
    };
    assert!(c
        .verify_event(2, now(), Some(&roots), &as_packet, &proofs[5])
        .is_err());
    // Where roots sit behind app_hash (gba), the opening is checked.
    if F::ROOTS_OPENING {
        assert!(matches!(
            c.verify_event(2, now(), None, &leaves[0], &proofs[0]),
            Err(ClientError::MissingOpening { height: 2 })
        ));
        let wrong = Roots {
            zk_root: Hash32([1; 32]),
            ..roots
        };
        assert!(matches!(
            c.verify_event(2, now(), Some(&wrong), &leaves[0], &proofs[0]),
            Err(ClientError::AppHashMismatch { .. })
        ));
    }
}

fn channel_state_against_verified_state_root<F: Signing>() {
    use light_clients::ChannelState;
    let fx = fixture::<F>(4);
    let chain = |s: &str| ChainId::new(s).unwrap();
    let mut states: Vec<ChannelState> = App::ALL
        .iter()
        .map(|&app| ChannelState {
            channel: ChannelId {
                source: chain("cosco-1"),
                destination: chain("cmport-1"),
                app,
            },
            next_send: 9,
            next_recv: 1,
            next_ack: 4,
        })
        .collect();
    states.sort_by(|a, b| a.channel.cmp(&b.channel));
    let encoded: Vec<Vec<u8>> = states
        .iter()
        .map(|s| light_clients::StateLeaf::Channel(s.clone()).encode())
        .collect();
    let (commitment, proofs): (MerkleCommitment, Vec<_>) = match F::TREE_HASH {
        light_clients::HashAlgorithm::Sha256 => {
            let t = MerkleTree::<light_clients::merkle::Sha256Tree>::from_leaves(&encoded);
            (
                t.commitment(),
                (0..3).map(|i| t.prove(i).unwrap()).collect(),
            )
        }
        light_clients::HashAlgorithm::Keccak256 => {
            let t = MerkleTree::<light_clients::merkle::Keccak256Tree>::from_leaves(&encoded);
            (
                t.commitment(),
                (0..3).map(|i| t.prove(i).unwrap()).collect(),
            )
        }
    };
    let roots = Roots {
        state: commitment,
        ..Roots::empty(F::TREE_HASH)
    };
    let mut c = client(&fx);
    c.update(
        &block_with::<F>(2, at(10), roots, &fx.keys, &fx.keys, &fx.keys),
        now(),
    )
    .unwrap();
    for (st, proof) in states.iter().zip(&proofs) {
        c.verify_channel_state(2, now(), Some(&roots), st, proof)
            .unwrap();
    }
    // A relayer claiming the destination received more than it did is caught.
    let mut claimed = states[0].clone();
    claimed.next_recv = 9;
    let err = c
        .verify_channel_state(2, now(), Some(&roots), &claimed, &proofs[0])
        .unwrap_err();
    assert_eq!(err.check(), "merkle_proof", "{err}");
    // A state that breaks its own rules is refused before any proof.
    let mut broken = states[0].clone();
    broken.next_ack = 10;
    let err = c
        .verify_channel_state(2, now(), Some(&roots), &broken, &proofs[0])
        .unwrap_err();
    assert_eq!(err.check(), "value", "{err}");
    // A state leaf is not an events leaf: the events tree is empty here.
    let leaf = EventLeaf {
        kind: light_clients::packet::EventKind::Packet,
        commitment: Hash32([1; 32]),
    };
    assert!(matches!(
        c.verify_event(2, now(), Some(&roots), &leaf, &proofs[0]),
        Err(ClientError::Proof(light_clients::ProofError::EmptyTree))
    ));
}

fn client_state_round_trips_through_json<F: Signing>() {
    let fx = fixture::<F>(4);
    let mut c = client(&fx);
    c.update(&block(&fx, 2, at(10)), now()).unwrap();
    let json = serde_json::to_string(&c).unwrap();
    let mut back: ClientState<F> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.latest_height(), 2);
    assert_eq!(
        back.update(&block(&fx, 3, at(20)), now()),
        Ok(UpdateOutcome::Updated { height: 3 })
    );
}

for_each_family! {
    updates => updates_and_duplicates,
    conflicting => conflicting_header_freezes,
    misbehaviour => submitted_misbehaviour_freezes,
    time_backwards => time_going_backwards_freezes,
    recovery => recovery_is_authorised_and_recorded,
    expiry => expiry_refuses_proofs_and_allows_recovery,
    membership => membership_against_verified_roots,
    channel_state => channel_state_against_verified_state_root,
    json => client_state_round_trips_through_json,
}
