//! The execution driver against the simulator's fault injection, over real sockets: 429 with
//! `Retry-After`, repeated 503s and the circuit breaker, 401, and stalled placements.
//!
//! The simulator injects HTTP faults on its REST API only (not on `ws-fapi`), so these tests
//! run the driver with `execution.transport = "rest"`. Its 429 always names `Retry-After: 60`;
//! the test driver shortens venue-named waits to 200 ms (`DriverConfig::retry_after_cap`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use kestrel_exec::OrderAnswer;
use kestrel_exec::breaker::BreakerState;
use kestrel_exec::driver::ExecDriver;
use kestrel_exec::journal::{IntentState, MemoryJournal};
use kestrel_model::config::{ExecutionConfig, Transport};
use kestrel_sim::server::RunningSim;
use kestrel_venue::binance::orders::OrderKey;
use support::{Market, PATIENCE, execution, fault, place, start_driver, start_sim, venue_count};

const ORDER_PATH: &str = "/fapi/v1/order";

/// Starts the simulator and a driver with `config` over REST without a user stream, on a memory
/// journal (client ids `{prefix}-{n}`), reads the market, then arms `fault_json` on the
/// simulator (`POST /sim/v1/faults`).
async fn start_faulted(
    config: &ExecutionConfig,
    prefix: &str,
    fault_json: &str,
) -> (RunningSim, MemoryJournal, ExecDriver<MemoryJournal>, Market) {
    let sim = start_sim().await;
    let journal = MemoryJournal::new();
    let driver = start_driver(&sim, config, journal.clone(), prefix, |c| {
        c.user_stream = false
    })
    .await;
    let market = Market::read(&sim).await;
    fault(&sim, fault_json).await;
    (sim, journal, driver, market)
}

/// `count` answers of HTTP `status` to order requests.
fn http_errors(status: u16, count: u32) -> String {
    format!(
        r#"{{"kind":"http_error","status":{status},"count":{count},"path_prefix":"{ORDER_PATH}"}}"#
    )
}

