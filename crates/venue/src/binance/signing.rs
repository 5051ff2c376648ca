//! Request signing for Binance's SIGNED endpoints (`../shared/binance-futures.md` §2.3, §2.4):
//! API credentials, the HMAC-SHA256 signature, the server-time offset that stamps `timestamp`,
//! and the ordered parameter list whose exact text is both signed and sent.
//!
//! Rules implemented:
//! - REST (§2.3): the signature is the lowercase hex HMAC-SHA256, keyed by the secret, of the
//!   query string concatenated directly with the body, **exactly as sent** (so after
//!   percent-encoding), with `timestamp` and `recvWindow` inside it; `signature=<hex>` is then
//!   appended as the last parameter of the part that carries the others.
//! - WebSocket API (§2.5, the WS-API rule): the payload is every parameter except `signature`
//!   sorted by name and joined as `key=value&...`, values not encoded.
//! - Timing (§2.4): `timestamp` is the local clock plus the offset to the server clock
//!   measured from `GET /fapi/v1/time`, so a drifting host clock does not earn `-1021`.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The `recvWindow` sent when none is configured: Binance's default and advised ceiling (§2.4).
pub const DEFAULT_RECV_WINDOW_MS: u64 = 5_000;

/// An API key and its HMAC secret. The secret never leaves this type except as a signature,
/// and `Debug` shows neither the secret nor the whole key.
#[derive(Clone)]
pub struct Credentials {
    api_key: String,
    secret: SecretString,
}

impl Credentials {
    /// Credentials from an API key and its secret (both case-sensitive, §2.1).
    #[must_use]
    pub fn new(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            secret: SecretString::from(secret.into()),
        }
    }

    /// The API key, sent in the `X-MBX-APIKEY` header (REST) or as `apiKey` (WS API).
    #[must_use]
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The lowercase hex HMAC-SHA256 of `parts` concatenated, keyed by the secret (§2.3).
    #[must_use]
    pub fn sign(&self, parts: &[&[u8]]) -> String {
        let secret = self.secret.expose_secret().as_bytes();
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            // HMAC accepts keys of any length; this branch cannot be taken.
            return String::new();
        };
        for part in parts {
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.api_key.chars().take(4).collect();
        f.debug_struct("Credentials")
            .field("api_key", &format_args!("{shown}…"))
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// The offset between the venue's clock and ours, applied to every `timestamp` (§2.4).
///
/// Shared (behind an `Arc`) by the REST and WebSocket clients of one venue; updated by
/// [`crate::binance::rest::RestClient::sync_clock`].
#[derive(Debug, Default)]
pub struct ServerClock {
    offset_ms: AtomicI64,
}

impl ServerClock {
    /// A clock with no offset (the local clock is assumed right until synced).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            offset_ms: AtomicI64::new(0),
        }
    }

    /// Server time minus local time, in milliseconds.
    #[must_use]
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Sets the offset directly (tests, or an offset measured elsewhere).
    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::Relaxed);
    }

    /// Records a server time read between local times `sent_ms` and `received_ms`: the
    /// server stamped it, on average, halfway through the round trip. Returns the new offset.
    pub fn observe(&self, server_ms: u64, sent_ms: u64, received_ms: u64) -> i64 {
        let midpoint = i128::from(sent_ms) + (i128::from(received_ms) - i128::from(sent_ms)) / 2;
        let offset = i128::from(server_ms) - midpoint;
        let offset = i64::try_from(offset).unwrap_or(0);
        self.set_offset_ms(offset);
        offset
    }

    /// The `timestamp` to send now: local time plus the offset.
    #[must_use]
    pub fn timestamp_ms(&self) -> u64 {
        let local = i128::from(local_now_ms());
        u64::try_from(local + i128::from(self.offset_ms())).unwrap_or(0)
    }
}

/// Milliseconds since the Unix epoch on the local clock (the adapter is the edge where wall
/// time enters; the trading core takes time from its own clock).
#[must_use]
pub fn local_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One request parameter: its name, its text, and whether it is an integer (sent as a JSON
/// number on the WebSocket API; the signed text is the same either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Binance's parameter name.
    pub key: &'static str,
    /// The value exactly as Binance reads it (decimals as exact strings).
    pub value: String,
    /// Whether the value is an integer (ids, times, limits).
    pub integer: bool,
}

/// An ordered list of request parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    items: Vec<Param>,
}

impl Params {
    /// No parameters.
    #[must_use]
    pub const fn new() -> Self {
        Self { items: Vec::new() }
    }

    /// Adds a text parameter.
    pub fn text(&mut self, key: &'static str, value: impl Into<String>) -> &mut Self {
        self.items.push(Param {
            key,
            value: value.into(),
            integer: false,
        });
        self
    }

    /// Adds an integer parameter.
    pub fn int(&mut self, key: &'static str, value: u64) -> &mut Self {
        self.items.push(Param {
            key,
            value: value.to_string(),
            integer: true,
        });
        self
    }

    /// Adds a text parameter when `value` is `Some`.
    pub fn opt_text(&mut self, key: &'static str, value: Option<impl Into<String>>) -> &mut Self {
        if let Some(value) = value {
            self.text(key, value);
        }
        self
    }

    /// Adds an integer parameter when `value` is `Some`.
    pub fn opt_int(&mut self, key: &'static str, value: Option<u64>) -> &mut Self {
        if let Some(value) = value {
            self.int(key, value);
        }
        self
    }

