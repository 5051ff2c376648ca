//! Kestrel's domain model: the types every other crate speaks.
//!
//! Owns exact fixed-point money ([`money`]), instruments and their exchange rules
//! ([`instrument`]), orders and their state machine ([`order`]), fills and trades, positions and
//! balances ([`position`]), the L2 order book and its sequence sync ([`book`]), and the
//! configuration schema ([`config`]).
//!
//! It must not do I/O beyond reading a config file, spawn tasks, or read the system clock:
//! times arrive as arguments, so the same code runs live, in the simulator and in backtests.

pub mod book;
pub mod config;
pub mod event;
pub mod instrument;
pub mod money;
pub mod order;
pub mod position;
pub mod recording;
pub mod telemetry;
pub mod trade;

pub use book::{BookSide, Level, OrderBook};
pub use instrument::Instrument;
pub use money::{Money, MoneyError, Price, Qty, Rate, RoundingMode};
pub use order::{Fill, Order, OrderRequest, OrderStatus, Side};
pub use position::{Balance, Position, PositionMode};
pub use trade::Trade;
