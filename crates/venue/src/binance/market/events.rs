//! The normalised events [`super::MarketParser`] produces, borrowed from the frame and from the
//! parser's level buffers.

use kestrel_model::book::{DepthDiff, Level};
use kestrel_model::{Price, Qty, Rate, Trade};

/// When the frame reached us, as the caller measured it (this crate reads no clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReceiveTime {
    /// Monotonic clock, nanoseconds (for latency: frame → book → published).
    pub mono_ns: u64,
    /// Wall clock, nanoseconds since the Unix epoch (for comparing with exchange times).
    pub wall_ns: u64,
}

impl ReceiveTime {
    /// Builds a receive time from the two clock readings.
    #[must_use]
    pub const fn new(mono_ns: u64, wall_ns: u64) -> Self {
        Self { mono_ns, wall_ns }
    }
}

/// The exchange's two times on an event (`binance-futures.md` §6.1), milliseconds since the
/// epoch, venue clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExchangeTimes {
    /// `E`: when the exchange sent the event.
    pub event_ms: u64,
    /// `T`: when the matching engine made the change (transaction or trade time).
    pub transaction_ms: u64,
}

/// One parsed frame: the caller's receive time, the combined-stream name when the frame came in
/// the `{"stream":..,"data":..}` envelope, and the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketFrame<'a> {
    /// When the caller received the frame.
    pub recv: ReceiveTime,
    /// The envelope's `stream` (e.g. `btcusdt@depth@0ms`); `None` for a bare frame.
    pub stream: Option<&'a str>,
    /// What the frame carries.
    pub event: MarketEvent<'a>,
}

/// What a market-stream frame (or a REST depth body) carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketEvent<'a> {
    /// `depthUpdate`: a diff (§6.2) or a partial top-N snapshot (§6.3).
    Depth(DepthUpdate<'a>),
    /// `bookTicker`: best bid and ask (§6.6).
    BookTicker(BookTicker<'a>),
    /// `trade`: one trade (§6.5).
    Trade(TradeEvent<'a>),
    /// `aggTrade`: fills merged by price and taker side (§6.4).
    AggTrade(AggTrade<'a>),
    /// `markPriceUpdate`: mark and index price, funding (§6.7).
    MarkPrice(MarkPrice<'a>),
    /// A REST depth snapshot (`lastUpdateId`, `bids`, `asks`; §3.2), e.g. in a recording.
    Snapshot(DepthSnapshot<'a>),
    /// A reply to a control request (`{"result":..,"id":..}`, §1.3).
    Reply(ControlReply<'a>),
    /// An error object (`{"code":..,"msg":..}`, §1.3 and §5.1).
    VenueError(VenueError<'a>),
    /// A well-formed event this adapter does not normalise (kline, tickers, forceOrder, an
    /// event type Binance adds later) or an array payload (`!markPrice@arr`): counted and
    /// dropped by callers.
    Other(OtherEvent<'a>),
}

impl MarketEvent<'_> {
    /// A short stable name for the event kind, for metric labels.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Depth(_) => "depth",
            Self::BookTicker(_) => "book_ticker",
            Self::Trade(_) => "trade",
            Self::AggTrade(_) => "agg_trade",
            Self::MarkPrice(_) => "mark_price",
            Self::Snapshot(_) => "snapshot",
            Self::Reply(_) => "reply",
            Self::VenueError(_) => "venue_error",
            Self::Other(_) => "other",
        }
    }
}

/// Whether a `depthUpdate` is a diff or a full top-N snapshot: the payloads are identical
/// (§6.3), only the stream name tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DepthKind {
    /// `<symbol>@depth[@speed]`: each level is an absolute replacement, `"0"` deletes (§6.2).
    /// Also assumed for a bare frame, which carries no stream name.
    Diff,
    /// `<symbol>@depth<N>[@speed]`: `b`/`a` hold the whole top N (§6.3).
    Partial,
}

/// A `depthUpdate` event, ready for [`kestrel_model::OrderBook::apply_diff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthUpdate<'a> {
    /// `s`: the symbol, uppercase.
    pub symbol: &'a str,
    /// `E` and `T`.
    pub times: ExchangeTimes,
    /// Diff or partial snapshot, from the stream name.
    pub kind: DepthKind,
    /// `U`, `u`, `pu`, and the `b`/`a` levels in the parser's buffers.
    pub diff: DepthDiff<'a>,
}

/// A `bookTicker` event: the best bid and ask after update `u`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookTicker<'a> {
    /// `s`: the symbol.
    pub symbol: &'a str,
    /// `u`: the book update id, in the same id space as depth `u`.
    pub update_id: u64,
    /// `E` and `T`.
    pub times: ExchangeTimes,
    /// `b` / `B`: best bid price and quantity.
    pub bid: Level,
    /// `a` / `A`: best ask price and quantity.
    pub ask: Level,
}

/// A `trade` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradeEvent<'a> {
    /// `s`: the symbol.
    pub symbol: &'a str,
    /// `t`: the trade id.
    pub trade_id: u64,
    /// `E` and `T` (trade time).
    pub times: ExchangeTimes,
    /// `p`: the price.
    pub price: Price,
    /// `q`: the quantity.
    pub qty: Qty,
    /// `m`: the buyer's order was resting (the seller was the aggressor).
    pub buyer_is_maker: bool,
    /// `X` when present (e.g. `MARKET`).
    pub trade_type: Option<&'a str>,
}

impl TradeEvent<'_> {
    /// The trade as the model's owned [`Trade`] (allocates the symbol; not for the hot path).
    #[must_use]
    pub fn to_trade(&self) -> Trade {
        Trade {
            symbol: self.symbol.to_owned(),
            trade_id: self.trade_id,
            price: self.price,
            quantity: self.qty,
            timestamp_ms: self.times.transaction_ms,
            buyer_is_maker: self.buyer_is_maker,
        }
    }
}

