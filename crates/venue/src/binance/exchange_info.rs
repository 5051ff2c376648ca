//! `GET /fapi/v1/exchangeInfo` (`binance-futures.md` §3.2) → [`Instrument`]s with every filter.
//!
//! A cold path (once at start-up and on a schedule), so it reads the body into a
//! `serde_json::Value` and checks each field by hand, which names every problem precisely.
//!
//! # Rules applied per symbol
//!
//! - Filters (all numeric values are strings except `limit`): `PRICE_FILTER` (`minPrice`,
//!   `maxPrice`, `tickSize`), `LOT_SIZE` and `MARKET_LOT_SIZE` (`minQty`, `maxQty`,
//!   `stepSize`), `MIN_NOTIONAL` (`notional`; the spot name `minNotional` is accepted too),
//!   `PERCENT_PRICE` (`multiplierUp`, `multiplierDown`; `multiplierDecimal` only says how many
//!   decimals they carry and is not needed), `MAX_NUM_ORDERS` (`limit`). A zero value disables
//!   its rule, as on the exchange.
//! - `MAX_NUM_ALGO_ORDERS` (removed in late 2025) is recognised and ignored; any other unknown
//!   filter type is ignored and listed in [`SymbolInfo::unknown_filters`], so a new filter never
//!   stops trading but can be logged.
//! - Missing filters: no `PRICE_FILTER` or `LOT_SIZE` → the symbol is skipped (no grid to trade
//!   on); no `MARKET_LOT_SIZE` → `LOT_SIZE` is used for market orders; no `MIN_NOTIONAL` → no
//!   minimum; no `PERCENT_PRICE` → no band; no `MAX_NUM_ORDERS` → 0 (no cap in the model).
//! - `contractType`: the six documented values map to [`ContractType`]; an empty or unknown
//!   value is a perpetual when `deliveryDate` is 4133404800000, ccxt's swap rule quoted in §3.2
//!   (the 2021 capture lists BTCSTUSDT with `contractType:""`); otherwise the symbol is skipped.
//! - A symbol with a malformed field is skipped with the error, and the others are kept: one
//!   odd listing must not stop the venue from trading. Only a body that is not an exchangeInfo
//!   object at all is an error.
//!
//! Skipped symbols are reported in [`ExchangeInfo::skipped`] with their reason.

use std::fmt;

use kestrel_model::instrument::{ContractType, LotSize, PercentPrice, PriceFilter};
use kestrel_model::{Instrument, Money, MoneyError, Price, Qty, Rate};
use serde_json::{Map, Value};

use super::ParseError;
use super::error::truncate;

/// `deliveryDate` of every perpetual (§3.2).
pub const PERPETUAL_DELIVERY_MS: u64 = 4_133_404_800_000;

/// A parsed exchangeInfo: the tradable symbols, the margin assets, and what was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeInfo {
    /// `serverTime`, ms.
    pub server_time_ms: Option<u64>,
    /// `assets`: the margin assets.
    pub assets: Vec<MarginAsset>,
    /// Every symbol that could be read, in the venue's order.
    pub symbols: Vec<SymbolInfo>,
    /// Symbols left out, with the reason.
    pub skipped: Vec<SkippedSymbol>,
}

impl ExchangeInfo {
    /// The instruments, in the venue's order.
    pub fn instruments(&self) -> impl Iterator<Item = &Instrument> {
        self.symbols.iter().map(|symbol| &symbol.instrument)
    }

    /// The instruments, owned.
    #[must_use]
    pub fn into_instruments(self) -> Vec<Instrument> {
        self.symbols.into_iter().map(|s| s.instrument).collect()
    }

    /// The listing of `symbol`, if present.
    #[must_use]
    pub fn symbol(&self, symbol: &str) -> Option<&SymbolInfo> {
        self.symbols.iter().find(|s| s.instrument.symbol == symbol)
    }
}

