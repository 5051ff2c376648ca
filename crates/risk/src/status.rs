//! [`RiskStatus`]: a serialisable snapshot of the risk state for `/status` and the dashboard
//! — the kill switch, every breaker, daily P&L and drawdown, exposure and leverage, the
//! positions, the limits and the refusals counted so far.

use kestrel_model::config::RiskConfig;
use kestrel_model::order::PositionSide;
use kestrel_model::{Money, Price, Qty, Rate};
use serde::{Deserialize, Serialize};

use crate::breakers::{Breaker, ResetPolicy};
use crate::kill::KillSwitchStatus;
use crate::rule::RiskRule;

/// One breaker's state (the staleness breaker appears once per stale symbol).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerStatus {
    /// Which breaker.
    pub breaker: Breaker,
    /// The symbol, for the staleness breaker.
    pub symbol: Option<String>,
    /// Whether it is tripped.
    pub tripped: bool,
    /// Why, while tripped.
    pub reason: Option<String>,
    /// Since when (ms since the epoch), while tripped.
    pub since_ms: Option<u64>,
    /// How it resets.
    pub reset: ResetPolicy,
}

/// One open position (one leg in hedge mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionStatus {
    /// The symbol.
    pub symbol: String,
    /// `BOTH` in one-way mode; the leg in hedge mode.
    pub position_side: PositionSide,
    /// Signed quantity (long > 0).
    pub qty: Qty,
    /// Average entry price.
    pub entry_price: Option<Price>,
    /// The latest mark price.
    pub mark: Option<Price>,
    /// Absolute notional at the mark (at entry while no mark is known).
    pub value: Money,
    /// Unrealised P&L at the mark.
    pub unrealised_pnl: Option<Money>,
    /// Age of the symbol's newest market data.
    pub market_data_age_ms: Option<u64>,
}

/// How many orders one rule refused since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    /// The rule.
    pub rule: RiskRule,
    /// Refusals.
    pub count: u64,
}

/// The whole risk picture at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskStatus {
    /// When the snapshot was taken (ms since the epoch).
    pub at_ms: u64,
    /// Whether orders that open or grow positions can pass right now (as far as the
    /// portfolio-wide rules go; per-order limits still apply).
    pub opening_allowed: bool,
    /// The portfolio-wide rules refusing opening orders right now.
    pub halted_by: Vec<RiskRule>,
    /// The kill switch.
    pub kill_switch: KillSwitchStatus,
    /// Every portfolio-wide breaker, then one entry per stale symbol.
    pub breakers: Vec<BreakerStatus>,
    /// Wallet balance (USDT).
    pub wallet_balance: Money,
    /// Unrealised P&L over all positions.
    pub unrealised_pnl: Money,
    /// Wallet plus unrealised P&L.
    pub equity: Money,
    /// Equity at the day's open (UTC).
    pub day_open_equity: Money,
    /// Equity change since the day's open.
    pub daily_pnl: Money,
    /// Fall from the day's opening equity, in percent (zero when up on the day).
    pub daily_drawdown_pct: Option<Rate>,
    /// The highest equity within the drawdown window.
    pub window_peak_equity: Option<Money>,
    /// Fall from that peak, in percent.
    pub window_drawdown_pct: Option<Rate>,
    /// Losing trades in a row.
    pub consecutive_losses: u32,
    /// Absolute notional over all positions at marks.
    pub total_exposure: Money,
    /// Exposure over equity (`None` when equity is not positive).
    pub leverage: Option<Rate>,
    /// Orders admitted in the last second.
    pub orders_last_second: u32,
    /// The latest venue round trip.
    pub last_venue_latency_ms: Option<u64>,
    /// Open positions, by symbol then leg.
    pub positions: Vec<PositionStatus>,
    /// The limits in force.
    pub limits: RiskConfig,
    /// Refusals since start, by rule (rules with none are left out).
    pub rejections: Vec<RuleCount>,
    /// Events dropped because nobody drained the queue.
    pub events_dropped: u64,
}
