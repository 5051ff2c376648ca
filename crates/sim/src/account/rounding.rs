//! The account's rounding rules, in one place (see the module docs for which rule applies to
//! which figure).
//!
//! Every amount the account books or reports sits on the 10⁻⁸ grid, Binance's eight reported
//! decimals. Each figure is computed from exact inputs and rounded **once**: these helpers fold
//! the product or quotient and the rounding into a single step, so there is no double rounding.

use kestrel_model::money::{Money, MoneyError, Qty, Rate, RoundingMode};

/// Decimal places of every amount the account books or reports.
pub const AMOUNT_DECIMALS: u32 = 8;

/// `Money` raw units in one 10⁻⁸ step (10¹⁶ / 10⁸).
const RAW_PER_STEP: i128 = 100_000_000;

/// 10¹⁶ as a `Qty` raw: the divisor that moves one rounding from 10⁻¹⁶ to 10⁻⁸ (see below).
const TO_STEPS: i64 = 10_000_000_000_000_000;

/// Rounds an exact amount to 10⁻⁸.
#[must_use]
pub fn round_amount(amount: Money, mode: RoundingMode) -> Money {
    amount.round_dp(AMOUNT_DECIMALS, mode)
}

/// `amount × rate`, rounded once to 10⁻⁸ with `mode`.
///
/// # Errors
/// [`MoneyError::Overflow`] for magnitudes far beyond any account.
pub fn mul_rate(amount: Money, rate: Rate, mode: RoundingMode) -> Result<Money, MoneyError> {
    // `try_mul_div` computes `amount × n / d` with one rounding at 10⁻¹⁶. With n = the rate's
    // raw (rate × 10⁸) and d = 10¹⁶ the quotient is `amount × rate` counted in steps of 10⁻⁸,
    // so that single rounding happens at 10⁻⁸.
    let steps = amount.try_mul_div(Qty::from_raw(rate.raw()), Qty::from_raw(TO_STEPS), mode)?;
    from_steps(steps)
}

/// `amount / divisor` (a leverage), rounded once to 10⁻⁸ with `mode`.
///
/// # Errors
/// [`MoneyError::DivisionByZero`] for a zero divisor; [`MoneyError::Overflow`] for absurd
/// magnitudes.
pub fn div_int(amount: Money, divisor: u32, mode: RoundingMode) -> Result<Money, MoneyError> {
    // As in `mul_rate`: dividing by divisor × 10⁸ (as raws) yields steps of 10⁻⁸.
    let denominator = i64::from(divisor)
        .checked_mul(100_000_000)
        .ok_or(overflow("div_int"))?;
    let steps = amount.try_mul_div(Qty::from_raw(1), Qty::from_raw(denominator), mode)?;
    from_steps(steps)
}

/// Whether `amount` has no digits beyond the eighth decimal.
#[must_use]
pub fn is_on_grid(amount: Money) -> bool {
    amount.raw() % RAW_PER_STEP == 0
}

/// A count of 10⁻⁸ steps (held in a `Money` raw) back as an amount.
fn from_steps(steps: Money) -> Result<Money, MoneyError> {
    steps
        .raw()
        .checked_mul(RAW_PER_STEP)
        .map(Money::from_raw)
        .ok_or(overflow("round_to_8dp"))
}

const fn overflow(operation: &'static str) -> MoneyError {
    MoneyError::Overflow {
        type_name: "money",
        operation,
    }
}
