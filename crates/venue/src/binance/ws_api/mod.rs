//! The Binance USD-M WebSocket trading API (`ws-fapi`, `wss://ws-fapi.binance.com/ws-fapi/v1`;
//! `../shared/binance-futures.md` §1.1, §1.4, §2.5): signed `order.place`, `order.cancel` and
//! `order.status` requests over one connection, many in flight at once, each answer matched to
//! its request by `id`, each request with its own timeout.
//!
//! Answers and errors are typed exactly as over REST (the methods are REST's twins), so
//! [`RequestError::retry_advice`] applies unchanged. When the connection closes, every request
//! still waiting fails with an unknown outcome and [`WsApiClient::is_closed`] turns true;
//! reconnecting is the caller's decision.

mod frames;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use frames::signed_request;

use super::orders::{NewOrder, OrderKey, VenueOrder};
use super::rate_limit::{RateLimitTracker, RateLimits};
use super::request_error::{Idempotency, RequestError};
use super::signing::{Credentials, DEFAULT_RECV_WINDOW_MS, Params, ServerClock};
use frames::{Answer, AnswerId};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where and how the WebSocket API client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsApiConfig {
    /// The endpoint: `wss://ws-fapi.binance.com/ws-fapi/v1`, or the simulator's
    /// `ws://127.0.0.1:8765/ws-fapi/v1`.
    pub url: String,
    /// How long a request waits for its answer (the seed's `request_timeout_ms`).
    pub request_timeout: Duration,
    /// How long the handshake may take.
    pub connect_timeout: Duration,
    /// `recvWindow` sent with signed requests (§2.4).
    pub recv_window_ms: u64,
}

impl WsApiConfig {
    /// Defaults for `url`: 5 s requests, 5 s handshake, Binance's default `recvWindow`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            recv_window_ms: DEFAULT_RECV_WINDOW_MS,
        }
    }
}

/// A request waiting for its answer.
struct Pending {
    reply: oneshot::Sender<Result<String, RequestError>>,
    idempotency: Idempotency,
}

/// State shared with the reader task.
struct Shared {
    /// Waiting requests by id, and whether the connection has closed (checked under the same
    /// lock, so no request is registered after the close drained them).
    pending: Mutex<(HashMap<u64, Pending>, bool)>,
    next_id: AtomicU64,
    closed: watch::Sender<bool>,
    limits: Arc<RateLimitTracker>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, (HashMap<u64, Pending>, bool)> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands an answer frame to the request with its id (answers to forgotten, timed-out
    /// requests are dropped).
    fn dispatch(&self, text: &str) {
        let Ok(AnswerId { id: Some(id) }) = serde_json::from_str::<AnswerId>(text) else {
            return;
        };
        if let Some(pending) = self.lock().0.remove(&id) {
            let _ = pending.reply.send(Ok(text.to_owned()));
        }
    }

    /// Marks the connection closed and fails every waiting request: each may have executed.
    fn close_all(&self, detail: &str) {
        let drained: Vec<Pending> = {
            let mut guard = self.lock();
            guard.1 = true;
            guard.0.drain().map(|(_, p)| p).collect()
        };
        self.closed.send_replace(true);
        for pending in drained {
            let _ = pending.reply.send(Err(RequestError::Transport {
                detail: detail.to_owned(),
                idempotency: pending.idempotency,
            }));
        }
    }
}

/// A connection to the WebSocket trading API. Share it behind an `Arc` to send concurrent
/// requests; dropping it stops its reader.
pub struct WsApiClient {
    config: WsApiConfig,
    credentials: Credentials,
    clock: Arc<ServerClock>,
    shared: Arc<Shared>,
    sink: tokio::sync::Mutex<SplitSink<Socket, Message>>,
    reader: JoinHandle<()>,
}

impl std::fmt::Debug for WsApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsApiClient")
            .field("url", &self.config.url)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl Drop for WsApiClient {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl WsApiClient {
    /// Connects; `clock` and `limits` are usually shared with the venue's REST client.
    ///
    /// # Errors
    /// [`RequestError::Connect`] when the handshake fails or exceeds `connect_timeout`.
    pub async fn connect(
        config: WsApiConfig,
        credentials: Credentials,
        clock: Arc<ServerClock>,
        limits: Arc<RateLimitTracker>,
    ) -> Result<Self, RequestError> {
        let connecting = tokio_tungstenite::connect_async_with_config(&config.url, None, true);
        let (socket, _) = tokio::time::timeout(config.connect_timeout, connecting)
            .await
            .map_err(|_| RequestError::Connect {
                detail: format!("no handshake within {:?}", config.connect_timeout),
            })?
            .map_err(|e| RequestError::Connect {
                detail: e.to_string(),
            })?;
        let (sink, stream) = socket.split();
        let shared = Arc::new(Shared {
            pending: Mutex::new((HashMap::new(), false)),
            next_id: AtomicU64::new(1),
            closed: watch::channel(false).0,
            limits,
        });
        let reader = tokio::spawn(read_loop(stream, Arc::clone(&shared)));
        Ok(Self {
            config,
            credentials,
            clock,
            shared,
            sink: tokio::sync::Mutex::new(sink),
            reader,
        })
    }

    /// Whether the connection has closed (requests now fail with [`RequestError::Closed`]).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        *self.shared.closed.borrow()
    }

    /// Resolves once the connection has closed.
    pub async fn closed(&self) {
        let mut watcher = self.shared.closed.subscribe();
        let _ = watcher.wait_for(|closed| *closed).await;
    }

    /// How many requests wait for an answer.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.shared.lock().0.len()
    }

