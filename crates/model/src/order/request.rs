//! [`OrderRequest`]: what a strategy or an operator asks the execution engine to do
//! (seed 000 FR-OE-001), with the enums it is made of.

use serde::{Deserialize, Serialize};

use crate::money::{Price, Qty, Rate};

/// The direction of an order or a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy the base asset.
    #[serde(alias = "BUY")]
    Buy,
    /// Sell the base asset.
    #[serde(alias = "SELL")]
    Sell,
}

impl Side {
    /// The other side.
    #[must_use]
    pub const fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }

    /// `+1` for a buy and `-1` for a sell: the sign a fill of this side gives a position.
    #[must_use]
    pub const fn sign(self) -> i64 {
        match self {
            Self::Buy => 1,
            Self::Sell => -1,
        }
    }

    /// Binance's spelling (`BUY` / `SELL`).
    #[must_use]
    pub const fn binance_name(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }
}

/// The order types Kestrel can express. Binance names in parentheses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// A limit order (`LIMIT`).
    #[serde(alias = "LIMIT")]
    Limit,
    /// A market order (`MARKET`).
    #[serde(alias = "MARKET")]
    Market,
    /// A limit order placed when the stop price is reached (`STOP`).
    #[serde(alias = "STOP", alias = "stop")]
    StopLimit,
    /// A market order placed when the stop price is reached (`STOP_MARKET`).
    #[serde(alias = "STOP_MARKET")]
    StopMarket,
    /// A limit order placed when the take-profit price is reached (`TAKE_PROFIT`).
    #[serde(alias = "TAKE_PROFIT", alias = "take_profit")]
    TakeProfitLimit,
    /// A market order placed when the take-profit price is reached (`TAKE_PROFIT_MARKET`).
    #[serde(alias = "TAKE_PROFIT_MARKET")]
    TakeProfitMarket,
    /// A market order that trails the price by a callback rate (`TRAILING_STOP_MARKET`).
    #[serde(alias = "TRAILING_STOP_MARKET")]
    TrailingStopMarket,
}

impl OrderType {
    /// Binance's spelling of the type.
    #[must_use]
    pub const fn binance_name(self) -> &'static str {
        match self {
            Self::Limit => "LIMIT",
            Self::Market => "MARKET",
            Self::StopLimit => "STOP",
            Self::StopMarket => "STOP_MARKET",
            Self::TakeProfitLimit => "TAKE_PROFIT",
            Self::TakeProfitMarket => "TAKE_PROFIT_MARKET",
            Self::TrailingStopMarket => "TRAILING_STOP_MARKET",
        }
    }

    /// Whether the order carries a limit price.
    #[must_use]
    pub const fn has_limit_price(self) -> bool {
        matches!(self, Self::Limit | Self::StopLimit | Self::TakeProfitLimit)
    }

    /// Whether the order waits for a trigger before it reaches the book.
    #[must_use]
    pub const fn is_conditional(self) -> bool {
        !matches!(self, Self::Limit | Self::Market)
    }

    /// Whether the order needs a stop (trigger) price.
    #[must_use]
    pub const fn needs_stop_price(self) -> bool {
        matches!(
            self,
            Self::StopLimit | Self::StopMarket | Self::TakeProfitLimit | Self::TakeProfitMarket
        )
    }

    /// Whether the order executes as a market order once it is live.
    #[must_use]
    pub const fn is_market(self) -> bool {
        matches!(
            self,
            Self::Market | Self::StopMarket | Self::TakeProfitMarket | Self::TrailingStopMarket
        )
    }
}

/// How long an order stays working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel: fill what can be filled now, expire the rest.
    Ioc,
    /// Fill or kill: fill completely now or not at all.
    Fok,
    /// Post only, the seed's name; sent to Binance as `GTX`.
    PostOnly,
    /// Good till crossing: Binance's post-only (rejected if it would take).
    Gtx,
}

impl TimeInForce {
    /// Whether the order must rest as a maker and is refused if it would take.
    #[must_use]
    pub const fn is_post_only(self) -> bool {
        matches!(self, Self::PostOnly | Self::Gtx)
    }

    /// Binance's spelling (`POST_ONLY` is sent as `GTX`).
    #[must_use]
    pub const fn binance_name(self) -> &'static str {
        match self {
            Self::Gtc => "GTC",
            Self::Ioc => "IOC",
            Self::Fok => "FOK",
            Self::PostOnly | Self::Gtx => "GTX",
        }
    }
}

