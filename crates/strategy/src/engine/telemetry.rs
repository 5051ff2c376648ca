//! The strategy engine's metrics under the seed's names (`kestrel_model::telemetry::names`):
//! `strategies_active{name}`, `signals_generated_total{strategy,symbol,side}`,
//! `signals_aggregated_total{symbol}`, `orders_generated_total{strategy,symbol}`,
//! `strategy_execution_latency_microseconds{strategy}` and `strategy_errors_total{strategy,type}`
//! (`type` is `panic` or `error`). `signals_rejected_by_risk{reason}` belongs to whoever runs
//! the risk check.
//!
//! Handles are registered once per instance and symbol, so recording on the hot path neither
//! allocates nor looks a label set up.

use kestrel_model::order::Side;
use kestrel_model::telemetry::names;
use metrics::{Counter, Gauge, Histogram};

/// One instance's metric handles.
#[derive(Debug, Clone)]
pub(crate) struct InstanceMetrics {
    pub active: Gauge,
    buy_signals: Counter,
    sell_signals: Counter,
    pub orders: Counter,
    pub latency_us: Histogram,
    pub panics: Counter,
    pub errors: Counter,
}

impl InstanceMetrics {
    pub fn new(strategy: &str, symbol: &str) -> Self {
        let signals = |side: Side| {
            metrics::counter!(
                names::SIGNALS_GENERATED_TOTAL,
                "strategy" => strategy.to_owned(),
                "symbol" => symbol.to_owned(),
                "side" => side.binance_name()
            )
        };
        let errors = |kind: &'static str| {
            metrics::counter!(
                names::STRATEGY_ERRORS_TOTAL,
                "strategy" => strategy.to_owned(),
                "type" => kind
            )
        };
        Self {
            active: metrics::gauge!(names::STRATEGIES_ACTIVE, "name" => strategy.to_owned()),
            buy_signals: signals(Side::Buy),
            sell_signals: signals(Side::Sell),
            orders: metrics::counter!(
                names::ORDERS_GENERATED_TOTAL,
                "strategy" => strategy.to_owned(),
                "symbol" => symbol.to_owned()
            ),
            latency_us: metrics::histogram!(
                names::STRATEGY_EXECUTION_LATENCY_MICROSECONDS,
                "strategy" => strategy.to_owned()
            ),
            panics: errors("panic"),
            errors: errors("error"),
        }
    }

    pub fn signal(&self, side: Side) {
        match side {
            Side::Buy => self.buy_signals.increment(1),
            Side::Sell => self.sell_signals.increment(1),
        }
    }

    #[allow(clippy::float_arithmetic, clippy::cast_precision_loss)] // statistics: a latency
    pub fn latency(&self, nanos: u64) {
        self.latency_us.record(nanos as f64 / 1_000.0);
    }
}

/// The `signals_aggregated_total{symbol}` handle of one symbol.
pub(crate) fn aggregated(symbol: &str) -> Counter {
    metrics::counter!(names::SIGNALS_AGGREGATED_TOTAL, "symbol" => symbol.to_owned())
}
