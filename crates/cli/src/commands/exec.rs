//! `kestrel exec`: the execution service on its own (seed 002's order service): the order
//! engine against a venue, its journal in the store, and the order API on `--http`
//! (`/api/v1/orders...`, `/health`, `/metrics`).
//!
//! With `market_data.nats_url` set (the NATS server `kestrel md` publishes market data to), the
//! order updates and fills are published there as JSON on `orders.{symbol}` and
//! `fills.{symbol}` ([`kestrel_exec::publish`]). A configured server that cannot be reached
//! stops the start, before any order is recovered or placed.
//!
//! `--mode` (else `execution.mode`) picks live, simulation (paper) or observation; see
//! [`super::exec_mode`].
//!
//! Credentials come from `venue.api_key` / `venue.api_secret` (environment or secrets file).
//! With none configured, a venue that answers the simulator's control API is a Kestrel
//! simulator and its default key pair is used; any other venue needs a key.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use clap::Args;
use kestrel_bus::{Bus, NatsPublisher};
use kestrel_exec::context::{RefreshConfig, VenueContext};
use kestrel_exec::driver::{DriverConfig, ExecDriver, SystemClock};
use kestrel_exec::engine::{Engine, EngineConfig};
use kestrel_exec::journal::{Journal, StoreJournal};
use kestrel_exec::persist::PersistConfig;
use kestrel_exec::publish::EventPublisher;
use kestrel_exec::ratelimit::VenueLimits;
use kestrel_exec::retry::RetryPolicy;
use kestrel_exec::validate::Validator;
use kestrel_model::config::{Config, StoreBackend, VenueConfig};
use kestrel_model::order::ExecutionMode;
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::Credentials;
use serde_json::json;
use tokio::sync::watch;

use super::config::{EXIT_INVALID_CONFIG, load_or_report};
use super::endpoints::Endpoints;
use super::http_auth;
use crate::telemetry;

/// The client order id prefix of the execution service: ids are `kx-{n}`, `n` from a
/// sequence the store keeps across restarts.
pub const CLIENT_ID_PREFIX: &str = "kx";

/// Options of `kestrel exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The venue: a REST base URL such as `http://127.0.0.1:8765` (a `kestrel sim`), or
    /// `binance` / `binance-testnet`. Default: the `[venue]` section of the configuration.
    #[arg(long, value_name = "URL")]
    venue_url: Option<String>,
    /// Symbols to trade, comma-separated (default: `market_data.symbols`).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    symbols: Option<Vec<String>>,
    /// Address for the order API, `/health` and `/metrics`.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    http: SocketAddr,
    /// Execution mode: `live` (orders go to the venue), `simulation` (paper: filled by a
    /// local simulator mirroring the venue's market) or `observation` (validated and logged,
    /// never sent). Default: `execution.mode`.
    #[arg(long, value_name = "MODE", value_parser = super::exec_mode::parse_mode)]
    mode: Option<ExecutionMode>,
}

