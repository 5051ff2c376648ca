//! The `/fapi/...` request pipeline: faults, then rate limits, authentication, the order-rate
//! counters, and the endpoint's handler, with Binance's headers on every answer (§4.2).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::control::Injected;
use super::rest::{self, Call, Endpoint};
use super::{Shared, lock, now_ms};
use crate::api::auth::RawRequest;
use crate::api::limits::{USED_WEIGHT_1M_HEADER, WeightInput, weight};
use crate::api::{ApiError, Params, SecurityLevel, authenticate};

/// Handles every request under `/fapi/`.
pub(super) async fn fapi(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let injected = lock(&shared.faults).on_request(&path);
    if let Some(response) = apply_fault(injected).await {
        return response;
    }
    match handle(&shared, peer, &method, &path, &query, &headers, &body) {
        Ok(response) => response,
        Err((error, extra)) => with_headers(error.into_response(), &extra),
    }
}

/// Delays, fails or stalls the request as the active faults say.
async fn apply_fault(injected: Injected) -> Option<Response> {
    if injected.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(injected.latency_ms)).await;
    }
    if injected.timeout {
        // Long enough for any client timeout to fire first; then the outcome is "unknown".
        tokio::time::sleep(Duration::from_secs(30)).await;
        return Some(ApiError::new(503, -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.").into_response());
    }
    injected.http_status.map(fault_response)
}

fn fault_response(status: u16) -> Response {
    let error = match status {
        429 => ApiError::too_many_requests(2400, 60),
        418 => ApiError::ip_banned(now_ms() + 120_000, 120),
        503 => ApiError::new(503, -1001, "Service Unavailable."),
        other => ApiError::new(
            other,
            -1000,
            "An unknown error occured while processing the request.",
        ),
    };
    error.into_response()
}

/// Headers to add to an answer.
type Extra = Vec<(&'static str, String)>;

fn handle(
    shared: &Shared,
    peer: SocketAddr,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, (ApiError, Extra)> {
    let endpoint = rest::route(method, path).ok_or_else(|| (not_found(path), Vec::new()))?;
    let params = Params::parse(query, body).map_err(|e| (e, Vec::new()))?;
    let cost = weight(method, path, WeightInput::from_params(&params));
    let now = now_ms();
    let used = lock(&shared.weights)
        .charge(peer.ip(), cost.weight, now)
        .map_err(|e| (e, Vec::new()))?;
    let mut extra = vec![(USED_WEIGHT_1M_HEADER, used.to_string())];
    let account = match authenticate_call(shared, endpoint, query, body, headers, &params, now) {
        Ok(account) => account,
        Err(error) => return Err((error, extra)),
    };
    if cost.is_order()
        && let Some((key, _)) = &account
    {
        match lock(&shared.orders).charge(key, cost, now) {
            Ok(usage) => extra.extend(usage.headers()),
            Err(error) => return Err((error, extra)),
        }
    }
    let call = Call {
        params: &params,
        account: account.map(|(_, n)| n),
        now_ms: now,
    };
    let result = shared.with_exchange(|exchange, _| (endpoint.handler)(exchange, &call));
    let response = match result {
        Ok(value) => json_response(&value),
        Err(error) => error.into_response(),
    };
    Ok(with_headers(response, &extra))
}

/// Authenticates per the endpoint's security level; returns the API key and account.
fn authenticate_call(
    shared: &Shared,
    endpoint: Endpoint,
    query: &str,
    body: &[u8],
    headers: &HeaderMap,
    params: &Params,
    now: u64,
) -> Result<Option<(String, u32)>, ApiError> {
    if endpoint.security == SecurityLevel::None {
        return Ok(None);
    }
    let request = RawRequest::new(query, body, headers);
    let lookup = |key: &str| lock(&shared.exchange).secret_for(key);
    let authenticated = authenticate(endpoint.security, &request, params, &lookup, now)?;
    let key = authenticated
        .api_key
        .ok_or_else(ApiError::rejected_api_key)?;
    let account = lock(&shared.exchange)
        .account_for(&key)
        .ok_or_else(ApiError::rejected_api_key)?;
    Ok(Some((key, account)))
}

fn json_response(value: &Value) -> Response {
    let mut response = (StatusCode::OK, value.to_string()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn with_headers(mut response: Response, headers: &[(&'static str, String)]) -> Response {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(lowercase(name)), value);
        }
    }
    response
}

/// Header names must be lower case for `HeaderName::from_static`; clients match them
/// case-insensitively (§4.2).
fn lowercase(name: &'static str) -> &'static str {
    match name {
        "X-MBX-USED-WEIGHT-1M" => "x-mbx-used-weight-1m",
        "X-MBX-ORDER-COUNT-10S" => "x-mbx-order-count-10s",
        "X-MBX-ORDER-COUNT-1M" => "x-mbx-order-count-1m",
        _ => "x-mbx-unknown",
    }
}

fn not_found(path: &str) -> ApiError {
    tracing::debug!(path, "unknown REST path");
    ApiError::new(404, -1099, "Not found, unauthenticated, or unauthorized")
}
