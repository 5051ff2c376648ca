//! Benchmarks of the bus's hot paths: the codec on a BTCUSDT-like 34-level depth update
//! (17 levels a side, 620 bytes) and a trade (72 bytes), the shared-memory ring's write and read
//! (a ring in `/dev/shm` when it exists), and the in-process bus's publish + receive.
//!
//! Run: `cargo bench -p kestrel-bus --bench bus -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kestrel_bus::codec::{self, LevelScratch};
use kestrel_bus::{Bus, RingConfig, RingError, RingReader, RingWriter, Topic};
use kestrel_model::book::Level;
use kestrel_model::event::{DepthUpdate, MarketEvent, ReceiveTime, TradeEvent};
use kestrel_model::{Price, Qty};

const TICK_RAW: i64 = 10_000_000; // 0.1
const BEST_BID_TICKS: i64 = 600_000; // 60,000.0

/// 17 levels a side around a 60,000.0 / 60,000.1 touch, quantities 0.001 to 20 BTC.
fn depth_levels() -> (Vec<Level>, Vec<Level>) {
    let level = |ticks: i64, i: i64| {
        let qty = 100_000 * (1 + (i * 7_919) % 20_000);
        Level::new(Price::from_raw(ticks * TICK_RAW), Qty::from_raw(qty))
    };
    let bids = (0..17).map(|i| level(BEST_BID_TICKS - 2 * i, i)).collect();
    let asks = (0..17)
        .map(|i| level(BEST_BID_TICKS + 1 + 2 * i, i + 17))
        .collect();
    (bids, asks)
}

fn depth<'a>(bids: &'a [Level], asks: &'a [Level]) -> MarketEvent<'a> {
    MarketEvent::Depth(DepthUpdate {
        symbol: "BTCUSDT",
        first_update_id: 7_000_000_001,
        final_update_id: 7_000_000_034,
        prev_final_update_id: Some(7_000_000_000),
        event_time_ms: 1_760_000_000_123,
        transaction_time_ms: 1_760_000_000_121,
        received: ReceiveTime::new(123_456_789_012, 1_760_000_000_125_000_000),
        bids,
        asks,
    })
}

fn trade() -> MarketEvent<'static> {
    MarketEvent::Trade(TradeEvent {
        symbol: "BTCUSDT",
        trade_id: 5_123_456_789,
        price: Price::from_raw(BEST_BID_TICKS * TICK_RAW),
        qty: Qty::from_raw(2_500_000),
        trade_time_ms: 1_760_000_000_120,
        event_time_ms: 1_760_000_000_123,
        buyer_is_maker: true,
        received: ReceiveTime::new(123_456_789_012, 1_760_000_000_125_000_000),
    })
}

fn codec_benches(c: &mut Criterion) -> Result<(), codec::EncodeError> {
    let (bids, asks) = depth_levels();
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Elements(1));
    for (name, event) in [("depth 34 levels", depth(&bids, &asks)), ("trade", trade())] {
        let mut out = Vec::with_capacity(1024);
        codec::encode(&event, &mut out)?;
        let bytes = out.clone();
        group.bench_function(format!("encode {name} into a Vec"), |b| {
            b.iter(|| {
                out.clear();
                codec::encode(black_box(&event), &mut out)
            })
        });
        let mut slice = [0_u8; 1024];
        group.bench_function(format!("encode {name} into a slice"), |b| {
            b.iter(|| codec::encode_to_slice(black_box(&event), &mut slice))
        });
        group.bench_function(format!("decode {name} (borrowed view)"), |b| {
            b.iter(|| codec::decode(black_box(&bytes)).map(|e| e.symbol().len()))
        });
        let mut scratch = LevelScratch::with_capacity(64);
        group.bench_function(format!("decode {name} + levels into scratch"), |b| {
            b.iter(|| {
                let wire = codec::decode(black_box(&bytes))?;
                Ok::<_, codec::DecodeError>(wire.to_event(&mut scratch).received())
            })
        });
    }
    group.finish();
    Ok(())
}

