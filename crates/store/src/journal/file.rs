//! [`JournalFile`]: the order journal of a SQLite store, called synchronously — the order
//! path's write-ahead with no async driver in between.
//!
//! # Why a second way into the same tables
//!
//! sqlx runs each SQLite statement on a worker thread of the connection's own and hands the
//! result back through the async runtime. A caller that must wait for the write anyway (the
//! execution engine's journal thread, before an order goes to the venue) then pays two thread
//! hand-offs per statement and the pool's bookkeeping on top of the statement itself — on a
//! busy host, more than the statement. A `JournalFile` holds a plain SQLite connection to the
//! store's file and runs every call on the calling thread. Its commits return once they are in
//! the write-ahead log (`synchronous = NORMAL`, as the store's pool), but for the send mark's,
//! which must reach the disk before the order is sent ([`crate::db`], "Durability"): that one
//! statement runs with `synchronous = FULL`. One connection for both, not one of each: a
//! connection that sees another's commit drops its page cache and reads the pages again.
//!
//! The statements, the transition table, the race-safety and the errors are those of the
//! [`Store`]'s journal API (the same `sql` texts); the contract tests of the execution
//! engine's journal port run on both.
//!
//! # Where to call it from
//!
//! Each write takes the store's write lock ([`Store::write_lock`]) so that it never meets the
//! process's other writers of the file in SQLite's busy handler. Free, the lock is taken at
//! once from any thread, a tokio worker's included: that is the order path's case, and a
//! caller on a worker saves the hand-off to a thread of the journal's. Held by another
//! writer, it is waited for, parked. On a worker of a multi-threaded runtime the wait runs in
//! `block_in_place`: the worker's other tasks move to another thread meanwhile, so a holder
//! that is itself a task of that runtime (the market-data recorder's writer, between two
//! `.await`s of its transaction) still runs, even when every other worker is blocked — on the
//! engine's lock the waiting caller holds, say. On a current-thread runtime, where neither
//! parking nor `block_in_place` is allowed, it is polled with short sleeps.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use kestrel_model::order::OrderRequest;
use rusqlite::{Connection, OpenFlags, Params, Statement, params};
use serde::Serialize;
use tokio::runtime::RuntimeFlavor;

use super::rows::{Change, IntentRow, NewIntentRow};
use super::sequence::{raised_sequence, reserved_block};
use super::{Begin, Intent, IntentState, client_id_taken, existing, refusal, sql};
use crate::db::convert::to_i64;
use crate::db::{SQLITE_BUSY_TIMEOUT, Store, StoreError};

/// The longest pause between two looks at a held write lock from a current-thread runtime.
const MAX_WRITE_LOCK_POLL: std::time::Duration = std::time::Duration::from_micros(100);

/// The synchronous journal of one SQLite store (module docs). `Send`, not `Sync`: one thread
/// uses it.
pub struct JournalFile {
    /// The connection (`synchronous = NORMAL` between statements).
    pub(crate) connection: Connection,
    /// The store's write lock.
    pub(crate) write_gate: Arc<tokio::sync::Mutex<()>>,
    /// The file, for messages.
    target: Arc<str>,
}

impl std::fmt::Debug for JournalFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalFile")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The synchronous journal of this store (module [`crate::journal::file`]): `Some` on
    /// SQLite, `None` on PostgreSQL, whose journal is [`Store`]'s own API. The store stays
    /// open beside it (it migrated the file; other parts keep writing through it).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] when the file cannot be opened again.
    pub fn journal_file(&self) -> Result<Option<JournalFile>, StoreError> {
        let Some(path) = self.sqlite_path() else {
            return Ok(None);
        };
        let target = Arc::<str>::from(self.target());
        Ok(Some(JournalFile {
            connection: connect(&path, &target)?,
            write_gate: self.write_gate(),
            target,
        }))
    }
}

