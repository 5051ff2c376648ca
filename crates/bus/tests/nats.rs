#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The NATS transport against a real server: what a consumer on another host relies on.
//!
//! The server is the local `nats-server` at `nats://127.0.0.1:4222` (`KESTREL_TEST_NATS_URL`
//! overrides it). When it is unreachable the tests print why and pass as skipped, unless
//! `KESTREL_REQUIRE_SERVICES=1`, where that is a failure. Tests run in parallel against the one
//! server, so each uses its own symbols (and so its own subjects). The outage test starts a
//! private `nats-server` on a free port (`KESTREL_NATS_SERVER_BIN` names the binary) and skips
//! when there is none.
//!
//! Waits are bounded by [`WAIT`] only so that a broken build fails instead of hanging; nothing
//! asserts how fast anything is.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kestrel_bus::nats::{self, NatsPublisher, NatsSubscriber, PumpStats, SkipReason};
use kestrel_bus::ring::{RingConfig, RingReader, RingWriter};
use kestrel_bus::{Envelope, NatsError, RingPump, Topic, TopicKind, TopicPattern, codec};
use kestrel_model::book::Level;
use kestrel_model::event::{
    BookSnapshot, BookTicker, DepthUpdate, EventKind, MarketEvent, OwnedMarketEvent, ReceiveTime,
    TradeEvent,
};
use kestrel_model::{Price, Qty};
use tempfile::TempDir;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

/// The longest any single wait may take before the test is declared stuck.
const WAIT: Duration = Duration::from_secs(30);

