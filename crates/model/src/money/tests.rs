use proptest::prelude::*;

use super::decimal;
use super::*;

fn price(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

#[test]
fn parses_binance_price_strings_exactly() {
    assert_eq!(price("67250.10").raw(), 6_725_010_000_000);
    assert_eq!(price("0.00100000").raw(), 100_000);
    assert_eq!(price("-0.5").raw(), -50_000_000);
    assert_eq!(price("+7").raw(), 700_000_000);
    assert_eq!(price("0.00000001"), Price::EPSILON);
}

#[test]
fn formats_shortest_exact_form() {
    assert_eq!(price("67250.10").to_string(), "67250.1");
    assert_eq!(price("5.000").to_string(), "5");
    assert_eq!(price("-0.00012").to_string(), "-0.00012");
    assert_eq!(Price::ZERO.to_string(), "0");
    assert_eq!(Price::MAX.to_string(), "92233720368.54775807");
}

#[test]
fn precision_pads_or_rounds_half_even() {
    assert_eq!(format!("{:.2}", price("67250.1")), "67250.10");
    assert_eq!(format!("{:.1}", price("0.25")), "0.2");
    assert_eq!(format!("{:.1}", price("0.35")), "0.4");
    assert_eq!(format!("{:.1}", price("-0.35")), "-0.4");
    assert_eq!(format!("{:.10}", price("1.5")), "1.5000000000");
    assert_eq!(format!("{:>8}", price("1.5")), "     1.5");
    assert_eq!(
        format!("{:.8}", Money::parse("12.3").unwrap()),
        "12.30000000"
    );
}

#[test]
fn rejects_inexact_or_malformed_text_with_a_reason() {
    let too_fine = Price::parse("0.000000001").unwrap_err();
    assert!(
        too_fine.to_string().contains("more than 8 decimal places"),
        "{too_fine}"
    );
    // Extra decimals that are zeros lose nothing and are accepted.
    assert_eq!(price("0.1000000000"), price("0.1"));
    for bad in [
        "", "-", "1.2.3", "1e5", " 1", "1,000", "NaN", ".5", "5.", "0x10", "١",
    ] {
        assert!(Price::parse(bad).is_err(), "{bad:?} should be rejected");
    }
    let exp = Qty::parse("1e-3").unwrap_err().to_string();
    assert!(exp.contains("exponent"), "{exp}");
}

#[test]
fn out_of_range_is_an_error_not_a_wrap() {
    assert!(matches!(
        Price::parse("92233720368.54775808"),
        Err(MoneyError::OutOfRange { .. })
    ));
    assert!(matches!(
        Qty::parse("1000000000000"),
        Err(MoneyError::OutOfRange { .. })
    ));
    assert!(matches!(
        Qty::parse("99999999999999999999999999999999"),
        Err(MoneyError::OutOfRange { .. })
    ));
    assert_eq!(Price::parse("-92233720368.54775807").unwrap(), Price::MIN);
    assert!(Price::MAX.try_add(Price::EPSILON).is_err());
    assert!(Price::MIN.try_sub(Price::EPSILON).is_err());
    assert!(Qty::MAX.try_mul_int(2).is_err());
    assert!(Money::MAX.try_add(Money::from_raw(1)).is_err());
}

#[test]
fn notional_is_exact_for_extreme_values() {
    let n = Price::MAX.notional(Qty::MAX);
    assert_eq!(n.raw(), i128::from(i64::MAX) * i128::from(i64::MAX));
    assert_eq!(
        price("67250.1").notional(qty("0.001")).to_string(),
        "67.2501"
    );
    assert_eq!(
        price("0.00000001").notional(qty("0.00000001")).to_string(),
        "0.0000000000000001"
    );
}

#[test]
fn money_divisions_round_as_asked() {
    let cost = Money::parse("100").unwrap();
    let three = qty("3");
    assert_eq!(
        cost.try_div_qty(three, RoundingMode::Floor).unwrap(),
        price("33.33333333")
    );
    assert_eq!(
        cost.try_div_qty(three, RoundingMode::Ceil).unwrap(),
        price("33.33333334")
    );
    assert!(cost.try_div_qty(Qty::ZERO, RoundingMode::Floor).is_err());
    assert_eq!(
        cost.try_div_price(price("3"), RoundingMode::Ceil).unwrap(),
        qty("33.33333334")
    );
    assert_eq!(
        cost.try_div_price(price("-4"), RoundingMode::Floor)
            .unwrap(),
        qty("-25")
    );
    assert!(
        cost.try_div_price(Price::ZERO, RoundingMode::Floor)
            .is_err()
    );
    let share = cost
        .try_mul_div(qty("1"), three, RoundingMode::TowardZero)
        .unwrap();
    assert_eq!(share.to_string(), "33.3333333333333333");
    let fee = price("50000")
        .notional(qty("0.002"))
        .try_mul_rate(Rate::parse("0.0004").unwrap(), RoundingMode::HalfEven);
    assert_eq!(fee.unwrap().to_string(), "0.04");
    assert_eq!(
        Money::parse("1.234567895")
            .unwrap()
            .round_dp(8, RoundingMode::HalfEven)
            .to_string(),
        "1.2345679"
    );
}

#[test]
fn rounding_to_step_respects_direction_and_origin() {
    let tick = price("0.1");
    let p = price("100.25");
    assert_eq!(
        p.round_to_step(tick, Price::ZERO, RoundingMode::Floor)
            .unwrap(),
        price("100.2")
    );
    assert_eq!(
        p.round_to_step(tick, Price::ZERO, RoundingMode::Ceil)
            .unwrap(),
        price("100.3")
    );
    assert_eq!(
        p.round_to_step(tick, Price::ZERO, RoundingMode::HalfEven)
            .unwrap(),
        price("100.2")
    );
    // A grid that starts at a non-multiple of the step.
    let origin = price("0.05");
    assert_eq!(
        p.round_to_step(tick, origin, RoundingMode::Floor).unwrap(),
        price("100.25")
    );
    assert!(price("100.25").is_on_step(tick, origin));
    assert!(!price("100.25").is_on_step(tick, Price::ZERO));
    assert_eq!(
        p.round_to_step(Price::ZERO, Price::ZERO, RoundingMode::Floor)
            .unwrap(),
        p
    );
}

#[test]
fn serde_uses_strings_and_refuses_floats() {
    let json = serde_json::to_string(&price("67250.1")).unwrap();
    assert_eq!(json, "\"67250.1\"");
    assert_eq!(
        serde_json::from_str::<Price>("\"0.001\"").unwrap(),
        price("0.001")
    );
    assert_eq!(serde_json::from_str::<Qty>("3").unwrap(), qty("3"));
    let err = serde_json::from_str::<Price>("0.1")
        .unwrap_err()
        .to_string();
    assert!(err.contains("must be written as a string"), "{err}");
    assert_eq!(
        serde_json::from_str::<Money>("\"-12.5\"").unwrap(),
        Money::parse("-12.5").unwrap()
    );
}

#[test]
fn decimal_places_counts_significant_fraction_digits() {
    assert_eq!(price("0.0010").decimal_places(), 3);
    assert_eq!(price("5").decimal_places(), 0);
    assert_eq!(price("0.00000001").decimal_places(), 8);
}

fn decimal_text() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        0u64..92_233_720_368,
        0u32..=8,
        0u64..100_000_000,
    )
        .prop_map(|(negative, int_part, places, frac)| {
            let sign = if negative { "-" } else { "" };
            if places == 0 {
                return format!("{sign}{int_part}");
            }
            let frac = frac % 10u64.pow(places);
            format!("{sign}{int_part}.{frac:0width$}", width = places as usize)
        })
}

