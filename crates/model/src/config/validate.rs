//! Semantic checks: ranges, relations between keys, formats. Every violation is collected.

use std::collections::BTreeMap;

use super::error::ConfigWarning;
use super::schema::{
    AccountConfig, DashboardConfig, ExecutionConfig, ExecutionMode, LogConfig, MarketDataConfig,
    RiskConfig, SimConfig, StoreBackend, StoreConfig, StrategiesConfig, StrategyInstance,
    VenueConfig, VenueKind,
};
use super::secret::Secret;
use super::{Config, ENV_PREFIX, SECRETS_FILE_VAR};
use crate::{Money, Rate};

/// One violation: the dotted key and what is wrong with it.
#[derive(Debug)]
pub(crate) struct Issue {
    pub key: String,
    pub problem: String,
}

/// Checks a deserialized config: the violations, and warnings about legal but risky values.
pub(crate) fn check(config: &Config) -> (Vec<Issue>, Vec<ConfigWarning>) {
    let mut issues = Vec::new();
    market_data(
        &config.market_data,
        &mut Checker::new("market_data", &mut issues),
    );
    execution(
        &config.execution,
        &mut Checker::new("execution", &mut issues),
    );
    strategies(config, &mut issues);
    risk(&config.risk, &mut Checker::new("risk", &mut issues));
    account(&config.account, &mut issues);
    dashboard(
        &config.dashboard,
        &mut Checker::new("dashboard", &mut issues),
    );
    store(&config.store, &mut Checker::new("store", &mut issues));
    venue(config, &mut Checker::new("venue", &mut issues));
    sim(&config.sim, &mut Checker::new("sim", &mut issues));
    log(&config.log, &mut Checker::new("log", &mut issues));
    (issues, warnings(config))
}

/// Collects the violations of one section (or one strategy instance).
struct Checker<'a> {
    section: String,
    issues: &'a mut Vec<Issue>,
}

impl<'a> Checker<'a> {
    fn new(section: impl Into<String>, issues: &'a mut Vec<Issue>) -> Self {
        Self {
            section: section.into(),
            issues,
        }
    }

    fn fail(&mut self, field: &str, problem: impl Into<String>) {
        let key = format!("{}.{field}", self.section);
        self.issues.push(Issue {
            key,
            problem: problem.into(),
        });
    }

    fn at_least(&mut self, field: &str, value: impl Into<u64>, min: u64) {
        let value = value.into();
        if value < min {
            self.fail(field, format!("must be at least {min}, got {value}"));
        }
    }

    fn between(&mut self, field: &str, value: impl Into<u64>, min: u64, max: u64) {
        let value = value.into();
        if !(min..=max).contains(&value) {
            self.fail(
                field,
                format!("must be between {min} and {max}, got {value}"),
            );
        }
    }

    /// `field` must exceed `other`, a key of the same section.
    fn greater_than(&mut self, field: &str, value: u64, other: &str, other_value: u64) {
        if value <= other_value {
            self.fail(
                field,
                format!("must be greater than {other} ({other_value}), got {value}"),
            );
        }
    }

    /// A percentage: more than 0, at most 100.
    fn percent(&mut self, field: &str, value: Rate) {
        if !value.is_positive() || value > Rate::from_raw(100 * crate::money::FIXED_ONE) {
            self.fail(
                field,
                format!("must be a percentage above 0 and at most 100, got {value}"),
            );
        }
    }

    fn positive_money(&mut self, field: &str, value: Money) {
        if !value.is_positive() {
            self.fail(field, format!("must be greater than 0, got {value}"));
        }
    }

    fn url(&mut self, field: &str, value: &str, schemes: &[&str]) {
        if let Err(problem) = check_url(value, schemes) {
            self.fail(field, problem);
        }
    }

    /// A secret that must be present because of another setting.
    fn require_secret(&mut self, field: &str, secret: Option<&Secret>, because: &str) {
        if secret.is_none() {
            let var = format!("{ENV_PREFIX}{}__{}", self.section, field).to_uppercase();
            self.fail(
                field,
                format!(
                    "required when {because}; set {var} or put it in the secrets file \
                     ({SECRETS_FILE_VAR})"
                ),
            );
        }
    }
}

