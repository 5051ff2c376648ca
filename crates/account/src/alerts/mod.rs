//! Alerts (seed 000 FR-AM-005): the seed's `Alert` object, and the [`AlertBook`] that raises
//! each condition once when it starts, keeps it active while it holds, and clears it (into the
//! history) when it stops — never one alert per tick.
//!
//! | kind | severity | category | raised while |
//! |---|---|---|---|
//! | `daily_drawdown` | error | pnl | the fall from today's equity peak exceeds `max_daily_drawdown_pct` |
//! | `margin_ratio` | warning | risk | margin balance / exposure is below `min_margin_ratio_pct` |
//! | `position_size` | warning | position | a symbol's position value exceeds `max_position_size_usdt` |
//! | `liquidation_proximity` | critical | risk | the mark is within `liquidation_proximity_pct` of the liquidation price |
//! | `reconciliation_mismatch` | warning (critical above the halt threshold) | position | the last reconciliation found a mismatch |
//! | `trading_halted` | critical | system | a reconciliation mismatch halted trading, until an operator clears it |
//!
//! An alert's id is `{kind}-{n}` (`n` counts alerts raised by this book), its subject the
//! symbol or asset it concerns.

mod checks;

pub(crate) use checks::{LegRisk, RISK_KINDS, RiskFigures, evaluate};

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

/// Cleared alerts kept for the query API.
const HISTORY: usize = 256;

/// How urgent an alert is (seed `severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information.
    Info,
    /// Needs attention.
    Warning,
    /// Something is wrong.
    Error,
    /// Act now.
    Critical,
}

/// What an alert is about (seed `category`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// A position.
    Position,
    /// A balance.
    Balance,
    /// Profit and loss.
    Pnl,
    /// A risk limit.
    Risk,
    /// The system itself.
    System,
}

/// Which condition raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Today's drawdown exceeds the maximum.
    DailyDrawdown,
    /// Margin balance over exposure is below the minimum.
    MarginRatio,
    /// A symbol's position value exceeds the maximum.
    PositionSize,
    /// The mark is close to the liquidation price.
    LiquidationProximity,
    /// Reconciliation found local state differing from the venue's.
    ReconciliationMismatch,
    /// Trading is halted until an operator clears it.
    TradingHalted,
}

impl AlertKind {
    /// The snake-case name (the serde name, and the start of the alert's id).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::DailyDrawdown => "daily_drawdown",
            Self::MarginRatio => "margin_ratio",
            Self::PositionSize => "position_size",
            Self::LiquidationProximity => "liquidation_proximity",
            Self::ReconciliationMismatch => "reconciliation_mismatch",
            Self::TradingHalted => "trading_halted",
        }
    }
}

/// One alert (seed `Alert`, plus what raised it, its subject and when it cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique within the monitor's life: `{kind}-{n}`.
    pub id: String,
    /// How urgent.
    pub severity: Severity,
    /// What about.
    pub category: Category,
    /// What happened, with the figures and the threshold.
    pub message: String,
    /// When it was raised (ms since the epoch).
    pub timestamp: u64,
    /// Whether an operator acknowledged it.
    pub acknowledged: bool,
    /// The condition that raised it.
    pub kind: AlertKind,
    /// The symbol or asset it concerns, if any.
    pub subject: Option<String>,
    /// When the condition stopped (ms since the epoch); `None` while active.
    pub cleared_at: Option<u64>,
}

/// A condition that holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raised {
    pub kind: AlertKind,
    pub subject: Option<String>,
    pub severity: Severity,
    pub category: Category,
    pub message: String,
}

impl Raised {
    fn key(&self) -> (AlertKind, String) {
        (self.kind, self.subject.clone().unwrap_or_default())
    }
}

/// Active alerts, recently cleared ones, and those raised since the caller last asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertBook {
    active: BTreeMap<(AlertKind, String), Alert>,
    history: VecDeque<Alert>,
    raised_count: u64,
    fresh: Vec<Alert>,
}

