use std::borrow::Cow;

use super::{
    ControlError, ControlRequest, KlineInterval, RequestId, Route, Stream, StreamConnection,
    StreamSpec, Subscriptions, UpdateSpeed, WsTarget, WsUrlError, is_listen_key, parse_control,
    wrap_combined,
};

const KEY: &str = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1";
const KEY2: &str = "Xqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65aZ";

fn streams(path: &str, query: Option<&str>) -> StreamConnection {
    match WsTarget::parse(path, query).unwrap() {
        WsTarget::Streams(connection) => connection,
        WsTarget::TradingApi => panic!("{path} parsed as the trading API"),
    }
}

fn names(connection: &StreamConnection) -> Vec<String> {
    connection.streams.iter().map(Stream::name).collect()
}

fn market(name: &str) -> Stream {
    Stream::Market(StreamSpec::parse(name).unwrap())
}

// --- URL shapes (§1.2, §8.1, §10) -------------------------------------------------------

#[test]
fn bare_ws_is_raw_unrouted_with_no_streams() {
    let connection = streams("/ws", None);
    assert_eq!(connection.route, Route::Unrouted);
    assert!(!connection.combined);
    assert!(connection.streams.is_empty());
}

#[test]
fn raw_path_streams_in_order() {
    let connection = streams("/ws/btcusdt@aggTrade/ethusdt@depth@100ms", None);
    assert_eq!(
        names(&connection),
        ["btcusdt@aggTrade", "ethusdt@depth@100ms"]
    );
}

#[test]
fn ccxt_routed_paths_ignore_the_dummy_index() {
    let public = streams("/public/ws/3", None);
    assert_eq!((public.route, public.combined), (Route::Public, false));
    assert!(public.streams.is_empty());
    let market = streams("/market/ws/12", None);
    assert_eq!(market.route, Route::Market);
}

#[test]
fn connector_bare_ws_and_stream_urls() {
    assert!(!streams("/ws", None).combined);
    let combined = streams("/stream", None);
    assert!(combined.combined && combined.streams.is_empty());
}

#[test]
fn combined_streams_query() {
    let connection = streams("/stream", Some("streams=btcusdt@aggTrade/btcusdt@depth"));
    assert!(connection.combined);
    assert_eq!(names(&connection), ["btcusdt@aggTrade", "btcusdt@depth"]);
}

#[test]
fn python_binance_market_stream_url() {
    let connection = streams(
        "/market/stream",
        Some("streams=btcusdt@kline_1m/ethusdt@markPrice@1s/!markPrice@arr"),
    );
    assert_eq!(connection.route, Route::Market);
    assert_eq!(
        names(&connection),
        ["btcusdt@kline_1m", "ethusdt@markPrice@1s", "!markPrice@arr"]
    );
}

#[test]
fn percent_encoded_stream_names_are_decoded() {
    let connection = streams("/stream", Some("streams=btcusdt%40depth%2F%21bookTicker"));
    assert_eq!(names(&connection), ["btcusdt@depth", "!bookTicker"]);
    let connection = streams("/ws/btcusdt%40trade", None);
    assert_eq!(names(&connection), ["btcusdt@trade"]);
}

#[test]
fn legacy_user_data_path() {
    let connection = streams(&format!("/ws/{KEY}"), None);
    assert_eq!(connection.route, Route::Unrouted);
    assert!(connection.is_user_data());
    assert_eq!(connection.listen_keys(), [KEY]);
}

#[test]
fn private_user_data_path() {
    let connection = streams(&format!("/private/ws/{KEY}"), None);
    assert_eq!(connection.route, Route::Private);
    assert_eq!(connection.streams, [Stream::UserData(KEY.to_owned())]);
}

#[test]
fn private_ws_listen_key_query_with_events() {
    let query = format!("listenKey={KEY}&events=ORDER_TRADE_UPDATE/ACCOUNT_UPDATE");
    let connection = streams("/private/ws", Some(&query));
    assert!(!connection.combined);
    assert_eq!(connection.listen_keys(), [KEY]);
    assert_eq!(
        connection.events[KEY],
        ["ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE"]
    );
}