/// Which position an order acts on: `Both` in one-way mode, `Long`/`Short` in hedge mode.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PositionSide {
    /// One-way mode: a single net position per symbol.
    #[default]
    Both,
    /// Hedge mode: the long leg.
    Long,
    /// Hedge mode: the short leg.
    Short,
}

/// Which price triggers a conditional order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkingType {
    /// The last traded price (Binance's default).
    #[default]
    ContractPrice,
    /// The mark price.
    MarkPrice,
}

/// Where an order goes (seed 000 FR-OE-007).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionMode {
    /// Orders go to a venue (Binance, its testnet, or the Kestrel simulator).
    #[default]
    Live,
    /// Paper trading: a local matcher fills orders against the live book.
    Simulation,
    /// Signals are logged; no order is created.
    Observation,
}

/// A request to place one order (seed 000 FR-OE-001, plus the Binance fields a futures
/// trader needs: position side, reduce-only, close-position, trigger settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The caller's idempotency key (a UUID): repeating it must not create a second order.
    pub request_id: String,
    /// The venue symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// The order type.
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// Required for orders with a limit price; ignored by market orders.
    #[serde(default)]
    pub time_in_force: Option<TimeInForce>,
    /// The limit price, required for limit-priced types.
    #[serde(default)]
    pub price: Option<Price>,
    /// The quantity in base units; zero only with `close_position`.
    pub quantity: Qty,
    /// The trigger price of stop and take-profit orders.
    #[serde(default)]
    pub stop_price: Option<Price>,
    /// Only reduce an existing position, never open or grow one.
    #[serde(default)]
    pub reduce_only: bool,
    /// Close the whole position when triggered (stop/take-profit market orders only).
    #[serde(default)]
    pub close_position: bool,
    /// Which position the order acts on.
    #[serde(default)]
    pub position_side: PositionSide,
    /// The client order id to use; the execution engine assigns one when absent.
    #[serde(default)]
    pub client_order_id: Option<String>,
    /// Live, simulation (paper) or observation.
    #[serde(default)]
    pub execution_mode: ExecutionMode,
    /// Which price triggers a conditional order.
    #[serde(default)]
    pub working_type: WorkingType,
    /// Trailing stop callback in percent (1 means 1%), 0.1 to 10.
    #[serde(default)]
    pub callback_rate: Option<Rate>,
    /// Trailing stop activation price.
    #[serde(default)]
    pub activation_price: Option<Price>,
}

/// Why an [`OrderRequest`] is malformed, before any exchange rule is looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderRequestError {
    /// A field the order type requires is absent.
    #[error("{order_type:?} order requires `{field}`")]
    MissingField {
        /// The order type.
        order_type: OrderType,
        /// The missing field.
        field: &'static str,
    },
    /// A field is present that the order type does not allow.
    #[error("`{field}` is not allowed here: {reason}")]
    FieldNotAllowed {
        /// The offending field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A numeric field is zero or negative, or out of its documented range.
    #[error("`{field}` must be {expected}, got {found}")]
    BadValue {
        /// The offending field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What was given.
        found: String,
    },
    /// The client order id breaks Binance's rule `^[.A-Z:/a-z0-9_-]{1,36}$`.
    #[error("client order id {0:?} must be 1 to 36 characters of A-Z a-z 0-9 . : / _ -")]
    BadClientOrderId(String),
    /// The symbol is empty or not upper-case alphanumeric.
    #[error("symbol {0:?} must be upper-case letters and digits, e.g. BTCUSDT")]
    BadSymbol(String),
}

impl OrderRequest {
    /// Checks that the request is well formed for its type: required fields present,
    /// forbidden combinations absent, quantities and prices positive, ids valid.
    ///
    /// # Errors
    /// The first [`OrderRequestError`] found.
    pub fn check_shape(&self) -> Result<(), OrderRequestError> {
        check_symbol(&self.symbol)?;
        if let Some(id) = &self.client_order_id {
            check_client_order_id(id)?;
        }
        self.check_prices()?;
        self.check_quantity()?;
        self.check_flags()
    }

