//! Benchmarks of the simulator's market: how many actions the agent-based generator makes per
//! second of wall time, and how fast recordings are read and replayed (the real BTCUSDT
//! capture from `shared/vectors/binance-usdm/btcusdt_20240808.gz`: 93,954 messages, 27.8 MB
//! decompressed).
//!
//! Run: `cargo bench -p kestrel-sim --bench market -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kestrel_sim::market::generator::{BookTop, Generator, GeneratorConfig, TimedAction};
use kestrel_sim::market::recording::{
    Pacing, RecordedMessage, RecordingReader, Replay, ReplayBook,
};

const SECOND: u64 = 1_000_000_000;
const START_NS: u64 = 1_723_161_600 * SECOND;
const RECORDING: &str = "binance-usdm/btcusdt_20240808.gz";

type Setup<T> = Result<T, String>;

fn btcusdt_generator() -> Setup<Generator> {
    let config = GeneratorConfig::binance_usdm("BTCUSDT").ok_or("no BTCUSDT preset")?;
    Generator::new(config, 42, START_NS).map_err(|error| error.to_string())
}

/// Actions the generator makes per simulated second in steady state (after the initial book),
/// measured over ten simulated minutes; also printed with the wall time it took.
#[allow(clippy::float_arithmetic)] // reporting a rate
fn actions_per_simulated_second() -> Setup<u64> {
    let mut generator = btcusdt_generator()?;
    let mut out: Vec<TimedAction> = Vec::new();
    generator.advance(SECOND, &BookTop::EMPTY, &mut out);
    out.clear();
    let started = Instant::now();
    let mut actions = 0;
    for _ in 0..600 {
        actions += generator.advance(SECOND, &BookTop::EMPTY, &mut out);
        out.clear();
    }
    let wall = started.elapsed().as_secs_f64();
    eprintln!(
        "generator: {actions} actions in 600 simulated s ({} per simulated s), {wall:.3} s of \
         wall time: {:.0} actions/s, {:.0}× real time",
        actions / 600,
        actions as f64 / wall,
        600.0 / wall
    );
    Ok((actions / 600) as u64)
}

fn generator_rate(c: &mut Criterion) -> Setup<()> {
    let per_second = actions_per_simulated_second()?;
    let mut group = c.benchmark_group("market/generator");
    group.throughput(Throughput::Elements(per_second));
    let mut generator = btcusdt_generator()?;
    let mut out: Vec<TimedAction> = Vec::with_capacity(4096);
    group.bench_function("BTCUSDT, one simulated second, empty book view", |b| {
        b.iter(|| {
            out.clear();
            generator.advance(SECOND, black_box(&BookTop::EMPTY), &mut out)
        })
    });
    group.finish();
    Ok(())
}

fn recording_path() -> Setup<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors")
        .join(RECORDING);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "missing benchmark input {}: the shared/ folder must sit beside the repository \
             checkout (see shared/vectors/README.md)",
            path.display()
        ))
    }
}

/// Reads every message, returning how many and their data bytes.
fn read_all(reader: impl Iterator<Item = RecordedMessage>) -> (usize, usize) {
    reader.fold((0, 0), |(count, bytes), message| {
        (count + 1, bytes + black_box(message).raw.len())
    })
}

fn recording_throughput(c: &mut Criterion) -> Setup<()> {
    let path = recording_path()?;
    let compressed = std::fs::read(&path).map_err(|error| error.to_string())?;
    let mut plain = Vec::new();
    flate2::read::MultiGzDecoder::new(&compressed[..])
        .read_to_end(&mut plain)
        .map_err(|error| error.to_string())?;
    let messages: Vec<RecordedMessage> = RecordingReader::new(&plain[..], "memory").collect();
    let mut group = c.benchmark_group("market/recording");
    group.sample_size(10);
    group.throughput(Throughput::Elements(messages.len() as u64));
    group.bench_function("read BTCUSDT file (gzip, from disk)", |b| {
        b.iter(|| RecordingReader::open(&path).map(read_all))
    });
    group.bench_function("read BTCUSDT (decompressed, in memory)", |b| {
        b.iter(|| read_all(RecordingReader::new(black_box(&plain[..]), "memory")))
    });
    group.bench_function("replay BTCUSDT into a ReplayBook (parsed messages)", |b| {
        b.iter(|| {
            let book = ReplayBook::new(None, None);
            let mut replay = Replay::new(
                messages.iter().cloned(),
                Pacing::AsFastAsPossible { batch: 1 },
            )
            .with_book(book);
            let released = replay.by_ref().count();
            (released, replay.book().map(|book| book.stats().applied))
        })
    });
    group.finish();
    Ok(())
}

fn market(c: &mut Criterion) {
    if let Err(error) = generator_rate(c).and_then(|()| recording_throughput(c)) {
        eprintln!("market benchmark setup failed: {error}");
        std::process::exit(1);
    }
}

criterion_group!(benches, market);
criterion_main!(benches);
