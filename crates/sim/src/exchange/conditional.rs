//! Conditional orders: STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET and
//! TRAILING_STOP_MARKET, held off the book until their trigger (§3.3 trigger semantics, §3.4
//! algo orders).
//!
//! Trigger rules, with the working price being the mark (`MARK_PRICE`) or the last trade
//! (`CONTRACT_PRICE`): a STOP buy fires when the price is at or above the stop, a STOP sell at
//! or below; a TAKE_PROFIT buy fires at or below, a sell at or above. A trailing buy activates
//! once the price is at or below its activation price (default: the price at placement), then
//! tracks the lowest price and fires when the price rebounds to `low × (1 + rate)`; a trailing
//! sell mirrors it with the highest price. An order that would fire at once is refused with
//! `-2021`.
//!
//! Legacy orders (on `/fapi/v1/order`) keep their order id: at the trigger their type becomes
//! LIMIT or MARKET (`origType` keeps the conditional type) and they enter the book. Algo orders
//! (`/fapi/v1/algoOrder`) have their own `algoId`; at the trigger a child order with a new
//! order id is placed, and `ALGO_UPDATE` reports `NEW` → `TRIGGERING` → `TRIGGERED` →
//! `FINISHED` (or `CANCELED` / `EXPIRED` / `REJECTED`).

use kestrel_model::order::{OrderType, PositionSide, Side, WorkingType};
use kestrel_model::{Price, Qty, Rate, RoundingMode};
use serde_json::{Value, json};

use super::order::{
    Execution, OrderRecord, Precision, VenueStatus, position_side_name, working_type_name,
};
use super::place::{PlaceRequest, Placed};
use super::{Exchange, Market};
use crate::api::ApiError;
use crate::engine::Stp;

/// Trailing-stop state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailing {
    /// The price at which tracking starts.
    pub activation: Price,
    /// The callback in percent.
    pub rate: Rate,
    /// The extreme since activation (lowest for buys, highest for sells), once active.
    pub extreme: Option<Price>,
}

/// A conditional order waiting for its trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditional {
    /// The order record's id (legacy) or the algo id (algo orders).
    pub id: u64,
    /// Whether this is an algo order.
    pub algo: bool,
    /// The symbol.
    pub symbol: String,
    /// The side.
    pub side: Side,
    /// The conditional type.
    pub kind: OrderType,
    /// The trigger price (zero for trailing stops).
    pub stop: Price,
    /// Which price triggers it.
    pub working_type: WorkingType,
    /// Trailing state.
    pub trailing: Option<Trailing>,
}

/// The venue's record of an algo order (§3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgoRecord {
    /// The algo id.
    pub algo_id: u64,
    /// The client's algo id.
    pub client_algo_id: String,
    /// The owning account.
    pub account: u32,
    /// The request as placed.
    pub request: PlaceRequest,
    /// `NEW`, `CANCELED`, `TRIGGERING`, `TRIGGERED`, `FINISHED`, `REJECTED`, `EXPIRED`.
    pub status: &'static str,
    /// The child order's id once triggered.
    pub actual_order_id: Option<u64>,
    /// Creation time, ms.
    pub create_ms: u64,
    /// Last change, ms.
    pub update_ms: u64,
    /// Trigger time, ms (0 before).
    pub trigger_ms: u64,
    /// Why it failed, when it did.
    pub reject_reason: String,
}

impl AlgoRecord {
    /// The REST algo object (§3.4 response fields).
    #[must_use]
    pub fn to_json(&self, p: Precision) -> Value {
        let r = &self.request;
        let price = |v: Option<Price>| format!("{:.*}", p.price, v.unwrap_or(Price::ZERO));
        json!({
            "algoId": self.algo_id, "clientAlgoId": self.client_algo_id, "algoType": "CONDITIONAL",
            "orderType": r.order_type.binance_name(), "symbol": r.symbol, "side": r.side.binance_name(),
            "positionSide": position_side_name(r.position_side.unwrap_or(PositionSide::Both)),
            "timeInForce": r.time_in_force.map_or("GTC", |t| t.binance_name()),
            "quantity": format!("{:.*}", p.qty, r.quantity.unwrap_or(Qty::ZERO)),
            "algoStatus": self.status, "triggerPrice": price(r.stop_price), "price": price(r.price),
            "icebergQuantity": null, "selfTradePreventionMode": r.stp.binance_name(),
            "workingType": working_type_name(r.working_type), "priceMatch": r.price_match.map_or("NONE", crate::api::params::PriceMatch::binance_name),
            "closePosition": r.close_position, "priceProtect": r.price_protect, "reduceOnly": r.reduce_only,
            "activatePrice": price(r.activation_price),
            "callbackRate": r.callback_rate.map_or_else(String::new, |c| c.to_string()),
            "createTime": self.create_ms, "updateTime": self.update_ms, "triggerTime": self.trigger_ms,
            "goodTillDate": 0, "actualOrderId": self.actual_order_id.map_or_else(String::new, |id| id.to_string()),
        })
    }

