//! The `portrelay` commands, one module each, and what they share: exit
//! codes, the runtime with Ctrl-C and SIGTERM wired to a cancellation token.
//!
//! - [`light_client`]: `light-client sample|verify`, over the `light-clients` crate;
//! - [`events`]: `events validate`, over `adapters::events`;
//! - [`start`]: `start --config`, the relayer daemon (`relayer::run`);
//! - [`devnet`]: `devnet`, three ledgers, the relay and a workload in one process;
//! - [`bench`], [`bench_fleet`] and [`bench_comet`]: `bench`, `bench --fleet`
//!   and `bench --gba-engine cometbft|both`;
//! - [`comet_net`]: `comet-net`, a gba network on CometBFT validators (also
//!   gba-1 of `devnet --gba-engine cometbft`);
//! - [`operator`]: `operator connect`, what each ledger's operator does first;
//! - [`ops`]: the client of a running relayer's API that [`status`],
//!   [`packets`], [`adapters`] and [`fleet`] use;
//! - [`light_client_header`]: `light-client header`, a running ledger's header to pin;
//! - [`keys`]: `keys show`, a key file's public key;
//! - [`zk`]: `zk setup|prove|verify|export|import|export-verifier`;
//! - [`customs`]: `customs warnings`, a ledger's customs warnings (`--follow`: live).

use std::process::ExitCode;

pub mod adapters;
pub mod bench;
pub mod bench_comet;
pub mod bench_fleet;
pub mod comet_net;
pub mod customs;
pub mod devnet;
pub mod devnet_customs;
pub mod events;
pub mod fleet;
pub mod keys;
pub mod light_client;
pub mod light_client_header;
pub mod operator;
pub mod ops;
pub mod packets;
pub mod receipt;
pub mod start;
pub mod status;
pub mod zk;

/// Wraps an error with what was being done: `.map_err(err("data dir"))?`.
pub(crate) fn err<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("{what}: {e}")
}

/// Exit code for input that cannot be read or arguments that make no sense.
pub const UNREADABLE: u8 = 2;

/// Runs `job` on a runtime, with Ctrl-C and SIGTERM cancelling it.
pub fn run_async<F, Fut, E>(job: F) -> ExitCode
where
    F: FnOnce(tokio_util::sync::CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tracing_subscriber::fmt()
        .with_env_filter(::devnet::log_filter("warn"))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let code = runtime.block_on(async {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            stop.cancel();
        });
        match job(shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e.to_string()),
        }
    });
    // A read stuck on the blocking pool must not hold the exit: every file
    // read is bounded, but the process leaves anyway.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

pub async fn wait_for_signal() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}

pub fn fail(reason: &str) -> ExitCode {
    eprintln!("error: {reason}");
    ExitCode::from(UNREADABLE)
}
