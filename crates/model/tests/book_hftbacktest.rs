//! Replays six minutes of real Binance USD-M BTCUSDT depth (the hftbacktest sample,
//! 2024-08-08: one 1,000-level snapshot, 6,551 `@depth@0ms` diffs of up to 1,226 levels, and
//! 66,089 bookTicker messages) through [`OrderBook::apply_diff`], and checks the rebuilt book's
//! best bid and ask against every bookTicker that carries the update id of an applied diff.
//!
//! File: `shared/vectors/binance-usdm/btcusdt_20240808.gz`, one message per line as
//! `<receive time ns> <JSON>`; see `shared/vectors/README.md`. It is decompressed in-process
//! (`flate2`) by the shared test support.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashMap;

use kestrel_model::Price;
use kestrel_model::book::{BookConfig, BookSide, Flavor, Level, OrderBook, SyncDecision};
use support::{BookTicker, DepthUpdate, Envelope, Snapshot};

fn recording() -> String {
    support::read_vector("binance-usdm/btcusdt_20240808.gz")
}

#[test]
fn btcusdt_book_matches_every_book_ticker_at_the_same_update_id() {
    let text = recording();
    let tick = Price::parse("0.1").unwrap();
    let mut book = OrderBook::new(BookConfig::new(tick, Flavor::Futures)).unwrap();
    let mut buffer: Vec<DepthUpdate> = Vec::new();
    let mut tickers: Vec<BookTicker> = Vec::new();
    let mut tops: HashMap<u64, (Level, Level)> = HashMap::new();
    let (mut stale, mut applied, mut snapshot_seen) = (0, 0, false);

    let mut apply = |book: &mut OrderBook, update: &DepthUpdate| {
        let decision = book.apply_diff(&update.as_diff()).unwrap();
        match decision {
            SyncDecision::Apply => {
                applied += 1;
                let top = (book.best_bid().unwrap(), book.best_ask().unwrap());
                tops.insert(update.final_update_id, top);
            }
            SyncDecision::DropStale => stale += 1,
            other => panic!("diff {}: {other:?}", update.final_update_id),
        }
    };

    for line in text.lines() {
        let (_, json) = line.split_once(' ').expect("`<time> <json>` line");
        if json.starts_with(r#"{"stream":"btcusdt@depth"#) {
            let update = serde_json::from_str::<Envelope<DepthUpdate>>(json)
                .unwrap()
                .data;
            if snapshot_seen {
                apply(&mut book, &update);
            } else {
                let decision = book.apply_diff(&update.as_diff()).unwrap();
                assert_eq!(decision, SyncDecision::AwaitingSnapshot);
                buffer.push(update);
            }
        } else if json.starts_with(r#"{"stream":"btcusdt@bookTicker"#) {
            tickers.push(
                serde_json::from_str::<Envelope<BookTicker>>(json)
                    .unwrap()
                    .data,
            );
        } else if json.starts_with(r#"{"lastUpdateId""#) {
            let snapshot: Snapshot = serde_json::from_str(json).unwrap();
            assert_eq!((snapshot.bids.len(), snapshot.asks.len()), (1000, 1000));
            book.apply_snapshot(snapshot.last_update_id, snapshot.bids, snapshot.asks)
                .unwrap();
            snapshot_seen = true;
            for update in std::mem::take(&mut buffer) {
                apply(&mut book, &update);
            }
        }
    }

    // The README's known properties of this recording.
    assert!(snapshot_seen);
    assert_eq!(stale, 4, "diffs older than the snapshot");
    assert_eq!(applied, 6547, "diffs applied");
    assert!(book.is_synced());
    assert!(!book.is_crossed());
    for side in BookSide::BOTH {
        assert!(
            book.len(side) >= 1000,
            "{side} side shrank to {}",
            book.len(side)
        );
    }

    let checkpoints = support::assert_ticker_checkpoints("BTCUSDT", &tops, &tickers);
    assert_eq!(
        checkpoints, 629,
        "bookTicker checkpoints (same u as an applied diff)"
    );
}