#[test]
fn ccxt_private_listen_key_query_without_events() {
    let connection = streams("/private/ws", Some(&format!("listenKey={KEY}")));
    assert_eq!(connection.listen_keys(), [KEY]);
    assert!(connection.events.is_empty());
}

#[test]
fn private_combined_pairs_events_with_their_listen_keys() {
    let query =
        format!("listenKey={KEY}&events=ORDER_TRADE_UPDATE&listenKey={KEY2}&events=ACCOUNT_UPDATE");
    let connection = streams("/private/stream", Some(&query));
    assert!(connection.combined);
    assert_eq!(connection.listen_keys(), [KEY, KEY2]);
    assert_eq!(connection.events[KEY], ["ORDER_TRADE_UPDATE"]);
    assert_eq!(connection.events[KEY2], ["ACCOUNT_UPDATE"]);
}

#[test]
fn events_before_the_listen_key_apply_to_it() {
    let query = format!("events=TRADE_LITE&listenKey={KEY}");
    let connection = streams("/private/ws", Some(&query));
    assert_eq!(connection.events[KEY], ["TRADE_LITE"]);
}

#[test]
fn listen_key_in_combined_streams_is_user_data() {
    let query = format!("streams={KEY}/btcusdt@depth");
    let connection = streams("/stream", Some(&query));
    assert_eq!(
        connection.streams,
        [Stream::UserData(KEY.to_owned()), market("btcusdt@depth")]
    );
}

#[test]
fn trading_api_path() {
    assert_eq!(
        WsTarget::parse("/ws-fapi/v1", None).unwrap(),
        WsTarget::TradingApi
    );
    assert!(WsTarget::parse("/public/ws-fapi/v1", None).is_err());
    assert!(WsTarget::parse("/ws-fapi/v2", None).is_err());
}

#[test]
fn unknown_paths_are_404() {
    for path in ["/", "/foo", "/public", "/private/", "/fapi/v1/ws", "/wss"] {
        let error = WsTarget::parse(path, None).unwrap_err();
        assert!(matches!(error, WsUrlError::UnknownPath(_)), "{path}");
        assert_eq!(error.status(), 404);
    }
}

#[test]
fn invalid_stream_in_url_is_400() {
    let error = WsTarget::parse("/ws/btcusdt@foo", None).unwrap_err();
    assert!(matches!(error, WsUrlError::InvalidStream(_)));
    assert_eq!(error.status(), 400);
    assert!(WsTarget::parse("/stream", Some("streams=btcusdt@depth7")).is_err());
    assert!(WsTarget::parse("/stream", Some("streams=nonsense")).is_err());
}

#[test]
fn empty_listen_key_is_refused() {
    let error = WsTarget::parse("/private/ws", Some("listenKey=")).unwrap_err();
    assert_eq!(error, WsUrlError::EmptyListenKey);
}

#[test]
fn slashes_and_repeats_are_tolerated() {
    let connection = streams("//ws//btcusdt@trade/btcusdt@trade/", None);
    assert_eq!(names(&connection), ["btcusdt@trade"]);
}

#[test]
fn upper_case_symbols_are_lower_cased() {
    let connection = streams("/ws/BTCUSDT@bookTicker", None);
    assert_eq!(names(&connection), ["btcusdt@bookTicker"]);
}

#[test]
fn unknown_query_keys_are_ignored() {
    let connection = streams("/ws", Some("foo=bar&timeUnit=MICROSECOND"));
    assert!(connection.streams.is_empty());
}

#[test]
fn more_than_1024_streams_in_a_url_is_refused() {
    let list: Vec<String> = (0..1025).map(|i| format!("s{i}@trade")).collect();
    let query = format!("streams={}", list.join("/"));
    let error = WsTarget::parse("/stream", Some(&query)).unwrap_err();
    assert_eq!(error, WsUrlError::TooManyStreams(1025));
    let ok: Vec<String> = (0..1024).map(|i| format!("s{i}@trade")).collect();
    let connection = streams("/stream", Some(&format!("streams={}", ok.join("/"))));
    assert_eq!(connection.subscriptions().len(), 1024);
}

