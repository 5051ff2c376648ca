//! Property test: [`SymbolSync`] against a naive model on random diff streams with lost,
//! duplicated and reordered events, late and early snapshots, a small buffer and prices off
//! the hinted tick.
//!
//! Two oracles:
//! - the *truth*: the exchange's book after each event, kept in `BTreeMap`s; whenever the sync
//!   says it is synced, its book must equal the truth at its `last_update_id`;
//! - a *naive sync*: §7.1 written as plainly as possible (a `VecDeque` buffer, a `BTreeMap`
//!   book, the id rules as `if`s); every outcome, state, id, buffer length and book must match.

use std::collections::{BTreeMap, VecDeque};

use proptest::prelude::*;

use kestrel_model::book::BookSide;

use super::{Event, Level, Price, Qty};
use crate::sync::{
    DiffOutcome, Flavor, Resync, SnapshotOutcome, SymbolSync, SyncConfig, SyncState,
};

/// One side of a book: raw price → raw qty.
type Ladder = BTreeMap<i64, i64>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Book {
    bids: Ladder,
    asks: Ladder,
}

impl Book {
    fn apply(&mut self, event: &Event) {
        for (ladder, levels) in [(&mut self.bids, &event.bids), (&mut self.asks, &event.asks)] {
            for level in levels {
                if level.qty.is_zero() {
                    ladder.remove(&level.price.raw());
                } else {
                    ladder.insert(level.price.raw(), level.qty.raw());
                }
            }
        }
    }

    fn of(sync: &SymbolSync) -> Self {
        let side = |side| {
            sync.book()
                .levels(side)
                .map(|l: Level| (l.price.raw(), l.qty.raw()))
                .collect()
        };
        Self {
            bids: side(BookSide::Bid),
            asks: side(BookSide::Ask),
        }
    }

    fn levels(ladder: &Ladder) -> Vec<Level> {
        ladder
            .iter()
            .map(|(&p, &q)| Level::new(Price::from_raw(p), Qty::from_raw(q)))
            .collect()
    }
}

/// Decimal places of a price, counted on its text (independently of `Price::decimal_places`).
fn places(price: Price) -> u32 {
    let text = price.to_string();
    text.split_once('.')
        .map_or(0, |(_, frac)| frac.trim_end_matches('0').len() as u32)
}

/// What happened to one input, in the model's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Applied,
    Stale,
    Buffered,
    Gap,
    TickRefined,
    Synced {
        stale: u64,
        applied: u64,
    },
    SnapshotGap {
        stale: u64,
        applied: u64,
        remaining: u64,
    },
    Outdated,
}

fn kind_of_diff(outcome: &DiffOutcome) -> Kind {
    match outcome {
        DiffOutcome::Applied => Kind::Applied,
        DiffOutcome::Stale => Kind::Stale,
        DiffOutcome::Buffered => Kind::Buffered,
        DiffOutcome::Resync(Resync::Gap(_)) => Kind::Gap,
        DiffOutcome::Resync(Resync::TickRefined { .. }) => Kind::TickRefined,
        other => panic!("unexpected {other:?}"),
    }
}

