//! What the book shows: the account state the query API serves and the monitor persists
//! (seed 000 FR-AM-001/002/006 `AccountBalance`, `Position`; money as decimal strings in JSON).

use kestrel_model::order::PositionSide;
use kestrel_model::position::Direction;
use kestrel_model::{Money, Price, Qty, Rate};
use serde::{Deserialize, Serialize};

use crate::alerts::Alert;
use crate::pnl::PnlSummary;
use crate::reconciliation::ReconciliationReport;

/// The full account state (seed `GetAccountState()`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    /// When it was built (ms since the epoch).
    pub timestamp: u64,
    /// The asset P&L and margins are counted in (`USDT`).
    pub margin_asset: String,
    /// One entry per asset, by asset.
    pub balances: Vec<AssetBalance>,
    /// Open positions, by symbol then leg.
    pub positions: Vec<PositionView>,
    /// The P&L summary.
    pub pnl: PnlSummary,
    /// Margin and exposure.
    pub margin: MarginSummary,
    /// The last reconciliation with the venue.
    pub reconciliation: Option<ReconciliationReport>,
    /// Active alerts.
    pub alerts: Vec<Alert>,
    /// Recently cleared alerts, oldest first.
    pub alert_history: Vec<Alert>,
    /// Set when a reconciliation mismatch halted trading; cleared by an operator.
    pub trading_halted: Option<Halt>,
    /// How well the user stream agreed with the book's own arithmetic.
    pub stream: StreamHealth,
}

/// One asset's balance (seed `AccountBalance`, plus margins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetBalance {
    /// The asset, e.g. `USDT`.
    pub asset: String,
    /// The wallet balance: deposits, realized P&L, fees and funding.
    pub total_balance: Money,
    /// What new orders can still use: margin balance minus initial margin (the margin part as
    /// of the last venue snapshot).
    pub available_balance: Money,
    /// Initial margin held by open orders (as of the last venue snapshot).
    pub in_orders: Money,
    /// Unrealized P&L of the positions margined in this asset.
    pub unrealized_pnl: Money,
    /// Wallet plus unrealized P&L.
    pub margin_balance: Money,
    /// Initial margin of positions and open orders (as of the last venue snapshot).
    pub initial_margin: Money,
    /// Maintenance margin required (as of the last venue snapshot).
    pub maint_margin: Money,
    /// When the wallet last changed (ms since the epoch, venue time).
    pub timestamp: u64,
}

/// One open position leg (seed `Position`, plus the signed quantity, leg and realized P&L).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionView {
    /// The symbol.
    pub symbol: String,
    /// `long` or `short`.
    pub side: Direction,
    /// `BOTH` in one-way mode; the leg in hedge mode.
    pub position_side: PositionSide,
    /// The absolute quantity.
    pub size: Qty,
    /// The signed quantity (long > 0).
    pub qty: Qty,
    /// The average entry price (cost basis / quantity, half to even).
    pub entry_price: Price,
    /// The mark price, once known.
    pub mark_price: Option<Price>,
    /// The liquidation price, when the venue reports one.
    pub liquidation_price: Option<Price>,
    /// `mark × qty − cost basis`, half to even at 10⁻⁸ (zero without a mark).
    pub unrealized_pnl: Money,
    /// Unrealized P&L in percent of the entry notional.
    pub unrealized_pnl_percent: Option<Rate>,
    /// The symbol's leverage, when known.
    pub leverage: Option<u32>,
    /// Initial margin the leg holds (as of the last venue snapshot).
    pub margin_used: Money,
    /// |mark × qty| (zero without a mark).
    pub notional: Money,
    /// Realized P&L booked on this leg since the monitor started.
    pub realized_pnl: Money,
    /// Commissions (margin asset) paid on this leg's fills since the monitor started.
    pub fees: Money,
    /// When the leg last changed (ms since the epoch, venue time).
    pub timestamp: u64,
}

/// Margin and exposure across the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginSummary {
    /// Wallet plus unrealized P&L, in the margin asset.
    pub margin_balance: Money,
    /// Maintenance margin required (as of the last venue snapshot).
    pub maint_margin: Money,
    /// Maintenance margin / margin balance, percent: Binance's margin ratio (100 % is
    /// liquidation); the `margin_ratio` metric.
    pub maint_margin_ratio: Option<Rate>,
    /// Σ |mark × qty| over open legs.
    pub exposure: Money,
    /// Margin balance / exposure, percent: the ratio `min_margin_ratio_pct` is checked against.
    pub margin_level: Option<Rate>,
}

/// Why trading is halted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halt {
    /// What was found.
    pub reason: String,
    /// When (ms since the epoch).
    pub since: u64,
}

/// Counters of the user stream disagreeing with the book (zero when the book's arithmetic
/// matches the venue's and no event was lost or reordered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamHealth {
    /// `ACCOUNT_UPDATE` wallet balances or position amounts that differed from the book's.
    pub disagreements: u64,
    /// Fills whose reported realized P&L differed from the book's own computation.
    pub realized_disagreements: u64,
    /// Fills the book could not apply (logged).
    pub rejected_fills: u64,
}
