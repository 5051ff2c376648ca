//! Placing an order: request checks with Binance's codes (§3.3, §5.3), the instrument's
//! rules, reduce-only handling, the margin check, and submission to the matching engine.

use kestrel_model::instrument::OrderCheck;
use kestrel_model::order::{OrderType, PositionSide, Side, TimeInForce, WorkingType};
use kestrel_model::{PositionMode, Price, Qty, Rate};

use super::order::{Execution, OrderRecord, VenueStatus};
use super::{Exchange, account_error};
use crate::account::OpenOrder;
use crate::api::ApiError;
use crate::api::params::PriceMatch;
use crate::engine::{AccountId, NewOrder, Stp, TakerOutcome, TakerStatus};
use kestrel_model::book::BookSide;

/// A new order as a client sends it (after parameter parsing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceRequest {
    /// The symbol (upper case).
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// The order type (conditional types are held until triggered).
    pub order_type: OrderType,
    /// `BOTH` (one-way) or `LONG`/`SHORT` (hedge); `None` means `BOTH`.
    pub position_side: Option<PositionSide>,
    /// Time in force, required for limit-priced orders.
    pub time_in_force: Option<TimeInForce>,
    /// The quantity (absent only with `close_position`).
    pub quantity: Option<Qty>,
    /// The limit price.
    pub price: Option<Price>,
    /// The trigger price of stop and take-profit orders.
    pub stop_price: Option<Price>,
    /// Reduce-only flag.
    pub reduce_only: bool,
    /// Close-position flag.
    pub close_position: bool,
    /// The client's order id.
    pub client_order_id: Option<String>,
    /// Which price triggers a conditional order.
    pub working_type: WorkingType,
    /// Price protection flag (recorded).
    pub price_protect: bool,
    /// Self-trade prevention mode.
    pub stp: Stp,
    /// Trailing stop activation price.
    pub activation_price: Option<Price>,
    /// Trailing stop callback rate in percent.
    pub callback_rate: Option<Rate>,
    /// Price from the book instead of `price` (LIMIT only, §3.3 `priceMatch`).
    pub price_match: Option<PriceMatch>,
}

/// What a placement returns: the order as accepted (`ACK`) and as it stands after matching
/// (`RESULT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The state at acceptance: `NEW`, nothing filled.
    pub ack: OrderRecord,
    /// The state after matching.
    pub result: OrderRecord,
}

impl Exchange {
    /// Places an order for `account`, as `POST /fapi/v1/order` does.
    ///
    /// # Errors
    /// Binance's code for the first rule the request breaks; nothing is recorded then.
    pub fn place_order(
        &mut self,
        account: u32,
        request: &PlaceRequest,
        now_ms: u64,
    ) -> Result<Placed, ApiError> {
        let matched = self.resolve_price_match(request)?;
        let request = matched.as_ref().unwrap_or(request);
        self.check_shape(account, request)?;
        if request.order_type.is_conditional() {
            if !self.config.legacy_conditional_orders {
                return Err(ApiError::stop_order_switch_algo());
            }
            return self.place_conditional(account, request, now_ms);
        }
        self.check_rules(account, request)?;
        let qty = self.reduce_only_qty(account, request)?;
        self.check_margin(account, request, qty)?;
        let record = self.new_record(account, request, qty, now_ms)?;
        self.submit(record, request.stp, now_ms)
    }

    /// Checks an order without placing it (`POST /fapi/v1/order/test`).
    ///
    /// # Errors
    /// Binance's code for the first rule the request breaks.
    pub fn check_order(&self, account: u32, request: &PlaceRequest) -> Result<(), ApiError> {
        self.check_shape(account, request)?;
        if request.order_type.is_conditional() && !self.config.legacy_conditional_orders {
            return Err(ApiError::stop_order_switch_algo());
        }
        self.check_rules(account, request)
    }

    /// The shape checks of an algo order: the same as a regular order's.
    pub(super) fn check_algo_shape(
        &self,
        account: u32,
        request: &PlaceRequest,
    ) -> Result<(), ApiError> {
        self.check_shape(account, request)
    }

