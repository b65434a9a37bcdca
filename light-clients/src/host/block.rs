//! Closing a block: the events it emitted, the channel and client states
//! after it, and the roots its header commits.

use serde::{Deserialize, Serialize};

use crate::codec::Canonical;
use crate::packet::{Ack, ChannelState, ClientSummary, EventLeaf, Packet, Roots, StateLeaf};

use super::tree::{commit, zk_root};
use super::{Channel, Host};

/// A packet or ack this ledger emitted in a block: a leaf of its events tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum BlockEvent {
    Packet { packet: Packet },
    Ack { ack: Ack },
}

impl BlockEvent {
    pub fn leaf(&self) -> EventLeaf {
        match self {
            BlockEvent::Packet { packet } => EventLeaf::from(packet),
            BlockEvent::Ack { ack } => EventLeaf::from(ack),
        }
    }
}

/// What a finished block commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockOutput {
    pub events: Vec<BlockEvent>,
    pub channel_states: Vec<ChannelState>,
    pub client_states: Vec<ClientSummary>,
    pub roots: Roots,
}

impl BlockOutput {
    /// The state tree's leaves: channels, then clients.
    pub fn state_leaves(
        channel_states: &[ChannelState],
        client_states: &[ClientSummary],
    ) -> Vec<StateLeaf> {
        channel_states
            .iter()
            .cloned()
            .map(StateLeaf::Channel)
            .chain(client_states.iter().cloned().map(StateLeaf::Client))
            .collect()
    }
}

impl Host {
    /// Closes the block: the events it emitted, the channel states after it,
    /// and the roots a header commits.
    pub fn end_block(&mut self) -> BlockOutput {
        let events = std::mem::take(&mut self.pending);
        let channel_states: Vec<ChannelState> =
            self.channels.values().map(Channel::state).collect();
        let client_states: Vec<ClientSummary> = self
            .clients
            .iter()
            .map(|(chain, c)| ClientSummary {
                chain: chain.clone(),
                latest_height: c.latest_height(),
                latest_hash: c.latest_hash(),
                frozen: c.frozen().is_some(),
            })
            .collect();
        let alg = self.family.tree_hash();
        let event_leaves: Vec<Vec<u8>> = events.iter().map(|e| e.leaf().encode()).collect();
        let state_leaves: Vec<Vec<u8>> = BlockOutput::state_leaves(&channel_states, &client_states)
            .iter()
            .map(Canonical::encode)
            .collect();
        let zk_leaves = std::mem::take(&mut self.zk_leaves);
        let roots = Roots {
            events: commit(alg, &event_leaves),
            state: commit(alg, &state_leaves),
            zk_root: zk_root(self.zk_depth, &zk_leaves),
        };
        BlockOutput {
            events,
            channel_states,
            client_states,
            roots,
        }
    }
}
