#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The order journal as the execution engine relies on it for exactly-once placement, on SQLite
//! and PostgreSQL alike: one intent per request id however callers race, the first answer for a
//! repeat, unresolved intents that survive a crash, checked state moves, and client order id
//! blocks that never overlap.

mod common;

use std::sync::Arc;

use common::{TestStore, limit_request, price, qty, stores};
use kestrel_model::Rate;
use kestrel_model::order::{OrderType, PositionSide, Side, WorkingType};
use kestrel_model::{Price, Qty};
use kestrel_store::{Begin, Intent, IntentState, Store, StoreError};
use serde_json::json;
use tokio::sync::Barrier;

fn answer(request_id: &str, status: &str) -> serde_json::Value {
    json!({ "request_id": request_id, "status": status, "order_id": "4242" })
}

fn existing(begin: Begin) -> Intent {
    match begin {
        Begin::Existing(intent) => intent,
        Begin::New(intent) => panic!("expected an existing intent, got a new one: {intent:?}"),
    }
}

#[tokio::test]
async fn a_repeated_request_id_returns_the_first_intent_and_its_answer_never_a_second_row() {
    for ts in stores("repeat_request").await {
        let store = &ts.store;
        let request = limit_request("req-1", "BTCUSDT");
        let first = store.begin_intent(&request, "k.1-1", 1_000).await.unwrap();
        assert!(first.is_new(), "{}", ts.label);
        assert_eq!(first.intent().state, IntentState::Pending);

        // A repeat while the first is in flight: the first intent, no answer yet.
        let in_flight = existing(store.begin_intent(&request, "k.1-2", 1_001).await.unwrap());
        assert_eq!(in_flight, *first.intent(), "{}", ts.label);

        store.mark_sent("k.1-1", 1_002).await.unwrap();
        let first_answer = answer("req-1", "accepted");
        store
            .record_ack("k.1-1", 4242, &first_answer, 1_003)
            .await
            .unwrap();

        // A repeat after the answer, even with another body, gets the first intent and answer.
        let mut changed = request.clone();
        changed.quantity = qty("9");
        let done = existing(store.begin_intent(&changed, "k.1-3", 1_004).await.unwrap());
        assert_eq!(done.client_order_id, "k.1-1");
        assert_eq!(done.request, request, "{}", ts.label);
        assert_eq!(done.state, IntentState::Acknowledged);
        assert_eq!(done.venue_order_id, Some(4242));
        assert_eq!(done.answer, Some(first_answer.clone()), "{}", ts.label);
        assert_eq!(
            done.answer_as::<serde_json::Value>().unwrap(),
            Some(first_answer)
        );
        assert_eq!(
            (done.attempts, done.created_ms, done.updated_ms),
            (1, 1_000, 1_003)
        );

        assert_eq!(ts.rows("order_intents").await, 1, "{}", ts.label);
        // The ids offered by the repeats were not taken.
        assert_eq!(store.intent_by_client_id("k.1-2").await.unwrap(), None);
        assert_eq!(store.intent_by_client_id("k.1-3").await.unwrap(), None);
    }
}

