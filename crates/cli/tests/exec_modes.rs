//! `kestrel exec`'s execution modes as a user runs them, against a `kestrel sim` process that
//! plays the real venue with its synthetic market running:
//!
//! - `--mode simulation` mirrors the venue's market into a paper venue of its own: an order
//!   that crosses the venue's book fills at the venue's prices, a passive one rests on the
//!   paper book, and the venue never sees either.
//! - a gap in the venue's depth stream is healed with a fresh snapshot.
//! - observation mode (here from `execution.mode` in the environment) answers a valid order
//!   `observed` and a bad one `rejected` with the live code, and places nothing.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use kestrel_model::{Price, Qty};
use kestrel_sim::api::auth::signed_query;
use kestrel_sim::server::{DEFAULT_API_KEY, DEFAULT_API_SECRET};
use serde_json::{Value, json};
use support::post_json as post;
use support::{Running, free_port, pause_market, spawn_with, start_sim, wait_for_line};

/// `kestrel exec` in `mode` (none: from the environment) against `venue`, waiting for
/// `ready` on its stdout; returns the process, the line, its HTTP base and its data dir.
fn start_exec(
    venue: &str,
    mode: Option<&str>,
    env: &[(&str, &str)],
    ready: &str,
) -> (Running, String, String, tempfile::TempDir) {
    let http = free_port();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let mut all = vec![("KESTREL_STORE__DATA_DIR", data_dir.as_str())];
    all.extend_from_slice(env);
    let http_addr = format!("127.0.0.1:{http}");
    let mut args = vec!["exec", "--venue-url", venue, "--symbols", "BTCUSDT"];
    args.extend(["--http", &http_addr]);
    if let Some(mode) = mode {
        args.extend(["--mode", mode]);
    }
    let mut exec = spawn_with(&args, &all);
    let line = wait_for_line(&mut exec, ready);
    (exec, line, format!("http://{http_addr}"), data)
}

/// A paper service (`mode` `simulation` or its alias `paper`) mirroring `venue`.
struct Paper {
    _exec: Running,
    _data: tempfile::TempDir,
    /// Its HTTP base.
    api: String,
    /// Its paper venue's REST base.
    venue: String,
}

fn start_paper(venue: &str, mode: &str) -> Paper {
    let (exec, line, api, data) = start_exec(venue, Some(mode), &[], "paper venue on");
    let paper = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap()
        .to_owned();
    Paper {
        _exec: exec,
        _data: data,
        api,
        venue: paper,
    }
}

async fn get(url: &str) -> (u16, Value) {
    try_get(url).await.unwrap()
}

/// A GET that may find nothing listening yet.
async fn try_get(url: &str) -> Option<(u16, Value)> {
    let response = reqwest::get(url).await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.unwrap_or(Value::Null)))
}

/// A signed read of the venue's account with the simulator's default key pair.
async fn signed_get(base: &str, path: &str, query: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let query = signed_query(&format!("{query}&timestamp={now}"), DEFAULT_API_SECRET);
    let response = reqwest::Client::new()
        .get(format!("{base}{path}?{query}"))
        .header("X-MBX-APIKEY", DEFAULT_API_KEY)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{path}: {response:?}");
    response.json().await.unwrap()
}

/// Asserts the venue's account never had an order or a fill.
async fn assert_untouched(venue: &str) {
    let orders = signed_get(venue, "/fapi/v1/allOrders", "symbol=BTCUSDT").await;
    assert_eq!(orders, json!([]), "an order reached the venue");
    let fills = signed_get(venue, "/fapi/v1/userTrades", "symbol=BTCUSDT").await;
    assert_eq!(fills, json!([]), "a fill reached the venue");
}

/// `(price, qty)` of the top `n` levels of one side of a REST depth answer.
fn levels(book: &Value, side: &str) -> Vec<(Price, Qty)> {
    book[side]
        .as_array()
        .unwrap()
        .iter()
        .map(|level| {
            let price = Price::parse(level[0].as_str().unwrap()).unwrap();
            (price, Qty::parse(level[1].as_str().unwrap()).unwrap())
        })
        .collect()
}

