//! Trading endpoints (§3.3, §3.4): place, test, modify, cancel and query orders, batches,
//! cancel-all, own trades, and algo (conditional) orders.

use axum::http::Method;
use kestrel_model::order::WorkingType;
use serde_json::{Value, json};

use super::{Call, Endpoint, fixed};
use crate::api::params::NewOrderRespType;
use crate::api::{ApiError, Params, SecurityLevel};
use crate::engine::Stp;
use crate::exchange::{Amendment, Exchange, OrderKey, OrderRecord, PlaceRequest, Precision};

/// The trading endpoints.
#[must_use]
pub fn route(method: &Method, path: &str) -> Option<Endpoint> {
    let handler: super::Handler = match (method.as_str(), path) {
        ("POST", "/fapi/v1/order") => place,
        ("POST", "/fapi/v1/order/test") => place_test,
        ("PUT", "/fapi/v1/order") => modify,
        ("DELETE", "/fapi/v1/order") => cancel,
        ("GET", "/fapi/v1/order") => query,
        ("GET", "/fapi/v1/openOrder") => query_open,
        ("GET", "/fapi/v1/openOrders") => open_orders,
        ("GET", "/fapi/v1/allOrders") => all_orders,
        ("DELETE", "/fapi/v1/allOpenOrders") => cancel_all,
        ("POST", "/fapi/v1/batchOrders") => place_batch,
        ("DELETE", "/fapi/v1/batchOrders") => cancel_batch,
        ("GET", "/fapi/v1/userTrades") => user_trades,
        ("POST", "/fapi/v1/algoOrder") => place_algo,
        ("DELETE", "/fapi/v1/algoOrder") => cancel_algo,
        ("GET", "/fapi/v1/algoOrder") => query_algo,
        ("GET", "/fapi/v1/openAlgoOrders") => open_algos,
        ("GET", "/fapi/v1/allAlgoOrders") => all_algos,
        ("DELETE", "/fapi/v1/algoOpenOrders") => cancel_all_algos,
        _ => return None,
    };
    Some(Endpoint {
        security: SecurityLevel::Signed,
        handler,
    })
}

/// Reads a new order's parameters; `stop_key` and `activation_key` differ between
/// `/fapi/v1/order` (`stopPrice`, `activationPrice`) and `/fapi/v1/algoOrder`
/// (`triggerPrice`, `activatePrice`).
fn place_request(
    params: &Params,
    stop_key: &str,
    activation_key: &str,
    id_key: &str,
) -> Result<PlaceRequest, ApiError> {
    Ok(PlaceRequest {
        symbol: params.symbol()?,
        side: params.side()?,
        order_type: params.order_type()?,
        position_side: params.opt_position_side()?,
        time_in_force: params.opt_time_in_force()?,
        quantity: params.opt_qty("quantity")?,
        price: super::positive_price(params, "price")?,
        stop_price: super::positive_price(params, stop_key)?,
        reduce_only: params.flag("reduceOnly")?,
        close_position: params.flag("closePosition")?,
        client_order_id: params.opt_client_order_id(id_key)?.map(str::to_owned),
        working_type: params
            .opt_working_type()?
            .unwrap_or(WorkingType::ContractPrice),
        price_protect: params.flag("priceProtect")?,
        stp: params.opt_self_trade_prevention()?.unwrap_or(Stp::None),
        activation_price: super::positive_price(params, activation_key)?,
        callback_rate: params.opt_rate("callbackRate")?,
        price_match: params.opt_price_match()?,
    })
}

fn precision(exchange: &Exchange, symbol: &str) -> Result<Precision, ApiError> {
    Ok(exchange.market(symbol)?.precision)
}

fn order_json(exchange: &Exchange, record: &OrderRecord) -> Result<Value, ApiError> {
    Ok(record.to_json(precision(exchange, &record.symbol)?))
}

fn order_key(params: &Params, id_key: &str, client_key: &str) -> Result<OrderKey, ApiError> {
    if let Some(id) = params.opt_u64(id_key)? {
        return Ok(OrderKey::Id(id));
    }
    params
        .optional(client_key)
        .map(|c| OrderKey::Client(c.to_owned()))
        .ok_or_else(|| ApiError::either_param(id_key, client_key))
}

