//! The venue's record of one order and its Binance JSON shapes: the REST order object
//! (`binance-futures.md` §3.3) and the `ORDER_TRADE_UPDATE` / `TRADE_LITE` user events (§8.2,
//! §8.4).

use kestrel_model::order::{OrderType, PositionSide, Side, TimeInForce, WorkingType};
use kestrel_model::{Money, Price, Qty, Rate, RoundingMode};
use serde_json::{Value, json};

use crate::engine::Stp;

/// An order's status as Binance reports it (§9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VenueStatus {
    /// Accepted and working, nothing filled.
    New,
    /// Some quantity filled, the rest working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled by the user or the venue.
    Canceled,
    /// Ended by its time in force or as a market remainder.
    Expired,
    /// Ended by self-trade prevention.
    ExpiredInMatch,
}

impl VenueStatus {
    /// Binance's spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::PartiallyFilled => "PARTIALLY_FILLED",
            Self::Filled => "FILLED",
            Self::Canceled => "CANCELED",
            Self::Expired => "EXPIRED",
            Self::ExpiredInMatch => "EXPIRED_IN_MATCH",
        }
    }

    /// Whether the order can still execute.
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, Self::New | Self::PartiallyFilled)
    }
}

/// The venue's record of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// The venue order id (increasing).
    pub order_id: u64,
    /// The owning account.
    pub account: u32,
    /// The symbol.
    pub symbol: String,
    /// The client order id (given or generated).
    pub client_order_id: String,
    /// Buy or sell.
    pub side: Side,
    /// BOTH, LONG or SHORT.
    pub position_side: PositionSide,
    /// The type the order has now (a triggered stop becomes LIMIT or MARKET).
    pub order_type: OrderType,
    /// The type it was placed with.
    pub orig_type: OrderType,
    /// Time in force (`None` reported as GTC, Binance's default for market orders).
    pub time_in_force: Option<TimeInForce>,
    /// The limit price, zero for market orders.
    pub price: Price,
    /// The trigger price, zero when not conditional.
    pub stop_price: Price,
    /// The quantity ordered.
    pub orig_qty: Qty,
    /// The quantity filled so far.
    pub executed_qty: Qty,
    /// The quote notional filled so far, exact.
    pub cum_quote: Money,
    /// The status.
    pub status: VenueStatus,
    /// Reduce-only flag.
    pub reduce_only: bool,
    /// Close-position flag (conditional orders).
    pub close_position: bool,
    /// Which price triggers it.
    pub working_type: WorkingType,
    /// Price protection flag.
    pub price_protect: bool,
    /// Self-trade prevention mode.
    pub stp: Stp,
    /// Binance's `priceMatch` mode (`NONE` when the price was given).
    pub price_match: &'static str,
    /// Trailing stop activation price.
    pub activate_price: Option<Price>,
    /// Trailing stop callback rate in percent.
    pub price_rate: Option<Rate>,
    /// Creation time, ms.
    pub time_ms: u64,
    /// Last change, ms.
    pub update_time_ms: u64,
}

/// What one event did to an order, for `ORDER_TRADE_UPDATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// `NEW`, `TRADE`, `CANCELED`, `EXPIRED`, `AMENDMENT`, `CALCULATED`.
    pub kind: &'static str,
    /// The fill of a `TRADE` execution.
    pub fill: Option<FillReport>,
    /// Binance's expiry reason code (`er`), 0 when none.
    pub expiry_reason: u8,
}

/// One fill as reported on the user stream and in `userTrades`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillReport {
    /// The trade id.
    pub trade_id: u64,
    /// The fill price.
    pub price: Price,
    /// The fill quantity.
    pub qty: Qty,
    /// Commission paid (negative for a rebate), USDT.
    pub commission: Money,
    /// Realized P&L of this fill, USDT.
    pub realized_pnl: Money,
    /// Whether this order was the maker.
    pub is_maker: bool,
    /// Execution time, ms.
    pub time_ms: u64,
}

/// Decimal places used for prices, quantities and amounts in JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precision {
    /// Decimals of prices (`pricePrecision`).
    pub price: usize,
    /// Decimals of quantities (`quantityPrecision`).
    pub qty: usize,
}

/// Decimals Binance uses for USDT amounts (commissions, balances, P&L).
pub const AMOUNT_DECIMALS: usize = 8;

impl OrderRecord {
    /// The average fill price, zero before any fill.
    #[must_use]
    pub fn avg_price(&self) -> Price {
        self.cum_quote
            .try_div_qty(self.executed_qty, RoundingMode::HalfEven)
            .unwrap_or(Price::ZERO)
    }

    /// The quantity still working.
    #[must_use]
    pub fn remaining_qty(&self) -> Qty {
        self.orig_qty
            .try_sub(self.executed_qty)
            .unwrap_or(Qty::ZERO)
            .max(Qty::ZERO)
    }

