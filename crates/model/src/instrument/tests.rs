use proptest::prelude::*;

use super::*;
use crate::order::{OrderRequest, OrderType, Side};

fn btc() -> Instrument {
    binance_usdm("BTCUSDT").unwrap()
}

fn p(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn q(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

fn limit(side: Side, price: &str, qty: &str) -> OrderCheck {
    OrderCheck {
        side,
        is_market: false,
        price: Some(p(price)),
        needs_price: true,
        stop_price: None,
        quantity: q(qty),
        reduce_only: false,
        close_position: false,
        mark_price: Some(p("60000")),
        open_orders: 0,
    }
}

fn rule_of(result: Result<(), RuleViolation>) -> Option<Rule> {
    result.err().map(|v| v.rule)
}

#[test]
fn presets_carry_every_filter() {
    for symbol in PRESET_SYMBOLS {
        let i = binance_usdm(symbol).unwrap();
        assert!(i.price_filter.tick_size.is_positive() && i.price_filter.min_price.is_positive());
        assert!(i.lot_size.step_size.is_positive() && i.lot_size.min_qty.is_positive());
        assert!(i.market_lot_size.max_qty.is_positive() && i.min_notional.is_positive());
        assert!(i.price_filter.tick_size.decimal_places() <= i.price_precision);
        assert!(i.lot_size.step_size.decimal_places() <= i.quantity_precision);
    }
    assert!(binance_usdm("DOGEUSDT").is_none());
}

#[test]
fn valid_order_passes_every_rule() {
    assert_eq!(
        btc().validate(&limit(Side::Buy, "60000.10", "0.002")),
        Ok(())
    );
}

#[test]
fn each_rule_is_named_when_broken() {
    let i = btc();
    let cases: [(OrderCheck, Rule); 10] = [
        (limit(Side::Buy, "200", "0.002"), Rule::MinPrice),
        (limit(Side::Buy, "900000", "0.002"), Rule::MaxPrice),
        (limit(Side::Buy, "60000.15", "0.002"), Rule::TickSize),
        (limit(Side::Buy, "60000", "0.0005"), Rule::MinQty),
        (limit(Side::Buy, "60000", "1001"), Rule::MaxQty),
        (limit(Side::Buy, "60000", "0.0025"), Rule::StepSize),
        (limit(Side::Buy, "60000", "0.001"), Rule::MinNotional),
        (limit(Side::Buy, "63000.10", "0.002"), Rule::PercentPriceUp),
        (
            limit(Side::Sell, "56999.90", "0.002"),
            Rule::PercentPriceDown,
        ),
        (
            OrderCheck {
                open_orders: 200,
                ..limit(Side::Buy, "60000", "0.002")
            },
            Rule::MaxOpenOrders,
        ),
    ];
    for (order, rule) in cases {
        assert_eq!(rule_of(i.validate(&order)), Some(rule), "{order:?}");
    }
    let missing = OrderCheck {
        price: None,
        ..limit(Side::Buy, "1", "1")
    };
    assert_eq!(rule_of(i.validate(&missing)), Some(Rule::PriceRequired));
}

#[test]
fn precision_is_checked_separately_from_the_grid() {
    let mut i = btc();
    i.price_filter.tick_size = Price::ZERO;
    assert_eq!(
        rule_of(i.validate(&limit(Side::Buy, "60000.123", "0.002"))),
        Some(Rule::PricePrecision)
    );
    i.lot_size.step_size = Qty::ZERO;
    assert_eq!(
        rule_of(i.validate(&limit(Side::Buy, "60000", "0.0021"))),
        Some(Rule::QtyPrecision)
    );
}

#[test]
fn violation_message_says_which_rule_and_why() {
    let err = btc()
        .validate(&limit(Side::Buy, "60000.15", "0.002"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "price 60000.15 is not a multiple of the tick size 0.1 (PRICE_FILTER: price_off_tick)"
    );
    let err = btc()
        .validate(&limit(Side::Buy, "60000", "0.001"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "notional 60 is below the minimum notional 100 (MIN_NOTIONAL: notional_below_min)"
    );
    let err = btc()
        .validate(&limit(Side::Buy, "63000.10", "0.002"))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("above the allowed band around the mark price, limit 63000"),
        "{err}"
    );
}

#[test]
fn band_edges_are_inclusive_and_exact() {
    let i = btc();
    assert_eq!(i.validate(&limit(Side::Buy, "63000", "0.002")), Ok(()));
    assert_eq!(i.validate(&limit(Side::Sell, "57000", "0.002")), Ok(()));
}

#[test]
fn market_orders_use_market_lot_and_mark_notional() {
    let i = btc();
    let market = OrderCheck {
        is_market: true,
        price: None,
        needs_price: false,
        ..limit(Side::Buy, "1", "121")
    };
    assert_eq!(
        rule_of(i.validate(&market)),
        Some(Rule::MaxQty),
        "MARKET_LOT_SIZE max is 120"
    );
    let small = OrderCheck {
        quantity: q("0.001"),
        ..market
    };
    assert_eq!(
        rule_of(i.validate(&small)),
        Some(Rule::MinNotional),
        "notional at mark 60000 is 60"
    );
    let unknown_mark = OrderCheck {
        mark_price: None,
        ..small
    };
    assert_eq!(i.validate(&unknown_mark), Ok(()));
}

#[test]
fn reduce_only_and_close_position_are_exempt_from_min_notional() {
    let i = btc();
    let reduce = OrderCheck {
        reduce_only: true,
        ..limit(Side::Sell, "60000", "0.001")
    };
    assert_eq!(i.validate(&reduce), Ok(()));
    let close = OrderCheck {
        close_position: true,
        quantity: Qty::ZERO,
        price: None,
        needs_price: false,
        is_market: true,
        stop_price: Some(p("59000")),
        ..limit(Side::Sell, "1", "1")
    };
    assert_eq!(i.validate(&close), Ok(()));
    let bad_stop = OrderCheck {
        stop_price: Some(p("59000.05")),
        ..close
    };
    let err = i.validate(&bad_stop).unwrap_err();
    assert_eq!((err.rule, err.field), (Rule::TickSize, "stop_price"));
}

#[test]
fn order_check_from_request_carries_the_request_facts() {
    let json = r#"{"request_id":"r","symbol":"BTCUSDT","side":"sell","type":"market","quantity":"0.01","reduce_only":true}"#;
    let request: OrderRequest = serde_json::from_str(json).unwrap();
    let check = OrderCheck::from_request(&request, Some(p("60000")), 3);
    assert!(check.is_market && check.reduce_only && !check.needs_price);
    assert_eq!((check.side, check.open_orders), (Side::Sell, 3));
    assert_eq!(request.order_type, OrderType::Market);
    assert_eq!(btc().validate(&check), Ok(()));
}

#[test]
fn rounding_follows_side_and_never_leaves_the_bounds() {
    let i = btc();
    assert_eq!(
        i.round_price_for(Side::Buy, p("60000.19")).unwrap(),
        p("60000.1")
    );
    assert_eq!(
        i.round_price_for(Side::Sell, p("60000.11")).unwrap(),
        p("60000.2")
    );
    assert_eq!(
        i.round_price(p("60000.16"), RoundingMode::HalfEven)
            .unwrap(),
        p("60000.2")
    );
    assert_eq!(
        i.round_price(p("60000.14"), RoundingMode::HalfEven)
            .unwrap(),
        p("60000.1")
    );
    assert_eq!(i.round_qty(q("0.0029"), false).unwrap(), q("0.002"));
    assert!(
        i.round_qty(q("0.0009"), false).is_err(),
        "rounds to zero, below min qty"
    );
    assert!(
        i.round_qty(q("500"), true).is_err(),
        "above MARKET_LOT_SIZE max"
    );
    assert!(i.round_price_for(Side::Buy, p("261.15")).is_ok());
    assert!(
        i.round_price_for(Side::Buy, p("261.05")).is_err(),
        "floors below min price"
    );
}

fn instrument_strategy() -> impl Strategy<Value = Instrument> {
    (
        0u32..=8,
        1i64..50,
        0i64..1000,
        0u32..=8,
        1i64..50,
        1i64..100,
    )
        .prop_map(
            |(price_dp, tick_units, min_ticks, qty_dp, step_units, min_steps)| {
                let unit = |dp: u32| 10i64.pow(8 - dp);
                let tick = Price::from_raw(tick_units * unit(price_dp));
                let step = Qty::from_raw(step_units * unit(qty_dp));
                let mut i = btc();
                i.price_precision = price_dp;
                i.quantity_precision = qty_dp;
                i.price_filter = PriceFilter {
                    min_price: Price::from_raw(tick.raw() * min_ticks.max(1)),
                    max_price: Price::from_raw(tick.raw() * 1_000_000),
                    tick_size: tick,
                };
                let lot = LotSize {
                    min_qty: Qty::from_raw(step.raw() * min_steps),
                    max_qty: Qty::from_raw(step.raw() * 100_000),
                    step_size: step,
                };
                i.lot_size = lot;
                i.market_lot_size = lot;
                i.min_notional = Money::ZERO;
                i.percent_price = None;
                i
            },
        )
}

proptest! {
    #[test]
    fn rounded_values_always_pass_the_instruments_own_rules(
        instrument in instrument_strategy(),
        price_raw in 1i64..10_000_000_000_000,
        qty_raw in 1i64..1_000_000_000_000,
        buy in any::<bool>(),
        market in any::<bool>(),
    ) {
        let side = if buy { Side::Buy } else { Side::Sell };
        let price = instrument.round_price_for(side, Price::from_raw(price_raw));
        let qty = instrument.round_qty(Qty::from_raw(qty_raw), market);
        if let (Ok(price), Ok(qty)) = (price, qty) {
            let order = OrderCheck {
                side,
                is_market: market,
                price: (!market).then_some(price),
                needs_price: !market,
                stop_price: Some(price),
                quantity: qty,
                reduce_only: false,
                close_position: false,
                mark_price: None,
                open_orders: 0,
            };
            prop_assert_eq!(instrument.validate(&order), Ok(()));
            let asked = Price::from_raw(price_raw);
            let never_more_aggressive = if buy { price <= asked } else { price >= asked };
            prop_assert!(never_more_aggressive);
            prop_assert!(qty <= Qty::from_raw(qty_raw));
        }
    }
}
