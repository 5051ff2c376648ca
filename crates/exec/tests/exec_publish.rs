//! Execution events on the bus: an order placed and filled on the simulator reaches an
//! in-process bus subscriber and a NATS subscriber as the seed's `OrderUpdate` and `FillEvent`
//! JSON on `orders.{symbol}` / `fills.{symbol}`, every event once, in the engine's order.
//!
//! The NATS test uses the local `nats-server` at `nats://127.0.0.1:4222`
//! (`KESTREL_TEST_NATS_URL` overrides it); when it is unreachable the test prints SKIPPED and
//! passes, unless `KESTREL_REQUIRE_SERVICES=1`. The server is shared, so the test keeps only the
//! messages of its own orders (a client order id prefix of its own).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use kestrel_bus::nats::NatsBytesSubscriber;
use kestrel_bus::{Bus, NatsPublisher, TopicPattern};
use kestrel_exec::driver::ExecDriver;
use kestrel_exec::engine::ExecEvent;
use kestrel_exec::journal::{Journal, MemoryJournal};
use kestrel_exec::publish::{self, EventPublisher, FillEvent, OrderUpdate, PublishStats};
use kestrel_model::config::Transport;
use kestrel_model::order::OrderStatus;
use serde_json::Value;
use support::{Market, PATIENCE, execution, place, start_driver, start_sim, wait_for};
use tokio::sync::{broadcast, watch};

/// A client order id prefix no other run uses at the same time.
fn unique_prefix(tag: &str) -> String {
    format!("{tag}{}", std::process::id() % 100_000)
}

/// Places a taking buy and waits until it is done (filled, or its rest expired); returns its
/// client order id and the payloads of the driver's events for it, in the driver's order.
async fn place_and_fill<J: Journal + 'static>(
    driver: &ExecDriver<J>,
    market: &Market,
    own: &mut broadcast::Receiver<ExecEvent>,
) -> (String, Vec<Value>) {
    let mut events = driver.subscribe();
    let answer = place(driver, market, market.taking_buy("taker", "0.030")).await;
    let id = answer.client_order_id().unwrap().to_owned();
    wait_for(driver, &mut events, |e| {
        let order = e.order(&id).unwrap();
        !order.status.is_open() && order.filled_qty.is_positive()
    })
    .await;
    let mut expected = Vec::new();
    while let Ok(event) = own.try_recv() {
        let json: Value = serde_json::from_slice(&publish::payload(&event).unwrap()).unwrap();
        if json["client_order_id"] == id.as_str() {
            expected.push(json);
        }
    }
    (id, expected)
}

/// Checks the shapes: the order updates end filled (or expired), money as strings, and the
/// fills add up to the filled quantity.
fn check_shapes(published: &[(String, Value)]) {
    let updates: Vec<OrderUpdate> = published
        .iter()
        .filter(|(topic, _)| topic == "orders.BTCUSDT")
        .map(|(_, json)| serde_json::from_value(json.clone()).unwrap())
        .collect();
    let fills: Vec<FillEvent> = published
        .iter()
        .filter(|(topic, _)| topic == "fills.BTCUSDT")
        .map(|(_, json)| serde_json::from_value(json.clone()).unwrap())
        .collect();
    let last = updates.last().unwrap();
    assert!(
        matches!(last.status, OrderStatus::Filled | OrderStatus::Expired),
        "{last:?}"
    );
    let quantity = last
        .filled_quantity
        .try_add(last.remaining_quantity)
        .unwrap();
    assert_eq!(quantity, kestrel_model::Qty::parse("0.030").unwrap());
    assert!(!fills.is_empty());
    let total = fills
        .iter()
        .try_fold(kestrel_model::Qty::ZERO, |sum, f| sum.try_add(f.quantity))
        .unwrap();
    assert_eq!(total, last.filled_quantity);
    let (_, json) = published
        .iter()
        .find(|(t, _)| t == "fills.BTCUSDT")
        .unwrap();
    assert!(
        json["price"].is_string() && json["commission"].is_string(),
        "{json}"
    );
    assert_eq!(json["side"], "buy");
}

