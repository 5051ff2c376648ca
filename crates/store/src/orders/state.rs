//! The `orders` table: upserts of the latest state and the queries the engine, recovery and
//! the API read with.

use kestrel_model::order::OrderStatus;

use super::rows::{OrderBind, OrderRow};
use super::{ALL_STATUSES, OrderRecord, sql};
use crate::db::convert::{to_i64, to_json, variant_name};
use crate::db::dialect::on_backend;
use crate::db::{Store, StoreError};

impl Store {
    /// Records the latest state of one order (see [`Store::upsert_orders`]).
    ///
    /// # Errors
    /// As [`Store::upsert_orders`].
    pub async fn upsert_order(&self, order: &OrderRecord) -> Result<(), StoreError> {
        self.upsert_orders(std::slice::from_ref(order)).await
    }

    /// Records the latest state of each order in one transaction (all or none): a new client
    /// order id is inserted, a known one replaced — keeping its first `created_ms`, and its
    /// venue order id and reject reason when the update has none. Within the batch, later
    /// entries win.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] before anything is written, for an id or time above
    /// `i64::MAX`; [`StoreError::Query`] (the transaction is rolled back).
    pub async fn upsert_orders(&self, orders: &[OrderRecord]) -> Result<(), StoreError> {
        let rows = orders
            .iter()
            .map(OrderBind::new)
            .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        on_backend!(self, sql = sql::UPSERT_ORDER, |pool| {
            let mut tx = pool
                .begin()
                .await
                .map_err(StoreError::query("begin an orders upsert"))?;
            for row in &rows {
                sqlx::query(sql)
                    .bind(row.client_order_id)
                    .bind(row.venue_order_id)
                    .bind(row.symbol)
                    .bind(&row.side)
                    .bind(&row.order_type)
                    .bind(row.time_in_force.as_deref())
                    .bind(&row.position_side)
                    .bind(row.price.as_deref())
                    .bind(row.stop_price.as_deref())
                    .bind(&row.qty)
                    .bind(&row.executed_qty)
                    .bind(row.avg_price.as_deref())
                    .bind(&row.status)
                    .bind(row.reduce_only)
                    .bind(row.reject_reason)
                    .bind(row.created_ms)
                    .bind(row.updated_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query("upsert orders"))?;
            }
            tx.commit()
                .await
                .map_err(StoreError::query("commit an orders upsert"))
        })
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
