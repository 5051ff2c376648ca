//! Normalised market-data events: what `marketdata` publishes and every consumer reads
//! (seed 000 FR-MD-005 "normalized order book and trade data").
//!
//! Each event has two forms:
//! - a borrowed one ([`DepthUpdate`], [`BookTicker`], [`TradeEvent`], [`BookSnapshot`], gathered
//!   in [`MarketEvent`]) whose symbol and levels are slices into the caller's buffers, so the hot
//!   path builds, publishes and reads events without allocating;
//! - an owned one ([`OwnedDepthUpdate`], ..., [`OwnedMarketEvent`]) for storage, channels and
//!   tests.
//!
//! `into_owned` and `as_event` convert between the two. Every event carries the venue's times
//! (milliseconds, venue clock) and Kestrel's [`ReceiveTime`]. Nothing here does I/O; the binary
//! encoding lives in `kestrel-bus`.

use serde::{Deserialize, Serialize};

use crate::book::{BookSide, DepthDiff, Level, OrderBook};
use crate::money::{Price, Qty};
use crate::order::Side;
use crate::trade::Trade;

/// When Kestrel received an event: a monotonic stamp for latency, a wall-clock stamp for records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReceiveTime {
    /// Monotonic clock in nanoseconds from an arbitrary per-host origin (only differences count).
    pub monotonic_ns: u64,
    /// Wall clock in nanoseconds since the Unix epoch.
    pub wall_ns: u64,
}

impl ReceiveTime {
    /// Builds a receive time from its two stamps.
    #[must_use]
    pub const fn new(monotonic_ns: u64, wall_ns: u64) -> Self {
        Self {
            monotonic_ns,
            wall_ns,
        }
    }
}

/// Which of the four market events a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An incremental depth update ([`DepthUpdate`]).
    Depth,
    /// A best bid/ask update ([`BookTicker`]).
    BookTicker,
    /// A public trade ([`TradeEvent`]).
    Trade,
    /// A top-N order-book snapshot ([`BookSnapshot`]).
    Snapshot,
}

impl EventKind {
    /// All kinds, in declaration order.
    pub const ALL: [Self; 4] = [Self::Depth, Self::BookTicker, Self::Trade, Self::Snapshot];

    /// `"depth"`, `"book_ticker"`, `"trade"` or `"snapshot"`, for messages.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Depth => "depth",
            Self::BookTicker => "book_ticker",
            Self::Trade => "trade",
            Self::Snapshot => "snapshot",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An incremental depth update, borrowed: the levels that changed, each with its absolute new
/// quantity (zero removes the level), and the update-id range it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthUpdate<'a> {
    /// The venue symbol.
    pub symbol: &'a str,
    /// `U`: the first update id in the event.
    pub first_update_id: u64,
    /// `u`: the final update id in the event.
    pub final_update_id: u64,
    /// `pu`: the previous event's final update id (futures); `None` where the venue has none.
    pub prev_final_update_id: Option<u64>,
    /// `E`: when the venue sent the event, milliseconds since the epoch.
    pub event_time_ms: u64,
    /// `T`: the matching-engine time of the update, milliseconds since the epoch.
    pub transaction_time_ms: u64,
    /// When Kestrel received it.
    pub received: ReceiveTime,
    /// Changed bid levels (absolute quantities, zero = removed).
    pub bids: &'a [Level],
    /// Changed ask levels (absolute quantities, zero = removed).
    pub asks: &'a [Level],
}

