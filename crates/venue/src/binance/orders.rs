//! Order request and response schemas of the Binance USD-M trading endpoints
//! (`../shared/binance-futures.md` §3.3, §3.4, §9): [`NewOrder`] built from Kestrel's
//! [`OrderRequest`] and mapped to Binance's parameters, and the typed answers
//! ([`VenueOrder`], [`AlgoOrder`], [`UserTrade`]) with exact decimals.
//!
//! Mapping rules ([`NewOrder::order_params`], [`NewOrder::algo_params`]):
//! - `LIMIT` and `MARKET` go to `POST /fapi/v1/order`; the conditional types (`STOP`,
//!   `STOP_MARKET`, `TAKE_PROFIT`, `TAKE_PROFIT_MARKET`, `TRAILING_STOP_MARKET`) go to
//!   `POST /fapi/v1/algoOrder` with `algoType=CONDITIONAL` (§3.4: refused with `-4120` on the
//!   order endpoint since 2025-12-09), where the trigger is `triggerPrice`, the trailing
//!   activation is `activatePrice` and the client id is `clientAlgoId`.
//! - `timeInForce` only with a limit price (`POST_ONLY` is sent as `GTX`); `quantity` unless
//!   `closePosition`; `reduceOnly`, `closePosition`, `priceProtect` only when true, as
//!   `"true"`; `positionSide` always; `workingType` only on conditional orders.
//! - Prices and quantities are sent as their exact decimal text, trailing zeros trimmed.
//! - A client order id is mandatory (trap 3 of `DEPENDENCIES.md`): it is what makes a timed-out
//!   placement safe to resolve.

use kestrel_model::order::{
    Fill, Liquidity, OrderRequest, OrderStatus, OrderType, PositionSide, TimeInForce, WorkingType,
};
use kestrel_model::{Money, Price, Qty, Rate, Side};
use serde::Deserialize;

use super::request_error::RequestError;
use super::signing::Params;
use super::wire;

/// How an order is named in a cancel or a query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderKey {
    /// The venue's order id (`orderId`, or `algoId` for algo orders).
    OrderId(u64),
    /// Our client order id (`origClientOrderId`, or `clientAlgoId` for algo orders).
    ClientOrderId(String),
}

impl OrderKey {
    /// Adds the key as `orderId` / `origClientOrderId`.
    pub(crate) fn add_to(&self, params: &mut Params) {
        match self {
            Self::OrderId(id) => params.int("orderId", *id),
            Self::ClientOrderId(id) => params.text("origClientOrderId", id.clone()),
        };
    }

    /// Adds the key as `algoId` / `clientAlgoId`.
    pub(crate) fn add_algo_to(&self, params: &mut Params) {
        match self {
            Self::OrderId(id) => params.int("algoId", *id),
            Self::ClientOrderId(id) => params.text("clientAlgoId", id.clone()),
        };
    }
}

/// `newOrderRespType` (§3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResponseType {
    /// The order as accepted (`ACK`, Binance's default; the fastest answer).
    #[default]
    Ack,
    /// Market and IOC/FOK orders in their final state (`RESULT`).
    Result,
}

impl ResponseType {
    const fn binance_name(self) -> &'static str {
        match self {
            Self::Ack => "ACK",
            Self::Result => "RESULT",
        }
    }
}

/// `selfTradePreventionMode` (§3.3): which side expires when we would trade with ourselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SelfTradePrevention {
    /// No prevention.
    None,
    /// The taker expires.
    ExpireTaker,
    /// The maker expires.
    ExpireMaker,
    /// Both expire.
    ExpireBoth,
}

impl SelfTradePrevention {
    const fn binance_name(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::ExpireTaker => "EXPIRE_TAKER",
            Self::ExpireMaker => "EXPIRE_MAKER",
            Self::ExpireBoth => "EXPIRE_BOTH",
        }
    }
}

