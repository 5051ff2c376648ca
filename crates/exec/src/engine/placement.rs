//! Sending, answering, querying and recovering one placement (the diagram in the module docs
//! of [`crate::engine`]; the retry table of [`crate::retry`]).

use std::time::Duration;

use kestrel_model::order::{Order, OrderEvent, OrderStatus};
use kestrel_venue::binance::orders::{Placed, VenueOrder};

use super::{
    AlgoReport, Engine, EngineError, ExecEvent, Tracked, VenueFailure, accepts, apply_event,
    epoch_ms, tracked_in,
};
use crate::answer::OrderAnswer;
use crate::clock::Nanos;
use crate::journal::{Intent, IntentState, Journal};
use crate::outcome::{CallOutcome, FailureClass};
use crate::ratelimit::{Cost, VenueUsage};
use crate::retry::{AfterQuery, FailedAttempt, GiveUpReason, RequestKind, RetryDecision};
use crate::telemetry;

/// Whether a send may go ahead ([`Engine::on_sending`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendGate {
    /// Send now; this is send number `attempt`.
    Go {
        /// 1 for the first send.
        attempt: u32,
    },
    /// Do not send: the placement is settled with this answer.
    Stop(OrderAnswer),
}

/// What to do after an answer or a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Settled: give this answer to the caller.
    Done(OrderAnswer),
    /// Send the same order again (same client order id) after this delay.
    Resend {
        /// The wait before [`Engine::on_sending`].
        after: Duration,
    },
    /// Query the client order id after this delay, then call [`Engine::on_query_result`].
    Query {
        /// The wait before the query.
        after: Duration,
    },
}

impl<J: Journal> Engine<J> {
    /// Call right before writing the order to the venue: journals the send (write-ahead) and
    /// moves the order to `SUBMITTED`. A resend must pass the breaker again and is counted
    /// against the venue's windows; a halt stops any send.
    ///
    /// # Errors
    /// [`EngineError::UnknownOrder`]; [`EngineError::Journal`] (do not send then).
    pub fn on_sending(
        &mut self,
        client_order_id: &str,
        now: Nanos,
    ) -> Result<SendGate, EngineError> {
        if let Some(answer) = self.send_refusal(client_order_id, now)? {
            return Ok(SendGate::Stop(answer));
        }
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        if !first_send_journaled(tracked, epoch_ms(now)) {
            let intent = self.journal.mark_sent(&tracked.request_id, epoch_ms(now))?;
            tracked.intent = IntentState::Sent;
            tracked.sent_at_ms = intent.sent_at_ms;
        }
        tracked.sends = tracked.sends.saturating_add(1);
        tracked.queries = 0;
        if tracked.order.status == OrderStatus::PendingSubmit {
            telemetry::submitted(&tracked.order);
            let _ = apply_event(tracked, OrderEvent::Send, &mut self.events);
        }
        Ok(SendGate::Go {
            attempt: tracked.sends,
        })
    }

    /// Why a send must not go ahead, settling the placement: it is settled already, trading
    /// is halted, or (for a resend) the breaker refuses. A resend the breaker lets through is
    /// counted against the venue's windows.
    fn send_refusal(
        &mut self,
        client_order_id: &str,
        now: Nanos,
    ) -> Result<Option<OrderAnswer>, EngineError> {
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        if let Some(answer) = &tracked.answer {
            return Ok(Some(answer.clone()));
        }
        let resend = tracked.sends > 0;
        if let Some(reason) = self.halt.clone() {
            let message = format!("trading is halted: {reason}");
            return self
                .fail(client_order_id, "trading_halted", message)
                .map(Some);
        }
        if resend {
            if let Err(refusal) = self.validator.breaker_mut().try_acquire(now) {
                let message = refusal.to_string();
                return self
                    .fail(client_order_id, "circuit_open", message)
                    .map(Some);
            }
            self.validator.venue_mut().on_sent(Cost::ORDER);
        }
        Ok(None)
    }

