//! WebSocket URL shapes (`../shared/binance-futures.md` §1.2, §8.1, §10.3).
//!
//! Accepted, each with an optional `/public`, `/market` or `/private` prefix:
//! - `/ws` and `/ws/<s1>/<s2>…`: raw frames. Each segment is a listenKey, a market stream,
//!   or ignored (ccxt's dummy index in `/public/ws/3`).
//! - `/stream` and `/stream?streams=<s1>/<s2>`: combined frames; extra path segments are
//!   ignored.
//! - Query keys on either: `streams=` (names joined by `/`), `listenKey=` (repeatable) and
//!   `events=E1/E2` (a filter for the listenKey before it, or the next one if none came
//!   before); other keys are ignored.
//! - `/ws-fapi/v1`: the WebSocket trading API.
//!
//! A segment or `streams=` entry that claims to be a market stream but is not a valid one is
//! an error (the upgrade should fail with 400) rather than silently ignored, so a typo does
//! not leave a client waiting for data that never comes.

use std::collections::BTreeMap;

use super::streams::{
    Route, Stream, StreamError, StreamSpec, is_listen_key, looks_like_market_stream,
};
use super::{MAX_STREAMS, Subscriptions};
use crate::api::params::decode_component;

/// What a WebSocket URL asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsTarget {
    /// Market and/or user-data streams, raw (`/ws`) or combined (`/stream`).
    Streams(StreamConnection),
    /// The request/response trading API at `/ws-fapi/v1` (§1.1).
    TradingApi,
}

/// A stream connection as its URL describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConnection {
    /// The route prefix.
    pub route: Route,
    /// `true` for `/stream` (wrapped frames), `false` for `/ws` (§1.2).
    pub combined: bool,
    /// The streams named in the URL, in order, without repeats.
    pub streams: Vec<Stream>,
    /// Per-listenKey event filters from `events=`; a key without an entry gets every event.
    pub events: BTreeMap<String, Vec<String>>,
}

impl StreamConnection {
    /// Whether the URL named any user-data stream.
    #[must_use]
    pub fn is_user_data(&self) -> bool {
        self.streams
            .iter()
            .any(|stream| matches!(stream, Stream::UserData(_)))
    }

    /// The listenKeys named in the URL, in order.
    #[must_use]
    pub fn listen_keys(&self) -> Vec<&str> {
        self.streams
            .iter()
            .filter_map(|stream| match stream {
                Stream::UserData(key) => Some(key.as_str()),
                Stream::Market(_) => None,
            })
            .collect()
    }

    /// The connection's initial subscription state.
    #[must_use]
    pub fn subscriptions(&self) -> Subscriptions {
        let mut subscriptions = Subscriptions::new(self.combined);
        // The URL was already capped at MAX_STREAMS, so this cannot overflow.
        let _ = subscriptions.subscribe(&self.streams);
        subscriptions
    }
}

/// Why a WebSocket URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsUrlError {
    /// The path is none of the shapes in §1.2.
    #[error(
        "unknown WebSocket path {0:?}; expected [/public|/market|/private]/ws…, …/stream… or /ws-fapi/v1"
    )]
    UnknownPath(String),
    /// A stream name in the URL is invalid.
    #[error(transparent)]
    InvalidStream(#[from] StreamError),
    /// `listenKey=` with an empty value.
    #[error("listenKey is empty")]
    EmptyListenKey,
    /// More than 1024 streams (§1.4).
    #[error("{0} streams requested; a connection carries at most {MAX_STREAMS}")]
    TooManyStreams(usize),
    /// A path segment or query value is not valid UTF-8 once decoded.
    #[error("URL is not valid UTF-8 once percent-decoded")]
    BadEncoding,
}

impl WsUrlError {
    /// The HTTP status to refuse the upgrade with: 404 for an unknown path, else 400.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::UnknownPath(_) => 404,
            _ => 400,
        }
    }
}

