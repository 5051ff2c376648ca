//! [`TradingSystem`]: everything `kestrel run` starts, in one process (ARCHITECTURE.md
//! "all-in-one"): the venue (the embedded simulator unless a URL is given), the market-data
//! pipeline, execution with its journal, the account monitor, and the [`TradingCore`] task
//! that joins them.
//!
//! ```text
//! venue WS ─► Pipeline ─► ring ─► reader thread ─► core task ─► TradingCore ─► CoreAction
//!                │ books (shared)                    ▲   ▲                         │
//!                └──────────────── depth diffs ──────┘   │ fills, closed orders    ▼
//!                                                      ExecDriver ◄──── submit / cancel
//!                                                          │ fills ─► AccountMonitor
//! ```
//!
//! Order updates, fills and risk events go on the system's bus, and on NATS when
//! `market_data.nats_url` is set ([`crate::events`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use kestrel_account::{AccountMonitor, FillUpdate, MonitorConfig};
use kestrel_bus::ring::{RingConfig, RingError, RingReader, RingWriter, default_ring_path};
use kestrel_exec::context::{RefreshConfig, VenueContext};
use kestrel_exec::driver::{DriverConfig, ExecDriver, SystemClock};
use kestrel_exec::engine::{Engine, EngineConfig, ExecEvent};
use kestrel_exec::journal::StoreJournal;
use kestrel_exec::persist::PersistConfig;
use kestrel_exec::ratelimit::VenueLimits;
use kestrel_exec::retry::RetryPolicy;
use kestrel_exec::validate::Validator;
use kestrel_marketdata::connection::{self, StreamConfig};
use kestrel_marketdata::pipeline::{Feeds, Pipeline, lock, run_snapshots};
use kestrel_marketdata::snapshot::SnapshotClient;
use kestrel_model::config::Config;
use kestrel_model::event::OwnedMarketEvent;
use kestrel_model::order::{ExecutionMode, OrderStatus};
use kestrel_risk::{RiskEngine, RiskEvent};
use kestrel_strategy::{CloseReason, EngineSettings, Registry, StrategyEngine};
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::Credentials;
use tokio::sync::{broadcast, mpsc, watch};

use crate::control::{Control, ControlSender};
use crate::core::{CoreAction, TradingCore};
use crate::defaults;
use crate::events::{self, EventBus, RiskEventSender};

/// Where the venue is.
#[derive(Debug, Clone)]
pub enum Venue {
    /// Start the simulator in this process on `sim.listen`.
    Embedded,
    /// A venue at these addresses with these credentials.
    Remote {
        /// REST base URL.
        rest: String,
        /// WebSocket base URL (market and user streams).
        ws: String,
        /// WebSocket trading API URL.
        ws_api: String,
        /// API key pair.
        credentials: Credentials,
    },
}

/// What to start.
#[derive(Debug, Clone)]
pub struct SystemOptions {
    /// The configuration.
    pub config: Config,
    /// The venue.
    pub venue: Venue,
    /// `live`, `simulation` or `observation` (strategies' orders are stamped with it).
    pub mode: ExecutionMode,
    /// The config file, watched for changes when `strategies.enable_hot_reload` is on.
    pub config_file: Option<PathBuf>,
}

/// The running system.
pub struct TradingSystem {
    venue_url: String,
    embedded: Option<kestrel_sim::server::RunningSim>,
    driver: Arc<ExecDriver<StoreJournal>>,
    context: Arc<VenueContext>,
    account: Arc<AccountMonitor>,
    feeds: Arc<Feeds>,
    control: ControlSender,
    bus: EventBus,
    ring_path: PathBuf,
    stop: watch::Sender<bool>,
    reader_stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    started: Instant,
    mode: ExecutionMode,
}

impl std::fmt::Debug for TradingSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradingSystem")
            .field("venue_url", &self.venue_url)
            .finish_non_exhaustive()
    }
}

/// The venue's REST and WebSocket addresses and key pair, once started.
struct VenueLink {
    rest: String,
    ws: String,
    ws_api: String,
    credentials: Credentials,
}

