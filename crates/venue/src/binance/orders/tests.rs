//! Order mapping (every type to Binance's parameters) and answer parsing, on the field lists of
//! `../shared/binance-futures.md` §3.3/§3.4 and Binance's documented example answers.

use kestrel_model::order::{ExecutionMode, OrderRequest, OrderType, TimeInForce};

use super::*;

fn request(order_type: OrderType) -> OrderRequest {
    OrderRequest {
        request_id: "r-1".into(),
        symbol: "BTCUSDT".into(),
        side: Side::Buy,
        order_type,
        time_in_force: None,
        price: None,
        quantity: Qty::parse("0.010").unwrap(),
        stop_price: None,
        reduce_only: false,
        close_position: false,
        position_side: PositionSide::Both,
        client_order_id: Some("kx:1/a".into()),
        execution_mode: ExecutionMode::Live,
        working_type: WorkingType::ContractPrice,
        callback_rate: None,
        activation_price: None,
    }
}

fn pairs(params: &Params) -> Vec<(&str, &str)> {
    params
        .items()
        .iter()
        .map(|p| (p.key, p.value.as_str()))
        .collect()
}

#[test]
fn limit_maps_to_order_params_with_exact_decimals_and_client_id() {
    let mut r = request(OrderType::Limit);
    r.time_in_force = Some(TimeInForce::PostOnly);
    r.price = Some(Price::parse("61800.10").unwrap());
    r.reduce_only = true;
    let order = NewOrder::from_request(&r).unwrap();
    assert!(!order.is_algo());
    assert_eq!(
        pairs(&order.order_params().unwrap()),
        vec![
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("positionSide", "BOTH"),
            ("type", "LIMIT"),
            ("timeInForce", "GTX"),
            ("quantity", "0.01"),
            ("price", "61800.1"),
            ("reduceOnly", "true"),
            ("newClientOrderId", "kx:1/a"),
            ("newOrderRespType", "ACK"),
        ]
    );
    assert!(order.algo_params().is_err(), "LIMIT is not an algo order");
}

#[test]
fn market_sends_no_price_and_no_time_in_force() {
    let mut order = NewOrder::from_request(&request(OrderType::Market)).unwrap();
    order.response_type = ResponseType::Result;
    order.self_trade_prevention = Some(SelfTradePrevention::ExpireBoth);
    let params = order.order_params().unwrap();
    assert_eq!(params.get("type"), Some("MARKET"));
    assert_eq!(
        (params.get("price"), params.get("timeInForce")),
        (None, None)
    );
    assert_eq!(params.get("newOrderRespType"), Some("RESULT"));
    assert_eq!(params.get("selfTradePreventionMode"), Some("EXPIRE_BOTH"));
}

