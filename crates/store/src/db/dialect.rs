//! One statement in both SQL dialects, [`on_backend!`] to run it with the same binds and
//! decoding on either pool, and [`durably!`] to run it with a commit that reaches the disk
//! before it returns.
//!
//! Both backends take `$n` placeholders (SQLite reads `$NNN` as parameter NNN), so a statement
//! differs only where PostgreSQL needs a cast: money bound as text into NUMERIC (`$n::numeric`)
//! and read back as text (`price::text AS price`), JSON into JSONB (`$n::jsonb`, `::text`).
//! Keeping the two texts of a statement in one [`Sql`] value keeps them side by side.

/// The text of one statement for each backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sql {
    /// The SQLite text.
    pub sqlite: &'static str,
    /// The PostgreSQL text.
    pub postgres: &'static str,
}

impl Sql {
    /// A statement whose text is the same on both backends.
    pub const fn both(text: &'static str) -> Self {
        Self {
            sqlite: text,
            postgres: text,
        }
    }
}

/// What a multi-row INSERT does differently on each backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch {
    /// The most bind parameters one statement may carry: an INSERT is split so that no
    /// statement binds more.
    pub max_bind_params: usize,
    /// Follows a money value bound as text.
    pub numeric: &'static str,
    /// Follows a JSON value bound as text.
    pub jsonb: &'static str,
}

/// SQLite stores the bound text as it is. Its bind limit is the default
/// `SQLITE_MAX_VARIABLE_NUMBER` since 3.32 (the bundled library is newer).
pub(crate) const SQLITE_BATCH: Batch = Batch {
    max_bind_params: 32_766,
    numeric: "",
    jsonb: "",
};

/// PostgreSQL casts the bound text into its column's type. Its bind limit is the protocol's
/// (a 16-bit count of parameters per statement).
pub(crate) const POSTGRES_BATCH: Batch = Batch {
    max_bind_params: 65_535,
    numeric: "::numeric",
    jsonb: "::jsonb",
};

/// Evaluates `$run` on the store's backend, with `$pool` bound to its pool and `$sql` to that
/// backend's text of the [`Sql`] statement `$stmt`. The block is expanded once per backend, so
/// one piece of binding and decoding code serves both drivers' types.
macro_rules! on_backend {
    ($store:expr, $sql:ident = $stmt:expr, |$pool:ident| $run:expr) => {
        match &$store.pool {
            $crate::db::Pool::Sqlite($pool) => {
                let $sql: &'static str = $stmt.sqlite;
                $run
            }
            $crate::db::Pool::Postgres($pool) => {
                let $sql: &'static str = $stmt.postgres;
                $run
            }
        }
    };
}

pub(crate) use on_backend;

/// Like [`on_backend!`], but the statement commits durably whatever the pool's default
/// (`crate::db`, "Durability"): on SQLite it runs on the store's flushing connection
/// (`synchronous = FULL`), on PostgreSQL in a transaction with `synchronous_commit = on`.
/// `$conn` is bound to the connection (or transaction) to run `$run` on; evaluates to the
/// statement's `Result<_, sqlx::Error>`.
macro_rules! durably {
    ($store:expr, $stmt:expr, |$sql:ident, $conn:ident| $run:expr) => {
        async {
            match &$store.pool {
                $crate::db::Pool::Sqlite(_) => {
                    // Always there for SQLite (`Store::sqlite`).
                    let $conn = $store.flushing.as_ref().ok_or(sqlx::Error::PoolClosed)?;
                    let $sql: &'static str = $stmt.sqlite;
                    $run
                }
                $crate::db::Pool::Postgres(pool) => {
                    let mut transaction = pool.begin().await?;
                    sqlx::query("SET LOCAL synchronous_commit = on")
                        .execute(&mut *transaction)
                        .await?;
                    let outcome = {
                        let $sql: &'static str = $stmt.postgres;
                        let $conn = &mut *transaction;
                        $run
                    }?;
                    transaction.commit().await?;
                    Ok(outcome)
                }
            }
        }
        .await
    };
}

pub(crate) use durably;
