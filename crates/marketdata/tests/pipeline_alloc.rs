//! The whole per-frame path of the pipeline (parse, book sync, trade flow, ring publish) on the
//! real BTCUSDT capture allocates nothing per message once warmed up: a counting global
//! allocator watches the second half of the capture after the first half has sized every
//! buffer. Trades and book tickers must count zero; depth diffs may only grow the book's storage
//! for levels it has never held before (a handful of amortised doublings, never one per diff).

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use kestrel_bus::ring::{RingConfig, RingWriter};
use kestrel_marketdata::connection::{FrameHandler, Received};
use kestrel_marketdata::pipeline::{Feeds, Pipeline};
use kestrel_marketdata::sync::SyncState;
use kestrel_model::Price;
use kestrel_model::recording::{MessageKind, RecordedMessage, RecordingReader};
use kestrel_testkit::{CountingAllocator, allocations};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn capture() -> Vec<RecordedMessage> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/binance-usdm/btcusdt_20240808.gz");
    RecordingReader::open(&path).unwrap().collect()
}

#[test]
fn frames_allocate_nothing_per_message_after_warm_up_on_the_real_capture() {
    let messages = capture();
    let feeds = Arc::new(Feeds::new(&[("BTCUSDT".into(), Price::parse("0.1").unwrap())]).unwrap());
    let (requests, _pending) = tokio::sync::mpsc::unbounded_channel();
    let dir = tempfile::tempdir().unwrap();
    let ring_config = RingConfig {
        slot_count: 1024,
        slot_size: 16 * 1024,
    };
    let ring = RingWriter::create(dir.path().join("ring"), ring_config).unwrap();
    let mut pipeline = Pipeline::new(Arc::clone(&feeds), requests).with_ring(ring);
    let half = messages.len() / 2;
    let (mut depth, mut others) = (0_u64, 0_u64);
    let (mut depth_frames, mut other_frames) = (0_u64, 0_u64);
    for (index, message) in messages.iter().enumerate() {
        let received = Received {
            at: std::time::Instant::now(),
            mono_ns: message.recv_ns,
            wall_ns: message.recv_ns,
        };
        if message.kind == MessageKind::Snapshot {
            let state = pipeline.apply_snapshot("BTCUSDT", &message.raw);
            assert!(state.is_some());
            continue;
        }
        let before = allocations();
        pipeline.on_frame(&message.raw, received);
        let made = allocations() - before;
        if index < half {
            continue;
        }
        match message.kind {
            MessageKind::DepthDiff => (depth, depth_frames) = (depth + made, depth_frames + 1),
            _ => (others, other_frames) = (others + made, other_frames + 1),
        }
    }
    let sync = kestrel_marketdata::pipeline::lock(&feeds.get("BTCUSDT").unwrap().sync);
    assert_eq!(sync.state(), SyncState::Synced);
    assert_eq!(sync.last_update_id(), Some(5_123_135_475_514));
    assert!(
        depth_frames > 1_000 && other_frames > 20_000,
        "{depth_frames} {other_frames}"
    );
    assert_eq!(others, 0, "trades and book tickers allocated");
    assert!(
        depth <= 16,
        "{depth} allocations over {depth_frames} depth diffs: more than the book's storage growth"
    );
}
