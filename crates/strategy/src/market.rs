//! What strategies see of the market: [`MarketView`], a borrowed, `Copy` snapshot of one
//! symbol at one event, and [`MarketState`], the per-symbol tracker the engine keeps to build
//! it without allocating.
//!
//! The engine updates a [`MarketState`] from each [`MarketEvent`] (a book ticker, a trade, a
//! snapshot) or, after a depth diff, from its [`OrderBook`]; then hands
//! [`MarketState::view`] to [`crate::StrategyEngine::on_market`]. The top levels live in
//! vectors reserved once, so no event allocates after warm-up.

use kestrel_model::book::{BookSide, Level, OrderBook};
use kestrel_model::event::{EventKind, MarketEvent};
use kestrel_model::money::{Price, Qty};
use kestrel_model::order::Side;
use serde::Serialize;

/// The last public trade seen on a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LastTrade {
    /// Execution price.
    pub price: Price,
    /// Executed quantity.
    pub qty: Qty,
    /// The aggressor's side.
    pub aggressor: Side,
    /// Trade time, milliseconds since the epoch (venue clock).
    pub time_ms: u64,
}

/// One symbol's market at one event, as strategies see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketView<'a> {
    /// The venue symbol.
    pub symbol: &'a str,
    /// The event's time, milliseconds since the epoch (venue clock): the strategies' clock.
    pub time_ms: u64,
    /// What kind of event produced this view.
    pub trigger: EventKind,
    /// Best bid price and quantity, if the bid side is known.
    pub best_bid: Option<Level>,
    /// Best ask price and quantity, if the ask side is known.
    pub best_ask: Option<Level>,
    /// The last trade, if one was seen.
    pub last_trade: Option<LastTrade>,
    /// Top bid levels, best first (may be empty when only the ticker is known).
    pub bids: &'a [Level],
    /// Top ask levels, best first.
    pub asks: &'a [Level],
}

impl<'a> MarketView<'a> {
    /// A view of the top of book alone (what a book ticker gives) at `time_ms`.
    #[must_use]
    pub const fn top_of_book(symbol: &'a str, bid: Level, ask: Level, time_ms: u64) -> Self {
        Self {
            symbol,
            time_ms,
            trigger: EventKind::BookTicker,
            best_bid: Some(bid),
            best_ask: Some(ask),
            last_trade: None,
            bids: &[],
            asks: &[],
        }
    }

    /// The mid price, when both sides are known.
    #[must_use]
    pub fn mid(&self) -> Option<Price> {
        match (self.best_bid, self.best_ask) {
            (Some(bid), Some(ask)) => Some(bid.price.midpoint(ask.price)),
            _ => None,
        }
    }

    /// The price strategies track: the mid, or the last trade's price without a two-sided book.
    #[must_use]
    pub fn reference_price(&self) -> Option<Price> {
        self.mid().or(self.last_trade.map(|t| t.price))
    }

    /// The best price on the book side a `side` order would rest on (bid for a buy).
    #[must_use]
    pub fn near_touch(&self, side: Side) -> Option<Price> {
        match side {
            Side::Buy => self.best_bid.map(|l| l.price),
            Side::Sell => self.best_ask.map(|l| l.price),
        }
    }

    /// The best price a `side` order would take from (ask for a buy).
    #[must_use]
    pub fn far_touch(&self, side: Side) -> Option<Price> {
        self.near_touch(side.opposite())
    }

    /// The trade quantity of this event, when it is a trade.
    #[must_use]
    pub fn trade_qty(&self) -> Option<Qty> {
        match self.trigger {
            EventKind::Trade => self.last_trade.map(|t| t.qty),
            _ => None,
        }
    }
}

