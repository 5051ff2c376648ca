//! The execution engine's metrics, under the seed's names (`kestrel_model::telemetry::names`):
//! `order_requests_total{result}`, `orders_submitted_total{symbol,side}`,
//! `orders_filled_total{symbol,side}`, `orders_canceled_total{symbol}`,
//! `order_submit_latency_milliseconds{symbol}`, `maker_fills_total{symbol}`,
//! `taker_fills_total{symbol}`, `circuit_breaker_state{service}` (set by the breaker itself) and
//! `alerts_generated_total{severity,category}` for a trading halt.

use std::time::Duration;

use kestrel_model::order::{Fill, Liquidity, Order, OrderStatus};
use kestrel_model::telemetry::names;

use crate::answer::OrderAnswer;

/// The `service` label of the venue breaker's `circuit_breaker_state`.
pub const BREAKER_SERVICE: &str = "venue_orders";

/// Counts a final answer under `order_requests_total{result}`.
pub fn answer(answer: &OrderAnswer) {
    metrics::counter!(names::ORDER_REQUESTS_TOTAL, "result" => answer.result().as_str())
        .increment(1);
}

/// Counts an order's first send under `orders_submitted_total{symbol,side}`.
pub fn submitted(order: &Order) {
    metrics::counter!(
        names::ORDERS_SUBMITTED_TOTAL,
        "symbol" => order.request.symbol.clone(),
        "side" => order.request.side.binance_name()
    )
    .increment(1);
}

/// Counts a status change into a final state the seed names.
pub fn status_changed(order: &Order, before: OrderStatus) {
    if order.status == before {
        return;
    }
    let symbol = order.request.symbol.clone();
    match order.status {
        OrderStatus::Filled => metrics::counter!(
            names::ORDERS_FILLED_TOTAL,
            "symbol" => symbol,
            "side" => order.request.side.binance_name()
        )
        .increment(1),
        OrderStatus::Canceled => {
            metrics::counter!(names::ORDERS_CANCELED_TOTAL, "symbol" => symbol).increment(1);
        }
        _ => {}
    }
}

/// Counts a fill by liquidity.
pub fn fill(fill: &Fill) {
    let name = match fill.liquidity {
        Liquidity::Maker => names::MAKER_FILLS_TOTAL,
        Liquidity::Taker => names::TAKER_FILLS_TOTAL,
    };
    metrics::counter!(name, "symbol" => fill.symbol.clone()).increment(1);
}

/// Records request → acknowledgement latency in milliseconds.
#[allow(clippy::float_arithmetic)] // statistics: a latency in fractional milliseconds
pub fn submit_latency(symbol: &str, latency: Duration) {
    metrics::histogram!(names::ORDER_SUBMIT_LATENCY_MILLISECONDS, "symbol" => symbol.to_owned())
        .record(latency.as_secs_f64() * 1_000.0);
}

/// Counts a critical execution alert (a trading halt).
pub fn halt_alert() {
    metrics::counter!(
        names::ALERTS_GENERATED_TOTAL,
        "severity" => "critical",
        "category" => "execution"
    )
    .increment(1);
}
