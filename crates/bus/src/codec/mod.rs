//! The binary codec for market events (seed 000 FR-MD-005 step 1, "binary preferred").
//!
//! One message is one event of [`kestrel_model::event`], laid out little-endian with
//! fixed-width integers. Prices and quantities travel as their raw `i64` fixed-point values
//! (`value × 10⁸`), so the encoding is exact.
//!
//! # Layout, version 1
//!
//! Header, 8 bytes:
//!
//! | offset | type | field |
//! |---|---|---|
//! | 0 | `u8` | layout version, [`VERSION`] |
//! | 1 | `u8` | kind: 1 depth update, 2 book ticker, 3 trade, 4 book snapshot |
//! | 2 | `u16` | flags: bit 0 depth has `prev_final_update_id`; bit 1 trade `buyer_is_maker` |
//! | 4 | `u32` | total message length in bytes, header included |
//!
//! Then the symbol: a `u8` length `n` (1 to 32) and `n` ASCII bytes (the [`crate::Symbol`] rule).
//! Then the kind's fixed fields, each a `u64` (ids, times) or an `i64` (raw price or qty):
//!
//! | kind | fields, in order |
//! |---|---|
//! | depth | first id, final id, prev final id (0 when flag clear), event ms, transaction ms, receive monotonic ns, receive wall ns, `u16` bid count, `u16` ask count |
//! | book ticker | update id, event ms, transaction ms, receive monotonic ns, receive wall ns, bid price, bid qty, ask price, ask qty |
//! | trade | trade id, price, qty, trade ms, event ms, receive monotonic ns, receive wall ns |
//! | snapshot | last update id, event ms, transaction ms, receive monotonic ns, receive wall ns, `u16` bid count, `u16` ask count |
//!
//! Depth updates and snapshots end with their levels, bids then asks, 16 bytes each: `i64`
//! price, `i64` qty. A 34-level depth update of `BTCUSDT` is 8 + 8 + 60 + 34 × 16 = 620 bytes.
//!
//! # Rules
//!
//! - Quantities are never negative and no raw value is `i64::MIN` (outside `Price`/`Qty`'s
//!   range); flags not defined for the kind are refused. Encoding refuses what decoding would.
//! - Decoding never panics: malformed bytes give a [`DecodeError`] with a [`DecodeErrorKind`].
//! - A decoded event borrows the buffer (symbol, levels); see [`WireEvent`].
//! - A change of layout bumps [`VERSION`]; a decoder refuses versions it does not know.

mod decode;
mod encode;
mod view;

pub use decode::{Header, decode, decode_prefix, peek_header};
pub use encode::{encode, encode_to_slice, encoded_len};
pub use view::{LevelScratch, WireBookSnapshot, WireDepthUpdate, WireEvent, WireLevels};

use kestrel_model::book::BookSide;
use kestrel_model::event::EventKind;

/// The layout version this build writes and reads.
pub const VERSION: u8 = 1;
/// Length of the fixed header in bytes.
pub const HEADER_LEN: usize = 8;
/// Length of one encoded level in bytes.
pub const LEVEL_LEN: usize = 16;
/// The most levels one side of a message can carry (the count is a `u16`).
pub const MAX_LEVELS_PER_SIDE: usize = u16::MAX as usize;

/// Flag bit: a depth update carries `prev_final_update_id`.
const FLAG_HAS_PREV: u16 = 1;
/// Flag bit: a trade's buyer was the maker.
const FLAG_BUYER_IS_MAKER: u16 = 1 << 1;

/// Fixed body bytes after the symbol, per kind (see the layout table).
const fn fixed_body_len(kind: EventKind) -> usize {
    match kind {
        EventKind::Depth => 7 * 8 + 4,
        EventKind::BookTicker => 9 * 8,
        EventKind::Trade => 7 * 8,
        EventKind::Snapshot => 5 * 8 + 4,
    }
}

/// The flag bits a kind may carry.
const fn allowed_flags(kind: EventKind) -> u16 {
    match kind {
        EventKind::Depth => FLAG_HAS_PREV,
        EventKind::Trade => FLAG_BUYER_IS_MAKER,
        EventKind::BookTicker | EventKind::Snapshot => 0,
    }
}

/// The kind's code in the header.
const fn kind_code(kind: EventKind) -> u8 {
    match kind {
        EventKind::Depth => 1,
        EventKind::BookTicker => 2,
        EventKind::Trade => 3,
        EventKind::Snapshot => 4,
    }
}

/// The kind a header code names.
const fn kind_from_code(code: u8) -> Option<EventKind> {
    match code {
        1 => Some(EventKind::Depth),
        2 => Some(EventKind::BookTicker),
        3 => Some(EventKind::Trade),
        4 => Some(EventKind::Snapshot),
        _ => None,
    }
}

