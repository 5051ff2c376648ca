//! [`EngineError`]: requests the engine refuses before changing anything.

use kestrel_model::order::TimeInForce;
use kestrel_model::{Price, Qty};

use super::order::OrderId;

/// A request the engine refuses. The book, the ids and the change log are untouched.
///
/// Outcomes that Binance reports as errors but that depend on the book (FOK cannot fill,
/// post-only would take) are not errors here: they are [`super::RejectReason`]s in the taker's
/// outcome, because deciding them is the engine's job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Cancel or amend of an id that is not resting on the book (never seen, filled, cancelled
    /// or expired).
    #[error(
        "engine: order {order_id} is not open on the book (Binance -2011 \"Unknown order sent.\")"
    )]
    UnknownOrder {
        /// The id asked for.
        order_id: OrderId,
    },
    /// A submit reused the id of an order still resting on the book.
    #[error("engine: order id {order_id} is already open on the book; ids must be unique")]
    DuplicateOrderId {
        /// The reused id.
        order_id: OrderId,
    },
    /// A submit or amend with a quantity of zero or less.
    #[error("engine: order {order_id} qty must be greater than zero, found {qty}")]
    NonPositiveQty {
        /// The order.
        order_id: OrderId,
        /// The quantity given.
        qty: Qty,
    },
    /// A submit or amend with a price of zero or less.
    #[error("engine: order {order_id} price must be greater than zero, found {price}")]
    NonPositivePrice {
        /// The order.
        order_id: OrderId,
        /// The price given.
        price: Price,
    },
    /// A post-only (GTX) order without a limit price: post-only is a limit-only time in force.
    #[error("engine: order {order_id} is {} and needs a limit price, found none", tif.binance_name())]
    LimitWithoutPrice {
        /// The order.
        order_id: OrderId,
        /// Its time in force.
        tif: TimeInForce,
    },
    /// An amend without a limit price: Binance modifies LIMIT orders only (§3.3).
    #[error("engine: order {order_id} cannot be modified to a market order; modify needs a price")]
    AmendToMarket {
        /// The order.
        order_id: OrderId,
    },
    /// An amend that changes neither price nor quantity (Binance -5027).
    #[error("engine: modify of order {order_id} changes neither price {price} nor qty {qty}")]
    AmendNoChange {
        /// The order.
        order_id: OrderId,
        /// Its unchanged price.
        price: Price,
        /// Its unchanged original quantity.
        qty: Qty,
    },
    /// Resting the order would push its price level's total past the largest [`Qty`].
    #[error(
        "engine: order {order_id} would make the total at price {price} exceed the largest qty"
    )]
    LevelQtyOverflow {
        /// The order.
        order_id: OrderId,
        /// The level's price.
        price: Price,
    },
    /// The book already holds as many resting orders as it can address.
    #[error(
        "engine: order {order_id} cannot rest: the book is full ({} orders)",
        u32::MAX
    )]
    BookFull {
        /// The order.
        order_id: OrderId,
    },
}

impl EngineError {
    /// The Binance error code the exchange layer answers with (§5.3).
    ///
    /// | error | code |
    /// |---|---|
    /// | `UnknownOrder` | -2011 |
    /// | `DuplicateOrderId` | -1000 (a caller bug: Binance assigns ids itself) |
    /// | `NonPositiveQty` | -4003 |
    /// | `NonPositivePrice` | -4001 |
    /// | `LimitWithoutPrice`, `AmendToMarket` | -1102 |
    /// | `AmendNoChange` | -5027 |
    /// | `LevelQtyOverflow` | -4005 |
    /// | `BookFull` | -2025 |
    #[must_use]
    pub const fn binance_code(&self) -> i32 {
        match self {
            Self::UnknownOrder { .. } => -2011,
            Self::DuplicateOrderId { .. } => -1000,
            Self::NonPositiveQty { .. } => -4003,
            Self::NonPositivePrice { .. } => -4001,
            Self::LimitWithoutPrice { .. } | Self::AmendToMarket { .. } => -1102,
            Self::AmendNoChange { .. } => -5027,
            Self::LevelQtyOverflow { .. } => -4005,
            Self::BookFull { .. } => -2025,
        }
    }
}
