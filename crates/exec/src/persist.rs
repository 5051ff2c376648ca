//! Lossless persistence of the engine's events (seed 000 FR-OE-004/005): every order change
//! and every fill the driver publishes is written to the store's `orders` and `fills` tables.
//!
//! The driver's broadcast channel may lag and drop events for a slow subscriber; this path may
//! not. The driver hands each event to a [`PersistSender`] in the same place it broadcasts it
//! (an unbounded channel: publishing never blocks the engine nor drops), and one [`Persister`]
//! writes them in batches, on a thread with a runtime and a store of its own (so its writes
//! progress, and on SQLite release the write lock, even while the driver's workers wait on the
//! journal; see `journal::thread`): what arrives within [`PersistConfig::linger`] of a batch's
//! first event, at most [`PersistConfig::max_batch`] events, as one fills insert (fill
//! recovery resumes after the largest stored trade id, so the fills of a batch are stored all
//! or none) then orders upserts of at most [`PersistConfig::rows_per_write`] rows each. When
//! the engine's journal is the store journal of the same database, the journal's thread writes
//! these rows between its own calls ([`crate::journal::RowsWriter`]), so an order's journal
//! write never queues behind them; otherwise the store's write lock is taken per write, so an
//! order's journal write on the same SQLite file waits for one short upsert, not for every
//! order state of a batch. Orders are upserted with their latest state in the batch
//! ([`OrderRecord::from_order`], the store keeps the first `created_ms`); fills are inserted
//! once per (symbol, trade id, side), a repeat being counted as a duplicate, not an error.
//!
//! While the database fails the batch is retried with a doubling delay
//! ([`PersistConfig::retry_min`] to [`PersistConfig::retry_max`]), logged once per streak, and
//! new events wait in the channel: nothing is dropped while the process lives. A write the
//! store refuses for good (an id beyond its integers) is retried row by row and only the rows
//! it cannot hold are dropped, each logged and counted as `unstorable`. When every sender is
//! gone (the driver shut down or dropped) the persister writes what is left and ends;
//! [`Persister::finish`] waits for that, for at most [`PersistConfig::shutdown_wait`]. What a
//! crash loses here is recovered from the venue on the next start (the driver's fill recovery
//! resumes after the last fill the store holds).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kestrel_model::config::StoreConfig;
use kestrel_model::telemetry::names;
use kestrel_store::{FillInsert, FillRecord, OrderRecord, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

use crate::engine::ExecEvent;
use crate::journal::thread::spawn_store_thread;
use crate::journal::{Rows, RowsWriter, StoreThreadError};

/// How the persister batches, retries and stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersistConfig {
    /// The most events one batch takes.
    pub max_batch: usize,
    /// The most order rows one upsert writes (module docs).
    pub rows_per_write: usize,
    /// How long a batch stays open after its first event, gathering more: fewer, larger
    /// writes, which seldom meet an order's journal writes on the SQLite file they share.
    pub linger: Duration,
    /// The first delay before retrying a failed write; it doubles per failure.
    pub retry_min: Duration,
    /// The longest delay between retries.
    pub retry_max: Duration,
    /// How long [`Persister::finish`] waits for the last write before leaving it to run on.
    pub shutdown_wait: Duration,
}

impl Default for PersistConfig {
    /// Batches of up to 1,000 gathered for 20 ms (fills in one statement, orders 16 per
    /// statement), retries from 100 ms to 5 s, 30 s to finish at shutdown.
    fn default() -> Self {
        Self {
            max_batch: 1_000,
            rows_per_write: 16,
            linger: Duration::from_millis(20),
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
            shutdown_wait: Duration::from_secs(30),
        }
    }
}

/// One event on its way to the store, with when it was published (ms since the Unix epoch,
/// the driver's clock): the order's `updated_ms`.
#[derive(Debug, Clone)]
struct Stamped {
    at_ms: u64,
    event: ExecEvent,
}

