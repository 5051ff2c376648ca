//! Checking an order against an instrument's rules, one named rule at a time.

use std::fmt;

use super::{Instrument, LotSize};
use crate::money::{FIXED_DECIMALS, FIXED_ONE, Money, Price, Qty};
use crate::order::{OrderRequest, Side};

/// One exchange rule an order can break. [`Rule::code`] is stable and documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A limit-priced order has no price.
    PriceRequired,
    /// Price (or stop price) below `PRICE_FILTER.minPrice`, or not positive.
    MinPrice,
    /// Price above `PRICE_FILTER.maxPrice`.
    MaxPrice,
    /// Price not on the `PRICE_FILTER.tickSize` grid.
    TickSize,
    /// Price has more decimals than `pricePrecision`.
    PricePrecision,
    /// Quantity below `LOT_SIZE.minQty` (or `MARKET_LOT_SIZE` for market orders).
    MinQty,
    /// Quantity above `LOT_SIZE.maxQty`.
    MaxQty,
    /// Quantity not on the `LOT_SIZE.stepSize` grid.
    StepSize,
    /// Quantity has more decimals than `quantityPrecision`.
    QtyPrecision,
    /// Notional `price × qty` below `MIN_NOTIONAL.notional`.
    MinNotional,
    /// A buy priced above mark × `PERCENT_PRICE.multiplierUp`.
    PercentPriceUp,
    /// A sell priced below mark × `PERCENT_PRICE.multiplierDown`.
    PercentPriceDown,
    /// The symbol already has `MAX_NUM_ORDERS` open orders.
    MaxOpenOrders,
}

impl Rule {
    /// The stable code clients can match on.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::PriceRequired => "price_required",
            Self::MinPrice => "price_below_min",
            Self::MaxPrice => "price_above_max",
            Self::TickSize => "price_off_tick",
            Self::PricePrecision => "price_precision",
            Self::MinQty => "qty_below_min",
            Self::MaxQty => "qty_above_max",
            Self::StepSize => "qty_off_step",
            Self::QtyPrecision => "qty_precision",
            Self::MinNotional => "notional_below_min",
            Self::PercentPriceUp => "price_above_band",
            Self::PercentPriceDown => "price_below_band",
            Self::MaxOpenOrders => "too_many_open_orders",
        }
    }

    /// The Binance filter (or symbol field) the rule comes from.
    #[must_use]
    pub const fn filter(self) -> &'static str {
        match self {
            Self::PriceRequired | Self::MinPrice | Self::MaxPrice | Self::TickSize => {
                "PRICE_FILTER"
            }
            Self::PricePrecision => "pricePrecision",
            Self::MinQty | Self::MaxQty | Self::StepSize => "LOT_SIZE",
            Self::QtyPrecision => "quantityPrecision",
            Self::MinNotional => "MIN_NOTIONAL",
            Self::PercentPriceUp | Self::PercentPriceDown => "PERCENT_PRICE",
            Self::MaxOpenOrders => "MAX_NUM_ORDERS",
        }
    }

    /// Every rule, in the order [`Instrument::validate`] checks them.
    pub const ALL: [Self; 13] = [
        Self::PriceRequired,
        Self::MinPrice,
        Self::MaxPrice,
        Self::TickSize,
        Self::PricePrecision,
        Self::MinQty,
        Self::MaxQty,
        Self::StepSize,
        Self::QtyPrecision,
        Self::MinNotional,
        Self::PercentPriceUp,
        Self::PercentPriceDown,
        Self::MaxOpenOrders,
    ];
}

/// A value quoted in a violation message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleValue {
    /// A price.
    Price(Price),
    /// A quantity.
    Qty(Qty),
    /// An amount.
    Money(Money),
    /// A count or a number of decimal places.
    Count(u32),
    /// Nothing (a missing field).
    None,
}

impl fmt::Display for RuleValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Price(v) => v.fmt(f),
            Self::Qty(v) => v.fmt(f),
            Self::Money(v) => v.fmt(f),
            Self::Count(v) => v.fmt(f),
            Self::None => f.write_str("none"),
        }
    }
}

