//! `kestrel md` as a user runs it: against a `kestrel sim` process, it serves a healthy
//! `/health` and the book, `kestrel md tail` in a third process reads its ring, and with a
//! store and a NATS server configured it records trades and book snapshots and publishes on
//! the `market_data.{symbol}.*` subjects.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{free_port, get, spawn, spawn_with, terminate, wait_for_line};

#[test]
fn md_follows_the_simulator_serves_its_book_and_publishes_on_the_ring() {
    let (venue, http) = (free_port(), free_port());
    let mut sim = spawn(&[
        "sim",
        "--listen",
        &format!("127.0.0.1:{venue}"),
        "--symbols",
        "BTCUSDT,ETHUSDT",
    ]);
    wait_for_line(&mut sim, "api key");
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring");
    let ring_arg = ring.to_str().unwrap();
    let venue_url = format!("http://127.0.0.1:{venue}");
    let mut md = spawn(&[
        "md",
        "--venue-url",
        &venue_url,
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--http",
        &format!("127.0.0.1:{http}"),
        "--ring",
        ring_arg,
    ]);
    wait_for_line(&mut md, "kestrel md following");

    let deadline = Instant::now() + Duration::from_secs(15);
    let health = loop {
        let (status, body) = get(&format!("http://127.0.0.1:{http}/health"));
        if status == 200 && body["status"] == "healthy" || Instant::now() > deadline {
            break body;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(health["connections"]["ETHUSDT"], "connected");
    let (status, book) = get(&format!(
        "http://127.0.0.1:{http}/api/v1/orderbook/BTCUSDT?depth=5"
    ));
    assert_eq!(status, 200);
    assert_eq!(book["bids"].as_array().map(Vec::len), Some(5), "{book}");
    assert!(book["lastUpdateId"].as_u64().unwrap() > 0 && book["bids"][0][0].is_string());
    let (missing, _) = get(&format!(
        "http://127.0.0.1:{http}/api/v1/orderbook/NOPEUSDT"
    ));
    assert_eq!(missing, 404);

    let tail = Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args([
            "md", "tail", "--ring", ring_arg, "--symbol", "ETHUSDT", "--count", "5",
        ])
        .output()
        .unwrap();
    assert!(
        tail.status.success(),
        "{}",
        String::from_utf8_lossy(&tail.stderr)
    );
    let events: Vec<serde_json::Value> = String::from_utf8(tail.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 5);
    assert!(
        events
            .iter()
            .all(|e| e["symbol"] == "ETHUSDT" && (e["kind"] == "depth" || e["kind"] == "trade")),
        "{events:?}"
    );
}

/// The local NATS server, or `None` (with a message) when it is absent and not required.
fn nats_url() -> Option<String> {
    let url =
        std::env::var("KESTREL_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let address = url.trim_start_matches("nats://").to_owned();
    if std::net::TcpStream::connect(&address).is_ok() {
        return Some(url);
    }
    assert!(
        std::env::var("KESTREL_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "NATS at {url} is required (KESTREL_REQUIRE_SERVICES=1) but unreachable"
    );
    eprintln!("SKIPPED: no NATS server at {url}; the NATS half of this test did not run");
    None
}

/// Collects the trade ids published on `market_data.BTCUSDT.trades` until `want` arrived.
fn nats_trades(url: &str, want: usize) -> std::thread::JoinHandle<Vec<u64>> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let client = kestrel_bus::nats::connect(&url).await.unwrap();
            let pattern = kestrel_bus::TopicPattern::parse("market_data.BTCUSDT.trades").unwrap();
            let mut subscriber = kestrel_bus::NatsSubscriber::subscribe(&client, &pattern)
                .await
                .unwrap();
            let mut ids = Vec::new();
            while ids.len() < want {
                let next = tokio::time::timeout(Duration::from_secs(30), subscriber.next());
                match next.await.unwrap().unwrap().message {
                    kestrel_model::event::OwnedMarketEvent::Trade(trade) => {
                        ids.push(trade.trade.trade_id)
                    }
                    other => panic!("not a trade on the trades subject: {other:?}"),
                }
            }
            ids
        })
    })
}

