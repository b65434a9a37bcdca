//! Counterparty clients: creation and recovery (the operator's word),
//! updates, misbehaviour evidence, and checking a proof against a header a
//! client verified.

use serde::{Deserialize, Serialize};

use crate::any::{AnyClient, AnyHeader, AnyMisbehaviour, AnyTrustRoot};
use crate::client::{Recovery, Status, UpdateOutcome};
use crate::hash::Hash32;
use crate::packet::{ChainId, EventLeaf, PacketId};
use crate::time::Timestamp;
use crate::verify::TrustOptions;

use super::{BlockContext, EventProof, Host, HostError, Outcome};

/// Something the host saw a counterparty do wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum MisbehaviourRecord {
    /// A proven packet different from the one received under its sequence.
    ConflictingPacket {
        height: u64,
        packet: PacketId,
        received: Hash32,
        offered: Hash32,
    },
    /// A counterparty client froze on evidence.
    ClientFrozen {
        height: u64,
        chain: ChainId,
        evidence: crate::client::Evidence,
    },
}

/// An authorised recovery, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRecord {
    pub chain: ChainId,
    pub height: u64,
    pub recovery: Recovery,
}

impl Host {
    pub fn client(&self, chain: &ChainId) -> Option<&AnyClient> {
        self.clients.get(chain)
    }

    pub fn clients(&self) -> impl Iterator<Item = (&ChainId, &AnyClient)> {
        self.clients.iter()
    }

    pub fn misbehaviour(&self) -> &[MisbehaviourRecord] {
        &self.misbehaviour
    }

    pub fn recoveries(&self) -> &[RecoveryRecord] {
        &self.recoveries
    }

    /// Whether a counterparty client can be used now.
    pub fn client_status(&self, chain: &ChainId, now: Timestamp) -> Option<Status> {
        self.clients.get(chain).map(|c| c.status(now))
    }

    pub(super) fn create_client(
        &mut self,
        root: &AnyTrustRoot,
        options: &TrustOptions,
    ) -> Result<Outcome, HostError> {
        let client = AnyClient::create(root, *options).map_err(|e| HostError::Client {
            chain: ChainId::new(root_chain(root)).unwrap_or_else(|_| self.chain_id.clone()),
            source: e.into(),
        })?;
        let chain = ChainId::new(client.chain_id()).map_err(|reason| HostError::Invalid {
            what: "trust root",
            reason,
        })?;
        if chain == self.chain_id {
            return Err(HostError::Invalid {
                what: "trust root",
                reason: "a ledger keeps no client of itself".into(),
            });
        }
        if self.clients.contains_key(&chain) {
            return Err(HostError::ClientExists { chain });
        }
        let height = client.latest_height();
        self.clients.insert(chain.clone(), client);
        Ok(Outcome::ClientCreated { chain, height })
    }

    pub(super) fn recover_client(
        &mut self,
        chain: &ChainId,
        root: &AnyTrustRoot,
        reason: &str,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        let client = self
            .clients
            .get_mut(chain)
            .ok_or_else(|| HostError::UnknownClient {
                chain: chain.clone(),
            })?;
        let recovery = Recovery {
            authorised_by: self.operator.to_string(),
            at: ctx.time,
            reason: reason.to_owned(),
        };
        client
            .recover(root, recovery.clone())
            .map_err(|source| HostError::Client {
                chain: chain.clone(),
                source,
            })?;
        let height = client.latest_height();
        self.recoveries.push(RecoveryRecord {
            chain: chain.clone(),
            height: ctx.height,
            recovery,
        });
        Ok(Outcome::ClientRecovered {
            chain: chain.clone(),
            height,
        })
    }

    pub(super) fn update_client(
        &mut self,
        chain: &ChainId,
        header: &AnyHeader,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        let client = self
            .clients
            .get_mut(chain)
            .ok_or_else(|| HostError::UnknownClient {
                chain: chain.clone(),
            })?;
        let outcome = client
            .update(header, ctx.time)
            .map_err(|source| HostError::Client {
                chain: chain.clone(),
                source,
            })?;
        Ok(match outcome {
            UpdateOutcome::Updated { height } => Outcome::ClientUpdated {
                chain: chain.clone(),
                height,
            },
            UpdateOutcome::AlreadyKnown { height } => Outcome::ClientAlreadyKnown {
                chain: chain.clone(),
                height,
            },
            UpdateOutcome::Frozen(evidence) => {
                self.misbehaviour.push(MisbehaviourRecord::ClientFrozen {
                    height: ctx.height,
                    chain: chain.clone(),
                    evidence: evidence.clone(),
                });
                Outcome::ClientFrozen {
                    chain: chain.clone(),
                    evidence,
                }
            }
        })
    }

    pub(super) fn submit_misbehaviour(
        &mut self,
        chain: &ChainId,
        evidence: &AnyMisbehaviour,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        let client = self
            .clients
            .get_mut(chain)
            .ok_or_else(|| HostError::UnknownClient {
                chain: chain.clone(),
            })?;
        let evidence =
            client
                .submit_misbehaviour(evidence)
                .map_err(|source| HostError::Client {
                    chain: chain.clone(),
                    source,
                })?;
        self.misbehaviour.push(MisbehaviourRecord::ClientFrozen {
            height: ctx.height,
            chain: chain.clone(),
            evidence: evidence.clone(),
        });
        Ok(Outcome::ClientFrozen {
            chain: chain.clone(),
            evidence,
        })
    }

    pub(super) fn client_of(&self, chain: &ChainId) -> Result<&AnyClient, HostError> {
        self.clients
            .get(chain)
            .ok_or_else(|| HostError::UnknownClient {
                chain: chain.clone(),
            })
    }

    pub(super) fn verify(
        &self,
        chain: &ChainId,
        leaf: &EventLeaf,
        proof: &EventProof,
        ctx: &BlockContext,
    ) -> Result<(), HostError> {
        self.client_of(chain)?
            .verify_event(
                proof.height,
                ctx.time,
                proof.opening.as_ref(),
                leaf,
                &proof.proof,
            )
            .map_err(|e| HostError::Client {
                chain: chain.clone(),
                source: e.into(),
            })
    }
}

fn root_chain(root: &AnyTrustRoot) -> String {
    root.summary().map(|s| s.chain_id).unwrap_or_default()
}
