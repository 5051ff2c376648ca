//! The execution service's order API (seed 000 FR-OE-001, FR-OE-006), an axum [`Router`] for
//! whichever server mounts it (`kestrel exec`, later `kestrel run`). Authentication is the
//! mounting server's job: it wraps the mutating routes.
//!
//! | route | does |
//! |---|---|
//! | `POST /api/v1/orders` | submits an `OrderRequest` (JSON) and answers once it is settled |
//! | `DELETE /api/v1/orders/{id}` | cancels one order |
//! | `DELETE /api/v1/orders?symbol=S` | cancels every open order of `S` at the venue |
//! | `GET /api/v1/orders[?symbol=S&status=X]` | the orders known to the engine |
//! | `GET /api/v1/orders/{id}` | one order |
//!
//! `{id}` is the client order id (what `order_id` in answers holds) or the request id.
//! `status` filters by an order status (`NEW`, `FILLED`, ..., any case) or `open`.
//!
//! # Answers to `POST`
//!
//! The seed's `OrderResponse` — `request_id`, `status` (`accepted`, `rejected`, or `failed`:
//! not placed for a technical reason and known not to be at the venue), `order_id` when
//! accepted, `error` otherwise — plus `client_order_id`, `venue_order_id`, `order_status`
//! and a stable `code`. HTTP 200 when accepted (a repeated request id gets the first answer
//! again, also 200), 400 for a body that is not an order request, 422 when refused, 502 when
//! failed, 500 when the journal cannot record the intent (nothing was sent).
//!
//! # Execution modes (seed FR-OE-007)
//!
//! [`router`] serves a live service. [`router_in_mode`] serves the service's mode: in
//! `simulation` (paper) the driver's venue is the paper venue, so a request marked
//! `"execution_mode": "simulation"` is placed like an unmarked one; in `observation` nothing
//! is placed at all and [`observation_router`] answers instead (module [`observation`]).
//!
//! # A check before the engine's
//!
//! [`router_vetted`] asks an [`OrderVetter`] about each new request first (in `kestrel run`,
//! the risk manager's pre-trade checks, so an order from the API meets the same rules as a
//! strategy's). A veto refuses the request with the vetter's code (HTTP 422), journaled
//! like any refusal; a repeated request id still gets its first answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kestrel_model::order::{ExecutionMode, Order, OrderStatus};
use kestrel_model::{OrderRequest, Qty};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::OrderAnswer;
use crate::context::VenueContext;
use crate::driver::ExecDriver;
use crate::engine::{CancelOutcome, CancelRefusal, Veto};
use crate::journal::Journal;

pub mod observation;

pub use observation::{ObservedCounts, Observer, observation_router};

/// A check each new order request meets before the engine's own (module docs).
pub trait OrderVetter: Send + Sync + 'static {
    /// `None` to go on, or the refusal.
    fn vet<'a>(
        &'a self,
        request: &'a OrderRequest,
    ) -> Pin<Box<dyn Future<Output = Option<Veto>> + Send + 'a>>;
}

/// What the routes share.
pub struct OrderApi<J: Journal + 'static> {
    driver: Arc<ExecDriver<J>>,
    context: Arc<VenueContext>,
    mode: ExecutionMode,
    vetter: Option<Arc<dyn OrderVetter>>,
}

impl<J: Journal + 'static> Clone for OrderApi<J> {
    fn clone(&self) -> Self {
        Self {
            driver: Arc::clone(&self.driver),
            context: Arc::clone(&self.context),
            mode: self.mode,
            vetter: self.vetter.clone(),
        }
    }
}

/// The order routes of a live service over `driver`, validating against `context`.
pub fn router<J: Journal + 'static>(
    driver: Arc<ExecDriver<J>>,
    context: Arc<VenueContext>,
) -> Router {
    router_in_mode(driver, context, ExecutionMode::Live)
}

/// The order routes of a service in `mode` whose driver trades on that mode's venue (the
/// real one live, the paper venue in simulation); see the module docs. An observation service
/// has no driver: it mounts [`observation_router`].
pub fn router_in_mode<J: Journal + 'static>(
    driver: Arc<ExecDriver<J>>,
    context: Arc<VenueContext>,
    mode: ExecutionMode,
) -> Router {
    routes(OrderApi {
        driver,
        context,
        mode,
        vetter: None,
    })
}

/// The order routes of a live service whose new requests meet `vetter` first (module docs).
pub fn router_vetted<J: Journal + 'static>(
    driver: Arc<ExecDriver<J>>,
    context: Arc<VenueContext>,
    vetter: Arc<dyn OrderVetter>,
) -> Router {
    routes(OrderApi {
        driver,
        context,
        mode: ExecutionMode::Live,
        vetter: Some(vetter),
    })
}