    /// The `ALGO_UPDATE` user event (§8.4).
    #[must_use]
    pub fn update_event(&self, p: Precision, now_ms: u64) -> Value {
        let r = &self.request;
        json!({
            "e": "ALGO_UPDATE", "T": self.update_ms, "E": now_ms,
            "o": {
                "caid": self.client_algo_id, "aid": self.algo_id, "at": "CONDITIONAL",
                "o": r.order_type.binance_name(), "s": r.symbol, "S": r.side.binance_name(),
                "ps": position_side_name(r.position_side.unwrap_or(PositionSide::Both)),
                "f": r.time_in_force.map_or("GTC", |t| t.binance_name()),
                "q": format!("{:.*}", p.qty, r.quantity.unwrap_or(Qty::ZERO)), "X": self.status,
                "ai": self.actual_order_id.map_or_else(String::new, |id| id.to_string()),
                "tp": format!("{:.*}", p.price, r.stop_price.unwrap_or(Price::ZERO)),
                "p": format!("{:.*}", p.price, r.price.unwrap_or(Price::ZERO)),
                "V": r.stp.binance_name(), "wt": working_type_name(r.working_type), "pm": r.price_match.map_or("NONE", crate::api::params::PriceMatch::binance_name),
                "cp": r.close_position, "pP": r.price_protect, "R": r.reduce_only,
                "tt": self.trigger_ms, "gtd": 0, "rm": self.reject_reason,
            }
        })
    }
}

/// The price a conditional watches.
fn working_price(market: &Market, working: WorkingType) -> Price {
    match working {
        WorkingType::MarkPrice => market.mark.mark,
        WorkingType::ContractPrice => market.contract_price(),
    }
}

/// Whether a stop/take-profit fires at `price`.
fn fires(kind: OrderType, side: Side, stop: Price, price: Price) -> bool {
    let is_stop = matches!(kind, OrderType::StopLimit | OrderType::StopMarket);
    match (is_stop, side) {
        (true, Side::Buy) | (false, Side::Sell) => price >= stop,
        (true, Side::Sell) | (false, Side::Buy) => price <= stop,
    }
}

impl Trailing {
    /// Feeds a price; returns whether the stop fires.
    fn observe(&mut self, side: Side, price: Price) -> bool {
        let active = self.extreme.is_some()
            || match side {
                Side::Buy => price <= self.activation,
                Side::Sell => price >= self.activation,
            };
        if !active {
            return false;
        }
        let extreme = match (side, self.extreme) {
            (Side::Buy, Some(low)) => low.min(price),
            (Side::Sell, Some(high)) => high.max(price),
            (_, None) => price,
        };
        self.extreme = Some(extreme);
        let hundred = Rate::from_raw(100 * 100_000_000);
        let factor = match side {
            Side::Buy => hundred.try_add(self.rate),
            Side::Sell => hundred.try_sub(self.rate),
        };
        let Ok(factor) = factor else { return false };
        let threshold = extreme
            .try_mul_rate(factor, RoundingMode::HalfEven)
            .and_then(|v| v.try_mul_rate(Rate::from_raw(1_000_000), RoundingMode::HalfEven));
        match (side, threshold) {
            (Side::Buy, Ok(t)) => price >= t,
            (Side::Sell, Ok(t)) => price <= t,
            _ => false,
        }
    }
}

impl Exchange {
    /// Holds a legacy conditional order (placed on `/fapi/v1/order`) until its trigger.
    pub(super) fn place_conditional(
        &mut self,
        account: u32,
        request: &PlaceRequest,
        now_ms: u64,
    ) -> Result<Placed, ApiError> {
        let conditional = self.prepare_conditional(account, request, 0, false)?;
        let qty = request.quantity.unwrap_or(Qty::ZERO);
        let record = self.new_record(account, request, qty, now_ms)?;
        let id = record.order_id;
        self.record_open(record.clone());
        self.conditionals
            .insert(id, Conditional { id, ..conditional });
        self.emit_execution(
            id,
            Execution {
                kind: "NEW",
                fill: None,
                expiry_reason: 0,
            },
            now_ms,
        );
        Ok(Placed {
            ack: record.clone(),
            result: record,
        })
    }

