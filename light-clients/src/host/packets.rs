//! Packets: sending them (the ledger's apps call this), receiving them with
//! a proof, and clearing or reverting what was sent when the ack comes back;
//! the [`Apps`] trait the host calls.

use serde::{Deserialize, Serialize};

use crate::codec::Canonical;
use crate::hash::Hash32;
use crate::packet::{Ack, AckResult, ChannelId, EventLeaf, Packet, PacketId, Timeout};
use crate::zk::{self, PathPolicy};

use super::channels::End;
use super::{BlockContext, BlockEvent, EventProof, Host, HostError, MisbehaviourRecord, Outcome};

/// The ledger's applications, as the host sees them.
pub trait Apps {
    /// Applies a received packet: `Ok` writes an `ok` ack, `Err(refusal)` an
    /// `error` ack with its reason. The app must change nothing when it
    /// returns `Err`.
    fn on_recv(&mut self, packet: &Packet, ctx: &BlockContext) -> Result<(), AppRefusal>;
    /// The destination acknowledged a packet this ledger sent; on `timeout`
    /// (or `error`) the app reverts what it did when sending.
    fn on_ack(&mut self, packet: &Packet, result: &AckResult, ctx: &BlockContext);
    /// Applies a packet of a `groth16` path: `rules` are what was proven of
    /// its record (one per field, in the record's layout; the packet's
    /// payload is only the record's commitment). Apps that take no
    /// disclosures answer with an `error` ack.
    fn on_recv_disclosed(
        &mut self,
        packet: &Packet,
        rules: &[circuits::Rule],
        ctx: &BlockContext,
    ) -> Result<(), AppRefusal> {
        let _ = (rules, ctx);
        Err(AppRefusal(format!(
            "this ledger's apps take no disclosures ({})",
            packet.id.channel.app
        )))
    }
}

/// Why an app refused a packet: the reason its `error` ack carries to the
/// source (bounded in length by the host), in the app's own words: an ack
/// is the one place an app's refusal crosses to another ledger, as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AppRefusal(pub String);

/// What this ledger remembers of a packet it sent, until the ack comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sent {
    pub packet: Packet,
    pub commitment: Hash32,
}

/// What this ledger remembers of a packet it received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub commitment: Hash32,
    pub result: AckResult,
    pub height: u64,
}

impl Host {
    pub fn receipt(&self, id: &PacketId) -> Option<&Receipt> {
        self.receipts.get(id)
    }

    pub fn sent(&self, id: &PacketId) -> Option<&Sent> {
        self.sent.get(id)
    }

    pub(super) fn recv_packet(
        &mut self,
        packet: &Packet,
        proof: &EventProof,
        apps: &mut dyn Apps,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        packet.validate().map_err(|reason| HostError::Invalid {
            what: "packet",
            reason,
        })?;
        let channel_id = &packet.id.channel;
        self.channel_end(channel_id, End::Destination, true)?;
        let policy = self.path_policy(&channel_id.source, channel_id.app);
        if policy != PathPolicy::Merkle {
            return Err(HostError::PathPolicy {
                from: channel_id.source.clone(),
                app: channel_id.app,
                policy: policy.mode(),
                got: "merkle",
            });
        }
        let leaf = EventLeaf::from(packet);
        self.verify(&channel_id.source, &leaf, proof, ctx)?;
        self.deliver(
            packet,
            leaf,
            ctx,
            |apps, packet, ctx| apps.on_recv(packet, ctx),
            apps,
        )
    }

    /// Receipt, order and app call, once the packet's proofs are checked.
    pub(super) fn deliver(
        &mut self,
        packet: &Packet,
        leaf: EventLeaf,
        ctx: &BlockContext,
        apply: impl FnOnce(&mut dyn Apps, &Packet, &BlockContext) -> Result<(), AppRefusal>,
        apps: &mut dyn Apps,
    ) -> Result<Outcome, HostError> {
        let id = &packet.id;
        let channel_id = &id.channel;
        let next_recv = self
            .channel_end(channel_id, End::Destination, true)?
            .next_recv;
        if let Some(receipt) = self.receipts.get(id) {
            if receipt.commitment == leaf.commitment {
                return Ok(Outcome::AlreadyReceived { packet: id.clone() });
            }
            let (received, offered) = (receipt.commitment, leaf.commitment);
            self.misbehaviour
                .push(MisbehaviourRecord::ConflictingPacket {
                    height: ctx.height,
                    packet: id.clone(),
                    received,
                    offered,
                });
            return Err(HostError::ConflictingPacket {
                packet: id.clone(),
                received,
                offered,
            });
        }
        if id.sequence != next_recv {
            return Err(HostError::OutOfOrder {
                channel: channel_id.clone(),
                expected: next_recv,
                got: id.sequence,
            });
        }
        let result = if timed_out(&packet.timeout, ctx) {
            AckResult::Timeout
        } else {
            match apply(apps, packet, ctx) {
                Ok(()) => AckResult::Ok,
                Err(AppRefusal(reason)) => AckResult::Error(bounded_reason(reason)),
            }
        };
        let ack = Ack {
            packet: id.clone(),
            packet_commitment: leaf.commitment,
            result: result.clone(),
        };
        self.receipts.insert(
            id.clone(),
            Receipt {
                commitment: leaf.commitment,
                result: result.clone(),
                height: ctx.height,
            },
        );
        if let Some(c) = self.channels.get_mut(channel_id) {
            c.next_recv = c.next_recv.saturating_add(1);
        }
        self.pending.push(BlockEvent::Ack { ack });
        Ok(Outcome::Received {
            packet: id.clone(),
            ack: result,
        })
    }

