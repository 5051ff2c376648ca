//! Binance error replies: `{"code":<n>,"msg":"<text>"}` with the HTTP status Binance uses
//! (`../shared/binance-futures.md` §2.6, §4.4, §5).
//!
//! Every code the simulator emits has a constructor here, named after Binance's symbolic name,
//! with Binance's own message text (from its USDⓈ-M error-code page; `%s` filled in). The
//! codes themselves are in [`codes`]. [`ApiError::from_rule`] maps a broken instrument rule
//! (`kestrel_model::instrument::Rule`) to the filter code Binance returns for it.
//!
//! HTTP status: 400 for request and order errors, 401 for API-key errors (§2.6), 429 for rate
//! limits, 418 for IP bans, 5xx for server-side failures. Clients decide by `code`, not status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kestrel_model::instrument::{Rule, RuleValue, RuleViolation};
use serde::ser::{Serialize, SerializeStruct, Serializer};

/// Binance's numeric error codes used by the simulator (§5.3), by symbolic name.
pub mod codes {
    /// -1000 UNKNOWN.
    pub const UNKNOWN: i32 = -1000;
    /// -1001 DISCONNECTED.
    pub const DISCONNECTED: i32 = -1001;
    /// -1002 UNAUTHORIZED.
    pub const UNAUTHORIZED: i32 = -1002;
    /// -1003 TOO_MANY_REQUESTS (429 weight limit and 418 ban).
    pub const TOO_MANY_REQUESTS: i32 = -1003;
    /// -1007 TIMEOUT (execution status unknown).
    pub const TIMEOUT: i32 = -1007;
    /// -1008 request throttled (503).
    pub const THROTTLED: i32 = -1008;
    /// -1014 UNKNOWN_ORDER_COMPOSITION.
    pub const UNKNOWN_ORDER_COMPOSITION: i32 = -1014;
    /// -1015 TOO_MANY_ORDERS.
    pub const TOO_MANY_ORDERS: i32 = -1015;
    /// -1020 UNSUPPORTED_OPERATION.
    pub const UNSUPPORTED_OPERATION: i32 = -1020;
    /// -1021 INVALID_TIMESTAMP.
    pub const INVALID_TIMESTAMP: i32 = -1021;
    /// -1022 INVALID_SIGNATURE.
    pub const INVALID_SIGNATURE: i32 = -1022;
    /// -1023 START_TIME_GREATER_THAN_END_TIME.
    pub const START_TIME_GREATER_THAN_END_TIME: i32 = -1023;
    /// -1099 NOT_FOUND.
    pub const NOT_FOUND: i32 = -1099;
    /// -1100 ILLEGAL_CHARS.
    pub const ILLEGAL_CHARS: i32 = -1100;
    /// -1101 TOO_MANY_PARAMETERS (also duplicated parameters).
    pub const TOO_MANY_PARAMETERS: i32 = -1101;
    /// -1102 MANDATORY_PARAM_EMPTY_OR_MALFORMED.
    pub const MANDATORY_PARAM_EMPTY_OR_MALFORMED: i32 = -1102;
    /// -1103 UNKNOWN_PARAM.
    pub const UNKNOWN_PARAM: i32 = -1103;
    /// -1104 UNREAD_PARAMETERS.
    pub const UNREAD_PARAMETERS: i32 = -1104;
    /// -1105 PARAM_EMPTY.
    pub const PARAM_EMPTY: i32 = -1105;
    /// -1106 PARAM_NOT_REQUIRED.
    pub const PARAM_NOT_REQUIRED: i32 = -1106;
    /// -1111 BAD_PRECISION.
    pub const BAD_PRECISION: i32 = -1111;
    /// -1115 INVALID_TIF.
    pub const INVALID_TIF: i32 = -1115;
    /// -1116 INVALID_ORDER_TYPE.
    pub const INVALID_ORDER_TYPE: i32 = -1116;
    /// -1117 INVALID_SIDE.
    pub const INVALID_SIDE: i32 = -1117;
    /// -1120 BAD_INTERVAL.
    pub const BAD_INTERVAL: i32 = -1120;
    /// -1121 BAD_SYMBOL.
    pub const BAD_SYMBOL: i32 = -1121;
    /// -1125 INVALID_LISTEN_KEY.
    pub const INVALID_LISTEN_KEY: i32 = -1125;
    /// -1127 MORE_THAN_XX_HOURS.
    pub const MORE_THAN_XX_HOURS: i32 = -1127;
    /// -1128 OPTIONAL_PARAMS_BAD_COMBO.
    pub const OPTIONAL_PARAMS_BAD_COMBO: i32 = -1128;
    /// -1130 INVALID_PARAMETER.
    pub const INVALID_PARAMETER: i32 = -1130;
    /// -1136 INVALID_NEW_ORDER_RESP_TYPE.
    pub const INVALID_NEW_ORDER_RESP_TYPE: i32 = -1136;
    /// -2010 NEW_ORDER_REJECTED.
    pub const NEW_ORDER_REJECTED: i32 = -2010;
    /// -2011 CANCEL_REJECTED ("Unknown order sent.").
    pub const CANCEL_REJECTED: i32 = -2011;
    /// -2013 NO_SUCH_ORDER.
    pub const NO_SUCH_ORDER: i32 = -2013;
    /// -2014 BAD_API_KEY_FMT.
    pub const BAD_API_KEY_FMT: i32 = -2014;
    /// -2015 REJECTED_MBX_KEY.
    pub const REJECTED_MBX_KEY: i32 = -2015;
    /// -2018 BALANCE_NOT_SUFFICIENT.
    pub const BALANCE_NOT_SUFFICIENT: i32 = -2018;
    /// -2019 MARGIN_NOT_SUFFICIEN (sic).
    pub const MARGIN_NOT_SUFFICIENT: i32 = -2019;
    /// -2020 UNABLE_TO_FILL.
    pub const UNABLE_TO_FILL: i32 = -2020;
    /// -2021 ORDER_WOULD_IMMEDIATELY_TRIGGER.
    pub const ORDER_WOULD_IMMEDIATELY_TRIGGER: i32 = -2021;
    /// -2022 REDUCE_ONLY_REJECT.
    pub const REDUCE_ONLY_REJECT: i32 = -2022;
    /// -2024 POSITION_NOT_SUFFICIENT.
    pub const POSITION_NOT_SUFFICIENT: i32 = -2024;
    /// -2025 MAX_OPEN_ORDER_EXCEEDED.
    pub const MAX_OPEN_ORDER_EXCEEDED: i32 = -2025;
    /// -2027 MAX_LEVERAGE_RATIO.
    pub const MAX_LEVERAGE_RATIO: i32 = -2027;
    /// -2028 MIN_LEVERAGE_RATIO.
    pub const MIN_LEVERAGE_RATIO: i32 = -2028;
    /// -4001 PRICE_LESS_THAN_ZERO.
    pub const PRICE_LESS_THAN_ZERO: i32 = -4001;
    /// -4002 PRICE_GREATER_THAN_MAX_PRICE.
    pub const PRICE_GREATER_THAN_MAX_PRICE: i32 = -4002;
    /// -4003 QTY_LESS_THAN_ZERO.
    pub const QTY_LESS_THAN_ZERO: i32 = -4003;
    /// -4004 QTY_LESS_THAN_MIN_QTY.
    pub const QTY_LESS_THAN_MIN_QTY: i32 = -4004;
    /// -4005 QTY_GREATER_THAN_MAX_QTY.
    pub const QTY_GREATER_THAN_MAX_QTY: i32 = -4005;
    /// -4006 STOP_PRICE_LESS_THAN_ZERO.
    pub const STOP_PRICE_LESS_THAN_ZERO: i32 = -4006;
    /// -4007 STOP_PRICE_GREATER_THAN_MAX_PRICE.
    pub const STOP_PRICE_GREATER_THAN_MAX_PRICE: i32 = -4007;
    /// -4013 PRICE_LESS_THAN_MIN_PRICE.
    pub const PRICE_LESS_THAN_MIN_PRICE: i32 = -4013;
    /// -4014 PRICE_NOT_INCREASED_BY_TICK_SIZE.
    pub const PRICE_NOT_INCREASED_BY_TICK_SIZE: i32 = -4014;
    /// -4015 INVALID_CL_ORD_ID_LEN.
    pub const INVALID_CL_ORD_ID_LEN: i32 = -4015;
    /// -4016 PRICE_HIGHTER_THAN_MULTIPLIER_UP (sic).
    pub const PRICE_HIGHER_THAN_MULTIPLIER_UP: i32 = -4016;
    /// -4023 QTY_NOT_INCREASED_BY_STEP_SIZE.
    pub const QTY_NOT_INCREASED_BY_STEP_SIZE: i32 = -4023;
    /// -4024 PRICE_LOWER_THAN_MULTIPLIER_DOWN.
    pub const PRICE_LOWER_THAN_MULTIPLIER_DOWN: i32 = -4024;
    /// -4028 INVALID_LEVERAGE.
    pub const INVALID_LEVERAGE: i32 = -4028;
    /// -4046 NO_NEED_TO_CHANGE_MARGIN_TYPE.
    pub const NO_NEED_TO_CHANGE_MARGIN_TYPE: i32 = -4046;
    /// -4047 THERE_EXISTS_OPEN_ORDERS.
    pub const THERE_EXISTS_OPEN_ORDERS: i32 = -4047;
    /// -4048 THERE_EXISTS_QUANTITY.
    pub const THERE_EXISTS_QUANTITY: i32 = -4048;
    /// -4059 NO_NEED_TO_CHANGE_POSITION_SIDE.
    pub const NO_NEED_TO_CHANGE_POSITION_SIDE: i32 = -4059;
    /// -4061 POSITION_SIDE_NOT_MATCH.
    pub const POSITION_SIDE_NOT_MATCH: i32 = -4061;
    /// -4062 REDUCE_ONLY_CONFLICT.
    pub const REDUCE_ONLY_CONFLICT: i32 = -4062;
    /// -4067 POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS.
    pub const POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS: i32 = -4067;
    /// -4068 POSITION_SIDE_CHANGE_EXISTS_QUANTITY.
    pub const POSITION_SIDE_CHANGE_EXISTS_QUANTITY: i32 = -4068;
    /// -4082 INVALID_BATCH_PLACE_ORDER_SIZE.
    pub const INVALID_BATCH_PLACE_ORDER_SIZE: i32 = -4082;
    /// -4083 PLACE_BATCH_ORDERS_FAIL.
    pub const PLACE_BATCH_ORDERS_FAIL: i32 = -4083;
    /// -4116 DUPLICATED_CLIENT_ORDER_ID.
    pub const DUPLICATED_CLIENT_ORDER_ID: i32 = -4116;
    /// -4118 REDUCE_ONLY_MARGIN_CHECK_FAILED.
    pub const REDUCE_ONLY_MARGIN_CHECK_FAILED: i32 = -4118;
    /// -4120 STOP_ORDER_SWITCH_ALGO.
    pub const STOP_ORDER_SWITCH_ALGO: i32 = -4120;
    /// -4131 MARKET_ORDER_REJECT.
    pub const MARKET_ORDER_REJECT: i32 = -4131;
    /// -4135 INVALID_ACTIVATION_PRICE.
    pub const INVALID_ACTIVATION_PRICE: i32 = -4135;
    /// -4137 QUANTITY_EXISTS_WITH_CLOSE_POSITION.
    pub const QUANTITY_EXISTS_WITH_CLOSE_POSITION: i32 = -4137;
    /// -4138 REDUCE_ONLY_MUST_BE_TRUE.
    pub const REDUCE_ONLY_MUST_BE_TRUE: i32 = -4138;
    /// -4142 STRATEGY_INVALID_TRIGGER_PRICE.
    pub const STRATEGY_INVALID_TRIGGER_PRICE: i32 = -4142;
    /// -4164 MIN_NOTIONAL.
    pub const MIN_NOTIONAL: i32 = -4164;
    /// -5021 FOK_ORDER_REJECT.
    pub const FOK_ORDER_REJECT: i32 = -5021;
    /// -5022 GTX_ORDER_REJECT.
    pub const GTX_ORDER_REJECT: i32 = -5022;
    /// -5027 SAME_ORDER.
    pub const SAME_ORDER: i32 = -5027;
    /// -5028 ME_RECVWINDOW_REJECT.
    pub const ME_RECVWINDOW_REJECT: i32 = -5028;
    /// -5037 INVALID_PRICE_MATCH.
    pub const INVALID_PRICE_MATCH: i32 = -5037;
    /// -5038 UNSUPPORTED_ORDER_TYPE_PRICE_MATCH.
    pub const UNSUPPORTED_ORDER_TYPE_PRICE_MATCH: i32 = -5038;
    /// -5039 INVALID_SELF_TRADE_PREVENTION_MODE.
    pub const INVALID_SELF_TRADE_PREVENTION_MODE: i32 = -5039;
    /// -5040 FUTURE_GOOD_TILL_DATE.
    pub const FUTURE_GOOD_TILL_DATE: i32 = -5040;
}

