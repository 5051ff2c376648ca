//! The byte scanner: the first and fastest way in for the frames that make up nearly all
//! market data, tried before the serde fast pass (`fast.rs`).
//!
//! It reads Binance's frames exactly as Binance writes them, byte by byte, with no JSON
//! library in between: `{"stream":"..","data":{"e":"..",...}}` or a bare `{"e":"..",...}`, no
//! whitespace, flat events whose values are strings without escapes, integers, `true`,
//! `false` or `null`, and depth levels as `[["p","q"],...]`. Every frame it accepts is
//! therefore well-formed JSON, and it files each value exactly as the fast pass does (the same
//! keys per event, the same plain-decimal rule, a repeated key's last value wins, unknown keys
//! skipped), so it returns what the fast pass would have returned.
//!
//! Anything else — another key order, whitespace, an escape, a nested value it does not
//! read, a number of another form, a field of the wrong type, an event type it does not cover,
//! trailing bytes — declines, and the frame goes to the serde fast pass and, if needed, the
//! general walk, which decide it and word any error. Declining allocates nothing; a depth
//! frame's level buffers may have been refilled by then, and the next pass refills them.

use super::fast::{EventKind, FastEvent, FastFrame, Fields};
use super::keys::Key;
use super::levels::scan_levels_prefix;
use super::record::LevelBuffers;
use crate::binance::decimal;

/// Scans `frame`; `None` when it declines.
#[inline]
pub(super) fn scan<'a>(frame: &'a str, levels: &mut LevelBuffers) -> Option<FastFrame<'a>> {
    let mut cursor = Cursor { text: frame, at: 0 };
    if cursor.eat(br#"{"stream":""#) {
        let stream = cursor.string_body()?;
        if !cursor.eat(br#","data":{"e":""#) {
            return None;
        }
        let event = read_event(&mut cursor, levels, None)?;
        (cursor.eat(b"}") && cursor.at_end()).then_some(FastFrame {
            stream: Some(stream),
            event,
        })
    } else if cursor.eat(br#"{"e":""#) {
        let mut stream = None;
        let event = read_event(&mut cursor, levels, Some(&mut stream))?;
        cursor.at_end().then_some(FastFrame { stream, event })
    } else {
        None
    }
}

/// Reads an event object from just after its `{"e":"` to its closing brace. `bare_stream`
/// receives the `stream` of a bare frame (in an envelope the event's own `stream` is ignored,
/// as the fast pass does).
#[inline]
fn read_event<'a>(
    cursor: &mut Cursor<'a>,
    levels: &mut LevelBuffers,
    mut bare_stream: Option<&mut Option<&'a str>>,
) -> Option<FastEvent<'a>> {
    let kind = match cursor.string_body()? {
        "bookTicker" => EventKind::BookTicker,
        "trade" => EventKind::Trade,
        "aggTrade" => EventKind::AggTrade,
        "depthUpdate" => EventKind::Depth,
        _ => return None,
    };
    let mut fields = Fields::default();
    while cursor.eat(b",\"") {
        let key = Key::from_name(cursor.string_body()?);
        if !cursor.eat(b":") {
            return None;
        }
        if key == Key::Stream
            && let Some(stream) = bare_stream.as_deref_mut()
        {
            *stream = cursor.optional_string()?;
            continue;
        }
        field(cursor, kind, key, levels, &mut fields)?;
    }
    if !cursor.eat(b"}") {
        return None;
    }
    fields.finish(kind)
}

