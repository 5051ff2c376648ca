//! The control API under `/sim/v1/...`: pause, resume and step the synthetic market, read the
//! true book, fund an account, set a mark price, and inject faults.
//!
//! Faults (`POST /sim/v1/faults`, a JSON object with `kind`):
//! - `drop_connections`: every WebSocket is closed now;
//! - `gap` (`symbol`, `skip`): the next `skip` diff-depth events of `symbol` are not delivered
//!   on any stream, so subscribers see `pu` break;
//! - `http_error` (`status`, `count`, optional `path_prefix`): the next `count` REST requests
//!   (matching the prefix) answer `status` with Binance's body for it (429, 418, 503, ...);
//! - `timeout` (`count`, optional `path_prefix`): the next `count` requests stall 30 s, then
//!   answer 503 `-1007` (execution status unknown);
//! - `latency` (`ms`, optional `path_prefix`): every request (matching the prefix; a WS-API
//!   request's path is `/ws-fapi/v1`) is delayed by `ms` (0 turns it off);
//! - `expire_listen_key` (optional `listen_key`): that key, or every live key, expires now.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kestrel_model::{Money, Price};
use serde::Deserialize;
use serde_json::{Value, json};

use super::rest::fixed;
use super::{Shared, lock};
use crate::api::ApiError;
use crate::exchange::Cadence;

/// Faults waiting to hit requests and streams.
#[derive(Debug, Default)]
pub struct Faults {
    http_errors: Vec<(u16, u32, String)>,
    timeouts: Vec<(u32, String)>,
    latency_ms: u64,
    latency_prefix: String,
    gaps: BTreeMap<(String, Cadence), u32>,
}

/// What the faults do to one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Injected {
    /// Delay before answering.
    pub latency_ms: u64,
    /// Answer this status instead.
    pub http_status: Option<u16>,
    /// Stall, then answer "unknown".
    pub timeout: bool,
}

impl Faults {
    /// The delay the latency fault gives a request on `path`, in ms.
    pub fn latency_for(&self, path: &str) -> u64 {
        if path.starts_with(self.latency_prefix.as_str()) {
            self.latency_ms
        } else {
            0
        }
    }

    /// Consumes the faults that apply to a request on `path`.
    pub fn on_request(&mut self, path: &str) -> Injected {
        let mut injected = Injected {
            latency_ms: self.latency_for(path),
            ..Injected::default()
        };
        if let Some(fault) = self
            .http_errors
            .iter_mut()
            .find(|(_, n, prefix)| *n > 0 && path.starts_with(prefix.as_str()))
        {
            fault.1 -= 1;
            injected.http_status = Some(fault.0);
        } else if let Some(fault) = self
            .timeouts
            .iter_mut()
            .find(|(n, prefix)| *n > 0 && path.starts_with(prefix.as_str()))
        {
            fault.0 -= 1;
            injected.timeout = true;
        }
        self.http_errors.retain(|(_, n, _)| *n > 0);
        self.timeouts.retain(|(n, _)| *n > 0);
        injected
    }

    /// Whether the next diff-depth event of `symbol` at `cadence` is to be swallowed.
    pub fn take_gap(&mut self, symbol: &str, cadence: Cadence) -> bool {
        let key = (symbol.to_owned(), cadence);
        match self.gaps.get_mut(&key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}

/// The body of `POST /sim/v1/faults`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultRequest {
    /// Close every WebSocket.
    DropConnections,
    /// Swallow diff-depth events.
    Gap {
        /// The symbol.
        symbol: String,
        /// How many events per stream.
        skip: u32,
    },
    /// Answer with an HTTP error.
    HttpError {
        /// The status.
        status: u16,
        /// How many requests.
        count: u32,
        /// Only requests whose path starts with this.
        #[serde(default)]
        path_prefix: String,
    },
    /// Stall requests.
    Timeout {
        /// How many requests.
        count: u32,
        /// Only requests whose path starts with this.
        #[serde(default)]
        path_prefix: String,
    },
    /// Delay every request.
    Latency {
        /// The delay.
        ms: u64,
        /// Only requests whose path starts with this.
        #[serde(default)]
        path_prefix: String,
    },
    /// Expire listen keys.
    ExpireListenKey {
        /// The key; every live key when absent.
        #[serde(default)]
        listen_key: Option<String>,
    },
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}

/// `POST /sim/v1/market/pause`.
pub(super) async fn pause(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.driver).set_paused(true);
    ok(json!({ "paused": true }))
}

/// `POST /sim/v1/market/resume`.
pub(super) async fn resume(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.driver).set_paused(false);
    ok(json!({ "paused": false }))
}

/// The body of `POST /sim/v1/market/step`.
#[derive(Debug, Deserialize)]
pub(super) struct StepRequest {
    /// Simulated milliseconds to advance the paused market by.
    ms: u64,
}

/// `POST /sim/v1/market/step`: advances a paused market by `ms` of simulated time.
pub(super) async fn step(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<StepRequest>,
) -> Response {
    let actions = super::driver::step_by(&shared, request.ms);
    ok(json!({ "actions": actions }))
}

