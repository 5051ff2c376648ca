//! From the fields the walk recorded ([`Bag`]) to a [`MarketEvent`]: the event type decides
//! which fields are required and what each one means (`binance-futures.md` §6), and prices and
//! quantities are parsed into exact fixed point here (never through a float).

use kestrel_model::book::{DepthDiff, Level};
use kestrel_model::{MoneyError, Price, Qty, Rate};

use super::events::{
    AggTrade, BookTicker, ControlReply, DepthKind, DepthSnapshot, DepthUpdate, ExchangeTimes,
    MarkPrice, MarketEvent, OtherEvent, ReplyId, ReplyResult, TradeEvent, VenueError,
};
use super::keys::Key;
use super::record::{Bag, LevelBuffers, Payload, Scalar};
use crate::binance::{ParseError, decimal};

/// Reads typed fields out of the bag for one event type, naming it in errors.
struct Fields<'r, 'a> {
    bag: &'r Bag<'a>,
    event: &'static str,
}

impl<'a> Fields<'_, 'a> {
    #[cold]
    fn place(&self, key: Key) -> String {
        format!("{}.{}", self.event, key.name())
    }

    #[cold]
    fn wrong(&self, key: Key, expected: &'static str, found: Scalar<'_>) -> ParseError {
        match found {
            Scalar::Absent => ParseError::MissingField {
                place: self.place(key),
            },
            found => ParseError::WrongType {
                place: self.place(key),
                expected,
                found: found.found(),
            },
        }
    }

    /// A required non-negative integer (ids and times).
    #[inline]
    fn int(&self, key: Key) -> Result<u64, ParseError> {
        match self.bag.get(key) {
            Scalar::Int(value) => Ok(value),
            other => Err(self.wrong(key, "a non-negative integer", other)),
        }
    }

    /// A required string without escapes.
    #[inline]
    fn text(&self, key: Key) -> Result<&'a str, ParseError> {
        match self.bag.get(key) {
            Scalar::Str(text) => Ok(text),
            other => Err(self.wrong(key, "a string without escapes", other)),
        }
    }

    /// An optional string: absent or `null` gives `None`.
    fn opt_text(&self, key: Key) -> Result<Option<&'a str>, ParseError> {
        match self.bag.get(key) {
            Scalar::Absent | Scalar::Null => Ok(None),
            _ => self.text(key).map(Some),
        }
    }

    /// A required boolean.
    #[inline]
    fn flag(&self, key: Key) -> Result<bool, ParseError> {
        match self.bag.get(key) {
            Scalar::Bool(value) => Ok(value),
            other => Err(self.wrong(key, "a boolean", other)),
        }
    }

    /// A required decimal string: Binance's plain form through the fast path, anything else
    /// through the model's `parse`; values for which `is_negative` holds are refused (prices
    /// and quantities are never negative; funding rates can be).
    #[inline]
    fn decimal<T: Copy>(
        &self,
        key: Key,
        from_raw: fn(i64) -> T,
        parse: fn(&str) -> Result<T, MoneyError>,
        is_negative: fn(T) -> bool,
    ) -> Result<T, ParseError> {
        let text = match self.bag.get(key) {
            Scalar::Str(text) => text,
            other => return Err(self.wrong(key, "a decimal string", other)),
        };
        match decimal::fast_fixed8(text.as_bytes()) {
            Some(raw) => Ok(from_raw(raw)),
            None => self.slow_decimal(key, text, parse, is_negative),
        }
    }

    #[cold]
    fn slow_decimal<T: Copy>(
        &self,
        key: Key,
        text: &str,
        parse: fn(&str) -> Result<T, MoneyError>,
        is_negative: fn(T) -> bool,
    ) -> Result<T, ParseError> {
        match parse(text) {
            Ok(value) if !is_negative(value) => Ok(value),
            Ok(_) => Err(ParseError::BadDecimal {
                place: self.place(key),
                text: crate::binance::error::truncate(text),
                reason: "must not be negative".to_owned(),
            }),
            Err(error) => Err(ParseError::bad_decimal(self.place(key), text, &error)),
        }
    }

    #[inline]
    fn price(&self, key: Key) -> Result<Price, ParseError> {
        self.decimal(key, Price::from_raw, Price::parse, Price::is_negative)
    }

    #[inline]
    fn qty(&self, key: Key) -> Result<Qty, ParseError> {
        self.decimal(key, Qty::from_raw, Qty::parse, Qty::is_negative)
    }

    /// An optional price or quantity: absent or `null` gives `None`.
    fn opt<T: Copy>(
        &self,
        key: Key,
        read: fn(&Self, Key) -> Result<T, ParseError>,
    ) -> Result<Option<T>, ParseError> {
        match self.bag.get(key) {
            Scalar::Absent | Scalar::Null => Ok(None),
            _ => read(self, key).map(Some),
        }
    }

    /// A level list parsed into `buffer` during the walk.
    #[inline]
    fn levels(&self, key: Key, buffer: &'a [Level]) -> Result<&'a [Level], ParseError> {
        match self.bag.get(key) {
            Scalar::Levels => match self.bag.level_fault(key) {
                Some(fault) => Err(fault.to_error(self.event)),
                None => Ok(buffer),
            },
            other => Err(self.wrong(key, "an array of [price, qty] pairs", other)),
        }
    }

    /// `E` and `T`.
    #[inline]
    fn times(&self) -> Result<ExchangeTimes, ParseError> {
        Ok(ExchangeTimes {
            event_ms: self.int(Key::EventTime)?,
            transaction_ms: self.int(Key::TxTime)?,
        })
    }
}

