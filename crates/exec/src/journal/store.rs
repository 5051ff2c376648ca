//! [`StoreJournal`]: the journal port on `kestrel-store`'s durable order journal (SQLite or
//! PostgreSQL, [`kestrel_store::journal`]).
//!
//! # A thread of its own, and calls on the caller's
//!
//! The port is synchronous and is called from tokio worker threads, so the journal cannot use
//! the caller's runtime: `Handle::block_on` panics there, and a store whose I/O the caller's
//! runtime drives could wait for workers that are all blocked on the driver's mutex. So
//! [`StoreJournal::open`] starts a thread (`kestrel-journal`) with a current-thread runtime and
//! a [`Store`] opened (and migrated) on it (`super::thread`). Dropping the journal stops the
//! thread: it finishes the work in hand, closes the store and ends, and the drop waits for it.
//!
//! On SQLite the journal's statements go through the store's [`JournalFile`], synchronously,
//! with no async driver in between, and the caller runs them on its own thread: an order's
//! write-ahead then costs the statement and its flush, and no hand-off to another thread and
//! back (each a wake-up, tens of microseconds on a busy host and more at the tail). The file
//! and the thread's bookkeeping sit behind a mutex the journal thread shares for the
//! persister's rows and the checkpoints. The write returns once committed (write-ahead: the
//! caller sends the order only after that).
//!
//! On PostgreSQL each call is a message on a std channel with a reply channel of its own; the
//! thread runs calls one at a time, in the order sent, on the store's own async API, and the
//! caller blocks on the reply.
//!
//! # The persister's rows
//!
//! On SQLite the persister's orders and fills share the file, and its writes used to hold the
//! file's write lock, through sqlx's worker thread, while an order's journal write waited. So
//! the persister hands its rows to this thread ([`StoreJournal::rows_writer`], [`RowsWriter`])
//! when the journal writes the persister's database: the thread writes them itself (through
//! the file, synchronously, one transaction per batch), and only when no journal call waits —
//! an order's write waits at most for one batch in hand (the persister sends order states 16
//! at a time), never behind a queue of them. Once the journal is dropped, rows not yet
//! written are handed back (the persister then writes them on its own store).
//!
//! # Checkpoints
//!
//! The journal's connection makes none on its own (a checkpoint on an order's commit would
//! hold that order up by a millisecond or more). The thread runs one when idle, every 1,000
//! writes: an order that arrives meanwhile waits for it, so fewer, larger checkpoints make
//! that rarer. Against 200, measured on `kestrel bench exec` (seven runs each, alternating),
//! the median p99 fell from 786 to 735 µs and the median p50 rose from 335 to 374 µs (the log
//! gets longer between two).
//!
//! # Keys and times
//!
//! The port moves intents by request id, the store by client order id. The thread keeps the
//! client order id of every intent it has seen unresolved and forgets it once the intent is
//! final, so a move costs one statement; an id it does not hold is looked up by request id. The
//! store stamps each move with the caller's time: a send with its `sent_at_ms`, the other moves
//! with the [`Clock`] the journal was opened with.
//!
//! # What is stored
//!
//! Every field of an [`Intent`] round-trips: the request as JSON, the state under its own name,
//! `sent_at_ms` as the store's send time, `sends` as its attempts, the answer as JSON (a stored
//! answer that is not an [`OrderAnswer`] is a [`JournalError::Storage`] naming the intent). A
//! refusal also writes the venue's numeric code, read from the answer's `venue_{code}`, and a
//! refusal or failure its code and message as the store's reason. Store errors map to the
//! port's: an illegal move, an unknown intent, a taken client order id and an exhausted
//! sequence to their own variants, anything else to [`JournalError::Storage`] with the store's
//! message.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use kestrel_model::config::StoreConfig;
use kestrel_store::journal::JournalFile;
use kestrel_store::{Begin, FillRecord, OrderRecord, Store, StoreError};
use tokio::runtime::Runtime;

use super::thread::spawn_store_thread;
use super::{Begun, Intent, IntentState, Journal, JournalError, NewIntent};
use crate::answer::OrderAnswer;
use crate::clock::Clock;

