//! The order manager: the synchronous core of execution (seed 000 FR-OE-001..006, NFR-OE-003).
//!
//! [`Engine`] holds every order of the session by client order id (the model's [`Order`]
//! state machine), the fills already applied by `(symbol, trade id)`, maker/taker counts and
//! commissions. It does no I/O and never reads the system clock: the driver (or a test, or a
//! backtest) calls it with what happened and the current instant, and it answers with what to
//! do next — "send this order", "query this client order id after 200 ms", "done, here is the
//! answer". Order updates and fills it produces are appended to an outbox the caller drains
//! with [`Engine::take_events`] and publishes on `orders.{symbol}` / `fills.{symbol}`.
//!
//! # One placement, step by step
//!
//! ```text
//! submit ── halted / Validator refusal ──► journal.begin + record_rejection, Refused
//!   ▼ Approved
//! journal.begin_sent (insert-or-get) ── repeat ──► Repeat(first answer) / InProgress
//!   │ new (journaled as sent: one durable write)
//!   ▼
//! Place(NewOrder) ──► on_sending (journal.mark_sent for a resend) ──► wire ──► on_place_answer
//!        ▲                                                            │
//!        │ Resend{after}   ◄── 429, 503, refused connection ──────────┤
//!        │                                                            │ timeout, lost connection,
//!        │                       Query{after} ◄───────────────────────┤ 5xx of unknown outcome
//!        │                           │ query by client order id       │
//!        │                           ▼                                ▼
//!        └── absent, window passed ◄ on_lookup ── found ──► Done(Accepted{adopted})
//!                                    │ absent, no attempt left ──► Done(Failed{not_placed})
//! ```
//!
//! After a restart, the orders earlier runs left open come back through [`Engine::restore`]
//! (from the store) or are adopted when the venue reports them ([`Engine::on_rest_order`]), and
//! fill recovery resumes at the last stored trade ([`Engine::resume_fills_at`]).
//!
//! The user stream can settle a placement whose answer is still awaited: an
//! `ORDER_TRADE_UPDATE` or a fill for the client order id proves the order is at the venue.
//! A placement that ends `rejected` or `failed` leaves its [`Order`] `REJECTED`, with the
//! venue's reason or `not placed: …`.
//!
//! Conditional orders (stop, take-profit, trailing stop) go the same way to the venue's algo
//! endpoint, where they wait for their trigger; the order placed at the trigger is followed as
//! theirs ([`AlgoReport`], module `algo`).
//!
//! # Journal writes
//!
//! | step | journal |
//! |---|---|
//! | [`Engine::submit`], approved | `begin_sent` (insert-or-get, the intent written as sent: write-ahead of the first send) |
//! | [`Engine::submit`], refused | `begin` (insert-or-get), then `record_rejection` |
//! | [`Engine::on_sending`] | `mark_sent` before every resend (and before a first send held up past 100 ms) |
//! | venue answer, stream evidence | `record_ack` |
//! | found by query or REST after an unknown outcome | `resolve_adopted` |
//! | venue refusal | `record_rejection` |
//! | given up, breaker open, halted, absent after its window | `resolve_failed` |
//!
//! Refusals are journaled like any first answer, so a repeated request id gets the same
//! refusal back; a caller that wants another try uses a new request id.
//!
//! # Time
//!
//! `now` is a [`Nanos`] counted from the Unix epoch (the driver's `SystemClock`, a backtest's
//! simulated epoch time, a test's [`crate::ManualClock`] set to one): the journal keeps send
//! times in epoch milliseconds because the venue's acceptance window must still be judged after
//! a restart.

mod algo;
mod cancel;
mod lifecycle;
mod placement;
mod restore;
#[cfg(test)]
mod tests;

