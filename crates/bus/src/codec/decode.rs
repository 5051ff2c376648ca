//! Decoding: every field is bounds-checked and validated, so the returned views are
//! infallible to read and no input can make the decoder panic.

use kestrel_model::book::Level;
use kestrel_model::event::{BookTicker, EventKind, ReceiveTime, TradeEvent};
use kestrel_model::{Price, Qty};

use super::view::{WireBookSnapshot, WireDepthUpdate, WireEvent, WireLevels};
use super::{
    DecodeError, FLAG_BUYER_IS_MAKER, FLAG_HAS_PREV, HEADER_LEN, LEVEL_LEN, VERSION, allowed_flags,
    kind_from_code, value_problem,
};
use crate::symbol::Symbol;

/// A message's header, readable without decoding the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The event kind.
    pub kind: EventKind,
    /// The flag bits (already checked against the kind).
    pub flags: u16,
    /// The total message length in bytes, header included.
    pub len: usize,
}

/// Reads and checks the header at the start of `bytes`; the message may continue past them.
///
/// # Errors
/// [`DecodeError::Truncated`], [`DecodeError::UnsupportedVersion`],
/// [`DecodeError::UnknownKind`], [`DecodeError::BadFlags`] or [`DecodeError::BadLength`] (a
/// declared length shorter than the header).
pub fn peek_header(bytes: &[u8]) -> Result<Header, DecodeError> {
    let mut cursor = Cursor::new(bytes);
    let [version, code, f0, f1, l0, l1, l2, l3] = cursor.array::<HEADER_LEN>()?;
    if version != VERSION {
        return Err(DecodeError::UnsupportedVersion { found: version });
    }
    let kind = kind_from_code(code).ok_or(DecodeError::UnknownKind { found: code })?;
    let flags = u16::from_le_bytes([f0, f1]);
    if flags & !allowed_flags(kind) != 0 {
        return Err(DecodeError::BadFlags { kind, found: flags });
    }
    let declared = u32::from_le_bytes([l0, l1, l2, l3]);
    let len = usize::try_from(declared).unwrap_or(usize::MAX);
    if len < HEADER_LEN {
        return Err(DecodeError::BadLength {
            declared,
            expected: "at least the 8-byte header",
            available: bytes.len(),
        });
    }
    Ok(Header { kind, flags, len })
}

/// Decodes exactly one message: `bytes` must be the whole message and nothing more.
///
/// # Errors
/// [`DecodeError`] for any malformed input.
pub fn decode(bytes: &[u8]) -> Result<WireEvent<'_>, DecodeError> {
    let header = peek_header(bytes)?;
    if header.len != bytes.len() {
        return Err(bad_length(header, "equal to the bytes given", bytes.len()));
    }
    decode_body(header, bytes)
}

/// Decodes the first message of a stream and returns it with its length in bytes.
///
/// # Errors
/// [`DecodeError`] for any malformed input, [`DecodeError::BadLength`] when the declared
/// length runs past the end of `bytes`.
pub fn decode_prefix(bytes: &[u8]) -> Result<(WireEvent<'_>, usize), DecodeError> {
    let header = peek_header(bytes)?;
    let Some(message) = bytes.get(..header.len) else {
        return Err(bad_length(header, "within the bytes given", bytes.len()));
    };
    decode_body(header, message).map(|event| (event, header.len))
}

fn bad_length(header: Header, expected: &'static str, available: usize) -> DecodeError {
    DecodeError::BadLength {
        declared: u32::try_from(header.len).unwrap_or(u32::MAX),
        expected,
        available,
    }
}

/// Decodes the body of `message`, whose header has been checked and whose length is exact.
fn decode_body(header: Header, message: &[u8]) -> Result<WireEvent<'_>, DecodeError> {
    let mut cursor = Cursor::new(message);
    cursor.pos = HEADER_LEN;
    let symbol = cursor.symbol()?;
    let event = match header.kind {
        EventKind::Depth => WireEvent::Depth(depth(&mut cursor, symbol, header.flags)?),
        EventKind::BookTicker => WireEvent::BookTicker(ticker(&mut cursor, symbol)?),
        EventKind::Trade => WireEvent::Trade(trade(&mut cursor, symbol, header.flags)?),
        EventKind::Snapshot => WireEvent::Snapshot(snapshot(&mut cursor, symbol)?),
    };
    let extra = message.len().saturating_sub(cursor.pos);
    if extra != 0 {
        let (kind, offset) = (header.kind, cursor.pos);
        return Err(DecodeError::TrailingBytes {
            kind,
            offset,
            extra,
        });
    }
    Ok(event)
}

/// The times every kind carries after its ids, in layout order.
struct Times {
    first_ms: u64,
    second_ms: u64,
    received: ReceiveTime,
}

