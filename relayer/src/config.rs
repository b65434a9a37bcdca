//! The relayer's configuration: one TOML file, `PORTRELAY_*` environment
//! overrides, parsed once at start into validated types; every error names
//! the key it concerns. `deploy/portrelay.example.toml` is an annotated example.
//!
//! Overrides: `PORTRELAY_RELAYER__BATCH_MAX=100` sets `[relayer] batch_max`,
//! `PORTRELAY_TRUST__CLOCK_DRIFT=5s` sets `[trust] clock_drift`, and
//! `PORTRELAY_CHAINS__COSCO_1__ENDPOINTS=http://a,http://b` sets the
//! endpoints of the chain `cosco-1` (`-` and `.` in a chain id become `_`).
//! A value is read as TOML when it parses (numbers, booleans), else as a string.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use adapters::chain::{AdapterConfig, ChainConfig, Engine, RpcPolicy};
use adapters::server::ServerLimits;
use light_clients::any::FamilyName;
use light_clients::{App, ChainId, Fraction, Hash32, TrustOptions};
use serde::Deserialize;

use crate::relay::engine::{PathPolicy, Paths, StallOptions};

/// A configuration that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{0}")]
    Invalid(String),
}

fn invalid(s: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(s.into())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    relayer: RawRelayer,
    trust: RawTrust,
    #[serde(default)]
    api: Option<RawApi>,
    #[serde(default)]
    coordinator: Option<RawCoordinator>,
    #[serde(default)]
    chains: Vec<RawChain>,
    #[serde(default)]
    paths: Vec<RawPath>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    listen: String,
    #[serde(default)]
    token_file: Option<PathBuf>,
    /// The server's limits (`adapters::server`); each optional, defaults in
    /// [`crate::api::SERVER_LIMITS`].
    #[serde(default)]
    header_read_timeout: Option<String>,
    #[serde(default)]
    body_read_timeout: Option<String>,
    #[serde(default)]
    idle_timeout: Option<String>,
    #[serde(default)]
    shutdown_timeout: Option<String>,
    #[serde(default)]
    per_client_requests: Option<usize>,
    /// Writes per second one client address may keep up on the mutating
    /// routes (0: no limit), and how many at once.
    #[serde(default)]
    rate_limit_per_second: Option<u32>,
    #[serde(default)]
    rate_limit_burst: Option<u32>,
    /// Whether loopback clients are rate limited too.
    #[serde(default)]
    rate_limit_loopback: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoordinator {
    backend: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    instance: Option<String>,
    #[serde(default)]
    lease: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    registered_keys: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPath {
    source: String,
    destination: String,
    apps: Vec<String>,
    #[serde(default)]
    batch_max: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelayer {
    data_dir: PathBuf,
    batch_max: usize,
    max_attempts: u32,
    backoff: String,
    clear_interval: String,
    /// How long a job may stall before it is parked; optional, default 10m.
    #[serde(default)]
    stall_park: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrust {
    trusting_period: String,
    clock_drift: String,
    trust_threshold: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChain {
    family: String,
    chain_id: String,
    endpoints: Vec<String>,
    apps: Vec<String>,
    /// This relayer's Ed25519 transaction key on the chain (64 hex digits in the file).
    key_file: PathBuf,
    /// An operator's pin: start following at this height, from the header with this hash.
    #[serde(default)]
    trust_height: Option<u64>,
    #[serde(default)]
    trust_hash: Option<String>,
    #[serde(default)]
    rpc: Option<RawRpc>,
    /// `embedded` (the default: portrelay's ledger RPC) or `cometbft` (a gba
    /// chain read through CometBFT's RPC).
    #[serde(default)]
    engine: Option<String>,
}

/// `[chains.rpc]`: a preset (`production`, the default, or `devnet`) and
/// any of its values changed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRpc {
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default)]
    retries: Option<u32>,
    #[serde(default)]
    backoff: Option<String>,
    #[serde(default)]
    max_backoff: Option<String>,
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    rate_per_sec: Option<u64>,
}

/// A chain the relayer serves, validated.
#[derive(Debug, Clone)]
pub struct ChainEntry {
    pub adapter: AdapterConfig,
    pub key_file: PathBuf,
    pub pin: Option<(u64, Hash32)>,
}

/// The operators' API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    /// The bearer token of routes that change something (none: those routes are off).
    pub token: Option<String>,
    /// Header, body and idle timeouts, the shutdown bound, requests per client.
    pub limits: ServerLimits,
}

/// Where jobs, leases and checkpoints are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoordinatorConfig {
    /// In process, checkpoints in `data_dir/relayer.redb`: one relayer.
    Embedded,
    /// A fleet sharing one Redis.
    Redis(RedisConfig),
}

