//! [`GeneratorConfig`]: everything that shapes one symbol's synthetic market, with defaults for
//! the Binance USD-M presets (BTCUSDT, ETHUSDT, SOLUSDT).
//!
//! Rates and distribution shapes are `f64` (they are statistics); sizes are exact [`Money`]
//! notionals in the quote asset, converted to quantities on the lot grid when an order is made.
//!
//! # Presets ([`GeneratorConfig::binance_usdm`])
//!
//! | | BTCUSDT | ETHUSDT | SOLUSDT |
//! |---|---|---|---|
//! | initial price | 60,000 | 3,000 | 150 |
//! | annualised volatility | 50 % | 65 % | 85 % |
//! | near-touch mean distance | 8 ticks | 8 ticks | 2 ticks |
//! | deep mean / max distance | 500 / 2,500 ticks | 300 / 1,500 ticks | 150 / 600 ticks |
//! | typical quote notional | 2,000 USDT | 1,500 USDT | 1,000 USDT |
//! | smallest market order | 200 USDT | 150 USDT | 150 USDT |
//!
//! Common to all: GARCH(1,1) α = 0.05, β = 0.94, a fair-price move every 100 ms; 8 makers
//! quoting 250 times/s together (half near the touch, 80 % post-only, Pareto sizes α = 1.8,
//! at most 200 resting orders each, 200 initial quotes per side) with 60 random cancels/s;
//! 4 takers sending 8 market orders/s (Pareto notional α = 1.4, up to 1,000× the smallest);
//! the arbitrageur checking 20 times/s with a 1 bp band; Binance's funding constants (8 h,
//! 0.01 % interest, ±0.05 % clamp, ±0.75 % cap) and a 5-minute basis average for the mark.

use kestrel_model::instrument::{Instrument, binance_usdm};
use kestrel_model::{Money, Price, Rate};
use serde::{Deserialize, Serialize};

use super::GeneratorError;
use super::price_process::VolatilityConfig;

/// How one symbol's synthetic market behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorConfig {
    /// The instrument traded: its tick and lot grids bound every price and quantity made.
    pub instrument: Instrument,
    /// The fair price at the start (rounded onto the tick grid).
    pub initial_price: Price,
    /// The fair-price process.
    pub volatility: VolatilityConfig,
    /// The market makers that keep the book deep.
    pub makers: MakerConfig,
    /// The noise traders that take liquidity.
    pub takers: TakerConfig,
    /// The arbitrageur that pulls the book back to the fair price.
    pub pull: PullConfig,
    /// How the index, mark price and funding rate are derived.
    pub reference: ReferenceConfig,
}

/// Market makers: passive quotes near the touch and deep in the book, and their cancels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MakerConfig {
    /// Number of maker agents (ids `0..agents`).
    pub agents: u32,
    /// Quote events per second, all makers together (each places at most one order).
    pub quote_rate_per_s: f64,
    /// Random cancel events per second, all makers together (each cancels one resting order).
    pub cancel_rate_per_s: f64,
    /// Resting orders one maker keeps at most; at the cap it cancels its oldest before quoting.
    pub max_orders_per_agent: usize,
    /// Orders per side placed at the start to give the book its depth at once.
    pub initial_levels_per_side: usize,
    /// Share of quotes placed near the touch (the rest go deep).
    pub touch_share: f64,
    /// Mean distance, in ticks, of a near-touch quote behind the best price the fair price
    /// allows.
    pub touch_mean_ticks: f64,
    /// Mean distance, in ticks, of a deep quote from the fair price.
    pub depth_mean_ticks: f64,
    /// No quote is placed further than this many ticks from the fair price.
    pub max_depth_ticks: u32,
    /// Share of quotes sent post-only (GTX); the rest are plain limit orders. Neither kind is
    /// ever priced through the supplied best bid/ask.
    pub post_only_share: f64,
    /// Notional of a typical quote in the quote asset (the scale of its Pareto size law).
    pub order_notional: Money,
    /// Tail index of the quote-size Pareto law (larger = thinner tail).
    pub size_tail_alpha: f64,
    /// The largest notional of one quote.
    pub max_order_notional: Money,
    /// Inventory (absolute notional at the fair price) beyond which a maker quotes only the
    /// reducing side and hedges with a market order.
    pub max_inventory_notional: Money,
    /// Stale quotes (on the wrong side of the fair price) a maker cancels per quote event.
    pub stale_cancels_per_event: usize,
    /// Least simulated time between two inventory hedges of one maker, in nanoseconds.
    pub hedge_cooldown_ns: u64,
}

