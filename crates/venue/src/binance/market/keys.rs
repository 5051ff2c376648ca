//! [`Key`]: the object keys the parser knows, across every message it reads
//! (`binance-futures.md` §6 for the streams, §3.2 for the REST snapshot, §1.3 and §5.1 for
//! replies and errors). A key is matched once, as it is read, into this small enum.

use std::fmt;

use serde::de::{Deserializer, Visitor};

use super::record::LevelList;

/// The keys the parser recognises. Those up to [`Key::Msg`] have a slot in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Key {
    /// `e`: event type.
    EventType,
    /// `E`: event time.
    EventTime,
    /// `T`: transaction / trade time, or next funding time.
    TxTime,
    /// `s`: symbol.
    Symbol,
    /// `U`: first update id.
    FirstId,
    /// `u`: final update id.
    FinalId,
    /// `pu`: previous final update id.
    PrevFinalId,
    /// `b`: bid levels, or best bid price.
    LowerB,
    /// `a`: ask levels, best ask price, or aggregate trade id.
    LowerA,
    /// `B`: best bid qty.
    UpperB,
    /// `A`: best ask qty.
    UpperA,
    /// `t`: trade id.
    TradeId,
    /// `p`: price.
    Price,
    /// `q`: quantity.
    Qty,
    /// `m`: buyer is maker.
    BuyerIsMaker,
    /// `X`: trade type.
    TradeType,
    /// `f`: first trade id.
    FirstTradeId,
    /// `l`: last trade id.
    LastTradeId,
    /// `nq`: quantity without RPI fills.
    NonRpiQty,
    /// `i`: index price.
    IndexPrice,
    /// `P`: estimated settle price.
    SettlePrice,
    /// `r`: funding rate.
    FundingRate,
    /// `ap`: mark-price moving average.
    MarkPriceAvg,
    /// `lastUpdateId` (REST snapshot).
    LastUpdateId,
    /// `bids` (REST snapshot).
    Bids,
    /// `asks` (REST snapshot).
    Asks,
    /// `stream` (combined-stream envelope).
    Stream,
    /// `id` (control reply).
    Id,
    /// `result` (control reply).
    Result,
    /// `code` (error object).
    Code,
    /// `msg` (error object; kept apart as it may need unescaping).
    Msg,
    /// `data` (combined-stream envelope).
    Data,
    /// `error` (nested error object).
    Error,
    /// Anything else: skipped.
    Unknown,
}

/// Number of keys with a slot in the parser's record (at most 64: one bit each in its mask).
pub(super) const STORED: usize = Key::Msg as usize + 1;

impl Key {
    /// The JSON key, for error messages.
    pub(super) const fn name(self) -> &'static str {
        match self {
            Self::EventType => "e",
            Self::EventTime => "E",
            Self::TxTime => "T",
            Self::Symbol => "s",
            Self::FirstId => "U",
            Self::FinalId => "u",
            Self::PrevFinalId => "pu",
            Self::LowerB => "b",
            Self::LowerA => "a",
            Self::UpperB => "B",
            Self::UpperA => "A",
            Self::TradeId => "t",
            Self::Price => "p",
            Self::Qty => "q",
            Self::BuyerIsMaker => "m",
            Self::TradeType => "X",
            Self::FirstTradeId => "f",
            Self::LastTradeId => "l",
            Self::NonRpiQty => "nq",
            Self::IndexPrice => "i",
            Self::SettlePrice => "P",
            Self::FundingRate => "r",
            Self::MarkPriceAvg => "ap",
            Self::LastUpdateId => "lastUpdateId",
            Self::Bids => "bids",
            Self::Asks => "asks",
            Self::Stream => "stream",
            Self::Id => "id",
            Self::Result => "result",
            Self::Code => "code",
            Self::Msg => "msg",
            Self::Data => "data",
            Self::Error => "error",
            Self::Unknown => "?",
        }
    }

    #[inline]
    pub(super) fn from_name(name: &str) -> Self {
        match name.as_bytes() {
            [byte] => Self::from_letter(*byte),
            b"pu" => Self::PrevFinalId,
            b"nq" => Self::NonRpiQty,
            b"ap" => Self::MarkPriceAvg,
            b"data" => Self::Data,
            b"stream" => Self::Stream,
            _ => Self::from_rare_name(name),
        }
    }

    /// A one-letter key (most of them).
    #[inline]
    const fn from_letter(letter: u8) -> Self {
        match letter {
            b'e' => Self::EventType,
            b'E' => Self::EventTime,
            b'T' => Self::TxTime,
            b's' => Self::Symbol,
            b'U' => Self::FirstId,
            b'u' => Self::FinalId,
            b'b' => Self::LowerB,
            b'a' => Self::LowerA,
            b'B' => Self::UpperB,
            b'A' => Self::UpperA,
            b't' => Self::TradeId,
            b'p' => Self::Price,
            b'q' => Self::Qty,
            b'm' => Self::BuyerIsMaker,
            b'X' => Self::TradeType,
            b'f' => Self::FirstTradeId,
            b'l' => Self::LastTradeId,
            b'i' => Self::IndexPrice,
            b'P' => Self::SettlePrice,
            b'r' => Self::FundingRate,
            _ => Self::Unknown,
        }
    }

    /// Keys of REST bodies, replies and errors.
    #[cold]
    fn from_rare_name(name: &str) -> Self {
        match name {
            "lastUpdateId" => Self::LastUpdateId,
            "bids" => Self::Bids,
            "asks" => Self::Asks,
            "id" => Self::Id,
            "result" => Self::Result,
            "code" => Self::Code,
            "msg" => Self::Msg,
            "error" => Self::Error,
            _ => Self::Unknown,
        }
    }

    /// The level list an array under this key fills, if any. Each key has its own: a
    /// `depthUpdate` reads `b`/`a` and a REST snapshot `bids`/`asks`, and a list under the
    /// other event's key is an unknown key to it, which must not touch its levels.
    pub(super) const fn level_list(self) -> Option<LevelList> {
        match self {
            Self::LowerB => Some(LevelList::B),
            Self::LowerA => Some(LevelList::A),
            Self::Bids => Some(LevelList::Bids),
            Self::Asks => Some(LevelList::Asks),
            _ => None,
        }
    }

    /// Whether the key belongs to the envelope / reply / error layer (top level only).
    pub(super) const fn is_envelope(self) -> bool {
        matches!(
            self,
            Self::Stream
                | Self::Id
                | Self::Result
                | Self::Code
                | Self::Msg
                | Self::Data
                | Self::Error
        )
    }
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    #[inline]
    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Key, E> {
        Ok(Key::from_name(name))
    }
}