    /// Adds `key=true` when `flag` is set; Binance's default for these flags is false.
    pub fn flag(&mut self, key: &'static str, flag: bool) -> &mut Self {
        if flag {
            self.text(key, "true");
        }
        self
    }

    /// The parameters in order.
    #[must_use]
    pub fn items(&self) -> &[Param] {
        &self.items
    }

    /// The value of `key`, if present.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    /// `key=value&...` in order, values percent-encoded: the exact text sent (REST).
    #[must_use]
    pub fn encoded(&self) -> String {
        let mut out = String::with_capacity(self.items.len() * 24);
        for (n, param) in self.items.iter().enumerate() {
            if n > 0 {
                out.push('&');
            }
            out.push_str(param.key);
            out.push('=');
            percent_encode_into(&param.value, &mut out);
        }
        out
    }

    /// Adds `timestamp` and `recvWindow`, then returns the encoded text with
    /// `&signature=<hex>` appended: the REST signing rule (§2.3) for parameters sent in one
    /// part (all in the query, or all in the body).
    #[must_use]
    pub fn signed_encoded(
        mut self,
        credentials: &Credentials,
        timestamp_ms: u64,
        recv_window_ms: u64,
    ) -> String {
        self.int("recvWindow", recv_window_ms);
        self.int("timestamp", timestamp_ms);
        let mut text = self.encoded();
        let signature = credentials.sign(&[text.as_bytes()]);
        text.push_str("&signature=");
        text.push_str(&signature);
        text
    }

    /// The WS-API signature payload (§2.5): every parameter sorted by name, `key=value`
    /// joined by `&`, values as they are (not encoded).
    #[must_use]
    pub fn sorted_payload(&self) -> String {
        let mut sorted: Vec<&Param> = self.items.iter().collect();
        sorted.sort_by(|a, b| a.key.cmp(b.key).then_with(|| a.value.cmp(&b.value)));
        let mut out = String::with_capacity(self.items.len() * 24);
        for (n, param) in sorted.into_iter().enumerate() {
            if n > 0 {
                out.push('&');
            }
            out.push_str(param.key);
            out.push('=');
            out.push_str(&param.value);
        }
        out
    }
}

/// Appends `text` percent-encoded: every byte but `A-Z a-z 0-9 - _ . ~` becomes `%XX`, so the
/// text survives any URL or form parser unchanged and the signature covers what the venue
/// reads.
fn percent_encode_into(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret of Binance's signing examples (USD-M futures "General Info", SIGNED
    /// endpoint examples).
    const DOC_SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    const DOC_KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";

    #[test]
    fn signature_matches_binance_documented_query_string_example() {
        let credentials = Credentials::new(DOC_KEY, DOC_SECRET);
        let query = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
        assert_eq!(
            credentials.sign(&[query.as_bytes()]),
            "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
        );
    }

    #[test]
    fn mixed_query_and_body_are_concatenated_without_an_ampersand() {
        // Binance's example 3, byte for byte: its echo command has a stray space after
        // `timestamp=`, and the published signature is of that exact text.
        let credentials = Credentials::new(DOC_KEY, DOC_SECRET);
        let query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC";
        let body = "quantity=1&price=9000&recvWindow=5000&timestamp= 1591702613943";
        assert_eq!(
            credentials.sign(&[query.as_bytes(), body.as_bytes()]),
            "f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2"
        );
    }

    #[test]
    fn signed_encoded_signs_the_exact_text_including_timestamp_and_recv_window() {
        let credentials = Credentials::new(DOC_KEY, DOC_SECRET);
        let mut params = Params::new();
        params
            .text("symbol", "BTCUSDT")
            .text("side", "BUY")
            .text("type", "LIMIT")
            .text("quantity", "1")
            .text("price", "9000")
            .text("timeInForce", "GTC");
        let text = params.signed_encoded(&credentials, 1_591_702_613_943, 5_000);
        assert_eq!(
            text,
            "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
        );
    }

    #[test]
    fn values_are_percent_encoded_before_signing() {
        let mut params = Params::new();
        params
            .text("newClientOrderId", "a:b/c")
            .text("batchOrders", r#"[{"a":"1"}]"#);
        assert_eq!(
            params.encoded(),
            "newClientOrderId=a%3Ab%2Fc&batchOrders=%5B%7B%22a%22%3A%221%22%7D%5D"
        );
    }

    #[test]
    fn ws_payload_sorts_by_name_and_keeps_values_raw() {
        let mut params = Params::new();
        params
            .text("symbol", "BTCUSDT")
            .text("apiKey", "k")
            .int("timestamp", 7)
            .text("newClientOrderId", "a:b");
        assert_eq!(
            params.sorted_payload(),
            "apiKey=k&newClientOrderId=a:b&symbol=BTCUSDT&timestamp=7"
        );
    }

    #[test]
    fn debug_redacts_the_secret_and_most_of_the_key() {
        let shown = format!("{:?}", Credentials::new(DOC_KEY, DOC_SECRET));
        assert!(!shown.contains(DOC_SECRET), "{shown}");
        assert!(!shown.contains(DOC_KEY), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }

    #[test]
    fn server_clock_takes_the_offset_at_the_round_trip_midpoint() {
        let clock = ServerClock::new();
        assert_eq!(clock.observe(1_000_500, 1_000_000, 1_000_200), 400);
        assert_eq!(clock.offset_ms(), 400);
        assert_eq!(clock.observe(999_000, 1_000_000, 1_000_000), -1_000);
    }
}
