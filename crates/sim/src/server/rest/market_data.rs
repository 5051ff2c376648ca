//! Public market-data endpoints (security `NONE`, `../shared/binance-futures.md` §3.2):
//! connectivity and time, `exchangeInfo`, depth, trades, klines, mark price and funding, and
//! the tickers.
//!
//! Rules implemented, and the simulator's choices where the reference leaves one:
//! - Decimals are strings: prices at the symbol's `pricePrecision`, quantities at its
//!   `quantityPrecision`, quote amounts exact (price decimals + quantity decimals, which every
//!   product of grid values fits), mark/index prices and funding rates with 8 decimals; ids,
//!   times and counts are integers (§3.1).
//! - Every print is its own aggregate trade (`a == f == l == id`), as on the `@aggTrade`
//!   stream. `aggTrades` takes `fromId` *or* a time range (`-1128` for both); a range longer
//!   than one hour is `-1127`; a one-sided range spans one hour from the side given.
//! - Klines are built from the venue's one-minute candles, one bucket per interval: `3d` and
//!   shorter intervals are aligned to the epoch, `1w` to Monday 00:00 UTC, `1M` to the
//!   calendar month. An interval without trades repeats the previous close with zero volume,
//!   from the first trade up to the interval in progress. Rows are those whose open time lies
//!   in [`startTime`, `endTime`]: the first `limit` of them with `startTime`, else the last.
//! - `markPriceKlines` and `indexPriceKlines` (which takes `pair`) are served from the same
//!   trade candles, with the volume fields `"0"` and the count the number of one-minute
//!   candles: the venue keeps no mark-price history, so they approximate the mark by trades.
//! - The 24-hour ticker covers the one-minute candles that overlap the last 24 hours, with
//!   exact decimal arithmetic (`priceChangePercent` with 3 decimals, `weightedAvgPrice` at
//!   price precision, each rounded once, half to even). Trade ids are consecutive per symbol,
//!   so `firstId = lastId - count + 1`; with no trade in the window they are `-1` and the
//!   prices are the last price.
//! - Where no trade has happened yet, `lastPrice` / `price` fall back to the mark price.
//! - `openInterest` is the larger of the API accounts' summed long and summed short
//!   quantities: the synthetic market's agents hold no account positions, so this is the
//!   interest the API users carry against the market.
//! - `limit` of `0` is `-1130`; a `limit` above an endpoint's maximum is capped to it.

use std::collections::VecDeque;

use axum::http::Method;
use kestrel_model::instrument::ContractType;
use kestrel_model::{Instrument, Money, Price, Qty};
use serde_json::{Value, json};

use super::{Call, Endpoint, Handler, fixed};
use crate::api::ws_protocol::KlineInterval;
use crate::api::{ApiError, Params, SecurityLevel};
use crate::exchange::feed::{PublicTrade, levels_json};
use crate::exchange::market::Candle;
use crate::exchange::{Exchange, Market, Precision};

/// `deliveryDate` of perpetuals (§3.2; ccxt treats it as "swap").
pub const PERPETUAL_DELIVERY_MS: u64 = 4_133_404_800_000;
/// `onboardDate` of every listed symbol: when Binance listed its first perpetual (BTCUSDT).
pub const ONBOARD_MS: u64 = 1_569_398_400_000;
/// The `limit` values `/fapi/v1/depth` accepts (§3.2).
pub const DEPTH_LIMITS: [u64; 7] = [5, 10, 20, 50, 100, 500, 1000];

/// Decimals of mark and index prices and funding rates (Binance shows 8).
const MARK_DECIMALS: usize = 8;
const MINUTE_MS: u64 = 60_000;
const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 86_400_000;
/// 1970-01-01 was a Thursday: adding three days to a time makes weeks start on Monday.
const MONDAY_SHIFT_MS: u64 = 3 * DAY_MS;

/// Looks up the public endpoint for `method` and `path` (no trailing slash).
#[must_use]
pub fn route(method: &Method, path: &str) -> Option<Endpoint> {
    if *method != Method::GET {
        return None;
    }
    let handler: Handler = match path {
        "/fapi/v1/ping" => ping,
        "/fapi/v1/time" => server_time,
        "/fapi/v1/exchangeInfo" => exchange_info,
        "/fapi/v1/depth" => depth,
        "/fapi/v1/trades" => trades,
        "/fapi/v1/aggTrades" => agg_trades,
        "/fapi/v1/klines" => klines,
        "/fapi/v1/markPriceKlines" => mark_price_klines,
        "/fapi/v1/indexPriceKlines" => index_price_klines,
        "/fapi/v1/premiumIndex" => premium_index,
        "/fapi/v1/fundingRate" => funding_rate,
        "/fapi/v1/ticker/bookTicker" => book_ticker,
        "/fapi/v1/ticker/24hr" => ticker_24hr,
        "/fapi/v1/ticker/price" | "/fapi/v2/ticker/price" => ticker_price,
        "/fapi/v1/openInterest" => open_interest,
        _ => return None,
    };
    Some(Endpoint {
        security: SecurityLevel::None,
        handler,
    })
}

fn ping(_: &mut Exchange, _: &Call<'_>) -> Result<Value, ApiError> {
    Ok(json!({}))
}

fn server_time(_: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    Ok(json!({ "serverTime": call.now_ms }))
}

/// One row per market for the optional `symbol`: the row itself when it is given, an array of
/// every market's row otherwise.
fn per_market(
    exchange: &Exchange,
    params: &Params,
    row: impl Fn(&Market) -> Value,
) -> Result<Value, ApiError> {
    match params.opt_symbol()? {
        Some(symbol) => Ok(row(exchange.market(&symbol)?)),
        None => Ok(Value::Array(exchange.markets().values().map(row).collect())),
    }
}

/// The `limit` parameter: `default` when absent, capped at `max`, `-1130` for 0.
fn limit_param(params: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match params.opt_u64("limit")? {
        None => Ok(default),
        Some(0) => Err(ApiError::invalid_parameter("limit")),
        Some(n) => Ok(usize::try_from(n).map_or(max, |n| n.min(max))),
    }
}

/// `startTime` and `endTime`, `-1023` when the start is after the end.
fn time_range(params: &Params) -> Result<(Option<u64>, Option<u64>), ApiError> {
    let start = params.opt_u64("startTime")?;
    let end = params.opt_u64("endTime")?;
    match (start, end) {
        (Some(start), Some(end)) if start > end => Err(ApiError::start_time_after_end_time()),
        _ => Ok((start, end)),
    }
}

/// A quote amount, exact: a product of grid prices and quantities never has more decimals.
fn quote_text(amount: Money, p: Precision) -> String {
    fixed(amount, p.price + p.qty)
}

/// The last trade price, or the mark before the first trade.
fn last_price(market: &Market) -> Price {
    market.last_price.unwrap_or(market.mark.mark)
}

