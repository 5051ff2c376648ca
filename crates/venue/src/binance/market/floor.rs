//! The parse-only floor: each message deserialised into a plain serde struct with the same
//! JSON library and nothing more (prices stay `&str`, no decimal conversion, no level buffers,
//! no book), as the baseline the benchmarks compare the full parser and the market-data
//! pipeline against.
//!
//! To keep the floor a true lower bound, the message type is decided once, up front, by
//! [`FloorPlan::classify`] (outside any timed loop), and a depth list is walked element by
//! element (every string is scanned) but only counted, so the floor allocates nothing.
//!
//! The structs' field names are Binance's keys (`E`, `T`, ...), hence `non_snake_case`.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};

use crate::binance::{JsonLib, ParseError};

/// Which floor struct a frame deserialises into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FloorKind {
    /// `depthUpdate`.
    Depth,
    /// `bookTicker`.
    BookTicker,
    /// `trade`.
    Trade,
    /// `aggTrade`.
    AggTrade,
    /// `markPriceUpdate`.
    MarkPrice,
    /// REST depth snapshot.
    Snapshot,
}

/// How to floor-parse one frame: its kind, and whether it is in the combined-stream envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FloorPlan {
    /// The floor struct to use.
    pub kind: FloorKind,
    /// Whether the frame is `{"stream":..,"data":..}`.
    pub enveloped: bool,
}

impl FloorPlan {
    /// Decides the plan by looking for the event-type text (not a JSON parse; call it once per
    /// message, outside timed loops). `None` for frames the floor has no struct for.
    #[must_use]
    pub fn classify(frame: &str) -> Option<Self> {
        let kind = if frame.contains("\"lastUpdateId\"") {
            FloorKind::Snapshot
        } else if frame.contains("\"e\":\"depthUpdate\"") {
            FloorKind::Depth
        } else if frame.contains("\"e\":\"bookTicker\"") {
            FloorKind::BookTicker
        } else if frame.contains("\"e\":\"trade\"") {
            FloorKind::Trade
        } else if frame.contains("\"e\":\"aggTrade\"") {
            FloorKind::AggTrade
        } else if frame.contains("\"e\":\"markPriceUpdate\"") {
            FloorKind::MarkPrice
        } else {
            return None;
        };
        let enveloped = frame.trim_start().starts_with("{\"stream\"");
        Some(Self { kind, enveloped })
    }
}

/// A `depthUpdate` with its levels counted, not stored.
#[allow(non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct DepthFloor<'a> {
    /// `e`: event type.
    pub e: &'a str,
    /// `E`: event time, ms.
    pub E: u64,
    /// `T`: transaction / trade time, ms.
    pub T: u64,
    /// `s`: symbol.
    pub s: &'a str,
    /// `U`: first update id.
    pub U: u64,
    /// `u`: final update id.
    pub u: u64,
    /// `pu`: previous final update id.
    pub pu: u64,
    /// `b`: bid levels (counted) or best bid price.
    pub b: LevelCount,
    /// `a`: ask levels (counted), best ask price or aggregate id.
    pub a: LevelCount,
}

/// A `bookTicker`, strings unparsed.
#[allow(non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct BookTickerFloor<'a> {
    /// `e`: event type.
    pub e: &'a str,
    /// `u`: final update id.
    pub u: u64,
    /// `E`: event time, ms.
    pub E: u64,
    /// `T`: transaction / trade time, ms.
    pub T: u64,
    /// `s`: symbol.
    pub s: &'a str,
    /// `b`: bid levels (counted) or best bid price.
    pub b: &'a str,
    /// `B`: best bid qty.
    pub B: &'a str,
    /// `a`: ask levels (counted), best ask price or aggregate id.
    pub a: &'a str,
    /// `A`: best ask qty.
    pub A: &'a str,
}

/// A `trade`, strings unparsed.
#[allow(non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct TradeFloor<'a> {
    /// `e`: event type.
    pub e: &'a str,
    /// `E`: event time, ms.
    pub E: u64,
    /// `T`: transaction / trade time, ms.
    pub T: u64,
    /// `s`: symbol.
    pub s: &'a str,
    /// `t`: trade id.
    pub t: u64,
    /// `p`: price.
    pub p: &'a str,
    /// `q`: quantity.
    pub q: &'a str,
    /// `m`: buyer is maker.
    pub m: bool,
    /// `X`: trade type.
    pub X: Option<&'a str>,
}

