//! Opening a data directory: genesis with fresh keys, or a restart that
//! loads the latest snapshot and replays the blocks after it, checking
//! each replayed block's roots against the stored ones.

use std::collections::BTreeMap;

use light_clients::any::IntoAny;
use light_clients::host::{BlockContext, Host, RelayerKey};
use light_clients::sample::Signing;
use light_clients::{Hash32, Roots, Timestamp};

use crate::apps::PortApps;
use crate::store::Store;

use super::{
    next_time, read_key, read_secret, write_secret, BlockInputs, KeyRing, Ledger, LedgerConfig,
    LedgerError, ReplayFault, SnapshotMark, SnapshotPolicy, Tip, MAX_VALIDATORS, STORE_VERSION,
};

impl<F: Signing + IntoAny> Ledger<F> {
    /// Opens the ledger in its data directory: resumes what is there, or
    /// creates genesis (with fresh keys from `entropy`) at time `now`.
    pub fn open(
        config: LedgerConfig,
        entropy: [u8; 72],
        now: Timestamp,
    ) -> Result<Self, LedgerError> {
        Self::open_with(config, entropy, now, false)
    }

    /// [`Ledger::open`] for a ledger whose blocks CometBFT drives
    /// (`ledger/abci.rs`): genesis seals no block (CometBFT's first block is
    /// height 1), and `entropy` is the network's secret, the same at every
    /// validator, so that each derives the same operator, platform and
    /// records' salt keys and executes alike.
    pub fn open_external(config: LedgerConfig, entropy: [u8; 72]) -> Result<Self, LedgerError> {
        Self::open_with(config, entropy, Timestamp::default(), true)
    }

