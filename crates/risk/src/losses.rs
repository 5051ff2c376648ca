//! [`LossStreak`]: losing trades in a row, for the consecutive-losses breaker (seed 001
//! REQ-RISK-001).
//!
//! A *trade* is the closing part of one order: every fill of the same client order id that
//! closes exposure adds to the same trade's P&L (realised, net of the closing part's share of
//! the fee), so an exit filled in five pieces is one trade, not five. A trade is losing when
//! its P&L is below zero and winning when above; a winning trade ends the streak, a
//! break-even one leaves it as it was. Fills that only open exposure are not trades.

use kestrel_model::Money;

/// The current run of losing trades.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LossStreak {
    /// Losing trades in a row before the trade in progress.
    settled: u32,
    /// The trade in progress: its order's client id and its P&L so far.
    current: Option<(String, Money)>,
}

impl LossStreak {
    /// Adds the closing part of a fill of order `client_order_id` with P&L `pnl`.
    pub fn record(&mut self, client_order_id: &str, pnl: Money) {
        match &mut self.current {
            Some((id, total)) if id == client_order_id => {
                *total = total.try_add(pnl).unwrap_or(*total);
            }
            _ => {
                self.settled = self.count();
                self.current = Some((client_order_id.to_owned(), pnl));
            }
        }
    }

    /// Losing trades in a row, the trade in progress included.
    pub fn count(&self) -> u32 {
        match &self.current {
            Some((_, pnl)) if pnl.is_negative() => self.settled.saturating_add(1),
            Some((_, pnl)) if pnl.is_positive() => 0,
            _ => self.settled,
        }
    }

    /// Starts counting afresh (manual reset of the breaker).
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usdt(units: i128) -> Money {
        Money::from_raw(units * kestrel_model::money::MONEY_ONE)
    }

    #[test]
    fn partial_fills_of_one_exit_count_as_one_trade() {
        let mut streak = LossStreak::default();
        streak.record("a", usdt(-5));
        streak.record("a", usdt(-5));
        streak.record("a", usdt(-1));
        assert_eq!(streak.count(), 1);
        streak.record("b", usdt(-2));
        assert_eq!(streak.count(), 2);
    }

    #[test]
    fn a_win_ends_the_streak_and_break_even_leaves_it() {
        let mut streak = LossStreak::default();
        streak.record("a", usdt(-5));
        streak.record("b", usdt(-5));
        streak.record("c", Money::ZERO);
        assert_eq!(streak.count(), 2);
        streak.record("d", usdt(3));
        assert_eq!(streak.count(), 0);
        streak.record("e", usdt(-1));
        assert_eq!(streak.count(), 1);
    }

    #[test]
    fn a_losing_exit_that_ends_in_profit_is_a_win() {
        let mut streak = LossStreak::default();
        streak.record("a", usdt(-5));
        streak.record("b", usdt(-1));
        streak.record("b", usdt(4));
        assert_eq!(streak.count(), 0);
    }
}
