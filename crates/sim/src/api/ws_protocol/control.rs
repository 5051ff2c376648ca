//! Live subscription control over an open socket (`../shared/binance-futures.md` §1.3) and the
//! per-connection subscription state.
//!
//! Requests are JSON text frames `{"method":…,"params":[…],"id":…}`; replies are
//! `{"result":…,"id":…}` with the `id` echoed exactly, same JSON type. Errors are
//! `{"code":<n>,"msg":"…","id":…}` with Binance's codes: 0 unknown property, 1 bad value
//! type, 2 malformed request, 3 invalid JSON; the `id` is included whenever it could be
//! read, so clients can match the error to their request.
//!
//! Choices where the reference leaves one:
//! - `id` may be an unsigned integer, a string of at most 64 characters, or `null`; it must
//!   be present (Binance: "request ID must be an unsigned integer").
//! - An invalid stream name in `SUBSCRIBE`/`UNSUBSCRIBE` refuses the whole request (code 2)
//!   and changes nothing; a listenKey-shaped name subscribes to user data (§8.1, connector).
//! - Subscribing beyond 1024 streams (§1.4) refuses the whole request (code 2).
//! - `LIST_SUBSCRIPTIONS` ignores any `params`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::MAX_STREAMS;
use super::streams::Stream;

/// The longest string `id` accepted.
const MAX_TEXT_ID_LEN: usize = 64;

/// A request `id`, echoed back in the reply with the same JSON type (§1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestId {
    /// `"id": null`.
    Null,
    /// An unsigned integer id.
    Number(u64),
    /// A string id.
    Text(String),
}

impl RequestId {
    /// The id as JSON text.
    #[must_use]
    pub fn to_json(&self) -> String {
        match self {
            Self::Null => "null".to_owned(),
            Self::Number(number) => number.to_string(),
            Self::Text(text) => Value::from(text.as_str()).to_string(),
        }
    }

    fn parse(value: Option<&Value>) -> Option<Self> {
        match value? {
            Value::Null => Some(Self::Null),
            Value::Number(number) => number.as_u64().map(Self::Number),
            Value::String(text) if text.len() <= MAX_TEXT_ID_LEN => Some(Self::Text(text.clone())),
            _ => None,
        }
    }
}

/// What a control frame asks for (§1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlRequest {
    /// `SUBSCRIBE` to these streams.
    Subscribe(Vec<Stream>),
    /// `UNSUBSCRIBE` from these streams.
    Unsubscribe(Vec<Stream>),
    /// `LIST_SUBSCRIPTIONS`.
    ListSubscriptions,
    /// `SET_PROPERTY ["combined", <bool>]`.
    SetCombined(bool),
    /// `GET_PROPERTY ["combined"]`.
    GetCombined,
}

/// A parsed control frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlFrame {
    /// The id to echo.
    pub id: RequestId,
    /// The request.
    pub request: ControlRequest,
}

/// A refused control frame (§1.3 error replies).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("control frame error {code}: {msg}")]
pub struct ControlError {
    /// 0 unknown property, 1 bad value type, 2 malformed request, 3 invalid JSON.
    pub code: u8,
    /// The message, in Binance's wording where it has one.
    pub msg: String,
    /// The request's id, when it could be read.
    pub id: Option<RequestId>,
}

impl ControlError {
    /// Code 0: a property other than `combined`.
    pub const UNKNOWN_PROPERTY: u8 = 0;
    /// Code 1: a property value of the wrong type.
    pub const BAD_VALUE_TYPE: u8 = 1;
    /// Code 2: a malformed request.
    pub const INVALID_REQUEST: u8 = 2;
    /// Code 3: the frame is not JSON.
    pub const INVALID_JSON: u8 = 3;

    fn new(code: u8, msg: impl Into<String>, id: Option<&RequestId>) -> Self {
        Self {
            code,
            msg: msg.into(),
            id: id.cloned(),
        }
    }

    fn invalid(msg: &str, id: Option<&RequestId>) -> Self {
        Self::new(Self::INVALID_REQUEST, format!("Invalid request: {msg}"), id)
    }

