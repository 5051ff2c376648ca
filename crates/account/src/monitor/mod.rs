//! [`AccountMonitor`]: the async shell around the [`AccountBook`] (seed 000 FR-AM-001..006).
//!
//! One task owns the book. At start it reads the venue (balances, positions, leverage) and
//! loads the book; then it applies, in arrival order, what the [`AccountInputs`] are fed —
//! user-data events, fills from the execution driver, mark prices — and on timers reconciles
//! with the venue (`reconciliation_interval_seconds`), persists a snapshot to the store, and
//! ticks the book (day roll, alerts). After each change it publishes a fresh [`AccountView`]
//! on a watch channel: queries read the latest view without touching the book
//! (seed "SubscribeAccountUpdates" is [`AccountMonitor::subscribe`]), and it records the
//! seed's metrics. Each alert raised is also sent once on [`AccountMonitor::raised_alerts`],
//! for the engine to publish on the bus's `alerts` topic.
//!
//! The monitor reads; it never trades. When a reconciliation halts trading, the view's
//! `trading_halted` says so and stays set until [`AccountMonitor::clear_halt`]: the engine
//! watches it and stops opening risk.

mod metrics;
mod persist;
mod source;
mod task;

pub use source::AccountSource;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kestrel_model::Price;
use kestrel_model::config::AccountConfig;
use kestrel_store::{Store, StoreError};
use kestrel_venue::binance::user_data::UserEvent;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::alerts::Alert;
use crate::book::{AccountBook, BookConfig};
use crate::fill::FillUpdate;
use crate::reconciliation::ReconciliationReport;
use crate::view::AccountView;
use task::{Control, Input, Task};

/// Where the monitor reads the time (ms since the epoch): the wall clock live, a simulated
/// clock in backtests.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// How the monitor runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorConfig {
    /// The book's settings (thresholds, margin asset, grace).
    pub book: BookConfig,
    /// How often the book is reconciled with the venue.
    pub reconciliation_interval: Duration,
    /// How often a snapshot is persisted (when a store is given).
    pub snapshot_interval: Duration,
    /// How often the book is ticked (day roll, alerts) without other input.
    pub tick_interval: Duration,
}

impl MonitorConfig {
    /// The monitor's settings from the `[account]` section: reconciliation every
    /// `reconciliation_interval_seconds`, a snapshot a minute, a tick a second.
    #[must_use]
    pub fn new(account: &AccountConfig) -> Self {
        Self {
            book: BookConfig::new(account),
            reconciliation_interval: Duration::from_secs(
                account.reconciliation_interval_seconds.max(1),
            ),
            snapshot_interval: Duration::from_secs(60),
            tick_interval: Duration::from_secs(1),
        }
    }
}

/// Why the monitor could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The venue could not be read.
    #[error("account monitor: reading the venue failed: {0}")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store refused a snapshot.
    #[error("account monitor: persisting a snapshot failed: {0}")]
    Store(#[from] StoreError),
    /// The monitor has stopped.
    #[error("account monitor: stopped")]
    Stopped,
}

/// Raised alerts kept for slow receivers of [`AccountMonitor::raised_alerts`].
const ALERT_CAPACITY: usize = 256;

/// The monitor's input side: cheap to clone, usable from any task. Each method returns false
/// once the monitor has stopped. The queue is unbounded on purpose: a fill must never be
/// dropped, and account events come at most a few hundred a second, each applied in
/// microseconds.
#[derive(Debug, Clone)]
pub struct AccountInputs {
    tx: mpsc::UnboundedSender<Input>,
}

impl AccountInputs {
    /// A user-data event (fills, balance updates, margin calls, leverage changes).
    pub fn user_event(&self, event: UserEvent) -> bool {
        self.tx.send(Input::Event(Box::new(event))).is_ok()
    }

    /// A fill from the execution driver (booked once, whichever route reports it first).
    pub fn fill(&self, fill: FillUpdate) -> bool {
        self.tx.send(Input::Fill(Box::new(fill))).is_ok()
    }

    /// A mark-price update.
    pub fn mark(&self, symbol: &str, mark: Price) -> bool {
        self.tx.send(Input::Mark(symbol.to_owned(), mark)).is_ok()
    }
}

