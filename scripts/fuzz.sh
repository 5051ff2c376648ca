#!/usr/bin/env bash
# Fuzz Kestrel's parsers of outside input: every target in fuzz/fuzz_targets/ for
# SECONDS_PER_TARGET seconds (default 60) with cargo-fuzz (libFuzzer, AddressSanitizer).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs a nightly toolchain (skipped, exit 0, when there is none) and cargo-fuzz (installed
# when missing). Each target starts from its committed seeds (fuzz/seeds/<target>/) and the
# corpus earlier runs grew (fuzz/corpus/<target>/, not committed). Exits 1 when a target finds
# a crash or a broken invariant: the input is in fuzz/artifacts/<target>/; minimise it with
# `cargo +nightly fuzz tmin <target> <file>`, fix the parser, add a regression test and copy
# the input to fuzz/seeds/<target>/. Build output goes to $FUZZ_TARGET_DIR (default
# fuzz/target), never to the workspace's target directory; each target's log to
# $FUZZ_TARGET_DIR/fuzz-logs/.
#
# Not part of scripts/test.sh: the stable tests replay fuzz/seeds/ through the same checks
# (crates/testkit/tests/fuzz_seeds.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
all_targets=(market_frame depth_snapshot exchange_info recording_line money_parse bus_codec)
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=("${all_targets[@]}")
fi
for target in "${targets[@]}"; do
  if [[ " ${all_targets[*]} " != *" $target "* ]]; then
    echo "scripts/fuzz.sh: unknown target $target (targets: ${all_targets[*]})" >&2
    exit 2
  fi
done
# The targets that read text get the dictionary of JSON syntax and Binance's keys.
text_targets=" market_frame depth_snapshot exchange_info recording_line "

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "scripts/fuzz.sh: skipped: no nightly toolchain (cargo-fuzz needs one);" \
    "install it with: rustup toolchain install nightly" >&2
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

target_dir=${FUZZ_TARGET_DIR:-fuzz/target}
echo "== building the fuzz targets (nightly, into $target_dir)"
cargo +nightly fuzz build --target-dir "$target_dir"

logs="$target_dir/fuzz-logs"
mkdir -p "$logs"
failed=()
summary=()
for target in "${targets[@]}"; do
  echo "== fuzzing $target for ${seconds}s"
  mkdir -p "fuzz/corpus/$target"
  options=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1)
  if [[ $text_targets == *" $target "* ]]; then
    options+=(-dict=fuzz/dict/binance.dict)
  fi
  log="$logs/$target.log"
  status=0
  cargo +nightly fuzz run --target-dir "$target_dir" "$target" \
    "fuzz/corpus/$target" "fuzz/seeds/$target" -- "${options[@]}" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    result=ok
  else
    result="FINDING (exit $status)"
    failed+=("$target")
    grep -E "panicked at|assertion|ERROR: |SUMMARY|Test unit written" "$log" | head -n 20 >&2 || true
    echo "(the whole log: $log; the input: fuzz/artifacts/$target/)" >&2
  fi
  summary+=("$(printf '%-16s %12s %10s %8s  %s' "$target" "${runs:-?}" "${rate:-?}" "$corpus" "$result")")
done

echo
printf '%-16s %12s %10s %8s  %s\n' target execs "execs/s" corpus result
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "scripts/fuzz.sh: findings in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
