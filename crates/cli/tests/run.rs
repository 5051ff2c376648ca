//! `kestrel run` as a newcomer runs it: no arguments but a data directory and free ports. The
//! embedded simulator, market data, execution, the default strategies, risk and the account
//! monitor come up; `/status` names the venue's address; the strategies trade; the kill
//! switch empties the venue's book of our orders and halts the strategies; the account
//! monitor's wallet agrees with the venue's to the last unit; every fill the venue reports is
//! in the store; SIGTERM exits 0.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use kestrel_model::Money;
use kestrel_venue::binance::orders::TradeQuery;
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::Credentials;
use serde_json::{Value, json};
use support::post_json as post;
use support::{Running, free_port, spawn_with, terminate, wait_for_line};

/// A config with two strategies that trade at once on the simulator: a momentum taker
/// with a hair trigger (fills) and a grid (resting orders).
const CONFIG: &str = r#"
[market_data]
symbols = ["BTCUSDT"]

[sim]
symbols = ["BTCUSDT"]

[strategies]
enable_hot_reload = true

[[strategies.instances]]
name = "momentum-fast"
type = "momentum"
symbol = "BTCUSDT"
order_size = "0.002"
parameters = { lookback = 5, threshold = "0.005", urgency = "aggressive", interval_ms = 200 }

[[strategies.instances]]
name = "grid-btc"
type = "grid"
symbol = "BTCUSDT"
order_size = "0.002"
parameters = { spacing = "20", levels = 3 }
"#;

/// `kestrel run --config` with its store in `data`, the simulator on `venue`, HTTP on `http`.
fn start_run(data: &Path, venue: u16, http: u16) -> Running {
    start_run_with(data, venue, http, &[])
}

/// [`start_run`] with more environment (configuration overrides).
fn start_run_with(data: &Path, venue: u16, http: u16, env: &[(&str, &str)]) -> Running {
    let listen = format!("127.0.0.1:{venue}");
    let config = data.join("kestrel.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let mut all = vec![
        ("KESTREL_STORE__DATA_DIR", data.to_str().unwrap()),
        ("KESTREL_SIM__LISTEN", listen.as_str()),
    ];
    all.extend_from_slice(env);
    let mut run = spawn_with(
        &[
            "--config",
            config.to_str().unwrap(),
            "run",
            "--http",
            &format!("127.0.0.1:{http}"),
        ],
        &all,
    );
    wait_for_line(&mut run, "kestrel run: venue");
    run
}