#[test]
fn md_stores_trades_and_snapshots_and_publishes_them_on_nats() {
    let (venue, http) = (free_port(), free_port());
    let mut sim = spawn(&[
        "sim",
        "--listen",
        &format!("127.0.0.1:{venue}"),
        "--symbols",
        "BTCUSDT",
    ]);
    wait_for_line(&mut sim, "api key");
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let nats = nats_url();
    let mut env = vec![
        ("KESTREL_STORE__DATA_DIR", data_dir),
        ("KESTREL_MARKET_DATA__ENABLE_DATABASE_WRITES", "true"),
        ("KESTREL_MARKET_DATA__DATABASE_WRITE_INTERVAL_MS", "50"),
    ];
    if let Some(url) = &nats {
        env.push(("KESTREL_MARKET_DATA__NATS_URL", url));
    }
    let subscriber = nats.as_deref().map(|url| nats_trades(url, 20));
    let ring = dir.path().join("ring");
    let mut md = spawn_with(
        &[
            "md",
            "--venue-url",
            &format!("http://127.0.0.1:{venue}"),
            "--symbols",
            "BTCUSDT",
            "--http",
            &format!("127.0.0.1:{http}"),
            "--ring",
            ring.to_str().unwrap(),
        ],
        &env,
    );
    wait_for_line(&mut md, "kestrel md following");
    let over_nats = subscriber.map(|s| s.join().unwrap());
    if over_nats.is_none() {
        std::thread::sleep(Duration::from_secs(3));
    }
    terminate(&mut md);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (stored, snapshot) = runtime.block_on(async {
        let store = kestrel_store::Store::sqlite(dir.path().join("kestrel.sqlite"))
            .await
            .unwrap();
        let trades = store.recent_trades("BTCUSDT", 100_000).await.unwrap();
        let snapshot = store.latest_snapshot("BTCUSDT").await.unwrap();
        (trades, snapshot)
    });
    assert!(!stored.is_empty(), "no trades stored");
    let snapshot = snapshot.expect("no book snapshot stored");
    assert_eq!(snapshot.bids.len(), 20, "order_book_depth levels per side");
    assert!(
        snapshot.bids[0].price < snapshot.asks[0].price,
        "a crossed book was stored"
    );
    let stored_ids: std::collections::BTreeSet<u64> =
        stored.iter().map(|t| t.trade.trade_id).collect();
    if let Some(ids) = over_nats {
        let missing: Vec<_> = ids.iter().filter(|id| !stored_ids.contains(id)).collect();
        assert!(
            missing.is_empty(),
            "published on NATS but not stored: {missing:?}"
        );
    }
    // What was stored is what the venue traded: same ids, prices, sizes and aggressor side.
    let (status, venue_trades) = get(&format!(
        "http://127.0.0.1:{venue}/fapi/v1/trades?symbol=BTCUSDT&limit=1000"
    ));
    assert_eq!(status, 200);
    let venue_trades: std::collections::BTreeMap<u64, &serde_json::Value> = venue_trades
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_u64().unwrap(), t))
        .collect();
    let mut compared = 0;
    for trade in stored.iter().map(|t| &t.trade) {
        if let Some(venue) = venue_trades.get(&trade.trade_id) {
            let price = kestrel_model::Price::parse(venue["price"].as_str().unwrap()).unwrap();
            let qty = kestrel_model::Qty::parse(venue["qty"].as_str().unwrap()).unwrap();
            assert_eq!(
                (price, qty),
                (trade.price, trade.quantity),
                "trade {}",
                trade.trade_id
            );
            assert_eq!(
                venue["isBuyerMaker"], trade.buyer_is_maker,
                "trade {}",
                trade.trade_id
            );
            compared += 1;
        }
    }
    assert!(
        compared > 0,
        "no stored trade is in the venue's recent trades"
    );
}
