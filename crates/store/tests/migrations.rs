#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Opening a store: from the config, migrations applied once, and a schema written by a newer
//! Kestrel refused by name and version on both backends.

mod common;

use common::{stores, trade};
use kestrel_model::config::{Secret, StoreBackend, StoreConfig};
use kestrel_store::{Store, StoreError};
use kestrel_testkit::db::PgSchema;

#[tokio::test]
async fn reopening_keeps_the_data_and_applies_each_migration_once() {
    for ts in stores("reopen").await {
        ts.store
            .insert_trades(&[trade("BTCUSDT", 1, 1)])
            .await
            .unwrap();
        let known = ts.store.known_schema_version();
        assert!(known >= 1);
        assert_eq!(ts.store.schema_version().await.unwrap(), known);
        ts.store.close().await;

        for _ in 0..2 {
            let reopened = ts.reopen().await.unwrap();
            assert_eq!(
                reopened.schema_version().await.unwrap(),
                known,
                "{}",
                ts.label
            );
            assert_eq!(
                reopened.count_trades(None).await.unwrap(),
                1,
                "{}",
                ts.label
            );
            reopened.close().await;
        }
        let applied = ts
            .query_text("SELECT CAST(COUNT(*) AS TEXT) FROM _sqlx_migrations")
            .await;
        let versions = ts
            .query_text("SELECT CAST(COUNT(DISTINCT version) AS TEXT) FROM _sqlx_migrations")
            .await;
        assert_eq!(applied, versions, "{}: a migration ran twice", ts.label);
    }
}

#[tokio::test]
async fn a_schema_from_a_newer_kestrel_is_refused_naming_the_versions() {
    for ts in stores("newer_schema").await {
        ts.store
            .insert_trades(&[trade("BTCUSDT", 1, 1)])
            .await
            .unwrap();
        let known = ts.store.known_schema_version();
        ts.store.close().await;
        let future = known + 1;
        ts.execute(&format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES ({future}, 'from a newer kestrel', TRUE, '', 0)"
        ))
        .await;

        let err = ts.reopen().await.unwrap_err();
        let StoreError::SchemaTooNew {
            backend,
            unknown,
            newest_known,
            ..
        } = &err
        else {
            panic!("{}: expected SchemaTooNew, got {err}", ts.label);
        };
        assert_eq!(*backend, ts.label);
        assert_eq!(unknown, &[future]);
        assert_eq!(*newest_known, known);
        let message = err.to_string();
        assert!(message.contains(&format!("[{future}]")), "{message}");
        assert!(message.contains(&format!("up to {known}")), "{message}");
        assert!(message.contains("newer Kestrel"), "{message}");

        // Refused, not touched: the rows and the foreign migration are still there.
        let rows = ts
            .query_text("SELECT CAST(COUNT(*) AS TEXT) FROM trades")
            .await;
        assert_eq!(rows, "1", "{}", ts.label);
    }
}

#[tokio::test]
async fn opening_from_the_default_config_creates_the_data_dir_and_a_wal_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        data_dir: dir.path().join("nested").join("data"),
        ..StoreConfig::default()
    };
    let store = Store::open(&config).await.unwrap();
    assert_eq!(store.backend(), StoreBackend::Sqlite);
    let file = config.sqlite_file();
    assert!(file.is_file(), "{} was not created", file.display());
    assert_eq!(store.target(), file.display().to_string());
    store
        .insert_trades(&[trade("BTCUSDT", 1, 1)])
        .await
        .unwrap();
    store.close().await;

    // WAL is a property of the file: a plain connection sees it.
    use sqlx::Connection;
    let url = format!("sqlite://{}", file.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_postgres_backend_without_a_url_is_refused_clearly() {
    let config = StoreConfig {
        backend: StoreBackend::Postgres,
        ..StoreConfig::default()
    };
    let err = Store::open(&config).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingPostgresUrl), "{err}");
    assert!(
        err.to_string().contains("KESTREL_STORE__POSTGRES_URL"),
        "{err}"
    );
}

#[tokio::test]
async fn opening_from_a_postgres_config_uses_the_secret_url() {
    let Some(schema) = PgSchema::create("config_postgres").await else {
        return;
    };
    let config = StoreConfig {
        backend: StoreBackend::Postgres,
        postgres_url: Some(Secret::new(schema.url())),
        ..StoreConfig::default()
    };
    let store = Store::open(&config).await.unwrap();
    assert_eq!(store.backend(), StoreBackend::Postgres);
    assert!(
        store.target().starts_with("postgres "),
        "{}",
        store.target()
    );
    store
        .insert_trades(&[trade("BTCUSDT", 1, 1)])
        .await
        .unwrap();
    assert_eq!(store.count_trades(None).await.unwrap(), 1);
    store.close().await;

    // The tables went to the schema on the URL's search_path, nowhere else.
    let again = Store::postgres_with(schema.options()).await.unwrap();
    assert_eq!(again.count_trades(None).await.unwrap(), 1);
    again.close().await;
}

#[tokio::test]
async fn an_unreachable_or_malformed_postgres_url_is_an_error_that_hides_the_password() {
    let err = Store::postgres("postgres://kestrel:hunter2@[not a host")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Connect { .. }), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

/// `table.column` for every column of Kestrel's tables, sorted.
async fn columns(ts: &common::TestStore) -> Vec<String> {
    let sql = match ts.label {
        "sqlite" => {
            "SELECT group_concat(m.name || '.' || p.name, ',') FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             AND m.name <> '_sqlx_migrations'"
        }
        _ => {
            "SELECT string_agg(table_name || '.' || column_name, ',') \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'"
        }
    };
    let mut columns: Vec<String> = ts
        .query_text(sql)
        .await
        .split(',')
        .map(String::from)
        .collect();
    columns.sort();
    columns
}

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let stores = stores("same_columns").await;
    let mut seen = Vec::new();
    for ts in &stores {
        seen.push((ts.label, columns(ts).await));
    }
    for (label, columns) in &seen {
        for table in [
            "order_intents",
            "client_order_sequences",
            "orders",
            "fills",
            "trades",
        ] {
            assert!(
                columns.iter().any(|c| c.starts_with(&format!("{table}."))),
                "{label}: no table {table}"
            );
        }
        assert_eq!(columns, &seen[0].1, "{label} differs from {}", seen[0].0);
    }
}
