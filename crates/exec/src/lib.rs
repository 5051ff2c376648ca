//! Kestrel's order execution engine (seed 000 FR-OE-001..007, NFR-OE-001..003).
//!
//! This crate owns what happens to an order between a strategy's request and the venue: intake,
//! validation, rate limits, the circuit breaker, idempotency, retries, the order journal port,
//! lifecycle tracking, and the async driver that talks to the venue. It must not own venue
//! protocols (those are `kestrel-venue`'s) or persistence (`kestrel-store`'s: it implements
//! [`journal::Journal`]); and its core never does I/O nor reads the system clock.
//!
//! # The synchronous core
//!
//! Each piece below is a plain state machine or pure function. Time comes in as a
//! [`clock::Nanos`] argument, randomness from a seeded source, so the same inputs give the same
//! decisions live, in the simulator and in a backtest.
//!
//! - [`engine`] — the order manager: orders by client order id, fills deduplicated by
//!   `(symbol, trade id)`, maker/taker counts and commissions; `submit` → "place this", venue
//!   answers, queries, user-stream events and REST reads in → next steps, order updates and
//!   fills out (for `orders.{symbol}` / `fills.{symbol}`).
//! - [`journal`] — the write-ahead order journal port (`pending → sent → acknowledged |
//!   rejected | failed | adopted`) and [`journal::MemoryJournal`].
//! - [`validate`] — the eight pre-trade rules of FR-OE-002 in a fixed, documented order, each
//!   refusal with a stable code and a message naming the rule, the values and the limit. An
//!   order that passes becomes [`validate::Approved`], the only form submission takes.
//! - [`breaker`] — the venue circuit breaker (closed → open → half-open → closed) and its
//!   `circuit_breaker_state` gauge.
//! - [`ratelimit`] — `max_orders_per_second` (never more than N in any second) and the venue's
//!   own order-count and weight windows from its response headers, refusing before the venue
//!   would and saying when the limit frees up.
//! - [`client_id`] — deterministic client order ids that satisfy Binance's rule and survive a
//!   restart (sequence blocks reserved in the journal).
//! - [`retry`] — what to do after a failed send: retry with jittered exponential backoff,
//!   query-then-decide after an unknown outcome (never a blind resend of an order), give up, or
//!   halt on an authentication failure.
//! - [`outcome`] — the venue-independent classification of a failed request that the breaker
//!   and the retry policy share; [`answer`] — the answer to an order request; [`clock`] —
//!   instants and the clock trait.
//!
//! # The async edge
//!
//! [`driver::ExecDriver`] runs the engine against a Binance-protocol venue (Binance, testnet,
//! the Kestrel simulator): placement tasks over `ws-fapi` or REST, the user-data stream with
//! listen-key upkeep, reconnects and REST reconciliation, and start-up recovery of in-flight
//! journal intents. With a store ([`driver::ExecDriver::start_persisted`]) it also records
//! every order change and fill losslessly ([`persist`]) and, after a restart, tracks the orders
//! earlier runs left open and recovers the fills made while no process ran. Conditional orders
//! (stop, take-profit, trailing stop) go to the venue's algo service and are followed through
//! the order their trigger places ([`engine`]). [`publish::EventPublisher`] puts the driver's
//! events on the bus as JSON — `orders.{symbol}` and `fills.{symbol}`, in process and on NATS.
//!
//! ```text
//! OrderRequest ──► Engine::submit ── repeat in this session ──► first answer again
//!                        │ client order id from a journal-reserved block
//!                        ▼
//!                  Validator::validate(request, context, now)
//!                        │ Refused ──► journaled rejection, order_requests_total{result="rejected"}
//!                        ▼ Approved<OrderRequest> (rate slot taken, breaker permit held)
//!                  journal begin_sent (insert-or-get: a repeat gets its first answer, the
//!                        │            approval is released; a new intent is written as sent,
//!                        ▼            one durable write) ──► on_sending ──► venue (driver)
//!                        │ answer / error classified as outcome::FailureClass
//!                        ├─► breaker.record(outcome), venue counters.on_answer(headers)
//!                        └─► RetryPolicy::decide ──► Resend / Query then adopt-resend-fail /
//!                                                    GiveUp / Halt
//! ```

pub mod answer;
pub mod breaker;
pub mod client_id;
pub mod clock;
pub mod context;
pub mod driver;
pub mod engine;
pub mod http;
pub mod journal;
pub mod outcome;
pub mod persist;
pub mod publish;
pub mod ratelimit;
pub mod retry;
mod telemetry;
pub mod validate;

pub use answer::{AnswerResult, OrderAnswer};
pub use breaker::{BreakerState, CircuitBreaker};
pub use client_id::{ClientIdGenerator, ClientOrderId, IdempotencyMap};
pub use clock::{Clock, ManualClock, Nanos};
pub use engine::{Engine, EngineConfig, EngineError, ExecEvent, Submit, VenueFailure, Veto};
pub use journal::{Intent, IntentState, Journal, JournalError, MemoryJournal, StoreJournal};
pub use outcome::{CallOutcome, FailureClass};
pub use ratelimit::{OrderRateLimiter, VenueCounters, VenueLimits, VenueUsage};
pub use retry::{RetryDecision, RetryPolicy};
pub use validate::{Approved, Refused, Rejection, ValidationResult, Validator};
