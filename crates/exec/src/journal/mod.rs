//! The order journal port (NFR-OE-003, seed 001 "durable execution"): every order intent is
//! written before it is sent, so that after a crash each intent can be resolved against the
//! venue and no order is placed twice.
//!
//! # Intent lifecycle
//!
//! ```text
//!            mark_sent           record_ack
//!  Pending ───────────► Sent ─────────────────► Acknowledged
//!     │                  │ ▲  record_rejection
//!     │                  │ └─ mark_sent ──────► Rejected
//!     │                  │    (a resend)        Failed        (resolve_failed)
//!     │                  └────────────────────► Adopted       (resolve_adopted)
//!     └─ record_rejection / resolve_failed / resolve_adopted ─┘
//! ```
//!
//! - `Pending`: journaled, not yet on the wire (a local refusal ends it as `Rejected`).
//! - `Sent`: written to the venue at `sent_at_ms`; the outcome is unknown until an answer.
//!   Marking it sent again records a resend under the same client order id (only after the
//!   venue's acceptance window proved the first send absent, [`crate::retry`]).
//! - `Acknowledged` / `Rejected`: the venue's own answer to the placement.
//! - `Failed`: known not to be at the venue (retries spent, or absent after its window).
//! - `Adopted`: the outcome was unknown and the order was then found at the venue by its
//!   client order id.
//!
//! The last four are final; any move out of them, or a move the diagram lacks, is
//! [`JournalError::IllegalTransition`] and changes nothing. [`check_move`] is the one rule
//! table both implementations apply ([`StoreJournal`] has the store apply the same table inside
//! the statement that makes the move, so racing moves cannot both pass).
//!
//! # Implementations
//!
//! - [`MemoryJournal`] (`memory`): for tests, backtests and observation mode; clones share it.
//! - [`StoreJournal`] (`store`): the durable journal in `kestrel-store` (SQLite or PostgreSQL).
//!   Every call returns once its write is committed: write-ahead, as placement needs.
//!
//! # Why the port is synchronous
//!
//! The engine core is a synchronous state machine and a write-ahead journal must finish its
//! write before the send anyway, so the port is plain function calls. The driver makes them from
//! tokio worker threads under a std mutex, where blocking on the caller's runtime would panic and
//! waiting on I/O that runtime must drive could deadlock (every worker may be blocked on the
//! same mutex). So [`StoreJournal`] owns a thread that makes the store calls (synchronously on
//! SQLite, on a runtime of its own on PostgreSQL) and only blocks the caller on a reply
//! channel, never on the caller's runtime.

mod memory;
mod store;
pub(crate) mod thread;

pub use memory::MemoryJournal;
pub(crate) use store::intent_from_store;
pub use store::{Rows, RowsWriter, StoreJournal};
pub use thread::StoreThreadError;

use std::fmt;

use kestrel_model::OrderRequest;
use serde::{Deserialize, Serialize};

use crate::answer::OrderAnswer;

/// Where an intent is (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentState {
    /// Journaled, not yet sent.
    Pending,
    /// Sent; outcome unknown until answered.
    Sent,
    /// The venue accepted it.
    Acknowledged,
    /// Refused, locally or by the venue.
    Rejected,
    /// Known not to be at the venue.
    Failed,
    /// Found at the venue after an unknown outcome.
    Adopted,
}

impl IntentState {
    /// Whether no further move is possible.
    #[must_use]
    pub const fn is_final(self) -> bool {
        !self.is_unresolved()
    }

    /// Whether start-up recovery must resolve it against the venue (`pending` or `sent`).
    #[must_use]
    pub const fn is_unresolved(self) -> bool {
        matches!(self, Self::Pending | Self::Sent)
    }

    /// The snake-case name stored and logged.
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
}

