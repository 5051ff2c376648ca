//! The async edge of execution: [`ExecDriver`] runs the synchronous [`Engine`] against a
//! Binance-protocol venue (Binance, its testnet, or the Kestrel simulator) over real sockets.
//!
//! - **Placement**: each approved order gets a task that sends it over the
//!   configured transport (`ws-fapi` by default, REST when `execution.transport = "rest"`),
//!   and follows the engine's steps: resend after a 429's `Retry-After` or a definite 503,
//!   query by client order id after a timeout (never a blind resend), stop when the breaker
//!   is open, halt trading on a 401. Conditional orders (stop, take-profit, trailing stop) go
//!   over REST to the algo endpoint, which no WebSocket-API method of ours covers (`venue`).
//! - **Conditional orders** ([`crate::engine::AlgoReport`]): followed through `ALGO_UPDATE`s
//!   and the algo endpoints — waiting, triggered (the child order's fills and status become
//!   theirs), cancelled, expired or refused — cancelled on the algo endpoint (through their
//!   child once triggered), and reconciled like any order after every (re)connect.
//! - **User stream**: creates the listen key, keeps it alive every
//!   [`DriverConfig::keepalive_interval`], renews it on `listenKeyExpired`, reconnects with
//!   exponential backoff, and after every (re)connect reconciles over REST: open algo orders,
//!   open orders, and own trades since the last fill seen, so fills missed while disconnected
//!   are applied — once each.
//! - **Recovery**: at start-up every unresolved journal intent is looked up by
//!   client order id (on the algo endpoint for a conditional order): found → adopted with its
//!   fills, absent once the venue's acceptance window has passed → failed.
//!
//! - **Persistence** ([`ExecDriver::start_persisted`]): every event is also handed, in the same
//!   place it is broadcast, to the [`Persister`] on a channel that neither blocks nor drops, so
//!   the store's `orders` and `fills` tables miss nothing the engine did ([`crate::persist`]).
//! - **Restart continuity** (with a store, before anything else starts): the orders the store
//!   holds open are tracked again with their journal intents and stored fills
//!   ([`Engine::restore`]), and fill recovery resumes at the last trade the store holds per
//!   symbol ([`Engine::resume_fills_at`]), so the first reconciliation reads exactly the
//!   fills made while no process ran; an open order of ours the store missed is adopted when
//!   the venue reports it ([`Engine::on_rest_order`]) and its fills are loaded.
//!
//! Engine calls are short and made under one mutex, never held across an `.await`. The events
//! each call produces are published on a broadcast channel ([`ExecDriver::subscribe`]);
//! [`crate::publish`] puts them on the bus (`orders.{symbol}`, `fills.{symbol}`).

mod algo;
mod cancel;
mod placement;
mod recovery;
mod restore;
mod stream;
mod venue;

pub use stream::StreamState;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kestrel_model::OrderRequest;
use kestrel_model::config::{ExecutionConfig, StoreConfig, Transport};
use kestrel_store::StoreError;
use kestrel_venue::binance::RequestError;
use kestrel_venue::binance::signing::Credentials;
use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinSet;

use crate::answer::OrderAnswer;
use crate::breaker::BreakerState;
use crate::clock::{Clock, Nanos, duration_nanos};
use crate::engine::{Engine, EngineError, ExecEvent, Submit, VenueFailure, Veto};
use crate::journal::{Journal, StoreThreadError};
use crate::outcome::FailureClass;
use crate::persist::{PersistConfig, PersistCounts, PersistSender, Persister};
use crate::retry::RetryDecision;
use crate::validate::OrderContext;
use venue::VenueClient;