fn market_data(m: &MarketDataConfig, c: &mut Checker<'_>) {
    symbols(&m.symbols, c);
    c.between("order_book_depth", m.order_book_depth, 1, 1000);
    if !m.ring_buffer_size.is_power_of_two() || m.ring_buffer_size < 2 {
        let got = m.ring_buffer_size;
        c.fail(
            "ring_buffer_size",
            format!("must be a power of two (2 or more), got {got}"),
        );
    }
    c.at_least(
        "database_write_interval_ms",
        m.database_write_interval_ms,
        1,
    );
    c.at_least("reconnect_max_attempts", m.reconnect_max_attempts, 1);
    c.at_least("reconnect_base_delay_ms", m.reconnect_base_delay_ms, 1);
    c.greater_than(
        "reconnect_max_delay_ms",
        m.reconnect_max_delay_ms,
        "reconnect_base_delay_ms",
        m.reconnect_base_delay_ms,
    );
    c.at_least("heartbeat_interval_ms", m.heartbeat_interval_ms, 1);
    c.greater_than(
        "heartbeat_timeout_ms",
        m.heartbeat_timeout_ms,
        "heartbeat_interval_ms",
        m.heartbeat_interval_ms,
    );
    if let Some(url) = &m.nats_url {
        c.url("nats_url", url, &["nats", "tls", "ws", "wss"]);
    }
}

fn symbols(symbols: &[String], c: &mut Checker<'_>) {
    if symbols.is_empty() {
        c.fail(
            "symbols",
            "must list at least one symbol, such as [\"BTCUSDT\"]",
        );
    }
    let mut seen = BTreeMap::new();
    for (index, symbol) in symbols.iter().enumerate() {
        let field = format!("symbols[{index}]");
        if !is_symbol(symbol) {
            c.fail(
                &field,
                format!(
                    "must be upper-case letters and digits such as \"BTCUSDT\", got {symbol:?}"
                ),
            );
        } else if let Some(first) = seen.insert(symbol.as_str(), index) {
            c.fail(
                &field,
                format!("{symbol:?} is already listed at symbols[{first}]"),
            );
        }
    }
}

fn is_symbol(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn execution(e: &ExecutionConfig, c: &mut Checker<'_>) {
    c.at_least("max_orders_per_second", e.max_orders_per_second, 1);
    c.at_least("request_timeout_ms", e.request_timeout_ms, 1);
    c.between("max_retry_attempts", e.max_retry_attempts, 0, 10);
    c.at_least("circuit_breaker_threshold", e.circuit_breaker_threshold, 1);
    c.at_least(
        "circuit_breaker_timeout_ms",
        e.circuit_breaker_timeout_ms,
        1,
    );
    c.at_least("connection_pool_size", e.connection_pool_size, 1);
    // Binance rejects a recvWindow above 60000 ms.
    c.between("recv_window_ms", e.recv_window_ms, 1, 60_000);
}

fn strategies(config: &Config, issues: &mut Vec<Issue>) {
    let s: &StrategiesConfig = &config.strategies;
    Checker::new("strategies", issues)
        .percent("aggregation_threshold_pct", s.aggregation_threshold_pct);
    let mut names = BTreeMap::new();
    for (index, instance) in s.instances.iter().enumerate() {
        let mut c = Checker::new(format!("strategies.instances[{index}]"), issues);
        strategy_instance(instance, &config.market_data.symbols, &mut c);
        if instance.name.is_empty() {
            continue;
        }
        if let Some(first) = names.insert(instance.name.as_str(), index) {
            c.fail(
                "name",
                format!(
                    "{:?} is already the name of strategies.instances[{first}]",
                    instance.name
                ),
            );
        }
    }
}

fn strategy_instance(s: &StrategyInstance, symbols: &[String], c: &mut Checker<'_>) {
    if s.name.is_empty() {
        c.fail("name", "is required");
    } else if !s
        .name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        let name = &s.name;
        c.fail(
            "name",
            format!("may hold only letters, digits, '-', '_' and '.', got {name:?}"),
        );
    }
    if s.kind.is_empty() {
        c.fail(
            "type",
            "is required (the strategy type, such as \"momentum\")",
        );
    }
    if s.symbol.is_empty() {
        c.fail("symbol", "is required");
    } else if !symbols.contains(&s.symbol) {
        let listed = symbols.join(", ");
        let symbol = &s.symbol;
        c.fail(
            "symbol",
            format!("must be one of market_data.symbols ({listed}), got {symbol:?}"),
        );
    }
    if !s.order_size.is_positive() {
        c.fail(
            "order_size",
            format!("must be greater than 0, got {}", s.order_size),
        );
    }
    if !s.weight.is_positive() {
        c.fail(
            "weight",
            format!("must be greater than 0, got {}", s.weight),
        );
    }
}

