//! Trade receipts (`light_clients::receipt`): a receipt of each family and
//! each kind of fact verifies; every field tampered in turn fails by the
//! name of its check; the format round-trips and refuses what it does not
//! define.

use light_clients::any::{AnyTrustRoot, FamilyName, IntoAny};
use light_clients::codec::Canonical;
use light_clients::host;
use light_clients::receipt::{self, Fact, InclusionProof, Location, Receipt, ReceiptError};
use light_clients::sample::{self, BlockFields, Signing};
use light_clients::{
    Ack, AckResult, App, ChainId, ChannelId, EventLeaf, Hash32, Packet, PacketId, Roots, Timeout,
    Timestamp, TrustRoot,
};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::{at, now, options, CHAIN};

/// The block that emits the fact.
const FACT_HEIGHT: u64 = 5;
const OTHER: &str = "port-2";

fn chain(s: &str) -> ChainId {
    ChainId::new(s).unwrap()
}

fn packet(source: &str, destination: &str, sequence: u64, payload: &[u8]) -> Packet {
    Packet {
        id: PacketId {
            channel: ChannelId {
                source: chain(source),
                destination: chain(destination),
                app: App::Cargo,
            },
            sequence,
        },
        timeout: Timeout {
            time: at(7200),
            height: None,
        },
        payload: payload.to_vec(),
    }
}

