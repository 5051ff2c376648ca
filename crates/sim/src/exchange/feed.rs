//! The public market-data events the venue publishes, in Binance's payload shapes (§6), and
//! the depth-diff builders that coalesce book changes per stream cadence.
//!
//! Depth ids follow §7.4: per symbol the book's update id strictly increases; each diff event
//! carries `U` (first change id in it), `u` (last) and `pu` (the previous event's `u` *on that
//! stream*), so a client of any cadence can chain events with `pu == previous u`, and the REST
//! snapshot's `lastUpdateId` lives in the same id space.

use std::collections::BTreeMap;

use kestrel_model::book::BookSide;
use kestrel_model::{Price, Qty};
use serde_json::{Value, json};

use super::order::Precision;

/// How often a diff-depth stream publishes (`@depth@0ms`, `@100ms`, `@250ms` default, `@500ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cadence {
    /// Every book change, as it happens.
    Realtime,
    /// Every 100 ms.
    Ms100,
    /// Every 250 ms (the default `@depth`).
    Ms250,
    /// Every 500 ms.
    Ms500,
}

impl Cadence {
    /// All cadences, fastest first.
    pub const ALL: [Self; 4] = [Self::Realtime, Self::Ms100, Self::Ms250, Self::Ms500];

    /// The publishing period in ms (0 for real time).
    #[must_use]
    pub const fn period_ms(self) -> u64 {
        match self {
            Self::Realtime => 0,
            Self::Ms100 => 100,
            Self::Ms250 => 250,
            Self::Ms500 => 500,
        }
    }

    /// The stream-name suffix (`@depth` + this).
    #[must_use]
    pub const fn suffix(self) -> &'static str {
        match self {
            Self::Realtime => "@0ms",
            Self::Ms100 => "@100ms",
            Self::Ms250 => "",
            Self::Ms500 => "@500ms",
        }
    }
}

/// Coalesces one symbol's book changes into diff events for one cadence.
#[derive(Debug, Clone)]
pub struct DepthDiffBuilder {
    cadence: Cadence,
    /// Latest absolute qty per changed level since the last event (ordered: deterministic).
    pending: BTreeMap<(BookSide, Price), Qty>,
    first_id: Option<u64>,
    last_id: u64,
    /// `u` of the previous event on this stream.
    prev_final_id: u64,
    next_due_ms: u64,
}

impl DepthDiffBuilder {
    /// A builder whose first event will chain onto `start_id` (the book's id when the stream
    /// began, so `pu` of the first event is meaningful).
    #[must_use]
    pub fn new(cadence: Cadence, start_id: u64, now_ms: u64) -> Self {
        Self {
            cadence,
            pending: BTreeMap::new(),
            first_id: None,
            last_id: start_id,
            prev_final_id: start_id,
            next_due_ms: now_ms + cadence.period_ms(),
        }
    }

    /// The cadence this builder serves.
    #[must_use]
    pub const fn cadence(&self) -> Cadence {
        self.cadence
    }

    /// Records that the level at `price` on `side` became `qty` at book update `update_id`.
    pub fn record(&mut self, side: BookSide, price: Price, qty: Qty, update_id: u64) {
        self.pending.insert((side, price), qty);
        self.first_id.get_or_insert(update_id);
        self.last_id = self.last_id.max(update_id);
    }

    /// Whether an event is due at `now_ms` (always, for real time, when something changed).
    #[must_use]
    pub fn is_due(&self, now_ms: u64) -> bool {
        self.first_id.is_some() && (self.cadence == Cadence::Realtime || now_ms >= self.next_due_ms)
    }

