//! The ledger's unit tests: restarts, snapshots, replay refusals, witnesses.

use super::*;
use std::path::Path;

use adapters::wire::{MsgResult, SubmitEvent, WIRE_VERSION};
use light_clients::any::{FamilyName, IntoAny};
use light_clients::host::{BlockEvent, Host, RelayerKey, SignedTx, TxBody};
use light_clients::sample::Signing;
use light_clients::zk::{DisclosedRule, PathPolicy};
use light_clients::{ChainId, ChannelId, PacketId, Timestamp};

use light_clients::cmport::Cmport;
use light_clients::cosco::Cosco;
use light_clients::host::{OperatorMsg, RelayMsg};
use light_clients::{App, Fraction, TrustOptions};
use std::time::Duration;

fn config(dir: &Path, chain: &str, family: FamilyName) -> LedgerConfig {
    LedgerConfig {
        zk_depth: light_clients::zk::DEFAULT_ZK_DEPTH,
        chain_id: ChainId::new(chain).unwrap(),
        family,
        validators: 4,
        data_dir: dir.join(chain),
    }
}

fn t(secs: u32) -> Timestamp {
    Timestamp::from_unix_secs(1_800_000_000 + secs)
}

fn operator_tx<F: Signing + IntoAny>(l: &mut Ledger<F>, msg: OperatorMsg) {
    let key = operator_key(&l.config.data_dir).unwrap();
    let signer = RelayerKey(key.verification_key().to_bytes());
    let nonce = l.account(&signer).unwrap().next_nonce;
    let tx = SignedTx::sign(&key, &l.config.chain_id, nonce, &TxBody::Operator(msg));
    let r = l.submit_tx(&tx).unwrap();
    assert!(matches!(r.results[0], MsgResult::Ok { .. }), "{r:?}");
}

/// A cosco source with a cargo channel to a cmport destination, each
/// with a client of the other and a registered relayer key.
struct Pair {
    dir: tempfile::TempDir,
    src: Ledger<Cosco>,
    dst: Ledger<Cmport>,
    clock: u32,
    relayer: ed25519_consensus::SigningKey,
    src_nonce: u64,
    dst_nonce: u64,
    events: Vec<serde_json::Value>,
    sent: usize,
}

