//! [`VenueSnapshot`]: the venue's view of the account (balances and position legs), the truth
//! the book is loaded from at start and reconciled against (seed 000 FR-AM-004).
//!
//! It is venue-neutral; [`VenueSnapshot::from_binance`] builds one from the Binance USD-M
//! account endpoint (`GET /fapi/v3/account`: balances and margins) and `positionRisk` (entry,
//! mark and liquidation prices, margins) (`../shared/binance-futures.md` §3.5).

use std::collections::BTreeMap;

use kestrel_model::order::PositionSide;
use kestrel_model::{Money, Price, Qty};
use kestrel_venue::binance::account::{AccountAsset, AccountInfo, PositionRisk};

/// The venue's account at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VenueSnapshot {
    /// One entry per asset.
    pub balances: Vec<VenueBalance>,
    /// The legs the venue lists (open ones at least; flat ones may be left out).
    pub positions: Vec<VenuePosition>,
    /// Each symbol's leverage, where the venue reported it.
    pub leverage: BTreeMap<String, u32>,
}

/// One asset's balance as the venue reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueBalance {
    /// The asset, e.g. `USDT`.
    pub asset: String,
    /// The wallet balance: deposits, realized P&L, fees and funding.
    pub wallet_balance: Money,
    /// Unrealized P&L of the positions margined in it.
    pub unrealized_pnl: Money,
    /// What new orders can still use.
    pub available_balance: Money,
    /// Initial margin of positions and open orders.
    pub initial_margin: Money,
    /// Initial margin of open orders.
    pub open_order_initial_margin: Money,
    /// Maintenance margin required.
    pub maint_margin: Money,
    /// When the venue last changed it (venue ms).
    pub update_time_ms: u64,
}

/// One position leg as the venue reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenuePosition {
    /// The symbol.
    pub symbol: String,
    /// `BOTH`, `LONG` or `SHORT`.
    pub position_side: PositionSide,
    /// Signed quantity (long > 0).
    pub qty: Qty,
    /// The average entry price (zero when flat).
    pub entry_price: Price,
    /// The mark price.
    pub mark_price: Price,
    /// Unrealized P&L at the mark.
    pub unrealized_pnl: Money,
    /// The liquidation price (zero when none).
    pub liquidation_price: Price,
    /// Initial margin the leg holds.
    pub initial_margin: Money,
    /// Maintenance margin the leg requires.
    pub maint_margin: Money,
    /// When a fill last changed the leg (venue ms).
    pub update_time_ms: u64,
}

impl VenueSnapshot {
    /// The snapshot in Binance's account answer and positionRisk rows. Leverage comes from
    /// rows that carry it (v2 rows; v3 dropped the field).
    #[must_use]
    pub fn from_binance(account: &AccountInfo, rows: &[PositionRisk]) -> Self {
        let leverage = rows
            .iter()
            .filter_map(|row| row.leverage.map(|l| (row.symbol.clone(), l)))
            .collect();
        Self {
            balances: account
                .assets
                .iter()
                .map(VenueBalance::from_binance)
                .collect(),
            positions: rows.iter().map(VenuePosition::from_binance).collect(),
            leverage,
        }
    }
}

impl VenueBalance {
    /// One `assets[]` entry of Binance's account answer.
    #[must_use]
    pub fn from_binance(asset: &AccountAsset) -> Self {
        Self {
            asset: asset.asset.clone(),
            wallet_balance: asset.wallet_balance,
            unrealized_pnl: asset.unrealized_profit,
            available_balance: asset.available_balance,
            initial_margin: asset.initial_margin,
            open_order_initial_margin: asset.open_order_initial_margin,
            maint_margin: asset.maint_margin,
            update_time_ms: asset.update_time,
        }
    }
}

impl VenuePosition {
    /// One Binance positionRisk row (v2 rows carry no margins: zero).
    #[must_use]
    pub fn from_binance(row: &PositionRisk) -> Self {
        Self {
            symbol: row.symbol.clone(),
            position_side: row.position_side,
            qty: row.position_amt,
            entry_price: row.entry_price,
            mark_price: row.mark_price,
            unrealized_pnl: row.un_realized_profit,
            liquidation_price: row.liquidation_price,
            initial_margin: row.initial_margin.unwrap_or(Money::ZERO),
            maint_margin: row.maint_margin.unwrap_or(Money::ZERO),
            update_time_ms: row.update_time,
        }
    }
}
