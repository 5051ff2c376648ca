//! [`RequestError`]: why a request to Binance (REST or WebSocket API) did not give its answer,
//! classified so the execution engine can decide what to do without reading messages.
//!
//! Classification (`../shared/binance-futures.md` §2.6, §4.4, §5), first match wins:
//! 1. HTTP 429, or codes `-1003`/`-1015` → [`RequestError::RateLimited`] (with `Retry-After`).
//! 2. HTTP 418 → [`RequestError::IpBanned`].
//! 3. HTTP 401, or codes `-2014`, `-2015`, `-1002`, `-1022` → [`RequestError::Auth`]: the key,
//!    its permissions or the secret is wrong; retrying cannot help (401 halts trading).
//! 4. Codes `-2013` (query of an unknown order) and `-2011` (cancel of an unknown or closed
//!    order) → [`RequestError::NotFound`].
//! 5. HTTP 5xx, HTTP 408, or codes `-1006`/`-1007` → [`RequestError::Server`]; the outcome is
//!    unknown unless it is a 503 the venue words as a definite failure ("Service Unavailable",
//!    `-1001`, `-1008`).
//! 6. Any other `{code,msg}` → [`RequestError::Rejected`].
//!
//! Retry safety ([`RequestError::is_retry_safe`]) follows trap 3 of `DEPENDENCIES.md`: a
//! request whose outcome is unknown is retried only if repeating it cannot duplicate an
//! effect (it is idempotent) or if it can be looked up first by its client order id.

use std::time::Duration;

use serde::Deserialize;

/// Whether a request can be repeated when its outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// Repeating it has no further effect (queries, cancels, listen-key calls).
    Idempotent,
    /// It creates an order under this client order id: look the id up before repeating.
    QueryableByClientId(String),
    /// Repeating it may duplicate an effect and it cannot be looked up.
    NotIdempotent,
}

/// Why authentication failed (§2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthFailure {
    /// `-2014`: the API key is malformed or missing.
    BadKeyFormat,
    /// `-2015`: unknown key, IP not allowed, or missing permission.
    RejectedKey,
    /// `-1022`: the signature does not match (wrong secret, or a signing bug).
    InvalidSignature,
    /// `-1002`: not authorised for this request.
    Unauthorized,
    /// HTTP 401 with no more specific code.
    Http401,
}

/// What to do about a failed request, as far as the venue's answer tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAdvice {
    /// Do not repeat it: the venue refused it, or repeating could duplicate an effect.
    Never,
    /// It had no effect (or repeating it has none): it may be sent again, after this wait if
    /// the venue named one.
    Retry {
        /// The venue's `Retry-After`, when it sent one.
        after: Option<Duration>,
    },
    /// Its outcome is unknown: query this client order id, and send again only if absent.
    QueryThenRetry {
        /// The client order id to look up.
        client_order_id: String,
    },
}

/// The `{"code":<n>,"msg":"…"}` error body of Binance (§5.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    /// The stable negative code.
    pub code: i32,
    /// The message (wording varies).
    pub msg: String,
}

