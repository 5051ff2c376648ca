//! Key paths (`strategies.instances[0].name`), the schema tree they are checked against, and
//! "did you mean" hints for keys that do not exist.

use std::fmt::Write as _;

use toml::{Table, Value};

use super::Config;
use super::schema::StrategyInstance;
use super::secret::Secret;

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Segment {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Renders a path the way errors name keys: `a.b[0].c`.
pub(crate) fn render(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Key(key) if out.is_empty() => out.push_str(key),
            Segment::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Segment::Index(index) => {
                let _ = write!(out, "[{index}]");
            }
        }
    }
    out
}

/// The path of a key `serde_ignored` reports as unused.
pub(crate) fn from_ignored(path: &serde_ignored::Path<'_>) -> Vec<Segment> {
    let mut segments = Vec::new();
    push_ignored(path, &mut segments);
    segments
}

fn push_ignored(path: &serde_ignored::Path<'_>, segments: &mut Vec<Segment>) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, index } => {
            push_ignored(parent, segments);
            segments.push(Segment::Index(*index));
        }
        Path::Map { parent, key } => {
            push_ignored(parent, segments);
            segments.push(Segment::Key(key.clone()));
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => {
            push_ignored(parent, segments);
        }
    }
}

/// The path of the value `serde_path_to_error` blames for an error.
pub(crate) fn from_tracked(path: &serde_path_to_error::Path) -> Vec<Segment> {
    use serde_path_to_error::Segment as Tracked;
    path.iter()
        .filter_map(|segment| match segment {
            Tracked::Seq { index } => Some(Segment::Index(*index)),
            Tracked::Map { key } => Some(Segment::Key(key.clone())),
            Tracked::Enum { .. } | Tracked::Unknown => None,
        })
        .collect()
}

/// Every key the config accepts as a dotted path, in schema order; keys of array-of-table
/// entries are written `strategies.instances[].name`.
pub(crate) fn key_paths() -> Vec<String> {
    let mut paths = Vec::new();
    collect_paths(&schema_tree(), "", &mut paths);
    paths
}

fn collect_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    let Some(table) = value.as_table() else {
        return;
    };
    for (key, child) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match child {
            Value::Table(inner) if !inner.is_empty() => collect_paths(child, &path, out),
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_table) => {
                out.push(path.clone());
                let entry = format!("{path}[]");
                items
                    .iter()
                    .take(1)
                    .for_each(|item| collect_paths(item, &entry, out));
            }
            _ => out.push(path),
        }
    }
}

/// Every key the config accepts, with a value of the key's type: the defaults, with every
/// optional key filled in and one strategy instance, so that every key is present.
pub(crate) fn schema_tree() -> Value {
    let mut sample = Config::default();
    sample.market_data.nats_url = Some(String::new());
    sample.venue.rest_url = Some(String::new());
    sample.venue.ws_url = Some(String::new());
    sample.venue.api_key = Some(Secret::new(""));
    sample.venue.api_secret = Some(Secret::new(""));
    sample.store.postgres_url = Some(Secret::new(""));
    sample.dashboard.auth_token = Some(Secret::new(""));
    sample
        .strategies
        .instances
        .push(StrategyInstance::default());
    // Serializing plain structs of strings, integers and booleans cannot fail; an empty tree
    // would only weaken hints, never accept a bad key (serde still checks every key).
    Value::try_from(&sample).unwrap_or_else(|_| Value::Table(Table::new()))
}

/// What the schema says about a path.
#[derive(Debug)]
pub(crate) enum Lookup<'a> {
    /// The path is a key; this is a value of its type.
    Found(&'a Value),
    /// The path lies inside a free-form table (strategy `parameters`): any key goes.
    FreeForm,
    /// Segment `at` names no key.
    Unknown {
        /// Index of the first segment that does not exist.
        at: usize,
    },
}

/// Follows `segments` through the schema tree. An index selects the sample element of an
/// array; an empty table in the schema is free-form.
pub(crate) fn lookup<'a>(schema: &'a Value, segments: &[Segment]) -> Lookup<'a> {
    let mut node = schema;
    for (at, segment) in segments.iter().enumerate() {
        let next = match (node, segment) {
            (Value::Table(table), _) if table.is_empty() => return Lookup::FreeForm,
            (Value::Table(table), Segment::Key(key)) => table.get(key),
            (Value::Array(items), Segment::Index(_)) => items.first(),
            _ => None,
        };
        match next {
            Some(value) => node = value,
            None => return Lookup::Unknown { at },
        }
    }
    Lookup::Found(node)
}

