//! The pre-trade limits: size, notional, exposure, leverage, legs, price, frequency, order.

use kestrel_model::Side;
use kestrel_model::order::{OrderType, PositionSide};

use super::*;
use crate::{Measure, RiskEngine};

#[test]
fn an_order_within_every_limit_is_approved() {
    let mut engine = engine();
    let order = limit("a", "BTCUSDT", Side::Buy, "0.05", "50000");
    let approved = engine.admit(order, Stage::Order, T0).unwrap();
    assert_eq!(approved.symbol, "BTCUSDT");
    assert_eq!(approved.approved_at_ms(), T0);
}

#[test]
fn position_size_refuses_the_order_that_takes_the_symbol_past_its_limit_and_says_by_how_much() {
    let mut engine = engine();
    hold_btc(&mut engine, "0.15", "50000");
    let order = limit("a", "BTCUSDT", Side::Buy, "0.06", "50000");
    let refusal = engine.check(&order, T0).unwrap_err();
    assert_eq!(refusal.rule, RiskRule::PositionSize);
    assert_eq!(refusal.observed, Measure::Usdt(usdt("10500")));
    assert_eq!(refusal.limit, Measure::Usdt(usdt("10000")));
    assert_eq!(
        refusal.message,
        "BTCUSDT position would be worth 10500.00 USDT at 50000 after this order (now 7500.00); \
         the limit is max_position_size_usdt 10000.00 USDT (position_size)"
    );
}

#[test]
fn a_position_may_reach_its_limit_exactly() {
    let mut engine = engine();
    hold_btc(&mut engine, "0.15", "50000");
    let order = limit("a", "BTCUSDT", Side::Buy, "0.05", "50000");
    assert_eq!(engine.check(&order, T0), Ok(()));
}

#[test]
fn an_order_is_valued_at_the_higher_of_its_price_and_the_mark() {
    let mut engine = engine();
    hold_btc(&mut engine, "0.15", "50000");
    // A bid under the market is valued at the market: 0.2 × 50,000 = 10,000.
    let below = limit("a", "BTCUSDT", Side::Buy, "0.05", "40000");
    assert_eq!(engine.check(&below, T0), Ok(()));
    // A bid over it at its own price: 0.2 × 51,000 = 10,200.
    let above = limit("b", "BTCUSDT", Side::Buy, "0.05", "51000");
    assert_eq!(
        refused_by(&engine, &above, T0),
        Some(RiskRule::PositionSize)
    );
}

#[test]
fn a_fat_finger_order_is_refused_by_its_notional() {
    let engine = engine();
    let order = market("a", "BTCUSDT", Side::Buy, "0.11");
    let refusal = engine.check(&order, T0).unwrap_err();
    assert_eq!(refusal.rule, RiskRule::OrderNotional);
    assert!(
        refusal.message.contains(
            "order of 0.11 at 50000 is worth 5500.00 USDT; the limit is max_order_notional_usdt 5000.00 USDT"
        ),
        "{}",
        refusal.message
    );
}

#[test]
fn a_position_reducing_order_passes_the_limits_it_improves() {
    let mut engine = engine();
    hold_btc(&mut engine, "0.15", "50000");
    let mut tight = config();
    tight.max_position_size_usdt = usdt("1000");
    tight.max_order_notional_usdt = usdt("1000");
    tight.max_total_exposure_usdt = usdt("1000");
    engine.reconfigure(tight);
    let sell = market("a", "BTCUSDT", Side::Sell, "0.1");
    assert_eq!(engine.check(&sell, T0), Ok(()));
    let buy = market("b", "BTCUSDT", Side::Buy, "0.001");
    assert_eq!(refused_by(&engine, &buy, T0), Some(RiskRule::PositionSize));
}

#[test]
fn a_flip_that_ends_smaller_passes_the_size_limit_it_does_not_worsen() {
    let mut engine = engine();
    hold_btc(&mut engine, "0.15", "50000");
    let mut lowered = config();
    lowered.max_position_size_usdt = usdt("4000");
    lowered.max_order_notional_usdt = usdt("20000");
    engine.reconfigure(lowered);
    // Long 0.15 (7,500) to short 0.1 (5,000): above the new limit but smaller than now.
    let flip = market("a", "BTCUSDT", Side::Sell, "0.25");
    assert_eq!(engine.check(&flip, T0), Ok(()));
    // To short 0.2 (10,000) it grows, and is refused.
    let bigger = market("b", "BTCUSDT", Side::Sell, "0.35");
    assert_eq!(
        refused_by(&engine, &bigger, T0),
        Some(RiskRule::PositionSize)
    );
}

