//! The monitor's task: the only owner of the book.

use std::sync::Arc;

use kestrel_model::Price;
use kestrel_store::Store;
use kestrel_venue::binance::user_data::UserEvent;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::metrics::{self, Gauges};
use super::{AccountSource, Clock, MonitorConfig, MonitorError, persist};
use crate::alerts::Alert;
use crate::book::AccountBook;
use crate::fill::FillUpdate;
use crate::reconciliation::ReconciliationReport;
use crate::view::AccountView;

/// What the inputs carry.
#[derive(Debug)]
pub(super) enum Input {
    Event(Box<UserEvent>),
    Fill(Box<FillUpdate>),
    Mark(String, Price),
}

/// Requests from the monitor's handle, each answered on its channel.
#[derive(Debug)]
pub(super) enum Control {
    Reconcile(oneshot::Sender<Result<ReconciliationReport, MonitorError>>),
    Persist(oneshot::Sender<Result<Option<i64>, MonitorError>>),
    ClearHalt(oneshot::Sender<()>),
    Acknowledge(String, oneshot::Sender<bool>),
}

/// Where the task publishes.
pub(super) struct Outlets {
    /// The latest view.
    pub views: watch::Sender<Arc<AccountView>>,
    /// Alerts as they are raised.
    pub raised: broadcast::Sender<Alert>,
}

/// The book and what the task needs around it.
pub(super) struct Task<S> {
    config: MonitorConfig,
    book: AccountBook,
    source: S,
    store: Option<Store>,
    clock: Arc<dyn Clock>,
    outlets: Outlets,
    gauges: Gauges,
}

impl<S: AccountSource> Task<S> {
    pub(super) fn new(
        config: MonitorConfig,
        book: AccountBook,
        source: S,
        store: Option<Store>,
        clock: Arc<dyn Clock>,
        outlets: Outlets,
    ) -> Self {
        Self {
            config,
            book,
            source,
            store,
            clock,
            outlets,
            gauges: Gauges::default(),
        }
    }

    /// Applies inputs in arrival order (before any control request sent after them), and
    /// reconciles, persists and ticks on timers, until told to stop.
    pub(super) async fn run(
        mut self,
        mut inputs: mpsc::UnboundedReceiver<Input>,
        mut control: mpsc::Receiver<Control>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut reconcile = timer(self.config.reconciliation_interval);
        let mut persist = timer(self.config.snapshot_interval);
        let mut tick = timer(self.config.tick_interval);
        self.publish();
        loop {
            tokio::select! {
                biased;
                () = stopped(&mut shutdown) => break,
                Some(input) = inputs.recv() => self.apply(input),
                Some(request) = control.recv() => self.answer(request).await,
                _ = reconcile.tick() => drop(self.reconcile().await),
                _ = persist.tick() => drop(self.persist().await),
                _ = tick.tick() => self.book.tick(self.clock.now_ms()),
            }
            self.publish();
        }
        while let Ok(input) = inputs.try_recv() {
            self.apply(input);
        }
        self.publish();
        drop(self.persist().await);
    }

    fn apply(&mut self, input: Input) {
        let now = self.clock.now_ms();
        let result = match input {
            Input::Event(event) => self.book.apply_user_event(&event, now),
            Input::Fill(fill) => self.book.apply_fill(&fill, now).map(drop),
            Input::Mark(symbol, mark) => {
                self.book.apply_mark(&symbol, mark, now);
                Ok(())
            }
        };
        if let Err(error) = result {
            tracing::error!(target: "kestrel::account", %error, "input not applied");
        }
    }

    /// Answers a request after publishing its effect, so the caller's next read sees it.
    async fn answer(&mut self, request: Control) {
        match request {
            Control::Reconcile(reply) => {
                let report = self.reconcile().await;
                self.publish();
                let _ = reply.send(report);
            }
            Control::Persist(reply) => {
                let id = self.persist().await;
                let _ = reply.send(id);
            }
            Control::ClearHalt(reply) => {
                self.book.clear_halt(self.clock.now_ms());
                tracing::warn!(target: "kestrel::account", "trading halt cleared by an operator");
                self.publish();
                let _ = reply.send(());
            }
            Control::Acknowledge(id, reply) => {
                let found = self.book.acknowledge_alert(&id);
                self.publish();
                let _ = reply.send(found);
            }
        }
    }

    async fn reconcile(&mut self) -> Result<ReconciliationReport, MonitorError> {
        let snapshot = match self.source.snapshot().await {
            Ok(snapshot) => snapshot,
            Err(error) => {
                tracing::warn!(target: "kestrel::account", %error, "reconciliation skipped: cannot read the venue");
                return Err(MonitorError::Source(Box::new(error)));
            }
        };
        let report = self.book.reconcile(&snapshot, self.clock.now_ms());
        metrics::count_mismatches(report.mismatches_found);
        Ok(report)
    }

    async fn persist(&mut self) -> Result<Option<i64>, MonitorError> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        let record = persist::record(&self.book.view(self.clock.now_ms()));
        match store.insert_account_snapshot(&record).await {
            Ok(id) => Ok(Some(id)),
            Err(error) => {
                tracing::warn!(target: "kestrel::account", %error, "account snapshot not persisted");
                Err(MonitorError::Store(error))
            }
        }
    }

    /// Publishes the current view, records the metrics, and reports raised alerts.
    fn publish(&mut self) {
        for alert in self.book.take_raised_alerts() {
            metrics::count_alert(&alert);
            tracing::warn!(target: "kestrel::account", id = %alert.id, severity = ?alert.severity,
                category = ?alert.category, message = %alert.message, "alert");
            // No receiver is fine: the view carries the active alerts too.
            let _ = self.outlets.raised.send(alert);
        }
        let view = self.book.view(self.clock.now_ms());
        self.gauges.record(&view);
        self.outlets.views.send_replace(Arc::new(view));
    }
}

/// Resolves once the handle says stop or is gone (the watch guard is dropped before returning,
/// so the task's future stays `Send`).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// A timer whose first tick is one period from now; late ticks are skipped, not bunched.
fn timer(period: std::time::Duration) -> Interval {
    let mut interval = tokio::time::interval_at(Instant::now() + period, period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    interval
}
