//! [`UserStream`]: one WebSocket connection to a listen key's user-data stream
//! (`../shared/binance-futures.md` §8.1, §1.4): `<base>/ws/<listenKey>`, raw framing.
//! Pings are answered by the WebSocket layer while reading.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{ListenKey, UserEvent, UserEventError, parse_user_event};

/// Why the user-data stream failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserStreamError {
    /// The connection could not be opened within the timeout.
    #[error("binance user stream: cannot connect to {url}: {detail}")]
    Connect {
        /// The URL, listen key elided.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The connection failed while reading.
    #[error("binance user stream: connection failed: {0}")]
    Transport(String),
    /// A frame could not be parsed (the stream stays usable).
    #[error(transparent)]
    Event(#[from] UserEventError),
}

/// A connected user-data stream.
#[derive(Debug)]
pub struct UserStream {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl UserStream {
    /// Connects to `<base_url>/ws/<listenKey>`. `base_url` is the stream host with its route:
    /// `wss://fstream.binance.com/private` for Binance, `ws://127.0.0.1:8765` for the
    /// simulator.
    ///
    /// # Errors
    /// [`UserStreamError::Connect`] when the handshake fails or takes longer than `timeout`.
    pub async fn connect(
        base_url: &str,
        listen_key: &ListenKey,
        timeout: Duration,
    ) -> Result<Self, UserStreamError> {
        let base = base_url.trim_end_matches('/');
        let url = format!("{base}/ws/{}", listen_key.as_str());
        let failed = |detail: String| UserStreamError::Connect {
            url: format!("{base}/ws/<listenKey>"),
            detail,
        };
        let connecting = tokio_tungstenite::connect_async_with_config(url, None, true);
        let (socket, _) = tokio::time::timeout(timeout, connecting)
            .await
            .map_err(|_| failed(format!("no handshake within {timeout:?}")))?
            .map_err(|e| failed(e.to_string()))?;
        Ok(Self { socket })
    }

    /// The next event; `None` once the connection has closed (reconnecting is the caller's
    /// decision). A frame that does not parse is returned as an error and the stream goes on.
    pub async fn next_event(&mut self) -> Option<Result<UserEvent, UserStreamError>> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => {
                    return Some(parse_user_event(text.as_str()).map_err(UserStreamError::from));
                }
                Ok(Message::Close(_)) => return None,
                Ok(_) => {}
                Err(error) => return Some(Err(UserStreamError::Transport(error.to_string()))),
            }
        }
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
