//! Encoding: [`encode`] appends to a `Vec<u8>`, [`encode_to_slice`] fills a `&mut [u8]`.
//! Neither allocates when the destination is large enough.

use kestrel_model::book::{BookSide, Level};
use kestrel_model::event::{
    BookSnapshot, BookTicker, DepthUpdate, EventKind, MarketEvent, ReceiveTime, TradeEvent,
};

use super::{
    EncodeError, FLAG_BUYER_IS_MAKER, FLAG_HAS_PREV, HEADER_LEN, LEVEL_LEN, MAX_LEVELS_PER_SIDE,
    VERSION, fixed_body_len, kind_code, value_problem,
};
use crate::symbol::Symbol;

/// The number of bytes `event` encodes to.
#[must_use]
pub fn encoded_len(event: &MarketEvent<'_>) -> usize {
    let levels = match event {
        MarketEvent::Depth(d) => d.bids.len() + d.asks.len(),
        MarketEvent::Snapshot(s) => s.bids.len() + s.asks.len(),
        MarketEvent::BookTicker(_) | MarketEvent::Trade(_) => 0,
    };
    HEADER_LEN + 1 + event.symbol().len() + fixed_body_len(event.kind()) + levels * LEVEL_LEN
}

/// Appends the encoding of `event` to `out` and returns its length; allocates only when `out`
/// lacks the capacity.
///
/// # Errors
/// [`EncodeError`] when the event breaks a codec rule; `out` is then unchanged.
pub fn encode(event: &MarketEvent<'_>, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
    let len = check(event)?;
    out.reserve(len);
    write_event(event, len, out);
    Ok(len)
}

/// Writes the encoding of `event` at the start of `out` and returns its length.
///
/// # Errors
/// [`EncodeError::BufferTooSmall`] when `out` is too short, or another [`EncodeError`] when
/// the event breaks a codec rule.
pub fn encode_to_slice(event: &MarketEvent<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    let len = check(event)?;
    let available = out.len();
    let Some(dst) = out.get_mut(..len) else {
        return Err(EncodeError::BufferTooSmall {
            needed: len,
            available,
        });
    };
    let mut sink = SliceSink { buf: dst, pos: 0 };
    write_event(event, len, &mut sink);
    debug_assert_eq!(sink.pos, len, "encoded_len disagrees with the writer");
    Ok(len)
}

/// Checks every codec rule and returns the encoded length.
fn check(event: &MarketEvent<'_>) -> Result<usize, EncodeError> {
    if !Symbol::is_valid(event.symbol()) {
        return Err(EncodeError::BadSymbol {
            symbol: event.symbol().chars().take(64).collect(),
        });
    }
    match event {
        MarketEvent::Depth(d) => check_levels(d.bids, d.asks)?,
        MarketEvent::Snapshot(s) => check_levels(s.bids, s.asks)?,
        MarketEvent::BookTicker(t) => {
            check_level(&t.bid, "bid price", "bid qty")?;
            check_level(&t.ask, "ask price", "ask qty")?;
        }
        MarketEvent::Trade(t) => {
            check_value(t.price.raw(), false, "price")?;
            check_value(t.qty.raw(), true, "qty")?;
        }
    }
    Ok(encoded_len(event))
}

fn check_levels(bids: &[Level], asks: &[Level]) -> Result<(), EncodeError> {
    for (side, levels) in [(BookSide::Bid, bids), (BookSide::Ask, asks)] {
        if levels.len() > MAX_LEVELS_PER_SIDE {
            let count = levels.len();
            return Err(EncodeError::TooManyLevels { side, count });
        }
        let (price, qty) = match side {
            BookSide::Bid => ("bid price", "bid qty"),
            BookSide::Ask => ("ask price", "ask qty"),
        };
        for level in levels {
            check_level(level, price, qty)?;
        }
    }
    Ok(())
}

fn check_level(level: &Level, price: &'static str, qty: &'static str) -> Result<(), EncodeError> {
    check_value(level.price.raw(), false, price)?;
    check_value(level.qty.raw(), true, qty)
}

fn check_value(raw: i64, is_qty: bool, field: &'static str) -> Result<(), EncodeError> {
    match value_problem(raw, is_qty) {
        None => Ok(()),
        Some(reason) => Err(EncodeError::BadValue { field, raw, reason }),
    }
}