    /// Resolves `priceMatch` to a price from the book (§3.3): `OPPONENT[_5]` takes the best
    /// (5th best) price on the other side, `QUEUE[_5|_10|_20]` on the order's own side (the
    /// deepest level there is when the book is shallower). Only LIMIT orders may use it
    /// (`-5038`), never together with `price`, and `OPPONENT_10/20` are suspended (`-5037`).
    fn resolve_price_match(
        &self,
        request: &PlaceRequest,
    ) -> Result<Option<PlaceRequest>, ApiError> {
        let Some(mode) = request.price_match.filter(|m| *m != PriceMatch::None) else {
            return Ok(None);
        };
        if request.order_type != OrderType::Limit {
            return Err(ApiError::unsupported_order_type_price_match());
        }
        if request.price.is_some() {
            return Err(ApiError::invalid_price_match());
        }
        let (opposite, level) = match mode {
            PriceMatch::Opponent => (true, 1),
            PriceMatch::Opponent5 => (true, 5),
            PriceMatch::Queue => (false, 1),
            PriceMatch::Queue5 => (false, 5),
            PriceMatch::Queue10 => (false, 10),
            PriceMatch::Queue20 => (false, 20),
            PriceMatch::None | PriceMatch::Opponent10 | PriceMatch::Opponent20 => {
                return Err(ApiError::invalid_price_match());
            }
        };
        let takes_asks = (request.side == Side::Buy) == opposite;
        let side = if takes_asks {
            BookSide::Ask
        } else {
            BookSide::Bid
        };
        let market = self.market(&request.symbol)?;
        let price = market
            .engine
            .levels(side)
            .take(level)
            .last()
            .map(|l| l.price);
        let price = price.ok_or_else(ApiError::invalid_price_match)?;
        Ok(Some(PlaceRequest {
            price: Some(price),
            ..request.clone()
        }))
    }

    /// Checks the fields the type needs and the position side against the account's mode.
    fn check_shape(&self, account: u32, request: &PlaceRequest) -> Result<(), ApiError> {
        self.market(&request.symbol)?;
        let kind = request.order_type;
        if kind.has_limit_price() {
            request
                .price
                .ok_or_else(|| ApiError::mandatory_param("price"))?;
            request
                .time_in_force
                .ok_or_else(|| ApiError::mandatory_param("timeInForce"))?;
        } else if request.price.is_some() {
            return Err(ApiError::param_not_required("price"));
        }
        if kind.needs_stop_price() && request.stop_price.is_none() {
            return Err(ApiError::mandatory_param("stopPrice"));
        }
        if kind == OrderType::TrailingStopMarket {
            let rate = request
                .callback_rate
                .ok_or_else(|| ApiError::mandatory_param("callbackRate"))?;
            if rate < Rate::from_raw(10_000_000) || rate > Rate::from_raw(1_000_000_000) {
                return Err(ApiError::invalid_parameter("callbackRate"));
            }
        }
        self.check_close_position(request)?;
        self.check_position_side(account, request)
    }

    fn check_close_position(&self, request: &PlaceRequest) -> Result<(), ApiError> {
        if !request.close_position {
            return request
                .quantity
                .map(|_| ())
                .ok_or_else(|| ApiError::mandatory_param("quantity"));
        }
        if !matches!(
            request.order_type,
            OrderType::StopMarket | OrderType::TakeProfitMarket
        ) {
            return Err(ApiError::param_not_required("closePosition"));
        }
        if request.quantity.is_some() {
            return Err(ApiError::quantity_with_close_position());
        }
        if request.reduce_only {
            return Err(ApiError::param_not_required("reduceOnly"));
        }
        Ok(())
    }

    fn check_position_side(&self, account: u32, request: &PlaceRequest) -> Result<(), ApiError> {
        let mode = self
            .accounts
            .get(account)
            .map_or(PositionMode::OneWay, |a| a.position_mode());
        let side = request.position_side.unwrap_or(PositionSide::Both);
        match (mode, side) {
            (PositionMode::OneWay, PositionSide::Both) => Ok(()),
            (PositionMode::Hedge, PositionSide::Long | PositionSide::Short)
                if request.reduce_only =>
            {
                Err(ApiError::param_not_required("reduceOnly"))
            }
            (PositionMode::Hedge, PositionSide::Long | PositionSide::Short) => Ok(()),
            _ => Err(ApiError::position_side_not_match()),
        }
    }

