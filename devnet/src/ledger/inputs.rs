//! What enters a block: signed transactions, submitted port events and
//! admin calls, executed against the block being built and logged as
//! [`Input`]s for replay.

use adapters::events;
use adapters::wire::{self, MsgResult, SubmitEvent, SubmittedEvent, TxResponse, WIRE_VERSION};
use light_clients::any::IntoAny;
use light_clients::host::{self, HostError, RelayerKey, SignedTx, TxBody};
use light_clients::sample::Signing;
use light_clients::zk::{self};
use light_clients::{ChainId, ChannelId, PacketId, Timeout, Timestamp};
use serde::{Deserialize, Serialize};

use super::{field_bytes, Ledger, LedgerError, ZkRecord};

/// One input a block executed, recorded for replay: everything that changes
/// the host or the apps enters through one of these.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    /// A transaction whose envelope was accepted (its messages may have failed).
    Tx { tx: SignedTx },
    /// A port event accepted by `POST /v1/events` (or the batch route).
    Event { event: SubmitEvent },
    /// An admin call registering a counterparty's eBL platform key.
    EblPlatform { chain: ChainId, key: RelayerKey },
    /// A DCSA PINT 3.0 call that changed the eBL app (`ledger/pint.rs`).
    Pint { call: crate::apps::pint::PintCall },
    /// Under CometBFT: an admin call signed by the operator key (`ledger/abci.rs`).
    Admin { tx: adapters::abci::AdminTx },
}

/// A block's inputs as stored: the context it executed in and its inputs, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct BlockInputs {
    pub(super) version: u8,
    pub(super) height: u64,
    pub(super) time: Timestamp,
    pub(super) inputs: Vec<Input>,
}

impl<F: Signing + IntoAny> Ledger<F> {
    /// Applies one input to the block being built.
    pub(super) fn execute(&mut self, input: &Input) -> Result<(), LedgerError> {
        match input {
            Input::Tx { tx } => self.execute_tx(tx).map(|_| ()),
            Input::Event { event } => self.execute_event(event).map(|_| ()),
            Input::EblPlatform { chain, key } => {
                self.apps.register_platform(chain.clone(), *key);
                self.pending_events = true;
                Ok(())
            }
            Input::Pint { call } => {
                self.apps.pint(call);
                self.pending_events = true;
                Ok(())
            }
            Input::Admin { tx } => {
                self.apply_admin(tx);
                Ok(())
            }
        }
    }

    /// Registers a counterparty ledger's eBL platform key (an admin call).
    pub fn register_platform(&mut self, chain: ChainId, key: RelayerKey) {
        let input = Input::EblPlatform { chain, key };
        // Registering cannot fail; the input is recorded as every other is.
        let _ = self.execute(&input);
        self.block_inputs.push(input);
    }

    /// Authenticates a transaction and executes it in the block being built.
    pub fn submit_tx(&mut self, tx: &SignedTx) -> Result<TxResponse, LedgerError> {
        let id = tx.id().to_string();
        if let Some((height, results)) = self.recent_txs.get(&id) {
            return Ok(TxResponse {
                version: WIRE_VERSION,
                id,
                height: Some(*height),
                results: results.clone(),
            });
        }
        let response = self.execute_tx(tx)?;
        self.block_inputs.push(Input::Tx { tx: tx.clone() });
        Ok(response)
    }