// ---------------------------------------------------------------------------------------------
// exchangeInfo
// ---------------------------------------------------------------------------------------------

fn exchange_info(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let limits = &exchange.config().limits;
    let rate_limits = json!([
        rate_limit("REQUEST_WEIGHT", "MINUTE", 1, limits.weight_per_minute),
        rate_limit("ORDERS", "SECOND", 10, limits.orders_per_10s),
        rate_limit("ORDERS", "MINUTE", 1, limits.orders_per_minute),
    ]);
    let symbols: Vec<Value> = exchange
        .markets()
        .values()
        .map(|m| symbol_info(&m.instrument))
        .collect();
    Ok(json!({
        "timezone": "UTC",
        "serverTime": call.now_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": rate_limits,
        "exchangeFilters": [],
        "assets": [{ "asset": "USDT", "marginAvailable": true, "autoAssetExchange": "0" }],
        "symbols": symbols,
    }))
}

/// One `rateLimits` entry (§4.1).
#[must_use]
pub fn rate_limit(kind: &str, interval: &str, interval_num: u32, limit: u32) -> Value {
    json!({ "rateLimitType": kind, "interval": interval, "intervalNum": interval_num, "limit": limit })
}

fn contract_type_name(kind: ContractType) -> &'static str {
    match kind {
        ContractType::Perpetual | ContractType::Spot => "PERPETUAL",
        ContractType::CurrentMonth => "CURRENT_MONTH",
        ContractType::NextMonth => "NEXT_MONTH",
        ContractType::CurrentQuarter => "CURRENT_QUARTER",
        ContractType::NextQuarter => "NEXT_QUARTER",
        ContractType::PerpetualDelivering => "PERPETUAL_DELIVERING",
    }
}

/// One `symbols[]` entry with every field of §3.2's table.
fn symbol_info(instrument: &Instrument) -> Value {
    json!({
        "symbol": instrument.symbol,
        "pair": instrument.symbol,
        "contractType": contract_type_name(instrument.contract_type),
        "deliveryDate": PERPETUAL_DELIVERY_MS,
        "onboardDate": ONBOARD_MS,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": instrument.base_asset,
        "quoteAsset": instrument.quote_asset,
        "marginAsset": instrument.margin_asset,
        "pricePrecision": instrument.price_precision,
        "quantityPrecision": instrument.quantity_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": symbol_filters(instrument),
        "orderTypes": [
            "LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
            "TRAILING_STOP_MARKET",
        ],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    })
}

/// The `filters` of a symbol (§3.2): numbers as strings except `limit`.
fn symbol_filters(instrument: &Instrument) -> Vec<Value> {
    let price_dp = instrument.price_precision as usize;
    let qty_dp = instrument.quantity_precision as usize;
    let price = &instrument.price_filter;
    let lot = |kind: &str, lot: &kestrel_model::instrument::LotSize| {
        json!({
            "filterType": kind,
            "minQty": fixed(lot.min_qty, qty_dp),
            "maxQty": fixed(lot.max_qty, qty_dp),
            "stepSize": fixed(lot.step_size, qty_dp),
        })
    };
    let mut filters = vec![
        json!({
            "filterType": "PRICE_FILTER",
            "minPrice": fixed(price.min_price, price_dp),
            "maxPrice": fixed(price.max_price, price_dp),
            "tickSize": fixed(price.tick_size, price_dp),
        }),
        lot("LOT_SIZE", &instrument.lot_size),
        lot("MARKET_LOT_SIZE", &instrument.market_lot_size),
        json!({ "filterType": "MAX_NUM_ORDERS", "limit": instrument.max_open_orders }),
        json!({ "filterType": "MIN_NOTIONAL", "notional": instrument.min_notional.to_string() }),
    ];
    if let Some(band) = instrument.percent_price {
        filters.push(json!({
            "filterType": "PERCENT_PRICE",
            "multiplierUp": fixed(band.multiplier_up, 4),
            "multiplierDown": fixed(band.multiplier_down, 4),
            "multiplierDecimal": "4",
        }));
    }
    filters
}

// ---------------------------------------------------------------------------------------------
// Book and trades
// ---------------------------------------------------------------------------------------------

fn depth(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let symbol = call.params.symbol()?;
    let limit = call.params.opt_u64("limit")?.unwrap_or(500);
    if !DEPTH_LIMITS.contains(&limit) {
        return Err(ApiError::invalid_parameter("limit"));
    }
    let p = exchange.market(&symbol)?.precision;
    let levels = usize::try_from(limit).map_err(|_| ApiError::invalid_parameter("limit"))?;
    let snapshot = exchange.depth(&symbol, levels)?;
    Ok(json!({
        "lastUpdateId": snapshot.last_update_id,
        "E": call.now_ms,
        "T": call.now_ms,
        "bids": levels_json(&snapshot.bids, p),
        "asks": levels_json(&snapshot.asks, p),
    }))
}

fn trades(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let market = exchange.market(&call.params.symbol()?)?;
    let limit = limit_param(call.params, 500, 1000)?;
    let p = market.precision;
    let skip = market.trades.len().saturating_sub(limit);
    let rows = market.trades.iter().skip(skip).map(|t| {
        json!({
            "id": t.trade_id,
            "price": fixed(t.price, p.price),
            "qty": fixed(t.qty, p.qty),
            "quoteQty": quote_text(t.price.notional(t.qty), p),
            "time": t.time_ms,
            "isBuyerMaker": t.buyer_is_maker,
            "isRPITrade": false,
        })
    });
    Ok(Value::Array(rows.collect()))
}

fn agg_trades(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let params = call.params;
    let market = exchange.market(&params.symbol()?)?;
    let limit = limit_param(params, 500, 1000)?;
    let from_id = params.opt_u64("fromId")?;
    let (start, end) = time_range(params)?;
    let all = &market.trades;
    let selected: Vec<&PublicTrade> = match (from_id, start, end) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(ApiError::optional_params_bad_combo());
        }
        (Some(id), None, None) => all
            .iter()
            .filter(|t| t.trade_id >= id)
            .take(limit)
            .collect(),
        (None, None, None) => all.iter().skip(all.len().saturating_sub(limit)).collect(),
        (None, start, end) => {
            let (from, to) = agg_window(start, end)?;
            let in_window = |t: &&PublicTrade| (from..=to).contains(&t.time_ms);
            all.iter().filter(in_window).take(limit).collect()
        }
    };
    let p = market.precision;
    let rows = selected.into_iter().map(|t| {
        json!({
            "a": t.trade_id,
            "p": fixed(t.price, p.price),
            "q": fixed(t.qty, p.qty),
            "f": t.trade_id,
            "l": t.trade_id,
            "T": t.time_ms,
            "m": t.buyer_is_maker,
        })
    });
    Ok(Value::Array(rows.collect()))
}

