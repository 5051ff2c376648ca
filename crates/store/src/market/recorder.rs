//! [`MarketRecorder`]: batched market-data writes that never hold up the pipeline (seed 000
//! FR-MD-005 "Insert into time-series database", "Rate limit database writes to avoid
//! overload").
//!
//! The pipeline holds cloneable [`MarketRecorder`] handles; `try_record_*` puts a record on a
//! bounded channel and returns at once. When the channel is full the record is dropped and
//! counted — the hot path never blocks, awaits or allocates on the database's behalf.
//!
//! One [`RecorderWriter`] task drains the channel into a backlog and writes it every
//! `write_interval` (the seed's `database_write_interval_ms`), at most `max_batch` records of
//! each kind per interval, each write one transaction ([`Store::insert_market_data`]). That
//! interval and batch size are the write rate limit.
//!
//! When a write fails the batch is kept and retried at the next interval; the failure is logged
//! once per streak (and the recovery once). While the database is down the backlog is bounded by
//! `max_backlog` per kind: beyond it the oldest records are dropped and counted. On shutdown, or
//! when every handle is gone, the writer drains the channel and writes what is left.
//!
//! Counters live in [`RecorderStats`] (atomics shared by the handles and the writer) and are
//! exported as the `database_*` metrics of [`kestrel_model::telemetry`].

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kestrel_model::event::{OwnedBookSnapshot, OwnedTradeEvent};
use kestrel_model::telemetry::names;
use metrics::{Counter, Gauge};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, error, info, warn};

use super::rows::{self, SNAPSHOTS, TRADES};
use crate::db::Store;

/// Settings of a [`MarketRecorder`] and its [`RecorderWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderConfig {
    /// How often the backlog is written (the seed's `database_write_interval_ms`).
    pub write_interval: Duration,
    /// Records the channel between the handles and the writer holds; beyond it new records are
    /// dropped and counted.
    pub channel_capacity: usize,
    /// The most records of one kind written per interval (the write rate limit).
    pub max_batch: usize,
    /// Records of one kind kept while the database fails; beyond it the oldest are dropped and
    /// counted.
    pub max_backlog: usize,
}

impl RecorderConfig {
    /// Default channel, batch and backlog sizes with the given write interval in milliseconds
    /// (`market_data.database_write_interval_ms`).
    #[must_use]
    pub const fn with_write_interval_ms(write_interval_ms: u64) -> Self {
        Self {
            write_interval: Duration::from_millis(write_interval_ms),
            channel_capacity: 65_536,
            max_batch: 20_000,
            max_backlog: 200_000,
        }
    }

    /// The settings with every size at least 1 and the interval at least 1 ms (tokio's channel
    /// and interval refuse zero).
    fn sanitized(self) -> Self {
        Self {
            write_interval: self.write_interval.max(Duration::from_millis(1)),
            channel_capacity: self.channel_capacity.max(1),
            max_batch: self.max_batch.max(1),
            max_backlog: self.max_backlog.max(1),
        }
    }
}

impl Default for RecorderConfig {
    /// A 100 ms interval, the seed's default.
    fn default() -> Self {
        Self::with_write_interval_ms(100)
    }
}

/// One record on its way to the database.
#[derive(Debug)]
enum Record {
    Trade(OwnedTradeEvent),
    Snapshot(OwnedBookSnapshot),
}

/// The non-blocking side of the recorder: cheap to clone, one per producer if convenient.
#[derive(Debug, Clone)]
pub struct MarketRecorder {
    sender: mpsc::Sender<Record>,
    stats: Arc<RecorderStats>,
}

impl MarketRecorder {
    /// A recorder writing to `store`: the handle for producers and the writer to run (with
    /// [`RecorderWriter::run`] or [`RecorderWriter::spawn`]). Zero sizes or interval are taken
    /// as 1.
    #[must_use]
    pub fn new(store: Store, config: RecorderConfig) -> (Self, RecorderWriter) {
        let config = config.sanitized();
        let (sender, receiver) = mpsc::channel(config.channel_capacity);
        let stats = Arc::new(RecorderStats::default());
        let writer = RecorderWriter {
            store,
            receiver,
            stats: Arc::clone(&stats),
            config,
            trades: VecDeque::new(),
            snapshots: VecDeque::new(),
            failure_streak: 0,
            overflow_logged: false,
            invalid_logged: false,
            metrics: Metrics::new(),
            exported: RecorderCounts::default(),
        };
        (Self { sender, stats }, writer)
    }

