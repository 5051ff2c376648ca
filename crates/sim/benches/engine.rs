//! Benchmarks of the matching engine on a realistic book: BTCUSDT-like (tick 0.1, mid around
//! 60,000.0), 500 resting orders a side spread over the 200 ticks behind the touch (about 2.5
//! orders per level), from three accounts.
//!
//! - `engine/mix`: the headline figure. One operation per iteration drawn from a fixed-seed
//!   mix of 50% passive adds (0.001 to 1 BTC; three in four within 20 ticks of the touch, the
//!   rest within 200), 35% cancels of random resting orders and 15% small IOC takes (0.001 to
//!   1 BTC, up to 10 ticks through the touch). The book is
//!   held near 1,000 orders: above 1,100 an add becomes a cancel, below 900 a cancel becomes an
//!   add; the realised mix is printed at the end. Events and the L2 change log are drained as
//!   the exchange layer would.
//! - `engine/single`: one operation kind at a time on the same book: a resting add, a cancel,
//!   and a taker that clears one two-order level.
//!
//! Run: `cargo bench -p kestrel-sim --bench engine -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kestrel_model::book::BookSide;
use kestrel_model::order::{Side, TimeInForce};
use kestrel_model::{Price, Qty};
use kestrel_sim::engine::{
    AccountId, EngineConfig, EngineEvent, LevelChange, MatchingEngine, NewOrder, OrderId,
    TakerStatus,
};

const TICK_RAW: i64 = 10_000_000; // 0.1
const MID_TICKS: i64 = 600_000; // 60,000.0
const BOOK_ORDERS_PER_SIDE: usize = 500;
const TARGET_ORDERS: usize = 1_000;
const BOTH: [Side; 2] = [Side::Buy, Side::Sell];

fn price(ticks: i64) -> Price {
    Price::from_raw(ticks * TICK_RAW)
}

/// xorshift64*: the same order flow on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn ticks_below(&mut self, n: u64) -> i64 {
        i64::try_from(self.below(n)).unwrap_or(0)
    }

    /// 0.001 to `max_milli` / 1000 BTC in steps of 0.001.
    fn qty(&mut self, max_milli: u64) -> Qty {
        Qty::from_raw(100_000 * (1 + self.ticks_below(max_milli)))
    }

    fn side(&mut self) -> Side {
        if self.below(2) == 0 {
            Side::Buy
        } else {
            Side::Sell
        }
    }

    fn account(&mut self) -> AccountId {
        AccountId(u32::try_from(self.below(3)).unwrap_or(0))
    }
}

/// An order flow against one engine, with the caller-side state the exchange layer keeps.
struct Flow {
    engine: MatchingEngine,
    rng: Rng,
    next_id: OrderId,
    /// Ids that were resting when last seen; fills remove some without telling this list.
    live: Vec<OrderId>,
    events: Vec<EngineEvent>,
    changes: Vec<LevelChange>,
    counts: [u64; 3],
}

impl Flow {
    /// The realistic starting book, with orders on `sides` only.
    fn new(seed: u64, sides: &[Side]) -> Self {
        let mut flow = Self {
            engine: MatchingEngine::new(EngineConfig {
                last_update_id: 1_000_000,
                last_trade_id: 0,
                order_capacity: 4_096,
            }),
            rng: Rng(seed),
            next_id: 1,
            live: Vec::with_capacity(4_096),
            events: Vec::with_capacity(64),
            changes: Vec::with_capacity(8_192),
            counts: [0; 3],
        };
        for &side in sides {
            for _ in 0..BOOK_ORDERS_PER_SIDE {
                let depth = flow.rng.ticks_below(200);
                let ticks = match side {
                    Side::Buy => MID_TICKS - 1 - depth,
                    Side::Sell => MID_TICKS + 1 + depth,
                };
                let qty = flow.rng.qty(1_000);
                flow.add(side, price(ticks), qty, TimeInForce::Gtc);
            }
        }
        flow.events.clear();
        flow.engine.clear_level_changes();
        flow
    }

