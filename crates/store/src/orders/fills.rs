//! The `fills` table: idempotent inserts, the queries, and the executed-quantity sums that
//! reconciliation compares with the venue.

use std::collections::BTreeMap;
use std::ops::Range;

use kestrel_model::Qty;

use super::rows::{FILLS, FillBind, FillRow};
use super::{FillInsert, FillRecord, LastTrade, sql};
use crate::db::convert::{from_i64, parse_money, parse_variant};
use sqlx::QueryBuilder;

use crate::db::dialect::{Batch, POSTGRES_BATCH, SQLITE_BATCH, on_backend};
use crate::db::{Pool, Store, StoreError};

/// The most fills one insert statement carries (12 binds each, under both backends' limits).
const MAX_FILLS_PER_STATEMENT: usize = 1_000;

/// The insert of the fill rows `$chunk` (a slice of [`FillBind`]) as a `QueryBuilder` for
/// `$batch`'s backend; only the casts after the bound text differ ([`Batch`]).
macro_rules! insert_query {
    ($chunk:expr, $batch:expr) => {{
        let batch: Batch = $batch;
        let mut insert = QueryBuilder::new(sql::INSERT_FILLS);
        insert.push_values($chunk, |mut row, f: &FillBind<'_>| {
            row.push_bind(f.symbol)
                .push_bind(f.trade_id)
                .push_bind(f.side.as_str())
                .push_bind(f.venue_order_id)
                .push_bind(f.client_order_id)
                .push_bind(f.price.as_str())
                .push_unseparated(batch.numeric)
                .push_bind(f.qty.as_str())
                .push_unseparated(batch.numeric)
                .push_bind(f.commission.as_str())
                .push_unseparated(batch.numeric)
                .push_bind(f.commission_asset)
                .push_bind(f.is_maker)
                .push_bind(f.realized_pnl.as_deref())
                .push_unseparated(batch.numeric)
                .push_bind(f.time_ms);
        });
        insert.push(sql::SKIP_STORED_FILLS);
        insert
    }};
}

/// Inserts `$rows` (a slice of [`FillBind`]) on `$pool`: one statement when they fit one,
/// else one per chunk in a transaction; evaluates to `Result<u64, StoreError>`, the rows new.
macro_rules! insert_rows {
    ($pool:expr, $batch:expr, $rows:expr) => {
        async {
            let rows: &[FillBind<'_>] = $rows;
            if rows.len() <= MAX_FILLS_PER_STATEMENT {
                let done = insert_query!(rows, $batch)
                    .build()
                    .execute($pool)
                    .await
                    .map_err(StoreError::query("insert fills"))?;
                return Ok(done.rows_affected());
            }
            let mut tx = $pool
                .begin()
                .await
                .map_err(StoreError::query("begin a fills insert"))?;
            let mut new = 0;
            for chunk in rows.chunks(MAX_FILLS_PER_STATEMENT) {
                new += insert_query!(chunk, $batch)
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query("insert fills"))?
                    .rows_affected();
            }
            tx.commit()
                .await
                .map_err(StoreError::query("commit a fills insert"))?;
            Ok(new)
        }
        .await
    };
}

impl Store {
    /// Stores one fill unless the same (symbol, trade id, side) is already stored, and says
    /// which happened.
    ///
    /// # Errors
    /// As [`Store::insert_fills`].
    pub async fn insert_fill(&self, fill: &FillRecord) -> Result<FillInsert, StoreError> {
        let new = self.insert_fills(std::slice::from_ref(fill)).await?;
        Ok(if new == 0 {
            FillInsert::Duplicate
        } else {
            FillInsert::New
        })
    }

