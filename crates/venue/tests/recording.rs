//! Parses the real BTCUSDT recording (`shared/vectors/binance-usdm/btcusdt_20240808.gz`,
//! 93,954 lines: 1 REST snapshot, 6,551 depth diffs, 66,089 bookTickers, 21,313 trades) with
//! both JSON libraries, checks every value of every message against an independent decoding of
//! the raw text, spot-checks a few values written out by hand, and rebuilds the book from the
//! parsed events to meet the recording's bookTicker checkpoints.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{HashMap, HashSet};

use kestrel_model::book::{BookConfig, DepthDiff, Flavor, Level, OrderBook, SyncDecision};
use kestrel_model::{Price, Qty};
use kestrel_venue::binance::market::{DepthKind, MarketEvent, MarketFrame, ReceiveTime};
use kestrel_venue::binance::{JsonLib, MarketParser};
use serde_json::Value;
use support::{RECORDING, read_vector, recording_lines};

fn px(raw: i64) -> Price {
    Price::from_raw(raw)
}

fn qty(raw: i64) -> Qty {
    Qty::from_raw(raw)
}

#[test]
fn every_line_of_the_recording_parses_into_the_expected_event_kinds() {
    let text = read_vector(RECORDING);
    let lines = recording_lines(&text);
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
    let text = read_vector(RECORDING);
    let mut sonic = MarketParser::new().with_json_lib(JsonLib::SonicRs);
    let mut serde = MarketParser::new().with_json_lib(JsonLib::SerdeJson);
    for line in recording_lines(&text) {
        let a = sonic.parse(line.json, ReceiveTime::default()).unwrap();
        let b = serde.parse(line.json, ReceiveTime::default()).unwrap();
        assert_eq!(a, b, "{}", line.json);
    }
}

#[test]
fn the_fast_path_and_the_general_walk_agree_on_every_message() {
    let text = read_vector(RECORDING);
    for json in JsonLib::ALL {
        let mut fast = MarketParser::new().with_json_lib(json);
        let mut general = MarketParser::new().with_json_lib(json);
        for line in recording_lines(&text) {
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
    let text = read_vector(RECORDING);
    let mut parser = MarketParser::new();
    for line in recording_lines(&text) {
        let frame = parser.parse(line.json, ReceiveTime::default()).unwrap();
        check_against_raw(&frame, line.json);
    }
}

/// Compares a parsed frame with `serde_json::Value`'s reading of the same text.
fn check_against_raw(frame: &MarketFrame<'_>, json: &str) {
    let value: Value = serde_json::from_str(json).unwrap();
    let data = value.get("data").unwrap_or(&value);
    let s = |key: &str| data[key].as_str().unwrap();
    let n = |key: &str| data[key].as_u64().unwrap();
    let p = |key: &str| Price::parse(s(key)).unwrap();
    let q = |key: &str| Qty::parse(s(key)).unwrap();
    assert_eq!(frame.stream, value.get("stream").and_then(Value::as_str));
    match &frame.event {
        MarketEvent::Depth(depth) => {
            assert_eq!(depth.symbol, s("s"));
            assert_eq!(
                (depth.times.event_ms, depth.times.transaction_ms),
                (n("E"), n("T"))
            );
            let diff = &depth.diff;
            assert_eq!(diff.first_update_id, n("U"));
            assert_eq!(diff.final_update_id, n("u"));
            assert_eq!(diff.prev_final_update_id, Some(n("pu")));
            assert_eq!(diff.bids, raw_levels(&data["b"]).as_slice());
            assert_eq!(diff.asks, raw_levels(&data["a"]).as_slice());
            assert_eq!(depth.kind, DepthKind::Diff);
        }
        MarketEvent::BookTicker(ticker) => {
            assert_eq!(ticker.symbol, s("s"));
            assert_eq!(ticker.update_id, n("u"));
            assert_eq!(
                (ticker.times.event_ms, ticker.times.transaction_ms),
                (n("E"), n("T"))
            );
            assert_eq!(ticker.bid, Level::new(p("b"), q("B")));
            assert_eq!(ticker.ask, Level::new(p("a"), q("A")));
        }
        MarketEvent::Trade(trade) => {
            assert_eq!(trade.symbol, s("s"));
            assert_eq!(trade.trade_id, n("t"));
            assert_eq!(
                (trade.times.event_ms, trade.times.transaction_ms),
                (n("E"), n("T"))
            );
            assert_eq!((trade.price, trade.qty), (p("p"), q("q")));
            assert_eq!(trade.buyer_is_maker, data["m"].as_bool().unwrap());
            assert_eq!(trade.trade_type, data.get("X").and_then(Value::as_str));
        }
        MarketEvent::Snapshot(snapshot) => {
            assert_eq!(snapshot.last_update_id, n("lastUpdateId"));
            assert_eq!(snapshot.event_ms, Some(n("E")));
            assert_eq!(snapshot.transaction_ms, Some(n("T")));
            assert_eq!(snapshot.bids, raw_levels(&data["bids"]).as_slice());
            assert_eq!(snapshot.asks, raw_levels(&data["asks"]).as_slice());
        }
        other => panic!("unexpected event in the recording: {other:?}"),
    }
}

fn raw_levels(list: &Value) -> Vec<Level> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let price = Price::parse(pair[0].as_str().unwrap()).unwrap();
            let qty = Qty::parse(pair[1].as_str().unwrap()).unwrap();
            Level::new(price, qty)
        })
        .collect()
}

