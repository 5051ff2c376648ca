//! Positions and balances in exact money (seed 000 FR-SE-007, FR-AM-001/002/003).
//!
//! A [`Position`] keeps a signed quantity (long > 0, short < 0) and a signed cost basis
//! (the exact entry notional of the open quantity, same sign). From those two numbers:
//! - increasing adds `price × qty` to the cost basis, so the average entry price is exact
//!   up to the display rounding of [`Position::entry_price`];
//! - reducing removes the closed share of the cost basis and realizes
//!   `exit notional − removed cost`; closing the whole position removes the whole cost basis,
//!   so the realized P&L over a position's life is exact to the last unit, whatever the
//!   partial-close rounding in between;
//! - unrealized P&L at a mark is `mark × qty − cost basis`, right for longs and shorts alike;
//! - a fill larger than the position flips it: the close realizes, the rest opens at the fill
//!   price.

mod balance;

pub use balance::{Balance, BalanceError};

use serde::{Deserialize, Serialize};

use crate::money::{Money, MoneyError, Price, Qty, Rate, RoundingMode};
use crate::order::{PositionSide, Side};

/// One-way (a net position per symbol) or hedge (separate long and short legs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionMode {
    /// One net position per symbol; `PositionSide::Both`.
    #[default]
    OneWay,
    /// A long leg and a short leg per symbol; `PositionSide::Long` / `Short`.
    Hedge,
}

/// The direction of an open position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Holding the base asset.
    Long,
    /// Owing the base asset.
    Short,
    /// No position.
    Flat,
}

/// What one fill did to a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FillEffect {
    /// Quantity that closed existing exposure.
    pub closed: Qty,
    /// Quantity that opened or grew exposure.
    pub opened: Qty,
    /// P&L realized by the closed part, before fees.
    pub realized_pnl: Money,
}

/// Why a fill cannot be applied to a position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    /// In hedge mode a leg cannot cross zero.
    #[error(
        "{symbol} {leg:?} leg holds {held}; a {side:?} of {qty} would take it past zero (hedge mode)"
    )]
    HedgeLegCrossesZero {
        /// The symbol.
        symbol: String,
        /// The leg.
        leg: PositionSide,
        /// The fill's side.
        side: Side,
        /// The fill's quantity.
        qty: Qty,
        /// What the leg holds.
        held: Qty,
    },
    /// The fill's quantity or price is not positive.
    #[error("{symbol}: fill {field} must be positive, got {value}")]
    NotPositive {
        /// The symbol.
        symbol: String,
        /// `price` or `quantity`.
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// An amount overflowed.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// A position in one symbol (one leg of it in hedge mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The venue symbol.
    pub symbol: String,
    /// `Both` in one-way mode; the leg in hedge mode.
    pub position_side: PositionSide,
    /// Signed quantity: long > 0, short < 0.
    pub qty: Qty,
    /// Signed entry notional of the open quantity (same sign as `qty`).
    pub cost_basis: Money,
    /// P&L realized over the position's life, before fees.
    pub realized_pnl: Money,
    /// Fees paid on this position's fills (in the margin asset).
    pub fees: Money,
}

impl Position {
    /// A flat position for `symbol` on `position_side`.
    #[must_use]
    pub fn flat(symbol: impl Into<String>, position_side: PositionSide) -> Self {
        Self {
            symbol: symbol.into(),
            position_side,
            qty: Qty::ZERO,
            cost_basis: Money::ZERO,
            realized_pnl: Money::ZERO,
            fees: Money::ZERO,
        }
    }

    /// Long, short or flat.
    #[must_use]
    pub const fn direction(&self) -> Direction {
        match self.qty.raw() {
            0 => Direction::Flat,
            raw if raw > 0 => Direction::Long,
            _ => Direction::Short,
        }
    }

    /// The average entry price (cost basis / quantity, rounded half to even), if open.
    #[must_use]
    pub fn entry_price(&self) -> Option<Price> {
        self.cost_basis
            .try_div_qty(self.qty, RoundingMode::HalfEven)
            .ok()
    }

    /// Unrealized P&L at `mark`: `mark × qty − cost basis`.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] for absurd magnitudes.
    pub fn unrealized_pnl(&self, mark: Price) -> Result<Money, MoneyError> {
        mark.notional(self.qty).try_sub(self.cost_basis)
    }

