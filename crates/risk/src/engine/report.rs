//! What the engine tells the world besides decisions: the status snapshot, the daily
//! figures, the orders that flatten the book, and stress tests of the current positions.

use kestrel_model::{Money, Rate, Side};

use super::RiskEngine;
use crate::breakers::{Breaker, ResetPolicy};
use crate::error::AnalysisError;
use crate::kill::FlattenOrder;
use crate::ratio::{self, PERCENT, TIMES};
use crate::rule::RiskRule;
use crate::state::LEG_SIDES;
use crate::status::{BreakerStatus, PositionStatus, RiskStatus, RuleCount};
use crate::stress::{StressPosition, StressResult, stress_test};

impl RiskEngine {
    /// Wallet plus unrealised P&L, in USDT.
    #[must_use]
    pub fn equity(&self) -> Money {
        self.portfolio.equity()
    }

    /// Equity change since the UTC day's open, as the checks at `now_ms` see it.
    #[must_use]
    pub fn daily_pnl(&self, now_ms: u64) -> Money {
        let equity = self.portfolio.equity();
        let open = self.day.open_equity(now_ms, equity);
        equity.try_sub(open).unwrap_or(Money::ZERO)
    }

    /// Sets the day's opening equity when it is known from elsewhere (the store, after a
    /// restart mid-day); otherwise the day opens at the equity of [`Self::start`].
    pub fn set_day_open_equity(&mut self, open_equity: Money, now_ms: u64) {
        self.day.set_open(now_ms, open_equity);
    }

