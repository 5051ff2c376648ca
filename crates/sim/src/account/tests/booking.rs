//! Fills and funding: commission by maker/taker and its rounding, realized P&L and commission
//! booked to the wallet, funding signs.

use kestrel_model::money::Money;
use kestrel_model::order::{PositionSide, Side};
use kestrel_model::position::PositionMode;

use super::*;

#[test]
fn taker_pays_the_taker_rate_and_maker_the_maker_rate() {
    let account = funded("1000");
    // 0.001 BTC at 60,000 = 60 USDT: 0.05 % taker, 0.02 % maker.
    let notional = p("60000").notional(q("0.001"));
    assert_eq!(account.commission(notional, false).unwrap(), m("0.03"));
    assert_eq!(account.commission(notional, true).unwrap(), m("0.012"));
}

#[test]
fn commission_rounds_once_half_to_even_at_8_decimals() {
    let account = funded("1000");
    let taker = |notional: &str| account.commission(m(notional), false).unwrap();
    // notional × 0.0005: 5e-9 and 2.5e-8 are ties and go to the even neighbour.
    assert_eq!(taker("0.00001"), Money::ZERO);
    assert_eq!(taker("0.00003"), m("0.00000002"));
    assert_eq!(taker("0.00005"), m("0.00000002"));
    assert_eq!(taker("0.00007"), m("0.00000004"));
    // 1.55e-8 is no tie: nearest.
    assert_eq!(taker("0.000031"), m("0.00000002"));
    // A notional with 16 decimals is rounded once, not first to 16 and then to 8 decimals:
    // 0.0000100000000001 × 0.0005 = 0.00000000500000000005, just above the tie.
    assert_eq!(taker("0.0000100000000001"), m("0.00000001"));
}

#[test]
fn a_maker_rebate_rounds_like_its_positive_twin() {
    let mut account = funded("1000");
    account.set_fee_rates(r("-0.0001"), r("0.0005"));
    let maker = |notional: &str| account.commission(m(notional), true).unwrap();
    assert_eq!(maker("0.00005"), Money::ZERO);
    assert_eq!(maker("0.00015"), m("-0.00000002"));
    assert_eq!(maker("100"), m("-0.01"));
    let fill = execution(
        "BTCUSDT",
        Side::Buy,
        PositionSide::Both,
        "0.01",
        "60000",
        true,
    );
    let booking = account.apply_fill(&fill, 5).unwrap();
    assert_eq!(booking.commission, m("-0.06"));
    assert_eq!(account.wallet_balance(), m("1000.06"));
}

#[test]
fn realized_pnl_and_commission_are_booked_to_the_wallet() {
    let mut account = funded("10000");
    let open = trade(&mut account, "BTCUSDT", Side::Buy, "0.01", "60000");
    // 600 USDT taker: 0.30 commission, nothing realized.
    assert_eq!(
        (open.realized_pnl, open.commission, open.commission_asset),
        (Money::ZERO, m("0.3"), "USDT")
    );
    assert_eq!((open.opened, open.closed), (q("0.01"), q("0")));
    assert_eq!(open.wallet_balance, m("9999.7"));
    let fill = execution(
        "BTCUSDT",
        Side::Sell,
        PositionSide::Both,
        "0.01",
        "61000",
        true,
    );
    let close = account.apply_fill(&fill, 9).unwrap();
    // 610 USDT maker: 0.122 commission; (61,000 − 60,000) × 0.01 = 10 realized.
    assert_eq!(
        (close.realized_pnl, close.commission),
        (m("10"), m("0.122"))
    );
    assert_eq!(close.wallet_balance, m("10009.578"));
    assert_eq!(account.wallet_balance(), m("10009.578"));
    assert!(close.position.qty.is_zero());
    assert_eq!(close.position.fees, m("0.422"));
    assert_eq!(account.update_time_ms(), 9);
}

#[test]
fn realized_pnl_is_booked_rounded_half_to_even_at_8_decimals() {
    let mut account = funded_fee_free("1000");
    // Cost 0.5 × 100.00000003 = 50.000000015; closing at 100 realizes −0.000000015 exactly,
    // booked as −0.00000002 (the tie goes to the even neighbour).
    trade(&mut account, "XUSDT", Side::Buy, "0.5", "100.00000003");
    let close = trade(&mut account, "XUSDT", Side::Sell, "0.5", "100");
    assert_eq!(close.position.realized_pnl, m("-0.000000015"));
    assert_eq!(close.realized_pnl, m("-0.00000002"));
    assert_eq!(account.wallet_balance(), m("999.99999998"));
    // −0.000000005 is a tie between −0.00000001 and 0: booked as 0.
    trade(&mut account, "XUSDT", Side::Buy, "0.5", "100.00000001");
    let close = trade(&mut account, "XUSDT", Side::Sell, "0.5", "100");
    assert_eq!(close.realized_pnl, Money::ZERO);
    assert_eq!(account.wallet_balance(), m("999.99999998"));
}

#[test]
fn funding_longs_pay_shorts_when_the_rate_is_positive() {
    let mut long = funded("10000");
    let mut short = funded("10000");
    trade(&mut long, "BTCUSDT", Side::Buy, "1", "60000");
    trade(&mut short, "BTCUSDT", Side::Sell, "1", "60000");
    let (long_before, short_before) = (long.wallet_balance(), short.wallet_balance());
    // 1 BTC × 60,000 × 0.0001 = 6 USDT.
    let rate = r("0.0001");
    let paid = long.apply_funding("BTCUSDT", p("60000"), rate, 7).unwrap();
    let received = short.apply_funding("BTCUSDT", p("60000"), rate, 7).unwrap();
    assert_eq!((paid, received), (Some(m("-6")), Some(m("6"))));
    assert_eq!(long.wallet_balance(), long_before.try_sub(m("6")).unwrap());
    assert_eq!(
        short.wallet_balance(),
        short_before.try_add(m("6")).unwrap()
    );
    assert_eq!(long.update_time_ms(), 7);
}

