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
//! Both take the store's write lock around each write ([`Store::write_lock`]), so on SQLite
//! they never meet in the database's busy handler.

use std::io;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use kestrel_model::config::StoreConfig;
use kestrel_store::{Store, StoreError};
use tokio::runtime::Runtime;

/// How long a store thread waits for its connections to close when it ends.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

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
/// and, once open, runs `serve` there with the runtime and the store; when `serve` returns the
/// store is closed and the thread ends. Returns once the store is open, with the thread and
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
    F: FnOnce(&Runtime, &Store) + Send + 'static,
{
    let config = config.clone();
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
            serve(&runtime, &store);
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