    /// Builds the `depthUpdate` payload (§6.2) if one is due, and starts the next window.
    pub fn flush(&mut self, symbol: &str, p: Precision, now_ms: u64) -> Option<Value> {
        if !self.is_due(now_ms) {
            if self.first_id.is_none() && now_ms >= self.next_due_ms {
                self.next_due_ms = now_ms + self.cadence.period_ms();
            }
            return None;
        }
        let first_id = self.first_id.take()?;
        let levels = |side| -> Vec<[String; 2]> {
            let mut out: Vec<[String; 2]> = self
                .pending
                .iter()
                .filter(|((s, _), _)| *s == side)
                .map(|((_, price), qty)| {
                    [
                        format!("{:.*}", p.price, price),
                        format!("{:.*}", p.qty, qty),
                    ]
                })
                .collect();
            if side == BookSide::Bid {
                out.reverse();
            }
            out
        };
        let event = json!({
            "e": "depthUpdate",
            "E": now_ms,
            "T": now_ms,
            "s": symbol,
            "U": first_id,
            "u": self.last_id,
            "pu": self.prev_final_id,
            "b": levels(BookSide::Bid),
            "a": levels(BookSide::Ask),
        });
        self.pending.clear();
        self.prev_final_id = self.last_id;
        self.next_due_ms = now_ms + self.cadence.period_ms();
        Some(event)
    }
}

/// Renders `[price, qty]` pairs at the symbol's precision.
#[must_use]
pub fn levels_json(levels: &[(Price, Qty)], p: Precision) -> Vec<[String; 2]> {
    levels
        .iter()
        .map(|(price, qty)| {
            [
                format!("{:.*}", p.price, price),
                format!("{:.*}", p.qty, qty),
            ]
        })
        .collect()
}

/// A partial-depth event (§6.3): the top levels as a snapshot in the diff envelope.
#[must_use]
pub fn partial_depth(
    symbol: &str,
    update_id: u64,
    prev_id: u64,
    bids: &[(Price, Qty)],
    asks: &[(Price, Qty)],
    p: Precision,
    now_ms: u64,
) -> Value {
    json!({
        "e": "depthUpdate", "E": now_ms, "T": now_ms, "s": symbol,
        "U": update_id, "u": update_id, "pu": prev_id,
        "b": levels_json(bids, p), "a": levels_json(asks, p),
    })
}

/// One public trade as the venue prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicTrade {
    /// Trade id (also the aggregate id: each print is its own aggregate).
    pub trade_id: u64,
    /// Price.
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Whether the buyer was the maker.
    pub buyer_is_maker: bool,
    /// Trade time, ms.
    pub time_ms: u64,
}

/// The `trade` event (§6.5).
#[must_use]
pub fn trade_event(symbol: &str, t: &PublicTrade, p: Precision, now_ms: u64) -> Value {
    json!({
        "e": "trade", "E": now_ms, "T": t.time_ms, "s": symbol, "t": t.trade_id,
        "p": format!("{:.*}", p.price, t.price), "q": format!("{:.*}", p.qty, t.qty),
        "X": "MARKET", "m": t.buyer_is_maker,
    })
}

/// The `aggTrade` event (§6.4); every print is its own aggregate.
#[must_use]
pub fn agg_trade_event(symbol: &str, t: &PublicTrade, p: Precision, now_ms: u64) -> Value {
    let qty = format!("{:.*}", p.qty, t.qty);
    json!({
        "e": "aggTrade", "E": now_ms, "s": symbol, "a": t.trade_id,
        "p": format!("{:.*}", p.price, t.price), "q": qty, "nq": qty,
        "f": t.trade_id, "l": t.trade_id, "T": t.time_ms, "m": t.buyer_is_maker,
    })
}

/// The `bookTicker` event (§6.6) for the best levels at book update `update_id`.
#[must_use]
pub fn book_ticker_event(
    symbol: &str,
    update_id: u64,
    bid: (Price, Qty),
    ask: (Price, Qty),
    p: Precision,
    now_ms: u64,
) -> Value {
    json!({
        "e": "bookTicker", "u": update_id, "E": now_ms, "T": now_ms, "s": symbol,
        "b": format!("{:.*}", p.price, bid.0), "B": format!("{:.*}", p.qty, bid.1),
        "a": format!("{:.*}", p.price, ask.0), "A": format!("{:.*}", p.qty, ask.1),
    })
}

