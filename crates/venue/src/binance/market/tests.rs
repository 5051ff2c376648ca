//! Unit tests of the frame parser: every frame shape, key order and malformed input, each run
//! through both JSON libraries and all three paths (byte scanner, serde fast pass, general
//! walk), which must agree.

use kestrel_model::book::Level;
use kestrel_model::{Price, Qty, Rate};

use super::*;

/// Parses `frame` with the six parser set-ups (sonic-rs / serde_json × byte scanner first /
/// serde fast pass first / general walk only),
/// asserts they agree, and hands one result to `check`. Errors from the JSON libraries word
/// syntax errors differently, so for `invalid_json` only the kind is compared.
fn check_all(frame: &str, check: impl Fn(&Result<MarketFrame<'_>, ParseError>)) {
    let mut parsers: Vec<MarketParser> = JsonLib::ALL
        .into_iter()
        .map(|json| MarketParser::new().with_json_lib(json))
        .collect();
    let recv = ReceiveTime::new(7, 11);
    let [sonic, serde] = parsers.as_mut_slice() else {
        panic!("two libraries");
    };
    let mut sonic_general = sonic.clone();
    let mut serde_general = serde.clone();
    let mut sonic_serde_fast = sonic.clone();
    let mut serde_serde_fast = serde.clone();
    let results = [
        sonic.parse(frame, recv),
        sonic_general.parse_general(frame, recv),
        sonic_serde_fast.parse_without_scan(frame, recv),
        serde.parse(frame, recv),
        serde_general.parse_general(frame, recv),
        serde_serde_fast.parse_without_scan(frame, recv),
    ];
    for other in &results[1..] {
        match (&results[0], other) {
            (Err(a), Err(b)) if a.kind() == "invalid_json" => assert_eq!(a.kind(), b.kind()),
            (a, b) => assert_eq!(a, b, "paths disagree on {frame}"),
        }
    }
    check(&results[0]);
}

/// The event of a frame that must parse.
fn event_of(frame: &str, check: impl Fn(&MarketEvent<'_>)) {
    check_all(frame, |result| match result {
        Ok(parsed) => check(&parsed.event),
        Err(error) => panic!("{frame}: {error}"),
    });
}

/// Asserts that `frame` is refused with `kind`, and that the message mentions `place`.
fn refused(frame: &str, kind: &str, place: &str) {
    check_all(frame, |result| match result {
        Err(error) => {
            assert_eq!(error.kind(), kind, "{frame}: {error}");
            assert!(error.to_string().contains(place), "{error} lacks {place}");
        }
        Ok(parsed) => panic!("{frame} parsed: {parsed:?}"),
    });
}

fn px(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

const BOOK_TICKER: &str = r#"{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#;

const DEPTH: &str = r#"{"e":"depthUpdate","E":1123,"T":1122,"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[["0.0024","10"],["0.0023","0"]],"a":[["0.0026","100"]]}"#;

fn enveloped(stream: &str, data: &str) -> String {
    format!(r#"{{"stream":"{stream}","data":{data}}}"#)
}

#[test]
fn book_ticker_carries_best_bid_and_ask_exactly() {
    event_of(BOOK_TICKER, |event| {
        let MarketEvent::BookTicker(ticker) = event else {
            panic!("{event:?}")
        };
        assert_eq!(ticker.symbol, "BNBUSDT");
        assert_eq!(ticker.update_id, 400_900_217);
        assert_eq!(ticker.times.event_ms, 1_568_014_460_893);
        assert_eq!(ticker.times.transaction_ms, 1_568_014_460_891);
        assert_eq!(ticker.bid, Level::new(px("25.3519"), qty("31.21")));
        assert_eq!(ticker.ask, Level::new(px("25.3652"), qty("40.66")));
    });
}

#[test]
fn bare_and_enveloped_frames_give_the_same_event_and_the_stream_name() {
    let wrapped = enveloped("bnbusdt@bookTicker", BOOK_TICKER);
    let (mut first, mut second) = (MarketParser::new(), MarketParser::new());
    let bare = first.parse(BOOK_TICKER, ReceiveTime::default()).unwrap();
    assert_eq!(bare.stream, None);
    let framed = second.parse(&wrapped, ReceiveTime::new(1, 2)).unwrap();
    assert_eq!(framed.stream, Some("bnbusdt@bookTicker"));
    assert_eq!(framed.recv, ReceiveTime::new(1, 2));
    assert_eq!(framed.event, bare.event);
}

#[test]
fn keys_in_any_order_and_unknown_keys_give_the_same_event() {
    let shuffled = r#"{"A":"40.66000000","new":{"x":[1,2]},"a":"25.36520000","B":"31.21000000","b":"25.35190000","s":"BNBUSDT","T":1568014460891,"E":1568014460893,"u":400900217,"e":"bookTicker"}"#;
    let mut parser = MarketParser::new();
    let expected = parser
        .parse(BOOK_TICKER, ReceiveTime::default())
        .unwrap()
        .event
        .clone();
    event_of(shuffled, |event| assert_eq!(event, &expected));
    let data_first = format!(r#"{{"data":{BOOK_TICKER},"stream":"x"}}"#);
    check_all(&data_first, |result| {
        let frame = result.as_ref().unwrap();
        assert_eq!((frame.stream, &frame.event), (Some("x"), &expected));
    });
}

#[test]
fn depth_diff_fills_a_ready_depth_diff_from_the_reused_buffers() {
    event_of(DEPTH, |event| {
        let MarketEvent::Depth(depth) = event else {
            panic!("{event:?}")
        };
        assert_eq!(depth.symbol, "BTCUSDT");
        assert_eq!(depth.kind, DepthKind::Diff);
        assert_eq!(depth.diff.first_update_id, 157);
        assert_eq!(depth.diff.final_update_id, 160);
        assert_eq!(depth.diff.prev_final_update_id, Some(149));
        let bids = [
            Level::new(px("0.0024"), qty("10")),
            Level::new(px("0.0023"), Qty::ZERO),
        ];
        assert_eq!(depth.diff.bids, bids);
        assert_eq!(depth.diff.asks, [Level::new(px("0.0026"), qty("100"))]);
    });
}

#[test]
fn a_depth_frame_after_another_holds_only_its_own_levels() {
    let mut parser = MarketParser::new();
    let _ = parser.parse(DEPTH, ReceiveTime::default()).unwrap();
    let _ = parser.parse(BOOK_TICKER, ReceiveTime::default()).unwrap();
    let second = DEPTH
        .replace(r#"["0.0024","10"],["0.0023","0"]"#, "")
        .replace(
            r#"[["0.0026","100"]]"#,
            r#"[["0.0027","1"],["0.0028","2"]]"#,
        );
    let MarketEvent::Depth(depth) = parser.parse(&second, ReceiveTime::default()).unwrap().event
    else {
        panic!("a depth event")
    };
    assert!(depth.diff.bids.is_empty());
    assert_eq!(depth.diff.asks.len(), 2);
}

#[test]
fn depth_kind_follows_the_stream_name() {
    let cases = [
        ("btcusdt@depth", DepthKind::Diff),
        ("btcusdt@depth@100ms", DepthKind::Diff),
        ("btcusdt@depth@0ms", DepthKind::Diff),
        ("btcusdt@depth5", DepthKind::Partial),
        ("btcusdt@depth20@100ms", DepthKind::Partial),
    ];
    for (stream, kind) in cases {
        event_of(&enveloped(stream, DEPTH), |event| {
            let MarketEvent::Depth(depth) = event else {
                panic!("{event:?}")
            };
            assert_eq!(depth.kind, kind, "{stream}");
        });
    }
}

#[test]
fn levels_with_whitespace_or_unusual_decimals_parse_like_plain_ones() {
    let spaced = DEPTH.replace(
        r#""b":[["0.0024","10"],["0.0023","0"]]"#,
        r#""b" : [ [ "0.0024" , "10.000000000" ] ,
            ["0.00230","0"] ]"#,
    );
    event_of(&spaced, |event| {
        let MarketEvent::Depth(depth) = event else {
            panic!("{event:?}")
        };
        assert_eq!(depth.diff.bids[0], Level::new(px("0.0024"), qty("10")));
        assert_eq!(depth.diff.bids[1], Level::new(px("0.0023"), Qty::ZERO));
    });
}

#[test]
fn trade_with_and_without_its_type() {
    let trade = r#"{"e":"trade","E":1723161256322,"T":1723161256321,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":true}"#;
    event_of(trade, |event| {
        let MarketEvent::Trade(trade) = event else {
            panic!("{event:?}")
        };
        assert_eq!(trade.trade_id, 5_266_583_935);
        assert_eq!((trade.price, trade.qty), (px("61800.3"), qty("0.006")));
        assert!(trade.buyer_is_maker);
        assert_eq!(trade.trade_type, Some("MARKET"));
        assert_eq!(trade.times.transaction_ms, 1_723_161_256_321);
    });
    let without = trade.replace(r#""X":"MARKET","#, "");
    event_of(&without, |event| {
        let MarketEvent::Trade(trade) = event else {
            panic!("{event:?}")
        };
        assert_eq!(trade.trade_type, None);
    });
}

#[test]
fn agg_trade_with_and_without_the_non_rpi_quantity() {
    let agg = r#"{"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","nq":"80","f":100,"l":105,"T":123456785,"m":true}"#;
    event_of(agg, |event| {
        let MarketEvent::AggTrade(trade) = event else {
            panic!("{event:?}")
        };
        assert_eq!(trade.agg_trade_id, 5_933_014);
        assert_eq!((trade.first_trade_id, trade.last_trade_id), (100, 105));
        assert_eq!(trade.non_rpi_qty, Some(qty("80")));
        assert_eq!(trade.to_trade().trade_id, 5_933_014);
    });
    event_of(&agg.replace(r#""nq":"80","#, ""), |event| {
        let MarketEvent::AggTrade(trade) = event else {
            panic!("{event:?}")
        };
        assert_eq!(trade.non_rpi_qty, None);
    });
}

#[test]
fn mark_price_reads_funding_and_the_optional_average() {
    let mark = r#"{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","ap":"11794.10000000","i":"11784.62659091","P":"11784.25641265","r":"-0.00038167","T":1562306400000}"#;
    event_of(mark, |event| {
        let MarketEvent::MarkPrice(mark) = event else {
            panic!("{event:?}")
        };
        assert_eq!(mark.mark_price, px("11794.15"));
        assert_eq!(mark.index_price, px("11784.62659091"));
        assert_eq!(mark.estimated_settle_price, px("11784.25641265"));
        assert_eq!(mark.funding_rate, Some(Rate::parse("-0.00038167").unwrap()));
        assert_eq!(mark.next_funding_ms, 1_562_306_400_000);
        assert_eq!(mark.mark_price_avg, Some(px("11794.1")));
    });
    let dated = mark.replace(r#""r":"-0.00038167""#, r#""r":"""#);
    event_of(&dated, |event| {
        let MarketEvent::MarkPrice(mark) = event else {
            panic!("{event:?}")
        };
        assert_eq!(mark.funding_rate, None);
    });
}

#[test]
fn control_replies_are_recognised() {
    event_of(r#"{"result":null,"id":1}"#, |event| {
        let expected = ControlReply {
            id: ReplyId::Number(1),
            result: ReplyResult::Null,
        };
        assert_eq!(event, &MarketEvent::Reply(expected));
    });
    event_of(
        r#"{"result":["btcusdt@aggTrade","btcusdt@depth"],"id":3}"#,
        |event| {
            let MarketEvent::Reply(reply) = event else {
                panic!("{event:?}")
            };
            assert_eq!(reply.result, ReplyResult::List { len: 2 });
        },
    );
    event_of(r#"{"id":"abc","result":true}"#, |event| {
        let expected = ControlReply {
            id: ReplyId::Text("abc"),
            result: ReplyResult::Bool(true),
        };
        assert_eq!(event, &MarketEvent::Reply(expected));
    });
}

#[test]
fn error_objects_are_recognised_flat_or_nested_with_escapes_resolved() {
    event_of(
        r#"{"code":2,"msg":"Invalid request: unknown method","id":7}"#,
        |event| {
            let MarketEvent::VenueError(error) = event else {
                panic!("{event:?}")
            };
            assert_eq!(error.code, 2);
            assert_eq!(error.msg, "Invalid request: unknown method");
            assert_eq!(error.id, ReplyId::Number(7));
        },
    );
    event_of(
        r#"{"error":{"code":-1121,"msg":"Invalid \"symbol\"."},"id":3}"#,
        |event| {
            let MarketEvent::VenueError(error) = event else {
                panic!("{event:?}")
            };
            assert_eq!((error.code, error.msg), (-1121, r#"Invalid "symbol"."#));
        },
    );
}

#[test]
fn events_not_normalised_are_reported_as_other() {
    let kline = r#"{"stream":"ctkusdt@kline_1m","data":{"e":"kline","E":1626992741424,"s":"CTKUSDT","k":{"t":1626992700000,"T":1626992759999,"s":"CTKUSDT","i":"1m","o":"1.01000","x":false}}}"#;
    event_of(kline, |event| {
        let expected = OtherEvent {
            event_type: Some("kline"),
            symbol: Some("CTKUSDT"),
            event_ms: Some(1_626_992_741_424),
        };
        assert_eq!(event, &MarketEvent::Other(expected));
    });
    let ticker =
        r#"{"e":"24hrTicker","E":1,"s":"BTCUSDT","p":"-1.5","l":"60000.1","b":[1],"a":{}}"#;
    event_of(ticker, |event| assert_eq!(event.kind(), "other"));
    let array = r#"{"stream":"!markPrice@arr","data":[{"e":"markPriceUpdate","s":"BTCUSDT"}]}"#;
    event_of(array, |event| {
        let expected = OtherEvent {
            event_type: None,
            symbol: None,
            event_ms: None,
        };
        assert_eq!(event, &MarketEvent::Other(expected));
    });
}

#[test]
fn rest_snapshot_parses_and_an_error_body_is_named() {
    let body = r#"{"lastUpdateId":1027024,"E":1589436922972,"T":1589436922959,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}"#;
    let mut parser = MarketParser::new();
    let snapshot = parser.parse_depth_snapshot(body).unwrap();
    assert_eq!(snapshot.last_update_id, 1_027_024);
    assert_eq!(snapshot.event_ms, Some(1_589_436_922_972));
    assert_eq!(snapshot.bids, [Level::new(px("4"), qty("431"))]);
    assert_eq!(snapshot.asks, [Level::new(px("4.000002"), qty("12"))]);
    let spot = r#"{"lastUpdateId":1,"bids":[],"asks":[]}"#;
    let snapshot = parser.parse_depth_snapshot(spot).unwrap();
    assert_eq!((snapshot.event_ms, snapshot.bids.len()), (None, 0));
    let error = parser
        .parse_depth_snapshot(r#"{"code":-1121,"msg":"Invalid symbol."}"#)
        .unwrap_err();
    assert_eq!(error.kind(), "unknown_event");
    assert!(error.to_string().contains("-1121"), "{error}");
}

#[test]
fn text_that_is_not_json_is_invalid_json() {
    for frame in [
        "",
        "{",
        &BOOK_TICKER[..BOOK_TICKER.len() - 1],
        &DEPTH[..60],
        r#"{"e":"bookTicker",}"#,
        r#"{"e" "bookTicker"}"#,
        "{}}",
        "not json",
        "[1,2",
    ] {
        refused(frame, "invalid_json", "invalid JSON");
    }
    refused(&format!("{BOOK_TICKER} x"), "invalid_json", "invalid JSON");
}

#[test]
fn json_of_no_known_shape_is_unknown_event() {
    refused("42", "unknown_event", "found a number");
    refused(r#""text""#, "unknown_event", "found a string");
    refused("null", "unknown_event", "found null");
    refused("{}", "unknown_event", "none of `e`");
    refused(
        r#"{"stream":"x","data":{"s":"BTCUSDT"}}"#,
        "unknown_event",
        "none of",
    );
    refused(
        r#"{"stream":"x","data":5}"#,
        "unknown_event",
        "found a number",
    );
}

#[test]
fn fields_of_the_wrong_type_are_wrong_type() {
    let cases = [
        (
            DEPTH.replace(r#""E":1123"#, r#""E":"1123""#),
            "depthUpdate.E",
        ),
        (DEPTH.replace(r#""U":157"#, r#""U":-157"#), "depthUpdate.U"),
        (DEPTH.replace(r#""u":160"#, r#""u":160.5"#), "depthUpdate.u"),
        (
            DEPTH.replace(r#""s":"BTCUSDT""#, r#""s":7"#),
            "depthUpdate.s",
        ),
        (
            DEPTH.replace(r#""a":[["0.0026","100"]]"#, r#""a":{}"#),
            "depthUpdate.a",
        ),
        (
            BOOK_TICKER.replace(r#""b":"25.35190000""#, r#""b":25.3519"#),
            "bookTicker.b",
        ),
        (
            BOOK_TICKER.replace(r#""s":"BNBUSDT""#, r#""s":"BNB\u0055SDT""#),
            "bookTicker.s",
        ),
        (
            BOOK_TICKER.replace(r#""e":"bookTicker""#, r#""e":1"#),
            "event.e",
        ),
    ];
    for (frame, place) in cases {
        refused(&frame, "wrong_type", place);
    }
    let trade = r#"{"e":"trade","E":1,"T":1,"s":"X","t":1,"p":"1","q":"1","m":"false"}"#;
    refused(trade, "wrong_type", "trade.m");
}

#[test]
fn a_missing_required_field_is_missing_field() {
    refused(
        &DEPTH.replace(r#""pu":149,"#, ""),
        "missing_field",
        "depthUpdate.pu",
    );
    refused(
        &DEPTH.replace(r#","a":[["0.0026","100"]]"#, ""),
        "missing_field",
        "depthUpdate.a",
    );
    refused(
        &BOOK_TICKER.replace(r#""u":400900217,"#, ""),
        "missing_field",
        "bookTicker.u",
    );
    let agg = r#"{"e":"aggTrade","E":1,"s":"X","a":1,"p":"1","q":"1","f":1,"T":1,"m":true}"#;
    refused(agg, "missing_field", "aggTrade.l");
}

#[test]
fn negative_or_garbage_decimals_are_bad_decimal() {
    let cases = [
        (
            BOOK_TICKER.replace("25.35190000", "-25.3519"),
            "bookTicker.b",
            "negative",
        ),
        (
            BOOK_TICKER.replace("31.21000000", "abc"),
            "bookTicker.B",
            "not a decimal",
        ),
        (
            BOOK_TICKER.replace("31.21000000", "1e3"),
            "bookTicker.B",
            "exponent",
        ),
        (
            BOOK_TICKER.replace("31.21000000", ""),
            "bookTicker.B",
            "empty",
        ),
        (
            BOOK_TICKER.replace("31.21000000", "0.000000001"),
            "bookTicker.B",
            "8 decimal",
        ),
        (
            BOOK_TICKER.replace("31.21000000", "99999999999999"),
            "bookTicker.B",
            "out of range",
        ),
    ];
    for (frame, place, reason) in cases {
        refused(&frame, "bad_decimal", place);
        refused(&frame, "bad_decimal", reason);
    }
}

#[test]
fn levels_that_are_not_price_qty_pairs_are_bad_level() {
    let cases = [
        (r#"[["0.0024"]]"#, "depthUpdate.b[0]", "one element"),
        (
            r#"[["0.0024","1"],["1","2","3"]]"#,
            "depthUpdate.b[1]",
            "more than two",
        ),
        (r#"[[]]"#, "depthUpdate.b[0]", "empty"),
        (r#"["0.0024"]"#, "depthUpdate.b[0]", "not a [price, qty]"),
        (
            r#"[{"p":"1","q":"2"}]"#,
            "depthUpdate.b[0]",
            "not a [price, qty]",
        ),
        (r#"[[1,2]]"#, "depthUpdate.b[0]", "price is not a string"),
        (r#"[["1",2]]"#, "depthUpdate.b[0]", "qty is not a string"),
    ];
    for (levels, place, reason) in cases {
        let frame = DEPTH.replace(r#"[["0.0024","10"],["0.0023","0"]]"#, levels);
        refused(&frame, "bad_level", place);
        refused(&frame, "bad_level", reason);
    }
}

#[test]
fn level_values_out_of_their_domain_are_bad_decimal() {
    let cases = [
        (r#"[["0","1"]]"#, "depthUpdate.b[0].price", "positive"),
        (r#"[["1","-1"]]"#, "depthUpdate.b[0].qty", "negative"),
        (r#"[["1","x"]]"#, "depthUpdate.b[0].qty", "not a decimal"),
        (
            r#"[["2","1"],["1.000000001","1"]]"#,
            "depthUpdate.b[1].price",
            "8 decimal",
        ),
    ];
    for (levels, place, reason) in cases {
        let frame = DEPTH.replace(r#"[["0.0024","10"],["0.0023","0"]]"#, levels);
        refused(&frame, "bad_decimal", place);
        refused(&frame, "bad_decimal", reason);
    }
}

#[test]
fn error_kinds_are_the_documented_set() {
    let kinds: Vec<&str> = [
        ParseError::InvalidJson {
            place: "x",
            detail: String::new(),
        },
        ParseError::UnknownEvent {
            place: "x",
            detail: String::new(),
        },
        ParseError::MissingField {
            place: String::new(),
        },
        ParseError::WrongType {
            place: String::new(),
            expected: "",
            found: "",
        },
        ParseError::BadDecimal {
            place: String::new(),
            text: String::new(),
            reason: String::new(),
        },
        ParseError::BadLevel {
            place: String::new(),
            reason: "",
        },
    ]
    .iter()
    .map(ParseError::kind)
    .collect();
    assert_eq!(kinds, ParseError::KINDS);
}

// Found by the `market_frame` fuzz target (fuzz/seeds/market_frame/regression-*): the stream
// lists `b`/`a` and the REST lists `bids`/`asks` shared one buffer a side, so a list under the
// key an event does not use replaced the levels of the one it does.

#[test]
fn a_rest_list_in_a_depth_update_does_not_replace_its_levels() {
    let frame = r#"{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[["1","1"]],"a":[],"bids":[["2","2"]],"asks":[["3","3"]]}"#;
    event_of(frame, |event| {
        let MarketEvent::Depth(depth) = event else {
            panic!("{event:?}")
        };
        assert_eq!(depth.diff.bids, [Level::new(px("1"), qty("1"))]);
        assert!(depth.diff.asks.is_empty());
    });
}

#[test]
fn a_stream_list_in_a_snapshot_does_not_replace_its_levels() {
    let body = r#"{"lastUpdateId":1,"bids":[["1","1"]],"asks":[["2","2"]],"b":[["3","3"]],"a":[]}"#;
    event_of(body, |event| {
        let MarketEvent::Snapshot(snapshot) = event else {
            panic!("{event:?}")
        };
        assert_eq!(snapshot.bids, [Level::new(px("1"), qty("1"))]);
        assert_eq!(snapshot.asks, [Level::new(px("2"), qty("2"))]);
    });
}

#[test]
fn a_malformed_level_is_refused_even_after_one_in_a_list_the_event_ignores() {
    let body = r#"{"lastUpdateId":1,"b":[["x","1"]],"bids":[["1","1"],["y","1"]],"asks":[]}"#;
    refused(body, "bad_decimal", "depthSnapshot.bids[1].price");
    let frame = r#"{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,"bids":[[]],"b":[["1","1"],["1"]],"a":[]}"#;
    refused(frame, "bad_level", "depthUpdate.b[1]");
}
