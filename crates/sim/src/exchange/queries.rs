//! Commands and queries on existing orders and account settings: cancel, cancel-all, modify,
//! order and trade lookups, algo cancel and lookups, leverage, margin type, position mode,
//! and the depth snapshot.

use kestrel_model::order::{PositionSide, Side};
use kestrel_model::{Money, PositionMode, Price, Qty};

use super::conditional::{AlgoRecord, algo_key};
use super::order::{FillReport, OrderRecord, VenueStatus};
use super::{Exchange, account_error};
use crate::account::{LeverageChange, MarginType};
use crate::api::ApiError;
use crate::engine::{AmendOutcome, EngineEvent};

/// How a client names an order: by venue id or by its client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderKey {
    /// `orderId` (wins when both are sent).
    Id(u64),
    /// `origClientOrderId`.
    Client(String),
}

/// The new terms of a modify: Binance requires the side again, the new quantity and price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amendment {
    /// The order's side (must match).
    pub side: Side,
    /// The new original quantity.
    pub qty: Qty,
    /// The new limit price.
    pub price: Price,
}

/// A REST depth snapshot (§3.2 `/fapi/v1/depth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthSnapshot {
    /// The book's update id.
    pub last_update_id: u64,
    /// Bids, best first.
    pub bids: Vec<(Price, Qty)>,
    /// Asks, best first.
    pub asks: Vec<(Price, Qty)>,
}

/// One of an account's fills (`/fapi/v1/userTrades` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTrade {
    /// The symbol.
    pub symbol: String,
    /// The order it belongs to.
    pub order_id: u64,
    /// Buy or sell.
    pub side: Side,
    /// The position side.
    pub position_side: PositionSide,
    /// The fill.
    pub fill: FillReport,
}

impl UserTrade {
    /// A row for `fill` of order `order_id`.
    #[must_use]
    pub fn new(
        symbol: &str,
        order_id: u64,
        side: Side,
        position_side: PositionSide,
        fill: &FillReport,
    ) -> Self {
        Self {
            symbol: symbol.to_owned(),
            order_id,
            side,
            position_side,
            fill: fill.clone(),
        }
    }
}

impl Exchange {
    /// The depth snapshot of `symbol`, `limit` levels a side.
    ///
    /// # Errors
    /// `-1121` for an unknown symbol.
    pub fn depth(&self, symbol: &str, limit: usize) -> Result<DepthSnapshot, ApiError> {
        let market = self.market(symbol)?;
        if let Some(replayed) = &market.replayed_depth {
            return Ok(DepthSnapshot {
                last_update_id: replayed.last_update_id,
                bids: replayed.bids.iter().take(limit).copied().collect(),
                asks: replayed.asks.iter().take(limit).copied().collect(),
            });
        }
        let take = |side| {
            market
                .engine
                .levels(side)
                .take(limit)
                .map(|l| (l.price, l.qty))
                .collect()
        };
        Ok(DepthSnapshot {
            last_update_id: market.update_id(),
            bids: take(kestrel_model::book::BookSide::Bid),
            asks: take(kestrel_model::book::BookSide::Ask),
        })
    }

    /// Replaces `symbol`'s REST depth with a replayed book (replay mode: the snapshot reflects
    /// the replayed book at that moment).
    pub fn set_replayed_depth(
        &mut self,
        symbol: &str,
        last_update_id: u64,
        bids: Vec<kestrel_model::Level>,
        asks: Vec<kestrel_model::Level>,
    ) {
        let pairs = |levels: Vec<kestrel_model::Level>| {
            levels.into_iter().map(|l| (l.price, l.qty)).collect()
        };
        if let Some(market) = self.markets.get_mut(symbol) {
            market.replayed_depth = Some(DepthSnapshot {
                last_update_id,
                bids: pairs(bids),
                asks: pairs(asks),
            });
        }
    }

