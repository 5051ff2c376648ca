//! Account and position endpoints (`SIGNED`, `../shared/binance-futures.md` §3.5) and the
//! listen-key endpoints (`USER_STREAM`, §3.6).
//!
//! Rules implemented, and the simulator's choices where the reference leaves one:
//! - Every figure comes from the account's margin sheet at the current marks with all of the
//!   account's resting orders, so `totalWalletBalance`, `assets[0].walletBalance` and the
//!   balance endpoint's `balance` are the same number, and the totals are the exact sums of
//!   the position rows. USDT amounts have 8 decimals; position quantities the symbol's
//!   quantity precision; mark, entry, break-even and liquidation prices 8 decimals (they are
//!   computed, not on the tick grid).
//! - `assets[]` holds USDT only; its `updateTime` is the account's last change, non-zero once
//!   funded (ccxt skips assets whose `updateTime` is 0).
//! - v2 `positions` and v2 `positionRisk` list every symbol in the account's mode (`BOTH`, or
//!   `LONG` and `SHORT`), zero rows included; v3 lists only legs with a position or resting
//!   orders, v3 `positionRisk` without `leverage` and `marginType` (§3.5).
//! - Every position is margined cross (see `crate::account`), so `isolatedMargin` is 0 and
//!   `isolatedWallet` `"0"` even where `marginType` reports `isolated`; `adl` is 0.
//! - `leverageBracket` numbers are JSON numbers written from the exact decimals; one object
//!   with `symbol`, an array of every listed symbol without.
//! - Mode changes answer `{"code":200,"msg":"success"}` (§10.3 item 5).

use std::fmt::Display;

use axum::http::Method;
use kestrel_model::PositionMode;
use kestrel_model::order::PositionSide;
use serde_json::{Map, Number, Value, json};

use super::market_data::rate_limit;
use super::{Call, Endpoint, Handler, fixed};
use crate::account::{
    Account, AccountError, AccountTotals, LeverageBracket, MARGIN_ASSET, MarginType, PositionRisk,
};
use crate::api::{ApiError, SecurityLevel};
use crate::exchange::{Exchange, Precision};

/// Decimals of USDT amounts (balances, margins, P&L, notionals).
const AMOUNT_DP: usize = 8;
/// Decimals of computed prices (mark, entry, break-even, liquidation).
const COMPUTED_PRICE_DP: usize = 8;
/// The `accountAlias` Binance shows in `/balance` (any stable string; this is the docs').
const ACCOUNT_ALIAS: &str = "SgsR";

/// Looks up the account or listen-key endpoint for `method` and `path` (no trailing slash).
#[must_use]
pub fn route(method: &Method, path: &str) -> Option<Endpoint> {
    signed_route(method.as_str(), path)
        .map(|handler| (SecurityLevel::Signed, handler))
        .or_else(|| {
            user_stream_route(method.as_str(), path).map(|h| (SecurityLevel::UserStream, h))
        })
        .map(|(security, handler)| Endpoint { security, handler })
}

fn signed_route(method: &str, path: &str) -> Option<Handler> {
    let handler: Handler = match (method, path) {
        ("GET", "/fapi/v2/account") => account_v2,
        ("GET", "/fapi/v3/account") => account_v3,
        ("GET", "/fapi/v2/balance" | "/fapi/v3/balance") => balance,
        ("GET", "/fapi/v2/positionRisk") => position_risk_v2,
        ("GET", "/fapi/v3/positionRisk") => position_risk_v3,
        ("GET", "/fapi/v1/leverageBracket") => leverage_bracket,
        ("POST", "/fapi/v1/leverage") => change_leverage,
        ("POST", "/fapi/v1/marginType") => change_margin_type,
        ("POST", "/fapi/v1/positionSide/dual") => change_position_mode,
        ("GET", "/fapi/v1/positionSide/dual") => position_mode,
        ("GET", "/fapi/v1/commissionRate") => commission_rate,
        ("GET", "/fapi/v1/multiAssetsMargin") => multi_assets_margin,
        ("GET", "/fapi/v1/rateLimit/order") => order_rate_limits,
        _ => return None,
    };
    Some(handler)
}

fn user_stream_route(method: &str, path: &str) -> Option<Handler> {
    let handler: Handler = match (method, path) {
        ("POST", "/fapi/v1/listenKey") => create_listen_key,
        ("PUT", "/fapi/v1/listenKey") => keepalive_listen_key,
        ("DELETE", "/fapi/v1/listenKey") => close_listen_key,
        _ => return None,
    };
    Some(handler)
}

