//! The codec's layout, its error kinds, and property tests: every valid event round-trips, and
//! no byte string makes the decoder panic.

use kestrel_model::book::Level;
use kestrel_model::event::{
    BookTicker, DepthUpdate, MarketEvent, OwnedBookSnapshot, OwnedBookTicker, OwnedDepthUpdate,
    OwnedMarketEvent, OwnedTradeEvent, ReceiveTime, TradeEvent,
};
use kestrel_model::{Price, Qty, Trade};
use proptest::prelude::*;

use super::*;

fn level(price: i64, qty: i64) -> Level {
    Level::new(Price::from_raw(price), Qty::from_raw(qty))
}

fn sample_trade() -> TradeEvent<'static> {
    TradeEvent {
        symbol: "BTCUSDT",
        trade_id: 0x0102,
        price: Price::from_raw(-2),
        qty: Qty::from_raw(3),
        trade_time_ms: 4,
        event_time_ms: 5,
        buyer_is_maker: true,
        received: ReceiveTime::new(6, 7),
    }
}

fn encode_vec(event: &MarketEvent<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    encode(event, &mut out).unwrap();
    out
}

#[test]
fn a_trade_has_the_documented_layout() {
    let bytes = encode_vec(&MarketEvent::Trade(sample_trade()));
    let mut expected = vec![1, 3, 0b10, 0, 72, 0, 0, 0, 7];
    expected.extend_from_slice(b"BTCUSDT");
    for word in [0x0102_u64, (-2_i64) as u64, 3, 4, 5, 6, 7] {
        expected.extend_from_slice(&word.to_le_bytes());
    }
    assert_eq!(bytes, expected);
}

#[test]
fn a_34_level_depth_update_is_620_bytes_and_decodes_by_borrowing() {
    let levels: Vec<Level> = (0..17).map(|i| level(100 + i, i)).collect();
    let update = DepthUpdate {
        symbol: "BTCUSDT",
        first_update_id: 1,
        final_update_id: 2,
        prev_final_update_id: None,
        event_time_ms: 3,
        transaction_time_ms: 4,
        received: ReceiveTime::new(5, 6),
        bids: &levels,
        asks: &levels,
    };
    let bytes = encode_vec(&MarketEvent::Depth(update));
    assert_eq!(bytes.len(), 620);
    let WireEvent::Depth(wire) = decode(&bytes).unwrap() else {
        panic!("not a depth update");
    };
    assert!(std::ptr::eq(wire.symbol.as_ptr(), bytes[9..].as_ptr()));
    assert_eq!(wire.bids.len(), 17);
    assert_eq!(wire.asks.get(16), Some(level(116, 16)));
    assert_eq!(wire.to_event(&mut LevelScratch::default()), update);
}

#[test]
fn encoding_into_a_vec_with_room_does_not_reallocate() {
    let event = MarketEvent::Trade(sample_trade());
    let mut out = Vec::with_capacity(256);
    let before = (out.as_ptr(), out.capacity());
    for _ in 0..3 {
        out.clear();
        encode(&event, &mut out).unwrap();
    }
    assert_eq!((out.as_ptr(), out.capacity()), before);
}

#[test]
fn encoding_into_a_short_slice_is_an_error() {
    let event = MarketEvent::Trade(sample_trade());
    let mut buf = [0_u8; 71];
    let err = encode_to_slice(&event, &mut buf).unwrap_err();
    assert_eq!(
        err,
        EncodeError::BufferTooSmall {
            needed: 72,
            available: 71
        }
    );
    let mut big = [0_u8; 100];
    assert_eq!(encode_to_slice(&event, &mut big), Ok(72));
    assert_eq!(&big[..72], encode_vec(&event).as_slice());
}

