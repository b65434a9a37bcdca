//! A ledger's state machine, synchronous and single-owner: the host module,
//! the apps, the validator keys and the block being built. Transactions and
//! events execute as they arrive, against the block being built (its height
//! and time are fixed when the previous block is sealed); `seal` closes the
//! block, signs its header with the family's scheme and writes block and
//! state in one store transaction.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use adapters::events;
use adapters::wire::{
    self, BlockEvents, ChannelsResponse, ClientInfo, ClientsResponse, HeaderResponse, MsgResult,
    NodeStatus, ProvenEvent, SubmitEvent, SubmittedEvent, TxResponse, WIRE_VERSION,
};
use light_clients::any::{AnyHeader, FamilyName, IntoAny};
use light_clients::codec::Canonical;
use light_clients::host::{
    self, BlockContext, BlockEvent, EventProof, Host, HostError, RelayerKey, SignedTx, TxBody,
};
use light_clients::sample::{self, BlockFields, Signing};
use light_clients::{ChainId, ChannelId, ChannelState, Hash32, Roots, Timeout, Timestamp};
use serde::{Deserialize, Serialize};

use crate::apps::PortApps;
use crate::store::{Store, StoreError};

/// Most validators a devnet ledger signs with (cmport: organisations, one orderer each).
pub const MAX_VALIDATORS: usize = 64;
/// How many transaction results are kept for `GET /v1/tx/{id}`.
const RECENT_TXS: usize = 20_000;

/// What a ledger is.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    pub chain_id: ChainId,
    pub family: FamilyName,
    /// Validators at genesis.
    pub validators: usize,
    pub data_dir: PathBuf,
}

/// An API refusal: HTTP status, stable code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(404, "not_found", message)
    }
}

impl From<HostError> for ApiError {
    fn from(e: HostError) -> Self {
        let status = match e {
            HostError::UnregisteredKey { .. }
            | HostError::RetiredKey { .. }
            | HostError::BadSignature { .. }
            | HostError::NotOperator { .. } => 401,
            HostError::WrongNonce { .. } => 409,
            _ => 400,
        };
        ApiError::new(status, e.check(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::new(500, "store", e.to_string())
    }
}

/// The validator keys: derived from a secret seed kept in the store, one
/// set per epoch, so a restart signs with the same keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyRing {
    seed: u64,
    epoch: u64,
    count: usize,
    /// A rotation announced in the next header: (epoch, count).
    pending: Option<(u64, usize)>,
}

impl KeyRing {
    fn keys<F: Signing>(&self, epoch: u64, count: usize) -> Vec<F::Key> {
        sample::keys::<F>(self.seed ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15), count)
    }
}

/// The latest sealed block, as the next one needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tip {
    height: u64,
    hash: Hash32,
    time: Timestamp,
    /// This block's own roots (a gba header commits them one block later).
    roots: Roots,
}

/// A sealed block as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredBlock {
    pub header: AnyHeader,
    pub events: Vec<BlockEvent>,
    pub channel_states: Vec<ChannelState>,
    pub client_states: Vec<light_clients::ClientSummary>,
    pub roots: Roots,
    pub txs: Vec<(String, Vec<MsgResult>)>,
}

/// The ledger.
#[derive(Debug)]
pub struct Ledger<F: Signing + IntoAny> {
    config: LedgerConfig,
    store: Store,
    host: Host,
    apps: PortApps,
    keyring: KeyRing,
    keys: Vec<F::Key>,
    tip: Tip,
    building: BlockContext,
    block_txs: Vec<(String, Vec<MsgResult>)>,
    recent_txs: BTreeMap<String, (u64, Vec<MsgResult>)>,
    recent_order: std::collections::VecDeque<String>,
    /// Whether the block being built holds transactions or events.
    pending_events: bool,
    /// The eBL platform's envelope signing key (`platform.key` in the data directory).
    platform_key: ed25519_consensus::SigningKey,
    /// Where each sent packet still awaiting its ack was emitted, for the clearer.
    sent_at: BTreeMap<light_clients::PacketId, u64>,
}

/// The operator's signing key, kept in the data directory (`operator.key`, hex).
pub fn operator_key(data_dir: &Path) -> Result<ed25519_consensus::SigningKey, String> {
    read_key(data_dir, "operator.key")
}

