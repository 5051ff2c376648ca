use axum::body::to_bytes;
use axum::http::header;
use axum::response::IntoResponse;
use kestrel_model::instrument::{OrderCheck, Rule, RuleValue, RuleViolation, binance_usdm};
use kestrel_model::{Money, Price, Qty, Side};

use super::{ApiError, codes};

fn violation(rule: Rule, field: &'static str, found: RuleValue) -> RuleViolation {
    RuleViolation {
        rule,
        field,
        found,
        limit: RuleValue::None,
    }
}

fn price(text: &str) -> RuleValue {
    RuleValue::Price(Price::parse(text).unwrap())
}

fn qty(text: &str) -> RuleValue {
    RuleValue::Qty(Qty::parse(text).unwrap())
}

#[test]
fn body_is_code_then_msg_json() {
    let error = ApiError::bad_symbol();
    assert_eq!(error.body(), r#"{"code":-1121,"msg":"Invalid symbol."}"#);
    assert_eq!(error.status, 400);
}

#[test]
fn body_escapes_quotes_in_the_message() {
    let error = ApiError::mandatory_param("a\"b");
    let parsed: serde_json::Value = serde_json::from_str(&error.body()).unwrap();
    assert_eq!(
        parsed["msg"],
        "Mandatory parameter 'a\"b' was not sent, was empty/null, or malformed."
    );
}

#[test]
fn serializes_as_code_and_msg_only() {
    let error = ApiError::too_many_requests(2400, 30);
    let json = serde_json::to_value(&error).unwrap();
    assert_eq!(json.as_object().unwrap().len(), 2);
    assert_eq!(json["code"], -1003);
}

#[tokio::test]
async fn response_has_status_json_content_type_and_body() {
    let response = ApiError::rejected_api_key().into_response();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert!(response.headers().get(header::RETRY_AFTER).is_none());
    let body = to_bytes(response.into_body(), 1024).await.unwrap();
    assert_eq!(
        &body[..],
        br#"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#
    );
}

#[tokio::test]
async fn rate_limit_response_carries_retry_after() {
    let response = ApiError::ip_banned(1_700_000_120_000, 120).into_response();
    assert_eq!(response.status().as_u16(), 418);
    assert_eq!(response.headers()[header::RETRY_AFTER], "120");
    let body = to_bytes(response.into_body(), 1024).await.unwrap();
    let text = std::str::from_utf8(&body).unwrap();
    assert!(text.contains("Way too many requests; IP banned until 1700000120000."));
}

#[test]
fn documented_messages_are_exact() {
    let cases = [
        (ApiError::unknown_order(), -2011, "Unknown order sent."),
        (ApiError::no_such_order(), -2013, "Order does not exist."),
        (
            ApiError::invalid_signature(),
            -1022,
            "Signature for this request is not valid.",
        ),
        (
            ApiError::bad_api_key_format(),
            -2014,
            "API-key format invalid.",
        ),
        (
            ApiError::invalid_listen_key(),
            -1125,
            "This listenKey does not exist.",
        ),
        (
            ApiError::margin_insufficient(),
            -2019,
            "Margin is insufficient.",
        ),
        (
            ApiError::reduce_only_rejected(),
            -2022,
            "ReduceOnly Order is rejected.",
        ),
        (
            ApiError::duplicated_client_order_id(),
            -4116,
            "ClientOrderId is duplicated.",
        ),
        (
            ApiError::bad_precision(),
            -1111,
            "Precision is over the maximum defined for this asset.",
        ),
        (
            ApiError::timestamp_outside_recv_window(),
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ),
        (
            ApiError::timestamp_ahead(),
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ),
        (
            ApiError::invalid_parameter("recvWindow"),
            -1130,
            "Data sent for parameter 'recvWindow' is not valid.",
        ),
        (
            ApiError::min_notional("100"),
            -4164,
            "Order's notional must be no smaller than 100 (unless you choose reduce only)",
        ),
    ];
    for (error, code, msg) in cases {
        assert_eq!((error.code, error.msg.as_str()), (code, msg));
    }
}

#[test]
fn rate_limit_errors_use_429_and_418() {
    let weight = ApiError::too_many_requests(2400, 12);
    assert_eq!(
        (weight.status, weight.code, weight.retry_after_s),
        (429, -1003, Some(12))
    );
    assert_eq!(
        weight.msg,
        "Too many requests; current limit is 2400 requests per minute. Please use the \
         websocket for live updates to avoid polling the API."
    );
    let orders = ApiError::too_many_orders(300, "10 SECOND");
    assert_eq!(
        (orders.status, orders.code, orders.retry_after_s),
        (429, -1015, None)
    );
    assert_eq!(
        orders.msg,
        "Too many new orders; current limit is 300 orders per 10 SECOND."
    );
}

#[test]
fn each_rule_maps_to_its_binance_code() {
    let cases = [
        (
            violation(Rule::PriceRequired, "price", RuleValue::None),
            -1102,
        ),
        (
            violation(Rule::MinPrice, "price", price("0")),
            codes::PRICE_LESS_THAN_ZERO,
        ),
        (violation(Rule::MinPrice, "price", price("-1")), -4001),
        (violation(Rule::MinPrice, "price", price("1")), -4013),
        (violation(Rule::MinPrice, "stop_price", price("0")), -4006),
        (violation(Rule::MinPrice, "stop_price", price("1")), -4013),
        (violation(Rule::MaxPrice, "price", price("9")), -4002),
        (violation(Rule::MaxPrice, "stop_price", price("9")), -4007),
        (violation(Rule::TickSize, "price", price("1.05")), -4014),
        (
            violation(Rule::PricePrecision, "price", price("1.005")),
            -1111,
        ),
        (violation(Rule::MinQty, "quantity", qty("0")), -4003),
        (violation(Rule::MinQty, "quantity", qty("0.0001")), -4004),
        (violation(Rule::MaxQty, "quantity", qty("5000")), -4005),
        (violation(Rule::StepSize, "quantity", qty("0.0015")), -4023),
        (
            violation(Rule::QtyPrecision, "quantity", qty("0.0015")),
            -1111,
        ),
        (
            violation(Rule::MinNotional, "notional", RuleValue::None),
            -4164,
        ),
        (violation(Rule::PercentPriceUp, "price", price("1")), -4016),
        (
            violation(Rule::PercentPriceDown, "price", price("1")),
            -4024,
        ),
        (
            violation(Rule::MaxOpenOrders, "open_orders", RuleValue::Count(200)),
            -2025,
        ),
    ];
    for (violation, code) in cases {
        let error = ApiError::from_rule(&violation);
        assert_eq!(error.code, code, "{violation:?}");
        assert_eq!(error.status, 400);
    }
}

#[test]
fn every_rule_has_a_mapping_with_a_message() {
    for rule in Rule::ALL {
        let error = ApiError::from(&violation(rule, "price", price("1")));
        assert!(error.code < 0 && !error.msg.is_empty(), "{rule:?}");
    }
}

#[test]
fn min_notional_message_quotes_the_limit() {
    let mut broken = violation(Rule::MinNotional, "notional", RuleValue::None);
    broken.limit = RuleValue::Money(Money::parse("100").unwrap());
    assert_eq!(
        ApiError::from_rule(&broken).msg,
        "Order's notional must be no smaller than 100 (unless you choose reduce only)"
    );
}

#[test]
fn instrument_validation_result_maps_end_to_end() {
    let btc = binance_usdm("BTCUSDT").unwrap();
    let order = OrderCheck {
        side: Side::Buy,
        is_market: false,
        price: Some(Price::parse("50000.05").unwrap()),
        needs_price: true,
        stop_price: None,
        quantity: Qty::parse("0.010").unwrap(),
        reduce_only: false,
        close_position: false,
        mark_price: None,
        open_orders: 0,
    };
    let broken = btc.validate(&order).unwrap_err();
    assert_eq!(ApiError::from_rule(&broken).code, -4014);
}
