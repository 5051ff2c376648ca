//! Recordings of exchange market data: the line format, a streaming reader and a writer.
//! The simulator replays them (`kestrel_sim::market::recording`), the market-data recorder writes
//! them, and backtests read them.
//!
//! # Format
//!
//! One message per line: `<receive time, ns since the Unix epoch> <raw JSON>`, the JSON
//! exactly as the exchange sent it. A file may be gzip-compressed (recognised by the gzip magic
//! bytes `1f 8b`, whatever its name; concatenated gzip members are read as one stream). Stream
//! messages are combined-stream envelopes `{"stream":"btcusdt@depth@0ms","data":{...}}` or bare
//! events (classified by their `e`); a REST depth snapshot (`{"lastUpdateId":...}`) may appear
//! anywhere, typically once near the start. This is the format of the hftbacktest recordings
//! (`shared/vectors/binance-usdm/`), so real captures replay unchanged.
//!
//! # Pieces
//!
//! - [`RecordingReader`]: reads one line at a time (never the whole file) and yields
//!   [`RecordedMessage`]s; malformed lines are counted by [`LineErrorKind`] in its
//!   [`ReaderStats`] and skipped, never fatal.
//! - [`RecordingWriter`]: writes the same format, plain or gzip, for Kestrel's recorder and for
//!   tests.

mod envelope;
mod reader;
mod writer;

pub use reader::{LineError, ReaderStats, RecordingReader};
pub use writer::{Compression, RecordingWriter};

use std::fmt;

/// What a recorded message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    /// A REST depth snapshot (`lastUpdateId`, `bids`, `asks`).
    Snapshot,
    /// A diff-depth event (`depthUpdate` on `<symbol>@depth[@speed]`, §6.2).
    DepthDiff,
    /// A partial-depth event (`<symbol>@depth5|10|20`, §6.3): a top-N snapshot, not a diff.
    PartialDepth,
    /// A trade (`trade`, §6.5).
    Trade,
    /// An aggregate trade (`aggTrade`, §6.4).
    AggTrade,
    /// A best bid/ask update (`bookTicker`, §6.6).
    BookTicker,
    /// A mark-price update (`markPriceUpdate`, §6.7).
    MarkPrice,
    /// A candlestick (`kline`, §6.8).
    Kline,
    /// Anything else (other events, subscription replies, arrays).
    Other,
}

impl MessageKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 9] = [
        Self::Snapshot,
        Self::DepthDiff,
        Self::PartialDepth,
        Self::Trade,
        Self::AggTrade,
        Self::BookTicker,
        Self::MarkPrice,
        Self::Kline,
        Self::Other,
    ];

    /// A short name for logs and reports.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot",
            Self::DepthDiff => "depth_diff",
            Self::PartialDepth => "partial_depth",
            Self::Trade => "trade",
            Self::AggTrade => "agg_trade",
            Self::BookTicker => "book_ticker",
            Self::MarkPrice => "mark_price",
            Self::Kline => "kline",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a line of a recording was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineErrorKind {
    /// No space separating the receive time from the JSON.
    MissingSeparator,
    /// The receive time is not a whole number of nanoseconds (`u64`).
    BadTimestamp,
    /// The line is not UTF-8.
    InvalidUtf8,
    /// The JSON is not well formed.
    InvalidJson,
    /// The JSON is well formed but not an object.
    NotAnObject,
    /// An envelope whose `stream` is not a string.
    BadEnvelope,
    /// The line is longer than the reader's limit.
    TooLong,
}

impl LineErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 7] = [
        Self::MissingSeparator,
        Self::BadTimestamp,
        Self::InvalidUtf8,
        Self::InvalidJson,
        Self::NotAnObject,
        Self::BadEnvelope,
        Self::TooLong,
    ];

    /// What the line should have been, for messages.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingSeparator => "expected `<receive ns> <json>`, found no space",
            Self::BadTimestamp => "the receive time must be whole nanoseconds (u64)",
            Self::InvalidUtf8 => "the line is not UTF-8",
            Self::InvalidJson => "invalid JSON",
            Self::NotAnObject => "the JSON must be an object",
            Self::BadEnvelope => "a combined-stream envelope needs a string `stream`",
            Self::TooLong => "the line exceeds the reader's length limit",
        }
    }
}

impl fmt::Display for LineErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message of a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedMessage {
    /// When it was received, in nanoseconds since the Unix epoch.
    pub recv_ns: u64,
    /// What it is.
    pub kind: MessageKind,
    /// The combined-stream name (`btcusdt@depth@0ms`), when it came in an envelope.
    pub stream: Option<String>,
    /// The symbol (`BTCUSDT`) from the event's `s` or the stream name; `None` for a REST
    /// snapshot, which does not name its symbol.
    pub symbol: Option<String>,
    /// The data JSON exactly as recorded (the envelope's `data`), to re-serve verbatim.
    pub raw: String,
}

/// A recording could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The underlying file or stream failed.
    #[error("recording {source_name}: {error}")]
    Io {
        /// The file path, or a description of the stream.
        source_name: String,
        /// What failed.
        #[source]
        error: std::io::Error,
    },
    /// A line to write would not be one line.
    #[error("recording: the JSON to write for receive time {recv_ns} contains a line break")]
    LineBreakInJson {
        /// The receive time of the offending message.
        recv_ns: u64,
    },
}
