//! Client order ids and the idempotency map (seed 000 FR-OE-001 step 2, NFR-OE-003).
//!
//! # Client order ids
//!
//! Binance accepts a `newClientOrderId` matching `^[\.A-Z\:/a-z0-9_-]{1,36}$` (§3.3, error
//! `-4015`). Kestrel's ids are `{prefix}-{sequence}`: a prefix naming the strategy and session
//! (at most [`MAX_PREFIX_LEN`] characters of that alphabet) and a decimal sequence number that
//! only grows. The id of an intent is fixed when the intent is first seen, so every retry of it
//! — and the recovery query after a crash — uses the same id; and since the generator starts
//! from a sequence it is given, ids stay unique across restarts once the next sequence is
//! persisted (the order journal does that).
//!
//! # Idempotency
//!
//! [`IdempotencyMap`] maps a caller's request id (its idempotency key) to the client order id
//! assigned to it and to the first answer given: a repeated request id gets that same answer,
//! never a second order. This is the in-memory part; the journal in the store makes it survive
//! a restart.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use kestrel_model::order::check_client_order_id;

/// The longest client order id Binance accepts.
pub const MAX_CLIENT_ORDER_ID_LEN: usize = 36;
/// The longest prefix: room is left for `-` and the 20 digits of any `u64` sequence.
pub const MAX_PREFIX_LEN: usize = MAX_CLIENT_ORDER_ID_LEN - 1 - 20;

/// Why a client order id or prefix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdError {
    /// The text breaks Binance's rule `^[.A-Z:/a-z0-9_-]{1,36}$`.
    #[error("client order id {0:?} must be 1 to 36 characters of A-Z a-z 0-9 . : / _ -")]
    Invalid(String),
    /// The prefix is empty, too long, or uses characters outside the alphabet.
    #[error("client order id prefix {0:?} must be 1 to 15 characters of A-Z a-z 0-9 . : / _")]
    BadPrefix(String),
    /// The sequence is exhausted (`u64::MAX` ids issued).
    #[error("client order id sequence exhausted for prefix {0:?}")]
    SequenceExhausted(String),
}

/// A client order id that satisfies Binance's rule; `Copy`, stored inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientOrderId {
    len: u8,
    bytes: [u8; MAX_CLIENT_ORDER_ID_LEN],
}

impl ClientOrderId {
    /// Checks `text` against Binance's rule and stores it.
    ///
    /// # Errors
    /// [`ClientIdError::Invalid`].
    pub fn parse(text: &str) -> Result<Self, ClientIdError> {
        if check_client_order_id(text).is_err() {
            return Err(ClientIdError::Invalid(text.to_owned()));
        }
        let mut bytes = [0u8; MAX_CLIENT_ORDER_ID_LEN];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(Self {
            // The rule caps the length at 36.
            len: text.len() as u8,
            bytes,
        })
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored, so this cannot fail.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientOrderId({})", self.as_str())
    }
}

impl AsRef<str> for ClientOrderId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

fn is_prefix_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'_')
}

/// A prefix built from free text: a strategy name and a session number, with characters
/// outside the alphabet replaced by `_` and the strategy part shortened so the whole fits
/// [`MAX_PREFIX_LEN`] (`("grid BTC", 7)` → `"grid_BTC.7"`).
#[must_use]
pub fn prefix_for(strategy: &str, session: u32) -> String {
    let session = session.to_string();
    let room = MAX_PREFIX_LEN - 1 - session.len();
    let mut prefix: String = strategy
        .bytes()
        .take(room)
        .map(|b| {
            if is_prefix_byte(b) {
                char::from(b)
            } else {
                '_'
            }
        })
        .collect();
    if prefix.is_empty() {
        prefix.push('k');
    }
    prefix.push('.');
    prefix.push_str(&session);
    prefix
}

/// Deterministic client order ids `{prefix}-{sequence}` (module docs).
#[derive(Debug, Clone)]
pub struct ClientIdGenerator {
    prefix: String,
    next_seq: u64,
}