#[test]
fn url_gives_the_initial_subscriptions() {
    let raw = streams("/ws/btcusdt@depth", None).subscriptions();
    assert!(!raw.combined());
    assert_eq!(raw.names(), ["btcusdt@depth"]);
    let combined = streams("/stream", Some("streams=btcusdt@depth")).subscriptions();
    assert!(combined.combined());
}

// --- Stream names (§1.1, §6) -------------------------------------------------------------

#[test]
fn every_stream_kind_parses_and_round_trips() {
    let cases = [
        "btcusdt@depth",
        "btcusdt@depth@0ms",
        "btcusdt@depth@100ms",
        "btcusdt@depth@250ms",
        "btcusdt@depth@500ms",
        "btcusdt@depth5",
        "btcusdt@depth10@100ms",
        "btcusdt@depth20@500ms",
        "btcusdt@aggTrade",
        "btcusdt@trade",
        "btcusdt@bookTicker",
        "btcusdt@markPrice",
        "btcusdt@markPrice@1s",
        "btcusdt@kline_1m",
        "btcusdt@kline_1M",
        "btcusdt@forceOrder",
        "btcusdt@ticker",
        "btcusdt@miniTicker",
        "!bookTicker",
        "!markPrice@arr",
        "!markPrice@arr@1s",
        "!forceOrder@arr",
        "!ticker@arr",
        "!miniTicker@arr",
    ];
    for name in cases {
        let spec = StreamSpec::parse(name).unwrap();
        assert_eq!(spec.to_string(), name);
    }
}

#[test]
fn stream_specs_carry_their_parts() {
    assert_eq!(
        StreamSpec::parse("ETHUSDT@depth@100ms").unwrap(),
        StreamSpec::Depth {
            symbol: "ethusdt".to_owned(),
            speed: Some(UpdateSpeed::Ms100)
        }
    );
    assert_eq!(
        StreamSpec::parse("btcusdt@depth20").unwrap(),
        StreamSpec::PartialDepth {
            symbol: "btcusdt".to_owned(),
            levels: 20,
            speed: None
        }
    );
    assert_eq!(
        StreamSpec::parse("btcusdt@kline_15m").unwrap(),
        StreamSpec::Kline {
            symbol: "btcusdt".to_owned(),
            interval: KlineInterval::M15
        }
    );
    assert_eq!(
        StreamSpec::parse("!markPrice@arr@1s").unwrap(),
        StreamSpec::AllMarkPrice { every_second: true }
    );
    assert_eq!(
        StreamSpec::parse("btcusdt@trade").unwrap().symbol(),
        Some("btcusdt")
    );
    assert_eq!(StreamSpec::AllForceOrder.symbol(), None);
    assert_eq!(UpdateSpeed::Ms500.millis(), 500);
}

#[test]
fn unknown_stream_names_are_errors() {
    let bad = [
        "",
        "btcusdt",
        "@trade",
        "btc-usdt@trade",
        "btcusdt@aggtrade",
        "btcusdt@foo",
        "btcusdt@depth@1000ms",
        "btcusdt@depth@100",
        "btcusdt@depth15",
        "btcusdt@depth5@250ms",
        "btcusdt@depth5@0ms",
        "btcusdt@kline_2m",
        "btcusdt@kline_",
        "btcusdt@markPrice@3s",
        "!markPrice",
        "!bookTicker@arr",
        "!forceOrder",
        "!foo@arr",
        "btcusdt@trade@100ms",
    ];
    for name in bad {
        assert!(
            StreamSpec::parse(name).is_err(),
            "{name:?} should be invalid"
        );
    }
}

