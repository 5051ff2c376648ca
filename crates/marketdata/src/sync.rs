//! [`SymbolSync`]: one symbol's local order book kept in step with the venue's diff-depth stream
//! (seed 000 FR-MD-002, `binance-futures.md` §7).
//!
//! A pure state machine: it is fed diff events and REST snapshots by the caller and answers
//! what happened and whether a (new) snapshot is needed. It does no I/O, reads no clock and
//! spawns nothing; fetching the snapshot, logging the warning and publishing are the caller's.
//!
//! # The procedure (`binance-futures.md` §7.1, futures; §7.2 for spot)
//!
//! 1. "Connect … and **buffer** incoming events": until a snapshot is in force, every diff is
//!    copied into a bounded buffer ([`SyncConfig::max_buffered_events`]; when full the oldest
//!    is dropped and counted) and [`SymbolSync::needs_snapshot`] is `true`.
//! 2. "Fetch a snapshot … remember its `lastUpdateId` (L)": [`SymbolSync::on_snapshot`].
//! 3. "Discard every buffered event with `u < L`" (stale).
//! 4. "The first event you apply must satisfy `U ≤ L` and `u ≥ L`" (`u == L` included): when
//!    the first buffered event that is not stale starts after L, the event covering L is
//!    missing; the buffer does not connect and another snapshot is needed. When every buffered
//!    event is stale the book is synced on the snapshot alone and the next live event must
//!    straddle L.
//! 5. "For every later event, require `pu == previous event's u`. If that fails, the book is
//!    broken: go back to step 2 (new snapshot; keep the socket)": [`SymbolSync::on_diff`]
//!    reports [`Resync::Gap`], buffers the event and asks for a snapshot; the stream goes on.
//! 6. "Apply each level as an absolute replacement. Quantity 0 removes the level."
//!
//! The id rules themselves live in [`kestrel_model::book::DepthSequencer`], which the book
//! consults on every diff; this module adds the buffer, the replay and the recovery.
//!
//! # Tick rule
//!
//! The book is a price-indexed ladder, so it needs a tick at construction; the listed
//! `tickSize` is only a hint. Binance keeps resting orders placed before a tick-size change on
//! the old, finer grid (the cryptofeed CTKUSDT snapshot has 131 levels on 0.00001 while
//! `exchangeInfo` lists 0.001). The rule: the book's tick is always the finest *decimal* step
//! seen, `10^-d` where `d` is the largest number of decimal places among the tick hint and
//! every price that was off the grid. A power of ten with at least as many places as both
//! divides the old tick and the new price, so every level held stays on the new grid.
//!
//! - A snapshot (and the buffered events about to be replayed on it) is scanned before it is
//!   applied; if any price is off the grid the book is rebuilt on the finer tick first, so the
//!   snapshot is applied whole and nothing is lost.
//! - A live diff with a price off the grid cannot be applied to the current ladder: the book is
//!   rebuilt (empty) on the finer tick, the diff is buffered and a new snapshot is requested
//!   ([`Resync::TickRefined`]); the diff is replayed on the new grid once it arrives.
//!
//! Each rebuild is counted ([`SyncCounters::tick_rebuilds`]); since each adds at least one
//! decimal place and prices hold eight, there are at most eight per symbol. The window of the
//! rebuilt ladder keeps its price span (more, finer ticks) up to [`MAX_REFINED_WINDOW_TICKS`].
//!
//! # Allocation
//!
//! A live diff on a synced book goes straight to [`OrderBook::apply_diff`] and allocates
//! nothing. The buffer's slots, and each slot's level vectors, are kept across resyncs and
//! only grow to their high-water mark; a tick rebuild allocates a new book (rare).

mod buffer;

use std::fmt;

use kestrel_model::Price;
use kestrel_model::book::{
    BookConfig, BookError, DepthDiff, Flavor, Level, OrderBook, SyncDecision, SyncGap,
};
use kestrel_model::money::FIXED_DECIMALS;

use buffer::DiffBuffer;

/// The widest ladder window (in ticks) a tick rebuild scales up to.
pub const MAX_REFINED_WINDOW_TICKS: usize = 1 << 16;