fn event(n: u64) -> Vec<u8> {
    format!(r#"{{"eventType":"EQUIPMENT","equipmentReference":"MSKU907032{n}","n":{n}}}"#)
        .into_bytes()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A packet `CHAIN` sent.
    Packet,
    /// `CHAIN`'s receipt of a packet from `OTHER`.
    Receipt,
}

/// A valid receipt of family `F`: block `FACT_HEIGHT` of `CHAIN` emits
/// three leaves, the fact is leaf 1; the root is block 1; the headers are
/// the fact's block and (gba) the one after it, by skipping.
pub struct Built {
    pub receipt: Receipt,
    pub root: AnyTrustRoot,
}

pub fn build<F: Signing + IntoAny>(kind: Kind) -> Built {
    build_with::<F>(kind, &sample::keys::<F>(7, 4), None)
}

/// [`build`] with the trust root at `root_at`, above the fact's block: the
/// headers are every one from the fact's block to the root's predecessor.
pub fn build_backward<F: Signing + IntoAny>(kind: Kind, root_at: u64) -> Built {
    build_full::<F>(kind, &sample::keys::<F>(7, 4), None, root_at)
}

/// [`build`] with the validator keys of the chain; with `rotate_at`, a
/// disjoint set signs from that height on (so the chain must stop at
/// `rotate_at - 1` before it can reach the fact).
pub fn build_with<F: Signing + IntoAny>(
    kind: Kind,
    keys: &[F::Key],
    rotate_at: Option<u64>,
) -> Built {
    build_full::<F>(kind, keys, rotate_at, 1)
}

fn build_full<F: Signing + IntoAny>(
    kind: Kind,
    keys: &[F::Key],
    rotate_at: Option<u64>,
    root_at: u64,
) -> Built {
    let other_keys = sample::keys::<F>(8, 4);
    let set_a = F::validator_set(keys);
    let set_b = F::validator_set(&other_keys);
    let (facts, leaves): (Vec<Fact>, Vec<EventLeaf>) = (1..=3)
        .map(|seq| {
            let fact = match kind {
                Kind::Packet => Fact::Packet {
                    packet: packet(CHAIN, OTHER, seq, &event(seq)),
                },
                Kind::Receipt => {
                    let p = packet(OTHER, CHAIN, seq, &event(seq));
                    let ack = Ack {
                        packet: p.id.clone(),
                        packet_commitment: p.commitment(),
                        result: AckResult::Ok,
                    };
                    Fact::Receipt { packet: p, ack }
                }
            };
            let leaf = fact.leaf();
            (fact, leaf)
        })
        .unzip();
    let encoded: Vec<Vec<u8>> = leaves.iter().map(Canonical::encode).collect();
    let roots = Roots {
        events: host::commit(F::TREE_HASH, &encoded),
        ..Roots::empty(F::TREE_HASH)
    };
    let proof_height = F::proof_height(FACT_HEIGHT);
    let mut blocks: Vec<light_clients::UntrustedBlock<F>> = Vec::new();
    let mut previous = Hash32::ZERO;
    for height in 1..=proof_height.max(root_at) {
        let (v, nv) = match rotate_at {
            Some(r) if height >= r => (&set_b, &set_b),
            Some(r) if height + 1 == r => (&set_a, &set_b),
            _ => (&set_a, &set_a),
        };
        let signers = if rotate_at.is_some_and(|r| height >= r) {
            &other_keys[..]
        } else {
            keys
        };
        let block_roots = if F::roots_height(height) == FACT_HEIGHT && height >= F::ROOTS_LAG {
            roots
        } else {
            Roots::empty(F::TREE_HASH)
        };
        let block = sample::block(
            &BlockFields::<F> {
                chain_id: CHAIN,
                height,
                time: at(height * 10),
                previous,
                roots: block_roots,
                validators: v,
                next_validators: nv,
            },
            signers,
        );
        previous = F::summary(&block.signed_header).unwrap().hash;
        blocks.push(block);
    }
    let first = blocks[(root_at - 1) as usize].clone();
    let root = TrustRoot {
        signed_header: first.signed_header,
        next_validators: first.next_validators,
        validators: Some(first.validators),
    };
    let mut wanted: Vec<u64> = vec![FACT_HEIGHT, proof_height];
    if let Some(r) = rotate_at {
        wanted.push(r - 1);
    }
    wanted.sort_unstable();
    wanted.dedup();
    if root_at > FACT_HEIGHT {
        wanted = (FACT_HEIGHT..root_at).collect();
    }
    let headers = wanted
        .iter()
        .map(|h| F::any_header(blocks[(*h - 1) as usize].clone()))
        .collect();
    let fact = facts[1].clone();
    let location = Location {
        chain_id: chain(CHAIN),
        height: FACT_HEIGHT,
        leaf_index: 1,
    };
    let statement = receipt::statement(F::FAMILY, &location, at(FACT_HEIGHT * 10), &fact);
    let proof = host::prove(F::TREE_HASH, &encoded, 1).unwrap();
    Built {
        receipt: Receipt {
            format: receipt::RECEIPT_FORMAT.into(),
            version: receipt::RECEIPT_VERSION,
            family: F::FAMILY,
            statement,
            fact,
            location,
            proof: InclusionProof {
                proof_height,
                siblings: proof.siblings,
                opening: F::ROOTS_OPENING.then_some(roots),
            },
            headers,
        },
        root: F::any_root(root),
    }
}

/// Writes, reads back and verifies: what `portrelay receipt verify` does.
fn check_bytes(
    bytes: &[u8],
    root: &AnyTrustRoot,
    now: Timestamp,
) -> Result<receipt::Proven, ReceiptError> {
    let receipt = Receipt::from_json(bytes)?;
    receipt::verify(&receipt, root, &options(), now)
}

fn tampered(built: &Built, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(&built.receipt.to_json()).unwrap();
    change(&mut value);
    serde_json::to_vec_pretty(&value).unwrap()
}

fn check_of(bytes: &[u8], root: &AnyTrustRoot) -> &'static str {
    match check_bytes(bytes, root, now()) {
        Ok(p) => panic!("a tampered receipt verified: {}", p.statement),
        Err(e) => e.check(),
    }
}

