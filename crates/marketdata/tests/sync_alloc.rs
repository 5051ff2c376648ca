//! Proves the market-data hot paths allocate nothing once warmed up: a counting global
//! allocator watches steady-state diffs on a 1,000-level-per-side [`SymbolSync`], a full resync
//! cycle (gap, buffering, snapshot, replay) after a first one has sized the buffer, and
//! [`TradeFlow::on_trade`]; each must count zero.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kestrel_testkit::{CountingAllocator, allocations};

use kestrel_marketdata::flow::{FlowConfig, TradeFlow};
use kestrel_marketdata::sync::{DiffOutcome, SnapshotOutcome, SymbolSync, SyncConfig};
use kestrel_model::book::{DepthDiff, Flavor, Level};
use kestrel_model::{Price, Qty, Trade};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Allocations made by `work` on this thread.
fn allocations_in<T>(work: impl FnOnce() -> T) -> (u64, T) {
    let before = allocations();
    let result = work();
    (allocations() - before, result)
}

const TICK_RAW: i64 = 10_000_000; // 0.1
const BEST_BID: i64 = 600_000; // 60,000.0 in ticks

fn price(ticks: i64) -> Price {
    Price::from_raw(ticks * TICK_RAW)
}

/// 1,000 levels a side, one tick apart, around a one-tick spread.
fn snapshot() -> (Vec<Level>, Vec<Level>) {
    let qty = |i: i64| Qty::from_raw(100_000 * (1 + i % 97));
    let bids = (0..1000)
        .map(|i| Level::new(price(BEST_BID - i), qty(i)))
        .collect();
    let asks = (0..1000)
        .map(|i| Level::new(price(BEST_BID + 1 + i), qty(i + 7)))
        .collect();
    (bids, asks)
}

/// Two 34-level diffs (17 a side, near the touch): the first removes every fifth level, the
/// second restores them, so alternating them keeps the book steady.
fn diff_pair() -> [(Vec<Level>, Vec<Level>); 2] {
    let side = |sign: i64, start: i64, removing: bool| -> Vec<Level> {
        (0..17)
            .map(|i| {
                let qty = if removing && i % 5 == 0 {
                    0
                } else {
                    300_000 + i
                };
                Level::new(price(start + sign * i * 2), Qty::from_raw(qty))
            })
            .collect()
    };
    [
        (side(-1, BEST_BID, true), side(1, BEST_BID + 1, true)),
        (side(-1, BEST_BID, false), side(1, BEST_BID + 1, false)),
    ]
}

/// Feeds `count` chained diffs after update id `*last`, alternating the pair.
fn feed(sync: &mut SymbolSync, pair: &[(Vec<Level>, Vec<Level>); 2], last: &mut u64, count: u64) {
    for i in 0..count {
        let (bids, asks) = &pair[(i % 2) as usize];
        // `U` at the previous `u`: the first diff after a snapshot straddles it (§7.1 step 4).
        let diff = DepthDiff {
            first_update_id: *last,
            final_update_id: *last + 5,
            prev_final_update_id: Some(*last),
            bids,
            asks,
        };
        *last += 5;
        assert_eq!(sync.on_diff(&diff), DiffOutcome::Applied);
    }
}

/// A gap, `buffered` events buffered after it, then a snapshot they connect to.
fn resync_cycle(
    sync: &mut SymbolSync,
    pair: &[(Vec<Level>, Vec<Level>); 2],
    snapshot: &(Vec<Level>, Vec<Level>),
    last: &mut u64,
    buffered: u64,
) {
    *last += 100; // lost updates: the first event's pu is 100 past the book's u
    let mut resynced = false;
    for i in 0..buffered {
        let (bids, asks) = &pair[(i % 2) as usize];
        let diff = DepthDiff {
            first_update_id: *last + 1,
            final_update_id: *last + 5,
            prev_final_update_id: Some(*last),
            bids,
            asks,
        };
        *last += 5;
        let outcome = sync.on_diff(&diff);
        resynced |= matches!(outcome, DiffOutcome::Resync(_));
    }
    assert!(resynced && sync.needs_snapshot());
    let outcome = sync.on_snapshot(*last - 2, &snapshot.0, &snapshot.1);
    assert!(matches!(outcome, SnapshotOutcome::Synced(_)), "{outcome:?}");
}

#[test]
fn steady_state_diffs_and_resyncs_allocate_nothing_after_warm_up() {
    let snapshot = snapshot();
    let pair = diff_pair();
    let mut sync = SymbolSync::new(SyncConfig::new(price(1), Flavor::Futures)).unwrap();
    let outcome = sync.on_snapshot(1_000, &snapshot.0, &snapshot.1);
    assert!(matches!(outcome, SnapshotOutcome::Synced(_)));
    let mut last = 1_000;
    feed(&mut sync, &pair, &mut last, 2_000);
    let (sizing, ()) = allocations_in(|| resync_cycle(&mut sync, &pair, &snapshot, &mut last, 64));
    assert!(
        sizing > 0,
        "the first resync sizes the buffer (and proves the counter counts)"
    );

    let (steady, ()) = allocations_in(|| feed(&mut sync, &pair, &mut last, 100_000));
    assert_eq!(steady, 0, "allocations in 100,000 steady-state diffs");
    let (resync, ()) = allocations_in(|| resync_cycle(&mut sync, &pair, &snapshot, &mut last, 64));
    assert_eq!(
        resync, 0,
        "allocations in a resync cycle once the buffer is sized"
    );
    assert_eq!(sync.counters().resnapshots, 2);
    assert_eq!(sync.book().len(kestrel_model::BookSide::Bid), 1000);
}

#[test]
fn trade_flow_allocates_nothing_per_trade() {
    let mut flow = TradeFlow::new(&FlowConfig::default()).unwrap();
    let mut trade = Trade {
        symbol: "BTCUSDT".to_owned(),
        trade_id: 1,
        price: price(BEST_BID),
        quantity: Qty::from_raw(1_000_000),
        timestamp_ms: 1_723_161_256_000,
        buyer_is_maker: false,
    };
    let (count, ()) = allocations_in(|| {
        for i in 0..100_000u64 {
            trade.trade_id += 1;
            trade.timestamp_ms += i % 7; // ~3.5 ms apart: buckets fill and expire
            trade.buyer_is_maker = i % 3 == 0;
            flow.on_trade(&trade).unwrap();
        }
        flow.advance_to(trade.timestamp_ms + 120_000);
    });
    assert_eq!(count, 0, "allocations in 100,000 trades");
    assert_eq!(flow.counters().accepted, 100_000);
    assert_eq!(flow.window(2).unwrap().trades, 0);
}
