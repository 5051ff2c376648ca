//! Serde adapters for the irregular encodings of Binance's execution messages
//! (`../shared/binance-futures.md` §3.1, §3.4, §8): prices the venue computes (averages,
//! entry and liquidation prices) that may carry more than 8 decimals, numbers sent as strings
//! (`actualOrderId`, `er`), and empty strings meaning "absent" (`callbackRate`).
//!
//! Every decimal is parsed exactly from its text; computed prices are rounded half to even to
//! the 8 decimals of [`Price`], never through a float.

use kestrel_model::money::FIXED_ONE;
use kestrel_model::{Money, Price, Qty, Rate, RoundingMode};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A price computed by the venue (average fill, entry, break-even, liquidation, mark price):
/// exact when it has up to 8 decimals, else rounded half to even to 8.
///
/// # Errors
/// When the text is not a decimal number or is out of range.
pub fn computed_price<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Price, D::Error> {
    let text = DecimalText::deserialize(deserializer)?.0;
    parse_computed_price(&text).map_err(de::Error::custom)
}

/// [`computed_price`] for an optional field.
///
/// # Errors
/// As [`computed_price`].
pub fn opt_computed_price<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Price>, D::Error> {
    let text: Option<DecimalText> = Option::deserialize(deserializer)?;
    text.map(|t| parse_computed_price(&t.0).map_err(de::Error::custom))
        .transpose()
}

/// Parses a computed price exactly, rounding past the 8th decimal half to even.
///
/// # Errors
/// The money parser's refusal, as text.
pub fn parse_computed_price(text: &str) -> Result<Price, String> {
    if let Ok(price) = Price::parse(text) {
        return Ok(price);
    }
    let money = Money::parse(text).map_err(|e| e.to_string())?;
    money
        .try_div_qty(Qty::from_raw(FIXED_ONE), RoundingMode::HalfEven)
        .map_err(|e| e.to_string())
}

/// An optional price where `""`, `"0"` and absence all mean "not set" (`activatePrice`,
/// `actualPrice` of algo orders).
///
/// # Errors
/// When the text is neither empty nor a decimal price.
pub fn opt_nonzero_price<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Price>, D::Error> {
    let text: Option<DecimalText> = Option::deserialize(deserializer)?;
    match text {
        Some(DecimalText(t)) if !t.is_empty() => {
            let price = parse_computed_price(&t).map_err(de::Error::custom)?;
            Ok(Some(price).filter(|p| !p.is_zero()))
        }
        _ => Ok(None),
    }
}

/// An optional rate where `""`, `"0"` and absence mean "not set" (`callbackRate`, `cr`).
///
/// # Errors
/// When the text is neither empty nor a decimal rate.
pub fn opt_nonzero_rate<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Rate>, D::Error> {
    let text: Option<DecimalText> = Option::deserialize(deserializer)?;
    match text {
        Some(DecimalText(t)) if !t.is_empty() => {
            let rate = Rate::parse(&t).map_err(de::Error::custom)?;
            Ok(Some(rate).filter(|r| !r.is_zero()))
        }
        _ => Ok(None),
    }
}

/// An optional integer sent as a number, a digit string, `""` or `null` (`actualOrderId`,
/// `ai`, `triggerTime`); zero and empty mean "not set".
///
/// # Errors
/// When the value is text that is not digits.
pub fn opt_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let value: Option<IntOrText> = Option::deserialize(deserializer)?;
    Ok(value.and_then(|v| v.0).filter(|n| *n != 0))
}

/// An integer sent as a number or a digit string (`er`, `code`).
///
/// # Errors
/// When the value is neither.
pub fn int_or_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let value = IntOrText::deserialize(deserializer)?;
    value
        .0
        .and_then(|n| i64::try_from(n).ok())
        .or(value.1)
        .ok_or_else(|| de::Error::custom("an integer, as a number or a digit string"))
}

/// The text of a decimal sent as a JSON string (or, leniently, as a JSON integer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecimalText(pub String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = DecimalText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal as a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// An integer as a JSON number or digit string: `(unsigned value, signed value)`; `None`
/// for an empty string.
struct IntOrText(Option<u64>, Option<i64>);

impl<'de> Deserialize<'de> for IntOrText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = IntOrText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer as a number or a digit string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrText, E> {
                Ok(IntOrText(Some(v), i64::try_from(v).ok()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrText, E> {
                Ok(IntOrText(u64::try_from(v).ok(), Some(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrText, E> {
                if v.is_empty() {
                    return Ok(IntOrText(None, None));
                }
                let signed = v.parse::<i64>().map_err(|_| E::custom("not an integer"))?;
                Ok(IntOrText(u64::try_from(signed).ok(), Some(signed)))
            }
        }
        deserializer.deserialize_any(IntVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    struct Row {
        #[serde(deserialize_with = "computed_price")]
        avg: Price,
        #[serde(default, deserialize_with = "opt_nonzero_rate")]
        rate: Option<Rate>,
        #[serde(default, deserialize_with = "opt_id")]
        id: Option<u64>,
        #[serde(deserialize_with = "int_or_text")]
        code: i64,
    }

    #[test]
    fn computed_prices_round_half_even_past_eight_decimals() {
        let row: Row =
            serde_json::from_str(r#"{"avg":"29345.123456785","rate":"","id":"","code":"200"}"#)
                .unwrap();
        assert_eq!(row.avg, Price::parse("29345.12345678").unwrap());
        assert_eq!((row.rate, row.id, row.code), (None, None, 200));
        let row: Row =
            serde_json::from_str(r#"{"avg":"1.000000015","rate":"0.3","id":"17","code":-2011}"#)
                .unwrap();
        assert_eq!(row.avg, Price::parse("1.00000002").unwrap());
        assert_eq!(row.rate, Some(Rate::parse("0.3").unwrap()));
        assert_eq!((row.id, row.code), (Some(17), -2011));
    }

    #[test]
    fn computed_prices_refuse_garbage() {
        assert!(serde_json::from_str::<Row>(r#"{"avg":"1e5","code":0}"#).is_err());
        assert!(serde_json::from_str::<Row>(r#"{"avg":1.5,"code":0}"#).is_err());
    }
}
