//! The order journal: write-ahead order intents and the client order id sequence, what makes
//! order placement exactly-once across crashes (seed 000 NFR-OE-003; seed 001 REQ-WF-001 and its
//! durable execution, without an external workflow engine).
//!
//! # The protocol the execution engine follows
//!
//! 1. Take a client order id from a block reserved with [`Store::next_client_sequence`] (ids
//!    stay unique across restarts because the block is persisted before it is used).
//! 2. [`Store::begin_intent`] with the caller's request: [`Begin::New`] means the intent is now
//!    journaled as `pending` — go on; [`Begin::Existing`] means the request id was seen before
//!    — never place it again: give its stored [`Intent::answer`] if it is resolved, or say it is
//!    in progress.
//! 3. [`Store::mark_sent`] just before the bytes are written (it returns once the move is
//!    durable), and again before every resend.
//! 4. Record the venue's answer: [`Store::record_ack`] or [`Store::record_rejection`]; or
//!    [`Store::resolve_failed`] when the order is given up without having been placed. A
//!    refusal before sending (the engine's own validation) is also [`Store::record_rejection`],
//!    straight from pending.
//! 5. At start-up, resolve every [`Store::unresolved_intents`] by querying the venue by client
//!    order id: found → [`Store::resolve_adopted`]; absent → [`Store::resolve_failed`]. (An order
//!    sent just before a crash can still reach the venue until its `recvWindow` has passed; the
//!    engine should conclude "absent" only after that.)
//!
//! Every move is checked against [`IntentState::can_become`] inside the database statement
//! that makes it, so two racing moves cannot both pass; a refused move is
//! [`StoreError::IllegalTransition`] and changes nothing. The first answer is stored once and
//! never replaced.

mod file;
mod rows;
mod sequence;
mod sql;

pub use file::JournalFile;

use std::fmt;

use kestrel_model::order::OrderRequest;
use serde::Serialize;
use serde::de::DeserializeOwned;

use rows::{Change, INTENTS, IntentRow, NewIntentRow};

use crate::db::convert::truncate;
use crate::db::dialect::{durably, on_backend};
use crate::db::{Store, StoreError};

/// Where an order intent is (see the table in [`IntentState::can_become`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntentState {
    /// Journaled; not handed to the venue yet.
    Pending,
    /// Handed to the venue at least once: the order may exist there.
    Sent,
    /// The venue accepted it under a venue order id.
    Acknowledged,
    /// The venue refused it (error code and message).
    Rejected,
    /// Never placed: given up before sending, or not found at the venue during recovery.
    Failed,
    /// Found at the venue by its client order id during recovery.
    Adopted,
}

impl IntentState {
    /// Every state, in lifecycle order.
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Sent,
        Self::Acknowledged,
        Self::Rejected,
        Self::Failed,
        Self::Adopted,
    ];

    /// The name stored in `order_intents.state`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Acknowledged => "acknowledged",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Adopted => "adopted",
        }
    }

    /// The state a stored name stands for.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }

    /// Whether the intent is final (acknowledged, rejected, failed or adopted); pending and
    /// sent intents are what start-up recovery resolves.
    #[must_use]
    pub const fn is_resolved(self) -> bool {
        !matches!(self, Self::Pending | Self::Sent)
    }

    /// The states a move to `self` may start from — the transition table:
    ///
    /// | to             | from            | by                                      |
    /// |----------------|-----------------|-----------------------------------------|
    /// | `pending`      | (none)          | only [`Store::begin_intent`] creates it |
    /// | `sent`         | pending, sent   | [`Store::mark_sent`] (a resend repeats) |
    /// | `acknowledged` | sent            | [`Store::record_ack`]                   |
    /// | `rejected`     | pending, sent   | [`Store::record_rejection`]             |
    /// | `failed`       | pending, sent   | [`Store::resolve_failed`]               |
    /// | `adopted`      | pending, sent   | [`Store::resolve_adopted`]              |
    ///
    /// The venue can only accept what it was sent, hence `sent` alone before an
    /// acknowledgement; a refusal is the venue's once sent, or the engine's own before sending
    /// (validation); recovery finds or misses an order whatever the journal says, hence both
    /// before a resolution. The four resolved states are final.
    #[must_use]
    pub const fn sources(self) -> &'static [Self] {
        match self {
            Self::Pending => &[],
            Self::Sent | Self::Rejected | Self::Failed | Self::Adopted => {
                &[Self::Pending, Self::Sent]
            }
            Self::Acknowledged => &[Self::Sent],
        }
    }

    /// Whether an intent in state `self` may move to `next` ([`IntentState::sources`]).
    #[must_use]
    pub fn can_become(self, next: Self) -> bool {
        next.sources().contains(&self)
    }

    /// `pending or sent`, for messages.
    pub(crate) fn sources_text(self) -> String {
        let names: Vec<&str> = self.sources().iter().map(|s| s.as_str()).collect();
        if names.is_empty() {
            String::from("none")
        } else {
            names.join(" or ")
        }
    }
}

