//! The `orders` table: upserts of the latest state and the queries the engine, recovery and
//! the API read with.

use std::collections::HashSet;

use kestrel_model::order::OrderStatus;

use super::rows::{OrderBind, OrderRow};
use super::{ALL_STATUSES, OrderRecord, sql};
use crate::db::convert::{to_i64, to_json, variant_name};
use sqlx::QueryBuilder;

use crate::db::dialect::{Batch, POSTGRES_BATCH, SQLITE_BATCH, on_backend};
use crate::db::{Pool, Store, StoreError};

/// The most orders one upsert statement carries (17 binds each, under both backends' limits).
const MAX_ORDERS_PER_STATEMENT: usize = 1_000;

/// The upsert of the order rows `$chunk` (a slice of [`OrderBind`]) as a `QueryBuilder` for
/// `$batch`'s backend. Expanded once per backend: only the casts after the bound text differ
/// ([`Batch`]).
macro_rules! upsert_query {
    ($chunk:expr, $batch:expr) => {{
        let batch: Batch = $batch;
        let mut upsert = QueryBuilder::new(sql::UPSERT_ORDERS);
        upsert.push_values($chunk, |mut row, o: &OrderBind<'_>| {
            row.push_bind(o.client_order_id)
                .push_bind(o.venue_order_id)
                .push_bind(o.symbol)
                .push_bind(o.side.as_str())
                .push_bind(o.order_type.as_str())
                .push_bind(o.time_in_force.as_deref())
                .push_bind(o.position_side.as_str())
                .push_bind(o.price.as_deref())
                .push_unseparated(batch.numeric)
                .push_bind(o.stop_price.as_deref())
                .push_unseparated(batch.numeric)
                .push_bind(o.qty.as_str())
                .push_unseparated(batch.numeric)
                .push_bind(o.executed_qty.as_str())
                .push_unseparated(batch.numeric)
                .push_bind(o.avg_price.as_deref())
                .push_unseparated(batch.numeric)
                .push_bind(o.status.as_str())
                .push_bind(o.reduce_only)
                .push_bind(o.reject_reason)
                .push_bind(o.created_ms)
                .push_bind(o.updated_ms);
        });
        upsert.push(sql::ORDER_UPSERT_SET);
        upsert
    }};
}

/// Upserts `$rows` (a slice of [`OrderBind`]) on `$pool`: one statement when they fit one,
/// else one per chunk in a transaction; evaluates to `Result<(), StoreError>`.
macro_rules! upsert_rows {
    ($pool:expr, $batch:expr, $rows:expr) => {
        async {
            let rows: &[OrderBind<'_>] = $rows;
            if rows.len() <= MAX_ORDERS_PER_STATEMENT {
                upsert_query!(rows, $batch)
                    .build()
                    .execute($pool)
                    .await
                    .map_err(StoreError::query("upsert orders"))?;
                return Ok(());
            }
            let mut tx = $pool
                .begin()
                .await
                .map_err(StoreError::query("begin an orders upsert"))?;
            for chunk in rows.chunks(MAX_ORDERS_PER_STATEMENT) {
                upsert_query!(chunk, $batch)
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query("upsert orders"))?;
            }
            tx.commit()
                .await
                .map_err(StoreError::query("commit an orders upsert"))
        }
        .await
    };
}

impl Store {
    /// Records the latest state of one order (see [`Store::upsert_orders`]).
    ///
    /// # Errors
    /// As [`Store::upsert_orders`].
    pub async fn upsert_order(&self, order: &OrderRecord) -> Result<(), StoreError> {
        self.upsert_orders(std::slice::from_ref(order)).await
    }

    /// Records the latest state of each order in one statement (all or none): a new client
    /// order id is inserted, a known one replaced — keeping its first `created_ms`, and its
    /// venue order id and reject reason when the update has none. Within the batch, later
    /// entries win. One statement, not one per order: a writer on SQLite holds the store's
    /// write lock for a round trip to the driver, not for one per row.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] before anything is written, for an id or time above
    /// `i64::MAX`; [`StoreError::Query`].
    pub async fn upsert_orders(&self, orders: &[OrderRecord]) -> Result<(), StoreError> {
        // One row per order, its last state: a statement may not touch a row twice.
        let mut seen = HashSet::with_capacity(orders.len());
        let mut latest = Vec::with_capacity(orders.len());
        for order in orders.iter().rev() {
            if seen.insert(order.client_order_id.as_str()) {
                latest.push(OrderBind::new(order)?);
            }
        }
        if latest.is_empty() {
            return Ok(());
        }
        match &self.pool {
            Pool::Sqlite(pool) => upsert_rows!(pool, SQLITE_BATCH, &latest),
            Pool::Postgres(pool) => upsert_rows!(pool, POSTGRES_BATCH, &latest),
        }
    }

    /// The order with `client_order_id`, if recorded.
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn order_by_client_id(
        &self,
        client_order_id: &str,
    ) -> Result<Option<OrderRecord>, StoreError> {
        let row: Option<OrderRow> = on_backend!(self, sql = sql::ORDER_BY_CLIENT_ID, |pool| {
            sqlx::query_as(sql)
                .bind(client_order_id)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("read an order by client order id"))?;
        row.map(OrderRow::into_record).transpose()
    }

    /// The order of `symbol` the venue knows as `venue_order_id`, if recorded (a REST trade
    /// row names the venue order id only).
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`], [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn order_by_venue_id(
        &self,
        symbol: &str,
        venue_order_id: u64,
    ) -> Result<Option<OrderRecord>, StoreError> {
        let venue_order_id = to_i64("venue_order_id", venue_order_id)?;
        let row: Option<OrderRow> = on_backend!(self, sql = sql::ORDER_BY_VENUE_ID, |pool| {
            sqlx::query_as(sql)
                .bind(symbol)
                .bind(venue_order_id)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("read an order by venue order id"))?;
        row.map(OrderRow::into_record).transpose()
    }

    /// Every recorded order of `symbol`, oldest first (by `created_ms`, then client order id).
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn orders_for_symbol(&self, symbol: &str) -> Result<Vec<OrderRecord>, StoreError> {
        let rows: Vec<OrderRow> = on_backend!(self, sql = sql::ORDERS_FOR_SYMBOL, |pool| {
            sqlx::query_as(sql).bind(symbol).fetch_all(pool).await
        })
        .map_err(StoreError::query("read the orders of a symbol"))?;
        rows.into_iter().map(OrderRow::into_record).collect()
    }

    /// The orders of `symbol` (of every symbol with `None`) whose status is one of
    /// `statuses`, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn orders_with_status(
        &self,
        symbol: Option<&str>,
        statuses: &[OrderStatus],
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let names: Vec<String> = statuses.iter().map(variant_name).collect();
        let names = to_json("the status filter", &names)?;
        let rows: Vec<OrderRow> = on_backend!(self, sql = sql::ORDERS_WITH_STATUS, |pool| {
            sqlx::query_as(sql)
                .bind(symbol)
                .bind(&names)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("read orders by status"))?;
        rows.into_iter().map(OrderRow::into_record).collect()
    }

    /// The orders of `symbol` (of every symbol with `None`) that may still execute
    /// ([`OrderStatus::is_open`]: pending submit, submitted, partially filled), oldest first.
    ///
    /// # Errors
    /// As [`Store::orders_with_status`].
    pub async fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<OrderRecord>, StoreError> {
        let open: Vec<OrderStatus> = ALL_STATUSES
            .into_iter()
            .filter(|status| status.is_open())
            .collect();
        self.orders_with_status(symbol, &open).await
    }
}
