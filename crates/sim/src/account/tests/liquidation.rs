//! Liquidation: the trigger just above and below the threshold, and the liquidation price.

use kestrel_model::money::Price;
use kestrel_model::order::{PositionSide, Side};
use kestrel_model::position::PositionMode;

use super::super::ClosingOrder;
use super::*;

/// 1,000 USDT behind 1 BTC long (or short) at 60,000, no fees.
fn one_btc(side: Side) -> Account {
    let mut account = funded_fee_free("1000");
    trade(&mut account, "BTCUSDT", side, "1", "60000");
    account
}

fn liquidatable_at(account: &Account, mark: &str) -> bool {
    account
        .is_liquidatable(&marks(&[("BTCUSDT", mark)]))
        .unwrap()
}

#[test]
fn a_long_is_liquidatable_once_margin_balance_reaches_maintenance() {
    let account = one_btc(Side::Buy);
    // Margin balance 1,000 + (M − 60,000); maintenance (bracket 2) 0.005 M − 50. At 59,246.23:
    // 246.23 ≤ 296.2311500 − 50 = 246.23115. At 59,246.24: 246.24 > 246.2312.
    assert!(liquidatable_at(&account, "59246.23"));
    assert!(!liquidatable_at(&account, "59246.24"));
    assert!(!liquidatable_at(&account, "60000"));
}

#[test]
fn a_short_is_liquidatable_once_margin_balance_reaches_maintenance() {
    let account = one_btc(Side::Sell);
    // Margin balance 1,000 + (60,000 − M); maintenance 0.005 M − 50. Crossing near 60,746.27.
    assert!(liquidatable_at(&account, "60746.27"));
    assert!(!liquidatable_at(&account, "60746.26"));
}

#[test]
fn a_long_liquidation_price_is_the_highest_mark_that_liquidates() {
    let account = one_btc(Side::Buy);
    let price = account
        .liquidation_price("BTCUSDT", &marks(&[("BTCUSDT", "60000")]))
        .unwrap();
    // 1,000 + M − 60,000 ≤ ceil(0.005 M) − 50 holds up to M = 59,246.23115578 (equality:
    // 0.005 M = 296.2311557789 rounds up to 296.23115578).
    assert_eq!(price, p("59246.23115578"));
    assert!(price < p("60000"));
    assert!(liquidatable_at(&account, &price.to_string()));
    let one_step_up = Price::from_raw(price.raw() + 1).to_string();
    assert!(!liquidatable_at(&account, &one_step_up));
    let one_tick_up = price.try_add(p("0.1")).unwrap().to_string();
    assert!(!liquidatable_at(&account, &one_tick_up));
}

#[test]
fn a_short_liquidation_price_is_the_lowest_mark_that_liquidates() {
    let account = one_btc(Side::Sell);
    let price = account
        .liquidation_price("BTCUSDT", &marks(&[("BTCUSDT", "60000")]))
        .unwrap();
    assert_eq!(price, p("60746.26865671"));
    assert!(price > p("60000"));
    assert!(liquidatable_at(&account, &price.to_string()));
    let one_step_down = Price::from_raw(price.raw() - 1).to_string();
    assert!(!liquidatable_at(&account, &one_step_down));
    let one_tick_down = price.try_sub(p("0.1")).unwrap().to_string();
    assert!(!liquidatable_at(&account, &one_tick_down));
}

#[test]
fn the_liquidation_price_is_the_same_from_any_current_mark() {
    let account = one_btc(Side::Buy);
    let from = |mark| {
        account
            .liquidation_price("BTCUSDT", &marks(&[("BTCUSDT", mark)]))
            .unwrap()
    };
    // From a mark already past it, the search goes the other way and lands on the same price.
    assert_eq!(from("61000"), p("59246.23115578"));
    assert_eq!(from("50000"), p("59246.23115578"));
}

#[test]
fn a_loss_elsewhere_raises_a_cross_long_liquidation_price() {
    let mut account = one_btc(Side::Buy);
    trade(&mut account, "ETHUSDT", Side::Buy, "1", "3000");
    let even = marks(&[("BTCUSDT", "60000"), ("ETHUSDT", "3000")]);
    let eth_down = marks(&[("BTCUSDT", "60000"), ("ETHUSDT", "2900")]);
    let before = account.liquidation_price("BTCUSDT", &even).unwrap();
    let after = account.liquidation_price("BTCUSDT", &eth_down).unwrap();
    assert!(after > before, "{after} > {before}");
}

#[test]
fn no_position_means_no_liquidation() {
    let mut account = funded_fee_free("0.00000001");
    let none = marks(&[]);
    assert!(!account.is_liquidatable(&none).unwrap());
    assert_eq!(
        account.liquidation_price("BTCUSDT", &none).unwrap(),
        Price::ZERO
    );
    trade(&mut account, "BTCUSDT", Side::Buy, "1", "60000");
    trade(&mut account, "BTCUSDT", Side::Sell, "1", "60000");
    assert!(!account.is_liquidatable(&none).unwrap());
    assert_eq!(
        account.liquidation_price("BTCUSDT", &none).unwrap(),
        Price::ZERO
    );
}

#[test]
fn a_market_participant_is_never_liquidated() {
    let mut account = one_btc(Side::Buy);
    account.set_market_participant(true);
    assert!(!liquidatable_at(&account, "1"));
    let price = account.liquidation_price("BTCUSDT", &marks(&[("BTCUSDT", "1")]));
    assert_eq!(price.unwrap(), Price::ZERO);
}

#[test]
fn a_fully_hedged_symbol_has_no_liquidation_price() {
    let mut account = funded_fee_free("1000");
    account
        .set_position_mode(PositionMode::Hedge, false, 1)
        .unwrap();
    for (side, position_side) in [
        (Side::Buy, PositionSide::Long),
        (Side::Sell, PositionSide::Short),
    ] {
        let fill = execution("BTCUSDT", side, position_side, "1", "60000", false);
        account.apply_fill(&fill, 2).unwrap();
    }
    let price = account.liquidation_price("BTCUSDT", &marks(&[("BTCUSDT", "60000")]));
    assert_eq!(price.unwrap(), Price::ZERO);
}

#[test]
fn closing_orders_close_every_open_leg() {
    let mut account = funded_fee_free("100000");
    trade(&mut account, "BTCUSDT", Side::Buy, "0.5", "60000");
    trade(&mut account, "ETHUSDT", Side::Sell, "2", "3000");
    trade(&mut account, "SOLUSDT", Side::Buy, "1", "150");
    trade(&mut account, "SOLUSDT", Side::Sell, "1", "150");
    let closing = account.closing_orders();
    let expected =
        [("BTCUSDT", Side::Sell, "0.5"), ("ETHUSDT", Side::Buy, "2")].map(|(symbol, side, qty)| {
            ClosingOrder {
                symbol: symbol.to_owned(),
                position_side: PositionSide::Both,
                side,
                qty: q(qty),
            }
        });
    assert_eq!(closing, expected.to_vec());
}
