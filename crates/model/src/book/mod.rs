//! The L2 order book and Binance depth-stream sequencing.
//!
//! What lives here:
//! - [`OrderBook`]: one instrument's price levels, bids best (highest) first and asks best
//!   (lowest) first, fed by a snapshot and absolute per-level updates. It answers best bid/ask,
//!   mid, spread, top-N views, the depth needed to fill a notional and a stable hash of the top
//!   levels for comparing two books.
//! - [`DepthSequencer`]: the update-id state machine of the Binance diff-depth stream
//!   (`binance-futures.md` §7.1 for futures, §7.2 for spot). It only looks at ids, so the same
//!   code serves the live adapter, the simulator's clients and replays.
//! - [`OrderBook::apply_diff`]: both at once for the market-data hot path: one [`DepthDiff`]
//!   event is checked by the sequencer and, if it belongs, applied to the levels.
//!
//! What it must not do: match orders (a bid at or above the best ask is stored as the exchange
//! sent it; the book mirrors the venue), allocate per update once warmed up, panic on outside
//! input, or do I/O. Fetching a new snapshot after a [`SyncDecision::Gap`] is the caller's job.
//!
//! # Storage
//!
//! Each side is a price-indexed ladder (see `ladder.rs`): a window of slots indexed by tick
//! offset, with an occupancy bitset so the next best level and top-N walks skip empty ticks a
//! machine word at a time, and a sorted, pre-reserved `Vec` for the levels that fall outside
//! the window. Prices are therefore checked against the instrument's tick size given at
//! construction ([`BookConfig::tick`]); a price off that grid is a [`BookError::OffTick`].
//! Both sides share one implementation, parameterised by [`BookSide`].

mod error;
mod ladder;
mod order_book;
mod sync;

pub use error::BookError;
pub use ladder::TopLevels;
pub use order_book::{BookConfig, DepthDiff, DepthFill, OrderBook};
pub use sync::{DepthSequencer, Flavor, SyncDecision, SyncGap, SyncRule};

use serde::{Deserialize, Serialize};

use crate::{Price, Qty};

/// Which side of the book: bids (buy interest, best = highest) or asks (best = lowest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookSide {
    /// Resting buy interest; the best bid is the highest price.
    Bid,
    /// Resting sell interest; the best ask is the lowest price.
    Ask,
}

impl BookSide {
    /// Both sides, bids first (the order used by [`OrderBook::top_hash`]).
    pub const BOTH: [Self; 2] = [Self::Bid, Self::Ask];

    /// `"bid"` or `"ask"`, for messages.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bid => "bid",
            Self::Ask => "ask",
        }
    }

    /// Maps a tick index (price / tick) to a rank key where a smaller key is a better level,
    /// so one ladder implementation serves both sides.
    #[inline]
    pub(crate) const fn key_of(self, tick_index: i64) -> i64 {
        match self {
            Self::Bid => -tick_index,
            Self::Ask => tick_index,
        }
    }

    /// The inverse of [`Self::key_of`] (negation is its own inverse).
    #[inline]
    pub(crate) const fn tick_index_of(self, key: i64) -> i64 {
        self.key_of(key)
    }
}

impl std::fmt::Display for BookSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One price level: the total quantity resting at a price.
///
/// Deserializes from a Binance `["price", "qty"]` pair as well as from a `{"price", "qty"}` map;
/// serializes as the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Level {
    /// The level's price.
    pub price: Price,
    /// The total quantity at that price (never zero inside a book).
    pub qty: Qty,
}

impl Level {
    /// Builds a level.
    #[must_use]
    pub const fn new(price: Price, qty: Qty) -> Self {
        Self { price, qty }
    }
}

impl From<(Price, Qty)> for Level {
    fn from((price, qty): (Price, Qty)) -> Self {
        Self { price, qty }
    }
}

#[cfg(test)]
mod tests;