    /// Queues a trade for the next write. Returns `false`, having dropped and counted it, when
    /// the channel is full or the writer has stopped. Never blocks.
    pub fn try_record_trade(&self, trade: OwnedTradeEvent) -> bool {
        self.offer(Record::Trade(trade), &self.stats.trades)
    }

    /// Queues a snapshot for the next write. Returns `false`, having dropped and counted it,
    /// when the channel is full or the writer has stopped. Never blocks.
    pub fn try_record_snapshot(&self, snapshot: OwnedBookSnapshot) -> bool {
        self.offer(Record::Snapshot(snapshot), &self.stats.snapshots)
    }

    /// The recorder's counters (shared with the writer and every clone).
    #[must_use]
    pub const fn stats(&self) -> &Arc<RecorderStats> {
        &self.stats
    }

    fn offer(&self, record: Record, kind: &KindStats) -> bool {
        match self.sender.try_send(record) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                kind.dropped_channel_full.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(TrySendError::Closed(_)) => {
                kind.dropped_writer_gone.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }
}

/// The recorder's counters: relaxed atomics, so reading them costs a few loads and updating
/// them never contends for more than a cache line.
#[derive(Debug, Default)]
pub struct RecorderStats {
    trades: KindStats,
    snapshots: KindStats,
    flushes: AtomicU64,
    failed_flushes: AtomicU64,
}

#[derive(Debug, Default)]
struct KindStats {
    written: AtomicU64,
    duplicates: AtomicU64,
    dropped_channel_full: AtomicU64,
    dropped_writer_gone: AtomicU64,
    dropped_backlog_full: AtomicU64,
    dropped_invalid: AtomicU64,
    dropped_at_shutdown: AtomicU64,
    backlog: AtomicU64,
}

impl RecorderStats {
    /// The counters' current values.
    #[must_use]
    pub fn counts(&self) -> RecorderCounts {
        RecorderCounts {
            trades: self.trades.counts(),
            snapshots: self.snapshots.counts(),
            flushes: self.flushes.load(Ordering::Relaxed),
            failed_flushes: self.failed_flushes.load(Ordering::Relaxed),
        }
    }
}

impl KindStats {
    fn counts(&self) -> KindCounts {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        KindCounts {
            written: load(&self.written),
            duplicates: load(&self.duplicates),
            dropped_channel_full: load(&self.dropped_channel_full),
            dropped_writer_gone: load(&self.dropped_writer_gone),
            dropped_backlog_full: load(&self.dropped_backlog_full),
            dropped_invalid: load(&self.dropped_invalid),
            dropped_at_shutdown: load(&self.dropped_at_shutdown),
            backlog: load(&self.backlog),
        }
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// A copy of the recorder's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecorderCounts {
    /// Trade records.
    pub trades: KindCounts,
    /// Snapshot records.
    pub snapshots: KindCounts,
    /// Writes that succeeded.
    pub flushes: u64,
    /// Writes that failed (their batch was kept for the next interval).
    pub failed_flushes: u64,
}

/// Counters for one kind of record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    /// Rows inserted.
    pub written: u64,
    /// Records written whose key was already stored (a replay or a retried batch).
    pub duplicates: u64,
    /// Dropped by a handle because the channel was full.
    pub dropped_channel_full: u64,
    /// Dropped by a handle because the writer had stopped.
    pub dropped_writer_gone: u64,
    /// Dropped, oldest first, because the backlog was full while the database failed.
    pub dropped_backlog_full: u64,
    /// Dropped because an id or time did not fit the database's integers.
    pub dropped_invalid: u64,
    /// Still unwritten when the writer stopped and its last write failed.
    pub dropped_at_shutdown: u64,
    /// Records waiting in the writer's backlog now.
    pub backlog: u64,
}

impl KindCounts {
    /// Every record of this kind that was dropped, whatever the reason.
    #[must_use]
    pub const fn dropped(&self) -> u64 {
        self.dropped_channel_full
            + self.dropped_writer_gone
            + self.dropped_backlog_full
            + self.dropped_invalid
            + self.dropped_at_shutdown
    }
}

/// The writing side of the recorder: one task owns it and calls [`RecorderWriter::run`].
#[derive(Debug)]
pub struct RecorderWriter {
    store: Store,
    receiver: mpsc::Receiver<Record>,
    stats: Arc<RecorderStats>,
    config: RecorderConfig,
    trades: VecDeque<OwnedTradeEvent>,
    snapshots: VecDeque<OwnedBookSnapshot>,
    /// Consecutive failed writes: the first is logged, the rest are counted.
    failure_streak: u64,
    /// Whether backlog overflow has been logged in this failure streak.
    overflow_logged: bool,
    /// Whether an unstorable record has been logged.
    invalid_logged: bool,
    metrics: Metrics,
    /// The counts last exported to the metrics registry.
    exported: RecorderCounts,
}

/// Records taken from the channel per wake-up.
const RECEIVE_CHUNK: usize = 1_024;

impl RecorderWriter {
    /// The recorder's counters.
    #[must_use]
    pub fn stats(&self) -> Arc<RecorderStats> {
        Arc::clone(&self.stats)
    }

