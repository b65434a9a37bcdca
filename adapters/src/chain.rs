//! The chain-agnostic contract the relayer uses to talk to a ledger, and the
//! configuration an adapter is built from. Nothing here knows a family's
//! internals; each family's adapter builds itself (`registry`).

use std::time::Duration;

use light_clients::any::{AnyHeader, AnyTrustRoot, FamilyName};
use light_clients::host::{Channel, RelayerKey, SignedTx};
use light_clients::{App, ChainId, PacketId};
use serde::{Deserialize, Serialize};

use crate::wire::{
    AccountResponse, BlockEvents, ClientInfo, NodeStatus, PacketLocation, ReceiptLocation,
    RefusedEvent, SubmitEvent, SubmittedEvent, SubmittedEvents, SubmittedItem, TxResponse,
    WIRE_VERSION,
};

/// Why an adapter call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// No endpoint answered (all down, or timed out), after retries.
    #[error("{chain}: no endpoint answered: {reason}")]
    Unavailable { chain: ChainId, reason: String },
    /// The ledger answered with an error (`code` as in `ErrorBody`).
    #[error("{chain}: {status} {code}: {message}")]
    Refused {
        chain: ChainId,
        status: u16,
        code: String,
        message: String,
    },
    /// The ledger's answer is not what the wire format says (or another family's).
    #[error("{chain}: bad response: {reason}")]
    BadResponse { chain: ChainId, reason: String },
    /// The thing asked for does not exist (yet).
    #[error("{chain}: not found: {what}")]
    NotFound { chain: ChainId, what: String },
}

/// The code of a request refused for its size (HTTP 413), as the devnet
/// ledger names it and as a 413 from something in front of a ledger (a
/// proxy's page, no `ErrorBody`) is mapped.
pub const BODY_TOO_LARGE: &str = "body_too_large";

impl AdapterError {
    /// Whether the request was refused for its size (HTTP 413): sending it
    /// again as it is will be refused again; a smaller one may pass.
    pub fn is_too_large(&self) -> bool {
        matches!(self, AdapterError::Refused { status: 413, .. })
    }

    /// Whether trying again later may help.
    pub fn is_transient(&self) -> bool {
        match self {
            AdapterError::Unavailable { .. } => true,
            AdapterError::Refused { status, code, .. } => {
                *status >= 500 || *status == 429 || code == "not_yet_provable"
            }
            AdapterError::BadResponse { .. } | AdapterError::NotFound { .. } => false,
        }
    }
}

