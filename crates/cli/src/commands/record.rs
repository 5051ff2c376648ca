//! `kestrel record`: captures a venue's raw market streams (the ones `kestrel md` follows:
//! real-time depth diffs, trades and book tickers of each symbol) plus a REST depth snapshot
//! of every symbol after every (re)connect, in the recording line format
//! (`<receive ns> <raw JSON>`, gzip optional), so the capture replays in `kestrel sim --replay`
//! and in backtests. It stops after `--duration` or on SIGINT/SIGTERM, and always completes
//! the file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use kestrel_marketdata::connection::{self, LinkOutcome, StreamConfig};
use kestrel_marketdata::recorder::{self, Recorder, RecorderStats, RecordingSink};
use kestrel_marketdata::snapshot::SnapshotClient;
use kestrel_model::config::MarketDataConfig;
use kestrel_model::recording::{Compression, RecordingWriter};
use tokio::sync::{mpsc, watch};

use super::config::{EXIT_INVALID_CONFIG, load_or_report};
use super::endpoints::Endpoints;
use crate::telemetry;

/// Options of `kestrel record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The venue: a REST base URL such as `http://127.0.0.1:8765` (a `kestrel sim`; its
    /// WebSocket base is the same address with `ws://`, or `wss://` for `https://`), or
    /// `binance` / `binance-testnet`. Default: the `[venue]` section of the configuration.
    #[arg(long, value_name = "URL")]
    venue_url: Option<String>,
    /// Symbols to record, comma-separated (default: `market_data.symbols`).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    symbols: Option<Vec<String>>,
    /// The recording to write (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Stop after this many seconds (default: run until SIGINT or SIGTERM).
    #[arg(long, value_name = "SECS")]
    duration: Option<u64>,
    /// Compress with gzip (also chosen when FILE ends in `.gz`).
    #[arg(long)]
    gzip: bool,
}

/// Records until `--duration` has passed or SIGINT/SIGTERM.
pub fn run(args: RecordArgs, config_file: Option<&Path>) -> ExitCode {
    let Some(loaded) = load_or_report(config_file) else {
        return ExitCode::from(EXIT_INVALID_CONFIG);
    };
    if let Err(error) = telemetry::init_from_config(&loaded.config.log) {
        eprintln!("warning: {error:#}");
    }
    let mut market_data = loaded.config.market_data;
    if let Some(symbols) = &args.symbols {
        market_data.symbols = symbols
            .iter()
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty())
            .collect();
    }
    let recorded = Endpoints::resolve(args.venue_url.as_deref(), &loaded.config.venue)
        .and_then(|endpoints| record(&args, &market_data, &endpoints));
    match recorded {
        Ok(stats) => {
            println!(
                "kestrel record: wrote {} lines ({} frames, {} snapshots) to {}",
                stats.lines,
                stats.frames,
                stats.snapshots,
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// gzip when asked for or when the file name ends in `.gz`.
fn compression(args: &RecordArgs) -> Compression {
    let gz_name = args
        .out
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("gz"));
    if args.gzip || gz_name {
        Compression::Gzip
    } else {
        Compression::None
    }
}

fn record(
    args: &RecordArgs,
    config: &MarketDataConfig,
    endpoints: &Endpoints,
) -> Result<RecorderStats> {
    if config.symbols.is_empty() {
        bail!("--symbols: no symbol to record");
    }
    let compression = compression(args);
    let writer = RecordingWriter::create(&args.out, compression)
        .with_context(|| format!("--out {}: cannot create the recording", args.out.display()))?;
    let sink = RecordingSink::spawn(writer)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(capture(args, config, endpoints, &sink, compression));
    // The sources have stopped: everything queued is written and the file completed, whether
    // the capture ended well or not.
    let stats = sink
        .finish()
        .with_context(|| format!("--out {}", args.out.display()))?;
    match outcome? {
        LinkOutcome::Stopped => Ok(stats),
        LinkOutcome::AuthFailed(reason) => bail!("the venue refused the connection: {reason}"),
        LinkOutcome::GaveUp(reason) => bail!("gave up reconnecting: {reason}"),
    }
}

/// Runs the connection and the snapshot task until the duration has passed, a signal came,
/// or the connection gave up.
async fn capture(
    args: &RecordArgs,
    config: &MarketDataConfig,
    endpoints: &Endpoints,
    sink: &RecordingSink,
    compression: Compression,
) -> Result<LinkOutcome> {
    let client = SnapshotClient::new(&endpoints.rest, 1000, Duration::from_secs(10))
        .context("cannot build the HTTP client")?;
    let (requests, pending) = mpsc::unbounded_channel();
    let snapshots = tokio::spawn(recorder::run_snapshots(client, pending, sink.sender()));
    let mut handler = Recorder::new(sink.sender(), config.symbols.clone(), requests);
    let stream = StreamConfig::for_market_data(&endpoints.ws, config);
    println!(
        "kestrel record: {} from {} to {}{}",
        config.symbols.join(","),
        stream.ws_url,
        args.out.display(),
        if compression == Compression::Gzip {
            " (gzip)"
        } else {
            ""
        }
    );
    telemetry::flush_stdout();
    let (stop, stopped) = watch::channel(false);
    let mut link =
        tokio::spawn(async move { connection::run(stream, &mut handler, stopped).await });
    let duration = args.duration.map(Duration::from_secs);
    let wait = async {
        match duration {
            Some(duration) => tokio::time::sleep(duration).await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        () = wait => None,
        () = super::sim::shutdown_signal() => None,
        ended = &mut link => Some(ended),
    };
    let outcome = match outcome {
        Some(ended) => ended,
        None => {
            let _ = stop.send(true);
            link.await
        }
    };
    snapshots.abort();
    let _ = snapshots.await;
    outcome.context("the stream task failed")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn args(out: &str, gzip: bool) -> RecordArgs {
        RecordArgs {
            venue_url: None,
            symbols: None,
            out: PathBuf::from(out),
            duration: None,
            gzip,
        }
    }

    #[test]
    fn gzip_is_chosen_by_flag_or_by_a_gz_name() {
        assert_eq!(compression(&args("x.txt", false)), Compression::None);
        assert_eq!(compression(&args("x.txt", true)), Compression::Gzip);
        assert_eq!(compression(&args("x.GZ", false)), Compression::Gzip);
        assert_eq!(
            compression(&args("capture.log.gz", false)),
            Compression::Gzip
        );
    }
}