    pub(super) fn acknowledge(
        &mut self,
        ack: &Ack,
        proof: &EventProof,
        apps: &mut dyn Apps,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        ack.validate().map_err(|reason| HostError::Invalid {
            what: "ack",
            reason,
        })?;
        let id = &ack.packet;
        // Acks still come back after a channel closed: what was sent is settled.
        let channel = self.channel_end(&id.channel, End::Source, false)?;
        self.verify(&id.channel.destination, &EventLeaf::from(ack), proof, ctx)?;
        let Some(sent) = self.sent.get(id) else {
            if id.sequence < channel.next_send {
                return Ok(Outcome::AlreadyAcknowledged { packet: id.clone() });
            }
            return Err(HostError::UnknownPacket { packet: id.clone() });
        };
        if sent.commitment != ack.packet_commitment {
            return Err(HostError::AckMismatch {
                packet: id.clone(),
                sent: sent.commitment,
                acked: ack.packet_commitment,
            });
        }
        let packet = sent.packet.clone();
        apps.on_ack(&packet, &ack.result, ctx);
        self.sent.remove(id);
        let sent = &self.sent;
        if let Some(c) = self.channels.get_mut(&id.channel) {
            // `next_ack` is the lowest sequence still awaiting its ack.
            while c.next_ack < c.next_send
                && !sent.contains_key(&PacketId {
                    channel: c.id.clone(),
                    sequence: c.next_ack,
                })
            {
                c.next_ack += 1;
            }
        }
        Ok(Outcome::Acknowledged {
            packet: id.clone(),
            result: ack.result.clone(),
        })
    }

    /// Sends a packet on an open channel from this ledger (called by its
    /// apps). The packet has no record in `zk_root`, so it cannot go on a
    /// confidential channel.
    pub fn send_packet(
        &mut self,
        channel: &ChannelId,
        payload: Vec<u8>,
        timeout: Timeout,
    ) -> Result<Packet, HostError> {
        if self.is_confidential(channel) {
            return Err(HostError::Invalid {
                what: "packet",
                reason: format!("{channel} is confidential: a packet on it needs a record"),
            });
        }
        self.send(channel, payload, timeout)
    }

    /// Sends a packet whose record has leaf `leaf` (the ledger salts and
    /// hashes the record: the secret salt never reaches the host): the leaf
    /// goes into this block's `zk_root` tree, after the records sent before
    /// it. On a confidential channel the payload must be the leaf itself
    /// ([`zk::commitment_payload`]), so the event never leaves the ledger.
    pub fn send_packet_with_record(
        &mut self,
        channel: &ChannelId,
        payload: Vec<u8>,
        timeout: Timeout,
        leaf: &circuits::Fr,
    ) -> Result<Packet, HostError> {
        if self.is_confidential(channel) && payload != zk::commitment_payload(leaf) {
            return Err(HostError::Invalid {
                what: "packet",
                reason: format!(
                    "{channel} is confidential: the payload must be the record's commitment"
                ),
            });
        }
        let capacity = 1u64 << self.zk_depth.min(63);
        if self.zk_leaves.len() as u64 >= capacity {
            return Err(HostError::Invalid {
                what: "packet",
                reason: format!(
                    "this block's zk tree is full ({capacity} records at depth {})",
                    self.zk_depth
                ),
            });
        }
        let packet = self.send(channel, payload, timeout)?;
        self.zk_leaves.push(zk::fr_hash(leaf));
        Ok(packet)
    }

    fn send(
        &mut self,
        channel: &ChannelId,
        payload: Vec<u8>,
        timeout: Timeout,
    ) -> Result<Packet, HostError> {
        self.channel_end(channel, End::Source, true)?;
        let Some(c) = self.channels.get_mut(channel) else {
            return Err(HostError::UnknownChannel {
                channel: channel.clone(),
            });
        };
        let packet = Packet {
            id: PacketId {
                channel: channel.clone(),
                sequence: c.next_send,
            },
            timeout,
            payload,
        };
        packet.validate().map_err(|reason| HostError::Invalid {
            what: "packet",
            reason,
        })?;
        c.next_send = c.next_send.saturating_add(1);
        let commitment = packet.commitment();
        self.sent.insert(
            packet.id.clone(),
            Sent {
                packet: packet.clone(),
                commitment,
            },
        );
        self.pending.push(BlockEvent::Packet {
            packet: packet.clone(),
        });
        Ok(packet)
    }
}

fn timed_out(timeout: &Timeout, ctx: &BlockContext) -> bool {
    timeout.has_passed(ctx.time, ctx.height)
}

fn bounded_reason(reason: String) -> String {
    let mut reason = if reason.is_empty() {
        "refused".to_string()
    } else {
        reason
    };
    if reason.len() > crate::packet::MAX_ACK_REASON_BYTES {
        let mut cut = crate::packet::MAX_ACK_REASON_BYTES;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
    }
    reason
}