pub use algo::{AlgoFollowUp, AlgoReport};
pub use cancel::{CancelCommand, CancelOutcome, CancelRefusal};
pub use lifecycle::{FillOutcome, FillStats, TradeOutcome};
pub use placement::{SendGate, Step};
pub use restore::{RestOrder, RestoredOrder};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use kestrel_bus::{SymbolError, Topic};
use kestrel_model::OrderRequest;
use kestrel_model::order::{ExecutionMode, Fill, Order, OrderError, OrderEvent, OrderStatus, Side};
use kestrel_venue::binance::RequestError;
use kestrel_venue::binance::orders::NewOrder;
use rand_chacha::ChaCha8Rng;

use crate::answer::OrderAnswer;
use crate::client_id::{ClientIdError, ClientIdGenerator};
use crate::clock::Nanos;
use crate::journal::{Begun, IntentState, Journal, JournalError, NewIntent};
use crate::outcome::FailureClass;
use crate::ratelimit::{Cost, VenueUsage};
use crate::retry::{FailedAttempt, RequestKind, RetryDecision, RetryPolicy, jitter_source};
use crate::telemetry;
use crate::validate::{OrderContext, Validator};

/// The engine's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// The client order id prefix of this strategy and session
    /// ([`crate::client_id::prefix_for`]).
    pub client_id_prefix: String,
    /// How many client order id sequence numbers one journal reservation covers.
    pub id_block_size: u64,
    /// Retries, backoff and the venue's acceptance window.
    pub retry: RetryPolicy,
    /// Seed of the backoff jitter, so a replay makes the same decisions.
    pub jitter_seed: u64,
}

impl EngineConfig {
    /// Settings with `prefix`, blocks of 1000 ids, `retry` and jitter seed 0.
    #[must_use]
    pub fn new(prefix: impl Into<String>, retry: RetryPolicy) -> Self {
        Self {
            client_id_prefix: prefix.into(),
            id_block_size: 1_000,
            retry,
            jitter_seed: 0,
        }
    }
}

/// Why an engine call failed (a local fault, never a venue answer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The journal failed; the order was not sent.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The client order id prefix or sequence is unusable.
    #[error(transparent)]
    ClientId(#[from] ClientIdError),
    /// No order of this session has the client order id.
    #[error("exec: no order with client order id {client_order_id}")]
    UnknownOrder {
        /// The id looked for.
        client_order_id: String,
    },
}

/// How the venue refused or failed a request, as the driver classified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueFailure {
    /// The class the breaker and the retry policy act on.
    pub class: FailureClass,
    /// The venue's error code, when it gave one.
    pub code: Option<i32>,
    /// What the venue or the transport said.
    pub message: String,
}

impl VenueFailure {
    /// Classifies a Binance client error ([`crate::outcome`]): the outcome of a decode failure
    /// is unknown (the answer came, unreadable), an HTTP error without a Binance body is a
    /// server failure of unknown outcome when 5xx and a refusal otherwise, a closed WebSocket
    /// connection never carried the request.
    #[must_use]
    pub fn from_request_error(error: &RequestError) -> Self {
        let class = match error {
            RequestError::RateLimited { retry_after, .. } => FailureClass::RateLimited {
                retry_after: *retry_after,
            },
            RequestError::IpBanned { retry_after, .. } => FailureClass::IpBanned {
                retry_after: *retry_after,
            },
            RequestError::Auth { .. } => FailureClass::Auth,
            RequestError::NotFound { .. } => FailureClass::NotFound,
            RequestError::Rejected { .. } | RequestError::Invalid { .. } => FailureClass::Rejected,
            RequestError::Server {
                outcome_unknown, ..
            } => FailureClass::Server {
                outcome_unknown: *outcome_unknown,
            },
            RequestError::Http { status, .. } if *status >= 500 => FailureClass::Server {
                outcome_unknown: true,
            },
            RequestError::Http { .. } => FailureClass::Rejected,
            RequestError::Timeout { .. } => FailureClass::Timeout,
            RequestError::Connect { .. } | RequestError::Closed => FailureClass::ConnectFailed,
            RequestError::Transport { .. } | RequestError::Decode { .. } => {
                FailureClass::ConnectionLost
            }
        };
        Self {
            class,
            code: error.code(),
            message: error.to_string(),
        }
    }

