//! `portrelay receipt`: trade receipts anyone can verify offline
//! (`docs/receipts.md`).
//!
//! `export` reads one committed fact from a ledger's RPC (a packet it sent,
//! or its receipt of a packet relayed to it), its Merkle proof, and the
//! headers a light client needs from the verifier's trust root up to the
//! header committing the proof (skipping, bisecting where a skip lacks the
//! trust threshold), checks the result with the verifier's own code, and
//! writes the bundle. `verify` checks a bundle against a trust root with
//! `light_clients::receipt::verify`, with no network, and prints `VALID`
//! with what it proves or `INVALID: <check>: <reason>`. `trust-root` writes a
//! ledger's header at a height as a trust root file (to compare with the
//! hash its operator publishes before relying on it).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use adapters::chain::{AdapterConfig, AdapterError, ChainAdapter, ChainConfig, RpcPolicy};
use adapters::http::HttpAdapter;
use adapters::wire::{BlockEvents, ProvenEvent};
use anyhow::{anyhow, bail, Context};
use light_clients::any::{AnyClient, AnyHeader, AnyTrustRoot, FamilyName};
use light_clients::host::BlockEvent;
use light_clients::receipt::{self, Fact, InclusionProof, Location, Proven, Receipt};
use light_clients::{App, ChainId, ChannelId, PacketId, Timestamp, TrustOptions, UpdateOutcome};

use super::fail;
use super::light_client::{time_arg, HumanDuration};

/// Exit code of `verify` for a receipt that is not valid (as `light-client verify`).
pub const INVALID: u8 = 11;

/// How long `export` waits for a fact to become provable (a packet in the
/// block being built; a gba block whose next header is not sealed yet).
const PROVABLE_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// How long a verified header may be trusted.
    #[arg(long, default_value = "14d")]
    pub trusting_period: HumanDuration,
    #[arg(long, default_value = "10s")]
    pub clock_drift: HumanDuration,
    /// The part of a trusted set that must sign a skipping header.
    #[arg(long, default_value = "1/3")]
    pub trust_threshold: light_clients::Fraction,
}

