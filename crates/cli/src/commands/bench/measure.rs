//! The measurement of `kestrel bench marketdata`: the workload through the real pipeline
//! (parse → book → publish on a shared-memory ring, [`Pipeline::on_frame`]) and through the
//! parse-only floor ([`floor::parse`]: each message deserialised into its struct and nothing
//! more), in the same run.
//!
//! - Throughput: untimed passes over the whole workload (one `Instant` pair around the loop,
//!   nothing per message), the best of `repeat` for each path, after one warm-up pass of each.
//! - Latency: one more pass of each path with an `Instant` pair around every message, recorded
//!   in HDR histograms per message kind and overall. The figures include the two clock reads
//!   (some 20–40 ns on Linux), for the pipeline and the floor alike.
//!
//! Every pipeline pass starts from fresh books and a fresh ring, so each replays the same
//! sync: diffs buffered before the snapshot, the snapshot applied (synchronously, with
//! [`Pipeline::apply_snapshot`]), then the live chain. The ring has `kestrel md`'s geometry and
//! every slot is written once before the pass, as a long-running writer's have been, so no
//! pass pays the first lap's page faults. The caller installs the metrics recorder `kestrel md`
//! uses, so the pipeline's counters and histogram cost what they cost in service.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use kestrel_bus::ring::{RingConfig, RingReader, RingWriter};
use kestrel_marketdata::connection::FrameHandler;
use kestrel_marketdata::pipeline::{Feeds, Pipeline, lock};
use kestrel_marketdata::sync::SyncState;
use kestrel_model::book::BookSide;
use kestrel_model::recording::MessageKind;
use kestrel_venue::binance::JsonLib;
use kestrel_venue::binance::market::floor;
use tokio::sync::mpsc;

use super::workload::{Message, Workload};

/// Ring geometry of `kestrel md`: `market_data.ring_buffer_size` slots of 16 KiB.
const RING: RingConfig = RingConfig {
    slot_count: 8192,
    slot_size: 16 * 1024,
};
/// The longest latency the histograms hold (longer ones are clamped to it): 10 s.
const MAX_LATENCY_NS: u64 = 10_000_000_000;

/// Latencies in ns, overall and by message kind.
#[derive(Debug, Clone)]
pub struct Latencies {
    /// Every message.
    pub overall: Histogram<u64>,
    /// By kind, indexed as [`MessageKind::ALL`].
    pub by_kind: Vec<Histogram<u64>>,
}

impl Latencies {
    fn new() -> Result<Self> {
        let histogram = || Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3);
        let by_kind = MessageKind::ALL
            .iter()
            .map(|_| histogram())
            .collect::<Result<_, _>>()
            .context("cannot build the latency histograms")?;
        Ok(Self {
            overall: histogram().context("cannot build the latency histograms")?,
            by_kind,
        })
    }

    fn record(&mut self, kind: MessageKind, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.overall.saturating_record(ns);
        if let Some(histogram) = self.by_kind.get_mut(kind as usize) {
            histogram.saturating_record(ns);
        }
    }

    /// The histogram of `kind`.
    #[must_use]
    pub fn of(&self, kind: MessageKind) -> Option<&Histogram<u64>> {
        self.by_kind.get(kind as usize)
    }
}

/// One path's figures.
#[derive(Debug, Clone)]
pub struct PathResult {
    /// The fastest untimed pass over the whole workload.
    pub best_pass: Duration,
    /// Per-message latencies of the timed pass.
    pub latencies: Latencies,
}

/// One symbol's book after the timed pipeline pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookResult {
    /// The symbol.
    pub symbol: String,
    /// Whether it ended synced.
    pub synced: bool,
    /// The update id it reflects.
    pub last_update_id: Option<u64>,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Diffs applied.
    pub applied: u64,
    /// Diffs dropped as stale.
    pub stale: u64,
    /// Gaps in the `pu` chain.
    pub gaps: u64,
    /// Bid and ask levels held.
    pub levels: (usize, usize),
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The real pipeline.
    pub pipeline: PathResult,
    /// The parse-only floor.
    pub floor: PathResult,
    /// The books after the timed pipeline pass.
    pub books: Vec<BookResult>,
    /// Events the timed pipeline pass published on the ring.
    pub ring_published: u64,
    /// The JSON library both paths used.
    pub json: JsonLib,
}

/// Runs the workload through both paths: a warm-up pass each, `repeat` untimed passes each
/// (alternating), then one timed pass each.
///
/// # Errors
/// When the ring or the books cannot be set up.
pub fn measure(workload: &Workload, repeat: u32) -> Result<Measured> {
    let ring_dir = ring_dir()?;
    let mut rings = (0u32..).map(|n| ring_dir.path().join(format!("ring-{n}")));
    let mut next_ring = || rings.next().unwrap_or_default();
    let json = JsonLib::default();
    throughput_pass(workload, &next_ring())?;
    floor_pass(workload, json);
    let (mut pipeline_best, mut floor_best) = (Duration::MAX, Duration::MAX);
    for _ in 0..repeat.max(1) {
        pipeline_best = pipeline_best.min(throughput_pass(workload, &next_ring())?);
        floor_best = floor_best.min(floor_pass(workload, json));
    }
    let mut pipeline_latencies = Latencies::new()?;
    let (books, ring_published) =
        timed_pipeline_pass(workload, &next_ring(), &mut pipeline_latencies)?;
    let mut floor_latencies = Latencies::new()?;
    timed_floor_pass(workload, json, &mut floor_latencies);
    Ok(Measured {
        pipeline: PathResult {
            best_pass: pipeline_best,
            latencies: pipeline_latencies,
        },
        floor: PathResult {
            best_pass: floor_best,
            latencies: floor_latencies,
        },
        books,
        ring_published,
        json,
    })
}

