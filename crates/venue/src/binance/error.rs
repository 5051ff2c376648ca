//! [`ParseError`]: why a Binance message could not be turned into a Kestrel event.

use kestrel_model::MoneyError;

/// Why a Binance message (a WebSocket frame or a REST body) was refused.
///
/// Every variant is caused by outside input. [`ParseError::kind`] gives a stable code for the
/// `errors_total{type}` metric; the set of codes is [`ParseError::KINDS`]. Building an error
/// allocates (it says what was found and where); parsing well-formed input does not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The text is not well-formed JSON (syntax error, truncated, trailing characters, nested
    /// too deep).
    #[error("binance: invalid JSON in {place}: {detail}")]
    InvalidJson {
        /// What was being parsed (`market frame`, `exchangeInfo`, ...).
        place: &'static str,
        /// The JSON library's description, with the position.
        detail: String,
    },
    /// Well-formed JSON of no shape this adapter knows: not an object, or an object with none
    /// of `e`, `lastUpdateId`, `code`, `result`/`id`.
    #[error("binance: unrecognised {place}: {detail}")]
    UnknownEvent {
        /// What was being parsed.
        place: &'static str,
        /// What was found instead.
        detail: String,
    },
    /// A field the message type requires is absent.
    #[error("binance: missing field {place}")]
    MissingField {
        /// The message type and field, e.g. `depthUpdate.pu`.
        place: String,
    },
    /// A field has the wrong JSON type (e.g. an id as a string, a price as a number).
    #[error("binance: field {place} must be {expected}, found {found}")]
    WrongType {
        /// The message type and field, e.g. `trade.t`.
        place: String,
        /// The type required.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A price, quantity or rate string that is not an exact decimal the field can hold
    /// (garbage, too many decimals, out of range, or negative where that means nothing).
    #[error("binance: field {place} is not a valid decimal {text:?}: {reason}")]
    BadDecimal {
        /// The message type and field, e.g. `bookTicker.b` or `depthUpdate.a[3].qty`.
        place: String,
        /// The rejected text (truncated when long).
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A depth level that is not a `[price, qty]` pair of strings.
    #[error("binance: level {place} {reason}")]
    BadLevel {
        /// The message type, side and index, e.g. `depthUpdate.b[3]`.
        place: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl ParseError {
    /// Every value [`Self::kind`] can return, for pre-registering metric labels.
    pub const KINDS: [&'static str; 6] = [
        "invalid_json",
        "unknown_event",
        "missing_field",
        "wrong_type",
        "bad_decimal",
        "bad_level",
    ];

    /// The stable error code for the `errors_total{type}` metric (one of [`Self::KINDS`]).
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } => "invalid_json",
            Self::UnknownEvent { .. } => "unknown_event",
            Self::MissingField { .. } => "missing_field",
            Self::WrongType { .. } => "wrong_type",
            Self::BadDecimal { .. } => "bad_decimal",
            Self::BadLevel { .. } => "bad_level",
        }
    }

    /// A [`Self::BadDecimal`] from the money parser's refusal.
    pub(crate) fn bad_decimal(place: String, text: &str, error: &MoneyError) -> Self {
        Self::BadDecimal {
            place,
            text: truncate(text),
            reason: decimal_reason(error),
        }
    }
}

/// Why the money parser refused a text, without repeating the text.
pub(crate) fn decimal_reason(error: &MoneyError) -> String {
    match error {
        MoneyError::Parse { reason, .. } => (*reason).to_owned(),
        MoneyError::OutOfRange { max, .. } => format!("out of range (the largest is {max})"),
        other => other.to_string(),
    }
}

/// Keeps error messages bounded when the rejected input is huge.
pub(crate) fn truncate(text: &str) -> String {
    const LIMIT: usize = 64;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
