// Each test binary that declares `mod support;` uses only a subset of these helpers.
#![allow(dead_code)]

//! Shared pieces of the Binance USD-M replay tests (`book_cryptofeed`, `book_hftbacktest`):
//! locating and reading the recorded vectors in the repository's sibling `shared/vectors/`
//! folder, the serde shapes of the recorded messages, and the bookTicker checkpoint check.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use kestrel_model::book::{DepthDiff, Level};
use kestrel_model::{Price, Qty};
use serde::Deserialize;

/// The path of `relative` (e.g. `binance-usdm/btcusdt_20240808.gz`) under `shared/vectors/`,
/// the folder that sits beside the repository checkout.
///
/// # Panics
///
/// When the file is absent, with a message pointing at `shared/vectors/README.md`.
pub fn vector_path(relative: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors")
        .join(relative);
    assert!(
        path.is_file(),
        "missing test vector {}: the shared/ folder must sit beside the repository checkout \
         (see shared/vectors/README.md)",
        path.display()
    );
    path
}

/// The text of the vector at `relative` under `shared/vectors/` (see [`vector_path`]);
/// a `.gz` file is decompressed on the fly.
///
/// # Panics
///
/// When the file is absent or cannot be read or decompressed as UTF-8 text.
pub fn read_vector(relative: &str) -> String {
    let path = vector_path(relative);
    let fail = |error: std::io::Error| -> ! {
        panic!(
            "cannot read test vector {} ({error}); the shared/ folder must sit beside the \
             repository checkout (see shared/vectors/README.md)",
            path.display()
        )
    };
    let file = File::open(&path).unwrap_or_else(|error| fail(error));
    let mut reader: Box<dyn Read> = if is_gzip(&path) {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .unwrap_or_else(|error| fail(error));
    text
}

/// A `/fapi/v1/depth` REST response: a full depth snapshot as of `lastUpdateId`.
#[derive(Debug, Clone, Deserialize)]
pub struct Snapshot {
    #[serde(rename = "lastUpdateId")]
    pub last_update_id: u64,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

/// A `depthUpdate` event (§6.2).
#[derive(Debug, Clone, Deserialize)]
pub struct DepthUpdate {
    /// The event's symbol (`s`); empty when the message carries none.
    #[serde(rename = "s", default)]
    pub symbol: String,
    #[serde(rename = "U")]
    pub first_update_id: u64,
    #[serde(rename = "u")]
    pub final_update_id: u64,
    #[serde(rename = "pu")]
    pub prev_final_update_id: u64,
    #[serde(rename = "b")]
    pub bids: Vec<Level>,
    #[serde(rename = "a")]
    pub asks: Vec<Level>,
}

impl DepthUpdate {
    /// The event as the [`DepthDiff`] that `OrderBook::apply_diff` takes (futures flavour:
    /// `pu` is always present).
    pub fn as_diff(&self) -> DepthDiff<'_> {
        DepthDiff {
            first_update_id: self.first_update_id,
            final_update_id: self.final_update_id,
            prev_final_update_id: Some(self.prev_final_update_id),
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

/// A `bookTicker` event (§6.6): best bid/ask at update id `u`.
#[derive(Debug, Clone, Deserialize)]
pub struct BookTicker {
    /// The event's symbol (`s`); empty when the message carries none.
    #[serde(rename = "s", default)]
    pub symbol: String,
    #[serde(rename = "u")]
    pub update_id: u64,
    #[serde(rename = "b")]
    pub bid_price: Price,
    #[serde(rename = "B")]
    pub bid_qty: Qty,
    #[serde(rename = "a")]
    pub ask_price: Price,
    #[serde(rename = "A")]
    pub ask_qty: Qty,
}

/// A combined-stream message: `{"stream": "<name>", "data": <event>}`.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub stream: String,
    pub data: T,
}

/// Checks the book against every ticker whose update id is a key of `tops` (the best bid and
/// ask recorded right after applying the diff with that final update id): the ticker's best
/// bid and ask, prices and quantities, must equal the book's. `label` names the feed in
/// failure messages. Returns how many tickers were checked.
pub fn assert_ticker_checkpoints<'a>(
    label: &str,
    tops: &HashMap<u64, (Level, Level)>,
    tickers: impl IntoIterator<Item = &'a BookTicker>,
) -> usize {
    let mut checkpoints = 0;
    for ticker in tickers {
        if let Some((bid, ask)) = tops.get(&ticker.update_id) {
            let at = ticker.update_id;
            assert_eq!(
                *bid,
                Level::new(ticker.bid_price, ticker.bid_qty),
                "{label}: best bid at u={at}"
            );
            assert_eq!(
                *ask,
                Level::new(ticker.ask_price, ticker.ask_qty),
                "{label}: best ask at u={at}"
            );
            checkpoints += 1;
        }
    }
    checkpoints
}

/// Whether `path` names a gzip file (by its `.gz` extension).
fn is_gzip(path: &Path) -> bool {
    path.extension() == Some("gz".as_ref())
}
