#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The synchronous journal of a SQLite store (`JournalFile`, what the execution engine's
//! journal thread writes through) and the store's async journal API are one journal: what one
//! writes the other reads, the same transition table refuses the same moves, racing begins of
//! one request id journal it once whichever way they come, and sequence blocks never overlap.
//! A PostgreSQL store has no such file.
//!
//! The file blocks its caller, so the tests call it from `block_in_place` (or a thread).

mod common;

use std::sync::{Arc, Barrier};

use common::{TestStore, limit_request};
use kestrel_store::{Begin, IntentState, JournalFile, StoreError};
use kestrel_testkit::db::TestDatabase;
use serde_json::json;

async fn sqlite_store() -> (TestStore, JournalFile) {
    let ts = TestStore::open(TestDatabase::sqlite()).await;
    let file = ts
        .store
        .journal_file()
        .unwrap()
        .expect("a SQLite store has a journal file");
    (ts, file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_file_writes_the_store_reads_and_the_other_way_round() {
    let (ts, file) = sqlite_store().await;
    let store = &ts.store;
    let request = limit_request("req-1", "BTCUSDT");

    let begun = tokio::task::block_in_place(|| file.begin_intent(&request, "k.1-1", 1_000));
    let Begin::New(first) = begun.unwrap() else {
        panic!("a new request id is journaled as new");
    };
    assert_eq!(first.state, IntentState::Pending);
    let Begin::Existing(seen) = store.begin_intent(&request, "k.1-2", 1_001).await.unwrap() else {
        panic!("the store sees the file's intent as a repeat");
    };
    assert_eq!(seen, first);

    let sent = tokio::task::block_in_place(|| file.mark_sent("k.1-1", 1_002)).unwrap();
    assert_eq!(
        (sent.state, sent.attempts, sent.sent_ms),
        (IntentState::Sent, 1, Some(1_002))
    );
    assert_eq!(store.unresolved_intents().await.unwrap(), vec![sent]);

    let answer = json!({ "status": "accepted" });
    store.record_ack("k.1-1", 77, &answer, 1_003).await.unwrap();
    let resend = tokio::task::block_in_place(|| file.mark_sent("k.1-1", 1_004));
    let Err(StoreError::IllegalTransition { from, to, .. }) = resend else {
        panic!("an acknowledged intent cannot be sent again: {resend:?}");
    };
    assert_eq!((from, to), (IntentState::Acknowledged, IntentState::Sent));
    let stored = file.intent_by_request_id("req-1").unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.venue_order_id, stored.answer),
        (IntentState::Acknowledged, Some(77), Some(answer))
    );
    assert!(file.unresolved_intents().unwrap().is_empty());

    let other = limit_request("req-2", "BTCUSDT");
    let taken = tokio::task::block_in_place(|| file.begin_intent(&other, "k.1-1", 1_005));
    let Err(StoreError::ClientOrderIdTaken { held_by, .. }) = taken else {
        panic!("a client order id serves one request: {taken:?}");
    };
    assert_eq!(held_by, "req-1");
    assert_eq!(ts.rows("order_intents").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intent_begun_as_sent_is_one_write_and_a_repeat_or_taken_id_writes_nothing() {
    let (ts, file) = sqlite_store().await;
    let store = &ts.store;
    let request = limit_request("req-1", "BTCUSDT");
    let begun =
        tokio::task::block_in_place(|| file.begin_sent_intent(&request, "k.1-1", 1_000, 1_001));
    let Begin::New(sent) = begun.unwrap() else {
        panic!("a new request id is journaled as new");
    };
    assert_eq!(
        (sent.state, sent.attempts, sent.sent_ms, sent.created_ms),
        (IntentState::Sent, 1, Some(1_001), 1_000)
    );
    assert_eq!(
        store.unresolved_intents().await.unwrap(),
        vec![sent.clone()]
    );

    // The same through the store's own API (PostgreSQL's way), from the file's intent.
    let repeat = store
        .begin_sent_intent(&request, "k.1-9", 2_000, 2_001)
        .await
        .unwrap();
    assert_eq!(
        repeat,
        Begin::Existing(sent.clone()),
        "a repeat writes nothing"
    );
    let other = limit_request("req-2", "BTCUSDT");
    let taken =
        tokio::task::block_in_place(|| file.begin_sent_intent(&other, "k.1-1", 2_002, 2_003));
    let Err(StoreError::ClientOrderIdTaken { held_by, .. }) = taken else {
        panic!("a client order id serves one request: {taken:?}");
    };
    assert_eq!(held_by, "req-1");
    assert_eq!(
        ts.rows("order_intents").await,
        1,
        "the refused insert was rolled back"
    );

    let third = limit_request("req-3", "BTCUSDT");
    let Begin::New(by_store) = store
        .begin_sent_intent(&third, "k.1-3", 3_000, 3_001)
        .await
        .unwrap()
    else {
        panic!("a new request id through the store");
    };
    let read = file.intent_by_request_id("req-3").unwrap().unwrap();
    assert_eq!((read.state, read.attempts), (IntentState::Sent, 1));
    assert_eq!(read, by_store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_blocks_from_the_file_and_the_store_never_overlap() {
    let (ts, file) = sqlite_store().await;
    let a = tokio::task::block_in_place(|| file.next_client_sequence("k", 10)).unwrap();
    let b = ts.store.next_client_sequence("k", 10).await.unwrap();
    let c = tokio::task::block_in_place(|| file.next_client_sequence("k", 5)).unwrap();
    assert_eq!((a, b, c), (0..10, 10..20, 20..25));
    let raised = tokio::task::block_in_place(|| file.raise_client_sequence("k", 100)).unwrap();
    assert_eq!(raised, 100);
    assert_eq!(
        ts.store.next_client_sequence("k", 1).await.unwrap(),
        100..101
    );
    let exhausted = tokio::task::block_in_place(|| file.next_client_sequence("k", u64::MAX));
    assert!(
        matches!(exhausted, Err(StoreError::OutOfRange { .. })),
        "{exhausted:?}"
    );
    let full = tokio::task::block_in_place(|| file.next_client_sequence("k", i64::MAX as u64));
    assert!(
        matches!(full, Err(StoreError::SequenceExhausted { .. })),
        "{full:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_begins_through_files_and_the_store_journal_one_intent() {
    const EACH: usize = 8;
    let (ts, _) = sqlite_store().await;
    let request = limit_request("race", "BTCUSDT");
    let gate = Arc::new(Barrier::new(2 * EACH));
    let threads: Vec<_> = (0..EACH)
        .map(|i| {
            let file = ts.store.journal_file().unwrap().unwrap();
            let (request, gate) = (request.clone(), Arc::clone(&gate));
            std::thread::spawn(move || {
                gate.wait();
                file.begin_intent(&request, &format!("f-{i}"), 1_000)
            })
        })
        .collect();
    let tasks: Vec<_> = (0..EACH)
        .map(|i| {
            let (store, request, gate) = (ts.store.clone(), request.clone(), Arc::clone(&gate));
            tokio::spawn(async move {
                tokio::task::block_in_place(|| gate.wait());
                store.begin_intent(&request, &format!("s-{i}"), 1_000).await
            })
        })
        .collect();
    let mut begun = Vec::new();
    for thread in threads {
        begun.push(thread.join().unwrap().unwrap());
    }
    for task in tasks {
        begun.push(task.await.unwrap().unwrap());
    }
    let new: Vec<_> = begun.iter().filter(|b| b.is_new()).collect();
    assert_eq!(new.len(), 1, "exactly one racer journals the request");
    assert!(begun.iter().all(|b| b.intent() == new[0].intent()));
    assert_eq!(ts.rows("order_intents").await, 1);
}

#[tokio::test]
async fn a_postgres_store_has_no_journal_file() {
    let Some(db) = TestDatabase::postgres("journal_file_none").await else {
        return;
    };
    let ts = TestStore::open(db).await;
    assert!(ts.store.journal_file().unwrap().is_none());
}
