//! [`Trade`]: a public trade printed by the venue (seed 000 FR-MD-003).

use serde::{Deserialize, Serialize};

use crate::money::{Money, Price, Qty};
use crate::order::Side;

/// A public trade on the venue's tape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    /// The venue symbol.
    pub symbol: String,
    /// The venue's trade id (or aggregate trade id), increasing per symbol.
    pub trade_id: u64,
    /// The execution price.
    pub price: Price,
    /// The executed quantity.
    pub quantity: Qty,
    /// Trade time, milliseconds since the epoch (venue clock).
    pub timestamp_ms: u64,
    /// Whether the buyer's order was resting (so the seller was the aggressor).
    pub buyer_is_maker: bool,
}

/// Why a trade fails the integrity check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TradeError {
    /// Price or quantity is zero or negative.
    #[error("trade {trade_id} on {symbol}: {field} must be positive, got {value}")]
    NotPositive {
        /// The symbol.
        symbol: String,
        /// The trade id.
        trade_id: u64,
        /// `price` or `quantity`.
        field: &'static str,
        /// The value found.
        value: String,
    },
}

impl Trade {
    /// The side of the aggressor: a buyer-is-maker trade was a sell taking the bid.
    #[must_use]
    pub const fn aggressor_side(&self) -> Side {
        if self.buyer_is_maker {
            Side::Sell
        } else {
            Side::Buy
        }
    }

    /// The exact quote notional.
    #[must_use]
    pub const fn notional(&self) -> Money {
        self.price.notional(self.quantity)
    }

    /// Checks the trade's integrity: positive price and quantity.
    ///
    /// # Errors
    /// [`TradeError::NotPositive`].
    pub fn validate(&self) -> Result<(), TradeError> {
        let bad = |field, value: String| TradeError::NotPositive {
            symbol: self.symbol.clone(),
            trade_id: self.trade_id,
            field,
            value,
        };
        if !self.price.is_positive() {
            return Err(bad("price", self.price.to_string()));
        }
        if !self.quantity.is_positive() {
            return Err(bad("quantity", self.quantity.to_string()));
        }
        Ok(())
    }
}
