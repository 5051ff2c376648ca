//! The simulator over real loopback sockets: the WebSocket trading API, stream URL shapes and
//! control frames, snapshot streams, a client book kept in sync through faults, and replay of
//! a real Binance recording.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kestrel_model::Price;
use kestrel_model::book::{BookConfig, DepthDiff, Flavor, Level, OrderBook, SyncDecision};
use kestrel_model::config::SimConfig;
use kestrel_sim::api::sign;
use kestrel_sim::server::{self, RunningSim, SimOptions};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

const KEY: &str = "test-key";
const SECRET: &str = "test-secret";

async fn start(replay: Option<PathBuf>, symbols: &[&str]) -> RunningSim {
    let config = SimConfig {
        symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
        ..SimConfig::default()
    };
    start_with(replay, config).await
}

async fn start_with(replay: Option<PathBuf>, config: SimConfig) -> RunningSim {
    start_paced(replay, config, server::ReplayPace::Original).await
}

async fn start_paced(
    replay: Option<PathBuf>,
    config: SimConfig,
    replay_pace: server::ReplayPace,
) -> RunningSim {
    let options = SimOptions {
        config,
        api_key: KEY.into(),
        api_secret: SECRET.into(),
        replay,
        replay_pace,
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    server::start(options, listener).await.unwrap()
}

/// A minimal HTTP/1.1 request over a fresh connection; returns status and JSON body.
async fn http(sim: &RunningSim, method: &str, target: &str, body: &str) -> (u16, Value) {
    support::http(sim.local_addr(), KEY, method, target, body).await
}

async fn ws(
    sim: &RunningSim,
    path: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>> {
    let url = format!("ws://{}{path}", sim.local_addr());
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The next text frame as JSON (skipping pings), within `secs`.
async fn next_json<S>(socket: &mut S, secs: u64) -> Value
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(Duration::from_secs(secs), socket.next())
            .await
            .expect("a frame in time")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

fn now_ms() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Signs WS-API params the WS-API way: every param but `signature`, sorted, `k=v&...`.
fn ws_signed(mut params: serde_json::Map<String, Value>) -> Value {
    params.insert("apiKey".into(), json!(KEY));
    params.insert("timestamp".into(), json!(now_ms()));
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect();
    pairs.sort();
    let payload = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    params.insert("signature".into(), json!(sign(&payload, "", SECRET)));
    Value::Object(params)
}

#[tokio::test]
async fn trading_api_places_queries_and_cancels_with_rest_semantics() {
    let sim = start(None, &["BTCUSDT"]).await;
    let (_, depth) = http(&sim, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=5", "").await;
    let bid: f64 = depth["bids"][0][0].as_str().unwrap().parse().unwrap();
    let price = format!("{:.1}", (bid - 800.0).floor());
    let mut socket = ws(&sim, "/ws-fapi/v1").await;
    let place = json!({"id": "a1", "method": "order.place", "params": ws_signed(json!({
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010", "price": price,
    }).as_object().unwrap().clone())});
    socket
        .send(Message::Text(place.to_string().into()))
        .await
        .unwrap();
    let reply = next_json(&mut socket, 5).await;
    assert_eq!(
        (reply["id"].as_str(), reply["status"].as_u64()),
        (Some("a1"), Some(200)),
        "{reply}"
    );
    let order_id = reply["result"]["orderId"].as_u64().unwrap();
    assert_eq!(reply["result"]["status"], "NEW");
    let status = json!({"id": 2, "method": "order.status", "params": ws_signed(json!({"symbol": "BTCUSDT", "orderId": order_id}).as_object().unwrap().clone())});
    socket
        .send(Message::Text(status.to_string().into()))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut socket, 5).await["result"]["orderId"].as_u64(),
        Some(order_id)
    );
    let cancel = json!({"id": 3, "method": "order.cancel", "params": ws_signed(json!({"symbol": "BTCUSDT", "orderId": order_id}).as_object().unwrap().clone())});
    socket
        .send(Message::Text(cancel.to_string().into()))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut socket, 5).await["result"]["status"],
        "CANCELED"
    );
    // A tampered signature is refused with REST's code.
    let mut bad = ws_signed(
        json!({"symbol": "BTCUSDT", "orderId": order_id})
            .as_object()
            .unwrap()
            .clone(),
    );
    bad["symbol"] = json!("ETHUSDT");
    socket
        .send(Message::Text(
            json!({"id": 4, "method": "order.status", "params": bad})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let refused = next_json(&mut socket, 5).await;
    assert_eq!(refused["error"]["code"].as_i64(), Some(-1022), "{refused}");
    sim.shutdown().await;
}

#[tokio::test]
async fn stream_urls_and_control_frames_behave_like_binance() {
    let sim = start(None, &["BTCUSDT"]).await;
    let mut raw = ws(&sim, "/public/ws/7").await;
    raw.send(Message::Text(
        r#"{"method":"SUBSCRIBE","params":["btcusdt@depth5@100ms","btcusdt@kline_1m"],"id":"s-1"}"#
            .into(),
    ))
    .await
    .unwrap();
    assert_eq!(
        next_json(&mut raw, 5).await,
        json!({"result": null, "id": "s-1"}),
        "string ids are echoed"
    );
    raw.send(Message::Text(
        r#"{"method":"LIST_SUBSCRIPTIONS","id":9}"#.into(),
    ))
    .await
    .unwrap();
    // Data frames of the new subscriptions may arrive before the reply; find it by its id.
    let mut seen_depth5 = false;
    let mut seen_kline = false;
    let mut listed = None;
    for _ in 0..200 {
        let frame = next_json(&mut raw, 5).await;
        if frame.get("id").is_some() {
            listed = Some(frame.clone());
        }
        match frame["e"].as_str() {
            Some("depthUpdate") => {
                assert_eq!(
                    frame["b"].as_array().unwrap().len(),
                    5,
                    "partial depth is a top-5 snapshot"
                );
                seen_depth5 = true;
            }
            Some("kline") => {
                assert_eq!(frame["k"]["i"], "1m");
                seen_kline = true;
            }
            _ => {}
        }
        if seen_depth5 && seen_kline && listed.is_some() {
            break;
        }
    }
    assert_eq!(
        listed,
        Some(json!({"result": ["btcusdt@depth5@100ms", "btcusdt@kline_1m"], "id": 9}))
    );
    assert!(seen_depth5 && seen_kline);
    let mut combined = ws(
        &sim,
        "/market/stream?streams=btcusdt@markPrice@1s/btcusdt@aggTrade",
    )
    .await;
    let frame = next_json(&mut combined, 10).await;
    assert!(
        frame["stream"] == "btcusdt@markPrice@1s" || frame["stream"] == "btcusdt@aggTrade",
        "{frame}"
    );
    assert!(frame["data"]["e"].is_string());
    sim.shutdown().await;
}

/// Keeps a local book the Binance way (§7.1: buffer from connect, snapshot, drop stale, chain
/// `pu` to the previous `u`, resnapshot on a gap) through an injected gap; after the market
/// pauses and the last events arrive, the book must equal the simulator's true book, with no
/// final resnapshot.
#[tokio::test]
async fn a_client_book_recovers_from_a_gap_and_equals_the_true_book() {
    let sim = start(None, &["BTCUSDT"]).await;
    let mut socket = ws(&sim, "/ws/btcusdt@depth@0ms").await;
    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let reader = tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message {
                let _ = sender.send(serde_json::from_str(text.as_str()).unwrap());
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tick = Price::parse("0.1").unwrap();
    let mut book = OrderBook::new(BookConfig::new(tick, Flavor::Futures)).unwrap();
    resnapshot(&sim, &mut book).await;
    let (mut gaps, mut applied) = (0, 0);
    let started = tokio::time::Instant::now();
    let mut gap_sent = false;
    while started.elapsed() < Duration::from_secs(3) {
        while let Ok(event) = events.try_recv() {
            match apply(&mut book, &event) {
                Some(false) => {
                    gaps += 1;
                    resnapshot(&sim, &mut book).await;
                }
                Some(true) => applied += 1,
                None => {}
            }
        }
        if !gap_sent && applied > 20 {
            gap_sent = true;
            http(
                &sim,
                "POST",
                "/sim/v1/faults",
                r#"{"kind":"gap","symbol":"BTCUSDT","skip":3}"#,
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    http(&sim, "POST", "/sim/v1/market/pause", "").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(event) = events.try_recv() {
        if apply(&mut book, &event) == Some(false) {
            gaps += 1;
            resnapshot(&sim, &mut book).await;
        }
    }
    let (_, truth) = http(&sim, "GET", "/sim/v1/book/BTCUSDT?depth=5000", "").await;
    assert!(
        gap_sent && gaps >= 1,
        "the injected gap was detected ({gaps} gaps, {applied} applied)"
    );
    assert!(
        applied > 50,
        "the book followed the stream ({applied} diffs)"
    );
    assert_eq!(book.last_update_id(), truth["lastUpdateId"].as_u64());
    let levels = |side: kestrel_model::book::BookSide| -> Value {
        json!(
            book.levels(side)
                .map(|l| [format!("{:.2}", l.price), format!("{:.3}", l.qty)])
                .collect::<Vec<_>>()
        )
    };
    assert_eq!(levels(kestrel_model::book::BookSide::Bid), truth["bids"]);
    assert_eq!(levels(kestrel_model::book::BookSide::Ask), truth["asks"]);
    reader.abort();
    sim.shutdown().await;
}

#[tokio::test]
async fn drop_connections_closes_every_socket() {
    let sim = start(None, &["BTCUSDT"]).await;
    let mut socket = ws(&sim, "/ws/btcusdt@aggTrade").await;
    http(
        &sim,
        "POST",
        "/sim/v1/faults",
        r#"{"kind":"drop_connections"}"#,
    )
    .await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true));
    sim.shutdown().await;
}

async fn resnapshot(sim: &RunningSim, book: &mut OrderBook) {
    let (_, depth) = http(sim, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=1000", "").await;
    let side = |key: &str| -> Vec<Level> {
        depth[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                Level::new(
                    Price::parse(l[0].as_str().unwrap()).unwrap(),
                    kestrel_model::Qty::parse(l[1].as_str().unwrap()).unwrap(),
                )
            })
            .collect()
    };
    book.apply_snapshot(
        depth["lastUpdateId"].as_u64().unwrap(),
        side("bids"),
        side("asks"),
    )
    .unwrap();
}

/// Applies one diff; `Some(false)` on a gap, `Some(true)` when applied, `None` when stale.
fn apply(book: &mut OrderBook, event: &Value) -> Option<bool> {
    let levels = |key: &str| -> Vec<Level> {
        event[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                Level::new(
                    Price::parse(l[0].as_str().unwrap()).unwrap(),
                    kestrel_model::Qty::parse(l[1].as_str().unwrap()).unwrap(),
                )
            })
            .collect()
    };
    let (bids, asks) = (levels("b"), levels("a"));
    let diff = DepthDiff {
        first_update_id: event["U"].as_u64().unwrap(),
        final_update_id: event["u"].as_u64().unwrap(),
        prev_final_update_id: event["pu"].as_u64(),
        bids: &bids,
        asks: &asks,
    };
    match book.apply_diff(&diff).unwrap() {
        SyncDecision::Apply => Some(true),
        SyncDecision::DropStale => None,
        SyncDecision::Gap(_) | SyncDecision::AwaitingSnapshot => Some(false),
    }
}

#[tokio::test]
async fn replay_serves_the_recording_and_its_book() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/binance-usdm/btcusdt_20240808.gz");
    assert!(
        path.is_file(),
        "missing {}: shared/ must sit beside the checkout",
        path.display()
    );
    let sim = start(Some(path), &["BTCUSDT"]).await;
    let mut socket = ws(&sim, "/stream?streams=btcusdt@bookTicker").await;
    let frame = next_json(&mut socket, 10).await;
    assert_eq!(frame["stream"], "btcusdt@bookTicker");
    assert_eq!(
        frame["data"]["s"], "BTCUSDT",
        "recorded payloads are served verbatim"
    );
    // After the recording's snapshot line, the REST depth is the replayed book.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, depth) = http(&sim, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=5", "").await;
    let last = depth["lastUpdateId"].as_u64().unwrap();
    assert!(
        last >= 5_123_107_852_948,
        "the replayed book is past the recording's snapshot: {depth}"
    );
    let bid: f64 = depth["bids"][0][0].as_str().unwrap().parse().unwrap();
    assert!((61_000.0..62_500.0).contains(&bid), "{depth}");
    sim.shutdown().await;
}

#[tokio::test]
async fn ticker_streams_publish_the_24h_figures() {
    let sim = start(None, &["BTCUSDT", "ETHUSDT"]).await;
    let mut socket = ws(&sim, "/stream?streams=btcusdt@ticker/!miniTicker@arr").await;
    let (mut ticker, mut minis) = (None, None);
    for _ in 0..20 {
        let frame = next_json(&mut socket, 5).await;
        match frame["stream"].as_str() {
            Some("btcusdt@ticker") => ticker = Some(frame["data"].clone()),
            Some("!miniTicker@arr") => minis = Some(frame["data"].clone()),
            _ => {}
        }
        if ticker.is_some() && minis.is_some() {
            break;
        }
    }
    let ticker = ticker.expect("a 24hrTicker frame");
    assert_eq!(
        (ticker["e"].as_str(), ticker["s"].as_str()),
        (Some("24hrTicker"), Some("BTCUSDT"))
    );
    assert!(ticker["c"].is_string() && ticker["n"].is_u64());
    let minis = minis.expect("a miniTicker array");
    assert_eq!(
        minis.as_array().map(Vec::len),
        Some(2),
        "one entry per symbol"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn exceeding_the_request_weight_gives_429_then_418() {
    let config = SimConfig {
        symbols: vec!["BTCUSDT".into()],
        request_weight_limit_per_minute: 10,
        ..SimConfig::default()
    };
    let sim = start_with(None, config).await;
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let (status, body) = http(&sim, "GET", "/fapi/v1/time", "").await;
        if status != 200 {
            assert_eq!(body["code"].as_i64(), Some(-1003), "{body}");
        }
        statuses.push(status);
    }
    assert_eq!(
        &statuses[..10],
        &[200; 10],
        "the first 10 units of weight pass"
    );
    let first_refusal = statuses.iter().position(|s| *s != 200).unwrap();
    assert_eq!(statuses[first_refusal], 429);
    assert_eq!(
        statuses.last(),
        Some(&418),
        "carrying on after 429s gets the IP banned"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn fast_replay_plays_the_whole_recording_to_its_last_update() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/binance-usdm/btcusdt_20240808.gz");
    let config = SimConfig {
        symbols: vec!["BTCUSDT".into()],
        ..SimConfig::default()
    };
    let sim = start_paced(Some(path), config, server::ReplayPace::Fast).await;
    // The recording's last diff has u = 5123135475514 (6,547 diffs after its snapshot).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut last = 0;
    while tokio::time::Instant::now() < deadline && last != 5_123_135_475_514 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (_, depth) = http(&sim, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=5", "").await;
        last = depth["lastUpdateId"].as_u64().unwrap_or(0);
    }
    assert_eq!(
        last, 5_123_135_475_514,
        "the replayed book reached the recording's last update"
    );
    sim.shutdown().await;
}