/// The driver's side of the persister: hands events over without blocking or dropping them.
#[derive(Debug, Clone)]
pub struct PersistSender {
    sender: mpsc::UnboundedSender<Stamped>,
    stats: Arc<PersistStats>,
}

impl PersistSender {
    /// Queues `event`, published at `at_ms`, for the store. Returns `false` when the persister
    /// has stopped (its thread panicked); the event is then logged and counted as lost.
    pub fn send(&self, at_ms: u64, event: ExecEvent) -> bool {
        self.stats.pending.fetch_add(1, Ordering::Relaxed);
        match self.sender.send(Stamped { at_ms, event }) {
            Ok(()) => true,
            Err(lost) => {
                self.stats.pending.fetch_sub(1, Ordering::Relaxed);
                self.stats.unstorable.fetch_add(1, Ordering::Relaxed);
                tracing::error!(target: "kestrel::exec", event = ?lost.0.event, "the persister has stopped; an order event was not stored");
                false
            }
        }
    }
}

/// The persister (module docs): the end of its thread, to wait for, and its counters.
#[derive(Debug)]
pub struct Persister {
    done: oneshot::Receiver<()>,
    stats: Arc<PersistStats>,
    shutdown_wait: Duration,
}

impl Persister {
    /// Starts the persister's thread (`kestrel-persist`) and opens the store `store`
    /// describes on it; returns, once the store is open, the sender to publish with and the
    /// persister. The thread ends once every sender is dropped and everything is written.
    ///
    /// # Errors
    /// [`StoreThreadError`] naming what failed (the store's message names the database).
    pub fn start(
        store: &StoreConfig,
        config: PersistConfig,
        via: Option<RowsWriter>,
    ) -> Result<(PersistSender, Self), StoreThreadError> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let (finished, done) = oneshot::channel();
        let stats = Arc::new(PersistStats::default());
        let counters = Arc::clone(&stats);
        spawn_store_thread("kestrel-persist", store, move |runtime, store| {
            let via = via.filter(|via| {
                let same = via.target() == store.target();
                if !same {
                    tracing::warn!(target: "kestrel::exec", journal = via.target(), store = store.target(), "the journal writes another database than the persister's; the persister writes its own");
                }
                same
            });
            let writer = Writer {
                store: store.clone(),
                via,
                stats: counters,
                config,
            };
            runtime.block_on(writer.run(receiver));
            let _ = finished.send(());
        })?;
        let sender = PersistSender {
            sender,
            stats: Arc::clone(&stats),
        };
        let persister = Self {
            done,
            stats,
            shutdown_wait: config.shutdown_wait,
        };
        Ok((sender, persister))
    }

    /// The counters now.
    #[must_use]
    pub fn counts(&self) -> PersistCounts {
        self.stats.counts()
    }

    /// Waits until the persister has written everything and ended — which it does once every
    /// [`PersistSender`] is dropped — for at most [`PersistConfig::shutdown_wait`]; then
    /// returns the counters. A persister still retrying then is left running (nothing is
    /// dropped while the process lives) and the events it holds are logged as an error.
    pub async fn finish(self) -> PersistCounts {
        if tokio::time::timeout(self.shutdown_wait, self.done)
            .await
            .is_err()
        {
            let pending = self.stats.pending.load(Ordering::Relaxed);
            tracing::error!(target: "kestrel::exec", pending, "order events still not stored at shutdown; the persister keeps trying while the process lives");
        }
        self.stats.counts()
    }
}

/// The persister's counters: relaxed atomics shared by the senders and the task.
#[derive(Debug, Default)]
struct PersistStats {
    pending: AtomicU64,
    orders_written: AtomicU64,
    fills_new: AtomicU64,
    fills_duplicate: AtomicU64,
    failed_writes: AtomicU64,
    unstorable: AtomicU64,
}

impl PersistStats {
    fn counts(&self) -> PersistCounts {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        PersistCounts {
            pending: load(&self.pending),
            orders_written: load(&self.orders_written),
            fills_new: load(&self.fills_new),
            fills_duplicate: load(&self.fills_duplicate),
            failed_writes: load(&self.failed_writes),
            unstorable: load(&self.unstorable),
        }
    }
}

