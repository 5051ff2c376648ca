//! Request parameters: the query string and the body merged into one ordered list, with typed
//! getters that fail with Binance's error codes (`../shared/binance-futures.md` §2.2, §3.3,
//! §10.3).
//!
//! Rules implemented (§2.2):
//! - Parameters come from the query string and from the body, in that order. The body is
//!   `application/x-www-form-urlencoded`; a JSON object body is accepted too, and an empty
//!   body is fine whatever the `Content-Type` says (the connector sends
//!   `Content-Type: application/json` with nothing in it). The content type is therefore not
//!   consulted: a body whose first non-blank byte is `{` is JSON, anything else is a form.
//! - If a key is in both the query and the body, **the query wins** and the body value is
//!   dropped. A key repeated within one part is `-1101` "Duplicate values for a parameter
//!   detected.".
//! - Keys and values are percent-decoded, `+` meaning space (form encoding); a `%` not
//!   followed by two hex digits is kept as is; bytes that do not decode to UTF-8 are `-1100`.
//! - An empty value counts as not sent: required getters answer `-1102`, optional ones `None`.
//!
//! Choices where the reference leaves one:
//! - Symbols are accepted in any case and upper-cased (`btcusdt` → `BTCUSDT`); malformed
//!   symbols are `-1121`. Being lenient costs nothing and no client relies on a rejection.
//! - Enum values (`side`, `type`, `timeInForce`, ...) must be spelled exactly as Binance
//!   spells them (upper case), so code tested against the simulator also works on Binance.
//!   Booleans (`reduceOnly`, `priceProtect`, ...) accept `true`/`false` in any case.
//! - `timeInForce` `GTD` and `RPI` are refused with `-1115`: the simulator has no such order.
//! - A decimal with more than 8 significant decimals is `-1111` (precision); any other
//!   malformed decimal is `-1130`.
//!
//! Every getter records that its key was read, so a handler can refuse leftovers with
//! [`Params::ensure_all_read`] (`-1104`) if it wants Binance's strictness.

use std::sync::atomic::{AtomicBool, Ordering};

use kestrel_model::order::{
    OrderType, PositionSide, TimeInForce, WorkingType, check_client_order_id, check_symbol,
};
use kestrel_model::{MoneyError, Price, Qty, Rate, Side};
use serde_json::Value;

use super::errors::ApiError;

/// The most parameters one request (or one batch element) may carry (`-1101` beyond).
pub const MAX_PARAMS: usize = 128;
/// The most orders `batchOrders` may hold (§3.3).
pub const MAX_BATCH_ORDERS: usize = 5;
/// The most ids `orderIdList` / `origClientOrderIdList` may hold (§3.3).
pub const MAX_CANCEL_LIST: usize = 10;

/// One decoded parameter and whether a getter has looked at it.
#[derive(Debug)]
struct Entry {
    key: String,
    value: String,
    read: AtomicBool,
}

/// The decoded parameters of one request, query first, then body (§2.2).
#[derive(Debug, Default)]
pub struct Params {
    entries: Vec<Entry>,
}

impl Params {
    /// Parses the raw query string and the raw body, the query winning on a shared key (§2.2).
    ///
    /// # Errors
    /// `-1101` for a key repeated within one part or too many parameters, `-1100` for bytes
    /// that do not decode to UTF-8, `-1130` (`body`) for a body that is neither a form nor a
    /// JSON object.
    pub fn parse(query: &str, body: &[u8]) -> Result<Self, ApiError> {
        let from_query = parse_form(query.as_bytes())?;
        let from_body = parse_body(body)?;
        let mut pairs = from_query;
        for (key, value) in from_body {
            if !pairs.iter().any(|(known, _)| *known == key) {
                pairs.push((key, value));
            }
        }
        if pairs.len() > MAX_PARAMS {
            return Err(ApiError::too_many_parameters());
        }
        Ok(Self::from_owned(pairs))
    }