/// Where the driver connects and how it paces itself.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// REST base URL: `https://fapi.binance.com` or `http://127.0.0.1:<port>`.
    pub rest_url: String,
    /// WebSocket trading API URL: `wss://ws-fapi.binance.com/ws-fapi/v1` or
    /// `ws://127.0.0.1:<port>/ws-fapi/v1`.
    pub ws_api_url: String,
    /// User-stream base URL (`<base>/ws/<listenKey>`): `wss://fstream.binance.com/private`
    /// or `ws://127.0.0.1:<port>`.
    pub stream_url: String,
    /// API key and secret.
    pub credentials: Credentials,
    /// `execution.transport`: orders over `ws-fapi` or REST.
    pub transport: Transport,
    /// `execution.request_timeout_ms`.
    pub request_timeout: Duration,
    /// `execution.recv_window_ms`.
    pub recv_window_ms: u64,
    /// `execution.connection_pool_size`: idle REST connections kept.
    pub pool_size: usize,
    /// The longest venue-named `Retry-After` the driver waits out before retrying by itself;
    /// a longer one is shortened to this (the venue counters still block new orders until
    /// it). Binance's longest window is a minute, the default.
    pub retry_after_cap: Duration,
    /// Whether to run the user-data stream.
    pub user_stream: bool,
    /// First user-stream reconnect delay; doubles per failed attempt.
    pub reconnect_min: Duration,
    /// Longest user-stream reconnect delay.
    pub reconnect_max: Duration,
    /// How often the listen key is extended (Binance: every 30 minutes, §8.1).
    pub keepalive_interval: Duration,
    /// Symbols every reconciliation covers besides those the engine has orders or fills on:
    /// where orders of earlier runs may still be open (they are adopted when found). Empty by
    /// default.
    pub reconcile_symbols: Vec<String>,
}

impl DriverConfig {
    /// Settings for a venue at `rest_url` (HTTP) and `ws_url` (WebSocket host), from the
    /// `[execution]` section: the trading API at `{ws_url}/ws-fapi/v1`, user streams under
    /// `{ws_url}/ws/`, as the Kestrel simulator serves them.
    #[must_use]
    pub fn new(
        rest_url: impl Into<String>,
        ws_url: &str,
        credentials: Credentials,
        execution: &ExecutionConfig,
    ) -> Self {
        let ws_url = ws_url.trim_end_matches('/');
        Self {
            rest_url: rest_url.into(),
            ws_api_url: format!("{ws_url}/ws-fapi/v1"),
            stream_url: ws_url.to_owned(),
            credentials,
            transport: execution.transport,
            request_timeout: Duration::from_millis(execution.request_timeout_ms),
            recv_window_ms: execution.recv_window_ms,
            pool_size: usize::try_from(execution.connection_pool_size).unwrap_or(usize::MAX),
            retry_after_cap: Duration::from_secs(60),
            user_stream: true,
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(30),
            keepalive_interval: kestrel_venue::binance::user_data::KEEPALIVE_INTERVAL,
            reconcile_symbols: Vec::new(),
        }
    }
}

