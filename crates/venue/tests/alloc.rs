//! Proves the frame parser allocates nothing once warmed up: a counting global allocator
//! watches every message of the BTCUSDT recording (REST snapshot, depth diffs up to 1,226
//! levels, bookTickers, trades) and of the cryptofeed capture (aggTrade, depth, kline,
//! bookTicker) parsed a second time, with each JSON library and each path, and must count zero.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use kestrel_testkit::{CountingAllocator, allocations};
use std::hint::black_box;

use kestrel_venue::binance::market::ReceiveTime;
use kestrel_venue::binance::{JsonLib, MarketParser};
use support::{CRYPTOFEED_WS, RECORDING, cryptofeed_json, read_vector, recording_lines};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Parses every message with `parse`, returning the allocations made while doing so.
fn allocations_while_parsing(messages: &[&str], parser: &mut MarketParser, general: bool) -> u64 {
    let before = allocations();
    for (n, message) in messages.iter().enumerate() {
        let recv = ReceiveTime::new(n as u64, 0);
        let parsed = if general {
            parser.parse_general(message, recv)
        } else {
            parser.parse(message, recv)
        };
        assert!(black_box(parsed).is_ok(), "{message}");
    }
    allocations() - before
}

/// Frames the recordings lack: mark price (single and array stream), control replies, errors.
const OTHER_FRAMES: [&str; 6] = [
    r#"{"stream":"btcusdt@markPrice","data":{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","ap":"11794.1","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}}"#,
    r#"{"stream":"!markPrice@arr","data":[{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"1","i":"1","P":"1","r":"","T":0}]}"#,
    r#"{"result":null,"id":1}"#,
    r#"{"result":["btcusdt@depth","btcusdt@trade"],"id":2}"#,
    r#"{"code":2,"msg":"Invalid request: unknown method","id":3}"#,
    r#"{"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"61800.3","q":"1","nq":"0.5","f":1,"l":2,"T":1,"m":true}"#,
];

#[test]
fn parsing_real_market_data_allocates_nothing_after_warm_up() {
    let recording = read_vector(RECORDING);
    let capture = read_vector(CRYPTOFEED_WS);
    let mut messages: Vec<&str> = recording_lines(&recording)
        .iter()
        .map(|line| line.json)
        .collect();
    messages.extend(capture.lines().skip(1).map(cryptofeed_json));
    messages.extend(OTHER_FRAMES);
    for json in JsonLib::ALL {
        for general in [false, true] {
            let mut parser = MarketParser::new().with_json_lib(json);
            let _warm_up = allocations_while_parsing(&messages, &mut parser, general);
            let counted = allocations_while_parsing(&messages, &mut parser, general);
            assert_eq!(
                counted,
                0,
                "{} {} path: {counted} allocations over {} messages",
                json.as_str(),
                if general { "general" } else { "fast" },
                messages.len()
            );
        }
    }
}

#[test]
fn the_counter_sees_allocations() {
    let before = allocations();
    let boxed = black_box(Box::new(7u64));
    assert!(allocations() > before);
    drop(boxed);
}
