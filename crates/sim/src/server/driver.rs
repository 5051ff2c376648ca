//! The task that moves the market: it steps the seeded generator of every symbol (or the
//! replay of a recording, or the mirror of a live venue), applies its actions to the
//! exchange, feeds back their fills, publishes mark prices at their interval, and advances the
//! venue's clock (depth cadences, funding, listen-key expiry).
//!
//! The synthetic market runs on its own clock, which stands still while the market is paused
//! and moves only by `POST /sim/v1/market/step` then; so pausing never makes it burst later.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kestrel_model::{Instrument, Price, Qty};

use super::{Shared, SimOptions, lock, now_ms};
use crate::exchange::{Exchange, ParticipantFill, VenueEvent};
use crate::market::generator::{BookTop, Generator, GeneratorConfig, TimedAction};
use crate::market::recording::{Pacing, RecordedMessage, RecordingReader, Replay, ReplayBook};

/// Simulated time the synthetic market runs before the venue opens, so the book is deep.
const WARM_UP_MS: u64 = 3_000;

type Recording = Replay<RecordingReader<Box<dyn std::io::BufRead + Send>>>;

/// What drives prices: the generator, a recording, or a live venue.
enum Source {
    Synthetic(Vec<(String, Generator)>),
    Replay {
        replay: Box<Recording>,
        books: BTreeMap<String, ReplayBook>,
        started_ms: u64,
    },
    Mirror(super::mirror::Mirror),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Synthetic(generators) => write!(f, "Synthetic({} symbols)", generators.len()),
            Self::Replay { books, .. } => write!(f, "Replay({} symbols)", books.len()),
            Self::Mirror(mirror) => mirror.fmt(f),
        }
    }
}

/// The market driver's state.
#[derive(Debug)]
pub struct Driver {
    source: Source,
    paused: bool,
    market_ns: u64,
    last_wall_ms: u64,
    step_ms: u64,
    mark_interval_ms: u64,
    next_mark_ms: u64,
    actions: Vec<TimedAction>,
    fills: Vec<ParticipantFill>,
    snapshots: super::snapshots::Snapshots,
}

impl Driver {
    /// A driver for the configured symbols: a generator per symbol seeded from `sim.seed`, or
    /// the replay of `options.replay`.
    ///
    /// # Errors
    /// A message naming what could not be set up.
    pub fn new(
        options: &SimOptions,
        instruments: &[(Instrument, Price)],
        now: u64,
    ) -> Result<Self, String> {
        let start_ns = now.saturating_mul(1_000_000);
        let source = match &options.replay {
            Some(path) => replay_source(path, options.replay_pace, instruments, now)?,
            None => Source::Synthetic(generators(instruments, options.config.seed, start_ns)?),
        };
        Ok(Self::new_with(source, options, now))
    }

    /// A driver that mirrors the live venue whose messages `feed` delivers.
    #[must_use]
    pub fn mirror(
        options: &SimOptions,
        feed: super::MirrorFeed,
        instruments: &[(Instrument, Price)],
        now: u64,
    ) -> Self {
        let mirror = super::mirror::Mirror::new(feed, instruments);
        Self::new_with(Source::Mirror(mirror), options, now)
    }

    fn new_with(source: Source, options: &SimOptions, now: u64) -> Self {
        let config = &options.config;
        Self {
            source,
            paused: false,
            market_ns: now.saturating_mul(1_000_000),
            last_wall_ms: now,
            step_ms: config.market_step_ms.max(1),
            mark_interval_ms: config.mark_price_interval_ms.max(100),
            next_mark_ms: now,
            actions: Vec::with_capacity(1024),
            fills: Vec::with_capacity(1024),
            snapshots: super::snapshots::Snapshots::default(),
        }
    }

    /// The mirror's state per symbol, when mirroring a live venue.
    #[must_use]
    pub fn mirror_status(&self) -> Option<serde_json::Value> {
        match &self.source {
            Source::Mirror(mirror) => Some(mirror.status()),
            _ => None,
        }
    }

    /// Pauses or resumes the market.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Whether the market is paused.
    #[must_use]
    pub const fn paused(&self) -> bool {
        self.paused
    }
}

fn generators(
    instruments: &[(Instrument, Price)],
    seed: u64,
    start_ns: u64,
) -> Result<Vec<(String, Generator)>, String> {
    instruments
        .iter()
        .enumerate()
        .map(|(index, (instrument, price))| {
            let config = GeneratorConfig::binance_usdm(&instrument.symbol)
                .unwrap_or_else(|| GeneratorConfig::for_instrument(instrument.clone(), *price));
            // Each symbol gets its own stream derived from the one seed.
            let symbol_seed = seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let generator =
                Generator::new(config, symbol_seed, start_ns).map_err(|e| e.to_string())?;
            Ok((instrument.symbol.clone(), generator))
        })
        .collect()
}

/// Messages released per market step when replaying as fast as clients read.
const FAST_REPLAY_BATCH: usize = 4096;

fn replay_source(
    path: &std::path::Path,
    pace: super::ReplayPace,
    instruments: &[(Instrument, Price)],
    now: u64,
) -> Result<Source, String> {
    let reader = RecordingReader::open(path).map_err(|e| format!("replay: {e}"))?;
    let pacing = match pace {
        super::ReplayPace::Original => Pacing::OriginalSpacing,
        super::ReplayPace::Fast => Pacing::AsFastAsPossible {
            batch: FAST_REPLAY_BATCH,
        },
    };
    let replay = Replay::new(reader, pacing);
    let books = instruments
        .iter()
        .map(|(i, _)| {
            (
                i.symbol.clone(),
                ReplayBook::new(Some(&i.symbol), Some(i.tick_size())),
            )
        })
        .collect();
    Ok(Source::Replay {
        replay: Box::new(replay),
        books,
        started_ms: now,
    })
}

