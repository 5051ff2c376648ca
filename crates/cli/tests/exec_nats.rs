//! `kestrel exec` with `market_data.nats_url` set: the order updates and fills of orders placed
//! over its HTTP API reach a NATS subscriber on `orders.{symbol}` / `fills.{symbol}`, and a
//! configured server that cannot be reached stops the start.
//!
//! The first test uses the local `nats-server` at `nats://127.0.0.1:4222`
//! (`KESTREL_TEST_NATS_URL` overrides it) and prints SKIPPED and passes when it is unreachable,
//! unless `KESTREL_REQUIRE_SERVICES=1`.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use kestrel_bus::TopicPattern;
use kestrel_bus::nats::NatsBytesSubscriber;
use serde_json::{Value, json};
use support::{free_port, post_json, resting_price, spawn, spawn_with, wait_for_line};

/// A `kestrel sim` on BTCUSDT with its market paused; its REST base URL.
async fn start_sim() -> (support::Running, String) {
    let port = free_port();
    let mut sim = spawn(&[
        "sim",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--symbols",
        "BTCUSDT",
    ]);
    wait_for_line(&mut sim, "api key");
    let venue = format!("http://127.0.0.1:{port}");
    let paused = reqwest::Client::new()
        .post(format!("{venue}/sim/v1/market/pause"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(paused.status().is_success());
    (sim, venue)
}

/// `kestrel exec` arguments for `venue`, its API on `http`.
fn exec_args(venue: &str, http: u16) -> Vec<String> {
    [
        "exec",
        "--venue-url",
        venue,
        "--symbols",
        "BTCUSDT",
        "--http",
        &format!("127.0.0.1:{http}"),
    ]
    .map(str::to_owned)
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_updates_of_kestrel_exec_reach_nats_when_it_is_configured() {
    let test = "order_updates_of_kestrel_exec_reach_nats_when_it_is_configured";
    let Some(url) = kestrel_testkit::nats::server(test).await else {
        return;
    };
    let client = kestrel_bus::nats::connect(&url).await.unwrap();
    let pattern = TopicPattern::parse("orders.BTCUSDT").unwrap();
    let mut orders = NatsBytesSubscriber::subscribe(&client, &pattern)
        .await
        .unwrap();
    let (_sim, venue) = start_sim().await;
    let data = tempfile::tempdir().unwrap();
    let http = free_port();
    let args = exec_args(&venue, http);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut exec = spawn_with(
        &args,
        &[
            ("KESTREL_STORE__DATA_DIR", data.path().to_str().unwrap()),
            ("KESTREL_MARKET_DATA__NATS_URL", url.as_str()),
        ],
    );
    wait_for_line(&mut exec, "order updates and fills on NATS");

    let price = resting_price(&venue).await;
    // A request id no other run uses, to pick our messages on a shared server.
    let request_id = format!("nats-{}-{http}", std::process::id());
    let order = json!({
        "request_id": request_id, "symbol": "BTCUSDT", "side": "buy", "type": "limit",
        "time_in_force": "GTC", "price": price, "quantity": "0.01",
    });
    let (_, answer) = post_json(&format!("http://127.0.0.1:{http}/api/v1/orders"), &order).await;
    assert_eq!(answer["status"], "accepted", "{answer}");

    let submitted = async {
        loop {
            let envelope = orders.next().await.expect("the subscription is open");
            let update: Value = serde_json::from_slice(&envelope.message).unwrap();
            if update["request_id"] == request_id.as_str() && update["status"] == "SUBMITTED" {
                return update;
            }
        }
    };
    let update = tokio::time::timeout(Duration::from_secs(30), submitted)
        .await
        .expect("the order's update reached NATS");
    assert_eq!(update["order_id"], answer["order_id"]);
    assert_eq!(update["remaining_quantity"], "0.01");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kestrel_exec_does_not_start_when_the_configured_nats_cannot_be_reached() {
    let (_sim, venue) = start_sim().await;
    let data = tempfile::tempdir().unwrap();
    let unreachable = format!("nats://127.0.0.1:{}", free_port());
    let output = Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args(exec_args(&venue, free_port()))
        .env_remove("KESTREL_CONFIG")
        .env("KESTREL_MARKET_DATA__ENABLE_DATABASE_WRITES", "false")
        .env("KESTREL_STORE__DATA_DIR", data.path())
        .env("KESTREL_MARKET_DATA__NATS_URL", &unreachable)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("market_data.nats_url"), "{stderr}");
}