impl<'a> DepthUpdate<'a> {
    /// The ids and levels as the [`DepthDiff`] that `OrderBook::apply_diff` takes.
    #[must_use]
    pub const fn as_diff(&self) -> DepthDiff<'a> {
        DepthDiff {
            first_update_id: self.first_update_id,
            final_update_id: self.final_update_id,
            prev_final_update_id: self.prev_final_update_id,
            bids: self.bids,
            asks: self.asks,
        }
    }

    /// Copies the update into its owned form.
    #[must_use]
    pub fn into_owned(self) -> OwnedDepthUpdate {
        OwnedDepthUpdate {
            symbol: self.symbol.to_owned(),
            first_update_id: self.first_update_id,
            final_update_id: self.final_update_id,
            prev_final_update_id: self.prev_final_update_id,
            event_time_ms: self.event_time_ms,
            transaction_time_ms: self.transaction_time_ms,
            received: self.received,
            bids: self.bids.to_vec(),
            asks: self.asks.to_vec(),
        }
    }
}

/// An incremental depth update, owned (see [`DepthUpdate`] for the fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedDepthUpdate {
    /// The venue symbol.
    pub symbol: String,
    /// `U`: the first update id in the event.
    pub first_update_id: u64,
    /// `u`: the final update id in the event.
    pub final_update_id: u64,
    /// `pu`: the previous event's final update id, where the venue sends one.
    pub prev_final_update_id: Option<u64>,
    /// `E`: venue send time, milliseconds since the epoch.
    pub event_time_ms: u64,
    /// `T`: matching-engine time, milliseconds since the epoch.
    pub transaction_time_ms: u64,
    /// When Kestrel received it.
    pub received: ReceiveTime,
    /// Changed bid levels.
    pub bids: Vec<Level>,
    /// Changed ask levels.
    pub asks: Vec<Level>,
}

impl OwnedDepthUpdate {
    /// Borrows the update.
    #[must_use]
    pub fn as_event(&self) -> DepthUpdate<'_> {
        DepthUpdate {
            symbol: &self.symbol,
            first_update_id: self.first_update_id,
            final_update_id: self.final_update_id,
            prev_final_update_id: self.prev_final_update_id,
            event_time_ms: self.event_time_ms,
            transaction_time_ms: self.transaction_time_ms,
            received: self.received,
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

/// The best bid and ask (Binance `bookTicker`), borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookTicker<'a> {
    /// The venue symbol.
    pub symbol: &'a str,
    /// `u`: the order-book update id this top of book reflects.
    pub update_id: u64,
    /// `E`: venue send time, milliseconds since the epoch.
    pub event_time_ms: u64,
    /// `T`: matching-engine time, milliseconds since the epoch.
    pub transaction_time_ms: u64,
    /// When Kestrel received it.
    pub received: ReceiveTime,
    /// Best bid price and quantity.
    pub bid: Level,
    /// Best ask price and quantity.
    pub ask: Level,
}

impl BookTicker<'_> {
    /// Copies the ticker into its owned form.
    #[must_use]
    pub fn into_owned(self) -> OwnedBookTicker {
        OwnedBookTicker {
            symbol: self.symbol.to_owned(),
            update_id: self.update_id,
            event_time_ms: self.event_time_ms,
            transaction_time_ms: self.transaction_time_ms,
            received: self.received,
            bid: self.bid,
            ask: self.ask,
        }
    }
}

/// The best bid and ask, owned (see [`BookTicker`] for the fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedBookTicker {
    /// The venue symbol.
    pub symbol: String,
    /// `u`: the order-book update id.
    pub update_id: u64,
    /// `E`: venue send time, milliseconds since the epoch.
    pub event_time_ms: u64,
    /// `T`: matching-engine time, milliseconds since the epoch.
    pub transaction_time_ms: u64,
    /// When Kestrel received it.
    pub received: ReceiveTime,
    /// Best bid price and quantity.
    pub bid: Level,
    /// Best ask price and quantity.
    pub ask: Level,
}

impl OwnedBookTicker {
    /// Borrows the ticker.
    #[must_use]
    pub fn as_event(&self) -> BookTicker<'_> {
        BookTicker {
            symbol: &self.symbol,
            update_id: self.update_id,
            event_time_ms: self.event_time_ms,
            transaction_time_ms: self.transaction_time_ms,
            received: self.received,
            bid: self.bid,
            ask: self.ask,
        }
    }
}