    /// Finds one of `account`'s orders on `symbol`.
    ///
    /// # Errors
    /// `-2013` "Order does not exist." when there is none.
    pub fn find_order(
        &self,
        account: u32,
        symbol: &str,
        key: &OrderKey,
    ) -> Result<&OrderRecord, ApiError> {
        let id = match key {
            OrderKey::Id(id) => Some(*id),
            OrderKey::Client(client) => self
                .account_orders
                .get(&account)
                .and_then(|ids| {
                    ids.iter().rev().find(|id| {
                        self.orders
                            .get(id)
                            .is_some_and(|o| &o.client_order_id == client)
                    })
                })
                .copied(),
        };
        id.and_then(|id| self.orders.get(&id))
            .filter(|o| o.account == account && o.symbol == symbol)
            .ok_or_else(ApiError::no_such_order)
    }

    /// Cancels one open order.
    ///
    /// # Errors
    /// `-2011` "Unknown order sent." when it is unknown or already closed.
    pub fn cancel_order(
        &mut self,
        account: u32,
        symbol: &str,
        key: &OrderKey,
        now_ms: u64,
    ) -> Result<OrderRecord, ApiError> {
        let record = self
            .find_order(account, symbol, key)
            .map_err(|_| ApiError::unknown_order())?;
        if !record.status.is_open() {
            return Err(ApiError::unknown_order());
        }
        let id = record.order_id;
        if self.conditionals.contains_key(&id) {
            self.close_conditional(id, now_ms);
        } else {
            let mut events = std::mem::take(&mut self.scratch);
            events.clear();
            let result = self.market_mut(symbol)?.engine.cancel(id, &mut events);
            if result.is_ok() {
                self.apply_engine_events(symbol, &events, now_ms);
            }
            self.scratch = events;
            result.map_err(|_| ApiError::unknown_order())?;
            self.after_book_change(symbol, now_ms);
        }
        self.orders
            .get(&id)
            .cloned()
            .ok_or_else(ApiError::unknown_order)
    }

    fn close_conditional(&mut self, id: u64, now_ms: u64) {
        if let Some(record) = self.orders.get_mut(&id) {
            record.status = VenueStatus::Canceled;
            record.update_time_ms = now_ms;
        }
        self.emit_execution(
            id,
            super::order::Execution {
                kind: "CANCELED",
                fill: None,
                expiry_reason: 0,
            },
            now_ms,
        );
        self.record_closed(id);
    }

    /// Cancels every open order of `account` on `symbol` (resting and conditional).
    ///
    /// # Errors
    /// `-1121` for an unknown symbol.
    pub fn cancel_all(
        &mut self,
        account: u32,
        symbol: &str,
        now_ms: u64,
    ) -> Result<usize, ApiError> {
        self.market(symbol)?;
        let ids: Vec<u64> = self
            .open
            .get(&account)
            .map(|ids| {
                ids.iter()
                    .copied()
                    .filter(|id| self.orders.get(id).is_some_and(|o| o.symbol == symbol))
                    .collect()
            })
            .unwrap_or_default();
        let count = ids.len();
        for id in ids {
            let _ = self.cancel_order(account, symbol, &OrderKey::Id(id), now_ms);
        }
        Ok(count)
    }

    /// Cancels every open order of `account` on every symbol (liquidation).
    pub(super) fn cancel_everything(&mut self, account: u32, now_ms: u64) {
        let symbols: Vec<String> = self.markets.keys().cloned().collect();
        for symbol in symbols {
            let _ = self.cancel_all(account, &symbol, now_ms);
        }
    }

