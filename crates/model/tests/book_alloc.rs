//! Proves the order book's hot path allocates nothing once warmed up: a counting global
//! allocator watches 100,000 mixed operations on a 1,000-level-per-side book (top-of-book
//! changes, best-level deletions and insertions, deep and far levels, price jumps that recentre
//! the ladder both ways, sequenced diffs, snapshots and reads) and must count zero.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kestrel_testkit::{CountingAllocator, allocations};

use kestrel_model::book::{
    BookConfig, BookSide, DepthDiff, Flavor, Level, OrderBook, SyncDecision,
};
use kestrel_model::{Money, Price, Qty};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const TICK_RAW: i64 = 10_000_000; // 0.1, as BTCUSDT
const START_BID_TICKS: i64 = 600_000; // 60,000.0

fn price(ticks: i64) -> Price {
    Price::from_raw(ticks * TICK_RAW)
}

fn ticks(price: Price) -> i64 {
    price.raw() / TICK_RAW
}

/// xorshift64*: deterministic and allocation-free.
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
        Qty::from_raw(1_000 * (1 + self.below(5_000_000)))
    }
}

/// 1,000 dense levels a side around 60,000 plus 100 far ones, as a REST snapshot would give.
fn snapshot_levels() -> (Vec<Level>, Vec<Level>) {
    let mut rng = Rng(7);
    let bids = (0..1000)
        .map(|i| START_BID_TICKS - i)
        .chain((0..100).map(|i| START_BID_TICKS - 20_000 - 37 * i))
        .map(|t| Level::new(price(t), rng.qty()))
        .collect();
    let asks = (0..1000)
        .map(|i| START_BID_TICKS + 1 + i)
        .chain((0..100).map(|i| START_BID_TICKS + 20_000 + 37 * i))
        .map(|t| Level::new(price(t), rng.qty()))
        .collect();
    (bids, asks)
}

/// Reusable buffers and stream state for the workload.
struct Workload {
    rng: Rng,
    bids: Vec<Level>,
    asks: Vec<Level>,
    top: Vec<Level>,
    last_final_id: u64,
    /// Whether the next diff is the first after a snapshot (it must straddle its id).
    after_snapshot: bool,
    jumps: [Option<Price>; 2],
    /// Where the market is, in ticks (the best bid of an uncrossed book).
    reference_ticks: i64,
    applied_diffs: u64,
    checksum: u64,
}

impl Workload {
    fn new(seed: u64, last_final_id: u64) -> Self {
        Self {
            rng: Rng(seed),
            bids: Vec::with_capacity(64),
            asks: Vec::with_capacity(64),
            top: Vec::with_capacity(64),
            last_final_id,
            after_snapshot: true,
            jumps: [None, None],
            reference_ticks: START_BID_TICKS,
            applied_diffs: 0,
            checksum: 0,
        }
    }

    /// The best price of `side` in ticks, or the reference price when the side is empty.
    fn best_ticks(&self, book: &OrderBook, side: BookSide) -> i64 {
        book.best(side)
            .map_or_else(|| self.off_reference(side, 0), |l| ticks(l.price))
    }

    /// `depth` ticks worse than the reference price on `side` (negative: better).
    fn off_reference(&self, side: BookSide, depth: i64) -> i64 {
        match side {
            BookSide::Bid => self.reference_ticks - depth,
            BookSide::Ask => self.reference_ticks + 1 + depth,
        }
    }

