use kestrel_model::order::{OrderType, PositionSide, TimeInForce, WorkingType};
use kestrel_model::{Price, Qty, Side};

use super::{NewOrderRespType, Params, PriceMatch, SelfTradePrevention, decode_component};

fn params(query: &str, body: &str) -> Params {
    Params::parse(query, body.as_bytes()).unwrap()
}

fn code<T: std::fmt::Debug>(result: Result<T, super::ApiError>) -> i32 {
    result.unwrap_err().code
}

#[test]
fn query_then_body_in_order() {
    let p = params("symbol=BTCUSDT&side=BUY", "type=LIMIT&price=1");
    let keys: Vec<&str> = p.iter().map(|(key, _)| key).collect();
    assert_eq!(keys, ["symbol", "side", "type", "price"]);
}

#[test]
fn query_wins_over_body_on_a_shared_key() {
    let p = params("quantity=1", "quantity=2&side=SELL");
    assert_eq!(p.get("quantity"), Some("1"));
    assert_eq!(p.len(), 2);
}

#[test]
fn duplicate_key_within_one_part_is_1101() {
    assert_eq!(code(Params::parse("a=1&a=2", b"")), -1101);
    assert_eq!(code(Params::parse("", b"a=1&a=2")), -1101);
}

#[test]
fn percent_and_plus_are_decoded() {
    let p = params("newClientOrderId=x%2Dab%3A1&note=a+b", "");
    assert_eq!(p.get("newClientOrderId"), Some("x-ab:1"));
    assert_eq!(p.get("note"), Some("a b"));
}

#[test]
fn broken_escape_stays_literal_and_bad_utf8_is_1100() {
    assert_eq!(decode_component(b"50%zz%4", true).unwrap(), "50%zz%4");
    assert_eq!(code(Params::parse("a=%FF", b"")), -1100);
}

#[test]
fn empty_body_with_json_content_is_fine() {
    let p = params("symbol=BTCUSDT&timestamp=1", "");
    assert_eq!(p.len(), 2);
    let p = params("symbol=BTCUSDT", "  \r\n");
    assert_eq!(p.len(), 1);
}

#[test]
fn json_object_body_is_accepted() {
    let p = params(
        "",
        r#"{"symbol":"BTCUSDT","quantity":0.5,"reduceOnly":true,"x":null}"#,
    );
    assert_eq!(p.get("symbol"), Some("BTCUSDT"));
    assert_eq!(p.get("quantity"), Some("0.5"));
    assert_eq!(p.get("reduceOnly"), Some("true"));
    assert_eq!(p.get("x"), None);
    assert_eq!(code(Params::parse("", b"{not json")), -1130);
}

#[test]
fn key_without_equals_has_an_empty_value() {
    let p = params("flag&symbol=", "");
    assert_eq!(p.get("flag"), Some(""));
    assert_eq!(p.optional("symbol"), None);
    assert_eq!(code(p.required("symbol")), -1102);
}

#[test]
fn required_names_the_missing_param() {
    let error = params("", "").required("timestamp").unwrap_err();
    assert_eq!(error.code, -1102);
    assert_eq!(
        error.msg,
        "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
    );
}

#[test]
fn integers_parse_or_give_1130() {
    let p = params("orderId=42&startTime=-5&limit=abc&fromId=+3", "");
    assert_eq!(p.u64("orderId").unwrap(), 42);
    assert_eq!(p.i64("startTime").unwrap(), -5);
    assert_eq!(code(p.opt_u64("limit")), -1130);
    assert_eq!(code(p.opt_u64("startTime")), -1130);
    assert_eq!(code(p.opt_u64("fromId")), -1130);
    assert_eq!(code(p.u64("missing")), -1102);
    let error = p.opt_u64("limit").unwrap_err();
    assert_eq!(error.msg, "Data sent for parameter 'limit' is not valid.");
}

#[test]
fn decimals_parse_exactly() {
    let p = params("price=50000.10&quantity=0.001&callbackRate=1.5", "");
    assert_eq!(p.price("price").unwrap(), Price::parse("50000.1").unwrap());
    assert_eq!(p.qty("quantity").unwrap(), Qty::parse("0.001").unwrap());
    assert!(p.opt_rate("callbackRate").unwrap().is_some());
    assert_eq!(p.opt_price("stopPrice").unwrap(), None);
}

