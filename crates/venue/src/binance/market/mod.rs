//! Binance USD-M market-stream frames → Kestrel events, on the market-data hot path.
//!
//! [`MarketParser::parse`] takes one WebSocket text frame, bare or in the combined-stream
//! envelope `{"stream":..,"data":{..}}` (`binance-futures.md` §1.2), and returns a
//! [`MarketFrame`]: the caller's [`ReceiveTime`], the stream name, and a [`MarketEvent`]:
//!
//! | frame | event | reference |
//! |---|---|---|
//! | `depthUpdate` (diff or partial) | [`MarketEvent::Depth`], a ready [`DepthDiff`] | §6.2, §6.3 |
//! | `bookTicker` | [`MarketEvent::BookTicker`] | §6.6 |
//! | `trade` | [`MarketEvent::Trade`] | §6.5 |
//! | `aggTrade` | [`MarketEvent::AggTrade`] | §6.4 |
//! | `markPriceUpdate` | [`MarketEvent::MarkPrice`] | §6.7 |
//! | REST depth body (`lastUpdateId`) | [`MarketEvent::Snapshot`] | §3.2 |
//! | `{"result":..,"id":..}` | [`MarketEvent::Reply`] | §1.3 |
//! | `{"code":..,"msg":..}` | [`MarketEvent::VenueError`] | §1.3, §5.1 |
//! | any other `e` (kline, tickers, ...), array payloads | [`MarketEvent::Other`] | §6.8–6.10 |
//!
//! Unknown keys are ignored (Binance adds fields). Prices and quantities are parsed from their
//! strings straight into exact [`kestrel_model::Price`] / [`kestrel_model::Qty`], never through
//! a float; the symbol and other strings are borrowed from the frame; depth levels go into
//! `Vec`s the parser owns and reuses, one per level list (`b`, `a`, `bids`, `asks`: a list
//! under a key the event does not read never replaces one it does). Once those have grown to
//! the largest frame seen, parsing allocates nothing. Two exceptions, neither met in Binance's
//! market data: an error (it describes what was wrong and where), and a string with escape
//! sequences (the JSON library unescapes it into a buffer of its own).
//!
//! Modules: `scan` reads the usual frame byte by byte, exactly as Binance writes it, with no
//! JSON library, and declines anything else; `fast` reads it in one typed serde pass
//! (Binance's key order and types, any spacing) and declines anything else; `walk` is the general walk, which files every value it knows into a
//! `record` whatever the key order (`keys` names the keys), and `normalise` turns that record
//! into an event; the general walk decides every frame the fast pass declines and words every
//! error. `levels` parses level arrays; [`floor`] is the parse-only baseline the benchmarks
//! compare against.
//!
//! This module reads no clock and holds no book: receive times come from the caller and the
//! events are applied to books elsewhere.

mod events;
mod fast;
pub mod floor;
mod keys;
mod levels;
mod normalise;
mod record;
mod scan;
mod walk;

#[cfg(test)]
mod tests;

pub use events::{
    AggTrade, BookTicker, ControlReply, DepthKind, DepthSnapshot, DepthUpdate, ExchangeTimes,
    MarkPrice, MarketEvent, MarketFrame, OtherEvent, ReceiveTime, ReplyId, ReplyResult, TradeEvent,
    VenueError,
};
pub use kestrel_model::book::DepthDiff;

use fast::{FastEvent, FastFrame, FrameSeed};
use keys::Key;
use record::{Bag, LevelBuffers, Record, Scalar};
use walk::ObjectSeed;

use super::{JsonLib, ParseError};

/// Parses market-stream frames into borrowed events, reusing its level buffers.
///
/// One parser per connection (or per thread): `parse` borrows it mutably, and the returned
/// frame borrows both the parser and the text until it is dropped.
#[derive(Debug, Clone)]
pub struct MarketParser {
    levels: LevelBuffers,
    record: Record,
    json: JsonLib,
}

impl Default for MarketParser {
    fn default() -> Self {
        Self::new()
    }
}

impl MarketParser {
    /// Levels reserved per list up front: a 1,000-level REST snapshot fits, so does all but
    /// the largest diff of the BTCUSDT recording (1,226 levels; the buffer grows once for it).
    pub const DEFAULT_LEVEL_CAPACITY: usize = 1024;

