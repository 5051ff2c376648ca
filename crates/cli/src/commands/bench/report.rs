//! The report of `kestrel bench marketdata`: the figures in one serialisable struct, printed as
//! one JSON object (`--json`) or as a table.

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use kestrel_model::recording::MessageKind;
use serde::Serialize;

use super::measure::{BookResult, Measured};
use super::workload::Workload;

/// Everything `kestrel bench marketdata` reports. The top-level latency and throughput
/// figures are the real pipeline's, over every message.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Where the messages came from.
    pub input: String,
    /// Messages replayed (each path, each pass).
    pub messages: u64,
    /// Malformed lines skipped while reading the input.
    pub malformed_lines: u64,
    /// Untimed passes per path (throughput is the best of them).
    pub repeat: u32,
    /// The JSON library both paths parse with.
    pub json_lib: &'static str,
    /// Pipeline throughput, messages per second (best untimed pass).
    pub throughput_msg_s: u64,
    /// Floor throughput, messages per second (best untimed pass).
    pub floor_msg_s: u64,
    /// Pipeline time over floor time for the whole workload (1.0: as fast as parsing alone).
    pub ratio: f64,
    /// Pipeline latency per message, median, ns.
    pub p50_ns: u64,
    /// Pipeline latency per message, 99th percentile, ns.
    pub p99_ns: u64,
    /// Pipeline latency per message, 99.9th percentile, ns.
    pub p999_ns: u64,
    /// The pipeline's figures.
    pub pipeline: PathFigures,
    /// The floor's figures.
    pub floor: PathFigures,
    /// Figures by message type.
    pub types: Vec<TypeFigures>,
    /// Whether every book ended synced with no gap.
    pub books_synced: bool,
    /// Gaps in the diff chains, all books.
    pub gaps: u64,
    /// Each book after the timed pass.
    pub books: Vec<BookFigures>,
    /// Events the timed pipeline pass published on the shared-memory ring.
    pub ring_published: u64,
}

/// One path's figures over every message.
#[derive(Debug, Clone, Serialize)]
pub struct PathFigures {
    /// Messages per second, best untimed pass.
    pub throughput_msg_s: u64,
    /// Mean ns per message, best untimed pass.
    pub ns_per_msg: f64,
    /// Per-message latency of the timed pass.
    #[serde(flatten)]
    pub latency: LatencyFigures,
}

/// Percentiles of one histogram, in ns.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LatencyFigures {
    /// Median.
    pub p50_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest.
    pub max_ns: u64,
    /// Mean.
    pub mean_ns: f64,
}

/// One message type's figures (timed passes).
#[derive(Debug, Clone, Serialize)]
pub struct TypeFigures {
    /// The type (`depth_diff`, `trade`, `book_ticker`, `snapshot`, ...).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Messages of this type.
    pub count: u64,
    /// The pipeline's latencies.
    pub pipeline: LatencyFigures,
    /// The floor's latencies; `None` when the floor has no struct for the type.
    pub floor: Option<LatencyFigures>,
    /// Mean pipeline latency over mean floor latency.
    pub ratio: Option<f64>,
}

/// One book after the run.
#[derive(Debug, Clone, Serialize)]
pub struct BookFigures {
    /// The symbol.
    pub symbol: String,
    /// Synced at the end.
    pub synced: bool,
    /// The update id it reflects.
    pub last_update_id: Option<u64>,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Diffs applied.
    pub applied: u64,
    /// Diffs dropped as stale.
    pub stale: u64,
    /// Gaps in the chain.
    pub gaps: u64,
    /// Bid levels held.
    pub bid_levels: usize,
    /// Ask levels held.
    pub ask_levels: usize,
}

impl Report {
    /// The report of `measured` over `workload`.
    #[must_use]
    pub fn new(workload: &Workload, measured: &Measured, repeat: u32) -> Self {
        let messages = workload.messages.len() as u64;
        let pipeline = path_figures(
            messages,
            measured.pipeline.best_pass,
            &measured.pipeline.latencies.overall,
        );
        let floor = path_figures(
            messages,
            measured.floor.best_pass,
            &measured.floor.latencies.overall,
        );
        let books: Vec<BookFigures> = measured.books.iter().map(book_figures).collect();
        let gaps = books.iter().map(|b| b.gaps).sum();
        Self {
            input: workload.source.clone(),
            messages,
            malformed_lines: workload.malformed_lines,
            repeat: repeat.max(1),
            json_lib: measured.json.as_str(),
            throughput_msg_s: pipeline.throughput_msg_s,
            floor_msg_s: floor.throughput_msg_s,
            ratio: ratio(pipeline.ns_per_msg, floor.ns_per_msg).unwrap_or(0.0),
            p50_ns: pipeline.latency.p50_ns,
            p99_ns: pipeline.latency.p99_ns,
            p999_ns: pipeline.latency.p999_ns,
            types: type_figures(workload, measured),
            books_synced: !books.is_empty() && books.iter().all(|b| b.synced) && gaps == 0,
            gaps,
            books,
            ring_published: measured.ring_published,
            pipeline,
            floor,
        }
    }

