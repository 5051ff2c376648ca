//! Test support: the same behaviour checked on every backend.
//!
//! [`stores`] yields a fresh SQLite store on a temporary file and, when the server answers, a
//! PostgreSQL store in a schema of its own (created for the test, on the connection's
//! `search_path`, dropped afterwards), so tests are isolated from each other and from earlier
//! runs. An unreachable PostgreSQL is skipped with a printed message, unless
//! `KESTREL_REQUIRE_SERVICES=1`, where it fails the test.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kestrel_model::event::{OwnedBookSnapshot, OwnedTradeEvent, ReceiveTime};
use kestrel_model::order::{
    ExecutionMode, Fill, Liquidity, OrderRequest, OrderType, PositionSide, Side, TimeInForce,
    WorkingType,
};
use kestrel_model::{Level, Money, OrderStatus, Price, Qty, Trade};
use kestrel_store::{FillRecord, OrderRecord, Store, StoreError};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

/// The local test server (trust auth); `KESTREL_TEST_POSTGRES_URL` overrides it.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store under test and what is needed to reach its database again.
pub struct TestStore {
    /// The store.
    pub store: Store,
    /// `sqlite` or `postgres`, for assertion messages.
    pub label: &'static str,
    target: Target,
}

enum Target {
    Sqlite {
        path: PathBuf,
        _dir: tempfile::TempDir,
    },
    Postgres(Box<PgSchema>),
}

impl TestStore {
    /// Opens the same database again (a restart).
    pub async fn reopen(&self) -> Result<Store, StoreError> {
        match &self.target {
            Target::Sqlite { path, .. } => Store::sqlite(path).await,
            Target::Postgres(schema) => Store::postgres_with(schema.options()).await,
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
        let sql = AssertSqlSafe(sql.to_owned());
        match &self.target {
            Target::Sqlite { path, .. } => {
                let url = format!("sqlite://{}", path.display());
                let mut conn = SqliteConnection::connect(&url).await.unwrap();
                sqlx::query(sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            Target::Postgres(schema) => {
                let mut conn = PgConnection::connect_with(&schema.options()).await.unwrap();
                sqlx::query(sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
    }

    /// Runs a query returning one text value, on a connection of its own.
    pub async fn query_text(&self, sql: &str) -> String {
        let sql = AssertSqlSafe(sql.to_owned());
        match &self.target {
            Target::Sqlite { path, .. } => {
                let url = format!("sqlite://{}", path.display());
                let mut conn = SqliteConnection::connect(&url).await.unwrap();
                let text: String = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                text
            }
            Target::Postgres(schema) => {
                let mut conn = PgConnection::connect_with(&schema.options()).await.unwrap();
                let text: String = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                text
            }
        }
    }

    /// The SQLite file, for SQLite stores.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.target {
            Target::Sqlite { path, .. } => Some(path),
            Target::Postgres(_) => None,
        }
    }

    /// The PostgreSQL schema, for PostgreSQL stores.
    pub fn postgres_schema(&self) -> Option<&PgSchema> {
        match &self.target {
            Target::Sqlite { .. } => None,
            Target::Postgres(schema) => Some(schema),
        }
    }
}

/// A fresh store on every available backend: SQLite always, PostgreSQL when reachable.
pub async fn stores(test: &str) -> Vec<TestStore> {
    let mut stores = vec![sqlite_store().await];
    if let Some(store) = postgres_store(test).await {
        stores.push(store);
    }
    stores
}

/// A fresh SQLite store in a temporary directory.
pub async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kestrel.sqlite");
    let store = Store::sqlite(&path).await.unwrap();
    TestStore {
        store,
        label: "sqlite",
        target: Target::Sqlite { path, _dir: dir },
    }
}

/// A fresh PostgreSQL store in a schema of its own, or `None` (after saying so) when the server
/// is unreachable and services are not required.
pub async fn postgres_store(test: &str) -> Option<TestStore> {
    let schema = PgSchema::create(test).await?;
    let store = Store::postgres_with(schema.options()).await.unwrap();
    Some(TestStore {
        store,
        label: "postgres",
        target: Target::Postgres(Box::new(schema)),
    })
}

/// The test server's URL.
pub fn postgres_url() -> String {
    std::env::var("KESTREL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

fn services_required() -> bool {
    std::env::var("KESTREL_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// A schema created for one test and dropped (with everything in it) when this is dropped.
pub struct PgSchema {
    admin: PgConnectOptions,
    name: String,
}

impl PgSchema {
    /// Creates a uniquely named schema, or returns `None` when PostgreSQL is unreachable and
    /// services are not required.
    pub async fn create(test: &str) -> Option<Self> {
        let url = postgres_url();
        let admin = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("KESTREL_TEST_POSTGRES_URL is not a PostgreSQL URL: {e}"));
        let where_ = format!(
            "{}:{}/{}",
            admin.get_host(),
            admin.get_port(),
            admin.get_database().unwrap_or_default()
        );
        // A reachability probe, not an assertion: an unroutable host must not hang the suite.
        let connected =
            tokio::time::timeout(Duration::from_secs(10), PgConnection::connect_with(&admin))
                .await
                .map_err(|_| String::from("no answer within 10 s"))
                .and_then(|r| r.map_err(|e| e.to_string()));
        let mut conn = match connected {
            Ok(conn) => conn,
            Err(e) if services_required() => {
                panic!("PostgreSQL at {where_} is unreachable ({e}) and KESTREL_REQUIRE_SERVICES=1")
            }
            Err(e) => {
                eprintln!(
                    "SKIPPED (PostgreSQL part of {test}): PostgreSQL at {where_} is unreachable \
                     ({e}); set KESTREL_TEST_POSTGRES_URL to point at a server, or \
                     KESTREL_REQUIRE_SERVICES=1 to make this a failure"
                );
                return None;
            }
        };
        let name = unique_schema_name(test);
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        Some(Self { admin, name })
    }

    /// Connect options whose `search_path` is this schema alone.
    pub fn options(&self) -> PgConnectOptions {
        self.admin
            .clone()
            .options([("search_path", self.name.as_str())])
    }

    /// A URL reaching this schema (the test server's URL with `options[search_path]`).
    pub fn url(&self) -> String {
        let url = postgres_url();
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options[search_path]={}", self.name)
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread with a
        // runtime of its own, and wait for it so the schema is gone when the test ends.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut conn = PgConnection::connect_with(&admin).await?;
                sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await?;
                conn.close().await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test schema {}: {e}", self.name);
        }
    }
}

/// `kestrel_test_<test>_<pid>_<nanos>_<n>`: unique across parallel tests and earlier runs,
/// within PostgreSQL's 63-byte identifier limit.
fn unique_schema_name(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let test: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(20)
        .collect();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("kestrel_test_{test}_{}_{nanos}_{n}", std::process::id())
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
