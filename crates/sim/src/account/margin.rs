//! Cross margin: per-leg initial and maintenance margin, open-order margin, the margin sheet of
//! the whole account, and the new-order margin check (`-2019`, `-2027`).

use std::collections::BTreeMap;

use kestrel_model::money::{Money, MoneyError, Price, Qty, RoundingMode};
use kestrel_model::order::{PositionSide, Side};
use kestrel_model::position::Position;

use super::MarkPrices;
use super::error::AccountError;
use super::report::AccountTotals;
use super::rounding;
use super::state::Account;

/// An order's unfilled part as margin sees it: resting on the book, or about to be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOrder<'a> {
    /// The symbol.
    pub symbol: &'a str,
    /// Buy or sell.
    pub side: Side,
    /// `BOTH` in one-way mode; the leg it opens or closes in hedge mode.
    pub position_side: PositionSide,
    /// The limit price (for a market order, the price it is expected to fill at).
    pub price: Price,
    /// The unfilled quantity (positive).
    pub qty: Qty,
}

/// The exact notional of one leg's open orders, by side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct OrderNotionals {
    /// Σ price × qty of buy orders.
    pub(super) bids: Money,
    /// Σ price × qty of sell orders.
    pub(super) asks: Money,
}

impl OrderNotionals {
    fn add(&mut self, order: &OpenOrder<'_>) -> Result<(), MoneyError> {
        let notional = order.price.notional(order.qty).abs();
        match order.side {
            Side::Buy => self.bids = self.bids.try_add(notional)?,
            Side::Sell => self.asks = self.asks.try_add(notional)?,
        }
        Ok(())
    }
}

/// The notionals of the open orders on `symbol`'s `position_side` leg.
pub(super) fn leg_orders(
    open_orders: &[OpenOrder<'_>],
    symbol: &str,
    position_side: PositionSide,
) -> Result<OrderNotionals, AccountError> {
    let mut notionals = OrderNotionals::default();
    for order in open_orders
        .iter()
        .filter(|o| o.symbol == symbol && o.position_side == position_side)
    {
        notionals.add(order)?;
    }
    Ok(notionals)
}

/// The notional a leg must be margined for, position and open orders together — Binance's
/// rule `max(|P + bids|, |P − asks|)` with `P` the signed position notional at the mark:
/// orders that reduce the position need no margin for the part that reduces it. In hedge
/// mode a leg's closing orders never need margin: LONG needs `|P| + bids`, SHORT `|P| + asks`.
pub(super) fn requirement_notional(
    position_side: PositionSide,
    position_notional: Money,
    orders: &OrderNotionals,
) -> Result<Money, AccountError> {
    let held = position_notional.abs();
    Ok(match position_side {
        PositionSide::Both => {
            let if_bids_fill = position_notional.try_add(orders.bids)?.abs();
            let if_asks_fill = position_notional.try_sub(orders.asks)?.abs();
            if_bids_fill.max(if_asks_fill)
        }
        PositionSide::Long => held.try_add(orders.bids)?,
        PositionSide::Short => held.try_add(orders.asks)?,
    })
}

/// Initial margin of a leg's open orders: what the requirement adds to the position,
/// divided by the leverage, rounded up to 10⁻⁸.
fn open_order_margin(
    requirement: Money,
    position_notional: Money,
    leverage: u32,
) -> Result<Money, AccountError> {
    let extra = requirement.try_sub(position_notional.abs())?;
    Ok(rounding::div_int(extra, leverage, RoundingMode::Ceil)?)
}

/// One leg's margin figures, every one on the 10⁻⁸ grid (rules in the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegMargin {
    /// The symbol.
    pub symbol: String,
    /// The leg.
    pub position_side: PositionSide,
    /// The signed position quantity.
    pub position_amt: Qty,
    /// The mark the figures use.
    pub mark_price: Price,
    /// The symbol's leverage.
    pub leverage: u32,
    /// Signed `mark × qty` (half to even).
    pub notional: Money,
    /// `mark × qty − cost basis` (half to even).
    pub unrealized_pnl: Money,
    /// `|mark × qty| / leverage` (rounded up).
    pub position_initial_margin: Money,
    /// The open orders' initial margin (rounded up).
    pub open_order_initial_margin: Money,
    /// `|mark × qty| × MMR` (rounded up) − `cum` of the notional's bracket.
    pub maint_margin: Money,
    /// Σ notional of the leg's open buy orders (half to even).
    pub bid_notional: Money,
    /// Σ notional of the leg's open sell orders (half to even).
    pub ask_notional: Money,
}

/// The margin of the whole account at given marks: every leg and the account totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginSheet {
    /// Every leg ever traded or with open orders, by symbol then position side.
    pub legs: Vec<LegMargin>,
    /// The totals (each the exact sum of the legs' figures).
    pub totals: AccountTotals,
}

/// What the maintenance side of a leg contributes: unrealized P&L and maintenance margin.
#[derive(Debug, Clone, Copy)]
pub(super) struct LegRisk {
    /// The exact signed `mark × qty`.
    pub(super) notional: Money,
    /// Unrealized P&L (half to even).
    pub(super) unrealized_pnl: Money,
    /// Maintenance margin.
    pub(super) maint_margin: Money,
}