#[test]
fn too_many_decimals_is_1111_and_garbage_is_1130() {
    let p = params("price=1.123456789&quantity=1e-3&a=0.1000000000", "");
    assert_eq!(code(p.opt_price("price")), -1111);
    assert_eq!(code(p.opt_qty("quantity")), -1130);
    assert!(p.opt_qty("a").unwrap().is_some());
}

#[test]
fn booleans_are_case_insensitive() {
    let p = params(
        "reduceOnly=true&priceProtect=TRUE&closePosition=False&x=yes",
        "",
    );
    assert_eq!(p.opt_bool("reduceOnly").unwrap(), Some(true));
    assert_eq!(p.opt_bool("priceProtect").unwrap(), Some(true));
    assert!(!p.flag("closePosition").unwrap());
    assert!(!p.flag("absent").unwrap());
    assert_eq!(code(p.opt_bool("x")), -1130);
}

#[test]
fn symbol_is_upper_cased_and_checked() {
    assert_eq!(params("symbol=btcusdt", "").symbol().unwrap(), "BTCUSDT");
    assert_eq!(code(params("symbol=BTC-USDT", "").symbol()), -1121);
    assert_eq!(code(params("", "").symbol()), -1102);
    assert_eq!(params("", "").opt_symbol().unwrap(), None);
}

#[test]
fn order_enums_parse_with_their_codes() {
    let p = params(
        "side=SELL&type=STOP_MARKET&timeInForce=GTX&positionSide=LONG&workingType=MARK_PRICE",
        "newOrderRespType=RESULT&selfTradePreventionMode=EXPIRE_BOTH&priceMatch=QUEUE_5",
    );
    assert_eq!(p.side().unwrap(), Side::Sell);
    assert_eq!(p.order_type().unwrap(), OrderType::StopMarket);
    assert_eq!(p.opt_time_in_force().unwrap(), Some(TimeInForce::Gtx));
    assert_eq!(p.opt_position_side().unwrap(), Some(PositionSide::Long));
    assert_eq!(p.opt_working_type().unwrap(), Some(WorkingType::MarkPrice));
    assert_eq!(p.new_order_resp_type().unwrap(), NewOrderRespType::Result);
    assert_eq!(
        p.opt_self_trade_prevention().unwrap(),
        Some(SelfTradePrevention::ExpireBoth)
    );
    assert_eq!(p.opt_price_match().unwrap(), Some(PriceMatch::Queue5));
    assert_eq!(PriceMatch::Queue5.binance_name(), "QUEUE_5");
}

#[test]
fn bad_enum_values_give_their_codes() {
    let p = params(
        "side=buy&type=LIMIT_MAKER&timeInForce=GTD&positionSide=UP&workingType=X",
        "newOrderRespType=FULL&selfTradePreventionMode=X&priceMatch=X",
    );
    assert_eq!(code(p.side()), -1117);
    assert_eq!(code(p.order_type()), -1116);
    assert_eq!(code(p.opt_time_in_force()), -1115);
    assert_eq!(code(p.opt_position_side()), -1130);
    assert_eq!(code(p.opt_working_type()), -1130);
    assert_eq!(code(p.new_order_resp_type()), -1136);
    assert_eq!(code(p.opt_self_trade_prevention()), -5039);
    assert_eq!(code(p.opt_price_match()), -5037);
}

#[test]
fn defaults_when_optional_enums_are_absent() {
    let p = params("", "");
    assert_eq!(p.new_order_resp_type().unwrap(), NewOrderRespType::Ack);
    assert_eq!(p.opt_time_in_force().unwrap(), None);
    assert_eq!(code(p.side()), -1102);
}

#[test]
fn client_order_id_is_checked() {
    let p = params(
        "newClientOrderId=x-cvBPrNm9abc&origClientOrderId=bad%20id",
        "",
    );
    assert_eq!(
        p.opt_client_order_id("newClientOrderId").unwrap(),
        Some("x-cvBPrNm9abc")
    );
    assert_eq!(code(p.opt_client_order_id("origClientOrderId")), -4015);
}

const BATCH: &str = r#"[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.001","price":"50000","timeInForce":"GTC"},{"symbol":"BTCUSDT","side":"SELL","type":"MARKET","quantity":"0.002"}]"#;

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[test]
fn batch_orders_percent_encoded_in_query() {
    let p = params(&format!("batchOrders={}&timestamp=1", encode(BATCH)), "");
    let orders = p.batch_orders().unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0].side().unwrap(), Side::Buy);
    assert_eq!(
        orders[1].qty("quantity").unwrap(),
        Qty::parse("0.002").unwrap()
    );
}

