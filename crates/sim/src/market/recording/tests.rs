//! The recording format's specification: the real BTCUSDT capture read, replayed and
//! rebuilt into a book that matches every bookTicker checkpoint; writer round trips; malformed
//! lines counted, never fatal; pacing.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::PathBuf;
use std::sync::OnceLock;

use flate2::read::MultiGzDecoder;
use kestrel_model::{Level, Price, Qty};
use serde::Deserialize;

use super::*;

const BTCUSDT: &str = "binance-usdm/btcusdt_20240808.gz";

/// The path of a shared test vector; fails with directions when it is absent.
fn vector_path(relative: &str) -> PathBuf {
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

/// The BTCUSDT recording read once for all tests, with the reader's statistics.
fn btcusdt() -> &'static (Vec<RecordedMessage>, ReaderStats) {
    static MESSAGES: OnceLock<(Vec<RecordedMessage>, ReaderStats)> = OnceLock::new();
    MESSAGES.get_or_init(|| {
        let mut reader = RecordingReader::open(vector_path(BTCUSDT)).unwrap();
        let messages: Vec<RecordedMessage> = reader.by_ref().collect();
        (messages, reader.stats().clone())
    })
}

/// The BTCUSDT recording's text, decompressed.
fn btcusdt_text() -> String {
    let mut text = String::new();
    let file = std::fs::File::open(vector_path(BTCUSDT)).unwrap();
    MultiGzDecoder::new(file).read_to_string(&mut text).unwrap();
    text
}

