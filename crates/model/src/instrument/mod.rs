//! Instruments and the exchange's trading rules for them (Binance `exchangeInfo` filters,
//! `../shared/binance-futures.md` §3.2): tick and step grids, quantity and notional bounds,
//! precision, the percent-price band and the open-order cap.
//!
//! [`Instrument::validate`] checks an order against every rule and names the one that failed;
//! the `round_*` functions move a price or quantity onto the grid, and a value they return
//! always passes the rule it was rounded for.

mod presets;
mod rules;

pub use presets::{PRESET_SYMBOLS, binance_usdm};
pub use rules::{OrderCheck, Rule, RuleValue, RuleViolation};

use serde::{Deserialize, Serialize};

use crate::money::{Money, MoneyError, Price, Qty, Rate, RoundingMode};
use crate::order::Side;

/// What kind of contract an instrument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContractType {
    /// A perpetual future (funding, no expiry).
    Perpetual,
    /// A future expiring at the end of this month.
    CurrentMonth,
    /// A future expiring at the end of next month.
    NextMonth,
    /// A future expiring at the end of this quarter.
    CurrentQuarter,
    /// A future expiring at the end of next quarter.
    NextQuarter,
    /// A perpetual being delisted.
    PerpetualDelivering,
    /// A spot pair.
    Spot,
}

/// `PRICE_FILTER`: bounds and grid for `price` and `stopPrice`. A zero field disables its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceFilter {
    /// The lowest allowed price (0 = no lower bound).
    pub min_price: Price,
    /// The highest allowed price (0 = no upper bound).
    pub max_price: Price,
    /// Prices must be `min_price + k × tick_size` (0 = any price).
    pub tick_size: Price,
}

/// `LOT_SIZE` / `MARKET_LOT_SIZE`: bounds and grid for `quantity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotSize {
    /// The smallest allowed quantity.
    pub min_qty: Qty,
    /// The largest allowed quantity (0 = no upper bound).
    pub max_qty: Qty,
    /// Quantities must be `min_qty + k × step_size` (0 = any quantity).
    pub step_size: Qty,
}

/// `PERCENT_PRICE`: limit prices must stay within a band around the mark price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PercentPrice {
    /// A buy's price must be ≤ mark × `multiplier_up`.
    pub multiplier_up: Rate,
    /// A sell's price must be ≥ mark × `multiplier_down`.
    pub multiplier_down: Rate,
}

/// A tradable instrument and its exchange rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// The venue symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// The asset being bought or sold (`BTC`).
    pub base_asset: String,
    /// The asset prices are quoted in (`USDT`).
    pub quote_asset: String,
    /// The asset margin and P&L are settled in (`USDT`).
    pub margin_asset: String,
    /// Perpetual, dated future or spot.
    pub contract_type: ContractType,
    /// Decimal places allowed in a price.
    pub price_precision: u32,
    /// Decimal places allowed in a quantity.
    pub quantity_precision: u32,
    /// Price bounds and tick.
    pub price_filter: PriceFilter,
    /// Quantity bounds and step for limit orders.
    pub lot_size: LotSize,
    /// Quantity bounds and step for market orders.
    pub market_lot_size: LotSize,
    /// The smallest allowed notional `price × qty` (reduce-only orders are exempt).
    pub min_notional: Money,
    /// The price band around the mark price, if the venue has one.
    pub percent_price: Option<PercentPrice>,
    /// The most open orders allowed on this symbol.
    pub max_open_orders: u32,
}

impl Instrument {
    /// The price tick (the grid step every price must sit on).
    #[must_use]
    pub const fn tick_size(&self) -> Price {
        self.price_filter.tick_size
    }

    /// The lot rules for an order of this kind: market-type orders use `MARKET_LOT_SIZE`.
    #[must_use]
    pub const fn lot_for(&self, is_market: bool) -> &LotSize {
        if is_market {
            &self.market_lot_size
        } else {
            &self.lot_size
        }
    }

    /// Rounds a price onto the tick grid in the direction `mode` gives
    /// (`Floor`, `Ceil` or `HalfEven` for nearest).
    ///
    /// # Errors
    /// [`RoundingError`] when the rounded price falls outside the filter's bounds.
    pub fn round_price(&self, price: Price, mode: RoundingMode) -> Result<Price, RoundingError> {
        let f = &self.price_filter;
        let rounded = price.round_to_step(f.tick_size, f.min_price, mode)?;
        let below = rounded < f.min_price || !rounded.is_positive();
        let above = f.max_price.is_positive() && rounded > f.max_price;
        if below || above {
            return Err(RoundingError::OutOfBounds {
                field: "price",
                value: rounded.to_string(),
            });
        }
        Ok(rounded)
    }

    /// Rounds a limit price for `side` so that it is never more aggressive than asked:
    /// down for buys, up for sells.
    ///
    /// # Errors
    /// As [`Instrument::round_price`].
    pub fn round_price_for(&self, side: Side, price: Price) -> Result<Price, RoundingError> {
        let mode = match side {
            Side::Buy => RoundingMode::Floor,
            Side::Sell => RoundingMode::Ceil,
        };
        self.round_price(price, mode)
    }

    /// Rounds a quantity down onto the step grid of the limit or market lot rules, so the
    /// order never grows.
    ///
    /// # Errors
    /// [`RoundingError`] when the result is below the minimum or above the maximum quantity.
    pub fn round_qty(&self, qty: Qty, is_market: bool) -> Result<Qty, RoundingError> {
        let lot = self.lot_for(is_market);
        let rounded = qty.round_to_step(lot.step_size, lot.min_qty, RoundingMode::Floor)?;
        let below = rounded < lot.min_qty || !rounded.is_positive();
        let above = lot.max_qty.is_positive() && rounded > lot.max_qty;
        if below || above {
            return Err(RoundingError::OutOfBounds {
                field: "quantity",
                value: rounded.to_string(),
            });
        }
        Ok(rounded)
    }
}

/// Why a value cannot be rounded onto an instrument's grid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoundingError {
    /// The rounded value is outside the filter's bounds.
    #[error("{field} rounds to {value}, which is outside the instrument's bounds")]
    OutOfBounds {
        /// `price` or `quantity`.
        field: &'static str,
        /// The rounded value.
        value: String,
    },
    /// Arithmetic overflow.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

#[cfg(test)]
pub(crate) mod tests;
