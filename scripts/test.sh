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

echo "== protocol tests: the simulator driven by Binance's own Python client"
target_dir="${CARGO_TARGET_DIR:-target}"
venv="$target_dir/kestrel-pytest-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r tests/python/requirements.txt
cargo build --locked -p kestrel
KESTREL_BIN="$(cd "$target_dir" && pwd)/debug/kestrel" \
  "$venv/bin/python" -m pytest tests/python -q -p no:cacheprovider