    /// The reply text `{"code":<n>,"msg":"…"[,"id":…]}`.
    #[must_use]
    pub fn to_json(&self) -> String {
        let msg = Value::from(self.msg.as_str());
        match &self.id {
            Some(id) => format!(
                "{{\"code\":{},\"msg\":{msg},\"id\":{}}}",
                self.code,
                id.to_json()
            ),
            None => format!("{{\"code\":{},\"msg\":{msg}}}", self.code),
        }
    }
}

/// Parses one text frame into a control request (§1.3).
///
/// # Errors
/// [`ControlError`] with code 3 for bad JSON, 2 for a malformed request, 0 for an unknown
/// property, 1 for a property value of the wrong type.
pub fn parse_control(text: &str) -> Result<ControlFrame, ControlError> {
    let value: Value = serde_json::from_str(text).map_err(|error| {
        ControlError::new(
            ControlError::INVALID_JSON,
            format!("Invalid JSON: {error}"),
            None,
        )
    })?;
    let Value::Object(object) = value else {
        return Err(ControlError::invalid("expected a JSON object", None));
    };
    let id = RequestId::parse(object.get("id"));
    let method = match object.get("method") {
        None => return Err(ControlError::invalid("missing field `method`", id.as_ref())),
        Some(Value::String(method)) => method.as_str(),
        Some(_) => {
            return Err(ControlError::invalid(
                "method must be a string",
                id.as_ref(),
            ));
        }
    };
    let id = id.ok_or_else(|| {
        ControlError::invalid("request ID must be an unsigned integer or a string", None)
    })?;
    let request = parse_request(method, &object, &id)?;
    Ok(ControlFrame { id, request })
}

fn parse_request(
    method: &str,
    object: &Map<String, Value>,
    id: &RequestId,
) -> Result<ControlRequest, ControlError> {
    let params = object.get("params");
    match method {
        "SUBSCRIBE" => stream_params(params, id).map(ControlRequest::Subscribe),
        "UNSUBSCRIBE" => stream_params(params, id).map(ControlRequest::Unsubscribe),
        "LIST_SUBSCRIPTIONS" => Ok(ControlRequest::ListSubscriptions),
        "SET_PROPERTY" => set_property(params, id),
        "GET_PROPERTY" => property_name(params, 1, id).map(|()| ControlRequest::GetCombined),
        other => Err(ControlError::invalid(
            &format!(
                "unknown variant `{other}`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, \
                 `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"
            ),
            Some(id),
        )),
    }
}

fn stream_params(params: Option<&Value>, id: &RequestId) -> Result<Vec<Stream>, ControlError> {
    let not_names = || ControlError::invalid("params must be an array of stream names", Some(id));
    let Some(Value::Array(items)) = params else {
        return Err(not_names());
    };
    items
        .iter()
        .map(|item| {
            let name = item.as_str().ok_or_else(not_names)?;
            Stream::parse(name).map_err(|_| {
                ControlError::invalid(&format!("invalid stream name `{name}`"), Some(id))
            })
        })
        .collect()
}

/// `SET_PROPERTY ["combined", <bool>]`.
fn set_property(params: Option<&Value>, id: &RequestId) -> Result<ControlRequest, ControlError> {
    property_name(params, 2, id)?;
    match params
        .and_then(Value::as_array)
        .and_then(|items| items.get(1))
    {
        Some(Value::Bool(combined)) => Ok(ControlRequest::SetCombined(*combined)),
        _ => Err(ControlError::new(
            ControlError::BAD_VALUE_TYPE,
            "Invalid value type: expected Boolean",
            Some(id),
        )),
    }
}

/// Checks that `params` holds at most `max` items, the first being the name `combined`.
fn property_name(params: Option<&Value>, max: usize, id: &RequestId) -> Result<(), ControlError> {
    let items = params
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if items.len() > max {
        return Err(ControlError::invalid("too many parameters", Some(id)));
    }
    match items.first() {
        Some(Value::String(name)) if name == "combined" => Ok(()),
        Some(Value::String(_)) => Err(ControlError::new(
            ControlError::UNKNOWN_PROPERTY,
            "Unknown property",
            Some(id),
        )),
        _ => Err(ControlError::invalid(
            "property name must be a string",
            Some(id),
        )),
    }
}

/// The result of handling one control frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The reply text to send back (a result or an error).
    pub reply: String,
    /// Streams newly subscribed, in request order.
    pub added: Vec<Stream>,
    /// Streams that were subscribed and no longer are.
    pub removed: Vec<Stream>,
}

