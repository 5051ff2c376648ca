//! The venue's own rate-limit counters as it reports them (`../shared/binance-futures.md`
//! §4.2): `X-MBX-USED-WEIGHT-1M` on every REST answer, `X-MBX-ORDER-COUNT-10S` and
//! `X-MBX-ORDER-COUNT-1M` on accepted orders, and the `rateLimits` array of WebSocket-API
//! answers. This module records the facts; deciding to slow down is the execution engine's job.

use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header::HeaderMap;
use serde::Deserialize;

/// The IP's request weight used in the current minute.
pub const USED_WEIGHT_1M_HEADER: &str = "x-mbx-used-weight-1m";
/// The account's orders in the current 10 seconds.
pub const ORDER_COUNT_10S_HEADER: &str = "x-mbx-order-count-10s";
/// The account's orders in the current minute.
pub const ORDER_COUNT_1M_HEADER: &str = "x-mbx-order-count-1m";

/// The counters one answer carried; `None` where it carried none (rejected orders, for
/// example, may lack the order counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// `X-MBX-USED-WEIGHT-1M`: request weight used this minute.
    pub used_weight_1m: Option<u32>,
    /// `X-MBX-ORDER-COUNT-10S`: orders placed in the current 10 s window.
    pub order_count_10s: Option<u32>,
    /// `X-MBX-ORDER-COUNT-1M`: orders placed in the current minute.
    pub order_count_1m: Option<u32>,
}

impl RateLimits {
    /// Reads the counters from response headers (names are case-insensitive, §4.2).
    #[must_use]
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let read = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u32>().ok())
        };
        Self {
            used_weight_1m: read(USED_WEIGHT_1M_HEADER),
            order_count_10s: read(ORDER_COUNT_10S_HEADER),
            order_count_1m: read(ORDER_COUNT_1M_HEADER),
        }
    }

    /// Reads the counters from a WebSocket-API `rateLimits` array.
    #[must_use]
    pub fn from_ws(entries: &[WsRateLimit]) -> Self {
        let mut limits = Self::default();
        for entry in entries {
            match (
                entry.rate_limit_type.as_str(),
                entry.interval.as_str(),
                entry.interval_num,
            ) {
                ("REQUEST_WEIGHT", "MINUTE", 1) => limits.used_weight_1m = Some(entry.count),
                ("ORDERS", "SECOND", 10) => limits.order_count_10s = Some(entry.count),
                ("ORDERS", "MINUTE", 1) => limits.order_count_1m = Some(entry.count),
                _ => {}
            }
        }
        limits
    }

    /// Whether no counter was present.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.used_weight_1m.is_none()
            && self.order_count_10s.is_none()
            && self.order_count_1m.is_none()
    }
}

/// One entry of a WebSocket-API answer's `rateLimits` array.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WsRateLimit {
    /// `REQUEST_WEIGHT` or `ORDERS`.
    pub rate_limit_type: String,
    /// `SECOND`, `MINUTE`, `DAY`.
    pub interval: String,
    /// How many intervals the window spans.
    pub interval_num: u32,
    /// The limit.
    pub limit: u32,
    /// The usage so far.
    pub count: u32,
}

/// The latest counters seen on any answer, shared by a venue's REST and WebSocket clients.
///
/// Each counter keeps the value of the most recent answer that carried it (answers to
/// concurrent requests may arrive out of order, so a counter can briefly step back).
#[derive(Debug)]
pub struct RateLimitTracker {
    used_weight_1m: AtomicU64,
    order_count_10s: AtomicU64,
    order_count_1m: AtomicU64,
}

/// Stored in a counter that has never been reported.
const UNSEEN: u64 = u64::MAX;

impl Default for RateLimitTracker {
    fn default() -> Self {
        Self {
            used_weight_1m: AtomicU64::new(UNSEEN),
            order_count_10s: AtomicU64::new(UNSEEN),
            order_count_1m: AtomicU64::new(UNSEEN),
        }
    }
}

impl RateLimitTracker {
    /// A tracker that has seen nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the counters one answer carried, leaving the others as they were.
    pub fn record(&self, limits: RateLimits) {
        let store = |slot: &AtomicU64, value: Option<u32>| {
            if let Some(value) = value {
                slot.store(u64::from(value), Ordering::Relaxed);
            }
        };
        store(&self.used_weight_1m, limits.used_weight_1m);
        store(&self.order_count_10s, limits.order_count_10s);
        store(&self.order_count_1m, limits.order_count_1m);
    }

    /// The latest value of each counter.
    #[must_use]
    pub fn latest(&self) -> RateLimits {
        let load = |slot: &AtomicU64| u32::try_from(slot.load(Ordering::Relaxed)).ok();
        RateLimits {
            used_weight_1m: load(&self.used_weight_1m),
            order_count_10s: load(&self.order_count_10s),
            order_count_1m: load(&self.order_count_1m),
        }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn headers_are_read_case_insensitively_and_absent_ones_stay_none() {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-mbx-used-weight-1m"),
            HeaderValue::from_static("17"),
        );
        headers.insert(
            HeaderName::from_static("x-mbx-order-count-10s"),
            HeaderValue::from_static("3"),
        );
        let limits = RateLimits::from_headers(&headers);
        assert_eq!(
            limits,
            RateLimits {
                used_weight_1m: Some(17),
                order_count_10s: Some(3),
                order_count_1m: None
            }
        );
    }

    #[test]
    fn tracker_keeps_the_last_reported_value_of_each_counter() {
        let tracker = RateLimitTracker::new();
        assert!(tracker.latest().is_empty());
        tracker.record(RateLimits {
            used_weight_1m: Some(5),
            order_count_10s: Some(1),
            order_count_1m: Some(1),
        });
        tracker.record(RateLimits {
            used_weight_1m: Some(6),
            ..RateLimits::default()
        });
        assert_eq!(
            tracker.latest(),
            RateLimits {
                used_weight_1m: Some(6),
                order_count_10s: Some(1),
                order_count_1m: Some(1)
            }
        );
    }

    #[test]
    fn ws_api_rate_limits_map_to_the_same_counters() {
        let entries: Vec<WsRateLimit> = serde_json::from_str(
            r#"[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400,"count":70},
                {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":300,"count":2},
                {"rateLimitType":"ORDERS","interval":"MINUTE","intervalNum":1,"limit":1200,"count":9}]"#,
        )
        .unwrap_or_default();
        assert_eq!(
            RateLimits::from_ws(&entries),
            RateLimits {
                used_weight_1m: Some(70),
                order_count_10s: Some(2),
                order_count_1m: Some(9)
            }
        );
    }
}
