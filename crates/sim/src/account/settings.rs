//! Changes to an account's settings and funds: leverage, margin type, position mode, fees,
//! the market-participant flag and deposits (`../shared/binance-futures.md` §3.5).

use kestrel_model::money::{Money, Qty, Rate};
use kestrel_model::position::PositionMode;

use super::MarkPrices;
use super::brackets::MAX_LEVERAGE;
use super::error::AccountError;
use super::margin::{OpenOrder, leg_orders, requirement_notional};
use super::rounding;
use super::state::{Account, MarginType};

/// What `POST /fapi/v1/leverage` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeverageChange {
    /// The leverage now in force.
    pub leverage: u32,
    /// The largest notional allowed at it (`maxNotionalValue`).
    pub max_notional: Money,
}

impl Account {
    /// Sets `symbol`'s leverage (`POST /fapi/v1/leverage`).
    ///
    /// The rule: the leverage must lie in 1 up to the symbol's highest bracket leverage
    /// (Binance's own bound is 1–125), and every leg of the symbol — its position at the mark
    /// plus its open orders, counted as [`OpenOrder`] describes — must fit within the notional
    /// cap of the new leverage.
    ///
    /// # Errors
    /// -4028 [`AccountError::InvalidLeverage`]; -2027 [`AccountError::AboveLeverageCap`].
    pub fn set_leverage(
        &mut self,
        symbol: &str,
        leverage: u32,
        open_orders: &[OpenOrder<'_>],
        marks: &impl MarkPrices,
        now_ms: u64,
    ) -> Result<LeverageChange, AccountError> {
        let max_leverage = self.brackets.max_leverage(symbol).min(MAX_LEVERAGE);
        let invalid = || AccountError::InvalidLeverage {
            symbol: symbol.to_owned(),
            leverage,
            max_leverage,
        };
        if leverage == 0 || leverage > max_leverage {
            return Err(invalid());
        }
        let max_notional = self
            .brackets
            .max_notional(symbol, leverage)
            .ok_or_else(invalid)?;
        let notional = self.largest_leg_requirement(symbol, open_orders, marks)?;
        if notional > max_notional {
            return Err(AccountError::AboveLeverageCap {
                symbol: symbol.to_owned(),
                leverage,
                notional,
                max_notional,
            });
        }
        self.symbol_mut(symbol)?.leverage = leverage;
        self.touch(now_ms);
        Ok(LeverageChange {
            leverage,
            max_notional,
        })
    }

    /// The largest leg requirement (position at mark with its open orders) of `symbol`.
    fn largest_leg_requirement(
        &self,
        symbol: &str,
        open_orders: &[OpenOrder<'_>],
        marks: &impl MarkPrices,
    ) -> Result<Money, AccountError> {
        let mut largest = Money::ZERO;
        for &position_side in self.position_sides() {
            let position = self.position(symbol, position_side);
            let mark = self.mark_for(symbol, position, marks);
            let notional = mark.notional(position.map_or(Qty::ZERO, |p| p.qty));
            let orders = leg_orders(open_orders, symbol, position_side)?;
            largest = largest.max(requirement_notional(position_side, notional, &orders)?);
        }
        Ok(largest)
    }

    /// Sets `symbol`'s margin type (`POST /fapi/v1/marginType`); only stored and reported.
    ///
    /// # Errors
    /// -4046 [`AccountError::MarginTypeUnchanged`]; -4047
    /// [`AccountError::MarginTypeOpenOrders`] when `has_open_orders` (on this symbol); -4048
    /// [`AccountError::MarginTypePosition`] when the symbol has an open position.
    pub fn set_margin_type(
        &mut self,
        symbol: &str,
        margin_type: MarginType,
        has_open_orders: bool,
        now_ms: u64,
    ) -> Result<(), AccountError> {
        let symbol_owned = || symbol.to_owned();
        if self.margin_type(symbol) == margin_type {
            return Err(AccountError::MarginTypeUnchanged {
                symbol: symbol_owned(),
            });
        }
        if has_open_orders {
            return Err(AccountError::MarginTypeOpenOrders {
                symbol: symbol_owned(),
            });
        }
        if self.has_open_position_in(symbol) {
            return Err(AccountError::MarginTypePosition {
                symbol: symbol_owned(),
            });
        }
        self.symbol_mut(symbol)?.margin_type = margin_type;
        self.touch(now_ms);
        Ok(())
    }

    /// Switches between one-way and hedge mode for every symbol
    /// (`POST /fapi/v1/positionSide/dual`). Flat legs of the old mode are dropped.
    ///
    /// # Errors
    /// -4059 [`AccountError::PositionModeUnchanged`]; -4067
    /// [`AccountError::PositionModeOpenOrders`] when `has_open_orders` (on any symbol); -4068
    /// [`AccountError::PositionModePosition`] when any position is open.
    pub fn set_position_mode(
        &mut self,
        mode: PositionMode,
        has_open_orders: bool,
        now_ms: u64,
    ) -> Result<(), AccountError> {
        if self.position_mode == mode {
            return Err(AccountError::PositionModeUnchanged { mode });
        }
        if has_open_orders {
            return Err(AccountError::PositionModeOpenOrders);
        }
        if self.has_open_position() {
            return Err(AccountError::PositionModePosition);
        }
        self.position_mode = mode;
        for state in self.symbols.values_mut() {
            state.legs.clear();
        }
        self.touch(now_ms);
        Ok(())
    }

    /// Sets the maker and taker fee rates (control API). A negative maker rate is a rebate.
    pub const fn set_fee_rates(&mut self, maker: Rate, taker: Rate) {
        self.maker_fee = maker;
        self.taker_fee = taker;
    }

    /// Marks the account as one of the synthetic market's agents (or not): such an account
    /// pays no commission, is never refused for margin and is never liquidatable.
    pub const fn set_market_participant(&mut self, participant: bool) {
        self.market_participant = participant;
    }

    /// Credits `amount` USDT to the wallet (control API funding, `ACCOUNT_UPDATE` reason
    /// `DEPOSIT`), returning the new wallet balance.
    ///
    /// # Errors
    /// -1130 [`AccountError::InvalidParameter`] (`amount`) unless the amount is positive with
    /// at most 8 decimals (the wallet stays on Binance's 8-decimal grid).
    pub fn deposit(&mut self, amount: Money, now_ms: u64) -> Result<Money, AccountError> {
        if !amount.is_positive() || !rounding::is_on_grid(amount) {
            return Err(AccountError::invalid(
                "amount",
                format!("deposit must be positive with at most 8 decimals, got {amount}"),
            ));
        }
        self.wallet = self.wallet.try_add(amount)?;
        self.touch(now_ms);
        Ok(self.wallet)
    }
}