/// One Binance error reply: HTTP status, stable negative code and message (§5.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("binance error {code} (HTTP {status}): {msg}")]
pub struct ApiError {
    /// The HTTP status of the reply.
    pub status: u16,
    /// Binance's error code, e.g. -1121.
    pub code: i32,
    /// The message text, e.g. "Invalid symbol.".
    pub msg: String,
    /// Seconds for a `Retry-After` header (weight 429s and 418 bans only, §4.4).
    pub retry_after_s: Option<u64>,
}

/// HTTP 400: request and order errors.
const BAD_REQUEST: u16 = 400;
/// HTTP 401: API-key errors (§2.6).
const UNAUTHORIZED: u16 = 401;

impl ApiError {
    /// An error with any status, code and message.
    #[must_use]
    pub fn new(status: u16, code: i32, msg: impl Into<String>) -> Self {
        Self {
            status,
            code,
            msg: msg.into(),
            retry_after_s: None,
        }
    }

    /// An HTTP 400 error with `code` and `msg`.
    #[must_use]
    pub fn bad_request(code: i32, msg: impl Into<String>) -> Self {
        Self::new(BAD_REQUEST, code, msg)
    }

    /// The same error with a `Retry-After` header of `seconds`.
    #[must_use]
    pub const fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_s = Some(seconds);
        self
    }

    /// The JSON body `{"code":<n>,"msg":"<text>"}` (§5.1).
    #[must_use]
    pub fn body(&self) -> String {
        let msg = serde_json::Value::from(self.msg.as_str());
        format!("{{\"code\":{},\"msg\":{msg}}}", self.code)
    }
}