/// An `aggTrade` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggTrade<'a> {
    /// `s`: the symbol.
    pub symbol: &'a str,
    /// `a`: the aggregate trade id.
    pub agg_trade_id: u64,
    /// `f`: the first trade id merged.
    pub first_trade_id: u64,
    /// `l`: the last trade id merged.
    pub last_trade_id: u64,
    /// `E` and `T` (trade time).
    pub times: ExchangeTimes,
    /// `p`: the price.
    pub price: Price,
    /// `q`: the quantity, RPI fills included.
    pub qty: Qty,
    /// `nq`: the quantity without RPI fills (sent since 2025-12-31; `None` before).
    pub non_rpi_qty: Option<Qty>,
    /// `m`: the buyer's order was resting.
    pub buyer_is_maker: bool,
}

impl AggTrade<'_> {
    /// The aggregate as the model's owned [`Trade`], keyed by the aggregate id (allocates).
    #[must_use]
    pub fn to_trade(&self) -> Trade {
        Trade {
            symbol: self.symbol.to_owned(),
            trade_id: self.agg_trade_id,
            price: self.price,
            quantity: self.qty,
            timestamp_ms: self.times.transaction_ms,
            buyer_is_maker: self.buyer_is_maker,
        }
    }
}

/// A `markPriceUpdate` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkPrice<'a> {
    /// `s`: the symbol.
    pub symbol: &'a str,
    /// `E`: event time, ms.
    pub event_ms: u64,
    /// `p`: the mark price.
    pub mark_price: Price,
    /// `i`: the index price.
    pub index_price: Price,
    /// `P`: the estimated settle price.
    pub estimated_settle_price: Price,
    /// `r`: the funding rate; `None` when empty (dated futures have no funding).
    pub funding_rate: Option<Rate>,
    /// `T`: the next funding time, ms (0 for dated futures).
    pub next_funding_ms: u64,
    /// `ap`: the mark-price moving average (added 2026-03; `None` before).
    pub mark_price_avg: Option<Price>,
}

/// A REST depth snapshot (`GET /fapi/v1/depth`, §3.2): both sides best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthSnapshot<'a> {
    /// `lastUpdateId`: the update id the snapshot reflects (`L` in §7.1).
    pub last_update_id: u64,
    /// `E`: message time, ms (absent on spot and old captures).
    pub event_ms: Option<u64>,
    /// `T`: transaction time, ms (absent on spot and old captures).
    pub transaction_ms: Option<u64>,
    /// `bids`, best (highest) first as sent.
    pub bids: &'a [Level],
    /// `asks`, best (lowest) first as sent.
    pub asks: &'a [Level],
}

/// The `id` of a control reply: Binance echoes what the request sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyId<'a> {
    /// A numeric id (what Kestrel sends).
    Number(u64),
    /// A string id.
    Text(&'a str),
    /// `null` or absent.
    None,
}

/// The `result` of a control reply (§1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyResult {
    /// `null`: `SUBSCRIBE`, `UNSUBSCRIBE` and `SET_PROPERTY` succeeded.
    Null,
    /// `true`/`false`: a `GET_PROPERTY` answer.
    Bool(bool),
    /// An array: the `LIST_SUBSCRIPTIONS` answer; only its length is kept (parse the frame
    /// with a general JSON library to read the names; this is not a hot path).
    List {
        /// Number of elements.
        len: usize,
    },
    /// Anything else.
    Other,
}

/// A reply to a control request: `{"result":..,"id":..}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlReply<'a> {
    /// The request's `id`.
    pub id: ReplyId<'a>,
    /// The `result`.
    pub result: ReplyResult,
}

/// An error object: `{"code":..,"msg":..}` (REST and stream control), or the nested
/// `{"error":{"code":..,"msg":..},"id":..}` form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VenueError<'a> {
    /// `code`: Binance's error code (§5.3; stream-control codes 0–3, §1.3).
    pub code: i64,
    /// `msg`: the message, unescaped (empty when absent).
    pub msg: &'a str,
    /// The request's `id`, when the error answers one.
    pub id: ReplyId<'a>,
}

/// An event this adapter recognises as well-formed but does not normalise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OtherEvent<'a> {
    /// `e`; `None` for an array payload.
    pub event_type: Option<&'a str>,
    /// `s`, when present as a string.
    pub symbol: Option<&'a str>,
    /// `E`, when present as an integer.
    pub event_ms: Option<u64>,
}
