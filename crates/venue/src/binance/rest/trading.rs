//! Order entry, cancels, order queries, own trades and algo (conditional) orders
//! (`../shared/binance-futures.md` §3.3, §3.4).

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::RestClient;
use super::transport::Call;
use crate::binance::orders::{
    AlgoCancel, AlgoOrder, NewOrder, OrderKey, Placed, TradeQuery, UserTrade, VenueOrder,
};
use crate::binance::request_error::{ErrorBody, Idempotency, RequestError};
use crate::binance::signing::Params;
use crate::binance::wire;

const ORDER: &str = "/fapi/v1/order";
const BATCH_ORDERS: &str = "/fapi/v1/batchOrders";
const ALGO_ORDER: &str = "/fapi/v1/algoOrder";

/// The most orders one `batchOrders` request may carry (§3.3).
pub const MAX_BATCH_ORDERS: usize = 5;
/// The most ids one batch cancel may carry (§3.3).
pub const MAX_BATCH_CANCELS: usize = 10;

/// One element of a batch answer: the order, or the error that refused it.
pub type BatchResult = Result<VenueOrder, RequestError>;

impl RestClient {
    /// `POST /fapi/v1/order`: places a `LIMIT` or `MARKET` order (weight 0, 1 order).
    ///
    /// A timeout leaves the outcome unknown: the error's [`RequestError::retry_advice`]
    /// says to query the client order id before sending again (trap 3).
    ///
    /// # Errors
    /// [`RequestError::Invalid`] for a conditional type (see [`Self::place_algo_order`]);
    /// otherwise the venue's refusal or a transport failure.
    pub async fn place_order(&self, order: &NewOrder) -> Result<VenueOrder, RequestError> {
        let params = order.order_params()?;
        let idempotency = Idempotency::QueryableByClientId(order.client_order_id.clone());
        self.call(Call::signed(Method::POST, ORDER, params, idempotency))
            .await
    }

    /// `POST /fapi/v1/algoOrder`: places a conditional order (§3.4).
    ///
    /// # Errors
    /// [`RequestError::Invalid`] for `LIMIT`/`MARKET`; otherwise as [`Self::place_order`].
    pub async fn place_algo_order(&self, order: &NewOrder) -> Result<AlgoOrder, RequestError> {
        let params = order.algo_params()?;
        let idempotency = Idempotency::QueryableByClientId(order.client_order_id.clone());
        self.call(Call::signed(Method::POST, ALGO_ORDER, params, idempotency))
            .await
    }

    /// Places `order` on the endpoint its type belongs to.
    ///
    /// # Errors
    /// As [`Self::place_order`] / [`Self::place_algo_order`].
    pub async fn place(&self, order: &NewOrder) -> Result<Placed, RequestError> {
        if order.is_algo() {
            self.place_algo_order(order).await.map(Placed::Algo)
        } else {
            self.place_order(order).await.map(Placed::Order)
        }
    }

    /// `POST /fapi/v1/batchOrders`: up to 5 `LIMIT`/`MARKET` orders in one request; the
    /// answer keeps their order, each an order or its own error (§3.3).
    ///
    /// A lost answer is reported as not idempotent: resolve each client order id by query.
    ///
    /// # Errors
    /// [`RequestError::Invalid`] for an empty or oversized batch or a conditional order;
    /// otherwise an error of the whole request.
    pub async fn place_batch(&self, orders: &[NewOrder]) -> Result<Vec<BatchResult>, RequestError> {
        if orders.is_empty() || orders.len() > MAX_BATCH_ORDERS {
            return Err(invalid(format!(
                "a batch holds 1 to {MAX_BATCH_ORDERS} orders, got {}",
                orders.len()
            )));
        }
        let elements = orders
            .iter()
            .map(|o| o.order_params().map(|p| batch_element(&p)))
            .collect::<Result<Vec<Value>, _>>()?;
        let mut params = Params::new();
        params.text("batchOrders", Value::Array(elements).to_string());
        let call = Call::signed(
            Method::POST,
            BATCH_ORDERS,
            params,
            Idempotency::NotIdempotent,
        );
        batch_results(self.call::<Vec<Value>>(call).await?)
    }