/// `[coordinator] backend = "redis"`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[:password@]host:port[/db]` or `rediss://` (TLS).
    pub url: String,
    /// This member's name, unique in the fleet (its consumer name and heartbeat).
    pub instance: String,
    /// How long a lease lasts unless renewed (renewed every third of it).
    pub lease: Duration,
    /// Prefix of every key, so fleets can share a server.
    pub namespace: String,
    /// Where this member finds its key for a chain registered over the API:
    /// `<dir>/<chain-id>.key` (none: the key file named at registration).
    pub registered_keys: Option<PathBuf>,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("RedisConfig")
            .field("url", &redact(&self.url))
            .field("instance", &self.instance)
            .field("lease", &self.lease)
            .field("namespace", &self.namespace)
            .field("registered_keys", &self.registered_keys)
            .finish()
    }
}

/// A Redis URL with its password (if any) replaced by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub batch_max: usize,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub clear_interval: Duration,
    /// `[relayer] stall_park`.
    pub stall: StallOptions,
    pub trust: TrustOptions,
    pub api: Option<ApiConfig>,
    pub coordinator: CoordinatorConfig,
    pub chains: Vec<ChainEntry>,
    pub paths: Paths,
}

/// `[relayer] stall_park`, default [`StallOptions::DEFAULT`]'s (10m).
fn validate_stall(park: Option<&str>) -> Result<StallOptions, ConfigError> {
    let park = match park {
        Some(v) => duration("relayer.stall_park", v)?,
        None => StallOptions::DEFAULT.park,
    };
    if park.is_zero() {
        return Err(invalid("relayer.stall_park: must be more than 0s"));
    }
    Ok(StallOptions { park })
}

fn duration(key: &str, value: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(value).map_err(|e| {
        invalid(format!(
            "{key}: {value:?} is not a duration like 5s or 14d: {e}"
        ))
    })
}

impl Config {
    /// Reads `path`, applies the `PORTRELAY_*` variables of `env`, validates.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let text = read_small_file(path, MAX_CONFIG_FILE_BYTES)?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse_with(&text, base, env).map_err(|e| invalid(format!("{}: {e}", path.display())))
    }

    /// Reads a configuration's text, relative paths under `base`, with no
    /// overrides (what the fuzz target drives).
    pub fn parse(text: &str, base: &Path) -> Result<Self, ConfigError> {
        Self::parse_with(text, base, std::iter::empty())
    }

    fn parse_with(
        text: &str,
        base: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut value: toml::Table =
            toml::from_str(text).map_err(|e| invalid(e.to_string().trim().to_string()))?;
        apply_overrides(&mut value, env)?;
        let raw: RawConfig = toml::Value::Table(value)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string().trim().to_string()))?;
        Self::validate(raw, base)
    }

    fn validate(raw: RawConfig, base: &Path) -> Result<Self, ConfigError> {
        let r = raw.relayer;
        if r.batch_max == 0 || r.batch_max > 10_000 {
            return Err(invalid("relayer.batch_max: must be 1 to 10000"));
        }
        if r.max_attempts == 0 {
            return Err(invalid("relayer.max_attempts: must be at least 1"));
        }
        let trust = TrustOptions {
            trusting_period: duration("trust.trusting_period", &raw.trust.trusting_period)?,
            clock_drift: duration("trust.clock_drift", &raw.trust.clock_drift)?,
            trust_threshold: raw
                .trust
                .trust_threshold
                .parse::<Fraction>()
                .map_err(|e| invalid(format!("trust.trust_threshold: {e}")))?,
        };
        if raw.chains.len() < 2 {
            return Err(invalid("chains: a relay needs at least two [[chains]]"));
        }
        let mut chains = Vec::new();
        for (i, c) in raw.chains.into_iter().enumerate() {
            let key = |k: &str| format!("chains[{i}].{k}");
            let chain_id = ChainId::new(c.chain_id.as_str())
                .map_err(|e| invalid(format!("{}: {e}", key("chain_id"))))?;
            let apps = c
                .apps
                .iter()
                .map(|a| {
                    a.parse::<App>()
                        .map_err(|e| invalid(format!("{}: {e}", key("apps"))))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let rpc = match c.rpc {
                // Said once in the example file and the docs: a chain is
                // someone else's ledger across a network unless told.
                None => RpcPolicy::PRODUCTION,
                Some(p) => rpc_policy(p, &key)?,
            };
            let engine = match c.engine.as_deref() {
                None => Engine::Embedded,
                Some(e) => e
                    .parse::<Engine>()
                    .map_err(|e| invalid(format!("{}: {e}", key("engine"))))?,
            };
            let chain = ChainConfig {
                chain_id,
                endpoints: c.endpoints,
                apps,
                trust_root: None,
                rpc,
                engine,
            };
            let family = c
                .family
                .parse::<FamilyName>()
                .map_err(|e| invalid(format!("{}: {e}", key("family"))))?;
            let adapter = AdapterConfig::new(family, chain);
            adapter
                .validate()
                .map_err(|e| invalid(format!("chains[{i}] ({e})")))?;
            let key_file = resolve(base, c.key_file);
            let pin = match (c.trust_height, c.trust_hash) {
                (None, None) => None,
                (Some(h @ 1..), Some(hash)) => {
                    let hash = hash
                        .parse::<Hash32>()
                        .map_err(|e| invalid(format!("{}: {e}", key("trust_hash"))))?;
                    Some((h, hash))
                }
                (Some(0), _) => {
                    return Err(invalid(format!(
                        "{}: heights start at 1",
                        key("trust_height")
                    )))
                }
                (Some(_), None) => {
                    return Err(invalid(format!(
                        "{}: trust_height needs trust_hash (the header's hash at that height)",
                        key("trust_hash")
                    )))
                }
                (None, Some(_)) => {
                    return Err(invalid(format!(
                        "{}: trust_hash needs trust_height",
                        key("trust_height")
                    )))
                }
            };
            chains.push(ChainEntry {
                adapter,
                key_file,
                pin,
            });
        }
        let mut ids: Vec<&ChainId> = chains.iter().map(|c| &c.adapter.chain().chain_id).collect();
        ids.sort();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(invalid(format!("chains: {} appears twice", w[0])));
        }
        let data_dir = resolve(base, r.data_dir);
        let paths = validate_paths(raw.paths, &chains, r.batch_max)?;
        let api = match raw.api {
            None => None,
            Some(a) => {
                let limits = api_limits(&a)?;
                let listen = a.listen.parse::<SocketAddr>().map_err(|e| {
                    invalid(format!(
                        "api.listen: {:?} is not an address like 127.0.0.1:7400: {e}",
                        a.listen
                    ))
                })?;
                let token = match a.token_file {
                    None => None,
                    Some(f) => {
                        let path = resolve(base, f);
                        let text = read_small_file(&path, MAX_KEY_FILE_BYTES)
                            .map_err(|e| invalid(format!("api.token_file: {e}")))?;
                        let token = text.trim().to_string();
                        if token.len() < 16 || token.chars().any(|c| !c.is_ascii_graphic()) {
                            return Err(invalid(format!(
                                "api.token_file: {} must hold one token of at least 16 printable characters",
                                path.display()
                            )));
                        }
                        Some(token)
                    }
                };
                Some(ApiConfig {
                    listen,
                    token,
                    limits,
                })
            }
        };
        let coordinator = match raw.coordinator {
            None => CoordinatorConfig::Embedded,
            Some(c) => validate_coordinator(c, base)?,
        };
        Ok(Config {
            coordinator,
            data_dir,
            batch_max: r.batch_max,
            max_attempts: r.max_attempts,
            backoff: duration("relayer.backoff", &r.backoff)?,
            clear_interval: duration("relayer.clear_interval", &r.clear_interval)?,
            stall: validate_stall(r.stall_park.as_deref())?,
            trust,
            api,
            chains,
            paths,
        })
    }
}