    fn add(&mut self, side: Side, price: Price, qty: Qty, tif: TimeInForce) -> bool {
        let id = self.next_id;
        self.next_id += 1;
        let account = self.rng.account();
        let order = NewOrder::limit(id, account, side, price, qty, tif).with_tag(id);
        let rested = self
            .engine
            .submit(order, &mut self.events)
            .is_ok_and(|o| matches!(o.status, TakerStatus::Rested { .. }));
        if rested {
            self.live.push(id);
        }
        rested
    }

    /// The touch on `side`, or one tick off the mid when the side is empty.
    fn touch(&self, side: BookSide) -> i64 {
        match (self.engine.best(side), side) {
            (Some(level), _) => level.price.raw() / TICK_RAW,
            (None, BookSide::Bid) => MID_TICKS - 1,
            (None, BookSide::Ask) => MID_TICKS + 1,
        }
    }

    /// A passive limit behind the touch: within 20 ticks three times in four, else within 200.
    fn add_near_touch(&mut self) {
        let side = self.rng.side();
        let spread = if self.rng.below(4) == 0 { 200 } else { 20 };
        let behind = self.rng.ticks_below(spread);
        let ticks = match side {
            Side::Buy => self.touch(BookSide::Ask) - 1 - behind,
            Side::Sell => self.touch(BookSide::Bid) + 1 + behind,
        };
        let qty = self.rng.qty(1_000);
        self.add(side, price(ticks), qty, TimeInForce::Gtc);
    }

    /// Cancels a random resting order (skipping ids that fills already removed).
    fn cancel_random(&mut self) {
        while !self.live.is_empty() {
            let index = usize::try_from(self.rng.below(self.live.len() as u64)).unwrap_or(0);
            let id = self.live.swap_remove(index);
            if self.engine.cancel(id, &mut self.events).is_ok() {
                return;
            }
        }
    }

    /// A small IOC (0.001 to 1 BTC) that crosses up to 10 ticks through the touch.
    fn take(&mut self) {
        let side = self.rng.side();
        let through = self.rng.ticks_below(10);
        let ticks = match side {
            Side::Buy => self.touch(BookSide::Ask) + through,
            Side::Sell => self.touch(BookSide::Bid) - through,
        };
        let qty = self.rng.qty(1_000);
        self.add(side, price(ticks), qty, TimeInForce::Ioc);
    }

    /// One operation of the mix.
    fn step(&mut self) {
        self.events.clear();
        let orders = self.engine.open_order_count();
        let roll = self.rng.below(100);
        let kind = match roll {
            0..50 if orders > TARGET_ORDERS + 100 => 1,
            50..85 if orders < TARGET_ORDERS - 100 => 0,
            0..50 => 0,
            50..85 => 1,
            _ => 2,
        };
        match kind {
            0 => self.add_near_touch(),
            1 => self.cancel_random(),
            _ => self.take(),
        }
        self.counts[kind] += 1;
        self.engine.drain_level_changes(&mut self.changes);
        if self.changes.len() > 4_096 {
            self.changes.clear();
        }
    }
}

fn mix(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    let mut flow = Flow::new(0x5eed_0001, &BOTH);
    group.bench_function("mix 50% add / 35% cancel / 15% take", |b| {
        b.iter(|| flow.step())
    });
    group.finish();
    let total: u64 = flow.counts.iter().sum::<u64>().max(1);
    let share = |n: u64| n * 1_000 / total;
    eprintln!(
        "engine/mix: {total} ops, realised mix add {}‰ / cancel {}‰ / take {}‰, \
         book at end {} orders ({} bid levels, {} ask levels), {} trades",
        share(flow.counts[0]),
        share(flow.counts[1]),
        share(flow.counts[2]),
        flow.engine.open_order_count(),
        flow.engine.level_count(BookSide::Bid),
        flow.engine.level_count(BookSide::Ask),
        flow.engine.last_trade_id(),
    );
}

/// Times `op` on batches of `BATCH`, undoing each batch outside the timing.
const BATCH: u64 = 1_000;