impl Pair {
    fn new(policy: SnapshotPolicy) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let mut src = Ledger::<Cosco>::open(
            config(dir.path(), "cosco-1", FamilyName::Cosco),
            [1; 72],
            t(0),
        )
        .unwrap();
        let mut dst = Ledger::<Cmport>::open(
            config(dir.path(), "cmport-1", FamilyName::Cmport),
            [2; 72],
            t(0),
        )
        .unwrap();
        src.set_snapshot_policy(policy);
        dst.set_snapshot_policy(policy);
        let options = TrustOptions {
            trusting_period: Duration::from_secs(14 * 24 * 3600),
            clock_drift: Duration::from_secs(10),
            trust_threshold: Fraction::ONE_THIRD,
        };
        let src_root = src.header(1).unwrap().header.trust_root();
        let dst_root = dst.header(1).unwrap().header.trust_root();
        operator_tx(
            &mut src,
            OperatorMsg::CreateClient {
                root: dst_root,
                options,
            },
        );
        operator_tx(
            &mut dst,
            OperatorMsg::CreateClient {
                root: src_root,
                options,
            },
        );
        let channel = ChannelId {
            source: src.config.chain_id.clone(),
            destination: dst.config.chain_id.clone(),
            app: App::Cargo,
        };
        let open = OperatorMsg::OpenChannel {
            channel,
            version: "cargo-1".into(),
        };
        operator_tx(&mut src, open.clone());
        operator_tx(&mut dst, open);
        let relayer = ed25519_consensus::SigningKey::from([7u8; 32]);
        let key = RelayerKey(relayer.verification_key().to_bytes());
        operator_tx(&mut src, OperatorMsg::RegisterRelayer { key });
        operator_tx(&mut dst, OperatorMsg::RegisterRelayer { key });
        let events =
            serde_json::from_str(include_str!("../../../docs/examples/events/journey.json"))
                .unwrap();
        let mut pair = Pair {
            dir,
            src,
            dst,
            clock: 0,
            relayer,
            src_nonce: 0,
            dst_nonce: 0,
            events,
            sent: 0,
        };
        pair.seal();
        pair
    }

    fn seal(&mut self) -> u64 {
        self.clock += 1;
        self.dst.seal(t(self.clock)).unwrap();
        self.src.seal(t(self.clock)).unwrap()
    }

    fn send(&mut self, n: usize) {
        for _ in 0..n {
            let mut event = self.events[self.sent % self.events.len()].clone();
            event["eventID"] = format!("00000000-0000-4000-8000-{:012}", self.sent).into();
            self.sent += 1;
            let r = self
                .src
                .submit_event(&SubmitEvent {
                    version: WIRE_VERSION,
                    destination: self.dst.config.chain_id.clone(),
                    event,
                    timeout_secs: None,
                })
                .unwrap();
            assert!(r.packet.is_some());
        }
    }

    /// Delivers the packets of source block `height` and brings their acks back.
    fn relay(&mut self, height: u64) {
        let header = self.src.header(height).unwrap().header;
        let mut msgs = vec![RelayMsg::UpdateClient {
            chain: self.src.config.chain_id.clone(),
            header,
        }];
        for e in self.src.events(height).unwrap().events {
            if let BlockEvent::Packet { packet } = e.event {
                msgs.push(RelayMsg::RecvPacket {
                    packet,
                    proof: e.proof,
                });
            }
        }
        let tx = SignedTx::sign(
            &self.relayer,
            &self.dst.config.chain_id,
            self.dst_nonce,
            &TxBody::Relay(msgs),
        );
        self.dst_nonce += 1;
        let r = self.dst.submit_tx(&tx).unwrap();
        assert!(
            r.results.iter().all(|m| matches!(m, MsgResult::Ok { .. })),
            "{r:?}"
        );
        self.seal();
        let acked = self.dst.height();
        let header = self.dst.header(acked).unwrap().header;
        let mut msgs = vec![RelayMsg::UpdateClient {
            chain: self.dst.config.chain_id.clone(),
            header,
        }];
        for e in self.dst.events(acked).unwrap().events {
            if let BlockEvent::Ack { ack } = e.event {
                msgs.push(RelayMsg::Acknowledge {
                    ack,
                    proof: e.proof,
                });
            }
        }
        let tx = SignedTx::sign(
            &self.relayer,
            &self.src.config.chain_id,
            self.src_nonce,
            &TxBody::Relay(msgs),
        );
        self.src_nonce += 1;
        let r = self.src.submit_tx(&tx).unwrap();
        assert!(
            r.results.iter().all(|m| matches!(m, MsgResult::Ok { .. })),
            "{r:?}"
        );
    }

    /// Some traffic: packets sent in several blocks, delivered and
    /// acknowledged, an eBL platform registered.
    fn traffic(&mut self, blocks: usize) {
        for b in 0..blocks {
            self.send(3);
            let height = self.seal();
            self.relay(height);
            if b == 1 {
                self.src
                    .register_platform(ChainId::new("gba-1").unwrap(), RelayerKey([5; 32]));
            }
        }
        self.seal();
    }

    fn reopen(&mut self) -> Result<(), LedgerError> {
        let dir = self.dir.path().to_path_buf();
        // Opening a second ledger on the same file is refused by redb: close first.
        let policy = self.src.snapshot_policy;
        let placeholder = tempfile::tempdir().unwrap();
        let src = std::mem::replace(
            &mut self.src,
            Ledger::<Cosco>::open(
                config(placeholder.path(), "cosco-1", FamilyName::Cosco),
                [3; 72],
                t(0),
            )
            .unwrap(),
        );
        drop(src);
        let mut src = Ledger::<Cosco>::open(
            config(&dir, "cosco-1", FamilyName::Cosco),
            [9; 72],
            t(self.clock),
        )?;
        src.set_snapshot_policy(policy);
        self.src = src;
        Ok(())
    }
}

/// Everything a restart must bring back, as JSON.
fn state<F: Signing + IntoAny>(l: &Ledger<F>) -> serde_json::Value {
    serde_json::json!({
        "host": l.host,
        "apps": l.apps,
        "sent_at": l.sent_at.iter().collect::<Vec<_>>(),
        "tip": l.tip,
        "keyring": l.keyring,
        "status": l.status(),
    })
}

#[test]
fn a_restart_replays_the_blocks_after_the_snapshot_to_the_same_state() {
    let mut pair = Pair::new(SnapshotPolicy {
        every_blocks: 4,
        log_bytes: u64::MAX,
    });
    pair.traffic(9);
    pair.send(2);
    let unacked = pair.seal();
    let before = state(&pair.src);
    assert!(
        pair.src.snapshot_height() < pair.src.height(),
        "the tip is past the snapshot"
    );
    assert!(pair.src.snapshot_height() > 4, "several intervals passed");
    let acked = pair.src.host.channels().map(|c| c.next_ack).max();
    assert!(acked > Some(1), "acks came back");
    pair.reopen().unwrap();
    assert_eq!(state(&pair.src), before);
    // And it goes on: the packets sealed before the restart are relayed
    // and acknowledged, more traffic follows.
    pair.relay(unacked);
    pair.traffic(3);
    let before = state(&pair.src);
    pair.reopen().unwrap();
    assert_eq!(state(&pair.src), before);
}

