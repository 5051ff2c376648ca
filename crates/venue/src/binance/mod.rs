//! The Binance USD-M futures adapter: the venue's JSON in, Kestrel's model types out.
//!
//! - [`market`]: WebSocket market-stream frames (depth, bookTicker, trade, aggTrade, mark
//!   price, control replies, errors) and REST depth snapshots, parsed on the hot path into
//!   borrowed events without allocating; plus the parse-only [`market::floor`] baseline.
//! - [`exchange_info`]: the `GET /fapi/v1/exchangeInfo` body into [`kestrel_model::Instrument`]s
//!   with every filter (cold path).
//! - [`ParseError`]: one error type with stable codes for the `errors_total{type}` metric.
//!
//! Execution (cold path, typed, exact decimals):
//! - [`signing`]: credentials (secret redacted), HMAC-SHA256 over the exact bytes sent, the
//!   server-time offset.
//! - [`rest`]: the pooled REST client: orders, batches, cancels, queries, own trades, algo
//!   orders, account, balances, positions, listen keys, server time.
//! - [`ws_api`]: the WebSocket trading API client (`order.place`/`cancel`/`status`).
//! - [`user_data`]: listen keys, user-data events (`ORDER_TRADE_UPDATE`, `ACCOUNT_UPDATE`,
//!   `MARGIN_CALL`, `listenKeyExpired`, ...) and the user-stream connection.
//! - [`orders`], [`account`]: request and answer schemas; [`RequestError`]: typed failures
//!   with retry advice; [`rate_limit`]: the venue's usage counters.
//!
//! The reference for every protocol rule quoted in these modules is
//! `../shared/binance-futures.md` (cited by section, e.g. §6.2).

pub mod account;
mod decimal;
mod error;
pub mod exchange_info;
mod json;
pub mod market;
pub mod orders;
pub mod rate_limit;
pub mod request_error;
pub mod rest;
pub mod signing;
pub mod user_data;
mod wire;
pub mod ws_api;

pub use error::ParseError;
pub use exchange_info::{ExchangeInfo, parse_exchange_info};
pub use json::JsonLib;
pub use market::{MarketEvent, MarketFrame, MarketParser, ReceiveTime};
pub use request_error::{Idempotency, RequestError, RetryAdvice};
