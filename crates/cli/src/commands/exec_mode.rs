//! `kestrel exec`'s execution modes (seed 000 FR-OE-007; ARCHITECTURE.md "Execution modes"):
//! `--mode`, else `execution.mode`, decides where orders go. Only the venue the unchanged
//! driver talks to changes, never the engine.
//!
//! - **live** — the driver trades on the venue.
//! - **simulation** (paper) — an in-process Kestrel simulator on loopback mirrors the venue's
//!   market for the configured symbols: the recorder's capture of the venue's streams and REST
//!   depth snapshots ([`LineSender::channel`]) feeds the simulator's mirror source
//!   ([`kestrel_sim::server::start_mirror`]), which keeps the venue's depth on its books and
//!   replays the venue's trades against them. The driver trades there with the simulator's
//!   default key pair, so paper orders get the simulator's matching, with queue position,
//!   against the live book; the venue's trading endpoints are never called. Paper orders and
//!   fills go to a store of their own, `<data_dir>/paper/session-<start time>.sqlite`, new
//!   each run like the paper account, never into the live journal.
//! - **observation** — no driver: requests are validated against the venue's market and
//!   account (reads only) and answered `observed` ([`kestrel_exec::http::observation`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::routing::get;
use kestrel_exec::context::{RefreshConfig, VenueContext};
use kestrel_exec::http::{Observer, observation_router};
use kestrel_exec::ratelimit::VenueLimits;
use kestrel_exec::validate::Validator;
use kestrel_marketdata::connection::{self, LinkOutcome, StreamConfig};
use kestrel_marketdata::recorder::{self, LineSender, Recorder};
use kestrel_marketdata::snapshot::SnapshotClient;
use kestrel_model::config::{Config, MarketDataConfig, SimConfig, StoreBackend, StoreConfig};
use kestrel_model::order::ExecutionMode;
use kestrel_sim::server::{self, MirrorFeed, RunningSim, SimOptions};
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::Credentials;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::endpoints::Endpoints;
use super::http_auth;
use crate::telemetry;

/// How long a paper venue may take to hold the venue's book for every symbol.
const MIRROR_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the paper venue's books are checked for a lost sync.
const RESYNC_CHECK: Duration = Duration::from_secs(1);

/// `--mode`: `live`, `simulation` (or `paper`) or `observation`.
///
/// # Errors
/// A message naming the accepted values.
pub fn parse_mode(text: &str) -> Result<ExecutionMode, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "live" => Ok(ExecutionMode::Live),
        "simulation" | "paper" => Ok(ExecutionMode::Simulation),
        "observation" => Ok(ExecutionMode::Observation),
        other => Err(format!(
            "expected live, simulation (or paper) or observation, found {other:?}"
        )),
    }
}

/// Puts `--mode` over `execution.mode`, and gives a paper service its own store.
pub fn configure(config: &mut Config, flag: Option<ExecutionMode>) {
    if let Some(mode) = flag {
        config.execution.mode = mode;
    }
    if config.execution.mode == ExecutionMode::Simulation {
        let started_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        config.store = paper_store(&config.store, started_s);
    }
}

/// The store of a paper session started at `started_s`: SQLite under `<data_dir>/paper`,
/// whatever the live store is, so paper orders never meet live ones.
fn paper_store(live: &StoreConfig, started_s: u64) -> StoreConfig {
    StoreConfig {
        backend: StoreBackend::Sqlite,
        data_dir: live.data_dir.join("paper"),
        sqlite_path: PathBuf::from(format!("session-{started_s}.sqlite")),
        postgres_url: None,
    }
}

/// The venue the service talks to in its mode, with the key pair to use there.
pub struct Venue {
    /// Where the driver (or, in observation mode, the context reads) goes.
    pub endpoints: Endpoints,
    /// The key pair for those endpoints.
    pub credentials: Credentials,
    mode: ExecutionMode,
    paper: Option<PaperVenue>,
}

