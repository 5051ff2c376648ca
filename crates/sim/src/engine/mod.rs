//! The per-symbol matching engine: a price-time-priority L3 book of LIMIT orders that takes
//! LIMIT and MARKET orders with time in force GTC, IOC, FOK or GTX (post-only), following the
//! Binance USD-M futures order semantics of `binance-futures.md` §3.3 and §9.
//!
//! What it owns: the resting orders and their queue positions, matching (fills at the maker's
//! price, best price first, oldest first within a price), self-trade prevention, FOK and GTX
//! refusals, cancel, cancel-all and Binance-style modify, the trade id counter, the book
//! `update_id` and the log of changed L2 levels that depth streams are cut from.
//!
//! What it must not do: conditional orders (held and triggered above it, which then submit a
//! plain child order here), margin, positions and reduce-only clipping (above it: it receives
//! the final quantity), exchange filters (tick, step, notional: validated above), and anything
//! involving time, randomness or I/O. The same calls in the same order give the same events,
//! byte for byte.
//!
//! # Calling it
//!
//! Every mutating call takes a caller-owned `Vec<EngineEvent>` and appends to it (it never
//! clears it), so one buffer can be reused and nothing is allocated per order once the book
//! has grown to its working size. Errors ([`EngineError`]) are returned before anything
//! changes. Book-dependent refusals (FOK cannot fill, post-only would take) are outcomes, not
//! errors: they come back as [`TakerStatus::Rejected`] with nothing executed, recorded or
//! logged.
//!
//! # Depth updates
//!
//! [`MatchingEngine::update_id`] advances by exactly one for each operation that changes at
//! least one L2 level. Each change is logged as a [`LevelChange`] carrying that id and the
//! level's new total (zero when the level is gone); the streaming layer drains the log with
//! [`MatchingEngine::drain_level_changes`] and builds `depthUpdate` events with `U`/`u` ranges
//! from it (§6.2, §7.4). The log grows until drained.

mod book;
mod error;
mod event;
mod matching;
mod order;

pub use error::EngineError;
pub use event::{
    AmendOutcome, Amended, CancelReason, Canceled, EngineEvent, ExpiryReason, Fill, LevelChange,
    MakerExpired, RejectReason, TakerOutcome, TakerStatus,
};
pub use order::{AccountId, NewOrder, OrderId, OrderRef, RestingOrder, Stp};

use kestrel_model::book::{BookSide, Level};
use kestrel_model::{Price, Qty};

use book::Book;

/// Where a new engine starts its counters, and how much to pre-allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// The book update id before the first change; the first change gets this plus one.
    pub last_update_id: u64,
    /// The trade id before the first fill; the first fill gets this plus one.
    pub last_trade_id: u64,
    /// Resting orders to reserve room for, so a book of this size grows without reallocating.
    pub order_capacity: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            last_update_id: 0,
            last_trade_id: 0,
            order_capacity: 4_096,
        }
    }
}

/// One symbol's matching engine. See the module documentation for its contract.
#[derive(Debug, Clone)]
pub struct MatchingEngine {
    book: Book,
    last_trade_id: u64,
}

impl Default for MatchingEngine {
    fn default() -> Self {
        Self::new(EngineConfig::default())
    }
}

impl MatchingEngine {
    /// An empty engine.
    #[must_use]
    pub fn new(config: EngineConfig) -> Self {
        Self {
            book: Book::new(config.last_update_id, config.order_capacity),
            last_trade_id: config.last_trade_id,
        }
    }

    /// The resting order with this id, or `None` if it is not open on the book.
    #[must_use]
    pub fn order(&self, id: OrderId) -> Option<RestingOrder> {
        self.book.lookup(id).map(|slot| *self.book.order(slot))
    }

    /// The open orders of `account`, in the order they (last) started resting. `cancel_all`
    /// cancels them in this order.
    pub fn open_orders(&self, account: AccountId) -> impl Iterator<Item = RestingOrder> + '_ {
        self.book.account_orders(account).copied()
    }

    /// The orders resting at `price` on `side`, first in time priority first.
    pub fn orders_at(
        &self,
        side: BookSide,
        price: Price,
    ) -> impl Iterator<Item = RestingOrder> + '_ {
        self.book.orders_at(side, price).copied()
    }

    /// The number of orders resting on the book.
    #[must_use]
    pub fn open_order_count(&self) -> usize {
        self.book.len()
    }

    /// The best level of `side`: its price and total quantity.
    #[must_use]
    pub fn best(&self, side: BookSide) -> Option<Level> {
        self.book.best(side)
    }

    /// The best (highest) bid.
    #[must_use]
    pub fn best_bid(&self) -> Option<Level> {
        self.book.best(BookSide::Bid)
    }

    /// The best (lowest) ask.
    #[must_use]
    pub fn best_ask(&self) -> Option<Level> {
        self.book.best(BookSide::Ask)
    }

    /// The L2 levels of `side`, best first (bids by descending price, asks ascending), each
    /// with the total resting at that price. `.take(n)` gives the top N.
    pub fn levels(&self, side: BookSide) -> impl Iterator<Item = Level> + '_ {
        self.book.levels(side)
    }

    /// Replaces the contents of `out` with the top `n` levels of `side`, best first.
    pub fn copy_top(&self, side: BookSide, n: usize, out: &mut Vec<Level>) {
        out.clear();
        out.extend(self.book.levels(side).take(n));
    }

    /// The number of price levels on `side`.
    #[must_use]
    pub fn level_count(&self, side: BookSide) -> usize {
        self.book.level_count(side)
    }

    /// The total quantity resting at `price` on `side` (zero when nothing rests there).
    #[must_use]
    pub fn l2_qty_at(&self, side: BookSide, price: Price) -> Qty {
        self.book.qty_at(side, price)
    }

    /// The book update id: that of the last operation that changed an L2 level (Binance
    /// `lastUpdateId` for a depth snapshot taken now).
    #[must_use]
    pub const fn update_id(&self) -> u64 {
        self.book.update_id()
    }

    /// The id of the last trade (the starting value if none has happened).
    #[must_use]
    pub const fn last_trade_id(&self) -> u64 {
        self.last_trade_id
    }

    /// The L2 changes logged since the log was last drained or cleared, oldest first.
    #[must_use]
    pub fn level_changes(&self) -> &[LevelChange] {
        self.book.changes()
    }

    /// Appends the logged L2 changes to `out`, oldest first, and empties the log.
    pub fn drain_level_changes(&mut self, out: &mut Vec<LevelChange>) {
        self.book.drain_changes(out);
    }

    /// Empties the L2 change log (for callers that publish no depth stream).
    pub fn clear_level_changes(&mut self) {
        self.book.clear_changes();
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
