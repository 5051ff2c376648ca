//! The pipeline on the reading task: every frame is parsed by the venue adapter, depth diffs go
//! to their symbol's [`SymbolSync`], trades to its [`TradeFlow`], and malformed frames are
//! counted by kind (`errors_total{symbol,type}`) and skipped. When a book needs a snapshot
//! (start, gap, reconnect, finer tick) the symbol is handed to the snapshot task, which fetches
//! it with [`SnapshotClient`] and applies it; the gap is logged as a warning (seed's error
//! table: "sequence gap → log warning, request new snapshot, resume processing").
//!
//! Books are shared with the HTTP endpoints behind one mutex per symbol; the reading task is
//! its only frequent user, so the lock is uncontended on the hot path.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use kestrel_bus::ring::RingWriter;
use kestrel_model::book::Flavor;
use kestrel_model::event::{DepthUpdate, MarketEvent, ReceiveTime as EventTime, TradeEvent};
use kestrel_model::telemetry::names;
use kestrel_model::{Price, Trade};
use kestrel_venue::binance::market::{MarketEvent as VenueEvent, MarketParser, ReceiveTime};
use metrics::{Counter, Histogram};
use tokio::sync::mpsc;

use crate::connection::{FrameHandler, LinkState, Received};
use crate::flow::{FlowConfig, TradeFlow};
use crate::health::{FeedState, Health};
use crate::snapshot::SnapshotClient;
use crate::sync::{DiffOutcome, SymbolSync, SyncAction, SyncConfig, SyncState};

/// Locks a mutex, recovering from poisoning (a panicked holder leaves consistent data here:
/// each sync operation is all-or-nothing).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One symbol's shared state.
#[derive(Debug)]
pub struct SymbolFeed {
    /// The book and its synchronisation.
    pub sync: Mutex<SymbolSync>,
    /// Trade flow windows.
    pub flow: Mutex<TradeFlow>,
    snapshot_pending: AtomicBool,
    metrics: FeedMetrics,
}

/// Metric handles registered once per symbol, so the hot path does not build keys.
#[derive(Debug)]
struct FeedMetrics {
    depth_received: Counter,
    trades_received: Counter,
    tickers_received: Counter,
    book_updates: Counter,
    trades_processed: Counter,
    latency_us: Histogram,
}

impl FeedMetrics {
    fn new(symbol: &str) -> Self {
        let s = symbol.to_owned();
        Self {
            depth_received: metrics::counter!(names::MESSAGES_RECEIVED_TOTAL, "symbol" => s.clone(), "type" => "depth"),
            trades_received: metrics::counter!(names::MESSAGES_RECEIVED_TOTAL, "symbol" => s.clone(), "type" => "trade"),
            tickers_received: metrics::counter!(names::MESSAGES_RECEIVED_TOTAL, "symbol" => s.clone(), "type" => "book_ticker"),
            book_updates: metrics::counter!(names::ORDER_BOOK_UPDATES_TOTAL, "symbol" => s.clone()),
            trades_processed: metrics::counter!(names::TRADES_PROCESSED_TOTAL, "symbol" => s.clone()),
            latency_us: metrics::histogram!(names::PROCESSING_LATENCY_MICROSECONDS, "symbol" => s),
        }
    }
}

/// Every symbol's feed, keyed by the venue symbol, plus the pipeline's health.
#[derive(Debug)]
pub struct Feeds {
    symbols: BTreeMap<String, Arc<SymbolFeed>>,
    /// What `/health` reports.
    pub health: Mutex<Health>,
    started: Instant,
}

