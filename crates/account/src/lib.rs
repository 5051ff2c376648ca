//! Kestrel's account monitor (seed 000 Account Monitor, FR-AM-001..006): balances, positions,
//! P&L, reconciliation with the venue, and risk alerts.
//!
//! # Layout
//!
//! - [`AccountBook`] (`book`): the synchronous core. It is loaded from a [`VenueSnapshot`],
//!   fed fills ([`FillUpdate`]), user-data events and marks with the caller's time, reconciled
//!   against later snapshots ([`ReconciliationReport`]), and read as an [`AccountView`]. No
//!   I/O, no clock, no locks.
//! - [`pnl`]: realized, unrealized, daily and net P&L, fees, funding, win rate, Sharpe ratio
//!   and drawdown ([`PnlSummary`]).
//! - [`alerts`]: the seed's `Alert` and the [`AlertBook`] that raises each condition once and
//!   clears it when it stops.
//! - [`AccountMonitor`] (`monitor`): the async shell. It loads the book from the venue over
//!   REST, applies what its [`AccountInputs`] are fed, reconciles every
//!   `reconciliation_interval_seconds`, persists [`kestrel_store::AccountSnapshot`]s, exports
//!   the seed's metrics, and publishes each new [`AccountView`] on a watch channel.
//! - [`api::router`]: the query API (`GET /api/v1/account...`) over those views, for the
//!   dashboard server to mount.
//!
//! # Rules
//!
//! - Money is exact: every amount is a `Money`, `Price` or `Qty`, booked the way the venue
//!   books it (amounts on the 10⁻⁸ grid, half to even), so balances, positions and realized P&L
//!   equal the venue's to the last unit. `f64` appears only in the Sharpe ratio.
//! - The venue is the truth: reconciliation adopts its values and says so, loudly.
//! - Inputs never panic the book: a fill the position refuses is an error, the book unchanged.
//! - This crate computes and reports; it does not place or cancel orders (a halt is a signal
//!   for the engine) and keeps no SQL (the store owns it).

pub mod alerts;
pub mod api;
mod arith;
mod book;
mod error;
mod fill;
pub mod monitor;
pub mod pnl;
mod reconciliation;
mod snapshot;
mod view;

pub use alerts::{Alert, AlertBook, AlertKind, Category, Severity};
pub use book::{AccountBook, BookConfig, FillOutcome};
pub use error::AccountError;
pub use fill::FillUpdate;
pub use monitor::{AccountInputs, AccountMonitor, MonitorConfig, MonitorError};
pub use pnl::PnlSummary;
pub use reconciliation::{Discrepancy, DiscrepancyKind, ReconciliationReport};
pub use snapshot::{VenueBalance, VenuePosition, VenueSnapshot};
pub use view::{AccountView, AssetBalance, Halt, MarginSummary, PositionView, StreamHealth};
