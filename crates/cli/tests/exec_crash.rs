//! Exactly-once placement across a hard kill (issue 5, NFR-OE-003): `kestrel exec` is killed
//! with SIGKILL while orders are in flight, then started again on the same SQLite store. The
//! venue must then hold exactly the orders the journal says it does, each once; no intent may
//! stay unresolved; a repeat of any request id must get the first answer and place nothing;
//! and every fill the venue reports must be in the store.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use kestrel_store::Store;
use kestrel_venue::binance::orders::VenueOrder;
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::{Credentials, Params, local_now_ms};
use serde_json::{Value, json};
use support::{Running, free_port, spawn, spawn_with, wait_for_line};

const SYMBOL: &str = "BTCUSDT";

/// Orders fired at once before the kill.
const ORDERS: u32 = 24;

fn credentials() -> Credentials {
    Credentials::new(
        kestrel_sim::server::DEFAULT_API_KEY,
        kestrel_sim::server::DEFAULT_API_SECRET,
    )
}

fn start_sim() -> (Running, String) {
    let venue = free_port();
    let mut sim = spawn(&[
        "sim",
        "--listen",
        &format!("127.0.0.1:{venue}"),
        "--symbols",
        SYMBOL,
    ]);
    wait_for_line(&mut sim, "api key");
    (sim, format!("http://127.0.0.1:{venue}"))
}