    /// [`Engine::on_place_answer`] for an order placed on the order endpoint.
    ///
    /// # Errors
    /// As [`Engine::on_place_answer`].
    pub fn on_place_result(
        &mut self,
        client_order_id: &str,
        result: Result<VenueOrder, VenueFailure>,
        usage: VenueUsage,
        now: Nanos,
    ) -> Result<Step, EngineError> {
        self.on_place_answer(client_order_id, result.map(Placed::Order), usage, now)
    }

    /// The venue's answer to a send — an order, or an algo order for a conditional type — or
    /// its failure, with the rate-limit counters the answer carried. Feeds the breaker and the
    /// venue counters, then accepts, rejects, or says to resend or query.
    ///
    /// # Errors
    /// [`EngineError::UnknownOrder`], [`EngineError::Journal`].
    pub fn on_place_answer(
        &mut self,
        client_order_id: &str,
        result: Result<Placed, VenueFailure>,
        usage: VenueUsage,
        now: Nanos,
    ) -> Result<Step, EngineError> {
        self.validator
            .venue_mut()
            .on_answer(Cost::ORDER, usage, now);
        let outcome = match &result {
            Ok(_) => CallOutcome::Success,
            Err(failure) => CallOutcome::Failed(failure.class),
        };
        self.record_breaker(outcome, now);
        let failure = match result {
            Ok(placed) => {
                return self
                    .accept_placed(client_order_id, &placed, false, now)
                    .map(Step::Done);
            }
            Err(failure) => failure,
        };
        self.on_place_failure(client_order_id, failure, now)
    }

    /// A failed send: the retry policy's decision for it (module docs of [`crate::retry`]).
    fn on_place_failure(
        &mut self,
        client_order_id: &str,
        failure: VenueFailure,
        now: Nanos,
    ) -> Result<Step, EngineError> {
        if let FailureClass::RateLimited { retry_after } = failure.class {
            self.validator.venue_mut().on_rate_limited(retry_after, now);
        }
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        if let Some(answer) = &tracked.answer {
            return Ok(Step::Done(answer.clone()));
        }
        let attempt = FailedAttempt {
            failure: failure.class,
            kind: RequestKind::PlaceOrder,
            attempt: tracked.sends,
        };
        match self.retry.decide(attempt, &mut self.jitter) {
            RetryDecision::Retry { after } => Ok(Step::Resend { after }),
            RetryDecision::QueryThenDecide { query_after } => {
                Ok(Step::Query { after: query_after })
            }
            RetryDecision::GiveUp(reason) => self
                .give_up(client_order_id, reason, &failure)
                .map(Step::Done),
            RetryDecision::Halt => {
                self.halt(format!(
                    "the venue refused our credentials: {}",
                    failure.message
                ));
                self.fail(client_order_id, "auth_failed", failure.message)
                    .map(Step::Done)
            }
        }
    }

    /// [`Engine::on_lookup`] for an order of the order endpoint.
    ///
    /// # Errors
    /// As [`Engine::on_lookup`].
    pub fn on_query_result(
        &mut self,
        client_order_id: &str,
        result: Result<Option<VenueOrder>, VenueFailure>,
        now: Nanos,
    ) -> Result<Step, EngineError> {
        self.on_lookup(
            client_order_id,
            result.map(|found| found.map(Placed::Order)),
            now,
        )
    }