/// The inclusive `aggTrades` window: at most one hour (`-1127` beyond); one side given spans
/// an hour from it.
fn agg_window(start: Option<u64>, end: Option<u64>) -> Result<(u64, u64), ApiError> {
    let (from, to) = match (start, end) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => (from, from.saturating_add(HOUR_MS)),
        (None, Some(to)) => (to.saturating_sub(HOUR_MS), to),
        (None, None) => (0, u64::MAX),
    };
    if start.is_some() && end.is_some() && to - from > HOUR_MS {
        return Err(ApiError::more_than_hours(1));
    }
    Ok((from, to))
}

// ---------------------------------------------------------------------------------------------
// Klines
// ---------------------------------------------------------------------------------------------

/// Which kline endpoint renders the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KlineKind {
    /// `/klines`: trade prices and volumes.
    Trades,
    /// `/markPriceKlines`, `/indexPriceKlines`: prices only.
    PriceOnly,
}

/// One kline row aggregated from one-minute candles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bar {
    open_ms: u64,
    open: Price,
    high: Price,
    low: Price,
    close: Price,
    volume: Qty,
    quote_volume: Money,
    trades: u64,
    taker_buy_volume: Qty,
    taker_buy_quote: Money,
    /// How many one-minute candles went into it.
    minutes: u64,
}

impl Bar {
    fn from_candle(open_ms: u64, c: &Candle) -> Self {
        Self {
            open_ms,
            open: c.open,
            high: c.high,
            low: c.low,
            close: c.close,
            volume: c.volume,
            quote_volume: c.quote_volume,
            trades: c.trades,
            taker_buy_volume: c.taker_buy_volume,
            taker_buy_quote: c.taker_buy_quote,
            minutes: 1,
        }
    }

    /// An interval without trades: the previous close, zero volume.
    fn quiet(open_ms: u64, close: Price) -> Self {
        Self {
            open_ms,
            open: close,
            high: close,
            low: close,
            close,
            volume: Qty::ZERO,
            quote_volume: Money::ZERO,
            trades: 0,
            taker_buy_volume: Qty::ZERO,
            taker_buy_quote: Money::ZERO,
            minutes: 0,
        }
    }

    fn absorb(&mut self, c: &Candle) {
        self.high = self.high.max(c.high);
        self.low = self.low.min(c.low);
        self.close = c.close;
        self.volume = self.volume.try_add(c.volume).unwrap_or(self.volume);
        let quote = self.quote_volume.try_add(c.quote_volume);
        self.quote_volume = quote.unwrap_or(self.quote_volume);
        self.trades += c.trades;
        let taker = self.taker_buy_volume.try_add(c.taker_buy_volume);
        self.taker_buy_volume = taker.unwrap_or(self.taker_buy_volume);
        let taker_quote = self.taker_buy_quote.try_add(c.taker_buy_quote);
        self.taker_buy_quote = taker_quote.unwrap_or(self.taker_buy_quote);
        self.minutes += 1;
    }
}

/// The open time of the `interval` bucket holding `time_ms` (alignment in the module docs).
fn bucket_start(time_ms: u64, interval: KlineInterval) -> u64 {
    match (interval, interval.duration_ms()) {
        (KlineInterval::W1, Some(week)) => {
            time_ms.saturating_sub((time_ms + MONDAY_SHIFT_MS) % week)
        }
        (_, Some(length)) => time_ms - time_ms % length,
        (_, None) => month_start(time_ms),
    }
}

/// The open time of the bucket after the one opening at `open_ms`.
fn next_bucket(open_ms: u64, interval: KlineInterval) -> u64 {
    match interval.duration_ms() {
        Some(length) => open_ms.saturating_add(length),
        None => next_month_start(open_ms),
    }
}

/// The first millisecond of the calendar month (UTC) holding `time_ms`.
fn month_start(time_ms: u64) -> u64 {
    let (year, month) = civil_month(days_of(time_ms));
    ms_of_days(first_day_of(year, month))
}

/// The first millisecond of the calendar month after the one holding `time_ms`.
fn next_month_start(time_ms: u64) -> u64 {
    let (year, month) = civil_month(days_of(time_ms));
    let (year, month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    ms_of_days(first_day_of(year, month))
}

fn days_of(time_ms: u64) -> i64 {
    i64::try_from(time_ms / DAY_MS).unwrap_or(i64::MAX / 2)
}

fn ms_of_days(days: i64) -> u64 {
    u64::try_from(days).map_or(0, |days| days.saturating_mul(DAY_MS))
}

/// Year and month (1–12) of a day counted from 1970-01-01 (H. Hinnant's civil calendar).
fn civil_month(days: i64) -> (i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month)
}

/// The day number (from 1970-01-01) of the first day of `month` (1–12) of `year`.
fn first_day_of(year: i64, month: i64) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The candles folded into `interval` buckets, oldest first, only where there were trades.
fn aggregate<'a>(
    candles: impl IntoIterator<Item = &'a Candle>,
    interval: KlineInterval,
) -> Vec<Bar> {
    let mut bars: Vec<Bar> = Vec::new();
    for candle in candles {
        let open_ms = bucket_start(candle.open_ms, interval);
        match bars.last_mut() {
            Some(bar) if bar.open_ms == open_ms => bar.absorb(candle),
            _ => bars.push(Bar::from_candle(open_ms, candle)),
        }
    }
    bars
}

/// What a klines request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KlineQuery {
    interval: KlineInterval,
    start_ms: Option<u64>,
    end_ms: Option<u64>,
    limit: usize,
    now_ms: u64,
}

/// The rows a klines request returns, quiet intervals filled in (rules in the module docs).
fn kline_bars(candles: &VecDeque<Candle>, query: &KlineQuery) -> Vec<Bar> {
    let interval = query.interval;
    let sparse = aggregate(candles, interval);
    let (Some(first), Some(last)) = (sparse.first(), sparse.last()) else {
        return Vec::new();
    };
    let latest = bucket_start(query.now_ms, interval).max(last.open_ms);
    let hi = query
        .end_ms
        .map_or(latest, |end| bucket_start(end, interval).min(latest));
    let mut lo = first.open_ms;
    if let Some(start) = query.start_ms {
        let aligned = bucket_start(start, interval);
        lo = lo.max(if aligned == start {
            start
        } else {
            next_bucket(aligned, interval)
        });
    } else if let Some(length) = interval.duration_ms() {
        let span = length.saturating_mul(u64::try_from(query.limit).unwrap_or(u64::MAX) - 1);
        lo = lo.max(hi.saturating_sub(span));
    }
    fill_bars(&sparse, lo, hi, query)
}

