//! `kestrel record` as a user runs it, against the Kestrel simulator started in-process: the
//! capture reads back with no malformed line, holds a depth snapshot per symbol, every
//! symbol's diffs chain by `pu` from it without a gap, the book rebuilt from the file equals
//! the simulator's true book once its market is paused, and the file replays in the simulator
//! (`kestrel sim --replay`) to that same book.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kestrel_model::config::SimConfig;
use kestrel_model::instrument::binance_usdm;
use kestrel_model::recording::{MessageKind, RecordedMessage, RecordingReader};
use kestrel_model::{Level, Price, Qty};
use kestrel_sim::market::recording::{Pacing, Replay, ReplayBook};
use kestrel_sim::server::{self, ReplayPace, RunningSim, SimOptions};
use serde_json::Value;
use tokio::runtime::Runtime;

const SYMBOLS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn start_sim(rt: &Runtime, symbols: &[&str], replay: Option<PathBuf>) -> RunningSim {
    let config = SimConfig {
        symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
        ..SimConfig::default()
    };
    let options = SimOptions {
        config,
        api_key: "k".into(),
        api_secret: "s".into(),
        replay,
        replay_pace: ReplayPace::Fast,
    };
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        server::start(options, listener).await.unwrap()
    })
}

fn post(rt: &Runtime, sim: &RunningSim, path: &str) {
    let url = format!("http://{}{path}", sim.local_addr());
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(url)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert!(status.is_success(), "{path}: {status}");
}

/// The simulator's book of `symbol`: update id, bids, asks.
fn true_book(
    rt: &Runtime,
    sim: &RunningSim,
    symbol: &str,
) -> (Option<u64>, Vec<Level>, Vec<Level>) {
    let url = format!(
        "http://{}/sim/v1/book/{symbol}?depth=5000",
        sim.local_addr()
    );
    let body: Value = rt.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() });
    let side = |levels: &Value| -> Vec<Level> {
        levels
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let price = Price::parse(l[0].as_str().unwrap()).unwrap();
                Level::new(price, Qty::parse(l[1].as_str().unwrap()).unwrap())
            })
            .collect()
    };
    (
        body["lastUpdateId"].as_u64(),
        side(&body["bids"]),
        side(&body["asks"]),
    )
}

/// Kills the recorder if the test ends early.
struct Recording(Child);

impl Drop for Recording {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `kestrel record` and waits for its banner.
fn start_recorder(sim: &RunningSim, symbols: &[&str], out: &Path, extra: &[&str]) -> Recording {
    let venue = format!("http://{}", sim.local_addr());
    let symbols = symbols.join(",");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args(["record", "--venue-url", &venue, "--symbols", &symbols])
        .arg("--out")
        .arg(out)
        .args(extra)
        .env_remove("KESTREL_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let banner = lines.next().unwrap().unwrap();
    assert!(banner.starts_with("kestrel record: "), "{banner}");
    // Keep reading its output on a thread so the final line can be checked.
    let mut recording = Recording(child);
    recording.0.stdout = None;
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            println!("recorder: {line}");
        }
    });
    recording
}