#[test]
fn real_btcusdt_recording_has_the_documented_counts() {
    let (messages, stats) = btcusdt();
    assert_eq!(stats.lines, 93_954);
    assert_eq!(stats.messages, 93_954);
    assert_eq!(
        (stats.malformed, stats.blank_lines, stats.io_error()),
        (0, 0, None)
    );
    assert_eq!(stats.count(MessageKind::DepthDiff), 6_551);
    assert_eq!(stats.count(MessageKind::BookTicker), 66_089);
    assert_eq!(stats.count(MessageKind::Trade), 21_313);
    assert_eq!(stats.count(MessageKind::Snapshot), 1);
    let snapshot = messages
        .iter()
        .position(|m| m.kind == MessageKind::Snapshot);
    assert_eq!(snapshot, Some(54), "line 55 is the REST snapshot");
    for message in messages {
        if message.kind == MessageKind::Snapshot {
            assert_eq!(
                (message.stream.as_deref(), message.symbol.as_deref()),
                (None, None)
            );
            assert!(message.raw.starts_with(r#"{"lastUpdateId":"#));
        } else {
            assert_eq!(message.symbol.as_deref(), Some("BTCUSDT"));
            assert!(
                message
                    .stream
                    .as_deref()
                    .is_some_and(|s| s.starts_with("btcusdt@"))
            );
            assert!(message.raw.starts_with(r#"{"e":""#), "data kept verbatim");
        }
    }
}

/// The ids and top of book a bookTicker reports (§6.6).
#[derive(Debug, Deserialize)]
struct BookTicker {
    u: u64,
    b: Price,
    #[serde(rename = "B")]
    bid_qty: Qty,
    a: Price,
    #[serde(rename = "A")]
    ask_qty: Qty,
}

/// Replays the BTCUSDT recording into a book with `tick`, recording the top of book at every
/// update id it reflects, and checks it against every bookTicker with the same `u`.
fn assert_book_matches_book_tickers(tick: Option<Price>) {
    let (messages, _) = btcusdt();
    let book = ReplayBook::new(Some("btcusdt"), tick);
    let mut replay = Replay::new(
        messages.iter().cloned(),
        Pacing::AsFastAsPossible { batch: 1 },
    )
    .with_book(book);
    let mut tops: BTreeMap<u64, (Level, Level)> = BTreeMap::new();
    let mut tickers = Vec::new();
    let mut out = Vec::new();
    while replay.poll(0, &mut out) > 0 {
        let message = out.pop().unwrap();
        let book = replay.book().unwrap();
        match message.kind {
            MessageKind::BookTicker => {
                tickers.push(serde_json::from_str::<BookTicker>(&message.raw).unwrap())
            }
            MessageKind::DepthDiff | MessageKind::Snapshot if book.is_synced() => {
                let inner = book.book().unwrap();
                let top = (inner.best_bid().unwrap(), inner.best_ask().unwrap());
                tops.insert(inner.last_update_id().unwrap(), top);
            }
            _ => {}
        }
    }
    let book = replay.book().unwrap();
    let stats = *book.stats();
    assert_eq!(
        (stats.snapshots, stats.stale, stats.applied),
        (1, 4, 6_547),
        "{stats:?}"
    );
    assert_eq!(
        (stats.gaps, stats.rejected, stats.overflowed),
        (0, 0, 0),
        "{stats:?}"
    );
    assert!(book.is_synced() && !book.book().unwrap().is_crossed());
    let mut checkpoints = 0;
    for ticker in &tickers {
        if let Some((bid, ask)) = tops.get(&ticker.u) {
            assert_eq!(
                *bid,
                Level::new(ticker.b, ticker.bid_qty),
                "best bid at u={}",
                ticker.u
            );
            assert_eq!(
                *ask,
                Level::new(ticker.a, ticker.ask_qty),
                "best ask at u={}",
                ticker.u
            );
            checkpoints += 1;
        }
    }
    // The same 629 checkpoints as kestrel-model's book_hftbacktest test.
    assert_eq!(
        checkpoints, 629,
        "bookTicker checkpoints (same u as an applied diff)"
    );
}

#[test]
fn replay_book_stays_synced_and_matches_every_book_ticker_with_the_instrument_tick() {
    assert_book_matches_book_tickers(Some(Price::parse("0.1").unwrap()));
}

#[test]
fn replay_book_stays_synced_and_matches_every_book_ticker_with_a_derived_tick() {
    assert_book_matches_book_tickers(None);
}

#[test]
fn derived_tick_is_the_finest_decimal_step_written() {
    let (messages, _) = btcusdt();
    let mut book = ReplayBook::new(None, None);
    for message in messages.iter().take(100) {
        book.apply(message);
    }
    assert_eq!(
        book.tick(),
        Price::parse("0.01").unwrap(),
        "\"61800.20\" is written with 2 decimals"
    );
}

#[test]
fn depth_snapshot_reflects_the_replayed_book_at_that_moment() {
    let (messages, _) = btcusdt();
    let mut replay = Replay::new(messages.iter().cloned(), Pacing::OriginalSpacing)
        .with_book(ReplayBook::new(None, None));
    let mut out = Vec::new();
    assert!(
        replay.book().unwrap().depth(10).is_none(),
        "no snapshot yet"
    );
    replay.poll(100 * 1_000_000_000, &mut out);
    let last_diff = out
        .iter()
        .rev()
        .find(|m| m.kind == MessageKind::DepthDiff)
        .unwrap();
    #[derive(Deserialize)]
    struct Ids {
        u: u64,
        #[serde(rename = "E")]
        event_time_ms: u64,
    }
    let ids: Ids = serde_json::from_str(&last_diff.raw).unwrap();
    let depth = replay.book().unwrap().depth(1000).unwrap();
    assert_eq!(
        depth.last_update_id, ids.u,
        "lastUpdateId is the last applied diff's u"
    );
    assert_eq!(depth.event_time_ms, Some(ids.event_time_ms));
    assert_eq!((depth.bids.len(), depth.asks.len()), (1000, 1000));
    assert!(depth.bids.windows(2).all(|w| w[0].price > w[1].price));
    assert!(depth.asks.windows(2).all(|w| w[0].price < w[1].price));
    assert!(depth.bids[0].price < depth.asks[0].price);
    assert_eq!(
        replay.book().unwrap().depth(5).unwrap().bids[..],
        depth.bids[..5]
    );
}

/// Writes `messages` and checks the bytes against `text` (the recording's own lines); for
/// gzip, also reads them back and checks the messages.
fn assert_round_trip(messages: &[RecordedMessage], text: &str, compression: Compression) {
    let mut writer = RecordingWriter::new(Vec::new(), compression, "memory");
    for message in messages {
        writer.write_message(message).unwrap();
    }
    assert_eq!(writer.lines(), messages.len() as u64);
    let bytes = writer.finish().unwrap();
    let mut written = String::new();
    match compression {
        Compression::None => written = String::from_utf8(bytes.clone()).unwrap(),
        Compression::Gzip => {
            assert_eq!(bytes[..2], [0x1f, 0x8b]);
            MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut written)
                .unwrap();
        }
    }
    assert!(
        written == text,
        "{compression:?}: written lines differ from the recording"
    );
    if compression == Compression::Gzip {
        let reread: Vec<RecordedMessage> = RecordingReader::detect(Cursor::new(bytes), "memory")
            .unwrap()
            .collect();
        assert!(
            reread == messages,
            "messages differ after a gzip round trip"
        );
    }
}

#[test]
fn writer_round_trip_reproduces_the_recording_exactly_plain_and_gzip() {
    let (messages, _) = btcusdt();
    let text = btcusdt_text();
    assert_round_trip(messages, &text, Compression::None);
    // gzip on the first 10,000 lines keeps the unoptimised test build quick.
    let prefix_end = text
        .match_indices('\n')
        .nth(9_999)
        .map_or(text.len(), |(at, _)| at + 1);
    assert_round_trip(&messages[..10_000], &text[..prefix_end], Compression::Gzip);
}

#[test]
fn write_raw_keeps_any_json_verbatim_and_refuses_line_breaks() {
    let mut writer = RecordingWriter::new(Vec::new(), Compression::None, "memory");
    writer
        .write_raw(5, r#"{ "e" : "trade", "s":"ETHUSDT" }"#)
        .unwrap();
    writer.write_raw(6, r#"{"result":null,"id":1}"#).unwrap();
    let error = writer.write_raw(7, "{\n}").unwrap_err();
    assert!(
        matches!(error, RecordingError::LineBreakInJson { recv_ns: 7 }),
        "{error}"
    );
    let bytes = writer.finish().unwrap();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        "5 { \"e\" : \"trade\", \"s\":\"ETHUSDT\" }\n6 {\"result\":null,\"id\":1}\n"
    );
    let messages: Vec<_> = RecordingReader::new(&bytes[..], "memory").collect();
    assert_eq!(messages[0].kind, MessageKind::Trade);
    assert_eq!(messages[0].symbol.as_deref(), Some("ETHUSDT"));
    assert_eq!(messages[1].kind, MessageKind::Other);
}

#[test]
fn gzip_is_detected_by_magic_bytes_not_by_file_name() {
    let line = r#"1 {"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT"}}"#;
    let dir = std::env::temp_dir().join(format!("kestrel-recording-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gzip_named_txt = dir.join("gzip.txt");
    let plain_named_gz = dir.join("plain.gz");
    for (path, compression) in [
        (&gzip_named_txt, Compression::Gzip),
        (&plain_named_gz, Compression::None),
    ] {
        let mut writer = RecordingWriter::create(path, compression).unwrap();
        writer
            .write_raw(1, line.split_once(' ').unwrap().1)
            .unwrap();
        writer.finish().unwrap();
        let messages: Vec<_> = RecordingReader::open(path).unwrap().collect();
        assert_eq!(messages.len(), 1, "{}", path.display());
        assert_eq!(messages[0].kind, MessageKind::Trade);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let missing = RecordingReader::open(dir.join("missing"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("missing"), "{missing}");
}

#[test]
fn malformed_lines_are_counted_and_skipped_never_fatal() {
    let mut input = Vec::new();
    let lines: [&[u8]; 12] = [
        br#"1 {"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT"}}"#,
        b"no-separator",
        br#"12x {"e":"trade"}"#,
        br#"2 {"e":"trade","s":"BTCUSDT""#,
        b"3 [1,2,3]",
        br#"4 {"stream":5,"data":{}}"#,
        b"5 {\"e\":\"trade\",\"s\":\"\xff\"}",
        b"",
        b"   ",
        br#"6 {"e":"bookTicker","s":"BTCUSDT","filler":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
        b"7 {\"e\":\"aggTrade\",\"s\":\"BTCUSDT\"}\r",
        br#"8 {"lastUpdateId":1,"bids":[],"asks":[]}"#,
    ];
    for line in lines {
        input.extend_from_slice(line);
        input.push(b'\n');
    }
    let mut reader = RecordingReader::new(&input[..], "crafted").with_max_line_bytes(100);
    let messages: Vec<_> = reader.by_ref().collect();
    let kinds: Vec<_> = messages.iter().map(|m| (m.recv_ns, m.kind)).collect();
    assert_eq!(
        kinds,
        [
            (1, MessageKind::Trade),
            (7, MessageKind::AggTrade),
            (8, MessageKind::Snapshot)
        ]
    );
    let stats = reader.stats();
    assert_eq!(
        (
            stats.lines,
            stats.messages,
            stats.blank_lines,
            stats.malformed
        ),
        (12, 3, 2, 7)
    );
    for kind in LineErrorKind::ALL {
        assert_eq!(stats.malformed_count(kind), 1, "{kind:?}");
    }
    let first: Vec<_> = stats
        .first_errors()
        .iter()
        .map(|e| (e.line, e.kind))
        .collect();
    assert_eq!(first[0], (2, LineErrorKind::MissingSeparator));
    assert_eq!(first[1], (3, LineErrorKind::BadTimestamp));
    assert_eq!(first[2], (4, LineErrorKind::InvalidJson));
    let shown = stats.first_errors()[2].to_string();
    assert!(shown.starts_with("line 4: invalid JSON ("), "{shown}");
}

#[test]
fn a_truncated_gzip_stream_ends_reading_with_an_io_error_after_the_good_lines() {
    let mut writer = RecordingWriter::new(Vec::new(), Compression::Gzip, "memory");
    for i in 0..2_000 {
        writer
            .write_raw(i, &format!(r#"{{"e":"trade","s":"BTCUSDT","t":{i}}}"#))
            .unwrap();
    }
    let bytes = writer.finish().unwrap();
    let cut = bytes[..bytes.len() - 20].to_vec();
    let mut reader = RecordingReader::detect(Cursor::new(cut), "cut.gz").unwrap();
    let read = reader.by_ref().count();
    assert!(read > 1_000, "{read} lines before the cut");
    let error = reader.stats().io_error().unwrap();
    assert!(error.contains("cut.gz"), "{error}");
}

#[test]
fn messages_are_classified_by_event_type_then_stream_name() {
    let cases = [
        (
            r#"{"e":"aggTrade","s":"ETHUSDT","a":1}"#,
            MessageKind::AggTrade,
            None,
            Some("ETHUSDT"),
        ),
        (
            r#"{"stream":"btcusdt@depth5@100ms","data":{"e":"depthUpdate","s":"BTCUSDT"}}"#,
            MessageKind::PartialDepth,
            Some("btcusdt@depth5@100ms"),
            Some("BTCUSDT"),
        ),
        (
            r#"{"stream":"solusdt@depth@100ms","data":{"e":"depthUpdate","U":1,"u":2,"pu":0,"b":[],"a":[]}}"#,
            MessageKind::DepthDiff,
            Some("solusdt@depth@100ms"),
            Some("SOLUSDT"),
        ),
        (
            r#"{"e":"markPriceUpdate","s":"BTCUSDT","p":"1"}"#,
            MessageKind::MarkPrice,
            None,
            Some("BTCUSDT"),
        ),
        (
            r#"{"e":"kline","s":"BTCUSDT","k":{"i":"1m"}}"#,
            MessageKind::Kline,
            None,
            Some("BTCUSDT"),
        ),
        (
            r#"{"stream":"!markPrice@arr","data":[{"e":"markPriceUpdate"}]}"#,
            MessageKind::MarkPrice,
            Some("!markPrice@arr"),
            None,
        ),
        (r#"{"result":null,"id":1}"#, MessageKind::Other, None, None),
        (
            r#"{"e":"forceOrder","o":{"s":"BTCUSDT"}}"#,
            MessageKind::Other,
            None,
            None,
        ),
        (
            r#"{ "lastUpdateId" : 7, "bids" : [], "asks" : [] }"#,
            MessageKind::Snapshot,
            None,
            None,
        ),
    ];
    for (json, kind, stream, symbol) in cases {
        let line = format!("1 {json}\n");
        let message = RecordingReader::new(line.as_bytes(), "case")
            .next()
            .unwrap();
        assert_eq!(message.kind, kind, "{json}");
        assert_eq!(message.stream.as_deref(), stream, "{json}");
        assert_eq!(message.symbol.as_deref(), symbol, "{json}");
    }
    let envelope = "1 {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"p\":\"1\\\"}\"}}\n";
    let message = RecordingReader::new(envelope.as_bytes(), "case")
        .next()
        .unwrap();
    assert_eq!(
        message.raw, r#"{"e":"trade","p":"1\"}"}"#,
        "data kept verbatim, escapes and all"
    );
}

fn message(recv_ns: u64) -> RecordedMessage {
    RecordedMessage {
        recv_ns,
        kind: MessageKind::Trade,
        stream: None,
        symbol: None,
        raw: format!(r#"{{"e":"trade","t":{recv_ns}}}"#),
    }
}

#[test]
fn original_spacing_releases_messages_at_their_relative_times() {
    let ms = 1_000_000;
    let t0 = 1_723_161_255_030_314_667;
    let recorded = [t0, t0 + 10 * ms, t0 + 10 * ms, t0 + 25 * ms];
    let mut replay = Replay::new(recorded.map(message).into_iter(), Pacing::OriginalSpacing);
    let mut out = Vec::new();
    assert_eq!(replay.next_due_ns(), Some(0));
    assert_eq!(replay.poll(0, &mut out), 1);
    assert_eq!(replay.origin_ns(), Some(t0));
    assert_eq!(replay.poll(9 * ms, &mut out), 0);
    assert_eq!(replay.next_due_ns(), Some(10 * ms));
    assert_eq!(replay.poll(10 * ms, &mut out), 2);
    assert_eq!(replay.next_due_ns(), Some(25 * ms));
    assert_eq!(replay.poll(24 * ms, &mut out), 0);
    assert_eq!(replay.poll(1_000 * ms, &mut out), 1);
    assert!(replay.is_finished() && replay.next_due_ns().is_none());
    assert_eq!(out.iter().map(|m| m.recv_ns).collect::<Vec<_>>(), recorded);
    assert_eq!(replay.released(), 4);
}

#[test]
fn original_spacing_on_the_real_recording_never_releases_early_or_late() {
    let (messages, _) = btcusdt();
    let origin = messages[0].recv_ns;
    let mut replay = Replay::new(messages.iter().cloned(), Pacing::OriginalSpacing);
    let mut out = Vec::new();
    let mut elapsed = 0;
    while !replay.is_finished() {
        elapsed += 250_000_000;
        let before = out.len();
        replay.poll(elapsed, &mut out);
        assert!(
            out[before..].iter().all(|m| m.recv_ns - origin <= elapsed),
            "early release"
        );
        if let Some(due) = replay.next_due_ns() {
            assert!(due > elapsed, "late release: due {due}, clock {elapsed}");
        }
    }
    assert_eq!(out.len(), messages.len());
    let span = messages.last().unwrap().recv_ns - origin;
    assert!(elapsed >= span && elapsed < span + 250_000_000);
}

#[test]
fn as_fast_as_possible_releases_batches_whatever_the_clock() {
    let mut replay = Replay::new((0..10).map(message), Pacing::AsFastAsPossible { batch: 4 });
    let mut out = Vec::new();
    assert_eq!(replay.next_due_ns(), Some(0));
    assert_eq!(
        [
            replay.poll(0, &mut out),
            replay.poll(0, &mut out),
            replay.poll(0, &mut out)
        ],
        [4, 4, 2]
    );
    assert_eq!(replay.poll(0, &mut out), 0);
    assert_eq!(out.len(), 10);
}

fn depth_line(recv_ns: u64, first: u64, last: u64, prev: u64, bid: &str) -> RecordedMessage {
    let line = format!(
        r#"{recv_ns} {{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":{recv_ns},"T":{recv_ns},"s":"BTCUSDT","U":{first},"u":{last},"pu":{prev},"b":[["{bid}","1.000"]],"a":[]}}}}"#
    );
    RecordingReader::new(line.as_bytes(), "case")
        .next()
        .unwrap()
}

fn snapshot_line(recv_ns: u64, last_update_id: u64) -> RecordedMessage {
    let line = format!(
        r#"{recv_ns} {{"lastUpdateId":{last_update_id},"E":1,"T":1,"bids":[["100.00","2.000"]],"asks":[["101.00","3.000"]]}}"#
    );
    RecordingReader::new(line.as_bytes(), "case")
        .next()
        .unwrap()
}

#[test]
fn replay_book_buffers_until_a_snapshot_and_resyncs_after_a_gap() {
    let mut book = ReplayBook::new(Some("BTCUSDT"), None);
    assert_eq!(
        book.apply(&depth_line(1, 90, 95, 80, "99.00")),
        BookUpdate::Buffered
    );
    assert_eq!(
        book.apply(&depth_line(2, 96, 105, 95, "99.50")),
        BookUpdate::Buffered
    );
    assert_eq!(
        book.apply(&snapshot_line(3, 100)),
        BookUpdate::Snapshot {
            applied: 1,
            stale: 1
        }
    );
    assert_eq!(book.depth(10).unwrap().last_update_id, 105);
    assert_eq!(
        book.apply(&depth_line(4, 106, 110, 105, "99.70")),
        BookUpdate::Applied
    );
    let gap = book.apply(&depth_line(5, 120, 130, 115, "99.80"));
    assert!(matches!(gap, BookUpdate::Gap(_)), "{gap:?}");
    assert!(!book.is_synced() && book.depth(10).is_none());
    assert_eq!(
        book.apply(&depth_line(6, 131, 140, 130, "99.90")),
        BookUpdate::Buffered
    );
    assert_eq!(
        book.apply(&snapshot_line(7, 135)),
        BookUpdate::Snapshot {
            applied: 1,
            stale: 1
        }
    );
    let depth = book.depth(10).unwrap();
    assert_eq!(depth.last_update_id, 140);
    assert_eq!(depth.bids[0].price, Price::parse("100.00").unwrap());
    assert_eq!(depth.bids[1].price, Price::parse("99.90").unwrap());
    let other = RecordingReader::new(
        r#"8 {"stream":"ethusdt@depth","data":{"e":"depthUpdate","s":"ETHUSDT","U":1,"u":2,"pu":0,"b":[],"a":[]}}"#.as_bytes(),
        "case",
    )
    .next()
    .unwrap();
    assert_eq!(
        book.apply(&other),
        BookUpdate::Ignored,
        "another symbol's diff"
    );
    let stats = *book.stats();
    assert_eq!(
        (stats.snapshots, stats.applied, stats.stale, stats.gaps),
        (2, 3, 2, 1)
    );
}

#[test]
fn replay_book_rejects_malformed_depth_without_panicking() {
    let mut book = ReplayBook::new(None, None);
    let bad = RecordingReader::new(
        r#"1 {"stream":"btcusdt@depth","data":{"e":"depthUpdate","U":"x"}}"#.as_bytes(),
        "case",
    )
    .next()
    .unwrap();
    assert!(matches!(book.apply(&bad), BookUpdate::Rejected(_)));
    assert_eq!(book.stats().rejected, 1);
}
