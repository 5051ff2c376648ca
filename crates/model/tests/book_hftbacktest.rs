//! Replays six minutes of real Binance USD-M BTCUSDT depth (the hftbacktest sample,
//! 2024-08-08: one 1,000-level snapshot, 6,551 `@depth@0ms` diffs of up to 1,226 levels, and
//! 66,089 bookTicker messages) through [`OrderBook::apply_diff`], and checks the rebuilt book's
//! best bid and ask against every bookTicker that carries the update id of an applied diff.
//!
//! File: `shared/vectors/binance-usdm/btcusdt_20240808.gz`, one message per line as
//! `<receive time ns> <JSON>`; see `shared/vectors/README.md`. It is decompressed with the
//! system's `gzip`, as the crate has no decompression dependency.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use kestrel_model::book::{
    BookConfig, BookSide, DepthDiff, Flavor, Level, OrderBook, SyncDecision,
};
use kestrel_model::{Price, Qty};
use serde::Deserialize;

fn recording() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/binance-usdm/btcusdt_20240808.gz");
    assert!(
        path.is_file(),
        "missing test vector {}: the shared/ folder must sit beside the repository checkout \
         (see shared/vectors/README.md)",
        path.display()
    );
    let output = Command::new("gzip")
        .arg("-dc")
        .arg(&path)
        .output()
        .unwrap_or_else(|error| panic!("cannot run `gzip -dc {}`: {error}", path.display()));
    assert!(
        output.status.success(),
        "gzip -dc {} failed",
        path.display()
    );
    String::from_utf8(output.stdout).unwrap()
}

#[derive(Deserialize)]
struct Snapshot {
    #[serde(rename = "lastUpdateId")]
    last_update_id: u64,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

#[derive(Deserialize)]
struct DepthUpdate {
    #[serde(rename = "U")]
    first_update_id: u64,
    #[serde(rename = "u")]
    final_update_id: u64,
    #[serde(rename = "pu")]
    prev_final_update_id: u64,
    #[serde(rename = "b")]
    bids: Vec<Level>,
    #[serde(rename = "a")]
    asks: Vec<Level>,
}

#[derive(Deserialize)]
struct BookTicker {
    #[serde(rename = "u")]
    update_id: u64,
    #[serde(rename = "b")]
    bid_price: Price,
    #[serde(rename = "B")]
    bid_qty: Qty,
    #[serde(rename = "a")]
    ask_price: Price,
    #[serde(rename = "A")]
    ask_qty: Qty,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
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
        let diff = DepthDiff {
            first_update_id: update.first_update_id,
            final_update_id: update.final_update_id,
            prev_final_update_id: Some(update.prev_final_update_id),
            bids: &update.bids,
            asks: &update.asks,
        };
        match book.apply_diff(&diff).unwrap() {
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
                let decision = book
                    .apply_diff(&DepthDiff {
                        first_update_id: update.first_update_id,
                        final_update_id: update.final_update_id,
                        prev_final_update_id: Some(update.prev_final_update_id),
                        bids: &update.bids,
                        asks: &update.asks,
                    })
                    .unwrap();
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

    let mut checkpoints = 0;
    for ticker in &tickers {
        if let Some((bid, ask)) = tops.get(&ticker.update_id) {
            let at = ticker.update_id;
            assert_eq!(
                *bid,
                Level::new(ticker.bid_price, ticker.bid_qty),
                "best bid at u={at}"
            );
            assert_eq!(
                *ask,
                Level::new(ticker.ask_price, ticker.ask_qty),
                "best ask at u={at}"
            );
            checkpoints += 1;
        }
    }
    assert_eq!(
        checkpoints, 629,
        "bookTicker checkpoints (same u as an applied diff)"
    );
}
