//! Loading: file, then secrets file, then environment, merged into one TOML document that is
//! deserialized once and then validated. Every problem on the way is collected, not just the
//! first.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::error::{ConfigError, ConfigErrors, ConfigWarning, Origin, Provenance};
use super::keys::{self, Lookup, Segment};
use super::{
    Config, ConfigSource, ENV_PREFIX, Loaded, SECRET_KEYS, SECRETS_FILE_VAR, env, validate,
};

/// A type error removes its key and deserialization runs again, so that every bad value is
/// reported; this bounds the passes for a pathological file.
const MAX_PASSES: usize = 64;

/// The document being assembled and everything learnt about it so far.
struct Loader {
    schema: Value,
    doc: Table,
    provenance: Provenance,
    errors: Vec<ConfigError>,
    warnings: Vec<ConfigWarning>,
    /// A file could not be read or parsed: checking the rest would only add noise.
    unusable: bool,
    /// Keys whose value had the wrong type; their defaults stood in, and are not checked.
    ill_typed: Vec<String>,
}

/// Loads, merges and checks a config; see [`Config::load`].
pub(crate) fn load<E>(source: ConfigSource<'_, E>) -> Result<Loaded, ConfigErrors>
where
    E: IntoIterator<Item = (String, String)>,
{
    let env: Vec<(String, String)> = source.env.into_iter().collect();
    let mut loader = Loader {
        schema: keys::schema_tree(),
        doc: Table::new(),
        provenance: Provenance::default(),
        errors: Vec::new(),
        warnings: Vec::new(),
        unusable: false,
        ill_typed: Vec::new(),
    };
    match (source.file, source.text) {
        (Some(path), text) => loader.main_file(path, text),
        (None, Some(text)) => loader.main_file(Path::new(TEXT_NAME), Some(text)),
        (None, None) => {}
    }
    let secrets_file = source.secrets_file.map(Path::to_path_buf).or_else(|| {
        env::get(&env, SECRETS_FILE_VAR)
            .filter(|path| !path.is_empty())
            .map(PathBuf::from)
    });
    if let Some(path) = secrets_file {
        loader.read_secrets_file(&path);
    }
    loader.apply_env(&env);
    loader.finish()
}

impl Loader {
    /// Reads the main file (or parses its given text), rejecting the secrets in it.
    fn main_file(&mut self, path: &Path, text: Option<&str>) {
        let origin = Origin::File(path.to_path_buf());
        let table = match text {
            Some(text) => self.parse_toml(text, path, &origin),
            None => self.read_toml(path, &origin),
        };
        let Some(mut table) = table else {
            return;
        };
        for key in SECRET_KEYS {
            if remove_dotted(&mut table, key) {
                let var = format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase());
                self.errors.push(ConfigError::new(
                    key,
                    format!(
                        "secrets are not accepted in the config file; set {var} or put it in \
                         the secrets file ({SECRETS_FILE_VAR})"
                    ),
                    Some(origin.clone()),
                ));
            }
        }
        record_leaves(&table, &mut Vec::new(), &origin, &mut self.provenance);
        self.doc = table;
    }

    fn read_secrets_file(&mut self, path: &Path) {
        let origin = Origin::SecretsFile(path.to_path_buf());
        let Some(table) = self.read_toml(path, &origin) else {
            return;
        };
        if let Some(warning) = permission_warning(path) {
            self.warnings.push(warning);
        }
        let mut leaves = Vec::new();
        collect_leaves(&table, &mut Vec::new(), &mut leaves);
        for (segments, value) in leaves {
            let key = keys::render(&segments);
            if let Err(problem) = self.merge_secret(&segments, &key, value) {
                self.errors
                    .push(ConfigError::new(key, problem, Some(origin.clone())));
            } else {
                self.provenance.record(key, origin.clone());
            }
        }
    }

    fn merge_secret(
        &mut self,
        segments: &[Segment],
        key: &str,
        value: Value,
    ) -> Result<(), String> {
        if !SECRET_KEYS.contains(&key) {
            return Err(match keys::lookup(&self.schema, segments) {
                Lookup::Unknown { at } => keys::unknown_key(&self.schema, &segments[..=at]),
                _ => format!(
                    "only secrets ({}) belong in the secrets file; put this key in the config file",
                    SECRET_KEYS.join(", ")
                ),
            });
        }
        if !value.is_str() {
            return Err(format!("expected a string, got {}", value.type_str()));
        }
        let (Some(Segment::Key(section)), Some(Segment::Key(name))) =
            (segments.first(), segments.get(1))
        else {
            return Err("names no secret".to_owned());
        };
        let section = self
            .doc
            .entry(section.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        match section {
            Value::Table(table) => {
                table.insert(name.clone(), value);
                Ok(())
            }
            _ => Err(format!(
                "the config file gives `{}` a plain value, not a section",
                key
            )),
        }
    }

    fn apply_env(&mut self, env: &[(String, String)]) {
        let mut var_errors = Vec::new();
        let overrides = env::overrides(env, &mut var_errors, &mut self.warnings);
        for item in &overrides {
            match env::apply(&mut self.doc, &self.schema, item) {
                Ok(()) => self
                    .provenance
                    .record(keys::render(&item.segments), Origin::Env(item.var.clone())),
                Err(problem) => var_errors.push((item.var.clone(), problem)),
            }
        }
        for (var, problem) in var_errors {
            self.errors.push(ConfigError::new(
                var.clone(),
                problem,
                Some(Origin::Env(var)),
            ));
        }
    }

    /// Reads and parses a TOML file, recording an error (and marking the load unusable) when
    /// it cannot be read or parsed.
    fn read_toml(&mut self, path: &Path, origin: &Origin) -> Option<Table> {
        match std::fs::read_to_string(path) {
            Ok(text) => self.parse_toml(&text, path, origin),
            Err(error) => {
                self.unusable = true;
                self.errors.push(ConfigError::new(
                    path.display().to_string(),
                    format!("cannot read the {}: {error}", file_kind(origin)),
                    Some(origin.clone()),
                ));
                None
            }
        }
    }

    /// Parses TOML text, recording a syntax error with its line and column.
    fn parse_toml(&mut self, text: &str, path: &Path, origin: &Origin) -> Option<Table> {
        match toml::from_str::<Table>(text) {
            Ok(table) => Some(table),
            Err(error) => {
                self.unusable = true;
                let (line, column) = line_column(text, error.span().map_or(0, |span| span.start));
                self.errors.push(ConfigError::new(
                    format!("{}:{line}:{column}", path.display()),
                    format!(
                        "invalid TOML in the {}: {}",
                        file_kind(origin),
                        error.message().trim_end()
                    ),
                    Some(origin.clone()),
                ));
                None
            }
        }
    }

    fn finish(mut self) -> Result<Loaded, ConfigErrors> {
        if self.unusable {
            return Err(ConfigErrors::new(self.errors));
        }
        let config = self.deserialize();
        if let Some(config) = &config {
            let (issues, warnings) = validate::check(config);
            for issue in issues {
                if self.ill_typed.iter().any(|key| is_within(&issue.key, key)) {
                    continue;
                }
                let origin = self.provenance.origin(&issue.key);
                self.errors
                    .push(ConfigError::new(issue.key, issue.problem, Some(origin)));
            }
            self.warnings.extend(warnings);
        }
        match config {
            Some(config) if self.errors.is_empty() => Ok(Loaded {
                config,
                warnings: self.warnings,
                provenance: self.provenance,
            }),
            _ => Err(ConfigErrors::new(self.errors)),
        }
    }

    /// Deserializes the document, reporting every unknown key and every ill-typed value.
    fn deserialize(&mut self) -> Option<Config> {
        let mut unknown = BTreeSet::new();
        let mut result = None;
        for _ in 0..MAX_PASSES {
            let mut on_ignored = |path: serde_ignored::Path<'_>| {
                unknown.insert(keys::from_ignored(&path));
            };
            let value = Value::Table(self.doc.clone());
            let deserializer = serde_ignored::Deserializer::new(value, &mut on_ignored);
            match serde_path_to_error::deserialize::<_, Config>(deserializer) {
                Ok(config) => {
                    result = Some(config);
                    break;
                }
                Err(error) => {
                    let segments = keys::from_tracked(error.path());
                    self.type_error(&segments, error.inner().message());
                    // Only a table key can be dropped without shifting what later errors name.
                    // Drop the offending key, or the whole list holding a bad element (dropping
                    // just the element would shift what later errors name), and go again.
                    let keep = segments
                        .iter()
                        .rposition(|segment| matches!(segment, Segment::Key(_)))
                        .map_or(0, |last_key| last_key + 1);
                    let removed = &segments[..keep];
                    if removed.is_empty() || !remove_path(&mut self.doc, removed) {
                        break;
                    }
                    self.ill_typed.push(keys::render(removed));
                }
            }
        }
        for segments in unknown {
            let key = keys::render(&segments);
            let problem = keys::unknown_key(&self.schema, &segments);
            let origin = self.provenance.origin(&key);
            self.errors
                .push(ConfigError::new(key, problem, Some(origin)));
        }
        result
    }

    fn type_error(&mut self, segments: &[Segment], message: &str) {
        let key = keys::render(segments);
        let origin = self.provenance.origin(&key);
        let key = if key.is_empty() {
            "config".to_owned()
        } else {
            key
        };
        self.ill_typed.push(key.clone());
        self.errors.push(ConfigError::new(
            key,
            plain_type_message(message),
            Some(origin),
        ));
    }
}

