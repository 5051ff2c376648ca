//! [`RingPump`]: follows a shared-memory ring and republishes its messages on NATS.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use kestrel_model::telemetry::names;
use metrics::Counter;
use tokio::sync::watch;
use tokio::time::Instant;

use super::UNKNOWN_SYMBOL;
use super::publisher::NatsPublisher;
use crate::codec::{self, DecodeError};
use crate::ring::RingReader;
use crate::symbol::SymbolError;
use crate::topic::Topic;

/// How a [`RingPump`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PumpConfig {
    /// How long to sleep when the ring is empty (the added latency when idle; the pump uses no
    /// CPU while asleep).
    pub idle_sleep: Duration,
    /// Most messages forwarded before yielding to the runtime (and checking for shutdown).
    pub batch: usize,
    /// How often to look for a replacement ring once the writer has closed it.
    pub reopen_interval: Duration,
    /// How long the final flush may wait for the server at shutdown.
    pub flush_timeout: Duration,
}

impl Default for PumpConfig {
    fn default() -> Self {
        Self {
            idle_sleep: Duration::from_millis(1),
            batch: 256,
            reopen_interval: Duration::from_millis(100),
            flush_timeout: Duration::from_secs(5),
        }
    }
}

/// A pump's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PumpStats {
    /// Messages read from the ring.
    pub read: u64,
    /// Messages handed to the NATS client.
    pub published: u64,
    /// Messages the NATS client could not take (server away, message over `max_payload`).
    pub failed: u64,
    /// Ring messages that were not codec messages: skipped, never published.
    pub malformed: u64,
    /// Messages lost because the writer lapped the pump (never read).
    pub lapped: u64,
    /// Times the pump moved to a new ring after its writer replaced the file.
    pub reopened: u64,
    /// Whether the final flush at shutdown was confirmed (false while running).
    pub flushed: bool,
}

/// The live counters, shared between a pump and its monitors.
#[derive(Debug, Default)]
struct Counters {
    read: AtomicU64,
    published: AtomicU64,
    failed: AtomicU64,
    malformed: AtomicU64,
    lapped: AtomicU64,
    reopened: AtomicU64,
    flushed: AtomicBool,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn snapshot(&self) -> PumpStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        PumpStats {
            read: load(&self.read),
            published: load(&self.published),
            failed: load(&self.failed),
            malformed: load(&self.malformed),
            lapped: load(&self.lapped),
            reopened: load(&self.reopened),
            flushed: self.flushed.load(Ordering::Relaxed),
        }
    }
}

/// A handle that reads a running pump's counters (for `/status`, tests, logs).
#[derive(Debug, Clone)]
pub struct PumpMonitor {
    counters: Arc<Counters>,
}

impl PumpMonitor {
    /// The counters now.
    #[must_use]
    pub fn stats(&self) -> PumpStats {
        self.counters.snapshot()
    }
}

/// Follows a [`RingReader`] and publishes every message on NATS with a [`NatsPublisher`], on
/// the subject named by the message's topic ([`Topic::for_event`]), as the same codec bytes.
///
/// Polling: the pump forwards what the ring holds in batches of [`PumpConfig::batch`]
/// (yielding to the runtime between batches), and when the ring is empty sleeps
/// [`PumpConfig::idle_sleep`] (1 ms) — it never spins a core, at the cost of up to about a
/// millisecond of added latency for the first message after a quiet spell. It runs as an
/// ordinary task on the caller's tokio runtime.
///
/// It never stops on its own: publish failures, lapping and malformed messages are counted
/// ([`PumpStats`], `messages_dropped_total{reason="nats_publish"|"nats_lapped"|"nats_malformed"}`)
/// and logged once per streak. When the writer closes the ring the pump drains it and then
/// checks every [`PumpConfig::reopen_interval`] whether a new writer has replaced the file,
/// following the new ring from its oldest message if so.
pub struct RingPump {
    reader: RingReader,
    /// The ring's path, for logs.
    ring: String,
    publisher: NatsPublisher,
    config: PumpConfig,
    counters: Arc<Counters>,
    lapped_metric: Counter,
    malformed_metric: Counter,
    /// Messages lost to lapping since the pump last caught up, while behind.
    lap_streak: Option<u64>,
    /// Malformed messages since the last good one, while they keep coming.
    malformed_streak: Option<u64>,
}

/// Whether a drain emptied the ring or stopped at its batch limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drained {
    Empty,
    Full,
}

/// Why a ring message is not forwarded.
#[derive(Debug, thiserror::Error)]
pub(super) enum Malformed {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Symbol(#[from] SymbolError),
}

impl RingPump {
    /// A pump from `reader` (at its current position) to `publisher`, with the default
    /// [`PumpConfig`].
    #[must_use]
    pub fn new(reader: RingReader, publisher: NatsPublisher) -> Self {
        let dropped = |reason: &'static str| {
            metrics::counter!(
                names::MESSAGES_DROPPED_TOTAL,
                "symbol" => UNKNOWN_SYMBOL,
                "reason" => reason
            )
        };
        Self {
            ring: reader.path().display().to_string(),
            reader,
            publisher,
            config: PumpConfig::default(),
            counters: Arc::new(Counters::default()),
            lapped_metric: dropped("nats_lapped"),
            malformed_metric: dropped("nats_malformed"),
            lap_streak: None,
            malformed_streak: None,
        }
    }

    /// Replaces the polling configuration.
    #[must_use]
    pub const fn with_config(mut self, config: PumpConfig) -> Self {
        self.config = config;
        self
    }

    /// A handle to watch the counters while the pump runs.
    #[must_use]
    pub fn monitor(&self) -> PumpMonitor {
        PumpMonitor {
            counters: Arc::clone(&self.counters),
        }
    }

