//! How market-data records map to table rows, shared by both backends.
//!
//! Writing turns a model record into a row of database primitives (text for money, `i64` for
//! ids and times) and refuses a value the columns cannot hold, before anything is sent. Reading
//! takes the primitives a backend fetched ([`TradeRecordRow`], [`SnapshotRecordRow`]) and
//! rebuilds the model record, refusing anything that is not exactly what Kestrel writes.

use kestrel_model::event::{OwnedBookSnapshot, OwnedTradeEvent, ReceiveTime};
use kestrel_model::{Level, Price, Qty, Trade};

use crate::db::StoreError;
use crate::db::convert::{from_i64, parse_money, to_i64, truncate};

/// The `trades` table's name, for messages.
pub(crate) const TRADES: &str = "trades";
/// The `market_data_snapshots` table's name, for messages.
pub(crate) const SNAPSHOTS: &str = "market_data_snapshots";

/// Nanoseconds per millisecond: a snapshot's `taken_at_ms` is its receive wall time in ms.
const NANOS_PER_MILLI: u64 = 1_000_000;

/// A `trades` row ready to bind (column order of the INSERT).
pub(crate) struct TradeRow<'a> {
    pub symbol: &'a str,
    pub trade_id: i64,
    pub price: String,
    pub qty: String,
    pub buyer_is_maker: bool,
    pub trade_time_ms: i64,
    pub event_time_ms: i64,
    pub received_wall_ns: i64,
    pub received_monotonic_ns: i64,
}

impl<'a> TradeRow<'a> {
    /// The number of bound parameters per row.
    pub const COLUMNS: usize = 9;

    /// The row for `event`.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for an id or time above `i64::MAX`.
    pub fn new(event: &'a OwnedTradeEvent) -> Result<Self, StoreError> {
        let trade = &event.trade;
        Ok(Self {
            symbol: &trade.symbol,
            trade_id: to_i64("trade_id", trade.trade_id)?,
            price: trade.price.to_string(),
            qty: trade.quantity.to_string(),
            buyer_is_maker: trade.buyer_is_maker,
            trade_time_ms: to_i64("trade_time_ms", trade.timestamp_ms)?,
            event_time_ms: to_i64("event_time_ms", event.event_time_ms)?,
            received_wall_ns: to_i64("received_wall_ns", event.received.wall_ns)?,
            received_monotonic_ns: to_i64("received_monotonic_ns", event.received.monotonic_ns)?,
        })
    }
}

/// A `market_data_snapshots` row ready to bind (column order of the INSERT).
pub(crate) struct SnapshotRow<'a> {
    pub symbol: &'a str,
    pub taken_at_ms: i64,
    pub last_update_id: i64,
    pub event_time_ms: i64,
    pub transaction_time_ms: i64,
    pub received_wall_ns: i64,
    pub received_monotonic_ns: i64,
    pub best_bid_price: Option<String>,
    pub best_bid_qty: Option<String>,
    pub best_ask_price: Option<String>,
    pub best_ask_qty: Option<String>,
    pub bids: String,
    pub asks: String,
}

impl<'a> SnapshotRow<'a> {
    /// The number of bound parameters per row.
    pub const COLUMNS: usize = 13;

    /// The row for `snapshot`.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for an id or time above `i64::MAX`.
    pub fn new(snapshot: &'a OwnedBookSnapshot) -> Result<Self, StoreError> {
        let received = snapshot.received;
        let best_bid = snapshot.bids.first();
        let best_ask = snapshot.asks.first();
        Ok(Self {
            symbol: &snapshot.symbol,
            taken_at_ms: to_i64("taken_at_ms", received.wall_ns / NANOS_PER_MILLI)?,
            last_update_id: to_i64("last_update_id", snapshot.last_update_id)?,
            event_time_ms: to_i64("event_time_ms", snapshot.event_time_ms)?,
            transaction_time_ms: to_i64("transaction_time_ms", snapshot.transaction_time_ms)?,
            received_wall_ns: to_i64("received_wall_ns", received.wall_ns)?,
            received_monotonic_ns: to_i64("received_monotonic_ns", received.monotonic_ns)?,
            best_bid_price: best_bid.map(|l| l.price.to_string()),
            best_bid_qty: best_bid.map(|l| l.qty.to_string()),
            best_ask_price: best_ask.map(|l| l.price.to_string()),
            best_ask_qty: best_ask.map(|l| l.qty.to_string()),
            bids: levels_json(&snapshot.bids),
            asks: levels_json(&snapshot.asks),
        })
    }
}

/// Whether `event` can be stored (every id and time fits the integer columns).
///
/// # Errors
/// [`StoreError::OutOfRange`].
pub(crate) fn check_trade(event: &OwnedTradeEvent) -> Result<(), StoreError> {
    to_i64("trade_id", event.trade.trade_id)?;
    to_i64("trade_time_ms", event.trade.timestamp_ms)?;
    to_i64("event_time_ms", event.event_time_ms)?;
    to_i64("received_wall_ns", event.received.wall_ns)?;
    to_i64("received_monotonic_ns", event.received.monotonic_ns)?;
    Ok(())
}

/// Whether `snapshot` can be stored (every id and time fits the integer columns).
///
/// # Errors
/// [`StoreError::OutOfRange`].
pub(crate) fn check_snapshot(snapshot: &OwnedBookSnapshot) -> Result<(), StoreError> {
    to_i64("last_update_id", snapshot.last_update_id)?;
    to_i64("event_time_ms", snapshot.event_time_ms)?;
    to_i64("transaction_time_ms", snapshot.transaction_time_ms)?;
    to_i64("received_wall_ns", snapshot.received.wall_ns)?;
    to_i64("received_monotonic_ns", snapshot.received.monotonic_ns)?;
    Ok(())
}

