//! Loading from and reconciling with a venue snapshot (seed 000 FR-AM-004): the venue is the
//! truth.
//!
//! Compared: each asset's wallet balance and each leg's quantity (open locally or at the
//! venue) — the figures the book keeps itself. A difference is *pending*, not a mismatch, when
//! the venue changed that item after the book's last change and within `stream_grace_ms` of
//! now: the fill or update that explains it is still on its way. Any other difference is a
//! [`Discrepancy`]: reported, logged, adopted (quantity with the venue's entry price, wallet),
//! counted in `reconciliation_mismatches_total` by the monitor, and alerted; above
//! `reconciliation_halt_threshold_pct` it halts trading until [`AccountBook::clear_halt`].
//!
//! An item found equal is settled as of the venue's time too: a fill from before it that
//! arrives later (an execution driver's recovery, a slow stream) is already in the venue's
//! figures and moves only the statistics.
//!
//! Figures only the venue computes (margins, available balance, liquidation prices, marks,
//! leverage) are taken from every snapshot without comparison.

use std::collections::BTreeSet;

use kestrel_model::order::PositionSide;
use kestrel_model::{Money, Qty};

use super::AccountBook;
use super::state::{AssetState, Leg};
use crate::alerts::{AlertKind, Category, Raised, Severity};
use crate::arith;
use crate::pnl::PnlLedger;
use crate::reconciliation::{Discrepancy, DiscrepancyKind, ReconciliationReport};
use crate::snapshot::{VenuePosition, VenueSnapshot};
use crate::view::Halt;

impl VenueSnapshot {
    /// The venue time the snapshot is complete up to: its latest update time.
    #[must_use]
    pub fn as_of_ms(&self) -> u64 {
        let balances = self.balances.iter().map(|b| b.update_time_ms);
        let positions = self.positions.iter().map(|p| p.update_time_ms);
        balances.chain(positions).max().unwrap_or(0)
    }
}

impl AccountBook {
    /// Replaces the book's balances and positions with the venue's and starts the P&L from
    /// here: realized P&L, fees and drawdown count from this moment, and fills at or before the
    /// snapshot are history.
    pub fn load(&mut self, venue: &VenueSnapshot, now_ms: u64) {
        let as_of = venue.as_of_ms();
        self.history_through_ms = as_of;
        self.assets = venue
            .balances
            .iter()
            .map(|b| {
                (
                    b.asset.clone(),
                    AssetState::adopted(b.wallet_balance, as_of),
                )
            })
            .collect();
        self.legs = venue
            .positions
            .iter()
            .filter(|p| !p.qty.is_zero())
            .map(|p| {
                let mut leg = Leg::flat(&p.symbol, p.position_side);
                leg.adopt(p, as_of);
                ((p.symbol.clone(), p.position_side), leg)
            })
            .collect();
        self.adopt_venue_figures(venue);
        self.ledger = PnlLedger::start(self.margin_balance(), now_ms);
        self.refresh(now_ms);
    }

    /// Compares the book with `venue`, adopts the venue's values where they differ, and
    /// reports what was found.
    pub fn reconcile(&mut self, venue: &VenueSnapshot, now_ms: u64) -> ReconciliationReport {
        let mut report = ReconciliationReport::new(now_ms);
        self.reconcile_positions(venue, now_ms, &mut report);
        self.reconcile_balances(venue, now_ms, &mut report);
        self.adopt_venue_figures(venue);
        if report.mismatch {
            tracing::warn!(target: "kestrel::account", mismatches = report.mismatches_found,
                halt = report.halt_trading, discrepancies = ?report.discrepancies,
                "reconciliation found local state differing from the venue's; adopted the venue's");
        }
        if report.halt_trading && self.halt.is_none() {
            self.halt = Some(Halt {
                reason: halt_reason(&report),
                since: now_ms,
            });
        }
        self.alert_on(&report, now_ms);
        self.last_report = Some(report.clone());
        self.refresh(now_ms);
        report
    }

    fn reconcile_positions(
        &mut self,
        venue: &VenueSnapshot,
        now_ms: u64,
        report: &mut ReconciliationReport,
    ) {
        let as_of = venue.as_of_ms();
        let (grace, halt_pct) = (self.config.stream_grace_ms, self.config.halt_threshold_pct);
        let open_here = self
            .legs
            .iter()
            .filter(|(_, l)| !l.position.qty.is_zero())
            .map(|(k, _)| k.clone());
        let open_there = venue.positions.iter().filter(|p| !p.qty.is_zero());
        let keys: BTreeSet<(String, PositionSide)> = open_here
            .chain(open_there.map(|p| (p.symbol.clone(), p.position_side)))
            .collect();
        for (symbol, side) in keys {
            report.positions_checked += 1;
            let row = venue
                .positions
                .iter()
                .find(|p| p.symbol == symbol && p.position_side == side);
            let flat = VenuePosition::flat(&symbol, side, as_of);
            let row = row.unwrap_or(&flat);
            let leg = self
                .legs
                .entry((symbol.clone(), side))
                .or_insert_with(|| Leg::flat(&symbol, side));
            if leg.position.qty == row.qty {
                // In agreement as of the venue's time: any fill up to then is in.
                leg.settled_through_ms = leg.settled_through_ms.max(row.update_time_ms);
                continue;
            }
            if in_flight(row.update_time_ms, leg.last_fill_ms, now_ms, grace) {
                report.pending += 1;
                continue;
            }
            let discrepancy = position_discrepancy(&symbol, side, leg.position.qty, row.qty);
            leg.adopt(row, row.update_time_ms);
            report.push(discrepancy, halt_pct);
        }
    }

