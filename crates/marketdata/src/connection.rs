//! One supervised market-stream connection (seed 000 FR-MD-001, `binance-futures.md` §1).
//!
//! It connects to `<ws_url>/stream` (combined frames, so every message names its stream),
//! subscribes with `SUBSCRIBE` frames in batches while keeping under the venue's 10 messages
//! per second per connection (§1.4), hands every text frame to a [`FrameHandler`] on the
//! reading task (no queue hop on the hot path), and answers pings (the WebSocket layer replies
//! with a pong as it reads). A connection that is silent for `heartbeat_timeout` is treated as
//! dead. On any loss it reconnects with [`Backoff`] and subscribes again; the handler is told
//! so it can resynchronise its books. Before the venue's 24-hour cut (§1.4) it reconnects on
//! its own, at `max_lifetime`. A refused upgrade with 401/403 is an authentication failure:
//! the supervisor stops and says so. A 429/418 is a rate limit: it backs off.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::{self, Message};

use kestrel_model::config::MarketDataConfig;

use crate::backoff::Backoff;

/// What to connect to and how to behave.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// The WebSocket base URL, e.g. `ws://127.0.0.1:8765` or `wss://fstream.binance.com/public`.
    pub ws_url: String,
    /// Stream names to subscribe, e.g. `btcusdt@depth@0ms`.
    pub streams: Vec<String>,
    /// Silence after which the connection is considered dead.
    pub heartbeat_timeout: Duration,
    /// First reconnection delay.
    pub reconnect_base: Duration,
    /// Longest reconnection delay.
    pub reconnect_max: Duration,
    /// Reconnection attempts in a row before giving up (0 = never give up).
    pub reconnect_max_attempts: u32,
    /// Reconnect on our own after this long (before the venue's 24-hour cut).
    pub max_lifetime: Duration,
    /// Streams per `SUBSCRIBE` frame.
    pub subscribe_batch: usize,
    /// Disconnected longer than this raises an alert (seed: 30 s).
    pub alert_after: Duration,
    /// Seed of the reconnection jitter.
    pub jitter_seed: u64,
}

impl StreamConfig {
    /// The market-data streams for `config.symbols` at `ws_url`: real-time depth diffs,
    /// trades and book tickers (all on Binance's `/public` route, which is also what an
    /// unrouted connection gets), with the configured heartbeat and reconnection settings.
    /// `kestrel md` and `kestrel record` both follow exactly these.
    #[must_use]
    pub fn for_market_data(ws_url: impl Into<String>, config: &MarketDataConfig) -> Self {
        let streams = config
            .symbols
            .iter()
            .flat_map(|s| {
                let s = s.to_ascii_lowercase();
                [
                    format!("{s}@depth@0ms"),
                    format!("{s}@trade"),
                    format!("{s}@bookTicker"),
                ]
            })
            .collect();
        let mut stream = Self::new(ws_url, streams);
        stream.heartbeat_timeout = Duration::from_millis(config.heartbeat_timeout_ms);
        stream.reconnect_base = Duration::from_millis(config.reconnect_base_delay_ms);
        stream.reconnect_max = Duration::from_millis(config.reconnect_max_delay_ms);
        stream.reconnect_max_attempts = config.reconnect_max_attempts;
        stream
    }

    /// Binance's limits and the seed's defaults for `streams` at `ws_url`.
    #[must_use]
    pub fn new(ws_url: impl Into<String>, streams: Vec<String>) -> Self {
        Self {
            ws_url: ws_url.into(),
            streams,
            heartbeat_timeout: Duration::from_secs(30),
            reconnect_base: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
            reconnect_max_attempts: 10,
            max_lifetime: Duration::from_secs(23 * 3600 + 50 * 60),
            subscribe_batch: 100,
            alert_after: Duration::from_secs(30),
            jitter_seed: 0x5eed,
        }
    }
}

/// When a frame was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// The instant of receipt, for the processing latency measured on this host.
    pub at: Instant,
    /// Monotonic nanoseconds (for latency), from the supervisor's start.
    pub mono_ns: u64,
    /// Wall-clock nanoseconds since the Unix epoch (for records).
    pub wall_ns: u64,
}

/// What the link is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Connecting (attempt number since the last success).
    Connecting(u32),
    /// Connected and subscribed.
    Connected,
    /// Lost; the reason, in words.
    Disconnected(String),
    /// Disconnected for longer than `alert_after` (the seed's "alert if > 30 s").
    Down(Duration),
}

/// Why the supervisor stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// Shutdown was requested.
    Stopped,
    /// The venue refused us (401/403): halted, needs an operator.
    AuthFailed(String),
    /// `reconnect_max_attempts` ran out.
    GaveUp(String),
}

/// Receives frames and link changes, on the reading task.
pub trait FrameHandler: Send {
    /// A text frame arrived.
    fn on_frame(&mut self, frame: &str, received: Received);
    /// The link changed state; after `Connected` following a loss, books must resync.
    fn on_state(&mut self, state: &LinkState);
}