/// An `aggTrade`, strings unparsed.
#[allow(non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct AggTradeFloor<'a> {
    /// `e`: event type.
    pub e: &'a str,
    /// `E`: event time, ms.
    pub E: u64,
    /// `s`: symbol.
    pub s: &'a str,
    /// `a`: ask levels (counted), best ask price or aggregate id.
    pub a: u64,
    /// `p`: price.
    pub p: &'a str,
    /// `q`: quantity.
    pub q: &'a str,
    /// `nq`: quantity without RPI fills.
    pub nq: Option<&'a str>,
    /// `f`: first trade id.
    pub f: u64,
    /// `l`: last trade id.
    pub l: u64,
    /// `T`: transaction / trade time, ms.
    pub T: u64,
    /// `m`: buyer is maker.
    pub m: bool,
}

/// A `markPriceUpdate`, strings unparsed.
#[allow(non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct MarkPriceFloor<'a> {
    /// `e`: event type.
    pub e: &'a str,
    /// `E`: event time, ms.
    pub E: u64,
    /// `s`: symbol.
    pub s: &'a str,
    /// `p`: price.
    pub p: &'a str,
    /// `i`: index price.
    pub i: &'a str,
    /// `P`: estimated settle price.
    pub P: &'a str,
    /// `r`: funding rate.
    pub r: &'a str,
    /// `T`: transaction / trade time, ms.
    pub T: u64,
}

/// A REST depth snapshot with its levels counted.
#[allow(non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct SnapshotFloor {
    #[serde(rename = "lastUpdateId")]
    /// `lastUpdateId`: the snapshot's update id.
    pub last_update_id: u64,
    /// `E`: event time, ms.
    pub E: Option<u64>,
    /// `T`: transaction / trade time, ms.
    pub T: Option<u64>,
    /// `bids`: bid levels, counted.
    pub bids: LevelCount,
    /// `asks`: ask levels, counted.
    pub asks: LevelCount,
}

/// One floor-parsed message.
#[derive(Debug, Clone, Copy)]
pub enum FloorFrame<'a> {
    /// A `depthUpdate`.
    Depth(DepthFloor<'a>),
    /// A `bookTicker`.
    BookTicker(BookTickerFloor<'a>),
    /// A `trade`.
    Trade(TradeFloor<'a>),
    /// An `aggTrade`.
    AggTrade(AggTradeFloor<'a>),
    /// A `markPriceUpdate`.
    MarkPrice(MarkPriceFloor<'a>),
    /// A REST depth snapshot.
    Snapshot(SnapshotFloor),
}

/// A list of `[price, qty]` string pairs, each deserialised as `(&str, &str)` and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelCount(pub usize);

impl<'de> Deserialize<'de> for LevelCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(LevelCountVisitor)
    }
}

struct LevelCountVisitor;

impl<'de> Visitor<'de> for LevelCountVisitor {
    type Value = LevelCount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of [price, qty] string pairs")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<LevelCount, S::Error> {
        let mut count = 0;
        while seq.next_element::<(&'de str, &'de str)>()?.is_some() {
            count += 1;
        }
        Ok(LevelCount(count))
    }
}

/// The combined-stream envelope around a floor struct.
#[derive(Deserialize)]
struct Envelope<'a, T> {
    #[serde(borrow)]
    #[allow(dead_code)]
    stream: &'a str,
    data: T,
}

/// Deserialises `frame` per `plan` with `json`, the parse-only floor.
///
/// # Errors
/// [`ParseError::InvalidJson`] when the frame does not fit the plan's struct.
pub fn parse(json: JsonLib, plan: FloorPlan, frame: &str) -> Result<FloorFrame<'_>, ParseError> {
    Ok(match plan.kind {
        FloorKind::Depth => FloorFrame::Depth(load(json, plan, frame)?),
        FloorKind::BookTicker => FloorFrame::BookTicker(load(json, plan, frame)?),
        FloorKind::Trade => FloorFrame::Trade(load(json, plan, frame)?),
        FloorKind::AggTrade => FloorFrame::AggTrade(load(json, plan, frame)?),
        FloorKind::MarkPrice => FloorFrame::MarkPrice(load(json, plan, frame)?),
        FloorKind::Snapshot => FloorFrame::Snapshot(load(json, plan, frame)?),
    })
}

#[inline]
fn load<'a, T: Deserialize<'a>>(
    json: JsonLib,
    plan: FloorPlan,
    frame: &'a str,
) -> Result<T, ParseError> {
    if plan.enveloped {
        let seed = std::marker::PhantomData::<Envelope<'a, T>>;
        json.deserialize_seed(frame, seed, "floor frame")
            .map(|envelope| envelope.data)
    } else {
        json.deserialize_seed(frame, std::marker::PhantomData::<T>, "floor frame")
    }
}
