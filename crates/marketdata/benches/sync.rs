//! Benchmarks of the market-data hot paths:
//!
//! - `sync/on_diff`: [`SymbolSync::on_diff`] in steady state, a 34-level diff (17 a side
//!   within 50 ticks of the touch) on a BTCUSDT-like book of 1,000 levels a side (tick 0.1,
//!   about 1,500 ticks deep, plus 50 far levels a side);
//! - `sync/replay btcusdt_20240808`: the real recording's snapshot and 6,551 diffs (median 34
//!   levels, up to 1,226) through a fresh sync, per diff (skipped if the file is absent);
//! - `flow/on_trade`: [`TradeFlow::on_trade`] with the default windows (1 s, 10 s, 60 s over
//!   100 ms buckets), trades about 3.5 ms apart so buckets keep filling and expiring.
//!
//! Run: `cargo bench -p kestrel-marketdata --bench sync -- --warm-up-time 1 --measurement-time 3`.

// Benchmark code: a panic is a failed setup, not a crash on outside input.
#![allow(clippy::panic)]

use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kestrel_marketdata::flow::{FlowConfig, TradeFlow};
use kestrel_marketdata::sync::{SymbolSync, SyncConfig};
use kestrel_model::book::{DepthDiff, Flavor, Level};
use kestrel_model::{Price, Qty, Trade};

const TICK_RAW: i64 = 10_000_000; // 0.1
const BEST_BID: i64 = 600_000; // 60,000.0 in ticks
const SNAPSHOT_ID: u64 = 1_000_000;

fn price(ticks: i64) -> Price {
    Price::from_raw(ticks * TICK_RAW)
}

/// xorshift64*: the same book on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }

    fn qty(&mut self) -> Qty {
        Qty::from_raw(100_000 * (1 + self.below(20_000)))
    }
}

/// Depths (in ticks from the touch) of 1,000 levels one or two ticks apart, plus 50 far ones.
fn depths(rng: &mut Rng) -> Vec<i64> {
    let mut depth = 0;
    let mut depths: Vec<i64> = (0..1_000)
        .map(|_| {
            let d = depth;
            depth += 1 + rng.below(2);
            d
        })
        .collect();
    depths.extend((0..50).map(|i| 20_000 + 97 * i));
    depths
}

fn synced_book() -> SymbolSync {
    let mut rng = Rng(0x0b00_c0de);
    let bids: Vec<Level> = depths(&mut rng)
        .iter()
        .map(|d| Level::new(price(BEST_BID - d), rng.qty()))
        .collect();
    let asks: Vec<Level> = depths(&mut rng)
        .iter()
        .map(|d| Level::new(price(BEST_BID + 1 + d), rng.qty()))
        .collect();
    let mut sync = SymbolSync::new(SyncConfig::new(price(1), Flavor::Futures))
        .unwrap_or_else(|e| panic!("{e}"));
    sync.on_snapshot(SNAPSHOT_ID, &bids, &asks);
    sync
}

/// Two 34-level diffs over the same prices: the first removes a fifth of them, the second puts
/// them back, so alternating keeps the book steady.
fn diff_pair(rng: &mut Rng) -> [(Vec<Level>, Vec<Level>); 2] {
    let mut side = |sign: i64, touch: i64| {
        let mut depths: Vec<i64> = Vec::with_capacity(17);
        while depths.len() < 17 {
            let depth = rng.below(50);
            if !depths.contains(&depth) {
                depths.push(depth);
            }
        }
        let prices: Vec<Price> = depths.iter().map(|d| price(touch + sign * d)).collect();
        let removing = prices
            .iter()
            .enumerate()
            .map(|(i, &p)| Level::new(p, if i % 5 == 0 { Qty::ZERO } else { rng.qty() }))
            .collect();
        let restoring = prices.iter().map(|&p| Level::new(p, rng.qty())).collect();
        (removing, restoring)
    };
    let (bids_a, bids_b) = side(-1, BEST_BID);
    let (asks_a, asks_b) = side(1, BEST_BID + 1);
    [(bids_a, asks_a), (bids_b, asks_b)]
}

