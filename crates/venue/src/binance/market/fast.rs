//! The fast path for the frames that make up nearly all market data (`bookTicker`, `trade`,
//! `aggTrade`, `depthUpdate`): one typed pass, as a derived serde struct would do it, with each
//! decimal parsed as it is read.
//!
//! It relies on what Binance always does: `e` is the first key of the event object, the
//! envelope holds only `stream` and `data`, values have their documented types, decimals are
//! plain (`"61800.20"`) and levels are `[["p","q"],...]` pairs. The moment a frame departs from
//! that (another key order, a missing or mistyped field, an unusual decimal, a malformed level,
//! an event type it does not cover) it *declines*: it skips the rest of the frame and
//! [`super::MarketParser`] parses the frame again with the general, order-independent walk
//! (`walk.rs` + `normalise.rs`), which decides the outcome and words any error. So the fast
//! path never changes a result, only how fast the usual frame gets it (checked on the recording
//! and by a property test on mutated frames).
//!
//! Only frames that start like Binance's (`{"stream":` or `{"e":`, see [`may_take`]) are tried.
//! Declining allocates nothing with sonic-rs (serde_json may allocate its skip stack to skip
//! nested arrays); a JSON syntax error ends the fast pass with the library's error (which
//! allocates) and the general walk then reports it.

use std::borrow::Cow;
use std::fmt;

use kestrel_model::book::Level;
use kestrel_model::{Price, Qty};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::events::{AggTrade, BookTicker, ExchangeTimes, TradeEvent};
use super::keys::Key;
use super::levels::{LevelsSeed, scan_levels};
use super::record::LevelBuffers;
use super::walk::{drain_map, drain_seq};
use crate::binance::decimal;

/// Whether the fast pass may take `frame`: it starts as Binance's stream frames do, with
/// `{"stream":` or `{"e":`. Anything else (a REST body, a reply, other spacing) goes straight
/// to the general walk, so the fast pass is not started only to decline.
#[inline]
pub(super) fn may_take(frame: &str) -> bool {
    let bytes = frame.as_bytes();
    bytes.starts_with(br#"{"stream":"#) || bytes.starts_with(br#"{"e":"#)
}

/// What the fast pass produced.
#[derive(Debug, Clone, Copy)]
pub(super) struct FastFrame<'a> {
    /// The envelope's (or bare frame's) `stream`.
    pub(super) stream: Option<&'a str>,
    /// The event.
    pub(super) event: FastEvent<'a>,
}

/// An event read by the fast pass; a depth event's levels are in the parser's buffers.
#[derive(Debug, Clone, Copy)]
pub(super) enum FastEvent<'a> {
    BookTicker(BookTicker<'a>),
    Trade(TradeEvent<'a>),
    AggTrade(AggTrade<'a>),
    Depth(DepthHead<'a>),
}

/// A `depthUpdate` without its levels.
#[derive(Debug, Clone, Copy)]
pub(super) struct DepthHead<'a> {
    pub(super) symbol: &'a str,
    pub(super) times: ExchangeTimes,
    pub(super) first_update_id: u64,
    pub(super) final_update_id: u64,
    pub(super) prev_final_update_id: u64,
}

/// The whole frame: bare (`e` first) or `{"stream":..,"data":{..}}`; `None` = declined.
pub(super) struct FrameSeed<'b> {
    pub(super) levels: &'b mut LevelBuffers,
    pub(super) raw_levels: bool,
}

impl<'de> DeserializeSeed<'de> for FrameSeed<'_> {
    type Value = Option<FastFrame<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FrameSeed<'_> {
    type Value = Option<FastFrame<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a market frame")
    }

    #[inline]
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut stream = None;
        let mut event = None;
        while let Some(key) = map.next_key::<Key>()? {
            let read = match key {
                Key::Stream => map.next_value::<Option<&'de str>>().map(|s| {
                    stream = s;
                    true
                }),
                Key::Data if event.is_none() => {
                    let seed = DataSeed {
                        levels: &mut *self.levels,
                        raw_levels: self.raw_levels,
                    };
                    map.next_value_seed(seed).map(|e| {
                        event = e;
                        event.is_some()
                    })
                }
                Key::EventType if event.is_none() => {
                    let reader = EventReader {
                        levels: &mut *self.levels,
                        raw_levels: self.raw_levels,
                        bare_stream: Some(&mut stream),
                    };
                    reader.read(&mut map).map(|e| {
                        event = e;
                        event.is_some()
                    })
                }
                _ => map.next_value::<IgnoredAny>().map(|_| false),
            }?;
            if !read {
                return drain_map(map).map(|()| None);
            }
        }
        Ok(event.map(|event| FastFrame { stream, event }))
    }
}

