//! What an order would do to the position it acts on ([`Impact`]) and what that is worth
//! ([`Valuation`]), computed once per check and read by every rule.
//!
//! # Which position an order acts on, and what it leaves
//!
//! - One-way mode (`position_side = BOTH`): the net position moves by `±quantity`; a
//!   reduce-only order moves it toward zero and never past it (and does nothing when it
//!   faces no opposite position).
//! - Hedge mode: a buy grows the long leg and shrinks the short leg, a sell the reverse; a leg
//!   never crosses zero (the venue refuses that).
//! - A close-position order takes its leg to zero when it faces it.
//!
//! An order **reduces** when the leg ends no larger and on the same side (or flat): such an
//! order passes every rule that guards against growing risk. A flip (long 1 → short 0.5) does
//! not reduce: it opens a position.
//!
//! # The price an order is valued at
//!
//! The higher of its limit price, stop price, activation price and the symbol's mark, among
//! those known — the conservative choice for size limits: a buy limit far below the market
//! is valued at the market, a sell above it at its price. The symbol's position before and
//! after the order is valued at that same price, so "does this order make it bigger?" never
//! depends on two prices; the other symbols keep their values at their marks.

use kestrel_model::order::PositionSide;
use kestrel_model::{Money, MoneyError, OrderRequest, Price, Qty, Side};

use crate::state::{LEG_SIDES, SymbolState};

/// The order's effect on the leg it acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Impact {
    /// The leg.
    pub leg: PositionSide,
    /// The leg's signed quantity now.
    pub before: Qty,
    /// The leg's signed quantity if the order fills completely.
    pub after: Qty,
    /// The leg ends no larger and not flipped.
    pub reduces: bool,
    /// The venue itself will not let the order grow a position (reduce-only, close-position,
    /// or a hedge-mode close of a leg): what the kill switch lets through.
    pub flagged_reducing: bool,
    /// The quantity traded: the order's, or the whole leg for a close-position order.
    pub traded: Qty,
}

/// Whether a `side` order faces (would shrink) a position of `qty`.
const fn faces(qty: Qty, side: Side) -> bool {
    match side {
        Side::Buy => qty.is_negative(),
        Side::Sell => qty.is_positive(),
    }
}

/// `qty + delta`, stopping at zero instead of crossing it.
fn toward_zero(qty: Qty, delta: Qty) -> Result<Qty, MoneyError> {
    let moved = qty.try_add(delta)?;
    let crossed =
        (qty.is_positive() && moved.is_negative()) || (qty.is_negative() && moved.is_positive());
    Ok(if crossed { Qty::ZERO } else { moved })
}

impl Impact {
    /// The impact of `order` on the state of its symbol (`None`: nothing known, flat).
    pub fn of(order: &OrderRequest, symbol: Option<&SymbolState>) -> Result<Self, MoneyError> {
        let leg = order.position_side;
        let before = symbol.map_or(Qty::ZERO, |s| s.leg_qty(leg));
        let side = order.side;
        let delta = order.quantity.try_mul_int(side.sign())?;
        let closing_leg = matches!(
            (leg, side),
            (PositionSide::Long, Side::Sell) | (PositionSide::Short, Side::Buy)
        );
        let after = if order.close_position {
            if faces(before, side) {
                Qty::ZERO
            } else {
                before
            }
        } else if order.reduce_only && !faces(before, side) {
            before
        } else if order.reduce_only || closing_leg {
            toward_zero(before, delta)?
        } else {
            before.try_add(delta)?
        };
        let flipped = (before.is_positive() && after.is_negative())
            || (before.is_negative() && after.is_positive());
        Ok(Self {
            leg,
            before,
            after,
            reduces: after.abs() <= before.abs() && !flipped,
            flagged_reducing: order.reduce_only || order.close_position || closing_leg,
            traded: if order.close_position {
                before.abs()
            } else {
                order.quantity.abs()
            },
        })
    }
}

/// Why an order could not be valued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unvalued {
    /// No limit, stop, activation or mark price.
    NoPrice,
    /// An amount does not fit exact arithmetic.
    OutOfRange,
}

impl From<MoneyError> for Unvalued {
    fn from(_: MoneyError) -> Self {
        Self::OutOfRange
    }
}

/// The order and the exposures it changes, in USDT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Valuation {
    /// The price everything on the order's symbol is valued at (module docs).
    pub price: Price,
    /// `price × traded quantity`.
    pub order_notional: Money,
    /// The symbol's position (all legs, absolute) now.
    pub symbol_before: Money,
    /// The symbol's position if the order fills.
    pub symbol_after: Money,
    /// Exposure across all symbols now.
    pub total_before: Money,
    /// Exposure across all symbols if the order fills.
    pub total_after: Money,
    /// The symbol's open legs now.
    pub legs_before: u32,
    /// The symbol's open legs if the order fills.
    pub legs_after: u32,
}

/// The highest price among those known for the order (module docs).
fn valuation_price(order: &OrderRequest, mark: Option<Price>) -> Option<Price> {
    [order.price, order.stop_price, order.activation_price, mark]
        .into_iter()
        .flatten()
        .max()
}

impl Valuation {
    /// Values `impact` of `order`, with `total_exposure` the portfolio's exposure at marks.
    pub fn of(
        order: &OrderRequest,
        impact: &Impact,
        symbol: Option<&SymbolState>,
        total_exposure: Money,
    ) -> Result<Self, Unvalued> {
        let mark = symbol.and_then(|s| s.mark);
        let price = valuation_price(order, mark).ok_or(Unvalued::NoPrice)?;
        let mut symbol_before = Money::ZERO;
        let mut symbol_after = Money::ZERO;
        for side in LEG_SIDES {
            let qty = symbol.map_or(Qty::ZERO, |s| s.leg_qty(side));
            let after = if side == impact.leg {
                impact.after
            } else {
                qty
            };
            symbol_before = symbol_before.try_add(price.notional(qty.abs()))?;
            symbol_after = symbol_after.try_add(price.notional(after.abs()))?;
        }
        let cached = symbol.map_or(Money::ZERO, |s| s.exposure);
        let others = total_exposure.try_sub(cached)?;
        let legs_before = symbol.map_or(0, SymbolState::open_legs);
        let legs_after = legs_before
            .saturating_sub(u32::from(!impact.before.is_zero()))
            .saturating_add(u32::from(!impact.after.is_zero()));
        Ok(Self {
            price,
            order_notional: price.notional(impact.traded),
            symbol_before,
            symbol_after,
            total_before: others.try_add(symbol_before)?,
            total_after: others.try_add(symbol_after)?,
            legs_before,
            legs_after,
        })
    }
}
