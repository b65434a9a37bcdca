//! Round trips of every type the ledgers and relayers exchange: what one
//! side writes, the other reads back through the strict parser
//! (`light_clients::json`: repeated keys and unknown fields refused) as the
//! same value, and a type with a canonical encoding decodes its bytes to
//! the same value and encodes it to the same bytes. Headers of each family
//! keep their hash and signatures across JSON. Case counts stay small so
//! the suite stays fast.

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use light_clients::any::{AnyHeader, AnyTrustRoot};
use light_clients::host::{
    BlockEvent, EventProof, OperatorMsg, RelayMsg, RelayerKey, SignedTx, TxBody,
};
use light_clients::sample::{self, BlockFields, Signing};
use light_clients::zk::{FieldRule, PathPolicy, VerifyingKeyBytes};
use light_clients::{
    Ack, AckResult, App, Canonical, ChainId, ChannelId, ChannelState, ClientSummary, EventLeaf,
    Family, Hash32, IntoAny, MerkleCommitment, MerkleProof, Packet, PacketId, Roots, StateLeaf,
    Timeout, Timestamp, TrustRoot,
};

/// Writes `v` as JSON, reads it back strictly, and writes it again: the
/// same text both times (for types without `PartialEq`, the text is the value).
fn json_again<T: Serialize + DeserializeOwned>(v: &T) -> Result<(T, String), TestCaseError> {
    let text = serde_json::to_string(v).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = light_clients::json::from_str(&text)
        .map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
    let again = serde_json::to_string(&back).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&again, &text);
    Ok((back, text))
}

/// JSON and canonical round trips of a type that has both.
fn both_ways<T: Canonical + Serialize + DeserializeOwned + PartialEq + core::fmt::Debug>(
    v: &T,
) -> Result<(), TestCaseError> {
    let (back, _) = json_again(v)?;
    prop_assert_eq!(&back, v);
    let bytes = v.encode();
    let decoded = T::decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&decoded, v);
    prop_assert_eq!(decoded.encode(), bytes);
    Ok(())
}

fn chain() -> impl Strategy<Value = ChainId> {
    "[a-z0-9][a-z0-9._-]{0,20}".prop_map(|s| ChainId::new(&s).unwrap())
}

fn hash() -> impl Strategy<Value = Hash32> {
    any::<[u8; 32]>().prop_map(Hash32)
}

fn time() -> impl Strategy<Value = Timestamp> {
    any::<u64>().prop_map(Timestamp::from_unix_nanos)
}

fn channel() -> impl Strategy<Value = ChannelId> {
    (chain(), chain(), 0usize..App::ALL.len())
        .prop_filter("distinct chains", |(s, d, _)| s != d)
        .prop_map(|(source, destination, app)| ChannelId {
            source,
            destination,
            app: App::ALL[app],
        })
}

fn packet_id() -> impl Strategy<Value = PacketId> {
    (channel(), 1u64..).prop_map(|(channel, sequence)| PacketId { channel, sequence })
}

fn packet() -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        time(),
        proptest::option::of(any::<u64>()),
        proptest::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(id, time, height, payload)| Packet {
            id,
            timeout: Timeout { time, height },
            payload,
        })
}

fn ack_result() -> impl Strategy<Value = AckResult> {
    prop_oneof![
        Just(AckResult::Ok),
        Just(AckResult::Timeout),
        // An error reason is 1 to 512 bytes (`Ack`'s own rule).
        "[ -~]{1,40}".prop_map(AckResult::Error),
    ]
}

fn ack() -> impl Strategy<Value = Ack> {
    (packet_id(), hash(), ack_result()).prop_map(|(packet, packet_commitment, result)| Ack {
        packet,
        packet_commitment,
        result,
    })
}

fn commitment() -> impl Strategy<Value = MerkleCommitment> {
    (hash(), any::<u64>()).prop_map(|(root, count)| MerkleCommitment { root, count })
}

fn roots() -> impl Strategy<Value = Roots> {
    (commitment(), commitment(), hash()).prop_map(|(events, state, zk_root)| Roots {
        events,
        state,
        zk_root,
    })
}

fn channel_state() -> impl Strategy<Value = ChannelState> {
    (channel(), 1u64.., 1u64.., 1u64..).prop_map(|(channel, a, b, c)| {
        let (next_ack, next_send) = (a.min(c), a.max(c));
        ChannelState {
            channel,
            next_send,
            next_recv: b,
            next_ack,
        }
    })
}

