//! Classifying one message's JSON: unwrapping the combined-stream envelope
//! (`{"stream": ..., "data": ...}`), finding the event type (`e`) and symbol (`s`), and
//! keeping the data JSON exactly as it was written.
//!
//! One pass checks the message: a small scanner walks the top-level members of the object
//! and serde checks each value is well-formed JSON while finding where it ends (without
//! building anything), so a 1,000-level depth diff is never turned into a tree. Inside the
//! data only the leading keys are looked at: Binance writes `e` and `s` first.

use serde::de::IgnoredAny;

use super::{LineErrorKind, MessageKind};

/// What the scanner found in one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Classified<'a> {
    pub(crate) kind: MessageKind,
    pub(crate) stream: Option<String>,
    pub(crate) symbol: Option<String>,
    /// The data JSON: the envelope's `data`, or the whole text for a bare message.
    pub(crate) data: &'a str,
}

/// A line's error kind and detail.
type LineFault = (LineErrorKind, String);

/// The data keys classification uses; the scan of the data stops once `e` and `s` are seen.
const DATA_KEYS: [&str; 4] = ["e", "s", "lastUpdateId", "bids"];

/// Classifies `json`, one message as recorded.
pub(crate) fn classify(json: &str) -> Result<Classified<'_>, LineFault> {
    let top = checked_members(json)?;
    let (stream, data, data_members) = match (member(&top, "stream"), member(&top, "data")) {
        (Some(stream), Some(data)) => {
            let stream = json_string(stream).ok_or_else(|| {
                let detail = format!("`stream` is not a string: {}", clip(stream));
                (LineErrorKind::BadEnvelope, detail)
            })?;
            (Some(stream), data, leading_members(data, &DATA_KEYS))
        }
        _ => (None, json, top),
    };
    let event = member(&data_members, "e").and_then(json_string);
    let symbol = member(&data_members, "s")
        .and_then(json_string)
        .or_else(|| stream.as_deref().and_then(symbol_of_stream));
    let kind = kind_of(event.as_deref(), stream.as_deref(), &data_members);
    Ok(Classified {
        kind,
        stream,
        symbol,
        data,
    })
}

/// The kind of a message from its event type, stream name and members, in that order of
/// trust: a partial-depth stream carries `depthUpdate` events that are not diffs.
fn kind_of(event: Option<&str>, stream: Option<&str>, members: &[(&str, &str)]) -> MessageKind {
    // `btcusdt@depth@100ms` → `depth@100ms`; the all-market `!markPrice@arr` → `markPrice@arr`.
    let channel = stream.and_then(|name| match name.strip_prefix('!') {
        Some(all_market) => Some(all_market),
        None => name.split_once('@').map(|(_, channel)| channel),
    });
    if channel.is_some_and(is_partial_depth) {
        return MessageKind::PartialDepth;
    }
    match event {
        Some("depthUpdate") => return MessageKind::DepthDiff,
        Some("trade") => return MessageKind::Trade,
        Some("aggTrade") => return MessageKind::AggTrade,
        Some("bookTicker") => return MessageKind::BookTicker,
        Some("markPriceUpdate") => return MessageKind::MarkPrice,
        Some("kline") => return MessageKind::Kline,
        Some(_) => return MessageKind::Other,
        None => {}
    }
    if member(members, "lastUpdateId").is_some() && member(members, "bids").is_some() {
        return MessageKind::Snapshot;
    }
    channel.map_or(MessageKind::Other, kind_of_channel)
}

/// The kind a stream's channel (`depth@100ms`, `markPrice@arr@1s`, ...) carries.
fn kind_of_channel(channel: &str) -> MessageKind {
    let name = channel.split('@').next().unwrap_or(channel);
    match name {
        "depth" => MessageKind::DepthDiff,
        "trade" => MessageKind::Trade,
        "aggTrade" => MessageKind::AggTrade,
        "bookTicker" => MessageKind::BookTicker,
        "markPrice" => MessageKind::MarkPrice,
        _ if name.starts_with("kline_") => MessageKind::Kline,
        _ => MessageKind::Other,
    }
}

/// `depth5`, `depth10@100ms`, ...: the top-N snapshot streams (§6.3).
fn is_partial_depth(channel: &str) -> bool {
    channel
        .strip_prefix("depth")
        .and_then(|rest| rest.split('@').next())
        .is_some_and(|levels| !levels.is_empty() && levels.bytes().all(|b| b.is_ascii_digit()))
}

/// The symbol a stream name is for (`btcusdt@depth` → `BTCUSDT`); `None` for the
/// all-market streams (`!markPrice@arr`).
fn symbol_of_stream(stream: &str) -> Option<String> {
    let (symbol, _) = stream.split_once('@')?;
    let valid = !symbol.is_empty() && symbol.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then(|| symbol.to_ascii_uppercase())
}

fn member<'a>(members: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    members
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, value)| *value)
}

/// The value of a JSON string token, unescaped; `None` when `value` is not a string.
fn json_string(value: &str) -> Option<String> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str(value).ok()
    } else {
        Some(inner.to_owned())
    }
}