impl ClientIdGenerator {
    /// Ids with `prefix`, starting at sequence `next_seq` (the persisted next sequence after a
    /// restart, 0 or 1 on a fresh start). `-` is not allowed in the prefix so the sequence can
    /// always be read back.
    ///
    /// # Errors
    /// [`ClientIdError::BadPrefix`].
    pub fn new(prefix: &str, next_seq: u64) -> Result<Self, ClientIdError> {
        let ok = (1..=MAX_PREFIX_LEN).contains(&prefix.len()) && prefix.bytes().all(is_prefix_byte);
        if !ok {
            return Err(ClientIdError::BadPrefix(prefix.to_owned()));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            next_seq,
        })
    }

    /// The prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The sequence the next id will carry: persist it to resume after a restart.
    #[must_use]
    pub const fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The id for sequence `seq` (the same `seq` always gives the same id).
    #[must_use]
    pub fn id_for(&self, seq: u64) -> ClientOrderId {
        let mut bytes = [0u8; MAX_CLIENT_ORDER_ID_LEN];
        let prefix = self.prefix.as_bytes();
        bytes[..prefix.len()].copy_from_slice(prefix);
        bytes[prefix.len()] = b'-';
        let mut digits = [0u8; 20];
        let mut n = seq;
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let start = prefix.len() + 1;
        for (i, digit) in digits[..count].iter().rev().enumerate() {
            bytes[start + i] = *digit;
        }
        ClientOrderId {
            // prefix ≤ 15, '-' and ≤ 20 digits: at most 36.
            len: (start + count) as u8,
            bytes,
        }
    }

    /// The next id, advancing the sequence.
    ///
    /// # Errors
    /// [`ClientIdError::SequenceExhausted`] after `u64::MAX`.
    pub fn next_id(&mut self) -> Result<ClientOrderId, ClientIdError> {
        let seq = self.next_seq;
        self.next_seq = seq
            .checked_add(1)
            .ok_or_else(|| ClientIdError::SequenceExhausted(self.prefix.clone()))?;
        Ok(self.id_for(seq))
    }

    /// The sequence of an id this generator's prefix produced, if it is one (recovery: the
    /// next sequence is one past the largest found in the journal or at the venue).
    #[must_use]
    pub fn sequence_of(&self, id: &str) -> Option<u64> {
        let rest = id.strip_prefix(self.prefix.as_str())?.strip_prefix('-')?;
        let canonical = !rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_digit())
            && (rest == "0" || !rest.starts_with('0'));
        if canonical { rest.parse().ok() } else { None }
    }
}

/// What an idempotency key is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding<A> {
    /// The client order id assigned the first time the key was seen.
    pub client_order_id: ClientOrderId,
    /// The first answer given for it, once there is one.
    pub answer: Option<A>,
}

/// What [`IdempotencyMap::begin`] found for a request id.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin<'a, A> {
    /// First sight: proceed with this newly assigned client order id.
    New(ClientOrderId),
    /// Seen before and still being processed: do not place it again; the answer will follow.
    InProgress(ClientOrderId),
    /// Seen before and answered: give this same answer again.
    Answered(ClientOrderId, &'a A),
}

/// Request id → client order id and first answer, for the most recent `capacity` request ids
/// (module docs). Evicts the oldest request id first.
#[derive(Debug, Clone)]
pub struct IdempotencyMap<A> {
    capacity: usize,
    bindings: HashMap<String, Binding<A>>,
    order: VecDeque<String>,
}