/// Noise traders: market orders with heavy-tailed sizes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TakerConfig {
    /// Number of taker agents (ids follow the makers').
    pub agents: u32,
    /// Market orders per second, all takers together.
    pub rate_per_s: f64,
    /// The smallest notional of a market order (the scale of its Pareto size law).
    pub min_notional: Money,
    /// Tail index of the size law (1 < α < 2: finite mean, infinite variance, as trade sizes
    /// are measured to be).
    pub size_tail_alpha: f64,
    /// The largest notional of one market order.
    pub max_notional: Money,
    /// Inventory (absolute notional) at which a taker only trades to reduce it.
    pub max_inventory_notional: Money,
}

/// The arbitrageur: when the touch has drifted through the fair price by more than a band, it
/// takes the stale liquidity, pulling the book back.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PullConfig {
    /// Checks per second.
    pub rate_per_s: f64,
    /// How far through the fair price (basis points) the best bid or ask must be to be taken.
    pub band_bps: f64,
    /// The largest notional of one pull order.
    pub max_notional: Money,
}

/// How the reference prices are derived (see `reference.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReferenceConfig {
    /// Time constant of the moving average of the basis used by the mark price, in seconds
    /// (Binance: a 5-minute average).
    pub basis_time_constant_s: f64,
    /// The mark price is kept within this fraction of the mid price.
    pub mark_band: Rate,
    /// Funding interval in milliseconds, aligned to the Unix epoch (8 h: 00:00, 08:00, 16:00
    /// UTC).
    pub funding_interval_ms: u64,
    /// The interest-rate component per interval (Binance: 0.01 %).
    pub interest_rate: Rate,
    /// Clamp on `interest − premium` (Binance: ±0.05 %).
    pub premium_clamp: Rate,
    /// Cap on the funding rate, both signs (±0.75 %).
    pub funding_cap: Rate,
}

impl Default for ReferenceConfig {
    fn default() -> Self {
        Self {
            basis_time_constant_s: 300.0,
            mark_band: Rate::from_raw(500_000),
            funding_interval_ms: 8 * 3_600_000,
            interest_rate: Rate::from_raw(10_000),
            premium_clamp: Rate::from_raw(50_000),
            funding_cap: Rate::from_raw(750_000),
        }
    }
}

/// Per-symbol numbers of a preset: price, volatility, tick distances and notional sizes.
struct PresetShape {
    price: &'static str,
    annual_vol: f64,
    touch_mean_ticks: f64,
    depth_mean_ticks: f64,
    max_depth_ticks: u32,
    order_notional: i64,
    taker_min_notional: i64,
}

impl GeneratorConfig {
    /// The default market for a Binance USD-M preset symbol (`BTCUSDT`, `ETHUSDT`,
    /// `SOLUSDT`); `None` for other symbols.
    #[must_use]
    pub fn binance_usdm(symbol: &str) -> Option<Self> {
        let shape = match symbol {
            "BTCUSDT" => PresetShape {
                price: "60000",
                annual_vol: 0.5,
                touch_mean_ticks: 8.0,
                depth_mean_ticks: 500.0,
                max_depth_ticks: 2500,
                order_notional: 2_000,
                taker_min_notional: 200,
            },
            "ETHUSDT" => PresetShape {
                price: "3000",
                annual_vol: 0.65,
                touch_mean_ticks: 8.0,
                depth_mean_ticks: 300.0,
                max_depth_ticks: 1500,
                order_notional: 1_500,
                taker_min_notional: 150,
            },
            "SOLUSDT" => PresetShape {
                price: "150",
                annual_vol: 0.85,
                touch_mean_ticks: 2.0,
                depth_mean_ticks: 150.0,
                max_depth_ticks: 600,
                order_notional: 1_000,
                taker_min_notional: 150,
            },
            _ => return None,
        };
        let instrument = binance_usdm(symbol)?;
        let price = Price::parse(shape.price).ok()?;
        Some(Self::from_shape(instrument, price, &shape))
    }

