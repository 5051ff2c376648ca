//! Conditional orders against the simulator as Binance runs them since December 2025
//! (`legacy_conditional_orders: false`: the order endpoint refuses them with `-4120`): placed on
//! the algo endpoint, triggered by the mark price, the child order's fill recorded once as the
//! conditional order's, cancelled alone or with their symbol, adopted after an unknown outcome
//! at start-up and in flight, and caught up after the user stream missed their trigger.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;

use kestrel_exec::OrderAnswer;
use kestrel_exec::driver::{ExecDriver, StreamState};
use kestrel_exec::engine::{CancelOutcome, ExecEvent};
use kestrel_exec::journal::{IntentState, Journal, MemoryJournal};
use kestrel_model::Qty;
use kestrel_model::config::Transport;
use kestrel_model::order::{Fill, OrderRequest, OrderStatus};
use kestrel_sim::server::RunningSim;
use kestrel_venue::binance::orders::{AlgoStatus, NewOrder, OrderKey, TradeQuery};
use kestrel_venue::binance::signing::local_now_ms;
use support::{
    Market, SYMBOL, all_orders, execution, fault, journal_sent, move_mark, order_of, place, rest,
    start_driver, start_sim, wait_for, wait_stream,
};
use tokio::sync::broadcast;

/// The fills published so far for `client_order_id`.
fn published_fills(
    events: &mut broadcast::Receiver<ExecEvent>,
    client_order_id: &str,
) -> Vec<Fill> {
    let mut fills = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let ExecEvent::Fill(fill) = event
            && fill.client_order_id == client_order_id
        {
            fills.push(fill);
        }
    }
    fills
}

/// How many conditional orders the venue holds open on BTCUSDT.
async fn open_algo_orders(sim: &RunningSim) -> usize {
    rest(sim)
        .open_algo_orders(Some(SYMBOL))
        .await
        .unwrap()
        .len()
}

/// Waits for the driver's user stream to be connected for the `connections`th time.
async fn connected<J: Journal + 'static>(driver: &ExecDriver<J>, connections: u64) {
    wait_stream(
        driver,
        |s| matches!(s, StreamState::Connected { connections: c } if *c == connections),
    )
    .await;
}

