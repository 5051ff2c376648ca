//! [`OrderBook`]: both sides of one instrument's L2 book, plus its stream sequencer.

use super::ladder::{Ladder, MIN_WINDOW, TopLevels};
use super::sync::{DepthSequencer, Flavor, SyncDecision};
use super::{BookError, BookSide, Level};
use crate::{Money, Price, Qty, RoundingMode};

/// How to build an [`OrderBook`]. [`Self::new`] gives the defaults; the fields are public to
/// override them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookConfig {
    /// The instrument's price tick: every price the book accepts is a whole multiple of it. It
    /// must divide every price the venue can send: Binance can keep resting orders from before
    /// a tick-size change on the old, finer grid (CTKUSDT in the cryptofeed sample has levels on
    /// 0.00001 while `exchangeInfo` says 0.001), so pass the finest grid the book may hold.
    pub tick: Price,
    /// The sequencing rules of the diff stream [`OrderBook::apply_diff`] consumes.
    pub flavor: Flavor,
    /// The N of "top N" for callers that have no reason to choose ([`OrderBook::top_n`]).
    pub top_n: usize,
    /// Width of each side's price-indexed window, in ticks; rounded up to a power of two of at
    /// least 64. Levels within it cost a few nanoseconds to update; deeper ones go to a sorted
    /// `Vec`. The best level sits a quarter of the way in, so about three quarters of it is
    /// depth: 4,096 ticks covers a 1,000-level BTCUSDT snapshot (about 1,500 ticks deep).
    pub window_ticks: usize,
    /// Capacity reserved per side, up front, for levels outside the window; beyond it the
    /// `Vec` grows (an allocation) and keeps the new capacity.
    pub far_capacity: usize,
}

impl BookConfig {
    /// The default N of top-N views.
    pub const DEFAULT_TOP_N: usize = 20;
    /// The default window width in ticks.
    pub const DEFAULT_WINDOW_TICKS: usize = 4096;
    /// The default capacity reserved for levels outside the window.
    pub const DEFAULT_FAR_CAPACITY: usize = 1024;

    /// A configuration with this tick and flavor and the default sizes.
    #[must_use]
    pub const fn new(tick: Price, flavor: Flavor) -> Self {
        Self {
            tick,
            flavor,
            top_n: Self::DEFAULT_TOP_N,
            window_ticks: Self::DEFAULT_WINDOW_TICKS,
            far_capacity: Self::DEFAULT_FAR_CAPACITY,
        }
    }
}

/// One diff-depth event, borrowed from wherever the caller parsed it (no allocation).
///
/// Each level is an absolute replacement: the new total quantity at that price, zero removing
/// the level (`binance-futures.md` §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthDiff<'a> {
    /// `U`: the first update id in the event.
    pub first_update_id: u64,
    /// `u`: the final update id in the event.
    pub final_update_id: u64,
    /// `pu`: the final update id of the previous event (futures only; `None` on spot).
    pub prev_final_update_id: Option<u64>,
    /// `b`: bid levels.
    pub bids: &'a [Level],
    /// `a`: ask levels.
    pub asks: &'a [Level],
}

/// What walking one side from the top takes to reach a target notional, from
/// [`OrderBook::depth_to_notional`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthFill {
    /// Total quantity taken: whole levels, then the part of the last one needed, rounded up to
    /// 10⁻⁸ so that `notional` reaches the target (not rounded to the instrument's lot step).
    pub qty: Qty,
    /// The exact notional of `qty` at the prices walked (`Σ price × qty`); at least the target
    /// when `complete`, by less than one 10⁻⁸ qty step at the worst price.
    pub notional: Money,
    /// The last (worst) price reached; `None` when the side is empty.
    pub worst_price: Option<Price>,
    /// Number of levels touched, the partly taken last one included.
    pub levels: usize,
    /// Whether the side held enough; when `false` the book is too thin and the other fields
    /// describe the whole side.
    pub complete: bool,
}

/// One instrument's L2 order book: bid and ask levels kept from a snapshot and absolute
/// per-level updates, and the [`DepthSequencer`] that keeps a diff stream in step with them.
///
/// The book mirrors the venue: a bid at or above the best ask is stored as given (the book is
/// then *crossed*, see [`Self::is_crossed`]), never matched. Reads never allocate, and neither
/// do updates once the far-level storage has reached its high-water mark.
#[derive(Debug, Clone)]
pub struct OrderBook {
    config: BookConfig,
    bids: Ladder,
    asks: Ladder,
    sequencer: DepthSequencer,
}

