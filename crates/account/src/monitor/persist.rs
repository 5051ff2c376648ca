//! An [`AccountView`] as the store's [`AccountSnapshot`] record.

use kestrel_store::{AccountSnapshot, BalanceSnapshot, PnlSnapshot, PositionSnapshot};

use crate::view::AccountView;

/// The record of `view`.
pub(crate) fn record(view: &AccountView) -> AccountSnapshot {
    AccountSnapshot {
        time_ms: view.timestamp,
        margin_asset: view.margin_asset.clone(),
        balances: view
            .balances
            .iter()
            .map(|b| BalanceSnapshot {
                asset: b.asset.clone(),
                wallet_balance: b.total_balance,
                available_balance: b.available_balance,
                in_orders: b.in_orders,
                unrealized_pnl: b.unrealized_pnl,
                initial_margin: b.initial_margin,
                maint_margin: b.maint_margin,
            })
            .collect(),
        positions: view
            .positions
            .iter()
            .map(|p| PositionSnapshot {
                symbol: p.symbol.clone(),
                position_side: p.position_side,
                qty: p.qty,
                entry_price: p.entry_price,
                mark_price: p.mark_price,
                liquidation_price: p.liquidation_price,
                unrealized_pnl: p.unrealized_pnl,
                realized_pnl: p.realized_pnl,
                leverage: p.leverage,
                margin_used: p.margin_used,
            })
            .collect(),
        pnl: PnlSnapshot {
            realized_pnl: view.pnl.realized_pnl,
            unrealized_pnl: view.pnl.unrealized_pnl,
            total_pnl: view.pnl.total_pnl,
            daily_pnl: view.pnl.daily_pnl,
            fees_paid: view.pnl.fees_paid,
            funding_fees: view.pnl.funding_fees,
            win_rate: view.pnl.win_rate,
            closed_positions: view.pnl.closed_positions,
            sharpe_ratio: view.pnl.sharpe_ratio,
            max_drawdown: view.pnl.max_drawdown,
            max_drawdown_percent: view.pnl.max_drawdown_percent,
        },
    }
}