/// A public trade with its stream and receive times, borrowed (the fields of [`Trade`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradeEvent<'a> {
    /// The venue symbol.
    pub symbol: &'a str,
    /// The venue's trade id (or aggregate trade id), increasing per symbol.
    pub trade_id: u64,
    /// The execution price.
    pub price: Price,
    /// The executed quantity.
    pub qty: Qty,
    /// `T`: trade time, milliseconds since the epoch (venue clock).
    pub trade_time_ms: u64,
    /// `E`: venue send time, milliseconds since the epoch.
    pub event_time_ms: u64,
    /// Whether the buyer's order was resting (so the seller was the aggressor).
    pub buyer_is_maker: bool,
    /// When Kestrel received it.
    pub received: ReceiveTime,
}

impl<'a> TradeEvent<'a> {
    /// Borrows a [`Trade`] and adds the stream's send time and Kestrel's receive time.
    #[must_use]
    pub fn from_trade(trade: &'a Trade, event_time_ms: u64, received: ReceiveTime) -> Self {
        Self {
            symbol: &trade.symbol,
            trade_id: trade.trade_id,
            price: trade.price,
            qty: trade.quantity,
            trade_time_ms: trade.timestamp_ms,
            event_time_ms,
            buyer_is_maker: trade.buyer_is_maker,
            received,
        }
    }

    /// The side of the aggressor: a buyer-is-maker trade was a sell taking the bid.
    #[must_use]
    pub const fn aggressor_side(&self) -> Side {
        if self.buyer_is_maker {
            Side::Sell
        } else {
            Side::Buy
        }
    }

    /// The trade alone, as the model's [`Trade`].
    #[must_use]
    pub fn to_trade(&self) -> Trade {
        Trade {
            symbol: self.symbol.to_owned(),
            trade_id: self.trade_id,
            price: self.price,
            quantity: self.qty,
            timestamp_ms: self.trade_time_ms,
            buyer_is_maker: self.buyer_is_maker,
        }
    }

    /// Copies the event into its owned form.
    #[must_use]
    pub fn into_owned(self) -> OwnedTradeEvent {
        OwnedTradeEvent {
            trade: self.to_trade(),
            event_time_ms: self.event_time_ms,
            received: self.received,
        }
    }
}

/// A public trade with its stream and receive times, owned: a [`Trade`] plus the times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedTradeEvent {
    /// The trade itself.
    pub trade: Trade,
    /// `E`: venue send time, milliseconds since the epoch.
    pub event_time_ms: u64,
    /// When Kestrel received it.
    pub received: ReceiveTime,
}

impl OwnedTradeEvent {
    /// Borrows the event.
    #[must_use]
    pub fn as_event(&self) -> TradeEvent<'_> {
        TradeEvent::from_trade(&self.trade, self.event_time_ms, self.received)
    }
}

/// The top levels of an order book at one update id, borrowed (best first on each side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookSnapshot<'a> {
    /// The venue symbol.
    pub symbol: &'a str,
    /// The update id the levels reflect (`lastUpdateId` for a venue snapshot).
    pub last_update_id: u64,
    /// `E`: venue send time, milliseconds since the epoch (0 when unknown).
    pub event_time_ms: u64,
    /// `T`: matching-engine time, milliseconds since the epoch (0 when unknown).
    pub transaction_time_ms: u64,
    /// When Kestrel received (or took) it.
    pub received: ReceiveTime,
    /// Bid levels, best (highest) first.
    pub bids: &'a [Level],
    /// Ask levels, best (lowest) first.
    pub asks: &'a [Level],
}

impl BookSnapshot<'_> {
    /// Copies the snapshot into its owned form.
    #[must_use]
    pub fn into_owned(self) -> OwnedBookSnapshot {
        OwnedBookSnapshot {
            symbol: self.symbol.to_owned(),
            last_update_id: self.last_update_id,
            event_time_ms: self.event_time_ms,
            transaction_time_ms: self.transaction_time_ms,
            received: self.received,
            bids: self.bids.to_vec(),
            asks: self.asks.to_vec(),
        }
    }
}