/// One entry of `assets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginAsset {
    /// `asset`, e.g. `USDT`.
    pub asset: String,
    /// `marginAvailable`: usable as margin.
    pub margin_available: bool,
}

/// One symbol: the model's [`Instrument`] and the listing details it does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolInfo {
    /// The instrument with all its rules.
    pub instrument: Instrument,
    /// `pair`, e.g. `BTCUSDT` (also for dated contracts such as `BTCUSDT_210924`).
    pub pair: String,
    /// `status`, e.g. `TRADING` or `PENDING_TRADING`.
    pub status: String,
    /// `contractType` as sent (empty for some listings).
    pub contract_type_text: String,
    /// `deliveryDate`, ms ([`PERPETUAL_DELIVERY_MS`] for perpetuals).
    pub delivery_date_ms: Option<u64>,
    /// `onboardDate`, ms.
    pub onboard_date_ms: Option<u64>,
    /// `orderTypes`: the order types the venue accepts (ccxt refuses any other).
    pub order_types: Vec<String>,
    /// `timeInForce`: the accepted time-in-force values.
    pub time_in_force: Vec<String>,
    /// Filter types present but not understood (ignored).
    pub unknown_filters: Vec<String>,
}

impl SymbolInfo {
    /// Whether the symbol is open for trading (`status == "TRADING"`, as ccxt decides).
    #[must_use]
    pub fn is_trading(&self) -> bool {
        self.status == "TRADING"
    }
}

/// A symbol left out of [`ExchangeInfo::symbols`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSymbol {
    /// The symbol, or `symbols[<index>]` when it had none.
    pub symbol: String,
    /// Why.
    pub reason: SkipReason,
}

/// Why a symbol was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A field was missing or malformed.
    Malformed(ParseError),
    /// An unknown `contractType` on a contract that is not a perpetual.
    UnknownContractType {
        /// The value sent.
        contract_type: String,
        /// Its `deliveryDate`.
        delivery_date_ms: Option<u64>,
    },
    /// A filter without which the symbol cannot be traded is absent.
    MissingFilter(&'static str),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(error) => error.fmt(f),
            Self::UnknownContractType {
                contract_type,
                delivery_date_ms,
            } => write!(
                f,
                "unknown contractType {contract_type:?} with deliveryDate {delivery_date_ms:?}"
            ),
            Self::MissingFilter(filter) => write!(f, "no {filter} filter"),
        }
    }
}

/// Parses an exchangeInfo body.
///
/// # Errors
/// [`ParseError::InvalidJson`] for text that is not JSON; [`ParseError::UnknownEvent`] for a
/// body that is not an object (or is an error object); [`ParseError::MissingField`] /
/// [`ParseError::WrongType`] when `symbols` is absent or not an array. Problems inside one
/// symbol skip that symbol instead (see the module documentation).
pub fn parse_exchange_info(body: &str) -> Result<ExchangeInfo, ParseError> {
    let value: Value = serde_json::from_str(body).map_err(|e| ParseError::InvalidJson {
        place: "exchangeInfo",
        detail: e.to_string(),
    })?;
    let top = Obj::top(&value)?;
    let Some(symbols) = top.map.get("symbols") else {
        return Err(top.missing("symbols"));
    };
    let Value::Array(symbols) = symbols else {
        return Err(top.wrong("symbols", "an array", symbols));
    };
    let mut info = ExchangeInfo {
        server_time_ms: top.opt_int("serverTime").ok().flatten(),
        assets: margin_assets(&top),
        symbols: Vec::with_capacity(symbols.len()),
        skipped: Vec::new(),
    };
    for (index, symbol) in symbols.iter().enumerate() {
        match symbol_info(symbol, index) {
            Ok(symbol) => info.symbols.push(symbol),
            Err(skipped) => info.skipped.push(skipped),
        }
    }
    Ok(info)
}

