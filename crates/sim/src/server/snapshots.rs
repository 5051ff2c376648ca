//! Streams that publish a periodic snapshot rather than an event per change: partial depth
//! `<symbol>@depth<N>[@100ms|@500ms]` (§6.3), klines `<symbol>@kline_<i>` (§6.8, every 250 ms),
//! `!markPrice@arr[@1s]` (§6.7), and the 24-hour tickers `<symbol>@ticker`, `@miniTicker`,
//! `!ticker@arr`, `!miniTicker@arr` (§6.10, every 2 s). Only streams someone subscribed to are
//! built, each at its own cadence.

use std::collections::HashMap;

use serde_json::Value;

use super::hub::Hub;
use super::rest::market_data::{kline_event, ticker_event};
use crate::api::ws_protocol::{StreamSpec, UpdateSpeed};
use crate::exchange::Exchange;
use crate::exchange::feed::{mark_price_event, partial_depth};

/// When each snapshot stream is next due, and the last `u` published on partial-depth streams.
#[derive(Debug, Default)]
pub struct Snapshots {
    next_due: HashMap<String, u64>,
    last_u: HashMap<String, u64>,
}

impl Snapshots {
    /// Publishes every subscribed snapshot stream that is due at `now_ms`.
    pub fn publish(&mut self, hub: &Hub, exchange: &Exchange, now_ms: u64) {
        for name in hub.subscribed_market_streams() {
            let Ok(spec) = StreamSpec::parse(&name) else {
                continue;
            };
            let Some(period) = period_ms(&spec) else {
                continue;
            };
            if self.next_due.get(&name).is_some_and(|due| *due > now_ms) {
                continue;
            }
            self.next_due.insert(name.clone(), now_ms + period);
            if let Some(payload) = self.build(&name, &spec, exchange, now_ms) {
                hub.send_market_with(&name, || payload.to_string());
            }
        }
    }

    fn build(
        &mut self,
        name: &str,
        spec: &StreamSpec,
        exchange: &Exchange,
        now_ms: u64,
    ) -> Option<Value> {
        match spec {
            StreamSpec::PartialDepth { symbol, levels, .. } => {
                let symbol = symbol.to_ascii_uppercase();
                let market = exchange.market(&symbol).ok()?;
                let book = exchange.depth(&symbol, usize::from(*levels)).ok()?;
                let prev = self
                    .last_u
                    .insert(name.to_owned(), book.last_update_id)
                    .unwrap_or(book.last_update_id);
                Some(partial_depth(
                    &symbol,
                    book.last_update_id,
                    prev,
                    &book.bids,
                    &book.asks,
                    market.precision,
                    now_ms,
                ))
            }
            StreamSpec::Kline { symbol, interval } => kline_event(
                exchange.market(&symbol.to_ascii_uppercase()).ok()?,
                *interval,
                now_ms,
            ),
            StreamSpec::Ticker { symbol } | StreamSpec::MiniTicker { symbol } => {
                let mini = matches!(spec, StreamSpec::MiniTicker { .. });
                Some(ticker_event(
                    exchange.market(&symbol.to_ascii_uppercase()).ok()?,
                    mini,
                    now_ms,
                ))
            }
            StreamSpec::AllTicker | StreamSpec::AllMiniTicker => {
                let mini = matches!(spec, StreamSpec::AllMiniTicker);
                let events = exchange
                    .markets()
                    .values()
                    .map(|m| ticker_event(m, mini, now_ms))
                    .collect();
                Some(Value::Array(events))
            }
            StreamSpec::AllMarkPrice { .. } => {
                let events: Vec<Value> = exchange
                    .markets()
                    .values()
                    .map(|m| mark_price_event(m.symbol(), &m.mark, m.precision, now_ms))
                    .collect();
                Some(Value::Array(events))
            }
            _ => None,
        }
    }
}

/// The publishing period of a snapshot stream; `None` for event streams.
fn period_ms(spec: &StreamSpec) -> Option<u64> {
    match spec {
        StreamSpec::PartialDepth { speed, .. } => Some(match speed {
            Some(UpdateSpeed::Ms100) => 100,
            Some(UpdateSpeed::Ms500) => 500,
            _ => 250,
        }),
        StreamSpec::Kline { .. } => Some(250),
        StreamSpec::AllMarkPrice { every_second } => Some(if *every_second { 1000 } else { 3000 }),
        StreamSpec::Ticker { .. }
        | StreamSpec::MiniTicker { .. }
        | StreamSpec::AllTicker
        | StreamSpec::AllMiniTicker => Some(2000),
        _ => None,
    }
}
