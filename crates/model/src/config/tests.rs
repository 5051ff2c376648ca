//! The config's behaviour, as a specification: defaults, overrides, secrets, and errors that
//! name their key.

use std::net::SocketAddr;

use super::keys::{self, Lookup, Segment, edit_distance};
use super::*;
use crate::{Money, Qty, Rate};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn load(text: &str, vars: &[(&str, &str)]) -> Result<Loaded, ConfigErrors> {
    Config::load(ConfigSource::from_text(text, env(vars)))
}

fn loaded(text: &str, vars: &[(&str, &str)]) -> Config {
    match load(text, vars) {
        Ok(loaded) => loaded.config,
        Err(errors) => panic!("expected a valid config, got:\n{errors}"),
    }
}

fn errors(text: &str, vars: &[(&str, &str)]) -> Vec<String> {
    match load(text, vars) {
        Ok(loaded) => panic!("expected errors, got {:?}", loaded.config),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn assert_has(lines: &[String], expected: &str) {
    assert!(
        lines.iter().any(|line| line == expected),
        "expected the line\n  {expected}\namong\n  {}",
        lines.join("\n  ")
    );
}

const STRATEGY: &str = r#"
[[strategies.instances]]
name = "mom-btc"
type = "momentum"
symbol = "BTCUSDT"
order_size = "0.001"
parameters = { lookback = 20, threshold = "0.5", fast = true }
"#;

// --- defaults ---------------------------------------------------------------------------

#[test]
fn defaults_are_valid_and_warn_about_nothing() {
    let config = Config::default();
    assert_eq!(config.validate(), Ok(()));
    assert!(config.warnings().is_empty());
}

#[test]
fn defaults_follow_the_seed() {
    let c = Config::default();
    assert_eq!(c.market_data.symbols, ["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
    assert_eq!(c.market_data.order_book_depth, 20);
    assert_eq!(c.market_data.ring_buffer_size, 8192);
    assert_eq!(c.market_data.reconnect_max_delay_ms, 60_000);
    assert_eq!(c.execution.mode, ExecutionMode::Live);
    assert_eq!(c.execution.max_orders_per_second, 10);
    assert_eq!(c.execution.connection_pool_size, 20);
    assert_eq!(c.account.reconciliation_interval_seconds, 5);
    assert_eq!(
        c.account.alert_thresholds.min_margin_ratio_pct,
        Rate::from_int(20).unwrap()
    );
    assert_eq!(
        c.dashboard.http_address,
        "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(c.dashboard.web_update_rate_ms, 250);
    assert_eq!(c.venue.kind, VenueKind::Sim);
    assert_eq!(c.store.backend, StoreBackend::Sqlite);
    assert_eq!(c.log.level, "info");
}

#[test]
fn no_file_and_no_environment_gives_the_defaults() {
    let loaded = Config::load(ConfigSource::new(None, Vec::new())).unwrap();
    assert_eq!(loaded.config, Config::default());
    assert!(loaded.warnings.is_empty());
    assert_eq!(loaded.provenance.iter().count(), 0);
}

#[test]
fn summary_is_one_line_naming_the_essentials() {
    assert_eq!(
        Config::default().summary(),
        "config ok: 3 symbols (BTCUSDT, ETHUSDT, SOLUSDT), venue sim, mode live, store sqlite, \
         0 strategies, http 127.0.0.1:8080"
    );
    let with_one = loaded(
        &format!(
            "{STRATEGY}\n[[strategies.instances]]\nname = \"b\"\ntype = \"grid\"\nsymbol = \"ETHUSDT\"\norder_size = 1\nenabled = false\n"
        ),
        &[],
    );
    assert!(with_one.summary().contains("2 strategies (1 enabled)"));
}

// --- errors name their key ----------------------------------------------------------------

#[test]
fn unknown_key_in_file_is_named_with_a_hint() {
    let lines = errors("[market_data]\norder_book_depht = 5\n", &[]);
    assert_eq!(
        lines,
        [
            "market_data.order_book_depht: unknown key `market_data.order_book_depht` \
          (did you mean `market_data.order_book_depth`?)"
        ]
    );
}

#[test]
fn unknown_section_gets_a_hint_too() {
    let lines = errors("[marketdata]\nsymbols = [\"BTCUSDT\"]\n", &[]);
    assert_has(
        &lines,
        "marketdata: unknown key `marketdata` (did you mean `market_data`?)",
    );
}

#[test]
fn seed_keys_that_moved_say_where_they_went() {
    let lines = errors(
        "[execution]\nmetrics_port = 9091\nlog_level = \"debug\"\n",
        &[],
    );
    assert_has(
        &lines,
        "execution.log_level: unknown key `execution.log_level` (did you mean `log.level`?)",
    );
    assert_has(
        &lines,
        "execution.metrics_port: unknown key `execution.metrics_port` (metrics are served at \
         /metrics on `dashboard.http_address`)",
    );
}

#[test]
fn unknown_key_via_env_names_the_variable() {
    let lines = errors("", &[("KESTREL_MARKET_DATA__DEPHT", "5")]);
    assert_eq!(
        lines,
        [
            "KESTREL_MARKET_DATA__DEPHT: unknown key `market_data.depht` \
          (did you mean `market_data.order_book_depth`?)"
        ]
    );
    let lines = errors("", &[("KESTREL_MARKETDATA__SYMBOLS", "BTCUSDT")]);
    assert_eq!(
        lines,
        ["KESTREL_MARKETDATA__SYMBOLS: unknown key `marketdata` (did you mean `market_data`?)"]
    );
}

#[test]
fn wrong_type_names_the_full_key() {
    let lines = errors("[execution]\nmax_orders_per_second = \"ten\"\n", &[]);
    assert_eq!(
        lines,
        [
            "execution.max_orders_per_second: expected a whole number from 0 to 4294967295, got \
          string \"ten\""
        ]
    );
}

#[test]
fn wrong_type_inside_a_strategy_instance_names_its_index() {
    let text = format!("{STRATEGY}\n[[strategies.instances]]\nname = 5\n");
    let lines = errors(&text, &[]);
    assert!(
        lines[0] == "strategies.instances[1].name: expected a string, got integer `5`",
        "{lines:?}"
    );
}

#[test]
fn unknown_key_inside_a_strategy_instance_is_named_with_its_index() {
    let text = format!("{STRATEGY}ordersize = 1\n");
    let lines = errors(&text, &[]);
    assert_eq!(
        lines,
        [
            "strategies.instances[0].ordersize: unknown key `strategies.instances[0].ordersize` \
          (did you mean `strategies.instances[0].order_size`?)"
        ]
    );
}

#[test]
fn negative_count_says_what_range_is_allowed() {
    let lines = errors("[dashboard]\nmax_clients = -1\n", &[]);
    assert_eq!(
        lines,
        ["dashboard.max_clients: expected a whole number from 0 to 4294967295, got integer `-1`"]
    );
}

#[test]
fn bad_list_element_is_named_and_checking_goes_on() {
    let text = "[market_data]\nsymbols = [\"BTCUSDT\", 5]\n[execution]\nmode = \"fast\"\n";
    let lines = errors(text, &[]);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_has(
        &lines,
        "market_data.symbols[1]: expected a string, got integer `5`",
    );
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("execution.mode: unknown variant"))
    );
}

#[test]
fn unknown_enum_value_lists_the_choices() {
    let lines = errors("[execution]\nmode = \"paper\"\n", &[]);
    assert_eq!(
        lines,
        [
            "execution.mode: unknown variant `paper`, expected one of `live`, `simulation`, \
          `observation`"
        ]
    );
}

#[test]
fn out_of_range_value_names_key_limit_and_value() {
    let lines = errors("[execution]\nmax_orders_per_second = 0\n", &[]);
    assert_eq!(
        lines,
        ["execution.max_orders_per_second: must be at least 1, got 0"]
    );
}

#[test]
fn bad_socket_address_says_what_one_looks_like() {
    let lines = errors("[dashboard]\nhttp_address = \"localhost\"\n", &[]);
    assert_eq!(
        lines,
        [
            "dashboard.http_address: expected an IP address and port such as \"127.0.0.1:8080\", \
          got \"localhost\""
        ]
    );
}

#[test]
fn secret_in_main_file_says_where_to_put_it() {
    let lines = errors("[venue]\napi_secret = \"abc\"\n", &[]);
    assert_eq!(
        lines,
        [
            "venue.api_secret: secrets are not accepted in the config file; set \
          KESTREL_VENUE__API_SECRET or put it in the secrets file (KESTREL_SECRETS_FILE)"
        ]
    );
    assert!(!lines[0].contains("abc"));
}

#[test]
fn every_error_is_reported_together() {
    let text = r#"
[market_data]
symbols = ["btcusdt"]
depht = 3
reconnect_base_delay_ms = "slow"

[execution]
max_orders_per_second = 0
mode = "yolo"

[risk]
max_daily_loss_usdt = 1000.5

[venue]
api_key = "k"
"#;
    let lines = errors(text, &[("KESTREL_LOG__LEVEL", "verbose")]);
    for key in [
        "venue.api_key:",
        "market_data.reconnect_base_delay_ms:",
        "execution.mode:",
        "risk.max_daily_loss_usdt:",
        "market_data.depht:",
        "market_data.symbols[0]:",
        "execution.max_orders_per_second:",
        "log.level:",
    ] {
        assert!(
            lines.iter().any(|line| line.starts_with(key)),
            "no error for {key} in {lines:#?}"
        );
    }
    assert_eq!(lines.len(), 8, "{lines:#?}");
}

#[test]
fn syntax_error_reports_line_and_column() {
    let lines = errors(
        "[execution]\nmode = \"live\"\nmax_orders_per_second = = 3\n",
        &[],
    );
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("<config>:3:"), "{}", lines[0]);
    assert!(
        lines[0].contains("invalid TOML in the config file"),
        "{}",
        lines[0]
    );
}

// --- semantic checks ------------------------------------------------------------------------

#[test]
fn reconnect_base_delay_must_be_below_max_and_timeout_above_interval() {
    let text = "[market_data]\nreconnect_base_delay_ms = 5000\nreconnect_max_delay_ms = 5000\n\
                heartbeat_interval_ms = 5000\nheartbeat_timeout_ms = 1000\n";
    let lines = errors(text, &[]);
    assert_eq!(
        lines,
        [
            "market_data.reconnect_max_delay_ms: must be greater than reconnect_base_delay_ms \
             (5000), got 5000",
            "market_data.heartbeat_timeout_ms: must be greater than heartbeat_interval_ms \
             (5000), got 1000",
        ]
    );
}

#[test]
fn symbols_must_be_upper_case_unique_and_present() {
    let lines = errors(
        "[market_data]\nsymbols = [\"BTCUSDT\", \"eth-usdt\", \"BTCUSDT\"]\n",
        &[],
    );
    assert_eq!(
        lines,
        [
            "market_data.symbols[1]: must be upper-case letters and digits such as \"BTCUSDT\", \
             got \"eth-usdt\"",
            "market_data.symbols[2]: \"BTCUSDT\" is already listed at symbols[0]",
        ]
    );
    let lines = errors("[market_data]\nsymbols = []\n", &[]);
    assert_eq!(
        lines,
        ["market_data.symbols: must list at least one symbol, such as [\"BTCUSDT\"]"]
    );
}

#[test]
fn ring_buffer_size_must_be_a_power_of_two() {
    let lines = errors("[market_data]\nring_buffer_size = 1000\n", &[]);
    assert_eq!(
        lines,
        ["market_data.ring_buffer_size: must be a power of two (2 or more), got 1000"]
    );
}

#[test]
fn strategy_instances_need_unique_names_and_subscribed_symbols() {
    let text = format!(
        "{STRATEGY}\n[[strategies.instances]]\nname = \"mom-btc\"\ntype = \"grid\"\n\
         symbol = \"XRPUSDT\"\norder_size = \"0\"\n[[strategies.instances]]\nsymbol = \"BTCUSDT\"\n\
         order_size = 1\n"
    );
    let lines = errors(&text, &[]);
    assert_eq!(
        lines,
        [
            "strategies.instances[1].symbol: must be one of market_data.symbols (BTCUSDT, \
             ETHUSDT, SOLUSDT), got \"XRPUSDT\"",
            "strategies.instances[1].order_size: must be greater than 0, got 0",
            "strategies.instances[1].name: \"mom-btc\" is already the name of \
             strategies.instances[0]",
            "strategies.instances[2].name: is required",
            "strategies.instances[2].type: is required (the strategy type, such as \"momentum\")",
        ]
    );
}

#[test]
fn strategy_parameters_are_free_form() {
    let config = loaded(STRATEGY, &[]);
    let instance = &config.strategies.instances[0];
    assert_eq!(instance.order_size, Qty::parse("0.001").unwrap());
    assert_eq!(instance.parameters["lookback"].as_integer(), Some(20));
    assert_eq!(instance.parameters["threshold"].as_str(), Some("0.5"));
    assert!(instance.enabled);
    assert_eq!(instance.weight, Rate::ONE);
}

#[test]
fn risk_limits_are_checked_for_sign_percent_and_consistency() {
    let text = "[risk]\nmax_position_size_usdt = \"60000\"\nmax_daily_drawdown_pct = \"150\"\n\
                max_leverage = \"0.5\"\nmax_daily_loss_usdt = \"-1\"\n";
    let lines = errors(text, &[]);
    assert_eq!(
        lines,
        [
            "risk.max_position_size_usdt: must not exceed max_total_exposure_usdt (50000), got \
             60000",
            "risk.max_daily_drawdown_pct: must be a percentage above 0 and at most 100, got 150",
            "risk.max_leverage: must be between 1 and 125, got 0.5",
            "risk.max_daily_loss_usdt: must be greater than 0, got -1",
        ]
    );
}

#[test]
fn live_trading_on_binance_requires_api_keys() {
    let lines = errors("[venue]\nkind = \"binance\"\n", &[]);
    assert_eq!(
        lines,
        [
            "venue.api_key: required when execution.mode is \"live\" and venue.kind is \
             \"binance\"; set KESTREL_VENUE__API_KEY or put it in the secrets file \
             (KESTREL_SECRETS_FILE)",
            "venue.api_secret: required when execution.mode is \"live\" and venue.kind is \
             \"binance\"; set KESTREL_VENUE__API_SECRET or put it in the secrets file \
             (KESTREL_SECRETS_FILE)",
        ]
    );
    let observing = "[venue]\nkind = \"binance\"\n[execution]\nmode = \"observation\"\n";
    assert_eq!(loaded(observing, &[]).venue.api_key, None);
}

#[test]
fn venue_urls_are_checked_and_required_for_custom_venues() {
    let lines = errors("[venue]\nkind = \"custom\"\nrest_url = \"ftp://x\"\n", &[]);
    assert_eq!(
        lines,
        [
            "venue.rest_url: expected a http:// or https:// URL, got \"ftp://x\"",
            "venue.ws_url: is required when venue.kind is \"custom\"",
            "venue.api_key: required when execution.mode is \"live\" and venue.kind is \
             \"custom\"; set KESTREL_VENUE__API_KEY or put it in the secrets file \
             (KESTREL_SECRETS_FILE)",
            "venue.api_secret: required when execution.mode is \"live\" and venue.kind is \
             \"custom\"; set KESTREL_VENUE__API_SECRET or put it in the secrets file \
             (KESTREL_SECRETS_FILE)",
        ]
    );
}

#[test]
fn effective_venue_urls_derive_from_kind_unless_set() {
    let mut venue = VenueConfig::default();
    assert_eq!(venue.effective_rest_url(), None);
    venue.kind = VenueKind::Binance;
    assert_eq!(venue.effective_rest_url(), Some("https://fapi.binance.com"));
    assert_eq!(venue.effective_ws_url(), Some("wss://fstream.binance.com"));
    venue.rest_url = Some("http://127.0.0.1:9000".to_owned());
    assert_eq!(venue.effective_rest_url(), Some("http://127.0.0.1:9000"));
}

#[test]
fn postgres_backend_requires_a_url_and_never_echoes_it() {
    let lines = errors("[store]\nbackend = \"postgres\"\n", &[]);
    assert_eq!(
        lines,
        [
            "store.postgres_url: required when store.backend is \"postgres\"; set \
          KESTREL_STORE__POSTGRES_URL or put it in the secrets file (KESTREL_SECRETS_FILE)"
        ]
    );
    let vars = [("KESTREL_STORE__POSTGRES_URL", "mysql://u:hunter2@db/k")];
    let lines = errors("[store]\nbackend = \"postgres\"\n", &vars);
    assert_eq!(lines.len(), 1);
    assert!(!lines[0].contains("hunter2"), "{}", lines[0]);
    assert!(
        lines[0].ends_with("(from KESTREL_STORE__POSTGRES_URL)"),
        "{}",
        lines[0]
    );
}

#[test]
fn dashboard_authentication_requires_a_long_token() {
    let lines = errors("[dashboard]\nenable_authentication = true\n", &[]);
    assert!(
        lines[0].starts_with("dashboard.auth_token: required when"),
        "{lines:?}"
    );
    let vars = [("KESTREL_DASHBOARD__AUTH_TOKEN", "short")];
    let lines = errors("[dashboard]\nenable_authentication = true\n", &vars);
    assert_eq!(
        lines,
        [
            "dashboard.auth_token: must be at least 16 characters long, got 5 \
          (from KESTREL_DASHBOARD__AUTH_TOKEN)"
        ]
    );
}

#[test]
fn dashboard_open_to_the_network_without_authentication_warns() {
    let loaded = load("[dashboard]\nhttp_address = \"0.0.0.0:8080\"\n", &[]).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    assert_eq!(loaded.warnings[0].key, "dashboard.http_address");
}

#[test]
fn log_level_accepts_filters_and_rejects_unknown_levels() {
    let config = loaded(
        "[log]\nlevel = \"info,kestrel_exec=debug\"\nformat = \"json\"\n",
        &[],
    );
    assert_eq!(config.log.format, LogFormat::Json);
    let lines = errors("[log]\nlevel = \"loud\"\n", &[]);
    assert!(
        lines[0].starts_with("log.level: expected one of trace, debug"),
        "{lines:?}"
    );
}

// --- money --------------------------------------------------------------------------------

#[test]
fn floats_for_money_keys_are_rejected_with_the_reason() {
    let lines = errors("[risk]\nmax_daily_loss_usdt = 1000.5\n", &[]);
    assert_eq!(
        lines,
        [
            "risk.max_daily_loss_usdt: an amount must be written as a string (e.g. \"1000.5\"): \
          floating-point numbers are inexact"
        ]
    );
    let text = STRATEGY.replace("order_size = \"0.001\"", "order_size = 0.001");
    let lines = errors(&text, &[]);
    assert_eq!(
        lines,
        [
            "strategies.instances[0].order_size: a qty must be written as a string (e.g. \
          \"0.001\"): floating-point numbers are inexact"
        ]
    );
}

#[test]
fn decimals_written_as_strings_or_whole_numbers_are_exact() {
    let config = loaded(
        "[risk]\nmax_daily_loss_usdt = \"1000.25\"\nmax_order_notional_usdt = 250\n",
        &[],
    );
    assert_eq!(
        config.risk.max_daily_loss_usdt,
        Money::parse("1000.25").unwrap()
    );
    assert_eq!(
        config.risk.max_order_notional_usdt,
        Money::parse("250").unwrap()
    );
}

// --- environment --------------------------------------------------------------------------

#[test]
fn env_overrides_integer_bool_list_decimal_and_nested_keys() {
    let vars = [
        ("KESTREL_EXECUTION__MAX_ORDERS_PER_SECOND", "25"),
        ("KESTREL_MARKET_DATA__ENABLE_DATABASE_WRITES", "false"),
        ("KESTREL_MARKET_DATA__SYMBOLS", "BTCUSDT, XRPUSDT"),
        ("KESTREL_RISK__MAX_DAILY_LOSS_USDT", "250.5"),
        (
            "KESTREL_ACCOUNT__ALERT_THRESHOLDS__MIN_MARGIN_RATIO_PCT",
            "30",
        ),
        ("KESTREL_EXECUTION__MODE", "observation"),
        ("KESTREL_DASHBOARD__HTTP_ADDRESS", "127.0.0.1:9999"),
    ];
    let config = loaded("[execution]\nmax_orders_per_second = 5\n", &vars);
    assert_eq!(config.execution.max_orders_per_second, 25);
    assert!(!config.market_data.enable_database_writes);
    assert_eq!(config.market_data.symbols, ["BTCUSDT", "XRPUSDT"]);
    assert_eq!(
        config.risk.max_daily_loss_usdt,
        Money::parse("250.5").unwrap()
    );
    assert_eq!(
        config.account.alert_thresholds.min_margin_ratio_pct,
        Rate::from_int(30).unwrap()
    );
    assert_eq!(config.execution.mode, ExecutionMode::Observation);
    assert_eq!(config.dashboard.http_address.port(), 9999);
}

#[test]
fn env_list_accepts_a_toml_array_literal() {
    let vars = [("KESTREL_MARKET_DATA__SYMBOLS", r#"["ETHUSDT", "BTCUSDT"]"#)];
    assert_eq!(
        loaded("", &vars).market_data.symbols,
        ["ETHUSDT", "BTCUSDT"]
    );
}

#[test]
fn env_can_replace_all_strategy_instances_with_a_toml_array() {
    let vars = [(
        "KESTREL_STRATEGIES__INSTANCES",
        r#"[{ name = "g", type = "grid", symbol = "ETHUSDT", order_size = "0.5" }]"#,
    )];
    let loaded = load(STRATEGY, &vars).unwrap();
    assert_eq!(
        loaded.provenance.origin("strategies.instances[0].name"),
        Origin::Env("KESTREL_STRATEGIES__INSTANCES".to_owned())
    );
    let config = loaded.config;
    assert_eq!(config.strategies.instances.len(), 1);
    assert_eq!(config.strategies.instances[0].name, "g");
    assert_eq!(
        config.strategies.instances[0].order_size,
        Qty::parse("0.5").unwrap()
    );
}

#[test]
fn env_keys_are_case_insensitive() {
    let vars = [("kestrel_execution__max_orders_per_second", "7")];
    assert_eq!(loaded("", &vars).execution.max_orders_per_second, 7);
}

#[test]
fn env_override_with_a_bad_value_names_the_variable() {
    let lines = errors("", &[("KESTREL_EXECUTION__MAX_ORDERS_PER_SECOND", "ten")]);
    assert_eq!(
        lines,
        ["KESTREL_EXECUTION__MAX_ORDERS_PER_SECOND: expected an integer, got \"ten\""]
    );
    let lines = errors(
        "",
        &[("KESTREL_MARKET_DATA__ENABLE_DATABASE_WRITES", "yes")],
    );
    assert_eq!(
        lines,
        ["KESTREL_MARKET_DATA__ENABLE_DATABASE_WRITES: expected true or false, got \"yes\""]
    );
}

#[test]
fn env_value_that_fails_validation_names_key_and_variable() {
    let lines = errors("", &[("KESTREL_EXECUTION__MAX_ORDERS_PER_SECOND", "0")]);
    assert_eq!(
        lines,
        [
            "execution.max_orders_per_second: must be at least 1, got 0 \
          (from KESTREL_EXECUTION__MAX_ORDERS_PER_SECOND)"
        ]
    );
}

#[test]
fn kestrel_variables_without_double_underscore_are_not_overrides() {
    let vars = [
        ("KESTREL_SIM_API_KEY", "x"),
        ("KESTREL_REQUIRE_SERVICES", "1"),
        ("KESTREL_CONFIG", "/nowhere.toml"),
        ("KESTREL_LOG", "debug"),
        ("PATH", "/usr/bin"),
        ("OTHER__THING", "1"),
    ];
    assert_eq!(loaded("", &vars), Config::default());
}

#[test]
fn env_override_of_a_whole_section_is_an_error() {
    let lines = errors("", &[("KESTREL_ACCOUNT__ALERT_THRESHOLDS", "x")]);
    assert_eq!(
        lines,
        [
            "KESTREL_ACCOUNT__ALERT_THRESHOLDS: `account.alert_thresholds` is a section, not a key; \
          set its keys one at a time, such as KESTREL_ACCOUNT__ALERT_THRESHOLDS__<KEY>"
        ]
    );
}

#[test]
fn env_override_with_an_empty_key_is_an_error() {
    let lines = errors("", &[("KESTREL_EXECUTION____MODE", "live")]);
    assert_eq!(
        lines,
        [
            "KESTREL_EXECUTION____MODE: is not a config override: a key between `__` separators \
          is empty"
        ]
    );
}

#[test]
fn env_overrides_reach_into_strategy_instances_by_index() {
    let vars = [
        ("KESTREL_STRATEGIES__INSTANCES__0__ORDER_SIZE", "0.25"),
        ("KESTREL_STRATEGIES__INSTANCES__0__ENABLED", "false"),
        (
            "KESTREL_STRATEGIES__INSTANCES__0__PARAMETERS__LOOKBACK",
            "50",
        ),
        ("KESTREL_STRATEGIES__INSTANCES__0__PARAMETERS__MODE", "fast"),
    ];
    let config = loaded(STRATEGY, &vars);
    let instance = &config.strategies.instances[0];
    assert_eq!(instance.order_size, Qty::parse("0.25").unwrap());
    assert!(!instance.enabled);
    assert_eq!(instance.parameters["lookback"].as_integer(), Some(50));
    assert_eq!(instance.parameters["mode"].as_str(), Some("fast"));
}

#[test]
fn env_override_of_an_undefined_instance_is_an_error() {
    let lines = errors("", &[("KESTREL_STRATEGIES__INSTANCES__0__ORDER_SIZE", "1")]);
    assert_eq!(
        lines,
        [
            "KESTREL_STRATEGIES__INSTANCES__0__ORDER_SIZE: there is no `strategies.instances[0]` \
          to override (the config file defines 0); define it in the file"
        ]
    );
}

#[test]
fn env_wins_over_file_and_provenance_says_where_values_came_from() {
    let vars = [("KESTREL_EXECUTION__REQUEST_TIMEOUT_MS", "900")];
    let loaded = load(
        "[execution]\nrequest_timeout_ms = 100\nmax_retry_attempts = 1\n",
        &vars,
    )
    .unwrap();
    assert_eq!(loaded.config.execution.request_timeout_ms, 900);
    assert_eq!(
        loaded.provenance.origin("execution.request_timeout_ms"),
        Origin::Env("KESTREL_EXECUTION__REQUEST_TIMEOUT_MS".to_owned())
    );
    assert_eq!(
        loaded.provenance.origin("execution.max_retry_attempts"),
        Origin::File("<config>".into())
    );
    assert_eq!(loaded.provenance.origin("execution.mode"), Origin::Default);
}

#[test]
fn two_variables_for_one_key_warn_and_the_later_name_wins() {
    let vars = [
        ("kestrel_execution__max_retry_attempts", "2"),
        ("KESTREL_EXECUTION__MAX_RETRY_ATTEMPTS", "4"),
    ];
    let loaded = load("", &vars).unwrap();
    assert_eq!(loaded.config.execution.max_retry_attempts, 2);
    assert_eq!(loaded.warnings.len(), 1);
    assert_eq!(
        loaded.warnings[0].key,
        "kestrel_execution__max_retry_attempts"
    );
}

// --- secrets ------------------------------------------------------------------------------

#[test]
fn secrets_from_env_are_redacted_in_debug_toml_and_json() {
    let vars = [
        ("KESTREL_VENUE__API_KEY", "key-AAAA"),
        ("KESTREL_VENUE__API_SECRET", "secret-BBBB"),
        (
            "KESTREL_STORE__POSTGRES_URL",
            "postgres://u:pw-CCCC@db/kestrel",
        ),
        ("KESTREL_DASHBOARD__AUTH_TOKEN", "token-DDDD-0123456789"),
    ];
    let config = loaded("[venue]\nkind = \"binance-testnet\"\n", &vars);
    assert_eq!(
        config.venue.api_secret.as_ref().map(Secret::expose),
        Some("secret-BBBB")
    );
    let rendered = [
        format!("{config:?}"),
        config.to_redacted_toml(),
        serde_json::to_string(&config).unwrap(),
    ];
    for text in rendered {
        for secret in ["AAAA", "BBBB", "CCCC", "DDDD"] {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
        assert!(text.contains(REDACTED));
    }
}

#[test]
fn redacted_toml_loads_back_to_the_same_config_once_secrets_are_stripped() {
    let text = format!(
        "{STRATEGY}\n[market_data]\nsymbols = [\"BTCUSDT\", \"DOGEUSDT\"]\n\
         nats_url = \"nats://127.0.0.1:4222\"\n[risk]\nmax_daily_loss_usdt = \"123.45\"\n\
         [venue]\nkind = \"custom\"\nrest_url = \"http://127.0.0.1:9000\"\n\
         ws_url = \"ws://127.0.0.1:9000\"\n[store]\ndata_dir = \"/var/lib/kestrel\"\n"
    );
    let vars = [
        ("KESTREL_VENUE__API_KEY", "k"),
        ("KESTREL_VENUE__API_SECRET", "s"),
    ];
    let original = loaded(&text, &vars);
    let shown = original.to_redacted_toml();
    let mut table: toml::Table = toml::from_str(&shown).unwrap();
    for key in SECRET_KEYS {
        let (section, name) = key.split_once('.').unwrap();
        if let Some(toml::Value::Table(section)) = table.get_mut(section) {
            section.remove(name);
        }
    }
    let stripped = toml::to_string(&table).unwrap();
    let reloaded = loaded(&stripped, &vars);
    assert_eq!(reloaded, original);
}

#[test]
fn secret_debug_is_redacted_and_expose_gives_the_value() {
    let secret = Secret::new("hunter2");
    assert_eq!(format!("{secret:?}"), "[REDACTED]");
    assert_eq!(format!("{:?}", Some(secret.clone())), "Some([REDACTED])");
    assert_eq!(secret.expose(), "hunter2");
    assert_eq!(serde_json::to_string(&secret).unwrap(), "\"[REDACTED]\"");
}

#[test]
fn secret_keys_are_exactly_the_secret_fields() {
    let schema = keys::schema_tree();
    let mut redacted = Vec::new();
    collect_redacted(&schema, &mut String::new(), &mut redacted);
    redacted.sort();
    let mut listed: Vec<String> = SECRET_KEYS.iter().map(|key| (*key).to_owned()).collect();
    listed.sort();
    assert_eq!(redacted, listed);
}

fn collect_redacted(value: &toml::Value, path: &mut String, out: &mut Vec<String>) {
    match value {
        toml::Value::String(text) if text == REDACTED => out.push(path.clone()),
        toml::Value::Table(table) => {
            for (key, child) in table {
                let mut child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                collect_redacted(child, &mut child_path, out);
            }
        }
        _ => {}
    }
}

// --- simulator ----------------------------------------------------------------------------

#[test]
fn sim_defaults_are_valid_and_as_documented() {
    let sim = SimConfig::default();
    assert_eq!(sim.listen, "127.0.0.1:8765".parse::<SocketAddr>().unwrap());
    assert_eq!(sim.seed, 42);
    assert_eq!(sim.symbols, ["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
    assert_eq!(sim.initial_balance_usdt, Money::parse("100000").unwrap());
    assert_eq!(sim.maker_fee_rate, Rate::parse("0.0002").unwrap());
    assert_eq!(sim.taker_fee_rate, Rate::parse("0.0005").unwrap());
    assert_eq!(sim.default_leverage, 20);
    assert_eq!(sim.funding_interval_seconds, 8 * 3600);
    assert_eq!(sim.mark_price_interval_ms, 1000);
    assert_eq!(sim.market_step_ms, 20);
    assert_eq!(sim.volatility_annual_pct, Rate::from_int(60).unwrap());
    assert_eq!(
        (
            sim.maker_orders_per_second,
            sim.cancels_per_second,
            sim.takers_per_second
        ),
        (200, 150, 20)
    );
    assert!(sim.legacy_conditional_orders);
    assert_eq!(
        (
            sim.request_weight_limit_per_minute,
            sim.orders_per_10s,
            sim.orders_per_minute
        ),
        (2400, 300, 1200)
    );
    assert_eq!(sim.listen_key_validity_minutes, 60);
    assert_eq!(Config::default().sim, sim);
    assert_eq!(loaded("[sim]\n", &[]), Config::default());
}

#[test]
fn sim_values_below_their_range_name_their_key() {
    let text = r#"
[sim]
symbols = ["BTCUSDT", "btc-usdt"]
initial_balance_usdt = "0"
maker_fee_rate = "-0.002"
taker_fee_rate = "0.05"
default_leverage = 0
funding_interval_seconds = 0
mark_price_interval_ms = 99
market_step_ms = 0
volatility_annual_pct = "0"
maker_orders_per_second = 0
request_weight_limit_per_minute = 0
orders_per_10s = 0
orders_per_minute = 0
listen_key_validity_minutes = 0
"#;
    let lines = errors(text, &[]);
    assert_eq!(
        lines,
        [
            "sim.symbols[1]: must be upper-case letters and digits such as \"BTCUSDT\", got \
             \"btc-usdt\"",
            "sim.initial_balance_usdt: must be greater than 0, got 0",
            "sim.maker_fee_rate: must be a fraction (not a percentage; \"0.0005\" is 0.05 %) \
             between -0.001 and 0.01, got -0.002",
            "sim.taker_fee_rate: must be a fraction (not a percentage; \"0.0005\" is 0.05 %) \
             between -0.001 and 0.01, got 0.05",
            "sim.default_leverage: must be between 1 and 125, got 0",
            "sim.funding_interval_seconds: must be at least 1, got 0",
            "sim.mark_price_interval_ms: must be at least 100, got 99",
            "sim.market_step_ms: must be between 1 and 1000, got 0",
            "sim.volatility_annual_pct: must be a percentage above 0 and at most 1000, got 0",
            "sim.maker_orders_per_second: must be at least 1, got 0",
            "sim.request_weight_limit_per_minute: must be at least 1, got 0",
            "sim.orders_per_10s: must be at least 1, got 0",
            "sim.orders_per_minute: must be at least 1, got 0",
            "sim.listen_key_validity_minutes: must be at least 1, got 0",
        ]
    );
}

#[test]
fn sim_values_above_their_range_name_their_key() {
    let text = "[sim]\nmaker_fee_rate = \"0.0100001\"\ndefault_leverage = 126\n\
                market_step_ms = 1001\nvolatility_annual_pct = \"1000.5\"\n";
    let lines = errors(text, &[]);
    assert_eq!(
        lines,
        [
            "sim.maker_fee_rate: must be a fraction (not a percentage; \"0.0005\" is 0.05 %) \
             between -0.001 and 0.01, got 0.0100001",
            "sim.default_leverage: must be between 1 and 125, got 126",
            "sim.market_step_ms: must be between 1 and 1000, got 1001",
            "sim.volatility_annual_pct: must be a percentage above 0 and at most 1000, got \
             1000.5",
        ]
    );
    let lines = errors("[sim]\nsymbols = []\n", &[]);
    assert_eq!(
        lines,
        ["sim.symbols: must list at least one symbol, such as [\"BTCUSDT\"]"]
    );
    let lines = errors("[sim]\nsymbols = [\"ETHUSDT\", \"ETHUSDT\"]\n", &[]);
    assert_eq!(
        lines,
        ["sim.symbols[1]: \"ETHUSDT\" is already listed at symbols[0]"]
    );
}

#[test]
fn sim_range_limits_are_inclusive_and_agents_but_makers_may_be_off() {
    let text = "[sim]\nmaker_fee_rate = \"-0.001\"\ntaker_fee_rate = \"0.01\"\n\
                default_leverage = 125\nmark_price_interval_ms = 100\nmarket_step_ms = 1000\n\
                volatility_annual_pct = \"1000\"\ncancels_per_second = 0\n\
                takers_per_second = 0\nlegacy_conditional_orders = false\nseed = 0\n";
    let sim = loaded(text, &[]).sim;
    assert_eq!(sim.maker_fee_rate, Rate::parse("-0.001").unwrap());
    assert_eq!(sim.taker_fee_rate, Rate::parse("0.01").unwrap());
    assert_eq!((sim.cancels_per_second, sim.takers_per_second), (0, 0));
    assert!(!sim.legacy_conditional_orders);
    let sim = loaded("[sim]\ndefault_leverage = 1\nmarket_step_ms = 1\n", &[]).sim;
    assert_eq!((sim.default_leverage, sim.market_step_ms), (1, 1));
}

#[test]
fn sim_listen_must_be_a_socket_address() {
    let lines = errors("[sim]\nlisten = \"localhost:8765\"\n", &[]);
    assert_eq!(
        lines,
        [
            "sim.listen: expected an IP address and port such as \"127.0.0.1:8080\", got \
             \"localhost:8765\""
        ]
    );
    let lines = errors("", &[("KESTREL_SIM__LISTEN", "8765")]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("sim.listen: expected an IP address"),
        "{lines:?}"
    );
    let config = loaded("[sim]\nlisten = \"[::1]:9000\"\n", &[]);
    assert_eq!(
        config.sim.listen,
        "[::1]:9000".parse::<SocketAddr>().unwrap()
    );
}

#[test]
fn sim_keys_are_overridden_from_the_environment() {
    let vars = [
        ("KESTREL_SIM__SEED", "7"),
        ("KESTREL_SIM__SYMBOLS", "BTCUSDT"),
        ("KESTREL_SIM__TAKER_FEE_RATE", "0.0004"),
        ("KESTREL_SIM__LEGACY_CONDITIONAL_ORDERS", "false"),
        ("KESTREL_SIM__LISTEN", "127.0.0.1:9001"),
    ];
    let loaded = load("[sim]\nseed = 1\n", &vars).unwrap();
    let sim = &loaded.config.sim;
    assert_eq!(sim.seed, 7);
    assert_eq!(sim.symbols, ["BTCUSDT"]);
    assert_eq!(sim.taker_fee_rate, Rate::parse("0.0004").unwrap());
    assert!(!sim.legacy_conditional_orders);
    assert_eq!(sim.listen.port(), 9001);
    assert_eq!(
        loaded.provenance.origin("sim.seed"),
        Origin::Env("KESTREL_SIM__SEED".to_owned())
    );
    // The market-data symbols are a separate list.
    assert_eq!(
        loaded.config.market_data.symbols,
        ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    );
    let lines = errors("", &[("KESTREL_SIM__DEFAULT_LEVERAGE", "200")]);
    assert_eq!(
        lines,
        [
            "sim.default_leverage: must be between 1 and 125, got 200 (from \
          KESTREL_SIM__DEFAULT_LEVERAGE)"
        ]
    );
}

#[test]
fn sim_decimals_written_as_floats_are_rejected() {
    let lines = errors("[sim]\ninitial_balance_usdt = 100000.5\n", &[]);
    assert_eq!(
        lines,
        [
            "sim.initial_balance_usdt: an amount must be written as a string (e.g. \"1000.5\"): \
          floating-point numbers are inexact"
        ]
    );
    let lines = errors("[sim]\nmaker_fee_rate = 0.0002\n", &[]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("sim.maker_fee_rate: a rate must be written as a string"),
        "{lines:?}"
    );
    assert_eq!(
        loaded("[sim]\ninitial_balance_usdt = 5000\n", &[])
            .sim
            .initial_balance_usdt,
        Money::parse("5000").unwrap()
    );
}

#[test]
fn sim_api_keys_are_not_config_keys_and_say_where_they_come_from() {
    let hint = "the simulator's API keys are not config keys: set KESTREL_SIM_API_KEY and \
                KESTREL_SIM_API_SECRET";
    let lines = errors("[sim]\napi_key = \"k\"\n", &[]);
    assert_eq!(
        lines,
        [format!("sim.api_key: unknown key `sim.api_key` ({hint})")]
    );
    let lines = errors("", &[("KESTREL_SIM__API_SECRET", "s")]);
    assert_eq!(
        lines,
        [format!(
            "KESTREL_SIM__API_SECRET: unknown key `sim.api_secret` ({hint})"
        )]
    );
}

// --- key paths and hints ------------------------------------------------------------------

#[test]
fn edit_distance_counts_a_transposition_as_one_edit() {
    assert_eq!(edit_distance("depht", "depth"), 1);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
}

#[test]
fn schema_lookup_knows_optional_keys_and_free_form_tables() {
    let schema = keys::schema_tree();
    let path = |parts: &[&str]| -> Vec<Segment> {
        parts
            .iter()
            .map(|part| match part.parse() {
                Ok(index) => Segment::Index(index),
                Err(_) => Segment::Key((*part).to_owned()),
            })
            .collect()
    };
    assert!(matches!(
        keys::lookup(&schema, &path(&["market_data", "nats_url"])),
        Lookup::Found(toml::Value::String(_))
    ));
    assert!(matches!(
        keys::lookup(
            &schema,
            &path(&["strategies", "instances", "3", "parameters", "x"])
        ),
        Lookup::FreeForm
    ));
    assert!(matches!(
        keys::lookup(&schema, &path(&["venue", "nope"])),
        Lookup::Unknown { at: 1 }
    ));
    assert_eq!(
        keys::render(&path(&["strategies", "instances", "2", "name"])),
        "strategies.instances[2].name"
    );
}