impl fmt::Display for IntentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an intent may move from `from` to `to` (module docs).
///
/// # Errors
/// [`JournalError::IllegalTransition`] naming the intent and both states.
pub fn check_move(
    request_id: &str,
    from: IntentState,
    to: IntentState,
) -> Result<(), JournalError> {
    use IntentState as S;
    let legal = matches!(
        (from, to),
        (
            S::Pending | S::Sent,
            S::Sent | S::Rejected | S::Failed | S::Adopted
        ) | (S::Sent, S::Acknowledged)
    );
    if legal {
        Ok(())
    } else {
        Err(JournalError::IllegalTransition {
            request_id: request_id.to_owned(),
            from,
            to,
        })
    }
}

/// An intent to write: what [`Journal::begin`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntent {
    /// The caller's idempotency key.
    pub request_id: String,
    /// The client order id the order will carry, fixed for every send and the recovery query.
    pub client_order_id: String,
    /// The request as accepted for processing (with its client order id set).
    pub request: OrderRequest,
    /// When the intent was made, ms since the Unix epoch.
    pub created_at_ms: u64,
}

/// A journaled intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// The caller's idempotency key (unique).
    pub request_id: String,
    /// The client order id (unique).
    pub client_order_id: String,
    /// The request.
    pub request: OrderRequest,
    /// Where it is.
    pub state: IntentState,
    /// When it was made, ms since the Unix epoch.
    pub created_at_ms: u64,
    /// When it was last sent, ms since the Unix epoch: the start of the venue's acceptance
    /// window ([`crate::retry::RetryPolicy::after_query`]).
    pub sent_at_ms: Option<u64>,
    /// How many times it was sent.
    pub sends: u32,
    /// The venue's order id, once known.
    pub venue_order_id: Option<u64>,
    /// The first answer given for it; a repeated request id gets this again.
    pub answer: Option<OrderAnswer>,
}

impl Intent {
    /// A fresh `pending` intent.
    #[must_use]
    pub fn new(new: NewIntent) -> Self {
        Self {
            request_id: new.request_id,
            client_order_id: new.client_order_id,
            request: new.request,
            state: IntentState::Pending,
            created_at_ms: new.created_at_ms,
            sent_at_ms: None,
            sends: 0,
            venue_order_id: None,
            answer: None,
        }
    }

    /// The order's symbol.
    #[must_use]
    pub fn symbol(&self) -> &str {
        &self.request.symbol
    }
}

/// What [`Journal::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// The request id is new: the intent was written as `pending` (as `sent` by
    /// [`Journal::begin_sent`]).
    New(Intent),
    /// The request id was seen before: its intent as it stands (with its first answer, if
    /// any). Nothing was written.
    Existing(Intent),
}

/// Why a journal operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The move is not allowed from the intent's state (module docs).
    #[error("journal: intent {request_id} cannot move from {from} to {to}")]
    IllegalTransition {
        /// The intent.
        request_id: String,
        /// Its state.
        from: IntentState,
        /// The refused target state.
        to: IntentState,
    },
    /// No intent has this request id.
    #[error("journal: no intent with request id {request_id}")]
    Unknown {
        /// The request id looked for.
        request_id: String,
    },
    /// The client order id already belongs to another intent.
    #[error("journal: client order id {client_order_id} already belongs to request {owner}")]
    ClientIdTaken {
        /// The client order id.
        client_order_id: String,
        /// The request id that holds it.
        owner: String,
    },
    /// The client order id sequence of a prefix is exhausted.
    #[error("journal: client order id sequence of prefix {prefix} is exhausted")]
    SequenceExhausted {
        /// The prefix.
        prefix: String,
    },
    /// The storage failed (the store-backed implementation).
    #[error("journal: storage failed: {detail}")]
    Storage {
        /// What failed.
        detail: String,
    },
}

