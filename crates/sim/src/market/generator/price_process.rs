//! [`PriceProcess`]: the latent fair price, a GARCH(1,1) random walk on the log price.
//!
//! Every `update_interval_ns` the log price moves by `r = σ z − σ²/2` with `z` standard
//! normal (the `−σ²/2` makes the price itself a martingale), and the variance of the next
//! move follows GARCH(1,1): `σ²' = ω + α r² + β σ²`. Large moves raise the variance of the
//! following ones, so calm and agitated stretches alternate (volatility clustering) while the
//! long-run variance stays `ω / (1 − α − β)`, set from the configured annualised volatility.
//! The price is `exp(log price)`, so it is always positive.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::sampling::{NormalSampler, exp, ln};

/// Seconds in a year of round-the-clock trading (365 days): crypto never closes.
pub const SECONDS_PER_YEAR: f64 = 31_536_000.0;

/// Parameters of the fair-price process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VolatilityConfig {
    /// Long-run annualised volatility of the log price (0.5 = 50 %/year).
    pub annual_vol: f64,
    /// GARCH α: how much of the last squared move feeds into the next variance.
    pub garch_alpha: f64,
    /// GARCH β: how much of the current variance persists; `α + β < 1`.
    pub garch_beta: f64,
    /// Simulated time between two moves of the fair price, in nanoseconds.
    pub update_interval_ns: u64,
    /// The variance of one move is capped at this multiple of the long-run variance, so a
    /// freak draw cannot make the process explode.
    pub max_variance_ratio: f64,
}

impl VolatilityConfig {
    /// GARCH(1,1) with α = 0.05, β = 0.94 (persistence 0.99, a variance half-life of about
    /// 69 updates) moving every 100 ms, at the given annualised volatility.
    #[must_use]
    pub const fn garch(annual_vol: f64) -> Self {
        Self {
            annual_vol,
            garch_alpha: 0.05,
            garch_beta: 0.94,
            update_interval_ns: 100_000_000,
            max_variance_ratio: 100.0,
        }
    }

    /// The long-run variance of one move of the log price.
    #[must_use]
    #[allow(clippy::float_arithmetic)] // statistics: scaling an annual variance to one step
    pub fn step_variance(&self) -> f64 {
        let step_s = self.update_interval_ns as f64 / 1e9;
        self.annual_vol * self.annual_vol * step_s / SECONDS_PER_YEAR
    }
}

/// The latent fair price: a GARCH(1,1) random walk on the log price (see the module docs).
#[derive(Debug, Clone)]
pub struct PriceProcess {
    log_price: f64,
    variance: f64,
    omega: f64,
    alpha: f64,
    beta: f64,
    max_variance: f64,
    last_return: f64,
    rng: ChaCha8Rng,
    normal: NormalSampler,
}

impl PriceProcess {
    /// A process starting at `initial_price` with the long-run variance, drawing its
    /// innovations from `rng`. `initial_price` must be positive and `config` valid (checked by
    /// `GeneratorConfig::validate`).
    #[must_use]
    #[allow(clippy::float_arithmetic)] // statistics: GARCH parameters
    pub fn new(config: &VolatilityConfig, initial_price: f64, rng: ChaCha8Rng) -> Self {
        let long_run = config.step_variance();
        Self {
            log_price: ln(initial_price),
            variance: long_run,
            omega: long_run * (1.0 - config.garch_alpha - config.garch_beta),
            alpha: config.garch_alpha,
            beta: config.garch_beta,
            max_variance: long_run * config.max_variance_ratio,
            last_return: 0.0,
            rng,
            normal: NormalSampler::default(),
        }
    }

    /// Moves the price by one update and returns the log return of the move.
    #[allow(clippy::float_arithmetic)] // statistics: the GARCH recursion
    pub fn advance(&mut self) -> f64 {
        let z = self.normal.sample(&mut self.rng);
        let shock = self.variance.sqrt() * z;
        let log_return = shock - 0.5 * self.variance;
        self.log_price += log_return;
        let next = self.omega + self.alpha * shock * shock + self.beta * self.variance;
        self.variance = next.min(self.max_variance);
        self.last_return = log_return;
        log_return
    }

    /// The current fair price (always positive).
    #[must_use]
    pub fn price(&self) -> f64 {
        exp(self.log_price)
    }

    /// The standard deviation of the next move's log return.
    #[must_use]
    pub fn step_volatility(&self) -> f64 {
        self.variance.sqrt()
    }

    /// The log return of the last move (0 before the first).
    #[must_use]
    pub const fn last_return(&self) -> f64 {
        self.last_return
    }
}
