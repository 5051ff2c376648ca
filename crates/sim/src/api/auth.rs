//! Endpoint security: the `X-MBX-APIKEY` header, HMAC-SHA256 request signatures and the
//! timestamp window (`../shared/binance-futures.md` §2.1–§2.4, §2.6).
//!
//! Order of checks for a SIGNED request, first failure wins:
//! 1. API key header present and well formed, else `-2014`; known, else `-2015` (both HTTP
//!    401). A missing header is `-2014` "API-key format invalid.", as Binance answers: no
//!    key is a key in no valid format. "Well formed" is 1–256 visible ASCII characters;
//!    the simulator's own keys need not be Binance's 64 alphanumerics.
//! 2. `timestamp` sent and an integer, else `-1102`.
//! 3. `recvWindow` (optional, default 5000 ms) an integer ≤ 60000, else `-1130`; the
//!    reference gives 60000 as the usual ceiling and names no futures code, so the generic
//!    invalid-parameter code is used.
//! 4. `signature` sent, else `-1102`.
//! 5. The window (§2.4): accept when `timestamp < now + 1000` and
//!    `now − timestamp ≤ recvWindow`, else `-1021` (ahead, or outside the recvWindow).
//!    Timing comes before the signature so a client with a drifting clock sees `-1021`.
//! 6. The signature (§2.3), else `-1022`.
//!
//! Signature rule (§2.3): `totalParams` is the raw query string concatenated directly with
//! the raw body (no `&` between them), with the `signature=…` pair (and the `&` joining it)
//! removed from whichever part carries it; the signature is the lowercase hex
//! HMAC-SHA256 of `totalParams` keyed by the secret, compared case-insensitively and in
//! constant time. If the raw form fails, the percent-decoded form is tried (`+` as space,
//! then `+` kept) for clients such as python-binance that sign unencoded values and send
//! encoded ones; this fallback is the reference's suggestion, not Binance behaviour.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::errors::ApiError;
use super::params::{Params, decode_component};

/// The header carrying the API key (§2.1).
pub const API_KEY_HEADER: &str = "X-MBX-APIKEY";
/// `recvWindow` when the request does not send one (§2.4).
pub const DEFAULT_RECV_WINDOW_MS: u64 = 5_000;
/// The largest `recvWindow` accepted (§2.4).
pub const MAX_RECV_WINDOW_MS: u64 = 60_000;
/// How far ahead of the server clock a timestamp may be, exclusive (§2.4).
pub const MAX_AHEAD_MS: u64 = 1_000;
/// The longest API key accepted as well formed.
pub const MAX_API_KEY_LEN: usize = 256;

/// What an endpoint requires of the caller (§2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityLevel {
    /// Public: no key, no signature.
    None,
    /// Market data that needs the API key header.
    MarketData,
    /// The listenKey endpoints: API key header, no signature.
    UserStream,
    /// `TRADE` and `USER_DATA`: API key header, `timestamp` and `signature`.
    Signed,
}

impl SecurityLevel {
    /// Whether the endpoint needs a known API key in the header.
    #[must_use]
    pub const fn needs_api_key(self) -> bool {
        !matches!(self, Self::None)
    }

    /// Whether the endpoint needs `timestamp` and `signature`.
    #[must_use]
    pub const fn needs_signature(self) -> bool {
        matches!(self, Self::Signed)
    }
}

/// Finds the HMAC secret of an API key. Keys are case-sensitive (§2.1).
pub trait SecretLookup {
    /// The secret for `api_key`, or `None` if the key is unknown.
    fn secret(&self, api_key: &str) -> Option<Cow<'_, str>>;
}

impl<F> SecretLookup for F
where
    F: Fn(&str) -> Option<String>,
{
    fn secret(&self, api_key: &str) -> Option<Cow<'_, str>> {
        self(api_key).map(Cow::Owned)
    }
}

impl SecretLookup for HashMap<String, String> {
    fn secret(&self, api_key: &str) -> Option<Cow<'_, str>> {
        self.get(api_key)
            .map(|secret| Cow::Borrowed(secret.as_str()))
    }
}