    /// Authenticates and executes a transaction; nothing changes when it is refused.
    pub(super) fn execute_tx(&mut self, tx: &SignedTx) -> Result<TxResponse, LedgerError> {
        let id = tx.id().to_string();
        let body = self.host.authenticate(tx)?;
        let ctx = self.building;
        let results: Vec<MsgResult> = match &body {
            TxBody::Operator(msg) => vec![self.host.apply_operator(msg, &ctx).into()],
            // One batch verification for the transaction's disclosure proofs.
            TxBody::Relay(msgs) => self
                .host
                .apply_relay_tx(msgs, &mut self.apps, &ctx)
                .into_iter()
                .map(MsgResult::from)
                .collect(),
        };
        // A packet leaves `sent_at` when its ack clears it from the host.
        for r in &results {
            if let MsgResult::Ok {
                outcome: host::Outcome::Acknowledged { packet, .. },
            } = r
            {
                self.sent_at.remove(packet);
            }
        }
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
    ///
    /// The edge check is `adapters::events::check` with this ledger's event
    /// options, the function `portrelay events validate` calls: the same verdicts.
    pub fn submit_event(&mut self, req: &SubmitEvent) -> Result<SubmittedEvent, LedgerError> {
        wire::check_version("event submission", req.version)?;
        let checked =
            events::check(&req.event, &self.event_options).map_err(LedgerError::Invalid)?;
        let mut submitted = self.execute_event(req)?;
        submitted.warnings = checked.warnings.iter().map(Into::into).collect();
        self.block_inputs.push(Input::Event { event: req.clone() });
        Ok(submitted)
    }

    /// How events submitted from now on are checked.
    pub fn set_event_options(&mut self, options: events::Options) {
        self.event_options = options;
    }

    /// Validates and records a port event; nothing changes when it is refused.
    pub(super) fn execute_event(
        &mut self,
        req: &SubmitEvent,
    ) -> Result<SubmittedEvent, LedgerError> {
        wire::check_version("event submission", req.version)?;
        // Accepted at the edge already (or replayed): read as a destination reads
        // it, so a change of the ledger's event options never changes a replay.
        let event = events::validate_relayed(&req.event).map_err(LedgerError::Invalid)?;
        if let crate::apps::Verdict::Duplicate(entry) =
            self.apps.check_local(&event, &req.destination)?
        {
            // PINT's DUPE: accepted before, nothing changes, here is the entry.
            return Ok(SubmittedEvent {
                version: WIRE_VERSION,
                packet: entry.packet.clone(),
                ebl: Some(crate::apps::receipt("DUPE", &entry)),
                warnings: Vec::new(),
            });
        }
        if req.destination == self.config.chain_id {
            self.apps.apply_local(&event, None);
            self.pending_events = true;
            return Ok(SubmittedEvent {
                version: WIRE_VERSION,
                packet: None,
                ebl: self.apps.accepted(&event),
                warnings: Vec::new(),
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
        let payload = if let adapters::events::PortEvent::EblTransfer(t) = &event {
            let carrier = self
                .apps
                .ebl
                .bills
                .get(&t.transport_document_reference)
                .and_then(|b| b.carrier.as_ref());
            serde_json::to_vec(&crate::apps::SignedEnvelope::seal(
                event.json(),
                carrier,
                &self.platform_key,
            ))
        } else {
            serde_json::to_vec(event.json())
        }
        .map_err(LedgerError::Encode)?;
        // The record: its id from the sequence the host is about to give it.
        let next = self
            .host
            .channel(&channel)
            .map(|c| c.next_send)
            .ok_or_else(|| HostError::UnknownChannel {
                channel: channel.clone(),
            })?;
        let id = PacketId {
            channel: channel.clone(),
            sequence: next,
        };
        let fields = adapters::records::fields(&event);
        let record = self.record(&id, fields.clone())?;
        let leaf = record.leaf().map_err(LedgerError::Record)?;
        let payload = if self.host.is_confidential(&channel) {
            zk::commitment_payload(&leaf)
        } else {
            payload
        };
        let packet = self
            .host
            .send_packet_with_record(&channel, payload, timeout, &leaf)?;
        self.block_records.push(ZkRecord {
            packet: packet.id.clone(),
            fields: field_bytes(&fields),
        });
        self.sent_at.insert(packet.id.clone(), self.building.height);
        self.apps.apply_local(&event, Some(packet.id.clone()));
        self.pending_events = true;
        Ok(SubmittedEvent {
            version: WIRE_VERSION,
            packet: Some(packet.id),
            ebl: self.apps.accepted(&event),
            warnings: Vec::new(),
        })
    }
}