#[test]
fn funding_shorts_pay_longs_when_the_rate_is_negative() {
    let mut long = funded("10000");
    let mut short = funded("10000");
    trade(&mut long, "BTCUSDT", Side::Buy, "1", "60000");
    trade(&mut short, "BTCUSDT", Side::Sell, "1", "60000");
    let rate = r("-0.0001");
    let received = long.apply_funding("BTCUSDT", p("61000"), rate, 7).unwrap();
    let paid = short.apply_funding("BTCUSDT", p("61000"), rate, 7).unwrap();
    assert_eq!((received, paid), (Some(m("6.1")), Some(m("-6.1"))));
}

#[test]
fn funding_rounds_half_to_even_and_stays_zero_sum() {
    let mut long = funded_fee_free("100");
    let mut short = funded_fee_free("100");
    trade(&mut long, "XUSDT", Side::Buy, "0.001", "1.5");
    trade(&mut short, "XUSDT", Side::Sell, "0.001", "1.5");
    // 0.0015 × 0.00001 = 1.5e-8: a tie, to 2e-8 on both sides.
    let rate = r("0.00001");
    let paid = long.apply_funding("XUSDT", p("1.5"), rate, 3).unwrap();
    let received = short.apply_funding("XUSDT", p("1.5"), rate, 3).unwrap();
    assert_eq!(paid, Some(m("-0.00000002")));
    assert_eq!(received, Some(m("0.00000002")));
}

#[test]
fn funding_without_a_position_books_nothing() {
    let mut account = funded("100");
    let none = account.apply_funding("BTCUSDT", p("60000"), r("0.0001"), 5);
    assert_eq!(none.unwrap(), None);
    trade(&mut account, "BTCUSDT", Side::Buy, "0.001", "60000");
    trade(&mut account, "BTCUSDT", Side::Sell, "0.001", "60000");
    let flat = account.apply_funding("BTCUSDT", p("60000"), r("0.0001"), 6);
    assert_eq!(flat.unwrap(), None);
    assert_eq!(account.update_time_ms(), 2);
}

#[test]
fn funding_in_hedge_mode_nets_the_two_legs() {
    let mut account = funded_fee_free("10000");
    account
        .set_position_mode(PositionMode::Hedge, false, 1)
        .unwrap();
    let long = execution(
        "BTCUSDT",
        Side::Buy,
        PositionSide::Long,
        "2",
        "60000",
        false,
    );
    let short = execution(
        "BTCUSDT",
        Side::Sell,
        PositionSide::Short,
        "0.5",
        "60000",
        false,
    );
    account.apply_fill(&long, 2).unwrap();
    account.apply_fill(&short, 2).unwrap();
    // The long leg pays 12, the short leg receives 3.
    let change = account.apply_funding("BTCUSDT", p("60000"), r("0.0001"), 3);
    assert_eq!(change.unwrap(), Some(m("-9")));
    assert_eq!(account.wallet_balance(), m("9991"));
}

#[test]
fn a_hedge_fill_that_would_cross_its_leg_is_refused_with_minus_2022() {
    let mut account = funded("10000");
    account
        .set_position_mode(PositionMode::Hedge, false, 1)
        .unwrap();
    let buy = execution(
        "BTCUSDT",
        Side::Buy,
        PositionSide::Long,
        "1",
        "60000",
        false,
    );
    account.apply_fill(&buy, 2).unwrap();
    let wallet = account.wallet_balance();
    let oversell = execution(
        "BTCUSDT",
        Side::Sell,
        PositionSide::Long,
        "2",
        "60000",
        false,
    );
    let error = account.apply_fill(&oversell, 3).unwrap_err();
    assert_eq!(error.code(), -2022);
    assert_eq!(error.msg(), "ReduceOnly Order is rejected.");
    assert_eq!(account.wallet_balance(), wallet);
    let leg = account.position("BTCUSDT", PositionSide::Long).unwrap();
    assert_eq!(leg.qty, q("1"));
}

#[test]
fn a_fill_on_a_position_side_the_mode_does_not_have_is_refused_with_minus_4061() {
    let mut account = funded("10000");
    let fill = execution(
        "BTCUSDT",
        Side::Buy,
        PositionSide::Long,
        "1",
        "60000",
        false,
    );
    assert_eq!(account.apply_fill(&fill, 2).unwrap_err().code(), -4061);
    account
        .set_position_mode(PositionMode::Hedge, false, 1)
        .unwrap();
    let fill = execution(
        "BTCUSDT",
        Side::Buy,
        PositionSide::Both,
        "1",
        "60000",
        false,
    );
    assert_eq!(account.apply_fill(&fill, 2).unwrap_err().code(), -4061);
    assert!(account.positions().next().is_none());
}

#[test]
fn a_market_participant_pays_no_commission() {
    let mut account = funded("10000");
    account.set_market_participant(true);
    let booking = trade(&mut account, "BTCUSDT", Side::Buy, "1", "60000");
    assert_eq!(booking.commission, Money::ZERO);
    assert_eq!(account.wallet_balance(), m("10000"));
}
