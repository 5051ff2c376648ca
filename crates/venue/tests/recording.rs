//! Parses the real BTCUSDT recording (`shared/vectors/binance-usdm/btcusdt_20240808.gz`,
//! 93,954 lines: 1 REST snapshot, 6,551 depth diffs, 66,089 bookTickers, 21,313 trades) with
//! both JSON libraries and both paths, checks every value of every message against an
//! independent decoding of the raw text, spot-checks values written out by hand, and rebuilds
//! the book from the parsed events to meet the recording's bookTicker checkpoints.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use kestrel_model::book::{BookConfig, DepthDiff, Flavor, Level, OrderBook, SyncDecision};
use kestrel_model::{Price, Qty};
use kestrel_venue::binance::market::{
    BookTicker, DepthKind, DepthSnapshot, DepthUpdate, MarketEvent, MarketFrame, ReceiveTime,
    TradeEvent,
};
use kestrel_venue::binance::{JsonLib, MarketParser};
use serde_json::Value;
use support::{RECORDING, RecordedLine, read_vector, recording_lines};

/// The recording's text, read once for all the tests of this file.
static TEXT: LazyLock<String> = LazyLock::new(|| read_vector(RECORDING));

fn lines() -> Vec<RecordedLine<'static>> {
    recording_lines(&TEXT)
}

fn px(raw: i64) -> Price {
    Price::from_raw(raw)
}

fn qty(raw: i64) -> Qty {
    Qty::from_raw(raw)
}

