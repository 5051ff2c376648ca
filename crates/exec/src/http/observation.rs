//! The order API of a service in observation mode (seed 000 FR-OE-007: "log signals only,
//! don't generate orders"): each order request is validated exactly as the live service
//! validates it — the same rules, the same market and account view read from the venue — and
//! answered `observed` when it would have passed, logged and counted. No order is created and
//! nothing is sent to the venue.
//!
//! | route | does |
//! |---|---|
//! | `POST /api/v1/orders` | validates an `OrderRequest`: 200 `observed`, or 422 `rejected` with the live service's code |
//! | `GET /api/v1/orders[?symbol=S]` | the requests observed or refused, oldest first (the last [`KEPT`]) |
//! | `GET /api/v1/orders/{id}` | one of them, by client order id or request id |
//! | `DELETE /api/v1/orders/{id}`, `DELETE /api/v1/orders?symbol=S` | nothing to cancel: 404, or an empty list |
//!
//! A repeated request id gets its first answer again, as in live mode. The order's client
//! order id is its own or `{prefix}-obs-{n}`. The local order rate (`max_orders_per_second`)
//! counts observed orders, since live mode would have sent them; the venue's counters do not.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kestrel_model::OrderRequest;
use serde_json::{Value, json};

use super::{SymbolQuery, bad_request, error};
use crate::clock::Clock;
use crate::context::VenueContext;
use crate::driver::SystemClock;
use crate::ratelimit::{Cost, VenueUsage};
use crate::validate::{Rejection, Validator};

/// How many answered requests are kept for the read routes and for repeated request ids.
pub const KEPT: usize = 10_000;

/// What the observation API counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObservedCounts {
    /// Requests that would have been sent.
    pub observed: u64,
    /// Requests validation refused.
    pub rejected: u64,
}

/// One answered request.
#[derive(Debug, Clone)]
struct Answered {
    client_order_id: String,
    symbol: String,
    status: StatusCode,
    body: Value,
}

#[derive(Debug, Default)]
struct Log {
    next_id: u64,
    by_request: HashMap<String, Answered>,
    order: VecDeque<String>,
    counts: ObservedCounts,
}

/// Validates and records order requests without placing them (module docs).
#[derive(Debug)]
pub struct Observer {
    validator: Mutex<Validator>,
    context: Arc<VenueContext>,
    clock: SystemClock,
    prefix: String,
    log: Mutex<Log>,
}

impl Observer {
    /// An observer validating with `validator` against `context`, naming orders that come
    /// without a client order id `{prefix}-obs-{n}`.
    #[must_use]
    pub fn new(validator: Validator, context: Arc<VenueContext>, prefix: &str) -> Self {
        Self {
            validator: Mutex::new(validator),
            context,
            clock: SystemClock::new(),
            prefix: prefix.to_owned(),
            log: Mutex::new(Log::default()),
        }
    }

    /// How many requests were observed and refused so far.
    #[must_use]
    pub fn counts(&self) -> ObservedCounts {
        lock(&self.log).counts
    }

    /// Validates `request` and answers it: 200 `observed` or 422 `rejected` (recorded), 422
    /// `unknown_symbol` for a symbol the service does not serve (not recorded).
    fn observe(&self, mut request: OrderRequest) -> (StatusCode, Value) {
        let mut log = lock(&self.log);
        if let Some(first) = log.by_request.get(&request.request_id) {
            return (first.status, first.body.clone());
        }
        let client_order_id = match &request.client_order_id {
            Some(id) => id.clone(),
            None => format!("{}-obs-{}", self.prefix, log.next_id + 1),
        };
        request.client_order_id = Some(client_order_id.clone());
        let now = self.clock.now();
        // No order is ever opened, so none counts against the open-order cap.
        let verdict = self.context.with_context(&request, 0, |ctx| {
            ctx.map(|ctx| {
                let mut validator = lock(&self.validator);
                let verdict = validator.validate(request.clone(), ctx, now);
                // Nothing goes to the venue: its windows get the order back at once.
                validator
                    .venue_mut()
                    .on_answer(Cost::ORDER, VenueUsage::default(), now);
                // `None`: it passed (its approval is dropped: nothing is sent).
                verdict.err().map(|refused| refused.rejection)
            })
        });
        let Some(verdict) = verdict else {
            let message = format!("{} is not traded by this service", request.symbol);
            let body = json!({ "code": "unknown_symbol", "error": message });
            return (StatusCode::UNPROCESSABLE_ENTITY, body);
        };
        log.next_id += 1;
        let answered = match verdict {
            None => observed(&request, &client_order_id, &mut log.counts),
            Some(rejection) => rejected(&request, &client_order_id, &rejection, &mut log),
        };
        let reply = (answered.status, answered.body.clone());
        remember(&mut log, &request.request_id, answered);
        reply
    }
}

