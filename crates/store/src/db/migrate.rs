//! Versioned migrations, embedded at compile time and run when a store opens.
//!
//! Each backend has its own directory (`migrations/sqlite`, `migrations/postgres`) because the
//! dialects differ (TEXT vs NUMERIC money, STRICT tables, JSONB); both hold the same versions
//! with the same logical schema, which a test checks. sqlx records applied versions in
//! `_sqlx_migrations` (in the first schema of PostgreSQL's `search_path`).
//!
//! Before migrating, the applied versions are compared with the ones this build knows: a
//! version it does not know was written by a newer Kestrel, whose schema this build cannot be
//! trusted to read or write, so the database is refused with [`StoreError::SchemaTooNew`]
//! instead of being used or "repaired".

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{PgPool, SqlitePool};

use super::StoreError;

/// The SQLite migrations.
pub(crate) static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
/// The PostgreSQL migrations.
pub(crate) static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The newest version a migrator knows (0 when it has none).
pub(crate) fn newest_known(migrator: &Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Applied versions that `migrator` does not know, ascending.
fn unknown_versions(migrator: &Migrator, applied: &[i64]) -> Vec<i64> {
    let mut unknown: Vec<i64> = applied
        .iter()
        .copied()
        .filter(|v| !migrator.version_exists(*v))
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    unknown
}

/// Refuses a newer schema, then applies the migrations this build knows and the database lacks.
pub(crate) async fn run_sqlite(pool: &SqlitePool, target: &str) -> Result<(), StoreError> {
    let applied = sqlite_applied(pool).await?;
    refuse_newer("sqlite", target, &SQLITE, &applied)?;
    SQLITE
        .run(pool)
        .await
        .map_err(|e| migrate_error("sqlite", target, &SQLITE, e))
}

/// Refuses a newer schema, then applies the migrations this build knows and the database lacks.
pub(crate) async fn run_postgres(pool: &PgPool, target: &str) -> Result<(), StoreError> {
    let applied = postgres_applied(pool).await?;
    refuse_newer("postgres", target, &POSTGRES, &applied)?;
    POSTGRES
        .run(pool)
        .await
        .map_err(|e| migrate_error("postgres", target, &POSTGRES, e))
}

/// The successfully applied versions of a SQLite database (none before the first migration).
pub(crate) async fn sqlite_applied(pool: &SqlitePool) -> Result<Vec<i64>, StoreError> {
    let has_table: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master \
         WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await
    .map_err(StoreError::query("read the applied migrations"))?;
    if !has_table {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .map_err(StoreError::query("read the applied migrations"))
}

/// The successfully applied versions of a PostgreSQL database, in the schema `search_path`
/// resolves `_sqlx_migrations` to (none before the first migration).
pub(crate) async fn postgres_applied(pool: &PgPool) -> Result<Vec<i64>, StoreError> {
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(StoreError::query("read the applied migrations"))?;
    if !has_table {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .map_err(StoreError::query("read the applied migrations"))
}

fn refuse_newer(
    backend: &'static str,
    target: &str,
    migrator: &Migrator,
    applied: &[i64],
) -> Result<(), StoreError> {
    let unknown = unknown_versions(migrator, applied);
    if unknown.is_empty() {
        return Ok(());
    }
    Err(StoreError::SchemaTooNew {
        backend,
        target: target.to_owned(),
        unknown,
        newest_known: newest_known(migrator),
    })
}

/// sqlx's error, except that a version it finds missing (another process migrated between our
/// check and the run) is the same newer-schema refusal.
fn migrate_error(
    backend: &'static str,
    target: &str,
    migrator: &Migrator,
    error: MigrateError,
) -> StoreError {
    match error {
        MigrateError::VersionMissing(version) => StoreError::SchemaTooNew {
            backend,
            target: target.to_owned(),
            unknown: vec![version],
            newest_known: newest_known(migrator),
        },
        source => StoreError::Migrate {
            backend,
            target: target.to_owned(),
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(migrator: &Migrator) -> Vec<(i64, String)> {
        migrator
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        assert!(!versions(&SQLITE).is_empty());
        assert_eq!(versions(&SQLITE), versions(&POSTGRES));
        assert_eq!(newest_known(&SQLITE), newest_known(&POSTGRES));
    }

    #[test]
    fn only_versions_this_build_does_not_know_are_unknown() {
        let newest = newest_known(&SQLITE);
        assert_eq!(unknown_versions(&SQLITE, &[1]), Vec::<i64>::new());
        assert_eq!(
            unknown_versions(&SQLITE, &[newest + 7, 1, newest + 2]),
            vec![newest + 2, newest + 7]
        );
    }

    #[test]
    fn a_newer_schema_error_names_the_unknown_and_known_versions() {
        let err = refuse_newer("sqlite", "/tmp/k.sqlite", &SQLITE, &[1, 99]);
        let Err(err) = err else {
            unreachable!("99 is not a known version");
        };
        let text = err.to_string();
        assert!(text.contains("[99]"), "{text}");
        assert!(
            text.contains(&format!("up to {}", newest_known(&SQLITE))),
            "{text}"
        );
        assert!(text.contains("/tmp/k.sqlite"), "{text}");
    }
}
