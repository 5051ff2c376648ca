//! The whole pipeline against the Kestrel simulator with faults injected (issue 4): sequence
//! gaps, dropped sockets, 503s on the snapshot endpoint and latency, in seeded random
//! schedules. After the market is paused, every local book must equal the simulator's true
//! book: the same update id and the same levels.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use kestrel_marketdata::connection::{self, StreamConfig};
use kestrel_marketdata::pipeline::{Feeds, Pipeline, lock, run_snapshots};
use kestrel_marketdata::snapshot::SnapshotClient;
use kestrel_model::book::BookSide;
use kestrel_model::config::SimConfig;
use kestrel_model::{Price, Qty};
use kestrel_sim::server::{self, ReplayPace, RunningSim, SimOptions};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

const SYMBOLS: [(&str, &str); 2] = [("BTCUSDT", "0.10"), ("ETHUSDT", "0.01")];

async fn sim() -> RunningSim {
    let config = SimConfig {
        symbols: SYMBOLS.iter().map(|(s, _)| (*s).to_owned()).collect(),
        ..SimConfig::default()
    };
    let options = SimOptions {
        config,
        api_key: "k".into(),
        api_secret: "s".into(),
        replay: None,
        replay_pace: ReplayPace::Original,
    };
    server::start(options, TcpListener::bind("127.0.0.1:0").await.unwrap())
        .await
        .unwrap()
}

async fn post(sim: &RunningSim, path: &str, body: &str) {
    let url = format!("http://{}{path}", sim.local_addr());
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path} {body}: {}",
        response.status()
    );
}

async fn true_book(sim: &RunningSim, symbol: &str) -> Value {
    let url = format!(
        "http://{}/sim/v1/book/{symbol}?depth=5000",
        sim.local_addr()
    );
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

fn parse_side(levels: &Value) -> Vec<(Price, Qty)> {
    levels
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                Price::parse(l[0].as_str().unwrap()).unwrap(),
                Qty::parse(l[1].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

/// A small deterministic generator for fault schedules.
struct Schedule(u64);

impl Schedule {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn wait_healthy(feeds: &Feeds, secs: u64) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if lock(&feeds.health).status() == "healthy" {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

async fn run_schedule(seed: u64) {
    let sim = sim().await;
    let base = format!("http://{}", sim.local_addr());
    let ticks: Vec<(String, Price)> = SYMBOLS
        .iter()
        .map(|(s, t)| ((*s).to_owned(), Price::parse(t).unwrap()))
        .collect();
    let feeds = Arc::new(Feeds::new(&ticks).unwrap());
    let (requests, pending) = mpsc::unbounded_channel();
    let client = SnapshotClient::new(&base, 1000, Duration::from_secs(5))
        .unwrap()
        .with_retries(Duration::from_millis(20), Duration::from_millis(200), 10);
    let snapshots = tokio::spawn(run_snapshots(Arc::clone(&feeds), client, pending));
    let streams = SYMBOLS
        .iter()
        .flat_map(|(s, _)| {
            [
                format!("{}@depth@0ms", s.to_lowercase()),
                format!("{}@trade", s.to_lowercase()),
            ]
        })
        .collect();
    let mut config = StreamConfig::new(format!("ws://{}", sim.local_addr()), streams);
    (config.reconnect_base, config.reconnect_max) =
        (Duration::from_millis(20), Duration::from_millis(200));
    let (stop, stopped) = watch::channel(false);
    let mut pipeline = Pipeline::new(Arc::clone(&feeds), requests);
    let link = tokio::spawn(async move { connection::run(config, &mut pipeline, stopped).await });
    assert!(wait_healthy(&feeds, 10).await, "seed {seed}: initial sync");

    let mut schedule = Schedule(seed);
    for _ in 0..5 {
        let symbol = SYMBOLS[schedule.next(2) as usize].0;
        let fault = match schedule.next(4) {
            0 => format!(
                r#"{{"kind":"gap","symbol":"{symbol}","skip":{}}}"#,
                1 + schedule.next(4)
            ),
            1 => r#"{"kind":"drop_connections"}"#.to_owned(),
            2 => format!(
                r#"{{"kind":"http_error","status":503,"count":{},"path_prefix":"/fapi/v1/depth"}}"#,
                1 + schedule.next(3)
            ),
            _ => format!(r#"{{"kind":"latency","ms":{}}}"#, 10 * schedule.next(5)),
        };
        post(&sim, "/sim/v1/faults", &fault).await;
        tokio::time::sleep(Duration::from_millis(200 + 50 * schedule.next(6))).await;
    }
    post(&sim, "/sim/v1/faults", r#"{"kind":"latency","ms":0}"#).await;
    // A gap is only seen on the next diff; wait for every book to be synced, then freeze.
    assert!(
        wait_healthy(&feeds, 15).await,
        "seed {seed}: resynced after the faults"
    );
    post(&sim, "/sim/v1/market/pause", "").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        wait_healthy(&feeds, 10).await,
        "seed {seed}: synced after the pause"
    );

    let snapshots_taken: u64 = SYMBOLS
        .iter()
        .map(|(s, _)| lock(&feeds.get(s).unwrap().sync).counters().snapshots)
        .sum();
    assert!(
        snapshots_taken > 2,
        "seed {seed}: the faults forced resyncs beyond the 2 initial snapshots ({snapshots_taken})"
    );
    for (symbol, _) in SYMBOLS {
        let truth = true_book(&sim, symbol).await;
        let feed = feeds.get(symbol).unwrap();
        let sync = lock(&feed.sync);
        assert_eq!(
            sync.last_update_id(),
            truth["lastUpdateId"].as_u64(),
            "seed {seed}: {symbol} update id"
        );
        let local = |side| {
            sync.book()
                .levels(side)
                .map(|l| (l.price, l.qty))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            local(BookSide::Bid),
            parse_side(&truth["bids"]),
            "seed {seed}: {symbol} bids"
        );
        assert_eq!(
            local(BookSide::Ask),
            parse_side(&truth["asks"]),
            "seed {seed}: {symbol} asks"
        );
    }
    stop.send(true).unwrap();
    link.await.unwrap();
    snapshots.abort();
    sim.shutdown().await;
}

#[tokio::test]
async fn books_equal_the_true_book_after_random_fault_schedules() {
    for seed in [0x9e37_79b9, 0x85eb_ca6b, 0xc2b2_ae35] {
        run_schedule(seed).await;
    }
}
