//! Exact decimal text ⇄ scaled integer conversion shared by every fixed-point type.
//!
//! Parsing never goes through a float: digits are accumulated into an integer, and the
//! fractional part is scaled to the type's number of decimal places. Excess fractional digits
//! are accepted only when they are zeros (`"0.100000000"` is exactly 0.1), so no value is
//! silently rounded.

use std::fmt;

use super::MoneyError;

/// Powers of ten up to 10^38, the largest that fits in an `i128`.
pub(crate) const POW10: [u128; 39] = {
    let mut table = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// Parses `text` as a decimal number with at most `decimals` fractional digits into the
/// integer `value × 10^decimals`, rejecting anything whose magnitude exceeds `max_raw`.
///
/// Accepted: an optional sign, at least one integer digit, and optionally a `.` followed by at
/// least one digit. Rejected: exponents, spaces, thousands separators, `NaN`, empty input.
pub(crate) fn parse_scaled(
    text: &str,
    decimals: u32,
    max_raw: u128,
    type_name: &'static str,
) -> Result<i128, MoneyError> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        Some(_) => (false, bytes),
        None => return Err(MoneyError::parse(type_name, text, "empty string")),
    };
    let mut magnitude: u128 = 0;
    let mut int_digits = 0usize;
    let mut frac_digits = 0u32;
    let mut seen_point = false;
    for &byte in digits {
        match byte {
            b'0'..=b'9' => {
                let digit = u128::from(byte - b'0');
                if seen_point {
                    if frac_digits == decimals {
                        if digit != 0 {
                            return Err(MoneyError::parse(
                                type_name,
                                text,
                                too_many_decimals(decimals),
                            ));
                        }
                        continue;
                    }
                    frac_digits += 1;
                } else {
                    int_digits += 1;
                }
                magnitude = magnitude
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(digit))
                    .ok_or_else(|| MoneyError::out_of_range(type_name, text))?;
            }
            b'.' if !seen_point => seen_point = true,
            b'e' | b'E' => {
                return Err(MoneyError::parse(
                    type_name,
                    text,
                    "exponent notation is not accepted; write the digits out",
                ));
            }
            _ => return Err(MoneyError::parse(type_name, text, "not a decimal number")),
        }
    }
    if int_digits == 0 {
        return Err(MoneyError::parse(
            type_name,
            text,
            "no digits before the decimal point",
        ));
    }
    if seen_point && frac_digits == 0 && !has_digit_after_point(digits) {
        return Err(MoneyError::parse(
            type_name,
            text,
            "no digits after the decimal point",
        ));
    }
    let scaled = magnitude
        .checked_mul(POW10[(decimals - frac_digits) as usize])
        .filter(|m| *m <= max_raw)
        .ok_or_else(|| MoneyError::out_of_range(type_name, text))?;
    // `max_raw` is at most i128::MAX, so the cast cannot wrap.
    let signed = scaled as i128;
    Ok(if negative { -signed } else { signed })
}

/// Parses `text` into an 8-decimal raw `i64` (`value × 10⁸`): the hot-path twin of
/// [`parse_scaled`] for [`super::Price`], [`super::Qty`] and [`super::Rate`], accumulating in
/// `u64` without per-digit overflow checks (a bounded digit count makes overflow impossible).
/// Accepts and rejects exactly what [`parse_scaled`] does; on any doubt it defers to it so the
/// error message is the same.
pub(crate) fn parse_fixed8(text: &str, type_name: &'static str) -> Result<i64, MoneyError> {
    const MAX_INT_DIGITS: u32 = 11; // i64::MAX / 10⁸ ≈ 9.2 × 10¹⁰
    let bytes = text.as_bytes();
    let (negative, start) = match bytes.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut int_value: u64 = 0;
    let mut int_digits = 0u32;
    let mut significant = 0u32;
    let mut i = start;
    while let Some(&byte) = bytes.get(i) {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        int_value = int_value * 10 + u64::from(digit);
        int_digits += 1;
        significant += u32::from(int_value != 0);
        if significant > MAX_INT_DIGITS {
            return slow(text, type_name);
        }
        i += 1;
    }
    let mut frac_value: u64 = 0;
    let mut frac_digits = 0u32;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while let Some(&byte) = bytes.get(i) {
            let digit = byte.wrapping_sub(b'0');
            if digit > 9 || frac_digits == 8 {
                break;
            }
            frac_value = frac_value * 10 + u64::from(digit);
            frac_digits += 1;
            i += 1;
        }
        if i == frac_start {
            return slow(text, type_name);
        }
    }
    if int_digits == 0 || i != bytes.len() {
        return slow(text, type_name);
    }
    let magnitude = int_value * 100_000_000 + frac_value * POW10[(8 - frac_digits) as usize] as u64;
    let Ok(signed) = i64::try_from(magnitude) else {
        return slow(text, type_name);
    };
    Ok(if negative { -signed } else { signed })
}