/// How to build a [`SymbolSync`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncConfig {
    /// The book's configuration; its `tick` is the listed tick size, used as a hint and
    /// refined when finer prices arrive (see the module's tick rule).
    pub book: BookConfig,
    /// The most diff events held while waiting for a snapshot (at least one); when full the
    /// oldest is dropped and counted in [`SyncCounters::buffer_dropped`].
    pub max_buffered_events: usize,
}

impl SyncConfig {
    /// The default buffer bound: minutes of a busy `@depth@100ms` stream, seconds of `@0ms`.
    pub const DEFAULT_MAX_BUFFERED_EVENTS: usize = 4096;

    /// The ladder window of a market-data book, in ticks: wide enough that a real futures
    /// book's thousands of levels (BTCUSDT grows to ~9,600 from the stream) mostly sit in the
    /// window, where a change is a store, rather than in the sorted far levels, where it is a
    /// binary search and a shift. 65,536 ticks is 512 KiB a side.
    pub const DEFAULT_WINDOW_TICKS: usize = 1 << 16;

    /// A configuration with this tick hint and sequencing flavor and the default sizes.
    #[must_use]
    pub const fn new(tick_hint: Price, flavor: Flavor) -> Self {
        let mut book = BookConfig::new(tick_hint, flavor);
        book.window_ticks = Self::DEFAULT_WINDOW_TICKS;
        Self {
            book,
            max_buffered_events: Self::DEFAULT_MAX_BUFFERED_EVENTS,
        }
    }
}

/// Whether the book can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncState {
    /// No snapshot in force (never taken, or broken since): diffs are buffered and a snapshot
    /// is needed; the book's levels must not be priced from.
    Syncing,
    /// A snapshot is in force and every event since has connected.
    Synced,
}

/// What the caller has to do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncAction {
    /// Nothing: keep feeding the stream.
    Continue,
    /// Fetch a snapshot (unless one is already on its way) and pass it to
    /// [`SymbolSync::on_snapshot`]; keep the socket and keep feeding diffs meanwhile.
    NeedSnapshot,
}

/// Why the book was found broken and needs a new snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resync {
    /// The event ids do not connect (§7.1 steps 4–5): updates were missed.
    Gap(SyncGap),
    /// A price was off the book's grid: the book was rebuilt on a finer tick (module docs).
    TickRefined {
        /// The first price found off the old grid.
        price: Price,
        /// The tick the book had.
        old_tick: Price,
        /// The tick it has now.
        new_tick: Price,
    },
    /// A level the book refuses (non-positive price or negative quantity); the event was
    /// dropped.
    InvalidLevel(BookError),
}

impl fmt::Display for Resync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gap(gap) => write!(f, "{gap}; resnapshot"),
            Self::TickRefined {
                price,
                old_tick,
                new_tick,
            } => write!(
                f,
                "price {price} is off the tick {old_tick}: book rebuilt on tick {new_tick}; \
                 resnapshot"
            ),
            Self::InvalidLevel(error) => write!(f, "{error}; event dropped; resnapshot"),
        }
    }
}

/// What [`SymbolSync::on_diff`] did with one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffOutcome {
    /// Applied to the book; its levels are the changed levels.
    Applied,
    /// Already reflected in the book (`u` before the snapshot, or a duplicate): skipped.
    Stale,
    /// Kept for replay: no snapshot is in force.
    Buffered,
    /// The book broke on this event: it is not synced any more and needs a new snapshot.
    Resync(Resync),
}

impl DiffOutcome {
    /// [`SyncAction::NeedSnapshot`] when the event left the book waiting for a snapshot.
    #[must_use]
    pub const fn action(&self) -> SyncAction {
        match self {
            Self::Applied | Self::Stale => SyncAction::Continue,
            Self::Buffered | Self::Resync(_) => SyncAction::NeedSnapshot,
        }
    }
}

/// What replaying the buffer on a snapshot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Replay {
    /// The snapshot's `lastUpdateId` (L).
    pub snapshot_id: u64,
    /// Buffered events discarded as stale (`u < L`).
    pub stale: u64,
    /// Buffered events applied.
    pub applied: u64,
    /// Events left in the buffer (non-zero only when the replay broke).
    pub remaining: u64,
}

