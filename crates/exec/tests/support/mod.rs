// Each test binary that declares `mod support;` uses only a subset of these helpers.
#![allow(dead_code)]

//! Shared pieces of the execution driver's tests: the simulator in-process on a real loopback
//! socket (its default key pair, the synthetic market paused so the book holds still), an
//! engine and a driver pointed at it, the venue's own truth read back over REST, and waits
//! that end on events, never on elapsed time. [`store`] adds the store side: a database of the
//! test's own, a store journal on it and a driver persisting to it.

pub mod store;

use std::time::Duration;

use kestrel_exec::driver::{DriverConfig, ExecDriver, StreamState, Submission};
use kestrel_exec::engine::{Engine, EngineConfig, ExecEvent};
use kestrel_exec::journal::{Journal, MemoryJournal, NewIntent};
use kestrel_exec::ratelimit::VenueLimits;
use kestrel_exec::retry::RetryPolicy;
use kestrel_exec::validate::{AccountView, MarketView, OrderContext, Validator};
use kestrel_exec::{Nanos, OrderAnswer};
use kestrel_model::config::{ExecutionConfig, RiskConfig, SimConfig, Transport};
use kestrel_model::order::{
    ExecutionMode, Order, OrderRequest, OrderType, PositionSide, TimeInForce, WorkingType,
};
use kestrel_model::{Instrument, Money, Price, Qty, Rate, RoundingMode, Side};
use kestrel_sim::server::{self, DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSim, SimOptions};
use kestrel_venue::binance::orders::VenueOrder;
use kestrel_venue::binance::parse_exchange_info;
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::{Credentials, Params, local_now_ms};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

/// The symbol every test trades.
pub const SYMBOL: &str = "BTCUSDT";

/// How long a test waits for something that must happen (a bound that turns a hang into a
/// failure; nothing is timed).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Starts the simulator with BTCUSDT and the default key pair, the market paused.
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
pub fn ws_url(sim: &RunningSim) -> String {
    format!("ws://{}", sim.local_addr())
}

/// The simulator's default key pair.
pub fn credentials() -> Credentials {
    Credentials::new(DEFAULT_API_KEY, DEFAULT_API_SECRET)
}

/// A REST client of the test's own (the venue's truth, or "the previous process").
pub fn rest(sim: &RunningSim) -> RestClient {
    RestClient::new(RestConfig::new(base_url(sim)), credentials()).unwrap()
}

/// POSTs a JSON body to the control API.
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

/// Waits until `check` holds, asking again every 20 ms (failing the test after [`PATIENCE`]).
pub async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let waiting = async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(PATIENCE, waiting)
        .await
        .expect("the condition held in time");
}

/// Journals `request` under `client_order_id` as sent at `sent_at_ms`, as a process that died
/// before its answer came did.
pub fn journal_sent(
    journal: &MemoryJournal,
    mut request: OrderRequest,
    client_order_id: &str,
    sent_at_ms: u64,
) -> OrderRequest {
    request.client_order_id = Some(client_order_id.to_owned());
    journal
        .begin(NewIntent {
            request_id: request.request_id.clone(),
            client_order_id: client_order_id.to_owned(),
            request: request.clone(),
            created_at_ms: sent_at_ms,
        })
        .unwrap();
    journal.mark_sent(&request.request_id, sent_at_ms).unwrap();
    request
}

/// Sets BTCUSDT's mark (and index) price (`POST /sim/v1/mark`): conditional orders watching
/// the mark trigger on it.
pub async fn move_mark(sim: &RunningSim, price: Price) {
    let body = format!(r#"{{"symbol":"{SYMBOL}","price":"{price}"}}"#);
    control(sim, "/sim/v1/mark", &body).await;
}

/// Injects a fault (`POST /sim/v1/faults`).
pub async fn fault(sim: &RunningSim, body: &str) {
    control(sim, "/sim/v1/faults", body).await;
}

/// Test settings: short timeouts and backoffs, a one-second acceptance window.
pub fn execution(transport: Transport, max_retry_attempts: u32) -> ExecutionConfig {
    ExecutionConfig {
        transport,
        max_orders_per_second: 50,
        request_timeout_ms: 500,
        max_retry_attempts,
        circuit_breaker_threshold: 3,
        circuit_breaker_timeout_ms: 300,
        recv_window_ms: 1_000,
        ..ExecutionConfig::default()
    }
}

/// The retry policy for `execution`, with backoffs short enough for tests.
pub fn retry_policy(execution: &ExecutionConfig) -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(40),
        max_delay: Duration::from_millis(400),
        clock_margin: Duration::from_millis(200),
        ..RetryPolicy::from_config(execution)
    }
}

