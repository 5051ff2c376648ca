//! [`Balance`]: one asset's wallet balance and the part of it locked as margin or in orders.

use serde::{Deserialize, Serialize};

use crate::money::{Money, MoneyError};

/// One asset's balance (seed 000 FR-AM-001 `AccountBalance`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The asset, e.g. `USDT`.
    pub asset: String,
    /// The wallet balance: deposits plus realized P&L, minus fees, plus funding.
    pub total: Money,
    /// The part locked as margin for positions and open orders.
    pub locked: Money,
    /// When the balance last changed, milliseconds since the epoch.
    pub timestamp_ms: u64,
}

/// Why a balance change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BalanceError {
    /// Locking more than is available.
    #[error("{asset}: cannot lock {requested}, only {available} available")]
    Insufficient {
        /// The asset.
        asset: String,
        /// The amount asked for.
        requested: Money,
        /// The amount available.
        available: Money,
    },
    /// Releasing more than is locked, or a negative amount.
    #[error("{asset}: cannot release {requested}, {locked} locked")]
    BadRelease {
        /// The asset.
        asset: String,
        /// The amount asked for.
        requested: Money,
        /// The amount locked.
        locked: Money,
    },
    /// An amount overflowed.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Balance {
    /// A balance of `total` with nothing locked.
    #[must_use]
    pub fn new(asset: impl Into<String>, total: Money, timestamp_ms: u64) -> Self {
        Self {
            asset: asset.into(),
            total,
            locked: Money::ZERO,
            timestamp_ms,
        }
    }

    /// What can still be locked: total minus locked.
    #[must_use]
    pub fn available(&self) -> Money {
        self.total.try_sub(self.locked).unwrap_or(Money::MIN)
    }

    /// Adds a signed amount to the wallet (realized P&L, fee as a negative, funding, deposit).
    ///
    /// # Errors
    /// [`BalanceError::Money`] on overflow; the balance is unchanged.
    pub fn apply(&mut self, amount: Money, timestamp_ms: u64) -> Result<(), BalanceError> {
        self.total = self.total.try_add(amount)?;
        self.timestamp_ms = timestamp_ms;
        Ok(())
    }

    /// Locks `amount` for margin or an open order.
    ///
    /// # Errors
    /// [`BalanceError::Insufficient`] when `amount` exceeds what is available.
    pub fn lock(&mut self, amount: Money, timestamp_ms: u64) -> Result<(), BalanceError> {
        let available = self.available();
        if amount.is_negative() || amount > available {
            return Err(BalanceError::Insufficient {
                asset: self.asset.clone(),
                requested: amount,
                available,
            });
        }
        self.locked = self.locked.try_add(amount)?;
        self.timestamp_ms = timestamp_ms;
        Ok(())
    }

    /// Releases `amount` previously locked.
    ///
    /// # Errors
    /// [`BalanceError::BadRelease`] when `amount` is negative or more than is locked.
    pub fn release(&mut self, amount: Money, timestamp_ms: u64) -> Result<(), BalanceError> {
        if amount.is_negative() || amount > self.locked {
            return Err(BalanceError::BadRelease {
                asset: self.asset.clone(),
                requested: amount,
                locked: self.locked,
            });
        }
        self.locked = self.locked.try_sub(amount)?;
        self.timestamp_ms = timestamp_ms;
        Ok(())
    }
}