#[test]
fn encoding_refuses_what_decoding_would_refuse() {
    let mut trade = sample_trade();
    trade.symbol = "btc.usdt";
    let err = encode(&MarketEvent::Trade(trade), &mut Vec::new()).unwrap_err();
    assert!(matches!(err, EncodeError::BadSymbol { .. }), "{err}");
    let mut trade = sample_trade();
    trade.qty = Qty::from_raw(-1);
    let err = encode(&MarketEvent::Trade(trade), &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("negative"), "{err}");
    let ticker = BookTicker {
        symbol: "X",
        update_id: 0,
        event_time_ms: 0,
        transaction_time_ms: 0,
        received: ReceiveTime::default(),
        bid: level(i64::MIN, 0),
        ask: level(1, 1),
    };
    let err = encode(&MarketEvent::BookTicker(ticker), &mut Vec::new()).unwrap_err();
    assert!(matches!(
        err,
        EncodeError::BadValue {
            field: "bid price",
            ..
        }
    ));
}

fn decode_kind(bytes: &[u8]) -> DecodeErrorKind {
    decode(bytes).unwrap_err().kind()
}

#[test]
fn malformed_messages_are_refused_with_their_kind() {
    let good = encode_vec(&MarketEvent::Trade(sample_trade()));
    let with = |at: usize, value: u8| {
        let mut bytes = good.clone();
        bytes[at] = value;
        bytes
    };
    assert_eq!(decode_kind(&good[..5]), DecodeErrorKind::Truncated);
    assert_eq!(
        decode_kind(&with(0, 2)),
        DecodeErrorKind::UnsupportedVersion
    );
    assert_eq!(decode_kind(&with(1, 9)), DecodeErrorKind::UnknownKind);
    assert_eq!(decode_kind(&with(2, 0b11)), DecodeErrorKind::BadFlags);
    assert_eq!(decode_kind(&with(4, 71)), DecodeErrorKind::BadLength);
    assert_eq!(decode_kind(&good[..60]), DecodeErrorKind::BadLength);
    assert_eq!(decode_kind(&with(9, b'b')), DecodeErrorKind::BadSymbol);
    assert_eq!(decode_kind(&with(8, 0)), DecodeErrorKind::BadSymbol);
    let mut negative_qty = good.clone();
    negative_qty[32..40].copy_from_slice(&(-5_i64).to_le_bytes());
    let err = decode(&negative_qty).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::BadValue {
                field: "qty",
                offset: 32,
                raw: -5,
                ..
            }
        ),
        "{err}"
    );
    let mut long = good.clone();
    long.push(0);
    long[4] = 73;
    assert_eq!(decode_kind(&long), DecodeErrorKind::TrailingBytes);
}

#[test]
fn version_mismatch_names_both_versions() {
    let mut bytes = encode_vec(&MarketEvent::Trade(sample_trade()));
    bytes[0] = 7;
    let message = decode(&bytes).unwrap_err().to_string();
    assert_eq!(
        message,
        "unsupported codec version 7 (this build reads version 1)"
    );
}

#[test]
fn a_stream_of_messages_decodes_one_prefix_at_a_time() {
    let trade = MarketEvent::Trade(sample_trade());
    let snapshot = OwnedBookSnapshot {
        symbol: "ETHUSDT".to_owned(),
        last_update_id: 9,
        bids: vec![level(10, 1)],
        asks: vec![level(11, 2), level(12, 3)],
        ..OwnedBookSnapshot::default()
    };
    let mut stream = encode_vec(&trade);
    encode(&MarketEvent::Snapshot(snapshot.as_event()), &mut stream).unwrap();
    let (first, used) = decode_prefix(&stream).unwrap();
    assert_eq!(first.into_owned(), trade.into_owned());
    let (second, rest) = decode_prefix(&stream[used..]).unwrap();
    assert_eq!(used + rest, stream.len());
    assert_eq!(second.into_owned(), OwnedMarketEvent::Snapshot(snapshot));
}

fn symbol() -> impl Strategy<Value = String> {
    "[A-Z0-9]{1,32}"
}

fn levels() -> impl Strategy<Value = Vec<Level>> {
    let one = (-i64::MAX..=i64::MAX, 0..=i64::MAX).prop_map(|(p, q)| level(p, q));
    prop::collection::vec(one, 0..40)
}

fn received() -> impl Strategy<Value = ReceiveTime> {
    (any::<u64>(), any::<u64>()).prop_map(|(m, w)| ReceiveTime::new(m, w))
}

