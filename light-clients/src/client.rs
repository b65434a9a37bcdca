//! The client state machine a destination keeps for each counterparty
//! ledger: created from an operator-approved trust root, updated with
//! verified headers, frozen by misbehaviour, recovered only by an authorised
//! new trust root, and used to check Merkle membership against the roots of
//! the headers it verified.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codec::Canonical;
use crate::hash::Hash32;
use crate::merkle::{self, MerkleProof, ProofError};
use crate::packet::{ChannelState, ClientSummary, EventLeaf, Roots, StateLeaf};
use crate::time::Timestamp;
use crate::verify::{
    self, Family, HeaderSummary, RootCommitment, TrustOptions, TrustedState, UntrustedBlock,
    VerifyError,
};

/// A trust root as an operator approves it: a header with its sets (the
/// `trusted.json` shape of `portrelay light-client verify`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
#[serde(deny_unknown_fields)]
pub struct TrustRoot<F: Family> {
    pub signed_header: F::SignedHeader,
    pub next_validators: F::ValidatorSet,
    /// When given, the header's own set: the root is then checked to carry a quorum of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validators: Option<F::ValidatorSet>,
}

impl<F: Family> TrustRoot<F> {
    /// Checks the root is consistent with itself and returns its trusted state.
    pub fn check(&self) -> Result<(HeaderSummary, TrustedState<F>), VerifyError> {
        let inconsistent = |e: VerifyError| VerifyError::TrustedStateInconsistent {
            reason: e.to_string(),
        };
        // Unreadable or unknown-version headers are reported as such, not as inconsistency.
        let header = F::summary(&self.signed_header)?;
        match &self.validators {
            Some(validators) => {
                verify::verify_self_consistent::<F>(&UntrustedBlock {
                    signed_header: self.signed_header.clone(),
                    validators: validators.clone(),
                    next_validators: self.next_validators.clone(),
                })
                .map_err(inconsistent)?;
            }
            None => {
                let next = F::validators_hash(&self.next_validators).map_err(inconsistent)?;
                if next != header.next_validators_hash {
                    return Err(inconsistent(VerifyError::NextValidatorsHashMismatch {
                        header: header.next_validators_hash,
                        computed: next,
                    }));
                }
            }
        }
        let trusted = TrustedState {
            chain_id: header.chain_id.clone(),
            height: header.height,
            time: header.time,
            next_validators: self.next_validators.clone(),
        };
        Ok((header, trusted))
    }
}

/// What the client keeps of each verified header.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
#[serde(deny_unknown_fields)]
pub struct ConsensusState<F: Family> {
    pub time: Timestamp,
    pub hash: Hash32,
    pub roots: RootCommitment,
    pub next_validators: F::ValidatorSet,
}

/// Proof that the counterparty ledger misbehaved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum Evidence {
    /// Two valid headers for one height with different hashes.
    ConflictingHeaders {
        height: u64,
        first: Hash32,
        second: Hash32,
    },
    /// Two valid headers whose times go backwards as heights go up.
    TimeNotIncreasing {
        lower_height: u64,
        lower_time: Timestamp,
        higher_height: u64,
        higher_time: Timestamp,
    },
}

impl core::fmt::Display for Evidence {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Evidence::ConflictingHeaders { height, first, second } => {
                write!(f, "conflicting headers at height {height}: {first} and {second}")
            }
            Evidence::TimeNotIncreasing { lower_height, lower_time, higher_height, higher_time } => write!(
                f,
                "time not increasing: height {lower_height} at {lower_time}, height {higher_height} at {higher_time}"
            ),
        }
    }
}

/// Two headers submitted as misbehaviour, each with the trusted height it is verified from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
#[serde(deny_unknown_fields)]
pub struct Misbehaviour<F: Family> {
    pub first: UntrustedBlock<F>,
    pub first_trusted_height: u64,
    pub second: UntrustedBlock<F>,
    pub second_trusted_height: u64,
}