#[tokio::test]
async fn a_stop_market_waits_at_the_algo_service_triggers_on_the_mark_and_its_fill_is_recorded_once()
 {
    let sim = start_sim().await;
    let journal = MemoryJournal::new();
    // Orders over the WebSocket API: the conditional one still goes to the algo endpoint.
    let config = execution(Transport::Websocket, 3);
    let driver = start_driver(&sim, &config, journal.clone(), "cs.1", |_| {}).await;
    connected(&driver, 1).await;
    let market = Market::read(&sim).await;
    let mut events = driver.subscribe();
    let mut published = driver.subscribe();
    let truth = rest(&sim);

    let placed = place(&driver, &market, market.stop_sell("stop", "0.010")).await;
    let OrderAnswer::Accepted {
        client_order_id,
        venue_order_id: algo_id,
        adopted: false,
        ..
    } = placed.clone()
    else {
        panic!("{placed}");
    };
    let waiting = truth.open_algo_orders(Some(SYMBOL)).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (waiting[0].client_algo_id.as_str(), waiting[0].algo_id),
        (client_order_id.as_str(), algo_id)
    );
    assert!(
        all_orders(&sim).await.is_empty(),
        "nothing on the order endpoint yet"
    );
    let order = order_of(&driver, &client_order_id);
    assert_eq!(
        (order.status, order.venue_order_id),
        (OrderStatus::Submitted, Some(algo_id))
    );

    move_mark(&sim, market.mark_below_stops()).await;
    wait_for(&driver, &mut events, |e| {
        e.order(&client_order_id).unwrap().status == OrderStatus::Filled
    })
    .await;

    let algo = truth
        .query_algo_order(&OrderKey::ClientOrderId(client_order_id.clone()))
        .await
        .unwrap();
    assert_eq!(algo.algo_status, AlgoStatus::Finished);
    let child = algo.actual_order_id.expect("the child order's id");
    let order = order_of(&driver, &client_order_id);
    assert_eq!(
        order.venue_order_id,
        Some(child),
        "known by its child's id now"
    );
    assert_eq!(order.filled_qty, Qty::parse("0.010").unwrap());
    let trades = truth
        .user_trades(&TradeQuery::order(SYMBOL, child))
        .await
        .unwrap();
    let venue_trades: BTreeSet<u64> = trades.iter().map(|t| t.id).collect();
    assert!(!venue_trades.is_empty());

    // A reconnect reconciles everything again: nothing is applied twice.
    fault(&sim, r#"{"kind":"drop_connections"}"#).await;
    connected(&driver, 2).await;
    let fills = published_fills(&mut published, &client_order_id);
    let fill_ids: Vec<u64> = fills.iter().map(|f| f.trade_id).collect();
    let unique: BTreeSet<u64> = fill_ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        fill_ids.len(),
        "no fill published twice: {fill_ids:?}"
    );
    assert_eq!(unique, venue_trades, "every trade of the child, as ours");
    assert!(fills.iter().all(|f| f.order_id == child));
    let order = order_of(&driver, &client_order_id);
    assert_eq!(
        order.filled_qty,
        Qty::parse("0.010").unwrap(),
        "not doubled"
    );
    let stats = driver.with_engine(|e| e.stats().clone());
    assert_eq!(
        stats.maker_fills + stats.taker_fills,
        u64::try_from(trades.len()).unwrap()
    );
    assert_eq!(
        journal.intent("stop").unwrap().state,
        IntentState::Acknowledged
    );
    driver.shutdown().await;
    sim.shutdown().await;
}

/// A simulator, a driver on it over REST without a user stream (the engine learns nothing
/// the venue does not answer it), and the client order id of the order `request` makes.
async fn placed_unwatched(
    prefix: &str,
    request: impl FnOnce(&Market) -> OrderRequest,
) -> (RunningSim, ExecDriver<MemoryJournal>, Market, String) {
    let sim = start_sim().await;
    let config = execution(Transport::Rest, 3);
    let driver = start_driver(&sim, &config, MemoryJournal::new(), prefix, |c| {
        c.user_stream = false
    })
    .await;
    let market = Market::read(&sim).await;
    let placed = place(&driver, &market, request(&market)).await;
    let id = placed.client_order_id().unwrap().to_owned();
    (sim, driver, market, id)
}

