//! The write lock of a SQLite file: every store open on the file in this process shares it,
//! so their writers queue on it instead of meeting in SQLite's busy handler; another file's
//! stores do not wait for it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kestrel_store::Store;

/// How long a lock that should be free or taken is waited for.
const WAIT: Duration = Duration::from_millis(200);

#[tokio::test]
async fn stores_on_one_sqlite_file_share_its_write_lock_and_other_files_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::sqlite(dir.path().join("a.sqlite")).await.unwrap();
    let second = Store::sqlite(dir.path().join("a.sqlite")).await.unwrap();
    let other = Store::sqlite(dir.path().join("b.sqlite")).await.unwrap();

    let held = first.write_lock().await;
    assert!(
        tokio::time::timeout(WAIT, second.write_lock())
            .await
            .is_err(),
        "a second store on the same file took the lock while the first held it"
    );
    assert!(
        tokio::time::timeout(WAIT, other.write_lock()).await.is_ok(),
        "a store on another file waited for this file's lock"
    );
    drop(held);
    assert!(
        tokio::time::timeout(WAIT, second.write_lock())
            .await
            .is_ok(),
        "the lock was not handed on once released"
    );
}
