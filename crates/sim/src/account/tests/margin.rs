//! Cross margin: initial and maintenance margin with brackets, open-order margin, available
//! balance, and the new-order check.

use kestrel_model::money::Money;
use kestrel_model::order::{PositionSide, Side};
use kestrel_model::position::PositionMode;

use super::super::{AccountError, PositionRisk};
use super::*;

const NO_ORDERS: &[OpenOrder<'static>] = &[];

#[test]
fn a_position_needs_notional_over_leverage_and_bracket_maintenance() {
    let mut account = funded_fee_free("10000");
    trade(&mut account, "BTCUSDT", Side::Buy, "0.5", "60000");
    let sheet = account
        .margin(NO_ORDERS, &marks(&[("BTCUSDT", "61000")]))
        .unwrap();
    let leg = &sheet.legs[0];
    // Notional 30,500 at 20x: 1,525 initial; bracket 1 (≤ 50,000): 30,500 × 0.004 = 122.
    assert_eq!((leg.notional, leg.leverage), (m("30500"), 20));
    assert_eq!(leg.position_initial_margin, m("1525"));
    assert_eq!(leg.maint_margin, m("122"));
    assert_eq!(leg.unrealized_pnl, m("500"));
    let totals = sheet.totals;
    assert_eq!(totals.total_margin_balance, m("10500"));
    assert_eq!(totals.available_balance, m("8975"));
    assert_eq!(totals.total_maint_margin, m("122"));
}

#[test]
fn maintenance_margin_comes_from_the_notional_bracket() {
    let mut account = funded_fee_free("100000");
    trade(&mut account, "BTCUSDT", Side::Sell, "2", "60000");
    let sheet = account
        .margin(NO_ORDERS, &marks(&[("BTCUSDT", "60000")]))
        .unwrap();
    let leg = &sheet.legs[0];
    // Notional −120,000 is in bracket 2: 120,000 × 0.005 − 50 = 550.
    assert_eq!(leg.notional, m("-120000"));
    assert_eq!(leg.maint_margin, m("550"));
    assert_eq!(leg.position_initial_margin, m("6000"));
}

#[test]
fn initial_margin_rounds_up_at_8_decimals() {
    let mut account = funded_fee_free("1000");
    account
        .set_leverage("XUSDT", 3, NO_ORDERS, &marks(&[]), 2)
        .unwrap();
    trade(&mut account, "XUSDT", Side::Buy, "1", "100");
    let sheet = account
        .margin(NO_ORDERS, &marks(&[("XUSDT", "100")]))
        .unwrap();
    // 100 / 3 = 33.333…: 33.33333334. Generic bracket 1: 100 × 0.01 = 1.
    assert_eq!(sheet.legs[0].position_initial_margin, m("33.33333334"));
    assert_eq!(sheet.legs[0].maint_margin, m("1"));
}

#[test]
fn resting_orders_on_both_sides_are_margined_for_the_larger_side() {
    let account = funded("10000");
    let orders = [
        order("BTCUSDT", Side::Buy, "50000", "0.1"),
        order("BTCUSDT", Side::Sell, "70000", "0.05"),
    ];
    let sheet = account
        .margin(&orders, &marks(&[("BTCUSDT", "60000")]))
        .unwrap();
    // max(|0 + 5,000|, |0 − 3,500|) / 20 = 250.
    let leg = &sheet.legs[0];
    assert_eq!(leg.open_order_initial_margin, m("250"));
    assert_eq!((leg.bid_notional, leg.ask_notional), (m("5000"), m("3500")));
    let totals = sheet.totals;
    assert_eq!(totals.total_open_order_initial_margin, m("250"));
    assert_eq!(totals.total_initial_margin, m("250"));
    assert_eq!(totals.available_balance, m("9750"));
}

#[test]
fn orders_that_reduce_the_position_need_no_margin_for_the_reducing_part() {
    let mut account = funded_fee_free("10000");
    trade(&mut account, "BTCUSDT", Side::Buy, "0.1", "60000");
    let at_60000 = marks(&[("BTCUSDT", "60000")]);
    let order_margin = |orders: &[OpenOrder<'_>]| {
        let sheet = account.margin(orders, &at_60000).unwrap();
        sheet.totals.total_open_order_initial_margin
    };
    // Long 6,000 notional. Selling up to twice the position only flips into what is
    // already margined; beyond that, the excess is margined.
    assert_eq!(
        order_margin(&[order("BTCUSDT", Side::Sell, "61000", "0.1")]),
        Money::ZERO
    );
    assert_eq!(
        order_margin(&[order("BTCUSDT", Side::Sell, "60000", "0.2")]),
        Money::ZERO
    );
    // |6,000 − 18,000| − 6,000 = 6,000 → 300.
    assert_eq!(
        order_margin(&[order("BTCUSDT", Side::Sell, "60000", "0.3")]),
        m("300")
    );
    // Buying adds: 6,000 more → 300.
    assert_eq!(
        order_margin(&[order("BTCUSDT", Side::Buy, "60000", "0.1")]),
        m("300")
    );
}

#[test]
fn hedge_mode_closing_orders_need_no_margin() {
    let mut account = funded_fee_free("10000");
    account
        .set_position_mode(PositionMode::Hedge, false, 1)
        .unwrap();
    let long = execution(
        "BTCUSDT",
        Side::Buy,
        PositionSide::Long,
        "0.1",
        "60000",
        false,
    );
    account.apply_fill(&long, 2).unwrap();
    let leg_order = |side, position_side, qty| OpenOrder {
        symbol: "BTCUSDT",
        side,
        position_side,
        price: p("60000"),
        qty: q(qty),
    };
    let at_60000 = marks(&[("BTCUSDT", "60000")]);
    let close = [leg_order(Side::Sell, PositionSide::Long, "0.3")];
    let sheet = account.margin(&close, &at_60000).unwrap();
    assert_eq!(sheet.totals.total_open_order_initial_margin, Money::ZERO);
    let open_short = [leg_order(Side::Sell, PositionSide::Short, "0.1")];
    let sheet = account.margin(&open_short, &at_60000).unwrap();
    assert_eq!(sheet.totals.total_open_order_initial_margin, m("300"));
    assert_eq!(sheet.legs.len(), 2);
}

#[test]
fn a_new_order_beyond_the_available_balance_is_refused_with_minus_2019() {
    let account = funded("100");
    let at_50000 = marks(&[("BTCUSDT", "50000")]);
    // 100 USDT at 20x buys 2,000 notional: 0.04 at 50,000 exactly fits.
    let fits = order("BTCUSDT", Side::Buy, "50000", "0.04");
    assert_eq!(
        account.check_new_order(&fits, false, NO_ORDERS, &at_50000),
        Ok(())
    );
    let too_big = order("BTCUSDT", Side::Buy, "50000", "0.04002");
    let error = account
        .check_new_order(&too_big, false, NO_ORDERS, &at_50000)
        .unwrap_err();
    assert_eq!(error.code(), -2019);
    assert_eq!(error.msg(), "Margin is insufficient.");
    assert_eq!(
        error,
        AccountError::MarginInsufficient {
            required: m("100.05"),
            available: m("100"),
        }
    );
    // With the first order resting, a second one finds nothing available.
    let second = order("BTCUSDT", Side::Buy, "50000", "0.001");
    let refused = account.check_new_order(&second, false, &[fits], &at_50000);
    assert_eq!(refused.unwrap_err().code(), -2019);
}

#[test]
fn reduce_only_and_reducing_orders_pass_even_without_available_balance() {
    let mut account = funded_fee_free("100");
    trade(&mut account, "BTCUSDT", Side::Buy, "0.04", "50000");
    let at_49000 = marks(&[("BTCUSDT", "49000")]);
    // Margin balance 100 − 40 = 60; initial margin 1,960 / 20 = 98: available −38.
    let totals = account.totals(NO_ORDERS, &at_49000).unwrap();
    assert_eq!(totals.available_balance, m("-38"));
    assert_eq!(totals.max_withdraw_amount, Money::ZERO);
    let reducing = order("BTCUSDT", Side::Sell, "49000", "0.04");
    assert_eq!(
        account.check_new_order(&reducing, false, NO_ORDERS, &at_49000),
        Ok(())
    );
    let reduce_only = order("BTCUSDT", Side::Buy, "49000", "0.01");
    assert_eq!(
        account.check_new_order(&reduce_only, true, NO_ORDERS, &at_49000),
        Ok(())
    );
    let adding = order("BTCUSDT", Side::Buy, "49000", "0.001");
    let refused = account.check_new_order(&adding, false, NO_ORDERS, &at_49000);
    assert_eq!(refused.unwrap_err().code(), -2019);
}

#[test]
fn an_order_past_the_leverage_notional_cap_is_refused_with_minus_2027() {
    let mut account = funded("1000000");
    let none = marks(&[]);
    account
        .set_leverage("BTCUSDT", 125, NO_ORDERS, &none, 2)
        .unwrap();
    let within = order("BTCUSDT", Side::Buy, "50000", "1");
    assert_eq!(
        account.check_new_order(&within, false, NO_ORDERS, &none),
        Ok(())
    );
    let beyond = order("BTCUSDT", Side::Buy, "50000", "1.00000002");
    let error = account
        .check_new_order(&beyond, false, NO_ORDERS, &none)
        .unwrap_err();
    assert_eq!(error.code(), -2027);
}

#[test]
fn a_market_participant_is_never_refused_for_margin() {
    let mut account = account();
    account.set_market_participant(true);
    let huge = order("BTCUSDT", Side::Buy, "60000", "1000000");
    assert_eq!(
        account.check_new_order(&huge, false, NO_ORDERS, &marks(&[])),
        Ok(())
    );
}

#[test]
fn unrealized_profit_counts_toward_margin_but_cannot_be_withdrawn() {
    let mut account = funded_fee_free("1000");
    trade(&mut account, "BTCUSDT", Side::Buy, "0.1", "50000");
    let totals = account
        .totals(NO_ORDERS, &marks(&[("BTCUSDT", "55000")]))
        .unwrap();
    // Margin balance 1,000 + 500; initial 5,500 / 20 = 275; available 1,225.
    assert_eq!(totals.total_unrealized_profit, m("500"));
    assert_eq!(totals.total_cross_un_pnl, m("500"));
    assert_eq!(totals.total_margin_balance, m("1500"));
    assert_eq!(totals.available_balance, m("1225"));
    assert_eq!(totals.max_withdraw_amount, m("1000"));
    assert_eq!(totals.total_cross_wallet_balance, m("1000"));
}

#[test]
fn position_risk_rows_report_the_leg_exactly() {
    let mut account = funded("10000");
    trade(&mut account, "BTCUSDT", Side::Buy, "0.5", "60000");
    let at_61000 = marks(&[("BTCUSDT", "61000")]);
    let orders = [order("BTCUSDT", Side::Buy, "59000", "0.1")];
    let rows = account.position_risk(&orders, &at_61000).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!((row.position_amt, row.entry_price), (q("0.5"), p("60000")));
    // 60,000 × (1 + 2 × 0.0005).
    assert_eq!(row.break_even_price, p("60060"));
    assert_eq!(
        (row.notional, row.unrealized_profit),
        (m("30500"), m("500"))
    );
    // Orders: max(30,500 + 5,900, 30,500) − 30,500 = 5,900 → 295.
    assert_eq!(row.open_order_initial_margin, m("295"));
    assert_eq!(row.initial_margin, m("1820"));
    assert_eq!((row.leverage, row.max_notional_value), (20, m("50000000")));
    assert!(row.liquidation_price.is_positive() && row.liquidation_price < row.entry_price);
    assert_eq!(row.margin_type.report_name(), "cross");
    assert_eq!(row.update_time_ms, 2);
    assert!(!row.is_idle());
}

#[test]
fn v2_rows_include_idle_legs_in_the_account_mode() {
    let mut account = funded("10000");
    account
        .set_position_mode(PositionMode::Hedge, false, 1)
        .unwrap();
    let rows = account
        .position_risk_for("ETHUSDT", NO_ORDERS, &marks(&[("ETHUSDT", "3000")]))
        .unwrap();
    let sides: Vec<PositionSide> = rows.iter().map(|row| row.position_side).collect();
    assert_eq!(sides, [PositionSide::Long, PositionSide::Short]);
    assert!(rows.iter().all(PositionRisk::is_idle));
    assert_eq!((rows[0].leverage, rows[0].mark_price), (20, p("3000")));
    assert_eq!(rows[0].liquidation_price, Price::ZERO);
}
