//! What went wrong while loading a config, and where each value came from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Where a config value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Built into Kestrel: nothing set it.
    Default,
    /// The main config file.
    File(PathBuf),
    /// The secrets file.
    SecretsFile(PathBuf),
    /// An environment variable (its name).
    Env(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(path) => write!(f, "config file {}", path.display()),
            Self::SecretsFile(path) => write!(f, "secrets file {}", path.display()),
            Self::Env(name) => write!(f, "environment variable {name}"),
        }
    }
}

/// One thing wrong with a config: which key, what is wrong, and where the value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The dotted key (`execution.max_orders_per_second`, `strategies.instances[0].name`), or
    /// the environment variable or file location at fault when there is no key to name.
    pub key: String,
    /// What is wrong, saying what was expected and what was found.
    pub problem: String,
    /// Where the offending value came from, when known.
    pub origin: Option<Origin>,
}

impl ConfigError {
    /// An error at `key` whose value came from `origin`.
    pub fn new(key: impl Into<String>, problem: impl Into<String>, origin: Option<Origin>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
            origin,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)?;
        // The main file is the one being checked, so naming it on every line is noise; other
        // origins are named because the reader would otherwise look for the value in the file.
        match &self.origin {
            Some(Origin::Env(name)) if *name != self.key => write!(f, " (from {name})"),
            Some(Origin::SecretsFile(path)) => write!(f, " (in secrets file {})", path.display()),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in a config, in the order they were found. Never empty when returned
/// as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    /// Wraps a list of errors.
    #[must_use]
    pub fn new(errors: Vec<ConfigError>) -> Self {
        Self(errors)
    }

    /// The errors, in the order they were found.
    #[must_use]
    pub fn as_slice(&self) -> &[ConfigError] {
        &self.0
    }

    /// How many errors there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over the errors.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    /// The error about `key`, if there is one (handy in tests and tools).
    #[must_use]
    pub fn find(&self, key: &str) -> Option<&ConfigError> {
        self.0.iter().find(|error| error.key == key)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Something legal but probably unintended (a secrets file others can read, a dashboard open
/// to the network without authentication). Returned to the caller, never printed here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The key or file concerned.
    pub key: String,
    /// What is risky and what to do about it.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Where each value that is not a default came from, by dotted key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provenance(BTreeMap<String, Origin>);

impl Provenance {
    /// Records that `key` (and everything under it, replacing what was recorded there) came
    /// from `origin`.
    pub(crate) fn record(&mut self, key: String, origin: Origin) {
        self.0.retain(|recorded, _| {
            !recorded
                .strip_prefix(key.as_str())
                .is_some_and(|rest| rest.starts_with(['.', '[']))
        });
        self.0.insert(key, origin);
    }

    /// Where the value at `key` came from: the origin recorded for the key or the nearest
    /// enclosing key (`strategies.instances[0].name` inherits from `strategies.instances`),
    /// else [`Origin::Default`].
    #[must_use]
    pub fn origin(&self, key: &str) -> Origin {
        let mut current = key;
        loop {
            if let Some(origin) = self.0.get(current) {
                return origin.clone();
            }
            match current.rfind(['.', '[']) {
                Some(cut) => current = &current[..cut],
                None => return Origin::Default,
            }
        }
    }

    /// Every recorded key and its origin, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Origin)> {
        self.0.iter().map(|(key, origin)| (key.as_str(), origin))
    }
}