/// An order ready to send: an [`OrderRequest`]'s venue fields plus Binance-only options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// The order type.
    pub order_type: OrderType,
    /// `BOTH` in one-way mode, `LONG`/`SHORT` in hedge mode.
    pub position_side: PositionSide,
    /// Time in force (orders with a limit price).
    pub time_in_force: Option<TimeInForce>,
    /// The quantity; `None` with `close_position`.
    pub quantity: Option<Qty>,
    /// The limit price (limit-priced types).
    pub price: Option<Price>,
    /// The trigger price (stop and take-profit types).
    pub stop_price: Option<Price>,
    /// Reduce-only.
    pub reduce_only: bool,
    /// Close the whole position when triggered.
    pub close_position: bool,
    /// Which price triggers a conditional order.
    pub working_type: WorkingType,
    /// Trigger only when mark and last price agree within the symbol's `triggerProtect`.
    pub price_protect: bool,
    /// Trailing stop activation price.
    pub activation_price: Option<Price>,
    /// Trailing stop callback in percent.
    pub callback_rate: Option<Rate>,
    /// The client order id (`newClientOrderId` / `clientAlgoId`).
    pub client_order_id: String,
    /// The answer wanted.
    pub response_type: ResponseType,
    /// Self-trade prevention; the venue's default when `None`.
    pub self_trade_prevention: Option<SelfTradePrevention>,
}

impl NewOrder {
    /// The venue order for `request`, which must be well formed and carry a client order id.
    ///
    /// # Errors
    /// [`RequestError::Invalid`] when the request fails [`OrderRequest::check_shape`] or has
    /// no client order id.
    pub fn from_request(request: &OrderRequest) -> Result<Self, RequestError> {
        request.check_shape().map_err(|e| RequestError::Invalid {
            reason: e.to_string(),
        })?;
        let client_order_id =
            request
                .client_order_id
                .clone()
                .ok_or_else(|| RequestError::Invalid {
                    reason: format!(
                        "order {} has no client order id; one is required to resolve timeouts",
                        request.request_id
                    ),
                })?;
        Ok(Self {
            symbol: request.symbol.clone(),
            side: request.side,
            order_type: request.order_type,
            position_side: request.position_side,
            time_in_force: request.time_in_force,
            quantity: (!request.close_position).then_some(request.quantity),
            price: request.price,
            stop_price: request.stop_price,
            reduce_only: request.reduce_only,
            close_position: request.close_position,
            working_type: request.working_type,
            price_protect: false,
            activation_price: request.activation_price,
            callback_rate: request.callback_rate,
            client_order_id,
            response_type: ResponseType::Ack,
            self_trade_prevention: None,
        })
    }

    /// Whether the order goes to the algo endpoint (§3.4).
    #[must_use]
    pub const fn is_algo(&self) -> bool {
        self.order_type.is_conditional()
    }

    /// The parameters of `POST /fapi/v1/order` (and of a `batchOrders` element, and of
    /// the WebSocket API's `order.place`), without `timestamp`/`recvWindow`.
    ///
    /// # Errors
    /// [`RequestError::Invalid`] for a conditional type (it belongs on the algo endpoint).
    pub fn order_params(&self) -> Result<Params, RequestError> {
        if self.is_algo() {
            return Err(RequestError::Invalid {
                reason: format!(
                    "{} orders go to /fapi/v1/algoOrder (Binance refuses them on /fapi/v1/order with -4120)",
                    self.order_type.binance_name()
                ),
            });
        }
        let mut params = self.common_params();
        params
            .text("newClientOrderId", self.client_order_id.clone())
            .text("newOrderRespType", self.response_type.binance_name());
        Ok(params)
    }

    /// The parameters of `POST /fapi/v1/algoOrder`, without `timestamp`/`recvWindow`.
    ///
    /// # Errors
    /// [`RequestError::Invalid`] for `LIMIT` and `MARKET` (they are not conditional).
    pub fn algo_params(&self) -> Result<Params, RequestError> {
        if !self.is_algo() {
            return Err(RequestError::Invalid {
                reason: format!(
                    "{} orders go to /fapi/v1/order, not the algo endpoint",
                    self.order_type.binance_name()
                ),
            });
        }
        let mut params = Params::new();
        params.text("algoType", "CONDITIONAL");
        for param in self.common_params().items() {
            params.text(param.key, param.value.clone());
        }
        params
            .opt_text("triggerPrice", self.stop_price.map(|p| p.to_string()))
            .text("workingType", working_type_name(self.working_type))
            .flag("priceProtect", self.price_protect)
            .flag("closePosition", self.close_position)
            .opt_text(
                "activatePrice",
                self.activation_price.map(|p| p.to_string()),
            )
            .opt_text("callbackRate", self.callback_rate.map(|r| r.to_string()))
            .text("clientAlgoId", self.client_order_id.clone());
        Ok(params)
    }