    /// Parameters from already decoded pairs, in order (for batch elements and tests).
    ///
    /// # Errors
    /// `-1101` if a key repeats or there are too many.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ApiError> {
        let mut owned: Vec<(String, String)> = Vec::new();
        for (key, value) in pairs {
            push_unique(&mut owned, key.to_owned(), value.to_owned())?;
        }
        Ok(Self::from_owned(owned))
    }

    fn from_owned(pairs: Vec<(String, String)>) -> Self {
        let entries = pairs
            .into_iter()
            .map(|(key, value)| Entry {
                key,
                value,
                read: AtomicBool::new(false),
            })
            .collect();
        Self { entries }
    }

    /// How many parameters there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no parameter was sent.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every (key, value) pair in request order, without marking anything read.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|entry| (entry.key.as_str(), entry.value.as_str()))
    }

    /// The raw value of `key` (possibly empty), marking it read.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        let entry = self.entries.iter().find(|entry| entry.key == key)?;
        entry.read.store(true, Ordering::Relaxed);
        Some(entry.value.as_str())
    }

    /// Marks `key` as read without looking at it (e.g. `signature` checked elsewhere).
    pub fn mark_read(&self, key: &str) {
        let _ = self.get(key);
    }

    /// Whether `key` was sent with a non-empty value, marking it read.
    #[must_use]
    pub fn has(&self, key: &str) -> bool {
        self.optional(key).is_some()
    }

    /// The value of `key`, or `None` when it is absent or empty.
    #[must_use]
    pub fn optional(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|value| !value.is_empty())
    }

    /// The value of `key`, which must be sent and non-empty.
    ///
    /// # Errors
    /// `-1102` naming `key`.
    pub fn required(&self, key: &str) -> Result<&str, ApiError> {
        self.optional(key)
            .ok_or_else(|| ApiError::mandatory_param(key))
    }

    /// The keys no getter has read yet, in request order.
    #[must_use]
    pub fn unread(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|entry| !entry.read.load(Ordering::Relaxed))
            .map(|entry| entry.key.as_str())
            .collect()
    }

    /// Refuses the request if some parameter was never read.
    ///
    /// # Errors
    /// `-1104` "Not all sent parameters were read; ...".
    pub fn ensure_all_read(&self) -> Result<(), ApiError> {
        let unread = self.unread().len();
        if unread == 0 {
            Ok(())
        } else {
            Err(ApiError::unread_parameters(self.len() - unread, self.len()))
        }
    }
}

/// Typed getters: numbers, decimals, booleans.
impl Params {
    /// An optional value parsed by `parse`; `-1130` naming `key` when it does not parse.
    ///
    /// # Errors
    /// `-1130` when present but not parseable.
    pub fn parse_opt<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        match self.optional(key) {
            None => Ok(None),
            Some(text) => parse(text)
                .map(Some)
                .ok_or_else(|| ApiError::invalid_parameter(key)),
        }
    }

    /// An optional unsigned integer (ids, times, limits).
    ///
    /// # Errors
    /// `-1130` when present but not a non-negative integer.
    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>, ApiError> {
        self.parse_opt(key, parse_u64)
    }

    /// A required unsigned integer.
    ///
    /// # Errors
    /// `-1102` when missing, `-1130` when not a non-negative integer.
    pub fn u64(&self, key: &str) -> Result<u64, ApiError> {
        self.opt_u64(key)?
            .ok_or_else(|| ApiError::mandatory_param(key))
    }

    /// An optional signed integer.
    ///
    /// # Errors
    /// `-1130` when present but not an integer.
    pub fn opt_i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.parse_opt(key, parse_i64)
    }

    /// A required signed integer.
    ///
    /// # Errors
    /// `-1102` when missing, `-1130` when not an integer.
    pub fn i64(&self, key: &str) -> Result<i64, ApiError> {
        self.opt_i64(key)?
            .ok_or_else(|| ApiError::mandatory_param(key))
    }

    /// An optional price, parsed exactly.
    ///
    /// # Errors
    /// `-1111` for more than 8 decimals, `-1130` for any other malformed number.
    pub fn opt_price(&self, key: &str) -> Result<Option<Price>, ApiError> {
        self.decimal(key, Price::parse)
    }

    /// A required price.
    ///
    /// # Errors
    /// `-1102` when missing, otherwise as [`Params::opt_price`].
    pub fn price(&self, key: &str) -> Result<Price, ApiError> {
        self.opt_price(key)?
            .ok_or_else(|| ApiError::mandatory_param(key))
    }

    /// An optional quantity, parsed exactly.
    ///
    /// # Errors
    /// `-1111` for more than 8 decimals, `-1130` for any other malformed number.
    pub fn opt_qty(&self, key: &str) -> Result<Option<Qty>, ApiError> {
        self.decimal(key, Qty::parse)
    }

    /// A required quantity.
    ///
    /// # Errors
    /// `-1102` when missing, otherwise as [`Params::opt_qty`].
    pub fn qty(&self, key: &str) -> Result<Qty, ApiError> {
        self.opt_qty(key)?
            .ok_or_else(|| ApiError::mandatory_param(key))
    }

    /// An optional rate (e.g. `callbackRate`), parsed exactly.
    ///
    /// # Errors
    /// `-1111` for more than 8 decimals, `-1130` for any other malformed number.
    pub fn opt_rate(&self, key: &str) -> Result<Option<Rate>, ApiError> {
        self.decimal(key, Rate::parse)
    }

    fn decimal<T>(
        &self,
        key: &str,
        parse: fn(&str) -> Result<T, MoneyError>,
    ) -> Result<Option<T>, ApiError> {
        let Some(text) = self.optional(key) else {
            return Ok(None);
        };
        parse(text).map(Some).map_err(|_| {
            if has_excess_decimals(text) {
                ApiError::bad_precision()
            } else {
                ApiError::invalid_parameter(key)
            }
        })
    }

    /// An optional boolean sent as `"true"`/`"false"` in any case (§3.1).
    ///
    /// # Errors
    /// `-1130` for any other value.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        self.parse_opt(key, |text| {
            if text.eq_ignore_ascii_case("true") {
                Some(true)
            } else if text.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        })
    }

    /// A boolean flag that defaults to `false` when absent.
    ///
    /// # Errors
    /// `-1130` for a value other than `true`/`false`.
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        Ok(self.opt_bool(key)?.unwrap_or(false))
    }
}

