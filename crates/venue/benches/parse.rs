//! Binance market-frame parsing on the real BTCUSDT recording
//! (`shared/vectors/binance-usdm/btcusdt_20240808.gz`), per message type and over the recorded
//! mix, for both JSON libraries:
//!
//! - `full`: [`MarketParser::parse`], i.e. parse + normalise (decimals into exact
//!   `Price`/`Qty`, levels into the reused buffers, a ready `DepthDiff`): the fast path, with
//!   the general walk for what it declines;
//! - `general`: [`MarketParser::parse_general`], the order-independent walk alone (what `full`
//!   would cost without its fast path);
//! - `floor`: [`floor::parse`], the same JSON library deserialising into plain serde structs
//!   with borrowed strings and nothing more (message type decided up front, untimed).
//!
//! Each iteration parses the next message of the group, cycling through all of them in
//! recorded order, so a figure is the mean over the real distribution (depth diffs of 1 to
//! 1,226 levels, mean 68, median 34; `depth_30_to_38_levels` keeps those around the median).
//! Throughput is in messages.
//!
//! Run: `cargo bench -p kestrel-venue --bench parse -- --warm-up-time 1 --measurement-time 3`

use std::fs::File;
use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::read::GzDecoder;
use kestrel_venue::binance::market::ReceiveTime;
use kestrel_venue::binance::market::floor::{self, FloorKind, FloorPlan};
use kestrel_venue::binance::{JsonLib, MarketParser};

/// The recording's messages (receive time stripped), in order.
fn recording() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/binance-usdm/btcusdt_20240808.gz");
    let mut text = String::new();
    let read = File::open(&path).and_then(|f| GzDecoder::new(f).read_to_string(&mut text));
    if let Err(error) = read {
        eprintln!(
            "cannot read {} ({error}): shared/vectors must sit beside the checkout",
            path.display()
        );
        std::process::exit(1);
    }
    text.lines()
        .filter_map(|line| line.split_once(' ').map(|(_, json)| json.to_owned()))
        .collect()
}

/// Messages with their floor plans.
type Planned<'a> = Vec<(FloorPlan, &'a str)>;

fn planned(messages: &[String]) -> Planned<'_> {
    messages
        .iter()
        .filter_map(|m| FloorPlan::classify(m).map(|plan| (plan, m.as_str())))
        .collect()
}

/// Benchmarks `full` and `floor` for each JSON library over `messages`, cycling.
fn bench_group(c: &mut Criterion, name: &str, messages: &Planned<'_>) {
    let mut group = c.benchmark_group(format!("parse/{name}"));
    group.throughput(Throughput::Elements(1));
    for json in JsonLib::ALL {
        let mut parser = MarketParser::new().with_json_lib(json);
        for (_, message) in messages {
            let _ = black_box(parser.parse(message, ReceiveTime::default()));
        }
        let mut next = 0;
        group.bench_function(format!("full/{}", json.as_str()), |b| {
            b.iter(|| {
                let (_, message) = messages[next];
                next = (next + 1) % messages.len();
                let recv = ReceiveTime::new(next as u64, 0);
                black_box(parser.parse(black_box(message), recv).is_ok())
            });
        });
        let mut next = 0;
        group.bench_function(format!("general/{}", json.as_str()), |b| {
            b.iter(|| {
                let (_, message) = messages[next];
                next = (next + 1) % messages.len();
                let recv = ReceiveTime::new(next as u64, 0);
                black_box(parser.parse_general(black_box(message), recv).is_ok())
            });
        });
        let mut next = 0;
        group.bench_function(format!("floor/{}", json.as_str()), |b| {
            b.iter(|| {
                let (plan, message) = messages[next];
                next = (next + 1) % messages.len();
                black_box(floor::parse(json, plan, black_box(message)).is_ok())
            });
        });
    }
    group.finish();
}

fn parse_benches(c: &mut Criterion) {
    let messages = recording();
    let all = planned(&messages);
    assert_eq!(all.len(), messages.len(), "every message has a floor plan");
    let of_kind = |kind: FloorKind| -> Planned<'_> {
        all.iter()
            .copied()
            .filter(|(plan, _)| plan.kind == kind)
            .collect()
    };
    bench_group(c, "book_ticker", &of_kind(FloorKind::BookTicker));
    bench_group(c, "trade", &of_kind(FloorKind::Trade));
    let depth = of_kind(FloorKind::Depth);
    bench_group(c, "depth", &depth);
    let near_median: Planned<'_> = depth
        .iter()
        .copied()
        .filter(|(_, m)| (30..=38).contains(&m.matches("[\"").count()))
        .collect();
    bench_group(c, "depth_30_to_38_levels", &near_median);
    bench_group(c, "snapshot_1000", &of_kind(FloorKind::Snapshot));
    bench_group(c, "mix", &all);
}

criterion_group!(benches, parse_benches);
criterion_main!(benches);