    /// A failure of `class` with a message and no venue code (tests, local faults).
    #[must_use]
    pub fn new(class: FailureClass, message: impl Into<String>) -> Self {
        Self {
            class,
            code: None,
            message: message.into(),
        }
    }
}

/// What [`Engine::submit`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submit {
    /// New and approved: send this order ([`Engine::on_sending`] first).
    Place(Placement),
    /// The request id was seen before and answered: this is its first answer.
    Repeat(OrderAnswer),
    /// The request id was seen before and is still being processed: its answer will come.
    InProgress {
        /// The request id.
        request_id: String,
        /// The client order id assigned to it.
        client_order_id: String,
    },
    /// Refused before sending (validation, halt, unsupported request); journaled as rejected.
    Refused(OrderAnswer),
}

/// An order to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The caller's request id.
    pub request_id: String,
    /// The client order id it carries.
    pub client_order_id: String,
    /// The venue order.
    pub order: NewOrder,
}

/// Something the engine publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecEvent {
    /// An order changed (state, venue id, or executed quantity): `orders.{symbol}`.
    Order(Box<Order>),
    /// A fill was applied, exactly once per `(symbol, trade id)`: `fills.{symbol}`.
    Fill(Fill),
}

impl ExecEvent {
    /// The symbol it concerns.
    #[must_use]
    pub fn symbol(&self) -> &str {
        match self {
            Self::Order(order) => &order.request.symbol,
            Self::Fill(fill) => &fill.symbol,
        }
    }

    /// The bus topic: `orders.{symbol}` or `fills.{symbol}`.
    ///
    /// # Errors
    /// [`SymbolError`] when the symbol breaks the bus's symbol rule.
    pub fn topic(&self) -> Result<Topic, SymbolError> {
        match self {
            Self::Order(order) => Topic::orders(&order.request.symbol),
            Self::Fill(fill) => Topic::fills(&fill.symbol),
        }
    }
}

/// The client order id of a submission, and whether the engine generated it (then the
/// generator moves on once the intent is journaled).
struct IdChoice {
    client_order_id: String,
    generated: bool,
}

/// One order of the session and where its placement stands.
#[derive(Debug, Clone)]
struct Tracked {
    order: Order,
    request_id: String,
    intent: IntentState,
    answer: Option<OrderAnswer>,
    approved_at: Option<Nanos>,
    sent_at_ms: Option<u64>,
    /// Sends so far.
    sends: u32,
    /// Queries since the last send.
    queries: u32,
    /// Loaded from the journal at start-up: resolved by query, never resent.
    recovered: bool,
    /// For a conditional order, where it stands at the algo service.
    algo: Option<algo::AlgoTrack>,
}

impl Tracked {
    fn new(order: Order, request_id: String) -> Self {
        let algo = order
            .request
            .order_type
            .is_conditional()
            .then(algo::AlgoTrack::default);
        Self {
            order,
            request_id,
            intent: IntentState::Pending,
            answer: None,
            approved_at: None,
            sent_at_ms: None,
            sends: 0,
            queries: 0,
            recovered: false,
            algo,
        }
    }

    fn symbol(&self) -> &str {
        &self.order.request.symbol
    }

    /// Its id on the order endpoints: the venue order id, or a conditional order's child's.
    fn order_endpoint_id(&self) -> Option<u64> {
        match &self.algo {
            Some(algo) => algo.child,
            None => self.order.venue_order_id,
        }
    }
}

/// The client order ids of the session, reserved from the journal in blocks.
#[derive(Debug, Clone)]
struct Ids {
    prefix: String,
    block_size: u64,
    generator: Option<ClientIdGenerator>,
    block_end: u64,
}