/// Typed getters for Binance's order vocabulary (§3.3).
impl Params {
    /// The required `symbol`, upper-cased.
    ///
    /// # Errors
    /// `-1102` when missing, `-1121` when not 1–32 letters and digits.
    pub fn symbol(&self) -> Result<String, ApiError> {
        self.opt_symbol()?
            .ok_or_else(|| ApiError::mandatory_param("symbol"))
    }

    /// The optional `symbol`, upper-cased.
    ///
    /// # Errors
    /// `-1121` when present but not 1–32 letters and digits.
    pub fn opt_symbol(&self) -> Result<Option<String>, ApiError> {
        let Some(text) = self.optional("symbol") else {
            return Ok(None);
        };
        let symbol = text.to_ascii_uppercase();
        check_symbol(&symbol).map_err(|_| ApiError::bad_symbol())?;
        Ok(Some(symbol))
    }

    /// The required `side`: `BUY` or `SELL`.
    ///
    /// # Errors
    /// `-1102` when missing, `-1117` for another value.
    pub fn side(&self) -> Result<Side, ApiError> {
        let text = self.required("side")?;
        lookup(SIDES, text).ok_or_else(ApiError::invalid_side)
    }

    /// The required order `type`, any of the seven Binance types (the caller refuses
    /// conditional ones on `/fapi/v1/order` with `-4120`).
    ///
    /// # Errors
    /// `-1102` when missing, `-1116` for another value.
    pub fn order_type(&self) -> Result<OrderType, ApiError> {
        let text = self.required("type")?;
        lookup(ORDER_TYPES, text).ok_or_else(ApiError::invalid_order_type)
    }

    /// The optional `timeInForce`: `GTC`, `IOC`, `FOK` or `GTX`.
    ///
    /// # Errors
    /// `-1115` for another value (including `GTD` and `RPI`, which the simulator lacks).
    pub fn opt_time_in_force(&self) -> Result<Option<TimeInForce>, ApiError> {
        let Some(text) = self.optional("timeInForce") else {
            return Ok(None);
        };
        lookup(TIFS, text)
            .map(Some)
            .ok_or_else(ApiError::invalid_tif)
    }

    /// The optional `positionSide`: `BOTH`, `LONG` or `SHORT`.
    ///
    /// # Errors
    /// `-1130` for another value.
    pub fn opt_position_side(&self) -> Result<Option<PositionSide>, ApiError> {
        self.parse_opt("positionSide", |text| lookup(POSITION_SIDES, text))
    }

    /// The optional `workingType`: `MARK_PRICE` or `CONTRACT_PRICE`.
    ///
    /// # Errors
    /// `-1130` for another value.
    pub fn opt_working_type(&self) -> Result<Option<WorkingType>, ApiError> {
        self.parse_opt("workingType", |text| lookup(WORKING_TYPES, text))
    }