    /// A market for any instrument starting at `initial_price`, with generic shapes (60 %/year
    /// volatility, quotes 4 ticks from the touch and 200 ticks deep, 1,000-unit quote
    /// notionals): adjust the tick distances and notionals to the instrument.
    #[must_use]
    pub fn for_instrument(instrument: Instrument, initial_price: Price) -> Self {
        let shape = PresetShape {
            price: "0",
            annual_vol: 0.6,
            touch_mean_ticks: 4.0,
            depth_mean_ticks: 200.0,
            max_depth_ticks: 1000,
            order_notional: 1_000,
            taker_min_notional: 100,
        };
        Self::from_shape(instrument, initial_price, &shape)
    }

    fn from_shape(instrument: Instrument, initial_price: Price, shape: &PresetShape) -> Self {
        let usdt =
            |units: i64| Money::from_raw(i128::from(units) * kestrel_model::money::MONEY_ONE);
        Self {
            instrument,
            initial_price,
            volatility: VolatilityConfig::garch(shape.annual_vol),
            makers: MakerConfig {
                agents: 8,
                quote_rate_per_s: 250.0,
                cancel_rate_per_s: 60.0,
                max_orders_per_agent: 200,
                initial_levels_per_side: 200,
                touch_share: 0.5,
                touch_mean_ticks: shape.touch_mean_ticks,
                depth_mean_ticks: shape.depth_mean_ticks,
                max_depth_ticks: shape.max_depth_ticks,
                post_only_share: 0.8,
                order_notional: usdt(shape.order_notional),
                size_tail_alpha: 1.8,
                max_order_notional: usdt(shape.order_notional * 100),
                max_inventory_notional: usdt(shape.order_notional * 250),
                stale_cancels_per_event: 8,
                hedge_cooldown_ns: 1_000_000_000,
            },
            takers: TakerConfig {
                agents: 4,
                rate_per_s: 8.0,
                min_notional: usdt(shape.taker_min_notional),
                size_tail_alpha: 1.4,
                max_notional: usdt(shape.taker_min_notional * 1_000),
                max_inventory_notional: usdt(shape.taker_min_notional * 5_000),
            },
            pull: PullConfig {
                rate_per_s: 20.0,
                band_bps: 1.0,
                max_notional: usdt(shape.order_notional * 100),
            },
            reference: ReferenceConfig::default(),
        }
    }

    /// The number of agents of every kind (makers, takers and the arbitrageur).
    #[must_use]
    pub const fn agent_count(&self) -> u32 {
        self.makers.agents + self.takers.agents + 1
    }

    /// Checks every field the generator relies on.
    ///
    /// # Errors
    /// [`GeneratorError::InvalidConfig`] naming the first bad field, what it must be and what
    /// it is.
    pub fn validate(&self) -> Result<(), GeneratorError> {
        let tick = self.instrument.tick_size();
        if !tick.is_positive() {
            return self.invalid("instrument.tick_size", "positive".into(), tick.to_string());
        }
        for (field, step) in [
            (
                "instrument.lot_size.step_size",
                self.instrument.lot_size.step_size,
            ),
            (
                "instrument.market_lot_size.step_size",
                self.instrument.market_lot_size.step_size,
            ),
        ] {
            if !step.is_positive() {
                return self.invalid(field, "positive".into(), step.to_string());
            }
        }
        if !self.initial_price.is_positive() {
            let found = self.initial_price.to_string();
            return self.invalid("initial_price", "positive".into(), found);
        }
        self.validate_volatility()?;
        self.validate_agents()?;
        self.validate_rates()?;
        self.validate_shapes()
    }

    #[allow(clippy::float_arithmetic)] // statistics: GARCH stationarity (α + β < 1)
    fn validate_volatility(&self) -> Result<(), GeneratorError> {
        let v = &self.volatility;
        let checks = [
            ("volatility.annual_vol", v.annual_vol, 0.0, 100.0),
            ("volatility.garch_alpha", v.garch_alpha, 0.0, 1.0),
            ("volatility.garch_beta", v.garch_beta, 0.0, 1.0),
            (
                "volatility.max_variance_ratio",
                v.max_variance_ratio,
                1.0,
                1e12,
            ),
        ];
        self.check_ranges(&checks)?;
        let persistence = v.garch_alpha + v.garch_beta;
        if persistence >= 1.0 {
            let expected = "below 1 (a stationary variance)".into();
            return self.invalid(
                "volatility.garch_alpha + garch_beta",
                expected,
                format!("{persistence}"),
            );
        }
        if v.update_interval_ns == 0 {
            return self.invalid(
                "volatility.update_interval_ns",
                "positive".into(),
                "0".to_owned(),
            );
        }
        Ok(())
    }