/// The top levels of an order book, owned (see [`BookSnapshot`] for the fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedBookSnapshot {
    /// The venue symbol.
    pub symbol: String,
    /// The update id the levels reflect.
    pub last_update_id: u64,
    /// `E`: venue send time, milliseconds since the epoch (0 when unknown).
    pub event_time_ms: u64,
    /// `T`: matching-engine time, milliseconds since the epoch (0 when unknown).
    pub transaction_time_ms: u64,
    /// When Kestrel received (or took) it.
    pub received: ReceiveTime,
    /// Bid levels, best first.
    pub bids: Vec<Level>,
    /// Ask levels, best first.
    pub asks: Vec<Level>,
}

impl OwnedBookSnapshot {
    /// Borrows the snapshot.
    #[must_use]
    pub fn as_event(&self) -> BookSnapshot<'_> {
        BookSnapshot {
            symbol: &self.symbol,
            last_update_id: self.last_update_id,
            event_time_ms: self.event_time_ms,
            transaction_time_ms: self.transaction_time_ms,
            received: self.received,
            bids: &self.bids,
            asks: &self.asks,
        }
    }

    /// Replaces the levels with the best `depth` of each side of `book` and takes its update id
    /// (0 when the book is not synced); reuses the vectors' capacity.
    pub fn copy_top_from(&mut self, book: &OrderBook, depth: usize) {
        book.copy_top(BookSide::Bid, depth, &mut self.bids);
        book.copy_top(BookSide::Ask, depth, &mut self.asks);
        self.last_update_id = book.last_update_id().unwrap_or(0);
    }
}

