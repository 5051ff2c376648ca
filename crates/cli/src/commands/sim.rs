//! `kestrel sim`: the exchange simulator as a standalone venue on loopback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use kestrel_sim::server::{self, ReplayPace, SimOptions};

use super::config::{EXIT_INVALID_CONFIG, load_or_report};
use crate::telemetry;

/// Options of `kestrel sim`; each overrides the `[sim]` section of the config.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address for REST and WebSocket (one port), e.g. 127.0.0.1:8765.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Seed of the synthetic market: the same seed and inputs give the same trades.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Symbols to list, comma-separated (e.g. BTCUSDT,ETHUSDT).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    symbols: Option<Vec<String>>,
    /// Serve a recording (`<ns> <json>` lines, gzip optional) instead of the generator.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// How fast to serve the recording: with its original spacing, or as fast as clients read.
    #[arg(long, value_enum, default_value_t = Pace::Original, requires = "replay")]
    replay_pace: Pace,
}

/// `--replay-pace` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Pace {
    /// The spacing the messages were received with.
    Original,
    /// As fast as clients read.
    Fast,
}

/// Runs the simulator until SIGINT or SIGTERM.
pub fn run(args: SimArgs, config_file: Option<&Path>) -> ExitCode {
    let Some(loaded) = load_or_report(config_file) else {
        return ExitCode::from(EXIT_INVALID_CONFIG);
    };
    if let Err(error) = telemetry::init_from_config(&loaded.config.log) {
        eprintln!("warning: {error:#}");
    }
    let mut sim = loaded.config.sim;
    sim.listen = args.listen.unwrap_or(sim.listen);
    sim.seed = args.seed.unwrap_or(sim.seed);
    if let Some(symbols) = args.symbols {
        sim.symbols = symbols
            .into_iter()
            .map(|s| s.trim().to_ascii_uppercase())
            .collect();
    }
    let (api_key, api_secret) = server::credentials_from_env(|name| std::env::var(name).ok());
    let replay_pace = match args.replay_pace {
        Pace::Original => ReplayPace::Original,
        Pace::Fast => ReplayPace::Fast,
    };
    let options = SimOptions {
        config: sim,
        api_key,
        api_secret,
        replay: args.replay,
        replay_pace,
    };
    match serve(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(options: SimOptions) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listen = options.config.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("sim.listen: cannot bind {listen}"))?;
        let api_key = options.api_key.clone();
        let running = server::start(options, listener).await?;
        let addr = running.local_addr();
        telemetry::banner(&[
            format!("kestrel sim listening on {addr}"),
            format!("  REST      http://{addr}/fapi/v1/..."),
            format!("  streams   ws://{addr}/ws  ws://{addr}/stream?streams=..."),
            format!("  trading   ws://{addr}/ws-fapi/v1"),
            format!("  control   http://{addr}/sim/v1/..."),
            format!("  api key   {api_key}"),
        ]);
        shutdown_signal().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        anyhow::Ok(())
    })
}

/// Resolves on SIGINT or SIGTERM.
pub(super) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
