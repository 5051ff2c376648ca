//! Rate limits: request weight per IP and order counts per account, the headers that report
//! them, the 429 → 418 escalation, and the weight of each endpoint
//! (`../shared/binance-futures.md` §4).
//!
//! Rules implemented:
//! - Weight (§4.1): each request adds its endpoint's weight to its IP's counter for the
//!   current minute; the limit is 2400 by default. Windows are fixed and aligned to the
//!   epoch minute (`now_ms / 60000`), which is how `X-MBX-USED-WEIGHT-1M` behaves: it drops
//!   to zero at the minute boundary.
//! - Orders (§4.1): each accepted order request adds to its account's 10-second and
//!   1-minute counters (300 and 1200 by default), also in fixed aligned windows.
//! - Headers (§4.2): every response carries `X-MBX-USED-WEIGHT-1M`; accepted orders also
//!   carry `X-MBX-ORDER-COUNT-10S` and `X-MBX-ORDER-COUNT-1M`.
//! - Over the weight limit (§4.4): HTTP 429, `-1003`, with `Retry-After` = seconds until the
//!   window ends. Over an order limit: HTTP 429, `-1015`, no `Retry-After`.
//! - Bans (§4.4): Binance bans IPs that keep going after 429s, "from 2 minutes to 3 days".
//!
//! Choices where the reference leaves one:
//! - A refused request adds nothing to any counter.
//! - "Keeps going": after [`LimitConfig::rejections_before_ban`] 429s in one window, the
//!   next over-limit request in that window is a ban (HTTP 418, `-1003` "Way too many
//!   requests; IP banned until `<ms>`. …", `Retry-After` = seconds left). Every request
//!   during a ban gets the same 418; it does not extend the ban.
//! - Ban lengths double from 2 minutes (2, 4, 8, … min) up to 3 days. An IP's offences are
//!   forgotten 24 hours after its last ban ended.
//! - `fundingRate`'s separate 500-per-5-minutes bucket is not modelled; it weighs 1.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::http::Method;

use super::errors::ApiError;
use super::params::Params;

/// Header with the IP's request weight used this minute (§4.2).
pub const USED_WEIGHT_1M_HEADER: &str = "X-MBX-USED-WEIGHT-1M";
/// Header with the account's orders in the current 10 seconds (§4.2).
pub const ORDER_COUNT_10S_HEADER: &str = "X-MBX-ORDER-COUNT-10S";
/// Header with the account's orders in the current minute (§4.2).
pub const ORDER_COUNT_1M_HEADER: &str = "X-MBX-ORDER-COUNT-1M";

const MINUTE_MS: u64 = 60_000;
const TEN_SECONDS_MS: u64 = 10_000;

/// The limits and the ban policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitConfig {
    /// Request weight per IP per minute (`REQUEST_WEIGHT`, default 2400).
    pub weight_per_minute: u32,
    /// Orders per account per 10 seconds (`ORDERS`/`SECOND`/10, default 300).
    pub orders_per_10s: u32,
    /// Orders per account per minute (`ORDERS`/`MINUTE`/1, default 1200).
    pub orders_per_minute: u32,
    /// 429s an IP may receive in one window before its next excess is a ban (default 5).
    pub rejections_before_ban: u32,
    /// The first ban's length (default 2 minutes); each further ban doubles it.
    pub first_ban_ms: u64,
    /// The longest ban (default 3 days).
    pub max_ban_ms: u64,
    /// How long after its last ban an IP's offences are forgotten (default 24 hours).
    pub offence_memory_ms: u64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            weight_per_minute: 2_400,
            orders_per_10s: 300,
            orders_per_minute: 1_200,
            rejections_before_ban: 5,
            first_ban_ms: 2 * MINUTE_MS,
            max_ban_ms: 3 * 24 * 60 * MINUTE_MS,
            offence_memory_ms: 24 * 60 * MINUTE_MS,
        }
    }
}

/// One IP's weight window and ban record.
#[derive(Debug, Clone, Copy, Default)]
struct IpState {
    window: u64,
    used: u32,
    rejections: u32,
    banned_until_ms: u64,
    bans: u32,
}