impl<A> IdempotencyMap<A> {
    /// A map remembering the last `capacity` request ids (at least one).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            bindings: HashMap::with_capacity(capacity),
            order: VecDeque::with_capacity(capacity),
        }
    }

    /// Looks `request_id` up; on first sight binds it to the id `assign` gives (the caller's
    /// own client order id, or the generator's next one). `assign` is not called for a repeat.
    ///
    /// # Errors
    /// Whatever `assign` returns; nothing is bound then.
    pub fn begin<E>(
        &mut self,
        request_id: &str,
        assign: impl FnOnce() -> Result<ClientOrderId, E>,
    ) -> Result<Begin<'_, A>, E> {
        if self.bindings.contains_key(request_id) {
            return Ok(match self.bindings.get(request_id) {
                Some(Binding {
                    client_order_id,
                    answer: Some(answer),
                }) => Begin::Answered(*client_order_id, answer),
                Some(binding) => Begin::InProgress(binding.client_order_id),
                None => unreachable_binding(),
            });
        }
        let client_order_id = assign()?;
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.bindings.remove(&oldest);
        }
        self.order.push_back(request_id.to_owned());
        self.bindings.insert(
            request_id.to_owned(),
            Binding {
                client_order_id,
                answer: None,
            },
        );
        Ok(Begin::New(client_order_id))
    }

    /// Records the answer for `request_id`. Only the first answer is kept: returns `false`
    /// (and keeps the first) when one was already recorded or the id is unknown.
    pub fn answer(&mut self, request_id: &str, answer: A) -> bool {
        match self.bindings.get_mut(request_id) {
            Some(binding) if binding.answer.is_none() => {
                binding.answer = Some(answer);
                true
            }
            _ => false,
        }
    }

    /// What `request_id` is bound to, if remembered.
    #[must_use]
    pub fn get(&self, request_id: &str) -> Option<&Binding<A>> {
        self.bindings.get(request_id)
    }

    /// How many request ids are remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no request id is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// `contains_key` was just true; kept out of line so `begin` reads plainly.