fn routes<J: Journal + 'static>(api: OrderApi<J>) -> Router {
    Router::new()
        .route(
            "/api/v1/orders",
            get(list::<J>).post(submit::<J>).delete(cancel_symbol::<J>),
        )
        .route("/api/v1/orders/{id}", get(one::<J>).delete(cancel::<J>))
        .with_state(api)
}

/// The request as the driver should see it. The order engine places `live` requests on its
/// driver's venue; in a paper service that venue is the paper venue, so a request marked
/// for simulation is placed as the engine's `live`.
fn for_service(mut request: OrderRequest, mode: ExecutionMode) -> OrderRequest {
    if mode == ExecutionMode::Simulation && request.execution_mode == ExecutionMode::Simulation {
        request.execution_mode = ExecutionMode::Live;
    }
    request
}

async fn submit<J: Journal + 'static>(State(api): State<OrderApi<J>>, body: Bytes) -> Response {
    let request: OrderRequest = match serde_json::from_slice(&body) {
        Ok(request) => for_service(request, api.mode),
        Err(error) => return bad_request(&format!("not an order request: {error}")),
    };
    let veto = match &api.vetter {
        Some(vetter) => vetter.vet(&request).await,
        None => None,
    };
    let open = open_orders(&api.driver, &request.symbol);
    let submitted = api.context.with_context(&request, open, |ctx| {
        ctx.map(|ctx| api.driver.submit_vetted(request.clone(), ctx, veto))
    });
    let submission = match submitted {
        None => {
            let message = format!("{} is not traded by this service", request.symbol);
            return error(StatusCode::UNPROCESSABLE_ENTITY, "unknown_symbol", &message);
        }
        Some(Err(engine)) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "journal_failed",
                &engine.to_string(),
            );
        }
        Some(Ok(submission)) => submission,
    };
    answer_response(&submission.answer().await)
}

/// The seed's `OrderResponse` for `answer`, with its HTTP status.
fn answer_response(answer: &OrderAnswer) -> Response {
    let (status, body) = match answer {
        OrderAnswer::Accepted {
            request_id,
            client_order_id,
            venue_order_id,
            status,
            adopted,
        } => (
            StatusCode::OK,
            json!({
                "request_id": request_id, "status": "accepted", "order_id": client_order_id,
                "client_order_id": client_order_id, "venue_order_id": venue_order_id,
                "order_status": status, "adopted": adopted,
            }),
        ),
        OrderAnswer::Rejected {
            request_id,
            client_order_id,
            code,
            message,
        } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "request_id": request_id, "status": "rejected", "error": message,
                "code": code, "client_order_id": client_order_id,
            }),
        ),
        OrderAnswer::Failed {
            request_id,
            client_order_id,
            code,
            message,
        } => (
            StatusCode::BAD_GATEWAY,
            json!({
                "request_id": request_id, "status": "failed", "error": message,
                "code": code, "client_order_id": client_order_id,
            }),
        ),
    };
    (status, axum::Json(body)).into_response()
}

async fn cancel<J: Journal + 'static>(
    State(api): State<OrderApi<J>>,
    Path(id): Path<String>,
) -> Response {
    let client_order_id = resolve_id(&api.driver, &id);
    match api.driver.cancel(&client_order_id).await {
        Ok(CancelOutcome::Done(status)) => axum::Json(json!({
            "order_id": client_order_id, "status": status,
        }))
        .into_response(),
        Ok(CancelOutcome::AlreadyGone) => axum::Json(json!({
            "order_id": client_order_id, "status": "already_gone",
        }))
        .into_response(),
        Ok(CancelOutcome::Failed(failure)) => error(
            StatusCode::BAD_GATEWAY,
            "cancel_failed",
            &format!("{client_order_id}: {failure:?}"),
        ),
        Err(refusal) => cancel_refusal(&refusal),
    }
}

fn cancel_refusal(refusal: &CancelRefusal) -> Response {
    let (status, code) = match refusal {
        CancelRefusal::Unknown(_) => (StatusCode::NOT_FOUND, "unknown_order"),
        CancelRefusal::PlacementInFlight(_) => (StatusCode::CONFLICT, "placement_in_flight"),
        CancelRefusal::NotOpen { .. } => (StatusCode::CONFLICT, "not_open"),
    };
    error(status, code, &refusal.to_string())
}

#[derive(Debug, Deserialize)]
struct SymbolQuery {
    symbol: Option<String>,
    status: Option<String>,
}

