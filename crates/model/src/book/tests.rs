//! Unit tests and a property test of the book against a `BTreeMap` model.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::{Money, Price, Qty};

const TICK: Price = Price::from_raw(10_000_000); // 0.1

fn px(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

fn lvl(price: &str, amount: &str) -> Level {
    Level::new(px(price), qty(amount))
}

const NO_LEVELS: [Level; 0] = [];

fn book() -> OrderBook {
    OrderBook::new(BookConfig::new(TICK, Flavor::Futures)).unwrap()
}

fn small_window_book() -> OrderBook {
    OrderBook::new(BookConfig {
        window_ticks: 64,
        far_capacity: 4,
        ..BookConfig::new(TICK, Flavor::Futures)
    })
    .unwrap()
}

fn all(book: &OrderBook, side: BookSide) -> Vec<Level> {
    book.levels(side).collect()
}

// ---------------------------------------------------------------------------------------------
// Levels

#[test]
fn bids_descend_and_asks_ascend() {
    let mut book = book();
    for price in ["99.8", "100.0", "99.9"] {
        book.set_level(BookSide::Bid, px(price), qty("1")).unwrap();
    }
    for price in ["100.3", "100.1", "100.2"] {
        book.set_level(BookSide::Ask, px(price), qty("2")).unwrap();
    }
    let bids: Vec<Price> = book.levels(BookSide::Bid).map(|l| l.price).collect();
    let asks: Vec<Price> = book.levels(BookSide::Ask).map(|l| l.price).collect();
    assert_eq!(bids, [px("100.0"), px("99.9"), px("99.8")]);
    assert_eq!(asks, [px("100.1"), px("100.2"), px("100.3")]);
    book.assert_invariants();
}

#[test]
fn set_level_replaces_the_quantity_it_does_not_add() {
    let mut book = book();
    book.set_level(BookSide::Bid, px("100"), qty("1")).unwrap();
    book.set_level(BookSide::Bid, px("100"), qty("3")).unwrap();
    assert_eq!(book.qty_at(BookSide::Bid, px("100")), qty("3"));
    assert_eq!(book.len(BookSide::Bid), 1);
}

#[test]
fn zero_qty_removes_level() {
    let mut book = book();
    book.set_level(BookSide::Ask, px("100.1"), qty("1"))
        .unwrap();
    book.set_level(BookSide::Ask, px("100.2"), qty("1"))
        .unwrap();
    book.set_level(BookSide::Ask, px("100.1"), Qty::ZERO)
        .unwrap();
    assert_eq!(all(&book, BookSide::Ask), [lvl("100.2", "1")]);
    assert_eq!(book.best_ask(), Some(lvl("100.2", "1")));
    book.assert_invariants();
}

#[test]
fn removing_a_level_not_held_is_ignored() {
    let mut book = book();
    book.set_level(BookSide::Bid, px("100"), qty("1")).unwrap();
    for price in ["99.9", "100.5", "1", "5000"] {
        book.set_level(BookSide::Bid, px(price), Qty::ZERO).unwrap();
    }
    book.set_level(BookSide::Ask, px("101"), Qty::ZERO).unwrap();
    assert_eq!(all(&book, BookSide::Bid), [lvl("100", "1")]);
    assert!(book.best_ask().is_none());
    book.assert_invariants();
}

#[test]
fn best_mid_and_spread_follow_the_top_of_book() {
    let mut book = book();
    assert_eq!(
        (book.best_bid(), book.mid(), book.spread()),
        (None, None, None)
    );
    book.set_level(BookSide::Bid, px("100.0"), qty("1"))
        .unwrap();
    assert_eq!(book.best_bid(), Some(lvl("100.0", "1")));
    assert_eq!((book.mid(), book.spread()), (None, None));
    book.set_level(BookSide::Ask, px("100.3"), qty("2"))
        .unwrap();
    assert_eq!(book.mid(), Some(px("100.15")));
    assert_eq!(book.spread(), Some(px("0.3")));
    assert!(!book.is_crossed());
}

#[test]
fn crossing_levels_are_stored_as_given() {
    let mut book = book();
    book.set_level(BookSide::Ask, px("100.1"), qty("1"))
        .unwrap();
    book.set_level(BookSide::Bid, px("100.3"), qty("1"))
        .unwrap();
    book.set_level(BookSide::Bid, px("100.0"), qty("1"))
        .unwrap();
    assert_eq!(book.best_bid().map(|l| l.price), Some(px("100.3")));
    assert_eq!(book.best_ask().map(|l| l.price), Some(px("100.1")));
    assert_eq!(book.spread(), Some(px("-0.2")));
    assert!(book.is_crossed());
    assert_eq!(book.len(BookSide::Bid), 2);
}

#[test]
fn off_tick_price_is_rejected_and_book_unchanged() {
    let mut book = book();
    book.set_level(BookSide::Bid, px("100"), qty("1")).unwrap();
    let error = book
        .set_level(BookSide::Bid, px("100.05"), qty("1"))
        .unwrap_err();
    assert_eq!(
        error,
        BookError::OffTick {
            side: BookSide::Bid,
            price: px("100.05"),
            tick: TICK
        }
    );
    assert_eq!(
        error.to_string(),
        "book: bid price 100.05 is not a multiple of the tick size 0.1"
    );
    assert_eq!(all(&book, BookSide::Bid), [lvl("100", "1")]);
    assert_eq!(book.qty_at(BookSide::Bid, px("100.05")), Qty::ZERO);
}

#[test]
fn negative_qty_is_rejected() {
    let mut book = book();
    let error = book
        .set_level(BookSide::Ask, px("100"), qty("-1"))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "book: ask qty at 100 must be zero or positive, found -1"
    );
    assert!(book.is_empty());
}

