//! The Sharpe ratio of the daily returns of the equity curve: the one place the account uses
//! `f64`, for a dimensionless statistic (ARCHITECTURE.md principle 3). Money never passes
//! through here: a day's return is computed from the exact open and close equity once, as a
//! ratio.
//!
//! - Return series: one return per UTC day, `close / open − 1`, where `open` is the
//!   flow-adjusted equity (margin balance minus net deposits and withdrawals since start) at the
//!   day's first sample and `close` the same figure at the next day's first sample. A day that
//!   opens with no positive equity yields no return.
//! - Ratio: `mean / sample standard deviation × √365` (crypto trades every day of the year),
//!   risk-free rate zero. Undefined (`None`) with fewer than two returns or no dispersion.
//! - At most [`MAX_RETURNS`] days are kept (the most recent).

// Statistics over returns are floating point by nature (ARCHITECTURE.md principle 3).
#![allow(clippy::float_arithmetic)]

use std::collections::VecDeque;

use kestrel_model::Money;

/// Daily returns kept: ten years.
pub(crate) const MAX_RETURNS: usize = 3_650;

/// Trading days in a year for annualisation: every day.
const DAYS_PER_YEAR: f64 = 365.0;

/// The daily returns of the equity curve.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DailyReturns {
    returns: VecDeque<f64>,
}

impl DailyReturns {
    /// Records the day that opened at `open` and closed at `close`.
    pub(crate) fn push(&mut self, open: Money, close: Money) {
        let (Some(open), Some(close)) = (to_f64(open), to_f64(close)) else {
            return;
        };
        if open <= 0.0 {
            return;
        }
        self.returns.push_back(close / open - 1.0);
        if self.returns.len() > MAX_RETURNS {
            self.returns.pop_front();
        }
    }

    /// The annualised Sharpe ratio, if defined.
    pub(crate) fn sharpe(&self) -> Option<f64> {
        sharpe_ratio(self.returns.iter().copied())
    }
}

/// `mean / sample standard deviation × √365` of `returns`; `None` with fewer than two or no
/// dispersion.
pub(crate) fn sharpe_ratio(returns: impl ExactSizeIterator<Item = f64> + Clone) -> Option<f64> {
    let n = returns.len();
    if n < 2 {
        return None;
    }
    let count = n as f64;
    let mean = returns.clone().sum::<f64>() / count;
    let variance = returns.map(|r| (r - mean).powi(2)).sum::<f64>() / (count - 1.0);
    let deviation = variance.sqrt();
    (deviation > 0.0 && deviation.is_finite()).then(|| mean / deviation * DAYS_PER_YEAR.sqrt())
}

/// An exact amount as the nearest `f64` (through its decimal text: no float arithmetic).
fn to_f64(amount: Money) -> Option<f64> {
    amount.to_string().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharpe_is_mean_over_sample_deviation_annualised() {
        // Returns 1 %, 3 %: mean 2 %, sample deviation √((1² + 1²)/1) % = √2 %.
        let sharpe = sharpe_ratio([0.01, 0.03].into_iter()).unwrap();
        let expected = 0.02 / (2f64.sqrt() * 0.01) * 365f64.sqrt();
        assert!((sharpe - expected).abs() < 1e-9, "{sharpe} vs {expected}");
    }

    #[test]
    fn sharpe_needs_two_returns_and_dispersion() {
        assert_eq!(sharpe_ratio([0.01].into_iter()), None);
        assert_eq!(sharpe_ratio([0.01, 0.01, 0.01].into_iter()), None);
    }

    #[test]
    fn a_day_is_its_close_over_its_open() {
        let mut returns = DailyReturns::default();
        returns.push(Money::parse("1000").unwrap(), Money::parse("1010").unwrap());
        returns.push(
            Money::parse("1010").unwrap(),
            Money::parse("999.9").unwrap(),
        );
        returns.push(Money::ZERO, Money::parse("5").unwrap());
        assert_eq!(returns.returns.len(), 2);
        assert!((returns.returns[0] - 0.01).abs() < 1e-12);
        assert!((returns.returns[1] + 0.01).abs() < 1e-12);
    }
}
