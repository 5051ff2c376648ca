//! Technical indicators in exact fixed-point arithmetic, shared by the built-in strategies:
//! a time [`Sampler`], a [`PriceWindow`], an [`Ema`] and Wilder's [`Rsi`].
//!
//! Indicator state keeps eight decimals more than a [`Price`] (an `i128` at 10⁻¹⁶), so the
//! smoothing loses nothing a trader could see; divisions round toward negative infinity, so a
//! replay gives the same values to the last digit on every machine. No `f64` is involved.

use kestrel_model::money::{FIXED_ONE, Price, Rate};

/// The extra scale indicator state carries over a price's raw integer.
const EXTRA: i128 = FIXED_ONE as i128;

/// Decides when to take a sample: once per `interval_ms` bucket of event time (every event
/// when the interval is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sampler {
    interval_ms: u64,
    last_bucket: Option<u64>,
}

impl Sampler {
    /// A sampler with the given interval.
    #[must_use]
    pub const fn new(interval_ms: u64) -> Self {
        Self {
            interval_ms,
            last_bucket: None,
        }
    }

    /// Whether an event at `time_ms` opens a new interval (and so should be sampled).
    pub fn due(&mut self, time_ms: u64) -> bool {
        if self.interval_ms == 0 {
            return true;
        }
        let bucket = time_ms / self.interval_ms;
        if self.last_bucket.is_some_and(|last| bucket <= last) {
            return false;
        }
        self.last_bucket = Some(bucket);
        true
    }
}

/// The last `capacity` prices, oldest first, in a buffer reserved once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PriceWindow {
    prices: Vec<Price>,
    capacity: usize,
    next: usize,
}

impl PriceWindow {
    /// A window of `capacity` prices (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            prices: Vec::with_capacity(capacity),
            capacity,
            next: 0,
        }
    }

    /// Adds a price, dropping the oldest when full.
    pub fn push(&mut self, price: Price) {
        if self.prices.len() < self.capacity {
            self.prices.push(price);
        } else if let Some(slot) = self.prices.get_mut(self.next) {
            *slot = price;
            self.next = (self.next + 1) % self.capacity;
        }
    }

    /// The oldest price held.
    #[must_use]
    pub fn oldest(&self) -> Option<Price> {
        self.prices.get(self.next).copied()
    }

    /// Whether the window holds `capacity` prices.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.prices.len() == self.capacity
    }

    /// How many prices it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.prices.len()
    }

    /// Whether it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }
}

/// An exponential moving average with `α = 2 / (period + 1)`, seeded with the first price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ema {
    period: u32,
    samples: u32,
    value: i128,
}

impl Ema {
    /// An EMA over `period` samples (at least 1).
    #[must_use]
    pub const fn new(period: u32) -> Self {
        Self {
            period: if period == 0 { 1 } else { period },
            samples: 0,
            value: 0,
        }
    }

    /// Feeds one price.
    pub fn update(&mut self, price: Price) {
        let scaled = i128::from(price.raw()) * EXTRA;
        if self.samples == 0 {
            self.value = scaled;
        } else {
            let step = (scaled - self.value) * 2;
            self.value += step.div_euclid(i128::from(self.period) + 1);
        }
        self.samples = self.samples.saturating_add(1);
    }

    /// Whether it has seen `period` samples (its value is no longer dominated by the seed).
    #[must_use]
    pub const fn is_ready(&self) -> bool {
        self.samples >= self.period
    }

    /// The average at full internal precision (price raw × 10⁸), for exact comparisons.
    #[must_use]
    pub const fn scaled(&self) -> i128 {
        self.value
    }

    /// The average as a price (rounded down to 10⁻⁸), once it has a sample.
    #[must_use]
    pub fn value(&self) -> Option<Price> {
        if self.samples == 0 {
            return None;
        }
        i64::try_from(self.value.div_euclid(EXTRA))
            .ok()
            .map(Price::from_raw)
    }
}

/// Wilder's relative strength index over `period` price changes, from 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rsi {
    period: u32,
    previous: Option<Price>,
    changes: u32,
    avg_gain: i128,
    avg_loss: i128,
}

