//! [`ReplayBook`]: one symbol's L2 book rebuilt from a recording's snapshot and diffs, so the
//! simulator can serve a REST depth snapshot that reflects the replayed market at any moment.
//!
//! It follows the futures procedure of `binance-futures.md` §7.1 through
//! [`OrderBook::apply_diff`]: diffs that arrive before a snapshot (or after a gap) are buffered;
//! when a snapshot arrives, buffered diffs with `u < lastUpdateId` are dropped as stale, the
//! first applied one must straddle `lastUpdateId`, and every later one must have
//! `pu == previous u`. A gap leaves the book unsynced until the recording's next snapshot.

use std::collections::VecDeque;

use kestrel_model::book::{
    BookConfig, BookError, BookSide, DepthDiff, Flavor, OrderBook, SyncDecision, SyncGap,
};
use kestrel_model::{Level, Price, Qty};
use serde::Deserialize;

use super::{MessageKind, RecordedMessage};

/// Diffs kept while waiting for a snapshot; beyond this the oldest are dropped (and counted).
const MAX_BUFFERED_DIFFS: usize = 10_000;

/// What one message did to a [`ReplayBook`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookUpdate {
    /// Not for this book (another symbol, or not depth data).
    Ignored,
    /// A diff kept until the next snapshot.
    Buffered,
    /// A snapshot was loaded; `applied` and `stale` buffered diffs followed it.
    Snapshot {
        /// Buffered diffs applied on top of it.
        applied: usize,
        /// Buffered diffs dropped as already in the snapshot.
        stale: usize,
    },
    /// A diff was applied.
    Applied,
    /// A diff already reflected in the book was dropped.
    Stale,
    /// A diff revealed missing updates: the book is unsynced until the next snapshot.
    Gap(SyncGap),
    /// The message could not be used (malformed JSON or levels); the detail says why.
    Rejected(String),
}

/// Counts of what a [`ReplayBook`] has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayBookStats {
    /// Snapshots loaded.
    pub snapshots: u64,
    /// Diffs applied (buffered ones included).
    pub applied: u64,
    /// Diffs dropped as stale.
    pub stale: u64,
    /// Gaps found.
    pub gaps: u64,
    /// Diffs buffered while waiting for a snapshot.
    pub buffered: u64,
    /// Buffered diffs dropped because the buffer was full.
    pub overflowed: u64,
    /// Messages that could not be used.
    pub rejected: u64,
}

/// A depth snapshot of the replayed book, as `/fapi/v1/depth` serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthSnapshot {
    /// The update id the book reflects: the last applied diff's `u` (or the snapshot's own).
    pub last_update_id: u64,
    /// `E` of the last message applied, in ms.
    pub event_time_ms: Option<u64>,
    /// `T` of the last message applied, in ms.
    pub transaction_time_ms: Option<u64>,
    /// Bids, best (highest) first.
    pub bids: Vec<Level>,
    /// Asks, best (lowest) first.
    pub asks: Vec<Level>,
}

/// A diff, owned, while it waits for a snapshot.
#[derive(Debug, Clone)]
struct OwnedDiff {
    first_update_id: u64,
    final_update_id: u64,
    prev_final_update_id: Option<u64>,
    event_time_ms: Option<u64>,
    transaction_time_ms: Option<u64>,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl OwnedDiff {
    fn as_diff(&self) -> DepthDiff<'_> {
        DepthDiff {
            first_update_id: self.first_update_id,
            final_update_id: self.final_update_id,
            prev_final_update_id: self.prev_final_update_id,
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

/// A `depthUpdate` event as written (§6.2), prices and quantities still text.
#[derive(Debug, Deserialize)]
struct RawDiff<'a> {
    #[serde(rename = "U")]
    first_update_id: u64,
    #[serde(rename = "u")]
    final_update_id: u64,
    #[serde(rename = "pu")]
    prev_final_update_id: Option<u64>,
    #[serde(rename = "E")]
    event_time_ms: Option<u64>,
    #[serde(rename = "T")]
    transaction_time_ms: Option<u64>,
    #[serde(rename = "b", borrow)]
    bids: Vec<(&'a str, &'a str)>,
    #[serde(rename = "a", borrow)]
    asks: Vec<(&'a str, &'a str)>,
}

/// A `/fapi/v1/depth` response as written.
#[derive(Debug, Deserialize)]
struct RawSnapshot<'a> {
    #[serde(rename = "lastUpdateId")]
    last_update_id: u64,
    #[serde(rename = "E")]
    event_time_ms: Option<u64>,
    #[serde(rename = "T")]
    transaction_time_ms: Option<u64>,
    #[serde(borrow)]
    bids: Vec<(&'a str, &'a str)>,
    #[serde(borrow)]
    asks: Vec<(&'a str, &'a str)>,
}

/// One symbol's book rebuilt from a recording (see the module docs).
#[derive(Debug, Clone)]
pub struct ReplayBook {
    symbol: Option<String>,
    fixed_tick: Option<Price>,
    /// The most decimals seen in any price so far: the derived tick is 10^-this.
    price_decimals: u32,
    book: Option<OrderBook>,
    buffer: VecDeque<OwnedDiff>,
    event_time_ms: Option<u64>,
    transaction_time_ms: Option<u64>,
    stats: ReplayBookStats,
}

impl ReplayBook {
    /// A book for `symbol` (`None`: whatever symbol the messages carry; use it for one-symbol
    /// recordings) with the given tick, or, with `tick = None`, the finest decimal step written
    /// in any price seen (Binance writes prices with the instrument's price precision, so
    /// `"61800.20"` gives 0.01, a divisor of the real 0.1 tick).
    ///
    /// REST snapshots do not name their symbol: every snapshot is taken to be this book's.
    #[must_use]
    pub fn new(symbol: Option<&str>, tick: Option<Price>) -> Self {
        Self {
            symbol: symbol.map(str::to_ascii_uppercase),
            fixed_tick: tick.filter(|tick| tick.is_positive()),
            price_decimals: 0,
            book: None,
            buffer: VecDeque::new(),
            event_time_ms: None,
            transaction_time_ms: None,
            stats: ReplayBookStats::default(),
        }
    }