impl TradingSystem {
    /// Starts every component (module docs); returns once orders can flow.
    ///
    /// # Errors
    /// What could not start, naming the component and, for configuration, the key.
    pub async fn start(options: SystemOptions) -> Result<Self> {
        let config = &options.config;
        let (embedded, link) = start_venue(&options).await?;
        let rest = RestClient::new(RestConfig::new(&link.rest), link.credentials.clone())
            .context("cannot build the venue's REST client")?;
        let symbols = config.market_data.symbols.clone();
        let context =
            Arc::new(VenueContext::load(&rest, &symbols).await.with_context(|| {
                format!("cannot read instruments and account at {}", link.rest)
            })?);
        let driver = Arc::new(start_execution(config, &link).await?);
        let account = Arc::new(start_account(config, rest.clone()).await?);
        let mut core = build_core(&options, &context)?;
        let recovered = recover_strategies(&mut core, &rest, config).await?;
        let driver_for_recovery = Arc::clone(&driver);
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let bus = EventBus::new();
        let risk_events = events::start(config, &bus, &driver, &stopped, &mut tasks).await?;
        let (feeds, ring_path) = start_market_data(config, &link, &stopped, &mut tasks).await?;
        let reader_stop = Arc::new(AtomicBool::new(false));
        let market = spawn_ring_reader(ring_path.clone(), Arc::clone(&reader_stop))?;
        tasks.push(tokio::spawn(Arc::clone(&context).run_refresh(
            rest,
            RefreshConfig::default(),
            stopped.clone(),
        )));
        let (control, inbox) = crate::control::channel();
        dispatch(&driver_for_recovery, &context, &control, recovered);
        let parts = CoreParts {
            driver: Arc::clone(&driver),
            context: Arc::clone(&context),
            account: Arc::clone(&account),
            feeds: Arc::clone(&feeds),
            control: control.clone(),
            risk_events,
        };
        if let (Some(file), true) = (&options.config_file, config.strategies.enable_hot_reload) {
            let watch = crate::reload::watch(file.clone(), control.clone(), stopped.clone());
            tasks.push(tokio::spawn(watch));
        }
        tasks.push(tokio::spawn(run_core(core, parts, market, inbox, stopped)));
        Ok(Self {
            venue_url: link.rest,
            embedded,
            driver,
            context,
            account,
            feeds,
            control,
            bus,
            ring_path,
            stop,
            reader_stop,
            tasks,
            started: Instant::now(),
            mode: options.mode,
        })
    }

    /// The venue's REST base URL (the embedded simulator's address, to inspect it directly).
    #[must_use]
    pub fn venue_url(&self) -> &str {
        &self.venue_url
    }

    /// The bus the system publishes order updates, fills and risk events on (JSON payloads;
    /// [`crate::events`]): subscribe to follow it in process.
    #[must_use]
    pub const fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// The books the market-data pipeline maintains, by symbol.
    #[must_use]
    pub const fn feeds(&self) -> &Arc<Feeds> {
        &self.feeds
    }

    /// The shared-memory ring the pipeline publishes market data on (for readers such as
    /// `kestrel md tail` and the distribution to NATS and the store).
    #[must_use]
    pub fn ring_path(&self) -> &Path {
        &self.ring_path
    }

    /// Whether the venue is the simulator in this process.
    #[must_use]
    pub const fn embedded_venue(&self) -> bool {
        self.embedded.is_some()
    }

    /// The HTTP API of the whole system (`/health`, `/status`, orders, account, risk);
    /// the caller serves it (and guards its mutating routes).
    pub fn router(&self) -> axum::Router {
        crate::http::router(crate::http::HttpParts {
            driver: Arc::clone(&self.driver),
            context: Arc::clone(&self.context),
            account: Arc::clone(&self.account),
            feeds: Arc::clone(&self.feeds),
            control: self.control.clone(),
            venue_url: self.venue_url.clone(),
            embedded: self.embedded.is_some(),
            mode: self.mode,
            started: self.started,
        })
    }

    /// Stops strategies, optionally cancels open orders
    /// (`execution.cancel_open_orders_on_shutdown`), flushes the store and stops everything.
    pub async fn shutdown(self, cancel_open_orders: bool) {
        let _ = self.control.kill("shutting down", false).await;
        if cancel_open_orders {
            for symbol in self.context.symbols() {
                if let Err(failure) = self.driver.cancel_symbol(symbol).await {
                    tracing::warn!(target: "kestrel::engine", symbol, ?failure, "cannot cancel open orders at shutdown");
                }
            }
        }
        let _ = self.stop.send(true);
        self.reader_stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            let _ = task.await;
        }
        if let Ok(account) = Arc::try_unwrap(self.account) {
            account.shutdown().await;
        }
        match Arc::try_unwrap(self.driver) {
            Ok(driver) => driver.shutdown().await,
            Err(_) => {
                tracing::warn!(target: "kestrel::engine", "the driver was still shared at shutdown")
            }
        }
        drop(self.embedded);
        remove_own_ring(&self.ring_path);
    }
}