#[test]
fn stop_limit_goes_to_the_algo_endpoint_with_trigger_price() {
    let mut r = request(OrderType::StopLimit);
    r.side = Side::Sell;
    r.time_in_force = Some(TimeInForce::Gtc);
    r.price = Some(Price::parse("60000").unwrap());
    r.stop_price = Some(Price::parse("60100.5").unwrap());
    r.working_type = WorkingType::MarkPrice;
    let order = NewOrder::from_request(&r).unwrap();
    assert!(order.is_algo());
    assert!(matches!(
        order.order_params(),
        Err(RequestError::Invalid { .. })
    ));
    assert_eq!(
        pairs(&order.algo_params().unwrap()),
        vec![
            ("algoType", "CONDITIONAL"),
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("positionSide", "BOTH"),
            ("type", "STOP"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01"),
            ("price", "60000"),
            ("triggerPrice", "60100.5"),
            ("workingType", "MARK_PRICE"),
            ("clientAlgoId", "kx:1/a"),
        ]
    );
}

#[test]
fn close_position_stop_market_sends_no_quantity() {
    let mut r = request(OrderType::StopMarket);
    r.quantity = Qty::ZERO;
    r.close_position = true;
    r.stop_price = Some(Price::parse("59000").unwrap());
    let mut order = NewOrder::from_request(&r).unwrap();
    order.price_protect = true;
    let params = order.algo_params().unwrap();
    assert_eq!(params.get("type"), Some("STOP_MARKET"));
    assert_eq!(params.get("quantity"), None);
    assert_eq!(params.get("closePosition"), Some("true"));
    assert_eq!(params.get("priceProtect"), Some("true"));
    assert_eq!(params.get("timeInForce"), None);
}

#[test]
fn take_profit_types_map_to_binance_names() {
    let mut r = request(OrderType::TakeProfitMarket);
    r.stop_price = Some(Price::parse("70000").unwrap());
    let params = NewOrder::from_request(&r).unwrap().algo_params().unwrap();
    assert_eq!(params.get("type"), Some("TAKE_PROFIT_MARKET"));
    let mut r = request(OrderType::TakeProfitLimit);
    r.stop_price = Some(Price::parse("70000").unwrap());
    r.price = Some(Price::parse("70010").unwrap());
    r.time_in_force = Some(TimeInForce::Ioc);
    let params = NewOrder::from_request(&r).unwrap().algo_params().unwrap();
    assert_eq!(params.get("type"), Some("TAKE_PROFIT"));
    assert_eq!(params.get("timeInForce"), Some("IOC"));
}

#[test]
fn trailing_stop_sends_activate_price_and_callback_rate() {
    let mut r = request(OrderType::TrailingStopMarket);
    r.position_side = PositionSide::Long;
    r.side = Side::Sell;
    r.callback_rate = Some(Rate::parse("0.3").unwrap());
    r.activation_price = Some(Price::parse("9020").unwrap());
    let params = NewOrder::from_request(&r).unwrap().algo_params().unwrap();
    assert_eq!(params.get("type"), Some("TRAILING_STOP_MARKET"));
    assert_eq!(params.get("positionSide"), Some("LONG"));
    assert_eq!(params.get("activatePrice"), Some("9020"));
    assert_eq!(params.get("callbackRate"), Some("0.3"));
    assert_eq!(params.get("triggerPrice"), None);
}

#[test]
fn a_request_without_client_order_id_or_with_a_bad_shape_is_refused() {
    let mut r = request(OrderType::Market);
    r.client_order_id = None;
    assert!(matches!(
        NewOrder::from_request(&r),
        Err(RequestError::Invalid { .. })
    ));
    let r = request(OrderType::Limit);
    assert!(
        NewOrder::from_request(&r).is_err(),
        "LIMIT without a price is refused"
    );
}

/// Binance's documented answer to `POST /fapi/v1/order` (a trailing stop, §3.3 fields).
const ORDER_ANSWER: &str = r#"{"clientOrderId":"testOrder","cumQty":"0","cumQuote":"0","executedQty":"0","orderId":22542179,"avgPrice":"0.00000","origQty":"10","price":"0","reduceOnly":false,"side":"BUY","positionSide":"SHORT","status":"NEW","stopPrice":"9300","closePosition":false,"symbol":"BTCUSDT","timeInForce":"GTD","type":"TRAILING_STOP_MARKET","origType":"TRAILING_STOP_MARKET","activatePrice":"9020","priceRate":"0.3","updateTime":1566818724722,"workingType":"CONTRACT_PRICE","priceProtect":false,"priceMatch":"NONE","selfTradePreventionMode":"NONE","goodTillDate":1693207680000}"#;

#[test]
fn order_answer_parses_with_exact_decimals() {
    let order: VenueOrder = serde_json::from_str(ORDER_ANSWER).unwrap();
    assert_eq!(order.order_id, 22_542_179);
    assert_eq!(order.status, VenueOrderStatus::New);
    assert_eq!(order.status.to_model(), OrderStatus::Submitted);
    assert_eq!(order.time_in_force, VenueTimeInForce::Gtd);
    assert_eq!(order.order_type, VenueOrderType::TrailingStopMarket);
    assert_eq!(
        order.order_type.to_model(),
        Some(OrderType::TrailingStopMarket)
    );
    assert_eq!(order.orig_qty, Qty::parse("10").unwrap());
    assert_eq!(order.cum_qty, Some(Qty::ZERO));
    assert_eq!(order.stop_price, Price::parse("9300").unwrap());
    assert_eq!(order.activate_price, Some(Price::parse("9020").unwrap()));
    assert_eq!(order.price_rate, Some(Rate::parse("0.3").unwrap()));
    assert_eq!(order.good_till_date, 1_693_207_680_000);
    assert_eq!(order.time, None);
}

/// Binance's documented answer to `POST /fapi/v1/algoOrder` (§3.4 fields).
const ALGO_ANSWER: &str = r#"{"algoId":2146760,"clientAlgoId":"6B2I9XVcJpCjqPAJ4YoFX7","algoType":"CONDITIONAL","orderType":"TAKE_PROFIT","symbol":"BNBUSDT","side":"SELL","positionSide":"BOTH","timeInForce":"GTC","quantity":"0.01","algoStatus":"NEW","triggerPrice":"750.000","price":"750.000","icebergQuantity":null,"selfTradePreventionMode":"EXPIRE_MAKER","workingType":"CONTRACT_PRICE","priceMatch":"NONE","closePosition":false,"priceProtect":false,"reduceOnly":false,"activatePrice":"","callbackRate":"","createTime":1750485492076,"updateTime":1750485492076,"triggerTime":0,"goodTillDate":0}"#;

#[test]
fn algo_answer_parses_with_empty_strings_as_absent() {
    let algo: AlgoOrder = serde_json::from_str(ALGO_ANSWER).unwrap();
    assert_eq!(algo.algo_id, 2_146_760);
    assert_eq!(algo.order_type, VenueOrderType::TakeProfit);
    assert_eq!(algo.algo_status, AlgoStatus::New);
    assert!(algo.algo_status.is_open());
    assert_eq!(algo.trigger_price, Price::parse("750").unwrap());
    assert_eq!((algo.activate_price, algo.callback_rate), (None, None));
    assert_eq!((algo.trigger_time, algo.actual_order_id), (None, None));
}

/// Binance's documented `GET /fapi/v1/userTrades` row (§3.3 fields).
const USER_TRADE: &str = r#"[{"buyer":false,"commission":"-0.07819010","commissionAsset":"USDT","id":698759,"maker":false,"orderId":25851813,"price":"7819.01","qty":"0.002","quoteQty":"15.63802","realizedPnl":"-0.91539999","side":"SELL","positionSide":"SHORT","symbol":"BTCUSDT","time":1569514978020}]"#;

#[test]
fn user_trade_rows_become_model_fills() {
    let trades: Vec<UserTrade> = serde_json::from_str(USER_TRADE).unwrap();
    let trade = &trades[0];
    assert_eq!(trade.realized_pnl, Money::parse("-0.91539999").unwrap());
    let fill = trade.to_fill("c-9");
    assert_eq!(
        (fill.order_id, fill.trade_id, fill.client_order_id.as_str()),
        (25_851_813, 698_759, "c-9")
    );
    assert_eq!(fill.commission, Money::parse("-0.0781901").unwrap());
    assert_eq!(fill.liquidity, Liquidity::Taker);
    assert_eq!(fill.notional(), Money::parse("15.63802").unwrap());
}
