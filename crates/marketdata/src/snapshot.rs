//! Fetching REST depth snapshots (`GET /fapi/v1/depth`, `binance-futures.md` §3.2, §7.1 step 2)
//! with the seed's error handling (FR-MD error table, §4.4): a 429 or 418 backs off for the
//! `Retry-After` the venue gives (or the backoff's delay), 5xx answers and timeouts are retried
//! with backoff, and any other refusal (a 4xx: bad symbol, bad limit) is returned at once, since
//! asking again cannot help. The body is returned as text for the venue parser.

use std::time::Duration;

use crate::backoff::Backoff;

/// Why a snapshot could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The venue refused the request (not retryable).
    #[error("depth snapshot for {symbol}: HTTP {status}: {body}")]
    Refused {
        /// The symbol.
        symbol: String,
        /// The HTTP status.
        status: u16,
        /// The venue's body (Binance's `{code,msg}`).
        body: String,
    },
    /// Retries ran out; the last failure.
    #[error("depth snapshot for {symbol}: gave up after {attempts} attempts: {last}")]
    GaveUp {
        /// The symbol.
        symbol: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// A REST depth-snapshot client for one venue.
#[derive(Debug, Clone)]
pub struct SnapshotClient {
    http: reqwest::Client,
    rest_url: String,
    limit: u32,
    retry_base: Duration,
    retry_max: Duration,
    max_attempts: u32,
}

impl SnapshotClient {
    /// A client for the venue at `rest_url` asking for `limit` levels (Binance: 1000 for book
    /// sync), with `timeout` per request.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        rest_url: impl Into<String>,
        limit: u32,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        Ok(Self {
            http,
            rest_url: rest_url.into().trim_end_matches('/').to_owned(),
            limit,
            retry_base: Duration::from_millis(250),
            retry_max: Duration::from_secs(30),
            max_attempts: 8,
        })
    }

    /// Sets the retry policy: delays from `base` doubling to `max`, `attempts` in all.
    #[must_use]
    pub const fn with_retries(mut self, base: Duration, max: Duration, attempts: u32) -> Self {
        self.retry_base = base;
        self.retry_max = max;
        self.max_attempts = attempts;
        self
    }

    /// Fetches the snapshot of `symbol` (upper case), retrying where it is safe.
    ///
    /// # Errors
    /// [`SnapshotError::Refused`] for a non-retryable answer, [`SnapshotError::GaveUp`] when
    /// retries run out.
    pub async fn fetch(&self, symbol: &str) -> Result<String, SnapshotError> {
        let url = format!(
            "{}/fapi/v1/depth?symbol={symbol}&limit={}",
            self.rest_url, self.limit
        );
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let mut backoff = Backoff::new(
            ms(self.retry_base),
            ms(self.retry_max),
            self.max_attempts.saturating_sub(1),
            symbol.len() as u64,
        );
        loop {
            let wait = match self.http.get(&url).send().await {
                Ok(response) => match classify(response).await {
                    Outcome::Body(body) => return Ok(body),
                    Outcome::Refused(status, body) => {
                        return Err(SnapshotError::Refused {
                            symbol: symbol.to_owned(),
                            status,
                            body,
                        });
                    }
                    Outcome::Retry(reason, retry_after) => (reason, retry_after),
                },
                Err(error) => (error.to_string(), None),
            };
            let (reason, retry_after) = wait;
            let Some(delay) = backoff.next_delay() else {
                return Err(SnapshotError::GaveUp {
                    symbol: symbol.to_owned(),
                    attempts: backoff.attempts() + 1,
                    last: reason,
                });
            };
            let delay = retry_after.map_or(delay, |venue| venue.max(delay));
            tracing::warn!(symbol, %reason, delay_ms = ms(delay), "depth snapshot failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }
}

enum Outcome {
    Body(String),
    Refused(u16, String),
    Retry(String, Option<Duration>),
}

async fn classify(response: reqwest::Response) -> Outcome {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response.text().await.unwrap_or_default();
    match status {
        200 => Outcome::Body(body),
        429 | 418 => Outcome::Retry(format!("rate limited (HTTP {status}): {body}"), retry_after),
        500..=599 => Outcome::Retry(format!("HTTP {status}: {body}"), None),
        _ => Outcome::Refused(status, body),
    }
}