    /// The answer to a query by client order id after an unknown outcome (the order query, or
    /// the algo query for a conditional order): `Ok(Some)` found, `Ok(None)` absent, `Err` the
    /// query itself failed. Found → adopt; absent → query again until the venue's acceptance
    /// window has passed, then resend (or, for an intent recovered at start-up or with no
    /// attempt left, fail it as never placed).
    ///
    /// # Errors
    /// [`EngineError::UnknownOrder`], [`EngineError::Journal`].
    pub fn on_lookup(
        &mut self,
        client_order_id: &str,
        result: Result<Option<Placed>, VenueFailure>,
        now: Nanos,
    ) -> Result<Step, EngineError> {
        self.record_outcome(result.as_ref().err(), now);
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        if let Some(answer) = &tracked.answer {
            return Ok(Step::Done(answer.clone()));
        }
        tracked.queries = tracked.queries.saturating_add(1);
        let queries = tracked.queries;
        match result {
            Ok(Some(placed)) => self
                .accept_placed(client_order_id, &placed, true, now)
                .map(Step::Done),
            Ok(None) => self.on_absent(client_order_id, now),
            Err(failure) if failure.class == FailureClass::Auth => {
                let reason = format!("the venue refused our credentials: {}", failure.message);
                self.halt(reason);
                let answer = self.outcome_unknown(client_order_id, &failure.message)?;
                Ok(Step::Done(answer))
            }
            Err(_) => Ok(Step::Query {
                after: self.query_backoff(queries),
            }),
        }
    }

    /// The venue does not know the client order id: query again inside its acceptance
    /// window; after it, resend (same id) while attempts remain — never for a recovered
    /// intent — else fail it as never placed.
    fn on_absent(&mut self, client_order_id: &str, now: Nanos) -> Result<Step, EngineError> {
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        let (sends, recovered) = (tracked.sends, tracked.recovered);
        let Some(sent_at_ms) = tracked.sent_at_ms else {
            // Journaled but never written to the wire.
            return self.not_placed(client_order_id);
        };
        let since_sent = Duration::from_millis(epoch_ms(now).saturating_sub(sent_at_ms));
        match self
            .retry
            .after_query(false, since_sent, sends, &mut self.jitter)
        {
            AfterQuery::QueryAgain { after } => Ok(Step::Query { after }),
            AfterQuery::Resend { after } if !recovered => Ok(Step::Resend { after }),
            AfterQuery::Adopt | AfterQuery::Resend { .. } | AfterQuery::GiveUp(_) => {
                self.not_placed(client_order_id)
            }
        }
    }

    /// Loads an unresolved journal intent at start-up (before any submit), so the driver can
    /// query its client order id and settle it with [`Engine::on_query_result`]: found →
    /// adopted, absent after its window → failed; a recovered intent is never resent.
    /// Returns `false` (and loads nothing) for a resolved intent or one already tracked.
    pub fn recover(&mut self, intent: Intent, now: Nanos) -> bool {
        if intent.state.is_final() || self.orders.contains_key(&intent.client_order_id) {
            return false;
        }
        let mut request = intent.request;
        request.client_order_id = Some(intent.client_order_id.clone());
        let mut tracked = Tracked::new(
            Order::new(request, intent.client_order_id.clone()),
            intent.request_id.clone(),
        );
        tracked.recovered = true;
        tracked.intent = intent.state;
        tracked.sent_at_ms = intent.sent_at_ms;
        tracked.sends = intent.sends;
        let _ = apply_event(&mut tracked, OrderEvent::Queue, &mut self.events);
        if intent.state == IntentState::Sent {
            let _ = apply_event(&mut tracked, OrderEvent::Send, &mut self.events);
        }
        self.requests
            .insert(intent.request_id, intent.client_order_id.clone());
        self.orders.insert(intent.client_order_id.clone(), tracked);
        self.release_parked(&intent.client_order_id, now);
        true
    }

    /// Settles a placement as what the venue answered or reported: an order, or an algo order
    /// whose status and child are then followed ([`super::algo`]).
    fn accept_placed(
        &mut self,
        client_order_id: &str,
        placed: &Placed,
        adopted: bool,
        now: Nanos,
    ) -> Result<OrderAnswer, EngineError> {
        match placed {
            Placed::Order(venue) => {
                let status = Some(venue.status.to_model());
                self.accept(client_order_id, venue.order_id, status, adopted, now)
            }
            Placed::Algo(algo) => {
                let answer = self.accept(client_order_id, algo.algo_id, None, adopted, now)?;
                let report = AlgoReport::from_algo(algo);
                self.apply_algo(client_order_id, &report, adopted, now)?;
                Ok(answer)
            }
        }
    }