#[test]
fn total_exposure_counts_every_symbol() {
    let mut engine = engine();
    for (symbol, quantity, price) in [
        ("BTCUSDT", "0.198", "50000"),
        ("ETHUSDT", "3.3", "3000"),
        ("SOLUSDT", "99", "100"),
        ("BNBUSDT", "16.5", "600"),
        ("DOGEUSDT", "99000", "0.1"),
    ] {
        engine.on_mark_price(symbol, px(price), T0).unwrap();
        engine
            .on_position(symbol, PositionSide::Both, qty(quantity), px(price), T0)
            .unwrap();
    }
    engine.on_mark_price("XRPUSDT", px("1"), T0).unwrap();
    assert_eq!(engine.status(T0).total_exposure, usdt("49500"));
    let to_the_limit = limit("a", "XRPUSDT", Side::Buy, "500", "1");
    assert_eq!(engine.check(&to_the_limit, T0), Ok(()));
    let past_it = limit("b", "XRPUSDT", Side::Buy, "501", "1");
    let refusal = engine.check(&past_it, T0).unwrap_err();
    assert_eq!(refusal.rule, RiskRule::TotalExposure);
    assert!(
        refusal.message.contains(
            "exposure across all symbols would be 50001.00 USDT after this XRPUSDT order (now 49500.00)"
        ),
        "{}",
        refusal.message
    );
}

fn engine_with_wallet(wallet: Option<&str>) -> RiskEngine {
    let mut engine = RiskEngine::new(config());
    if let Some(wallet) = wallet {
        engine.on_wallet_balance(usdt(wallet), T0);
    }
    engine.on_mark_price("BTCUSDT", px("50000"), T0).unwrap();
    engine.on_mark_price("ETHUSDT", px("3000"), T0).unwrap();
    engine.start(T0);
    engine
}

#[test]
fn leverage_is_exposure_after_the_order_over_equity() {
    let mut engine = engine_with_wallet(Some("4000"));
    engine
        .on_position("BTCUSDT", PositionSide::Both, qty("0.18"), px("50000"), T0)
        .unwrap();
    // 9,000 + 3,000 = 12,000 on 4,000: 3x exactly.
    let fits = limit("a", "ETHUSDT", Side::Buy, "1", "3000");
    assert_eq!(engine.check(&fits, T0), Ok(()));
    // 9,000 + 3,600 = 12,600 on 4,000: 3.15x.
    let refusal = engine
        .check(&limit("b", "ETHUSDT", Side::Buy, "1.2", "3000"), T0)
        .unwrap_err();
    assert_eq!(refusal.rule, RiskRule::Leverage);
    assert_eq!(refusal.observed, Measure::Times(rate("3.15")));
    assert!(
        refusal
            .message
            .starts_with("leverage would be 3.15x (12600.00 USDT exposure on 4000.00 USDT equity)"),
        "{}",
        refusal.message
    );
}

#[test]
fn with_no_equity_no_order_may_add_exposure() {
    let engine = engine_with_wallet(None);
    let refusal = engine
        .check(&limit("a", "ETHUSDT", Side::Buy, "0.1", "3000"), T0)
        .unwrap_err();
    assert_eq!(refusal.rule, RiskRule::Leverage);
    assert!(
        refusal.message.starts_with("equity is 0.00 USDT"),
        "{}",
        refusal.message
    );
}

#[test]
fn a_second_leg_in_hedge_mode_needs_max_positions_per_symbol_2() {
    let mut engine = engine();
    engine
        .on_position("BTCUSDT", PositionSide::Long, qty("0.05"), px("50000"), T0)
        .unwrap();
    let short = OrderRequest {
        position_side: PositionSide::Short,
        ..limit("a", "BTCUSDT", Side::Sell, "0.05", "50000")
    };
    let refusal = engine.check(&short, T0).unwrap_err();
    assert_eq!(refusal.rule, RiskRule::PositionsPerSymbol);
    assert_eq!(
        (refusal.observed, refusal.limit),
        (Measure::Count(2), Measure::Count(1))
    );
    let mut hedge = config();
    hedge.max_positions_per_symbol = 2;
    engine.reconfigure(hedge);
    assert_eq!(engine.check(&short, T0), Ok(()));
}

#[test]
fn an_order_with_no_price_and_no_mark_cannot_be_valued() {
    let mut engine = engine();
    engine.on_market_data("NEWUSDT", T0);
    let refusal = engine
        .check(&market("a", "NEWUSDT", Side::Buy, "1"), T0)
        .unwrap_err();
    assert_eq!(refusal.rule, RiskRule::NoPrice);
    assert!(
        refusal
            .message
            .contains("NEWUSDT MARKET order has no price")
    );
    // A limit order carries its own price.
    assert_eq!(
        engine.check(&limit("b", "NEWUSDT", Side::Buy, "1", "10"), T0),
        Ok(())
    );
}

