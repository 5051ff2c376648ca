//! Parser tests on the exact payloads of `../shared/binance-futures.md` §8 and Binance's own
//! user-data examples (whose fields §8.2–§8.4 tabulate), and on the simulator's shapes.

use kestrel_model::order::{Liquidity, PositionSide, WorkingType};
use kestrel_model::{Money, Price, Qty, Rate, Side};

use super::*;
use crate::binance::account::MarginType;
use crate::binance::orders::{
    AlgoStatus, SelfTradePrevention, VenueOrderStatus, VenueOrderType, VenueTimeInForce,
};

/// Binance's `ORDER_TRADE_UPDATE` example (a new trailing stop), with the current fields.
const ORDER_TRADE_UPDATE_NEW: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"TRAILING_STOP_MARKET","f":"GTC","q":"0.001","p":"0","ap":"0","sp":"7103.04","x":"NEW","X":"NEW","i":8886774,"l":"0","z":"0","L":"0","N":"USDT","n":"0","T":1568879465650,"t":0,"b":"0","a":"9.91","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"TRAILING_STOP_MARKET","ps":"LONG","cp":false,"AP":"7476.89","cr":"5.0","pP":false,"si":0,"ss":0,"rp":"0","V":"EXPIRE_TAKER","pm":"OPPONENT","gtd":0,"er":"0"}}"#;

/// A partial maker fill in the simulator's shape (§8.2 fields, `er` as a string).
const ORDER_TRADE_UPDATE_FILL: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1700000000123,"T":1700000000120,"o":{"s":"BTCUSDT","c":"kx-1","S":"BUY","o":"LIMIT","f":"GTC","q":"0.010","p":"61800.10","ap":"61800.10000","sp":"0.00","x":"TRADE","X":"PARTIALLY_FILLED","i":42,"l":"0.004","z":"0.004","L":"61800.10","n":"0.04944008","T":1700000000120,"t":9001,"b":"0","a":"0","m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"-1.25000000","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0,"er":"0","N":"USDT"}}"#;

/// Binance's `ACCOUNT_UPDATE` example.
const ACCOUNT_UPDATE: &str = r#"{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"},{"a":"BUSD","wb":"1.00000000","cw":"0.00000000","bc":"-49.12345678"}],"P":[{"s":"BTCUSDT","pa":"0","ep":"0.00000","bep":"0","cr":"200","up":"0","mt":"isolated","iw":"0.00000000","ps":"BOTH"},{"s":"BTCUSDT","pa":"20","ep":"6563.66500","bep":"0","cr":"0","up":"2850.21200","mt":"isolated","iw":"13200.70726908","ps":"LONG"},{"s":"BTCUSDT","pa":"-10","ep":"6563.86000","bep":"6563.6","cr":"-45.04000000","up":"-1423.15600","mt":"isolated","iw":"6570.42511771","ps":"SHORT"}]}}"#;

/// Binance's `MARGIN_CALL` example.
const MARGIN_CALL: &str = r#"{"e":"MARGIN_CALL","E":1587727187525,"cw":"3.16812045","p":[{"s":"ETHUSDT","ps":"LONG","pa":"1.327","mt":"CROSSED","iw":"0","mp":"187.17127","up":"-1.166074","mm":"1.614445"}]}"#;

