//! Index price, mark price and the funding-rate estimate, derived from the fair price and the
//! book's mid price at every fair-price update.
//!
//! - **Index** = the fair price: the generator's latent price stands for the spot index that
//!   Binance computes from other venues.
//! - **Mark** = Binance's rule (`median(price1, price2, last)`) with the mid price standing in
//!   for the last trade: `price1 = index × (1 + last funding rate × time to next funding /
//!   interval)`, `price2 = index × (1 + moving average of the basis)`, where the basis is
//!   `(mid − index) / index` averaged exponentially with `basis_time_constant_s`. The result
//!   is clamped to `mid × (1 ± mark_band)`. Without a two-sided book it is `price2`.
//! - **Funding** = Binance's formula `F = P + clamp(I − P, ±premium_clamp)`, capped at
//!   `±funding_cap`, where `P` is the average premium (the basis) over the current funding
//!   interval (a plain average; Binance weights later samples more) and `I` the interest rate.
//!   At each funding time the estimate becomes the "last funding rate" and the average restarts.

use serde::{Deserialize, Serialize};

use kestrel_model::{Price, Rate};

use super::BookTop;
use super::config::ReferenceConfig;
use super::sampling::exp;

/// The reference prices of one symbol at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferencePrices {
    /// The index price: the fair price on the tick grid.
    pub index_price: Price,
    /// The mark price, on the tick grid.
    pub mark_price: Price,
    /// The funding rate expected at the next funding time.
    pub funding_rate: Rate,
    /// The funding rate settled at the last funding time (0 before the first).
    pub last_funding_rate: Rate,
    /// The next funding time, in milliseconds since the Unix epoch.
    pub next_funding_time_ms: u64,
}

/// The running state behind [`ReferencePrices`], all statistics (`f64`).
#[derive(Debug, Clone)]
pub(crate) struct ReferenceState {
    config: ReferenceConfig,
    /// Weight kept by the basis average at each update: `exp(−interval / time constant)`.
    keep: f64,
    index: f64,
    mid: Option<f64>,
    basis_average: f64,
    premium_sum: f64,
    premium_samples: u64,
    last_funding_rate: f64,
    period: Option<u64>,
    time_ms: u64,
}

impl ReferenceState {
    /// A state for fair-price updates every `update_interval_ns` from `start_ns`, starting at
    /// `index`.
    #[allow(clippy::float_arithmetic)] // statistics: the moving-average weight
    pub(crate) fn new(
        config: ReferenceConfig,
        update_interval_ns: u64,
        start_ns: u64,
        index: f64,
    ) -> Self {
        let interval_s = update_interval_ns as f64 / 1e9;
        Self {
            config,
            keep: exp(-interval_s / config.basis_time_constant_s),
            index,
            mid: None,
            basis_average: 0.0,
            premium_sum: 0.0,
            premium_samples: 0,
            last_funding_rate: 0.0,
            period: None,
            time_ms: start_ns / 1_000_000,
        }
    }

    /// Takes one sample at `time_ns`: the new fair price and the book the caller supplied.
    #[allow(clippy::float_arithmetic)] // statistics: basis and premium averages
    pub(crate) fn update(&mut self, time_ns: u64, fair: f64, view: &BookTop) {
        self.time_ms = time_ns / 1_000_000;
        let period = self.time_ms / self.config.funding_interval_ms;
        match self.period {
            Some(current) if current != period => {
                self.last_funding_rate = self.funding_estimate();
                self.premium_sum = 0.0;
                self.premium_samples = 0;
            }
            _ => {}
        }
        self.period = Some(period);
        self.index = fair;
        self.mid = view.mid_f64();
        if let Some(mid) = self.mid {
            let basis = (mid - fair) / fair;
            self.basis_average = self.keep * self.basis_average + (1.0 - self.keep) * basis;
            self.premium_sum += basis;
            self.premium_samples += 1;
        }
    }

    /// The funding rate the current interval's premiums give.
    #[allow(clippy::float_arithmetic)] // statistics: Binance's funding formula
    fn funding_estimate(&self) -> f64 {
        let premium = if self.premium_samples == 0 {
            0.0
        } else {
            self.premium_sum / self.premium_samples as f64
        };
        let interest = rate_f64(self.config.interest_rate);
        let clamp = rate_f64(self.config.premium_clamp);
        let cap = rate_f64(self.config.funding_cap);
        (premium + (interest - premium).clamp(-clamp, clamp)).clamp(-cap, cap)
    }

    /// The next funding time after the last sample, in ms since the epoch.
    fn next_funding_ms(&self) -> u64 {
        let interval = self.config.funding_interval_ms;
        (self.time_ms / interval)
            .saturating_add(1)
            .saturating_mul(interval)
    }

    /// The mark price as an `f64` (see the module docs).
    #[allow(clippy::float_arithmetic)] // statistics: Binance's mark-price rule
    fn mark(&self) -> f64 {
        let interval = self.config.funding_interval_ms as f64;
        let to_funding = self.next_funding_ms().saturating_sub(self.time_ms) as f64 / interval;
        let price1 = self.index * (1.0 + self.last_funding_rate * to_funding);
        let price2 = self.index * (1.0 + self.basis_average);
        let Some(mid) = self.mid else {
            return price2;
        };
        let median = price1.max(price2).min(price1.min(price2).max(mid));
        let band = rate_f64(self.config.mark_band);
        median.clamp(mid * (1.0 - band), mid * (1.0 + band))
    }

    /// The reference prices, with `to_price` moving an `f64` onto the tick grid.
    pub(crate) fn prices(&self, to_price: impl Fn(f64) -> Price) -> ReferencePrices {
        ReferencePrices {
            index_price: to_price(self.index),
            mark_price: to_price(self.mark()),
            funding_rate: rate_from_f64(self.funding_estimate()),
            last_funding_rate: rate_from_f64(self.last_funding_rate),
            next_funding_time_ms: self.next_funding_ms(),
        }
    }
}

/// A [`Rate`] as an `f64`.
#[allow(clippy::float_arithmetic)] // statistics: reading a configured rate
fn rate_f64(rate: Rate) -> f64 {
    rate.raw() as f64 / 1e8
}

/// The nearest [`Rate`] (10⁻⁸) to `value`; 0 when it is not finite.
#[allow(clippy::float_arithmetic)] // statistics: rounding an estimate to 8 decimals
fn rate_from_f64(value: f64) -> Rate {
    if value.is_finite() {
        Rate::from_raw((value * 1e8).round() as i64)
    } else {
        Rate::ZERO
    }
}