/// Whether `key` is `outer` or lies inside it.
fn is_within(key: &str, outer: &str) -> bool {
    key.strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// What errors call a config given as text with no file name.
const TEXT_NAME: &str = "<config>";

fn file_kind(origin: &Origin) -> &'static str {
    match origin {
        Origin::SecretsFile(_) => "secrets file",
        _ => "config file",
    }
}

/// Rewords serde's `invalid type: X, expected Y` for people editing a TOML file: `expected
/// Y, got X`, with Rust type names replaced by what they mean.
fn plain_type_message(message: &str) -> String {
    let message = message.trim_end();
    ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|prefix| {
            let (found, expected) = message.strip_prefix(prefix)?.split_once(", expected ")?;
            Some(format!(
                "expected {}, got {found}",
                plain_expected(expected)
            ))
        })
        .unwrap_or_else(|| message.to_owned())
}

fn plain_expected(expected: &str) -> &str {
    match expected {
        "u16" => "a whole number from 0 to 65535",
        "u32" => "a whole number from 0 to 4294967295",
        "u64" | "usize" => "a whole number (0 or more)",
        "a boolean" => "true or false",
        "a sequence" => "a list",
        "a map" => "a table",
        other if other.starts_with("struct ") => "a table",
        other => other,
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Removes `section.key` from a parsed file; true when it was there.
fn remove_dotted(table: &mut Table, dotted: &str) -> bool {
    let Some((section, key)) = dotted.split_once('.') else {
        return false;
    };
    match table.get_mut(section) {
        Some(Value::Table(section)) => section.remove(key).is_some(),
        _ => false,
    }
}

/// Removes the value at `segments` (which must end in a table key); true when it was there.
fn remove_path(table: &mut Table, segments: &[Segment]) -> bool {
    match segments {
        [Segment::Key(last)] => table.remove(last).is_some(),
        [Segment::Key(first), rest @ ..] => table
            .get_mut(first)
            .is_some_and(|child| remove_inside(child, rest)),
        _ => false,
    }
}

fn remove_inside(value: &mut Value, segments: &[Segment]) -> bool {
    match (value, segments) {
        (Value::Table(table), _) => remove_path(table, segments),
        (Value::Array(items), [Segment::Index(index), rest @ ..]) => items
            .get_mut(*index)
            .is_some_and(|item| remove_inside(item, rest)),
        _ => false,
    }
}

/// Records `origin` for every leaf (and every array) of a parsed file.
fn record_leaves(table: &Table, path: &mut Vec<Segment>, origin: &Origin, out: &mut Provenance) {
    for (key, value) in table {
        path.push(Segment::Key(key.clone()));
        match value {
            Value::Table(child) => record_leaves(child, path, origin, out),
            Value::Array(items) => {
                out.record(keys::render(path), origin.clone());
                for (index, item) in items.iter().enumerate() {
                    if let Value::Table(child) = item {
                        path.push(Segment::Index(index));
                        record_leaves(child, path, origin, out);
                        path.pop();
                    }
                }
            }
            _ => out.record(keys::render(path), origin.clone()),
        }
        path.pop();
    }
}

/// Every non-table value of a parsed file with its path.
fn collect_leaves(table: &Table, path: &mut Vec<Segment>, out: &mut Vec<(Vec<Segment>, Value)>) {
    for (key, value) in table {
        path.push(Segment::Key(key.clone()));
        match value {
            Value::Table(child) => collect_leaves(child, path, out),
            leaf => out.push((path.clone(), leaf.clone())),
        }
        path.pop();
    }
}

/// A warning when a secrets file can be read by users other than its owner.
#[cfg(unix)]
fn permission_warning(path: &Path) -> Option<ConfigWarning> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| ConfigWarning {
        key: path.display().to_string(),
        message: format!(
            "the secrets file can be read by other users (mode {mode:03o}); run `chmod 600` on it"
        ),
    })
}

/// File modes are a Unix notion; elsewhere nothing is checked.
#[cfg(not(unix))]
fn permission_warning(_path: &Path) -> Option<ConfigWarning> {
    None
}
