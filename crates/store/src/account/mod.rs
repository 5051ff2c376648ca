//! Account snapshots (seed 000 FR-AM-001/002/003 "persist balance snapshots"): the account
//! monitor's balances, positions and P&L summary at one moment, written periodically and read
//! back (the latest, or those of a time range) for the dashboard and after a restart.
//!
//! A snapshot is one `account_snapshots` row (its time and P&L summary) with one
//! `account_snapshot_balances` row per asset and one `account_snapshot_positions` row per open
//! position leg, written in one transaction so a reader never sees half of one.
//!
//! Money is exact: `Price`/`Qty`/`Rate` as decimal text in SQLite and NUMERIC(20, 8) in
//! PostgreSQL, `Money` as text and NUMERIC(39, 16). The Sharpe ratio, a dimensionless
//! statistic, is the one float (REAL / DOUBLE PRECISION).

mod rows;
mod snapshots;
mod sql;

use kestrel_model::order::PositionSide;
use kestrel_model::{Money, Price, Qty, Rate};

/// The account at one moment, as the account monitor persists it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSnapshot {
    /// When it was taken (ms since the epoch, the monitor's clock).
    pub time_ms: u64,
    /// The asset P&L and margins are counted in (`USDT`).
    pub margin_asset: String,
    /// One entry per asset, by asset.
    pub balances: Vec<BalanceSnapshot>,
    /// One entry per open position leg, by symbol then position side.
    pub positions: Vec<PositionSnapshot>,
    /// The P&L summary.
    pub pnl: PnlSnapshot,
}

/// One asset's balance in a snapshot (seed `AccountBalance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceSnapshot {
    /// The asset, e.g. `USDT`.
    pub asset: String,
    /// The wallet balance (the seed's `total_balance`).
    pub wallet_balance: Money,
    /// What new orders can still use.
    pub available_balance: Money,
    /// Initial margin held by open orders.
    pub in_orders: Money,
    /// Unrealized P&L of the positions margined in this asset.
    pub unrealized_pnl: Money,
    /// Initial margin of positions and open orders.
    pub initial_margin: Money,
    /// Maintenance margin required.
    pub maint_margin: Money,
}

/// One open position leg in a snapshot (seed `Position`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionSnapshot {
    /// The venue symbol.
    pub symbol: String,
    /// `BOTH` in one-way mode; the leg in hedge mode.
    pub position_side: PositionSide,
    /// Signed quantity: long > 0, short < 0.
    pub qty: Qty,
    /// The average entry price.
    pub entry_price: Price,
    /// The mark price, when known.
    pub mark_price: Option<Price>,
    /// The liquidation price, when there is one.
    pub liquidation_price: Option<Price>,
    /// Unrealized P&L at the mark.
    pub unrealized_pnl: Money,
    /// Realized P&L booked on this leg.
    pub realized_pnl: Money,
    /// The symbol's leverage, when known.
    pub leverage: Option<u32>,
    /// Initial margin the leg holds.
    pub margin_used: Money,
}

/// The P&L summary in a snapshot (seed `PnLSummary`).
#[derive(Debug, Clone, PartialEq)]
pub struct PnlSnapshot {
    /// Realized P&L before fees.
    pub realized_pnl: Money,
    /// Unrealized P&L at the marks.
    pub unrealized_pnl: Money,
    /// Realized plus unrealized.
    pub total_pnl: Money,
    /// P&L since midnight UTC.
    pub daily_pnl: Money,
    /// Trading fees paid.
    pub fees_paid: Money,
    /// Funding received (positive) or paid (negative).
    pub funding_fees: Money,
    /// Percent of closed positions that made money net of fees.
    pub win_rate: Rate,
    /// How many positions were closed.
    pub closed_positions: u64,
    /// The annualised Sharpe ratio, when there are enough returns.
    pub sharpe_ratio: Option<f64>,
    /// The largest fall of equity from a peak.
    pub max_drawdown: Money,
    /// The largest fall of equity from a peak, in percent of that peak.
    pub max_drawdown_percent: Rate,
}
