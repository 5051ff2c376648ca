//! The NATS transport (seed 000 FR-MD-005 step 3, "publish to message queue topic (distributed
//! consumers)"): the bus's topics as NATS subjects, carrying the bus's binary codec bytes.
//!
//! The market-data hot path never talks to NATS: it only writes to the shared-memory
//! [`crate::ring`]. A [`RingPump`] in the same process follows the ring like any other reader,
//! decodes each message to learn its [`Topic`] (`market_data.{symbol}.orderbook` or
//! `market_data.{symbol}.trades`) and publishes the *same bytes* through a [`NatsPublisher`] on
//! the subject of that name. On other hosts a [`NatsSubscriber`] turns a [`crate::TopicPattern`]
//! (whose `*` / `>` wildcards are NATS's own) into a subscription and yields decoded events.
//!
//! Other publishers use the same subjects for payloads of their own: the execution engine's
//! JSON order updates and fills go out through [`NatsPublisher::publish`] on `orders.{symbol}`
//! and `fills.{symbol}`, and a [`NatsBytesSubscriber`] reads them as published.
//!
//! Failure rules:
//!
//! - The NATS client reconnects by itself and re-subscribes. While it is away, publishes are
//!   buffered by the client until its queue is full, then counted as failed and dropped (market
//!   data goes stale; it is not worth replaying). Nothing here panics or stops because the
//!   server went away; a failure streak is logged once when it starts and once when it ends.
//! - A pump that falls a whole ring behind loses messages: they are counted
//!   (`messages_dropped_total{reason="nats_lapped"}`) and the pump resumes at the newest.
//! - Bytes that are not a codec message are never published (pump) or delivered (subscriber);
//!   they are counted and skipped.
//!
//! TLS (`tls://` URLs) uses rustls: a process that links more than one rustls crypto provider
//! must install the default provider first (DEPENDENCIES.md, trap 1).
//!
//! ```no_run
//! use kestrel_bus::nats::{self, NatsPublisher, NatsSubscriber, pump_ring};
//! use kestrel_bus::{RingReader, TopicPattern};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // The market-data process: forward the ring to NATS until shutdown.
//! let publisher = NatsPublisher::connect("nats://127.0.0.1:4222").await?;
//! let reader = RingReader::open("/dev/shm/kestrel-md")?;
//! let (stop, shutdown) = tokio::sync::watch::channel(false);
//! let pump = tokio::spawn(pump_ring(reader, publisher, shutdown));
//!
//! // Another host: every trade of every symbol.
//! let client = nats::connect("nats://127.0.0.1:4222").await?;
//! let mut trades =
//!     NatsSubscriber::subscribe(&client, &TopicPattern::parse("market_data.*.trades")?).await?;
//! if let Some(envelope) = trades.next().await {
//!     println!("{} {:?}", envelope.topic, envelope.message);
//! }
//!
//! stop.send(true)?;
//! let stats = pump.await?;
//! println!("published {} messages", stats.published);
//! # Ok(())
//! # }
//! ```

mod publisher;
mod pump;
mod subscriber;

pub use async_nats::Client;
pub use publisher::{DEFAULT_PUBLISH_TIMEOUT, NatsPublisher, NatsPublisherStats};
pub use pump::{PumpConfig, PumpMonitor, PumpStats, RingPump, pump_ring};
pub use subscriber::{NatsBytesSubscriber, NatsSubscriber, NatsSubscriberStats, SkipReason};

use async_nats::{ConnectOptions, Event, ServerAddr};

use crate::topic::Topic;

/// The client name Kestrel announces to the NATS server (shown by its monitoring).
pub const CLIENT_NAME: &str = "kestrel";

