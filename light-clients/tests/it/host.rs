//! The host module over simulated ledgers: packets proven from one ledger's
//! headers are received on another, acks come back, and every refusal the
//! protocol promises is named.

use light_clients::any::{AnyHeader, AnyMisbehaviour, AnyTrustRoot, FamilyName};
use light_clients::client::Misbehaviour;
use light_clients::cmport::Cmport;
use light_clients::cosco::Cosco;
use light_clients::gba::Gba;
use light_clients::host::{
    self, AppRefusal, Apps, BlockContext, BlockEvent, BlockOutput, EventProof, Host, HostError,
    OperatorMsg, Outcome, RelayMsg, RelayerKey, SignedTx, TxBody,
};
use light_clients::sample::{self, BlockFields, Signing};
use light_clients::{
    Ack, AckResult, App, ChainId, ChannelId, Family, Hash32, Packet, Roots, Timeout, Timestamp,
    UntrustedBlock,
};

use crate::{at, options};

/// Apps that record what reached them and can be told to refuse.
#[derive(Debug, Default)]
struct Recorder {
    received: Vec<Packet>,
    acked: Vec<(u64, AckResult)>,
    refuse: Option<String>,
    /// Packets of groth16 paths: sequence and the rules proven.
    disclosed: Vec<(u64, Vec<circuits::Rule>)>,
}

impl Apps for Recorder {
    fn on_recv(&mut self, packet: &Packet, _: &BlockContext) -> Result<(), AppRefusal> {
        if let Some(reason) = &self.refuse {
            return Err(AppRefusal(reason.clone()));
        }
        self.received.push(packet.clone());
        Ok(())
    }
    fn on_ack(&mut self, packet: &Packet, result: &AckResult, _: &BlockContext) {
        self.acked.push((packet.id.sequence, result.clone()));
    }
    fn on_recv_disclosed(
        &mut self,
        packet: &Packet,
        rules: &[circuits::Rule],
        _: &BlockContext,
    ) -> Result<(), AppRefusal> {
        self.disclosed.push((packet.id.sequence, rules.to_vec()));
        Ok(())
    }
}

/// Seconds since `at(0)`, shared by the ledgers of a test: one timeline, as in
/// the real world, so a header is never from another ledger's future.
type Clock = std::rc::Rc<std::cell::Cell<u64>>;

/// A simulated ledger: a host, its validators, and the blocks it made.
struct Ledger<F: Signing> {
    clock: Clock,
    keys: Vec<F::Key>,
    host: Host,
    operator: ed25519_consensus::SigningKey,
    blocks: Vec<(UntrustedBlock<F>, BlockOutput)>,
    apps: Recorder,
}

fn chain(s: &str) -> ChainId {
    ChainId::new(s).unwrap()
}

fn wrap<F: Signing>(b: UntrustedBlock<F>) -> AnyHeader {
    let v = serde_json::to_value(b).unwrap();
    let family = F::NAME;
    serde_json::from_value(serde_json::json!({ "family": family, "value": v })).unwrap()
}

fn root_of<F: Signing>(b: &UntrustedBlock<F>) -> AnyTrustRoot {
    let v = serde_json::json!({ "signed_header": b.signed_header, "next_validators": b.next_validators });
    serde_json::from_value(serde_json::json!({ "family": F::NAME, "value": v })).unwrap()
}

impl<F: Signing> Ledger<F> {
    fn new(id: &str, family: FamilyName, seed: u8, clock: &Clock) -> Self {
        let operator = ed25519_consensus::SigningKey::from([seed; 32]);
        let host = Host::new(
            chain(id),
            family,
            RelayerKey(operator.verification_key().to_bytes()),
        );
        let mut l = Ledger {
            clock: clock.clone(),
            keys: sample::keys::<F>(seed as u64, 4),
            host,
            operator,
            blocks: Vec::new(),
            apps: Recorder::default(),
        };
        l.produce();
        l
    }

    fn height(&self) -> u64 {
        self.blocks.len() as u64
    }

    /// The block being built: one second after the latest block on the timeline.
    fn ctx(&self) -> BlockContext {
        BlockContext {
            height: self.height() + 1,
            time: at(self.clock.get() + 1),
        }
    }

    /// Ends the current block and signs its header.
    fn produce(&mut self) -> &UntrustedBlock<F> {
        let out = self.host.end_block();
        let height = self.height() + 1;
        self.clock.set(self.clock.get() + 10);
        let time = at(self.clock.get());
        let set = F::validator_set(&self.keys);
        let previous = self
            .blocks
            .last()
            .map(|(b, _)| F::summary(&b.signed_header).unwrap().hash)
            .unwrap_or(Hash32::ZERO);
        // The header commits block `height - ROOTS_LAG`'s roots: its own
        // (cmport, cosco) or the previous block's (gba); none before block 1.
        let roots = match F::roots_height(height) {
            h if h == height => out.roots,
            0 => Roots::empty(F::TREE_HASH),
            h => self.blocks[h as usize - 1].1.roots,
        };
        let fields = BlockFields::<F> {
            chain_id: self.host.chain_id().as_str(),
            height,
            time,
            previous,
            roots,
            validators: &set,
            next_validators: &set,
        };
        let block = sample::block(&fields, &self.keys);
        self.blocks.push((block, out));
        &self.blocks.last().unwrap().0
    }

    fn operator_tx(&mut self, msg: OperatorMsg) -> Result<Outcome, HostError> {
        let nonce = self.host.next_nonce(&self.host.operator()).unwrap();
        let tx = SignedTx::sign(
            &self.operator,
            self.host.chain_id(),
            nonce,
            &TxBody::Operator(msg),
        );
        let ctx = self.ctx();
        match self.host.authenticate(&tx)? {
            TxBody::Operator(m) => self.host.apply_operator(&m, &ctx),
            TxBody::Relay(_) => unreachable!(),
        }
    }