    fn reconcile_balances(
        &mut self,
        venue: &VenueSnapshot,
        now_ms: u64,
        report: &mut ReconciliationReport,
    ) {
        let as_of = venue.as_of_ms();
        let (grace, halt_pct) = (self.config.stream_grace_ms, self.config.halt_threshold_pct);
        let assets: BTreeSet<String> = self
            .assets
            .keys()
            .cloned()
            .chain(venue.balances.iter().map(|b| b.asset.clone()))
            .collect();
        for asset in assets {
            report.balances_checked += 1;
            let row = venue.balances.iter().find(|b| b.asset == asset);
            let (wallet, venue_time) = row.map_or((Money::ZERO, as_of), |b| {
                (b.wallet_balance, b.update_time_ms)
            });
            let state = self
                .assets
                .entry(asset.clone())
                .or_insert_with(|| AssetState::adopted(Money::ZERO, 0));
            if state.wallet == wallet {
                state.settled_through_ms = state.settled_through_ms.max(venue_time);
                continue;
            }
            if in_flight(venue_time, state.last_change_ms, now_ms, grace) {
                report.pending += 1;
                continue;
            }
            let discrepancy = Discrepancy {
                kind: DiscrepancyKind::Balance,
                symbol: asset,
                position_side: None,
                local_size: state.wallet,
                exchange_size: wallet,
                difference: arith::sub(state.wallet, wallet),
                difference_percent: arith::difference_percent(state.wallet, wallet),
            };
            state.adopt(wallet, venue_time);
            report.push(discrepancy, halt_pct);
        }
    }

    /// Takes what only the venue computes: margins, available balance, liquidation prices,
    /// marks and leverage.
    fn adopt_venue_figures(&mut self, venue: &VenueSnapshot) {
        for balance in &venue.balances {
            if let Some(state) = self.assets.get_mut(&balance.asset) {
                state.venue = Some(balance.clone());
            }
        }
        for leg in self.legs.values_mut() {
            leg.liquidation_price = kestrel_model::Price::ZERO;
            leg.initial_margin = Money::ZERO;
            leg.maint_margin = Money::ZERO;
        }
        for row in &venue.positions {
            if row.mark_price.is_positive() {
                self.marks.insert(row.symbol.clone(), row.mark_price);
            }
            if let Some(leg) = self.legs.get_mut(&(row.symbol.clone(), row.position_side)) {
                leg.liquidation_price = row.liquidation_price;
                leg.initial_margin = row.initial_margin;
                leg.maint_margin = row.maint_margin;
            }
        }
        self.leverage
            .extend(venue.leverage.iter().map(|(s, l)| (s.clone(), *l)));
    }

    /// Raises or clears the reconciliation and halt alerts.
    fn alert_on(&mut self, report: &ReconciliationReport, now_ms: u64) {
        let mismatch = report.mismatch.then(|| Raised {
            kind: AlertKind::ReconciliationMismatch,
            subject: None,
            severity: if report.halt_trading {
                Severity::Critical
            } else {
                Severity::Warning
            },
            category: Category::Position,
            message: format!(
                "reconciliation found {} mismatch(es) with the venue; adopted the venue's values",
                report.mismatches_found
            ),
        });
        self.alerts.update(
            &[AlertKind::ReconciliationMismatch],
            mismatch.into_iter().collect(),
            now_ms,
        );
        let halted = self.halt.as_ref().map(|halt| Raised {
            kind: AlertKind::TradingHalted,
            subject: None,
            severity: Severity::Critical,
            category: Category::System,
            message: format!("trading halted: {}", halt.reason),
        });
        self.alerts.update(
            &[AlertKind::TradingHalted],
            halted.into_iter().collect(),
            now_ms,
        );
    }
}

impl VenuePosition {
    /// A flat leg as of venue time `as_of_ms` (what a venue that leaves flat legs out means).
    fn flat(symbol: &str, position_side: PositionSide, as_of_ms: u64) -> Self {
        Self {
            symbol: symbol.to_owned(),
            position_side,
            qty: Qty::ZERO,
            entry_price: kestrel_model::Price::ZERO,
            mark_price: kestrel_model::Price::ZERO,
            unrealized_pnl: Money::ZERO,
            liquidation_price: kestrel_model::Price::ZERO,
            initial_margin: Money::ZERO,
            maint_margin: Money::ZERO,
            update_time_ms: as_of_ms,
        }
    }
}

/// Whether the venue changed an item after the book's last change to it, recently enough (within
/// `grace_ms` of now) that the event carrying the change may still be on its way.
const fn in_flight(venue_ms: u64, local_ms: u64, now_ms: u64, grace_ms: u64) -> bool {
    venue_ms > local_ms && now_ms < venue_ms.saturating_add(grace_ms)
}

fn position_discrepancy(symbol: &str, side: PositionSide, local: Qty, venue: Qty) -> Discrepancy {
    let (local, venue) = (local.to_money(), venue.to_money());
    Discrepancy {
        kind: DiscrepancyKind::Position,
        symbol: symbol.to_owned(),
        position_side: Some(side),
        local_size: local,
        exchange_size: venue,
        difference: arith::sub(local, venue),
        difference_percent: arith::difference_percent(local, venue),
    }
}

fn halt_reason(report: &ReconciliationReport) -> String {
    let worst = report
        .discrepancies
        .iter()
        .max_by_key(|d| d.difference_percent);
    worst.map_or_else(String::new, |d| {
        format!(
            "{} {} differs from the venue by {}% (local {}, venue {}), above \
             reconciliation_halt_threshold_pct",
            d.symbol,
            match d.kind {
                DiscrepancyKind::Position => "position",
                DiscrepancyKind::Balance => "balance",
            },
            d.difference_percent,
            d.local_size,
            d.exchange_size
        )
    })
}