/// What [`SymbolSync::on_snapshot`] did with a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotOutcome {
    /// Applied and the buffer replayed: the book is synced.
    Synced(Replay),
    /// Applied, but the buffer does not connect to it (or broke during the replay): another
    /// snapshot is needed. The events from the break on stay buffered for it.
    Resync(Replay, Resync),
    /// Not newer than the synced book: ignored (applying it would rewind the book).
    Outdated {
        /// The snapshot's `lastUpdateId`.
        snapshot_id: u64,
        /// The update id the book already reflects.
        book_id: u64,
    },
    /// A level was refused: the book is empty and another snapshot is needed; the buffer is
    /// kept.
    Rejected(BookError),
}

impl SnapshotOutcome {
    /// [`SyncAction::NeedSnapshot`] when the book is still waiting for a snapshot.
    #[must_use]
    pub const fn action(&self) -> SyncAction {
        match self {
            Self::Synced(_) | Self::Outdated { .. } => SyncAction::Continue,
            Self::Resync(..) | Self::Rejected(_) => SyncAction::NeedSnapshot,
        }
    }
}

/// Running totals since construction, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncCounters {
    /// Snapshots applied.
    pub snapshots: u64,
    /// Diff events applied (live and replayed).
    pub applied: u64,
    /// Diff events skipped as stale (live and replayed).
    pub stale: u64,
    /// Diff events buffered while waiting for a snapshot.
    pub buffered: u64,
    /// Buffered events dropped, oldest first, because the buffer was full.
    pub buffer_dropped: u64,
    /// Gaps found in the update ids (live or at replay).
    pub gaps: u64,
    /// Times a new snapshot was needed after the book broke or a snapshot did not connect.
    pub resnapshots: u64,
    /// Times the book was rebuilt on a finer tick.
    pub tick_rebuilds: u64,
    /// Events or snapshots refused for an invalid level.
    pub invalid: u64,
    /// Snapshots ignored as not newer than the synced book.
    pub outdated_snapshots: u64,
}

/// One symbol's order book kept in sync with a diff-depth stream and REST snapshots; see the
/// module documentation for the procedure and the tick rule.
#[derive(Debug, Clone)]
pub struct SymbolSync {
    book: OrderBook,
    buffer: DiffBuffer,
    counters: SyncCounters,
    generation: u64,
}

impl SymbolSync {
    /// A sync waiting for its first snapshot.
    ///
    /// # Errors
    /// [`BookError::InvalidTick`] when the tick hint is not positive.
    pub fn new(config: SyncConfig) -> Result<Self, BookError> {
        Ok(Self {
            book: OrderBook::new(config.book)?,
            buffer: DiffBuffer::new(config.max_buffered_events),
            counters: SyncCounters::default(),
            generation: 0,
        })
    }

    /// Feeds one diff event, in stream order. On a synced book this is the hot path: the event
    /// is checked and applied without allocating.
    pub fn on_diff(&mut self, diff: &DepthDiff<'_>) -> DiffOutcome {
        if !self.book.is_synced() {
            self.buffer_diff(diff);
            return DiffOutcome::Buffered;
        }
        match self.book.apply_diff(diff) {
            Ok(SyncDecision::Apply) => {
                self.counters.applied += 1;
                DiffOutcome::Applied
            }
            Ok(SyncDecision::DropStale) => {
                self.counters.stale += 1;
                DiffOutcome::Stale
            }
            Ok(SyncDecision::Gap(gap)) => {
                // The event starts after the gap: it may connect to the next snapshot.
                self.counters.gaps += 1;
                self.buffer_diff(diff);
                self.resync(Resync::Gap(gap))
            }
            Ok(SyncDecision::AwaitingSnapshot) => {
                self.buffer_diff(diff);
                DiffOutcome::Buffered
            }
            Err(error) => self.on_refused_diff(diff, error),
        }
    }

    /// A live diff the book refused: refine the tick, or drop the event; either way resync.
    #[cold]
    fn on_refused_diff(&mut self, diff: &DepthDiff<'_>, error: BookError) -> DiffOutcome {
        if let BookError::OffTick { price, tick, .. } = error {
            let new_tick = refined_tick(tick, diff_prices(diff));
            if self.rebuild(new_tick) {
                self.buffer_diff(diff);
                return self.resync(Resync::TickRefined {
                    price,
                    old_tick: tick,
                    new_tick,
                });
            }
        }
        self.counters.invalid += 1;
        self.resync(Resync::InvalidLevel(error))
    }