    fn open_with(
        config: LedgerConfig,
        entropy: [u8; 72],
        now: Timestamp,
        external: bool,
    ) -> Result<Self, LedgerError> {
        if config.family != F::FAMILY {
            return Err(LedgerError::WrongFamily {
                built: F::FAMILY,
                configured: config.family,
            });
        }
        if config.validators == 0 || config.validators > MAX_VALIDATORS {
            return Err(LedgerError::Validators {
                asked: config.validators,
            });
        }
        let store = Store::open(&config.data_dir)?;
        if store.latest_height()? > 0 {
            return Self::resume(config, store, now);
        }
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&entropy[..8]);
        let mut op = [0u8; 32];
        op.copy_from_slice(&entropy[8..40]);
        let operator = ed25519_consensus::SigningKey::from(op);
        let mut platform = [0u8; 32];
        platform.copy_from_slice(&entropy[40..72]);
        // The records' salt secret: from the same fresh entropy, under its own tag.
        let zk_secret: [u8; 32] =
            light_clients::hash::sha256(&[b"portrelay.zk.secret.v1", &entropy]).0;
        for (name, secret) in [
            ("operator.key", op),
            ("platform.key", platform),
            ("zk.secret", zk_secret),
        ] {
            write_secret(&config.data_dir, name, &secret)?;
        }
        let keyring = KeyRing {
            seed: u64::from_le_bytes(seed),
            epoch: 0,
            count: config.validators,
            pending: None,
        };
        let host = Host::new(
            config.chain_id.clone(),
            config.family,
            RelayerKey(operator.verification_key().to_bytes()),
        )
        .with_zk_depth(config.zk_depth)?;
        let mut ledger = Ledger {
            keys: keyring.keys::<F>(0, config.validators),
            apps: PortApps::new(config.chain_id.clone()),
            config,
            store,
            host,
            keyring,
            tip: Tip {
                height: 0,
                hash: Hash32::ZERO,
                time: Timestamp::default(),
                roots: Roots::empty(F::TREE_HASH),
            },
            building: BlockContext {
                height: 1,
                time: now,
            },
            block_txs: Vec::new(),
            recent_txs: BTreeMap::new(),
            recent_order: Default::default(),
            pending_events: false,
            platform_key: ed25519_consensus::SigningKey::from(platform),
            sent_at: BTreeMap::new(),
            block_inputs: Vec::new(),
            snapshot_policy: SnapshotPolicy::DEFAULT,
            event_options: adapters::events::Options::default(),
            snapshot_height: 0,
            logged_since_snapshot: 0,
            snapshot_bytes: 0,
            zk_secret,
            block_records: Vec::new(),
            closed: None,
            admin_nonce: 0,
            block_validators: Vec::new(),
        };
        if !external {
            ledger.seal(now)?;
        }
        Ok(ledger)
    }

    pub(super) fn resume(
        config: LedgerConfig,
        store: Store,
        now: Timestamp,
    ) -> Result<Self, LedgerError> {
        let missing = |what: &'static str| LedgerError::Missing { what };
        let host: Host = store.meta("host")?.ok_or_else(|| missing("host state"))?;
        if host.chain_id() != &config.chain_id || host.family() != config.family {
            return Err(LedgerError::OtherLedger {
                held: host.chain_id().clone(),
                held_family: host.family(),
                chain_id: config.chain_id,
                family: config.family,
            });
        }
        let mut apps: PortApps = store.meta("apps")?.ok_or_else(|| missing("apps state"))?;
        apps.reindex();
        let keyring: KeyRing = store.meta("keyring")?.ok_or_else(|| missing("keys"))?;
        let tip: Tip = store.meta("tip")?.ok_or_else(|| missing("tip"))?;
        // A data directory from before snapshots kept the state after every block.
        let snapshot_height = match store.meta::<SnapshotMark>("snapshot")? {
            None => tip.height,
            Some(mark) if mark.version != STORE_VERSION => {
                return Err(LedgerError::SnapshotVersion {
                    found: mark.version,
                })
            }
            Some(mark) => mark.height,
        };
        if snapshot_height > tip.height || snapshot_height == 0 {
            return Err(LedgerError::SnapshotHeight {
                snapshot: snapshot_height,
                tip: tip.height,
            });
        }
        let platform_key = read_key(&config.data_dir, "platform.key")?;
        let zk_secret = read_secret(&config.data_dir, "zk.secret")?;
        let sent_at: Vec<(light_clients::PacketId, u64)> =
            store.meta("sent_at")?.unwrap_or_default();
        let admin_nonce: u64 = store.meta("admin_nonce")?.unwrap_or(0);
        let tip_height = tip.height;
        let mut ledger = Ledger {
            sent_at: sent_at.into_iter().collect(),
            platform_key,
            keys: keyring.keys::<F>(keyring.epoch, keyring.count),
            config,
            store,
            host,
            apps,
            keyring,
            building: BlockContext {
                height: tip.height + 1,
                time: next_time(tip.time, now),
            },
            tip,
            block_txs: Vec::new(),
            recent_txs: BTreeMap::new(),
            recent_order: Default::default(),
            pending_events: false,
            block_inputs: Vec::new(),
            snapshot_policy: SnapshotPolicy::DEFAULT,
            event_options: adapters::events::Options::default(),
            snapshot_height,
            logged_since_snapshot: 0,
            snapshot_bytes: 0,
            zk_secret,
            block_records: Vec::new(),
            closed: None,
            admin_nonce,
            block_validators: Vec::new(),
        };
        let building = ledger.building;
        for height in snapshot_height + 1..=tip_height {
            ledger.replay(height)?;
        }
        ledger.building = building;
        Ok(ledger)
    }

    /// Executes a stored block's inputs again, in its context, and checks
    /// that the result has the stored block's roots.
    pub(super) fn replay(&mut self, height: u64) -> Result<(), LedgerError> {
        let replay = |fault| LedgerError::Replay { height, fault };
        let inputs: BlockInputs = self.store.inputs(height)?.ok_or_else(|| {
            replay(ReplayFault::InputsMissing {
                snapshot: self.snapshot_height,
            })
        })?;
        if inputs.version != STORE_VERSION || inputs.height != height {
            return Err(replay(ReplayFault::InputsRecord {
                version: inputs.version,
                height: inputs.height,
            }));
        }
        let stored = self.stored(height)?;
        self.building = BlockContext {
            height,
            time: inputs.time,
        };
        self.logged_since_snapshot = self
            .logged_since_snapshot
            .saturating_add(Store::encode("inputs", &inputs)?.len() as u64);
        for (index, input) in inputs.inputs.iter().enumerate() {
            self.execute(input).map_err(|e| {
                replay(ReplayFault::Refused {
                    index,
                    error: Box::new(e),
                })
            })?;
        }
        let out = self.host.end_block();
        self.block_records.clear();
        self.block_validators.clear();
        if out.roots != stored.roots {
            return Err(replay(ReplayFault::Roots {
                replayed: Box::new(out.roots),
                stored: Box::new(stored.roots),
            }));
        }
        for (id, results) in std::mem::take(&mut self.block_txs) {
            self.remember_tx(id, height, results);
        }
        self.pending_events = false;
        Ok(())
    }
}
