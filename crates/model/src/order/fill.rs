//! [`Fill`]: one execution of one of our orders (seed 000 FR-OE-005).

use serde::{Deserialize, Serialize};

use super::request::Side;
use crate::money::{Money, Price, Qty};

/// Whether our side of a fill added liquidity (maker) or took it (taker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Liquidity {
    /// Our order was resting on the book.
    Maker,
    /// Our order crossed the spread.
    Taker,
}

/// One execution of one of our orders, as reported by the venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The venue's order id.
    pub order_id: u64,
    /// Our client order id.
    pub client_order_id: String,
    /// The venue symbol.
    pub symbol: String,
    /// Our order's side.
    pub side: Side,
    /// The execution price.
    pub price: Price,
    /// The executed quantity (positive).
    pub quantity: Qty,
    /// The fee charged, in `commission_asset` (negative for a rebate).
    pub commission: Money,
    /// The asset the fee was charged in (usually USDT).
    pub commission_asset: String,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// The venue's trade id, unique per symbol: the key that makes fill processing idempotent.
    pub trade_id: u64,
    /// Execution time, milliseconds since the epoch (venue clock).
    pub timestamp_ms: u64,
}

impl Fill {
    /// Whether our order was the maker.
    #[must_use]
    pub const fn is_maker(&self) -> bool {
        matches!(self.liquidity, Liquidity::Maker)
    }

    /// The exact quote notional of the fill.
    #[must_use]
    pub const fn notional(&self) -> Money {
        self.price.notional(self.quantity)
    }
}