#[test]
fn the_byte_scanner_takes_every_stream_frame_of_the_recording_enveloped_and_bare() {
    let mut parser = MarketParser::new();
    let mut scanned = 0;
    for (number, line) in lines().iter().enumerate() {
        if line.json.contains("lastUpdateId") {
            assert!(
                !parser.scans(line.json),
                "a REST body is the general walk's"
            );
            continue;
        }
        // The recording holds combined-stream frames; a raw stream sends the event alone.
        let bare = line
            .json
            .split_once(r#","data":"#)
            .and_then(|(_, data)| data.strip_suffix('}'))
            .unwrap_or_else(|| panic!("line {} is not enveloped", number + 1));
        for frame in [line.json, bare] {
            assert!(parser.scans(frame), "line {}: {frame}", number + 1);
        }
        scanned += 1;
    }
    assert_eq!(scanned, 93_953, "every line but the snapshot");
}

#[test]
fn every_line_of_the_recording_parses_into_the_expected_event_kinds() {
    let lines = lines();
    assert_eq!(lines.len(), 93_954, "lines in the recording");
    let mut parser = MarketParser::new();
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for (number, line) in lines.iter().enumerate() {
        let recv = ReceiveTime::new(number as u64, line.recv_ns);
        let frame = parser
            .parse(line.json, recv)
            .unwrap_or_else(|e| panic!("line {}: {e}", number + 1));
        assert_eq!(frame.recv, recv);
        *counts.entry(frame.event.kind()).or_default() += 1;
    }
    let expected = [
        ("snapshot", 1),
        ("depth", 6_551),
        ("book_ticker", 66_089),
        ("trade", 21_313),
    ];
    assert_eq!(counts, HashMap::from(expected));
}

#[test]
fn both_json_libraries_agree_on_every_message() {
    let mut sonic = MarketParser::new().with_json_lib(JsonLib::SonicRs);
    let mut serde = MarketParser::new().with_json_lib(JsonLib::SerdeJson);
    for line in lines() {
        let a = sonic.parse(line.json, ReceiveTime::default()).unwrap();
        let b = serde.parse(line.json, ReceiveTime::default()).unwrap();
        assert_eq!(a, b, "{}", line.json);
    }
}

#[test]
fn the_fast_path_and_the_general_walk_agree_on_every_message() {
    for json in JsonLib::ALL {
        let mut fast = MarketParser::new().with_json_lib(json);
        let mut general = MarketParser::new().with_json_lib(json);
        for line in lines() {
            let a = fast.parse(line.json, ReceiveTime::default()).unwrap();
            let b = general
                .parse_general(line.json, ReceiveTime::default())
                .unwrap();
            assert_eq!(a, b, "{}", line.json);
        }
    }
}

#[test]
fn every_value_matches_an_independent_decoding_of_the_raw_text() {
    let mut parser = MarketParser::new();
    for line in lines() {
        let frame = parser.parse(line.json, ReceiveTime::default()).unwrap();
        check_against_raw(&frame, line.json);
    }
}

/// `serde_json::Value`'s reading of one message: the envelope and its payload.
struct Raw {
    value: Value,
}

impl Raw {
    fn data(&self) -> &Value {
        self.value.get("data").unwrap_or(&self.value)
    }

    fn text(&self, key: &str) -> &str {
        self.data()[key].as_str().unwrap()
    }

    fn int(&self, key: &str) -> u64 {
        self.data()[key].as_u64().unwrap()
    }

    fn level(&self, price: &str, qty: &str) -> Level {
        Level::new(
            Price::parse(self.text(price)).unwrap(),
            Qty::parse(self.text(qty)).unwrap(),
        )
    }

    fn levels(&self, key: &str) -> Vec<Level> {
        let pairs = self.data()[key].as_array().unwrap();
        let text = |v: &Value| v.as_str().unwrap().to_owned();
        pairs
            .iter()
            .map(|pair| (text(&pair[0]), text(&pair[1])))
            .map(|(p, q)| Level::new(Price::parse(&p).unwrap(), Qty::parse(&q).unwrap()))
            .collect()
    }
}

/// Compares a parsed frame with `serde_json::Value`'s reading of the same text.
fn check_against_raw(frame: &MarketFrame<'_>, json: &str) {
    let raw = Raw {
        value: serde_json::from_str(json).unwrap(),
    };
    let stream = raw.value.get("stream").and_then(Value::as_str);
    assert_eq!(frame.stream, stream);
    match &frame.event {
        MarketEvent::Depth(depth) => check_depth(depth, &raw),
        MarketEvent::BookTicker(ticker) => check_book_ticker(ticker, &raw),
        MarketEvent::Trade(trade) => check_trade(trade, &raw),
        MarketEvent::Snapshot(snapshot) => check_snapshot(snapshot, &raw),
        other => panic!("unexpected event in the recording: {other:?}"),
    }
}

fn check_depth(depth: &DepthUpdate<'_>, raw: &Raw) {
    assert_eq!(depth.symbol, raw.text("s"));
    assert_eq!(depth.times.event_ms, raw.int("E"));
    assert_eq!(depth.times.transaction_ms, raw.int("T"));
    let diff = &depth.diff;
    assert_eq!(diff.first_update_id, raw.int("U"));
    assert_eq!(diff.final_update_id, raw.int("u"));
    assert_eq!(diff.prev_final_update_id, Some(raw.int("pu")));
    assert_eq!(diff.bids, raw.levels("b").as_slice());
    assert_eq!(diff.asks, raw.levels("a").as_slice());
    assert_eq!(depth.kind, DepthKind::Diff);
}

fn check_book_ticker(ticker: &BookTicker<'_>, raw: &Raw) {
    assert_eq!(ticker.symbol, raw.text("s"));
    assert_eq!(ticker.update_id, raw.int("u"));
    assert_eq!(ticker.times.event_ms, raw.int("E"));
    assert_eq!(ticker.times.transaction_ms, raw.int("T"));
    assert_eq!(ticker.bid, raw.level("b", "B"));
    assert_eq!(ticker.ask, raw.level("a", "A"));
}

fn check_trade(trade: &TradeEvent<'_>, raw: &Raw) {
    assert_eq!(trade.symbol, raw.text("s"));
    assert_eq!(trade.trade_id, raw.int("t"));
    assert_eq!(trade.times.event_ms, raw.int("E"));
    assert_eq!(trade.times.transaction_ms, raw.int("T"));
    assert_eq!(Level::new(trade.price, trade.qty), raw.level("p", "q"));
    assert_eq!(trade.buyer_is_maker, raw.data()["m"].as_bool().unwrap());
    assert_eq!(
        trade.trade_type,
        raw.data().get("X").and_then(Value::as_str)
    );
}

fn check_snapshot(snapshot: &DepthSnapshot<'_>, raw: &Raw) {
    assert_eq!(snapshot.last_update_id, raw.int("lastUpdateId"));
    assert_eq!(snapshot.event_ms, Some(raw.int("E")));
    assert_eq!(snapshot.transaction_ms, Some(raw.int("T")));
    assert_eq!(snapshot.bids, raw.levels("bids").as_slice());
    assert_eq!(snapshot.asks, raw.levels("asks").as_slice());
}

/// The first message whose text contains `marker`, parsed.
fn first_with(marker: &str, parser: &mut MarketParser, check: impl Fn(&MarketFrame<'_>)) {
    let line = lines()
        .into_iter()
        .find(|l| l.json.contains(marker))
        .unwrap();
    check(&parser.parse(line.json, ReceiveTime::default()).unwrap());
}

#[test]
fn the_first_depth_diff_carries_the_exact_values_of_the_raw_text() {
    // Line 1: {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,
    // "T":1723161256298,"s":"BTCUSDT","U":5123107832006,"u":5123107837557,
    // "pu":5123107831937,"b":[["58710.20","0.014"],["61496.50","0.010"],["61510.90","0.000"],..
    first_with("@depth", &mut MarketParser::new(), |frame| {
        assert_eq!(frame.stream, Some("btcusdt@depth@0ms"));
        let MarketEvent::Depth(depth) = &frame.event else {
            panic!("line 1 is a depth diff")
        };
        assert_eq!(depth.symbol, "BTCUSDT");
        assert_eq!(depth.times.event_ms, 1_723_161_256_299);
        assert_eq!(depth.times.transaction_ms, 1_723_161_256_298);
        let d = depth.diff;
        assert_eq!(d.first_update_id, 5_123_107_832_006);
        assert_eq!(d.final_update_id, 5_123_107_837_557);
        assert_eq!(d.prev_final_update_id, Some(5_123_107_831_937));
        assert_eq!(d.bids[0], Level::new(px(5_871_020_000_000), qty(1_400_000)));
        assert_eq!(d.bids[1], Level::new(px(6_149_650_000_000), qty(1_000_000)));
        assert_eq!(d.bids[2], Level::new(px(6_151_090_000_000), Qty::ZERO));
    });
}

#[test]
fn the_first_book_ticker_and_trade_carry_the_exact_values_of_the_raw_text() {
    let mut parser = MarketParser::new();
    // {"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507",
    //  "a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}
    first_with("@bookTicker", &mut parser, |frame| {
        let MarketEvent::BookTicker(ticker) = &frame.event else {
            panic!("a bookTicker")
        };
        assert_eq!(ticker.update_id, 5_123_107_839_020);
        assert_eq!(
            ticker.bid,
            Level::new(px(6_180_020_000_000), qty(250_700_000))
        );
        assert_eq!(
            ticker.ask,
            Level::new(px(6_180_030_000_000), qty(251_000_000))
        );
        assert_eq!(ticker.times.event_ms, 1_723_161_256_313);
    });
    // {"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,
    //  "p":"61800.30","q":"0.006","X":"MARKET","m":false}
    first_with("@trade", &mut parser, |frame| {
        let MarketEvent::Trade(trade) = &frame.event else {
            panic!("a trade")
        };
        assert_eq!(trade.trade_id, 5_266_583_935);
        assert_eq!(
            (trade.price, trade.qty),
            (px(6_180_030_000_000), qty(600_000))
        );
        assert_eq!(trade.trade_type, Some("MARKET"));
        assert!(!trade.buyer_is_maker);
        assert_eq!(trade.to_trade().timestamp_ms, 1_723_161_256_322);
    });
}

#[test]
fn the_rest_snapshot_line_carries_the_exact_values_of_the_raw_text() {
    // Line 55: {"lastUpdateId":5123107852948,"E":1723161256501,"T":1723161256493,
    // "bids":[["61800.20","2.909"],...], 1,000 levels a side.
    let line = &lines()[54];
    let mut parser = MarketParser::new();
    let snapshot = parser.parse_depth_snapshot(line.json).unwrap();
    assert_eq!(snapshot.last_update_id, 5_123_107_852_948);
    assert_eq!(snapshot.event_ms, Some(1_723_161_256_501));
    assert_eq!(snapshot.transaction_ms, Some(1_723_161_256_493));
    assert_eq!((snapshot.bids.len(), snapshot.asks.len()), (1000, 1000));
    let best_bid = Level::new(px(6_180_020_000_000), qty(290_900_000));
    assert_eq!(snapshot.bids[0], best_bid);
}

/// Owned copy of a diff that arrived before the snapshot.
struct BufferedDiff {
    ids: (u64, u64, Option<u64>),
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl BufferedDiff {
    fn of(diff: &DepthDiff<'_>) -> Self {
        Self {
            ids: (
                diff.first_update_id,
                diff.final_update_id,
                diff.prev_final_update_id,
            ),
            bids: diff.bids.to_vec(),
            asks: diff.asks.to_vec(),
        }
    }

    fn as_diff(&self) -> DepthDiff<'_> {
        DepthDiff {
            first_update_id: self.ids.0,
            final_update_id: self.ids.1,
            prev_final_update_id: self.ids.2,
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

/// A BTCUSDT book fed from parsed events, checked against the bookTickers it has seen.
struct Replay {
    book: OrderBook,
    buffered: Vec<BufferedDiff>,
    tickers: HashMap<u64, (Level, Level)>,
    decisions: HashMap<&'static str, usize>,
    checkpoints: HashSet<u64>,
}

impl Replay {
    fn new() -> Self {
        let tick = Price::parse("0.1").unwrap();
        Self {
            book: OrderBook::new(BookConfig::new(tick, Flavor::Futures)).unwrap(),
            buffered: Vec::new(),
            tickers: HashMap::new(),
            decisions: HashMap::new(),
            checkpoints: HashSet::new(),
        }
    }

    fn on_event(&mut self, event: &MarketEvent<'_>) {
        match event {
            MarketEvent::Snapshot(snapshot) => {
                let (bids, asks) = (snapshot.bids.iter().copied(), snapshot.asks.iter().copied());
                let last_update_id = snapshot.last_update_id;
                self.book
                    .apply_snapshot(last_update_id, bids, asks)
                    .unwrap();
                for diff in std::mem::take(&mut self.buffered) {
                    self.apply(&diff.as_diff());
                }
            }
            MarketEvent::Depth(depth) if self.book.last_update_id().is_none() => {
                self.buffered.push(BufferedDiff::of(&depth.diff));
            }
            MarketEvent::Depth(depth) => self.apply(&depth.diff),
            MarketEvent::BookTicker(ticker) => {
                self.tickers
                    .insert(ticker.update_id, (ticker.bid, ticker.ask));
                self.check();
            }
            _ => {}
        }
    }

    fn apply(&mut self, diff: &DepthDiff<'_>) {
        let decision = match self.book.apply_diff(diff).unwrap() {
            SyncDecision::Apply => "apply",
            SyncDecision::DropStale => "stale",
            SyncDecision::Gap(_) => "gap",
            SyncDecision::AwaitingSnapshot => "awaiting",
        };
        *self.decisions.entry(decision).or_default() += 1;
        self.check();
    }

    /// When a bookTicker has the book's update id, its best levels must be the book's.
    fn check(&mut self) {
        let Some(at) = self.book.last_update_id() else {
            return;
        };
        if let Some(&(bid, ask)) = self.tickers.get(&at) {
            assert_eq!(self.book.best_bid(), Some(bid), "best bid at u={at}");
            assert_eq!(self.book.best_ask(), Some(ask), "best ask at u={at}");
            self.checkpoints.insert(at);
        }
    }
}

#[test]
fn parsed_events_rebuild_a_book_that_meets_every_book_ticker_checkpoint() {
    let mut parser = MarketParser::new();
    let mut replay = Replay::new();
    for line in lines() {
        let frame = parser.parse(line.json, ReceiveTime::default()).unwrap();
        replay.on_event(&frame.event);
    }
    let expected = HashMap::from([("apply", 6_547), ("stale", 4)]);
    assert_eq!(
        replay.decisions, expected,
        "six diffs before the snapshot, four stale"
    );
    assert_eq!(
        replay.checkpoints.len(),
        629,
        "bookTickers at an applied diff's u"
    );
}