    /// The orders that close every open position: what the engine sends after the kill
    /// switch asks to flatten (by symbol, then leg).
    #[must_use]
    pub fn flatten_plan(&self) -> Vec<FlattenOrder> {
        let mut plan = Vec::new();
        for (symbol, state) in self.portfolio.symbols() {
            for side in LEG_SIDES {
                let qty = state.leg_qty(side);
                if qty.is_zero() {
                    continue;
                }
                plan.push(FlattenOrder {
                    symbol: symbol.to_owned(),
                    position_side: side,
                    side: if qty.is_positive() {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                    quantity: qty.abs(),
                });
            }
        }
        plan
    }

    /// The open positions at their marks (at the entry price while no mark is known), for a
    /// stress test.
    #[must_use]
    pub fn stress_positions(&self) -> Vec<StressPosition> {
        self.positions(0)
            .into_iter()
            .filter_map(|p| {
                let mark = p.mark.or(p.entry_price)?;
                Some(StressPosition {
                    symbol: p.symbol,
                    qty: p.qty,
                    mark,
                })
            })
            .collect()
    }

    /// Shocks every open position by `shock_pct` percent ([`crate::stress`]).
    ///
    /// # Errors
    /// As [`stress_test`].
    pub fn stress_test(&self, shock_pct: Rate) -> Result<StressResult, AnalysisError> {
        stress_test(&self.stress_positions(), shock_pct)
    }

    fn positions(&self, now_ms: u64) -> Vec<PositionStatus> {
        let mut all = Vec::new();
        for (symbol, state) in self.portfolio.symbols() {
            for (leg, side) in state.legs.iter().zip(LEG_SIDES) {
                if leg.qty.is_zero() {
                    continue;
                }
                all.push(PositionStatus {
                    symbol: symbol.to_owned(),
                    position_side: side,
                    qty: leg.qty,
                    entry_price: leg.entry_price(),
                    mark: state.mark,
                    value: state
                        .mark
                        .map_or(leg.cost_basis.abs(), |m| leg.notional_at(m)),
                    unrealised_pnl: state.mark.and_then(|m| leg.unrealized_pnl(m).ok()),
                    market_data_age_ms: state.data_age_ms(now_ms),
                });
            }
        }
        all
    }

    fn breaker_statuses(&self, now_ms: u64) -> Vec<BreakerStatus> {
        let mut all: Vec<BreakerStatus> = [
            Breaker::ConsecutiveLosses,
            Breaker::WindowDrawdown,
            Breaker::VenueLatency,
        ]
        .into_iter()
        .map(|breaker| {
            let trip = self.breakers.trip(breaker);
            BreakerStatus {
                breaker,
                symbol: None,
                tripped: trip.is_some(),
                reason: trip.map(|t| t.reason.clone()),
                since_ms: trip.map(|t| t.since_ms),
                reset: breaker.reset_policy(),
            }
        })
        .collect();
        let max = self.config.max_market_data_staleness_ms;
        for (symbol, state) in self.portfolio.symbols() {
            let age = state.data_age_ms(now_ms);
            if age.is_some_and(|age| age <= max) {
                continue;
            }
            all.push(BreakerStatus {
                breaker: Breaker::StaleMarketData,
                symbol: Some(symbol.to_owned()),
                tripped: true,
                reason: Some(age.map_or_else(
                    || "no market data received".to_owned(),
                    |age| format!("market data is {age} ms old; the limit is {max} ms"),
                )),
                since_ms: state.stale_since_ms,
                reset: ResetPolicy::WhenHealthy,
            });
        }
        all
    }

    /// The portfolio-wide rules refusing opening orders at `now_ms`.
    fn halted_by(&self, now_ms: u64) -> Vec<RiskRule> {
        let equity = self.portfolio.equity();
        let open = self.day.open_equity(now_ms, equity);
        let loss = open.try_sub(equity).unwrap_or(Money::ZERO);
        let daily_dd = ratio::compare(loss, open, PERCENT, self.config.max_daily_drawdown_pct);
        [
            (RiskRule::KillSwitch, self.kill.is_engaged()),
            (RiskRule::ConsecutiveLosses, self.breakers.losses.is_some()),
            (RiskRule::WindowDrawdown, self.breakers.drawdown.is_some()),
            (RiskRule::VenueLatency, self.breakers.latency.is_some()),
            (
                RiskRule::DailyLoss,
                loss.is_positive() && loss >= self.config.max_daily_loss_usdt,
            ),
            (
                RiskRule::DailyDrawdown,
                loss.is_positive() && daily_dd.is_some_and(|o| o.is_ge()),
            ),
        ]
        .into_iter()
        .filter_map(|(rule, active)| active.then_some(rule))
        .collect()
    }

    /// The whole risk picture at `now_ms`, for `/status` and the dashboard.
    #[must_use]
    pub fn status(&self, now_ms: u64) -> RiskStatus {
        let equity = self.portfolio.equity();
        let open = self.day.open_equity(now_ms, equity);
        let fall = open.try_sub(equity).unwrap_or(Money::ZERO);
        let peak = self.breakers.peaks.peak();
        let halted_by = self.halted_by(now_ms);
        RiskStatus {
            at_ms: now_ms,
            opening_allowed: halted_by.is_empty(),
            halted_by,
            kill_switch: self.kill.status(),
            breakers: self.breaker_statuses(now_ms),
            wallet_balance: self.portfolio.wallet(),
            unrealised_pnl: self.portfolio.unrealised(),
            equity,
            day_open_equity: open,
            daily_pnl: equity.try_sub(open).unwrap_or(Money::ZERO),
            daily_drawdown_pct: ratio::ratio(fall.max(Money::ZERO), open, PERCENT),
            window_peak_equity: peak,
            window_drawdown_pct: peak.and_then(|peak| {
                let fall = peak.try_sub(equity).ok()?.max(Money::ZERO);
                ratio::ratio(fall, peak, PERCENT)
            }),
            consecutive_losses: self.breakers.streak.count(),
            total_exposure: self.portfolio.exposure(),
            leverage: ratio::ratio(self.portfolio.exposure(), equity, TIMES),
            orders_last_second: self.window.in_window(now_ms),
            last_venue_latency_ms: self.breakers.last_latency_ms,
            positions: self.positions(now_ms),
            limits: self.config.clone(),
            rejections: self.rule_counts(),
            events_dropped: self.events.dropped(),
        }
    }

    fn rule_counts(&self) -> Vec<RuleCount> {
        RiskRule::ALL
            .into_iter()
            .zip(self.rejections)
            .filter(|(_, count)| *count > 0)
            .map(|(rule, count)| RuleCount { rule, count })
            .collect()
    }
}
