//! Round trips of every RPC wire message (`adapters::wire`): what a ledger
//! writes, an adapter reads back through the strict parser (repeated keys
//! and unknown fields refused) as the same message, and writes again as
//! the same text. A small case count keeps the suite fast.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use adapters::wire::*;
use light_clients::any::{AnyHeader, FamilyName};
use light_clients::client::{Evidence, Status};
use light_clients::host::{BlockEvent, Channel, EventProof, Outcome, RelayerKey};
use light_clients::zk::{
    DisclosedRecord, DisclosedRule, Disclosure, FieldRule, PathPolicy, VerifyingKeyBytes,
};
use light_clients::{
    Ack, AckResult, App, ChainId, ChannelId, ChannelState, ClientSummary, Hash32, MerkleCommitment,
    MerkleProof, Packet, PacketId, Roots, Timeout, Timestamp,
};

/// Writes `v`, reads it back strictly, writes it again: the same text.
fn json_again<T: Serialize + DeserializeOwned>(v: &T) -> Result<T, TestCaseError> {
    let text = serde_json::to_string(v).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = light_clients::json::from_str(&text)
        .map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
    let again = serde_json::to_string(&back).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(again, text);
    Ok(back)
}

/// [`json_again`], and the value read is the value written.
fn same<T: Serialize + DeserializeOwned + PartialEq + core::fmt::Debug>(
    v: &T,
) -> Result<(), TestCaseError> {
    let back = json_again(v)?;
    prop_assert_eq!(&back, v);
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

fn key() -> impl Strategy<Value = RelayerKey> {
    any::<[u8; 32]>().prop_map(RelayerKey)
}

fn app() -> impl Strategy<Value = App> {
    (0usize..App::ALL.len()).prop_map(|i| App::ALL[i])
}

fn family() -> impl Strategy<Value = FamilyName> {
    prop_oneof![
        Just(FamilyName::Cmport),
        Just(FamilyName::Cosco),
        Just(FamilyName::Gba)
    ]
}

fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,24}"
}

fn channel() -> impl Strategy<Value = ChannelId> {
    (chain(), chain(), app())
        .prop_filter("distinct chains", |(s, d, _)| s != d)
        .prop_map(|(source, destination, app)| ChannelId {
            source,
            destination,
            app,
        })
}

fn packet_id() -> impl Strategy<Value = PacketId> {
    (channel(), 1u64..).prop_map(|(channel, sequence)| PacketId { channel, sequence })
}

fn ack_result() -> impl Strategy<Value = AckResult> {
    prop_oneof![
        Just(AckResult::Ok),
        Just(AckResult::Timeout),
        text().prop_map(AckResult::Error),
    ]
}

fn block_event() -> impl Strategy<Value = BlockEvent> {
    prop_oneof![
        (
            packet_id(),
            time(),
            proptest::option::of(any::<u64>()),
            proptest::collection::vec(any::<u8>(), 0..64)
        )
            .prop_map(|(id, time, height, payload)| BlockEvent::Packet {
                packet: Packet {
                    id,
                    timeout: Timeout { time, height },
                    payload,
                }
            }),
        (packet_id(), hash(), ack_result()).prop_map(|(packet, packet_commitment, result)| {
            BlockEvent::Ack {
                ack: Ack {
                    packet,
                    packet_commitment,
                    result,
                },
            }
        }),
    ]
}

fn roots() -> impl Strategy<Value = Roots> {
    (hash(), any::<u64>(), hash(), any::<u64>(), hash()).prop_map(|(a, n, b, m, zk_root)| Roots {
        events: MerkleCommitment { root: a, count: n },
        state: MerkleCommitment { root: b, count: m },
        zk_root,
    })
}