    /// Runs [`RecorderWriter::run`] on a new tokio task.
    pub fn spawn(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> JoinHandle<RecorderCounts> {
        tokio::spawn(self.run(shutdown))
    }

    /// Writes the backlog every interval until `shutdown` completes or every
    /// [`MarketRecorder`] handle is dropped; then takes what is still in the channel, writes
    /// it, and returns the final counts. A last write that fails loses what it held (counted
    /// as `dropped_at_shutdown`, logged as an error).
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> RecorderCounts {
        let period = self.config.write_interval;
        let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
        // A write slower than the interval delays the next one instead of causing a burst.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut received = Vec::with_capacity(RECEIVE_CHUNK);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                _ = ticker.tick() => {
                    self.flush().await;
                    self.export_metrics();
                }
                n = self.receiver.recv_many(&mut received, RECEIVE_CHUNK) => {
                    if n == 0 {
                        debug!("store: every market recorder handle is gone; writer stopping");
                        break;
                    }
                    for record in received.drain(..) {
                        self.accept(record);
                    }
                }
            }
        }
        self.finish().await
    }

    /// Stops the channel, takes what it holds, and writes everything left.
    async fn finish(mut self) -> RecorderCounts {
        self.receiver.close();
        while let Ok(record) = self.receiver.try_recv() {
            self.accept(record);
        }
        while !(self.trades.is_empty() && self.snapshots.is_empty()) {
            if !self.flush().await {
                let (trades, snapshots) = (self.trades.len(), self.snapshots.len());
                error!(
                    trades,
                    snapshots, "store: market-data records lost at shutdown: the last write failed"
                );
                KindStats::add(&self.stats.trades.dropped_at_shutdown, len_u64(trades));
                KindStats::add(
                    &self.stats.snapshots.dropped_at_shutdown,
                    len_u64(snapshots),
                );
                self.trades.clear();
                self.snapshots.clear();
                self.update_backlog();
                break;
            }
        }
        self.export_metrics();
        self.stats.counts()
    }

    /// Adds a record to the backlog, dropping the oldest of its kind beyond the cap.
    fn accept(&mut self, record: Record) {
        let cap = self.config.max_backlog;
        let (check, kind, evicted) = match record {
            Record::Trade(trade) => {
                let check = rows::check_trade(&trade);
                if check.is_ok() {
                    self.trades.push_back(trade);
                }
                let evicted = self.trades.len() > cap && self.trades.pop_front().is_some();
                (check, &self.stats.trades, evicted)
            }
            Record::Snapshot(snapshot) => {
                let check = rows::check_snapshot(&snapshot);
                if check.is_ok() {
                    self.snapshots.push_back(snapshot);
                }
                let evicted = self.snapshots.len() > cap && self.snapshots.pop_front().is_some();
                (check, &self.stats.snapshots, evicted)
            }
        };
        if let Err(e) = check {
            KindStats::add(&kind.dropped_invalid, 1);
            if !self.invalid_logged {
                self.invalid_logged = true;
                warn!(error = %e, "store: dropping a market-data record the database cannot hold (further ones are only counted)");
            }
        }
        if evicted {
            KindStats::add(&kind.dropped_backlog_full, 1);
            if !self.overflow_logged {
                self.overflow_logged = true;
                warn!(
                    max_backlog = cap,
                    "store: market-data backlog full while writes fail; dropping the oldest records"
                );
            }
        }
        self.update_backlog();
    }

    /// Writes up to `max_batch` of each kind in one transaction. On failure keeps them for the
    /// next call and returns `false`.
    async fn flush(&mut self) -> bool {
        let n_trades = self.trades.len().min(self.config.max_batch);
        let n_snapshots = self.snapshots.len().min(self.config.max_batch);
        if n_trades == 0 && n_snapshots == 0 {
            return true;
        }
        let trades = &self.trades.make_contiguous()[..n_trades];
        let snapshots = &self.snapshots.make_contiguous()[..n_snapshots];
        match self.store.insert_market_data(trades, snapshots).await {
            Ok(inserted) => {
                self.trades.drain(..n_trades);
                self.snapshots.drain(..n_snapshots);
                let stats = &self.stats;
                KindStats::add(&stats.trades.written, inserted.trades);
                KindStats::add(
                    &stats.trades.duplicates,
                    len_u64(n_trades).saturating_sub(inserted.trades),
                );
                KindStats::add(&stats.snapshots.written, inserted.snapshots);
                KindStats::add(
                    &stats.snapshots.duplicates,
                    len_u64(n_snapshots).saturating_sub(inserted.snapshots),
                );
                stats.flushes.fetch_add(1, Ordering::Relaxed);
                if self.failure_streak > 0 {
                    info!(
                        failed_writes = self.failure_streak,
                        "store: market-data writes recovered"
                    );
                }
                self.failure_streak = 0;
                self.overflow_logged = false;
                self.update_backlog();
                true
            }
            Err(e) => {
                self.stats.failed_flushes.fetch_add(1, Ordering::Relaxed);
                if self.failure_streak == 0 {
                    warn!(
                        error = %e,
                        backlog_trades = self.trades.len(),
                        backlog_snapshots = self.snapshots.len(),
                        retry_ms = self.config.write_interval.as_millis(),
                        "store: market-data write failed; keeping the batch and retrying every interval"
                    );
                }
                self.failure_streak += 1;
                false
            }
        }
    }

    fn update_backlog(&self) {
        let set = |counter: &AtomicU64, len: usize| counter.store(len_u64(len), Ordering::Relaxed);
        set(&self.stats.trades.backlog, self.trades.len());
        set(&self.stats.snapshots.backlog, self.snapshots.len());
    }

    /// Adds what the counters gained since the last export to the metrics registry.
    fn export_metrics(&mut self) {
        let now = self.stats.counts();
        self.metrics
            .trades
            .export(&self.exported.trades, &now.trades);
        self.metrics
            .snapshots
            .export(&self.exported.snapshots, &now.snapshots);
        self.metrics.flush_failures.increment(
            now.failed_flushes
                .saturating_sub(self.exported.failed_flushes),
        );
        self.exported = now;
    }
}

fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// Metric handles, registered once.
#[derive(Debug)]
struct Metrics {
    trades: KindMetrics,
    snapshots: KindMetrics,
    flush_failures: Counter,
}

#[derive(Debug)]
struct KindMetrics {
    written: Counter,
    dropped_channel_full: Counter,
    dropped_writer_gone: Counter,
    dropped_backlog_full: Counter,
    dropped_invalid: Counter,
    dropped_at_shutdown: Counter,
    backlog: Gauge,
}

impl Metrics {
    fn new() -> Self {
        Self {
            trades: KindMetrics::new(TRADES),
            snapshots: KindMetrics::new(SNAPSHOTS),
            flush_failures: metrics::counter!(names::DATABASE_FLUSH_FAILURES_TOTAL),
        }
    }
}

impl KindMetrics {
    fn new(table: &'static str) -> Self {
        let dropped = |reason: &'static str| metrics::counter!(names::DATABASE_RECORDS_DROPPED_TOTAL, "table" => table, "reason" => reason);
        Self {
            written: metrics::counter!(names::DATABASE_ROWS_WRITTEN_TOTAL, "table" => table),
            dropped_channel_full: dropped("channel_full"),
            dropped_writer_gone: dropped("writer_gone"),
            dropped_backlog_full: dropped("backlog_full"),
            dropped_invalid: dropped("invalid"),
            dropped_at_shutdown: dropped("shutdown"),
            backlog: metrics::gauge!(names::DATABASE_WRITE_BACKLOG, "table" => table),
        }
    }

    fn export(&self, before: &KindCounts, now: &KindCounts) {
        // Counters only grow, so each difference is the increase since the last export.
        self.written
            .increment(now.written.saturating_sub(before.written));
        self.dropped_channel_full.increment(
            now.dropped_channel_full
                .saturating_sub(before.dropped_channel_full),
        );
        self.dropped_writer_gone.increment(
            now.dropped_writer_gone
                .saturating_sub(before.dropped_writer_gone),
        );
        self.dropped_backlog_full.increment(
            now.dropped_backlog_full
                .saturating_sub(before.dropped_backlog_full),
        );
        self.dropped_invalid
            .increment(now.dropped_invalid.saturating_sub(before.dropped_invalid));
        self.dropped_at_shutdown.increment(
            now.dropped_at_shutdown
                .saturating_sub(before.dropped_at_shutdown),
        );
        self.backlog.set(u64_gauge(now.backlog));
    }
}

/// A backlog length as a gauge value. Gauges are `f64` in the metrics facade; a count of
/// records converts exactly below 2^53, far above any backlog cap.
const fn u64_gauge(value: u64) -> f64 {
    value as f64
}