fn observed(
    request: &OrderRequest,
    client_order_id: &str,
    counts: &mut ObservedCounts,
) -> Answered {
    counts.observed += 1;
    metrics::counter!("kestrel_exec_observed_orders_total", "outcome" => "observed").increment(1);
    tracing::info!(
        target: "kestrel::exec",
        request_id = %request.request_id, client_order_id, symbol = %request.symbol,
        side = ?request.side, order_type = ?request.order_type, quantity = %request.quantity,
        price = ?request.price, "order observed (observation mode: not sent)"
    );
    Answered {
        client_order_id: client_order_id.to_owned(),
        symbol: request.symbol.clone(),
        status: StatusCode::OK,
        body: json!({
            "request_id": request.request_id, "status": "observed",
            "order_id": client_order_id, "client_order_id": client_order_id,
            "execution_mode": "observation", "symbol": request.symbol, "side": request.side,
            "type": request.order_type, "quantity": request.quantity, "price": request.price,
            "stop_price": request.stop_price,
        }),
    }
}

fn rejected(
    request: &OrderRequest,
    client_order_id: &str,
    rejection: &Rejection,
    log: &mut Log,
) -> Answered {
    log.counts.rejected += 1;
    metrics::counter!("kestrel_exec_observed_orders_total", "outcome" => "rejected").increment(1);
    tracing::info!(
        target: "kestrel::exec",
        request_id = %request.request_id, client_order_id, code = rejection.code(),
        reason = %rejection, "order refused (observation mode)"
    );
    Answered {
        client_order_id: client_order_id.to_owned(),
        symbol: request.symbol.clone(),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        body: json!({
            "request_id": request.request_id, "status": "rejected",
            "error": rejection.to_string(), "code": rejection.code(),
            "client_order_id": client_order_id, "execution_mode": "observation",
        }),
    }
}

/// Keeps `answered` under its request id, forgetting the oldest beyond [`KEPT`].
fn remember(log: &mut Log, request_id: &str, answered: Answered) {
    if log.order.len() >= KEPT
        && let Some(oldest) = log.order.pop_front()
    {
        log.by_request.remove(&oldest);
    }
    log.order.push_back(request_id.to_owned());
    log.by_request.insert(request_id.to_owned(), answered);
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The order routes of observation mode (module docs) over `observer`.
pub fn observation_router(observer: Arc<Observer>) -> Router {
    Router::new()
        .route(
            "/api/v1/orders",
            get(list).post(submit).delete(cancel_symbol),
        )
        .route("/api/v1/orders/{id}", get(one).delete(cancel))
        .with_state(observer)
}

async fn submit(State(observer): State<Arc<Observer>>, body: Bytes) -> Response {
    match serde_json::from_slice::<OrderRequest>(&body) {
        Ok(request) => {
            let (status, body) = observer.observe(request);
            (status, axum::Json(body)).into_response()
        }
        Err(error) => bad_request(&format!("not an order request: {error}")),
    }
}

async fn list(State(observer): State<Arc<Observer>>, Query(query): Query<SymbolQuery>) -> Response {
    let symbol = query.symbol.map(|s| s.to_ascii_uppercase());
    let log = lock(&observer.log);
    let answers: Vec<Value> = log
        .order
        .iter()
        .filter_map(|request_id| log.by_request.get(request_id))
        .filter(|a| symbol.as_deref().is_none_or(|s| a.symbol == s))
        .map(|a| a.body.clone())
        .collect();
    axum::Json(answers).into_response()
}

async fn one(State(observer): State<Arc<Observer>>, Path(id): Path<String>) -> Response {
    let log = lock(&observer.log);
    let found = log.by_request.get(&id).or_else(|| {
        log.by_request
            .values()
            .find(|answered| answered.client_order_id == id)
    });
    match found {
        Some(answered) => axum::Json(answered.body.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown_order",
            &format!("no order {id}"),
        ),
    }
}

async fn cancel(Path(id): Path<String>) -> Response {
    let message = format!("{id}: observation mode places no orders, so none can be canceled");
    error(StatusCode::NOT_FOUND, "unknown_order", &message)
}

async fn cancel_symbol(Query(query): Query<SymbolQuery>) -> Response {
    match query.symbol {
        Some(symbol) => {
            let symbol = symbol.to_ascii_uppercase();
            axum::Json(json!({ "symbol": symbol, "canceled": [] })).into_response()
        }
        None => bad_request("symbol is required: DELETE /api/v1/orders?symbol=BTCUSDT"),
    }
}
