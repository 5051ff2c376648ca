//! The market-data service's HTTP endpoints (issue 4, seed 000 "Health Check Endpoint"):
//! `GET /health` (the seed's JSON; HTTP 200 when healthy or degraded, 503 when unhealthy),
//! `GET /api/v1/orderbook/{symbol}?depth=N` (the local book in Binance's REST depth shape:
//! `{"lastUpdateId","bids","asks"}`, prices and quantities as strings; default depth is the
//! configured `order_book_depth`), and `GET /metrics` (Prometheus text).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kestrel_model::book::BookSide;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::pipeline::{Feeds, lock};

/// Renders the Prometheus exposition (the binary owns the recorder).
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

#[derive(Clone)]
struct ServiceState {
    feeds: Arc<Feeds>,
    metrics: MetricsRender,
    default_depth: usize,
}

/// Serves the endpoints on `listener` until `shutdown` says stop.
///
/// # Errors
/// When the server fails.
pub async fn serve(
    listener: TcpListener,
    feeds: Arc<Feeds>,
    metrics: MetricsRender,
    default_depth: usize,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let state = ServiceState {
        feeds,
        metrics,
        default_depth,
    };
    let app = Router::new()
        .route("/health", get(health))
        .route("/api/v1/orderbook/{symbol}", get(orderbook))
        .route("/metrics", get(metrics_text))
        .with_state(state);
    let stop = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
}

async fn health(State(state): State<ServiceState>) -> Response {
    let uptime = state.feeds.uptime_seconds();
    let body = lock(&state.feeds.health).to_json(uptime, uptime);
    let status = if body["status"] == "unhealthy" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, axum::Json(body)).into_response()
}

#[derive(Debug, Deserialize)]
struct DepthQuery {
    depth: Option<usize>,
}

async fn orderbook(
    State(state): State<ServiceState>,
    Path(symbol): Path<String>,
    Query(query): Query<DepthQuery>,
) -> Response {
    let symbol = symbol.to_ascii_uppercase();
    let Some(feed) = state.feeds.get(&symbol) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "code": -1121, "msg": "Invalid symbol." })),
        )
            .into_response();
    };
    let depth = query.depth.unwrap_or(state.default_depth).clamp(1, 5000);
    let sync = lock(&feed.sync);
    let side = |side| -> Value {
        sync.book()
            .top(side, depth)
            .map(|l| json!([l.price.to_string(), l.qty.to_string()]))
            .collect()
    };
    let body = json!({
        "lastUpdateId": sync.last_update_id(),
        "synced": sync.state() == crate::sync::SyncState::Synced,
        "bids": side(BookSide::Bid),
        "asks": side(BookSide::Ask),
    });
    axum::Json(body).into_response()
}

async fn metrics_text(State(state): State<ServiceState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        (state.metrics)(),
    )
        .into_response()
}
