//! The trading circuit breakers (seed 001 REQ-RISK-001) and how each resets.

use kestrel_model::Side;
use kestrel_model::order::PositionSide;

use super::*;
use crate::{Breaker, ResetPolicy, RiskEvent};

/// Round trip number `n`: buy 0.01 BTCUSDT at 50,000 and sell it at `exit_price`, no fees.
fn round_trip(engine: &mut RiskEngine, n: u32, exit_price: &str) {
    let open = fill(
        &format!("open{n}"),
        "BTCUSDT",
        Side::Buy,
        "0.01",
        "50000",
        "0",
    );
    let close = fill(
        &format!("close{n}"),
        "BTCUSDT",
        Side::Sell,
        "0.01",
        exit_price,
        "0",
    );
    engine.on_fill(&open, PositionSide::Both, T0).unwrap();
    engine.on_fill(&close, PositionSide::Both, T0).unwrap();
}

fn tripped(engine: &mut RiskEngine) -> Vec<(Breaker, Option<String>)> {
    engine
        .drain_events()
        .filter_map(|event| match event {
            RiskEvent::BreakerTripped {
                breaker, symbol, ..
            } => Some((breaker, symbol)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_sixth_consecutive_loss_with_max_5_trips_the_breaker_and_refuses_new_opening_orders() {
    let mut engine = engine();
    engine
        .on_position("ETHUSDT", PositionSide::Both, qty("1"), px("3000"), T0)
        .unwrap();
    let buy = limit("new", "BTCUSDT", Side::Buy, "0.01", "50000");
    for n in 1..=5 {
        round_trip(&mut engine, n, "49990");
    }
    assert_eq!(engine.check(&buy, T0), Ok(()), "five losses are allowed");
    round_trip(&mut engine, 6, "49990");
    assert_eq!(tripped(&mut engine), [(Breaker::ConsecutiveLosses, None)]);
    let refusal = engine.check(&buy, T0).unwrap_err();
    assert_eq!(refusal.rule, RiskRule::ConsecutiveLosses);
    assert!(
        refusal
            .message
            .contains("6 losing trades in a row; the limit is max_consecutive_losses 5"),
        "{}",
        refusal.message
    );
    // Closing what is held still works.
    let close_eth = reduce_only("close", "ETHUSDT", Side::Sell, "1");
    assert_eq!(engine.check(&close_eth, T0), Ok(()));
}

#[test]
fn the_losses_breaker_stays_tripped_through_wins_and_midnight_until_an_operator_resets_it() {
    let mut engine = engine();
    for n in 1..=6 {
        round_trip(&mut engine, n, "49990");
    }
    round_trip(&mut engine, 7, "50100");
    let midnight = T0 + DAY_MS / 2;
    engine
        .on_mark_price("BTCUSDT", px("50000"), midnight)
        .unwrap();
    let buy = limit("new", "BTCUSDT", Side::Buy, "0.01", "50000");
    assert_eq!(
        refused_by(&engine, &buy, midnight),
        Some(RiskRule::ConsecutiveLosses)
    );
    let trip = engine.breaker_trip(Breaker::ConsecutiveLosses).unwrap();
    assert_eq!(trip.since_ms, T0);
    assert!(engine.reset_breaker(Breaker::ConsecutiveLosses, midnight));
    assert!(!engine.reset_breaker(Breaker::ConsecutiveLosses, midnight));
    assert_eq!(engine.check(&buy, midnight), Ok(()));
    assert_eq!(engine.status(midnight).consecutive_losses, 0);
    assert_eq!(
        Breaker::ConsecutiveLosses.reset_policy(),
        ResetPolicy::Manual
    );
}

#[test]
fn a_win_between_losses_starts_the_count_again() {
    let mut engine = engine();
    for n in 1..=5 {
        round_trip(&mut engine, n, "49990");
    }
    round_trip(&mut engine, 6, "50010");
    for n in 7..=11 {
        round_trip(&mut engine, n, "49990");
    }
    assert!(engine.breaker_trip(Breaker::ConsecutiveLosses).is_none());
    assert_eq!(engine.status(T0).consecutive_losses, 5);
}

#[test]
fn a_trade_losing_only_its_fee_is_a_losing_trade() {
    let mut engine = engine();
    for n in 1..=6 {
        let open = fill(
            &format!("o{n}"),
            "BTCUSDT",
            Side::Buy,
            "0.01",
            "50000",
            "0.2",
        );
        let close = fill(
            &format!("c{n}"),
            "BTCUSDT",
            Side::Sell,
            "0.01",
            "50000",
            "0.2",
        );
        engine.on_fill(&open, PositionSide::Both, T0).unwrap();
        engine.on_fill(&close, PositionSide::Both, T0).unwrap();
    }
    assert!(engine.breaker_trip(Breaker::ConsecutiveLosses).is_some());
}

fn drawdown_config() -> RiskConfig {
    RiskConfig {
        max_daily_loss_usdt: usdt("1000000"),
        max_daily_drawdown_pct: rate("50"),
        ..config()
    }
}

#[test]
fn equity_2pct_below_its_peak_within_the_window_trips_the_drawdown_breaker() {
    let mut engine = engine_with(drawdown_config());
    engine
        .on_position("BTCUSDT", PositionSide::Both, qty("1"), px("50000"), T0)
        .unwrap();
    let buy = limit("eth", "ETHUSDT", Side::Buy, "0.1", "3000");
    engine
        .on_mark_price("BTCUSDT", px("48001"), T0 + 1_000)
        .unwrap();
    assert_eq!(
        engine.check(&buy, T0 + 1_000),
        Ok(()),
        "1.999% is under the limit"
    );
    engine
        .on_mark_price("BTCUSDT", px("48000"), T0 + 2_000)
        .unwrap();
    assert_eq!(tripped(&mut engine), [(Breaker::WindowDrawdown, None)]);
    let refusal = engine.check(&buy, T0 + 2_000).unwrap_err();
    assert_eq!(refusal.rule, RiskRule::WindowDrawdown);
    assert!(
        refusal.message.contains(
            "equity 98000.00 USDT is 2.00% below its peak of 100000.00 USDT within the last 3600 s"
        ),
        "{}",
        refusal.message
    );
    // A manual reset forgets the old peak, so the breaker does not trip again at once.
    assert!(engine.reset_breaker(Breaker::WindowDrawdown, T0 + 3_000));
    engine
        .on_mark_price("BTCUSDT", px("48000"), T0 + 3_000)
        .unwrap();
    assert_eq!(engine.check(&buy, T0 + 3_000), Ok(()));
}

#[test]
fn a_peak_older_than_the_window_does_not_count() {
    let mut engine = engine_with(drawdown_config());
    engine
        .on_position("BTCUSDT", PositionSide::Both, qty("1"), px("50000"), T0)
        .unwrap();
    let after_window = T0 + 3_601_000;
    engine
        .on_mark_price("BTCUSDT", px("48000"), after_window)
        .unwrap();
    assert!(engine.breaker_trip(Breaker::WindowDrawdown).is_none());
    assert_eq!(
        engine.status(after_window).window_peak_equity,
        Some(usdt("98000"))
    );
}

#[test]
fn slow_venue_round_trips_pause_trading_until_three_healthy_ones_in_a_row() {
    let mut engine = engine();
    let buy = limit("a", "BTCUSDT", Side::Buy, "0.01", "50000");
    engine.on_venue_latency(1_000, T0);
    assert_eq!(
        engine.check(&buy, T0),
        Ok(()),
        "exactly the limit is healthy"
    );
    engine.on_venue_latency(1_001, T0);
    assert_eq!(tripped(&mut engine), [(Breaker::VenueLatency, None)]);
    assert_eq!(refused_by(&engine, &buy, T0), Some(RiskRule::VenueLatency));
    for latency in [20, 30, 5_000, 20, 30] {
        engine.on_venue_latency(latency, T0);
    }
    assert_eq!(refused_by(&engine, &buy, T0), Some(RiskRule::VenueLatency));
    engine.on_venue_latency(25, T0);
    assert_eq!(engine.check(&buy, T0), Ok(()));
    let resets: Vec<_> = engine
        .drain_events()
        .filter(|e| matches!(e, RiskEvent::BreakerReset { manual: false, .. }))
        .collect();
    assert_eq!(resets.len(), 1);
}

#[test]
fn stale_market_data_refuses_opening_orders_on_that_symbol_only() {
    let mut engine = engine();
    engine.on_market_data("ETHUSDT", T0 + 5_000);
    let btc = limit("a", "BTCUSDT", Side::Buy, "0.01", "50000");
    let eth = limit("b", "ETHUSDT", Side::Buy, "0.1", "3000");
    assert_eq!(
        engine.check(&btc, T0 + 5_000),
        Ok(()),
        "exactly the limit is fresh"
    );
    let refusal = engine.check(&btc, T0 + 5_001).unwrap_err();
    assert_eq!(refusal.rule, RiskRule::StaleMarketData);
    assert_eq!(
        refusal.message,
        "BTCUSDT market data is 5001 ms old; the limit is max_market_data_staleness_ms 5000 ms \
         (stale_market_data)"
    );
    assert_eq!(engine.check(&eth, T0 + 5_001), Ok(()));
    let unseen = limit("c", "SOLUSDT", Side::Buy, "1", "100");
    let refusal = engine.check(&unseen, T0).unwrap_err();
    assert_eq!(
        refusal.message,
        "no market data has been received for SOLUSDT (stale_market_data)"
    );
}

#[test]
fn staleness_is_reported_by_on_time_and_resets_with_the_next_data() {
    let mut engine = engine();
    engine.drain_events().for_each(drop);
    engine.on_time(T0 + 6_000);
    assert_eq!(
        tripped(&mut engine),
        [
            (Breaker::StaleMarketData, Some("BTCUSDT".to_owned())),
            (Breaker::StaleMarketData, Some("ETHUSDT".to_owned())),
        ]
    );
    engine.on_time(T0 + 7_000);
    assert!(tripped(&mut engine).is_empty(), "a trip is reported once");
    let status = engine.status(T0 + 7_000);
    assert_eq!(status.breakers.iter().filter(|b| b.tripped).count(), 2);
    engine
        .on_mark_price("BTCUSDT", px("50100"), T0 + 8_000)
        .unwrap();
    let events: Vec<RiskEvent> = engine.drain_events().collect();
    assert!(events.contains(&RiskEvent::BreakerReset {
        breaker: Breaker::StaleMarketData,
        symbol: Some("BTCUSDT".to_owned()),
        manual: false,
        at_ms: T0 + 8_000,
    }));
    let buy = limit("a", "BTCUSDT", Side::Buy, "0.01", "50100");
    assert_eq!(engine.check(&buy, T0 + 8_000), Ok(()));
}