#[test]
fn non_positive_price_is_rejected() {
    let mut book = book();
    for price in ["0", "-0.1"] {
        let error = book
            .set_level(BookSide::Bid, px(price), qty("1"))
            .unwrap_err();
        assert!(
            matches!(error, BookError::NonPositivePrice { .. }),
            "{error}"
        );
    }
    assert!(book.is_empty());
}

#[test]
fn non_positive_tick_is_rejected() {
    for tick in [Price::ZERO, px("-0.1")] {
        let error = OrderBook::new(BookConfig::new(tick, Flavor::Spot)).unwrap_err();
        assert_eq!(error, BookError::InvalidTick { tick });
    }
}

#[test]
fn window_size_is_normalised_to_a_power_of_two() {
    for (asked, got) in [(0, 64), (100, 128), (4096, 4096)] {
        let book = OrderBook::new(BookConfig {
            window_ticks: asked,
            ..BookConfig::new(TICK, Flavor::Futures)
        })
        .unwrap();
        assert_eq!(book.config().window_ticks, got);
    }
}

#[test]
fn levels_beyond_the_window_are_kept_in_order() {
    let mut book = small_window_book();
    // 64-tick window: 6.4 price units; these span thousands of ticks.
    for price in ["100", "1", "99.9", "50", "0.1", "75.5"] {
        book.set_level(BookSide::Bid, px(price), qty("1")).unwrap();
        book.assert_invariants();
    }
    let bids: Vec<Price> = book.levels(BookSide::Bid).map(|l| l.price).collect();
    assert_eq!(
        bids,
        [
            px("100"),
            px("99.9"),
            px("75.5"),
            px("50"),
            px("1"),
            px("0.1")
        ]
    );
    assert_eq!(book.qty_at(BookSide::Bid, px("50")), qty("1"));
}

#[test]
fn removing_the_best_finds_the_next_level_however_deep() {
    let mut book = small_window_book();
    for price in ["100", "500", "9000"] {
        book.set_level(BookSide::Ask, px(price), qty("1")).unwrap();
    }
    book.set_level(BookSide::Ask, px("100"), Qty::ZERO).unwrap();
    book.assert_invariants();
    assert_eq!(book.best_ask(), Some(lvl("500", "1")));
    book.set_level(BookSide::Ask, px("500"), Qty::ZERO).unwrap();
    book.assert_invariants();
    assert_eq!(book.best_ask(), Some(lvl("9000", "1")));
    book.set_level(BookSide::Ask, px("9000"), Qty::ZERO)
        .unwrap();
    book.assert_invariants();
    assert_eq!(book.best_ask(), None);
    assert!(book.is_empty());
}

#[test]
fn a_better_level_beyond_the_window_becomes_best() {
    let mut book = small_window_book();
    for price in ["100", "99", "98"] {
        book.set_level(BookSide::Bid, px(price), qty("1")).unwrap();
    }
    book.set_level(BookSide::Bid, px("250"), qty("2")).unwrap();
    book.assert_invariants();
    assert_eq!(book.best_bid(), Some(lvl("250", "2")));
    assert_eq!(book.len(BookSide::Bid), 4);
    assert_eq!(
        all(&book, BookSide::Bid)
            .iter()
            .map(|l| l.price)
            .collect::<Vec<_>>(),
        [px("250"), px("100"), px("99"), px("98")]
    );
}

