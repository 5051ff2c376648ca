//! How account snapshots map to rows and back, shared by both backends.

use kestrel_model::{Money, Price, Qty, Rate};

use super::{BalanceSnapshot, PnlSnapshot, PositionSnapshot};
use crate::db::StoreError;
use crate::db::convert::{from_i64, parse_money, parse_money_opt, parse_variant, variant_name};

/// The `account_snapshots` table's name, for messages.
const SNAPSHOTS: &str = "account_snapshots";
/// The `account_snapshot_balances` table's name, for messages.
const BALANCES: &str = "account_snapshot_balances";
/// The `account_snapshot_positions` table's name, for messages.
const POSITIONS: &str = "account_snapshot_positions";

/// The P&L columns of an `account_snapshots` row, ready to bind (`INSERT_SNAPSHOT` order from
/// `$3`).
pub(super) struct PnlBind {
    pub realized_pnl: String,
    pub unrealized_pnl: String,
    pub total_pnl: String,
    pub daily_pnl: String,
    pub fees_paid: String,
    pub funding_fees: String,
    pub win_rate: String,
    pub closed_positions: i64,
    pub sharpe_ratio: Option<f64>,
    pub max_drawdown: String,
    pub max_drawdown_percent: String,
}

impl PnlBind {
    /// The columns for `pnl`.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for a count above `i64::MAX`.
    pub fn new(pnl: &PnlSnapshot) -> Result<Self, StoreError> {
        Ok(Self {
            realized_pnl: pnl.realized_pnl.to_string(),
            unrealized_pnl: pnl.unrealized_pnl.to_string(),
            total_pnl: pnl.total_pnl.to_string(),
            daily_pnl: pnl.daily_pnl.to_string(),
            fees_paid: pnl.fees_paid.to_string(),
            funding_fees: pnl.funding_fees.to_string(),
            win_rate: pnl.win_rate.to_string(),
            closed_positions: crate::db::convert::to_i64("closed_positions", pnl.closed_positions)?,
            // A NaN or infinity is not a ratio anyone can read back: store none.
            sharpe_ratio: pnl.sharpe_ratio.filter(|s| s.is_finite()),
            max_drawdown: pnl.max_drawdown.to_string(),
            max_drawdown_percent: pnl.max_drawdown_percent.to_string(),
        })
    }
}

/// An `account_snapshot_positions` row ready to bind (`INSERT_POSITION` order from `$2`).
pub(super) struct PositionBind<'a> {
    pub symbol: &'a str,
    pub position_side: String,
    pub qty: String,
    pub entry_price: String,
    pub mark_price: Option<String>,
    pub liquidation_price: Option<String>,
    pub unrealized_pnl: String,
    pub realized_pnl: String,
    pub leverage: Option<i64>,
    pub margin_used: String,
}

impl<'a> PositionBind<'a> {
    /// The row for `position`.
    pub fn new(position: &'a PositionSnapshot) -> Self {
        Self {
            symbol: &position.symbol,
            position_side: variant_name(&position.position_side),
            qty: position.qty.to_string(),
            entry_price: position.entry_price.to_string(),
            mark_price: position.mark_price.map(|p| p.to_string()),
            liquidation_price: position.liquidation_price.map(|p| p.to_string()),
            unrealized_pnl: position.unrealized_pnl.to_string(),
            realized_pnl: position.realized_pnl.to_string(),
            leverage: position.leverage.map(i64::from),
            margin_used: position.margin_used.to_string(),
        }
    }
}

/// An `account_snapshots` row as read.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct SnapshotRow {
    pub id: i64,
    pub time_ms: i64,
    pub margin_asset: String,
    realized_pnl: String,
    unrealized_pnl: String,
    total_pnl: String,
    daily_pnl: String,
    fees_paid: String,
    funding_fees: String,
    win_rate: String,
    closed_positions: i64,
    sharpe_ratio: Option<f64>,
    max_drawdown: String,
    max_drawdown_percent: String,
}

impl SnapshotRow {
    /// The snapshot's time.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a negative time.
    pub fn time_ms(&self) -> Result<u64, StoreError> {
        from_i64(SNAPSHOTS, "time_ms", self.time_ms)
    }