/// `assets`; malformed entries are left out (they carry no trading rule).
fn margin_assets(top: &Obj<'_>) -> Vec<MarginAsset> {
    let Some(Value::Array(assets)) = top.map.get("assets") else {
        return Vec::new();
    };
    assets
        .iter()
        .filter_map(|asset| {
            Some(MarginAsset {
                asset: asset.get("asset")?.as_str()?.to_owned(),
                margin_available: asset.get("marginAvailable")?.as_bool()?,
            })
        })
        .collect()
}

/// One symbol, or the reason to skip it.
fn symbol_info(value: &Value, index: usize) -> Result<SymbolInfo, SkippedSymbol> {
    let name = value
        .get("symbol")
        .and_then(Value::as_str)
        .map_or_else(|| format!("symbols[{index}]"), str::to_owned);
    let skip = |reason| SkippedSymbol {
        symbol: name.clone(),
        reason,
    };
    let Value::Object(map) = value else {
        let place = format!("exchangeInfo.{name}");
        let error = ParseError::WrongType {
            place,
            expected: "an object",
            found: found(value),
        };
        return Err(skip(SkipReason::Malformed(error)));
    };
    let obj = Obj {
        map,
        place: format!("exchangeInfo.{name}"),
    };
    read_symbol(&obj).map_err(skip)
}

/// Reads every field of one symbol object.
fn read_symbol(obj: &Obj<'_>) -> Result<SymbolInfo, SkipReason> {
    let malformed = SkipReason::Malformed;
    let contract_type_text = obj.opt_text("contractType").map_err(malformed)?;
    let contract_type_text = contract_type_text.unwrap_or_default().to_owned();
    let delivery_date_ms = obj.opt_int("deliveryDate").map_err(malformed)?;
    let contract_type = contract_type(&contract_type_text, delivery_date_ms).ok_or_else(|| {
        SkipReason::UnknownContractType {
            contract_type: contract_type_text.clone(),
            delivery_date_ms,
        }
    })?;
    let filters = Filters::read(obj)?;
    let instrument = instrument(obj, contract_type, &filters).map_err(malformed)?;
    Ok(SymbolInfo {
        pair: obj
            .opt_text("pair")
            .map_err(malformed)?
            .unwrap_or_default()
            .to_owned(),
        status: obj
            .opt_text("status")
            .map_err(malformed)?
            .unwrap_or_default()
            .to_owned(),
        contract_type_text,
        delivery_date_ms,
        onboard_date_ms: obj.opt_int("onboardDate").map_err(malformed)?,
        order_types: obj.strings("orderTypes").map_err(malformed)?,
        time_in_force: obj.strings("timeInForce").map_err(malformed)?,
        unknown_filters: filters.unknown,
        instrument,
    })
}

/// The documented contract types (§3.2), and ccxt's rule that anything delivering on
/// [`PERPETUAL_DELIVERY_MS`] is a perpetual.
fn contract_type(text: &str, delivery_date_ms: Option<u64>) -> Option<ContractType> {
    Some(match text {
        "PERPETUAL" => ContractType::Perpetual,
        "CURRENT_MONTH" => ContractType::CurrentMonth,
        "NEXT_MONTH" => ContractType::NextMonth,
        "CURRENT_QUARTER" => ContractType::CurrentQuarter,
        "NEXT_QUARTER" => ContractType::NextQuarter,
        "PERPETUAL_DELIVERING" => ContractType::PerpetualDelivering,
        _ if delivery_date_ms == Some(PERPETUAL_DELIVERY_MS) => ContractType::Perpetual,
        _ => return None,
    })
}

