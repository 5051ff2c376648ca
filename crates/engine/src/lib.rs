//! Kestrel's wiring (ARCHITECTURE.md crate map: `engine`): the deterministic
//! [`core::TradingCore`] that turns market events into risk-checked orders, and the
//! [`system::TradingSystem`] that `kestrel run` starts — venue (the embedded simulator by
//! default), market data, execution, account, strategies and risk in one process — with its
//! HTTP API ([`http`]), kill switch ([`control`]) and events on the bus ([`events`]).

pub mod control;
pub mod core;
pub mod defaults;
pub mod events;
pub mod http;
pub mod recover;
pub mod reload;
pub mod system;

pub use core::{CoreAction, CoreStatus, TradingCore};
pub use system::{SystemOptions, TradingSystem, Venue};
