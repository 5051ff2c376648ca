#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Orders and fills as the execution engine and reconciliation read them, on SQLite and
//! PostgreSQL alike: exact money, every enum value, upserts that keep what is known, open-order
//! queries that agree with the model, and fills stored exactly once.

mod common;

use std::collections::BTreeMap;

use common::{fill, limit_request, order_record, price, qty, stores};
use kestrel_model::order::{
    Fill, Liquidity, Order, OrderEvent, OrderType, PositionSide, Side, TimeInForce,
};
use kestrel_model::{Money, OrderStatus, Price, Qty};
use kestrel_store::{FillInsert, FillRecord, LastTrade, OrderRecord, StoreError};

const ALL_STATUSES: [OrderStatus; 8] = [
    OrderStatus::New,
    OrderStatus::PendingSubmit,
    OrderStatus::Submitted,
    OrderStatus::PartiallyFilled,
    OrderStatus::Filled,
    OrderStatus::Canceled,
    OrderStatus::Rejected,
    OrderStatus::Expired,
];

/// Records covering every order type, time in force, position side and status, with prices and
/// quantities at the edges of their types.
fn varied_orders() -> Vec<OrderRecord> {
    let types = [
        OrderType::Limit,
        OrderType::Market,
        OrderType::StopLimit,
        OrderType::StopMarket,
        OrderType::TakeProfitLimit,
        OrderType::TakeProfitMarket,
        OrderType::TrailingStopMarket,
    ];
    let tifs = [
        None,
        Some(TimeInForce::Gtc),
        Some(TimeInForce::Ioc),
        Some(TimeInForce::Fok),
        Some(TimeInForce::PostOnly),
        Some(TimeInForce::Gtx),
    ];
    let sides = [PositionSide::Both, PositionSide::Long, PositionSide::Short];
    (0..8_usize)
        .map(|i| OrderRecord {
            venue_order_id: (i % 2 == 0).then_some(u64::try_from(i64::MAX).unwrap() - 8 + i as u64),
            side: if i % 2 == 0 { Side::Buy } else { Side::Sell },
            order_type: types[i % types.len()],
            time_in_force: tifs[i % tifs.len()],
            position_side: sides[i % sides.len()],
            price: [Some(Price::MAX), Some(price("0.00000001")), None][i % 3],
            stop_price: [None, Some(price("67250.12345678"))][i % 2],
            qty: [Qty::MAX, Qty::EPSILON, qty("1.5")][i % 3],
            executed_qty: [Qty::ZERO, Qty::EPSILON, Qty::MAX][i % 3],
            avg_price: [None, Some(price("3100.00000001"))][i % 2],
            reduce_only: i % 3 == 0,
            reject_reason: (i == 6).then(|| "-2019 margin is insufficient".to_owned()),
            ..order_record(
                &format!("v-{i}"),
                "EDGEUSDT",
                ALL_STATUSES[i],
                100 + i as u64,
            )
        })
        .collect()
}

#[tokio::test]
async fn orders_round_trip_exactly_with_every_enum_value_and_money_edge() {
    for ts in stores("orders_round_trip").await {
        let orders = varied_orders();
        ts.store.upsert_orders(&orders).await.unwrap();
        for order in &orders {
            let back = ts
                .store
                .order_by_client_id(&order.client_order_id)
                .await
                .unwrap();
            assert_eq!(back.as_ref(), Some(order), "{}", ts.label);
        }
        assert_eq!(
            ts.store.orders_for_symbol("EDGEUSDT").await.unwrap(),
            orders
        );
        assert_eq!(ts.store.order_by_client_id("nobody").await.unwrap(), None);
    }
}