/// A `trades` row as a backend reads it back (money as text, times as `i64`).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TradeRecordRow {
    symbol: String,
    trade_id: i64,
    price: String,
    qty: String,
    buyer_is_maker: bool,
    trade_time_ms: i64,
    event_time_ms: i64,
    received_wall_ns: i64,
    received_monotonic_ns: i64,
}

impl TradeRecordRow {
    /// The stored trade event.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a value Kestrel would not have written.
    pub fn into_event(self) -> Result<OwnedTradeEvent, StoreError> {
        let from = |column, value| from_i64(TRADES, column, value);
        Ok(OwnedTradeEvent {
            trade: Trade {
                trade_id: from("trade_id", self.trade_id)?,
                price: parse_money(TRADES, "price", &self.price, Price::parse)?,
                quantity: parse_money(TRADES, "qty", &self.qty, Qty::parse)?,
                timestamp_ms: from("trade_time_ms", self.trade_time_ms)?,
                buyer_is_maker: self.buyer_is_maker,
                symbol: self.symbol,
            },
            event_time_ms: from("event_time_ms", self.event_time_ms)?,
            received: ReceiveTime::new(
                from("received_monotonic_ns", self.received_monotonic_ns)?,
                from("received_wall_ns", self.received_wall_ns)?,
            ),
        })
    }
}

/// A `market_data_snapshots` row as a backend reads it back. The `best_*` columns are derived
/// from the levels, so they are not read.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SnapshotRecordRow {
    symbol: String,
    last_update_id: i64,
    event_time_ms: i64,
    transaction_time_ms: i64,
    received_wall_ns: i64,
    received_monotonic_ns: i64,
    bids: String,
    asks: String,
}

impl SnapshotRecordRow {
    /// The stored snapshot.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a value Kestrel would not have written.
    pub fn into_snapshot(self) -> Result<OwnedBookSnapshot, StoreError> {
        let from = |column, value| from_i64(SNAPSHOTS, column, value);
        Ok(OwnedBookSnapshot {
            last_update_id: from("last_update_id", self.last_update_id)?,
            event_time_ms: from("event_time_ms", self.event_time_ms)?,
            transaction_time_ms: from("transaction_time_ms", self.transaction_time_ms)?,
            received: ReceiveTime::new(
                from("received_monotonic_ns", self.received_monotonic_ns)?,
                from("received_wall_ns", self.received_wall_ns)?,
            ),
            bids: parse_levels("bids", &self.bids)?,
            asks: parse_levels("asks", &self.asks)?,
            symbol: self.symbol,
        })
    }
}

/// `[["price","qty"],...]`, best first: exact decimal strings, so the levels round-trip bit for
/// bit whatever the backend's JSON type does with numbers.
fn levels_json(levels: &[Level]) -> String {
    use std::fmt::Write as _;
    // A decimal's Display is digits, `-` and `.` only: nothing to escape.
    let mut json = String::with_capacity(2 + levels.len() * 32);
    json.push('[');
    for (i, level) in levels.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(json, r#"["{}","{}"]"#, level.price, level.qty);
    }
    json.push(']');
    json
}

fn parse_levels(column: &'static str, json: &str) -> Result<Vec<Level>, StoreError> {
    serde_json::from_str::<Vec<(Price, Qty)>>(json)
        .map(|pairs| pairs.into_iter().map(Level::from).collect())
        .map_err(|e| StoreError::Corrupt {
            table: SNAPSHOTS,
            column,
            value: truncate(json),
            expected: format!("a JSON array of [\"price\", \"qty\"] decimal strings ({e})"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(price: &str, qty: &str) -> Level {
        Level::new(Price::parse(price).unwrap(), Qty::parse(qty).unwrap())
    }

    #[test]
    fn levels_are_written_as_pairs_of_decimal_strings_best_first() {
        let levels = [
            level("67250.1", "0.00000001"),
            level("-1", "92233720368.54775807"),
        ];
        let json = levels_json(&levels);
        assert_eq!(
            json,
            r#"[["67250.1","0.00000001"],["-1","92233720368.54775807"]]"#
        );
        assert_eq!(parse_levels("bids", &json).unwrap(), levels);
        assert_eq!(levels_json(&[]), "[]");
    }

    #[test]
    fn levels_with_json_numbers_or_excess_decimals_are_refused_as_corrupt() {
        for bad in [
            r#"[[1.5, "2"]]"#,
            r#"[["1.000000001", "2"]]"#,
            "{}",
            "not json",
        ] {
            let err = parse_levels("asks", bad).unwrap_err();
            assert!(
                matches!(err, StoreError::Corrupt { column: "asks", .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn an_id_above_i64_max_is_refused_before_any_write() {
        let mut snapshot = OwnedBookSnapshot {
            last_update_id: u64::MAX,
            ..OwnedBookSnapshot::default()
        };
        let err = check_snapshot(&snapshot).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "store: last_update_id {} does not fit a signed 64-bit database integer \
                 (largest {})",
                u64::MAX,
                i64::MAX
            )
        );
        snapshot.last_update_id = 1;
        assert!(check_snapshot(&snapshot).is_ok());
        assert!(SnapshotRow::new(&snapshot).is_ok());
    }
}