impl Ids {
    /// Whether `client_order_id` is one this engine generates (`{prefix}-{sequence}`), in this
    /// run or an earlier one.
    fn owns(&self, client_order_id: &str) -> bool {
        client_order_id
            .strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|seq| !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()))
    }
}

/// A refusal decided outside the engine, before submission ([`Engine::submit_vetted`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veto {
    /// The stable code of the answer (`risk_{rule}` for the risk manager's rules).
    pub code: String,
    /// Why, in words.
    pub message: String,
}

/// The order manager (module docs).
#[derive(Debug)]
pub struct Engine<J> {
    validator: Validator,
    journal: J,
    retry: RetryPolicy,
    jitter: ChaCha8Rng,
    ids: Ids,
    orders: BTreeMap<String, Tracked>,
    requests: HashMap<String, String>,
    venue_ids: HashMap<(String, u64), String>,
    /// Fills applied, by `(symbol, trade id, side)`: both legs of a self-trade share the id.
    seen_trades: HashSet<(String, u64, Side)>,
    last_trade: BTreeMap<String, u64>,
    /// Per symbol, when the oldest order restored from the store was placed (ms).
    restored_since: BTreeMap<String, u64>,
    parked: BTreeMap<String, Vec<Fill>>,
    stats: FillStats,
    halt: Option<String>,
    events: Vec<ExecEvent>,
    settled: Vec<OrderAnswer>,
    /// Send → acknowledgement times (ms) since [`Engine::take_round_trips`] last took them.
    round_trips: Vec<u64>,
}

/// The most round-trip samples kept between two takes; past it, the last slot keeps the
/// slowest of the rest, which is what a latency breaker needs.
const ROUND_TRIP_SAMPLES: usize = 256;

/// Milliseconds since the Unix epoch of an epoch-based instant.
const fn epoch_ms(now: Nanos) -> u64 {
    now.as_nanos() / 1_000_000
}

impl<J: Journal> Engine<J> {
    /// An engine with no orders.
    ///
    /// # Errors
    /// [`EngineError::ClientId`] when the prefix breaks the client order id rule.
    pub fn new(
        config: EngineConfig,
        validator: Validator,
        journal: J,
    ) -> Result<Self, EngineError> {
        ClientIdGenerator::new(&config.client_id_prefix, 0)?;
        Ok(Self {
            validator,
            journal,
            retry: config.retry,
            jitter: jitter_source(config.jitter_seed),
            ids: Ids {
                prefix: config.client_id_prefix,
                block_size: config.id_block_size.max(1),
                generator: None,
                block_end: 0,
            },
            orders: BTreeMap::new(),
            requests: HashMap::new(),
            venue_ids: HashMap::new(),
            seen_trades: HashSet::new(),
            last_trade: BTreeMap::new(),
            restored_since: BTreeMap::new(),
            parked: BTreeMap::new(),
            stats: FillStats::default(),
            halt: None,
            events: Vec::new(),
            settled: Vec::new(),
            round_trips: Vec::new(),
        })
    }