    /// Modifies a resting LIMIT order's price and quantity (`PUT /fapi/v1/order`, §3.3).
    ///
    /// # Errors
    /// `-2013` unknown order, `-5027` no change, the price and quantity filters' codes.
    pub fn modify_order(
        &mut self,
        account: u32,
        symbol: &str,
        key: &OrderKey,
        amendment: Amendment,
        now_ms: u64,
    ) -> Result<OrderRecord, ApiError> {
        let Amendment { side, qty, price } = amendment;
        let record = self.find_order(account, symbol, key)?.clone();
        if !record.status.is_open() || self.conditionals.contains_key(&record.order_id) {
            return Err(ApiError::no_such_order());
        }
        if record.side != side {
            return Err(ApiError::invalid_parameter("side"));
        }
        let check = kestrel_model::instrument::OrderCheck {
            side,
            is_market: false,
            price: Some(price),
            needs_price: true,
            stop_price: None,
            quantity: qty,
            reduce_only: record.reduce_only,
            close_position: false,
            mark_price: Some(self.market(symbol)?.mark.mark),
            open_orders: 0,
        };
        self.market(symbol)?
            .instrument
            .validate(&check)
            .map_err(|v| ApiError::from_rule(&v))?;
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        let outcome =
            self.market_mut(symbol)?
                .engine
                .amend(record.order_id, Some(price), qty, &mut events);
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                self.scratch = events;
                return Err(ApiError::bad_request(
                    error.binance_code(),
                    error.to_string(),
                ));
            }
        };
        self.apply_engine_events(symbol, &events, now_ms);
        if let AmendOutcome::Amended(taker) = outcome
            && let Some(EngineEvent::Taker(_)) = events.last()
        {
            self.finish_amended(&taker, now_ms);
        }
        self.scratch = events;
        self.after_book_change(symbol, now_ms);
        self.orders
            .get(&record.order_id)
            .cloned()
            .ok_or_else(ApiError::no_such_order)
    }

    fn finish_amended(&mut self, taker: &crate::engine::TakerOutcome, now_ms: u64) {
        if let crate::engine::TakerStatus::Expired(reason) = taker.status {
            if let Some(record) = self.orders.get_mut(&taker.order.id) {
                record.status = VenueStatus::Expired;
                record.update_time_ms = now_ms;
            }
            let execution = super::order::Execution {
                kind: "EXPIRED",
                fill: None,
                expiry_reason: reason.binance_code(),
            };
            self.emit_execution(taker.order.id, execution, now_ms);
            self.record_closed(taker.order.id);
        }
    }

    /// `account`'s open orders, on `symbol` or on every symbol, oldest first.
    #[must_use]
    pub fn open_orders(&self, account: u32, symbol: Option<&str>) -> Vec<&OrderRecord> {
        self.open
            .get(&account)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| self.orders.get(id))
                    .filter(|o| symbol.is_none_or(|s| o.symbol == s))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `account`'s orders on `symbol` with id at or above `from_id`, oldest first, at most
    /// `limit`.
    #[must_use]
    pub fn all_orders(
        &self,
        account: u32,
        symbol: &str,
        from_id: u64,
        limit: usize,
    ) -> Vec<&OrderRecord> {
        self.account_orders
            .get(&account)
            .map(|ids| {
                ids.iter()
                    .filter(|id| **id >= from_id)
                    .filter_map(|id| self.orders.get(id))
                    .filter(|o| o.symbol == symbol)
                    .take(limit)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `account`'s fills on `symbol` (optionally of one order, from trade id `from_id`).
    #[must_use]
    pub fn user_trades(
        &self,
        account: u32,
        symbol: &str,
        order_id: Option<u64>,
        from_id: u64,
        limit: usize,
    ) -> Vec<&UserTrade> {
        let Some(trades) = self.trades.get(&account) else {
            return Vec::new();
        };
        let matching: Vec<&UserTrade> = trades
            .iter()
            .filter(|t| {
                t.symbol == symbol
                    && order_id.is_none_or(|id| t.order_id == id)
                    && t.fill.trade_id >= from_id
            })
            .collect();
        let skip = if from_id > 0 {
            0
        } else {
            matching.len().saturating_sub(limit)
        };
        matching.into_iter().skip(skip).take(limit).collect()
    }

    /// Cancels an algo order (`DELETE /fapi/v1/algoOrder`).
    ///
    /// # Errors
    /// `-2011` when it is unknown or no longer waiting.
    pub fn cancel_algo(
        &mut self,
        account: u32,
        key: &OrderKey,
        now_ms: u64,
    ) -> Result<AlgoRecord, ApiError> {
        let algo_id = self
            .find_algo(account, key)
            .map_err(|_| ApiError::unknown_order())?
            .algo_id;
        if self.conditionals.remove(&algo_key(algo_id)).is_none() {
            return Err(ApiError::unknown_order());
        }
        if let Some(algo) = self.algos.get_mut(&algo_id) {
            algo.status = "CANCELED";
            algo.update_ms = now_ms;
        }
        self.emit_algo(algo_id, now_ms);
        self.algos
            .get(&algo_id)
            .cloned()
            .ok_or_else(ApiError::unknown_order)
    }

    /// Finds one of `account`'s algo orders.
    ///
    /// # Errors
    /// `-2013` when there is none.
    pub fn find_algo(&self, account: u32, key: &OrderKey) -> Result<&AlgoRecord, ApiError> {
        let found = match key {
            OrderKey::Id(id) => self.algos.get(id),
            OrderKey::Client(client) => self
                .algos
                .values()
                .rev()
                .find(|a| &a.client_algo_id == client),
        };
        found
            .filter(|a| a.account == account)
            .ok_or_else(ApiError::no_such_order)
    }

    /// `account`'s algo orders, waiting (`open_only`) or all, optionally on one symbol.
    #[must_use]
    pub fn algo_orders(
        &self,
        account: u32,
        symbol: Option<&str>,
        open_only: bool,
    ) -> Vec<&AlgoRecord> {
        self.algos
            .values()
            .filter(|a| a.account == account && symbol.is_none_or(|s| a.request.symbol == s))
            .filter(|a| !open_only || a.status == "NEW")
            .collect()
    }

    /// Sets an account's leverage on `symbol` (`POST /fapi/v1/leverage`).
    ///
    /// # Errors
    /// `-4028` invalid leverage; `-2027` above the cap for the position.
    pub fn set_leverage(
        &mut self,
        account: u32,
        symbol: &str,
        leverage: u32,
        now_ms: u64,
    ) -> Result<LeverageChange, ApiError> {
        self.market(symbol)?;
        let marks = self.marks();
        let open: Vec<(String, Side, PositionSide, Price, Qty)> = self
            .open_orders_for_margin(account)
            .iter()
            .map(|o| (o.symbol.to_owned(), o.side, o.position_side, o.price, o.qty))
            .collect();
        let orders: Vec<crate::account::OpenOrder<'_>> = open
            .iter()
            .map(|(s, side, ps, price, qty)| crate::account::OpenOrder {
                symbol: s,
                side: *side,
                position_side: *ps,
                price: *price,
                qty: *qty,
            })
            .collect();
        let holder = self
            .accounts
            .get_mut(account)
            .ok_or_else(ApiError::rejected_api_key)?;
        let change = holder
            .set_leverage(symbol, leverage, &orders, &marks, now_ms)
            .map_err(account_error)?;
        let payload = serde_json::json!({ "e": "ACCOUNT_CONFIG_UPDATE", "E": now_ms, "T": now_ms, "ac": { "s": symbol, "l": leverage } });
        self.push_user(account, payload);
        Ok(change)
    }

    /// Sets an account's margin type on `symbol` (`POST /fapi/v1/marginType`).
    ///
    /// # Errors
    /// `-4046` unchanged, `-4047` open orders, `-4048` open position.
    pub fn set_margin_type(
        &mut self,
        account: u32,
        symbol: &str,
        margin_type: MarginType,
        now_ms: u64,
    ) -> Result<(), ApiError> {
        self.market(symbol)?;
        let has_open = !self.open_orders(account, Some(symbol)).is_empty();
        let holder = self
            .accounts
            .get_mut(account)
            .ok_or_else(ApiError::rejected_api_key)?;
        holder
            .set_margin_type(symbol, margin_type, has_open, now_ms)
            .map_err(account_error)
    }

    /// Sets an account's position mode (`POST /fapi/v1/positionSide/dual`).
    ///
    /// # Errors
    /// `-4059` unchanged, `-4067` open orders, `-4068` open positions.
    pub fn set_position_mode(
        &mut self,
        account: u32,
        mode: PositionMode,
        now_ms: u64,
    ) -> Result<(), ApiError> {
        let has_open = !self.open_orders(account, None).is_empty();
        let holder = self
            .accounts
            .get_mut(account)
            .ok_or_else(ApiError::rejected_api_key)?;
        holder
            .set_position_mode(mode, has_open, now_ms)
            .map_err(account_error)
    }

    /// An account's wallet balance.
    #[must_use]
    pub fn wallet(&self, account: u32) -> Money {
        self.accounts
            .get(account)
            .map_or(Money::ZERO, |a| a.wallet_balance())
    }
}