/// What the relayer needs of a ledger.
#[async_trait::async_trait]
pub trait ChainAdapter: Send + Sync + std::fmt::Debug {
    fn chain_id(&self) -> &ChainId;
    fn family(&self) -> FamilyName;
    async fn status(&self) -> Result<NodeStatus, AdapterError>;
    /// The finalized header at `height`, with its validator sets.
    async fn header(&self, height: u64) -> Result<AnyHeader, AdapterError>;
    /// The header after `after`, waiting up to `wait` for it to be finalized.
    async fn next_header(
        &self,
        after: u64,
        wait: Duration,
    ) -> Result<Option<AnyHeader>, AdapterError>;
    /// A block's packets and acks with their proofs.
    async fn block_events(&self, height: u64) -> Result<BlockEvents, AdapterError>;
    /// Every channel end on the ledger, with its sequences.
    async fn channels(&self) -> Result<Vec<Channel>, AdapterError>;
    /// The ledger's clients of its counterparties.
    async fn clients(&self) -> Result<Vec<ClientInfo>, AdapterError>;
    /// Where a packet this ledger sent (and has not seen acknowledged) was emitted.
    async fn packet_location(&self, packet: &PacketId) -> Result<PacketLocation, AdapterError>;
    /// Where this ledger received a packet and wrote its ack.
    async fn receipt_location(&self, packet: &PacketId) -> Result<ReceiptLocation, AdapterError>;
    /// A signer's next nonce.
    async fn account(&self, key: &RelayerKey) -> Result<AccountResponse, AdapterError>;
    /// Submits a transaction and waits until the block holding it is sealed.
    /// Never retried blindly: a resubmission reuses the same nonce, which the
    /// ledger answers with the recorded result or a nonce error.
    async fn submit(&self, tx: &SignedTx) -> Result<TxResponse, AdapterError>;
    /// Submits a transaction without waiting for its block: the answer
    /// holds what executing it in the block being built did (`height` none
    /// until sealed). Sent once, never retried. Confirm with [`Self::wait_tx`].
    async fn submit_pending(&self, tx: &SignedTx) -> Result<TxResponse, AdapterError>;
    /// Waits (up to the ledger's limit) until transaction `id` is in a sealed
    /// block, and answers where it stands then (`height` none: not sealed yet);
    /// `NotFound` when the ledger does not know it (it never arrived, or
    /// its block was lost).
    async fn wait_tx(&self, id: &str) -> Result<TxResponse, AdapterError>;
    /// How this ledger, as a destination, takes packets of (`source`, `app`).
    async fn path_policy(
        &self,
        source: &ChainId,
        app: light_clients::App,
    ) -> Result<crate::wire::PathPolicyResponse, AdapterError>;
    /// The verifying key of this ledger's disclosure prover.
    async fn zk_key(&self) -> Result<crate::wire::ZkKeyResponse, AdapterError>;
    /// Disclosure proofs from this ledger's prover: what `policy` asks of the
    /// records of `packets`, all proven against header `proof_height`; one
    /// proof per K packets, in order. Only disclosed values and proven
    /// predicates come back, never a hidden field.
    async fn disclose(
        &self,
        request: &crate::wire::DiscloseRequest,
    ) -> Result<crate::wire::DisclosureResponse, AdapterError>;
    /// Submits a port event (for the workload and for operators).
    async fn submit_event(&self, event: &SubmitEvent) -> Result<SubmittedEvent, AdapterError>;
    /// Submits several port events at once (at most
    /// [`crate::wire::MAX_EVENT_BATCH`]), never retried: one result per
    /// event, in order, a refused event not stopping the others.
    ///
    /// This default submits them one by one, and answers an event that got
    /// no answer from the ledger (unavailable, a bad response) with a
    /// refusal carrying that error, so nothing is left unaccounted for;
    /// `HttpAdapter` sends one `POST /v1/events/batch`.
    async fn submit_events(&self, events: &[SubmitEvent]) -> Result<SubmittedEvents, AdapterError> {
        let mut results = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let item = match self.submit_event(event).await {
                Ok(submitted) => SubmittedItem::Submitted(submitted),
                Err(e) => SubmittedItem::Refused(RefusedEvent {
                    index: index as u64,
                    status: match &e {
                        AdapterError::Refused { status, .. } => *status,
                        AdapterError::NotFound { .. } => 404,
                        AdapterError::BadResponse { .. } => 502,
                        AdapterError::Unavailable { .. } => 503,
                    },
                    code: match &e {
                        AdapterError::Refused { code, .. } => code.clone(),
                        AdapterError::NotFound { .. } => "not_found".into(),
                        AdapterError::BadResponse { .. } => "bad_response".into(),
                        AdapterError::Unavailable { .. } => "unavailable".into(),
                    },
                    message: e.to_string(),
                }),
            };
            results.push(item);
        }
        Ok(SubmittedEvents {
            version: WIRE_VERSION,
            results,
        })
    }
}

/// How hard an adapter tries, and how much it asks at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcPolicy {
    /// Per request, per endpoint.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
    /// Retries of a request that is safe to retry (reads), across endpoints.
    pub retries: u32,
    /// First backoff; doubles each retry, with jitter, up to `max_backoff`.
    #[serde(with = "humantime_serde_compat")]
    pub backoff: Duration,
    #[serde(with = "humantime_serde_compat")]
    pub max_backoff: Duration,
    /// Requests in flight to this chain at once.
    pub concurrency: usize,
    /// Requests per second to this chain.
    pub rate_per_sec: u64,
}

