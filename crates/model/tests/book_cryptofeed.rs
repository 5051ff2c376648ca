//! Replays real Binance USD-M depth data (the cryptofeed sample: four 1,000-level REST snapshots
//! and their `@depth@100ms` diffs, 2021) through [`OrderBook`] and its sequencer, as the market
//! data adapter will: diffs that arrive before their symbol's snapshot are buffered, then the
//! snapshot is applied and the buffer replayed.
//!
//! Files: `shared/vectors/binance-usdm/cryptofeed/BINANCE_FUTURES.http.0.0` (one snapshot per
//! line, `<request URL> -> <unix seconds>: <JSON>`) and `BINANCE_FUTURES.ws.1.0` (the stream
//! URL, then `<unix seconds>: <JSON>` per message); see `shared/vectors/README.md`.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, HashMap};

use kestrel_model::book::{
    BookConfig, BookError, BookSide, Flavor, Level, OrderBook, SyncDecision,
};
use kestrel_model::{Price, Qty};
use support::{BookTicker, DepthUpdate, Envelope, Snapshot};

fn vector(name: &str) -> String {
    support::read_vector(&format!("binance-usdm/cryptofeed/{name}"))
}

#[derive(Debug)]
enum Message {
    Depth(DepthUpdate),
    Ticker(BookTicker),
}

/// `(symbol, received at, snapshot)` in file order.
fn snapshots() -> Vec<(String, f64, Snapshot)> {
    vector("BINANCE_FUTURES.http.0.0")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (url, rest) = line.split_once(" -> ").expect("`<url> -> ` prefix");
            let (time, json) = rest.split_once(": ").expect("`<time>: ` prefix");
            let symbol = url
                .split_once("symbol=")
                .and_then(|(_, query)| query.split('&').next())
                .expect("symbol= in the URL");
            (
                symbol.to_owned(),
                time.parse().unwrap(),
                serde_json::from_str(json).unwrap(),
            )
        })
        .collect()
}

/// `(received at, message)` for the depth and bookTicker messages, in file order.
fn messages() -> Vec<(f64, Message)> {
    let text = vector("BINANCE_FUTURES.ws.1.0");
    let mut lines = text.lines();
    let url = lines.next().expect("stream URL line");
    assert!(
        url.starts_with("wss://"),
        "first line is the stream URL: {url}"
    );
    let mut messages = Vec::new();
    for line in lines.filter(|line| !line.trim().is_empty()) {
        let (time, json) = line.split_once(": ").expect("`<time>: ` prefix");
        let envelope: Envelope<serde_json::Value> = serde_json::from_str(json).unwrap();
        let message = if envelope.stream.contains("@depth") {
            Message::Depth(serde_json::from_value(envelope.data).unwrap())
        } else if envelope.stream.ends_with("@bookTicker") {
            Message::Ticker(serde_json::from_value(envelope.data).unwrap())
        } else {
            continue;
        };
        messages.push((time.parse().unwrap(), message));
    }
    messages
}

/// The largest tick that every price of the symbol sits on (the gcd of the raw prices): the
/// finest grid the book has to hold, whatever `exchangeInfo` says.
fn tick_for(snapshot: &Snapshot, updates: &[&DepthUpdate]) -> Price {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let levels = snapshot.bids.iter().chain(&snapshot.asks);
    let diff_levels = updates.iter().flat_map(|u| u.bids.iter().chain(&u.asks));
    Price::from_raw(
        levels
            .chain(diff_levels)
            .fold(0, |tick, level| gcd(level.price.raw(), tick)),
    )
}

/// Book state checks that must hold after every applied event of a healthy feed.
fn assert_healthy(book: &OrderBook, symbol: &str, update_id: u64) {
    assert!(book.is_synced(), "{symbol} at {update_id}: not synced");
    assert_eq!(book.last_update_id(), Some(update_id), "{symbol}");
    assert!(!book.is_crossed(), "{symbol} at {update_id}: crossed book");
    for side in BookSide::BOTH {
        assert!(
            book.len(side) > 0,
            "{symbol} at {update_id}: empty {side} side"
        );
        let prices: Vec<Price> = book.levels(side).map(|l| l.price).collect();
        assert_eq!(prices.len(), book.len(side));
        let ordered = prices.windows(2).all(|pair| match side {
            BookSide::Bid => pair[0] > pair[1],
            BookSide::Ask => pair[0] < pair[1],
        });
        assert!(ordered, "{symbol} {side} levels out of order");
        assert!(book.levels(side).all(|l| l.qty.is_positive()));
    }
}

/// Per-symbol outcome of the replay.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    buffered: usize,
    stale: usize,
    applied: usize,
    gaps: usize,
}

