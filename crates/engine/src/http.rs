//! The HTTP API of the whole system: the order API (`kestrel_exec::http`, each new order
//! checked by the risk manager first, as the strategies' are), the account API
//! (`kestrel_account::api`), and the engine's own routes:
//!
//! | route | does |
//! |---|---|
//! | `GET /health` | `healthy` / `degraded` / `unhealthy` (503) over every component |
//! | `GET /status` | per-component state: venue (`venue.url`), market data, execution, account, strategies, risk |
//! | `POST /api/v1/risk/kill` | `{"reason": "...", "flatten": false}`: halt strategies, cancel every open order, optionally close every position |
//! | `POST /api/v1/risk/resume` | release the kill switch |
//! | `GET /api/v1/risk/status` | the risk manager's state |
//!
//! `/metrics` is added by the binary, which owns the metrics recorder.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kestrel_account::AccountMonitor;
use kestrel_exec::breaker::BreakerState;
use kestrel_exec::context::VenueContext;
use kestrel_exec::driver::{ExecDriver, StreamState};
use kestrel_exec::journal::StoreJournal;
use kestrel_marketdata::pipeline::{Feeds, lock};
use kestrel_model::order::ExecutionMode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::control::ControlSender;

/// What the routes read.
#[derive(Clone)]
pub struct HttpParts {
    /// Execution.
    pub driver: Arc<ExecDriver<StoreJournal>>,
    /// Instruments, marks and account view for validation.
    pub context: Arc<VenueContext>,
    /// The account monitor.
    pub account: Arc<AccountMonitor>,
    /// The books and market-data health.
    pub feeds: Arc<Feeds>,
    /// The core task.
    pub control: ControlSender,
    /// The venue's REST base URL.
    pub venue_url: String,
    /// Whether the venue is the embedded simulator.
    pub embedded: bool,
    /// The execution mode.
    pub mode: ExecutionMode,
    /// When the system started.
    pub started: Instant,
}

/// Every route (module docs).
pub fn router(parts: HttpParts) -> Router {
    let own = Router::new()
        .route("/health", get(health))
        .route("/status", get(status))
        .route("/api/v1/risk/kill", post(kill))
        .route("/api/v1/risk/resume", post(resume))
        .route("/api/v1/risk/status", get(risk_status))
        .with_state(parts.clone());
    own.merge(kestrel_exec::http::router_vetted(
        Arc::clone(&parts.driver),
        Arc::clone(&parts.context),
        Arc::new(parts.control.clone()),
    ))
    .merge(kestrel_account::api::router(parts.account.subscribe()))
}

/// Each component's state and the overall verdict.
async fn components(parts: &HttpParts) -> (Value, &'static str) {
    let uptime = parts.feeds.uptime_seconds();
    let market = lock(&parts.feeds.health).to_json(uptime, uptime);
    let halted = parts.driver.halted();
    let breaker = parts.driver.breaker_state();
    let stream = parts.driver.stream_state().borrow().clone();
    let account = parts.account.view();
    let core = parts.control.status().await;
    let kill = core.as_ref().and_then(|c| c.strategies_halted.clone());
    let verdict = if halted.is_some() || account.trading_halted.is_some() || core.is_none() {
        "unhealthy"
    } else if kill.is_some()
        || market["status"] != "healthy"
        || breaker != BreakerState::Closed
        || !matches!(stream, StreamState::Connected { .. })
    {
        "degraded"
    } else {
        "healthy"
    };
    let body = json!({
        "status": verdict,
        "uptime_seconds": parts.started.elapsed().as_secs(),
        "mode": parts.mode,
        "venue": { "url": parts.venue_url, "embedded": parts.embedded },
        "market_data": market,
        "execution": {
            "halted": halted,
            "circuit_breaker": format!("{breaker:?}").to_ascii_lowercase(),
            "user_stream": format!("{stream:?}"),
        },
        "account": {
            "trading_halted": account.trading_halted,
            "reconciliation": account.reconciliation,
        },
        "strategies": core.as_ref().map(|c| json!({
            "halted": c.strategies_halted,
            "instances": c.strategies,
        })),
        "risk": core.as_ref().map(|c| &c.risk),
    });
    (body, verdict)
}

async fn health(State(parts): State<HttpParts>) -> Response {
    let (body, verdict) = components(&parts).await;
    let code = if verdict == "unhealthy" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let short = json!({
        "status": verdict,
        "uptime_seconds": body["uptime_seconds"],
        "market_data": body["market_data"]["status"],
        "execution": body["execution"],
    });
    (code, axum::Json(short)).into_response()
}

async fn status(State(parts): State<HttpParts>) -> Response {
    axum::Json(components(&parts).await.0).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct KillBody {
    reason: Option<String>,
    flatten: bool,
}

async fn kill(State(parts): State<HttpParts>, body: Bytes) -> Response {
    let request: KillBody = if body.is_empty() {
        KillBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(error) => {
                let message =
                    format!("expected {{\"reason\": \"...\", \"flatten\": false}}: {error}");
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({ "code": "invalid_request", "error": message })),
                )
                    .into_response();
            }
        }
    };
    let reason = request
        .reason
        .unwrap_or_else(|| "kill switch engaged over the API".to_owned());
    match parts.control.kill(&reason, request.flatten).await {
        Some(report) => axum::Json(report).into_response(),
        None => stopped(),
    }
}

async fn resume(State(parts): State<HttpParts>) -> Response {
    match parts.control.resume().await {
        Some(was_engaged) => axum::Json(json!({ "resumed": was_engaged })).into_response(),
        None => stopped(),
    }
}

async fn risk_status(State(parts): State<HttpParts>) -> Response {
    match parts.control.status().await {
        Some(status) => axum::Json(status.risk).into_response(),
        None => stopped(),
    }
}

fn stopped() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({ "code": "core_stopped", "error": "the trading core is not running" })),
    )
        .into_response()
}
