//! The Binance USD-M REST client for execution: one pooled HTTP client per venue, signed
//! requests (`../shared/binance-futures.md` §2), typed order, account and listen-key endpoints
//! (§3.3–§3.6), rate-limit headers (§4.2) and typed errors (§4.4, §5).
//!
//! It sends each request once. Retries, backoff and circuit breaking belong to the execution
//! engine, which decides from [`RequestError::retry_advice`] and the counters in
//! [`RateLimitTracker`].
//!
//! Parameters travel in the query string for `GET`/`DELETE` and in a form body for
//! `POST`/`PUT`, never split, so the signed text is exactly the text of one part (§2.2, §2.3).

mod account;
mod market;
mod trading;
mod transport;

pub use market::PremiumIndex;

use std::sync::Arc;
use std::time::Duration;

use super::rate_limit::{RateLimitTracker, RateLimits};
use super::request_error::RequestError;
use super::signing::{Credentials, DEFAULT_RECV_WINDOW_MS, ServerClock};

/// How the REST client connects and times out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestConfig {
    /// The base URL without a trailing slash: `https://fapi.binance.com`, or the simulator's
    /// `http://127.0.0.1:8765`.
    pub base_url: String,
    /// The whole request, connect to last body byte (the seed's `request_timeout_ms`).
    pub request_timeout: Duration,
    /// Connection set-up (TCP and TLS).
    pub connect_timeout: Duration,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host (the seed's `connection_pool_size`).
    pub pool_max_idle_per_host: usize,
    /// TCP keep-alive probe interval on pooled connections.
    pub tcp_keepalive: Duration,
    /// `recvWindow` sent with signed requests (§2.4).
    pub recv_window_ms: u64,
}

impl RestConfig {
    /// Defaults for `base_url`: 5 s requests, 2 s connects, 4 idle connections kept 90 s,
    /// Binance's default `recvWindow`.
    #[must_use]
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 4,
            tcp_keepalive: Duration::from_secs(30),
            recv_window_ms: DEFAULT_RECV_WINDOW_MS,
        }
    }
}

/// A Binance USD-M REST client. Cheap to clone; clones share the connection pool, the
/// server-clock offset and the rate-limit counters.
#[derive(Debug, Clone)]
pub struct RestClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    config: RestConfig,
    credentials: Credentials,
    clock: Arc<ServerClock>,
    limits: Arc<RateLimitTracker>,
}

impl RestClient {
    /// A client with its own server clock and rate-limit tracker.
    ///
    /// # Errors
    /// [`RequestError::Invalid`] when the HTTP client cannot be built (TLS set-up).
    pub fn new(config: RestConfig, credentials: Credentials) -> Result<Self, RequestError> {
        Self::with_shared(
            config,
            credentials,
            Arc::new(ServerClock::new()),
            Arc::new(RateLimitTracker::new()),
        )
    }

    /// A client sharing `clock` and `limits` with other clients of the same venue (the
    /// WebSocket API client).
    ///
    /// # Errors
    /// [`RequestError::Invalid`] when the HTTP client cannot be built (TLS set-up).
    pub fn with_shared(
        config: RestConfig,
        credentials: Credentials,
        clock: Arc<ServerClock>,
        limits: Arc<RateLimitTracker>,
    ) -> Result<Self, RequestError> {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .tcp_keepalive(config.tcp_keepalive)
            .no_proxy()
            .build()
            .map_err(|e| RequestError::Invalid {
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                config,
                credentials,
                clock,
                limits,
            }),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &RestConfig {
        &self.inner.config
    }

    /// The server clock that stamps `timestamp`.
    #[must_use]
    pub fn clock(&self) -> &Arc<ServerClock> {
        &self.inner.clock
    }

    /// The shared rate-limit counters.
    #[must_use]
    pub fn rate_limit_tracker(&self) -> &Arc<RateLimitTracker> {
        &self.inner.limits
    }

    /// The latest rate-limit counters the venue reported.
    #[must_use]
    pub fn rate_limits(&self) -> RateLimits {
        self.inner.limits.latest()
    }
}
