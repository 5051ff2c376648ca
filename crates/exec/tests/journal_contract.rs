//! The journal port's contract: one body per behaviour, run on every implementation — the
//! `MemoryJournal`, and the `StoreJournal` on SQLite and on PostgreSQL (a schema of the test's
//! own; that part is skipped, saying so, when the server is unreachable, unless
//! `KESTREL_REQUIRE_SERVICES=1`). Opening a journal again stands for a restart: a clone of the
//! memory journal, a new store journal on the same database.
//!
//! Then what only the store journal has to show: that it never needs the caller's runtime (a
//! call from a two-worker runtime with both workers blocked returns), that a stored answer it
//! cannot read is an error naming the intent, that a store it cannot open is an error naming
//! what failed, and that dropping it closes the database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use kestrel_exec::OrderAnswer;
use kestrel_exec::journal::{
    Begun, Intent, IntentState, Journal, JournalError, MemoryJournal, NewIntent,
};
use kestrel_model::config::{Secret, StoreBackend, StoreConfig};
use kestrel_model::order::{
    OrderRequest, OrderStatus, OrderType, PositionSide, Side, TimeInForce, WorkingType,
};
use kestrel_model::{Price, Qty, Rate};
use support::limit;
use support::store::{TestDatabase, journal};

/// Opens the journal under test (again, after the first time: a restart).
type Open<'a> = &'a dyn Fn() -> Box<dyn Journal>;