/// A resting buy far under the market, from the order API.
fn api_order(request_id: &str) -> Value {
    json!({
        "request_id": request_id, "symbol": "BTCUSDT", "side": "buy", "type": "limit",
        "time_in_force": "GTC", "price": "30000", "quantity": "0.002",
    })
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Polls `url` until `done` holds on its JSON, failing after `limit`.
async fn wait_until(url: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let body = match reqwest::get(url).await {
            Ok(response) => response.json::<Value>().await.ok(),
            Err(_) => None,
        };
        if let Some(body) = &body
            && done(body)
        {
            return body.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{url} never reached the state: {body:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn venue_client(venue: &str) -> RestClient {
    let credentials = Credentials::new(
        kestrel_sim::server::DEFAULT_API_KEY,
        kestrel_sim::server::DEFAULT_API_SECRET,
    );
    RestClient::new(RestConfig::new(venue), credentials).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_trades_on_the_embedded_simulator_and_the_kill_switch_stops_it() {
    let data = tempfile::tempdir().unwrap();
    let (venue_port, http) = (free_port(), free_port());
    let mut run = start_run(data.path(), venue_port, http);
    let api = format!("http://127.0.0.1:{http}");
    let venue = format!("http://127.0.0.1:{venue_port}");

    let status = wait_until(&format!("{api}/status"), Duration::from_secs(30), |s| {
        s["status"] == "healthy"
    })
    .await;
    assert_eq!(status["venue"]["url"], venue.as_str(), "{status}");
    assert_eq!(status["venue"]["embedded"], true);
    let names: Vec<&str> = status["strategies"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["momentum", "grid"]);

    // The strategies trade: the grid rests orders at the venue, and fills happen.
    let truth = venue_client(&venue);
    let deadline = Instant::now() + Duration::from_secs(60);
    while truth.open_orders(Some("BTCUSDT")).await.unwrap().is_empty()
        || truth
            .user_trades(&TradeQuery::symbol("BTCUSDT"))
            .await
            .unwrap()
            .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the strategies placed no resting order or made no fill"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Hot reload: a changed threshold and risk limit apply without a restart.
    let config = data.path().join("kestrel.toml");
    let edited = CONFIG
        .replace("threshold = \"0.005\"", "threshold = \"0.5\"")
        .replace(
            "[strategies]",
            "[risk]\nmax_orders_per_second = 7\n\n[strategies]",
        );
    std::fs::write(&config, edited).unwrap();
    let status = wait_until(&format!("{api}/status"), Duration::from_secs(15), |s| {
        s["risk"]["limits"]["max_orders_per_second"] == 7
    })
    .await;
    let momentum = &status["strategies"]["instances"][0]["strategy"];
    assert_eq!(momentum["threshold_pct"], "0.5", "{status}");

    // A few minutes of market time: the market paused, then stepped a second at a time, the
    // strategies trading between the steps.
    let step = format!("{venue}/sim/v1/market/step");
    post(&format!("{venue}/sim/v1/market/pause"), &json!({})).await;
    for _ in 0..MARKET_SECONDS {
        let (code, _) = post(&step, &json!({ "ms": 1000 })).await;
        assert_eq!(code, 200);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Kill: the venue holds none of our orders, strategies are halted and /status says so.
    let (code, report) = post(
        &format!("{api}/api/v1/risk/kill"),
        &json!({"reason": "test"}),
    )
    .await;
    assert_eq!(code, 200, "{report}");
    assert!(
        truth.open_orders(Some("BTCUSDT")).await.unwrap().is_empty(),
        "{report}"
    );
    let status = get(&format!("{api}/status")).await;
    assert_eq!(status["strategies"]["halted"], "test", "{status}");
    assert_eq!(status["risk"]["kill_switch"]["engaged"], true);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        truth.open_orders(Some("BTCUSDT")).await.unwrap().is_empty(),
        "a halted strategy placed an order"
    );

    // An order from the API meets the same risk checks: refused while the switch is engaged.
    let (code, refused) = post(&format!("{api}/api/v1/orders"), &api_order("api-1")).await;
    assert_eq!(
        (code, refused["code"].as_str()),
        (422, Some("risk_kill_switch")),
        "{refused}"
    );

    check_account_matches_venue(&api, &truth).await;
    check_pnl_and_positions(&api, &truth).await;
    check_fills_stored(&truth, data.path()).await;

    let (code, resumed) = post(&format!("{api}/api/v1/risk/resume"), &json!({})).await;
    assert_eq!((code, &resumed["resumed"]), (200, &json!(true)));
    terminate(&mut run);
}

/// Once quiet, the monitor's USDT wallet equals the venue's exactly.
async fn check_account_matches_venue(api: &str, truth: &RestClient) {
    let venue = truth.account().await.unwrap();
    let wallet = venue
        .assets
        .iter()
        .find(|a| a.asset == "USDT")
        .unwrap()
        .wallet_balance;
    let url = format!("{api}/api/v1/account/balance");
    wait_until(&url, Duration::from_secs(20), |body| {
        let usdt = body
            .as_array()
            .and_then(|b| b.iter().find(|a| a["asset"] == "USDT"))
            .or_else(|| {
                body["balances"]
                    .as_array()
                    .and_then(|b| b.iter().find(|a| a["asset"] == "USDT"))
            });
        usdt.and_then(|a| a["total_balance"].as_str())
            .and_then(|t| Money::parse(t).ok())
            == Some(wallet)
    })
    .await;
}

/// Market seconds the strategies trade through.
const MARKET_SECONDS: u32 = 180;

/// Every trade of the account on BTCUSDT, paging through the venue's answers.
async fn all_trades(truth: &RestClient) -> Vec<kestrel_venue::binance::orders::UserTrade> {
    let mut trades = Vec::new();
    loop {
        let mut query = TradeQuery::symbol("BTCUSDT");
        query.limit = Some(1000);
        query.from_id = trades
            .last()
            .map(|t: &kestrel_venue::binance::orders::UserTrade| t.id + 1);
        let page = truth.user_trades(&query).await.unwrap();
        let done = page.len() < 1000;
        trades.extend(page);
        if done {
            return trades;
        }
    }
}

/// The monitor's realized P&L and fees equal the sums of the venue's own trade records, its
/// position equals the venue's, and its last reconciliation found no mismatch.
async fn check_pnl_and_positions(api: &str, truth: &RestClient) {
    let trades = all_trades(truth).await;
    let sum = |f: fn(&kestrel_venue::binance::orders::UserTrade) -> Money| {
        trades
            .iter()
            .fold(Money::ZERO, |acc, t| acc.try_add(f(t)).unwrap())
    };
    let (realized, fees) = (sum(|t| t.realized_pnl), sum(|t| t.commission));
    let pnl = get(&format!("{api}/api/v1/account/pnl")).await;
    let money = |v: &Value| Money::parse(v.as_str().unwrap()).unwrap();
    assert_eq!(money(&pnl["realized_pnl"]), realized, "{pnl}");
    assert_eq!(money(&pnl["fees_paid"]), fees, "{pnl}");

    let venue_qty = truth
        .position_risk(Some("BTCUSDT"))
        .await
        .unwrap()
        .iter()
        .fold(kestrel_model::Qty::ZERO, |acc, p| {
            acc.try_add(p.position_amt).unwrap()
        });
    let positions = get(&format!("{api}/api/v1/account/positions")).await;
    let ours = positions
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["symbol"] == "BTCUSDT")
        .fold(kestrel_model::Qty::ZERO, |acc, p| {
            acc.try_add(kestrel_model::Qty::parse(p["qty"].as_str().unwrap()).unwrap())
                .unwrap()
        });
    assert_eq!(ours, venue_qty, "{positions}");

    let url = format!("{api}/api/v1/account/reconciliation");
    let report = wait_until(&url, Duration::from_secs(20), |r| r["timestamp"].is_u64()).await;
    assert_eq!(report["mismatch"], false, "{report}");
}

/// Every trade the venue reports is in the store's fills.
async fn check_fills_stored(truth: &RestClient, data: &Path) {
    check_fills_stored_in(truth, &data.join("kestrel.sqlite")).await;
}

/// Every trade the venue reports is in the fills of the SQLite store at `file`.
async fn check_fills_stored_in(truth: &RestClient, file: &Path) {
    let trades = all_trades(truth).await;
    let store = kestrel_store::Store::sqlite(file).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stored = store.count_fills(Some("BTCUSDT")).await.unwrap();
        if stored == trades.len() as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{stored} fills stored, the venue reports {}",
            trades.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    store.close().await;
}

/// `kestrel run --mode simulation` against a remote venue (a `kestrel sim` process): the
/// strategies trade on a paper venue mirroring its market, their fills go to a paper store of
/// the session's own, and the venue never sees an order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_run_trades_on_a_mirror_of_the_venue_and_never_on_the_venue() {
    let (_venue_process, venue) = support::start_sim("BTCUSDT");
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("kestrel.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let http = free_port();
    let mut run = spawn_with(
        &[
            "--config",
            config.to_str().unwrap(),
            "run",
            "--venue",
            &venue,
            "--mode",
            "simulation",
            "--http",
            &format!("127.0.0.1:{http}"),
        ],
        &[("KESTREL_STORE__DATA_DIR", data.path().to_str().unwrap())],
    );
    wait_for_line(&mut run, "kestrel run: venue");
    let api = format!("http://127.0.0.1:{http}");
    let status = wait_until(&format!("{api}/status"), Duration::from_secs(30), |s| {
        s["status"] == "healthy"
    })
    .await;
    let paper_url = status["venue"]["url"].as_str().unwrap().to_owned();
    assert_ne!(paper_url, venue, "orders would go to the venue: {status}");

    let paper = venue_client(&paper_url);
    let deadline = Instant::now() + Duration::from_secs(60);
    while paper.open_orders(Some("BTCUSDT")).await.unwrap().is_empty()
        || all_trades(&paper).await.is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the strategies placed no resting paper order or made no paper fill"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let truth = venue_client(&venue);
    assert!(truth.open_orders(Some("BTCUSDT")).await.unwrap().is_empty());
    assert!(
        all_trades(&truth).await.is_empty(),
        "a fill reached the venue"
    );

    let (code, _) = post(
        &format!("{api}/api/v1/risk/kill"),
        &json!({"reason": "test"}),
    )
    .await;
    assert_eq!(code, 200);
    let sessions: Vec<_> = std::fs::read_dir(data.path().join("paper"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "sqlite"))
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    check_fills_stored_in(&paper, &sessions[0]).await;
    assert!(
        !data.path().join("kestrel.sqlite").exists(),
        "paper trading wrote to the live store"
    );
    terminate(&mut run);
}

/// With `market_data.nats_url` set, `kestrel run` publishes its strategies' order updates on
/// `orders.{symbol}` and its risk events on `risk.events`: the kill switch, and the refusal of
/// an API order while it is engaged, with the rule. Skipped (saying so) when no NATS server
/// answers, unless `KESTREL_REQUIRE_SERVICES=1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_publishes_order_updates_and_risk_events_on_nats() {
    let test = "run_publishes_order_updates_and_risk_events_on_nats";
    let Some(url) = kestrel_testkit::nats::server(test).await else {
        return;
    };
    let client = kestrel_bus::nats::connect(&url).await.unwrap();
    let (mut orders, mut risk) = (
        subscribe(&client, "orders.BTCUSDT").await,
        subscribe(&client, "risk.events").await,
    );
    let data = tempfile::tempdir().unwrap();
    let (venue_port, http) = (free_port(), free_port());
    let env = [("KESTREL_MARKET_DATA__NATS_URL", url.as_str())];
    let mut run = start_run_with(data.path(), venue_port, http, &env);
    let api = format!("http://127.0.0.1:{http}");

    // An update of an order this system placed (its order API knows the id; other tests may
    // publish on the same server).
    let ours = async {
        loop {
            let envelope = orders.next().await.expect("the subscription is open");
            let update: Value = serde_json::from_slice(&envelope.message).unwrap();
            let id = update["order_id"].as_str().unwrap_or_default().to_owned();
            let known = reqwest::get(format!("{api}/api/v1/orders/{id}"))
                .await
                .unwrap();
            if known.status().is_success() {
                return update;
            }
        }
    };
    let update = tokio::time::timeout(Duration::from_secs(60), ours)
        .await
        .expect("a strategy's order update reached NATS");
    assert_eq!(update["symbol"], "BTCUSDT", "{update}");

    // A reason and a request id no other run uses, to pick our events on a shared server.
    let reason = format!("nats-test-{}-{http}", std::process::id());
    let (code, _) = post(
        &format!("{api}/api/v1/risk/kill"),
        &json!({ "reason": reason }),
    )
    .await;
    assert_eq!(code, 200);
    let request_id = format!("{reason}-order");
    let (code, refused) = post(&format!("{api}/api/v1/orders"), &api_order(&request_id)).await;
    assert_eq!(
        (code, refused["code"].as_str()),
        (422, Some("risk_kill_switch"))
    );

    let (mut engaged, mut rejected) = (None, None);
    let both = async {
        while engaged.is_none() || rejected.is_none() {
            let envelope = risk.next().await.expect("the subscription is open");
            let event: Value = serde_json::from_slice(&envelope.message).unwrap();
            if event["type"] == "kill_switch_engaged" && event["reason"] == reason.as_str() {
                engaged = Some(event);
            } else if event["type"] == "rejected" && event["request_id"] == request_id.as_str() {
                rejected = Some(event);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), both)
        .await
        .expect("the kill switch and the refusal reached risk.events");
    let rejected = rejected.unwrap();
    assert_eq!(rejected["rule"], "kill_switch", "{rejected}");
    assert_eq!(rejected["stage"], "order", "{rejected}");
    assert_eq!(rejected["symbol"], "BTCUSDT");
    terminate(&mut run);
}

async fn subscribe(
    client: &kestrel_bus::nats::Client,
    topic: &str,
) -> kestrel_bus::nats::NatsBytesSubscriber {
    let pattern = kestrel_bus::TopicPattern::parse(topic).unwrap();
    kestrel_bus::nats::NatsBytesSubscriber::subscribe(client, &pattern)
        .await
        .unwrap()
}

/// A slow venue pauses trading: with `risk.max_venue_latency_ms` at 100 and the simulator
/// answering every request 300 ms late, the strategies' acknowledged orders trip the venue
/// latency breaker, and `/status` says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_venue_trips_the_latency_breaker() {
    let data = tempfile::tempdir().unwrap();
    let (venue_port, http) = (free_port(), free_port());
    let env = [("KESTREL_RISK__MAX_VENUE_LATENCY_MS", "100")];
    let mut run = start_run_with(data.path(), venue_port, http, &env);
    let api = format!("http://127.0.0.1:{http}");
    let venue = format!("http://127.0.0.1:{venue_port}");
    let latency_breaker = |status: &Value| {
        status["risk"]["breakers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["breaker"] == "venue_latency")
            .cloned()
    };
    let status = wait_until(&format!("{api}/status"), Duration::from_secs(30), |s| {
        s["status"] == "healthy"
    })
    .await;
    assert_eq!(
        latency_breaker(&status).map(|b| b["tripped"].clone()),
        Some(json!(false)),
        "{status}"
    );

    let (code, _) = post(
        &format!("{venue}/sim/v1/faults"),
        &json!({ "kind": "latency", "ms": 300 }),
    )
    .await;
    assert_eq!(code, 200);
    let status = wait_until(&format!("{api}/status"), Duration::from_secs(60), |s| {
        latency_breaker(s).is_some_and(|b| b["tripped"] == true)
    })
    .await;
    let breaker = latency_breaker(&status).unwrap();
    assert!(
        breaker["reason"]
            .as_str()
            .is_some_and(|r| r.contains("max_venue_latency_ms 100")),
        "{breaker}"
    );
    terminate(&mut run);
}

/// With `market_data.enable_database_writes` on, `kestrel run` records trades and book
/// snapshots in its store, as `kestrel md` does, besides trading on the same file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_records_market_data_in_its_store() {
    let data = tempfile::tempdir().unwrap();
    let (venue_port, http) = (free_port(), free_port());
    let env = [
        ("KESTREL_MARKET_DATA__ENABLE_DATABASE_WRITES", "true"),
        ("KESTREL_MARKET_DATA__DATABASE_WRITE_INTERVAL_MS", "100"),
    ];
    let mut run = start_run_with(data.path(), venue_port, http, &env);
    let store = kestrel_store::Store::sqlite(data.path().join("kestrel.sqlite"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let trades = store.count_trades(Some("BTCUSDT")).await.unwrap();
        let snapshots = store.count_snapshots(Some("BTCUSDT")).await.unwrap();
        if trades > 0 && snapshots > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{trades} trades and {snapshots} snapshots stored"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    store.close().await;
    terminate(&mut run);
}