fn proof() -> impl Strategy<Value = EventProof> {
    (
        any::<u64>(),
        proptest::option::of(roots()),
        any::<u64>(),
        proptest::collection::vec(hash(), 0..6),
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

fn evidence() -> impl Strategy<Value = Evidence> {
    prop_oneof![
        (any::<u64>(), hash(), hash()).prop_map(|(height, first, second)| {
            Evidence::ConflictingHeaders {
                height,
                first,
                second,
            }
        }),
        (any::<u64>(), time(), any::<u64>(), time()).prop_map(|(a, t, b, u)| {
            Evidence::TimeNotIncreasing {
                lower_height: a,
                lower_time: t,
                higher_height: b,
                higher_time: u,
            }
        }),
    ]
}

fn client_info() -> impl Strategy<Value = ClientInfo> {
    (
        chain(),
        family(),
        any::<u64>(),
        prop_oneof![
            Just(Status::Active),
            Just(Status::Expired),
            Just(Status::Frozen)
        ],
        time(),
        proptest::option::of(evidence()),
    )
        .prop_map(
            |(chain, family, latest_height, status, expires_at, frozen)| ClientInfo {
                chain,
                family,
                latest_height,
                status,
                expires_at,
                frozen,
            },
        )
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        (chain(), any::<u64>())
            .prop_map(|(chain, height)| Outcome::ClientUpdated { chain, height }),
        (packet_id(), ack_result()).prop_map(|(packet, ack)| Outcome::Received { packet, ack }),
        key().prop_map(|key| Outcome::RelayerRegistered { key }),
        (chain(), evidence())
            .prop_map(|(chain, evidence)| Outcome::ClientFrozen { chain, evidence }),
    ]
}

fn msg_result() -> impl Strategy<Value = MsgResult> {
    prop_oneof![
        outcome().prop_map(|outcome| MsgResult::Ok { outcome }),
        (text(), text()).prop_map(|(check, message)| MsgResult::Err { check, message }),
    ]
}

/// Small JSON documents without floats (whose text may not round trip).
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        text().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn submit_event() -> impl Strategy<Value = SubmitEvent> {
    (chain(), json_value(), proptest::option::of(any::<u64>())).prop_map(
        |(destination, event, timeout_secs)| SubmitEvent {
            version: WIRE_VERSION,
            destination,
            event,
            timeout_secs,
        },
    )
}

fn submitted_event() -> impl Strategy<Value = SubmittedEvent> {
    (
        proptest::option::of(packet_id()),
        proptest::option::of((text(), json_value())),
        proptest::collection::vec((text(), text(), text()), 0..3),
    )
        .prop_map(|(packet, ebl, warnings)| SubmittedEvent {
            version: WIRE_VERSION,
            packet,
            ebl: ebl.map(|(response_code, entry)| EblReceipt {
                response_code,
                entry,
            }),
            warnings: warnings
                .into_iter()
                .map(|(rule, field, message)| EventWarning {
                    rule,
                    field,
                    message,
                })
                .collect(),
        })
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

fn disclosure() -> impl Strategy<Value = Disclosure> {
    let rule = prop_oneof![
        Just(DisclosedRule::Hidden),
        hash().prop_map(DisclosedRule::Equals),
        any::<u64>().prop_map(DisclosedRule::AtLeast),
        any::<u64>().prop_map(DisclosedRule::AtMost),
    ];
    (
        hash(),
        proptest::collection::vec((packet_id(), proptest::collection::vec(rule, 0..4)), 0..3),
        proptest::collection::vec(any::<u8>(), 0..128),
    )
        .prop_map(|(zk_root, records, proof)| Disclosure {
            zk_root,
            records: records
                .into_iter()
                .map(|(packet, rules)| DisclosedRecord { packet, rules })
                .collect(),
            proof,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn status_accounts_and_locations_round_trip(
        chain_id in chain(), family in family(), height in any::<u64>(), t in time(),
        operator in key(), validators in any::<u64>(), ebl in key(),
        max_tx_bytes in proptest::option::of(any::<u64>()), packet in packet_id(),
        result in ack_result(), operator_flag in any::<bool>(), next_nonce in any::<u64>(),
    ) {
        same(&NodeStatus {
            version: WIRE_VERSION, chain_id, family, height, time: t, operator,
            validators, ebl_platform: ebl, max_tx_bytes,
        })?;
        same(&AccountResponse { version: WIRE_VERSION, key: operator, next_nonce, operator: operator_flag })?;
        same(&PacketLocation { version: WIRE_VERSION, packet: packet.clone(), height })?;
        same(&ReceiptLocation { version: WIRE_VERSION, packet, height, result })?;
    }

    #[test]
    fn block_events_and_state_round_trip(
        height in any::<u64>(), roots in roots(),
        events in proptest::collection::vec((any::<u64>(), block_event(), proof()), 0..4),
        channels in proptest::collection::vec((channel(), 1u64.., 1u64.., proof()), 0..3),
        clients in proptest::collection::vec((chain(), any::<u64>(), hash(), any::<bool>(), proof()), 0..3),
    ) {
        same(&BlockEvents {
            version: WIRE_VERSION, height, proof_height: height.saturating_add(1), roots,
            events: events.into_iter().map(|(index, event, proof)| ProvenEvent { index, event, proof }).collect(),
        })?;
        same(&BlockState {
            version: WIRE_VERSION, height, proof_height: height, roots,
            channels: channels.into_iter().map(|(channel, a, b, proof)| ProvenChannelState {
                state: ChannelState { channel, next_send: a.max(b), next_recv: b, next_ack: a.min(b) },
                proof,
            }).collect(),
            clients: clients.into_iter().map(|(chain, latest_height, latest_hash, frozen, proof)| ProvenClientState {
                summary: ClientSummary { chain, latest_height, latest_hash, frozen },
                proof,
            }).collect(),
        })?;
    }

    #[test]
    fn channels_and_clients_round_trip(
        height in any::<u64>(),
        channels in proptest::collection::vec((channel(), text(), any::<bool>(), any::<u64>(), any::<u64>(), any::<u64>()), 0..3),
        clients in proptest::collection::vec(client_info(), 0..3),
    ) {
        same(&ChannelsResponse {
            version: WIRE_VERSION, height,
            channels: channels.into_iter().map(|(id, version, open, next_send, next_recv, next_ack)| Channel {
                id, version, open, next_send, next_recv, next_ack,
            }).collect(),
        })?;
        same(&ClientsResponse { version: WIRE_VERSION, height, clients })?;
    }

    #[test]
    fn transactions_and_errors_round_trip(
        id in "[0-9a-f]{64}", height in proptest::option::of(any::<u64>()),
        results in proptest::collection::vec(msg_result(), 0..4), code in text(), message in text(),
    ) {
        same(&TxResponse { version: WIRE_VERSION, id, height, results })?;
        same(&ErrorBody { code, message })?;
    }

    #[test]
    fn events_submitted_and_their_answers_round_trip(
        one in submit_event(), many in proptest::collection::vec(submit_event(), 0..4),
        answers in proptest::collection::vec(prop_oneof![
            submitted_event().prop_map(SubmittedItem::Submitted),
            (any::<u64>(), 400u16..600, text(), text()).prop_map(|(index, status, code, message)| {
                SubmittedItem::Refused(RefusedEvent { index, status, code, message })
            }),
        ], 0..4),
        answer in submitted_event(),
    ) {
        json_again(&one)?;
        json_again(&SubmitEvents { version: WIRE_VERSION, events: many })?;
        same(&answer)?;
        // An untagged answer: each item reads back as the kind it was.
        same(&SubmittedEvents { version: WIRE_VERSION, results: answers })?;
    }

    #[test]
    fn zk_messages_round_trip(
        source in chain(), app in app(), policy in path_policy(), registered in any::<bool>(),
        depth in any::<u32>(), records in any::<usize>(), width in any::<usize>(),
        key in proptest::collection::vec(any::<u8>(), 0..128), unsafe_ in any::<bool>(),
        proof_height in any::<u64>(), packets in proptest::collection::vec(packet_id(), 0..4),
        disclosures in proptest::collection::vec(disclosure(), 0..3),
    ) {
        same(&PathPolicyResponse { version: WIRE_VERSION, source, app, policy: policy.clone(), key_registered: registered })?;
        same(&ZkKeyResponse { version: WIRE_VERSION, depth, records, width, key: VerifyingKeyBytes(key), devnet_unsafe: unsafe_ })?;
        same(&DiscloseRequest { version: WIRE_VERSION, proof_height, packets, policy })?;
        same(&DisclosureResponse { version: WIRE_VERSION, proof_height, disclosures })?;
    }
}

proptest! {
    // Each case signs a header.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn header_responses_round_trip(n in 1usize..5, seed in any::<u64>(), secs in 1_600_000_000u32..2_000_000_000, which in 0usize..3) {
        let t = Timestamp::from_unix_secs(secs);
        let header = match which {
            0 => AnyHeader::Cmport(light_clients::sample::pair::<light_clients::cmport::Cmport>("cmport-1", n, seed, t).1),
            1 => AnyHeader::Cosco(light_clients::sample::pair::<light_clients::cosco::Cosco>("cosco-1", n, seed, t).1),
            _ => AnyHeader::Gba(light_clients::sample::pair::<light_clients::gba::Gba>("gba-1", n, seed, t).1),
        };
        let back = json_again(&HeaderResponse { version: WIRE_VERSION, height: 2, header })?;
        prop_assert_eq!(back.height, 2);
    }
}

/// An unknown field is refused by its name in every message, wherever it
/// is added (the top, or an object inside).
#[test]
fn an_unknown_field_is_refused_by_name_in_every_message() {
    fn refused<T: Serialize + DeserializeOwned>(v: &T, path: &[&str]) {
        let mut value = serde_json::to_value(v).unwrap();
        let mut at = &mut value;
        for p in path {
            at = match p.parse::<usize>() {
                Ok(i) => at.get_mut(i),
                Err(_) => at.get_mut(*p),
            }
            .unwrap();
        }
        at.as_object_mut()
            .unwrap()
            .insert("surprise".into(), true.into());
        let e = light_clients::json::from_str::<T>(&value.to_string())
            .err()
            .unwrap_or_else(|| panic!("{path:?}: accepted {value}"));
        assert!(
            e.to_string().contains("unknown field `surprise`"),
            "{path:?}: {e}"
        );
    }
    let chain = ChainId::new("cosco-1").unwrap();
    let packet = PacketId {
        channel: ChannelId {
            source: chain.clone(),
            destination: ChainId::new("gba-1").unwrap(),
            app: App::Cargo,
        },
        sequence: 1,
    };
    refused(
        &NodeStatus {
            version: 1,
            chain_id: chain.clone(),
            family: FamilyName::Cosco,
            height: 1,
            time: Timestamp::from_unix_secs(1),
            operator: RelayerKey([1; 32]),
            validators: 4,
            ebl_platform: RelayerKey([2; 32]),
            max_tx_bytes: None,
        },
        &[],
    );
    let events = BlockEvents {
        version: 1,
        height: 1,
        proof_height: 1,
        roots: Roots::default(),
        events: vec![ProvenEvent {
            index: 0,
            event: BlockEvent::Ack {
                ack: Ack {
                    packet: packet.clone(),
                    packet_commitment: Hash32::ZERO,
                    result: AckResult::Ok,
                },
            },
            proof: EventProof {
                height: 1,
                opening: Some(Roots::default()),
                proof: MerkleProof {
                    leaf_index: 0,
                    siblings: vec![],
                },
            },
        }],
    };
    for path in [
        &[][..],
        &["roots"],
        &["roots", "events"],
        &["events", "0"],
        &["events", "0", "event"],
        &["events", "0", "event", "ack"],
        &["events", "0", "event", "ack", "packet"],
        &["events", "0", "event", "ack", "packet", "channel"],
        &["events", "0", "proof"],
        &["events", "0", "proof", "opening"],
        &["events", "0", "proof", "proof"],
    ] {
        refused(&events, path);
    }
    refused(
        &TxResponse {
            version: 1,
            id: "ab".into(),
            height: Some(1),
            results: vec![MsgResult::Ok {
                outcome: Outcome::Received {
                    packet: packet.clone(),
                    ack: AckResult::Ok,
                },
            }],
        },
        &["results", "0"],
    );
    refused(
        &SubmittedEvents {
            version: 1,
            results: vec![],
        },
        &[],
    );
    refused(
        &ErrorBody {
            code: "c".into(),
            message: "m".into(),
        },
        &[],
    );
    refused(
        &ClientsResponse {
            version: 1,
            height: 1,
            clients: vec![ClientInfo {
                chain,
                family: FamilyName::Gba,
                latest_height: 1,
                status: Status::Active,
                expires_at: Timestamp::from_unix_secs(9),
                frozen: None,
            }],
        },
        &["clients", "0"],
    );
}
