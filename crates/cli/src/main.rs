//! `kestrel`: the one binary that runs and inspects every part of Kestrel.
//!
//! Each subcommand lives in its own module under `commands`; this file only parses arguments,
//! sets up logging and metrics, and maps outcomes to exit codes (0 success, 1 failure,
//! 2 invalid configuration or usage).

mod commands;
mod telemetry;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Kestrel: a low-latency crypto futures trading system.
#[derive(Debug, Parser)]
#[command(name = "kestrel", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// The config file (TOML). Without one, defaults plus `KESTREL_<SECTION>__<KEY>`
    /// environment overrides are used.
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "KESTREL_CONFIG",
        value_name = "FILE"
    )]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check or print the configuration.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// List every metric Kestrel exports (name, kind, labels, help).
    Metrics,
    /// Run the whole system: venue (the embedded simulator by default), market data,
    /// execution, strategies, risk, account, and the HTTP API on 127.0.0.1:8080.
    Run(commands::run::RunArgs),
    /// Run the exchange simulator: a Binance USD-M futures venue on loopback.
    Sim(commands::sim::SimArgs),
    /// Run the market-data pipeline alone against a venue, with its HTTP endpoints.
    Md(commands::md::MdArgs),
    /// Run the execution service alone against a venue: the order engine, its journal and
    /// the order API.
    Exec(commands::exec::ExecArgs),
    /// Record a venue's raw market streams and depth snapshots to a file that replays.
    Record(commands::record::RecordArgs),
    /// Benchmark whole paths (e.g. the market-data pipeline against a parse-only floor).
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

fn main() -> ExitCode {
    kestrel_venue::tls::install_crypto_provider();
    let cli = Cli::parse();
    match cli.command {
        Command::Config(command) => commands::config::run(command, cli.config.as_deref()),
        Command::Metrics => commands::metrics::run(),
        Command::Run(args) => commands::run::run(args, cli.config.as_deref()),
        Command::Sim(args) => commands::sim::run(args, cli.config.as_deref()),
        Command::Md(args) => commands::md::run(args, cli.config.as_deref()),
        Command::Exec(args) => commands::exec::run(args, cli.config.as_deref()),
        Command::Record(args) => commands::record::run(args, cli.config.as_deref()),
        Command::Bench(command) => commands::bench::run(command),
    }
}
