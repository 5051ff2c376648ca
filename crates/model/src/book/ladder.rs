//! One side of the book: a price-indexed ladder with an occupancy bitset and a sorted overflow.
//!
//! # Keys
//!
//! A price is first turned into a tick index (`price / tick`, checked by the caller) and then
//! into a *key* by [`BookSide::key_of`]: asks use the index as is, bids negate it. A smaller key
//! is always a better level, so everything below is written once, for "best = smallest key",
//! and serves both sides.
//!
//! # Layout
//!
//! - The **window**: `slots[offset]` holds the quantity at key `base + offset` (zero = no level)
//!   for `offset` in `0..W`, `W` a power of two. `occupied` mirrors it as a bitset, one bit per
//!   slot in `u64` words, so the next best level and a top-N walk skip empty ticks 64 at a time
//!   (`trailing_zeros`).
//! - The **far** levels: keys at or beyond `base + W` (deep in the book), in a `Vec` sorted by
//!   key, *worst* first, whose capacity is reserved up front and only ever grows. Worst first
//!   puts the far levels next to the window, where a deep book's changes land, at the end of
//!   the `Vec`, so inserting or removing them moves few entries (best first made every such
//!   change shift the whole `Vec`: a sixth of the pipeline's time on the real BTCUSDT capture).
//!
//! # Invariants (checked by `assert_invariants` in tests)
//!
//! 1. No level has a key below `base`.
//! 2. Every far key is `>= base + W`.
//! 3. If the side holds any level, the best one is in the window (so an empty window means an
//!    empty side), and `best` is its offset; `best == W` when the side is empty.
//! 4. `occupied` has a bit set exactly where `slots` is non-zero; `window_len` counts them.
//!
//! # Recentring
//!
//! The window is re-anchored ("rebased") so that the best level sits a quarter of the way in,
//! leaving `W / 4` ticks of room for better prices and `3W / 4` for depth:
//! - when a level arrives better than the window (key below `base`), and
//! - when removing the best leaves the next best at or beyond `3W / 4`, or only far levels.
//!
//! The gap between the two triggers (a best that improves by `W / 4`, or worsens by `W / 2`)
//! keeps a price that oscillates from recentring on every update. A rebase moves levels between
//! the window and the far `Vec` in place and rebuilds the bitset: `O(W + far)`, rare, and it
//! allocates nothing while the far `Vec` stays within its capacity.

use std::iter::FusedIterator;

use super::{BookSide, Level};
use crate::{Price, Qty};

/// Bits per occupancy word.
const WORD_BITS: usize = 64;

/// The smallest window, one occupancy word.
pub(crate) const MIN_WINDOW: usize = WORD_BITS;

/// One side of the order book; see the module documentation for the layout and invariants.
#[derive(Debug, Clone)]
pub(crate) struct Ladder {
    side: BookSide,
    /// The tick size's raw integer (positive), to turn keys back into prices.
    tick: i64,
    /// The key of `slots[0]`.
    base: i64,
    /// The window's quantities, indexed by `key - base`; zero means no level.
    slots: Box<[Qty]>,
    /// One bit per slot, set where the slot holds a level.
    occupied: Box<[u64]>,
    /// Number of levels in the window.
    window_len: usize,
    /// Offset of the best level in the window; `slots.len()` when the side is empty.
    best: usize,
    /// Levels with keys at or beyond `base + W`, sorted by key, worst (largest) first.
    far: Vec<(i64, Qty)>,
}

impl Ladder {
    /// An empty side. `window` must be a power of two of at least [`MIN_WINDOW`] slots and
    /// `tick` positive (the book's constructor normalises and checks both).
    pub(crate) fn new(side: BookSide, tick: i64, window: usize, far_capacity: usize) -> Self {
        debug_assert!(window.is_power_of_two() && window >= MIN_WINDOW);
        debug_assert!(tick > 0);
        Self {
            side,
            tick,
            base: 0,
            slots: vec![Qty::ZERO; window].into_boxed_slice(),
            occupied: vec![0; window / WORD_BITS].into_boxed_slice(),
            window_len: 0,
            best: window,
            far: Vec::with_capacity(far_capacity),
        }
    }

