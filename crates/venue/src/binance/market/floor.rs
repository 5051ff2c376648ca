//! The parse-only floor: each message deserialised into a plain serde struct with the same
//! JSON library and nothing more (prices stay `&str`, no decimal conversion, no level buffers,
//! no book), as the baseline the benchmarks compare the full parser and the market-data
//! pipeline against.
//!
//! To keep the floor a true lower bound, the message type is decided once, up front, by
//! [`FloorPlan::classify`] (outside any timed loop), and a depth list is walked element by
//! element (every string is scanned) but only counted, so the floor allocates nothing.

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
#[allow(missing_docs, non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct DepthFloor<'a> {
    pub e: &'a str,
    pub E: u64,
    pub T: u64,
    pub s: &'a str,
    pub U: u64,
    pub u: u64,
    pub pu: u64,
    pub b: LevelCount,
    pub a: LevelCount,
}

/// A `bookTicker`, strings unparsed.
#[allow(missing_docs, non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct BookTickerFloor<'a> {
    pub e: &'a str,
    pub u: u64,
    pub E: u64,
    pub T: u64,
    pub s: &'a str,
    pub b: &'a str,
    pub B: &'a str,
    pub a: &'a str,
    pub A: &'a str,
}

/// A `trade`, strings unparsed.
#[allow(missing_docs, non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct TradeFloor<'a> {
    pub e: &'a str,
    pub E: u64,
    pub T: u64,
    pub s: &'a str,
    pub t: u64,
    pub p: &'a str,
    pub q: &'a str,
    pub m: bool,
    pub X: Option<&'a str>,
}

/// An `aggTrade`, strings unparsed.
#[allow(missing_docs, non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct AggTradeFloor<'a> {
    pub e: &'a str,
    pub E: u64,
    pub s: &'a str,
    pub a: u64,
    pub p: &'a str,
    pub q: &'a str,
    pub nq: Option<&'a str>,
    pub f: u64,
    pub l: u64,
    pub T: u64,
    pub m: bool,
}

/// A `markPriceUpdate`, strings unparsed.
#[allow(missing_docs, non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct MarkPriceFloor<'a> {
    pub e: &'a str,
    pub E: u64,
    pub s: &'a str,
    pub p: &'a str,
    pub i: &'a str,
    pub P: &'a str,
    pub r: &'a str,
    pub T: u64,
}

/// A REST depth snapshot with its levels counted.
#[allow(missing_docs, non_snake_case)]
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct SnapshotFloor {
    #[serde(rename = "lastUpdateId")]
    pub last_update_id: u64,
    pub E: Option<u64>,
    pub T: Option<u64>,
    pub bids: LevelCount,
    pub asks: LevelCount,
}

/// One floor-parsed message.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy)]
pub enum FloorFrame<'a> {
    Depth(DepthFloor<'a>),
    BookTicker(BookTickerFloor<'a>),
    Trade(TradeFloor<'a>),
    AggTrade(AggTradeFloor<'a>),
    MarkPrice(MarkPriceFloor<'a>),
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