    fn resync(&mut self, why: Resync) -> DiffOutcome {
        self.counters.resnapshots += 1;
        DiffOutcome::Resync(why)
    }

    fn buffer_diff(&mut self, diff: &DepthDiff<'_>) {
        self.counters.buffered += 1;
        if self.buffer.push(diff) {
            self.counters.buffer_dropped += 1;
        }
    }

    /// Applies a REST snapshot taken at update id `last_update_id` (`lastUpdateId`, L) and
    /// replays the buffered events on it by §7.1 steps 3–5 (see the module documentation).
    /// Levels may come in any order; a zero quantity is skipped.
    pub fn on_snapshot(
        &mut self,
        last_update_id: u64,
        bids: &[Level],
        asks: &[Level],
    ) -> SnapshotOutcome {
        if let Some(book_id) = self.book.last_update_id()
            && last_update_id <= book_id
        {
            self.counters.outdated_snapshots += 1;
            return SnapshotOutcome::Outdated {
                snapshot_id: last_update_id,
                book_id,
            };
        }
        self.refine_tick_for_snapshot(bids, asks);
        let levels = (bids.iter().copied(), asks.iter().copied());
        if let Err(error) = self.book.apply_snapshot(last_update_id, levels.0, levels.1) {
            self.counters.invalid += 1;
            self.counters.resnapshots += 1;
            return SnapshotOutcome::Rejected(error);
        }
        self.counters.snapshots += 1;
        self.generation += 1;
        let (replay, broken) = self.replay(last_update_id);
        match broken {
            None => SnapshotOutcome::Synced(replay),
            Some(why) => {
                self.counters.resnapshots += 1;
                SnapshotOutcome::Resync(replay, why)
            }
        }
    }

    /// Rebuilds the book on a finer tick if the snapshot or a buffered event needs one.
    fn refine_tick_for_snapshot(&mut self, bids: &[Level], asks: &[Level]) {
        let tick = self.book.tick();
        let snapshot_prices = bids.iter().chain(asks).map(|level| level.price);
        let buffered_prices = self.buffer.iter().flat_map(|event| {
            let diff = event.as_diff();
            diff.bids.iter().chain(diff.asks).map(|level| level.price)
        });
        let new_tick = refined_tick(tick, snapshot_prices.chain(buffered_prices));
        if new_tick != tick {
            self.rebuild(new_tick);
        }
    }

    /// §7.1 steps 3–5 over the buffer, oldest first. Stops at the first event that breaks the
    /// chain, keeping it and the rest buffered for the next snapshot.
    fn replay(&mut self, snapshot_id: u64) -> (Replay, Option<Resync>) {
        let mut replay = Replay {
            snapshot_id,
            ..Replay::default()
        };
        let mut broken = None;
        while let Some(event) = self.buffer.front() {
            match self.book.apply_diff(&event.as_diff()) {
                Ok(SyncDecision::Apply) => replay.applied += 1,
                Ok(SyncDecision::DropStale) => replay.stale += 1,
                Ok(SyncDecision::Gap(gap)) => {
                    self.counters.gaps += 1;
                    broken = Some(Resync::Gap(gap));
                    break;
                }
                // Unreachable: a snapshot was just applied and only a gap or an error (both
                // stop the replay) takes it away. Keep the event buffered all the same.
                Ok(SyncDecision::AwaitingSnapshot) => break,
                Err(error) => {
                    // The tick was refined for every buffered price, so this is a bad level:
                    // drop the event, keep the rest.
                    self.buffer.pop_front();
                    self.counters.invalid += 1;
                    broken = Some(Resync::InvalidLevel(error));
                    break;
                }
            }
            self.buffer.pop_front();
        }
        replay.remaining = self.buffer.len() as u64;
        self.counters.applied += replay.applied;
        self.counters.stale += replay.stale;
        (replay, broken)
    }

