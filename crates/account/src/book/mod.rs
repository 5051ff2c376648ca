//! [`AccountBook`]: the account monitor's synchronous core. No I/O and no clock: every input
//! comes with the caller's time (`now_ms`), so live runs, backtests and tests replay alike.
//!
//! # What moves what
//!
//! - **Fills** (from `ORDER_TRADE_UPDATE` or the execution driver, each booked once per
//!   symbol, trade id and side) move the position with the model's exact arithmetic
//!   ([`Position::apply_fill`](kestrel_model::Position::apply_fill)) and the wallet by the
//!   fill's realized P&L minus its commission. The realized P&L booked is the venue's `rp`
//!   when reported, else the book's own figure rounded half to even to 10⁻⁸ — the rule Binance
//!   and the Kestrel simulator book by — so the wallet, the positions and the realized P&L
//!   equal the venue's to the last unit.
//! - **`ACCOUNT_UPDATE`** moves a wallet by its `bc` (deposits, withdrawals, funding; zero for
//!   fills, which arrive as fills) and is otherwise a check: its `wb` and `pa` are compared with
//!   the book's, and a disagreement is counted in [`StreamHealth`] and left to reconciliation
//!   (the fill that explains it may still be on its way).
//! - **Marks** (mark-price updates, venue snapshots, `MARGIN_CALL`) revalue open legs.
//! - **Venue snapshots** load the book at start and reconcile it later
//!   ([`AccountBook::reconcile`]): the venue is the truth. A difference the venue's timestamps
//!   show to be a fill still in flight (changed within `stream_grace_ms`, later than the book's
//!   last fill) is left pending; any other is reported, adopted and alerted.
//!
//! Fills and updates the book already holds through a venue snapshot are recognised by venue
//! time: at or before the snapshot's time for that leg or asset, a late fill counts in the
//! statistics (realized P&L, fees) but does not move the quantity or wallet a second time;
//! before the load snapshot it is history and ignored.

mod events;
mod fills;
mod reconcile;
mod state;
mod views;

pub use fills::FillOutcome;

use std::collections::BTreeMap;

use kestrel_model::config::{AccountConfig, AlertThresholds};
use kestrel_model::order::PositionSide;
use kestrel_model::{Money, Price, Rate};

use crate::alerts::AlertBook;
use crate::arith;
use crate::fill::SeenFills;
use crate::pnl::PnlLedger;
use crate::reconciliation::ReconciliationReport;
use crate::view::{Halt, StreamHealth};
use state::{AssetState, Leg};

/// How the book judges what it is fed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookConfig {
    /// The asset P&L, fees and margins are counted in.
    pub margin_asset: String,
    /// When alerts are raised.
    pub thresholds: AlertThresholds,
    /// A reconciliation difference above this percent halts trading.
    pub halt_threshold_pct: Rate,
    /// How long a venue change newer than the book's last fill is taken for a fill still on
    /// its way rather than a mismatch.
    pub stream_grace_ms: u64,
    /// How many fill keys are remembered to refuse repeats.
    pub fill_window: usize,
}

impl BookConfig {
    /// The book's settings from the `[account]` section: USDT margin, a 5 s grace, 100,000
    /// fills remembered.
    #[must_use]
    pub fn new(account: &AccountConfig) -> Self {
        Self {
            margin_asset: String::from("USDT"),
            thresholds: account.alert_thresholds.clone(),
            halt_threshold_pct: account.reconciliation_halt_threshold_pct,
            stream_grace_ms: 5_000,
            fill_window: 100_000,
        }
    }
}

