//! [`MemoryJournal`]: the journal port in memory, for tests, backtests and observation mode.
//! Its behaviour is the contract every implementation keeps (`tests/journal_contract.rs` runs the
//! same bodies on it and on [`super::StoreJournal`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{Begun, Intent, IntentState, Journal, JournalError, NewIntent, check_move};
use crate::answer::OrderAnswer;

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
    use super::*;

    /// Exhaustion is reached by poking the stored next sequence: no caller can reserve 2^64
    /// numbers to get there (the shared contract reaches it with large blocks).
    #[test]
    fn a_sequence_past_u64_max_is_exhausted() {
        let journal = MemoryJournal::new();
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
