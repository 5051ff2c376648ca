//! `kestrel md`: the market-data pipeline on its own (seed 002's market-data service): it
//! reads the venue's exchange info for tick sizes, keeps every symbol's book in sync from the
//! depth stream and REST snapshots, tracks trades, and serves `/health`,
//! `/api/v1/orderbook/{symbol}` and `/metrics` on `--http`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use kestrel_bus::decode;
use kestrel_bus::ring::{RingConfig, RingReader, RingWriter, default_ring_path};
use kestrel_marketdata::connection::{self, LinkOutcome, StreamConfig};
use kestrel_marketdata::pipeline::{Feeds, Pipeline, run_snapshots};
use kestrel_marketdata::service;
use kestrel_marketdata::snapshot::SnapshotClient;
use kestrel_model::Price;
use kestrel_model::config::Config;
use tokio::sync::{mpsc, watch};

pub(crate) mod distribution;

use self::distribution::Distribution;
use super::config::{EXIT_INVALID_CONFIG, load_or_report};
use super::endpoints::Endpoints;
use crate::telemetry;

/// Options of `kestrel md`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MdArgs {
    #[command(subcommand)]
    command: Option<MdCommand>,
    /// The venue: a REST base URL such as `http://127.0.0.1:8765` (a `kestrel sim`; its
    /// WebSocket base is the same address with `ws://`, or `wss://` for `https://`), or
    /// `binance` / `binance-testnet`. Default: the `[venue]` section of the configuration.
    #[arg(long, value_name = "URL")]
    venue_url: Option<String>,
    /// The shared-memory ring to publish on (default: `/dev/shm/kestrel-marketdata`, or under
    /// `store.data_dir` where `/dev/shm` is absent).
    #[arg(long, value_name = "PATH")]
    ring: Option<PathBuf>,
    /// Symbols to follow, comma-separated (default: `market_data.symbols`).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    symbols: Option<Vec<String>>,
    /// Address for `/health`, `/api/v1/orderbook/{symbol}` and `/metrics`.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    http: SocketAddr,
}

