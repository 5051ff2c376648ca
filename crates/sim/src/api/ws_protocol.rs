//! The market/user-data WebSocket protocol (`../shared/binance-futures.md` §1.2–§1.4, §6,
//! §8.1, §10.3): URL shapes ([`WsTarget`]), stream names ([`StreamSpec`], [`Stream`]),
//! control frames ([`parse_control`], [`Subscriptions`]) and combined-stream framing
//! ([`wrap_combined`]).
//!
//! The connection task owns one [`Subscriptions`]: it starts from the URL
//! ([`StreamConnection::subscriptions`]), feeds every text frame to
//! [`Subscriptions::handle_text`] (or parses first with [`parse_control`] when it wants to
//! vet a listenKey before applying), and frames each outgoing payload with
//! [`Subscriptions::frame`].

mod control;
mod streams;
mod url;

use std::borrow::Cow;

pub use control::{
    Applied, ControlError, ControlFrame, ControlRequest, RequestId, Subscriptions, parse_control,
};
pub use streams::{
    KlineInterval, LISTEN_KEY_LEN, Route, Stream, StreamError, StreamSpec, UpdateSpeed,
    is_listen_key,
};
pub use url::{StreamConnection, WsTarget, WsUrlError};

/// The most streams one connection may carry (§1.4).
pub const MAX_STREAMS: usize = 1024;

/// Wraps a payload for a combined connection: `{"stream":"<name>","data":<payload>}` (§1.2).
/// The payload is inserted as is, never re-parsed; it must already be JSON.
#[must_use]
pub fn wrap_combined(stream: &str, payload: &str) -> String {
    let mut framed = String::with_capacity(stream.len() + payload.len() + 22);
    framed.push_str("{\"stream\":");
    if stream
        .bytes()
        .all(|byte| byte.is_ascii_graphic() && byte != b'"' && byte != b'\\')
    {
        framed.push('"');
        framed.push_str(stream);
        framed.push('"');
    } else {
        framed.push_str(&serde_json::Value::from(stream).to_string());
    }
    framed.push_str(",\"data\":");
    framed.push_str(payload);
    framed.push('}');
    framed
}

impl Subscriptions {
    /// The frame to send for `payload` on `stream`: wrapped when the connection is
    /// combined, the bare payload otherwise (§1.2, §1.3).
    #[must_use]
    pub fn frame<'a>(&self, stream: &str, payload: &'a str) -> Cow<'a, str> {
        if self.combined() {
            Cow::Owned(wrap_combined(stream, payload))
        } else {
            Cow::Borrowed(payload)
        }
    }
}

#[cfg(test)]
mod tests;
