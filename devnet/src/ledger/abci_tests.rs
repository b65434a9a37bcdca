//! The ledger driven as an ABCI application (`abci.rs`): validators with one
//! network secret answer alike, refusals name their check, and a crash
//! between `FinalizeBlock` and `Commit` loses nothing committed.

use super::*;
use std::path::Path;

use adapters::abci::{AbciTx, AdminCall, AdminTx};
use adapters::wire::{SubmitEvent, WIRE_VERSION};
use light_clients::any::FamilyName;
use light_clients::cosco::Cosco;
use light_clients::gba::Gba;
use light_clients::host::{OperatorMsg, RelayerKey, SignedTx, TxBody};
use light_clients::sample::{self, BlockFields};
use light_clients::{App, ChainId, ChannelId, Roots, Timestamp};

const SECRET: [u8; 72] = [5; 72];

fn open(dir: &Path, name: &str) -> Ledger<Gba> {
    Ledger::<Gba>::open_external(
        LedgerConfig {
            zk_depth: light_clients::zk::DEFAULT_ZK_DEPTH,
            chain_id: ChainId::new("gba-1").unwrap(),
            family: FamilyName::Gba,
            validators: 1,
            data_dir: dir.join(name),
        },
        SECRET,
    )
    .unwrap()
}

fn t(secs: u32) -> Timestamp {
    Timestamp::from_unix_secs(1_800_000_000 + secs)
}

fn peer_root() -> light_clients::any::AnyTrustRoot {
    let keys = sample::keys::<Cosco>(7, 4);
    let set = Cosco::validator_set(&keys);
    let fields = BlockFields::<Cosco> {
        chain_id: "cosco-1",
        height: 1,
        time: t(0),
        previous: light_clients::Hash32::ZERO,
        roots: Roots::empty(light_clients::HashAlgorithm::Sha256),
        validators: &set,
        next_validators: &set,
    };
    Cosco::any_header(sample::block(&fields, &keys)).trust_root()
}

fn op(l: &Ledger<Gba>, nonce: u64, msg: OperatorMsg) -> Vec<u8> {
    let key = operator_key(&l.config.data_dir).unwrap();
    AbciTx::Signed(SignedTx::sign(
        &key,
        &l.config.chain_id,
        nonce,
        &TxBody::Operator(msg),
    ))
    .encode()
}

fn event() -> Vec<u8> {
    let journey: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../../docs/examples/events/journey.json")).unwrap();
    AbciTx::Event(SubmitEvent {
        version: WIRE_VERSION,
        destination: ChainId::new("cosco-1").unwrap(),
        event: journey[0].clone(),
        timeout_secs: None,
    })
    .encode()
}

fn check(outcome: &TxOutcome) -> String {
    let log: serde_json::Value = serde_json::from_str(&outcome.log).unwrap();
    log["code"].as_str().unwrap().to_string()
}