#[test]
fn a_non_positive_quantity_is_refused_before_anything_else() {
    let mut engine = engine();
    engine.engage_kill_switch("test", false, T0);
    for quantity in ["0", "-0.1"] {
        let order = market("a", "BTCUSDT", Side::Sell, quantity);
        assert_eq!(
            refused_by(&engine, &order, T0),
            Some(RiskRule::InvalidQuantity)
        );
    }
}

#[test]
fn a_reducing_order_closes_a_position_even_with_stale_data_and_no_mark() {
    let mut engine = RiskEngine::new(config());
    engine.on_wallet_balance(usdt("100000"), T0);
    engine
        .on_position("BTCUSDT", PositionSide::Both, qty("0.1"), px("50000"), T0)
        .unwrap();
    engine.start(T0);
    let later = T0 + 60_000;
    let close = market("a", "BTCUSDT", Side::Sell, "0.1");
    assert_eq!(engine.check(&close, later), Ok(()));
    let open = market("b", "BTCUSDT", Side::Buy, "0.1");
    assert_eq!(
        refused_by(&engine, &open, later),
        Some(RiskRule::StaleMarketData)
    );
}

#[test]
fn checks_run_in_the_documented_order_and_evaluate_all_lists_every_failure() {
    let mut engine = engine();
    engine.engage_kill_switch("desk closed", false, T0);
    let later = T0 + 10_000;
    let order = market("a", "BTCUSDT", Side::Buy, "0.3");
    let rules: Vec<RiskRule> = engine
        .evaluate_all(&order, later)
        .into_iter()
        .map(|r| r.rule)
        .collect();
    assert_eq!(
        rules,
        [
            RiskRule::KillSwitch,
            RiskRule::StaleMarketData,
            RiskRule::OrderNotional,
            RiskRule::PositionSize
        ]
    );
    assert_eq!(
        refused_by(&engine, &order, later),
        Some(RiskRule::KillSwitch)
    );
    let mut sorted = RiskRule::ALL.to_vec();
    sorted.sort();
    assert_eq!(sorted, RiskRule::ALL, "ALL is in declaration (check) order");
}

#[test]
fn the_eleventh_order_within_a_second_is_refused_naming_order_frequency() {
    let mut engine = engine();
    for i in 0..10 {
        let order = limit(&format!("o{i}"), "BTCUSDT", Side::Buy, "0.001", "50000");
        assert!(admit(&mut engine, order, T0 + i * 10).is_ok());
    }
    let eleventh = limit("o10", "BTCUSDT", Side::Buy, "0.001", "50000");
    let refusal = admit(&mut engine, eleventh.clone(), T0 + 999).unwrap_err();
    assert_eq!(refusal.rule, RiskRule::OrderFrequency);
    assert_eq!(
        refusal.message,
        "10 orders were sent in the last second; the limit is max_orders_per_second 10; \
         the next slot frees in 1 ms (order_frequency)"
    );
    assert!(admit(&mut engine, eleventh, T0 + 1_000).is_ok());
}

#[test]
fn an_order_admitted_by_the_strategy_filter_is_not_counted_again_by_execution() {
    let mut engine = engine();
    let mut one_per_second = config();
    one_per_second.max_orders_per_second = 1;
    engine.reconfigure(one_per_second);
    let order = limit("same-id", "BTCUSDT", Side::Buy, "0.001", "50000");
    let approved = engine.admit(order, Stage::Signal, T0).unwrap();
    let again = engine
        .admit(approved.into_inner(), Stage::Order, T0 + 5)
        .unwrap();
    assert_eq!(again.stage(), Stage::Order);
    let other = limit("other-id", "BTCUSDT", Side::Buy, "0.001", "50000");
    assert_eq!(
        admit(&mut engine, other, T0 + 5).map_err(|r| r.rule),
        Err(RiskRule::OrderFrequency)
    );
}

#[test]
fn a_conditional_order_is_valued_at_its_trigger_when_that_is_higher() {
    let engine = engine();
    let stop = OrderRequest {
        order_type: OrderType::StopMarket,
        stop_price: Some(px("56000")),
        ..market("a", "BTCUSDT", Side::Buy, "0.09")
    };
    // 0.09 × 56,000 = 5,040 > 5,000; at the mark it would be 4,500.
    assert_eq!(
        refused_by(&engine, &stop, T0),
        Some(RiskRule::OrderNotional)
    );
}
