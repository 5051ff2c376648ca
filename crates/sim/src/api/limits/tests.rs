use std::net::{IpAddr, Ipv4Addr};

use axum::http::Method;

use super::{
    EndpointCost, LimitConfig, OrderLimiter, OrderUsage, WeightInput, WeightLimiter, weight,
};
use crate::api::params::Params;

const IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const OTHER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
/// A moment at the very start of a minute.
const T0: u64 = 1_700_000_040_000;
const MINUTE: u64 = 60_000;

fn small(limit: u32, rejections_before_ban: u32) -> LimitConfig {
    LimitConfig {
        weight_per_minute: limit,
        rejections_before_ban,
        ..LimitConfig::default()
    }
}

fn get(path: &str, has_symbol: bool, limit: Option<u32>) -> u32 {
    weight(&Method::GET, path, WeightInput { has_symbol, limit }).weight
}

#[test]
fn defaults_match_binance() {
    let config = LimitConfig::default();
    assert_eq!(config.weight_per_minute, 2400);
    assert_eq!(config.orders_per_10s, 300);
    assert_eq!(config.orders_per_minute, 1200);
    assert_eq!(config.first_ban_ms, 120_000);
    assert_eq!(config.max_ban_ms, 259_200_000);
}

#[test]
fn weight_accumulates_within_the_minute_and_resets_at_the_boundary() {
    let mut limiter = WeightLimiter::new(LimitConfig::default());
    assert_eq!(limiter.charge(IP, 1, T0).unwrap(), 1);
    assert_eq!(limiter.charge(IP, 20, T0 + 59_999).unwrap(), 21);
    assert_eq!(limiter.used(IP, T0 + 59_999), 21);
    assert_eq!(limiter.used(IP, T0 + MINUTE), 0);
    assert_eq!(limiter.charge(IP, 5, T0 + MINUTE).unwrap(), 5);
}

#[test]
fn ips_are_counted_separately() {
    let mut limiter = WeightLimiter::new(small(10, 5));
    limiter.charge(IP, 10, T0).unwrap();
    assert_eq!(limiter.charge(OTHER_IP, 10, T0).unwrap(), 10);
}

#[test]
fn reaching_the_limit_exactly_is_allowed_and_one_more_is_429() {
    let mut limiter = WeightLimiter::new(LimitConfig::default());
    assert_eq!(limiter.charge(IP, 2400, T0).unwrap(), 2400);
    let error = limiter.charge(IP, 1, T0 + 15_000).unwrap_err();
    assert_eq!((error.status, error.code), (429, -1003));
    assert!(
        error
            .msg
            .starts_with("Too many requests; current limit is 2400 requests per minute.")
    );
    assert_eq!(error.retry_after_s, Some(45));
    assert_eq!(
        limiter.used(IP, T0 + 15_000),
        2400,
        "a refused request adds nothing"
    );
}

#[test]
fn zero_weight_requests_pass_at_the_limit() {
    let mut limiter = WeightLimiter::new(small(10, 5));
    limiter.charge(IP, 10, T0).unwrap();
    assert_eq!(limiter.charge(IP, 0, T0).unwrap(), 10);
}

#[test]
fn going_on_after_429s_earns_a_418_ban() {
    let mut limiter = WeightLimiter::new(small(10, 2));
    limiter.charge(IP, 10, T0).unwrap();
    assert_eq!(limiter.charge(IP, 1, T0 + 1).unwrap_err().status, 429);
    assert_eq!(limiter.charge(IP, 1, T0 + 2).unwrap_err().status, 429);
    let ban = limiter.charge(IP, 1, T0 + 3).unwrap_err();
    assert_eq!((ban.status, ban.code), (418, -1003));
    let until = T0 + 3 + 120_000;
    assert!(
        ban.msg
            .starts_with(&format!("Way too many requests; IP banned until {until}."))
    );
    assert_eq!(ban.retry_after_s, Some(120));
    assert_eq!(limiter.banned_until(IP, T0 + 3), Some(until));
}

#[test]
fn every_request_during_a_ban_is_418_without_extending_it() {
    let mut limiter = WeightLimiter::new(small(10, 0));
    limiter.charge(IP, 10, T0).unwrap();
    let until = T0 + 1 + 120_000;
    assert_eq!(limiter.charge(IP, 1, T0 + 1).unwrap_err().status, 418);
    let during = limiter.charge(IP, 0, T0 + 90_000).unwrap_err();
    assert_eq!(during.status, 418);
    assert_eq!(during.retry_after_s, Some(31));
    assert_eq!(limiter.banned_until(IP, T0 + 90_000), Some(until));
    assert_eq!(limiter.charge(IP, 1, until).unwrap(), 1);
}