/// Changes the first hex digit (or base64 letter) of the string at `pointer`.
fn flip_char(value: &mut Value, pointer: &str) {
    let s = value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"));
    let text = s.as_str().unwrap().to_string();
    let mut chars: Vec<char> = text.chars().collect();
    // The middle of the string: valid in hex and base64 alike.
    let i = chars.len() / 2;
    chars[i] = if chars[i] == '1' { '2' } else { '1' };
    *s = Value::String(chars.into_iter().collect());
}

/// The JSON path of the first signature of header 0, per family.
fn signature_path(family: FamilyName) -> &'static str {
    match family {
        FamilyName::Cmport => "/headers/0/value/signed_header/signatures/0/signature",
        FamilyName::Cosco => "/headers/0/value/signed_header/seals/0/signature",
        FamilyName::Gba => "/headers/0/value/signed_header/commit/signatures/0/signature",
    }
}

fn verifies<F: Signing + IntoAny>() {
    for kind in [Kind::Packet, Kind::Receipt] {
        let built = build::<F>(kind);
        let proven = check_bytes(&built.receipt.to_json(), &built.root, now())
            .unwrap_or_else(|e| panic!("{kind:?}: {}: {e}", e.check()));
        assert_eq!(proven.family, F::FAMILY);
        assert_eq!(proven.chain_id.as_str(), CHAIN);
        assert_eq!(proven.height, FACT_HEIGHT);
        assert_eq!(proven.time, at(FACT_HEIGHT * 10));
        assert_eq!(proven.leaf_index, 1);
        assert_eq!(proven.proof_height, F::proof_height(FACT_HEIGHT));
        assert_eq!(proven.trust_root_height, 1);
        assert_eq!(proven.fact, built.receipt.fact);
        assert_eq!(proven.statement, built.receipt.statement);
        assert_eq!(
            proven.fact.kind(),
            if kind == Kind::Packet {
                "packet"
            } else {
                "receipt"
            }
        );
    }
}