    /// Forwards messages until `shutdown` holds `true` (or its sender is dropped); then
    /// forwards what the writer had published by that moment, flushes the client and returns
    /// the counters.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> PumpStats {
        let mut next_reopen_check = Instant::now();
        loop {
            if *shutdown.borrow_and_update() {
                break;
            }
            // Read before draining: a writer publishes everything before it marks the ring
            // closed, so a ring seen closed and then drained empty is finished.
            let closed = self.reader.writer_closed();
            if self.drain(self.config.batch).await == Drained::Full {
                tokio::task::yield_now().await;
                continue;
            }
            self.caught_up();
            if closed && Instant::now() >= next_reopen_check {
                self.reopen_if_replaced();
                next_reopen_check = Instant::now() + self.config.reopen_interval;
            }
            tokio::select! {
                biased;
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                () = tokio::time::sleep(self.config.idle_sleep) => {}
            }
        }
        self.finish().await
    }

    /// Forwards up to `limit` messages.
    async fn drain(&mut self, limit: usize) -> Drained {
        for _ in 0..limit {
            let Some(message) = self.reader.try_next() else {
                return Drained::Empty;
            };
            let lost = message.lost_before;
            if lost > 0 {
                // `lost_before` counts messages never read, before this one.
                Counters::add(&self.counters.lapped, lost);
                self.lapped_metric.increment(lost);
                note_lapped(&mut self.lap_streak, &self.ring, lost);
            }
            Counters::add(&self.counters.read, 1);
            let seq = message.seq;
            match topic_of(message.bytes) {
                Ok(topic) => {
                    if let Some(skipped) = self.malformed_streak.take() {
                        tracing::info!(ring = %self.ring, skipped, "NATS pump: ring messages decode again");
                    }
                    // Failures are counted, metered and logged (once per streak) by the publisher.
                    let counter = match self.publisher.publish(topic, message.bytes).await {
                        Ok(()) => &self.counters.published,
                        Err(_) => &self.counters.failed,
                    };
                    Counters::add(counter, 1);
                }
                Err(error) => self.skip_malformed(seq, &error),
            }
        }
        Drained::Full
    }

    fn skip_malformed(&mut self, seq: u64, error: &Malformed) {
        Counters::add(&self.counters.malformed, 1);
        self.malformed_metric.increment(1);
        match &mut self.malformed_streak {
            Some(skipped) => *skipped += 1,
            None => {
                tracing::warn!(
                    ring = %self.ring,
                    seq,
                    %error,
                    "NATS pump: ring message is not a codec message; skipping it (and counting \
                     any that follow)"
                );
                self.malformed_streak = Some(1);
            }
        }
    }

    /// The pump has read everything published: a lapping streak ends.
    fn caught_up(&mut self) {
        if let Some(lost) = self.lap_streak.take() {
            tracing::info!(
                ring = %self.ring,
                lost,
                "NATS pump caught up with the ring"
            );
        }
    }

    /// Moves to a new ring at the same path if a new writer has replaced the closed one.
    fn reopen_if_replaced(&mut self) {
        let path = self.reader.path().to_path_buf();
        match RingReader::open(&path) {
            Ok(mut fresh) if !fresh.writer_closed() => {
                fresh.seek_oldest();
                // Whatever the new writer published before the oldest slot still held.
                let overwritten = fresh.next_seq();
                if overwritten > 0 {
                    Counters::add(&self.counters.lapped, overwritten);
                    self.lapped_metric.increment(overwritten);
                }
                tracing::info!(
                    ring = %path.display(),
                    overwritten,
                    "NATS pump: the ring was replaced by a new writer; following it"
                );
                self.reader = fresh;
                self.ring = path.display().to_string();
                Counters::add(&self.counters.reopened, 1);
            }
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(ring = %path.display(), %error, "NATS pump: ring not reopened");
            }
        }
    }

    /// Forwards what was published before shutdown, then flushes.
    async fn finish(mut self) -> PumpStats {
        // Bounded by the sequence at shutdown, so a busy writer cannot hold the pump.
        let end = self.reader.write_seq();
        while self.reader.next_seq() < end {
            if self.drain(self.config.batch).await == Drained::Empty {
                break;
            }
        }
        match self.publisher.flush(self.config.flush_timeout).await {
            Ok(()) => self.counters.flushed.store(true, Ordering::Relaxed),
            Err(error) => tracing::warn!(%error, "NATS pump: final flush not confirmed"),
        }
        self.counters.snapshot()
    }
}

/// The topic of a ring message, checking that it is a whole, valid codec message.
pub(super) fn topic_of(bytes: &[u8]) -> Result<Topic, Malformed> {
    let event = codec::decode(bytes)?;
    Ok(Topic::for_market_data(event.kind(), event.symbol())?)
}

fn note_lapped(streak: &mut Option<u64>, ring: &str, lost: u64) {
    match streak {
        Some(total) => *total += lost,
        None => {
            tracing::warn!(
                ring,
                lost,
                "NATS pump fell a whole ring behind; messages were lost (counted until it \
                 catches up)"
            );
            *streak = Some(lost);
        }
    }
}

/// Runs a [`RingPump`] with the default [`PumpConfig`] until `shutdown` holds `true`; see
/// [`RingPump::run`].
pub async fn pump_ring(
    reader: RingReader,
    publisher: NatsPublisher,
    shutdown: watch::Receiver<bool>,
) -> PumpStats {
    RingPump::new(reader, publisher).run(shutdown).await
}

impl std::fmt::Debug for RingPump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingPump")
            .field("reader", &self.reader)
            .field("publisher", &self.publisher)
            .field("config", &self.config)
            .field("stats", &self.counters.snapshot())
            .finish_non_exhaustive()
    }
}