/// `kestrel exec` on the SQLite store in `data_dir`; its HTTP base URL.
fn start_exec(venue: &str, data_dir: &Path, http: u16) -> Running {
    let mut exec = spawn_with(
        &[
            "exec",
            "--venue-url",
            venue,
            "--symbols",
            SYMBOL,
            "--http",
            &format!("127.0.0.1:{http}"),
        ],
        &[
            ("KESTREL_STORE__DATA_DIR", data_dir.to_str().unwrap()),
            ("KESTREL_EXECUTION__MAX_ORDERS_PER_SECOND", "1000"),
        ],
    );
    wait_for_line(&mut exec, "kestrel exec trading");
    exec
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

/// Best bid and ask, in whole dollars.
async fn touch(venue: &str) -> (u64, u64) {
    let book: Value = reqwest::get(format!("{venue}/sim/v1/book/{SYMBOL}?depth=1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let whole = |side: &str| -> u64 {
        let text = book[side][0][0].as_str().unwrap();
        text.split('.').next().unwrap().parse().unwrap()
    };
    (whole("bids"), whole("asks"))
}

/// Half the orders rest 3 % under the bid; the other half take through the ask (IOC), so
/// fills happen while the process may be killed.
fn order(n: u32, bid: u64, ask: u64) -> Value {
    let (price, tif) = if n.is_multiple_of(2) {
        (bid * 97 / 100, "GTC")
    } else {
        (ask * 1005 / 1000, "IOC")
    };
    json!({
        "request_id": format!("crash-{n}"), "symbol": SYMBOL, "side": "buy", "type": "limit",
        "time_in_force": tif, "price": price.to_string(), "quantity": "0.010",
    })
}

async fn post(api: &str, body: &Value) -> Option<(u16, Value)> {
    let response = reqwest::Client::new()
        .post(format!("{api}/api/v1/orders"))
        .json(body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.unwrap_or(Value::Null)))
}

/// Every order the venue holds for the account on the symbol, by client order id.
async fn venue_orders(venue: &str) -> Vec<VenueOrder> {
    let mut params = Params::new();
    params.text("symbol", SYMBOL);
    let query = params.signed_encoded(&credentials(), local_now_ms(), 10_000);
    reqwest::Client::new()
        .get(format!("{venue}/fapi/v1/allOrders?{query}"))
        .header("X-MBX-APIKEY", kestrel_sim::server::DEFAULT_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until `/health` answers (the restarted service finished its recovery before binding).
async fn wait_up(api: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{api}/health")).await.is_err() {
        assert!(Instant::now() < deadline, "exec did not come back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_mid_flight_loses_no_fill_and_doubles_no_order() {
    let (_sim, venue) = start_sim();
    pause_market(&venue).await;
    let data = tempfile::tempdir().unwrap();
    let http = free_port();
    let api = format!("http://127.0.0.1:{http}");
    let mut exec = start_exec(&venue, data.path(), http);
    wait_up(&api).await;
    let (bid, ask) = touch(&venue).await;
    let orders: Vec<Value> = (0..ORDERS).map(|n| order(n, bid, ask)).collect();

    // Fire every order at once; kill the process once a few have been answered.
    let mut flights = tokio::task::JoinSet::new();
    for body in orders.clone() {
        let api = api.clone();
        flights.spawn(async move { post(&api, &body).await });
    }
    // Kill as soon as one order is accepted: the rest are in flight or queued.
    while let Some(done) = flights.join_next().await {
        if let Ok(Some((200, _))) = done {
            break;
        }
    }
    exec.0.kill().unwrap();
    exec.0.wait().unwrap();
    while flights.join_next().await.is_some() {}

    let _restarted = start_exec(&venue, data.path(), http);
    wait_up(&api).await;

    // The venue holds exactly what the journal says, each order once.
    let journaled = check_venue_matches_journal(&venue_orders(&venue).await, data.path()).await;
    assert!(
        !journaled.is_empty(),
        "no order reached the service before the kill"
    );

    // Repeats of the journaled request ids get their first answers and place nothing.
    let before = venue_orders(&venue).await.len();
    for body in &orders {
        let request_id = body["request_id"].as_str().unwrap();
        let Some(&placed) = journaled.get(request_id) else {
            continue;
        };
        let (status, answer) = post(&api, body).await.unwrap();
        let accepted = status == 200 && answer["status"] == "accepted";
        assert_eq!(
            accepted, placed,
            "{request_id}: the repeat's answer {answer} disagrees with the journal"
        );
    }
    let after = venue_orders(&venue).await.len();
    assert_eq!(after, before, "a repeat after the restart placed an order");
    check_fills_recorded(&venue, data.path()).await;
}

/// Each client order id at the venue appears once and belongs to an intent the journal
/// resolved as placed (acknowledged or adopted); each intent resolved as placed is at the
/// venue; none is unresolved. Returns each journaled request id and whether it was placed.
async fn check_venue_matches_journal(
    at_venue: &[VenueOrder],
    data_dir: &Path,
) -> BTreeMap<String, bool> {
    let ids: Vec<&str> = at_venue
        .iter()
        .map(|o| o.client_order_id.as_str())
        .collect();
    let unique: BTreeSet<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        ids.len(),
        unique.len(),
        "an order was placed twice: {ids:?}"
    );

    let store = Store::sqlite(data_dir.join("kestrel.sqlite"))
        .await
        .unwrap();
    assert_eq!(
        store.unresolved_intents().await.unwrap(),
        vec![],
        "unresolved intents remain"
    );
    let mut journaled = BTreeMap::new();
    let mut placed_ids = BTreeSet::new();
    for n in 0..ORDERS {
        let request_id = format!("crash-{n}");
        let Some(intent) = store.intent_by_request_id(&request_id).await.unwrap() else {
            continue; // never reached the service before the kill
        };
        let placed = matches!(intent.state.as_str(), "acknowledged" | "adopted");
        if placed {
            placed_ids.insert(intent.client_order_id.clone());
        }
        journaled.insert(request_id, placed);
    }
    assert_eq!(placed_ids, unique, "the venue and the journal differ");
    store.close().await;
    journaled
}

/// Every trade the venue reports for the account is in the store's fills, once.
async fn check_fills_recorded(venue: &str, data_dir: &Path) {
    let rest = RestClient::new(RestConfig::new(venue), credentials()).unwrap();
    let query = kestrel_venue::binance::orders::TradeQuery::symbol(SYMBOL);
    let trades = rest.user_trades(&query).await.unwrap();
    assert!(!trades.is_empty(), "the taking orders made no trades");
    let store = Store::sqlite(data_dir.join("kestrel.sqlite"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let recorded = store.count_fills(Some(SYMBOL)).await.unwrap();
        if recorded == trades.len() as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{recorded} fills recorded, the venue reports {}",
            trades.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    store.close().await;
}
