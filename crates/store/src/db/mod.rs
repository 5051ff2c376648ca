//! [`Store`]: a connection pool to SQLite or PostgreSQL with Kestrel's schema migrated.
//!
//! Opening a store connects, refuses a schema written by a newer Kestrel, and applies the
//! migrations this build knows (`db::migrate`). Every query is built at run time
//! (`sqlx::query`, `query_as`, `QueryBuilder`), so the crate compiles without a database; each
//! feature module (`market`, ...) keeps the SQL for both backends side by side.
//!
//! # One writer at a time
//!
//! SQLite lets one connection write at a time; a second writer meets a lock and waits in
//! SQLite's busy handler, which sleeps a millisecond or more before it looks again. Several
//! parts of one process write the same file (the order journal, the order and fill
//! persister, the market-data recorder), each with a store of its own, and such a meeting
//! would add a millisecond to an order on its way to the venue. So every store open on one
//! SQLite file in the process shares a fair async lock, [`Store::write_lock`], which those
//! writers hold around each write: a write waits only for the one in hand, and is woken the
//! moment it ends. (PostgreSQL locks rows, not the database.)
//!
//! # Durability
//!
//! A commit returns once it is in the database's write-ahead log, before that log is flushed
//! to the disk (SQLite `synchronous = NORMAL` in WAL mode, PostgreSQL
//! `synchronous_commit = off`): it survives a crash or kill of the process at once, and a
//! power loss or an OS crash once the log is flushed, a moment later. That is enough for
//! everything Kestrel writes but one record: the order journal's send mark, written before an
//! order goes to the venue, which must survive a power loss before the order is sent. That
//! statement commits with a flush ([`dialect::durably!`], on a connection kept for it); since each log is written in
//! order, the flush also makes every earlier commit durable — the intent's own row, and the
//! client order id sequence the order's id came from. What a power loss may still take (an
//! answer, a fill, a snapshot, a market data batch) is either found again from the venue at
//! start-up (an intent left `sent` is resolved by its client order id; fill recovery resumes
//! after the last stored fill) or worth no flush on the hot path (market data).

pub(crate) mod convert;
pub(crate) mod dialect;
mod error;
pub(crate) mod migrate;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::time::Duration;

use kestrel_model::config::{StoreBackend, StoreConfig};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use error::StoreError;

/// The write gates of the SQLite files stores are open on, by path (module docs, "One writer
/// at a time").
static WRITE_GATES: LazyLock<Mutex<HashMap<PathBuf, Weak<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The write gate every store open on the SQLite file at `path` shares.
fn sqlite_write_gate(path: &Path) -> Arc<tokio::sync::Mutex<()>> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut gates = WRITE_GATES.lock().unwrap_or_else(PoisonError::into_inner);
    gates.retain(|_, gate| gate.strong_count() > 0);
    if let Some(gate) = gates.get(&path).and_then(Weak::upgrade) {
        return gate;
    }
    let gate = Arc::default();
    gates.insert(path, Arc::downgrade(&gate));
    gate
}

/// How long a SQLite connection waits for another writer's lock before failing with "busy".
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// SQLite connections: WAL lets readers run beside the one writer; more buys nothing.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
/// PostgreSQL connections per process.
const POSTGRES_MAX_CONNECTIONS: u32 = 8;

/// Kestrel's database: cheap to clone (the pool is shared), safe to use from any task.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    /// Taken around each write transaction by this process's writers of one SQLite file
    /// ([`Store::write_lock`]).
    write_gate: Arc<tokio::sync::Mutex<()>>,
    /// SQLite only: one connection that commits with a flush (`synchronous = FULL`), for the
    /// statements that must reach the disk before they return ([`dialect::durably!`]).
    /// Connected on first use.
    pub(crate) flushing: Option<SqlitePool>,
    /// What the store is connected to, for messages: a path, or `postgres host:port/db`.
    target: Arc<str>,
}

/// The backend's connection pool.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .field("target", &self.target)
            .finish()
    }
}