    /// Number of window slots (`W`).
    #[inline]
    fn window(&self) -> usize {
        self.slots.len()
    }

    /// How far into the window a rebase puts the best level.
    #[inline]
    fn margin(&self) -> usize {
        self.window() / 4
    }

    /// Number of levels held.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.window_len + self.far.len()
    }

    /// Whether the side holds no level.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.window_len == 0
    }

    /// The price of the level with this key.
    #[inline]
    fn price_of(&self, key: i64) -> Price {
        // The key came from a valid price, so `index × tick` is that price and cannot overflow.
        Price::from_raw(self.side.tick_index_of(key).wrapping_mul(self.tick))
    }

    /// The window offset of `key`, or `None` when it lies outside the window.
    #[inline]
    fn offset_of(&self, key: i64) -> Option<usize> {
        if key < self.base {
            return None;
        }
        // `key >= base`, so the true difference is non-negative and fits in a u64.
        let offset = key.wrapping_sub(self.base) as u64;
        (offset < self.window() as u64).then_some(offset as usize)
    }

    /// The best level, if any.
    #[inline]
    pub(crate) fn best(&self) -> Option<Level> {
        let qty = *self.slots.get(self.best)?;
        Some(Level::new(self.price_of(self.key_at(self.best)), qty))
    }

    /// The key of a window offset.
    #[inline]
    fn key_at(&self, offset: usize) -> i64 {
        // Window keys are keys of valid prices, so this cannot overflow.
        self.base.wrapping_add(offset as i64)
    }

    /// The quantity held at `key` (zero when there is no level).
    pub(crate) fn qty_at(&self, key: i64) -> Qty {
        if let Some(offset) = self.offset_of(key) {
            return self.slots[offset];
        }
        match self.far_search(key) {
            Ok(i) => self.far[i].1,
            Err(_) => Qty::ZERO,
        }
    }

    /// Where `key` is (`Ok`) or would go (`Err`) in the far levels, which are sorted worst first.
    #[inline]
    fn far_search(&self, key: i64) -> Result<usize, usize> {
        self.far.binary_search_by(|&(k, _)| key.cmp(&k))
    }

    /// Sets the quantity at `key` as an absolute replacement; zero removes the level (a removal
    /// of a level not held is ignored). `qty` must not be negative (checked by the caller).
    #[inline]
    pub(crate) fn set(&mut self, key: i64, qty: Qty) {
        debug_assert!(!qty.is_negative());
        match self.offset_of(key) {
            Some(offset) => self.set_in_window(offset, qty),
            None => self.set_outside_window(key, qty),
        }
    }

    #[inline]
    fn set_in_window(&mut self, offset: usize, qty: Qty) {
        let old = self.slots[offset];
        let bit = 1u64 << (offset % WORD_BITS);
        if qty.is_zero() {
            if old.is_zero() {
                return;
            }
            self.slots[offset] = Qty::ZERO;
            self.occupied[offset / WORD_BITS] &= !bit;
            self.window_len -= 1;
            if offset == self.best {
                self.on_best_removed(offset);
            }
        } else {
            self.slots[offset] = qty;
            if old.is_zero() {
                self.occupied[offset / WORD_BITS] |= bit;
                self.window_len += 1;
                if offset < self.best {
                    self.best = offset;
                }
            }
        }
    }

    /// A level better than the window, or a far one; also the first level of an empty side.
    #[cold]
    fn set_outside_window(&mut self, key: i64, qty: Qty) {
        if self.window_len == 0 || key < self.base {
            // An empty side, or a new level better than the window: re-anchor on it. Nothing
            // is held below `base`, so a removal there has nothing to remove.
            if qty.is_zero() {
                return;
            }
            self.rebase(key.saturating_sub(self.margin() as i64));
            if let Some(offset) = self.offset_of(key) {
                self.set_in_window(offset, qty);
            }
            return;
        }
        match self.far_search(key) {
            Ok(i) if qty.is_zero() => {
                self.far.remove(i);
            }
            Ok(i) => self.far[i].1 = qty,
            Err(i) if !qty.is_zero() => self.far.insert(i, (key, qty)),
            Err(_) => {}
        }
    }

    /// Finds the new best after the best level at `from` was removed, rebasing when it is deep
    /// in the window or only far levels remain.
    #[cold]
    fn on_best_removed(&mut self, from: usize) {
        match self.next_occupied(from) {
            Some(offset) if offset < self.window() - self.margin() => self.best = offset,
            Some(offset) => {
                let key = self.key_at(offset);
                self.rebase(key.saturating_sub(self.margin() as i64));
            }
            None => {
                self.best = self.window();
                if let Some(&(key, _)) = self.far.last() {
                    self.rebase(key.saturating_sub(self.margin() as i64));
                }
            }
        }
    }

    /// The first occupied offset at or after `from`.
    #[inline]
    fn next_occupied(&self, from: usize) -> Option<usize> {
        let mut word_index = from / WORD_BITS;
        let mut bits = *self.occupied.get(word_index)? & (u64::MAX << (from % WORD_BITS));
        loop {
            if bits != 0 {
                return Some(word_index * WORD_BITS + bits.trailing_zeros() as usize);
            }
            word_index += 1;
            bits = *self.occupied.get(word_index)?;
        }
    }

    /// Moves the window so that `slots[0]` is key `new_base`, moving levels between the window
    /// and the far `Vec` to restore the invariants. `new_base` must not exceed any held key.
    fn rebase(&mut self, new_base: i64) {
        let window = self.window();
        if self.window_len == 0 && self.far.is_empty() {
            self.base = new_base;
            self.best = window;
            return;
        }
        if new_base < self.base {
            // Down: the window's worst `shift` slots fall past its end and join the far levels
            // as their best (their keys are all smaller than any far key): appended, worst first.
            let shift = self.base.abs_diff(new_base);
            let kept = window.saturating_sub(usize::try_from(shift).unwrap_or(usize::MAX));
            for offset in (kept..window).rev() {
                let qty = self.slots[offset];
                if !qty.is_zero() {
                    self.far.push((self.key_at(offset), qty));
                }
            }
            self.slots.copy_within(0..kept, window - kept);
            self.slots[..window - kept].fill(Qty::ZERO);
        } else {
            // Up: nothing is held below `new_base`, so the first `shift` slots are empty; far
            // levels that now fall inside the window move into it.
            let shift = new_base.abs_diff(self.base);
            let shift = usize::try_from(shift).unwrap_or(usize::MAX).min(window);
            self.slots.copy_within(shift..window, 0);
            self.slots[window - shift..].fill(Qty::ZERO);
            // The far levels now inside the window are the best ones, at the end.
            let staying = self
                .far
                .partition_point(|&(key, _)| key.abs_diff(new_base) >= window as u64);
            for &(key, qty) in &self.far[staying..] {
                // `key >= new_base` (precondition) and within the window (partition above).
                self.slots[key.abs_diff(new_base) as usize] = qty;
            }
            self.far.truncate(staying);
        }
        self.base = new_base;
        self.rebuild_occupancy();
    }

    /// Recomputes the bitset, the window count and the best offset from `slots`.
    fn rebuild_occupancy(&mut self) {
        for (word, chunk) in self.occupied.iter_mut().zip(self.slots.chunks(WORD_BITS)) {
            *word = chunk
                .iter()
                .enumerate()
                .filter(|(_, q)| !q.is_zero())
                .fold(0, |bits, (i, _)| bits | (1 << i));
        }
        self.window_len = self.occupied.iter().map(|w| w.count_ones() as usize).sum();
        self.best = self.next_occupied(0).unwrap_or(self.window());
    }

    /// Removes every level, keeping the allocated storage.
    pub(crate) fn clear(&mut self) {
        for (word_index, word) in self.occupied.iter_mut().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                self.slots[word_index * WORD_BITS + bits.trailing_zeros() as usize] = Qty::ZERO;
                bits &= bits - 1;
            }
            *word = 0;
        }
        self.window_len = 0;
        self.best = self.window();
        self.far.clear();
    }

    /// The best `n` levels, best first.
    pub(crate) fn top(&self, n: usize) -> TopLevels<'_> {
        let word_index = self.best / WORD_BITS;
        TopLevels {
            ladder: self,
            word_index,
            bits: self.occupied.get(word_index).copied().unwrap_or(0),
            far_pos: 0,
            remaining: n.min(self.len()),
        }
    }

    /// Panics when an invariant of the module documentation does not hold.
    #[cfg(test)]
    pub(crate) fn assert_invariants(&self) {
        let window = self.window();
        for (offset, qty) in self.slots.iter().enumerate() {
            let bit = self.occupied[offset / WORD_BITS] >> (offset % WORD_BITS) & 1;
            assert!(!qty.is_negative(), "negative qty in slot {offset}");
            assert_eq!(
                bit == 1,
                !qty.is_zero(),
                "bitset disagrees at slot {offset}"
            );
        }
        let counted = self.slots.iter().filter(|q| !q.is_zero()).count();
        assert_eq!(self.window_len, counted, "window_len");
        assert_eq!(
            self.best,
            self.slots
                .iter()
                .position(|q| !q.is_zero())
                .unwrap_or(window),
            "best offset"
        );
        if self.window_len == 0 {
            assert!(self.far.is_empty(), "far levels with an empty window");
        }
        for pair in self.far.windows(2) {
            assert!(
                pair[0].0 > pair[1].0,
                "far levels out of order (worst first)"
            );
        }
        for &(key, qty) in &self.far {
            assert!(key >= self.base, "far key below base");
            assert!(
                key.abs_diff(self.base) >= window as u64,
                "far key inside window"
            );
            assert!(qty.is_positive(), "far level without qty");
        }
    }
}

