//! The daily limits: loss in USDT and drawdown in percent since UTC midnight.

use kestrel_model::Side;
use kestrel_model::order::PositionSide;

use super::*;
use crate::{Measure, RiskEvent};

const MIDNIGHT: u64 = T0 + DAY_MS / 2;

/// Holds 1 BTC bought at 50,000 and marks it at `mark`.
fn long_one_btc_marked_at(engine: &mut RiskEngine, mark: &str) {
    hold_btc(engine, "1", "50000");
    engine.on_mark_price("BTCUSDT", px(mark), T0).unwrap();
}

#[test]
fn a_loss_of_max_daily_loss_since_midnight_refuses_opening_orders() {
    let mut engine = engine();
    long_one_btc_marked_at(&mut engine, "49000.01");
    let buy = limit("a", "ETHUSDT", Side::Buy, "0.1", "3000");
    assert_eq!(
        engine.check(&buy, T0),
        Ok(()),
        "999.99 USDT down is allowed"
    );
    engine.on_mark_price("BTCUSDT", px("49000"), T0).unwrap();
    let refusal = engine.check(&buy, T0).unwrap_err();
    assert_eq!(refusal.rule, RiskRule::DailyLoss);
    assert_eq!(refusal.observed, Measure::Usdt(usdt("1000")));
    assert_eq!(
        refusal.message,
        "loss since UTC midnight is 1000.00 USDT (equity 99000.00 from 100000.00 at the open); \
         the limit is max_daily_loss_usdt 1000.00 USDT (daily_loss)"
    );
    let close = reduce_only("b", "BTCUSDT", Side::Sell, "1");
    assert_eq!(engine.check(&close, T0), Ok(()), "closing is never blocked");
}

#[test]
fn the_daily_loss_counter_resets_at_utc_midnight() {
    let mut engine = engine();
    long_one_btc_marked_at(&mut engine, "48900");
    let buy = limit("a", "ETHUSDT", Side::Buy, "0.1", "3000");
    engine.on_market_data("ETHUSDT", MIDNIGHT - 1);
    assert_eq!(
        refused_by(&engine, &buy, MIDNIGHT - 1),
        Some(RiskRule::DailyLoss)
    );
    engine.on_market_data("ETHUSDT", MIDNIGHT);
    // Even before any event rolls the day, a check after midnight sees a new day.
    assert_eq!(engine.daily_pnl(MIDNIGHT), Money::ZERO);
    engine.drain_events().for_each(drop);
    engine
        .on_mark_price("BTCUSDT", px("48900"), MIDNIGHT)
        .unwrap();
    let rolled: Vec<RiskEvent> = engine.drain_events().collect();
    assert_eq!(
        rolled,
        [RiskEvent::DayRolled {
            day_start_ms: MIDNIGHT,
            previous_day_pnl: usdt("-1100"),
            open_equity: usdt("98900"),
        }]
    );
    assert_eq!(engine.check(&buy, MIDNIGHT), Ok(()));
    // The new day counts from its own open: another 1,000 down refuses again.
    engine
        .on_mark_price("BTCUSDT", px("47900"), MIDNIGHT + 1)
        .unwrap();
    assert_eq!(
        refused_by(&engine, &buy, MIDNIGHT + 1),
        Some(RiskRule::DailyLoss)
    );
}

#[test]
fn daily_drawdown_is_measured_from_the_days_opening_equity() {
    let mut engine = engine_with(RiskConfig {
        max_daily_loss_usdt: usdt("1000000"),
        max_window_drawdown_pct: rate("50"),
        ..config()
    });
    long_one_btc_marked_at(&mut engine, "45000.01");
    let buy = limit("a", "ETHUSDT", Side::Buy, "0.1", "3000");
    assert_eq!(engine.check(&buy, T0), Ok(()));
    engine.on_mark_price("BTCUSDT", px("45000"), T0).unwrap();
    let refusal = engine.check(&buy, T0).unwrap_err();
    assert_eq!(refusal.rule, RiskRule::DailyDrawdown);
    assert_eq!(
        (refusal.observed, refusal.limit),
        (Measure::Percent(rate("5")), Measure::Percent(rate("5")))
    );
    assert!(
        refusal
            .message
            .starts_with("equity 95000.00 USDT is 5.00% below the day's opening 100000.00 USDT"),
        "{}",
        refusal.message
    );
}

#[test]
fn a_restart_mid_day_can_restore_the_days_opening_equity() {
    let mut engine = engine();
    let buy = limit("a", "ETHUSDT", Side::Buy, "0.1", "3000");
    assert_eq!(engine.check(&buy, T0), Ok(()));
    engine.set_day_open_equity(usdt("101500"), T0);
    assert_eq!(engine.daily_pnl(T0), usdt("-1500"));
    assert_eq!(refused_by(&engine, &buy, T0), Some(RiskRule::DailyLoss));
}

#[test]
fn fills_move_the_wallet_by_realised_pnl_minus_fees() {
    let mut engine = engine();
    hold_btc(&mut engine, "0.1", "50000");
    let close = fill("c", "BTCUSDT", Side::Sell, "0.1", "49000", "2.5");
    engine.on_fill(&close, PositionSide::Both, T0).unwrap();
    let status = engine.status(T0);
    assert_eq!(status.wallet_balance, usdt("99897.5"));
    assert_eq!(status.daily_pnl, usdt("-102.5"));
    // A fee in another asset is left to the next wallet update.
    let mut bnb_fee = fill("d", "ETHUSDT", Side::Buy, "1", "3000", "0.01");
    bnb_fee.commission_asset = "BNB".to_owned();
    engine.on_fill(&bnb_fee, PositionSide::Both, T0).unwrap();
    assert_eq!(engine.status(T0).wallet_balance, usdt("99897.5"));
}

#[test]
fn a_timer_that_starts_the_engine_before_the_balance_arrives_does_not_open_the_day_at_zero() {
    let mut engine = RiskEngine::new(config());
    engine.on_mark_price("BTCUSDT", px("50000"), T0).unwrap();
    engine.on_mark_price("ETHUSDT", px("3000"), T0).unwrap();
    engine.on_time(T0);
    engine.on_wallet_balance(usdt("100000"), T0 + 1);
    assert_eq!(engine.status(T0 + 1).day_open_equity, usdt("100000"));
    long_one_btc_marked_at(&mut engine, "49000");
    let buy = limit("a", "ETHUSDT", Side::Buy, "0.1", "3000");
    assert_eq!(refused_by(&engine, &buy, T0 + 1), Some(RiskRule::DailyLoss));
}
