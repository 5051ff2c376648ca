//! Logging and metrics plumbing for every `kestrel` command.
//!
//! Logs are structured `tracing` events written to stderr (stdout is kept for command output),
//! as JSON lines when stderr is not a terminal and as readable text when it is, unless the
//! config says otherwise. Metrics go through the `metrics` facade into a Prometheus recorder
//! whose text exposition the HTTP servers serve on `/metrics`.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use kestrel_model::config::{LogConfig, LogFormat};
use kestrel_model::telemetry::{CATALOGUE, MetricKind};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStyle {
    /// One JSON object per line, for collectors.
    Json,
    /// Human-readable lines with colour, for a terminal.
    Pretty,
}

impl LogStyle {
    /// The style the config asks for; `auto` is JSON unless stderr is a terminal.
    #[must_use]
    pub fn from_config(format: LogFormat) -> Self {
        match format {
            LogFormat::Json => Self::Json,
            LogFormat::Pretty => Self::Pretty,
            LogFormat::Auto if std::io::stderr().is_terminal() => Self::Pretty,
            LogFormat::Auto => Self::Json,
        }
    }
}

/// Installs logging as the config's `[log]` section says.
///
/// # Errors
/// As [`init_logging`].
pub fn init_from_config(log: &LogConfig) -> Result<()> {
    init_logging(LogStyle::from_config(log.format), &log.level)
}

/// Installs the global `tracing` subscriber. `RUST_LOG`, when set, overrides `level`.
///
/// # Errors
/// When `level` is not a valid filter directive or a subscriber is already installed.
pub fn init_logging(style: LogStyle, level: &str) -> Result<()> {
    let filter = log_filter(level, std::env::var("RUST_LOG").ok())?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match style {
        LogStyle::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogStyle::Pretty => builder.compact().try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}

/// The filter from `RUST_LOG` when it is set and non-empty, else from the configured level.
fn log_filter(level: &str, rust_log: Option<String>) -> Result<EnvFilter> {
    match rust_log.filter(|directives| !directives.is_empty()) {
        Some(directives) => EnvFilter::try_new(&directives)
            .with_context(|| format!("RUST_LOG: {directives:?} is not a valid filter")),
        None => EnvFilter::try_new(level)
            .with_context(|| format!("log.level: {level:?} is not a valid level or filter")),
    }
}

/// Flushes stdout so a supervising process sees a banner line at once.
pub fn flush_stdout() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

/// Prints a long-running service's start-up banner in one write and flushes it. Unlike
/// `println!`, a closed stdout (the supervisor stopped reading) is ignored: a service must
/// not die because nobody reads its banner.
pub fn banner(lines: &[String]) {
    use std::io::Write;
    let mut text = lines.join("\n");
    text.push('\n');
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Builds a Prometheus recorder with Kestrel's histogram buckets; not yet installed.
///
/// # Errors
/// When a bucket list is rejected by the exporter.
pub fn build_recorder() -> Result<PrometheusRecorder> {
    const MICROS: &[f64] = &[
        1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4,
    ];
    const MILLIS: &[f64] = &[
        0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1e3, 5e3,
    ];
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_microseconds".into()), MICROS)?
        .set_buckets_for_metric(Matcher::Suffix("_milliseconds".into()), MILLIS)?
        .build_recorder();
    Ok(recorder)
}

/// Installs the global metrics recorder, registers the catalogue's help text, and returns the
/// handle that renders the Prometheus text exposition.
///
/// # Errors
/// When a recorder is already installed.
pub fn install_metrics() -> Result<PrometheusHandle> {
    let recorder = build_recorder()?;
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))?;
    describe_catalogue();
    Ok(handle)
}

/// Registers the help text of every metric in the catalogue with the current recorder.
pub fn describe_catalogue() {
    for spec in CATALOGUE {
        match spec.kind {
            MetricKind::Counter => metrics::describe_counter!(spec.name, spec.help),
            MetricKind::Gauge => metrics::describe_gauge!(spec.name, spec.help),
            MetricKind::Histogram => metrics::describe_histogram!(spec.name, spec.help),
        }
    }
}

#[cfg(test)]
mod tests {
    use kestrel_model::telemetry::names;

    use super::*;

    #[test]
    fn catalogue_metrics_render_in_prometheus_text_format() {
        let recorder = build_recorder().unwrap();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe_catalogue();
            metrics::counter!(names::MESSAGES_RECEIVED_TOTAL, "symbol" => "BTCUSDT", "type" => "depth").increment(3);
            metrics::gauge!(names::CIRCUIT_BREAKER_STATE, "service" => "binance_rest").set(2.0);
            metrics::histogram!(names::PROCESSING_LATENCY_MICROSECONDS, "symbol" => "BTCUSDT")
                .record(7.0);
        });
        let text = handle.render();
        assert!(
            text.contains(
                "# HELP messages_received_total Market-data messages received, by message type."
            ),
            "{text}"
        );
        assert!(
            text.contains("# TYPE messages_received_total counter"),
            "{text}"
        );
        assert!(
            text.contains("messages_received_total{symbol=\"BTCUSDT\",type=\"depth\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("circuit_breaker_state{service=\"binance_rest\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE processing_latency_microseconds histogram"),
            "{text}"
        );
        assert!(
            text.contains("processing_latency_microseconds_bucket{symbol=\"BTCUSDT\",le=\"10\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("processing_latency_microseconds_bucket{symbol=\"BTCUSDT\",le=\"5\"} 0"),
            "{text}"
        );
    }

    #[test]
    fn bad_log_level_names_the_key() {
        let err = log_filter("loud=??", None).unwrap_err().to_string();
        assert!(err.starts_with("log.level:"), "{err}");
        let err = log_filter("info", Some("=[".into()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("RUST_LOG:"), "{err}");
        assert_eq!(
            log_filter("debug", Some(String::new()))
                .unwrap()
                .to_string(),
            "debug"
        );
    }
}
