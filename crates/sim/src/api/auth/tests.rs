use std::collections::HashMap;

use axum::http::HeaderMap;

use super::{
    Authenticated, RawRequest, SecurityLevel, authenticate, check_api_key_format, check_timestamp,
    sign, signed_query, split_signature, verify_signature,
};
use crate::api::params::Params;

/// Binance's documented example secret (§2.3).
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
/// Binance's documented all-in-query example and its signature.
const QUERY: &str = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&\
                     recvWindow=5000&timestamp=1499827319559";
const QUERY_SIGNATURE: &str = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
/// The same parameters split as query `…timeInForce=GTC` + body `quantity=1…`, signed over
/// the direct concatenation (computed independently with Python's `hmac`).
const MIXED_QUERY: &str = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
const MIXED_BODY: &str = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
const MIXED_SIGNATURE: &str = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77";
const NOW: u64 = 1_499_827_319_559;

fn secrets() -> HashMap<String, String> {
    HashMap::from([(KEY.to_owned(), SECRET.to_owned())])
}

fn check(query: &str, body: &str, key: Option<&str>, now_ms: u64) -> Result<Authenticated, i32> {
    let params = Params::parse(query, body.as_bytes()).map_err(|error| error.code)?;
    let request = RawRequest {
        query,
        body: body.as_bytes(),
        api_key: key.map(str::as_bytes),
    };
    authenticate(SecurityLevel::Signed, &request, &params, &secrets(), now_ms)
        .map_err(|error| error.code)
}

fn signed(query: &str) -> String {
    format!("{query}&signature={}", sign(query, "", SECRET))
}

#[test]
fn client_signer_reproduces_binance_example() {
    assert_eq!(sign(QUERY, "", SECRET), QUERY_SIGNATURE);
    assert_eq!(sign(MIXED_QUERY, MIXED_BODY, SECRET), MIXED_SIGNATURE);
    assert_ne!(QUERY_SIGNATURE, MIXED_SIGNATURE);
    assert_eq!(
        signed_query(QUERY, SECRET),
        format!("{QUERY}&signature={QUERY_SIGNATURE}")
    );
}

#[test]
fn signature_in_query_is_accepted() {
    let query = format!("{QUERY}&signature={QUERY_SIGNATURE}");
    let accepted = check(&query, "", Some(KEY), NOW).unwrap();
    assert_eq!(accepted.api_key.as_deref(), Some(KEY));
    assert_eq!(accepted.timestamp_ms, Some(NOW));
    assert_eq!(accepted.recv_window_ms, Some(5000));
}

#[test]
fn signature_in_body_is_accepted() {
    let body = format!("{QUERY}&signature={QUERY_SIGNATURE}");
    assert!(check("", &body, Some(KEY), NOW).is_ok());
}

#[test]
fn mixed_query_and_body_sign_the_direct_concatenation() {
    let body = format!("{MIXED_BODY}&signature={MIXED_SIGNATURE}");
    assert!(check(MIXED_QUERY, &body, Some(KEY), NOW).is_ok());
    let wrong = format!("{MIXED_BODY}&signature={QUERY_SIGNATURE}");
    assert_eq!(check(MIXED_QUERY, &wrong, Some(KEY), NOW), Err(-1022));
}

#[test]
fn signature_hex_is_case_insensitive() {
    let query = format!("{QUERY}&signature={}", QUERY_SIGNATURE.to_ascii_uppercase());
    assert!(check(&query, "", Some(KEY), NOW).is_ok());
}

#[test]
fn signature_not_last_is_still_removed() {
    let query = format!("signature={QUERY_SIGNATURE}&{QUERY}");
    assert!(check(&query, "", Some(KEY), NOW).is_ok());
}

#[test]
fn tampered_param_is_1022() {
    let query = format!("{QUERY}&signature={QUERY_SIGNATURE}").replace("price=0.1", "price=0.2");
    assert_eq!(check(&query, "", Some(KEY), NOW), Err(-1022));
}

#[test]
fn garbage_signature_is_1022() {
    let query = format!("{QUERY}&signature=nothex");
    assert_eq!(check(&query, "", Some(KEY), NOW), Err(-1022));
}

#[test]
fn wrong_secret_is_1022() {
    let query = format!("{QUERY}&signature={}", sign(QUERY, "", "other"));
    assert_eq!(check(&query, "", Some(KEY), NOW), Err(-1022));
}

#[test]
fn missing_signature_or_timestamp_is_1102() {
    assert_eq!(check(QUERY, "", Some(KEY), NOW), Err(-1102));
    assert_eq!(
        check(&format!("{QUERY}&signature="), "", Some(KEY), NOW),
        Err(-1102)
    );
    assert_eq!(
        check(&signed("symbol=BTCUSDT"), "", Some(KEY), NOW),
        Err(-1102)
    );
    assert_eq!(
        check(&signed("timestamp=abc"), "", Some(KEY), NOW),
        Err(-1102)
    );
}

#[test]
fn stale_timestamp_is_1021_outside_recv_window() {
    let query = format!("{QUERY}&signature={QUERY_SIGNATURE}");
    assert!(check(&query, "", Some(KEY), NOW + 5000).is_ok());
    assert_eq!(check(&query, "", Some(KEY), NOW + 5001), Err(-1021));
}

#[test]
fn timestamp_1000ms_ahead_is_1021() {
    let query = format!("{QUERY}&signature={QUERY_SIGNATURE}");
    assert!(check(&query, "", Some(KEY), NOW - 999).is_ok());
    assert_eq!(check(&query, "", Some(KEY), NOW - 1000), Err(-1021));
}

