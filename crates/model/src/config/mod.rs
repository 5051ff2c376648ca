//! Kestrel's configuration: the schema, loading, and validation.
//!
//! One TOML file whose sections follow the seed's configuration blocks: `[market_data]`,
//! `[execution]`, `[strategies]` (with `[[strategies.instances]]`), `[risk]`, `[account]`
//! (with `[account.alert_thresholds]`), `[dashboard]`, `[store]`, `[venue]`, `[sim]` and
//! `[log]`.
//! `config/kestrel.example.toml` lists every key with its default; [`Config::default`] runs
//! out of the box (embedded simulator, SQLite, dashboard on 127.0.0.1:8080).
//!
//! # Where values come from, later winning
//! 1. defaults ([`Config::default`]);
//! 2. the config file, if any;
//! 3. the secrets file, if any: [`ConfigSource::secrets_file`], else the file named by
//!    `KESTREL_SECRETS_FILE`;
//! 4. environment overrides, `KESTREL_<SECTION>__<KEY>` (rules in the `env` module: keys are
//!    case-insensitive, only names with `__` after the prefix are overrides, values are
//!    converted by the key's type).
//!
//! # Secrets
//! [`SECRET_KEYS`] (`venue.api_key`, `venue.api_secret`, `store.postgres_url`,
//! `dashboard.auth_token`) come only from the environment or the secrets file; in the config
//! file they are an error. The secrets file has the config's shape and holds nothing else.
//! Their values are [`Secret`]s: redacted in `Debug`, in serialized output and in
//! [`Config::to_redacted_toml`].
//!
//! # Errors
//! Loading reports every problem at once, each naming its key (or environment variable, or
//! file position), what is wrong, and where the value came from: unknown keys (with a "did
//! you mean" hint), ill-typed values, out-of-range or inconsistent values, misplaced secrets.
//!
//! This module reads the files it is given and nothing else: the environment is passed in,
//! so tests never touch the process environment.

mod env;
mod error;
mod keys;
mod load;
mod schema;
mod secret;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use error::{ConfigError, ConfigErrors, ConfigWarning, Origin, Provenance};
pub use schema::{
    AccountConfig, Aggregation, AlertThresholds, DashboardConfig, ExecutionConfig, ExecutionMode,
    LogConfig, LogFormat, MarketDataConfig, RiskConfig, SimConfig, StoreBackend, StoreConfig,
    StrategiesConfig, StrategyInstance, Transport, VenueConfig, VenueKind,
};
pub use secret::{REDACTED, Secret};

/// Prefix of every Kestrel environment variable.
pub const ENV_PREFIX: &str = "KESTREL_";
/// Variable naming the config file (read by the binary, which passes the path in).
pub const CONFIG_FILE_VAR: &str = "KESTREL_CONFIG";
/// Variable naming the secrets file when [`ConfigSource::secrets_file`] is not set.
pub const SECRETS_FILE_VAR: &str = "KESTREL_SECRETS_FILE";
/// The keys that hold secrets: accepted from the environment and the secrets file only.
pub const SECRET_KEYS: [&str; 4] = [
    "venue.api_key",
    "venue.api_secret",
    "store.postgres_url",
    "dashboard.auth_token",
];

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Market data ingestion.
    pub market_data: MarketDataConfig,
    /// Order execution.
    pub execution: ExecutionConfig,
    /// Strategy engine and strategy instances.
    pub strategies: StrategiesConfig,
    /// Risk limits and circuit breakers.
    pub risk: RiskConfig,
    /// Account monitoring and reconciliation.
    pub account: AccountConfig,
    /// HTTP server and dashboard.
    pub dashboard: DashboardConfig,
    /// Persistence.
    pub store: StoreConfig,
    /// The venue and its credentials.
    pub venue: VenueConfig,
    /// The built-in exchange simulator (`kestrel sim`, and the embedded venue of `kestrel
    /// run`).
    pub sim: SimConfig,
    /// Logging.
    pub log: LogConfig,
}

/// What to load a config from.
#[derive(Debug, Clone)]
pub struct ConfigSource<'a, E> {
    /// The config file; `None` means defaults plus environment.
    pub file: Option<&'a Path>,
    /// The config file's contents when already read (a stored config version, a test);
    /// `file`, if set, then only names it in errors.
    pub text: Option<&'a str>,
    /// The secrets file; `None` means the file named by `KESTREL_SECRETS_FILE` in `env`, if
    /// any.
    pub secrets_file: Option<&'a Path>,
    /// The environment as `(name, value)` pairs.
    pub env: E,
}

