//! [`BookError`]: why the book refused an input.

use super::BookSide;
use crate::{Money, MoneyError, Price, Qty};

/// Why an order-book operation was refused. Every variant is caused by outside input (a venue
/// message or a caller's argument); none is a broken internal invariant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// The book was configured with a tick size that is not positive.
    #[error("book: tick size must be positive, found {tick}")]
    InvalidTick {
        /// The rejected tick size.
        tick: Price,
    },
    /// A level's price is zero or negative.
    #[error("book: {side} price must be positive, found {price}")]
    NonPositivePrice {
        /// The side the level was for.
        side: BookSide,
        /// The rejected price.
        price: Price,
    },
    /// A level's price is not a whole multiple of the book's tick size.
    #[error("book: {side} price {price} is not a multiple of the tick size {tick}")]
    OffTick {
        /// The side the level was for.
        side: BookSide,
        /// The rejected price.
        price: Price,
        /// The book's tick size.
        tick: Price,
    },
    /// A level's quantity is negative (zero removes a level; negative means nothing).
    #[error("book: {side} qty at {price} must be zero or positive, found {qty}")]
    NegativeQty {
        /// The side the level was for.
        side: BookSide,
        /// The level's price.
        price: Price,
        /// The rejected quantity.
        qty: Qty,
    },
    /// [`super::OrderBook::depth_to_notional`] was asked for a notional that is not positive.
    #[error("book: target notional must be positive, found {notional}")]
    NonPositiveNotional {
        /// The rejected notional.
        notional: Money,
    },
    /// A sum over the book's levels left the range of the money types.
    #[error("book: {0}")]
    Overflow(#[from] MoneyError),
}
