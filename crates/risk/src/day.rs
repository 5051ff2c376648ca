//! [`DayLedger`]: the trading day (UTC) and the equity it opened with, which the daily loss
//! and daily drawdown limits measure from.
//!
//! The day is anchored once the engine has started (its state loaded) and a wallet balance is
//! known — whichever comes last, so a timer that starts the engine before the account
//! snapshot arrives cannot anchor the day at zero equity — or when the caller sets the
//! opening equity it knows (from the store, for a restart mid-day). From then on the first
//! event or check on a later UTC date rolls the day: yesterday closes at the equity of that
//! moment and today opens with it, so the daily figures restart from zero at midnight. A
//! check that runs after midnight but before anything rolled the day already sees a new day
//! with zero P&L, so no order is refused for yesterday's loss.

use kestrel_model::Money;

/// Milliseconds in a UTC day (the epoch is a UTC midnight, so days are `ms / DAY_MS`).
pub const DAY_MS: u64 = 86_400_000;

/// The UTC day number of `now_ms`.
pub(crate) const fn day_of(now_ms: u64) -> u64 {
    now_ms / DAY_MS
}

/// What a roll closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DayRoll {
    /// The start of the new day (ms since the epoch).
    pub day_start_ms: u64,
    /// The P&L of the day that ended: closing minus opening equity.
    pub previous_pnl: Money,
    /// The new day's opening equity.
    pub open_equity: Money,
}

/// The current trading day and its opening equity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DayLedger {
    /// `(day number, opening equity)` once anchored.
    anchor: Option<(u64, Money)>,
}

impl DayLedger {
    /// Whether a day has been anchored.
    pub const fn is_anchored(&self) -> bool {
        self.anchor.is_some()
    }

    /// Anchors the day at `now_ms` with `equity` unless one is anchored already.
    pub fn anchor(&mut self, now_ms: u64, equity: Money) {
        if self.anchor.is_none() {
            self.anchor = Some((day_of(now_ms), equity));
        }
    }

    /// Sets the opening equity of the day containing `now_ms` (known from elsewhere).
    pub fn set_open(&mut self, now_ms: u64, open_equity: Money) {
        self.anchor = Some((day_of(now_ms), open_equity));
    }

    /// Starts a new day if `now_ms` is on a later UTC date than the anchored one.
    pub fn roll(&mut self, now_ms: u64, equity: Money) -> Option<DayRoll> {
        let (day, open) = self.anchor?;
        let today = day_of(now_ms);
        if today <= day {
            return None;
        }
        self.anchor = Some((today, equity));
        Some(DayRoll {
            day_start_ms: today.saturating_mul(DAY_MS),
            previous_pnl: equity.try_sub(open).unwrap_or(Money::ZERO),
            open_equity: equity,
        })
    }

    /// The day's opening equity as a check at `now_ms` sees it: the current `equity` when no
    /// day is anchored or the date has changed and not rolled yet (so daily P&L reads zero).
    pub fn open_equity(&self, now_ms: u64, equity: Money) -> Money {
        match self.anchor {
            Some((day, open)) if day_of(now_ms) <= day => open,
            _ => equity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usdt(units: i128) -> Money {
        Money::from_raw(units * kestrel_model::money::MONEY_ONE)
    }

    #[test]
    fn the_first_event_after_utc_midnight_rolls_the_day() {
        let mut ledger = DayLedger::default();
        let noon = 10 * DAY_MS + DAY_MS / 2;
        ledger.anchor(noon, usdt(10_000));
        assert_eq!(ledger.roll(11 * DAY_MS - 1, usdt(9_000)), None);
        let roll = ledger.roll(11 * DAY_MS, usdt(9_500)).unwrap();
        assert_eq!(roll.day_start_ms, 11 * DAY_MS);
        assert_eq!(roll.previous_pnl, usdt(-500));
        assert_eq!(
            ledger.open_equity(11 * DAY_MS + 5, usdt(9_000)),
            usdt(9_500)
        );
    }

    #[test]
    fn before_the_roll_a_new_date_reads_as_a_fresh_day() {
        let mut ledger = DayLedger::default();
        ledger.anchor(0, usdt(10_000));
        assert_eq!(ledger.open_equity(DAY_MS - 1, usdt(9_000)), usdt(10_000));
        assert_eq!(ledger.open_equity(DAY_MS, usdt(9_000)), usdt(9_000));
    }

    #[test]
    fn anchoring_twice_keeps_the_first_figure() {
        let mut ledger = DayLedger::default();
        assert_eq!(ledger.open_equity(5, usdt(7)), usdt(7));
        ledger.anchor(5, usdt(100));
        ledger.anchor(6, usdt(200));
        assert_eq!(ledger.open_equity(7, usdt(300)), usdt(100));
        ledger.set_open(8, usdt(250));
        assert_eq!(ledger.open_equity(9, usdt(300)), usdt(250));
    }
}
