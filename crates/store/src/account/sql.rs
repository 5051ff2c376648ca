//! The statements for account snapshots in both dialects (see `db::dialect`).

use crate::db::dialect::Sql;

/// Inserts a snapshot's summary row and returns its id.
pub(super) const INSERT_SNAPSHOT: Sql = Sql {
    sqlite: "INSERT INTO account_snapshots (time_ms, margin_asset, realized_pnl, unrealized_pnl, \
             total_pnl, daily_pnl, fees_paid, funding_fees, win_rate, closed_positions, \
             sharpe_ratio, max_drawdown, max_drawdown_percent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    postgres: "INSERT INTO account_snapshots (time_ms, margin_asset, realized_pnl, \
               unrealized_pnl, total_pnl, daily_pnl, fees_paid, funding_fees, win_rate, \
               closed_positions, sharpe_ratio, max_drawdown, max_drawdown_percent) \
               VALUES ($1, $2, $3::numeric, $4::numeric, $5::numeric, $6::numeric, $7::numeric, \
               $8::numeric, $9::numeric, $10, $11, $12::numeric, $13::numeric) RETURNING id",
};

/// Inserts one balance of snapshot `$1`.
pub(super) const INSERT_BALANCE: Sql = Sql {
    sqlite: "INSERT INTO account_snapshot_balances (snapshot_id, asset, wallet_balance, \
             available_balance, in_orders, unrealized_pnl, initial_margin, maint_margin) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    postgres: "INSERT INTO account_snapshot_balances (snapshot_id, asset, wallet_balance, \
               available_balance, in_orders, unrealized_pnl, initial_margin, maint_margin) \
               VALUES ($1, $2, $3::numeric, $4::numeric, $5::numeric, $6::numeric, $7::numeric, \
               $8::numeric)",
};

/// Inserts one position leg of snapshot `$1`.
pub(super) const INSERT_POSITION: Sql = Sql {
    sqlite: "INSERT INTO account_snapshot_positions (snapshot_id, symbol, position_side, qty, \
             entry_price, mark_price, liquidation_price, unrealized_pnl, realized_pnl, leverage, \
             margin_used) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    postgres: "INSERT INTO account_snapshot_positions (snapshot_id, symbol, position_side, qty, \
               entry_price, mark_price, liquidation_price, unrealized_pnl, realized_pnl, \
               leverage, margin_used) VALUES ($1, $2, $3, $4::numeric, $5::numeric, \
               $6::numeric, $7::numeric, $8::numeric, $9::numeric, $10, $11::numeric)",
};

/// The summary columns a [`SnapshotRow`](super::rows::SnapshotRow) reads, in SQLite.
macro_rules! snapshot_columns_sqlite {
    () => {
        "id, time_ms, margin_asset, realized_pnl, unrealized_pnl, total_pnl, daily_pnl, \
         fees_paid, funding_fees, win_rate, closed_positions, sharpe_ratio, max_drawdown, \
         max_drawdown_percent"
    };
}

/// The summary columns a [`SnapshotRow`](super::rows::SnapshotRow) reads, in PostgreSQL
/// (NUMERIC read back as text).
macro_rules! snapshot_columns_postgres {
    () => {
        "id, time_ms, margin_asset, realized_pnl::text AS realized_pnl, \
         unrealized_pnl::text AS unrealized_pnl, total_pnl::text AS total_pnl, \
         daily_pnl::text AS daily_pnl, fees_paid::text AS fees_paid, \
         funding_fees::text AS funding_fees, win_rate::text AS win_rate, closed_positions, \
         sharpe_ratio, max_drawdown::text AS max_drawdown, \
         max_drawdown_percent::text AS max_drawdown_percent"
    };
}

/// The newest snapshot's summary row.
pub(super) const LATEST_SNAPSHOT: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        snapshot_columns_sqlite!(),
        " FROM account_snapshots ORDER BY time_ms DESC, id DESC LIMIT 1"
    ),
    postgres: concat!(
        "SELECT ",
        snapshot_columns_postgres!(),
        " FROM account_snapshots ORDER BY time_ms DESC, id DESC LIMIT 1"
    ),
};

/// Up to `$3` summary rows with `$1 <= time_ms < $2`, oldest first.
pub(super) const SNAPSHOTS_BETWEEN: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        snapshot_columns_sqlite!(),
        " FROM account_snapshots WHERE time_ms >= $1 AND time_ms < $2 \
         ORDER BY time_ms, id LIMIT $3"
    ),
    postgres: concat!(
        "SELECT ",
        snapshot_columns_postgres!(),
        " FROM account_snapshots WHERE time_ms >= $1 AND time_ms < $2 \
         ORDER BY time_ms, id LIMIT $3"
    ),
};

/// The balances of snapshot `$1`, by asset.
pub(super) const BALANCES_OF: Sql = Sql {
    sqlite: "SELECT asset, wallet_balance, available_balance, in_orders, unrealized_pnl, \
             initial_margin, maint_margin FROM account_snapshot_balances \
             WHERE snapshot_id = $1 ORDER BY asset",
    postgres: "SELECT asset, wallet_balance::text AS wallet_balance, \
               available_balance::text AS available_balance, in_orders::text AS in_orders, \
               unrealized_pnl::text AS unrealized_pnl, initial_margin::text AS initial_margin, \
               maint_margin::text AS maint_margin FROM account_snapshot_balances \
               WHERE snapshot_id = $1 ORDER BY asset",
};

/// The position legs of snapshot `$1`, by symbol then position side.
pub(super) const POSITIONS_OF: Sql = Sql {
    sqlite: "SELECT symbol, position_side, qty, entry_price, mark_price, liquidation_price, \
             unrealized_pnl, realized_pnl, leverage, margin_used \
             FROM account_snapshot_positions WHERE snapshot_id = $1 \
             ORDER BY symbol, position_side",
    postgres: "SELECT symbol, position_side, qty::text AS qty, entry_price::text AS entry_price, \
               mark_price::text AS mark_price, liquidation_price::text AS liquidation_price, \
               unrealized_pnl::text AS unrealized_pnl, realized_pnl::text AS realized_pnl, \
               leverage, margin_used::text AS margin_used \
               FROM account_snapshot_positions WHERE snapshot_id = $1 \
               ORDER BY symbol, position_side",
};