fn risk(r: &RiskConfig, c: &mut Checker<'_>) {
    c.positive_money("max_position_size_usdt", r.max_position_size_usdt);
    if r.max_position_size_usdt > r.max_total_exposure_usdt {
        c.fail(
            "max_position_size_usdt",
            format!(
                "must not exceed max_total_exposure_usdt ({}), got {}",
                r.max_total_exposure_usdt, r.max_position_size_usdt
            ),
        );
    }
    // One-way mode holds one position per symbol; hedge mode a long and a short.
    c.between("max_positions_per_symbol", r.max_positions_per_symbol, 1, 2);
    c.percent("max_daily_drawdown_pct", r.max_daily_drawdown_pct);
    let leverage = r.max_leverage;
    if leverage < Rate::ONE || leverage > Rate::from_raw(125 * crate::money::FIXED_ONE) {
        c.fail(
            "max_leverage",
            format!("must be between 1 and 125, got {leverage}"),
        );
    }
    c.at_least("max_orders_per_second", r.max_orders_per_second, 1);
    c.positive_money("max_order_notional_usdt", r.max_order_notional_usdt);
    c.positive_money("max_total_exposure_usdt", r.max_total_exposure_usdt);
    c.positive_money("max_daily_loss_usdt", r.max_daily_loss_usdt);
    c.at_least("max_consecutive_losses", r.max_consecutive_losses, 1);
    c.at_least("drawdown_window_seconds", r.drawdown_window_seconds, 1);
    c.percent("max_window_drawdown_pct", r.max_window_drawdown_pct);
    c.at_least("max_venue_latency_ms", r.max_venue_latency_ms, 1);
    c.at_least(
        "max_market_data_staleness_ms",
        r.max_market_data_staleness_ms,
        1,
    );
}

fn account(a: &AccountConfig, issues: &mut Vec<Issue>) {
    let mut c = Checker::new("account", issues);
    c.at_least(
        "reconciliation_interval_seconds",
        a.reconciliation_interval_seconds,
        1,
    );
    c.percent(
        "reconciliation_halt_threshold_pct",
        a.reconciliation_halt_threshold_pct,
    );
    let t = &a.alert_thresholds;
    let mut c = Checker::new("account.alert_thresholds", issues);
    c.percent("max_daily_drawdown_pct", t.max_daily_drawdown_pct);
    c.percent("min_margin_ratio_pct", t.min_margin_ratio_pct);
    c.positive_money("max_position_size_usdt", t.max_position_size_usdt);
    c.percent("liquidation_proximity_pct", t.liquidation_proximity_pct);
}

/// Shortest dashboard token accepted: long enough not to be guessed.
const MIN_AUTH_TOKEN_CHARS: usize = 16;

fn dashboard(d: &DashboardConfig, c: &mut Checker<'_>) {
    c.at_least("tui_update_rate_ms", d.tui_update_rate_ms, 1);
    c.at_least("web_update_rate_ms", d.web_update_rate_ms, 1);
    c.at_least("max_clients", d.max_clients, 1);
    c.at_least("heartbeat_interval_ms", d.heartbeat_interval_ms, 1);
    if d.enable_authentication {
        let because = "dashboard.enable_authentication is true";
        c.require_secret("auth_token", d.auth_token.as_ref(), because);
    }
    if let Some(token) = &d.auth_token {
        let chars = token.expose().chars().count();
        if chars < MIN_AUTH_TOKEN_CHARS {
            c.fail(
                "auth_token",
                format!("must be at least {MIN_AUTH_TOKEN_CHARS} characters long, got {chars}"),
            );
        }
    }
}

fn store(s: &StoreConfig, c: &mut Checker<'_>) {
    if s.data_dir.as_os_str().is_empty() {
        c.fail("data_dir", "must not be empty");
    }
    if s.sqlite_path.as_os_str().is_empty() {
        c.fail("sqlite_path", "must not be empty");
    }
    if s.backend == StoreBackend::Postgres {
        let because = "store.backend is \"postgres\"";
        c.require_secret("postgres_url", s.postgres_url.as_ref(), because);
    }
    if let Some(url) = &s.postgres_url
        && check_url(url.expose(), &["postgres", "postgresql"]).is_err()
    {
        // Never echo the value: it may hold a password.
        c.fail(
            "postgres_url",
            "must be a postgres:// or postgresql:// URL (the value is secret and not shown)",
        );
    }
}

fn venue(config: &Config, c: &mut Checker<'_>) {
    let v: &VenueConfig = &config.venue;
    if let Some(url) = &v.rest_url {
        c.url("rest_url", url, &["http", "https"]);
    }
    if let Some(url) = &v.ws_url {
        c.url("ws_url", url, &["ws", "wss"]);
    }
    match (v.kind, &v.rest_url, &v.ws_url) {
        (VenueKind::Custom, None, _) => {
            c.fail("rest_url", "is required when venue.kind is \"custom\"")
        }
        (VenueKind::Custom, _, None) => {
            c.fail("ws_url", "is required when venue.kind is \"custom\"")
        }
        // An external simulator serves both on one address; half an address is a mistake.
        (VenueKind::Sim, Some(_), None) => c.fail("ws_url", "must be set with venue.rest_url"),
        (VenueKind::Sim, None, Some(_)) => c.fail("rest_url", "must be set with venue.ws_url"),
        _ => {}
    }
    let needs_keys = config.execution.mode == ExecutionMode::Live && v.kind != VenueKind::Sim;
    if needs_keys {
        let because = format!(
            "execution.mode is \"live\" and venue.kind is \"{}\"",
            v.kind
        );
        c.require_secret("api_key", v.api_key.as_ref(), &because);
        c.require_secret("api_secret", v.api_secret.as_ref(), &because);
    }
    for (field, secret) in [("api_key", &v.api_key), ("api_secret", &v.api_secret)] {
        if secret
            .as_ref()
            .is_some_and(|s| s.expose().trim().is_empty())
        {
            c.fail(field, "must not be empty");
        }
    }
}