/// `[api]`'s server limits over [`crate::api::SERVER_LIMITS`].
fn api_limits(a: &RawApi) -> Result<ServerLimits, ConfigError> {
    let mut limits = crate::api::SERVER_LIMITS;
    for (key, value, slot) in [
        (
            "api.header_read_timeout",
            &a.header_read_timeout,
            &mut limits.header_read,
        ),
        (
            "api.body_read_timeout",
            &a.body_read_timeout,
            &mut limits.body_read,
        ),
        ("api.idle_timeout", &a.idle_timeout, &mut limits.idle),
        (
            "api.shutdown_timeout",
            &a.shutdown_timeout,
            &mut limits.shutdown,
        ),
    ] {
        if let Some(v) = value {
            let d = duration(key, v)?;
            if d.is_zero() {
                return Err(invalid(format!("{key}: must be more than 0s")));
            }
            *slot = d;
        }
    }
    match a.per_client_requests {
        Some(0) => return Err(invalid("api.per_client_requests: must be at least 1")),
        Some(n) => limits.per_client = n,
        None => {}
    }
    if let Some(n) = a.rate_limit_per_second {
        limits.rate.per_second = n;
    }
    match a.rate_limit_burst {
        Some(0) => return Err(invalid("api.rate_limit_burst: must be at least 1")),
        Some(n) => limits.rate.burst = n,
        None => {}
    }
    if let Some(b) = a.rate_limit_loopback {
        limits.rate.loopback = b;
    }
    Ok(limits)
}

/// A chain's RPC policy: its preset, with the values the file gives.
fn rpc_policy(p: RawRpc, key: &dyn Fn(&str) -> String) -> Result<RpcPolicy, ConfigError> {
    let mut policy = match p.preset.as_deref() {
        None | Some("production") => RpcPolicy::PRODUCTION,
        Some("devnet") => RpcPolicy::DEVNET,
        Some(other) => {
            return Err(invalid(format!(
                "{}: {other:?} is not a preset (production or devnet)",
                key("rpc.preset")
            )))
        }
    };
    if let Some(t) = p.timeout {
        policy.timeout = duration(&key("rpc.timeout"), &t)?;
    }
    if let Some(r) = p.retries {
        policy.retries = r;
    }
    if let Some(b) = p.backoff {
        policy.backoff = duration(&key("rpc.backoff"), &b)?;
    }
    if let Some(b) = p.max_backoff {
        policy.max_backoff = duration(&key("rpc.max_backoff"), &b)?;
    }
    if let Some(c) = p.concurrency {
        policy.concurrency = c;
    }
    if let Some(r) = p.rate_per_sec {
        policy.rate_per_sec = r;
    }
    Ok(policy)
}

