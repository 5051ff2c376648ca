//! The query API (seed 000 FR-AM-006) as an axum [`Router`] for the dashboard server to mount:
//!
//! | route | seed | answer |
//! |---|---|---|
//! | `GET /api/v1/account` | `GetAccountState()` | the whole [`AccountView`] |
//! | `GET /api/v1/account/balance` | `GetBalance()` | every asset's [`AssetBalance`](crate::AssetBalance) |
//! | `GET /api/v1/account/positions` | `GetPositions()` | every open [`PositionView`] |
//! | `GET /api/v1/account/positions/{symbol}` | `GetPosition(symbol)` | that symbol's open position; `?side=long\|short` picks a hedge-mode leg |
//! | `GET /api/v1/account/pnl` | `GetPnL()` | the [`PnlSummary`](crate::PnlSummary) |
//! | `GET /api/v1/account/reconciliation` | — | the last [`ReconciliationReport`](crate::ReconciliationReport) |
//! | `GET /api/v1/account/alerts` | — | `{"active": [...], "history": [...]}` |
//!
//! Money is a decimal string in every answer. Errors are JSON `{"error": "..."}`: 404 for a
//! symbol with no open position or before the first reconciliation, 400 for a bad `side` or
//! when a symbol has both hedge legs open and no `side` was given. Each answer is the view
//! published last, read without locking the book.
//!
//! `SubscribeAccountUpdates()` is the monitor's watch channel
//! ([`AccountMonitor::subscribe`](crate::AccountMonitor::subscribe)), which the dashboard's
//! WebSocket broadcast reads.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kestrel_model::position::Direction;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;

use crate::view::{AccountView, PositionView};

/// The routes above, answering from the views `views` receives.
pub fn router(views: watch::Receiver<Arc<AccountView>>) -> Router {
    Router::new()
        .route("/api/v1/account", get(account))
        .route("/api/v1/account/balance", get(balance))
        .route("/api/v1/account/positions", get(positions))
        .route("/api/v1/account/positions/{symbol}", get(position))
        .route("/api/v1/account/pnl", get(pnl))
        .route("/api/v1/account/reconciliation", get(reconciliation))
        .route("/api/v1/account/alerts", get(alerts))
        .with_state(views)
}

type Views = State<watch::Receiver<Arc<AccountView>>>;

fn latest(views: &watch::Receiver<Arc<AccountView>>) -> Arc<AccountView> {
    Arc::clone(&views.borrow())
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn account(State(views): Views) -> Response {
    Json(latest(&views).as_ref().clone()).into_response()
}

async fn balance(State(views): Views) -> Response {
    Json(latest(&views).balances.clone()).into_response()
}

async fn positions(State(views): Views) -> Response {
    Json(latest(&views).positions.clone()).into_response()
}

async fn pnl(State(views): Views) -> Response {
    Json(latest(&views).pnl.clone()).into_response()
}

async fn reconciliation(State(views): Views) -> Response {
    match &latest(&views).reconciliation {
        Some(report) => Json(report.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            String::from("no reconciliation has run yet"),
        ),
    }
}

async fn alerts(State(views): Views) -> Response {
    let view = latest(&views);
    Json(json!({ "active": view.alerts, "history": view.alert_history })).into_response()
}

/// The query of `GET /api/v1/account/positions/{symbol}`.
#[derive(Debug, Deserialize)]
struct LegQuery {
    side: Option<String>,
}

async fn position(
    State(views): Views,
    Path(symbol): Path<String>,
    Query(query): Query<LegQuery>,
) -> Response {
    let view = latest(&views);
    let symbol = symbol.to_ascii_uppercase();
    let side = match query
        .side
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => None,
        Some("long") => Some(Direction::Long),
        Some("short") => Some(Direction::Short),
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("side must be long or short, not {other:?}"),
            );
        }
    };
    let legs: Vec<&PositionView> = view
        .positions
        .iter()
        .filter(|p| p.symbol == symbol && side.is_none_or(|s| p.side == s))
        .collect();
    match legs.as_slice() {
        [] => error(
            StatusCode::NOT_FOUND,
            format!("no open position in {symbol}"),
        ),
        [one] => Json((*one).clone()).into_response(),
        _ => error(
            StatusCode::BAD_REQUEST,
            format!("{symbol} has a long and a short leg open: add ?side=long or ?side=short"),
        ),
    }
}
