//! Environment overrides: `KESTREL_<SECTION>__<KEY>[__<KEY>...]=value`.
//!
//! The rules:
//! - the `KESTREL_` prefix and the key names are case-insensitive; `__` separates keys, and a
//!   number selects an array element (`KESTREL_STRATEGIES__INSTANCES__0__ORDER_SIZE`);
//! - a `KESTREL_` variable with no `__` after the prefix (`KESTREL_CONFIG`,
//!   `KESTREL_SECRETS_FILE`, `KESTREL_SIM_API_KEY`, ...) is not an override and is ignored;
//! - values are text, converted by the type the key has in the schema: integers and booleans
//!   are parsed, lists are comma-separated (`BTCUSDT,ETHUSDT`) or a TOML array literal, and
//!   strings (decimal amounts included) are kept as they are; inside a free-form table
//!   (strategy `parameters`) an integer or boolean is recognised, anything else is a string;
//! - variables are applied in name order, so the result never depends on the environment's
//!   iteration order.

use toml::{Table, Value};

use super::keys::{self, Lookup, Segment};
use super::{ENV_PREFIX, error::ConfigWarning};

/// One environment variable that overrides a config key.
#[derive(Debug)]
pub(crate) struct Override {
    /// The variable's name as given.
    pub var: String,
    /// The key it sets.
    pub segments: Vec<Segment>,
    /// Its text.
    pub value: String,
}

/// A problem with one variable: its name and what is wrong.
pub(crate) type VarError = (String, String);

/// Picks the overrides out of `env`, in name order. Malformed names are errors; two variables
/// that differ only in case and set the same key produce a warning (the later name wins).
pub(crate) fn overrides(
    env: &[(String, String)],
    errors: &mut Vec<VarError>,
    warnings: &mut Vec<ConfigWarning>,
) -> Vec<Override> {
    let mut found: Vec<Override> = env
        .iter()
        .filter_map(|(var, value)| {
            let rest = strip_prefix(var)?;
            if !rest.contains("__") {
                return None;
            }
            match parse_segments(rest) {
                Ok(segments) => Some(Override {
                    var: var.clone(),
                    segments,
                    value: value.clone(),
                }),
                Err(problem) => {
                    errors.push((var.clone(), problem));
                    None
                }
            }
        })
        .collect();
    found.sort_by(|a, b| a.var.cmp(&b.var));
    for pair in found.windows(2) {
        if pair[0].segments == pair[1].segments {
            warnings.push(ConfigWarning {
                key: pair[1].var.clone(),
                message: format!(
                    "sets the same key as {}; the value of {} is used",
                    pair[0].var, pair[1].var
                ),
            });
        }
    }
    found
}

/// The value of `name` in `env`, matching the name case-insensitively.
pub(crate) fn get<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter()
        .filter(|(var, _)| var.eq_ignore_ascii_case(name))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, value)| value.as_str())
}

fn strip_prefix(var: &str) -> Option<&str> {
    let head = var.get(..ENV_PREFIX.len())?;
    head.eq_ignore_ascii_case(ENV_PREFIX)
        .then(|| &var[ENV_PREFIX.len()..])
}

fn parse_segments(rest: &str) -> Result<Vec<Segment>, String> {
    rest.split("__")
        .map(|part| {
            if part.is_empty() {
                Err("is not a config override: a key between `__` separators is empty".to_owned())
            } else if let Ok(index) = part.parse::<usize>() {
                Ok(Segment::Index(index))
            } else {
                Ok(Segment::Key(part.to_ascii_lowercase()))
            }
        })
        .collect()
}

/// Sets the override's key in `doc`, converting its text by the key's type in `schema`.
///
/// # Errors
/// The problem, for an unknown key, a section named instead of a key, a value that does not
/// convert, or an array element the document does not have.
pub(crate) fn apply(doc: &mut Table, schema: &Value, item: &Override) -> Result<(), String> {
    let key = keys::render(&item.segments);
    let template = match keys::lookup(schema, &item.segments) {
        Lookup::Unknown { at } => {
            return Err(keys::unknown_key(schema, &item.segments[..=at]));
        }
        Lookup::Found(Value::Table(_)) => {
            return Err(format!(
                "`{key}` is a section, not a key; set its keys one at a time, such as {}__<KEY>",
                item.var
            ));
        }
        Lookup::Found(template) => Some(template),
        Lookup::FreeForm => None,
    };
    let value = convert(&item.value, template)?;
    insert(doc, &item.segments, value)
}

