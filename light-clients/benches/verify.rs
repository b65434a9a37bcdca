//! Header verification per family (4, 32, 150 validators) against the raw
//! cost of the same signature checks alone, and Merkle proof verification
//! for trees of 2^10 and 2^16 leaves. Figures: `docs/benchmarks.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benchmarks fail loudly on purpose

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use light_clients::cmport::Cmport;
use light_clients::cosco::Cosco;
use light_clients::gba::{self, Gba};
use light_clients::merkle::{self, Keccak256Tree, MerkleTree, Sha256Tree, TreeHasher};
use light_clients::quorum::{Ed25519, SignatureScheme, K256, P256};
use light_clients::sample::{self, Signing};
use light_clients::{Fraction, Timestamp, TrustOptions, UntrustedBlock};

const SIZES: [usize; 3] = [4, 32, 150];

fn options() -> TrustOptions {
    TrustOptions {
        trusting_period: Duration::from_secs(14 * 24 * 3600),
        clock_drift: Duration::from_secs(10),
        trust_threshold: Fraction::ONE_THIRD,
    }
}

fn t0() -> Timestamp {
    Timestamp::from_unix_secs(1_800_000_000)
}

fn bench_family<F: Signing>(
    c: &mut Criterion,
    raw: impl Fn(&UntrustedBlock<F>) -> Box<dyn Fn() -> bool>,
) {
    let mut group = c.benchmark_group(format!("header/{}", F::NAME));
    for n in SIZES {
        let (root, block) = sample::pair::<F>("bench-1", n, 1, t0());
        let (_, trusted) = root.check().expect("sample root");
        let now = t0().saturating_add(Duration::from_secs(60));
        assert!(light_clients::verify_update(&trusted, &block, &options(), now).is_ok());
        group.bench_with_input(BenchmarkId::new("verify_update", n), &n, |b, _| {
            b.iter(|| {
                light_clients::verify_update(
                    black_box(&trusted),
                    black_box(&block),
                    &options(),
                    now,
                )
            })
        });
        let check = raw(&block);
        assert!(check());
        group.bench_with_input(BenchmarkId::new("signatures_only", n), &n, |b, _| {
            b.iter(&check)
        });
    }
    group.finish();
}

fn cmport_raw(block: &UntrustedBlock<Cmport>) -> Box<dyn Fn() -> bool> {
    let digest = block.signed_header.header.hash();
    let items: Vec<(p256::ecdsa::VerifyingKey, p256::ecdsa::Signature)> = block
        .signed_header
        .signatures
        .iter()
        .map(|s| {
            (
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&s.orderer).expect("key"),
                p256::ecdsa::Signature::from_der(&s.signature).expect("sig"),
            )
        })
        .collect();
    Box::new(move || {
        let refs: Vec<_> = items.iter().map(|(k, s)| (k, &digest.0[..], s)).collect();
        P256::verify_all(&refs).is_ok()
    })
}

fn cosco_raw(block: &UntrustedBlock<Cosco>) -> Box<dyn Fn() -> bool> {
    let digest = block.signed_header.header.hash();
    let keys: std::collections::BTreeMap<_, _> = block
        .validators
        .validators
        .iter()
        .map(|v| {
            (
                v.address,
                k256::ecdsa::VerifyingKey::from_sec1_bytes(&v.public_key).expect("key"),
            )
        })
        .collect();
    let items: Vec<_> = block
        .signed_header
        .seals
        .iter()
        .map(|s| {
            (
                keys[&s.validator],
                k256::ecdsa::Signature::from_slice(&s.signature).expect("sig"),
            )
        })
        .collect();
    Box::new(move || {
        let refs: Vec<_> = items.iter().map(|(k, s)| (k, &digest.0[..], s)).collect();
        K256::verify_all(&refs).is_ok()
    })
}

/// The Ed25519 (key, sign bytes, signature) triples of a gba commit.
fn gba_items(
    block: &UntrustedBlock<Gba>,
) -> Vec<(
    ed25519_consensus::VerificationKeyBytes,
    Vec<u8>,
    ed25519_consensus::Signature,
)> {
    let h = &block.signed_header;
    h.commit
        .signatures
        .iter()
        .enumerate()
        .filter_map(|(i, cs)| match cs {
            tendermint::block::CommitSig::BlockIdFlagCommit {
                validator_address,
                timestamp,
                signature: Some(sig),
            } => {
                let v = block.validators.validator(*validator_address)?;
                let key = ed25519_consensus::VerificationKeyBytes::try_from(
                    v.pub_key.to_bytes().as_slice(),
                )
                .ok()?;
                let msg = gba::precommit_sign_bytes(
                    h,
                    *validator_address,
                    *timestamp,
                    i.try_into().ok()?,
                );
                Some((
                    key,
                    msg,
                    ed25519_consensus::Signature::try_from(sig.as_bytes()).ok()?,
                ))
            }
            _ => None,
        })
        .collect()
}

fn gba_raw_batch(block: &UntrustedBlock<Gba>) -> Box<dyn Fn() -> bool> {
    let items = gba_items(block);
    Box::new(move || {
        let refs: Vec<_> = items.iter().map(|(k, m, s)| (k, m.as_slice(), s)).collect();
        Ed25519::verify_all(&refs).is_ok()
    })
}

fn gba_single(c: &mut Criterion) {
    let mut group = c.benchmark_group("header/gba");
    for n in SIZES {
        let (_, block) = sample::pair::<Gba>("bench-1", n, 1, t0());
        let items = gba_items(&block);
        group.bench_with_input(BenchmarkId::new("signatures_only_single", n), &n, |b, _| {
            b.iter(|| {
                items.iter().all(|(k, m, s)| {
                    ed25519_consensus::VerificationKey::try_from(*k)
                        .and_then(|vk| vk.verify(s, m))
                        .is_ok()
                })
            })
        });
    }
    group.finish();
}

fn headers(c: &mut Criterion) {
    bench_family::<Cmport>(c, cmport_raw);
    bench_family::<Cosco>(c, cosco_raw);
    bench_family::<Gba>(c, gba_raw_batch);
    gba_single(c);
}

fn bench_tree<H: TreeHasher>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(format!("merkle/{name}"));
    for log in [10u32, 16] {
        let leaves: Vec<Vec<u8>> = (0..1u64 << log).map(|i| i.to_le_bytes().to_vec()).collect();
        let tree = MerkleTree::<H>::from_leaves(&leaves);
        let commitment = tree.commitment();
        let index = (1u64 << log) / 3;
        let proof = tree.prove(index).expect("proof");
        let leaf = leaves[index as usize].clone();
        group.bench_with_input(
            BenchmarkId::new("verify_inclusion", format!("2^{log}")),
            &log,
            |b, _| {
                b.iter(|| {
                    merkle::verify_inclusion(
                        H::ALGORITHM,
                        black_box(&commitment),
                        black_box(&leaf),
                        black_box(&proof),
                    )
                })
            },
        );
    }
    group.finish();
}

fn merkle_proofs(c: &mut Criterion) {
    bench_tree::<Sha256Tree>(c, "sha256");
    bench_tree::<Keccak256Tree>(c, "keccak256");
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = headers, merkle_proofs
}
criterion_main!(benches);