fn depth() -> impl Strategy<Value = OwnedMarketEvent> {
    let ids = (any::<u64>(), any::<u64>(), any::<Option<u64>>());
    (
        symbol(),
        ids,
        any::<(u64, u64)>(),
        received(),
        levels(),
        levels(),
    )
        .prop_map(
            |(symbol, (first, last, prev), (e, t), received, bids, asks)| {
                OwnedMarketEvent::Depth(OwnedDepthUpdate {
                    symbol,
                    first_update_id: first,
                    final_update_id: last,
                    prev_final_update_id: prev,
                    event_time_ms: e,
                    transaction_time_ms: t,
                    received,
                    bids,
                    asks,
                })
            },
        )
}

fn ticker() -> impl Strategy<Value = OwnedMarketEvent> {
    let top = (-i64::MAX..=i64::MAX, 0..=i64::MAX).prop_map(|(p, q)| level(p, q));
    (symbol(), any::<[u64; 3]>(), received(), top.clone(), top).prop_map(
        |(symbol, [update_id, e, t], received, bid, ask)| {
            OwnedMarketEvent::BookTicker(OwnedBookTicker {
                symbol,
                update_id,
                event_time_ms: e,
                transaction_time_ms: t,
                received,
                bid,
                ask,
            })
        },
    )
}

fn trade() -> impl Strategy<Value = OwnedMarketEvent> {
    let values = (-i64::MAX..=i64::MAX, 0..=i64::MAX, any::<bool>());
    (symbol(), any::<[u64; 3]>(), values, received()).prop_map(
        |(symbol, [trade_id, trade_ms, event_ms], (price, qty, buyer_is_maker), received)| {
            OwnedMarketEvent::Trade(OwnedTradeEvent {
                trade: Trade {
                    symbol,
                    trade_id,
                    price: Price::from_raw(price),
                    quantity: Qty::from_raw(qty),
                    timestamp_ms: trade_ms,
                    buyer_is_maker,
                },
                event_time_ms: event_ms,
                received,
            })
        },
    )
}

fn snapshot() -> impl Strategy<Value = OwnedMarketEvent> {
    (symbol(), any::<[u64; 3]>(), received(), levels(), levels()).prop_map(
        |(symbol, [last_update_id, e, t], received, bids, asks)| {
            OwnedMarketEvent::Snapshot(OwnedBookSnapshot {
                symbol,
                last_update_id,
                event_time_ms: e,
                transaction_time_ms: t,
                received,
                bids,
                asks,
            })
        },
    )
}

fn any_event() -> impl Strategy<Value = OwnedMarketEvent> {
    prop_oneof![depth(), ticker(), trade(), snapshot()]
}

proptest! {
    #[test]
    fn every_valid_event_round_trips(event in any_event()) {
        let borrowed = event.as_event();
        let bytes = encode_vec(&borrowed);
        prop_assert_eq!(bytes.len(), encoded_len(&borrowed));
        let mut slice = vec![0; bytes.len()];
        prop_assert_eq!(encode_to_slice(&borrowed, &mut slice), Ok(bytes.len()));
        prop_assert_eq!(&slice, &bytes);
        let header = peek_header(&bytes).unwrap();
        prop_assert_eq!((header.kind, header.len), (event.kind(), bytes.len()));
        let decoded = decode(&bytes).unwrap();
        prop_assert_eq!(decoded.symbol(), event.symbol());
        prop_assert_eq!(decoded.into_owned(), event);
    }

    #[test]
    fn random_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..1200)) {
        let _ = decode(&bytes);
        let _ = decode_prefix(&bytes);
    }

    #[test]
    fn corrupted_messages_never_panic_the_decoder(
        event in any_event(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encode_vec(&event.as_event());
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(decoded) = decode(&bytes) {
            // Whatever decodes is valid, so it encodes again.
            let again = decoded.into_owned();
            prop_assert!(encode(&again.as_event(), &mut Vec::new()).is_ok());
        }
        let _ = decode_prefix(&bytes[..cut.index(bytes.len() + 1)]);
    }
}