/// Twenty tasks released together begin the same request id; `same_client_id` makes them all
/// offer one client order id too (a caller-chosen id), so both unique keys collide at once.
async fn race_begins(ts: &TestStore, request_id: &str, same_client_id: bool) {
    const RACERS: u64 = 20;
    let request = limit_request(request_id, "BTCUSDT");
    let barrier = Arc::new(Barrier::new(20));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let (store, request, barrier) = (ts.store.clone(), request.clone(), barrier.clone());
            let client_id = if same_client_id {
                format!("{request_id}-own")
            } else {
                format!("{request_id}-{i}")
            };
            tokio::spawn(async move {
                barrier.wait().await;
                store.begin_intent(&request, &client_id, 1_000 + i).await
            })
        })
        .collect();
    let (mut new, mut repeats) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Begin::New(intent) => new.push(intent),
            Begin::Existing(intent) => repeats.push(intent),
        }
    }
    assert_eq!(new.len(), 1, "{}: exactly one racer journals it", ts.label);
    assert_eq!(repeats.len(), 19, "{}", ts.label);
    assert!(
        repeats.iter().all(|intent| *intent == new[0]),
        "{}",
        ts.label
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_begins_with_one_request_id_journal_exactly_one_intent() {
    for ts in stores("racing_begins").await {
        race_begins(&ts, "race-a", false).await;
        race_begins(&ts, "race-b", true).await;
        assert_eq!(ts.rows("order_intents").await, 2, "{}", ts.label);
    }
}

#[tokio::test]
async fn a_client_order_id_bound_to_another_request_is_refused_and_nothing_is_written() {
    for ts in stores("client_id_taken").await {
        let store = &ts.store;
        store
            .begin_intent(&limit_request("req-a", "BTCUSDT"), "k.1-1", 1)
            .await
            .unwrap();
        let err = store
            .begin_intent(&limit_request("req-b", "BTCUSDT"), "k.1-1", 2)
            .await
            .unwrap_err();
        let StoreError::ClientOrderIdTaken {
            client_order_id,
            request_id,
            held_by,
        } = &err
        else {
            panic!("{}: expected ClientOrderIdTaken, got {err}", ts.label);
        };
        assert_eq!(
            (
                client_order_id.as_str(),
                request_id.as_str(),
                held_by.as_str()
            ),
            ("k.1-1", "req-b", "req-a")
        );
        assert_eq!(store.intent_by_request_id("req-b").await.unwrap(), None);
        assert_eq!(ts.rows("order_intents").await, 1, "{}", ts.label);
    }
}

#[tokio::test]
async fn unresolved_intents_survive_a_crash_in_journal_order_and_recovery_resolves_them() {
    for mut ts in stores("crash_reopen").await {
        let store = ts.store.clone();
        for (n, symbol) in [
            (1, "BTCUSDT"),
            (2, "ETHUSDT"),
            (3, "BTCUSDT"),
            (4, "BTCUSDT"),
        ] {
            let request = limit_request(&format!("r-{n}"), symbol);
            store
                .begin_intent(&request, &format!("k-{n}"), n)
                .await
                .unwrap();
        }
        store.mark_sent("k-2", 10).await.unwrap();
        store.mark_sent("k-3", 11).await.unwrap();
        store
            .record_ack("k-3", 33, &answer("r-3", "accepted"), 12)
            .await
            .unwrap();
        store.mark_sent("k-4", 13).await.unwrap();
        store.mark_sent("k-4", 14).await.unwrap();
        drop(store);
        ts.restart_after_crash().await;

        let unresolved = ts.store.unresolved_intents().await.unwrap();
        let seen: Vec<_> = unresolved
            .iter()
            .map(|i| {
                (
                    i.client_order_id.as_str(),
                    i.state,
                    i.attempts,
                    i.symbol.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("k-1", IntentState::Pending, 0, "BTCUSDT"),
                ("k-2", IntentState::Sent, 1, "ETHUSDT"),
                ("k-4", IntentState::Sent, 2, "BTCUSDT"),
            ],
            "{}",
            ts.label
        );
        assert_eq!(unresolved[1].request, limit_request("r-2", "ETHUSDT"));

        // Recovery: k-2 was found at the venue, k-1 and k-4 were not.
        let store = &ts.store;
        let adopted = answer("r-2", "accepted");
        store
            .resolve_adopted("k-2", 77, &adopted, 20)
            .await
            .unwrap();
        let absent = answer("r-1", "rejected");
        store
            .resolve_failed("k-1", "not found at the venue", &absent, 21)
            .await
            .unwrap();
        store
            .resolve_failed("k-4", "not found at the venue", &absent, 22)
            .await
            .unwrap();
        ts.restart_after_crash().await;
        assert_eq!(ts.store.unresolved_intents().await.unwrap(), []);
        let k2 = ts.store.intent_by_request_id("r-2").await.unwrap().unwrap();
        assert_eq!(
            (k2.state, k2.venue_order_id, k2.answer),
            (IntentState::Adopted, Some(77), Some(adopted)),
            "{}",
            ts.label
        );
    }
}

/// Puts a fresh intent `client_order_id` into `state` along legal moves.
async fn intent_in(store: &Store, client_order_id: &str, state: IntentState) {
    let request = limit_request(&format!("req-{client_order_id}"), "BTCUSDT");
    store
        .begin_intent(&request, client_order_id, 1)
        .await
        .unwrap();
    if matches!(
        state,
        IntentState::Sent | IntentState::Acknowledged | IntentState::Rejected
    ) {
        store.mark_sent(client_order_id, 2).await.unwrap();
    }
    if state != IntentState::Pending && state != IntentState::Sent {
        move_to(store, client_order_id, state).await.unwrap();
    }
}

/// The move to `to` through the call that makes it.
async fn move_to(store: &Store, id: &str, to: IntentState) -> Result<Intent, StoreError> {
    let answer = answer(id, "answered");
    match to {
        IntentState::Pending => panic!("no call moves an intent back to pending"),
        IntentState::Sent => store.mark_sent(id, 5).await,
        IntentState::Acknowledged => store.record_ack(id, 501, &answer, 5).await,
        IntentState::Rejected => {
            store
                .record_rejection(id, Some(-2010), "insufficient margin", &answer, 5)
                .await
        }
        IntentState::Failed => store.resolve_failed(id, "gave up", &answer, 5).await,
        IntentState::Adopted => store.resolve_adopted(id, 502, &answer, 5).await,
    }
}

#[tokio::test]
async fn every_move_follows_the_transition_table_and_a_refused_move_changes_nothing() {
    for ts in stores("transitions").await {
        let store = &ts.store;
        let targets = IntentState::ALL
            .into_iter()
            .filter(|to| *to != IntentState::Pending);
        for (n, (from, to)) in IntentState::ALL
            .into_iter()
            .flat_map(|from| targets.clone().map(move |to| (from, to)))
            .enumerate()
        {
            let id = format!("t-{n}");
            intent_in(store, &id, from).await;
            let before = store.intent_by_client_id(&id).await.unwrap().unwrap();
            let result = move_to(store, &id, to).await;
            if from.can_become(to) {
                let after = result.unwrap_or_else(|e| panic!("{}: {from} -> {to}: {e}", ts.label));
                assert_eq!(after.state, to);
                assert_eq!(
                    after.attempts,
                    before.attempts + u64::from(to == IntentState::Sent)
                );
                continue;
            }
            match result {
                Err(StoreError::IllegalTransition {
                    client_order_id,
                    from: found,
                    to: asked,
                }) => assert_eq!((client_order_id, found, asked), (id.clone(), from, to)),
                other => panic!(
                    "{}: {from} -> {to} should be refused, got {other:?}",
                    ts.label
                ),
            }
            let after = store.intent_by_client_id(&id).await.unwrap().unwrap();
            assert_eq!(
                after, before,
                "{}: a refused {from} -> {to} changed the row",
                ts.label
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_moves_of_one_intent_cannot_both_pass_its_check() {
    for ts in stores("racing_moves").await {
        intent_in(&ts.store, "race", IntentState::Pending).await;
        let race = |to: IntentState| {
            let barrier = Arc::new(Barrier::new(20));
            let tasks: Vec<_> = (0..20)
                .map(|_| {
                    let (store, barrier) = (ts.store.clone(), barrier.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        move_to(&store, "race", to).await
                    })
                })
                .collect();
            async move {
                let mut results = Vec::new();
                for task in tasks {
                    results.push(task.await.unwrap());
                }
                results
            }
        };
        // Resends may repeat: every one is counted, none lost to a race.
        let sent = race(IntentState::Sent).await;
        assert!(sent.iter().all(Result::is_ok), "{}", ts.label);
        let intent = ts.store.intent_by_client_id("race").await.unwrap().unwrap();
        assert_eq!(intent.attempts, 20, "{}", ts.label);
        // An answer is recorded once: one racer wins, the others are refused.
        let acks = race(IntentState::Acknowledged).await;
        assert_eq!(acks.iter().filter(|r| r.is_ok()).count(), 1, "{}", ts.label);
        assert!(
            acks.iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| matches!(
                    e,
                    StoreError::IllegalTransition {
                        from: IntentState::Acknowledged,
                        ..
                    }
                ))
        );
    }
}

#[tokio::test]
async fn each_resolution_stores_what_the_engine_gave_it() {
    for ts in stores("resolutions").await {
        let store = &ts.store;
        intent_in(store, "rej", IntentState::Rejected).await;
        intent_in(store, "fail", IntentState::Failed).await;
        intent_in(store, "ack", IntentState::Acknowledged).await;
        let rej = store.intent_by_client_id("rej").await.unwrap().unwrap();
        assert_eq!(
            (rej.reject_code, rej.reason.as_deref(), rej.venue_order_id),
            (Some(-2010), Some("insufficient margin"), None),
            "{}",
            ts.label
        );
        assert_eq!(rej.answer, Some(answer("rej", "answered")));
        let fail = store.intent_by_client_id("fail").await.unwrap().unwrap();
        assert_eq!(
            (fail.reason.as_deref(), fail.attempts),
            (Some("gave up"), 0)
        );
        let ack = store.intent_by_client_id("ack").await.unwrap().unwrap();
        assert_eq!((ack.venue_order_id, ack.reject_code), (Some(501), None));
        assert_eq!(ack.updated_ms, 5);
    }
}

#[tokio::test]
async fn a_refusal_before_sending_needs_no_venue_code_and_send_times_outlive_the_answer() {
    for ts in stores("refusal_send_time").await {
        let store = &ts.store;
        intent_in(store, "refused", IntentState::Pending).await;
        let refusal = answer("refused", "rejected");
        let refused = store
            .record_rejection("refused", None, "price outside the band", &refusal, 3)
            .await
            .unwrap();
        assert_eq!(
            (refused.state, refused.reject_code, refused.attempts),
            (IntentState::Rejected, None, 0),
            "{}",
            ts.label
        );
        assert_eq!(refused.reason.as_deref(), Some("price outside the band"));
        assert_eq!((refused.sent_ms, refused.answer), (None, Some(refusal)));

        intent_in(store, "sent", IntentState::Pending).await;
        assert_eq!(store.mark_sent("sent", 10).await.unwrap().sent_ms, Some(10));
        assert_eq!(store.mark_sent("sent", 20).await.unwrap().sent_ms, Some(20));
        let acked = store
            .record_ack("sent", 9, &answer("sent", "accepted"), 30)
            .await
            .unwrap();
        assert_eq!(
            (acked.sent_ms, acked.updated_ms, acked.attempts),
            (Some(20), 30, 2),
            "{}: the last send's time stays after the answer",
            ts.label
        );
    }
}

#[tokio::test]
async fn a_move_of_an_unknown_intent_is_a_typed_error() {
    for ts in stores("unknown_intent").await {
        let err = ts.store.mark_sent("nobody", 1).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::UnknownIntent { value, .. } if value == "nobody"),
            "{}: {err}",
            ts.label
        );
        assert_eq!(ts.store.intent_by_request_id("nobody").await.unwrap(), None);
    }
}

#[tokio::test]
async fn requests_round_trip_exactly_at_the_edges_of_money() {
    for ts in stores("request_round_trip").await {
        let mut edge = limit_request("edge", "EDGEUSDT");
        edge.price = Some(Price::MAX);
        edge.quantity = Qty::MAX;
        let trailing = kestrel_model::OrderRequest {
            order_type: OrderType::TrailingStopMarket,
            side: Side::Sell,
            time_in_force: None,
            price: None,
            quantity: Qty::EPSILON,
            callback_rate: Some(Rate::parse("0.1").unwrap()),
            activation_price: Some(price("0.00000001")),
            working_type: WorkingType::MarkPrice,
            position_side: PositionSide::Short,
            client_order_id: Some("caller-own-1".to_owned()),
            ..limit_request("trailing", "EDGEUSDT")
        };
        for (n, request) in [edge, trailing].into_iter().enumerate() {
            let id = format!("edge-{n}");
            let begun = ts.store.begin_intent(&request, &id, 7).await.unwrap();
            assert_eq!(begun.intent().request, request, "{}", ts.label);
            let back = ts.store.intent_by_client_id(&id).await.unwrap().unwrap();
            assert_eq!(back.request, request, "{}", ts.label);
        }
        let quantity = ts
            .query_text(
                "SELECT CAST(quantity AS TEXT) FROM order_intents WHERE request_id = 'edge'",
            )
            .await;
        assert_eq!(
            Qty::parse(&quantity).unwrap(),
            Qty::MAX,
            "{}: the key column is exact too",
            ts.label
        );
    }
}

#[tokio::test]
async fn sequence_blocks_never_overlap_across_restarts() {
    for mut ts in stores("sequence_restart").await {
        let store = ts.store.clone();
        assert_eq!(store.next_client_sequence("k.1", 10).await.unwrap(), 0..10);
        assert_eq!(store.next_client_sequence("k.1", 1).await.unwrap(), 10..11);
        assert_eq!(store.next_client_sequence("k.1", 0).await.unwrap(), 11..11);
        assert_eq!(store.next_client_sequence("k.2", 3).await.unwrap(), 0..3);
        drop(store);
        ts.restart_after_crash().await;
        assert_eq!(
            ts.store.next_client_sequence("k.1", 5).await.unwrap(),
            11..16,
            "{}",
            ts.label
        );
        assert_eq!(ts.store.next_client_sequence("k.2", 1).await.unwrap(), 3..4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reservers_get_disjoint_blocks_that_leave_no_gap() {
    for ts in stores("sequence_race").await {
        let barrier = Arc::new(Barrier::new(20));
        let tasks: Vec<_> = (0..20_u64)
            .map(|i| {
                let (store, barrier) = (ts.store.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.next_client_sequence("race", i % 5 + 1).await
                })
            })
            .collect();
        let mut blocks = Vec::new();
        for task in tasks {
            blocks.push(task.await.unwrap().unwrap());
        }
        blocks.sort_by_key(|block| block.start);
        let mut next = 0;
        for block in &blocks {
            assert_eq!(block.start, next, "{}: {blocks:?}", ts.label);
            next = block.end;
        }
        let asked: u64 = (0..20_u64).map(|i| i % 5 + 1).sum();
        assert_eq!(next, asked, "{}", ts.label);
    }
}

#[tokio::test]
async fn a_block_past_the_largest_sequence_is_refused_and_reserves_nothing() {
    for ts in stores("sequence_exhausted").await {
        let store = &ts.store;
        let max = u64::try_from(i64::MAX).unwrap();
        assert_eq!(
            store.raise_client_sequence("k.9", max - 5).await.unwrap(),
            max - 5
        );
        assert_eq!(
            store.raise_client_sequence("k.9", 3).await.unwrap(),
            max - 5
        );
        assert_eq!(
            store.next_client_sequence("k.9", 5).await.unwrap(),
            max - 5..max
        );
        let err = store.next_client_sequence("k.9", 1).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::SequenceExhausted { prefix, requested: 1 } if prefix == "k.9"),
            "{}: {err}",
            ts.label
        );
        assert_eq!(
            store.next_client_sequence("k.9", 0).await.unwrap(),
            max..max
        );
        let err = store
            .next_client_sequence("k.8", u64::MAX)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::OutOfRange { .. }), "{err}");
    }
}
