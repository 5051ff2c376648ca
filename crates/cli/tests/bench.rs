//! `kestrel bench marketdata` as a user runs it: on a few hundred lines cut from the real
//! BTCUSDT capture (`shared/vectors/binance-usdm/btcusdt_20240808.gz`, beside the checkout)
//! and on the generated stream, the JSON report accounts for every message and the book ends
//! synced; bad inputs are refused with the problem named. No timing is asserted.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output};

use flate2::read::GzDecoder;
use serde_json::Value;

/// Lines cut from the start of the reference capture: 6 diffs before the snapshot on line 55
/// (4 of them stale on it), then the live chain.
const LINES: usize = 400;

fn reference_lines(count: usize) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/binance-usdm/btcusdt_20240808.gz");
    let file = std::fs::File::open(&path).unwrap_or_else(|error| {
        panic!(
            "missing test vector {} ({error}): the shared/ folder must sit beside the checkout",
            path.display()
        )
    });
    let mut text = String::new();
    GzDecoder::new(file).read_to_string(&mut text).unwrap();
    text.lines().take(count).map(str::to_owned).collect()
}

fn write_file(lines: &[String], suffix: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
    file.flush().unwrap();
    file
}

fn kestrel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args(args)
        .env_remove("KESTREL_CONFIG")
        .output()
        .unwrap()
}

fn bench_json(args: &[&str]) -> Value {
    let mut all = vec!["bench", "marketdata", "--json", "--repeat", "1"];
    all.extend_from_slice(args);
    let output = kestrel(&all);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{all:?}: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().count(),
        1,
        "exactly one JSON object: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap()
}

fn type_count(report: &Value, kind: &str) -> u64 {
    report["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == kind)
        .map_or(0, |t| t["count"].as_u64().unwrap())
}

#[test]
fn a_cut_of_the_real_capture_is_replayed_whole_and_the_book_ends_synced() {
    let lines = reference_lines(LINES);
    let file = write_file(&lines, ".txt");
    let report = bench_json(&["--input", file.path().to_str().unwrap()]);

    assert_eq!(report["messages"], LINES as u64);
    assert_eq!(report["malformed_lines"], 0);
    let types = report["types"].as_array().unwrap();
    let summed: u64 = types.iter().map(|t| t["count"].as_u64().unwrap()).sum();
    assert_eq!(summed, LINES as u64, "per-type counts add up: {types:?}");
    let count = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count() as u64;
    assert_eq!(
        type_count(&report, "depth_diff"),
        count("\"e\":\"depthUpdate\"")
    );
    assert_eq!(
        type_count(&report, "book_ticker"),
        count("\"e\":\"bookTicker\"")
    );
    assert_eq!(type_count(&report, "trade"), count("\"e\":\"trade\""));
    assert_eq!(type_count(&report, "snapshot"), 1);

    assert_eq!(report["books_synced"], true, "{report}");
    assert_eq!(report["gaps"], 0);
    let book = &report["books"][0];
    assert_eq!(book["symbol"], "BTCUSDT");
    assert_eq!(
        (book["snapshots"].as_u64(), book["stale"].as_u64()),
        (Some(1), Some(4))
    );
    assert_eq!(
        book["applied"].as_u64().unwrap(),
        type_count(&report, "depth_diff") - 4,
        "every diff but the stale ones is applied"
    );
    assert!(
        report["ring_published"].as_u64().unwrap() > 0,
        "publish is on the path"
    );
    for key in [
        "throughput_msg_s",
        "floor_msg_s",
        "p50_ns",
        "p99_ns",
        "p999_ns",
        "ratio",
    ] {
        assert!(report[key].as_f64().unwrap() > 0.0, "{key}: {report}");
    }
    let depth = types.iter().find(|t| t["type"] == "depth_diff").unwrap();
    assert!(depth["pipeline"]["p50_ns"].as_u64().unwrap() > 0);
    assert!(depth["floor"]["p999_ns"].as_u64().unwrap() > 0);
}

#[test]
fn a_gzip_capture_gives_the_same_counts() {
    let lines = reference_lines(LINES);
    let plain = write_file(&lines, ".txt");
    let mut gz = tempfile::Builder::new().suffix(".gz").tempfile().unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(std::fs::read(plain.path()).unwrap().as_slice())
        .unwrap();
    gz.write_all(&encoder.finish().unwrap()).unwrap();
    let report = bench_json(&["--input", gz.path().to_str().unwrap()]);
    assert_eq!(report["messages"], LINES as u64);
    assert_eq!(report["books_synced"], true);
}

#[test]
fn the_default_input_is_a_generated_stream_that_syncs() {
    let report = bench_json(&["--messages", "4000", "--seed", "3"]);
    let messages = report["messages"].as_u64().unwrap();
    assert!(messages >= 4000, "{report}");
    assert!(
        report["input"]
            .as_str()
            .unwrap()
            .starts_with("generated BTCUSDT")
    );
    for kind in ["snapshot", "depth_diff", "trade", "book_ticker"] {
        assert!(type_count(&report, kind) > 0, "{kind} in {report}");
    }
    let summed: u64 = report["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["count"].as_u64().unwrap())
        .sum();
    assert_eq!(summed, messages);
    assert_eq!(report["books_synced"], true, "{report}");
    assert!(
        report["books"][0]["stale"].as_u64().unwrap() > 0,
        "pre-snapshot diffs"
    );
}

#[test]
fn the_table_names_every_type_and_the_ratio() {
    let file = write_file(&reference_lines(200), ".txt");
    let output = kestrel(&[
        "bench",
        "marketdata",
        "--repeat",
        "1",
        "--input",
        file.path().to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let table = String::from_utf8_lossy(&output.stdout);
    for word in [
        "depth_diff",
        "book_ticker",
        "trade",
        "snapshot",
        "pipeline/floor",
        "synced",
    ] {
        assert!(table.contains(word), "{word} missing:\n{table}");
    }
}

#[test]
fn bad_inputs_are_refused_with_the_problem_named() {
    let missing = kestrel(&["bench", "marketdata", "--input", "/nonexistent/capture.gz"]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("--input /nonexistent/capture.gz: no such file"),
        "{stderr}"
    );

    let trades: Vec<String> = reference_lines(LINES)
        .into_iter()
        .filter(|l| l.contains("@trade"))
        .collect();
    let no_depth = write_file(&trades, ".txt");
    let output = kestrel(&[
        "bench",
        "marketdata",
        "--input",
        no_depth.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no depth messages"), "{stderr}");

    let mut truncated = tempfile::Builder::new().suffix(".gz").tempfile().unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(reference_lines(100).join("\n").as_bytes())
        .unwrap();
    let bytes = encoder.finish().unwrap();
    truncated.write_all(&bytes[..bytes.len() / 2]).unwrap();
    let output = kestrel(&[
        "bench",
        "marketdata",
        "--input",
        truncated.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unreadable after"), "{stderr}");
}

#[test]
fn help_describes_every_flag() {
    let output = kestrel(&["bench", "marketdata", "--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--input", "--json", "--repeat", "--seed", "--messages"] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
    }
}