/// Which rule an order broke, on which field, with the value found and the limit.
/// Building one does not allocate; the message is formatted only when displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleViolation {
    /// The broken rule.
    pub rule: Rule,
    /// The order field checked (`price`, `stop_price`, `quantity`, `notional`, `open_orders`).
    pub field: &'static str,
    /// What the order had.
    pub found: RuleValue,
    /// The limit it broke.
    pub limit: RuleValue,
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (field, found, limit) = (self.field, self.found, self.limit);
        let what = match self.rule {
            Rule::PriceRequired => {
                return write!(
                    f,
                    "{field} is required for a limit-priced order (PRICE_FILTER)"
                );
            }
            Rule::MinPrice => "is below the minimum",
            Rule::MaxPrice => "is above the maximum",
            Rule::TickSize => "is not a multiple of the tick size",
            Rule::PricePrecision | Rule::QtyPrecision => "has more decimal places than allowed:",
            Rule::MinQty => "is below the minimum quantity",
            Rule::MaxQty => "is above the maximum quantity",
            Rule::StepSize => "is not a multiple of the step size",
            Rule::MinNotional => "is below the minimum notional",
            Rule::PercentPriceUp => "is above the allowed band around the mark price, limit",
            Rule::PercentPriceDown => "is below the allowed band around the mark price, limit",
            Rule::MaxOpenOrders => "already at the maximum of",
        };
        write!(
            f,
            "{field} {found} {what} {limit} ({}: {})",
            self.rule.filter(),
            self.rule.code()
        )
    }
}

impl std::error::Error for RuleViolation {}

/// The facts about one order that the instrument's rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCheck {
    /// Buy or sell.
    pub side: Side,
    /// Whether the order executes at market (uses `MARKET_LOT_SIZE` and the mark for notional).
    pub is_market: bool,
    /// The limit price, for limit-priced orders.
    pub price: Option<Price>,
    /// Whether the order type requires a limit price.
    pub needs_price: bool,
    /// The trigger price of conditional orders.
    pub stop_price: Option<Price>,
    /// The order quantity (zero for close-position orders).
    pub quantity: Qty,
    /// Reduce-only orders are exempt from the minimum notional.
    pub reduce_only: bool,
    /// Close-position orders carry no quantity and skip the quantity and notional rules.
    pub close_position: bool,
    /// The current mark price, when known (percent-price band, market notional).
    pub mark_price: Option<Price>,
    /// How many orders are already open on the symbol.
    pub open_orders: u32,
}

impl OrderCheck {
    /// The facts of `request`, with the market state the caller knows.
    #[must_use]
    pub fn from_request(
        request: &OrderRequest,
        mark_price: Option<Price>,
        open_orders: u32,
    ) -> Self {
        Self {
            side: request.side,
            is_market: request.order_type.is_market(),
            price: request.price,
            needs_price: request.order_type.has_limit_price(),
            stop_price: request.stop_price,
            quantity: request.quantity,
            reduce_only: request.reduce_only,
            close_position: request.close_position,
            mark_price,
            open_orders,
        }
    }
}

impl Instrument {
    /// Checks an order against every rule, in the order of [`Rule::ALL`].
    ///
    /// # Errors
    /// The first [`RuleViolation`] found.
    pub fn validate(&self, order: &OrderCheck) -> Result<(), RuleViolation> {
        if order.needs_price && order.price.is_none() {
            return Err(violation(
                Rule::PriceRequired,
                "price",
                RuleValue::None,
                RuleValue::None,
            ));
        }
        if let Some(price) = order.price {
            self.check_price("price", price)?;
        }
        if let Some(stop) = order.stop_price {
            self.check_price("stop_price", stop)?;
        }
        if !order.close_position {
            self.check_qty(self.lot_for(order.is_market), order.quantity)?;
        }
        self.check_notional(order)?;
        self.check_band(order)?;
        if order.open_orders >= self.max_open_orders && self.max_open_orders > 0 {
            let (found, limit) = (
                RuleValue::Count(order.open_orders),
                RuleValue::Count(self.max_open_orders),
            );
            return Err(violation(Rule::MaxOpenOrders, "open_orders", found, limit));
        }
        Ok(())
    }

