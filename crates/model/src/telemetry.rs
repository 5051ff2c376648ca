//! The catalogue of Kestrel's metrics: one name, kind, label set and help text per metric,
//! with the names the seeds give (seed 000 "Metrics Exported" of each component, seed 001
//! REQ-METRICS). Components record through the `metrics` facade using these constants, and the
//! binary registers the catalogue's help text with the Prometheus exporter, so the names are
//! written once. Labels are low-cardinality by rule (REQ-METRICS-004): symbols, sides, bounded
//! enums — never URLs, ids or free text.

/// Whether a metric only goes up, goes up and down, or records a distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Monotonic count.
    Counter,
    /// Current value.
    Gauge,
    /// Distribution of observations (latencies).
    Histogram,
}

/// One metric of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricSpec {
    /// The Prometheus name.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The label names it is recorded with.
    pub labels: &'static [&'static str],
    /// The help text.
    pub help: &'static str,
}

macro_rules! catalogue {
    ($($(#[$doc:meta])* $const:ident = $name:literal, $kind:ident, [$($label:literal),*], $help:literal;)*) => {
        /// Metric names as constants, so a typo is a compile error.
        pub mod names {
            $($(#[$doc])* #[doc = $help] pub const $const: &str = $name;)*
        }

        /// Every metric Kestrel exports.
        pub const CATALOGUE: &[MetricSpec] = &[
            $(MetricSpec { name: $name, kind: MetricKind::$kind, labels: &[$($label),*], help: $help },)*
        ];
    };
}

catalogue! {
    // Market data pipeline (seed 000).
    WEBSOCKET_CONNECTED = "websocket_connected", Gauge, ["symbol"], "1 while the market-data WebSocket for the symbol is connected.";
    MESSAGES_RECEIVED_TOTAL = "messages_received_total", Counter, ["symbol", "type"], "Market-data messages received, by message type.";
    MESSAGES_PROCESSED_TOTAL = "messages_processed_total", Counter, ["symbol", "type"], "Market-data messages normalised and published.";
    MESSAGES_DROPPED_TOTAL = "messages_dropped_total", Counter, ["symbol", "reason"], "Market-data messages dropped (stale, malformed, gap).";
    PROCESSING_LATENCY_MICROSECONDS = "processing_latency_microseconds", Histogram, ["symbol"], "Frame read to book updated and published, in microseconds.";
    ORDER_BOOK_UPDATES_TOTAL = "order_book_updates_total", Counter, ["symbol"], "Depth updates applied to the local book.";
    TRADES_PROCESSED_TOTAL = "trades_processed_total", Counter, ["symbol"], "Public trades normalised and published.";
    RECONNECTION_ATTEMPTS_TOTAL = "reconnection_attempts_total", Counter, ["symbol"], "WebSocket reconnection attempts.";
    ERRORS_TOTAL = "errors_total", Counter, ["symbol", "type"], "Errors by kind (malformed message, gap, rate limit, network, ...).";
    // Order execution engine (seed 000).
    ORDER_REQUESTS_TOTAL = "order_requests_total", Counter, ["result"], "Order requests by result: success, rejected or failed.";
    ORDERS_SUBMITTED_TOTAL = "orders_submitted_total", Counter, ["symbol", "side"], "Orders sent to the venue.";
    ORDERS_FILLED_TOTAL = "orders_filled_total", Counter, ["symbol", "side"], "Orders completely filled.";
    ORDERS_CANCELED_TOTAL = "orders_canceled_total", Counter, ["symbol"], "Orders cancelled.";
    ORDER_SUBMIT_LATENCY_MILLISECONDS = "order_submit_latency_milliseconds", Histogram, ["symbol"], "Order request to venue acknowledgement, in milliseconds.";
    CIRCUIT_BREAKER_STATE = "circuit_breaker_state", Gauge, ["service"], "Circuit breaker state: 0 closed, 1 open, 2 half-open.";
    MAKER_FILLS_TOTAL = "maker_fills_total", Counter, ["symbol"], "Fills where our order was the maker.";
    TAKER_FILLS_TOTAL = "taker_fills_total", Counter, ["symbol"], "Fills where our order was the taker.";
    // Strategy engine (seed 000).
    STRATEGIES_ACTIVE = "strategies_active", Gauge, ["name"], "1 while the strategy is enabled and healthy.";
    SIGNALS_GENERATED_TOTAL = "signals_generated_total", Counter, ["strategy", "symbol", "side"], "Signals produced by strategies.";
    SIGNALS_AGGREGATED_TOTAL = "signals_aggregated_total", Counter, ["symbol"], "Aggregated signals produced.";
    SIGNALS_REJECTED_BY_RISK = "signals_rejected_by_risk", Counter, ["reason"], "Signals refused by the risk filter, by reason.";
    ORDERS_GENERATED_TOTAL = "orders_generated_total", Counter, ["strategy", "symbol"], "Order requests generated from signals.";
    STRATEGY_EXECUTION_LATENCY_MICROSECONDS = "strategy_execution_latency_microseconds", Histogram, ["strategy"], "Time spent in a strategy's on_market_data, in microseconds.";
    STRATEGY_ERRORS_TOTAL = "strategy_errors_total", Counter, ["strategy", "type"], "Strategy errors and panics caught.";
    STRATEGY_ORDERS_THROTTLED_TOTAL = "strategy_orders_throttled_total", Counter, [], "Strategy orders held back without asking risk while the order-frequency window is full.";
    // Account monitor (seed 000).
    ACCOUNT_BALANCE_USDT = "account_balance_usdt", Gauge, [], "Wallet balance in USDT.";
    AVAILABLE_BALANCE_USDT = "available_balance_usdt", Gauge, [], "Available balance in USDT.";
    TOTAL_PNL_USDT = "total_pnl_usdt", Gauge, [], "Realized plus unrealized P&L in USDT.";
    REALIZED_PNL_USDT = "realized_pnl_usdt", Gauge, [], "Realized P&L in USDT.";
    UNREALIZED_PNL_USDT = "unrealized_pnl_usdt", Gauge, [], "Unrealized P&L at mark in USDT.";
    DAILY_PNL_USDT = "daily_pnl_usdt", Gauge, [], "P&L since midnight UTC in USDT.";
    POSITION_COUNT = "position_count", Gauge, [], "Open positions.";
    POSITION_VALUE_USDT = "position_value_usdt", Gauge, ["symbol"], "Absolute position notional at mark in USDT.";
    MARGIN_RATIO = "margin_ratio", Gauge, [], "Maintenance margin over margin balance.";
    RECONCILIATION_MISMATCHES_TOTAL = "reconciliation_mismatches_total", Counter, [], "Position mismatches found by reconciliation with the venue.";
    ALERTS_GENERATED_TOTAL = "alerts_generated_total", Counter, ["severity", "category"], "Alerts raised.";
    // Dashboard server (seed 000).
    WEBSOCKET_CLIENTS_CONNECTED = "websocket_clients_connected", Gauge, ["type"], "Dashboard clients connected, by type (tui, web).";
    MESSAGES_SENT_TOTAL = "messages_sent_total", Counter, ["type"], "Dashboard messages sent, by message type.";
    MESSAGE_SEND_ERRORS_TOTAL = "message_send_errors_total", Counter, [], "Dashboard messages that failed to send.";
    BROADCAST_LATENCY_MILLISECONDS = "broadcast_latency_milliseconds", Histogram, [], "State change to last client written, in milliseconds.";
    // Persistence: the batched market-data writer (seed 000 FR-MD-005).
    DATABASE_ROWS_WRITTEN_TOTAL = "database_rows_written_total", Counter, ["table"], "Rows the batched market-data writer inserted (records already stored are not counted).";
    DATABASE_RECORDS_DROPPED_TOTAL = "database_records_dropped_total", Counter, ["table", "reason"], "Records the market-data recorder dropped, by reason: channel_full, writer_gone, backlog_full, invalid, shutdown.";
    DATABASE_FLUSH_FAILURES_TOTAL = "database_flush_failures_total", Counter, [], "Batched database writes that failed; the batch is kept and retried at the next interval.";
    DATABASE_WRITE_BACKLOG = "database_write_backlog", Gauge, ["table"], "Records waiting in the market-data writer's backlog.";
    // Feed health and risk (seed 001 REQ-METRICS-001..003).
    FEED_STALENESS_MILLISECONDS = "feed_staleness_milliseconds", Gauge, ["feed"], "Age of the newest message on a feed (price, orders, funding, positions).";
    EXEC_EVENTS_LAGGED_TOTAL = "exec_events_lagged_total", Counter, [], "Order updates and fills the bus publisher missed because it fell behind the engine (the store still has them).";
    RISK_REJECTIONS_TOTAL = "risk_rejections_total", Counter, ["reason"], "Orders refused by pre-trade risk, by reason.";
    RISK_CIRCUIT_BREAKER_TRIPS_TOTAL = "risk_circuit_breaker_trips_total", Counter, ["breaker"], "Trading pauses by breaker (losses, drawdown, latency, stale data).";
}

/// The catalogue entry for `name`, if it is one of Kestrel's metrics.
#[must_use]
pub fn spec(name: &str) -> Option<&'static MetricSpec> {
    CATALOGUE.iter().find(|spec| spec.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_prometheus_legal() {
        let mut seen = std::collections::BTreeSet::new();
        for spec in CATALOGUE {
            assert!(seen.insert(spec.name), "duplicate metric {}", spec.name);
            let legal = spec
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            assert!(
                legal && !spec.name.starts_with(|c: char| c.is_ascii_digit()),
                "{}",
                spec.name
            );
            if spec.kind == MetricKind::Counter {
                assert!(
                    spec.name.ends_with("_total") || spec.name == names::SIGNALS_REJECTED_BY_RISK,
                    "{}",
                    spec.name
                );
            }
        }
    }

    #[test]
    fn seed_metric_names_are_all_present() {
        for name in [
            "websocket_connected",
            "processing_latency_microseconds",
            "order_requests_total",
            "circuit_breaker_state",
            "signals_rejected_by_risk",
            "margin_ratio",
            "broadcast_latency_milliseconds",
        ] {
            assert!(spec(name).is_some(), "{name} missing");
        }
        assert_eq!(
            spec(names::ERRORS_TOTAL).map(|s| s.labels),
            Some(&["symbol", "type"][..])
        );
    }
}