    /// Unrealized P&L at `mark` as a percentage of the entry notional, if open.
    #[must_use]
    pub fn unrealized_pnl_percent(&self, mark: Price) -> Option<Rate> {
        let pnl = self.unrealized_pnl(mark).ok()?;
        let basis = self.cost_basis.abs().raw();
        if basis == 0 {
            return None;
        }
        // pnl × 100 / basis, as a Rate (8 decimals).
        let scaled = pnl.raw().checked_mul(100 * 100_000_000)?;
        let raw = RoundingMode::HalfEven.divide(scaled, basis);
        i64::try_from(raw).ok().map(Rate::from_raw)
    }

    /// The absolute notional at `mark` (exposure).
    #[must_use]
    pub const fn notional_at(&self, mark: Price) -> Money {
        mark.notional(self.qty).abs()
    }

    /// Applies a fill of `side`, `qty` at `price` with `fee` (in the margin asset), returning
    /// what it closed, opened and realized.
    ///
    /// # Errors
    /// [`PositionError::HedgeLegCrossesZero`] when a hedge leg would change sign;
    /// [`PositionError::NotPositive`] for a non-positive price or quantity. On error the
    /// position is unchanged.
    pub fn apply_fill(
        &mut self,
        side: Side,
        qty: Qty,
        price: Price,
        fee: Money,
    ) -> Result<FillEffect, PositionError> {
        self.check_fill(side, qty, price)?;
        let mut next = self.clone();
        let effect = next.apply_checked(side, qty, price)?;
        next.fees = next.fees.try_add(fee)?;
        *self = next;
        Ok(effect)
    }

    fn check_fill(&self, side: Side, qty: Qty, price: Price) -> Result<(), PositionError> {
        let not_positive = |field, value: String| PositionError::NotPositive {
            symbol: self.symbol.clone(),
            field,
            value,
        };
        if !qty.is_positive() {
            return Err(not_positive("quantity", qty.to_string()));
        }
        if !price.is_positive() {
            return Err(not_positive("price", price.to_string()));
        }
        let crosses = match (self.position_side, side) {
            (PositionSide::Long, Side::Sell) => qty > self.qty,
            (PositionSide::Short, Side::Buy) => qty > self.qty.abs(),
            _ => false,
        };
        if crosses {
            return Err(PositionError::HedgeLegCrossesZero {
                symbol: self.symbol.clone(),
                leg: self.position_side,
                side,
                qty,
                held: self.qty.abs(),
            });
        }
        Ok(())
    }

    fn apply_checked(
        &mut self,
        side: Side,
        qty: Qty,
        price: Price,
    ) -> Result<FillEffect, PositionError> {
        let delta = qty.try_mul_int(side.sign())?;
        let same_direction = self.qty.is_zero() || (self.qty.is_positive() == delta.is_positive());
        if same_direction {
            self.open(delta, price)?;
            return Ok(FillEffect {
                closed: Qty::ZERO,
                opened: qty,
                realized_pnl: Money::ZERO,
            });
        }
        let closed = qty.min(self.qty.abs());
        let realized = self.close(closed, price)?;
        let opened = qty.try_sub(closed)?;
        if opened.is_positive() {
            self.open(opened.try_mul_int(side.sign())?, price)?;
        }
        Ok(FillEffect {
            closed,
            opened,
            realized_pnl: realized,
        })
    }

    fn open(&mut self, delta: Qty, price: Price) -> Result<(), MoneyError> {
        self.qty = self.qty.try_add(delta)?;
        self.cost_basis = self.cost_basis.try_add(price.notional(delta))?;
        Ok(())
    }

    /// Closes `closed` (≤ |qty|) at `price`, returning the realized P&L.
    fn close(&mut self, closed: Qty, price: Price) -> Result<Money, MoneyError> {
        let closed_signed = if self.qty.is_positive() {
            closed
        } else {
            closed.neg()
        };
        let removed = if closed == self.qty.abs() {
            self.cost_basis
        } else {
            self.cost_basis
                .try_mul_div(closed_signed, self.qty, RoundingMode::HalfEven)?
        };
        let realized = price.notional(closed_signed).try_sub(removed)?;
        self.qty = self.qty.try_sub(closed_signed)?;
        self.cost_basis = self.cost_basis.try_sub(removed)?;
        self.realized_pnl = self.realized_pnl.try_add(realized)?;
        Ok(realized)
    }
}

#[cfg(test)]
mod tests;
