//! Kestrel's exchange simulator: a Binance USD-M futures venue that runs on loopback.
//!
//! Owns the matching engine ([`engine`]), accounts with cross margin, fees, funding and
//! liquidation ([`account`]), the synthetic market, the replay of recordings and the mirror of
//! a live venue's market ([`market`]), and the Binance-compatible REST + WebSocket server
//! ([`api`]). Everything under the server is
//! deterministic: time comes in as an argument and randomness from a seeded generator, so the
//! same seed and the same inputs give the same trades, byte for byte.
//!
//! It depends on `model` only; it must never call a real exchange.

pub mod account;
pub mod api;
pub mod engine;
pub mod exchange;
pub mod market;
pub mod server;
