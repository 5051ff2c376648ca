//! The model's exact money text (`kestrel_model::money`): `Price`, `Qty` and `Rate` (8
//! decimals, `i64`) and `Money` (16 decimals, `i128`).

use std::fmt::{Debug, Display};

use kestrel_model::{Money, MoneyError, Price, Qty, Rate, RoundingMode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{shown, text};

/// `parse` on the input as text and the display of the input's first bytes as raw values:
/// whatever parses displays as text that parses back to it exactly (and through serde);
/// `Price`, `Qty` and `Rate` accept the same texts with the same values; the 8-decimal parser
/// accepts exactly the texts the 16-decimal one reads as a value with at most 8 decimals in
/// the `i64` range; a display at `N` decimals is the value rounded half to even.
pub fn money_parse(data: &[u8]) {
    if let Some(text) = text(data) {
        let price = round_trip(text, Price::parse);
        let qty = round_trip(text, Qty::parse);
        let rate = round_trip(text, Rate::parse);
        let money = round_trip(text, Money::parse);
        let raw = price.as_ref().map(|p| p.raw()).ok();
        assert_eq!(
            raw,
            qty.as_ref().map(|q| q.raw()).ok(),
            "qty of {}",
            shown(text)
        );
        assert_eq!(
            raw,
            rate.as_ref().map(|r| r.raw()).ok(),
            "rate of {}",
            shown(text)
        );
        match (&price, &money) {
            (Ok(price), money) => {
                assert_eq!(money, &Ok(price.to_money()), "money of {}", shown(text));
            }
            (Err(error), Ok(money)) => assert!(
                !fits_fixed8(*money),
                "price refuses {} ({error}), which money reads as {money}",
                shown(text)
            ),
            (Err(_), Err(_)) => {}
        }
    }
    if let Some(bytes) = data.first_chunk::<8>() {
        let raw = i64::from_le_bytes(*bytes);
        // `i64::MIN` is outside the types' range (`MIN` is `-MAX`); `from_raw` does not check.
        if raw != i64::MIN {
            let price = Price::from_raw(raw);
            assert_eq!(Price::parse(&price.to_string()), Ok(price));
            rounded_displays(price);
        }
    }
    if let Some(bytes) = data.first_chunk::<16>() {
        let raw = i128::from_le_bytes(*bytes);
        if raw != i128::MIN {
            let money = Money::from_raw(raw);
            assert_eq!(Money::parse(&money.to_string()), Ok(money));
        }
    }
}

/// Parses `text`; when it parses, its display (plain and through serde) parses back to it.
fn round_trip<T>(text: &str, parse: fn(&str) -> Result<T, MoneyError>) -> Result<T, MoneyError>
where
    T: Copy + PartialEq + Debug + Display + Serialize + DeserializeOwned,
{
    let parsed = parse(text);
    if let Ok(value) = parsed {
        let shown_value = value.to_string();
        assert_eq!(
            parse(&shown_value),
            Ok(value),
            "{} parses, but its display {shown_value:?} does not parse back",
            shown(text)
        );
        let json = serde_json::to_string(&value).expect("money serialises");
        let back: T = serde_json::from_str(&json).expect("money deserialises");
        assert_eq!(back, value, "through serde as {json}");
    }
    parsed
}

/// Whether `money` is a value [`Price`] can hold: at most 8 decimals, within `±MAX`.
fn fits_fixed8(money: Money) -> bool {
    let scale = 100_000_000_i128;
    let raw = money.raw();
    raw % scale == 0 && (raw / scale).unsigned_abs() <= i64::MAX.unsigned_abs().into()
}

/// `{:.N}` for `N` below 8 writes the value rounded half to even to `N` decimals, which is
/// what `round_to_step` with a step of `10⁻ᴺ` gives.
fn rounded_displays(price: Price) {
    let mut step = 1_i64;
    for decimals in (0..8).rev() {
        step *= 10;
        let shown_value = format!("{price:.decimals$}");
        let expected =
            price.round_to_step(Price::from_raw(step), Price::ZERO, RoundingMode::HalfEven);
        if let Ok(expected) = expected {
            assert_eq!(
                Price::parse(&shown_value),
                Ok(expected),
                "{price:?} at {decimals} decimals displays as {shown_value}"
            );
        }
    }
}
