//! [`RiskError`]: why an event could not be applied to the risk state.

use kestrel_model::MoneyError;
use kestrel_model::position::PositionError;

/// Why an event was not applied. The state is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskError {
    /// The fill does not fit the position (a hedge leg crossing zero, a non-positive price or
    /// quantity).
    #[error("risk: fill not applied: {0}")]
    Position(#[from] PositionError),
    /// An amount does not fit exact arithmetic (absurd input).
    #[error("risk: amount out of range: {0}")]
    Money(#[from] MoneyError),
}

/// Why a VaR or stress computation could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    /// No scenarios to compute from.
    #[error("risk: no scenarios given")]
    NoScenarios,
    /// Return series of different lengths cannot be combined scenario by scenario.
    #[error("risk: return series must be aligned: expected {expected} returns, got {found}")]
    Misaligned {
        /// The length of the first series.
        expected: usize,
        /// The length of the offending series.
        found: usize,
    },
    /// The confidence level is not strictly between 0 and 100 percent.
    #[error("risk: confidence must be between 0 and 100 percent (exclusive), got {0}")]
    BadConfidence(kestrel_model::Rate),
    /// A shock percentage has more than six decimals, so the fraction it stands for is not
    /// an exact eight-decimal rate.
    #[error("risk: shock {0}% has more than 6 decimal places")]
    ShockTooPrecise(kestrel_model::Rate),
    /// An amount does not fit exact arithmetic.
    #[error("risk: amount out of range: {0}")]
    Money(#[from] MoneyError),
}