impl RpcPolicy {
    /// For a ledger across a network, run by someone else: a longer timeout,
    /// more patient retries and a modest load. What a configured chain gets
    /// unless its `[chains.rpc]` says otherwise.
    pub const PRODUCTION: RpcPolicy = RpcPolicy {
        timeout: Duration::from_secs(10),
        retries: 5,
        backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(30),
        concurrency: 16,
        rate_per_sec: 500,
    };

    /// For ledgers on this machine (the devnet, tests, benchmarks): short
    /// timeouts and a high request rate.
    pub const DEVNET: RpcPolicy = RpcPolicy {
        timeout: Duration::from_secs(5),
        retries: 3,
        backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(2),
        concurrency: 32,
        rate_per_sec: 2_000,
    };
}

/// The most requests an adapter keeps in flight to one chain (tokio's
/// semaphores and channels panic on far larger counts, so config refuses them).
pub const MAX_CONCURRENCY: usize = 65_536;

/// What an adapter is registered with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    pub chain_id: ChainId,
    /// One or more RPC endpoints (`http://host:port`); tried in order, failing over.
    pub endpoints: Vec<String>,
    /// The apps relayed to and from this chain.
    pub apps: Vec<App>,
    /// The operator-approved trust root other ledgers' clients of this chain start from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_root: Option<AnyTrustRoot>,
    pub rpc: RpcPolicy,
    /// The node software that serves the endpoints (`engine = "cometbft"`
    /// in TOML); the embedded ledger's RPC unless said.
    #[serde(default, skip_serializing_if = "Engine::is_embedded")]
    pub engine: Engine,
}

/// The node software behind a chain's endpoints, which decides how the
/// adapter talks to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// portrelay's own ledger node (`portledger`, the devnet): the routes of
    /// `docs/profiles/rpc.md`, read by `HttpAdapter`. What a chain is
    /// unless its configuration says otherwise, as every chain was before
    /// engines were named.
    #[default]
    Embedded,
    /// CometBFT validators running the gba ledger as their ABCI
    /// application: CometBFT's own RPC, read by `CometAdapter`
    /// (`docs/cometbft.md`). Only for a family whose headers are CometBFT's.
    Cometbft,
}

impl Engine {
    pub fn is_embedded(&self) -> bool {
        *self == Engine::Embedded
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Engine::Embedded => "embedded",
            Engine::Cometbft => "cometbft",
        }
    }

    /// Whether this engine can run a chain of `family`: CometBFT runs only
    /// the family whose headers, commits and validator sets are CometBFT's.
    pub fn runs(&self, family: FamilyName) -> bool {
        match self {
            Engine::Embedded => true,
            Engine::Cometbft => family == FamilyName::Gba,
        }
    }
}

impl core::fmt::Display for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for Engine {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "embedded" => Ok(Engine::Embedded),
            "cometbft" => Ok(Engine::Cometbft),
            _ => Err(ConfigError::UnknownEngine {
                given: s.to_string(),
            }),
        }
    }
}

/// An adapter's configuration, tagged by family (`family = "cosco"` in
/// TOML): one variant per family of `light_clients::for_each_family!`.
macro_rules! adapter_config {
    ([] $($variant:ident($module:ident) => $ty:path,)*) => {
        /// An adapter's configuration, tagged by family (`family = "cosco"` in TOML).
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "family", rename_all = "lowercase")]
        pub enum AdapterConfig {
            $($variant(ChainConfig),)*
        }

        impl AdapterConfig {
            /// The configuration of a `family` chain.
            pub fn new(family: FamilyName, chain: ChainConfig) -> Self {
                match family {
                    $(FamilyName::$variant => AdapterConfig::$variant(chain),)*
                }
            }

            pub fn family(&self) -> FamilyName {
                match self {
                    $(AdapterConfig::$variant(_) => FamilyName::$variant,)*
                }
            }

            pub fn chain(&self) -> &ChainConfig {
                match self {
                    $(AdapterConfig::$variant(c))|* => c,
                }
            }
        }
    };
}
light_clients::for_each_family!((adapter_config));