fn on_diff(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync");
    let mut sync = synced_book();
    let pair = diff_pair(&mut Rng(0xd1ff));
    let (mut last, mut next) = (SNAPSHOT_ID, 0);
    group.throughput(Throughput::Elements(1));
    group.bench_function("on_diff 34 levels, 1,000-level book", |b| {
        b.iter(|| {
            let (bids, asks) = &pair[next];
            next ^= 1;
            let diff = DepthDiff {
                first_update_id: last,
                final_update_id: last + 10,
                prev_final_update_id: Some(last),
                bids,
                asks,
            };
            last += 10;
            sync.on_diff(black_box(&diff))
        })
    });
    assert_eq!(sync.counters().resnapshots, 0, "every diff applied");
    group.finish();
}

/// The recording's depth messages in file order: `Ok(diff)` or `Err(snapshot)`.
type Recorded = Vec<Result<Recorded1, (u64, Vec<Level>, Vec<Level>)>>;

/// One recorded diff: `U`, `u`, `pu`, bids, asks.
type Recorded1 = (u64, u64, u64, Vec<Level>, Vec<Level>);

fn recording() -> Option<Recorded> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/binance-usdm/btcusdt_20240808.gz");
    let mut text = String::new();
    let file = std::fs::File::open(&path).ok()?;
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .ok()?;
    let levels = |v: &mut serde_json::Value| serde_json::from_value(v.take()).ok();
    let mut events = Vec::new();
    for line in text.lines() {
        let (_, json) = line.split_once(' ')?;
        if json.starts_with(r#"{"stream":"btcusdt@depth"#) {
            let mut v: serde_json::Value = serde_json::from_str(json).ok()?;
            let d = &mut v["data"];
            let ids = (d["U"].as_u64()?, d["u"].as_u64()?, d["pu"].as_u64()?);
            let (bids, asks) = (levels(&mut d["b"])?, levels(&mut d["a"])?);
            events.push(Ok((ids.0, ids.1, ids.2, bids, asks)));
        } else if json.starts_with(r#"{"lastUpdateId""#) {
            let mut v: serde_json::Value = serde_json::from_str(json).ok()?;
            let id = v["lastUpdateId"].as_u64()?;
            events.push(Err((id, levels(&mut v["bids"])?, levels(&mut v["asks"])?)));
        }
    }
    Some(events)
}

fn replay(c: &mut Criterion) {
    let Some(events) = recording() else {
        eprintln!("sync/replay skipped: shared/vectors/binance-usdm/btcusdt_20240808.gz absent");
        return;
    };
    let diffs = events.iter().filter(|e| e.is_ok()).count() as u64;
    let mut group = c.benchmark_group("sync");
    group.throughput(Throughput::Elements(diffs));
    let mut sync = SymbolSync::new(SyncConfig::new(price(1), Flavor::Futures))
        .unwrap_or_else(|e| panic!("{e}"));
    group.bench_function("replay btcusdt_20240808 (snapshot + 6,551 diffs)", |b| {
        b.iter(|| {
            sync.reset();
            for event in &events {
                match event {
                    Ok((first, last, prev, bids, asks)) => {
                        let diff = DepthDiff {
                            first_update_id: *first,
                            final_update_id: *last,
                            prev_final_update_id: Some(*prev),
                            bids,
                            asks,
                        };
                        black_box(sync.on_diff(&diff));
                    }
                    Err((id, bids, asks)) => {
                        black_box(sync.on_snapshot(*id, bids, asks));
                    }
                }
            }
        })
    });
    assert_eq!(
        sync.counters().resnapshots,
        0,
        "the recording replays without a gap"
    );
    group.finish();
}

fn on_trade(c: &mut Criterion) {
    let mut group = c.benchmark_group("flow");
    let mut flow = TradeFlow::new(&FlowConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut trade = Trade {
        symbol: "BTCUSDT".to_owned(),
        trade_id: 0,
        price: price(BEST_BID),
        quantity: Qty::from_raw(1_000_000),
        timestamp_ms: 1_723_161_256_000,
        buyer_is_maker: false,
    };
    group.throughput(Throughput::Elements(1));
    group.bench_function("on_trade (1 s, 10 s, 60 s windows)", |b| {
        b.iter(|| {
            trade.trade_id += 1;
            trade.timestamp_ms += trade.trade_id % 8;
            trade.buyer_is_maker = trade.trade_id.is_multiple_of(3);
            flow.on_trade(black_box(&trade))
        })
    });
    group.finish();
}

criterion_group!(benches, on_diff, replay, on_trade);
criterion_main!(benches);
