//! The ledger families, listed once, and a client, header, trust root or
//! misbehaviour of any of them, tagged with the family name, so that a
//! ledger can keep clients of every kind.
//!
//! [`for_each_family!`](crate::for_each_family) holds the list. [`FamilyName`],
//! the `Any*` enums, their dispatch, [`IntoAny`] and
//! [`with_family!`](crate::with_family) are generated from it: adding a family
//! is its module plus one line there. What differs between families (names,
//! tree hash, how a header commits its roots) is a constant of the
//! [`Family`] trait, never a test of a family's name.

use serde::{Deserialize, Serialize};

use crate::client::{
    ClientError, ClientState, Evidence, Misbehaviour, Recovery, Status, TrustRoot, UpdateOutcome,
};
use crate::hash::{Hash32, HashAlgorithm};
use crate::merkle::MerkleProof;
use crate::packet::{ChannelState, ClientSummary, EventLeaf, Roots};
use crate::time::Timestamp;
use crate::verify::{Family, HeaderSummary, TrustOptions, UntrustedBlock, VerifyError};

/// The list of ledger families: the one place they are written out.
///
/// Calls the macro `callback` with `args` in brackets, then one line per
/// family: its [`FamilyName`] variant, its module, and its [`Family`] type:
///
/// ```text
/// callback! { [args] Cmport(cmport) => light_clients::cmport::Cmport, ... }
/// ```
///
/// so a crate can generate a per-family enum, table or test module that
/// grows with the list. A callback matches the lines with
/// `$($variant:ident($module:ident) => $ty:path,)*`. To run code over one
/// family's type, [`with_family!`](crate::with_family) is simpler.
#[macro_export]
macro_rules! for_each_family {
    (($($callback:tt)+) $($args:tt)*) => {
        $($callback)+! {
            [$($args)*]
            Cmport(cmport) => $crate::cmport::Cmport,
            Cosco(cosco) => $crate::cosco::Cosco,
            Gba(gba) => $crate::gba::Gba,
        }
    };
}

/// Runs `body` with `F` bound to the [`Family`] type named by `name` (a
/// [`FamilyName`]), and evaluates to its value: one generic expression instead
/// of a match with an arm per family.
///
/// ```
/// use light_clients::any::FamilyName;
/// use light_clients::Family;
///
/// fn lag(name: FamilyName) -> u64 {
///     light_clients::with_family!(name, F => F::ROOTS_LAG)
/// }
/// assert_eq!(lag(FamilyName::Gba), 1);
/// ```
///
/// `body` is an expression (a block for several statements); every family
/// must give it the same type. It is inlined, so it may borrow locals, `?`
/// and `return`. `F` is the concrete type (`light_clients::gba::Gba` ...),
/// so every trait the families implement is usable: [`Family`],
/// [`IntoAny`], [`Signing`](crate::sample::Signing).
#[macro_export]
macro_rules! with_family {
    ($name:expr, $F:ident => $body:expr $(,)?) => {
        $crate::for_each_family!(($crate::__with_family) $name, $F => $body)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __with_family {
    ([$name:expr, $F:ident => $body:expr] $($variant:ident($module:ident) => $ty:path,)*) => {
        match $name {
            $($crate::any::FamilyName::$variant => {
                #[allow(dead_code)]
                type $F = $ty;
                $body
            })*
        }
    };
}

/// Generates [`FamilyName`] and the [`IntoAny`] impls from the list.
macro_rules! family_name {
    ([] $($variant:ident($module:ident) => $ty:path,)*) => {
        /// The ledger families, by name (`cmport`, `cosco`, `gba` in JSON and
        /// on command lines: each family's [`Family::NAME`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum FamilyName {
            $($variant,)*
        }

        impl FamilyName {
            /// How many families there are.
            pub const COUNT: usize = [$(stringify!($variant)),*].len();
            /// Every family, in the list's order.
            pub const ALL: [FamilyName; FamilyName::COUNT] = [$(FamilyName::$variant),*];
        }

        $(impl IntoAny for $ty {
            const FAMILY: FamilyName = FamilyName::$variant;
            fn any_header(block: UntrustedBlock<Self>) -> AnyHeader {
                AnyHeader::$variant(block)
            }
            fn any_root(root: TrustRoot<Self>) -> AnyTrustRoot {
                AnyTrustRoot::$variant(root)
            }
            fn any_client(client: ClientState<Self>) -> AnyClient {
                AnyClient::$variant(client)
            }
            fn any_misbehaviour(evidence: Misbehaviour<Self>) -> AnyMisbehaviour {
                AnyMisbehaviour::$variant(evidence)
            }
        })*
    };
}
crate::for_each_family!((family_name));

impl FamilyName {
    /// The family's name: its [`Family::NAME`].
    pub fn as_str(self) -> &'static str {
        crate::with_family!(self, F => F::NAME)
    }

    /// The hash of the family's events and state trees: its [`Family::TREE_HASH`].
    pub fn tree_hash(self) -> HashAlgorithm {
        crate::with_family!(self, F => F::TREE_HASH)
    }

    /// How many blocks behind its header the roots a header commits are:
    /// its [`Family::ROOTS_LAG`] (gba 1, the others 0).
    pub fn roots_lag(self) -> u64 {
        crate::with_family!(self, F => F::ROOTS_LAG)
    }

    /// Whether a header commits its roots through `app_hash`, so that a
    /// proof must carry the roots (the opening): its [`Family::ROOTS_OPENING`].
    pub fn roots_opening(self) -> bool {
        crate::with_family!(self, F => F::ROOTS_OPENING)
    }

    /// The height of the header whose roots prove block `height`'s events
    /// and state: [`Family::proof_height`].
    pub fn proof_height(self, height: u64) -> u64 {
        crate::with_family!(self, F => F::proof_height(height))
    }

    /// The block whose roots the header at `header_height` commits:
    /// [`Family::roots_height`].
    pub fn roots_height(self, header_height: u64) -> u64 {
        crate::with_family!(self, F => F::roots_height(header_height))
    }

    /// The names every family answers to, for messages: `"cmport, cosco or gba"`.
    pub fn expected() -> String {
        let names: Vec<&str> = FamilyName::ALL.iter().map(|f| f.as_str()).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.concat(),
        }
    }
}