    fn validate_agents(&self) -> Result<(), GeneratorError> {
        if self.makers.agents == 0 {
            return self.invalid("makers.agents", "at least 1".into(), "0".to_owned());
        }
        if self.takers.agents == 0 && self.takers.rate_per_s > 0.0 {
            return self.invalid(
                "takers.agents",
                "at least 1 when takers.rate_per_s > 0".into(),
                "0".to_owned(),
            );
        }
        if self.agent_count() > MAX_AGENTS {
            return self.invalid(
                "makers.agents + takers.agents",
                format!("at most {MAX_AGENTS}"),
                self.agent_count().to_string(),
            );
        }
        if self.makers.max_orders_per_agent == 0 {
            return self.invalid(
                "makers.max_orders_per_agent",
                "at least 1".into(),
                "0".to_owned(),
            );
        }
        Ok(())
    }

    fn validate_rates(&self) -> Result<(), GeneratorError> {
        let checks = [
            (
                "makers.quote_rate_per_s",
                self.makers.quote_rate_per_s,
                0.0,
                1e9,
            ),
            (
                "makers.cancel_rate_per_s",
                self.makers.cancel_rate_per_s,
                0.0,
                1e9,
            ),
            ("takers.rate_per_s", self.takers.rate_per_s, 0.0, 1e9),
            ("pull.rate_per_s", self.pull.rate_per_s, 0.0, 1e9),
            ("pull.band_bps", self.pull.band_bps, 0.0, 1e6),
            (
                "reference.basis_time_constant_s",
                self.reference.basis_time_constant_s,
                1e-3,
                1e9,
            ),
        ];
        self.check_ranges(&checks)?;
        if self.reference.funding_interval_ms == 0 {
            return self.invalid(
                "reference.funding_interval_ms",
                "positive".into(),
                "0".to_owned(),
            );
        }
        Ok(())
    }

    fn validate_shapes(&self) -> Result<(), GeneratorError> {
        let m = &self.makers;
        let checks = [
            ("makers.touch_share", m.touch_share, 0.0, 1.0),
            ("makers.post_only_share", m.post_only_share, 0.0, 1.0),
            ("makers.touch_mean_ticks", m.touch_mean_ticks, 0.0, 1e9),
            ("makers.depth_mean_ticks", m.depth_mean_ticks, 0.0, 1e9),
            ("makers.size_tail_alpha", m.size_tail_alpha, 0.1, 100.0),
            (
                "takers.size_tail_alpha",
                self.takers.size_tail_alpha,
                0.1,
                100.0,
            ),
        ];
        self.check_ranges(&checks)?;
        let notionals = [
            ("makers.order_notional", m.order_notional),
            ("makers.max_order_notional", m.max_order_notional),
            ("makers.max_inventory_notional", m.max_inventory_notional),
            ("takers.min_notional", self.takers.min_notional),
            ("takers.max_notional", self.takers.max_notional),
            (
                "takers.max_inventory_notional",
                self.takers.max_inventory_notional,
            ),
            ("pull.max_notional", self.pull.max_notional),
        ];
        for (field, value) in notionals {
            if !value.is_positive() {
                return self.invalid(field, "a positive notional".into(), value.to_string());
            }
        }
        Ok(())
    }

    /// Fails on the first value that is not finite or lies outside `[min, max]`.
    fn check_ranges(&self, checks: &[(&'static str, f64, f64, f64)]) -> Result<(), GeneratorError> {
        for &(field, value, min, max) in checks {
            if !(value.is_finite() && (min..=max).contains(&value)) {
                return self.invalid(
                    field,
                    format!("a number in [{min}, {max}]"),
                    format!("{value}"),
                );
            }
        }
        Ok(())
    }

    fn invalid(
        &self,
        field: &'static str,
        expected: String,
        found: String,
    ) -> Result<(), GeneratorError> {
        Err(GeneratorError::InvalidConfig {
            symbol: self.instrument.symbol.clone(),
            field,
            expected,
            found,
        })
    }
}

/// The most agents a generator can have: client tags keep the agent id in 16 bits.
pub const MAX_AGENTS: u32 = 65_534;
