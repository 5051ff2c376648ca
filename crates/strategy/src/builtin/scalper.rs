//! `scalper`: the EMA-crossover + RSI scalping strategy of seed 003 (`ScalpingStrategy`),
//! with stop-loss and take-profit exits.
//!
//! Once per `interval_ms` the reference price (mid, or last trade) feeds a short and a long
//! EMA and an RSI. When flat it enters:
//! - **buy** when the short EMA is above the long one (an uptrend) and the RSI is below
//!   `rsi_oversold` (a dip in it);
//! - **sell** when the short EMA is below the long one and the RSI is above `rsi_overbought`;
//!
//! and, when `min_volume` is set, only if the last interval traded at least that much. The
//! entry signal carries the stop-loss and take-profit prices `stop_loss_pct` and
//! `take_profit_pct` percent away from the price. Strength is 0.5 at the RSI bound, growing to
//! 1 at the RSI's extreme.
//!
//! Once in a position (learned from `on_position_update`) it checks every event, not just
//! samples: a price `stop_loss_pct` percent against the entry price exits `aggressive`; a
//! price `take_profit_pct` percent in favour exits `normal` (a maker order at a price already
//! in profit). An exit is repeated at most once per `retry_ms` while the position is open, and
//! after an entry signal no new one is given for `retry_ms` unless the position changes.
//!
//! All indicator arithmetic is exact fixed-point (see [`crate::indicators`]).
//!
//! # Parameters
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `ema_short_period` | short EMA period, in samples (below `ema_long_period`) | 9 |
//! | `ema_long_period` | long EMA period, in samples | 21 |
//! | `rsi_period` | RSI period, in price changes | 14 |
//! | `rsi_oversold` | RSI below which an uptrend dip is bought | `"30"` |
//! | `rsi_overbought` | RSI above which a downtrend spike is sold | `"70"` |
//! | `stop_loss_pct` | loss from entry, in percent, that exits | `"0.5"` |
//! | `take_profit_pct` | gain from entry, in percent, that exits | `"1"` |
//! | `min_volume` | base quantity the last interval must have traded (absent: no check) | — |
//! | `interval_ms` | sampling interval; 0 samples every event | 1000 |
//! | `entry_urgency` | urgency of entry signals | `"normal"` |
//! | `retry_ms` | least time between two entry or two exit signals | 5000 |

use kestrel_model::money::{FIXED_ONE, Price, Qty, Rate};
use kestrel_model::order::Side;
use kestrel_model::position::Position;
use serde_json::json;

use crate::action::Actions;
use crate::error::StrategyError;
use crate::indicators::{Ema, Rsi, Sampler};
use crate::market::MarketView;
use crate::signal::{SignalIntent, Strength, Urgency};
use crate::strategy::{Strategy, StrategyContext};

/// The registered type name.
pub const KIND: &str = "scalper";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    ema_short: u32,
    ema_long: u32,
    rsi_period: u32,
    oversold: Rate,
    overbought: Rate,
    stop_loss_pct: Rate,
    take_profit_pct: Rate,
    min_volume: Option<Qty>,
    interval_ms: u64,
    entry_urgency: Urgency,
    retry_ms: u64,
}

/// The scalping strategy.
#[derive(Debug, Clone)]
pub struct Scalper {
    settings: Option<Settings>,
    sampler: Sampler,
    short: Ema,
    long: Ema,
    rsi: Rsi,
    volume: Qty,
    last_volume: Qty,
    position: Qty,
    entry: Option<Price>,
    /// Earliest time for the next entry or exit signal.
    quiet_until_ms: u64,
}

impl Default for Scalper {
    fn default() -> Self {
        Self {
            settings: None,
            sampler: Sampler::default(),
            short: Ema::new(1),
            long: Ema::new(1),
            rsi: Rsi::new(1),
            volume: Qty::ZERO,
            last_volume: Qty::ZERO,
            position: Qty::ZERO,
            entry: None,
            quiet_until_ms: 0,
        }
    }
}

impl Scalper {
    /// The stop-loss price of the open position.
    fn stop_price(&self) -> Option<Price> {
        let (s, entry) = self.settings.zip(self.entry)?;
        let against = if self.position.is_negative() {
            Side::Buy
        } else {
            Side::Sell
        };
        away(entry, s.stop_loss_pct, against)
    }

    fn read(ctx: &StrategyContext<'_>) -> Result<Settings, StrategyError> {
        let mut p = ctx.params();
        let pct = |n: i64| Rate::from_raw(n * FIXED_ONE);
        let ema_short = p.count("ema_short_period", 9, 1..=10_000)?;
        let ema_long = p.count("ema_long_period", 21, 2..=10_000)?;
        let rsi_period = p.count("rsi_period", 14, 1..=10_000)?;
        let oversold = p.rate("rsi_oversold", pct(30), Rate::ZERO)?;
        let overbought = p.rate("rsi_overbought", pct(70), Rate::ZERO)?;
        let settings = Settings {
            ema_short,
            ema_long,
            rsi_period,
            oversold,
            overbought,
            stop_loss_pct: p.rate(
                "stop_loss_pct",
                Rate::from_raw(FIXED_ONE / 2),
                Rate::EPSILON,
            )?,
            take_profit_pct: p.rate("take_profit_pct", pct(1), Rate::EPSILON)?,
            min_volume: p.qty("min_volume")?,
            interval_ms: p.millis("interval_ms", 1_000, 0..=86_400_000)?,
            entry_urgency: p.urgency("entry_urgency", Urgency::Normal)?,
            retry_ms: p.millis("retry_ms", 5_000, 0..=86_400_000)?,
        };
        p.finish()?;
        if ema_short >= ema_long {
            let problem = format!("must be below ema_long_period ({ema_long}), got {ema_short}");
            return Err(StrategyError::parameter("ema_short_period", problem));
        }
        if !(oversold < overbought && overbought <= pct(100)) {
            let problem = format!(
                "must be above rsi_oversold ({oversold}) and at most 100, got {overbought}"
            );
            return Err(StrategyError::parameter("rsi_overbought", problem));
        }
        Ok(settings)
    }