fn nats_url() -> String {
    std::env::var("KESTREL_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

fn services_required() -> bool {
    std::env::var("KESTREL_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The test server's URL, or `None` (after saying why) when it is unreachable and not required.
async fn server(test: &str) -> Option<String> {
    let url = nats_url();
    match nats::connect(&url).await {
        Ok(_) => Some(url),
        Err(error) if services_required() => {
            panic!("{test}: KESTREL_REQUIRE_SERVICES=1 but NATS is unreachable: {error}")
        }
        Err(error) => {
            eprintln!(
                "SKIPPED {test}: {error}. Start nats-server or set KESTREL_TEST_NATS_URL \
                 (KESTREL_REQUIRE_SERVICES=1 turns this into a failure)."
            );
            None
        }
    }
}

/// A symbol no other test (or earlier run) uses: `prefix` plus process id, time and a counter.
fn unique_symbol(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let symbol = format!(
        "{prefix}{:X}{:X}{:X}",
        std::process::id(),
        nanos & 0xFFFF_FFFF_FFFF,
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    assert!(symbol.len() <= 32, "{symbol} too long for a symbol");
    symbol
}

fn level(price: i64, qty: i64) -> Level {
    Level::new(Price::from_raw(price), Qty::from_raw(qty))
}

fn trade(symbol: &str, trade_id: u64) -> OwnedMarketEvent {
    MarketEvent::Trade(TradeEvent {
        symbol,
        trade_id,
        price: Price::parse("67250.1").unwrap(),
        qty: Qty::from_raw(200_000 + trade_id as i64),
        trade_time_ms: 1_760_000_000_000 + trade_id,
        event_time_ms: 1_760_000_000_001 + trade_id,
        buyer_is_maker: trade_id.is_multiple_of(2),
        received: ReceiveTime::new(trade_id, 1_760_000_000_002_000_000 + trade_id),
    })
    .into_owned()
}

fn snapshot(symbol: &str, id: u64, levels_per_side: usize) -> OwnedMarketEvent {
    let bids: Vec<Level> = (0..levels_per_side as i64)
        .map(|i| level(6_700_000_000_000 - i * 10_000_000, 1_000 + i))
        .collect();
    let asks: Vec<Level> = (0..levels_per_side as i64)
        .map(|i| level(6_700_010_000_000 + i * 10_000_000, 2_000 + i))
        .collect();
    MarketEvent::Snapshot(BookSnapshot {
        symbol,
        last_update_id: id,
        event_time_ms: 1_760_000_000_000,
        transaction_time_ms: 1_760_000_000_000,
        received: ReceiveTime::new(id, id),
        bids: &bids,
        asks: &asks,
    })
    .into_owned()
}

/// `count` events of every kind for `symbol`, cycling depth, ticker, trade, snapshot, and
/// ending with a trade.
fn mixed_events(symbol: &str, count: u64) -> Vec<OwnedMarketEvent> {
    (1..=count)
        .map(|n| match (n % 4, n == count) {
            (3, _) | (_, true) => trade(symbol, n),
            (1, _) => {
                let bids = [
                    level(6_725_000_000_000, n as i64),
                    level(6_724_000_000_000, 0),
                ];
                let asks = [level(6_726_000_000_000, 3 * n as i64)];
                MarketEvent::Depth(DepthUpdate {
                    symbol,
                    first_update_id: 10 * n,
                    final_update_id: 10 * n + 9,
                    prev_final_update_id: (n > 1).then_some(10 * n - 1),
                    event_time_ms: 1_760_000_000_000 + n,
                    transaction_time_ms: 1_760_000_000_000 + n,
                    received: ReceiveTime::new(n, n),
                    bids: &bids,
                    asks: &asks,
                })
                .into_owned()
            }
            (2, _) => MarketEvent::BookTicker(BookTicker {
                symbol,
                update_id: 10 * n,
                event_time_ms: 1_760_000_000_000 + n,
                transaction_time_ms: 1_760_000_000_000 + n,
                received: ReceiveTime::new(n, n),
                bid: level(6_725_000_000_000, 5),
                ask: level(6_725_010_000_000, 7),
            })
            .into_owned(),
            _ => snapshot(symbol, 10 * n, 5),
        })
        .collect()
}

fn trade_id(event: &OwnedMarketEvent) -> Option<u64> {
    match event {
        OwnedMarketEvent::Trade(t) => Some(t.trade.trade_id),
        _ => None,
    }
}

fn topic_of(event: &OwnedMarketEvent) -> Topic {
    Topic::for_event(&event.as_event()).unwrap()
}

/// A ring in a temporary directory, with a reader positioned at its start.
fn ring(config: RingConfig) -> (TempDir, RingWriter, RingReader) {
    let dir = tempfile::tempdir().unwrap();
    let writer = RingWriter::create(dir.path().join("md"), config).unwrap();
    let reader = RingReader::open(writer.path()).unwrap();
    (dir, writer, reader)
}

fn publish_all(writer: &mut RingWriter, events: &[OwnedMarketEvent]) {
    for event in events {
        writer.publish(&event.as_event()).unwrap();
    }
}

async fn subscribe(client: &nats::Client, pattern: &str) -> NatsSubscriber {
    NatsSubscriber::subscribe(client, &TopicPattern::parse(pattern).unwrap())
        .await
        .unwrap()
}

async fn recv(subscriber: &mut NatsSubscriber) -> Envelope<OwnedMarketEvent> {
    timeout(WAIT, subscriber.next())
        .await
        .unwrap_or_else(|_| panic!("nothing arrived on {}", subscriber.pattern()))
        .expect("subscription closed")
}

/// A running pump and the means to stop it.
struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<PumpStats>,
}

impl Running {
    fn start(pump: RingPump) -> Self {
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(pump.run(shutdown));
        Self { stop, task }
    }

    async fn stop(self) -> PumpStats {
        self.stop.send(true).unwrap();
        timeout(WAIT, self.task).await.unwrap().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_written_to_the_ring_arrive_on_their_topics_decoded_and_in_order() {
    let Some(url) = server("events_written_to_the_ring_arrive_on_their_topics").await else {
        return;
    };
    let symbol = unique_symbol("ORD");
    let consumer = nats::connect(&url).await.unwrap();
    let mut all = subscribe(&consumer, &format!("market_data.{symbol}.>")).await;
    let mut books = subscribe(&consumer, &format!("market_data.{symbol}.orderbook")).await;
    let mut trades = subscribe(&consumer, &format!("market_data.{symbol}.trades")).await;

    let (_dir, mut writer, reader) = ring(RingConfig::with_slot_count(1024));
    let publisher = NatsPublisher::connect(&url).await.unwrap();
    let pump = Running::start(RingPump::new(reader, publisher));
    let events = mixed_events(&symbol, 40);
    publish_all(&mut writer, &events);

    for written in &events {
        let envelope = recv(&mut all).await;
        assert_eq!(envelope.topic, topic_of(written));
        assert_eq!(&envelope.message, written);
    }
    for written in events.iter().filter(|e| e.kind() != EventKind::Trade) {
        let envelope = recv(&mut books).await;
        assert_eq!(
            envelope.topic.to_string(),
            format!("market_data.{symbol}.orderbook")
        );
        assert_eq!(&envelope.message, written);
    }
    for written in events.iter().filter(|e| e.kind() == EventKind::Trade) {
        let envelope = recv(&mut trades).await;
        assert_eq!(
            envelope.topic.to_string(),
            format!("market_data.{symbol}.trades")
        );
        assert_eq!(&envelope.message, written);
    }

    let stats = pump.stop().await;
    let expected = PumpStats {
        read: 40,
        published: 40,
        flushed: true,
        ..PumpStats::default()
    };
    assert_eq!(stats, expected);
    assert_eq!(all.stats().skipped, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_trades_subscription_receives_every_symbols_trades_and_nothing_else() {
    let Some(url) = server("a_wildcard_trades_subscription").await else {
        return;
    };
    let (first, second) = (unique_symbol("WA"), unique_symbol("WB"));
    let consumer = nats::connect(&url).await.unwrap();
    let mut trades = subscribe(&consumer, "market_data.*.trades").await;

    let (_dir, mut writer, reader) = ring(RingConfig::with_slot_count(1024));
    let publisher = NatsPublisher::connect(&url).await.unwrap();
    let pump = Running::start(RingPump::new(reader, publisher));
    // Interleaved, each symbol's stream ending with a trade, the second symbol's last.
    let (a, b) = (mixed_events(&first, 12), mixed_events(&second, 12));
    let events: Vec<_> = a
        .iter()
        .zip(&b)
        .flat_map(|(x, y)| [x, y])
        .cloned()
        .collect();
    publish_all(&mut writer, &events);

    // Other tests publish trades on the same server: keep ours, but check every arrival.
    let mut ours = Vec::new();
    let expected: Vec<_> = events
        .iter()
        .filter(|e| e.kind() == EventKind::Trade)
        .cloned()
        .collect();
    while ours.len() < expected.len() {
        let envelope = recv(&mut trades).await;
        assert_eq!(
            envelope.topic.kind(),
            TopicKind::Trades,
            "{}",
            envelope.topic
        );
        assert_eq!(envelope.message.kind(), EventKind::Trade);
        let symbol = envelope.message.symbol();
        if symbol == first || symbol == second {
            assert_eq!(envelope.topic, topic_of(&envelope.message));
            ours.push(envelope.message);
        }
    }
    assert_eq!(ours, expected);
    let stats = pump.stop().await;
    assert_eq!((stats.read, stats.published), (24, 24));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pump_skips_malformed_ring_messages_and_keeps_publishing() {
    let Some(url) = server("the_pump_skips_malformed_ring_messages").await else {
        return;
    };
    let symbol = unique_symbol("MAL");
    let consumer = nats::connect(&url).await.unwrap();
    let mut all = subscribe(&consumer, &format!("market_data.{symbol}.>")).await;

    let config = RingConfig {
        slot_count: 16,
        slot_size: 512 * 1024,
    };
    let (_dir, mut writer, reader) = ring(config);
    let publisher = NatsPublisher::connect(&url).await.unwrap();
    let pump = Running::start(RingPump::new(reader, publisher));

    let before = trade(&symbol, 1);
    let large = snapshot(&symbol, 2, 10_000);
    let after = trade(&symbol, 3);
    let encoded = |event: &OwnedMarketEvent| {
        let mut bytes = Vec::new();
        codec::encode(&event.as_event(), &mut bytes).unwrap();
        bytes
    };
    let valid = encoded(&after);
    let mut trailing = valid.clone();
    trailing.push(0);
    let mut overlong = valid.clone();
    overlong[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let slot_sized_junk = vec![0xA5; writer.max_message_len()];

    writer.write(b"not a codec message").unwrap();
    writer.publish(&before.as_event()).unwrap();
    writer.write(&valid[..valid.len() - 3]).unwrap();
    writer.write(&slot_sized_junk).unwrap();
    writer.write(&trailing).unwrap();
    writer.write(&overlong).unwrap();
    writer.write(&[]).unwrap();
    writer.publish(&large.as_event()).unwrap();
    writer.publish(&after.as_event()).unwrap();

    for written in [&before, &large, &after] {
        assert_eq!(&recv(&mut all).await.message, written);
    }
    // Anything published in between would have arrived before the last event.
    assert_eq!(all.stats().received, 3);
    let stats = pump.stop().await;
    assert_eq!(
        (stats.read, stats.malformed, stats.published, stats.failed),
        (9, 6, 3, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_skips_payloads_that_are_not_events_of_their_topic_and_counts_them() {
    let Some(url) = server("a_subscriber_skips_payloads").await else {
        return;
    };
    let symbol = unique_symbol("SKP");
    let topic = Topic::trades(&symbol).unwrap();
    let consumer = nats::connect(&url).await.unwrap();
    let mut trades = subscribe(&consumer, &topic.to_string()).await;

    // Published straight on the subject, as a foreign or buggy publisher would.
    let mut publisher = NatsPublisher::connect(&url).await.unwrap();
    let mut book_event = Vec::new();
    codec::encode(&snapshot(&symbol, 1, 2).as_event(), &mut book_event).unwrap();
    let good = trade(&symbol, 2);
    let mut good_bytes = Vec::new();
    codec::encode(&good.as_event(), &mut good_bytes).unwrap();
    publisher.publish(topic, b"\x00garbage").await.unwrap();
    publisher.publish(topic, &book_event).await.unwrap();
    publisher.publish(topic, &good_bytes).await.unwrap();

    let envelope = recv(&mut trades).await;
    assert_eq!((envelope.topic, &envelope.message), (topic, &good));
    let stats = trades.stats();
    assert_eq!((stats.received, stats.delivered, stats.skipped), (3, 1, 2));
    assert!(
        matches!(trades.last_skip(), Some(SkipReason::WrongTopic { .. })),
        "{:?}",
        trades.last_skip()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pump_that_was_lapped_counts_what_it_lost_and_resumes_at_the_newest() {
    let Some(url) = server("a_pump_that_was_lapped").await else {
        return;
    };
    let symbol = unique_symbol("LAP");
    let consumer = nats::connect(&url).await.unwrap();
    let mut trades = subscribe(&consumer, &format!("market_data.{symbol}.trades")).await;

    let (_dir, mut writer, reader) = ring(RingConfig::with_slot_count(4));
    // Twenty messages through a four-slot ring before the pump reads any.
    let events: Vec<_> = (1..=20).map(|id| trade(&symbol, id)).collect();
    publish_all(&mut writer, &events);
    let publisher = NatsPublisher::connect(&url).await.unwrap();
    let pump = Running::start(RingPump::new(reader, publisher));

    assert_eq!(Some(&recv(&mut trades).await.message), events.last());
    let stats = pump.stop().await;
    assert_eq!((stats.lapped, stats.read, stats.published), (19, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_shutdown_the_pump_forwards_what_was_already_written_and_flushes() {
    let Some(url) = server("at_shutdown_the_pump_forwards").await else {
        return;
    };
    let symbol = unique_symbol("SHUT");
    let consumer = nats::connect(&url).await.unwrap();
    let mut trades = subscribe(&consumer, &format!("market_data.{symbol}.trades")).await;

    let (_dir, mut writer, reader) = ring(RingConfig::with_slot_count(1024));
    let events: Vec<_> = (1..=500).map(|id| trade(&symbol, id)).collect();
    publish_all(&mut writer, &events);
    let publisher = NatsPublisher::connect(&url).await.unwrap();
    // Shutdown is already requested when the pump starts.
    let (stop, shutdown) = watch::channel(true);
    let stats = timeout(WAIT, nats::pump_ring(reader, publisher, shutdown))
        .await
        .unwrap();
    drop(stop);

    assert_eq!(
        (stats.read, stats.published, stats.flushed),
        (500, 500, true)
    );
    for written in &events {
        assert_eq!(&recv(&mut trades).await.message, written);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pump_follows_a_ring_replaced_by_a_new_writer() {
    let Some(url) = server("the_pump_follows_a_ring_replaced").await else {
        return;
    };
    let symbol = unique_symbol("RPL");
    let consumer = nats::connect(&url).await.unwrap();
    let mut trades = subscribe(&consumer, &format!("market_data.{symbol}.trades")).await;

    let (_dir, mut writer, reader) = ring(RingConfig::with_slot_count(64));
    let path = writer.path().to_path_buf();
    let publisher = NatsPublisher::connect(&url).await.unwrap();
    let pump = RingPump::new(reader, publisher);
    let monitor = pump.monitor();
    let pump = Running::start(pump);

    let events: Vec<_> = (1..=3).map(|id| trade(&symbol, id)).collect();
    writer.publish(&events[0].as_event()).unwrap();
    assert_eq!(recv(&mut trades).await.message, events[0]);
    drop(writer);
    let mut writer = RingWriter::create(&path, RingConfig::with_slot_count(64)).unwrap();
    publish_all(&mut writer, &events[1..]);
    for written in &events[1..] {
        assert_eq!(&recv(&mut trades).await.message, written);
    }
    assert_eq!(monitor.stats().reopened, 1);
    let stats = pump.stop().await;
    assert_eq!((stats.read, stats.published, stats.lapped), (3, 3, 0));
}

#[tokio::test]
async fn a_connection_failure_names_the_url() {
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("nats://kestrel:secret@127.0.0.1:{port}");
    let error = NatsPublisher::connect(&url).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, NatsError::Connect { .. }), "{text}");
    assert!(
        text.contains(&format!("nats://***@127.0.0.1:{port}")),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

/// A private `nats-server` process, killed when dropped.
struct PrivateServer {
    child: Child,
}

impl PrivateServer {
    fn start(binary: &Path, port: u16) -> Self {
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self { child }
    }

    fn stop(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        // Already reaped after `stop`; otherwise end the process the test started.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `nats-server` binary, if there is one.
fn nats_server_binary() -> Option<std::path::PathBuf> {
    let binary =
        std::env::var_os("KESTREL_NATS_SERVER_BIN").unwrap_or_else(|| "nats-server".into());
    let works = Command::new(&binary)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then(|| binary.into())
}

async fn connect_when_up(url: &str) -> nats::Client {
    let deadline = Instant::now() + WAIT;
    loop {
        match nats::connect(url).await {
            Ok(client) => return client,
            Err(error) => assert!(
                Instant::now() < deadline,
                "private server never came up: {error}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pump_survives_the_server_going_away_and_resumes_when_it_returns() {
    let Some(binary) = nats_server_binary() else {
        eprintln!(
            "SKIPPED the_pump_survives_the_server_going_away: no nats-server binary \
             (set KESTREL_NATS_SERVER_BIN)"
        );
        return;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("nats://127.0.0.1:{port}");
    let server = PrivateServer::start(&binary, port);
    let consumer = connect_when_up(&url).await;
    let symbol = unique_symbol("OUT");
    let mut trades = subscribe(&consumer, &format!("market_data.{symbol}.trades")).await;

    let (_dir, mut writer, reader) = ring(RingConfig::with_slot_count(4096));
    let publisher = NatsPublisher::connect(&url).await.unwrap();
    let pump = RingPump::new(reader, publisher);
    let monitor = pump.monitor();
    let pump = Running::start(pump);

    let mut next_id = 1;
    let mut write_trade = |writer: &mut RingWriter| {
        writer.publish(&trade(&symbol, next_id).as_event()).unwrap();
        next_id += 1;
        next_id - 1
    };
    let first = write_trade(&mut writer);
    assert_eq!(trade_id(&recv(&mut trades).await.message), Some(first));

    // The server goes away; the market keeps moving until the client's buffer is full and
    // publishes fail.
    server.stop();
    let deadline = Instant::now() + WAIT;
    while monitor.stats().failed == 0 {
        assert!(
            Instant::now() < deadline,
            "no publish failed: {:?}",
            monitor.stats()
        );
        for _ in 0..100 {
            write_trade(&mut writer);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!pump.task.is_finished(), "the pump stopped");

    // The server returns on the same port: both clients reconnect and trades flow again.
    let _server = PrivateServer::start(&binary, port);
    let marker = write_trade(&mut writer);
    let deadline = Instant::now() + 2 * WAIT;
    loop {
        assert!(
            Instant::now() < deadline,
            "trades never flowed again: {:?}",
            monitor.stats()
        );
        match timeout(Duration::from_millis(50), trades.next()).await {
            Ok(Some(envelope)) if trade_id(&envelope.message) >= Some(marker) => break,
            Ok(Some(_)) => {}
            Ok(None) => panic!("subscription closed"),
            Err(_) => {
                write_trade(&mut writer);
            }
        }
    }

    let stats = pump.stop().await;
    let written = writer.next_seq();
    assert!(stats.failed > 0 && stats.published > 0, "{stats:?}");
    assert_eq!(stats.read + stats.lapped, written, "{stats:?}");
    assert_eq!(stats.published + stats.failed, stats.read, "{stats:?}");
    assert!(stats.flushed, "{stats:?}");
}