#[test]
fn listen_keys_are_64_alphanumerics() {
    assert!(is_listen_key(KEY));
    assert!(!is_listen_key(&KEY[..63]));
    assert!(!is_listen_key(&format!("{}-", &KEY[..63])));
    assert_eq!(
        Stream::parse(KEY).unwrap(),
        Stream::UserData(KEY.to_owned())
    );
    assert!(Stream::parse(&KEY[..63]).is_err());
    assert_eq!(
        Stream::parse("btcusdt@trade").unwrap(),
        market("btcusdt@trade")
    );
}

#[test]
fn kline_intervals_are_the_futures_set() {
    let all = [
        "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
    ];
    for text in all {
        assert_eq!(KlineInterval::parse(text).unwrap().as_str(), text);
    }
    for text in ["1s", "2m", "1H", "1D", "", "1y"] {
        assert!(KlineInterval::parse(text).is_none(), "{text}");
    }
    assert_eq!(KlineInterval::H1.duration_ms(), Some(3_600_000));
    assert_eq!(KlineInterval::W1.duration_ms(), Some(604_800_000));
    assert_eq!(KlineInterval::Month1.duration_ms(), None);
}

#[test]
fn routes_carry_their_streams() {
    let depth = market("btcusdt@depth");
    let trade = market("btcusdt@trade");
    let mark = market("btcusdt@markPrice");
    let user = Stream::UserData(KEY.to_owned());
    assert!(Route::Public.carries(&depth) && Route::Public.carries(&trade));
    assert!(!Route::Public.carries(&mark) && !Route::Public.carries(&user));
    assert!(Route::Market.carries(&mark) && !Route::Market.carries(&depth));
    assert!(Route::Private.carries(&user) && !Route::Private.carries(&depth));
    assert!(Route::Unrouted.carries(&depth) && !Route::Unrouted.carries(&mark));
    assert!(Route::Unrouted.carries(&user));
}

// --- Control frames (§1.3) ----------------------------------------------------------------

