use kestrel_model::instrument::binance_usdm;
use proptest::prelude::*;

use super::*;

fn btc() -> Instrument {
    binance_usdm("BTCUSDT").unwrap()
}

fn px(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn touch(bid: &str, ask: &str) -> Touch {
    Touch {
        bid: Some(px(bid)),
        ask: Some(px(ask)),
    }
}

#[test]
fn passive_joins_the_own_touch_post_only() {
    let p = price_order(
        &btc(),
        Side::Buy,
        Urgency::Passive,
        touch("30000.0", "30001.0"),
        None,
        0,
    );
    let p = p.unwrap();
    assert_eq!(p.price, px("30000.0"));
    assert_eq!(p.time_in_force, TimeInForce::Gtx);
    let s = price_order(
        &btc(),
        Side::Sell,
        Urgency::Passive,
        touch("30000.0", "30001.0"),
        None,
        0,
    );
    assert_eq!(s.unwrap().price, px("30001.0"));
}

#[test]
fn normal_improves_by_one_tick_when_the_spread_has_room() {
    let t = touch("30000.0", "30001.0");
    let buy = price_order(&btc(), Side::Buy, Urgency::Normal, t, None, 0).unwrap();
    let sell = price_order(&btc(), Side::Sell, Urgency::Normal, t, None, 0).unwrap();
    assert_eq!((buy.price, sell.price), (px("30000.1"), px("30000.9")));
    assert_eq!(buy.time_in_force, TimeInForce::Gtx);
}

#[test]
fn normal_joins_the_touch_when_the_spread_is_one_tick() {
    let t = touch("30000.0", "30000.1");
    let buy = price_order(&btc(), Side::Buy, Urgency::Normal, t, None, 0).unwrap();
    assert_eq!(buy.price, px("30000.0"), "a tick better would take the ask");
}

#[test]
fn aggressive_takes_the_far_touch_plus_slippage_with_ioc() {
    let t = touch("30000.0", "30001.0");
    let buy = price_order(&btc(), Side::Buy, Urgency::Aggressive, t, None, 2).unwrap();
    assert_eq!(buy.price, px("30001.2"));
    assert_eq!(buy.time_in_force, TimeInForce::Ioc);
    let sell = price_order(&btc(), Side::Sell, Urgency::Aggressive, t, None, 0).unwrap();
    assert_eq!(sell.price, px("30000.0"));
}

#[test]
fn aggressive_without_the_far_side_is_refused() {
    let t = Touch {
        bid: Some(px("30000")),
        ask: None,
    };
    let err = price_order(&btc(), Side::Buy, Urgency::Aggressive, t, None, 0).unwrap_err();
    assert!(matches!(
        err,
        PricingError::NoTouch {
            needed: "best ask",
            ..
        }
    ));
}

#[test]
fn a_hint_caps_the_price_and_is_rounded_away_from_the_market() {
    let t = touch("30000.0", "30001.0");
    let buy = price_order(
        &btc(),
        Side::Buy,
        Urgency::Passive,
        t,
        Some(px("29999.87")),
        0,
    )
    .unwrap();
    assert_eq!(buy.price, px("29999.8"), "a buy hint rounds down");
    let sell = price_order(
        &btc(),
        Side::Sell,
        Urgency::Passive,
        t,
        Some(px("30001.03")),
        0,
    );
    assert_eq!(sell.unwrap().price, px("30001.1"), "a sell hint rounds up");
    let eager = price_order(&btc(), Side::Buy, Urgency::Passive, t, Some(px("30005")), 0).unwrap();
    assert_eq!(
        eager.price,
        px("30000.0"),
        "a hint never makes a passive order cross"
    );
}

#[test]
fn with_an_empty_near_side_a_maker_rests_one_tick_behind_the_far_touch() {
    let t = Touch {
        bid: None,
        ask: Some(px("30001.0")),
    };
    let buy = price_order(&btc(), Side::Buy, Urgency::Passive, t, None, 0).unwrap();
    assert_eq!(buy.price, px("30000.9"));
}

#[test]
fn a_quote_that_would_cross_is_refused() {
    let err = price_quote(
        &btc(),
        Side::Buy,
        px("30001.0"),
        touch("30000.0", "30001.0"),
    )
    .unwrap_err();
    assert!(matches!(err, PricingError::WouldCross { .. }));
    let ok = price_quote(
        &btc(),
        Side::Sell,
        px("30001.04"),
        touch("30000.0", "30001.0"),
    )
    .unwrap();
    assert_eq!(ok, px("30001.1"));
}

#[test]
fn quantities_round_down_to_the_step_and_refuse_dust() {
    let q = order_qty(&btc(), Qty::parse("0.0019").unwrap(), false).unwrap();
    assert_eq!(q, Qty::parse("0.001").unwrap());
    assert!(order_qty(&btc(), Qty::parse("0.0009").unwrap(), false).is_err());
}

/// A book on BTCUSDT's 0.10 grid: a bid and a spread of at least one tick.
fn arb_touch() -> impl Strategy<Value = Touch> {
    (3_000i64..1_000_000, 1i64..50, any::<bool>(), any::<bool>()).prop_map(
        |(bid_ticks, spread, has_bid, has_ask)| {
            let tick = 10_000_000; // 0.10
            Touch {
                bid: has_bid.then(|| Price::from_raw(bid_ticks * tick)),
                ask: has_ask.then(|| Price::from_raw((bid_ticks + spread) * tick)),
            }
        },
    )
}

proptest! {
    #[test]
    fn maker_orders_never_cross_and_sit_on_the_tick_grid(
        t in arb_touch(),
        buy in any::<bool>(),
        normal in any::<bool>(),
        hint in proptest::option::of(30_000_000_000i64..10_000_000_000_000),
    ) {
        let instrument = btc();
        let side = if buy { Side::Buy } else { Side::Sell };
        let urgency = if normal { Urgency::Normal } else { Urgency::Passive };
        let hint = hint.map(Price::from_raw);
        let Ok(p) = price_order(&instrument, side, urgency, t, hint, 0) else {
            return Ok(());
        };
        let f = &instrument.price_filter;
        prop_assert!(p.price.is_on_step(f.tick_size, f.min_price), "{} off the grid", p.price);
        prop_assert!(p.time_in_force.is_post_only());
        match side {
            Side::Buy => prop_assert!(t.ask.is_none_or(|ask| p.price < ask)),
            Side::Sell => prop_assert!(t.bid.is_none_or(|bid| p.price > bid)),
        }
        if let Some(hint) = hint {
            match side {
                Side::Buy => prop_assert!(p.price <= hint),
                Side::Sell => prop_assert!(p.price >= hint),
            }
        }
    }
}
