//! How intents map to `order_intents` rows, shared by both backends.

use kestrel_model::order::OrderRequest;
use serde::Serialize;

use super::{Intent, IntentState};
use crate::db::StoreError;
use crate::db::convert::{from_i64, from_json, to_i64, to_json, variant_name};

/// The `order_intents` table's name, for messages.
pub(super) const INTENTS: &str = "order_intents";

/// A new intent ready to bind (column order of `INSERT_INTENT`).
pub(super) struct NewIntentRow<'a> {
    pub request_id: &'a str,
    pub client_order_id: &'a str,
    pub symbol: &'a str,
    pub side: String,
    pub order_type: String,
    pub quantity: String,
    pub request: String,
    pub now_ms: i64,
}

impl<'a> NewIntentRow<'a> {
    /// The row for `request` under `client_order_id`, written at `now_ms`.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for a time above `i64::MAX`; [`StoreError::Encode`] if the
    /// request cannot be written as JSON.
    pub fn new(
        request: &'a OrderRequest,
        client_order_id: &'a str,
        now_ms: u64,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            request_id: &request.request_id,
            client_order_id,
            symbol: &request.symbol,
            side: variant_name(&request.side),
            order_type: variant_name(&request.order_type),
            quantity: request.quantity.to_string(),
            request: to_json("the order request", request)?,
            now_ms: to_i64("now_ms", now_ms)?,
        })
    }
}

/// What a move writes besides the new state (`TRANSITION`'s `$2`..`$7`); `None` keeps the
/// stored value.
#[derive(Debug, Default)]
pub(super) struct Change {
    pub venue_order_id: Option<i64>,
    pub reject_code: Option<i64>,
    pub reason: Option<String>,
    pub answer: Option<String>,
    pub now_ms: i64,
}

impl Change {
    /// A send at `now_ms`.
    pub fn sent(now_ms: u64) -> Result<Self, StoreError> {
        Ok(Self {
            now_ms: to_i64("now_ms", now_ms)?,
            ..Self::default()
        })
    }

    /// The order is at the venue under `venue_order_id` (acknowledged or adopted), with the
    /// answer given.
    pub fn placed<A: Serialize + ?Sized>(
        venue_order_id: u64,
        answer: &A,
        now_ms: u64,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            venue_order_id: Some(to_i64("venue_order_id", venue_order_id)?),
            ..Self::answered(answer, now_ms)?
        })
    }

    /// A refusal, with the venue's code when it gave one, saying why.
    pub fn refused<A: Serialize + ?Sized>(
        code: Option<i64>,
        message: &str,
        answer: &A,
        now_ms: u64,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            reject_code: code,
            ..Self::failed(message, answer, now_ms)?
        })
    }

    /// Never placed, saying why.
    pub fn failed<A: Serialize + ?Sized>(
        reason: &str,
        answer: &A,
        now_ms: u64,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            reason: Some(reason.to_owned()),
            ..Self::answered(answer, now_ms)?
        })
    }

    /// The answer given, at `now_ms`.
    fn answered<A: Serialize + ?Sized>(answer: &A, now_ms: u64) -> Result<Self, StoreError> {
        Ok(Self {
            answer: Some(to_json("the answer", answer)?),
            ..Self::sent(now_ms)?
        })
    }
}

/// An `order_intents` row as a backend reads it back (JSON as text, integers as `i64`).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct IntentRow {
    request_id: String,
    client_order_id: String,
    symbol: String,
    request: String,
    state: String,
    venue_order_id: Option<i64>,
    reject_code: Option<i64>,
    reason: Option<String>,
    answer: Option<String>,
    attempts: i64,
    created_ms: i64,
    updated_ms: i64,
    sent_ms: Option<i64>,
}

impl IntentRow {
    /// Reads a row of a statement that selects the intent columns in their SQLite order
    /// (`intent_columns_sqlite!`), for the synchronous journal ([`super::JournalFile`]).
    ///
    /// # Errors
    /// rusqlite's, for a column of another type than Kestrel writes.
    pub fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            request_id: row.get(0)?,
            client_order_id: row.get(1)?,
            symbol: row.get(2)?,
            request: row.get(3)?,
            state: row.get(4)?,
            venue_order_id: row.get(5)?,
            reject_code: row.get(6)?,
            reason: row.get(7)?,
            answer: row.get(8)?,
            attempts: row.get(9)?,
            created_ms: row.get(10)?,
            updated_ms: row.get(11)?,
            sent_ms: row.get(12)?,
        })
    }

    /// The stored intent.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a value Kestrel would not have written.
    pub fn into_intent(self) -> Result<Intent, StoreError> {
        let from = |column, value| from_i64(INTENTS, column, value);
        let state = IntentState::parse(&self.state).ok_or_else(|| StoreError::Corrupt {
            table: INTENTS,
            column: "state",
            value: self.state.clone(),
            expected: String::from("pending, sent, acknowledged, rejected, failed or adopted"),
        })?;
        Ok(Intent {
            request: from_json(INTENTS, "request", &self.request)?,
            answer: self
                .answer
                .as_deref()
                .map(|answer| from_json(INTENTS, "answer", answer))
                .transpose()?,
            venue_order_id: self
                .venue_order_id
                .map(|id| from("venue_order_id", id))
                .transpose()?,
            attempts: from("attempts", self.attempts)?,
            created_ms: from("created_ms", self.created_ms)?,
            updated_ms: from("updated_ms", self.updated_ms)?,
            sent_ms: self.sent_ms.map(|ms| from("sent_ms", ms)).transpose()?,
            request_id: self.request_id,
            client_order_id: self.client_order_id,
            symbol: self.symbol,
            state,
            reject_code: self.reject_code,
            reason: self.reason,
        })
    }
}