/// Polls until `check` gives `Some`, for at most `secs`.
async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    secs: u64,
    check: impl Fn() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn order(request_id: &str, side: &str, kind: &str, qty: &str, price: Option<String>) -> Value {
    let mut order = json!({
        "request_id": request_id, "symbol": "BTCUSDT", "side": side, "type": kind,
        "quantity": qty,
    });
    if let Some(price) = price {
        order["price"] = json!(price);
        order["time_in_force"] = json!("GTC");
    }
    order
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_orders_fill_on_the_mirror_at_the_venues_prices_and_never_reach_the_venue() {
    let (_venue_process, venue) = start_sim("BTCUSDT");
    let service = start_paper(&venue, "simulation");
    let (api, paper) = (&service.api, &service.venue);
    eventually("the paper service", 30, || async {
        let health = try_get(&format!("{api}/health")).await;
        health.filter(|(_, body)| body["status"] == "healthy")
    })
    .await;
    // Hold the venue's book still, and wait until the paper venue shows the same asks.
    pause_market(&venue);
    let venue_book = eventually("the mirror to converge", 10, || async {
        let (_, venue_book) = get(&format!("{venue}/fapi/v1/depth?symbol=BTCUSDT&limit=5")).await;
        let (_, paper_book) = get(&format!("{paper}/fapi/v1/depth?symbol=BTCUSDT&limit=5")).await;
        (levels(&venue_book, "asks") == levels(&paper_book, "asks")).then_some(venue_book)
    })
    .await;
    let asks = levels(&venue_book, "asks");
    let (best_ask, worst_ask) = (asks[0].0, asks[asks.len() - 1].0);

    let (status, answer) = post(
        &format!("{api}/api/v1/orders"),
        &order("paper-1", "buy", "market", "0.005", None),
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("accepted")),
        "{answer}"
    );
    let id = answer["order_id"].as_str().unwrap().to_owned();
    let filled = eventually("the paper fill", 10, || async {
        let (_, view) = get(&format!("{api}/api/v1/orders/{id}")).await;
        (view["status"] == "FILLED").then_some(view)
    })
    .await;
    let average = Price::parse(filled["average_price"].as_str().unwrap()).unwrap();
    assert!(
        best_ask <= average && average <= worst_ask,
        "filled at {average}, the venue's asks were {best_ask}..{worst_ask}"
    );
    let paper_fills = signed_get(paper, "/fapi/v1/userTrades", "symbol=BTCUSDT").await;
    for fill in paper_fills.as_array().unwrap() {
        let price = Price::parse(fill["price"].as_str().unwrap()).unwrap();
        assert!(
            asks.iter().any(|(level, _)| *level == price),
            "paper fill at {price} is not one of the venue's ask prices {asks:?}"
        );
    }

    // A passive buy well under the touch rests on the paper book, not the venue's.
    let bid = levels(&venue_book, "bids")[0].0;
    let low = format!("{}", bid.raw() / 100_000_000 * 97 / 100);
    let (status, rested) = post(
        &format!("{api}/api/v1/orders"),
        &order("paper-2", "buy", "limit", "0.005", Some(low)),
    )
    .await;
    assert_eq!(
        (status, rested["status"].as_str()),
        (200, Some("accepted")),
        "{rested}"
    );
    let open = signed_get(paper, "/fapi/v1/openOrders", "symbol=BTCUSDT").await;
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    assert_untouched(&venue).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observation_answers_observed_or_rejected_and_places_nothing() {
    let (_venue_process, venue) = start_sim("BTCUSDT");
    let env = [("KESTREL_EXECUTION__MODE", "observation")];
    let (_exec, _, api, _data) = start_exec(&venue, None, &env, "kestrel exec observing");
    let (_, book) = get(&format!("{venue}/fapi/v1/depth?symbol=BTCUSDT&limit=5")).await;
    let bid = levels(&book, "bids")[0].0;
    let price = format!("{}", bid.raw() / 100_000_000 * 99 / 100);

    let valid = order("obs-1", "buy", "limit", "0.01", Some(price.clone()));
    let (status, observed) = post(&format!("{api}/api/v1/orders"), &valid).await;
    assert_eq!(
        (status, observed["status"].as_str()),
        (200, Some("observed")),
        "{observed}"
    );
    assert_eq!(observed["request_id"], "obs-1");
    assert!(
        observed["client_order_id"]
            .as_str()
            .unwrap()
            .starts_with("kx-obs-")
    );
    let (status, again) = post(&format!("{api}/api/v1/orders"), &valid).await;
    assert_eq!(
        (status, &again),
        (200, &observed),
        "a repeat gets the first answer"
    );

    let off_step = order("obs-2", "buy", "limit", "0.0105", Some(price));
    let (status, refused) = post(&format!("{api}/api/v1/orders"), &off_step).await;
    assert_eq!(
        (status, refused["status"].as_str()),
        (422, Some("rejected")),
        "{refused}"
    );
    assert_eq!(refused["code"], "qty_off_step");

    let (_, seen) = get(&format!("{api}/api/v1/orders")).await;
    let statuses: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|answer| answer["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["observed", "rejected"]);
    let (_, health) = get(&format!("{api}/health")).await;
    assert_eq!(
        (health["observed"].as_u64(), health["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_untouched(&venue).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_in_the_venues_depth_is_healed_with_a_fresh_snapshot() {
    let (_venue_process, venue) = start_sim("BTCUSDT");
    let service = start_paper(&venue, "paper");
    let status_url = format!("{}/sim/v1/status", service.venue);
    let before = get(&status_url).await.1["mirror"]["symbols"]["BTCUSDT"]["snapshots"].clone();
    let gap = json!({ "kind": "gap", "symbol": "BTCUSDT", "skip": 3 });
    let (status, _) = post(&format!("{venue}/sim/v1/faults"), &gap).await;
    assert_eq!(status, 200);
    let book = eventually("a new snapshot after the gap", 15, || async {
        let (_, status) = get(&status_url).await;
        let book = status["mirror"]["symbols"]["BTCUSDT"].clone();
        let healed = book["gaps"].as_u64() >= Some(1)
            && book["snapshots"].as_u64() > before.as_u64()
            && book["synced"] == true;
        healed.then_some(book)
    })
    .await;
    assert!(book["bid_levels"].as_u64() > Some(0), "{book}");
}