/// Lowest and highest simulator fee: a 0.1 % maker rebate, a 1 % fee.
const SIM_FEE_RANGE: (Rate, Rate) = (Rate::from_raw(-100_000), Rate::from_raw(1_000_000));

fn sim(s: &SimConfig, c: &mut Checker<'_>) {
    symbols(&s.symbols, c);
    c.positive_money("initial_balance_usdt", s.initial_balance_usdt);
    let (lowest, highest) = SIM_FEE_RANGE;
    for (field, fee) in [
        ("maker_fee_rate", s.maker_fee_rate),
        ("taker_fee_rate", s.taker_fee_rate),
    ] {
        if fee < lowest || fee > highest {
            c.fail(
                field,
                format!(
                    "must be a fraction (not a percentage; \"0.0005\" is 0.05 %) between \
                     {lowest} and {highest}, got {fee}"
                ),
            );
        }
    }
    c.between("default_leverage", s.default_leverage, 1, 125);
    c.at_least("funding_interval_seconds", s.funding_interval_seconds, 1);
    c.at_least("mark_price_interval_ms", s.mark_price_interval_ms, 100);
    c.between("market_step_ms", s.market_step_ms, 1, 1000);
    let volatility = s.volatility_annual_pct;
    if !volatility.is_positive() || volatility > Rate::from_raw(1000 * crate::money::FIXED_ONE) {
        c.fail(
            "volatility_annual_pct",
            format!("must be a percentage above 0 and at most 1000, got {volatility}"),
        );
    }
    // Without makers the synthetic book is empty; cancels and takers may be switched off.
    c.at_least("maker_orders_per_second", s.maker_orders_per_second, 1);
    c.at_least(
        "request_weight_limit_per_minute",
        s.request_weight_limit_per_minute,
        1,
    );
    c.at_least("orders_per_10s", s.orders_per_10s, 1);
    c.at_least("orders_per_minute", s.orders_per_minute, 1);
    c.at_least(
        "listen_key_validity_minutes",
        s.listen_key_validity_minutes,
        1,
    );
}

/// Level names `tracing` accepts.
const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

fn log(l: &LogConfig, c: &mut Checker<'_>) {
    let valid = !l.level.trim().is_empty()
        && l.level.split(',').all(|directive| {
            let level = directive.rsplit('=').next().unwrap_or(directive).trim();
            LOG_LEVELS
                .iter()
                .any(|known| known.eq_ignore_ascii_case(level))
        });
    if !valid {
        let level = &l.level;
        c.fail(
            "level",
            format!(
                "expected one of {} or a filter such as \"info,kestrel_exec=debug\", got {level:?}",
                LOG_LEVELS.join(", ")
            ),
        );
    }
}

/// Checks that `text` is a URL with one of `schemes` and a host. The problem never repeats
/// the URL's credentials, if it has any.
pub(crate) fn check_url(text: &str, schemes: &[&str]) -> Result<(), String> {
    let expected = schemes
        .iter()
        .map(|scheme| format!("{scheme}://"))
        .collect::<Vec<_>>()
        .join(" or ");
    let shown = text.rsplit('@').next().unwrap_or(text);
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(format!("expected a {expected} URL, got {shown:?}"));
    };
    if !schemes
        .iter()
        .any(|known| known.eq_ignore_ascii_case(scheme))
    {
        return Err(format!("expected a {expected} URL, got {shown:?}"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.is_empty() || text.chars().any(char::is_whitespace) {
        return Err(format!(
            "expected a {expected} URL with a host, got {shown:?}"
        ));
    }
    Ok(())
}

fn warnings(config: &Config) -> Vec<ConfigWarning> {
    let mut warnings = Vec::new();
    let d = &config.dashboard;
    if !d.http_address.ip().is_loopback() && !d.enable_authentication {
        warnings.push(ConfigWarning {
            key: "dashboard.http_address".to_owned(),
            message: format!(
                "{} is reachable from other hosts and dashboard.enable_authentication is \
                 false: anyone who can connect sees the account and can use the API",
                d.http_address
            ),
        });
    }
    warnings
}