/// Keys from the seeds that live elsewhere in Kestrel, with where they went.
const MOVED: &[(&str, &str)] = &[
    (
        "metrics_port",
        "metrics are served at /metrics on `dashboard.http_address`",
    ),
    ("log_level", "did you mean `log.level`?"),
    ("exchange_ws_url", "did you mean `venue.ws_url`?"),
    ("exchange_api_url", "did you mean `venue.rest_url`?"),
    ("binance_api_url", "did you mean `venue.rest_url`?"),
    ("binance_api_key", "did you mean `venue.api_key`?"),
    ("binance_api_secret", "did you mean `venue.api_secret`?"),
    ("execution_mode", "did you mean `execution.mode`?"),
    (
        "websocket_listen_address",
        "did you mean `dashboard.http_address`?",
    ),
    (
        "signal_aggregation_method",
        "did you mean `strategies.aggregation`?",
    ),
    ("risk_limits", "risk limits are in `[risk]`"),
];

/// Where the simulator's credentials come from instead of `sim.api_key` / `sim.api_secret`.
const SIM_CREDENTIALS: &str = "the simulator's API keys are not config keys: set \
                               KESTREL_SIM_API_KEY and KESTREL_SIM_API_SECRET";

/// The problem text for a key that does not exist: ``unknown key `a.b` `` plus a hint when a
/// likely intended key is found.
pub(crate) fn unknown_key(schema: &Value, segments: &[Segment]) -> String {
    let key = render(segments);
    match hint(schema, segments) {
        Some(hint) => format!("unknown key `{key}` ({hint})"),
        None => format!("unknown key `{key}`"),
    }
}

fn hint(schema: &Value, segments: &[Segment]) -> Option<String> {
    let (Segment::Key(name), parent) = segments.split_last()? else {
        return None;
    };
    if let [Segment::Key(section), _] = segments
        && section == "sim"
        && matches!(name.as_str(), "api_key" | "api_secret")
    {
        return Some(SIM_CREDENTIALS.to_owned());
    }
    if let Some((_, hint)) = MOVED.iter().find(|(moved, _)| moved == name) {
        return Some((*hint).to_owned());
    }
    if let Lookup::Found(Value::Table(siblings)) = lookup(schema, parent)
        && let Some(close) = closest(name, siblings.keys().map(String::as_str))
    {
        let mut path = parent.to_vec();
        path.push(Segment::Key(close.to_owned()));
        return Some(format!("did you mean `{}`?", render(&path)));
    }
    let elsewhere = find_leaf(schema, name, &mut Vec::new())?;
    Some(format!("did you mean `{}`?", render(&elsewhere)))
}

/// The candidate most like `name`: within two edits of the whole key or of its last word
/// (`depht` finds `order_book_depth`), whole-key matches first.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = 2.min(name.chars().count().saturating_sub(1));
    candidates
        .filter_map(|candidate| {
            let whole = edit_distance(name, candidate);
            let last_word = candidate.rsplit('_').next().unwrap_or(candidate);
            let word = edit_distance(name, last_word);
            if whole <= limit {
                Some((whole, false, candidate))
            } else if word <= limit && last_word != candidate {
                Some((word, true, candidate))
            } else {
                None
            }
        })
        .min()
        .map(|(_, _, candidate)| candidate)
}

/// The first key named `name` anywhere in the schema, as a path.
fn find_leaf(node: &Value, name: &str, path: &mut Vec<Segment>) -> Option<Vec<Segment>> {
    match node {
        Value::Table(table) => {
            if table.contains_key(name) {
                let mut found = path.clone();
                found.push(Segment::Key(name.to_owned()));
                return Some(found);
            }
            table.iter().find_map(|(key, child)| {
                path.push(Segment::Key(key.clone()));
                let found = find_leaf(child, name, path);
                path.pop();
                found
            })
        }
        Value::Array(items) => items.first().and_then(|first| {
            path.push(Segment::Index(0));
            let found = find_leaf(first, name, path);
            path.pop();
            found
        }),
        _ => None,
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions (the typo `depht` is one edit from `depth`).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0_usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}
