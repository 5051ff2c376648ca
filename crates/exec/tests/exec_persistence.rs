//! The engine's orders and fills in the store, on SQLite and on PostgreSQL (a schema of the
//! test's own, skipped with a message when the server is unreachable unless
//! `KESTREL_REQUIRE_SERVICES=1`).
//!
//! First the persister alone: it loses nothing while the database fails, batches, counts a
//! repeated fill as a duplicate, and drops only the rows the store cannot hold. Then the driver
//! against the simulator with a store journal: what it places and fills ends up in the
//! `orders` and `fills` tables exactly once; and after a crash, the next run tracks the orders
//! the first left open, records the fills the venue made while nothing ran — once — and can
//! cancel those orders; a stop order of the first run that triggered meanwhile is caught up
//! through its child order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use kestrel_exec::OrderAnswer;
use kestrel_exec::driver::StreamState;
use kestrel_exec::engine::{CancelOutcome, ExecEvent};
use kestrel_exec::journal::{Journal, StoreJournal};
use kestrel_exec::persist::{PersistCounts, Persister};
use kestrel_model::config::Transport;
use kestrel_model::order::{Fill, Liquidity, Order, OrderEvent, OrderStatus};
use kestrel_model::{Money, Price, Qty, Side};
use kestrel_store::{OrderRecord, Store};
use kestrel_venue::binance::orders::{OrderKey, TradeQuery};
use support::store::{
    TestDatabase, journal, persist_config, start_persisted, store, wait_persisted,
};
use support::{
    Market, PATIENCE, SYMBOL, execution, limit, order_of, place, rest, sell_into_bids, start_sim,
    wait_for, wait_stream,
};

const CLIENT_ORDER_ID: &str = "p.1-1";

fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

/// A maker fill of order `p.1-1` (venue id 9).
fn fill(trade_id: u64, quantity: &str) -> Fill {
    Fill {
        order_id: 9,
        client_order_id: CLIENT_ORDER_ID.to_owned(),
        symbol: SYMBOL.to_owned(),
        side: Side::Buy,
        price: Price::parse("60000.10").unwrap(),
        quantity: qty(quantity),
        commission: Money::parse("0.0012").unwrap(),
        commission_asset: "USDT".to_owned(),
        liquidity: Liquidity::Maker,
        trade_id,
        timestamp_ms: 1_700_000_000_000,
    }
}

/// Order `p.1-1` for 0.010, accepted as venue order 9, after `fills`.
fn order_after(fills: &[Fill]) -> Order {
    let mut order = accepted_order(CLIENT_ORDER_ID, 9);
    for fill in fills {
        order.apply(OrderEvent::Fill(fill.clone())).unwrap();
    }
    order
}

/// Buy order `client_order_id` for 0.010 at 60000.10, accepted as venue order
/// `venue_order_id`.
fn accepted_order(client_order_id: &str, venue_order_id: u64) -> Order {
    let mut request = limit(
        client_order_id,
        Side::Buy,
        Price::parse("60000.10").unwrap(),
        "0.010",
    );
    request.client_order_id = Some(client_order_id.to_owned());
    let mut order = Order::new(request, client_order_id.to_owned());
    for event in [
        OrderEvent::Queue,
        OrderEvent::Send,
        OrderEvent::Accept { venue_order_id },
    ] {
        order.apply(event).unwrap();
    }
    order
}

