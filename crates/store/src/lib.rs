//! Kestrel's persistence: SQLite by default, PostgreSQL when configured, with versioned
//! migrations run at start-up (ARCHITECTURE.md, Persistence).
//!
//! # Layout
//!
//! - [`db`]: the [`Store`] (a pool on one backend, opened from
//!   [`StoreConfig`](kestrel_model::config::StoreConfig) or directly), its migrations and
//!   [`StoreError`]. A database whose schema was written by a newer Kestrel is refused, naming
//!   the versions.
//! - [`market`]: the market-data time series (`trades`, `market_data_snapshots`): batched,
//!   idempotent inserts, the queries the dashboard and tests read back with, and the
//!   [`MarketRecorder`] that batches the pipeline's writes off its hot path.
//! - [`journal`]: the order journal behind exactly-once placement (seed 000 NFR-OE-003): the
//!   write-ahead [`Intent`] of every order, journaled before it is sent
//!   ([`Store::begin_intent`] returns the first intent for a repeated request id, race-safe),
//!   moved through checked [`IntentState`]s, and read back at start-up by
//!   [`Store::unresolved_intents`]; and the persisted client order id sequence
//!   ([`Store::next_client_sequence`]). On SQLite the same journal can also be called
//!   synchronously, with no async driver between the call and the disk ([`JournalFile`], for
//!   the execution engine's order path).
//! - [`orders`]: the latest known state of every order ([`OrderRecord`], upserted) and every
//!   fill exactly once ([`FillRecord`], keyed by symbol, venue trade id and side), with the
//!   queries and executed-quantity sums that reconciliation reads.
//! - [`account`]: the account monitor's periodic [`AccountSnapshot`]s (balances, positions,
//!   P&L summary), each written in one transaction and read back whole.
//!
//! Each feature module keeps its SQL for both backends side by side (`market` in a file per
//! backend; `journal` and `orders` as one `db::dialect::Sql` pair per statement run through
//! the same binding code), and each schema change is a numbered migration in both
//! `migrations/sqlite` and `migrations/postgres` (0001 market data, 0002 orders, fills and the
//! journal, 0003 account snapshots, 0004 journal refusals before sending and send times).
//!
//! # Rules
//!
//! - Money is exact: `Price`/`Qty`/`Money` are stored as decimal text in SQLite and NUMERIC
//!   in PostgreSQL (bound as text, read back as text), never as a float; sums are taken in
//!   Rust with checked arithmetic.
//! - One transaction per logical write: a batch is all or nothing, and a journal move is a
//!   single conditional statement, so a crash never leaves half of one behind.
//! - Times are inputs: no row is stamped with the store's own clock; callers pass `now_ms`
//!   (from their `Clock`) or the venue's time.
//! - Queries are built at run time (`sqlx::query`, `query_as`, `QueryBuilder`), never with the
//!   compile-time macros, so the crate builds without a database.
//! - This crate stores and reads; it does not decide. It depends on `kestrel-model` only.

pub mod account;
pub mod db;
pub mod journal;
pub mod market;
pub mod orders;

pub use account::{AccountSnapshot, BalanceSnapshot, PnlSnapshot, PositionSnapshot};
pub use db::{Store, StoreError};
pub use journal::{Begin, Intent, IntentState, JournalFile};
pub use market::{
    Inserted, KindCounts, MarketRecorder, RecorderConfig, RecorderCounts, RecorderStats,
    RecorderWriter,
};
pub use orders::{FillInsert, FillRecord, LastTrade, OrderRecord};