/// The general parser, for inputs the fast path does not settle (and for their errors).
#[cold]
fn slow(text: &str, type_name: &'static str) -> Result<i64, MoneyError> {
    // parse_scaled bounds the magnitude by i64::MAX, so the cast cannot wrap.
    parse_scaled(text, 8, i64::MAX as u128, type_name).map(|raw| raw as i64)
}

fn too_many_decimals(decimals: u32) -> &'static str {
    match decimals {
        8 => "more than 8 decimal places",
        16 => "more than 16 decimal places",
        _ => "too many decimal places",
    }
}

fn has_digit_after_point(digits: &[u8]) -> bool {
    digits
        .iter()
        .skip_while(|b| **b != b'.')
        .skip(1)
        .any(u8::is_ascii_digit)
}

/// Writes `raw / 10^decimals` in plain decimal notation.
///
/// Without a precision the shortest exact form is written (`"67250.1"`, `"0.001"`, `"5"`).
/// With a precision (`{:.2}`) exactly that many fractional digits are written, rounding half
/// to even when digits have to be dropped. Width, fill and alignment are honoured.
pub(crate) fn write_scaled(f: &mut fmt::Formatter<'_>, raw: i128, decimals: u32) -> fmt::Result {
    let (raw, kept, pad_zeros) = match f.precision() {
        Some(p) if (p as u32) < decimals => {
            let dropped = decimals - p as u32;
            (
                round_half_even(raw, POW10[dropped as usize] as i128),
                p as u32,
                0,
            )
        }
        Some(p) => (raw, decimals, p - decimals as usize),
        None => (raw, decimals, 0),
    };
    let unit = POW10[kept as usize];
    let magnitude = raw.unsigned_abs();
    let mut frac = magnitude % unit;
    let mut frac_len = kept;
    if f.precision().is_none() {
        while frac_len > 0 && frac.is_multiple_of(10) {
            frac /= 10;
            frac_len -= 1;
        }
    }
    let mut buf = [0u8; 96];
    let mut pos = buf.len();
    for _ in 0..frac_len {
        pos -= 1;
        buf[pos] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    if frac_len > 0 || pad_zeros > 0 {
        pos -= 1;
        buf[pos] = b'.';
    }
    let mut int_left = magnitude / unit;
    loop {
        pos -= 1;
        buf[pos] = b'0' + (int_left % 10) as u8;
        int_left /= 10;
        if int_left == 0 {
            break;
        }
    }
    let digits = std::str::from_utf8(&buf[pos..]).map_err(|_| fmt::Error)?;
    if pad_zeros == 0 {
        return f.pad_integral(raw >= 0, "", digits);
    }
    let mut padded = String::with_capacity(digits.len() + pad_zeros);
    padded.push_str(digits);
    padded.extend(std::iter::repeat_n('0', pad_zeros));
    f.pad_integral(raw >= 0, "", &padded)
}

/// Divides `raw` by `unit` rounding half to even, returning the quotient (in units of `unit`).
pub(crate) fn round_half_even(raw: i128, unit: i128) -> i128 {
    let quotient = raw.div_euclid(unit);
    let remainder = raw.rem_euclid(unit);
    let twice = remainder * 2;
    if twice > unit || (twice == unit && quotient % 2 != 0) {
        quotient + 1
    } else {
        quotient
    }
}