/// Waits until the persister's counters satisfy `done`.
async fn wait_counts(persister: &Persister, done: impl Fn(&PersistCounts) -> bool) {
    let waiting = async {
        while !done(&persister.counts()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(PATIENCE, waiting)
        .await
        .expect("the persister reached the expected counts in time");
}

/// Every database twice: the persister writing on its own store, and through the thread of a
/// store journal on the same database (as the driver runs it).
async fn routes(test: &str) -> Vec<(TestDatabase, Option<StoreJournal>)> {
    let mut routes: Vec<(TestDatabase, Option<StoreJournal>)> = TestDatabase::all(test)
        .await
        .into_iter()
        .map(|db| (db, None))
        .collect();
    for db in TestDatabase::all(&format!("{test}_via_journal")).await {
        let journal = journal(&db);
        routes.push((db, Some(journal)));
    }
    routes
}

fn route_label(db: &TestDatabase, journal: Option<&StoreJournal>) -> String {
    let route = if journal.is_some() {
        "through the journal's thread"
    } else {
        "on its own store"
    };
    format!("{} {route}", db.label())
}

#[tokio::test]
async fn the_persister_keeps_every_event_while_the_database_fails_and_writes_them_when_it_is_back()
{
    for (db, journal) in routes("persist_retry").await {
        let label = route_label(&db, journal.as_ref());
        let store = store(&db).await;
        db.execute("ALTER TABLE fills RENAME TO fills_elsewhere")
            .await;
        let via = journal.as_ref().and_then(Journal::rows_writer);
        let (sender, persister) =
            Persister::start(&db.store_config(), persist_config(), via).unwrap();
        let fills = [fill(1, "0.004"), fill(2, "0.006")];
        for fill in &fills {
            sender.send(1_000, ExecEvent::Fill(fill.clone()));
        }
        sender.send(1_001, ExecEvent::Order(Box::new(order_after(&fills))));
        wait_counts(&persister, |c| c.failed_writes >= 3).await;
        assert_eq!(persister.counts().pending, 3, "{label}: nothing dropped");
        assert_eq!(
            store.order_by_client_id(CLIENT_ORDER_ID).await.unwrap(),
            None,
            "{label}: the batch waits whole"
        );
        db.execute("ALTER TABLE fills_elsewhere RENAME TO fills")
            .await;
        drop(sender);
        let counts = persister.finish().await;
        assert_eq!(
            (
                counts.fills_new,
                counts.orders_written,
                counts.pending,
                counts.unstorable
            ),
            (2, 1, 0, 0),
            "{label}"
        );
        let stored: Vec<Fill> = store
            .fills_for_order(CLIENT_ORDER_ID)
            .await
            .unwrap()
            .into_iter()
            .map(|record| record.fill)
            .collect();
        assert_eq!(stored, fills, "{label}");
        let row = order_row(&store, CLIENT_ORDER_ID).await;
        assert_eq!(
            (row.status, row.executed_qty, row.updated_ms),
            (OrderStatus::Filled, qty("0.010"), 1_001),
            "{label}"
        );
    }
}

#[tokio::test]
async fn a_repeated_fill_is_counted_as_a_duplicate_and_an_orders_states_in_a_batch_are_one_row() {
    for (db, journal) in routes("persist_duplicates").await {
        let label = route_label(&db, journal.as_ref());
        let store = store(&db).await;
        db.execute("ALTER TABLE fills RENAME TO fills_elsewhere")
            .await;
        let via = journal.as_ref().and_then(Journal::rows_writer);
        let (sender, persister) =
            Persister::start(&db.store_config(), persist_config(), via).unwrap();
        sender.send(1_000, ExecEvent::Fill(fill(1, "0.004")));
        wait_counts(&persister, |c| c.failed_writes >= 1).await;
        // While the first batch waits for the database, the same fill again and two states of
        // its order queue up: the next batch takes them together.
        sender.send(2_000, ExecEvent::Fill(fill(1, "0.004")));
        sender.send(2_000, ExecEvent::Order(Box::new(order_after(&[]))));
        let filled = order_after(&[fill(1, "0.004")]);
        sender.send(2_001, ExecEvent::Order(Box::new(filled)));
        db.execute("ALTER TABLE fills_elsewhere RENAME TO fills")
            .await;
        drop(sender);
        let counts = persister.finish().await;
        assert_eq!(
            (
                counts.fills_new,
                counts.fills_duplicate,
                counts.orders_written
            ),
            (1, 1, 1),
            "{label}"
        );
        assert_eq!(store.count_fills(None).await.unwrap(), 1, "{label}");
        let row = order_row(&store, CLIENT_ORDER_ID).await;
        assert_eq!(
            (row.status, row.created_ms, row.updated_ms),
            (OrderStatus::PartiallyFilled, 2_000, 2_001),
            "{label}: the latest state, first seen at the first"
        );
    }
}

#[tokio::test]
async fn a_fill_the_store_cannot_hold_is_dropped_alone_and_counted() {
    for (db, journal) in routes("persist_unstorable").await {
        let label = route_label(&db, journal.as_ref());
        let store = store(&db).await;
        let via = journal.as_ref().and_then(Journal::rows_writer);
        let (sender, persister) =
            Persister::start(&db.store_config(), persist_config(), via).unwrap();
        sender.send(1_000, ExecEvent::Fill(fill(1, "0.004")));
        sender.send(1_000, ExecEvent::Fill(fill(u64::MAX, "0.001")));
        drop(sender);
        let counts = persister.finish().await;
        assert_eq!(
            (counts.fills_new, counts.unstorable, counts.pending),
            (1, 1, 0),
            "{label}"
        );
        assert_eq!(store.count_fills(None).await.unwrap(), 1, "{label}");
    }
}

/// Far more order states than one upsert writes (the persister writes them 16 at a time):
/// every order is stored, with its last state, whichever write each state fell into.
#[tokio::test]
async fn a_batch_of_many_orders_is_stored_whole_with_each_orders_last_state() {
    const ORDERS: u64 = 40;
    for (db, journal) in routes("persist_many_orders").await {
        let label = route_label(&db, journal.as_ref());
        let store = store(&db).await;
        let via = journal.as_ref().and_then(Journal::rows_writer);
        let (sender, persister) =
            Persister::start(&db.store_config(), persist_config(), via).unwrap();
        let id = |k: u64| format!("p.2-{k}");
        for k in 0..ORDERS {
            let order = accepted_order(&id(k), 100 + k);
            sender.send(3_000, ExecEvent::Order(Box::new(order)));
        }
        for k in (0..ORDERS).filter(|k| k % 3 == 0) {
            let mut order = accepted_order(&id(k), 100 + k);
            order.apply(OrderEvent::Cancel).unwrap();
            sender.send(3_001, ExecEvent::Order(Box::new(order)));
        }
        drop(sender);
        let counts = persister.finish().await;
        assert_eq!((counts.pending, counts.unstorable), (0, 0), "{label}");
        for k in 0..ORDERS {
            let row = order_row(&store, &id(k)).await;
            let expected = if k % 3 == 0 {
                (OrderStatus::Canceled, 3_001)
            } else {
                (OrderStatus::Submitted, 3_000)
            };
            assert_eq!((row.status, row.updated_ms), expected, "{label}: order {k}");
            assert_eq!(row.venue_order_id, Some(100 + k), "{label}: order {k}");
        }
    }
}

/// The stored row of order `client_order_id`, which must be there.
async fn order_row(store: &Store, client_order_id: &str) -> OrderRecord {
    store
        .order_by_client_id(client_order_id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no row for order {client_order_id}"))
}

fn client_order_id(answer: &OrderAnswer) -> String {
    assert!(answer.is_accepted(), "{answer}");
    answer.client_order_id().unwrap().to_owned()
}

#[tokio::test]
async fn orders_placed_and_filled_through_a_store_journal_are_stored_exactly_once() {
    for db in TestDatabase::all("exec_stored_once").await {
        let label = db.label();
        let sim = start_sim().await;
        let market = Market::read(&sim).await;
        let config = execution(Transport::Websocket, 3);
        let driver = start_persisted(&sim, &config, &db, "once.1", |_| {}).await;
        let mut events = driver.subscribe();
        let resting_id =
            client_order_id(&place(&driver, &market, market.resting_buy("resting")).await);
        let taken = place(&driver, &market, market.taking_buy("taken", "0.050")).await;
        let taken_id = client_order_id(&taken);
        let venue = rest(&sim);
        let venue_taken = venue
            .query_order(SYMBOL, &OrderKey::ClientOrderId(taken_id.clone()))
            .await
            .unwrap();
        assert!(venue_taken.executed_qty.is_positive(), "{venue_taken:?}");
        wait_for(&driver, &mut events, |e| {
            e.order(&taken_id)
                .is_some_and(|o| o.filled_qty == venue_taken.executed_qty && !o.status.is_open())
        })
        .await;
        assert_eq!(
            driver.cancel(&resting_id).await,
            Ok(CancelOutcome::Done(OrderStatus::Canceled))
        );
        let counts = wait_persisted(&driver).await;
        driver.shutdown().await;

        let trades = venue
            .user_trades(&TradeQuery::order(SYMBOL, venue_taken.order_id))
            .await
            .unwrap();
        assert!(!trades.is_empty());
        let trade_count = u64::try_from(trades.len()).unwrap();
        assert_eq!(
            (counts.fills_new, counts.fills_duplicate, counts.unstorable),
            (trade_count, 0, 0),
            "{label}"
        );
        let store = store(&db).await;
        for request_id in ["resting", "taken"] {
            let intent = store
                .intent_by_request_id(request_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                intent.state,
                kestrel_store::IntentState::Acknowledged,
                "{label}: {request_id}"
            );
        }
        let taken_row = order_row(&store, &taken_id).await;
        assert_eq!(
            (
                taken_row.status,
                taken_row.executed_qty,
                taken_row.venue_order_id
            ),
            (
                venue_taken.status.to_model(),
                venue_taken.executed_qty,
                Some(venue_taken.order_id)
            ),
            "{label}: the row says what the venue says"
        );
        let resting_row = store
            .order_by_client_id(&resting_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (resting_row.status, resting_row.executed_qty),
            (OrderStatus::Canceled, Qty::ZERO),
            "{label}"
        );
        let mut stored: Vec<u64> = store
            .fills_for_order(&taken_id)
            .await
            .unwrap()
            .iter()
            .map(|record| record.fill.trade_id)
            .collect();
        let mut expected: Vec<u64> = trades.iter().map(|trade| trade.id).collect();
        stored.sort_unstable();
        expected.sort_unstable();
        assert_eq!(stored, expected, "{label}: each of the venue's trades once");
        assert_eq!(
            store.count_fills(None).await.unwrap(),
            trade_count,
            "{label}"
        );
        assert_eq!(
            store.filled_qty(&taken_id).await.unwrap(),
            venue_taken.executed_qty,
            "{label}"
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn after_a_crash_the_next_run_tracks_the_old_orders_records_missed_fills_once_and_cancels_them()
 {
    for db in TestDatabase::all("exec_restart").await {
        let label = db.label();
        let sim = start_sim().await;
        let market = Market::read(&sim).await;
        let config = execution(Transport::Websocket, 3);
        let first = start_persisted(&sim, &config, &db, "rs.1", |_| {}).await;
        let at_bid = place(&first, &market, market.buy_at_bid("at-bid", "0.010")).await;
        let below = place(&first, &market, market.resting_buy("below")).await;
        let (at_bid_id, below_id) = (client_order_id(&at_bid), client_order_id(&below));
        wait_persisted(&first).await;
        drop(first); // a crash: no shutdown, and nothing of ours runs from here on

        // While nothing runs, someone sells into the bid: the level ahead of ours (the market is
        // paused, so it is as read), then half of ours.
        let half = qty("0.005");
        let sold = market.bid_qty.try_add(half).unwrap();
        sell_into_bids(&sim, "outsider-1", market.bid, sold).await;
        let venue = rest(&sim);
        let at_bid_key = OrderKey::ClientOrderId(at_bid_id.clone());
        let venue_at_bid = venue.query_order(SYMBOL, &at_bid_key).await.unwrap();
        assert_eq!(venue_at_bid.executed_qty, half, "filled while we were down");

        let second = start_persisted(&sim, &config, &db, "rs.1", |_| {}).await;
        for (id, answer) in [(&at_bid_id, &at_bid), (&below_id, &below)] {
            assert_eq!(
                order_of(&second, id).venue_order_id,
                answer.venue_order_id(),
                "{label}: {id} is tracked from the start"
            );
        }
        let mut events = second.subscribe();
        wait_for(&second, &mut events, |e| {
            e.order(&at_bid_id).is_some_and(|o| o.filled_qty == half)
        })
        .await;
        for id in [&at_bid_id, &below_id] {
            assert_eq!(
                second.cancel(id).await,
                Ok(CancelOutcome::Done(OrderStatus::Canceled)),
                "{label}: {id}"
            );
        }
        let counts = wait_persisted(&second).await;
        assert_eq!(
            (counts.fills_new, counts.fills_duplicate),
            (1, 0),
            "{label}"
        );
        second.shutdown().await;

        let store = store(&db).await;
        let fills = store.fills_for_order(&at_bid_id).await.unwrap();
        assert_eq!(fills.len(), 1, "{label}");
        assert_eq!(
            (
                fills[0].fill.quantity,
                fills[0].fill.liquidity,
                fills[0].fill.price
            ),
            (half, Liquidity::Maker, market.bid),
            "{label}"
        );
        assert_eq!(
            store.count_fills(None).await.unwrap(),
            1,
            "{label}: ours, once"
        );
        for (id, executed) in [(&at_bid_id, half), (&below_id, Qty::ZERO)] {
            let row = order_row(&store, id).await;
            assert_eq!(
                (row.status, row.executed_qty),
                (OrderStatus::Canceled, executed),
                "{label}: {id}"
            );
        }
        assert!(venue.open_orders(Some(SYMBOL)).await.unwrap().is_empty());

        // A third run reconciles from the stored last fill and finds nothing new.
        let third = start_persisted(&sim, &config, &db, "rs.1", |_| {}).await;
        wait_stream(&third, |s| matches!(s, StreamState::Connected { .. })).await;
        let counts = wait_persisted(&third).await;
        assert_eq!((counts.fills_new, counts.orders_written), (0, 0), "{label}");
        third.shutdown().await;
        assert_eq!(store.count_fills(None).await.unwrap(), 1, "{label}");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn an_open_order_the_store_missed_is_adopted_from_the_venue_recorded_and_cancellable() {
    for db in TestDatabase::all("exec_adopt").await {
        let label = db.label();
        let sim = start_sim().await;
        let market = Market::read(&sim).await;
        let config = execution(Transport::Websocket, 3);
        let first = start_persisted(&sim, &config, &db, "ad.1", |_| {}).await;
        let ours = place(&first, &market, market.resting_buy("ours")).await;
        let ours_id = client_order_id(&ours);
        wait_persisted(&first).await;
        first.shutdown().await;
        // The store lost the order (as a crash before the persister wrote it would), and an order
        // of another strategy rests at the venue too.
        db.execute("DELETE FROM orders").await;
        let mut theirs = market.resting_buy("theirs");
        theirs.client_order_id = Some("other.1-1".to_owned());
        let theirs = kestrel_venue::binance::orders::NewOrder::from_request(&theirs).unwrap();
        rest(&sim).place_order(&theirs).await.unwrap();

        let second = start_persisted(&sim, &config, &db, "ad.1", |c| {
            c.reconcile_symbols = vec![SYMBOL.to_owned()];
        })
        .await;
        let mut events = second.subscribe();
        wait_for(&second, &mut events, |e| e.order(&ours_id).is_some()).await;
        assert_eq!(
            order_of(&second, &ours_id).venue_order_id,
            ours.venue_order_id(),
            "{label}"
        );
        wait_stream(&second, |s| matches!(s, StreamState::Connected { .. })).await;
        assert!(
            second.with_engine(|e| e.order("other.1-1").is_none()),
            "{label}: another prefix is not ours"
        );
        assert_eq!(
            second.cancel(&ours_id).await,
            Ok(CancelOutcome::Done(OrderStatus::Canceled)),
            "{label}"
        );
        wait_persisted(&second).await;
        second.shutdown().await;
        let row = order_row(&store(&db).await, &ours_id).await;
        assert_eq!(
            (row.status, row.venue_order_id),
            (OrderStatus::Canceled, ours.venue_order_id()),
            "{label}: recorded again"
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_stop_of_a_crashed_run_is_tracked_again_and_its_trigger_while_down_recorded_once() {
    for db in TestDatabase::all("exec_stop_restart").await {
        let label = db.label();
        let sim = start_sim().await;
        let market = Market::read(&sim).await;
        let config = execution(Transport::Websocket, 3);
        let first = start_persisted(&sim, &config, &db, "sr.1", |_| {}).await;
        let stop = place(&first, &market, market.stop_sell("stop", "0.010")).await;
        let id = client_order_id(&stop);
        wait_persisted(&first).await;
        drop(first); // a crash

        // While nothing runs, the stop triggers and its child order fills.
        support::move_mark(&sim, market.mark_below_stops()).await;
        let venue = rest(&sim);
        let algo = venue
            .query_algo_order(&OrderKey::ClientOrderId(id.clone()))
            .await
            .unwrap();
        let child = algo.actual_order_id.expect("triggered");
        let trades = venue
            .user_trades(&TradeQuery::order(SYMBOL, child))
            .await
            .unwrap();
        assert!(!trades.is_empty(), "{label}: the child filled");

        let second = start_persisted(&sim, &config, &db, "sr.1", |_| {}).await;
        let mut events = second.subscribe();
        wait_for(&second, &mut events, |e| {
            e.order(&id)
                .is_some_and(|o| o.status == OrderStatus::Filled)
        })
        .await;
        assert_eq!(
            order_of(&second, &id).venue_order_id,
            Some(child),
            "{label}"
        );
        let counts = wait_persisted(&second).await;
        assert_eq!(
            (counts.fills_new, counts.fills_duplicate),
            (u64::try_from(trades.len()).unwrap(), 0),
            "{label}"
        );
        second.shutdown().await;

        let store = store(&db).await;
        let stored = store.fills_for_order(&id).await.unwrap();
        let stored_ids: Vec<u64> = stored.iter().map(|f| f.fill.trade_id).collect();
        let venue_ids: Vec<u64> = trades.iter().map(|t| t.id).collect();
        assert_eq!(
            stored_ids, venue_ids,
            "{label}: the child's fills, as ours, once"
        );
        let row = order_row(&store, &id).await;
        assert_eq!(
            (row.status, row.executed_qty),
            (OrderStatus::Filled, qty("0.010")),
            "{label}"
        );
        sim.shutdown().await;
    }
}