/// Files one value into `fields` as the fast pass's table does; `None` to decline.
#[inline]
fn field<'a>(
    cursor: &mut Cursor<'a>,
    kind: EventKind,
    key: Key,
    levels: &mut LevelBuffers,
    fields: &mut Fields<'a>,
) -> Option<()> {
    use EventKind::{AggTrade as Agg, BookTicker as Bt, Depth as Dp, Trade as Tr};
    match (kind, key) {
        (_, Key::EventTime) => fields.E = Some(cursor.integer()?),
        (_, Key::TxTime) => fields.T = Some(cursor.integer()?),
        (_, Key::Symbol) => fields.s = Some(cursor.quoted()?),
        (Bt | Dp, Key::FinalId) => fields.u = Some(cursor.integer()?),
        (Dp, Key::FirstId) => fields.U = Some(cursor.integer()?),
        (Dp, Key::PrevFinalId) => fields.pu = Some(cursor.integer()?),
        (Dp, Key::LowerB) => fields.b_levels = cursor.levels(&mut levels.bids)?,
        (Dp, Key::LowerA) => fields.a_levels = cursor.levels(&mut levels.asks)?,
        (Bt, Key::LowerB) => fields.b_px = Some(cursor.decimal()?),
        (Bt, Key::LowerA) => fields.a_px = Some(cursor.decimal()?),
        (Bt, Key::UpperB) => fields.B = Some(cursor.decimal()?),
        (Bt, Key::UpperA) => fields.A = Some(cursor.decimal()?),
        (Tr, Key::TradeId) => fields.t = Some(cursor.integer()?),
        (Agg, Key::LowerA) => fields.a_id = Some(cursor.integer()?),
        (Agg, Key::FirstTradeId) => fields.f = Some(cursor.integer()?),
        (Agg, Key::LastTradeId) => fields.l = Some(cursor.integer()?),
        (Tr | Agg, Key::Price) => fields.p = Some(cursor.decimal()?),
        (Tr | Agg, Key::Qty) => fields.q = Some(cursor.decimal()?),
        (Tr | Agg, Key::BuyerIsMaker) => fields.m = Some(cursor.boolean()?),
        (Tr, Key::TradeType) => fields.X = Some(cursor.optional_string()?),
        (Agg, Key::NonRpiQty) => fields.nq = Some(cursor.optional_decimal()?),
        // What the fast pass leaves to the general walk.
        (_, Key::EventType | Key::Data | Key::Bids | Key::Asks) => return None,
        _ => cursor.skip_scalar()?,
    }
    Some(())
}