#[test]
fn first_messages_of_each_kind_carry_the_exact_values_of_the_raw_text() {
    let text = read_vector(RECORDING);
    let lines = recording_lines(&text);
    let mut parser = MarketParser::new();

    // Line 1: {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,
    // "T":1723161256298,"s":"BTCUSDT","U":5123107832006,"u":5123107837557,
    // "pu":5123107831937,"b":[["58710.20","0.014"],["61496.50","0.010"],["61510.90","0.000"],..
    let frame = parser.parse(lines[0].json, ReceiveTime::default()).unwrap();
    assert_eq!(frame.stream, Some("btcusdt@depth@0ms"));
    let MarketEvent::Depth(depth) = frame.event else {
        panic!("line 1 is a depth diff")
    };
    assert_eq!(depth.symbol, "BTCUSDT");
    assert_eq!(depth.times.event_ms, 1_723_161_256_299);
    assert_eq!(depth.times.transaction_ms, 1_723_161_256_298);
    let expected_ids = (
        5_123_107_832_006,
        5_123_107_837_557,
        Some(5_123_107_831_937),
    );
    let d = depth.diff;
    assert_eq!(
        (d.first_update_id, d.final_update_id, d.prev_final_update_id),
        expected_ids
    );
    assert_eq!(d.bids[0], Level::new(px(5_871_020_000_000), qty(1_400_000)));
    assert_eq!(d.bids[1], Level::new(px(6_149_650_000_000), qty(1_000_000)));
    assert_eq!(d.bids[2], Level::new(px(6_151_090_000_000), Qty::ZERO));

    // {"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507",
    //  "a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}
    let line = lines
        .iter()
        .find(|l| l.json.contains("@bookTicker"))
        .unwrap();
    let frame = parser.parse(line.json, ReceiveTime::default()).unwrap();
    let MarketEvent::BookTicker(ticker) = frame.event else {
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

    // {"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,
    //  "p":"61800.30","q":"0.006","X":"MARKET","m":false}
    let line = lines.iter().find(|l| l.json.contains("@trade")).unwrap();
    let frame = parser.parse(line.json, ReceiveTime::default()).unwrap();
    let MarketEvent::Trade(trade) = frame.event else {
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

    // Line 55: {"lastUpdateId":5123107852948,"E":1723161256501,"T":1723161256493,
    // "bids":[["61800.20","2.909"],...], 1,000 levels a side.
    let snapshot = parser.parse_depth_snapshot(lines[54].json).unwrap();
    assert_eq!(snapshot.last_update_id, 5_123_107_852_948);
    assert_eq!(snapshot.event_ms, Some(1_723_161_256_501));
    assert_eq!(snapshot.transaction_ms, Some(1_723_161_256_493));
    assert_eq!((snapshot.bids.len(), snapshot.asks.len()), (1000, 1000));
    assert_eq!(
        snapshot.bids[0],
        Level::new(px(6_180_020_000_000), qty(290_900_000))
    );
}

/// Owned copy of a diff that arrived before the snapshot.
struct BufferedDiff {
    ids: (u64, u64, Option<u64>),
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl BufferedDiff {
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

#[test]
fn parsed_events_rebuild_a_book_that_meets_every_book_ticker_checkpoint() {
    let text = read_vector(RECORDING);
    let tick = Price::parse("0.1").unwrap();
    let mut book = OrderBook::new(BookConfig::new(tick, Flavor::Futures)).unwrap();
    let mut parser = MarketParser::new();
    let mut buffered: Vec<BufferedDiff> = Vec::new();
    let mut tickers: HashMap<u64, (Level, Level)> = HashMap::new();
    let mut decisions: HashMap<&'static str, usize> = HashMap::new();
    let mut checkpoints = HashSet::new();
    let mut check = |book: &OrderBook, tickers: &HashMap<u64, (Level, Level)>| {
        let at = book.last_update_id().unwrap();
        if let Some(&(bid, ask)) = tickers.get(&at) {
            assert_eq!(book.best_bid(), Some(bid), "best bid at u={at}");
            assert_eq!(book.best_ask(), Some(ask), "best ask at u={at}");
            checkpoints.insert(at);
        }
    };
    for line in recording_lines(&text) {
        match parser
            .parse(line.json, ReceiveTime::default())
            .unwrap()
            .event
        {
            MarketEvent::Snapshot(snapshot) => {
                let (bids, asks) = (snapshot.bids.iter().copied(), snapshot.asks.iter().copied());
                book.apply_snapshot(snapshot.last_update_id, bids, asks)
                    .unwrap();
                for diff in buffered.drain(..) {
                    let decision = book.apply_diff(&diff.as_diff()).unwrap();
                    *decisions.entry(name(decision)).or_default() += 1;
                }
            }
            MarketEvent::Depth(depth) if book.last_update_id().is_none() => {
                let d = depth.diff;
                buffered.push(BufferedDiff {
                    ids: (d.first_update_id, d.final_update_id, d.prev_final_update_id),
                    bids: d.bids.to_vec(),
                    asks: d.asks.to_vec(),
                });
            }
            MarketEvent::Depth(depth) => {
                let decision = book.apply_diff(&depth.diff).unwrap();
                *decisions.entry(name(decision)).or_default() += 1;
                check(&book, &tickers);
            }
            MarketEvent::BookTicker(ticker) => {
                tickers.insert(ticker.update_id, (ticker.bid, ticker.ask));
                if book.last_update_id().is_some() {
                    check(&book, &tickers);
                }
            }
            _ => {}
        }
    }
    assert_eq!(decisions, HashMap::from([("apply", 6_547), ("stale", 4)]));
    assert_eq!(
        checkpoints.len(),
        629,
        "bookTicker checkpoints (same u as an applied diff)"
    );
}

fn name(decision: SyncDecision) -> &'static str {
    match decision {
        SyncDecision::Apply => "apply",
        SyncDecision::DropStale => "stale",
        SyncDecision::Gap(_) => "gap",
        SyncDecision::AwaitingSnapshot => "awaiting",
    }
}