/// The operations exactly-once placement needs (module docs).
pub trait Journal: Send {
    /// Writes `intent` as `pending` unless its request id exists; then returns the existing
    /// intent and writes nothing (insert-or-get).
    ///
    /// # Errors
    /// [`JournalError::ClientIdTaken`] when a different request holds the client order id;
    /// [`JournalError::Storage`].
    fn begin(&self, intent: NewIntent) -> Result<Begun, JournalError>;

    /// [`Journal::begin`] for a placement about to be written to the venue: a new intent is
    /// recorded as sent once at `sent_at_ms`, as [`Journal::mark_sent`] would, so the first
    /// send needs no write of its own. A repeat writes nothing, as with `begin`. The store's
    /// journal makes both moves in one durable write.
    ///
    /// # Errors
    /// As [`Journal::begin`] and [`Journal::mark_sent`].
    fn begin_sent(&self, intent: NewIntent, sent_at_ms: u64) -> Result<Begun, JournalError> {
        let request_id = intent.request_id.clone();
        match self.begin(intent)? {
            Begun::New(_) => self.mark_sent(&request_id, sent_at_ms).map(Begun::New),
            existing @ Begun::Existing(_) => Ok(existing),
        }
    }

    /// Records a send at `sent_at_ms` (ms since the Unix epoch), returning the intent.
    ///
    /// # Errors
    /// [`JournalError::Unknown`], [`JournalError::IllegalTransition`], storage.
    fn mark_sent(&self, request_id: &str, sent_at_ms: u64) -> Result<Intent, JournalError>;

    /// Records the venue's acceptance under `venue_order_id` and the answer given.
    ///
    /// # Errors
    /// As [`Journal::mark_sent`].
    fn record_ack(
        &self,
        request_id: &str,
        venue_order_id: u64,
        answer: &OrderAnswer,
    ) -> Result<(), JournalError>;

    /// Records a refusal (local while `pending`, the venue's once `sent`) and the answer.
    ///
    /// # Errors
    /// As [`Journal::mark_sent`].
    fn record_rejection(&self, request_id: &str, answer: &OrderAnswer) -> Result<(), JournalError>;

    /// Resolves the intent as not placed.
    ///
    /// # Errors
    /// As [`Journal::mark_sent`].
    fn resolve_failed(&self, request_id: &str, answer: &OrderAnswer) -> Result<(), JournalError>;

    /// Resolves the intent as found at the venue under `venue_order_id`.
    ///
    /// # Errors
    /// As [`Journal::mark_sent`].
    fn resolve_adopted(
        &self,
        request_id: &str,
        venue_order_id: u64,
        answer: &OrderAnswer,
    ) -> Result<(), JournalError>;

    /// Every `pending` or `sent` intent, oldest first.
    ///
    /// # Errors
    /// [`JournalError::Storage`].
    fn unresolved(&self) -> Result<Vec<Intent>, JournalError>;

    /// Where the persister's rows go when this journal's thread should write them ([`RowsWriter`],
    /// the store journal's); `None` (the default) leaves the persister to its own store.
    fn rows_writer(&self) -> Option<RowsWriter> {
        None
    }

    /// Reserves `size` client order id sequence numbers of `prefix` and returns the first;
    /// no later call, in this process or after a restart, returns any of them again.
    ///
    /// # Errors
    /// [`JournalError::SequenceExhausted`], storage.
    fn next_sequence_block(&self, prefix: &str, size: u64) -> Result<u64, JournalError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_move_table_matches_the_diagram() {
        use IntentState as S;
        let all = [
            S::Pending,
            S::Sent,
            S::Acknowledged,
            S::Rejected,
            S::Failed,
            S::Adopted,
        ];
        for from in all {
            for to in all {
                let expected = match (from, to) {
                    (S::Pending, S::Acknowledged) => false,
                    (S::Pending | S::Sent, S::Pending) => false,
                    (S::Pending | S::Sent, _) => true,
                    _ => false,
                };
                assert_eq!(
                    check_move("r", from, to).is_ok(),
                    expected,
                    "{from} -> {to}"
                );
            }
        }
    }
}