/// Runs the synthetic market for [`WARM_UP_MS`] of simulated time before the venue opens.
pub fn warm_up(shared: &Shared) {
    let mut driver = lock(&shared.driver);
    if matches!(driver.source, Source::Synthetic(_)) {
        let now = now_ms();
        advance(shared, &mut driver, WARM_UP_MS, now);
    }
}

/// Steps the market every `market_step_ms` until shutdown.
pub async fn run(shared: Arc<Shared>) {
    let period = lock(&shared.driver).step_ms;
    let mut interval = tokio::time::interval(Duration::from_millis(period));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            _ = interval.tick() => tick(&shared),
            _ = super::stopped(&mut shutdown) => return,
        }
    }
}

fn tick(shared: &Shared) {
    let now = now_ms();
    let mut driver = lock(&shared.driver);
    let elapsed = now.saturating_sub(driver.last_wall_ms);
    driver.last_wall_ms = now;
    let by_ms = if driver.paused { 0 } else { elapsed };
    advance(shared, &mut driver, by_ms, now);
}

/// Advances a (paused or running) market by `ms` of simulated time; returns how many actions
/// it applied.
pub fn step_by(shared: &Shared, ms: u64) -> usize {
    let mut driver = lock(&shared.driver);
    advance(shared, &mut driver, ms, now_ms())
}

/// Moves the market by `by_ms` of its own time and the venue's clock to `now`.
fn advance(shared: &Shared, driver: &mut Driver, by_ms: u64, now: u64) -> usize {
    driver.market_ns = driver
        .market_ns
        .saturating_add(by_ms.saturating_mul(1_000_000));
    let publish_marks = now >= driver.next_mark_ms && !driver.paused;
    // A paused market moves only when stepped.
    let moves = by_ms > 0 || !driver.paused;
    if publish_marks {
        driver.next_mark_ms = now + driver.mark_interval_ms;
    }
    let Driver {
        source,
        market_ns,
        actions,
        fills,
        snapshots,
        ..
    } = driver;
    match source {
        Source::Synthetic(generators) => shared.with_exchange(|exchange, _| {
            let applied = step_generators(exchange, generators, *market_ns, actions, fills, now);
            if publish_marks {
                publish_generator_marks(exchange, generators, now);
            }
            exchange.tick(now);
            snapshots.publish(&shared.hub, exchange, now);
            applied
        }),
        Source::Replay {
            replay,
            books,
            started_ms,
        } => {
            let elapsed_ns = now.saturating_sub(*started_ms).saturating_mul(1_000_000);
            step_replay(shared, replay, books, elapsed_ns, now)
        }
        Source::Mirror(mirror) => mirror.step(shared, snapshots, moves, publish_marks, now),
    }
}

fn step_generators(
    exchange: &mut Exchange,
    generators: &mut [(String, Generator)],
    market_ns: u64,
    actions: &mut Vec<TimedAction>,
    fills: &mut Vec<ParticipantFill>,
    now: u64,
) -> usize {
    let mut applied = 0;
    for (symbol, generator) in generators.iter_mut() {
        let Ok(market) = exchange.market(symbol) else {
            continue;
        };
        let view = BookTop {
            best_bid: market.engine.best_bid(),
            best_ask: market.engine.best_ask(),
        };
        actions.clear();
        generator.step(market_ns, &view, actions);
        for timed in actions.iter() {
            exchange.apply_market_action(symbol, &timed.action, now);
        }
        applied += actions.len();
        fills.clear();
        exchange.drain_participant_fills(fills);
        for fill in fills.iter().filter(|f| &f.symbol == symbol) {
            if fill.qty > Qty::ZERO {
                generator.on_filled(fill.tag, fill.qty);
            }
            if fill.done {
                generator.on_gone(fill.tag);
            }
        }
    }
    applied
}

fn publish_generator_marks(exchange: &mut Exchange, generators: &[(String, Generator)], now: u64) {
    for (symbol, generator) in generators {
        let prices = generator.reference_prices();
        if let Err(error) = exchange.set_mark(
            symbol,
            prices.mark_price,
            prices.index_price,
            prices.funding_rate,
            now,
        ) {
            tracing::warn!(%symbol, %error, "mark price not applied");
        }
    }
}

/// Releases the recording's messages due by `elapsed_ns` on their own streams, verbatim, and
/// keeps each symbol's replay book (the REST snapshot) in step.
fn step_replay(
    shared: &Shared,
    replay: &mut Recording,
    books: &mut BTreeMap<String, ReplayBook>,
    elapsed_ns: u64,
    now: u64,
) -> usize {
    let mut due: Vec<RecordedMessage> = Vec::new();
    let released = replay.poll(elapsed_ns, &mut due);
    for message in &due {
        // Each replay book takes only its own symbol's messages (and the symbol-less REST
        // snapshot lines of a single-symbol recording).
        for book in books.values_mut() {
            book.apply(message);
        }
        if let Some(stream) = &message.stream {
            shared.hub.send_market_with(stream, || message.raw.clone());
        }
    }
    if released > 0 {
        let snapshots: Vec<(String, _)> = books
            .iter()
            .filter_map(|(symbol, book)| book.depth(1000).map(|d| (symbol.clone(), d)))
            .collect();
        let mut events: Vec<VenueEvent> = Vec::new();
        {
            let mut exchange = lock(&shared.exchange);
            for (symbol, depth) in snapshots {
                exchange.set_replayed_depth(&symbol, depth.last_update_id, depth.bids, depth.asks);
            }
            exchange.tick(now);
            exchange.drain_events(&mut events);
        }
        shared.publish(&events);
    }
    released
}