#[test]
fn top_n_stops_at_n_or_at_the_book_depth() {
    let mut book = book();
    for i in 1..=30 {
        let price = Price::from_raw(1_000 * TICK.raw() + i * TICK.raw());
        book.set_level(BookSide::Ask, price, qty("1")).unwrap();
    }
    assert_eq!(book.top_n(), 20);
    let top = book.top(BookSide::Ask, book.top_n());
    assert_eq!(top.len(), 20);
    assert_eq!(top.last().map(|l| l.price), Some(px("102.0")));
    assert_eq!(book.top(BookSide::Ask, 100).len(), 30);
    assert_eq!(book.top(BookSide::Ask, 0).count(), 0);
    assert_eq!(book.top(BookSide::Bid, 5).count(), 0);
}

#[test]
fn copy_top_fills_the_callers_buffer() {
    let mut book = book();
    book.apply_snapshot(
        1,
        [lvl("100", "1"), lvl("99.9", "2"), lvl("99.8", "3")],
        [lvl("100.1", "4")],
    )
    .unwrap();
    let mut out = vec![lvl("1", "1"); 7];
    book.copy_top(BookSide::Bid, 2, &mut out);
    assert_eq!(out, [lvl("100", "1"), lvl("99.9", "2")]);
}

#[test]
fn level_reads_a_binance_price_qty_pair() {
    let levels: Vec<Level> = serde_json::from_str(r#"[["7.6110","6"],["7.6080","161"]]"#).unwrap();
    assert_eq!(levels, [lvl("7.611", "6"), lvl("7.608", "161")]);
}

// ---------------------------------------------------------------------------------------------
// Snapshots and clearing

#[test]
fn snapshot_replaces_everything() {
    let mut book = book();
    book.set_level(BookSide::Bid, px("50"), qty("1")).unwrap();
    book.set_level(BookSide::Ask, px("150"), qty("1")).unwrap();
    book.apply_snapshot(
        42,
        [lvl("100", "1"), lvl("99.9", "0")],
        [(px("100.1"), qty("2"))].map(Level::from),
    )
    .unwrap();
    assert_eq!(all(&book, BookSide::Bid), [lvl("100", "1")]);
    assert_eq!(all(&book, BookSide::Ask), [lvl("100.1", "2")]);
    assert_eq!(book.last_update_id(), Some(42));
    assert!(book.is_synced());
}

#[test]
fn snapshot_with_a_bad_level_leaves_the_book_empty_and_unsynced() {
    let mut book = book();
    book.apply_snapshot(1, [lvl("100", "1")], [lvl("101", "1")])
        .unwrap();
    let error = book
        .apply_snapshot(2, [lvl("100", "1")], [lvl("101.05", "1")])
        .unwrap_err();
    assert!(matches!(
        error,
        BookError::OffTick {
            side: BookSide::Ask,
            ..
        }
    ));
    assert!(book.is_empty());
    assert!(!book.is_synced());
    assert_eq!(book.last_update_id(), None);
}

#[test]
fn clear_empties_the_book_and_forgets_the_snapshot() {
    let mut book = small_window_book();
    book.apply_snapshot(7, [lvl("100", "1"), lvl("1", "1")], [lvl("101", "1")])
        .unwrap();
    book.clear();
    book.assert_invariants();
    assert!(book.is_empty());
    assert_eq!((book.len(BookSide::Bid), book.len(BookSide::Ask)), (0, 0));
    assert!(!book.is_synced());
}

// ---------------------------------------------------------------------------------------------
// Depth to a notional

#[test]
fn depth_to_notional_takes_part_of_the_last_level() {
    let mut book = book();
    book.apply_snapshot(
        1,
        NO_LEVELS,
        [lvl("100", "1"), lvl("101", "2"), lvl("102", "5")],
    )
    .unwrap();
    // 100 + 202 = 302 from the first two levels, then 48 / 102 = 0.47058823529… → rounded up.
    let fill = book
        .depth_to_notional(BookSide::Ask, Money::parse("350").unwrap())
        .unwrap();
    assert_eq!(fill.qty, qty("3.47058824"));
    assert_eq!(fill.worst_price, Some(px("102")));
    assert_eq!(fill.levels, 3);
    assert!(fill.complete);
    assert_eq!(fill.notional, Money::parse("350.00000048").unwrap());
}

#[test]
fn depth_to_notional_stops_exactly_at_a_level_boundary() {
    let mut book = book();
    book.apply_snapshot(1, [lvl("100", "1"), lvl("99", "1")], NO_LEVELS)
        .unwrap();
    let fill = book
        .depth_to_notional(BookSide::Bid, Money::parse("100").unwrap())
        .unwrap();
    assert_eq!(
        (fill.qty, fill.worst_price, fill.levels, fill.complete),
        (qty("1"), Some(px("100")), 1, true)
    );
}

#[test]
fn depth_to_notional_reports_a_thin_book() {
    let mut book = book();
    book.apply_snapshot(1, [lvl("100", "1"), lvl("99", "2")], NO_LEVELS)
        .unwrap();
    let fill = book
        .depth_to_notional(BookSide::Bid, Money::parse("1000").unwrap())
        .unwrap();
    assert!(!fill.complete);
    assert_eq!(fill.qty, qty("3"));
    assert_eq!(fill.notional, Money::parse("298").unwrap());
    assert_eq!(fill.worst_price, Some(px("99")));
    let empty = book
        .depth_to_notional(BookSide::Ask, Money::parse("1").unwrap())
        .unwrap();
    assert_eq!(
        (empty.qty, empty.worst_price, empty.levels, empty.complete),
        (Qty::ZERO, None, 0, false)
    );
}

#[test]
fn depth_to_notional_rejects_a_non_positive_target() {
    let book = book();
    let error = book
        .depth_to_notional(BookSide::Bid, Money::ZERO)
        .unwrap_err();
    assert_eq!(
        error,
        BookError::NonPositiveNotional {
            notional: Money::ZERO
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Top hash

#[test]
fn top_hash_matches_the_documented_fnv1a_definition() {
    // Independently computed (Python) over the byte layout documented on `top_hash`.
    let mut book = book();
    assert_eq!(book.top_hash(20), 0x8820_1fb9_60ff_6465);
    book.apply_snapshot(
        1,
        [lvl("100", "1.5"), lvl("99.9", "2")],
        [lvl("100.1", "0.25")],
    )
    .unwrap();
    assert_eq!(book.top_hash(20), 0x9dd3_48e6_a980_9a61);
}

#[test]
fn top_hash_ignores_the_update_order_and_what_lies_below_n() {
    let mut first = book();
    first
        .apply_snapshot(1, [lvl("100", "1"), lvl("99", "2")], [lvl("101", "3")])
        .unwrap();
    let mut second = small_window_book();
    second
        .set_level(BookSide::Ask, px("101"), qty("3"))
        .unwrap();
    second.set_level(BookSide::Bid, px("98"), qty("7")).unwrap();
    second.set_level(BookSide::Bid, px("99"), qty("2")).unwrap();
    second
        .set_level(BookSide::Bid, px("100"), qty("5"))
        .unwrap();
    second
        .set_level(BookSide::Bid, px("100"), qty("1"))
        .unwrap();
    assert_ne!(first.top_hash(20), second.top_hash(20));
    assert_eq!(first.top_hash(2), second.top_hash(2));
    second
        .set_level(BookSide::Bid, px("98"), Qty::ZERO)
        .unwrap();
    assert_eq!(first.top_hash(20), second.top_hash(20));
}

#[test]
fn top_hash_differs_when_a_qty_or_side_differs() {
    let mut bid = book();
    bid.set_level(BookSide::Bid, px("100"), qty("1")).unwrap();
    let mut ask = book();
    ask.set_level(BookSide::Ask, px("100"), qty("1")).unwrap();
    let mut other_qty = book();
    other_qty
        .set_level(BookSide::Bid, px("100"), qty("1.00000001"))
        .unwrap();
    assert_ne!(bid.top_hash(20), ask.top_hash(20));
    assert_ne!(bid.top_hash(20), other_qty.top_hash(20));
}

// ---------------------------------------------------------------------------------------------
// Sequencing

fn futures_synced_at(last_update_id: u64) -> DepthSequencer {
    let mut sequencer = DepthSequencer::new(Flavor::Futures);
    sequencer.on_snapshot(last_update_id);
    sequencer
}

fn spot_synced_at(last_update_id: u64) -> DepthSequencer {
    let mut sequencer = DepthSequencer::new(Flavor::Spot);
    sequencer.on_snapshot(last_update_id);
    sequencer
}

#[test]
fn events_before_any_snapshot_await_one() {
    let mut sequencer = DepthSequencer::new(Flavor::Futures);
    assert!(!sequencer.is_synced());
    assert_eq!(
        sequencer.check(1, 5, Some(0)),
        SyncDecision::AwaitingSnapshot
    );
    assert_eq!(sequencer.last_update_id(), None);
}

#[test]
fn stale_events_before_snapshot_are_dropped() {
    let mut sequencer = futures_synced_at(100);
    assert_eq!(sequencer.check(80, 90, Some(79)), SyncDecision::DropStale);
    assert_eq!(sequencer.check(91, 99, Some(90)), SyncDecision::DropStale);
    assert_eq!(sequencer.last_update_id(), Some(100));
}

#[test]
fn futures_first_event_must_straddle_the_snapshot() {
    let mut sequencer = futures_synced_at(100);
    assert_eq!(sequencer.check(95, 105, Some(94)), SyncDecision::Apply);
    assert_eq!(sequencer.last_update_id(), Some(105));
}

#[test]
fn futures_event_ending_at_the_snapshot_id_is_applied() {
    // §7.1 step 4 reads `u >= L`, so an event whose `u` is `L` itself is the first applied.
    let mut sequencer = futures_synced_at(100);
    assert_eq!(sequencer.check(95, 100, Some(94)), SyncDecision::Apply);
    assert_eq!(sequencer.check(101, 110, Some(100)), SyncDecision::Apply);
}

#[test]
fn futures_first_event_after_the_snapshot_id_is_a_gap() {
    let mut sequencer = futures_synced_at(100);
    let decision = sequencer.check(101, 110, Some(100));
    assert_eq!(
        decision,
        SyncDecision::Gap(SyncGap {
            rule: SyncRule::FuturesFirstStraddlesSnapshot,
            expected: 100,
            found: Some(101),
        })
    );
    assert!(!sequencer.is_synced());
}

#[test]
fn gap_in_pu_chain_is_reported() {
    let mut sequencer = futures_synced_at(100);
    assert_eq!(sequencer.check(95, 105, Some(94)), SyncDecision::Apply);
    assert_eq!(sequencer.check(106, 120, Some(105)), SyncDecision::Apply);
    let decision = sequencer.check(130, 140, Some(125));
    assert_eq!(
        decision,
        SyncDecision::Gap(SyncGap {
            rule: SyncRule::FuturesPrevFinalIdLinks,
            expected: 120,
            found: Some(125),
        })
    );
    let SyncDecision::Gap(gap) = decision else {
        unreachable!()
    };
    assert_eq!(
        gap.to_string(),
        "futures depth gap: pu must equal the previous u = 120, found pu 125"
    );
}

#[test]
fn futures_first_id_may_jump_when_pu_links() {
    // §7.2: "on futures, consecutive events need not have contiguous ids".
    let mut sequencer = futures_synced_at(100);
    assert_eq!(sequencer.check(90, 105, Some(89)), SyncDecision::Apply);
    assert_eq!(sequencer.check(300, 400, Some(105)), SyncDecision::Apply);
    assert_eq!(sequencer.last_update_id(), Some(400));
}

#[test]
fn futures_event_without_pu_is_a_gap() {
    let mut sequencer = futures_synced_at(100);
    assert_eq!(sequencer.check(95, 105, None), SyncDecision::Apply);
    let decision = sequencer.check(106, 110, None);
    let SyncDecision::Gap(gap) = decision else {
        panic!("expected a gap, got {decision:?}")
    };
    assert_eq!(gap.found, None);
    assert_eq!(
        gap.to_string(),
        "futures depth gap: pu must equal the previous u = 105, found no pu"
    );
}

#[test]
fn sequencer_needs_a_snapshot_after_a_gap_until_it_gets_one() {
    let mut sequencer = futures_synced_at(100);
    assert_eq!(sequencer.check(95, 105, Some(94)), SyncDecision::Apply);
    assert!(matches!(
        sequencer.check(107, 110, Some(106)),
        SyncDecision::Gap(_)
    ));
    // Even an event that would have linked is refused now: the book is broken.
    assert_eq!(
        sequencer.check(111, 115, Some(110)),
        SyncDecision::AwaitingSnapshot
    );
    sequencer.on_snapshot(112);
    assert_eq!(sequencer.check(111, 115, Some(110)), SyncDecision::Apply);
}

#[test]
fn duplicate_event_after_sync_is_dropped() {
    let mut sequencer = futures_synced_at(100);
    assert_eq!(sequencer.check(95, 105, Some(94)), SyncDecision::Apply);
    assert_eq!(sequencer.check(106, 120, Some(105)), SyncDecision::Apply);
    assert_eq!(
        sequencer.check(106, 120, Some(105)),
        SyncDecision::DropStale
    );
    assert_eq!(sequencer.check(121, 130, Some(120)), SyncDecision::Apply);
}

#[test]
fn spot_drops_events_up_to_and_including_the_snapshot_id() {
    let mut sequencer = spot_synced_at(100);
    assert_eq!(sequencer.check(90, 99, None), SyncDecision::DropStale);
    assert_eq!(sequencer.check(95, 100, None), SyncDecision::DropStale);
    assert_eq!(sequencer.check(96, 101, None), SyncDecision::Apply);
}

#[test]
fn spot_first_event_must_straddle_the_snapshot_id_plus_one() {
    let mut sequencer = spot_synced_at(100);
    assert_eq!(sequencer.check(101, 103, None), SyncDecision::Apply);
    let mut late = spot_synced_at(100);
    assert_eq!(
        late.check(102, 103, None),
        SyncDecision::Gap(SyncGap {
            rule: SyncRule::SpotFirstStraddlesSnapshot,
            expected: 101,
            found: Some(102),
        })
    );
}

#[test]
fn spot_requires_each_first_id_to_follow_the_previous_final_id() {
    let mut sequencer = spot_synced_at(100);
    assert_eq!(sequencer.check(99, 105, None), SyncDecision::Apply);
    assert_eq!(sequencer.check(106, 110, None), SyncDecision::Apply);
    // pu is ignored on spot.
    assert_eq!(sequencer.check(111, 111, Some(3)), SyncDecision::Apply);
    let decision = sequencer.check(113, 120, None);
    assert_eq!(
        decision,
        SyncDecision::Gap(SyncGap {
            rule: SyncRule::SpotFirstIdFollows,
            expected: 112,
            found: Some(113),
        })
    );
    let SyncDecision::Gap(gap) = decision else {
        unreachable!()
    };
    assert_eq!(
        gap.to_string(),
        "spot depth gap: U must equal the previous u + 1 = 112, found U 113"
    );
}

#[test]
fn invalidate_forces_a_new_snapshot() {
    let mut sequencer = futures_synced_at(100);
    sequencer.invalidate();
    assert_eq!(
        sequencer.check(95, 105, Some(94)),
        SyncDecision::AwaitingSnapshot
    );
}

// ---------------------------------------------------------------------------------------------
// Diffs through the book

fn apply(
    book: &mut OrderBook,
    (first, last, prev): (u64, u64, u64),
    bids: &[Level],
    asks: &[Level],
) -> Result<SyncDecision, BookError> {
    book.apply_diff(&DepthDiff {
        first_update_id: first,
        final_update_id: last,
        prev_final_update_id: Some(prev),
        bids,
        asks,
    })
}

#[test]
fn apply_diff_applies_levels_in_sequence_and_skips_stale_ones() {
    let mut book = book();
    book.apply_snapshot(100, [lvl("100", "1")], [lvl("101", "1")])
        .unwrap();
    let stale = apply(&mut book, (80, 99, 79), &[], &[lvl("101", "9")]);
    assert_eq!(stale.unwrap(), SyncDecision::DropStale);
    assert_eq!(book.best_ask(), Some(lvl("101", "1")));

    let bids = [lvl("100", "0"), lvl("99.5", "2")];
    let first = apply(&mut book, (95, 105, 94), &bids, &[lvl("100.5", "3")]);
    assert_eq!(first.unwrap(), SyncDecision::Apply);
    assert_eq!(book.best_bid(), Some(lvl("99.5", "2")));
    assert_eq!(book.best_ask(), Some(lvl("100.5", "3")));
    assert_eq!(book.last_update_id(), Some(105));

    let broken = apply(&mut book, (110, 112, 108), &[lvl("99.5", "7")], &[]);
    assert!(matches!(broken.unwrap(), SyncDecision::Gap(_)));
    assert_eq!(
        book.best_bid(),
        Some(lvl("99.5", "2")),
        "a gap applies nothing"
    );
    assert!(!book.is_synced());
}

#[test]
fn apply_diff_with_a_bad_level_unsyncs_the_book() {
    let mut book = book();
    book.apply_snapshot(100, [lvl("100", "1")], [lvl("101", "1")])
        .unwrap();
    let error = apply(
        &mut book,
        (95, 105, 94),
        &[lvl("100", "2")],
        &[lvl("101", "-1")],
    )
    .unwrap_err();
    assert!(matches!(
        error,
        BookError::NegativeQty {
            side: BookSide::Ask,
            ..
        }
    ));
    assert!(!book.is_synced());
    let next = apply(&mut book, (106, 107, 105), &[], &[]);
    assert_eq!(next.unwrap(), SyncDecision::AwaitingSnapshot);
}

// ---------------------------------------------------------------------------------------------
// Property test: the book agrees with a naive sorted-map model.

/// The obviously correct book: one `BTreeMap` per side.
#[derive(Debug, Default, Clone)]
struct Model {
    bids: BTreeMap<Price, Qty>,
    asks: BTreeMap<Price, Qty>,
}

impl Model {
    fn side_mut(&mut self, side: BookSide) -> &mut BTreeMap<Price, Qty> {
        match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        }
    }

    fn set(&mut self, side: BookSide, price: Price, qty: Qty) {
        if qty.is_zero() {
            self.side_mut(side).remove(&price);
        } else {
            self.side_mut(side).insert(price, qty);
        }
    }

    fn levels(&self, side: BookSide) -> Vec<Level> {
        let to_level = |(&price, &qty): (&Price, &Qty)| Level::new(price, qty);
        match side {
            BookSide::Bid => self.bids.iter().rev().map(to_level).collect(),
            BookSide::Ask => self.asks.iter().map(to_level).collect(),
        }
    }

    fn depth_to_notional(&self, side: BookSide, target: Money) -> DepthFill {
        let mut fill = DepthFill {
            qty: Qty::ZERO,
            notional: Money::ZERO,
            worst_price: None,
            levels: 0,
            complete: false,
        };
        for level in self.levels(side) {
            fill.levels += 1;
            fill.worst_price = Some(level.price);
            let remaining = target.raw() - fill.notional.raw();
            let whole = level.price.notional(level.qty).raw();
            if whole >= remaining {
                let price = i128::from(level.price.raw());
                let part = (remaining + price - 1) / price;
                let part = Qty::from_raw(i64::try_from(part).unwrap());
                fill.qty = fill.qty.try_add(part).unwrap();
                fill.notional = fill.notional.try_add(level.price.notional(part)).unwrap();
                fill.complete = true;
                return fill;
            }
            fill.qty = fill.qty.try_add(level.qty).unwrap();
            fill.notional = Money::from_raw(fill.notional.raw() + whole);
        }
        fill
    }

    fn top_hash(&self, n: usize) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut write = |bytes: &[u8]| {
            for &byte in bytes {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
            }
        };
        for side in BookSide::BOTH {
            let levels = self.levels(side);
            let levels = &levels[..n.min(levels.len())];
            write(&(levels.len() as u64).to_le_bytes());
            for level in levels {
                write(&level.price.raw().to_le_bytes());
                write(&level.qty.raw().to_le_bytes());
            }
        }
        hash
    }
}

/// A step of a random update stream.
#[derive(Debug, Clone)]
enum Op {
    /// Set the level `ticks` ticks from the centre price (zero qty removes it).
    Set {
        side: BookSide,
        ticks: i64,
        qty: i64,
    },
    /// Remove the best level of a side (drives the search for the next best and recentring).
    RemoveBest { side: BookSide },
    /// An invalid update that must be refused without changing anything.
    Invalid {
        side: BookSide,
        ticks: i64,
        kind: u8,
    },
    /// Replace everything with the given levels.
    Snapshot {
        bids: Vec<(i64, i64)>,
        asks: Vec<(i64, i64)>,
    },
}

const CENTRE_TICKS: i64 = 1_000_000;

fn price_at(ticks: i64) -> Price {
    Price::from_raw((CENTRE_TICKS + ticks) * TICK.raw())
}

fn side_strategy() -> impl Strategy<Value = BookSide> {
    prop_oneof![Just(BookSide::Bid), Just(BookSide::Ask)]
}

/// Offsets from the centre: mostly near (top-of-book churn and crossing), some a few windows
/// away (recentring), some in clusters a few windows away (several far levels entering the
/// window at once), some very far (the far-level `Vec`).
fn ticks_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => -40i64..40,
        3 => -400i64..400,
        3 => prop_oneof![Just(-3_000i64), Just(-700), Just(900), Just(2_500)]
            .prop_flat_map(|centre| centre - 15..centre + 15),
        1 => -200_000i64..200_000,
    ]
}

