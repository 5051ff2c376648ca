//! The market-data time series (seed 000 FR-MD-005: "Insert into time-series database",
//! "Rate limit database writes"): public trades in `trades`, top-N book snapshots in
//! `market_data_snapshots`.
//!
//! Records are the model's own events: [`OwnedTradeEvent`] (a [`kestrel_model::Trade`] with its
//! venue and receive times) and [`OwnedBookSnapshot`]; what is written is read back equal,
//! field for field. Prices and quantities never pass through a float: SQLite holds their exact
//! decimal text, PostgreSQL a NUMERIC it receives and returns as text. Book levels are a JSON
//! array of `["price", "qty"]` strings, best first.
//!
//! Writes are idempotent: a trade is keyed by `(symbol, trade_id)`, a snapshot by
//! `(symbol, taken_at_ms, last_update_id)`, and a batch that was already (partly) stored
//! inserts only what is new — so a replayed file or a retried batch never duplicates rows.
//!
//! [`MarketRecorder`] is how the pipeline writes without waiting on the database.

mod recorder;
mod rows;
mod sql;

use std::ops::Range;

use kestrel_model::event::{OwnedBookSnapshot, OwnedTradeEvent};

pub use recorder::{
    KindCounts, MarketRecorder, RecorderConfig, RecorderCounts, RecorderStats, RecorderWriter,
};
use rows::{SnapshotRecordRow, SnapshotRow, TradeRecordRow, TradeRow};
use sqlx::QueryBuilder;

use crate::db::dialect::{Batch, POSTGRES_BATCH, SQLITE_BATCH, Sql, on_backend};
use crate::db::{Pool, Store, StoreError};

/// How many rows a batch added; records already stored are skipped and not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inserted {
    /// New rows in `trades`.
    pub trades: u64,
    /// New rows in `market_data_snapshots`.
    pub snapshots: u64,
}

/// The two market-data tables, for queries shared between them.
#[derive(Debug, Clone, Copy)]
enum Table {
    Trades,
    Snapshots,
}

/// Writes `$trades` and `$snapshots` (rows) in one transaction on `$pool`, chunked under the
/// backend's `$batch` bind limit; evaluates to `Result<Inserted, StoreError>`. Expanded once per
/// backend, so one piece of binding code serves both drivers' types: only the casts after the
/// bound text and the bind limit differ ([`Batch`]).
macro_rules! insert_batch {
    ($pool:expr, $batch:expr, $trades:expr, $snapshots:expr) => {
        async {
            let batch: Batch = $batch;
            let mut tx = $pool
                .begin()
                .await
                .map_err(StoreError::query("begin a market-data batch"))?;
            let mut inserted = Inserted::default();
            for chunk in $trades.chunks(batch.max_bind_params / TradeRow::COLUMNS) {
                let mut insert = QueryBuilder::new(sql::INSERT_TRADES);
                insert.push_values(chunk, |mut row, t| {
                    row.push_bind(t.symbol)
                        .push_bind(t.trade_id)
                        .push_bind(t.price.as_str())
                        .push_unseparated(batch.numeric)
                        .push_bind(t.qty.as_str())
                        .push_unseparated(batch.numeric)
                        .push_bind(t.buyer_is_maker)
                        .push_bind(t.trade_time_ms)
                        .push_bind(t.event_time_ms)
                        .push_bind(t.received_wall_ns)
                        .push_bind(t.received_monotonic_ns);
                });
                insert.push(sql::SKIP_STORED);
                let result = insert
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query("insert trades"))?;
                inserted.trades += result.rows_affected();
            }
            for chunk in $snapshots.chunks(batch.max_bind_params / SnapshotRow::COLUMNS) {
                let mut insert = QueryBuilder::new(sql::INSERT_SNAPSHOTS);
                insert.push_values(chunk, |mut row, s| {
                    row.push_bind(s.symbol)
                        .push_bind(s.taken_at_ms)
                        .push_bind(s.last_update_id)
                        .push_bind(s.event_time_ms)
                        .push_bind(s.transaction_time_ms)
                        .push_bind(s.received_wall_ns)
                        .push_bind(s.received_monotonic_ns)
                        .push_bind(s.best_bid_price.as_deref())
                        .push_unseparated(batch.numeric)
                        .push_bind(s.best_bid_qty.as_deref())
                        .push_unseparated(batch.numeric)
                        .push_bind(s.best_ask_price.as_deref())
                        .push_unseparated(batch.numeric)
                        .push_bind(s.best_ask_qty.as_deref())
                        .push_unseparated(batch.numeric)
                        .push_bind(s.bids.as_str())
                        .push_unseparated(batch.jsonb)
                        .push_bind(s.asks.as_str())
                        .push_unseparated(batch.jsonb);
                });
                insert.push(sql::SKIP_STORED);
                let result = insert
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query("insert market-data snapshots"))?;
                inserted.snapshots += result.rows_affected();
            }
            tx.commit()
                .await
                .map_err(StoreError::query("commit a market-data batch"))?;
            Ok::<_, StoreError>(inserted)
        }
        .await
    };
}

