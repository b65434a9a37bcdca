//! A client, header, trust root or misbehaviour of any family, tagged with
//! the family name, so that a ledger can keep clients of all three kinds.

use serde::{Deserialize, Serialize};

use crate::client::{
    ClientError, ClientState, Evidence, Misbehaviour, Recovery, Status, TrustRoot, UpdateOutcome,
};
use crate::cmport::Cmport;
use crate::cosco::Cosco;
use crate::gba::Gba;
use crate::merkle::MerkleProof;
use crate::packet::{ChannelState, ClientSummary, EventLeaf, Roots};
use crate::time::Timestamp;
use crate::verify::{Family, TrustOptions, UntrustedBlock};

/// The ledger families, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FamilyName {
    Cmport,
    Cosco,
    Gba,
}

impl FamilyName {
    pub const ALL: [FamilyName; 3] = [FamilyName::Cmport, FamilyName::Cosco, FamilyName::Gba];

    pub fn as_str(self) -> &'static str {
        match self {
            FamilyName::Cmport => Cmport::NAME,
            FamilyName::Cosco => Cosco::NAME,
            FamilyName::Gba => Gba::NAME,
        }
    }

    /// The hash of the family's events and state trees.
    pub fn tree_hash(self) -> crate::hash::HashAlgorithm {
        match self {
            FamilyName::Cmport => Cmport::TREE_HASH,
            FamilyName::Cosco => Cosco::TREE_HASH,
            FamilyName::Gba => Gba::TREE_HASH,
        }
    }
}

impl core::fmt::Display for FamilyName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for FamilyName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FamilyName::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown family {s:?} (expected cmport, cosco or gba)"))
    }
}