/// Runs `body` on a fresh journal of every kind, labelled for its messages.
async fn on_every_journal(test: &str, body: fn(&str, Open<'_>)) {
    let memory = MemoryJournal::new();
    body("memory", &|| Box::new(memory.clone()));
    for db in TestDatabase::all(test).await {
        body(db.label(), &|| Box::new(journal(&db)));
    }
}

fn new_intent(request_id: &str, client_order_id: &str) -> NewIntent {
    let mut request = limit(
        request_id,
        Side::Buy,
        Price::parse("60000").unwrap(),
        "0.010",
    );
    request.client_order_id = Some(client_order_id.to_owned());
    NewIntent {
        request_id: request_id.to_owned(),
        client_order_id: client_order_id.to_owned(),
        request,
        created_at_ms: 1_000,
    }
}

fn accepted(request_id: &str, venue_order_id: u64) -> OrderAnswer {
    OrderAnswer::Accepted {
        request_id: request_id.to_owned(),
        client_order_id: "k-1".to_owned(),
        venue_order_id,
        status: OrderStatus::Submitted,
        adopted: false,
    }
}

fn failed(request_id: &str) -> OrderAnswer {
    OrderAnswer::Failed {
        request_id: request_id.to_owned(),
        client_order_id: "k-1".to_owned(),
        code: "not_placed".to_owned(),
        message: "absent".to_owned(),
    }
}

/// The intent journaled for `request_id`, read the port's way: a repeat of its request (with
/// an unused client order id), which returns it and writes nothing.
fn existing(journal: &dyn Journal, request_id: &str) -> Intent {
    match journal.begin(new_intent(request_id, "k-unused")).unwrap() {
        Begun::Existing(intent) => intent,
        Begun::New(intent) => panic!("{request_id} was not journaled: {intent:?}"),
    }
}

fn repeated_request_id(label: &str, open: Open<'_>) {
    let journal = open();
    assert!(
        matches!(
            journal.begin(new_intent("r1", "k-1")).unwrap(),
            Begun::New(_)
        ),
        "{label}"
    );
    journal.mark_sent("r1", 2_000).unwrap();
    journal.record_ack("r1", 77, &accepted("r1", 77)).unwrap();
    for journal in [journal, open()] {
        let intent = existing(&*journal, "r1");
        assert_eq!(
            intent.client_order_id, "k-1",
            "{label}: the first client id stays"
        );
        assert_eq!(intent.state, IntentState::Acknowledged, "{label}");
        assert_eq!(intent.venue_order_id, Some(77), "{label}");
        assert_eq!(intent.answer, Some(accepted("r1", 77)), "{label}");
        assert_eq!(
            (intent.created_at_ms, intent.sent_at_ms, intent.sends),
            (1_000, Some(2_000), 1),
            "{label}"
        );
    }
    assert!(
        matches!(
            open().begin(new_intent("r2", "k-2")).unwrap(),
            Begun::New(_)
        ),
        "{label}: the repeats took no client order id"
    );
}

#[tokio::test]
async fn a_repeated_request_id_returns_the_existing_intent_and_its_first_answer() {
    on_every_journal("contract_repeat", repeated_request_id).await;
}

fn client_id_taken(label: &str, open: Open<'_>) {
    let journal = open();
    journal.begin(new_intent("r1", "k-1")).unwrap();
    assert_eq!(
        journal.begin(new_intent("r2", "k-1")),
        Err(JournalError::ClientIdTaken {
            client_order_id: "k-1".to_owned(),
            owner: "r1".to_owned()
        }),
        "{label}"
    );
    assert!(
        matches!(
            journal.begin(new_intent("r2", "k-2")).unwrap(),
            Begun::New(_)
        ),
        "{label}: the refused request wrote nothing"
    );
}

#[tokio::test]
async fn a_client_order_id_cannot_serve_two_requests() {
    on_every_journal("contract_client_id", client_id_taken).await;
}

fn final_states_are_final(label: &str, open: Open<'_>) {
    let journal = open();
    journal.begin(new_intent("r1", "k-1")).unwrap();
    assert!(
        matches!(
            journal.record_ack("r1", 1, &accepted("r1", 1)),
            Err(JournalError::IllegalTransition {
                from: IntentState::Pending,
                to: IntentState::Acknowledged,
                ..
            })
        ),
        "{label}"
    );
    journal.mark_sent("r1", 5).unwrap();
    journal.resolve_failed("r1", &failed("r1")).unwrap();
    for result in [
        journal.mark_sent("r1", 6).map(drop),
        journal.record_ack("r1", 1, &accepted("r1", 1)),
        journal.resolve_adopted("r1", 1, &accepted("r1", 1)),
        journal.record_rejection("r1", &failed("r1")),
        journal.resolve_failed("r1", &failed("r1")),
    ] {
        assert!(
            matches!(
                &result,
                Err(JournalError::IllegalTransition { request_id, from: IntentState::Failed, .. })
                    if request_id == "r1"
            ),
            "{label}: {result:?}"
        );
    }
    let intent = existing(&*open(), "r1");
    assert_eq!(intent.state, IntentState::Failed, "{label}");
    assert_eq!(intent.answer, Some(failed("r1")), "{label}");
    assert_eq!((intent.sends, intent.sent_at_ms), (1, Some(5)), "{label}");
    assert_eq!(
        journal.mark_sent("nope", 1),
        Err(JournalError::Unknown {
            request_id: "nope".to_owned()
        }),
        "{label}"
    );
}

#[tokio::test]
async fn final_states_are_final_and_illegal_moves_change_nothing() {
    on_every_journal("contract_final", final_states_are_final).await;
}

fn local_refusal(label: &str, open: Open<'_>) {
    let journal = open();
    journal.begin(new_intent("r1", "k-1")).unwrap();
    let refusal = OrderAnswer::Rejected {
        request_id: "r1".to_owned(),
        client_order_id: Some("k-1".to_owned()),
        code: "price_band".to_owned(),
        message: "price 60000 is outside the band".to_owned(),
    };
    journal.record_rejection("r1", &refusal).unwrap();
    let intent = existing(&*open(), "r1");
    assert_eq!(
        (intent.state, intent.sends, intent.answer),
        (IntentState::Rejected, 0, Some(refusal)),
        "{label}"
    );
    assert!(journal.unresolved().unwrap().is_empty(), "{label}");
}

#[tokio::test]
async fn a_pending_intent_refused_before_sending_is_journaled_as_rejected() {
    on_every_journal("contract_refusal", local_refusal).await;
}

fn begun_as_sent(label: &str, open: Open<'_>) {
    let journal = open();
    let Begun::New(sent) = journal.begin_sent(new_intent("r1", "k-1"), 10).unwrap() else {
        panic!("{label}: a new request id");
    };
    assert_eq!(
        (sent.state, sent.sends, sent.sent_at_ms),
        (IntentState::Sent, 1, Some(10)),
        "{label}"
    );
    let again = journal.begin_sent(new_intent("r1", "k-2"), 20).unwrap();
    assert_eq!(
        again,
        Begun::Existing(sent.clone()),
        "{label}: a repeat writes nothing"
    );
    let taken = journal.begin_sent(new_intent("r2", "k-1"), 30);
    assert!(
        matches!(taken, Err(JournalError::ClientIdTaken { ref owner, .. }) if owner == "r1"),
        "{label}: {taken:?}"
    );
    let reopened = open();
    assert_eq!(
        reopened.unresolved().unwrap(),
        vec![sent],
        "{label}: r2 left nothing"
    );
    let resent = reopened.mark_sent("r1", 40).unwrap();
    assert_eq!((resent.sends, resent.sent_at_ms), (2, Some(40)), "{label}");
}

#[tokio::test]
async fn an_intent_begun_as_sent_is_journaled_sent_once_and_a_repeat_writes_nothing() {
    on_every_journal("contract_begun_as_sent", begun_as_sent).await;
}

fn resends(label: &str, open: Open<'_>) {
    let journal = open();
    journal.begin(new_intent("r1", "k-1")).unwrap();
    journal.mark_sent("r1", 10).unwrap();
    let intent = journal.mark_sent("r1", 20).unwrap();
    assert_eq!((intent.sends, intent.sent_at_ms), (2, Some(20)), "{label}");
    journal
        .resolve_adopted("r1", 8, &accepted("r1", 8))
        .unwrap();
    let after = existing(&*open(), "r1");
    assert_eq!(
        (after.sends, after.sent_at_ms, after.state),
        (2, Some(20), IntentState::Adopted),
        "{label}: the window start outlives the answer and a restart"
    );
}

#[tokio::test]
async fn resends_count_and_move_the_window_start() {
    on_every_journal("contract_resends", resends).await;
}

fn unresolved_oldest_first(label: &str, open: Open<'_>) {
    let journal = open();
    for (r, k) in [("a", "k-1"), ("b", "k-2"), ("c", "k-3"), ("d", "k-4")] {
        journal.begin(new_intent(r, k)).unwrap();
    }
    journal.mark_sent("b", 1).unwrap();
    journal.mark_sent("c", 1).unwrap();
    journal.record_ack("c", 9, &accepted("c", 9)).unwrap();
    journal.resolve_failed("d", &failed("d")).unwrap();
    for journal in [journal, open()] {
        let unresolved = journal.unresolved().unwrap();
        let ids: Vec<(&str, IntentState)> = unresolved
            .iter()
            .map(|i| (i.request_id.as_str(), i.state))
            .collect();
        assert_eq!(
            ids,
            [("a", IntentState::Pending), ("b", IntentState::Sent)],
            "{label}"
        );
    }
}

#[tokio::test]
async fn unresolved_lists_pending_and_sent_oldest_first_across_a_restart() {
    on_every_journal("contract_unresolved", unresolved_oldest_first).await;
}

fn sequence_blocks(label: &str, open: Open<'_>) {
    let journal = open();
    let first = journal.next_sequence_block("k.1", 100).unwrap();
    let second = open().next_sequence_block("k.1", 100).unwrap();
    assert!(second >= first + 100, "{label}: {first} then {second}");
    let third = journal.next_sequence_block("k.1", 0).unwrap();
    assert!(third >= second + 100, "{label}: {second} then {third}");
    journal.next_sequence_block("other", 5).unwrap();
    // Blocks of 2^62 run out within five reservations, and never overlap before that.
    let mut starts = Vec::new();
    let exhausted = loop {
        match journal.next_sequence_block("huge", 1 << 62) {
            Ok(start) => starts.push(start),
            Err(error) => break error,
        }
        assert!(starts.len() < 5, "{label}: {starts:?}");
    };
    assert_eq!(
        exhausted,
        JournalError::SequenceExhausted {
            prefix: "huge".to_owned()
        },
        "{label}"
    );
    assert!(
        starts.windows(2).all(|w| w[1] >= w[0] + (1 << 62)),
        "{label}: {starts:?}"
    );
}

#[tokio::test]
async fn sequence_blocks_never_overlap_survive_a_restart_and_run_out_loudly() {
    on_every_journal("contract_sequences", sequence_blocks).await;
}

/// An intent with every optional field of the request set, at the edges of money.
fn edge_intent() -> NewIntent {
    let mut intent = new_intent("edge", "k.9-18446744073709551615");
    intent.request = OrderRequest {
        order_type: OrderType::TrailingStopMarket,
        side: Side::Sell,
        time_in_force: Some(TimeInForce::Gtx),
        price: Some(Price::MAX),
        quantity: Qty::EPSILON,
        stop_price: Some(Price::parse("0.00000001").unwrap()),
        reduce_only: true,
        close_position: true,
        position_side: PositionSide::Short,
        working_type: WorkingType::MarkPrice,
        callback_rate: Some(Rate::parse("0.1").unwrap()),
        activation_price: Some(Price::parse("1.5").unwrap()),
        ..intent.request
    };
    intent.created_at_ms = u64::try_from(i64::MAX).unwrap();
    intent
}

fn round_trip(label: &str, open: Open<'_>) {
    let journal = open();
    let Begun::New(begun) = journal.begin(edge_intent()).unwrap() else {
        panic!("{label}: a new intent");
    };
    assert_eq!(begun, Intent::new(edge_intent()), "{label}");
    journal.mark_sent("edge", 5).unwrap();
    let answer = OrderAnswer::Rejected {
        request_id: "edge".to_owned(),
        client_order_id: None,
        code: "venue_-2019".to_owned(),
        message: "Margin is insufficient.".to_owned(),
    };
    journal.record_rejection("edge", &answer).unwrap();
    let expected = Intent {
        state: IntentState::Rejected,
        sent_at_ms: Some(5),
        sends: 1,
        answer: Some(answer),
        ..Intent::new(edge_intent())
    };
    assert_eq!(existing(&*open(), "edge"), expected, "{label}");
}

#[tokio::test]
async fn every_field_of_an_intent_round_trips_exactly() {
    on_every_journal("contract_round_trip", round_trip).await;
}

/// A multi-threaded runtime with two workers, as the driver's.
fn two_worker_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Spawns a task that holds one worker of `runtime` until told to let go (or 60 s pass): the
/// sender says let go; the receiver hears once the worker is held.
fn block_a_worker(runtime: &tokio::runtime::Runtime) -> (mpsc::Sender<()>, mpsc::Receiver<()>) {
    let (release, released) = mpsc::channel::<()>();
    let (blocking, blocked) = mpsc::channel::<()>();
    runtime.spawn(async move {
        blocking.send(()).unwrap();
        let _ = released.recv_timeout(Duration::from_secs(60));
    });
    (release, blocked)
}

/// A journal call from a runtime whose two workers are both blocked — one by a task that waits
/// on a std channel, the other by the call itself — returns: the journal needs nothing from
/// the caller's runtime.
#[test]
fn a_call_from_a_two_worker_runtime_with_both_workers_blocked_does_not_deadlock() {
    let runtime = two_worker_runtime();
    let databases = runtime.block_on(TestDatabase::all("journal_no_deadlock"));
    for db in &databases {
        let journal = journal(db);
        let (release, blocked) = block_a_worker(&runtime);
        let (done, result) = mpsc::channel();
        runtime.spawn(async move {
            blocked.recv().unwrap();
            let calls = (|| {
                journal.begin(new_intent("r1", "k-1"))?;
                journal.mark_sent("r1", 7)?;
                journal.record_ack("r1", 3, &accepted("r1", 3))?;
                journal.next_sequence_block("k", 10)?;
                journal.unresolved()
            })();
            release.send(()).unwrap();
            done.send(calls).unwrap();
        });
        let calls = result
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{}: the journal calls deadlocked", db.label()));
        assert_eq!(calls, Ok(Vec::new()), "{}", db.label());
    }
    drop(databases);
    runtime.shutdown_timeout(Duration::from_secs(5));
}

/// On SQLite the journal writes on the caller's thread, a runtime worker on the order path.
/// When another writer of the file holds the store's write lock, such a call waits for it —
/// it neither fails, nor panics for blocking inside the runtime, nor writes beside the holder
/// — and then writes.
#[test]
fn a_call_on_a_runtime_worker_waits_for_another_writer_of_the_file() {
    let runtime = two_worker_runtime();
    let db = TestDatabase::sqlite();
    let journal = journal(&db);
    let other_writer = runtime.block_on(support::store::store(&db));
    let released = Arc::new(AtomicBool::new(false));
    let (locked, lock_held) = tokio::sync::oneshot::channel::<()>();
    let holder = {
        let released = Arc::clone(&released);
        runtime.spawn(async move {
            let held = other_writer.write_lock().await;
            locked.send(()).unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            released.store(true, Ordering::SeqCst);
            drop(held);
        })
    };
    let call = runtime.spawn(async move {
        lock_held.await.unwrap();
        let begun = journal.begin(new_intent("r1", "k-1"));
        (begun, released.load(Ordering::SeqCst), journal)
    });
    let (begun, waited, journal) = runtime.block_on(call).expect("the call's task panicked");
    runtime.block_on(holder).unwrap();
    assert!(matches!(begun, Ok(Begun::New(_))), "{begun:?}");
    assert!(waited, "the call wrote while another writer held the lock");
    assert_eq!(existing(&journal, "r1").client_order_id, "k-1");
    drop(journal);
    runtime.shutdown_timeout(Duration::from_secs(5));
}

/// The same wait when the holder of the write lock is a task of the caller's own runtime and
/// every other worker is blocked (as by the engine's lock, which the caller holds): the wait
/// must leave the runtime able to run the holder, or nothing ever releases the lock.
#[test]
fn a_call_waiting_for_a_writer_that_is_a_task_of_its_own_blocked_runtime_does_not_deadlock() {
    let runtime = two_worker_runtime();
    let db = TestDatabase::sqlite();
    let journal = journal(&db);
    let other_writer = runtime.block_on(support::store::store(&db));
    let (locked, lock_held) = mpsc::channel::<()>();
    // Holds the lock across an await: released only if some worker polls it again.
    runtime.spawn(async move {
        let held = other_writer.write_lock().await;
        locked.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(held);
    });
    lock_held.recv().unwrap();
    let (release, blocked) = block_a_worker(&runtime);
    let (done, result) = mpsc::channel();
    runtime.spawn(async move {
        blocked.recv().unwrap();
        let begun = journal.begin(new_intent("r1", "k-1"));
        release.send(()).unwrap();
        done.send((begun, journal)).unwrap();
    });
    let (begun, journal) = result
        .recv_timeout(Duration::from_secs(30))
        .expect("the journal call deadlocked waiting for the write lock");
    assert!(matches!(begun, Ok(Begun::New(_))), "{begun:?}");
    assert_eq!(existing(&journal, "r1").client_order_id, "k-1");
    drop(journal);
    runtime.shutdown_timeout(Duration::from_secs(5));
}

#[tokio::test]
async fn a_stored_answer_that_does_not_parse_is_a_storage_error_naming_the_intent() {
    for db in TestDatabase::all("journal_bad_answer").await {
        let journal = journal(&db);
        journal.begin(new_intent("r1", "k-1")).unwrap();
        journal.mark_sent("r1", 1).unwrap();
        journal.record_ack("r1", 5, &accepted("r1", 5)).unwrap();
        db.execute(r#"UPDATE order_intents SET answer = '{"result": "maybe"}'"#)
            .await;
        let error = journal.begin(new_intent("r1", "k-2")).unwrap_err();
        let JournalError::Storage { detail } = &error else {
            panic!("{}: expected a storage error, got {error:?}", db.label());
        };
        assert!(detail.contains("intent r1"), "{}: {detail}", db.label());
        assert!(
            detail.contains("not an order answer"),
            "{}: {detail}",
            db.label()
        );
    }
}

/// Opens a journal on `config`, expecting an error, and returns its message.
fn open_error(config: &StoreConfig) -> String {
    let clock = std::sync::Arc::new(kestrel_exec::driver::SystemClock::new());
    match kestrel_exec::StoreJournal::open(config, clock) {
        Ok(journal) => panic!("opened {journal:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn opening_a_journal_on_a_store_that_cannot_be_opened_names_what_failed() {
    let no_url = StoreConfig {
        backend: StoreBackend::Postgres,
        ..StoreConfig::default()
    };
    let message = open_error(&no_url);
    assert!(message.contains("cannot open the store"), "{message}");
    assert!(message.contains("postgres_url"), "{message}");

    let malformed = StoreConfig {
        backend: StoreBackend::Postgres,
        postgres_url: Some(Secret::new("postgres://kestrel:hunter2@[not a host")),
        ..StoreConfig::default()
    };
    let message = open_error(&malformed);
    assert!(message.contains("malformed URL"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let under_a_file = StoreConfig {
        data_dir: file.clone(),
        ..StoreConfig::default()
    };
    let message = open_error(&under_a_file);
    assert!(message.contains(&file.display().to_string()), "{message}");
}

#[test]
fn dropping_the_journal_stops_its_thread_and_closes_the_database() {
    let db = TestDatabase::sqlite();
    let path = db.sqlite_path().unwrap().to_path_buf();
    let wal = path.with_file_name("kestrel.sqlite-wal");
    let journal = journal(&db);
    journal.begin(new_intent("r1", "k-1")).unwrap();
    assert!(wal.exists(), "the open database has its write-ahead log");
    drop(journal);
    assert!(
        !wal.exists(),
        "the last connection closed, checkpointing and removing the log"
    );
    let again = support::store::journal(&db);
    assert_eq!(existing(&again, "r1").client_order_id, "k-1");
}