    fn check_price(&self, field: &'static str, price: Price) -> Result<(), RuleViolation> {
        let f = &self.price_filter;
        let found = RuleValue::Price(price);
        if !price.is_positive() || price < f.min_price {
            return Err(violation(
                Rule::MinPrice,
                field,
                found,
                RuleValue::Price(f.min_price),
            ));
        }
        if f.max_price.is_positive() && price > f.max_price {
            return Err(violation(
                Rule::MaxPrice,
                field,
                found,
                RuleValue::Price(f.max_price),
            ));
        }
        if !price.is_on_step(f.tick_size, f.min_price) {
            return Err(violation(
                Rule::TickSize,
                field,
                found,
                RuleValue::Price(f.tick_size),
            ));
        }
        if !within_precision(price.raw(), self.price_precision) {
            return Err(violation(
                Rule::PricePrecision,
                field,
                found,
                RuleValue::Count(self.price_precision),
            ));
        }
        Ok(())
    }

    fn check_qty(&self, lot: &LotSize, qty: Qty) -> Result<(), RuleViolation> {
        let found = RuleValue::Qty(qty);
        if !qty.is_positive() || qty < lot.min_qty {
            return Err(violation(
                Rule::MinQty,
                "quantity",
                found,
                RuleValue::Qty(lot.min_qty),
            ));
        }
        if lot.max_qty.is_positive() && qty > lot.max_qty {
            return Err(violation(
                Rule::MaxQty,
                "quantity",
                found,
                RuleValue::Qty(lot.max_qty),
            ));
        }
        if !qty.is_on_step(lot.step_size, lot.min_qty) {
            return Err(violation(
                Rule::StepSize,
                "quantity",
                found,
                RuleValue::Qty(lot.step_size),
            ));
        }
        if !within_precision(qty.raw(), self.quantity_precision) {
            return Err(violation(
                Rule::QtyPrecision,
                "quantity",
                found,
                RuleValue::Count(self.quantity_precision),
            ));
        }
        Ok(())
    }

    fn check_notional(&self, order: &OrderCheck) -> Result<(), RuleViolation> {
        if order.reduce_only || order.close_position || !self.min_notional.is_positive() {
            return Ok(());
        }
        // Binance values market orders at the mark price; without one there is nothing to check.
        let reference = if order.is_market {
            order.mark_price
        } else {
            order.price
        };
        let Some(price) = reference else {
            return Ok(());
        };
        let notional = price.notional(order.quantity);
        if notional < self.min_notional {
            return Err(violation(
                Rule::MinNotional,
                "notional",
                RuleValue::Money(notional),
                RuleValue::Money(self.min_notional),
            ));
        }
        Ok(())
    }

    fn check_band(&self, order: &OrderCheck) -> Result<(), RuleViolation> {
        let (Some(band), Some(mark), Some(price)) =
            (self.percent_price, order.mark_price, order.price)
        else {
            return Ok(());
        };
        // Compare price × 10⁸ with mark × multiplier exactly, without rounding either side.
        let scaled_price = i128::from(price.raw()) * i128::from(FIXED_ONE);
        let limit_of =
            |multiplier: crate::money::Rate| i128::from(mark.raw()) * i128::from(multiplier.raw());
        let shown = |raw: i128| RuleValue::Money(Money::from_raw(raw));
        match order.side {
            Side::Buy if scaled_price > limit_of(band.multiplier_up) => Err(violation(
                Rule::PercentPriceUp,
                "price",
                RuleValue::Price(price),
                shown(limit_of(band.multiplier_up)),
            )),
            Side::Sell if scaled_price < limit_of(band.multiplier_down) => Err(violation(
                Rule::PercentPriceDown,
                "price",
                RuleValue::Price(price),
                shown(limit_of(band.multiplier_down)),
            )),
            _ => Ok(()),
        }
    }
}

const fn violation(
    rule: Rule,
    field: &'static str,
    found: RuleValue,
    limit: RuleValue,
) -> RuleViolation {
    RuleViolation {
        rule,
        field,
        found,
        limit,
    }
}

/// Whether a raw 8-decimal value has at most `places` decimals.
const fn within_precision(raw: i64, places: u32) -> bool {
    if places >= FIXED_DECIMALS {
        return true;
    }
    let unit = 10i64.pow(FIXED_DECIMALS - places);
    raw % unit == 0
}