impl Venue {
    /// The venue of `config.execution.mode`: the one `--venue-url` or the config names, or,
    /// in simulation mode, a paper venue mirroring it (started and synced before returning).
    ///
    /// # Errors
    /// An unusable venue URL, missing credentials, or a paper venue that cannot start or
    /// does not receive the venue's book in time.
    pub async fn open(flag: Option<&str>, config: &Config) -> Result<Self> {
        let endpoints = Endpoints::resolve(flag, &config.venue)?;
        let mode = config.execution.mode;
        if mode != ExecutionMode::Simulation {
            let credentials = super::exec::credentials(&config.venue, &endpoints).await?;
            return Ok(Self {
                endpoints,
                credentials,
                mode,
                paper: None,
            });
        }
        let paper = PaperVenue::start(&endpoints, config).await?;
        let local = format!("http://{}", paper.sim.local_addr());
        telemetry::banner(&[format!(
            "simulation mode: paper venue on {local} mirroring the market of {}; no order goes there",
            endpoints.rest
        )]);
        Ok(Self {
            endpoints: Endpoints::resolve(Some(&local), &config.venue)?,
            credentials: Credentials::new(server::DEFAULT_API_KEY, server::DEFAULT_API_SECRET),
            mode,
            paper: Some(paper),
        })
    }

    /// Whether the service only observes (no driver, nothing placed).
    #[must_use]
    pub fn observes(&self) -> bool {
        self.mode == ExecutionMode::Observation
    }

    /// Stops the paper venue, if any, and its feed.
    pub async fn close(self) {
        if let Some(paper) = self.paper {
            paper.stop().await;
        }
    }
}