/// Builds the instrument from the symbol's fields and its filters (which include the two
/// required ones).
fn instrument(
    obj: &Obj<'_>,
    contract_type: ContractType,
    filters: &Filters,
) -> Result<Instrument, ParseError> {
    let quote_asset = obj.text("quoteAsset")?.to_owned();
    Ok(Instrument {
        symbol: obj.text("symbol")?.to_owned(),
        base_asset: obj.text("baseAsset")?.to_owned(),
        margin_asset: obj
            .opt_text("marginAsset")?
            .map_or_else(|| quote_asset.clone(), str::to_owned),
        quote_asset,
        contract_type,
        price_precision: obj.small_int("pricePrecision")?,
        quantity_precision: obj.small_int("quantityPrecision")?,
        price_filter: filters.price,
        lot_size: filters.lot,
        market_lot_size: filters.market_lot.unwrap_or(filters.lot),
        min_notional: filters.min_notional.unwrap_or(Money::ZERO),
        percent_price: filters.percent_price,
        max_open_orders: filters.max_orders.unwrap_or(0),
    })
}

/// The filters of one symbol.
struct Filters {
    price: PriceFilter,
    lot: LotSize,
    market_lot: Option<LotSize>,
    min_notional: Option<Money>,
    percent_price: Option<PercentPrice>,
    max_orders: Option<u32>,
    unknown: Vec<String>,
}

/// The filters as read, before the required ones are checked.
#[derive(Default)]
struct FilterSlots {
    price: Option<PriceFilter>,
    lot: Option<LotSize>,
    market_lot: Option<LotSize>,
    min_notional: Option<Money>,
    percent_price: Option<PercentPrice>,
    max_orders: Option<u32>,
    unknown: Vec<String>,
}

impl Filters {
    /// Reads `filters`, requiring `PRICE_FILTER` and `LOT_SIZE`.
    fn read(symbol: &Obj<'_>) -> Result<Self, SkipReason> {
        let mut slots = FilterSlots::default();
        let list = match symbol.map.get("filters") {
            Some(Value::Array(list)) => list.as_slice(),
            Some(other) => {
                let error = symbol.wrong("filters", "an array", other);
                return Err(SkipReason::Malformed(error));
            }
            None => &[],
        };
        for (index, filter) in list.iter().enumerate() {
            symbol
                .child(filter, &format!("filters[{index}]"))
                .and_then(|filter| slots.read_one(&filter))
                .map_err(SkipReason::Malformed)?;
        }
        Ok(Self {
            price: slots
                .price
                .ok_or(SkipReason::MissingFilter("PRICE_FILTER"))?,
            lot: slots.lot.ok_or(SkipReason::MissingFilter("LOT_SIZE"))?,
            market_lot: slots.market_lot,
            min_notional: slots.min_notional,
            percent_price: slots.percent_price,
            max_orders: slots.max_orders,
            unknown: slots.unknown,
        })
    }
}

impl FilterSlots {
    /// Files one filter object by its `filterType`.
    fn read_one(&mut self, filter: &Obj<'_>) -> Result<(), ParseError> {
        match filter.text("filterType")? {
            "PRICE_FILTER" => {
                self.price = Some(PriceFilter {
                    min_price: filter.decimal("minPrice", Price::parse)?,
                    max_price: filter.decimal("maxPrice", Price::parse)?,
                    tick_size: filter.decimal("tickSize", Price::parse)?,
                });
            }
            "LOT_SIZE" => self.lot = Some(lot_size(filter)?),
            "MARKET_LOT_SIZE" => self.market_lot = Some(lot_size(filter)?),
            "MIN_NOTIONAL" => {
                let key = if filter.map.contains_key("notional") {
                    "notional"
                } else {
                    "minNotional"
                };
                self.min_notional = Some(filter.decimal(key, Money::parse)?);
            }
            "PERCENT_PRICE" => {
                self.percent_price = Some(PercentPrice {
                    multiplier_up: filter.decimal("multiplierUp", Rate::parse)?,
                    multiplier_down: filter.decimal("multiplierDown", Rate::parse)?,
                });
            }
            "MAX_NUM_ORDERS" => self.max_orders = Some(filter.small_int("limit")?),
            "MAX_NUM_ALGO_ORDERS" => {}
            other => self.unknown.push(other.to_owned()),
        }
        Ok(())
    }
}

