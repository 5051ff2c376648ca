use kestrel_model::Money;
use kestrel_model::order::{OrderType, PositionSide, Side, TimeInForce};
use serde_json::Value;

use super::*;
use crate::exchange::fixtures::{self, NOW, Sides, order, p, q};
use crate::market::generator::MarketAction;

fn venue() -> (Exchange, u32) {
    let config = ExchangeConfig {
        legacy_conditional_orders: true,
        ..fixtures::config(&[("BTCUSDT", "60000")])
    };
    fixtures::venue(config, "100000", NOW)
}

/// Rests the synthetic market's quotes: asks at 60000.1, 60000.2, ... and bids at 59999.9, ...
fn seed_book(exchange: &mut Exchange) {
    fixtures::seed_book(
        exchange,
        "BTCUSDT",
        p("60000"),
        5,
        q("0.5"),
        Sides::Both,
        NOW,
    );
}

fn limit(side: Side, price: &str, qty: &str, tif: TimeInForce) -> PlaceRequest {
    PlaceRequest {
        price: Some(p(price)),
        time_in_force: Some(tif),
        ..order(side, OrderType::Limit, qty)
    }
}

fn user_events(exchange: &mut Exchange) -> Vec<Value> {
    let mut events = Vec::new();
    exchange.drain_events(&mut events);
    events
        .into_iter()
        .filter_map(|e| match e {
            VenueEvent::User { payload, .. } => Some(payload),
            _ => None,
        })
        .collect()
}

