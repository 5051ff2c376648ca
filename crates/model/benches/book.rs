//! Benchmarks of the L2 order book's hot paths on a realistic book: BTCUSDT-like (tick 0.1,
//! best bid 60,000.0, one-tick spread), 1,000 levels a side spread over about 1,500 ticks as a
//! REST snapshot gives them, plus 50 far levels a side outside the ladder's window.
//!
//! Run: `cargo bench -p kestrel-model --bench book -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kestrel_model::book::{BookConfig, BookError, BookSide, DepthDiff, Flavor, Level, OrderBook};
use kestrel_model::{Money, Price, Qty};

const TICK_RAW: i64 = 10_000_000; // 0.1
const BEST_BID_TICKS: i64 = 600_000; // 60,000.0
const SNAPSHOT_ID: u64 = 1_000_000;

fn price(ticks: i64) -> Price {
    Price::from_raw(ticks * TICK_RAW)
}

/// xorshift64*: a deterministic book for every run.
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
        Qty::from_raw(100_000 * (1 + self.below(20_000))) // 0.001 to 20 BTC
    }
}

/// Ticks below the best bid (or above the best ask) of the snapshot's 1,000 levels: gaps of one
/// or two ticks, as in a BTCUSDT snapshot (1,000 levels over about 1,500 ticks).
fn depths(rng: &mut Rng) -> Vec<i64> {
    let mut depth = 0;
    let mut depths = Vec::with_capacity(1_050);
    for _ in 0..1_000 {
        depths.push(depth);
        depth += 1 + rng.below(2);
    }
    for i in 0..50 {
        depths.push(20_000 + 97 * i);
    }
    depths
}

fn realistic_book() -> Result<OrderBook, BookError> {
    let mut rng = Rng(0x0b00_c0de);
    let bid_depths = depths(&mut rng);
    let ask_depths = depths(&mut rng);
    let bids: Vec<Level> = bid_depths
        .iter()
        .map(|d| Level::new(price(BEST_BID_TICKS - d), rng.qty()))
        .collect();
    let asks: Vec<Level> = ask_depths
        .iter()
        .map(|d| Level::new(price(BEST_BID_TICKS + 1 + d), rng.qty()))
        .collect();
    let mut book = OrderBook::new(BookConfig::new(price(1), Flavor::Futures))?;
    book.apply_snapshot(SNAPSHOT_ID, bids, asks)?;
    Ok(book)
}

/// Two 34-level diffs (17 a side, within 50 ticks of the touch) over the same prices: the first
/// removes a fifth of its levels, the second puts them back, so alternating them keeps the book
/// in a steady state.
fn diff_levels(rng: &mut Rng) -> [(Vec<Level>, Vec<Level>); 2] {
    let mut pick = |side: BookSide| {
        let mut depths: Vec<i64> = Vec::with_capacity(17);
        while depths.len() < 17 {
            let depth = rng.below(50);
            if !depths.contains(&depth) {
                depths.push(depth);
            }
        }
        let prices: Vec<Price> = depths
            .iter()
            .map(|d| match side {
                BookSide::Bid => price(BEST_BID_TICKS - d),
                BookSide::Ask => price(BEST_BID_TICKS + 1 + d),
            })
            .collect();
        let removing: Vec<Level> = prices
            .iter()
            .enumerate()
            .map(|(i, &p)| Level::new(p, if i % 5 == 0 { Qty::ZERO } else { rng.qty() }))
            .collect();
        let restoring: Vec<Level> = prices.iter().map(|&p| Level::new(p, rng.qty())).collect();
        (removing, restoring)
    };
    let (bids_a, bids_b) = pick(BookSide::Bid);
    let (asks_a, asks_b) = pick(BookSide::Ask);
    [(bids_a, asks_a), (bids_b, asks_b)]
}