    /// The report as a readable table.
    #[must_use]
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "kestrel bench marketdata: {} ({} messages, {} malformed lines skipped; JSON: {})",
            self.input, self.messages, self.malformed_lines, self.json_lib
        );
        let _ = writeln!(
            out,
            "\nthroughput (best of {} untimed passes): pipeline {} msg/s ({:.0} ns/msg), \
             floor {} msg/s ({:.0} ns/msg), pipeline/floor {:.2}x",
            self.repeat,
            group(self.throughput_msg_s),
            self.pipeline.ns_per_msg,
            group(self.floor_msg_s),
            self.floor.ns_per_msg,
            self.ratio
        );
        let _ = writeln!(
            out,
            "\nlatency per message, ns (timed pass; includes ~20-40 ns of clock reads)"
        );
        let _ = writeln!(
            out,
            "{:<14} {:>8} | {:>7} {:>7} {:>8} {:>9} {:>8} | {:>7} {:>7} {:>8} {:>8} | {:>6}",
            "type",
            "count",
            "p50",
            "p99",
            "p99.9",
            "max",
            "mean",
            "floor50",
            "floor99",
            "floor999",
            "mean",
            "ratio"
        );
        for row in &self.types {
            push_row(
                &mut out,
                row.kind,
                row.count,
                &row.pipeline,
                row.floor.as_ref(),
                row.ratio,
            );
        }
        let overall_ratio = ratio(self.pipeline.latency.mean_ns, self.floor.latency.mean_ns);
        push_row(
            &mut out,
            "all",
            self.messages,
            &self.pipeline.latency,
            Some(&self.floor.latency),
            overall_ratio,
        );
        let _ = writeln!(out, "\nbooks (after the timed pass):");
        for book in &self.books {
            let _ = writeln!(
                out,
                "  {:<10} {} update id {} | {} snapshot(s), {} diffs applied, {} stale, {} gaps | {} bids, {} asks",
                book.symbol,
                if book.synced { "synced  " } else { "UNSYNCED" },
                book.last_update_id
                    .map_or_else(|| "-".to_owned(), |id| id.to_string()),
                book.snapshots,
                book.applied,
                book.stale,
                book.gaps,
                book.bid_levels,
                book.ask_levels
            );
        }
        let _ = writeln!(out, "ring: {} events published", self.ring_published);
        out
    }
}

fn push_row(
    out: &mut String,
    kind: &str,
    count: u64,
    pipeline: &LatencyFigures,
    floor: Option<&LatencyFigures>,
    ratio: Option<f64>,
) {
    let floor_cells = floor.map_or_else(
        || format!("{:>7} {:>7} {:>8} {:>8}", "-", "-", "-", "-"),
        |f| {
            format!(
                "{:>7} {:>7} {:>8} {:>8.0}",
                f.p50_ns, f.p99_ns, f.p999_ns, f.mean_ns
            )
        },
    );
    let ratio = ratio.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"));
    let _ = writeln!(
        out,
        "{kind:<14} {count:>8} | {:>7} {:>7} {:>8} {:>9} {:>8.0} | {floor_cells} | {ratio:>6}",
        pipeline.p50_ns, pipeline.p99_ns, pipeline.p999_ns, pipeline.max_ns, pipeline.mean_ns
    );
}

/// `1234567` as `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn type_figures(workload: &Workload, measured: &Measured) -> Vec<TypeFigures> {
    workload
        .counts()
        .into_iter()
        .filter_map(|(kind, count)| {
            let pipeline = latency(measured.pipeline.latencies.of(kind)?);
            let floor = floor_latency(workload, measured, kind);
            Some(TypeFigures {
                kind: kind.as_str(),
                count,
                pipeline,
                floor,
                ratio: floor.and_then(|f| ratio(pipeline.mean_ns, f.mean_ns)),
            })
        })
        .collect()
}

/// The floor's latencies of `kind`, when the floor parses messages of that kind.
fn floor_latency(
    workload: &Workload,
    measured: &Measured,
    kind: MessageKind,
) -> Option<LatencyFigures> {
    let planned = workload
        .messages
        .iter()
        .any(|m| m.kind == kind && m.floor.is_some());
    planned
        .then(|| measured.floor.latencies.of(kind).map(latency))
        .flatten()
}

fn book_figures(book: &BookResult) -> BookFigures {
    BookFigures {
        symbol: book.symbol.clone(),
        synced: book.synced,
        last_update_id: book.last_update_id,
        snapshots: book.snapshots,
        applied: book.applied,
        stale: book.stale,
        gaps: book.gaps,
        bid_levels: book.levels.0,
        ask_levels: book.levels.1,
    }
}

// Statistics: rates, means and ratios of measured times are reported as floats.
#[allow(clippy::float_arithmetic, clippy::cast_precision_loss)]
fn path_figures(messages: u64, best_pass: Duration, histogram: &Histogram<u64>) -> PathFigures {
    let seconds = best_pass.as_secs_f64();
    let throughput = if seconds > 0.0 {
        messages as f64 / seconds
    } else {
        0.0
    };
    let ns_per_msg = if messages > 0 {
        seconds * 1e9 / messages as f64
    } else {
        0.0
    };
    PathFigures {
        throughput_msg_s: throughput.round() as u64,
        ns_per_msg: (ns_per_msg * 10.0).round() / 10.0,
        latency: latency(histogram),
    }
}

// Statistics: a ratio of two measured times, rounded to 3 decimals.
#[allow(clippy::float_arithmetic)]
fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| (numerator / denominator * 1000.0).round() / 1000.0)
}

// Statistics: the histogram's mean, rounded to 0.1 ns.
#[allow(clippy::float_arithmetic)]
fn latency(histogram: &Histogram<u64>) -> LatencyFigures {
    LatencyFigures {
        p50_ns: histogram.value_at_quantile(0.50),
        p99_ns: histogram.value_at_quantile(0.99),
        p999_ns: histogram.value_at_quantile(0.999),
        max_ns: histogram.max(),
        mean_ns: (histogram.mean() * 10.0).round() / 10.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_numbers_are_grouped_by_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
    }

    #[test]
    fn ratios_need_a_positive_denominator() {
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(ratio(1.0, 0.0), None);
    }
}
