//! The reconciliation report (seed 000 FR-AM-004 `ReconciliationReport`, `Discrepancy`): what
//! a comparison of local state with a venue snapshot found. The comparison itself is
//! [`AccountBook::reconcile`](crate::AccountBook::reconcile).

use kestrel_model::order::PositionSide;
use kestrel_model::{Money, Rate};
use serde::{Deserialize, Serialize};

/// What a discrepancy is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscrepancyKind {
    /// A position leg's quantity.
    Position,
    /// An asset's wallet balance.
    Balance,
}

/// One difference between local state and the venue's (seed `Discrepancy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    /// Position quantity or wallet balance.
    pub kind: DiscrepancyKind,
    /// The symbol (positions) or asset (balances).
    pub symbol: String,
    /// The leg, for positions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_side: Option<PositionSide>,
    /// What the book held (signed quantity, or amount).
    pub local_size: Money,
    /// What the venue holds.
    pub exchange_size: Money,
    /// `local − exchange`.
    pub difference: Money,
    /// `|difference| / |exchange|`, percent (100 when the venue holds zero).
    pub difference_percent: Rate,
}

/// The outcome of one reconciliation (seed `ReconciliationReport`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationReport {
    /// When it ran (ms since the epoch).
    pub timestamp: u64,
    /// Position legs compared (open locally or at the venue).
    pub positions_checked: u64,
    /// Asset balances compared.
    pub balances_checked: u64,
    /// Differences found (each adopted from the venue).
    pub mismatches_found: u64,
    /// Whether any difference was found.
    pub mismatch: bool,
    /// Differences explained by fills the venue made in the last moments that have not
    /// reached the book yet; left to the stream, checked again next time.
    pub pending: u64,
    /// The differences, positions first.
    pub discrepancies: Vec<Discrepancy>,
    /// Whether a difference exceeded `reconciliation_halt_threshold_pct`: trading must halt
    /// until an operator clears it.
    pub halt_trading: bool,
}

impl ReconciliationReport {
    /// An empty report at `timestamp`.
    #[must_use]
    pub const fn new(timestamp: u64) -> Self {
        Self {
            timestamp,
            positions_checked: 0,
            balances_checked: 0,
            mismatches_found: 0,
            mismatch: false,
            pending: 0,
            discrepancies: Vec::new(),
            halt_trading: false,
        }
    }

    /// Adds a discrepancy, halting when it exceeds `halt_threshold_pct`.
    pub(crate) fn push(&mut self, discrepancy: Discrepancy, halt_threshold_pct: Rate) {
        self.mismatches_found += 1;
        self.mismatch = true;
        self.halt_trading |= discrepancy.difference_percent > halt_threshold_pct;
        self.discrepancies.push(discrepancy);
    }
}