fn client_summary() -> impl Strategy<Value = ClientSummary> {
    (chain(), any::<u64>(), hash(), any::<bool>()).prop_map(
        |(chain, latest_height, latest_hash, frozen)| ClientSummary {
            chain,
            latest_height,
            latest_hash,
            frozen,
        },
    )
}

fn event_proof() -> impl Strategy<Value = EventProof> {
    (
        any::<u64>(),
        proptest::option::of(roots()),
        any::<u64>(),
        proptest::collection::vec(hash(), 0..8),
    )
        .prop_map(|(height, opening, leaf_index, siblings)| EventProof {
            height,
            opening,
            proof: MerkleProof {
                leaf_index,
                siblings,
            },
        })
}

fn key() -> impl Strategy<Value = RelayerKey> {
    any::<[u8; 32]>().prop_map(RelayerKey)
}

fn path_policy() -> impl Strategy<Value = PathPolicy> {
    let rule = prop_oneof![
        Just(FieldRule::Hidden),
        Just(FieldRule::Disclose),
        any::<u64>().prop_map(FieldRule::AtLeast),
        any::<u64>().prop_map(FieldRule::AtMost),
    ];
    prop_oneof![
        Just(PathPolicy::Merkle),
        proptest::collection::btree_map("[A-Z]{3,5}", proptest::collection::vec(rule, 0..4), 0..3)
            .prop_map(|kinds| PathPolicy::Groth16 { kinds }),
    ]
}

/// A signed header of family `F` over chosen fields, its sets of `n` keys.
fn header_of<F: Signing + IntoAny>(
    chain_id: &str,
    n: usize,
    seed: u64,
    height: u64,
    time: Timestamp,
    roots: Roots,
) -> AnyHeader {
    let keys = sample::keys::<F>(seed, n);
    let set = F::sample_set(&keys);
    let block = sample::block(
        &BlockFields::<F> {
            chain_id,
            height,
            time,
            previous: Hash32([3; 32]),
            roots,
            validators: &set,
            next_validators: &set,
        },
        &keys,
    );
    F::any_header(block)
}

/// A header of any family (signing is the slow part: few keys).
fn header() -> impl Strategy<Value = AnyHeader> {
    (
        0usize..3,
        "[a-z][a-z0-9-]{0,12}",
        1usize..5,
        any::<u64>(),
        1u64..1_000_000,
        1_600_000_000u32..2_000_000_000,
        roots(),
    )
        .prop_map(|(family, chain_id, n, seed, height, secs, roots)| {
            let time = Timestamp::from_unix_secs(secs);
            match family {
                0 => header_of::<light_clients::cmport::Cmport>(
                    &chain_id, n, seed, height, time, roots,
                ),
                1 => header_of::<light_clients::cosco::Cosco>(
                    &chain_id, n, seed, height, time, roots,
                ),
                _ => header_of::<light_clients::gba::Gba>(&chain_id, n, seed, height, time, roots),
            }
        })
}

/// What a header commits, whatever its family: its summary's hash.
fn header_hash(h: &AnyHeader) -> Hash32 {
    match h {
        AnyHeader::Cmport(b) => {
            light_clients::cmport::Cmport::summary(&b.signed_header)
                .unwrap()
                .hash
        }
        AnyHeader::Cosco(b) => {
            light_clients::cosco::Cosco::summary(&b.signed_header)
                .unwrap()
                .hash
        }
        AnyHeader::Gba(b) => {
            light_clients::gba::Gba::summary(&b.signed_header)
                .unwrap()
                .hash
        }
    }
}

fn relay_msg() -> impl Strategy<Value = RelayMsg> {
    prop_oneof![
        (packet(), event_proof())
            .prop_map(|(packet, proof)| RelayMsg::RecvPacket { packet, proof }),
        (ack(), event_proof()).prop_map(|(ack, proof)| RelayMsg::Acknowledge { ack, proof }),
        (chain(), header()).prop_map(|(chain, header)| RelayMsg::UpdateClient { chain, header }),
    ]
}