impl SecretLookup for BTreeMap<String, String> {
    fn secret(&self, api_key: &str) -> Option<Cow<'_, str>> {
        self.get(api_key)
            .map(|secret| Cow::Borrowed(secret.as_str()))
    }
}

/// The parts of an HTTP request that authentication looks at, exactly as received.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// The raw query string, without the `?`.
    pub query: &'a str,
    /// The raw body bytes.
    pub body: &'a [u8],
    /// The raw `X-MBX-APIKEY` header value, if sent.
    pub api_key: Option<&'a [u8]>,
}

impl<'a> RawRequest<'a> {
    /// The request's query, body and API key header.
    #[must_use]
    pub fn new(query: &'a str, body: &'a [u8], headers: &'a HeaderMap) -> Self {
        let api_key = headers.get(API_KEY_HEADER).map(|value| value.as_bytes());
        Self {
            query,
            body,
            api_key,
        }
    }
}

/// Who made an accepted request, and the timing it declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The API key, for every level but [`SecurityLevel::None`].
    pub api_key: Option<String>,
    /// The request's `timestamp` (signed requests).
    pub timestamp_ms: Option<u64>,
    /// The request's `recvWindow`, defaulted (signed requests).
    pub recv_window_ms: Option<u64>,
}

/// Checks a request against `level` (order of checks in the module docs; §2.1–§2.4).
///
/// # Errors
/// `-2014`, `-2015`, `-1102`, `-1130`, `-1021` or `-1022` as the module docs describe.
pub fn authenticate<S: SecretLookup + ?Sized>(
    level: SecurityLevel,
    request: &RawRequest<'_>,
    params: &Params,
    secrets: &S,
    now_ms: u64,
) -> Result<Authenticated, ApiError> {
    if !level.needs_api_key() {
        return Ok(Authenticated {
            api_key: None,
            timestamp_ms: None,
            recv_window_ms: None,
        });
    }
    let api_key = check_api_key_format(request.api_key)?;
    let secret = secrets
        .secret(api_key)
        .ok_or_else(ApiError::rejected_api_key)?;
    let mut accepted = Authenticated {
        api_key: Some(api_key.to_owned()),
        timestamp_ms: None,
        recv_window_ms: None,
    };
    if level.needs_signature() {
        let (timestamp_ms, recv_window_ms) = check_signed(request, params, &secret, now_ms)?;
        accepted.timestamp_ms = Some(timestamp_ms);
        accepted.recv_window_ms = Some(recv_window_ms);
    }
    Ok(accepted)
}

/// Steps 2–6 for a SIGNED request: returns `(timestamp, recvWindow)`.
fn check_signed(
    request: &RawRequest<'_>,
    params: &Params,
    secret: &str,
    now_ms: u64,
) -> Result<(u64, u64), ApiError> {
    let timestamp_ms = params
        .opt_u64("timestamp")
        .ok()
        .flatten()
        .ok_or_else(|| ApiError::mandatory_param("timestamp"))?;
    let recv_window_ms = recv_window(params)?;
    params.mark_read("signature");
    let (signature, payload) = split_signature(request.query, request.body)
        .ok_or_else(|| ApiError::mandatory_param("signature"))?;
    check_timestamp(timestamp_ms, recv_window_ms, now_ms)?;
    verify_signature(&payload, &signature, secret)?;
    Ok((timestamp_ms, recv_window_ms))
}

/// The header's API key if it is 1–256 visible ASCII characters.
///
/// # Errors
/// `-2014` when the header is missing or malformed (§2.6).
pub fn check_api_key_format(header: Option<&[u8]>) -> Result<&str, ApiError> {
    let bytes = header.ok_or_else(ApiError::bad_api_key_format)?;
    let well_formed = !bytes.is_empty()
        && bytes.len() <= MAX_API_KEY_LEN
        && bytes.iter().all(|byte| byte.is_ascii_graphic());
    if !well_formed {
        return Err(ApiError::bad_api_key_format());
    }
    std::str::from_utf8(bytes).map_err(|_| ApiError::bad_api_key_format())
}

