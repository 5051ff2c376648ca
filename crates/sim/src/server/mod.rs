//! The simulator's network face: the Binance-compatible REST API under `/fapi/...`, the
//! WebSocket streams and trading API, and the control API under `/sim/v1/...`, all on one
//! address (axum + tokio).
//!
//! The [`Exchange`] sits behind one mutex: every request locks it briefly, runs, drains the
//! events it produced, and publishes them to the [`hub::Hub`] after unlocking. A driver task
//! advances the synthetic market (or a replay, or the mirror of a live venue: [`start_mirror`])
//! and the venue's clock.

mod control;
mod dispatch;
mod driver;
pub mod hub;
mod mirror;
pub mod rest;
mod snapshots;
mod streams;
mod trading_ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::{any, get, post};
use kestrel_model::config::SimConfig;
use kestrel_model::instrument::binance_usdm;
use kestrel_model::{Instrument, Price};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{LimitConfig, OrderLimiter, WeightLimiter};
use crate::exchange::{Exchange, ExchangeConfig, VenueEvent};
use crate::market::generator::GeneratorConfig;
use control::Faults;
use driver::Driver;
use hub::Hub;

/// The API key served when `KESTREL_SIM_API_KEY` is not set (for local use only).
pub const DEFAULT_API_KEY: &str = "kestrelSimulatorLocalApiKey000000000000000000000000000000000000";
/// The API secret served when `KESTREL_SIM_API_SECRET` is not set (for local use only).
pub const DEFAULT_API_SECRET: &str =
    "kestrelSimulatorLocalApiSecret00000000000000000000000000000000000";

/// The API key pair to serve: `KESTREL_SIM_API_KEY` / `KESTREL_SIM_API_SECRET` when set,
/// else the documented defaults. `get` reads an environment variable.
pub fn credentials_from_env(get: impl Fn(&str) -> Option<String>) -> (String, String) {
    let key = get("KESTREL_SIM_API_KEY")
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| DEFAULT_API_KEY.to_owned());
    let secret = get("KESTREL_SIM_API_SECRET")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_API_SECRET.to_owned());
    (key, secret)
}

/// Everything needed to start a simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// The `[sim]` section of the config.
    pub config: SimConfig,
    /// The API key of the account the simulator serves.
    pub api_key: String,
    /// Its secret.
    pub api_secret: String,
    /// A recording to serve instead of the synthetic market.
    pub replay: Option<PathBuf>,
    /// How fast the recording is served.
    pub replay_pace: ReplayPace,
}

impl SimOptions {
    /// A synthetic-market simulator with `config` and the documented default key pair: what
    /// tests and local tools start in process.
    #[must_use]
    pub fn local(config: SimConfig) -> Self {
        Self {
            config,
            api_key: DEFAULT_API_KEY.to_owned(),
            api_secret: DEFAULT_API_SECRET.to_owned(),
            replay: None,
            replay_pace: ReplayPace::Original,
        }
    }
}

/// How a recording is served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReplayPace {
    /// With the spacing the messages were received with.
    #[default]
    Original,
    /// As fast as clients read: each market step releases the next batch of messages (a
    /// client that cannot keep up is disconnected, as a slow client always is).
    Fast,
}

/// The live market a simulator mirrors ([`start_mirror`]): another venue's stream frames and
/// REST depth snapshots as Kestrel's recorder captures them, delivered over a channel instead
/// of written to a file.
#[derive(Debug)]
pub struct MirrorFeed {
    receiver: std::sync::mpsc::Receiver<crate::market::recording::RecordedMessage>,
}