impl fmt::Display for IntentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One journaled order intent, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// The caller's idempotency key.
    pub request_id: String,
    /// The client order id the order is (or would be) placed under.
    pub client_order_id: String,
    /// The venue symbol.
    pub symbol: String,
    /// The request as it was first journaled.
    pub request: OrderRequest,
    /// Where the intent is.
    pub state: IntentState,
    /// The venue's order id, once acknowledged or adopted.
    pub venue_order_id: Option<u64>,
    /// The venue's error code, when it rejected the order with one.
    pub reject_code: Option<i64>,
    /// The venue's message when rejected, or why the intent was refused or failed.
    pub reason: Option<String>,
    /// The first answer given to the caller (set when the intent is resolved), to be given
    /// again for a repeated request id.
    pub answer: Option<serde_json::Value>,
    /// How many times the order was handed to the venue.
    pub attempts: u64,
    /// When the intent was journaled (caller's clock, ms since the epoch).
    pub created_ms: u64,
    /// When it last changed (caller's clock, ms since the epoch).
    pub updated_ms: u64,
    /// When it was last handed to the venue (the last [`Store::mark_sent`], caller's clock, ms
    /// since the epoch): the start of the venue's acceptance window after an unknown outcome.
    /// `None` until sent.
    pub sent_ms: Option<u64>,
}

impl Intent {
    /// The stored answer as the caller's response type.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the stored JSON is not a `T`.
    pub fn answer_as<T: DeserializeOwned>(&self) -> Result<Option<T>, StoreError> {
        self.answer
            .clone()
            .map(|answer| {
                let answer_text = answer.to_string();
                serde_json::from_value(answer).map_err(|e| StoreError::Corrupt {
                    table: INTENTS,
                    column: "answer",
                    value: truncate(&answer_text),
                    expected: format!(
                        "an answer of the type asked for, for intent {} ({e})",
                        self.client_order_id
                    ),
                })
            })
            .transpose()
    }
}

/// What [`Store::begin_intent`] found for a request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// First sight: the intent is journaled as pending; place the order.
    New(Intent),
    /// Seen before: do not place it again. The intent is the first one, with its own client
    /// order id and request (compare them with the repeat's to spot a reused key), and its
    /// answer once resolved.
    Existing(Intent),
}

impl Begin {
    /// The intent, new or existing.
    #[must_use]
    pub const fn intent(&self) -> &Intent {
        match self {
            Self::New(intent) | Self::Existing(intent) => intent,
        }
    }

    /// The intent, new or existing.
    #[must_use]
    pub fn into_intent(self) -> Intent {
        match self {
            Self::New(intent) | Self::Existing(intent) => intent,
        }
    }

    /// Whether this call journaled the intent.
    #[must_use]
    pub const fn is_new(&self) -> bool {
        matches!(self, Self::New(_))
    }
}