/// Who recovered a frozen or expired client, when and why: kept in its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    /// The operator identity the host checked the authorisation of.
    pub authorised_by: String,
    pub at: Timestamp,
    pub reason: String,
}

/// An entry of the client's recorded history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum HistoryEntry {
    Created {
        height: u64,
        hash: Hash32,
    },
    Frozen {
        evidence: Evidence,
    },
    Recovered {
        recovery: Recovery,
        height: u64,
        hash: Hash32,
    },
}

/// Whether a client may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Expired,
    Frozen,
}

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// A new consensus state at this height.
    Updated { height: u64 },
    /// The same header was already verified: nothing changed.
    AlreadyKnown { height: u64 },
    /// The header is valid but contradicts a verified one: the client froze.
    Frozen(Evidence),
}

/// Why the client refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The client holds misbehaviour evidence and refuses everything until recovered.
    #[error("client is frozen: {0}")]
    Frozen(Evidence),
    /// The latest verified header is older than the trusting period.
    #[error("client expired: latest header at {latest_time}, expired at {expired_at}, now {now}")]
    Expired {
        latest_time: Timestamp,
        expired_at: Timestamp,
        now: Timestamp,
    },
    /// No verified header at this height.
    #[error("no consensus state at height {height}")]
    ConsensusStateNotFound { height: u64 },
    /// Nothing verified below this height to verify it from.
    #[error("no trusted state below height {height} to verify from")]
    NoTrustedStateBelow { height: u64 },
    /// The header or trust root failed a check.
    #[error("{0}")]
    Verify(#[from] VerifyError),
    /// The submitted headers do not prove misbehaviour.
    #[error("not misbehaviour: {reason}")]
    NotMisbehaviour { reason: String },
    /// A trust root for another chain.
    #[error("trust root is for chain {root:?}, client follows {client:?}")]
    ChainIdMismatch { client: String, root: String },
    /// Recovery was asked of an active client.
    #[error("client is active: only a frozen or expired client can be recovered")]
    NotRecoverable,
    /// The recovery root is not newer than what the client had verified.
    #[error("recovery root at height {root} is not above the latest verified height {latest}")]
    StaleRecoveryRoot { latest: u64, root: u64 },
    /// The recovery root is itself already past the trusting period.
    #[error("recovery root from {root_time} expired at {expired_at}, now {now}")]
    ExpiredRecoveryRoot {
        root_time: Timestamp,
        expired_at: Timestamp,
        now: Timestamp,
    },
    /// The header commits its roots through `app_hash`; the roots must be given.
    #[error("header at height {height} commits roots through app_hash: the opening is required")]
    MissingOpening { height: u64 },
    /// The opened roots do not hash to the header's `app_hash`.
    #[error("roots opening hashes to {opened}, header app_hash is {committed}")]
    AppHashMismatch { committed: String, opened: Hash32 },
    /// The value to prove breaks its own rules, so no proof of it is accepted.
    #[error("invalid {what}: {reason}")]
    InvalidValue { what: &'static str, reason: String },
    /// The Merkle proof failed.
    #[error("{0}")]
    Proof(#[from] ProofError),
}

impl ClientError {
    /// The stable name of the failed check.
    pub fn check(&self) -> &'static str {
        match self {
            ClientError::Frozen(_) => "frozen",
            ClientError::Expired { .. } => "expired",
            ClientError::ConsensusStateNotFound { .. } => "consensus_state",
            ClientError::NoTrustedStateBelow { .. } => "trusted_state",
            ClientError::Verify(e) => e.check(),
            ClientError::NotMisbehaviour { .. } => "misbehaviour",
            ClientError::ChainIdMismatch { .. } => "chain_id",
            ClientError::NotRecoverable => "recovery",
            ClientError::StaleRecoveryRoot { .. } => "recovery_height",
            ClientError::ExpiredRecoveryRoot { .. } => "recovery_expired",
            ClientError::MissingOpening { .. } => "app_hash_opening",
            ClientError::AppHashMismatch { .. } => "app_hash",
            ClientError::InvalidValue { .. } => "value",
            ClientError::Proof(_) => "merkle_proof",
        }
    }
}

/// A light client of one counterparty ledger.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
#[serde(deny_unknown_fields)]
pub struct ClientState<F: Family> {
    chain_id: String,
    options: TrustOptions,
    consensus: BTreeMap<u64, ConsensusState<F>>,
    frozen: Option<Evidence>,
    history: Vec<HistoryEntry>,
}

impl<F: Family> ClientState<F> {
    /// Creates a client from an operator-approved trust root.
    pub fn create(root: &TrustRoot<F>, options: TrustOptions) -> Result<Self, ClientError> {
        let (header, trusted) = root.check()?;
        let mut consensus = BTreeMap::new();
        consensus.insert(
            header.height,
            consensus_state(&header, trusted.next_validators),
        );
        Ok(ClientState {
            chain_id: header.chain_id,
            options,
            consensus,
            frozen: None,
            history: vec![HistoryEntry::Created {
                height: header.height,
                hash: header.hash,
            }],
        })
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    pub fn options(&self) -> &TrustOptions {
        &self.options
    }

    pub fn latest_height(&self) -> u64 {
        self.consensus.keys().next_back().copied().unwrap_or(0)
    }

    pub fn consensus_state(&self, height: u64) -> Option<&ConsensusState<F>> {
        self.consensus.get(&height)
    }

    pub fn frozen(&self) -> Option<&Evidence> {
        self.frozen.as_ref()
    }

    pub fn history(&self) -> &[HistoryEntry] {
        &self.history
    }

    /// When the latest verified header stops being trusted.
    pub fn expires_at(&self) -> Timestamp {
        let latest = self
            .consensus
            .values()
            .next_back()
            .map(|c| c.time)
            .unwrap_or_default();
        latest.saturating_add(self.options.trusting_period)
    }

    pub fn status(&self, now: Timestamp) -> Status {
        if self.frozen.is_some() {
            Status::Frozen
        } else if now >= self.expires_at() {
            Status::Expired
        } else {
            Status::Active
        }
    }

    fn ensure_active(&self, now: Timestamp) -> Result<(), ClientError> {
        if let Some(evidence) = &self.frozen {
            return Err(ClientError::Frozen(evidence.clone()));
        }
        let expired_at = self.expires_at();
        if now >= expired_at {
            let latest_time = self
                .consensus
                .values()
                .next_back()
                .map(|c| c.time)
                .unwrap_or_default();
            return Err(ClientError::Expired {
                latest_time,
                expired_at,
                now,
            });
        }
        Ok(())
    }

    fn trusted_below(&self, height: u64) -> Result<TrustedState<F>, ClientError> {
        let (&h, cs) = self
            .consensus
            .range(..height)
            .next_back()
            .ok_or(ClientError::NoTrustedStateBelow { height })?;
        Ok(TrustedState {
            chain_id: self.chain_id.clone(),
            height: h,
            time: cs.time,
            next_validators: cs.next_validators.clone(),
        })
    }

    fn trusted_at(&self, height: u64) -> Result<TrustedState<F>, ClientError> {
        let cs = self
            .consensus
            .get(&height)
            .ok_or(ClientError::ConsensusStateNotFound { height })?;
        Ok(TrustedState {
            chain_id: self.chain_id.clone(),
            height,
            time: cs.time,
            next_validators: cs.next_validators.clone(),
        })
    }

    /// Verifies `block` from the nearest verified header below it and keeps it.
    /// A valid header that contradicts a verified one freezes the client.
    pub fn update(
        &mut self,
        block: &UntrustedBlock<F>,
        now: Timestamp,
    ) -> Result<UpdateOutcome, ClientError> {
        if let Some(evidence) = &self.frozen {
            return Err(ClientError::Frozen(evidence.clone()));
        }
        let header = F::summary(&block.signed_header)?;
        let known = self.consensus.get(&header.height).map(|cs| cs.hash);
        if known == Some(header.hash) {
            return Ok(UpdateOutcome::AlreadyKnown {
                height: header.height,
            });
        }
        let trusted = self.trusted_below(header.height)?;
        if let Some(known) = known {
            // Only a header that is itself valid is evidence; judge it as evidence (no clock).
            verify::verify_against_trusted(&trusted, block, &header, &self.options, None)?;
            let evidence = Evidence::ConflictingHeaders {
                height: header.height,
                first: known,
                second: header.hash,
            };
            return Ok(UpdateOutcome::Frozen(self.freeze(evidence)));
        }
        verify::verify_against_trusted(&trusted, block, &header, &self.options, Some(now))?;
        let above = (
            core::ops::Bound::Excluded(header.height),
            core::ops::Bound::Unbounded,
        );
        if let Some((&higher_height, higher)) = self.consensus.range(above).next() {
            if header.time >= higher.time {
                let evidence = Evidence::TimeNotIncreasing {
                    lower_height: header.height,
                    lower_time: header.time,
                    higher_height,
                    higher_time: higher.time,
                };
                return Ok(UpdateOutcome::Frozen(self.freeze(evidence)));
            }
        }
        let height = header.height;
        self.consensus.insert(
            height,
            consensus_state(&header, block.next_validators.clone()),
        );
        self.prune(now);
        Ok(UpdateOutcome::Updated { height })
    }

    /// Checks submitted misbehaviour and freezes the client on it.
    pub fn submit_misbehaviour(&mut self, m: &Misbehaviour<F>) -> Result<Evidence, ClientError> {
        if let Some(evidence) = &self.frozen {
            return Err(ClientError::Frozen(evidence.clone()));
        }
        let first = self.check_evidence_header(&m.first, m.first_trusted_height)?;
        let second = self.check_evidence_header(&m.second, m.second_trusted_height)?;
        let evidence = if first.height == second.height {
            if first.hash == second.hash {
                return Err(ClientError::NotMisbehaviour {
                    reason: format!("both headers are the same block at height {}", first.height),
                });
            }
            Evidence::ConflictingHeaders {
                height: first.height,
                first: first.hash,
                second: second.hash,
            }
        } else {
            let (lower, higher) = if first.height < second.height {
                (&first, &second)
            } else {
                (&second, &first)
            };
            if lower.time < higher.time {
                return Err(ClientError::NotMisbehaviour {
                    reason: format!(
                        "heights {} and {} have increasing times",
                        lower.height, higher.height
                    ),
                });
            }
            Evidence::TimeNotIncreasing {
                lower_height: lower.height,
                lower_time: lower.time,
                higher_height: higher.height,
                higher_time: higher.time,
            }
        };
        Ok(self.freeze(evidence))
    }

    fn check_evidence_header(
        &self,
        block: &UntrustedBlock<F>,
        trusted_height: u64,
    ) -> Result<HeaderSummary, ClientError> {
        let header = F::summary(&block.signed_header)?;
        let trusted = self.trusted_at(trusted_height)?;
        verify::verify_against_trusted(&trusted, block, &header, &self.options, None)?;
        Ok(header)
    }

    fn freeze(&mut self, evidence: Evidence) -> Evidence {
        self.frozen = Some(evidence.clone());
        self.history.push(HistoryEntry::Frozen {
            evidence: evidence.clone(),
        });
        evidence
    }

    /// Replaces a frozen or expired client's trust with a new root. The host
    /// checks that `recovery.authorised_by` is the ledger's operator before
    /// calling; the client records it.
    pub fn recover(&mut self, root: &TrustRoot<F>, recovery: Recovery) -> Result<(), ClientError> {
        if self.status(recovery.at) == Status::Active {
            return Err(ClientError::NotRecoverable);
        }
        let (header, trusted) = root.check()?;
        if header.chain_id != self.chain_id {
            return Err(ClientError::ChainIdMismatch {
                client: self.chain_id.clone(),
                root: header.chain_id,
            });
        }
        let latest = self.latest_height();
        if header.height <= latest {
            return Err(ClientError::StaleRecoveryRoot {
                latest,
                root: header.height,
            });
        }
        let expires_at = header.time.saturating_add(self.options.trusting_period);
        if recovery.at >= expires_at {
            return Err(ClientError::ExpiredRecoveryRoot {
                root_time: header.time,
                expired_at: expires_at,
                now: recovery.at,
            });
        }
        self.consensus.clear();
        self.consensus.insert(
            header.height,
            consensus_state(&header, trusted.next_validators),
        );
        self.frozen = None;
        self.history.push(HistoryEntry::Recovered {
            recovery,
            height: header.height,
            hash: header.hash,
        });
        Ok(())
    }

    /// Drops consensus states past the trusting period, always keeping the latest.
    fn prune(&mut self, now: Timestamp) {
        let latest = self.latest_height();
        let period = self.options.trusting_period;
        self.consensus
            .retain(|h, cs| *h == latest || cs.time.saturating_add(period) > now);
    }

    /// The roots committed by the verified header at `height`; for a header
    /// that commits through `app_hash`, `opening` must hash to it.
    pub fn roots_at(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
    ) -> Result<Roots, ClientError> {
        self.ensure_active(now)?;
        let cs = self
            .consensus
            .get(&height)
            .ok_or(ClientError::ConsensusStateNotFound { height })?;
        match &cs.roots {
            RootCommitment::Roots(roots) => Ok(*roots),
            RootCommitment::AppHash(committed) => {
                let roots = opening.ok_or(ClientError::MissingOpening { height })?;
                let opened = roots.app_hash();
                if committed.as_slice() != opened.as_bytes() {
                    return Err(ClientError::AppHashMismatch {
                        committed: hex::encode(committed),
                        opened,
                    });
                }
                Ok(*roots)
            }
        }
    }

    /// Checks that a packet or ack commitment is in the events tree of the verified header at `height`.
    pub fn verify_event(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
        leaf: &EventLeaf,
        proof: &MerkleProof,
    ) -> Result<(), ClientError> {
        let roots = self.roots_at(height, now, opening)?;
        merkle::verify_inclusion(F::TREE_HASH, &roots.events, &leaf.encode(), proof)?;
        Ok(())
    }

    /// Checks a channel's sequences against the state tree of the verified header at `height`.
    pub fn verify_channel_state(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
        state: &ChannelState,
        proof: &MerkleProof,
    ) -> Result<(), ClientError> {
        self.verify_state_leaf(
            height,
            now,
            opening,
            &StateLeaf::Channel(state.clone()),
            proof,
        )
    }

    /// Checks what the counterparty's own client of a third ledger holds, against
    /// the state tree of the verified header at `height`.
    pub fn verify_client_state(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
        summary: &ClientSummary,
        proof: &MerkleProof,
    ) -> Result<(), ClientError> {
        self.verify_state_leaf(
            height,
            now,
            opening,
            &StateLeaf::Client(summary.clone()),
            proof,
        )
    }

    fn verify_state_leaf(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
        leaf: &StateLeaf,
        proof: &MerkleProof,
    ) -> Result<(), ClientError> {
        leaf.validate()
            .map_err(|reason| ClientError::InvalidValue {
                what: StateLeaf::WHAT,
                reason,
            })?;
        let roots = self.roots_at(height, now, opening)?;
        merkle::verify_inclusion(F::TREE_HASH, &roots.state, &leaf.encode(), proof)?;
        Ok(())
    }
}

fn consensus_state<F: Family>(
    header: &HeaderSummary,
    next_validators: F::ValidatorSet,
) -> ConsensusState<F> {
    ConsensusState {
        time: header.time,
        hash: header.hash,
        roots: header.roots.clone(),
        next_validators,
    }
}