/// The durable journal (module docs). Not `Clone`: one thread serves one journal.
pub struct StoreJournal {
    calls: Option<mpsc::Sender<Message>>,
    /// On SQLite: the journal's state, called on the caller's thread (module docs).
    file: Option<Arc<Shared<'static>>>,
    thread: Option<JoinHandle<()>>,
    clock: Arc<dyn Clock + Send + Sync>,
    target: String,
}

impl fmt::Debug for StoreJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreJournal")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl StoreJournal {
    /// Starts the journal thread and opens the store `config` describes on it (migrating it),
    /// returning once the store is open. `clock` stamps the moves that carry no time of their
    /// own (answers and resolutions); use the driver's clock.
    ///
    /// # Errors
    /// [`JournalError::Storage`] naming what failed: the thread or its runtime could not be
    /// started, or the store could not be opened (with the store's message, which names the
    /// database).
    pub fn open(
        config: &StoreConfig,
        clock: Arc<dyn Clock + Send + Sync>,
    ) -> Result<Self, JournalError> {
        let (calls, inbox) = mpsc::channel();
        let (file_sender, file) = mpsc::sync_channel(1);
        let (thread, target) =
            spawn_store_thread("kestrel-journal", config, move |runtime, store| {
                serve(runtime, store, &inbox, &file_sender);
            })
            .map_err(|e| storage(format!("store journal: {e}")))?;
        Ok(Self {
            calls: Some(calls),
            file: file.recv().ok().flatten(),
            thread: Some(thread),
            clock,
            target,
        })
    }

    /// The database the journal writes to: the SQLite path, or `postgres host:port/db`.
    #[must_use]
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Runs `call`: on this thread on SQLite, else on the journal thread, waiting for its
    /// reply.
    fn call(&self, call: Call) -> Result<Reply, JournalError> {
        if let Some(file) = &self.file {
            return file.call(call);
        }
        let (reply, answer) = mpsc::sync_channel(1);
        let calls = self.calls.as_ref().ok_or_else(stopped)?;
        calls
            .send(Message::Call(Request { call, reply }))
            .map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }

    /// Records a final answer.
    fn resolve(
        &self,
        request_id: &str,
        resolution: Resolution,
        answer: &OrderAnswer,
    ) -> Result<(), JournalError> {
        let call = Call::Resolve {
            request_id: request_id.to_owned(),
            resolution,
            answer: answer.clone(),
            now_ms: self.clock.now().as_nanos() / 1_000_000,
        };
        match self.call(call)? {
            Reply::Intent(_) => Ok(()),
            other => Err(other.unexpected("a resolution")),
        }
    }
}

impl Drop for StoreJournal {
    fn drop(&mut self) {
        // The persister's `RowsWriter`s keep the channel open: say stop, then close it. The
        // thread ends its loop (rows still waiting are left to the persister's own store),
        // drops the file (this journal's share of it is let go first) and closes the store.
        drop(self.file.take());
        if let Some(calls) = self.calls.take() {
            let _ = calls.send(Message::Stop);
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!(target: "kestrel::exec", "the store journal's thread had panicked");
        }
    }
}

impl Journal for StoreJournal {
    fn begin(&self, intent: NewIntent) -> Result<Begun, JournalError> {
        match self.call(Call::Begin(intent))? {
            Reply::Begun(begun) => Ok(begun),
            other => Err(other.unexpected("begin")),
        }
    }

    /// A handle for the persister to have this journal's thread write its rows (module docs,
    /// "The persister's rows").
    fn rows_writer(&self) -> Option<RowsWriter> {
        Some(RowsWriter {
            messages: self.calls.clone()?,
            target: self.target.clone(),
        })
    }

    fn begin_sent(&self, intent: NewIntent, sent_at_ms: u64) -> Result<Begun, JournalError> {
        match self.call(Call::BeginSent { intent, sent_at_ms })? {
            Reply::Begun(begun) => Ok(begun),
            other => Err(other.unexpected("begin_sent")),
        }
    }

