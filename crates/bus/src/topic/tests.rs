//! Topic names, parsing and pattern matching.

use kestrel_model::event::{MarketEvent, ReceiveTime, TradeEvent};
use kestrel_model::{Price, Qty};

use super::*;

fn all_topics() -> Vec<Topic> {
    vec![
        Topic::order_book("BTCUSDT").unwrap(),
        Topic::trades("BTCUSDT").unwrap(),
        Topic::orders("ETHUSDT").unwrap(),
        Topic::fills("ETHUSDT").unwrap(),
        Topic::AccountUpdates,
        Topic::Alerts,
        Topic::RiskEvents,
        Topic::ConfigChanges,
    ]
}

#[test]
fn topics_print_the_architecture_names() {
    let names: Vec<String> = all_topics().iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "market_data.BTCUSDT.orderbook",
            "market_data.BTCUSDT.trades",
            "orders.ETHUSDT",
            "fills.ETHUSDT",
            "account.updates",
            "alerts",
            "risk.events",
            "config.changes",
        ]
    );
}

#[test]
fn every_topic_parses_back_from_its_name() {
    for topic in all_topics() {
        assert_eq!(Topic::parse(&topic.to_string()), Ok(topic));
        assert_eq!(topic.to_string().parse::<Topic>(), Ok(topic));
    }
}

#[test]
fn parsing_rejects_unknown_names_and_bad_symbols() {
    for unknown in [
        "",
        "market_data",
        "market_data.BTCUSDT",
        "orders",
        "alerts.x",
        "fills.A.B",
    ] {
        assert!(
            matches!(Topic::parse(unknown), Err(TopicError::Unknown { .. })),
            "{unknown:?}"
        );
    }
    let err = Topic::parse("market_data.btcusdt.trades").unwrap_err();
    assert!(matches!(err, TopicError::Symbol { .. }));
    assert!(err.to_string().contains("upper-case"), "{err}");
    assert!(Topic::orders("BTC*").is_err());
}

#[test]
fn market_events_route_trades_to_trades_and_the_rest_to_the_book() {
    let trade = TradeEvent {
        symbol: "BTCUSDT",
        trade_id: 1,
        price: Price::ONE,
        qty: Qty::ONE,
        trade_time_ms: 0,
        event_time_ms: 0,
        buyer_is_maker: false,
        received: ReceiveTime::default(),
    };
    let topic = Topic::for_event(&MarketEvent::Trade(trade)).unwrap();
    assert_eq!(topic.to_string(), "market_data.BTCUSDT.trades");
    assert_eq!(topic.kind(), TopicKind::Trades);
    assert_eq!(topic.symbol().map(Symbol::as_str), Some("BTCUSDT"));
}

#[test]
fn wildcards_match_one_segment_and_rest_matches_the_tail() {
    let trades = TopicPattern::parse("market_data.*.trades").unwrap();
    let all_md = TopicPattern::parse("market_data.>").unwrap();
    let everything = TopicPattern::parse(">").unwrap();
    let btc_trades = Topic::trades("BTCUSDT").unwrap();
    let eth_trades = Topic::trades("ETHUSDT").unwrap();
    let btc_book = Topic::order_book("BTCUSDT").unwrap();
    assert!(trades.matches(&btc_trades) && trades.matches(&eth_trades));
    assert!(!trades.matches(&btc_book));
    assert!(all_md.matches(&btc_book) && all_md.matches(&eth_trades));
    assert!(!all_md.matches(&Topic::Alerts));
    assert!(everything.matches(&Topic::Alerts));
    assert!(
        !TopicPattern::parse("alerts.>")
            .unwrap()
            .matches(&Topic::Alerts)
    );
    assert!(
        TopicPattern::parse("orders.*")
            .unwrap()
            .matches(&Topic::orders("X").unwrap())
    );
}

#[test]
fn exact_patterns_match_only_their_topic() {
    for topic in all_topics() {
        let pattern = TopicPattern::from(topic);
        assert_eq!(pattern.to_string(), topic.to_string());
        for other in all_topics() {
            assert_eq!(
                pattern.matches(&other),
                other == topic,
                "{pattern} vs {other}"
            );
        }
    }
}

#[test]
fn malformed_patterns_are_refused_with_a_reason() {
    for (bad, reason) in [
        ("", "empty segment"),
        ("market_data..trades", "empty segment"),
        ("market_data.>.trades", "last"),
        ("market data", "letters"),
    ] {
        let err = TopicPattern::parse(bad).unwrap_err();
        assert!(err.to_string().contains(reason), "{bad:?}: {err}");
    }
}

#[test]
fn topics_deserialize_from_their_names() {
    use serde::de::value::{Error, StrDeserializer};
    let de = StrDeserializer::<Error>::new("fills.BTCUSDT");
    assert_eq!(Topic::deserialize(de), Ok(Topic::fills("BTCUSDT").unwrap()));
    let bad = StrDeserializer::<Error>::new("nope");
    assert!(Topic::deserialize(bad).is_err());
}