    /// The fields both endpoints share.
    fn common_params(&self) -> Params {
        let mut params = Params::new();
        params
            .text("symbol", self.symbol.clone())
            .text("side", self.side.binance_name())
            .text("positionSide", position_side_name(self.position_side))
            .text("type", self.order_type.binance_name());
        if self.order_type.has_limit_price() {
            params.opt_text(
                "timeInForce",
                self.time_in_force.map(TimeInForce::binance_name),
            );
        }
        params
            .opt_text("quantity", self.quantity.map(|q| q.to_string()))
            .opt_text("price", self.price.map(|p| p.to_string()))
            .flag("reduceOnly", self.reduce_only)
            .opt_text(
                "selfTradePreventionMode",
                self.self_trade_prevention
                    .map(SelfTradePrevention::binance_name),
            );
        params
    }
}

/// Binance's spelling of a position side.
#[must_use]
pub const fn position_side_name(side: PositionSide) -> &'static str {
    match side {
        PositionSide::Both => "BOTH",
        PositionSide::Long => "LONG",
        PositionSide::Short => "SHORT",
    }
}

/// Binance's spelling of a working type.
#[must_use]
pub const fn working_type_name(working: WorkingType) -> &'static str {
    match working {
        WorkingType::ContractPrice => "CONTRACT_PRICE",
        WorkingType::MarkPrice => "MARK_PRICE",
    }
}

/// An order's status as Binance reports it (§9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VenueOrderStatus {
    /// Working, nothing filled.
    New,
    /// Partly filled, the rest working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled.
    Canceled,
    /// Refused.
    Rejected,
    /// Ended by its time in force, a market remainder, or the venue.
    Expired,
    /// Ended by self-trade prevention.
    ExpiredInMatch,
    /// A liquidation order handed to the insurance fund.
    NewInsurance,
    /// An auto-deleveraging order.
    NewAdl,
}

impl VenueOrderStatus {
    /// Kestrel's status for it: `NEW` (and the liquidation states) are `Submitted`, the two
    /// expiries are `Expired`.
    #[must_use]
    pub const fn to_model(self) -> OrderStatus {
        match self {
            Self::New | Self::NewInsurance | Self::NewAdl => OrderStatus::Submitted,
            Self::PartiallyFilled => OrderStatus::PartiallyFilled,
            Self::Filled => OrderStatus::Filled,
            Self::Canceled => OrderStatus::Canceled,
            Self::Rejected => OrderStatus::Rejected,
            Self::Expired | Self::ExpiredInMatch => OrderStatus::Expired,
        }
    }

    /// Whether the order can still execute (§9.3).
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, Self::New | Self::PartiallyFilled)
    }
}

/// An order type as Binance reports it (§3.3, §8.2): Kestrel's types plus `LIQUIDATION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VenueOrderType {
    /// `LIMIT`.
    Limit,
    /// `MARKET`.
    Market,
    /// `STOP` (stop-limit).
    Stop,
    /// `STOP_MARKET`.
    StopMarket,
    /// `TAKE_PROFIT` (take-profit limit).
    TakeProfit,
    /// `TAKE_PROFIT_MARKET`.
    TakeProfitMarket,
    /// `TRAILING_STOP_MARKET`.
    TrailingStopMarket,
    /// A liquidation order placed by the venue.
    Liquidation,
}

impl VenueOrderType {
    /// Kestrel's order type; `None` for `LIQUIDATION`.
    #[must_use]
    pub const fn to_model(self) -> Option<OrderType> {
        Some(match self {
            Self::Limit => OrderType::Limit,
            Self::Market => OrderType::Market,
            Self::Stop => OrderType::StopLimit,
            Self::StopMarket => OrderType::StopMarket,
            Self::TakeProfit => OrderType::TakeProfitLimit,
            Self::TakeProfitMarket => OrderType::TakeProfitMarket,
            Self::TrailingStopMarket => OrderType::TrailingStopMarket,
            Self::Liquidation => return None,
        })
    }
}

/// A time in force as Binance reports it (§3.3): Kestrel's plus `GTD`, `RPI`, `GTE_GTC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum VenueTimeInForce {
    /// Good till cancelled.
    #[serde(rename = "GTC")]
    Gtc,
    /// Immediate or cancel.
    #[serde(rename = "IOC")]
    Ioc,
    /// Fill or kill.
    #[serde(rename = "FOK")]
    Fok,
    /// Post only.
    #[serde(rename = "GTX")]
    Gtx,
    /// Good till date.
    #[serde(rename = "GTD")]
    Gtd,
    /// Retail price improvement (post only).
    #[serde(rename = "RPI")]
    Rpi,
    /// Tied to a position (TP/SL).
    #[serde(rename = "GTE_GTC")]
    GteGtc,
}

