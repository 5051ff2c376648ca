#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The market-data time series as its readers rely on it, on SQLite and PostgreSQL alike:
//! exact money, idempotent batches, all-or-nothing transactions, and the read queries.

mod common;

use common::{TestStore, level, price, qty, snapshot, stores, trade};
use kestrel_model::event::{OwnedBookSnapshot, OwnedTradeEvent, ReceiveTime};
use kestrel_model::{Level, Price, Qty, Trade};
use kestrel_store::{Inserted, StoreError};
use proptest::prelude::*;

/// Trades at the edges of what `Price`/`Qty` and the integer columns hold.
fn edge_trades(symbol: &str) -> Vec<OwnedTradeEvent> {
    let max_id = u64::try_from(i64::MAX).unwrap();
    let edges = [
        (price("0.00000001"), qty("0.00000001"), 0, 0, true),
        (Price::MAX, Qty::MAX, 1, 1, false),
        (Price::MIN, Qty::MIN, 2, 2, true),
        (price("-67250.1"), qty("-0.5"), 3, 3, false),
        (Price::ZERO, Qty::ZERO, 4, 4, false),
        (
            price("67250.10000000"),
            qty("1000"),
            max_id,
            max_id - 1,
            true,
        ),
    ];
    edges
        .into_iter()
        .map(
            |(price, quantity, trade_id, time_ms, buyer_is_maker)| OwnedTradeEvent {
                trade: Trade {
                    symbol: symbol.to_owned(),
                    trade_id,
                    price,
                    quantity,
                    timestamp_ms: time_ms,
                    buyer_is_maker,
                },
                event_time_ms: max_id - trade_id,
                received: ReceiveTime::new(max_id, time_ms),
            },
        )
        .collect()
}

#[tokio::test]
async fn trades_round_trip_exactly_at_the_edges_of_price_and_qty() {
    for ts in stores("trades_round_trip").await {
        let trades = edge_trades("EDGEUSDT");
        let inserted = ts.store.insert_trades(&trades).await.unwrap();
        assert_eq!(inserted, 6, "{}", ts.label);
        let back = ts
            .store
            .trades_between("EDGEUSDT", 0..u64::MAX, 100)
            .await
            .unwrap();
        // Ordered by trade time; the input already is.
        assert_eq!(back, trades, "{}", ts.label);
    }
}

#[tokio::test]
async fn snapshots_round_trip_exactly_including_empty_sides() {
    for ts in stores("snapshots_round_trip").await {
        let full = OwnedBookSnapshot {
            symbol: "EDGEUSDT".to_owned(),
            last_update_id: u64::try_from(i64::MAX).unwrap(),
            event_time_ms: 1,
            transaction_time_ms: 2,
            received: ReceiveTime::new(3, 4_000_000),
            bids: vec![
                Level::new(Price::MAX, qty("0.00000001")),
                level("67250.1", "92233720368.54775807"),
                level("0.00000001", "1"),
            ],
            asks: vec![Level::new(Price::MIN, Qty::MIN), level("-0.00000001", "-3")],
        };
        let one_sided = OwnedBookSnapshot {
            symbol: "ONESIDED".to_owned(),
            bids: Vec::new(),
            ..snapshot("ONESIDED", 9, 5, 3)
        };
        let empty = OwnedBookSnapshot {
            symbol: "EMPTY".to_owned(),
            ..OwnedBookSnapshot::default()
        };
        let inserted = ts
            .store
            .insert_snapshots(&[full.clone(), one_sided.clone(), empty.clone()])
            .await
            .unwrap();
        assert_eq!(inserted, 3, "{}", ts.label);
        for expected in [full, one_sided, empty] {
            let back = ts.store.latest_snapshot(&expected.symbol).await.unwrap();
            assert_eq!(back, Some(expected), "{}", ts.label);
        }
    }
}

