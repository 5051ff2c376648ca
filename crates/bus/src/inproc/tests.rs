//! Routing, fan-out, drop accounting and subscription lifetime of the in-process bus.

use std::thread;

use super::*;

fn trades(symbol: &str) -> Topic {
    Topic::trades(symbol).unwrap()
}

fn pattern(text: &str) -> TopicPattern {
    TopicPattern::parse(text).unwrap()
}

fn received<M>(sub: &Subscription<M>) -> Vec<M> {
    sub.drain().map(|e| e.message).collect()
}

#[test]
fn every_matching_subscriber_gets_its_own_copy_in_order() {
    let bus = Bus::new();
    let a = bus.subscribe(trades("BTCUSDT"), 16);
    let b = bus.subscribe(trades("BTCUSDT"), 16);
    let mut publisher = bus.publisher();
    for i in 0..5 {
        let outcome = publisher.publish(trades("BTCUSDT"), i);
        assert_eq!(
            outcome,
            PublishOutcome {
                delivered: 2,
                dropped: 0
            }
        );
    }
    assert_eq!(received(&a), [0, 1, 2, 3, 4]);
    assert_eq!(received(&b), [0, 1, 2, 3, 4]);
}

#[test]
fn exact_subscriptions_ignore_other_topics_and_wildcards_span_symbols() {
    let bus = Bus::new();
    let btc = bus.subscribe(trades("BTCUSDT"), 16);
    let all_trades = bus.subscribe(pattern("market_data.*.trades"), 16);
    let everything = bus.subscribe(pattern(">"), 16);
    let mut publisher = bus.publisher();
    publisher.publish(trades("BTCUSDT"), "btc trade");
    publisher.publish(trades("ETHUSDT"), "eth trade");
    publisher.publish(Topic::order_book("BTCUSDT").unwrap(), "btc book");
    publisher.publish(Topic::Alerts, "alert");
    assert_eq!(received(&btc), ["btc trade"]);
    assert_eq!(received(&all_trades), ["btc trade", "eth trade"]);
    assert_eq!(everything.drain().count(), 4);
}

#[test]
fn envelopes_carry_the_topic_published_on() {
    let bus = Bus::new();
    let sub = bus.subscribe(pattern("fills.*"), 4);
    bus.publisher()
        .publish(Topic::fills("ETHUSDT").unwrap(), ());
    let envelope = sub.try_recv().unwrap();
    assert_eq!(envelope.topic.to_string(), "fills.ETHUSDT");
}

#[test]
fn a_full_subscriber_loses_messages_without_blocking_the_publisher_or_others() {
    let bus = Bus::new();
    let slow = bus.subscribe(trades("BTCUSDT"), 2);
    let fast = bus.subscribe(trades("BTCUSDT"), 100);
    let mut publisher = bus.publisher();
    for i in 0..10 {
        publisher.publish(trades("BTCUSDT"), i);
    }
    assert_eq!(received(&slow), [0, 1]);
    assert_eq!((slow.delivered(), slow.dropped()), (2, 8));
    assert_eq!(received(&fast).len(), 10);
    assert_eq!(fast.dropped(), 0);
    let stats = bus.subscriber_stats();
    assert_eq!((stats[0].id, stats[0].dropped), (slow.id(), 8));
    assert_eq!((stats[1].delivered, stats[1].dropped), (10, 0));
}

#[test]
fn subscribing_after_the_publisher_warmed_up_is_seen_at_once() {
    let bus = Bus::new();
    let mut publisher = bus.publisher();
    assert_eq!(publisher.publish(Topic::Alerts, 1).delivered, 0);
    let late = bus.subscribe(Topic::Alerts, 4);
    assert_eq!(publisher.publish(Topic::Alerts, 2).delivered, 1);
    assert_eq!(received(&late), [2]);
}

#[test]
fn dropping_a_subscription_unsubscribes_it() {
    let bus = Bus::new();
    let keep = bus.subscribe(Topic::ConfigChanges, 4);
    let gone = bus.subscribe(Topic::ConfigChanges, 4);
    let mut publisher = bus.publisher();
    assert_eq!(publisher.publish(Topic::ConfigChanges, 1).delivered, 2);
    drop(gone);
    assert_eq!(bus.subscriber_count(), 1);
    assert_eq!(publisher.publish(Topic::ConfigChanges, 2).delivered, 1);
    assert_eq!(received(&keep), [1, 2]);
}

#[test]
fn messages_cross_threads_in_order() {
    let bus: Bus<u64> = Bus::new();
    let sub = bus.subscribe(pattern("orders.>"), 1024);
    let mut publisher = bus.publisher();
    let sender = thread::spawn(move || {
        for i in 0..1000 {
            publisher.publish(Topic::orders("BTCUSDT").unwrap(), i);
        }
    });
    let mut got = Vec::new();
    while got.len() < 1000 {
        match sub.recv_timeout(Duration::from_secs(10)) {
            Some(envelope) => got.push(envelope.message),
            None => panic!("timed out after {} messages", got.len()),
        }
    }
    sender.join().unwrap();
    assert!(got.iter().copied().eq(0..1000));
    assert_eq!(sub.dropped(), 0);
}