/// Each field of the bundle, tampered in turn, fails by its check's name.
fn tampering_fails_by_name<F: Signing + IntoAny>() {
    let family = F::FAMILY;
    let built = build::<F>(Kind::Packet);
    let receipt_built = build::<F>(Kind::Receipt);
    let root = &built.root;
    let expect = |what: &str, bytes: Vec<u8>, root: &AnyTrustRoot, check: &str| {
        assert_eq!(check_of(&bytes, root), check, "{family}: {what}");
    };
    // The fact.
    expect(
        "payload byte",
        tampered(&built, |v| flip_char(v, "/fact/packet/payload")),
        root,
        "merkle_proof",
    );
    expect(
        "payload byte of a relayed packet",
        tampered(&receipt_built, |v| flip_char(v, "/fact/packet/payload")),
        &receipt_built.root,
        "fact_mismatch",
    );
    expect(
        "ack result",
        tampered(&receipt_built, |v| {
            v["fact"]["ack"]["result"] = json!({"status": "timeout"});
        }),
        &receipt_built.root,
        "merkle_proof",
    );
    expect(
        "ack of another packet",
        tampered(&receipt_built, |v| {
            v["fact"]["ack"]["packet"]["sequence"] = json!(3)
        }),
        &receipt_built.root,
        "fact_mismatch",
    );
    expect(
        "packet sequence",
        tampered(&built, |v| v["fact"]["packet"]["id"]["sequence"] = json!(3)),
        root,
        "merkle_proof",
    );
    expect(
        "packet from another chain",
        tampered(&built, |v| {
            v["fact"]["packet"]["id"]["channel"]["source"] = json!("port-3")
        }),
        root,
        "chain_id",
    );
    expect(
        "packet sequence 0",
        tampered(&built, |v| v["fact"]["packet"]["id"]["sequence"] = json!(0)),
        root,
        "value",
    );
    // Where it is.
    expect(
        "leaf index",
        tampered(&built, |v| v["location"]["leaf_index"] = json!(2)),
        root,
        "merkle_proof",
    );
    expect(
        "leaf index out of the tree",
        tampered(&built, |v| v["location"]["leaf_index"] = json!(3)),
        root,
        "merkle_proof",
    );
    expect(
        "height",
        tampered(&built, |v| v["location"]["height"] = json!(FACT_HEIGHT + 1)),
        root,
        "proof_height",
    );
    expect(
        "location chain",
        tampered(&built, |v| v["location"]["chain_id"] = json!(OTHER)),
        root,
        "chain_id",
    );
    // The proof.
    expect(
        "sibling",
        tampered(&built, |v| flip_char(v, "/proof/siblings/0")),
        root,
        "merkle_proof",
    );
    expect(
        "a sibling dropped",
        tampered(&built, |v| {
            v["proof"]["siblings"].as_array_mut().unwrap().pop();
        }),
        root,
        "merkle_proof",
    );
    expect(
        "proof height",
        tampered(&built, |v| {
            v["proof"]["proof_height"] = json!(FACT_HEIGHT + 2)
        }),
        root,
        "proof_height",
    );
    if F::ROOTS_OPENING {
        expect(
            "opening",
            tampered(&built, |v| flip_char(v, "/proof/opening/events/root")),
            root,
            "app_hash",
        );
        expect(
            "opening's leaf count",
            tampered(&built, |v| {
                v["proof"]["opening"]["events"]["count"] = json!(4)
            }),
            root,
            "app_hash",
        );
        expect(
            "opening removed",
            tampered(&built, |v| {
                v["proof"].as_object_mut().unwrap().remove("opening");
            }),
            root,
            "app_hash_opening",
        );
    } else {
        let opening = serde_json::to_value(Roots::empty(F::TREE_HASH)).unwrap();
        expect(
            "opening added",
            tampered(&built, |v| v["proof"]["opening"] = opening),
            root,
            "app_hash_opening",
        );
    }
    // The headers.
    let sig = signature_path(family);
    expect(
        "signature",
        tampered(&built, |v| flip_char(v, sig)),
        root,
        "signature",
    );
    let time = "/headers/0/value/signed_header/header/time";
    let header_time_check = if family == FamilyName::Gba {
        "commit"
    } else {
        "signature"
    };
    expect(
        "header time",
        tampered(&built, |v| {
            let s = v.pointer_mut(time).unwrap();
            let t = s.as_str().unwrap().replace(":50Z", ":51Z");
            assert_ne!(Some(t.as_str()), s.as_str(), "{family}: {s}");
            *s = Value::String(t);
        }),
        root,
        header_time_check,
    );
    let foreign_set = serde_json::to_value(F::validator_set(&sample::keys::<F>(99, 4))).unwrap();
    expect(
        "validator set",
        tampered(&built, |v| {
            v["headers"][0]["value"]["validators"] = foreign_set.clone()
        }),
        root,
        "validators_hash",
    );
    expect(
        "next validator set",
        tampered(&built, |v| {
            v["headers"][0]["value"]["next_validators"] = foreign_set.clone()
        }),
        root,
        "next_validators_hash",
    );
    expect(
        "headers removed",
        tampered(&built, |v| v["headers"] = json!([])),
        root,
        "header_chain",
    );
    expect(
        "headers out of order",
        tampered(&built, |v| {
            let h = v["headers"].as_array_mut().unwrap();
            let first = h[0].clone();
            h.push(first);
        }),
        root,
        "header_chain",
    );
    // A header of the same chain signed by other keys (a forged chain)
    // does not verify from the real root.
    let forged = build_with::<F>(Kind::Packet, &sample::keys::<F>(42, 4), None);
    expect(
        "headers of a forged chain",
        forged.receipt.to_json(),
        root,
        "trust_threshold",
    );
    // The trust root.
    let other_chain = {
        let keys = sample::keys::<F>(7, 4);
        let set = F::validator_set(&keys);
        let b = sample::block(
            &BlockFields::<F> {
                chain_id: "port-9",
                height: 1,
                time: at(0),
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
    };
    expect(
        "a root of another chain",
        built.receipt.to_json(),
        &other_chain,
        "chain_id",
    );
    let other_family = if family == FamilyName::Gba {
        build::<light_clients::cosco::Cosco>(Kind::Packet).root
    } else {
        build::<light_clients::gba::Gba>(Kind::Packet).root
    };
    expect(
        "a root of another family",
        built.receipt.to_json(),
        &other_family,
        "family",
    );
    // The words.
    expect(
        "statement",
        tampered(&built, |v| {
            v["statement"] = json!(v["statement"].as_str().unwrap().replace("packet", "parcel"))
        }),
        root,
        "statement",
    );
    // The format.
    expect(
        "unknown field",
        tampered(&built, |v| v["note"] = json!("trust me")),
        root,
        "format",
    );
    expect(
        "unknown nested field",
        tampered(&built, |v| {
            v["fact"]["packet"]["id"]["channel"]["via"] = json!("x")
        }),
        root,
        "format",
    );
    expect(
        "unknown field in a header",
        tampered(&built, |v| {
            v["headers"][0]["value"]["signed_header"]["extra"] = json!(1)
        }),
        root,
        "format",
    );
    expect(
        "version",
        tampered(&built, |v| v["version"] = json!(2)),
        root,
        "version",
    );
    expect(
        "format",
        tampered(&built, |v| v["format"] = json!("a-receipt")),
        root,
        "format",
    );
    let text = String::from_utf8(built.receipt.to_json()).unwrap();
    let twice = text.replacen("\"version\": 1,", "\"version\": 1,\n  \"version\": 1,", 1);
    assert_ne!(twice, text);
    expect("a repeated key", twice.into_bytes(), root, "duplicate_key");
    expect("not JSON", b"{\"format\":".to_vec(), root, "malformed_json");
    // The verifier's clock.
    let bytes = built.receipt.to_json();
    let too_late = at(15 * 24 * 3600);
    assert_eq!(
        check_bytes(&bytes, root, too_late).unwrap_err().check(),
        "trusting_period",
        "{family}"
    );
    let too_early = at(20);
    assert_eq!(
        check_bytes(&bytes, root, too_early).unwrap_err().check(),
        "clock_drift",
        "{family}"
    );
}

/// A validator set that rotates completely between the root and the fact:
/// a receipt that skips straight to the fact lacks the trust threshold
/// (bisect); with the header before the rotation, it verifies.
fn rotation_needs_the_intermediate_header<F: Signing + IntoAny>() {
    let keys = sample::keys::<F>(7, 4);
    let built = build_with::<F>(Kind::Packet, &keys, Some(3));
    check_bytes(&built.receipt.to_json(), &built.root, now())
        .unwrap_or_else(|e| panic!("{}: {}: {e}", F::FAMILY, e.check()));
    assert_eq!(
        built.receipt.headers.len(),
        if F::ROOTS_OPENING { 3 } else { 2 }
    );
    let skipped = tampered(&built, |v| {
        v["headers"].as_array_mut().unwrap().remove(0);
    });
    assert_eq!(
        check_of(&skipped, &built.root),
        "trust_threshold",
        "{}",
        F::FAMILY
    );
}

/// A trust root above the fact: the receipt is checked back from it by hash
/// links, so a fact older than any root still trusted forward is proven
/// from a recent one; a broken link, a missing header, a changed set fail
/// by name.
fn backward_from_a_newer_root<F: Signing + IntoAny>() {
    let family = F::FAMILY;
    let root_at = F::proof_height(FACT_HEIGHT) + 3;
    for kind in [Kind::Packet, Kind::Receipt] {
        let built = build_backward::<F>(kind, root_at);
        let proven = check_bytes(&built.receipt.to_json(), &built.root, now())
            .unwrap_or_else(|e| panic!("{family} {kind:?}: {}: {e}", e.check()));
        assert_eq!(proven.trust_root_height, root_at);
        assert_eq!(proven.time, at(FACT_HEIGHT * 10));
        assert_eq!(proven.headers_verified as u64, root_at - FACT_HEIGHT);
    }
    // Trusted for 60 s: the root at block 1 (time 0) has expired by time
    // 100, the root above the fact has not.
    let short = light_clients::TrustOptions {
        trusting_period: core::time::Duration::from_secs(60),
        ..options()
    };
    let later = at(100);
    let forward = build::<F>(Kind::Packet);
    let err = receipt::verify(&forward.receipt, &forward.root, &short, later).unwrap_err();
    assert_eq!(err.check(), "trusting_period", "{family}");
    let built = build_backward::<F>(Kind::Packet, root_at);
    receipt::verify(&built.receipt, &built.root, &short, later)
        .unwrap_or_else(|e| panic!("{family}: {}: {e}", e.check()));
    let expired = at(root_at * 10 + 60);
    let err = receipt::verify(&built.receipt, &built.root, &short, expired).unwrap_err();
    assert_eq!(err.check(), "expired", "{family}");

    let root = &built.root;
    let expect = |what: &str, bytes: Vec<u8>, check: &str| {
        assert_eq!(check_of(&bytes, root), check, "{family}: {what}");
    };
    let field = if F::ROOTS_OPENING {
        "app_hash"
    } else {
        "zk_root"
    };
    expect(
        "a header field",
        tampered(&built, |v| {
            flip_char(v, &format!("/headers/1/value/signed_header/header/{field}"))
        }),
        "header_chain",
    );
    expect(
        "a header dropped",
        tampered(&built, |v| {
            v["headers"].as_array_mut().unwrap().remove(1);
        }),
        "header_chain",
    );
    expect(
        "the last header dropped",
        tampered(&built, |v| {
            v["headers"].as_array_mut().unwrap().pop();
        }),
        "header_chain",
    );
    let foreign_set = serde_json::to_value(F::validator_set(&sample::keys::<F>(99, 4))).unwrap();
    expect(
        "validator set",
        tampered(&built, |v| {
            v["headers"][0]["value"]["validators"] = foreign_set
        }),
        "validators_hash",
    );
    expect(
        "payload byte",
        tampered(&built, |v| flip_char(v, "/fact/packet/payload")),
        "merkle_proof",
    );
    expect(
        "sibling",
        tampered(&built, |v| flip_char(v, "/proof/siblings/0")),
        "merkle_proof",
    );
    if F::ROOTS_OPENING {
        expect(
            "opening",
            tampered(&built, |v| flip_char(v, "/proof/opening/events/root")),
            "app_hash",
        );
    }
}

crate::for_each_family!(
    backward => backward_from_a_newer_root,
    receipts_verify => verifies,
    tampered_receipts_fail_by_name => tampering_fails_by_name,
    rotation => rotation_needs_the_intermediate_header,
);

fn arb_fact() -> impl Strategy<Value = Fact> {
    (
        1u64..,
        proptest::collection::vec(any::<u8>(), 0..200),
        any::<bool>(),
        0usize..3,
        any::<u64>(),
        proptest::option::of(any::<u64>()),
        "[ -~]{1,40}",
    )
        .prop_map(|(seq, payload, relayed, result, time, height, reason)| {
            let mut p = packet(CHAIN, OTHER, seq, &payload);
            p.timeout = Timeout {
                time: Timestamp::from_unix_nanos(time),
                height,
            };
            if relayed {
                let result = match result {
                    0 => AckResult::Ok,
                    1 => AckResult::Error(reason),
                    _ => AckResult::Timeout,
                };
                Fact::Receipt {
                    ack: Ack {
                        packet: p.id.clone(),
                        packet_commitment: p.commitment(),
                        result,
                    },
                    packet: p,
                }
            } else {
                Fact::Packet { packet: p }
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any receipt the format can hold is read back as the same receipt
    /// (whatever its validity), and written the same way.
    #[test]
    fn the_format_round_trips(
        fact in arb_fact(),
        height in any::<u64>(),
        leaf_index in any::<u64>(),
        siblings in proptest::collection::vec(any::<[u8; 32]>(), 0..12),
        opening in proptest::option::of((any::<[u8; 32]>(), any::<u64>())),
        statement in "\\PC{0,80}",
        gba_headers in any::<bool>(),
    ) {
        let built = if gba_headers {
            build::<light_clients::gba::Gba>(Kind::Packet)
        } else {
            build::<light_clients::cmport::Cmport>(Kind::Packet)
        };
        let receipt = Receipt {
            statement,
            fact,
            location: Location { chain_id: chain(CHAIN), height, leaf_index },
            proof: InclusionProof {
                proof_height: height,
                siblings: siblings.into_iter().map(Hash32).collect(),
                opening: opening.map(|(root, count)| Roots {
                    events: light_clients::MerkleCommitment { root: Hash32(root), count },
                    ..Roots::default()
                }),
            },
            ..built.receipt
        };
        let bytes = receipt.to_json();
        let back = Receipt::from_json(&bytes).map_err(|e| TestCaseError::fail(format!("{}: {e}", e.check())))?;
        prop_assert_eq!(back.to_json(), bytes);
        prop_assert_eq!(back.fact, receipt.fact);
        prop_assert_eq!(back.location, receipt.location);
        prop_assert_eq!(back.proof, receipt.proof);
    }

    /// One byte of a valid receipt changed: the reader and the verifier
    /// never panic, and whatever still verifies proves the same fact at the
    /// same place with the same proof and statement. Bytes the verifier
    /// does not count may differ: whitespace, an escape of the same text, or
    /// a seal by a key outside the set (which adds nothing and is not even
    /// parsed).
    #[test]
    fn a_changed_byte_is_refused_or_changes_nothing(at_byte in any::<prop::sample::Index>(), to in any::<u8>(), family in 0usize..3) {
        let built = match family {
            0 => build::<light_clients::cmport::Cmport>(Kind::Receipt),
            1 => build::<light_clients::cosco::Cosco>(Kind::Packet),
            _ => build::<light_clients::gba::Gba>(Kind::Receipt),
        };
        let bytes = built.receipt.to_json();
        let mut changed = bytes.clone();
        let i = at_byte.index(bytes.len());
        changed[i] = to;
        if let Ok(proven) = check_bytes(&changed, &built.root, now()) {
            let again = Receipt::from_json(&changed).unwrap();
            prop_assert_eq!(&again.fact, &built.receipt.fact);
            prop_assert_eq!(&again.location, &built.receipt.location);
            prop_assert_eq!(&again.proof, &built.receipt.proof);
            prop_assert_eq!(&again.statement, &built.receipt.statement);
            prop_assert_eq!(proven.statement, built.receipt.statement);
        }
    }
}

/// Writes the fuzz target's seeds (`fuzz/seeds/receipt/`): a receipt of each
/// family and kind. Run by hand: `cargo test -p light-clients --test it
/// write_fuzz_seeds -- --ignored`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/receipt");
    std::fs::create_dir_all(&dir).unwrap();
    let seeds = [
        (
            "cmport-packet",
            build::<light_clients::cmport::Cmport>(Kind::Packet),
        ),
        (
            "cosco-receipt",
            build::<light_clients::cosco::Cosco>(Kind::Receipt),
        ),
        ("gba-packet", build::<light_clients::gba::Gba>(Kind::Packet)),
    ];
    for (name, built) in seeds {
        std::fs::write(dir.join(format!("{name}.json")), built.receipt.to_json()).unwrap();
    }
}