impl Store {
    /// Journals `request` as a pending intent under `client_order_id` at `now_ms`, or returns
    /// the intent already journaled for its request id. Atomic and race-safe: however many
    /// callers race with one request id, exactly one gets [`Begin::New`], and a repeat never
    /// writes a second row (the unique request id decides, inside the database).
    ///
    /// `client_order_id` is authoritative (the request's own optional id is not read).
    ///
    /// # Errors
    /// [`StoreError::ClientOrderIdTaken`] when another request id holds `client_order_id`;
    /// [`StoreError::OutOfRange`], [`StoreError::Encode`], [`StoreError::Query`],
    /// [`StoreError::Corrupt`].
    pub async fn begin_intent(
        &self,
        request: &OrderRequest,
        client_order_id: &str,
        now_ms: u64,
    ) -> Result<Begin, StoreError> {
        let row = NewIntentRow::new(request, client_order_id, now_ms)?;
        let inserted: Result<Vec<IntentRow>, sqlx::Error> =
            on_backend!(self, sql = sql::INSERT_INTENT, |pool| {
                sqlx::query_as(sql)
                    .bind(row.request_id)
                    .bind(row.client_order_id)
                    .bind(row.symbol)
                    .bind(&row.side)
                    .bind(&row.order_type)
                    .bind(&row.quantity)
                    .bind(&row.request)
                    .bind(row.now_ms)
                    .fetch_all(pool)
                    .await
            });
        match inserted {
            Ok(rows) => match rows.into_iter().next() {
                Some(new) => Ok(Begin::New(new.into_intent()?)),
                None => self.existing_intent(&request.request_id).await,
            },
            Err(source) if is_unique_violation(&source) => {
                self.after_unique_violation(request, client_order_id, source)
                    .await
            }
            Err(source) => Err(StoreError::Query {
                operation: "journal an order intent",
                source,
            }),
        }
    }

    /// [`Store::begin_intent`] for a placement about to be written to the venue: a new intent
    /// is then marked sent at `sent_at_ms` ([`Store::mark_sent`]). A repeat or a taken client
    /// order id writes nothing, as with `begin_intent`. (The synchronous
    /// [`JournalFile::begin_sent_intent`](crate::JournalFile::begin_sent_intent) makes both
    /// moves in one flushed commit.)
    ///
    /// # Errors
    /// As [`Store::begin_intent`] and [`Store::mark_sent`].
    pub async fn begin_sent_intent(
        &self,
        request: &OrderRequest,
        client_order_id: &str,
        now_ms: u64,
        sent_at_ms: u64,
    ) -> Result<Begin, StoreError> {
        match self.begin_intent(request, client_order_id, now_ms).await? {
            Begin::New(_) => self
                .mark_sent(client_order_id, sent_at_ms)
                .await
                .map(Begin::New),
            existing @ Begin::Existing(_) => Ok(existing),
        }
    }