    fn mark_sent(&self, request_id: &str, sent_at_ms: u64) -> Result<Intent, JournalError> {
        let call = Call::MarkSent {
            request_id: request_id.to_owned(),
            sent_at_ms,
        };
        match self.call(call)? {
            Reply::Intent(intent) => Ok(intent),
            other => Err(other.unexpected("mark_sent")),
        }
    }

    fn record_ack(
        &self,
        request_id: &str,
        venue_order_id: u64,
        answer: &OrderAnswer,
    ) -> Result<(), JournalError> {
        self.resolve(request_id, Resolution::Ack(venue_order_id), answer)
    }

    fn record_rejection(&self, request_id: &str, answer: &OrderAnswer) -> Result<(), JournalError> {
        self.resolve(request_id, Resolution::Reject, answer)
    }

    fn resolve_failed(&self, request_id: &str, answer: &OrderAnswer) -> Result<(), JournalError> {
        self.resolve(request_id, Resolution::Fail, answer)
    }

    fn resolve_adopted(
        &self,
        request_id: &str,
        venue_order_id: u64,
        answer: &OrderAnswer,
    ) -> Result<(), JournalError> {
        self.resolve(request_id, Resolution::Adopt(venue_order_id), answer)
    }

    fn unresolved(&self) -> Result<Vec<Intent>, JournalError> {
        match self.call(Call::Unresolved)? {
            Reply::Intents(intents) => Ok(intents),
            other => Err(other.unexpected("unresolved")),
        }
    }

    fn next_sequence_block(&self, prefix: &str, size: u64) -> Result<u64, JournalError> {
        let call = Call::Sequence {
            prefix: prefix.to_owned(),
            size,
        };
        match self.call(call)? {
            Reply::First(first) => Ok(first),
            other => Err(other.unexpected("next_sequence_block")),
        }
    }
}

/// What the journal thread receives.
enum Message {
    /// A journal call: served before any rows waiting.
    Call(Request),
    /// The persister's rows: written when no journal call waits.
    Rows(RowsJob),
    /// The journal is being dropped.
    Stop,
}

/// Rows of the persister's for the store, and where the outcome goes.
struct RowsJob {
    rows: Rows,
    done: tokio::sync::oneshot::Sender<Result<u64, StoreError>>,
}

/// The persister's rows: orders to upsert (in batch order) or fills to insert (all or none).
#[derive(Debug, Clone)]
pub enum Rows {
    /// Order states; the outcome counts nothing.
    Orders(Vec<OrderRecord>),
    /// Fills; the outcome is how many were new.
    Fills(Vec<FillRecord>),
}

/// The persister's way to the journal thread ([`StoreJournal::rows_writer`]): its writes
/// then run on the thread that writes the journal, between journal calls, never ahead of one
/// that waits.
#[derive(Debug, Clone)]
pub struct RowsWriter {
    messages: mpsc::Sender<Message>,
    target: String,
}

impl RowsWriter {
    /// The database the journal writes to (the persister checks it is its own).
    #[must_use]
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Has the journal thread write `rows`; its outcome, or `None` when the journal has
    /// stopped (nothing was written then: write the rows another way).
    pub async fn write(&self, rows: Rows) -> Option<Result<u64, StoreError>> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        self.messages
            .send(Message::Rows(RowsJob { rows, done }))
            .ok()?;
        outcome.await.ok()
    }
}

/// One call and where its reply goes.
struct Request {
    call: Call,
    reply: mpsc::SyncSender<Result<Reply, JournalError>>,
}

/// What the journal thread is asked to do.
enum Call {
    Begin(NewIntent),
    BeginSent {
        intent: NewIntent,
        sent_at_ms: u64,
    },
    MarkSent {
        request_id: String,
        sent_at_ms: u64,
    },
    Resolve {
        request_id: String,
        resolution: Resolution,
        answer: OrderAnswer,
        now_ms: u64,
    },
    Unresolved,
    Sequence {
        prefix: String,
        size: u64,
    },
}

/// A final answer to record.
#[derive(Debug, Clone, Copy)]
enum Resolution {
    Ack(u64),
    Reject,
    Fail,
    Adopt(u64),
}