/// Starts the embedded simulator, or names the remote venue.
async fn start_venue(
    options: &SystemOptions,
) -> Result<(Option<kestrel_sim::server::RunningSim>, VenueLink)> {
    match &options.venue {
        Venue::Remote {
            rest,
            ws,
            ws_api,
            credentials,
        } => Ok((
            None,
            VenueLink {
                rest: rest.clone(),
                ws: ws.clone(),
                ws_api: ws_api.clone(),
                credentials: credentials.clone(),
            },
        )),
        Venue::Embedded => {
            let sim = &options.config.sim;
            let listener = tokio::net::TcpListener::bind(sim.listen)
                .await
                .with_context(|| format!("sim.listen: cannot bind {}", sim.listen))?;
            let running = kestrel_sim::server::start(
                kestrel_sim::server::SimOptions::local(sim.clone()),
                listener,
            )
            .await
            .context("cannot start the embedded simulator")?;
            let addr = running.local_addr();
            let link = VenueLink {
                rest: format!("http://{addr}"),
                ws: format!("ws://{addr}"),
                ws_api: format!("ws://{addr}/ws-fapi/v1"),
                credentials: Credentials::new(
                    kestrel_sim::server::DEFAULT_API_KEY,
                    kestrel_sim::server::DEFAULT_API_SECRET,
                ),
            };
            Ok((Some(running), link))
        }
    }
}

/// The execution driver on the store's journal, recovery done.
async fn start_execution(config: &Config, link: &VenueLink) -> Result<ExecDriver<StoreJournal>> {
    let execution = &config.execution;
    let journal = StoreJournal::open(&config.store, Arc::new(SystemClock::new()))
        .context("cannot open the order journal in the store")?;
    let validator = Validator::from_config(execution, &config.risk, VenueLimits::binance_usdm());
    let engine = Engine::new(
        EngineConfig::new(CLIENT_ID_PREFIX, RetryPolicy::from_config(execution)),
        validator,
        journal,
    )
    .context("cannot start the order engine")?;
    let mut driver = DriverConfig::new(&link.rest, &link.ws, link.credentials.clone(), execution);
    driver.ws_api_url.clone_from(&link.ws_api);
    driver
        .reconcile_symbols
        .clone_from(&config.market_data.symbols);
    ExecDriver::start_persisted(driver, engine, &config.store, PersistConfig::default())
        .await
        .context("cannot start the execution driver")
}

/// The client order id prefix of orders placed by hand through `kestrel run`'s order API
/// (strategies' orders carry ids of their own).
pub const CLIENT_ID_PREFIX: &str = "kr";

async fn start_account(config: &Config, rest: RestClient) -> Result<AccountMonitor> {
    let store = kestrel_store::Store::open(&config.store)
        .await
        .context("cannot open the store for account snapshots")?;
    AccountMonitor::start(
        MonitorConfig::new(&config.account),
        rest,
        Some(store),
        Arc::new(kestrel_account::monitor::SystemClock),
    )
    .await
    .context("cannot start the account monitor")
}

/// Hands each strategy its venue orders and its stored position (see [`crate::recover`]).
async fn recover_strategies(
    core: &mut TradingCore,
    rest: &RestClient,
    config: &Config,
) -> Result<Vec<CoreAction>> {
    let store = kestrel_store::Store::open(&config.store)
        .await
        .context("cannot open the store to recover the strategies")?;
    let actions = crate::recover::recover(core, rest, &store, now_ms())
        .await
        .context("cannot recover the strategies' orders and positions")?;
    store.close().await;
    Ok(actions)
}