impl MirrorFeed {
    /// A feed of the messages `receiver` delivers. Snapshots must name their symbol (the
    /// recorder's `<symbol>@depthSnapshot` lines do) unless only one symbol is listed.
    #[must_use]
    pub const fn new(
        receiver: std::sync::mpsc::Receiver<crate::market::recording::RecordedMessage>,
    ) -> Self {
        Self { receiver }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listed symbol has no known trading rules.
    #[error("sim.symbols: no trading rules known for {0} (known: BTCUSDT, ETHUSDT, SOLUSDT)")]
    UnknownSymbol(String),
    /// The account could not be opened.
    #[error("cannot open the simulator account: {0}")]
    Account(String),
    /// The listener's address could not be read.
    #[error("cannot read the listening address: {0}")]
    Io(#[from] std::io::Error),
    /// The market generator or the replay could not be set up.
    #[error("{0}")]
    Market(String),
}

/// A running simulator.
#[derive(Debug)]
pub struct RunningSim {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningSim {
    /// The address REST and WebSocket clients connect to.
    #[must_use]
    pub const fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes every socket, and waits for the tasks to end.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// State shared by every request and task.
#[derive(Debug)]
pub(crate) struct Shared {
    exchange: Mutex<Exchange>,
    hub: Hub,
    weights: Mutex<WeightLimiter>,
    orders: Mutex<OrderLimiter>,
    faults: Mutex<Faults>,
    driver: Mutex<Driver>,
    shutdown: watch::Receiver<bool>,
    /// Bumped to make every WebSocket close (the `drop_connections` fault).
    drop_sockets: watch::Sender<u64>,
}

impl Shared {
    /// Runs `f` on the exchange at the current time, then publishes what it produced.
    pub(crate) fn with_exchange<R>(&self, f: impl FnOnce(&mut Exchange, u64) -> R) -> R {
        let mut events = Vec::new();
        let result = {
            let mut exchange = lock(&self.exchange);
            let result = f(&mut exchange, now_ms());
            exchange.drain_events(&mut events);
            result
        };
        self.publish(&events);
        result
    }

    /// Publishes events, applying the `gap` fault to depth streams.
    pub(crate) fn publish(&self, events: &[VenueEvent]) {
        let mut faults = lock(&self.faults);
        for event in events {
            if let VenueEvent::Depth {
                symbol, cadence, ..
            } = event
                && faults.take_gap(symbol, *cadence)
            {
                continue;
            }
            self.hub.publish(event);
        }
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the state itself is
/// kept consistent by the exchange's own all-or-nothing operations).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Resolves once `shutdown` says stop (the guard of `wait_for` is dropped before returning,
/// so the future stays `Send`).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Milliseconds since the Unix epoch (the server is the edge where wall time enters).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Starts the simulator on `listener` and returns once it accepts connections.
///
/// # Errors
/// [`StartError`] when a symbol is unknown, the account cannot be opened, or the replay
/// cannot be read.
pub async fn start(options: SimOptions, listener: TcpListener) -> Result<RunningSim, StartError> {
    launch(options, None, listener).await
}

/// Starts a simulator whose market is the live venue `feed` delivers (paper trading against
/// a real market): its books hold the venue's depth for `options.config.symbols` and its
/// trades are replayed against them, so API users' orders fill at the venue's prices with
/// queue position (see [`crate::exchange::mirror`]). `options.replay` is ignored. Returns
/// once it accepts connections; the books fill as the feed delivers snapshots.
///
/// # Errors
/// As [`start`].
pub async fn start_mirror(
    options: SimOptions,
    feed: MirrorFeed,
    listener: TcpListener,
) -> Result<RunningSim, StartError> {
    launch(options, Some(feed), listener).await
}

async fn launch(
    options: SimOptions,
    mirror: Option<MirrorFeed>,
    listener: TcpListener,
) -> Result<RunningSim, StartError> {
    let addr = listener.local_addr()?;
    let now = now_ms();
    let instruments = instruments(&options.config.symbols)?;
    let exchange = build_exchange(&options, &instruments, now)?;
    let precision = exchange
        .markets()
        .iter()
        .map(|(s, m)| (s.clone(), m.precision))
        .collect();
    let driver = match mirror {
        Some(feed) => Driver::mirror(&options, feed, &instruments, now),
        None => Driver::new(&options, &instruments, now).map_err(StartError::Market)?,
    };
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let limits = limit_config(&options.config);
    let shared = Arc::new(Shared {
        exchange: Mutex::new(exchange),
        hub: Hub::new(precision),
        weights: Mutex::new(WeightLimiter::new(limits)),
        orders: Mutex::new(OrderLimiter::new(limits)),
        faults: Mutex::new(Faults::default()),
        driver: Mutex::new(driver),
        shutdown: shutdown_rx.clone(),
        drop_sockets: watch::channel(0).0,
    });
    driver::warm_up(&shared);
    let app = router(Arc::clone(&shared));
    let mut shutdown = shutdown_rx.clone();
    let server = tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let stop = async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        };
        if let Err(error) = axum::serve(listener, service)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(%error, "simulator server failed");
        }
    });
    let ticker = tokio::spawn(driver::run(Arc::clone(&shared)));
    tracing::info!(%addr, "simulator ready");
    Ok(RunningSim {
        addr,
        shutdown: shutdown_tx,
        tasks: vec![server, ticker],
    })
}

fn instruments(symbols: &[String]) -> Result<Vec<(Instrument, Price)>, StartError> {
    symbols
        .iter()
        .map(|symbol| {
            let instrument =
                binance_usdm(symbol).ok_or_else(|| StartError::UnknownSymbol(symbol.clone()))?;
            let price = GeneratorConfig::binance_usdm(symbol)
                .map(|g| g.initial_price)
                .ok_or_else(|| StartError::UnknownSymbol(symbol.clone()))?;
            Ok((instrument, price))
        })
        .collect()
}

fn limit_config(config: &SimConfig) -> LimitConfig {
    LimitConfig {
        weight_per_minute: config.request_weight_limit_per_minute,
        orders_per_10s: config.orders_per_10s,
        orders_per_minute: config.orders_per_minute,
        ..LimitConfig::default()
    }
}

fn build_exchange(
    options: &SimOptions,
    instruments: &[(Instrument, Price)],
    now: u64,
) -> Result<Exchange, StartError> {
    let config = &options.config;
    let mut exchange = Exchange::new(
        ExchangeConfig {
            instruments: instruments.to_vec(),
            maker_fee_rate: config.maker_fee_rate,
            taker_fee_rate: config.taker_fee_rate,
            default_leverage: config.default_leverage,
            funding_interval_ms: config.funding_interval_seconds.saturating_mul(1000),
            listen_key_validity_ms: config.listen_key_validity_minutes.saturating_mul(60_000),
            legacy_conditional_orders: config.legacy_conditional_orders,
            seed: config.seed,
            limits: limit_config(config),
        },
        now,
    );
    exchange
        .open_account(
            &options.api_key,
            &options.api_secret,
            config.initial_balance_usdt,
            now,
        )
        .map_err(|e| StartError::Account(e.msg))?;
    Ok(exchange)
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/fapi/{*rest}", any(dispatch::fapi))
        .route("/sim/v1/market/pause", post(control::pause))
        .route("/sim/v1/market/resume", post(control::resume))
        .route("/sim/v1/market/step", post(control::step))
        .route("/sim/v1/book/{symbol}", get(control::book))
        .route("/sim/v1/fund", post(control::fund))
        .route("/sim/v1/mark", post(control::mark))
        .route("/sim/v1/faults", post(control::fault))
        .route("/sim/v1/status", get(control::status))
        .route("/ws-fapi/v1", get(trading_ws::upgrade))
        .fallback(streams::upgrade)
        .with_state(shared)
}