    fn tif_name(&self) -> &'static str {
        self.time_in_force.map_or("GTC", TimeInForce::binance_name)
    }

    /// The REST order object (§3.3), as returned by place, cancel, modify and the queries.
    #[must_use]
    pub fn to_json(&self, p: Precision) -> Value {
        let mut object = json!({
            "orderId": self.order_id,
            "symbol": self.symbol,
            "status": self.status.as_str(),
            "clientOrderId": self.client_order_id,
            "price": format!("{:.*}", p.price, self.price),
            "avgPrice": format!("{:.*}", p.price + 3, self.avg_price()),
            "origQty": format!("{:.*}", p.qty, self.orig_qty),
            "executedQty": format!("{:.*}", p.qty, self.executed_qty),
            "cumQty": format!("{:.*}", p.qty, self.executed_qty),
            "cumQuote": format!("{:.*}", AMOUNT_DECIMALS, self.cum_quote),
            "timeInForce": self.tif_name(),
            "type": self.order_type.binance_name(),
            "origType": self.orig_type.binance_name(),
            "reduceOnly": self.reduce_only,
            "closePosition": self.close_position,
            "side": self.side.binance_name(),
            "positionSide": position_side_name(self.position_side),
            "stopPrice": format!("{:.*}", p.price, self.stop_price),
            "workingType": working_type_name(self.working_type),
            "priceProtect": self.price_protect,
            "priceMatch": self.price_match,
            "selfTradePreventionMode": self.stp.binance_name(),
            "goodTillDate": 0,
            "time": self.time_ms,
            "updateTime": self.update_time_ms,
        });
        if let (Some(activate), Some(rate), Some(map)) =
            (self.activate_price, self.price_rate, object.as_object_mut())
        {
            map.insert(
                "activatePrice".into(),
                json!(format!("{:.*}", p.price, activate)),
            );
            map.insert("priceRate".into(), json!(format!("{rate}")));
        }
        object
    }

    /// The `ORDER_TRADE_UPDATE` event (§8.2) for `execution`, at event time `now_ms`.
    #[must_use]
    pub fn trade_update(&self, execution: &Execution, p: Precision, now_ms: u64) -> Value {
        let fill = execution.fill.as_ref();
        let last_qty = fill.map_or(Qty::ZERO, |f| f.qty);
        let last_price = fill.map_or(Price::ZERO, |f| f.price);
        let mut order = json!({
            "s": self.symbol,
            "c": self.client_order_id,
            "S": self.side.binance_name(),
            "o": self.order_type.binance_name(),
            "f": self.tif_name(),
            "q": format!("{:.*}", p.qty, self.orig_qty),
            "p": format!("{:.*}", p.price, self.price),
            "ap": format!("{:.*}", p.price + 3, self.avg_price()),
            "sp": format!("{:.*}", p.price, self.stop_price),
            "x": execution.kind,
            "X": self.status.as_str(),
            "i": self.order_id,
            "l": format!("{:.*}", p.qty, last_qty),
            "z": format!("{:.*}", p.qty, self.executed_qty),
            "L": format!("{:.*}", p.price, last_price),
            "n": format!("{:.*}", AMOUNT_DECIMALS, fill.map_or(Money::ZERO, |f| f.commission)),
            "T": fill.map_or(self.update_time_ms, |f| f.time_ms),
            "t": fill.map_or(0, |f| f.trade_id),
            "b": "0",
            "a": "0",
            "m": fill.is_some_and(|f| f.is_maker),
            "R": self.reduce_only,
            "wt": working_type_name(self.working_type),
            "ot": self.orig_type.binance_name(),
            "ps": position_side_name(self.position_side),
            "cp": self.close_position,
            "rp": format!("{:.*}", AMOUNT_DECIMALS, fill.map_or(Money::ZERO, |f| f.realized_pnl)),
            "pP": self.price_protect,
            "si": 0,
            "ss": 0,
            "V": self.stp.binance_name(),
            "pm": self.price_match,
            "gtd": 0,
            "er": execution.expiry_reason.to_string(),
        });
        if let (Some(_), Some(map)) = (fill, order.as_object_mut()) {
            map.insert("N".into(), json!("USDT"));
        }
        json!({ "e": "ORDER_TRADE_UPDATE", "E": now_ms, "T": fill.map_or(self.update_time_ms, |f| f.time_ms), "o": order })
    }

    /// The `TRADE_LITE` event (§8.4) for a fill.
    #[must_use]
    pub fn trade_lite(&self, fill: &FillReport, p: Precision, now_ms: u64) -> Value {
        json!({
            "e": "TRADE_LITE",
            "E": now_ms,
            "T": fill.time_ms,
            "s": self.symbol,
            "q": format!("{:.*}", p.qty, self.orig_qty),
            "p": format!("{:.*}", p.price, self.price),
            "m": fill.is_maker,
            "c": self.client_order_id,
            "S": self.side.binance_name(),
            "L": format!("{:.*}", p.price, fill.price),
            "l": format!("{:.*}", p.qty, fill.qty),
            "t": fill.trade_id,
            "i": self.order_id,
        })
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