/// Any market event, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketEvent<'a> {
    /// An incremental depth update.
    Depth(DepthUpdate<'a>),
    /// A best bid/ask update.
    BookTicker(BookTicker<'a>),
    /// A public trade.
    Trade(TradeEvent<'a>),
    /// A top-N snapshot.
    Snapshot(BookSnapshot<'a>),
}

impl MarketEvent<'_> {
    /// Which kind of event this is.
    #[must_use]
    pub const fn kind(&self) -> EventKind {
        match self {
            Self::Depth(_) => EventKind::Depth,
            Self::BookTicker(_) => EventKind::BookTicker,
            Self::Trade(_) => EventKind::Trade,
            Self::Snapshot(_) => EventKind::Snapshot,
        }
    }

    /// The venue symbol the event is about.
    #[must_use]
    pub const fn symbol(&self) -> &str {
        match self {
            Self::Depth(e) => e.symbol,
            Self::BookTicker(e) => e.symbol,
            Self::Trade(e) => e.symbol,
            Self::Snapshot(e) => e.symbol,
        }
    }

    /// When Kestrel received the event.
    #[must_use]
    pub const fn received(&self) -> ReceiveTime {
        match self {
            Self::Depth(e) => e.received,
            Self::BookTicker(e) => e.received,
            Self::Trade(e) => e.received,
            Self::Snapshot(e) => e.received,
        }
    }

    /// Copies the event into its owned form.
    #[must_use]
    pub fn into_owned(self) -> OwnedMarketEvent {
        match self {
            Self::Depth(e) => OwnedMarketEvent::Depth(e.into_owned()),
            Self::BookTicker(e) => OwnedMarketEvent::BookTicker(e.into_owned()),
            Self::Trade(e) => OwnedMarketEvent::Trade(e.into_owned()),
            Self::Snapshot(e) => OwnedMarketEvent::Snapshot(e.into_owned()),
        }
    }
}

/// Any market event, owned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OwnedMarketEvent {
    /// An incremental depth update.
    Depth(OwnedDepthUpdate),
    /// A best bid/ask update.
    BookTicker(OwnedBookTicker),
    /// A public trade.
    Trade(OwnedTradeEvent),
    /// A top-N snapshot.
    Snapshot(OwnedBookSnapshot),
}

impl OwnedMarketEvent {
    /// Borrows the event.
    #[must_use]
    pub fn as_event(&self) -> MarketEvent<'_> {
        match self {
            Self::Depth(e) => MarketEvent::Depth(e.as_event()),
            Self::BookTicker(e) => MarketEvent::BookTicker(e.as_event()),
            Self::Trade(e) => MarketEvent::Trade(e.as_event()),
            Self::Snapshot(e) => MarketEvent::Snapshot(e.as_event()),
        }
    }

    /// Which kind of event this is.
    #[must_use]
    pub fn kind(&self) -> EventKind {
        self.as_event().kind()
    }

    /// The venue symbol the event is about.
    #[must_use]
    pub fn symbol(&self) -> &str {
        match self {
            Self::Depth(e) => &e.symbol,
            Self::BookTicker(e) => &e.symbol,
            Self::Trade(e) => &e.trade.symbol,
            Self::Snapshot(e) => &e.symbol,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(price: i64, qty: i64) -> Level {
        Level::new(Price::from_raw(price), Qty::from_raw(qty))
    }

    #[test]
    fn depth_update_round_trips_through_owned_and_feeds_the_book_diff() {
        let bids = [level(100, 5), level(99, 0)];
        let asks = [level(101, 7)];
        let update = DepthUpdate {
            symbol: "BTCUSDT",
            first_update_id: 10,
            final_update_id: 12,
            prev_final_update_id: Some(9),
            event_time_ms: 1,
            transaction_time_ms: 2,
            received: ReceiveTime::new(3, 4),
            bids: &bids,
            asks: &asks,
        };
        let owned = update.into_owned();
        assert_eq!(owned.as_event(), update);
        let diff = update.as_diff();
        assert_eq!(diff.prev_final_update_id, Some(9));
        assert_eq!(diff.bids, &bids);
    }

    #[test]
    fn trade_event_keeps_every_trade_field() {
        let trade = Trade {
            symbol: "ETHUSDT".to_owned(),
            trade_id: 77,
            price: Price::from_raw(3_000),
            quantity: Qty::from_raw(2),
            timestamp_ms: 123,
            buyer_is_maker: true,
        };
        let event = TradeEvent::from_trade(&trade, 124, ReceiveTime::new(5, 6));
        assert_eq!(event.to_trade(), trade);
        assert_eq!(event.aggressor_side(), Side::Sell);
        let owned = MarketEvent::Trade(event).into_owned();
        assert_eq!(owned.kind(), EventKind::Trade);
        assert_eq!(owned.symbol(), "ETHUSDT");
        assert_eq!(owned.as_event(), MarketEvent::Trade(event));
    }

    #[test]
    fn a_snapshot_copies_the_top_of_a_book_best_first() {
        use crate::book::{BookConfig, Flavor};
        let mut book =
            OrderBook::new(BookConfig::new(Price::from_raw(1), Flavor::Futures)).unwrap();
        let bids = [level(100, 1), level(98, 2), level(99, 3)];
        let asks = [level(101, 4), level(103, 5)];
        book.apply_snapshot(42, bids, asks).unwrap();
        let mut snapshot = OwnedBookSnapshot::default();
        snapshot.copy_top_from(&book, 2);
        assert_eq!(snapshot.last_update_id, 42);
        assert_eq!(snapshot.bids, [level(100, 1), level(99, 3)]);
        assert_eq!(snapshot.asks, [level(101, 4), level(103, 5)]);
    }

    #[test]
    fn owned_events_serialize_with_a_kind_tag() {
        let event = OwnedMarketEvent::Snapshot(OwnedBookSnapshot {
            symbol: "BTCUSDT".to_owned(),
            last_update_id: 5,
            bids: vec![level(100, 1)],
            ..OwnedBookSnapshot::default()
        });
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.starts_with(r#"{"kind":"snapshot""#), "{json}");
        let back: OwnedMarketEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }
}