    /// `newOrderRespType`, `ACK` when absent (§3.3).
    ///
    /// # Errors
    /// `-1136` for a value other than `ACK` / `RESULT`.
    pub fn new_order_resp_type(&self) -> Result<NewOrderRespType, ApiError> {
        let Some(text) = self.optional("newOrderRespType") else {
            return Ok(NewOrderRespType::Ack);
        };
        lookup(RESP_TYPES, text).ok_or_else(ApiError::invalid_new_order_resp_type)
    }

    /// The optional `selfTradePreventionMode` (§3.3).
    ///
    /// # Errors
    /// `-5039` for an unknown mode.
    pub fn opt_self_trade_prevention(&self) -> Result<Option<SelfTradePrevention>, ApiError> {
        let Some(text) = self.optional("selfTradePreventionMode") else {
            return Ok(None);
        };
        lookup(STP_MODES, text)
            .map(Some)
            .ok_or_else(ApiError::invalid_self_trade_prevention_mode)
    }

    /// The optional `priceMatch` (§3.3).
    ///
    /// # Errors
    /// `-5037` for an unknown mode.
    pub fn opt_price_match(&self) -> Result<Option<PriceMatch>, ApiError> {
        let Some(text) = self.optional("priceMatch") else {
            return Ok(None);
        };
        lookup(PRICE_MATCHES, text)
            .map(Some)
            .ok_or_else(ApiError::invalid_price_match)
    }

    /// An optional client order id under `key`, checked against
    /// `^[\.A-Z\:/a-z0-9_-]{1,36}$` (§3.3).
    ///
    /// # Errors
    /// `-4015` when it breaks the pattern.
    pub fn opt_client_order_id(&self, key: &str) -> Result<Option<&str>, ApiError> {
        let Some(id) = self.optional(key) else {
            return Ok(None);
        };
        check_client_order_id(id).map_err(|_| ApiError::invalid_client_order_id())?;
        Ok(Some(id))
    }
}

/// JSON list parameters (§3.3 batch endpoints, §10.3 item 2).
impl Params {
    /// `batchOrders`: a JSON array of 1–5 objects whose values are strings, each returned as
    /// its own [`Params`]. Accepted percent-encoded (connector, python-binance) or raw (ccxt);
    /// numbers and booleans are taken as their text. Escaped quotes (`[{\"symbol\":...}]`),
    /// a JSON string holding the array, and nested objects or arrays are refused, as
    /// Binance has done since 2023.
    ///
    /// # Errors
    /// `-1102` when missing, `-1130` when malformed, `-4082` for 0 or more than 5 orders.
    pub fn batch_orders(&self) -> Result<Vec<Params>, ApiError> {
        const KEY: &str = "batchOrders";
        let items = self.json_array(KEY)?;
        if items.is_empty() || items.len() > MAX_BATCH_ORDERS {
            return Err(ApiError::invalid_batch_size(items.len()));
        }
        items
            .iter()
            .map(|item| batch_element(item).ok_or_else(|| ApiError::invalid_parameter(KEY)))
            .collect()
    }

    /// The optional `orderIdList`: a JSON array of 1–10 order ids (numbers, or digit strings).
    ///
    /// # Errors
    /// `-1130` when malformed, empty or longer than 10.
    pub fn opt_order_id_list(&self) -> Result<Option<Vec<u64>>, ApiError> {
        const KEY: &str = "orderIdList";
        if !self.has(KEY) {
            return Ok(None);
        }
        let ids: Option<Vec<u64>> = self.json_array(KEY)?.iter().map(order_id).collect();
        checked_list(KEY, ids).map(Some)
    }

    /// The optional `origClientOrderIdList`: a JSON array of 1–10 strings.
    ///
    /// # Errors
    /// `-1130` when malformed, empty or longer than 10.
    pub fn opt_orig_client_order_id_list(&self) -> Result<Option<Vec<String>>, ApiError> {
        const KEY: &str = "origClientOrderIdList";
        if !self.has(KEY) {
            return Ok(None);
        }
        let ids: Option<Vec<String>> = self
            .json_array(KEY)?
            .into_iter()
            .map(|item| match item {
                Value::String(id) => Some(id),
                _ => None,
            })
            .collect();
        checked_list(KEY, ids).map(Some)
    }

