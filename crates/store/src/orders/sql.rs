//! The statements for orders and fills in both dialects (see `db::dialect`).

use crate::db::dialect::Sql;

/// The `orders` columns an [`OrderRow`](super::rows::OrderRow) reads, in SQLite.
macro_rules! order_columns_sqlite {
    () => {
        "client_order_id, venue_order_id, symbol, side, order_type, time_in_force, \
         position_side, price, stop_price, qty, executed_qty, avg_price, status, reduce_only, \
         reject_reason, created_ms, updated_ms"
    };
}

/// The `orders` columns an [`OrderRow`](super::rows::OrderRow) reads, in PostgreSQL (NUMERIC
/// read back as text).
macro_rules! order_columns_postgres {
    () => {
        "client_order_id, venue_order_id, symbol, side, order_type, time_in_force, \
         position_side, price::text AS price, stop_price::text AS stop_price, qty::text AS qty, \
         executed_qty::text AS executed_qty, avg_price::text AS avg_price, status, reduce_only, \
         reject_reason, created_ms, updated_ms"
    };
}

/// The `fills` columns a [`FillRow`](super::rows::FillRow) reads, in SQLite.
macro_rules! fill_columns_sqlite {
    () => {
        "symbol, trade_id, side, venue_order_id, client_order_id, price, qty, commission, \
         commission_asset, is_maker, realized_pnl, time_ms"
    };
}

/// The `fills` columns a [`FillRow`](super::rows::FillRow) reads, in PostgreSQL (NUMERIC read
/// back as text).
macro_rules! fill_columns_postgres {
    () => {
        "symbol, trade_id, side, venue_order_id, client_order_id, price::text AS price, \
         qty::text AS qty, commission::text AS commission, commission_asset, is_maker, \
         realized_pnl::text AS realized_pnl, time_ms"
    };
}

/// The `SET` list of the orders upsert: the latest state replaces the stored one, except that
/// the first `created_ms` stays and a venue order id or reject reason once known is not erased
/// by an update that lacks it.
macro_rules! order_upsert_set {
    () => {
        " ON CONFLICT (client_order_id) DO UPDATE SET \
         venue_order_id = COALESCE(excluded.venue_order_id, orders.venue_order_id), \
         symbol = excluded.symbol, side = excluded.side, order_type = excluded.order_type, \
         time_in_force = excluded.time_in_force, position_side = excluded.position_side, \
         price = excluded.price, stop_price = excluded.stop_price, qty = excluded.qty, \
         executed_qty = excluded.executed_qty, avg_price = excluded.avg_price, \
         status = excluded.status, reduce_only = excluded.reduce_only, \
         reject_reason = COALESCE(excluded.reject_reason, orders.reject_reason), \
         updated_ms = excluded.updated_ms"
    };
}

/// The head of the multi-row orders upsert; the rows follow in
/// [`OrderBind`](super::rows::OrderBind) order, then [`ORDER_UPSERT_SET`].
pub(super) const UPSERT_ORDERS: &str = "INSERT INTO orders (client_order_id, venue_order_id, \
     symbol, side, order_type, time_in_force, position_side, price, stop_price, qty, executed_qty, \
     avg_price, status, reduce_only, reject_reason, created_ms, updated_ms) ";

/// The tail of the orders upsert: the latest state replaces a stored one (`order_upsert_set!`).
pub(super) const ORDER_UPSERT_SET: &str = order_upsert_set!();

/// The order with client order id `$1`.
pub(super) const ORDER_BY_CLIENT_ID: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        order_columns_sqlite!(),
        " FROM orders WHERE client_order_id = $1"
    ),
    postgres: concat!(
        "SELECT ",
        order_columns_postgres!(),
        " FROM orders WHERE client_order_id = $1"
    ),
};

/// The order of symbol `$1` with venue order id `$2`.
pub(super) const ORDER_BY_VENUE_ID: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        order_columns_sqlite!(),
        " FROM orders WHERE symbol = $1 AND venue_order_id = $2"
    ),
    postgres: concat!(
        "SELECT ",
        order_columns_postgres!(),
        " FROM orders WHERE symbol = $1 AND venue_order_id = $2"
    ),
};