impl Account {
    /// The margin sheet: every leg's figures and the totals, at `marks`, with `open_orders`
    /// (all of the account's open orders) counted as [`requirement_notional`] describes.
    ///
    /// # Errors
    /// [`AccountError::Arithmetic`] for absurd magnitudes.
    pub fn margin(
        &self,
        open_orders: &[OpenOrder<'_>],
        marks: &impl MarkPrices,
    ) -> Result<MarginSheet, AccountError> {
        let mut grouped: BTreeMap<(&str, PositionSide), OrderNotionals> = BTreeMap::new();
        for order in open_orders {
            grouped
                .entry((order.symbol, order.position_side))
                .or_default()
                .add(order)?;
        }
        for (symbol, state) in &self.symbols {
            for &position_side in state.legs.keys() {
                grouped.entry((symbol, position_side)).or_default();
            }
        }
        let legs = grouped
            .into_iter()
            .map(|((symbol, side), orders)| self.leg_margin(symbol, side, &orders, marks))
            .collect::<Result<Vec<_>, _>>()?;
        let totals = self.totals_of(&legs)?;
        Ok(MarginSheet { legs, totals })
    }

    fn leg_margin(
        &self,
        symbol: &str,
        position_side: PositionSide,
        orders: &OrderNotionals,
        marks: &impl MarkPrices,
    ) -> Result<LegMargin, AccountError> {
        let position = self.position(symbol, position_side);
        let mark = self.mark_for(symbol, position, marks);
        let risk = self.leg_risk(symbol, position, mark)?;
        let leverage = self.leverage(symbol);
        let requirement = requirement_notional(position_side, risk.notional, orders)?;
        let half_even = |amount| rounding::round_amount(amount, RoundingMode::HalfEven);
        Ok(LegMargin {
            symbol: symbol.to_owned(),
            position_side,
            position_amt: position.map_or(Qty::ZERO, |p| p.qty),
            mark_price: mark,
            leverage,
            notional: half_even(risk.notional),
            unrealized_pnl: risk.unrealized_pnl,
            position_initial_margin: rounding::div_int(
                risk.notional.abs(),
                leverage,
                RoundingMode::Ceil,
            )?,
            open_order_initial_margin: open_order_margin(requirement, risk.notional, leverage)?,
            maint_margin: risk.maint_margin,
            bid_notional: half_even(orders.bids),
            ask_notional: half_even(orders.asks),
        })
    }

    /// Unrealized P&L and maintenance margin of a leg at `mark`.
    pub(super) fn leg_risk(
        &self,
        symbol: &str,
        position: Option<&Position>,
        mark: Price,
    ) -> Result<LegRisk, AccountError> {
        let Some(position) = position.filter(|p| !p.qty.is_zero()) else {
            return Ok(LegRisk {
                notional: Money::ZERO,
                unrealized_pnl: Money::ZERO,
                maint_margin: Money::ZERO,
            });
        };
        let notional = mark.notional(position.qty);
        let unrealized = position.unrealized_pnl(mark)?;
        let bracket = self.brackets.bracket_for(symbol, notional);
        Ok(LegRisk {
            notional,
            unrealized_pnl: rounding::round_amount(unrealized, RoundingMode::HalfEven),
            maint_margin: bracket.maint_margin(notional)?,
        })
    }

    /// Checks that the account can afford a new order (`POST /fapi/v1/order`), given all its
    /// `open_orders` (without the new one).
    ///
    /// The order's margin is what it adds to its leg's open-order initial margin
    /// ([`requirement_notional`]); a reduce-only order, an order that only reduces, and the
    /// reducing part of any order need none. Refused when that margin exceeds the available
    /// balance before the order, or when the leg would exceed the leverage's notional cap.
    /// Market participants are never refused. Binance's "open loss" is not added.
    ///
    /// # Errors
    /// -4061 [`AccountError::PositionSideMismatch`]; -2027 [`AccountError::AboveLeverageCap`];
    /// -2019 [`AccountError::MarginInsufficient`].
    pub fn check_new_order(
        &self,
        order: &OpenOrder<'_>,
        reduce_only: bool,
        open_orders: &[OpenOrder<'_>],
        marks: &impl MarkPrices,
    ) -> Result<(), AccountError> {
        self.check_position_side(order.position_side)?;
        if self.market_participant || reduce_only {
            return Ok(());
        }
        let (symbol, position_side) = (order.symbol, order.position_side);
        let position = self.position(symbol, position_side);
        let notional = self
            .mark_for(symbol, position, marks)
            .notional(position.map_or(Qty::ZERO, |p| p.qty));
        let before = leg_orders(open_orders, symbol, position_side)?;
        let mut after = before;
        after.add(order)?;
        let need_before = requirement_notional(position_side, notional, &before)?;
        let need_after = requirement_notional(position_side, notional, &after)?;
        if need_after <= need_before {
            return Ok(());
        }
        self.check_leverage_cap(symbol, need_after)?;
        let leverage = self.leverage(symbol);
        let required = open_order_margin(need_after, notional, leverage)?
            .try_sub(open_order_margin(need_before, notional, leverage)?)?;
        let available = self.margin(open_orders, marks)?.totals.available_balance;
        if required > available {
            return Err(AccountError::MarginInsufficient {
                required,
                available,
            });
        }
        Ok(())
    }

    fn check_leverage_cap(&self, symbol: &str, notional: Money) -> Result<(), AccountError> {
        let leverage = self.leverage(symbol);
        let max_notional = self
            .brackets
            .max_notional(symbol, leverage)
            .unwrap_or(Money::ZERO);
        if notional > max_notional {
            return Err(AccountError::AboveLeverageCap {
                symbol: symbol.to_owned(),
                leverage,
                notional,
                max_notional,
            });
        }
        Ok(())
    }
}