#[tokio::test]
async fn order_updates_and_fills_reach_an_in_process_bus_subscriber_in_order() {
    let sim = start_sim().await;
    let config = execution(Transport::Websocket, 3);
    let driver = start_driver(&sim, &config, MemoryJournal::new(), "bus.1", |_| {}).await;
    let market = Market::read(&sim).await;
    let bus: Bus<Arc<[u8]>> = Bus::new();
    let orders = bus.subscribe(TopicPattern::parse("orders.*").unwrap(), 1024);
    let both = bus.subscribe(TopicPattern::parse("*.BTCUSDT").unwrap(), 1024);
    let (stop, stopped) = watch::channel(false);
    let publisher = tokio::spawn(EventPublisher::new(&bus).run(driver.subscribe(), stopped));
    let mut own = driver.subscribe();

    let (_, expected) = place_and_fill(&driver, &market, &mut own).await;
    stop.send(true).unwrap();
    let stats = publisher.await.unwrap();
    assert_eq!(stats.lagged, 0);
    assert_eq!(stats.unpublishable, 0);

    let mut received = Vec::new();
    while let Some(envelope) = both.try_recv() {
        let json: Value = serde_json::from_slice(&envelope.message).unwrap();
        received.push((envelope.topic.to_string(), json));
    }
    let payloads: Vec<Value> = received.iter().map(|(_, json)| json.clone()).collect();
    assert_eq!(
        payloads, expected,
        "every event once, in the engine's order"
    );
    check_shapes(&received);
    let mut order_count = 0;
    while orders.try_recv().is_some() {
        order_count += 1;
    }
    let expected_orders = received
        .iter()
        .filter(|(t, _)| t == "orders.BTCUSDT")
        .count();
    assert_eq!(
        order_count, expected_orders,
        "orders.* carries only order updates"
    );
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn order_updates_and_fills_reach_a_nats_subscriber_in_order() {
    let test = "order_updates_and_fills_reach_a_nats_subscriber_in_order";
    let Some(url) = kestrel_testkit::nats::server(test).await else {
        return;
    };
    let sim = start_sim().await;
    let config = execution(Transport::Websocket, 3);
    let prefix = unique_prefix("nats");
    let driver = start_driver(&sim, &config, MemoryJournal::new(), &prefix, |_| {}).await;
    let market = Market::read(&sim).await;
    let client = kestrel_bus::nats::connect(&url).await.unwrap();
    // One subscription for both subjects, so NATS keeps their relative order.
    let pattern = TopicPattern::parse("*.BTCUSDT").unwrap();
    let mut subscriber = NatsBytesSubscriber::subscribe(&client, &pattern)
        .await
        .unwrap();
    let nats = NatsPublisher::connect(&url).await.unwrap();
    let bus: Bus<Arc<[u8]>> = Bus::new();
    let (stop, stopped) = watch::channel(false);
    let publisher = EventPublisher::new(&bus).with_nats(nats);
    let publisher = tokio::spawn(publisher.run(driver.subscribe(), stopped));
    let mut own = driver.subscribe();

    let (id, expected) = place_and_fill(&driver, &market, &mut own).await;
    stop.send(true).unwrap();
    let stats: PublishStats = publisher.await.unwrap();
    assert_eq!(stats.nats_failed, 0);

    let mut received = Vec::new();
    let collect = async {
        while received.len() < expected.len() {
            let envelope = subscriber.next().await.expect("the subscription is open");
            let json: Value = serde_json::from_slice(&envelope.message).unwrap();
            // Another run on the same server may publish on BTCUSDT too.
            if json["client_order_id"] == id.as_str() {
                received.push((envelope.topic.to_string(), json));
            }
        }
    };
    tokio::time::timeout(PATIENCE, collect)
        .await
        .expect("every event reached NATS in time");
    let payloads: Vec<Value> = received.iter().map(|(_, json)| json.clone()).collect();
    assert_eq!(
        payloads, expected,
        "every event once, in the engine's order"
    );
    check_shapes(&received);
    driver.shutdown().await;
    sim.shutdown().await;
}