    /// Replaces the book with an empty one on `tick`, keeping the configuration's other
    /// settings and the window's price span. Returns `false` (book unchanged) if `tick` is not
    /// finer than the current one.
    #[cold]
    fn rebuild(&mut self, tick: Price) -> bool {
        let old = *self.book.config();
        if !tick.is_positive() || tick >= old.tick || old.tick.raw() % tick.raw() != 0 {
            return false;
        }
        let ratio = usize::try_from(old.tick.raw() / tick.raw()).unwrap_or(usize::MAX);
        let window_ticks = old
            .window_ticks
            .saturating_mul(ratio)
            .min(MAX_REFINED_WINDOW_TICKS.max(old.window_ticks));
        let config = BookConfig {
            tick,
            window_ticks,
            ..old
        };
        match OrderBook::new(config) {
            Ok(book) => {
                self.book = book;
                self.counters.tick_rebuilds += 1;
                self.generation += 1;
                true
            }
            Err(_) => false,
        }
    }

    /// Forgets the book, the snapshot and the buffer (keeping their storage and the refined
    /// tick): for a new connection, whose stream the old events need not connect to. A
    /// snapshot is needed afterwards.
    pub fn reset(&mut self) {
        self.buffer.clear();
        self.book.clear();
        self.generation += 1;
    }

    /// Whether the book is synced or waiting for a snapshot.
    #[must_use]
    pub const fn state(&self) -> SyncState {
        if self.book.is_synced() {
            SyncState::Synced
        } else {
            SyncState::Syncing
        }
    }

    /// Whether a snapshot is needed (the state is [`SyncState::Syncing`]).
    #[must_use]
    pub const fn needs_snapshot(&self) -> bool {
        !self.book.is_synced()
    }

    /// What the caller has to do now: [`SyncAction::NeedSnapshot`] while syncing.
    #[must_use]
    pub const fn action(&self) -> SyncAction {
        if self.book.is_synced() {
            SyncAction::Continue
        } else {
            SyncAction::NeedSnapshot
        }
    }

    /// The book: every level the snapshot and the diffs gave (publish a top-N view of it).
    #[must_use]
    pub const fn book(&self) -> &OrderBook {
        &self.book
    }

    /// The running totals.
    #[must_use]
    pub const fn counters(&self) -> &SyncCounters {
        &self.counters
    }

    /// The update id the book reflects (the snapshot's L or the last applied `u`); `None`
    /// while syncing.
    #[must_use]
    pub const fn last_update_id(&self) -> Option<u64> {
        self.book.last_update_id()
    }

    /// The highest bid held (check [`Self::state`] before trusting it).
    #[must_use]
    pub fn best_bid(&self) -> Option<Level> {
        self.book.best_bid()
    }

    /// The lowest ask held (check [`Self::state`] before trusting it).
    #[must_use]
    pub fn best_ask(&self) -> Option<Level> {
        self.book.best_ask()
    }

    /// The book's current tick (the hint, or finer after a rebuild).
    #[must_use]
    pub const fn tick(&self) -> Price {
        self.book.tick()
    }

    /// Number of events waiting in the buffer.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Bumped whenever the book's contents are replaced wholesale (a snapshot or a tick
    /// rebuild): a publisher that sees it change sends a full view, not a delta.
    #[must_use]
    pub const fn generation(&self) -> u64 {
        self.generation
    }
}

/// Every price of a diff, bids then asks.
fn diff_prices<'a>(diff: &'a DepthDiff<'_>) -> impl Iterator<Item = Price> + 'a {
    diff.bids.iter().chain(diff.asks).map(|level| level.price)
}

/// The tick rule of the module documentation: `tick` unless a positive price is off its grid,
/// in which case `10^-d` with `d` the most decimal places among `tick` and the off-grid prices.
fn refined_tick(tick: Price, prices: impl Iterator<Item = Price>) -> Price {
    let step = tick.raw();
    if step <= 0 {
        return tick;
    }
    let places = prices
        .filter(|price| price.is_positive() && price.raw() % step != 0)
        .map(Price::decimal_places)
        .max();
    match places {
        Some(places) => decimal_step(places.max(tick.decimal_places())),
        None => tick,
    }
}

/// `10^-places` as a price (`places` at most eight).
const fn decimal_step(places: u32) -> Price {
    let places = if places > FIXED_DECIMALS {
        FIXED_DECIMALS
    } else {
        places
    };
    Price::from_raw(10_i64.pow(FIXED_DECIMALS - places))
}

#[cfg(test)]
mod tests;