#[test]
fn market_buy_sweeps_levels_and_books_fees_exactly() {
    let (mut exchange, account) = venue();
    seed_book(&mut exchange);
    let placed = exchange
        .place_order(account, &order(Side::Buy, OrderType::Market, "0.7"), NOW)
        .unwrap();
    assert_eq!(placed.ack.status, VenueStatus::New);
    assert_eq!(placed.result.status, VenueStatus::Filled);
    // 0.5 at 60000.1 and 0.2 at 60000.2.
    assert_eq!(placed.result.cum_quote, Money::parse("42000.09").unwrap());
    let trades = exchange.user_trades(account, "BTCUSDT", None, 0, 100);
    assert_eq!(trades.len(), 2);
    let commission: Money = trades.iter().fold(Money::ZERO, |sum, t| {
        sum.try_add(t.fill.commission).unwrap()
    });
    // Taker 0.05 % of each fill, rounded half to even at 10⁻⁸: 15.000025 + 6.00002.
    assert_eq!(commission, Money::parse("21.000045").unwrap());
    assert_eq!(
        exchange.wallet(account),
        Money::parse("99978.999955").unwrap()
    );
    assert_eq!(
        exchange.position_qty(account, "BTCUSDT", PositionSide::Both),
        q("0.7")
    );
    let kinds: Vec<String> = user_events(&mut exchange)
        .iter()
        .map(|e| e["e"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("ORDER_TRADE_UPDATE"),
        "NEW first"
    );
    assert!(
        kinds.contains(&"TRADE_LITE".to_owned()) && kinds.contains(&"ACCOUNT_UPDATE".to_owned())
    );
}

#[test]
fn resting_limit_then_cancel_and_cancel_again() {
    let (mut exchange, account) = venue();
    seed_book(&mut exchange);
    let placed = exchange
        .place_order(
            account,
            &limit(Side::Buy, "59000", "0.01", TimeInForce::Gtc),
            NOW,
        )
        .unwrap();
    assert_eq!(placed.result.status, VenueStatus::New);
    assert_eq!(exchange.open_orders(account, Some("BTCUSDT")).len(), 1);
    let key = OrderKey::Id(placed.result.order_id);
    let canceled = exchange
        .cancel_order(account, "BTCUSDT", &key, NOW)
        .unwrap();
    assert_eq!(canceled.status, VenueStatus::Canceled);
    assert_eq!(
        exchange
            .cancel_order(account, "BTCUSDT", &key, NOW)
            .unwrap_err()
            .code,
        -2011
    );
    assert_eq!(
        exchange
            .find_order(account, "BTCUSDT", &OrderKey::Id(999))
            .unwrap_err()
            .code,
        -2013
    );
}

#[test]
fn refusals_carry_binance_codes_and_leave_no_record() {
    let (mut exchange, account) = venue();
    seed_book(&mut exchange);
    let code =
        |ex: &mut Exchange, r: PlaceRequest| ex.place_order(account, &r, NOW).unwrap_err().code;
    assert_eq!(
        code(
            &mut exchange,
            limit(Side::Buy, "60000.1", "5", TimeInForce::Fok)
        ),
        -5021
    );
    assert_eq!(
        code(
            &mut exchange,
            limit(Side::Buy, "60000.1", "0.01", TimeInForce::Gtx)
        ),
        -5022
    );
    assert_eq!(
        code(
            &mut exchange,
            limit(Side::Buy, "59000.05", "0.01", TimeInForce::Gtc)
        ),
        -4014
    );
    assert_eq!(
        code(
            &mut exchange,
            limit(Side::Buy, "59000", "0.001", TimeInForce::Gtc)
        ),
        -4164
    );
    assert_eq!(
        code(
            &mut exchange,
            PlaceRequest {
                reduce_only: true,
                ..order(Side::Sell, OrderType::Market, "0.1")
            }
        ),
        -2022
    );
    assert_eq!(
        code(
            &mut exchange,
            limit(Side::Buy, "59000", "100", TimeInForce::Gtc)
        ),
        -2019
    );
    assert_eq!(
        code(
            &mut exchange,
            PlaceRequest {
                symbol: "NOPEUSDT".into(),
                ..order(Side::Buy, OrderType::Market, "1")
            }
        ),
        -1121
    );
    assert!(
        exchange.all_orders(account, "BTCUSDT", 0, 100).is_empty(),
        "refused orders are not recorded"
    );
}

#[test]
fn client_order_ids_are_unique_among_open_orders_only() {
    let (mut exchange, account) = venue();
    let with_id = PlaceRequest {
        client_order_id: Some("mine-1".into()),
        ..limit(Side::Buy, "59000", "0.01", TimeInForce::Gtc)
    };
    let first = exchange.place_order(account, &with_id, NOW).unwrap();
    assert_eq!(
        exchange
            .place_order(account, &with_id, NOW)
            .unwrap_err()
            .code,
        -4116
    );
    exchange
        .cancel_order(account, "BTCUSDT", &OrderKey::Client("mine-1".into()), NOW)
        .unwrap();
    let second = exchange.place_order(account, &with_id, NOW).unwrap();
    assert_ne!(first.result.order_id, second.result.order_id);
}

#[test]
fn reduce_only_is_clipped_to_the_position() {
    let (mut exchange, account) = venue();
    seed_book(&mut exchange);
    exchange
        .place_order(account, &order(Side::Buy, OrderType::Market, "0.3"), NOW)
        .unwrap();
    let close = PlaceRequest {
        reduce_only: true,
        ..order(Side::Sell, OrderType::Market, "1")
    };
    let placed = exchange.place_order(account, &close, NOW).unwrap();
    assert_eq!(placed.result.executed_qty, q("0.3"));
    assert!(
        exchange
            .position_qty(account, "BTCUSDT", PositionSide::Both)
            .is_zero()
    );
}

#[test]
fn stop_market_fires_when_the_last_price_reaches_it() {
    let (mut exchange, account) = venue();
    seed_book(&mut exchange);
    let stop = PlaceRequest {
        stop_price: Some(p("60000.2")),
        ..order(Side::Buy, OrderType::StopMarket, "0.1")
    };
    let placed = exchange.place_order(account, &stop, NOW).unwrap();
    assert_eq!(placed.result.status, VenueStatus::New);
    let immediately = PlaceRequest {
        stop_price: Some(p("59000")),
        ..order(Side::Buy, OrderType::StopMarket, "0.1")
    };
    exchange.apply_market_action(
        "BTCUSDT",
        &MarketAction::Take {
            agent: 2,
            client_tag: 900,
            side: Side::Sell,
            qty: q("0.1"),
        },
        NOW,
    );
    assert_eq!(
        exchange
            .place_order(account, &immediately, NOW)
            .unwrap_err()
            .code,
        -2021
    );
    // Someone lifts the offers through 60000.2: the stop fires and buys at the next ask.
    exchange.apply_market_action(
        "BTCUSDT",
        &MarketAction::Take {
            agent: 2,
            client_tag: 901,
            side: Side::Buy,
            qty: q("0.6"),
        },
        NOW,
    );
    let record = exchange.order_record(placed.result.order_id).unwrap();
    assert_eq!(
        (record.status, record.order_type, record.orig_type),
        (
            VenueStatus::Filled,
            OrderType::Market,
            OrderType::StopMarket
        )
    );
    assert_eq!(record.avg_price(), p("60000.2"));
}

#[test]
fn listen_keys_are_reused_and_unknown_ones_refused() {
    let (mut exchange, account) = venue();
    let key = exchange.create_listen_key(account, NOW);
    assert_eq!(key.len(), 64);
    assert_eq!(
        exchange.create_listen_key(account, NOW + 1),
        key,
        "a live key is returned again"
    );
    assert_eq!(
        exchange
            .keepalive_listen_key(account, Some("nope"), NOW)
            .unwrap_err()
            .code,
        -1125
    );
    exchange.tick(NOW + 3_600_001);
    assert!(
        exchange.listen_key_account(&key).is_none(),
        "lapsed after an hour without keepalive"
    );
}

#[test]
fn the_same_script_gives_the_same_output_byte_for_byte() {
    let run = || {
        let (mut exchange, account) = venue();
        seed_book(&mut exchange);
        exchange
            .place_order(account, &order(Side::Buy, OrderType::Market, "0.7"), NOW)
            .unwrap();
        exchange
            .place_order(
                account,
                &limit(Side::Sell, "60010", "0.2", TimeInForce::Gtc),
                NOW + 5,
            )
            .unwrap();
        exchange.apply_market_action(
            "BTCUSDT",
            &MarketAction::Take {
                agent: 3,
                client_tag: 7,
                side: Side::Buy,
                qty: q("2"),
            },
            NOW + 9,
        );
        exchange.tick(NOW + 1000);
        let mut events = Vec::new();
        exchange.drain_events(&mut events);
        format!("{events:?}")
    };
    assert_eq!(run(), run());
}

#[test]
fn an_account_out_of_margin_is_liquidated_with_an_autoclose_order() {
    let (mut exchange, _) = venue();
    let small = exchange
        .open_account("key-2", "secret-2", Money::parse("1000").unwrap(), NOW)
        .unwrap();
    seed_book(&mut exchange);
    exchange
        .place_order(small, &order(Side::Buy, OrderType::Market, "0.3"), NOW)
        .unwrap();
    // Wallet 1000 − 9.000015 fee; at mark 57000 the loss is ≈ 900.03 and the margin balance
    // (≈ 90.97) still covers maintenance (68.4): no liquidation.
    exchange
        .set_mark("BTCUSDT", p("57000"), p("57000"), Rate::ZERO, NOW)
        .unwrap();
    assert_eq!(
        exchange.position_qty(small, "BTCUSDT", PositionSide::Both),
        q("0.3")
    );
    // At 56900 the margin balance (≈ 60.97) falls below maintenance (68.28).
    exchange
        .set_mark("BTCUSDT", p("56900"), p("56900"), Rate::ZERO, NOW + 1)
        .unwrap();
    assert!(
        exchange
            .position_qty(small, "BTCUSDT", PositionSide::Both)
            .is_zero(),
        "position closed"
    );
    let closing = exchange
        .all_orders(small, "BTCUSDT", 0, 10)
        .into_iter()
        .find(|o| o.client_order_id.starts_with("autoclose-"));
    assert_eq!(closing.map(|o| o.status), Some(VenueStatus::Filled));
    let mut events = Vec::new();
    exchange.drain_events(&mut events);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, VenueEvent::ForceOrder { .. })),
        "forceOrder published"
    );
}