    /// `DELETE /fapi/v1/order`: cancels one order. An unknown or already closed order is
    /// [`RequestError::NotFound`] (`-2011`): for the caller, "already gone".
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn cancel_order(
        &self,
        symbol: &str,
        key: &OrderKey,
    ) -> Result<VenueOrder, RequestError> {
        let mut params = Params::new();
        params.text("symbol", symbol);
        key.add_to(&mut params);
        self.call(Call::signed(
            Method::DELETE,
            ORDER,
            params,
            Idempotency::Idempotent,
        ))
        .await
    }

    /// `DELETE /fapi/v1/batchOrders`: cancels up to 10 orders of one symbol, all named by
    /// order id or all by client order id; each element is the order or its error.
    ///
    /// # Errors
    /// [`RequestError::Invalid`] for an empty, oversized or mixed list; otherwise an error of
    /// the whole request.
    pub async fn cancel_batch(
        &self,
        symbol: &str,
        keys: &[OrderKey],
    ) -> Result<Vec<BatchResult>, RequestError> {
        let mut params = Params::new();
        params.text("symbol", symbol);
        add_id_list(&mut params, keys)?;
        let call = Call::signed(
            Method::DELETE,
            BATCH_ORDERS,
            params,
            Idempotency::Idempotent,
        );
        batch_results(self.call::<Vec<Value>>(call).await?)
    }

    /// `DELETE /fapi/v1/allOpenOrders`: cancels every open order of `symbol`.
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn cancel_all(&self, symbol: &str) -> Result<(), RequestError> {
        let mut params = Params::new();
        params.text("symbol", symbol);
        let call = Call::signed(
            Method::DELETE,
            "/fapi/v1/allOpenOrders",
            params,
            Idempotency::Idempotent,
        );
        expect_success(&self.call::<CodeMsg>(call).await?)
    }

    /// `GET /fapi/v1/order`: one order by id or client order id. An unknown order is
    /// [`RequestError::NotFound`] (`-2013`): for crash recovery, "absent".
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn query_order(
        &self,
        symbol: &str,
        key: &OrderKey,
    ) -> Result<VenueOrder, RequestError> {
        let mut params = Params::new();
        params.text("symbol", symbol);
        key.add_to(&mut params);
        self.call(Call::signed_get(ORDER, params)).await
    }

    /// `GET /fapi/v1/openOrders`: open orders of one symbol (weight 1) or all (weight 40).
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<VenueOrder>, RequestError> {
        let mut params = Params::new();
        params.opt_text("symbol", symbol);
        self.call(Call::signed_get("/fapi/v1/openOrders", params))
            .await
    }

    /// `GET /fapi/v1/userTrades`: our fills, oldest first (weight 5).
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn user_trades(&self, query: &TradeQuery) -> Result<Vec<UserTrade>, RequestError> {
        self.call(Call::signed_get("/fapi/v1/userTrades", query.params()))
            .await
    }

    /// `DELETE /fapi/v1/algoOrder`: cancels a conditional order by algo id or client algo id.
    ///
    /// # Errors
    /// [`RequestError::NotFound`] when unknown or closed; otherwise as [`Self::cancel_order`].
    pub async fn cancel_algo_order(&self, key: &OrderKey) -> Result<AlgoCancel, RequestError> {
        let mut params = Params::new();
        key.add_algo_to(&mut params);
        let call = Call::signed(Method::DELETE, ALGO_ORDER, params, Idempotency::Idempotent);
        self.call(call).await
    }

    /// `GET /fapi/v1/algoOrder`: one conditional order by algo id or client algo id.
    ///
    /// # Errors
    /// [`RequestError::NotFound`] when unknown; otherwise as [`Self::query_order`].
    pub async fn query_algo_order(&self, key: &OrderKey) -> Result<AlgoOrder, RequestError> {
        let mut params = Params::new();
        key.add_algo_to(&mut params);
        self.call(Call::signed_get(ALGO_ORDER, params)).await
    }