#[test]
fn cryptofeed_futures_depth_replays_without_gaps() {
    let snapshots = snapshots();
    let messages = messages();
    assert_eq!(snapshots.len(), 4, "four snapshots");

    struct Feed {
        book: OrderBook,
        model: [BTreeMap<Price, Qty>; 2],
        snapshot_at: f64,
        snapshot: Option<Snapshot>,
        buffer: Vec<DepthUpdate>,
        tally: Tally,
        tops: HashMap<u64, (Level, Level)>,
    }

    let mut feeds: HashMap<String, Feed> = HashMap::new();
    for (symbol, at, snapshot) in snapshots {
        let updates: Vec<&DepthUpdate> = messages
            .iter()
            .filter_map(|(_, m)| match m {
                Message::Depth(u) if u.symbol == symbol => Some(u),
                _ => None,
            })
            .collect();
        let tick = tick_for(&snapshot, &updates);
        let book = OrderBook::new(BookConfig::new(tick, Flavor::Futures)).unwrap();
        let feed = Feed {
            book,
            model: Default::default(),
            snapshot_at: at,
            snapshot: Some(snapshot),
            buffer: Vec::new(),
            tally: Tally::default(),
            tops: HashMap::new(),
        };
        feeds.insert(symbol, feed);
    }

    fn apply(feed: &mut Feed, symbol: &str, update: &DepthUpdate) {
        match feed.book.apply_diff(&update.as_diff()).unwrap() {
            SyncDecision::Apply => {
                feed.tally.applied += 1;
                for (i, levels) in [&update.bids, &update.asks].into_iter().enumerate() {
                    for level in levels {
                        if level.qty.is_zero() {
                            feed.model[i].remove(&level.price);
                        } else {
                            feed.model[i].insert(level.price, level.qty);
                        }
                    }
                }
                assert_healthy(&feed.book, symbol, update.final_update_id);
                let top = (feed.book.best_bid().unwrap(), feed.book.best_ask().unwrap());
                feed.tops.insert(update.final_update_id, top);
            }
            SyncDecision::DropStale => feed.tally.stale += 1,
            SyncDecision::Gap(gap) => {
                feed.tally.gaps += 1;
                panic!("{symbol}: {gap}");
            }
            SyncDecision::AwaitingSnapshot => panic!("{symbol}: not synced after its snapshot"),
        }
    }

    let mut tickers = Vec::new();
    for (at, message) in messages {
        let update = match message {
            Message::Depth(update) => update,
            Message::Ticker(ticker) => {
                tickers.push(ticker);
                continue;
            }
        };
        let symbol = update.symbol.clone();
        let feed = feeds.get_mut(&symbol).expect("a snapshot for every symbol");
        if at < feed.snapshot_at {
            // Before the snapshot: the book says so, and the adapter buffers.
            let decision = feed.book.apply_diff(&update.as_diff()).unwrap();
            assert_eq!(decision, SyncDecision::AwaitingSnapshot, "{symbol}");
            feed.buffer.push(update);
            feed.tally.buffered += 1;
            continue;
        }
        if let Some(snapshot) = feed.snapshot.take() {
            feed.book
                .apply_snapshot(
                    snapshot.last_update_id,
                    snapshot.bids.clone(),
                    snapshot.asks.clone(),
                )
                .unwrap();
            feed.model = [&snapshot.bids, &snapshot.asks]
                .map(|levels| levels.iter().map(|l| (l.price, l.qty)).collect());
            for buffered in std::mem::take(&mut feed.buffer) {
                apply(feed, &symbol, &buffered);
            }
        }
        apply(feed, &symbol, &update);
    }

    let tally = |symbol: &str| &feeds[symbol].tally;
    // Counted independently from the raw files (every symbol's feed starts before its snapshot
    // was fetched, so the first few diffs are buffered and the oldest of them are stale).
    assert_eq!(tally("SUSHIUSDT").stale, 3);
    assert_eq!(tally("AKROUSDT").stale, 1);
    assert_eq!(tally("KEEPUSDT").stale, 3);
    assert_eq!(tally("CTKUSDT").stale, 5);
    assert_eq!(tally("SUSHIUSDT").applied, 252);
    assert_eq!(tally("AKROUSDT").applied, 188);
    assert_eq!(tally("KEEPUSDT").applied, 132);
    assert_eq!(tally("CTKUSDT").applied, 180);

    let mut checkpoints = 0;
    for (symbol, feed) in &feeds {
        assert_eq!(feed.tally.gaps, 0, "{symbol}");
        assert!(
            feed.tally.buffered > 0,
            "{symbol}: replay should start before the snapshot"
        );
        assert!(feed.snapshot.is_none(), "{symbol}: snapshot never applied");
        // The book ends exactly where a naive map fed the same levels ends.
        for (i, side) in BookSide::BOTH.into_iter().enumerate() {
            let mut expected: Vec<Level> = feed.model[i]
                .iter()
                .map(|(&price, &qty)| Level::new(price, qty))
                .collect();
            if side == BookSide::Bid {
                expected.reverse();
            }
            assert_eq!(
                feed.book.levels(side).collect::<Vec<_>>(),
                expected,
                "{symbol} {side}"
            );
        }
        // Where a bookTicker carries the same update id as an applied diff, the best levels
        // must be the ones it reports.
        let symbol_tickers = tickers.iter().filter(|t| &t.symbol == symbol);
        checkpoints += support::assert_ticker_checkpoints(symbol, &feed.tops, symbol_tickers);
    }
    assert_eq!(
        checkpoints, 50,
        "bookTicker checkpoints (same u as an applied diff)"
    );
}

#[test]
fn ctkusdt_snapshot_holds_levels_off_its_exchange_info_tick() {
    // exchangeInfo (BINANCE_FUTURES.0) gives CTKUSDT a 0.001 tick, but its snapshot still holds
    // deep levels on the older 0.00001 grid (e.g. a bid at 0.50579): a book built on the listed
    // tick refuses the snapshot, which is why the replay above derives each tick from the data.
    let (_, _, snapshot) = snapshots()
        .into_iter()
        .find(|(symbol, _, _)| symbol == "CTKUSDT")
        .unwrap();
    let listed = Price::parse("0.001").unwrap();
    let mut book = OrderBook::new(BookConfig::new(listed, Flavor::Futures)).unwrap();
    let error = book
        .apply_snapshot(snapshot.last_update_id, snapshot.bids, snapshot.asks)
        .unwrap_err();
    assert!(
        matches!(
            error,
            BookError::OffTick {
                side: BookSide::Bid,
                ..
            }
        ),
        "{error}"
    );
    assert!(book.is_empty() && !book.is_synced());
}
