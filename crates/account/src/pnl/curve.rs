//! The equity curve behind daily P&L, drawdown and the Sharpe ratio.
//!
//! The curve is the flow-adjusted equity: the margin balance (wallet + unrealized P&L of the
//! margin asset) minus net deposits and withdrawals since the monitor started, so moving money
//! in or out is neither profit nor drawdown. It is sampled after every change the book applies
//! and on every tick, with the caller's time.
//!
//! - The day is the UTC day of the sample time (`time_ms / 86_400_000`); the first sample of a
//!   new day closes the previous one (its return goes to the Sharpe series) and opens the new
//!   one at that sample. Daily P&L is the curve now minus the day's open; the day's opening
//!   is the later of midnight UTC and the monitor's start.
//! - Drawdown is the fall from the highest value seen; its percent is of that peak. The
//!   maximum money drawdown and the maximum percent drawdown are tracked separately (they may
//!   happen at different times). The daily drawdown is the fall from the day's peak.

use kestrel_model::{Money, Rate};

use super::sharpe::DailyReturns;
use crate::arith;

/// Milliseconds in a UTC day.
pub(crate) const DAY_MS: u64 = 86_400_000;

/// The flow-adjusted equity curve's running figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct EquityCurve {
    day: u64,
    day_open: Money,
    day_peak: Money,
    peak: Money,
    max_drawdown: Money,
    max_drawdown_pct: Rate,
    returns: DailyReturns,
}

impl EquityCurve {
    /// A curve starting at `equity` at `now_ms`.
    pub(crate) fn start(equity: Money, now_ms: u64) -> Self {
        Self {
            day: now_ms / DAY_MS,
            day_open: equity,
            day_peak: equity,
            peak: equity,
            ..Self::default()
        }
    }

    /// Records the curve's value `equity` at `now_ms`.
    pub(crate) fn sample(&mut self, equity: Money, now_ms: u64) {
        let day = now_ms / DAY_MS;
        if day > self.day {
            self.returns.push(self.day_open, equity);
            self.day = day;
            self.day_open = equity;
            self.day_peak = equity;
        }
        self.day_peak = self.day_peak.max(equity);
        self.peak = self.peak.max(equity);
        let drawdown = arith::sub(self.peak, equity);
        self.max_drawdown = self.max_drawdown.max(drawdown);
        if let Some(pct) = arith::percent(drawdown, self.peak).filter(|_| self.peak.is_positive()) {
            self.max_drawdown_pct = self.max_drawdown_pct.max(pct);
        }
    }

    /// The change since the day opened.
    pub(crate) fn daily_pnl(&self, equity: Money) -> Money {
        arith::sub(equity, self.day_open)
    }

    /// The fall from the day's peak, in percent of it (zero without a positive peak).
    pub(crate) fn daily_drawdown_pct(&self, equity: Money) -> Rate {
        if !self.day_peak.is_positive() {
            return Rate::ZERO;
        }
        let fall = arith::sub(self.day_peak, equity).max(Money::ZERO);
        arith::percent(fall, self.day_peak).unwrap_or(Rate::ZERO)
    }

    /// The largest fall from a peak so far.
    pub(crate) const fn max_drawdown(&self) -> Money {
        self.max_drawdown
    }

    /// The largest fall from a peak so far, in percent of the peak.
    pub(crate) const fn max_drawdown_pct(&self) -> Rate {
        self.max_drawdown_pct
    }

    /// The annualised Sharpe ratio of the daily returns, if defined.
    pub(crate) fn sharpe(&self) -> Option<f64> {
        self.returns.sharpe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usdt(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    const NOON: u64 = 20_000 * DAY_MS + DAY_MS / 2;

    #[test]
    fn drawdown_is_the_fall_from_the_highest_value() {
        let mut curve = EquityCurve::start(usdt("1000"), NOON);
        curve.sample(usdt("1200"), NOON + 1);
        curve.sample(usdt("900"), NOON + 2);
        curve.sample(usdt("1300"), NOON + 3);
        curve.sample(usdt("1235"), NOON + 4);
        // Peak 1200 → 900: 300, 25 %; later peak 1300 → 1235 is only 65 (5 %).
        assert_eq!(curve.max_drawdown(), usdt("300"));
        assert_eq!(curve.max_drawdown_pct(), Rate::parse("25").unwrap());
    }

    #[test]
    fn the_day_rolls_at_midnight_utc() {
        let mut curve = EquityCurve::start(usdt("1000"), NOON);
        curve.sample(usdt("1100"), NOON + 1);
        assert_eq!(curve.daily_pnl(usdt("1100")), usdt("100"));
        assert_eq!(
            curve.daily_drawdown_pct(usdt("1045")),
            Rate::parse("5").unwrap()
        );
        let midnight = NOON + DAY_MS / 2;
        curve.sample(usdt("1050"), midnight - 1);
        assert_eq!(curve.daily_pnl(usdt("1050")), usdt("50"));
        curve.sample(usdt("1060"), midnight);
        assert_eq!(curve.daily_pnl(usdt("1060")), Money::ZERO);
        assert_eq!(curve.daily_pnl(usdt("1000")), usdt("-60"));
    }
}