/// Mark price, index and funding, as `markPriceUpdate` (§6.7) and `premiumIndex` (§3.2) show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkInfo {
    /// The mark price.
    pub mark: Price,
    /// The index price.
    pub index: Price,
    /// The current funding rate (a fraction).
    pub funding_rate: kestrel_model::Rate,
    /// Next funding time, ms.
    pub next_funding_ms: u64,
}

/// The `markPriceUpdate` event (§6.7).
#[must_use]
pub fn mark_price_event(symbol: &str, m: &MarkInfo, p: Precision, now_ms: u64) -> Value {
    let mark = format!("{:.*}", p.price + 6, m.mark);
    json!({
        "e": "markPriceUpdate", "E": now_ms, "s": symbol, "p": mark, "ap": mark,
        "i": format!("{:.*}", p.price + 6, m.index), "P": format!("{:.*}", p.price + 6, m.mark),
        "r": format!("{:.8}", m.funding_rate), "T": m.next_funding_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Precision = Precision { price: 1, qty: 3 };

    fn px(text: &str) -> Price {
        Price::parse(text).unwrap()
    }

    fn q(text: &str) -> Qty {
        Qty::parse(text).unwrap()
    }

    #[test]
    fn diffs_chain_pu_to_the_previous_u_on_the_same_stream() {
        let mut b = DepthDiffBuilder::new(Cadence::Ms100, 10, 0);
        b.record(BookSide::Bid, px("100.1"), q("1"), 11);
        b.record(BookSide::Bid, px("100.2"), q("2"), 12);
        b.record(BookSide::Bid, px("100.1"), q("0"), 13);
        assert!(b.flush("BTCUSDT", P, 50).is_none(), "not due before 100 ms");
        let first = b.flush("BTCUSDT", P, 100).unwrap();
        assert_eq!(
            (
                first["U"].as_u64(),
                first["u"].as_u64(),
                first["pu"].as_u64()
            ),
            (Some(11), Some(13), Some(10))
        );
        assert_eq!(
            first["b"],
            json!([["100.2", "2.000"], ["100.1", "0.000"]]),
            "bids best first, last qty wins"
        );
        b.record(BookSide::Ask, px("101"), q("3"), 20);
        let second = b.flush("BTCUSDT", P, 200).unwrap();
        assert_eq!(
            (
                second["U"].as_u64(),
                second["u"].as_u64(),
                second["pu"].as_u64()
            ),
            (Some(20), Some(20), Some(13))
        );
        assert!(
            b.flush("BTCUSDT", P, 400).is_none(),
            "nothing changed, no event"
        );
    }

    #[test]
    fn realtime_diffs_flush_immediately() {
        let mut b = DepthDiffBuilder::new(Cadence::Realtime, 0, 0);
        b.record(BookSide::Ask, px("5"), q("1"), 1);
        assert!(b.flush("X", P, 0).is_some());
    }

    #[test]
    fn trade_payloads_use_strings_for_decimals_and_integers_for_ids() {
        let t = PublicTrade {
            trade_id: 7,
            price: px("100.5"),
            qty: q("0.25"),
            buyer_is_maker: true,
            time_ms: 9,
        };
        let trade = trade_event("BTCUSDT", &t, P, 10);
        assert_eq!(trade["p"], "100.5");
        assert_eq!(trade["q"], "0.250");
        assert_eq!(trade["t"], 7);
        let agg = agg_trade_event("BTCUSDT", &t, P, 10);
        assert_eq!(
            (agg["a"].as_u64(), agg["f"].as_u64(), agg["l"].as_u64()),
            (Some(7), Some(7), Some(7))
        );
    }
}