/// The envelope's `data` object, whose first key must be `e`.
struct DataSeed<'b> {
    levels: &'b mut LevelBuffers,
    raw_levels: bool,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Option<FastEvent<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        // `any`, not `map`: an array payload (`!markPrice@arr`) declines without an error.
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Option<FastEvent<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    #[inline]
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        match map.next_key::<Key>()? {
            Some(Key::EventType) => {}
            Some(_) => {
                // That key's value is still pending: skip it, then the rest.
                map.next_value::<IgnoredAny>()?;
                return drain_map(map).map(|()| None);
            }
            None => return Ok(None),
        }
        let reader = EventReader {
            levels: self.levels,
            raw_levels: self.raw_levels,
            bare_stream: None,
        };
        reader.read(&mut map)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Self::Value, S::Error> {
        drain_seq(seq).map(|_| None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Reads an event object whose `e` key has just been read (its value is next).
struct EventReader<'b, 'de> {
    levels: &'b mut LevelBuffers,
    raw_levels: bool,
    /// For a bare frame, where its `stream` goes (the event object is the whole frame).
    bare_stream: Option<&'b mut Option<&'de str>>,
}

/// The typed fields of the covered events, as read so far (by this pass or the byte scanner).
#[derive(Default)]
#[allow(non_snake_case)]
pub(super) struct Fields<'de> {
    pub(super) s: Option<&'de str>,
    pub(super) E: Option<u64>,
    pub(super) T: Option<u64>,
    pub(super) U: Option<u64>,
    pub(super) u: Option<u64>,
    pub(super) pu: Option<u64>,
    pub(super) t: Option<u64>,
    pub(super) a_id: Option<u64>,
    pub(super) f: Option<u64>,
    pub(super) l: Option<u64>,
    pub(super) p: Option<i64>,
    pub(super) q: Option<i64>,
    pub(super) b_px: Option<i64>,
    pub(super) a_px: Option<i64>,
    pub(super) B: Option<i64>,
    pub(super) A: Option<i64>,
    pub(super) m: Option<bool>,
    pub(super) X: Option<Option<&'de str>>,
    pub(super) nq: Option<Option<i64>>,
    pub(super) b_levels: bool,
    pub(super) a_levels: bool,
}

/// Which covered event is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventKind {
    BookTicker,
    Trade,
    AggTrade,
    Depth,
}

