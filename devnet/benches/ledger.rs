//! What a devnet ledger spends its time on under the relayer's load (issue 4):
//! sealing a block of sent packets on top of small and large prior state,
//! executing a relay transaction of 500 `RecvPacket`s with proofs on a
//! destination, and serving a 2,000-event block's events with their proofs
//! (the ledger's answer and its JSON encoding, as `GET /v1/blocks/{h}/events`
//! does). Two ledgers run in process, each with its own redb file.
//!
//! `cargo bench -p devnet --bench ledger -- --noplot`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

use std::time::{Duration, Instant};

use adapters::wire::{BlockEvents, SubmitEvent, WIRE_VERSION};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use devnet::ledger::{operator_key, Ledger, LedgerConfig};
use light_clients::any::FamilyName;
use light_clients::cmport::Cmport;
use light_clients::cosco::Cosco;
use light_clients::host::{BlockEvent, OperatorMsg, RelayMsg, RelayerKey, SignedTx, TxBody};
use light_clients::{App, ChainId, ChannelId, Fraction, Timestamp, TrustOptions};
use serde_json::Value;

/// The packets sent before the first measured block are in blocks of this size.
const FILL_BLOCK: usize = 5_000;

/// A clock the two ledgers share, a second a block.
struct Clock(Timestamp);

impl Clock {
    fn tick(&mut self) -> Timestamp {
        self.0 = self.0.saturating_add(Duration::from_secs(1));
        self.0
    }
}

/// A cosco source with a cargo channel to a cmport destination, which has
/// registered a relayer key.
struct Pair {
    _dir: tempfile::TempDir,
    clock: Clock,
    src: Ledger<Cosco>,
    dst: Ledger<Cmport>,
    relayer: ed25519_consensus::SigningKey,
    relayer_nonce: u64,
    events: Vec<Value>,
    /// Events submitted so far (for fresh event ids).
    submitted: u64,
}

fn config(dir: &std::path::Path, chain: &str, family: FamilyName) -> LedgerConfig {
    LedgerConfig {
        zk_depth: light_clients::zk::DEFAULT_ZK_DEPTH,
        chain_id: ChainId::new(chain).unwrap(),
        family,
        validators: 4,
        data_dir: dir.join(chain),
    }
}

fn entropy(n: u8) -> [u8; 72] {
    let mut e = [n; 72];
    e[0] = n.wrapping_mul(31);
    e
}

fn options() -> TrustOptions {
    TrustOptions {
        trusting_period: Duration::from_secs(14 * 24 * 3600),
        clock_drift: Duration::from_secs(10),
        trust_threshold: Fraction::ONE_THIRD,
    }
}

/// A UUID v4 from a counter.
fn uuid(n: u64) -> String {
    let h = light_clients::hash::sha256(&[&n.to_le_bytes()]).0;
    format!(
        "{}-{}-4{}-{}{}-{}",
        hex::encode(&h[0..4]),
        hex::encode(&h[4..6]),
        &hex::encode(&h[6..8])[1..],
        ["8", "9", "a", "b"][usize::from(h[8] % 4)],
        &hex::encode(&h[8..10])[1..],
        hex::encode(&h[10..16])
    )
}

fn operator_tx<F>(ledger: &mut Ledger<F>, dir: &std::path::Path, msg: OperatorMsg)
where
    F: light_clients::sample::Signing + light_clients::any::IntoAny,
{
    let key = operator_key(dir).unwrap();
    let signer = RelayerKey(key.verification_key().to_bytes());
    let nonce = ledger.account(&signer).unwrap().next_nonce;
    let chain = ledger.status().chain_id;
    let tx = SignedTx::sign(&key, &chain, nonce, &TxBody::Operator(msg));
    let r = ledger.submit_tx(&tx).unwrap();
    assert!(
        matches!(r.results[0], adapters::wire::MsgResult::Ok { .. }),
        "{:?}",
        r.results
    );
}