impl core::fmt::Display for FamilyName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the families.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown family {given:?} (expected {})", FamilyName::expected())]
pub struct UnknownFamily {
    /// The name given.
    pub given: String,
}

impl core::str::FromStr for FamilyName {
    type Err = UnknownFamily;
    fn from_str(s: &str) -> Result<Self, UnknownFamily> {
        FamilyName::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownFamily {
                given: s.to_string(),
            })
    }
}

/// Generates one tagged enum over the families from the list.
macro_rules! any_of {
    ([$(#[$doc:meta])* $name:ident, $inner:ident, $wrap:ident] $($variant:ident($module:ident) => $ty:path,)*) => {
        $(#[$doc])*
        // CometBFT values are larger than the others; these are built once per
        // message, so boxing would buy nothing but indirection.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "family", content = "value", rename_all = "lowercase")]
        #[serde(deny_unknown_fields)]
        pub enum $name {
            $($variant($inner<$ty>),)*
        }

        impl $name {
            pub fn family(&self) -> FamilyName {
                match self {
                    $($name::$variant(_) => FamilyName::$variant,)*
                }
            }
        }

        impl<F: IntoAny> From<$inner<F>> for $name {
            fn from(value: $inner<F>) -> Self {
                F::$wrap(value)
            }
        }
    };
}

crate::for_each_family!((any_of)
    /// A light client of any family.
    AnyClient, ClientState, any_client
);
crate::for_each_family!((any_of)
    /// A header with its sets, of any family.
    AnyHeader, UntrustedBlock, any_header
);
crate::for_each_family!((any_of)
    /// An operator-approved trust root of any family.
    AnyTrustRoot, TrustRoot, any_root
);
crate::for_each_family!((any_of)
    /// Misbehaviour evidence of any family.
    AnyMisbehaviour, Misbehaviour, any_misbehaviour
);

/// `match value { Any::V(bind) => body, .. }` over every family.
macro_rules! match_any {
    ([$any:ident, $value:expr, $bind:ident => $body:expr] $($variant:ident($module:ident) => $ty:path,)*) => {
        match $value {
            $($any::$variant($bind) => $body,)*
        }
    };
}

/// Dispatches an expression over the family of an `Any*` value.
macro_rules! on_any {
    ($any:ident, $value:expr, |$bind:ident| $body:expr) => {
        crate::for_each_family!((match_any) $any, $value, $bind => $body)
    };
}

/// `match (a, b) { (A::V(x), B::V(y)) => body, .., other => otherwise }`:
/// two values of the same family, or `otherwise`.
macro_rules! match_pair {
    ([$a:ident, $b:ident, $value:expr, |$x:ident, $y:ident| $body:expr, $other:pat => $otherwise:expr]
     $($variant:ident($module:ident) => $ty:path,)*) => {
        match $value {
            $(($a::$variant($x), $b::$variant($y)) => $body,)*
            $other => $otherwise,
        }
    };
}

/// A value of one family given to a client of another.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client is {client}, the {what} is {given}")]
pub struct FamilyMismatch {
    pub client: FamilyName,
    pub given: FamilyName,
    pub what: &'static str,
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
        on_any!(AnyTrustRoot, root, |r| Ok(
            ClientState::create(r, options)?.into()
        ))
    }

    pub fn chain_id(&self) -> &str {
        on_any!(AnyClient, self, |c| c.chain_id())
    }

    pub fn latest_height(&self) -> u64 {
        on_any!(AnyClient, self, |c| c.latest_height())
    }

    pub fn status(&self, now: Timestamp) -> Status {
        on_any!(AnyClient, self, |c| c.status(now))
    }

    pub fn frozen(&self) -> Option<&Evidence> {
        on_any!(AnyClient, self, |c| c.frozen())
    }

    pub fn expires_at(&self) -> Timestamp {
        on_any!(AnyClient, self, |c| c.expires_at())
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
        crate::for_each_family!((match_pair) AnyClient, AnyHeader, (&mut *self, header),
            |c, h| Ok(c.update(h, now)?),
            _ => Err(self.mismatch(header.family(), "header"))
        )
    }

    pub fn submit_misbehaviour(&mut self, m: &AnyMisbehaviour) -> Result<Evidence, AnyClientError> {
        crate::for_each_family!((match_pair) AnyClient, AnyMisbehaviour, (&mut *self, m),
            |c, m| Ok(c.submit_misbehaviour(m)?),
            _ => Err(self.mismatch(m.family(), "misbehaviour"))
        )
    }

    pub fn recover(
        &mut self,
        root: &AnyTrustRoot,
        recovery: Recovery,
    ) -> Result<(), AnyClientError> {
        crate::for_each_family!((match_pair) AnyClient, AnyTrustRoot, (&mut *self, root),
            |c, r| Ok(c.recover(r, recovery)?),
            _ => Err(self.mismatch(root.family(), "trust root"))
        )
    }

    pub fn verify_event(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
        leaf: &EventLeaf,
        proof: &MerkleProof,
    ) -> Result<(), ClientError> {
        on_any!(AnyClient, self, |c| c
            .verify_event(height, now, opening, leaf, proof))
    }

    /// The roots committed by the verified header at `height` (opened when
    /// the family's [`Family::ROOTS_OPENING`]).
    pub fn roots_at(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
    ) -> Result<Roots, ClientError> {
        on_any!(AnyClient, self, |c| c.roots_at(height, now, opening))
    }

    pub fn verify_channel_state(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
        state: &ChannelState,
        proof: &MerkleProof,
    ) -> Result<(), ClientError> {
        on_any!(AnyClient, self, |c| c
            .verify_channel_state(height, now, opening, state, proof))
    }

    pub fn verify_client_state(
        &self,
        height: u64,
        now: Timestamp,
        opening: Option<&Roots>,
        summary: &ClientSummary,
        proof: &MerkleProof,
    ) -> Result<(), ClientError> {
        on_any!(AnyClient, self, |c| c
            .verify_client_state(height, now, opening, summary, proof))
    }

    /// Hash of the latest header the client verified.
    pub fn latest_hash(&self) -> Hash32 {
        on_any!(AnyClient, self, |c| c
            .consensus_state(c.latest_height())
            .map(|cs| cs.hash)
            .unwrap_or_default())
    }
}

/// A family whose values can be wrapped into the tagged `Any*` types
/// (implemented for each family of the list; `Any*::from` does the same).
pub trait IntoAny: Family {
    const FAMILY: FamilyName;
    fn any_header(block: UntrustedBlock<Self>) -> AnyHeader;
    fn any_root(root: TrustRoot<Self>) -> AnyTrustRoot;
    fn any_client(client: ClientState<Self>) -> AnyClient;
    fn any_misbehaviour(evidence: Misbehaviour<Self>) -> AnyMisbehaviour;
}

impl AnyHeader {
    /// The fields the shared checks use (chain, height, time, hash, set hashes, roots).
    pub fn summary(&self) -> Result<HeaderSummary, VerifyError> {
        fn summary<F: Family>(b: &UntrustedBlock<F>) -> Result<HeaderSummary, VerifyError> {
            F::summary(&b.signed_header)
        }
        on_any!(AnyHeader, self, |b| summary(b))
    }

    /// [`summary`](Self::summary), once the sets served with the header are
    /// checked against the hashes it commits: a header vouched for by a hash
    /// link rather than by signatures must still carry the sets it names,
    /// or a destination would refuse it.
    pub fn checked_summary(&self) -> Result<HeaderSummary, VerifyError> {
        fn check<F: Family>(b: &UntrustedBlock<F>) -> Result<HeaderSummary, VerifyError> {
            let summary = F::summary(&b.signed_header)?;
            let computed = F::validators_hash(&b.validators)?;
            if computed != summary.validators_hash {
                return Err(VerifyError::ValidatorsHashMismatch {
                    header: summary.validators_hash,
                    computed,
                });
            }
            let computed = F::validators_hash(&b.next_validators)?;
            if computed != summary.next_validators_hash {
                return Err(VerifyError::NextValidatorsHashMismatch {
                    header: summary.next_validators_hash,
                    computed,
                });
            }
            Ok(summary)
        }
        on_any!(AnyHeader, self, |b| check(b))
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
        on_any!(AnyHeader, self, |b| root(b).into())
    }
}

impl AnyTrustRoot {
    /// The fields of the root's header (its chain id among them).
    pub fn summary(&self) -> Result<HeaderSummary, VerifyError> {
        fn summary<F: Family>(r: &TrustRoot<F>) -> Result<HeaderSummary, VerifyError> {
            F::summary(&r.signed_header)
        }
        on_any!(AnyTrustRoot, self, |r| summary(r))
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
        crate::for_each_family!((match_pair) AnyHeader, AnyHeader, (first, second),
            |first, second| Ok(Misbehaviour {
                first,
                first_trusted_height,
                second,
                second_trusted_height,
            }
            .into()),
            (a, b) => Err(FamilyMismatch {
                client: a.family(),
                given: b.family(),
                what: "second header",
            })
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;
    use crate::verify::RootCommitment;

    #[test]
    fn names_round_trip_through_str_serde_and_the_family_types() {
        assert_eq!(FamilyName::ALL.len(), FamilyName::COUNT);
        for name in FamilyName::ALL {
            assert_eq!(name.as_str().parse::<FamilyName>(), Ok(name));
            assert_eq!(name.to_string(), name.as_str());
            let json = serde_json::to_value(name).unwrap();
            assert_eq!(json, serde_json::json!(name.as_str()));
            let family = crate::with_family!(name, F => F::FAMILY);
            assert_eq!(family, name);
        }
    }

    #[test]
    fn an_unknown_name_is_refused_naming_the_accepted_ones() {
        let err = "fabric".parse::<FamilyName>().unwrap_err();
        assert_eq!(
            err,
            UnknownFamily {
                given: "fabric".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "unknown family \"fabric\" (expected cmport, cosco or gba)"
        );
    }

    #[test]
    fn per_family_facts_are_trait_constants() {
        assert_eq!(
            FamilyName::ALL.map(FamilyName::roots_lag),
            [0, 0, 1],
            "cmport, cosco, gba"
        );
        assert_eq!(
            FamilyName::ALL.map(FamilyName::roots_opening),
            [false, false, true]
        );
        assert_eq!(
            FamilyName::ALL.map(FamilyName::tree_hash),
            [
                HashAlgorithm::Sha256,
                HashAlgorithm::Keccak256,
                HashAlgorithm::Sha256
            ]
        );
        assert_eq!(FamilyName::Gba.proof_height(7), 8);
        assert_eq!(FamilyName::Cosco.proof_height(7), 7);
        assert_eq!(FamilyName::Gba.roots_height(1), 0);
        assert_eq!(FamilyName::Cmport.roots_height(1), 1);
    }

    /// `ROOTS_OPENING` says what a header's summary carries, for every family.
    #[test]
    fn roots_opening_agrees_with_the_headers() {
        for name in FamilyName::ALL {
            crate::with_family!(name, F => {
                let (_, block) = sample::pair::<F>("port-1", 4, 1, Timestamp::from_unix_secs(1_000));
                let summary = F::summary(&block.signed_header).unwrap();
                let opened = matches!(summary.roots, RootCommitment::AppHash(_));
                assert_eq!(opened, F::ROOTS_OPENING, "{name}");
                let header = AnyHeader::from(block);
                assert_eq!(header.family(), name);
                assert_eq!(header.summary().unwrap(), summary);
            })
        }
    }

    #[test]
    fn values_of_different_families_are_not_evidence() {
        let (_, a) =
            sample::pair::<crate::cosco::Cosco>("c-1", 4, 1, Timestamp::from_unix_secs(1_000));
        let (_, b) = sample::pair::<crate::gba::Gba>("c-1", 4, 1, Timestamp::from_unix_secs(1_000));
        let err = AnyMisbehaviour::from_headers(a.into(), 1, b.into(), 1).unwrap_err();
        assert_eq!(
            err,
            FamilyMismatch {
                client: FamilyName::Cosco,
                given: FamilyName::Gba,
                what: "second header",
            }
        );
    }
}