impl TrustArgs {
    fn options(&self) -> TrustOptions {
        TrustOptions {
            trusting_period: self.trusting_period.0,
            clock_drift: self.clock_drift.0,
            trust_threshold: self.trust_threshold,
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum ReceiptCommand {
    /// Write a receipt of one fact a ledger committed: a packet it sent, or
    /// (when the ledger is the packet's destination) its receipt of it.
    Export {
        /// The RPC endpoint of the ledger that committed the fact (its
        /// chain is the trust root's).
        #[arg(long)]
        ledger: String,
        /// The packet: `SOURCE/DESTINATION/APP/SEQUENCE` or
        /// `SOURCE->DESTINATION/APP#SEQUENCE` (as traces print it).
        #[arg(long)]
        packet: String,
        /// For a receipt of a relayed packet: the source ledger's RPC
        /// endpoint, which the packet's content is read from.
        #[arg(long)]
        source_ledger: Option<String>,
        /// The trust root the verifier holds (a header of the ledger with its
        /// validator sets: `receipt trust-root` writes one).
        #[arg(long)]
        trust_root: PathBuf,
        /// The receipt file to write.
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Check a receipt offline against a trust root: prints VALID with what
    /// it proves and exits 0, or INVALID: <check>: <reason> and exits 11;
    /// exits 2 when a file cannot be read.
    Verify {
        /// The receipt file.
        bundle: PathBuf,
        #[arg(long)]
        trust_root: PathBuf,
        /// The verifier's time (RFC 3339); default the system clock.
        #[arg(long)]
        now: Option<String>,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Write a ledger's header at a height, with its validator sets, as a
    /// trust root file; prints its hash, to compare with the one the
    /// ledger's operator publishes.
    TrustRoot {
        #[arg(long)]
        ledger: String,
        #[arg(long)]
        height: u64,
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
    },
}

/// Parses `SOURCE/DESTINATION/APP/SEQUENCE` or `SOURCE->DESTINATION/APP#SEQUENCE`.
pub fn parse_packet_id(s: &str) -> anyhow::Result<PacketId> {
    let parts: Vec<&str> = if let Some((source, rest)) = s.split_once("->") {
        let (destination, rest) = rest
            .split_once('/')
            .ok_or_else(|| anyhow!("--packet {s:?}: no /APP after the destination"))?;
        let (app, sequence) = rest
            .split_once('#')
            .ok_or_else(|| anyhow!("--packet {s:?}: no #SEQUENCE after the app"))?;
        vec![source, destination, app, sequence]
    } else {
        s.split('/').collect()
    };
    let [source, destination, app, sequence] = parts[..] else {
        bail!("--packet {s:?} is not SOURCE/DESTINATION/APP/SEQUENCE");
    };
    let chain = |c: &str| ChainId::new(c).map_err(|e| anyhow!("--packet {s:?}: {e}"));
    let sequence: u64 = sequence
        .parse()
        .map_err(|e| anyhow!("--packet {s:?}: sequence {sequence:?}: {e}"))?;
    if sequence == 0 {
        bail!("--packet {s:?}: sequences start at 1");
    }
    Ok(PacketId {
        channel: ChannelId {
            source: chain(source)?,
            destination: chain(destination)?,
            app: app
                .parse::<App>()
                .map_err(|e| anyhow!("--packet {s:?}: {e}"))?,
        },
        sequence,
    })
}

/// A trust root file: `{"family": F, "value": {signed_header, next_validators, validators?}}`.
pub fn read_trust_root(path: &Path) -> anyhow::Result<AnyTrustRoot> {
    let bytes = read_file(path, "trust root")?;
    light_clients::json::from_slice(&bytes)
        .map_err(|e| anyhow!("{} is not a trust root file: {e}", path.display()))
}

fn read_file(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| anyhow!("cannot read the {what} {}: {e}", path.display()))?;
    if !meta.is_file() {
        bail!("the {what} {} is not a regular file", path.display());
    }
    if meta.len() > receipt::MAX_RECEIPT_BYTES as u64 {
        bail!(
            "the {what} {} is {} bytes, over the limit of {}",
            path.display(),
            meta.len(),
            receipt::MAX_RECEIPT_BYTES
        );
    }
    std::fs::read(path).map_err(|e| anyhow!("cannot read the {what} {}: {e}", path.display()))
}

/// Writes `bytes` to `path` whole or not at all (a temporary file renamed).
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} is not a file name", path.display()))?;
    let tmp = dir.join(format!(".{}.partial", name.to_string_lossy()));
    std::fs::write(&tmp, bytes).map_err(|e| anyhow!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow!("cannot write {}: {e}", path.display())
    })
}

fn adapter(endpoint: &str, family: FamilyName, chain: ChainId) -> anyhow::Result<HttpAdapter> {
    let config = ChainConfig {
        chain_id: chain,
        endpoints: vec![endpoint.to_string()],
        apps: App::ALL.to_vec(),
        trust_root: None,
        rpc: RpcPolicy::PRODUCTION,
        engine: adapters::chain::Engine::Embedded,
    };
    HttpAdapter::new(&AdapterConfig::new(family, config)).map_err(|e| anyhow!("{endpoint}: {e}"))
}

/// The adapter of a ledger whose family and chain are read from its status.
async fn probed(endpoint: &str) -> anyhow::Result<HttpAdapter> {
    let status = super::light_client_header::probe_status(endpoint).await?;
    adapter(endpoint, status.family, status.chain_id)
}

fn now_or_clock() -> anyhow::Result<Timestamp> {
    time_arg("now", None)
}

/// Whether an error means "not there yet, ask again shortly".
fn not_yet(e: &AdapterError) -> bool {
    matches!(e, AdapterError::Refused { code, .. }
        if code == "not_yet_provable" || code == "not_yet_sealed")
}

/// Calls `f` until it answers something other than "not yet", for up to [`PROVABLE_WAIT`].
async fn patiently<T, F, Fut>(what: &str, mut f: F) -> anyhow::Result<Result<T, AdapterError>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AdapterError>>,
{
    let deadline = Instant::now() + PROVABLE_WAIT;
    loop {
        match f().await {
            Err(e) if not_yet(&e) => {
                if Instant::now() >= deadline {
                    bail!("{what}: still not provable after {PROVABLE_WAIT:?}: {e}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return Ok(other),
        }
    }
}

/// The block of `ledger` that sent packet `id`, with the packet proven in it.
/// The ledger locates a packet still awaiting its ack itself; an
/// acknowledged one is found by its channel's `next_send` after each block
/// (which only grows), in a binary search over the proven block states.
async fn find_sent(
    ledger: &HttpAdapter,
    id: &PacketId,
) -> anyhow::Result<(BlockEvents, ProvenEvent)> {
    let chain = ledger.chain_id().clone();
    let located = patiently("packet location", || ledger.packet_location(id)).await?;
    let height = match located {
        Ok(found) => found.height,
        Err(AdapterError::NotFound { .. }) => {
            let channels = ledger.channels().await?;
            let Some(channel) = channels.iter().find(|c| c.id == id.channel) else {
                bail!(
                    "no receipt made: {chain} never sent packet {id}: it has no channel {}",
                    id.channel
                );
            };
            if channel.next_send <= id.sequence {
                bail!(
                    "no receipt made: {chain} never sent packet {id}: the channel's next sequence is {}",
                    channel.next_send
                );
            }
            sent_in(ledger, id).await?
        }
        Err(e) => return Err(e.into()),
    };
    let events = patiently("block events", || ledger.block_events(height)).await??;
    let event = events
        .events
        .iter()
        .find(|e| matches!(&e.event, BlockEvent::Packet { packet } if packet.id == *id))
        .cloned()
        .ok_or_else(|| {
            anyhow!(
                "{chain}: block {height} does not hold packet {id}, as the ledger said it would"
            )
        })?;
    Ok((events, event))
}

/// The first block after which the channel's `next_send` passes `id`'s sequence.
async fn sent_in(ledger: &HttpAdapter, id: &PacketId) -> anyhow::Result<u64> {
    let next_send = |height: u64| async move {
        let state = patiently("block state", || ledger.block_state(height)).await??;
        Ok::<u64, anyhow::Error>(
            state
                .channels
                .iter()
                .find(|c| c.state.channel == id.channel)
                .map_or(1, |c| c.state.next_send),
        )
    };
    let tip = ledger.status().await?.height;
    // A gba block is provable once the next is sealed; the sending block is sealed.
    let mut high = ledger.family().roots_height(tip).max(1);
    if next_send(high).await? <= id.sequence {
        // Only in the newest block: wait for it to be provable.
        high = tip;
        if next_send(high).await? <= id.sequence {
            bail!(
                "{}: no block up to {tip} sent packet {id}",
                ledger.chain_id()
            );
        }
    }
    let mut low = 0; // next_send(low) <= sequence (block 0: nothing sent)
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if next_send(mid).await? > id.sequence {
            high = mid;
        } else {
            low = mid;
        }
    }
    Ok(high)
}

/// The headers a light client needs from `root` to verify `targets` (in
/// ascending order): each verified by skipping from the highest verified
/// header, bisecting where a skip lacks the trust threshold.
async fn header_chain(
    ledger: &HttpAdapter,
    root: &AnyTrustRoot,
    options: &TrustOptions,
    now: Timestamp,
    targets: &[u64],
) -> anyhow::Result<Vec<AnyHeader>> {
    let mut client =
        AnyClient::create(root, *options).map_err(|e| anyhow!("trust root: {}: {e}", e.check()))?;
    let mut chain = Vec::new();
    let mut fetched = std::collections::BTreeMap::<u64, AnyHeader>::new();
    for &target in targets {
        let mut pending = vec![target];
        while let Some(&height) = pending.last() {
            let latest = client.latest_height();
            if height <= latest {
                pending.pop();
                continue;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = fetched.entry(height) {
                e.insert(ledger.header(height).await?);
            }
            let header = &fetched[&height];
            match client.update(header, now) {
                Ok(UpdateOutcome::Updated { .. }) => {
                    chain.push(header.clone());
                    pending.pop();
                }
                Ok(other) => bail!("header {height}: {other:?}"),
                Err(e) if e.check() == "trust_threshold" && height > latest + 1 => {
                    pending.push(latest + (height - latest) / 2);
                }
                Err(e) => bail!(
                    "header {height} does not verify from the trust root: {}: {e}",
                    e.check()
                ),
            }
        }
    }
    Ok(chain)
}

/// Reads the fact, its proof and its headers, and checks the receipt with
/// the verifier's code before returning it.
pub async fn export(
    ledger_url: &str,
    id: &PacketId,
    source_url: Option<&str>,
    root: &AnyTrustRoot,
    options: &TrustOptions,
    now: Timestamp,
) -> anyhow::Result<(Receipt, Proven)> {
    let family = root.family();
    let root_summary = root
        .summary()
        .map_err(|e| anyhow!("trust root: {}: {e}", e.check()))?;
    let chain =
        ChainId::new(root_summary.chain_id.as_str()).map_err(|e| anyhow!("trust root: {e}"))?;
    let ledger = adapter(ledger_url, family, chain.clone())?;
    ledger
        .status()
        .await
        .with_context(|| format!("{ledger_url} is not the trust root's {family} chain {chain}"))?;

    let (height, proven_event, fact) = if id.channel.source == chain {
        let (events, event) = find_sent(&ledger, id).await?;
        let BlockEvent::Packet { packet } = &event.event else {
            bail!("{chain}: not a packet");
        };
        let fact = Fact::Packet {
            packet: packet.clone(),
        };
        (events.height, event, fact)
    } else if id.channel.destination == chain {
        let located = patiently("receipt location", || ledger.receipt_location(id)).await?;
        let found = match located {
            Ok(found) => found,
            Err(AdapterError::NotFound { .. }) => bail!(
                "no receipt made: {chain} has no receipt of packet {id}: it was never received there"
            ),
            Err(e) => return Err(e.into()),
        };
        let events = patiently("block events", || ledger.block_events(found.height)).await??;
        let event = events
            .events
            .iter()
            .find(|e| matches!(&e.event, BlockEvent::Ack { ack } if ack.packet == *id))
            .cloned()
            .ok_or_else(|| {
                anyhow!(
                    "{chain}: block {} holds no ack of {id}, as the ledger said it would",
                    found.height
                )
            })?;
        let BlockEvent::Ack { ack } = &event.event else {
            bail!("{chain}: not an ack");
        };
        let Some(source_url) = source_url else {
            bail!(
                "{id} was relayed to {chain}: give --source-ledger (the RPC of {}) to read the packet it acknowledged",
                id.channel.source
            );
        };
        let source = probed(source_url).await?;
        if *source.chain_id() != id.channel.source {
            bail!(
                "--source-ledger {source_url} serves {}, not the packet's source {}",
                source.chain_id(),
                id.channel.source
            );
        }
        let (_, sent) = find_sent(&source, id).await?;
        let BlockEvent::Packet { packet } = sent.event else {
            bail!("{}: not a packet", id.channel.source);
        };
        if packet.commitment() != ack.packet_commitment {
            bail!(
                "{}'s packet {id} hashes to {}, but {chain} acknowledged {}",
                id.channel.source,
                packet.commitment(),
                ack.packet_commitment
            );
        }
        let fact = Fact::Receipt {
            packet,
            ack: ack.clone(),
        };
        (events.height, event, fact)
    } else {
        bail!("packet {id} is neither from nor to {chain}, the trust root's chain");
    };

    let proof_height = proven_event.proof.height;
    let headers = if root_summary.height > height {
        // Back from the root: every header down to the fact's block, by hash links.
        let count = root_summary.height - height;
        if count > receipt::MAX_HEADERS as u64 {
            bail!(
                "the trust root is {count} blocks above the fact's block {height}: more than the {} headers a receipt may carry; use a root nearer the fact",
                receipt::MAX_HEADERS
            );
        }
        let mut headers = Vec::with_capacity(count as usize);
        for h in height..root_summary.height {
            headers.push(ledger.header(h).await?);
        }
        headers
    } else {
        let mut targets = vec![height, proof_height];
        targets.retain(|h| *h > root_summary.height);
        targets.dedup();
        header_chain(&ledger, root, options, now, &targets).await?
    };
    let time = if height == root_summary.height {
        root_summary.time
    } else {
        headers
            .iter()
            .filter_map(|h| h.summary().ok())
            .find(|s| s.height == height)
            .map(|s| s.time)
            .ok_or_else(|| anyhow!("no header at block {height} in the chain"))?
    };
    let location = Location {
        chain_id: chain,
        height,
        leaf_index: proven_event.proof.proof.leaf_index,
    };
    let receipt = Receipt {
        format: receipt::RECEIPT_FORMAT.into(),
        version: receipt::RECEIPT_VERSION,
        family,
        statement: receipt::statement(family, &location, time, &fact),
        fact,
        location,
        proof: InclusionProof {
            proof_height,
            siblings: proven_event.proof.proof.siblings,
            opening: proven_event.proof.opening,
        },
        headers,
    };
    // What a verifier will do, before anything is written.
    let proven = receipt::verify(&receipt, root, options, now).map_err(|e| {
        anyhow!(
            "the ledger's answers do not make a valid receipt: {}: {e}",
            e.check()
        )
    })?;
    Ok((receipt, proven))
}

/// What the payload says, as far as this build reads port events.
pub fn describe_payload(packet: &light_clients::Packet) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    let Ok(value) = light_clients::json::from_slice::<serde_json::Value>(&packet.payload) else {
        lines.push((
            "payload".into(),
            format!(
                "{} bytes, not JSON (a commitment on a confidential path, or opaque)",
                packet.payload.len()
            ),
        ));
        return lines;
    };
    // eBL transfers travel in the platform's signed envelope.
    let event = value
        .get("event")
        .filter(|_| value.get("signature").is_some())
        .unwrap_or(&value);
    match adapters::events::validate_relayed(event) {
        Ok(e) => {
            lines.push(("event".into(), e.kind_label()));
            lines.push(("event id".into(), e.header().event_id.to_string()));
            if let Some(c) = e.container() {
                lines.push(("container".into(), c.to_string()));
            }
        }
        Err(r) => lines.push((
            "payload".into(),
            format!(
                "JSON, not a port event this build reads ({}: {})",
                r.rule, r.message
            ),
        )),
    }
    for key in [
        "equipmentReference",
        "transportDocumentReference",
        "documentID",
        "carrierBookingReference",
        "creditNumber",
        "invoiceNumber",
        "endToEndId",
    ] {
        if let Some(serde_json::Value::String(s)) = event.get(key) {
            lines.push((key.into(), s.clone()));
        }
    }
    lines
}

/// The lines `verify` prints under `VALID`.
pub fn render(proven: &Proven) -> String {
    let mut out = String::from("VALID\n");
    let mut line = |k: &str, v: String| out.push_str(&format!("{k}: {v}\n"));
    line("proves", proven.statement.clone());
    line("chain", format!("{} ({})", proven.chain_id, proven.family));
    line("block", proven.height.to_string());
    line("time", proven.time.to_rfc3339());
    line(
        "verified",
        if proven.trust_root_height > proven.height {
            format!(
                "back from the trust root at height {} through {} header(s) linked by hash",
                proven.trust_root_height, proven.headers_verified
            )
        } else {
            format!(
                "header {} from the trust root at height {} through {} header(s)",
                proven.proof_height, proven.trust_root_height, proven.headers_verified
            )
        },
    );
    let packet = proven.fact.packet();
    match &proven.fact {
        Fact::Packet { .. } => line(
            "fact",
            format!(
                "packet {} sent to {}",
                packet.id, packet.id.channel.destination
            ),
        ),
        Fact::Receipt { ack, .. } => line(
            "fact",
            format!(
                "receipt of packet {} from {}, acknowledged {}",
                packet.id,
                packet.id.channel.source,
                receipt::ack_word(&ack.result)
            ),
        ),
    }
    if let Fact::Receipt {
        ack:
            light_clients::Ack {
                result: light_clients::AckResult::Error(reason),
                ..
            },
        ..
    } = &proven.fact
    {
        line("refused", reason.clone());
    }
    for (k, v) in describe_payload(packet) {
        line(&k, v);
    }
    line(
        "payload",
        format!(
            "{} bytes, SHA-256 {}",
            packet.payload.len(),
            receipt::payload_digest(packet)
        ),
    );
    out
}

/// Verifies a bundle file: `Ok(Ok(proven))`, `Ok(Err(invalid))`, or `Err` when a file cannot be read.
pub fn verify_file(
    bundle: &Path,
    root: &Path,
    options: &TrustOptions,
    now: Timestamp,
) -> anyhow::Result<Result<Proven, receipt::ReceiptError>> {
    let root = read_trust_root(root)?;
    let bytes = read_file(bundle, "receipt")?;
    Ok(Receipt::from_json(&bytes).and_then(|r| receipt::verify(&r, &root, options, now)))
}

pub fn run(cmd: ReceiptCommand) -> ExitCode {
    match cmd {
        ReceiptCommand::Verify {
            bundle,
            trust_root,
            now,
            trust,
        } => {
            let now = match time_arg("now", now) {
                Ok(t) => t,
                Err(e) => return fail(&e.to_string()),
            };
            match verify_file(&bundle, &trust_root, &trust.options(), now) {
                Ok(Ok(proven)) => {
                    print!("{}", render(&proven));
                    ExitCode::SUCCESS
                }
                Ok(Err(e)) => {
                    println!("INVALID: {}: {e}", e.check());
                    ExitCode::from(INVALID)
                }
                Err(e) => fail(&e.to_string()),
            }
        }
        ReceiptCommand::Export {
            ledger,
            packet,
            source_ledger,
            trust_root,
            out,
            trust,
        } => {
            let prepared = parse_packet_id(&packet)
                .and_then(|id| Ok((id, read_trust_root(&trust_root)?, now_or_clock()?)));
            let (id, root, now) = match prepared {
                Ok(p) => p,
                Err(e) => return fail(&e.to_string()),
            };
            super::run_async(|_| async move {
                let (receipt, proven) = export(
                    &ledger,
                    &id,
                    source_ledger.as_deref(),
                    &root,
                    &trust.options(),
                    now,
                )
                .await?;
                write_whole(&out, &receipt.to_json())?;
                println!("wrote {}", out.display());
                println!("proves: {}", proven.statement);
                println!(
                    "headers: {} (from the trust root at height {} to header {})",
                    proven.headers_verified, proven.trust_root_height, proven.proof_height
                );
                Ok::<(), anyhow::Error>(())
            })
        }
        ReceiptCommand::TrustRoot {
            ledger,
            height,
            out,
        } => {
            super::run_async(|_| async move {
                let adapter = probed(&ledger).await?;
                adapter.status().await?;
                let header = adapter.header(height).await?;
                let summary = header
                    .checked_summary()
                    .map_err(|e| anyhow!("header {height}: {}: {e}", e.check()))?;
                let root = header.trust_root();
                let mut text = serde_json::to_vec_pretty(&root)?;
                text.push(b'\n');
                write_whole(&out, &text)?;
                println!("wrote {}", out.display());
                println!("chain: {} ({})", summary.chain_id, root.family());
                println!("height: {}", summary.height);
                println!("hash: {}", summary.hash);
                println!("time: {}", summary.time.to_rfc3339());
                println!("compare the hash with the one the ledger's operator publishes before trusting it");
                Ok::<(), anyhow::Error>(())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_ids_parse_in_both_forms_and_bad_ones_are_named() {
        let a = parse_packet_id("gba-1/cmport-1/cargo/3").unwrap();
        let b = parse_packet_id("gba-1->cmport-1/cargo#3").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "gba-1->cmport-1/cargo#3");
        for (bad, says) in [
            (
                "gba-1/cmport-1/cargo",
                "is not SOURCE/DESTINATION/APP/SEQUENCE",
            ),
            ("gba-1/cmport-1/cargo/0", "sequences start at 1"),
            ("gba-1/cmport-1/cargo/x", "sequence \"x\""),
            ("gba-1/cmport-1/boats/3", "unknown app"),
            ("GBA/cmport-1/cargo/3", "chain id"),
            ("gba-1->cmport-1/cargo", "no #SEQUENCE"),
        ] {
            let e = parse_packet_id(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