    /// Settles a placement as at the venue under `venue_order_id`: from its own answer
    /// (`adopted: false`), or found by query or reconciliation after an unknown outcome
    /// (`adopted: true`); then follows `venue_status` when the venue reported one.
    pub(super) fn accept(
        &mut self,
        client_order_id: &str,
        venue_order_id: u64,
        venue_status: Option<OrderStatus>,
        adopted: bool,
        now: Nanos,
    ) -> Result<OrderAnswer, EngineError> {
        let tracked = self
            .orders
            .get_mut(client_order_id)
            .ok_or_else(|| unknown(client_order_id))?;
        // An algo id is no order id: only orders of the order endpoint are found by it.
        let key = tracked
            .algo
            .is_none()
            .then(|| (tracked.symbol().to_owned(), venue_order_id));
        mark_accepted(tracked, venue_order_id, &mut self.events);
        let mut round_trip_from = None;
        let answer = match &tracked.answer {
            Some(answer) => answer.clone(),
            None => {
                let adopted = adopted || tracked.intent == IntentState::Pending;
                let answer = OrderAnswer::Accepted {
                    request_id: tracked.request_id.clone(),
                    client_order_id: client_order_id.to_owned(),
                    venue_order_id,
                    status: tracked.order.status,
                    adopted,
                };
                if adopted {
                    self.journal
                        .resolve_adopted(&tracked.request_id, venue_order_id, &answer)?;
                    tracked.intent = IntentState::Adopted;
                } else {
                    self.journal
                        .record_ack(&tracked.request_id, venue_order_id, &answer)?;
                    tracked.intent = IntentState::Acknowledged;
                    round_trip_from = tracked.sent_at_ms;
                }
                tracked.answer = Some(answer.clone());
                self.settled.push(answer.clone());
                if let Some(at) = tracked.approved_at {
                    telemetry::submit_latency(tracked.symbol(), now.saturating_since(at));
                }
                telemetry::answer(&answer);
                answer
            }
        };
        if let Some(sent_at_ms) = round_trip_from {
            self.record_round_trip(sent_at_ms, now);
        }
        if let Some(key) = key {
            self.venue_ids.insert(key, client_order_id.to_owned());
        }
        if let Some(status) = venue_status {
            self.sync_status(client_order_id, status)?;
        }
        self.release_parked(client_order_id, now);
        Ok(answer)
    }

    /// Ends a placement after the retry policy gave up.
    fn give_up(
        &mut self,
        client_order_id: &str,
        reason: GiveUpReason,
        failure: &VenueFailure,
    ) -> Result<OrderAnswer, EngineError> {
        let code = match reason {
            GiveUpReason::Rejected => {
                let code = failure
                    .code
                    .map_or_else(|| "venue_rejected".to_owned(), |c| format!("venue_{c}"));
                return self.venue_rejected(client_order_id, code, failure.message.clone());
            }
            GiveUpReason::NotFound => "venue_not_found",
            GiveUpReason::IpBanned => "ip_banned",
            GiveUpReason::AttemptsExhausted => "attempts_exhausted",
            GiveUpReason::NotPlaced => "not_placed",
        };
        self.fail(client_order_id, code, failure.message.clone())
    }

    /// Resolves a placement absent after its window as never placed.
    fn not_placed(&mut self, client_order_id: &str) -> Result<Step, EngineError> {
        let message =
            "the venue does not know the client order id after its acceptance window: never placed";
        self.fail(client_order_id, "not_placed", message.to_owned())
            .map(Step::Done)
    }

    /// Settles a placement the venue refused.
    fn venue_rejected(
        &mut self,
        client_order_id: &str,
        code: String,
        message: String,
    ) -> Result<OrderAnswer, EngineError> {
        let tracked = self
            .orders
            .get_mut(client_order_id)
            .ok_or_else(|| unknown(client_order_id))?;
        let answer = OrderAnswer::Rejected {
            request_id: tracked.request_id.clone(),
            client_order_id: Some(client_order_id.to_owned()),
            code,
            message: message.clone(),
        };
        self.journal
            .record_rejection(&tracked.request_id, &answer)?;
        tracked.intent = IntentState::Rejected;
        self.finish(client_order_id, answer, message)
    }

