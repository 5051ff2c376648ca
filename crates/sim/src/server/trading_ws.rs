//! The WebSocket trading API at `/ws-fapi/v1` (§1.1): request/response frames
//! `{"id","method","params"}` → `{"id","status","result"}` or `{"id","status","error"}`.
//!
//! Each method runs the handler of its REST twin (`order.place` is `POST /fapi/v1/order`,
//! `account.status` is `GET /fapi/v2/account`, ...), so validation, errors and answers are the
//! same as REST by construction. Signed methods carry `apiKey`, `timestamp` and `signature` in
//! `params`; the signature is HMAC-SHA256 over every other parameter sorted by name and joined
//! as `key=value&...` (the WS-API rule).

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use super::rest::{self, Call};
use super::{Shared, lock, now_ms};
use crate::api::auth::{check_timestamp, recv_window};
use crate::api::{ApiError, Params, SecurityLevel, sign};

/// Upgrades `/ws-fapi/v1`.
pub(super) async fn upgrade(
    State(shared): State<Arc<Shared>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| serve(socket, shared))
}

async fn serve(mut socket: WebSocket, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    // The latency fault delays every request, these included.
                    let delay = lock(&shared.faults).latency_for("/ws-fapi/v1");
                    if delay > 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
                    }
                    let reply = answer(&shared, text.as_str());
                    if socket.send(Message::Text(Utf8Bytes::from(reply.to_string()))).await.is_err() { break; }
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
            _ = super::stopped(&mut shutdown) => break,
        }
    }
}

/// The REST twin of a WS-API method.
fn twin(method: &str) -> Option<(Method, &'static str)> {
    Some(match method {
        "ping" => (Method::GET, "/fapi/v1/ping"),
        "time" => (Method::GET, "/fapi/v1/time"),
        "exchangeInfo" => (Method::GET, "/fapi/v1/exchangeInfo"),
        "depth" => (Method::GET, "/fapi/v1/depth"),
        "order.place" => (Method::POST, "/fapi/v1/order"),
        "order.cancel" => (Method::DELETE, "/fapi/v1/order"),
        "order.status" => (Method::GET, "/fapi/v1/order"),
        "order.modify" => (Method::PUT, "/fapi/v1/order"),
        "account.status" => (Method::GET, "/fapi/v2/account"),
        "v2/account.status" => (Method::GET, "/fapi/v3/account"),
        "account.balance" => (Method::GET, "/fapi/v2/balance"),
        "v2/account.balance" => (Method::GET, "/fapi/v3/balance"),
        "account.position" => (Method::GET, "/fapi/v2/positionRisk"),
        "v2/account.position" => (Method::GET, "/fapi/v3/positionRisk"),
        "userDataStream.start" => (Method::POST, "/fapi/v1/listenKey"),
        "userDataStream.ping" => (Method::PUT, "/fapi/v1/listenKey"),
        "userDataStream.stop" => (Method::DELETE, "/fapi/v1/listenKey"),
        _ => return None,
    })
}

/// Answers one request frame.
fn answer(shared: &Shared, text: &str) -> Value {
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return reply(
            &Value::Null,
            Err(ApiError::bad_request(-1000, "Malformed request.")),
        );
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let result = run(shared, &request);
    reply(&id, result)
}

fn run(shared: &Shared, request: &Value) -> Result<Value, ApiError> {
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::mandatory_param("method"))?;
    let (http_method, path) = twin(method)
        .ok_or_else(|| ApiError::bad_request(-1000, format!("Unknown method: {method}")))?;
    let endpoint = rest::route(&http_method, path)
        .ok_or_else(|| ApiError::bad_request(-1000, "Unknown method."))?;
    let pairs = param_pairs(request.get("params"))?;
    let params = Params::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let now = now_ms();
    let account = match endpoint.security {
        SecurityLevel::None => None,
        SecurityLevel::MarketData | SecurityLevel::UserStream => Some(account_of(shared, &params)?),
        SecurityLevel::Signed => Some(verify(shared, &params, &pairs, now)?),
    };
    let call = Call {
        params: &params,
        account,
        now_ms: now,
    };
    shared.with_exchange(|exchange, _| (endpoint.handler)(exchange, &call))
}

/// `params` as string pairs (numbers and booleans as their JSON text).
fn param_pairs(params: Option<&Value>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(params) = params else {
        return Ok(Vec::new());
    };
    let object = params
        .as_object()
        .ok_or_else(|| ApiError::invalid_parameter("params"))?;
    Ok(object
        .iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (key.clone(), text)
        })
        .collect())
}

fn account_of(shared: &Shared, params: &Params) -> Result<u32, ApiError> {
    let key = params.required("apiKey")?;
    lock(&shared.exchange)
        .account_for(key)
        .ok_or_else(ApiError::rejected_api_key)
}

/// Checks the timestamp window and the signature over the sorted parameters.
fn verify(
    shared: &Shared,
    params: &Params,
    pairs: &[(String, String)],
    now: u64,
) -> Result<u32, ApiError> {
    let account = account_of(shared, params)?;
    let key = params.required("apiKey")?;
    let secret = lock(&shared.exchange)
        .secret_for(key)
        .ok_or_else(ApiError::rejected_api_key)?;
    check_timestamp(params.u64("timestamp")?, recv_window(params)?, now)?;
    let signature = params.required("signature")?;
    let mut sorted: Vec<&(String, String)> =
        pairs.iter().filter(|(k, _)| k != "signature").collect();
    sorted.sort();
    let payload = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    if sign(&payload, "", &secret).eq_ignore_ascii_case(signature) {
        Ok(account)
    } else {
        Err(ApiError::invalid_signature())
    }
}

fn reply(id: &Value, result: Result<Value, ApiError>) -> Value {
    match result {
        Ok(result) => json!({ "id": id, "status": 200, "result": result }),
        Err(error) => {
            json!({ "id": id, "status": error.status, "error": { "code": error.code, "msg": error.msg } })
        }
    }
}