    /// Stores fills in one statement (all or none), skipping those already stored (same
    /// symbol, trade id and side, including repeats within the batch); returns how many were
    /// new. One statement, not one per fill, as [`Store::upsert_orders`].
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] before anything is written, for an id or time above
    /// `i64::MAX`; [`StoreError::Query`] (nothing is written).
    pub async fn insert_fills(&self, fills: &[FillRecord]) -> Result<u64, StoreError> {
        let rows = FillBind::all(fills)?;
        if rows.is_empty() {
            return Ok(0);
        }
        match &self.pool {
            Pool::Sqlite(pool) => insert_rows!(pool, SQLITE_BATCH, &rows),
            Pool::Postgres(pool) => insert_rows!(pool, POSTGRES_BATCH, &rows),
        }
    }

    /// The fills of the order with `client_order_id`, in execution order (time, then trade
    /// id).
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn fills_for_order(
        &self,
        client_order_id: &str,
    ) -> Result<Vec<FillRecord>, StoreError> {
        let rows: Vec<FillRow> = on_backend!(self, sql = sql::FILLS_FOR_ORDER, |pool| {
            sqlx::query_as(sql)
                .bind(client_order_id)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("read the fills of an order"))?;
        rows.into_iter().map(FillRow::into_record).collect()
    }

    /// Up to `limit` fills of `symbol` executed in `time_ms` (start inclusive, end exclusive,
    /// venue milliseconds since the epoch), in execution order.
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn fills_between(
        &self,
        symbol: &str,
        time_ms: Range<u64>,
        limit: u32,
    ) -> Result<Vec<FillRecord>, StoreError> {
        // Beyond i64::MAX nothing is stored, so a bound there is as good as any larger one.
        let from_ms = i64::try_from(time_ms.start).unwrap_or(i64::MAX);
        let to_ms = i64::try_from(time_ms.end).unwrap_or(i64::MAX);
        let rows: Vec<FillRow> = on_backend!(self, sql = sql::FILLS_BETWEEN, |pool| {
            sqlx::query_as(sql)
                .bind(symbol)
                .bind(from_ms)
                .bind(to_ms)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("read the fills of a symbol"))?;
        rows.into_iter().map(FillRow::into_record).collect()
    }

    /// The number of stored fills, of `symbol` or (with `None`) of all symbols.
    ///
    /// # Errors
    /// [`StoreError::Query`].
    pub async fn count_fills(&self, symbol: Option<&str>) -> Result<u64, StoreError> {
        let count: i64 = on_backend!(self, sql = sql::COUNT_FILLS, |pool| {
            sqlx::query_scalar(sql).bind(symbol).fetch_one(pool).await
        })
        .map_err(StoreError::query("count fills"))?;
        // COUNT(*) is never negative.
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The last trade stored for each symbol that has fills: its venue trade id and the sides
    /// of ours stored on it. A restarted engine resumes reading its own trades from the venue
    /// *at* that id, so fills made while it was down are recovered, including the other leg of
    /// a self-trade whose first leg alone was stored, and those already stored are not applied
    /// again.
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn last_trades(&self) -> Result<BTreeMap<String, LastTrade>, StoreError> {
        let rows: Vec<(String, i64, String)> = on_backend!(self, sql = sql::LAST_TRADES, |pool| {
            sqlx::query_as(sql).fetch_all(pool).await
        })
        .map_err(StoreError::query("read the last trade of each symbol"))?;
        let mut last = BTreeMap::<String, LastTrade>::new();
        for (symbol, id, side) in rows {
            let trade_id = from_i64(FILLS, "trade_id", id)?;
            let side = parse_variant(FILLS, "side", &side)?;
            last.entry(symbol)
                .or_insert(LastTrade {
                    trade_id,
                    sides: Vec::with_capacity(1),
                })
                .sides
                .push(side);
        }
        Ok(last)
    }

    /// The executed quantity of the order with `client_order_id`: the exact sum of its stored
    /// fills (zero when it has none).
    ///
    /// # Errors
    /// [`StoreError::Overflow`], [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn filled_qty(&self, client_order_id: &str) -> Result<Qty, StoreError> {
        let qtys: Vec<String> = on_backend!(self, sql = sql::FILL_QTYS_OF_ORDER, |pool| {
            sqlx::query_scalar(sql)
                .bind(client_order_id)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("read the fill quantities of an order"))?;
        qtys.iter()
            .try_fold(Qty::ZERO, |sum, qty| add_qty(sum, qty, client_order_id))
    }

    /// The executed quantity of every order of `symbol` that has fills, by client order id:
    /// the exact sums reconciliation compares with the venue's `executedQty`.
    ///
    /// # Errors
    /// [`StoreError::Overflow`], [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn filled_qty_by_order(
        &self,
        symbol: &str,
    ) -> Result<BTreeMap<String, Qty>, StoreError> {
        let rows: Vec<(String, String)> =
            on_backend!(self, sql = sql::FILL_QTYS_OF_SYMBOL, |pool| {
                sqlx::query_as(sql).bind(symbol).fetch_all(pool).await
            })
            .map_err(StoreError::query("read the fill quantities of a symbol"))?;
        let mut sums = BTreeMap::new();
        for (client_order_id, qty) in rows {
            let sum = sums.get(&client_order_id).copied().unwrap_or(Qty::ZERO);
            let sum = add_qty(sum, &qty, &client_order_id)?;
            sums.insert(client_order_id, sum);
        }
        Ok(sums)
    }
}

/// `sum + qty` for the stored decimal text `qty` of a fill of order `client_order_id`.
fn add_qty(sum: Qty, qty: &str, client_order_id: &str) -> Result<Qty, StoreError> {
    let qty = parse_money(FILLS, "qty", qty, Qty::parse)?;
    sum.try_add(qty).map_err(|source| StoreError::Overflow {
        what: format!("fills.qty of order {client_order_id}"),
        source,
    })
}
