//! Typed failures of the REST client, driven by the simulator's fault injection and by wrong
//! credentials: 429 with `Retry-After`, 401, 503, a stalled request (timeout), a wrong secret
//! (`-1022`), an unknown key (`-2015`), a skewed clock (`-1021`), and a refused connection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod exec_support;

use std::time::Duration;

use exec_support::{SYMBOL, credentials, fault, rest, rest_with, resting_buy, start_sim};
use kestrel_sim::server::DEFAULT_API_KEY;
use kestrel_venue::binance::orders::OrderKey;
use kestrel_venue::binance::request_error::{AuthFailure, Idempotency};
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::Credentials;
use kestrel_venue::binance::{RequestError, RetryAdvice};

#[tokio::test]
async fn http_429_is_rate_limited_with_retry_after_and_safe_to_retry() {
    let sim = start_sim().await;
    let client = rest(&sim);
    let order = resting_buy(&sim, "f429-1").await;
    fault(
        &sim,
        r#"{"kind":"http_error","status":429,"count":1,"path_prefix":"/fapi/v1/order"}"#,
    )
    .await;
    let error = client.place_order(&order).await.unwrap_err();
    assert!(
        matches!(
            error,
            RequestError::RateLimited {
                status: Some(429),
                code: Some(-1003),
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(60)));
    assert!(error.is_retry_safe());
    assert!(!error.outcome_unknown(), "a 429 was not executed");
    // The fault was consumed; the same order now goes through (the caller's retry).
    client.place_order(&order).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn http_418_is_an_ip_ban_and_not_retried() {
    let sim = start_sim().await;
    fault(&sim, r#"{"kind":"http_error","status":418,"count":1}"#).await;
    let error = rest(&sim).open_orders(Some(SYMBOL)).await.unwrap_err();
    assert!(matches!(error, RequestError::IpBanned { .. }), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    assert!(!error.is_retry_safe());
    sim.shutdown().await;
}

#[tokio::test]
async fn http_401_is_an_auth_failure_never_retried() {
    let sim = start_sim().await;
    fault(&sim, r#"{"kind":"http_error","status":401,"count":1}"#).await;
    let error = rest(&sim).open_orders(Some(SYMBOL)).await.unwrap_err();
    assert!(
        matches!(
            error,
            RequestError::Auth {
                failure: AuthFailure::Http401,
                status: Some(401),
                ..
            }
        ),
        "{error}"
    );
    assert!(error.is_auth() && !error.is_retry_safe());
    sim.shutdown().await;
}

#[tokio::test]
async fn http_503_service_unavailable_is_a_definite_failure_safe_to_retry() {
    let sim = start_sim().await;
    let client = rest(&sim);
    let order = resting_buy(&sim, "f503-1").await;
    fault(
        &sim,
        r#"{"kind":"http_error","status":503,"count":1,"path_prefix":"/fapi/v1/order"}"#,
    )
    .await;
    let error = client.place_order(&order).await.unwrap_err();
    assert!(
        matches!(
            error,
            RequestError::Server {
                status: 503,
                outcome_unknown: false,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.retry_advice(), RetryAdvice::Retry { after: None });
    let absent = client
        .query_order(SYMBOL, &OrderKey::ClientOrderId("f503-1".into()))
        .await;
    assert!(
        absent.unwrap_err().is_not_found(),
        "the refused order was not created"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_stalled_placement_is_a_timeout_resolved_by_querying_the_client_id() {
    let sim = start_sim().await;
    let client = rest_with(
        &sim,
        |c| c.request_timeout = Duration::from_millis(400),
        credentials(),
    );
    let order = resting_buy(&sim, "fto-1").await;
    fault(
        &sim,
        r#"{"kind":"timeout","count":1,"path_prefix":"/fapi/v1/order"}"#,
    )
    .await;
    let error = client.place_order(&order).await.unwrap_err();
    assert!(
        matches!(
            &error,
            RequestError::Timeout { idempotency: Idempotency::QueryableByClientId(id), .. } if id == "fto-1"
        ),
        "{error}"
    );
    assert!(error.outcome_unknown() && error.is_retry_safe());
    assert_eq!(
        error.retry_advice(),
        RetryAdvice::QueryThenRetry {
            client_order_id: "fto-1".into()
        }
    );
    // Trap 3: query before resending. The stalled request never reached the matcher.
    let lookup = client
        .query_order(SYMBOL, &OrderKey::ClientOrderId("fto-1".into()))
        .await;
    assert!(lookup.unwrap_err().is_not_found());
    client.place_order(&order).await.unwrap();
    // The stalled request still holds a server task for 30 s; the runtime ends it.
    drop(sim);
}

#[tokio::test]
async fn a_wrong_secret_is_an_invalid_signature() {
    let sim = start_sim().await;
    let client = rest_with(
        &sim,
        |_| {},
        Credentials::new(DEFAULT_API_KEY, "not-the-secret"),
    );
    let error = client.open_orders(Some(SYMBOL)).await.unwrap_err();
    assert!(
        matches!(
            error,
            RequestError::Auth {
                failure: AuthFailure::InvalidSignature,
                code: Some(-1022),
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.is_retry_safe());
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_api_key_is_rejected() {
    let sim = start_sim().await;
    let client = rest_with(&sim, |_| {}, Credentials::new("unknown-key", "x"));
    let error = client.account().await.unwrap_err();
    assert!(
        matches!(
            error,
            RequestError::Auth {
                failure: AuthFailure::RejectedKey,
                code: Some(-2015),
                ..
            }
        ),
        "{error}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_skewed_clock_is_reported_and_fixed_by_syncing() {
    let sim = start_sim().await;
    let client = rest(&sim);
    client.clock().set_offset_ms(60_000);
    let error = client.open_orders(Some(SYMBOL)).await.unwrap_err();
    assert!(error.is_clock_skew(), "{error}");
    assert!(!error.is_retry_safe());
    client.sync_clock().await.unwrap();
    client.open_orders(Some(SYMBOL)).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_connection_never_reached_the_venue() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = RestClient::new(RestConfig::new(format!("http://{addr}")), credentials()).unwrap();
    let error = client.server_time_ms().await.unwrap_err();
    assert!(matches!(error, RequestError::Connect { .. }), "{error}");
    assert!(error.is_retry_safe() && !error.outcome_unknown());
}