#[test]
fn validators_agree_refusals_are_named_and_a_crash_before_commit_replays() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(dir.path(), "a");
    let mut b = open(dir.path(), "b");
    let empty = Roots::empty(light_clients::HashAlgorithm::Sha256).app_hash();
    assert_eq!(a.abci_info(), (0, empty));

    let channel = ChannelId {
        source: ChainId::new("gba-1").unwrap(),
        destination: ChainId::new("cosco-1").unwrap(),
        app: App::Cargo,
    };
    let block1 = vec![
        op(
            &a,
            0,
            OperatorMsg::CreateClient {
                root: peer_root(),
                options: light_clients::TrustOptions {
                    trusting_period: std::time::Duration::from_secs(14 * 24 * 3600),
                    clock_drift: std::time::Duration::from_secs(10),
                    trust_threshold: light_clients::Fraction::ONE_THIRD,
                },
            },
        ),
        op(
            &a,
            1,
            OperatorMsg::OpenChannel {
                channel,
                version: "cargo-1".into(),
            },
        ),
        vec![1, 2, 3],
    ];
    // CheckTx before the block: the reused nonce is not yet known; garbage is named.
    assert_eq!(check(&a.check_tx(&block1[2])), "malformed_tx");
    assert_eq!(check(&a.check_tx(&event())), "unknown_channel");
    let fa = a.finalize_block(1, t(1), &block1).unwrap();
    let fb = b.finalize_block(1, t(1), &block1).unwrap();
    assert_eq!(fa.app_hash, fb.app_hash);
    assert_eq!(fa.txs, fb.txs);
    assert_eq!(fa.txs[0].code, 0, "{:?}", fa.txs[0]);
    assert_eq!(fa.txs[1].code, 0, "{:?}", fa.txs[1]);
    assert_eq!(check(&fa.txs[2]), "malformed_tx");
    assert_eq!(a.abci_commit().unwrap(), 1);
    b.abci_commit().unwrap();

    // Block 2: an event in a packet, a used nonce, an admin validator update.
    assert_eq!(a.check_tx(&event()).code, 0);
    let reused = op(
        &a,
        0,
        OperatorMsg::RegisterRelayer {
            key: RelayerKey([3; 32]),
        },
    );
    assert_eq!(check(&a.check_tx(&reused)), "nonce");
    let operator = operator_key(&a.config.data_dir).unwrap();
    let admin = |nonce| {
        AbciTx::Admin(AdminTx::sign(
            &operator,
            &ChainId::new("gba-1").unwrap(),
            nonce,
            AdminCall::Validator {
                pub_key: RelayerKey(
                    ed25519_consensus::SigningKey::from([9; 32])
                        .verification_key()
                        .to_bytes(),
                ),
                power: 7,
            },
        ))
        .encode()
    };
    let block2 = vec![event(), reused, admin(0), admin(0)];
    let fa = a.finalize_block(2, t(2), &block2).unwrap();
    let fb = b.finalize_block(2, t(2), &block2).unwrap();
    assert_eq!(fa.app_hash, fb.app_hash);
    assert_eq!(fa.txs, fb.txs);
    assert_eq!(fa.txs[0].code, 0);
    assert_eq!(check(&fa.txs[1]), "nonce");
    assert_eq!(fa.txs[2].code, 0);
    assert_eq!(check(&fa.txs[3]), "admin_nonce");
    assert_eq!(fa.validator_updates.len(), 1);
    a.abci_commit().unwrap();
    b.abci_commit().unwrap();
    let stored = a.stored(2).unwrap();
    assert_eq!(stored.roots.app_hash(), fa.app_hash);
    assert_eq!(stored.events.len(), 1, "the event's packet");
    assert_eq!(a.abci_info(), (2, fa.app_hash));

    // Block 3 finalized, never committed: the crash loses it, the restart
    // (which replays block 2's inputs from the store) answers Info with
    // block 2 and executes block 3 again to the same roots.
    let block3 = vec![event(), admin(1)];
    let crashed = a.finalize_block(3, t(3), &block3).unwrap();
    assert!(matches!(
        a.finalize_block(4, t(4), &[]),
        Err(AbciError::Uncommitted { pending: 3 })
    ));
    drop(a);
    let mut a = open(dir.path(), "a");
    assert_eq!(a.abci_info(), (2, fa.app_hash));
    assert!(matches!(
        a.finalize_block(4, t(4), &[]),
        Err(AbciError::Height {
            expected: 3,
            got: 4
        })
    ));
    let again = a.finalize_block(3, t(3), &block3).unwrap();
    let other = b.finalize_block(3, t(3), &block3).unwrap();
    assert_eq!(again.app_hash, crashed.app_hash);
    assert_eq!(again.app_hash, other.app_hash);
    assert_eq!(again.txs, other.txs);
    assert_eq!(
        again.txs[1].code, 0,
        "the admin nonce came back from the snapshot and replay"
    );
}