/// A position in the frame.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.at..).unwrap_or_default()
    }

    #[inline]
    fn at_end(&self) -> bool {
        self.at == self.text.len()
    }

    /// Consumes `expected` if the frame continues with it.
    #[inline]
    fn eat(&mut self, expected: &[u8]) -> bool {
        let found = self.rest().starts_with(expected);
        if found {
            self.at += expected.len();
        }
        found
    }

    /// The rest of a string whose opening quote has been consumed, up to its closing quote;
    /// `None` at an escape or a control character (JSON forbids those raw) or the end.
    #[inline]
    fn string_body(&mut self) -> Option<&'a str> {
        let start = self.at;
        let len = self
            .rest()
            .iter()
            .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)?;
        if self.rest().get(len) != Some(&b'"') {
            return None;
        }
        self.at += len + 1;
        // Both ends are ASCII quotes, so these are character boundaries.
        self.text.get(start..start + len)
    }

    /// A string or `null`.
    #[inline]
    fn optional_string(&mut self) -> Option<Option<&'a str>> {
        if self.eat(b"null") {
            return Some(None);
        }
        self.quoted().map(Some)
    }

    /// A string value, from its opening quote.
    #[inline]
    fn quoted(&mut self) -> Option<&'a str> {
        self.eat(b"\"").then(|| self.string_body())?
    }

    /// A string holding a plain decimal (`decimal::fast_fixed8`).
    #[inline]
    fn decimal(&mut self) -> Option<i64> {
        decimal::fast_fixed8(self.quoted()?.as_bytes())
    }

    /// A plain-decimal string or `null`.
    #[inline]
    fn optional_decimal(&mut self) -> Option<Option<i64>> {
        if self.eat(b"null") {
            return Some(None);
        }
        self.decimal().map(Some)
    }

    /// A non-negative JSON integer that fits a `u64` (no sign, no leading zero, no fraction or
    /// exponent: anything else declines).
    #[inline]
    fn integer(&mut self) -> Option<u64> {
        let rest = self.rest();
        let len = rest
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(rest.len());
        let digits = rest.get(..len)?;
        if len == 0 || (len > 1 && digits.first() == Some(&b'0')) {
            return None;
        }
        if matches!(rest.get(len), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let value = digits.iter().try_fold(0u64, |value, &digit| {
            value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
        })?;
        self.at += len;
        Some(value)
    }

    #[inline]
    fn boolean(&mut self) -> Option<bool> {
        if self.eat(b"true") {
            Some(true)
        } else if self.eat(b"false") {
            Some(false)
        } else {
            None
        }
    }

    /// A level list into `out`; `Some(true)` once read (the scanner accepts only the exact
    /// shape, so a list it cannot read declines the frame).
    #[inline]
    fn levels(&mut self, out: &mut Vec<kestrel_model::book::Level>) -> Option<bool> {
        let rest = self.rest();
        let after = scan_levels_prefix(rest, out)?;
        self.at += rest.len() - after.len();
        Some(true)
    }

    /// Skips an ignored value: a string, an integer, `true`, `false` or `null` (anything
    /// nested, or a number with a sign, fraction or exponent, declines).
    #[inline]
    fn skip_scalar(&mut self) -> Option<()> {
        match self.rest().first()? {
            b'"' => self.quoted().map(drop),
            b't' | b'f' => self.boolean().map(drop),
            b'n' => self.eat(b"null").then_some(()),
            _ => self.integer().map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanned(frame: &str) -> Option<FastFrame<'_>> {
        let mut levels = LevelBuffers::with_capacity(4);
        scan(frame, &mut levels)
    }

    #[test]
    fn binance_frames_are_taken() {
        let ticker = r#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3","T":5,"E":6}}"#;
        let trade = r#"{"e":"trade","E":6,"T":5,"s":"BTCUSDT","t":9,"p":"1.5","q":"0.001","X":"MARKET","m":true,"stream":"btcusdt@trade"}"#;
        let depth = r#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":6,"T":5,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[["1.5","2"]],"a":[]}}"#;
        let agg = r#"{"e":"aggTrade","E":6,"T":5,"s":"BTCUSDT","a":3,"p":"1.5","q":"2","nq":null,"f":1,"l":2,"m":false}"#;
        for frame in [ticker, trade, depth, agg] {
            assert!(scanned(frame).is_some(), "{frame}");
        }
        let bare = scanned(trade).unwrap();
        assert_eq!(bare.stream, Some("btcusdt@trade"));
    }

    #[test]
    fn anything_unusual_declines() {
        for frame in [
            r#"{"e":"trade", "E":6,"T":5,"s":"X","t":9,"p":"1","q":"1","m":true}"#,
            r#"{"e":"trade","E":6,"T":5,"s":"X\u0041","t":9,"p":"1","q":"1","m":true}"#,
            r#"{"e":"trade","E":6.0,"T":5,"s":"X","t":9,"p":"1","q":"1","m":true}"#,
            r#"{"e":"trade","E":06,"T":5,"s":"X","t":9,"p":"1","q":"1","m":true}"#,
            r#"{"e":"trade","E":6,"T":5,"s":"X","t":9,"p":"1e2","q":"1","m":true}"#,
            r#"{"e":"trade","E":6,"T":5,"s":"X","t":9,"p":"1","q":"1","m":1}"#,
            r#"{"e":"trade","E":6,"T":5,"s":"X","t":9,"p":"1","q":"1","m":true,"x":{}}"#,
            r#"{"e":"trade","E":6,"T":5,"s":"X","t":9,"p":"1","q":"1","m":true,"x":-1}"#,
            r#"{"e":"trade","E":6,"T":5,"s":"X","t":9,"p":"1","q":"1","m":true}x"#,
            r#"{"e":"trade","E":6,"T":5,"s":"X","t":9,"p":"1","q":"1","m":true"#,
            r#"{"e":"trade","E":18446744073709551616,"T":5,"s":"X","t":9,"p":"1","q":"1","m":true}"#,
            r#"{"e":"kline","E":6}"#,
            r#"{"stream":"s","data":{"e":"trade","E":6,"T":5,"s":"X","t":9,"p":"1","q":"1","m":true}} "#,
            r#"{"data":{"e":"trade","E":6,"T":5,"s":"X","t":9,"p":"1","q":"1","m":true},"stream":"s"}"#,
            "{\"e\":\"trade\",\"E\":6,\"T\":5,\"s\":\"X\t\",\"t\":9,\"p\":\"1\",\"q\":\"1\",\"m\":true}",
        ] {
            assert!(scanned(frame).is_none(), "{frame}");
        }
    }
}