impl OrderBook {
    /// An empty book waiting for its first snapshot.
    ///
    /// # Errors
    /// [`BookError::InvalidTick`] when `config.tick` is not positive.
    pub fn new(config: BookConfig) -> Result<Self, BookError> {
        if !config.tick.is_positive() {
            return Err(BookError::InvalidTick { tick: config.tick });
        }
        let window_ticks = config
            .window_ticks
            .clamp(MIN_WINDOW, 1 << 24)
            .next_power_of_two();
        let config = BookConfig {
            window_ticks,
            ..config
        };
        let tick = config.tick.raw();
        Ok(Self {
            bids: Ladder::new(BookSide::Bid, tick, window_ticks, config.far_capacity),
            asks: Ladder::new(BookSide::Ask, tick, window_ticks, config.far_capacity),
            sequencer: DepthSequencer::new(config.flavor),
            config,
        })
    }

    /// The configuration in force (with `window_ticks` as normalised by [`Self::new`]).
    #[must_use]
    pub const fn config(&self) -> &BookConfig {
        &self.config
    }

    /// The tick size every price is a multiple of.
    #[must_use]
    pub const fn tick(&self) -> Price {
        self.config.tick
    }

    /// The configured N for top-N views (default 20), e.g. `book.top(side, book.top_n())`.
    #[must_use]
    pub const fn top_n(&self) -> usize {
        self.config.top_n
    }

    /// The stream sequencer, to inspect its state.
    #[must_use]
    pub const fn sequencer(&self) -> &DepthSequencer {
        &self.sequencer
    }

    /// Whether a snapshot is in force and no gap or bad level has been seen since. When
    /// `false`, the levels are the last known state but may be wrong: consumers should not
    /// price from them until the next snapshot.
    #[must_use]
    pub const fn is_synced(&self) -> bool {
        self.sequencer.is_synced()
    }

    /// The update id the book reflects (snapshot `lastUpdateId` or last applied `u`); `None`
    /// when not synced.
    #[must_use]
    pub const fn last_update_id(&self) -> Option<u64> {
        self.sequencer.last_update_id()
    }

    /// Replaces both sides with a snapshot taken at update id `last_update_id` and restarts the
    /// sequencer from it. Levels may come in any order (best first, as Binance sends them, is
    /// the fastest: each side's window is anchored on its first level); a zero quantity is
    /// skipped.
    ///
    /// # Errors
    /// The first invalid level's [`BookError`] (see [`Self::set_level`]); the book is then
    /// left empty and not synced.
    pub fn apply_snapshot<B, A>(
        &mut self,
        last_update_id: u64,
        bids: B,
        asks: A,
    ) -> Result<(), BookError>
    where
        B: IntoIterator,
        B::Item: Into<Level>,
        A: IntoIterator,
        A::Item: Into<Level>,
    {
        self.clear();
        let loaded = self
            .set_levels(BookSide::Bid, bids)
            .and_then(|()| self.set_levels(BookSide::Ask, asks));
        match loaded {
            Ok(()) => {
                self.sequencer.on_snapshot(last_update_id);
                Ok(())
            }
            Err(error) => {
                self.clear();
                Err(error)
            }
        }
    }

    /// Checks one diff event against the sequencer and, when it belongs, applies its levels
    /// (bids, then asks). This is the market-data hot path: it allocates nothing.
    ///
    /// Returns the sequencer's decision: [`SyncDecision::Apply`] means the levels were applied;
    /// on [`SyncDecision::Gap`] the caller fetches a new snapshot and passes it to
    /// [`Self::apply_snapshot`].
    ///
    /// # Errors
    /// The first invalid level's [`BookError`]. Levels before it are already applied, so the
    /// book is marked not synced (as after a gap) and needs a new snapshot.
    pub fn apply_diff(&mut self, diff: &DepthDiff<'_>) -> Result<SyncDecision, BookError> {
        let decision = self.sequencer.check(
            diff.first_update_id,
            diff.final_update_id,
            diff.prev_final_update_id,
        );
        if decision == SyncDecision::Apply {
            let applied = self
                .set_levels(BookSide::Bid, diff.bids.iter().copied())
                .and_then(|()| self.set_levels(BookSide::Ask, diff.asks.iter().copied()));
            if let Err(error) = applied {
                self.sequencer.invalidate();
                return Err(error);
            }
        }
        Ok(decision)
    }