impl Store {
    /// Writes trades and snapshots in one transaction (multi-row INSERTs, split under the
    /// backend's bind-parameter limit): all of the batch is stored or none of it. Records whose
    /// key is already stored are skipped.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] before anything is written, for an id or time above
    /// `i64::MAX`; [`StoreError::Query`] when the database fails (the transaction is rolled
    /// back).
    pub async fn insert_market_data(
        &self,
        trades: &[OwnedTradeEvent],
        snapshots: &[OwnedBookSnapshot],
    ) -> Result<Inserted, StoreError> {
        let trades = trades
            .iter()
            .map(TradeRow::new)
            .collect::<Result<Vec<_>, _>>()?;
        let snapshots = snapshots
            .iter()
            .map(SnapshotRow::new)
            .collect::<Result<Vec<_>, _>>()?;
        if trades.is_empty() && snapshots.is_empty() {
            return Ok(Inserted::default());
        }
        let _writing = self.write_lock().await;
        match &self.pool {
            Pool::Sqlite(pool) => insert_batch!(pool, SQLITE_BATCH, &trades, &snapshots),
            Pool::Postgres(pool) => insert_batch!(pool, POSTGRES_BATCH, &trades, &snapshots),
        }
    }

    /// Writes trades in one transaction; see [`Store::insert_market_data`]. Returns the number
    /// of new rows.
    ///
    /// # Errors
    /// As [`Store::insert_market_data`].
    pub async fn insert_trades(&self, trades: &[OwnedTradeEvent]) -> Result<u64, StoreError> {
        Ok(self.insert_market_data(trades, &[]).await?.trades)
    }

    /// Writes snapshots in one transaction; see [`Store::insert_market_data`]. Returns the
    /// number of new rows.
    ///
    /// # Errors
    /// As [`Store::insert_market_data`].
    pub async fn insert_snapshots(
        &self,
        snapshots: &[OwnedBookSnapshot],
    ) -> Result<u64, StoreError> {
        Ok(self.insert_market_data(&[], snapshots).await?.snapshots)
    }

    /// Up to `limit` trades of `symbol` whose venue trade time is in `time_ms` (start
    /// inclusive, end exclusive, milliseconds since the epoch), oldest first (ties by trade id).
    ///
    /// # Errors
    /// [`StoreError::Query`]; [`StoreError::Corrupt`] for a row Kestrel did not write.
    pub async fn trades_between(
        &self,
        symbol: &str,
        time_ms: Range<u64>,
        limit: u32,
    ) -> Result<Vec<OwnedTradeEvent>, StoreError> {
        let from_ms = saturating_i64(time_ms.start);
        let to_ms = saturating_i64(time_ms.end);
        let rows: Vec<TradeRecordRow> = on_backend!(self, sql = sql::TRADES_BETWEEN, |pool| {
            sqlx::query_as(sql)
                .bind(symbol)
                .bind(from_ms)
                .bind(to_ms)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("read trades"))?;
        rows.into_iter().map(TradeRecordRow::into_event).collect()
    }

    /// The `limit` newest trades of `symbol` (by venue trade time, then trade id), newest
    /// first: what a dashboard's trade tape shows.
    ///
    /// # Errors
    /// [`StoreError::Query`]; [`StoreError::Corrupt`] for a row Kestrel did not write.
    pub async fn recent_trades(
        &self,
        symbol: &str,
        limit: u32,
    ) -> Result<Vec<OwnedTradeEvent>, StoreError> {
        let rows: Vec<TradeRecordRow> = on_backend!(self, sql = sql::RECENT_TRADES, |pool| {
            sqlx::query_as(sql)
                .bind(symbol)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("read recent trades"))?;
        rows.into_iter().map(TradeRecordRow::into_event).collect()
    }

    /// The snapshot of `symbol` taken last (by receive time in milliseconds, then update id),
    /// or `None` when there is none.
    ///
    /// # Errors
    /// [`StoreError::Query`]; [`StoreError::Corrupt`] for a row Kestrel did not write.
    pub async fn latest_snapshot(
        &self,
        symbol: &str,
    ) -> Result<Option<OwnedBookSnapshot>, StoreError> {
        let row: Option<SnapshotRecordRow> =
            on_backend!(self, sql = sql::LATEST_SNAPSHOT, |pool| {
                sqlx::query_as(sql).bind(symbol).fetch_optional(pool).await
            })
            .map_err(StoreError::query("read the latest snapshot"))?;
        row.map(SnapshotRecordRow::into_snapshot).transpose()
    }

    /// The number of stored trades, of `symbol` or (with `None`) of all symbols.
    ///
    /// # Errors
    /// [`StoreError::Query`].
    pub async fn count_trades(&self, symbol: Option<&str>) -> Result<u64, StoreError> {
        self.count(Table::Trades, symbol).await
    }

    /// The number of stored snapshots, of `symbol` or (with `None`) of all symbols.
    ///
    /// # Errors
    /// [`StoreError::Query`].
    pub async fn count_snapshots(&self, symbol: Option<&str>) -> Result<u64, StoreError> {
        self.count(Table::Snapshots, symbol).await
    }

    async fn count(&self, table: Table, symbol: Option<&str>) -> Result<u64, StoreError> {
        let statement: Sql = match (table, symbol) {
            (Table::Trades, None) => sql::COUNT_TRADES,
            (Table::Trades, Some(_)) => sql::COUNT_TRADES_OF_SYMBOL,
            (Table::Snapshots, None) => sql::COUNT_SNAPSHOTS,
            (Table::Snapshots, Some(_)) => sql::COUNT_SNAPSHOTS_OF_SYMBOL,
        };
        let count: i64 = on_backend!(self, sql = statement, |pool| {
            let mut query = sqlx::query_scalar(sql);
            if let Some(symbol) = symbol {
                query = query.bind(symbol);
            }
            query.fetch_one(pool).await
        })
        .map_err(StoreError::query("count rows"))?;
        // COUNT(*) is never negative.
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

/// A query bound as the `i64` the columns hold; beyond `i64::MAX` nothing is stored anyway.
fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
