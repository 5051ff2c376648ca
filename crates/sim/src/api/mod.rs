//! The Binance USD-M futures protocol plumbing the simulator's server stands on
//! (`../shared/binance-futures.md`): error replies ([`errors`]), request parameters
//! ([`params`]), HMAC request signing and the timing window ([`auth`]), request-weight and
//! order-rate limits ([`limits`]), and the WebSocket URL, stream-name and control-frame
//! protocol ([`ws_protocol`]).
//!
//! Everything here is pure and deterministic: time comes in as `now_ms`, nothing does I/O,
//! and nothing depends on the exchange core, so each piece is tested on its own. The axum
//! route handlers that call the exchange build on these pieces.

pub mod auth;
pub mod errors;
pub mod limits;
pub mod params;
pub mod ws_protocol;

pub use auth::{SecurityLevel, authenticate, sign};
pub use errors::ApiError;
pub use limits::{LimitConfig, OrderLimiter, WeightLimiter};
pub use params::Params;
pub use ws_protocol::{Subscriptions, WsTarget};