    /// Takes the venue round trips measured since the last call: for each placement the
    /// venue acknowledged, the time from its (last) send to the answer, in ms, oldest first.
    /// For the risk manager's venue-latency breaker.
    pub fn take_round_trips(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.round_trips)
    }

    /// Records one round trip (see [`Engine::take_round_trips`]).
    fn record_round_trip(&mut self, sent_at_ms: u64, now: Nanos) {
        let sample = epoch_ms(now).saturating_sub(sent_at_ms);
        if self.round_trips.len() < ROUND_TRIP_SAMPLES {
            self.round_trips.push(sample);
        } else if let Some(last) = self.round_trips.last_mut() {
            *last = (*last).max(sample);
        }
    }

    /// The journal.
    #[must_use]
    pub const fn journal(&self) -> &J {
        &self.journal
    }

    /// The validator (its breaker and rate limiters).
    #[must_use]
    pub const fn validator(&self) -> &Validator {
        &self.validator
    }

    /// The validator, to feed it venue usage observed elsewhere.
    pub const fn validator_mut(&mut self) -> &mut Validator {
        &mut self.validator
    }

    /// The retry policy.
    #[must_use]
    pub const fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The order with `client_order_id`, if it belongs to this session.
    #[must_use]
    pub fn order(&self, client_order_id: &str) -> Option<&Order> {
        self.orders.get(client_order_id).map(|t| &t.order)
    }

    /// Every order of the session, by client order id.
    pub fn orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values().map(|t| &t.order)
    }

    /// The client order id bound to `request_id` in this session.
    #[must_use]
    pub fn client_order_id_of(&self, request_id: &str) -> Option<&str> {
        self.requests.get(request_id).map(String::as_str)
    }

    /// The symbols any order of the session trades, and those it has fills on (this session's,
    /// or an earlier run's it resumes at, [`Engine::resume_fills_at`]): what a
    /// reconciliation covers.
    #[must_use]
    pub fn symbols(&self) -> Vec<String> {
        let mut symbols: Vec<String> = self
            .orders
            .values()
            .map(|t| t.symbol().to_owned())
            .chain(self.last_trade.keys().cloned())
            .collect();
        symbols.sort();
        symbols.dedup();
        symbols
    }

    /// The largest trade id applied on `symbol` (where a fill recovery resumes).
    #[must_use]
    pub fn last_trade_id(&self, symbol: &str) -> Option<u64> {
        self.last_trade.get(symbol).copied()
    }

    /// Maker/taker counts and commissions of the fills applied.
    #[must_use]
    pub const fn stats(&self) -> &FillStats {
        &self.stats
    }

    /// Why trading is halted, if it is.
    #[must_use]
    pub fn halted(&self) -> Option<&str> {
        self.halt.as_deref()
    }

    /// Halts trading: every later submit is refused with `trading_halted` and `reason`, and
    /// no order is sent or resent, until [`Engine::resume`]. Logs an error and raises a
    /// critical alert the first time.
    pub fn halt(&mut self, reason: impl Into<String>) {
        if self.halt.is_some() {
            return;
        }
        let reason = reason.into();
        tracing::error!(target: "kestrel::exec", %reason, "trading halted");
        telemetry::halt_alert();
        self.halt = Some(reason);
    }

    /// Lifts a halt (an operator's decision after fixing its cause).
    pub fn resume(&mut self) {
        if let Some(reason) = self.halt.take() {
            tracing::warn!(target: "kestrel::exec", %reason, "trading resumed");
        }
    }

    /// Takes the events produced since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<ExecEvent> {
        std::mem::take(&mut self.events)
    }

    /// Takes the placements settled since the last call (whatever settled them: their own
    /// answer, a query, the user stream, a reconciliation), so callers waiting on a request id
    /// can be answered.
    pub fn take_settled(&mut self) -> Vec<OrderAnswer> {
        std::mem::take(&mut self.settled)
    }

    /// Takes venue rate-limit counters read outside a placement (queries, cancels, another
    /// client on the same IP).
    pub fn observe_usage(&mut self, usage: VenueUsage, now: Nanos) {
        self.validator.venue_mut().observe(usage, now);
    }

    /// Records the outcome of a request that is not a placement (cancel, query) in the breaker.
    pub fn record_outcome(&mut self, failure: Option<&VenueFailure>, now: Nanos) {
        let outcome = failure.map_or(crate::CallOutcome::Success, |f| {
            crate::CallOutcome::Failed(f.class)
        });
        self.record_breaker(outcome, now);
    }

    /// Accepts, refuses or recognises a repeat of `request`, keyed by its `request_id` (module
    /// docs). An approved request is journaled as `sent` (its first send's write-ahead) and
    /// tracked as `PENDING_SUBMIT`; a refused one is journaled with its refusal.
    ///
    /// # Errors
    /// [`EngineError::Journal`] when the intent cannot be written (nothing is sent then).
    pub fn submit(
        &mut self,
        request: OrderRequest,
        ctx: &OrderContext<'_>,
        now: Nanos,
    ) -> Result<Submit, EngineError> {
        self.submit_vetted(request, ctx, now, None)
    }

    /// [`Engine::submit`] with the verdict of a check made outside the engine (the trading
    /// system's risk manager): a `veto` refuses a new request like a failed validation rule —
    /// journaled, so a repeat gets the same refusal — while a repeat of a journaled request
    /// gets its first answer whatever the verdict.
    ///
    /// # Errors
    /// As [`Engine::submit`].
    pub fn submit_vetted(
        &mut self,
        mut request: OrderRequest,
        ctx: &OrderContext<'_>,
        now: Nanos,
        veto: Option<Veto>,
    ) -> Result<Submit, EngineError> {
        if let Some(repeat) = self.tracked_repeat(&request.request_id) {
            return Ok(repeat);
        }
        let generated = request.client_order_id.is_none();
        let client_order_id = match request.client_order_id.clone() {
            Some(id) => id,
            None => self.peek_id()?,
        };
        request.client_order_id = Some(client_order_id.clone());
        let id = IdChoice {
            client_order_id,
            generated,
        };
        let refusal = self
            .precheck(&request)
            .or_else(|| veto.map(|v| (v.code, v.message)));
        if let Some(refusal) = refusal {
            return self.refuse(request, id, now, refusal);
        }
        self.approve(request, id, ctx, now)
    }

    /// Journals the intent of `request` under `id` (insert-or-get), as already sent at
    /// `sent_at_ms` when given ([`Journal::begin_sent`]): `Ok(())` for a new intent,
    /// `Err(reply)` for a request id the journal already holds or a client order id another
    /// request holds.
    fn begin_intent(
        &mut self,
        request: &OrderRequest,
        id: &IdChoice,
        now: Nanos,
        sent_at_ms: Option<u64>,
    ) -> Result<Result<(), Submit>, EngineError> {
        let intent = NewIntent {
            request_id: request.request_id.clone(),
            client_order_id: id.client_order_id.clone(),
            request: request.clone(),
            created_at_ms: epoch_ms(now),
        };
        let begun = match sent_at_ms {
            Some(sent_at_ms) => self.journal.begin_sent(intent, sent_at_ms),
            None => self.journal.begin(intent),
        };
        match begun {
            Ok(Begun::New(_)) => {}
            Ok(Begun::Existing(existing)) => return Ok(Err(journaled_repeat(existing))),
            Err(JournalError::ClientIdTaken {
                client_order_id,
                owner,
            }) => {
                let message =
                    format!("client order id {client_order_id} already belongs to request {owner}");
                let answer = self.unbound_refusal(request, "client_order_id_taken", message);
                return Ok(Err(Submit::Refused(answer)));
            }
            Err(error) => return Err(error.into()),
        }
        if id.generated {
            self.advance_id()?;
        }
        Ok(Ok(()))
    }

    /// Validates a request: approved → journaled as sent (one durable write before the first
    /// send), tracked and to be placed; refused → journaled with its refusal and answered. A
    /// request id the journal already holds gets its first answer, whatever the verdict (an
    /// approval is released then).
    fn approve(
        &mut self,
        request: OrderRequest,
        id: IdChoice,
        ctx: &OrderContext<'_>,
        now: Nanos,
    ) -> Result<Submit, EngineError> {
        let approved = match self.validator.validate(request, ctx, now) {
            Ok(approved) => approved,
            Err(refused) => {
                let code = refused.rejection.code().to_owned();
                let message = refused.rejection.to_string();
                return self.refuse(refused.request, id, now, (code, message));
            }
        };
        let approved_at = approved.approved_at();
        let request = approved.into_inner();
        let order = match NewOrder::from_request(&request) {
            Ok(order) => order,
            Err(error) => {
                self.release_approval(now);
                let refusal = ("invalid_request".to_owned(), error.to_string());
                return self.refuse(request, id, now, refusal);
            }
        };
        let sent_at_ms = epoch_ms(now);
        match self.begin_intent(&request, &id, now, Some(sent_at_ms)) {
            Ok(Ok(())) => Ok(self.track_new(request, order, approved_at, sent_at_ms)),
            Ok(Err(reply)) => {
                self.release_approval(now);
                Ok(reply)
            }
            Err(error) => {
                self.release_approval(now);
                Err(error)
            }
        }
    }

    /// The reply to a request id this session already tracks.
    fn tracked_repeat(&self, request_id: &str) -> Option<Submit> {
        let client_order_id = self.requests.get(request_id)?;
        let tracked = self.orders.get(client_order_id)?;
        Some(match &tracked.answer {
            Some(answer) => Submit::Repeat(answer.clone()),
            None => Submit::InProgress {
                request_id: request_id.to_owned(),
                client_order_id: client_order_id.clone(),
            },
        })
    }

    /// Refusals that come before validation: a halt, an unsupported execution mode.
    fn precheck(&self, request: &OrderRequest) -> Option<(String, String)> {
        if let Some(reason) = &self.halt {
            return Some((
                "trading_halted".to_owned(),
                format!("trading is halted: {reason}"),
            ));
        }
        if request.execution_mode != ExecutionMode::Live {
            return Some((
                "execution_mode_unsupported".to_owned(),
                format!(
                    "execution mode {:?} is not served by the live order engine",
                    request.execution_mode
                ),
            ));
        }
        None
    }

    /// Journals the intent of a refused request with its refusal and answers it (a request id
    /// the journal already holds gets its first answer instead).
    fn refuse(
        &mut self,
        request: OrderRequest,
        id: IdChoice,
        now: Nanos,
        (code, message): (String, String),
    ) -> Result<Submit, EngineError> {
        if let Err(reply) = self.begin_intent(&request, &id, now, None)? {
            return Ok(reply);
        }
        let answer = OrderAnswer::Rejected {
            request_id: request.request_id.clone(),
            client_order_id: Some(id.client_order_id),
            code,
            message,
        };
        self.journal
            .record_rejection(&request.request_id, &answer)?;
        telemetry::answer(&answer);
        Ok(Submit::Refused(answer))
    }

    /// A refusal that could not be journaled (no intent was begun).
    fn unbound_refusal(&self, request: &OrderRequest, code: &str, message: String) -> OrderAnswer {
        let answer = OrderAnswer::Rejected {
            request_id: request.request_id.clone(),
            client_order_id: None,
            code: code.to_owned(),
            message,
        };
        telemetry::answer(&answer);
        answer
    }

    /// Gives back what an approval took when its order will not be sent.
    fn release_approval(&mut self, now: Nanos) {
        self.validator
            .venue_mut()
            .on_answer(Cost::ORDER, VenueUsage::default(), now);
        self.validator
            .breaker_mut()
            .apply(crate::breaker::Effect::Neutral, now);
    }

    /// Starts tracking an approved order as `PENDING_SUBMIT`.
    fn track_new(
        &mut self,
        request: OrderRequest,
        order: NewOrder,
        approved_at: Nanos,
        sent_at_ms: u64,
    ) -> Submit {
        let client_order_id = order.client_order_id.clone();
        let request_id = request.request_id.clone();
        let mut tracked = Tracked::new(
            Order::new(request, client_order_id.clone()),
            request_id.clone(),
        );
        tracked.approved_at = Some(approved_at);
        // Journaled as sent with its intent: the first send writes nothing more.
        tracked.intent = IntentState::Sent;
        tracked.sent_at_ms = Some(sent_at_ms);
        // New → PendingSubmit is always legal.
        let _ = apply_event(&mut tracked, OrderEvent::Queue, &mut self.events);
        self.requests
            .insert(request_id.clone(), client_order_id.clone());
        self.orders.insert(client_order_id.clone(), tracked);
        Submit::Place(Placement {
            request_id,
            client_order_id,
            order,
        })
    }

    /// The next generated client order id, reserving a block from the journal when needed.
    fn peek_id(&mut self) -> Result<String, EngineError> {
        let ids = &mut self.ids;
        let exhausted = ids
            .generator
            .as_ref()
            .is_none_or(|g| g.next_seq() >= ids.block_end);
        if exhausted {
            let first = self
                .journal
                .next_sequence_block(&ids.prefix, ids.block_size)?;
            ids.generator = Some(ClientIdGenerator::new(&ids.prefix, first)?);
            ids.block_end = first.saturating_add(ids.block_size);
        }
        let generator = ids
            .generator
            .as_ref()
            .ok_or_else(|| ClientIdError::SequenceExhausted(ids.prefix.clone()))?;
        Ok(generator.id_for(generator.next_seq()).as_str().to_owned())
    }

    /// Consumes the id [`Engine::peek_id`] returned.
    fn advance_id(&mut self) -> Result<(), EngineError> {
        if let Some(generator) = self.ids.generator.as_mut() {
            generator.next_id()?;
        }
        Ok(())
    }

    /// Records a request outcome in the breaker and publishes a state change.
    fn record_breaker(&mut self, outcome: crate::CallOutcome, now: Nanos) {
        let breaker = self.validator.breaker_mut();
        if let Some(change) = breaker.record(outcome, now) {
            tracing::warn!(
                target: "kestrel::exec",
                from = %change.from,
                to = %change.to,
                "venue circuit breaker changed state"
            );
        }
        breaker.publish(telemetry::BREAKER_SERVICE, now);
    }

    /// The retry decision after request number `attempt` that is not a placement (cancel,
    /// query, listen key) failed, with the engine's seeded jitter.
    pub fn idempotent_retry(&mut self, failure: FailureClass, attempt: u32) -> RetryDecision {
        let failed = FailedAttempt {
            failure,
            kind: RequestKind::Idempotent,
            attempt,
        };
        self.retry.decide(failed, &mut self.jitter)
    }

    /// The backoff before query number `queries` after an unknown outcome.
    fn query_backoff(&mut self, queries: u32) -> Duration {
        self.retry.backoff(queries.max(1), &mut self.jitter)
    }
}