/// Waits for the recorder to exit on its own, at most `limit`; asserts it succeeded.
fn wait_exit(recording: &mut Recording, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = recording.0.try_wait().unwrap() {
            assert!(status.success(), "kestrel record exited with {status}");
            return;
        }
        assert!(Instant::now() < deadline, "kestrel record did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every message of the recording; asserts the file is complete and well formed.
fn read_back(path: &Path) -> Vec<RecordedMessage> {
    let mut reader = RecordingReader::open(path).unwrap();
    let messages: Vec<_> = reader.by_ref().collect();
    let stats = reader.stats();
    assert_eq!(
        stats.malformed,
        0,
        "malformed lines: {:?}",
        stats.first_errors()
    );
    assert!(
        stats.io_error().is_none(),
        "incomplete file: {:?}",
        stats.io_error()
    );
    assert!(stats.lines > 0);
    messages
}

/// Checks that `symbol`'s diffs chain by `pu` from one snapshot, and rebuilds its book.
fn rebuilt_book(messages: &[RecordedMessage], symbol: &str) -> ReplayBook {
    let ours: Vec<&RecordedMessage> = messages
        .iter()
        .filter(|m| m.symbol.as_deref() == Some(symbol))
        .collect();
    let snapshots = ours
        .iter()
        .filter(|m| m.kind == MessageKind::Snapshot)
        .count();
    assert_eq!(snapshots, 1, "{symbol}: one snapshot (one connection)");
    let diffs: Vec<Value> = ours
        .iter()
        .filter(|m| m.kind == MessageKind::DepthDiff)
        .map(|m| serde_json::from_str(&m.raw).unwrap())
        .collect();
    assert!(diffs.len() > 10, "{symbol}: {} diffs", diffs.len());
    for pair in diffs.windows(2) {
        assert_eq!(pair[1]["pu"], pair[0]["u"], "{symbol}: pu chain broken");
    }
    let tick = binance_usdm(symbol).unwrap().tick_size();
    let mut book = ReplayBook::new(Some(symbol), Some(tick));
    for message in ours {
        book.apply(message);
    }
    let stats = book.stats();
    assert!(book.is_synced(), "{symbol}: {stats:?}");
    assert_eq!(
        (stats.gaps, stats.rejected, stats.snapshots),
        (0, 0, 1),
        "{symbol}"
    );
    assert!(stats.applied > 0, "{symbol}: {stats:?}");
    book
}

fn assert_same_book(label: &str, book: &ReplayBook, truth: &(Option<u64>, Vec<Level>, Vec<Level>)) {
    let depth = book.depth(5000).unwrap();
    assert_eq!(Some(depth.last_update_id), truth.0, "{label}: update id");
    assert_eq!(depth.bids, truth.1, "{label}: bids");
    assert_eq!(depth.asks, truth.2, "{label}: asks");
}

#[test]
fn two_symbols_are_recorded_whole_and_rebuild_the_true_book() {
    let rt = runtime();
    let sim = start_sim(&rt, &SYMBOLS, None);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("capture.gz");
    let mut recording = start_recorder(&sim, &SYMBOLS, &out, &[]);
    std::thread::sleep(Duration::from_secs(3));
    post(&rt, &sim, "/sim/v1/market/pause");
    std::thread::sleep(Duration::from_millis(500));
    let truth: BTreeMap<&str, _> = SYMBOLS
        .iter()
        .map(|s| (*s, true_book(&rt, &sim, s)))
        .collect();
    let pid = recording.0.id().to_string();
    let signalled = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(signalled.success());
    wait_exit(&mut recording, Duration::from_secs(10));

    let messages = read_back(&out);
    assert!(
        std::fs::read(&out).unwrap().starts_with(&[0x1f, 0x8b]),
        "a .gz name means gzip"
    );
    for symbol in SYMBOLS {
        let book = rebuilt_book(&messages, symbol);
        assert_same_book(symbol, &book, &truth[symbol]);
    }
    let kinds = |kind| messages.iter().filter(|m| m.kind == kind).count();
    assert!(kinds(MessageKind::BookTicker) > 0 && kinds(MessageKind::Trade) > 0);

    // The library path of `kestrel sim --replay`: a Replay releasing the file's messages
    // into a ReplayBook, as fast as possible.
    let reader = RecordingReader::open(&out).unwrap();
    let btc = ReplayBook::new(
        Some("BTCUSDT"),
        binance_usdm("BTCUSDT").map(|i| i.tick_size()),
    );
    let mut replay = Replay::new(
        reader.filter(|m| m.symbol.as_deref() == Some("BTCUSDT")),
        Pacing::AsFastAsPossible { batch: 64 },
    )
    .with_book(btc);
    let released = replay.by_ref().count();
    assert!(released > 0);
    assert_same_book(
        "replayed BTCUSDT",
        replay.book().unwrap(),
        &truth["BTCUSDT"],
    );
    rt.block_on(sim.shutdown());
}

#[test]
fn a_two_symbol_recording_replays_in_the_simulator_to_the_true_books() {
    let rt = runtime();
    let sim = start_sim(&rt, &SYMBOLS, None);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("capture.gz");
    let mut recording = start_recorder(&sim, &SYMBOLS, &out, &["--duration", "3"]);
    std::thread::sleep(Duration::from_millis(2000));
    post(&rt, &sim, "/sim/v1/market/pause");
    let truth: BTreeMap<&str, _> = SYMBOLS
        .iter()
        .map(|s| (*s, true_book(&rt, &sim, s)))
        .collect();
    wait_exit(&mut recording, Duration::from_secs(10));
    rt.block_on(sim.shutdown());

    let replaying = start_sim(&rt, &SYMBOLS, Some(out.clone()));
    for symbol in SYMBOLS {
        let replayed = replayed_book(&rt, &replaying, symbol, truth[symbol].0);
        assert_eq!(
            replayed, truth[symbol],
            "{symbol} replayed in the simulator"
        );
    }
    rt.block_on(replaying.shutdown());
}

/// The book of `symbol` a replaying simulator serves, once it reaches `update_id` (or after
/// 10 s).
fn replayed_book(
    rt: &Runtime,
    sim: &RunningSim,
    symbol: &str,
    update_id: Option<u64>,
) -> (Option<u64>, Vec<Level>, Vec<Level>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let book = true_book(rt, sim, symbol);
        if book.0 == update_id || Instant::now() > deadline {
            return book;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_recording_replays_in_the_simulator_to_the_true_book() {
    let rt = runtime();
    let symbol = "BTCUSDT";
    let sim = start_sim(&rt, &[symbol], None);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("capture.txt");
    let mut recording = start_recorder(&sim, &[symbol], &out, &["--duration", "3"]);
    std::thread::sleep(Duration::from_millis(2000));
    post(&rt, &sim, "/sim/v1/market/pause");
    let truth = true_book(&rt, &sim, symbol);
    wait_exit(&mut recording, Duration::from_secs(10));
    rt.block_on(sim.shutdown());
    let messages = read_back(&out);
    assert!(
        !std::fs::read(&out).unwrap().starts_with(&[0x1f, 0x8b]),
        "plain text"
    );
    assert_same_book("rebuilt", &rebuilt_book(&messages, symbol), &truth);

    let replaying = start_sim(&rt, &[symbol], Some(out.clone()));
    let replayed = replayed_book(&rt, &replaying, symbol, truth.0);
    assert_eq!(
        replayed.0, truth.0,
        "the simulator replayed up to the last diff"
    );
    assert_eq!(
        (replayed.1, replayed.2),
        (truth.1, truth.2),
        "replayed levels"
    );
    rt.block_on(replaying.shutdown());
}

#[test]
fn an_unwritable_output_is_refused_with_the_path_named() {
    let output = Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args([
            "record",
            "--venue-url",
            "http://127.0.0.1:9",
            "--symbols",
            "BTCUSDT",
        ])
        .args(["--out", "/nonexistent/dir/capture.gz", "--duration", "1"])
        .env_remove("KESTREL_CONFIG")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--out /nonexistent/dir/capture.gz"),
        "{stderr}"
    );
}

#[test]
fn help_describes_every_flag() {
    let output = Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args(["record", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--venue-url", "--symbols", "--out", "--duration", "--gzip"] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
    }
}
