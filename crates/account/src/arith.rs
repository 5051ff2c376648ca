//! Arithmetic for reported figures: percentages of money amounts as [`Rate`]s (a number of
//! percent, as the configuration's `_pct` values are), exact to 10⁻⁸ percent, truncated toward
//! zero; and saturating sums and differences for figures that are shown, never booked.
//!
//! Booked amounts (wallet balances, realized P&L, fees) use checked arithmetic and refuse an
//! overflow; a report saturates instead, so a view can always be built. Neither happens below
//! 10²² USDT.

use kestrel_model::{Money, Rate};

/// `Rate` raw units in 100 %: 100 × 10⁸.
const HUNDRED_PERCENT_RAW: i128 = 100 * 100_000_000;

/// `part / whole × 100`, truncated toward zero at 10⁻⁸; `None` when `whole` is zero or the
/// result does not fit a [`Rate`].
#[must_use]
pub(crate) fn percent(part: Money, whole: Money) -> Option<Rate> {
    if whole.is_zero() {
        return None;
    }
    let scaled = part.raw().checked_mul(HUNDRED_PERCENT_RAW)?;
    let raw = scaled.checked_div(whole.raw())?;
    i64::try_from(raw)
        .ok()
        .filter(|r| *r != i64::MIN)
        .map(Rate::from_raw)
}

/// `a + b`, saturating at [`Money::MAX`] / [`Money::MIN`].
#[must_use]
pub(crate) fn add(a: Money, b: Money) -> Money {
    a.try_add(b).unwrap_or(if b.is_negative() {
        Money::MIN
    } else {
        Money::MAX
    })
}

/// `a − b`, saturating at [`Money::MAX`] / [`Money::MIN`].
#[must_use]
pub(crate) fn sub(a: Money, b: Money) -> Money {
    add(a, b.neg())
}

/// The saturating sum of `amounts`.
pub(crate) fn sum(amounts: impl IntoIterator<Item = Money>) -> Money {
    amounts.into_iter().fold(Money::ZERO, add)
}

/// How far `local` is from `venue`, in percent of `venue` (100 % when the venue holds zero
/// and the local value does not; 0 % when both are zero).
#[must_use]
pub(crate) fn difference_percent(local: Money, venue: Money) -> Rate {
    let Ok(difference) = local.try_sub(venue) else {
        return Rate::MAX;
    };
    if difference.is_zero() {
        return Rate::ZERO;
    }
    percent(difference.abs(), venue.abs()).unwrap_or(Rate::from_raw(100 * 100_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    #[test]
    fn percent_is_exact_and_truncates_toward_zero() {
        assert_eq!(
            percent(money("5"), money("200")),
            Some(Rate::parse("2.5").unwrap())
        );
        // 1/3 = 33.333333333...%: truncated at the eighth decimal.
        assert_eq!(
            percent(money("1"), money("3")),
            Some(Rate::parse("33.33333333").unwrap())
        );
        assert_eq!(
            percent(money("-1"), money("3")),
            Some(Rate::parse("-33.33333333").unwrap())
        );
        assert_eq!(percent(money("1"), Money::ZERO), None);
    }

    #[test]
    fn difference_percent_is_relative_to_the_venue() {
        assert_eq!(
            difference_percent(money("0.009"), money("0.01")),
            Rate::parse("10").unwrap()
        );
        assert_eq!(
            difference_percent(money("0.01"), Money::ZERO),
            Rate::parse("100").unwrap()
        );
        assert_eq!(difference_percent(Money::ZERO, Money::ZERO), Rate::ZERO);
    }
}
