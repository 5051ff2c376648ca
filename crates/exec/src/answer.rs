//! [`OrderAnswer`]: what the execution engine answers an order request with (seed 000
//! FR-OE-001 "order acknowledgment or rejection"), and what a repeated request id gets again
//! (NFR-OE-003). The journal stores the first answer of every intent, so the answer survives a
//! restart.

use std::fmt;

use kestrel_model::order::OrderStatus;
use serde::{Deserialize, Serialize};

/// The `result` label of `order_requests_total` (seed 000 metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerResult {
    /// The venue accepted the order (or it was found there and adopted).
    Success,
    /// Refused: by validation, by the engine (halted), or by the venue's business rules.
    Rejected,
    /// Not placed for a technical reason (retries spent, breaker open, venue unreachable).
    Failed,
}

impl AnswerResult {
    /// `success`, `rejected` or `failed`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }
}

/// The answer to one order request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum OrderAnswer {
    /// The order is at the venue.
    Accepted {
        /// The caller's request id.
        request_id: String,
        /// The client order id it was sent with.
        client_order_id: String,
        /// The venue's order id.
        venue_order_id: u64,
        /// Its status when the answer was given.
        status: OrderStatus,
        /// Whether it was adopted after an unknown outcome (found by client order id) rather
        /// than acknowledged by the placement's own answer.
        adopted: bool,
    },
    /// The order was refused and does not exist at the venue.
    Rejected {
        /// The caller's request id.
        request_id: String,
        /// The client order id assigned, if one was.
        client_order_id: Option<String>,
        /// A stable code: a validation code (`insufficient_margin`, ...), `trading_halted`,
        /// or `venue_{code}` for the venue's own refusal (`venue_-2019`).
        code: String,
        /// What was refused and why, naming the rule or the venue's message.
        message: String,
    },
    /// The order could not be placed and is known not to exist at the venue.
    Failed {
        /// The caller's request id.
        request_id: String,
        /// The client order id it was sent with.
        client_order_id: String,
        /// A stable code (`attempts_exhausted`, `not_placed`, `circuit_open`, ...).
        code: String,
        /// What happened.
        message: String,
    },
}

impl OrderAnswer {
    /// The `order_requests_total{result}` label.
    #[must_use]
    pub const fn result(&self) -> AnswerResult {
        match self {
            Self::Accepted { .. } => AnswerResult::Success,
            Self::Rejected { .. } => AnswerResult::Rejected,
            Self::Failed { .. } => AnswerResult::Failed,
        }
    }

    /// The caller's request id.
    #[must_use]
    pub fn request_id(&self) -> &str {
        match self {
            Self::Accepted { request_id, .. }
            | Self::Rejected { request_id, .. }
            | Self::Failed { request_id, .. } => request_id,
        }
    }

    /// The client order id, when one was assigned.
    #[must_use]
    pub fn client_order_id(&self) -> Option<&str> {
        match self {
            Self::Accepted {
                client_order_id, ..
            }
            | Self::Failed {
                client_order_id, ..
            } => Some(client_order_id),
            Self::Rejected {
                client_order_id, ..
            } => client_order_id.as_deref(),
        }
    }

    /// The venue's order id, for an accepted order.
    #[must_use]
    pub const fn venue_order_id(&self) -> Option<u64> {
        match self {
            Self::Accepted { venue_order_id, .. } => Some(*venue_order_id),
            _ => None,
        }
    }

    /// The refusal or failure code; `None` for an accepted order.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Accepted { .. } => None,
            Self::Rejected { code, .. } | Self::Failed { code, .. } => Some(code),
        }
    }

    /// Whether the order is at the venue.
    #[must_use]
    pub const fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }
}

impl fmt::Display for OrderAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Accepted {
                client_order_id,
                venue_order_id,
                status,
                adopted,
                ..
            } => {
                let how = if *adopted { "adopted" } else { "accepted" };
                write!(
                    f,
                    "order {client_order_id} {how} as venue order {venue_order_id} ({status:?})"
                )
            }
            Self::Rejected { code, message, .. } => write!(f, "rejected ({code}): {message}"),
            Self::Failed {
                client_order_id,
                code,
                message,
                ..
            } => write!(f, "order {client_order_id} failed ({code}): {message}"),
        }
    }
}
