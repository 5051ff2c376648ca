//! Writing and reading account snapshots.

use std::ops::Range;

use kestrel_model::config::StoreBackend;

use super::rows::{BalanceRow, PnlBind, PositionBind, PositionRow, SnapshotRow};
use super::{AccountSnapshot, sql};
use crate::db::convert::to_i64;
use crate::db::dialect::on_backend;
use crate::db::{Store, StoreError};

/// Inserts a snapshot's balance and position rows on the open transaction `$tx` (one
/// expansion per backend, so the same binding code serves both drivers).
macro_rules! insert_children {
    ($tx:ident, $id:expr, $balances:expr, $positions:expr, $balance_sql:expr, $position_sql:expr) => {
        for row in $balances {
            sqlx::query($balance_sql)
                .bind($id)
                .bind(&row.asset)
                .bind(&row.wallet_balance)
                .bind(&row.available_balance)
                .bind(&row.in_orders)
                .bind(&row.unrealized_pnl)
                .bind(&row.initial_margin)
                .bind(&row.maint_margin)
                .execute(&mut *$tx)
                .await
                .map_err(StoreError::query("insert account snapshot balances"))?;
        }
        for row in $positions {
            sqlx::query($position_sql)
                .bind($id)
                .bind(row.symbol)
                .bind(&row.position_side)
                .bind(&row.qty)
                .bind(&row.entry_price)
                .bind(row.mark_price.as_deref())
                .bind(row.liquidation_price.as_deref())
                .bind(&row.unrealized_pnl)
                .bind(&row.realized_pnl)
                .bind(row.leverage)
                .bind(&row.margin_used)
                .execute(&mut *$tx)
                .await
                .map_err(StoreError::query("insert account snapshot positions"))?;
        }
    };
}

impl Store {
    /// Stores `snapshot` (its summary, balances and positions) in one transaction and returns
    /// its id.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] before anything is written, for a time or count above
    /// `i64::MAX`; [`StoreError::Query`] (the transaction is rolled back, e.g. for two
    /// positions with the same symbol and side).
    pub async fn insert_account_snapshot(
        &self,
        snapshot: &AccountSnapshot,
    ) -> Result<i64, StoreError> {
        let time_ms = to_i64("time_ms", snapshot.time_ms)?;
        let pnl = PnlBind::new(&snapshot.pnl)?;
        let balances: Vec<BalanceRow> = snapshot.balances.iter().map(BalanceRow::new).collect();
        let positions: Vec<PositionBind<'_>> =
            snapshot.positions.iter().map(PositionBind::new).collect();
        let _writing = self.write_lock().await;
        on_backend!(self, summary_sql = sql::INSERT_SNAPSHOT, |pool| {
            let mut tx = pool
                .begin()
                .await
                .map_err(StoreError::query("begin an account snapshot insert"))?;
            let id: i64 = sqlx::query_scalar(summary_sql)
                .bind(time_ms)
                .bind(&snapshot.margin_asset)
                .bind(&pnl.realized_pnl)
                .bind(&pnl.unrealized_pnl)
                .bind(&pnl.total_pnl)
                .bind(&pnl.daily_pnl)
                .bind(&pnl.fees_paid)
                .bind(&pnl.funding_fees)
                .bind(&pnl.win_rate)
                .bind(pnl.closed_positions)
                .bind(pnl.sharpe_ratio)
                .bind(&pnl.max_drawdown)
                .bind(&pnl.max_drawdown_percent)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::query("insert an account snapshot"))?;
            let (balance_sql, position_sql) = match self.backend() {
                StoreBackend::Sqlite => (sql::INSERT_BALANCE.sqlite, sql::INSERT_POSITION.sqlite),
                StoreBackend::Postgres => {
                    (sql::INSERT_BALANCE.postgres, sql::INSERT_POSITION.postgres)
                }
            };
            insert_children!(tx, id, &balances, &positions, balance_sql, position_sql);
            tx.commit()
                .await
                .map_err(StoreError::query("commit an account snapshot insert"))?;
            Ok(id)
        })
    }

    /// The newest account snapshot (by time, then insertion), if any was stored.
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn latest_account_snapshot(&self) -> Result<Option<AccountSnapshot>, StoreError> {
        let row: Option<SnapshotRow> = on_backend!(self, sql = sql::LATEST_SNAPSHOT, |pool| {
            sqlx::query_as(sql).fetch_optional(pool).await
        })
        .map_err(StoreError::query("read the latest account snapshot"))?;
        match row {
            Some(row) => Ok(Some(self.complete_snapshot(row).await?)),
            None => Ok(None),
        }
    }

    /// Up to `limit` account snapshots taken in `time_ms` (start inclusive, end exclusive),
    /// oldest first.
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn account_snapshots_between(
        &self,
        time_ms: Range<u64>,
        limit: u32,
    ) -> Result<Vec<AccountSnapshot>, StoreError> {
        // Beyond i64::MAX nothing is stored, so a bound there is as good as any larger one.
        let from_ms = i64::try_from(time_ms.start).unwrap_or(i64::MAX);
        let to_ms = i64::try_from(time_ms.end).unwrap_or(i64::MAX);
        let rows: Vec<SnapshotRow> = on_backend!(self, sql = sql::SNAPSHOTS_BETWEEN, |pool| {
            sqlx::query_as(sql)
                .bind(from_ms)
                .bind(to_ms)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("read account snapshots"))?;
        let mut snapshots = Vec::with_capacity(rows.len());
        for row in rows {
            snapshots.push(self.complete_snapshot(row).await?);
        }
        Ok(snapshots)
    }

    /// A summary row with its balances and positions.
    async fn complete_snapshot(&self, row: SnapshotRow) -> Result<AccountSnapshot, StoreError> {
        let balances: Vec<BalanceRow> = on_backend!(self, sql = sql::BALANCES_OF, |pool| {
            sqlx::query_as(sql).bind(row.id).fetch_all(pool).await
        })
        .map_err(StoreError::query("read account snapshot balances"))?;
        let positions: Vec<PositionRow> = on_backend!(self, sql = sql::POSITIONS_OF, |pool| {
            sqlx::query_as(sql).bind(row.id).fetch_all(pool).await
        })
        .map_err(StoreError::query("read account snapshot positions"))?;
        Ok(AccountSnapshot {
            time_ms: row.time_ms()?,
            pnl: row.pnl()?,
            balances: balances
                .into_iter()
                .map(BalanceRow::into_snapshot)
                .collect::<Result<_, _>>()?,
            positions: positions
                .into_iter()
                .map(PositionRow::into_snapshot)
                .collect::<Result<_, _>>()?,
            margin_asset: row.margin_asset,
        })
    }
}