#[test]
fn subscribe_with_integer_id() {
    let mut subs = Subscriptions::new(false);
    let applied = subs.handle_text(
        r#"{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"],"id":1}"#,
    );
    assert_eq!(applied.reply, r#"{"result":null,"id":1}"#);
    assert_eq!(
        applied.added,
        [market("btcusdt@aggTrade"), market("btcusdt@depth")]
    );
    assert_eq!(subs.names(), ["btcusdt@aggTrade", "btcusdt@depth"]);
}

#[test]
fn string_and_null_ids_are_echoed_with_their_type() {
    let mut subs = Subscriptions::new(false);
    let applied = subs.handle_text(r#"{"method":"LIST_SUBSCRIPTIONS","id":"abc-1"}"#);
    assert_eq!(applied.reply, r#"{"result":[],"id":"abc-1"}"#);
    let applied = subs.handle_text(r#"{"method":"LIST_SUBSCRIPTIONS","id":null}"#);
    assert_eq!(applied.reply, r#"{"result":[],"id":null}"#);
    let big = format!(r#"{{"method":"LIST_SUBSCRIPTIONS","id":{}}}"#, u64::MAX);
    assert_eq!(
        subs.handle_text(&big).reply,
        format!(r#"{{"result":[],"id":{}}}"#, u64::MAX)
    );
}

#[test]
fn unsubscribe_and_list_keep_subscription_order() {
    let mut subs = Subscriptions::new(false);
    subs.handle_text(r#"{"method":"SUBSCRIBE","params":["a@trade","b@trade","c@trade"],"id":1}"#);
    let applied =
        subs.handle_text(r#"{"method":"UNSUBSCRIBE","params":["b@trade","x@trade"],"id":312}"#);
    assert_eq!(applied.reply, r#"{"result":null,"id":312}"#);
    assert_eq!(applied.removed, [market("b@trade")]);
    let applied = subs.handle_text(r#"{"method":"LIST_SUBSCRIPTIONS","id":3}"#);
    assert_eq!(applied.reply, r#"{"result":["a@trade","c@trade"],"id":3}"#);
}

#[test]
fn subscribing_twice_adds_nothing() {
    let mut subs = Subscriptions::new(false);
    subs.handle_text(r#"{"method":"SUBSCRIBE","params":["a@trade"],"id":1}"#);
    let applied =
        subs.handle_text(r#"{"method":"SUBSCRIBE","params":["a@trade","A@trade"],"id":2}"#);
    assert!(applied.added.is_empty());
    assert_eq!(subs.len(), 1);
}

#[test]
fn set_and_get_the_combined_property() {
    let mut subs = Subscriptions::new(false);
    let applied = subs.handle_text(r#"{"method":"GET_PROPERTY","params":["combined"],"id":2}"#);
    assert_eq!(applied.reply, r#"{"result":false,"id":2}"#);
    let applied =
        subs.handle_text(r#"{"method":"SET_PROPERTY","params":["combined",true],"id":5}"#);
    assert_eq!(applied.reply, r#"{"result":null,"id":5}"#);
    assert!(subs.combined());
    let applied = subs.handle_text(r#"{"method":"GET_PROPERTY","params":["combined"],"id":"g"}"#);
    assert_eq!(applied.reply, r#"{"result":true,"id":"g"}"#);
}

#[test]
fn connector_subscribes_to_user_data_with_a_listen_key() {
    let frame = parse_control(&format!(
        r#"{{"method":"SUBSCRIBE","params":["{KEY}"],"id":7}}"#
    ))
    .unwrap();
    assert_eq!(frame.id, RequestId::Number(7));
    assert_eq!(
        frame.request,
        ControlRequest::Subscribe(vec![Stream::UserData(KEY.to_owned())])
    );
}

fn error(text: &str) -> ControlError {
    parse_control(text).unwrap_err()
}

#[test]
fn invalid_json_is_code_3() {
    let refused = error(r#"{"method":"SUBSCRIBE""#);
    assert_eq!(refused.code, 3);
    assert!(refused.msg.starts_with("Invalid JSON: "));
    assert_eq!(refused.id, None);
    assert!(
        refused
            .to_json()
            .starts_with(r#"{"code":3,"msg":"Invalid JSON: "#)
    );
}

#[test]
fn malformed_requests_are_code_2() {
    let cases = [
        r#"[1,2]"#,
        r#"{"params":["a@trade"],"id":1}"#,
        r#"{"method":7,"id":1}"#,
        r#"{"method":"subscribe","params":["a@trade"],"id":1}"#,
        r#"{"method":"PING","id":1}"#,
        r#"{"method":"SUBSCRIBE","params":["a@trade"]}"#,
        r#"{"method":"SUBSCRIBE","params":["a@trade"],"id":-1}"#,
        r#"{"method":"SUBSCRIBE","params":["a@trade"],"id":1.5}"#,
        r#"{"method":"SUBSCRIBE","params":["a@trade"],"id":{"a":1}}"#,
        r#"{"method":"SUBSCRIBE","params":"a@trade","id":1}"#,
        r#"{"method":"SUBSCRIBE","id":1}"#,
        r#"{"method":"SUBSCRIBE","params":[1],"id":1}"#,
        r#"{"method":"SUBSCRIBE","params":["a@nope"],"id":1}"#,
        r#"{"method":"SET_PROPERTY","params":["combined",true,1],"id":1}"#,
        r#"{"method":"SET_PROPERTY","params":[1,true],"id":1}"#,
        r#"{"method":"GET_PROPERTY","params":[],"id":1}"#,
        r#"{"method":"GET_PROPERTY","params":["combined","x"],"id":1}"#,
    ];
    for text in cases {
        let refused = error(text);
        assert_eq!(refused.code, 2, "{text}: {}", refused.msg);
        assert!(refused.msg.starts_with("Invalid request: "), "{text}");
    }
    let long_id = format!(
        r#"{{"method":"LIST_SUBSCRIPTIONS","id":"{}"}}"#,
        "x".repeat(65)
    );
    assert_eq!(error(&long_id).code, 2);
}

#[test]
fn unknown_method_names_the_variants() {
    let refused = error(r#"{"method":"FOO","id":4}"#);
    assert_eq!(
        refused.to_json(),
        r#"{"code":2,"msg":"Invalid request: unknown variant `FOO`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`","id":4}"#
    );
}

#[test]
fn unknown_property_is_code_0_with_the_id() {
    let refused = error(r#"{"method":"GET_PROPERTY","params":["speed"],"id":9}"#);
    assert_eq!(
        refused.to_json(),
        r#"{"code":0,"msg":"Unknown property","id":9}"#
    );
    let refused = error(r#"{"method":"SET_PROPERTY","params":["speed",true],"id":"s"}"#);
    assert_eq!(
        (refused.code, refused.id),
        (0, Some(RequestId::Text("s".to_owned())))
    );
}

#[test]
fn non_boolean_property_value_is_code_1() {
    for value in [r#""true""#, "1", "null"] {
        let text = format!(r#"{{"method":"SET_PROPERTY","params":["combined",{value}],"id":1}}"#);
        let refused = error(&text);
        assert_eq!(
            refused.to_json(),
            r#"{"code":1,"msg":"Invalid value type: expected Boolean","id":1}"#
        );
    }
    assert_eq!(
        error(r#"{"method":"SET_PROPERTY","params":["combined"],"id":1}"#).code,
        1
    );
}

#[test]
fn a_refused_subscribe_changes_nothing() {
    let mut subs = Subscriptions::new(false);
    let applied =
        subs.handle_text(r#"{"method":"SUBSCRIBE","params":["a@trade","a@bogus"],"id":1}"#);
    assert!(applied.reply.starts_with(r#"{"code":2,"#));
    assert!(applied.reply.ends_with(r#""id":1}"#));
    assert!(subs.is_empty() && applied.added.is_empty());
}

#[test]
fn subscribing_past_1024_streams_is_refused_whole() {
    let mut subs = Subscriptions::new(false);
    let first: Vec<Stream> = (0..1000).map(|i| market(&format!("s{i}@trade"))).collect();
    assert_eq!(subs.subscribe(&first).unwrap().len(), 1000);
    let more: Vec<String> = (1000..1025).map(|i| format!("\"s{i}@trade\"")).collect();
    let text = format!(
        r#"{{"method":"SUBSCRIBE","params":[{}],"id":8}}"#,
        more.join(",")
    );
    let applied = subs.handle_text(&text);
    assert!(
        applied.reply.starts_with(r#"{"code":2,"#),
        "{}",
        applied.reply
    );
    assert_eq!(subs.len(), 1000);
    let fits: Vec<Stream> = (1000..1024)
        .map(|i| market(&format!("s{i}@trade")))
        .collect();
    assert_eq!(subs.subscribe(&fits).unwrap().len(), 24);
    assert_eq!(subs.len(), 1024);
}

// --- Framing (§1.2) -----------------------------------------------------------------------

#[test]
fn combined_frame_wraps_the_payload_verbatim() {
    let payload = r#"{"e":"aggTrade", "E":1, "p":"0.00100000"}"#;
    assert_eq!(
        wrap_combined("btcusdt@aggTrade", payload),
        r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade", "E":1, "p":"0.00100000"}}"#
    );
    let parsed: serde_json::Value =
        serde_json::from_str(&wrap_combined("!markPrice@arr", "[1,2]")).unwrap();
    assert_eq!(parsed["data"], serde_json::json!([1, 2]));
}

#[test]
fn stream_names_needing_escapes_are_escaped() {
    let framed = wrap_combined("we\"ird", "{}");
    assert_eq!(framed, r#"{"stream":"we\"ird","data":{}}"#);
}

#[test]
fn frame_follows_the_combined_property() {
    let mut subs = Subscriptions::new(false);
    assert_eq!(subs.frame(KEY, "{}"), Cow::Borrowed("{}"));
    subs.set_combined(true);
    assert_eq!(
        subs.frame(KEY, "{}"),
        format!(r#"{{"stream":"{KEY}","data":{{}}}}"#)
    );
}