impl Rsi {
    /// An RSI over `period` changes (at least 1).
    #[must_use]
    pub const fn new(period: u32) -> Self {
        Self {
            period: if period == 0 { 1 } else { period },
            previous: None,
            changes: 0,
            avg_gain: 0,
            avg_loss: 0,
        }
    }

    /// Feeds one price. The first `period` changes are averaged plainly, later ones with
    /// Wilder's smoothing `avg = (avg × (period − 1) + change) / period`.
    pub fn update(&mut self, price: Price) {
        let Some(previous) = self.previous.replace(price) else {
            return;
        };
        let change = (i128::from(price.raw()) - i128::from(previous.raw())) * EXTRA;
        let (gain, loss) = (change.max(0), (-change).max(0));
        let n = i128::from(self.period);
        if self.changes < self.period {
            self.avg_gain += gain.div_euclid(n);
            self.avg_loss += loss.div_euclid(n);
        } else {
            self.avg_gain = (self.avg_gain * (n - 1) + gain).div_euclid(n);
            self.avg_loss = (self.avg_loss * (n - 1) + loss).div_euclid(n);
        }
        self.changes = self.changes.saturating_add(1);
    }

    /// The RSI (0 to 100) once `period` changes were seen; 50 when the price never moved.
    #[must_use]
    pub fn value(&self) -> Option<Rate> {
        if self.changes < self.period {
            return None;
        }
        let total = self.avg_gain + self.avg_loss;
        if total == 0 {
            return Some(Rate::from_raw(50 * FIXED_ONE));
        }
        let raw = (self.avg_gain * 100 * i128::from(FIXED_ONE)).div_euclid(total);
        i64::try_from(raw).ok().map(Rate::from_raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(n: i64) -> Price {
        Price::from_int(n).unwrap()
    }

    #[test]
    fn the_sampler_takes_one_event_per_interval() {
        let mut s = Sampler::new(1_000);
        let taken: Vec<bool> = [0, 500, 999, 1_000, 1_500, 3_200]
            .map(|t| s.due(t))
            .to_vec();
        assert_eq!(taken, [true, false, false, true, false, true]);
        assert!(Sampler::new(0).due(5));
    }

    #[test]
    fn the_window_keeps_the_last_prices_and_reports_the_oldest() {
        let mut w = PriceWindow::new(3);
        for n in 1..=5 {
            w.push(px(n));
        }
        assert!(w.is_full());
        assert_eq!(w.oldest(), Some(px(3)));
    }

    #[test]
    fn an_ema_of_a_constant_is_that_constant() {
        let mut ema = Ema::new(5);
        for _ in 0..10 {
            ema.update(px(100));
        }
        assert_eq!(ema.value(), Some(px(100)));
        assert!(ema.is_ready());
    }

    #[test]
    fn a_short_ema_follows_a_rise_faster_than_a_long_one() {
        let (mut short, mut long) = (Ema::new(3), Ema::new(10));
        for n in 0..20 {
            short.update(px(100 + n));
            long.update(px(100 + n));
        }
        assert!(short.scaled() > long.scaled());
        assert!(
            short.value().unwrap() < px(119),
            "an average lags the last price"
        );
    }

    #[test]
    fn an_ema_step_moves_two_over_period_plus_one_of_the_gap() {
        let mut ema = Ema::new(3);
        ema.update(px(100));
        ema.update(px(104));
        assert_eq!(ema.value(), Some(px(102)), "α = 2/4 of a gap of 4");
    }

    #[test]
    fn rsi_is_100_after_only_rises_and_0_after_only_falls() {
        let (mut up, mut down) = (Rsi::new(5), Rsi::new(5));
        for n in 0..=5 {
            up.update(px(100 + n));
            down.update(px(100 - n));
        }
        assert_eq!(up.value(), Some(Rate::from_int(100).unwrap()));
        assert_eq!(down.value(), Some(Rate::ZERO));
    }

    #[test]
    fn rsi_needs_period_changes_and_is_50_for_equal_moves() {
        let mut rsi = Rsi::new(4);
        for p in [100, 101, 100, 101] {
            rsi.update(px(p));
        }
        assert_eq!(rsi.value(), None, "three changes of four");
        rsi.update(px(100));
        assert_eq!(rsi.value(), Some(Rate::from_int(50).unwrap()));
    }
}