/// The event the bag describes; level lists borrow `levels`.
///
/// # Errors
/// The first problem found, as a [`ParseError`] (see `ParseError::kind` for the codes).
pub(super) fn normalise<'a>(
    bag: &Bag<'a>,
    levels: &'a LevelBuffers,
    stream: Option<&'a str>,
) -> Result<MarketEvent<'a>, ParseError> {
    match bag.get(Key::EventType) {
        Scalar::Str(event_type) => by_event_type(bag, levels, stream, event_type),
        Scalar::Absent => without_event_type(bag, levels),
        other => Err(ParseError::WrongType {
            place: "event.e".to_owned(),
            expected: "a string",
            found: other.found(),
        }),
    }
}

fn by_event_type<'a>(
    bag: &Bag<'a>,
    levels: &'a LevelBuffers,
    stream: Option<&'a str>,
    event_type: &'a str,
) -> Result<MarketEvent<'a>, ParseError> {
    match event_type {
        "bookTicker" => book_ticker(bag).map(MarketEvent::BookTicker),
        "trade" => trade(bag).map(MarketEvent::Trade),
        "depthUpdate" => depth(bag, levels, stream).map(MarketEvent::Depth),
        "aggTrade" => agg_trade(bag).map(MarketEvent::AggTrade),
        "markPriceUpdate" => mark_price(bag).map(MarketEvent::MarkPrice),
        _ => Ok(MarketEvent::Other(OtherEvent {
            event_type: Some(event_type),
            symbol: match bag.get(Key::Symbol) {
                Scalar::Str(symbol) => Some(symbol),
                _ => None,
            },
            event_ms: match bag.get(Key::EventTime) {
                Scalar::Int(ms) => Some(ms),
                _ => None,
            },
        })),
    }
}

/// `depthUpdate` (§6.2, §6.3): `E`, `T`, `s`, `U`, `u`, `pu`, `b`, `a` are all required;
/// futures diffs always carry `pu`, and sequencing (§7.1 step 5) depends on it.
fn depth<'a>(
    bag: &Bag<'a>,
    levels: &'a LevelBuffers,
    stream: Option<&'a str>,
) -> Result<DepthUpdate<'a>, ParseError> {
    let f = Fields {
        bag,
        event: "depthUpdate",
    };
    Ok(DepthUpdate {
        symbol: f.text(Key::Symbol)?,
        times: f.times()?,
        kind: depth_kind(stream),
        diff: DepthDiff {
            first_update_id: f.int(Key::FirstId)?,
            final_update_id: f.int(Key::FinalId)?,
            prev_final_update_id: Some(f.int(Key::PrevFinalId)?),
            bids: f.levels(Key::LowerB, &levels.bids)?,
            asks: f.levels(Key::LowerA, &levels.asks)?,
        },
    })
}

