//! Disclosure proofs over a 2^16 tree: constraints, proving time per batch
//! of 1, 8 and 32 records, verification of one proof and per proof in
//! batches of 16 and 64 against plain ark-groth16 verification of the same
//! key. Figures: `docs/benchmarks.md`.
//!
//! Verification is meant for one core: run the `verify` groups with
//! `RAYON_NUM_THREADS=1` (arkworks parallelises Miller loops and MSMs).

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly on purpose

use std::hint::black_box;
use std::time::Duration;

use ark_bn254::Fr;
use circuits::disclosure::constraint_count;
use circuits::groth16::{verify_batch_raw, verify_raw, RawPreparedKey};
use circuits::{encode, record, tree};
use circuits::{
    prove, setup, verify, verify_batch, Disclosure, DisclosureParams, Opening, Proof, ProvingKey,
    Record, Rule, Statement, Tree,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A settlement-like record: amount, currency, bill of lading, payer, payee,
/// status, port, value date.
const WIDTH: usize = 8;
const DEPTH: u32 = tree::DEFAULT_DEPTH;
/// Records in the block's tree (the tree has 2^16 slots).
const LEAVES: usize = 1000;

fn records() -> Vec<Record> {
    (0..LEAVES)
        .map(|i| {
            let fields = vec![
                encode::amount(1_000_000 + i as u64),
                encode::code("USD").unwrap(),
                encode::code(&format!("COSU{:08}", i)).unwrap(),
                encode::digest(&[1; 32]),
                encode::digest(&[2; 32]),
                encode::code("SETTLED").unwrap(),
                encode::code("CNSHA").unwrap(),
                Fr::from(20_260_101u64),
            ];
            Record::new(
                record::derive_salt(&[9; 32], &i.to_be_bytes()),
                Fr::from(i as u64 + 1),
                fields,
            )
            .unwrap()
        })
        .collect()
}

/// "Settled, USD, bill of lading disclosed, amount at least 900 000".
fn disclosure(r: &Record) -> Disclosure {
    Disclosure {
        packet_id: r.packet_id,
        rules: vec![
            Rule::AtLeast(900_000),
            Rule::Equals(r.fields[1]),
            Rule::Equals(r.fields[2]),
            Rule::Hidden,
            Rule::Hidden,
            Rule::Equals(r.fields[5]),
            Rule::Hidden,
            Rule::Hidden,
        ],
    }
}

struct Fixture {
    records: Vec<Record>,
    tree: Tree,
}

impl Fixture {
    fn new() -> Self {
        let records = records();
        let tree = Tree::new(DEPTH, records.iter().map(|r| r.leaf().unwrap()).collect()).unwrap();
        Fixture { records, tree }
    }

    fn statement(&self, params: DisclosureParams, first: usize) -> (Statement, Vec<Opening>) {
        let range = first..first + params.records;
        let openings: Vec<Opening> = range
            .clone()
            .map(|i| Opening {
                record: self.records[i].clone(),
                path: self.tree.path(i as u64).unwrap(),
            })
            .collect();
        let ds = range.map(|i| disclosure(&self.records[i])).collect();
        (
            Statement::new(params, self.tree.root(), ds).unwrap(),
            openings,
        )
    }
}

fn key(k: usize) -> (DisclosureParams, ProvingKey, circuits::VerifyingKey) {
    let params = DisclosureParams::new(DEPTH, k, WIDTH).unwrap();
    let (pk, vk) = setup(params, [7; 32]).unwrap();
    (params, pk, vk)
}

fn bench_prove(c: &mut Criterion) {
    let fx = Fixture::new();
    let ks: Vec<usize> = std::env::var("PROVE_BATCHES")
        .map(|s| s.split(',').map(|k| k.parse().unwrap()).collect())
        .unwrap_or_else(|_| vec![1, 8, 32]);
    let mut group = c.benchmark_group("prove");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    for k in ks {
        let params = DisclosureParams::new(DEPTH, k, WIDTH).unwrap();
        println!(
            "constraints: depth {DEPTH}, {k} records of {WIDTH} fields: {}",
            constraint_count(params).unwrap()
        );
        let (params, pk, vk) = key(k);
        let (s, o) = fx.statement(params, 0);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let proof = prove(&pk, &s, &o, &mut rng).unwrap();
        assert_eq!(verify(&vk.prepare(), &s, &proof), Ok(()));
        group.measurement_time(Duration::from_secs(if k > 8 { 60 } else { 15 }));
        group.bench_with_input(BenchmarkId::new("records", k), &k, |b, _| {
            b.iter(|| prove(&pk, black_box(&s), black_box(&o), &mut rng).unwrap())
        });
    }
    group.finish();
}

fn bench_verify(c: &mut Criterion) {
    let fx = Fixture::new();
    let (params, pk, vk) = key(1);
    let pvk = vk.prepare();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let items: Vec<(Statement, Proof)> = (0..64)
        .map(|i| {
            let (s, o) = fx.statement(params, i * 7);
            let p = prove(&pk, &s, &o, &mut rng).unwrap();
            (s, p)
        })
        .collect();
    let inputs: Vec<[Fr; 1]> = items.iter().map(|(s, _)| [s.public_input()]).collect();
    let raw = RawPreparedKey::new(&vk.inner);
    let ark = raw.ark().clone();

    let mut group = c.benchmark_group("verify");
    let (s0, p0) = &items[0];
    group.bench_function("one/ours", |b| {
        b.iter(|| verify(&pvk, black_box(s0), black_box(p0)).unwrap())
    });
    group.bench_function("one/ours_prehashed", |b| {
        b.iter(|| verify_raw(&raw, black_box(&inputs[0]), black_box(p0)).unwrap())
    });
    group.bench_function("one/ark_groth16", |b| {
        b.iter(|| {
            assert!(ark_groth16::Groth16::<ark_bn254::Bn254>::verify_proof(
                &ark,
                black_box(p0),
                black_box(&inputs[0])
            )
            .unwrap())
        })
    });
    group.bench_function("point_checks", |b| {
        b.iter(|| circuits::groth16::check_proof_points(black_box(p0)).unwrap())
    });
    group.bench_function("statement_hash", |b| {
        b.iter(|| black_box(s0).public_input())
    });
    for n in [16usize, 64] {
        let batch: Vec<(&Statement, &Proof)> = items[..n].iter().map(|(s, p)| (s, p)).collect();
        group.bench_with_input(BenchmarkId::new("batch/ours", n), &n, |b, _| {
            b.iter(|| verify_batch(&pvk, black_box(&batch)).unwrap())
        });
        let prehashed: Vec<(&[Fr], &Proof)> = inputs[..n]
            .iter()
            .zip(&items[..n])
            .map(|(x, (_, p))| (x.as_slice(), p))
            .collect();
        group.bench_with_input(BenchmarkId::new("batch/ours_prehashed", n), &n, |b, _| {
            b.iter(|| verify_batch_raw(&raw, black_box(&prehashed)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("batch/ark_groth16_each", n), &n, |b, _| {
            b.iter(|| {
                for (x, (_, p)) in inputs[..n].iter().zip(&items[..n]) {
                    assert!(
                        ark_groth16::Groth16::<ark_bn254::Bn254>::verify_proof(&ark, p, x).unwrap()
                    );
                }
            })
        });
    }
    group.finish();
}

fn bench_native(c: &mut Criterion) {
    let fx = Fixture::new();
    let mut group = c.benchmark_group("native");
    group.bench_function("poseidon2", |b| {
        b.iter(|| circuits::poseidon::hash2(black_box(Fr::from(1u64)), black_box(Fr::from(2u64))))
    });
    let leaves: Vec<Fr> = fx.records.iter().map(|r| r.leaf().unwrap()).collect();
    group.sample_size(10);
    group.bench_function("tree_1000_of_2^16", |b| {
        b.iter(|| Tree::new(DEPTH, black_box(leaves.clone())).unwrap().root())
    });
    group.finish();
}

criterion_group!(benches, bench_native, bench_verify, bench_prove);
criterion_main!(benches);