/// `LOT_SIZE` / `MARKET_LOT_SIZE`.
fn lot_size(filter: &Obj<'_>) -> Result<LotSize, ParseError> {
    Ok(LotSize {
        min_qty: filter.decimal("minQty", Qty::parse)?,
        max_qty: filter.decimal("maxQty", Qty::parse)?,
        step_size: filter.decimal("stepSize", Qty::parse)?,
    })
}

/// A JSON object and where it sits, for error messages.
struct Obj<'v> {
    map: &'v Map<String, Value>,
    place: String,
}

impl<'v> Obj<'v> {
    /// The body's top-level object.
    fn top(value: &'v Value) -> Result<Self, ParseError> {
        let unknown = |detail: String| ParseError::UnknownEvent {
            place: "exchangeInfo",
            detail,
        };
        let Value::Object(map) = value else {
            return Err(unknown(format!(
                "expected an object, found {}",
                found(value)
            )));
        };
        if let (Some(code), None) = (map.get("code"), map.get("symbols")) {
            let msg = map.get("msg").and_then(Value::as_str).unwrap_or_default();
            return Err(unknown(format!(
                "error {code} from the venue: {}",
                truncate(msg)
            )));
        }
        Ok(Self {
            map,
            place: "exchangeInfo".to_owned(),
        })
    }

    /// A nested object at `path` below this one.
    fn child(&self, value: &'v Value, path: &str) -> Result<Self, ParseError> {
        match value {
            Value::Object(map) => Ok(Self {
                map,
                place: format!("{}.{path}", self.place),
            }),
            other => Err(ParseError::WrongType {
                place: format!("{}.{path}", self.place),
                expected: "an object",
                found: found(other),
            }),
        }
    }

    fn missing(&self, key: &str) -> ParseError {
        ParseError::MissingField {
            place: format!("{}.{key}", self.place),
        }
    }

    fn wrong(&self, key: &str, expected: &'static str, value: &Value) -> ParseError {
        ParseError::WrongType {
            place: format!("{}.{key}", self.place),
            expected,
            found: found(value),
        }
    }

    fn text(&self, key: &str) -> Result<&'v str, ParseError> {
        self.opt_text(key)?.ok_or_else(|| self.missing(key))
    }

    fn opt_text(&self, key: &str) -> Result<Option<&'v str>, ParseError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    fn opt_int(&self, key: &str) -> Result<Option<u64>, ParseError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a non-negative integer", value)),
        }
    }

    /// A required integer that fits a `u32` (precisions, order caps).
    fn small_int(&self, key: &str) -> Result<u32, ParseError> {
        let value = self.map.get(key).ok_or_else(|| self.missing(key))?;
        value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| self.wrong(key, "a non-negative integer below 2^32", value))
    }

    /// `orderTypes` / `timeInForce`: an optional array of strings.
    fn strings(&self, key: &str) -> Result<Vec<String>, ParseError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => Ok(text.clone()),
                    other => Err(self.wrong(key, "an array of strings", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(key, "an array of strings", other)),
        }
    }

    /// A required, non-negative decimal string (filter values are strings, §3.2).
    fn decimal<T: Copy + Default + Ord>(
        &self,
        key: &str,
        parse: fn(&str) -> Result<T, MoneyError>,
    ) -> Result<T, ParseError> {
        let text = self.text(key)?;
        let place = || format!("{}.{key}", self.place);
        match parse(text) {
            Ok(value) if value >= T::default() => Ok(value),
            Ok(_) => Err(ParseError::BadDecimal {
                place: place(),
                text: truncate(text),
                reason: "must not be negative".to_owned(),
            }),
            Err(error) => Err(ParseError::bad_decimal(place(), text, &error)),
        }
    }
}

/// The JSON type of a value, for error messages.
const fn found(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