impl Serialize for ApiError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("ApiError", 2)?;
        state.serialize_field("code", &self.code)?;
        state.serialize_field("msg", &self.msg)?;
        state.end()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response();
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Server, auth and rate-limit errors (§2.6, §4.4).
impl ApiError {
    /// -1000 UNKNOWN (HTTP 500).
    #[must_use]
    pub fn unknown() -> Self {
        Self::new(
            500,
            codes::UNKNOWN,
            "An unknown error occured while processing the request.",
        )
    }

    /// -1001 DISCONNECTED (HTTP 503): internal error, retry.
    #[must_use]
    pub fn disconnected() -> Self {
        Self::new(
            503,
            codes::DISCONNECTED,
            "Internal error; unable to process your request. Please try again.",
        )
    }

    /// -1002 UNAUTHORIZED (HTTP 401).
    #[must_use]
    pub fn unauthorized() -> Self {
        Self::new(
            UNAUTHORIZED,
            codes::UNAUTHORIZED,
            "You are not authorized to execute this request.",
        )
    }

    /// -1003 at HTTP 429: the IP went over its request weight per minute (§4.4).
    #[must_use]
    pub fn too_many_requests(limit_per_minute: u32, retry_after_s: u64) -> Self {
        let msg = format!(
            "Too many requests; current limit is {limit_per_minute} requests per minute. \
             Please use the websocket for live updates to avoid polling the API."
        );
        Self::new(429, codes::TOO_MANY_REQUESTS, msg).with_retry_after(retry_after_s)
    }