impl<'a, E> ConfigSource<'a, E> {
    /// A source with an optional config file and the given environment.
    pub fn new(file: Option<&'a Path>, env: E) -> Self {
        Self {
            file,
            text: None,
            secrets_file: None,
            env,
        }
    }

    /// A source whose config is the given TOML text instead of a file.
    pub fn from_text(text: &'a str, env: E) -> Self {
        Self {
            text: Some(text),
            ..Self::new(None, env)
        }
    }

    /// Names the secrets file explicitly (it wins over `KESTREL_SECRETS_FILE`).
    #[must_use]
    pub fn with_secrets_file(mut self, path: &'a Path) -> Self {
        self.secrets_file = Some(path);
        self
    }
}

impl<'a> ConfigSource<'a, Vec<(String, String)>> {
    /// A source reading this process's environment. Variables whose name or value is not
    /// UTF-8 are skipped.
    #[must_use]
    pub fn from_process_env(file: Option<&'a Path>) -> Self {
        let env = std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        Self::new(file, env)
    }
}

/// A loaded, valid config with what was learnt while loading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The effective config.
    pub config: Config,
    /// Legal but risky settings, for the caller to log.
    pub warnings: Vec<ConfigWarning>,
    /// Where each non-default value came from.
    pub provenance: Provenance,
}

impl Config {
    /// Loads a config: defaults, then the file, the secrets file and the environment, then
    /// validation.
    ///
    /// # Errors
    /// Every problem found, each naming its key: unreadable files, TOML syntax errors (with
    /// line and column), unknown keys, ill-typed values, misplaced secrets, bad overrides,
    /// and values that fail [`Config::validate`].
    pub fn load<E>(source: ConfigSource<'_, E>) -> Result<Loaded, ConfigErrors>
    where
        E: IntoIterator<Item = (String, String)>,
    {
        load::load(source)
    }

    /// Every key the config accepts, as dotted paths (`market_data.symbols`,
    /// `strategies.instances[].order_size`), for documentation and tooling.
    #[must_use]
    pub fn key_paths() -> Vec<String> {
        keys::key_paths()
    }

    /// Checks ranges, relations between keys and formats of a config built in code.
    ///
    /// # Errors
    /// Every violation, each naming its key (origins are unknown here, so `None`).
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let (issues, _) = validate::check(self);
        if issues.is_empty() {
            return Ok(());
        }
        Err(ConfigErrors::new(
            issues
                .into_iter()
                .map(|issue| ConfigError::new(issue.key, issue.problem, None))
                .collect(),
        ))
    }

    /// Legal but risky settings (such as a dashboard open to the network without
    /// authentication).
    #[must_use]
    pub fn warnings(&self) -> Vec<ConfigWarning> {
        validate::check(self).1
    }

    /// The effective config as TOML, secrets shown as [`REDACTED`] (for `kestrel config
    /// show`). With the secret keys removed it loads back to the same config.
    #[must_use]
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self)
            .unwrap_or_else(|error| format!("# the config cannot be shown as TOML: {error}\n"))
    }

    /// A one-line description, such as `config ok: 3 symbols (BTCUSDT, ETHUSDT, SOLUSDT),
    /// venue sim, mode live, store sqlite, 0 strategies, http 127.0.0.1:8080`.
    #[must_use]
    pub fn summary(&self) -> String {
        const SHOWN: usize = 5;
        let symbols = &self.market_data.symbols;
        let mut listed = symbols
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if symbols.len() > SHOWN {
            listed.push_str(", …");
        }
        let instances = &self.strategies.instances;
        let enabled = instances.iter().filter(|s| s.enabled).count();
        let disabled_note = if enabled == instances.len() {
            String::new()
        } else {
            format!(" ({enabled} enabled)")
        };
        format!(
            "config ok: {} ({listed}), venue {}, mode {}, store {}, {}{disabled_note}, http {}",
            plural(symbols.len(), "symbol", "symbols"),
            self.venue.kind,
            self.execution.mode,
            self.store.backend,
            plural(instances.len(), "strategy", "strategies"),
            self.dashboard.http_address,
        )
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}