/// An engine on `journal` with client ids `{prefix}-{n}`.
pub fn engine<J: Journal>(execution: &ExecutionConfig, journal: J, prefix: &str) -> Engine<J> {
    let risk = RiskConfig::default();
    let validator = Validator::from_config(execution, &risk, VenueLimits::binance_usdm());
    let config = EngineConfig::new(prefix, retry_policy(execution));
    Engine::new(config, validator, journal).unwrap()
}

/// Driver settings for the simulator.
pub fn driver_config(sim: &RunningSim, execution: &ExecutionConfig) -> DriverConfig {
    DriverConfig {
        retry_after_cap: Duration::from_millis(200),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(400),
        ..DriverConfig::new(base_url(sim), &ws_url(sim), credentials(), execution)
    }
}

/// Starts a driver on `journal`.
pub async fn start_driver<J: Journal + 'static>(
    sim: &RunningSim,
    execution: &ExecutionConfig,
    journal: J,
    prefix: &str,
    tweak: impl FnOnce(&mut DriverConfig),
) -> ExecDriver<J> {
    let mut config = driver_config(sim, execution);
    tweak(&mut config);
    ExecDriver::start(config, engine(execution, journal, prefix))
        .await
        .unwrap()
}

/// The simulator's BTCUSDT rules and mark price.
pub struct Market {
    /// The instrument, from the venue's `exchangeInfo`.
    pub instrument: Instrument,
    /// The mark price.
    pub mark: Price,
    /// Best bid and ask.
    pub bid: Price,
    /// The quantity resting at the best bid.
    pub bid_qty: Qty,
    /// Best ask.
    pub ask: Price,
}