/// The request's `recvWindow`: 5000 when absent, at most 60000 (§2.4).
///
/// # Errors
/// `-1130` when not an integer or above 60000.
pub fn recv_window(params: &Params) -> Result<u64, ApiError> {
    match params.opt_u64("recvWindow")? {
        None => Ok(DEFAULT_RECV_WINDOW_MS),
        Some(window) if window <= MAX_RECV_WINDOW_MS => Ok(window),
        Some(_) => Err(ApiError::invalid_parameter("recvWindow")),
    }
}

/// The §2.4 window: `timestamp < now + 1000` and `now − timestamp ≤ recvWindow`.
///
/// # Errors
/// `-1021` "…1000ms ahead of the server's time." or "…outside of the recvWindow.".
pub fn check_timestamp(
    timestamp_ms: u64,
    recv_window_ms: u64,
    now_ms: u64,
) -> Result<(), ApiError> {
    if timestamp_ms >= now_ms.saturating_add(MAX_AHEAD_MS) {
        return Err(ApiError::timestamp_ahead());
    }
    if now_ms.saturating_sub(timestamp_ms) > recv_window_ms {
        return Err(ApiError::timestamp_outside_recv_window());
    }
    Ok(())
}

/// Takes the `signature` value out of the query (or else the body) and returns it with
/// `totalParams`: query and body, signature pair removed, concatenated directly (§2.3).
/// `None` when neither part carries a non-empty signature.
#[must_use]
pub fn split_signature(query: &str, body: &[u8]) -> Option<(String, Vec<u8>)> {
    if let Some((signature, rest)) = remove_signature(query.as_bytes()) {
        let mut payload = rest;
        payload.extend_from_slice(body);
        return Some((signature, payload));
    }
    let (signature, rest) = remove_signature(body)?;
    let mut payload = query.as_bytes().to_vec();
    payload.extend_from_slice(&rest);
    Some((signature, payload))
}

/// Removes the last `signature=…` pair of one `&`-joined part, with the `&` joining it.
fn remove_signature(part: &[u8]) -> Option<(String, Vec<u8>)> {
    let pieces: Vec<&[u8]> = part.split(|&byte| byte == b'&').collect();
    let at = pieces
        .iter()
        .rposition(|piece| piece.starts_with(b"signature="))?;
    let value = &pieces[at][b"signature=".len()..];
    let signature = decode_component(value, false).ok()?;
    if signature.is_empty() {
        return None;
    }
    let kept: Vec<&[u8]> = pieces
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != at)
        .map(|(_, piece)| *piece)
        .collect();
    Some((signature, kept.join(&b'&')))
}

/// Checks a hex HMAC-SHA256 `signature` of `payload`, then of its percent-decoded forms.
///
/// # Errors
/// `-1022` when no form matches.
pub fn verify_signature(payload: &[u8], signature: &str, secret: &str) -> Result<(), ApiError> {
    let tag = hex::decode(signature.trim()).map_err(|_| ApiError::invalid_signature())?;
    if mac_matches(payload, &tag, secret) {
        return Ok(());
    }
    for plus_is_space in [true, false] {
        if let Ok(decoded) = decode_component(payload, plus_is_space)
            && decoded.as_bytes() != payload
            && mac_matches(decoded.as_bytes(), &tag, secret)
        {
            return Ok(());
        }
    }
    Err(ApiError::invalid_signature())
}

fn mac_matches(payload: &[u8], tag: &[u8], secret: &str) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(payload);
    mac.verify_slice(tag).is_ok()
}

/// The client-side signature: lowercase hex HMAC-SHA256 of `query` + `body` (§2.3).
#[must_use]
pub fn sign(query: &str, body: &str, secret: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes keys of any length, so this cannot happen.
        return String::new();
    };
    mac.update(query.as_bytes());
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `query` with `&signature=<hex>` appended, as the connector sends it (§2.2, §2.3).
#[must_use]
pub fn signed_query(query: &str, secret: &str) -> String {
    let signature = sign(query, "", secret);
    if query.is_empty() {
        format!("signature={signature}")
    } else {
        format!("{query}&signature={signature}")
    }
}

#[cfg(test)]
mod tests;