/// The first characters of `text`, for error messages.
fn clip(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The top-level members of the JSON object `json` as (raw key, raw value) text slices,
/// checking that the whole text is well-formed JSON.
fn checked_members(json: &str) -> Result<Vec<(&str, &str)>, LineFault> {
    let bytes = json.as_bytes();
    let invalid = |detail: String| (LineErrorKind::InvalidJson, detail);
    let mut pos = skip_ws(bytes, 0);
    if bytes.get(pos) != Some(&b'{') {
        return Err(match serde_json::from_str::<IgnoredAny>(json) {
            Ok(_) => (LineErrorKind::NotAnObject, clip(json)),
            Err(error) => invalid(error.to_string()),
        });
    }
    let mut found = Vec::with_capacity(8);
    pos = skip_ws(bytes, pos + 1);
    if bytes.get(pos) == Some(&b'}') {
        return trailing(json, pos + 1).map(|()| found);
    }
    loop {
        let key_end = skip_string(bytes, pos)
            .ok_or_else(|| invalid(format!("expected a string key at byte {pos}")))?;
        let key = json.get(pos + 1..key_end - 1).unwrap_or_default();
        if key.contains('\\') || key.bytes().any(|b| b < 0x20) {
            checked_value_len(&json[pos..key_end], key)?;
        }
        pos = skip_ws(bytes, key_end);
        if bytes.get(pos) != Some(&b':') {
            return Err(invalid(format!(
                "expected `:` after key {key:?} at byte {pos}"
            )));
        }
        let value_start = skip_ws(bytes, pos + 1);
        let rest = json.get(value_start..).unwrap_or_default();
        let value_end = value_start + checked_value_len(rest, key)?;
        found.push((key, json.get(value_start..value_end).unwrap_or_default()));
        pos = skip_ws(bytes, value_end);
        match bytes.get(pos) {
            Some(b',') => pos = skip_ws(bytes, pos + 1),
            Some(b'}') => return trailing(json, pos + 1).map(|()| found),
            _ => return Err(invalid(format!("expected `,` or `}}` at byte {pos}"))),
        }
    }
}

/// The length of the JSON value at the start of `text`, checked to be well formed.
fn checked_value_len(text: &str, key: &str) -> Result<usize, LineFault> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<IgnoredAny>();
    match values.next() {
        Some(Ok(_)) => Ok(values.byte_offset()),
        Some(Err(error)) => Err((LineErrorKind::InvalidJson, format!("{error} in `{key}`"))),
        None => Err((LineErrorKind::InvalidJson, format!("no value for `{key}`"))),
    }
}

/// Checks that nothing but whitespace follows the object ending before `pos`.
fn trailing(json: &str, pos: usize) -> Result<(), LineFault> {
    if skip_ws(json.as_bytes(), pos) == json.len() {
        Ok(())
    } else {
        let detail = format!("trailing characters after the object at byte {pos}");
        Err((LineErrorKind::InvalidJson, detail))
    }
}

/// The leading members of the already-checked JSON object `json`, up to the point where every
/// one of the first two `wanted` keys has been seen (or to the end); empty when `json` is not
/// an object.
fn leading_members<'a>(json: &'a str, wanted: &[&str]) -> Vec<(&'a str, &'a str)> {
    let bytes = json.as_bytes();
    let mut found = Vec::with_capacity(8);
    let mut pos = skip_ws(bytes, 0);
    if bytes.get(pos) != Some(&b'{') {
        return found;
    }
    pos = skip_ws(bytes, pos + 1);
    let done = |found: &[(&str, &str)]| {
        wanted
            .iter()
            .take(2)
            .all(|key| found.iter().any(|(name, _)| name == key))
    };
    while let Some(key_end) = skip_string(bytes, pos) {
        let key = json.get(pos + 1..key_end - 1).unwrap_or_default();
        let value_start = skip_ws(bytes, skip_ws(bytes, key_end) + 1);
        let Some(value_end) = skip_value(bytes, value_start) else {
            break;
        };
        if wanted.contains(&key) {
            found.push((key, json.get(value_start..value_end).unwrap_or_default()));
            if done(&found) {
                break;
            }
        }
        pos = skip_ws(bytes, value_end);
        if bytes.get(pos) != Some(&b',') {
            break;
        }
        pos = skip_ws(bytes, pos + 1);
    }
    found
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while bytes
        .get(pos)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        pos += 1;
    }
    pos
}

/// The position just after the string token starting at `pos`.
fn skip_string(bytes: &[u8], pos: usize) -> Option<usize> {
    if bytes.get(pos) != Some(&b'"') {
        return None;
    }
    let mut i = pos + 1;
    loop {
        match bytes.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// The position just after the value starting at `pos`.
fn skip_value(bytes: &[u8], pos: usize) -> Option<usize> {
    match bytes.get(pos)? {
        b'"' => skip_string(bytes, pos),
        b'{' | b'[' => skip_nested(bytes, pos),
        _ => {
            let mut i = pos;
            while bytes
                .get(i)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
            {
                i += 1;
            }
            (i > pos).then_some(i)
        }
    }
}

/// The position just after the object or array starting at `pos`.
fn skip_nested(bytes: &[u8], pos: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = pos;
    loop {
        match bytes.get(i)? {
            b'"' => {
                i = skip_string(bytes, i)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
}