/// The per-symbol market state the engine keeps to build [`MarketView`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketState {
    symbol: String,
    depth: usize,
    time_ms: u64,
    trigger: EventKind,
    best_bid: Option<Level>,
    best_ask: Option<Level>,
    last_trade: Option<LastTrade>,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl MarketState {
    /// A state for `symbol` keeping the best `depth` levels of each side.
    #[must_use]
    pub fn new(symbol: impl Into<String>, depth: usize) -> Self {
        Self {
            symbol: symbol.into(),
            depth,
            time_ms: 0,
            trigger: EventKind::BookTicker,
            best_bid: None,
            best_ask: None,
            last_trade: None,
            // One more than `depth`: a ticker inserts its level before truncating.
            bids: Vec::with_capacity(depth + 1),
            asks: Vec::with_capacity(depth + 1),
        }
    }

    /// Takes in one event for this symbol. A depth diff carries no top of book by itself:
    /// apply it to the book and call [`MarketState::apply_book`] instead. Returns whether the
    /// event was taken (it is ignored when its symbol is another one or it is a depth diff).
    pub fn apply(&mut self, event: &MarketEvent<'_>) -> bool {
        if event.symbol() != self.symbol {
            return false;
        }
        match event {
            MarketEvent::BookTicker(t) => {
                self.set_touch(
                    Some(t.bid),
                    Some(t.ask),
                    t.event_time_ms,
                    EventKind::BookTicker,
                );
                // A ticker says nothing about deeper levels: keep only what agrees with it.
                self.bids.retain(|l| l.price < t.bid.price);
                self.bids.insert(0, t.bid);
                self.asks.retain(|l| l.price > t.ask.price);
                self.asks.insert(0, t.ask);
                self.bids.truncate(self.depth);
                self.asks.truncate(self.depth);
            }
            MarketEvent::Trade(t) => {
                self.last_trade = Some(LastTrade {
                    price: t.price,
                    qty: t.qty,
                    aggressor: t.aggressor_side(),
                    time_ms: t.trade_time_ms,
                });
                (self.time_ms, self.trigger) = (t.event_time_ms, EventKind::Trade);
            }
            MarketEvent::Snapshot(s) => {
                copy_top(&mut self.bids, s.bids, self.depth);
                copy_top(&mut self.asks, s.asks, self.depth);
                let (bid, ask) = (s.bids.first().copied(), s.asks.first().copied());
                self.set_touch(bid, ask, s.event_time_ms, EventKind::Snapshot);
            }
            MarketEvent::Depth(_) => return false,
        }
        true
    }

    /// Refreshes the top of book from `book` after a depth diff at `time_ms`.
    pub fn apply_book(&mut self, book: &OrderBook, time_ms: u64) {
        book.copy_top(BookSide::Bid, self.depth, &mut self.bids);
        book.copy_top(BookSide::Ask, self.depth, &mut self.asks);
        self.set_touch(book.best_bid(), book.best_ask(), time_ms, EventKind::Depth);
    }

    fn set_touch(&mut self, bid: Option<Level>, ask: Option<Level>, time_ms: u64, kind: EventKind) {
        (self.best_bid, self.best_ask) = (bid, ask);
        (self.time_ms, self.trigger) = (time_ms, kind);
    }

    /// The view strategies get of the latest event.
    #[must_use]
    pub fn view(&self) -> MarketView<'_> {
        MarketView {
            symbol: &self.symbol,
            time_ms: self.time_ms,
            trigger: self.trigger,
            best_bid: self.best_bid,
            best_ask: self.best_ask,
            last_trade: self.last_trade,
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

fn copy_top(out: &mut Vec<Level>, levels: &[Level], depth: usize) {
    out.clear();
    out.extend_from_slice(&levels[..levels.len().min(depth)]);
}

#[cfg(test)]
mod tests {
    use kestrel_model::event::{BookTicker, ReceiveTime, TradeEvent};

    use super::*;

    fn level(price: i64, qty: i64) -> Level {
        Level::new(Price::from_int(price).unwrap(), Qty::from_int(qty).unwrap())
    }

    fn ticker(bid: Level, ask: Level, time_ms: u64) -> MarketEvent<'static> {
        MarketEvent::BookTicker(BookTicker {
            symbol: "BTCUSDT",
            update_id: 1,
            event_time_ms: time_ms,
            transaction_time_ms: time_ms,
            received: ReceiveTime::default(),
            bid,
            ask,
        })
    }

    #[test]
    fn a_ticker_sets_the_touch_mid_and_time() {
        let mut state = MarketState::new("BTCUSDT", 5);
        assert!(state.apply(&ticker(level(100, 1), level(102, 2), 7)));
        let view = state.view();
        assert_eq!(view.mid(), Some(Price::from_int(101).unwrap()));
        assert_eq!(view.near_touch(Side::Buy), Some(level(100, 1).price));
        assert_eq!(view.far_touch(Side::Buy), Some(level(102, 2).price));
        assert_eq!((view.time_ms, view.trigger), (7, EventKind::BookTicker));
    }

    #[test]
    fn a_ticker_drops_deeper_levels_it_contradicts() {
        let mut state = MarketState::new("BTCUSDT", 3);
        state.apply(&ticker(level(100, 1), level(101, 1), 1));
        state.apply(&ticker(level(99, 1), level(103, 1), 2));
        assert_eq!(state.view().bids, [level(99, 1)]);
        assert_eq!(state.view().asks, [level(103, 1)]);
    }

    #[test]
    fn a_trade_keeps_the_book_and_records_the_aggressor() {
        let mut state = MarketState::new("BTCUSDT", 3);
        state.apply(&ticker(level(100, 1), level(101, 1), 1));
        let trade = MarketEvent::Trade(TradeEvent {
            symbol: "BTCUSDT",
            trade_id: 9,
            price: level(101, 0).price,
            qty: Qty::ONE,
            trade_time_ms: 5,
            event_time_ms: 6,
            buyer_is_maker: false,
            received: ReceiveTime::default(),
        });
        state.apply(&trade);
        let view = state.view();
        assert_eq!(view.last_trade.map(|t| t.aggressor), Some(Side::Buy));
        assert_eq!(view.trade_qty(), Some(Qty::ONE));
        assert!(view.best_bid.is_some());
    }

    #[test]
    fn events_for_another_symbol_are_ignored() {
        let mut state = MarketState::new("ETHUSDT", 3);
        assert!(!state.apply(&ticker(level(100, 1), level(101, 1), 1)));
        assert_eq!(state.view().mid(), None);
    }

    #[test]
    fn without_a_book_the_reference_price_is_the_last_trade() {
        let view = MarketView {
            symbol: "BTCUSDT",
            time_ms: 0,
            trigger: EventKind::Trade,
            best_bid: None,
            best_ask: None,
            last_trade: Some(LastTrade {
                price: Price::ONE,
                qty: Qty::ONE,
                aggressor: Side::Sell,
                time_ms: 0,
            }),
            bids: &[],
            asks: &[],
        };
        assert_eq!(view.reference_price(), Some(Price::ONE));
    }
}