impl<'de> EventReader<'_, 'de> {
    /// Reads the rest of the object; `None` (after skipping it) when the fast path declines.
    #[inline]
    fn read<M: MapAccess<'de>>(mut self, map: &mut M) -> Result<Option<FastEvent<'de>>, M::Error> {
        let kind = match map.next_value::<&'de str>()? {
            "bookTicker" => EventKind::BookTicker,
            "trade" => EventKind::Trade,
            "aggTrade" => EventKind::AggTrade,
            "depthUpdate" => EventKind::Depth,
            _ => return drain_map_ref(map).map(|()| None),
        };
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Key>()? {
            if !self.field(kind, key, map, &mut fields)? {
                return drain_map_ref(map).map(|()| None);
            }
        }
        Ok(fields.finish(kind))
    }

    /// Reads one entry into `fields`; `false` to decline.
    #[inline]
    fn field<M: MapAccess<'de>>(
        &mut self,
        kind: EventKind,
        key: Key,
        map: &mut M,
        fields: &mut Fields<'de>,
    ) -> Result<bool, M::Error> {
        use EventKind::{AggTrade as Agg, BookTicker as Bt, Depth as Dp, Trade as Tr};
        let ok = match (kind, key) {
            (_, Key::EventTime) => put(&mut fields.E, map.next_value()?),
            (_, Key::TxTime) => put(&mut fields.T, map.next_value()?),
            (_, Key::Symbol) => put(&mut fields.s, map.next_value()?),
            (Bt | Dp, Key::FinalId) => put(&mut fields.u, map.next_value()?),
            (Dp, Key::FirstId) => put(&mut fields.U, map.next_value()?),
            (Dp, Key::PrevFinalId) => put(&mut fields.pu, map.next_value()?),
            (Dp, Key::LowerB) => self.levels(key, map, &mut fields.b_levels)?,
            (Dp, Key::LowerA) => self.levels(key, map, &mut fields.a_levels)?,
            (Bt, Key::LowerB) => put_decimal(&mut fields.b_px, map.next_value_seed(Plain)?),
            (Bt, Key::LowerA) => put_decimal(&mut fields.a_px, map.next_value_seed(Plain)?),
            (Bt, Key::UpperB) => put_decimal(&mut fields.B, map.next_value_seed(Plain)?),
            (Bt, Key::UpperA) => put_decimal(&mut fields.A, map.next_value_seed(Plain)?),
            (Tr, Key::TradeId) => put(&mut fields.t, map.next_value()?),
            (Agg, Key::LowerA) => put(&mut fields.a_id, map.next_value()?),
            (Agg, Key::FirstTradeId) => put(&mut fields.f, map.next_value()?),
            (Agg, Key::LastTradeId) => put(&mut fields.l, map.next_value()?),
            (Tr | Agg, Key::Price) => put_decimal(&mut fields.p, map.next_value_seed(Plain)?),
            (Tr | Agg, Key::Qty) => put_decimal(&mut fields.q, map.next_value_seed(Plain)?),
            (Tr | Agg, Key::BuyerIsMaker) => put(&mut fields.m, map.next_value()?),
            (Tr, Key::TradeType) => put(&mut fields.X, map.next_value()?),
            (Agg, Key::NonRpiQty) => {
                let nq = map.next_value_seed(OptionalPlain)?;
                nq.map(|nq| fields.nq = Some(nq)).is_some()
            }
            (_, Key::Stream) => match self.bare_stream.as_deref_mut() {
                Some(stream) => {
                    *stream = map.next_value()?;
                    true
                }
                None => map.next_value::<IgnoredAny>().map(|_| true)?,
            },
            // A second `e`, a nested object the general walk would merge, or a REST level
            // list (which has buffers of its own, filled by the general walk): leave these to
            // the general walk.
            (_, Key::EventType | Key::Data | Key::Bids | Key::Asks) => {
                map.next_value::<IgnoredAny>().map(|_| false)?
            }
            _ => map.next_value::<IgnoredAny>().map(|_| true)?,
        };
        Ok(ok)
    }

    /// A `depthUpdate` level list into its buffer: the raw scanner with sonic-rs, the serde
    /// path otherwise; `false` to decline (an unusual or malformed list).
    #[inline]
    fn levels<M: MapAccess<'de>>(
        &mut self,
        key: Key,
        map: &mut M,
        seen: &mut bool,
    ) -> Result<bool, M::Error> {
        let out = if key == Key::LowerB {
            &mut self.levels.bids
        } else {
            &mut self.levels.asks
        };
        *seen = if self.raw_levels {
            let lazy = map.next_value::<sonic_rs::LazyValue<'de>>()?;
            let Cow::Borrowed(raw) = lazy.as_raw_cow() else {
                return Ok(false);
            };
            scan_levels(raw.as_bytes(), out).is_some()
        } else {
            map.next_value_seed(SerdeLevels { out, key })?
        };
        Ok(*seen)
    }
}