/// A partial-depth stream is `<symbol>@depth<N>[@speed]`, a diff stream `<symbol>@depth` or
/// `<symbol>@depth@<speed>` (§6.2, §6.3): a digit right after `@depth` marks the partial one.
pub(super) fn depth_kind(stream: Option<&str>) -> DepthKind {
    let after = stream
        .and_then(|name| name.find("@depth").map(|at| &name[at + "@depth".len()..]))
        .and_then(|rest| rest.bytes().next());
    match after {
        Some(byte) if byte.is_ascii_digit() => DepthKind::Partial,
        _ => DepthKind::Diff,
    }
}

/// `bookTicker` (§6.6): `u`, `E`, `T`, `s`, `b`, `B`, `a`, `A`.
#[inline]
fn book_ticker<'a>(bag: &Bag<'a>) -> Result<BookTicker<'a>, ParseError> {
    let f = Fields {
        bag,
        event: "bookTicker",
    };
    Ok(BookTicker {
        symbol: f.text(Key::Symbol)?,
        update_id: f.int(Key::FinalId)?,
        times: f.times()?,
        bid: Level::new(f.price(Key::LowerB)?, f.qty(Key::UpperB)?),
        ask: Level::new(f.price(Key::LowerA)?, f.qty(Key::UpperA)?),
    })
}

/// `trade` (§6.5): `E`, `T`, `s`, `t`, `p`, `q`, `m`; `X` optional.
#[inline]
fn trade<'a>(bag: &Bag<'a>) -> Result<TradeEvent<'a>, ParseError> {
    let f = Fields {
        bag,
        event: "trade",
    };
    Ok(TradeEvent {
        symbol: f.text(Key::Symbol)?,
        trade_id: f.int(Key::TradeId)?,
        times: f.times()?,
        price: f.price(Key::Price)?,
        qty: f.qty(Key::Qty)?,
        buyer_is_maker: f.flag(Key::BuyerIsMaker)?,
        trade_type: f.opt_text(Key::TradeType)?,
    })
}

/// `aggTrade` (§6.4): `E`, `s`, `a`, `p`, `q`, `f`, `l`, `T`, `m`; `nq` optional (added
/// 2025-12-31).
fn agg_trade<'a>(bag: &Bag<'a>) -> Result<AggTrade<'a>, ParseError> {
    let f = Fields {
        bag,
        event: "aggTrade",
    };
    Ok(AggTrade {
        symbol: f.text(Key::Symbol)?,
        agg_trade_id: f.int(Key::LowerA)?,
        first_trade_id: f.int(Key::FirstTradeId)?,
        last_trade_id: f.int(Key::LastTradeId)?,
        times: f.times()?,
        price: f.price(Key::Price)?,
        qty: f.qty(Key::Qty)?,
        non_rpi_qty: f.opt(Key::NonRpiQty, Fields::qty)?,
        buyer_is_maker: f.flag(Key::BuyerIsMaker)?,
    })
}

/// `markPriceUpdate` (§6.7): `E`, `s`, `p`, `i`, `P`, `r`, `T`; `ap` optional (added 2026-03).
/// Dated futures send `"r":""` (no funding), read as `None`.
fn mark_price<'a>(bag: &Bag<'a>) -> Result<MarkPrice<'a>, ParseError> {
    let f = Fields {
        bag,
        event: "markPriceUpdate",
    };
    let funding_rate = match bag.get(Key::FundingRate) {
        Scalar::Str("") => None,
        _ => Some(f.decimal(Key::FundingRate, Rate::from_raw, Rate::parse, |_| false)?),
    };
    Ok(MarkPrice {
        symbol: f.text(Key::Symbol)?,
        event_ms: f.int(Key::EventTime)?,
        mark_price: f.price(Key::Price)?,
        index_price: f.price(Key::IndexPrice)?,
        estimated_settle_price: f.price(Key::SettlePrice)?,
        funding_rate,
        next_funding_ms: f.int(Key::TxTime)?,
        mark_price_avg: f.opt(Key::MarkPriceAvg, Fields::price)?,
    })
}