/// Query of `GET /sim/v1/book/{symbol}`.
#[derive(Debug, Deserialize)]
pub(super) struct BookQuery {
    depth: Option<usize>,
}

/// `GET /sim/v1/book/{symbol}?depth=N`: the true book in the REST depth shape.
pub(super) async fn book(
    State(shared): State<Arc<Shared>>,
    Path(symbol): Path<String>,
    Query(query): Query<BookQuery>,
) -> Response {
    let depth = query.depth.unwrap_or(1000).min(5000);
    let symbol = symbol.to_ascii_uppercase();
    let answer = shared.with_exchange(|exchange, _| {
        let p = exchange.market(&symbol)?.precision;
        let book = exchange.depth(&symbol, depth)?;
        let levels = |side: &[(Price, kestrel_model::Qty)]| -> Vec<[String; 2]> {
            side.iter().map(|(price, qty)| [fixed(price, p.price), fixed(qty, p.qty)]).collect()
        };
        Ok::<_, ApiError>(json!({ "lastUpdateId": book.last_update_id, "bids": levels(&book.bids), "asks": levels(&book.asks) }))
    });
    answer.map_or_else(IntoResponse::into_response, ok)
}

/// The body of `POST /sim/v1/fund`.
#[derive(Debug, Deserialize)]
pub(super) struct FundRequest {
    /// The account's API key; the first account when absent.
    #[serde(default)]
    api_key: Option<String>,
    /// USDT to credit, as a decimal string.
    amount: Money,
}

/// `POST /sim/v1/fund`: credits USDT to an account.
pub(super) async fn fund(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<FundRequest>,
) -> Response {
    let answer = shared.with_exchange(|exchange, now| {
        let account = match &request.api_key {
            Some(key) => exchange
                .account_for(key)
                .ok_or_else(ApiError::rejected_api_key)?,
            None => 1,
        };
        let balance = exchange.deposit(account, request.amount, now)?;
        Ok::<_, ApiError>(json!({ "balance": fixed(balance, 8) }))
    });
    answer.map_or_else(IntoResponse::into_response, ok)
}

/// The body of `POST /sim/v1/mark`.
#[derive(Debug, Deserialize)]
pub(super) struct MarkRequest {
    symbol: String,
    price: Price,
}

/// `POST /sim/v1/mark`: sets a symbol's mark (and index) price; the synthetic market's own
/// mark updates resume at the next interval unless it is paused.
pub(super) async fn mark(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<MarkRequest>,
) -> Response {
    let symbol = request.symbol.to_ascii_uppercase();
    let answer = shared.with_exchange(|exchange, now| {
        let rate = exchange.market(&symbol)?.mark.funding_rate;
        exchange.set_mark(&symbol, request.price, request.price, rate, now)?;
        Ok::<_, ApiError>(json!({ "symbol": symbol, "markPrice": request.price.to_string() }))
    });
    answer.map_or_else(IntoResponse::into_response, ok)
}

/// `POST /sim/v1/faults`.
pub(super) async fn fault(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<FaultRequest>,
) -> Response {
    match request {
        FaultRequest::DropConnections => {
            shared
                .drop_sockets
                .send_modify(|generation| *generation += 1);
        }
        FaultRequest::Gap { symbol, skip } => {
            let mut faults = lock(&shared.faults);
            for cadence in Cadence::ALL {
                faults
                    .gaps
                    .insert((symbol.to_ascii_uppercase(), cadence), skip);
            }
        }
        FaultRequest::HttpError {
            status,
            count,
            path_prefix,
        } => {
            lock(&shared.faults)
                .http_errors
                .push((status, count, path_prefix));
        }
        FaultRequest::Timeout { count, path_prefix } => {
            lock(&shared.faults).timeouts.push((count, path_prefix))
        }
        FaultRequest::Latency { ms, path_prefix } => {
            let mut faults = lock(&shared.faults);
            faults.latency_ms = ms;
            faults.latency_prefix = path_prefix;
        }
        FaultRequest::ExpireListenKey { listen_key } => {
            shared.with_exchange(|exchange, now| {
                let keys = listen_key.map_or_else(|| exchange.listen_keys(), |key| vec![key]);
                for key in keys {
                    exchange.expire_listen_key(&key, now);
                }
            });
        }
    }
    ok(json!({ "ok": true }))
}

/// `GET /sim/v1/status`: what the simulator is doing.
pub(super) async fn status(State(shared): State<Arc<Shared>>) -> Response {
    let (paused, mirror) = {
        let driver = lock(&shared.driver);
        (driver.paused(), driver.mirror_status())
    };
    let symbols: Vec<String> = lock(&shared.exchange).markets().keys().cloned().collect();
    let mut body = json!({
        "paused": paused, "symbols": symbols, "streams": shared.hub.subscribed_market_streams(),
    });
    if let Some(mirror) = mirror {
        body["mirror"] = mirror;
    }
    ok(body)
}