    /// The book, once a snapshot has been loaded (check [`OrderBook::is_synced`] before
    /// trusting it).
    #[must_use]
    pub const fn book(&self) -> Option<&OrderBook> {
        self.book.as_ref()
    }

    /// Whether a snapshot is in force and no gap has been seen since.
    #[must_use]
    pub fn is_synced(&self) -> bool {
        self.book.as_ref().is_some_and(OrderBook::is_synced)
    }

    /// What the book has done so far.
    #[must_use]
    pub const fn stats(&self) -> &ReplayBookStats {
        &self.stats
    }

    /// The tick the book uses (or would use now, before the first snapshot).
    #[must_use]
    pub fn tick(&self) -> Price {
        self.fixed_tick
            .unwrap_or_else(|| decimal_step(self.price_decimals))
    }

    /// The best `limit` levels of each side with the update id they reflect, as a REST depth
    /// snapshot; `None` while the book is not synced.
    #[must_use]
    pub fn depth(&self, limit: usize) -> Option<DepthSnapshot> {
        let book = self.book.as_ref().filter(|book| book.is_synced())?;
        Some(DepthSnapshot {
            last_update_id: book.last_update_id()?,
            event_time_ms: self.event_time_ms,
            transaction_time_ms: self.transaction_time_ms,
            bids: book.top(BookSide::Bid, limit).collect(),
            asks: book.top(BookSide::Ask, limit).collect(),
        })
    }

    /// Applies one recorded message: a snapshot or diff for this book's symbol (a snapshot
    /// that names no symbol, as in single-symbol captures, is taken as ours); anything else is
    /// [`BookUpdate::Ignored`].
    pub fn apply(&mut self, message: &RecordedMessage) -> BookUpdate {
        let ours = match (&self.symbol, &message.symbol) {
            (Some(wanted), Some(symbol)) => wanted == symbol,
            _ => true,
        };
        let update = match message.kind {
            MessageKind::Snapshot if ours => self.apply_snapshot(&message.raw),
            MessageKind::DepthDiff if ours => self.apply_diff(&message.raw),
            _ => BookUpdate::Ignored,
        };
        if let BookUpdate::Rejected(_) = update {
            self.stats.rejected += 1;
        }
        update
    }

    fn apply_snapshot(&mut self, raw: &str) -> BookUpdate {
        let snapshot: RawSnapshot<'_> = match serde_json::from_str(raw) {
            Ok(snapshot) => snapshot,
            Err(error) => return BookUpdate::Rejected(format!("depth snapshot: {error}")),
        };
        let parsed = self
            .parse_levels(&snapshot.bids)
            .and_then(|bids| Ok((bids, self.parse_levels(&snapshot.asks)?)));
        let (bids, asks) = match parsed {
            Ok(levels) => levels,
            Err(error) => return BookUpdate::Rejected(format!("depth snapshot: {error}")),
        };
        let book = match self.book_for_tick() {
            Ok(book) => book,
            Err(error) => return BookUpdate::Rejected(error.to_string()),
        };
        if let Err(error) = book.apply_snapshot(snapshot.last_update_id, bids, asks) {
            return BookUpdate::Rejected(format!("depth snapshot: {error}"));
        }
        self.stats.snapshots += 1;
        self.event_time_ms = snapshot.event_time_ms;
        self.transaction_time_ms = snapshot.transaction_time_ms;
        self.drain_buffer()
    }

