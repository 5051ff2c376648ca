//! Reading the book: balances, positions, P&L, margins, the risk figures the alerts check, and
//! the whole [`AccountView`].

use kestrel_model::{Money, Price};

use super::AccountBook;
use super::state::Leg;
use crate::alerts::{LegRisk, RiskFigures};
use crate::arith;
use crate::pnl::PnlSummary;
use crate::view::{AccountView, AssetBalance, MarginSummary, PositionView};

impl AccountBook {
    /// Every asset's balance, by asset.
    #[must_use]
    pub fn balances(&self) -> Vec<AssetBalance> {
        let unrealized = self.unrealized();
        self.assets
            .iter()
            .map(|(asset, state)| {
                let venue = state.venue.as_ref();
                let figure =
                    |f: fn(&crate::snapshot::VenueBalance) -> Money| venue.map_or(Money::ZERO, f);
                let unrealized = if *asset == self.config.margin_asset {
                    unrealized
                } else {
                    figure(|v| v.unrealized_pnl)
                };
                let margin_balance = arith::add(state.wallet, unrealized);
                AssetBalance {
                    asset: asset.clone(),
                    total_balance: state.wallet,
                    available_balance: arith::sub(margin_balance, figure(|v| v.initial_margin)),
                    in_orders: figure(|v| v.open_order_initial_margin),
                    unrealized_pnl: unrealized,
                    margin_balance,
                    initial_margin: figure(|v| v.initial_margin),
                    maint_margin: figure(|v| v.maint_margin),
                    timestamp: state.last_change_ms,
                }
            })
            .collect()
    }

    /// The open position legs, by symbol then leg.
    #[must_use]
    pub fn positions(&self) -> Vec<PositionView> {
        self.legs
            .values()
            .filter(|leg| !leg.position.qty.is_zero())
            .map(|leg| self.position_view(leg))
            .collect()
    }

    fn position_view(&self, leg: &Leg) -> PositionView {
        let p = &leg.position;
        let mark = self.marks.get(&p.symbol).copied();
        PositionView {
            symbol: p.symbol.clone(),
            side: p.direction(),
            position_side: p.position_side,
            size: p.qty.abs(),
            qty: p.qty,
            entry_price: p.entry_price().unwrap_or(Price::ZERO),
            mark_price: mark,
            liquidation_price: Some(leg.liquidation_price).filter(|l| l.is_positive()),
            unrealized_pnl: leg.unrealized(mark),
            unrealized_pnl_percent: mark.and_then(|m| p.unrealized_pnl_percent(m)),
            leverage: self.leverage.get(&p.symbol).copied(),
            margin_used: leg.initial_margin,
            notional: mark.map_or(Money::ZERO, |m| p.notional_at(m)),
            realized_pnl: leg.booked_realized,
            fees: p.fees,
            timestamp: leg.last_fill_ms,
        }
    }

    /// The P&L summary at `now_ms`.
    #[must_use]
    pub fn pnl(&self, now_ms: u64) -> PnlSummary {
        self.ledger
            .summary(self.unrealized(), self.margin_balance(), now_ms)
    }

    /// Margin balance, maintenance margin, exposure and their ratios.
    #[must_use]
    pub fn margin(&self) -> MarginSummary {
        let margin_balance = self.margin_balance();
        let maint_margin = arith::sum(self.legs.values().map(|leg| leg.maint_margin));
        let exposure = self.exposure();
        MarginSummary {
            margin_balance,
            maint_margin,
            maint_margin_ratio: arith::percent(maint_margin, margin_balance)
                .filter(|_| margin_balance.is_positive()),
            exposure,
            margin_level: arith::percent(margin_balance, exposure),
        }
    }

    /// The whole account at `now_ms` (seed `GetAccountState()`).
    #[must_use]
    pub fn view(&self, now_ms: u64) -> AccountView {
        AccountView {
            timestamp: now_ms,
            margin_asset: self.config.margin_asset.clone(),
            balances: self.balances(),
            positions: self.positions(),
            pnl: self.pnl(now_ms),
            margin: self.margin(),
            reconciliation: self.last_report.clone(),
            alerts: self.alerts.active().cloned().collect(),
            alert_history: self.alerts.history().cloned().collect(),
            trading_halted: self.halt.clone(),
            stream: self.stream,
        }
    }

    /// Σ |mark × qty| over open legs with a mark.
    fn exposure(&self) -> Money {
        arith::sum(self.legs.values().map(|leg| {
            self.marks
                .get(&leg.position.symbol)
                .map_or(Money::ZERO, |m| leg.position.notional_at(*m))
        }))
    }

    /// What the risk alerts check, at margin balance `equity`.
    pub(super) fn risk_figures(&self, equity: Money) -> RiskFigures<'_> {
        let legs = self
            .legs
            .values()
            .filter(|leg| !leg.position.qty.is_zero())
            .map(|leg| {
                let mark = self.marks.get(&leg.position.symbol).copied();
                LegRisk {
                    symbol: &leg.position.symbol,
                    position_side: leg.position.position_side,
                    value: mark.map_or(Money::ZERO, |m| leg.position.notional_at(m)),
                    liquidation_distance_pct: mark
                        .and_then(|m| liquidation_distance(m, leg.liquidation_price)),
                }
            })
            .collect();
        RiskFigures {
            daily_drawdown_pct: self.ledger.daily_drawdown_pct(equity),
            margin_level_pct: arith::percent(equity, self.exposure()),
            legs,
        }
    }
}

/// |mark − liquidation| / mark, percent; `None` without both prices.
fn liquidation_distance(mark: Price, liquidation: Price) -> Option<kestrel_model::Rate> {
    if !mark.is_positive() || !liquidation.is_positive() {
        return None;
    }
    let gap = mark.try_sub(liquidation).ok()?.abs();
    arith::percent(gap.to_money(), mark.to_money())
}
