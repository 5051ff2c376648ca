//! The fuzz targets' seed corpus (`fuzz/seeds/<target>/`), every past finding included,
//! replayed through the targets' checks on the stable toolchain: the safety net that runs with
//! every `scripts/test.sh`, where `scripts/fuzz.sh` needs a nightly toolchain and time.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use kestrel_testkit::fuzzing::{TARGETS, Target};

/// `fuzz/seeds/` at the repository root.
fn seeds_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds")
}

/// The seed files of `target`, sorted by name.
fn seeds(target: &Target) -> Vec<PathBuf> {
    let dir = seeds_root().join(target.name);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "cannot read the seeds of {} at {}: {e}",
            target.name,
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_has_seeds() {
    for target in TARGETS {
        assert!(!seeds(&target).is_empty(), "no seeds for {}", target.name);
    }
}

#[test]
fn every_seed_passes_its_targets_checks() {
    for target in TARGETS {
        for seed in seeds(&target) {
            let data = fs::read(&seed).unwrap();
            let outcome = std::panic::catch_unwind(|| (target.check)(&data));
            assert!(
                outcome.is_ok(),
                "{} fails on {}",
                target.name,
                seed.display()
            );
        }
    }
}

#[test]
fn every_seed_folder_is_a_target() {
    let names: Vec<&str> = TARGETS.iter().map(|target| target.name).collect();
    for entry in fs::read_dir(seeds_root()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            names.contains(&name.as_str()),
            "fuzz/seeds/{name} names no target"
        );
    }
}
