//! What fills and funding do to the wallet: realized P&L, commission and funding payments,
//! each rounded once, half to even, to 10⁻⁸ and booked exactly as reported.

use kestrel_model::money::{Money, Price, Qty, Rate, RoundingMode};
use kestrel_model::order::{PositionSide, Side};
use kestrel_model::position::Position;

use super::error::AccountError;
use super::rounding;
use super::state::{Account, Leg};

/// The asset commissions, P&L and funding are booked in.
pub const MARGIN_ASSET: &str = "USDT";

/// One execution of one of the account's orders, as the matching engine reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Execution<'a> {
    /// The symbol.
    pub symbol: &'a str,
    /// The order's side.
    pub side: Side,
    /// `BOTH` in one-way mode; `LONG` or `SHORT` in hedge mode.
    pub position_side: PositionSide,
    /// The executed quantity (positive).
    pub qty: Qty,
    /// The execution price.
    pub price: Price,
    /// Whether the account's order was resting on the book (maker) or crossed it (taker).
    pub is_maker: bool,
}

/// What a fill booked, for `ORDER_TRADE_UPDATE` (`rp`, `n`, `N`), `ACCOUNT_UPDATE` (`wb`, `P`)
/// and `userTrades`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillBooking {
    /// Realized P&L before fees, as booked (half to even at 10⁻⁸).
    pub realized_pnl: Money,
    /// Commission paid (positive) or rebated (negative), as booked (half to even at 10⁻⁸).
    pub commission: Money,
    /// The asset of the commission (`USDT`).
    pub commission_asset: &'static str,
    /// Quantity that closed existing exposure.
    pub closed: Qty,
    /// Quantity that opened or grew exposure.
    pub opened: Qty,
    /// The leg after the fill.
    pub position: Position,
    /// The wallet balance after the fill.
    pub wallet_balance: Money,
}

impl Account {
    /// The commission on a fill of notional `notional`: `|notional| × rate` (maker or taker),
    /// rounded once, half to even, to 10⁻⁸; zero for a market participant.
    ///
    /// # Errors
    /// [`AccountError::Arithmetic`] for absurd magnitudes.
    pub fn commission(&self, notional: Money, is_maker: bool) -> Result<Money, AccountError> {
        if self.market_participant {
            return Ok(Money::ZERO);
        }
        let rate = if is_maker {
            self.maker_fee
        } else {
            self.taker_fee
        };
        Ok(rounding::mul_rate(
            notional.abs(),
            rate,
            RoundingMode::HalfEven,
        )?)
    }

    /// Books a fill: the leg moves as [`Position::apply_fill`] says, and the wallet gains the
    /// realized P&L (rounded half to even to 10⁻⁸) and loses the commission.
    ///
    /// # Errors
    /// -4061 [`AccountError::PositionSideMismatch`] when the position side does not fit the
    /// mode; -2022 [`AccountError::LegWouldCross`] when a hedge leg would cross zero; -1130 for
    /// a non-positive price or quantity. On error nothing changes.
    pub fn apply_fill(
        &mut self,
        fill: &Execution<'_>,
        now_ms: u64,
    ) -> Result<FillBooking, AccountError> {
        self.check_position_side(fill.position_side)?;
        let commission = self.commission(fill.price.notional(fill.qty), fill.is_maker)?;
        let mut leg = self
            .leg(fill.symbol, fill.position_side)
            .cloned()
            .unwrap_or_else(|| Leg {
                position: Position::flat(fill.symbol, fill.position_side),
                booked_realized: Money::ZERO,
                update_time_ms: now_ms,
            });
        let effect = leg
            .position
            .apply_fill(fill.side, fill.qty, fill.price, commission)?;
        let realized = rounding::round_amount(effect.realized_pnl, RoundingMode::HalfEven);
        let wallet = self.wallet.try_add(realized)?.try_sub(commission)?;
        leg.booked_realized = leg.booked_realized.try_add(realized)?;
        leg.update_time_ms = now_ms;
        let position = leg.position.clone();
        self.symbol_mut(fill.symbol)?
            .legs
            .insert(fill.position_side, leg);
        self.wallet = wallet;
        self.touch(now_ms);
        Ok(FillBooking {
            realized_pnl: realized,
            commission,
            commission_asset: MARGIN_ASSET,
            closed: effect.closed,
            opened: effect.opened,
            position,
            wallet_balance: wallet,
        })
    }

    /// Settles funding on `symbol` at `mark` and `rate`: each open leg pays
    /// `mark × qty × rate` (signed qty, rounded once, half to even, to 10⁻⁸), so longs pay
    /// shorts when the rate is positive and shorts pay longs when it is negative. Market
    /// participants pay and receive funding like everyone else.
    ///
    /// Returns the wallet change (negative when paid) for an `ACCOUNT_UPDATE` with reason
    /// `FUNDING_FEE`, or `None` when the account holds no position on `symbol` (no event).
    ///
    /// # Errors
    /// [`AccountError::Arithmetic`] for absurd magnitudes; on error nothing changes.
    pub fn apply_funding(
        &mut self,
        symbol: &str,
        mark: Price,
        rate: Rate,
        now_ms: u64,
    ) -> Result<Option<Money>, AccountError> {
        let Some(state) = self.symbols.get(symbol) else {
            return Ok(None);
        };
        let mut paid = Money::ZERO;
        let mut any_open = false;
        for leg in state.legs.values().filter(|l| !l.position.qty.is_zero()) {
            let notional = mark.notional(leg.position.qty);
            paid = paid.try_add(rounding::mul_rate(notional, rate, RoundingMode::HalfEven)?)?;
            any_open = true;
        }
        if !any_open {
            return Ok(None);
        }
        let change = paid.neg();
        self.wallet = self.wallet.try_add(change)?;
        self.touch(now_ms);
        Ok(Some(change))
    }
}