/// Balances, positions, P&L, alerts and the last reconciliation of one venue account.
#[derive(Debug, Clone)]
pub struct AccountBook {
    config: BookConfig,
    assets: BTreeMap<String, AssetState>,
    legs: BTreeMap<(String, PositionSide), Leg>,
    marks: BTreeMap<String, Price>,
    leverage: BTreeMap<String, u32>,
    seen: SeenFills,
    /// Venue time of the load snapshot: anything at or before it is history.
    history_through_ms: u64,
    ledger: PnlLedger,
    alerts: AlertBook,
    last_report: Option<ReconciliationReport>,
    halt: Option<Halt>,
    stream: StreamHealth,
    updated_ms: u64,
}

impl AccountBook {
    /// An empty book (no balances, no positions) started at `now_ms`; normally
    /// [`AccountBook::load`]ed from the venue next.
    #[must_use]
    pub fn new(config: BookConfig, now_ms: u64) -> Self {
        let seen = SeenFills::new(config.fill_window);
        Self {
            config,
            assets: BTreeMap::new(),
            legs: BTreeMap::new(),
            marks: BTreeMap::new(),
            leverage: BTreeMap::new(),
            seen,
            history_through_ms: 0,
            ledger: PnlLedger::start(Money::ZERO, now_ms),
            alerts: AlertBook::default(),
            last_report: None,
            halt: None,
            stream: StreamHealth::default(),
            updated_ms: now_ms,
        }
    }

    /// The book's settings.
    #[must_use]
    pub const fn config(&self) -> &BookConfig {
        &self.config
    }

    /// The alerts, active and recent.
    #[must_use]
    pub const fn alerts(&self) -> &AlertBook {
        &self.alerts
    }

    /// The alerts raised since the last call (for metrics, logs and publishing).
    pub fn take_raised_alerts(&mut self) -> Vec<crate::alerts::Alert> {
        self.alerts.take_raised()
    }

    /// Marks the alert `id` acknowledged; false when there is none.
    pub fn acknowledge_alert(&mut self, id: &str) -> bool {
        self.alerts.acknowledge(id)
    }

    /// Why trading is halted, if it is.
    #[must_use]
    pub const fn halt(&self) -> Option<&Halt> {
        self.halt.as_ref()
    }

    /// Lifts a halt (the operator's manual intervention of FR-AM-004).
    pub fn clear_halt(&mut self, now_ms: u64) {
        self.halt = None;
        self.alerts.update(
            &[crate::alerts::AlertKind::TradingHalted],
            Vec::new(),
            now_ms,
        );
        self.refresh(now_ms);
    }

    /// The last reconciliation, if one ran.
    #[must_use]
    pub const fn last_reconciliation(&self) -> Option<&ReconciliationReport> {
        self.last_report.as_ref()
    }

    /// Counters of the user stream disagreeing with the book.
    #[must_use]
    pub const fn stream_health(&self) -> StreamHealth {
        self.stream
    }

    /// Advances time: rolls the day at midnight UTC and re-evaluates the alerts.
    pub fn tick(&mut self, now_ms: u64) {
        self.refresh(now_ms);
    }

    /// The margin asset's wallet plus the unrealized P&L of every open leg.
    fn margin_balance(&self) -> Money {
        let wallet = self
            .assets
            .get(&self.config.margin_asset)
            .map_or(Money::ZERO, |a| a.wallet);
        arith::add(wallet, self.unrealized())
    }

    /// Σ unrealized P&L of the open legs at their marks.
    fn unrealized(&self) -> Money {
        arith::sum(
            self.legs
                .iter()
                .map(|((symbol, _), leg)| leg.unrealized(self.marks.get(symbol).copied())),
        )
    }

    /// After every change: samples the equity curve (rolling the day) and re-evaluates the
    /// risk alerts.
    fn refresh(&mut self, now_ms: u64) {
        self.updated_ms = now_ms;
        let equity = self.margin_balance();
        self.ledger.sample(equity, now_ms);
        let figures = self.risk_figures(equity);
        let raised = crate::alerts::evaluate(&figures, &self.config.thresholds);
        self.alerts
            .update(&crate::alerts::RISK_KINDS, raised, now_ms);
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
