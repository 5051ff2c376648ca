//! Exact decimal text → [`Price`] / [`Qty`] for the hot path.
//!
//! Binance writes every price and quantity as a plain decimal string (§3.1, §6.1) such as
//! `"61800.20"` or `"0.014"`: no sign, no exponent, at most 8 decimals. [`fast_fixed8`]
//! handles exactly that shape in a tight loop; anything else (a sign, more than 11 integer
//! digits, more than 8 decimals, garbage) goes to the model's general parser, which decides
//! and words the error. So the result is always the model's own, exact, value: this module only
//! takes a shortcut to it (checked by a property test against `Price::parse`).

use kestrel_model::{MoneyError, Price, Qty};

/// `10^(8 - n)` for `n` fractional digits.
const SCALE: [u64; 9] = [
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

/// Reads the longest `digits[.digits]` prefix of `bytes` as a raw 8-decimal integer,
/// returning it and the number of bytes read; `None` unless there are 1 to 11 integer digits,
/// 1 to 8 fractional ones after a point, and the value fits an `i64`.
#[inline]
pub(crate) fn scan_fixed8(bytes: &[u8]) -> Option<(i64, usize)> {
    let (int, int_len) = scan_digits(bytes);
    if int_len == 0 || int_len > 11 {
        return None;
    }
    let (frac, scale, len) = match bytes.get(int_len) {
        Some(b'.') => {
            let (frac, frac_len) = scan_digits(bytes.get(int_len + 1..)?);
            let scale = *SCALE.get(frac_len).filter(|_| frac_len > 0)?;
            (frac, scale, int_len + 1 + frac_len)
        }
        _ => (0, SCALE[0], int_len),
    };
    // At most 11 integer digits: int × 10⁸ < 10¹⁹ < u64::MAX, and frac × scale < 10⁸.
    let raw = i64::try_from(int * 100_000_000 + frac * scale).ok()?;
    Some((raw, len))
}

/// The value of the leading ASCII digits of `bytes` (wrapping past 19 digits; callers bound
/// the count) and how many there are.
#[inline]
fn scan_digits(bytes: &[u8]) -> (u64, usize) {
    let mut value: u64 = 0;
    for (n, &byte) in bytes.iter().enumerate() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return (value, n);
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
    }
    (value, bytes.len())
}

/// The raw 8-decimal integer of `bytes` when all of it is a plain decimal [`scan_fixed8`]
/// accepts; `None` otherwise.
#[inline]
pub(crate) fn fast_fixed8(bytes: &[u8]) -> Option<i64> {
    match scan_fixed8(bytes) {
        Some((raw, len)) if len == bytes.len() => Some(raw),
        _ => None,
    }
}

/// Parses a price exactly: the fast path for Binance's plain decimals, else `Price::parse`.
///
/// # Errors
/// `Price::parse`'s [`MoneyError`] for text that is not an exact decimal in range.
#[inline]
pub(crate) fn price(text: &str) -> Result<Price, MoneyError> {
    match fast_fixed8(text.as_bytes()) {
        Some(raw) => Ok(Price::from_raw(raw)),
        None => Price::parse(text),
    }
}

/// Parses a quantity exactly: the fast path for Binance's plain decimals, else `Qty::parse`.
///
/// # Errors
/// `Qty::parse`'s [`MoneyError`] for text that is not an exact decimal in range.
#[inline]
pub(crate) fn qty(text: &str) -> Result<Qty, MoneyError> {
    match fast_fixed8(text.as_bytes()) {
        Some(raw) => Ok(Qty::from_raw(raw)),
        None => Qty::parse(text),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn plain_binance_decimals_take_the_fast_path_exactly() {
        let cases = [
            ("61800.20", 6_180_020_000_000),
            ("0.014", 1_400_000),
            ("0.000", 0),
            ("1000000", 100_000_000_000_000),
            ("0.00000001", 1),
            ("92233720368.54775807", i64::MAX),
        ];
        for (text, raw) in cases {
            assert_eq!(fast_fixed8(text.as_bytes()), Some(raw), "{text}");
            assert_eq!(price(text), Ok(Price::from_raw(raw)), "{text}");
        }
    }

    #[test]
    fn unusual_or_malformed_text_falls_back_to_the_model_parser() {
        for text in [
            "",
            ".",
            "1.",
            ".5",
            "-1",
            "+1",
            "1e5",
            "1.000000000",
            "92233720368.54775808",
            "000000000001",
            "1,5",
            " 1",
            "1 ",
            "１",
        ] {
            assert_eq!(fast_fixed8(text.as_bytes()), None, "{text:?}");
            assert_eq!(price(text), Price::parse(text), "{text:?}");
            assert_eq!(qty(text), Qty::parse(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_model_parser_on_decimal_like_text(
            text in "[-+]?[0-9]{0,13}(\\.[0-9]{0,10})?"
        ) {
            prop_assert_eq!(price(&text), Price::parse(&text));
            prop_assert_eq!(qty(&text), Qty::parse(&text));
        }

        #[test]
        fn agrees_with_the_model_parser_on_any_text(text in "\\PC{0,24}") {
            prop_assert_eq!(price(&text), Price::parse(&text));
        }
    }
}