    /// The stored P&L summary.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a value Kestrel would not have written.
    pub fn pnl(&self) -> Result<PnlSnapshot, StoreError> {
        let money = |column, text: &str| parse_money(SNAPSHOTS, column, text, Money::parse);
        let rate = |column, text: &str| parse_money(SNAPSHOTS, column, text, Rate::parse);
        Ok(PnlSnapshot {
            realized_pnl: money("realized_pnl", &self.realized_pnl)?,
            unrealized_pnl: money("unrealized_pnl", &self.unrealized_pnl)?,
            total_pnl: money("total_pnl", &self.total_pnl)?,
            daily_pnl: money("daily_pnl", &self.daily_pnl)?,
            fees_paid: money("fees_paid", &self.fees_paid)?,
            funding_fees: money("funding_fees", &self.funding_fees)?,
            win_rate: rate("win_rate", &self.win_rate)?,
            closed_positions: from_i64(SNAPSHOTS, "closed_positions", self.closed_positions)?,
            sharpe_ratio: self.sharpe_ratio,
            max_drawdown: money("max_drawdown", &self.max_drawdown)?,
            max_drawdown_percent: rate("max_drawdown_percent", &self.max_drawdown_percent)?,
        })
    }
}

/// An `account_snapshot_balances` row as read (also the bind order of `INSERT_BALANCE`).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct BalanceRow {
    pub asset: String,
    pub wallet_balance: String,
    pub available_balance: String,
    pub in_orders: String,
    pub unrealized_pnl: String,
    pub initial_margin: String,
    pub maint_margin: String,
}

impl BalanceRow {
    /// The row for `balance`.
    pub fn new(balance: &BalanceSnapshot) -> Self {
        Self {
            asset: balance.asset.clone(),
            wallet_balance: balance.wallet_balance.to_string(),
            available_balance: balance.available_balance.to_string(),
            in_orders: balance.in_orders.to_string(),
            unrealized_pnl: balance.unrealized_pnl.to_string(),
            initial_margin: balance.initial_margin.to_string(),
            maint_margin: balance.maint_margin.to_string(),
        }
    }

    /// The stored balance.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a value Kestrel would not have written.
    pub fn into_snapshot(self) -> Result<BalanceSnapshot, StoreError> {
        let money = |column, text: &str| parse_money(BALANCES, column, text, Money::parse);
        Ok(BalanceSnapshot {
            wallet_balance: money("wallet_balance", &self.wallet_balance)?,
            available_balance: money("available_balance", &self.available_balance)?,
            in_orders: money("in_orders", &self.in_orders)?,
            unrealized_pnl: money("unrealized_pnl", &self.unrealized_pnl)?,
            initial_margin: money("initial_margin", &self.initial_margin)?,
            maint_margin: money("maint_margin", &self.maint_margin)?,
            asset: self.asset,
        })
    }
}

/// An `account_snapshot_positions` row as read.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct PositionRow {
    symbol: String,
    position_side: String,
    qty: String,
    entry_price: String,
    mark_price: Option<String>,
    liquidation_price: Option<String>,
    unrealized_pnl: String,
    realized_pnl: String,
    leverage: Option<i64>,
    margin_used: String,
}

impl PositionRow {
    /// The stored position leg.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a value Kestrel would not have written.
    pub fn into_snapshot(self) -> Result<PositionSnapshot, StoreError> {
        let money = |column, text: &str| parse_money(POSITIONS, column, text, Money::parse);
        let price =
            |column, text: Option<&str>| parse_money_opt(POSITIONS, column, text, Price::parse);
        let leverage = self
            .leverage
            .map(|l| {
                u32::try_from(l).map_err(|_| StoreError::Corrupt {
                    table: POSITIONS,
                    column: "leverage",
                    value: l.to_string(),
                    expected: String::from("a leverage between 1 and 4294967295"),
                })
            })
            .transpose()?;
        Ok(PositionSnapshot {
            position_side: parse_variant(POSITIONS, "position_side", &self.position_side)?,
            qty: parse_money(POSITIONS, "qty", &self.qty, Qty::parse)?,
            entry_price: parse_money(POSITIONS, "entry_price", &self.entry_price, Price::parse)?,
            mark_price: price("mark_price", self.mark_price.as_deref())?,
            liquidation_price: price("liquidation_price", self.liquidation_price.as_deref())?,
            unrealized_pnl: money("unrealized_pnl", &self.unrealized_pnl)?,
            realized_pnl: money("realized_pnl", &self.realized_pnl)?,
            leverage,
            margin_used: money("margin_used", &self.margin_used)?,
            symbol: self.symbol,
        })
    }
}
