//! [`Grid`]: where the generator's `f64` statistics become exact prices and quantities.
//!
//! Prices are handled as whole tick counts from the instrument's grid origin (`min_price +
//! k × tick`), so every price built here is on the grid by construction; quantities are
//! clamped into the lot bounds and floored onto the step grid by `Instrument::round_qty`.

use kestrel_model::{Instrument, Money, Price, Qty};

/// The tick and lot grids of one instrument, in the forms the generator needs.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    instrument: Instrument,
    /// The price grid's origin (`min_price`), raw.
    origin: i64,
    /// The tick, raw (positive: checked by `GeneratorConfig::validate`).
    tick: i64,
}

/// A price as an `f64` in quote units.
#[allow(clippy::float_arithmetic)] // statistics: reading an exact price
pub(crate) fn price_f64(price: Price) -> f64 {
    price.raw() as f64 / 1e8
}

/// A quantity as an `f64` in base units.
#[allow(clippy::float_arithmetic)] // statistics: reading an exact quantity
pub(crate) fn qty_f64(qty: Qty) -> f64 {
    qty.raw() as f64 / 1e8
}

/// An amount as an `f64`.
#[allow(clippy::float_arithmetic)] // statistics: reading an exact notional
pub(crate) fn money_f64(money: Money) -> f64 {
    money.raw() as f64 / 1e16
}

impl Grid {
    /// The grids of `instrument`.
    pub(crate) fn new(instrument: Instrument) -> Self {
        let filter = instrument.price_filter;
        Self {
            origin: filter.min_price.raw(),
            tick: filter.tick_size.raw().max(1),
            instrument,
        }
    }

    /// `price` in (fractional) ticks from the origin.
    #[allow(clippy::float_arithmetic)] // statistics: locating the fair price on the grid
    pub(crate) fn ticks_of_f64(&self, price: f64) -> f64 {
        (price * 1e8 - self.origin as f64) / self.tick as f64
    }

    /// The last grid point at or below `price`, in ticks from the origin.
    pub(crate) const fn floor_ticks(&self, price: Price) -> i64 {
        (price.raw() - self.origin).div_euclid(self.tick)
    }

    /// The first grid point at or above `price`, in ticks from the origin.
    pub(crate) const fn ceil_ticks(&self, price: Price) -> i64 {
        -(self.origin - price.raw()).div_euclid(self.tick)
    }

    /// The price `ticks` ticks from the origin, if the instrument allows it.
    pub(crate) fn price_at(&self, ticks: i64) -> Option<Price> {
        let raw = ticks.checked_mul(self.tick)?.checked_add(self.origin)?;
        let filter = &self.instrument.price_filter;
        let price = Price::from_raw(raw);
        let above = filter.max_price.is_positive() && price > filter.max_price;
        (price.is_positive() && price >= filter.min_price && !above).then_some(price)
    }

    /// The grid price nearest to `price`, clamped into the instrument's price bounds.
    #[allow(clippy::float_arithmetic)] // statistics: rounding a fair price to the grid
    pub(crate) fn nearest_price(&self, price: f64) -> Price {
        let filter = &self.instrument.price_filter;
        let lowest = self.ceil_ticks(filter.min_price.max(Price::EPSILON));
        let highest = if filter.max_price.is_positive() {
            self.floor_ticks(filter.max_price)
        } else {
            (i64::MAX - self.origin) / self.tick
        };
        let ticks = self.ticks_of_f64(price).round();
        let ticks = if ticks.is_nan() {
            lowest
        } else {
            (ticks as i64).clamp(lowest, highest)
        };
        Price::from_raw(self.origin + ticks * self.tick)
    }

    /// `qty` (base units) clamped into the lot bounds of a limit (`is_market = false`) or
    /// market order and floored onto the step grid; `None` if it cannot be made valid.
    #[allow(clippy::float_arithmetic)] // statistics: turning a drawn size into a quantity
    pub(crate) fn qty(&self, qty: f64, is_market: bool) -> Option<Qty> {
        let lot = self.instrument.lot_for(is_market);
        let max = if lot.max_qty.is_positive() {
            lot.max_qty.raw()
        } else {
            i64::MAX
        };
        let raw = if qty.is_finite() {
            (qty * 1e8).floor() as i64
        } else {
            lot.min_qty.raw()
        };
        let clamped = Qty::from_raw(raw.clamp(lot.min_qty.raw().max(1), max));
        self.instrument.round_qty(clamped, is_market).ok()
    }
}