impl AdapterConfig {
    /// Checks the configuration; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let c = self.chain();
        let chain = c.chain_id.clone();
        if c.endpoints.is_empty() {
            return Err(ConfigError::NoEndpoint { chain });
        }
        for (index, e) in c.endpoints.iter().enumerate() {
            let ok = e
                .parse::<hyper::Uri>()
                .ok()
                .filter(|u| u.scheme_str() == Some("http") && u.authority().is_some());
            if ok.is_none() {
                return Err(ConfigError::Endpoint {
                    chain,
                    index,
                    endpoint: e.clone(),
                });
            }
        }
        if c.apps.is_empty() {
            return Err(ConfigError::NoApps { chain });
        }
        if c.rpc.concurrency > MAX_CONCURRENCY {
            return Err(ConfigError::Concurrency {
                chain,
                given: c.rpc.concurrency,
            });
        }
        if c.rpc.backoff > c.rpc.max_backoff {
            return Err(ConfigError::Backoff { chain });
        }
        if c.rpc.concurrency == 0 || c.rpc.rate_per_sec == 0 || c.rpc.timeout.is_zero() {
            return Err(ConfigError::Zero { chain });
        }
        if !c.engine.runs(self.family()) {
            return Err(ConfigError::Engine {
                chain,
                engine: c.engine,
                family: self.family(),
            });
        }
        if let Some(root) = &c.trust_root {
            if root.family() != self.family() {
                return Err(ConfigError::TrustRootFamily {
                    chain,
                    root: root.family(),
                    family: self.family(),
                });
            }
        }
        Ok(())
    }
}

/// Why an adapter's configuration or registration was refused; each names
/// the key at fault, prefixed by the chain id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No RPC endpoint was given.
    #[error("{chain}.endpoints: at least one endpoint is needed")]
    NoEndpoint { chain: ChainId },
    /// An endpoint is not an `http://host:port` URL.
    #[error("{chain}.endpoints[{index}]: {endpoint:?} is not an http://host:port URL")]
    Endpoint {
        chain: ChainId,
        index: usize,
        endpoint: String,
    },
    /// No app is relayed to or from the chain.
    #[error("{chain}.apps: name at least one of cargo, payment, ebl")]
    NoApps { chain: ChainId },
    /// More requests in flight than the limiters can hold.
    #[error("{chain}.rpc.concurrency: {given} is over {MAX_CONCURRENCY}")]
    Concurrency { chain: ChainId, given: usize },
    /// The first backoff is longer than the longest.
    #[error("{chain}.rpc.backoff: longer than max_backoff")]
    Backoff { chain: ChainId },
    /// A timeout, concurrency or rate of zero would never send anything.
    #[error("{chain}.rpc: timeout, concurrency and rate_per_sec must be above zero")]
    Zero { chain: ChainId },
    /// The trust root is of another family than the chain.
    #[error("{chain}.trust_root: a {root} root for a {family} chain")]
    TrustRootFamily {
        chain: ChainId,
        root: FamilyName,
        family: FamilyName,
    },
    /// The engine cannot run a chain of this family.
    #[error("{chain}.engine: {engine} does not run {family} chains (cometbft runs gba)")]
    Engine {
        chain: ChainId,
        engine: Engine,
        family: FamilyName,
    },
    /// An engine name that is not one of `embedded`, `cometbft`.
    #[error("unknown engine {given:?} (expected embedded or cometbft)")]
    UnknownEngine { given: String },
    /// The chain id is registered already.
    #[error("{chain}.chain_id: {chain} is already registered (a {family} chain)")]
    Taken { chain: ChainId, family: FamilyName },
    /// An adapter was built outside a tokio runtime (its limiters live there).
    #[error("{chain}: an http adapter must be built inside a tokio runtime")]
    NoRuntime { chain: ChainId },
}

/// Durations as humantime strings ("5s", "200ms") in config files.
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s)
            .map_err(|e| serde::de::Error::custom(format!("{s:?} is not a duration like 5s: {e}")))
    }
}
