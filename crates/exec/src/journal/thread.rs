//! A thread with a tokio runtime and a [`Store`] of its own: where the journal
//! ([`super::StoreJournal`]) and the persister ([`crate::persist`]) do their database work.
//!
//! Both are fed by the driver from tokio worker threads that may block — on the journal's
//! reply, on the engine's mutex. Database work driven by those workers' runtime could then stall
//! with it: a write-ahead call would wait for I/O nobody polls, and on SQLite a half-done write
//! transaction would hold the database's one write lock while the journal waits for it. On a
//! thread of their own, the journal's and the persister's writes always progress, whatever the
//! caller's runtime is doing.
//!
//! # One writer at a time per SQLite file
//!
//! SQLite lets one connection write at a time; a second writer meets a lock and waits in
//! SQLite's busy handler, which sleeps for a millisecond or more before it looks again. The
//! journal and the persister write the same file from their two threads, so each such meeting
//! would add a millisecond to an order's way to the venue. Instead, every store thread on one
//! SQLite file shares a [`WriteGate`] (a fair async lock) and takes it around each write: a
//! journal write waits only for the write in hand, and is woken the moment it ends. (A
//! PostgreSQL store locks rows, not the database, and gets a gate of its own.)

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use kestrel_model::config::{StoreBackend, StoreConfig};
use kestrel_store::{Store, StoreError};
use tokio::runtime::Runtime;

/// How long a store thread waits for its connections to close when it ends.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The lock the store threads writing one SQLite file take around each write (module docs).
pub(crate) type WriteGate = Arc<tokio::sync::Mutex<()>>;

/// The gates of the SQLite files store threads write now, by path.
static GATES: LazyLock<Mutex<HashMap<PathBuf, Weak<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The gate of the store `config` describes: shared with every other live store thread on
/// the same SQLite file, a fresh one for PostgreSQL.
fn write_gate(config: &StoreConfig) -> WriteGate {
    if config.backend != StoreBackend::Sqlite {
        return WriteGate::default();
    }
    let path = config.sqlite_file();
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let mut gates = GATES.lock().unwrap_or_else(PoisonError::into_inner);
    gates.retain(|_, gate| gate.strong_count() > 0);
    if let Some(gate) = gates.get(&path).and_then(Weak::upgrade) {
        return gate;
    }
    let gate = WriteGate::default();
    gates.insert(path, Arc::downgrade(&gate));
    gate
}

/// Why a store thread could not start.
#[derive(Debug, thiserror::Error)]
pub enum StoreThreadError {
    /// The thread could not be spawned.
    #[error("cannot start its thread {name}: {source}")]
    Thread {
        /// The thread's name.
        name: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The thread's runtime could not be built.
    #[error("cannot build the runtime of its thread {name}: {source}")]
    Runtime {
        /// The thread's name.
        name: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The store could not be opened (the store's message names the database).
    #[error("cannot open the store: {0}")]
    Open(#[source] StoreError),
    /// The thread ended before saying whether the store opened (it panicked).
    #[error("its thread {name} stopped while opening the store")]
    Stopped {
        /// The thread's name.
        name: &'static str,
    },
}

/// Starts thread `name`, opens the store `config` describes on its own current-thread runtime
/// and, once open, runs `serve` there with the runtime, the store and the file's
/// [`WriteGate`] (to take around each write); when `serve` returns the store is closed and
/// the thread ends. Returns once the store is open, with the thread and
/// the store's target (for messages).
///
/// # Errors
/// [`StoreThreadError`], naming what failed; the thread has ended then.
pub(crate) fn spawn_store_thread<F>(
    name: &'static str,
    config: &StoreConfig,
    serve: F,
) -> Result<(JoinHandle<()>, String), StoreThreadError>
where
    F: FnOnce(&Runtime, &Store, WriteGate) + Send + 'static,
{
    let config = config.clone();
    let gate = write_gate(&config);
    let (ready, opened) = mpsc::sync_channel(1);
    let thread = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|source| StoreThreadError::Runtime { name, source });
            let opened = runtime.and_then(|runtime| {
                let store = runtime
                    .block_on(Store::open(&config))
                    .map_err(StoreThreadError::Open)?;
                Ok((runtime, store))
            });
            let (runtime, store) = match opened {
                Ok(open) => open,
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
            let _ = ready.send(Ok(store.target().to_owned()));
            serve(&runtime, &store, gate);
            runtime.block_on(async {
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, store.close()).await;
            });
        })
        .map_err(|source| StoreThreadError::Thread { name, source })?;
    let outcome = opened
        .recv()
        .unwrap_or(Err(StoreThreadError::Stopped { name }));
    match outcome {
        Ok(target) => Ok((thread, target)),
        Err(error) => {
            let _ = thread.join();
            Err(error)
        }
    }
}