    /// Marks the intent as handed to the venue (`pending`/`sent` → `sent`) and counts the
    /// attempt; call it before the bytes are written.
    ///
    /// # Errors
    /// [`StoreError::IllegalTransition`], [`StoreError::UnknownIntent`],
    /// [`StoreError::OutOfRange`], [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn mark_sent(
        &self,
        client_order_id: &str,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change::sent(now_ms)?;
        self.transition(client_order_id, IntentState::Sent, change)
            .await
    }

    /// Records the venue's acceptance (`sent` → `acknowledged`) with its order id and the
    /// answer given to the caller.
    ///
    /// # Errors
    /// As [`Store::mark_sent`], and [`StoreError::Encode`] for an answer that cannot be JSON.
    pub async fn record_ack<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        venue_order_id: u64,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change::placed(venue_order_id, answer, now_ms)?;
        self.transition(client_order_id, IntentState::Acknowledged, change)
            .await
    }

    /// Records a refusal with the answer given to the caller: the venue's (`sent` →
    /// `rejected`), with its error code when it gave one, or the engine's own before sending
    /// (`pending` → `rejected`, no code); `message` says why.
    ///
    /// # Errors
    /// As [`Store::record_ack`].
    pub async fn record_rejection<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        code: Option<i64>,
        message: &str,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change::refused(code, message, answer, now_ms)?;
        self.transition(client_order_id, IntentState::Rejected, change)
            .await
    }

    /// Resolves the intent as never placed (`pending`/`sent` → `failed`), saying why, with the
    /// answer given to the caller.
    ///
    /// # Errors
    /// As [`Store::record_ack`].
    pub async fn resolve_failed<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        reason: &str,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change::failed(reason, answer, now_ms)?;
        self.transition(client_order_id, IntentState::Failed, change)
            .await
    }

    /// Resolves the intent as found at the venue during recovery (`pending`/`sent` →
    /// `adopted`) under its venue order id, with the answer a repeat of the request will get.
    ///
    /// # Errors
    /// As [`Store::record_ack`].
    pub async fn resolve_adopted<A: Serialize + ?Sized>(
        &self,
        client_order_id: &str,
        venue_order_id: u64,
        answer: &A,
        now_ms: u64,
    ) -> Result<Intent, StoreError> {
        let change = Change::placed(venue_order_id, answer, now_ms)?;
        self.transition(client_order_id, IntentState::Adopted, change)
            .await
    }

    /// The pending and sent intents, in the order they were journaled: what start-up recovery
    /// must resolve against the venue by client order id.
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn unresolved_intents(&self) -> Result<Vec<Intent>, StoreError> {
        let rows: Vec<IntentRow> = on_backend!(self, sql = sql::UNRESOLVED, |pool| {
            sqlx::query_as(sql).fetch_all(pool).await
        })
        .map_err(StoreError::query("read the unresolved order intents"))?;
        rows.into_iter().map(IntentRow::into_intent).collect()
    }

    /// The intent journaled for `request_id`, if any.
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn intent_by_request_id(
        &self,
        request_id: &str,
    ) -> Result<Option<Intent>, StoreError> {
        let row: Option<IntentRow> = on_backend!(self, sql = sql::BY_REQUEST_ID, |pool| {
            sqlx::query_as(sql)
                .bind(request_id)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("read an order intent by request id"))?;
        row.map(IntentRow::into_intent).transpose()
    }

    /// The intent journaled under `client_order_id`, if any.
    ///
    /// # Errors
    /// [`StoreError::Query`], [`StoreError::Corrupt`].
    pub async fn intent_by_client_id(
        &self,
        client_order_id: &str,
    ) -> Result<Option<Intent>, StoreError> {
        let row: Option<IntentRow> = on_backend!(self, sql = sql::BY_CLIENT_ID, |pool| {
            sqlx::query_as(sql)
                .bind(client_order_id)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("read an order intent by client order id"))?;
        row.map(IntentRow::into_intent).transpose()
    }

    /// The intent a repeated request id conflicted with (committed, since the conflict was
    /// decided against it).
    async fn existing_intent(&self, request_id: &str) -> Result<Begin, StoreError> {
        existing(request_id, self.intent_by_request_id(request_id).await?)
    }

    /// After a unique violation on insert: the request id is a repeat after all (its
    /// client order id also matched), or the client order id belongs to another request.
    async fn after_unique_violation(
        &self,
        request: &OrderRequest,
        client_order_id: &str,
        source: sqlx::Error,
    ) -> Result<Begin, StoreError> {
        if let Some(first) = self.intent_by_request_id(&request.request_id).await? {
            return Ok(Begin::Existing(first));
        }
        let holder = self.intent_by_client_id(client_order_id).await?;
        Err(
            client_id_taken(request, client_order_id, holder).unwrap_or(StoreError::Query {
                operation: "journal an order intent",
                source,
            }),
        )
    }

    /// Moves the intent to `to` if its state allows it, in one statement, and returns it.
    async fn transition(
        &self,
        client_order_id: &str,
        to: IntentState,
        change: Change,
    ) -> Result<Intent, StoreError> {
        let sources = to.sources();
        let (Some(first), Some(last)) = (sources.first(), sources.last()) else {
            return Err(self.refusal(client_order_id, to).await);
        };
        debug_assert!(sources.len() <= 2, "TRANSITION binds two source states");
        let attempts = i64::from(to == IntentState::Sent);
        // One statement, bound the same way on either backend and for either durability.
        macro_rules! moved {
            ($sql:expr, $executor:expr) => {
                sqlx::query_as($sql)
                    .bind(to.as_str())
                    .bind(change.venue_order_id)
                    .bind(change.reject_code)
                    .bind(change.reason.as_deref())
                    .bind(change.answer.as_deref())
                    .bind(attempts)
                    .bind(change.now_ms)
                    .bind(client_order_id)
                    .bind(first.as_str())
                    .bind(last.as_str())
                    .fetch_all($executor)
                    .await
            };
        }
        // The send mark is the write-ahead record: it alone must reach the disk before the
        // caller goes on (the module docs of `crate::db`, "Durability").
        let rows: Vec<IntentRow> = if to == IntentState::Sent {
            durably!(self, sql::TRANSITION, |sql, conn| moved!(sql, conn))
        } else {
            on_backend!(self, sql = sql::TRANSITION, |pool| moved!(sql, pool))
        }
        .map_err(StoreError::query("move an order intent"))?;
        match rows.into_iter().next() {
            Some(row) => row.into_intent(),
            None => Err(self.refusal(client_order_id, to).await),
        }
    }

    /// Why a move to `to` changed nothing: the intent is elsewhere, or does not exist.
    async fn refusal(&self, client_order_id: &str, to: IntentState) -> StoreError {
        refusal(
            client_order_id,
            to,
            self.intent_by_client_id(client_order_id).await,
        )
    }
}

/// The intent a repeated request id conflicted with, as found by its request id.
fn existing(request_id: &str, found: Option<Intent>) -> Result<Begin, StoreError> {
    found
        .map(Begin::Existing)
        .ok_or_else(|| StoreError::UnknownIntent {
            key: "request id",
            value: request_id.to_owned(),
        })
}

/// After a unique violation of a new request: the client order id belongs to `holder`'s
/// request; `None` when nothing holds it (the violation was something else).
fn client_id_taken(
    request: &OrderRequest,
    client_order_id: &str,
    holder: Option<Intent>,
) -> Option<StoreError> {
    holder.map(|holder| StoreError::ClientOrderIdTaken {
        client_order_id: client_order_id.to_owned(),
        request_id: request.request_id.clone(),
        held_by: holder.request_id,
    })
}

/// Why a move to `to` changed nothing, from the intent found under `client_order_id`: it is
/// elsewhere, or does not exist (or the lookup's own error).
fn refusal(
    client_order_id: &str,
    to: IntentState,
    found: Result<Option<Intent>, StoreError>,
) -> StoreError {
    match found {
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

/// Whether the database refused a write for a duplicate key.
fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_stored_names() {
        for state in IntentState::ALL {
            assert_eq!(IntentState::parse(state.as_str()), Some(state));
            assert_eq!(state.to_string(), state.as_str());
        }
        assert_eq!(IntentState::parse("PENDING"), None);
    }

    #[test]
    fn the_transition_table_is_the_documented_one() {
        use IntentState::*;
        let allowed = [
            (Pending, Sent),
            (Pending, Rejected),
            (Pending, Failed),
            (Pending, Adopted),
            (Sent, Sent),
            (Sent, Acknowledged),
            (Sent, Rejected),
            (Sent, Failed),
            (Sent, Adopted),
        ];
        for from in IntentState::ALL {
            for to in IntentState::ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn resolved_states_are_final_and_nothing_returns_to_pending() {
        for state in IntentState::ALL {
            if state.is_resolved() {
                assert!(IntentState::ALL.iter().all(|to| !state.can_become(*to)));
            }
            assert!(!state.can_become(IntentState::Pending));
            // The TRANSITION statement binds at most two source states.
            assert!(state.sources().len() <= 2);
        }
    }

    #[test]
    fn a_refusal_names_the_states_a_move_may_start_from() {
        let err = StoreError::IllegalTransition {
            client_order_id: String::from("k.1-7"),
            from: IntentState::Acknowledged,
            to: IntentState::Sent,
        };
        assert_eq!(
            err.to_string(),
            "store: order intent k.1-7 is acknowledged; it cannot become sent (only an intent \
             that is pending or sent can)"
        );
    }
}
