//! User-data events (`../shared/binance-futures.md` §8) and mark prices.

use kestrel_model::Price;
use kestrel_venue::binance::user_data::{
    AccountUpdate, AccountUpdateReason, BalanceUpdate, MarginCall, PositionUpdate, UserEvent,
};

use super::AccountBook;
use super::state::AssetState;
use crate::error::AccountError;
use crate::fill::FillUpdate;

impl AccountBook {
    /// Applies one user-data event: fills of `ORDER_TRADE_UPDATE`, balances of
    /// `ACCOUNT_UPDATE`, marks and maintenance margins of `MARGIN_CALL`, leverage of
    /// `ACCOUNT_CONFIG_UPDATE`; other events are ignored.
    ///
    /// # Errors
    /// As [`AccountBook::apply_fill`], for an `ORDER_TRADE_UPDATE` fill.
    pub fn apply_user_event(&mut self, event: &UserEvent, now_ms: u64) -> Result<(), AccountError> {
        let result = match event {
            UserEvent::OrderTradeUpdate(update) => FillUpdate::from_order_update(&update.order)
                .map_or(Ok(()), |fill| self.book_fill(&fill).map(drop)),
            UserEvent::AccountUpdate(update) => {
                self.apply_account_update(update);
                Ok(())
            }
            UserEvent::MarginCall(call) => {
                self.apply_margin_call(call);
                Ok(())
            }
            UserEvent::AccountConfigUpdate(update) => {
                if let Some(change) = &update.leverage {
                    self.leverage.insert(change.symbol.clone(), change.leverage);
                }
                Ok(())
            }
            _ => Ok(()),
        };
        self.refresh(now_ms);
        result
    }

    /// Records `symbol`'s mark price (a mark-price stream update) and re-evaluates.
    pub fn apply_mark(&mut self, symbol: &str, mark: Price, now_ms: u64) {
        if mark.is_positive() {
            self.marks.insert(symbol.to_owned(), mark);
        }
        self.refresh(now_ms);
    }

    /// Balances move by `bc` (fills arrive as fills); `wb` and `pa` are checks.
    fn apply_account_update(&mut self, event: &AccountUpdate) {
        let time = event.transaction_time_ms;
        if time <= self.history_through_ms {
            return;
        }
        for balance in &event.update.balances {
            self.apply_balance_update(balance, event.update.reason, time);
        }
        for position in &event.update.positions {
            self.check_position_update(position);
        }
    }

    fn apply_balance_update(
        &mut self,
        update: &BalanceUpdate,
        reason: AccountUpdateReason,
        time: u64,
    ) {
        if update.asset == self.config.margin_asset {
            self.classify(reason, update);
        }
        let Some(asset) = self.assets.get_mut(&update.asset) else {
            self.assets.insert(
                update.asset.clone(),
                AssetState::adopted(update.wallet_balance, time),
            );
            return;
        };
        asset.book(update.balance_change, time);
        if asset.wallet != update.wallet_balance && time > asset.settled_through_ms {
            self.stream.disagreements += 1;
            tracing::debug!(target: "kestrel::account", asset = %update.asset, book = %asset.wallet,
                venue = %update.wallet_balance, "ACCOUNT_UPDATE wallet differs from the book's");
        }
    }

    /// Funding is P&L; money moved in or out is not.
    fn classify(&mut self, reason: AccountUpdateReason, update: &BalanceUpdate) {
        use AccountUpdateReason as R;
        match reason {
            R::FundingFee => self.ledger.book_funding(update.balance_change),
            R::Deposit
            | R::Withdraw
            | R::WithdrawReject
            | R::AdminDeposit
            | R::AdminWithdraw
            | R::MarginTransfer
            | R::AssetTransfer
            | R::CoinSwapDeposit
            | R::CoinSwapWithdraw
            | R::AutoExchange => self.ledger.book_transfer(update.balance_change),
            _ => {}
        }
    }

    fn check_position_update(&mut self, update: &PositionUpdate) {
        let key = (update.symbol.clone(), update.position_side);
        let local = self.legs.get(&key).map(|leg| leg.position.qty);
        if local.unwrap_or_default() != update.position_amt {
            self.stream.disagreements += 1;
            tracing::debug!(target: "kestrel::account", symbol = %update.symbol,
                book = ?local, venue = %update.position_amt, "ACCOUNT_UPDATE position differs from the book's");
        }
    }

    fn apply_margin_call(&mut self, call: &MarginCall) {
        for position in &call.positions {
            if position.mark_price.is_positive() {
                self.marks
                    .insert(position.symbol.clone(), position.mark_price);
            }
            if let Some(leg) = self
                .legs
                .get_mut(&(position.symbol.clone(), position.position_side))
            {
                leg.maint_margin = position.maint_margin;
            }
        }
        tracing::warn!(target: "kestrel::account", positions = call.positions.len(), "margin call");
    }
}
