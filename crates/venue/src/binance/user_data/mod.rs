//! The user-data stream (`../shared/binance-futures.md` §8): the listen key that names it,
//! its events parsed into typed structs ([`UserEvent`]), and a connection helper
//! ([`UserStream`]).
//!
//! Lifecycle (§8.1), split between this adapter and the execution engine:
//! - [`crate::binance::rest::RestClient::create_listen_key`] starts a stream (60 minutes);
//!   [`crate::binance::rest::RestClient::keepalive_listen_key`] extends it, every
//!   [`KEEPALIVE_INTERVAL`]; `-1125` on a keepalive means it lapsed;
//!   [`crate::binance::rest::RestClient::close_listen_key`] ends it.
//! - When a key lapses while connected, [`UserEvent::ListenKeyExpired`] arrives and nothing
//!   more does: the engine creates a new key, reconnects, and reconciles over REST.
//! - The socket itself closes after 24 hours or on a fault; [`UserStream::next_event`] then
//!   returns `None`, and reconnecting is the engine's decision.

mod events;
mod stream;

use std::fmt;
use std::time::Duration;

pub use events::{
    AccountConfigUpdate, AccountUpdate, AccountUpdateData, AccountUpdateReason, AlgoOrderUpdate,
    AlgoUpdate, BalanceUpdate, ExecutionType, LeverageChange, ListenKeyExpired, MarginCall,
    MarginCallPosition, MultiAssetsChange, OrderTradeUpdate, OrderUpdate, PositionUpdate,
    TradeLite,
};
pub use stream::{UserStream, UserStreamError};

use serde::Deserialize;

/// How often to extend a listen key: well inside its 60 minutes (ccxt uses 20, §8.1).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30 * 60);

/// The name of a user-data stream, from `POST /fapi/v1/listenKey`. It grants read access to
/// the account's events, so `Debug` shows only its start.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ListenKey(String);

impl ListenKey {
    /// Wraps a key the venue issued.
    #[must_use]
    pub const fn new(key: String) -> Self {
        Self(key)
    }

    /// The key's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ListenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.0.chars().take(6).collect();
        write!(f, "ListenKey({shown}…)")
    }
}

/// One user-data event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEvent {
    /// An order changed or filled.
    OrderTradeUpdate(OrderTradeUpdate),
    /// Balances or positions changed.
    AccountUpdate(AccountUpdate),
    /// Positions near liquidation.
    MarginCall(MarginCall),
    /// The listen key lapsed; nothing more will arrive on it.
    ListenKeyExpired(ListenKeyExpired),
    /// A low-latency fill notice.
    TradeLite(TradeLite),
    /// A conditional order changed.
    AlgoUpdate(AlgoUpdate),
    /// Leverage or multi-assets mode changed.
    AccountConfigUpdate(AccountConfigUpdate),
    /// An event type this adapter does not parse (`STRATEGY_UPDATE`, `GRID_UPDATE`, ...).
    Other {
        /// Its `e`.
        event_type: String,
    },
}

/// Why a user-data frame could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("binance: bad user-data event {event_type:?}: {detail} in {frame}")]
pub struct UserEventError {
    /// The frame's `e`, if it had one.
    pub event_type: Option<String>,
    /// What is wrong.
    pub detail: String,
    /// The start of the frame.
    pub frame: String,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    e: Option<std::borrow::Cow<'a, str>>,
}

/// Parses one user-data frame (a bare event object, as on `/ws/<listenKey>`).
///
/// # Errors
/// [`UserEventError`] for a frame that is not JSON, has no `e`, or whose known event type has
/// a missing or malformed field.
pub fn parse_user_event(text: &str) -> Result<UserEvent, UserEventError> {
    let envelope: Envelope<'_> =
        serde_json::from_str(text).map_err(|e| event_error(None, text, &e))?;
    let Some(kind) = envelope.e else {
        return Err(UserEventError {
            event_type: None,
            detail: "no event type `e`".to_owned(),
            frame: truncate(text),
        });
    };
    let parsed = match kind.as_ref() {
        "ORDER_TRADE_UPDATE" => serde_json::from_str(text).map(UserEvent::OrderTradeUpdate),
        "ACCOUNT_UPDATE" => serde_json::from_str(text).map(UserEvent::AccountUpdate),
        "MARGIN_CALL" => serde_json::from_str(text).map(UserEvent::MarginCall),
        "listenKeyExpired" => serde_json::from_str(text).map(UserEvent::ListenKeyExpired),
        "TRADE_LITE" => serde_json::from_str(text).map(UserEvent::TradeLite),
        "ALGO_UPDATE" => serde_json::from_str(text).map(UserEvent::AlgoUpdate),
        "ACCOUNT_CONFIG_UPDATE" => serde_json::from_str(text).map(UserEvent::AccountConfigUpdate),
        other => Ok(UserEvent::Other {
            event_type: other.to_owned(),
        }),
    };
    parsed.map_err(|e| event_error(Some(kind.as_ref()), text, &e))
}

fn event_error(kind: Option<&str>, text: &str, error: &serde_json::Error) -> UserEventError {
    UserEventError {
        event_type: kind.map(str::to_owned),
        detail: error.to_string(),
        frame: truncate(text),
    }
}

fn truncate(text: &str) -> String {
    const LIMIT: usize = 160;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
