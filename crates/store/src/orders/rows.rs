//! How orders and fills map to `orders` and `fills` rows, shared by both backends.

use kestrel_model::order::{Fill, Liquidity};
use kestrel_model::{Money, Price, Qty};

use super::{FillRecord, OrderRecord};
use crate::db::StoreError;
use crate::db::convert::{
    from_i64, parse_money, parse_money_opt, parse_variant, to_i64, variant_name,
};

/// The `orders` table's name, for messages.
pub(super) const ORDERS: &str = "orders";
/// The `fills` table's name, for messages.
pub(super) const FILLS: &str = "fills";

/// An `orders` row ready to bind (column order of `UPSERT_ORDERS`).
pub(super) struct OrderBind<'a> {
    pub client_order_id: &'a str,
    pub venue_order_id: Option<i64>,
    pub symbol: &'a str,
    pub side: String,
    pub order_type: String,
    pub time_in_force: Option<String>,
    pub position_side: String,
    pub price: Option<String>,
    pub stop_price: Option<String>,
    pub qty: String,
    pub executed_qty: String,
    pub avg_price: Option<String>,
    pub status: String,
    pub reduce_only: bool,
    pub reject_reason: Option<&'a str>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl<'a> OrderBind<'a> {
    /// The row for `order`.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for an id or time above `i64::MAX`.
    pub fn new(order: &'a OrderRecord) -> Result<Self, StoreError> {
        Ok(Self {
            client_order_id: &order.client_order_id,
            venue_order_id: order
                .venue_order_id
                .map(|id| to_i64("venue_order_id", id))
                .transpose()?,
            symbol: &order.symbol,
            side: variant_name(&order.side),
            order_type: variant_name(&order.order_type),
            time_in_force: order.time_in_force.as_ref().map(variant_name),
            position_side: variant_name(&order.position_side),
            price: order.price.map(|p| p.to_string()),
            stop_price: order.stop_price.map(|p| p.to_string()),
            qty: order.qty.to_string(),
            executed_qty: order.executed_qty.to_string(),
            avg_price: order.avg_price.map(|p| p.to_string()),
            status: variant_name(&order.status),
            reduce_only: order.reduce_only,
            reject_reason: order.reject_reason.as_deref(),
            created_ms: to_i64("created_ms", order.created_ms)?,
            updated_ms: to_i64("updated_ms", order.updated_ms)?,
        })
    }
}

/// An `orders` row as a backend reads it back (money and enums as text).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct OrderRow {
    client_order_id: String,
    venue_order_id: Option<i64>,
    symbol: String,
    side: String,
    order_type: String,
    time_in_force: Option<String>,
    position_side: String,
    price: Option<String>,
    stop_price: Option<String>,
    qty: String,
    executed_qty: String,
    avg_price: Option<String>,
    status: String,
    reduce_only: bool,
    reject_reason: Option<String>,
    created_ms: i64,
    updated_ms: i64,
}

impl OrderRow {
    /// The stored order.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a value Kestrel would not have written.
    pub fn into_record(self) -> Result<OrderRecord, StoreError> {
        let price =
            |column, text: Option<&str>| parse_money_opt(ORDERS, column, text, Price::parse);
        let qty = |column, text: &str| parse_money(ORDERS, column, text, Qty::parse);
        Ok(OrderRecord {
            venue_order_id: self
                .venue_order_id
                .map(|id| from_i64(ORDERS, "venue_order_id", id))
                .transpose()?,
            side: parse_variant(ORDERS, "side", &self.side)?,
            order_type: parse_variant(ORDERS, "order_type", &self.order_type)?,
            time_in_force: self
                .time_in_force
                .as_deref()
                .map(|tif| parse_variant(ORDERS, "time_in_force", tif))
                .transpose()?,
            position_side: parse_variant(ORDERS, "position_side", &self.position_side)?,
            price: price("price", self.price.as_deref())?,
            stop_price: price("stop_price", self.stop_price.as_deref())?,
            qty: qty("qty", &self.qty)?,
            executed_qty: qty("executed_qty", &self.executed_qty)?,
            avg_price: price("avg_price", self.avg_price.as_deref())?,
            status: parse_variant(ORDERS, "status", &self.status)?,
            created_ms: from_i64(ORDERS, "created_ms", self.created_ms)?,
            updated_ms: from_i64(ORDERS, "updated_ms", self.updated_ms)?,
            client_order_id: self.client_order_id,
            symbol: self.symbol,
            reduce_only: self.reduce_only,
            reject_reason: self.reject_reason,
        })
    }
}