fn build_core(options: &SystemOptions, context: &VenueContext) -> Result<TradingCore> {
    let config = &options.config;
    let strategies_config =
        defaults::strategies_or_default(&config.strategies, &config.market_data.symbols);
    // Paper trading is live trading against a simulator — the embedded one, or the paper
    // venue `kestrel run` mirrors a remote venue's market into: the orders go to the
    // simulator's matching engine either way.
    let execution_mode = match options.mode {
        ExecutionMode::Observation => ExecutionMode::Observation,
        ExecutionMode::Live | ExecutionMode::Simulation => ExecutionMode::Live,
    };
    let settings = EngineSettings {
        execution_mode,
        ..EngineSettings::default()
    };
    let instruments: Vec<_> = context.instruments().cloned().collect();
    let strategies = StrategyEngine::new(
        &strategies_config,
        Registry::with_builtins(),
        instruments,
        settings,
    )
    .map_err(|e| anyhow::anyhow!("strategies: {e}"))?;
    let mut risk = RiskEngine::new(config.risk.clone());
    risk.start(now_ms());
    Ok(TradingCore::new(
        strategies,
        risk,
        &config.market_data.symbols,
    ))
}

/// Starts the pipeline (books, ring) and its snapshot fetcher; returns the books and the ring.
async fn start_market_data(
    config: &Config,
    link: &VenueLink,
    stopped: &watch::Receiver<bool>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Result<(Arc<Feeds>, PathBuf)> {
    let md = &config.market_data;
    let rest = RestClient::new(RestConfig::new(&link.rest), link.credentials.clone())?;
    let info = rest.exchange_info().await.context("exchangeInfo")?;
    let ticks: Vec<_> = md
        .symbols
        .iter()
        .filter_map(|s| {
            info.instruments()
                .find(|i| &i.symbol == s)
                .map(|i| (s.clone(), i.tick_size()))
        })
        .collect();
    let feeds = Arc::new(Feeds::new(&ticks).context("cannot build the books")?);
    let (ring, ring_path) = create_ring(config)?;
    let (requests, pending) = mpsc::unbounded_channel();
    let client = SnapshotClient::new(&link.rest, 1000, Duration::from_secs(10))?;
    tasks.push(tokio::spawn(run_snapshots(
        Arc::clone(&feeds),
        client,
        pending,
    )));
    let stream = StreamConfig::for_market_data(&link.ws, md);
    let mut pipeline = Pipeline::new(Arc::clone(&feeds), requests).with_ring(ring);
    let stop = stopped.clone();
    tasks.push(tokio::spawn(async move {
        let outcome = connection::run(stream, &mut pipeline, stop).await;
        tracing::info!(target: "kestrel::engine", ?outcome, "market data stream ended");
    }));
    Ok((feeds, ring_path))
}

/// Creates the ring the pipeline writes: `/dev/shm/kestrel-run`, or, when another `kestrel
/// run` on this host writes that one (a paper session beside a live one),
/// `/dev/shm/kestrel-run-{pid}`; `kestrel md tail --ring PATH` reads either (the banner names
/// it).
fn create_ring(config: &Config) -> Result<(RingWriter, PathBuf)> {
    let shape = RingConfig {
        slot_count: config.market_data.ring_buffer_size,
        slot_size: RING_SLOT_BYTES,
    };
    let create = |name: &str| -> Result<(Result<RingWriter, RingError>, PathBuf)> {
        let path = default_ring_path(name, &config.store.data_dir)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        Ok((RingWriter::create(&path, shape), path))
    };
    let (mut ring, mut path) = create(RING_NAME)?;
    if matches!(ring, Err(RingError::WriterActive { .. })) {
        (ring, path) = create(&format!("{RING_NAME}-{}", std::process::id()))?;
    }
    let ring = ring.with_context(|| {
        format!(
            "market_data.ring_buffer_size: cannot create the ring at {}",
            path.display()
        )
    })?;
    Ok((ring, path))
}

/// Removes a ring named for this process ([`create_ring`]) and its lock file at shutdown:
/// no later run will reuse the name. The shared ring stays for the next run.
fn remove_own_ring(path: &Path) {
    let own = format!("kestrel-{RING_NAME}-{}", std::process::id());
    if path.file_name().is_some_and(|name| name == own.as_str()) {
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(path.with_extension("lock"));
    }
}

/// The ring `kestrel run` publishes market data on (`/dev/shm/kestrel-run`).
const RING_NAME: &str = "run";

/// Bytes per ring slot (as `kestrel md`).
const RING_SLOT_BYTES: u32 = 16 * 1024;

/// Reads the ring on a thread of its own and forwards the events to the core task.
fn spawn_ring_reader(
    path: PathBuf,
    stop: Arc<AtomicBool>,
) -> Result<mpsc::Receiver<OwnedMarketEvent>> {
    let mut reader = RingReader::open(&path)
        .with_context(|| format!("cannot open the ring at {}", path.display()))?;
    let (events, market) = mpsc::channel(MARKET_QUEUE);
    std::thread::Builder::new()
        .name("kestrel-core-feed".to_owned())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Some(message) = reader.poll_next(Duration::from_millis(100)) else {
                    continue;
                };
                let Ok(event) = kestrel_bus::decode(message.bytes) else {
                    continue;
                };
                if events.blocking_send(event.into_owned()).is_err() {
                    return;
                }
            }
        })
        .context("cannot start the market reader thread")?;
    Ok(market)
}