#[tokio::test]
async fn an_untriggered_stop_is_cancelled_on_the_algo_endpoint() {
    let (sim, driver, market, id) =
        placed_unwatched("cc.1", |m| m.stop_sell("stop", "0.010")).await;

    assert_eq!(
        driver.cancel(&id).await.unwrap(),
        CancelOutcome::Done(OrderStatus::Canceled)
    );
    assert_eq!(order_of(&driver, &id).status, OrderStatus::Canceled);
    let truth = rest(&sim);
    let algo = truth
        .query_algo_order(&OrderKey::ClientOrderId(id.clone()))
        .await
        .unwrap();
    assert_eq!(algo.algo_status, AlgoStatus::Canceled);
    assert_eq!(open_algo_orders(&sim).await, 0);

    // The mark crossing its old trigger places nothing.
    move_mark(&sim, market.mark_below_stops()).await;
    assert!(all_orders(&sim).await.is_empty());
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_stop_limit_that_triggered_unseen_is_cancelled_through_its_resting_child() {
    // No user stream: the engine does not learn of the trigger before it cancels.
    let (sim, driver, market, id) =
        placed_unwatched("ct.1", |m| m.stop_limit_sell("stop", "0.010")).await;
    move_mark(&sim, market.mark_below_stops()).await;
    let truth = rest(&sim);
    let algo = truth
        .query_algo_order(&OrderKey::ClientOrderId(id.clone()))
        .await
        .unwrap();
    assert_eq!(algo.algo_status, AlgoStatus::Triggered);
    let child = algo.actual_order_id.unwrap();
    assert_eq!(
        truth.open_orders(Some(SYMBOL)).await.unwrap().len(),
        1,
        "the child rests"
    );

    assert_eq!(
        driver.cancel(&id).await.unwrap(),
        CancelOutcome::Done(OrderStatus::Canceled)
    );
    let order = order_of(&driver, &id);
    assert_eq!(
        (order.status, order.venue_order_id),
        (OrderStatus::Canceled, Some(child))
    );
    assert!(truth.open_orders(Some(SYMBOL)).await.unwrap().is_empty());
    let venue_child = truth
        .query_order(SYMBOL, &OrderKey::OrderId(child))
        .await
        .unwrap();
    assert_eq!(venue_child.status.to_model(), OrderStatus::Canceled);
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn cancelling_a_symbol_clears_its_conditional_orders_too() {
    let sim = start_sim().await;
    let config = execution(Transport::Websocket, 3);
    let driver = start_driver(&sim, &config, MemoryJournal::new(), "ca.1", |c| {
        c.user_stream = false
    })
    .await;
    let market = Market::read(&sim).await;
    let mut ids = Vec::new();
    for request in [
        market.resting_buy("resting"),
        market.stop_sell("stop-a", "0.010"),
        market.stop_sell("stop-b", "0.020"),
    ] {
        let placed = place(&driver, &market, request).await;
        assert!(placed.is_accepted(), "{placed}");
        ids.push(placed.client_order_id().unwrap().to_owned());
    }
    let truth = rest(&sim);
    assert_eq!(open_algo_orders(&sim).await, 2);

    let mut cancelled = driver.cancel_symbol(SYMBOL).await.unwrap();
    cancelled.sort();
    ids.sort();
    assert_eq!(cancelled, ids);
    for id in &ids {
        assert_eq!(order_of(&driver, id).status, OrderStatus::Canceled, "{id}");
    }
    assert!(truth.open_orders(Some(SYMBOL)).await.unwrap().is_empty());
    assert_eq!(open_algo_orders(&sim).await, 0);
    move_mark(&sim, market.mark_below_stops()).await;
    assert_eq!(
        all_orders(&sim).await.len(),
        1,
        "only the cancelled resting buy"
    );
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn restart_after_an_unknown_outcome_adopts_a_conditional_order_by_its_client_algo_id() {
    let sim = start_sim().await;
    let market = Market::read(&sim).await;
    let journal = MemoryJournal::new();
    journal.next_sequence_block("cr.1", 1_000).unwrap();
    let now_ms = local_now_ms();
    let landed = journal_sent(
        &journal,
        market.stop_sell("landed", "0.010"),
        "cr.1-1",
        now_ms,
    );
    journal_sent(
        &journal,
        market.stop_sell("lost", "0.010"),
        "cr.1-2",
        now_ms - 60_000,
    );
    // The first reached the algo service before the crash; the second never did.
    let previous = rest(&sim);
    let algo = previous
        .place_algo_order(&NewOrder::from_request(&landed).unwrap())
        .await
        .unwrap();

    let config = execution(Transport::Websocket, 3);
    let driver = start_driver(&sim, &config, journal.clone(), "cr.1", |_| {}).await;
    assert!(journal.unresolved().unwrap().is_empty());
    let intent = journal.intent("landed").unwrap();
    assert_eq!(
        (intent.state, intent.venue_order_id, intent.sends),
        (IntentState::Adopted, Some(algo.algo_id), 1),
        "found by its client algo id, never resent"
    );
    let lost = journal.intent("lost").unwrap();
    assert_eq!(
        (lost.state, lost.answer.unwrap().code()),
        (IntentState::Failed, Some("not_placed"))
    );
    assert_eq!(
        open_algo_orders(&sim).await,
        1,
        "one conditional order at the venue"
    );

    // The adopted order is followed to its fill like one placed in this run.
    connected(&driver, 1).await;
    let mut events = driver.subscribe();
    move_mark(&sim, market.mark_below_stops()).await;
    wait_for(&driver, &mut events, |e| {
        e.order("cr.1-1").unwrap().status == OrderStatus::Filled
    })
    .await;
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_conditional_placement_whose_answer_is_lost_is_found_on_the_algo_endpoint_not_resent() {
    let sim = start_sim().await;
    let journal = MemoryJournal::new();
    let (relay, driver) = support::start_behind_blackhole(&sim, journal.clone(), "cu.1").await;
    let market = Market::read(&sim).await;
    relay.swallow_answers(true);
    let submission = driver
        .submit(market.stop_sell("stop", "0.010"), &market.ctx(driver.now()))
        .unwrap();
    let id = driver.with_engine(|e| e.client_order_id_of("stop").unwrap().to_owned());
    let truth = rest(&sim);
    let key = OrderKey::ClientOrderId(id.clone());
    support::eventually(|| async { truth.query_algo_order(&key).await.is_ok() }).await;
    relay.swallow_answers(false);

    let answer = support::answer(submission).await;
    assert!(
        matches!(answer, OrderAnswer::Accepted { adopted: true, .. }),
        "{answer}"
    );
    let intent = journal.intent("stop").unwrap();
    assert_eq!((intent.state, intent.sends), (IntentState::Adopted, 1));
    assert_eq!(open_algo_orders(&sim).await, 1);
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_trigger_missed_while_the_user_stream_was_down_is_caught_up_by_the_reconciliation() {
    let sim = start_sim().await;
    let mut config = execution(Transport::Websocket, 3);
    config.request_timeout_ms = 400;
    let driver = start_driver(&sim, &config, MemoryJournal::new(), "cm.1", |_| {}).await;
    connected(&driver, 1).await;
    let market = Market::read(&sim).await;
    let mut published = driver.subscribe();
    let placed = place(&driver, &market, market.stop_sell("stop", "0.010")).await;
    let id = placed.client_order_id().unwrap().to_owned();

    // The stream drops and cannot come back (its listen-key upkeep is REST, now too slow)
    // while the stop triggers and fills (the latency fault on REST paths only, as before).
    fault(
        &sim,
        r#"{"kind":"latency","ms":5000,"path_prefix":"/fapi"}"#,
    )
    .await;
    fault(&sim, r#"{"kind":"drop_connections"}"#).await;
    wait_stream(&driver, |s| matches!(s, StreamState::Disconnected { .. })).await;
    move_mark(&sim, market.mark_below_stops()).await;
    assert_eq!(order_of(&driver, &id).status, OrderStatus::Submitted);

    fault(&sim, r#"{"kind":"latency","ms":0}"#).await;
    connected(&driver, 2).await;
    let mut events = driver.subscribe();
    wait_for(&driver, &mut events, |e| {
        e.order(&id).unwrap().status == OrderStatus::Filled
    })
    .await;
    let truth = rest(&sim);
    let algo = truth
        .query_algo_order(&OrderKey::ClientOrderId(id.clone()))
        .await
        .unwrap();
    let child = algo.actual_order_id.unwrap();
    assert_eq!(order_of(&driver, &id).venue_order_id, Some(child));
    let venue_trades: BTreeSet<u64> = truth
        .user_trades(&TradeQuery::order(SYMBOL, child))
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    let fill_ids: Vec<u64> = published_fills(&mut published, &id)
        .iter()
        .map(|f| f.trade_id)
        .collect();
    let unique: BTreeSet<u64> = fill_ids.iter().copied().collect();
    assert_eq!(unique.len(), fill_ids.len(), "{fill_ids:?}");
    assert_eq!(unique, venue_trades);
    driver.shutdown().await;
    drop(sim);
}