    fn set_levels<I>(&mut self, side: BookSide, levels: I) -> Result<(), BookError>
    where
        I: IntoIterator,
        I::Item: Into<Level>,
    {
        for level in levels {
            let level = level.into();
            self.set_level(side, level.price, level.qty)?;
        }
        Ok(())
    }

    /// Sets the total quantity at `price` on `side`, replacing what was there; zero removes the
    /// level, and removing a level that is not held does nothing. Bypasses the sequencer (for
    /// simulators, tests and venues without update ids).
    ///
    /// # Errors
    /// [`BookError::NonPositivePrice`], [`BookError::OffTick`] (price not a multiple of the
    /// tick) or [`BookError::NegativeQty`]; the book is unchanged.
    #[inline]
    pub fn set_level(&mut self, side: BookSide, price: Price, qty: Qty) -> Result<(), BookError> {
        let key = self.key_of(side, price)?;
        if qty.is_negative() {
            return Err(BookError::NegativeQty { side, price, qty });
        }
        self.ladder_mut(side).set(key, qty);
        Ok(())
    }

    /// The ladder key of a price, after checking it is positive and on the tick grid.
    #[inline]
    fn key_of(&self, side: BookSide, price: Price) -> Result<i64, BookError> {
        let raw = price.raw();
        if raw <= 0 {
            return Err(BookError::NonPositivePrice { side, price });
        }
        let tick = self.config.tick.raw();
        if raw % tick != 0 {
            return Err(BookError::OffTick {
                side,
                price,
                tick: self.config.tick,
            });
        }
        Ok(side.key_of(raw / tick))
    }

    #[inline]
    const fn ladder(&self, side: BookSide) -> &Ladder {
        match side {
            BookSide::Bid => &self.bids,
            BookSide::Ask => &self.asks,
        }
    }

