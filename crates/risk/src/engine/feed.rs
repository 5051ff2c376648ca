//! The events that update the risk state: fills, position snapshots, wallet balances, mark
//! prices and other market data, venue round trips, and the passing of time.

use kestrel_model::order::PositionSide;
use kestrel_model::{Fill, Money, Price, Qty};

use super::RiskEngine;
use crate::breakers::Breaker;
use crate::error::RiskError;
use crate::events::RiskEvent;

impl RiskEngine {
    /// One of our fills, on the position leg it belongs to (`Both` in one-way mode): moves
    /// the position and the wallet (realised P&L minus a USDT fee) and, when it closes
    /// exposure, counts toward the losing streak.
    ///
    /// # Errors
    /// [`RiskError`] when the fill does not fit the position (a hedge leg crossing zero, a
    /// non-positive price or quantity) or an amount overflows; nothing changes.
    pub fn on_fill(
        &mut self,
        fill: &Fill,
        leg: PositionSide,
        now_ms: u64,
    ) -> Result<(), RiskError> {
        let outcome = self.portfolio.apply_fill(fill, leg)?;
        if outcome.closed.is_positive() {
            let trip = self.breakers.on_trade(
                &fill.client_order_id,
                outcome.trade_pnl,
                &self.config,
                now_ms,
            );
            if let Some(event) = trip {
                self.emit(event);
            }
        }
        self.after_change(now_ms);
        Ok(())
    }

    /// The venue's figures for one position leg (start-up, reconciliation): they replace
    /// ours.
    ///
    /// # Errors
    /// [`RiskError::Money`] when an amount overflows; nothing changes.
    pub fn on_position(
        &mut self,
        symbol: &str,
        leg: PositionSide,
        qty: Qty,
        entry_price: Price,
        now_ms: u64,
    ) -> Result<(), RiskError> {
        self.portfolio.set_position(symbol, leg, qty, entry_price)?;
        self.after_change(now_ms);
        Ok(())
    }

    /// The venue's wallet balance in USDT: it replaces ours (which fills move in between).
    pub fn on_wallet_balance(&mut self, total: Money, now_ms: u64) {
        self.portfolio.set_wallet(total);
        self.anchor_if_ready(now_ms);
    }

    /// A new mark price for `symbol` (it also counts as fresh market data).
    ///
    /// # Errors
    /// [`RiskError::Money`] when an amount overflows; nothing changes.
    pub fn on_mark_price(
        &mut self,
        symbol: &str,
        mark: Price,
        now_ms: u64,
    ) -> Result<(), RiskError> {
        let was_stale = self.portfolio.set_mark(symbol, mark, now_ms)?;
        self.fresh_again(symbol, was_stale, now_ms);
        self.after_change(now_ms);
        Ok(())
    }

    /// Market data for `symbol` without a new mark (a depth update, a trade): it keeps the
    /// symbol fresh for the staleness breaker.
    pub fn on_market_data(&mut self, symbol: &str, now_ms: u64) {
        let was_stale = self.portfolio.touch(symbol, now_ms);
        self.fresh_again(symbol, was_stale, now_ms);
    }

    fn fresh_again(&mut self, symbol: &str, was_stale: Option<u64>, now_ms: u64) {
        if was_stale.is_some() {
            self.emit(RiskEvent::BreakerReset {
                breaker: Breaker::StaleMarketData,
                symbol: Some(symbol.to_owned()),
                manual: false,
                at_ms: now_ms,
            });
        }
    }

    /// A venue round trip (an order acknowledgement, a ping) took `latency_ms`.
    pub fn on_venue_latency(&mut self, latency_ms: u64, now_ms: u64) {
        if let Some(event) = self.breakers.on_latency(latency_ms, &self.config, now_ms) {
            self.emit(event);
        }
    }

    /// Time passed with no other event (call it on a timer, e.g. every 100 ms to 1 s): rolls
    /// the UTC day, lets old peaks leave the drawdown window, and trips the staleness breaker
    /// of symbols whose data went quiet (checks see staleness at once; this is what reports
    /// it).
    pub fn on_time(&mut self, now_ms: u64) {
        self.start(now_ms);
        self.after_change(now_ms);
        self.trip_stale(now_ms);
    }

    fn trip_stale(&mut self, now_ms: u64) {
        let max = self.config.max_market_data_staleness_ms;
        let mut tripped = Vec::new();
        for (symbol, state) in self.portfolio.symbols_mut() {
            let age = state.data_age_ms(now_ms);
            if state.stale_since_ms.is_some() || age.is_some_and(|age| age <= max) {
                continue;
            }
            state.stale_since_ms = Some(now_ms);
            let reason = age.map_or_else(
                || format!("no market data has been received for {symbol}"),
                |age| {
                    format!(
                        "{symbol} market data is {age} ms old; the limit is max_market_data_staleness_ms {max} ms"
                    )
                },
            );
            tripped.push((symbol.to_owned(), reason));
        }
        for (symbol, reason) in tripped {
            self.emit(RiskEvent::BreakerTripped {
                breaker: Breaker::StaleMarketData,
                symbol: Some(symbol),
                reason,
                at_ms: now_ms,
            });
        }
    }

    /// Rolls the day when the date changed (once anchored).
    pub(super) fn advance(&mut self, now_ms: u64) {
        if let Some(roll) = self.day.roll(now_ms, self.portfolio.equity()) {
            tracing::info!(pnl = %roll.previous_pnl, "risk: new UTC day");
            self.emit(RiskEvent::DayRolled {
                day_start_ms: roll.day_start_ms,
                previous_day_pnl: roll.previous_pnl,
                open_equity: roll.open_equity,
            });
        }
    }

    /// After anything that moves equity: roll the day and sample equity for the drawdown
    /// window (once the day is anchored, so loading the state is not mistaken for a
    /// drawdown).
    pub(super) fn after_change(&mut self, now_ms: u64) {
        if !self.day.is_anchored() {
            return;
        }
        self.advance(now_ms);
        let equity = self.portfolio.equity();
        if let Some(event) = self.breakers.on_equity(equity, &self.config, now_ms) {
            self.emit(event);
        }
    }
}