/// Why a request to Binance failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Over a rate limit (HTTP 429, `-1003` weight or `-1015` order count). Not executed.
    #[error("binance: rate limited (HTTP {status:?}, code {code:?}): {msg}")]
    RateLimited {
        /// The HTTP status (429), if any.
        status: Option<u16>,
        /// Binance's code, if the body had one.
        code: Option<i32>,
        /// The message.
        msg: String,
        /// The `Retry-After` header (weight limits only; order-count 429s carry none).
        retry_after: Option<Duration>,
    },
    /// The IP is banned for going on after 429s (HTTP 418). Not executed.
    #[error("binance: IP banned (HTTP 418, code {code:?}): {msg}")]
    IpBanned {
        /// Binance's code (`-1003`), if any.
        code: Option<i32>,
        /// The message, which names the ban's end.
        msg: String,
        /// The `Retry-After` header, if sent.
        retry_after: Option<Duration>,
    },
    /// The credentials were refused. Not executed; trading must stop until fixed.
    #[error("binance: authentication failed ({failure:?}, HTTP {status:?}, code {code:?}): {msg}")]
    Auth {
        /// Which check failed.
        failure: AuthFailure,
        /// The HTTP status, if any.
        status: Option<u16>,
        /// Binance's code, if any.
        code: Option<i32>,
        /// The message.
        msg: String,
    },
    /// The order does not exist (`-2013` on a query) or is no longer open (`-2011` on a
    /// cancel): for recovery, "absent"; for a cancel, "already gone".
    #[error("binance: order not found (code {code}): {msg}")]
    NotFound {
        /// `-2013` or `-2011`.
        code: i32,
        /// The message.
        msg: String,
    },
    /// The venue refused the request with a code (filters, margin, parameters, timestamp…).
    #[error("binance: rejected (HTTP {status:?}, code {code}): {msg}")]
    Rejected {
        /// The HTTP status, if any (batch elements have none).
        status: Option<u16>,
        /// Binance's code.
        code: i32,
        /// The message.
        msg: String,
    },
    /// The venue failed (HTTP 5xx or 408, or `-1006`/`-1007`).
    #[error(
        "binance: server error (HTTP {status}, code {code:?}, outcome unknown: {outcome_unknown}): {msg}"
    )]
    Server {
        /// The HTTP status.
        status: u16,
        /// Binance's code, if the body had one.
        code: Option<i32>,
        /// The message or body text.
        msg: String,
        /// Whether the request may have executed.
        outcome_unknown: bool,
        /// Whether it can be repeated.
        idempotency: Idempotency,
    },
    /// An HTTP error status without a Binance error body (404 page, 403 WAF, ...).
    #[error("binance: HTTP {status}: {body}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// No answer within the request timeout: the request may have executed.
    #[error("binance: no answer within {timeout:?}")]
    Timeout {
        /// The timeout that fired.
        timeout: Duration,
        /// Whether it can be repeated.
        idempotency: Idempotency,
    },
    /// The connection could not be made: the request never reached the venue.
    #[error("binance: cannot connect: {detail}")]
    Connect {
        /// What went wrong.
        detail: String,
    },
    /// The connection failed after the request was sent: it may have executed.
    #[error("binance: connection lost during the request: {detail}")]
    Transport {
        /// What went wrong.
        detail: String,
        /// Whether it can be repeated.
        idempotency: Idempotency,
    },
    /// The WebSocket-API connection is closed: the request was not sent.
    #[error("binance: the WebSocket API connection is closed")]
    Closed,
    /// The answer arrived but could not be read: the request probably executed.
    #[error("binance: unreadable answer to {place}: {detail}")]
    Decode {
        /// The endpoint or method.
        place: String,
        /// What could not be read.
        detail: String,
    },
    /// Refused before sending: the request cannot be expressed for this endpoint.
    #[error("binance: request not sent: {reason}")]
    Invalid {
        /// Why.
        reason: String,
    },
}

impl RequestError {
    /// Classifies an error answer: HTTP `status` (if any), the parsed body (if any), the
    /// body text, the `Retry-After` header, and the request's idempotency (module docs).
    #[must_use]
    pub fn classify(
        status: Option<u16>,
        body: Option<ErrorBody>,
        text: &str,
        retry_after: Option<Duration>,
        idempotency: Idempotency,
    ) -> Self {
        let code = body.as_ref().map(|b| b.code);
        let msg = body.map_or_else(|| truncate(text), |b| b.msg);
        if status == Some(429) || (matches!(code, Some(-1003 | -1015)) && status != Some(418)) {
            return Self::RateLimited {
                status,
                code,
                msg,
                retry_after,
            };
        }
        if status == Some(418) {
            return Self::IpBanned {
                code,
                msg,
                retry_after,
            };
        }
        if let Some(failure) = auth_failure(status, code) {
            return Self::Auth {
                failure,
                status,
                code,
                msg,
            };
        }
        classify_rest(status, code, msg, idempotency)
    }

    /// Whether sending the request again is safe: rate limits, definite 503 failures,
    /// connection failures before sending, and unknown outcomes (timeouts, lost
    /// connections, unknown 5xx) of idempotent or client-id-queryable requests — the latter
    /// only after the query ([`Self::retry_advice`]). Never for other 4xx refusals.
    #[must_use]
    pub fn is_retry_safe(&self) -> bool {
        !matches!(self.retry_advice(), RetryAdvice::Never)
    }

