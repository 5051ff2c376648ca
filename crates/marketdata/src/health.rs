//! What the pipeline reports about itself: per-symbol connection state, errors in the last
//! minute, uptime, and the seed's `/health` JSON (seed 000, Market Data Pipeline, "Health Check
//! Endpoint"): `status` (`healthy` | `degraded` | `unhealthy`), `connections`
//! (`{"BTCUSDT": "connected"}`), `uptime_seconds`, `errors_last_minute`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The state of one symbol's feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedState {
    /// Not connected (connecting or reconnecting).
    Disconnected,
    /// Connected, book not yet synchronised.
    Syncing,
    /// Connected and the book is in sync.
    Connected,
    /// Halted: the venue refused our credentials, or retries ran out.
    Halted,
}

impl FeedState {
    /// The word `/health` uses.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Disconnected => "disconnected",
            Self::Syncing => "syncing",
            Self::Connected => "connected",
            Self::Halted => "halted",
        }
    }
}

/// Errors per second over the last minute, in a ring of 60 buckets.
#[derive(Debug, Clone)]
pub struct ErrorWindow {
    buckets: [(u64, u32); 60],
}

impl Default for ErrorWindow {
    fn default() -> Self {
        // `u64::MAX` marks a bucket that never held a second, so it counts for nothing.
        Self {
            buckets: [(u64::MAX, 0); 60],
        }
    }
}

impl ErrorWindow {
    /// Counts one error at `now_s` (seconds since any fixed origin).
    pub fn record(&mut self, now_s: u64) {
        let slot = &mut self.buckets[(now_s % 60) as usize];
        if slot.0 != now_s {
            *slot = (now_s, 0);
        }
        slot.1 = slot.1.saturating_add(1);
    }

    /// Errors in the minute up to `now_s`.
    #[must_use]
    pub fn last_minute(&self, now_s: u64) -> u64 {
        self.buckets
            .iter()
            .filter(|(second, _)| *second <= now_s && now_s - *second < 60)
            .map(|(_, n)| u64::from(*n))
            .sum()
    }
}

/// The pipeline's health as `/health` shows it.
#[derive(Debug, Clone, Default)]
pub struct Health {
    feeds: BTreeMap<String, FeedState>,
    errors: ErrorWindow,
}

impl Health {
    /// Health for `symbols`, all disconnected.
    #[must_use]
    pub fn new(symbols: &[String]) -> Self {
        Self {
            feeds: symbols
                .iter()
                .map(|s| (s.clone(), FeedState::Disconnected))
                .collect(),
            errors: ErrorWindow::default(),
        }
    }

    /// Sets one symbol's state.
    pub fn set(&mut self, symbol: &str, state: FeedState) {
        if let Some(entry) = self.feeds.get_mut(symbol) {
            *entry = state;
        }
    }

    /// Sets every symbol's state (the connection carries all of them).
    pub fn set_all(&mut self, state: FeedState) {
        self.feeds.values_mut().for_each(|entry| *entry = state);
    }

    /// One symbol's state.
    #[must_use]
    pub fn state(&self, symbol: &str) -> Option<FeedState> {
        self.feeds.get(symbol).copied()
    }

    /// Counts an error.
    pub fn error(&mut self, now_s: u64) {
        self.errors.record(now_s);
    }

    /// `healthy` when every feed is connected and in sync, `unhealthy` when none is (or one
    /// is halted), `degraded` otherwise.
    #[must_use]
    pub fn status(&self) -> &'static str {
        let connected = self
            .feeds
            .values()
            .filter(|s| **s == FeedState::Connected)
            .count();
        if self.feeds.values().any(|s| *s == FeedState::Halted) || connected == 0 {
            "unhealthy"
        } else if connected == self.feeds.len() {
            "healthy"
        } else {
            "degraded"
        }
    }

    /// The `/health` body.
    #[must_use]
    pub fn to_json(&self, uptime_seconds: u64, now_s: u64) -> Value {
        let connections: BTreeMap<&str, &str> = self
            .feeds
            .iter()
            .map(|(s, f)| (s.as_str(), f.as_str()))
            .collect();
        json!({
            "status": self.status(),
            "connections": connections,
            "uptime_seconds": uptime_seconds,
            "errors_last_minute": self.errors.last_minute(now_s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_feeds() {
        let mut health = Health::new(&["BTCUSDT".into(), "ETHUSDT".into()]);
        assert_eq!(health.status(), "unhealthy");
        health.set("BTCUSDT", FeedState::Connected);
        assert_eq!(health.status(), "degraded");
        health.set("ETHUSDT", FeedState::Connected);
        assert_eq!(health.status(), "healthy");
        health.set("ETHUSDT", FeedState::Halted);
        assert_eq!(health.status(), "unhealthy");
    }

    #[test]
    fn errors_count_over_a_sliding_minute() {
        let mut health = Health::new(&["BTCUSDT".into()]);
        health.set_all(FeedState::Connected);
        for second in [100, 100, 130, 159] {
            health.error(second);
        }
        assert_eq!(health.to_json(5, 159)["errors_last_minute"], 4);
        assert_eq!(
            health.to_json(5, 161)["errors_last_minute"],
            2,
            "the two at 100 s fell out"
        );
        let body = health.to_json(12345, 161);
        assert_eq!(body["connections"]["BTCUSDT"], "connected");
        assert_eq!(
            (body["status"].as_str(), body["uptime_seconds"].as_u64()),
            (Some("healthy"), Some(12345))
        );
    }
}
