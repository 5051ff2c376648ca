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
//! table both implementations apply.
//!
//! # Why the port is synchronous
//!
//! The engine core is a synchronous state machine and a write-ahead journal must finish its
//! write before the send anyway, so the port is plain function calls. [`MemoryJournal`] serves
//! tests and observation mode; the store-backed implementation runs its SQL on a blocking
//! bridge (the engine thread may block; a tokio worker must not, so the driver keeps engine
//! calls short and the store journal is expected to use SQLite's synchronous mode or a
//! dedicated connection thread).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

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
    /// The request id is new: the intent was written as `pending`.
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

    /// Reserves `size` client order id sequence numbers of `prefix` and returns the first;
    /// no later call, in this process or after a restart, returns any of them again.
    ///
    /// # Errors
    /// [`JournalError::SequenceExhausted`], storage.
    fn next_sequence_block(&self, prefix: &str, size: u64) -> Result<u64, JournalError>;
}

#[derive(Debug, Default)]
struct Memory {
    intents: HashMap<String, Intent>,
    client_ids: HashMap<String, String>,
    /// Request ids in the order they were begun.
    order: Vec<String>,
    sequences: BTreeMap<String, u64>,
}

/// The in-memory journal: for tests and observation mode. Clones share the same contents, so
/// a test can hand one clone to an engine and keep another to inspect it, or to start a
/// second engine on it as if after a restart.
#[derive(Debug, Clone, Default)]
pub struct MemoryJournal {
    inner: Arc<Mutex<Memory>>,
}

impl MemoryJournal {
    /// An empty journal.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The intent of `request_id`, if any.
    #[must_use]
    pub fn intent(&self, request_id: &str) -> Option<Intent> {
        self.lock().intents.get(request_id).cloned()
    }

    /// Every intent, in the order they were begun.
    #[must_use]
    pub fn intents(&self) -> Vec<Intent> {
        let memory = self.lock();
        memory
            .order
            .iter()
            .filter_map(|id| memory.intents.get(id).cloned())
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Memory> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies a checked move to one intent.
    fn update(
        &self,
        request_id: &str,
        to: IntentState,
        change: impl FnOnce(&mut Intent),
    ) -> Result<Intent, JournalError> {
        let mut memory = self.lock();
        let intent = memory
            .intents
            .get_mut(request_id)
            .ok_or_else(|| JournalError::Unknown {
                request_id: request_id.to_owned(),
            })?;
        check_move(request_id, intent.state, to)?;
        intent.state = to;
        change(intent);
        Ok(intent.clone())
    }

    /// Resolves with `answer`, keeping the first answer if one was somehow recorded.
    fn resolve(
        &self,
        request_id: &str,
        to: IntentState,
        venue_order_id: Option<u64>,
        answer: &OrderAnswer,
    ) -> Result<(), JournalError> {
        self.update(request_id, to, |intent| {
            if venue_order_id.is_some() {
                intent.venue_order_id = venue_order_id;
            }
            intent.answer.get_or_insert_with(|| answer.clone());
        })
        .map(drop)
    }
}

impl Journal for MemoryJournal {
    fn begin(&self, new: NewIntent) -> Result<Begun, JournalError> {
        let mut memory = self.lock();
        if let Some(existing) = memory.intents.get(&new.request_id) {
            return Ok(Begun::Existing(existing.clone()));
        }
        if let Some(owner) = memory.client_ids.get(&new.client_order_id) {
            return Err(JournalError::ClientIdTaken {
                client_order_id: new.client_order_id,
                owner: owner.clone(),
            });
        }
        let intent = Intent::new(new);
        memory
            .client_ids
            .insert(intent.client_order_id.clone(), intent.request_id.clone());
        memory.order.push(intent.request_id.clone());
        memory
            .intents
            .insert(intent.request_id.clone(), intent.clone());
        Ok(Begun::New(intent))
    }

