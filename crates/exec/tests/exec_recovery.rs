//! Start-up recovery against the simulator: a journal left by a process that sent orders and
//! died before their answers. Each in-flight intent is resolved by its client order id — the
//! venue has it: adopted, with its fills; the venue does not: failed once its acceptance
//! window has passed — and the venue ends up holding exactly the orders the journal says,
//! each once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use kestrel_exec::OrderAnswer;
use kestrel_exec::journal::{IntentState, Journal, MemoryJournal};
use kestrel_model::config::Transport;
use kestrel_model::order::OrderStatus;
use kestrel_venue::binance::orders::{NewOrder, OrderKey};
use kestrel_venue::binance::signing::local_now_ms;
use support::{
    Market, SYMBOL, all_orders, execution, journal_sent, order_of, place, rest, start_driver,
    start_sim, venue_count,
};

#[tokio::test]
async fn restart_adopts_sent_intents_the_venue_has_and_fails_those_it_does_not() {
    let sim = start_sim().await;
    let market = Market::read(&sim).await;
    let journal = MemoryJournal::new();
    // The previous process reserved ids 1..=1000 of its prefix and used three.
    assert_eq!(journal.next_sequence_block("rc.1", 1_000).unwrap(), 1);
    let now_ms = local_now_ms();
    let resting = journal_sent(&journal, market.resting_buy("resting"), "rc.1-1", now_ms);
    let taken = journal_sent(
        &journal,
        market.taking_buy("taken", "0.020"),
        "rc.1-2",
        now_ms,
    );
    journal_sent(
        &journal,
        market.resting_buy("lost"),
        "rc.1-3",
        now_ms - 60_000,
    );
    // Two of the three reached the venue before the crash; the third never did.
    let previous = rest(&sim);
    for request in [&resting, &taken] {
        previous
            .place_order(&NewOrder::from_request(request).unwrap())
            .await
            .unwrap();
    }

    let config = execution(Transport::Websocket, 3);
    let driver = start_driver(&sim, &config, journal.clone(), "rc.1", |_| {}).await;

    // `start` returned with every intent resolved.
    assert!(journal.unresolved().unwrap().is_empty());
    let state = |request_id: &str| journal.intent(request_id).unwrap().state;
    assert_eq!(state("resting"), IntentState::Adopted);
    assert_eq!(state("taken"), IntentState::Adopted);
    assert_eq!(state("lost"), IntentState::Failed);
    assert_eq!(
        journal.intent("lost").unwrap().answer.unwrap().code(),
        Some("not_placed")
    );

    let resting_order = order_of(&driver, "rc.1-1");
    assert_eq!(resting_order.status, OrderStatus::Submitted);
    assert!(resting_order.venue_order_id.is_some());
    let venue_taken = previous
        .query_order(SYMBOL, &OrderKey::ClientOrderId("rc.1-2".into()))
        .await
        .unwrap();
    assert!(venue_taken.executed_qty.is_positive(), "{venue_taken:?}");
    let taken_order = order_of(&driver, "rc.1-2");
    assert_eq!(
        taken_order.filled_qty, venue_taken.executed_qty,
        "its fills were loaded"
    );
    assert_eq!(taken_order.filled_notional, venue_taken.cum_quote);

    // The venue holds exactly the journal's orders, each once.
    assert_eq!(venue_count(&sim, "rc.1-1").await, 1);
    assert_eq!(venue_count(&sim, "rc.1-2").await, 1);
    assert_eq!(venue_count(&sim, "rc.1-3").await, 0);
    assert_eq!(all_orders(&sim).await.len(), 2);

    // A repeat of a recovered request gets its settled answer; new orders take fresh ids.
    let again = place(&driver, &market, market.resting_buy("lost")).await;
    assert_eq!(again.code(), Some("not_placed"));
    let fresh = place(&driver, &market, market.resting_buy("fresh")).await;
    let OrderAnswer::Accepted {
        client_order_id, ..
    } = &fresh
    else {
        panic!("{fresh}");
    };
    assert_eq!(
        client_order_id, "rc.1-1001",
        "ids past the previous process's block"
    );
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn restart_inside_the_acceptance_window_queries_again_then_fails_an_absent_intent_never_resending()
 {
    let sim = start_sim().await;
    let market = Market::read(&sim).await;
    let journal = MemoryJournal::new();
    journal.next_sequence_block("rw.1", 1_000).unwrap();
    journal_sent(
        &journal,
        market.resting_buy("young"),
        "rw.1-1",
        local_now_ms(),
    );
    let config = execution(Transport::Websocket, 3);
    let driver = start_driver(&sim, &config, journal.clone(), "rw.1", |c| {
        c.user_stream = false
    })
    .await;
    let intent = journal.intent("young").unwrap();
    assert_eq!(intent.state, IntentState::Failed);
    assert_eq!(intent.sends, 1, "never resent by recovery");
    assert_eq!(venue_count(&sim, "rw.1-1").await, 0);
    driver.shutdown().await;
    sim.shutdown().await;
}