#[test]
fn algo_orders_trigger_a_child_and_report_every_step() {
    let (mut exchange, account) = venue();
    seed_book(&mut exchange);
    let stop = PlaceRequest {
        stop_price: Some(p("60000.2")),
        ..order(Side::Buy, OrderType::StopMarket, "0.1")
    };
    let algo = exchange
        .place_algo(account, &stop, Some("my-algo".into()), NOW)
        .unwrap();
    assert_eq!(algo.status, "NEW");
    assert!(
        exchange.open_orders(account, None).is_empty(),
        "an algo order is not a regular open order"
    );
    exchange.apply_market_action(
        "BTCUSDT",
        &MarketAction::Take {
            agent: 2,
            client_tag: 901,
            side: Side::Buy,
            qty: q("0.6"),
        },
        NOW,
    );
    let done = exchange
        .find_algo(account, &OrderKey::Client("my-algo".into()))
        .unwrap()
        .clone();
    assert_eq!(done.status, "FINISHED");
    let child = exchange
        .order_record(done.actual_order_id.unwrap())
        .unwrap();
    assert_eq!(
        (child.status, child.orig_type),
        (VenueStatus::Filled, OrderType::StopMarket)
    );
    let statuses: Vec<String> = user_events(&mut exchange)
        .iter()
        .filter(|e| e["e"] == "ALGO_UPDATE")
        .map(|e| e["o"]["X"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["NEW", "TRIGGERING", "FINISHED"]);
    assert_eq!(
        exchange
            .cancel_algo(account, &OrderKey::Id(done.algo_id), NOW)
            .unwrap_err()
            .code,
        -2011
    );
}

#[test]
fn hedge_mode_needs_a_leg_and_refuses_reduce_only() {
    let (mut exchange, account) = venue();
    seed_book(&mut exchange);
    exchange
        .set_position_mode(account, kestrel_model::PositionMode::Hedge, NOW)
        .unwrap();
    assert_eq!(
        exchange
            .place_order(account, &order(Side::Buy, OrderType::Market, "0.1"), NOW)
            .unwrap_err()
            .code,
        -4061
    );
    let long = PlaceRequest {
        position_side: Some(PositionSide::Long),
        ..order(Side::Buy, OrderType::Market, "0.1")
    };
    exchange.place_order(account, &long, NOW).unwrap();
    assert_eq!(
        exchange.position_qty(account, "BTCUSDT", PositionSide::Long),
        q("0.1")
    );
    let reduce = PlaceRequest {
        reduce_only: true,
        position_side: Some(PositionSide::Long),
        ..order(Side::Sell, OrderType::Market, "0.1")
    };
    assert_eq!(
        exchange
            .place_order(account, &reduce, NOW)
            .unwrap_err()
            .code,
        -1106
    );
    let over_close = PlaceRequest {
        position_side: Some(PositionSide::Long),
        ..order(Side::Sell, OrderType::Market, "0.2")
    };
    assert_eq!(
        exchange
            .place_order(account, &over_close, NOW)
            .unwrap_err()
            .code,
        -2022,
        "a leg cannot cross zero"
    );
    assert_eq!(
        exchange
            .set_position_mode(account, kestrel_model::PositionMode::OneWay, NOW)
            .unwrap_err()
            .code,
        -4068
    );
}

#[test]
fn modify_reprices_with_an_amendment_event_and_refuses_no_change() {
    let (mut exchange, account) = venue();
    let placed = exchange
        .place_order(
            account,
            &limit(Side::Buy, "59000", "0.01", TimeInForce::Gtc),
            NOW,
        )
        .unwrap();
    let key = OrderKey::Id(placed.result.order_id);
    user_events(&mut exchange);
    let amended = exchange
        .modify_order(
            account,
            "BTCUSDT",
            &key,
            Amendment {
                side: Side::Buy,
                qty: q("0.02"),
                price: p("59001"),
            },
            NOW,
        )
        .unwrap();
    assert_eq!(
        (amended.price, amended.orig_qty, amended.status),
        (p("59001"), q("0.02"), VenueStatus::New)
    );
    assert!(
        user_events(&mut exchange)
            .iter()
            .any(|e| e["o"]["x"] == "AMENDMENT")
    );
    let same = Amendment {
        side: Side::Buy,
        qty: q("0.02"),
        price: p("59001"),
    };
    assert_eq!(
        exchange
            .modify_order(account, "BTCUSDT", &key, same, NOW)
            .unwrap_err()
            .code,
        -5027
    );
}

#[test]
fn price_match_takes_its_price_from_the_book() {
    use crate::api::params::PriceMatch;
    let (mut exchange, account) = venue();
    seed_book(&mut exchange);
    let matched = |mode| PlaceRequest {
        price_match: Some(mode),
        time_in_force: Some(TimeInForce::Gtc),
        ..order(Side::Buy, OrderType::Limit, "0.01")
    };
    // QUEUE_5 for a buy is the 5th best bid (59999.5); it rests there and reports the mode.
    let queued = exchange
        .place_order(account, &matched(PriceMatch::Queue5), NOW)
        .unwrap();
    assert_eq!(
        (queued.result.price, queued.result.status),
        (p("59999.5"), VenueStatus::New)
    );
    assert_eq!(queued.result.price_match, "QUEUE_5");
    // OPPONENT for a buy is the best ask: it takes it.
    let taken = exchange
        .place_order(account, &matched(PriceMatch::Opponent), NOW)
        .unwrap();
    assert_eq!(
        (taken.result.price, taken.result.status),
        (p("60000.1"), VenueStatus::Filled)
    );
    let with_price = PlaceRequest {
        price: Some(p("59000")),
        ..matched(PriceMatch::Opponent)
    };
    assert_eq!(
        exchange
            .place_order(account, &with_price, NOW)
            .unwrap_err()
            .code,
        -5037
    );
    assert_eq!(
        exchange
            .place_order(account, &matched(PriceMatch::Opponent10), NOW)
            .unwrap_err()
            .code,
        -5037,
        "suspended"
    );
    let market = PlaceRequest {
        price_match: Some(PriceMatch::Opponent),
        ..order(Side::Buy, OrderType::Market, "0.01")
    };
    assert_eq!(
        exchange
            .place_order(account, &market, NOW)
            .unwrap_err()
            .code,
        -5038
    );
}
