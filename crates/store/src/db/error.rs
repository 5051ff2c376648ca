//! [`StoreError`]: everything that can go wrong opening, migrating, writing or reading the store.

use std::path::PathBuf;

use sqlx::migrate::MigrateError;

use crate::journal::IntentState;

/// Why a store operation failed. Messages say what was expected, what was found, and where; a
/// PostgreSQL target is named by host, port and database, never by its URL (which may hold a
/// password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The directory for the SQLite file could not be created.
    #[error("store: cannot create the directory {path} for the SQLite file: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The backend is PostgreSQL but no URL is configured.
    #[error(
        "store: store.backend is \"postgres\" but store.postgres_url is not set; set \
         KESTREL_STORE__POSTGRES_URL or put it in the secrets file"
    )]
    MissingPostgresUrl,
    /// The database could not be opened or reached.
    #[error("store: cannot connect to {target}: {source}")]
    Connect {
        /// The database (SQLite path or `postgres host:port/db`).
        target: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The database holds migrations this build does not know: a newer Kestrel wrote it.
    #[error(
        "store: the {backend} database {target} has schema version(s) {unknown:?} applied, which \
         this build of Kestrel does not know (it knows versions up to {newest_known}); it was \
         written by a newer Kestrel: run that version, or point this one at another database"
    )]
    SchemaTooNew {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The database (SQLite path or `postgres host:port/db`).
        target: String,
        /// The applied versions this build does not know, ascending.
        unknown: Vec<i64>,
        /// The newest migration version this build knows.
        newest_known: i64,
    },
    /// Running the migrations failed (including a known migration whose SQL was changed after
    /// it was applied, or one left half-applied).
    #[error("store: migrating the {backend} database {target} failed: {source}")]
    Migrate {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The database (SQLite path or `postgres host:port/db`).
        target: String,
        /// sqlx's migration error.
        source: MigrateError,
    },
    /// A query failed.
    #[error("store: {operation} failed: {source}")]
    Query {
        /// What was being done (`insert trades`, `read the latest snapshot`, ...).
        operation: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A statement of the synchronous journal ([`crate::journal::JournalFile`]) failed.
    #[error("store: {operation} on {target} failed: {source}")]
    Sqlite {
        /// What was being done.
        operation: &'static str,
        /// The SQLite file.
        target: std::sync::Arc<str>,
        /// rusqlite's error.
        source: rusqlite::Error,
    },
    /// An unsigned value does not fit the database's signed 64-bit integer columns.
    #[error(
        "store: {field} {value} does not fit a signed 64-bit database integer (largest {max})",
        max = i64::MAX
    )]
    OutOfRange {
        /// The field (`trade_id`, `received_wall_ns`, ...).
        field: &'static str,
        /// The value found.
        value: u64,
    },
    /// A stored value could not be decoded: the row was not written by Kestrel or was altered.
    #[error("store: {table}.{column} holds {value:?}, expected {expected}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The stored value, as text.
        value: String,
        /// What a valid value looks like, and why this one is not.
        expected: String,
    },
    /// A document could not be written as JSON (its `Serialize` implementation failed).
    #[error("store: cannot write {what} as JSON: {source}")]
    Encode {
        /// What was being written (`the order request`, `the answer`).
        what: &'static str,
        /// serde_json's error.
        source: serde_json::Error,
    },
    /// An order intent is not in a state the requested move may start from
    /// ([`IntentState::can_become`]); nothing was changed.
    #[error(
        "store: order intent {client_order_id} is {from}; it cannot become {to} (only an intent \
         that is {allowed} can)",
        allowed = IntentState::sources_text(*to)
    )]
    IllegalTransition {
        /// The intent's client order id.
        client_order_id: String,
        /// Its state when the move was refused.
        from: IntentState,
        /// The state asked for.
        to: IntentState,
    },
    /// No order intent has this key.
    #[error("store: no order intent has {key} {value:?}")]
    UnknownIntent {
        /// `client order id` or `request id`.
        key: &'static str,
        /// The key looked for.
        value: String,
    },
    /// A new intent's client order id is already bound to another request id; nothing was
    /// written.
    #[error(
        "store: client order id {client_order_id:?} already belongs to request {held_by:?}; \
         request {request_id:?} needs an id of its own"
    )]
    ClientOrderIdTaken {
        /// The client order id asked for.
        client_order_id: String,
        /// The request that asked for it.
        request_id: String,
        /// The request it is journaled under.
        held_by: String,
    },
    /// Reserving more client order id sequence numbers would pass the largest the database
    /// holds (`i64::MAX`); nothing was reserved.
    #[error(
        "store: reserving {requested} more client order id sequence numbers for prefix \
         {prefix:?} would pass {max}; use a new prefix",
        max = i64::MAX
    )]
    SequenceExhausted {
        /// The prefix.
        prefix: String,
        /// How many numbers were asked for.
        requested: u64,
    },
    /// A sum of stored amounts does not fit its type.
    #[error("store: the sum of {what} overflows: {source}")]
    Overflow {
        /// What was being summed (`fills.qty of order X`).
        what: String,
        /// The money error.
        source: kestrel_model::MoneyError,
    },
}

impl StoreError {
    /// Wraps a driver error from `operation`.
    pub(crate) fn query(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Query { operation, source }
    }
}