/// What the journal thread answers.
#[derive(Debug)]
enum Reply {
    Begun(Begun),
    Intent(Intent),
    Intents(Vec<Intent>),
    First(u64),
}

impl Reply {
    /// A reply of another kind than the call asked for (a bug, reported rather than panicked).
    fn unexpected(&self, call: &str) -> JournalError {
        storage(format!("store journal: the reply to {call} was {self:?}"))
    }
}

/// The journal thread: hands the caller the file on SQLite, then serves messages until the
/// journal is dropped.
fn serve(
    runtime: &Runtime,
    store: &Store,
    inbox: &mpsc::Receiver<Message>,
    file_to_caller: &mpsc::SyncSender<Option<Arc<Shared<'static>>>>,
) {
    match store.journal_file() {
        Ok(Some(file)) => {
            let shared = Arc::new(Shared::new(Backing::File(file)));
            let _ = file_to_caller.send(Some(Arc::clone(&shared)));
            serve_messages(&shared, inbox);
        }
        opened => {
            if let Err(error) = opened {
                tracing::warn!(
                    target: "kestrel::exec",
                    %error,
                    "the store journal cannot open its own SQLite connections; it writes \
                     through the store's pool, with an async driver between each call and the \
                     disk"
                );
            }
            let _ = file_to_caller.send(None);
            serve_messages(&Shared::new(Backing::Pool { runtime, store }), inbox);
        }
    }
}

/// How often an idle journal thread looks whether a checkpoint is due (calls made on the
/// callers' threads do not wake it).
const IDLE_CHECK: Duration = Duration::from_millis(100);

/// The journal thread's loop: calls (PostgreSQL), the persister's rows and, when idle,
/// checkpoints; until [`Message::Stop`] or every sender is gone.
fn serve_messages(shared: &Shared<'_>, inbox: &mpsc::Receiver<Message>) {
    // Rows wait here while journal calls are queued: an order's write is never behind them.
    let mut rows: VecDeque<RowsJob> = VecDeque::new();
    loop {
        let message = match inbox.try_recv() {
            Err(TryRecvError::Empty) if rows.is_empty() => {
                shared.when_no_caller(Worker::checkpoint_if_due);
                match inbox.recv_timeout(IDLE_CHECK) {
                    Ok(message) => Ok(message),
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => Err(TryRecvError::Disconnected),
                }
            }
            other => other,
        };
        match message {
            Ok(Message::Call(Request { call, reply })) => {
                // The caller waits for the reply; should it be gone, it is simply not read.
                let _ = reply.send(shared.call(call));
            }
            Ok(Message::Rows(job)) => rows.push_back(job),
            Ok(Message::Stop) | Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                if let Some(job) = rows.pop_front() {
                    let written = shared.when_no_caller(|worker| {
                        worker.writes += 1;
                        worker.rows(job.rows)
                    });
                    let _ = job.done.send(written);
                }
            }
        }
    }
}

/// The journal's state, shared by the callers (on SQLite) and the journal thread, with the
/// count of callers waiting for it: the thread's own work (rows, checkpoints) gives way to
/// them.
struct Shared<'a> {
    worker: Mutex<Worker<'a>>,
    callers: AtomicUsize,
}

impl<'a> Shared<'a> {
    fn new(backing: Backing<'a>) -> Self {
        Self {
            worker: Mutex::new(Worker {
                backing,
                client_ids: HashMap::new(),
                writes: 0,
            }),
            callers: AtomicUsize::new(0),
        }
    }

    /// Runs a journal call (waiting at most for the thread's work in hand).
    fn call(&self, call: Call) -> Result<Reply, JournalError> {
        self.callers.fetch_add(1, Ordering::AcqRel);
        let mut worker = self.worker.lock().unwrap_or_else(PoisonError::into_inner);
        self.callers.fetch_sub(1, Ordering::AcqRel);
        worker.writes += 1;
        worker.handle(call)
    }

