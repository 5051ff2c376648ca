//! `kestrel metrics`: the catalogue of metrics Kestrel exports, for wiring dashboards and
//! alerts before anything runs.

use std::process::ExitCode;

use kestrel_model::telemetry::{CATALOGUE, MetricKind};

/// Prints one line per metric: name, kind, labels and help text.
pub fn run() -> ExitCode {
    for spec in CATALOGUE {
        let kind = match spec.kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        };
        let labels = format!("{{{}}}", spec.labels.join(","));
        println!("{:<42} {kind:<9} {labels:<24} {}", spec.name, spec.help);
    }
    ExitCode::SUCCESS
}
