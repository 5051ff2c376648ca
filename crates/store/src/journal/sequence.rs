//! The persisted client order id sequence: blocks of numbers reserved per prefix, so ids
//! `{prefix}-{sequence}` stay unique across restarts and between processes sharing a database.

use std::ops::Range;

use super::sql;
use crate::db::convert::{from_i64, to_i64};
use crate::db::dialect::on_backend;
use crate::db::{Store, StoreError};

/// The `client_order_sequences` table's name, for messages.
const SEQUENCES: &str = "client_order_sequences";

impl Store {
    /// Reserves the next `n` sequence numbers of `prefix` (a new prefix starts at 0) and
    /// returns them as `start..start + n`. The reservation is one atomic statement, committed
    /// when this returns: concurrent reservers and later runs get disjoint blocks. Numbers of a
    /// block left unused (a crash, a shutdown) are skipped, never reissued. `n = 0` reserves
    /// nothing and returns the empty range at the next number.
    ///
    /// # Errors
    /// [`StoreError::SequenceExhausted`] when the block would pass `i64::MAX`;
    /// [`StoreError::OutOfRange`] for `n` above `i64::MAX`; [`StoreError::Query`],
    /// [`StoreError::Corrupt`].
    pub async fn next_client_sequence(
        &self,
        prefix: &str,
        n: u64,
    ) -> Result<Range<u64>, StoreError> {
        let count = to_i64("n", n)?;
        // The largest next_seq that still leaves room for `count` more.
        let ceiling = i64::MAX - count;
        // fetch_all, not fetch_optional: an INSERT ... RETURNING is stepped to completion, so
        // SQLite's statement releases its write lock before the connection is reused.
        let next: Vec<i64> = on_backend!(self, sql = sql::RESERVE_SEQUENCE, |pool| {
            sqlx::query_scalar(sql)
                .bind(prefix)
                .bind(count)
                .bind(ceiling)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query(
            "reserve client order id sequence numbers",
        ))?;
        reserved_block(prefix, n, next.first().copied())
    }

    /// Raises `prefix`'s next sequence number to at least `at_least` (never lowers it) and
    /// returns it: for recovery that finds ids at the venue beyond what the database recorded
    /// (a restored backup, another database).
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for `at_least` above `i64::MAX`; [`StoreError::Query`],
    /// [`StoreError::Corrupt`].
    pub async fn raise_client_sequence(
        &self,
        prefix: &str,
        at_least: u64,
    ) -> Result<u64, StoreError> {
        let floor = to_i64("at_least", at_least)?;
        // fetch_all steps the upsert to completion (see `next_client_sequence`).
        let next: Vec<i64> = on_backend!(self, sql = sql::RAISE_SEQUENCE, |pool| {
            sqlx::query_scalar(sql)
                .bind(prefix)
                .bind(floor)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("raise a client order id sequence"))?;
        raised_sequence(prefix, next.first().copied())
    }
}

/// The block `start..end` a reservation of `n` numbers of `prefix` made, from the new next
/// sequence `next` it returned (none: the block would have passed the largest).
pub(super) fn reserved_block(
    prefix: &str,
    n: u64,
    next: Option<i64>,
) -> Result<Range<u64>, StoreError> {
    let Some(end) = next else {
        return Err(StoreError::SequenceExhausted {
            prefix: prefix.to_owned(),
            requested: n,
        });
    };
    let end = from_i64(SEQUENCES, "next_seq", end)?;
    let start = end.checked_sub(n).ok_or_else(|| StoreError::Corrupt {
        table: SEQUENCES,
        column: "next_seq",
        value: end.to_string(),
        expected: format!("at least the {n} just added"),
    })?;
    Ok(start..end)
}

/// The next sequence of `prefix` a raise returned (it always writes a row).
pub(super) fn raised_sequence(prefix: &str, next: Option<i64>) -> Result<u64, StoreError> {
    let next = next.ok_or_else(|| StoreError::Corrupt {
        table: SEQUENCES,
        column: "next_seq",
        value: String::from("(no row)"),
        expected: format!("the row of prefix {prefix:?} the upsert just wrote"),
    })?;
    from_i64(SEQUENCES, "next_seq", next)
}
