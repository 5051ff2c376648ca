//! The market-data statements in both dialects (see `db::dialect`): money is exact decimal
//! TEXT in SQLite and NUMERIC(20, 8) in PostgreSQL, bound as text and cast (`::numeric`), read
//! back with `::text`; book levels are TEXT in SQLite and JSONB in PostgreSQL.

use crate::db::dialect::Sql;

/// The `trades` columns a [`TradeRecordRow`](super::rows::TradeRecordRow) reads, in SQLite.
macro_rules! trade_columns_sqlite {
    () => {
        "symbol, trade_id, price, qty, buyer_is_maker, trade_time_ms, event_time_ms, \
         received_wall_ns, received_monotonic_ns"
    };
}

/// The `trades` columns a [`TradeRecordRow`](super::rows::TradeRecordRow) reads, in
/// PostgreSQL (NUMERIC read back as text).
macro_rules! trade_columns_postgres {
    () => {
        "symbol, trade_id, price::text AS price, qty::text AS qty, buyer_is_maker, \
         trade_time_ms, event_time_ms, received_wall_ns, received_monotonic_ns"
    };
}

/// The head of the multi-row `trades` INSERT; the rows follow in
/// [`TradeRow`](super::rows::TradeRow) order, then [`SKIP_STORED`].
pub(super) const INSERT_TRADES: &str = "INSERT INTO trades (symbol, trade_id, price, qty, \
     buyer_is_maker, trade_time_ms, event_time_ms, received_wall_ns, received_monotonic_ns) ";

/// The head of the multi-row `market_data_snapshots` INSERT; the rows follow in
/// [`SnapshotRow`](super::rows::SnapshotRow) order, then [`SKIP_STORED`].
pub(super) const INSERT_SNAPSHOTS: &str = "INSERT INTO market_data_snapshots (symbol, \
     taken_at_ms, last_update_id, event_time_ms, transaction_time_ms, received_wall_ns, \
     received_monotonic_ns, best_bid_price, best_bid_qty, best_ask_price, best_ask_qty, bids, \
     asks) ";

/// The tail of both INSERTs: a row whose key is already stored is skipped.
pub(super) const SKIP_STORED: &str = " ON CONFLICT DO NOTHING";

/// Up to `$4` trades of symbol `$1` with `$2 <= trade_time_ms < $3`, oldest first.
pub(super) const TRADES_BETWEEN: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        trade_columns_sqlite!(),
        " FROM trades WHERE symbol = $1 AND trade_time_ms >= $2 AND trade_time_ms < $3 \
         ORDER BY trade_time_ms, trade_id LIMIT $4"
    ),
    postgres: concat!(
        "SELECT ",
        trade_columns_postgres!(),
        " FROM trades WHERE symbol = $1 AND trade_time_ms >= $2 AND trade_time_ms < $3 \
         ORDER BY trade_time_ms, trade_id LIMIT $4"
    ),
};

/// The `$2` newest trades of symbol `$1`, newest first.
pub(super) const RECENT_TRADES: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        trade_columns_sqlite!(),
        " FROM trades WHERE symbol = $1 ORDER BY trade_time_ms DESC, trade_id DESC LIMIT $2"
    ),
    postgres: concat!(
        "SELECT ",
        trade_columns_postgres!(),
        " FROM trades WHERE symbol = $1 ORDER BY trade_time_ms DESC, trade_id DESC LIMIT $2"
    ),
};

/// The snapshot of symbol `$1` taken last (highest update id within the same millisecond).
pub(super) const LATEST_SNAPSHOT: Sql = Sql {
    sqlite: "SELECT symbol, last_update_id, event_time_ms, transaction_time_ms, \
             received_wall_ns, received_monotonic_ns, bids, asks FROM market_data_snapshots \
             WHERE symbol = $1 ORDER BY taken_at_ms DESC, last_update_id DESC LIMIT 1",
    postgres: "SELECT symbol, last_update_id, event_time_ms, transaction_time_ms, \
               received_wall_ns, received_monotonic_ns, bids::text AS bids, \
               asks::text AS asks FROM market_data_snapshots \
               WHERE symbol = $1 ORDER BY taken_at_ms DESC, last_update_id DESC LIMIT 1",
};

/// The number of trades.
pub(super) const COUNT_TRADES: Sql = Sql::both("SELECT COUNT(*) FROM trades");

/// The number of trades of symbol `$1`.
pub(super) const COUNT_TRADES_OF_SYMBOL: Sql =
    Sql::both("SELECT COUNT(*) FROM trades WHERE symbol = $1");

/// The number of snapshots.
pub(super) const COUNT_SNAPSHOTS: Sql = Sql::both("SELECT COUNT(*) FROM market_data_snapshots");

/// The number of snapshots of symbol `$1`.
pub(super) const COUNT_SNAPSHOTS_OF_SYMBOL: Sql =
    Sql::both("SELECT COUNT(*) FROM market_data_snapshots WHERE symbol = $1");
