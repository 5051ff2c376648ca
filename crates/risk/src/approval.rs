//! [`Approved`] and [`Refused`]: the two outcomes of [`crate::RiskEngine::admit`]. An
//! `Approved` value can only be made by the risk engine, so code that takes one cannot be
//! handed an unchecked order.

use std::ops::Deref;

use crate::refusal::Refusal;
use crate::rule::Stage;

/// A value that passed the pre-trade checks (it holds a slot of the order-frequency window).
#[derive(Debug, PartialEq, Eq)]
#[must_use = "an approval holds an order-frequency slot; send the order or drop it deliberately"]
pub struct Approved<T> {
    inner: T,
    stage: Stage,
    approved_at_ms: u64,
}

impl<T> Approved<T> {
    pub(crate) const fn new(inner: T, stage: Stage, approved_at_ms: u64) -> Self {
        Self {
            inner,
            stage,
            approved_at_ms,
        }
    }

    /// The approved value.
    #[must_use]
    pub const fn get(&self) -> &T {
        &self.inner
    }

    /// The approved value, giving up the approval.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Which check approved it.
    #[must_use]
    pub const fn stage(&self) -> Stage {
        self.stage
    }

    /// When it was approved (ms since the epoch).
    #[must_use]
    pub const fn approved_at_ms(&self) -> u64 {
        self.approved_at_ms
    }
}

impl<T> Deref for Approved<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

/// A value that failed the pre-trade checks, handed back with the first refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused<T> {
    /// The refused value, unchanged.
    pub request: T,
    /// Why.
    pub refusal: Refusal,
}