    /// Sends a close frame; waiting requests fail once the server closes.
    pub async fn close(&self) {
        let _ = self.sink.lock().await.close().await;
    }

    /// `order.place`: places a `LIMIT` or `MARKET` order (the twin of `POST /fapi/v1/order`).
    ///
    /// # Errors
    /// As [`crate::binance::rest::RestClient::place_order`], plus [`RequestError::Closed`].
    pub async fn place_order(&self, order: &NewOrder) -> Result<VenueOrder, RequestError> {
        let params = order.order_params()?;
        let idempotency = Idempotency::QueryableByClientId(order.client_order_id.clone());
        self.request("order.place", params, idempotency).await
    }

    /// `order.cancel`: cancels one order; unknown or closed is [`RequestError::NotFound`].
    ///
    /// # Errors
    /// As [`crate::binance::rest::RestClient::cancel_order`], plus [`RequestError::Closed`].
    pub async fn cancel_order(
        &self,
        symbol: &str,
        key: &OrderKey,
    ) -> Result<VenueOrder, RequestError> {
        let mut params = Params::new();
        params.text("symbol", symbol);
        key.add_to(&mut params);
        self.request("order.cancel", params, Idempotency::Idempotent)
            .await
    }

    /// `order.status`: one order; unknown is [`RequestError::NotFound`].
    ///
    /// # Errors
    /// As [`crate::binance::rest::RestClient::query_order`], plus [`RequestError::Closed`].
    pub async fn query_order(
        &self,
        symbol: &str,
        key: &OrderKey,
    ) -> Result<VenueOrder, RequestError> {
        let mut params = Params::new();
        params.text("symbol", symbol);
        key.add_to(&mut params);
        self.request("order.status", params, Idempotency::Idempotent)
            .await
    }

    /// Sends any signed method and parses its `result` as `T`.
    ///
    /// # Errors
    /// [`RequestError::Closed`] when the connection is closed; [`RequestError::Timeout`]
    /// when no answer comes within `request_timeout`; [`RequestError::Transport`] when the
    /// connection closes first; otherwise the venue's error, classified as over REST.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Params,
        idempotency: Idempotency,
    ) -> Result<T, RequestError> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let answer = self.register(id, &idempotency)?;
        let frame = signed_request(
            id,
            method,
            params,
            &self.credentials,
            self.clock.timestamp_ms(),
            self.config.recv_window_ms,
        );
        if let Err(error) = self.sink.lock().await.send(Message::text(frame)).await {
            self.shared.lock().0.remove(&id);
            return Err(send_error(&error, idempotency));
        }
        let text = self.wait(id, answer, idempotency.clone()).await?;
        self.decode(method, &text, idempotency)
    }

    fn register(
        &self,
        id: u64,
        idempotency: &Idempotency,
    ) -> Result<oneshot::Receiver<Result<String, RequestError>>, RequestError> {
        let (reply, answer) = oneshot::channel();
        let mut guard = self.shared.lock();
        if guard.1 {
            return Err(RequestError::Closed);
        }
        let idempotency = idempotency.clone();
        guard.0.insert(id, Pending { reply, idempotency });
        Ok(answer)
    }

    async fn wait(
        &self,
        id: u64,
        answer: oneshot::Receiver<Result<String, RequestError>>,
        idempotency: Idempotency,
    ) -> Result<String, RequestError> {
        let timeout = self.config.request_timeout;
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(RequestError::Transport {
                detail: "the reader stopped before the answer".to_owned(),
                idempotency,
            }),
            Err(_) => {
                self.shared.lock().0.remove(&id);
                Err(RequestError::Timeout {
                    timeout,
                    idempotency,
                })
            }
        }
    }

    fn decode<T: DeserializeOwned>(
        &self,
        method: &str,
        text: &str,
        idempotency: Idempotency,
    ) -> Result<T, RequestError> {
        let decode_error = |detail: String| RequestError::Decode {
            place: method.to_owned(),
            detail,
        };
        let answer: Answer<T> =
            serde_json::from_str(text).map_err(|e| decode_error(e.to_string()))?;
        self.shared
            .limits
            .record(RateLimits::from_ws(&answer.rate_limits));
        if (200..300).contains(&answer.status) {
            return answer
                .result
                .ok_or_else(|| decode_error("a success without a result".to_owned()));
        }
        Err(RequestError::classify(
            Some(answer.status),
            answer.error,
            text,
            None,
            idempotency,
        ))
    }
}

/// A failed write: on a closed socket nothing was sent; otherwise it may have been.
fn send_error(error: &WsError, idempotency: Idempotency) -> RequestError {
    match error {
        WsError::AlreadyClosed | WsError::ConnectionClosed => RequestError::Closed,
        other => RequestError::Transport {
            detail: other.to_string(),
            idempotency,
        },
    }
}

/// Routes answers until the connection ends, then fails whatever still waits.
async fn read_loop(mut stream: SplitStream<Socket>, shared: Arc<Shared>) {
    let reason = loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => shared.dispatch(text.as_str()),
            Some(Ok(Message::Close(_))) | None => break "the connection closed".to_owned(),
            Some(Ok(_)) => {}
            Some(Err(error)) => break format!("the connection failed: {error}"),
        }
    };
    shared.close_all(&reason);
}