    /// A parser using the default JSON library, with [`Self::DEFAULT_LEVEL_CAPACITY`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_LEVEL_CAPACITY)
    }

    /// A parser with room for `levels_per_side` levels in each list before its buffers grow.
    #[must_use]
    pub fn with_capacity(levels_per_side: usize) -> Self {
        Self {
            levels: LevelBuffers::with_capacity(levels_per_side),
            record: Record::default(),
            json: JsonLib::default(),
        }
    }

    /// The same parser using `json` to walk the text (for benchmarks and comparisons).
    #[must_use]
    pub const fn with_json_lib(mut self, json: JsonLib) -> Self {
        self.json = json;
        self
    }

    /// The JSON library in use.
    #[must_use]
    pub const fn json_lib(&self) -> JsonLib {
        self.json
    }

    /// Parses one frame received at `recv`.
    ///
    /// # Errors
    /// A [`ParseError`] naming what was wrong and where: `invalid_json` for text that is not
    /// JSON, `unknown_event` for JSON of no known shape, `missing_field` / `wrong_type` /
    /// `bad_decimal` / `bad_level` for a known event with a bad field. Never panics.
    #[inline]
    pub fn parse<'a>(
        &'a mut self,
        frame: &'a str,
        recv: ReceiveTime,
    ) -> Result<MarketFrame<'a>, ParseError> {
        let fast = if fast::may_take(frame) {
            scan::scan(frame, &mut self.levels).or_else(|| self.fast_pass(frame))
        } else {
            None
        };
        match fast {
            Some(fast) => Ok(self.assemble(fast, recv)),
            None => self.parse_general(frame, recv),
        }
    }

    /// Whether the byte scanner, the first way in, takes `frame` (a frame it declines goes
    /// on to the serde fast pass, then the general walk). For tests and benchmarks that check
    /// which way real traffic takes; [`Self::parse`] returns the same either way.
    pub fn scans(&mut self, frame: &str) -> bool {
        fast::may_take(frame) && scan::scan(frame, &mut self.levels).is_some()
    }

    /// [`Self::parse`] without the byte scanner: the serde fast pass, then the general walk.
    /// Tests hold it to the same results, so the fast pass stays right for the frames the
    /// scanner declines.
    #[cfg(test)]
    fn parse_without_scan<'a>(
        &'a mut self,
        frame: &'a str,
        recv: ReceiveTime,
    ) -> Result<MarketFrame<'a>, ParseError> {
        match fast::may_take(frame)
            .then(|| self.fast_pass(frame))
            .flatten()
        {
            Some(fast) => Ok(self.assemble(fast, recv)),
            None => self.parse_general(frame, recv),
        }
    }

    /// Parses one frame with the general, order-independent walk only. [`Self::parse`] always
    /// returns what this returns, faster on Binance's usual frames; this is the reference it
    /// is tested against.
    ///
    /// # Errors
    /// As [`Self::parse`].
    pub fn parse_general<'a>(
        &'a mut self,
        frame: &'a str,
        recv: ReceiveTime,
    ) -> Result<MarketFrame<'a>, ParseError> {
        self.walk(frame)?;
        let bag = Bag::new(&self.record, frame);
        let stream = match bag.get(Key::Stream) {
            Scalar::Str(name) => Some(name),
            _ => None,
        };
        let event = normalise::normalise(&bag, &self.levels, stream)?;
        Ok(MarketFrame {
            recv,
            stream,
            event,
        })
    }

    /// The fast pass over `frame`; `None` when it declined or the text is not JSON.
    #[inline]
    fn fast_pass<'a>(&mut self, frame: &'a str) -> Option<FastFrame<'a>> {
        let seed = FrameSeed {
            levels: &mut self.levels,
            raw_levels: self.json == JsonLib::SonicRs,
        };
        self.json
            .deserialize_seed(frame, seed, "market frame")
            .ok()
            .flatten()
    }

    /// The frame for a fast-pass event (depth levels from the buffers it filled).
    #[inline]
    fn assemble<'a>(&'a self, fast: FastFrame<'a>, recv: ReceiveTime) -> MarketFrame<'a> {
        let event = match fast.event {
            FastEvent::BookTicker(ticker) => MarketEvent::BookTicker(ticker),
            FastEvent::Trade(trade) => MarketEvent::Trade(trade),
            FastEvent::AggTrade(trade) => MarketEvent::AggTrade(trade),
            FastEvent::Depth(head) => MarketEvent::Depth(DepthUpdate {
                symbol: head.symbol,
                times: head.times,
                kind: normalise::depth_kind(fast.stream),
                diff: DepthDiff {
                    first_update_id: head.first_update_id,
                    final_update_id: head.final_update_id,
                    prev_final_update_id: Some(head.prev_final_update_id),
                    bids: &self.levels.bids,
                    asks: &self.levels.asks,
                },
            }),
        };
        MarketFrame {
            recv,
            stream: fast.stream,
            event,
        }
    }

    /// Parses a REST depth snapshot body (`GET /fapi/v1/depth`, §3.2) into the parser's level
    /// buffers.
    ///
    /// # Errors
    /// As [`Self::parse`]; a body that is well-formed but not a snapshot (an error object
    /// such as `{"code":-1121,"msg":"Invalid symbol."}`) is an `unknown_event` naming it.
    pub fn parse_depth_snapshot<'a>(
        &'a mut self,
        body: &'a str,
    ) -> Result<DepthSnapshot<'a>, ParseError> {
        match self.parse(body, ReceiveTime::default())?.event {
            MarketEvent::Snapshot(snapshot) => Ok(snapshot),
            MarketEvent::VenueError(error) => Err(ParseError::UnknownEvent {
                place: "depth snapshot",
                detail: format!("error {} from the venue: {}", error.code, error.msg),
            }),
            other => Err(ParseError::UnknownEvent {
                place: "depth snapshot",
                detail: format!("expected `lastUpdateId`, found a {} frame", other.kind()),
            }),
        }
    }

    /// Runs the JSON walk over `frame`, filling the record and the level buffers.
    #[inline]
    fn walk(&mut self, frame: &str) -> Result<(), ParseError> {
        self.record.start(frame);
        let seed = ObjectSeed {
            record: &mut self.record,
            levels: &mut self.levels,
            frame,
            nested: false,
            raw_levels: self.json == JsonLib::SonicRs,
        };
        self.json.deserialize_seed(frame, seed, "market frame")
    }
}