#[tokio::test]
async fn an_update_replaces_the_state_but_keeps_the_first_created_time_and_known_ids() {
    for ts in stores("orders_update").await {
        let mut order = order_record("k-1", "BTCUSDT", OrderStatus::Rejected, 100);
        order.venue_order_id = Some(9);
        order.reject_reason = Some("first reason".to_owned());
        ts.store.upsert_order(&order).await.unwrap();

        let update = OrderRecord {
            venue_order_id: None,
            reject_reason: None,
            status: OrderStatus::Filled,
            executed_qty: qty("2"),
            avg_price: Some(price("3100.2")),
            created_ms: 999,
            updated_ms: 250,
            ..order.clone()
        };
        ts.store.upsert_order(&update).await.unwrap();
        let back = ts.store.order_by_client_id("k-1").await.unwrap().unwrap();
        let expected = OrderRecord {
            venue_order_id: Some(9),
            reject_reason: Some("first reason".to_owned()),
            created_ms: 100,
            ..update
        };
        assert_eq!(back, expected, "{}", ts.label);
        assert_eq!(ts.rows("orders").await, 1);
    }
}

#[tokio::test]
async fn in_one_batch_the_later_state_of_an_order_wins() {
    for ts in stores("orders_batch_later_wins").await {
        let new = order_record("k-1", "BTCUSDT", OrderStatus::New, 100);
        let filled = OrderRecord {
            status: OrderStatus::Filled,
            executed_qty: qty("2"),
            updated_ms: 300,
            ..new.clone()
        };
        let other = order_record("k-2", "BTCUSDT", OrderStatus::New, 200);
        ts.store
            .upsert_orders(&[new, other.clone(), filled.clone()])
            .await
            .unwrap();
        let back = ts.store.order_by_client_id("k-1").await.unwrap();
        assert_eq!(back, Some(filled), "{}", ts.label);
        assert_eq!(
            ts.store.order_by_client_id("k-2").await.unwrap(),
            Some(other)
        );
        assert_eq!(ts.rows("orders").await, 2, "{}", ts.label);
    }
}

#[tokio::test]
async fn open_orders_are_exactly_those_the_model_calls_open() {
    for ts in stores("open_orders").await {
        let mut orders = Vec::new();
        for (i, status) in ALL_STATUSES.into_iter().enumerate() {
            let created = 1_000 - i as u64; // created in the reverse of insertion order
            orders.push(order_record(&format!("b-{i}"), "BTCUSDT", status, created));
            orders.push(order_record(&format!("e-{i}"), "ETHUSDT", status, created));
        }
        ts.store.upsert_orders(&orders).await.unwrap();
        let ids = |orders: Vec<OrderRecord>| -> Vec<String> {
            orders.into_iter().map(|o| o.client_order_id).collect()
        };

        let open = ts.store.open_orders(Some("BTCUSDT")).await.unwrap();
        assert!(
            open.iter()
                .all(|o| o.status.is_open() && o.symbol == "BTCUSDT")
        );
        assert_eq!(
            ids(open),
            ["b-3", "b-2", "b-1"],
            "{}: oldest first",
            ts.label
        );
        assert_eq!(ts.store.open_orders(None).await.unwrap().len(), 6);

        let done = ts
            .store
            .orders_with_status(
                Some("ETHUSDT"),
                &[OrderStatus::Filled, OrderStatus::Canceled],
            )
            .await
            .unwrap();
        assert_eq!(ids(done), ["e-5", "e-4"], "{}", ts.label);
        assert_eq!(ts.store.orders_with_status(None, &[]).await.unwrap(), []);
        assert_eq!(
            ts.store.orders_for_symbol("BTCUSDT").await.unwrap().len(),
            8
        );
    }
}

