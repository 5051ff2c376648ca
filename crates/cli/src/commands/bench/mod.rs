//! `kestrel bench`: whole-path benchmarks, beside the criterion benchmarks of each crate.
//!
//! `kestrel bench marketdata` replays a recording (or a generated stream) through the real
//! market-data path (parse → book → publish on the shared-memory ring) at full speed and, in
//! the same run, through the parse-only floor (each message deserialised into its struct and
//! nothing more), and reports latency percentiles per message type and overall, throughput,
//! and the pipeline/floor ratio (issue 4 item 9; targets in ARCHITECTURE.md's performance
//! budget). Every message is loaded into memory before anything is timed.

pub mod exec;
pub mod measure;
pub mod report;
pub mod synthetic;
pub mod tick;
pub mod workload;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::telemetry;
use report::Report;
use workload::Workload;

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Replay market data through the real parse → book → publish pipeline and through a
    /// parse-only floor, and report latency percentiles and throughput of both.
    Marketdata(MarketdataArgs),
    /// Time order request → bytes on the socket against an in-process simulator on
    /// loopback, one order at a time.
    Exec(exec::ExecBenchArgs),
    /// Time market event → strategy → risk → signed order bytes through the trading core.
    Tick(tick::TickBenchArgs),
}

/// Options of `kestrel bench marketdata`.
#[derive(Debug, Args)]
pub struct MarketdataArgs {
    /// The recording to replay (`<receive ns> <json>` lines, gzip optional), e.g.
    /// `shared/vectors/binance-usdm/btcusdt_20240808.gz`. Default: a generated BTCUSDT
    /// stream (see --seed and --messages).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Untimed passes over the workload per path; throughput is the best of them.
    #[arg(long, default_value_t = 5, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Seed of the generated stream (used without --input).
    #[arg(long, default_value_t = 42, value_name = "N", conflicts_with = "input")]
    seed: u64,
    /// Messages in the generated stream, at least (used without --input).
    #[arg(
        long,
        default_value_t = 100_000,
        value_name = "N",
        conflicts_with = "input"
    )]
    messages: usize,
}

/// Runs a benchmark and prints its report.
pub fn run(command: BenchCommand) -> ExitCode {
    let result = match command {
        BenchCommand::Marketdata(args) => marketdata(&args),
        BenchCommand::Exec(args) => exec::run(&args),
        BenchCommand::Tick(args) => tick::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn marketdata(args: &MarketdataArgs) -> Result<()> {
    let workload = match &args.input {
        Some(path) => Workload::from_recording(path)?,
        None => {
            let messages = synthetic::generate(args.seed, args.messages)?;
            let source = format!(
                "generated {} stream (seed {}, {} messages)",
                synthetic::SYMBOL,
                args.seed,
                messages.len()
            );
            Workload::from_messages(source, messages, 0)?
        }
    };
    // The pipeline's metrics go where `kestrel md` sends them, so their cost is measured too.
    let _metrics = telemetry::install_metrics()?;
    let measured = measure::measure(&workload, args.repeat)?;
    let report = Report::new(&workload, &measured, args.repeat);
    if args.json {
        let json = serde_json::to_string(&report).context("cannot render the report")?;
        println!("{json}");
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

/// Nanoseconds as microseconds with one decimal, as the bench tables print them.
pub(crate) fn micros(ns: u64) -> String {
    format!("{}.{} µs", ns / 1_000, ns % 1_000 / 100)
}

/// The `  p50 …  p99 …  p99.9 …  max …` line of a latency table.
pub(crate) fn percentile_line(p50_ns: u64, p99_ns: u64, p999_ns: u64, max_ns: u64) -> String {
    format!(
        "  p50 {}  p99 {}  p99.9 {}  max {}",
        micros(p50_ns),
        micros(p99_ns),
        micros(p999_ns),
        micros(max_ns)
    )
}