impl Market {
    /// Reads the rules, the mark price and the top of the book.
    pub async fn read(sim: &RunningSim) -> Self {
        let base = base_url(sim);
        let info = reqwest::get(format!("{base}/fapi/v1/exchangeInfo"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let instrument = parse_exchange_info(&info)
            .unwrap()
            .into_instruments()
            .into_iter()
            .find(|i| i.symbol == SYMBOL)
            .unwrap();
        let premium: Value = reqwest::get(format!("{base}/fapi/v1/premiumIndex?symbol={SYMBOL}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mark = Price::parse(premium["markPrice"].as_str().unwrap()).unwrap();
        let book: Value = reqwest::get(format!("{base}/sim/v1/book/{SYMBOL}?depth=1"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let level = |side: &str| Price::parse(book[side][0][0].as_str().unwrap()).unwrap();
        Self {
            instrument,
            mark,
            bid: level("bids"),
            bid_qty: Qty::parse(book["bids"][0][1].as_str().unwrap()).unwrap(),
            ask: level("asks"),
        }
    }

    /// The validation context at `now`: a fresh mark, a flat, well-funded account.
    pub fn ctx(&self, now: Nanos) -> OrderContext<'_> {
        OrderContext {
            instrument: &self.instrument,
            market: MarketView {
                mark_price: Some(self.mark),
                mark_at: now,
            },
            account: AccountView {
                position_qty: Qty::ZERO,
                open_orders: 0,
                available_balance: Money::parse("1000000").unwrap(),
                leverage: 20,
                fee_rate: Rate::parse("0.0005").unwrap(),
            },
        }
    }

    /// A buy 1 % below the bid: it rests and never fills while the market is paused.
    pub fn resting_buy(&self, request_id: &str) -> OrderRequest {
        let price = self.on_tick(
            self.bid
                .try_mul_rate(Rate::parse("0.99").unwrap(), RoundingMode::Floor)
                .unwrap(),
        );
        limit(request_id, Side::Buy, price, "0.010")
    }

    /// A buy at the best bid: it joins the back of that level's queue, so a sell at the bid
    /// for more than the rest of the level reaches it.
    pub fn buy_at_bid(&self, request_id: &str, qty: &str) -> OrderRequest {
        limit(request_id, Side::Buy, self.bid, qty)
    }

    /// A buy 0.5 % through the ask: it takes several levels at once.
    pub fn taking_buy(&self, request_id: &str, qty: &str) -> OrderRequest {
        let price = self.on_tick(
            self.ask
                .try_mul_rate(Rate::parse("1.005").unwrap(), RoundingMode::Floor)
                .unwrap(),
        );
        let mut request = limit(request_id, Side::Buy, price, qty);
        request.time_in_force = Some(TimeInForce::Ioc);
        request
    }

    /// A stop-market sell of `qty` triggered by the mark price 1 % below the mark: it waits at
    /// the algo service until [`move_mark`] takes the mark through it.
    pub fn stop_sell(&self, request_id: &str, qty: &str) -> OrderRequest {
        let trigger = self.on_tick(
            self.mark
                .try_mul_rate(Rate::parse("0.99").unwrap(), RoundingMode::Floor)
                .unwrap(),
        );
        let mut request = limit(request_id, Side::Sell, trigger, qty);
        request.order_type = OrderType::StopMarket;
        request.time_in_force = None;
        request.price = None;
        request.stop_price = Some(trigger);
        request.working_type = WorkingType::MarkPrice;
        request
    }

    /// A stop-limit sell of `qty` triggered 1 % below the mark, limited 1 % above the ask: once
    /// triggered its child order rests on the book.
    pub fn stop_limit_sell(&self, request_id: &str, qty: &str) -> OrderRequest {
        let mut request = self.stop_sell(request_id, qty);
        request.order_type = OrderType::StopLimit;
        request.time_in_force = Some(TimeInForce::Gtc);
        request.price = Some(
            self.on_tick(
                self.ask
                    .try_mul_rate(Rate::parse("1.01").unwrap(), RoundingMode::Floor)
                    .unwrap(),
            ),
        );
        request
    }

    /// A mark price 2 % below the current one: through every [`Market::stop_sell`] trigger.
    pub fn mark_below_stops(&self) -> Price {
        self.on_tick(
            self.mark
                .try_mul_rate(Rate::parse("0.98").unwrap(), RoundingMode::Floor)
                .unwrap(),
        )
    }

    fn on_tick(&self, price: Price) -> Price {
        price
            .round_to_step(
                self.instrument.tick_size(),
                Price::ZERO,
                RoundingMode::Floor,
            )
            .unwrap()
    }
}

/// A limit order request.
pub fn limit(request_id: &str, side: Side, price: Price, qty: &str) -> OrderRequest {
    OrderRequest {
        request_id: request_id.to_owned(),
        symbol: SYMBOL.to_owned(),
        side,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        price: Some(price),
        quantity: Qty::parse(qty).unwrap(),
        stop_price: None,
        reduce_only: false,
        close_position: false,
        position_side: PositionSide::Both,
        client_order_id: None,
        execution_mode: ExecutionMode::Live,
        working_type: WorkingType::ContractPrice,
        callback_rate: None,
        activation_price: None,
    }
}

/// Submits and waits for the answer.
pub async fn place<J: Journal + 'static>(
    driver: &ExecDriver<J>,
    market: &Market,
    request: OrderRequest,
) -> OrderAnswer {
    let submission = driver.submit(request, &market.ctx(driver.now())).unwrap();
    answer(submission).await
}

/// The answer of a submission, failing the test when it never comes.
pub async fn answer(submission: Submission) -> OrderAnswer {
    tokio::time::timeout(PATIENCE, submission.answer())
        .await
        .expect("an answer in time")
}

/// Every order the venue holds for the account on BTCUSDT (`GET /fapi/v1/allOrders`),
/// read with the test's own signed request.
pub async fn all_orders(sim: &RunningSim) -> Vec<VenueOrder> {
    let mut params = Params::new();
    params.text("symbol", SYMBOL);
    let query = params.signed_encoded(&credentials(), local_now_ms(), 10_000);
    let response = reqwest::Client::new()
        .get(format!("{}/fapi/v1/allOrders?{query}", base_url(sim)))
        .header("X-MBX-APIKEY", DEFAULT_API_KEY)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "allOrders: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Someone else (the test's own REST client, a client id without any engine's prefix) sells
/// `qty` at `price`, immediate-or-cancel: how fills happen at the venue while no engine runs.
pub async fn sell_into_bids(sim: &RunningSim, client_order_id: &str, price: Price, qty: Qty) {
    let mut request = limit(client_order_id, Side::Sell, price, &qty.to_string());
    request.time_in_force = Some(TimeInForce::Ioc);
    request.client_order_id = Some(client_order_id.to_owned());
    let order = kestrel_venue::binance::orders::NewOrder::from_request(&request).unwrap();
    rest(sim).place_order(&order).await.unwrap();
}

/// How many orders the venue holds with `client_order_id`.
pub async fn venue_count(sim: &RunningSim, client_order_id: &str) -> usize {
    all_orders(sim)
        .await
        .iter()
        .filter(|o| o.client_order_id == client_order_id)
        .count()
}

/// The engine's copy of an order.
pub fn order_of<J: Journal + 'static>(driver: &ExecDriver<J>, client_order_id: &str) -> Order {
    driver.with_engine(|e| e.order(client_order_id).cloned().unwrap())
}

/// Waits until `done` holds on the engine, re-checking after each event the driver publishes.
pub async fn wait_for<J: Journal + 'static>(
    driver: &ExecDriver<J>,
    events: &mut broadcast::Receiver<ExecEvent>,
    mut done: impl FnMut(&Engine<J>) -> bool,
) {
    let waiting = async {
        while !driver.with_engine(|e| done(e)) {
            match events.recv().await {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the driver stopped"),
            }
        }
    };
    tokio::time::timeout(PATIENCE, waiting)
        .await
        .expect("the engine reached the expected state in time");
}

/// Waits until the user stream's state satisfies `done`.
pub async fn wait_stream<J: Journal + 'static>(
    driver: &ExecDriver<J>,
    done: impl FnMut(&StreamState) -> bool,
) {
    let mut state = driver.stream_state();
    tokio::time::timeout(PATIENCE, state.wait_for(done))
        .await
        .expect("the user stream reached the expected state in time")
        .unwrap();
}

/// A driver over REST without a user stream on `journal`, its REST traffic through an
/// [`AnswerBlackhole`] in front of `sim` (returned with it, to swallow answers at will).
pub async fn start_behind_blackhole<J: Journal + 'static>(
    sim: &RunningSim,
    journal: J,
    prefix: &str,
) -> (AnswerBlackhole, ExecDriver<J>) {
    let relay = AnswerBlackhole::start(sim.local_addr()).await;
    let config = execution(Transport::Rest, 3);
    let driver = start_driver(sim, &config, journal, prefix, |c| {
        c.user_stream = false;
        c.rest_url = relay.url();
    })
    .await;
    (relay, driver)
}

/// A TCP relay in front of the simulator that can swallow everything the venue sends back
/// while still delivering what the client sends: a lost answer, the one fault after which an
/// order is at the venue although the client never heard so.
pub struct AnswerBlackhole {
    addr: std::net::SocketAddr,
    swallow: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl AnswerBlackhole {
    /// Relays connections to `target`.
    pub async fn start(target: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let swallow = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&swallow);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let flag = std::sync::Arc::clone(&flag);
                tokio::spawn(relay(client, target, flag));
            }
        });
        Self {
            addr,
            swallow,
            task,
        }
    }

    /// `http://<relay>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts or stops swallowing the venue's answers.
    pub fn swallow_answers(&self, on: bool) {
        self.swallow.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for AnswerBlackhole {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(
    client: tokio::net::TcpStream,
    target: std::net::SocketAddr,
    swallow: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(server) = tokio::net::TcpStream::connect(target).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    };
    let downstream = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let n = match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if !swallow.load(std::sync::atomic::Ordering::SeqCst)
                && client_write.write_all(&buffer[..n]).await.is_err()
            {
                return;
            }
        }
    };
    tokio::join!(upstream, downstream);
}
