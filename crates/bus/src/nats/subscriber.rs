//! [`NatsSubscriber`]: a NATS subscription to a [`TopicPattern`] that yields decoded market
//! events; [`NatsBytesSubscriber`]: one that yields payloads as published, for topics whose
//! messages are not codec market events (the JSON order updates and fills on `orders.{symbol}`
//! and `fills.{symbol}`).

use futures_util::StreamExt;
use kestrel_model::event::OwnedMarketEvent;
use kestrel_model::telemetry::names;

use super::{Client, NatsError, UNKNOWN_SYMBOL};
use crate::codec::{self, DecodeError};
use crate::inproc::Envelope;
use crate::topic::{Topic, TopicError, TopicPattern};

/// A subscriber's counters since it subscribed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NatsSubscriberStats {
    /// Messages received from the server.
    pub received: u64,
    /// Messages decoded and returned.
    pub delivered: u64,
    /// Messages skipped because they were not a market event of their subject's topic.
    pub skipped: u64,
}

/// Why a received message was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    /// The subject is not a topic name (someone published outside the topic scheme).
    #[error("subject {subject:?} is not a topic: {source}")]
    Subject {
        /// The subject (cut to 64 characters).
        subject: String,
        /// Why it is not a topic.
        #[source]
        source: TopicError,
    },
    /// The payload is not a codec message.
    #[error("payload on {topic} is not a codec message: {source}")]
    Payload {
        /// The topic it arrived on.
        topic: Topic,
        /// What the decoder refused.
        #[source]
        source: DecodeError,
    },
    /// The payload is an event of another topic (another symbol, or a trade on `.orderbook`).
    #[error("payload on {topic} belongs on {expected}")]
    WrongTopic {
        /// The topic it arrived on.
        topic: Topic,
        /// The topic the event belongs on.
        expected: String,
    },
}

impl SkipReason {
    fn symbol_label(&self) -> String {
        let topic = match self {
            Self::Subject { .. } => None,
            Self::Payload { topic, .. } | Self::WrongTopic { topic, .. } => Some(topic),
        };
        topic
            .and_then(Topic::symbol)
            .map_or_else(|| UNKNOWN_SYMBOL.to_owned(), ToString::to_string)
    }
}

/// A NATS subscription to every topic a [`TopicPattern`] matches (the pattern is the NATS
/// subject: both use `*` for one segment and `>` for the rest), yielding each message as an
/// [`Envelope`] of its [`Topic`] and decoded [`OwnedMarketEvent`].
///
/// A message that is not a market event of its subject's topic is counted
/// ([`NatsSubscriberStats::skipped`], `messages_dropped_total{reason="nats_undecodable"}`),
/// logged once per streak and skipped; it never ends the subscription. The client re-subscribes
/// by itself after a reconnection. If the consumer falls too far behind, the client drops
/// messages and logs a slow-consumer event.
pub struct NatsSubscriber {
    pattern: TopicPattern,
    inner: async_nats::Subscriber,
    stats: NatsSubscriberStats,
    last_skip: Option<SkipReason>,
    /// Skips since the last delivered message, while they keep coming.
    skip_streak: Option<u64>,
}

impl NatsSubscriber {
    /// Subscribes `client` to `pattern` and waits for the server to confirm it (one round
    /// trip), so messages published after this returns are received.
    ///
    /// # Errors
    /// [`NatsError::Subscribe`] when the client is closed or the server does not confirm.
    pub async fn subscribe(client: &Client, pattern: &TopicPattern) -> Result<Self, NatsError> {
        let inner = subscribe_confirmed(client, pattern).await?;
        Ok(Self {
            pattern: pattern.clone(),
            inner,
            stats: NatsSubscriberStats::default(),
            last_skip: None,
            skip_streak: None,
        })
    }

    /// What it listens to.
    #[must_use]
    pub const fn pattern(&self) -> &TopicPattern {
        &self.pattern
    }

    /// The counters so far.
    #[must_use]
    pub const fn stats(&self) -> NatsSubscriberStats {
        self.stats
    }

    /// Why the most recent skipped message was skipped.
    #[must_use]
    pub const fn last_skip(&self) -> Option<&SkipReason> {
        self.last_skip.as_ref()
    }

    /// The next market event, skipping messages that are not one; `None` once the
    /// subscription is closed (unsubscribed, or the client closed or drained). Cancel-safe: a
    /// `select!` or timeout that drops the future loses no message.
    pub async fn next(&mut self) -> Option<Envelope<OwnedMarketEvent>> {
        loop {
            let message = self.inner.next().await?;
            self.stats.received += 1;
            match parse(message.subject.as_str(), &message.payload) {
                Ok(envelope) => {
                    self.stats.delivered += 1;
                    if let Some(skipped) = self.skip_streak.take() {
                        tracing::info!(
                            pattern = %self.pattern,
                            skipped,
                            "NATS subscriber: messages decode again"
                        );
                    }
                    return Some(envelope);
                }
                Err(reason) => self.skip(reason),
            }
        }
    }