fn kind_of_snapshot(outcome: &SnapshotOutcome) -> Kind {
    match outcome {
        SnapshotOutcome::Synced(r) => Kind::Synced {
            stale: r.stale,
            applied: r.applied,
        },
        SnapshotOutcome::Resync(r, Resync::Gap(_)) => Kind::SnapshotGap {
            stale: r.stale,
            applied: r.applied,
            remaining: r.remaining,
        },
        SnapshotOutcome::Outdated { .. } => Kind::Outdated,
        other => panic!("unexpected {other:?}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Unsynced,
    Snapshot(u64),
    Live(u64),
}

/// §7.1, naively.
struct Naive {
    phase: Phase,
    book: Book,
    buffer: VecDeque<Event>,
    max_buffer: usize,
    dropped: u64,
    tick_places: u32,
    rebuilds: u64,
}

impl Naive {
    /// Apply (`Some(true)`), stale (`Some(false)`) or gap (`None`), by §7.1 steps 3–5.
    fn check(&self, e: &Event) -> Option<bool> {
        match self.phase {
            Phase::Unsynced => None,
            Phase::Snapshot(l) if e.last < l => Some(false),
            Phase::Snapshot(l) => (e.first <= l).then_some(true),
            Phase::Live(u) if e.last <= u => Some(false),
            Phase::Live(u) => (e.prev == Some(u)).then_some(true),
        }
    }

    fn buffer(&mut self, e: &Event) {
        if self.buffer.len() == self.max_buffer {
            self.buffer.pop_front();
            self.dropped += 1;
        }
        self.buffer.push_back(copy(e));
    }

    fn finest(&self, e: &Event) -> u32 {
        e.bids
            .iter()
            .chain(&e.asks)
            .map(|l| places(l.price))
            .max()
            .unwrap_or(0)
    }

    fn on_diff(&mut self, e: &Event) -> Kind {
        if self.phase == Phase::Unsynced {
            self.buffer(e);
            return Kind::Buffered;
        }
        match self.check(e) {
            Some(true) if self.finest(e) > self.tick_places => {
                self.tick_places = self.finest(e);
                self.rebuilds += 1;
                self.phase = Phase::Unsynced;
                self.buffer(e);
                Kind::TickRefined
            }
            Some(true) => {
                self.book.apply(e);
                self.phase = Phase::Live(e.last);
                Kind::Applied
            }
            Some(false) => Kind::Stale,
            None => {
                self.phase = Phase::Unsynced;
                self.buffer(e);
                Kind::Gap
            }
        }
    }

    fn on_snapshot(&mut self, l: u64, book: &Book) -> Kind {
        if let Phase::Snapshot(id) | Phase::Live(id) = self.phase
            && l <= id
        {
            return Kind::Outdated;
        }
        let snapshot_places = book.bids.keys().chain(book.asks.keys());
        let finest = snapshot_places
            .map(|&p| places(Price::from_raw(p)))
            .chain(self.buffer.iter().map(|e| self.finest(e)))
            .max()
            .unwrap_or(0);
        if finest > self.tick_places {
            self.tick_places = finest;
            self.rebuilds += 1;
        }
        self.book = book.clone();
        self.phase = Phase::Snapshot(l);
        let (mut stale, mut applied) = (0, 0);
        while let Some(e) = self.buffer.pop_front() {
            match self.check(&e) {
                Some(true) => {
                    self.book.apply(&e);
                    self.phase = Phase::Live(e.last);
                    applied += 1;
                }
                Some(false) => stale += 1,
                None => {
                    self.buffer.push_front(e);
                    self.phase = Phase::Unsynced;
                    let remaining = self.buffer.len() as u64;
                    return Kind::SnapshotGap {
                        stale,
                        applied,
                        remaining,
                    };
                }
            }
        }
        Kind::Synced { stale, applied }
    }

    fn last_update_id(&self) -> Option<u64> {
        match self.phase {
            Phase::Unsynced => None,
            Phase::Snapshot(id) | Phase::Live(id) => Some(id),
        }
    }
}

fn copy(e: &Event) -> Event {
    Event {
        first: e.first,
        last: e.last,
        prev: e.prev,
        bids: e.bids.clone(),
        asks: e.asks.clone(),
    }
}

/// The random draws behind one event: id spacing, levels, delivery fault, snapshot timing.
#[derive(Debug, Clone)]
struct Draw {
    jitter: u64,
    span: u64,
    levels: Vec<(bool, i64, u8, i64)>,
    fault: u8,
    snapshot: u8,
    lag: usize,
}

fn draw() -> impl Strategy<Value = Draw> {
    let level = (any::<bool>(), 0i64..12, 0u8..40, 0i64..6);
    (
        0u64..3,
        0u64..4,
        prop::collection::vec(level, 0..5),
        0u8..20,
        0u8..10,
        0usize..4,
    )
        .prop_map(|(jitter, span, levels, fault, snapshot, lag)| Draw {
            jitter,
            span,
            levels,
            fault,
            snapshot,
            lag,
        })
}

/// The exchange: its events (index 0 is a placeholder for the empty starting book), the `u`
/// of each and the true book after each.
struct Exchange {
    events: Vec<Event>,
    truth: Vec<Book>,
    by_id: BTreeMap<u64, usize>,
}

fn exchange(draws: &[Draw]) -> Exchange {
    let start = Event {
        first: 1000,
        last: 1000,
        prev: None,
        bids: Vec::new(),
        asks: Vec::new(),
    };
    let (mut events, mut truth) = (vec![start], vec![Book::default()]);
    for d in draws {
        let prev = events.last().map_or(0, |e| e.last);
        let first = prev + 1 + d.jitter;
        let mut e = Event {
            first,
            last: first + d.span,
            prev: Some(prev),
            bids: Vec::new(),
            asks: Vec::new(),
        };
        for &(ask, index, fraction, qty) in &d.levels {
            // Mostly whole prices on the hinted tick of 1; now and then 0.5 or 0.25.
            let extra = match fraction {
                0 => 50_000_000,
                1 => 25_000_000,
                _ => 0,
            };
            let base = if ask { 100 } else { 90 };
            let price = Price::from_raw((base + index) * 100_000_000 + extra);
            let level = Level::new(price, Qty::from_raw(qty * 100_000_000));
            if ask {
                e.asks.push(level)
            } else {
                e.bids.push(level)
            }
        }
        let mut book = truth.last().cloned().unwrap_or_default();
        book.apply(&e);
        events.push(e);
        truth.push(book);
    }
    let by_id = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.last, i))
        .collect();
    Exchange {
        events,
        truth,
        by_id,
    }
}

