//! [`RiskRule`]: the stable codes of the pre-trade checks, in the order they run, and
//! [`Stage`]: which caller asked.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One pre-trade rule. The declaration order is the order the checks run in; the first
/// failure is the one reported ([`crate::RiskEngine::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskRule {
    /// The order's quantity is not positive (and it is not a close-position order).
    InvalidQuantity,
    /// The kill switch is engaged; only reduce-only or closing orders pass.
    KillSwitch,
    /// More than `max_consecutive_losses` losing trades in a row (breaker, manual reset).
    ConsecutiveLosses,
    /// Equity fell `max_window_drawdown_pct` from its peak within `drawdown_window_seconds`
    /// (breaker, manual reset).
    WindowDrawdown,
    /// Venue round trips slower than `max_venue_latency_ms` (breaker, resets when healthy).
    VenueLatency,
    /// The symbol's market data is older than `max_market_data_staleness_ms` or absent
    /// (breaker, resets with fresh data).
    StaleMarketData,
    /// Loss since UTC midnight (realised plus unrealised) reached `max_daily_loss_usdt`.
    DailyLoss,
    /// Loss since UTC midnight reached `max_daily_drawdown_pct` of the day's opening equity.
    DailyDrawdown,
    /// The order cannot be valued: no limit, stop or mark price is known.
    NoPrice,
    /// A value is too large for exact arithmetic (absurd input).
    OutOfRange,
    /// The order's notional exceeds `max_order_notional_usdt` (fat-finger guard).
    OrderNotional,
    /// The symbol's position would be worth more than `max_position_size_usdt`.
    PositionSize,
    /// The symbol would hold more than `max_positions_per_symbol` open positions (legs).
    PositionsPerSymbol,
    /// Exposure across all symbols would exceed `max_total_exposure_usdt`.
    TotalExposure,
    /// Exposure over equity would exceed `max_leverage`.
    Leverage,
    /// `max_orders_per_second` orders were already admitted in the last second.
    OrderFrequency,
}

impl RiskRule {
    /// Every rule, in check order.
    pub const ALL: [Self; 16] = [
        Self::InvalidQuantity,
        Self::KillSwitch,
        Self::ConsecutiveLosses,
        Self::WindowDrawdown,
        Self::VenueLatency,
        Self::StaleMarketData,
        Self::DailyLoss,
        Self::DailyDrawdown,
        Self::NoPrice,
        Self::OutOfRange,
        Self::OrderNotional,
        Self::PositionSize,
        Self::PositionsPerSymbol,
        Self::TotalExposure,
        Self::Leverage,
        Self::OrderFrequency,
    ];

    /// The stable snake_case code (metric label, event field, end of every message).
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::InvalidQuantity => "invalid_quantity",
            Self::KillSwitch => "kill_switch",
            Self::ConsecutiveLosses => "consecutive_losses",
            Self::WindowDrawdown => "window_drawdown",
            Self::VenueLatency => "venue_latency",
            Self::StaleMarketData => "stale_market_data",
            Self::DailyLoss => "daily_loss",
            Self::DailyDrawdown => "daily_drawdown",
            Self::NoPrice => "no_price",
            Self::OutOfRange => "out_of_range",
            Self::OrderNotional => "order_notional",
            Self::PositionSize => "position_size",
            Self::PositionsPerSymbol => "positions_per_symbol",
            Self::TotalExposure => "total_exposure",
            Self::Leverage => "leverage",
            Self::OrderFrequency => "order_frequency",
        }
    }

    /// The rule's position in [`Self::ALL`] (a dense index for per-rule counters).
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether an order that only reduces a position passes this rule whatever its state:
    /// true for every rule that guards against growing risk (a position can always be
    /// closed, even with no price and every breaker tripped); false for the order's own
    /// validity, the kill switch (which wants an explicit reduce-only or closing order) and
    /// the frequency limit.
    #[must_use]
    pub const fn spares_reductions(self) -> bool {
        !matches!(
            self,
            Self::InvalidQuantity | Self::KillSwitch | Self::OrderFrequency
        )
    }
}

impl fmt::Display for RiskRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Who runs the check, which decides the metric a refusal is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The strategy engine's risk filter (seed 000 FR-SE-005): counted as
    /// `signals_rejected_by_risk{reason}`.
    Signal,
    /// The execution engine's pre-trade validation: counted as `risk_rejections_total{reason}`.
    Order,
}
