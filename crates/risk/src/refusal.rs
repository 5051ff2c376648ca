//! [`Refusal`]: why one order was refused — the rule, the value found, the limit, and a
//! message a trader reads without the code at hand.

use std::fmt;

use kestrel_model::{Money, Qty, Rate};
use serde::{Deserialize, Serialize};

use crate::rule::RiskRule;

/// A value a rule measured or the limit it holds it to, with its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "value", rename_all = "snake_case")]
pub enum Measure {
    /// An amount in USDT (exact).
    Usdt(Money),
    /// A percentage (`5` is 5 %).
    Percent(Rate),
    /// A multiple (leverage: `3` is 3×).
    Times(Rate),
    /// A count (orders, losing trades, positions).
    Count(u64),
    /// A duration in milliseconds (latency, data age).
    Millis(u64),
    /// A quantity of the base asset.
    Qty(Qty),
    /// Nothing to measure (e.g. the kill switch's on/off state).
    None,
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usdt(amount) => write!(f, "{amount:.2} USDT"),
            Self::Percent(pct) => write!(f, "{pct:.2}%"),
            Self::Times(times) => write!(f, "{times:.2}x"),
            Self::Count(count) => write!(f, "{count}"),
            Self::Millis(ms) => write!(f, "{ms} ms"),
            Self::Qty(qty) => write!(f, "{qty}"),
            Self::None => f.write_str("-"),
        }
    }
}

/// Why an order was refused (the order itself, with its symbol, is with the caller). Made
/// only on the refusal path; an approval allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The rule that refused it.
    pub rule: RiskRule,
    /// What the rule measured.
    pub observed: Measure,
    /// The limit it holds that to.
    pub limit: Measure,
    /// What happened in words, with the values, the limit and the rule code at the end, e.g.
    /// `BTCUSDT position would be worth 12000.00 USDT after this order; the limit is
    /// max_position_size_usdt 10000.00 USDT (position_size)`.
    pub message: String,
}

impl Refusal {
    /// A refusal by `rule` with the text `what` (the rule's code is appended).
    pub(crate) fn new(
        rule: RiskRule,
        observed: Measure,
        limit: Measure,
        what: fmt::Arguments<'_>,
    ) -> Self {
        Self {
            rule,
            observed,
            limit,
            message: format!("{what} ({})", rule.code()),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "risk: {}", self.message)
    }
}

impl std::error::Error for Refusal {}
