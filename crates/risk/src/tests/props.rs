//! Invariants over random inputs.

use kestrel_model::order::PositionSide;
use kestrel_model::{Money, Price, Qty, Side};
use proptest::prelude::*;

use super::*;
use crate::WINDOW_MS;

proptest! {
    /// `max_orders_per_second = N` is exact in both directions: never more than N orders
    /// admitted in any one-second window, and never a refusal while fewer than N were
    /// admitted in the second before.
    #[test]
    fn the_frequency_limit_never_admits_more_than_n_in_any_second(
        n in 1u32..15,
        steps in proptest::collection::vec((0u64..400, 0usize..5), 1..300),
    ) {
        let mut engine = engine_with(RiskConfig { max_orders_per_second: n, ..config() });
        let mut now = T0;
        let mut admitted: Vec<(u64, String)> = Vec::new();
        for (i, (gap, reuse)) in steps.into_iter().enumerate() {
            now += gap;
            engine.on_market_data("BTCUSDT", now);
            // Now and then the same order is checked again (strategy filter, then execution).
            let id = match admitted.len().checked_sub(reuse + 1) {
                Some(back) if reuse > 2 => admitted[back].1.clone(),
                _ => format!("r{i}"),
            };
            // The window remembers the last N admissions; an id older than those counts anew.
            let repeat = admitted.iter().rev().take(n as usize).any(|(_, a)| *a == id);
            let recent = admitted.iter().filter(|(at, _)| at + WINDOW_MS > now).count();
            let order = limit(&id, "BTCUSDT", Side::Buy, "0.001", "50000");
            let result = admit(&mut engine, order, now);
            if repeat || recent < n as usize {
                prop_assert!(result.is_ok(), "refused with {} in the last second: {:?}", recent, result);
                if !repeat {
                    admitted.push((now, id));
                }
            } else {
                prop_assert_eq!(result.map_err(|r| r.rule), Err(RiskRule::OrderFrequency));
            }
        }
        for (i, (t, _)) in admitted.iter().enumerate() {
            let in_window = admitted[i..].iter().take_while(|(a, _)| *a < t + WINDOW_MS).count();
            prop_assert!(in_window <= n as usize, "{} orders within a second of {}", in_window, t);
        }
    }
}

fn money(units: i64) -> Money {
    Money::from_raw(i128::from(units) * kestrel_model::money::MONEY_ONE)
}

/// A random state: a position, a mark (or none), a wallet (possibly wiped out), stale or
/// fresh data, tripped breakers, a day already in loss, and limits from tiny to large.
#[derive(Debug, Clone)]
struct Scenario {
    position_units: i64,
    mark: Option<i64>,
    wallet: i64,
    stale: bool,
    losses_tripped: bool,
    latency_tripped: bool,
    limit_units: i64,
    hedge: bool,
}

prop_compose! {
    fn scenario()(
        position_units in (-1_000i64..1_000).prop_filter("a position", |q| *q != 0),
        mark in proptest::option::of(1i64..200_000),
        wallet in -50_000i64..200_000,
        stale in any::<bool>(),
        losses_tripped in any::<bool>(),
        latency_tripped in any::<bool>(),
        limit_units in 1i64..100_000,
        hedge in any::<bool>(),
    ) -> Scenario {
        Scenario {
            position_units,
            mark,
            wallet,
            stale,
            losses_tripped,
            latency_tripped,
            limit_units,
            hedge,
        }
    }
}

fn build(s: &Scenario) -> (RiskEngine, PositionSide, Qty) {
    let limit = money(s.limit_units);
    let config = RiskConfig {
        max_position_size_usdt: limit,
        max_order_notional_usdt: limit,
        max_total_exposure_usdt: limit,
        max_daily_loss_usdt: limit,
        max_consecutive_losses: 1,
        ..config()
    };
    let mut engine = RiskEngine::new(config);
    let held = Qty::from_raw(s.position_units * 1_000_000);
    let leg = match (s.hedge, held.is_positive()) {
        (false, _) => PositionSide::Both,
        (true, true) => PositionSide::Long,
        (true, false) => PositionSide::Short,
    };
    let entry = Price::from_raw(50_000 * 100_000_000);
    engine.on_position("BTCUSDT", leg, held, entry, T0).unwrap();
    engine.on_wallet_balance(money(s.wallet), T0);
    if let Some(mark) = s.mark {
        engine
            .on_mark_price("BTCUSDT", Price::from_raw(mark * 100_000_000), T0)
            .unwrap();
    }
    engine.start(T0);
    engine.set_day_open_equity(money(s.wallet.saturating_add(s.limit_units)), T0);
    if s.latency_tripped {
        engine.on_venue_latency(60_000, T0);
    }
    if s.losses_tripped {
        // Two losing ETH round trips trip a limit of one.
        for n in 0..2 {
            let open = fill(&format!("open{n}"), "ETHUSDT", Side::Buy, "1", "3000", "0");
            let close = fill(
                &format!("close{n}"),
                "ETHUSDT",
                Side::Sell,
                "1",
                "2000",
                "0",
            );
            engine.on_fill(&open, PositionSide::Both, T0).unwrap();
            engine.on_fill(&close, PositionSide::Both, T0).unwrap();
        }
    }
    (engine, leg, held)
}

proptest! {
    /// Whatever the state — limits below the position, equity gone, the day in loss, data
    /// stale, breakers tripped, no price at all — an order that only reduces a position is
    /// never refused while the kill switch is off and the frequency window has room.
    #[test]
    fn a_position_reducing_order_is_never_refused_by_the_risk_rules(
        s in scenario(),
        fraction_pct in 1i64..=100,
        reduce_flag in any::<bool>(),
        priced in proptest::option::of(1i64..200_000),
    ) {
        let (engine, leg, held) = build(&s);
        let closing = Qty::from_raw((held.abs().raw() * fraction_pct / 100).max(1));
        let side = if held.is_positive() { Side::Sell } else { Side::Buy };
        let mut order = market("r", "BTCUSDT", side, "1");
        order.quantity = closing;
        order.position_side = leg;
        order.reduce_only = reduce_flag && leg == PositionSide::Both;
        if let Some(price) = priced {
            order.order_type = kestrel_model::order::OrderType::Limit;
            order.price = Some(Price::from_raw(price * 100_000_000));
        }
        let now = if s.stale { T0 + 600_000 } else { T0 };
        prop_assert_eq!(engine.check(&order, now), Ok(()));
    }

    /// The first refusal of `check` is the first of `evaluate_all`, and `check` passes
    /// exactly when `evaluate_all` finds nothing.
    #[test]
    fn check_reports_the_first_of_all_failing_rules(
        s in scenario(),
        buy in any::<bool>(),
        units in -10i64..2_000,
        stale in any::<bool>(),
    ) {
        let (engine, _, _) = build(&s);
        let side = if buy { Side::Buy } else { Side::Sell };
        let mut order = market("x", "BTCUSDT", side, "1");
        order.quantity = Qty::from_raw(units * 1_000_000);
        let now = if stale { T0 + 600_000 } else { T0 };
        let all = engine.evaluate_all(&order, now);
        prop_assert_eq!(engine.check(&order, now).err(), all.first().cloned());
        let rules: Vec<RiskRule> = all.iter().map(|r| r.rule).collect();
        prop_assert!(rules.windows(2).all(|w| w[0] < w[1]), "{:?}", rules);
    }
}
