//! Order pricing by urgency (seed 000 FR-SE-006 steps 1, 3 and 4), as pure functions.
//!
//! | urgency | order | price (for a buy; a sell mirrors it) |
//! |---|---|---|
//! | passive | limit, post-only (`GTX`) | the best bid (joining the queue) |
//! | normal | limit, post-only (`GTX`) | one tick above the best bid when that stays below the best ask, else the best bid |
//! | aggressive | limit, immediate-or-cancel | the best ask plus `slippage_ticks` ticks |
//!
//! A price hint caps the price: the order is never more aggressive than the hint. Prices are
//! rounded onto the instrument's tick grid away from the market (down for a buy, up for a
//! sell), and a post-only price never crosses the far touch: a buy stays strictly below the
//! best ask, a sell strictly above the best bid. With one side of the book missing, a passive
//! or normal order rests one tick behind the other side; an aggressive one needs the side it
//! takes from.

use kestrel_model::instrument::{Instrument, RoundingError};
use kestrel_model::money::{MoneyError, Price, Qty};
use kestrel_model::order::{OrderType, Side, TimeInForce};

use crate::signal::Urgency;

/// The best bid and ask an order is priced against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Touch {
    /// Best bid price.
    pub bid: Option<Price>,
    /// Best ask price.
    pub ask: Option<Price>,
}

impl Touch {
    /// The best price on the side a `side` order rests on (bid for a buy).
    #[must_use]
    pub const fn near(&self, side: Side) -> Option<Price> {
        match side {
            Side::Buy => self.bid,
            Side::Sell => self.ask,
        }
    }

    /// The best price a `side` order would take from (ask for a buy).
    #[must_use]
    pub const fn far(&self, side: Side) -> Option<Price> {
        self.near(side.opposite())
    }
}

/// An order's type, time in force and limit price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pricing {
    /// Limit (post-only or IOC).
    pub order_type: OrderType,
    /// `GTX` for makers, `IOC` for takers.
    pub time_in_force: TimeInForce,
    /// The limit price, on the tick grid.
    pub price: Price,
}

/// Why no price could be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// The book lacks the side(s) the price is derived from, and no hint was given.
    #[error("no {needed} to price a {urgency:?} {side:?} order against")]
    NoTouch {
        /// The order's side.
        side: Side,
        /// Its urgency.
        urgency: Urgency,
        /// What is missing (`best ask`, `touch`).
        needed: &'static str,
    },
    /// A post-only quote at this price would take liquidity.
    #[error("post-only {side:?} at {price} would cross the touch at {touch}")]
    WouldCross {
        /// The quote's side.
        side: Side,
        /// Its price after rounding.
        price: Price,
        /// The far touch it would hit.
        touch: Price,
    },
    /// The price or quantity does not fit the instrument's rules.
    #[error(transparent)]
    Rounding(#[from] RoundingError),
}

impl From<MoneyError> for PricingError {
    fn from(error: MoneyError) -> Self {
        Self::Rounding(RoundingError::Money(error))
    }
}

/// Prices an order for a signal of `urgency` on `side`.
///
/// # Errors
/// [`PricingError::NoTouch`] when the book lacks what the urgency needs;
/// [`PricingError::Rounding`] when the price falls outside the instrument's bounds.
pub fn price_order(
    instrument: &Instrument,
    side: Side,
    urgency: Urgency,
    touch: Touch,
    hint: Option<Price>,
    slippage_ticks: u32,
) -> Result<Pricing, PricingError> {
    let tick = tick_of(instrument);
    let no_touch = |needed| PricingError::NoTouch {
        side,
        urgency,
        needed,
    };
    if urgency == Urgency::Aggressive {
        let far = touch.far(side).ok_or(no_touch(far_name(side)))?;
        let through = toward_far(side, far, tick, i64::from(slippage_ticks))?;
        let price = instrument.round_price_for(side, cap(side, through, hint))?;
        return Ok(Pricing {
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Ioc,
            price,
        });
    }
    let base = maker_base(side, urgency, touch, tick)?;
    let wanted = match (base, hint) {
        (Some(base), hint) => cap(side, base, hint),
        (None, Some(hint)) => hint,
        (None, None) => return Err(no_touch("touch")),
    };
    Ok(Pricing {
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtx,
        price: maker_price(instrument, side, wanted, touch)?,
    })
}