fn single(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine/single");
    group.throughput(Throughput::Elements(1));

    let mut flow = Flow::new(0x5eed_0002, &BOTH);
    group.bench_function("add resting limit near the touch", |b| {
        b.iter_custom(|iters| timed_batches(iters, &mut flow, add_batch))
    });

    let mut flow = Flow::new(0x5eed_0003, &BOTH);
    group.bench_function("cancel resting order", |b| {
        b.iter_custom(|iters| timed_batches(iters, &mut flow, cancel_batch))
    });

    // Bids only: the stacked ask levels are the whole ask side, so each taker meets exactly
    // the two orders it was sized for.
    let mut flow = Flow::new(0x5eed_0004, &[Side::Buy]);
    group.bench_function("taker clears one level (2 fills)", |b| {
        b.iter_custom(|iters| timed_batches(iters, &mut flow, take_batch))
    });
    group.finish();
}

/// Runs `batch` (which times `n` operations and returns the time) until `iters` are done.
fn timed_batches(iters: u64, flow: &mut Flow, batch: fn(&mut Flow, u64) -> Duration) -> Duration {
    let mut done = 0;
    let mut elapsed = Duration::ZERO;
    while done < iters {
        let n = BATCH.min(iters - done);
        elapsed += batch(flow, n);
        done += n;
    }
    elapsed
}

/// Times `n` passive adds, then cancels them untimed.
fn add_batch(flow: &mut Flow, n: u64) -> Duration {
    let mark = flow.live.len();
    let start = Instant::now();
    for _ in 0..n {
        flow.events.clear();
        flow.add_near_touch();
    }
    let elapsed = start.elapsed();
    for id in flow.live.split_off(mark) {
        black_box(flow.engine.cancel(id, &mut flow.events).is_ok());
    }
    flow.events.clear();
    flow.engine.clear_level_changes();
    elapsed
}

/// Adds `n` passive orders untimed, then times cancelling them in random order.
fn cancel_batch(flow: &mut Flow, n: u64) -> Duration {
    let mark = flow.live.len();
    for _ in 0..n {
        flow.add_near_touch();
    }
    let mut ids = flow.live.split_off(mark);
    for i in (1..ids.len()).rev() {
        let j = usize::try_from(flow.rng.below(i as u64 + 1)).unwrap_or(0);
        ids.swap(i, j);
    }
    flow.events.clear();
    let start = Instant::now();
    for &id in &ids {
        flow.events.clear();
        black_box(flow.engine.cancel(black_box(id), &mut flow.events).is_ok());
    }
    let elapsed = start.elapsed();
    flow.engine.clear_level_changes();
    elapsed
}

/// Stacks `n` two-order ask levels above the book untimed (the best at the bottom), then
/// times `n` IOC buys that each clear exactly the best of them.
fn take_batch(flow: &mut Flow, n: u64) -> Duration {
    let n = i64::try_from(n).unwrap_or(0);
    let bottom = flow.touch(BookSide::Bid) + 1;
    let (first, second) = (Qty::from_raw(40_000_000), Qty::from_raw(60_000_000));
    for level in 0..n {
        let at = price(bottom + level);
        flow.add(Side::Sell, at, first, TimeInForce::Gtc);
        flow.add(Side::Sell, at, second, TimeInForce::Gtc);
    }
    let qty = Qty::from_raw(100_000_000);
    let start = Instant::now();
    for level in 0..n {
        flow.events.clear();
        let id = flow.next_id;
        flow.next_id += 1;
        let order = NewOrder::limit(
            id,
            AccountId(9),
            Side::Buy,
            price(bottom + level),
            qty,
            TimeInForce::Ioc,
        );
        black_box(
            flow.engine
                .submit(black_box(order), &mut flow.events)
                .is_ok(),
        );
    }
    let elapsed = start.elapsed();
    flow.live.clear();
    flow.engine.clear_level_changes();
    elapsed
}

criterion_group!(benches, mix, single);
criterion_main!(benches);
