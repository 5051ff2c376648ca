//! The REST API under `/fapi/...`: one dispatcher that applies faults, rate limits and
//! authentication uniformly, then calls the endpoint's handler with the exchange locked.

pub mod account;
pub mod market_data;
pub mod trading;

use axum::http::Method;
use kestrel_model::Price;
use serde_json::Value;

use crate::api::{ApiError, Params, SecurityLevel};
use crate::exchange::Exchange;

/// What a handler gets besides the exchange: the parsed parameters, the caller's account
/// (for authenticated endpoints) and the time.
#[derive(Debug)]
pub struct Call<'a> {
    /// The request's parameters (query and body merged, query winning).
    pub params: &'a Params,
    /// The authenticated account, for `USER_STREAM` and `SIGNED` endpoints.
    pub account: Option<u32>,
    /// The request time, ms since the epoch.
    pub now_ms: u64,
}

impl Call<'_> {
    /// The authenticated account.
    ///
    /// # Errors
    /// `-2015` when the endpoint was reached without one (a routing mistake).
    pub fn account(&self) -> Result<u32, ApiError> {
        self.account.ok_or_else(ApiError::rejected_api_key)
    }
}

/// An endpoint's handler: runs with the exchange locked and returns the JSON body.
pub type Handler = fn(&mut Exchange, &Call<'_>) -> Result<Value, ApiError>;

/// One REST endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// What authentication it needs.
    pub security: SecurityLevel,
    /// The handler.
    pub handler: Handler,
}

/// Formats a price or quantity at `decimals` places, as Binance writes decimals.
#[must_use]
pub fn fixed(value: impl std::fmt::Display, decimals: usize) -> String {
    format!("{value:.decimals$}")
}

/// Looks up the endpoint for `method` and `path`.
#[must_use]
pub fn route(method: &Method, path: &str) -> Option<Endpoint> {
    let path = path.trim_end_matches('/');
    market_data::route(method, path)
        .or_else(|| trading::route(method, path))
        .or_else(|| account::route(method, path))
}

/// A price parameter that must be positive.
///
/// # Errors
/// `-1130` naming the parameter.
pub fn positive_price(params: &Params, key: &str) -> Result<Option<Price>, ApiError> {
    match params.opt_price(key)? {
        Some(p) if !p.is_positive() => Err(ApiError::invalid_parameter(key)),
        other => Ok(other),
    }
}
