//! Replay of recordings of exchange market data (the format and its reader and writer are
//! [`kestrel_model::recording`], re-exported here): [`Replay`] releases messages with their
//! original spacing (against a replay clock the caller supplies) or as fast as possible, feeding
//! an optional [`ReplayBook`] that follows Binance's futures sync rules (`binance-futures.md`
//! §7.1) and can serve a depth snapshot of the replayed book at any moment.

mod replay;
mod replay_book;

pub use kestrel_model::recording::*;
pub use replay::{Pacing, Replay};
pub use replay_book::{BookUpdate, DepthSnapshot, ReplayBook, ReplayBookStats};

#[cfg(test)]
mod tests;
