//! One statement in both SQL dialects, and [`on_backend!`] to run it with the same binds and
//! decoding on either pool.
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
