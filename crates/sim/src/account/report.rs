//! Exact figures for the REST shapes: account totals (`/fapi/v2|v3/account`, `/balance`) and
//! position rows (`/fapi/v2|v3/positionRisk`, `ACCOUNT_UPDATE` `P[]`). Plain model types; the
//! server serializes them (`../shared/binance-futures.md` §3.5, §8.3).

use std::collections::BTreeMap;

use kestrel_model::money::{Money, Price, Qty, Rate, RoundingMode};
use kestrel_model::order::PositionSide;
use kestrel_model::position::Position;

use super::MarkPrices;
use super::error::AccountError;
use super::margin::{LegMargin, OpenOrder};
use super::state::{Account, MarginType};

/// The account totals, every one on the 10⁻⁸ grid and the exact sum of the legs' figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountTotals {
    /// `totalWalletBalance` (and the USDT asset's `walletBalance`).
    pub total_wallet_balance: Money,
    /// `totalUnrealizedProfit`: Σ legs' unrealized P&L.
    pub total_unrealized_profit: Money,
    /// `totalMarginBalance`: wallet + unrealized P&L.
    pub total_margin_balance: Money,
    /// `totalInitialMargin`: position + open-order initial margin.
    pub total_initial_margin: Money,
    /// `totalMaintMargin`: Σ legs' maintenance margin.
    pub total_maint_margin: Money,
    /// `totalPositionInitialMargin`.
    pub total_position_initial_margin: Money,
    /// `totalOpenOrderInitialMargin`.
    pub total_open_order_initial_margin: Money,
    /// `totalCrossWalletBalance`: the wallet (every position is margined cross).
    pub total_cross_wallet_balance: Money,
    /// `totalCrossUnPnl`: the unrealized P&L.
    pub total_cross_un_pnl: Money,
    /// `availableBalance`: margin balance − total initial margin. Not clamped: negative when
    /// the account is short of margin (then only reducing orders pass).
    pub available_balance: Money,
    /// `maxWithdrawAmount`: `max(0, min(wallet, available))` — unrealized profit cannot be
    /// withdrawn.
    pub max_withdraw_amount: Money,
    /// `updateTime` of the USDT asset: the account's last change.
    pub update_time_ms: u64,
}

/// One positionRisk row (v2 and v3 fields; the server picks) and an `ACCOUNT_UPDATE` `P` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionRisk {
    /// `symbol`.
    pub symbol: String,
    /// `positionSide`.
    pub position_side: PositionSide,
    /// `positionAmt` (signed).
    pub position_amt: Qty,
    /// `entryPrice`: cost basis / qty, half to even (0 when flat).
    pub entry_price: Price,
    /// `breakEvenPrice`: the entry moved by a taker fee each way,
    /// `entry × (1 ± 2 × taker rate)`, half to even (0 when flat).
    pub break_even_price: Price,
    /// `markPrice`.
    pub mark_price: Price,
    /// `unRealizedProfit`.
    pub unrealized_profit: Money,
    /// `liquidationPrice` (0 when none).
    pub liquidation_price: Price,
    /// `leverage`.
    pub leverage: u32,
    /// `maxNotionalValue`: the notional cap at this leverage.
    pub max_notional_value: Money,
    /// `marginType` (reported; margin is computed cross either way).
    pub margin_type: MarginType,
    /// `notional` (signed).
    pub notional: Money,
    /// `initialMargin`: position + open-order initial margin.
    pub initial_margin: Money,
    /// `positionInitialMargin`.
    pub position_initial_margin: Money,
    /// `openOrderInitialMargin`.
    pub open_order_initial_margin: Money,
    /// `maintMargin`.
    pub maint_margin: Money,
    /// `bidNotional`: the leg's open buy orders.
    pub bid_notional: Money,
    /// `askNotional`: the leg's open sell orders.
    pub ask_notional: Money,
    /// `cr` of `ACCOUNT_UPDATE`: Σ realized P&L booked on this leg.
    pub accumulated_realized: Money,
    /// `updateTime`: the leg's last fill (0 if never filled).
    pub update_time_ms: u64,
}

impl PositionRisk {
    /// Whether the row shows neither a position nor open orders (v3 leaves such rows out).
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.position_amt.is_zero() && self.bid_notional.is_zero() && self.ask_notional.is_zero()
    }
}

impl Account {
    /// The totals of `legs` (from [`Account::margin`]).
    pub(super) fn totals_of(&self, legs: &[LegMargin]) -> Result<AccountTotals, AccountError> {
        let sum = |field: fn(&LegMargin) -> Money| {
            legs.iter()
                .try_fold(Money::ZERO, |total, leg| total.try_add(field(leg)))
        };
        let unrealized = sum(|l| l.unrealized_pnl)?;
        let position_im = sum(|l| l.position_initial_margin)?;
        let order_im = sum(|l| l.open_order_initial_margin)?;
        let initial = position_im.try_add(order_im)?;
        let margin_balance = self.wallet.try_add(unrealized)?;
        let available = margin_balance.try_sub(initial)?;
        Ok(AccountTotals {
            total_wallet_balance: self.wallet,
            total_unrealized_profit: unrealized,
            total_margin_balance: margin_balance,
            total_initial_margin: initial,
            total_maint_margin: sum(|l| l.maint_margin)?,
            total_position_initial_margin: position_im,
            total_open_order_initial_margin: order_im,
            total_cross_wallet_balance: self.wallet,
            total_cross_un_pnl: unrealized,
            available_balance: available,
            max_withdraw_amount: available.min(self.wallet).max(Money::ZERO),
            update_time_ms: self.update_time_ms,
        })
    }

