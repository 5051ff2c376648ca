//! Stress tests (seed 003 Risk Engine): shock every price by the same percentage and report
//! the P&L, position by position.
//!
//! Arithmetic: a shock of `s` % is the fraction `s / 100`, exact when `s` has at most six
//! decimals (otherwise it is refused). A position's P&L is `qty × mark × s / 100`: the
//! notional `qty × mark` is exact, and the product with the fraction is rounded half-even at
//! 10⁻¹⁶ USDT — the only rounding. The shocked price is shown rounded half-even at 10⁻⁸.

use kestrel_model::{Money, Price, Qty, Rate, RoundingMode};
use serde::{Deserialize, Serialize};

use crate::error::AnalysisError;

/// A position to shock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StressPosition {
    /// The symbol.
    pub symbol: String,
    /// Signed quantity (long > 0).
    pub qty: Qty,
    /// The price the shock applies to (the mark).
    pub mark: Price,
}

/// One position's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StressLine {
    /// The symbol.
    pub symbol: String,
    /// Signed quantity.
    pub qty: Qty,
    /// The price before the shock.
    pub mark: Price,
    /// The price after it.
    pub shocked: Price,
    /// The P&L of the move.
    pub pnl: Money,
}

/// The portfolio under one shock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StressResult {
    /// The shock, in percent (`-10` is a 10 % fall).
    pub shock_pct: Rate,
    /// Total P&L over the positions.
    pub pnl: Money,
    /// Position by position.
    pub lines: Vec<StressLine>,
}

/// `pct / 100` as an exact rate.
fn fraction(pct: Rate) -> Result<Rate, AnalysisError> {
    if pct.raw() % 100 != 0 {
        return Err(AnalysisError::ShockTooPrecise(pct));
    }
    Ok(Rate::from_raw(pct.raw() / 100))
}

/// Shocks every position's price by `shock_pct` percent.
///
/// # Errors
/// [`AnalysisError::ShockTooPrecise`]; [`AnalysisError::Money`] when an amount overflows.
pub fn stress_test(
    positions: &[StressPosition],
    shock_pct: Rate,
) -> Result<StressResult, AnalysisError> {
    let move_by = fraction(shock_pct)?;
    let factor = Rate::ONE.try_add(move_by)?;
    let mut pnl = Money::ZERO;
    let mut lines = Vec::with_capacity(positions.len());
    for position in positions {
        let line_pnl = position
            .mark
            .notional(position.qty)
            .try_mul_rate(move_by, RoundingMode::HalfEven)?;
        pnl = pnl.try_add(line_pnl)?;
        lines.push(StressLine {
            symbol: position.symbol.clone(),
            qty: position.qty,
            mark: position.mark,
            shocked: position.mark.try_mul_rate(factor, RoundingMode::HalfEven)?,
            pnl: line_pnl,
        });
    }
    Ok(StressResult {
        shock_pct,
        pnl,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(symbol: &str, qty: &str, mark: &str) -> StressPosition {
        StressPosition {
            symbol: symbol.to_owned(),
            qty: Qty::parse(qty).unwrap(),
            mark: Price::parse(mark).unwrap(),
        }
    }

    #[test]
    fn a_ten_percent_fall_costs_a_long_and_pays_a_short_exactly() {
        let book = [
            position("BTCUSDT", "0.5", "60000"),
            position("ETHUSDT", "-2", "3000.10"),
        ];
        let result = stress_test(&book, Rate::parse("-10").unwrap()).unwrap();
        assert_eq!(result.lines[0].pnl, Money::parse("-3000").unwrap());
        assert_eq!(result.lines[0].shocked, Price::parse("54000").unwrap());
        assert_eq!(result.lines[1].pnl, Money::parse("600.02").unwrap());
        assert_eq!(result.pnl, Money::parse("-2399.98").unwrap());
    }

    #[test]
    fn shocks_are_symmetric_and_zero_shock_is_flat() {
        let book = [position("BTCUSDT", "0.001", "65432.1")];
        let up = stress_test(&book, Rate::parse("7.5").unwrap()).unwrap();
        let down = stress_test(&book, Rate::parse("-7.5").unwrap()).unwrap();
        assert_eq!(up.pnl, down.pnl.neg());
        assert_eq!(stress_test(&book, Rate::ZERO).unwrap().pnl, Money::ZERO);
    }

    #[test]
    fn a_shock_finer_than_six_decimals_is_refused() {
        let result = stress_test(&[], Rate::parse("0.00000001").unwrap());
        assert!(matches!(result, Err(AnalysisError::ShockTooPrecise(_))));
    }
}