impl<'de> Fields<'de> {
    /// The event, when every required field was read.
    #[inline]
    pub(super) fn finish(self, kind: EventKind) -> Option<FastEvent<'de>> {
        let times = ExchangeTimes {
            event_ms: self.E?,
            transaction_ms: self.T?,
        };
        Some(match kind {
            EventKind::BookTicker => FastEvent::BookTicker(BookTicker {
                symbol: self.s?,
                update_id: self.u?,
                times,
                bid: Level::new(Price::from_raw(self.b_px?), Qty::from_raw(self.B?)),
                ask: Level::new(Price::from_raw(self.a_px?), Qty::from_raw(self.A?)),
            }),
            EventKind::Trade => FastEvent::Trade(TradeEvent {
                symbol: self.s?,
                trade_id: self.t?,
                times,
                price: Price::from_raw(self.p?),
                qty: Qty::from_raw(self.q?),
                buyer_is_maker: self.m?,
                trade_type: self.X.flatten(),
            }),
            EventKind::AggTrade => FastEvent::AggTrade(AggTrade {
                symbol: self.s?,
                agg_trade_id: self.a_id?,
                first_trade_id: self.f?,
                last_trade_id: self.l?,
                times,
                price: Price::from_raw(self.p?),
                qty: Qty::from_raw(self.q?),
                non_rpi_qty: self.nq.flatten().map(Qty::from_raw),
                buyer_is_maker: self.m?,
            }),
            EventKind::Depth if self.b_levels && self.a_levels => FastEvent::Depth(DepthHead {
                symbol: self.s?,
                times,
                first_update_id: self.U?,
                final_update_id: self.u?,
                prev_final_update_id: self.pu?,
            }),
            EventKind::Depth => return None,
        })
    }
}

/// Stores a field's value (a repeated key: the last one wins, as in the general walk).
#[inline]
fn put<T>(slot: &mut Option<T>, value: T) -> bool {
    *slot = Some(value);
    true
}

/// Stores a plain decimal; `false` (decline) when it was not one.
#[inline]
fn put_decimal(slot: &mut Option<i64>, value: Option<i64>) -> bool {
    *slot = value;
    value.is_some()
}

/// Skips the rest of a map reached through `&mut`.
fn drain_map_ref<'de, M: MapAccess<'de>>(map: &mut M) -> Result<(), M::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A plain decimal string (`decimal::fast_fixed8`): its raw value, or `None` for any other
/// string (a JSON type other than string is a serde error, so the general walk reports it).
struct Plain;

impl<'de> DeserializeSeed<'de> for Plain {
    type Value = Option<i64>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Plain {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal string")
    }

    #[inline]
    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(decimal::fast_fixed8(text.as_bytes()))
    }
}

/// An optional plain decimal (`nq`): `Some(None)` for `null`, `None` to decline.
struct OptionalPlain;

impl<'de> DeserializeSeed<'de> for OptionalPlain {
    type Value = Option<Option<i64>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let text = Option::<&'de str>::deserialize(deserializer)?;
        Ok(match text {
            None => Some(None),
            Some(text) => decimal::fast_fixed8(text.as_bytes()).map(Some),
        })
    }
}

/// A level list through the general serde path (serde_json); `false` when any level was
/// malformed.
struct SerdeLevels<'b> {
    out: &'b mut Vec<Level>,
    key: Key,
}

impl<'de> DeserializeSeed<'de> for SerdeLevels<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SerdeLevels<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of levels")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<bool, S::Error> {
        let mut fault = None;
        LevelsSeed {
            out: self.out,
            fault: &mut fault,
            key: self.key,
        }
        .fill(seq)?;
        Ok(fault.is_none())
    }
}