/// Request weight per IP, with 429s and escalating 418 bans (§4.1, §4.4).
#[derive(Debug, Clone, Default)]
pub struct WeightLimiter {
    config: LimitConfig,
    ips: HashMap<IpAddr, IpState>,
}

impl WeightLimiter {
    /// A limiter with `config`'s weight limit and ban policy.
    #[must_use]
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            ips: HashMap::new(),
        }
    }

    /// Adds `weight` to `ip`'s minute and returns the weight used, for
    /// `X-MBX-USED-WEIGHT-1M`.
    ///
    /// # Errors
    /// HTTP 429 `-1003` over the limit, HTTP 418 `-1003` while banned or when the excess
    /// earns a ban (see the module docs).
    pub fn charge(&mut self, ip: IpAddr, weight: u32, now_ms: u64) -> Result<u32, ApiError> {
        let config = self.config;
        let state = self.ips.entry(ip).or_default();
        roll_minute(state, now_ms);
        if state.banned_until_ms > now_ms {
            return Err(banned(state.banned_until_ms, now_ms));
        }
        if state.bans > 0
            && now_ms
                >= state
                    .banned_until_ms
                    .saturating_add(config.offence_memory_ms)
        {
            state.bans = 0;
        }
        let total = state.used.saturating_add(weight);
        if total <= config.weight_per_minute {
            state.used = total;
            return Ok(total);
        }
        if state.rejections < config.rejections_before_ban {
            state.rejections += 1;
            let window_end = (state.window + 1) * MINUTE_MS;
            let retry = ceil_seconds(window_end - now_ms);
            return Err(ApiError::too_many_requests(config.weight_per_minute, retry));
        }
        state.banned_until_ms = now_ms.saturating_add(ban_length(&config, state.bans));
        state.bans = state.bans.saturating_add(1);
        state.rejections = 0;
        Err(banned(state.banned_until_ms, now_ms))
    }

    /// The weight `ip` has used in the current minute.
    #[must_use]
    pub fn used(&self, ip: IpAddr, now_ms: u64) -> u32 {
        self.ips
            .get(&ip)
            .filter(|state| state.window == now_ms / MINUTE_MS)
            .map_or(0, |state| state.used)
    }

    /// The time `ip`'s ban ends, if it is banned at `now_ms`.
    #[must_use]
    pub fn banned_until(&self, ip: IpAddr, now_ms: u64) -> Option<u64> {
        self.ips
            .get(&ip)
            .map(|state| state.banned_until_ms)
            .filter(|until| *until > now_ms)
    }
}

fn roll_minute(state: &mut IpState, now_ms: u64) {
    let window = now_ms / MINUTE_MS;
    if state.window != window {
        state.window = window;
        state.used = 0;
        state.rejections = 0;
    }
}

/// The `n`-th ban's length (0-based): the first ban doubled `n` times, capped.
fn ban_length(config: &LimitConfig, previous_bans: u32) -> u64 {
    let factor = 1u64.checked_shl(previous_bans).unwrap_or(u64::MAX);
    config
        .first_ban_ms
        .saturating_mul(factor)
        .min(config.max_ban_ms)
}

fn banned(until_ms: u64, now_ms: u64) -> ApiError {
    ApiError::ip_banned(until_ms, ceil_seconds(until_ms.saturating_sub(now_ms)))
}

/// Whole seconds covering `ms`, at least 1 (a `Retry-After` of 0 invites a hot loop).
fn ceil_seconds(ms: u64) -> u64 {
    ms.div_ceil(1_000).max(1)
}

/// An account's order counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderUsage {
    /// Orders in the current 10-second window (`X-MBX-ORDER-COUNT-10S`).
    pub count_10s: u32,
    /// Orders in the current minute (`X-MBX-ORDER-COUNT-1M`).
    pub count_1m: u32,
}

