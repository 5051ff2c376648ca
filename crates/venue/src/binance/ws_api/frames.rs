//! The WebSocket API's frames (`../shared/binance-futures.md` §1.1, §2.5): a request
//! `{"id","method","params"}` with the signature inside `params`, and an answer
//! `{"id","status","result"|"error","rateLimits"?}`.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::binance::rate_limit::WsRateLimit;
use crate::binance::request_error::ErrorBody;
use crate::binance::signing::{Credentials, Params};
use crate::binance::wire;

/// The text of a signed request frame: `apiKey`, `timestamp` and `recvWindow` added to
/// `params`, the signature over all of them sorted by name (§2.5), integers as JSON numbers.
/// Written directly (no intermediate JSON tree): this is on the order hot path.
#[must_use]
pub fn signed_request(
    id: u64,
    method: &str,
    mut params: Params,
    credentials: &Credentials,
    timestamp_ms: u64,
    recv_window_ms: u64,
) -> String {
    params
        .text("apiKey", credentials.api_key())
        .int("recvWindow", recv_window_ms)
        .int("timestamp", timestamp_ms);
    let signature = credentials.sign(&[params.sorted_payload().as_bytes()]);
    params.text("signature", signature);
    let mut out = String::with_capacity(64 + params.items().len() * 32);
    out.push_str("{\"id\":");
    out.push_str(&id.to_string());
    out.push_str(",\"method\":");
    push_json_string(&mut out, method);
    out.push_str(",\"params\":{");
    for (n, param) in params.items().iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_json_string(&mut out, param.key);
        out.push(':');
        if param.integer
            && !param.value.is_empty()
            && param.value.bytes().all(|b| b.is_ascii_digit())
        {
            out.push_str(&param.value);
        } else {
            push_json_string(&mut out, &param.value);
        }
    }
    out.push_str("}}");
    out
}

/// Appends `text` as a JSON string literal.
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Just the `id` of an answer, to route it to its request.
#[derive(Debug, Deserialize)]
pub struct AnswerId {
    /// The request id echoed (absent on a malformed request's answer).
    #[serde(default, deserialize_with = "wire::opt_id")]
    pub id: Option<u64>,
}

/// A whole answer with its result parsed as `T`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", bound = "T: DeserializeOwned")]
pub struct Answer<T> {
    /// The HTTP-like status (200 on success).
    pub status: u16,
    /// The result, on success.
    #[serde(default)]
    pub result: Option<T>,
    /// The error, on failure.
    #[serde(default)]
    pub error: Option<ErrorBody>,
    /// The rate-limit counters after this request.
    #[serde(default)]
    pub rate_limits: Vec<WsRateLimit>,
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\n\u{1}");
        assert_eq!(out, r#""a\"b\\c\n\u0001""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\n\u{1}");
    }

    #[test]
    fn request_frame_signs_sorted_params_and_sends_integers_as_numbers() {
        let credentials = Credentials::new("key", "secret");
        let mut params = Params::new();
        params
            .text("symbol", "BTCUSDT")
            .text("quantity", "0.01")
            .int("orderId", 42);
        let text = signed_request(7, "order.status", params, &credentials, 1_000, 5_000);
        let frame: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(frame["id"], 7);
        assert_eq!(frame["method"], "order.status");
        let p = &frame["params"];
        assert_eq!(
            (p["orderId"].as_u64(), p["timestamp"].as_u64()),
            (Some(42), Some(1_000))
        );
        assert_eq!(p["quantity"], "0.01");
        let payload =
            "apiKey=key&orderId=42&quantity=0.01&recvWindow=5000&symbol=BTCUSDT&timestamp=1000";
        assert_eq!(p["signature"], credentials.sign(&[payload.as_bytes()]));
    }

    #[test]
    fn answers_parse_results_errors_and_rate_limits() {
        let ok: Answer<Value> = serde_json::from_str(
            r#"{"id":3,"status":200,"result":{"orderId":1},"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":300,"count":1}]}"#,
        )
        .unwrap();
        assert_eq!((ok.status, ok.rate_limits.len()), (200, 1));
        let failed: Answer<Value> = serde_json::from_str(
            r#"{"id":"3","status":400,"error":{"code":-2013,"msg":"Order does not exist."}}"#,
        )
        .unwrap();
        assert_eq!(failed.error.map(|e| e.code), Some(-2013));
        let id: AnswerId = serde_json::from_str(r#"{"id":"3","status":400}"#).unwrap();
        assert_eq!(id.id, Some(3));
    }
}