/// Opens `path` (which the store created and migrated) with the store's settings.
fn connect(path: &Path, target: &Arc<str>) -> Result<Connection, StoreError> {
    let failed = |source| StoreError::Sqlite {
        operation: "open the journal's connection",
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
    // Its owner checkpoints when idle (`JournalFile::checkpoint`): no commit of the journal's
    // pays for copying the log into the database.
    connection
        .pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(failed)?;
    Ok(connection)
}

impl JournalFile {
    /// [`Store::begin_intent`], synchronously.
    ///
    /// # Errors
    /// As [`Store::begin_intent`], with [`StoreError::Sqlite`] for the driver's errors.
    pub fn begin_intent(
        &self,
        request: &OrderRequest,
        client_order_id: &str,
        now_ms: u64,
    ) -> Result<Begin, StoreError> {
        self.begin(request, client_order_id, now_ms, None)
    }

    /// [`Store::begin_sent_intent`], synchronously, in one transaction whose commit reaches
    /// the disk before this returns: the intent is inserted and moved to `sent` together, one
    /// flush for both (a repeat or a taken client order id rolls back and writes nothing).
    ///
    /// # Errors
    /// As [`Store::begin_sent_intent`], with [`StoreError::Sqlite`] for the driver's errors.
    pub fn begin_sent_intent(
        &self,
        request: &OrderRequest,
        client_order_id: &str,
        now_ms: u64,
        sent_at_ms: u64,
    ) -> Result<Begin, StoreError> {
        let sent = Change::sent(sent_at_ms)?;
        self.begin(request, client_order_id, now_ms, Some(sent))
    }

    /// Inserts the intent (insert-or-get), moved to `sent` with `sent` in the same flushed
    /// transaction when given.
    fn begin(
        &self,
        request: &OrderRequest,
        client_order_id: &str,
        now_ms: u64,
        sent: Option<Change>,
    ) -> Result<Begin, StoreError> {
        let row = NewIntentRow::new(request, client_order_id, now_ms)?;
        let written = {
            let _writing = self.write_lock();
            match &sent {
                None => insert_intent(&self.connection, &row).map(|rows| rows.into_iter().next()),
                Some(change) => self
                    .flushed(|connection| insert_sent(connection, &row, client_order_id, change)),
            }
        };
        match written {
            Ok(Some(new)) => Ok(Begin::New(new.into_intent()?)),
            Ok(None) => self.existing_intent(&request.request_id),
            Err(source) if is_unique_violation(&source) => {
                self.after_unique_violation(request, client_order_id, source)
            }
            Err(source) => Err(self.failed("journal an order intent", source)),
        }
    }

    /// The store's write lock (module docs, "Where to call it from").
    pub(crate) fn write_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        if let Ok(guard) = self.write_gate.try_lock() {
            return guard;
        }
        match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
            Err(_) => return self.write_gate.blocking_lock(),
            Ok(RuntimeFlavor::MultiThread) => {
                return tokio::task::block_in_place(|| self.write_gate.blocking_lock());
            }
            Ok(_) => {}
        }
        let mut pause = std::time::Duration::from_micros(1);
        loop {
            std::thread::sleep(pause);
            if let Ok(guard) = self.write_gate.try_lock() {
                return guard;
            }
            pause = (pause * 2).min(MAX_WRITE_LOCK_POLL);
        }
    }

    /// Copies what the write-ahead log holds into the database, as far as readers allow
    /// (a passive checkpoint: it waits for no one). The journal's connection makes no
    /// checkpoint on its own, so that none lands on an order's commit: its owner calls this
    /// when no call waits.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.connection
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(|e| self.failed("checkpoint the write-ahead log", e))
    }

    /// [`Store::mark_sent`], synchronously; the move reaches the disk before this returns.
    ///
    /// # Errors
    /// As [`Store::mark_sent`], with [`StoreError::Sqlite`] for the driver's errors.
    pub fn mark_sent(&self, client_order_id: &str, now_ms: u64) -> Result<Intent, StoreError> {
        let change = Change::sent(now_ms)?;
        self.transition(client_order_id, IntentState::Sent, change)
    }

    /// [`Store::record_ack`], synchronously.
    ///
    /// # Errors
    /// As [`Store::record_ack`], with [`StoreError::Sqlite`] for the driver's errors.
    pub fn record_ack<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        venue_order_id: u64,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change::placed(venue_order_id, answer, now_ms)?;
        self.transition(client_order_id, IntentState::Acknowledged, change)
    }

    /// [`Store::record_rejection`], synchronously.
    ///
    /// # Errors
    /// As [`Store::record_rejection`], with [`StoreError::Sqlite`] for the driver's errors.
    pub fn record_rejection<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        code: Option<i64>,
        message: &str,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change::refused(code, message, answer, now_ms)?;
        self.transition(client_order_id, IntentState::Rejected, change)
    }

    /// [`Store::resolve_failed`], synchronously.
    ///
    /// # Errors
    /// As [`Store::resolve_failed`], with [`StoreError::Sqlite`] for the driver's errors.
    pub fn resolve_failed<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        reason: &str,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change::failed(reason, answer, now_ms)?;
        self.transition(client_order_id, IntentState::Failed, change)
    }

    /// [`Store::resolve_adopted`], synchronously.
    ///
    /// # Errors
    /// As [`Store::resolve_adopted`], with [`StoreError::Sqlite`] for the driver's errors.
    pub fn resolve_adopted<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        venue_order_id: u64,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change::placed(venue_order_id, answer, now_ms)?;
        self.transition(client_order_id, IntentState::Adopted, change)
    }

    /// [`Store::unresolved_intents`], synchronously.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], [`StoreError::Corrupt`].
    pub fn unresolved_intents(&self) -> Result<Vec<Intent>, StoreError> {
        intent_rows(&self.connection, sql::UNRESOLVED.sqlite, [])
            .map_err(|e| self.failed("read the unresolved order intents", e))?
            .into_iter()
            .map(IntentRow::into_intent)
            .collect()
    }

    /// [`Store::intent_by_request_id`], synchronously.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], [`StoreError::Corrupt`].
    pub fn intent_by_request_id(&self, request_id: &str) -> Result<Option<Intent>, StoreError> {
        let rows = intent_rows(&self.connection, sql::BY_REQUEST_ID.sqlite, [request_id])
            .map_err(|e| self.failed("read an order intent by request id", e))?;
        rows.into_iter()
            .next()
            .map(IntentRow::into_intent)
            .transpose()
    }

    /// [`Store::intent_by_client_id`], synchronously.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], [`StoreError::Corrupt`].
    pub fn intent_by_client_id(&self, client_order_id: &str) -> Result<Option<Intent>, StoreError> {
        let rows = intent_rows(
            &self.connection,
            sql::BY_CLIENT_ID.sqlite,
            [client_order_id],
        )
        .map_err(|e| self.failed("read an order intent by client order id", e))?;
        rows.into_iter()
            .next()
            .map(IntentRow::into_intent)
            .transpose()
    }

    /// [`Store::next_client_sequence`], synchronously.
    ///
    /// # Errors
    /// As [`Store::next_client_sequence`], with [`StoreError::Sqlite`] for the driver's errors.
    pub fn next_client_sequence(&self, prefix: &str, n: u64) -> Result<Range<u64>, StoreError> {
        let count = to_i64("n", n)?;
        let next = {
            let _writing = self.write_lock();
            scalars(
                &self.connection,
                sql::RESERVE_SEQUENCE.sqlite,
                params![prefix, count, i64::MAX - count],
            )
        }
        .map_err(|e| self.failed("reserve client order id sequence numbers", e))?;
        reserved_block(prefix, n, next.first().copied())
    }

    /// [`Store::raise_client_sequence`], synchronously.
    ///
    /// # Errors
    /// As [`Store::raise_client_sequence`], with [`StoreError::Sqlite`] for the driver's
    /// errors.
    pub fn raise_client_sequence(&self, prefix: &str, at_least: u64) -> Result<u64, StoreError> {
        let floor = to_i64("at_least", at_least)?;
        let next = {
            let _writing = self.write_lock();
            scalars(
                &self.connection,
                sql::RAISE_SEQUENCE.sqlite,
                params![prefix, floor],
            )
        }
        .map_err(|e| self.failed("raise a client order id sequence", e))?;
        raised_sequence(prefix, next.first().copied())
    }

    /// Moves the intent to `to` if its state allows it, in one statement, and returns it; a
    /// move to `sent` commits with a flush.
    fn transition(
        &self,
        client_order_id: &str,
        to: IntentState,
        change: Change,
    ) -> Result<Intent, StoreError> {
        let moved = {
            let _writing = self.write_lock();
            let run =
                |connection: &Connection| move_intent(connection, client_order_id, to, &change);
            if to == IntentState::Sent {
                self.flushed(run)
            } else {
                run(&self.connection)
            }
        }
        .map_err(|e| self.failed("move an order intent", e))?;
        match moved.into_iter().next() {
            Some(row) => row.into_intent(),
            None => Err(self.refusal(client_order_id, to)),
        }
    }

    /// Runs `write` with its commit flushed to the disk (`synchronous = FULL`), then sets the
    /// connection back. Should setting it back fail, the write's own outcome still stands
    /// (the later commits would only flush too), and the failure is logged.
    fn flushed<T>(
        &self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.connection.execute_batch("PRAGMA synchronous = FULL")?;
        let written = write(&self.connection);
        if let Err(error) = self.connection.execute_batch("PRAGMA synchronous = NORMAL") {
            tracing::warn!(target: "kestrel::store", %error, target_file = %self.target, "the journal's connection stays at synchronous = FULL: its commits now all wait for the disk");
        }
        written
    }

    /// Why a move to `to` changed nothing: the intent is elsewhere, or does not exist.
    fn refusal(&self, client_order_id: &str, to: IntentState) -> StoreError {
        refusal(
            client_order_id,
            to,
            self.intent_by_client_id(client_order_id),
        )
    }

    /// The intent a repeated request id conflicted with.
    fn existing_intent(&self, request_id: &str) -> Result<Begin, StoreError> {
        existing(request_id, self.intent_by_request_id(request_id)?)
    }

    /// After a unique violation on insert: the request id is a repeat after all, or the
    /// client order id belongs to another request.
    fn after_unique_violation(
        &self,
        request: &OrderRequest,
        client_order_id: &str,
        source: rusqlite::Error,
    ) -> Result<Begin, StoreError> {
        if let Some(first) = self.intent_by_request_id(&request.request_id)? {
            return Ok(Begin::Existing(first));
        }
        let holder = self.intent_by_client_id(client_order_id)?;
        Err(client_id_taken(request, client_order_id, holder)
            .unwrap_or_else(|| self.failed("journal an order intent", source)))
    }

    /// A driver error of `operation`.
    pub(crate) fn failed(&self, operation: &'static str, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            operation,
            target: Arc::clone(&self.target),
            source,
        }
    }
}

