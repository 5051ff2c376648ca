//! Building, signing and sending one REST request, and turning the answer into a value or a
//! [`RequestError`] (`../shared/binance-futures.md` §2.1–§2.4, §4.2, §4.4, §5.1).

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;

use super::RestClient;
use crate::binance::rate_limit::RateLimits;
use crate::binance::request_error::{ErrorBody, Idempotency, RequestError};
use crate::binance::signing::Params;

/// The header carrying the API key (§2.1).
const API_KEY_HEADER: &str = "X-MBX-APIKEY";

/// What an endpoint requires of the caller (§2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Security {
    /// Public.
    None,
    /// API key header only (`USER_STREAM`).
    ApiKey,
    /// API key header, `timestamp`, `recvWindow` and `signature` (`TRADE`, `USER_DATA`).
    Signed,
}

/// One request to send.
#[derive(Debug)]
pub(super) struct Call {
    pub method: Method,
    pub path: &'static str,
    pub params: Params,
    pub security: Security,
    pub idempotency: Idempotency,
}

impl Call {
    /// A signed request.
    pub fn signed(
        method: Method,
        path: &'static str,
        params: Params,
        idempotency: Idempotency,
    ) -> Self {
        Self {
            method,
            path,
            params,
            security: Security::Signed,
            idempotency,
        }
    }

    /// A signed, idempotent `GET`.
    pub fn signed_get(path: &'static str, params: Params) -> Self {
        Self::signed(Method::GET, path, params, Idempotency::Idempotent)
    }
}

impl RestClient {
    /// Sends `call` and parses a successful answer as `T`.
    pub(super) async fn call<T: DeserializeOwned>(&self, call: Call) -> Result<T, RequestError> {
        let path = call.path;
        let body = self.send(call).await?;
        serde_json::from_slice(&body).map_err(|e| RequestError::Decode {
            place: path.to_owned(),
            detail: e.to_string(),
        })
    }

    /// Sends `call` once; returns the body of a 2xx answer, or the classified error.
    pub(super) async fn send(&self, call: Call) -> Result<Vec<u8>, RequestError> {
        let timeout = self.inner.config.request_timeout;
        let idempotency = call.idempotency.clone();
        let request = self.build(call);
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&e, timeout, &idempotency))?;
        self.read(response, timeout, idempotency).await
    }

    /// The request with its exact, signed text in the query (`GET`/`DELETE`) or the body.
    fn build(&self, call: Call) -> reqwest::RequestBuilder {
        let inner = &self.inner;
        let text = match call.security {
            Security::Signed => call.params.signed_encoded(
                &inner.credentials,
                inner.clock.timestamp_ms(),
                inner.config.recv_window_ms,
            ),
            Security::None | Security::ApiKey => call.params.encoded(),
        };
        let in_body = matches!(call.method, Method::POST | Method::PUT);
        let mut url = format!("{}{}", inner.config.base_url, call.path);
        if !in_body && !text.is_empty() {
            url.push('?');
            url.push_str(&text);
        }
        let mut request = inner.http.request(call.method, url);
        if call.security != Security::None {
            request = request.header(API_KEY_HEADER, inner.credentials.api_key());
        }
        if in_body {
            request = request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(text);
        }
        request
    }

    /// Records the rate-limit headers, reads the body and classifies an error status.
    async fn read(
        &self,
        response: Response,
        timeout: Duration,
        idempotency: Idempotency,
    ) -> Result<Vec<u8>, RequestError> {
        let status = response.status();
        let headers = response.headers().clone();
        self.inner.limits.record(RateLimits::from_headers(&headers));
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(&e, timeout, &idempotency))?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let text = String::from_utf8_lossy(&body);
        let parsed = serde_json::from_slice::<ErrorBody>(&body).ok();
        Err(RequestError::classify(
            Some(status.as_u16()),
            parsed,
            &text,
            retry_after(&headers),
            idempotency,
        ))
    }
}

/// `Retry-After` in seconds (§4.4); the HTTP-date form is not used by Binance.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A failure of the HTTP exchange itself: our timeout, no connection, or a lost one.
fn transport_error(
    error: &reqwest::Error,
    timeout: Duration,
    idempotency: &Idempotency,
) -> RequestError {
    if error.is_timeout() {
        RequestError::Timeout {
            timeout,
            idempotency: idempotency.clone(),
        }
    } else if error.is_connect() {
        RequestError::Connect {
            detail: error_chain(error),
        }
    } else if error.is_builder() {
        RequestError::Invalid {
            reason: error_chain(error),
        }
    } else {
        RequestError::Transport {
            detail: error_chain(error),
            idempotency: idempotency.clone(),
        }
    }
}

/// The error and its sources, so "connection refused" is not hidden behind "error sending
/// request".
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
