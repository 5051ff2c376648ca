//! Orders: the request a strategy makes ([`OrderRequest`]), the order and its lifecycle
//! ([`Order`], [`OrderStatus`]), and its executions ([`Fill`]).

mod fill;
mod request;
mod state;

pub use fill::{Fill, Liquidity};
pub use request::{
    ExecutionMode, OrderRequest, OrderRequestError, OrderType, PositionSide, Side, TimeInForce,
    WorkingType, check_client_order_id, check_symbol,
};
pub use state::{Order, OrderError, OrderEvent, OrderStatus};

#[cfg(test)]
mod tests;
