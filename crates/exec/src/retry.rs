//! The retry decision (seed 000 NFR-OE-002 "retry with exponential backoff (max 3 attempts)"
//! and its error table; `max_retry_attempts`), as pure functions of the failure, the attempt
//! and a seeded random source for the jitter.
//!
//! | failure | order placement | idempotent request (query, cancel) |
//! |---|---|---|
//! | 401 / bad key or signature | **halt** | **halt** |
//! | 4xx business rejection, not found | give up | give up |
//! | 418 IP ban | give up (the breaker opens for the ban) | give up |
//! | 429 | retry after `max(Retry-After, backoff)` | same |
//! | 503 definite failure, connection refused before sending | retry after backoff | same |
//! | timeout, connection lost after sending, 5xx of unknown outcome | **query by client order id, then decide** | retry after backoff |
//!
//! Retries stop after `max_retry_attempts` (attempt `n` is the `n`-th send; a retry is allowed
//! while `n ≤ max_retry_attempts`, so at most `1 + max_retry_attempts` sends).
//!
//! # Never resend an order blindly (`DEPENDENCIES.md` trap 3)
//!
//! When an order POST times out the order may have been placed. The decision is then
//! [`RetryDecision::QueryThenDecide`]: look the order up by its client order id, and feed the
//! answer to [`RetryPolicy::after_query`]. Found → adopt it. Absent → the original may still
//! be on its way to the matching engine, which accepts a request until its `timestamp +
//! recvWindow` (Binance `-5028` refuses it after that, §5.3); only once that moment has passed
//! (plus a margin for clock offset) is "absent" final, and only then may the order be sent
//! again — under the same client order id, so that even a late original and a resend cannot
//! both rest (`-4116` duplicate client order id).
//!
//! # Backoff
//!
//! Attempt `n` waits a uniformly random time in `[d/2, d]`, `d = min(max_delay, base × 2ⁿ⁻¹)`,
//! drawn from the random source passed in (a seeded [`rand_chacha::ChaCha8Rng`] in the engine,
//! so runs replay exactly; [`jitter_source`] makes one). Integer nanoseconds throughout.

use std::time::Duration;

use kestrel_model::config::ExecutionConfig;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::clock::duration_nanos;
use crate::outcome::FailureClass;

/// What the failed request was, which decides whether an unknown outcome may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Creates an order under a client order id: never resent without a query first.
    PlaceOrder,
    /// Repeating it has no further effect (queries, cancels, listen-key calls).
    Idempotent,
}

/// One failed send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedAttempt {
    /// Why it failed.
    pub failure: FailureClass,
    /// What it was.
    pub kind: RequestKind,
    /// Which send failed: 1 for the first.
    pub attempt: u32,
}

/// Why a request is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GiveUpReason {
    /// The venue refused it; sending it again cannot help.
    Rejected,
    /// The order does not exist at the venue (for a cancel: already gone).
    NotFound,
    /// The IP is banned; the breaker keeps requests away until the ban ends.
    IpBanned,
    /// `max_retry_attempts` retries were spent.
    AttemptsExhausted,
    /// After the venue's acceptance window an order is still absent and no attempt is left:
    /// it was never placed.
    NotPlaced,
}

/// What to do after a failed send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Send the same request again after this delay.
    Retry {
        /// How long to wait first.
        after: Duration,
    },
    /// The order may have been placed: query it by client order id after this delay, then
    /// call [`RetryPolicy::after_query`].
    QueryThenDecide {
        /// How long to wait before the query.
        query_after: Duration,
    },
    /// Stop; report the failure to the caller.
    GiveUp(GiveUpReason),
    /// Authentication failed: halt trading, open the breaker, alert the operator.
    Halt,
}

/// What to do once the order has been looked up after an unknown outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterQuery {
    /// The venue has it: adopt it as placed.
    Adopt,
    /// Absent, but the original could still arrive: query again after this delay.
    QueryAgain {
        /// How long to wait before the next query.
        after: Duration,
    },
    /// Absent for good: send it again (same client order id) after this delay.
    Resend {
        /// How long to wait first.
        after: Duration,
    },
    /// Absent for good and no attempt left: mark it failed, never placed.
    GiveUp(GiveUpReason),
}