fn qty_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => Just(0i64),
        5 => 1i64..2_000_000_000,
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let levels = || prop::collection::vec((ticks_strategy(), qty_strategy()), 0..60);
    prop_oneof![
            40 => (side_strategy(), ticks_strategy(), qty_strategy())
                .prop_map(|(side, ticks, qty)| Op::Set { side, ticks, qty }),
            12 => side_strategy().prop_map(|side| Op::RemoveBest { side }),
            2 => (side_strategy(), ticks_strategy(), 0u8..3)
                .prop_map(|(side, ticks, kind)| Op::Invalid { side, ticks, kind }),
            1 => (
    levels(), levels())
                .prop_map(|(bids, asks)| Op::Snapshot { bids, asks }),
        ]
}

fn to_levels(levels: &[(i64, i64)]) -> Vec<Level> {
    levels
        .iter()
        .map(|&(ticks, qty)| Level::new(price_at(ticks), Qty::from_raw(qty)))
        .collect()
}

fn assert_agrees(book: &OrderBook, model: &Model) {
    book.assert_invariants();
    for side in BookSide::BOTH {
        let expected = model.levels(side);
        assert_eq!(
            book.levels(side).collect::<Vec<_>>(),
            expected,
            "{side} levels"
        );
        assert_eq!(book.len(side), expected.len(), "{side} len");
        assert_eq!(book.best(side), expected.first().copied(), "{side} best");
        for n in [1, 3, 20] {
            let top: Vec<Level> = book.top(side, n).collect();
            assert_eq!(top, expected[..n.min(expected.len())], "{side} top {n}");
        }
        let total: i128 = expected.iter().map(|l| l.price.notional(l.qty).raw()).sum();
        for target in [1, total / 3, total / 2 + 1, total, total + 1] {
            if target > 0 {
                let target = Money::from_raw(target);
                assert_eq!(
                    book.depth_to_notional(side, target).unwrap(),
                    model.depth_to_notional(side, target),
                    "{side} depth to {target}"
                );
            }
        }
    }
    let bid = model.bids.keys().next_back().copied();
    let ask = model.asks.keys().next().copied();
    let (mid, spread) = match (bid, ask) {
        (Some(bid), Some(ask)) => (Some(bid.midpoint(ask)), Some(ask.try_sub(bid).unwrap())),
        _ => (None, None),
    };
    assert_eq!(book.mid(), mid, "mid");
    assert_eq!(book.spread(), spread, "spread");
    assert_eq!(
        book.is_empty(),
        model.bids.is_empty() && model.asks.is_empty()
    );
    for n in [1, 20, usize::MAX] {
        assert_eq!(book.top_hash(n), model.top_hash(n), "top_hash({n})");
    }
}