    #[inline]
    const fn ladder_mut(&mut self, side: BookSide) -> &mut Ladder {
        match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        }
    }

    /// The quantity resting at `price` on `side` (zero when there is no level, including for a
    /// price the book could not hold).
    #[must_use]
    pub fn qty_at(&self, side: BookSide, price: Price) -> Qty {
        self.key_of(side, price)
            .map_or(Qty::ZERO, |key| self.ladder(side).qty_at(key))
    }

    /// The best level of `side`: highest bid or lowest ask.
    #[inline]
    #[must_use]
    pub fn best(&self, side: BookSide) -> Option<Level> {
        self.ladder(side).best()
    }

    /// The highest bid.
    #[inline]
    #[must_use]
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best()
    }

    /// The lowest ask.
    #[inline]
    #[must_use]
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best()
    }

    /// The midpoint of the best bid and ask (rounded half to even at 10⁻⁸); `None` unless both
    /// sides hold a level.
    #[must_use]
    pub fn mid(&self) -> Option<Price> {
        Some(self.best_bid()?.price.midpoint(self.best_ask()?.price))
    }

    /// Best ask minus best bid; `None` unless both sides hold a level. Zero or negative when the
    /// book is crossed.
    #[must_use]
    pub fn spread(&self) -> Option<Price> {
        // Both prices are positive, so the difference cannot overflow.
        self.best_ask()?.price.try_sub(self.best_bid()?.price).ok()
    }

    /// Whether the best bid is at or above the best ask (the venue's book is momentarily
    /// inconsistent, or updates were missed).
    #[must_use]
    pub fn is_crossed(&self) -> bool {
        matches!((self.best_bid(), self.best_ask()), (Some(bid), Some(ask)) if bid.price >= ask.price)
    }

    /// The best `n` levels of `side`, best first (bids descending, asks ascending).
    #[must_use]
    pub fn top(&self, side: BookSide, n: usize) -> TopLevels<'_> {
        self.ladder(side).top(n)
    }

    /// Every level of `side`, best first.
    #[must_use]
    pub fn levels(&self, side: BookSide) -> TopLevels<'_> {
        self.ladder(side).top(usize::MAX)
    }

    /// Replaces the contents of `out` with the best `n` levels of `side`, best first. Allocates
    /// only if `out` has less capacity than the levels copied.
    pub fn copy_top(&self, side: BookSide, n: usize, out: &mut Vec<Level>) {
        out.clear();
        out.extend(self.top(side, n));
    }

    /// Number of levels on `side`.
    #[must_use]
    pub fn len(&self, side: BookSide) -> usize {
        self.ladder(side).len()
    }

    /// Whether both sides are empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bids.is_empty() && self.asks.is_empty()
    }

    /// Removes every level and forgets the snapshot (the book needs a new one); keeps the
    /// allocated storage.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.sequencer.invalidate();
    }

    /// What it takes to trade `target` worth of quote currency against `side`, walking from the
    /// best level: [`BookSide::Ask`] for a buy, [`BookSide::Bid`] for a sell. The last level
    /// is taken only in part, just enough to reach `target`. When the side is too thin the
    /// result has `complete == false` and sums the whole side (an empty side gives zero qty
    /// and no worst price).
    ///
    /// # Errors
    /// [`BookError::NonPositiveNotional`] when `target` is zero or negative;
    /// [`BookError::Overflow`] when the sums leave the range of [`Qty`] or [`Money`].
    pub fn depth_to_notional(&self, side: BookSide, target: Money) -> Result<DepthFill, BookError> {
        if !target.is_positive() {
            return Err(BookError::NonPositiveNotional { notional: target });
        }
        let mut fill = DepthFill {
            qty: Qty::ZERO,
            notional: Money::ZERO,
            worst_price: None,
            levels: 0,
            complete: false,
        };
        for level in self.levels(side) {
            let remaining = target.try_sub(fill.notional)?;
            let level_notional = level.price.notional(level.qty);
            fill.levels += 1;
            fill.worst_price = Some(level.price);
            if level_notional >= remaining {
                let part = qty_to_reach(remaining, level);
                fill.qty = fill.qty.try_add(part)?;
                fill.notional = fill.notional.try_add(level.price.notional(part))?;
                fill.complete = true;
                return Ok(fill);
            }
            fill.qty = fill.qty.try_add(level.qty)?;
            fill.notional = fill.notional.try_add(level_notional)?;
        }
        Ok(fill)
    }

    /// A hash of the best `n` levels of each side, equal for two books that hold the same top
    /// levels whatever updates built them, and stable across processes, platforms and Rust
    /// versions (for comparing a book with a simulator's, or with a recording).
    ///
    /// Definition: 64-bit FNV-1a (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`)
    /// over these bytes: for the bids, then the asks, the number of levels hashed as a
    /// little-endian `u64`, then each level best first as its price's raw `i64` and its qty's
    /// raw `i64` (`value × 10⁸`), little-endian. Update ids and the tick are not included.
    #[must_use]
    pub fn top_hash(&self, n: usize) -> u64 {
        let mut hash = Fnv1a::new();
        for side in BookSide::BOTH {
            let levels = self.top(side, n);
            hash.write(&(levels.len() as u64).to_le_bytes());
            for level in levels {
                hash.write(&level.price.raw().to_le_bytes());
                hash.write(&level.qty.raw().to_le_bytes());
            }
        }
        hash.finish()
    }

    /// Checks every ladder invariant (test support).
    #[cfg(test)]
    pub(crate) fn assert_invariants(&self) {
        self.bids.assert_invariants();
        self.asks.assert_invariants();
    }
}

/// The quantity at `level.price` whose notional first reaches `remaining` (rounded up to
/// 10⁻⁸), given that the whole level's notional does.
fn qty_to_reach(remaining: Money, level: Level) -> Qty {
    // `remaining <= price × level.qty`, so the quotient never exceeds the level.
    remaining
        .try_div_price(level.price, RoundingMode::Ceil)
        .map_or(level.qty, |qty| qty.min(level.qty))
}

/// 64-bit FNV-1a, written out so that [`OrderBook::top_hash`] never depends on std's hasher.
struct Fnv1a(u64);

impl Fnv1a {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    const fn new() -> Self {
        Self(Self::OFFSET_BASIS)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(Self::PRIME);
        }
    }

    const fn finish(&self) -> u64 {
        self.0
    }
}