/// The retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first send (`max_retry_attempts`).
    pub max_retry_attempts: u32,
    /// The first backoff ceiling; doubles per attempt.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
    /// `recvWindow`: how long after its timestamp the venue still accepts a request.
    pub recv_window: Duration,
    /// Added to `recv_window` before an absent order is taken as never placed (clock offset
    /// between us and the venue; Binance refuses timestamps more than 1 s ahead).
    pub clock_margin: Duration,
}

/// Backoff base when the config has no key for it.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(200);
/// Backoff ceiling when the config has no key for it.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(5);
/// Margin for clock offset added to `recvWindow`.
pub const DEFAULT_CLOCK_MARGIN: Duration = Duration::from_secs(1);

impl RetryPolicy {
    /// `max_retry_attempts` and `recv_window_ms` from `[execution]`, with
    /// [`DEFAULT_BASE_DELAY`], [`DEFAULT_MAX_DELAY`] and [`DEFAULT_CLOCK_MARGIN`].
    #[must_use]
    pub const fn from_config(config: &ExecutionConfig) -> Self {
        Self {
            max_retry_attempts: config.max_retry_attempts,
            base_delay: DEFAULT_BASE_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            recv_window: Duration::from_millis(config.recv_window_ms),
            clock_margin: DEFAULT_CLOCK_MARGIN,
        }
    }

    /// Whether another send is allowed after send number `attempt` failed.
    #[must_use]
    pub const fn can_retry(&self, attempt: u32) -> bool {
        attempt <= self.max_retry_attempts
    }

    /// The decision after a failed send (module docs, table).
    #[must_use]
    pub fn decide<R: Rng + ?Sized>(&self, failed: FailedAttempt, jitter: &mut R) -> RetryDecision {
        let retry = |jitter: &mut R| {
            if self.can_retry(failed.attempt) {
                RetryDecision::Retry {
                    after: self.backoff(failed.attempt, jitter),
                }
            } else {
                RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted)
            }
        };
        match failed.failure {
            FailureClass::Auth => RetryDecision::Halt,
            FailureClass::Rejected => RetryDecision::GiveUp(GiveUpReason::Rejected),
            FailureClass::NotFound => RetryDecision::GiveUp(GiveUpReason::NotFound),
            FailureClass::IpBanned { .. } => RetryDecision::GiveUp(GiveUpReason::IpBanned),
            FailureClass::RateLimited { retry_after } => match retry(jitter) {
                RetryDecision::Retry { after } => RetryDecision::Retry {
                    after: retry_after.map_or(after, |venue| venue.max(after)),
                },
                other => other,
            },
            failure if failure.outcome_unknown() && failed.kind == RequestKind::PlaceOrder => {
                // Even with no attempt left the outcome must be learned: query regardless.
                RetryDecision::QueryThenDecide {
                    query_after: self.backoff(failed.attempt, jitter),
                }
            }
            FailureClass::Server { .. }
            | FailureClass::Timeout
            | FailureClass::ConnectFailed
            | FailureClass::ConnectionLost => retry(jitter),
        }
    }

    /// The decision after the query that followed [`RetryDecision::QueryThenDecide`]:
    /// `found` is whether the venue knows the client order id, `since_sent` the time since
    /// the failed send's timestamp, `attempt` the number of that send.
    #[must_use]
    pub fn after_query<R: Rng + ?Sized>(
        &self,
        found: bool,
        since_sent: Duration,
        attempt: u32,
        jitter: &mut R,
    ) -> AfterQuery {
        if found {
            return AfterQuery::Adopt;
        }
        let settled = self.recv_window.saturating_add(self.clock_margin);
        if since_sent < settled {
            return AfterQuery::QueryAgain {
                after: settled - since_sent,
            };
        }
        if self.can_retry(attempt) {
            AfterQuery::Resend {
                after: self.backoff(attempt, jitter),
            }
        } else {
            AfterQuery::GiveUp(GiveUpReason::NotPlaced)
        }
    }

    /// The jittered delay before the send after send number `attempt` (module docs).
    #[must_use]
    pub fn backoff<R: Rng + ?Sized>(&self, attempt: u32, jitter: &mut R) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        Duration::from_nanos(jitter.random_range(half..=ceiling))
    }

    /// `min(max_delay, base × 2ⁿ⁻¹)` in nanoseconds.
    fn ceiling(&self, attempt: u32) -> u64 {
        let base = duration_nanos(self.base_delay);
        let max = duration_nanos(self.max_delay).max(base);
        let doublings = attempt.saturating_sub(1).min(63);
        base.checked_mul(1u64 << doublings)
            .map_or(max, |d| d.min(max))
    }
}

