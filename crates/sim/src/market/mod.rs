//! The simulator's market: a seeded agent-based market [`generator`], the recording and
//! replay of real market data ([`recording`]), and the [`mirror`] of another venue's live
//! market.
//!
//! The generator proposes orders and the matching engine (`crate::engine`) executes them; the
//! generator never owns a book. Recordings are read and written in one line format shared with
//! Kestrel's recorder, and replayed with their original spacing or as fast as possible, with an
//! L2 book kept in sync so the simulator can serve depth snapshots of the replayed market.
//!
//! Nothing here reads the system clock: time comes in as arguments.

pub mod generator;
pub mod mirror;
pub mod recording;

pub use generator::{
    BookTop, Generator, GeneratorConfig, GeneratorError, GeneratorStats, MarketAction,
    ReferencePrices, TimedAction,
};
