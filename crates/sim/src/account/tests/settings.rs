//! Settings and funds: leverage, margin type and position mode rules with their codes,
//! deposits, the registry, and the secret's redaction.

use kestrel_model::config::Secret;
use kestrel_model::order::{PositionSide, Side};
use kestrel_model::position::PositionMode;

use super::super::{AccountError, Accounts, MarginType};
use super::*;

const NO_ORDERS: &[OpenOrder<'static>] = &[];

#[test]
fn leverage_defaults_to_20_and_a_change_reports_the_notional_cap() {
    let mut account = funded("1000");
    assert_eq!(account.leverage("BTCUSDT"), 20);
    let change = account
        .set_leverage("BTCUSDT", 10, NO_ORDERS, &marks(&[]), 4)
        .unwrap();
    assert_eq!((change.leverage, change.max_notional), (10, m("80000000")));
    assert_eq!(account.leverage("BTCUSDT"), 10);
    assert_eq!(account.leverage("ETHUSDT"), 20);
    assert_eq!(account.update_time_ms(), 4);
}

#[test]
fn leverage_outside_one_to_the_symbol_maximum_is_refused_with_minus_4028() {
    let mut account = funded("1000");
    let none = marks(&[]);
    for (symbol, leverage) in [
        ("BTCUSDT", 0),
        ("BTCUSDT", 126),
        ("BTCUSDT", 200),
        ("SOLUSDT", 76),
    ] {
        let error = account
            .set_leverage(symbol, leverage, NO_ORDERS, &none, 2)
            .unwrap_err();
        assert_eq!(error.code(), -4028, "{symbol} {leverage}");
    }
    let error = account
        .set_leverage("BTCUSDT", 200, NO_ORDERS, &none, 2)
        .unwrap_err();
    assert_eq!(error.msg(), "Leverage 200 is not valid");
    assert!(
        account
            .set_leverage("SOLUSDT", 75, NO_ORDERS, &none, 2)
            .is_ok()
    );
}

#[test]
fn leverage_above_what_the_position_bracket_allows_is_refused_with_minus_2027() {
    let mut account = funded("100000");
    trade(&mut account, "BTCUSDT", Side::Buy, "1", "60000");
    let at_60000 = marks(&[("BTCUSDT", "60000")]);
    // 60,000 notional is in bracket 2 (up to 100x).
    let error = account
        .set_leverage("BTCUSDT", 125, NO_ORDERS, &at_60000, 3)
        .unwrap_err();
    assert_eq!(error.code(), -2027);
    assert_eq!(
        error.msg(),
        "Exceeded the maximum allowable position at current leverage."
    );
    assert_eq!(account.leverage("BTCUSDT"), 20);
    let change = account
        .set_leverage("BTCUSDT", 100, NO_ORDERS, &at_60000, 3)
        .unwrap();
    assert_eq!(change.max_notional, m("500000"));
    // Open orders count too: with no position, a resting 60,000 bid blocks 125x.
    let mut flat = funded("100000");
    let bid = [order("BTCUSDT", Side::Buy, "60000", "1")];
    let refused = flat.set_leverage("BTCUSDT", 125, &bid, &at_60000, 3);
    assert_eq!(refused.unwrap_err().code(), -2027);
}

#[test]
fn margin_type_changes_follow_binance_rules() {
    let mut account = funded("100000");
    assert_eq!(account.margin_type("BTCUSDT"), MarginType::Crossed);
    let same = account.set_margin_type("BTCUSDT", MarginType::Crossed, false, 2);
    assert_eq!(same.unwrap_err().code(), -4046);
    let with_orders = account.set_margin_type("BTCUSDT", MarginType::Isolated, true, 2);
    assert_eq!(with_orders.unwrap_err().code(), -4047);
    trade(&mut account, "BTCUSDT", Side::Buy, "0.1", "60000");
    let with_position = account.set_margin_type("BTCUSDT", MarginType::Isolated, false, 2);
    assert_eq!(with_position.unwrap_err().code(), -4048);
    account
        .set_margin_type("ETHUSDT", MarginType::Isolated, false, 2)
        .unwrap();
    assert_eq!(account.margin_type("ETHUSDT").report_name(), "isolated");
    assert_eq!(account.margin_type("ETHUSDT").binance_name(), "ISOLATED");
}

#[test]
fn position_mode_changes_follow_binance_rules() {
    let mut account = funded("100000");
    let same = account.set_position_mode(PositionMode::OneWay, false, 2);
    assert_eq!(same.unwrap_err().msg(), "No need to change position side.");
    let with_orders = account.set_position_mode(PositionMode::Hedge, true, 2);
    assert_eq!(with_orders.unwrap_err().code(), -4067);
    trade(&mut account, "BTCUSDT", Side::Buy, "0.1", "60000");
    let with_position = account.set_position_mode(PositionMode::Hedge, false, 2);
    assert_eq!(with_position.unwrap_err().code(), -4068);
    trade(&mut account, "BTCUSDT", Side::Sell, "0.1", "60000");
    account
        .set_position_mode(PositionMode::Hedge, false, 3)
        .unwrap();
    assert_eq!(account.position_mode(), PositionMode::Hedge);
    assert_eq!(
        account.position_sides(),
        [PositionSide::Long, PositionSide::Short]
    );
    assert!(account.positions().next().is_none());
}

#[test]
fn deposits_must_be_positive_with_at_most_8_decimals() {
    let mut account = account();
    for bad in ["0", "-1", "0.000000001"] {
        let error = account.deposit(m(bad), 5).unwrap_err();
        assert_eq!(error.code(), -1130, "{bad}");
    }
    assert_eq!(
        account.deposit(m("12.34567891"), 5).unwrap(),
        m("12.34567891")
    );
    assert_eq!(account.deposit(m("0.00000009"), 6).unwrap(), m("12.345679"));
    assert_eq!(account.update_time_ms(), 6);
}

#[test]
fn every_refusal_carries_its_binance_code_and_message() {
    let symbol = || "BTCUSDT".to_owned();
    let cases = [
        (AccountError::PositionModeOpenOrders, -4067),
        (AccountError::PositionModePosition, -4068),
        (
            AccountError::MarginTypeUnchanged { symbol: symbol() },
            -4046,
        ),
        (
            AccountError::MarginTypeOpenOrders { symbol: symbol() },
            -4047,
        ),
        (AccountError::MarginTypePosition { symbol: symbol() }, -4048),
    ];
    let messages = [
        "Position side cannot be changed if there exists open orders.",
        "Position side cannot be changed if there exists position.",
        "No need to change margin type.",
        "Margin type cannot be changed if there exists open orders.",
        "Margin type cannot be changed if there exists position.",
    ];
    for ((error, code), message) in cases.iter().zip(messages) {
        assert_eq!((error.code(), error.msg().as_str()), (*code, message));
    }
}

#[test]
fn the_api_secret_is_redacted_in_debug() {
    let account = funded("10");
    let printed = format!("{account:?}");
    assert!(!printed.contains("test-secret-value"), "{printed}");
    assert!(printed.contains("[REDACTED]"));
    assert!(printed.contains("test-key"));
    assert_eq!(account.api_secret().expose(), "test-secret-value");
}

#[test]
fn the_registry_keys_accounts_by_number_and_finds_them_by_api_key() {
    let mut accounts = Accounts::default();
    accounts.open(7, "key-7", Secret::new("s7")).unwrap();
    accounts.open(3, "key-3", Secret::new("s3")).unwrap();
    let taken_number = accounts.open(7, "key-other", Secret::new("x"));
    assert_eq!(taken_number.unwrap_err().code(), -1130);
    let taken_key = accounts.open(9, "key-3", Secret::new("x"));
    assert_eq!(taken_key.unwrap_err().code(), -1130);
    assert_eq!(accounts.number_for_api_key("key-3"), Some(3));
    assert_eq!(accounts.number_for_api_key("nope"), None);
    let numbers: Vec<u32> = accounts.iter().map(|(number, _)| number).collect();
    assert_eq!(numbers, [3, 7]);
    let account = accounts.get_mut(7).unwrap();
    account.deposit(m("5"), 1).unwrap();
    assert_eq!(accounts.get(7).unwrap().wallet_balance(), m("5"));
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts.brackets().max_leverage("BTCUSDT"), 125);
}