    /// Places an algo (conditional) order, as `POST /fapi/v1/algoOrder` does (§3.4).
    ///
    /// # Errors
    /// Binance's code for the first rule the request breaks, `-2021` when it would trigger at
    /// once, `-4116` when `client_algo_id` is already used by an open algo order.
    pub fn place_algo(
        &mut self,
        account: u32,
        request: &PlaceRequest,
        client_algo_id: Option<String>,
        now_ms: u64,
    ) -> Result<AlgoRecord, ApiError> {
        self.check_algo_shape(account, request)?;
        let algo_id = self.next_algo_id;
        let conditional = self.prepare_conditional(account, request, algo_id, true)?;
        let client_algo_id = client_algo_id.unwrap_or_else(|| format!("ksta{algo_id:018}"));
        if self.algos.values().any(|a| {
            a.account == account && a.client_algo_id == client_algo_id && a.status == "NEW"
        }) {
            return Err(ApiError::duplicated_client_order_id());
        }
        let algo_id = self.take_algo_id();
        let record = AlgoRecord {
            algo_id,
            client_algo_id,
            account,
            request: request.clone(),
            status: "NEW",
            actual_order_id: None,
            create_ms: now_ms,
            update_ms: now_ms,
            trigger_ms: 0,
            reject_reason: String::new(),
        };
        self.algos.insert(algo_id, record.clone());
        self.conditionals.insert(algo_key(algo_id), conditional);
        self.emit_algo(algo_id, now_ms);
        Ok(record)
    }

    /// Checks what is common to every conditional order and builds its trigger state.
    fn prepare_conditional(
        &self,
        account: u32,
        request: &PlaceRequest,
        id: u64,
        algo: bool,
    ) -> Result<Conditional, ApiError> {
        if !request.order_type.is_conditional() {
            return Err(ApiError::invalid_order_type());
        }
        self.check_rules(account, request)?;
        let market = self.market(&request.symbol)?;
        let now_price = working_price(market, request.working_type);
        let stop = request.stop_price.unwrap_or(Price::ZERO);
        let trailing = trailing_for(request, now_price)?;
        if trailing.is_none() && fires(request.order_type, request.side, stop, now_price) {
            return Err(ApiError::order_would_immediately_trigger());
        }
        Ok(Conditional {
            id,
            algo,
            symbol: request.symbol.clone(),
            side: request.side,
            kind: request.order_type,
            stop,
            working_type: request.working_type,
            trailing,
        })
    }

    /// Fires every conditional order of `symbol` whose trigger the current prices reach.
    pub(super) fn check_triggers(&mut self, symbol: &str, now_ms: u64) {
        let Some(market) = self.markets.get(symbol) else {
            return;
        };
        let (mark, contract) = (market.mark.mark, market.contract_price());
        let mut due = Vec::new();
        for (key, c) in self
            .conditionals
            .iter_mut()
            .filter(|(_, c)| c.symbol == symbol)
        {
            let price = if c.working_type == WorkingType::MarkPrice {
                mark
            } else {
                contract
            };
            let fire = match c.trailing.as_mut() {
                Some(trailing) => trailing.observe(c.side, price),
                None => fires(c.kind, c.side, c.stop, price),
            };
            if fire {
                due.push(*key);
            }
        }
        for key in due {
            if let Some(conditional) = self.conditionals.remove(&key) {
                self.trigger(&conditional, now_ms);
            }
        }
    }

    fn trigger(&mut self, c: &Conditional, now_ms: u64) {
        if c.algo {
            self.trigger_algo(c.id, now_ms);
            return;
        }
        let Some(record) = self.orders.get_mut(&c.id) else {
            return;
        };
        record.order_type = if c.kind.has_limit_price() {
            OrderType::Limit
        } else {
            OrderType::Market
        };
        record.update_time_ms = now_ms;
        let (account, symbol, side, position_side, close) = (
            record.account,
            record.symbol.clone(),
            record.side,
            record.position_side,
            record.close_position,
        );
        if close || record.reduce_only {
            let held = self.position_qty(account, &symbol, position_side).abs();
            let reduces = self.reduces(account, &symbol, position_side, side);
            if let Some(record) = self.orders.get_mut(&c.id) {
                record.orig_qty = if close {
                    held
                } else {
                    record.orig_qty.min(held)
                };
            }
            if held.is_zero() || !reduces {
                self.expire_untriggerable(c.id, now_ms);
                return;
            }
        }
        let stp = self.orders.get(&c.id).map_or(Stp::None, |r| r.stp);
        if let Err(error) = self.run_in_engine(c.id, stp, now_ms) {
            tracing::debug!(order_id = c.id, %error, "triggered order refused by the engine");
            self.expire_untriggerable(c.id, now_ms);
        }
    }

