//! [`MirrorBook`]: one symbol of another venue's live market, followed from the messages its
//! streams deliver (the recorder's [`RecordedMessage`]s, handed over live instead of read from
//! a file), turned into what the exchange needs to mirror it: which levels of the venue's book
//! changed and to what, the venue's trades, and its mark price.
//!
//! The venue's book is rebuilt by a [`ReplayBook`] (Binance's sync rules, `binance-futures.md`
//! §7.1). The best [`MIRROR_DEPTH`] levels of each side are mirrored: a level that leaves that
//! window counts as gone. Only `trade` events (§6.5) with `X` = `MARKET` are replayed as
//! trades; `aggTrade` carries the same prints and is ignored so that none counts twice.
//!
//! Nothing here reads a clock or does I/O.

use kestrel_model::book::{BookSide, Level};
use kestrel_model::order::Side;
use kestrel_model::{Price, Qty, Rate};
use serde::Deserialize;

use super::recording::{MessageKind, RecordedMessage, ReplayBook, ReplayBookStats};

/// Levels of each side mirrored: the depth of the REST snapshot the recorder takes, beyond
/// which a rebuilt book only knows the levels diffs happened to touch.
pub const MIRROR_DEPTH: usize = 1000;

/// A trade of the mirrored venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorTrade {
    /// The taker's side (the maker rested on the other).
    pub taker_side: Side,
    /// The price it traded at.
    pub price: Price,
    /// The quantity traded.
    pub qty: Qty,
}

/// The mirrored venue's mark price, index price and funding rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorMark {
    /// Mark price.
    pub mark: Price,
    /// Index price.
    pub index: Price,
    /// Funding rate (a fraction).
    pub funding_rate: Rate,
}

/// What a [`MirrorBook`] has taken in, for status reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MirrorStats {
    /// Messages for this symbol.
    pub messages: u64,
    /// Trades replayed.
    pub trades: u64,
    /// Mark prices received.
    pub marks: u64,
    /// Messages that could not be used (malformed trade or mark, rejected depth).
    pub rejected: u64,
}

/// A `trade` event as written, prices still text.
#[derive(Debug, Deserialize)]
struct RawTrade<'a> {
    #[serde(rename = "p")]
    price: &'a str,
    #[serde(rename = "q")]
    qty: &'a str,
    #[serde(rename = "m")]
    buyer_is_maker: bool,
    #[serde(rename = "X", default)]
    kind: Option<&'a str>,
}

/// A `markPriceUpdate` event as written.
#[derive(Debug, Deserialize)]
struct RawMark<'a> {
    #[serde(rename = "p")]
    mark: &'a str,
    #[serde(rename = "i", default)]
    index: Option<&'a str>,
    #[serde(rename = "r", default)]
    funding_rate: Option<&'a str>,
}

/// One symbol of the mirrored venue (module docs).
#[derive(Debug, Clone)]
pub struct MirrorBook {
    book: ReplayBook,
    /// The window as last handed out, best first, per side (bids, asks).
    applied: [Vec<Level>; 2],
    scratch: Vec<Level>,
    changed: Vec<(BookSide, Price)>,
    trades: Vec<MirrorTrade>,
    depth_moved: bool,
    venue_mark: Option<MirrorMark>,
    mark_pending: bool,
    /// Whether a mark has been handed out yet.
    marked: bool,
    stats: MirrorStats,
}

impl MirrorBook {
    /// A mirror of `symbol` with prices on `tick`.
    #[must_use]
    pub fn new(symbol: &str, tick: Price) -> Self {
        Self {
            book: ReplayBook::new(Some(symbol), Some(tick)),
            applied: [Vec::new(), Vec::new()],
            scratch: Vec::new(),
            changed: Vec::new(),
            trades: Vec::new(),
            depth_moved: false,
            venue_mark: None,
            mark_pending: false,
            marked: false,
            stats: MirrorStats::default(),
        }
    }

