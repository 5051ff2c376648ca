//! P&L (seed 000 FR-AM-003): what the book has realized, paid and received since it started,
//! the equity curve behind daily P&L and drawdown, win rate and the Sharpe ratio, and the
//! [`PnlSummary`] that reports them.
//!
//! Definitions (money exact, on the venue's 10⁻⁸ grid because every input is):
//! - realized P&L: the sum of each fill's realized P&L before fees as the venue booked it
//!   (Binance's `rp`; computed the venue's way when a fill arrives without it);
//! - unrealized P&L: the sum over open legs of `mark × qty − cost basis`, each rounded half to
//!   even to 10⁻⁸ as the venue reports it;
//! - total P&L: realized + unrealized (the seed's definition: before fees and funding);
//! - fees paid: commissions in the margin asset (rebates negative); funding: payments received
//!   (positive) or paid; net P&L: total − fees + funding;
//! - daily P&L, drawdown, Sharpe: from the equity curve (`curve`);
//! - win rate: the percent of closed positions whose realized P&L minus the commissions of
//!   their fills was positive. A position closes when a leg returns to zero (or flips, which
//!   closes one position and opens another).

mod curve;
mod sharpe;

use kestrel_model::{Money, Rate};
use serde::{Deserialize, Serialize};

use crate::arith;
use curve::EquityCurve;

/// The P&L summary (seed `PnLSummary`, plus funding, net P&L and the closed-position count).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PnlSummary {
    /// Realized P&L before fees, since the monitor started.
    pub realized_pnl: Money,
    /// Unrealized P&L of the open positions at their marks.
    pub unrealized_pnl: Money,
    /// Realized plus unrealized.
    pub total_pnl: Money,
    /// The change of flow-adjusted equity since midnight UTC (or the monitor's start).
    pub daily_pnl: Money,
    /// Commissions paid in the margin asset (rebates negative).
    pub fees_paid: Money,
    /// Funding received (positive) or paid (negative).
    pub funding_fees: Money,
    /// Total P&L minus fees plus funding.
    pub net_pnl: Money,
    /// Percent of closed positions that made money net of their commissions.
    pub win_rate: Rate,
    /// How many positions were closed.
    pub closed_positions: u64,
    /// The annualised Sharpe ratio of daily returns, once defined (see `pnl::sharpe`).
    pub sharpe_ratio: Option<f64>,
    /// The largest fall of flow-adjusted equity from a peak.
    pub max_drawdown: Money,
    /// The largest fall from a peak, in percent of that peak.
    pub max_drawdown_percent: Rate,
    /// When this summary was computed (ms since the epoch).
    pub timestamp: u64,
}

/// The running P&L figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PnlLedger {
    realized: Money,
    fees: Money,
    funding: Money,
    /// Net deposits minus withdrawals since the start.
    transfers: Money,
    wins: u64,
    closed: u64,
    curve: EquityCurve,
}

impl PnlLedger {
    /// A ledger starting at margin balance `equity` at `now_ms`.
    pub(crate) fn start(equity: Money, now_ms: u64) -> Self {
        Self {
            curve: EquityCurve::start(equity, now_ms),
            ..Self::default()
        }
    }

    /// Books a fill's realized P&L and its commission in the margin asset.
    pub(crate) fn book_fill(&mut self, realized: Money, fee: Money) {
        self.realized = arith::add(self.realized, realized);
        self.fees = arith::add(self.fees, fee);
    }

    /// Books a funding payment (received > 0).
    pub(crate) fn book_funding(&mut self, amount: Money) {
        self.funding = arith::add(self.funding, amount);
    }

    /// Books a deposit (> 0) or withdrawal (< 0): not P&L.
    pub(crate) fn book_transfer(&mut self, amount: Money) {
        self.transfers = arith::add(self.transfers, amount);
    }

    /// Counts a closed position whose result net of commissions was `net`.
    pub(crate) fn record_close(&mut self, net: Money) {
        self.closed += 1;
        if net.is_positive() {
            self.wins += 1;
        }
    }

    /// Samples the equity curve at margin balance `equity`.
    pub(crate) fn sample(&mut self, equity: Money, now_ms: u64) {
        let adjusted = arith::sub(equity, self.transfers);
        self.curve.sample(adjusted, now_ms);
    }

    /// The fall from today's peak of flow-adjusted equity, in percent of it.
    pub(crate) fn daily_drawdown_pct(&self, equity: Money) -> Rate {
        self.curve
            .daily_drawdown_pct(arith::sub(equity, self.transfers))
    }

    /// The summary at `unrealized` P&L and margin balance `equity`.
    pub(crate) fn summary(&self, unrealized: Money, equity: Money, now_ms: u64) -> PnlSummary {
        let total = arith::add(self.realized, unrealized);
        PnlSummary {
            realized_pnl: self.realized,
            unrealized_pnl: unrealized,
            total_pnl: total,
            daily_pnl: self.curve.daily_pnl(arith::sub(equity, self.transfers)),
            fees_paid: self.fees,
            funding_fees: self.funding,
            net_pnl: arith::add(arith::sub(total, self.fees), self.funding),
            win_rate: self.win_rate(),
            closed_positions: self.closed,
            sharpe_ratio: self.curve.sharpe(),
            max_drawdown: self.curve.max_drawdown(),
            max_drawdown_percent: self.curve.max_drawdown_pct(),
            timestamp: now_ms,
        }
    }

    /// Wins over closed positions, in percent (zero before any close).
    fn win_rate(&self) -> Rate {
        let wins = Money::from_raw(i128::from(self.wins));
        let closed = Money::from_raw(i128::from(self.closed));
        arith::percent(wins, closed).unwrap_or(Rate::ZERO)
    }
}