#[test]
fn timing_messages_distinguish_the_two_cases() {
    let ahead = check_timestamp(2_000, 5_000, 1_000).unwrap_err();
    assert_eq!(
        ahead.msg,
        "Timestamp for this request was 1000ms ahead of the server's time."
    );
    let stale = check_timestamp(1_000, 5_000, 6_001).unwrap_err();
    assert_eq!(
        stale.msg,
        "Timestamp for this request is outside of the recvWindow."
    );
    assert!(check_timestamp(1_000, 5_000, 6_000).is_ok());
    assert!(check_timestamp(1_999, 0, 1_000).is_ok());
}

#[test]
fn recv_window_defaults_and_is_capped_at_60000() {
    let ok = signed("recvWindow=60000&timestamp=1000");
    let accepted = check(&ok, "", Some(KEY), 61_000).unwrap();
    assert_eq!(accepted.recv_window_ms, Some(60_000));
    assert_eq!(check(&ok, "", Some(KEY), 61_001), Err(-1021));
    let too_big = signed("recvWindow=60001&timestamp=1000");
    assert_eq!(check(&too_big, "", Some(KEY), 1_000), Err(-1130));
    let junk = signed("recvWindow=5s&timestamp=1000");
    assert_eq!(check(&junk, "", Some(KEY), 1_000), Err(-1130));
}

#[test]
fn ccxt_recv_window_10000_widens_the_window() {
    let query = signed("timestamp=1000&symbol=BTCUSDT&recvWindow=10000");
    assert!(check(&query, "", Some(KEY), 11_000).is_ok());
}

#[test]
fn missing_or_malformed_key_is_2014_and_unknown_key_is_2015() {
    let query = format!("{QUERY}&signature={QUERY_SIGNATURE}");
    assert_eq!(check(&query, "", None, NOW), Err(-2014));
    assert_eq!(check(&query, "", Some(""), NOW), Err(-2014));
    assert_eq!(check(&query, "", Some("has space"), NOW), Err(-2014));
    assert_eq!(check(&query, "", Some("unknown"), NOW), Err(-2015));
    let lower = KEY.to_ascii_lowercase();
    assert_eq!(check(&query, "", Some(&lower), NOW), Err(-2015));
    assert_eq!(check_api_key_format(None).unwrap_err().status, 401);
}

#[test]
fn key_is_checked_before_timestamp() {
    assert_eq!(check("timestamp=1", "", None, NOW), Err(-2014));
}

#[test]
fn percent_encoded_fallback_matches_unencoded_signing() {
    // python-binance signs the unencoded string and sends an encoded body.
    let unencoded = "newClientOrderId=a:b c&symbol=BTCUSDT&timestamp=1700000000000";
    let signature = sign(unencoded, "", SECRET);
    assert_eq!(
        signature,
        "89f6c3e426cca73d886a99ec55e92ef6030d0aefbf92879aab1519cbf85d06d7"
    );
    let body = format!(
        "newClientOrderId=a%3Ab+c&symbol=BTCUSDT&timestamp=1700000000000&signature={signature}"
    );
    assert!(check("", &body, Some(KEY), 1_700_000_000_000).is_ok());
}

#[test]
fn lower_levels_need_only_what_they_declare() {
    let params = Params::parse("", b"").unwrap();
    let headers = HeaderMap::new();
    let anonymous = RawRequest::new("", b"", &headers);
    let none = authenticate(SecurityLevel::None, &anonymous, &params, &secrets(), 0).unwrap();
    assert_eq!(none.api_key, None);
    for level in [SecurityLevel::MarketData, SecurityLevel::UserStream] {
        let error = authenticate(level, &anonymous, &params, &secrets(), 0).unwrap_err();
        assert_eq!(error.code, -2014);
    }
    let mut headers = HeaderMap::new();
    headers.insert("x-mbx-apikey", KEY.parse().unwrap());
    let keyed = RawRequest::new("", b"", &headers);
    let accepted = authenticate(SecurityLevel::UserStream, &keyed, &params, &secrets(), 0).unwrap();
    assert_eq!(accepted.api_key.as_deref(), Some(KEY));
    assert_eq!(accepted.timestamp_ms, None);
}

#[test]
fn closures_serve_as_secret_lookup() {
    let lookup = |key: &str| (key == KEY).then(|| SECRET.to_owned());
    let query = format!("{QUERY}&signature={QUERY_SIGNATURE}");
    let params = Params::parse(&query, b"").unwrap();
    let request = RawRequest {
        query: &query,
        body: b"",
        api_key: Some(KEY.as_bytes()),
    };
    assert!(authenticate(SecurityLevel::Signed, &request, &params, &lookup, NOW).is_ok());
}

#[test]
fn split_signature_rebuilds_total_params() {
    let (signature, payload) = split_signature("a=1&signature=ff&b=2", b"c=3").unwrap();
    assert_eq!(signature, "ff");
    assert_eq!(payload, b"a=1&b=2c=3");
    let (_, payload) = split_signature("a=1", b"c=3&signature=ee").unwrap();
    assert_eq!(payload, b"a=1c=3");
    assert!(split_signature("a=1", b"b=2").is_none());
    assert!(verify_signature(QUERY.as_bytes(), QUERY_SIGNATURE, SECRET).is_ok());
}

#[test]
fn signature_and_timestamp_count_as_read() {
    let query = format!("{QUERY}&signature={QUERY_SIGNATURE}");
    let params = Params::parse(&query, b"").unwrap();
    let request = RawRequest {
        query: &query,
        body: b"",
        api_key: Some(KEY.as_bytes()),
    };
    authenticate(SecurityLevel::Signed, &request, &params, &secrets(), NOW).unwrap();
    let unread = params.unread();
    assert!(!unread.contains(&"signature") && !unread.contains(&"timestamp"));
    assert!(!unread.contains(&"recvWindow"));
}