/// Every order of symbol `$1`, oldest first.
pub(super) const ORDERS_FOR_SYMBOL: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        order_columns_sqlite!(),
        " FROM orders WHERE symbol = $1 ORDER BY created_ms, client_order_id"
    ),
    postgres: concat!(
        "SELECT ",
        order_columns_postgres!(),
        " FROM orders WHERE symbol = $1 ORDER BY created_ms, client_order_id"
    ),
};

/// Orders of symbol `$1` (every symbol when NULL) whose status is in the JSON array of names
/// `$2`, oldest first.
pub(super) const ORDERS_WITH_STATUS: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        order_columns_sqlite!(),
        " FROM orders WHERE ($1 IS NULL OR symbol = $1) \
         AND status IN (SELECT value FROM json_each($2)) \
         ORDER BY created_ms, client_order_id"
    ),
    postgres: concat!(
        "SELECT ",
        order_columns_postgres!(),
        " FROM orders WHERE ($1::text IS NULL OR symbol = $1) \
         AND status IN (SELECT jsonb_array_elements_text($2::jsonb)) \
         ORDER BY created_ms, client_order_id"
    ),
};

/// The head of the multi-row fills insert; the rows follow in
/// [`FillBind`](super::rows::FillBind) order, then [`SKIP_STORED_FILLS`].
pub(super) const INSERT_FILLS: &str = "INSERT INTO fills (symbol, trade_id, side, \
     venue_order_id, client_order_id, price, qty, commission, commission_asset, is_maker, \
     realized_pnl, time_ms) ";

/// The tail of the fills insert: a fill already stored (same symbol, trade id and side) is
/// skipped.
pub(super) const SKIP_STORED_FILLS: &str = " ON CONFLICT (symbol, trade_id, side) DO NOTHING";

/// The fills of client order id `$1`, in execution order.
pub(super) const FILLS_FOR_ORDER: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        fill_columns_sqlite!(),
        " FROM fills WHERE client_order_id = $1 ORDER BY time_ms, trade_id, side"
    ),
    postgres: concat!(
        "SELECT ",
        fill_columns_postgres!(),
        " FROM fills WHERE client_order_id = $1 ORDER BY time_ms, trade_id, side"
    ),
};

/// Up to `$4` fills of symbol `$1` with `$2 <= time_ms < $3`, in execution order.
pub(super) const FILLS_BETWEEN: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        fill_columns_sqlite!(),
        " FROM fills WHERE symbol = $1 AND time_ms >= $2 AND time_ms < $3 \
         ORDER BY time_ms, trade_id, side LIMIT $4"
    ),
    postgres: concat!(
        "SELECT ",
        fill_columns_postgres!(),
        " FROM fills WHERE symbol = $1 AND time_ms >= $2 AND time_ms < $3 \
         ORDER BY time_ms, trade_id, side LIMIT $4"
    ),
};

/// The number of fills of symbol `$1` (of every symbol when NULL).
pub(super) const COUNT_FILLS: Sql = Sql {
    sqlite: "SELECT COUNT(*) FROM fills WHERE ($1 IS NULL OR symbol = $1)",
    postgres: "SELECT COUNT(*) FROM fills WHERE ($1::text IS NULL OR symbol = $1)",
};

/// Every fill stored on the largest trade id of each symbol (two when both legs of a
/// self-trade are ours).
pub(super) const LAST_TRADES: Sql = Sql::both(
    "SELECT f.symbol, f.trade_id, f.side FROM fills f \
     JOIN (SELECT symbol, MAX(trade_id) AS trade_id FROM fills GROUP BY symbol) last \
     ON f.symbol = last.symbol AND f.trade_id = last.trade_id \
     ORDER BY f.symbol, f.side",
);

/// The executed quantity of each fill of client order id `$1`.
pub(super) const FILL_QTYS_OF_ORDER: Sql = Sql {
    sqlite: "SELECT qty FROM fills WHERE client_order_id = $1",
    postgres: "SELECT qty::text FROM fills WHERE client_order_id = $1",
};

/// The client order id and executed quantity of each fill of symbol `$1`.
pub(super) const FILL_QTYS_OF_SYMBOL: Sql = Sql {
    sqlite: "SELECT client_order_id, qty FROM fills WHERE symbol = $1",
    postgres: "SELECT client_order_id, qty::text FROM fills WHERE symbol = $1",
};
