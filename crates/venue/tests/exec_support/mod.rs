// Each test binary that declares `mod exec_support;` uses only a subset of these helpers.
#![allow(dead_code)]

//! Shared pieces of the execution-adapter tests: an in-process simulator on a real loopback
//! socket (its default key pair, a paused market so the book holds still), clients pointed at
//! it, its control API, and order builders.

use std::time::Duration;

use kestrel_model::config::SimConfig;
use kestrel_model::order::{PositionSide, TimeInForce, WorkingType};
use kestrel_model::{Price, Qty, Side};
use kestrel_sim::server::{self, DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSim, SimOptions};
use kestrel_venue::binance::orders::{NewOrder, ResponseType};
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::Credentials;
use kestrel_venue::binance::user_data::{UserEvent, UserStream};
use serde_json::Value;
use tokio::net::TcpListener;

/// The symbol every test trades.
pub const SYMBOL: &str = "BTCUSDT";

/// How long a test waits for something the simulator does at once (a generous bound that
/// only turns a hang into a failure; nothing is timed).
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Starts the simulator with BTCUSDT, production rules for conditional orders (algo
/// endpoint only), the default key pair, and the synthetic market paused.
pub async fn start_sim() -> RunningSim {
    let config = SimConfig {
        symbols: vec![SYMBOL.to_owned()],
        legacy_conditional_orders: false,
        ..SimConfig::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = server::start(SimOptions::local(config), listener)
        .await
        .unwrap();
    control(&sim, "/sim/v1/market/pause", "{}").await;
    sim
}

/// `http://<sim>`.
pub fn base_url(sim: &RunningSim) -> String {
    format!("http://{}", sim.local_addr())
}

/// `ws://<sim>`.
pub fn ws_base_url(sim: &RunningSim) -> String {
    format!("ws://{}", sim.local_addr())
}

/// The simulator's default key pair.
pub fn credentials() -> Credentials {
    Credentials::new(DEFAULT_API_KEY, DEFAULT_API_SECRET)
}

/// A REST client for the simulator with default settings.
pub fn rest(sim: &RunningSim) -> RestClient {
    RestClient::new(RestConfig::new(base_url(sim)), credentials()).unwrap()
}

/// A REST client with a custom configuration and credentials.
pub fn rest_with(
    sim: &RunningSim,
    tweak: impl FnOnce(&mut RestConfig),
    credentials: Credentials,
) -> RestClient {
    let mut config = RestConfig::new(base_url(sim));
    tweak(&mut config);
    RestClient::new(config, credentials).unwrap()
}

/// POSTs a JSON body to the control API and returns its answer.
pub async fn control(sim: &RunningSim, path: &str, body: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", base_url(sim)))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path} {body}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Injects a fault (`POST /sim/v1/faults`).
pub async fn fault(sim: &RunningSim, body: &str) {
    control(sim, "/sim/v1/faults", body).await;
}

/// The simulator's true best bid and ask.
pub async fn best_bid_ask(sim: &RunningSim) -> (Price, Price) {
    let book: Value = reqwest::get(format!("{}/sim/v1/book/{SYMBOL}?depth=1", base_url(sim)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let level = |side: &str| Price::parse(book[side][0][0].as_str().unwrap()).unwrap();
    (level("bids"), level("asks"))
}

/// A GTC limit order with an ACK answer.
pub fn limit(side: Side, price: Price, qty: &str, client_order_id: &str) -> NewOrder {
    NewOrder {
        symbol: SYMBOL.to_owned(),
        side,
        order_type: kestrel_model::order::OrderType::Limit,
        position_side: PositionSide::Both,
        time_in_force: Some(TimeInForce::Gtc),
        quantity: Some(Qty::parse(qty).unwrap()),
        price: Some(price),
        stop_price: None,
        reduce_only: false,
        close_position: false,
        working_type: WorkingType::ContractPrice,
        price_protect: false,
        activation_price: None,
        callback_rate: None,
        client_order_id: client_order_id.to_owned(),
        response_type: ResponseType::Ack,
        self_trade_prevention: None,
    }
}

/// A buy that rests well below the market (it never fills while the market is paused).
pub async fn resting_buy(sim: &RunningSim, client_order_id: &str) -> NewOrder {
    let (bid, _) = best_bid_ask(sim).await;
    let price = bid.try_sub(Price::parse("500").unwrap()).unwrap();
    limit(Side::Buy, price, "0.010", client_order_id)
}

/// The next event of `stream`, failing the test when none comes.
pub async fn next_event(stream: &mut UserStream) -> UserEvent {
    tokio::time::timeout(PATIENCE, stream.next_event())
        .await
        .expect("a user-data event in time")
        .expect("the stream is open")
        .expect("a well-formed event")
}