/// The reply to a request id found in the journal but not tracked in this session.
fn journaled_repeat(intent: crate::journal::Intent) -> Submit {
    match intent.answer {
        Some(answer) => Submit::Repeat(answer),
        None => Submit::InProgress {
            request_id: intent.request_id,
            client_order_id: intent.client_order_id,
        },
    }
}

/// Moves one order by `event`; emits its update when anything visible changed.
fn apply_event(
    tracked: &mut Tracked,
    event: OrderEvent,
    events: &mut Vec<ExecEvent>,
) -> Result<bool, OrderError> {
    let order = &mut tracked.order;
    let before = (order.status, order.filled_qty, order.venue_order_id);
    let status = order.apply(event)?;
    let changed = before != (status, order.filled_qty, order.venue_order_id);
    if changed {
        telemetry::status_changed(order, before.0);
        events.push(ExecEvent::Order(Box::new(order.clone())));
    }
    Ok(changed)
}

/// The tracked order of `client_order_id`.
fn tracked_in<'a>(
    orders: &'a mut BTreeMap<String, Tracked>,
    client_order_id: &str,
) -> Result<&'a mut Tracked, EngineError> {
    orders
        .get_mut(client_order_id)
        .ok_or_else(|| EngineError::UnknownOrder {
            client_order_id: client_order_id.to_owned(),
        })
}

/// Whether an order in `status` may still take an `Accept`.
const fn accepts(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Submitted | OrderStatus::PartiallyFilled | OrderStatus::Filled
    )
}