#[tokio::test]
async fn the_latest_snapshot_is_the_one_taken_last_whatever_the_insert_order() {
    for ts in stores("latest_snapshot").await {
        let older = snapshot("BTCUSDT", 10, 1_000, 5);
        let newest = snapshot("BTCUSDT", 30, 3_000, 5);
        let middle = snapshot("BTCUSDT", 20, 2_000, 5);
        let other = snapshot("ETHUSDT", 99, 9_000, 5);
        ts.store
            .insert_snapshots(&[older, newest.clone(), middle, other])
            .await
            .unwrap();
        let latest = ts.store.latest_snapshot("BTCUSDT").await.unwrap();
        assert_eq!(latest, Some(newest), "{}", ts.label);
        assert_eq!(ts.store.latest_snapshot("XRPUSDT").await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_replayed_batch_inserts_nothing_twice() {
    for ts in stores("replayed_batch").await {
        let trades: Vec<_> = (0..20).map(|id| trade("BTCUSDT", id, 1_000 + id)).collect();
        let snapshots: Vec<_> = (0..4)
            .map(|i| snapshot("BTCUSDT", i, 1_000 + i, 3))
            .collect();
        let first = ts
            .store
            .insert_market_data(&trades, &snapshots)
            .await
            .unwrap();
        assert_eq!(
            first,
            Inserted {
                trades: 20,
                snapshots: 4
            },
            "{}",
            ts.label
        );

        let replay = ts
            .store
            .insert_market_data(&trades, &snapshots)
            .await
            .unwrap();
        assert_eq!(replay, Inserted::default(), "{}", ts.label);

        // Half old, half new: only the new half is added.
        let overlapping: Vec<_> = (10..30)
            .map(|id| trade("BTCUSDT", id, 1_000 + id))
            .collect();
        assert_eq!(ts.store.insert_trades(&overlapping).await.unwrap(), 10);
        assert_eq!(ts.store.count_trades(Some("BTCUSDT")).await.unwrap(), 30);
        assert_eq!(ts.store.count_snapshots(Some("BTCUSDT")).await.unwrap(), 4);
    }
}

#[tokio::test]
async fn a_batch_larger_than_the_bind_parameter_limit_is_split_and_stored_whole() {
    // 10,000 trades bind 90,000 parameters and 4,000 snapshots 52,000: more than SQLite's
    // 32,766 and PostgreSQL's 65,535 per statement.
    for ts in stores("large_batch").await {
        let trades: Vec<_> = (0..10_000).map(|id| trade("BTCUSDT", id, id)).collect();
        let snapshots: Vec<_> = (0..4_000).map(|i| snapshot("BTCUSDT", i, i, 1)).collect();
        let inserted = ts
            .store
            .insert_market_data(&trades, &snapshots)
            .await
            .unwrap();
        assert_eq!(
            inserted,
            Inserted {
                trades: 10_000,
                snapshots: 4_000
            },
            "{}",
            ts.label
        );
        let back = ts
            .store
            .trades_between("BTCUSDT", 0..u64::MAX, 20_000)
            .await
            .unwrap();
        assert_eq!(back, trades, "{}", ts.label);
    }
}

#[tokio::test]
async fn a_batch_that_fails_part_way_writes_nothing() {
    for ts in stores("atomic_batch").await {
        // The trades insert succeeds, then the snapshots insert fails: the transaction must
        // take the trades back with it.
        ts.execute("ALTER TABLE market_data_snapshots RENAME TO snapshots_elsewhere")
            .await;
        let trades: Vec<_> = (0..5).map(|id| trade("BTCUSDT", id, id)).collect();
        let err = ts
            .store
            .insert_market_data(&trades, &[snapshot("BTCUSDT", 1, 1, 2)])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Query {
                    operation: "insert market-data snapshots",
                    ..
                }
            ),
            "{}: {err}",
            ts.label
        );
        assert_eq!(
            ts.store.count_trades(None).await.unwrap(),
            0,
            "{}",
            ts.label
        );
        ts.execute("ALTER TABLE snapshots_elsewhere RENAME TO market_data_snapshots")
            .await;
        assert_eq!(ts.store.count_snapshots(None).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn a_record_whose_id_does_not_fit_is_refused_before_anything_is_written() {
    for ts in stores("out_of_range").await {
        let mut bad = trade("BTCUSDT", 0, 0);
        bad.trade.trade_id = u64::MAX;
        let trades = [trade("BTCUSDT", 1, 1), bad];
        let err = ts.store.insert_trades(&trades).await.unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::OutOfRange {
                    field: "trade_id",
                    value: u64::MAX
                }
            ),
            "{}: {err}",
            ts.label
        );
        assert_eq!(
            ts.store.count_trades(None).await.unwrap(),
            0,
            "{}",
            ts.label
        );
    }
}

#[tokio::test]
async fn trades_between_is_half_open_oldest_first_limited_and_per_symbol() {
    for ts in stores("trades_between").await {
        let trades = [
            trade("BTCUSDT", 4, 30),
            trade("BTCUSDT", 3, 20),
            trade("BTCUSDT", 2, 20),
            trade("BTCUSDT", 1, 10),
            trade("ETHUSDT", 5, 20),
        ];
        ts.store.insert_trades(&trades).await.unwrap();
        let ids = |trades: Vec<OwnedTradeEvent>| -> Vec<u64> {
            trades.iter().map(|t| t.trade.trade_id).collect()
        };
        let between = |from, to, limit| ts.store.trades_between("BTCUSDT", from..to, limit);
        assert_eq!(
            ids(between(20, 30, 10).await.unwrap()),
            [2, 3],
            "{}",
            ts.label
        );
        assert_eq!(ids(between(0, 100, 10).await.unwrap()), [1, 2, 3, 4]);
        assert_eq!(ids(between(0, 100, 2).await.unwrap()), [1, 2]);
        assert_eq!(ids(between(31, 100, 10).await.unwrap()), Vec::<u64>::new());
        let recent = ts.store.recent_trades("BTCUSDT", 3).await.unwrap();
        assert_eq!(ids(recent), [4, 3, 2], "{}", ts.label);
        assert_eq!(ts.store.count_trades(Some("BTCUSDT")).await.unwrap(), 4);
        assert_eq!(ts.store.count_trades(Some("ETHUSDT")).await.unwrap(), 1);
        assert_eq!(ts.store.count_trades(None).await.unwrap(), 5);
        assert_eq!(ts.store.count_snapshots(None).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn postgres_money_columns_are_numeric_so_sql_sums_are_exact() {
    for ts in stores("numeric_sums").await {
        if ts.label != "postgres" {
            continue;
        }
        let mut trades: Vec<_> = (0..3).map(|id| trade("BTCUSDT", id, id)).collect();
        trades[0].trade.quantity = qty("0.1");
        trades[1].trade.quantity = qty("0.2");
        trades[2].trade.quantity = qty("0.00000001");
        ts.store.insert_trades(&trades).await.unwrap();
        let sum = ts
            .query_text("SELECT sum(qty)::text FROM trades WHERE symbol = 'BTCUSDT'")
            .await;
        assert_eq!(qty(&sum), qty("0.30000001"));
        let best_bid_sql = "SELECT best_bid_price::text FROM market_data_snapshots";
        ts.store
            .insert_snapshots(&[snapshot("BTCUSDT", 1, 1, 2)])
            .await
            .unwrap();
        assert_eq!(price(&ts.query_text(best_bid_sql).await), price("1"));
    }
}

/// Stores for the property tests: opened once, shared by every case.
fn property_stores(test: &str) -> (tokio::runtime::Runtime, Vec<TestStore>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let stores = runtime.block_on(stores(test));
    (runtime, stores)
}

fn any_price() -> impl Strategy<Value = Price> {
    (-i64::MAX..=i64::MAX).prop_map(Price::from_raw)
}

fn any_qty() -> impl Strategy<Value = Qty> {
    (-i64::MAX..=i64::MAX).prop_map(Qty::from_raw)
}

#[test]
fn any_price_and_qty_round_trips_exactly_through_trades() {
    let (runtime, stores) = property_stores("prop_trades");
    let case = std::cell::Cell::new(0_u32);
    proptest!(ProptestConfig::with_cases(64), |(pairs in prop::collection::vec((any_price(), any_qty()), 1..40))| {
        case.set(case.get() + 1);
        let symbol = format!("P{}", case.get());
        let trades: Vec<_> = pairs
            .iter()
            .enumerate()
            .map(|(i, (price, quantity))| {
                let id = u64::try_from(i).unwrap();
                let mut t = trade(&symbol, id, id);
                t.trade.price = *price;
                t.trade.quantity = *quantity;
                t
            })
            .collect();
        for ts in &stores {
            let back = runtime.block_on(async {
                ts.store.insert_trades(&trades).await.unwrap();
                ts.store.trades_between(&symbol, 0..u64::MAX, 100).await.unwrap()
            });
            prop_assert_eq!(&back, &trades, "{}", ts.label);
        }
    });
    runtime.block_on(async move { drop(stores) });
}

#[test]
fn any_levels_round_trip_exactly_through_snapshots() {
    let (runtime, stores) = property_stores("prop_snapshots");
    let case = std::cell::Cell::new(0_u32);
    let side = || prop::collection::vec((any_price(), any_qty()).prop_map(Level::from), 0..25);
    proptest!(ProptestConfig::with_cases(64), |(bids in side(), asks in side())| {
        case.set(case.get() + 1);
        let symbol = format!("P{}", case.get());
        let snapshot = OwnedBookSnapshot { bids, asks, ..snapshot(&symbol, 1, 1, 0) };
        for ts in &stores {
            let back = runtime.block_on(async {
                ts.store.insert_snapshots(std::slice::from_ref(&snapshot)).await.unwrap();
                ts.store.latest_snapshot(&symbol).await.unwrap()
            });
            prop_assert_eq!(back.as_ref(), Some(&snapshot), "{}", ts.label);
        }
    });
    runtime.block_on(async move { drop(stores) });
}
