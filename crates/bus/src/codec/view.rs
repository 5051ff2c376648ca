//! Decoded messages that borrow the buffer: [`WireEvent`] and the level views it holds.
//!
//! Symbols are `&str` into the buffer and tickers and trades decode straight to the model's
//! borrowed events. Levels cannot be borrowed as `&[Level]` (the buffer is bytes, unaligned),
//! so [`WireLevels`] reads them on iteration; [`WireEvent::to_event`] copies them into a
//! reusable [`LevelScratch`] when a `&[Level]` is needed (no allocation once warmed up).

use kestrel_model::book::Level;
use kestrel_model::event::{
    BookSnapshot, BookTicker, DepthUpdate, EventKind, MarketEvent, OwnedMarketEvent, ReceiveTime,
    TradeEvent,
};
use kestrel_model::{Price, Qty};

use super::LEVEL_LEN;

/// One side's levels as encoded bytes, already validated by the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireLevels<'a> {
    chunks: &'a [[u8; LEVEL_LEN]],
}

impl<'a> WireLevels<'a> {
    /// Wraps a whole number of encoded levels (the decoder checks their values).
    pub(super) fn from_whole(bytes: &'a [u8]) -> Self {
        let (chunks, rest) = bytes.as_chunks::<LEVEL_LEN>();
        debug_assert!(rest.is_empty(), "level bytes are whole levels");
        Self { chunks }
    }

    /// Number of levels.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.chunks.len()
    }

    /// Whether there are no levels.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The level at `index`.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<Level> {
        self.chunks.get(index).map(level_of)
    }

    /// The levels in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Level> + 'a {
        self.chunks.iter().map(level_of)
    }

    /// Replaces the contents of `out` with the levels (allocates only beyond its capacity).
    pub fn copy_into(&self, out: &mut Vec<Level>) {
        out.clear();
        out.extend(self.iter());
    }
}

fn level_of(chunk: &[u8; LEVEL_LEN]) -> Level {
    let [
        p0,
        p1,
        p2,
        p3,
        p4,
        p5,
        p6,
        p7,
        q0,
        q1,
        q2,
        q3,
        q4,
        q5,
        q6,
        q7,
    ] = *chunk;
    Level::new(
        Price::from_raw(i64::from_le_bytes([p0, p1, p2, p3, p4, p5, p6, p7])),
        Qty::from_raw(i64::from_le_bytes([q0, q1, q2, q3, q4, q5, q6, q7])),
    )
}

/// Reusable level buffers for turning a [`WireEvent`] into a [`MarketEvent`].
#[derive(Debug, Clone, Default)]
pub struct LevelScratch {
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl LevelScratch {
    /// Buffers that hold `per_side` levels a side without growing.
    #[must_use]
    pub fn with_capacity(per_side: usize) -> Self {
        Self {
            bids: Vec::with_capacity(per_side),
            asks: Vec::with_capacity(per_side),
        }
    }

    fn fill(&mut self, bids: &WireLevels<'_>, asks: &WireLevels<'_>) -> (&[Level], &[Level]) {
        bids.copy_into(&mut self.bids);
        asks.copy_into(&mut self.asks);
        (&self.bids, &self.asks)
    }
}

/// A decoded depth update (see [`DepthUpdate`] for the fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireDepthUpdate<'a> {
    /// The venue symbol.
    pub symbol: &'a str,
    /// `U`: the first update id.
    pub first_update_id: u64,
    /// `u`: the final update id.
    pub final_update_id: u64,
    /// `pu`: the previous event's final update id, where present.
    pub prev_final_update_id: Option<u64>,
    /// `E`: venue send time, milliseconds since the epoch.
    pub event_time_ms: u64,
    /// `T`: matching-engine time, milliseconds since the epoch.
    pub transaction_time_ms: u64,
    /// When Kestrel received it.
    pub received: ReceiveTime,
    /// Changed bid levels.
    pub bids: WireLevels<'a>,
    /// Changed ask levels.
    pub asks: WireLevels<'a>,
}

impl<'a> WireDepthUpdate<'a> {
    /// The update as a [`DepthUpdate`], its levels copied into `scratch`.
    pub fn to_event<'s>(&self, scratch: &'s mut LevelScratch) -> DepthUpdate<'s>
    where
        'a: 's,
    {
        let (bids, asks) = scratch.fill(&self.bids, &self.asks);
        DepthUpdate {
            symbol: self.symbol,
            first_update_id: self.first_update_id,
            final_update_id: self.final_update_id,
            prev_final_update_id: self.prev_final_update_id,
            event_time_ms: self.event_time_ms,
            transaction_time_ms: self.transaction_time_ms,
            received: self.received,
            bids,
            asks,
        }
    }
}

/// A decoded top-N snapshot (see [`BookSnapshot`] for the fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireBookSnapshot<'a> {
    /// The venue symbol.
    pub symbol: &'a str,
    /// The update id the levels reflect.
    pub last_update_id: u64,
    /// `E`: venue send time, milliseconds since the epoch.
    pub event_time_ms: u64,
    /// `T`: matching-engine time, milliseconds since the epoch.
    pub transaction_time_ms: u64,
    /// When Kestrel received (or took) it.
    pub received: ReceiveTime,
    /// Bid levels, best first.
    pub bids: WireLevels<'a>,
    /// Ask levels, best first.
    pub asks: WireLevels<'a>,
}

impl<'a> WireBookSnapshot<'a> {
    /// The snapshot as a [`BookSnapshot`], its levels copied into `scratch`.
    pub fn to_event<'s>(&self, scratch: &'s mut LevelScratch) -> BookSnapshot<'s>
    where
        'a: 's,
    {
        let (bids, asks) = scratch.fill(&self.bids, &self.asks);
        BookSnapshot {
            symbol: self.symbol,
            last_update_id: self.last_update_id,
            event_time_ms: self.event_time_ms,
            transaction_time_ms: self.transaction_time_ms,
            received: self.received,
            bids,
            asks,
        }
    }
}

/// A decoded message, borrowing the buffer it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireEvent<'a> {
    /// A depth update.
    Depth(WireDepthUpdate<'a>),
    /// A best bid/ask update.
    BookTicker(BookTicker<'a>),
    /// A public trade.
    Trade(TradeEvent<'a>),
    /// A top-N snapshot.
    Snapshot(WireBookSnapshot<'a>),
}

impl<'a> WireEvent<'a> {
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

    /// The venue symbol.
    #[must_use]
    pub const fn symbol(&self) -> &'a str {
        match self {
            Self::Depth(e) => e.symbol,
            Self::BookTicker(e) => e.symbol,
            Self::Trade(e) => e.symbol,
            Self::Snapshot(e) => e.symbol,
        }
    }

    /// The event as a [`MarketEvent`], any levels copied into `scratch`.
    pub fn to_event<'s>(&self, scratch: &'s mut LevelScratch) -> MarketEvent<'s>
    where
        'a: 's,
    {
        match self {
            Self::Depth(e) => MarketEvent::Depth(e.to_event(scratch)),
            Self::BookTicker(e) => MarketEvent::BookTicker(*e),
            Self::Trade(e) => MarketEvent::Trade(*e),
            Self::Snapshot(e) => MarketEvent::Snapshot(e.to_event(scratch)),
        }
    }

    /// Copies the event into the model's owned form.
    #[must_use]
    pub fn into_owned(self) -> OwnedMarketEvent {
        self.to_event(&mut LevelScratch::default()).into_owned()
    }
}