/// An in-process simulator mirroring a venue, and the tasks feeding it.
struct PaperVenue {
    sim: RunningSim,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl PaperVenue {
    async fn start(source: &Endpoints, config: &Config) -> Result<Self> {
        let symbols = &config.market_data.symbols;
        if symbols.is_empty() {
            bail!("--symbols: simulation mode needs at least one symbol to mirror");
        }
        let sim_config = SimConfig {
            symbols: symbols.clone(),
            ..config.sim.clone()
        };
        let (lines, feed) = LineSender::channel();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind a loopback port for the paper venue")?;
        let sim = server::start_mirror(
            SimOptions::local(sim_config),
            MirrorFeed::new(feed),
            listener,
        )
        .await
        .context("cannot start the paper venue")?;
        let (stop, stopped) = watch::channel(false);
        let (tasks, snapshots) = follow(source, &config.market_data, &lines, &stopped)?;
        let mut paper = Self { sim, stop, tasks };
        if let Err(error) = paper.wait_ready(symbols, &source.rest).await {
            paper.stop().await;
            return Err(error);
        }
        let status = format!("http://{}/sim/v1/status", paper.sim.local_addr());
        let healing = resync(status, symbols.clone(), snapshots, stopped);
        paper.tasks.push(tokio::spawn(healing));
        Ok(paper)
    }

    /// Waits until the paper venue holds both sides of every symbol's book.
    async fn wait_ready(&self, symbols: &[String], source: &str) -> Result<()> {
        let url = format!("http://{}/sim/v1/status", self.sim.local_addr());
        let client = reqwest::Client::new();
        let deadline = Instant::now() + MIRROR_READY_TIMEOUT;
        loop {
            let status = fetch_status(&client, &url).await;
            let missing: Vec<&str> = symbols
                .iter()
                .filter(|s| !status.as_ref().is_some_and(|v| mirrored(v, s)))
                .map(String::as_str)
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "simulation mode: no order book for {} from {source} after {} s (is its market stream reachable?)",
                    missing.join(","),
                    MIRROR_READY_TIMEOUT.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            task.abort();
            let _ = task.await;
        }
        self.sim.shutdown().await;
    }
}

/// The paper venue's `/sim/v1/status`, if it answers.
async fn fetch_status(client: &reqwest::Client, url: &str) -> Option<Value> {
    let request = client.get(url).timeout(Duration::from_secs(2));
    request.send().await.ok()?.json().await.ok()
}

/// Whether `/sim/v1/status` shows `symbol`'s mirrored book synced with both sides.
fn mirrored(status: &Value, symbol: &str) -> bool {
    let book = &status["mirror"]["symbols"][symbol];
    let has = |side: &str| book[side].as_u64().is_some_and(|n| n > 0);
    book["synced"] == true && has("bid_levels") && has("ask_levels")
}

/// Starts following `source`'s market into `lines`: its depth, trade and book-ticker
/// streams with a REST depth snapshot after every (re)connect (the recorder's capture), and
/// its mark prices on the `/market` route (a venue without it leaves the paper venue's mark
/// at the mirrored book's mid). Returns the tasks and where to ask for more snapshots.
fn follow(
    source: &Endpoints,
    market_data: &MarketDataConfig,
    lines: &LineSender,
    stopped: &watch::Receiver<bool>,
) -> Result<(Vec<JoinHandle<()>>, mpsc::UnboundedSender<String>)> {
    let client = SnapshotClient::new(&source.rest, 1000, Duration::from_secs(10))
        .context("cannot build the HTTP client for depth snapshots")?;
    let (requests, pending) = mpsc::unbounded_channel();
    let snapshots = tokio::spawn(recorder::run_snapshots(client, pending, lines.clone()));
    let book = Recorder::new(lines.clone(), market_data.symbols.clone(), requests.clone());
    let streams = StreamConfig::for_market_data(&source.ws, market_data);
    let mut marks = StreamConfig::for_market_data(format!("{}/market", source.ws), market_data);
    marks.streams = market_data
        .symbols
        .iter()
        .map(|s| format!("{}@markPrice@1s", s.to_ascii_lowercase()))
        .collect();
    // The mark link asks for no snapshots: its recorder follows no symbol's depth.
    let (no_requests, _) = mpsc::unbounded_channel();
    let mark_recorder = Recorder::new(lines.clone(), Vec::new(), no_requests);
    let tasks = vec![
        snapshots,
        tokio::spawn(link("market", streams, book, stopped.clone())),
        tokio::spawn(link("mark price", marks, mark_recorder, stopped.clone())),
    ];
    Ok((tasks, requests))
}

/// Asks for a fresh snapshot of every symbol whose mirrored book (synced when this starts)
/// is out of sync (a gap in the venue's diffs) at two looks in a row: the recorder takes
/// snapshots only after a (re)connect, and a live mirror must not stand still until the next.
async fn resync(
    status_url: String,
    symbols: Vec<String>,
    requests: mpsc::UnboundedSender<String>,
    mut stop: watch::Receiver<bool>,
) {
    let client = reqwest::Client::new();
    let mut lost = Vec::<String>::new();
    let mut every = tokio::time::interval(RESYNC_CHECK);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let Some(status) = fetch_status(&client, &status_url).await else {
            continue;
        };
        let synced = |s: &String| status["mirror"]["symbols"][s.as_str()]["synced"] == true;
        let now_lost: Vec<String> = symbols.iter().filter(|s| !synced(s)).cloned().collect();
        for symbol in now_lost.iter().filter(|s| lost.contains(s)) {
            tracing::warn!(target: "kestrel::exec", %symbol, "simulation mode: the mirrored book lost sync with the venue; taking a new snapshot");
            let _ = requests.send(symbol.clone());
        }
        lost = now_lost;
    }
}

/// Runs one connection until it stops, logging how it ended.
async fn link(
    what: &'static str,
    config: StreamConfig,
    mut handler: Recorder,
    stop: watch::Receiver<bool>,
) {
    let url = config.ws_url.clone();
    match connection::run(config, &mut handler, stop).await {
        LinkOutcome::Stopped => {}
        LinkOutcome::AuthFailed(reason) | LinkOutcome::GaveUp(reason) => {
            tracing::warn!(target: "kestrel::exec", %url, %reason, "simulation mode: the venue's {what} stream ended");
        }
    }
}