impl Pair {
    fn new() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let mut clock = Clock(Timestamp::from_unix_secs(1_800_000_000));
        let t0 = clock.tick();
        let src_cfg = config(dir.path(), "cosco-1", FamilyName::Cosco);
        let dst_cfg = config(dir.path(), "cmport-1", FamilyName::Cmport);
        let (src_dir, dst_dir) = (src_cfg.data_dir.clone(), dst_cfg.data_dir.clone());
        let mut src = Ledger::<Cosco>::open(src_cfg, entropy(1), t0).unwrap();
        let mut dst = Ledger::<Cmport>::open(dst_cfg, entropy(2), t0).unwrap();
        let channel = ChannelId {
            source: src.status().chain_id,
            destination: dst.status().chain_id,
            app: App::Cargo,
        };
        let src_root = src.header(src.height()).unwrap().header.trust_root();
        let dst_root = dst.header(dst.height()).unwrap().header.trust_root();
        let relayer = ed25519_consensus::SigningKey::from([7u8; 32]);
        operator_tx(
            &mut src,
            &src_dir,
            OperatorMsg::CreateClient {
                root: dst_root,
                options: options(),
            },
        );
        operator_tx(
            &mut dst,
            &dst_dir,
            OperatorMsg::CreateClient {
                root: src_root,
                options: options(),
            },
        );
        for (ledger_dir, is_src) in [(&src_dir, true), (&dst_dir, false)] {
            let msg = OperatorMsg::OpenChannel {
                channel: channel.clone(),
                version: "cargo-1".into(),
            };
            if is_src {
                operator_tx(&mut src, ledger_dir, msg);
            } else {
                operator_tx(&mut dst, ledger_dir, msg);
            }
        }
        operator_tx(
            &mut dst,
            &dst_dir,
            OperatorMsg::RegisterRelayer {
                key: RelayerKey(relayer.verification_key().to_bytes()),
            },
        );
        let now = clock.tick();
        src.seal(now).unwrap();
        dst.seal(now).unwrap();
        let events: Vec<Value> =
            serde_json::from_str(include_str!("../../docs/examples/events/journey.json")).unwrap();
        Pair {
            _dir: dir,
            clock,
            src,
            dst,
            relayer,
            relayer_nonce: 0,
            events,
            submitted: 0,
        }
    }

    /// Submits `n` cargo events on the source for the destination (in the block being built).
    fn send(&mut self, n: usize) {
        let destination = self.dst.status().chain_id;
        for _ in 0..n {
            let mut event = self.events[(self.submitted as usize) % self.events.len()].clone();
            event["eventID"] = Value::String(uuid(self.submitted));
            self.submitted += 1;
            let req = SubmitEvent {
                version: WIRE_VERSION,
                destination: destination.clone(),
                event,
                timeout_secs: None,
            };
            let r = self.src.submit_event(&req).unwrap();
            assert!(r.packet.is_some());
        }
    }

    /// Seals a block on both ledgers; returns the source's height.
    fn seal(&mut self) -> u64 {
        let now = self.clock.tick();
        self.dst.seal(now).unwrap();
        self.src.seal(now).unwrap()
    }

    /// Sends `prior` packets in sealed blocks.
    fn fill(&mut self, prior: usize) {
        let mut left = prior;
        while left > 0 {
            let n = left.min(FILL_BLOCK);
            self.send(n);
            self.seal();
            left -= n;
        }
    }

    fn relay_tx(&mut self, msgs: Vec<RelayMsg>) -> SignedTx {
        let tx = SignedTx::sign(
            &self.relayer,
            &self.dst.status().chain_id,
            self.relayer_nonce,
            &TxBody::Relay(msgs),
        );
        self.relayer_nonce += 1;
        tx
    }

    /// Sends `n` packets in one sealed source block, brings the
    /// destination's client up to it, and returns the relay transaction
    /// that delivers them.
    fn deliveries(&mut self, n: usize) -> SignedTx {
        self.send(n);
        let height = self.seal();
        let header = self.src.header(height).unwrap().header;
        let update = self.relay_tx(vec![RelayMsg::UpdateClient {
            chain: self.src.status().chain_id,
            header,
        }]);
        let r = self.dst.submit_tx(&update).unwrap();
        assert!(
            matches!(r.results[0], adapters::wire::MsgResult::Ok { .. }),
            "{:?}",
            r.results
        );
        let events: BlockEvents = self.src.events(height).unwrap();
        let msgs = events
            .events
            .into_iter()
            .filter_map(|e| match e.event {
                BlockEvent::Packet { packet } => Some(RelayMsg::RecvPacket {
                    packet,
                    proof: e.proof,
                }),
                BlockEvent::Ack { .. } => None,
            })
            .collect();
        self.relay_tx(msgs)
    }
}

/// Sealing a block of `block` sent packets over `prior` packets of state.
/// The state grows by the measured blocks; the fixture is rebuilt (not
/// timed) once it has grown by a tenth (or 10,000 packets for small state).
fn seal(c: &mut Criterion) {
    let mut group = c.benchmark_group("seal");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for prior in [0usize, 100_000] {
        for block in [1_000usize, 5_000] {
            let drift = (prior / 10).max(10_000);
            let mut fixture: Option<(Pair, usize)> = None;
            group.bench_with_input(
                BenchmarkId::new(format!("prior_{prior}"), block),
                &block,
                |b, &block| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let fresh = match &fixture {
                                Some((_, grown)) => *grown + block > drift,
                                None => true,
                            };
                            if fresh {
                                let mut pair = Pair::new();
                                pair.fill(prior);
                                fixture = Some((pair, 0));
                            }
                            let (pair, grown) = fixture.as_mut().unwrap();
                            pair.send(block);
                            *grown += block;
                            let now = pair.clock.tick();
                            let start = Instant::now();
                            pair.src.seal(now).unwrap();
                            total += start.elapsed();
                        }
                        total
                    })
                },
            );
        }
    }
    group.finish();
}

/// A relay transaction of 500 `RecvPacket`s with proofs, executed on the
/// destination (authentication, body decoding, proof checks, apps).
fn receive(c: &mut Criterion) {
    let mut group = c.benchmark_group("receive");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut pair = Pair::new();
    group.bench_function("recv_500", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let tx = pair.deliveries(500);
                let start = Instant::now();
                let r = pair.dst.submit_tx(&tx).unwrap();
                total += start.elapsed();
                assert_eq!(r.results.len(), 500);
                assert!(
                    matches!(&r.results[499], adapters::wire::MsgResult::Ok { .. }),
                    "{:?}",
                    r.results[499]
                );
            }
            total
        })
    });
    group.finish();
}

/// A 2,000-event block's events with their proofs, JSON-encoded, as the route serves them.
fn events(c: &mut Criterion) {
    let mut group = c.benchmark_group("events");
    group.sample_size(20);
    let mut pair = Pair::new();
    pair.send(2_000);
    let height = pair.seal();
    group.bench_function("block_2000", |b| {
        b.iter(|| {
            let events = pair.src.events(height).unwrap();
            serde_json::to_vec(&events).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, seal, receive, events);
criterion_main!(benches);