/// `count` order requests that stall without an answer.
fn stalls(count: u32) -> String {
    format!(r#"{{"kind":"timeout","count":{count},"path_prefix":"{ORDER_PATH}"}}"#)
}

#[tokio::test]
async fn http_429_is_backed_off_and_the_order_then_placed_once() {
    let config = execution(Transport::Rest, 3);
    let (sim, journal, driver, market) =
        start_faulted(&config, "f429.1", &http_errors(429, 2)).await;

    let answer = place(&driver, &market, market.resting_buy("r429")).await;
    let OrderAnswer::Accepted {
        client_order_id,
        adopted: false,
        ..
    } = &answer
    else {
        panic!("the order is placed after backing off: {answer}");
    };
    assert_eq!(
        journal.intent("r429").unwrap().sends,
        3,
        "two 429s, then the send that went through"
    );
    assert_eq!(
        journal.intent("r429").unwrap().state,
        IntentState::Acknowledged
    );
    assert_eq!(venue_count(&sim, client_order_id).await, 1);
    assert_eq!(
        driver.breaker_state(),
        BreakerState::Closed,
        "a 429 says nothing against the venue's health"
    );
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn repeated_503s_open_the_breaker_then_a_half_open_probe_closes_it() {
    let mut config = execution(Transport::Rest, 3);
    // Long enough that the open state outlasts the assertions made while it holds.
    config.circuit_breaker_timeout_ms = 1_500;
    let (sim, journal, driver, market) =
        start_faulted(&config, "f503.1", &http_errors(503, 3)).await;

    // Three consecutive 503s (the threshold) open the breaker; the resend is then stopped.
    let failed = place(&driver, &market, market.resting_buy("a")).await;
    assert_eq!(failed.code(), Some("circuit_open"), "{failed}");
    assert_eq!(journal.intent("a").unwrap().state, IntentState::Failed);
    assert_eq!(
        venue_count(&sim, failed.client_order_id().unwrap()).await,
        0
    );
    assert_eq!(driver.breaker_state(), BreakerState::Open);

    let refused = place(&driver, &market, market.resting_buy("b")).await;
    assert_eq!(refused.code(), Some("circuit_open"), "{refused}");

    // After circuit_breaker_timeout_ms the breaker lets one probe through.
    let waiting = async {
        while driver.breaker_state() != BreakerState::HalfOpen {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(PATIENCE, waiting).await.unwrap();
    let probe = driver
        .submit(market.resting_buy("probe"), &market.ctx(driver.now()))
        .unwrap();
    let refused_meanwhile = place(&driver, &market, market.resting_buy("c")).await;
    assert_eq!(
        refused_meanwhile.code(),
        Some("circuit_probe_in_flight"),
        "only the probe goes while half-open: {refused_meanwhile}"
    );
    let probed = support::answer(probe).await;
    assert!(probed.is_accepted(), "{probed}");
    assert_eq!(driver.breaker_state(), BreakerState::Closed);
    assert!(
        place(&driver, &market, market.resting_buy("d"))
            .await
            .is_accepted()
    );
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn http_401_halts_trading_and_refuses_later_orders_with_the_reason() {
    let config = execution(Transport::Rest, 3);
    let (sim, journal, driver, market) =
        start_faulted(&config, "f401.1", &http_errors(401, 1)).await;

    let failed = place(&driver, &market, market.resting_buy("r1")).await;
    assert_eq!(failed.code(), Some("auth_failed"), "{failed}");
    assert_eq!(
        journal.intent("r1").unwrap().sends,
        1,
        "a 401 is never retried"
    );
    let reason = driver.halted().expect("trading is halted");
    assert!(reason.contains("credentials"), "{reason}");

    let refused = place(&driver, &market, market.resting_buy("r2")).await;
    assert_eq!(refused.code(), Some("trading_halted"));
    let OrderAnswer::Rejected { message, .. } = &refused else {
        panic!("{refused}");
    };
    assert!(
        message.contains("trading is halted") && message.contains("credentials"),
        "{message}"
    );
    assert!(
        support::all_orders(&sim).await.is_empty(),
        "nothing reached the venue"
    );
    driver.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_stalled_placement_with_no_retry_left_is_queried_then_failed_cleanly() {
    let config = execution(Transport::Rest, 0);
    let (sim, journal, driver, market) = start_faulted(&config, "fto.1", &stalls(1)).await;

    let answer = place(&driver, &market, market.resting_buy("r1")).await;
    assert_eq!(answer.code(), Some("not_placed"), "{answer}");
    let intent = journal.intent("r1").unwrap();
    assert_eq!(
        (intent.state, intent.sends),
        (IntentState::Failed, 1),
        "queried, never resent"
    );
    assert_eq!(venue_count(&sim, &intent.client_order_id).await, 0);
    driver.shutdown().await;
    // The stalled request holds a server task for 30 s; dropping the runtime ends it.
    drop(sim);
}

#[tokio::test]
async fn a_stalled_placement_is_queried_and_resent_under_the_same_id_only_once_absent() {
    let config = execution(Transport::Rest, 3);
    let (sim, journal, driver, market) = start_faulted(&config, "ftr.1", &stalls(1)).await;

    let answer = place(&driver, &market, market.resting_buy("r1")).await;
    assert!(answer.is_accepted(), "{answer}");
    let intent = journal.intent("r1").unwrap();
    assert_eq!((intent.state, intent.sends), (IntentState::Acknowledged, 2));
    assert_eq!(
        venue_count(&sim, &intent.client_order_id).await,
        1,
        "never two orders"
    );
    driver.shutdown().await;
    drop(sim);
}

#[tokio::test]
async fn a_placement_whose_answer_is_lost_is_found_by_query_and_adopted_not_resent() {
    let sim = start_sim().await;
    let journal = MemoryJournal::new();
    let (relay, driver) = support::start_behind_blackhole(&sim, journal.clone(), "fad.1").await;
    let market = Market::read(&sim).await;
    // The venue executes the placement, but its answer never reaches the driver.
    relay.swallow_answers(true);
    let submission = driver
        .submit(market.resting_buy("r1"), &market.ctx(driver.now()))
        .unwrap();
    let client_order_id = driver.with_engine(|e| e.client_order_id_of("r1").unwrap().to_owned());
    let truth = support::rest(&sim);
    let key = OrderKey::ClientOrderId(client_order_id.clone());
    support::eventually(|| async { truth.query_order(support::SYMBOL, &key).await.is_ok() }).await;
    // The driver's placement has timed out (or will), and its queries go unanswered too
    // until the answers flow again.
    relay.swallow_answers(false);

    let answer = support::answer(submission).await;
    assert!(
        matches!(answer, OrderAnswer::Accepted { adopted: true, .. }),
        "{answer}"
    );
    let intent = journal.intent("r1").unwrap();
    assert_eq!(
        (intent.state, intent.sends),
        (IntentState::Adopted, 1),
        "found, not resent"
    );
    assert_eq!(venue_count(&sim, &client_order_id).await, 1);
    driver.shutdown().await;
    sim.shutdown().await;
}