    fn step(&mut self, book: &mut OrderBook) {
        // The market wanders around its starting price, a tick at a time.
        self.reference_ticks += self.rng.below(3) - 1;
        self.reference_ticks = self
            .reference_ticks
            .clamp(START_BID_TICKS - 300, START_BID_TICKS + 300);
        let side = if self.rng.below(2) == 0 {
            BookSide::Bid
        } else {
            BookSide::Ask
        };
        let side_index = usize::from(side == BookSide::Ask);
        match self.rng.below(100) {
            // Top-of-book quantity change.
            0..30 => {
                let at = price(self.best_ticks(book, side));
                book.set_level(side, at, self.rng.qty()).unwrap();
            }
            // The best level is taken out.
            30..40 => {
                let at = price(self.best_ticks(book, side));
                book.set_level(side, at, Qty::ZERO).unwrap();
            }
            // A level at the touch or one tick better.
            40..50 => {
                let depth = -self.rng.below(2);
                let at = price(self.off_reference(side, depth));
                book.set_level(side, at, self.rng.qty()).unwrap();
            }
            // A level anywhere in the first 1,500 ticks: insert, update or remove.
            50..70 => {
                let depth = self.rng.below(1_500);
                let at = price(self.off_reference(side, depth));
                let qty = if self.rng.below(3) == 0 {
                    Qty::ZERO
                } else {
                    self.rng.qty()
                };
                book.set_level(side, at, qty).unwrap();
            }
            // A far level (the overflow storage), 5,000 to 25,000 ticks deep.
            70..75 => {
                let depth = 5_000 + 100 * self.rng.below(200);
                let at = price(self.off_reference(side, depth));
                let qty = if self.rng.below(2) == 0 {
                    Qty::ZERO
                } else {
                    self.rng.qty()
                };
                book.set_level(side, at, qty).unwrap();
            }
            // A price jump: a level 2,500 ticks better (the ladder recentres onto it), and
            // later its removal (the ladder recentres back).
            75..77 => match self.jumps[side_index].take() {
                Some(at) => book.set_level(side, at, Qty::ZERO).unwrap(),
                None => {
                    let at = price(self.off_reference(side, -2_500));
                    book.set_level(side, at, self.rng.qty()).unwrap();
                    self.jumps[side_index] = Some(at);
                }
            },
            // A sequenced 34-level diff near the top (the median Binance diff size).
            77..92 => self.apply_diff(book),
            // Reads a strategy makes.
            _ => {
                book.copy_top(side, 20, &mut self.top);
                self.checksum ^= book.top_hash(20);
                if let Ok(fill) = book.depth_to_notional(side, Money::from_raw(5 << 60)) {
                    self.checksum ^= fill.qty.raw() as u64;
                }
                self.checksum ^= book.mid().map_or(0, |p| p.raw() as u64);
                self.checksum ^= book.spread().map_or(0, |p| p.raw() as u64);
                self.checksum ^= self.top.len() as u64;
            }
        }
    }

    fn apply_diff(&mut self, book: &mut OrderBook) {
        self.bids.clear();
        self.asks.clear();
        for i in 0..34 {
            let side = if i % 2 == 0 {
                BookSide::Bid
            } else {
                BookSide::Ask
            };
            let depth = self.rng.below(40);
            let at = price(self.off_reference(side, depth));
            let qty = if self.rng.below(4) == 0 {
                Qty::ZERO
            } else {
                self.rng.qty()
            };
            match side {
                BookSide::Bid => self.bids.push(Level::new(at, qty)),
                BookSide::Ask => self.asks.push(Level::new(at, qty)),
            }
        }
        let first = if self.after_snapshot {
            self.last_final_id - self.rng.below(50) as u64
        } else {
            self.last_final_id + 1 + self.rng.below(50) as u64
        };
        let last = first.max(self.last_final_id) + self.rng.below(200) as u64;
        self.after_snapshot = false;
        let diff = DepthDiff {
            first_update_id: first,
            final_update_id: last,
            prev_final_update_id: Some(self.last_final_id),
            bids: &self.bids,
            asks: &self.asks,
        };
        assert_eq!(book.apply_diff(&diff).unwrap(), SyncDecision::Apply);
        self.last_final_id = last;
        self.applied_diffs += 1;
    }
}

#[test]
fn hot_path_allocates_nothing_after_warm_up() {
    let before = allocations();
    drop(std::hint::black_box(Vec::<u8>::with_capacity(16)));
    assert!(
        allocations() > before,
        "the counting allocator is not counting"
    );

    let (bids, asks) = snapshot_levels();
    let config = BookConfig {
        // Room for the window spilling into the overflow during price jumps.
        far_capacity: 4096,
        ..BookConfig::new(price(1), Flavor::Futures)
    };
    let mut book = OrderBook::new(config).unwrap();

    // Warm-up: one pass of the same kind of workload, with its own seed.
    book.apply_snapshot(1_000, bids.iter().copied(), asks.iter().copied())
        .unwrap();
    let mut warm_up = Workload::new(0x5eed_0001, 1_000);
    for _ in 0..100_000 {
        warm_up.step(&mut book);
    }
    let mut workload = Workload::new(0x5eed_0002, 2_000);

    let before = allocations();
    book.apply_snapshot(2_000, bids.iter().copied(), asks.iter().copied())
        .unwrap();
    for i in 0..100_000 {
        workload.step(&mut book);
        if i == 50_000 {
            // A resnapshot mid-stream, as after a gap.
            let next = workload.last_final_id + 1;
            book.apply_snapshot(next, bids.iter().copied(), asks.iter().copied())
                .unwrap();
            workload.last_final_id = next;
            workload.after_snapshot = true;
        }
    }
    let allocated = allocations() - before;

    assert_eq!(
        allocated, 0,
        "allocations during 100,000 hot-path operations"
    );
    assert!(
        workload.applied_diffs > 10_000,
        "the workload applied diffs"
    );
    assert!(book.len(BookSide::Bid) > 500 && book.len(BookSide::Ask) > 500);
    std::hint::black_box(workload.checksum);
}
