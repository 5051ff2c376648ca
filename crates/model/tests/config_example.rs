//! `config/kestrel.example.toml` documents every key with its default, and cannot drift.

// Helpers outside #[test] functions are test code too: a panic there is a failed assertion.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use kestrel_model::config::{Config, ConfigSource};

fn example_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/kestrel.example.toml")
}

fn example_text() -> String {
    std::fs::read_to_string(example_path()).unwrap()
}

#[test]
fn example_file_loads_to_exactly_the_defaults() {
    let path = example_path();
    let loaded = match Config::load(ConfigSource::new(Some(&path), Vec::new())) {
        Ok(loaded) => loaded,
        Err(errors) => panic!("the example config is invalid:\n{errors}"),
    };
    assert_eq!(loaded.config, Config::default());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn example_file_mentions_every_key() {
    let text = example_text();
    let paths = Config::key_paths();
    assert!(
        paths.len() > 60,
        "the schema lists only {} keys",
        paths.len()
    );
    for path in paths {
        let key = path.rsplit('.').next().unwrap_or(&path);
        // `key = value`, or a secret's `key: ...` / `key, other: ...` note.
        let mentions = |line: &str| {
            let line = line.trim_start_matches(['#', ' ']);
            [" =", ":", ","]
                .iter()
                .any(|end| line.starts_with(&format!("{key}{end}")))
        };
        assert!(
            text.lines().any(mentions),
            "the example does not mention `{path}`"
        );
    }
}

#[test]
fn commented_out_examples_in_the_example_file_are_valid() {
    let uncommented: String = example_text()
        .lines()
        .filter(|line| *line != "instances = []")
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if is_assignment(rest) || rest == "[[strategies.instances]]" => rest,
            _ => line,
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let loaded = match Config::load(ConfigSource::from_text(&uncommented, Vec::new())) {
        Ok(loaded) => loaded.config,
        Err(errors) => panic!("the commented examples are invalid:\n{errors}\n{uncommented}"),
    };
    assert_eq!(loaded.strategies.instances.len(), 1);
    assert_eq!(loaded.strategies.instances[0].name, "momentum-btc");
    assert!(loaded.market_data.nats_url.is_some());
    assert!(loaded.venue.rest_url.is_some() && loaded.venue.ws_url.is_some());
}

fn is_assignment(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(key, _)| {
        !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    })
}