/// A `fills` row ready to bind (column order of `INSERT_FILLS`).
pub(super) struct FillBind<'a> {
    pub symbol: &'a str,
    pub trade_id: i64,
    pub side: String,
    pub venue_order_id: i64,
    pub client_order_id: &'a str,
    pub price: String,
    pub qty: String,
    pub commission: String,
    pub commission_asset: &'a str,
    pub is_maker: bool,
    pub realized_pnl: Option<String>,
    pub time_ms: i64,
}

impl<'a> FillBind<'a> {
    /// The rows for `records`, in order.
    ///
    /// # Errors
    /// As [`FillBind::new`], for the first record that cannot be a row.
    pub fn all(records: &'a [FillRecord]) -> Result<Vec<Self>, StoreError> {
        records.iter().map(Self::new).collect()
    }

    /// The row for `record`.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for an id or time above `i64::MAX`.
    pub fn new(record: &'a FillRecord) -> Result<Self, StoreError> {
        let fill = &record.fill;
        Ok(Self {
            symbol: &fill.symbol,
            trade_id: to_i64("trade_id", fill.trade_id)?,
            side: variant_name(&fill.side),
            venue_order_id: to_i64("venue_order_id", fill.order_id)?,
            client_order_id: &fill.client_order_id,
            price: fill.price.to_string(),
            qty: fill.quantity.to_string(),
            commission: fill.commission.to_string(),
            commission_asset: &fill.commission_asset,
            is_maker: fill.is_maker(),
            realized_pnl: record.realized_pnl.map(|pnl| pnl.to_string()),
            time_ms: to_i64("time_ms", fill.timestamp_ms)?,
        })
    }
}

/// A `fills` row as a backend reads it back (money and enums as text).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct FillRow {
    symbol: String,
    trade_id: i64,
    side: String,
    venue_order_id: i64,
    client_order_id: String,
    price: String,
    qty: String,
    commission: String,
    commission_asset: String,
    is_maker: bool,
    realized_pnl: Option<String>,
    time_ms: i64,
}

impl FillRow {
    /// The stored fill.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a value Kestrel would not have written.
    pub fn into_record(self) -> Result<FillRecord, StoreError> {
        let fill = Fill {
            order_id: from_i64(FILLS, "venue_order_id", self.venue_order_id)?,
            side: parse_variant(FILLS, "side", &self.side)?,
            price: parse_money(FILLS, "price", &self.price, Price::parse)?,
            quantity: parse_money(FILLS, "qty", &self.qty, Qty::parse)?,
            commission: parse_money(FILLS, "commission", &self.commission, Money::parse)?,
            liquidity: if self.is_maker {
                Liquidity::Maker
            } else {
                Liquidity::Taker
            },
            trade_id: from_i64(FILLS, "trade_id", self.trade_id)?,
            timestamp_ms: from_i64(FILLS, "time_ms", self.time_ms)?,
            client_order_id: self.client_order_id,
            symbol: self.symbol,
            commission_asset: self.commission_asset,
        };
        let realized_pnl = parse_money_opt(
            FILLS,
            "realized_pnl",
            self.realized_pnl.as_deref(),
            Money::parse,
        )?;
        Ok(FillRecord { fill, realized_pnl })
    }
}
