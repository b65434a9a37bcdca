//! What the coordinator moves: a relay job (a packet to deliver, or an ack
//! to bring back, with its proof), its deterministic id, and its lane.

use light_clients::host::{BlockEvent, EventProof};
use light_clients::{Ack, ChainId, ChannelId, Packet};
use serde::{Deserialize, Serialize};

/// What a job carries to its destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Work {
    /// A packet to deliver to the channel's destination.
    Packet { packet: Packet, proof: EventProof },
    /// An ack to bring back to the channel's source.
    Ack { ack: Ack, proof: EventProof },
}

impl Work {
    /// The job a proven block event makes: a packet to deliver, or an ack to bring back.
    pub fn from_event(event: BlockEvent, proof: EventProof) -> Self {
        match event {
            BlockEvent::Packet { packet } => Work::Packet { packet, proof },
            BlockEvent::Ack { ack } => Work::Ack { ack, proof },
        }
    }
}

/// A relay job, identified by `(source, destination, app, sequence, kind)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub work: Work,
    /// Attempts so far that failed through the job's own fault (see
    /// [`super::Requeue`]); a job is parked when they reach the maximum.
    pub attempts: u32,
}

/// A job's deterministic id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JobId {
    pub channel: ChannelId,
    pub sequence: u64,
    pub kind: JobKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Packet,
    Ack,
}

impl Job {
    /// The height of the source header the job's proof is checked against.
    pub fn proof_height(&self) -> u64 {
        match &self.work {
            Work::Packet { proof, .. } | Work::Ack { proof, .. } => proof.height,
        }
    }

    pub fn id(&self) -> JobId {
        match &self.work {
            Work::Packet { packet, .. } => JobId {
                channel: packet.id.channel.clone(),
                sequence: packet.id.sequence,
                kind: JobKind::Packet,
            },
            Work::Ack { ack, .. } => JobId {
                channel: ack.packet.channel.clone(),
                sequence: ack.packet.sequence,
                kind: JobKind::Ack,
            },
        }
    }

    /// The chain whose header proves the job.
    pub fn proof_source(&self) -> &ChainId {
        match &self.work {
            Work::Packet { packet, .. } => &packet.id.channel.source,
            Work::Ack { ack, .. } => &ack.packet.channel.destination,
        }
    }

    /// The chain the job is submitted to.
    pub fn target(&self) -> &ChainId {
        match &self.work {
            Work::Packet { packet, .. } => &packet.id.channel.destination,
            Work::Ack { ack, .. } => &ack.packet.channel.source,
        }
    }

    /// The lane: the channel, and which way (packets go to the destination, acks back).
    pub fn lane(&self) -> Lane {
        let id = self.id();
        Lane {
            channel: id.channel,
            kind: id.kind,
        }
    }
}

/// A lane: one channel's packets, or its acks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Lane {
    pub channel: ChannelId,
    pub kind: JobKind,
}

impl Lane {
    /// The chain the lane's jobs are submitted to: the channel's destination
    /// for packets, its source for acks.
    pub fn target(&self) -> &ChainId {
        match self.kind {
            JobKind::Packet => &self.channel.destination,
            JobKind::Ack => &self.channel.source,
        }
    }
}