fn run_stream(window_ticks: usize, ops: &[Op]) {
    let config = BookConfig {
        window_ticks,
        far_capacity: 8,
        ..BookConfig::new(TICK, Flavor::Futures)
    };
    let mut book = OrderBook::new(config).unwrap();
    let mut model = Model::default();
    for op in ops {
        match op {
            &Op::Set { side, ticks, qty } => {
                book.set_level(side, price_at(ticks), Qty::from_raw(qty))
                    .unwrap();
                model.set(side, price_at(ticks), Qty::from_raw(qty));
            }
            &Op::RemoveBest { side } => {
                if let Some(best) = model.levels(side).first() {
                    book.set_level(side, best.price, Qty::ZERO).unwrap();
                    model.set(side, best.price, Qty::ZERO);
                }
            }
            &Op::Invalid { side, ticks, kind } => {
                let (price, qty) = match kind {
                    0 => (
                        price_at(ticks).try_add(Price::from_raw(1)).unwrap(),
                        Qty::ONE,
                    ),
                    1 => (price_at(ticks), Qty::from_raw(-1)),
                    _ => (Price::ZERO, Qty::ONE),
                };
                let before = book.top_hash(usize::MAX);
                assert!(book.set_level(side, price, qty).is_err());
                assert_eq!(book.top_hash(usize::MAX), before);
            }
            Op::Snapshot { bids, asks } => {
                book.apply_snapshot(1, to_levels(bids), to_levels(asks))
                    .unwrap();
                model = Model::default();
                for level in to_levels(bids) {
                    model.set(BookSide::Bid, level.price, level.qty);
                }
                for level in to_levels(asks) {
                    model.set(BookSide::Ask, level.price, level.qty);
                }
            }
        }
        assert_agrees(&book, &model);
    }

    // The same final state built another way (worst level first, through a differently sized
    // window, after unrelated levels come and go) hashes the same.
    let mut rebuilt = OrderBook::new(BookConfig {
        window_ticks: 128,
        ..BookConfig::new(TICK, Flavor::Spot)
    })
    .unwrap();
    rebuilt
        .set_level(BookSide::Bid, price_at(-7), Qty::ONE)
        .unwrap();
    rebuilt
        .set_level(BookSide::Ask, price_at(900_000), Qty::ONE)
        .unwrap();
    for side in BookSide::BOTH {
        for level in model.levels(side).into_iter().rev() {
            rebuilt.set_level(side, level.price, level.qty).unwrap();
        }
    }
    if !model.bids.contains_key(&price_at(-7)) {
        rebuilt
            .set_level(BookSide::Bid, price_at(-7), Qty::ZERO)
            .unwrap();
    }
    rebuilt
        .set_level(BookSide::Ask, price_at(900_000), Qty::ZERO)
        .unwrap();
    assert_agrees(&rebuilt, &model);
    for n in [1, 5, 20, usize::MAX] {
        assert_eq!(book.top_hash(n), rebuilt.top_hash(n));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn book_agrees_with_a_sorted_map_model(
        window_ticks in prop_oneof![Just(64usize), Just(256), Just(4096)],
        ops in prop::collection::vec(op_strategy(), 1..250),
    ) {
        run_stream(window_ticks, &ops);
    }
}
