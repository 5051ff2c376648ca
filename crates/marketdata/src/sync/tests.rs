//! The behaviour of [`SymbolSync`], rule by rule (`binance-futures.md` §7.1), then a property
//! test against a naive model.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kestrel_model::book::{BookSide, SyncRule};
use kestrel_model::{Price, Qty};

use super::*;

fn px(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn lv(price: &str, qty: &str) -> Level {
    Level::new(px(price), Qty::parse(qty).unwrap())
}

fn levels(pairs: &[(&str, &str)]) -> Vec<Level> {
    pairs.iter().map(|&(p, q)| lv(p, q)).collect()
}

/// An owned diff event (`U`, `u`, `pu`, bids, asks).
struct Event {
    first: u64,
    last: u64,
    prev: Option<u64>,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl Event {
    fn diff(&self) -> DepthDiff<'_> {
        DepthDiff {
            first_update_id: self.first,
            final_update_id: self.last,
            prev_final_update_id: self.prev,
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

fn ev(first: u64, last: u64, prev: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> Event {
    Event {
        first,
        last,
        prev: Some(prev),
        bids: levels(bids),
        asks: levels(asks),
    }
}

/// A futures sync on a 0.1 tick.
fn sync() -> SymbolSync {
    SymbolSync::new(SyncConfig::new(px("0.1"), Flavor::Futures)).unwrap()
}

fn side(sync: &SymbolSync, side: BookSide) -> Vec<Level> {
    sync.book().levels(side).collect()
}

/// The default snapshot: L = 100, bids 10.0 × 1, 9.9 × 2; asks 10.1 × 3, 10.2 × 4.
fn snapshot(sync: &mut SymbolSync, last_update_id: u64) -> SnapshotOutcome {
    let bids = levels(&[("10.0", "1"), ("9.9", "2")]);
    let asks = levels(&[("10.1", "3"), ("10.2", "4")]);
    sync.on_snapshot(last_update_id, &bids, &asks)
}

fn synced(stale: u64, applied: u64, snapshot_id: u64) -> SnapshotOutcome {
    SnapshotOutcome::Synced(Replay {
        snapshot_id,
        stale,
        applied,
        remaining: 0,
    })
}

#[test]
fn steady_state_diffs_apply_straight_to_the_book() {
    let mut sync = sync();
    assert_eq!(snapshot(&mut sync, 100), synced(0, 0, 100));
    assert_eq!(sync.state(), SyncState::Synced);
    let first = ev(98, 102, 97, &[("10.0", "5")], &[("10.1", "0")]);
    assert_eq!(sync.on_diff(&first.diff()), DiffOutcome::Applied);
    let second = ev(103, 110, 102, &[("9.8", "1")], &[("10.3", "2")]);
    let outcome = sync.on_diff(&second.diff());
    assert_eq!(outcome, DiffOutcome::Applied);
    assert_eq!(outcome.action(), SyncAction::Continue);
    assert_eq!(
        side(&sync, BookSide::Bid),
        levels(&[("10.0", "5"), ("9.9", "2"), ("9.8", "1")])
    );
    assert_eq!(
        side(&sync, BookSide::Ask),
        levels(&[("10.2", "4"), ("10.3", "2")])
    );
    assert_eq!(sync.best_bid(), Some(lv("10.0", "5")));
    assert_eq!(sync.best_ask(), Some(lv("10.2", "4")));
    assert_eq!(sync.last_update_id(), Some(110));
    assert_eq!((sync.counters().applied, sync.counters().snapshots), (2, 1));
    assert_eq!(sync.buffered(), 0);
}

#[test]
fn diffs_before_the_first_snapshot_are_buffered_and_a_snapshot_is_needed() {
    let mut sync = sync();
    assert_eq!(sync.state(), SyncState::Syncing);
    assert_eq!(sync.action(), SyncAction::NeedSnapshot);
    let outcome = sync.on_diff(&ev(90, 95, 89, &[("10.0", "1")], &[]).diff());
    assert_eq!(outcome, DiffOutcome::Buffered);
    assert_eq!(outcome.action(), SyncAction::NeedSnapshot);
    assert!(sync.needs_snapshot());
    assert_eq!(sync.buffered(), 1);
    assert!(sync.book().is_empty(), "a buffered diff is not applied");
    assert_eq!(sync.last_update_id(), None);
}

#[test]
fn stale_diffs_are_dropped_before_and_after_the_snapshot() {
    let mut sync = sync();
    sync.on_diff(&ev(80, 95, 79, &[("10.0", "7")], &[]).diff());
    sync.on_diff(&ev(96, 99, 95, &[("10.0", "8")], &[]).diff());
    sync.on_diff(&ev(100, 104, 99, &[("9.9", "9")], &[]).diff());
    // §7.1 step 3: u < L is discarded; the third event straddles L = 100 (U == L).
    assert_eq!(snapshot(&mut sync, 100), synced(2, 1, 100));
    assert_eq!(
        side(&sync, BookSide::Bid),
        levels(&[("10.0", "1"), ("9.9", "9")])
    );
    // Live: a duplicate of the last event and an old one are stale too.
    let duplicate = ev(100, 104, 99, &[("9.9", "1")], &[]);
    assert_eq!(sync.on_diff(&duplicate.diff()), DiffOutcome::Stale);
    let old = ev(80, 95, 79, &[("10.0", "7")], &[]);
    assert_eq!(sync.on_diff(&old.diff()), DiffOutcome::Stale);
    assert_eq!(
        side(&sync, BookSide::Bid),
        levels(&[("10.0", "1"), ("9.9", "9")])
    );
    assert_eq!((sync.counters().stale, sync.counters().applied), (4, 1));
    assert_eq!(sync.state(), SyncState::Synced);
}

#[test]
fn first_applied_diff_may_end_exactly_at_the_snapshot_id() {
    // §7.1 step 4 with u == L: U ≤ L ≤ u holds, so it is applied (its levels are absolute).
    let mut sync = sync();
    sync.on_diff(&ev(90, 100, 85, &[("10.0", "6")], &[]).diff());
    sync.on_diff(&ev(101, 103, 100, &[("9.9", "0")], &[]).diff());
    assert_eq!(snapshot(&mut sync, 100), synced(0, 2, 100));
    assert_eq!(side(&sync, BookSide::Bid), levels(&[("10.0", "6")]));
    assert_eq!(sync.last_update_id(), Some(103));
}

#[test]
fn first_applied_diff_must_straddle_the_snapshot() {
    // U == L straddles.
    let mut sync = sync();
    sync.on_diff(&ev(100, 105, 99, &[("10.0", "6")], &[]).diff());
    assert_eq!(snapshot(&mut sync, 100), synced(0, 1, 100));
    // U == L + 1 does not: the event holding update L is missing.
    let mut sync = self::sync();
    sync.on_diff(&ev(101, 105, 100, &[("10.0", "6")], &[]).diff());
    let gap = SyncGap {
        rule: SyncRule::FuturesFirstStraddlesSnapshot,
        expected: 100,
        found: Some(101),
    };
    let replay = Replay {
        snapshot_id: 100,
        stale: 0,
        applied: 0,
        remaining: 1,
    };
    let outcome = snapshot(&mut sync, 100);
    assert_eq!(outcome, SnapshotOutcome::Resync(replay, Resync::Gap(gap)));
    assert_eq!(outcome.action(), SyncAction::NeedSnapshot);
}

#[test]
fn snapshot_newer_than_every_buffered_diff_waits_for_the_straddling_live_diff() {
    let mut sync = sync();
    sync.on_diff(&ev(80, 90, 79, &[("10.0", "7")], &[]).diff());
    assert_eq!(snapshot(&mut sync, 100), synced(1, 0, 100));
    assert_eq!(
        sync.state(),
        SyncState::Synced,
        "the snapshot alone is a valid book"
    );
    assert_eq!(sync.last_update_id(), Some(100));
    let straddling = ev(99, 103, 90, &[("10.0", "2")], &[]);
    assert_eq!(sync.on_diff(&straddling.diff()), DiffOutcome::Applied);
    assert_eq!(sync.best_bid(), Some(lv("10.0", "2")));
}

#[test]
fn live_diff_starting_after_a_fresh_snapshot_is_a_gap() {
    let mut sync = sync();
    snapshot(&mut sync, 100);
    let outcome = sync.on_diff(&ev(101, 103, 100, &[], &[]).diff());
    assert!(
        matches!(&outcome, DiffOutcome::Resync(Resync::Gap(g)) if g.rule == SyncRule::FuturesFirstStraddlesSnapshot),
        "{outcome:?}"
    );
}

#[test]
fn gap_in_pu_chain_triggers_resnapshot_and_the_resync_rebuilds_the_exact_book() {
    let mut sync = sync();
    snapshot(&mut sync, 100);
    let e1 = ev(99, 105, 98, &[("10.0", "4")], &[]);
    assert_eq!(sync.on_diff(&e1.diff()), DiffOutcome::Applied);
    // 106..=110 is lost: the next event's pu is 110, not 105.
    let e3 = ev(
        111,
        115,
        110,
        &[("9.9", "0"), ("9.7", "5")],
        &[("10.1", "1")],
    );
    let outcome = sync.on_diff(&e3.diff());
    let gap = SyncGap {
        rule: SyncRule::FuturesPrevFinalIdLinks,
        expected: 105,
        found: Some(110),
    };
    assert_eq!(outcome, DiffOutcome::Resync(Resync::Gap(gap)));
    assert_eq!(outcome.action(), SyncAction::NeedSnapshot);
    assert_eq!(
        outcome_text(&outcome),
        "futures depth gap: pu must equal the previous u = 105, found pu 110; resnapshot"
    );
    assert_eq!(sync.state(), SyncState::Syncing);
    assert_eq!(
        sync.buffered(),
        1,
        "the event after the gap is kept for the next snapshot"
    );
    let e4 = ev(116, 120, 115, &[("9.6", "1")], &[("10.2", "0")]);
    assert_eq!(sync.on_diff(&e4.diff()), DiffOutcome::Buffered);
    // The new snapshot (taken at 112, inside e3) reflects 106..=112.
    let generation = sync.generation();
    let bids = levels(&[("10.0", "3"), ("9.9", "2"), ("9.8", "1")]);
    let asks = levels(&[("10.1", "3"), ("10.2", "4"), ("10.4", "1")]);
    assert_eq!(sync.on_snapshot(112, &bids, &asks), synced(0, 2, 112));
    assert_eq!(sync.generation(), generation + 1);
    assert_eq!(
        side(&sync, BookSide::Bid),
        levels(&[("10.0", "3"), ("9.8", "1"), ("9.7", "5"), ("9.6", "1")])
    );
    assert_eq!(
        side(&sync, BookSide::Ask),
        levels(&[("10.1", "1"), ("10.4", "1")])
    );
    assert_eq!(sync.last_update_id(), Some(120));
    let c = sync.counters();
    assert_eq!(
        (c.gaps, c.resnapshots, c.snapshots, c.applied),
        (1, 1, 2, 3)
    );
}

fn outcome_text(outcome: &DiffOutcome) -> String {
    match outcome {
        DiffOutcome::Resync(why) => why.to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn buffered_diffs_that_skip_past_the_snapshot_need_another_snapshot() {
    let mut sync = sync();
    sync.on_diff(&ev(90, 95, 89, &[("10.0", "5")], &[]).diff());
    sync.on_diff(&ev(101, 110, 95, &[("9.9", "6")], &[]).diff());
    // L = 98: the first event is stale and the next starts after 98, so 96..=98 are missing.
    let outcome = snapshot(&mut sync, 98);
    let SnapshotOutcome::Resync(replay, Resync::Gap(gap)) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!((replay.stale, replay.applied, replay.remaining), (1, 0, 1));
    assert_eq!((gap.expected, gap.found), (98, Some(101)));
    assert_eq!(sync.action(), SyncAction::NeedSnapshot);
    // The caller refetches; the next snapshot (L = 105) connects to the kept event.
    assert_eq!(snapshot(&mut sync, 105), synced(0, 1, 105));
    assert_eq!(
        side(&sync, BookSide::Bid),
        levels(&[("10.0", "1"), ("9.9", "6")])
    );
    let c = sync.counters();
    assert_eq!((c.gaps, c.resnapshots, c.snapshots), (1, 1, 2));
}

#[test]
fn gap_inside_the_buffer_keeps_the_events_after_it_for_the_next_snapshot() {
    let mut sync = sync();
    sync.on_diff(&ev(99, 101, 98, &[("10.0", "2")], &[]).diff());
    sync.on_diff(&ev(102, 103, 101, &[("10.0", "3")], &[]).diff());
    sync.on_diff(&ev(106, 107, 105, &[("10.0", "4")], &[]).diff());
    sync.on_diff(&ev(108, 109, 107, &[("10.0", "5")], &[]).diff());
    let outcome = snapshot(&mut sync, 100);
    let SnapshotOutcome::Resync(replay, Resync::Gap(gap)) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!((replay.applied, replay.remaining), (2, 2));
    assert_eq!(gap.rule, SyncRule::FuturesPrevFinalIdLinks);
    assert_eq!(snapshot(&mut sync, 106), synced(0, 2, 106));
    assert_eq!(sync.best_bid(), Some(lv("10.0", "5")));
}

#[test]
fn buffer_keeps_the_newest_events_up_to_its_bound_and_counts_the_dropped() {
    let config = SyncConfig {
        max_buffered_events: 3,
        ..SyncConfig::new(px("0.1"), Flavor::Futures)
    };
    let mut sync = SymbolSync::new(config).unwrap();
    for i in 0..5u64 {
        let qty = (i + 1).to_string();
        let e = ev(
            100 + 10 * i,
            109 + 10 * i,
            99 + 10 * i,
            &[("10.0", &qty)],
            &[],
        );
        assert_eq!(sync.on_diff(&e.diff()), DiffOutcome::Buffered);
    }
    assert_eq!(sync.buffered(), 3);
    assert_eq!(sync.counters().buffer_dropped, 2);
    assert_eq!(sync.counters().buffered, 5);
    // The two oldest (100..=119) are gone: a snapshot inside them cannot connect ...
    let outcome = snapshot(&mut sync, 115);
    assert!(
        matches!(outcome, SnapshotOutcome::Resync(..)),
        "{outcome:?}"
    );
    // ... one inside the oldest kept event can.
    assert_eq!(snapshot(&mut sync, 125), synced(0, 3, 125));
    assert_eq!(sync.best_bid(), Some(lv("10.0", "5")));
    assert_eq!(sync.last_update_id(), Some(149));
}

#[test]
fn zero_buffer_bound_is_taken_as_one() {
    let config = SyncConfig {
        max_buffered_events: 0,
        ..SyncConfig::new(px("0.1"), Flavor::Futures)
    };
    let mut sync = SymbolSync::new(config).unwrap();
    sync.on_diff(&ev(90, 95, 89, &[], &[]).diff());
    sync.on_diff(&ev(96, 99, 95, &[("10.0", "2")], &[]).diff());
    assert_eq!((sync.buffered(), sync.counters().buffer_dropped), (1, 1));
}

#[test]
fn off_tick_snapshot_level_rebuilds_the_book_on_the_finer_grid() {
    let mut sync = sync();
    let bids = levels(&[("10.0", "1"), ("9.95", "2"), ("0.5", "3")]);
    let asks = levels(&[("10.1", "3"), ("12.345", "4")]);
    assert_eq!(sync.on_snapshot(100, &bids, &asks), synced(0, 0, 100));
    assert_eq!(sync.tick(), px("0.001"));
    assert_eq!(sync.counters().tick_rebuilds, 1);
    assert_eq!(side(&sync, BookSide::Bid), bids);
    assert_eq!(side(&sync, BookSide::Ask), asks);
    // Levels on the old grid still apply.
    let e = ev(99, 101, 98, &[("9.9", "1")], &[]);
    assert_eq!(sync.on_diff(&e.diff()), DiffOutcome::Applied);
}

#[test]
fn off_tick_buffered_diff_is_replayed_on_the_refined_grid() {
    let mut sync = sync();
    sync.on_diff(&ev(99, 101, 98, &[("10.05", "1")], &[]).diff());
    assert_eq!(snapshot(&mut sync, 100), synced(0, 1, 100));
    assert_eq!(sync.tick(), px("0.01"));
    assert_eq!(sync.best_bid(), Some(lv("10.05", "1")));
}

#[test]
fn off_tick_live_diff_rebuilds_and_resyncs_without_losing_the_level() {
    let mut sync = sync();
    snapshot(&mut sync, 100);
    let e = ev(
        99,
        105,
        98,
        &[("10.0", "6"), ("10.05", "1")],
        &[("10.15", "0")],
    );
    let outcome = sync.on_diff(&e.diff());
    let refined = Resync::TickRefined {
        price: px("10.05"),
        old_tick: px("0.1"),
        new_tick: px("0.01"),
    };
    assert_eq!(outcome, DiffOutcome::Resync(refined));
    assert_eq!(sync.state(), SyncState::Syncing);
    assert_eq!(sync.buffered(), 1);
    let c = sync.counters();
    assert_eq!((c.tick_rebuilds, c.resnapshots, c.applied), (1, 1, 0));
    // The next snapshot (taken before the event) brings it back, on the finer grid.
    assert_eq!(snapshot(&mut sync, 102), synced(0, 1, 102));
    assert_eq!(sync.best_bid(), Some(lv("10.05", "1")));
    assert_eq!(
        side(&sync, BookSide::Bid),
        levels(&[("10.05", "1"), ("10.0", "6"), ("9.9", "2")])
    );
}

#[test]
fn refined_tick_keeps_the_finest_decimal_step_that_divides_everything() {
    let tick = |hint: &str, prices: &[&str]| refined_tick(px(hint), prices.iter().map(|p| px(p)));
    assert_eq!(tick("0.1", &["10.0", "9.9"]), px("0.1"));
    assert_eq!(tick("0.001", &["0.50579", "1.010"]), px("0.00001"));
    assert_eq!(tick("0.5", &["10.5", "10.25"]), px("0.01"));
    assert_eq!(tick("0.5", &["10.3"]), px("0.1"));
    assert_eq!(tick("10", &["15"]), px("1"));
    assert_eq!(tick("0.1", &["0.00000001"]), px("0.00000001"));
    assert_eq!(
        tick("0.1", &["-0.05"]),
        px("0.1"),
        "non-positive prices are refused later"
    );
}

#[test]
fn snapshot_not_newer_than_the_synced_book_is_outdated_and_ignored() {
    let mut sync = sync();
    snapshot(&mut sync, 100);
    sync.on_diff(&ev(99, 105, 98, &[("10.0", "4")], &[]).diff());
    let outcome = snapshot(&mut sync, 105);
    assert_eq!(
        outcome,
        SnapshotOutcome::Outdated {
            snapshot_id: 105,
            book_id: 105
        }
    );
    assert_eq!(outcome.action(), SyncAction::Continue);
    assert_eq!(sync.best_bid(), Some(lv("10.0", "4")));
    // The stream goes on as if nothing happened.
    let e = ev(106, 107, 105, &[], &[]);
    assert_eq!(sync.on_diff(&e.diff()), DiffOutcome::Applied);
    assert_eq!(sync.counters().outdated_snapshots, 1);
}

#[test]
fn newer_snapshot_while_synced_replaces_the_book_and_waits_for_its_straddle() {
    let mut sync = sync();
    snapshot(&mut sync, 100);
    sync.on_diff(&ev(99, 105, 98, &[("10.0", "4")], &[]).diff());
    assert_eq!(snapshot(&mut sync, 110), synced(0, 0, 110));
    assert_eq!(sync.best_bid(), Some(lv("10.0", "1")));
    // 106..=108 is already in the snapshot; 109..=112 straddles it.
    assert_eq!(
        sync.on_diff(&ev(106, 108, 105, &[], &[]).diff()),
        DiffOutcome::Stale
    );
    let e = ev(109, 112, 108, &[("10.0", "9")], &[]);
    assert_eq!(sync.on_diff(&e.diff()), DiffOutcome::Applied);
    assert_eq!(sync.best_bid(), Some(lv("10.0", "9")));
}

#[test]
fn invalid_level_in_a_live_diff_drops_the_event_and_needs_a_snapshot() {
    let mut sync = sync();
    snapshot(&mut sync, 100);
    let outcome = sync.on_diff(&ev(99, 105, 98, &[("10.0", "-1")], &[]).diff());
    assert!(
        matches!(
            outcome,
            DiffOutcome::Resync(Resync::InvalidLevel(BookError::NegativeQty { .. }))
        ),
        "{outcome:?}"
    );
    assert_eq!(sync.state(), SyncState::Syncing);
    assert_eq!(sync.buffered(), 0);
    assert_eq!(sync.counters().invalid, 1);
}

#[test]
fn rejected_snapshot_keeps_the_buffer_for_the_next_one() {
    let mut sync = sync();
    sync.on_diff(&ev(99, 105, 98, &[("10.0", "4")], &[]).diff());
    let bad = levels(&[("10.0", "-1")]);
    let outcome = sync.on_snapshot(100, &bad, &[]);
    assert!(
        matches!(outcome, SnapshotOutcome::Rejected(_)),
        "{outcome:?}"
    );
    assert_eq!(outcome.action(), SyncAction::NeedSnapshot);
    assert!(sync.book().is_empty());
    assert_eq!(sync.buffered(), 1);
    assert_eq!(snapshot(&mut sync, 100), synced(0, 1, 100));
}

#[test]
fn reset_forgets_the_book_and_the_buffer() {
    let mut sync = sync();
    snapshot(&mut sync, 100);
    sync.on_diff(&ev(101, 102, 100, &[], &[]).diff());
    sync.on_diff(&ev(103, 104, 102, &[], &[]).diff());
    sync.reset();
    assert_eq!(sync.state(), SyncState::Syncing);
    assert_eq!((sync.buffered(), sync.book().is_empty()), (0, true));
    assert_eq!(
        snapshot(&mut sync, 50),
        synced(0, 0, 50),
        "an older snapshot is fine now"
    );
}

#[test]
fn spot_flavor_requires_contiguous_ids() {
    // §7.2: discard u <= L, the first applied straddles L + 1, then U == previous u + 1.
    let mut sync = SymbolSync::new(SyncConfig::new(px("0.1"), Flavor::Spot)).unwrap();
    let spot = |first, last, bids: &[(&str, &str)]| Event {
        first,
        last,
        prev: None,
        bids: levels(bids),
        asks: Vec::new(),
    };
    sync.on_diff(&spot(95, 100, &[("10.0", "9")]).diff());
    sync.on_diff(&spot(101, 103, &[("10.0", "8")]).diff());
    assert_eq!(snapshot(&mut sync, 100), synced(1, 1, 100));
    assert_eq!(
        sync.on_diff(&spot(104, 104, &[]).diff()),
        DiffOutcome::Applied
    );
    let outcome = sync.on_diff(&spot(106, 107, &[]).diff());
    assert!(
        matches!(&outcome, DiffOutcome::Resync(Resync::Gap(g)) if g.rule == SyncRule::SpotFirstIdFollows),
        "{outcome:?}"
    );
}

mod model;