impl VenueTimeInForce {
    /// Kestrel's time in force, where it has one.
    #[must_use]
    pub const fn to_model(self) -> Option<TimeInForce> {
        match self {
            Self::Gtc => Some(TimeInForce::Gtc),
            Self::Ioc => Some(TimeInForce::Ioc),
            Self::Fok => Some(TimeInForce::Fok),
            Self::Gtx => Some(TimeInForce::Gtx),
            Self::Gtd | Self::Rpi | Self::GteGtc => None,
        }
    }
}

/// The REST order object (§3.3), answered by place, cancel, modify and the order queries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VenueOrder {
    /// The venue's order id.
    pub order_id: u64,
    /// The symbol.
    pub symbol: String,
    /// The status.
    pub status: VenueOrderStatus,
    /// Our client order id.
    pub client_order_id: String,
    /// The limit price (`0` for market orders).
    pub price: Price,
    /// The average fill price (`0` before any fill).
    #[serde(deserialize_with = "wire::computed_price")]
    pub avg_price: Price,
    /// The quantity ordered.
    pub orig_qty: Qty,
    /// The quantity filled.
    pub executed_qty: Qty,
    /// The quantity filled (place, cancel and modify answers only).
    #[serde(default)]
    pub cum_qty: Option<Qty>,
    /// The quote notional filled.
    pub cum_quote: Money,
    /// Time in force.
    pub time_in_force: VenueTimeInForce,
    /// The type now (a triggered stop becomes `LIMIT`/`MARKET`).
    #[serde(rename = "type")]
    pub order_type: VenueOrderType,
    /// The type it was placed as.
    pub orig_type: VenueOrderType,
    /// Reduce-only.
    pub reduce_only: bool,
    /// Close-position.
    pub close_position: bool,
    /// Buy or sell.
    pub side: Side,
    /// The position side.
    pub position_side: PositionSide,
    /// The trigger price (`0` when not conditional).
    pub stop_price: Price,
    /// Which price triggers it.
    pub working_type: WorkingType,
    /// Price protection.
    pub price_protect: bool,
    /// Self-trade prevention mode.
    #[serde(default)]
    pub self_trade_prevention_mode: Option<SelfTradePrevention>,
    /// The GTD cancel time (0 unless GTD).
    #[serde(default)]
    pub good_till_date: u64,
    /// Creation time, ms (query answers only).
    #[serde(default)]
    pub time: Option<u64>,
    /// Last change, ms.
    pub update_time: u64,
    /// Trailing stop activation price.
    #[serde(default, deserialize_with = "wire::opt_nonzero_price")]
    pub activate_price: Option<Price>,
    /// Trailing stop callback rate.
    #[serde(default, deserialize_with = "wire::opt_nonzero_rate")]
    pub price_rate: Option<Rate>,
}

/// A conditional order's status (§3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlgoStatus {
    /// Waiting for its trigger.
    New,
    /// Cancelled.
    Canceled,
    /// Being sent to the matching engine.
    Triggering,
    /// Placed in the matching engine.
    Triggered,
    /// Its child order filled or was cancelled.
    Finished,
    /// Refused at trigger (e.g. margin).
    Rejected,
    /// Cancelled by the system.
    Expired,
}

impl AlgoStatus {
    /// Whether the conditional order still waits or works.
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, Self::New | Self::Triggering | Self::Triggered)
    }
}