/// A frame without `e`: a REST depth snapshot, an error object, a control reply or an array
/// payload; anything else is an [`ParseError::UnknownEvent`].
fn without_event_type<'a>(
    bag: &Bag<'a>,
    levels: &'a LevelBuffers,
) -> Result<MarketEvent<'a>, ParseError> {
    match bag.payload() {
        Payload::Array => {
            return Ok(MarketEvent::Other(OtherEvent {
                event_type: None,
                symbol: None,
                event_ms: None,
            }));
        }
        Payload::Scalar(found) => {
            return Err(ParseError::UnknownEvent {
                place: "market frame",
                detail: format!("expected a JSON object, found {found}"),
            });
        }
        Payload::Object => {}
    }
    if bag.get(Key::LastUpdateId) != Scalar::Absent {
        snapshot(bag, levels).map(MarketEvent::Snapshot)
    } else if bag.get(Key::Code) != Scalar::Absent {
        venue_error(bag).map(MarketEvent::VenueError)
    } else if bag.get(Key::Result) != Scalar::Absent || bag.get(Key::Id) != Scalar::Absent {
        reply(bag).map(MarketEvent::Reply)
    } else {
        Err(ParseError::UnknownEvent {
            place: "market frame",
            detail: "an object with none of `e`, `lastUpdateId`, `code`, `result` or `id`"
                .to_owned(),
        })
    }
}

/// REST depth snapshot (§3.2): `lastUpdateId`, `bids`, `asks` required; `E`, `T` optional
/// (spot and older captures lack them).
pub(super) fn snapshot<'a>(
    bag: &Bag<'a>,
    levels: &'a LevelBuffers,
) -> Result<DepthSnapshot<'a>, ParseError> {
    let f = Fields {
        bag,
        event: "depthSnapshot",
    };
    let opt_int = |key| match bag.get(key) {
        Scalar::Absent | Scalar::Null => Ok(None),
        _ => f.int(key).map(Some),
    };
    Ok(DepthSnapshot {
        last_update_id: f.int(Key::LastUpdateId)?,
        event_ms: opt_int(Key::EventTime)?,
        transaction_ms: opt_int(Key::TxTime)?,
        bids: f.levels(Key::Bids, &levels.snapshot_bids)?,
        asks: f.levels(Key::Asks, &levels.snapshot_asks)?,
    })
}

/// The reply's `id`: a number, a string, or nothing.
fn reply_id<'a>(bag: &Bag<'a>, event: &'static str) -> Result<ReplyId<'a>, ParseError> {
    match bag.get(Key::Id) {
        Scalar::Int(id) => Ok(ReplyId::Number(id)),
        Scalar::Str(id) => Ok(ReplyId::Text(id)),
        Scalar::Absent | Scalar::Null => Ok(ReplyId::None),
        other => Err(ParseError::WrongType {
            place: format!("{event}.id"),
            expected: "an integer or a string",
            found: other.found(),
        }),
    }
}

/// Control reply (§1.3): `{"result":..,"id":..}`.
fn reply<'a>(bag: &Bag<'a>) -> Result<ControlReply<'a>, ParseError> {
    let result = match bag.get(Key::Result) {
        Scalar::Absent | Scalar::Null => ReplyResult::Null,
        Scalar::Bool(value) => ReplyResult::Bool(value),
        Scalar::Array(len) => ReplyResult::List { len },
        _ => ReplyResult::Other,
    };
    Ok(ControlReply {
        id: reply_id(bag, "reply")?,
        result,
    })
}

/// Error object (§1.3, §5.1): `{"code":<int>,"msg":".."}`, possibly nested under `error`.
fn venue_error<'a>(bag: &Bag<'a>) -> Result<VenueError<'a>, ParseError> {
    let code = match bag.get(Key::Code) {
        Scalar::Int(code) => i64::try_from(code).ok(),
        Scalar::NegInt(code) => Some(code),
        _ => None,
    };
    let Some(code) = code else {
        return Err(ParseError::WrongType {
            place: "error.code".to_owned(),
            expected: "an integer",
            found: bag.get(Key::Code).found(),
        });
    };
    Ok(VenueError {
        code,
        msg: bag.msg(),
        id: reply_id(bag, "error")?,
    })
}
