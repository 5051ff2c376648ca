//! A simulator mirroring a live venue, over real loopback sockets: the venue's messages go in
//! through the feed channel as the recorder would hand them over, orders go in over the
//! Binance REST API, and a passive order at the touch fills only once the venue's volume
//! ahead of it has traded.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

use kestrel_model::config::SimConfig;
use kestrel_model::recording::{MessageKind, RecordedMessage};
use kestrel_sim::api::auth::signed_query;
use kestrel_sim::server::{self, MirrorFeed, RunningSim, SimOptions};
use serde_json::Value;
use tokio::net::TcpListener;

const KEY: &str = "mirror-key";
const SECRET: &str = "mirror-secret";

/// The fake venue: what it sends, with its update ids chained as Binance chains them.
struct Venue {
    feed: Sender<RecordedMessage>,
    last_id: u64,
}

impl Venue {
    fn send(&self, kind: MessageKind, stream: &str, raw: String) {
        let message = RecordedMessage {
            recv_ns: 1,
            kind,
            stream: Some(stream.to_owned()),
            symbol: Some("BTCUSDT".to_owned()),
            raw,
        };
        self.feed.send(message).unwrap();
    }

    fn snapshot(&mut self, bids: &str, asks: &str) {
        self.last_id = 100;
        let raw = format!(r#"{{"lastUpdateId":100,"bids":{bids},"asks":{asks}}}"#);
        self.send(MessageKind::Snapshot, "btcusdt@depthSnapshot", raw);
    }

    /// A diff setting bid levels (`[["price","qty"]]`): the first after the snapshot
    /// straddles its `lastUpdateId`, each later one links to its predecessor by `pu`.
    fn bids(&mut self, bids: &str) {
        let (first, prev) = if self.last_id == 100 {
            (100, 99)
        } else {
            (self.last_id + 1, self.last_id)
        };
        let last = self.last_id + 1;
        self.last_id = last;
        let raw = format!(
            r#"{{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":{first},"u":{last},"pu":{prev},"b":{bids},"a":[]}}"#
        );
        self.send(MessageKind::DepthDiff, "btcusdt@depth@0ms", raw);
    }

    /// A trade whose taker sold `qty` at `price`.
    fn sell(&self, price: &str, qty: &str) {
        let raw = format!(
            r#"{{"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":1,"p":"{price}","q":"{qty}","X":"MARKET","m":true}}"#
        );
        self.send(MessageKind::Trade, "btcusdt@trade", raw);
    }
}

async fn start() -> (RunningSim, Venue) {
    let config = SimConfig {
        symbols: vec!["BTCUSDT".to_owned()],
        market_step_ms: 10,
        ..SimConfig::default()
    };
    let options = SimOptions {
        api_key: KEY.into(),
        api_secret: SECRET.into(),
        ..SimOptions::local(config)
    };
    let (feed, receiver) = mpsc::channel();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = server::start_mirror(options, MirrorFeed::new(receiver), listener)
        .await
        .unwrap();
    (sim, Venue { feed, last_id: 0 })
}

/// A minimal HTTP/1.1 request; returns status and JSON body.
async fn http(sim: &RunningSim, method: &str, target: &str) -> (u16, Value) {
    support::http(sim.local_addr(), KEY, method, target, "").await
}

async fn signed(sim: &RunningSim, method: &str, path: &str, query: &str) -> (u16, Value) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let query = signed_query(&format!("{query}&timestamp={now}"), SECRET);
    http(sim, method, &format!("{path}?{query}")).await
}

/// Polls `check` until it returns `Some`, for at most five seconds.
async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, check: impl Fn() -> F) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The best bid as `(price, qty)` text, once there is one.
async fn best_bid(sim: &RunningSim) -> Option<(String, String)> {
    let (_, book) = http(sim, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=5").await;
    let level = book["bids"].get(0)?;
    Some((level[0].as_str()?.to_owned(), level[1].as_str()?.to_owned()))
}

async fn order(sim: &RunningSim, id: u64) -> Value {
    let query = format!("symbol=BTCUSDT&orderId={id}");
    signed(sim, "GET", "/fapi/v1/order", &query).await.1
}

#[tokio::test]
async fn a_passive_buy_at_the_touch_fills_only_after_the_queue_ahead_has_traded() {
    let (sim, mut venue) = start().await;
    venue.snapshot(r#"[["60000.00","2.000"]]"#, r#"[["60000.10","1.000"]]"#);
    venue.bids(r#"[["60000.00","2.000"]]"#);
    let top = eventually("the mirrored book", || async {
        best_bid(&sim).await.filter(|(_, qty)| qty == "2.000")
    })
    .await;
    assert_eq!(top.0, "60000.00");
    let query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.500&price=60000";
    let (status, placed) = signed(&sim, "POST", "/fapi/v1/order", query).await;
    assert_eq!(status, 200, "{placed}");
    let id = placed["orderId"].as_u64().unwrap();
    // 1.5 of the 2.0 ahead of us trades: 0.5 is still ahead.
    venue.sell("60000.00", "1.500");
    venue.bids(r#"[["60000.00","0.500"]]"#);
    // Once the level shows the venue's 0.5 and our 0.5, the trade has been applied.
    eventually("the trade and the level", || async {
        best_bid(&sim).await.filter(|(_, qty)| qty == "1.000")
    })
    .await;
    let state = order(&sim, id).await;
    assert_eq!(
        (state["status"].as_str(), state["executedQty"].as_str()),
        (Some("NEW"), Some("0.000")),
        "{state}"
    );
    // 0.8 trades: the last 0.5 ahead of us, then 0.3 of our order.
    venue.sell("60000.00", "0.800");
    venue.bids(r#"[["60000.00","0"]]"#);
    let state = eventually("the fill", || async {
        Some(order(&sim, id).await).filter(|s| s["executedQty"] == "0.300")
    })
    .await;
    assert_eq!(state["status"], "PARTIALLY_FILLED", "{state}");
    let (_, trades) = signed(&sim, "GET", "/fapi/v1/userTrades", "symbol=BTCUSDT").await;
    assert_eq!(trades[0]["price"], "60000.00", "{trades}");
    assert_eq!(trades[0]["maker"], true, "{trades}");
    sim.shutdown().await;
}

#[tokio::test]
async fn status_reports_the_mirror_and_a_market_order_fills_at_the_venues_ask() {
    let (sim, mut venue) = start().await;
    venue.snapshot(
        r#"[["60000.00","2.000"]]"#,
        r#"[["60000.10","0.300"],["60000.20","5"]]"#,
    );
    venue.bids(r#"[["60000.00","2.000"]]"#);
    eventually("the mirrored book", || best_bid(&sim)).await;
    let (_, status) = http(&sim, "GET", "/sim/v1/status").await;
    let btc = &status["mirror"]["symbols"]["BTCUSDT"];
    assert_eq!(btc["synced"], true, "{status}");
    assert_eq!(
        (btc["bid_levels"].as_u64(), btc["ask_levels"].as_u64()),
        (Some(1), Some(2))
    );
    let query = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.500";
    let (status, _) = signed(&sim, "POST", "/fapi/v1/order", query).await;
    assert_eq!(status, 200);
    let (_, trades) = signed(&sim, "GET", "/fapi/v1/userTrades", "symbol=BTCUSDT").await;
    let fills: Vec<(&str, &str)> = trades
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["price"].as_str().unwrap(), t["qty"].as_str().unwrap()))
        .collect();
    assert_eq!(fills, [("60000.10", "0.300"), ("60000.20", "0.200")]);
    sim.shutdown().await;
}