proptest! {
    #[test]
    fn parse_format_round_trips(raw in -i64::MAX..=i64::MAX) {
        let value = Price::from_raw(raw);
        prop_assert_eq!(Price::parse(&value.to_string()).unwrap(), value);
        prop_assert_eq!(Qty::parse(&format!("{:.8}", Qty::from_raw(raw))).unwrap().raw(), raw);
    }

    #[test]
    fn parsing_agrees_with_the_written_digits(text in decimal_text()) {
        let value = Price::parse(&text).unwrap();
        let reparsed = Price::parse(&value.to_string()).unwrap();
        prop_assert_eq!(value, reparsed);
        // Compare against a digit-by-digit reading of the same text.
        let negative = text.starts_with('-');
        let body = text.trim_start_matches('-');
        let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
        let expected = int_part.parse::<i128>().unwrap() * 100_000_000
            + format!("{frac_part:0<8}").parse::<i128>().unwrap();
        prop_assert_eq!(i128::from(value.raw()), if negative { -expected } else { expected });
    }

    #[test]
    fn money_round_trips(raw in any::<i128>().prop_filter("MIN has no negation", |r| *r != i128::MIN)) {
        let value = Money::from_raw(raw);
        prop_assert_eq!(Money::parse(&value.to_string()).unwrap(), value);
    }

    #[test]
    fn checked_add_matches_wide_arithmetic(a in any::<i64>(), b in any::<i64>()) {
        let wide = i128::from(a) + i128::from(b);
        let fits = wide > i128::from(i64::MIN) && wide <= i128::from(i64::MAX);
        match Qty::from_raw(a).try_add(Qty::from_raw(b)) {
            Ok(sum) => { prop_assert!(fits); prop_assert_eq!(i128::from(sum.raw()), wide); }
            Err(_) => prop_assert!(!fits),
        }
    }

    #[test]
    fn rounding_lands_on_the_grid_in_the_right_direction(
        raw in -1_000_000_000_000i64..1_000_000_000_000,
        step in 1i64..10_000_000,
    ) {
        let value = Price::from_raw(raw);
        let step = Price::from_raw(step);
        let down = value.round_to_step(step, Price::ZERO, RoundingMode::Floor).unwrap();
        let up = value.round_to_step(step, Price::ZERO, RoundingMode::Ceil).unwrap();
        let near = value.round_to_step(step, Price::ZERO, RoundingMode::HalfEven).unwrap();
        prop_assert!(down.is_on_step(step, Price::ZERO) && up.is_on_step(step, Price::ZERO));
        prop_assert!(down <= value && value <= up);
        prop_assert!(up.raw() - down.raw() <= step.raw());
        prop_assert!(near == down || near == up);
        prop_assert!((near.raw() - raw).abs() * 2 <= step.raw());
    }
}

proptest! {
    /// The hot-path parser and the general one accept the same texts with the same values and
    /// reject the same texts with the same errors.
    #[test]
    fn fast_parser_agrees_with_the_general_one(text in "[-+]?[0-9]{0,13}(\\.[0-9]{0,11})?[0-9eE.]?") {
        let fast = decimal::parse_fixed8(&text, "price");
        let general = decimal::parse_scaled(&text, 8, i64::MAX as u128, "price").map(|raw| raw as i64);
        prop_assert_eq!(fast, general);
    }
}