    /// The book to load a snapshot into: the current one, or a new one when the tick has
    /// become finer (or on the first snapshot).
    fn book_for_tick(&mut self) -> Result<&mut OrderBook, BookError> {
        let tick = self.tick();
        if self.book.as_ref().is_some_and(|book| book.tick() != tick) {
            self.book = None;
        }
        match &mut self.book {
            Some(book) => Ok(book),
            slot @ None => Ok(slot.insert(OrderBook::new(BookConfig::new(tick, Flavor::Futures))?)),
        }
    }

    /// Applies the buffered diffs on top of a fresh snapshot.
    fn drain_buffer(&mut self) -> BookUpdate {
        let (mut applied, mut stale) = (0, 0);
        while let Some(diff) = self.buffer.pop_front() {
            match self.apply_owned(&diff) {
                BookUpdate::Applied => applied += 1,
                BookUpdate::Stale => stale += 1,
                broken @ (BookUpdate::Gap(_) | BookUpdate::Rejected(_)) => {
                    // This diff and the later ones wait for the next snapshot.
                    self.buffer.push_front(diff);
                    return broken;
                }
                BookUpdate::Buffered | BookUpdate::Ignored | BookUpdate::Snapshot { .. } => {}
            }
        }
        BookUpdate::Snapshot { applied, stale }
    }

    fn apply_diff(&mut self, raw: &str) -> BookUpdate {
        let diff = match serde_json::from_str::<RawDiff<'_>>(raw) {
            Ok(diff) => diff,
            Err(error) => return BookUpdate::Rejected(format!("depth diff: {error}")),
        };
        let levels = self
            .parse_levels(&diff.bids)
            .and_then(|bids| Ok((bids, self.parse_levels(&diff.asks)?)));
        let (bids, asks) = match levels {
            Ok(levels) => levels,
            Err(error) => {
                return BookUpdate::Rejected(format!(
                    "depth diff {}: {error}",
                    diff.final_update_id
                ));
            }
        };
        let owned = OwnedDiff {
            first_update_id: diff.first_update_id,
            final_update_id: diff.final_update_id,
            prev_final_update_id: diff.prev_final_update_id,
            event_time_ms: diff.event_time_ms,
            transaction_time_ms: diff.transaction_time_ms,
            bids,
            asks,
        };
        if !self.is_synced() {
            return self.buffer_diff(owned);
        }
        let update = self.apply_owned(&owned);
        if let BookUpdate::Gap(_) = update {
            // The next snapshot may still need it.
            self.buffer_diff(owned);
        }
        update
    }

    fn buffer_diff(&mut self, diff: OwnedDiff) -> BookUpdate {
        if self.buffer.len() >= MAX_BUFFERED_DIFFS {
            self.buffer.pop_front();
            self.stats.overflowed += 1;
        }
        self.buffer.push_back(diff);
        self.stats.buffered += 1;
        BookUpdate::Buffered
    }

    /// Applies one diff to a synced book and counts the outcome.
    fn apply_owned(&mut self, diff: &OwnedDiff) -> BookUpdate {
        let Some(book) = self.book.as_mut() else {
            return BookUpdate::Ignored;
        };
        match book.apply_diff(&diff.as_diff()) {
            Ok(SyncDecision::Apply) => {
                self.stats.applied += 1;
                self.event_time_ms = diff.event_time_ms.or(self.event_time_ms);
                self.transaction_time_ms = diff.transaction_time_ms.or(self.transaction_time_ms);
                BookUpdate::Applied
            }
            Ok(SyncDecision::DropStale) => {
                self.stats.stale += 1;
                BookUpdate::Stale
            }
            Ok(SyncDecision::Gap(gap)) => {
                self.stats.gaps += 1;
                BookUpdate::Gap(gap)
            }
            Ok(SyncDecision::AwaitingSnapshot) => BookUpdate::Ignored,
            Err(error) => {
                BookUpdate::Rejected(format!("depth diff {}: {error}", diff.final_update_id))
            }
        }
    }

    /// Parses `[price, qty]` pairs, noting the decimals written in each price.
    fn parse_levels(&mut self, pairs: &[(&str, &str)]) -> Result<Vec<Level>, String> {
        let mut levels = Vec::with_capacity(pairs.len());
        for &(price, qty) in pairs {
            let decimals = price
                .split_once('.')
                .map_or(0, |(_, fraction)| fraction.len());
            self.price_decimals = self.price_decimals.max(decimals.min(8) as u32);
            let price = Price::parse(price).map_err(|error| error.to_string())?;
            let qty = Qty::parse(qty).map_err(|error| error.to_string())?;
            levels.push(Level::new(price, qty));
        }
        Ok(levels)
    }
}

/// 10^-decimals as a price (decimals ≤ 8).
fn decimal_step(decimals: u32) -> Price {
    Price::from_raw(10_i64.pow(8 - decimals.min(8)))
}
