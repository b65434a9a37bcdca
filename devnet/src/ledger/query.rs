//! Read-only queries the RPC serves: status, headers, block events and
//! state with their proofs, channels, clients, packet and receipt
//! locations, accounts, app records.

use adapters::wire::{
    self, BlockEvents, ChannelsResponse, ClientInfo, ClientsResponse, HeaderResponse, NodeStatus,
    ProvenEvent, WIRE_VERSION,
};
use light_clients::any::IntoAny;
use light_clients::codec::Canonical;
use light_clients::host::{self, EventProof, RelayerKey};
use light_clients::sample::Signing;
use light_clients::Roots;

use super::{Ledger, LedgerError, StoredBlock};

impl<F: Signing + IntoAny> Ledger<F> {
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
            // The limit comes from the RPC in front of the ledger (`rpc::status`).
            max_tx_bytes: None,
        }
    }

    pub(super) fn stored(&self, height: u64) -> Result<StoredBlock, LedgerError> {
        self.store.block(height)?.ok_or(LedgerError::NoBlock {
            height,
            latest: self.tip.height,
        })
    }

    pub fn header(&self, height: u64) -> Result<HeaderResponse, LedgerError> {
        Ok(HeaderResponse {
            version: WIRE_VERSION,
            height,
            header: self.stored(height)?.header,
        })
    }

    /// The header that commits block `height`'s roots, and the opening a gba
    /// proof needs; refused while that header is not sealed.
    pub(super) fn proof_point(
        &self,
        height: u64,
        roots: Roots,
    ) -> Result<(u64, Option<Roots>), LedgerError> {
        let proof_height = F::proof_height(height);
        if proof_height > self.tip.height {
            return Err(LedgerError::NotYetProvable {
                height,
                proof_height,
            });
        }
        Ok((proof_height, F::ROOTS_OPENING.then_some(roots)))
    }

    /// Every channel's sequences after block `height`, proven under its `state_root`.
    pub fn state(&self, height: u64) -> Result<wire::BlockState, LedgerError> {
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
    pub fn events(&self, height: u64) -> Result<BlockEvents, LedgerError> {
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
    ) -> Result<wire::PacketLocation, LedgerError> {
        match self.sent_at.get(id) {
            Some(&height) if height <= self.tip.height => Ok(wire::PacketLocation {
                version: WIRE_VERSION,
                packet: id.clone(),
                height,
            }),
            Some(_) => Err(LedgerError::SentInOpenBlock { packet: id.clone() }),
            None => Err(LedgerError::NoSentPacket { packet: id.clone() }),
        }
    }

    /// The block in which a packet was received and its ack written.
    pub fn receipt_location(
        &self,
        id: &light_clients::PacketId,
    ) -> Result<wire::ReceiptLocation, LedgerError> {
        match self.host.receipt(id) {
            Some(r) if r.height <= self.tip.height => Ok(wire::ReceiptLocation {
                version: WIRE_VERSION,
                packet: id.clone(),
                height: r.height,
                result: r.result.clone(),
            }),
            Some(_) => Err(LedgerError::ReceivedInOpenBlock { packet: id.clone() }),
            None => Err(LedgerError::NoReceipt { packet: id.clone() }),
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

    /// An app's record as JSON: `app` is cargo, payment, ebl or customs; `kind` and
    /// `key` pick the record (`GET /v1/apps/{app}/{kind}/{key}`).
    pub fn app_record(
        &self,
        app: &str,
        kind: &str,
        key: &str,
    ) -> Result<serde_json::Value, LedgerError> {
        let apps = &self.apps;
        let found = match (app, kind) {
            ("cargo", "containers") => apps.cargo.containers.get(key).map(serde_json::to_value),
            ("cargo", "documents") => apps.cargo.documents.get(key).map(serde_json::to_value),
            ("payment", "letters-of-credit") => apps
                .payment
                .letters_of_credit
                .get(key)
                .map(serde_json::to_value),
            ("payment", "invoices") => apps.payment.invoices.get(key).map(serde_json::to_value),
            ("payment", "settlements") => {
                apps.payment.settlements.get(key).map(serde_json::to_value)
            }
            ("ebl", "bills") => apps.ebl.bills.get(key).map(serde_json::to_value),
            ("ebl", "answers") => Some(serde_json::to_value(&apps.ebl.answers)),
            ("customs", kind) => match apps.customs.record(kind, key) {
                Some(found) => found,
                None => {
                    return Err(LedgerError::NoRecordKind {
                        app: app.to_string(),
                        kind: kind.to_string(),
                    })
                }
            },
            ("cargo" | "payment" | "ebl", "facts") => apps
                .facts
                .get(key)
                .map(|facts| {
                    facts
                        .iter()
                        .filter(|f| f.packet.channel.app.as_str() == app)
                        .collect::<Vec<_>>()
                })
                .filter(|facts| !facts.is_empty())
                .map(serde_json::to_value),
            _ => {
                return Err(LedgerError::NoRecordKind {
                    app: app.to_string(),
                    kind: kind.to_string(),
                })
            }
        };
        found
            .ok_or_else(|| LedgerError::NoAppRecord {
                app: app.to_string(),
                kind: kind.to_string(),
                key: key.to_string(),
            })?
            .map_err(LedgerError::Encode)
    }
}