/// Walks the buckets from `lo` to `hi`, taking the bar of each or a quiet one, and keeps the
/// first `limit` (with `startTime`) or the last `limit`.
fn fill_bars(sparse: &[Bar], lo: u64, hi: u64, query: &KlineQuery) -> Vec<Bar> {
    let mut prev_close = sparse
        .iter()
        .rev()
        .find(|b| b.open_ms < lo)
        .map(|b| b.close);
    let mut pending = sparse.iter().filter(|b| b.open_ms >= lo).peekable();
    let mut out: VecDeque<Bar> = VecDeque::new();
    let mut open_ms = lo;
    while open_ms <= hi {
        let bar = match pending.next_if(|b| b.open_ms == open_ms) {
            Some(bar) => Some(*bar),
            None => prev_close.map(|close| Bar::quiet(open_ms, close)),
        };
        if let Some(bar) = bar {
            prev_close = Some(bar.close);
            out.push_back(bar);
            if out.len() > query.limit {
                out.pop_front();
            }
            if query.start_ms.is_some() && out.len() == query.limit {
                break;
            }
        }
        let next = next_bucket(open_ms, query.interval);
        if next <= open_ms {
            break;
        }
        open_ms = next;
    }
    out.into()
}

/// The 12-element row of `bar` (§3.2).
fn kline_row(bar: &Bar, interval: KlineInterval, kind: KlineKind, p: Precision) -> Value {
    let close_ms = next_bucket(bar.open_ms, interval).saturating_sub(1);
    let price = |value: Price| fixed(value, p.price);
    match kind {
        KlineKind::Trades => json!([
            bar.open_ms,
            price(bar.open),
            price(bar.high),
            price(bar.low),
            price(bar.close),
            fixed(bar.volume, p.qty),
            close_ms,
            quote_text(bar.quote_volume, p),
            bar.trades,
            fixed(bar.taker_buy_volume, p.qty),
            quote_text(bar.taker_buy_quote, p),
            "0",
        ]),
        KlineKind::PriceOnly => json!([
            bar.open_ms,
            price(bar.open),
            price(bar.high),
            price(bar.low),
            price(bar.close),
            "0",
            close_ms,
            "0",
            bar.minutes,
            "0",
            "0",
            "0",
        ]),
    }
}

/// Serves a klines request on `market` (parameters as in §3.2).
fn kline_rows(market: &Market, call: &Call<'_>, kind: KlineKind) -> Result<Value, ApiError> {
    let params = call.params;
    let interval_text = params.required("interval")?;
    let interval = KlineInterval::parse(interval_text).ok_or_else(ApiError::bad_interval)?;
    let (start_ms, end_ms) = time_range(params)?;
    let query = KlineQuery {
        interval,
        start_ms,
        end_ms,
        limit: limit_param(params, 500, 1500)?,
        now_ms: call.now_ms,
    };
    let p = market.precision;
    let rows = kline_bars(&market.candles, &query)
        .iter()
        .map(|bar| kline_row(bar, interval, kind, p))
        .collect();
    Ok(Value::Array(rows))
}

fn klines(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let market = exchange.market(&call.params.symbol()?)?;
    kline_rows(market, call, KlineKind::Trades)
}

fn mark_price_klines(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let market = exchange.market(&call.params.symbol()?)?;
    kline_rows(market, call, KlineKind::PriceOnly)
}

fn index_price_klines(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let pair = call.params.required("pair")?.to_ascii_uppercase();
    let market = exchange.market(&pair)?;
    kline_rows(market, call, KlineKind::PriceOnly)
}

// ---------------------------------------------------------------------------------------------
// Mark price and funding
// ---------------------------------------------------------------------------------------------

fn premium_index(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let now_ms = call.now_ms;
    per_market(exchange, call.params, |market| {
        let mark = &market.mark;
        json!({
            "symbol": market.symbol(),
            "markPrice": fixed(mark.mark, MARK_DECIMALS),
            "indexPrice": fixed(mark.index, MARK_DECIMALS),
            "estimatedSettlePrice": fixed(mark.index, MARK_DECIMALS),
            "lastFundingRate": fixed(mark.funding_rate, MARK_DECIMALS),
            "interestRate": "0.00010000",
            "nextFundingTime": mark.next_funding_ms,
            "time": now_ms,
        })
    })
}

