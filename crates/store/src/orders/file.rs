//! Orders and fills on a [`StoreFile`]: [`Store::upsert_orders`](crate::Store::upsert_orders) and [`Store::insert_fills`](crate::Store::insert_fills),
//! synchronously, each batch one transaction of one cached statement per row, under the
//! caller's hold of the store's write lock ([`crate::db::file`], "The write lock").

use std::sync::LazyLock;

use rusqlite::params;
use tokio::sync::OwnedMutexGuard;

use super::rows::{FillBind, OrderBind};
use super::{FillRecord, OrderRecord, sql};
use crate::db::StoreError;
use crate::db::file::StoreFile;

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

impl StoreFile {
    /// [`Store::upsert_orders`](crate::Store::upsert_orders), synchronously; `writing` is the store's write lock, held
    /// ([`Store::write_lock`](crate::Store::write_lock)).
    ///
    /// # Errors
    /// As [`Store::upsert_orders`](crate::Store::upsert_orders), with [`StoreError::Sqlite`] for the driver's errors.
    pub fn upsert_orders(
        &self,
        writing: &OwnedMutexGuard<()>,
        orders: &[OrderRecord],
    ) -> Result<(), StoreError> {
        debug_assert!(self.holds(writing), "the write lock of another store");
        let rows = orders
            .iter()
            .map(OrderBind::new)
            .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        let upsert = || -> rusqlite::Result<()> {
            let tx = self.connection.unchecked_transaction()?;
            {
                let mut statement = tx.prepare_cached(&UPSERT_ORDER)?;
                // In batch order: a later entry for one order replaces an earlier one.
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
            tx.commit()
        };
        upsert().map_err(|e| self.failed("upsert orders", e))
    }

    /// [`Store::insert_fills`](crate::Store::insert_fills), synchronously; `writing` is the store's write lock, held.
    /// Returns how many fills were new.
    ///
    /// # Errors
    /// As [`Store::insert_fills`](crate::Store::insert_fills), with [`StoreError::Sqlite`] for the driver's errors.
    pub fn insert_fills(
        &self,
        writing: &OwnedMutexGuard<()>,
        fills: &[FillRecord],
    ) -> Result<u64, StoreError> {
        debug_assert!(self.holds(writing), "the write lock of another store");
        let rows = fills
            .iter()
            .map(FillBind::new)
            .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            return Ok(0);
        }
        let insert = || -> rusqlite::Result<u64> {
            let tx = self.connection.unchecked_transaction()?;
            let mut new = 0;
            {
                let mut statement = tx.prepare_cached(&INSERT_FILL)?;
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
            tx.commit()?;
            Ok(new)
        };
        insert().map_err(|e| self.failed("insert fills", e))
    }
}