    fn sample(&mut self, s: &Settings, price: Price, time_ms: u64) -> Option<SignalIntent> {
        self.short.update(price);
        self.long.update(price);
        self.rsi.update(price);
        self.last_volume = std::mem::replace(&mut self.volume, Qty::ZERO);
        let rsi = self.rsi.value()?;
        let ready = self.long.is_ready() && self.short.is_ready();
        let volume_ok = s.min_volume.is_none_or(|min| self.last_volume >= min);
        if !ready || !volume_ok || !self.position.is_zero() || time_ms < self.quiet_until_ms {
            return None;
        }
        let hundred = i128::from(100 * FIXED_ONE);
        let (rsi_raw, low, high) = (
            i128::from(rsi.raw()),
            i128::from(s.oversold.raw()),
            i128::from(s.overbought.raw()),
        );
        let (side, strength) = if self.short.scaled() > self.long.scaled() && rsi < s.oversold {
            (Side::Buy, Strength::ratio(2 * low - rsi_raw, 2 * low))
        } else if self.short.scaled() < self.long.scaled() && rsi > s.overbought {
            (
                Side::Sell,
                Strength::ratio(rsi_raw - 2 * high + hundred, 2 * (hundred - high)),
            )
        } else {
            return None;
        };
        self.quiet_until_ms = time_ms.saturating_add(s.retry_ms);
        let reason = format!(
            "EMA{} {} EMA{} with RSI {rsi}",
            s.ema_short,
            if side == Side::Buy { "above" } else { "below" },
            s.ema_long
        );
        let mut signal = SignalIntent::new(side, strength, s.entry_urgency, reason);
        signal.stop_loss = away(price, s.stop_loss_pct, side.opposite());
        signal.take_profit = away(price, s.take_profit_pct, side);
        Some(signal)
    }

    /// The exit the position needs at `price`, if its stop or target is reached.
    fn exit(&mut self, s: &Settings, price: Price, time_ms: u64) -> Option<SignalIntent> {
        let entry = self.entry?;
        let held = if self.position.is_positive() {
            Side::Buy
        } else {
            Side::Sell
        };
        if self.position.is_zero() || time_ms < self.quiet_until_ms {
            return None;
        }
        let stop = away(entry, s.stop_loss_pct, held.opposite())?;
        let target = away(entry, s.take_profit_pct, held)?;
        let beyond = |level: Price, side: Side| match side {
            Side::Buy => price >= level,
            Side::Sell => price <= level,
        };
        let (urgency, reason) = if beyond(stop, held.opposite()) {
            (
                Urgency::Aggressive,
                format!("stop loss: {price} against entry {entry}"),
            )
        } else if beyond(target, held) {
            (
                Urgency::Normal,
                format!("take profit: {price} from entry {entry}"),
            )
        } else {
            return None;
        };
        self.quiet_until_ms = time_ms.saturating_add(s.retry_ms);
        Some(SignalIntent::exit(held.opposite(), urgency, reason))
    }
}

/// `price` moved `pct` percent in the direction a `side` trade profits from (up for a buy),
/// rounded toward `price`.
fn away(price: Price, pct: Rate, side: Side) -> Option<Price> {
    let delta = i128::from(price.raw()) * i128::from(pct.raw()) / i128::from(100 * FIXED_ONE);
    let delta = Price::from_raw(i64::try_from(delta).ok()?);
    match side {
        Side::Buy => price.try_add(delta).ok(),
        Side::Sell => price.try_sub(delta).ok(),
    }
}

impl Strategy for Scalper {
    fn name(&self) -> &'static str {
        KIND
    }

    fn initialize(&mut self, ctx: &StrategyContext<'_>) -> Result<(), StrategyError> {
        let s = Self::read(ctx)?;
        *self = Self {
            settings: Some(s),
            sampler: Sampler::new(s.interval_ms),
            short: Ema::new(s.ema_short),
            long: Ema::new(s.ema_long),
            rsi: Rsi::new(s.rsi_period),
            position: self.position,
            entry: self.entry,
            ..Self::default()
        };
        Ok(())
    }

    fn on_market_data(
        &mut self,
        view: &MarketView<'_>,
        out: &mut Actions,
    ) -> Result<(), StrategyError> {
        let (Some(s), Some(price)) = (self.settings, view.reference_price()) else {
            return Ok(());
        };
        if let Some(qty) = view.trade_qty() {
            self.volume = self.volume.try_add(qty)?;
        }
        if let Some(exit) = self.exit(&s, price, view.time_ms) {
            out.signal(exit);
        }
        if self.sampler.due(view.time_ms)
            && let Some(entry) = self.sample(&s, price, view.time_ms)
        {
            out.signal(entry);
        }
        Ok(())
    }

    fn on_position_update(&mut self, position: &Position) {
        if position.qty != self.position {
            // A new position (or none): entries and exits may be signalled again at once.
            self.quiet_until_ms = 0;
        }
        self.position = position.qty;
        self.entry = position.entry_price();
    }

    fn state(&self) -> serde_json::Value {
        json!({
            "ema_short": self.short.value(),
            "ema_long": self.long.value(),
            "rsi": self.rsi.value(),
            "position": self.position,
            "entry_price": self.entry,
            "stop_loss": self.stop_price(),
        })
    }
}

#[cfg(test)]
mod tests;