/// Where encoded bytes go.
trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A slice already checked to be exactly the message's length.
struct SliceSink<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Sink for SliceSink<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.pos..end) {
            dst.copy_from_slice(bytes);
            self.pos = end;
        }
    }
}

/// Writes a checked event of encoded length `len`.
fn write_event<S: Sink>(event: &MarketEvent<'_>, len: usize, sink: &mut S) {
    let kind = event.kind();
    let flags = match event {
        MarketEvent::Depth(d) if d.prev_final_update_id.is_some() => FLAG_HAS_PREV,
        MarketEvent::Trade(t) if t.buyer_is_maker => FLAG_BUYER_IS_MAKER,
        _ => 0,
    };
    write_header(sink, kind, flags, len);
    let symbol = event.symbol().as_bytes();
    // The symbol rule bounds the length by 32.
    sink.put(&[symbol.len() as u8]);
    sink.put(symbol);
    match event {
        MarketEvent::Depth(d) => write_depth(sink, d),
        MarketEvent::BookTicker(t) => write_ticker(sink, t),
        MarketEvent::Trade(t) => write_trade(sink, t),
        MarketEvent::Snapshot(s) => write_snapshot(sink, s),
    }
}

fn write_header<S: Sink>(sink: &mut S, kind: EventKind, flags: u16, len: usize) {
    let [f0, f1] = flags.to_le_bytes();
    // Checked levels bound a message far below 4 GiB (2 × 65,535 levels × 16 bytes).
    let [l0, l1, l2, l3] = (len as u32).to_le_bytes();
    sink.put(&[VERSION, kind_code(kind), f0, f1, l0, l1, l2, l3]);
}

fn put_u64<S: Sink>(sink: &mut S, value: u64) {
    sink.put(&value.to_le_bytes());
}

fn put_times<S: Sink>(sink: &mut S, first_ms: u64, second_ms: u64, received: ReceiveTime) {
    put_u64(sink, first_ms);
    put_u64(sink, second_ms);
    put_u64(sink, received.monotonic_ns);
    put_u64(sink, received.wall_ns);
}

fn put_level<S: Sink>(sink: &mut S, level: &Level) {
    let mut bytes = [0; LEVEL_LEN];
    let (price, qty) = bytes.split_at_mut(8);
    price.copy_from_slice(&level.price.raw().to_le_bytes());
    qty.copy_from_slice(&level.qty.raw().to_le_bytes());
    sink.put(&bytes);
}

fn put_levels<S: Sink>(sink: &mut S, bids: &[Level], asks: &[Level]) {
    // Checked against MAX_LEVELS_PER_SIDE (u16::MAX).
    sink.put(&(bids.len() as u16).to_le_bytes());
    sink.put(&(asks.len() as u16).to_le_bytes());
    for level in bids.iter().chain(asks) {
        put_level(sink, level);
    }
}

fn write_depth<S: Sink>(sink: &mut S, d: &DepthUpdate<'_>) {
    put_u64(sink, d.first_update_id);
    put_u64(sink, d.final_update_id);
    put_u64(sink, d.prev_final_update_id.unwrap_or(0));
    put_times(sink, d.event_time_ms, d.transaction_time_ms, d.received);
    put_levels(sink, d.bids, d.asks);
}

fn write_ticker<S: Sink>(sink: &mut S, t: &BookTicker<'_>) {
    put_u64(sink, t.update_id);
    put_times(sink, t.event_time_ms, t.transaction_time_ms, t.received);
    put_level(sink, &t.bid);
    put_level(sink, &t.ask);
}

fn write_trade<S: Sink>(sink: &mut S, t: &TradeEvent<'_>) {
    put_u64(sink, t.trade_id);
    sink.put(&t.price.raw().to_le_bytes());
    sink.put(&t.qty.raw().to_le_bytes());
    put_times(sink, t.trade_time_ms, t.event_time_ms, t.received);
}

fn write_snapshot<S: Sink>(sink: &mut S, s: &BookSnapshot<'_>) {
    put_u64(sink, s.last_update_id);
    put_times(sink, s.event_time_ms, s.transaction_time_ms, s.received);
    put_levels(sink, s.bids, s.asks);
}
