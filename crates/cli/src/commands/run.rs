//! `kestrel run`: the whole system in one process (issue 6): with no arguments, the simulator
//! venue on loopback, market data, execution (live against that venue), the default strategy
//! set, risk, the account monitor, and the HTTP API on 127.0.0.1:8080. SIGINT or SIGTERM stops
//! the strategies, cancels open orders when `execution.cancel_open_orders_on_shutdown`, flushes
//! the store and exits 0.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use axum::routing::get;
use clap::{Args, ValueEnum};
use kestrel_engine::system::describe;
use kestrel_engine::{SystemOptions, TradingSystem, Venue};
use kestrel_model::config::Config;
use kestrel_model::order::ExecutionMode;
use kestrel_venue::binance::signing::Credentials;

use super::config::{EXIT_INVALID_CONFIG, load_or_report};
use super::endpoints::Endpoints;
use super::exec_mode;
use super::http_auth;
use super::md::distribution::Distribution;
use crate::telemetry;

/// Options of `kestrel run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The venue: `sim` (the simulator in this process, the default), `binance`,
    /// `binance-testnet`, or a REST URL such as `http://127.0.0.1:8765`.
    #[arg(long, default_value = "sim", value_name = "VENUE")]
    venue: String,
    /// Address of the HTTP API (`/status`, `/health`, `/metrics`, `/api/v1/...`).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    http: SocketAddr,
    /// Execution mode (default: `execution.mode`).
    #[arg(long, value_enum, value_name = "MODE")]
    mode: Option<ModeArg>,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModeArg {
    /// Orders go to the venue.
    Live,
    /// Paper trading.
    Simulation,
    /// Signals are logged; no order is sent.
    Observation,
}

/// Runs the system until SIGINT or SIGTERM.
pub fn run(args: RunArgs, config_file: Option<&Path>) -> ExitCode {
    let Some(loaded) = load_or_report(config_file) else {
        return ExitCode::from(EXIT_INVALID_CONFIG);
    };
    if let Err(error) = telemetry::init_from_config(&loaded.config.log) {
        eprintln!("warning: {error:#}");
    }
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(serve(&args, loaded.config, config_file)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: &RunArgs, mut config: Config, config_file: Option<&Path>) -> Result<()> {
    let mode = match args.mode {
        Some(ModeArg::Live) => ExecutionMode::Live,
        Some(ModeArg::Simulation) => ExecutionMode::Simulation,
        Some(ModeArg::Observation) => ExecutionMode::Observation,
        None => config.execution.mode,
    };
    let (venue, paper) = venue(&args.venue, &mut config, mode).await?;
    let metrics = telemetry::install_metrics()?;
    let listener = tokio::net::TcpListener::bind(args.http)
        .await
        .with_context(|| format!("--http: cannot bind {}", args.http))?;
    let cancel_on_shutdown = config.execution.cancel_open_orders_on_shutdown;
    let dashboard = config.dashboard.clone();
    let (market_data, store) = (config.market_data.clone(), config.store.clone());
    let system = TradingSystem::start(SystemOptions {
        config,
        venue,
        mode,
        config_file: config_file.map(Path::to_path_buf),
    })
    .await?;
    let app = system
        .router()
        .route("/metrics", get(move || async move { metrics.render() }));
    let app = http_auth::guard(app, &dashboard);
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    // Market data to NATS and the store, as `kestrel md` sends it, read from the ring.
    let distribution = Distribution::start(
        &market_data,
        &store,
        system.feeds(),
        system.ring_path(),
        &stopped,
    )
    .await?;
    let http = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
    });
    let mut banner = describe(&system, args.http);
    if !distribution.summary.is_empty() {
        banner.push(format!(
            "  market data also to {}",
            distribution.summary.join(", ")
        ));
    }
    telemetry::banner(&banner);
    super::sim::shutdown_signal().await;
    let _ = stop.send(true);
    let _ = http.await;
    distribution.finish().await;
    system.shutdown(cancel_on_shutdown).await;
    if let Some(paper) = paper {
        paper.close().await;
    }
    Ok(())
}

/// `--venue`: the embedded simulator, or a remote venue with its credentials. Paper trading
/// (`mode` simulation) on a remote venue trades on a paper venue mirroring its market, with a
/// store of its own (`exec_mode`), returned to be closed at shutdown; on the embedded
/// simulator, every order is a paper order already.
async fn venue(
    flag: &str,
    config: &mut Config,
    mode: ExecutionMode,
) -> Result<(Venue, Option<exec_mode::Venue>)> {
    if flag == "sim" {
        return Ok((Venue::Embedded, None));
    }
    if mode == ExecutionMode::Simulation {
        exec_mode::configure(config, Some(mode));
        let paper = exec_mode::Venue::open(Some(flag), config).await?;
        let venue = remote(paper.endpoints.clone(), paper.credentials.clone());
        return Ok((venue, Some(paper)));
    }
    let endpoints = Endpoints::resolve(Some(flag), &config.venue)?;
    let credentials = super::exec::credentials(&config.venue, &endpoints).await?;
    Ok((remote(endpoints, credentials), None))
}

fn remote(endpoints: Endpoints, credentials: Credentials) -> Venue {
    Venue::Remote {
        rest: endpoints.rest,
        ws: endpoints.ws,
        ws_api: endpoints.ws_api,
        credentials,
    }
}