fn p(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn q(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

fn m(text: &str) -> Money {
    Money::parse(text).unwrap()
}

#[test]
fn order_trade_update_new_parses_every_field_and_has_no_fill() {
    let UserEvent::OrderTradeUpdate(update) = parse_user_event(ORDER_TRADE_UPDATE_NEW).unwrap()
    else {
        panic!("not an ORDER_TRADE_UPDATE");
    };
    assert_eq!(
        (update.event_time_ms, update.transaction_time_ms),
        (1_568_879_465_651, 1_568_879_465_650)
    );
    let o = &update.order;
    assert_eq!(
        (o.symbol.as_str(), o.client_order_id.as_str()),
        ("BTCUSDT", "TEST")
    );
    assert_eq!(
        (o.side, o.order_type),
        (Side::Sell, VenueOrderType::TrailingStopMarket)
    );
    assert_eq!(o.time_in_force, VenueTimeInForce::Gtc);
    assert_eq!((o.orig_qty, o.stop_price), (q("0.001"), p("7103.04")));
    assert_eq!(
        (o.execution_type, o.status),
        (ExecutionType::New, VenueOrderStatus::New)
    );
    assert_eq!((o.order_id, o.trade_id), (8_886_774, 0));
    assert_eq!(o.asks_notional, m("9.91"));
    assert_eq!(o.working_type, WorkingType::ContractPrice);
    assert_eq!(o.position_side, PositionSide::Long);
    assert_eq!(o.activation_price, Some(p("7476.89")));
    assert_eq!(o.callback_rate, Some(Rate::parse("5").unwrap()));
    assert_eq!(
        o.self_trade_prevention,
        Some(SelfTradePrevention::ExpireTaker)
    );
    assert_eq!(o.expiry_reason, 0);
    assert_eq!(o.fill(), None);
}

#[test]
fn order_trade_update_trade_becomes_a_model_fill() {
    let UserEvent::OrderTradeUpdate(update) = parse_user_event(ORDER_TRADE_UPDATE_FILL).unwrap()
    else {
        panic!("not an ORDER_TRADE_UPDATE");
    };
    let o = &update.order;
    assert_eq!(o.status, VenueOrderStatus::PartiallyFilled);
    assert_eq!(
        o.status.to_model(),
        kestrel_model::OrderStatus::PartiallyFilled
    );
    assert_eq!((o.cum_filled_qty, o.realized_pnl), (q("0.004"), m("-1.25")));
    let fill = o.fill().unwrap();
    assert_eq!(fill.order_id, 42);
    assert_eq!(fill.client_order_id, "kx-1");
    assert_eq!((fill.price, fill.quantity), (p("61800.1"), q("0.004")));
    assert_eq!(fill.commission, m("0.04944008"));
    assert_eq!(fill.commission_asset, "USDT");
    assert_eq!(fill.liquidity, Liquidity::Maker);
    assert_eq!(
        (fill.trade_id, fill.timestamp_ms),
        (9001, 1_700_000_000_120)
    );
}

#[test]
fn account_update_keeps_balances_and_changed_positions_exact() {
    let UserEvent::AccountUpdate(update) = parse_user_event(ACCOUNT_UPDATE).unwrap() else {
        panic!("not an ACCOUNT_UPDATE");
    };
    let a = &update.update;
    assert_eq!(a.reason, AccountUpdateReason::Order);
    assert_eq!(a.balances.len(), 2);
    assert_eq!(a.balances[0].asset, "USDT");
    assert_eq!(a.balances[0].wallet_balance, m("122624.12345678"));
    assert_eq!(a.balances[1].balance_change, m("-49.12345678"));
    let short = &a.positions[2];
    assert_eq!(
        (short.position_side, short.position_amt),
        (PositionSide::Short, q("-10"))
    );
    assert_eq!(short.entry_price, p("6563.86"));
    assert_eq!(short.break_even_price, Some(p("6563.6")));
    assert_eq!(short.accumulated_realized, m("-45.04"));
    assert_eq!(short.margin_type, Some(MarginType::Isolated));
    assert_eq!(short.isolated_wallet, m("6570.42511771"));
}

#[test]
fn margin_call_parses_crossed_positions() {
    let UserEvent::MarginCall(call) = parse_user_event(MARGIN_CALL).unwrap() else {
        panic!("not a MARGIN_CALL");
    };
    assert_eq!(call.cross_wallet_balance, Some(m("3.16812045")));
    let position = &call.positions[0];
    assert_eq!(position.margin_type, Some(MarginType::Cross));
    assert_eq!(
        (position.position_amt, position.mark_price),
        (q("1.327"), p("187.17127"))
    );
    assert_eq!(
        (position.unrealized_pnl, position.maint_margin),
        (m("-1.166074"), m("1.614445"))
    );
}

#[test]
fn listen_key_expired_parses_with_and_without_the_key() {
    // §8.1's shape, with a key filled in.
    let event = parse_user_event(r#"{"e":"listenKeyExpired","E":1576653824250,"listenKey":"OfYGbUzi3PraNagEkdKuFwUHn48brFsItTdsuiIXrucEvD0rhRXZ7I6URWfE8YE8"}"#).unwrap();
    let UserEvent::ListenKeyExpired(expired) = event else {
        panic!("not listenKeyExpired");
    };
    assert_eq!(expired.event_time_ms, 1_576_653_824_250);
    assert!(expired.listen_key.is_some_and(|k| k.starts_with("OfYG")));
    let old = parse_user_event(r#"{"e":"listenKeyExpired","E":1576653824250}"#).unwrap();
    assert!(matches!(
        old,
        UserEvent::ListenKeyExpired(ListenKeyExpired {
            listen_key: None,
            ..
        })
    ));
}

#[test]
fn trade_lite_algo_update_and_config_update_parse() {
    let lite = r#"{"e":"TRADE_LITE","E":1721895408092,"T":1721895408214,"s":"BTCUSDT","q":"0.001","p":"0","m":false,"c":"z8hcUoOsqEdKMeKPSABslD","S":"BUY","L":"64089.20","l":"0.040","t":109100866,"i":8886774}"#;
    let UserEvent::TradeLite(lite) = parse_user_event(lite).unwrap() else {
        panic!("not TRADE_LITE");
    };
    assert_eq!(
        (lite.last_filled_qty, lite.trade_id),
        (q("0.04"), 109_100_866)
    );
    let algo = r#"{"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{"caid":"Q5xaq5EGKgXXa0fD7fs0Ip","aid":2148719,"at":"CONDITIONAL","o":"TAKE_PROFIT","s":"BNBUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.01","X":"CANCELED","ai":"","ap":"0.00000","aq":"0.00000","act":"0","tp":"750","p":"750","V":"EXPIRE_MAKER","wt":"CONTRACT_PRICE","pm":"NONE","cp":false,"pP":false,"R":false,"tt":0,"gtd":0,"rm":"Reduce Only reject"}}"#;
    let UserEvent::AlgoUpdate(algo) = parse_user_event(algo).unwrap() else {
        panic!("not ALGO_UPDATE");
    };
    assert_eq!(algo.order.status, AlgoStatus::Canceled);
    assert_eq!(
        (algo.order.actual_order_id, algo.order.trigger_time_ms),
        (None, None)
    );
    assert_eq!(
        algo.order.reject_reason.as_deref(),
        Some("Reduce Only reject")
    );
    let config = r#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ac":{"s":"BTCUSDT","l":25}}"#;
    let UserEvent::AccountConfigUpdate(config) = parse_user_event(config).unwrap() else {
        panic!("not ACCOUNT_CONFIG_UPDATE");
    };
    assert_eq!(config.leverage.map(|l| l.leverage), Some(25));
}

#[test]
fn unknown_event_types_are_reported_not_refused() {
    assert_eq!(
        parse_user_event(r#"{"e":"GRID_UPDATE","E":1}"#).unwrap(),
        UserEvent::Other {
            event_type: "GRID_UPDATE".to_owned()
        }
    );
}

#[test]
fn malformed_frames_name_the_event_and_the_problem() {
    let error = parse_user_event(r#"{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT"}}"#)
        .unwrap_err();
    assert_eq!(error.event_type.as_deref(), Some("ORDER_TRADE_UPDATE"));
    assert!(error.detail.contains("missing field"), "{error}");
    let float = ORDER_TRADE_UPDATE_FILL.replace(r#""l":"0.004""#, r#""l":0.004"#);
    assert!(
        parse_user_event(&float).is_err(),
        "a float quantity is refused"
    );
    assert!(
        parse_user_event("not json")
            .unwrap_err()
            .event_type
            .is_none()
    );
    assert!(parse_user_event(r#"{"E":1}"#).is_err());
}

#[test]
fn listen_key_debug_hides_most_of_the_key() {
    let key =
        ListenKey::new("pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1".into());
    assert_eq!(format!("{key:?}"), "ListenKey(pqia91…)");
}
