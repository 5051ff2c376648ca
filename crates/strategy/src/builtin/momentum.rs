//! `momentum`: trades in the direction of a move (seed 000's example strategy type).
//!
//! Once per `interval_ms` it samples the symbol's reference price (the mid, or the last trade
//! without a two-sided book). When the latest sample is more than `threshold` percent above
//! the sample `lookback` samples earlier it signals a buy; more than `threshold` percent
//! below, a sell. It signals when the move starts (not again while the same move lasts), and
//! not when its position already holds `max_units` orders' worth in that direction.
//!
//! Strength is the move over twice the threshold, capped at 1 (a move just over the threshold
//! is 0.5). A move of at least `aggressive_multiple` × `threshold` is signalled
//! `aggressive`; a smaller one with `urgency`.
//!
//! # Parameters
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `lookback` | samples between the two prices compared (2 to 10 000) | 20 |
//! | `threshold` | the move, in percent, that triggers a signal | `"0.5"` |
//! | `interval_ms` | sampling interval; 0 samples every event | 1000 |
//! | `urgency` | urgency of an ordinary signal | `"normal"` |
//! | `aggressive_multiple` | a move this many thresholds large is `aggressive` | `"2"` |
//! | `max_units` | largest position, in order sizes, it builds in one direction (1 to 1000) | 1 |

use kestrel_model::money::{FIXED_ONE, Price, Qty, Rate};
use kestrel_model::order::Side;
use kestrel_model::position::Position;
use serde_json::json;

use crate::action::Actions;
use crate::error::StrategyError;
use crate::indicators::{PriceWindow, Sampler};
use crate::market::MarketView;
use crate::signal::{SignalIntent, Strength, Urgency};
use crate::strategy::{Strategy, StrategyContext};

/// The registered type name.
pub const KIND: &str = "momentum";

/// The momentum strategy's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    lookback: u32,
    threshold_pct: Rate,
    interval_ms: u64,
    urgency: Urgency,
    aggressive_multiple: Rate,
    max_position: Qty,
}

/// The momentum strategy.
#[derive(Debug, Clone, Default)]
pub struct Momentum {
    settings: Option<Settings>,
    sampler: Sampler,
    window: PriceWindow,
    /// The direction of the move at the last sample, if it was beyond the threshold.
    trend: Option<Side>,
    last_move_pct: Option<Rate>,
    position: Qty,
}

impl Momentum {
    fn read(ctx: &StrategyContext<'_>) -> Result<Settings, StrategyError> {
        let mut p = ctx.params();
        let lookback = p.count("lookback", 20, 2..=10_000)?;
        let threshold_pct = p.rate("threshold", Rate::from_raw(FIXED_ONE / 2), Rate::EPSILON)?;
        let interval_ms = p.millis("interval_ms", 1_000, 0..=86_400_000)?;
        let urgency = p.urgency("urgency", Urgency::Normal)?;
        let aggressive_multiple = p.rate(
            "aggressive_multiple",
            Rate::from_raw(2 * FIXED_ONE),
            Rate::ONE,
        )?;
        let max_units = p.count("max_units", 1, 1..=1_000)?;
        p.finish()?;
        Ok(Settings {
            lookback,
            threshold_pct,
            interval_ms,
            urgency,
            aggressive_multiple,
            max_position: ctx.order_size.try_mul_int(i64::from(max_units))?,
        })
    }

    /// The signal for a move of `move_pct` percent, if one is due.
    fn signal_for(&mut self, s: &Settings, move_pct: Rate) -> Option<SignalIntent> {
        let magnitude = move_pct.abs();
        let trend = (magnitude > s.threshold_pct).then(|| {
            if move_pct.is_positive() {
                Side::Buy
            } else {
                Side::Sell
            }
        });
        let started = trend.is_some() && trend != self.trend;
        self.trend = trend;
        let side = trend.filter(|_| started)?;
        let room = match side {
            Side::Buy => self.position < s.max_position,
            Side::Sell => self.position > s.max_position.neg(),
        };
        if !room {
            return None;
        }
        let threshold = i128::from(s.threshold_pct.raw());
        let strength = Strength::ratio(i128::from(magnitude.raw()), 2 * threshold);
        let aggressive = s
            .threshold_pct
            .try_mul_rate(s.aggressive_multiple, kestrel_model::RoundingMode::Ceil);
        let urgency = if aggressive.is_ok_and(|limit| magnitude >= limit) {
            Urgency::Aggressive
        } else {
            s.urgency
        };
        let reason = format!(
            "{move_pct}% over {} samples (threshold {}%)",
            s.lookback, s.threshold_pct
        );
        Some(SignalIntent::new(side, strength, urgency, reason))
    }
}

/// The move from `old` to `new` in percent, exact to 10⁻⁸ (rounded toward zero).
fn move_pct(old: Price, new: Price) -> Option<Rate> {
    if !old.is_positive() {
        return None;
    }
    let change = i128::from(new.raw()) - i128::from(old.raw());
    let raw = change * 100 * i128::from(FIXED_ONE) / i128::from(old.raw());
    i64::try_from(raw).ok().map(Rate::from_raw)
}

impl Strategy for Momentum {
    fn name(&self) -> &'static str {
        KIND
    }

    fn initialize(&mut self, ctx: &StrategyContext<'_>) -> Result<(), StrategyError> {
        let settings = Self::read(ctx)?;
        *self = Self {
            settings: Some(settings),
            sampler: Sampler::new(settings.interval_ms),
            window: PriceWindow::new(settings.lookback as usize + 1),
            position: self.position,
            ..Self::default()
        };
        Ok(())
    }

    fn reconfigure(&mut self, ctx: &StrategyContext<'_>) -> Result<(), StrategyError> {
        let settings = Self::read(ctx)?;
        let same_window = self.settings.is_some_and(|old| {
            (old.lookback, old.interval_ms) == (settings.lookback, settings.interval_ms)
        });
        if !same_window {
            return self.initialize(ctx);
        }
        // The sampled prices are still valid: keep them and only take the new thresholds.
        self.settings = Some(settings);
        Ok(())
    }

    fn on_market_data(
        &mut self,
        view: &MarketView<'_>,
        out: &mut Actions,
    ) -> Result<(), StrategyError> {
        let (Some(settings), Some(price)) = (self.settings, view.reference_price()) else {
            return Ok(());
        };
        if !self.sampler.due(view.time_ms) {
            return Ok(());
        }
        self.window.push(price);
        if !self.window.is_full() {
            return Ok(());
        }
        let Some(change) = self.window.oldest().and_then(|old| move_pct(old, price)) else {
            return Ok(());
        };
        self.last_move_pct = Some(change);
        if let Some(signal) = self.signal_for(&settings, change) {
            out.signal(signal);
        }
        Ok(())
    }

    fn on_position_update(&mut self, position: &Position) {
        self.position = position.qty;
    }

    fn state(&self) -> serde_json::Value {
        json!({
            "lookback": self.settings.map(|s| s.lookback),
            "threshold_pct": self.settings.map(|s| s.threshold_pct),
            "samples": self.window.len(),
            "last_move_pct": self.last_move_pct,
            "trend": self.trend,
            "position": self.position,
        })
    }
}

#[cfg(test)]
mod tests;
