//! Databases of a test's own, for the crates that test against the store (`kestrel-store`,
//! `kestrel-exec`); behind the `db` feature.
//!
//! [`TestDatabase::all`] yields a fresh SQLite file in a temporary directory and, when the server
//! answers, a PostgreSQL schema of the test's own (created for it, put first on the connection's
//! `search_path`, dropped afterwards), so tests are isolated from each other and from earlier
//! runs. The server is `KESTREL_TEST_POSTGRES_URL`, by default [`DEFAULT_POSTGRES_URL`]. An
//! unreachable server is skipped with a printed `SKIPPED` line, unless
//! `KESTREL_REQUIRE_SERVICES=1`, where it fails the test.
//!
//! Test support: it panics with a message where a test would fail anyway.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kestrel_model::config::{Secret, StoreBackend, StoreConfig};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

/// The local test server (trust auth); `KESTREL_TEST_POSTGRES_URL` overrides it.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The test server's URL.
#[must_use]
pub fn postgres_url() -> String {
    std::env::var("KESTREL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// Whether an unreachable service fails the test (`KESTREL_REQUIRE_SERVICES=1`) instead of
/// skipping its part.
#[must_use]
pub fn services_required() -> bool {
    std::env::var("KESTREL_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// A database for one test: a SQLite file in a temporary directory (removed with it), or a
/// PostgreSQL schema of its own (dropped with it).
#[derive(Debug)]
pub enum TestDatabase {
    /// A SQLite file.
    Sqlite {
        /// The file (not created until a store opens it).
        path: PathBuf,
        /// The directory holding it, removed on drop.
        dir: tempfile::TempDir,
    },
    /// A PostgreSQL schema.
    Postgres(Box<PgSchema>),
}

impl TestDatabase {
    /// A fresh database on every available backend: SQLite always, PostgreSQL when reachable.
    pub async fn all(test: &str) -> Vec<Self> {
        let mut databases = vec![Self::sqlite()];
        databases.extend(Self::postgres(test).await);
        databases
    }

    /// A SQLite file `kestrel.sqlite` in a new temporary directory.
    #[must_use]
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory for the test database");
        let path = dir.path().join("kestrel.sqlite");
        Self::Sqlite { path, dir }
    }

    /// A PostgreSQL schema of the test's own, or `None` (after saying so) when the server is
    /// unreachable and services are not required.
    pub async fn postgres(test: &str) -> Option<Self> {
        PgSchema::create(test)
            .await
            .map(|schema| Self::Postgres(Box::new(schema)))
    }

    /// `sqlite` or `postgres`, for assertion messages.
    #[must_use]
    pub const fn label(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// The `[store]` settings that reach this database (`Store::open` takes them).
    #[must_use]
    pub fn store_config(&self) -> StoreConfig {
        match self {
            Self::Sqlite { path, dir } => StoreConfig {
                backend: StoreBackend::Sqlite,
                data_dir: dir.path().to_path_buf(),
                sqlite_path: path.clone(),
                postgres_url: None,
            },
            Self::Postgres(schema) => StoreConfig {
                backend: StoreBackend::Postgres,
                postgres_url: Some(Secret::new(schema.url())),
                ..StoreConfig::default()
            },
        }
    }

    /// The SQLite file, for SQLite databases.
    #[must_use]
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite { path, .. } => Some(path),
            Self::Postgres(_) => None,
        }
    }

    /// The PostgreSQL schema, for PostgreSQL databases.
    #[must_use]
    pub fn postgres_schema(&self) -> Option<&PgSchema> {
        match self {
            Self::Sqlite { .. } => None,
            Self::Postgres(schema) => Some(schema),
        }
    }

    /// Runs one SQL statement on a connection of its own (to tamper with the database the way
    /// another process or an operator would).
    pub async fn execute(&self, sql: &str) {
        let sql = AssertSqlSafe(sql.to_owned());
        match self {
            Self::Sqlite { path, .. } => {
                let mut conn = sqlite_connection(path).await;
                sqlx::query(sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            Self::Postgres(schema) => {
                let mut conn = schema.connection().await;
                sqlx::query(sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
    }

    /// Runs a query returning one text value, on a connection of its own.
    pub async fn query_text(&self, sql: &str) -> String {
        let sql = AssertSqlSafe(sql.to_owned());
        match self {
            Self::Sqlite { path, .. } => {
                let mut conn = sqlite_connection(path).await;
                let text: String = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                text
            }
            Self::Postgres(schema) => {
                let mut conn = schema.connection().await;
                let text: String = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                text
            }
        }
    }
}

async fn sqlite_connection(path: &Path) -> SqliteConnection {
    let url = format!("sqlite://{}", path.display());
    SqliteConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot open the test database {}: {e}", path.display()))
}

/// A schema created for one test and dropped (with everything in it) when this is dropped.
#[derive(Debug)]
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
    #[must_use]
    pub fn options(&self) -> PgConnectOptions {
        self.admin
            .clone()
            .options([("search_path", self.name.as_str())])
    }

    /// A URL reaching this schema (the test server's URL with `options[search_path]`).
    #[must_use]
    pub fn url(&self) -> String {
        let url = postgres_url();
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options[search_path]={}", self.name)
    }

    /// The schema's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    async fn connection(&self) -> PgConnection {
        PgConnection::connect_with(&self.options())
            .await
            .unwrap_or_else(|e| panic!("cannot connect to test schema {}: {e}", self.name))
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