/// Why an event cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The symbol breaks the symbol rule.
    #[error(
        "cannot encode symbol {symbol:?}: expected 1 to 32 upper-case ASCII letters and digits"
    )]
    BadSymbol {
        /// The symbol (cut to 64 characters).
        symbol: String,
    },
    /// One side has more levels than the `u16` count holds.
    #[error("cannot encode {count} {side} levels: at most {MAX_LEVELS_PER_SIDE} per side")]
    TooManyLevels {
        /// The side.
        side: BookSide,
        /// How many levels it has.
        count: usize,
    },
    /// A price or quantity is out of the codec's range.
    #[error("cannot encode {field} with raw value {raw}: {reason}")]
    BadValue {
        /// Which field (`bid qty`, `price`, ...).
        field: &'static str,
        /// The raw fixed-point value.
        raw: i64,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The output slice is too short.
    #[error("output buffer too small: the message needs {needed} bytes, {available} available")]
    BufferTooSmall {
        /// Bytes the message takes.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
}

/// Why bytes are not a valid message; [`DecodeError::kind`] gives the class for counting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes end before the message does.
    #[error("truncated message: {needed} bytes needed at offset {offset}, {available} available")]
    Truncated {
        /// Where the missing field starts.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left from `offset`.
        available: usize,
    },
    /// The layout version is not one this build reads.
    #[error("unsupported codec version {found} (this build reads version {VERSION})")]
    UnsupportedVersion {
        /// The version byte found.
        found: u8,
    },
    /// The kind code names no event.
    #[error("unknown event kind code {found} (expected 1 to 4)")]
    UnknownKind {
        /// The code found.
        found: u8,
    },
    /// The header's length disagrees with the bytes given.
    #[error("bad length field {declared}: {expected}, {available} bytes given")]
    BadLength {
        /// The length the header declares.
        declared: u32,
        /// What it had to be.
        expected: &'static str,
        /// Bytes available.
        available: usize,
    },
    /// Flag bits not defined for the kind are set.
    #[error("flags {found:#06x} are not valid for a {kind} message")]
    BadFlags {
        /// The message kind.
        kind: EventKind,
        /// The flags found.
        found: u16,
    },
    /// The symbol breaks the symbol rule.
    #[error(
        "invalid symbol at offset {offset}: expected 1 to 32 upper-case ASCII letters and digits"
    )]
    BadSymbol {
        /// Where the symbol's length byte is.
        offset: usize,
    },
    /// A price or quantity is out of range.
    #[error("invalid {field} at offset {offset}: raw value {raw} ({reason})")]
    BadValue {
        /// Which field.
        field: &'static str,
        /// Where it is.
        offset: usize,
        /// The raw value found.
        raw: i64,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The declared length leaves bytes the kind's layout does not account for.
    #[error("{extra} unexpected bytes after the {kind} body at offset {offset}")]
    TrailingBytes {
        /// The message kind.
        kind: EventKind,
        /// Where the extra bytes start.
        offset: usize,
        /// How many there are.
        extra: usize,
    },
}

/// The class of a [`DecodeError`], for counters and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeErrorKind {
    /// [`DecodeError::Truncated`].
    Truncated,
    /// [`DecodeError::UnsupportedVersion`].
    UnsupportedVersion,
    /// [`DecodeError::UnknownKind`].
    UnknownKind,
    /// [`DecodeError::BadLength`].
    BadLength,
    /// [`DecodeError::BadFlags`].
    BadFlags,
    /// [`DecodeError::BadSymbol`].
    BadSymbol,
    /// [`DecodeError::BadValue`].
    BadValue,
    /// [`DecodeError::TrailingBytes`].
    TrailingBytes,
}

impl DecodeError {
    /// The error's class.
    #[must_use]
    pub const fn kind(&self) -> DecodeErrorKind {
        match self {
            Self::Truncated { .. } => DecodeErrorKind::Truncated,
            Self::UnsupportedVersion { .. } => DecodeErrorKind::UnsupportedVersion,
            Self::UnknownKind { .. } => DecodeErrorKind::UnknownKind,
            Self::BadLength { .. } => DecodeErrorKind::BadLength,
            Self::BadFlags { .. } => DecodeErrorKind::BadFlags,
            Self::BadSymbol { .. } => DecodeErrorKind::BadSymbol,
            Self::BadValue { .. } => DecodeErrorKind::BadValue,
            Self::TrailingBytes { .. } => DecodeErrorKind::TrailingBytes,
        }
    }
}

/// The range rule for a raw value: `None` when it holds, else why not.
const fn value_problem(raw: i64, is_qty: bool) -> Option<&'static str> {
    if raw == i64::MIN {
        Some("outside the fixed-point range")
    } else if is_qty && raw < 0 {
        Some("a quantity cannot be negative")
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