    /// What to do next (module docs; [`Self::is_retry_safe`]).
    #[must_use]
    pub fn retry_advice(&self) -> RetryAdvice {
        match self {
            Self::RateLimited { retry_after, .. } => RetryAdvice::Retry {
                after: *retry_after,
            },
            Self::Server {
                outcome_unknown: false,
                status: 503,
                ..
            }
            | Self::Connect { .. }
            | Self::Closed => RetryAdvice::Retry { after: None },
            Self::Server {
                outcome_unknown: true,
                idempotency,
                ..
            }
            | Self::Timeout { idempotency, .. }
            | Self::Transport { idempotency, .. } => unknown_outcome_advice(idempotency),
            _ => RetryAdvice::Never,
        }
    }

    /// Whether the request may have executed at the venue although no answer says so.
    #[must_use]
    pub const fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. }
                | Self::Transport { .. }
                | Self::Decode { .. }
                | Self::Server {
                    outcome_unknown: true,
                    ..
                }
        )
    }

    /// Binance's error code, when the venue gave one.
    #[must_use]
    pub const fn code(&self) -> Option<i32> {
        match self {
            Self::RateLimited { code, .. }
            | Self::IpBanned { code, .. }
            | Self::Auth { code, .. }
            | Self::Server { code, .. } => *code,
            Self::NotFound { code, .. } | Self::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the venue refused the request's timestamp (`-1021`, or `-5028` at the
    /// matching engine): resync the server clock.
    #[must_use]
    pub const fn is_clock_skew(&self) -> bool {
        matches!(self.code(), Some(-1021 | -5028))
    }

    /// Whether the venue no longer knows the listen key (`-1125`): create a new one.
    #[must_use]
    pub const fn is_listen_key_expired(&self) -> bool {
        matches!(self.code(), Some(-1125))
    }

    /// Whether this is an authentication failure (trading must halt).
    #[must_use]
    pub const fn is_auth(&self) -> bool {
        matches!(self, Self::Auth { .. })
    }

    /// Whether the order is unknown or already closed at the venue.
    #[must_use]
    pub const fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// The wait the venue asked for, if any.
    #[must_use]
    pub const fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::IpBanned { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// A batch element's `{code,msg}` (HTTP 200 around it).
    #[must_use]
    pub fn from_batch_element(body: ErrorBody) -> Self {
        let text = body.msg.clone();
        Self::classify(None, Some(body), &text, None, Idempotency::NotIdempotent)
    }
}

/// Rules 4–6 of the module docs.
fn classify_rest(
    status: Option<u16>,
    code: Option<i32>,
    msg: String,
    idempotency: Idempotency,
) -> RequestError {
    if let Some(code @ (-2013 | -2011)) = code {
        return RequestError::NotFound { code, msg };
    }
    let server_status = status.filter(|s| *s >= 500 || *s == 408);
    if server_status.is_some() || matches!(code, Some(-1006 | -1007)) {
        let status = server_status.or(status).unwrap_or(0);
        let definite = status == 503
            && (matches!(code, Some(-1001 | -1008)) || msg.starts_with("Service Unavailable"));
        return RequestError::Server {
            status,
            code,
            msg,
            outcome_unknown: !definite,
            idempotency,
        };
    }
    match (status, code) {
        (status, Some(code)) => RequestError::Rejected { status, code, msg },
        (status, None) => RequestError::Http {
            status: status.unwrap_or(0),
            body: msg,
        },
    }
}

fn auth_failure(status: Option<u16>, code: Option<i32>) -> Option<AuthFailure> {
    match code {
        Some(-2014) => Some(AuthFailure::BadKeyFormat),
        Some(-2015) => Some(AuthFailure::RejectedKey),
        Some(-1022) => Some(AuthFailure::InvalidSignature),
        Some(-1002) => Some(AuthFailure::Unauthorized),
        _ if status == Some(401) => Some(AuthFailure::Http401),
        _ => None,
    }
}

fn unknown_outcome_advice(idempotency: &Idempotency) -> RetryAdvice {
    match idempotency {
        Idempotency::Idempotent => RetryAdvice::Retry { after: None },
        Idempotency::QueryableByClientId(id) => RetryAdvice::QueryThenRetry {
            client_order_id: id.clone(),
        },
        Idempotency::NotIdempotent => RetryAdvice::Never,
    }
}

/// Keeps messages bounded when a body is a large HTML page.
fn truncate(text: &str) -> String {
    const LIMIT: usize = 200;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: i32, msg: &str) -> Option<ErrorBody> {
        Some(ErrorBody {
            code,
            msg: msg.to_owned(),
        })
    }

    fn classify(status: u16, code: i32, msg: &str, idem: Idempotency) -> RequestError {
        RequestError::classify(Some(status), body(code, msg), msg, None, idem)
    }

    #[test]
    fn http_429_is_rate_limited_with_retry_after_and_safe_to_retry() {
        let error = RequestError::classify(
            Some(429),
            body(-1003, "Too many requests"),
            "",
            Some(Duration::from_secs(60)),
            Idempotency::NotIdempotent,
        );
        assert!(matches!(error, RequestError::RateLimited { .. }));
        assert_eq!(error.retry_after(), Some(Duration::from_secs(60)));
        assert!(error.is_retry_safe());
    }

    #[test]
    fn http_418_is_a_ban_and_not_retried() {
        let error = classify(418, -1003, "Way too many requests", Idempotency::Idempotent);
        assert!(matches!(error, RequestError::IpBanned { .. }));
        assert!(!error.is_retry_safe());
    }

    #[test]
    fn key_and_signature_errors_are_auth_failures_never_retried() {
        for (status, code, failure) in [
            (401, -2014, AuthFailure::BadKeyFormat),
            (401, -2015, AuthFailure::RejectedKey),
            (400, -1022, AuthFailure::InvalidSignature),
            (401, -1000, AuthFailure::Http401),
        ] {
            let error = classify(status, code, "x", Idempotency::Idempotent);
            assert_eq!(
                error,
                RequestError::Auth {
                    failure,
                    status: Some(status),
                    code: Some(code),
                    msg: "x".into()
                }
            );
            assert!(!error.is_retry_safe());
        }
    }

    #[test]
    fn unknown_order_codes_are_not_found() {
        for code in [-2013, -2011] {
            let error = classify(400, code, "Order does not exist.", Idempotency::Idempotent);
            assert!(error.is_not_found(), "{error}");
            assert!(!error.is_retry_safe());
        }
    }

    #[test]
    fn service_unavailable_503_is_a_definite_failure_safe_to_retry() {
        let error = classify(
            503,
            -1001,
            "Service Unavailable.",
            Idempotency::NotIdempotent,
        );
        assert!(!error.outcome_unknown());
        assert!(error.is_retry_safe());
    }

    #[test]
    fn unknown_outcomes_retry_only_when_idempotent_or_queryable() {
        let unknown = |idem| {
            classify(
                503,
                -1007,
                "Timeout waiting for response from backend server.",
                idem,
            )
        };
        assert!(unknown(Idempotency::Idempotent).is_retry_safe());
        assert!(!unknown(Idempotency::NotIdempotent).is_retry_safe());
        let queryable = unknown(Idempotency::QueryableByClientId("c1".into()));
        assert!(queryable.outcome_unknown());
        assert_eq!(
            queryable.retry_advice(),
            RetryAdvice::QueryThenRetry {
                client_order_id: "c1".into()
            }
        );
    }

    #[test]
    fn other_4xx_refusals_are_never_retried() {
        let error = classify(
            400,
            -4164,
            "Order's notional must be no smaller than 100",
            Idempotency::Idempotent,
        );
        assert!(matches!(error, RequestError::Rejected { code: -4164, .. }));
        assert!(!error.is_retry_safe());
        let skew = classify(
            400,
            -1021,
            "Timestamp outside of the recvWindow.",
            Idempotency::Idempotent,
        );
        assert!(skew.is_clock_skew() && !skew.is_retry_safe());
    }

    #[test]
    fn a_status_without_an_error_body_is_kept_as_http() {
        let error = RequestError::classify(
            Some(403),
            None,
            "<html>forbidden</html>",
            None,
            Idempotency::Idempotent,
        );
        assert_eq!(
            error,
            RequestError::Http {
                status: 403,
                body: "<html>forbidden</html>".into()
            }
        );
    }
}
