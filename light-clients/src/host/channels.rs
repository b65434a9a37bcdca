//! Channel ends on this ledger: opening and closing them (the operator's
//! word), and the checks every packet and ack makes on its channel.

use serde::{Deserialize, Serialize};

use crate::packet::{ChannelId, ChannelState};

use super::{Host, HostError, Outcome};

/// A channel's end on this ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub id: ChannelId,
    pub version: String,
    pub open: bool,
    pub next_send: u64,
    pub next_recv: u64,
    pub next_ack: u64,
}

impl Channel {
    pub fn state(&self) -> ChannelState {
        ChannelState {
            channel: self.id.clone(),
            next_send: self.next_send,
            next_recv: self.next_recv,
            next_ack: self.next_ack,
        }
    }
}

/// Which end of a channel a ledger is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Source,
    Destination,
}

impl Host {
    pub fn channel(&self, id: &ChannelId) -> Option<&Channel> {
        self.channels.get(id)
    }

    pub fn channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels.values()
    }

    pub(super) fn open_channel(
        &mut self,
        channel: &ChannelId,
        version: &str,
    ) -> Result<Outcome, HostError> {
        if channel.source != self.chain_id && channel.destination != self.chain_id {
            return Err(HostError::ForeignChannel {
                channel: channel.clone(),
                chain: self.chain_id.clone(),
            });
        }
        if channel.source == channel.destination {
            return Err(HostError::Invalid {
                what: "channel",
                reason: "source and destination are the same chain".into(),
            });
        }
        if version.is_empty() || version.len() > 64 {
            return Err(HostError::Invalid {
                what: "channel",
                reason: "version must be 1 to 64 bytes".into(),
            });
        }
        if self.channels.contains_key(channel) {
            return Err(HostError::ChannelExists {
                channel: channel.clone(),
            });
        }
        let counterparty = if channel.source == self.chain_id {
            &channel.destination
        } else {
            &channel.source
        };
        if !self.clients.contains_key(counterparty) {
            return Err(HostError::UnknownClient {
                chain: counterparty.clone(),
            });
        }
        self.channels.insert(
            channel.clone(),
            Channel {
                id: channel.clone(),
                version: version.to_owned(),
                open: true,
                next_send: 1,
                next_recv: 1,
                next_ack: 1,
            },
        );
        Ok(Outcome::ChannelOpened {
            channel: channel.clone(),
        })
    }

    pub(super) fn close_channel(&mut self, channel: &ChannelId) -> Result<Outcome, HostError> {
        let c = self
            .channels
            .get_mut(channel)
            .ok_or_else(|| HostError::UnknownChannel {
                channel: channel.clone(),
            })?;
        if !c.open {
            return Err(HostError::ChannelClosed {
                channel: channel.clone(),
            });
        }
        c.open = false;
        Ok(Outcome::ChannelClosed {
            channel: channel.clone(),
        })
    }

    /// This ledger's end of `id`: it must exist with this chain at `end`,
    /// and be open when `must_be_open`.
    pub(super) fn channel_end(
        &self,
        id: &ChannelId,
        end: End,
        must_be_open: bool,
    ) -> Result<&Channel, HostError> {
        let here = match end {
            End::Source => &id.source,
            End::Destination => &id.destination,
        };
        if *here != self.chain_id {
            return Err(HostError::ForeignChannel {
                channel: id.clone(),
                chain: self.chain_id.clone(),
            });
        }
        let channel = self
            .channels
            .get(id)
            .ok_or_else(|| HostError::UnknownChannel {
                channel: id.clone(),
            })?;
        if must_be_open && !channel.open {
            return Err(HostError::ChannelClosed {
                channel: id.clone(),
            });
        }
        Ok(channel)
    }
}
