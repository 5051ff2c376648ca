//! `kestrel exec` as a user runs it: against a `kestrel sim` process, orders go in over the
//! HTTP API, are answered with the seed's `OrderResponse`, listed, cancelled one by one and
//! per symbol; a repeated request id places one order; mutating routes need the token; and
//! the venue's own records agree with every answer.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::Credentials;
use serde_json::{Value, json};
use support::{Running, free_port, resting_price, spawn, spawn_with, wait_for_line};

const TOKEN: &str = "exec-test-token-0123456789";

/// A `kestrel sim` on BTCUSDT with its market paused, and its REST base URL.
fn start_sim() -> (Running, String) {
    let venue = free_port();
    let mut sim = spawn(&[
        "sim",
        "--listen",
        &format!("127.0.0.1:{venue}"),
        "--symbols",
        "BTCUSDT",
    ]);
    wait_for_line(&mut sim, "api key");
    (sim, format!("http://127.0.0.1:{venue}"))
}

/// A `kestrel exec` against `venue` with authentication on; its HTTP base URL.
/// The store lives in a directory of the test's own, removed when the test ends.
fn start_exec(venue: &str, env: &[(&str, &str)]) -> (Running, String, tempfile::TempDir) {
    let http = free_port();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let mut all = vec![
        ("KESTREL_STORE__DATA_DIR", data_dir.as_str()),
        ("KESTREL_DASHBOARD__ENABLE_AUTHENTICATION", "true"),
        ("KESTREL_DASHBOARD__AUTH_TOKEN", TOKEN),
    ];
    all.extend_from_slice(env);
    let mut exec = spawn_with(
        &[
            "exec",
            "--venue-url",
            venue,
            "--symbols",
            "BTCUSDT",
            "--http",
            &format!("127.0.0.1:{http}"),
        ],
        &all,
    );
    wait_for_line(&mut exec, "kestrel exec trading");
    (exec, format!("http://127.0.0.1:{http}"), data)
}

/// The venue's view, read with the simulator's default key pair.
fn venue_client(venue: &str) -> RestClient {
    let credentials = Credentials::new(
        kestrel_sim::server::DEFAULT_API_KEY,
        kestrel_sim::server::DEFAULT_API_SECRET,
    );
    RestClient::new(RestConfig::new(venue), credentials).unwrap()
}

