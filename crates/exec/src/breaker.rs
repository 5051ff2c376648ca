//! The venue circuit breaker (seed 000 NFR-OE-002 and its error table; `circuit_breaker_threshold`,
//! `circuit_breaker_timeout_ms`).
//!
//! ```text
//!            threshold consecutive failures            timeout elapsed
//!  Closed ─────────────────────────────────► Open ──────────────────► HalfOpen
//!    ▲                                        ▲                          │ one probe
//!    │              probe succeeds            │      probe fails         │
//!    └────────────────────────────────────────┼──────────────────────────┤
//!                                             └──────────────────────────┘
//! ```
//!
//! What counts ([`Effect::of`]):
//! - **failure**: 5xx, 408, timeouts, connection failures — the venue is unwell;
//! - **healthy**: a success, and also a 4xx business rejection or "order not found" — the venue
//!   answered, so it is up; a rejection says nothing against its health;
//! - **neutral**: 429 — the venue is up but we are too fast; the rate limiter deals with it;
//! - **trip**: 418 (IP ban, open for at least the ban) and 401 (authentication; exec also halts).
//!
//! Time-based moves (open → half-open) are evaluated lazily from `now`, so the breaker needs
//! no timer. In half-open exactly one request is let through as the probe; another is let
//! through only when the probe's outcome is recorded, or when the probe has had no outcome for
//! a whole `timeout` (a lost probe must not wedge the breaker half-open forever).
//!
//! The state is exported as the seed's gauge `circuit_breaker_state{service}`: 0 closed,
//! 1 open, 2 half-open (`kestrel_model::telemetry::names::CIRCUIT_BREAKER_STATE`).

use std::fmt;
use std::time::Duration;

use kestrel_model::config::ExecutionConfig;
use kestrel_model::telemetry::names::CIRCUIT_BREAKER_STATE;

use crate::clock::Nanos;
use crate::outcome::{CallOutcome, FailureClass};

/// The breaker's state, as the seed's gauge encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Requests flow; consecutive failures are counted.
    Closed,
    /// Requests are refused until the timeout elapses.
    Open,
    /// One probe request is allowed; its outcome closes or reopens the breaker.
    HalfOpen,
}

impl BreakerState {
    /// The value of the `circuit_breaker_state` gauge: 0 closed, 1 open, 2 half-open.
    #[must_use]
    pub const fn gauge_value(self) -> u8 {
        match self {
            Self::Closed => 0,
            Self::Open => 1,
            Self::HalfOpen => 2,
        }
    }

    /// `closed`, `open` or `half_open` (the seed's spelling).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one outcome moves the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The venue answered: resets the failure count; closes a half-open breaker.
    Healthy,
    /// The venue is unwell: counts toward `threshold`; reopens a half-open breaker.
    Failure,
    /// Says nothing about the venue's health (429): no change, but a half-open probe slot is
    /// released.
    Neutral,
    /// Opens the breaker at once, for at least this long (418 ban, 401).
    Trip(Duration),
}

impl Effect {
    /// The effect of `outcome` on a breaker whose open timeout is `timeout` (module docs).
    #[must_use]
    pub fn of(outcome: CallOutcome, timeout: Duration) -> Self {
        match outcome {
            CallOutcome::Success
            | CallOutcome::Failed(FailureClass::Rejected | FailureClass::NotFound) => Self::Healthy,
            CallOutcome::Failed(FailureClass::RateLimited { .. }) => Self::Neutral,
            CallOutcome::Failed(FailureClass::IpBanned { retry_after }) => {
                Self::Trip(retry_after.map_or(timeout, |ban| ban.max(timeout)))
            }
            CallOutcome::Failed(FailureClass::Auth) => Self::Trip(timeout),
            CallOutcome::Failed(
                FailureClass::Server { .. }
                | FailureClass::Timeout
                | FailureClass::ConnectFailed
                | FailureClass::ConnectionLost,
            ) => Self::Failure,
        }
    }
}

/// The breaker's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker (0 is taken as 1).
    pub threshold: u32,
    /// How long it stays open before a probe is allowed.
    pub timeout: Duration,
}

impl BreakerConfig {
    /// `circuit_breaker_threshold` and `circuit_breaker_timeout_ms` of the `[execution]` section.
    #[must_use]
    pub const fn from_config(config: &ExecutionConfig) -> Self {
        Self {
            threshold: config.circuit_breaker_threshold,
            timeout: Duration::from_millis(config.circuit_breaker_timeout_ms),
        }
    }
}