/// Rounds a post-only quote's price away from the market onto the tick grid.
///
/// # Errors
/// [`PricingError::WouldCross`] when the rounded price would take from the far touch;
/// [`PricingError::Rounding`] when it falls outside the instrument's bounds.
pub fn price_quote(
    instrument: &Instrument,
    side: Side,
    price: Price,
    touch: Touch,
) -> Result<Price, PricingError> {
    let rounded = instrument.round_price_for(side, price)?;
    match crossed(side, rounded, touch) {
        Some(far) => Err(PricingError::WouldCross {
            side,
            price: rounded,
            touch: far,
        }),
        None => Ok(rounded),
    }
}

/// Rounds an order quantity down onto the instrument's step grid.
///
/// # Errors
/// [`PricingError::Rounding`] when the result is below the minimum or above the maximum.
pub fn order_qty(instrument: &Instrument, qty: Qty, is_market: bool) -> Result<Qty, PricingError> {
    Ok(instrument.round_qty(qty, is_market)?)
}

/// The un-rounded maker price before the hint: the near touch, improved by a tick for
/// `Normal` when the spread allows, or a tick behind the far touch when the near side is empty.
fn maker_base(
    side: Side,
    urgency: Urgency,
    touch: Touch,
    tick: Price,
) -> Result<Option<Price>, PricingError> {
    let Some(near) = touch.near(side) else {
        return touch
            .far(side)
            .map(|far| toward_far(side, far, tick, -1))
            .transpose()
            .map_err(PricingError::from);
    };
    if urgency == Urgency::Normal {
        let improved = toward_far(side, near, tick, 1)?;
        if touch
            .far(side)
            .is_none_or(|far| !crosses(side, improved, far))
        {
            return Ok(Some(improved));
        }
    }
    Ok(Some(near))
}

/// Rounds a maker price onto the grid and pulls it back behind the far touch if needed.
fn maker_price(
    instrument: &Instrument,
    side: Side,
    wanted: Price,
    touch: Touch,
) -> Result<Price, PricingError> {
    let rounded = instrument.round_price_for(side, wanted)?;
    let Some(far) = crossed(side, rounded, touch) else {
        return Ok(rounded);
    };
    let behind = toward_far(side, far, tick_of(instrument), -1)?;
    Ok(instrument.round_price_for(side, behind)?)
}

/// The far touch a `side` order at `price` would trade against, if it would.
fn crossed(side: Side, price: Price, touch: Touch) -> Option<Price> {
    touch.far(side).filter(|&far| crosses(side, price, far))
}

/// Whether a `side` order at `price` would trade against the far touch `far`.
const fn crosses(side: Side, price: Price, far: Price) -> bool {
    match side {
        Side::Buy => price.raw() >= far.raw(),
        Side::Sell => price.raw() <= far.raw(),
    }
}

/// `price` moved `ticks` ticks toward the far side (up for a buy, down for a sell); a negative
/// count moves away from it.
fn toward_far(side: Side, price: Price, tick: Price, ticks: i64) -> Result<Price, MoneyError> {
    price.try_add(tick.try_mul_int(ticks * side.sign())?)
}

/// The less aggressive of `price` and `hint`.
fn cap(side: Side, price: Price, hint: Option<Price>) -> Price {
    match (side, hint) {
        (_, None) => price,
        (Side::Buy, Some(hint)) => price.min(hint),
        (Side::Sell, Some(hint)) => price.max(hint),
    }
}

const fn far_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "best ask",
        Side::Sell => "best bid",
    }
}

/// The instrument's tick, or the smallest price step when it imposes none.
fn tick_of(instrument: &Instrument) -> Price {
    let tick = instrument.tick_size();
    if tick.is_positive() {
        tick
    } else {
        Price::EPSILON
    }
}

#[cfg(test)]
mod tests;
