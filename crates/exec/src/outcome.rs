//! What happened to one request to the venue, classified without venue specifics: the input
//! of both the circuit breaker ([`crate::breaker`]) and the retry policy ([`crate::retry`]).
//!
//! The venue adapter maps its errors onto [`FailureClass`] (for Binance: HTTP status, error
//! code and transport failure, `../shared/binance-futures.md` §4.4 and §5). The classes keep
//! apart the two facts the execution engine acts on: whether the venue is healthy, and whether
//! the request may have taken effect.

use std::time::Duration;

/// Why a request failed, as far as the execution engine needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// Over a rate limit (HTTP 429; Binance `-1003` weight or `-1015` order count). Not
    /// executed. The venue is healthy; we are too fast.
    RateLimited {
        /// The venue's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The IP is banned for continuing after 429s (HTTP 418). Not executed; nothing will
    /// succeed until the ban ends.
    IpBanned {
        /// The venue's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The venue failed (HTTP 5xx or 408).
    Server {
        /// Whether the request may have executed (Binance's 503 "Unknown error…", `-1006`,
        /// `-1007`); false for a definite failure ("Service Unavailable", `-1008`).
        outcome_unknown: bool,
    },
    /// No answer within the request timeout: the request may have executed.
    Timeout,
    /// The connection could not be made: the request never reached the venue.
    ConnectFailed,
    /// The connection broke after the request was sent: it may have executed.
    ConnectionLost,
    /// The venue refused the request for business reasons (a 4xx with a code: filters,
    /// margin, parameters). Not executed; retrying the same request cannot help.
    Rejected,
    /// The order is unknown to the venue (query of an unknown order, cancel of a closed one).
    NotFound,
    /// The credentials were refused (HTTP 401, bad key, bad signature). Trading must halt.
    Auth,
}

impl FailureClass {
    /// Whether the request may have taken effect at the venue despite the failure.
    #[must_use]
    pub const fn outcome_unknown(self) -> bool {
        matches!(
            self,
            Self::Timeout
                | Self::ConnectionLost
                | Self::Server {
                    outcome_unknown: true
                }
        )
    }

    /// A stable snake-case name for logs and the `errors_total{type}` label.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::IpBanned { .. } => "ip_banned",
            Self::Server {
                outcome_unknown: true,
            } => "server_unknown",
            Self::Server {
                outcome_unknown: false,
            } => "server_unavailable",
            Self::Timeout => "timeout",
            Self::ConnectFailed => "connect_failed",
            Self::ConnectionLost => "connection_lost",
            Self::Rejected => "rejected",
            Self::NotFound => "not_found",
            Self::Auth => "auth",
        }
    }
}

/// The outcome of one request to the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallOutcome {
    /// The venue answered and did what was asked.
    Success,
    /// The request failed.
    Failed(FailureClass),
}