/// Delivery order of event indices after faults: lost, duplicated, swapped with the next.
fn deliveries(draws: &[Draw]) -> Vec<usize> {
    let mut order = Vec::new();
    let mut k = 1;
    while k <= draws.len() {
        match draws[k - 1].fault {
            0 => {}
            1 => order.extend([k, k]),
            2 if k < draws.len() => {
                order.extend([k + 1, k]);
                k += 1;
            }
            _ => order.push(k),
        }
        k += 1;
    }
    order
}

/// The sync and the model agree, and when synced both hold the true book.
fn assert_agree(sync: &SymbolSync, naive: &Naive, exchange: &Exchange, step: &str) {
    let synced = naive.phase != Phase::Unsynced;
    assert_eq!(sync.state() == SyncState::Synced, synced, "{step}: state");
    assert_eq!(sync.last_update_id(), naive.last_update_id(), "{step}: id");
    assert_eq!(sync.buffered(), naive.buffer.len(), "{step}: buffer");
    assert_eq!(
        sync.counters().buffer_dropped,
        naive.dropped,
        "{step}: dropped"
    );
    assert_eq!(
        sync.counters().tick_rebuilds,
        naive.rebuilds,
        "{step}: rebuilds"
    );
    if let Some(id) = naive.last_update_id() {
        let book = Book::of(sync);
        assert_eq!(book, naive.book, "{step}: book vs naive");
        let index = exchange.by_id[&id];
        assert_eq!(book, exchange.truth[index], "{step}: book vs truth at {id}");
    }
}

fn deliver_snapshot(sync: &mut SymbolSync, naive: &mut Naive, exchange: &Exchange, at: usize) {
    let id = exchange.events[at].last;
    let book = &exchange.truth[at];
    let (bids, asks) = (Book::levels(&book.bids), Book::levels(&book.asks));
    let outcome = sync.on_snapshot(id, &bids, &asks);
    assert_eq!(
        kind_of_snapshot(&outcome),
        naive.on_snapshot(id, book),
        "snapshot {id}"
    );
    assert_agree(sync, naive, exchange, &format!("after snapshot {id}"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn book_matches_a_naive_model_through_gaps_duplicates_and_reordering(
        draws in prop::collection::vec(draw(), 1..60),
        max_buffer in prop::sample::select(vec![2usize, 5, 64]),
    ) {
        let exchange = exchange(&draws);
        let config = SyncConfig {
            max_buffered_events: max_buffer,
            ..SyncConfig::new(Price::ONE, Flavor::Futures)
        };
        let mut sync = SymbolSync::new(config).unwrap();
        let mut naive = Naive {
            phase: Phase::Unsynced,
            book: Book::default(),
            buffer: VecDeque::new(),
            max_buffer,
            dropped: 0,
            tick_places: 0,
            rebuilds: 0,
        };
        for k in deliveries(&draws) {
            let d = &draws[k - 1];
            let wanted = sync.needs_snapshot() && d.snapshot < 4;
            if wanted || d.snapshot == 9 {
                deliver_snapshot(&mut sync, &mut naive, &exchange, k.saturating_sub(d.lag));
            }
            let e = &exchange.events[k];
            let outcome = sync.on_diff(&e.diff());
            prop_assert_eq!(kind_of_diff(&outcome), naive.on_diff(e), "event {}", e.last);
            assert_agree(&sync, &naive, &exchange, &format!("after event {}", e.last));
        }
        // However the stream went, a snapshot of the exchange's latest state ends synced on it.
        let last = exchange.events.len() - 1;
        deliver_snapshot(&mut sync, &mut naive, &exchange, last);
        prop_assert_eq!(sync.state(), SyncState::Synced);
        prop_assert_eq!(&Book::of(&sync), &exchange.truth[last]);
    }
}