/// The running account monitor.
#[derive(Debug)]
pub struct AccountMonitor {
    inputs: AccountInputs,
    control: mpsc::Sender<Control>,
    views: watch::Receiver<Arc<AccountView>>,
    raised: broadcast::Sender<Alert>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl AccountMonitor {
    /// Reads the venue, loads the book and starts the monitor's task.
    ///
    /// # Errors
    /// [`MonitorError::Source`] when the venue cannot be read (nothing is started).
    pub async fn start<S: AccountSource>(
        config: MonitorConfig,
        source: S,
        store: Option<Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, MonitorError> {
        let mut snapshot = source
            .snapshot()
            .await
            .map_err(|e| MonitorError::Source(Box::new(e)))?;
        match source.leverage().await {
            Ok(leverage) => snapshot.leverage.extend(leverage),
            Err(error) => {
                tracing::warn!(target: "kestrel::account", %error, "cannot read leverage; positions show none until it changes")
            }
        }
        let mut book = AccountBook::new(config.book.clone(), clock.now_ms());
        book.load(&snapshot, clock.now_ms());
        let (views_tx, views) = watch::channel(Arc::new(book.view(clock.now_ms())));
        let (inputs_tx, inputs_rx) = mpsc::unbounded_channel();
        let (control_tx, control_rx) = mpsc::channel(16);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (raised, _) = broadcast::channel(ALERT_CAPACITY);
        let outlets = task::Outlets {
            views: views_tx,
            raised: raised.clone(),
        };
        let task = Task::new(config, book, source, store, clock, outlets);
        let task = tokio::spawn(task.run(inputs_rx, control_rx, shutdown_rx));
        Ok(Self {
            inputs: AccountInputs { tx: inputs_tx },
            control: control_tx,
            views,
            raised,
            shutdown,
            task,
        })
    }

    /// The input side, for the user stream, the execution driver and the mark feed.
    #[must_use]
    pub fn inputs(&self) -> AccountInputs {
        self.inputs.clone()
    }

    /// The latest account state.
    #[must_use]
    pub fn view(&self) -> Arc<AccountView> {
        Arc::clone(&self.views.borrow())
    }

    /// Every new account state as it is published (seed `SubscribeAccountUpdates()`).
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<Arc<AccountView>> {
        self.views.clone()
    }

    /// Each alert as it is raised (once per condition; a receiver that falls more than 256
    /// behind skips the oldest).
    #[must_use]
    pub fn raised_alerts(&self) -> broadcast::Receiver<Alert> {
        self.raised.subscribe()
    }

    /// Reconciles with the venue now, after every input sent before this call.
    ///
    /// # Errors
    /// [`MonitorError::Source`] when the venue cannot be read; [`MonitorError::Stopped`].
    pub async fn reconcile_now(&self) -> Result<ReconciliationReport, MonitorError> {
        self.ask(Control::Reconcile).await?
    }

    /// Persists a snapshot now, after every input sent before this call; `None` without a
    /// store.
    ///
    /// # Errors
    /// [`MonitorError::Store`]; [`MonitorError::Stopped`].
    pub async fn persist_now(&self) -> Result<Option<i64>, MonitorError> {
        self.ask(Control::Persist).await?
    }

    /// Lifts a trading halt (the operator's manual intervention).
    ///
    /// # Errors
    /// [`MonitorError::Stopped`].
    pub async fn clear_halt(&self) -> Result<(), MonitorError> {
        self.ask(Control::ClearHalt).await
    }

    /// Acknowledges the alert `id`; false when there is none.
    ///
    /// # Errors
    /// [`MonitorError::Stopped`].
    pub async fn acknowledge_alert(&self, id: &str) -> Result<bool, MonitorError> {
        let id = id.to_owned();
        self.ask(|reply| Control::Acknowledge(id, reply)).await
    }

    /// Stops the task after it has applied the inputs already sent (and, with a store,
    /// persisted a last snapshot).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Control,
    ) -> Result<T, MonitorError> {
        let (reply, answer) = oneshot::channel();
        self.control
            .send(make(reply))
            .await
            .map_err(|_| MonitorError::Stopped)?;
        answer.await.map_err(|_| MonitorError::Stopped)
    }
}