    /// The JSON array under `key`, decoding one more level of percent-encoding if the value
    /// still looks encoded.
    fn json_array(&self, key: &str) -> Result<Vec<Value>, ApiError> {
        let text = self.required(key)?.trim();
        let decoded;
        let text = if text.starts_with('%') {
            decoded = decode_component(text.as_bytes(), false)?;
            decoded.as_str()
        } else {
            text
        };
        match serde_json::from_str(text) {
            Ok(Value::Array(items)) => Ok(items),
            _ => Err(ApiError::invalid_parameter(key)),
        }
    }
}

/// `newOrderRespType` (§3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NewOrderRespType {
    /// `ACK`: the order as accepted (the default).
    #[default]
    Ack,
    /// `RESULT`: market and IOC/FOK orders in their final state.
    Result,
}

/// `selfTradePreventionMode` (§3.3) is parsed straight into the matching engine's mode.
pub use crate::engine::Stp as SelfTradePrevention;

/// `priceMatch` (§3.3): price a LIMIT order from the book instead of `price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriceMatch {
    /// `NONE`: no price match.
    None,
    /// `OPPONENT`: the best price on the other side.
    Opponent,
    /// `OPPONENT_5`: the 5th best price on the other side.
    Opponent5,
    /// `OPPONENT_10`: the 10th best price on the other side (suspended since 2025-10-23).
    Opponent10,
    /// `OPPONENT_20`: the 20th best price on the other side (suspended since 2025-10-23).
    Opponent20,
    /// `QUEUE`: the best price on the order's own side.
    Queue,
    /// `QUEUE_5`: the 5th best price on the own side.
    Queue5,
    /// `QUEUE_10`: the 10th best price on the own side.
    Queue10,
    /// `QUEUE_20`: the 20th best price on the own side.
    Queue20,
}

const SIDES: &[(&str, Side)] = &[("BUY", Side::Buy), ("SELL", Side::Sell)];

const ORDER_TYPES: &[(&str, OrderType)] = &[
    ("LIMIT", OrderType::Limit),
    ("MARKET", OrderType::Market),
    ("STOP", OrderType::StopLimit),
    ("STOP_MARKET", OrderType::StopMarket),
    ("TAKE_PROFIT", OrderType::TakeProfitLimit),
    ("TAKE_PROFIT_MARKET", OrderType::TakeProfitMarket),
    ("TRAILING_STOP_MARKET", OrderType::TrailingStopMarket),
];

const TIFS: &[(&str, TimeInForce)] = &[
    ("GTC", TimeInForce::Gtc),
    ("IOC", TimeInForce::Ioc),
    ("FOK", TimeInForce::Fok),
    ("GTX", TimeInForce::Gtx),
];

const POSITION_SIDES: &[(&str, PositionSide)] = &[
    ("BOTH", PositionSide::Both),
    ("LONG", PositionSide::Long),
    ("SHORT", PositionSide::Short),
];

const WORKING_TYPES: &[(&str, WorkingType)] = &[
    ("MARK_PRICE", WorkingType::MarkPrice),
    ("CONTRACT_PRICE", WorkingType::ContractPrice),
];

const RESP_TYPES: &[(&str, NewOrderRespType)] = &[
    ("ACK", NewOrderRespType::Ack),
    ("RESULT", NewOrderRespType::Result),
];

const STP_MODES: &[(&str, SelfTradePrevention)] = &[
    ("NONE", SelfTradePrevention::None),
    ("EXPIRE_TAKER", SelfTradePrevention::ExpireTaker),
    ("EXPIRE_MAKER", SelfTradePrevention::ExpireMaker),
    ("EXPIRE_BOTH", SelfTradePrevention::ExpireBoth),
];

const PRICE_MATCHES: &[(&str, PriceMatch)] = &[
    ("NONE", PriceMatch::None),
    ("OPPONENT", PriceMatch::Opponent),
    ("OPPONENT_5", PriceMatch::Opponent5),
    ("OPPONENT_10", PriceMatch::Opponent10),
    ("OPPONENT_20", PriceMatch::Opponent20),
    ("QUEUE", PriceMatch::Queue),
    ("QUEUE_5", PriceMatch::Queue5),
    ("QUEUE_10", PriceMatch::Queue10),
    ("QUEUE_20", PriceMatch::Queue20),
];

impl NewOrderRespType {
    /// Binance's spelling.
    #[must_use]
    pub fn binance_name(self) -> &'static str {
        name_of(RESP_TYPES, self)
    }
}

impl PriceMatch {
    /// Binance's spelling.
    #[must_use]
    pub fn binance_name(self) -> &'static str {
        name_of(PRICE_MATCHES, self)
    }
}