    /// -1003 at HTTP 418: the IP is banned until `until_ms` for going on after 429s (§4.4).
    #[must_use]
    pub fn ip_banned(until_ms: u64, retry_after_s: u64) -> Self {
        let msg = format!(
            "Way too many requests; IP banned until {until_ms}. \
             Please use the websocket for live updates to avoid bans."
        );
        Self::new(418, codes::TOO_MANY_REQUESTS, msg).with_retry_after(retry_after_s)
    }

    /// -1007 at HTTP 408: the backend did not answer in time; the outcome is unknown (§4.4).
    #[must_use]
    pub fn timeout() -> Self {
        Self::new(
            408,
            codes::TIMEOUT,
            "Timeout waiting for response from backend server. Send status unknown; execution \
             status unknown.",
        )
    }

    /// -1008 at HTTP 503: throttled by system-level protection (§4.4).
    #[must_use]
    pub fn throttled() -> Self {
        Self::new(
            503,
            codes::THROTTLED,
            "Request throttled by system-level protection. Reduce-only/close-position orders \
             are exempt. Please try again.",
        )
    }

    /// -1015 at HTTP 429: the account's order counter is full; `interval` is e.g.
    /// `"10 SECOND"` or `"1 MINUTE"` (§4.4; no `Retry-After`).
    #[must_use]
    pub fn too_many_orders(limit: u32, interval: &str) -> Self {
        let msg = format!("Too many new orders; current limit is {limit} orders per {interval}.");
        Self::new(429, codes::TOO_MANY_ORDERS, msg)
    }

    /// -1021: the timestamp is older than `recvWindow` (§2.4).
    #[must_use]
    pub fn timestamp_outside_recv_window() -> Self {
        Self::bad_request(
            codes::INVALID_TIMESTAMP,
            "Timestamp for this request is outside of the recvWindow.",
        )
    }

    /// -1021: the timestamp is 1000 ms or more ahead of the server clock (§2.4).
    #[must_use]
    pub fn timestamp_ahead() -> Self {
        Self::bad_request(
            codes::INVALID_TIMESTAMP,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        )
    }

    /// -1022: the signature does not match (§2.3).
    #[must_use]
    pub fn invalid_signature() -> Self {
        Self::bad_request(
            codes::INVALID_SIGNATURE,
            "Signature for this request is not valid.",
        )
    }

    /// -1099 NOT_FOUND: not found, unauthenticated, or unauthorized (§2.6).
    #[must_use]
    pub fn not_found() -> Self {
        Self::bad_request(
            codes::NOT_FOUND,
            "Not found, unauthenticated, or unauthorized.",
        )
    }

    /// -2014 at HTTP 401: the `X-MBX-APIKEY` header is missing or malformed (§2.6).
    #[must_use]
    pub fn bad_api_key_format() -> Self {
        Self::new(
            UNAUTHORIZED,
            codes::BAD_API_KEY_FMT,
            "API-key format invalid.",
        )
    }

    /// -2015 at HTTP 401: unknown key, or the key lacks the permission (§2.6).
    #[must_use]
    pub fn rejected_api_key() -> Self {
        Self::new(
            UNAUTHORIZED,
            codes::REJECTED_MBX_KEY,
            "Invalid API-key, IP, or permissions for action.",
        )
    }

    /// -5028: the request reached the matching engine outside its recvWindow (§2.4).
    #[must_use]
    pub fn me_recv_window_reject() -> Self {
        Self::bad_request(
            codes::ME_RECVWINDOW_REJECT,
            "Timestamp for this request is outside of the ME recvWindow.",
        )
    }
}

/// Parameter errors (§5.3, 11xx).
impl ApiError {
    /// -1100: a parameter holds characters that cannot be decoded.
    #[must_use]
    pub fn illegal_chars() -> Self {
        Self::bad_request(
            codes::ILLEGAL_CHARS,
            "Illegal characters found in a parameter.",
        )
    }

    /// -1101: the same parameter was sent twice in one part of the request.
    #[must_use]
    pub fn duplicate_parameter() -> Self {
        Self::bad_request(
            codes::TOO_MANY_PARAMETERS,
            "Duplicate values for a parameter detected.",
        )
    }

    /// -1101: more parameters than any endpoint takes.
    #[must_use]
    pub fn too_many_parameters() -> Self {
        Self::bad_request(
            codes::TOO_MANY_PARAMETERS,
            "Too many parameters sent for this endpoint.",
        )
    }