/// Why the driver could not start.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The venue clients could not be built.
    #[error("exec driver: cannot build the venue client: {0}")]
    Venue(#[from] RequestError),
    /// The engine failed during recovery.
    #[error("exec driver: {0}")]
    Engine(#[from] EngineError),
    /// The orders and fills of earlier runs could not be read from the store.
    #[error("exec driver: cannot read the orders of earlier runs from the store: {0}")]
    Store(#[source] StoreError),
    /// The persister could not start.
    #[error("exec driver: the persister {0}")]
    Persist(#[from] StoreThreadError),
}

/// The live clock: nanoseconds since the Unix epoch, never going backwards (a wall-clock
/// step back holds the reading until the wall clock catches up).
#[derive(Debug, Default)]
pub struct SystemClock {
    last: AtomicU64,
}

impl SystemClock {
    /// A clock reading the system time.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            last: AtomicU64::new(0),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Nanos {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, duration_nanos);
        let previous = self.last.fetch_max(wall, Ordering::Relaxed);
        Nanos::from_nanos(wall.max(previous))
    }
}

/// The answer to a submit: given at once, or to come.
#[derive(Debug)]
pub enum Submission {
    /// Refused, or the first answer of a repeated request id.
    Answered(OrderAnswer),
    /// Being placed (or a repeat of a request being placed): the answer comes when settled.
    Pending(oneshot::Receiver<OrderAnswer>),
}

impl Submission {
    /// The answer, waiting for it if needed. A driver shut down before settling the order
    /// answers `failed` with code `driver_stopped` (the intent stays in the journal).
    pub async fn answer(self) -> OrderAnswer {
        match self {
            Self::Answered(answer) => answer,
            Self::Pending(receiver) => receiver.await.unwrap_or_else(|_| OrderAnswer::Failed {
                request_id: String::new(),
                client_order_id: String::new(),
                code: "driver_stopped".to_owned(),
                message: "the driver stopped before the order was settled".to_owned(),
            }),
        }
    }
}

/// The engine and the callers waiting for answers, behind one lock so no answer is missed.
struct Core<J> {
    engine: Engine<J>,
    waiters: HashMap<String, Vec<oneshot::Sender<OrderAnswer>>>,
    /// The lossless path to the store, when persisting.
    persist: Option<PersistSender>,
}

/// What the driver's tasks share.
struct Shared<J> {
    core: Mutex<Core<J>>,
    venue: VenueClient,
    config: DriverConfig,
    clock: SystemClock,
    events: broadcast::Sender<ExecEvent>,
    stream_state: watch::Sender<StreamState>,
    tasks: Mutex<JoinSet<()>>,
    started_at_ms: u64,
}

impl<J: Journal + 'static> Shared<J> {
    fn new(
        config: DriverConfig,
        venue: VenueClient,
        engine: Engine<J>,
        persist: Option<PersistSender>,
    ) -> Self {
        let clock = SystemClock::new();
        let started_at_ms = clock.now().as_nanos() / 1_000_000;
        Self {
            core: Mutex::new(Core {
                engine,
                waiters: HashMap::new(),
                persist,
            }),
            venue,
            config,
            clock,
            events: broadcast::channel(4_096).0,
            stream_state: watch::channel(StreamState::Stopped).0,
            tasks: Mutex::new(JoinSet::new()),
            started_at_ms,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Core<J>> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the engine, publishes the events it produced and answers the callers of
    /// the placements it settled.
    fn engine<R>(&self, f: impl FnOnce(&mut Engine<J>) -> R) -> R {
        let mut core = self.lock();
        let result = f(&mut core.engine);
        self.drain(&mut core);
        result
    }

    /// Publishes the engine's events (to the store first, when persisting) and hands settled
    /// answers to their waiters.
    fn drain(&self, core: &mut Core<J>) {
        for event in core.engine.take_events() {
            if let Some(persist) = &core.persist {
                persist.send(self.now_ms(), event.clone());
            }
            // No subscriber is not an error: the engine keeps the state the events describe.
            let _ = self.events.send(event);
        }
        for answer in core.engine.take_settled() {
            for waiter in core.waiters.remove(answer.request_id()).unwrap_or_default() {
                let _ = waiter.send(answer.clone());
            }
        }
    }

    /// Hands `answer` to every caller still waiting on `request_id` (an answer the engine did
    /// not settle: `outcome_unknown`, a local failure).
    fn settle(&self, request_id: &str, answer: &OrderAnswer) {
        let waiters = self.lock().waiters.remove(request_id).unwrap_or_default();
        for waiter in waiters {
            let _ = waiter.send(answer.clone());
        }
    }

    fn now(&self) -> Nanos {
        self.clock.now()
    }

    /// Now in ms since the Unix epoch.
    fn now_ms(&self) -> u64 {
        self.now().as_nanos() / 1_000_000
    }

    /// Classifies a venue error, shortening a `Retry-After` past [`DriverConfig::retry_after_cap`].
    fn failure(&self, error: &RequestError) -> VenueFailure {
        let mut failure = VenueFailure::from_request_error(error);
        if let FailureClass::RateLimited { retry_after } = &mut failure.class {
            *retry_after = retry_after.map(|wait| wait.min(self.config.retry_after_cap));
        }
        failure
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    /// Sends an idempotent request (query, cancel, listen key), retrying per the retry policy.
    async fn idempotent<T, F, Fut>(&self, mut send: F) -> Result<T, RequestError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RequestError>>,
    {
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            let error = match send().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let failure = self.failure(&error);
            let decision = self.engine(|e| {
                e.record_outcome(Some(&failure), self.now());
                e.idempotent_retry(failure.class, attempt)
            });
            match decision {
                RetryDecision::Retry { after } => tokio::time::sleep(after).await,
                RetryDecision::Halt => {
                    self.engine(|e| e.halt(format!("the venue refused our credentials: {error}")));
                    return Err(error);
                }
                RetryDecision::QueryThenDecide { .. } | RetryDecision::GiveUp(_) => {
                    return Err(error);
                }
            }
        }
    }
}

/// The execution driver (module docs). Dropping it stops every task it started, except the
/// persister, which writes what it holds and then ends.
pub struct ExecDriver<J: Journal + 'static> {
    shared: Arc<Shared<J>>,
    persister: Option<Persister>,
}

impl<J: Journal + 'static> std::fmt::Debug for ExecDriver<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecDriver")
            .field("rest_url", &self.shared.config.rest_url)
            .field("transport", &self.shared.config.transport)
            .finish_non_exhaustive()
    }
}