    /// Runs the thread's own `work` once no caller waits.
    fn when_no_caller<R>(&self, work: impl FnOnce(&mut Worker<'a>) -> R) -> R {
        while self.callers.load(Ordering::Acquire) > 0 {
            std::thread::yield_now();
        }
        work(&mut self.worker.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Where the journal thread's calls go: straight to the SQLite file on this thread
/// ([`JournalFile`], no async driver between the call and the disk), or through the store's
/// own API on the thread's runtime (PostgreSQL).
enum Backing<'a> {
    File(JournalFile),
    Pool {
        runtime: &'a Runtime,
        store: &'a Store,
    },
}

/// Evaluates `$call` with `$journal` bound to the backing's journal, which has the same
/// methods either way: called as is on a file (which takes the store's write lock itself),
/// run to completion on the thread's runtime under the store's write lock on a pool.
macro_rules! on_journal {
    ($backing:expr, |$journal:ident| $call:expr) => {
        match $backing {
            Backing::File($journal) => $call,
            Backing::Pool {
                runtime,
                store: $journal,
            } => runtime.block_on(async {
                let _writing = $journal.write_lock().await;
                $call.await
            }),
        }
    };
}

/// The journal thread's state: the store and the client order ids of unresolved intents.
struct Worker<'a> {
    backing: Backing<'a>,
    /// Request id → client order id, of the intents seen unresolved.
    client_ids: HashMap<String, String>,
    /// Calls and row batches served since the last checkpoint.
    writes: u32,
}

/// Writes between two checkpoints of the journal's file (module docs, "Checkpoints"; each
/// write adds a few pages to the log).
const CHECKPOINT_EVERY_WRITES: u32 = 1_000;

impl Worker<'_> {
    fn handle(&mut self, call: Call) -> Result<Reply, JournalError> {
        match call {
            Call::Begin(intent) => self.begin(intent, None).map(Reply::Begun),
            Call::BeginSent { intent, sent_at_ms } => {
                self.begin(intent, Some(sent_at_ms)).map(Reply::Begun)
            }
            Call::MarkSent {
                request_id,
                sent_at_ms,
            } => self.mark_sent(&request_id, sent_at_ms).map(Reply::Intent),
            Call::Resolve {
                request_id,
                resolution,
                answer,
                now_ms,
            } => self
                .resolve(&request_id, resolution, &answer, now_ms)
                .map(Reply::Intent),
            Call::Unresolved => self.unresolved().map(Reply::Intents),
            Call::Sequence { prefix, size } => self.sequence(&prefix, size).map(Reply::First),
        }
    }

    /// Begins `new`, written as sent at `sent_at_ms` when given ([`Journal::begin_sent`]).
    fn begin(&mut self, new: NewIntent, sent_at_ms: Option<u64>) -> Result<Begun, JournalError> {
        if new.request.request_id != new.request_id {
            return Err(storage(format!(
                "store journal: intent {} carries a request with request id {}; the store keys \
                 an intent by its request's id, so they must be the same",
                new.request_id, new.request.request_id
            )));
        }
        let (request, id, at) = (&new.request, &new.client_order_id, new.created_at_ms);
        let begun = match sent_at_ms {
            None => on_journal!(&self.backing, |journal| journal
                .begin_intent(request, id, at)),
            Some(sent) => on_journal!(&self.backing, |journal| journal
                .begin_sent_intent(request, id, at, sent)),
        }
        .map_err(|e| journal_error(&new.request_id, e))?;
        let (is_new, stored) = match begun {
            Begin::New(stored) => (true, stored),
            Begin::Existing(stored) => (false, stored),
        };
        let intent = self.remember(stored)?;
        Ok(if is_new {
            Begun::New(intent)
        } else {
            Begun::Existing(intent)
        })
    }

    fn mark_sent(&mut self, request_id: &str, sent_at_ms: u64) -> Result<Intent, JournalError> {
        let id = self.client_id(request_id)?;
        let stored = on_journal!(&self.backing, |journal| journal.mark_sent(&id, sent_at_ms))
            .map_err(|e| journal_error(request_id, e))?;
        self.remember(stored)
    }

    fn resolve(
        &mut self,
        request_id: &str,
        resolution: Resolution,
        answer: &OrderAnswer,
        now_ms: u64,
    ) -> Result<Intent, JournalError> {
        let id = self.client_id(request_id)?;
        let stored = match resolution {
            Resolution::Ack(venue_id) => on_journal!(&self.backing, |journal| journal
                .record_ack(&id, venue_id, answer, now_ms)),
            Resolution::Reject => {
                let (code, reason) = (venue_code(answer), reason(answer));
                on_journal!(&self.backing, |journal| journal
                    .record_rejection(&id, code, &reason, answer, now_ms))
            }
            Resolution::Fail => {
                let reason = reason(answer);
                on_journal!(&self.backing, |journal| journal
                    .resolve_failed(&id, &reason, answer, now_ms))
            }
            Resolution::Adopt(venue_id) => on_journal!(&self.backing, |journal| journal
                .resolve_adopted(&id, venue_id, answer, now_ms)),
        }
        .map_err(|e| journal_error(request_id, e))?;
        self.remember(stored)
    }

    /// On a file, checkpoints the write-ahead log when enough writes have gone into it; called
    /// when no call waits (module docs of `kestrel_store::journal::file`'s `checkpoint`). A
    /// failure is logged: the log only grows until the next one.
    fn checkpoint_if_due(&mut self) {
        if self.writes < CHECKPOINT_EVERY_WRITES {
            return;
        }
        self.writes = 0;
        if let Backing::File(file) = &self.backing
            && let Err(error) = file.checkpoint()
        {
            tracing::warn!(target: "kestrel::exec", %error, "journal checkpoint failed");
        }
    }

    /// Writes the persister's rows (as the store's `upsert_orders` / `insert_fills`).
    fn rows(&self, rows: Rows) -> Result<u64, StoreError> {
        match rows {
            Rows::Orders(orders) => {
                let count = u64::try_from(orders.len()).unwrap_or(u64::MAX);
                on_journal!(&self.backing, |journal| journal.upsert_orders(&orders)).map(|()| count)
            }
            Rows::Fills(fills) => {
                on_journal!(&self.backing, |journal| journal.insert_fills(&fills))
            }
        }
    }

    fn unresolved(&mut self) -> Result<Vec<Intent>, JournalError> {
        let stored = on_journal!(&self.backing, |journal| journal.unresolved_intents())
            .map_err(|e| storage(e.to_string()))?;
        stored
            .into_iter()
            .map(|intent| self.remember(intent))
            .collect()
    }

    fn sequence(&self, prefix: &str, size: u64) -> Result<u64, JournalError> {
        // A block of zero would reserve nothing; the memory journal takes it as one.
        let size = size.max(1);
        match on_journal!(&self.backing, |journal| journal
            .next_client_sequence(prefix, size))
        {
            Ok(block) => Ok(block.start),
            Err(StoreError::SequenceExhausted { prefix, .. }) => {
                Err(JournalError::SequenceExhausted { prefix })
            }
            Err(e) => Err(storage(e.to_string())),
        }
    }

    /// The client order id of `request_id`, from memory or the store.
    fn client_id(&self, request_id: &str) -> Result<String, JournalError> {
        if let Some(id) = self.client_ids.get(request_id) {
            return Ok(id.clone());
        }
        match on_journal!(&self.backing, |journal| journal
            .intent_by_request_id(request_id))
        {
            Ok(Some(intent)) => Ok(intent.client_order_id),
            Ok(None) => Err(JournalError::Unknown {
                request_id: request_id.to_owned(),
            }),
            Err(e) => Err(journal_error(request_id, e)),
        }
    }

    /// Converts a stored intent, keeping its client order id while it is unresolved.
    fn remember(&mut self, stored: kestrel_store::Intent) -> Result<Intent, JournalError> {
        let intent = intent_from_store(stored)?;
        if intent.state.is_unresolved() {
            self.client_ids
                .insert(intent.request_id.clone(), intent.client_order_id.clone());
        } else {
            self.client_ids.remove(&intent.request_id);
        }
        Ok(intent)
    }
}

/// A stored intent as the port's [`Intent`], losing nothing the port holds.
///
/// # Errors
/// [`JournalError::Storage`] naming the intent when its stored answer is not an
/// [`OrderAnswer`] or its send count does not fit.
pub(crate) fn intent_from_store(stored: kestrel_store::Intent) -> Result<Intent, JournalError> {
    let request_id = stored.request_id.clone();
    let answer = stored.answer_as::<OrderAnswer>().map_err(|e| {
        storage(format!(
            "store journal: intent {request_id}: its stored answer is not an order answer: {e}"
        ))
    })?;
    let sends = u32::try_from(stored.attempts).map_err(|_| {
        storage(format!(
            "store journal: intent {request_id}: {} sends do not fit the port's count",
            stored.attempts
        ))
    })?;
    Ok(Intent {
        request_id: stored.request_id,
        client_order_id: stored.client_order_id,
        request: stored.request,
        state: state_from_store(stored.state),
        created_at_ms: stored.created_ms,
        sent_at_ms: stored.sent_ms,
        sends,
        venue_order_id: stored.venue_order_id,
        answer,
    })
}

/// The port's name for a stored state (the same six states).
const fn state_from_store(state: kestrel_store::IntentState) -> IntentState {
    use kestrel_store::IntentState as Stored;
    match state {
        Stored::Pending => IntentState::Pending,
        Stored::Sent => IntentState::Sent,
        Stored::Acknowledged => IntentState::Acknowledged,
        Stored::Rejected => IntentState::Rejected,
        Stored::Failed => IntentState::Failed,
        Stored::Adopted => IntentState::Adopted,
    }
}

/// A store error of a call about `request_id`, as the port's error.
fn journal_error(request_id: &str, error: StoreError) -> JournalError {
    match error {
        StoreError::IllegalTransition { from, to, .. } => JournalError::IllegalTransition {
            request_id: request_id.to_owned(),
            from: state_from_store(from),
            to: state_from_store(to),
        },
        StoreError::UnknownIntent { .. } => JournalError::Unknown {
            request_id: request_id.to_owned(),
        },
        StoreError::ClientOrderIdTaken {
            client_order_id,
            held_by,
            ..
        } => JournalError::ClientIdTaken {
            client_order_id,
            owner: held_by,
        },
        StoreError::SequenceExhausted { prefix, .. } => JournalError::SequenceExhausted { prefix },
        other => storage(other.to_string()),
    }
}

/// The venue's numeric code of a refusal, from the answer's documented `venue_{code}` form
/// ([`OrderAnswer::Rejected`]); `None` for a refusal of our own or one without a code.
fn venue_code(answer: &OrderAnswer) -> Option<i64> {
    answer.code()?.strip_prefix("venue_")?.parse().ok()
}

/// The store's `reason` of a refusal or failure: its code and message.
fn reason(answer: &OrderAnswer) -> String {
    match answer {
        OrderAnswer::Rejected { code, message, .. } | OrderAnswer::Failed { code, message, .. } => {
            format!("{code}: {message}")
        }
        OrderAnswer::Accepted { .. } => answer.to_string(),
    }
}

fn storage(detail: impl Into<String>) -> JournalError {
    JournalError::Storage {
        detail: detail.into(),
    }
}

fn stopped() -> JournalError {
    storage("store journal: its thread has stopped; no call can be served")
}

#[cfg(test)]
mod tests {
    use kestrel_model::order::{
        ExecutionMode, OrderRequest, OrderStatus, OrderType, PositionSide, Side, TimeInForce,
        WorkingType,
    };
    use kestrel_model::{Price, Qty};