    fn relay_tx(
        &mut self,
        key: &ed25519_consensus::SigningKey,
        msgs: Vec<RelayMsg>,
    ) -> Result<Vec<Result<Outcome, HostError>>, HostError> {
        let signer = RelayerKey(key.verification_key().to_bytes());
        let nonce = self.host.next_nonce(&signer).unwrap_or(0);
        let tx = SignedTx::sign(key, self.host.chain_id(), nonce, &TxBody::Relay(msgs));
        let ctx = self.ctx();
        let TxBody::Relay(msgs) = self.host.authenticate(&tx)? else {
            unreachable!()
        };
        Ok(self.host.apply_relay_tx(&msgs, &mut self.apps, &ctx))
    }

    /// The proof of event `index` of block `height`, against the header that commits it.
    fn proof(&self, height: u64, index: usize) -> (BlockEvent, EventProof) {
        let out = &self.blocks[height as usize - 1].1;
        let leaves: Vec<Vec<u8>> = out
            .events
            .iter()
            .map(|e| light_clients::Canonical::encode(&e.leaf()))
            .collect();
        let proof = host::prove(F::TREE_HASH, &leaves, index as u64).unwrap();
        let (proof_height, opening) = (
            F::proof_height(height),
            F::ROOTS_OPENING.then_some(out.roots),
        );
        (
            out.events[index].clone(),
            EventProof {
                height: proof_height,
                opening,
                proof,
            },
        )
    }

    fn header(&self, height: u64) -> AnyHeader {
        wrap(self.blocks[height as usize - 1].0.clone())
    }
}

const RELAYER: [u8; 32] = [42; 32];

fn relayer() -> ed25519_consensus::SigningKey {
    ed25519_consensus::SigningKey::from(RELAYER)
}

/// Two ledgers with clients of each other, a relayer key on both, and the
/// channel `src -> dst / cargo` open on both.
fn connect<S: Signing, D: Signing>(src: &mut Ledger<S>, dst: &mut Ledger<D>) -> ChannelId {
    let opts = options();
    let src_root = root_of(&src.blocks[0].0);
    let dst_root = root_of(&dst.blocks[0].0);
    assert!(matches!(
        dst.operator_tx(OperatorMsg::CreateClient {
            root: src_root,
            options: opts
        }),
        Ok(Outcome::ClientCreated { height: 1, .. })
    ));
    assert!(matches!(
        src.operator_tx(OperatorMsg::CreateClient {
            root: dst_root,
            options: opts
        }),
        Ok(Outcome::ClientCreated { height: 1, .. })
    ));
    let key = RelayerKey(relayer().verification_key().to_bytes());
    src.operator_tx(OperatorMsg::RegisterRelayer { key })
        .unwrap();
    dst.operator_tx(OperatorMsg::RegisterRelayer { key })
        .unwrap();
    let channel = ChannelId {
        source: src.host.chain_id().clone(),
        destination: dst.host.chain_id().clone(),
        app: App::Cargo,
    };
    src.operator_tx(OperatorMsg::OpenChannel {
        channel: channel.clone(),
        version: "cargo-1".into(),
    })
    .unwrap();
    dst.operator_tx(OperatorMsg::OpenChannel {
        channel: channel.clone(),
        version: "cargo-1".into(),
    })
    .unwrap();
    channel
}

fn timeout_far() -> Timeout {
    Timeout {
        time: at(1_000_000),
        height: None,
    }
}

/// Sends `n` packets in one block of `src`; returns that block's height.
fn send<S: Signing>(src: &mut Ledger<S>, channel: &ChannelId, n: usize, timeout: Timeout) -> u64 {
    for i in 0..n {
        src.host
            .send_packet(channel, format!("event {i}").into_bytes(), timeout)
            .unwrap();
    }
    src.produce();
    src.height()
}

fn packet_of(e: BlockEvent) -> Packet {
    match e {
        BlockEvent::Packet { packet } => packet,
        BlockEvent::Ack { .. } => panic!("expected a packet"),
    }
}

fn ack_of(e: BlockEvent) -> Ack {
    match e {
        BlockEvent::Ack { ack } => ack,
        BlockEvent::Packet { .. } => panic!("expected an ack"),
    }
}

/// What a relayer does for a packet: update the client, deliver with proof.
fn deliver<S: Signing, D: Signing>(
    src: &Ledger<S>,
    dst: &mut Ledger<D>,
    height: u64,
    index: usize,
) -> Result<Outcome, HostError> {
    let (event, proof) = src.proof(height, index);
    let header = src.header(proof.height);
    let msgs = vec![
        RelayMsg::UpdateClient {
            chain: src.host.chain_id().clone(),
            header,
        },
        RelayMsg::RecvPacket {
            packet: packet_of(event),
            proof,
        },
    ];
    let mut results = dst.relay_tx(&relayer(), msgs).unwrap();
    let recv = results.pop().unwrap();
    assert!(matches!(
        results.pop().unwrap(),
        Ok(Outcome::ClientUpdated { .. } | Outcome::ClientAlreadyKnown { .. })
    ));
    recv
}

