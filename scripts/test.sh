#!/usr/bin/env bash
# Kestrel's whole test suite: formatting, lints, doc tests, then every unit, property and
# integration test. This is the command the README gives and the one CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# need COMPONENT COMMAND...: stop with advice when a toolchain component is missing.
need() {
  local component=$1
  shift
  if ! "$@" --version >/dev/null 2>&1; then
    echo "scripts/test.sh: '$*' is not available; install it with: rustup component add $component" >&2
    exit 1
  fi
}
need rustfmt cargo fmt
need clippy cargo clippy

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== doc tests"
cargo test --workspace --doc --locked
echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --profile "${NEXTEST_PROFILE:-default}"
else
  echo "(cargo-nextest not found: falling back to cargo test)"
  cargo test --workspace --locked
fi
