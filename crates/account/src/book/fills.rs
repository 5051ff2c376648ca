//! Booking fills: once each, into the leg, the wallets and the P&L ledger.

use kestrel_model::Money;
use kestrel_model::order::Fill;

use super::AccountBook;
use super::state::{AssetState, Leg};
use crate::error::AccountError;
use crate::fill::FillUpdate;

/// What became of a fill handed to the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillOutcome {
    /// Booked: the position, the wallets and the P&L moved.
    Applied,
    /// Already in the quantity and wallet adopted from the venue: counted in the realized P&L
    /// and fees only.
    AlreadySettled,
    /// Older than the snapshot the book was loaded from: ignored.
    BeforeStart,
    /// Already booked (same symbol, trade id and side): ignored.
    Duplicate,
}

impl AccountBook {
    /// Books one fill, once per (symbol, trade id, side), and re-evaluates the alerts.
    ///
    /// # Errors
    /// [`AccountError::Fill`] when the position refuses it (a hedge leg would cross zero, a
    /// non-positive price or quantity); nothing changes and the fill is counted in
    /// [`StreamHealth::rejected_fills`](crate::StreamHealth).
    pub fn apply_fill(
        &mut self,
        update: &FillUpdate,
        now_ms: u64,
    ) -> Result<FillOutcome, AccountError> {
        let outcome = self.book_fill(update);
        self.refresh(now_ms);
        outcome
    }

    /// [`AccountBook::apply_fill`] without the refresh.
    pub(super) fn book_fill(&mut self, update: &FillUpdate) -> Result<FillOutcome, AccountError> {
        let fill = &update.fill;
        if fill.timestamp_ms <= self.history_through_ms {
            return Ok(FillOutcome::BeforeStart);
        }
        if self.seen.contains(fill) {
            return Ok(FillOutcome::Duplicate);
        }
        let fee = self.margin_fee(fill);
        let key = (fill.symbol.clone(), update.position_side);
        let leg = self
            .legs
            .entry(key)
            .or_insert_with(|| Leg::flat(&fill.symbol, update.position_side));
        if fill.timestamp_ms <= leg.settled_through_ms {
            let realized = update.realized_pnl.unwrap_or(Money::ZERO);
            self.ledger.book_fill(realized, fee);
            self.seen.insert(fill);
            return Ok(FillOutcome::AlreadySettled);
        }
        let booked = match leg.apply(update, fee) {
            Ok(booked) => booked,
            Err(source) => {
                self.stream.rejected_fills += 1;
                return Err(AccountError::Fill {
                    symbol: fill.symbol.clone(),
                    trade_id: fill.trade_id,
                    source,
                });
            }
        };
        self.seen.insert(fill);
        if booked.realized != booked.computed {
            self.stream.realized_disagreements += 1;
            tracing::warn!(target: "kestrel::account", symbol = %fill.symbol, trade_id = fill.trade_id,
                venue = %booked.realized, computed = %booked.computed, "venue realized P&L differs from the book's");
        }
        if let Some(net) = booked.closed_net {
            self.ledger.record_close(net);
        }
        self.ledger.book_fill(booked.realized, fee);
        self.book_wallets(fill, booked.realized);
        Ok(FillOutcome::Applied)
    }

    /// The fill's commission if charged in the margin asset (an empty asset is the margin
    /// asset: Binance leaves `N` out when there is no commission).
    fn margin_fee(&self, fill: &Fill) -> Money {
        if self.fee_asset(fill) == self.config.margin_asset {
            fill.commission
        } else {
            Money::ZERO
        }
    }

    fn fee_asset<'a>(&'a self, fill: &'a Fill) -> &'a str {
        if fill.commission_asset.is_empty() {
            &self.config.margin_asset
        } else {
            &fill.commission_asset
        }
    }

    /// The wallet gains the realized P&L (margin asset) and loses the commission (its asset).
    fn book_wallets(&mut self, fill: &Fill, realized: Money) {
        let margin_asset = self.config.margin_asset.clone();
        let fee_asset = self.fee_asset(fill).to_owned();
        self.book_wallet(&margin_asset, realized, fill.timestamp_ms);
        self.book_wallet(&fee_asset, fill.commission.neg(), fill.timestamp_ms);
    }

    fn book_wallet(&mut self, asset: &str, amount: Money, time_ms: u64) {
        if amount.is_zero() {
            return;
        }
        self.assets
            .entry(asset.to_owned())
            .or_insert_with(|| AssetState::adopted(Money::ZERO, 0))
            .book(amount, time_ms);
    }
}
