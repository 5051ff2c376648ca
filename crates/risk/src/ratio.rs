//! Ratios of money amounts (drawdown percentages, leverage) compared exactly.
//!
//! A limit such as "drawdown ≥ 5 %" is decided by cross-multiplying the raw integers —
//! `part × scale × 10⁸` against `limit × whole` — so no division and no rounding ever decides
//! a refusal. The ratio itself is only computed for display, truncated toward zero at 10⁻⁸.

use std::cmp::Ordering;

use kestrel_model::money::FIXED_ONE;
use kestrel_model::{Money, Rate};

/// Multiply a fraction by this to get a percentage.
pub(crate) const PERCENT: i128 = 100;
/// A plain ratio (leverage).
pub(crate) const TIMES: i128 = 1;

/// How `part / whole × scale` compares with `limit`. `None` when `whole` is not positive
/// (the ratio is undefined) or the cross product does not fit.
pub(crate) fn compare(part: Money, whole: Money, scale: i128, limit: Rate) -> Option<Ordering> {
    if !whole.is_positive() {
        return None;
    }
    let lhs = part
        .raw()
        .checked_mul(scale)?
        .checked_mul(i128::from(FIXED_ONE))?;
    let rhs = i128::from(limit.raw()).checked_mul(whole.raw())?;
    Some(lhs.cmp(&rhs))
}

/// `part / whole × scale` as a [`Rate`], truncated toward zero (display only). `None` when
/// `whole` is not positive or the result does not fit.
pub(crate) fn ratio(part: Money, whole: Money, scale: i128) -> Option<Rate> {
    if !whole.is_positive() {
        return None;
    }
    let scaled = part
        .raw()
        .checked_mul(scale)?
        .checked_mul(i128::from(FIXED_ONE))?;
    i64::try_from(scaled / whole.raw())
        .ok()
        .filter(|raw| *raw != i64::MIN)
        .map(Rate::from_raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usdt(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    #[test]
    fn exactly_at_the_limit_compares_equal_without_rounding() {
        let limit = Rate::parse("5").unwrap();
        assert_eq!(
            compare(usdt("500"), usdt("10000"), PERCENT, limit),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(usdt("499.9999999999999999"), usdt("10000"), PERCENT, limit),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn a_non_positive_whole_has_no_ratio() {
        assert_eq!(compare(usdt("1"), Money::ZERO, TIMES, Rate::ONE), None);
        assert_eq!(ratio(usdt("1"), usdt("-5"), TIMES), None);
    }

    #[test]
    fn display_ratio_truncates_toward_zero() {
        assert_eq!(
            ratio(usdt("1"), usdt("3"), PERCENT),
            Some(Rate::parse("33.33333333").unwrap())
        );
        assert_eq!(
            ratio(usdt("30000"), usdt("10000"), TIMES),
            Some(Rate::parse("3").unwrap())
        );
    }
}