/// A seeded jitter source: the same seed gives the same delays.
#[must_use]
pub fn jitter_source(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retry_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            recv_window: Duration::from_secs(5),
            clock_margin: Duration::from_secs(1),
        }
    }

    fn failed(failure: FailureClass, kind: RequestKind, attempt: u32) -> FailedAttempt {
        FailedAttempt {
            failure,
            kind,
            attempt,
        }
    }

    const UNKNOWN_5XX: FailureClass = FailureClass::Server {
        outcome_unknown: true,
    };
    const UNAVAILABLE: FailureClass = FailureClass::Server {
        outcome_unknown: false,
    };

    #[test]
    fn auth_failure_halts_whatever_the_attempt() {
        let mut rng = jitter_source(1);
        for attempt in [1, 2, 10] {
            for kind in [RequestKind::PlaceOrder, RequestKind::Idempotent] {
                assert_eq!(
                    policy().decide(failed(FailureClass::Auth, kind, attempt), &mut rng),
                    RetryDecision::Halt
                );
            }
        }
    }

    #[test]
    fn business_rejection_is_never_retried() {
        let mut rng = jitter_source(1);
        assert_eq!(
            policy().decide(
                failed(FailureClass::Rejected, RequestKind::PlaceOrder, 1),
                &mut rng
            ),
            RetryDecision::GiveUp(GiveUpReason::Rejected)
        );
        assert_eq!(
            policy().decide(
                failed(FailureClass::NotFound, RequestKind::Idempotent, 1),
                &mut rng
            ),
            RetryDecision::GiveUp(GiveUpReason::NotFound)
        );
        assert_eq!(
            policy().decide(
                failed(
                    FailureClass::IpBanned { retry_after: None },
                    RequestKind::Idempotent,
                    1
                ),
                &mut rng
            ),
            RetryDecision::GiveUp(GiveUpReason::IpBanned)
        );
    }

    #[test]
    fn rate_limit_waits_at_least_retry_after_and_stops_after_three_retries() {
        let mut rng = jitter_source(7);
        let limited = FailureClass::RateLimited {
            retry_after: Some(Duration::from_secs(3)),
        };
        for attempt in 1..=3 {
            match policy().decide(failed(limited, RequestKind::PlaceOrder, attempt), &mut rng) {
                RetryDecision::Retry { after } => assert!(after >= Duration::from_secs(3)),
                other => panic!("attempt {attempt}: {other:?}"),
            }
        }
        assert_eq!(
            policy().decide(failed(limited, RequestKind::PlaceOrder, 4), &mut rng),
            RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted)
        );
    }

    #[test]
    fn definite_503_and_refused_connection_retry_an_order_directly() {
        let mut rng = jitter_source(3);
        for failure in [UNAVAILABLE, FailureClass::ConnectFailed] {
            assert!(matches!(
                policy().decide(failed(failure, RequestKind::PlaceOrder, 1), &mut rng),
                RetryDecision::Retry { .. }
            ));
        }
    }

    #[test]
    fn timed_out_order_is_queried_never_resent_blindly() {
        let mut rng = jitter_source(3);
        for failure in [
            FailureClass::Timeout,
            FailureClass::ConnectionLost,
            UNKNOWN_5XX,
        ] {
            for attempt in [1, 4, 9] {
                assert!(
                    matches!(
                        policy()
                            .decide(failed(failure, RequestKind::PlaceOrder, attempt), &mut rng),
                        RetryDecision::QueryThenDecide { .. }
                    ),
                    "{failure:?} attempt {attempt}"
                );
            }
            assert!(matches!(
                policy().decide(failed(failure, RequestKind::Idempotent, 1), &mut rng),
                RetryDecision::Retry { .. }
            ));
        }
    }

    #[test]
    fn absent_order_is_resent_only_after_the_recv_window_has_passed() {
        let mut rng = jitter_source(3);
        let p = policy();
        assert_eq!(
            p.after_query(true, Duration::from_millis(10), 1, &mut rng),
            AfterQuery::Adopt
        );
        assert_eq!(
            p.after_query(false, Duration::from_secs(2), 1, &mut rng),
            AfterQuery::QueryAgain {
                after: Duration::from_secs(4)
            }
        );
        assert!(matches!(
            p.after_query(false, Duration::from_secs(6), 1, &mut rng),
            AfterQuery::Resend { .. }
        ));
        assert_eq!(
            p.after_query(false, Duration::from_secs(6), 4, &mut rng),
            AfterQuery::GiveUp(GiveUpReason::NotPlaced)
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let p = policy();
        assert_eq!(p.ceiling(1), 100_000_000);
        assert_eq!(p.ceiling(2), 200_000_000);
        assert_eq!(p.ceiling(5), 1_600_000_000);
        assert_eq!(p.ceiling(6), 2_000_000_000);
        assert_eq!(p.ceiling(u32::MAX), 2_000_000_000);
    }

    #[test]
    fn same_seed_same_delays() {
        let p = policy();
        let (mut a, mut b) = (jitter_source(42), jitter_source(42));
        let first: Vec<_> = (1..=5).map(|n| p.backoff(n, &mut a)).collect();
        let second: Vec<_> = (1..=5).map(|n| p.backoff(n, &mut b)).collect();
        assert_eq!(first, second);
    }

    #[test]
    fn from_config_takes_the_seed_defaults() {
        let p = RetryPolicy::from_config(&ExecutionConfig::default());
        assert_eq!(p.max_retry_attempts, 3);
        assert_eq!(p.recv_window, Duration::from_secs(5));
    }

    proptest! {
        /// Delays stay within [ceiling/2, ceiling] for any seed and attempt.
        #[test]
        fn backoff_stays_within_half_to_full_ceiling(seed in any::<u64>(), attempt in 1u32..80) {
            let p = policy();
            let delay = duration_nanos(p.backoff(attempt, &mut jitter_source(seed)));
            let ceiling = p.ceiling(attempt);
            prop_assert!(delay >= ceiling / 2 && delay <= ceiling);
        }

        /// No failure class ever leads to more than `max_retry_attempts` resends.
        #[test]
        fn sends_are_bounded_by_max_retry_attempts(
            max in 0u32..6,
            pick in 0usize..6,
            place in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let p = RetryPolicy { max_retry_attempts: max, ..policy() };
            let failure = [
                FailureClass::RateLimited { retry_after: None },
                UNAVAILABLE,
                UNKNOWN_5XX,
                FailureClass::Timeout,
                FailureClass::ConnectFailed,
                FailureClass::ConnectionLost,
            ][pick];
            let kind = if place { RequestKind::PlaceOrder } else { RequestKind::Idempotent };
            let mut rng = jitter_source(seed);
            let mut sends = 1u32;
            loop {
                let resend = match p.decide(failed(failure, kind, sends), &mut rng) {
                    RetryDecision::Retry { .. } => true,
                    RetryDecision::QueryThenDecide { .. } => matches!(
                        p.after_query(false, Duration::from_secs(60), sends, &mut rng),
                        AfterQuery::Resend { .. }
                    ),
                    RetryDecision::GiveUp(_) | RetryDecision::Halt => false,
                };
                if !resend {
                    break;
                }
                sends += 1;
                prop_assert!(sends <= 1 + max);
            }
            prop_assert_eq!(sends, 1 + max);
        }
    }
}