#[test]
fn batch_orders_raw_json_in_form_body_as_ccxt_sends() {
    let p = params("", &format!("batchOrders={BATCH}&timestamp=1"));
    assert_eq!(p.batch_orders().unwrap().len(), 2);
}

#[test]
fn batch_orders_connector_style_with_spaces() {
    let text = r#"[{"symbol": "BTCUSDT", "side": "BUY", "quantity": 0.001}]"#;
    let p = params(&format!("batchOrders={}", encode(text)), "");
    let orders = p.batch_orders().unwrap();
    assert_eq!(orders[0].get("quantity"), Some("0.001"));
}

#[test]
fn batch_orders_double_encoded_is_decoded_again() {
    let p = params(&format!("batchOrders={}", encode(&encode(BATCH))), "");
    assert_eq!(p.batch_orders().unwrap().len(), 2);
}

#[test]
fn batch_orders_as_a_real_array_in_a_json_body() {
    let p = params("", &format!(r#"{{"batchOrders":{BATCH}}}"#));
    assert_eq!(p.batch_orders().unwrap().len(), 2);
}

#[test]
fn batch_orders_escaped_quotes_and_nesting_are_refused() {
    let escaped = BATCH.replace('"', "\\\"");
    let p = params(&format!("batchOrders={}", encode(&escaped)), "");
    assert_eq!(code(p.batch_orders()), -1130);
    let stringified = serde_json::to_string(BATCH).unwrap();
    let p = params(&format!("batchOrders={}", encode(&stringified)), "");
    assert_eq!(code(p.batch_orders()), -1130);
    let nested = r#"[{"symbol":{"a":"b"}}]"#;
    let p = params(&format!("batchOrders={}", encode(nested)), "");
    assert_eq!(code(p.batch_orders()), -1130);
}

#[test]
fn batch_orders_size_is_one_to_five() {
    assert_eq!(code(params("batchOrders=%5B%5D", "").batch_orders()), -4082);
    let six = format!("[{}]", [r#"{"symbol":"BTCUSDT"}"#; 6].join(","));
    let p = params(&format!("batchOrders={}", encode(&six)), "");
    assert_eq!(code(p.batch_orders()), -4082);
    assert_eq!(code(params("", "").batch_orders()), -1102);
}

#[test]
fn order_id_list_accepts_numbers_and_digit_strings() {
    let p = params(
        &format!("orderIdList={}", encode("[1234567, \"2345678\"]")),
        "",
    );
    assert_eq!(
        p.opt_order_id_list().unwrap(),
        Some(vec![1_234_567, 2_345_678])
    );
    assert_eq!(params("", "").opt_order_id_list().unwrap(), None);
}

#[test]
fn order_id_list_rejects_junk_empty_and_too_long() {
    for text in ["[1.5]", "[-1]", "[]", "{}", "1,2", "[\"a\"]"] {
        let p = params(&format!("orderIdList={}", encode(text)), "");
        assert_eq!(code(p.opt_order_id_list()), -1130, "{text}");
    }
    let eleven = format!("[{}]", ["1"; 11].join(","));
    let p = params(&format!("orderIdList={}", encode(&eleven)), "");
    assert_eq!(code(p.opt_order_id_list()), -1130);
}

#[test]
fn orig_client_order_id_list_is_strings() {
    let p = params("", r#"origClientOrderIdList=["a1","b2"]"#);
    assert_eq!(
        p.opt_orig_client_order_id_list().unwrap(),
        Some(vec!["a1".to_owned(), "b2".to_owned()])
    );
    let p = params("", "origClientOrderIdList=[1,2]");
    assert_eq!(code(p.opt_orig_client_order_id_list()), -1130);
}

#[test]
fn unread_params_are_tracked() {
    let p = params("symbol=BTCUSDT&side=BUY&junk=1", "");
    let _ = p.symbol();
    assert_eq!(p.unread(), ["side", "junk"]);
    let _ = p.side();
    assert_eq!(code(p.ensure_all_read()), -1104);
    p.mark_read("junk");
    assert!(p.ensure_all_read().is_ok());
}

#[test]
fn too_many_params_is_1101() {
    let query: Vec<String> = (0..200).map(|i| format!("k{i}=1")).collect();
    assert_eq!(code(Params::parse(&query.join("&"), b"")), -1101);
}