/// One connection's subscriptions, in subscription order, and its `combined` property
/// (§1.3): `/ws` connections start with `combined=false`, `/stream` ones with `true`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subscriptions {
    streams: Vec<Stream>,
    index: BTreeSet<Stream>,
    combined: bool,
}

impl Subscriptions {
    /// No subscriptions, with the `combined` property given.
    #[must_use]
    pub fn new(combined: bool) -> Self {
        Self {
            streams: Vec::new(),
            index: BTreeSet::new(),
            combined,
        }
    }

    /// Whether frames are wrapped as `{"stream":…,"data":…}`.
    #[must_use]
    pub const fn combined(&self) -> bool {
        self.combined
    }

    /// Sets the `combined` property.
    pub fn set_combined(&mut self, combined: bool) {
        self.combined = combined;
    }

    /// The subscribed streams, oldest first.
    #[must_use]
    pub fn streams(&self) -> &[Stream] {
        &self.streams
    }

    /// The subscribed stream names, oldest first (the `LIST_SUBSCRIPTIONS` result).
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.streams.iter().map(Stream::name).collect()
    }

    /// Whether `stream` is subscribed.
    #[must_use]
    pub fn contains(&self, stream: &Stream) -> bool {
        self.index.contains(stream)
    }

    /// How many streams are subscribed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Whether nothing is subscribed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Adds the streams not yet subscribed and returns them, all or nothing.
    ///
    /// # Errors
    /// The total it would reach, when above 1024 (§1.4); nothing is added then.
    pub fn subscribe(&mut self, streams: &[Stream]) -> Result<Vec<Stream>, usize> {
        let mut added: Vec<Stream> = Vec::new();
        let mut seen = BTreeSet::new();
        for stream in streams {
            if !self.index.contains(stream) && seen.insert(stream) {
                added.push(stream.clone());
            }
        }
        let total = self.streams.len() + added.len();
        if total > MAX_STREAMS {
            return Err(total);
        }
        self.index.extend(added.iter().cloned());
        self.streams.extend(added.iter().cloned());
        Ok(added)
    }

    /// Removes the given streams and returns those that were subscribed.
    pub fn unsubscribe(&mut self, streams: &[Stream]) -> Vec<Stream> {
        let mut removed = Vec::new();
        for stream in streams {
            if self.index.remove(stream) {
                removed.push(stream.clone());
            }
        }
        self.streams.retain(|stream| self.index.contains(stream));
        removed
    }

    /// Applies a parsed frame and builds the reply (§1.3).
    ///
    /// # Errors
    /// Code 2 when a `SUBSCRIBE` would pass 1024 streams.
    pub fn apply(&mut self, frame: &ControlFrame) -> Result<Applied, ControlError> {
        let id = &frame.id;
        let (result, added, removed) = match &frame.request {
            ControlRequest::Subscribe(streams) => {
                let added = self.subscribe(streams).map_err(|total| {
                    let msg =
                        format!("{total} streams; a connection carries at most {MAX_STREAMS}");
                    ControlError::invalid(&msg, Some(id))
                })?;
                (Value::Null, added, Vec::new())
            }
            ControlRequest::Unsubscribe(streams) => {
                (Value::Null, Vec::new(), self.unsubscribe(streams))
            }
            ControlRequest::ListSubscriptions => {
                (Value::from(self.names()), Vec::new(), Vec::new())
            }
            ControlRequest::SetCombined(combined) => {
                self.combined = *combined;
                (Value::Null, Vec::new(), Vec::new())
            }
            ControlRequest::GetCombined => (Value::Bool(self.combined), Vec::new(), Vec::new()),
        };
        let reply = format!("{{\"result\":{result},\"id\":{}}}", id.to_json());
        Ok(Applied {
            reply,
            added,
            removed,
        })
    }

    /// Parses and applies one text frame; on error the reply is the error JSON and nothing
    /// changes.
    pub fn handle_text(&mut self, text: &str) -> Applied {
        match parse_control(text).and_then(|frame| self.apply(&frame)) {
            Ok(applied) => applied,
            Err(error) => Applied {
                reply: error.to_json(),
                added: Vec::new(),
                removed: Vec::new(),
            },
        }
    }
}