fn validate_coordinator(c: RawCoordinator, base: &Path) -> Result<CoordinatorConfig, ConfigError> {
    let redis_only = [
        ("url", c.url.is_some()),
        ("instance", c.instance.is_some()),
        ("lease", c.lease.is_some()),
        ("namespace", c.namespace.is_some()),
        ("registered_keys", c.registered_keys.is_some()),
    ];
    match c.backend.as_str() {
        "embedded" => match redis_only.iter().find(|(_, set)| *set) {
            Some((key, _)) => Err(invalid(format!(
                "coordinator.{key}: only for backend = \"redis\""
            ))),
            None => Ok(CoordinatorConfig::Embedded),
        },
        "redis" => {
            let url = c.url.ok_or_else(|| {
                invalid("coordinator.url: backend = \"redis\" needs url = \"redis://[:password@]host:port\"")
            })?;
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(invalid(format!(
                    "coordinator.url: {:?} is not a redis:// or rediss:// URL",
                    redact(&url)
                )));
            }
            redis::Client::open(url.as_str())
                .map_err(|e| invalid(format!("coordinator.url: {:?}: {e}", redact(&url))))?;
            let instance = c.instance.ok_or_else(|| {
                invalid("coordinator.instance: each member of a fleet needs its own name")
            })?;
            if instance.is_empty()
                || instance.len() > 64
                || !instance
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            {
                return Err(invalid(format!(
                    "coordinator.instance: {instance:?} must be 1 to 64 letters, digits, '-', '_' or '.'"
                )));
            }
            let lease = duration("coordinator.lease", c.lease.as_deref().unwrap_or("10s"))?;
            if lease < Duration::from_millis(300) || lease > Duration::from_secs(600) {
                return Err(invalid("coordinator.lease: must be 300ms to 10m"));
            }
            let namespace = c.namespace.unwrap_or_else(|| "portrelay".to_string());
            if namespace.is_empty() || namespace.contains(char::is_whitespace) {
                return Err(invalid(
                    "coordinator.namespace: must be a non-empty word without spaces",
                ));
            }
            Ok(CoordinatorConfig::Redis(RedisConfig {
                url,
                instance,
                lease,
                namespace,
                registered_keys: c.registered_keys.map(|d| resolve(base, d)),
            }))
        }
        other => Err(invalid(format!(
            "coordinator.backend: unknown backend {other:?} (embedded or redis)"
        ))),
    }
}

fn resolve(base: &Path, path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

fn validate_paths(
    raw: Vec<RawPath>,
    chains: &[ChainEntry],
    default_batch: usize,
) -> Result<Paths, ConfigError> {
    let mut out: Vec<PathPolicy> = Vec::new();
    for (i, p) in raw.into_iter().enumerate() {
        let key = |k: &str| format!("paths[{i}].{k}");
        let chain = |k: &str, v: &str| -> Result<(ChainId, &ChainEntry), ConfigError> {
            let id = ChainId::new(v).map_err(|e| invalid(format!("{}: {e}", key(k))))?;
            let entry = chains
                .iter()
                .find(|c| c.adapter.chain().chain_id == id)
                .ok_or_else(|| invalid(format!("{}: {id} is not one of the [[chains]]", key(k))))?;
            Ok((id, entry))
        };
        let (source, src) = chain("source", &p.source)?;
        let (destination, dst) = chain("destination", &p.destination)?;
        if source == destination {
            return Err(invalid(format!(
                "{}: a path needs two different chains",
                key("destination")
            )));
        }
        let mut apps = Vec::new();
        for a in &p.apps {
            let app = a
                .parse::<App>()
                .map_err(|e| invalid(format!("{}: {e}", key("apps"))))?;
            for (end, entry) in [("source", src), ("destination", dst)] {
                if !entry.adapter.chain().apps.contains(&app) {
                    return Err(invalid(format!(
                        "{}: {app} is not among the apps of the {end} chain {}",
                        key("apps"),
                        entry.adapter.chain().chain_id
                    )));
                }
            }
            apps.push(app);
        }
        let batch_max = p.batch_max.unwrap_or(default_batch);
        if batch_max == 0 || batch_max > 10_000 {
            return Err(invalid(format!("{}: must be 1 to 10000", key("batch_max"))));
        }
        if out
            .iter()
            .any(|q| q.source == source && q.destination == destination)
        {
            return Err(invalid(format!(
                "{}: the path {source} -> {destination} appears twice",
                key("source")
            )));
        }
        out.push(PathPolicy {
            source,
            destination,
            apps,
            batch_max,
        });
    }
    Ok(Paths(out))
}

/// Applies `PORTRELAY_SECTION__KEY` and `PORTRELAY_CHAINS__<ID>__KEY` variables.
fn apply_overrides(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("PORTRELAY_") else {
            continue;
        };
        let parts: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        let parsed = parse_value(&value);
        match parts.as_slice() {
            [chains, id, key] if chains == "chains" => {
                let list = table.get_mut("chains").and_then(toml::Value::as_array_mut).ok_or_else(|| invalid(format!("{name}: the file has no [[chains]]")))?;
                let entry = list
                    .iter_mut()
                    .filter_map(toml::Value::as_table_mut)
                    .find(|t| t.get("chain_id").and_then(toml::Value::as_str).map(|c| c.replace(['-', '.'], "_")) == Some(id.clone()))
                    .ok_or_else(|| invalid(format!("{name}: no chain with id {id}")))?;
                let v = if key == "endpoints" || key == "apps" {
                    toml::Value::Array(value.split(',').map(|s| toml::Value::String(s.trim().to_string())).collect())
                } else {
                    parsed
                };
                entry.insert(key.clone(), v);
            }
            [section, key] => {
                let t = table
                    .entry(section.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                    .as_table_mut()
                    .ok_or_else(|| invalid(format!("{name}: [{section}] is not a table")))?;
                t.insert(key.clone(), parsed);
            }
            _ => return Err(invalid(format!("{name}: expected PORTRELAY_<SECTION>__<KEY> or PORTRELAY_CHAINS__<CHAIN_ID>__<KEY>"))),
        }
    }
    Ok(())
}

fn parse_value(s: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {s}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(s.to_string())),
        Err(_) => toml::Value::String(s.to_string()),
    }
}