    /// The account totals at `marks` with all of the account's `open_orders`.
    ///
    /// # Errors
    /// [`AccountError::Arithmetic`] for absurd magnitudes.
    pub fn totals(
        &self,
        open_orders: &[OpenOrder<'_>],
        marks: &impl MarkPrices,
    ) -> Result<AccountTotals, AccountError> {
        Ok(self.margin(open_orders, marks)?.totals)
    }

    /// Rows for every leg ever traded or with open orders, by symbol then position side
    /// (v3 shows those where [`PositionRisk::is_idle`] is false).
    ///
    /// # Errors
    /// [`AccountError::Arithmetic`] for absurd magnitudes.
    pub fn position_risk(
        &self,
        open_orders: &[OpenOrder<'_>],
        marks: &impl MarkPrices,
    ) -> Result<Vec<PositionRisk>, AccountError> {
        let sheet = self.margin(open_orders, marks)?;
        let mut liquidation: BTreeMap<&str, Price> = BTreeMap::new();
        let mut rows = Vec::with_capacity(sheet.legs.len());
        for leg in &sheet.legs {
            let price = match liquidation.get(leg.symbol.as_str()) {
                Some(price) => *price,
                None => self.liquidation_price(&leg.symbol, marks)?,
            };
            liquidation.insert(&leg.symbol, price);
            rows.push(self.row(leg, price)?);
        }
        Ok(rows)
    }

    /// Rows for `symbol` in the account's mode (`BOTH`, or `LONG` and `SHORT`), zero rows
    /// included: what v2 lists for every symbol.
    ///
    /// # Errors
    /// [`AccountError::Arithmetic`] for absurd magnitudes.
    pub fn position_risk_for(
        &self,
        symbol: &str,
        open_orders: &[OpenOrder<'_>],
        marks: &impl MarkPrices,
    ) -> Result<Vec<PositionRisk>, AccountError> {
        let sheet = self.margin(open_orders, marks)?;
        let liquidation = self.liquidation_price(symbol, marks)?;
        let mut rows = Vec::with_capacity(2);
        for &position_side in self.position_sides() {
            let found = sheet
                .legs
                .iter()
                .find(|l| l.symbol == symbol && l.position_side == position_side);
            let leg = match found {
                Some(leg) => leg.clone(),
                None => self.idle_leg(symbol, position_side, marks),
            };
            rows.push(self.row(&leg, liquidation)?);
        }
        Ok(rows)
    }

    fn idle_leg(
        &self,
        symbol: &str,
        position_side: PositionSide,
        marks: &impl MarkPrices,
    ) -> LegMargin {
        LegMargin {
            symbol: symbol.to_owned(),
            position_side,
            position_amt: Qty::ZERO,
            mark_price: marks.mark(symbol).unwrap_or(Price::ZERO),
            leverage: self.leverage(symbol),
            notional: Money::ZERO,
            unrealized_pnl: Money::ZERO,
            position_initial_margin: Money::ZERO,
            open_order_initial_margin: Money::ZERO,
            maint_margin: Money::ZERO,
            bid_notional: Money::ZERO,
            ask_notional: Money::ZERO,
        }
    }

    fn row(&self, leg: &LegMargin, liquidation_price: Price) -> Result<PositionRisk, AccountError> {
        let held = self.leg(&leg.symbol, leg.position_side);
        let position = held.map(|h| &h.position);
        let entry_price = position
            .and_then(Position::entry_price)
            .unwrap_or(Price::ZERO);
        Ok(PositionRisk {
            symbol: leg.symbol.clone(),
            position_side: leg.position_side,
            position_amt: leg.position_amt,
            entry_price,
            break_even_price: self.break_even(entry_price, leg.position_amt)?,
            mark_price: leg.mark_price,
            unrealized_profit: leg.unrealized_pnl,
            liquidation_price,
            leverage: leg.leverage,
            max_notional_value: self
                .brackets
                .max_notional(&leg.symbol, leg.leverage)
                .unwrap_or(Money::ZERO),
            margin_type: self.margin_type(&leg.symbol),
            notional: leg.notional,
            initial_margin: leg
                .position_initial_margin
                .try_add(leg.open_order_initial_margin)?,
            position_initial_margin: leg.position_initial_margin,
            open_order_initial_margin: leg.open_order_initial_margin,
            maint_margin: leg.maint_margin,
            bid_notional: leg.bid_notional,
            ask_notional: leg.ask_notional,
            accumulated_realized: held.map_or(Money::ZERO, |h| h.booked_realized),
            update_time_ms: held.map_or(0, |h| h.update_time_ms),
        })
    }

    /// `entry × (1 + 2t)` for a long, `entry × (1 − 2t)` for a short (t: the taker rate the
    /// account pays), half to even; zero when flat.
    fn break_even(&self, entry: Price, qty: Qty) -> Result<Price, AccountError> {
        if qty.is_zero() {
            return Ok(Price::ZERO);
        }
        let taker = if self.market_participant {
            Rate::ZERO
        } else {
            self.taker_fee
        };
        let round_trip = taker.try_mul_int(2)?;
        let factor = if qty.is_positive() {
            Rate::ONE.try_add(round_trip)?
        } else {
            Rate::ONE.try_sub(round_trip)?
        };
        Ok(entry.try_mul_rate(factor, RoundingMode::HalfEven)?)
    }
}