    /// The instrument's filters and the open-order cap, with Binance's codes.
    pub(super) fn check_rules(&self, account: u32, request: &PlaceRequest) -> Result<(), ApiError> {
        let market = self.market(&request.symbol)?;
        let open_orders = self.open_count(account, &request.symbol);
        let check = OrderCheck {
            side: request.side,
            is_market: request.order_type.is_market(),
            price: request.price,
            needs_price: request.order_type.has_limit_price(),
            stop_price: request.stop_price,
            quantity: request.quantity.unwrap_or(Qty::ZERO),
            reduce_only: request.reduce_only,
            close_position: request.close_position,
            mark_price: Some(market.mark.mark),
            open_orders: u32::try_from(open_orders).unwrap_or(u32::MAX),
        };
        market
            .instrument
            .validate(&check)
            .map_err(|v| ApiError::from_rule(&v))
    }

    fn open_count(&self, account: u32, symbol: &str) -> usize {
        self.open.get(&account).map_or(0, |ids| {
            ids.iter()
                .filter(|id| self.orders.get(id).is_some_and(|o| o.symbol == symbol))
                .count()
        })
    }

    /// The quantity to submit: as asked, or for a reduce-only order in one-way mode, clipped to
    /// the position it reduces (`-2022` when there is nothing to reduce).
    fn reduce_only_qty(&self, account: u32, request: &PlaceRequest) -> Result<Qty, ApiError> {
        let qty = request.quantity.unwrap_or(Qty::ZERO);
        let position_side = request.position_side.unwrap_or(PositionSide::Both);
        let held = self.position_qty(account, &request.symbol, position_side);
        let reduces = |held: Qty| match request.side {
            Side::Buy => held.is_negative(),
            Side::Sell => held.is_positive(),
        };
        if request.reduce_only {
            if !reduces(held) {
                return Err(ApiError::reduce_only_rejected());
            }
            return Ok(qty.min(held.abs()));
        }
        let closes_leg = matches!(
            (position_side, request.side),
            (PositionSide::Long, Side::Sell) | (PositionSide::Short, Side::Buy)
        );
        if closes_leg && qty > held.abs() {
            return Err(ApiError::reduce_only_rejected());
        }
        Ok(qty)
    }

    /// The signed quantity of one position leg (zero when none).
    pub(super) fn position_qty(&self, account: u32, symbol: &str, side: PositionSide) -> Qty {
        self.accounts
            .get(account)
            .and_then(|a| a.position(symbol, side))
            .map_or(Qty::ZERO, |p| p.qty)
    }

    /// Binance's margin check: the order's initial margin must fit the available balance.
    fn check_margin(&self, account: u32, request: &PlaceRequest, qty: Qty) -> Result<(), ApiError> {
        let Some(holder) = self.accounts.get(account) else {
            return Err(ApiError::rejected_api_key());
        };
        let market = self.market(&request.symbol)?;
        let price = request
            .price
            .unwrap_or_else(|| self.expected_fill_price(market, request.side));
        let open = self.open_orders_for_margin(account);
        let order = OpenOrder {
            symbol: &request.symbol,
            side: request.side,
            position_side: request.position_side.unwrap_or(PositionSide::Both),
            price,
            qty,
        };
        holder
            .check_new_order(&order, request.reduce_only, &open, &self.marks())
            .map_err(account_error)
    }

    /// Where a market order is expected to fill: the opposite best, else the mark.
    fn expected_fill_price(&self, market: &super::Market, side: Side) -> Price {
        let opposite = match side {
            Side::Buy => market.engine.best_ask(),
            Side::Sell => market.engine.best_bid(),
        };
        opposite.map_or(market.mark.mark, |level| level.price)
    }