/// An algo (conditional) order as `POST`/`GET /fapi/v1/algoOrder` answer it (§3.4).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlgoOrder {
    /// The venue's algo id.
    pub algo_id: u64,
    /// Our client algo id.
    pub client_algo_id: String,
    /// The conditional type.
    pub order_type: VenueOrderType,
    /// The symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// The position side.
    pub position_side: PositionSide,
    /// Time in force.
    pub time_in_force: VenueTimeInForce,
    /// The quantity (`0` with close-position).
    pub quantity: Qty,
    /// The status.
    pub algo_status: AlgoStatus,
    /// The trigger price.
    #[serde(deserialize_with = "wire::computed_price")]
    pub trigger_price: Price,
    /// The limit price (`0` for market variants).
    #[serde(deserialize_with = "wire::computed_price")]
    pub price: Price,
    /// Which price triggers it.
    pub working_type: WorkingType,
    /// Close-position.
    pub close_position: bool,
    /// Price protection.
    pub price_protect: bool,
    /// Reduce-only.
    pub reduce_only: bool,
    /// Trailing stop activation price.
    #[serde(default, deserialize_with = "wire::opt_nonzero_price")]
    pub activate_price: Option<Price>,
    /// Trailing stop callback rate.
    #[serde(default, deserialize_with = "wire::opt_nonzero_rate")]
    pub callback_rate: Option<Rate>,
    /// Creation time, ms.
    pub create_time: u64,
    /// Last change, ms.
    pub update_time: u64,
    /// Trigger time, ms, once triggered.
    #[serde(default, deserialize_with = "wire::opt_id")]
    pub trigger_time: Option<u64>,
    /// The child order's id in the matching engine, once triggered (`GET` only).
    #[serde(default, deserialize_with = "wire::opt_id")]
    pub actual_order_id: Option<u64>,
    /// The child order's average price, once filled (`GET` only).
    #[serde(default, deserialize_with = "wire::opt_nonzero_price")]
    pub actual_price: Option<Price>,
}

/// The answer to `DELETE /fapi/v1/algoOrder` (§3.4).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlgoCancel {
    /// The algo id.
    pub algo_id: u64,
    /// The client algo id.
    pub client_algo_id: String,
}

/// What a placement produced: a regular order or an algo order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// From `POST /fapi/v1/order`.
    Order(VenueOrder),
    /// From `POST /fapi/v1/algoOrder`.
    Algo(AlgoOrder),
}

/// One of our fills from `GET /fapi/v1/userTrades` (§3.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTrade {
    /// The trade id (unique per symbol).
    pub id: u64,
    /// The order it belongs to.
    pub order_id: u64,
    /// The symbol.
    pub symbol: String,
    /// Our order's side.
    pub side: Side,
    /// The position side.
    pub position_side: PositionSide,
    /// Whether we bought.
    pub buyer: bool,
    /// Whether we were the maker.
    pub maker: bool,
    /// The fill price.
    pub price: Price,
    /// The fill quantity.
    pub qty: Qty,
    /// The quote notional.
    pub quote_qty: Money,
    /// The commission (negative for a rebate).
    pub commission: Money,
    /// The commission's asset.
    pub commission_asset: String,
    /// Realized P&L of this fill.
    pub realized_pnl: Money,
    /// Execution time, ms.
    pub time: u64,
}

impl UserTrade {
    /// The model fill, given the order's client id (the trade row does not carry it).
    #[must_use]
    pub fn to_fill(&self, client_order_id: &str) -> Fill {
        Fill {
            order_id: self.order_id,
            client_order_id: client_order_id.to_owned(),
            symbol: self.symbol.clone(),
            side: self.side,
            price: self.price,
            quantity: self.qty,
            commission: self.commission,
            commission_asset: self.commission_asset.clone(),
            liquidity: if self.maker {
                Liquidity::Maker
            } else {
                Liquidity::Taker
            },
            trade_id: self.id,
            timestamp_ms: self.time,
        }
    }
}

/// A filter for `GET /fapi/v1/userTrades` (§3.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradeQuery {
    /// The symbol (required).
    pub symbol: String,
    /// Only this order's fills.
    pub order_id: Option<u64>,
    /// Trades with ids from this one on (cannot be combined with times).
    pub from_id: Option<u64>,
    /// From this time, ms.
    pub start_time_ms: Option<u64>,
    /// Until this time, ms (at most 7 days after the start).
    pub end_time_ms: Option<u64>,
    /// At most this many rows (default 500, max 1000).
    pub limit: Option<u16>,
}

impl TradeQuery {
    /// Every recent trade of `symbol`.
    #[must_use]
    pub fn symbol(symbol: impl Into<String>) -> Self {
        Self {
            symbol: symbol.into(),
            ..Self::default()
        }
    }

    /// The fills of one order.
    #[must_use]
    pub fn order(symbol: impl Into<String>, order_id: u64) -> Self {
        Self {
            order_id: Some(order_id),
            ..Self::symbol(symbol)
        }
    }

    pub(crate) fn params(&self) -> Params {
        let mut params = Params::new();
        params
            .text("symbol", self.symbol.clone())
            .opt_int("orderId", self.order_id)
            .opt_int("fromId", self.from_id)
            .opt_int("startTime", self.start_time_ms)
            .opt_int("endTime", self.end_time_ms)
            .opt_int("limit", self.limit.map(u64::from));
        params
    }
}

#[cfg(test)]
mod tests;