#[test]
fn a_restart_right_after_a_snapshot_has_nothing_to_replay() {
    let mut pair = Pair::new(SnapshotPolicy {
        every_blocks: 3,
        log_bytes: u64::MAX,
    });
    pair.traffic(4);
    while pair.src.snapshot_height() != pair.src.height() {
        pair.seal();
    }
    let before = state(&pair.src);
    pair.reopen().unwrap();
    assert_eq!(state(&pair.src), before);
    // A snapshot written at the tip (as on shutdown) is also a clean start.
    pair.send(2);
    pair.seal();
    pair.src.snapshot().unwrap();
    assert_eq!(pair.src.snapshot_height(), pair.src.height());
    let before = state(&pair.src);
    pair.reopen().unwrap();
    assert_eq!(state(&pair.src), before);
}

#[test]
fn a_snapshot_is_refused_while_the_block_holds_inputs() {
    let mut pair = Pair::new(SnapshotPolicy::DEFAULT);
    pair.send(1);
    let e = pair.src.snapshot().unwrap_err();
    assert_eq!(e.code(), "block_open");
}

#[test]
fn seals_between_snapshots_write_no_state() {
    let mut pair = Pair::new(SnapshotPolicy {
        every_blocks: 1_000,
        log_bytes: u64::MAX,
    });
    let snapshot = pair.src.snapshot_height();
    pair.traffic(3);
    assert_eq!(pair.src.snapshot_height(), snapshot);
    let host: Host = pair.src.store.meta("host").unwrap().unwrap();
    assert_ne!(
        serde_json::to_value(&host).unwrap(),
        serde_json::to_value(&pair.src.host).unwrap(),
        "the stored host is the snapshot's, not the tip's"
    );
}

#[test]
fn a_replay_that_does_not_reach_the_stored_roots_is_refused() {
    let mut pair = Pair::new(SnapshotPolicy {
        every_blocks: 1_000,
        log_bytes: u64::MAX,
    });
    pair.send(2);
    let height = pair.seal();
    pair.seal();
    // Drop the block's second event from its inputs.
    let raw = pair.src.store.raw_inputs(height).unwrap().unwrap();
    let mut inputs: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    inputs["inputs"].as_array_mut().unwrap().pop();
    let damaged = serde_json::to_vec(&inputs).unwrap();
    pair.src.store.put_inputs(height, Some(&damaged)).unwrap();
    let e = pair.reopen().unwrap_err();
    assert_eq!(e.code(), "replay");
    let message = e.to_string();
    assert!(
        message.contains(&format!("replaying block {height}")) && message.contains("roots"),
        "{message}"
    );
}

#[test]
fn missing_inputs_above_the_snapshot_are_refused_by_height() {
    let mut pair = Pair::new(SnapshotPolicy {
        every_blocks: 1_000,
        log_bytes: u64::MAX,
    });
    pair.send(1);
    let height = pair.seal();
    pair.src.store.put_inputs(height, None).unwrap();
    let e = pair.reopen().unwrap_err();
    assert_eq!(e.code(), "replay");
    let message = e.to_string();
    assert!(
        message.contains(&format!("replaying block {height}"))
            && message.contains("inputs are not stored"),
        "{message}"
    );
}

#[test]
fn a_replayed_input_that_is_now_refused_is_named() {
    let mut pair = Pair::new(SnapshotPolicy {
        every_blocks: 1_000,
        log_bytes: u64::MAX,
    });
    pair.send(1);
    let height = pair.seal();
    let raw = pair.src.store.raw_inputs(height).unwrap().unwrap();
    let mut inputs: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    inputs["inputs"][0]["event"]["event"]["equipmentReference"] = "CSQU3054384".into();
    let damaged = serde_json::to_vec(&inputs).unwrap();
    pair.src.store.put_inputs(height, Some(&damaged)).unwrap();
    let e = pair.reopen().unwrap_err();
    assert_eq!(e.code(), "replay");
    let message = e.to_string();
    assert!(
        message.contains("input 0") && message.contains("iso6346.check_digit"),
        "{message}"
    );
}

