//! Kestrel's market-data pipeline: connections to the venue's streams, per-symbol order-book
//! synchronisation, trade flow, and distribution of the normalised events.
//!
//! It owns no trading decisions: it turns venue messages into books and events.

pub mod backoff;
pub mod connection;
pub mod flow;
pub mod health;
pub mod pipeline;
pub mod recorder;
pub mod service;
pub mod snapshot;
pub mod sync;