    use super::*;
    use crate::journal::check_move;

    fn stored(answer: Option<serde_json::Value>) -> kestrel_store::Intent {
        kestrel_store::Intent {
            request_id: "r1".to_owned(),
            client_order_id: "k.1-7".to_owned(),
            symbol: "BTCUSDT".to_owned(),
            request: OrderRequest {
                request_id: "r1".to_owned(),
                symbol: "BTCUSDT".to_owned(),
                side: Side::Sell,
                order_type: OrderType::Limit,
                time_in_force: Some(TimeInForce::Gtx),
                price: Some(Price::MAX),
                quantity: Qty::EPSILON,
                stop_price: None,
                reduce_only: true,
                close_position: false,
                position_side: PositionSide::Short,
                client_order_id: Some("k.1-7".to_owned()),
                execution_mode: ExecutionMode::Live,
                working_type: WorkingType::MarkPrice,
                callback_rate: None,
                activation_price: None,
            },
            state: kestrel_store::IntentState::Adopted,
            venue_order_id: Some(77),
            reject_code: None,
            reason: None,
            answer,
            attempts: 3,
            created_ms: 1_000,
            updated_ms: 3_000,
            sent_ms: Some(2_000),
        }
    }

    #[test]
    fn a_stored_intent_converts_without_losing_a_field() {
        let answer = OrderAnswer::Accepted {
            request_id: "r1".to_owned(),
            client_order_id: "k.1-7".to_owned(),
            venue_order_id: 77,
            status: OrderStatus::PartiallyFilled,
            adopted: true,
        };
        let json = serde_json::to_value(&answer).unwrap();
        let stored = stored(Some(json));
        let intent = intent_from_store(stored.clone()).unwrap();
        assert_eq!(
            intent,
            Intent {
                request_id: stored.request_id,
                client_order_id: stored.client_order_id,
                request: stored.request,
                state: IntentState::Adopted,
                created_at_ms: 1_000,
                sent_at_ms: Some(2_000),
                sends: 3,
                venue_order_id: Some(77),
                answer: Some(answer),
            }
        );
    }

