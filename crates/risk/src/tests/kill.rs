//! The kill switch: halt, what still passes, flattening, release.

use kestrel_model::Side;
use kestrel_model::order::{OrderType, PositionSide};

use super::*;
use crate::{FlattenOrder, KillSwitchStatus, RiskEvent};

#[test]
fn the_kill_switch_refuses_every_opening_order_naming_kill_switch() {
    let mut engine = engine();
    let status = engine.engage_kill_switch("operator: venue incident", false, T0);
    assert_eq!(
        status,
        KillSwitchStatus {
            engaged: true,
            reason: Some("operator: venue incident".to_owned()),
            since_ms: Some(T0),
            flatten: false,
        }
    );
    let refusal = engine
        .check(&limit("a", "BTCUSDT", Side::Buy, "0.001", "50000"), T0)
        .unwrap_err();
    assert_eq!(refusal.rule, RiskRule::KillSwitch);
    assert_eq!(
        refusal.message,
        "trading is halted by the kill switch (operator: venue incident); only reduce-only or \
         closing orders are accepted (kill_switch)"
    );
}

#[test]
fn only_orders_flagged_to_reduce_pass_while_halted() {
    let mut engine = engine();
    hold_btc(&mut engine, "0.1", "50000");
    engine.engage_kill_switch("halt", false, T0);
    let flagged = reduce_only("a", "BTCUSDT", Side::Sell, "0.1");
    assert_eq!(engine.check(&flagged, T0), Ok(()));
    let close_position = OrderRequest {
        order_type: OrderType::StopMarket,
        stop_price: Some(px("45000")),
        close_position: true,
        quantity: Qty::ZERO,
        ..market("b", "BTCUSDT", Side::Sell, "0")
    };
    assert_eq!(engine.check(&close_position, T0), Ok(()));
    // Reduces now, but nothing stops it opening a short if the position changes first.
    let unflagged = market("c", "BTCUSDT", Side::Sell, "0.1");
    assert_eq!(
        refused_by(&engine, &unflagged, T0),
        Some(RiskRule::KillSwitch)
    );
}

#[test]
fn a_hedge_mode_order_closing_a_leg_passes_while_halted() {
    let mut engine = engine();
    engine
        .on_position("ETHUSDT", PositionSide::Short, qty("-2"), px("3000"), T0)
        .unwrap();
    engine.engage_kill_switch("halt", false, T0);
    let close_short = OrderRequest {
        position_side: PositionSide::Short,
        ..market("a", "ETHUSDT", Side::Buy, "2")
    };
    assert_eq!(engine.check(&close_short, T0), Ok(()));
    let open_long = OrderRequest {
        position_side: PositionSide::Long,
        ..market("b", "ETHUSDT", Side::Buy, "2")
    };
    assert_eq!(
        refused_by(&engine, &open_long, T0),
        Some(RiskRule::KillSwitch)
    );
}

#[test]
fn engaging_with_flatten_reports_it_and_plans_orders_that_pass_the_checks() {
    let mut engine = engine();
    hold_btc(&mut engine, "0.1", "50000");
    engine
        .on_position("ETHUSDT", PositionSide::Both, qty("-2"), px("3000"), T0)
        .unwrap();
    engine.drain_events().for_each(drop);
    let status = engine.engage_kill_switch("daily review", true, T0);
    assert!(status.flatten);
    let events: Vec<RiskEvent> = engine.drain_events().collect();
    assert_eq!(
        events,
        [RiskEvent::KillSwitchEngaged {
            reason: "daily review".to_owned(),
            flatten: true,
            since_ms: T0,
            at_ms: T0,
        }]
    );
    let plan = engine.flatten_plan();
    assert_eq!(
        plan,
        [
            FlattenOrder {
                symbol: "BTCUSDT".to_owned(),
                position_side: PositionSide::Both,
                side: Side::Sell,
                quantity: qty("0.1"),
            },
            FlattenOrder {
                symbol: "ETHUSDT".to_owned(),
                position_side: PositionSide::Both,
                side: Side::Buy,
                quantity: qty("2"),
            },
        ]
    );
    for (i, leg) in plan.iter().enumerate() {
        let order = reduce_only(
            &format!("flat{i}"),
            &leg.symbol,
            leg.side,
            &leg.quantity.to_string(),
        );
        assert_eq!(engine.check(&order, T0 + 60_000), Ok(()), "{leg:?}");
    }
}

#[test]
fn engaging_again_keeps_the_first_reason_and_time_and_adds_flatten() {
    let mut engine = engine();
    engine.engage_kill_switch("first", false, T0);
    let status = engine.engage_kill_switch("second", true, T0 + 5);
    assert_eq!(status.reason.as_deref(), Some("first"));
    assert_eq!(status.since_ms, Some(T0));
    assert!(status.flatten);
}

#[test]
fn releasing_the_kill_switch_resumes_trading() {
    let mut engine = engine();
    engine.engage_kill_switch("halt", true, T0);
    let buy = limit("a", "BTCUSDT", Side::Buy, "0.001", "50000");
    assert_eq!(refused_by(&engine, &buy, T0), Some(RiskRule::KillSwitch));
    assert!(engine.release_kill_switch(T0 + 10));
    assert!(!engine.release_kill_switch(T0 + 11));
    assert_eq!(engine.kill_switch(), KillSwitchStatus::default());
    assert_eq!(engine.check(&buy, T0 + 10), Ok(()));
    assert!(engine.drain_events().any(|e| e
        == RiskEvent::KillSwitchReleased {
            reason: "halt".to_owned(),
            engaged_since_ms: T0,
            at_ms: T0 + 10,
        }));
}
