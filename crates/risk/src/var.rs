//! Historical Value-at-Risk (seed 003 Risk Engine, `portfolio_var_95`).
//!
//! The P&L the portfolio would have made in each past scenario (one per period of the return
//! series, aligned across symbols) is sorted, and the VaR at confidence `c` is the loss of
//! the `k`-th worst scenario, `k = ⌈n × (100 − c) / 100⌉` (at least 1): with 100 daily
//! scenarios at 95 %, the 5th worst day. A quantile that is a gain gives a VaR of zero.
//!
//! Arithmetic: a scenario's P&L is `Σ exposure × return`, each product rounded half-even at
//! 10⁻¹⁶ USDT (the only rounding); `k` is computed on integers, so the chosen scenario never
//! depends on a float. Returns are plain fractions (`-0.0123` is −1.23 %); exposures are
//! signed notionals (long > 0).

use kestrel_model::money::FIXED_ONE;
use kestrel_model::{Money, Rate, RoundingMode};
use serde::{Deserialize, Serialize};

use crate::error::AnalysisError;

/// A historical VaR figure and how it was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VarEstimate {
    /// The confidence level, in percent.
    pub confidence_pct: Rate,
    /// Scenarios used.
    pub scenarios: usize,
    /// Which worst scenario sets the figure (1 is the worst).
    pub rank: usize,
    /// The loss not exceeded at that confidence, positive (zero when the quantile is a gain).
    pub var: Money,
}

/// The portfolio P&L of each scenario: `legs` are `(signed exposure, returns)`, every series
/// of the same length.
///
/// # Errors
/// [`AnalysisError::NoScenarios`], [`AnalysisError::Misaligned`], or
/// [`AnalysisError::Money`] on overflow.
pub fn scenario_pnls(legs: &[(Money, &[Rate])]) -> Result<Vec<Money>, AnalysisError> {
    let scenarios = legs.first().map_or(0, |(_, returns)| returns.len());
    if scenarios == 0 {
        return Err(AnalysisError::NoScenarios);
    }
    let mut pnls = vec![Money::ZERO; scenarios];
    for (exposure, returns) in legs {
        if returns.len() != scenarios {
            return Err(AnalysisError::Misaligned {
                expected: scenarios,
                found: returns.len(),
            });
        }
        for (pnl, ret) in pnls.iter_mut().zip(returns.iter()) {
            let move_pnl = exposure.try_mul_rate(*ret, RoundingMode::HalfEven)?;
            *pnl = pnl.try_add(move_pnl)?;
        }
    }
    Ok(pnls)
}

/// Historical VaR of the scenario P&Ls `pnls` at `confidence_pct` (module docs).
///
/// # Errors
/// [`AnalysisError::NoScenarios`] or [`AnalysisError::BadConfidence`].
pub fn historical_var(pnls: &[Money], confidence_pct: Rate) -> Result<VarEstimate, AnalysisError> {
    let hundred = 100 * i128::from(FIXED_ONE);
    let confidence = i128::from(confidence_pct.raw());
    if confidence <= 0 || confidence >= hundred {
        return Err(AnalysisError::BadConfidence(confidence_pct));
    }
    if pnls.is_empty() {
        return Err(AnalysisError::NoScenarios);
    }
    let n = i128::try_from(pnls.len()).map_err(|_| AnalysisError::NoScenarios)?;
    // ⌈n × (100 − c) / 100⌉ on integers; at least 1, at most n.
    let tail = (n * (hundred - confidence) + hundred - 1) / hundred;
    let rank = usize::try_from(tail.clamp(1, n)).unwrap_or(1);
    let mut sorted = pnls.to_vec();
    sorted.sort_unstable();
    let quantile = sorted.get(rank - 1).copied().unwrap_or(Money::ZERO);
    Ok(VarEstimate {
        confidence_pct,
        scenarios: pnls.len(),
        rank,
        var: if quantile.is_negative() {
            quantile.neg()
        } else {
            Money::ZERO
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usdt(units: i128) -> Money {
        Money::from_raw(units * kestrel_model::money::MONEY_ONE)
    }

    #[test]
    fn var_95_of_100_scenarios_is_the_fifth_worst_loss() {
        let pnls: Vec<Money> = (1..=100).map(|i| usdt(i - 50)).collect();
        let estimate = historical_var(&pnls, Rate::parse("95").unwrap()).unwrap();
        assert_eq!(estimate.rank, 5);
        assert_eq!(estimate.var, usdt(45));
        let estimate = historical_var(&pnls, Rate::parse("99").unwrap()).unwrap();
        assert_eq!((estimate.rank, estimate.var), (1, usdt(49)));
    }

    #[test]
    fn a_tail_of_gains_has_zero_var_and_few_scenarios_use_the_worst() {
        let gains = [usdt(5), usdt(1), usdt(3)];
        let estimate = historical_var(&gains, Rate::parse("95").unwrap()).unwrap();
        assert_eq!((estimate.rank, estimate.var), (1, Money::ZERO));
    }

    #[test]
    fn scenarios_combine_legs_period_by_period() {
        let btc = [Rate::parse("-0.02").unwrap(), Rate::parse("0.01").unwrap()];
        let eth = [Rate::parse("-0.05").unwrap(), Rate::parse("0.03").unwrap()];
        let pnls = scenario_pnls(&[(usdt(10_000), &btc), (usdt(-2_000), &eth)]).unwrap();
        assert_eq!(pnls, vec![usdt(-100), usdt(40)]);
        let short = [Rate::ZERO];
        assert_eq!(
            scenario_pnls(&[(usdt(1), &btc), (usdt(1), &short)]),
            Err(AnalysisError::Misaligned {
                expected: 2,
                found: 1
            })
        );
    }

    #[test]
    fn confidence_must_be_strictly_between_0_and_100() {
        for bad in ["0", "100", "-5", "150"] {
            let result = historical_var(&[usdt(1)], Rate::parse(bad).unwrap());
            assert!(
                matches!(result, Err(AnalysisError::BadConfidence(_))),
                "{bad}"
            );
        }
    }
}