/// Runs the service until SIGINT or SIGTERM.
pub fn run(args: ExecArgs, config_file: Option<&Path>) -> ExitCode {
    let Some(loaded) = load_or_report(config_file) else {
        return ExitCode::from(EXIT_INVALID_CONFIG);
    };
    if let Err(error) = telemetry::init_from_config(&loaded.config.log) {
        eprintln!("warning: {error:#}");
    }
    let mut config = loaded.config;
    super::exec_mode::configure(&mut config, args.mode);
    if let Some(symbols) = args.symbols.clone() {
        config.market_data.symbols = symbols
            .into_iter()
            .map(|s| s.trim().to_ascii_uppercase())
            .collect();
    }
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(serve(&args, &config)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: &ExecArgs, config: &Config) -> Result<()> {
    // The mode decides the venue: the real one, a paper one mirroring it, or none to trade on.
    let venue = super::exec_mode::Venue::open(args.venue_url.as_deref(), config).await?;
    if venue.observes() {
        return super::exec_mode::observe(args.http, config, venue).await;
    }
    let (endpoints, credentials) = (venue.endpoints.clone(), venue.credentials.clone());
    let metrics = telemetry::install_metrics()?;
    let rest = RestClient::new(RestConfig::new(&endpoints.rest), credentials.clone())
        .context("cannot build the venue's REST client")?;
    let context = VenueContext::load(&rest, &config.market_data.symbols)
        .await
        .with_context(|| {
            format!(
                "cannot read the instruments and account at {}",
                endpoints.rest
            )
        })?;
    let nats = connect_nats(config).await?;
    let clock = Arc::new(SystemClock::new());
    let journal = StoreJournal::open(&config.store, clock)
        .with_context(|| format!("cannot open the order journal ({})", store_name(config)))?;
    let driver = start_driver(config, &endpoints, credentials, journal).await?;
    let service = Service {
        driver: Arc::new(driver),
        context: Arc::new(context),
        metrics,
        started: Instant::now(),
        nats,
    };
    let served = run_service(args, config, &endpoints, service, rest).await;
    venue.close().await;
    served
}

/// The engine on `journal`, connected to the venue (recovery done).
async fn start_driver<J: Journal + 'static>(
    config: &Config,
    endpoints: &Endpoints,
    credentials: Credentials,
    journal: J,
) -> Result<ExecDriver<J>> {
    let execution = &config.execution;
    let validator = Validator::from_config(execution, &config.risk, VenueLimits::binance_usdm());
    let engine_config = EngineConfig::new(CLIENT_ID_PREFIX, RetryPolicy::from_config(execution));
    let engine =
        Engine::new(engine_config, validator, journal).context("cannot start the order engine")?;
    let mut driver_config =
        DriverConfig::new(&endpoints.rest, &endpoints.ws, credentials, execution);
    driver_config.ws_api_url.clone_from(&endpoints.ws_api);
    driver_config
        .reconcile_symbols
        .clone_from(&config.market_data.symbols);
    ExecDriver::start_persisted(
        driver_config,
        engine,
        &config.store,
        PersistConfig::default(),
    )
    .await
    .context("cannot start the execution driver")
}

/// The NATS publisher for `market_data.nats_url`, when set; failing when it is set but the
/// server cannot be reached (a configured destination that does not work is to be fixed
/// before trading, as `kestrel md` does).
async fn connect_nats(config: &Config) -> Result<Option<NatsPublisher>> {
    let Some(url) = &config.market_data.nats_url else {
        return Ok(None);
    };
    let publisher = NatsPublisher::connect(url)
        .await
        .context("market_data.nats_url")?;
    Ok(Some(publisher))
}

/// The store's name for messages: the SQLite file, or PostgreSQL.
fn store_name(config: &Config) -> String {
    match config.store.backend {
        StoreBackend::Sqlite => config.store.sqlite_file().display().to_string(),
        StoreBackend::Postgres => "store.postgres_url".to_owned(),
    }
}

/// What the running service holds.
struct Service<J: Journal + 'static> {
    driver: Arc<ExecDriver<J>>,
    context: Arc<VenueContext>,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    started: Instant,
    /// Where order updates and fills are published, when configured.
    nats: Option<NatsPublisher>,
}

async fn run_service<J: Journal + 'static>(
    args: &ExecArgs,
    config: &Config,
    endpoints: &Endpoints,
    mut service: Service<J>,
    rest: RestClient,
) -> Result<()> {
    let (stop, stopped) = watch::channel(false);
    let events = service
        .nats
        .take()
        .map(|nats| EventsOnNats::start(&service.driver, nats));
    let refresh = tokio::spawn(Arc::clone(&service.context).run_refresh(
        rest,
        RefreshConfig::default(),
        stopped.clone(),
    ));
    let listener = tokio::net::TcpListener::bind(args.http)
        .await
        .with_context(|| format!("--http: cannot bind {}", args.http))?;
    let app = kestrel_exec::http::router_in_mode(
        Arc::clone(&service.driver),
        Arc::clone(&service.context),
        config.execution.mode,
    )
    .merge(status_routes(&service));
    let app = http_auth::guard(app, &config.dashboard);
    let mut until = stopped.clone();
    let http = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = until.wait_for(|s| *s).await;
            })
            .await
    });
    let mut banner = vec![format!(
        "kestrel exec trading {} on {} ({:?} orders); HTTP on http://{}",
        config.market_data.symbols.join(","),
        endpoints.rest,
        config.execution.transport,
        args.http,
    )];
    if let Some(events) = &events {
        banner.push(format!(
            "order updates and fills on NATS {} (orders.{{symbol}}, fills.{{symbol}})",
            events.url
        ));
    }
    telemetry::banner(&banner);
    super::sim::shutdown_signal().await;
    let _ = stop.send(true);
    let _ = refresh.await;
    let _ = http.await;
    match Arc::try_unwrap(service.driver) {
        Ok(driver) => driver.shutdown().await,
        Err(_) => {
            tracing::warn!(target: "kestrel::exec", "the driver was still shared at shutdown")
        }
    }
    if let Some(events) = events {
        events.stop().await;
    }
    Ok(())
}