    fn check_prices(&self) -> Result<(), OrderRequestError> {
        let kind = self.order_type;
        match (kind.has_limit_price(), self.price) {
            (true, None) => return Err(missing(kind, "price")),
            (true, Some(p)) => positive("price", p.raw(), &p)?,
            (false, Some(_)) => {
                return Err(not_allowed(
                    "price",
                    "market-type orders have no limit price",
                ));
            }
            (false, None) => {}
        }
        if kind.has_limit_price() && self.time_in_force.is_none() {
            return Err(missing(kind, "time_in_force"));
        }
        match (kind.needs_stop_price(), self.stop_price) {
            (true, None) => return Err(missing(kind, "stop_price")),
            (true, Some(p)) => positive("stop_price", p.raw(), &p)?,
            (false, Some(_)) => {
                return Err(not_allowed(
                    "stop_price",
                    "only stop and take-profit orders trigger on a stop price",
                ));
            }
            (false, None) => {}
        }
        self.check_trailing()
    }

    fn check_trailing(&self) -> Result<(), OrderRequestError> {
        let trailing = self.order_type == OrderType::TrailingStopMarket;
        match (trailing, self.callback_rate) {
            (true, None) => Err(missing(self.order_type, "callback_rate")),
            (true, Some(rate))
                if rate < Rate::from_raw(10_000_000) || rate > Rate::from_raw(1_000_000_000) =>
            {
                Err(OrderRequestError::BadValue {
                    field: "callback_rate",
                    expected: "between 0.1 and 10 (percent)",
                    found: rate.to_string(),
                })
            }
            (false, Some(_)) => Err(not_allowed(
                "callback_rate",
                "only trailing stops have a callback rate",
            )),
            _ if !trailing && self.activation_price.is_some() => Err(not_allowed(
                "activation_price",
                "only trailing stops have an activation price",
            )),
            _ => Ok(()),
        }
    }

    fn check_quantity(&self) -> Result<(), OrderRequestError> {
        if self.close_position {
            if !matches!(
                self.order_type,
                OrderType::StopMarket | OrderType::TakeProfitMarket
            ) {
                return Err(not_allowed(
                    "close_position",
                    "only STOP_MARKET and TAKE_PROFIT_MARKET can close a position",
                ));
            }
            if !self.quantity.is_zero() {
                return Err(not_allowed(
                    "quantity",
                    "close_position closes the whole position; send no quantity",
                ));
            }
            return Ok(());
        }
        positive("quantity", self.quantity.raw(), &self.quantity)
    }

    fn check_flags(&self) -> Result<(), OrderRequestError> {
        if self.reduce_only && self.close_position {
            return Err(not_allowed(
                "reduce_only",
                "cannot be combined with close_position",
            ));
        }
        if self.reduce_only && self.position_side != PositionSide::Both {
            return Err(not_allowed(
                "reduce_only",
                "hedge mode expresses reduction through side and position_side",
            ));
        }
        if self.time_in_force.is_some() && !self.order_type.has_limit_price() {
            return Err(not_allowed(
                "time_in_force",
                "only orders with a limit price have a time in force",
            ));
        }
        Ok(())
    }
}

fn missing(order_type: OrderType, field: &'static str) -> OrderRequestError {
    OrderRequestError::MissingField { order_type, field }
}

fn not_allowed(field: &'static str, reason: &'static str) -> OrderRequestError {
    OrderRequestError::FieldNotAllowed { field, reason }
}

fn positive(
    field: &'static str,
    raw: i64,
    shown: &dyn std::fmt::Display,
) -> Result<(), OrderRequestError> {
    if raw > 0 {
        Ok(())
    } else {
        Err(OrderRequestError::BadValue {
            field,
            expected: "greater than zero",
            found: shown.to_string(),
        })
    }
}

/// Checks a symbol: 1 to 32 upper-case ASCII letters and digits.
///
/// # Errors
/// [`OrderRequestError::BadSymbol`].
pub fn check_symbol(symbol: &str) -> Result<(), OrderRequestError> {
    let ok = (1..=32).contains(&symbol.len())
        && symbol
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(OrderRequestError::BadSymbol(symbol.to_owned()))
    }
}

/// Checks a client order id against Binance's `^[\.A-Z\:/a-z0-9_-]{1,36}$`.
///
/// # Errors
/// [`OrderRequestError::BadClientOrderId`].
pub fn check_client_order_id(id: &str) -> Result<(), OrderRequestError> {
    let ok = (1..=36).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(OrderRequestError::BadClientOrderId(id.to_owned()))
    }
}