#[test]
fn a_witness_rebuilds_the_blocks_zk_root_and_refuses_what_it_cannot_prove() {
    let mut p = Pair::new(SnapshotPolicy::DEFAULT);
    p.send(3);
    let h = p.seal();
    let block = p.src.stored(h).unwrap();
    let ids: Vec<PacketId> = block.records.iter().map(|r| r.packet.clone()).collect();
    assert_eq!(ids.len(), 3, "one record per packet the block emitted");
    let params = circuits::DisclosureParams::new(
        light_clients::zk::DEFAULT_ZK_DEPTH,
        2,
        adapters::records::WIDTH,
    )
    .unwrap();
    // A policy that lists no kinds: the kind disclosed, the rest hidden.
    let policy = PathPolicy::Groth16 {
        kinds: Default::default(),
    };
    let w = p.src.witness(h, &ids[..2], &policy, params).unwrap();
    assert_eq!(w.disclosure.zk_root, block.roots.zk_root);
    w.statement
        .check(&w.openings)
        .expect("the records, salted again, are under the committed root");
    assert!(w
        .disclosure
        .records
        .iter()
        .all(|r| r.rules[1..].iter().all(|x| *x == DisclosedRule::Hidden)));
    let code = |r: Result<Witness, LedgerError>| r.map(|_| ()).unwrap_err().code();
    assert_eq!(code(p.src.witness(h, &ids, &policy, params)), "packets");
    assert_eq!(
        code(p.src.witness(h, &ids[..1], &PathPolicy::Merkle, params)),
        "policy"
    );
    assert_eq!(
        code(p.src.witness(h - 1, &ids[..1], &policy, params)),
        "not_found"
    );
    let shallow = circuits::DisclosureParams::new(8, 2, adapters::records::WIDTH).unwrap();
    assert_eq!(
        code(p.src.witness(h, &ids[..1], &policy, shallow)),
        "zk_depth"
    );
}

/// PINT calls are inputs: a restart replays a platform's registration, a
/// transfer started, its document and its finish to the same state, and
/// a resend after it is DUPE.
#[test]
fn a_restart_replays_pint_calls_to_the_same_state() {
    use crate::apps::pint;
    let mut pair = Pair::new(SnapshotPolicy {
        every_blocks: 1_000,
        log_bytes: u64::MAX,
    });
    let wave = ed25519_consensus::SigningKey::from([7; 32]);
    pair.src
        .register_pint_platform("WAVE".into(), pint::public_jwk(&wave))
        .unwrap();
    pair.seal();
    let party = |name: &str, platform: &str| {
        serde_json::json!({"partyName": name, "eblPlatform": platform,
            "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": name}]})
    };
    let td = serde_json::json!({"transportDocumentReference": "COSPINT0001"});
    let checksum = pint::document_checksum(&td);
    let document = b"%PDF packing list";
    let issuance = serde_json::json!({"documentChecksum": checksum, "issueToChecksum": checksum});
    let entry = serde_json::json!({"eblPlatform": "WAVE", "transportDocumentChecksum": checksum,
        "issuanceManifestSignedContent": pint::sign(&issuance, &wave).unwrap(),
        "transactions": [
            {"actionCode": "ISSUE", "actor": party("Carrier", "WAVE"), "recipient": party("Shipper", "WAVE"),
             "actionDateTime": "2024-04-17T07:11:19.531Z"},
            {"actionCode": "TRANSFER", "actor": party("Shipper", "WAVE"), "recipient": party("Bank", "COSC"),
             "actionDateTime": "2024-04-17T07:12:19.531Z"}]});
    let entry = pint::sign(&entry, &wave).unwrap();
    let manifest = serde_json::json!({"transportDocumentChecksum": checksum,
        "lastEnvelopeTransferChainEntrySignedContentChecksum": pint::sha256_hex(entry.as_bytes()),
        "supportingDocuments": [{"name": "packing.pdf", "size": document.len(), "mediaType": "application/pdf",
            "documentChecksum": pint::sha256_hex(document)}]});
    let envelope = serde_json::json!({"transportDocument": td,
        "envelopeManifestSignedContent": pint::sign(&manifest, &wave).unwrap(),
        "envelopeTransferChain": [entry]});
    let started = pair.src.pint_start(envelope.clone());
    assert_eq!(started.status, 201, "{started:?}");
    let reference = started.body.unwrap()["envelopeReference"]
        .as_str()
        .unwrap()
        .to_string();
    pair.seal();
    let base64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(document)
    };
    let sent = pair
        .src
        .pint_document(reference.clone(), pint::sha256_hex(document), &base64);
    assert_eq!(sent.status, 204);
    pair.seal();
    assert_eq!(pair.src.pint_finish(reference).status, 200);
    pair.seal();
    assert_eq!(pair.src.apps.ebl.bills["COSPINT0001"].holder, "Bank");
    let before = state(&pair.src);
    assert!(pair.src.snapshot_height() < pair.src.height() - 3);
    pair.reopen().unwrap();
    assert_eq!(state(&pair.src), before);
    assert_eq!(pair.src.pint_start(envelope).status, 200, "DUPE");
}