    /// Unsubscribes; messages already received are dropped.
    ///
    /// # Errors
    /// [`NatsError::Subscribe`] when the client is already closed.
    pub async fn unsubscribe(mut self) -> Result<(), NatsError> {
        let subject = self.pattern.to_string();
        self.inner
            .unsubscribe()
            .await
            .map_err(|e| NatsError::Subscribe {
                subject,
                reason: format!("unsubscribe failed: {e}"),
            })
    }

    fn skip(&mut self, reason: SkipReason) {
        self.stats.skipped += 1;
        metrics::counter!(
            names::MESSAGES_DROPPED_TOTAL,
            "symbol" => reason.symbol_label(),
            "reason" => "nats_undecodable"
        )
        .increment(1);
        match &mut self.skip_streak {
            Some(skipped) => *skipped += 1,
            None => {
                tracing::warn!(
                    pattern = %self.pattern,
                    error = %reason,
                    "NATS subscriber: skipping a message that is not a market event (and \
                     counting any that follow)"
                );
                self.skip_streak = Some(1);
            }
        }
        self.last_skip = Some(reason);
    }
}

/// A NATS subscription to every topic a [`TopicPattern`] matches, yielding each message as an
/// [`Envelope`] of its [`Topic`] and its payload bytes as published. Messages whose subject is
/// not a topic name are counted and skipped. The client re-subscribes by itself after a
/// reconnection.
pub struct NatsBytesSubscriber {
    pattern: TopicPattern,
    inner: async_nats::Subscriber,
    skipped: u64,
}

impl NatsBytesSubscriber {
    /// Subscribes `client` to `pattern` and waits for the server to confirm it, so messages
    /// published after this returns are received.
    ///
    /// # Errors
    /// [`NatsError::Subscribe`] when the client is closed or the server does not confirm.
    pub async fn subscribe(client: &Client, pattern: &TopicPattern) -> Result<Self, NatsError> {
        let inner = subscribe_confirmed(client, pattern).await?;
        Ok(Self {
            pattern: pattern.clone(),
            inner,
            skipped: 0,
        })
    }

    /// Messages skipped because their subject was not a topic name.
    #[must_use]
    pub const fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The next message; `None` once the subscription is closed. Cancel-safe.
    pub async fn next(&mut self) -> Option<Envelope<Vec<u8>>> {
        loop {
            let message = self.inner.next().await?;
            match Topic::parse(message.subject.as_str()) {
                Ok(topic) => {
                    return Some(Envelope {
                        topic,
                        message: message.payload.to_vec(),
                    });
                }
                Err(error) => {
                    self.skipped += 1;
                    tracing::debug!(pattern = %self.pattern, subject = %message.subject, %error, "NATS subscriber: skipping a message whose subject is not a topic");
                }
            }
        }
    }
}

impl std::fmt::Debug for NatsBytesSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBytesSubscriber")
            .field("pattern", &self.pattern)
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

/// Subscribes `client` to `pattern`'s subject and waits for the server to confirm it (one
/// round trip).
async fn subscribe_confirmed(
    client: &Client,
    pattern: &TopicPattern,
) -> Result<async_nats::Subscriber, NatsError> {
    let subject = pattern.to_string();
    let fail = |reason: String| NatsError::Subscribe {
        subject: subject.clone(),
        reason,
    };
    let inner = client
        .subscribe(subject.clone())
        .await
        .map_err(|e| fail(e.to_string()))?;
    client.flush().await.map_err(|e| fail(e.to_string()))?;
    Ok(inner)
}

/// The topic and event of one message, checking that the event belongs on its subject.
pub(super) fn parse(
    subject: &str,
    payload: &[u8],
) -> Result<Envelope<OwnedMarketEvent>, SkipReason> {
    let topic = Topic::parse(subject).map_err(|source| SkipReason::Subject {
        subject: subject.chars().take(64).collect(),
        source,
    })?;
    let event = codec::decode(payload).map_err(|source| SkipReason::Payload { topic, source })?;
    let expected = Topic::for_market_data(event.kind(), event.symbol());
    if expected.as_ref() != Ok(&topic) {
        let expected = expected.map_or_else(|e| e.to_string(), |t| t.to_string());
        return Err(SkipReason::WrongTopic { topic, expected });
    }
    Ok(Envelope {
        topic,
        message: event.into_owned(),
    })
}

impl std::fmt::Debug for NatsSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSubscriber")
            .field("pattern", &self.pattern)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