/// An account refusal as Binance's error (HTTP 400; arithmetic overflow as -1000, HTTP 500).
fn account_error(error: &AccountError) -> ApiError {
    match error {
        AccountError::Arithmetic(_) => ApiError::unknown(),
        _ => ApiError::bad_request(error.code(), error.msg()),
    }
}

/// The caller's account.
fn holder<'a>(exchange: &'a Exchange, call: &Call<'_>) -> Result<&'a Account, ApiError> {
    let number = call.account()?;
    exchange
        .accounts()
        .get(number)
        .ok_or_else(ApiError::rejected_api_key)
}

/// A USDT amount with 8 decimals.
fn amount(value: impl Display) -> String {
    fixed(value, AMOUNT_DP)
}

/// The output precision of `symbol` (8/8 for a symbol no longer listed).
fn precision_of(exchange: &Exchange, symbol: &str) -> Precision {
    exchange.market(symbol).map_or(
        Precision {
            price: COMPUTED_PRICE_DP,
            qty: COMPUTED_PRICE_DP,
        },
        |m| m.precision,
    )
}

fn position_side_name(side: PositionSide) -> &'static str {
    match side {
        PositionSide::Both => "BOTH",
        PositionSide::Long => "LONG",
        PositionSide::Short => "SHORT",
    }
}

/// An exact decimal as a JSON number (`leverageBracket`), from its text: no float arithmetic.
fn number(value: impl Display) -> Value {
    value
        .to_string()
        .parse::<Number>()
        .map_or(Value::Null, Value::Number)
}

// ---------------------------------------------------------------------------------------------
// Account, balance and positions
// ---------------------------------------------------------------------------------------------

/// The account's figures at the current marks with all its resting orders.
struct Sheet<'a> {
    account: &'a Account,
    totals: AccountTotals,
    /// Legs with a position or resting orders (v3).
    active: Vec<PositionRisk>,
}

impl<'a> Sheet<'a> {
    fn of(exchange: &'a Exchange, call: &Call<'_>) -> Result<Self, ApiError> {
        let account = holder(exchange, call)?;
        let orders = exchange.open_orders_for_margin(call.account()?);
        let marks = exchange.marks();
        let sheet = account
            .margin(&orders, &marks)
            .map_err(|e| account_error(&e))?;
        let rows = account
            .position_risk(&orders, &marks)
            .map_err(|e| account_error(&e))?;
        Ok(Self {
            account,
            totals: sheet.totals,
            active: rows.into_iter().filter(|r| !r.is_idle()).collect(),
        })
    }

    /// Every listed symbol's rows in the account's mode, zero rows included (v2).
    fn all_rows(
        &self,
        exchange: &Exchange,
        call: &Call<'_>,
        only: Option<&str>,
    ) -> Result<Vec<PositionRisk>, ApiError> {
        let orders = exchange.open_orders_for_margin(call.account()?);
        let marks = exchange.marks();
        let mut rows = Vec::new();
        for symbol in exchange.markets().keys() {
            if only.is_some_and(|only| only != symbol) {
                continue;
            }
            let legs = self
                .account
                .position_risk_for(symbol, &orders, &marks)
                .map_err(|e| account_error(&e))?;
            rows.extend(legs);
        }
        Ok(rows)
    }
}

/// The eleven account totals (§3.5), shared by v2 and v3.
fn totals_fields(t: &AccountTotals) -> Map<String, Value> {
    let fields = [
        ("totalInitialMargin", t.total_initial_margin),
        ("totalMaintMargin", t.total_maint_margin),
        ("totalWalletBalance", t.total_wallet_balance),
        ("totalUnrealizedProfit", t.total_unrealized_profit),
        ("totalMarginBalance", t.total_margin_balance),
        (
            "totalPositionInitialMargin",
            t.total_position_initial_margin,
        ),
        (
            "totalOpenOrderInitialMargin",
            t.total_open_order_initial_margin,
        ),
        ("totalCrossWalletBalance", t.total_cross_wallet_balance),
        ("totalCrossUnPnl", t.total_cross_un_pnl),
        ("availableBalance", t.available_balance),
        ("maxWithdrawAmount", t.max_withdraw_amount),
    ];
    fields
        .into_iter()
        .map(|(key, value)| (key.to_owned(), Value::from(amount(value))))
        .collect()
}