impl OrderUsage {
    /// The two order-count headers, for an accepted order's response (§4.2).
    #[must_use]
    pub fn headers(self) -> [(&'static str, String); 2] {
        [
            (ORDER_COUNT_10S_HEADER, self.count_10s.to_string()),
            (ORDER_COUNT_1M_HEADER, self.count_1m.to_string()),
        ]
    }
}

/// One account's order windows.
#[derive(Debug, Clone, Copy, Default)]
struct OrderState {
    window_10s: u64,
    count_10s: u32,
    window_1m: u64,
    count_1m: u32,
}

impl OrderState {
    fn roll(&mut self, now_ms: u64) {
        if self.window_10s != now_ms / TEN_SECONDS_MS {
            self.window_10s = now_ms / TEN_SECONDS_MS;
            self.count_10s = 0;
        }
        if self.window_1m != now_ms / MINUTE_MS {
            self.window_1m = now_ms / MINUTE_MS;
            self.count_1m = 0;
        }
    }

    const fn usage(&self) -> OrderUsage {
        OrderUsage {
            count_10s: self.count_10s,
            count_1m: self.count_1m,
        }
    }
}

/// Order counts per account over 10 seconds and 1 minute (§4.1, §4.4).
#[derive(Debug, Clone, Default)]
pub struct OrderLimiter {
    config: LimitConfig,
    accounts: HashMap<String, OrderState>,
}

impl OrderLimiter {
    /// A limiter with `config`'s order limits.
    #[must_use]
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            accounts: HashMap::new(),
        }
    }

    /// Adds an endpoint's order cost to `account`'s counters and returns them.
    ///
    /// # Errors
    /// HTTP 429 `-1015` naming the full window; nothing is added then.
    pub fn charge(
        &mut self,
        account: &str,
        cost: EndpointCost,
        now_ms: u64,
    ) -> Result<OrderUsage, ApiError> {
        let config = self.config;
        let state = match self.accounts.get_mut(account) {
            Some(state) => state,
            None => self.accounts.entry(account.to_owned()).or_default(),
        };
        state.roll(now_ms);
        let count_10s = state.count_10s.saturating_add(cost.orders_10s);
        if cost.orders_10s > 0 && count_10s > config.orders_per_10s {
            return Err(ApiError::too_many_orders(
                config.orders_per_10s,
                "10 SECOND",
            ));
        }
        let count_1m = state.count_1m.saturating_add(cost.orders_1m);
        if cost.orders_1m > 0 && count_1m > config.orders_per_minute {
            return Err(ApiError::too_many_orders(
                config.orders_per_minute,
                "1 MINUTE",
            ));
        }
        state.count_10s = count_10s;
        state.count_1m = count_1m;
        Ok(state.usage())
    }

    /// `account`'s counters at `now_ms`, without charging anything.
    #[must_use]
    pub fn usage(&self, account: &str, now_ms: u64) -> OrderUsage {
        let Some(state) = self.accounts.get(account) else {
            return OrderUsage::default();
        };
        let mut state = *state;
        state.roll(now_ms);
        state.usage()
    }
}

/// What one request costs (§4.3): IP weight and order-counter increments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EndpointCost {
    /// IP request weight.
    pub weight: u32,
    /// Added to the account's 10-second order counter.
    pub orders_10s: u32,
    /// Added to the account's 1-minute order counter.
    pub orders_1m: u32,
}

impl EndpointCost {
    /// A request that only costs IP weight.
    #[must_use]
    pub const fn ip(weight: u32) -> Self {
        Self {
            weight,
            orders_10s: 0,
            orders_1m: 0,
        }
    }

    /// Whether the request counts as an order.
    #[must_use]
    pub const fn is_order(self) -> bool {
        self.orders_10s > 0 || self.orders_1m > 0
    }
}

/// The parameters an endpoint's weight depends on (§4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WeightInput {
    /// Whether `symbol` was sent (many list endpoints cost more without it).
    pub has_symbol: bool,
    /// The `limit` parameter, if sent and numeric (depth and klines).
    pub limit: Option<u32>,
}

