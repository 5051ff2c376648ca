//! [`NatsPublisher`]: publishes codec bytes on the NATS subject named by their [`Topic`].

use std::collections::HashMap;
use std::time::Duration;

use async_nats::connection::State;
use async_nats::{Client, Subject};
use kestrel_model::telemetry::names;
use metrics::Counter;

use super::{NatsError, PublishFailure, UNKNOWN_SYMBOL, connect, redact_url};
use crate::topic::Topic;

/// How long [`NatsPublisher::publish`] waits for room in the client's send buffer by default.
pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_millis(100);

/// A publisher's counters since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NatsPublisherStats {
    /// Messages handed to the client (sent, or buffered while it reconnects).
    pub published: u64,
    /// Messages dropped because the client could not take them.
    pub failed: u64,
}

/// What the publisher keeps per topic, so publishing formats no subject and looks up no metric.
struct Route {
    subject: Subject,
    dropped: Counter,
}

/// Publishes messages on NATS, one subject per [`Topic`] (the topic's name).
///
/// Publishing hands the bytes to the client's bounded send queue, which a background task
/// writes to the socket; it waits only while that queue is full, and at most the publish
/// timeout. While the server is away the client keeps reconnecting and buffers what fits; once
/// a publish has failed and the client is still not connected, later ones fail at once instead
/// of waiting, so a caller such as the ring pump keeps its pace. Failures are counted here and
/// in `messages_dropped_total{symbol, reason="nats_publish"}`, and logged once per streak.
pub struct NatsPublisher {
    client: Client,
    /// The server URL, credentials masked, for logs.
    url: String,
    publish_timeout: Duration,
    routes: HashMap<Topic, Route>,
    stats: NatsPublisherStats,
    /// Failures since the last success, while a failure streak lasts.
    streak: Option<u64>,
}

impl NatsPublisher {
    /// Connects to `url` (see [`super::connect`]) and publishes through that connection.
    ///
    /// # Errors
    /// [`NatsError::InvalidUrl`] or [`NatsError::Connect`], naming the URL.
    pub async fn connect(url: &str) -> Result<Self, NatsError> {
        let client = connect(url).await?;
        Ok(Self::new(client, &redact_url(url)))
    }

    /// Publishes through an existing client; `url` names the server in logs (pass it through
    /// [`redact_url`] first if it may hold credentials).
    #[must_use]
    pub fn new(client: Client, url: &str) -> Self {
        Self {
            client,
            url: url.to_owned(),
            publish_timeout: DEFAULT_PUBLISH_TIMEOUT,
            routes: HashMap::new(),
            stats: NatsPublisherStats::default(),
            streak: None,
        }
    }

    /// Sets how long a publish may wait for room in the client's send buffer
    /// ([`DEFAULT_PUBLISH_TIMEOUT`] by default).
    #[must_use]
    pub const fn with_publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// The client, to share its connection (for example with a [`super::NatsSubscriber`]).
    #[must_use]
    pub const fn client(&self) -> &Client {
        &self.client
    }

    /// The server URL as shown in logs (credentials masked).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The counters so far.
    #[must_use]
    pub const fn stats(&self) -> NatsPublisherStats {
        self.stats
    }

    /// Whether the last publish failed (a failure streak is in progress).
    #[must_use]
    pub const fn is_failing(&self) -> bool {
        self.streak.is_some()
    }

    /// Publishes `payload` (normally one [`crate::codec`] message) on the subject named by
    /// `topic`. The bytes are copied into the client's buffer.
    ///
    /// # Errors
    /// [`NatsError::Publish`] when the client could not take the message; it is dropped and
    /// counted, and the publisher stays usable.
    pub async fn publish(&mut self, topic: Topic, payload: &[u8]) -> Result<(), NatsError> {
        let route = self.routes.entry(topic).or_insert_with(|| route_for(topic));
        let reconnecting =
            self.streak.is_some() && self.client.connection_state() != State::Connected;
        let result = if reconnecting {
            Err(PublishFailure::NotConnected)
        } else {
            let send = self
                .client
                .publish(route.subject.clone(), payload.to_vec().into());
            match tokio::time::timeout(self.publish_timeout, send).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(PublishFailure::Client(error)),
                Err(_elapsed) => Err(PublishFailure::TimedOut {
                    timeout_ms: u64::try_from(self.publish_timeout.as_millis()).unwrap_or(u64::MAX),
                }),
            }
        };
        match result {
            Ok(()) => {
                self.stats.published += 1;
                if let Some(failed) = self.streak.take() {
                    tracing::info!(url = %self.url, failed, "NATS publishing recovered");
                }
                Ok(())
            }
            Err(failure) => {
                self.stats.failed += 1;
                route.dropped.increment(1);
                match &mut self.streak {
                    Some(failed) => *failed += 1,
                    None => {
                        tracing::warn!(
                            url = %self.url,
                            %topic,
                            error = %failure,
                            "NATS publish failed; dropping and counting messages until it recovers"
                        );
                        self.streak = Some(1);
                    }
                }
                Err(NatsError::Publish { topic, failure })
            }
        }
    }

    /// Waits until everything buffered has been written to the server, at most `timeout`.
    ///
    /// # Errors
    /// [`NatsError::Flush`] when the server does not confirm in time (it may be away).
    pub async fn flush(&self, timeout: Duration) -> Result<(), NatsError> {
        let reason = match tokio::time::timeout(timeout, self.client.flush()).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) => error.to_string(),
            Err(_elapsed) => format!("not confirmed within {} ms", timeout.as_millis()),
        };
        Err(NatsError::Flush {
            url: self.url.clone(),
            reason,
        })
    }
}

fn route_for(topic: Topic) -> Route {
    let symbol = topic
        .symbol()
        .map_or_else(|| UNKNOWN_SYMBOL.to_owned(), ToString::to_string);
    Route {
        subject: Subject::from(topic.to_string()),
        dropped: metrics::counter!(
            names::MESSAGES_DROPPED_TOTAL,
            "symbol" => symbol,
            "reason" => "nats_publish"
        ),
    }
}

impl std::fmt::Debug for NatsPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsPublisher")
            .field("url", &self.url)
            .field("publish_timeout", &self.publish_timeout)
            .field("stats", &self.stats)
            .field("failing", &self.streak.is_some())
            .finish_non_exhaustive()
    }
}