/// The best levels of one side, best first: bids by descending price, asks by ascending
/// price. Returned by [`super::OrderBook::top`] and [`super::OrderBook::levels`]; it borrows the
/// book and allocates nothing.
#[derive(Debug, Clone)]
pub struct TopLevels<'a> {
    ladder: &'a Ladder,
    /// Index of the occupancy word `bits` came from.
    word_index: usize,
    /// The not yet visited bits of that word.
    bits: u64,
    /// Far levels visited once the window is exhausted (they are visited from the `Vec`'s end,
    /// where the best is).
    far_pos: usize,
    /// Levels still to yield (already capped at the number held).
    remaining: usize,
}

impl Iterator for TopLevels<'_> {
    type Item = Level;

    #[inline]
    fn next(&mut self) -> Option<Level> {
        if self.remaining == 0 {
            return None;
        }
        let ladder = self.ladder;
        loop {
            if self.bits != 0 {
                let offset = self.word_index * WORD_BITS + self.bits.trailing_zeros() as usize;
                self.bits &= self.bits - 1;
                self.remaining -= 1;
                let qty = *ladder.slots.get(offset)?;
                return Some(Level::new(ladder.price_of(ladder.key_at(offset)), qty));
            }
            match ladder.occupied.get(self.word_index + 1) {
                Some(&bits) => {
                    self.word_index += 1;
                    self.bits = bits;
                }
                None => break,
            }
        }
        let index = ladder.far.len().checked_sub(self.far_pos + 1)?;
        let &(key, qty) = ladder.far.get(index)?;
        self.far_pos += 1;
        self.remaining -= 1;
        Some(Level::new(ladder.price_of(key), qty))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for TopLevels<'_> {}

impl FusedIterator for TopLevels<'_> {}
