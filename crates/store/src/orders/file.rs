//! Orders and fills through a [`JournalFile`]: [`Store::upsert_orders`] and
//! [`Store::insert_fills`], synchronously, for the thread that owns the file (the execution
//! engine's journal thread runs the persister's batches between its own calls, so a write of
//! the persister's never holds the file through an async driver while an order waits). Each
//! batch is one transaction of one cached statement per row, under the store's write lock.
//!
//! [`Store::upsert_orders`]: crate::Store::upsert_orders
//! [`Store::insert_fills`]: crate::Store::insert_fills

use std::sync::LazyLock;

use rusqlite::params;

use super::rows::{FillBind, OrderBind};
use super::{FillRecord, OrderRecord, sql};
use crate::JournalFile;
use crate::db::StoreError;

/// The one-row orders upsert.
static UPSERT_ORDER: LazyLock<String> =
    LazyLock::new(|| one_row(sql::UPSERT_ORDERS, 17, sql::ORDER_UPSERT_SET));

/// The one-row fills insert.
static INSERT_FILL: LazyLock<String> =
    LazyLock::new(|| one_row(sql::INSERT_FILLS, 12, sql::SKIP_STORED_FILLS));

/// `head VALUES (?, …) tail` with `columns` placeholders.
fn one_row(head: &str, columns: usize, tail: &str) -> String {
    let placeholders = vec!["?"; columns].join(", ");
    format!("{head}VALUES ({placeholders}){tail}")
}

impl JournalFile {
    /// [`Store::upsert_orders`](crate::Store::upsert_orders), synchronously: in batch order, so
    /// a later entry for an order replaces an earlier one.
    ///
    /// # Errors
    /// As [`Store::upsert_orders`](crate::Store::upsert_orders), with [`StoreError::Sqlite`]
    /// for the driver's errors.
    pub fn upsert_orders(&self, orders: &[OrderRecord]) -> Result<(), StoreError> {
        let rows = orders
            .iter()
            .map(OrderBind::new)
            .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        let _writing = self.write_lock();
        let upsert = || -> rusqlite::Result<()> {
            let transaction = self.connection.unchecked_transaction()?;
            {
                let mut statement = transaction.prepare_cached(&UPSERT_ORDER)?;
                for o in &rows {
                    statement.execute(params![
                        o.client_order_id,
                        o.venue_order_id,
                        o.symbol,
                        o.side,
                        o.order_type,
                        o.time_in_force,
                        o.position_side,
                        o.price,
                        o.stop_price,
                        o.qty,
                        o.executed_qty,
                        o.avg_price,
                        o.status,
                        o.reduce_only,
                        o.reject_reason,
                        o.created_ms,
                        o.updated_ms,
                    ])?;
                }
            }
            transaction.commit()
        };
        upsert().map_err(|e| self.failed("upsert orders", e))
    }

    /// [`Store::insert_fills`](crate::Store::insert_fills), synchronously, all or none;
    /// returns how many fills were new.
    ///
    /// # Errors
    /// As [`Store::insert_fills`](crate::Store::insert_fills), with [`StoreError::Sqlite`] for
    /// the driver's errors.
    pub fn insert_fills(&self, fills: &[FillRecord]) -> Result<u64, StoreError> {
        let rows = FillBind::all(fills)?;
        if rows.is_empty() {
            return Ok(0);
        }
        let _writing = self.write_lock();
        let insert = || -> rusqlite::Result<u64> {
            let transaction = self.connection.unchecked_transaction()?;
            let mut new = 0;
            {
                let mut statement = transaction.prepare_cached(&INSERT_FILL)?;
                for f in &rows {
                    let inserted = statement.execute(params![
                        f.symbol,
                        f.trade_id,
                        f.side,
                        f.venue_order_id,
                        f.client_order_id,
                        f.price,
                        f.qty,
                        f.commission,
                        f.commission_asset,
                        f.is_maker,
                        f.realized_pnl,
                        f.time_ms,
                    ])?;
                    new += u64::try_from(inserted).unwrap_or(0);
                }
            }
            transaction.commit()?;
            Ok(new)
        };
        insert().map_err(|e| self.failed("insert fills", e))
    }
}