fn place(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let request = place_request(
        call.params,
        "stopPrice",
        "activationPrice",
        "newClientOrderId",
    )?;
    let resp_type = call.params.new_order_resp_type()?;
    let placed = exchange.place_order(call.account()?, &request, call.now_ms)?;
    let shown = if resp_type == NewOrderRespType::Result {
        &placed.result
    } else {
        &placed.ack
    };
    order_json(exchange, shown)
}

fn place_test(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let request = place_request(
        call.params,
        "stopPrice",
        "activationPrice",
        "newClientOrderId",
    )?;
    exchange.check_order(call.account()?, &request)?;
    Ok(json!({}))
}

fn modify(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let p = call.params;
    let (symbol, key) = (p.symbol()?, order_key(p, "orderId", "origClientOrderId")?);
    let amendment = Amendment {
        side: p.side()?,
        qty: p.qty("quantity")?,
        price: p.price("price")?,
    };
    let record = exchange.modify_order(call.account()?, &symbol, &key, amendment, call.now_ms)?;
    order_json(exchange, &record)
}

fn cancel(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let (symbol, key) = (
        call.params.symbol()?,
        order_key(call.params, "orderId", "origClientOrderId")?,
    );
    let record = exchange.cancel_order(call.account()?, &symbol, &key, call.now_ms)?;
    order_json(exchange, &record)
}

fn query(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let (symbol, key) = (
        call.params.symbol()?,
        order_key(call.params, "orderId", "origClientOrderId")?,
    );
    let record = exchange.find_order(call.account()?, &symbol, &key)?.clone();
    order_json(exchange, &record)
}

fn query_open(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let (symbol, key) = (
        call.params.symbol()?,
        order_key(call.params, "orderId", "origClientOrderId")?,
    );
    let record = exchange.find_order(call.account()?, &symbol, &key)?.clone();
    if !record.status.is_open() {
        return Err(ApiError::no_such_order());
    }
    order_json(exchange, &record)
}

fn open_orders(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let symbol = call.params.opt_symbol()?;
    if let Some(symbol) = &symbol {
        exchange.market(symbol)?;
    }
    let records: Vec<OrderRecord> = exchange
        .open_orders(call.account()?, symbol.as_deref())
        .into_iter()
        .cloned()
        .collect();
    records
        .iter()
        .map(|r| order_json(exchange, r))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::from)
}

fn limit(params: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match params.opt_u64("limit")? {
        None => Ok(default),
        Some(n) if n >= 1 && n <= max as u64 => Ok(usize::try_from(n).unwrap_or(max)),
        Some(_) => Err(ApiError::invalid_parameter("limit")),
    }
}

fn all_orders(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let symbol = call.params.symbol()?;
    exchange.market(&symbol)?;
    let from = call.params.opt_u64("orderId")?.unwrap_or(0);
    let limit = limit(call.params, 500, 1000)?;
    let records: Vec<OrderRecord> = exchange
        .all_orders(call.account()?, &symbol, from, limit)
        .into_iter()
        .cloned()
        .collect();
    records
        .iter()
        .map(|r| order_json(exchange, r))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::from)
}

fn cancel_all(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let symbol = call.params.symbol()?;
    exchange.cancel_all(call.account()?, &symbol, call.now_ms)?;
    Ok(json!({ "code": 200, "msg": "The operation of cancel all open order is done." }))
}

/// Places up to 5 orders; each result is an order object or an error object, in request order.
fn place_batch(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let account = call.account()?;
    let mut results = Vec::new();
    for params in call.params.batch_orders()? {
        let outcome = place_request(&params, "stopPrice", "activationPrice", "newClientOrderId")
            .and_then(|request| exchange.place_order(account, &request, call.now_ms))
            .and_then(|placed| order_json(exchange, &placed.ack));
        results
            .push(outcome.unwrap_or_else(|error| json!({ "code": error.code, "msg": error.msg })));
    }
    Ok(Value::from(results))
}

