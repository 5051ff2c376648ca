//! Orders and fills (seed 000 FR-OE-004/005): the latest known state of every order, and every
//! execution of them exactly once.
//!
//! - `orders` holds one row per client order id, replaced as updates arrive (REST answers, the
//!   user-data stream, recovery). The last write wins: the engine's single-threaded core
//!   decides the order of updates, the store does not second-guess it — except that the first
//!   `created_ms` is kept and a venue order id or reject reason once known is not erased by an
//!   update that lacks it.
//! - `fills` holds every execution once, keyed by (symbol, venue trade id, side): the same fill
//!   reported by the user stream and again by REST recovery is stored once and reported as
//!   [`FillInsert::Duplicate`], while both legs of a self-trade (one trade id, a buy and a sell
//!   of ours) are kept. A duplicate is not compared with the stored fill: the venue's trade is
//!   immutable, so the first report stands.
//!
//! Money is exact: `Price`/`Qty` as decimal text in SQLite and NUMERIC(20, 8) in PostgreSQL,
//! `Money` (fees, P&L) as text and NUMERIC(39, 16). Sums are taken in Rust with checked
//! arithmetic, the same way on both backends.

mod file;
mod fills;
mod rows;
mod sql;
mod state;

use kestrel_model::order::{Fill, Order, OrderStatus, OrderType, PositionSide, Side, TimeInForce};
use kestrel_model::{Money, Price, Qty};

/// The latest known state of one order, as the `orders` table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// Our client order id (the key).
    pub client_order_id: String,
    /// The venue's order id, once known.
    pub venue_order_id: Option<u64>,
    /// The venue symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// The order type.
    pub order_type: OrderType,
    /// The time in force of orders with a limit price.
    pub time_in_force: Option<TimeInForce>,
    /// Which position the order acts on.
    pub position_side: PositionSide,
    /// The limit price, for limit-priced types.
    pub price: Option<Price>,
    /// The trigger price of stop and take-profit orders.
    pub stop_price: Option<Price>,
    /// The order quantity.
    pub qty: Qty,
    /// The quantity executed so far.
    pub executed_qty: Qty,
    /// The average execution price, once anything executed.
    pub avg_price: Option<Price>,
    /// Where the order is in its lifecycle.
    pub status: OrderStatus,
    /// Only reduce a position.
    pub reduce_only: bool,
    /// Why it was rejected, if it was.
    pub reject_reason: Option<String>,
    /// When the order was first recorded (ms since the epoch).
    pub created_ms: u64,
    /// When this state was reached (ms since the epoch).
    pub updated_ms: u64,
}

impl OrderRecord {
    /// The record of a model [`Order`] as it stands, first recorded at `created_ms` and in
    /// this state since `updated_ms`.
    #[must_use]
    pub fn from_order(order: &Order, created_ms: u64, updated_ms: u64) -> Self {
        let request = &order.request;
        Self {
            client_order_id: order.client_order_id.clone(),
            venue_order_id: order.venue_order_id,
            symbol: request.symbol.clone(),
            side: request.side,
            order_type: request.order_type,
            time_in_force: request.time_in_force,
            position_side: request.position_side,
            price: request.price,
            stop_price: request.stop_price,
            qty: request.quantity,
            executed_qty: order.filled_qty,
            avg_price: order.average_price(),
            status: order.status,
            reduce_only: request.reduce_only,
            reject_reason: order.reject_reason.clone(),
            created_ms,
            updated_ms,
        }
    }
}

/// One fill as the `fills` table holds it: the model's [`Fill`] and the realised P&L the venue
/// reported with it (Binance's `rp` / `realizedPnl`), when it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillRecord {
    /// The execution.
    pub fill: Fill,
    /// The venue's realised P&L of this fill, if reported.
    pub realized_pnl: Option<Money>,
}

impl From<Fill> for FillRecord {
    fn from(fill: Fill) -> Self {
        Self {
            fill,
            realized_pnl: None,
        }
    }
}

/// The last trade stored on a symbol ([`Store::last_trades`](crate::Store::last_trades)):
/// where a restarted engine's fill recovery resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastTrade {
    /// The largest venue trade id stored on the symbol.
    pub trade_id: u64,
    /// The sides of ours stored on that trade, in order (both when a self-trade's two legs
    /// are stored).
    pub sides: Vec<Side>,
}

/// Whether [`Store::insert_fill`](crate::Store::insert_fill) stored a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillInsert {
    /// First report: stored now.
    New,
    /// Already stored (same symbol, trade id and side); nothing was written.
    Duplicate,
}

/// Every order status, for building filters from the model's predicates.
const ALL_STATUSES: [OrderStatus; 8] = [
    OrderStatus::New,
    OrderStatus::PendingSubmit,
    OrderStatus::Submitted,
    OrderStatus::PartiallyFilled,
    OrderStatus::Filled,
    OrderStatus::Canceled,
    OrderStatus::Rejected,
    OrderStatus::Expired,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails to compile when the model gains a status, so `ALL_STATUSES` is revisited.
    fn listed(status: OrderStatus) -> bool {
        match status {
            OrderStatus::New
            | OrderStatus::PendingSubmit
            | OrderStatus::Submitted
            | OrderStatus::PartiallyFilled
            | OrderStatus::Filled
            | OrderStatus::Canceled
            | OrderStatus::Rejected
            | OrderStatus::Expired => ALL_STATUSES.contains(&status),
        }
    }

    #[test]
    fn every_status_is_listed_once() {
        for status in ALL_STATUSES {
            assert!(listed(status));
            assert_eq!(ALL_STATUSES.iter().filter(|s| **s == status).count(), 1);
        }
    }
}