    /// -1102: `name` is required but was not sent, was empty, or is malformed.
    #[must_use]
    pub fn mandatory_param(name: &str) -> Self {
        Self::bad_request(
            codes::MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    }

    /// -1102: one of `first` or `second` must be sent (e.g. `orderId` / `origClientOrderId`).
    #[must_use]
    pub fn either_param(first: &str, second: &str) -> Self {
        Self::bad_request(
            codes::MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            format!("Param '{first}' or '{second}' must be sent, but both were empty/null!"),
        )
    }

    /// -1103: a parameter the endpoint does not know.
    #[must_use]
    pub fn unknown_param() -> Self {
        Self::bad_request(codes::UNKNOWN_PARAM, "An unknown parameter was sent.")
    }

    /// -1104: not every parameter sent was read by the endpoint.
    #[must_use]
    pub fn unread_parameters(read: usize, sent: usize) -> Self {
        Self::bad_request(
            codes::UNREAD_PARAMETERS,
            format!(
                "Not all sent parameters were read; read '{read}' parameter(s) but was sent \
                 '{sent}'."
            ),
        )
    }

    /// -1105: `name` was sent with an empty value where a value is needed.
    #[must_use]
    pub fn param_empty(name: &str) -> Self {
        Self::bad_request(codes::PARAM_EMPTY, format!("Parameter '{name}' was empty."))
    }

    /// -1106: `name` was sent where it is not allowed (e.g. `timeInForce` on MARKET).
    #[must_use]
    pub fn param_not_required(name: &str) -> Self {
        Self::bad_request(
            codes::PARAM_NOT_REQUIRED,
            format!("Parameter '{name}' sent when not required."),
        )
    }

    /// -1111: more decimals than the symbol's precision allows.
    #[must_use]
    pub fn bad_precision() -> Self {
        Self::bad_request(
            codes::BAD_PRECISION,
            "Precision is over the maximum defined for this asset.",
        )
    }

    /// -1115: unknown `timeInForce`.
    #[must_use]
    pub fn invalid_tif() -> Self {
        Self::bad_request(codes::INVALID_TIF, "Invalid timeInForce.")
    }

    /// -1116: unknown order `type`.
    #[must_use]
    pub fn invalid_order_type() -> Self {
        Self::bad_request(codes::INVALID_ORDER_TYPE, "Invalid orderType.")
    }

    /// -1117: unknown `side`.
    #[must_use]
    pub fn invalid_side() -> Self {
        Self::bad_request(codes::INVALID_SIDE, "Invalid side.")
    }

    /// -1120: unknown kline `interval`.
    #[must_use]
    pub fn bad_interval() -> Self {
        Self::bad_request(codes::BAD_INTERVAL, "Invalid interval.")
    }

    /// -1121: unknown or malformed symbol.
    #[must_use]
    pub fn bad_symbol() -> Self {
        Self::bad_request(codes::BAD_SYMBOL, "Invalid symbol.")
    }

    /// -1125: the listenKey is unknown or expired (§3.6).
    #[must_use]
    pub fn invalid_listen_key() -> Self {
        Self::bad_request(codes::INVALID_LISTEN_KEY, "This listenKey does not exist.")
    }

    /// -1127: the `startTime`–`endTime` window is longer than `hours`.
    #[must_use]
    pub fn more_than_hours(hours: u32) -> Self {
        Self::bad_request(
            codes::MORE_THAN_XX_HOURS,
            format!("More than {hours} hours between startTime and endTime."),
        )
    }

    /// -1128: optional parameters that cannot be combined.
    #[must_use]
    pub fn optional_params_bad_combo() -> Self {
        Self::bad_request(
            codes::OPTIONAL_PARAMS_BAD_COMBO,
            "Combination of optional parameters invalid.",
        )
    }

    /// -1130: the value of `name` is not valid.
    #[must_use]
    pub fn invalid_parameter(name: &str) -> Self {
        Self::bad_request(
            codes::INVALID_PARAMETER,
            format!("Data sent for parameter '{name}' is not valid."),
        )
    }

    /// -1136: unknown `newOrderRespType`.
    #[must_use]
    pub fn invalid_new_order_resp_type() -> Self {
        Self::bad_request(
            codes::INVALID_NEW_ORDER_RESP_TYPE,
            "Invalid newOrderRespType.",
        )
    }

    /// -1023: `startTime` after `endTime`.
    #[must_use]
    pub fn start_time_after_end_time() -> Self {
        Self::bad_request(
            codes::START_TIME_GREATER_THAN_END_TIME,
            "Start time is greater than end time.",
        )
    }

    /// -1014: a combination of order parameters the venue does not support.
    #[must_use]
    pub fn unknown_order_composition() -> Self {
        Self::bad_request(
            codes::UNKNOWN_ORDER_COMPOSITION,
            "Unsupported order combination.",
        )
    }

    /// -1020: an operation the simulator does not support.
    #[must_use]
    pub fn unsupported_operation() -> Self {
        Self::bad_request(
            codes::UNSUPPORTED_OPERATION,
            "This operation is not supported.",
        )
    }
}

/// Order-processing errors (§3.3, §5.3, 20xx and 4xxx/5xxx).
impl ApiError {
    /// -2010: generic order rejection.
    #[must_use]
    pub fn new_order_rejected() -> Self {
        Self::bad_request(codes::NEW_ORDER_REJECTED, "NEW_ORDER_REJECTED")
    }

    /// -2018: the balance is not enough.
    #[must_use]
    pub fn balance_insufficient() -> Self {
        Self::bad_request(codes::BALANCE_NOT_SUFFICIENT, "Balance is insufficient.")
    }

    /// -2020: the order cannot be filled.
    #[must_use]
    pub fn unable_to_fill() -> Self {
        Self::bad_request(codes::UNABLE_TO_FILL, "Unable to fill.")
    }

    /// -2011: cancel of an unknown or already closed order (§3.3).
    #[must_use]
    pub fn unknown_order() -> Self {
        Self::bad_request(codes::CANCEL_REJECTED, "Unknown order sent.")
    }

    /// -2013: query of an unknown order (§3.3).
    #[must_use]
    pub fn no_such_order() -> Self {
        Self::bad_request(codes::NO_SUCH_ORDER, "Order does not exist.")
    }