impl WsTarget {
    /// Parses a WebSocket request's path and raw query (without `?`) per §1.2.
    ///
    /// # Errors
    /// [`WsUrlError`] for an unknown path, an invalid stream name, an empty listenKey or
    /// too many streams.
    pub fn parse(path: &str, query: Option<&str>) -> Result<Self, WsUrlError> {
        let segments = decoded_segments(path)?;
        let mut rest: &[String] = &segments;
        let route = match rest.first().map(String::as_str) {
            Some("public") => Route::Public,
            Some("market") => Route::Market,
            Some("private") => Route::Private,
            _ => Route::Unrouted,
        };
        if route != Route::Unrouted {
            rest = &rest[1..];
        }
        let unknown = || WsUrlError::UnknownPath(path.to_owned());
        let (mode, tail) = rest.split_first().ok_or_else(unknown)?;
        let combined = match mode.as_str() {
            "ws" => false,
            "stream" => true,
            "ws-fapi" if route == Route::Unrouted && tail.len() == 1 && tail[0] == "v1" => {
                return Ok(Self::TradingApi);
            }
            _ => return Err(unknown()),
        };
        let mut builder = Builder::default();
        if !combined {
            builder.add_path_segments(tail)?;
        }
        builder.add_query(query.unwrap_or(""))?;
        Ok(Self::Streams(builder.finish(route, combined)?))
    }
}

fn decoded_segments(path: &str) -> Result<Vec<String>, WsUrlError> {
    path.split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            decode_component(segment.as_bytes(), false).map_err(|_| WsUrlError::BadEncoding)
        })
        .collect()
}

/// Collects the streams and event filters a URL names.
#[derive(Debug, Default)]
struct Builder {
    streams: Vec<Stream>,
    events: BTreeMap<String, Vec<String>>,
    last_key: Option<String>,
    pending_events: Option<Vec<String>>,
    /// Streams beyond the cap, counted but not kept (bounds the work a huge URL causes).
    overflow: usize,
}

impl Builder {
    /// Raw-path segments: listenKeys and market streams; anything else is ignored.
    fn add_path_segments(&mut self, segments: &[String]) -> Result<(), WsUrlError> {
        for segment in segments {
            if is_listen_key(segment) {
                self.add_listen_key(segment.clone());
            } else if looks_like_market_stream(segment) {
                self.push(Stream::Market(StreamSpec::parse(segment)?));
            }
        }
        Ok(())
    }

    fn add_query(&mut self, query: &str) -> Result<(), WsUrlError> {
        for piece in query.split('&').filter(|piece| !piece.is_empty()) {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            let value =
                decode_component(value.as_bytes(), true).map_err(|_| WsUrlError::BadEncoding)?;
            match key {
                "streams" => self.add_stream_list(&value)?,
                "listenKey" if value.is_empty() => return Err(WsUrlError::EmptyListenKey),
                "listenKey" => self.add_listen_key(value),
                "events" => self.add_events(&value),
                _ => {}
            }
        }
        Ok(())
    }

    fn add_stream_list(&mut self, list: &str) -> Result<(), WsUrlError> {
        for name in list.split('/').filter(|name| !name.is_empty()) {
            match Stream::parse(name)? {
                Stream::UserData(key) => self.add_listen_key(key),
                market => self.push(market),
            }
        }
        Ok(())
    }

    fn add_listen_key(&mut self, key: String) {
        if let Some(events) = self.pending_events.take() {
            self.events.insert(key.clone(), events);
        }
        self.last_key = Some(key.clone());
        self.push(Stream::UserData(key));
    }

    fn add_events(&mut self, list: &str) {
        let events: Vec<String> = list
            .split('/')
            .filter(|event| !event.is_empty())
            .map(str::to_owned)
            .collect();
        match &self.last_key {
            Some(key) => {
                self.events.insert(key.clone(), events);
            }
            None => self.pending_events = Some(events),
        }
    }

    fn push(&mut self, stream: Stream) {
        if self.streams.len() > MAX_STREAMS {
            self.overflow += 1;
        } else if !self.streams.contains(&stream) {
            self.streams.push(stream);
        }
    }

    fn finish(self, route: Route, combined: bool) -> Result<StreamConnection, WsUrlError> {
        if self.streams.len() > MAX_STREAMS {
            let requested = self.streams.len() + self.overflow;
            return Err(WsUrlError::TooManyStreams(requested));
        }
        Ok(StreamConnection {
            route,
            combined,
            streams: self.streams,
            events: self.events,
        })
    }
}