async fn cancel_symbol<J: Journal + 'static>(
    State(api): State<OrderApi<J>>,
    Query(query): Query<SymbolQuery>,
) -> Response {
    let Some(symbol) = query.symbol.map(|s| s.to_ascii_uppercase()) else {
        return bad_request("symbol is required: DELETE /api/v1/orders?symbol=BTCUSDT");
    };
    // The user stream may report the cancels before the REST answer arrives, so the orders
    // open before the call and closed after it are the ones this cancel ended.
    let before = open_ids(&api.driver, &symbol);
    match api.driver.cancel_symbol(&symbol).await {
        Ok(mut canceled) => {
            let still_open = open_ids(&api.driver, &symbol);
            canceled.extend(before.into_iter().filter(|id| !still_open.contains(id)));
            canceled.sort();
            canceled.dedup();
            axum::Json(json!({ "symbol": symbol, "canceled": canceled })).into_response()
        }
        Err(failure) => error(
            StatusCode::BAD_GATEWAY,
            "cancel_failed",
            &format!("{symbol}: {failure:?}"),
        ),
    }
}

async fn list<J: Journal + 'static>(
    State(api): State<OrderApi<J>>,
    Query(query): Query<SymbolQuery>,
) -> Response {
    let symbol = query.symbol.map(|s| s.to_ascii_uppercase());
    let filter = match query.status.as_deref().map(StatusFilter::parse).transpose() {
        Ok(filter) => filter,
        Err(message) => return bad_request(&message),
    };
    let orders: Vec<Value> = api.driver.with_engine(|engine| {
        engine
            .orders()
            .filter(|o| symbol.as_deref().is_none_or(|s| o.request.symbol == s))
            .filter(|o| filter.is_none_or(|f| f.admits(o.status)))
            .map(order_view)
            .collect()
    });
    axum::Json(orders).into_response()
}

async fn one<J: Journal + 'static>(
    State(api): State<OrderApi<J>>,
    Path(id): Path<String>,
) -> Response {
    let client_order_id = resolve_id(&api.driver, &id);
    let view = api
        .driver
        .with_engine(|engine| engine.order(&client_order_id).map(order_view));
    view.map_or_else(
        || {
            error(
                StatusCode::NOT_FOUND,
                "unknown_order",
                &format!("no order {id}"),
            )
        },
        |view| axum::Json(view).into_response(),
    )
}

/// The client order id `id` names: itself, or the one bound to it as a request id.
fn resolve_id<J: Journal + 'static>(driver: &ExecDriver<J>, id: &str) -> String {
    driver.with_engine(|engine| {
        if engine.order(id).is_some() {
            id.to_owned()
        } else {
            engine
                .client_order_id_of(id)
                .map_or_else(|| id.to_owned(), str::to_owned)
        }
    })
}

fn open_orders<J: Journal + 'static>(driver: &ExecDriver<J>, symbol: &str) -> u32 {
    u32::try_from(open_ids(driver, symbol).len()).unwrap_or(u32::MAX)
}

/// The client order ids of `symbol`'s open orders.
fn open_ids<J: Journal + 'static>(driver: &ExecDriver<J>, symbol: &str) -> Vec<String> {
    driver.with_engine(|engine| {
        engine
            .orders()
            .filter(|o| o.request.symbol == symbol && o.status.is_open())
            .map(|o| o.client_order_id.clone())
            .collect()
    })
}

/// An order as the API shows it: the seed's `OrderUpdate` fields and what was asked.
fn order_view(order: &Order) -> Value {
    let request = &order.request;
    json!({
        "order_id": order.client_order_id,
        "client_order_id": order.client_order_id,
        "request_id": request.request_id,
        "venue_order_id": order.venue_order_id,
        "symbol": request.symbol,
        "side": request.side,
        "type": request.order_type,
        "price": request.price,
        "stop_price": request.stop_price,
        "quantity": request.quantity,
        "status": order.status,
        "filled_quantity": order.filled_qty,
        "remaining_quantity": order.remaining_qty().max(Qty::ZERO),
        "average_price": order.average_price(),
        "commission": order.commission,
        "maker_fills": order.maker_fills,
        "taker_fills": order.taker_fills,
        "reject_reason": order.reject_reason,
    })
}

/// `?status=`: one status, or every open one.
#[derive(Debug, Clone, Copy)]
enum StatusFilter {
    Open,
    Is(OrderStatus),
}

impl StatusFilter {
    fn parse(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("open") {
            return Ok(Self::Open);
        }
        serde_json::from_value(Value::String(text.to_ascii_uppercase()))
            .map(Self::Is)
            .map_err(|_| {
                format!(
                    "status {text:?}: expected open, NEW, PENDING_SUBMIT, SUBMITTED, \
                     PARTIALLY_FILLED, FILLED, CANCELED, REJECTED or EXPIRED"
                )
            })
    }

    fn admits(self, status: OrderStatus) -> bool {
        match self {
            Self::Open => status.is_open(),
            Self::Is(wanted) => status == wanted,
        }
    }
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request", message)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "code": code, "error": message })),
    )
        .into_response()
}
