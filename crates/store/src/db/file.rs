//! [`StoreFile`]: a SQLite store's file, written synchronously — the execution engine's
//! write-ahead journal and its order and fill writes with no async driver in between.
//!
//! # Why a second way into the same tables
//!
//! sqlx runs each SQLite statement on a worker thread of the connection's own and hands the
//! result back through the async runtime. A caller that must wait for the write anyway (the
//! execution engine's journal thread, before an order goes to the venue) then pays two thread
//! hand-offs per statement and the pool's bookkeeping on top of the statement itself — on a
//! busy host, more than the statement; and a writer that holds the store's write lock
//! (the order and fill persister) holds it that much longer, while the journal waits. A
//! `StoreFile` holds a plain SQLite connection to the store's file and runs every call on the
//! calling thread. Its commits return once they are in the write-ahead log
//! (`synchronous = NORMAL`, as the store's pool), but for the journal's send mark, which must
//! reach the disk before the order is sent ([`crate::db`], "Durability"): that one statement
//! runs with `synchronous = FULL`. One connection for both, not one of each: a connection that
//! sees another's commit drops its page cache and reads the pages again.
//!
//! The statements, the rules and the errors are those of the [`Store`]'s own API (the same SQL
//! texts): the journal's in `journal::file`, the orders' and fills' in `orders::file`. The
//! contract tests of the execution engine's journal port, and its persistence tests, run on
//! both.
//!
//! # The write lock
//!
//! Every write holds the store's write lock ([`Store::write_lock`]) so that it never meets the
//! process's other writers of the file in SQLite's busy handler. The journal's calls take it
//! themselves and block for it, so they belong on a thread of their own (from inside an async
//! runtime, taking it panics: tokio's `blocking_lock`); the order and fill writes take the
//! caller's guard instead, for a caller that awaited the lock.

use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags, Params, Statement};
use tokio::sync::OwnedMutexGuard;

use super::{SQLITE_BUSY_TIMEOUT, Store, StoreError};

/// A synchronous writer of one SQLite store's file (module docs). `Send`, not `Sync`: one
/// thread uses it.
pub struct StoreFile {
    /// The connection (`synchronous = NORMAL` between statements).
    pub(crate) connection: Connection,
    /// The store's write lock.
    pub(crate) write_gate: Arc<tokio::sync::Mutex<()>>,
    /// The file, for messages.
    target: Arc<str>,
}

impl std::fmt::Debug for StoreFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreFile")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A synchronous writer of this store's file (module [`crate::db::file`]): `Some` on
    /// SQLite, `None` on PostgreSQL, whose writes are [`Store`]'s own API. The store stays
    /// open beside it (it migrated the file; other parts keep writing through it).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] when the file cannot be opened again.
    pub fn file(&self) -> Result<Option<StoreFile>, StoreError> {
        let Some(path) = self.sqlite_path() else {
            return Ok(None);
        };
        let target = Arc::<str>::from(self.target());
        Ok(Some(StoreFile {
            connection: connect(&path, &target)?,
            write_gate: self.write_gate(),
            target,
        }))
    }
}

/// Opens `path` (which the store created and migrated) with the store's settings.
fn connect(path: &Path, target: &Arc<str>) -> Result<Connection, StoreError> {
    let failed = |source| StoreError::Sqlite {
        operation: "open a synchronous connection",
        target: Arc::clone(target),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags).map_err(failed)?;
    connection
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .map_err(failed)?;
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(failed)?;
    connection
        .pragma_update(None, "foreign_keys", true)
        .map_err(failed)?;
    Ok(connection)
}

impl StoreFile {
    /// Whether `writing` guards this store's write lock (a caller's guard for another store's
    /// file is a bug).
    pub(crate) fn holds(&self, writing: &OwnedMutexGuard<()>) -> bool {
        Arc::ptr_eq(OwnedMutexGuard::mutex(writing), &self.write_gate)
    }

    /// A driver error of `operation`.
    pub(crate) fn failed(&self, operation: &'static str, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            operation,
            target: Arc::clone(&self.target),
            source,
        }
    }

    /// Runs `write` with its commit flushed to the disk (`synchronous = FULL`), then sets the
    /// connection back. Should setting it back fail, the write's own outcome still stands
    /// (the later commits would only flush too), and the failure is logged.
    pub(crate) fn flushed<T>(
        &self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.connection.execute_batch("PRAGMA synchronous = FULL")?;
        let written = write(&self.connection);
        if let Err(error) = self.connection.execute_batch("PRAGMA synchronous = NORMAL") {
            tracing::warn!(target: "kestrel::store", %error, file = %self.target, "a synchronous connection stays at synchronous = FULL: its commits now all wait for the disk");
        }
        written
    }
}

/// Every row of `statement` run with `binds`, read with `read` (stepping it to the end, so an
/// insert or update commits before this returns).
pub(crate) fn collect<T>(
    statement: &mut Statement<'_>,
    binds: impl Params,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    statement.query_map(binds, read)?.collect()
}
