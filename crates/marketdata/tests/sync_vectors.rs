//! [`SymbolSync`] on real Binance USD-M data, fed in the order it was received:
//!
//! - the hftbacktest BTCUSDT recording (2024-08-08, six minutes: one 1,000-level snapshot,
//!   6,551 `@depth@0ms` diffs, 66,089 bookTickers), checked against every bookTicker that
//!   carries the update id of an applied diff;
//! - the cryptofeed sample (2021, four symbols), whose CTKUSDT snapshot holds levels finer than
//!   the listed tick, so the book has to rebuild on a finer grid.
//!
//! Files under `shared/vectors/` beside the repository checkout (see its README). The JSON is
//! parsed here with `serde_json`, independently of the production parser.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;

use flate2::read::GzDecoder;
use kestrel_marketdata::sync::{
    DiffOutcome, Replay, SnapshotOutcome, SymbolSync, SyncConfig, SyncState,
};
use kestrel_model::book::{BookSide, DepthDiff, Flavor, Level};
use kestrel_model::{Price, Qty};
use serde_json::Value;

/// The text of `shared/vectors/<relative>`, gunzipped if it ends in `.gz`.
fn vector(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors")
        .join(relative);
    let file = std::fs::File::open(&path).unwrap_or_else(|error| {
        panic!(
            "missing test vector {} ({error}): the shared/ folder must sit beside the \
             repository checkout (see shared/vectors/README.md)",
            path.display()
        )
    });
    let mut reader: Box<dyn Read> = if relative.ends_with(".gz") {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    text
}

/// An owned `depthUpdate` (§6.2).
struct Diff {
    symbol: String,
    first: u64,
    last: u64,
    prev: u64,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl Diff {
    fn parse(mut data: Value) -> Self {
        Self {
            symbol: data["s"].as_str().unwrap().to_owned(),
            first: data["U"].as_u64().unwrap(),
            last: data["u"].as_u64().unwrap(),
            prev: data["pu"].as_u64().unwrap(),
            bids: serde_json::from_value(data["b"].take()).unwrap(),
            asks: serde_json::from_value(data["a"].take()).unwrap(),
        }
    }

    fn diff(&self) -> DepthDiff<'_> {
        DepthDiff {
            first_update_id: self.first,
            final_update_id: self.last,
            prev_final_update_id: Some(self.prev),
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

/// A `bookTicker` (§6.6): symbol, `u`, best bid and best ask.
struct Ticker {
    symbol: String,
    update_id: u64,
    bid: Level,
    ask: Level,
}

impl Ticker {
    fn parse(data: &Value) -> Self {
        let level = |price: &str, qty: &str| {
            Level::new(
                Price::parse(data[price].as_str().unwrap()).unwrap(),
                Qty::parse(data[qty].as_str().unwrap()).unwrap(),
            )
        };
        Self {
            symbol: data["s"].as_str().unwrap().to_owned(),
            update_id: data["u"].as_u64().unwrap(),
            bid: level("b", "B"),
            ask: level("a", "A"),
        }
    }
}

/// A `/fapi/v1/depth` response: `lastUpdateId`, bids, asks.
struct Snapshot {
    last_update_id: u64,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl Snapshot {
    fn parse(json: &str) -> Self {
        let mut value: Value = serde_json::from_str(json).unwrap();
        Self {
            last_update_id: value["lastUpdateId"].as_u64().unwrap(),
            bids: serde_json::from_value(value["bids"].take()).unwrap(),
            asks: serde_json::from_value(value["asks"].take()).unwrap(),
        }
    }
}

/// Best bid and ask recorded right after the event with that final update id was applied.
type Tops = HashMap<u64, (Level, Level)>;

fn record_top(tops: &mut Tops, sync: &SymbolSync) {
    let (bid, ask) = (sync.best_bid().unwrap(), sync.best_ask().unwrap());
    tops.insert(sync.last_update_id().unwrap(), (bid, ask));
}

/// Checks every ticker with a recorded update id; returns how many were checked.
fn check_tickers<'a>(label: &str, tops: &Tops, tickers: impl Iterator<Item = &'a Ticker>) -> usize {
    let mut checked = 0;
    for ticker in tickers {
        if let Some(&(bid, ask)) = tops.get(&ticker.update_id) {
            let at = ticker.update_id;
            assert_eq!(bid, ticker.bid, "{label}: best bid at u={at}");
            assert_eq!(ask, ticker.ask, "{label}: best ask at u={at}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn btcusdt_recording_syncs_in_file_order_and_matches_every_book_ticker() {
    let text = vector("binance-usdm/btcusdt_20240808.gz");
    let config = SyncConfig::new(Price::parse("0.1").unwrap(), Flavor::Futures);
    let mut sync = SymbolSync::new(config).unwrap();
    let (mut tops, mut tickers) = (Tops::new(), Vec::new());
    let (mut buffered, mut replay) = (0, None);
    for line in text.lines() {
        let (_, json) = line.split_once(' ').expect("`<time ns> <json>` line");
        if json.starts_with(r#"{"stream":"btcusdt@depth"#) {
            let mut message: Value = serde_json::from_str(json).unwrap();
            let diff = Diff::parse(message["data"].take());
            match sync.on_diff(&diff.diff()) {
                DiffOutcome::Applied => record_top(&mut tops, &sync),
                DiffOutcome::Buffered => buffered += 1,
                other => panic!("diff u={}: {other:?}", diff.last),
            }
        } else if json.starts_with(r#"{"stream":"btcusdt@bookTicker"#) {
            let message: Value = serde_json::from_str(json).unwrap();
            tickers.push(Ticker::parse(&message["data"]));
        } else if json.starts_with(r#"{"lastUpdateId""#) {
            let snapshot = Snapshot::parse(json);
            assert_eq!((snapshot.bids.len(), snapshot.asks.len()), (1000, 1000));
            let outcome = sync.on_snapshot(snapshot.last_update_id, &snapshot.bids, &snapshot.asks);
            let SnapshotOutcome::Synced(done) = outcome else {
                panic!("snapshot: {outcome:?}");
            };
            record_top(&mut tops, &sync);
            replay = Some(done);
        }
    }
    // The README's known properties: six diffs before the snapshot, four of them stale, the
    // fifth straddles it, and the pu chain never breaks afterwards.
    assert_eq!(buffered, 6, "diffs received before the snapshot");
    let replay = replay.expect("a snapshot line");
    assert_eq!((replay.stale, replay.applied, replay.remaining), (4, 2, 0));
    let c = sync.counters();
    assert_eq!((c.stale, c.applied), (4, 6547));
    assert_eq!(
        (c.gaps, c.resnapshots, c.tick_rebuilds, c.snapshots),
        (0, 0, 0, 1)
    );
    assert_eq!(sync.state(), SyncState::Synced);
    assert!(!sync.book().is_crossed());
    for side in BookSide::BOTH {
        assert!(sync.book().len(side) >= 1000, "{side} side shrank");
    }
    let checked = check_tickers("BTCUSDT", &tops, tickers.iter());
    assert_eq!(
        checked, 629,
        "bookTicker checkpoints (same u as an applied diff)"
    );
}

/// The listed tick size of each symbol in the recorded `exchangeInfo` (`BINANCE_FUTURES.0`).
fn listed_ticks() -> HashMap<String, Price> {
    let text = vector("binance-usdm/cryptofeed/BINANCE_FUTURES.0");
    let line = text.lines().next().unwrap();
    let (_, json) = line
        .split_once(": ")
        .expect("`<url> -> <time>: <json>` line");
    let info: Value = serde_json::from_str(json).unwrap();
    let mut ticks = HashMap::new();
    for symbol in info["symbols"].as_array().unwrap() {
        let filters = symbol["filters"].as_array().unwrap();
        let price_filter = filters.iter().find(|f| f["filterType"] == "PRICE_FILTER");
        let tick = price_filter.unwrap()["tickSize"].as_str().unwrap();
        let name = symbol["symbol"].as_str().unwrap().to_owned();
        ticks.insert(name, Price::parse(tick).unwrap());
    }
    ticks
}

/// `(symbol, received at, snapshot)` from `BINANCE_FUTURES.http.0.0`.
fn cryptofeed_snapshots() -> Vec<(String, f64, Snapshot)> {
    let text = vector("binance-usdm/cryptofeed/BINANCE_FUTURES.http.0.0");
    let mut snapshots = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let (url, rest) = line.split_once(" -> ").expect("`<url> -> ` prefix");
        let (time, json) = rest.split_once(": ").expect("`<time>: ` prefix");
        let query = url.split_once("symbol=").expect("symbol= in the URL").1;
        let symbol = query.split('&').next().unwrap().to_owned();
        snapshots.push((symbol, time.parse().unwrap(), Snapshot::parse(json)));
    }
    snapshots
}

enum Message {
    Diff(Diff),
    Ticker(Ticker),
}

/// `(received at, message)` for the depth and bookTicker messages of `BINANCE_FUTURES.ws.1.0`.
fn cryptofeed_messages() -> Vec<(f64, Message)> {
    let text = vector("binance-usdm/cryptofeed/BINANCE_FUTURES.ws.1.0");
    let mut messages = Vec::new();
    for line in text.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let (time, json) = line.split_once(": ").expect("`<time>: ` prefix");
        let mut value: Value = serde_json::from_str(json).unwrap();
        let stream = value["stream"].as_str().unwrap().to_owned();
        let message = if stream.contains("@depth") {
            Message::Diff(Diff::parse(value["data"].take()))
        } else if stream.ends_with("@bookTicker") {
            Message::Ticker(Ticker::parse(&value["data"]))
        } else {
            continue;
        };
        messages.push((time.parse().unwrap(), message));
    }
    messages
}

/// One symbol's sync, the snapshot it will get, and a naive map fed the same levels.
struct Feed {
    sync: SymbolSync,
    snapshot_at: f64,
    snapshot: Option<Snapshot>,
    replay: Option<Replay>,
    model: [BTreeMap<Price, Qty>; 2],
    tops: Tops,
}

impl Feed {
    fn deliver_snapshot(&mut self, buffered: &[&Diff]) {
        let snapshot = self.snapshot.take().unwrap();
        let outcome =
            self.sync
                .on_snapshot(snapshot.last_update_id, &snapshot.bids, &snapshot.asks);
        let SnapshotOutcome::Synced(replay) = outcome else {
            panic!("snapshot: {outcome:?}");
        };
        self.model = [&snapshot.bids, &snapshot.asks]
            .map(|levels| levels.iter().map(|l| (l.price, l.qty)).collect());
        for diff in buffered
            .iter()
            .filter(|d| d.last >= snapshot.last_update_id)
        {
            self.apply_to_model(diff);
        }
        self.replay = Some(replay);
        record_top(&mut self.tops, &self.sync);
    }

    fn apply_to_model(&mut self, diff: &Diff) {
        for (side, levels) in [&diff.bids, &diff.asks].into_iter().enumerate() {
            for level in levels {
                if level.qty.is_zero() {
                    self.model[side].remove(&level.price);
                } else {
                    self.model[side].insert(level.price, level.qty);
                }
            }
        }
    }
}

#[test]
fn cryptofeed_symbols_sync_on_their_listed_ticks_and_ctkusdt_rebuilds_finer() {
    let ticks = listed_ticks();
    let messages = cryptofeed_messages();
    let mut feeds: BTreeMap<String, Feed> = BTreeMap::new();
    for (symbol, at, snapshot) in cryptofeed_snapshots() {
        let config = SyncConfig::new(ticks[&symbol], Flavor::Futures);
        let feed = Feed {
            sync: SymbolSync::new(config).unwrap(),
            snapshot_at: at,
            snapshot: Some(snapshot),
            replay: None,
            model: Default::default(),
            tops: Tops::new(),
        };
        feeds.insert(symbol, feed);
    }
    assert_eq!(feeds.len(), 4);
    let mut early: HashMap<String, Vec<&Diff>> = HashMap::new();
    let mut tickers = Vec::new();
    for (at, message) in &messages {
        let diff = match message {
            Message::Diff(diff) => diff,
            Message::Ticker(ticker) => {
                tickers.push(ticker);
                continue;
            }
        };
        let feed = feeds
            .get_mut(&diff.symbol)
            .expect("a snapshot for every symbol");
        if feed.snapshot.is_some() && *at >= feed.snapshot_at {
            feed.deliver_snapshot(early.get(&diff.symbol).map_or(&[], Vec::as_slice));
        }
        match feed.sync.on_diff(&diff.diff()) {
            DiffOutcome::Buffered => early.entry(diff.symbol.clone()).or_default().push(diff),
            // The snapshot can be ahead of the stream: diffs received after it may be stale.
            DiffOutcome::Stale => {}
            DiffOutcome::Applied => {
                feed.apply_to_model(diff);
                record_top(&mut feed.tops, &feed.sync);
            }
            other => panic!("{} u={}: {other:?}", diff.symbol, diff.last),
        }
    }

    // (stale, applied) counted independently from the raw files, tick rebuilds, final tick.
    let expected = [
        ("AKROUSDT", 1, 188, 0, "0.00001"),
        ("CTKUSDT", 5, 180, 1, "0.00001"),
        ("KEEPUSDT", 3, 132, 0, "0.0001"),
        ("SUSHIUSDT", 3, 252, 0, "0.001"),
    ];
    let mut checked = 0;
    for (symbol, stale, applied, rebuilds, tick) in expected {
        let feed = &feeds[symbol];
        let c = feed.sync.counters();
        assert!(feed.replay.is_some(), "{symbol}: snapshot never delivered");
        assert_eq!((c.stale, c.applied), (stale, applied), "{symbol}");
        assert_eq!((c.gaps, c.resnapshots), (0, 0), "{symbol}");
        assert_eq!(c.tick_rebuilds, rebuilds, "{symbol}");
        assert_eq!(feed.sync.tick(), Price::parse(tick).unwrap(), "{symbol}");
        assert_eq!(feed.sync.state(), SyncState::Synced, "{symbol}");
        // No level lost: the book ends exactly where a naive map fed the same levels ends.
        for (i, side) in BookSide::BOTH.into_iter().enumerate() {
            let mut expected: Vec<Level> = feed.model[i]
                .iter()
                .map(|(&p, &q)| Level::new(p, q))
                .collect();
            if side == BookSide::Bid {
                expected.reverse();
            }
            let held: Vec<Level> = feed.sync.book().levels(side).collect();
            assert_eq!(held, expected, "{symbol} {side}");
        }
        let symbol_tickers = tickers.iter().copied().filter(|t| t.symbol == symbol);
        checked += check_tickers(symbol, &feed.tops, symbol_tickers);
    }
    assert_eq!(
        checked, 50,
        "bookTicker checkpoints (same u as an applied diff)"
    );
}

#[test]
fn ctkusdt_snapshot_off_the_listed_tick_keeps_all_its_levels() {
    let (_, _, snapshot) = cryptofeed_snapshots()
        .into_iter()
        .find(|(symbol, _, _)| symbol == "CTKUSDT")
        .unwrap();
    let listed = Price::parse("0.001").unwrap();
    let mut sync = SymbolSync::new(SyncConfig::new(listed, Flavor::Futures)).unwrap();
    let outcome = sync.on_snapshot(snapshot.last_update_id, &snapshot.bids, &snapshot.asks);
    assert!(matches!(outcome, SnapshotOutcome::Synced(_)), "{outcome:?}");
    assert_eq!(sync.tick(), Price::parse("0.00001").unwrap());
    assert_eq!(sync.counters().tick_rebuilds, 1);
    let off_grid = snapshot
        .bids
        .iter()
        .chain(&snapshot.asks)
        .filter(|l| l.price.raw() % listed.raw() != 0)
        .count();
    assert_eq!(off_grid, 131, "levels on the older 0.00001 grid");
    assert_eq!(sync.book().len(BookSide::Bid), snapshot.bids.len());
    assert_eq!(sync.book().len(BookSide::Ask), snapshot.asks.len());
    let held: Vec<Level> = sync.book().levels(BookSide::Bid).collect();
    assert_eq!(held, snapshot.bids, "bids come back best first, as sent");
}