#[tokio::test]
async fn an_order_is_found_by_its_venue_order_id_within_its_symbol() {
    for ts in stores("order_venue_id").await {
        let mut btc = order_record("k-1", "BTCUSDT", OrderStatus::Submitted, 1);
        btc.venue_order_id = Some(555);
        let mut eth = order_record("k-2", "ETHUSDT", OrderStatus::Submitted, 2);
        eth.venue_order_id = Some(555);
        ts.store.upsert_orders(&[btc.clone(), eth]).await.unwrap();
        let found = ts.store.order_by_venue_id("BTCUSDT", 555).await.unwrap();
        assert_eq!(found, Some(btc), "{}", ts.label);
        assert_eq!(
            ts.store.order_by_venue_id("BTCUSDT", 556).await.unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn a_model_order_is_recorded_as_it_stands() {
    for ts in stores("order_from_model").await {
        let mut order = Order::new(limit_request("req-1", "BTCUSDT"), "k.1-1".to_owned());
        order.apply(OrderEvent::Queue).unwrap();
        order.apply(OrderEvent::Send).unwrap();
        order
            .apply(OrderEvent::Accept { venue_order_id: 42 })
            .unwrap();
        let partial = fill("BTCUSDT", 1, "k.1-1", 42, "0.0004", 5).fill;
        order.apply(OrderEvent::Fill(partial)).unwrap();

        let record = OrderRecord::from_order(&order, 3, 5);
        assert_eq!(record.status, OrderStatus::PartiallyFilled);
        assert_eq!(record.executed_qty, qty("0.0004"));
        assert_eq!(record.avg_price, Some(price("100.5")));
        assert_eq!(record.venue_order_id, Some(42));
        ts.store.upsert_order(&record).await.unwrap();
        let back = ts.store.order_by_client_id("k.1-1").await.unwrap();
        assert_eq!(back, Some(record), "{}", ts.label);
    }
}

#[tokio::test]
async fn a_fill_inserted_twice_is_stored_once_and_reported_as_a_duplicate() {
    for ts in stores("fill_duplicate").await {
        let first = fill("BTCUSDT", 7, "k-1", 42, "0.5", 1_000);
        assert_eq!(ts.store.insert_fill(&first).await.unwrap(), FillInsert::New);
        // The same trade again, as REST recovery reports it (with its realised P&L).
        let again = FillRecord {
            realized_pnl: Some(Money::parse("1.5").unwrap()),
            ..first.clone()
        };
        assert_eq!(
            ts.store.insert_fill(&again).await.unwrap(),
            FillInsert::Duplicate,
            "{}",
            ts.label
        );
        let next = fill("BTCUSDT", 8, "k-1", 42, "0.25", 1_001);
        let batch = [again, next.clone(), next.clone()];
        assert_eq!(
            ts.store.insert_fills(&batch).await.unwrap(),
            1,
            "{}",
            ts.label
        );
        assert_eq!(ts.store.count_fills(Some("BTCUSDT")).await.unwrap(), 2);
        // The first report stands.
        assert_eq!(
            ts.store.fills_for_order("k-1").await.unwrap(),
            [first, next]
        );
    }
}

#[tokio::test]
async fn both_legs_of_a_self_trade_are_kept() {
    for ts in stores("fill_self_trade").await {
        let buy = fill("BTCUSDT", 9, "k-buy", 1, "0.1", 1_000);
        let mut sell = fill("BTCUSDT", 9, "k-sell", 2, "0.1", 1_000);
        sell.fill.side = Side::Sell;
        sell.fill.liquidity = Liquidity::Maker;
        assert_eq!(
            ts.store.insert_fills(&[buy, sell.clone()]).await.unwrap(),
            2
        );
        assert_eq!(
            ts.store.insert_fill(&sell).await.unwrap(),
            FillInsert::Duplicate
        );
        assert_eq!(ts.store.count_fills(None).await.unwrap(), 2, "{}", ts.label);
    }
}

#[tokio::test]
async fn fills_round_trip_exactly_at_the_edges_of_money() {
    for ts in stores("fill_round_trip").await {
        let max_id = u64::try_from(i64::MAX).unwrap();
        let edges = [
            (Price::MAX, Qty::EPSILON, Money::MAX, Some(Money::MIN)),
            (price("0.00000001"), Qty::MAX, Money::MIN, Some(Money::MAX)),
            (
                price("67250.1"),
                qty("0.001"),
                Money::parse("-0.0000000000000001").unwrap(),
                None,
            ),
            (price("1"), qty("1"), Money::ZERO, Some(Money::ZERO)),
        ];
        let fills: Vec<FillRecord> = edges
            .into_iter()
            .enumerate()
            .map(
                |(i, (price, quantity, commission, realized_pnl))| FillRecord {
                    fill: Fill {
                        order_id: max_id,
                        client_order_id: "edge".to_owned(),
                        symbol: "EDGEUSDT".to_owned(),
                        side: Side::Sell,
                        price,
                        quantity,
                        commission,
                        commission_asset: "BNB".to_owned(),
                        liquidity: if i % 2 == 0 {
                            Liquidity::Maker
                        } else {
                            Liquidity::Taker
                        },
                        trade_id: max_id - i as u64,
                        timestamp_ms: max_id - 10 + i as u64,
                    },
                    realized_pnl,
                },
            )
            .collect();
        assert_eq!(ts.store.insert_fills(&fills).await.unwrap(), 4);
        let back = ts.store.fills_for_order("edge").await.unwrap();
        assert_eq!(back, fills, "{}", ts.label);
    }
}

#[tokio::test]
async fn fills_are_queried_by_order_and_time_and_summed_exactly_per_order() {
    for ts in stores("fill_queries").await {
        let fills = [
            fill("BTCUSDT", 1, "k-1", 11, "0.1", 1_000),
            fill("BTCUSDT", 2, "k-2", 12, "0.3", 1_500),
            fill("BTCUSDT", 3, "k-1", 11, "0.2", 2_000),
            fill("ETHUSDT", 1, "k-3", 13, "5", 1_200),
        ];
        ts.store.insert_fills(&fills).await.unwrap();

        let between = ts
            .store
            .fills_between("BTCUSDT", 1_000..2_000, 10)
            .await
            .unwrap();
        assert_eq!(
            between,
            [fills[0].clone(), fills[1].clone()],
            "{}",
            ts.label
        );
        let limited = ts
            .store
            .fills_between("BTCUSDT", 0..u64::MAX, 1)
            .await
            .unwrap();
        assert_eq!(limited, [fills[0].clone()]);

        // 0.1 + 0.2 is exactly 0.3: no float anywhere.
        assert_eq!(ts.store.filled_qty("k-1").await.unwrap(), qty("0.3"));
        assert_eq!(ts.store.filled_qty("nobody").await.unwrap(), Qty::ZERO);
        let sums = ts.store.filled_qty_by_order("BTCUSDT").await.unwrap();
        let expected = BTreeMap::from([
            ("k-1".to_owned(), qty("0.3")),
            ("k-2".to_owned(), qty("0.3")),
        ]);
        assert_eq!(sums, expected, "{}", ts.label);
        assert_eq!(ts.store.count_fills(None).await.unwrap(), 4);
        assert_eq!(ts.store.count_fills(Some("ETHUSDT")).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn a_fill_the_columns_cannot_hold_is_refused_before_anything_is_written() {
    for ts in stores("fill_out_of_range").await {
        let good = fill("BTCUSDT", 1, "k-1", 11, "0.1", 1_000);
        let bad = fill("BTCUSDT", u64::MAX, "k-1", 11, "0.1", 1_000);
        let err = ts.store.insert_fills(&[good, bad]).await.unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::OutOfRange {
                    field: "trade_id",
                    ..
                }
            ),
            "{}: {err}",
            ts.label
        );
        assert_eq!(ts.store.count_fills(None).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn the_last_trade_of_each_symbol_is_where_fill_recovery_resumes() {
    for ts in stores("last_trades").await {
        assert!(ts.store.last_trades().await.unwrap().is_empty());
        let mut sell_leg = fill("BTCUSDT", 42, "k-3", 13, "0.1", 900);
        sell_leg.fill.side = Side::Sell;
        let fills = [
            fill("BTCUSDT", 7, "k-1", 11, "0.1", 1_000),
            fill("BTCUSDT", 42, "k-1", 11, "0.1", 900),
            sell_leg,
            fill("ETHUSDT", 3, "k-2", 12, "0.1", 2_000),
        ];
        ts.store.insert_fills(&fills).await.unwrap();
        let last = |trade_id, sides: &[Side]| LastTrade {
            trade_id,
            sides: sides.to_vec(),
        };
        let expected = BTreeMap::from([
            ("BTCUSDT".to_owned(), last(42, &[Side::Buy, Side::Sell])),
            ("ETHUSDT".to_owned(), last(3, &[Side::Buy])),
        ]);
        assert_eq!(
            ts.store.last_trades().await.unwrap(),
            expected,
            "{}: the largest id whatever its time, with both legs of a self-trade",
            ts.label
        );
    }
}