    /// -2019: not enough margin for the order.
    #[must_use]
    pub fn margin_insufficient() -> Self {
        Self::bad_request(codes::MARGIN_NOT_SUFFICIENT, "Margin is insufficient.")
    }

    /// -2021: a stop or trailing trigger is already crossed.
    #[must_use]
    pub fn order_would_immediately_trigger() -> Self {
        Self::bad_request(
            codes::ORDER_WOULD_IMMEDIATELY_TRIGGER,
            "Order would immediately trigger.",
        )
    }

    /// -2022: a reduce-only order would not reduce the position.
    #[must_use]
    pub fn reduce_only_rejected() -> Self {
        Self::bad_request(codes::REDUCE_ONLY_REJECT, "ReduceOnly Order is rejected.")
    }

    /// -2024: the position is too small for the request.
    #[must_use]
    pub fn position_not_sufficient() -> Self {
        Self::bad_request(
            codes::POSITION_NOT_SUFFICIENT,
            "Position is not sufficient.",
        )
    }

    /// -2025: the symbol already has `MAX_NUM_ORDERS` open orders.
    #[must_use]
    pub fn max_open_orders() -> Self {
        Self::bad_request(
            codes::MAX_OPEN_ORDER_EXCEEDED,
            "Reach max open order limit.",
        )
    }

    /// -2027: the position would exceed the maximum at the current leverage.
    #[must_use]
    pub fn max_leverage_ratio() -> Self {
        Self::bad_request(
            codes::MAX_LEVERAGE_RATIO,
            "Exceeded the maximum allowable position at current leverage.",
        )
    }

    /// -2028: leverage too low for the margin balance.
    #[must_use]
    pub fn min_leverage_ratio() -> Self {
        Self::bad_request(
            codes::MIN_LEVERAGE_RATIO,
            "Leverage is smaller than permitted: insufficient margin balance.",
        )
    }

    /// -4015: `newClientOrderId` breaks `^[\.A-Z\:/a-z0-9_-]{1,36}$` (§3.3).
    #[must_use]
    pub fn invalid_client_order_id() -> Self {
        Self::bad_request(
            codes::INVALID_CL_ORD_ID_LEN,
            "Client order id is not valid.",
        )
    }

    /// -4028: leverage outside 1–125 (or the symbol's cap).
    #[must_use]
    pub fn invalid_leverage(leverage: &str) -> Self {
        Self::bad_request(
            codes::INVALID_LEVERAGE,
            format!("Leverage {leverage} is not valid"),
        )
    }

    /// -4046: the margin type is already the one asked for.
    #[must_use]
    pub fn no_need_to_change_margin_type() -> Self {
        Self::bad_request(
            codes::NO_NEED_TO_CHANGE_MARGIN_TYPE,
            "No need to change margin type.",
        )
    }

    /// -4047: margin type change refused while orders are open.
    #[must_use]
    pub fn margin_type_open_orders() -> Self {
        Self::bad_request(
            codes::THERE_EXISTS_OPEN_ORDERS,
            "Margin type cannot be changed if there exists open orders.",
        )
    }

    /// -4048: margin type change refused while a position is open.
    #[must_use]
    pub fn margin_type_open_position() -> Self {
        Self::bad_request(
            codes::THERE_EXISTS_QUANTITY,
            "Margin type cannot be changed if there exists position.",
        )
    }

    /// -4059: the position mode is already the one asked for.
    #[must_use]
    pub fn no_need_to_change_position_side() -> Self {
        Self::bad_request(
            codes::NO_NEED_TO_CHANGE_POSITION_SIDE,
            "No need to change position side.",
        )
    }

    /// -4061: `positionSide` does not fit the account's one-way/hedge mode.
    #[must_use]
    pub fn position_side_not_match() -> Self {
        Self::bad_request(
            codes::POSITION_SIDE_NOT_MATCH,
            "Order's position side does not match user's setting.",
        )
    }

    /// -4062: `reduceOnly` sent where it is not allowed (e.g. hedge mode).
    #[must_use]
    pub fn reduce_only_conflict() -> Self {
        Self::bad_request(
            codes::REDUCE_ONLY_CONFLICT,
            "Invalid or improper reduceOnly value.",
        )
    }

    /// -4067: position mode change refused while orders are open.
    #[must_use]
    pub fn position_side_change_open_orders() -> Self {
        Self::bad_request(
            codes::POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS,
            "Position side cannot be changed if there exists open orders.",
        )
    }

    /// -4068: position mode change refused while a position is open.
    #[must_use]
    pub fn position_side_change_open_position() -> Self {
        Self::bad_request(
            codes::POSITION_SIDE_CHANGE_EXISTS_QUANTITY,
            "Position side cannot be changed if there exists position.",
        )
    }

    /// -4082: `batchOrders` is empty or holds more than 5 orders (§3.3).
    #[must_use]
    pub fn invalid_batch_size(count: usize) -> Self {
        Self::bad_request(
            codes::INVALID_BATCH_PLACE_ORDER_SIZE,
            format!("Invalid number of batch place orders: {count}"),
        )
    }

    /// -4083: the batch as a whole failed.
    #[must_use]
    pub fn place_batch_orders_fail() -> Self {
        Self::bad_request(
            codes::PLACE_BATCH_ORDERS_FAIL,
            "Fail to place batch orders.",
        )
    }