#[test]
fn ban_lengths_double_from_two_minutes_to_three_days() {
    let mut limiter = WeightLimiter::new(small(1, 0));
    let mut now = T0;
    let mut lengths = Vec::new();
    for _ in 0..14 {
        limiter.charge(IP, 1, now).unwrap();
        let error = limiter.charge(IP, 1, now).unwrap_err();
        assert_eq!(error.status, 418);
        let until = limiter.banned_until(IP, now).unwrap();
        lengths.push((until - now) / MINUTE);
        // Come back when the ban ends, at the start of a fresh minute.
        now = until.div_ceil(MINUTE) * MINUTE;
    }
    assert_eq!(
        lengths,
        [
            2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 4320, 4320
        ]
    );
}

#[test]
fn offences_are_forgotten_a_day_after_the_last_ban() {
    let mut limiter = WeightLimiter::new(small(1, 0));
    limiter.charge(IP, 1, T0).unwrap();
    limiter.charge(IP, 1, T0).unwrap_err();
    let until = limiter.banned_until(IP, T0).unwrap();
    let later = until + 24 * 60 * MINUTE;
    limiter.charge(IP, 1, later).unwrap();
    limiter.charge(IP, 1, later).unwrap_err();
    let again = limiter.banned_until(IP, later).unwrap();
    assert_eq!(again - later, 120_000, "back to the first ban length");
}

#[test]
fn rejections_reset_with_the_window() {
    let mut limiter = WeightLimiter::new(small(1, 1));
    limiter.charge(IP, 1, T0).unwrap();
    assert_eq!(limiter.charge(IP, 1, T0).unwrap_err().status, 429);
    limiter.charge(IP, 1, T0 + MINUTE).unwrap();
    assert_eq!(limiter.charge(IP, 1, T0 + MINUTE).unwrap_err().status, 429);
}

fn order_cost() -> EndpointCost {
    weight(&Method::POST, "/fapi/v1/order", WeightInput::default())
}

#[test]
fn order_counts_fill_the_10_second_window() {
    let mut limiter = OrderLimiter::new(LimitConfig::default());
    for n in 1..=300 {
        let usage = limiter.charge("acct", order_cost(), T0 + n).unwrap();
        assert_eq!(usage.count_10s, u32::try_from(n).unwrap());
    }
    let error = limiter
        .charge("acct", order_cost(), T0 + 9_999)
        .unwrap_err();
    assert_eq!(
        (error.status, error.code, error.retry_after_s),
        (429, -1015, None)
    );
    assert_eq!(
        error.msg,
        "Too many new orders; current limit is 300 orders per 10 SECOND."
    );
    let usage = limiter.charge("acct", order_cost(), T0 + 10_000).unwrap();
    assert_eq!(
        usage,
        OrderUsage {
            count_10s: 1,
            count_1m: 301
        }
    );
}

#[test]
fn order_counts_fill_the_minute_window() {
    let mut limiter = OrderLimiter::new(LimitConfig::default());
    for n in 0..1200u64 {
        let at = T0 + (n / 200) * 10_000;
        limiter.charge("acct", order_cost(), at).unwrap();
    }
    let error = limiter
        .charge("acct", order_cost(), T0 + 59_000)
        .unwrap_err();
    assert_eq!(
        error.msg,
        "Too many new orders; current limit is 1200 orders per 1 MINUTE."
    );
    assert_eq!(limiter.usage("acct", T0 + 59_000).count_1m, 1200);
    assert_eq!(limiter.usage("acct", T0 + MINUTE), OrderUsage::default());
}

#[test]
fn batch_orders_cost_five_in_10s_and_one_in_the_minute() {
    let cost = weight(
        &Method::POST,
        "/fapi/v1/batchOrders",
        WeightInput::default(),
    );
    assert_eq!(
        cost,
        EndpointCost {
            weight: 5,
            orders_10s: 5,
            orders_1m: 1
        }
    );
    let mut limiter = OrderLimiter::new(LimitConfig::default());
    let usage = limiter.charge("acct", cost, T0).unwrap();
    assert_eq!(
        usage,
        OrderUsage {
            count_10s: 5,
            count_1m: 1
        }
    );
    let [(name_10s, value_10s), (name_1m, value_1m)] = usage.headers();
    assert_eq!(
        (name_10s, value_10s.as_str()),
        ("X-MBX-ORDER-COUNT-10S", "5")
    );
    assert_eq!((name_1m, value_1m.as_str()), ("X-MBX-ORDER-COUNT-1M", "1"));
}

#[test]
fn non_order_requests_do_not_touch_order_counters() {
    let mut limiter = OrderLimiter::new(small(10, 0));
    let cost = weight(&Method::DELETE, "/fapi/v1/order", WeightInput::default());
    assert!(!cost.is_order());
    assert_eq!(
        limiter.charge("acct", cost, T0).unwrap(),
        OrderUsage::default()
    );
}

#[test]
fn accounts_are_counted_separately() {
    let config = LimitConfig {
        orders_per_10s: 1,
        ..LimitConfig::default()
    };
    let mut limiter = OrderLimiter::new(config);
    limiter.charge("a", order_cost(), T0).unwrap();
    assert!(limiter.charge("a", order_cost(), T0).is_err());
    assert!(limiter.charge("b", order_cost(), T0).is_ok());
}