impl Feeds {
    /// Feeds for `symbols` (upper case) with a tick hint each (the instrument's tick).
    ///
    /// # Errors
    /// When a tick hint is not positive.
    pub fn new(symbols: &[(String, Price)]) -> Result<Self, kestrel_model::book::BookError> {
        let mut feeds = BTreeMap::new();
        for (symbol, tick) in symbols {
            let sync = SymbolSync::new(SyncConfig::new(*tick, Flavor::Futures))?;
            let flow = TradeFlow::new(&FlowConfig::default())
                .map_err(|_| kestrel_model::book::BookError::InvalidTick { tick: *tick })?;
            let feed = SymbolFeed {
                sync: Mutex::new(sync),
                flow: Mutex::new(flow),
                snapshot_pending: AtomicBool::new(false),
                metrics: FeedMetrics::new(symbol),
            };
            feeds.insert(symbol.clone(), Arc::new(feed));
        }
        let names: Vec<String> = feeds.keys().cloned().collect();
        Ok(Self {
            symbols: feeds,
            health: Mutex::new(Health::new(&names)),
            started: Instant::now(),
        })
    }

    /// One symbol's feed.
    #[must_use]
    pub fn get(&self, symbol: &str) -> Option<&Arc<SymbolFeed>> {
        self.symbols.get(symbol)
    }