    /// -4116: the client order id is already used by an open order (§3.3).
    #[must_use]
    pub fn duplicated_client_order_id() -> Self {
        Self::bad_request(
            codes::DUPLICATED_CLIENT_ORDER_ID,
            "ClientOrderId is duplicated.",
        )
    }

    /// -4118: reduce-only plus a same-side open order would flip the position.
    #[must_use]
    pub fn reduce_only_margin_check_failed() -> Self {
        Self::bad_request(
            codes::REDUCE_ONLY_MARGIN_CHECK_FAILED,
            "ReduceOnly Order Failed. Please check your existing position and open orders",
        )
    }

    /// -4120: a conditional type sent to `/fapi/v1/order` or batchOrders (§3.3, §3.4).
    #[must_use]
    pub fn stop_order_switch_algo() -> Self {
        Self::bad_request(
            codes::STOP_ORDER_SWITCH_ALGO,
            "Order type not supported for this endpoint. Please use the Algo Order API \
             endpoints instead.",
        )
    }

    /// -4131: a market order's best counter price breaks `PERCENT_PRICE`.
    #[must_use]
    pub fn market_order_reject() -> Self {
        Self::bad_request(
            codes::MARKET_ORDER_REJECT,
            "The counterparty's best price does not meet the PERCENT_PRICE filter limit",
        )
    }

    /// -4135: a bad trailing-stop activation price.
    #[must_use]
    pub fn invalid_activation_price() -> Self {
        Self::bad_request(codes::INVALID_ACTIVATION_PRICE, "Invalid activation price")
    }

    /// -4137: `quantity` sent together with `closePosition=true`.
    #[must_use]
    pub fn quantity_with_close_position() -> Self {
        Self::bad_request(
            codes::QUANTITY_EXISTS_WITH_CLOSE_POSITION,
            "Quantity must be zero with closePosition equals true",
        )
    }

    /// -4138: `closePosition=true` needs reduce-only semantics.
    #[must_use]
    pub fn reduce_only_must_be_true() -> Self {
        Self::bad_request(
            codes::REDUCE_ONLY_MUST_BE_TRUE,
            "Reduce only must be true with closePosition equals true",
        )
    }

    /// -4142: a take-profit or stop order would trigger immediately.
    #[must_use]
    pub fn strategy_invalid_trigger_price() -> Self {
        Self::bad_request(
            codes::STRATEGY_INVALID_TRIGGER_PRICE,
            "REJECT: take profit or stop order will be triggered immediately",
        )
    }

    /// -4164: notional below `MIN_NOTIONAL.notional`; `min` is shown as given (§3.2).
    #[must_use]
    pub fn min_notional(min: &str) -> Self {
        Self::bad_request(
            codes::MIN_NOTIONAL,
            format!(
                "Order's notional must be no smaller than {min} (unless you choose reduce only)"
            ),
        )
    }

    /// -5021: a FOK order could not fill completely; it is not recorded (§5.3).
    #[must_use]
    pub fn fok_rejected() -> Self {
        Self::bad_request(
            codes::FOK_ORDER_REJECT,
            "Due to the order could not be filled immediately, the FOK order has been \
             rejected. The order will not be recorded in the order history",
        )
    }

    /// -5022: a post-only (GTX) order would take; it is not recorded (§5.3).
    #[must_use]
    pub fn gtx_rejected() -> Self {
        Self::bad_request(
            codes::GTX_ORDER_REJECT,
            "Due to the order could not be executed as maker, the Post Only order will be \
             rejected. The order will not be recorded in the order history",
        )
    }

    /// -5027: a modify that changes nothing.
    #[must_use]
    pub fn same_order() -> Self {
        Self::bad_request(codes::SAME_ORDER, "No need to modify the order.")
    }

    /// -5037: unknown or suspended `priceMatch`.
    #[must_use]
    pub fn invalid_price_match() -> Self {
        Self::bad_request(codes::INVALID_PRICE_MATCH, "Invalid price match")
    }

    /// -5038: `priceMatch` on an order type that does not take it.
    #[must_use]
    pub fn unsupported_order_type_price_match() -> Self {
        Self::bad_request(
            codes::UNSUPPORTED_ORDER_TYPE_PRICE_MATCH,
            "Price match only supports order type: LIMIT, STOP AND TAKE_PROFIT",
        )
    }

    /// -5039: unknown `selfTradePreventionMode`.
    #[must_use]
    pub fn invalid_self_trade_prevention_mode() -> Self {
        Self::bad_request(
            codes::INVALID_SELF_TRADE_PREVENTION_MODE,
            "Invalid self trade prevention mode",
        )
    }

    /// -5040: `goodTillDate` not in (now + 600 s, 253402300799000) (§3.3).
    #[must_use]
    pub fn future_good_till_date() -> Self {
        Self::bad_request(
            codes::FUTURE_GOOD_TILL_DATE,
            "The goodTillDate timestamp must be greater than the current time plus 600 seconds \
             and smaller than 253402300799000 (UTC 9999-12-31 23:59:59)",
        )
    }
}

/// Filter errors (`PRICE_FILTER`, `LOT_SIZE`, `PERCENT_PRICE`; §3.2, §5.3 40xx).
impl ApiError {
    /// -4001: price not positive.
    #[must_use]
    pub fn price_less_than_zero() -> Self {
        Self::bad_request(codes::PRICE_LESS_THAN_ZERO, "Price less than 0.")
    }