    fn mark_sent(&self, request_id: &str, sent_at_ms: u64) -> Result<Intent, JournalError> {
        self.update(request_id, IntentState::Sent, |intent| {
            intent.sent_at_ms = Some(sent_at_ms);
            intent.sends = intent.sends.saturating_add(1);
        })
    }

    fn record_ack(
        &self,
        request_id: &str,
        venue_order_id: u64,
        answer: &OrderAnswer,
    ) -> Result<(), JournalError> {
        self.resolve(
            request_id,
            IntentState::Acknowledged,
            Some(venue_order_id),
            answer,
        )
    }

    fn record_rejection(&self, request_id: &str, answer: &OrderAnswer) -> Result<(), JournalError> {
        self.resolve(request_id, IntentState::Rejected, None, answer)
    }

    fn resolve_failed(&self, request_id: &str, answer: &OrderAnswer) -> Result<(), JournalError> {
        self.resolve(request_id, IntentState::Failed, None, answer)
    }

    fn resolve_adopted(
        &self,
        request_id: &str,
        venue_order_id: u64,
        answer: &OrderAnswer,
    ) -> Result<(), JournalError> {
        self.resolve(
            request_id,
            IntentState::Adopted,
            Some(venue_order_id),
            answer,
        )
    }

    fn unresolved(&self) -> Result<Vec<Intent>, JournalError> {
        Ok(self
            .intents()
            .into_iter()
            .filter(|intent| intent.state.is_unresolved())
            .collect())
    }