/// A ring in `/dev/shm` when the host has one (as in production), else in the temp dir.
fn ring_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
}

fn ring_benches(c: &mut Criterion) -> Result<(), RingError> {
    let dir = ring_dir().map_err(|source| RingError::Io {
        path: std::env::temp_dir(),
        action: "create bench dir",
        source,
    })?;
    let config = RingConfig::with_slot_count(8192);
    let mut writer = RingWriter::create(dir.path().join("bench"), config)?;
    let mut reader = RingReader::open(writer.path())?;
    let (bids, asks) = depth_levels();
    let mut group = c.benchmark_group("ring");
    group.throughput(Throughput::Elements(1));
    for (name, event) in [("depth 34 levels", depth(&bids, &asks)), ("trade", trade())] {
        let mut bytes = Vec::new();
        codec::encode(&event, &mut bytes)?;
        group.bench_function(format!("write {name} ({} bytes)", bytes.len()), |b| {
            b.iter(|| writer.write(black_box(&bytes)))
        });
        group.bench_function(format!("publish {name} (encode + write)"), |b| {
            b.iter(|| writer.publish(black_box(&event)))
        });
        group.bench_function(format!("read {name} (try_next)"), |b| {
            b.iter_custom(|iters| timed_reads(&mut writer, &mut reader, &bytes, iters))
        });
    }
    group.finish();
    Ok(())
}

/// Times `iters` reads, refilling the ring (untimed) in batches the reader cannot be lapped in.
fn timed_reads(
    writer: &mut RingWriter,
    reader: &mut RingReader,
    bytes: &[u8],
    iters: u64,
) -> Duration {
    const BATCH: u64 = 4096;
    reader.seek_newest();
    let mut elapsed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let batch = left.min(BATCH);
        for _ in 0..batch {
            if writer.write(bytes).is_err() {
                return elapsed;
            }
        }
        let started = Instant::now();
        for _ in 0..batch {
            black_box(reader.try_next().map(|m| m.bytes.len()));
        }
        elapsed += started.elapsed();
        left -= batch;
    }
    elapsed
}

fn inproc_benches(c: &mut Criterion) -> Result<(), kestrel_bus::SymbolError> {
    let mut group = c.benchmark_group("inproc");
    group.throughput(Throughput::Elements(1));
    let bus: Bus<Arc<[u8]>> = Bus::new();
    let topic = Topic::order_book("BTCUSDT")?;
    let sub = bus.subscribe(topic, 1024);
    let mut publisher = bus.publisher();
    let message: Arc<[u8]> = Arc::from(vec![0_u8; 620]);
    group.bench_function("publish Arc message + try_recv, 1 subscriber", |b| {
        b.iter(|| {
            publisher.publish(black_box(topic), Arc::clone(&message));
            sub.try_recv().map(|e| e.message.len())
        })
    });
    let others: Vec<_> = (0..3).map(|_| bus.subscribe(topic, 1024)).collect();
    group.bench_function("publish Arc message + try_recv, 4 subscribers", |b| {
        b.iter(|| {
            publisher.publish(black_box(topic), Arc::clone(&message));
            let got = others.iter().filter_map(|s| s.try_recv()).count();
            (sub.try_recv().is_some(), got)
        })
    });
    group.finish();
    Ok(())
}

fn bus(c: &mut Criterion) {
    if let Err(error) = codec_benches(c) {
        eprintln!("codec benchmark setup failed: {error}");
        std::process::exit(1);
    }
    if let Err(error) = ring_benches(c) {
        eprintln!("ring benchmark setup failed: {error}");
        std::process::exit(1);
    }
    if let Err(error) = inproc_benches(c) {
        eprintln!("in-process bus benchmark setup failed: {error}");
        std::process::exit(1);
    }
}

criterion_group!(benches, bus);
criterion_main!(benches);