/// A state change, returned so the caller can log it and update the gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state before.
    pub from: BreakerState,
    /// The state after.
    pub to: BreakerState,
}

/// Why the breaker refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BreakerRefusal {
    /// The breaker is open.
    #[error(
        "circuit breaker is open after {failures} consecutive failures; a probe is allowed in {retry_in:?}"
    )]
    Open {
        /// The failures that opened it (0 when it was tripped by a ban or an auth failure).
        failures: u32,
        /// When a probe will be allowed.
        until: Nanos,
        /// How long from now that is.
        retry_in: Duration,
    },
    /// The breaker is half-open and its one probe is in flight.
    #[error(
        "circuit breaker is half-open and its probe request is in flight; the next is allowed when the probe answers"
    )]
    ProbeInFlight,
}

/// Permission to send one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a permit is taken to send a request; record its outcome"]
pub struct Permit {
    /// Whether this request is the half-open probe.
    pub probe: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inner {
    Closed { failures: u32 },
    Open { failures: u32, until: Nanos },
    HalfOpen { probe_since: Option<Nanos> },
}

/// A circuit breaker for one service (module docs).
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    inner: Inner,
}

impl CircuitBreaker {
    /// A closed breaker.
    #[must_use]
    pub const fn new(config: BreakerConfig) -> Self {
        Self {
            config: BreakerConfig {
                threshold: if config.threshold == 0 {
                    1
                } else {
                    config.threshold
                },
                timeout: config.timeout,
            },
            inner: Inner::Closed { failures: 0 },
        }
    }

    /// The settings.
    #[must_use]
    pub const fn config(&self) -> BreakerConfig {
        self.config
    }

