//! The WebSocket trading API client against the in-process simulator's `/ws-fapi/v1`:
//! place/query/cancel round trip, many requests in flight matched by id, typed errors, the
//! closed state; and a per-request timeout against a server that never answers (the
//! simulator has no fault that stalls the WebSocket API).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod exec_support;

use std::sync::Arc;
use std::time::Duration;

use exec_support::{PATIENCE, SYMBOL, credentials, rest, resting_buy, start_sim, ws_base_url};
use futures_util::future::join_all;
use kestrel_sim::server::{DEFAULT_API_KEY, RunningSim};
use kestrel_venue::binance::orders::{OrderKey, VenueOrderStatus};
use kestrel_venue::binance::rate_limit::RateLimitTracker;
use kestrel_venue::binance::request_error::{AuthFailure, Idempotency};
use kestrel_venue::binance::signing::{Credentials, ServerClock};
use kestrel_venue::binance::ws_api::{WsApiClient, WsApiConfig};
use kestrel_venue::binance::{RequestError, RetryAdvice};

async fn connect(sim: &RunningSim, credentials: Credentials) -> WsApiClient {
    let config = WsApiConfig::new(format!("{}/ws-fapi/v1", ws_base_url(sim)));
    WsApiClient::connect(
        config,
        credentials,
        Arc::new(ServerClock::new()),
        Arc::new(RateLimitTracker::new()),
    )
    .await
    .unwrap()
}

fn client_key(id: &str) -> OrderKey {
    OrderKey::ClientOrderId(id.to_owned())
}

#[tokio::test]
async fn ws_api_place_query_cancel_round_trip() {
    let sim = start_sim().await;
    let ws = connect(&sim, credentials()).await;
    let order = resting_buy(&sim, "ws-1").await;
    let placed = ws.place_order(&order).await.unwrap();
    assert_eq!(
        (placed.status, placed.client_order_id.as_str()),
        (VenueOrderStatus::New, "ws-1")
    );
    let queried = ws.query_order(SYMBOL, &client_key("ws-1")).await.unwrap();
    assert_eq!(queried.order_id, placed.order_id);
    let canceled = ws
        .cancel_order(SYMBOL, &OrderKey::OrderId(placed.order_id))
        .await
        .unwrap();
    assert_eq!(canceled.status, VenueOrderStatus::Canceled);
    // The REST view agrees: the two paths reach the same venue state.
    let over_rest = rest(&sim)
        .query_order(SYMBOL, &client_key("ws-1"))
        .await
        .unwrap();
    assert_eq!(over_rest.status, VenueOrderStatus::Canceled);
    assert_eq!(ws.in_flight(), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn concurrent_requests_are_matched_to_their_answers_by_id() {
    let sim = start_sim().await;
    let ws = Arc::new(connect(&sim, credentials()).await);
    let ids: Vec<String> = (0..8).map(|n| format!("wsc-{n}")).collect();
    let mut orders = Vec::new();
    for id in &ids {
        orders.push(resting_buy(&sim, id).await);
    }
    let placed = join_all(orders.iter().map(|o| ws.place_order(o))).await;
    for (id, answer) in ids.iter().zip(&placed) {
        assert_eq!(&answer.as_ref().unwrap().client_order_id, id);
    }
    let queried = join_all(ids.iter().rev().map(|id| {
        let ws = Arc::clone(&ws);
        let key = client_key(id);
        async move { ws.query_order(SYMBOL, &key).await }
    }))
    .await;
    for (id, answer) in ids.iter().rev().zip(&queried) {
        assert_eq!(&answer.as_ref().unwrap().client_order_id, id);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn ws_api_errors_are_typed_like_rest() {
    let sim = start_sim().await;
    let ws = connect(&sim, credentials()).await;
    let missing = ws
        .query_order(SYMBOL, &client_key("never-sent"))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, RequestError::NotFound { code: -2013, .. }),
        "{missing}"
    );
    let gone = ws
        .cancel_order(SYMBOL, &client_key("never-sent"))
        .await
        .unwrap_err();
    assert!(
        matches!(gone, RequestError::NotFound { code: -2011, .. }),
        "{gone}"
    );
    let wrong = connect(&sim, Credentials::new(DEFAULT_API_KEY, "not-the-secret")).await;
    let refused = wrong
        .query_order(SYMBOL, &client_key("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            RequestError::Auth {
                failure: AuthFailure::InvalidSignature,
                ..
            }
        ),
        "{refused}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_closed_connection_refuses_requests_without_sending() {
    let sim = start_sim().await;
    let ws = connect(&sim, credentials()).await;
    assert!(!ws.is_closed());
    ws.close().await;
    tokio::time::timeout(PATIENCE, ws.closed())
        .await
        .expect("closed in time");
    assert!(ws.is_closed());
    let order = resting_buy(&sim, "wsx-1").await;
    let error = ws.place_order(&order).await.unwrap_err();
    assert_eq!(error, RequestError::Closed);
    assert!(error.is_retry_safe(), "nothing was sent");
    sim.shutdown().await;
}

/// A WebSocket server that accepts one connection and reads without ever answering.
async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
        while let Some(Ok(_)) = futures_util::StreamExt::next(&mut socket).await {}
    });
    format!("ws://{addr}/ws-fapi/v1")
}

#[tokio::test]
async fn an_unanswered_request_times_out_with_its_idempotency() {
    let url = silent_server().await;
    let config = WsApiConfig {
        request_timeout: Duration::from_millis(200),
        ..WsApiConfig::new(url)
    };
    let ws = WsApiClient::connect(
        config,
        credentials(),
        Arc::new(ServerClock::new()),
        Arc::new(RateLimitTracker::new()),
    )
    .await
    .unwrap();
    let order = exec_support::limit(
        kestrel_model::Side::Buy,
        kestrel_model::Price::parse("50000").unwrap(),
        "0.010",
        "wst-1",
    );
    let error = ws.place_order(&order).await.unwrap_err();
    assert!(
        matches!(
            &error,
            RequestError::Timeout { idempotency: Idempotency::QueryableByClientId(id), .. } if id == "wst-1"
        ),
        "{error}"
    );
    assert_eq!(
        error.retry_advice(),
        RetryAdvice::QueryThenRetry {
            client_order_id: "wst-1".into()
        }
    );
    assert_eq!(ws.in_flight(), 0, "the timed-out request is forgotten");
    assert!(!ws.is_closed());
}