/// The largest key file read: 64 hex digits and whitespace fit many times over.
pub const MAX_KEY_FILE_BYTES: u64 = 4096;
/// The largest configuration file read.
pub const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a small text file that a configuration or a request names:
/// refused unless it is a regular file (a named pipe would block the read
/// for as long as no one writes to it, a device such as `/dev/zero` never
/// ends) of at most `cap` bytes. Blocking: async callers run it on the
/// blocking pool.
pub fn read_small_file(path: &Path, cap: u64) -> Result<String, ConfigError> {
    use std::io::Read;
    let refuse = |reason: String| ConfigError::Read {
        path: path.into(),
        reason,
    };
    // `metadata` does not open the file, so a named pipe is refused before
    // anything waits on it.
    let regular = |m: &std::fs::Metadata| -> Result<(), ConfigError> {
        if !m.is_file() {
            return Err(refuse(format!(
                "not a regular file ({})",
                file_kind(&m.file_type())
            )));
        }
        if m.len() > cap {
            return Err(refuse(format!(
                "{} bytes, more than the {cap} a key or configuration file may hold",
                m.len()
            )));
        }
        Ok(())
    };
    regular(&std::fs::metadata(path).map_err(|e| refuse(e.to_string()))?)?;
    let file = std::fs::File::open(path).map_err(|e| refuse(e.to_string()))?;
    // Checked again on what was opened, in case the path changed meanwhile.
    regular(&file.metadata().map_err(|e| refuse(e.to_string()))?)?;
    let mut text = String::new();
    file.take(cap + 1)
        .read_to_string(&mut text)
        .map_err(|e| refuse(e.to_string()))?;
    if text.len() as u64 > cap {
        return Err(refuse(format!("more than {cap} bytes")));
    }
    Ok(text)
}

fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// Reads an Ed25519 key file (64 hex digits); see [`read_small_file`].
pub fn read_key(path: &Path) -> Result<ed25519_consensus::SigningKey, ConfigError> {
    let text = read_small_file(path, MAX_KEY_FILE_BYTES)?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .map_err(|e| invalid(format!("{}: not 64 hex digits: {e}", path.display())))?;
    Ok(ed25519_consensus::SigningKey::from(seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[relayer]
data_dir = "data"
batch_max = 200
max_attempts = 5
backoff = "100ms"
clear_interval = "30s"

[trust]
trusting_period = "14d"
clock_drift = "10s"
trust_threshold = "1/3"

[[chains]]
family = "cosco"
chain_id = "cosco-1"
endpoints = ["http://127.0.0.1:26601"]
apps = ["cargo", "payment", "ebl"]
key_file = "keys/cosco-1.key"

[[chains]]
family = "cmport"
chain_id = "cmport-1"
endpoints = ["http://127.0.0.1:26602", "http://127.0.0.1:26612"]
apps = ["cargo"]
key_file = "keys/cmport-1.key"
[chains.rpc]
timeout = "2s"
retries = 2
backoff = "50ms"
max_backoff = "1s"
concurrency = 16
rate_per_sec = 500
"#;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portrelay.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(
            &path,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn a_good_file_loads() {
        let c = load(GOOD, &[]).unwrap();
        assert_eq!(c.chains.len(), 2);
        assert_eq!(c.chains[1].adapter.chain().rpc.concurrency, 16);
        assert_eq!(c.trust.clock_drift, Duration::from_secs(10));
        assert!(c.data_dir.ends_with("data"));
    }

    #[test]
    fn the_annotated_example_is_valid() {
        let c = load(include_str!("../../deploy/portrelay.example.toml"), &[]).unwrap();
        assert_eq!(c.chains.len(), 3);
        assert_eq!(c.chains[0].adapter.chain().endpoints.len(), 2);
        assert_eq!(c.paths.0.len(), 3);
        assert_eq!(c.paths.0[0].batch_max, 500);
        assert_eq!(c.paths.0[2].apps, vec![App::Cargo]);
        assert!(c.api.is_some_and(|a| a.token.is_none()));
    }

    #[test]
    fn the_coordinator_is_embedded_unless_redis_is_configured() {
        let c = load(GOOD, &[]).unwrap();
        assert_eq!(c.coordinator, CoordinatorConfig::Embedded);
        let redis = "[coordinator]\nbackend = \"redis\"\nurl = \"redis://:s3cret@127.0.0.1:6390/2\"\ninstance = \"a-1\"\n";
        let c = load(&format!("{GOOD}\n{redis}"), &[]).unwrap();
        let CoordinatorConfig::Redis(r) = &c.coordinator else {
            panic!("redis expected");
        };
        assert_eq!(r.lease, Duration::from_secs(10));
        assert_eq!(r.namespace, "portrelay");
        assert!(
            !format!("{r:?}").contains("s3cret"),
            "the password stays out of logs"
        );
        // The instance name and the URL come from the environment in a fleet.
        let c = load(
            &format!("{GOOD}\n{redis}"),
            &[
                ("PORTRELAY_COORDINATOR__INSTANCE", "b-2"),
                (
                    "PORTRELAY_COORDINATOR__URL",
                    "rediss://:pw@redis.example:6380",
                ),
            ],
        )
        .unwrap();
        let CoordinatorConfig::Redis(r) = &c.coordinator else {
            panic!("redis expected");
        };
        assert_eq!(
            (r.instance.as_str(), r.url.as_str()),
            ("b-2", "rediss://:pw@redis.example:6380")
        );
        let cases = [
            ("[coordinator]\nbackend = \"etcd\"\n", "coordinator.backend: unknown backend \"etcd\""),
            ("[coordinator]\nbackend = \"redis\"\ninstance = \"a\"\n", "coordinator.url: backend = \"redis\" needs url"),
            ("[coordinator]\nbackend = \"redis\"\nurl = \"http://x:1\"\ninstance = \"a\"\n", "coordinator.url: \"http://x:1\" is not a redis:// or rediss:// URL"),
            ("[coordinator]\nbackend = \"redis\"\nurl = \"redis://x:1\"\n", "coordinator.instance: each member of a fleet needs its own name"),
            ("[coordinator]\nbackend = \"redis\"\nurl = \"redis://x:1\"\ninstance = \"a b\"\n", "coordinator.instance: \"a b\" must be"),
            ("[coordinator]\nbackend = \"redis\"\nurl = \"redis://x:1\"\ninstance = \"a\"\nlease = \"10ms\"\n", "coordinator.lease: must be 300ms to 10m"),
            ("[coordinator]\nbackend = \"embedded\"\nurl = \"redis://x:1\"\n", "coordinator.url: only for backend = \"redis\""),
        ];
        for (extra, message) in cases {
            let err = load(&format!("{GOOD}\n{extra}"), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{message}: {err}");
        }
    }

    #[test]
    fn the_compose_fleet_file_is_valid() {
        // The token file is in the member's keys volume, absent here.
        let text = include_str!("../../deploy/compose/fleet.toml")
            .replace("token_file = \"/etc/portrelay/keys/api.token\"\n", "");
        let c = load(&text, &[]).unwrap();
        let CoordinatorConfig::Redis(r) = &c.coordinator else {
            panic!("a fleet file");
        };
        assert_eq!(r.url, "redis://redis:6379/0");
        assert_eq!(c.chains.len(), 3);
    }

    #[test]
    fn the_api_server_limits_have_defaults_and_are_checked_by_key() {
        let with = |api: &str| format!("{GOOD}\n[api]\nlisten = \"127.0.0.1:7400\"\n{api}");
        let c = load(&with(""), &[]).unwrap();
        assert_eq!(c.api.unwrap().limits, crate::api::SERVER_LIMITS);
        let c = load(
            &with("header_read_timeout = \"2s\"\nbody_read_timeout = \"3s\"\nidle_timeout = \"4s\"\nshutdown_timeout = \"5s\"\nper_client_requests = 6\n"),
            &[],
        )
        .unwrap();
        let l = c.api.unwrap().limits;
        assert_eq!(
            (l.header_read, l.body_read, l.idle, l.shutdown, l.per_client),
            (
                Duration::from_secs(2),
                Duration::from_secs(3),
                Duration::from_secs(4),
                Duration::from_secs(5),
                6
            )
        );
        for (api, message) in [
            (
                "header_read_timeout = \"0s\"\n",
                "api.header_read_timeout: must be more than 0s",
            ),
            (
                "shutdown_timeout = \"soon\"\n",
                "api.shutdown_timeout: \"soon\" is not a duration",
            ),
            (
                "per_client_requests = 0\n",
                "api.per_client_requests: must be at least 1",
            ),
            (
                "header_timeout = \"2s\"\n",
                "unknown field `header_timeout`",
            ),
            (
                "rate_limit_burst = 0\n",
                "api.rate_limit_burst: must be at least 1",
            ),
            ("rate_limit_per_second = -1\n", "rate_limit_per_second"),
        ] {
            let err = load(&with(api), &[]).unwrap_err().to_string();
            assert!(err.contains(message), "{message}: {err}");
        }
        let c = load(
            &with("rate_limit_per_second = 5\nrate_limit_burst = 7\nrate_limit_loopback = true\n"),
            &[],
        )
        .unwrap();
        assert_eq!(
            c.api.unwrap().limits.rate,
            adapters::server::RateLimit {
                per_second: 5,
                burst: 7,
                loopback: true
            }
        );
    }

    /// Every table refuses a key it does not know, naming it (a misspelt
    /// key is not silently dropped).
    #[test]
    fn a_misspelt_key_in_any_table_is_refused_by_name() {
        let with_api = format!("{GOOD}\n[api]\nlisten = \"127.0.0.1:7400\"\n");
        for (text, key) in [
            (format!("relayr = 1\n{GOOD}"), "relayr"),
            (GOOD.replace("batch_max", "batchmax"), "batchmax"),
            (
                GOOD.replace("trust_threshold", "trust_treshold"),
                "trust_treshold",
            ),
            (
                GOOD.replace("key_file = \"keys/cmport-1.key\"", "keyfile = \"k\""),
                "keyfile",
            ),
            (GOOD.replace("max_backoff", "max_back_off"), "max_back_off"),
            (
                format!("{with_api}rate_limit_per_sec = 5\n"),
                "rate_limit_per_sec",
            ),
            (
                format!("{GOOD}\n[coordinator]\nbackend = \"embedded\"\nleese = \"1s\"\n"),
                "leese",
            ),
        ] {
            let err = load(&text, &[]).unwrap_err().to_string();
            assert!(
                err.contains(&format!("unknown field `{key}`")),
                "{key}: {err}"
            );
        }
    }

    #[test]
    fn key_files_that_are_not_small_regular_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.key");
        std::fs::write(&good, format!("{}\n", "01".repeat(32))).unwrap();
        read_key(&good).unwrap();
        let pipe = dir.path().join("pipe.key");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo");
        // A named pipe with no writer would block an open for ever.
        let err = read_key(&pipe).unwrap_err().to_string();
        assert!(err.contains("not a regular file (a named pipe)"), "{err}");
        let err = read_key(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(err.contains("not a regular file (a device)"), "{err}");
        let err = read_key(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a regular file (a directory)"), "{err}");
        // A large (sparse) file is refused by its size, not read.
        let big = dir.path().join("big.key");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(1 << 40)
            .unwrap();
        let err = read_key(&big).unwrap_err().to_string();
        assert!(err.contains("more than the 4096"), "{err}");
        let err = read_key(&dir.path().join("missing.key"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read"), "{err}");
    }

    #[test]
    fn api_paths_and_pins_are_checked_by_key() {
        let with = |extra: &str| format!("{GOOD}\n{extra}");
        let path = |apps: &str| {
            format!(
                "[[paths]]\nsource = \"cosco-1\"\ndestination = \"cmport-1\"\napps = [{apps}]\n"
            )
        };
        let ok = load(&with(&path("\"cargo\"")), &[]).unwrap();
        assert_eq!(
            ok.paths.0[0].batch_max, 200,
            "the relayer's batch_max by default"
        );
        let cases = [
            (
                path("\"payment\""),
                "paths[0].apps: payment is not among the apps of the destination chain cmport-1",
            ),
            (
                path("\"cargo\"").replace("cmport-1", "gba-9"),
                "paths[0].destination: gba-9 is not one of the [[chains]]",
            ),
            (
                format!("{}{}", path("\"cargo\""), path("\"cargo\"")),
                "paths[1].source: the path cosco-1 -> cmport-1 appears twice",
            ),
            ("[api]\nlisten = \"localhost\"\n".to_string(), "api.listen"),
            (
                "[api]\nlisten = \"127.0.0.1:7400\"\ntoken_file = \"missing.token\"\n".to_string(),
                "api.token_file",
            ),
        ];
        for (extra, message) in cases {
            let err = load(&with(&extra), &[]).unwrap_err().to_string();
            assert!(err.contains(message), "{message}: {err}");
        }
        let pinned = GOOD.replace(
            "key_file = \"keys/cosco-1.key\"",
            "key_file = \"keys/cosco-1.key\"\ntrust_height = 7",
        );
        let err = load(&pinned, &[]).unwrap_err().to_string();
        assert!(
            err.contains("chains[0].trust_hash: trust_height needs trust_hash"),
            "{err}"
        );
        let hash = "ab".repeat(32);
        let pinned = GOOD.replace(
            "key_file = \"keys/cosco-1.key\"",
            &format!("key_file = \"keys/cosco-1.key\"\ntrust_height = 7\ntrust_hash = \"{hash}\""),
        );
        let c = load(&pinned, &[]).unwrap();
        assert_eq!(c.chains[0].pin.map(|(h, _)| h), Some(7));
    }

    #[test]
    fn environment_overrides_win() {
        let c = load(
            GOOD,
            &[
                ("PORTRELAY_RELAYER__BATCH_MAX", "50"),
                (
                    "PORTRELAY_CHAINS__COSCO_1__ENDPOINTS",
                    "http://127.0.0.1:1,http://127.0.0.1:2",
                ),
                ("HOME", "/x"),
            ],
        )
        .unwrap();
        assert_eq!(c.batch_max, 50);
        assert_eq!(c.chains[0].adapter.chain().endpoints.len(), 2);
    }

    #[test]
    fn rpc_policy_is_production_unless_the_file_says_which() {
        let config = load(GOOD, &[]).unwrap();
        assert_eq!(config.chains[0].adapter.chain().rpc, RpcPolicy::PRODUCTION);
        let text = GOOD.replacen(
            "family = \"cosco\"",
            "family = \"cosco\"\nrpc = { preset = \"devnet\", timeout = \"1s\" }",
            1,
        );
        let config = load(&text, &[]).unwrap();
        let rpc = config.chains[0].adapter.chain().rpc;
        assert_eq!(
            rpc,
            RpcPolicy {
                timeout: Duration::from_secs(1),
                ..RpcPolicy::DEVNET
            }
        );
        let text = GOOD.replacen(
            "family = \"cosco\"",
            "family = \"cosco\"\nrpc = { preset = \"fast\" }",
            1,
        );
        let err = load(&text, &[]).unwrap_err().to_string();
        assert!(err.contains("chains[0].rpc.preset"), "{err}");
    }

    #[test]
    fn the_engine_is_embedded_unless_a_gba_chain_says_cometbft() {
        use light_clients::any::FamilyName;
        let config = load(GOOD, &[]).unwrap();
        assert!(config
            .chains
            .iter()
            .all(|c| c.adapter.chain().engine == Engine::Embedded));
        let gba = GOOD
            .replacen("family = \"cosco\"", "family = \"gba\"", 1)
            .replacen(
                "chain_id = \"cosco-1\"",
                "chain_id = \"gba-1\"\nengine = \"cometbft\"",
                1,
            );
        let config = load(&gba, &[]).unwrap();
        assert_eq!(config.chains[0].adapter.family(), FamilyName::Gba);
        assert_eq!(config.chains[0].adapter.chain().engine, Engine::Cometbft);
        assert_eq!(config.chains[1].adapter.chain().engine, Engine::Embedded);
        // CometBFT runs only gba chains; an unknown engine is refused by key.
        let cosco = GOOD.replacen(
            "chain_id = \"cosco-1\"",
            "chain_id = \"cosco-1\"\nengine = \"cometbft\"",
            1,
        );
        let err = load(&cosco, &[]).unwrap_err().to_string();
        assert!(
            err.contains("cosco-1.engine: cometbft does not run cosco"),
            "{err}"
        );
        let unknown = gba.replacen("engine = \"cometbft\"", "engine = \"tendermint\"", 1);
        let err = load(&unknown, &[]).unwrap_err().to_string();
        assert!(
            err.contains("chains[0].engine: unknown engine \"tendermint\""),
            "{err}"
        );
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                GOOD.replace("batch_max = 200", "batch_max = 0"),
                "relayer.batch_max",
            ),
            (GOOD.replace("\"1/3\"", "\"1/4\""), "trust.trust_threshold"),
            (
                GOOD.replace("clock_drift = \"10s\"", "clock_drift = \"soon\""),
                "trust.clock_drift",
            ),
            (
                GOOD.replace("family = \"cosco\"", "family = \"fabric\""),
                "chains[0].family",
            ),
            (
                GOOD.replace("\"cargo\", \"payment\", \"ebl\"", "\"cargo\", \"fish\""),
                "chains[0].apps",
            ),
            (
                GOOD.replace("http://127.0.0.1:26601", "ftp://x"),
                "endpoints[0]",
            ),
            (
                GOOD.replace("chain_id = \"cmport-1\"", "chain_id = \"cosco-1\""),
                "cosco-1 appears twice",
            ),
            (
                GOOD.replace("max_attempts = 5", "max_attempts = 5\ncolour = 1"),
                "colour",
            ),
        ];
        for (text, key) in cases {
            let err = load(&text, &[]).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
        let err = load(GOOD, &[("PORTRELAY_CHAINS__NOPE__ENDPOINTS", "http://x:1")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("PORTRELAY_CHAINS__NOPE__ENDPOINTS"), "{err}");
        let err = load(GOOD, &[("PORTRELAY_RELAYER__BATCH_MAX", "lots")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("batch_max"), "{err}");
    }
}