    /// Settles a placement as not at the venue.
    pub(super) fn fail(
        &mut self,
        client_order_id: &str,
        code: &str,
        message: String,
    ) -> Result<OrderAnswer, EngineError> {
        let tracked = self
            .orders
            .get_mut(client_order_id)
            .ok_or_else(|| unknown(client_order_id))?;
        let answer = OrderAnswer::Failed {
            request_id: tracked.request_id.clone(),
            client_order_id: client_order_id.to_owned(),
            code: code.to_owned(),
            message: message.clone(),
        };
        self.journal.resolve_failed(&tracked.request_id, &answer)?;
        tracked.intent = IntentState::Failed;
        self.finish(client_order_id, answer, format!("not placed: {message}"))
    }

    /// Records a settled refusal or failure on the order and answers.
    fn finish(
        &mut self,
        client_order_id: &str,
        answer: OrderAnswer,
        reason: String,
    ) -> Result<OrderAnswer, EngineError> {
        let tracked = self
            .orders
            .get_mut(client_order_id)
            .ok_or_else(|| unknown(client_order_id))?;
        tracked.answer = Some(answer.clone());
        self.settled.push(answer.clone());
        if matches!(
            tracked.order.status,
            OrderStatus::New | OrderStatus::PendingSubmit | OrderStatus::Submitted
        ) {
            let _ = apply_event(tracked, OrderEvent::Reject { reason }, &mut self.events);
        }
        telemetry::answer(&answer);
        Ok(answer)
    }

    /// An answer for a caller whose placement's outcome cannot be learned now; the intent
    /// stays unresolved for the user stream or the next start-up to settle.
    fn outcome_unknown(
        &mut self,
        client_order_id: &str,
        why: &str,
    ) -> Result<OrderAnswer, EngineError> {
        let tracked = self
            .orders
            .get(client_order_id)
            .ok_or_else(|| unknown(client_order_id))?;
        let answer = OrderAnswer::Failed {
            request_id: tracked.request_id.clone(),
            client_order_id: client_order_id.to_owned(),
            code: "outcome_unknown".to_owned(),
            message: format!(
                "the order may be at the venue; it stays unresolved in the journal until the venue is reachable: {why}"
            ),
        };
        telemetry::answer(&answer);
        Ok(answer)
    }
}

/// Records the venue's id on an order (sending a recovered `PENDING_SUBMIT` one first).
pub(super) fn mark_accepted(
    tracked: &mut Tracked,
    venue_order_id: u64,
    events: &mut Vec<ExecEvent>,
) {
    if tracked.order.status == OrderStatus::PendingSubmit {
        let _ = apply_event(tracked, OrderEvent::Send, events);
    }
    if tracked.order.venue_order_id.is_none() && accepts(tracked.order.status) {
        let _ = apply_event(tracked, OrderEvent::Accept { venue_order_id }, events);
    }
}

fn unknown(client_order_id: &str) -> EngineError {
    EngineError::UnknownOrder {
        client_order_id: client_order_id.to_owned(),
    }
}

/// How old the send time journaled with an intent ([`crate::journal::Journal::begin_sent`])
/// may be when its first send goes out without a write of its own. The venue's acceptance
/// window is judged from the journaled time, so it must not lag the real send by more than a
/// small part of the clock margin ([`crate::retry::RetryPolicy::clock_margin`]); an older one
/// (a placement task held up) is stamped again.
const JOURNALED_SEND_MAX_AGE_MS: u64 = 100;

/// Whether `tracked`'s first send was journaled with its intent, recently enough to go out
/// as journaled at `now_ms`.
fn first_send_journaled(tracked: &Tracked, now_ms: u64) -> bool {
    tracked.sends == 0
        && tracked.intent == IntentState::Sent
        && tracked
            .sent_at_ms
            .is_some_and(|at| now_ms.saturating_sub(at) <= JOURNALED_SEND_MAX_AGE_MS)
}