fn lookup<T: Copy>(table: &[(&str, T)], text: &str) -> Option<T> {
    table
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, value)| *value)
}

fn name_of<T: Copy + PartialEq>(table: &[(&'static str, T)], value: T) -> &'static str {
    table
        .iter()
        .find(|(_, known)| *known == value)
        .map_or("", |(name, _)| *name)
}

/// Splits a form-encoded part on `&`, decoding each `key=value`; empty pieces are skipped.
fn parse_form(raw: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs = Vec::new();
    for piece in raw
        .split(|&byte| byte == b'&')
        .filter(|piece| !piece.is_empty())
    {
        let (key, value) = match piece.iter().position(|&byte| byte == b'=') {
            Some(at) => (&piece[..at], &piece[at + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        let key = decode_component(key, true)?;
        let value = decode_component(value, true)?;
        push_unique(&mut pairs, key, value)?;
        if pairs.len() > MAX_PARAMS {
            return Err(ApiError::too_many_parameters());
        }
    }
    Ok(pairs)
}

/// The body's pairs: nothing for a blank body, a JSON object's members, or a form.
fn parse_body(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    if trimmed.first() != Some(&b'{') {
        return parse_form(trimmed);
    }
    let object: serde_json::Map<String, Value> =
        serde_json::from_slice(trimmed).map_err(|_| ApiError::invalid_parameter("body"))?;
    let mut pairs = Vec::new();
    for (key, value) in object {
        if let Some(text) = json_text(value) {
            push_unique(&mut pairs, key, text)?;
        }
    }
    Ok(pairs)
}

/// A JSON body value as parameter text: strings as is, scalars as written, nested values as
/// their JSON (so a real array works for `batchOrders`); `null` is dropped.
fn json_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

fn push_unique(
    pairs: &mut Vec<(String, String)>,
    key: String,
    value: String,
) -> Result<(), ApiError> {
    if pairs.iter().any(|(known, _)| *known == key) {
        return Err(ApiError::duplicate_parameter());
    }
    pairs.push((key, value));
    Ok(())
}

/// Percent-decodes `raw` (and `+` as space when `plus_is_space`); a `%` without two hex
/// digits after it stays literal.
///
/// # Errors
/// `-1100` when the decoded bytes are not UTF-8.
pub fn decode_component(raw: &[u8], plus_is_space: bool) -> Result<String, ApiError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut at = 0;
    while at < raw.len() {
        let byte = raw[at];
        let escaped = match (byte, raw.get(at + 1), raw.get(at + 2)) {
            (b'%', Some(&high), Some(&low)) => hex_value(high).zip(hex_value(low)),
            _ => None,
        };
        if let Some((high, low)) = escaped {
            out.push(high << 4 | low);
            at += 3;
            continue;
        }
        out.push(if byte == b'+' && plus_is_space {
            b' '
        } else {
            byte
        });
        at += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::illegal_chars())
}

const fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

fn parse_u64(text: &str) -> Option<u64> {
    if text.bytes().all(|byte| byte.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

fn parse_i64(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Whether `text` is a plain decimal whose fraction has more than 8 significant digits.
fn has_excess_decimals(text: &str) -> bool {
    let unsigned = text.trim_start_matches(['+', '-']);
    let Some((int, frac)) = unsigned.split_once('.') else {
        return false;
    };
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    digits(int) && digits(frac) && frac.trim_end_matches('0').len() > 8
}

/// One `batchOrders` element: an object of strings, numbers or booleans.
fn batch_element(item: &Value) -> Option<Params> {
    let object = item.as_object()?;
    let mut pairs = Vec::with_capacity(object.len());
    for (key, value) in object {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            Value::Null | Value::Array(_) | Value::Object(_) => return None,
        };
        pairs.push((key.clone(), text));
    }
    if pairs.len() > MAX_PARAMS {
        return None;
    }
    Some(Params::from_owned(pairs))
}

fn order_id(item: &Value) -> Option<u64> {
    match item {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => parse_u64(text).filter(|_| !text.is_empty()),
        _ => None,
    }
}

fn checked_list<T>(key: &str, items: Option<Vec<T>>) -> Result<Vec<T>, ApiError> {
    match items {
        Some(items) if !items.is_empty() && items.len() <= MAX_CANCEL_LIST => Ok(items),
        _ => Err(ApiError::invalid_parameter(key)),
    }
}

#[cfg(test)]
mod tests;