/// Cancels up to 10 orders by id or client id; results in request order.
fn cancel_batch(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let (account, symbol) = (call.account()?, call.params.symbol()?);
    let keys: Vec<OrderKey> = match (
        call.params.opt_order_id_list()?,
        call.params.opt_orig_client_order_id_list()?,
    ) {
        (Some(ids), _) => ids.into_iter().map(OrderKey::Id).collect(),
        (None, Some(clients)) => clients.into_iter().map(OrderKey::Client).collect(),
        (None, None) => {
            return Err(ApiError::either_param(
                "orderIdList",
                "origClientOrderIdList",
            ));
        }
    };
    let results: Vec<Value> = keys
        .iter()
        .map(|key| {
            exchange
                .cancel_order(account, &symbol, key, call.now_ms)
                .and_then(|record| order_json(exchange, &record))
                .unwrap_or_else(|error| json!({ "code": error.code, "msg": error.msg }))
        })
        .collect();
    Ok(Value::from(results))
}

fn user_trades(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let symbol = call.params.symbol()?;
    let p = precision(exchange, &symbol)?;
    let order_id = call.params.opt_u64("orderId")?;
    let from = call.params.opt_u64("fromId")?.unwrap_or(0);
    let limit = limit(call.params, 500, 1000)?;
    let rows: Vec<Value> = exchange
        .user_trades(call.account()?, &symbol, order_id, from, limit)
        .into_iter()
        .map(|t| {
            let f = &t.fill;
            json!({
                "buyer": t.side == kestrel_model::Side::Buy,
                "commission": fixed(f.commission, 8),
                "commissionAsset": "USDT",
                "id": f.trade_id,
                "maker": f.is_maker,
                "orderId": t.order_id,
                "price": fixed(f.price, p.price),
                "qty": fixed(f.qty, p.qty),
                "quoteQty": fixed(f.price.notional(f.qty), 8),
                "realizedPnl": fixed(f.realized_pnl, 8),
                "side": t.side.binance_name(),
                "positionSide": crate::exchange::order::position_side_name(t.position_side),
                "symbol": t.symbol,
                "time": f.time_ms,
            })
        })
        .collect();
    Ok(Value::from(rows))
}

fn place_algo(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    if call.params.required("algoType")? != "CONDITIONAL" {
        return Err(ApiError::invalid_parameter("algoType"));
    }
    let request = place_request(call.params, "triggerPrice", "activatePrice", "clientAlgoId")?;
    let client_algo_id = request.client_order_id.clone();
    let record = exchange.place_algo(call.account()?, &request, client_algo_id, call.now_ms)?;
    Ok(record.to_json(precision(exchange, &request.symbol)?))
}

fn algo_key(params: &Params) -> Result<OrderKey, ApiError> {
    order_key(params, "algoId", "clientAlgoId")
}

fn cancel_algo(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let record = exchange.cancel_algo(call.account()?, &algo_key(call.params)?, call.now_ms)?;
    Ok(
        json!({ "algoId": record.algo_id, "clientAlgoId": record.client_algo_id, "code": "200", "msg": "success" }),
    )
}

fn query_algo(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let record = exchange
        .find_algo(call.account()?, &algo_key(call.params)?)?
        .clone();
    Ok(record.to_json(precision(exchange, &record.request.symbol)?))
}

fn algo_list(exchange: &Exchange, call: &Call<'_>, open_only: bool) -> Result<Value, ApiError> {
    let symbol = call.params.opt_symbol()?;
    exchange
        .algo_orders(call.account()?, symbol.as_deref(), open_only)
        .into_iter()
        .map(|a| Ok(a.to_json(precision(exchange, &a.request.symbol)?)))
        .collect::<Result<Vec<_>, ApiError>>()
        .map(Value::from)
}

fn open_algos(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    algo_list(exchange, call, true)
}

fn all_algos(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    algo_list(exchange, call, false)
}

fn cancel_all_algos(exchange: &mut Exchange, call: &Call<'_>) -> Result<Value, ApiError> {
    let (account, symbol) = (call.account()?, call.params.symbol()?);
    let ids: Vec<u64> = exchange
        .algo_orders(account, Some(&symbol), true)
        .iter()
        .map(|a| a.algo_id)
        .collect();
    for id in ids {
        exchange.cancel_algo(account, &OrderKey::Id(id), call.now_ms)?;
    }
    Ok(json!({ "code": 200, "msg": "The operation of cancel all open order is done." }))
}