async fn pause_market(venue: &str) {
    let response = reqwest::Client::new()
        .post(format!("{venue}/sim/v1/market/pause"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

fn limit_buy(request_id: &str, price: &str, qty: &str) -> Value {
    json!({
        "request_id": request_id, "symbol": "BTCUSDT", "side": "buy", "type": "limit",
        "time_in_force": "GTC", "price": price, "quantity": qty,
    })
}

/// Sends a request with the token; returns status and JSON body.
async fn call(method: reqwest::Method, url: &str, body: Option<&Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post_order(api: &str, order: &Value) -> (u16, Value) {
    call(
        reqwest::Method::POST,
        &format!("{api}/api/v1/orders"),
        Some(order),
    )
    .await
}

/// Waits until `/health` says the user stream is connected (orders' fills then reach us).
async fn wait_healthy(api: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = call(reqwest::Method::GET, &format!("{api}/health"), None).await;
        if status == 200 && body["status"] == "healthy" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "exec never became healthy: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_go_in_over_http_and_the_venue_agrees_with_every_answer() {
    let (_sim, venue) = start_sim();
    pause_market(&venue).await;
    let (_exec, api, _data) = start_exec(&venue, &[]);
    wait_healthy(&api).await;
    let price = resting_price(&venue).await;
    let truth = venue_client(&venue);

    let order = limit_buy("api-1", &price, "0.01");
    let (status, first) = post_order(&api, &order).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["status"], "accepted");
    assert_eq!(first["order_status"], "SUBMITTED");
    let id = first["order_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("kx-"), "{id}");

    let (status, again) = post_order(&api, &order).await;
    assert_eq!(
        (status, &again["order_id"]),
        (200, &first["order_id"]),
        "{again}"
    );
    let open = truth.open_orders(Some("BTCUSDT")).await.unwrap();
    assert_eq!(open.len(), 1, "a repeated request id placed a second order");
    assert_eq!(open[0].client_order_id, id);

    let (status, view) = call(
        reqwest::Method::GET,
        &format!("{api}/api/v1/orders/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (view["status"].as_str(), view["price"].as_str()),
        (Some("SUBMITTED"), Some(price.as_str()))
    );
    assert_eq!(view["remaining_quantity"], "0.01");

    let (status, gone) = call(
        reqwest::Method::DELETE,
        &format!("{api}/api/v1/orders/{id}"),
        None,
    )
    .await;
    assert_eq!(
        (status, gone["status"].as_str()),
        (200, Some("CANCELED")),
        "{gone}"
    );
    assert!(truth.open_orders(Some("BTCUSDT")).await.unwrap().is_empty());
    let (status, twice) = call(
        reqwest::Method::DELETE,
        &format!("{api}/api/v1/orders/{id}"),
        None,
    )
    .await;
    assert_eq!(
        (status, twice["code"].as_str()),
        (409, Some("not_open")),
        "{twice}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_the_rule_and_place_nothing() {
    let (_sim, venue) = start_sim();
    pause_market(&venue).await;
    let (_exec, api, _data) = start_exec(&venue, &[]);
    let price = resting_price(&venue).await;
    let truth = venue_client(&venue);

    let (status, off_step) = post_order(&api, &limit_buy("bad-1", &price, "0.0105")).await;
    assert_eq!(
        (status, off_step["status"].as_str()),
        (422, Some("rejected")),
        "{off_step}"
    );
    assert_eq!(off_step["code"], "qty_off_step");
    assert!(
        off_step["error"]
            .as_str()
            .unwrap()
            .contains("quantity_precision"),
        "{off_step}"
    );

    let (status, garbled) = call(
        reqwest::Method::POST,
        &format!("{api}/api/v1/orders"),
        Some(&json!({"request_id": "bad-2", "symbol": "BTCUSDT", "side": "up"})),
    )
    .await;
    assert_eq!(
        (status, garbled["code"].as_str()),
        (400, Some("invalid_request")),
        "{garbled}"
    );

    let unauthenticated = reqwest::Client::new()
        .post(format!("{api}/api/v1/orders"))
        .json(&limit_buy("no-token", &price, "0.010"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
    let listed = reqwest::get(format!("{api}/api/v1/orders")).await.unwrap();
    assert_eq!(listed.status().as_u16(), 200, "reads need no token");
    assert!(truth.open_orders(Some("BTCUSDT")).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symbol_cancel_clears_the_venue_and_the_list_filters_by_status() {
    let (_sim, venue) = start_sim();
    pause_market(&venue).await;
    let (_exec, api, _data) = start_exec(&venue, &[]);
    let price = resting_price(&venue).await;
    let truth = venue_client(&venue);
    for n in 0..3 {
        let (status, body) =
            post_order(&api, &limit_buy(&format!("sym-{n}"), &price, "0.010")).await;
        assert_eq!(status, 200, "{body}");
    }
    let url = format!("{api}/api/v1/orders?symbol=BTCUSDT&status=open");
    let (_, open) = call(reqwest::Method::GET, &url, None).await;
    assert_eq!(open.as_array().unwrap().len(), 3, "{open}");

    let (status, body) = call(
        reqwest::Method::DELETE,
        &format!("{api}/api/v1/orders?symbol=BTCUSDT"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["canceled"].as_array().unwrap().len(), 3, "{body}");
    assert!(truth.open_orders(Some("BTCUSDT")).await.unwrap().is_empty());
    let (_, open) = call(reqwest::Method::GET, &url, None).await;
    assert_eq!(open, json!([]));
    let (_, canceled) = call(
        reqwest::Method::GET,
        &format!("{api}/api/v1/orders?status=canceled"),
        None,
    )
    .await;
    assert_eq!(canceled.as_array().unwrap().len(), 3, "{canceled}");
    let (status, _) = call(
        reqwest::Method::DELETE,
        &format!("{api}/api/v1/orders"),
        None,
    )
    .await;
    assert_eq!(status, 400, "a cancel-all without a symbol is refused");
}