/// A copy of the persister's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersistCounts {
    /// Events handed over and not yet written (or dropped).
    pub pending: u64,
    /// Order states upserted (the latest of an order in a batch counts once).
    pub orders_written: u64,
    /// Fills stored for the first time.
    pub fills_new: u64,
    /// Fills the store already held (same symbol, trade id and side): not stored again.
    pub fills_duplicate: u64,
    /// Writes that failed and were retried.
    pub failed_writes: u64,
    /// Events lost: rows the store cannot hold, or events sent after the persister stopped.
    pub unstorable: u64,
}

/// One batch: the latest state of each order and every fill, from `events` events.
#[derive(Debug, Default)]
struct Batch {
    orders: BTreeMap<String, OrderRecord>,
    fills: Vec<FillRecord>,
    events: usize,
}

impl Batch {
    fn add(&mut self, stamped: Stamped) {
        self.events += 1;
        match stamped.event {
            ExecEvent::Order(order) => {
                let created_ms = self
                    .orders
                    .get(&order.client_order_id)
                    .map_or(stamped.at_ms, |earlier| earlier.created_ms);
                let record = OrderRecord::from_order(&order, created_ms, stamped.at_ms);
                self.orders.insert(order.client_order_id.clone(), record);
            }
            ExecEvent::Fill(fill) => self.fills.push(FillRecord::from(fill)),
        }
    }
}

/// The persister's task state.
struct Writer {
    store: Store,
    /// The journal thread, which writes the rows when the journal is the store's.
    via: Option<RowsWriter>,
    stats: Arc<PersistStats>,
    config: PersistConfig,
}

impl Writer {
    /// Writes batches until every sender is gone and the channel is empty.
    async fn run(self, mut receiver: mpsc::UnboundedReceiver<Stamped>) {
        let max_batch = self.config.max_batch.max(1);
        while let Some(first) = receiver.recv().await {
            let mut batch = Batch::default();
            batch.add(first);
            let closes = tokio::time::Instant::now() + self.config.linger;
            while batch.events < max_batch {
                match tokio::time::timeout_at(closes, receiver.recv()).await {
                    Ok(Some(stamped)) => batch.add(stamped),
                    // Every sender is gone (write what is here, then end) or the batch closed.
                    Ok(None) | Err(_) => break,
                }
            }
            self.write(batch).await;
        }
        tracing::debug!(target: "kestrel::exec", "every order event is stored; the persister stops");
    }

    /// Writes one batch: fills first (what must never be lost), then orders, a few rows per
    /// statement.
    async fn write(&self, batch: Batch) {
        // The batch's fills in one statement: fill recovery resumes after the largest stored
        // trade id, so a fill must never be stored while an earlier one of the batch is not.
        self.write_fills(&batch.fills).await;
        let orders: Vec<OrderRecord> = batch.orders.into_values().collect();
        for orders in orders.chunks(self.config.rows_per_write.max(1)) {
            self.write_orders(orders).await;
        }
        self.stats
            .pending
            .fetch_sub(len_u64(batch.events), Ordering::Relaxed);
    }

    async fn write_fills(&self, fills: &[FillRecord]) {
        if fills.is_empty() {
            return;
        }
        let new = match self.retrying(|| self.insert_fills(fills)).await {
            Ok(new) => new,
            Err(_) => self.write_fills_one_by_one(fills).await,
        };
        let duplicates = len_u64(fills.len()).saturating_sub(new);
        self.stats.fills_new.fetch_add(new, Ordering::Relaxed);
        self.stats
            .fills_duplicate
            .fetch_add(duplicates, Ordering::Relaxed);
        metrics::counter!(names::DATABASE_ROWS_WRITTEN_TOTAL, "table" => "fills").increment(new);
    }