/// Converts `text` to the type of `template`; without a template, infers integer or boolean
/// and otherwise keeps the text.
fn convert(text: &str, template: Option<&Value>) -> Result<Value, String> {
    match template {
        Some(Value::Integer(_)) => text
            .trim()
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("expected an integer, got {text:?}")),
        Some(Value::Boolean(_)) => {
            parse_bool(text).ok_or_else(|| format!("expected true or false, got {text:?}"))
        }
        Some(Value::Array(items)) => convert_list(text, items.first()),
        Some(Value::String(_)) => Ok(Value::String(text.to_owned())),
        _ => Ok(infer(text)),
    }
}

fn parse_bool(text: &str) -> Option<Value> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") {
        Some(Value::Boolean(true))
    } else if text.eq_ignore_ascii_case("false") {
        Some(Value::Boolean(false))
    } else {
        None
    }
}

fn infer(text: &str) -> Value {
    text.trim()
        .parse::<i64>()
        .map(Value::Integer)
        .ok()
        .or_else(|| parse_bool(text))
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

/// A list: a TOML array literal when the text starts with `[`, else comma-separated items,
/// each converted like the sample element (empty items are dropped: `""` is an empty list).
fn convert_list(text: &str, element: Option<&Value>) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        let parsed: Table = toml::from_str(&format!("value = {trimmed}"))
            .map_err(|error| format!("expected a TOML array, got {text:?}: {}", error.message()))?;
        return match parsed.get("value") {
            Some(array @ Value::Array(_)) => Ok(array.clone()),
            _ => Err(format!("expected a TOML array, got {text:?}")),
        };
    }
    if matches!(element, Some(Value::Table(_))) {
        return Err(format!(
            "expected a TOML array of inline tables such as [{{ name = \"a\" }}], got {text:?}"
        ));
    }
    trimmed
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| convert(item, element))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// Writes `value` at `segments`, creating tables on the way; array elements must already
/// exist (an override changes an instance, it does not invent one).
fn insert(doc: &mut Table, segments: &[Segment], value: Value) -> Result<(), String> {
    let Some((last, parents)) = segments.split_last() else {
        return Err("names no key".to_owned());
    };
    let mut node = DocNode::Table(doc);
    for (depth, segment) in parents.iter().enumerate() {
        let here = || keys::render(&segments[..=depth]);
        node = match (node, segment) {
            (DocNode::Table(table), Segment::Key(key)) => {
                let next_is_index = matches!(segments.get(depth + 1), Some(Segment::Index(_)));
                let child = table.entry(key.clone()).or_insert_with(|| {
                    if next_is_index {
                        Value::Array(Vec::new())
                    } else {
                        Value::Table(Table::new())
                    }
                });
                DocNode::of(child).ok_or_else(|| not_a_container(&here()))?
            }
            (DocNode::Array(items), Segment::Index(index)) => {
                let len = items.len();
                let child = items
                    .get_mut(*index)
                    .ok_or_else(|| missing_element(&here(), len))?;
                DocNode::of(child).ok_or_else(|| not_a_container(&here()))?
            }
            _ => return Err(not_a_container(&keys::render(&segments[..depth]))),
        };
    }
    match (node, last) {
        (DocNode::Table(table), Segment::Key(key)) => {
            table.insert(key.clone(), value);
            Ok(())
        }
        (DocNode::Array(items), Segment::Index(index)) => {
            let len = items.len();
            let slot = items
                .get_mut(*index)
                .ok_or_else(|| missing_element(&keys::render(segments), len))?;
            *slot = value;
            Ok(())
        }
        _ => Err(not_a_container(&keys::render(parents))),
    }
}

/// A place in the document that can hold keys.
enum DocNode<'a> {
    Table(&'a mut Table),
    Array(&'a mut Vec<Value>),
}

impl<'a> DocNode<'a> {
    fn of(value: &'a mut Value) -> Option<Self> {
        match value {
            Value::Table(table) => Some(Self::Table(table)),
            Value::Array(items) => Some(Self::Array(items)),
            _ => None,
        }
    }
}

fn not_a_container(key: &str) -> String {
    format!("cannot set a key inside `{key}`: the config file gives it a plain value")
}

fn missing_element(key: &str, len: usize) -> String {
    format!(
        "there is no `{key}` to override (the config file defines {len}); define it in the file"
    )
}