/// Market events queued between the ring reader and the core.
const MARKET_QUEUE: usize = 16_384;

/// What the core task talks to.
struct CoreParts {
    driver: Arc<ExecDriver<StoreJournal>>,
    context: Arc<VenueContext>,
    account: Arc<AccountMonitor>,
    feeds: Arc<Feeds>,
    control: ControlSender,
    risk_events: RiskEventSender,
}

/// The core's loop: market events, execution events, control requests and a 1 s tick.
async fn run_core(
    mut core: TradingCore,
    parts: CoreParts,
    mut market: mpsc::Receiver<OwnedMarketEvent>,
    mut inbox: mpsc::Receiver<Control>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut exec_events = parts.driver.subscribe();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            Some(event) = market.recv() => on_market(&mut core, &parts, &event),
            event = exec_events.recv() => match event {
                Ok(event) => on_exec_event(&mut core, &parts, event),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::error!(target: "kestrel::engine", missed = n, "the core fell behind the execution events");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            Some(control) = inbox.recv() => handle_control(&mut core, &parts, control).await,
            _ = tick.tick() => on_tick(&mut core, &parts),
        }
        publish_risk_events(&mut core, &parts.risk_events);
    }
}

/// Logs the core's risk events (refusals at info, the rest at warn) and publishes them.
fn publish_risk_events(core: &mut TradingCore, sender: &RiskEventSender) {
    for event in core.drain_events() {
        if let RiskEvent::Rejected(rejection) = &event {
            tracing::info!(target: "kestrel::engine", rule = ?rejection.rule, request_id = %rejection.request_id, message = %rejection.message, "risk refused an order");
        } else {
            tracing::warn!(target: "kestrel::engine", ?event, "risk");
        }
        sender.send(event);
    }
}

fn on_market(core: &mut TradingCore, parts: &CoreParts, event: &OwnedMarketEvent) {
    let event = event.as_event();
    let now = now_ms();
    let actions = match parts.feeds.get(event.symbol()) {
        Some(feed) if matches!(event, kestrel_model::event::MarketEvent::Depth(_)) => {
            let sync = lock(&feed.sync);
            core.on_market(&event, Some(sync.book()), now).to_vec()
        }
        _ => core.on_market(&event, None, now).to_vec(),
    };
    dispatch(&parts.driver, &parts.context, &parts.control, actions);
}

fn on_exec_event(core: &mut TradingCore, parts: &CoreParts, event: ExecEvent) {
    let now = now_ms();
    let actions = match event {
        ExecEvent::Fill(fill) => {
            parts.account.inputs().fill(FillUpdate::new(
                fill.clone(),
                kestrel_model::order::PositionSide::Both,
            ));
            core.on_fill(&fill, now).to_vec()
        }
        ExecEvent::Order(order) => {
            let reason = match order.status {
                OrderStatus::Canceled => CloseReason::Canceled,
                OrderStatus::Rejected => CloseReason::Rejected,
                OrderStatus::Expired => CloseReason::Expired,
                _ => return,
            };
            core.on_order_closed(&order.client_order_id, reason, now)
                .to_vec()
        }
    };
    dispatch(&parts.driver, &parts.context, &parts.control, actions);
}