impl<J: Journal + 'static> ExecDriver<J> {
    /// Connects `engine` to the venue: syncs the server clock, starts the user stream (when
    /// configured) and resolves every unresolved journal intent before returning (module
    /// docs). Recovery waits for the venue: while it cannot be asked, start-up does not
    /// finish, so no new order goes out before the old ones are settled. Must be called
    /// inside a tokio runtime.
    ///
    /// # Errors
    /// [`DriverError::Venue`] when the clients cannot be built; [`DriverError::Engine`] when
    /// the journal fails during recovery.
    pub async fn start(config: DriverConfig, engine: Engine<J>) -> Result<Self, DriverError> {
        Self::launch(config, engine, None).await
    }

    /// As [`ExecDriver::start`], with the store `store` describes holding the orders and
    /// fills: the orders earlier runs left open are tracked again and fill recovery resumes
    /// after the last fill stored, before anything else starts; then every order change and
    /// fill is written to it by a [`Persister`] on a thread of its own (module docs). The
    /// engine's journal is typically a [`crate::journal::StoreJournal`] on the same database.
    ///
    /// # Errors
    /// As [`ExecDriver::start`]; [`DriverError::Store`] when the orders of earlier runs cannot
    /// be read, [`DriverError::Persist`] when the persister cannot start.
    pub async fn start_persisted(
        config: DriverConfig,
        engine: Engine<J>,
        store: &StoreConfig,
        persist: PersistConfig,
    ) -> Result<Self, DriverError> {
        Self::launch(config, engine, Some((store, persist))).await
    }

    async fn launch(
        config: DriverConfig,
        engine: Engine<J>,
        store: Option<(&StoreConfig, PersistConfig)>,
    ) -> Result<Self, DriverError> {
        let venue = VenueClient::new(&config)?;
        if let Err(error) = venue.rest().sync_clock().await {
            tracing::warn!(target: "kestrel::exec", %error, "cannot read the venue's clock; using ours");
        }
        let (earlier, persist, persister) = match store {
            Some((store, config)) => {
                let earlier = restore::load(store).await?;
                let via = engine.journal().rows_writer();
                let (sender, persister) = Persister::start(store, config, via)?;
                (Some(earlier), Some(sender), Some(persister))
            }
            None => (None, None, None),
        };
        let shared = Arc::new(Shared::new(config, venue, engine, persist));
        if let Some(earlier) = earlier {
            restore::apply(&shared, earlier);
        }
        // Recovered intents are tracked before the stream starts, so a reconciliation never
        // takes one of them for an order to adopt.
        let recovering = recovery::load(&shared)?;
        if shared.config.user_stream {
            shared.spawn(stream::run(Arc::clone(&shared)));
        }
        // Built before recovery completes so that a failure stops the stream task (Drop).
        let driver = Self { shared, persister };
        recovery::resolve(&driver.shared, recovering).await?;
        Ok(driver)
    }

    /// Submits `request` (keyed by its `request_id`) with the market and account view it is
    /// validated against. Refusals and repeats are answered at once; an approved order is
    /// placed by its own task and answered when settled.
    ///
    /// # Errors
    /// [`EngineError`] when the journal cannot record the intent (nothing is sent).
    pub fn submit(
        &self,
        request: OrderRequest,
        ctx: &OrderContext<'_>,
    ) -> Result<Submission, EngineError> {
        self.submit_vetted(request, ctx, None)
    }

    /// [`ExecDriver::submit`] with the verdict of a check outside the engine
    /// ([`Engine::submit_vetted`]).
    ///
    /// # Errors
    /// As [`ExecDriver::submit`].
    pub fn submit_vetted(
        &self,
        request: OrderRequest,
        ctx: &OrderContext<'_>,
        veto: Option<Veto>,
    ) -> Result<Submission, EngineError> {
        let now = self.shared.now();
        let mut core = self.shared.lock();
        let decision = core.engine.submit_vetted(request, ctx, now, veto);
        self.shared.drain(&mut core);
        let (request_id, placement) = match decision? {
            Submit::Repeat(answer) | Submit::Refused(answer) => {
                return Ok(Submission::Answered(answer));
            }
            Submit::InProgress { request_id, .. } => (request_id, None),
            Submit::Place(placement) => (placement.request_id.clone(), Some(placement)),
        };
        let (sender, receiver) = oneshot::channel();
        core.waiters.entry(request_id).or_default().push(sender);
        drop(core);
        if let Some(placement) = placement {
            self.shared
                .spawn(placement::run(Arc::clone(&self.shared), placement));
        }
        Ok(Submission::Pending(receiver))
    }

    /// Runs `f` on the engine (inspection, or an operator's `resume`), publishing any events.
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut Engine<J>) -> R) -> R {
        self.shared.engine(f)
    }

    /// Order updates and fills as they happen.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<ExecEvent> {
        self.shared.events.subscribe()
    }

    /// The user stream's state, to watch.
    #[must_use]
    pub fn stream_state(&self) -> watch::Receiver<StreamState> {
        self.shared.stream_state.subscribe()
    }

    /// Why trading is halted, if it is.
    #[must_use]
    pub fn halted(&self) -> Option<String> {
        self.shared.engine(|e| e.halted().map(str::to_owned))
    }

    /// The venue circuit breaker's state now.
    #[must_use]
    pub fn breaker_state(&self) -> BreakerState {
        let now = self.shared.now();
        self.shared.engine(|e| e.validator().breaker().state(now))
    }

    /// The driver's clock (epoch-based), for the caller's market views.
    #[must_use]
    pub fn now(&self) -> Nanos {
        self.shared.now()
    }

    /// The persister's counters, when persisting.
    #[must_use]
    pub fn persist_counts(&self) -> Option<PersistCounts> {
        self.persister.as_ref().map(Persister::counts)
    }

    /// Stops every task and closes the connections, then lets the persister write what it
    /// holds ([`Persister::finish`]). Orders still in flight stay in the journal as
    /// unresolved, for the next start to settle.
    pub async fn shutdown(mut self) {
        let mut tasks = std::mem::take(
            &mut *self
                .shared
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        // Waits for the tasks to end, so none publishes after the persister's channel closes.
        tasks.shutdown().await;
        self.shared.venue.close().await;
        self.shared.stream_state.send_replace(StreamState::Stopped);
        drop(self.shared.lock().persist.take());
        if let Some(persister) = self.persister.take() {
            persister.finish().await;
        }
    }
}

impl<J: Journal + 'static> Drop for ExecDriver<J> {
    fn drop(&mut self) {
        self.shared
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .abort_all();
    }
}