    /// Takes in one message of this symbol: depth goes to the rebuilt book, trades and marks
    /// are kept until the next batch; anything else is ignored.
    pub fn apply(&mut self, message: &RecordedMessage) {
        self.stats.messages += 1;
        let used = match message.kind {
            MessageKind::Snapshot | MessageKind::DepthDiff => {
                let update = self.book.apply(message);
                self.depth_moved = true;
                !matches!(update, super::recording::BookUpdate::Rejected(_))
            }
            MessageKind::Trade => self.take_trade(&message.raw),
            MessageKind::MarkPrice => self.take_mark(&message.raw),
            _ => true,
        };
        if !used {
            self.stats.rejected += 1;
        }
    }

    fn take_trade(&mut self, raw: &str) -> bool {
        let Ok(trade) = serde_json::from_str::<RawTrade<'_>>(raw) else {
            return false;
        };
        // Insurance-fund and ADL prints never met the order book.
        if trade.kind.is_some_and(|kind| kind != "MARKET") {
            return true;
        }
        let (Ok(price), Ok(qty)) = (Price::parse(trade.price), Qty::parse(trade.qty)) else {
            return false;
        };
        if price.is_positive() && qty.is_positive() {
            let taker_side = if trade.buyer_is_maker {
                Side::Sell
            } else {
                Side::Buy
            };
            self.trades.push(MirrorTrade {
                taker_side,
                price,
                qty,
            });
            self.stats.trades += 1;
        }
        true
    }

    fn take_mark(&mut self, raw: &str) -> bool {
        let Ok(event) = serde_json::from_str::<RawMark<'_>>(raw) else {
            return false;
        };
        let Ok(mark) = Price::parse(event.mark) else {
            return false;
        };
        let index = event
            .index
            .and_then(|i| Price::parse(i).ok())
            .unwrap_or(mark);
        let funding_rate = event
            .funding_rate
            .and_then(|r| Rate::parse(r).ok())
            .unwrap_or(Rate::ZERO);
        self.venue_mark = Some(MirrorMark {
            mark,
            index,
            funding_rate,
        });
        self.mark_pending = true;
        self.stats.marks += 1;
        true
    }

    /// Works out the levels whose quantity changed since the last batch (a level that left
    /// the window or the book is changed to zero). Call before reading [`Self::changed`];
    /// while the rebuilt book is not synced the last window is kept.
    pub fn prepare(&mut self) {
        self.changed.clear();
        if !std::mem::take(&mut self.depth_moved) {
            return;
        }
        let Some(book) = self.book.book().filter(|book| book.is_synced()) else {
            return;
        };
        for (index, side) in [BookSide::Bid, BookSide::Ask].into_iter().enumerate() {
            book.copy_top(side, MIRROR_DEPTH, &mut self.scratch);
            diff_levels(side, &self.applied[index], &self.scratch, &mut self.changed);
            std::mem::swap(&mut self.applied[index], &mut self.scratch);
        }
    }

    /// The levels that changed, as worked out by [`Self::prepare`].
    #[must_use]
    pub fn changed(&self) -> &[(BookSide, Price)] {
        &self.changed
    }

    /// The venue's trades since the last batch, in the order they arrived.
    #[must_use]
    pub fn trades(&self) -> &[MirrorTrade] {
        &self.trades
    }

    /// Forgets the batch handed out (trades and changed levels).
    pub fn clear_batch(&mut self) {
        self.trades.clear();
        self.changed.clear();
    }

    /// The quantity the venue shows at `price` on `side` within the mirrored window (zero
    /// when there is no such level).
    #[must_use]
    pub fn target(&self, side: BookSide, price: Price) -> Qty {
        let levels = &self.applied[side_index(side)];
        levels
            .binary_search_by_key(&rank(side, price), |level| rank(side, level.price))
            .map_or(Qty::ZERO, |at| levels[at].qty)
    }

    /// The mark to publish now: the venue's latest as soon as it came; when the venue has
    /// sent none at all, the mid of its book, the first time there is one and then whenever
    /// `interval_passed` (so margin and the price band follow the mirrored market); else
    /// `None`.
    pub fn mark_due(&mut self, interval_passed: bool) -> Option<MirrorMark> {
        let mark = match self.venue_mark {
            Some(mark) => std::mem::take(&mut self.mark_pending).then_some(mark),
            None if interval_passed || !self.marked => self.mid_mark(),
            None => None,
        };
        self.marked |= mark.is_some();
        mark
    }

    fn mid_mark(&self) -> Option<MirrorMark> {
        let (bid, ask) = (self.applied[0].first()?, self.applied[1].first()?);
        let mid = bid.price.midpoint(ask.price);
        Some(MirrorMark {
            mark: mid,
            index: mid,
            funding_rate: Rate::ZERO,
        })
    }

    /// Whether the rebuilt book is in sync with the venue.
    #[must_use]
    pub fn is_synced(&self) -> bool {
        self.book.is_synced()
    }

    /// The mirrored window's level counts (bids, asks).
    #[must_use]
    pub fn levels(&self) -> (usize, usize) {
        (self.applied[0].len(), self.applied[1].len())
    }

    /// What it has taken in.
    #[must_use]
    pub const fn stats(&self) -> MirrorStats {
        self.stats
    }

    /// What the rebuilt book has done (snapshots loaded, gaps found, ...).
    #[must_use]
    pub const fn book_stats(&self) -> &ReplayBookStats {
        self.book.stats()
    }
}