    /// `GET /fapi/v1/openAlgoOrders`: conditional orders still waiting or working.
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn open_algo_orders(
        &self,
        symbol: Option<&str>,
    ) -> Result<Vec<AlgoOrder>, RequestError> {
        let mut params = Params::new();
        params.opt_text("symbol", symbol);
        self.call(Call::signed_get("/fapi/v1/openAlgoOrders", params))
            .await
    }

    /// `DELETE /fapi/v1/algoOpenOrders`: cancels every open conditional order of `symbol`.
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn cancel_all_algo_orders(&self, symbol: &str) -> Result<(), RequestError> {
        let mut params = Params::new();
        params.text("symbol", symbol);
        let call = Call::signed(
            Method::DELETE,
            "/fapi/v1/algoOpenOrders",
            params,
            Idempotency::Idempotent,
        );
        expect_success(&self.call::<CodeMsg>(call).await?)
    }
}

/// The `{"code":200,"msg":"…"}` pseudo-error of success answers (§5.1); `code` is a number
/// or a string depending on the endpoint.
#[derive(Debug, Deserialize)]
pub(super) struct CodeMsg {
    #[serde(deserialize_with = "wire::int_or_text")]
    code: i64,
    #[serde(default)]
    msg: String,
}

/// Accepts code 200 or 0 as success (as ccxt does, §3.3).
pub(super) fn expect_success(answer: &CodeMsg) -> Result<(), RequestError> {
    if matches!(answer.code, 0 | 200) {
        return Ok(());
    }
    let code = i32::try_from(answer.code).unwrap_or(i32::MIN);
    Err(RequestError::from_batch_element(ErrorBody {
        code,
        msg: answer.msg.clone(),
    }))
}

/// One `batchOrders` element: the order's parameters as a JSON object of strings (§3.3).
fn batch_element(params: &Params) -> Value {
    let object: Map<String, Value> = params
        .items()
        .iter()
        .map(|p| (p.key.to_owned(), Value::String(p.value.clone())))
        .collect();
    Value::Object(object)
}

/// Each element of a batch answer as an order or, when it has a `code`, its error.
fn batch_results(items: Vec<Value>) -> Result<Vec<BatchResult>, RequestError> {
    items
        .into_iter()
        .map(|item| {
            if item.get("code").is_some() && item.get("orderId").is_none() {
                let body: ErrorBody = serde_json::from_value(item).map_err(decode_batch)?;
                Ok(Err(RequestError::from_batch_element(body)))
            } else {
                serde_json::from_value(item).map(Ok).map_err(decode_batch)
            }
        })
        .collect()
}

fn decode_batch(error: serde_json::Error) -> RequestError {
    RequestError::Decode {
        place: BATCH_ORDERS.to_owned(),
        detail: error.to_string(),
    }
}

/// `orderIdList` or `origClientOrderIdList` as a JSON array (§3.3).
fn add_id_list(params: &mut Params, keys: &[OrderKey]) -> Result<(), RequestError> {
    if keys.is_empty() || keys.len() > MAX_BATCH_CANCELS {
        return Err(invalid(format!(
            "a batch cancel names 1 to {MAX_BATCH_CANCELS} orders, got {}",
            keys.len()
        )));
    }
    let ids: Option<Vec<Value>> = keys
        .iter()
        .map(|k| match k {
            OrderKey::OrderId(id) => Some(Value::from(*id)),
            OrderKey::ClientOrderId(_) => None,
        })
        .collect();
    let clients: Option<Vec<Value>> = keys
        .iter()
        .map(|k| match k {
            OrderKey::ClientOrderId(id) => Some(Value::from(id.as_str())),
            OrderKey::OrderId(_) => None,
        })
        .collect();
    match (ids, clients) {
        (Some(ids), _) => params.text("orderIdList", Value::Array(ids).to_string()),
        (None, Some(ids)) => params.text("origClientOrderIdList", Value::Array(ids).to_string()),
        (None, None) => {
            return Err(invalid(
                "a batch cancel names orders all by id or all by client id".to_owned(),
            ));
        }
    };
    Ok(())
}

fn invalid(reason: String) -> RequestError {
    RequestError::Invalid { reason }
}
