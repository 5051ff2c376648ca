//! Loading from real files: the config file, the secrets file, and what goes wrong with them.

// Helpers outside #[test] functions are test code too: a panic there is a failed assertion.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use kestrel_model::config::{Config, ConfigErrors, ConfigSource, Loaded, Origin, REDACTED};

/// A scratch directory of its own for each test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("kestrel-config-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn ok(result: Result<Loaded, ConfigErrors>) -> Loaded {
    result.unwrap_or_else(|errors| panic!("expected a valid config, got:\n{errors}"))
}

fn lines(result: Result<Loaded, ConfigErrors>) -> Vec<String> {
    match result {
        Ok(loaded) => panic!("expected errors, got {:?}", loaded.config),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

const BINANCE: &str = "[venue]\nkind = \"binance-testnet\"\n";
const SECRETS: &str = "[venue]\napi_key = \"key-7f3a\"\napi_secret = \"secret-9c1e\"\n";

#[test]
fn secrets_file_supplies_secrets_which_stay_redacted() {
    let dir = Scratch::new("secrets-ok");
    let config = dir.file("kestrel.toml", BINANCE);
    let secrets = dir.file("secrets.toml", SECRETS);
    set_mode(&secrets, 0o600);
    let source = ConfigSource::new(Some(&config), Vec::new()).with_secrets_file(&secrets);
    let loaded = ok(Config::load(source));
    let venue = &loaded.config.venue;
    assert_eq!(venue.api_key.as_ref().map(|s| s.expose()), Some("key-7f3a"));
    assert_eq!(
        venue.api_secret.as_ref().map(|s| s.expose()),
        Some("secret-9c1e")
    );
    assert_eq!(
        loaded.provenance.origin("venue.api_key"),
        Origin::SecretsFile(secrets.clone())
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    for text in [
        format!("{:?}", loaded.config),
        loaded.config.to_redacted_toml(),
        serde_json::to_string(&loaded.config).unwrap(),
    ] {
        assert!(
            !text.contains("7f3a") && !text.contains("9c1e"),
            "secret leaked: {text}"
        );
        assert!(text.contains(REDACTED));
    }
}

#[test]
fn secrets_file_can_be_named_by_kestrel_secrets_file() {
    let dir = Scratch::new("secrets-env");
    let config = dir.file("kestrel.toml", BINANCE);
    let secrets = dir.file("secrets.toml", SECRETS);
    set_mode(&secrets, 0o600);
    let vars = env(&[("KESTREL_SECRETS_FILE", secrets.to_str().unwrap())]);
    let loaded = ok(Config::load(ConfigSource::new(Some(&config), vars)));
    assert!(loaded.config.venue.api_key.is_some());
}

#[test]
fn environment_wins_over_the_secrets_file() {
    let dir = Scratch::new("secrets-precedence");
    let secrets = dir.file("secrets.toml", SECRETS);
    set_mode(&secrets, 0o600);
    let vars = env(&[("KESTREL_VENUE__API_KEY", "from-env")]);
    let loaded = ok(Config::load(
        ConfigSource::new(None, vars).with_secrets_file(&secrets),
    ));
    assert_eq!(
        loaded.config.venue.api_key.as_ref().map(|s| s.expose()),
        Some("from-env")
    );
}

#[test]
fn secrets_file_accepts_only_secrets() {
    let dir = Scratch::new("secrets-bad");
    let secrets = dir.file(
        "secrets.toml",
        "[venue]\napi_key = \"k\"\nkind = \"binance\"\napi_sekret = \"s\"\n[store]\npostgres_url = 5\n",
    );
    set_mode(&secrets, 0o600);
    let result = Config::load(ConfigSource::new(None, Vec::new()).with_secrets_file(&secrets));
    let shown = secrets.display();
    assert_eq!(
        lines(result),
        [
            format!("store.postgres_url: expected a string, got integer (in secrets file {shown})"),
            format!(
                "venue.api_sekret: unknown key `venue.api_sekret` (did you mean \
                 `venue.api_secret`?) (in secrets file {shown})"
            ),
            format!(
                "venue.kind: only secrets (venue.api_key, venue.api_secret, store.postgres_url, \
                 dashboard.auth_token) belong in the secrets file; put this key in the config \
                 file (in secrets file {shown})"
            ),
        ]
    );
}

#[cfg(unix)]
#[test]
fn secrets_file_readable_by_others_draws_a_warning() {
    let dir = Scratch::new("secrets-mode");
    let secrets = dir.file("secrets.toml", SECRETS);
    set_mode(&secrets, 0o644);
    let loaded = ok(Config::load(
        ConfigSource::new(None, Vec::new()).with_secrets_file(&secrets),
    ));
    assert_eq!(loaded.warnings.len(), 1);
    assert!(
        loaded.warnings[0].message.contains("mode 644"),
        "{}",
        loaded.warnings[0]
    );
}

#[test]
fn missing_files_are_errors_naming_the_path() {
    let dir = Scratch::new("missing");
    let config = dir.0.join("absent.toml");
    let found = lines(Config::load(ConfigSource::new(Some(&config), Vec::new())));
    assert_eq!(found.len(), 1);
    let expected = format!("{}: cannot read the config file:", config.display());
    assert!(found[0].starts_with(&expected), "{}", found[0]);
    let secrets = dir.0.join("absent-secrets.toml");
    let result = Config::load(ConfigSource::new(None, Vec::new()).with_secrets_file(&secrets));
    assert!(lines(result)[0].contains("cannot read the secrets file"));
}

#[test]
fn syntax_error_in_a_file_names_path_line_and_column() {
    let dir = Scratch::new("syntax");
    let config = dir.file("kestrel.toml", "[execution]\nmode = \"live\n");
    let lines = lines(Config::load(ConfigSource::new(Some(&config), Vec::new())));
    assert_eq!(lines.len(), 1);
    let location = format!("{}:2:", config.display());
    assert!(lines[0].starts_with(&location), "{}", lines[0]);
}