    /// -4002: price above `maxPrice`.
    #[must_use]
    pub fn price_greater_than_max() -> Self {
        Self::bad_request(
            codes::PRICE_GREATER_THAN_MAX_PRICE,
            "Price greater than max price.",
        )
    }

    /// -4003: quantity not positive.
    #[must_use]
    pub fn qty_less_than_zero() -> Self {
        Self::bad_request(codes::QTY_LESS_THAN_ZERO, "Quantity less than zero.")
    }

    /// -4004: quantity below `minQty`.
    #[must_use]
    pub fn qty_less_than_min() -> Self {
        Self::bad_request(
            codes::QTY_LESS_THAN_MIN_QTY,
            "Quantity less than min quantity.",
        )
    }

    /// -4005: quantity above `maxQty`.
    #[must_use]
    pub fn qty_greater_than_max() -> Self {
        Self::bad_request(
            codes::QTY_GREATER_THAN_MAX_QTY,
            "Quantity greater than max quantity.",
        )
    }

    /// -4006: stop price not positive.
    #[must_use]
    pub fn stop_price_less_than_zero() -> Self {
        Self::bad_request(
            codes::STOP_PRICE_LESS_THAN_ZERO,
            "Stop price less than zero.",
        )
    }

    /// -4007: stop price above `maxPrice`.
    #[must_use]
    pub fn stop_price_greater_than_max() -> Self {
        Self::bad_request(
            codes::STOP_PRICE_GREATER_THAN_MAX_PRICE,
            "Stop price greater than max price.",
        )
    }

    /// -4013: price below `minPrice`.
    #[must_use]
    pub fn price_less_than_min() -> Self {
        Self::bad_request(
            codes::PRICE_LESS_THAN_MIN_PRICE,
            "Price less than min price.",
        )
    }

    /// -4014: price off the `tickSize` grid.
    #[must_use]
    pub fn price_not_on_tick() -> Self {
        Self::bad_request(
            codes::PRICE_NOT_INCREASED_BY_TICK_SIZE,
            "Price not increased by tick size.",
        )
    }

    /// -4016: a buy priced above mark × `multiplierUp`.
    #[must_use]
    pub fn price_above_multiplier_up() -> Self {
        Self::bad_request(
            codes::PRICE_HIGHER_THAN_MULTIPLIER_UP,
            "Price is higher than mark price multiplier cap.",
        )
    }

    /// -4023: quantity off the `stepSize` grid.
    #[must_use]
    pub fn qty_not_on_step() -> Self {
        Self::bad_request(
            codes::QTY_NOT_INCREASED_BY_STEP_SIZE,
            "Qty not increased by step size.",
        )
    }

    /// -4024: a sell priced below mark × `multiplierDown`.
    #[must_use]
    pub fn price_below_multiplier_down() -> Self {
        Self::bad_request(
            codes::PRICE_LOWER_THAN_MULTIPLIER_DOWN,
            "Price is lower than mark price multiplier floor.",
        )
    }

    /// The Binance error for a broken instrument rule (§3.2 filters, §5.3 codes).
    ///
    /// A non-positive price gives -4001 (-4006 for `stop_price`) and a non-positive quantity
    /// -4003; otherwise: min price -4013, max price -4002 (-4007 for `stop_price`), tick
    /// -4014, min qty -4004, max qty -4005, step -4023, either precision -1111, min notional
    /// -4164 quoting the limit, percent price -4016 (buy) / -4024 (sell), open-order cap
    /// -2025, and a missing limit price -1102 naming `price`.
    #[must_use]
    pub fn from_rule(violation: &RuleViolation) -> Self {
        let is_stop = violation.field == "stop_price";
        match violation.rule {
            Rule::PriceRequired => Self::mandatory_param("price"),
            Rule::MinPrice => match (is_positive(violation.found), is_stop) {
                (false, true) => Self::stop_price_less_than_zero(),
                (false, false) => Self::price_less_than_zero(),
                (true, _) => Self::price_less_than_min(),
            },
            Rule::MaxPrice if is_stop => Self::stop_price_greater_than_max(),
            Rule::MaxPrice => Self::price_greater_than_max(),
            Rule::TickSize => Self::price_not_on_tick(),
            Rule::PricePrecision | Rule::QtyPrecision => Self::bad_precision(),
            Rule::MinQty if !is_positive(violation.found) => Self::qty_less_than_zero(),
            Rule::MinQty => Self::qty_less_than_min(),
            Rule::MaxQty => Self::qty_greater_than_max(),
            Rule::StepSize => Self::qty_not_on_step(),
            Rule::MinNotional => Self::min_notional(&violation.limit.to_string()),
            Rule::PercentPriceUp => Self::price_above_multiplier_up(),
            Rule::PercentPriceDown => Self::price_below_multiplier_down(),
            Rule::MaxOpenOrders => Self::max_open_orders(),
        }
    }
}

impl From<&RuleViolation> for ApiError {
    fn from(violation: &RuleViolation) -> Self {
        Self::from_rule(violation)
    }
}

/// Whether a violation's found value is strictly positive (non-numbers count as positive).
fn is_positive(value: RuleValue) -> bool {
    match value {
        RuleValue::Price(price) => price.is_positive(),
        RuleValue::Qty(qty) => qty.is_positive(),
        RuleValue::Money(money) => money.is_positive(),
        RuleValue::Count(_) | RuleValue::None => true,
    }
}

#[cfg(test)]
mod tests;
