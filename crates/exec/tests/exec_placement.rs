//! The execution driver over the WebSocket trading API (the default transport) against the
//! simulator: placement and cancels, idempotent request ids, and fills recovered over REST
//! after the user stream was dropped while they happened.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;

use kestrel_exec::OrderAnswer;
use kestrel_exec::driver::{StreamState, Submission};
use kestrel_exec::engine::{CancelOutcome, ExecEvent};
use kestrel_exec::journal::{IntentState, MemoryJournal};
use kestrel_model::Qty;
use kestrel_model::config::Transport;
use kestrel_model::order::OrderStatus;
use kestrel_venue::binance::orders::{OrderKey, TradeQuery};
use support::{
    Market, SYMBOL, all_orders, answer, execution, fault, order_of, place, rest, start_driver,
    start_sim, venue_count, wait_for, wait_stream,
};

#[tokio::test]
async fn orders_are_placed_and_cancelled_over_the_websocket_api() {
    let sim = start_sim().await;
    let journal = MemoryJournal::new();
    let config = execution(Transport::Websocket, 3);
    let driver = start_driver(&sim, &config, journal.clone(), "ws.1", |c| {
        c.user_stream = false
    })
    .await;
    let market = Market::read(&sim).await;
    let mut events = driver.subscribe();

    let placed = place(&driver, &market, market.resting_buy("r1")).await;
    let OrderAnswer::Accepted {
        client_order_id,
        venue_order_id,
        adopted: false,
        ..
    } = placed.clone()
    else {
        panic!("{placed}");
    };
    assert_eq!(client_order_id, "ws.1-1");
    assert_eq!(
        order_of(&driver, &client_order_id).venue_order_id,
        Some(venue_order_id)
    );
    let first = events.recv().await.unwrap();
    assert_eq!(first.topic().unwrap().to_string(), "orders.BTCUSDT");

    assert_eq!(
        driver.cancel(&client_order_id).await.unwrap(),
        CancelOutcome::Done(OrderStatus::Canceled)
    );
    assert_eq!(
        order_of(&driver, &client_order_id).status,
        OrderStatus::Canceled
    );

    // An order cancelled behind the engine's back: the venue answers "unknown order", which
    // means already gone.
    let second = place(&driver, &market, market.resting_buy("r2")).await;
    let second_id = second.client_order_id().unwrap().to_owned();
    rest(&sim)
        .cancel_order(SYMBOL, &OrderKey::ClientOrderId(second_id.clone()))
        .await
        .unwrap();
    assert_eq!(
        driver.cancel(&second_id).await.unwrap(),
        CancelOutcome::AlreadyGone
    );
    assert_eq!(order_of(&driver, &second_id).status, OrderStatus::Canceled);
    assert!(
        rest(&sim)
            .open_orders(Some(SYMBOL))
            .await
            .unwrap()
            .is_empty()
    );
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn batch_and_symbol_cancels_close_every_named_and_every_open_order() {
    let sim = start_sim().await;
    let config = execution(Transport::Websocket, 3);
    let driver = start_driver(&sim, &config, MemoryJournal::new(), "bc.1", |c| {
        c.user_stream = false
    })
    .await;
    let market = Market::read(&sim).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let placed = place(&driver, &market, market.resting_buy(&format!("r{n}"))).await;
        ids.push(placed.client_order_id().unwrap().to_owned());
    }
    let outcomes = driver.cancel_batch(SYMBOL, &ids[..2]).await;
    assert_eq!(
        outcomes,
        vec![
            (ids[0].clone(), CancelOutcome::Done(OrderStatus::Canceled)),
            (ids[1].clone(), CancelOutcome::Done(OrderStatus::Canceled)),
        ]
    );
    assert_eq!(
        driver.cancel_symbol(SYMBOL).await.unwrap(),
        vec![ids[2].clone()]
    );
    assert_eq!(order_of(&driver, &ids[2]).status, OrderStatus::Canceled);
    assert!(
        rest(&sim)
            .open_orders(Some(SYMBOL))
            .await
            .unwrap()
            .is_empty()
    );
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_repeated_request_id_places_one_order_and_gets_the_first_answer_even_after_a_restart() {
    let sim = start_sim().await;
    let journal = MemoryJournal::new();
    let config = execution(Transport::Websocket, 3);
    let driver = start_driver(&sim, &config, journal.clone(), "dup.1", |c| {
        c.user_stream = false
    })
    .await;
    let market = Market::read(&sim).await;
    let request = market.resting_buy("same-request");
    let first = driver
        .submit(request.clone(), &market.ctx(driver.now()))
        .unwrap();
    let second = driver
        .submit(request.clone(), &market.ctx(driver.now()))
        .unwrap();
    assert!(
        matches!(second, Submission::Pending(_)),
        "the repeat waits for the first answer"
    );
    let (first, second) = (answer(first).await, answer(second).await);
    assert!(first.is_accepted(), "{first}");
    assert_eq!(first, second);
    let third = place(&driver, &market, request.clone()).await;
    assert_eq!(third, first);
    driver.shutdown().await;

    let restarted = start_driver(&sim, &config, journal.clone(), "dup.1", |c| {
        c.user_stream = false
    })
    .await;
    let after_restart = place(&restarted, &market, request).await;
    assert_eq!(after_restart, first);
    let client_order_id = first.client_order_id().unwrap();
    assert_eq!(venue_count(&sim, client_order_id).await, 1);
    assert_eq!(
        all_orders(&sim).await.len(),
        1,
        "one order at the venue in all"
    );
    assert_eq!(journal.intents().len(), 1);
    restarted.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn fills_missed_while_the_user_stream_was_down_are_recovered_from_rest_exactly_once() {
    let sim = start_sim().await;
    let journal = MemoryJournal::new();
    let mut config = execution(Transport::Websocket, 3);
    config.request_timeout_ms = 400;
    let driver = start_driver(&sim, &config, journal.clone(), "us.1", |_| {}).await;
    wait_stream(&driver, |s| {
        matches!(s, StreamState::Connected { connections: 1 })
    })
    .await;
    let market = Market::read(&sim).await;
    let mut events = driver.subscribe();
    let mut published = driver.subscribe();
    let truth = rest(&sim);

    // A first order fills while the stream is up.
    let a = place(&driver, &market, market.taking_buy("a", "0.030")).await;
    let a_id = a.client_order_id().unwrap().to_owned();
    let a_venue = truth
        .query_order(SYMBOL, &OrderKey::ClientOrderId(a_id.clone()))
        .await
        .unwrap();
    assert!(a_venue.executed_qty.is_positive(), "{a_venue:?}");
    wait_for(&driver, &mut events, |e| {
        e.order(&a_id).unwrap().filled_qty == a_venue.executed_qty
    })
    .await;

    // The stream is dropped, and every REST request now outlasts the client's timeout, so
    // the stream cannot come back (its listen-key keepalive is REST); orders still go over
    // the WebSocket API, which the latency fault is kept off (REST paths only).
    fault(
        &sim,
        r#"{"kind":"latency","ms":5000,"path_prefix":"/fapi"}"#,
    )
    .await;
    fault(&sim, r#"{"kind":"drop_connections"}"#).await;
    wait_stream(&driver, |s| matches!(s, StreamState::Disconnected { .. })).await;
    let b = place(&driver, &market, market.taking_buy("b", "0.040")).await;
    assert!(b.is_accepted(), "{b}");
    let b_id = b.client_order_id().unwrap().to_owned();
    assert_eq!(
        order_of(&driver, &b_id).filled_qty,
        Qty::ZERO,
        "b's fills happened while no stream was connected"
    );

    // The venue is fast again: the stream reconnects and reconciles over REST.
    fault(&sim, r#"{"kind":"latency","ms":0}"#).await;
    wait_stream(&driver, |s| {
        matches!(s, StreamState::Connected { connections: 2 })
    })
    .await;

    let b_venue = truth
        .query_order(SYMBOL, &OrderKey::ClientOrderId(b_id.clone()))
        .await
        .unwrap();
    assert!(b_venue.executed_qty.is_positive(), "{b_venue:?}");
    let b_order = order_of(&driver, &b_id);
    assert_eq!(
        b_order.filled_qty, b_venue.executed_qty,
        "executed qty equals the venue's"
    );
    assert_eq!(b_order.filled_notional, b_venue.cum_quote);
    assert_eq!(
        order_of(&driver, &a_id).filled_qty,
        a_venue.executed_qty,
        "a's fills not doubled"
    );

    // Every trade at the venue was published once, and only once.
    let trades = truth
        .user_trades(&TradeQuery::symbol(SYMBOL))
        .await
        .unwrap();
    let venue_ids: BTreeSet<u64> = trades.iter().map(|t| t.id).collect();
    let mut fill_ids = Vec::new();
    while let Ok(event) = published.try_recv() {
        if let ExecEvent::Fill(fill) = event {
            fill_ids.push(fill.trade_id);
        }
    }
    let unique: BTreeSet<u64> = fill_ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        fill_ids.len(),
        "no fill published twice: {fill_ids:?}"
    );
    assert_eq!(unique, venue_ids, "every venue trade published");
    let stats = driver.with_engine(|e| e.stats().clone());
    assert_eq!(
        stats.maker_fills + stats.taker_fills,
        u64::try_from(trades.len()).unwrap()
    );
    assert_eq!(
        journal.intent("b").unwrap().state,
        IntentState::Acknowledged
    );
    driver.shutdown().await;
    drop(sim);
}

#[tokio::test]
async fn an_expired_listen_key_is_replaced_and_the_stream_resumes_on_the_new_one() {
    let sim = start_sim().await;
    let config = execution(Transport::Websocket, 3);
    let driver = start_driver(&sim, &config, MemoryJournal::new(), "lk.1", |c| {
        c.keepalive_interval = std::time::Duration::from_millis(100);
    })
    .await;
    wait_stream(&driver, |s| {
        matches!(s, StreamState::Connected { connections: 1 })
    })
    .await;
    let market = Market::read(&sim).await;
    let placed = place(&driver, &market, market.resting_buy("r1")).await;
    let id = placed.client_order_id().unwrap().to_owned();

    fault(&sim, r#"{"kind":"expire_listen_key"}"#).await;
    wait_stream(&driver, |s| {
        matches!(s, StreamState::Connected { connections: 2 })
    })
    .await;

    // An event only the stream reports (a cancel made by someone else) reaches the engine.
    let mut events = driver.subscribe();
    rest(&sim)
        .cancel_order(SYMBOL, &OrderKey::ClientOrderId(id.clone()))
        .await
        .unwrap();
    wait_for(&driver, &mut events, |e| {
        e.order(&id).unwrap().status == OrderStatus::Canceled
    })
    .await;
    driver.shutdown().await;
    sim.shutdown().await;
}
