//! The Binance USD-M futures adapter: the venue's JSON in, Kestrel's model types out.
//!
//! - [`market`]: WebSocket market-stream frames (depth, bookTicker, trade, aggTrade, mark
//!   price, control replies, errors) and REST depth snapshots, parsed on the hot path into
//!   borrowed events without allocating; plus the parse-only [`market::floor`] baseline.
//! - [`exchange_info`]: the `GET /fapi/v1/exchangeInfo` body into [`kestrel_model::Instrument`]s
//!   with every filter (cold path).
//! - [`ParseError`]: one error type with stable codes for the `errors_total{type}` metric.
//!
//! The reference for every protocol rule quoted in these modules is
//! `../shared/binance-futures.md` (cited by section, e.g. §6.2).

mod decimal;
mod error;
pub mod exchange_info;
mod json;
pub mod market;

pub use error::ParseError;
pub use exchange_info::{ExchangeInfo, parse_exchange_info};
pub use json::JsonLib;
pub use market::{MarketEvent, MarketFrame, MarketParser, ReceiveTime};