    /// After a batch the store refused for good: each fill alone, dropping those it cannot
    /// hold; returns how many were new.
    async fn write_fills_one_by_one(&self, fills: &[FillRecord]) -> u64 {
        let mut new = 0;
        for fill in fills {
            let insert = || async {
                let _writing = self.store.write_lock().await;
                self.store.insert_fill(fill).await
            };
            match self.retrying(insert).await {
                Ok(FillInsert::New) => new += 1,
                Ok(FillInsert::Duplicate) => {}
                Err(error) => self.unstorable("fill", &fill.fill, &error),
            }
        }
        new
    }

    async fn write_orders(&self, orders: &[OrderRecord]) {
        if orders.is_empty() {
            return;
        }
        let written = match self.retrying(|| self.upsert_orders(orders)).await {
            Ok(()) => len_u64(orders.len()),
            Err(_) => self.write_orders_one_by_one(orders).await,
        };
        self.stats
            .orders_written
            .fetch_add(written, Ordering::Relaxed);
        metrics::counter!(names::DATABASE_ROWS_WRITTEN_TOTAL, "table" => "orders")
            .increment(written);
    }

    /// After a batch the store refused for good: each order alone, dropping those it cannot
    /// hold; returns how many were written.
    async fn write_orders_one_by_one(&self, orders: &[OrderRecord]) -> u64 {
        let mut written = 0;
        for order in orders {
            let upsert = || async {
                let _writing = self.store.write_lock().await;
                self.store.upsert_order(order).await
            };
            match self.retrying(upsert).await {
                Ok(()) => written += 1,
                Err(error) => self.unstorable("order", order, &error),
            }
        }
        written
    }

    /// Inserts `fills` all or none: on the journal thread when there is one (module docs),
    /// else on the store under its write lock. Returns how many were new.
    async fn insert_fills(&self, fills: &[FillRecord]) -> Result<u64, StoreError> {
        if let Some(via) = &self.via
            && let Some(done) = via.write(Rows::Fills(fills.to_vec())).await
        {
            return done;
        }
        let _writing = self.store.write_lock().await;
        self.store.insert_fills(fills).await
    }

    /// Upserts `orders` as [`Writer::insert_fills`] inserts fills.
    async fn upsert_orders(&self, orders: &[OrderRecord]) -> Result<(), StoreError> {
        if let Some(via) = &self.via
            && let Some(done) = via.write(Rows::Orders(orders.to_vec())).await
        {
            return done.map(drop);
        }
        let _writing = self.store.write_lock().await;
        self.store.upsert_orders(orders).await
    }

    /// Runs `write` until it succeeds or fails for good, waiting a doubling delay after each
    /// failure the database may recover from.
    async fn retrying<T, F, Fut>(&self, mut write: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let mut delay = self.config.retry_min;
        let mut failures = 0u64;
        loop {
            let attempt = write().await;
            let error = match attempt {
                Ok(value) => {
                    if failures > 0 {
                        tracing::info!(target: "kestrel::exec", failures, "order and fill writes recovered");
                    }
                    return Ok(value);
                }
                Err(error) if !may_recover(&error) => return Err(error),
                Err(error) => error,
            };
            if failures == 0 {
                tracing::warn!(target: "kestrel::exec", %error, "writing orders and fills failed; retrying until the database answers");
            }
            failures += 1;
            self.stats.failed_writes.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(names::DATABASE_FLUSH_FAILURES_TOTAL).increment(1);
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2).min(self.config.retry_max);
        }
    }

    fn unstorable(&self, what: &str, row: &dyn std::fmt::Debug, error: &StoreError) {
        self.stats.unstorable.fetch_add(1, Ordering::Relaxed);
        tracing::error!(target: "kestrel::exec", %error, ?row, "the store cannot hold this {what}; it is not stored");
    }
}

/// Whether a failed write may succeed later (the database was unreachable or busy), as
/// opposed to a row the store refuses whatever the database's state.
const fn may_recover(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Query { .. } | StoreError::Connect { .. } | StoreError::Sqlite { .. }
    )
}

fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}
