//! Signals (seed 000 FR-SE-003/004): what a strategy asks for ([`SignalIntent`]), the stamped
//! [`Signal`] the engine records, and the [`AggregatedSignal`] one symbol's vote produces.

use std::borrow::Cow;
use std::sync::Arc;

use kestrel_model::money::{FIXED_ONE, Price, Rate};
use kestrel_model::order::Side;
use serde::{Deserialize, Serialize};

/// How urgently a signal wants to trade (seed FR-SE-003), least urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// Post-only at our own touch: wait in the queue for a maker fill.
    Passive,
    /// Post-only one tick inside the spread when there is room: a competitive maker price.
    Normal,
    /// May take: an immediate-or-cancel limit at (or through) the far touch.
    Aggressive,
}

impl Urgency {
    /// The urgency named `name` (`passive`, `normal`, `aggressive`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "passive" => Some(Self::Passive),
            "normal" => Some(Self::Normal),
            "aggressive" => Some(Self::Aggressive),
            _ => None,
        }
    }
}

/// A signal's strength or confidence, exactly between 0 and 1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Strength(Rate);

impl Strength {
    /// No conviction.
    pub const ZERO: Self = Self(Rate::ZERO);
    /// Full conviction.
    pub const FULL: Self = Self(Rate::ONE);

    /// The strength `rate`, if it lies in `[0, 1]`.
    #[must_use]
    pub fn new(rate: Rate) -> Option<Self> {
        (Rate::ZERO..=Rate::ONE)
            .contains(&rate)
            .then_some(Self(rate))
    }

    /// `numerator / denominator`, clamped to `[0, 1]` (0 when `denominator` is not positive),
    /// rounded down to 10⁻⁸.
    #[must_use]
    pub fn ratio(numerator: i128, denominator: i128) -> Self {
        if denominator <= 0 || numerator <= 0 {
            return Self::ZERO;
        }
        let one = i128::from(FIXED_ONE);
        let raw = numerator.saturating_mul(one) / denominator;
        Self(Rate::from_raw(
            i64::try_from(raw.min(one)).unwrap_or(FIXED_ONE),
        ))
    }

    /// The strength as a [`Rate`].
    #[must_use]
    pub const fn rate(self) -> Rate {
        self.0
    }
}

impl<'de> Deserialize<'de> for Strength {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let rate = Rate::deserialize(deserializer)?;
        Self::new(rate).ok_or_else(|| {
            serde::de::Error::custom(format!("strength must be between 0 and 1, got {rate}"))
        })
    }
}

/// What a strategy asks for; the engine adds who, where and when to make it a [`Signal`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalIntent {
    /// Buy or sell.
    pub side: Side,
    /// How convinced the strategy is (used by aggregation).
    pub strength: Strength,
    /// How the resulting order may execute.
    pub urgency: Urgency,
    /// A suggested limit price: the order is never more aggressive than it.
    pub price_hint: Option<Price>,
    /// The stop-loss the strategy will act on (informational, seed 003 `TradingSignal`).
    pub stop_loss: Option<Price>,
    /// The take-profit the strategy will act on (informational).
    pub take_profit: Option<Price>,
    /// Closes the strategy's own position instead of opening one: not put to the vote, sized
    /// from the position the engine tracks for the strategy.
    pub exit: bool,
    /// Why, in words, for the log and the dashboard.
    pub reason: Cow<'static, str>,
}

impl SignalIntent {
    /// An entry signal with no price hint, stop or target.
    pub fn new(
        side: Side,
        strength: Strength,
        urgency: Urgency,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            side,
            strength,
            urgency,
            price_hint: None,
            stop_loss: None,
            take_profit: None,
            exit: false,
            reason: reason.into(),
        }
    }

    /// An exit signal: close the strategy's position by trading `side`.
    pub fn exit(side: Side, urgency: Urgency, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            exit: true,
            ..Self::new(side, Strength::FULL, urgency, reason)
        }
    }
}

/// A signal as the seed defines it (FR-SE-003): the intent plus the strategy, symbol and time.
/// It serialises flat, with the intent's fields beside the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// The instance name that produced it.
    pub strategy: Arc<str>,
    /// The venue symbol.
    pub symbol: Arc<str>,
    /// What the strategy asked for: side, strength, urgency, hints, reason.
    #[serde(flatten)]
    pub intent: SignalIntent,
    /// The market event's time, milliseconds since the epoch (venue clock).
    pub timestamp_ms: u64,
}

impl Signal {
    /// Stamps `intent` with its origin and time.
    #[must_use]
    pub fn stamp(intent: SignalIntent, strategy: &Arc<str>, symbol: &Arc<str>, at_ms: u64) -> Self {
        Self {
            strategy: Arc::clone(strategy),
            symbol: Arc::clone(symbol),
            intent,
            timestamp_ms: at_ms,
        }
    }
}

/// The outcome of one symbol's vote (seed FR-SE-004 `AggregatedSignal`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregatedSignal {
    /// The venue symbol.
    pub symbol: Arc<str>,
    /// The winning side.
    pub side: Side,
    /// The combined strength (method-specific, 0 to 1).
    pub combined_strength: Strength,
    /// The instances that voted for the winning side, in routing order.
    pub contributing_strategies: Vec<Arc<str>>,
    /// The lead contributor's price hint (the strongest; the first on a tie).
    pub final_price_hint: Option<Price>,
    /// The lead contributor's urgency.
    pub urgency: Urgency,
    /// The market event's time, milliseconds since the epoch.
    pub timestamp_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_outside_zero_to_one_is_refused() {
        assert!(Strength::new(Rate::from_raw(FIXED_ONE + 1)).is_none());
        assert!(Strength::new(Rate::from_raw(-1)).is_none());
        assert_eq!(Strength::new(Rate::ONE), Some(Strength::FULL));
    }

    #[test]
    fn strength_ratio_clamps_to_full() {
        assert_eq!(Strength::ratio(3, 2), Strength::FULL);
        assert_eq!(Strength::ratio(1, 4).rate(), Rate::from_raw(FIXED_ONE / 4));
        assert_eq!(Strength::ratio(1, 0), Strength::ZERO);
    }

    #[test]
    fn urgency_orders_from_passive_to_aggressive() {
        assert!(Urgency::Passive < Urgency::Normal && Urgency::Normal < Urgency::Aggressive);
    }

    #[test]
    fn a_signal_serialises_flat_and_back() {
        let intent = SignalIntent::new(Side::Buy, Strength::FULL, Urgency::Normal, "up");
        let signal = Signal::stamp(intent, &Arc::from("m"), &Arc::from("BTCUSDT"), 7);
        let json = serde_json::to_value(&signal).unwrap();
        assert_eq!(
            (&json["side"], &json["urgency"], &json["strategy"]),
            (&"buy".into(), &"normal".into(), &"m".into())
        );
        assert_eq!(serde_json::from_value::<Signal>(json).unwrap(), signal);
    }

    #[test]
    fn a_deserialized_strength_above_one_is_an_error() {
        assert!(serde_json::from_str::<Strength>("\"1.5\"").is_err());
        assert_eq!(
            serde_json::from_str::<Strength>("\"0.25\"").unwrap().rate(),
            Rate::from_raw(25_000_000)
        );
    }
}