    /// The account's resting orders as margin sees them.
    #[must_use]
    pub fn open_orders_for_margin(&self, account: u32) -> Vec<OpenOrder<'_>> {
        let Some(ids) = self.open.get(&account) else {
            return Vec::new();
        };
        ids.iter()
            .filter_map(|id| self.orders.get(id))
            .filter(|o| !o.order_type.is_conditional() && o.price.is_positive())
            .map(|o| OpenOrder {
                symbol: &o.symbol,
                side: o.side,
                position_side: o.position_side,
                price: o.price,
                qty: o.remaining_qty(),
            })
            .collect()
    }

    /// A fresh record in state `NEW`, with its client order id checked or generated.
    pub(super) fn new_record(
        &mut self,
        account: u32,
        request: &PlaceRequest,
        qty: Qty,
        now_ms: u64,
    ) -> Result<OrderRecord, ApiError> {
        if let Some(id) = &request.client_order_id
            && self.client_ids.contains_key(&(account, id.clone()))
        {
            return Err(ApiError::duplicated_client_order_id());
        }
        let order_id = self.take_order_id();
        let client_order_id = request
            .client_order_id
            .clone()
            .unwrap_or_else(|| generated_client_id(order_id));
        Ok(OrderRecord {
            order_id,
            account,
            symbol: request.symbol.clone(),
            client_order_id,
            side: request.side,
            position_side: request.position_side.unwrap_or(PositionSide::Both),
            order_type: request.order_type,
            orig_type: request.order_type,
            time_in_force: request.time_in_force,
            price: request.price.unwrap_or(Price::ZERO),
            stop_price: request.stop_price.unwrap_or(Price::ZERO),
            orig_qty: qty,
            executed_qty: Qty::ZERO,
            cum_quote: kestrel_model::Money::ZERO,
            status: VenueStatus::New,
            reduce_only: request.reduce_only,
            close_position: request.close_position,
            working_type: request.working_type,
            price_protect: request.price_protect,
            stp: request.stp,
            price_match: request.price_match.map_or("NONE", PriceMatch::binance_name),
            activate_price: request.activation_price,
            price_rate: request.callback_rate,
            time_ms: now_ms,
            update_time_ms: now_ms,
        })
    }

    /// Files a new LIMIT/MARKET record and runs it through its engine. A FOK that cannot fill
    /// or a post-only that would take is refused and leaves no record.
    pub(super) fn submit(
        &mut self,
        record: OrderRecord,
        stp: Stp,
        now_ms: u64,
    ) -> Result<Placed, ApiError> {
        let ack = record.clone();
        let id = record.order_id;
        self.record_open(record);
        if let Err(error) = self.run_in_engine(id, stp, now_ms) {
            self.unrecord(id);
            return Err(error);
        }
        let result = self.orders.get(&id).cloned().unwrap_or_else(|| ack.clone());
        Ok(Placed { ack, result })
    }

    /// Submits filed order `id` to its symbol's engine and books everything that happens,
    /// starting with its `NEW` event. Refusals (FOK, post-only) emit nothing.
    pub(super) fn run_in_engine(&mut self, id: u64, stp: Stp, now_ms: u64) -> Result<(), ApiError> {
        let Some(record) = self.orders.get(&id) else {
            return Err(ApiError::unknown_order());
        };
        let order = NewOrder {
            id,
            account: AccountId(record.account),
            side: record.side,
            price: record.price.is_positive().then_some(record.price),
            qty: record.orig_qty,
            tif: record.time_in_force.unwrap_or(TimeInForce::Gtc),
            stp,
            tag: 0,
        };
        let symbol = record.symbol.clone();
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        let outcome = match self.market_mut(&symbol)?.engine.submit(order, &mut events) {
            Ok(outcome) => outcome,
            Err(error) => {
                self.scratch = events;
                return Err(ApiError::bad_request(
                    error.binance_code(),
                    error.to_string(),
                ));
            }
        };
        if let TakerStatus::Rejected(reason) = outcome.status {
            self.scratch = events;
            return Err(ApiError::bad_request(
                reason.binance_code(),
                reason.binance_msg(),
            ));
        }
        self.emit_execution(
            id,
            Execution {
                kind: "NEW",
                fill: None,
                expiry_reason: 0,
            },
            now_ms,
        );
        self.apply_engine_events(&symbol, &events, now_ms);
        self.finish_taker(&outcome, now_ms);
        self.scratch = events;
        self.after_book_change(&symbol, now_ms);
        Ok(())
    }

    /// Applies the taker's final outcome: an expired remainder is reported and closes the order.
    fn finish_taker(&mut self, outcome: &TakerOutcome, now_ms: u64) {
        let id = outcome.order.id;
        let TakerStatus::Expired(reason) = outcome.status else {
            return;
        };
        if let Some(record) = self.orders.get_mut(&id) {
            record.status = if reason.binance_status() == "EXPIRED_IN_MATCH" {
                VenueStatus::ExpiredInMatch
            } else {
                VenueStatus::Expired
            };
            record.update_time_ms = now_ms;
        }
        self.emit_execution(
            id,
            Execution {
                kind: "EXPIRED",
                fill: None,
                expiry_reason: reason.binance_code(),
            },
            now_ms,
        );
        self.record_closed(id);
    }
}

/// The client order id Binance would generate when none is sent (22 characters).
fn generated_client_id(order_id: u64) -> String {
    format!("kstl{order_id:018}")
}