impl Store {
    /// Opens the store `config` describes: the SQLite file ([`StoreConfig::sqlite_file`]) or the
    /// PostgreSQL server at `postgres_url`, and migrates it.
    ///
    /// # Errors
    /// [`StoreError::MissingPostgresUrl`], and those of [`Store::sqlite`] and
    /// [`Store::postgres`].
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        match config.backend {
            StoreBackend::Sqlite => Self::sqlite(config.sqlite_file()).await,
            StoreBackend::Postgres => {
                let url = config
                    .postgres_url
                    .as_ref()
                    .filter(|url| !url.expose().is_empty())
                    .ok_or(StoreError::MissingPostgresUrl)?;
                Self::postgres(url.expose()).await
            }
        }
    }

    /// Opens (creating it and its parent directories if needed) the SQLite file at `path` in WAL
    /// mode with a busy timeout and foreign keys on, and migrates it.
    ///
    /// # Errors
    /// [`StoreError::CreateDir`], [`StoreError::Connect`], [`StoreError::SchemaTooNew`],
    /// [`StoreError::Migrate`].
    pub async fn sqlite(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let target = path.display().to_string();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            // Once, at start-up: not worth a blocking-pool hop.
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL: commits survive a crash of the process, and the one write that must
            // survive power loss too asks for it (module docs, "Durability").
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true);
        // A connection to a local file does not go stale: no ping before each use, which
        // would cost a round trip to the connection's thread.
        let flushing = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_lazy_with(options.clone().synchronous(SqliteSynchronous::Full));
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_MAX_CONNECTIONS)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Connect {
                target: target.clone(),
                source,
            })?;
        migrate::run_sqlite(&pool, &target).await?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
            write_gate: sqlite_write_gate(path),
            flushing: Some(flushing),
            target: target.into(),
        })
    }

    /// Connects to the PostgreSQL server at `url` (`postgres://user:password@host:port/db`,
    /// with any libpq parameters such as `options=-c search_path=...`) and migrates it.
    ///
    /// # Errors
    /// [`StoreError::Connect`] (also for a malformed URL, which is not echoed: it may hold a
    /// password), [`StoreError::SchemaTooNew`], [`StoreError::Migrate`].
    pub async fn postgres(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|source| StoreError::Connect {
            target: String::from("postgres (malformed URL)"),
            source,
        })?;
        Self::postgres_with(options).await
    }

    /// Connects to PostgreSQL with explicit connect options (for a `search_path`, TLS files,
    /// ...) and migrates it.
    ///
    /// # Errors
    /// [`StoreError::Connect`], [`StoreError::SchemaTooNew`], [`StoreError::Migrate`].
    pub async fn postgres_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let target = format!(
            "postgres {}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or(options.get_username())
        );
        // Commits return before the server's WAL flush (module docs, "Durability").
        let options = options.options([("synchronous_commit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Connect {
                target: target.clone(),
                source,
            })?;
        migrate::run_postgres(&pool, &target).await?;
        Ok(Self {
            pool: Pool::Postgres(pool),
            write_gate: Arc::default(),
            flushing: None,
            target: target.into(),
        })
    }

    /// The write lock of this store's database in this process (module docs, "One writer at
    /// a time"): hold it around a write transaction. Every [`Store`] open on one SQLite file
    /// shares it; a PostgreSQL store has its own, which nothing else waits for.
    pub async fn write_lock(&self) -> tokio::sync::OwnedMutexGuard<()> {
        Arc::clone(&self.write_gate).lock_owned().await
    }

    /// The write lock itself, for a writer that takes it without a runtime
    /// ([`crate::journal::JournalFile`]).
    pub(crate) fn write_gate(&self) -> Arc<tokio::sync::Mutex<()>> {
        Arc::clone(&self.write_gate)
    }

    /// The SQLite file the store is open on; `None` on PostgreSQL.
    pub(crate) fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.pool {
            Pool::Sqlite(pool) => Some(pool.connect_options().get_filename().to_path_buf()),
            Pool::Postgres(_) => None,
        }
    }

    /// Which backend this store uses.
    #[must_use]
    pub const fn backend(&self) -> StoreBackend {
        match self.pool {
            Pool::Sqlite(_) => StoreBackend::Sqlite,
            Pool::Postgres(_) => StoreBackend::Postgres,
        }
    }

    /// What the store is connected to, for messages and `/status`: the SQLite path, or
    /// `postgres host:port/db` (never the URL, which may hold a password).
    #[must_use]
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The newest schema version this build of Kestrel knows.
    #[must_use]
    pub fn known_schema_version(&self) -> i64 {
        match self.pool {
            Pool::Sqlite(_) => migrate::newest_known(&migrate::SQLITE),
            Pool::Postgres(_) => migrate::newest_known(&migrate::POSTGRES),
        }
    }

    /// The newest schema version applied to the database (after opening, equal to
    /// [`Store::known_schema_version`]).
    ///
    /// # Errors
    /// [`StoreError::Query`].
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let applied = match &self.pool {
            Pool::Sqlite(pool) => migrate::sqlite_applied(pool).await?,
            Pool::Postgres(pool) => migrate::postgres_applied(pool).await?,
        };
        Ok(applied.into_iter().max().unwrap_or(0))
    }

    /// Closes every connection, waiting for those in use to be returned. Clones of the store
    /// fail afterwards.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => {
                pool.close().await;
                if let Some(flushing) = &self.flushing {
                    flushing.close().await;
                }
            }
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}