/// What else `kestrel md` can do.
#[derive(Debug, Subcommand)]
enum MdCommand {
    /// Print the live stream from the shared-memory ring, one JSON object per event.
    Tail {
        /// Only this symbol's events.
        #[arg(long, value_name = "SYMBOL")]
        symbol: Option<String>,
        /// The ring to read (default: the one `kestrel md` publishes on).
        #[arg(long, value_name = "PATH")]
        ring: Option<PathBuf>,
        /// Stop after this many events.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
}

/// Runs the pipeline until SIGINT or SIGTERM, or `kestrel md tail`.
pub fn run(args: MdArgs, config_file: Option<&Path>) -> ExitCode {
    let Some(loaded) = load_or_report(config_file) else {
        return ExitCode::from(EXIT_INVALID_CONFIG);
    };
    let data_dir = loaded.config.store.data_dir.clone();
    if let Some(MdCommand::Tail {
        symbol,
        ring,
        count,
    }) = args.command
    {
        let ring = ring.map_or_else(|| default_ring_path(RING_NAME, &data_dir), Ok);
        let result = ring
            .map_err(anyhow::Error::from)
            .and_then(|path| tail(&path, symbol.as_deref(), count));
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Err(error) = telemetry::init_from_config(&loaded.config.log) {
        eprintln!("warning: {error:#}");
    }
    let mut config = loaded.config;
    if let Some(symbols) = args.symbols.clone() {
        config.market_data.symbols = symbols
            .into_iter()
            .map(|s| s.trim().to_ascii_uppercase())
            .collect();
    }
    match serve(&args, &config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &MdArgs, full: &Config) -> Result<()> {
    let config = &full.market_data;
    let data_dir = &full.store.data_dir;
    let endpoints = Endpoints::resolve(args.venue_url.as_deref(), &full.venue)?;
    let ring_path = args
        .ring
        .clone()
        .map_or_else(|| default_ring_path(RING_NAME, data_dir), Ok)?;
    if let Some(parent) = ring_path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let ring_config = RingConfig {
        slot_count: config.ring_buffer_size,
        slot_size: RING_SLOT_BYTES,
    };
    let ring = RingWriter::create(&ring_path, ring_config).with_context(|| {
        format!(
            "market_data.ring_buffer_size: cannot create the ring at {}",
            ring_path.display()
        )
    })?;
    let metrics = telemetry::install_metrics()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_pipeline(
        args, full, &endpoints, ring, &ring_path, metrics,
    ))
}

/// The pipeline, its HTTP endpoints and its distribution, until a signal or the stream's end.
async fn run_pipeline(
    args: &MdArgs,
    full: &Config,
    endpoints: &Endpoints,
    ring: RingWriter,
    ring_path: &Path,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
) -> Result<()> {
    let config = &full.market_data;
    let ticks = ticks_from_venue(&endpoints.rest, &config.symbols).await?;
    let feeds = Arc::new(Feeds::new(&ticks).context("cannot build the books")?);
    let (stop, stopped) = watch::channel(false);
    let listener = tokio::net::TcpListener::bind(args.http)
        .await
        .with_context(|| format!("--http: cannot bind {}", args.http))?;
    let render: service::MetricsRender = Arc::new(move || metrics.render());
    let depth = usize::try_from(config.order_book_depth).unwrap_or(20);
    let http = tokio::spawn(service::serve(
        listener,
        Arc::clone(&feeds),
        render,
        depth,
        stopped.clone(),
    ));
    let distribution =
        Distribution::start(config, &full.store, &feeds, ring_path, &stopped).await?;
    let (requests, pending) = mpsc::unbounded_channel();
    let client = SnapshotClient::new(&endpoints.rest, 1000, Duration::from_secs(10))
        .context("cannot build the HTTP client")?;
    let snapshots = tokio::spawn(run_snapshots(Arc::clone(&feeds), client, pending));
    let stream = StreamConfig::for_market_data(&endpoints.ws, config);
    let mut banner = vec![format!(
        "kestrel md following {} on {}; HTTP on http://{}; ring {}",
        config.symbols.join(","),
        stream.ws_url,
        args.http,
        ring_path.display()
    )];
    banner.extend(
        distribution
            .summary
            .iter()
            .map(|to| format!("  also publishing to {to}")),
    );
    telemetry::banner(&banner);
    let mut pipeline = Pipeline::new(Arc::clone(&feeds), requests).with_ring(ring);
    let mut link =
        tokio::spawn(async move { connection::run(stream, &mut pipeline, stopped).await });
    // The stream ends by itself only when the venue refuses us or reconnection gives up.
    let ended = tokio::select! {
        () = shutdown_signal() => None,
        outcome = &mut link => Some(outcome),
    };
    let _ = stop.send(true);
    let outcome = match ended {
        Some(outcome) => outcome,
        None => link.await,
    }
    .context("the stream task failed")?;
    snapshots.abort();
    let _ = http.await;
    distribution.finish().await;
    match outcome {
        LinkOutcome::Stopped => Ok(()),
        LinkOutcome::AuthFailed(reason) => bail!("the venue refused the connection: {reason}"),
        LinkOutcome::GaveUp(reason) => bail!("gave up reconnecting: {reason}"),
    }
}

/// The ring's name: `/dev/shm/kestrel-marketdata`.
const RING_NAME: &str = "marketdata";

/// Bytes per ring slot: room for a depth update of about 1,000 levels (Binance's real-time
/// diffs reach 1,226 levels; a larger one is counted in `messages_dropped_total{reason="ring"}`
/// and skipped on the ring only).
const RING_SLOT_BYTES: u32 = 16 * 1024;

/// Prints the ring's events as JSON lines until `count` events (or forever).
fn tail(path: &Path, symbol: Option<&str>, count: Option<u64>) -> Result<()> {
    let mut reader = RingReader::open(path).with_context(|| {
        format!(
            "cannot open the ring at {} (is `kestrel md` running?)",
            path.display()
        )
    })?;
    let wanted = symbol.map(str::to_ascii_uppercase);
    let mut printed = 0u64;
    let mut stdout = std::io::stdout().lock();
    while count.is_none_or(|n| printed < n) {
        let Some(message) = reader.poll_next(Duration::from_millis(200)) else {
            continue;
        };
        if message.lost_before > 0 {
            eprintln!(
                "warning: {} events lost (the reader fell behind the ring)",
                message.lost_before
            );
        }
        let event = match decode(message.bytes) {
            Ok(event) => serde_json::to_value(event.into_owned())?,
            Err(error) => {
                eprintln!("warning: undecodable ring message {}: {error}", message.seq);
                continue;
            }
        };
        if wanted.as_deref().is_some_and(|w| event["symbol"] != w) {
            continue;
        }
        writeln!(stdout, "{event}")?;
        stdout.flush()?;
        printed += 1;
    }
    Ok(())
}

/// Each symbol's tick size from the venue's `exchangeInfo`.
async fn ticks_from_venue(rest: &str, symbols: &[String]) -> Result<Vec<(String, Price)>> {
    let url = format!("{rest}/fapi/v1/exchangeInfo");
    let body = reqwest::get(&url)
        .await
        .with_context(|| format!("GET {url}"))?
        .text()
        .await?;
    let info = kestrel_venue::binance::parse_exchange_info(&body)
        .with_context(|| format!("exchange info from {url}"))?;
    symbols
        .iter()
        .map(|symbol| {
            let instrument = info.instruments().find(|i| &i.symbol == symbol);
            let instrument = instrument
                .with_context(|| format!("{symbol} is not listed by the venue at {rest}"))?;
            Ok((symbol.clone(), instrument.tick_size()))
        })
        .collect()
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    super::sim::shutdown_signal().await;
}
