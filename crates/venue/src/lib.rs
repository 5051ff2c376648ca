//! Kestrel's venue ports and their adapters. The Binance USD-M adapter comes first: its
//! message schemas, normalisation into `model` events, and exchange-info parsing.
//!
//! It must not hold trading state: books, orders and positions live in the crates above it.

pub mod binance;
