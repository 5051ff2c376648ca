//! Test support: the same behaviour checked on every backend.
//!
//! [`stores`] yields a fresh store on every database `kestrel_testkit::db` offers for the test:
//! a SQLite file in a temporary directory and, when the server answers, a PostgreSQL schema of
//! the test's own (skipped with a printed message when unreachable, unless
//! `KESTREL_REQUIRE_SERVICES=1`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kestrel_model::event::{OwnedBookSnapshot, OwnedTradeEvent, ReceiveTime};
use kestrel_model::order::{
    ExecutionMode, Fill, Liquidity, OrderRequest, OrderType, PositionSide, Side, TimeInForce,
    WorkingType,
};
use kestrel_model::{Level, Money, OrderStatus, Price, Qty, Trade};
use kestrel_store::{FillRecord, OrderRecord, Store, StoreError};
pub use kestrel_testkit::db::TestDatabase;

/// A store under test and the database it is open on.
pub struct TestStore {
    /// The store.
    pub store: Store,
    /// `sqlite` or `postgres`, for assertion messages.
    pub label: &'static str,
    /// The database, to reach it again or tamper with it.
    pub db: TestDatabase,
}

impl TestStore {
    /// Opens a store on `db`.
    pub async fn open(db: TestDatabase) -> Self {
        let store = Store::open(&db.store_config()).await.unwrap();
        Self {
            store,
            label: db.label(),
            db,
        }
    }

    /// Opens the same database again (a restart).
    pub async fn reopen(&self) -> Result<Store, StoreError> {
        match &self.db {
            TestDatabase::Sqlite { path, .. } => Store::sqlite(path).await,
            TestDatabase::Postgres(schema) => Store::postgres_with(schema.options()).await,
        }
    }

    /// Abandons the store without closing it, as a crash would, and opens the same database
    /// again in its place (a restart).
    pub async fn restart_after_crash(&mut self) {
        let reopened = self.reopen().await.unwrap();
        let abandoned = std::mem::replace(&mut self.store, reopened);
        drop(abandoned);
    }

    /// The number of rows in `table`, counted on a connection of its own.
    pub async fn rows(&self, table: &str) -> u64 {
        self.query_text(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
            .await
            .parse()
            .unwrap()
    }

    /// Runs one SQL statement on a connection of its own (to tamper with the database the way
    /// another process or an operator would).
    pub async fn execute(&self, sql: &str) {
        self.db.execute(sql).await;
    }

    /// Runs a query returning one text value, on a connection of its own.
    pub async fn query_text(&self, sql: &str) -> String {
        self.db.query_text(sql).await
    }
}

/// A fresh store on every available backend: SQLite always, PostgreSQL when reachable.
pub async fn stores(test: &str) -> Vec<TestStore> {
    let mut stores = Vec::new();
    for db in TestDatabase::all(test).await {
        stores.push(TestStore::open(db).await);
    }
    stores
}

/// Waits until `done` holds, checking every few milliseconds. No deadline: a hang is caught by
/// the test runner's timeout, and timings are never asserted.
pub async fn wait_until(mut done: impl AsyncFnMut() -> bool) {
    while !done().await {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A price from exact text.
pub fn price(text: &str) -> Price {
    Price::parse(text).unwrap()
}

/// A quantity from exact text.
pub fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

/// A level from exact text.
pub fn level(price_text: &str, qty_text: &str) -> Level {
    Level::new(price(price_text), qty(qty_text))
}

/// A trade event with every field set from `id`.
pub fn trade(symbol: &str, id: u64, time_ms: u64) -> OwnedTradeEvent {
    OwnedTradeEvent {
        trade: Trade {
            symbol: symbol.to_owned(),
            trade_id: id,
            price: Price::from_raw(6_725_010_000_000 + i64::try_from(id).unwrap()),
            quantity: qty("0.001"),
            timestamp_ms: time_ms,
            buyer_is_maker: id.is_multiple_of(2),
        },
        event_time_ms: time_ms + 1,
        received: ReceiveTime::new(1_000 + id, time_ms * 1_000_000 + 2_500_000),
    }
}

/// A snapshot of `symbol` received at `wall_ms`, with `depth` levels a side.
pub fn snapshot(symbol: &str, update_id: u64, wall_ms: u64, depth: usize) -> OwnedBookSnapshot {
    let step = |i: usize| i64::try_from(i).unwrap();
    OwnedBookSnapshot {
        symbol: symbol.to_owned(),
        last_update_id: update_id,
        event_time_ms: wall_ms.saturating_sub(2),
        transaction_time_ms: wall_ms.saturating_sub(3),
        received: ReceiveTime::new(77 + update_id, wall_ms * 1_000_000 + 123),
        bids: (0..depth)
            .map(|i| {
                Level::new(
                    Price::from_raw(100_000_000 - step(i)),
                    Qty::from_raw(step(i) + 1),
                )
            })
            .collect(),
        asks: (0..depth)
            .map(|i| {
                Level::new(
                    Price::from_raw(100_000_001 + step(i)),
                    Qty::from_raw(step(i) + 2),
                )
            })
            .collect(),
    }
}

/// A GTC limit buy of 0.001 at 67250.1 under `request_id`.
pub fn limit_request(request_id: &str, symbol: &str) -> OrderRequest {
    OrderRequest {
        request_id: request_id.to_owned(),
        symbol: symbol.to_owned(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        price: Some(price("67250.1")),
        quantity: qty("0.001"),
        stop_price: None,
        reduce_only: false,
        close_position: false,
        position_side: PositionSide::Both,
        client_order_id: None,
        execution_mode: ExecutionMode::Live,
        working_type: WorkingType::ContractPrice,
        callback_rate: None,
        activation_price: None,
    }
}

/// An order record of `symbol` in `status`, first recorded at `created_ms`.
pub fn order_record(
    client_order_id: &str,
    symbol: &str,
    status: OrderStatus,
    created_ms: u64,
) -> OrderRecord {
    OrderRecord {
        client_order_id: client_order_id.to_owned(),
        venue_order_id: None,
        symbol: symbol.to_owned(),
        side: Side::Sell,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        position_side: PositionSide::Both,
        price: Some(price("3100.25")),
        stop_price: None,
        qty: qty("2"),
        executed_qty: Qty::ZERO,
        avg_price: None,
        status,
        reduce_only: false,
        reject_reason: None,
        created_ms,
        updated_ms: created_ms,
    }
}

/// A taker fill of `qty_text` at 100.5 of order `client_order_id` (venue id `order_id`).
pub fn fill(
    symbol: &str,
    trade_id: u64,
    client_order_id: &str,
    order_id: u64,
    qty_text: &str,
    time_ms: u64,
) -> FillRecord {
    FillRecord {
        fill: Fill {
            order_id,
            client_order_id: client_order_id.to_owned(),
            symbol: symbol.to_owned(),
            side: Side::Buy,
            price: price("100.5"),
            quantity: qty(qty_text),
            commission: Money::parse("0.0201").unwrap(),
            commission_asset: "USDT".to_owned(),
            liquidity: Liquidity::Taker,
            trade_id,
            timestamp_ms: time_ms,
        },
        realized_pnl: None,
    }
}
