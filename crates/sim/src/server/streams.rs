//! WebSocket stream connections: every URL shape real clients use (§1.2; parsed by
//! [`WsTarget`]), live `SUBSCRIBE`/`UNSUBSCRIBE`/`LIST_SUBSCRIPTIONS`/`SET_PROPERTY` control
//! frames (§1.3), market streams from the hub, user data by listenKey (§8.1), server pings
//! every 3 minutes (§1.4), and the `drop_connections` fault.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, OriginalUri, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::hub::{Outgoing, QUEUE_CAPACITY};
use super::{Shared, lock};
use crate::api::Subscriptions;
use crate::api::ws_protocol::{Stream, StreamConnection, WsTarget};

/// How often the server pings a stream connection (§1.4).
const PING_EVERY: Duration = Duration::from_secs(180);

/// Upgrades any WebSocket path that names streams; everything else is a 404.
pub(super) async fn upgrade(
    State(shared): State<Arc<Shared>>,
    OriginalUri(uri): OriginalUri,
    parts: Parts,
) -> Response {
    let mut parts = parts;
    let target = match WsTarget::parse(uri.path(), uri.query()) {
        Ok(WsTarget::Streams(connection)) => connection,
        Ok(WsTarget::TradingApi) => {
            return (StatusCode::NOT_FOUND, "use /ws-fapi/v1").into_response();
        }
        Err(error) => {
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
            return (status, error.to_string()).into_response();
        }
    };
    match WebSocketUpgrade::from_request_parts(&mut parts, &shared).await {
        Ok(upgrade) => upgrade.on_upgrade(move |socket| serve(socket, shared, target)),
        Err(rejection) => rejection.into_response(),
    }
}

/// One connection's state.
struct Connection {
    id: u64,
    shared: Arc<Shared>,
    subscriptions: Subscriptions,
    queue: mpsc::Sender<Outgoing>,
}

impl Connection {
    fn attach(&self, stream: &Stream) {
        match stream {
            Stream::Market(spec) => {
                self.shared
                    .hub
                    .attach_market(self.id, &spec.to_string(), &self.queue)
            }
            Stream::UserData(key) => {
                let account = lock(&self.shared.exchange).listen_key_account(key);
                if let Some(account) = account {
                    self.shared
                        .hub
                        .attach_user(self.id, account, key, &self.queue);
                }
            }
        }
    }

    fn detach(&self, stream: &Stream) {
        match stream {
            Stream::Market(spec) => self.shared.hub.detach_market(self.id, &spec.to_string()),
            Stream::UserData(key) => self.shared.hub.detach_user(self.id, key),
        }
    }

    /// Handles a text frame from the client; returns the reply.
    fn on_text(&mut self, text: &str) -> String {
        let applied = self.subscriptions.handle_text(text);
        for stream in &applied.added {
            self.attach(stream);
        }
        for stream in &applied.removed {
            self.detach(stream);
        }
        applied.reply
    }
}

async fn serve(mut socket: WebSocket, shared: Arc<Shared>, target: StreamConnection) {
    let (queue, mut incoming) = mpsc::channel(QUEUE_CAPACITY);
    let id = shared.hub.connection_id();
    let mut connection = Connection {
        id,
        shared: Arc::clone(&shared),
        subscriptions: target.subscriptions(),
        queue,
    };
    for stream in connection.subscriptions.streams().to_vec() {
        connection.attach(&stream);
    }
    let mut shutdown = shared.shutdown.clone();
    let mut dropper = shared.drop_sockets.subscribe();
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    let reply = connection.on_text(text.as_str());
                    if socket.send(Message::Text(Utf8Bytes::from(reply))).await.is_err() { break; }
                }
                Some(Ok(Message::Close(_))) => {
                    // Reading on after a close frame lets the WebSocket layer send its close
                    // reply, so the client sees a clean close rather than a lost connection.
                    while let Some(Ok(_)) = socket.recv().await {}
                    break;
                }
                None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            outgoing = incoming.recv() => {
                let Some(outgoing) = outgoing else { break };
                let frame = connection.subscriptions.frame(&outgoing.stream, &outgoing.payload).into_owned();
                if socket.send(Message::Text(Utf8Bytes::from(frame))).await.is_err() { break; }
            }
            _ = pings.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() { break; }
            }
            _ = dropper.changed() => break,
            _ = super::stopped(&mut shutdown) => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
        }
    }
    shared.hub.detach_all(id);
}