    /// The state at `now` (an open breaker whose timeout has elapsed is half-open).
    #[must_use]
    pub fn state(&self, now: Nanos) -> BreakerState {
        match self.effective(now) {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Consecutive failures counted while closed.
    #[must_use]
    pub fn consecutive_failures(&self, now: Nanos) -> u32 {
        match self.effective(now) {
            Inner::Closed { failures } | Inner::Open { failures, .. } => failures,
            Inner::HalfOpen { .. } => 0,
        }
    }

    /// Whether a request would be let through at `now`, without taking the permit.
    ///
    /// # Errors
    /// [`BreakerRefusal`] when the breaker is open or its probe is in flight.
    pub fn check(&self, now: Nanos) -> Result<Permit, BreakerRefusal> {
        match self.effective(now) {
            Inner::Closed { .. } => Ok(Permit { probe: false }),
            Inner::Open { failures, until } => Err(BreakerRefusal::Open {
                failures,
                until,
                retry_in: until.saturating_since(now),
            }),
            Inner::HalfOpen { probe_since: None } => Ok(Permit { probe: true }),
            Inner::HalfOpen {
                probe_since: Some(since),
            } => {
                if now >= since.saturating_add(self.config.timeout) {
                    Ok(Permit { probe: true })
                } else {
                    Err(BreakerRefusal::ProbeInFlight)
                }
            }
        }
    }

    /// Takes the permit to send one request at `now`; in half-open this makes the request the
    /// probe.
    ///
    /// # Errors
    /// As [`CircuitBreaker::check`].
    pub fn try_acquire(&mut self, now: Nanos) -> Result<Permit, BreakerRefusal> {
        let permit = self.check(now)?;
        if permit.probe {
            self.inner = Inner::HalfOpen {
                probe_since: Some(now),
            };
        }
        Ok(permit)
    }

    /// Records the outcome of a request, returning the state change it caused, if any.
    pub fn record(&mut self, outcome: CallOutcome, now: Nanos) -> Option<Transition> {
        self.apply(Effect::of(outcome, self.config.timeout), now)
    }

    /// Opens the breaker now for at least `duration` (an operator's or the halt logic's
    /// decision), returning the state change, if any.
    pub fn trip(&mut self, duration: Duration, now: Nanos) -> Option<Transition> {
        self.apply(Effect::Trip(duration), now)
    }

    /// Applies one effect (module docs), returning the state change, if any.
    pub fn apply(&mut self, effect: Effect, now: Nanos) -> Option<Transition> {
        let before = self.effective(now);
        let after = match (before, effect) {
            (Inner::Open { .. }, Effect::Healthy | Effect::Failure | Effect::Neutral) => {
                // Late answers to requests sent before the breaker opened prove nothing: wait
                // for the probe.
                before
            }
            (Inner::Open { failures, until }, Effect::Trip(duration)) => Inner::Open {
                failures,
                until: until.max(now.saturating_add(duration)),
            },
            (_, Effect::Trip(duration)) => Inner::Open {
                failures: 0,
                until: now.saturating_add(duration),
            },
            (Inner::Closed { .. } | Inner::HalfOpen { .. }, Effect::Healthy) => {
                Inner::Closed { failures: 0 }
            }
            (Inner::Closed { failures }, Effect::Failure) => {
                let failures = failures.saturating_add(1);
                if failures >= self.config.threshold {
                    Inner::Open {
                        failures,
                        until: now.saturating_add(self.config.timeout),
                    }
                } else {
                    Inner::Closed { failures }
                }
            }
            (Inner::HalfOpen { .. }, Effect::Failure) => Inner::Open {
                failures: self.config.threshold,
                until: now.saturating_add(self.config.timeout),
            },
            (Inner::Closed { .. }, Effect::Neutral) => before,
            (Inner::HalfOpen { .. }, Effect::Neutral) => Inner::HalfOpen { probe_since: None },
        };
        self.inner = after;
        let (from, to) = (state_of(before), state_of(after));
        (from != to).then_some(Transition { from, to })
    }

    /// Sets the `circuit_breaker_state{service}` gauge to the state at `now`.
    pub fn publish(&self, service: &'static str, now: Nanos) {
        metrics::gauge!(CIRCUIT_BREAKER_STATE, "service" => service)
            .set(u32::from(self.state(now).gauge_value()));
    }

    /// The stored state with the open → half-open move applied for `now`.
    fn effective(&self, now: Nanos) -> Inner {
        match self.inner {
            Inner::Open { until, .. } if now >= until => Inner::HalfOpen { probe_since: None },
            inner => inner,
        }
    }
}

const fn state_of(inner: Inner) -> BreakerState {
    match inner {
        Inner::Closed { .. } => BreakerState::Closed,
        Inner::Open { .. } => BreakerState::Open,
        Inner::HalfOpen { .. } => BreakerState::HalfOpen,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(30);

    fn breaker(threshold: u32) -> CircuitBreaker {
        CircuitBreaker::new(BreakerConfig {
            threshold,
            timeout: TIMEOUT,
        })
    }

    fn fail(class: FailureClass) -> CallOutcome {
        CallOutcome::Failed(class)
    }

    const UNAVAILABLE: FailureClass = FailureClass::Server {
        outcome_unknown: false,
    };

    #[test]
    fn gauge_encoding_matches_the_seed() {
        assert_eq!(BreakerState::Closed.gauge_value(), 0);
        assert_eq!(BreakerState::Open.gauge_value(), 1);
        assert_eq!(BreakerState::HalfOpen.gauge_value(), 2);
        let spec = kestrel_model::telemetry::spec(CIRCUIT_BREAKER_STATE).unwrap();
        assert_eq!(spec.labels, &["service"]);
        assert!(spec.help.contains("0 closed, 1 open, 2 half-open"));
    }

    #[test]
    fn five_consecutive_503s_open_the_breaker_and_refuse_orders() {
        let mut b = breaker(5);
        let t = Nanos::from_secs(100);
        for _ in 0..4 {
            assert_eq!(b.record(fail(UNAVAILABLE), t), None);
        }
        assert_eq!(b.state(t), BreakerState::Closed);
        assert_eq!(
            b.record(fail(FailureClass::Timeout), t),
            Some(Transition {
                from: BreakerState::Closed,
                to: BreakerState::Open
            })
        );
        match b.try_acquire(t.saturating_add(Duration::from_secs(10))) {
            Err(BreakerRefusal::Open {
                failures, retry_in, ..
            }) => {
                assert_eq!(failures, 5);
                assert_eq!(retry_in, Duration::from_secs(20));
            }
            other => panic!("expected open, got {other:?}"),
        }
    }

    #[test]
    fn a_success_between_failures_resets_the_count() {
        let mut b = breaker(3);
        let t = Nanos::from_secs(1);
        b.record(fail(FailureClass::ConnectFailed), t);
        b.record(fail(FailureClass::ConnectionLost), t);
        b.record(CallOutcome::Success, t);
        b.record(fail(UNAVAILABLE), t);
        b.record(fail(UNAVAILABLE), t);
        assert_eq!(b.state(t), BreakerState::Closed);
        assert_eq!(b.consecutive_failures(t), 2);
    }

    #[test]
    fn business_rejections_and_rate_limits_never_open_the_breaker() {
        let mut b = breaker(1);
        let t = Nanos::from_secs(1);
        for _ in 0..100 {
            b.record(fail(FailureClass::Rejected), t);
            b.record(fail(FailureClass::NotFound), t);
            b.record(fail(FailureClass::RateLimited { retry_after: None }), t);
        }
        assert_eq!(b.state(t), BreakerState::Closed);
    }

    #[test]
    fn rejection_counts_as_proof_of_life_and_resets_failures() {
        let mut b = breaker(2);
        let t = Nanos::from_secs(1);
        b.record(fail(FailureClass::Timeout), t);
        b.record(fail(FailureClass::Rejected), t);
        b.record(fail(FailureClass::Timeout), t);
        assert_eq!(b.state(t), BreakerState::Closed);
    }

    #[test]
    fn open_becomes_half_open_after_the_timeout_and_lets_exactly_one_probe_through() {
        let mut b = breaker(1);
        let t0 = Nanos::from_secs(10);
        b.record(fail(UNAVAILABLE), t0);
        let just_before = t0.saturating_add(TIMEOUT - Duration::from_nanos(1));
        assert_eq!(b.state(just_before), BreakerState::Open);
        assert!(b.try_acquire(just_before).is_err());
        let t1 = t0.saturating_add(TIMEOUT);
        assert_eq!(b.state(t1), BreakerState::HalfOpen);
        assert_eq!(b.try_acquire(t1), Ok(Permit { probe: true }));
        assert_eq!(b.try_acquire(t1), Err(BreakerRefusal::ProbeInFlight));
        assert_eq!(
            b.record(CallOutcome::Success, t1),
            Some(Transition {
                from: BreakerState::HalfOpen,
                to: BreakerState::Closed
            })
        );
        assert_eq!(b.try_acquire(t1), Ok(Permit { probe: false }));
    }

    #[test]
    fn failed_probe_reopens_for_another_full_timeout() {
        let mut b = breaker(3);
        let t0 = Nanos::from_secs(0);
        for _ in 0..3 {
            b.record(fail(UNAVAILABLE), t0);
        }
        let t1 = t0.saturating_add(TIMEOUT);
        assert!(b.try_acquire(t1).is_ok());
        let t2 = t1.saturating_add(Duration::from_millis(5));
        assert_eq!(
            b.record(fail(FailureClass::Timeout), t2),
            Some(Transition {
                from: BreakerState::HalfOpen,
                to: BreakerState::Open
            })
        );
        assert_eq!(
            b.state(t2.saturating_add(TIMEOUT - Duration::from_nanos(1))),
            BreakerState::Open
        );
        assert_eq!(b.state(t2.saturating_add(TIMEOUT)), BreakerState::HalfOpen);
    }

    #[test]
    fn rate_limited_probe_frees_the_probe_slot_without_closing() {
        let mut b = breaker(1);
        b.record(fail(UNAVAILABLE), Nanos::ZERO);
        let t = Nanos::ZERO.saturating_add(TIMEOUT);
        assert!(b.try_acquire(t).is_ok());
        b.record(fail(FailureClass::RateLimited { retry_after: None }), t);
        assert_eq!(b.state(t), BreakerState::HalfOpen);
        assert_eq!(b.try_acquire(t), Ok(Permit { probe: true }));
    }

    #[test]
    fn a_lost_probe_does_not_wedge_the_breaker() {
        let mut b = breaker(1);
        b.record(fail(UNAVAILABLE), Nanos::ZERO);
        let t = Nanos::ZERO.saturating_add(TIMEOUT);
        assert!(b.try_acquire(t).is_ok());
        assert!(b.try_acquire(t.saturating_add(TIMEOUT / 2)).is_err());
        assert_eq!(
            b.try_acquire(t.saturating_add(TIMEOUT)),
            Ok(Permit { probe: true })
        );
    }

    #[test]
    fn ip_ban_opens_for_at_least_the_ban_and_auth_failure_opens_at_once() {
        let mut b = breaker(5);
        let ban = Duration::from_secs(120);
        b.record(
            fail(FailureClass::IpBanned {
                retry_after: Some(ban),
            }),
            Nanos::ZERO,
        );
        assert_eq!(
            b.state(Nanos::ZERO.saturating_add(ban - Duration::from_nanos(1))),
            BreakerState::Open
        );
        assert_eq!(
            b.state(Nanos::ZERO.saturating_add(ban)),
            BreakerState::HalfOpen
        );
        let mut b = breaker(5);
        b.record(fail(FailureClass::Auth), Nanos::ZERO);
        assert_eq!(b.state(Nanos::ZERO), BreakerState::Open);
    }

    #[test]
    fn late_answers_while_open_do_not_close_it() {
        let mut b = breaker(1);
        b.record(fail(UNAVAILABLE), Nanos::ZERO);
        assert_eq!(b.record(CallOutcome::Success, Nanos::from_secs(1)), None);
        assert_eq!(b.state(Nanos::from_secs(1)), BreakerState::Open);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Wait(u64),
        Acquire,
        Outcome(CallOutcome),
    }

    fn outcome() -> impl Strategy<Value = CallOutcome> {
        prop_oneof![
            Just(CallOutcome::Success),
            Just(fail(FailureClass::Rejected)),
            Just(fail(FailureClass::NotFound)),
            Just(fail(FailureClass::RateLimited { retry_after: None })),
            Just(fail(UNAVAILABLE)),
            Just(fail(FailureClass::Server {
                outcome_unknown: true
            })),
            Just(fail(FailureClass::Timeout)),
            Just(fail(FailureClass::ConnectFailed)),
            Just(fail(FailureClass::ConnectionLost)),
        ]
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u64..40_000).prop_map(Step::Wait),
            Just(Step::Acquire),
            outcome().prop_map(Step::Outcome),
        ]
    }

    proptest! {
        /// The breaker against a plain reading of the specification: a reference model that
        /// tracks the state by the rules in the module docs, step by step.
        #[test]
        fn breaker_follows_the_specified_state_machine(
            threshold in 1u32..6,
            steps in proptest::collection::vec(step(), 1..200),
        ) {
            let mut b = breaker(threshold);
            let mut now = Nanos::ZERO;
            // Reference: (state, consecutive failures, open until, probe taken at).
            let mut state = BreakerState::Closed;
            let mut failures = 0u32;
            let mut open_until = Nanos::ZERO;
            let mut probe_at: Option<Nanos> = None;
            for step in steps {
                if state == BreakerState::Open && now >= open_until {
                    state = BreakerState::HalfOpen;
                    probe_at = None;
                }
                match step {
                    Step::Wait(ms) => now = now.saturating_add(Duration::from_millis(ms)),
                    Step::Acquire => {
                        let got = b.try_acquire(now);
                        match state {
                            BreakerState::Closed => prop_assert_eq!(got, Ok(Permit { probe: false })),
                            BreakerState::Open => prop_assert!(
                                matches!(got, Err(BreakerRefusal::Open { .. })),
                                "an open breaker let a request through"
                            ),
                            BreakerState::HalfOpen => {
                                let free = probe_at.is_none_or(|at| now >= at.saturating_add(TIMEOUT));
                                if free {
                                    prop_assert_eq!(got, Ok(Permit { probe: true }));
                                    probe_at = Some(now);
                                } else {
                                    prop_assert_eq!(got, Err(BreakerRefusal::ProbeInFlight));
                                }
                            }
                        }
                    }
                    Step::Outcome(outcome) => {
                        b.record(outcome, now);
                        match (state, Effect::of(outcome, TIMEOUT)) {
                            (BreakerState::Open, _) => {}
                            (_, Effect::Healthy) => {
                                state = BreakerState::Closed;
                                failures = 0;
                            }
                            (BreakerState::Closed, Effect::Failure) => {
                                failures += 1;
                                if failures >= threshold {
                                    state = BreakerState::Open;
                                    open_until = now.saturating_add(TIMEOUT);
                                }
                            }
                            (BreakerState::HalfOpen, Effect::Failure) => {
                                state = BreakerState::Open;
                                open_until = now.saturating_add(TIMEOUT);
                            }
                            (BreakerState::HalfOpen, Effect::Neutral) => probe_at = None,
                            (_, _) => {}
                        }
                    }
                }
                let mut expected = state;
                if expected == BreakerState::Open && now >= open_until {
                    expected = BreakerState::HalfOpen;
                }
                prop_assert_eq!(b.state(now), expected);
            }
        }

        /// Only failures that say the venue is unwell open it: any run of successes, business
        /// rejections and rate limits leaves it closed.
        #[test]
        fn healthy_and_neutral_outcomes_never_open_the_breaker(
            picks in proptest::collection::vec(0usize..4, 0..300),
        ) {
            let mut b = breaker(1);
            let outcomes = [
                CallOutcome::Success,
                fail(FailureClass::Rejected),
                fail(FailureClass::NotFound),
                fail(FailureClass::RateLimited { retry_after: Some(Duration::from_secs(1)) }),
            ];
            for (i, pick) in picks.into_iter().enumerate() {
                let now = Nanos::from_millis(i as u64);
                b.record(outcomes[pick], now);
                prop_assert_eq!(b.state(now), BreakerState::Closed);
            }
        }
    }
}