/// Why a NATS operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// The configured URL is not a NATS server address.
    #[error("invalid NATS URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, credentials masked.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        /// The URL, credentials masked.
        url: String,
        /// The client's error.
        #[source]
        source: async_nats::ConnectError,
    },
    /// A message could not be handed to the client.
    #[error("NATS publish on {topic} failed: {failure}")]
    Publish {
        /// The topic (= subject) of the message.
        topic: Topic,
        /// Why.
        #[source]
        failure: PublishFailure,
    },
    /// A subscription could not be made or confirmed.
    #[error("cannot subscribe to NATS subject {subject}: {reason}")]
    Subscribe {
        /// The subject pattern.
        subject: String,
        /// Why.
        reason: String,
    },
    /// Buffered messages could not be confirmed written to the server.
    #[error("NATS flush to {url} failed: {reason}")]
    Flush {
        /// The URL, credentials masked.
        url: String,
        /// Why.
        reason: String,
    },
}

/// Why one publish failed (see [`NatsError::Publish`]).
#[derive(Debug, thiserror::Error)]
pub enum PublishFailure {
    /// The client is reconnecting and its buffer was already found full: dropped at once.
    #[error("not connected (the client is reconnecting and its buffer is full)")]
    NotConnected,
    /// The client's send buffer stayed full for the whole publish timeout.
    #[error("the client's send buffer stayed full for {timeout_ms} ms")]
    TimedOut {
        /// The publish timeout, in milliseconds.
        timeout_ms: u64,
    },
    /// The client refused the message (larger than the server's `max_payload`, client closed).
    #[error(transparent)]
    Client(async_nats::PublishError),
}

/// Connects to the NATS server(s) at `url` (`nats://host:port`, or several separated by `,`),
/// announcing [`CLIENT_NAME`] and logging disconnections and reconnections. The client then
/// reconnects by itself, without limit.
///
/// # Errors
/// [`NatsError::InvalidUrl`] for a malformed URL, [`NatsError::Connect`] (naming the URL with
/// any password masked) when no server can be reached.
pub async fn connect(url: &str) -> Result<Client, NatsError> {
    connect_with(url, ConnectOptions::new()).await
}

/// [`connect`] with the caller's options (credentials, TLS, timeouts); the client name and the
/// event callback are replaced by [`CLIENT_NAME`] and the connection-event logging.
///
/// # Errors
/// As [`connect`].
pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Client, NatsError> {
    let shown = redact_url(url);
    let servers = parse_servers(url).map_err(|reason| NatsError::InvalidUrl {
        url: shown.clone(),
        reason,
    })?;
    let logged_url = shown.clone();
    let options = options.name(CLIENT_NAME).event_callback(move |event| {
        let url = logged_url.clone();
        async move { log_event(&url, &event) }
    });
    options
        .connect(servers)
        .await
        .map_err(|source| NatsError::Connect { url: shown, source })
}

fn log_event(url: &str, event: &Event) {
    match event {
        Event::Connected => tracing::info!(url, "NATS connected"),
        Event::Disconnected => {
            tracing::warn!(url, "NATS connection lost; reconnecting in the background");
        }
        Event::SlowConsumer(sid) => {
            tracing::warn!(
                url,
                sid,
                "NATS subscriber too slow: the client dropped messages"
            );
        }
        Event::ServerError(_) | Event::ClientError(_) => {
            tracing::warn!(url, event = %event, "NATS client error");
        }
        other => tracing::debug!(url, event = %other, "NATS client event"),
    }
}

/// The server addresses of a `,`-separated URL list.
fn parse_servers(url: &str) -> Result<Vec<ServerAddr>, String> {
    url.split(',')
        .map(|server| {
            let server = server.trim();
            if server.is_empty() {
                return Err("empty server address".to_owned());
            }
            server.parse::<ServerAddr>().map_err(|e| e.to_string())
        })
        .collect()
}

/// `url` with the user-info part (`user:password@`) of each server replaced by `***@`, for
/// errors and logs.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let servers = url.split(',').map(|server| {
        let (scheme, rest) = server
            .split_once("://")
            .map_or(("", server), |(scheme, rest)| (scheme, rest));
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let masked = if host.len() == authority.len() {
            ""
        } else {
            "***@"
        };
        let separator = if scheme.is_empty() { "" } else { "://" };
        format!("{scheme}{separator}{masked}{host}{tail}")
    });
    servers.collect::<Vec<_>>().join(",")
}

/// The label value used for `symbol` when a message's symbol is unknown.
const UNKNOWN_SYMBOL: &str = "unknown";

#[cfg(test)]
mod tests;