    fn next_sequence_block(&self, prefix: &str, size: u64) -> Result<u64, JournalError> {
        let mut memory = self.lock();
        let next = memory.sequences.entry(prefix.to_owned()).or_insert(1);
        let first = *next;
        *next = first
            .checked_add(size.max(1))
            .ok_or_else(|| JournalError::SequenceExhausted {
                prefix: prefix.to_owned(),
            })?;
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use kestrel_model::order::{ExecutionMode, OrderType, PositionSide, TimeInForce, WorkingType};
    use kestrel_model::{Price, Qty, Side};

    use super::*;

    fn request(request_id: &str) -> OrderRequest {
        OrderRequest {
            request_id: request_id.to_owned(),
            symbol: "BTCUSDT".to_owned(),
            side: Side::Buy,
            order_type: OrderType::Limit,
            time_in_force: Some(TimeInForce::Gtc),
            price: Some(Price::parse("60000").unwrap()),
            quantity: Qty::parse("0.010").unwrap(),
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

    fn new_intent(request_id: &str, client_order_id: &str) -> NewIntent {
        NewIntent {
            request_id: request_id.to_owned(),
            client_order_id: client_order_id.to_owned(),
            request: request(request_id),
            created_at_ms: 1_000,
        }
    }

    fn accepted(request_id: &str, venue_order_id: u64) -> OrderAnswer {
        OrderAnswer::Accepted {
            request_id: request_id.to_owned(),
            client_order_id: "k-1".to_owned(),
            venue_order_id,
            status: kestrel_model::order::OrderStatus::Submitted,
            adopted: false,
        }
    }

    fn failed(request_id: &str) -> OrderAnswer {
        OrderAnswer::Failed {
            request_id: request_id.to_owned(),
            client_order_id: "k-1".to_owned(),
            code: "not_placed".to_owned(),
            message: "absent".to_owned(),
        }
    }

    #[test]
    fn a_repeated_request_id_returns_the_existing_intent_and_its_first_answer() {
        let journal = MemoryJournal::new();
        assert!(matches!(
            journal.begin(new_intent("r1", "k-1")).unwrap(),
            Begun::New(_)
        ));
        journal.mark_sent("r1", 2_000).unwrap();
        journal.record_ack("r1", 77, &accepted("r1", 77)).unwrap();
        let Begun::Existing(intent) = journal.begin(new_intent("r1", "k-2")).unwrap() else {
            panic!("expected the existing intent");
        };
        assert_eq!(intent.client_order_id, "k-1", "the first client id stays");
        assert_eq!(intent.state, IntentState::Acknowledged);
        assert_eq!(intent.venue_order_id, Some(77));
        assert_eq!(intent.answer, Some(accepted("r1", 77)));
        assert_eq!(journal.intents().len(), 1);
    }

    #[test]
    fn a_client_order_id_cannot_serve_two_requests() {
        let journal = MemoryJournal::new();
        journal.begin(new_intent("r1", "k-1")).unwrap();
        assert_eq!(
            journal.begin(new_intent("r2", "k-1")),
            Err(JournalError::ClientIdTaken {
                client_order_id: "k-1".to_owned(),
                owner: "r1".to_owned()
            })
        );
    }

    #[test]
    fn final_states_are_final_and_illegal_moves_change_nothing() {
        let journal = MemoryJournal::new();
        journal.begin(new_intent("r1", "k-1")).unwrap();
        assert!(matches!(
            journal.record_ack("r1", 1, &accepted("r1", 1)),
            Err(JournalError::IllegalTransition {
                from: IntentState::Pending,
                to: IntentState::Acknowledged,
                ..
            })
        ));
        journal.mark_sent("r1", 5).unwrap();
        journal.resolve_failed("r1", &failed("r1")).unwrap();
        for result in [
            journal.mark_sent("r1", 6).map(drop),
            journal.record_ack("r1", 1, &accepted("r1", 1)),
            journal.resolve_adopted("r1", 1, &accepted("r1", 1)),
            journal.record_rejection("r1", &failed("r1")),
        ] {
            assert!(matches!(
                result,
                Err(JournalError::IllegalTransition {
                    from: IntentState::Failed,
                    ..
                })
            ));
        }
        let intent = journal.intent("r1").unwrap();
        assert_eq!(intent.state, IntentState::Failed);
        assert_eq!(intent.answer, Some(failed("r1")));
        assert_eq!(
            journal.mark_sent("nope", 1),
            Err(JournalError::Unknown {
                request_id: "nope".to_owned()
            })
        );
    }

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

    #[test]
    fn resends_count_and_move_the_window_start() {
        let journal = MemoryJournal::new();
        journal.begin(new_intent("r1", "k-1")).unwrap();
        journal.mark_sent("r1", 10).unwrap();
        let intent = journal.mark_sent("r1", 20).unwrap();
        assert_eq!((intent.sends, intent.sent_at_ms), (2, Some(20)));
    }

    #[test]
    fn unresolved_lists_pending_and_sent_oldest_first() {
        let journal = MemoryJournal::new();
        for (r, k) in [("a", "k-1"), ("b", "k-2"), ("c", "k-3"), ("d", "k-4")] {
            journal.begin(new_intent(r, k)).unwrap();
        }
        journal.mark_sent("b", 1).unwrap();
        journal.mark_sent("c", 1).unwrap();
        journal.record_ack("c", 9, &accepted("c", 9)).unwrap();
        journal.resolve_failed("d", &failed("d")).unwrap();
        let ids: Vec<String> = journal
            .unresolved()
            .unwrap()
            .into_iter()
            .map(|i| i.request_id)
            .collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn sequence_blocks_never_overlap_and_survive_a_clone() {
        let journal = MemoryJournal::new();
        assert_eq!(journal.next_sequence_block("k.1", 100).unwrap(), 1);
        let restarted = journal.clone();
        assert_eq!(restarted.next_sequence_block("k.1", 100).unwrap(), 101);
        assert_eq!(journal.next_sequence_block("other", 5).unwrap(), 1);
        journal
            .lock()
            .sequences
            .insert("k.1".to_owned(), u64::MAX - 1);
        assert!(matches!(
            journal.next_sequence_block("k.1", 5),
            Err(JournalError::SequenceExhausted { .. })
        ));
    }
}
