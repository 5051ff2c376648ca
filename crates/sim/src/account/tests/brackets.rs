//! Leverage brackets: the default schedules, `cum`, bracket lookup and caps by leverage.

use super::super::brackets::{BracketTier, Brackets, schedule};
use super::*;

#[test]
fn btcusdt_defaults_follow_binance_with_derived_cum() {
    let brackets = Brackets::binance_defaults();
    let btc = brackets.for_symbol("BTCUSDT");
    assert_eq!(btc.len(), 10);
    let first = btc[0];
    assert_eq!(
        (first.bracket, first.initial_leverage, first.notional_floor),
        (1, 125, Money::ZERO)
    );
    assert_eq!(
        (first.notional_cap, first.maint_margin_ratio, first.cum),
        (m("50000"), r("0.004"), Money::ZERO)
    );
    // cum_i = cum_(i-1) + floor_i × (MMR_i − MMR_(i-1)): 50,000 × 0.001 = 50, and so on.
    let cums: Vec<Money> = btc.iter().map(|b| b.cum).collect();
    let expected = [
        "0",
        "50",
        "2550",
        "122550",
        "1372550",
        "5372550",
        "7872550",
        "10872550",
        "30872550",
        "105872550",
    ];
    assert_eq!(cums, expected.map(m).to_vec());
    assert_eq!(btc[1].notional_floor, m("50000"));
    assert_eq!(btc[9].initial_leverage, 1);
}

#[test]
fn eth_sol_and_generic_defaults_have_their_first_tiers() {
    let brackets = Brackets::binance_defaults();
    let eth = brackets.for_symbol("ETHUSDT");
    assert_eq!((eth[0].initial_leverage, eth[2].cum), (125, m("800")));
    let sol = brackets.for_symbol("SOLUSDT");
    assert_eq!(
        (sol[0].initial_leverage, sol[0].notional_cap),
        (75, m("5000"))
    );
    assert_eq!(sol[1].cum, m("25"));
    let other = brackets.for_symbol("DOGEUSDT");
    assert_eq!((other[0].initial_leverage, other[1].cum), (50, m("75")));
    let symbols: Vec<&str> = brackets.symbols().collect();
    assert_eq!(symbols, ["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
}

#[test]
fn maintenance_margin_is_continuous_at_every_bracket_boundary() {
    let brackets = Brackets::binance_defaults();
    for symbol in ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ANYUSDT"] {
        for pair in brackets.for_symbol(symbol).windows(2) {
            let boundary = pair[0].notional_cap;
            assert_eq!(
                pair[0].maint_margin(boundary).unwrap(),
                pair[1].maint_margin(boundary).unwrap(),
                "{symbol} bracket {}",
                pair[1].bracket
            );
        }
    }
}

#[test]
fn a_notional_belongs_to_the_first_bracket_whose_cap_it_does_not_exceed() {
    let brackets = Brackets::binance_defaults();
    let bracket = |notional: &str| brackets.bracket_for("BTCUSDT", m(notional)).bracket;
    assert_eq!(bracket("0"), 1);
    assert_eq!(bracket("50000"), 1);
    assert_eq!(bracket("50000.00000001"), 2);
    assert_eq!(bracket("-60000"), 2);
    assert_eq!(bracket("999999999999"), 10);
}

#[test]
fn the_notional_cap_falls_as_leverage_rises() {
    let brackets = Brackets::binance_defaults();
    let cap = |leverage| brackets.max_notional("BTCUSDT", leverage);
    assert_eq!(cap(125), Some(m("50000")));
    assert_eq!(cap(101), Some(m("50000")));
    assert_eq!(cap(100), Some(m("500000")));
    assert_eq!(cap(20), Some(m("50000000")));
    assert_eq!(cap(1), Some(m("500000000")));
    assert_eq!(cap(126), None);
    assert_eq!(brackets.max_leverage("BTCUSDT"), 125);
    assert_eq!(brackets.max_leverage("SOLUSDT"), 75);
}

#[test]
fn schedules_that_break_the_bracket_rules_are_refused() {
    let tier = |cap, leverage, mmr: &str| BracketTier {
        notional_cap: cap,
        max_leverage: leverage,
        maint_margin_ratio: r(mmr),
    };
    assert_eq!(schedule(&[]).unwrap_err().code(), -1130);
    let falling_cap = [tier(1000, 20, "0.01"), tier(1000, 10, "0.02")];
    assert_eq!(schedule(&falling_cap).unwrap_err().code(), -1130);
    let rising_leverage = [tier(1000, 10, "0.01"), tier(2000, 20, "0.02")];
    assert!(schedule(&rising_leverage).is_err());
    let born_liquidated = [tier(1000, 100, "0.01")];
    assert!(schedule(&born_liquidated).is_err());
    let too_much_leverage = [tier(1000, 126, "0.001")];
    assert!(schedule(&too_much_leverage).is_err());
    let good = [tier(1000, 20, "0.01"), tier(5000, 10, "0.02")];
    let built = schedule(&good).unwrap();
    assert_eq!(
        (built[1].notional_floor, built[1].cum),
        (m("1000"), m("10"))
    );
    let mut brackets = Brackets::with_fallback(&good).unwrap();
    brackets.insert("BTCUSDT", &good).unwrap();
    assert_eq!(brackets.max_leverage("XYZUSDT"), 20);
}