    fn reduces(&self, account: u32, symbol: &str, position_side: PositionSide, side: Side) -> bool {
        let held = self.position_qty(account, symbol, position_side);
        match side {
            Side::Buy => held.is_negative(),
            Side::Sell => held.is_positive(),
        }
    }

    fn expire_untriggerable(&mut self, order_id: u64, now_ms: u64) {
        if let Some(record) = self.orders.get_mut(&order_id) {
            record.status = VenueStatus::Expired;
            record.update_time_ms = now_ms;
        }
        self.emit_execution(
            order_id,
            Execution {
                kind: "EXPIRED",
                fill: None,
                expiry_reason: 8,
            },
            now_ms,
        );
        self.record_closed(order_id);
    }

    fn trigger_algo(&mut self, algo_id: u64, now_ms: u64) {
        let Some(algo) = self.algos.get_mut(&algo_id) else {
            return;
        };
        algo.status = "TRIGGERING";
        algo.trigger_ms = now_ms;
        algo.update_ms = now_ms;
        let (account, mut request) = (algo.account, algo.request.clone());
        self.emit_algo(algo_id, now_ms);
        let kind = request.order_type;
        request.order_type = if kind.has_limit_price() {
            OrderType::Limit
        } else {
            OrderType::Market
        };
        if request.close_position {
            let side = request.position_side.unwrap_or(PositionSide::Both);
            request.quantity = Some(self.position_qty(account, &request.symbol, side).abs());
            request.close_position = false;
            request.reduce_only = side == PositionSide::Both;
        }
        request.stop_price = None;
        request.activation_price = None;
        request.callback_rate = None;
        request.client_order_id = None;
        let placed = self.place_order(account, &request, now_ms);
        let Some(algo) = self.algos.get_mut(&algo_id) else {
            return;
        };
        algo.update_ms = now_ms;
        match placed {
            Ok(placed) => {
                algo.actual_order_id = Some(placed.result.order_id);
                if let Some(child) = self.orders.get_mut(&placed.result.order_id) {
                    child.orig_type = kind;
                }
                self.algo_children.insert(placed.result.order_id, algo_id);
                let done = !placed.result.status.is_open();
                if let Some(algo) = self.algos.get_mut(&algo_id) {
                    algo.status = if done { "FINISHED" } else { "TRIGGERED" };
                }
            }
            Err(error) => {
                algo.status = "REJECTED";
                algo.reject_reason = error.msg.clone();
            }
        }
        self.emit_algo(algo_id, now_ms);
    }

    /// Emits `ALGO_UPDATE` for algo order `algo_id`.
    pub(super) fn emit_algo(&mut self, algo_id: u64, now_ms: u64) {
        let Some(algo) = self.algos.get(&algo_id) else {
            return;
        };
        let Some(market) = self.markets.get(&algo.request.symbol) else {
            return;
        };
        let payload = algo.update_event(market.precision, now_ms);
        let account = algo.account;
        self.push_user(account, payload);
    }

    /// Called when an order closes: a triggered algo's child finishing finishes the algo.
    pub(super) fn on_order_closed(&mut self, order_id: u64, now_ms: u64) {
        let Some(algo_id) = self.algo_children.remove(&order_id) else {
            return;
        };
        if let Some(algo) = self.algos.get_mut(&algo_id)
            && algo.status == "TRIGGERED"
        {
            algo.status = "FINISHED";
            algo.update_ms = now_ms;
            self.emit_algo(algo_id, now_ms);
        }
    }

    /// The record of a triggered order, for tests and queries.
    #[must_use]
    pub fn order_record(&self, order_id: u64) -> Option<&OrderRecord> {
        self.orders.get(&order_id)
    }
}

/// The trailing state of a trailing stop: activation defaults to the price at placement; a
/// buy's activation price must be below the current price and a sell's above (`-2021`).
fn trailing_for(request: &PlaceRequest, now_price: Price) -> Result<Option<Trailing>, ApiError> {
    if request.order_type != OrderType::TrailingStopMarket {
        return Ok(None);
    }
    if let Some(activation) = request.activation_price {
        let wrong_side = match request.side {
            Side::Buy => activation >= now_price,
            Side::Sell => activation <= now_price,
        };
        if wrong_side {
            return Err(ApiError::order_would_immediately_trigger());
        }
    }
    let activation = request.activation_price.unwrap_or(now_price);
    let rate = request.callback_rate.unwrap_or(Rate::ONE);
    Ok(Some(Trailing {
        activation,
        rate,
        extreme: None,
    }))
}

/// Algo conditionals share the conditional map with legacy orders under a disjoint key.
pub(super) const fn algo_key(algo_id: u64) -> u64 {
    algo_id | (1 << 63)
}