impl WeightInput {
    /// Reads `symbol` and `limit` without marking them read.
    #[must_use]
    pub fn from_params(params: &Params) -> Self {
        let value = |wanted: &str| {
            params
                .iter()
                .find(|(key, value)| *key == wanted && !value.is_empty())
                .map(|(_, value)| value)
        };
        Self {
            has_symbol: value("symbol").is_some(),
            limit: value("limit").and_then(|text| text.parse().ok()),
        }
    }
}

/// The cost of `method` on `path` (§4.3); unknown endpoints weigh 1.
#[must_use]
pub fn weight(method: &Method, path: &str, input: WeightInput) -> EndpointCost {
    let path = path.strip_suffix('/').unwrap_or(path);
    let by_symbol =
        |with: u32, without: u32| EndpointCost::ip(if input.has_symbol { with } else { without });
    let order = |weight: u32, orders_10s: u32| EndpointCost {
        weight,
        orders_10s,
        orders_1m: 1,
    };
    match (method.as_str(), path) {
        ("POST" | "PUT", "/fapi/v1/order") | ("POST", "/fapi/v1/algoOrder") => order(0, 1),
        ("POST" | "PUT", "/fapi/v1/batchOrders") => order(5, 5),
        ("GET", "/fapi/v1/depth") => EndpointCost::ip(depth_weight(input.limit)),
        ("GET", path) if is_kline_path(path) => EndpointCost::ip(kline_weight(input.limit)),
        ("GET", "/fapi/v1/premiumIndex") => by_symbol(1, 10),
        ("GET", "/fapi/v1/ticker/bookTicker") => by_symbol(2, 5),
        ("GET", "/fapi/v1/ticker/24hr") => by_symbol(1, 40),
        ("GET", "/fapi/v1/ticker/price" | "/fapi/v2/ticker/price") => by_symbol(1, 2),
        ("GET", "/fapi/v1/openOrders" | "/fapi/v1/openAlgoOrders") => by_symbol(1, 40),
        _ => EndpointCost::ip(fixed_weight(method, path)),
    }
}

/// Endpoints whose weight does not depend on parameters (§4.3, §3.5).
fn fixed_weight(method: &Method, path: &str) -> u32 {
    match (method.as_str(), path) {
        (_, "/fapi/v1/trades" | "/fapi/v1/allOrders" | "/fapi/v1/userTrades") => 5,
        (_, "/fapi/v1/allAlgoOrders") => 5,
        (_, "/fapi/v2/account" | "/fapi/v3/account" | "/fapi/v2/balance") => 5,
        (_, "/fapi/v3/balance" | "/fapi/v2/positionRisk" | "/fapi/v3/positionRisk") => 5,
        (_, "/fapi/v1/aggTrades" | "/fapi/v1/historicalTrades") => 20,
        ("GET", "/fapi/v1/positionSide/dual") => 30,
        ("GET", "/fapi/v1/income" | "/fapi/v1/multiAssetsMargin") => 30,
        ("GET", "/fapi/v1/commissionRate") => 20,
        ("GET", "/fapi/v1/accountConfig" | "/fapi/v1/symbolConfig") => 5,
        _ => 1,
    }
}

fn is_kline_path(path: &str) -> bool {
    matches!(
        path,
        "/fapi/v1/klines"
            | "/fapi/v1/markPriceKlines"
            | "/fapi/v1/indexPriceKlines"
            | "/fapi/v1/premiumIndexKlines"
            | "/fapi/v1/continuousKlines"
    )
}

/// `GET /fapi/v1/depth`: 5–50 → 2, 100 → 5, 500 (default) → 10, 1000 → 20 (§3.2).
fn depth_weight(limit: Option<u32>) -> u32 {
    match limit.unwrap_or(500) {
        0..=50 => 2,
        51..=100 => 5,
        101..=500 => 10,
        _ => 20,
    }
}

/// Klines: `[1,100)` → 1, `[100,500)` → 2, `[500,1000]` (default 500) → 5, above → 10 (§3.2).
fn kline_weight(limit: Option<u32>) -> u32 {
    match limit.unwrap_or(500) {
        0..=99 => 1,
        100..=499 => 2,
        500..=1000 => 5,
        _ => 10,
    }
}

#[cfg(test)]
mod tests;