const fn side_index(side: BookSide) -> usize {
    match side {
        BookSide::Bid => 0,
        BookSide::Ask => 1,
    }
}

/// A key that sorts both sides best first: bids by descending price, asks ascending.
const fn rank(side: BookSide, price: Price) -> i64 {
    match side {
        BookSide::Bid => price.raw().saturating_neg(),
        BookSide::Ask => price.raw(),
    }
}

/// Appends to `out` every price of `side` whose quantity differs between `old` and `new`
/// (both best first): changed, added, or gone.
fn diff_levels(side: BookSide, old: &[Level], new: &[Level], out: &mut Vec<(BookSide, Price)>) {
    let (mut i, mut j) = (0, 0);
    loop {
        match (old.get(i), new.get(j)) {
            (None, None) => return,
            (Some(gone), None) => {
                out.push((side, gone.price));
                i += 1;
            }
            (None, Some(added)) => {
                out.push((side, added.price));
                j += 1;
            }
            (Some(was), Some(now)) => {
                let (a, b) = (rank(side, was.price), rank(side, now.price));
                if a == b {
                    if was.qty != now.qty {
                        out.push((side, now.price));
                    }
                    i += 1;
                    j += 1;
                } else if a < b {
                    out.push((side, was.price));
                    i += 1;
                } else {
                    out.push((side, now.price));
                    j += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn px(text: &str) -> Price {
        Price::parse(text).unwrap()
    }

    fn message(kind: MessageKind, raw: &str) -> RecordedMessage {
        RecordedMessage {
            recv_ns: 1,
            kind,
            stream: None,
            symbol: Some("BTCUSDT".into()),
            raw: raw.to_owned(),
        }
    }

    fn snapshot(id: u64, bids: &str, asks: &str) -> RecordedMessage {
        let raw = format!(r#"{{"lastUpdateId":{id},"bids":{bids},"asks":{asks}}}"#);
        message(MessageKind::Snapshot, &raw)
    }

    fn diff(first: u64, last: u64, prev: u64, bids: &str, asks: &str) -> RecordedMessage {
        let raw = format!(
            r#"{{"e":"depthUpdate","s":"BTCUSDT","U":{first},"u":{last},"pu":{prev},"b":{bids},"a":{asks}}}"#
        );
        message(MessageKind::DepthDiff, &raw)
    }

    #[test]
    fn changed_levels_are_those_added_altered_or_gone_and_targets_follow_the_venue() {
        let mut book = MirrorBook::new("BTCUSDT", px("0.1"));
        book.apply(&snapshot(
            10,
            r#"[["100.0","2"],["99.9","1"]]"#,
            r#"[["100.1","3"]]"#,
        ));
        book.prepare();
        assert_eq!(book.changed().len(), 3, "first window: every level");
        book.clear_batch();
        book.apply(&diff(
            10,
            12,
            9,
            r#"[["100.0","1.5"],["99.9","0"]]"#,
            r#"[["100.2","4"]]"#,
        ));
        book.prepare();
        assert_eq!(
            book.changed(),
            [
                (BookSide::Bid, px("100.0")),
                (BookSide::Bid, px("99.9")),
                (BookSide::Ask, px("100.2")),
            ]
        );
        assert_eq!(
            book.target(BookSide::Bid, px("100.0")),
            Qty::parse("1.5").unwrap()
        );
        assert_eq!(book.target(BookSide::Bid, px("99.9")), Qty::ZERO);
        assert_eq!(
            book.target(BookSide::Ask, px("100.2")),
            Qty::parse("4").unwrap()
        );
        book.clear_batch();
        book.prepare();
        assert!(book.changed().is_empty(), "nothing new, nothing changed");
    }

    #[test]
    fn trades_keep_their_taker_side_and_only_market_prints_count() {
        let mut book = MirrorBook::new("BTCUSDT", px("0.1"));
        book.apply(&message(
            MessageKind::Trade,
            r#"{"e":"trade","s":"BTCUSDT","p":"100.0","q":"0.5","X":"MARKET","m":true}"#,
        ));
        book.apply(&message(
            MessageKind::Trade,
            r#"{"e":"trade","s":"BTCUSDT","p":"100.1","q":"0.2","m":false}"#,
        ));
        book.apply(&message(
            MessageKind::Trade,
            r#"{"e":"trade","s":"BTCUSDT","p":"90","q":"9","X":"ADL","m":false}"#,
        ));
        book.apply(&message(MessageKind::Trade, r#"{"e":"trade","p":"x"}"#));
        assert_eq!(
            book.trades(),
            [
                MirrorTrade {
                    taker_side: Side::Sell,
                    price: px("100.0"),
                    qty: Qty::parse("0.5").unwrap(),
                },
                MirrorTrade {
                    taker_side: Side::Buy,
                    price: px("100.1"),
                    qty: Qty::parse("0.2").unwrap(),
                },
            ]
        );
        assert_eq!(book.stats().rejected, 1);
    }

    #[test]
    fn the_mark_is_the_venues_when_it_sends_one_else_the_mid_of_its_book() {
        let mut book = MirrorBook::new("BTCUSDT", px("0.1"));
        assert_eq!(book.mark_due(true), None, "no book, no mark");
        book.apply(&snapshot(1, r#"[["100.0","1"]]"#, r#"[["100.2","1"]]"#));
        book.prepare();
        let first = book.mark_due(false).map(|m| m.mark);
        assert_eq!(first, Some(px("100.1")), "the first mark comes at once");
        assert_eq!(book.mark_due(false), None, "later ones at the interval");
        assert_eq!(book.mark_due(true).map(|m| m.mark), Some(px("100.1")));
        book.apply(&message(
            MessageKind::MarkPrice,
            r#"{"e":"markPriceUpdate","s":"BTCUSDT","p":"100.05","i":"100.04","r":"0.0001"}"#,
        ));
        let mark = book.mark_due(false).unwrap();
        assert_eq!((mark.mark, mark.index), (px("100.05"), px("100.04")));
        assert_eq!(mark.funding_rate, Rate::parse("0.0001").unwrap());
        assert_eq!(book.mark_due(true), None, "published once, the mid no more");
    }
}