    /// The symbols, in order.
    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.symbols.keys().map(String::as_str)
    }

    /// Seconds since the pipeline started.
    #[must_use]
    pub fn uptime_seconds(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// The frame handler that runs the pipeline.
#[derive(Debug)]
pub struct Pipeline {
    feeds: Arc<Feeds>,
    parser: MarketParser,
    snapshots: mpsc::UnboundedSender<String>,
    ring: Option<RingWriter>,
    /// The trade being processed, reused so a trade costs no allocation once the symbol's
    /// length has been seen.
    trade: Trade,
}

impl Pipeline {
    /// A pipeline over `feeds` that asks `snapshots` for snapshots by symbol.
    #[must_use]
    pub fn new(feeds: Arc<Feeds>, snapshots: mpsc::UnboundedSender<String>) -> Self {
        Self {
            feeds,
            parser: MarketParser::new(),
            snapshots,
            ring: None,
            trade: Trade {
                symbol: String::with_capacity(32),
                trade_id: 0,
                price: Price::ZERO,
                quantity: kestrel_model::Qty::ZERO,
                timestamp_ms: 0,
                buyer_is_maker: false,
            },
        }
    }

    /// Also publishes every applied depth update and every trade on the shared-memory `ring`
    /// (seed FR-MD-005), for other processes on the host.
    #[must_use]
    pub fn with_ring(mut self, ring: RingWriter) -> Self {
        self.ring = Some(ring);
        self
    }

    /// Applies the REST depth snapshot `body` to `symbol`'s book at once, on the caller's
    /// thread, exactly as the snapshot task applies a fetched one (buffered diffs are replayed
    /// on it). For replays and benchmarks, where the snapshot is part of the input rather than
    /// fetched. Returns the book's state afterwards; `None` for a symbol the pipeline does not
    /// follow. A malformed body is logged and counted like a fetched one.
    pub fn apply_snapshot(&mut self, symbol: &str, body: &str) -> Option<SyncState> {
        let feed = self.feeds.get(symbol).cloned()?;
        apply_snapshot(&self.feeds, &feed, symbol, &mut self.parser, body);
        Some(settle_snapshot(&self.feeds, &feed, symbol))
    }
}

/// Asks the snapshot task for `symbol`'s snapshot unless a request is already pending.
fn request_snapshot(snapshots: &mpsc::UnboundedSender<String>, symbol: &str, feed: &SymbolFeed) {
    if !feed.snapshot_pending.swap(true, Ordering::AcqRel) {
        let _ = snapshots.send(symbol.to_owned());
    }
}

/// Counts a malformed frame (`errors_total{symbol,type}`) and notes it for `/health`.
fn count_error(feeds: &Feeds, symbol: &str, kind: &'static str) {
    metrics::counter!(names::ERRORS_TOTAL, "symbol" => symbol.to_owned(), "type" => kind)
        .increment(1);
    lock(&feeds.health).error(feeds.uptime_seconds());
}

impl FrameHandler for Pipeline {
    fn on_frame(&mut self, frame: &str, received: Received) {
        let recv = ReceiveTime::new(received.mono_ns, received.wall_ns);
        // Borrow the fields apart: the parsed event borrows the parser while the rest is used.
        let Self {
            feeds,
            parser,
            snapshots,
            ring,
            trade: scratch,
        } = self;
        let parsed = match parser.parse(frame, recv) {
            Ok(parsed) => parsed,
            Err(error) => {
                tracing::debug!(%error, "malformed market frame skipped");
                count_error(feeds, "", error.kind());
                return;
            }
        };
        match parsed.event {
            VenueEvent::Depth(update) => {
                let Some(feed) = feeds.get(update.symbol) else {
                    return;
                };
                on_depth(feed, snapshots, ring.as_mut(), &update, recv);
                // Receipt to book and ring: the one clock read of the hot path, for depth only.
                #[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
                // a latency statistic
                feed.metrics
                    .latency_us
                    .record(received.at.elapsed().as_nanos() as f64 / 1000.0);
            }
            VenueEvent::Trade(trade) => {
                copy_trade(
                    scratch,
                    trade.symbol,
                    trade.trade_id,
                    trade.price,
                    trade.qty,
                );
                (scratch.timestamp_ms, scratch.buyer_is_maker) =
                    (trade.times.transaction_ms, trade.buyer_is_maker);
                record_trade(feeds, scratch);
                if let Some(ring) = ring.as_mut() {
                    let received = event_time(recv);
                    let event = MarketEvent::Trade(TradeEvent::from_trade(
                        scratch,
                        trade.times.event_ms,
                        received,
                    ));
                    publish(ring, &event, trade.symbol);
                }
            }
            VenueEvent::AggTrade(trade) => {
                copy_trade(
                    scratch,
                    trade.symbol,
                    trade.agg_trade_id,
                    trade.price,
                    trade.qty,
                );
                (scratch.timestamp_ms, scratch.buyer_is_maker) =
                    (trade.times.transaction_ms, trade.buyer_is_maker);
                record_trade(feeds, scratch);
            }
            VenueEvent::BookTicker(ticker) => {
                if let Some(feed) = feeds.get(ticker.symbol) {
                    feed.metrics.tickers_received.increment(1);
                }
            }
            _ => {}
        }
    }

    fn on_state(&mut self, state: &LinkState) {
        let feeds = &self.feeds;
        match state {
            LinkState::Connected => {
                // A new connection breaks every diff chain: resynchronise every book.
                for (symbol, feed) in &feeds.symbols {
                    lock(&feed.sync).reset();
                    request_snapshot(&self.snapshots, symbol, feed);
                }
                lock(&feeds.health).set_all(FeedState::Syncing);
            }
            LinkState::Connecting(_) | LinkState::Disconnected(_) | LinkState::Down(_) => {
                lock(&feeds.health).set_all(FeedState::Disconnected);
            }
        }
    }
}

/// Applies a depth diff to its book, publishes it when applied, and asks for a snapshot when
/// the book needs one.
fn on_depth(
    feed: &SymbolFeed,
    snapshots: &mpsc::UnboundedSender<String>,
    ring: Option<&mut RingWriter>,
    update: &kestrel_venue::binance::market::DepthUpdate<'_>,
    recv: ReceiveTime,
) {
    feed.metrics.depth_received.increment(1);
    let outcome = lock(&feed.sync).on_diff(&update.diff);
    feed.metrics.book_updates.increment(1);
    if matches!(outcome, DiffOutcome::Applied)
        && let Some(ring) = ring
    {
        let event = MarketEvent::Depth(depth_event(update, recv));
        publish(ring, &event, update.symbol);
    }
    if outcome.action() == SyncAction::NeedSnapshot {
        request_snapshot(snapshots, update.symbol, feed);
    }
}

/// Fills the reused trade's identity and size (the symbol's buffer keeps its capacity).
fn copy_trade(scratch: &mut Trade, symbol: &str, id: u64, price: Price, qty: kestrel_model::Qty) {
    scratch.symbol.clear();
    scratch.symbol.push_str(symbol);
    (scratch.trade_id, scratch.price, scratch.quantity) = (id, price, qty);
}

/// The bus event of an applied depth update.
fn depth_event<'a>(
    update: &kestrel_venue::binance::market::DepthUpdate<'a>,
    recv: ReceiveTime,
) -> DepthUpdate<'a> {
    DepthUpdate {
        symbol: update.symbol,
        first_update_id: update.diff.first_update_id,
        final_update_id: update.diff.final_update_id,
        prev_final_update_id: update.diff.prev_final_update_id,
        event_time_ms: update.times.event_ms,
        transaction_time_ms: update.times.transaction_ms,
        received: event_time(recv),
        bids: update.diff.bids,
        asks: update.diff.asks,
    }
}