fn operator_msg() -> impl Strategy<Value = OperatorMsg> {
    prop_oneof![
        (channel(), "[ -~]{0,20}")
            .prop_map(|(channel, version)| OperatorMsg::OpenChannel { channel, version }),
        channel().prop_map(|channel| OperatorMsg::CloseChannel { channel }),
        key().prop_map(|key| OperatorMsg::RegisterRelayer { key }),
        key().prop_map(|key| OperatorMsg::RetireRelayer { key }),
        (chain(), 0usize..App::ALL.len(), path_policy()).prop_map(|(source, app, policy)| {
            OperatorMsg::SetPathPolicy {
                source,
                app: App::ALL[app],
                policy,
            }
        }),
        (
            chain(),
            0usize..App::ALL.len(),
            proptest::collection::vec(any::<u8>(), 0..100)
        )
            .prop_map(|(source, app, key)| OperatorMsg::RegisterVerifyingKey {
                source,
                app: App::ALL[app],
                key: VerifyingKeyBytes(key),
            }),
        (any::<u64>(), 1usize..4).prop_map(|(seed, n)| {
            let (root, _) = sample::pair::<light_clients::cosco::Cosco>(
                "cosco-1",
                n,
                seed,
                Timestamp::from_unix_secs(1_800_000_000),
            );
            OperatorMsg::CreateClient {
                root: AnyTrustRoot::Cosco(root),
                options: crate::options(),
            }
        }),
    ]
}

fn tx_body() -> impl Strategy<Value = TxBody> {
    prop_oneof![
        operator_msg().prop_map(TxBody::Operator),
        proptest::collection::vec(relay_msg(), 0..3).prop_map(TxBody::Relay),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn packets_acks_and_leaves_round_trip_in_json_and_the_canonical_codec(
        p in packet(), a in ack(), s in channel_state(), c in client_summary(), r in roots(),
    ) {
        both_ways(&p)?;
        both_ways(&a)?;
        both_ways(&s)?;
        both_ways(&StateLeaf::Channel(s.clone()))?;
        both_ways(&StateLeaf::Client(c.clone()))?;
        both_ways(&EventLeaf::from(&p))?;
        both_ways(&EventLeaf::from(&a))?;
        both_ways(&r)?;
        let (back, _) = json_again(&c)?;
        prop_assert_eq!(back, c);
        let (back, _) = json_again(&p.id)?;
        prop_assert_eq!(back, p.id.clone());
    }

    #[test]
    fn block_events_and_proofs_round_trip(p in packet(), a in ack(), proof in event_proof()) {
        for event in [BlockEvent::Packet { packet: p }, BlockEvent::Ack { ack: a }] {
            let (back, _) = json_again(&event)?;
            prop_assert_eq!(back, event);
        }
        let (back, _) = json_again(&proof)?;
        prop_assert_eq!(back, proof);
    }
}

proptest! {
    // Each case signs a header or two: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn headers_of_every_family_keep_their_hash_across_json(h in header()) {
        let (back, _) = json_again(&h)?;
        prop_assert_eq!(back.family(), h.family());
        prop_assert_eq!(header_hash(&back), header_hash(&h));
    }

    #[test]
    fn relay_and_operator_messages_round_trip(msgs in proptest::collection::vec(relay_msg(), 1..3), op in operator_msg()) {
        json_again(&TxBody::Relay(msgs))?;
        json_again(&TxBody::Operator(op.clone()))?;
        json_again(&op)?;
    }

    /// A signed transaction reads back with the same id, and its body
    /// (the text signed) reads back as the same messages.
    #[test]
    fn signed_transactions_round_trip_and_keep_their_id(
        body in tx_body(), seed in any::<[u8; 32]>(), chain_id in chain(), nonce in any::<u64>(),
    ) {
        let signer = ed25519_consensus::SigningKey::from(seed);
        let tx = SignedTx::sign(&signer, &chain_id, nonce, &body);
        let (back, _) = json_again(&tx)?;
        prop_assert_eq!(back.id(), tx.id());
        prop_assert_eq!(&back.body, &tx.body);
        prop_assert_eq!(&back.signature, &tx.signature);
        let inner: TxBody = light_clients::json::from_str(&back.body)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(serde_json::to_string(&inner).unwrap(), tx.body.clone());
    }
}

#[test]
fn a_trust_root_of_each_family_round_trips() {
    fn one<F: Signing>()
    where
        TrustRoot<F>: Serialize + DeserializeOwned,
    {
        let (root, _) = sample::pair::<F>("port-1", 4, 9, Timestamp::from_unix_secs(1_800_000_000));
        let text = serde_json::to_string(&root).unwrap();
        let back: TrustRoot<F> = light_clients::json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        assert_eq!(back.check().unwrap().0.hash, root.check().unwrap().0.hash);
    }
    one::<light_clients::cmport::Cmport>();
    one::<light_clients::cosco::Cosco>();
    one::<light_clients::gba::Gba>();
}