fn round_trip<S: Signing, D: Signing>(src_family: FamilyName, dst_family: FamilyName) {
    let clock = Clock::default();
    let mut src = Ledger::<S>::new("src-1", src_family, 1, &clock);
    let mut dst = Ledger::<D>::new("dst-1", dst_family, 2, &clock);
    let channel = connect(&mut src, &mut dst);
    let h = send(&mut src, &channel, 3, timeout_far());
    for _ in 0..S::ROOTS_LAG {
        src.produce(); // the header that carries block h's roots
    }
    for i in 0..3 {
        let out = deliver(&src, &mut dst, h, i).unwrap();
        assert!(
            matches!(
                out,
                Outcome::Received {
                    ack: AckResult::Ok,
                    ..
                }
            ),
            "{out:?}"
        );
    }
    assert_eq!(dst.apps.received.len(), 3);
    assert_eq!(dst.host.channel(&channel).unwrap().next_recv, 4);
    // The acks go back.
    dst.produce();
    let ack_height = dst.height();
    for _ in 0..D::ROOTS_LAG {
        dst.produce();
    }
    for i in 0..3 {
        let (event, proof) = dst.proof(ack_height, i);
        let header = dst.header(proof.height);
        let results = src
            .relay_tx(
                &relayer(),
                vec![
                    RelayMsg::UpdateClient {
                        chain: dst.host.chain_id().clone(),
                        header,
                    },
                    RelayMsg::Acknowledge {
                        ack: ack_of(event),
                        proof,
                    },
                ],
            )
            .unwrap();
        assert!(
            matches!(
                results[1],
                Ok(Outcome::Acknowledged {
                    result: AckResult::Ok,
                    ..
                })
            ),
            "{results:?}"
        );
    }
    let c = src.host.channel(&channel).unwrap();
    assert_eq!((c.next_send, c.next_ack), (4, 4));
    assert_eq!(src.apps.acked.len(), 3);
    assert!(src
        .host
        .sent(&light_clients::PacketId {
            channel: channel.clone(),
            sequence: 1
        })
        .is_none());
}

#[test]
fn cosco_to_cmport_and_back() {
    round_trip::<Cosco, Cmport>(FamilyName::Cosco, FamilyName::Cmport);
}

#[test]
fn gba_to_cosco_and_back_with_the_app_hash_lag() {
    round_trip::<Gba, Cosco>(FamilyName::Gba, FamilyName::Cosco);
}

#[test]
fn cmport_to_gba_and_back() {
    round_trip::<Cmport, Gba>(FamilyName::Cmport, FamilyName::Gba);
}

fn pair() -> (Ledger<Cosco>, Ledger<Cmport>, ChannelId) {
    let clock = Clock::default();
    let mut src = Ledger::<Cosco>::new("cosco-1", FamilyName::Cosco, 1, &clock);
    let mut dst = Ledger::<Cmport>::new("cmport-1", FamilyName::Cmport, 2, &clock);
    let channel = connect(&mut src, &mut dst);
    (src, dst, channel)
}

#[test]
fn identical_resend_is_already_received() {
    let (mut src, mut dst, _) = pair();
    let channel = ChannelId {
        source: chain("cosco-1"),
        destination: chain("cmport-1"),
        app: App::Cargo,
    };
    let h = send(&mut src, &channel, 1, timeout_far());
    assert!(matches!(
        deliver(&src, &mut dst, h, 0),
        Ok(Outcome::Received { .. })
    ));
    assert!(matches!(
        deliver(&src, &mut dst, h, 0),
        Ok(Outcome::AlreadyReceived { .. })
    ));
    assert_eq!(dst.apps.received.len(), 1);
}