/// Runs the connection until shutdown, authentication failure, or exhausted retries.
pub async fn run<H: FrameHandler>(
    config: StreamConfig,
    handler: &mut H,
    mut shutdown: watch::Receiver<bool>,
) -> LinkOutcome {
    let started = Instant::now();
    let reconnect = (
        config.reconnect_base.as_millis(),
        config.reconnect_max.as_millis(),
    );
    let mut backoff = Backoff::new(
        as_ms(reconnect.0),
        as_ms(reconnect.1),
        config.reconnect_max_attempts,
        config.jitter_seed,
    );
    let mut down_since: Option<Instant> = None;
    let mut alerted = false;
    loop {
        if *shutdown.borrow() {
            return LinkOutcome::Stopped;
        }
        handler.on_state(&LinkState::Connecting(backoff.attempts()));
        let reason = match connect(&config).await {
            Ok(socket) => {
                backoff.reset();
                (down_since, alerted) = (None, false);
                handler.on_state(&LinkState::Connected);
                match serve(socket, &config, handler, started, &mut shutdown).await {
                    Served::Stopped => return LinkOutcome::Stopped,
                    Served::Lost(reason) => reason,
                }
            }
            Err(Refused::Auth(reason)) => {
                tracing::error!(%reason, "market stream refused our credentials: halting");
                return LinkOutcome::AuthFailed(reason);
            }
            Err(Refused::Other(reason)) => reason,
        };
        tracing::warn!(%reason, "market stream lost");
        handler.on_state(&LinkState::Disconnected(reason.clone()));
        let since = *down_since.get_or_insert_with(Instant::now);
        let Some(delay) = backoff.next_delay() else {
            return LinkOutcome::GaveUp(reason);
        };
        if !alerted && since.elapsed() + delay > config.alert_after {
            alerted = true;
            tracing::error!(
                down_for_ms = since.elapsed().as_millis() as u64,
                "market stream down longer than the alert threshold"
            );
            handler.on_state(&LinkState::Down(since.elapsed() + delay));
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return LinkOutcome::Stopped,
        }
    }
}

fn as_ms(ms: u128) -> u64 {
    u64::try_from(ms).unwrap_or(u64::MAX)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a connection attempt failed.
enum Refused {
    Auth(String),
    Other(String),
}

/// Connects to the combined endpoint and subscribes every stream.
async fn connect(config: &StreamConfig) -> Result<Socket, Refused> {
    let url = format!("{}/stream", config.ws_url.trim_end_matches('/'));
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .map_err(|error| match &error {
            tungstenite::Error::Http(response)
                if matches!(response.status().as_u16(), 401 | 403) =>
            {
                Refused::Auth(format!("{url}: HTTP {}", response.status()))
            }
            _ => Refused::Other(format!("{url}: {error}")),
        })?;
    subscribe(&mut socket, &config.streams, config.subscribe_batch)
        .await
        .map_err(Refused::Other)?;
    Ok(socket)
}

/// Sends `SUBSCRIBE` frames of at most `batch` streams, at most 5 per second (half the
/// venue's 10 messages per second, leaving room for pongs).
async fn subscribe(socket: &mut Socket, streams: &[String], batch: usize) -> Result<(), String> {
    for (index, chunk) in streams.chunks(batch.max(1)).enumerate() {
        if index > 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let frame = serde_json::json!({ "method": "SUBSCRIBE", "params": chunk, "id": index + 1 });
        socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .map_err(|e| format!("subscribe: {e}"))?;
    }
    Ok(())
}

enum Served {
    Stopped,
    Lost(String),
}

/// Reads frames until the connection is lost, goes silent, reaches its lifetime, or shutdown.
async fn serve<H: FrameHandler>(
    mut socket: Socket,
    config: &StreamConfig,
    handler: &mut H,
    started: Instant,
    shutdown: &mut watch::Receiver<bool>,
) -> Served {
    let retire_at = tokio::time::Instant::now() + config.max_lifetime;
    loop {
        tokio::select! {
            next = tokio::time::timeout(config.heartbeat_timeout, socket.next()) => match next {
                Err(_) => return Served::Lost(format!("no message for {} ms", config.heartbeat_timeout.as_millis())),
                Ok(None) => return Served::Lost("closed by the venue".into()),
                Ok(Some(Err(error))) => return Served::Lost(error.to_string()),
                Ok(Some(Ok(Message::Text(text)))) => handler.on_frame(text.as_str(), received(started)),
                Ok(Some(Ok(Message::Close(frame)))) => return Served::Lost(format!("close frame: {frame:?}")),
                Ok(Some(Ok(_))) => {}
            },
            () = tokio::time::sleep_until(retire_at) => {
                let _ = socket.close(None).await;
                return Served::Lost("lifetime reached; reconnecting before the venue's cut".into());
            }
            _ = shutdown.changed() => {
                let _ = socket.close(None).await;
                return Served::Stopped;
            }
        }
    }
}

fn received(started: Instant) -> Received {
    let at = Instant::now();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Received {
        at,
        mono_ns: u64::try_from(at.duration_since(started).as_nanos()).unwrap_or(u64::MAX),
        wall_ns: u64::try_from(wall).unwrap_or(u64::MAX),
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn market_data_follows_depth_trades_and_tickers_of_every_symbol_with_the_config_timings() {
        let config = MarketDataConfig {
            symbols: vec!["BTCUSDT".into(), "ETHUSDT".into()],
            heartbeat_timeout_ms: 12_000,
            reconnect_max_attempts: 3,
            ..MarketDataConfig::default()
        };
        let stream = StreamConfig::for_market_data("ws://127.0.0.1:1", &config);
        assert_eq!(
            stream.streams,
            [
                "btcusdt@depth@0ms",
                "btcusdt@trade",
                "btcusdt@bookTicker",
                "ethusdt@depth@0ms",
                "ethusdt@trade",
                "ethusdt@bookTicker"
            ]
        );
        assert_eq!(stream.heartbeat_timeout, Duration::from_secs(12));
        assert_eq!(stream.reconnect_max_attempts, 3);
    }
}
