//! What needs no server: URL handling, topic routing of ring messages, and the subscriber's
//! parsing of what arrives. The transport itself is tested against a real server in
//! `tests/nats.rs`.

use kestrel_model::event::{MarketEvent, ReceiveTime, TradeEvent};
use kestrel_model::{Price, Qty};

use super::*;
use crate::codec;

fn trade(symbol: &str) -> Vec<u8> {
    let event = MarketEvent::Trade(TradeEvent {
        symbol,
        trade_id: 7,
        price: Price::parse("100.5").unwrap(),
        qty: Qty::parse("0.25").unwrap(),
        trade_time_ms: 1,
        event_time_ms: 2,
        buyer_is_maker: true,
        received: ReceiveTime::new(3, 4),
    });
    let mut bytes = Vec::new();
    codec::encode(&event, &mut bytes).unwrap();
    bytes
}

#[test]
fn redact_url_masks_credentials_of_every_server_and_keeps_the_rest() {
    assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
    assert_eq!(
        redact_url("nats://alice:s3cret@nats.internal:4222"),
        "nats://***@nats.internal:4222"
    );
    assert_eq!(
        redact_url("tls://token@a:4222,nats://b:4222/x"),
        "tls://***@a:4222,nats://b:4222/x"
    );
    assert_eq!(redact_url("u:p@host:4222"), "***@host:4222");
}

#[test]
fn server_lists_parse_and_bad_urls_are_refused() {
    assert_eq!(
        parse_servers("nats://a:4222, nats://b:4223").unwrap().len(),
        2
    );
    assert_eq!(parse_servers("127.0.0.1:4222").unwrap().len(), 1);
    assert!(parse_servers("nats://a:4222,").is_err());
    assert!(parse_servers("").is_err());
}

#[tokio::test]
async fn invalid_url_error_names_the_url_without_its_password() {
    let error = connect("nats://bob:hunter2@").await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, NatsError::InvalidUrl { .. }), "{text}");
    assert!(
        text.contains("nats://***@") && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn ring_messages_route_to_their_topic_and_garbage_is_refused() {
    assert_eq!(
        pump::topic_of(&trade("ETHUSDT")).unwrap(),
        Topic::trades("ETHUSDT").unwrap()
    );
    assert!(pump::topic_of(b"not a codec message").is_err());
    let mut long = trade("ETHUSDT");
    long.push(0);
    assert!(pump::topic_of(&long).is_err());
}

#[test]
fn the_subscriber_takes_events_of_their_subject_and_names_what_it_skips() {
    let bytes = trade("ETHUSDT");
    let envelope = subscriber::parse("market_data.ETHUSDT.trades", &bytes).unwrap();
    assert_eq!(envelope.topic, Topic::trades("ETHUSDT").unwrap());
    assert_eq!(
        envelope.message,
        codec::decode(&bytes).unwrap().into_owned()
    );

    let wrong_kind = subscriber::parse("market_data.ETHUSDT.orderbook", &bytes).unwrap_err();
    assert!(
        matches!(wrong_kind, SkipReason::WrongTopic { .. }),
        "{wrong_kind}"
    );
    let wrong_symbol = subscriber::parse("market_data.BTCUSDT.trades", &bytes).unwrap_err();
    assert!(
        matches!(wrong_symbol, SkipReason::WrongTopic { .. }),
        "{wrong_symbol}"
    );
    let garbage = subscriber::parse("market_data.ETHUSDT.trades", b"\x01\x03junk").unwrap_err();
    assert!(matches!(garbage, SkipReason::Payload { .. }), "{garbage}");
    let subject = subscriber::parse("market_data.ETHUSDT", &bytes).unwrap_err();
    assert!(matches!(subject, SkipReason::Subject { .. }), "{subject}");
}