#[test]
fn out_of_order_is_refused_and_in_order_passes() {
    let (mut src, mut dst, channel) = pair();
    let h = send(&mut src, &channel, 2, timeout_far());
    let err = deliver(&src, &mut dst, h, 1).unwrap_err();
    assert!(
        matches!(
            err,
            HostError::OutOfOrder {
                expected: 1,
                got: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(deliver(&src, &mut dst, h, 0).is_ok());
    assert!(deliver(&src, &mut dst, h, 1).is_ok());
}

#[test]
fn a_proof_against_the_wrong_root_or_an_unverified_header_is_refused() {
    let (mut src, mut dst, channel) = pair();
    let h = send(&mut src, &channel, 2, timeout_far());
    src.produce();
    let (event, mut proof) = src.proof(h, 0);
    let packet = packet_of(event);
    // Update the client to both heights first.
    for height in [h, h + 1] {
        dst.relay_tx(
            &relayer(),
            vec![RelayMsg::UpdateClient {
                chain: chain("cosco-1"),
                header: src.header(height),
            }],
        )
        .unwrap();
    }
    // Proven against the next block's root: wrong root.
    proof.height = h + 1;
    let r = dst
        .relay_tx(
            &relayer(),
            vec![RelayMsg::RecvPacket {
                packet: packet.clone(),
                proof: proof.clone(),
            }],
        )
        .unwrap();
    assert_eq!(r[0].as_ref().unwrap_err().check(), "merkle_proof", "{r:?}");
    // Against a height the client never verified.
    proof.height = h + 5;
    let r = dst
        .relay_tx(
            &relayer(),
            vec![RelayMsg::RecvPacket {
                packet: packet.clone(),
                proof: proof.clone(),
            }],
        )
        .unwrap();
    assert_eq!(
        r[0].as_ref().unwrap_err().check(),
        "consensus_state",
        "{r:?}"
    );
    // A packet changed in flight.
    proof.height = h;
    let mut forged = packet.clone();
    forged.payload = b"something else".to_vec();
    let r = dst
        .relay_tx(
            &relayer(),
            vec![RelayMsg::RecvPacket {
                packet: forged,
                proof,
            }],
        )
        .unwrap();
    assert_eq!(r[0].as_ref().unwrap_err().check(), "merkle_proof", "{r:?}");
    assert!(dst.apps.received.is_empty());
    assert_eq!(dst.host.channel(&channel).unwrap().next_recv, 1);
}

#[test]
fn a_frozen_client_refuses_proofs() {
    let (mut src, mut dst, channel) = pair();
    let h = send(&mut src, &channel, 1, timeout_far());
    // A second header for height h, also signed by the validators: a fork.
    let set = Cosco::validator_set(&src.keys);
    let fork = sample::block(
        &BlockFields::<Cosco> {
            chain_id: "cosco-1",
            height: h,
            time: Cosco::summary(&src.blocks[h as usize - 1].0.signed_header)
                .unwrap()
                .time,
            previous: Hash32([7; 32]),
            roots: Roots::default(),
            validators: &set,
            next_validators: &set,
        },
        &src.keys,
    );
    let evidence = Misbehaviour {
        first: src.blocks[h as usize - 1].0.clone(),
        first_trusted_height: 1,
        second: fork,
        second_trusted_height: 1,
    };
    let evidence: AnyMisbehaviour =
        serde_json::from_value(serde_json::json!({ "family": "cosco", "value": evidence }))
            .unwrap();
    let r = dst
        .relay_tx(
            &relayer(),
            vec![RelayMsg::SubmitMisbehaviour {
                chain: chain("cosco-1"),
                evidence,
            }],
        )
        .unwrap();
    assert!(matches!(r[0], Ok(Outcome::ClientFrozen { .. })), "{r:?}");
    assert_eq!(dst.host.misbehaviour().len(), 1);
    // The update and the packet are both refused.
    let (event, proof) = src.proof(h, 0);
    let r = dst
        .relay_tx(
            &relayer(),
            vec![
                RelayMsg::UpdateClient {
                    chain: chain("cosco-1"),
                    header: src.header(h),
                },
                RelayMsg::RecvPacket {
                    packet: packet_of(event),
                    proof,
                },
            ],
        )
        .unwrap();
    assert_eq!(
        r.iter()
            .map(|x| x.as_ref().unwrap_err().check())
            .collect::<Vec<_>>(),
        ["frozen", "frozen"]
    );
    assert!(dst.apps.received.is_empty());
}

#[test]
fn a_conflicting_packet_under_a_used_sequence_is_refused_and_recorded() {
    let (mut src, mut dst, channel) = pair();
    let h = send(&mut src, &channel, 1, timeout_far());
    assert!(deliver(&src, &mut dst, h, 0).is_ok());
    // The source (misbehaving) emits another packet under sequence 1 in a later block.
    let (event, _) = src.proof(h, 0);
    let mut other = packet_of(event);
    other.payload = b"rewritten history".to_vec();
    src.host.end_block();
    let leaves = vec![light_clients::Canonical::encode(
        &light_clients::EventLeaf::from(&other),
    )];
    let roots = Roots {
        events: host::commit(Cosco::TREE_HASH, &leaves),
        ..Roots::empty(Cosco::TREE_HASH)
    };
    let set = Cosco::validator_set(&src.keys);
    let height = src.height() + 1;
    src.clock.set(src.clock.get() + 10);
    let block = sample::block(
        &BlockFields::<Cosco> {
            chain_id: "cosco-1",
            height,
            time: at(src.clock.get()),
            previous: Hash32::ZERO,
            roots,
            validators: &set,
            next_validators: &set,
        },
        &src.keys,
    );
    let proof = EventProof {
        height,
        opening: None,
        proof: host::prove(Cosco::TREE_HASH, &leaves, 0).unwrap(),
    };
    let r = dst
        .relay_tx(
            &relayer(),
            vec![
                RelayMsg::UpdateClient {
                    chain: chain("cosco-1"),
                    header: wrap(block),
                },
                RelayMsg::RecvPacket {
                    packet: other,
                    proof,
                },
            ],
        )
        .unwrap();
    assert_eq!(
        r[1].as_ref().unwrap_err().check(),
        "conflicting_packet",
        "{r:?}"
    );
    assert!(matches!(
        dst.host.misbehaviour()[0],
        light_clients::host::MisbehaviourRecord::ConflictingPacket { .. }
    ));
    assert_eq!(dst.apps.received.len(), 1);
}

#[test]
fn a_late_packet_gets_a_timeout_ack_and_the_channel_moves_on() {
    let (mut src, mut dst, channel) = pair();
    // Times out well before the destination builds the block that receives it.
    let late = Timeout {
        time: at(src.clock.get() + 15),
        height: None,
    };
    src.host
        .send_packet(&channel, b"late".to_vec(), late)
        .unwrap();
    src.host
        .send_packet(&channel, b"on time".to_vec(), timeout_far())
        .unwrap();
    src.produce();
    let h = src.height();
    for _ in 0..3 {
        dst.produce();
    }
    assert!(matches!(
        deliver(&src, &mut dst, h, 0),
        Ok(Outcome::Received {
            ack: AckResult::Timeout,
            ..
        })
    ));
    assert!(matches!(
        deliver(&src, &mut dst, h, 1),
        Ok(Outcome::Received {
            ack: AckResult::Ok,
            ..
        })
    ));
    assert_eq!(dst.apps.received.len(), 1, "the late packet is not applied");
    // The timeout ack reverts the send on the source.
    dst.produce();
    let (event, proof) = dst.proof(dst.height(), 0);
    let r = src
        .relay_tx(
            &relayer(),
            vec![
                RelayMsg::UpdateClient {
                    chain: chain("cmport-1"),
                    header: dst.header(proof.height),
                },
                RelayMsg::Acknowledge {
                    ack: ack_of(event.clone()),
                    proof: proof.clone(),
                },
                RelayMsg::Acknowledge {
                    ack: ack_of(event),
                    proof,
                },
            ],
        )
        .unwrap();
    assert!(
        matches!(
            r[1],
            Ok(Outcome::Acknowledged {
                result: AckResult::Timeout,
                ..
            })
        ),
        "{r:?}"
    );
    assert!(
        matches!(r[2], Ok(Outcome::AlreadyAcknowledged { .. })),
        "{r:?}"
    );
    assert_eq!(src.apps.acked, vec![(1, AckResult::Timeout)]);
    assert_eq!(src.host.channel(&channel).unwrap().next_ack, 2);
}

#[test]
fn an_app_refusal_becomes_an_error_ack() {
    let (mut src, mut dst, channel) = pair();
    let h = send(&mut src, &channel, 1, timeout_far());
    dst.apps.refuse = Some("iso6346.check_digit at equipmentReference".into());
    let out = deliver(&src, &mut dst, h, 0).unwrap();
    assert!(
        matches!(out, Outcome::Received { ack: AckResult::Error(ref r), .. } if r.starts_with("iso6346")),
        "{out:?}"
    );
    assert_eq!(dst.host.channel(&channel).unwrap().next_recv, 2);
}

#[test]
fn transactions_are_authenticated() {
    let (_src, mut dst, channel) = pair();
    let stranger = ed25519_consensus::SigningKey::from([9; 32]);
    let header = _src.header(1);
    let msgs = || {
        vec![RelayMsg::UpdateClient {
            chain: chain("cosco-1"),
            header: header.clone(),
        }]
    };
    // Unregistered key.
    assert!(matches!(
        dst.relay_tx(&stranger, msgs()),
        Err(HostError::UnregisteredKey { .. })
    ));
    // Wrong nonce, bad signature, wrong chain.
    let key = relayer();
    let signer = RelayerKey(key.verification_key().to_bytes());
    let nonce = dst.host.next_nonce(&signer).unwrap();
    let tx = SignedTx::sign(&key, dst.host.chain_id(), nonce + 1, &TxBody::Relay(msgs()));
    assert!(
        matches!(dst.host.authenticate(&tx), Err(HostError::WrongNonce { expected, got, .. }) if expected == nonce && got == nonce + 1)
    );
    let mut tx = SignedTx::sign(&key, dst.host.chain_id(), nonce, &TxBody::Relay(msgs()));
    tx.body.push(' ');
    assert_eq!(dst.host.authenticate(&tx).unwrap_err().check(), "signature");
    let tx = SignedTx::sign(&key, &chain("cosco-1"), nonce, &TxBody::Relay(msgs()));
    assert_eq!(dst.host.authenticate(&tx).unwrap_err().check(), "chain_id");
    assert_eq!(
        dst.host.next_nonce(&signer),
        Some(nonce),
        "refused transactions consume no nonce"
    );
    // A relayer cannot act as the operator.
    let tx = SignedTx::sign(
        &key,
        dst.host.chain_id(),
        nonce,
        &TxBody::Operator(OperatorMsg::CloseChannel {
            channel: channel.clone(),
        }),
    );
    assert_eq!(
        dst.host.authenticate(&tx).unwrap_err().check(),
        "not_operator"
    );
    // Rotation: register a new key, retire the old one.
    let new_key = ed25519_consensus::SigningKey::from([77; 32]);
    dst.operator_tx(OperatorMsg::RegisterRelayer {
        key: RelayerKey(new_key.verification_key().to_bytes()),
    })
    .unwrap();
    dst.operator_tx(OperatorMsg::RetireRelayer { key: signer })
        .unwrap();
    assert!(matches!(
        dst.relay_tx(&key, msgs()),
        Err(HostError::RetiredKey { .. })
    ));
    assert!(dst.relay_tx(&new_key, msgs()).is_ok());
}

#[test]
fn operators_open_channels_and_create_clients_once() {
    let (src, mut dst, channel) = pair();
    let again = dst.operator_tx(OperatorMsg::OpenChannel {
        channel: channel.clone(),
        version: "cargo-1".into(),
    });
    assert_eq!(again.unwrap_err().check(), "channel_exists");
    let root = root_of(&src.blocks[0].0);
    assert_eq!(
        dst.operator_tx(OperatorMsg::CreateClient {
            root,
            options: options()
        })
        .unwrap_err()
        .check(),
        "client_exists"
    );
    let foreign = ChannelId {
        source: chain("gba-1"),
        destination: chain("cosco-1"),
        app: App::Ebl,
    };
    assert_eq!(
        dst.operator_tx(OperatorMsg::OpenChannel {
            channel: foreign,
            version: "ebl-1".into()
        })
        .unwrap_err()
        .check(),
        "foreign_channel"
    );
    let no_client = ChannelId {
        source: chain("gba-1"),
        destination: chain("cmport-1"),
        app: App::Ebl,
    };
    assert_eq!(
        dst.operator_tx(OperatorMsg::OpenChannel {
            channel: no_client,
            version: "ebl-1".into()
        })
        .unwrap_err()
        .check(),
        "unknown_client"
    );
    dst.operator_tx(OperatorMsg::CloseChannel {
        channel: channel.clone(),
    })
    .unwrap();
    assert!(!dst.host.channel(&channel).unwrap().open);
}

#[test]
fn the_host_round_trips_through_json_and_commits_its_channel_states() {
    let (mut src, _dst, channel) = pair();
    send(&mut src, &channel, 2, timeout_far());
    let json = serde_json::to_string(&src.host).unwrap();
    let back: Host = serde_json::from_str(&json).unwrap();
    assert_eq!(back.channel(&channel), src.host.channel(&channel));
    // The last block's state root proves the channel's sequences.
    let out = &src.blocks.last().unwrap().1;
    assert_eq!(out.channel_states.len(), 1);
    assert_eq!(out.channel_states[0].next_send, 3);
    let leaves: Vec<Vec<u8>> =
        host::BlockOutput::state_leaves(&out.channel_states, &out.client_states)
            .iter()
            .map(light_clients::Canonical::encode)
            .collect();
    // One channel and the client of cmport-1, both committed.
    assert_eq!(leaves.len(), 2);
    assert_eq!(out.client_states[0].chain, chain("cmport-1"));
    assert_eq!(host::commit(Cosco::TREE_HASH, &leaves), out.roots.state);
    let _ = Timestamp::default();
}

/// Confidential (groth16) paths: records under `zk_root`, disclosure proofs
/// verified against a header the destination's client verified.
mod groth16 {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;

    use circuits::{encode, DisclosureParams, Fr, Rule};
    use light_clients::zk::{
        self, DisclosedRecord, DisclosedRule, Disclosure, FieldRule, PathPolicy, VerifyingKeyBytes,
    };
    use light_clients::PacketId;

    use super::*;

    const DEPTH: u32 = 4;
    const SECRET: [u8; 32] = [7; 32];

    /// Small keys (depth 4, 2 records of 4 fields) so the tests stay fast.
    fn keys() -> &'static (circuits::ProvingKey, circuits::VerifyingKey) {
        static KEYS: OnceLock<(circuits::ProvingKey, circuits::VerifyingKey)> = OnceLock::new();
        KEYS.get_or_init(|| {
            circuits::setup(DisclosureParams::new(DEPTH, 2, 4).unwrap(), [5; 32]).unwrap()
        })
    }

    fn policy() -> PathPolicy {
        PathPolicy::Groth16 {
            kinds: [(
                "SETTLEMENT".to_string(),
                vec![FieldRule::Disclose, FieldRule::AtLeast(1_000)],
            )]
            .into(),
        }
    }

    /// A settlement record: kind, bill of lading, amount, payer.
    fn fields(amount: u64) -> Vec<Fr> {
        vec![
            encode::code("SETTLEMENT").unwrap(),
            encode::code("COSU6123456780").unwrap(),
            encode::amount(amount),
            encode::code("PAYER-BANK").unwrap(),
        ]
    }

    fn record(id: &PacketId, fields: Vec<Fr>) -> circuits::Record {
        circuits::Record::new(
            circuits::record::derive_salt(&SECRET, &zk::packet_id_bytes(id)),
            zk::packet_id_field(id),
            fields,
        )
        .unwrap()
    }

    struct Zk {
        src: Ledger<Cosco>,
        dst: Ledger<Cmport>,
        channel: ChannelId,
        /// Per block of `src`: the records it committed, in order.
        records: BTreeMap<u64, Vec<circuits::Record>>,
    }

    /// `src -> dst / payment` opened confidential, dst's policy groth16, its key registered.
    fn zk_pair() -> Zk {
        let clock = Clock::default();
        let mut src = Ledger::<Cosco>::new("cosco-1", FamilyName::Cosco, 1, &clock);
        let mut dst = Ledger::<Cmport>::new("cmport-1", FamilyName::Cmport, 2, &clock);
        src.host = src.host.clone().with_zk_depth(DEPTH).unwrap();
        connect(&mut src, &mut dst);
        let channel = ChannelId {
            source: chain("cosco-1"),
            destination: chain("cmport-1"),
            app: App::Payment,
        };
        let open = OperatorMsg::OpenChannel {
            channel: channel.clone(),
            version: "payment-1+groth16".into(),
        };
        src.operator_tx(open.clone()).unwrap();
        dst.operator_tx(open).unwrap();
        assert!(matches!(
            dst.operator_tx(OperatorMsg::SetPathPolicy {
                source: chain("cosco-1"),
                app: App::Payment,
                policy: policy(),
            }),
            Ok(Outcome::PathPolicySet { .. })
        ));
        assert!(matches!(
            dst.operator_tx(OperatorMsg::RegisterVerifyingKey {
                source: chain("cosco-1"),
                app: App::Payment,
                key: VerifyingKeyBytes(circuits::groth16::vk_to_bytes(&keys().1)),
            }),
            Ok(Outcome::VerifyingKeyRegistered { .. })
        ));
        Zk {
            src,
            dst,
            channel,
            records: BTreeMap::new(),
        }
    }

    impl Zk {
        /// Sends one settlement per amount in one block; returns the block's height.
        fn send(&mut self, amounts: &[u64]) -> u64 {
            let mut recs = Vec::new();
            for &amount in amounts {
                let next = self.src.host.channel(&self.channel).unwrap().next_send;
                let id = PacketId {
                    channel: self.channel.clone(),
                    sequence: next,
                };
                let r = record(&id, fields(amount));
                let leaf = r.leaf().unwrap();
                self.src
                    .host
                    .send_packet_with_record(
                        &self.channel,
                        zk::commitment_payload(&leaf),
                        timeout_far(),
                        &leaf,
                    )
                    .unwrap();
                recs.push(r);
            }
            self.src.produce();
            let h = self.src.height();
            self.records.insert(h, recs);
            h
        }

        /// What the source's prover makes for packets `indexes` of block `h`.
        fn disclose(&self, h: u64, indexes: &[usize]) -> Disclosure {
            let recs = &self.records[&h];
            let tree = circuits::Tree::new(DEPTH, recs.iter().map(|r| r.leaf().unwrap()).collect())
                .unwrap();
            let roots = self.src.blocks[h as usize - 1].1.roots;
            assert_eq!(
                zk::fr_hash(&tree.root()),
                roots.zk_root,
                "the header commits the tree"
            );
            let policy = policy();
            let mut statement = Vec::new();
            let mut openings = Vec::new();
            let mut wire = Vec::new();
            for &i in indexes {
                let r = recs[i].clone();
                let rules = policy.rules_for(&r.fields).unwrap();
                let (event, _) = self.src.proof(h, i);
                let packet = packet_of(event);
                statement.push(circuits::Disclosure {
                    packet_id: r.packet_id,
                    rules: rules.clone(),
                });
                wire.push(DisclosedRecord {
                    packet: packet.id.clone(),
                    rules: rules.iter().map(DisclosedRule::from_rule).collect(),
                });
                openings.push(circuits::Opening {
                    path: tree.path(i as u64).unwrap(),
                    record: r,
                });
            }
            let statement =
                circuits::Statement::new(keys().0.params, tree.root(), statement).unwrap();
            let proof =
                circuits::groth16::prove_seeded(&keys().0, &statement, &openings, [9; 32]).unwrap();
            Disclosure {
                zk_root: roots.zk_root,
                records: wire,
                proof: circuits::groth16::proof_to_bytes(&proof),
            }
        }

        fn recv(&self, h: u64, i: usize, disclosure: &Disclosure) -> RelayMsg {
            let (event, proof) = self.src.proof(h, i);
            RelayMsg::RecvDisclosed {
                packet: packet_of(event),
                proof,
                disclosure: disclosure.clone(),
            }
        }

        fn update(&self, h: u64) -> RelayMsg {
            RelayMsg::UpdateClient {
                chain: chain("cosco-1"),
                header: self.src.header(h),
            }
        }

        fn relay(&mut self, msgs: Vec<RelayMsg>) -> Vec<Result<Outcome, HostError>> {
            self.dst.relay_tx(&relayer(), msgs).unwrap()
        }
    }

    fn check(r: &Result<Outcome, HostError>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(e) => e.check(),
        }
    }

    fn received(r: &Result<Outcome, HostError>) -> bool {
        matches!(
            r,
            Ok(Outcome::Received {
                ack: AckResult::Ok,
                ..
            })
        )
    }

    #[test]
    fn headers_commit_the_records_tree_and_an_empty_block_its_empty_root() {
        let mut z = zk_pair();
        z.src.produce();
        let empty = z.src.blocks.last().unwrap().1.roots.zk_root;
        assert_eq!(
            empty,
            zk::fr_hash(&circuits::tree::empty_roots()[DEPTH as usize]),
            "no records: the empty tree's root, not zero"
        );
        let h = z.send(&[1_500, 2_000]);
        assert_ne!(z.src.blocks[h as usize - 1].1.roots.zk_root, empty);
        // The payload is the record's commitment: the event never leaves.
        let (event, _) = z.src.proof(h, 0);
        let leaf = z.records[&h][0].leaf().unwrap();
        assert_eq!(packet_of(event).payload, zk::commitment_payload(&leaf));
    }

    #[test]
    fn settled_at_least_x_is_proven_batched_once_and_in_order() {
        let mut z = zk_pair();
        let h = z.send(&[1_500, 2_000, 9_000]);
        let first = z.disclose(h, &[0, 1]);
        let second = z.disclose(h, &[2]);
        // Out of order first: sequence 2 before 1.
        let out = z.relay(vec![z.update(h), z.recv(h, 1, &first)]);
        assert_eq!(check(&out[1]), "out_of_order");
        // Three packets, two distinct proofs, one batch verification.
        let msgs = vec![
            z.update(h),
            z.recv(h, 0, &first),
            z.recv(h, 1, &first),
            z.recv(h, 2, &second),
        ];
        let out = z.relay(msgs.clone());
        assert!(out[1..].iter().all(received), "{out:?}");
        // Again: already received, nothing applied twice.
        let again = z.relay(msgs);
        assert!(again[1..]
            .iter()
            .all(|r| matches!(r, Ok(Outcome::AlreadyReceived { .. }))));
        let seqs: Vec<u64> = z.dst.apps.disclosed.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, vec![1, 2, 3]);
        // What reached the destination: kind and bill of lading, "at least 1000",
        // and nothing of the amount or the payer.
        let (_, rules) = &z.dst.apps.disclosed[0];
        assert_eq!(
            rules,
            &vec![
                Rule::Equals(encode::code("SETTLEMENT").unwrap()),
                Rule::Equals(encode::code("COSU6123456780").unwrap()),
                Rule::AtLeast(1_000),
                Rule::Hidden,
            ]
        );
        let state = serde_json::to_string(&z.dst.host).unwrap();
        for hidden in [
            hex::encode(encode::fr_to_bytes(&encode::code("PAYER-BANK").unwrap())),
            hex::encode(encode::fr_to_bytes(&encode::amount(1_500))),
        ] {
            assert!(
                !state.contains(&hidden),
                "the host state holds a hidden field"
            );
        }
        assert!(z.dst.apps.received.is_empty(), "no plain delivery");
    }

    #[test]
    fn tampered_proofs_disclosures_and_roots_are_refused_by_name() {
        let mut z = zk_pair();
        let h = z.send(&[1_500]);
        let good = z.disclose(h, &[0]);
        let mut cases: Vec<(&str, Disclosure)> = Vec::new();
        let mut d = good.clone();
        d.proof[..32].fill(0xff);
        cases.push(("groth16_point", d));
        // A flipped bit that still decodes to curve points: the pairing fails.
        let mut d = good.clone();
        d.proof[5] ^= 1;
        cases.push(("groth16", d));
        // A valid proof of another statement (the same packet, an honest
        // proof of another block's root): pairing fails.
        let other = z.send(&[3_000]);
        let mut d = z.disclose(other, &[0]);
        d.records = good.records.clone();
        d.zk_root = good.zk_root;
        cases.push(("groth16", d));
        let mut d = good.clone();
        d.records[0].rules[2] = DisclosedRule::AtLeast(999);
        cases.push(("disclosure_policy", d));
        let mut d = good.clone();
        d.records[0].rules[1] = DisclosedRule::Equals(zk::fr_hash(&Fr::from(1u64)));
        cases.push(("groth16", d));
        let mut d = good.clone();
        d.records[0].rules[3] = DisclosedRule::Equals(zk::fr_hash(&Fr::from(1u64)));
        cases.push(("disclosure_policy", d));
        let mut d = good.clone();
        d.zk_root = Hash32([1; 32]);
        cases.push(("zk_root", d));
        let mut d = good.clone();
        d.records[0].packet.sequence = 9;
        cases.push(("disclosure", d));
        for (want, d) in cases {
            let out = z.relay(vec![z.update(h), z.recv(h, 0, &d)]);
            assert_eq!(check(&out[1]), want, "{:?}", out[1]);
        }
        assert!(z.dst.apps.disclosed.is_empty());
        let out = z.relay(vec![z.update(h), z.recv(h, 0, &good)]);
        assert!(received(&out[1]), "{:?}", out[1]);
    }

    #[test]
    fn the_form_of_a_delivery_must_be_the_paths_policy() {
        let mut z = zk_pair();
        let h = z.send(&[1_500]);
        let (event, proof) = z.src.proof(h, 0);
        let out = z.relay(vec![
            z.update(h),
            RelayMsg::RecvPacket {
                packet: packet_of(event),
                proof,
            },
        ]);
        assert_eq!(check(&out[1]), "path_policy");
        // Back to merkle: a disclosure is refused in its turn.
        z.dst
            .operator_tx(OperatorMsg::SetPathPolicy {
                source: chain("cosco-1"),
                app: App::Payment,
                policy: PathPolicy::Merkle,
            })
            .unwrap();
        let d = z.disclose(h, &[0]);
        let out = z.relay(vec![z.update(h), z.recv(h, 0, &d)]);
        assert_eq!(check(&out[1]), "path_policy");
    }

    #[test]
    fn operators_set_policies_and_keys_and_bad_ones_are_refused() {
        let mut z = zk_pair();
        let source = chain("cosco-1");
        assert_eq!(z.dst.host.path_policy(&source, App::Payment), policy());
        assert_eq!(
            z.dst.host.path_policy(&source, App::Cargo),
            PathPolicy::Merkle
        );
        let bad_key = z.dst.operator_tx(OperatorMsg::RegisterVerifyingKey {
            source: source.clone(),
            app: App::Cargo,
            key: VerifyingKeyBytes(vec![0; 40]),
        });
        assert_eq!(bad_key.unwrap_err().check(), "verifying_key");
        let bad_policy = z.dst.operator_tx(OperatorMsg::SetPathPolicy {
            source: source.clone(),
            app: App::Cargo,
            policy: PathPolicy::Groth16 {
                kinds: [("".to_string(), vec![])].into(),
            },
        });
        assert_eq!(bad_policy.unwrap_err().check(), "invalid");
        // Only the operator: a relayer's transaction cannot carry operator messages.
        let tx = SignedTx::sign(
            &relayer(),
            z.dst.host.chain_id(),
            z.dst
                .host
                .next_nonce(&RelayerKey(relayer().verification_key().to_bytes()))
                .unwrap(),
            &TxBody::Operator(OperatorMsg::SetPathPolicy {
                source: source.clone(),
                app: App::Cargo,
                policy: policy(),
            }),
        );
        assert_eq!(
            z.dst.host.authenticate(&tx).unwrap_err().check(),
            "not_operator"
        );
        // Through JSON and back (as a ledger stores it), the registered key
        // is prepared again on first use.
        let mut fresh = zk_pair();
        fresh.dst.host =
            serde_json::from_value(serde_json::to_value(&fresh.dst.host).unwrap()).unwrap();
        let hgt = fresh.send(&[1_200]);
        let d = fresh.disclose(hgt, &[0]);
        let out = fresh.relay(vec![fresh.update(hgt), fresh.recv(hgt, 0, &d)]);
        assert!(received(&out[1]), "{:?}", out[1]);
        // A groth16 path without a key: refused by name.
        let mut nokey = zk_pair();
        nokey.dst.host = serde_json::from_value({
            let mut v = serde_json::to_value(&nokey.dst.host).unwrap();
            v["zk_keys"] = serde_json::json!([]);
            v
        })
        .unwrap();
        let hgt = nokey.send(&[1_200]);
        let d = nokey.disclose(hgt, &[0]);
        let out = nokey.relay(vec![nokey.update(hgt), nokey.recv(hgt, 0, &d)]);
        assert_eq!(check(&out[1]), "no_verifying_key");
    }

    #[test]
    fn a_full_event_is_refused_on_a_groth16_path_whatever_the_proof() {
        let mut z = zk_pair();
        // cosco-1 -> cmport-1 / cargo was opened plain; CMPort now wants it in groth16 mode.
        let cargo = ChannelId {
            app: App::Cargo,
            ..z.channel.clone()
        };
        z.dst
            .operator_tx(OperatorMsg::SetPathPolicy {
                source: chain("cosco-1"),
                app: App::Cargo,
                policy: policy(),
            })
            .unwrap();
        z.dst
            .operator_tx(OperatorMsg::RegisterVerifyingKey {
                source: chain("cosco-1"),
                app: App::Cargo,
                key: VerifyingKeyBytes(circuits::groth16::vk_to_bytes(&keys().1)),
            })
            .unwrap();
        let leaf = Fr::from(5u64);
        z.src
            .host
            .send_packet_with_record(&cargo, b"{\"amount\": 1500}".to_vec(), timeout_far(), &leaf)
            .unwrap();
        z.src.produce();
        let h = z.src.height();
        let (event, proof) = z.src.proof(h, 0);
        let packet = packet_of(event);
        let disclosure = Disclosure {
            zk_root: z.src.blocks[h as usize - 1].1.roots.zk_root,
            records: vec![DisclosedRecord {
                packet: packet.id.clone(),
                rules: vec![DisclosedRule::Hidden; 4],
            }],
            proof: vec![0; 128],
        };
        let out = z.relay(vec![
            z.update(h),
            RelayMsg::RecvDisclosed {
                packet,
                proof,
                disclosure,
            },
        ]);
        let err = out[1].as_ref().unwrap_err();
        assert_eq!(err.check(), "disclosure");
        assert!(err.to_string().contains("not confidential"), "{err}");
    }

    #[test]
    fn a_confidential_channel_takes_only_record_commitments() {
        let mut z = zk_pair();
        let plain =
            z.src
                .host
                .send_packet(&z.channel, b"{\"amount\": 1500}".to_vec(), timeout_far());
        assert_eq!(plain.unwrap_err().check(), "invalid");
        let leaf = Fr::from(5u64);
        let wrong = z.src.host.send_packet_with_record(
            &z.channel,
            b"{\"amount\": 1500}".to_vec(),
            timeout_far(),
            &leaf,
        );
        assert_eq!(wrong.unwrap_err().check(), "invalid");
        // A depth-4 tree holds 16 records a block; the 17th waits for the next.
        for _ in 0..16 {
            z.src
                .host
                .send_packet_with_record(
                    &z.channel,
                    zk::commitment_payload(&leaf),
                    timeout_far(),
                    &leaf,
                )
                .unwrap();
        }
        let full = z.src.host.send_packet_with_record(
            &z.channel,
            zk::commitment_payload(&leaf),
            timeout_far(),
            &leaf,
        );
        assert!(full.unwrap_err().to_string().contains("full"));
    }
}