/// A request from the HTTP API or the shutdown path.
async fn handle_control(core: &mut TradingCore, parts: &CoreParts, control: Control) {
    let now = now_ms();
    match control {
        Control::Closed {
            client_order_id,
            reason,
        } => {
            let actions = core.on_order_closed(&client_order_id, reason, now).to_vec();
            dispatch(&parts.driver, &parts.context, &parts.control, actions);
        }
        Control::Kill {
            reason,
            flatten,
            reply,
        } => {
            let plan = core.kill(&reason, flatten, now);
            let report =
                crate::control::kill(&parts.driver, &parts.context, &reason, plan, now).await;
            let _ = reply.send(report);
        }
        Control::Resume { reply } => {
            let _ = reply.send(core.resume(now));
        }
        Control::Status { reply } => {
            let _ = reply.send(core.status(now));
        }
        Control::Vet { request, reply } => {
            let _ = reply.send(core.vet(*request, now));
        }
        Control::Reload { config } => {
            let strategies =
                defaults::strategies_or_default(&config.strategies, &config.market_data.symbols);
            match core.reload(&strategies, config.risk.clone(), now) {
                Ok((report, actions)) => {
                    tracing::info!(target: "kestrel::engine", ?report, "configuration reloaded");
                    dispatch(&parts.driver, &parts.context, &parts.control, actions);
                }
                Err(error) => {
                    tracing::error!(target: "kestrel::engine", %error, "reloaded configuration refused; the running one stays");
                }
            }
        }
    }
}

fn on_tick(core: &mut TradingCore, parts: &CoreParts) {
    let now = now_ms();
    let view = parts.account.view();
    if let Some(usdt) = view.balances.iter().find(|b| b.asset == view.margin_asset) {
        core.on_wallet_balance(usdt.total_balance, now);
    }
    for latency_ms in parts.driver.with_engine(|engine| engine.take_round_trips()) {
        core.on_venue_latency(latency_ms, now);
    }
    core.on_time(now);
}

/// Hands the core's actions to the execution driver: placements answered in tasks of their
/// own (a refusal or failure goes back to the core as a closed order), cancels likewise.
pub(crate) fn dispatch(
    driver: &Arc<ExecDriver<StoreJournal>>,
    context: &Arc<VenueContext>,
    control: &ControlSender,
    actions: Vec<CoreAction>,
) {
    for action in actions {
        match action {
            CoreAction::Place(request) => place(driver, context, control, request),
            CoreAction::Cancel {
                client_order_id, ..
            } => {
                let driver = Arc::clone(driver);
                tokio::spawn(async move {
                    if let Err(refusal) = driver.cancel(&client_order_id).await {
                        tracing::debug!(target: "kestrel::engine", %refusal, "cancel not sent");
                    }
                });
            }
        }
    }
}

fn place(
    driver: &Arc<ExecDriver<StoreJournal>>,
    context: &Arc<VenueContext>,
    control: &ControlSender,
    request: kestrel_model::OrderRequest,
) {
    let open = VenueContext::open_orders(driver, &request.symbol);
    let id = request.request_id.clone();
    let submitted = context.with_context(&request, open, |ctx| {
        ctx.map(|c| driver.submit(request.clone(), c))
    });
    let control = control.clone();
    match submitted {
        Some(Ok(submission)) => {
            tokio::spawn(async move {
                let answer = submission.answer().await;
                if !answer.is_accepted() {
                    tracing::info!(target: "kestrel::engine", %answer, "strategy order not placed");
                    control.closed(id, CloseReason::Rejected).await;
                }
            });
        }
        Some(Err(error)) => {
            tracing::error!(target: "kestrel::engine", %error, "cannot journal a strategy order");
            tokio::spawn(async move { control.closed(id, CloseReason::Rejected).await });
        }
        None => {
            tokio::spawn(async move { control.closed(id, CloseReason::Rejected).await });
        }
    }
}

/// Wall-clock ms since the Unix epoch.
#[must_use]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The address `kestrel run`'s HTTP server is given by default.
pub const DEFAULT_HTTP: &str = "127.0.0.1:8080";

/// For the banner: what runs where.
#[must_use]
pub fn describe(system: &TradingSystem, http: SocketAddr) -> Vec<String> {
    let venue = if system.embedded_venue() {
        format!("embedded simulator at {}", system.venue_url())
    } else {
        system.venue_url().to_owned()
    };
    vec![
        format!(
            "kestrel run: venue {venue}; HTTP on http://{http} (/status, /health, /metrics, /api/v1/...)"
        ),
        format!(
            "  mode {:?}; symbols {}; market data ring {} (kestrel md tail --ring PATH --symbol S)",
            system.mode,
            system.context.symbols().collect::<Vec<_>>().join(","),
            system.ring_path.display()
        ),
    ]
}