fn funding_rate(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let params = call.params;
    let symbol = params.opt_symbol()?;
    if let Some(symbol) = &symbol {
        exchange.market(symbol)?;
    }
    let (start, end) = time_range(params)?;
    let limit = limit_param(params, 100, 1000)?;
    let in_range = |time: u64| start.is_none_or(|s| time >= s) && end.is_none_or(|e| time <= e);
    let mut rows: Vec<(u64, &str, Value)> = Vec::new();
    for market in exchange.markets().values() {
        if symbol.as_deref().is_some_and(|s| s != market.symbol()) {
            continue;
        }
        for (time, rate, mark) in market.funding_history.iter().filter(|(t, ..)| in_range(*t)) {
            let row = json!({
                "symbol": market.symbol(),
                "fundingRate": fixed(rate, MARK_DECIMALS),
                "fundingTime": time,
                "markPrice": fixed(mark, MARK_DECIMALS),
            });
            rows.push((*time, market.symbol(), row));
        }
    }
    rows.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let skip = if start.is_some() {
        0
    } else {
        rows.len().saturating_sub(limit)
    };
    Ok(Value::Array(
        rows.into_iter()
            .skip(skip)
            .take(limit)
            .map(|(_, _, row)| row)
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Tickers and open interest
// ---------------------------------------------------------------------------------------------

fn book_ticker(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let now_ms = call.now_ms;
    let exchange = &*exchange;
    per_market(exchange, call.params, |market| {
        let p = market.precision;
        // Through `depth`, so a replayed book is served in replay mode.
        let top = exchange.depth(market.symbol(), 1).ok();
        let best = |levels: Option<&Vec<(Price, Qty)>>| {
            let (price, qty) = levels.and_then(|l| l.first().copied()).unwrap_or_default();
            (fixed(price, p.price), fixed(qty, p.qty))
        };
        let (bid_price, bid_qty) = best(top.as_ref().map(|t| &t.bids));
        let (ask_price, ask_qty) = best(top.as_ref().map(|t| &t.asks));
        json!({
            "symbol": market.symbol(),
            "bidPrice": bid_price,
            "bidQty": bid_qty,
            "askPrice": ask_price,
            "askQty": ask_qty,
            "time": now_ms,
            "lastUpdateId": top.map_or_else(|| market.update_id(), |t| t.last_update_id),
        })
    })
}

fn ticker_price(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let now_ms = call.now_ms;
    per_market(exchange, call.params, |market| {
        json!({
            "symbol": market.symbol(),
            "price": fixed(last_price(market), market.precision.price),
            "time": now_ms,
        })
    })
}

fn ticker_24hr(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let now_ms = call.now_ms;
    per_market(exchange, call.params, |market| ticker_row(market, now_ms))
}

/// The candles overlapping the 24 hours before `now_ms` as one bar, or a quiet bar at the last
/// price when none traded.
fn day_bar(market: &Market, now_ms: u64) -> Bar {
    let window_start = now_ms.saturating_sub(DAY_MS);
    let first_minute = window_start - window_start % MINUTE_MS;
    let mut in_window = market.candles.iter().filter(|c| c.open_ms >= first_minute);
    let Some(first) = in_window.next() else {
        return Bar::quiet(window_start, last_price(market));
    };
    let mut bar = Bar::from_candle(first.open_ms, first);
    in_window.for_each(|candle| bar.absorb(candle));
    bar
}

/// `numerator / denominator` rounded once, half to even, to `decimals` places (at most 16),
/// as text; `None` when the denominator is zero or the arithmetic overflows.
fn ratio_text(numerator: Money, denominator: Money, decimals: usize) -> Option<String> {
    let places = u32::try_from(decimals).ok().filter(|d| *d <= 16)?;
    let (mut num, mut den) = (
        numerator.raw().checked_mul(10_i128.pow(places))?,
        denominator.raw(),
    );
    if den == 0 {
        return None;
    }
    if den < 0 {
        (num, den) = (num.checked_neg()?, -den);
    }
    let (quotient, remainder) = (num.div_euclid(den), num.rem_euclid(den));
    let twice = remainder.checked_mul(2)?;
    let round_up = twice > den || (twice == den && quotient.rem_euclid(2) == 1);
    let units = quotient + i128::from(round_up);
    let on_grid = Money::from_raw(units.checked_mul(10_i128.pow(16 - places))?);
    Some(fixed(on_grid, decimals))
}

/// `100 × change / open` with 3 decimals, `"0.000"` when the open is zero.
fn percent_text(change: Price, open: Price) -> String {
    change
        .to_money()
        .raw()
        .checked_mul(100)
        .and_then(|hundredfold| ratio_text(Money::from_raw(hundredfold), open.to_money(), 3))
        .unwrap_or_else(|| "0.000".to_owned())
}

/// One `/ticker/24hr` row (§3.2).
fn ticker_row(market: &Market, now_ms: u64) -> Value {
    let p = market.precision;
    let day = day_bar(market, now_ms);
    let change = day.close.try_sub(day.open).unwrap_or(Price::ZERO);
    let weighted = ratio_text(day.quote_volume, day.volume.to_money(), p.price)
        .unwrap_or_else(|| fixed(Price::ZERO, p.price));
    let last_trade = market.trades.back().filter(|_| day.trades > 0);
    let last_id = last_trade.map_or(-1, |t| i64::try_from(t.trade_id).unwrap_or(i64::MAX));
    let count = i64::try_from(day.trades).unwrap_or(i64::MAX);
    let first_id = if count > 0 { last_id - count + 1 } else { -1 };
    json!({
        "symbol": market.symbol(),
        "priceChange": fixed(change, p.price),
        "priceChangePercent": percent_text(change, day.open),
        "weightedAvgPrice": weighted,
        "lastPrice": fixed(day.close, p.price),
        "lastQty": fixed(last_trade.map_or(Qty::ZERO, |t| t.qty), p.qty),
        "openPrice": fixed(day.open, p.price),
        "highPrice": fixed(day.high, p.price),
        "lowPrice": fixed(day.low, p.price),
        "volume": fixed(day.volume, p.qty),
        "quoteVolume": quote_text(day.quote_volume, p),
        "openTime": now_ms.saturating_sub(DAY_MS),
        "closeTime": now_ms,
        "firstId": first_id,
        "lastId": last_id,
        "count": day.trades,
    })
}

fn open_interest(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let symbol = call.params.symbol()?;
    let p = exchange.market(&symbol)?.precision;
    let (mut long, mut short) = (Qty::ZERO, Qty::ZERO);
    for (_, account) in exchange.accounts().iter() {
        for position in account.positions().filter(|pos| pos.symbol == symbol) {
            if position.qty.is_positive() {
                long = long.try_add(position.qty).unwrap_or(long);
            } else {
                short = short.try_add(position.qty.abs()).unwrap_or(short);
            }
        }
    }
    Ok(json!({
        "openInterest": fixed(long.max(short), p.qty),
        "symbol": symbol,
        "time": call.now_ms,
    }))
}

/// The `kline` stream event (§6.8) for the bar of `interval` in progress at `now_ms`, or
/// `None` before the first trade.
#[must_use]
pub fn kline_event(market: &Market, interval: KlineInterval, now_ms: u64) -> Option<Value> {
    let open_ms = bucket_start(now_ms, interval);
    let current = aggregate(
        market.candles.iter().filter(|c| c.open_ms >= open_ms),
        interval,
    );
    let last_close = market.last_price?;
    let bar = current
        .last()
        .copied()
        .unwrap_or_else(|| Bar::quiet(open_ms, last_close));
    let (first, last) = market
        .trades
        .iter()
        .filter(|t| t.time_ms >= open_ms)
        .fold((None, None), |(first, _), t| {
            (first.or(Some(t.trade_id)), Some(t.trade_id))
        });
    let p = market.precision;
    let price = |value: Price| fixed(value, p.price);
    Some(json!({
        "e": "kline", "E": now_ms, "s": market.symbol(),
        "k": {
            "t": bar.open_ms, "T": next_bucket(bar.open_ms, interval).saturating_sub(1),
            "s": market.symbol(), "i": interval.as_str(),
            "f": first.map_or(-1, |id| i64::try_from(id).unwrap_or(-1)),
            "L": last.map_or(-1, |id| i64::try_from(id).unwrap_or(-1)),
            "o": price(bar.open), "c": price(bar.close), "h": price(bar.high), "l": price(bar.low),
            "v": fixed(bar.volume, p.qty), "n": bar.trades, "x": false,
            "q": quote_text(bar.quote_volume, p), "V": fixed(bar.taker_buy_volume, p.qty),
            "Q": quote_text(bar.taker_buy_quote, p), "B": "0",
        }
    }))
}

/// The `24hrTicker` (`mini = false`) or `24hrMiniTicker` stream event (§6.10), with the same
/// figures as `/fapi/v1/ticker/24hr` under the stream's short keys.
#[must_use]
pub fn ticker_event(market: &Market, mini: bool, now_ms: u64) -> Value {
    let row = ticker_row(market, now_ms);
    let field = |key: &str| row.get(key).cloned().unwrap_or(Value::Null);
    if mini {
        return json!({
            "e": "24hrMiniTicker", "E": now_ms, "s": market.symbol(),
            "c": field("lastPrice"), "o": field("openPrice"), "h": field("highPrice"),
            "l": field("lowPrice"), "v": field("volume"), "q": field("quoteVolume"),
        });
    }
    json!({
        "e": "24hrTicker", "E": now_ms, "s": market.symbol(),
        "p": field("priceChange"), "P": field("priceChangePercent"), "w": field("weightedAvgPrice"),
        "c": field("lastPrice"), "Q": field("lastQty"), "o": field("openPrice"),
        "h": field("highPrice"), "l": field("lowPrice"), "v": field("volume"),
        "q": field("quoteVolume"), "O": field("openTime"), "C": field("closeTime"),
        "F": field("firstId"), "L": field("lastId"), "n": field("count"),
    })
}

#[cfg(test)]
mod tests {
    use kestrel_model::instrument::binance_usdm;
    use kestrel_model::order::Side;
    use kestrel_model::{Money, Rate};
    use serde_json::{Value, json};

    use super::*;
    use crate::exchange::fixtures::{self, Sides, p as px, q};
    use crate::market::generator::MarketAction;

    /// 2023-11-14 22:15:00 UTC, a multiple of five minutes.
    const BASE: u64 = 1_700_000_100_000;

    /// A venue listing BTCUSDT (mark 50000) and SOLUSDT (mark 150), with no accounts.
    fn venue() -> Exchange {
        let config = fixtures::config(&[("BTCUSDT", "50000"), ("SOLUSDT", "150")]);
        Exchange::new(config, BASE)
    }

    fn get(
        exchange: &mut Exchange,
        path: &str,
        query: &str,
        now_ms: u64,
    ) -> Result<Value, ApiError> {
        let endpoint = route(&Method::GET, path).expect("routed");
        assert_eq!(endpoint.security, SecurityLevel::None);
        let params = Params::parse(query, b"").unwrap();
        (endpoint.handler)(
            exchange,
            &Call {
                params: &params,
                account: None,
                now_ms,
            },
        )
    }

    /// One BTCUSDT print of `qty` at `price` at `at_ms`, the synthetic market on both sides.
    fn print(exchange: &mut Exchange, tag: u64, price: &str, qty: &str, taker: Side, at_ms: u64) {
        let maker = if taker == Side::Buy {
            Side::Sell
        } else {
            Side::Buy
        };
        let (price, qty) = (px(price), q(qty));
        let rest = fixtures::quote(0, tag, maker, price, qty);
        let take = MarketAction::Take {
            agent: 1,
            client_tag: tag + 1_000,
            side: taker,
            qty,
        };
        exchange.apply_market_action("BTCUSDT", &rest, at_ms);
        exchange.apply_market_action("BTCUSDT", &take, at_ms);
    }

    /// Four prints: three in the 5-minute bucket opening at `BASE`, one in the next.
    fn four_prints(exchange: &mut Exchange) {
        print(exchange, 1, "50000.0", "0.010", Side::Buy, BASE + 10_000);
        print(exchange, 2, "50100.0", "0.020", Side::Sell, BASE + 70_000);
        print(exchange, 3, "49900.0", "0.030", Side::Buy, BASE + 250_000);
        print(exchange, 4, "50050.0", "0.040", Side::Sell, BASE + 310_000);
    }

    fn filter<'a>(symbol: &'a Value, kind: &str) -> &'a Value {
        symbol["filters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["filterType"] == kind)
            .unwrap()
    }

    #[test]
    fn routes_only_get_and_known_paths() {
        assert!(route(&Method::GET, "/fapi/v1/ping").is_some());
        assert!(route(&Method::GET, "/fapi/v2/ticker/price").is_some());
        assert!(route(&Method::POST, "/fapi/v1/ping").is_none());
        assert!(route(&Method::GET, "/fapi/v1/order").is_none());
    }

    #[test]
    fn ping_is_empty_and_time_is_the_request_time() {
        let mut exchange = venue();
        assert_eq!(
            get(&mut exchange, "/fapi/v1/ping", "", BASE).unwrap(),
            json!({})
        );
        assert_eq!(
            get(&mut exchange, "/fapi/v1/time", "", BASE).unwrap(),
            json!({ "serverTime": BASE })
        );
    }

    #[test]
    fn exchange_info_filters_are_exact_strings_at_the_symbols_precision() {
        let mut exchange = venue();
        let info = get(&mut exchange, "/fapi/v1/exchangeInfo", "", BASE).unwrap();
        assert_eq!(info["timezone"], "UTC");
        assert_eq!(
            info["rateLimits"][0],
            json!({"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400})
        );
        let btc = &info["symbols"][0];
        assert_eq!(btc["symbol"], "BTCUSDT");
        assert_eq!(btc["contractType"], "PERPETUAL");
        assert_eq!(btc["deliveryDate"], 4_133_404_800_000_u64);
        assert_eq!(
            (
                btc["pricePrecision"].as_u64(),
                btc["quantityPrecision"].as_u64()
            ),
            (Some(2), Some(3))
        );
        let price = filter(btc, "PRICE_FILTER");
        assert_eq!(
            (&price["minPrice"], &price["maxPrice"], &price["tickSize"]),
            (&json!("261.10"), &json!("809484.00"), &json!("0.10"))
        );
        assert_eq!(filter(btc, "LOT_SIZE")["stepSize"], "0.001");
        assert_eq!(filter(btc, "MARKET_LOT_SIZE")["maxQty"], "120.000");
        assert_eq!(filter(btc, "MIN_NOTIONAL")["notional"], "100");
        assert_eq!(filter(btc, "MAX_NUM_ORDERS")["limit"], 200);
        let band = filter(btc, "PERCENT_PRICE");
        assert_eq!(
            (
                &band["multiplierUp"],
                &band["multiplierDown"],
                &band["multiplierDecimal"]
            ),
            (&json!("1.0500"), &json!("0.9500"), &json!("4"))
        );
        assert_eq!(btc["orderTypes"].as_array().unwrap().len(), 7);
        assert!(
            btc["orderTypes"]
                .as_array()
                .unwrap()
                .contains(&json!("TRAILING_STOP_MARKET"))
        );
        let sol = &info["symbols"][1];
        assert_eq!(filter(sol, "LOT_SIZE")["stepSize"], "1");
        assert_eq!(filter(sol, "PRICE_FILTER")["tickSize"], "0.0100");
    }

    #[test]
    fn depth_has_binance_shape_and_refuses_unlisted_limits() {
        let mut exchange = venue();
        fixtures::seed_book(
            &mut exchange,
            "BTCUSDT",
            px("50000"),
            7,
            q("0.5"),
            Sides::Asks,
            BASE,
        );
        let book = get(
            &mut exchange,
            "/fapi/v1/depth",
            "symbol=btcusdt&limit=5",
            BASE,
        )
        .unwrap();
        assert_eq!(book["asks"].as_array().unwrap().len(), 5);
        assert_eq!(book["asks"][0], json!(["50000.10", "0.500"]));
        assert_eq!(book["bids"], json!([]));
        assert_eq!(
            (book["E"].as_u64(), book["T"].as_u64()),
            (Some(BASE), Some(BASE))
        );
        assert!(book["lastUpdateId"].as_u64().unwrap() > 1);
        let refused = get(
            &mut exchange,
            "/fapi/v1/depth",
            "symbol=BTCUSDT&limit=7",
            BASE,
        )
        .unwrap_err();
        assert_eq!(refused.code, -1130);
        let unknown = get(&mut exchange, "/fapi/v1/depth", "symbol=XYZUSDT", BASE).unwrap_err();
        assert_eq!(unknown.code, -1121);
    }

    #[test]
    fn trades_and_agg_trades_list_prints_oldest_first() {
        let mut exchange = venue();
        four_prints(&mut exchange);
        let trades = get(
            &mut exchange,
            "/fapi/v1/trades",
            "symbol=BTCUSDT&limit=2",
            BASE + 400_000,
        )
        .unwrap();
        assert_eq!(trades[0]["id"], 3);
        assert_eq!(trades[0]["price"], "49900.00");
        assert_eq!(trades[0]["qty"], "0.030");
        assert_eq!(trades[0]["quoteQty"], "1497.00000");
        assert_eq!(trades[0]["isBuyerMaker"], false);
        assert_eq!(trades[1]["isBuyerMaker"], true);
        assert_eq!(trades[1]["isRPITrade"], false);
        let agg = get(
            &mut exchange,
            "/fapi/v1/aggTrades",
            "symbol=BTCUSDT&fromId=2&limit=2",
            BASE,
        )
        .unwrap();
        assert_eq!(
            agg[0],
            json!({"a": 2, "p": "50100.00", "q": "0.020", "f": 2, "l": 2, "T": BASE + 70_000, "m": true})
        );
        assert_eq!(agg.as_array().unwrap().len(), 2);
        let windowed = format!(
            "symbol=BTCUSDT&startTime={}&endTime={}",
            BASE + 60_000,
            BASE + 300_000
        );
        let agg = get(&mut exchange, "/fapi/v1/aggTrades", &windowed, BASE).unwrap();
        assert_eq!(
            agg.as_array()
                .unwrap()
                .iter()
                .map(|r| r["a"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            vec![2, 3]
        );
    }

    #[test]
    fn agg_trades_refuses_id_with_time_and_windows_over_an_hour() {
        let mut exchange = venue();
        let both = format!("symbol=BTCUSDT&fromId=1&startTime={BASE}");
        assert_eq!(
            get(&mut exchange, "/fapi/v1/aggTrades", &both, BASE)
                .unwrap_err()
                .code,
            -1128
        );
        let long = format!(
            "symbol=BTCUSDT&startTime={BASE}&endTime={}",
            BASE + 3_600_001
        );
        assert_eq!(
            get(&mut exchange, "/fapi/v1/aggTrades", &long, BASE)
                .unwrap_err()
                .code,
            -1127
        );
        let reversed = format!("symbol=BTCUSDT&startTime={}&endTime={BASE}", BASE + 1);
        assert_eq!(
            get(&mut exchange, "/fapi/v1/aggTrades", &reversed, BASE)
                .unwrap_err()
                .code,
            -1023
        );
    }

    #[test]
    fn klines_fold_one_minute_candles_into_five_minute_rows_and_fill_quiet_intervals() {
        let mut exchange = venue();
        four_prints(&mut exchange);
        let now = BASE + 960_000;
        let rows = get(
            &mut exchange,
            "/fapi/v1/klines",
            "symbol=BTCUSDT&interval=5m",
            now,
        )
        .unwrap();
        let first = json!([
            BASE,
            "50000.00",
            "50100.00",
            "49900.00",
            "49900.00",
            "0.060",
            BASE + 299_999,
            "2999.00000",
            3,
            "0.040",
            "1997.00000",
            "0"
        ]);
        assert_eq!(rows[0], first);
        let second = json!([
            BASE + 300_000,
            "50050.00",
            "50050.00",
            "50050.00",
            "50050.00",
            "0.040",
            BASE + 599_999,
            "2002.00000",
            1,
            "0.000",
            "0.00000",
            "0"
        ]);
        assert_eq!(rows[1], second);
        let quiet = json!([
            BASE + 600_000,
            "50050.00",
            "50050.00",
            "50050.00",
            "50050.00",
            "0.000",
            BASE + 899_999,
            "0.00000",
            0,
            "0.000",
            "0.00000",
            "0"
        ]);
        assert_eq!(rows[2], quiet);
        assert_eq!(
            rows.as_array().unwrap().len(),
            4,
            "up to the interval in progress"
        );
    }

    #[test]
    fn klines_take_the_first_rows_from_start_time_and_the_last_rows_otherwise() {
        let mut exchange = venue();
        four_prints(&mut exchange);
        let now = BASE + 960_000;
        let opens = |rows: &Value| {
            rows.as_array()
                .unwrap()
                .iter()
                .map(|r| r[0].as_u64().unwrap())
                .collect::<Vec<_>>()
        };
        let last = get(
            &mut exchange,
            "/fapi/v1/klines",
            "symbol=BTCUSDT&interval=5m&limit=2",
            now,
        )
        .unwrap();
        assert_eq!(opens(&last), vec![BASE + 600_000, BASE + 900_000]);
        let query = format!("symbol=BTCUSDT&interval=5m&limit=2&startTime={}", BASE + 1);
        let from = get(&mut exchange, "/fapi/v1/klines", &query, now).unwrap();
        assert_eq!(opens(&from), vec![BASE + 300_000, BASE + 600_000]);
        let query = format!("symbol=BTCUSDT&interval=1m&endTime={}", BASE + 60_000);
        let until = get(&mut exchange, "/fapi/v1/klines", &query, now).unwrap();
        assert_eq!(opens(&until), vec![BASE, BASE + 60_000]);
        let bad = get(
            &mut exchange,
            "/fapi/v1/klines",
            "symbol=BTCUSDT&interval=7m",
            now,
        )
        .unwrap_err();
        assert_eq!(bad.code, -1120);
    }

    #[test]
    fn mark_price_klines_carry_prices_only() {
        let mut exchange = venue();
        four_prints(&mut exchange);
        let rows = get(
            &mut exchange,
            "/fapi/v1/markPriceKlines",
            "symbol=BTCUSDT&interval=1h",
            BASE + 400_000,
        )
        .unwrap();
        let row = &rows[0];
        assert_eq!(
            (&row[1], &row[2], &row[3], &row[4]),
            (
                &json!("50000.00"),
                &json!("50100.00"),
                &json!("49900.00"),
                &json!("50050.00")
            )
        );
        assert_eq!(
            (&row[5], &row[7], &row[11]),
            (&json!("0"), &json!("0"), &json!("0"))
        );
        let index = get(
            &mut exchange,
            "/fapi/v1/indexPriceKlines",
            "pair=BTCUSDT&interval=1h",
            BASE + 400_000,
        )
        .unwrap();
        assert_eq!(index, rows);
    }

    #[test]
    fn weeks_open_on_monday_and_months_on_the_first() {
        let friday = 1_710_510_300_000; // 2024-03-15 13:45 UTC
        assert_eq!(bucket_start(friday, KlineInterval::W1), 1_710_115_200_000); // Mon 03-11
        assert_eq!(
            bucket_start(friday, KlineInterval::Month1),
            1_709_251_200_000
        ); // 03-01
        assert_eq!(
            next_bucket(1_709_251_200_000, KlineInterval::Month1),
            1_711_929_600_000
        );
        assert_eq!(
            bucket_start(1_709_208_000_000, KlineInterval::Month1),
            1_706_745_600_000
        ); // 02-29 → 02-01
        assert_eq!(
            next_bucket(1_735_689_599_000, KlineInterval::Month1),
            1_735_689_600_000
        ); // → 2025-01-01
        assert_eq!(bucket_start(friday, KlineInterval::H4), 1_710_504_000_000); // 12:00
    }

    #[test]
    fn ratios_round_once_half_to_even() {
        let m = |text: &str| Money::parse(text).unwrap();
        assert_eq!(ratio_text(m("1"), m("3"), 3).as_deref(), Some("0.333"));
        assert_eq!(ratio_text(m("-2"), m("3"), 3).as_deref(), Some("-0.667"));
        assert_eq!(ratio_text(m("0.0625"), m("1"), 3).as_deref(), Some("0.062"));
        assert_eq!(ratio_text(m("0.0635"), m("1"), 3).as_deref(), Some("0.064"));
        assert_eq!(ratio_text(m("1"), m("0"), 3), None);
        assert_eq!(percent_text(px("-1.5"), px("3")), "-50.000");
    }

    #[test]
    fn ticker_24hr_matches_hand_worked_numbers() {
        let mut exchange = venue();
        four_prints(&mut exchange);
        let t = get(
            &mut exchange,
            "/fapi/v1/ticker/24hr",
            "symbol=BTCUSDT",
            BASE + 960_000,
        )
        .unwrap();
        assert_eq!(t["openPrice"], "50000.00");
        assert_eq!(t["lastPrice"], "50050.00");
        assert_eq!(t["priceChange"], "50.00");
        assert_eq!(t["priceChangePercent"], "0.100");
        assert_eq!(
            (&t["highPrice"], &t["lowPrice"]),
            (&json!("50100.00"), &json!("49900.00"))
        );
        assert_eq!(t["volume"], "0.100");
        assert_eq!(t["quoteVolume"], "5001.00000");
        assert_eq!(t["weightedAvgPrice"], "50010.00");
        assert_eq!(t["lastQty"], "0.040");
        assert_eq!(
            (
                t["firstId"].as_i64(),
                t["lastId"].as_i64(),
                t["count"].as_u64()
            ),
            (Some(1), Some(4), Some(4))
        );
        assert_eq!(t["closeTime"], BASE + 960_000);
        let all = get(&mut exchange, "/fapi/v1/ticker/24hr", "", BASE + 960_000).unwrap();
        assert_eq!(all.as_array().unwrap().len(), 2);
        assert_eq!(all[1]["count"], 0);
        assert_eq!(all[1]["firstId"], -1);
    }

    #[test]
    fn ticker_24hr_leaves_out_candles_older_than_a_day() {
        let instrument = binance_usdm("BTCUSDT").unwrap();
        let mut market = Market::new(instrument, px("100"), 0, BASE);
        let trade = |id, price: &str, qty: &str, time_ms| PublicTrade {
            trade_id: id,
            price: px(price),
            qty: q(qty),
            buyer_is_maker: false,
            time_ms,
        };
        let now = BASE + DAY_MS;
        market.record_trade(trade(1, "300.0", "1", BASE - 60_000));
        market.record_trade(trade(2, "400.0", "1", BASE + 60_000));
        market.record_trade(trade(3, "401.3", "2", BASE + 120_000));
        let t = ticker_row(&market, now);
        assert_eq!(t["openPrice"], "400.00");
        assert_eq!(t["priceChangePercent"], "0.325");
        assert_eq!(t["weightedAvgPrice"], "400.87", "1202.6 / 3 = 400.8666..");
        assert_eq!(
            (t["firstId"].as_i64(), t["count"].as_u64()),
            (Some(2), Some(2))
        );
    }

    #[test]
    fn premium_index_and_book_ticker_are_objects_with_a_symbol_and_arrays_without() {
        let mut exchange = venue();
        let one = get(
            &mut exchange,
            "/fapi/v1/premiumIndex",
            "symbol=BTCUSDT",
            BASE,
        )
        .unwrap();
        assert_eq!(one["markPrice"], "50000.00000000");
        assert_eq!(one["lastFundingRate"], "0.00000000");
        assert_eq!(one["interestRate"], "0.00010000");
        assert_eq!(one["nextFundingTime"], 1_700_006_400_000_u64);
        let all = get(&mut exchange, "/fapi/v1/premiumIndex", "", BASE).unwrap();
        assert_eq!(all.as_array().unwrap().len(), 2);
        let book = get(
            &mut exchange,
            "/fapi/v1/ticker/bookTicker",
            "symbol=BTCUSDT",
            BASE,
        )
        .unwrap();
        assert_eq!(
            (&book["bidPrice"], &book["askQty"]),
            (&json!("0.00"), &json!("0.000"))
        );
        let price = get(
            &mut exchange,
            "/fapi/v2/ticker/price",
            "symbol=BTCUSDT",
            BASE,
        )
        .unwrap();
        assert_eq!(
            price,
            json!({"symbol": "BTCUSDT", "price": "50000.00", "time": BASE})
        );
    }

    #[test]
    fn funding_rate_lists_settlements_and_open_interest_starts_at_zero() {
        let mut exchange = venue();
        exchange
            .set_mark(
                "BTCUSDT",
                px("50010"),
                px("50000"),
                Rate::parse("0.0001").unwrap(),
                BASE,
            )
            .unwrap();
        exchange.tick(1_700_006_400_000);
        let rows = get(
            &mut exchange,
            "/fapi/v1/fundingRate",
            "symbol=BTCUSDT",
            BASE,
        )
        .unwrap();
        assert_eq!(
            rows,
            json!([{"symbol": "BTCUSDT", "fundingRate": "0.00010000", "fundingTime": 1_700_006_400_000_u64, "markPrice": "50010.00000000"}])
        );
        let oi = get(
            &mut exchange,
            "/fapi/v1/openInterest",
            "symbol=BTCUSDT",
            BASE,
        )
        .unwrap();
        assert_eq!(
            oi,
            json!({"openInterest": "0.000", "symbol": "BTCUSDT", "time": BASE})
        );
    }
}