    #[test]
    fn a_stored_answer_that_is_not_an_order_answer_is_a_storage_error_naming_the_intent() {
        let stored = stored(Some(serde_json::json!({ "result": "maybe" })));
        let Err(JournalError::Storage { detail }) = intent_from_store(stored) else {
            panic!("expected a storage error");
        };
        assert!(detail.contains("intent r1"), "{detail}");
        assert!(detail.contains("not an order answer"), "{detail}");
    }

    #[test]
    fn store_errors_map_to_the_ports_own_variants() {
        use kestrel_store::IntentState as Stored;
        let moved = journal_error(
            "r1",
            StoreError::IllegalTransition {
                client_order_id: "k.1-7".to_owned(),
                from: Stored::Failed,
                to: Stored::Sent,
            },
        );
        let expected = JournalError::IllegalTransition {
            request_id: "r1".to_owned(),
            from: IntentState::Failed,
            to: IntentState::Sent,
        };
        assert_eq!(moved, expected);
        let taken = journal_error(
            "r2",
            StoreError::ClientOrderIdTaken {
                client_order_id: "k.1-7".to_owned(),
                request_id: "r2".to_owned(),
                held_by: "r1".to_owned(),
            },
        );
        let expected = JournalError::ClientIdTaken {
            client_order_id: "k.1-7".to_owned(),
            owner: "r1".to_owned(),
        };
        assert_eq!(taken, expected);
        let unknown = StoreError::UnknownIntent {
            key: "client order id",
            value: "k.1-7".to_owned(),
        };
        assert_eq!(
            journal_error("r3", unknown),
            JournalError::Unknown {
                request_id: "r3".to_owned()
            }
        );
        let other = StoreError::MissingPostgresUrl;
        let message = other.to_string();
        assert_eq!(
            journal_error("r4", other),
            JournalError::Storage { detail: message }
        );
    }

    #[test]
    fn the_store_applies_the_ports_move_table() {
        use kestrel_store::IntentState as Stored;
        for from in Stored::ALL {
            for to in Stored::ALL {
                let port = check_move("r", state_from_store(from), state_from_store(to)).is_ok();
                assert_eq!(from.can_become(to), port, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn a_refusal_keeps_the_venues_numeric_code_when_it_gave_one() {
        let refusal = |code: &str| OrderAnswer::Rejected {
            request_id: "r".to_owned(),
            client_order_id: None,
            code: code.to_owned(),
            message: "no".to_owned(),
        };
        assert_eq!(venue_code(&refusal("venue_-2019")), Some(-2019));
        assert_eq!(venue_code(&refusal("venue_rejected")), None);
        assert_eq!(venue_code(&refusal("price_band")), None);
        assert_eq!(reason(&refusal("price_band")), "price_band: no");
    }
}
