//! The order journal on a [`StoreFile`]: [`Store`](crate::Store)'s journal API, synchronously, each write
//! taking the store's write lock itself (blocking: call it from a thread of its own, see
//! [`crate::db::file`]).

use std::ops::Range;

use kestrel_model::order::OrderRequest;
use rusqlite::{Connection, Params, params};
use serde::Serialize;

use super::rows::{Change, IntentRow, NewIntentRow};
use super::sequence::{raised_sequence, reserved_block};
use super::{Begin, Intent, IntentState, sql};
use crate::db::StoreError;
use crate::db::convert::{to_i64, to_json};
use crate::db::file::{StoreFile, collect};

impl StoreFile {
    /// [`Store::begin_intent`](crate::Store::begin_intent), synchronously.
    ///
    /// # Errors
    /// As [`Store::begin_intent`](crate::Store::begin_intent), with [`StoreError::Sqlite`] for the driver's errors.
    pub fn begin_intent(
        &self,
        request: &OrderRequest,
        client_order_id: &str,
        now_ms: u64,
    ) -> Result<Begin, StoreError> {
        let row = NewIntentRow::new(request, client_order_id, now_ms)?;
        let inserted = {
            let _writing = self.write_gate.blocking_lock();
            intent_rows(
                &self.connection,
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
        };
        match inserted {
            Ok(rows) => match rows.into_iter().next() {
                Some(new) => Ok(Begin::New(new.into_intent()?)),
                None => self.existing_intent(&request.request_id),
            },
            Err(source) if is_unique_violation(&source) => {
                self.after_unique_violation(request, client_order_id, source)
            }
            Err(source) => Err(self.failed("journal an order intent", source)),
        }
    }

    /// [`Store::mark_sent`](crate::Store::mark_sent), synchronously; the move reaches the disk before this returns.
    ///
    /// # Errors
    /// As [`Store::mark_sent`](crate::Store::mark_sent), with [`StoreError::Sqlite`] for the driver's errors.
    pub fn mark_sent(&self, client_order_id: &str, now_ms: u64) -> Result<Intent, StoreError> {
        let change = Change {
            now_ms: to_i64("now_ms", now_ms)?,
            ..Change::default()
        };
        self.transition(client_order_id, IntentState::Sent, change)
    }

    /// [`Store::record_ack`](crate::Store::record_ack), synchronously.
    ///
    /// # Errors
    /// As [`Store::record_ack`](crate::Store::record_ack), with [`StoreError::Sqlite`] for the driver's errors.
    pub fn record_ack<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        venue_order_id: u64,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change {
            venue_order_id: Some(to_i64("venue_order_id", venue_order_id)?),
            answer: Some(to_json("the answer", answer)?),
            now_ms: to_i64("now_ms", now_ms)?,
            ..Change::default()
        };
        self.transition(client_order_id, IntentState::Acknowledged, change)
    }