/// A directory for the rings: in `/dev/shm` where it exists (where `kestrel md` puts its
/// ring), else the system's temporary directory. Removed when dropped.
fn ring_dir() -> Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    let builder = tempfile::Builder::new()
        .prefix("kestrel-bench-")
        .tempdir_in(shm);
    builder
        .or_else(|_| tempfile::Builder::new().prefix("kestrel-bench-").tempdir())
        .context("cannot create a temporary directory for the ring")
}

/// A fresh pipeline over the workload's symbols: fresh books, and a fresh ring at `path`
/// whose every slot has been written once (as a long-running writer's has), so no pass pays
/// the first lap's page faults.
struct Fresh {
    pipeline: Pipeline,
    feeds: Arc<Feeds>,
    /// Kept so snapshot requests are accepted (and ignored: the workload's own snapshots are
    /// applied in their place).
    _requests: mpsc::UnboundedReceiver<String>,
    path: PathBuf,
    /// Messages written to warm the ring before the pass.
    warm_up_writes: u64,
}

impl Fresh {
    fn new(workload: &Workload, path: &Path) -> Result<Self> {
        let feeds = Arc::new(Feeds::new(&workload.symbols).context("cannot build the books")?);
        let mut ring = RingWriter::create(path, RING)
            .with_context(|| format!("cannot create the ring at {}", path.display()))?;
        let filler = vec![0u8; ring.max_message_len()];
        for _ in 0..ring.slot_count() {
            ring.write(&filler)
                .with_context(|| format!("cannot write the ring at {}", path.display()))?;
        }
        let warm_up_writes = ring.next_seq();
        let (requests, pending) = mpsc::unbounded_channel();
        let pipeline = Pipeline::new(Arc::clone(&feeds), requests).with_ring(ring);
        Ok(Self {
            pipeline,
            feeds,
            _requests: pending,
            path: path.to_path_buf(),
            warm_up_writes,
        })
    }

    /// Events the pass published on the ring.
    fn published(&self) -> u64 {
        let written = RingReader::open(&self.path).map_or(0, |ring| ring.write_seq());
        written.saturating_sub(self.warm_up_writes)
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        // The rings are large (128 MiB each): free each as soon as its pass is over.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One message through the real path.
#[inline]
fn feed(pipeline: &mut Pipeline, message: &Message) {
    match (message.kind, &message.symbol) {
        (MessageKind::Snapshot, Some(symbol)) => {
            black_box(pipeline.apply_snapshot(symbol, &message.text));
        }
        _ => pipeline.on_frame(&message.text, message.received),
    }
}

/// One message through the floor (skipped when the floor has no struct for it).
#[inline]
fn floor_one(json: JsonLib, message: &Message) {
    if let Some(plan) = message.floor {
        let _ = black_box(floor::parse(json, plan, black_box(&message.text)));
    }
}

fn throughput_pass(workload: &Workload, ring_path: &Path) -> Result<Duration> {
    let mut fresh = Fresh::new(workload, ring_path)?;
    let started = Instant::now();
    for message in &workload.messages {
        feed(&mut fresh.pipeline, message);
    }
    Ok(started.elapsed())
}

fn floor_pass(workload: &Workload, json: JsonLib) -> Duration {
    let started = Instant::now();
    for message in &workload.messages {
        floor_one(json, message);
    }
    started.elapsed()
}

/// The timed pass; returns the books after it and the events it published.
fn timed_pipeline_pass(
    workload: &Workload,
    ring_path: &Path,
    latencies: &mut Latencies,
) -> Result<(Vec<BookResult>, u64)> {
    let mut fresh = Fresh::new(workload, ring_path)?;
    for message in &workload.messages {
        let started = Instant::now();
        feed(&mut fresh.pipeline, message);
        latencies.record(message.kind, started.elapsed());
    }
    Ok((books(&fresh.feeds), fresh.published()))
}

fn timed_floor_pass(workload: &Workload, json: JsonLib, latencies: &mut Latencies) {
    for message in &workload.messages {
        let started = Instant::now();
        floor_one(json, message);
        latencies.record(message.kind, started.elapsed());
    }
}

/// Every book's state.
fn books(feeds: &Feeds) -> Vec<BookResult> {
    feeds
        .symbols()
        .filter_map(|symbol| {
            let feed = feeds.get(symbol)?;
            let sync = lock(&feed.sync);
            let counters = sync.counters();
            Some(BookResult {
                symbol: symbol.to_owned(),
                synced: sync.state() == SyncState::Synced,
                last_update_id: sync.last_update_id(),
                snapshots: counters.snapshots,
                applied: counters.applied,
                stale: counters.stale,
                gaps: counters.gaps,
                levels: (
                    sync.book().len(BookSide::Bid),
                    sync.book().len(BookSide::Ask),
                ),
            })
        })
        .collect()
}