/// The insert-or-nothing of a new intent: its row, or none when the request id is taken.
fn insert_intent(
    connection: &Connection,
    row: &NewIntentRow<'_>,
) -> rusqlite::Result<Vec<IntentRow>> {
    intent_rows(
        connection,
        sql::INSERT_INTENT.sqlite,
        params![
            row.request_id,
            row.client_order_id,
            row.symbol,
            row.side,
            row.order_type,
            row.quantity,
            row.request,
            row.now_ms,
        ],
    )
}

/// The intent inserted and moved to `sent` with `change` in one transaction (committed by the
/// caller's connection settings); `None`, with nothing written, when its request id is taken.
fn insert_sent(
    connection: &Connection,
    row: &NewIntentRow<'_>,
    client_order_id: &str,
    change: &Change,
) -> rusqlite::Result<Option<IntentRow>> {
    let transaction = connection.unchecked_transaction()?;
    if insert_intent(&transaction, row)?.is_empty() {
        return Ok(None);
    }
    // A fresh `pending` intent always moves to `sent`; should it not, all is rolled back.
    let sent = move_intent(&transaction, client_order_id, IntentState::Sent, change)?
        .into_iter()
        .next()
        .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    transaction.commit()?;
    Ok(Some(sent))
}

/// The transition statement: moves the intent of `client_order_id` to `to` with `change` if
/// its state is one the move may come from (none moves to `pending`).
fn move_intent(
    connection: &Connection,
    client_order_id: &str,
    to: IntentState,
    change: &Change,
) -> rusqlite::Result<Vec<IntentRow>> {
    let sources = to.sources();
    let (Some(first), Some(last)) = (sources.first(), sources.last()) else {
        return Ok(Vec::new());
    };
    let binds = params![
        to.as_str(),
        change.venue_order_id,
        change.reject_code,
        change.reason,
        change.answer,
        i64::from(to == IntentState::Sent),
        change.now_ms,
        client_order_id,
        first.as_str(),
        last.as_str(),
    ];
    intent_rows(connection, sql::TRANSITION.sqlite, binds)
}

/// Runs a statement that returns intent rows, stepping it to the end (so an insert or update
/// commits before this returns) and reading every row.
fn intent_rows(
    connection: &Connection,
    text: &str,
    binds: impl Params,
) -> rusqlite::Result<Vec<IntentRow>> {
    let mut statement = connection.prepare_cached(text)?;
    collect(&mut statement, binds, IntentRow::from_sqlite)
}

/// Runs a statement that returns one integer column, stepping it to the end.
fn scalars(connection: &Connection, text: &str, binds: impl Params) -> rusqlite::Result<Vec<i64>> {
    let mut statement = connection.prepare_cached(text)?;
    collect(&mut statement, binds, |row| row.get(0))
}

/// Every row of `statement` run with `binds`, read with `read`.
fn collect<T>(
    statement: &mut Statement<'_>,
    binds: impl Params,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    statement.query_map(binds, read)?.collect()
}

/// Whether SQLite refused a write for a duplicate key.
fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}