const fn event_time(recv: ReceiveTime) -> EventTime {
    EventTime {
        monotonic_ns: recv.mono_ns,
        wall_ns: recv.wall_ns,
    }
}

/// Writes one event on the ring; a failure (an update too large for a slot) is counted, and
/// only the ring's readers miss it.
fn publish(ring: &mut RingWriter, event: &MarketEvent<'_>, symbol: &str) {
    if let Err(error) = ring.publish(event) {
        tracing::debug!(symbol, %error, "event not published on the ring");
        metrics::counter!(names::MESSAGES_DROPPED_TOTAL, "symbol" => symbol.to_owned(), "reason" => "ring").increment(1);
    }
}

fn record_trade(feeds: &Feeds, trade: &Trade) {
    let symbol = trade.symbol.as_str();
    let Some(feed) = feeds.get(symbol) else {
        return;
    };
    feed.metrics.trades_received.increment(1);
    match lock(&feed.flow).on_trade(trade) {
        Ok(()) => feed.metrics.trades_processed.increment(1),
        Err(error) => tracing::debug!(symbol, %error, "trade skipped"),
    }
}

/// Fetches and applies the snapshots the pipeline asks for, until the channel closes.
pub async fn run_snapshots(
    feeds: Arc<Feeds>,
    client: SnapshotClient,
    mut requests: mpsc::UnboundedReceiver<String>,
) {
    let mut parser = MarketParser::new();
    while let Some(symbol) = requests.recv().await {
        let Some(feed) = feeds.get(&symbol).cloned() else {
            continue;
        };
        let body = match client.fetch(&symbol).await {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%symbol, %error, "depth snapshot unavailable");
                feed.snapshot_pending.store(false, Ordering::Release);
                continue;
            }
        };
        apply_snapshot(&feeds, &feed, &symbol, &mut parser, &body);
        settle_snapshot(&feeds, &feed, &symbol);
    }
}

/// After a snapshot was applied: a new request may be made, and a synced book is reported
/// connected. Returns the book's state.
fn settle_snapshot(feeds: &Feeds, feed: &SymbolFeed, symbol: &str) -> SyncState {
    feed.snapshot_pending.store(false, Ordering::Release);
    let state = lock(&feed.sync).state();
    if state == SyncState::Synced {
        lock(&feeds.health).set(symbol, FeedState::Connected);
    }
    state
}

fn apply_snapshot(
    feeds: &Feeds,
    feed: &SymbolFeed,
    symbol: &str,
    parser: &mut MarketParser,
    body: &str,
) {
    match parser.parse_depth_snapshot(body) {
        Ok(snapshot) => {
            let outcome =
                lock(&feed.sync).on_snapshot(snapshot.last_update_id, snapshot.bids, snapshot.asks);
            tracing::debug!(symbol, ?outcome, "snapshot applied");
        }
        Err(error) => {
            tracing::warn!(symbol, %error, "malformed depth snapshot");
            lock(&feeds.health).error(feeds.uptime_seconds());
        }
    }
}
