//! The simulator in process on a real loopback socket (its default key pair, the synthetic
//! market paused so prices hold still between steps), a REST client on it, its control API, a
//! user stream known to be attached, and market orders.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kestrel_model::config::SimConfig;
use kestrel_model::order::{OrderType, PositionSide, TimeInForce, WorkingType};
use kestrel_model::{Price, Qty, Side};
use kestrel_sim::server::{self, DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSim, SimOptions};
use kestrel_venue::binance::orders::{NewOrder, ResponseType, VenueOrder};
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::Credentials;
use kestrel_venue::binance::user_data::{UserEvent, UserStream};
use serde_json::Value;
use tokio::net::TcpListener;

/// The symbol the tests trade.
pub const SYMBOL: &str = "BTCUSDT";

/// How long a test waits for something that must happen (turns a hang into a failure; nothing
/// is timed).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Starts the simulator with BTCUSDT, the market paused.
pub async fn start_sim() -> RunningSim {
    let config = SimConfig {
        symbols: vec![SYMBOL.to_owned()],
        ..SimConfig::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = server::start(SimOptions::local(config), listener)
        .await
        .unwrap();
    control(&sim, "/sim/v1/market/pause", "{}").await;
    sim
}

/// A REST client with the simulator's default key pair.
pub fn rest(sim: &RunningSim) -> RestClient {
    let config = RestConfig::new(format!("http://{}", sim.local_addr()));
    RestClient::new(
        config,
        Credentials::new(DEFAULT_API_KEY, DEFAULT_API_SECRET),
    )
    .unwrap()
}

/// POSTs a JSON body to the control API.
pub async fn control(sim: &RunningSim, path: &str, body: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("http://{}{path}", sim.local_addr()))
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

/// Advances the paused market by `ms` of simulated time.
pub async fn step(sim: &RunningSim, ms: u64) {
    control(sim, "/sim/v1/market/step", &format!(r#"{{"ms":{ms}}}"#)).await;
}

/// A user stream the simulator has attached: deposits 1 USDT until the stream reports one
/// (the server attaches a socket just after its handshake), so nothing later can be missed.
pub async fn attached_user_stream(sim: &RunningSim, rest: &RestClient) -> UserStream {
    let key = rest.create_listen_key().await.unwrap();
    let url = format!("ws://{}", sim.local_addr());
    let mut stream = UserStream::connect(&url, &key, PATIENCE).await.unwrap();
    loop {
        control(sim, "/sim/v1/fund", r#"{"amount":"1"}"#).await;
        let next = tokio::time::timeout(Duration::from_millis(200), stream.next_event()).await;
        if let Ok(Some(Ok(UserEvent::AccountUpdate(_)))) = next {
            return stream;
        }
    }
}

/// Places a market order of `qty` (or an IOC limit at `limit`) and returns the venue's answer.
pub async fn trade(
    rest: &RestClient,
    id: &str,
    side: Side,
    qty: &str,
    limit: Option<Price>,
) -> VenueOrder {
    let order = NewOrder {
        symbol: SYMBOL.to_owned(),
        side,
        order_type: if limit.is_some() {
            OrderType::Limit
        } else {
            OrderType::Market
        },
        position_side: PositionSide::Both,
        time_in_force: limit.map(|_| TimeInForce::Ioc),
        quantity: Some(Qty::parse(qty).unwrap()),
        price: limit,
        stop_price: None,
        reduce_only: false,
        close_position: false,
        working_type: WorkingType::ContractPrice,
        price_protect: false,
        activation_price: None,
        callback_rate: None,
        client_order_id: id.to_owned(),
        response_type: ResponseType::Result,
        self_trade_prevention: None,
    };
    rest.place_order(&order).await.unwrap()
}

/// The best ask of the simulator's true book.
pub async fn best_ask(sim: &RunningSim) -> Price {
    let book: Value = reqwest::get(format!(
        "http://{}/sim/v1/book/{SYMBOL}?depth=1",
        sim.local_addr()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    Price::parse(book["asks"][0][0].as_str().unwrap()).unwrap()
}
