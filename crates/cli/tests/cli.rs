//! The `kestrel` binary as a user runs it: exit codes, output, and the config commands'
//! behaviour on good and bad files, with environment overrides and secrets.

// Helpers here are test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `kestrel` with a clean environment plus `env`.
fn kestrel(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("the kestrel binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn config_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn path(file: &tempfile::NamedTempFile) -> &str {
    file.path().to_str().unwrap()
}

#[test]
fn version_and_help_describe_the_binary() {
    let version = kestrel(&["--version"], &[]);
    assert!(version.status.success());
    assert_eq!(
        stdout(&version).trim(),
        format!("kestrel {}", env!("CARGO_PKG_VERSION"))
    );
    let help = kestrel(&["--help"], &[]);
    assert!(help.status.success());
    for word in ["config", "metrics", "--config"] {
        assert!(
            stdout(&help).contains(word),
            "help lacks {word}: {}",
            stdout(&help)
        );
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let output = kestrel(&["frobnicate"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unrecognized subcommand"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_of_a_valid_file_prints_a_one_line_summary() {
    let file = config_file("[market_data]\nsymbols = [\"BTCUSDT\"]\norder_book_depth = 50\n");
    let output = kestrel(&["config", "check", path(&file)], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("config ok") && text.contains("BTCUSDT"),
        "{text}"
    );
}

#[test]
fn check_of_the_shipped_example_passes() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/kestrel.example.toml");
    let output = kestrel(&["config", "check", example.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn check_of_a_bad_file_exits_2_and_names_every_key() {
    let file = config_file(
        "[market_data]\norder_book_depht = 20\n\n[execution]\nmax_orders_per_second = 0\n\n[venue]\napi_secret = \"s3cr3t\"\n",
    );
    let output = kestrel(&["config", "check", path(&file)], &[]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(errors.contains("market_data.order_book_depht"), "{errors}");
    assert!(
        errors.contains("execution.max_orders_per_second"),
        "{errors}"
    );
    assert!(errors.contains("venue.api_secret"), "{errors}");
    assert!(
        !errors.contains("s3cr3t"),
        "a misplaced secret must not be echoed: {errors}"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn check_of_a_missing_file_exits_2() {
    let output = kestrel(&["config", "check", "/nonexistent/kestrel.toml"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("/nonexistent/kestrel.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bad_environment_override_names_the_variable() {
    let output = kestrel(
        &["config", "check"],
        &[("KESTREL_EXECUTION__MAX_ORDERS_PER_SECOND", "ten")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("KESTREL_EXECUTION__MAX_ORDERS_PER_SECOND"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn show_prints_the_effective_config_with_secrets_redacted() {
    let file = config_file("[execution]\nmax_orders_per_second = 25\n");
    let env = [
        ("KESTREL_VENUE__API_KEY", "my-api-key-123"),
        ("KESTREL_VENUE__API_SECRET", "my-api-secret-456"),
        ("KESTREL_MARKET_DATA__ORDER_BOOK_DEPTH", "10"),
        ("KESTREL_REQUIRE_SERVICES", "1"),
    ];
    let output = kestrel(&["--config", path(&file), "config", "show"], &env);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let shown = stdout(&output);
    assert!(shown.contains("max_orders_per_second = 25"), "{shown}");
    assert!(shown.contains("order_book_depth = 10"), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
    let everything = format!("{shown}{}", stderr(&output));
    assert!(
        !everything.contains("my-api-key-123") && !everything.contains("my-api-secret-456"),
        "{everything}"
    );
}

#[test]
fn shown_config_is_valid_input_again() {
    let output = kestrel(&["config", "show"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let file = config_file(&stdout(&output));
    let again = kestrel(&["config", "check", path(&file)], &[]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
}

#[test]
fn logs_follow_the_configured_format() {
    let env = [
        ("KESTREL_LOG__LEVEL", "debug"),
        ("KESTREL_LOG__FORMAT", "json"),
    ];
    let output = kestrel(&["config", "check"], &env);
    assert!(output.status.success(), "{}", stderr(&output));
    let line = stderr(&output)
        .lines()
        .find(|l| l.contains("config loaded"))
        .map(str::to_owned);
    let line = line.unwrap_or_else(|| panic!("no debug log line: {}", stderr(&output)));
    let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    assert_eq!(event["level"], "DEBUG");
    assert_eq!(event["message"], "config loaded");
}

#[test]
fn metrics_lists_the_seed_metric_names() {
    let output = kestrel(&["metrics"], &[]);
    assert!(output.status.success());
    let text = stdout(&output);
    for name in [
        "order_requests_total",
        "websocket_connected",
        "processing_latency_microseconds",
        "margin_ratio",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing: {text}"
        );
    }
}