/// Serves the observation-mode order API until SIGINT or SIGTERM.
///
/// # Errors
/// When the venue's instruments and account cannot be read or `http` cannot be bound.
pub async fn observe(http: SocketAddr, config: &Config, venue: Venue) -> Result<()> {
    let metrics = telemetry::install_metrics()?;
    let rest = RestClient::new(
        RestConfig::new(&venue.endpoints.rest),
        venue.credentials.clone(),
    )
    .context("cannot build the venue's REST client")?;
    let symbols = &config.market_data.symbols;
    let context = VenueContext::load(&rest, symbols).await.with_context(|| {
        format!(
            "cannot read the instruments and account at {}",
            venue.endpoints.rest
        )
    })?;
    let context = Arc::new(context);
    let validator =
        Validator::from_config(&config.execution, &config.risk, VenueLimits::binance_usdm());
    let observer = Arc::new(Observer::new(
        validator,
        Arc::clone(&context),
        super::exec::CLIENT_ID_PREFIX,
    ));
    let (stop, stopped) = watch::channel(false);
    let refresh = tokio::spawn(Arc::clone(&context).run_refresh(
        rest,
        RefreshConfig::default(),
        stopped.clone(),
    ));
    let app = observation_router(Arc::clone(&observer)).merge(observer_status(&observer, metrics));
    let app = http_auth::guard(app, &config.dashboard);
    let listener = tokio::net::TcpListener::bind(http)
        .await
        .with_context(|| format!("--http: cannot bind {http}"))?;
    let mut until = stopped;
    let server = tokio::spawn(async move {
        let stop = async move {
            let _ = until.wait_for(|s| *s).await;
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
    });
    telemetry::banner(&[format!(
        "kestrel exec observing {} on {} (orders are validated and logged, never sent); HTTP on http://{http}",
        symbols.join(","),
        venue.endpoints.rest,
    )]);
    super::sim::shutdown_signal().await;
    let _ = stop.send(true);
    let _ = refresh.await;
    let _ = server.await;
    venue.close().await;
    Ok(())
}

/// `/health` and `/metrics` of an observing service.
fn observer_status(
    observer: &Arc<Observer>,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
) -> Router {
    let observer = Arc::clone(observer);
    Router::new()
        .route(
            "/health",
            get(move || {
                let counts = observer.counts();
                async move {
                    axum::Json(json!({
                        "status": "healthy", "mode": "observation",
                        "observed": counts.observed, "rejected": counts.rejected,
                    }))
                }
            }),
        )
        .route("/metrics", get(move || async move { metrics.render() }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn modes_parse_by_name_and_paper_means_simulation() {
        assert_eq!(parse_mode("live"), Ok(ExecutionMode::Live));
        assert_eq!(parse_mode("Simulation"), Ok(ExecutionMode::Simulation));
        assert_eq!(parse_mode("paper"), Ok(ExecutionMode::Simulation));
        assert_eq!(parse_mode("observation"), Ok(ExecutionMode::Observation));
        assert!(parse_mode("dry").unwrap_err().contains("observation"));
    }

    #[test]
    fn the_flag_overrides_the_config_and_a_paper_service_gets_its_own_sqlite_store() {
        let mut config = Config::default();
        config.store.backend = StoreBackend::Postgres;
        configure(&mut config, None);
        assert_eq!(config.execution.mode, ExecutionMode::Live);
        assert_eq!(
            config.store.backend,
            StoreBackend::Postgres,
            "live keeps its store"
        );
        configure(&mut config, Some(ExecutionMode::Simulation));
        assert_eq!(config.execution.mode, ExecutionMode::Simulation);
        assert_eq!(config.store.backend, StoreBackend::Sqlite);
        let file = config.store.sqlite_file();
        assert!(
            file.starts_with(PathBuf::from("data").join("paper")),
            "{file:?}"
        );
        assert!(file.to_string_lossy().contains("session-"), "{file:?}");
    }
}
