//! The market-data SQL for SQLite: money as exact decimal TEXT, `?` placeholders.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::Inserted;
use super::rows::{SnapshotRecordRow, SnapshotRow, TradeRecordRow, TradeRow};
use crate::db::StoreError;

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` since 3.32 (the bundled library is newer):
/// a multi-row INSERT is split so that no statement binds more.
pub(super) const MAX_BIND_PARAMS: usize = 32_766;

/// Inserts both kinds in one transaction, chunked under the bind limit; rows already stored
/// (same key) are skipped.
pub(super) async fn insert(
    pool: &SqlitePool,
    trades: &[TradeRow<'_>],
    snapshots: &[SnapshotRow<'_>],
) -> Result<Inserted, StoreError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(StoreError::query("begin a market-data batch"))?;
    let mut inserted = Inserted::default();
    for chunk in trades.chunks(MAX_BIND_PARAMS / TradeRow::COLUMNS) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO trades (symbol, trade_id, price, qty, buyer_is_maker, trade_time_ms, \
             event_time_ms, received_wall_ns, received_monotonic_ns) ",
        );
        insert.push_values(chunk, |mut row, t| {
            row.push_bind(t.symbol)
                .push_bind(t.trade_id)
                .push_bind(t.price.as_str())
                .push_bind(t.qty.as_str())
                .push_bind(t.buyer_is_maker)
                .push_bind(t.trade_time_ms)
                .push_bind(t.event_time_ms)
                .push_bind(t.received_wall_ns)
                .push_bind(t.received_monotonic_ns);
        });
        insert.push(" ON CONFLICT DO NOTHING");
        let result = insert
            .build()
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query("insert trades"))?;
        inserted.trades += result.rows_affected();
    }
    for chunk in snapshots.chunks(MAX_BIND_PARAMS / SnapshotRow::COLUMNS) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO market_data_snapshots (symbol, taken_at_ms, last_update_id, \
             event_time_ms, transaction_time_ms, received_wall_ns, received_monotonic_ns, \
             best_bid_price, best_bid_qty, best_ask_price, best_ask_qty, bids, asks) ",
        );
        insert.push_values(chunk, |mut row, s| {
            row.push_bind(s.symbol)
                .push_bind(s.taken_at_ms)
                .push_bind(s.last_update_id)
                .push_bind(s.event_time_ms)
                .push_bind(s.transaction_time_ms)
                .push_bind(s.received_wall_ns)
                .push_bind(s.received_monotonic_ns)
                .push_bind(s.best_bid_price.as_deref())
                .push_bind(s.best_bid_qty.as_deref())
                .push_bind(s.best_ask_price.as_deref())
                .push_bind(s.best_ask_qty.as_deref())
                .push_bind(s.bids.as_str())
                .push_bind(s.asks.as_str());
        });
        insert.push(" ON CONFLICT DO NOTHING");
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
    Ok(inserted)
}

/// Trades of `symbol` with `from_ms <= trade_time_ms < to_ms`, oldest first.
pub(super) async fn trades_between(
    pool: &SqlitePool,
    symbol: &str,
    from_ms: i64,
    to_ms: i64,
    limit: i64,
) -> Result<Vec<TradeRecordRow>, StoreError> {
    sqlx::query_as(
        "SELECT symbol, trade_id, price, qty, buyer_is_maker, trade_time_ms, event_time_ms, \
         received_wall_ns, received_monotonic_ns FROM trades \
         WHERE symbol = ? AND trade_time_ms >= ? AND trade_time_ms < ? \
         ORDER BY trade_time_ms, trade_id LIMIT ?",
    )
    .bind(symbol)
    .bind(from_ms)
    .bind(to_ms)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("read trades"))
}

/// The newest trades of `symbol`, newest first.
pub(super) async fn recent_trades(
    pool: &SqlitePool,
    symbol: &str,
    limit: i64,
) -> Result<Vec<TradeRecordRow>, StoreError> {
    sqlx::query_as(
        "SELECT symbol, trade_id, price, qty, buyer_is_maker, trade_time_ms, event_time_ms, \
         received_wall_ns, received_monotonic_ns FROM trades \
         WHERE symbol = ? ORDER BY trade_time_ms DESC, trade_id DESC LIMIT ?",
    )
    .bind(symbol)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("read recent trades"))
}

/// The snapshot of `symbol` taken last (highest update id within the same millisecond).
pub(super) async fn latest_snapshot(
    pool: &SqlitePool,
    symbol: &str,
) -> Result<Option<SnapshotRecordRow>, StoreError> {
    sqlx::query_as(
        "SELECT symbol, last_update_id, event_time_ms, transaction_time_ms, received_wall_ns, \
         received_monotonic_ns, bids, asks FROM market_data_snapshots \
         WHERE symbol = ? ORDER BY taken_at_ms DESC, last_update_id DESC LIMIT 1",
    )
    .bind(symbol)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::query("read the latest snapshot"))
}

/// Rows in `table` (`trades` or `market_data_snapshots`), of one symbol or all.
pub(super) async fn count(
    pool: &SqlitePool,
    table: super::Table,
    symbol: Option<&str>,
) -> Result<i64, StoreError> {
    use super::Table;
    let sql = match (table, symbol) {
        (Table::Trades, None) => "SELECT COUNT(*) FROM trades",
        (Table::Trades, Some(_)) => "SELECT COUNT(*) FROM trades WHERE symbol = ?",
        (Table::Snapshots, None) => "SELECT COUNT(*) FROM market_data_snapshots",
        (Table::Snapshots, Some(_)) => {
            "SELECT COUNT(*) FROM market_data_snapshots WHERE symbol = ?"
        }
    };
    let mut query = sqlx::query_scalar(sql);
    if let Some(symbol) = symbol {
        query = query.bind(symbol);
    }
    query
        .fetch_one(pool)
        .await
        .map_err(StoreError::query("count rows"))
}