#[test]
fn endpoint_weights_follow_the_table() {
    assert_eq!(get("/fapi/v1/ping", false, None), 1);
    assert_eq!(get("/fapi/v1/time", false, None), 1);
    assert_eq!(get("/fapi/v1/exchangeInfo", false, None), 1);
    assert_eq!(get("/fapi/v1/trades", true, None), 5);
    assert_eq!(get("/fapi/v1/aggTrades", true, None), 20);
    assert_eq!(get("/fapi/v1/premiumIndex", true, None), 1);
    assert_eq!(get("/fapi/v1/premiumIndex", false, None), 10);
    assert_eq!(get("/fapi/v1/ticker/bookTicker", true, None), 2);
    assert_eq!(get("/fapi/v1/ticker/bookTicker", false, None), 5);
    assert_eq!(get("/fapi/v1/ticker/24hr", true, None), 1);
    assert_eq!(get("/fapi/v1/ticker/24hr", false, None), 40);
    assert_eq!(get("/fapi/v2/ticker/price", false, None), 2);
    assert_eq!(get("/fapi/v1/order", true, None), 1);
    assert_eq!(get("/fapi/v1/openOrder", true, None), 1);
    assert_eq!(get("/fapi/v1/openOrders", true, None), 1);
    assert_eq!(get("/fapi/v1/openOrders", false, None), 40);
    assert_eq!(get("/fapi/v1/allOrders", true, None), 5);
    assert_eq!(get("/fapi/v1/userTrades", true, None), 5);
    assert_eq!(get("/fapi/v3/account", false, None), 5);
    assert_eq!(get("/fapi/v2/balance", false, None), 5);
    assert_eq!(get("/fapi/v3/positionRisk", false, None), 5);
    assert_eq!(get("/fapi/v1/positionSide/dual", false, None), 30);
    assert_eq!(get("/fapi/v1/leverageBracket", false, None), 1);
    assert_eq!(get("/fapi/v1/openAlgoOrders", false, None), 40);
    assert_eq!(get("/fapi/v1/allAlgoOrders", true, None), 5);
    assert_eq!(get("/fapi/v1/unknownThing", false, None), 1);
}

#[test]
fn trading_endpoints_cost_orders_not_weight() {
    let post = |path: &str| weight(&Method::POST, path, WeightInput::default());
    let one_order = EndpointCost {
        weight: 0,
        orders_10s: 1,
        orders_1m: 1,
    };
    assert_eq!(post("/fapi/v1/order"), one_order);
    assert_eq!(
        weight(&Method::PUT, "/fapi/v1/order", WeightInput::default()),
        one_order
    );
    assert_eq!(post("/fapi/v1/algoOrder"), one_order);
    assert_eq!(post("/fapi/v1/order/test"), EndpointCost::ip(1));
    assert_eq!(post("/fapi/v1/listenKey"), EndpointCost::ip(1));
    assert_eq!(post("/fapi/v1/leverage"), EndpointCost::ip(1));
    assert_eq!(post("/fapi/v1/positionSide/dual"), EndpointCost::ip(1));
    let delete = |path: &str| weight(&Method::DELETE, path, WeightInput::default());
    assert_eq!(delete("/fapi/v1/batchOrders"), EndpointCost::ip(1));
    assert_eq!(delete("/fapi/v1/allOpenOrders"), EndpointCost::ip(1));
    assert_eq!(delete("/fapi/v1/algoOrder"), EndpointCost::ip(1));
}

#[test]
fn depth_weight_by_limit() {
    for (limit, expected) in [
        (5, 2),
        (10, 2),
        (20, 2),
        (50, 2),
        (100, 5),
        (500, 10),
        (1000, 20),
    ] {
        assert_eq!(
            get("/fapi/v1/depth", true, Some(limit)),
            expected,
            "limit {limit}"
        );
    }
    assert_eq!(get("/fapi/v1/depth", true, None), 10);
}

#[test]
fn kline_weight_by_limit() {
    for (limit, expected) in [
        (1, 1),
        (99, 1),
        (100, 2),
        (499, 2),
        (500, 5),
        (1000, 5),
        (1001, 10),
    ] {
        assert_eq!(
            get("/fapi/v1/klines", true, Some(limit)),
            expected,
            "limit {limit}"
        );
    }
    assert_eq!(get("/fapi/v1/klines", true, None), 5);
    assert_eq!(get("/fapi/v1/markPriceKlines", true, Some(1500)), 10);
}

#[test]
fn weight_input_reads_params_without_marking_them() {
    let params = Params::parse("symbol=BTCUSDT&limit=1000", b"").unwrap();
    let input = WeightInput::from_params(&params);
    assert_eq!(
        input,
        WeightInput {
            has_symbol: true,
            limit: Some(1000)
        }
    );
    assert_eq!(params.unread().len(), 2);
    let input = WeightInput::from_params(&Params::parse("symbol=&limit=x", b"").unwrap());
    assert_eq!(input, WeightInput::default());
}

#[test]
fn trailing_slash_is_ignored() {
    assert_eq!(get("/fapi/v1/depth/", true, Some(1000)), 20);
}