#[cold]
fn unreachable_binding<'a, A>() -> Begin<'a, A> {
    debug_assert!(false, "binding vanished between contains_key and get");
    Begin::New(ClientOrderId {
        len: 0,
        bytes: [0; MAX_CLIENT_ORDER_ID_LEN],
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ids_are_prefix_dash_sequence_and_deterministic() {
        let mut ids = ClientIdGenerator::new("mm1.s7", 41).unwrap();
        assert_eq!(ids.next_id().unwrap().as_str(), "mm1.s7-41");
        assert_eq!(ids.next_id().unwrap().as_str(), "mm1.s7-42");
        assert_eq!(ids.next_seq(), 43);
        assert_eq!(ids.id_for(41).as_str(), "mm1.s7-41");
        let restarted = ClientIdGenerator::new("mm1.s7", 43).unwrap();
        assert_eq!(restarted.id_for(43).as_str(), "mm1.s7-43");
    }

    #[test]
    fn longest_prefix_with_largest_sequence_still_fits_36() {
        let ids = ClientIdGenerator::new("abcdefghijklmno", 0).unwrap();
        let id = ids.id_for(u64::MAX);
        assert_eq!(id.as_str().len(), 36);
        assert!(check_client_order_id(id.as_str()).is_ok());
        assert_eq!(ids.sequence_of(id.as_str()), Some(u64::MAX));
    }

    #[test]
    fn bad_prefixes_are_refused() {
        for bad in ["", "has space", "dash-ed", "abcdefghijklmnop", "é"] {
            assert!(
                matches!(
                    ClientIdGenerator::new(bad, 0),
                    Err(ClientIdError::BadPrefix(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn prefix_for_sanitises_free_text() {
        assert_eq!(prefix_for("grid BTC", 7), "grid_BTC.7");
        assert_eq!(prefix_for("", 0), "k.0");
        let long = prefix_for("a-very-long-strategy-name", 4_000_000_000);
        assert!(long.len() <= MAX_PREFIX_LEN, "{long}");
        assert!(ClientIdGenerator::new(&long, 0).is_ok());
    }

    #[test]
    fn sequence_is_read_back_only_from_canonical_ids_of_this_prefix() {
        let ids = ClientIdGenerator::new("mm1", 0).unwrap();
        assert_eq!(ids.sequence_of("mm1-17"), Some(17));
        assert_eq!(ids.sequence_of("mm1-0"), Some(0));
        assert_eq!(ids.sequence_of("mm1-017"), None);
        assert_eq!(ids.sequence_of("mm2-17"), None);
        assert_eq!(ids.sequence_of("mm1-"), None);
        assert_eq!(ids.sequence_of("mm1-1x"), None);
    }

    #[test]
    fn exhausted_sequence_is_an_error_not_a_wrap() {
        let mut ids = ClientIdGenerator::new("p", u64::MAX).unwrap();
        assert!(matches!(
            ids.next_id(),
            Err(ClientIdError::SequenceExhausted(_))
        ));
    }

    #[test]
    fn client_order_id_parse_applies_binance_rule() {
        assert!(ClientOrderId::parse("x:A/b.c_d-9").is_ok());
        assert!(ClientOrderId::parse("").is_err());
        assert!(ClientOrderId::parse(&"a".repeat(37)).is_err());
        assert!(ClientOrderId::parse("no spaces").is_err());
    }

    #[test]
    fn repeated_request_id_gets_the_first_id_and_the_first_answer() {
        let mut ids = ClientIdGenerator::new("s", 1).unwrap();
        let mut map: IdempotencyMap<&str> = IdempotencyMap::new(8);
        let first = match map.begin("req-1", || ids.next_id()).unwrap() {
            Begin::New(id) => id,
            other => panic!("{other:?}"),
        };
        assert_eq!(first.as_str(), "s-1");
        assert_eq!(
            map.begin("req-1", || ids.next_id()).unwrap(),
            Begin::InProgress(first)
        );
        assert!(map.answer("req-1", "accepted"));
        assert!(!map.answer("req-1", "rejected"));
        assert_eq!(
            map.begin("req-1", || ids.next_id()).unwrap(),
            Begin::Answered(first, &"accepted")
        );
        // The generator was not advanced by the repeats.
        assert_eq!(ids.next_seq(), 2);
    }

    #[test]
    fn oldest_request_ids_are_forgotten_first() {
        let mut ids = ClientIdGenerator::new("s", 0).unwrap();
        let mut map: IdempotencyMap<u32> = IdempotencyMap::new(2);
        for key in ["a", "b", "c"] {
            map.begin(key, || ids.next_id()).unwrap();
        }
        assert!(map.get("a").is_none());
        assert!(map.get("b").is_some() && map.get("c").is_some());
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn failed_assignment_binds_nothing() {
        let mut map: IdempotencyMap<u32> = IdempotencyMap::new(2);
        let result = map.begin("a", || Err::<ClientOrderId, _>("no id"));
        assert_eq!(result, Err("no id"));
        assert!(map.is_empty());
        let supplied = ClientOrderId::parse("user-chosen").unwrap();
        assert_eq!(
            map.begin("a", || Ok::<_, Infallible>(supplied)).unwrap(),
            Begin::New(supplied)
        );
    }

    proptest! {
        /// Every id the generator makes satisfies Binance's rule, is unique, and reads back
        /// to its sequence.
        #[test]
        fn generated_ids_satisfy_binance_and_round_trip(
            prefix in "[A-Za-z0-9._:/]{1,15}",
            start in any::<u64>(),
            count in 1usize..50,
        ) {
            let mut ids = ClientIdGenerator::new(&prefix, start).unwrap();
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..count {
                let seq = ids.next_seq();
                let Ok(id) = ids.next_id() else { break };
                prop_assert!(check_client_order_id(id.as_str()).is_ok(), "{}", id);
                prop_assert!(seen.insert(id));
                prop_assert_eq!(ids.sequence_of(id.as_str()), Some(seq));
            }
        }

        /// Free text always makes a usable prefix.
        #[test]
        fn prefix_for_any_text_is_accepted(strategy in ".{0,40}", session in any::<u32>()) {
            let prefix = prefix_for(&strategy, session);
            prop_assert!(ClientIdGenerator::new(&prefix, 0).is_ok(), "{}", prefix);
        }
    }
}
