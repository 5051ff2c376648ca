//! Kestrel's venue ports and their adapters. The Binance USD-M adapter comes first: its
//! message schemas, normalisation into `model` events, and exchange-info parsing; and its
//! execution side: signed REST and WebSocket-API order entry, account queries, and the
//! user-data stream, with typed errors that say whether a retry is safe.
//!
//! It must not hold trading state: books, orders and positions live in the crates above it.
//! Nor does it retry, back off or break circuits: it reports the facts (error class, retry
//! advice, rate-limit counters) and the execution engine decides.

pub mod binance;
pub mod tls;