    /// [`Store::record_rejection`](crate::Store::record_rejection), synchronously.
    ///
    /// # Errors
    /// As [`Store::record_rejection`](crate::Store::record_rejection), with [`StoreError::Sqlite`] for the driver's errors.
    pub fn record_rejection<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        code: Option<i64>,
        message: &str,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change {
            reject_code: code,
            reason: Some(message.to_owned()),
            answer: Some(to_json("the answer", answer)?),
            now_ms: to_i64("now_ms", now_ms)?,
            ..Change::default()
        };
        self.transition(client_order_id, IntentState::Rejected, change)
    }

    /// [`Store::resolve_failed`](crate::Store::resolve_failed), synchronously.
    ///
    /// # Errors
    /// As [`Store::resolve_failed`](crate::Store::resolve_failed), with [`StoreError::Sqlite`] for the driver's errors.
    pub fn resolve_failed<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        reason: &str,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change {
            reason: Some(reason.to_owned()),
            answer: Some(to_json("the answer", answer)?),
            now_ms: to_i64("now_ms", now_ms)?,
            ..Change::default()
        };
        self.transition(client_order_id, IntentState::Failed, change)
    }

    /// [`Store::resolve_adopted`](crate::Store::resolve_adopted), synchronously.
    ///
    /// # Errors
    /// As [`Store::resolve_adopted`](crate::Store::resolve_adopted), with [`StoreError::Sqlite`] for the driver's errors.
    pub fn resolve_adopted<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        venue_order_id: u64,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change {
            venue_order_id: Some(to_i64("venue_order_id", venue_order_id)?),
            answer: Some(to_json("the answer", answer)?),
            now_ms: to_i64("now_ms", now_ms)?,
            ..Change::default()
        };
        self.transition(client_order_id, IntentState::Adopted, change)
    }

    /// [`Store::unresolved_intents`](crate::Store::unresolved_intents), synchronously.
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

    /// [`Store::intent_by_request_id`](crate::Store::intent_by_request_id), synchronously.
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

    /// [`Store::intent_by_client_id`](crate::Store::intent_by_client_id), synchronously.
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

    /// [`Store::next_client_sequence`](crate::Store::next_client_sequence), synchronously.
    ///
    /// # Errors
    /// As [`Store::next_client_sequence`](crate::Store::next_client_sequence), with [`StoreError::Sqlite`] for the driver's errors.
    pub fn next_client_sequence(&self, prefix: &str, n: u64) -> Result<Range<u64>, StoreError> {
        let count = to_i64("n", n)?;
        let next = {
            let _writing = self.write_gate.blocking_lock();
            scalars(
                &self.connection,
                sql::RESERVE_SEQUENCE.sqlite,
                params![prefix, count, i64::MAX - count],
            )
        }
        .map_err(|e| self.failed("reserve client order id sequence numbers", e))?;
        reserved_block(prefix, n, next.first().copied())
    }

    /// [`Store::raise_client_sequence`](crate::Store::raise_client_sequence), synchronously.
    ///
    /// # Errors
    /// As [`Store::raise_client_sequence`](crate::Store::raise_client_sequence), with [`StoreError::Sqlite`] for the driver's
    /// errors.
    pub fn raise_client_sequence(&self, prefix: &str, at_least: u64) -> Result<u64, StoreError> {
        let floor = to_i64("at_least", at_least)?;
        let next = {
            let _writing = self.write_gate.blocking_lock();
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
        let sources = to.sources();
        let (Some(first), Some(last)) = (sources.first(), sources.last()) else {
            return Err(self.refusal(client_order_id, to));
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
        let moved = {
            let _writing = self.write_gate.blocking_lock();
            let run =
                |connection: &Connection| intent_rows(connection, sql::TRANSITION.sqlite, binds);
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

    /// Why a move to `to` changed nothing: the intent is elsewhere, or does not exist.
    fn refusal(&self, client_order_id: &str, to: IntentState) -> StoreError {
        match self.intent_by_client_id(client_order_id) {
            Ok(Some(intent)) => StoreError::IllegalTransition {
                client_order_id: client_order_id.to_owned(),
                from: intent.state,
                to,
            },
            Ok(None) => StoreError::UnknownIntent {
                key: "client order id",
                value: client_order_id.to_owned(),
            },
            Err(e) => e,
        }
    }

    /// The intent a repeated request id conflicted with.
    fn existing_intent(&self, request_id: &str) -> Result<Begin, StoreError> {
        self.intent_by_request_id(request_id)?
            .map(Begin::Existing)
            .ok_or_else(|| StoreError::UnknownIntent {
                key: "request id",
                value: request_id.to_owned(),
            })
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
        match self.intent_by_client_id(client_order_id)? {
            Some(holder) => Err(StoreError::ClientOrderIdTaken {
                client_order_id: client_order_id.to_owned(),
                request_id: request.request_id.clone(),
                held_by: holder.request_id,
            }),
            None => Err(self.failed("journal an order intent", source)),
        }
    }
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

/// Whether SQLite refused a write for a duplicate key.
fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}