macro_rules! any_of {
    ($(#[$doc:meta])* $name:ident, $inner:ident) => {
        $(#[$doc])*
        // CometBFT values are larger than the others; these are built once per
        // message, so boxing would buy nothing but indirection.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "family", content = "value", rename_all = "lowercase")]
        pub enum $name {
            Cmport($inner<Cmport>),
            Cosco($inner<Cosco>),
            Gba($inner<Gba>),
        }

        impl $name {
            pub fn family(&self) -> FamilyName {
                match self {
                    $name::Cmport(_) => FamilyName::Cmport,
                    $name::Cosco(_) => FamilyName::Cosco,
                    $name::Gba(_) => FamilyName::Gba,
                }
            }
        }
    };
}

any_of!(
    /// A light client of any family.
    AnyClient, ClientState
);
any_of!(
    /// A header with its sets, of any family.
    AnyHeader, UntrustedBlock
);
any_of!(
    /// An operator-approved trust root of any family.
    AnyTrustRoot, TrustRoot
);
any_of!(
    /// Misbehaviour evidence of any family.
    AnyMisbehaviour, Misbehaviour
);

/// A value of one family given to a client of another.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client is {client}, the {what} is {given}")]
pub struct FamilyMismatch {
    pub client: FamilyName,
    pub given: FamilyName,
    pub what: &'static str,
}

/// Dispatches a method over the client's family.
macro_rules! on_client {
    ($client:expr, |$c:ident| $body:expr) => {
        match $client {
            AnyClient::Cmport($c) => $body,
            AnyClient::Cosco($c) => $body,
            AnyClient::Gba($c) => $body,
        }
    };
}

/// Why an operation on a client of any family failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnyClientError {
    /// The header, root or evidence is of another family than the client.
    #[error("{0}")]
    FamilyMismatch(#[from] FamilyMismatch),
    /// The client refused it.
    #[error("{0}")]
    Client(#[from] ClientError),
}

impl AnyClientError {
    /// The stable name of the failed check.
    pub fn check(&self) -> &'static str {
        match self {
            AnyClientError::FamilyMismatch(_) => "family",
            AnyClientError::Client(e) => e.check(),
        }
    }
}

impl AnyClient {
    pub fn create(root: &AnyTrustRoot, options: TrustOptions) -> Result<Self, ClientError> {
        Ok(match root {
            AnyTrustRoot::Cmport(r) => AnyClient::Cmport(ClientState::create(r, options)?),
            AnyTrustRoot::Cosco(r) => AnyClient::Cosco(ClientState::create(r, options)?),
            AnyTrustRoot::Gba(r) => AnyClient::Gba(ClientState::create(r, options)?),
        })
    }

    pub fn chain_id(&self) -> &str {
        on_client!(self, |c| c.chain_id())
    }

    pub fn latest_height(&self) -> u64 {
        on_client!(self, |c| c.latest_height())
    }

    pub fn status(&self, now: Timestamp) -> Status {
        on_client!(self, |c| c.status(now))
    }

    pub fn frozen(&self) -> Option<&Evidence> {
        on_client!(self, |c| c.frozen())
    }

    pub fn expires_at(&self) -> Timestamp {
        on_client!(self, |c| c.expires_at())
    }

    fn mismatch(&self, given: FamilyName, what: &'static str) -> AnyClientError {
        AnyClientError::FamilyMismatch(FamilyMismatch {
            client: self.family(),
            given,
            what,
        })
    }

    pub fn update(
        &mut self,
        header: &AnyHeader,
        now: Timestamp,
    ) -> Result<UpdateOutcome, AnyClientError> {
        Ok(match (&mut *self, header) {
            (AnyClient::Cmport(c), AnyHeader::Cmport(h)) => c.update(h, now)?,
            (AnyClient::Cosco(c), AnyHeader::Cosco(h)) => c.update(h, now)?,
            (AnyClient::Gba(c), AnyHeader::Gba(h)) => c.update(h, now)?,
            _ => return Err(self.mismatch(header.family(), "header")),
        })
    }

    pub fn submit_misbehaviour(&mut self, m: &AnyMisbehaviour) -> Result<Evidence, AnyClientError> {
        Ok(match (&mut *self, m) {
            (AnyClient::Cmport(c), AnyMisbehaviour::Cmport(m)) => c.submit_misbehaviour(m)?,
            (AnyClient::Cosco(c), AnyMisbehaviour::Cosco(m)) => c.submit_misbehaviour(m)?,
            (AnyClient::Gba(c), AnyMisbehaviour::Gba(m)) => c.submit_misbehaviour(m)?,
            _ => return Err(self.mismatch(m.family(), "misbehaviour")),
        })
    }

    pub fn recover(
        &mut self,
        root: &AnyTrustRoot,
        recovery: Recovery,
    ) -> Result<(), AnyClientError> {
        match (&mut *self, root) {
            (AnyClient::Cmport(c), AnyTrustRoot::Cmport(r)) => c.recover(r, recovery)?,
            (AnyClient::Cosco(c), AnyTrustRoot::Cosco(r)) => c.recover(r, recovery)?,
            (AnyClient::Gba(c), AnyTrustRoot::Gba(r)) => c.recover(r, recovery)?,
            _ => return Err(self.mismatch(root.family(), "trust root")),
        }
        Ok(())
    }

    pub fn verify_event(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
        leaf: &EventLeaf,
        proof: &MerkleProof,
    ) -> Result<(), ClientError> {
        on_client!(self, |c| c.verify_event(height, now, opening, leaf, proof))
    }

    /// The roots committed by the verified header at `height` (opened for gba).
    pub fn roots_at(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
    ) -> Result<Roots, ClientError> {
        on_client!(self, |c| c.roots_at(height, now, opening))
    }

    pub fn verify_channel_state(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
        state: &ChannelState,
        proof: &MerkleProof,
    ) -> Result<(), ClientError> {
        on_client!(self, |c| c
            .verify_channel_state(height, now, opening, state, proof))
    }
}

impl AnyClient {
    pub fn verify_client_state(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
        summary: &ClientSummary,
        proof: &MerkleProof,
    ) -> Result<(), ClientError> {
        on_client!(self, |c| c
            .verify_client_state(height, now, opening, summary, proof))
    }

    /// Hash of the latest header the client verified.
    pub fn latest_hash(&self) -> crate::hash::Hash32 {
        on_client!(self, |c| c
            .consensus_state(c.latest_height())
            .map(|cs| cs.hash)
            .unwrap_or_default())
    }
}

/// A family whose values can be wrapped into the tagged `Any*` types.
pub trait IntoAny: Family {
    const FAMILY: FamilyName;
    fn any_header(block: UntrustedBlock<Self>) -> AnyHeader;
    fn any_root(root: TrustRoot<Self>) -> AnyTrustRoot;
}

macro_rules! into_any {
    ($ty:ident, $variant:ident) => {
        impl IntoAny for $ty {
            const FAMILY: FamilyName = FamilyName::$variant;
            fn any_header(block: UntrustedBlock<Self>) -> AnyHeader {
                AnyHeader::$variant(block)
            }
            fn any_root(root: TrustRoot<Self>) -> AnyTrustRoot {
                AnyTrustRoot::$variant(root)
            }
        }
    };
}
into_any!(Cmport, Cmport);
into_any!(Cosco, Cosco);
into_any!(Gba, Gba);

impl AnyHeader {
    /// The fields the shared checks use (chain, height, time, hash, set hashes, roots).
    pub fn summary(&self) -> Result<crate::verify::HeaderSummary, crate::verify::VerifyError> {
        match self {
            AnyHeader::Cmport(b) => Cmport::summary(&b.signed_header),
            AnyHeader::Cosco(b) => Cosco::summary(&b.signed_header),
            AnyHeader::Gba(b) => Gba::summary(&b.signed_header),
        }
    }

    /// This header, with its sets, as a trust root for a client of its chain.
    pub fn trust_root(&self) -> AnyTrustRoot {
        fn root<F: Family>(b: &UntrustedBlock<F>) -> TrustRoot<F> {
            TrustRoot {
                signed_header: b.signed_header.clone(),
                next_validators: b.next_validators.clone(),
                validators: Some(b.validators.clone()),
            }
        }
        match self {
            AnyHeader::Cmport(b) => AnyTrustRoot::Cmport(root(b)),
            AnyHeader::Cosco(b) => AnyTrustRoot::Cosco(root(b)),
            AnyHeader::Gba(b) => AnyTrustRoot::Gba(root(b)),
        }
    }
}

impl AnyMisbehaviour {
    /// Two headers of one chain as evidence, each with the height of the
    /// verified header it is checked from; refused when their families differ.
    pub fn from_headers(
        first: AnyHeader,
        first_trusted_height: u64,
        second: AnyHeader,
        second_trusted_height: u64,
    ) -> Result<Self, FamilyMismatch> {
        fn pair<F: Family>(
            first: UntrustedBlock<F>,
            first_trusted_height: u64,
            second: UntrustedBlock<F>,
            second_trusted_height: u64,
        ) -> Misbehaviour<F> {
            Misbehaviour {
                first,
                first_trusted_height,
                second,
                second_trusted_height,
            }
        }
        match (first, second) {
            (AnyHeader::Cmport(a), AnyHeader::Cmport(b)) => Ok(AnyMisbehaviour::Cmport(pair(
                a,
                first_trusted_height,
                b,
                second_trusted_height,
            ))),
            (AnyHeader::Cosco(a), AnyHeader::Cosco(b)) => Ok(AnyMisbehaviour::Cosco(pair(
                a,
                first_trusted_height,
                b,
                second_trusted_height,
            ))),
            (AnyHeader::Gba(a), AnyHeader::Gba(b)) => Ok(AnyMisbehaviour::Gba(pair(
                a,
                first_trusted_height,
                b,
                second_trusted_height,
            ))),
            (a, b) => Err(FamilyMismatch {
                client: a.family(),
                given: b.family(),
                what: "second header",
            }),
        }
    }
}