/// The task publishing the driver's events on NATS, and how to stop it.
struct EventsOnNats {
    /// The server, credentials masked.
    url: String,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<kestrel_exec::publish::PublishStats>,
}

impl EventsOnNats {
    /// Starts publishing `driver`'s events through `nats` (and an in-process bus nobody in
    /// this process reads).
    fn start<J: Journal + 'static>(driver: &ExecDriver<J>, nats: NatsPublisher) -> Self {
        let url = nats.url().to_owned();
        let (stop, stopped) = watch::channel(false);
        let publisher = EventPublisher::new(&Bus::new()).with_nats(nats);
        let task = tokio::spawn(publisher.run(driver.subscribe(), stopped));
        Self { url, stop, task }
    }

    /// Publishes what the driver produced until now, flushes NATS and ends.
    async fn stop(self) {
        let _ = self.stop.send(true);
        match tokio::time::timeout(Duration::from_secs(5), self.task).await {
            Ok(Ok(stats)) => {
                tracing::info!(target: "kestrel::exec", published = stats.published, lagged = stats.lagged, nats_failed = stats.nats_failed, "execution events published");
            }
            Ok(Err(error)) => {
                tracing::warn!(target: "kestrel::exec", %error, "the event publisher failed");
            }
            Err(_) => {
                tracing::warn!(target: "kestrel::exec", "the event publisher did not stop in time");
            }
        }
    }
}

/// `/health` and `/metrics`.
fn status_routes<J: Journal + 'static>(service: &Service<J>) -> Router {
    let driver = Arc::clone(&service.driver);
    let started = service.started;
    let metrics = service.metrics.clone();
    Router::new()
        .route(
            "/health",
            get(move || {
                let driver = Arc::clone(&driver);
                async move { health(&driver, started).into_response() }
            }),
        )
        .route("/metrics", get(move || async move { metrics.render() }))
}

/// The service's health: `unhealthy` (503) when trading is halted, `degraded` while the
/// breaker is not closed or the user stream is not connected.
fn health<J: Journal + 'static>(driver: &ExecDriver<J>, started: Instant) -> impl IntoResponse {
    use axum::http::StatusCode;
    use kestrel_exec::breaker::BreakerState;
    use kestrel_exec::driver::StreamState;
    let halted = driver.halted();
    let breaker = driver.breaker_state();
    let stream = driver.stream_state().borrow().clone();
    let status = if halted.is_some() {
        "unhealthy"
    } else if breaker != BreakerState::Closed || !matches!(stream, StreamState::Connected { .. }) {
        "degraded"
    } else {
        "healthy"
    };
    let code = if halted.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = json!({
        "status": status,
        "halted": halted,
        "circuit_breaker": format!("{breaker:?}").to_ascii_lowercase(),
        "user_stream": format!("{stream:?}"),
        "uptime_seconds": started.elapsed().as_secs(),
    });
    (code, axum::Json(body))
}

/// The configured key pair, or the simulator's default pair for a Kestrel simulator.
pub(super) async fn credentials(venue: &VenueConfig, endpoints: &Endpoints) -> Result<Credentials> {
    if let (Some(key), Some(secret)) = (&venue.api_key, &venue.api_secret) {
        return Ok(Credentials::new(key.expose(), secret.expose()));
    }
    if is_kestrel_sim(&endpoints.rest).await {
        tracing::info!(target: "kestrel::exec", "no venue key configured: using the simulator's default key pair");
        return Ok(Credentials::new(
            kestrel_sim::server::DEFAULT_API_KEY,
            kestrel_sim::server::DEFAULT_API_SECRET,
        ));
    }
    bail!(
        "venue.api_key and venue.api_secret are required for {} (set KESTREL_VENUE__API_KEY and KESTREL_VENUE__API_SECRET, or put them in the secrets file)",
        endpoints.rest
    )
}

/// Whether the venue at `rest` answers the Kestrel simulator's control API.
async fn is_kestrel_sim(rest: &str) -> bool {
    let url = format!("{rest}/sim/v1/status");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build();
    match client {
        Ok(client) => client
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success()),
        Err(_) => false,
    }
}