/// An Ed25519 seed kept as hex in a file of the data directory.
fn read_key(data_dir: &Path, name: &str) -> Result<ed25519_consensus::SigningKey, String> {
    let path = data_dir.join(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .map_err(|e| format!("{} is not 64 hex digits: {e}", path.display()))?;
    Ok(ed25519_consensus::SigningKey::from(seed))
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

impl<F: Signing + IntoAny> Ledger<F> {
    /// Opens the ledger in its data directory: resumes what is there, or
    /// creates genesis (with fresh keys from `entropy`) at time `now`.
    pub fn open(config: LedgerConfig, entropy: [u8; 72], now: Timestamp) -> Result<Self, ApiError> {
        if config.family != F::FAMILY {
            return Err(ApiError::new(
                500,
                "family",
                format!("ledger built for {} opened as {}", F::FAMILY, config.family),
            ));
        }
        if config.validators == 0 || config.validators > MAX_VALIDATORS {
            return Err(ApiError::new(
                400,
                "validators",
                format!("validators must be 1 to {MAX_VALIDATORS}"),
            ));
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
        for (name, secret) in [("operator.key", op), ("platform.key", platform)] {
            let key_path = config.data_dir.join(name);
            std::fs::write(&key_path, hex::encode(secret)).map_err(|e| {
                ApiError::new(
                    500,
                    "store",
                    format!("cannot write {}: {e}", key_path.display()),
                )
            })?;
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
        );
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
        };
        ledger.seal(now)?;
        Ok(ledger)
    }

    fn resume(config: LedgerConfig, store: Store, now: Timestamp) -> Result<Self, ApiError> {
        let missing = |what: &str| {
            ApiError::new(
                500,
                "store",
                format!("data directory has blocks but no {what}"),
            )
        };
        let host: Host = store.meta("host")?.ok_or_else(|| missing("host state"))?;
        if host.chain_id() != &config.chain_id || host.family() != config.family {
            return Err(ApiError::new(
                400,
                "data_dir",
                format!(
                    "data directory holds {} ({}), not {} ({})",
                    host.chain_id(),
                    host.family(),
                    config.chain_id,
                    config.family
                ),
            ));
        }
        let apps: PortApps = store.meta("apps")?.ok_or_else(|| missing("apps state"))?;
        let keyring: KeyRing = store.meta("keyring")?.ok_or_else(|| missing("keys"))?;
        let tip: Tip = store.meta("tip")?.ok_or_else(|| missing("tip"))?;
        let building = BlockContext {
            height: tip.height + 1,
            time: next_time(tip.time, now),
        };
        let platform_key = read_key(&config.data_dir, "platform.key")
            .map_err(|e| ApiError::new(500, "store", e))?;
        let sent_at: Vec<(light_clients::PacketId, u64)> =
            store.meta("sent_at")?.unwrap_or_default();
        Ok(Ledger {
            sent_at: sent_at.into_iter().collect(),
            platform_key,
            keys: keyring.keys::<F>(keyring.epoch, keyring.count),
            config,
            store,
            host,
            apps,
            keyring,
            tip,
            building,
            block_txs: Vec::new(),
            recent_txs: BTreeMap::new(),
            recent_order: Default::default(),
            pending_events: false,
        })
    }

    pub fn height(&self) -> u64 {
        self.tip.height
    }

    /// Whether the block being built has anything in it.
    pub fn has_pending(&self) -> bool {
        self.pending_events
    }

    /// Closes the block being built, signs and stores it; returns its height.
    pub fn seal(&mut self, now: Timestamp) -> Result<u64, ApiError> {
        let ctx = self.building;
        let out = self.host.end_block();
        let host = &self.host;
        self.sent_at.retain(|id, _| host.sent(id).is_some());
        let set = F::validator_set(&self.keys);
        let next_keys = match self.keyring.pending {
            Some((epoch, count)) => self.keyring.keys::<F>(epoch, count),
            None => self.keys.clone(),
        };
        let next_set = F::validator_set(&next_keys);
        // cmport and cosco headers commit the block's own roots; a gba header
        // commits the previous block's through app_hash, as CometBFT does.
        let committed = if F::FAMILY == FamilyName::Gba {
            self.tip.roots
        } else {
            out.roots
        };
        let fields = BlockFields::<F> {
            chain_id: self.config.chain_id.as_str(),
            height: ctx.height,
            time: ctx.time,
            previous: self.tip.hash,
            roots: committed,
            validators: &set,
            next_validators: &next_set,
        };
        let block = sample::block(&fields, &self.keys);
        let hash = F::summary(&block.signed_header)
            .map(|s| s.hash)
            .map_err(|e| ApiError::new(500, "seal", e.to_string()))?;
        let txs = std::mem::take(&mut self.block_txs);
        let stored = StoredBlock {
            header: F::any_header(block),
            events: out.events,
            channel_states: out.channel_states,
            client_states: out.client_states,
            roots: out.roots,
            txs,
        };
        let mut keyring = self.keyring.clone();
        if let Some((epoch, count)) = keyring.pending.take() {
            keyring.epoch = epoch;
            keyring.count = count;
        }
        let tip = Tip {
            height: ctx.height,
            hash,
            time: ctx.time,
            roots: out.roots,
        };
        self.store.commit_block(
            ctx.height,
            &stored,
            &[
                ("host", json(&self.host)),
                ("apps", json(&self.apps)),
                ("keyring", json(&keyring)),
                ("tip", json(&tip)),
                ("sent_at", json(&self.sent_at.iter().collect::<Vec<_>>())),
            ],
        )?;
        for (id, results) in stored.txs {
            self.remember_tx(id, ctx.height, results);
        }
        self.keys = next_keys;
        self.keyring = keyring;
        self.tip = tip;
        self.building = BlockContext {
            height: ctx.height + 1,
            time: next_time(ctx.time, now),
        };
        self.pending_events = false;
        Ok(ctx.height)
    }

    fn remember_tx(&mut self, id: String, height: u64, results: Vec<MsgResult>) {
        self.recent_order.push_back(id.clone());
        self.recent_txs.insert(id, (height, results));
        while self.recent_order.len() > RECENT_TXS {
            if let Some(old) = self.recent_order.pop_front() {
                self.recent_txs.remove(&old);
            }
        }
    }

    /// Registers a counterparty ledger's eBL platform key (an admin call).
    pub fn register_platform(&mut self, chain: ChainId, key: RelayerKey) {
        self.apps.register_platform(chain, key);
        self.pending_events = true;
    }

    /// Announces a new validator set (of `count` fresh keys) in the next
    /// header; the header after it is signed by the new set.
    pub fn rotate(&mut self, count: usize) -> Result<u64, ApiError> {
        if count == 0 || count > MAX_VALIDATORS {
            return Err(ApiError::new(
                400,
                "validators",
                format!("validators must be 1 to {MAX_VALIDATORS}"),
            ));
        }
        let epoch = self
            .keyring
            .pending
            .map(|(e, _)| e)
            .unwrap_or(self.keyring.epoch)
            + 1;
        self.keyring.pending = Some((epoch, count));
        Ok(self.building.height + 1)
    }

    pub fn status(&self) -> NodeStatus {
        NodeStatus {
            version: WIRE_VERSION,
            chain_id: self.config.chain_id.clone(),
            family: self.config.family,
            height: self.tip.height,
            time: self.tip.time,
            operator: self.host.operator(),
            validators: self.keys.len() as u64,
            ebl_platform: RelayerKey(self.platform_key.verification_key().to_bytes()),
        }
    }

    fn stored(&self, height: u64) -> Result<StoredBlock, ApiError> {
        self.store.block(height)?.ok_or_else(|| {
            ApiError::not_found(format!(
                "no block at height {height} (latest {})",
                self.tip.height
            ))
        })
    }

    pub fn header(&self, height: u64) -> Result<HeaderResponse, ApiError> {
        Ok(HeaderResponse {
            version: WIRE_VERSION,
            height,
            header: self.stored(height)?.header,
        })
    }

    /// The header that commits block `height`'s roots, and the opening a gba
    /// proof needs; refused while that header is not sealed.
    fn proof_point(&self, height: u64, roots: Roots) -> Result<(u64, Option<Roots>), ApiError> {
        let proof_height = if F::FAMILY == FamilyName::Gba {
            height + 1
        } else {
            height
        };
        if proof_height > self.tip.height {
            return Err(ApiError::new(
                409,
                "not_yet_provable",
                format!(
                    "block {height}'s roots are committed by header {proof_height}, not sealed yet"
                ),
            ));
        }
        Ok((
            proof_height,
            (F::FAMILY == FamilyName::Gba).then_some(roots),
        ))
    }

    /// Every channel's sequences after block `height`, proven under its `state_root`.
    pub fn state(&self, height: u64) -> Result<wire::BlockState, ApiError> {
        let block = self.stored(height)?;
        let (proof_height, opening) = self.proof_point(height, block.roots)?;
        let leaves: Vec<Vec<u8>> =
            host::BlockOutput::state_leaves(&block.channel_states, &block.client_states)
                .iter()
                .map(Canonical::encode)
                .collect();
        let mut proofs = host::prove_all(F::TREE_HASH, &leaves).into_iter();
        let proof = |p: Option<light_clients::MerkleProof>| EventProof {
            height: proof_height,
            opening,
            proof: p.unwrap_or_default(),
        };
        let channels = block
            .channel_states
            .into_iter()
            .map(|state| wire::ProvenChannelState {
                state,
                proof: proof(proofs.next()),
            })
            .collect();
        let clients = block
            .client_states
            .into_iter()
            .map(|summary| wire::ProvenClientState {
                summary,
                proof: proof(proofs.next()),
            })
            .collect();
        Ok(wire::BlockState {
            version: WIRE_VERSION,
            height,
            proof_height,
            roots: block.roots,
            channels,
            clients,
        })
    }

    /// A block's packets and acks with their inclusion proofs.
    pub fn events(&self, height: u64) -> Result<BlockEvents, ApiError> {
        let block = self.stored(height)?;
        let (proof_height, opening) = self.proof_point(height, block.roots)?;
        let leaves: Vec<Vec<u8>> = block.events.iter().map(|e| e.leaf().encode()).collect();
        let proofs = host::prove_all(F::TREE_HASH, &leaves);
        let events = block
            .events
            .into_iter()
            .zip(proofs)
            .enumerate()
            .map(|(i, (event, proof))| ProvenEvent {
                index: i as u64,
                event,
                proof: EventProof {
                    height: proof_height,
                    opening,
                    proof,
                },
            })
            .collect();
        Ok(BlockEvents {
            version: WIRE_VERSION,
            height,
            proof_height,
            roots: block.roots,
            events,
        })
    }

    pub fn channels(&self) -> ChannelsResponse {
        ChannelsResponse {
            version: WIRE_VERSION,
            height: self.tip.height,
            channels: self.host.channels().cloned().collect(),
        }
    }

    pub fn clients(&self) -> ClientsResponse {
        let now = self.building.time;
        let clients = self
            .host
            .clients()
            .map(|(chain, c)| ClientInfo {
                chain: chain.clone(),
                family: c.family(),
                latest_height: c.latest_height(),
                status: c.status(now),
                expires_at: c.expires_at(),
                frozen: c.frozen().cloned(),
            })
            .collect();
        ClientsResponse {
            version: WIRE_VERSION,
            height: self.tip.height,
            clients,
        }
    }

    /// The block that emitted a sent packet still awaiting its ack.
    pub fn packet_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<wire::PacketLocation, ApiError> {
        match self.sent_at.get(id) {
            Some(&height) if height <= self.tip.height => Ok(wire::PacketLocation {
                version: WIRE_VERSION,
                packet: id.clone(),
                height,
            }),
            Some(_) => Err(ApiError::new(
                409,
                "not_yet_sealed",
                format!("{id} is in the block being built"),
            )),
            None => Err(ApiError::not_found(format!(
                "no sent packet {id} awaiting an ack"
            ))),
        }
    }

    /// The block in which a packet was received and its ack written.
    pub fn receipt_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<wire::ReceiptLocation, ApiError> {
        match self.host.receipt(id) {
            Some(r) if r.height <= self.tip.height => Ok(wire::ReceiptLocation {
                version: WIRE_VERSION,
                packet: id.clone(),
                height: r.height,
                result: r.result.clone(),
            }),
            Some(_) => Err(ApiError::new(
                409,
                "not_yet_sealed",
                format!("{id} was received in the block being built"),
            )),
            None => Err(ApiError::not_found(format!("no receipt of {id}"))),
        }
    }

    /// A signer's next nonce, or `None` for an unregistered or retired key.
    pub fn account(&self, key: &RelayerKey) -> Option<wire::AccountResponse> {
        let next_nonce = self.host.next_nonce(key)?;
        Some(wire::AccountResponse {
            version: WIRE_VERSION,
            key: *key,
            next_nonce,
            operator: *key == self.host.operator(),
        })
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn apps(&self) -> &PortApps {
        &self.apps
    }

    /// Authenticates a transaction and executes it in the block being built.
    pub fn submit_tx(&mut self, tx: &SignedTx) -> Result<TxResponse, ApiError> {
        let id = tx.id().to_string();
        if let Some((height, results)) = self.recent_txs.get(&id) {
            return Ok(TxResponse {
                version: WIRE_VERSION,
                id,
                height: Some(*height),
                results: results.clone(),
            });
        }
        let body = self.host.authenticate(tx)?;
        let ctx = self.building;
        let results: Vec<MsgResult> = match &body {
            TxBody::Operator(msg) => vec![self.host.apply_operator(msg, &ctx).into()],
            TxBody::Relay(msgs) => msgs
                .iter()
                .map(|m| self.host.apply_relay(m, &mut self.apps, &ctx).into())
                .collect(),
        };
        self.pending_events = true;
        self.block_txs.push((id.clone(), results.clone()));
        Ok(TxResponse {
            version: WIRE_VERSION,
            id,
            height: None,
            results,
        })
    }

    /// Where a transaction stands: pending in the block being built, included, or unknown.
    pub fn tx(&self, id: &str) -> Option<TxResponse> {
        if let Some((height, results)) = self.recent_txs.get(id) {
            return Some(TxResponse {
                version: WIRE_VERSION,
                id: id.to_string(),
                height: Some(*height),
                results: results.clone(),
            });
        }
        self.block_txs
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, results)| TxResponse {
                version: WIRE_VERSION,
                id: id.to_string(),
                height: None,
                results: results.clone(),
            })
    }

    /// Validates a port event and records it; for another network it leaves
    /// in a packet on the channel to it.
    pub fn submit_event(&mut self, req: &SubmitEvent) -> Result<SubmittedEvent, ApiError> {
        wire::check_version("event submission", req.version)
            .map_err(|e| ApiError::new(400, "version", e.to_string()))?;
        let event =
            events::validate(&req.event).map_err(|r| ApiError::new(422, r.rule, r.to_string()))?;
        self.apps
            .check_local(&event, &req.destination)
            .map_err(|e| ApiError::new(409, e.code(), e.to_string()))?;
        if req.destination == self.config.chain_id {
            self.apps.apply_local(&event, None);
            self.pending_events = true;
            return Ok(SubmittedEvent {
                version: WIRE_VERSION,
                packet: None,
            });
        }
        let channel = ChannelId {
            source: self.config.chain_id.clone(),
            destination: req.destination.clone(),
            app: event.app(),
        };
        let secs = req.timeout_secs.unwrap_or(3600).clamp(1, 30 * 24 * 3600);
        let timeout = Timeout {
            time: self
                .building
                .time
                .saturating_add(std::time::Duration::from_secs(secs)),
            height: None,
        };
        // eBL transfers travel signed by this ledger's platform (PINT's envelope).
        let payload = if event.app() == light_clients::App::Ebl {
            serde_json::to_vec(&crate::apps::SignedEnvelope::seal(
                event.json(),
                &self.platform_key,
            ))
        } else {
            serde_json::to_vec(event.json())
        }
        .map_err(|e| ApiError::new(500, "encode", e.to_string()))?;
        let packet = self.host.send_packet(&channel, payload, timeout)?;
        self.sent_at.insert(packet.id.clone(), self.building.height);
        self.apps.apply_local(&event, Some(packet.id.clone()));
        self.pending_events = true;
        Ok(SubmittedEvent {
            version: WIRE_VERSION,
            packet: Some(packet.id),
        })
    }
}

/// The next block's time: now, but always after the previous block.
fn next_time(previous: Timestamp, now: Timestamp) -> Timestamp {
    let floor = previous.saturating_add(std::time::Duration::from_millis(1));
    if now > floor {
        now
    } else {
        floor
    }
}