/// The USDT entry of `assets[]`; v2 adds `marginAvailable`.
fn asset_json(t: &AccountTotals, v2: bool) -> Value {
    let mut asset = json!({
        "asset": MARGIN_ASSET,
        "walletBalance": amount(t.total_wallet_balance),
        "unrealizedProfit": amount(t.total_unrealized_profit),
        "marginBalance": amount(t.total_margin_balance),
        "maintMargin": amount(t.total_maint_margin),
        "initialMargin": amount(t.total_initial_margin),
        "positionInitialMargin": amount(t.total_position_initial_margin),
        "openOrderInitialMargin": amount(t.total_open_order_initial_margin),
        "crossWalletBalance": amount(t.total_cross_wallet_balance),
        "crossUnPnl": amount(t.total_cross_un_pnl),
        "availableBalance": amount(t.available_balance),
        "maxWithdrawAmount": amount(t.max_withdraw_amount),
        "updateTime": t.update_time_ms,
    });
    if let (true, Some(map)) = (v2, asset.as_object_mut()) {
        map.insert("marginAvailable".to_owned(), Value::Bool(true));
    }
    asset
}

/// A v3 `positions[]` entry of the account endpoint.
fn account_position_v3(row: &PositionRisk, p: Precision) -> Map<String, Value> {
    let value = json!({
        "symbol": row.symbol,
        "positionSide": position_side_name(row.position_side),
        "positionAmt": fixed(row.position_amt, p.qty),
        "unrealizedProfit": amount(row.unrealized_profit),
        "isolatedMargin": amount(0),
        "notional": amount(row.notional),
        "isolatedWallet": "0",
        "initialMargin": amount(row.initial_margin),
        "maintMargin": amount(row.maint_margin),
        "updateTime": row.update_time_ms,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A v2 `positions[]` entry: the v3 fields and the v2 additions (§3.5).
fn account_position_v2(row: &PositionRisk, p: Precision) -> Value {
    let mut map = account_position_v3(row, p);
    let extra = [
        (
            "positionInitialMargin",
            Value::from(amount(row.position_initial_margin)),
        ),
        (
            "openOrderInitialMargin",
            Value::from(amount(row.open_order_initial_margin)),
        ),
        ("leverage", Value::from(row.leverage.to_string())),
        (
            "isolated",
            Value::Bool(row.margin_type == MarginType::Isolated),
        ),
        (
            "entryPrice",
            Value::from(fixed(row.entry_price, COMPUTED_PRICE_DP)),
        ),
        (
            "breakEvenPrice",
            Value::from(fixed(row.break_even_price, COMPUTED_PRICE_DP)),
        ),
        (
            "maxNotional",
            Value::from(row.max_notional_value.to_string()),
        ),
        ("bidNotional", Value::from(amount(row.bid_notional))),
        ("askNotional", Value::from(amount(row.ask_notional))),
    ];
    for (key, value) in extra {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

fn account_v2(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let sheet = Sheet::of(exchange, call)?;
    let positions: Vec<Value> = sheet
        .all_rows(exchange, call, None)?
        .iter()
        .map(|row| account_position_v2(row, precision_of(exchange, &row.symbol)))
        .collect();
    let mut body = json!({
        "feeTier": 0,
        "feeBurn": false,
        "canTrade": true,
        "canDeposit": true,
        "canWithdraw": true,
        "updateTime": 0,
        "multiAssetsMargin": false,
        "tradeGroupId": -1,
    });
    if let Some(map) = body.as_object_mut() {
        map.extend(totals_fields(&sheet.totals));
        map.insert(
            "assets".to_owned(),
            json!([asset_json(&sheet.totals, true)]),
        );
        map.insert("positions".to_owned(), Value::Array(positions));
    }
    Ok(body)
}

fn account_v3(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let sheet = Sheet::of(exchange, call)?;
    let positions: Vec<Value> = sheet
        .active
        .iter()
        .map(|row| {
            Value::Object(account_position_v3(
                row,
                precision_of(exchange, &row.symbol),
            ))
        })
        .collect();
    let mut body = totals_fields(&sheet.totals);
    body.insert(
        "assets".to_owned(),
        json!([asset_json(&sheet.totals, false)]),
    );
    body.insert("positions".to_owned(), Value::Array(positions));
    Ok(Value::Object(body))
}

fn balance(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let t = Sheet::of(exchange, call)?.totals;
    Ok(json!([{
        "accountAlias": ACCOUNT_ALIAS,
        "asset": MARGIN_ASSET,
        "balance": amount(t.total_wallet_balance),
        "crossWalletBalance": amount(t.total_cross_wallet_balance),
        "crossUnPnl": amount(t.total_cross_un_pnl),
        "availableBalance": amount(t.available_balance),
        "maxWithdrawAmount": amount(t.max_withdraw_amount),
        "marginAvailable": true,
        "updateTime": t.update_time_ms,
    }]))
}

/// The price fields shared by both positionRisk versions.
fn risk_prices(row: &PositionRisk, p: Precision) -> Map<String, Value> {
    let value = json!({
        "symbol": row.symbol,
        "positionSide": position_side_name(row.position_side),
        "positionAmt": fixed(row.position_amt, p.qty),
        "entryPrice": fixed(row.entry_price, COMPUTED_PRICE_DP),
        "breakEvenPrice": fixed(row.break_even_price, COMPUTED_PRICE_DP),
        "markPrice": fixed(row.mark_price, COMPUTED_PRICE_DP),
        "unRealizedProfit": amount(row.unrealized_profit),
        "liquidationPrice": fixed(row.liquidation_price, COMPUTED_PRICE_DP),
        "isolatedMargin": amount(0),
        "notional": amount(row.notional),
        "isolatedWallet": "0",
        "updateTime": row.update_time_ms,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A v2 positionRisk row (§3.5).
fn risk_v2(row: &PositionRisk, p: Precision) -> Value {
    let mut map = risk_prices(row, p);
    let extra = [
        ("leverage", Value::from(row.leverage.to_string())),
        (
            "maxNotionalValue",
            Value::from(row.max_notional_value.to_string()),
        ),
        ("marginType", Value::from(row.margin_type.report_name())),
        ("isAutoAddMargin", Value::from("false")),
    ];
    for (key, value) in extra {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// A v3 positionRisk row (§3.5): no `leverage`, no `marginType`.
fn risk_v3(row: &PositionRisk, p: Precision) -> Value {
    let mut map = risk_prices(row, p);
    let extra = [
        ("marginAsset", Value::from(MARGIN_ASSET)),
        ("initialMargin", Value::from(amount(row.initial_margin))),
        ("maintMargin", Value::from(amount(row.maint_margin))),
        (
            "positionInitialMargin",
            Value::from(amount(row.position_initial_margin)),
        ),
        (
            "openOrderInitialMargin",
            Value::from(amount(row.open_order_initial_margin)),
        ),
        ("adl", Value::from(0)),
        ("bidNotional", Value::from(amount(row.bid_notional))),
        ("askNotional", Value::from(amount(row.ask_notional))),
    ];
    for (key, value) in extra {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

fn position_risk_v2(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let only = call.params.opt_symbol()?;
    if let Some(symbol) = &only {
        exchange.market(symbol)?;
    }
    let sheet = Sheet::of(exchange, call)?;
    let rows = sheet.all_rows(exchange, call, only.as_deref())?;
    let rows = rows
        .iter()
        .map(|row| risk_v2(row, precision_of(exchange, &row.symbol)));
    Ok(Value::Array(rows.collect()))
}

fn position_risk_v3(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let only = call.params.opt_symbol()?;
    if let Some(symbol) = &only {
        exchange.market(symbol)?;
    }
    let sheet = Sheet::of(exchange, call)?;
    let rows = sheet
        .active
        .iter()
        .filter(|row| only.as_deref().is_none_or(|s| s == row.symbol))
        .map(|row| risk_v3(row, precision_of(exchange, &row.symbol)));
    Ok(Value::Array(rows.collect()))
}

// ---------------------------------------------------------------------------------------------
// Leverage, margin type, position mode, fees
// ---------------------------------------------------------------------------------------------

/// One `brackets[]` entry; the numbers are JSON numbers (§3.5).
fn bracket_json(b: &LeverageBracket) -> Value {
    json!({
        "bracket": b.bracket,
        "initialLeverage": b.initial_leverage,
        "notionalCap": number(b.notional_cap),
        "notionalFloor": number(b.notional_floor),
        "maintMarginRatio": number(b.maint_margin_ratio),
        "cum": number(b.cum),
    })
}

fn leverage_bracket(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let brackets = holder(exchange, call)?.brackets();
    let entry = |symbol: &str| {
        let tiers: Vec<Value> = brackets
            .for_symbol(symbol)
            .iter()
            .map(bracket_json)
            .collect();
        json!({ "symbol": symbol, "brackets": tiers })
    };
    match call.params.opt_symbol()? {
        Some(symbol) => {
            exchange.market(&symbol)?;
            Ok(entry(&symbol))
        }
        None => Ok(Value::Array(
            exchange.markets().keys().map(|s| entry(s)).collect(),
        )),
    }
}

fn change_leverage(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let account = call.account()?;
    let symbol = call.params.symbol()?;
    let text = call.params.required("leverage")?;
    let leverage = call.params.u64("leverage")?;
    let leverage = u32::try_from(leverage).map_err(|_| ApiError::invalid_leverage(text))?;
    let change = exchange.set_leverage(account, &symbol, leverage, call.now_ms)?;
    Ok(json!({
        "leverage": change.leverage,
        "maxNotionalValue": change.max_notional.to_string(),
        "symbol": symbol,
    }))
}

fn success() -> Value {
    json!({ "code": 200, "msg": "success" })
}

fn change_margin_type(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let account = call.account()?;
    let symbol = call.params.symbol()?;
    let margin_type = match call.params.required("marginType")? {
        "ISOLATED" => MarginType::Isolated,
        "CROSSED" => MarginType::Crossed,
        _ => return Err(ApiError::invalid_parameter("marginType")),
    };
    exchange.set_margin_type(account, &symbol, margin_type, call.now_ms)?;
    Ok(success())
}

fn change_position_mode(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let account = call.account()?;
    let hedge = call
        .params
        .opt_bool("dualSidePosition")?
        .ok_or_else(|| ApiError::mandatory_param("dualSidePosition"))?;
    let mode = if hedge {
        PositionMode::Hedge
    } else {
        PositionMode::OneWay
    };
    exchange.set_position_mode(account, mode, call.now_ms)?;
    Ok(success())
}

fn position_mode(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let hedge = holder(exchange, call)?.position_mode() == PositionMode::Hedge;
    Ok(json!({ "dualSidePosition": hedge }))
}

fn commission_rate(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let symbol = call.params.symbol()?;
    exchange.market(&symbol)?;
    let account = holder(exchange, call)?;
    Ok(json!({
        "symbol": symbol,
        "makerCommissionRate": account.maker_fee_rate().to_string(),
        "takerCommissionRate": account.taker_fee_rate().to_string(),
    }))
}

fn multi_assets_margin(_: &mut Exchange, _: &Call<'_>) -> Result<Value, ApiError> {
    Ok(json!({ "multiAssetsMargin": false }))
}

fn order_rate_limits(exchange: &mut Exchange, _: &Call<'_>) -> Result<Value, ApiError> {
    let limits = &exchange.config().limits;
    Ok(json!([
        rate_limit("ORDERS", "SECOND", 10, limits.orders_per_10s),
        rate_limit("ORDERS", "MINUTE", 1, limits.orders_per_minute),
    ]))
}

// ---------------------------------------------------------------------------------------------
// Listen keys (§3.6)
// ---------------------------------------------------------------------------------------------

fn create_listen_key(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let key = exchange.create_listen_key(call.account()?, call.now_ms);
    Ok(json!({ "listenKey": key }))
}

fn keepalive_listen_key(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let account = call.account()?;
    let given = call.params.optional("listenKey");
    let key = exchange.keepalive_listen_key(account, given, call.now_ms)?;
    Ok(json!({ "listenKey": key }))
}

fn close_listen_key(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let account = call.account()?;
    exchange.close_listen_key(account, call.params.optional("listenKey"));
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use kestrel_model::order::{OrderType, Side, TimeInForce};
    use serde_json::{Value, json};

    use super::*;
    use crate::api::Params;
    use crate::exchange::PlaceRequest;
    use crate::exchange::fixtures::{self, NOW, order, p, q};

    /// A venue listing BTCUSDT (mark 50000) and ETHUSDT, with one account holding 10000 USDT.
    fn venue() -> (Exchange, u32) {
        let config = fixtures::config(&[("BTCUSDT", "50000"), ("ETHUSDT", "3000")]);
        fixtures::venue(config, "10000", NOW)
    }

    fn call(
        exchange: &mut Exchange,
        account: u32,
        method: Method,
        path: &str,
        query: &str,
    ) -> Result<Value, ApiError> {
        let endpoint = route(&method, path).expect("routed");
        let params = Params::parse(query, b"").unwrap();
        (endpoint.handler)(
            exchange,
            &Call {
                params: &params,
                account: Some(account),
                now_ms: NOW + 1_000,
            },
        )
    }

    fn get(exchange: &mut Exchange, account: u32, path: &str, query: &str) -> Value {
        call(exchange, account, Method::GET, path, query).unwrap()
    }

    fn code(result: Result<Value, ApiError>) -> i32 {
        result.unwrap_err().code
    }

    /// Rests a BTCUSDT buy of 0.010 at 49000.0 for `account`.
    fn rest_bid(exchange: &mut Exchange, account: u32) {
        let bid = PlaceRequest {
            price: Some(p("49000")),
            time_in_force: Some(TimeInForce::Gtc),
            ..order(Side::Buy, OrderType::Limit, "0.010")
        };
        exchange.place_order(account, &bid, NOW).unwrap();
    }

    /// Buys 0.010 BTCUSDT at 50000.0 from the synthetic market.
    fn buy_position(exchange: &mut Exchange, account: u32) {
        let ask = fixtures::quote(0, 1, Side::Sell, p("50000"), q("0.010"));
        exchange.apply_market_action("BTCUSDT", &ask, NOW);
        exchange
            .place_order(account, &order(Side::Buy, OrderType::Market, "0.010"), NOW)
            .unwrap();
    }

    #[test]
    fn routes_carry_the_right_security() {
        let signed = route(&Method::GET, "/fapi/v3/account").unwrap();
        assert_eq!(signed.security, SecurityLevel::Signed);
        let stream = route(&Method::PUT, "/fapi/v1/listenKey").unwrap();
        assert_eq!(stream.security, SecurityLevel::UserStream);
        assert!(route(&Method::GET, "/fapi/v1/listenKey").is_none());
        assert!(route(&Method::GET, "/fapi/v1/leverage").is_none());
    }

    #[test]
    fn wallet_balance_is_the_same_number_in_account_assets_and_balance() {
        let (mut exchange, account) = venue();
        let v2 = get(&mut exchange, account, "/fapi/v2/account", "");
        let v3 = get(&mut exchange, account, "/fapi/v3/account", "");
        let balance = get(&mut exchange, account, "/fapi/v3/balance", "");
        for wallet in [
            &v2["totalWalletBalance"],
            &v2["assets"][0]["walletBalance"],
            &v3["totalWalletBalance"],
            &v3["assets"][0]["walletBalance"],
            &balance[0]["balance"],
        ] {
            assert_eq!(wallet, "10000.00000000");
        }
        assert_eq!(v3["assets"][0]["asset"], "USDT");
        assert_eq!(
            v3["assets"][0]["updateTime"], NOW,
            "funded assets have a non-zero updateTime"
        );
        assert_eq!(v2["assets"][0]["marginAvailable"], true);
        assert!(v3["assets"][0].get("marginAvailable").is_none());
        assert_eq!(
            (&v2["updateTime"], &v2["tradeGroupId"], &v2["canTrade"]),
            (&json!(0), &json!(-1), &json!(true))
        );
        assert_eq!(balance[0]["accountAlias"], "SgsR");
        assert_eq!(balance[0]["availableBalance"], "10000.00000000");
    }

    #[test]
    fn v3_lists_only_active_legs_while_v2_lists_every_symbol() {
        let (mut exchange, account) = venue();
        assert_eq!(
            get(&mut exchange, account, "/fapi/v3/account", "")["positions"],
            json!([])
        );
        rest_bid(&mut exchange, account);
        let v3 = get(&mut exchange, account, "/fapi/v3/account", "");
        assert_eq!(v3["positions"].as_array().unwrap().len(), 1);
        assert_eq!(v3["positions"][0]["symbol"], "BTCUSDT");
        assert_eq!(v3["totalOpenOrderInitialMargin"], "24.50000000");
        assert_eq!(v3["availableBalance"], "9975.50000000");
        let v2 = get(&mut exchange, account, "/fapi/v2/account", "");
        let symbols: Vec<&Value> = v2["positions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["symbol"])
            .collect();
        assert_eq!(symbols, vec!["BTCUSDT", "ETHUSDT"]);
        assert_eq!(v2["positions"][0]["bidNotional"], "490.00000000");
        assert_eq!(
            (
                &v2["positions"][1]["leverage"],
                &v2["positions"][1]["isolated"]
            ),
            (&json!("20"), &json!(false))
        );
        let risk3 = get(&mut exchange, account, "/fapi/v3/positionRisk", "");
        assert_eq!(risk3.as_array().unwrap().len(), 1);
        assert!(risk3[0].get("leverage").is_none() && risk3[0].get("marginType").is_none());
        assert_eq!(
            (&risk3[0]["adl"], &risk3[0]["marginAsset"]),
            (&json!(0), &json!("USDT"))
        );
        let risk2 = get(&mut exchange, account, "/fapi/v2/positionRisk", "");
        assert_eq!(risk2.as_array().unwrap().len(), 2);
        assert_eq!(risk2[1]["positionAmt"], "0.000");
        assert_eq!(
            (
                &risk2[1]["leverage"],
                &risk2[1]["marginType"],
                &risk2[1]["isAutoAddMargin"]
            ),
            (&json!("20"), &json!("cross"), &json!("false"))
        );
        assert_eq!(
            risk2[0]["maxNotionalValue"], "50000000",
            "the 20x bracket's cap"
        );
    }

    #[test]
    fn a_filled_position_shows_in_risk_and_totals_add_up() {
        let (mut exchange, account) = venue();
        buy_position(&mut exchange, account);
        let risk = get(
            &mut exchange,
            account,
            "/fapi/v3/positionRisk",
            "symbol=BTCUSDT",
        );
        assert_eq!(risk[0]["positionAmt"], "0.010");
        assert_eq!(risk[0]["entryPrice"], "50000.00000000");
        assert_eq!(risk[0]["notional"], "500.00000000");
        assert_eq!(risk[0]["positionInitialMargin"], "25.00000000");
        let v3 = get(&mut exchange, account, "/fapi/v3/account", "");
        assert_eq!(
            v3["totalWalletBalance"], "9999.75000000",
            "taker fee 0.05% of 500"
        );
        assert_eq!(v3["totalPositionInitialMargin"], "25.00000000");
        assert_eq!(
            v3["positions"][0]["initialMargin"],
            risk[0]["initialMargin"]
        );
        let hedge = get(
            &mut exchange,
            account,
            "/fapi/v2/positionRisk",
            "symbol=ETHUSDT",
        );
        assert_eq!(hedge.as_array().unwrap().len(), 1);
        assert_eq!(hedge[0]["positionSide"], "BOTH");
    }

    #[test]
    fn leverage_changes_answer_the_cap_and_refuse_invalid_values() {
        let (mut exchange, account) = venue();
        let set = call(
            &mut exchange,
            account,
            Method::POST,
            "/fapi/v1/leverage",
            "symbol=BTCUSDT&leverage=10",
        )
        .unwrap();
        assert_eq!(
            set,
            json!({"leverage": 10, "maxNotionalValue": "80000000", "symbol": "BTCUSDT"})
        );
        assert_eq!(
            code(call(
                &mut exchange,
                account,
                Method::POST,
                "/fapi/v1/leverage",
                "symbol=BTCUSDT&leverage=0"
            )),
            -4028
        );
        assert_eq!(
            code(call(
                &mut exchange,
                account,
                Method::POST,
                "/fapi/v1/leverage",
                "symbol=BTCUSDT&leverage=126"
            )),
            -4028
        );
        assert_eq!(
            code(call(
                &mut exchange,
                account,
                Method::POST,
                "/fapi/v1/leverage",
                "symbol=BTCUSDT"
            )),
            -1102
        );
        let risk = get(
            &mut exchange,
            account,
            "/fapi/v2/positionRisk",
            "symbol=BTCUSDT",
        );
        assert_eq!(risk[0]["leverage"], "10");
    }

    #[test]
    fn margin_type_changes_once_and_then_needs_no_change() {
        let (mut exchange, account) = venue();
        let path = "/fapi/v1/marginType";
        assert_eq!(
            code(call(
                &mut exchange,
                account,
                Method::POST,
                path,
                "symbol=BTCUSDT&marginType=CROSSED"
            )),
            -4046
        );
        assert_eq!(
            code(call(
                &mut exchange,
                account,
                Method::POST,
                path,
                "symbol=BTCUSDT&marginType=CROSS"
            )),
            -1130
        );
        let ok = call(
            &mut exchange,
            account,
            Method::POST,
            path,
            "symbol=BTCUSDT&marginType=ISOLATED",
        )
        .unwrap();
        assert_eq!(ok, json!({"code": 200, "msg": "success"}));
        assert_eq!(
            get(
                &mut exchange,
                account,
                "/fapi/v2/positionRisk",
                "symbol=BTCUSDT"
            )[0]["marginType"],
            "isolated"
        );
        rest_bid(&mut exchange, account);
        assert_eq!(
            code(call(
                &mut exchange,
                account,
                Method::POST,
                path,
                "symbol=BTCUSDT&marginType=CROSSED"
            )),
            -4047
        );
    }

    #[test]
    fn position_mode_switches_to_hedge_and_lists_long_and_short_legs() {
        let (mut exchange, account) = venue();
        let path = "/fapi/v1/positionSide/dual";
        assert_eq!(
            code(call(
                &mut exchange,
                account,
                Method::POST,
                path,
                "dualSidePosition=false"
            )),
            -4059
        );
        let ok = call(
            &mut exchange,
            account,
            Method::POST,
            path,
            "dualSidePosition=true",
        )
        .unwrap();
        assert_eq!(ok, json!({"code": 200, "msg": "success"}));
        assert_eq!(
            get(&mut exchange, account, path, ""),
            json!({"dualSidePosition": true})
        );
        let risk = get(
            &mut exchange,
            account,
            "/fapi/v2/positionRisk",
            "symbol=BTCUSDT",
        );
        let sides: Vec<&Value> = risk
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["positionSide"])
            .collect();
        assert_eq!(sides, vec!["LONG", "SHORT"]);
    }

    #[test]
    fn leverage_brackets_are_json_numbers_one_object_per_symbol() {
        let (mut exchange, account) = venue();
        let one = get(
            &mut exchange,
            account,
            "/fapi/v1/leverageBracket",
            "symbol=BTCUSDT",
        );
        assert_eq!(one["symbol"], "BTCUSDT");
        let first = json!({"bracket": 1, "initialLeverage": 125, "notionalCap": 50000, "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0});
        assert_eq!(one["brackets"][0], first);
        assert_eq!(one["brackets"][1]["cum"], json!(50));
        let all = get(&mut exchange, account, "/fapi/v1/leverageBracket", "");
        assert_eq!(all.as_array().unwrap().len(), 2);
        assert_eq!(
            code(call(
                &mut exchange,
                account,
                Method::GET,
                "/fapi/v1/leverageBracket",
                "symbol=NOPEUSDT"
            )),
            -1121
        );
    }

    #[test]
    fn fee_rates_limits_and_flags_answer_as_binance() {
        let (mut exchange, account) = venue();
        let fees = get(
            &mut exchange,
            account,
            "/fapi/v1/commissionRate",
            "symbol=BTCUSDT",
        );
        assert_eq!(
            fees,
            json!({"symbol": "BTCUSDT", "makerCommissionRate": "0.0002", "takerCommissionRate": "0.0005"})
        );
        assert_eq!(
            get(&mut exchange, account, "/fapi/v1/multiAssetsMargin", ""),
            json!({"multiAssetsMargin": false})
        );
        let limits = get(&mut exchange, account, "/fapi/v1/rateLimit/order", "");
        assert_eq!(
            limits[0],
            json!({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300})
        );
        assert_eq!(limits[1]["limit"], 1200);
    }

    #[test]
    fn listen_keys_are_created_kept_alive_and_closed() {
        let (mut exchange, account) = venue();
        let path = "/fapi/v1/listenKey";
        let created = call(&mut exchange, account, Method::POST, path, "").unwrap();
        let key = created["listenKey"].as_str().unwrap().to_owned();
        assert_eq!(key.len(), 64);
        let again = call(&mut exchange, account, Method::POST, path, "").unwrap();
        assert_eq!(
            again["listenKey"],
            key.as_str(),
            "a live key is returned again"
        );
        let kept = call(
            &mut exchange,
            account,
            Method::PUT,
            path,
            &format!("listenKey={key}"),
        )
        .unwrap();
        assert_eq!(kept, json!({"listenKey": key}));
        assert_eq!(
            call(&mut exchange, account, Method::PUT, path, "").unwrap(),
            json!({"listenKey": key})
        );
        assert_eq!(
            code(call(
                &mut exchange,
                account,
                Method::PUT,
                path,
                "listenKey=unknown"
            )),
            -1125
        );
        assert_eq!(
            call(
                &mut exchange,
                account,
                Method::DELETE,
                path,
                &format!("listenKey={key}")
            )
            .unwrap(),
            json!({})
        );
        assert_eq!(
            code(call(
                &mut exchange,
                account,
                Method::PUT,
                path,
                &format!("listenKey={key}")
            )),
            -1125
        );
    }
}
