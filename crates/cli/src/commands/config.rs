//! `kestrel config check [FILE]` and `kestrel config show`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use kestrel_model::config::{Config, ConfigSource, Loaded};

use crate::telemetry;

/// Exit code for an invalid configuration.
pub const EXIT_INVALID_CONFIG: u8 = 2;

/// What to do with the configuration.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config file: exit 0 with a one-line summary, or exit 2 listing every
    /// problem with its key.
    Check {
        /// The file to check (default: `--config`, else defaults plus environment).
        file: Option<PathBuf>,
    },
    /// Print the effective configuration as TOML, secrets redacted.
    Show,
}

/// Runs a `config` subcommand; `global_file` is the `--config` option.
pub fn run(command: ConfigCommand, global_file: Option<&Path>) -> ExitCode {
    match command {
        ConfigCommand::Check { file } => check(file.as_deref().or(global_file)),
        ConfigCommand::Show => show(global_file),
    }
}

fn check(file: Option<&Path>) -> ExitCode {
    let Some(loaded) = load_or_report(file) else {
        return ExitCode::from(EXIT_INVALID_CONFIG);
    };
    log_loaded(&loaded, file);
    println!("{}", loaded.config.summary());
    ExitCode::SUCCESS
}

fn show(file: Option<&Path>) -> ExitCode {
    let Some(loaded) = load_or_report(file) else {
        return ExitCode::from(EXIT_INVALID_CONFIG);
    };
    log_loaded(&loaded, file);
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(loaded.config.to_redacted_toml().as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// Loads the config from `file` and the process environment, printing every error to stderr
/// when it is invalid.
pub fn load_or_report(file: Option<&Path>) -> Option<Loaded> {
    match Config::load(ConfigSource::from_process_env(file)) {
        Ok(loaded) => Some(loaded),
        Err(errors) => {
            let shown = file.map_or_else(
                || "defaults and environment".to_owned(),
                |p| p.display().to_string(),
            );
            eprintln!("config invalid ({shown}): {} problem(s)", errors.len());
            for error in errors.iter() {
                eprintln!("  {error}");
            }
            None
        }
    }
}

/// Starts logging as the loaded config says, then logs where the config came from and its
/// warnings.
fn log_loaded(loaded: &Loaded, file: Option<&Path>) {
    if let Err(error) = telemetry::init_from_config(&loaded.config.log) {
        eprintln!("warning: {error:#}");
    }
    let overrides = loaded.provenance.iter().count();
    tracing::debug!(file = ?file, overrides, "config loaded");
    for warning in &loaded.warnings {
        tracing::warn!(%warning, "risky configuration");
    }
}