fn depth<'a>(
    c: &mut Cursor<'a>,
    symbol: &'a str,
    flags: u16,
) -> Result<WireDepthUpdate<'a>, DecodeError> {
    let first_update_id = c.u64()?;
    let final_update_id = c.u64()?;
    let prev = c.u64()?;
    let times = c.times()?;
    let (bids, asks) = c.levels()?;
    Ok(WireDepthUpdate {
        symbol,
        first_update_id,
        final_update_id,
        prev_final_update_id: (flags & FLAG_HAS_PREV != 0).then_some(prev),
        event_time_ms: times.first_ms,
        transaction_time_ms: times.second_ms,
        received: times.received,
        bids,
        asks,
    })
}

fn ticker<'a>(c: &mut Cursor<'a>, symbol: &'a str) -> Result<BookTicker<'a>, DecodeError> {
    let update_id = c.u64()?;
    let times = c.times()?;
    let bid = c.level("bid price", "bid qty")?;
    let ask = c.level("ask price", "ask qty")?;
    Ok(BookTicker {
        symbol,
        update_id,
        event_time_ms: times.first_ms,
        transaction_time_ms: times.second_ms,
        received: times.received,
        bid,
        ask,
    })
}

fn trade<'a>(
    c: &mut Cursor<'a>,
    symbol: &'a str,
    flags: u16,
) -> Result<TradeEvent<'a>, DecodeError> {
    let trade_id = c.u64()?;
    let price = c.value("price", false)?;
    let qty = c.value("qty", true)?;
    let times = c.times()?;
    Ok(TradeEvent {
        symbol,
        trade_id,
        price: Price::from_raw(price),
        qty: Qty::from_raw(qty),
        trade_time_ms: times.first_ms,
        event_time_ms: times.second_ms,
        buyer_is_maker: flags & FLAG_BUYER_IS_MAKER != 0,
        received: times.received,
    })
}

fn snapshot<'a>(c: &mut Cursor<'a>, symbol: &'a str) -> Result<WireBookSnapshot<'a>, DecodeError> {
    let last_update_id = c.u64()?;
    let times = c.times()?;
    let (bids, asks) = c.levels()?;
    Ok(WireBookSnapshot {
        symbol,
        last_update_id,
        event_time_ms: times.first_ms,
        transaction_time_ms: times.second_ms,
        received: times.received,
        bids,
        asks,
    })
}

/// A read position in one message.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    const fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn take(&mut self, needed: usize) -> Result<&'a [u8], DecodeError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let Some(taken) = rest.get(..needed) else {
            let (offset, available) = (self.pos, rest.len());
            return Err(DecodeError::Truncated {
                offset,
                needed,
                available,
            });
        };
        self.pos += needed;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let taken = self.take(N)?;
        let mut out = [0; N];
        out.copy_from_slice(taken);
        Ok(out)
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array::<8>().map(u64::from_le_bytes)
    }

    fn value(&mut self, field: &'static str, is_qty: bool) -> Result<i64, DecodeError> {
        let offset = self.pos;
        let raw = self.array::<8>().map(i64::from_le_bytes)?;
        match value_problem(raw, is_qty) {
            None => Ok(raw),
            Some(reason) => Err(DecodeError::BadValue {
                field,
                offset,
                raw,
                reason,
            }),
        }
    }

    fn level(&mut self, price: &'static str, qty: &'static str) -> Result<Level, DecodeError> {
        let price = Price::from_raw(self.value(price, false)?);
        let qty = Qty::from_raw(self.value(qty, true)?);
        Ok(Level::new(price, qty))
    }

    fn times(&mut self) -> Result<Times, DecodeError> {
        Ok(Times {
            first_ms: self.u64()?,
            second_ms: self.u64()?,
            received: ReceiveTime::new(self.u64()?, self.u64()?),
        })
    }

    fn symbol(&mut self) -> Result<&'a str, DecodeError> {
        let offset = self.pos;
        let [len] = self.array::<1>()?;
        let bytes = self.take(usize::from(len))?;
        std::str::from_utf8(bytes)
            .ok()
            .filter(|s| Symbol::is_valid(s))
            .ok_or(DecodeError::BadSymbol { offset })
    }

    /// Reads the two level counts and the levels, checking every value.
    fn levels(&mut self) -> Result<(WireLevels<'a>, WireLevels<'a>), DecodeError> {
        let bid_count = usize::from(self.array::<2>().map(u16::from_le_bytes)?);
        let ask_count = usize::from(self.array::<2>().map(u16::from_le_bytes)?);
        let bids = self.side(bid_count, "bid price", "bid qty")?;
        let asks = self.side(ask_count, "ask price", "ask qty")?;
        Ok((bids, asks))
    }

    /// Takes `count` levels and checks their values; the first bad one is re-read field by
    /// field for a precise error.
    fn side(
        &mut self,
        count: usize,
        price: &'static str,
        qty: &'static str,
    ) -> Result<WireLevels<'a>, DecodeError> {
        let start = self.pos;
        let levels = WireLevels::from_whole(self.take(count * LEVEL_LEN)?);
        let is_bad = |l: Level| l.price.raw() == i64::MIN || l.qty.raw() < 0;
        if let Some(index) = levels.iter().position(is_bad) {
            let mut check = Cursor::new(self.bytes);
            check.pos = start + index * LEVEL_LEN;
            check.level(price, qty)?;
        }
        Ok(levels)
    }
}
