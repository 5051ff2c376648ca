//! Where `kestrel md` sends market data besides the shared-memory ring (seed FR-MD-005): NATS
//! subjects when `market_data.nats_url` is set, and the store (SQLite or PostgreSQL) when
//! `market_data.enable_database_writes` is on.
//!
//! Both are readers of the ring the pipeline writes, so the hot path never waits for them: a
//! slow NATS server or database makes its reader fall behind, and a reader lapped by the
//! writer counts what it lost; the books and the other consumers are unaffected.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use kestrel_bus::ring::RingReader;
use kestrel_bus::{NatsPublisher, PumpStats, RingPump, decode};
use kestrel_marketdata::pipeline::{Feeds, lock};
use kestrel_model::config::{MarketDataConfig, StoreConfig};
use kestrel_model::event::{OwnedBookSnapshot, OwnedMarketEvent, ReceiveTime};
use kestrel_store::Store;
use kestrel_store::market::{MarketRecorder, RecorderConfig, RecorderCounts};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The distribution tasks that are running, to be awaited at shutdown.
#[derive(Default)]
pub struct Distribution {
    nats: Option<JoinHandle<PumpStats>>,
    store: Vec<JoinHandle<()>>,
    writer: Option<JoinHandle<RecorderCounts>>,
    /// What `kestrel md` prints about where data goes.
    pub summary: Vec<String>,
}

impl Distribution {
    /// Starts what the configuration asks for, reading the ring at `ring`.
    ///
    /// # Errors
    /// When the configured NATS server or store cannot be reached: a configured destination
    /// that does not work is a configuration problem to fix before trading, not to discover later.
    pub async fn start(
        config: &MarketDataConfig,
        store: &StoreConfig,
        feeds: &Arc<Feeds>,
        ring: &Path,
        stop: &watch::Receiver<bool>,
    ) -> Result<Self> {
        let mut running = Self::default();
        if let Some(url) = &config.nats_url {
            let publisher = NatsPublisher::connect(url)
                .await
                .context("market_data.nats_url")?;
            let pump = RingPump::new(open_reader(ring)?, publisher);
            running.nats = Some(tokio::spawn(pump.run(stop.clone())));
            running.summary.push(format!(
                "NATS {} (market_data.{{symbol}}.orderbook|trades)",
                kestrel_bus::nats::redact_url(url)
            ));
        }
        if config.enable_database_writes {
            running
                .start_store(config, store, feeds, ring, stop)
                .await?;
        }
        Ok(running)
    }

    async fn start_store(
        &mut self,
        config: &MarketDataConfig,
        store_config: &StoreConfig,
        feeds: &Arc<Feeds>,
        ring: &Path,
        stop: &watch::Receiver<bool>,
    ) -> Result<()> {
        let store = Store::open(store_config)
            .await
            .context("store (market_data.enable_database_writes is on)")?;
        self.summary.push(format!("store {}", store.target()));
        let interval = config.database_write_interval_ms;
        let (recorder, writer) =
            MarketRecorder::new(store, RecorderConfig::with_write_interval_ms(interval));
        // The writer stops once both producers below have finished (each drops its handle
        // after a last pass), so what they queued at the stop is written too.
        self.writer = Some(writer.spawn(std::future::pending()));
        let trades = record_trades(open_reader(ring)?, recorder.clone(), stop.clone());
        let depth = usize::try_from(config.order_book_depth).unwrap_or(usize::MAX);
        let snapshots = record_snapshots(
            Arc::clone(feeds),
            recorder,
            depth,
            Duration::from_millis(interval.max(1)),
            stop.clone(),
        );
        self.store = vec![tokio::spawn(trades), tokio::spawn(snapshots)];
        Ok(())
    }

    /// Waits for every task to finish (after the stop signal) and logs what they did.
    pub async fn finish(self) {
        if let Some(nats) = self.nats
            && let Ok(stats) = nats.await
        {
            tracing::info!(?stats, "NATS publishing stopped");
        }
        for task in self.store {
            let _ = task.await;
        }
        if let Some(writer) = self.writer
            && let Ok(counts) = writer.await
        {
            tracing::info!(?counts, "market-data store writer stopped");
        }
    }
}

/// A reader of the ring from its newest message: what was published before it started is
/// not distributed twice.
fn open_reader(path: &Path) -> Result<RingReader> {
    let mut reader = RingReader::open(path)
        .with_context(|| format!("cannot open the ring at {}", path.display()))?;
    reader.seek_newest();
    Ok(reader)
}

/// How long a ring reader sleeps when it has caught up: short enough for the store's 100 ms
/// batches, long enough not to spin a core.
const IDLE_POLL: Duration = Duration::from_millis(5);

/// Hands every trade on the ring to the recorder until stopped, then once more everything
/// already on the ring, so a trade published before the stop is stored.
async fn record_trades(
    mut reader: RingReader,
    recorder: MarketRecorder,
    stop: watch::Receiver<bool>,
) {
    let mut lost = 0_u64;
    loop {
        let stopping = *stop.borrow();
        let read = drain_trades(&mut reader, &recorder, &mut lost);
        if stopping {
            break;
        }
        if read == 0 {
            tokio::time::sleep(IDLE_POLL).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
    if lost > 0 {
        tracing::warn!(
            lost,
            "the store's ring reader was lapped; those trades are not stored"
        );
    }
}

/// Queues every trade now on the ring; returns how many messages were read.
fn drain_trades(reader: &mut RingReader, recorder: &MarketRecorder, lost: &mut u64) -> usize {
    let mut read = 0;
    while let Some(message) = reader.try_next() {
        read += 1;
        *lost += message.lost_before;
        if let Ok(event) = decode(message.bytes)
            && let OwnedMarketEvent::Trade(trade) = event.into_owned()
        {
            recorder.try_record_trade(trade);
        }
    }
    read
}

/// Every `interval`, queues each synced book's top `depth` levels when the book changed since
/// the last snapshot stored.
async fn record_snapshots(
    feeds: Arc<Feeds>,
    recorder: MarketRecorder,
    depth: usize,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let symbols: Vec<String> = feeds.symbols().map(str::to_owned).collect();
    let mut last_stored = vec![None; symbols.len()];
    let mut ticker = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
        for (symbol, last) in symbols.iter().zip(&mut last_stored) {
            if let Some(snapshot) = changed_snapshot(&feeds, symbol, depth, *last) {
                *last = Some(snapshot.last_update_id);
                recorder.try_record_snapshot(snapshot);
            }
        }
    }
}

/// The top of `symbol`'s book when it is synced and at another update id than `last`.
fn changed_snapshot(
    feeds: &Feeds,
    symbol: &str,
    depth: usize,
    last: Option<u64>,
) -> Option<OwnedBookSnapshot> {
    let feed = feeds.get(symbol)?;
    let sync = lock(&feed.sync);
    let update_id = sync.last_update_id()?;
    if last == Some(update_id) {
        return None;
    }
    let mut snapshot = OwnedBookSnapshot {
        symbol: symbol.to_owned(),
        received: ReceiveTime::new(0, wall_clock_ns()),
        ..OwnedBookSnapshot::default()
    };
    snapshot.copy_top_from(sync.book(), depth);
    Some(snapshot)
}

/// Nanoseconds since the Unix epoch, for the time a snapshot was taken (0 if the clock is
/// before 1970).
fn wall_clock_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}
