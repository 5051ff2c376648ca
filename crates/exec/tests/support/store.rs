//! The store side of the driver's tests: a database of the test's own on every available backend
//! (`kestrel_testkit::db`: SQLite in a temporary directory, and a PostgreSQL schema when the
//! server answers), a store journal and a store on it, and a driver that persists to it.

use std::sync::Arc;
use std::time::Duration;

use kestrel_exec::driver::{DriverConfig, ExecDriver, SystemClock};
use kestrel_exec::journal::StoreJournal;
use kestrel_exec::persist::{PersistConfig, PersistCounts};
use kestrel_model::config::ExecutionConfig;
use kestrel_sim::server::RunningSim;
use kestrel_store::Store;
pub use kestrel_testkit::db::TestDatabase;

use super::{PATIENCE, driver_config, engine};

/// A store journal on `db`, stamping moves with the live clock.
pub fn journal(db: &TestDatabase) -> StoreJournal {
    StoreJournal::open(&db.store_config(), Arc::new(SystemClock::new()))
        .unwrap_or_else(|e| panic!("{}: the store journal opens: {e}", db.label()))
}

/// A store on `db`, opened on the calling runtime.
pub async fn store(db: &TestDatabase) -> Store {
    Store::open(&db.store_config())
        .await
        .unwrap_or_else(|e| panic!("{}: the store opens: {e}", db.label()))
}

/// Persister settings with retries short enough for tests.
pub fn persist_config() -> PersistConfig {
    PersistConfig {
        retry_min: Duration::from_millis(10),
        retry_max: Duration::from_millis(100),
        ..PersistConfig::default()
    }
}

/// Starts a driver journaling to and persisting into `db`, with client ids `{prefix}-{n}`.
pub async fn start_persisted(
    sim: &RunningSim,
    execution: &ExecutionConfig,
    db: &TestDatabase,
    prefix: &str,
    tweak: impl FnOnce(&mut DriverConfig),
) -> ExecDriver<StoreJournal> {
    let engine = engine(execution, journal(db), prefix);
    let mut config = driver_config(sim, execution);
    tweak(&mut config);
    ExecDriver::start_persisted(config, engine, &db.store_config(), persist_config())
        .await
        .unwrap_or_else(|e| panic!("{}: the persisted driver starts: {e}", db.label()))
}

/// Waits until the driver's persister has written everything handed to it so far.
pub async fn wait_persisted(driver: &ExecDriver<StoreJournal>) -> PersistCounts {
    let waiting = async {
        loop {
            let counts = driver.persist_counts().expect("a persisting driver");
            if counts.pending == 0 {
                return counts;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(PATIENCE, waiting)
        .await
        .expect("the persister caught up in time")
}