impl AlertBook {
    /// Applies one evaluation of the conditions of `kinds`: each of `raised` not already active
    /// becomes an alert; each active alert of those kinds not in `raised` is cleared.
    pub(crate) fn update(&mut self, kinds: &[AlertKind], raised: Vec<Raised>, now_ms: u64) {
        let holding: BTreeSet<(AlertKind, String)> = raised.iter().map(Raised::key).collect();
        let ended: Vec<(AlertKind, String)> = self
            .active
            .keys()
            .filter(|key| kinds.contains(&key.0) && !holding.contains(*key))
            .cloned()
            .collect();
        for key in ended {
            if let Some(mut alert) = self.active.remove(&key) {
                alert.cleared_at = Some(now_ms);
                self.history.push_back(alert);
            }
        }
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        for condition in raised {
            let key = condition.key();
            if !self.active.contains_key(&key) {
                let alert = self.open(condition, now_ms);
                self.fresh.push(alert.clone());
                self.active.insert(key, alert);
            }
        }
    }

    fn open(&mut self, condition: Raised, now_ms: u64) -> Alert {
        self.raised_count += 1;
        Alert {
            id: format!("{}-{}", condition.kind.name(), self.raised_count),
            severity: condition.severity,
            category: condition.category,
            message: condition.message,
            timestamp: now_ms,
            acknowledged: false,
            kind: condition.kind,
            subject: condition.subject,
            cleared_at: None,
        }
    }

    /// The active alerts, by kind then subject.
    pub fn active(&self) -> impl Iterator<Item = &Alert> {
        self.active.values()
    }

    /// Cleared alerts, oldest first (the most recent 256).
    pub fn history(&self) -> impl Iterator<Item = &Alert> {
        self.history.iter()
    }

    /// Marks the alert `id` acknowledged; false when no active or recent alert has that id.
    pub fn acknowledge(&mut self, id: &str) -> bool {
        let alert = self
            .active
            .values_mut()
            .chain(self.history.iter_mut())
            .find(|a| a.id == id);
        alert.map(|a| a.acknowledged = true).is_some()
    }

    /// The alerts raised since the last call, oldest first (for metrics, logs and the bus).
    pub fn take_raised(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size_alert(symbol: &str) -> Raised {
        Raised {
            kind: AlertKind::PositionSize,
            subject: Some(symbol.to_owned()),
            severity: Severity::Warning,
            category: Category::Position,
            message: format!("{symbol} too big"),
        }
    }

    #[test]
    fn a_condition_raises_one_alert_until_it_clears() {
        let mut book = AlertBook::default();
        let kinds = [AlertKind::PositionSize];
        book.update(&kinds, vec![size_alert("BTCUSDT")], 1);
        book.update(&kinds, vec![size_alert("BTCUSDT")], 2);
        book.update(&kinds, vec![size_alert("BTCUSDT")], 3);
        let raised = book.take_raised();
        assert_eq!(raised.len(), 1);
        assert_eq!(raised[0].id, "position_size-1");
        assert_eq!(raised[0].timestamp, 1);
        assert_eq!(book.active().count(), 1);

        book.update(&kinds, vec![], 4);
        assert_eq!(book.active().count(), 0);
        let cleared: Vec<_> = book.history().collect();
        assert_eq!(cleared.len(), 1);
        assert_eq!(cleared[0].cleared_at, Some(4));

        book.update(&kinds, vec![size_alert("BTCUSDT")], 5);
        assert_eq!(book.take_raised()[0].id, "position_size-2");
    }

    #[test]
    fn an_evaluation_clears_only_its_own_kinds() {
        let mut book = AlertBook::default();
        book.update(&[AlertKind::PositionSize], vec![size_alert("ETHUSDT")], 1);
        book.update(&[AlertKind::DailyDrawdown], vec![], 2);
        assert_eq!(book.active().count(), 1);
    }

    #[test]
    fn alerts_can_be_acknowledged_by_id() {
        let mut book = AlertBook::default();
        book.update(&[AlertKind::PositionSize], vec![size_alert("ETHUSDT")], 1);
        assert!(book.acknowledge("position_size-1"));
        assert!(!book.acknowledge("position_size-9"));
        assert!(book.active().all(|a| a.acknowledged));
    }
}