fn updates(c: &mut Criterion) -> Result<(), BookError> {
    let mut group = c.benchmark_group("book/update");
    let best_bid = price(BEST_BID_TICKS);
    let (qty_a, qty_b) = (Qty::from_raw(150_000_000), Qty::from_raw(250_000_000));

    let mut book = realistic_book()?;
    let mut flip = false;
    group.bench_function("top-of-book qty change", |b| {
        b.iter(|| {
            flip = !flip;
            let qty = if flip { qty_a } else { qty_b };
            book.set_level(BookSide::Bid, black_box(best_bid), black_box(qty))
        })
    });

    let mut book = realistic_book()?;
    let best_qty = book.qty_at(BookSide::Bid, best_bid);
    group.bench_function("best level remove + reinsert (2 updates)", |b| {
        b.iter(|| {
            book.set_level(BookSide::Bid, black_box(best_bid), Qty::ZERO)?;
            book.set_level(BookSide::Bid, black_box(best_bid), black_box(best_qty))
        })
    });

    let mut book = realistic_book()?;
    let deep = book
        .levels(BookSide::Ask)
        .nth(500)
        .map_or(best_bid, |l| l.price);
    group.bench_function("deep level qty change (500th level)", |b| {
        b.iter(|| {
            flip = !flip;
            let qty = if flip { qty_a } else { qty_b };
            book.set_level(BookSide::Ask, black_box(deep), black_box(qty))
        })
    });

    let mut book = realistic_book()?;
    let far = price(BEST_BID_TICKS + 1 + 20_000 + 97 * 25);
    group.bench_function("far level qty change (outside the window)", |b| {
        b.iter(|| {
            flip = !flip;
            let qty = if flip { qty_a } else { qty_b };
            book.set_level(BookSide::Ask, black_box(far), black_box(qty))
        })
    });

    let mut book = realistic_book()?;
    let diffs = diff_levels(&mut Rng(0xd1ff));
    let mut last_id = SNAPSHOT_ID;
    let mut next = 0;
    group.bench_function("apply_diff 34 levels (sequenced)", |b| {
        b.iter(|| {
            let (bids, asks) = &diffs[next];
            next ^= 1;
            let diff = DepthDiff {
                first_update_id: last_id - 1,
                final_update_id: last_id + 10,
                prev_final_update_id: Some(last_id),
                bids,
                asks,
            };
            last_id += 10;
            book.apply_diff(black_box(&diff))
        })
    });
    let mut book = realistic_book()?;
    let bids: Vec<Level> = book.levels(BookSide::Bid).collect();
    let asks: Vec<Level> = book.levels(BookSide::Ask).collect();
    group.bench_function("apply_snapshot 1,050 + 1,050 levels", |b| {
        b.iter(|| book.apply_snapshot(SNAPSHOT_ID, bids.iter().copied(), asks.iter().copied()))
    });
    group.finish();
    Ok(())
}

fn reads(c: &mut Criterion) -> Result<(), BookError> {
    let mut group = c.benchmark_group("book/read");
    let book = realistic_book()?;
    group.bench_function("best bid + best ask", |b| {
        b.iter(|| (black_box(&book).best_bid(), black_box(&book).best_ask()))
    });
    group.bench_function("mid", |b| b.iter(|| black_box(&book).mid()));
    let mut out = Vec::with_capacity(20);
    group.bench_function("top 20 bids copied into a Vec", |b| {
        b.iter(|| {
            black_box(&book).copy_top(BookSide::Bid, 20, &mut out);
            out.len()
        })
    });
    group.bench_function("top_hash(20)", |b| b.iter(|| black_box(&book).top_hash(20)));
    let target = Money::from_raw(1_000_000 * 10_000_000_000_000_000); // 1,000,000 USDT
    group.bench_function("depth_to_notional 1M USDT", |b| {
        b.iter(|| black_box(&book).depth_to_notional(BookSide::Ask, black_box(target)))
    });
    group.finish();
    Ok(())
}

fn book(c: &mut Criterion) {
    if let Err(error) = updates(c).and_then(|()| reads(c)) {
        eprintln!("book benchmark setup failed: {error}");
        std::process::exit(1);
    }
}

criterion_group!(benches, book);
criterion_main!(benches);
